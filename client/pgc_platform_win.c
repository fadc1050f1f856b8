/*
 * pgc_platform_win.c: pgc_platform.h on Windows (MinGW-w64, winpthreads).
 * Not built on Linux: the Windows viewer's build compiles it instead of
 * pgc_platform_posix.c (viewer/WINDOWS.md).
 */
#include "pgc_platform.h"

#include <errno.h>
#include <time.h>
#include <windows.h>

int64_t pgc_clock_ms(void)
{
	return (int64_t)GetTickCount64();
}

int pgc_cond_init_mono(pthread_cond_t *cond)
{
	return pthread_cond_init(cond, NULL); /* its timed waits take wall-clock times */
}

int pgc_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - pgc_clock_ms();
		struct timespec now, ts;
		int rc;

		if (left <= 0)
			return ETIMEDOUT;
		/* the monotonic deadline as a wall-clock time, from now */
		clock_gettime(CLOCK_REALTIME, &now);
		ts.tv_sec = now.tv_sec + (time_t)(left / 1000);
		ts.tv_nsec = now.tv_nsec + (long)(left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		rc = pthread_cond_timedwait(cond, mutex, &ts);
		if (rc != ETIMEDOUT)
			return rc;
		/* the wall clock may have been set forward meanwhile: early? */
		if (pgc_clock_ms() >= deadline_ms)
			return ETIMEDOUT;
	}
}

void pgc_secure_zero(void *p, size_t n)
{
	if (p && n)
		SecureZeroMemory(p, n);
}
