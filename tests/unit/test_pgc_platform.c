/*
 * test_pgc_platform.c: client/pgc_platform.h (the POSIX side; the Windows
 * side is compiled by deploy/build-windows-viewer.sh's toolchain).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "pgc_platform.h"

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool flag;
};

static void *set_flag(void *arg)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->lock);
	w->flag = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

Test(pgc_platform, a_past_deadline_times_out_at_once)
{
	struct waiter w = { .lock = PTHREAD_MUTEX_INITIALIZER };
	cr_assert_eq(pgc_cond_init_mono(&w.cond), 0);
	pthread_mutex_lock(&w.lock);
	cr_assert_eq(pgc_cond_wait_until(&w.cond, &w.lock, pgc_clock_ms() - 1000), ETIMEDOUT);
	cr_assert_eq(pgc_cond_wait_until(&w.cond, &w.lock, -5), ETIMEDOUT);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
}

/* Never before the deadline, on the monotonic clock. */
Test(pgc_platform, a_timeout_comes_after_the_deadline)
{
	struct waiter w = { .lock = PTHREAD_MUTEX_INITIALIZER };
	cr_assert_eq(pgc_cond_init_mono(&w.cond), 0);
	int64_t deadline = pgc_clock_ms() + 50;
	int rc = 0;
	pthread_mutex_lock(&w.lock);
	while (rc != ETIMEDOUT) {
		rc = pgc_cond_wait_until(&w.cond, &w.lock, deadline);
		cr_assert(rc == 0 || rc == ETIMEDOUT, "rc %d", rc);
	}
	pthread_mutex_unlock(&w.lock);
	cr_assert_geq(pgc_clock_ms(), deadline);
	pthread_cond_destroy(&w.cond);
}

Test(pgc_platform, a_signal_wakes_the_waiter)
{
	struct waiter w = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t t;
	cr_assert_eq(pgc_cond_init_mono(&w.cond), 0);
	pthread_mutex_lock(&w.lock);
	cr_assert_eq(pthread_create(&t, NULL, set_flag, &w), 0);
	int rc = 0;
	int64_t deadline = pgc_clock_ms() + 10000;
	while (!w.flag && rc != ETIMEDOUT)
		rc = pgc_cond_wait_until(&w.cond, &w.lock, deadline);
	pthread_mutex_unlock(&w.lock);
	pthread_join(t, NULL);
	cr_assert(w.flag, "not woken within 10 s (rc %d)", rc);
	pthread_cond_destroy(&w.cond);
}

Test(pgc_platform, secure_zero_clears_and_takes_nothing)
{
	char secret[32];
	memset(secret, 'x', sizeof secret);
	pgc_secure_zero(secret, sizeof secret);
	for (size_t i = 0; i < sizeof secret; i++)
		cr_assert_eq(secret[i], 0);
	pgc_secure_zero(NULL, 10);
	pgc_secure_zero(secret, 0);
}
