/*
 * pgc_platform_posix.c: pgc_platform.h on Linux (glibc).
 */
#include "pgc_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

int pgc_net_init(void)
{
	return 0;
}

int pgc_sock_pair(pgc_socket sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

int pgc_sock_set_nonblock(pgc_socket s)
{
	int fl = fcntl(s, F_GETFL);

	return fl < 0 ? -1 : fcntl(s, F_SETFL, fl | O_NONBLOCK);
}

void pgc_sock_close(pgc_socket s)
{
	if (s >= 0)
		close(s);
}

int pgc_sock_shutdown_write(pgc_socket s)
{
	return shutdown(s, SHUT_WR);
}

long pgc_sock_send(pgc_socket s, const void *buf, size_t len)
{
	return (long)send(s, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

long pgc_sock_recv(pgc_socket s, void *buf, size_t len)
{
	return (long)recv(s, buf, len, MSG_DONTWAIT);
}

int pgc_poll(struct pollfd *fds, unsigned n, int timeout_ms)
{
	return poll(fds, (nfds_t)n, timeout_ms);
}

void pgc_sigpipe_block(struct pgc_sigpipe_guard *g)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	sigemptyset(&pend);
	sigpending(&pend);
	g->was_pending = sigismember(&pend, SIGPIPE) == 1;
}

/* Swallows a SIGPIPE raised since pgc_sigpipe_block() and restores the mask. */
void pgc_sigpipe_restore(struct pgc_sigpipe_guard *g)
{
	sigset_t set, pend;

	if (!g->was_pending) {
		sigemptyset(&pend);
		sigpending(&pend);
		if (sigismember(&pend, SIGPIPE) == 1) {
			const struct timespec zero = { 0, 0 };

			sigemptyset(&set);
			sigaddset(&set, SIGPIPE);
			while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
				;
		}
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

int pgc_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int pgc_thread_join_ms(pthread_t t, int ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(t, NULL, &deadline);
}

int pgc_mem_lock(void *p, size_t n)
{
	return mlock(p, n);
}

void pgc_mem_unlock(void *p, size_t n)
{
	munlock(p, n);
}
