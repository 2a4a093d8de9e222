// UniqueFd against the real kernel (pipes: closed means fcntl() says EBADF)
// and with a counting closer (each descriptor closed exactly once, whatever
// moves, releases and resets happen in between).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "core/unique_fd.h"

namespace strata {
namespace {

static_assert(!std::is_copy_constructible_v<UniqueFd>);
static_assert(!std::is_copy_assignable_v<UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<UniqueFd>);
static_assert(std::is_nothrow_move_assignable_v<UniqueFd>);

bool is_open(int fd)
{
	return ::fcntl(fd, F_GETFD) != -1;
}

/// A pipe's two ends, owned by the test until handed to a UniqueFd.
std::pair<int, int> make_pipe()
{
	int fds[2] = {-1, -1};
	EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
	return {fds[0], fds[1]};
}

/// Counts the closes of each descriptor number; fails on a second one.
struct CloseCounter {
	std::map<int, int> closes;
	UniqueFd::Closer closer()
	{
		return [this](int fd) {
			if (++closes[fd] > 1) {
				ADD_FAILURE() << "fd " << fd << " closed twice";
			}
			return 0;
		};
	}
	int total() const
	{
		int n = 0;
		for (const auto &[fd, count] : closes) {
			n += count;
		}
		return n;
	}
};

TEST(UniqueFd, DefaultAndNegativeOwnNothing)
{
	UniqueFd none;
	EXPECT_FALSE(none.valid());
	EXPECT_EQ(none.get(), -1);
	UniqueFd negative(-5);
	EXPECT_FALSE(negative.valid());
	EXPECT_EQ(negative.get(), -1);
	EXPECT_EQ(negative.release(), -1);
}

TEST(UniqueFd, ClosesTheRealDescriptorWhenDestroyed)
{
	auto [r, w] = make_pipe();
	{
		UniqueFd reader(r);
		EXPECT_TRUE(reader.valid());
		EXPECT_EQ(reader.get(), r);
		EXPECT_TRUE(is_open(r));
	}
	EXPECT_FALSE(is_open(r));
	EXPECT_EQ(errno, EBADF);
	::close(w);
}

TEST(UniqueFd, MoveTransfersOwnershipAndTheSourceClosesNothing)
{
	auto [r, w] = make_pipe();
	UniqueFd target;
	{
		UniqueFd source(r);
		UniqueFd middle(std::move(source));
		EXPECT_FALSE(source.valid());  // NOLINT(bugprone-use-after-move): what is tested
		EXPECT_EQ(middle.get(), r);
		target = std::move(middle);
		EXPECT_FALSE(middle.valid());  // NOLINT(bugprone-use-after-move)
	}
	EXPECT_TRUE(is_open(r));  // neither moved-from object closed it
	EXPECT_EQ(target.get(), r);
	target.reset();
	EXPECT_FALSE(is_open(r));
	::close(w);
}

TEST(UniqueFd, MoveAssignmentClosesWhatTheTargetOwned)
{
	auto [r, w] = make_pipe();
	UniqueFd reader(r);
	UniqueFd writer(w);
	reader = std::move(writer);
	EXPECT_FALSE(is_open(r));
	EXPECT_TRUE(is_open(w));
	EXPECT_EQ(reader.get(), w);
}

TEST(UniqueFd, SelfMoveAssignmentKeepsTheDescriptor)
{
	auto [r, w] = make_pipe();
	UniqueFd reader(r);
	UniqueFd &alias = reader;
	reader = std::move(alias);
	EXPECT_EQ(reader.get(), r);
	EXPECT_TRUE(is_open(r));
	::close(w);
}

TEST(UniqueFd, ReleaseHandsTheDescriptorOverUnclosed)
{
	auto [r, w] = make_pipe();
	int released = -1;
	{
		UniqueFd reader(r);
		released = reader.release();
		EXPECT_FALSE(reader.valid());
	}
	EXPECT_EQ(released, r);
	EXPECT_TRUE(is_open(r));
	::close(r);
	::close(w);
}

TEST(UniqueFd, ResetClosesTheOldAndOwnsTheNew)
{
	auto [r, w] = make_pipe();
	UniqueFd fd(r);
	fd.reset(w);
	EXPECT_FALSE(is_open(r));
	EXPECT_TRUE(is_open(w));
	EXPECT_EQ(fd.get(), w);
	fd.reset();
	EXPECT_FALSE(is_open(w));
	EXPECT_FALSE(fd.valid());
}

TEST(UniqueFd, ResetToTheOwnedDescriptorKeepsItOpen)
{
	auto [r, w] = make_pipe();
	UniqueFd fd(r);
	fd.reset(fd.get());
	EXPECT_TRUE(is_open(r));
	EXPECT_EQ(fd.get(), r);
	::close(w);
}

TEST(UniqueFd, EveryDescriptorIsClosedExactlyOnceThroughItsCloser)
{
	CloseCounter counter;
	{
		UniqueFd a(101, counter.closer());
		UniqueFd b(std::move(a));
		UniqueFd c(102, counter.closer());
		c = std::move(b);  // closes 102
		EXPECT_EQ(counter.closes[102], 1);
		EXPECT_EQ(counter.closes.count(101), 0u);
		UniqueFd d(std::move(c));
		d.reset(d.get());  // no close
		d.reset(103);      // closes 101, owns 103 with the same closer
		EXPECT_EQ(counter.closes[101], 1);
		UniqueFd e(104, counter.closer());
		EXPECT_EQ(e.release(), 104);  // never closed by UniqueFd
		UniqueFd &alias = d;
		d = std::move(alias);
	}  // closes 103
	EXPECT_EQ(counter.closes[103], 1);
	EXPECT_EQ(counter.closes.count(104), 0u);
	EXPECT_EQ(counter.total(), 3);
}

TEST(UniqueFd, TheCloserTravelsWithTheDescriptor)
{
	CloseCounter counter;
	auto [r, w] = make_pipe();
	UniqueFd real(r);
	UniqueFd fake(200, counter.closer());
	real = std::move(fake);  // r closed by close(2); 200 now owned with the counter
	EXPECT_FALSE(is_open(r));
	real.reset();
	EXPECT_EQ(counter.closes[200], 1);
	::close(w);
}

} // namespace
} // namespace strata
