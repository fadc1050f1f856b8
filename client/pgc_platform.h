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

#ifdef _WIN32
#include <winsock2.h> /* SOCKET, struct pollfd, POLLIN */
typedef SOCKET pgc_socket;
#define PGC_NO_SOCKET INVALID_SOCKET
#else
#include <poll.h>
#include <signal.h>
typedef int pgc_socket;
#define PGC_NO_SOCKET (-1)
#endif

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

/*
 * Sockets. Errors are reported through errno on both systems (Windows'
 * WSAGetLastError() codes are translated: WSAEWOULDBLOCK is EAGAIN,
 * WSAEINTR EINTR, a reset or abort EPIPE or ECONNRESET), so that callers
 * keep one error path and strerror().
 */

/* Once per process before any socket (WSAStartup on Windows; on POSIX
   nothing). 0, or -1 with errno set. Safe to call again. */
int pgc_net_init(void);

/*
 * A connected pair of stream sockets that only this process holds, neither
 * inherited by children: an AF_UNIX socketpair on POSIX. Windows has none
 * that libvncclient's select() and libwebsockets take, so there it is a TCP
 * connection on 127.0.0.1 whose accepted end is checked to be the very
 * socket this process connected (its address and port against ours), with
 * Nagle off on both ends and the listener closed at once. 0, or -1 with
 * errno set.
 */
int pgc_sock_pair(pgc_socket sv[2]);

int pgc_sock_set_nonblock(pgc_socket s);   /* 0, or -1 with errno */
void pgc_sock_close(pgc_socket s);         /* nothing for PGC_NO_SOCKET */
int pgc_sock_shutdown_write(pgc_socket s); /* 0, or -1 with errno */

/* Never blocks and never raises SIGPIPE: bytes sent, or -1 with errno
   (EAGAIN/EWOULDBLOCK when full). */
long pgc_sock_send(pgc_socket s, const void *buf, size_t len);

/* Never blocks: bytes read, 0 at the end of the stream, or -1 with errno
   (EAGAIN/EWOULDBLOCK when empty). */
long pgc_sock_recv(pgc_socket s, void *buf, size_t len);

/* poll() of sockets (WSAPoll() on Windows): as poll(). */
int pgc_poll(struct pollfd *fds, unsigned n, int timeout_ms);

/*
 * libvncclient writes with write(), which raises SIGPIPE on POSIX when the
 * other end is gone: the calling thread blocks SIGPIPE around its calls and
 * swallows one raised meanwhile. Nothing to do on Windows (no signals on
 * sockets).
 */
struct pgc_sigpipe_guard {
#ifndef _WIN32
	sigset_t old;
	int was_pending;
#else
	int unused;
#endif
};
void pgc_sigpipe_block(struct pgc_sigpipe_guard *g);
void pgc_sigpipe_restore(struct pgc_sigpipe_guard *g);

/* pthread_create() with every signal blocked in the new thread (on POSIX;
   Windows has no asynchronous signals to keep away). 0, or an error number. */
int pgc_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);

/* Joins t if it ends within ms milliseconds: 0, or ETIMEDOUT (t is left
   running and not joined), or another error number. */
int pgc_thread_join_ms(pthread_t t, int ms);

/* Keeps n bytes at p out of swap (passwords): 0, or -1 with errno. */
int pgc_mem_lock(void *p, size_t n);
void pgc_mem_unlock(void *p, size_t n);

#endif
