/*
 * pgc_platform.h: what the client library and the viewer need from the
 * operating system where POSIX and Windows differ (pgc_platform_posix.c;
 * pgc_platform_win.c for the Windows viewer, see viewer/WINDOWS.md). No
 * other library is used, so the unit tests link it alone.
 */
#ifndef PIXELGATE_PGC_PLATFORM_H
#define PIXELGATE_PGC_PLATFORM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock, milliseconds (an arbitrary origin). */
int64_t pgc_clock_ms(void);

/*
 * A condition variable for pgc_cond_wait_until(): 0, or an error number.
 * On POSIX its timed waits run on the monotonic clock; winpthreads cannot
 * (pthread_condattr_setclock(CLOCK_MONOTONIC) is EINVAL there, and its
 * timed waits take wall-clock deadlines).
 */
int pgc_cond_init_mono(pthread_cond_t *cond);

/*
 * Waits on cond (mutex held, as pthread_cond_timedwait()) until woken or
 * deadline_ms (pgc_clock_ms()) has passed: 0 when woken (perhaps
 * spuriously: the caller checks its condition and waits again), ETIMEDOUT
 * once the deadline has passed, never earlier; another error number if the
 * wait failed.
 */
int pgc_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms);

/* Overwrites n bytes at p with zeros in a way the compiler cannot drop
   (passwords, tickets). */
void pgc_secure_zero(void *p, size_t n);

#endif
