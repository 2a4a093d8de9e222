// An LD_PRELOAD stand-in for the kernel's clock_adjtime/adjtimex, for
// tests/integration/privileges.sh: it shows that stratad still steers the
// clock after switching to its user, and still holds CAP_SYS_TIME when it
// does.
//
// A change (modes other than 0 and ADJ_OFFSET_SS_READ) is refused with EPERM
// when the calling thread has no CAP_SYS_TIME among its effective
// capabilities, the kernel's own check; otherwise it is applied to a copy of
// the kernel's state kept here (frequency, tick, status, errors; a step or a
// slew is recorded, not made) and answered from it. No change ever reaches
// the kernel: the machine's clock stays untouched even outside the user
// namespace the test runs in. Reads go to the kernel once, to seed the copy.
// Each change is appended to the file $STRATA_CLOCK_RECORD as one line:
//   uid=65534 cap_sys_time=1 modes=0x2001 result=ok
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace {

std::mutex g_mutex;
bool g_seeded = false;
struct timex g_state {};

bool has_cap_sys_time()
{
	__user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[2]{};
	if (::syscall(SYS_capget, &header, data) != 0) {
		return false;
	}
	return (data[CAP_SYS_TIME / 32].effective & (1u << (CAP_SYS_TIME % 32))) != 0;
}

void record(unsigned modes, bool allowed)
{
	const char *path = std::getenv("STRATA_CLOCK_RECORD");
	if (path == nullptr) {
		return;
	}
	char line[128];
	int n = std::snprintf(line, sizeof(line), "uid=%u cap_sys_time=%d modes=%#x result=%s\n",
			      static_cast<unsigned>(::getuid()), allowed ? 1 : 0, modes, allowed ? "ok" : "EPERM");
	int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0 && n > 0) {
		ssize_t ignored = ::write(fd, line, static_cast<size_t>(n));
		(void)ignored;
	}
	if (fd >= 0) {
		::close(fd);
	}
}

int stand_in(clockid_t clock, struct timex *tx)
{
	using Real = int (*)(clockid_t, struct timex *);
	static Real real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "clock_adjtime"));
	if (clock != CLOCK_REALTIME) {
		return real != nullptr ? real(clock, tx) : (errno = ENOSYS, -1);
	}
	std::lock_guard lock(g_mutex);
	if (!g_seeded) {
		struct timex now {};
		if (real == nullptr || real(CLOCK_REALTIME, &now) < 0) {
			errno = ENOSYS;
			return -1;
		}
		g_state = now;
		g_seeded = true;
	}
	unsigned modes = tx->modes;
	if (modes != 0 && modes != ADJ_OFFSET_SS_READ) {
		bool allowed = has_cap_sys_time();
		record(modes, allowed);
		if (!allowed) {
			errno = EPERM;
			return -1;
		}
		if (modes & ADJ_FREQUENCY) {
			g_state.freq = tx->freq;
		}
		if (modes & ADJ_TICK) {
			g_state.tick = tx->tick;
		}
		if (modes & ADJ_MAXERROR) {
			g_state.maxerror = tx->maxerror;
		}
		if (modes & ADJ_ESTERROR) {
			g_state.esterror = tx->esterror;
		}
		if (modes & ADJ_STATUS) {
			g_state.status = (g_state.status & STA_RONLY) | (tx->status & ~STA_RONLY);
		}
		if ((modes & ADJ_OFFSET) && !(modes & ADJ_OFFSET_SINGLESHOT)) {
			g_state.offset = tx->offset;
		}
	}
	struct timespec ts {};
	::clock_gettime(CLOCK_REALTIME, &ts);
	*tx = g_state;
	tx->modes = modes;
	tx->time.tv_sec = ts.tv_sec;
	tx->time.tv_usec = ts.tv_nsec / 1000;
	return (g_state.status & STA_UNSYNC) ? TIME_ERROR : TIME_OK;
}

} // namespace

extern "C" int clock_adjtime(clockid_t clock, struct timex *tx)
{
	return stand_in(clock, tx);
}

extern "C" int adjtimex(struct timex *tx)
{
	return stand_in(CLOCK_REALTIME, tx);
}

extern "C" int ntp_adjtime(struct timex *tx)
{
	return stand_in(CLOCK_REALTIME, tx);
}
