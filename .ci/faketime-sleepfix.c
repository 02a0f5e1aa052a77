#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC=1 rewrites absolute CLOCK_MONOTONIC
   deadlines as if the monotonic clock were shifted, and the kernel refuses them (EINVAL).
   The monotonic clock is real here, so such sleeps go straight to the kernel. */
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    if (clock == CLOCK_MONOTONIC) {
        long rc = syscall(SYS_clock_nanosleep, clock, flags, req, rem);
        return rc == 0 ? 0 : errno;
    }
    static int (*next)(clockid_t, int, const struct timespec *, struct timespec *);
    if (!next) next = dlsym(RTLD_NEXT, "clock_nanosleep");
    return next(clock, flags, req, rem);
}
