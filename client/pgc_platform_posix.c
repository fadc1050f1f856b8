/*
 * pgc_platform_posix.c: pgc_platform.h on Linux (glibc).
 */
#include "pgc_platform.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int64_t pgc_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pgc_cond_init_mono(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	int rc = pthread_condattr_init(&ca);

	if (rc)
		return rc;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

int pgc_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms)
{
	struct timespec ts;

	if (deadline_ms < 0)
		deadline_ms = 0;
	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	return pthread_cond_timedwait(cond, mutex, &ts);
}

void pgc_secure_zero(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}
