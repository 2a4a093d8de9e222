// The SOCK adapter on real Unix datagram sockets in a private temporary
// directory: binding (and the stale or foreign files it may find), samples
// and bad datagrams as gpsd or a stray program sends them, and the path's
// removal. Local sockets only; no clock is read or touched.
#include "refclock/sock_linux.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "refclock/sock.h"
#include "tests/fakes/recording_logger.h"

namespace strata::refclock {
namespace {

using namespace std::chrono_literals;

const MonoTime kT0 = MonoTime{} + 100s;

SockSample64 gpsd_sample(int64_t sec = 1'700'000'000, int64_t usec = 250'000, double offset = 0.001)
{
	SockSample64 s{};
	s.tv_sec = sec;
	s.tv_usec = usec;
	s.offset = offset;
	s.magic = kSockMagic;
	return s;
}

class SockRefclockTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		const char *tmp = std::getenv("TMPDIR");
		std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
		std::string pattern = base + "/strata-sock-XXXXXX";
		std::vector<char> buf(pattern.begin(), pattern.end());
		buf.push_back('\0');
		ASSERT_NE(::mkdtemp(buf.data()), nullptr) << std::strerror(errno);
		dir_ = buf.data();
		path_ = dir_ + "/chrony.ttyS0.sock";
		sender_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
		ASSERT_GE(sender_, 0);
	}

	void TearDown() override
	{
		if (sender_ >= 0) {
			::close(sender_);
		}
		std::error_code ec;
		std::filesystem::remove_all(dir_, ec);
	}

	/// Sends `bytes` to `path_` as gpsd does (sendto, never blocking).
	void send(const void *bytes, size_t length)
	{
		sockaddr_un to{};
		to.sun_family = AF_UNIX;
		std::strncpy(to.sun_path, path_.c_str(), sizeof(to.sun_path) - 1);
		ssize_t n = ::sendto(sender_, bytes, length, MSG_DONTWAIT,
				     reinterpret_cast<const sockaddr *>(&to), sizeof(to));
		ASSERT_EQ(n, static_cast<ssize_t>(length)) << std::strerror(errno);
	}
	void send(const SockSample64 &s) { send(&s, sizeof s); }
	void send(const SockSample32 &s) { send(&s, sizeof s); }

	static bool readable(int fd)
	{
		pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
		return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
	}

	/// A socket file with nobody bound to it, as a killed daemon leaves.
	void leave_stale_socket()
	{
		int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
		ASSERT_GE(fd, 0);
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::strncpy(a.sun_path, path_.c_str(), sizeof(a.sun_path) - 1);
		ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr *>(&a), sizeof(a)), 0);
		::close(fd);
	}

	std::string dir_;
	std::string path_;
	int sender_ = -1;
	RecordingLogger log_;
};

