#include "daemon/privileges_linux.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include <fmt/format.h>

namespace strata::daemon {

namespace {

/// libcap's objects (cap_t, the char * of cap_to_text) go back with cap_free.
struct CapFree {
	void operator()(void *p) const { cap_free(p); }
};
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;
using CapText = std::unique_ptr<char, CapFree>;

Result<std::string> current_capabilities()
{
	CapState now(cap_get_proc());
	if (!now) {
		return fail_errno("cap_get_proc");
	}
	CapText text(cap_to_text(now.get(), nullptr));
	if (!text) {
		return fail_errno("cap_to_text");
	}
	std::string s = text.get();
	return s == "=" ? std::string("none") : s;
}

} // namespace

Result<UserIds> look_up_user(const std::string &name)
{
	passwd entry{};
	passwd *found = nullptr;
	long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
	std::vector<char> buffer(hint > 0 ? static_cast<size_t>(hint) : 4096);
	int err = 0;
	while ((err = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
	       buffer.size() < (1u << 20)) {
		buffer.resize(buffer.size() * 2);
	}
	if (err != 0) {
		return fail_errno(fmt::format("Could not get user/group ID of {}", name), err);
	}
	if (found == nullptr) {
		return fail(Errc::NotFound, fmt::format("Could not get user/group ID of {}: no such user", name));
	}
	return UserIds{.name = name, .uid = entry.pw_uid, .gid = entry.pw_gid};
}

bool should_switch_to(const UserIds &user)
{
	return ::geteuid() == 0 && (user.uid != 0 || user.gid != 0);
}

Result<std::string> switch_to_user(const UserIds &user, const std::string &keep)
{
	// The capabilities to keep, parsed before anything changes.
	CapState wanted(keep.empty() ? cap_init() : cap_from_text(keep.c_str()));
	if (!wanted) {
		return fail_errno(fmt::format("cap_from_text(\"{}\")", keep));
	}
	// Across setuid() the calling thread keeps its permitted capabilities
	// (the others lose all of theirs), so that cap_set_proc() below can
	// keep some of them effective.
	if (::prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
		return fail_errno("prctl(PR_SET_KEEPCAPS)");
	}
	if (::setgroups(0, nullptr) != 0) {
		return fail_errno("setgroups (dropping the supplementary groups)");
	}
	if (::setgid(user.gid) != 0) {
		return fail_errno(fmt::format("setgid({})", user.gid));
	}
	if (::setuid(user.uid) != 0) {
		return fail_errno(fmt::format("setuid({})", user.uid));
	}
	if (cap_set_proc(wanted.get()) != 0) {
		return fail_errno(fmt::format("cap_set_proc(\"{}\")", keep));
	}
	if (::prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0) {
		return fail_errno("prctl(PR_SET_KEEPCAPS, 0)");
	}
	// No way back: real, effective and saved IDs are the user's, and
	// without CAP_SETUID setuid(0) must fail.
	uid_t r = 0, e = 0, s = 0;
	if (::getresuid(&r, &e, &s) != 0 || r != user.uid || e != user.uid || s != user.uid) {
		return fail(Errc::Unsupported, fmt::format("the user IDs are not all {} after setuid", user.uid));
	}
	if (user.uid != 0 && ::setuid(0) == 0) {
		return fail(Errc::Unsupported, "setuid(0) still succeeds after the switch");
	}
	return current_capabilities();
}

std::string cannot_write_in(const std::string &dir)
{
	if (::access(dir.c_str(), W_OK | X_OK) != 0) {
		return std::generic_category().message(errno);
	}
	return {};
}

} // namespace strata::daemon
