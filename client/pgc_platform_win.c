/*
 * pgc_platform_win.c: pgc_platform.h on Windows (MinGW-w64, winpthreads).
 * Not built on Linux: the Windows viewer's build compiles it instead of
 * pgc_platform_posix.c (viewer/WINDOWS.md).
 */
#include "pgc_platform.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <winsock2.h>
#include <ws2tcpip.h>
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

/* errno for the thread's last Winsock error */
static int win_errno(void)
{
	switch (WSAGetLastError()) {
	case WSAEWOULDBLOCK:
		return EAGAIN;
	case WSAEINPROGRESS:
		return EINPROGRESS;
	case WSAETIMEDOUT:
		return ETIMEDOUT;
	case WSAEACCES:
		return EACCES;
	case WSAEADDRINUSE:
		return EADDRINUSE;
	case WSAENETUNREACH:
		return ENETUNREACH;
	case WSAEHOSTUNREACH:
		return EHOSTUNREACH;
	case WSAEINTR:
		return EINTR;
	case WSAECONNRESET:
	case WSAECONNABORTED:
	case WSAENETRESET:
		return ECONNRESET;
	case WSAESHUTDOWN:
	case WSAENOTCONN:
		return EPIPE;
	case WSAENOBUFS:
		return ENOBUFS;
	case WSAEMFILE:
		return EMFILE;
	case WSAEINVAL:
		return EINVAL;
	case WSAENOTSOCK:
		return EBADF;
	case WSAECONNREFUSED:
		return ECONNREFUSED;
	case WSAEADDRNOTAVAIL:
		return EADDRNOTAVAIL;
	default:
		return EIO;
	}
}

static int win_fail(void)
{
	errno = win_errno();
	return -1;
}

static INIT_ONCE win_net_once = INIT_ONCE_STATIC_INIT;
static int win_net_rc;

static BOOL CALLBACK win_net_start(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
	WSADATA wsa;

	(void)once;
	(void)param;
	(void)ctx;
	win_net_rc = WSAStartup(MAKEWORD(2, 2), &wsa);
	return TRUE;
}

int pgc_net_init(void)
{
	InitOnceExecuteOnce(&win_net_once, win_net_start, NULL, NULL);
	if (win_net_rc != 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* the same IPv4 address and port */
static int win_same(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_family == AF_INET && b->sin_family == AF_INET &&
	    a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

int pgc_sock_pair(pgc_socket sv[2])
{
	SOCKET lst = INVALID_SOCKET, con = INVALID_SOCKET, acc = INVALID_SOCKET;
	struct sockaddr_in addr, con_local, acc_peer;
	int len, one = 1, err = EIO;

	sv[0] = sv[1] = INVALID_SOCKET;
	if (pgc_net_init())
		return -1;
	/* WSA_FLAG_NO_HANDLE_INHERIT: no child process gets either end */
	lst = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
	if (lst == INVALID_SOCKET)
		goto fail;
	/* nobody else may bind the same port and take the connection */
	if (setsockopt(lst, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one))
		goto fail;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	len = (int)sizeof addr;
	if (bind(lst, (struct sockaddr *)&addr, sizeof addr) ||
	    getsockname(lst, (struct sockaddr *)&addr, &len) || listen(lst, 1))
		goto fail;
	con = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
	if (con == INVALID_SOCKET || connect(con, (struct sockaddr *)&addr, sizeof addr))
		goto fail;
	len = (int)sizeof con_local;
	if (getsockname(con, (struct sockaddr *)&con_local, &len))
		goto fail;
	/*
	 * Another local process could connect to the port between listen()
	 * and accept(): accept connections until ours arrives (its peer address
	 * is our connecting socket's own), closing any other, a bounded number
	 * of times.
	 */
	for (int tries = 0; tries < 8; tries++) {
		len = (int)sizeof acc_peer;
		acc = accept(lst, (struct sockaddr *)&acc_peer, &len);
		if (acc == INVALID_SOCKET)
			goto fail;
		if (win_same(&acc_peer, &con_local))
			break;
		closesocket(acc);
		acc = INVALID_SOCKET;
	}
	if (acc == INVALID_SOCKET) {
		closesocket(lst);
		closesocket(con);
		errno = EACCES;
		return -1;
	}
	closesocket(lst);
	/* the accepted socket does not take WSA_FLAG_NO_HANDLE_INHERIT over */
	SetHandleInformation((HANDLE)acc, HANDLE_FLAG_INHERIT, 0);
	setsockopt(con, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
	setsockopt(acc, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
	sv[0] = acc;
	sv[1] = con;
	return 0;
fail:
	err = win_errno();
	if (acc != INVALID_SOCKET)
		closesocket(acc);
	if (con != INVALID_SOCKET)
		closesocket(con);
	if (lst != INVALID_SOCKET)
		closesocket(lst);
	errno = err;
	return -1;
}

int pgc_sock_set_nonblock(pgc_socket s)
{
	u_long on = 1;

	return ioctlsocket(s, FIONBIO, &on) ? win_fail() : 0;
}

void pgc_sock_close(pgc_socket s)
{
	if (s != INVALID_SOCKET)
		closesocket(s);
}

int pgc_sock_shutdown_write(pgc_socket s)
{
	return shutdown(s, SD_SEND) ? win_fail() : 0;
}

/* The sockets given to these are non-blocking (the bridge's end and the
   viewer's waker), as MSG_DONTWAIT makes them on POSIX. */
long pgc_sock_send(pgc_socket s, const void *buf, size_t len)
{
	int n = send(s, (const char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);

	return n == SOCKET_ERROR ? win_fail() : n;
}

long pgc_sock_recv(pgc_socket s, void *buf, size_t len)
{
	int n = recv(s, (char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);

	return n == SOCKET_ERROR ? win_fail() : n;
}

int pgc_poll(struct pollfd *fds, unsigned n, int timeout_ms)
{
	int rc = WSAPoll(fds, (ULONG)n, timeout_ms);

	return rc == SOCKET_ERROR ? win_fail() : rc;
}

void pgc_sigpipe_block(struct pgc_sigpipe_guard *g)
{
	(void)g;
}

void pgc_sigpipe_restore(struct pgc_sigpipe_guard *g)
{
	(void)g;
}

int pgc_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	return pthread_create(t, NULL, fn, arg);
}

int pgc_thread_join_ms(pthread_t t, int ms)
{
	HANDLE h = pthread_gethandle(t);

	if (h == NULL)
		return ESRCH;
	if (WaitForSingleObject(h, ms < 0 ? 0 : (DWORD)ms) != WAIT_OBJECT_0)
		return ETIMEDOUT;
	return pthread_join(t, NULL);
}

int pgc_mem_lock(void *p, size_t n)
{
	if (VirtualLock(p, n))
		return 0;
	errno = ENOMEM;
	return -1;
}

void pgc_mem_unlock(void *p, size_t n)
{
	VirtualUnlock(p, n);
}