TEST_F(SockRefclockTest, ReceivesGpsdSamples)
{
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_TRUE(sock.has_value()) << sock.error().message();
	EXPECT_EQ(sock->path(), path_);
	EXPECT_EQ(sock->name(), "SOCK " + path_);
	EXPECT_TRUE(std::filesystem::is_socket(path_));
	// For the poll loop: non-blocking, and not leaked into child processes.
	EXPECT_NE(::fcntl(sock->fd(), F_GETFL) & O_NONBLOCK, 0);
	EXPECT_NE(::fcntl(sock->fd(), F_GETFD) & FD_CLOEXEC, 0);

	auto nothing = sock->receive(kT0);
	ASSERT_TRUE(nothing.has_value());
	EXPECT_FALSE(nothing->has_value());
	EXPECT_FALSE(readable(sock->fd()));

	send(gpsd_sample(1'700'000'000, 250'000, 0.001));
	SockSample64 leap = gpsd_sample(1'700'000'001, 250'000, -0.002);
	leap.leap = 2;
	send(leap);
	EXPECT_TRUE(readable(sock->fd()));

	auto first = sock->receive(kT0);
	ASSERT_TRUE(first.has_value());
	ASSERT_TRUE(first->has_value());
	EXPECT_EQ((*first)->local, RealTime::from_parts(1'700'000'000, 250'000'000));
	EXPECT_EQ((*first)->reference, RealTime::from_parts(1'700'000'000, 251'000'000));
	EXPECT_EQ((*first)->leap, Leap::None);
	auto second = sock->receive(kT0);
	ASSERT_TRUE(second.has_value() && second->has_value());
	EXPECT_EQ((*second)->reference, RealTime::from_parts(1'700'000'001, 248'000'000));
	EXPECT_EQ((*second)->leap, Leap::Delete);
	EXPECT_FALSE(sock->receive(kT0)->has_value());
	EXPECT_EQ(sock->stats().samples, 2u);
	EXPECT_EQ(sock->stats().bad, 0u);
	EXPECT_TRUE(log_.lines.empty());
}

TEST_F(SockRefclockTest, BadDatagramsAreSkippedCountedAndLoggedOncePerMinute)
{
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_TRUE(sock.has_value()) << sock.error().message();
	char shorter[12] = {};
	send(shorter, sizeof shorter);
	SockSample64 wrong_magic = gpsd_sample();
	wrong_magic.magic = 0x12345678;
	send(wrong_magic);
	send(gpsd_sample());

	// The bad ones are stepped over to reach the good one.
	auto s = sock->receive(kT0);
	ASSERT_TRUE(s.has_value() && s->has_value());
	EXPECT_EQ(sock->stats().bad, 2u);
	ASSERT_EQ(log_.count(LogLevel::Warning), 1u);
	EXPECT_EQ(log_.last(LogLevel::Warning),
		  fmt::format("SOCK {}: bad sample ignored: unexpected length "
			      "(12 bytes, expected 40 or 32)",
			      path_));

	send(wrong_magic);
	EXPECT_FALSE(sock->receive(kT0 + 30s)->has_value());
	EXPECT_EQ(log_.count(LogLevel::Warning), 1u);
	send(wrong_magic);
	EXPECT_FALSE(sock->receive(kT0 + 61s)->has_value());
	ASSERT_EQ(log_.count(LogLevel::Warning), 2u);
	EXPECT_EQ(log_.last(LogLevel::Warning),
		  fmt::format("SOCK {}: bad sample ignored: unexpected magic number "
			      "(0x12345678, expected 0x534f434b) (2 more in the last 61 s)",
			      path_));
	EXPECT_EQ(sock->stats().bad, 4u);
	EXPECT_EQ(sock->stats().samples, 1u);
}

// Debian 12's armhf gpsd has a 32-bit time_t: its struct sock_sample is 32
// bytes. It is read, on every architecture, next to a 64-bit sender's.
TEST_F(SockRefclockTest, ReceivesA32BitTimeGpsdsSamples)
{
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_TRUE(sock.has_value()) << sock.error().message();
	SockSample32 narrow{};
	narrow.tv_sec = 2'000'000'000;
	narrow.tv_usec = 999'999;
	narrow.offset = 0.25;
	narrow.leap = 1;
	narrow.magic = kSockMagic;
	send(narrow);
	send(gpsd_sample(2'000'000'001, 0, 0.25));
	auto first = sock->receive(kT0);
	ASSERT_TRUE(first.has_value() && first->has_value());
	EXPECT_EQ((*first)->local, RealTime::from_parts(2'000'000'000, 999'999'000));
	EXPECT_EQ((*first)->reference, RealTime::from_parts(2'000'000'001, 249'999'000));
	EXPECT_EQ((*first)->leap, Leap::Insert);
	auto second = sock->receive(kT0);
	ASSERT_TRUE(second.has_value() && second->has_value());
	EXPECT_EQ((*second)->reference, RealTime::from_parts(2'000'000'001, 250'000'000));
	EXPECT_EQ(sock->stats().samples, 2u);
	EXPECT_EQ(sock->stats().bad, 0u);
	EXPECT_TRUE(log_.lines.empty());
}

TEST_F(SockRefclockTest, AnOversizedDatagramIsReportedWithItsRealLength)
{
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_TRUE(sock.has_value());
	std::vector<char> big(1000, 'x');
	send(big.data(), big.size());
	EXPECT_FALSE(sock->receive(kT0)->has_value());
	EXPECT_EQ(sock->stats().bad, 1u);
	EXPECT_NE(log_.last(LogLevel::Warning).find("(1000 bytes, expected"), std::string::npos)
		<< log_.last(LogLevel::Warning);
}

TEST_F(SockRefclockTest, AFloodIsReadInBoundedBatches)
{
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_TRUE(sock.has_value());
	char junk[3] = {1, 2, 3};
	int bad = SockRefclock::kMaxDatagramsPerCall + 1;
	for (int i = 0; i < bad; i++) {
		send(junk, sizeof junk);
	}
	send(gpsd_sample());
	// One call reads at most kMaxDatagramsPerCall, then lets the loop run;
	// the socket is still readable, so the loop comes back.
	EXPECT_FALSE(sock->receive(kT0)->has_value());
	EXPECT_EQ(sock->stats().bad, static_cast<uint64_t>(SockRefclock::kMaxDatagramsPerCall));
	EXPECT_TRUE(readable(sock->fd()));
	auto s = sock->receive(kT0);
	ASSERT_TRUE(s.has_value() && s->has_value());
	EXPECT_EQ(sock->stats().bad, static_cast<uint64_t>(bad));
}

TEST_F(SockRefclockTest, RemovesAStaleSocketFileBeforeBinding)
{
	leave_stale_socket();
	ASSERT_TRUE(std::filesystem::is_socket(path_));
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_TRUE(sock.has_value()) << sock.error().message();
	send(gpsd_sample());
	EXPECT_TRUE(sock->receive(kT0)->has_value());
}

TEST_F(SockRefclockTest, NeverDeletesAFileThatIsNotASocket)
{
	{
		std::ofstream f(path_);
		f << "not a socket\n";
	}
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_FALSE(sock.has_value());
	EXPECT_EQ(sock.error().code, std::errc::file_exists);
	EXPECT_EQ(sock.error().message(), path_ + " exists and is not a socket: File exists");
	EXPECT_TRUE(std::filesystem::is_regular_file(path_));
	EXPECT_EQ(std::filesystem::file_size(path_), 13u);
}

TEST_F(SockRefclockTest, OpenErrors)
{
	std::string too_long = dir_ + "/" + std::string(120, 'a');
	auto sock = SockRefclock::open(too_long, log_);
	ASSERT_FALSE(sock.has_value());
	EXPECT_EQ(sock.error().code, std::errc::filename_too_long);

	sock = SockRefclock::open(dir_ + "/missing/chrony.sock", log_);
	ASSERT_FALSE(sock.has_value());
	EXPECT_EQ(sock.error().code, std::errc::no_such_file_or_directory);
	EXPECT_EQ(sock.error().context, "Could not bind " + dir_ + "/missing/chrony.sock");

	sock = SockRefclock::open("", log_);
	ASSERT_FALSE(sock.has_value());
}

TEST_F(SockRefclockTest, RemovesItsPathOnClose)
{
	{
		auto sock = SockRefclock::open(path_, log_);
		ASSERT_TRUE(sock.has_value());
		// A moved-from object owns nothing: destroying it removes nothing.
		SockRefclock moved = std::move(*sock);
		sock = tl::unexpected(Error{});
		EXPECT_TRUE(std::filesystem::is_socket(path_));
		send(gpsd_sample());
		EXPECT_TRUE(moved.receive(kT0)->has_value());
	}
	EXPECT_FALSE(std::filesystem::exists(path_));
	// gpsd now gets an error instead of sending into a dead socket.
	SockSample64 s = gpsd_sample();
	sockaddr_un to{};
	to.sun_family = AF_UNIX;
	std::strncpy(to.sun_path, path_.c_str(), sizeof(to.sun_path) - 1);
	EXPECT_LT(::sendto(sender_, &s, sizeof s, MSG_DONTWAIT,
			   reinterpret_cast<const sockaddr *>(&to), sizeof(to)),
		  0);
}

TEST_F(SockRefclockTest, LeavesAPathAnotherProcessHasTakenOver)
{
	auto sock = SockRefclock::open(path_, log_);
	ASSERT_TRUE(sock.has_value());
	// Another daemon removed our file and bound its own socket there.
	ASSERT_EQ(::unlink(path_.c_str()), 0);
	int other = ::socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_GE(other, 0);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::strncpy(a.sun_path, path_.c_str(), sizeof(a.sun_path) - 1);
	ASSERT_EQ(::bind(other, reinterpret_cast<const sockaddr *>(&a), sizeof(a)), 0);
	sock = tl::unexpected(Error{});  // destroys ours
	EXPECT_TRUE(std::filesystem::is_socket(path_));
	::close(other);
}

} // namespace
} // namespace strata::refclock
