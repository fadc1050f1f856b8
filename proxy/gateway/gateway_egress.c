/*
 * gateway_egress.c: a cell's egress forwarder: outside the cell's network
 * namespace, holding the cell's 127.0.0.1:3128, copying each connection to
 * upstream_proxy and nowhere else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/keyctl.h>
#include <time.h>
#include <unistd.h>

#include "chromium_policy.h"
#include "gateway_priv.h"
#include "log.h"

/* ---- the egress forwarder ---------------------------------------------- */

#define EGRESS_MAX_CONNS 64 /* Chromium keeps at most 32 per proxy */
#define EGRESS_BUF 16384
#define EGRESS_CONNECT_MS 10000 /* upstream_proxy must accept within this */
#define EGRESS_IDLE_MS 600000   /* a connection silent both ways this long is closed */
#define EGRESS_NOFILE (2 * EGRESS_MAX_CONNS + 16)

struct egress_half {
	char buf[EGRESS_BUF];
	size_t len, off;
	bool eof;  /* nothing more will be read from the source */
	bool shut; /* shutdown(SHUT_WR) sent to the destination */
};

struct egress_pair {
	int cell, up; /* -1 = free */
	bool connecting;
	bool cell_gone, up_gone; /* hung up or failed: never polled again */
	int64_t deadline_ms;     /* connect deadline, then idle deadline */
	struct egress_half to_up, to_cell;
};

/* A non-blocking connect to the address resolved at start; -1 on failure. */
static int egress_connect(void)
{
	int s = socket(pv.proxy_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s >= 0 && connect(s, (struct sockaddr *)&pv.proxy_addr, pv.proxy_addrlen) != 0 &&
	    errno != EINPROGRESS) {
		close(s);
		s = -1;
	}
	return s;
}

static void egress_close(struct egress_pair *p)
{
	if (p->cell >= 0)
		close(p->cell);
	if (p->up >= 0)
		close(p->up);
	p->cell = p->up = -1;
}

/*
 * One direction: read from `from` when h is empty, write h to `to`. A side
 * that hung up or failed is "gone": what it sent is still read to the end,
 * but nothing more is written to it, and it is never polled again (a socket
 * that hung up reports POLLHUP whatever it is asked: polling it would spin).
 */
static void egress_move(int from, int to, struct egress_half *h, bool *from_gone, bool *to_gone,
			short rev_from)
{
	if (h->len == 0 && !h->eof && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = recv(from, h->buf, sizeof h->buf, MSG_DONTWAIT);
		if (n > 0) {
			h->len = (size_t)n;
			h->off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			h->eof = true;
			if (n < 0)
				*from_gone = true;
		}
	}
	if (h->len > 0 && !*to_gone) {
		ssize_t n = send(to, h->buf + h->off, h->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			h->off += (size_t)n;
			h->len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			*to_gone = true;
		}
	}
	if (*to_gone) {
		h->len = 0; /* undeliverable */
		h->eof = true;
	}
	if (h->eof && h->len == 0 && !h->shut && !*to_gone) {
		shutdown(to, SHUT_WR);
		h->shut = true;
	}
}

/* The forwarder's life: accept in the cell, connect to the proxy, copy. */
void __attribute__((noreturn))
egress_main(int listen_fd, int logw, uid_t uid, const char *id, pid_t parent)
{
	/* a fork of the root parent: nothing of its state is wanted here */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_IGN); /* Ctrl-C on a terminal: the parent ends us */
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	close(pv.life[1]);
	/* what it logs goes through the parent, marked as the session's */
	if (dup2(logw, STDERR_FILENO) != STDERR_FILENO ||
	    dup2(logw, STDOUT_FILENO) != STDOUT_FILENO)
		_exit(1);
	log_init("pixelgate-egress", LOG_LEVEL_INFO);
	prctl(PR_SET_NAME, "pg-egress", 0, 0, 0);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, PRIV_OOM_CELL, strlen(PRIV_OOM_CELL)) < 0)
			log_warn("egress of session %s: oom_score_adj: %s", id, strerror(errno));
		close(fd);
	}
	if (cg_join(id) != 0) {
		log_error("egress of session %s: joining its cgroup: %s", id, strerror(errno));
		_exit(1);
	}
	int l = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
	if (l < 0 || (l != 3 && (dup2(l, 3) != 3 || fcntl(3, F_SETFD, FD_CLOEXEC) != 0)) ||
	    close_range(4, ~0U, 0) != 0 || priv_setrlimit(RLIMIT_NOFILE, EGRESS_NOFILE) != 0 ||
	    setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
	    setresuid(uid, uid, uid) != 0 || setuid(0) == 0 ||
	    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) { /* after setresuid, which clears it */
		log_error("egress of session %s: setting up: %s", id, strerror(errno));
		_exit(1);
	}
	if (getppid() != parent)
		_exit(1); /* the parent died before the death signal was armed */
	fcntl(3, F_SETFL, O_NONBLOCK);
	static struct egress_pair pairs[EGRESS_MAX_CONNS];
	for (int i = 0; i < EGRESS_MAX_CONNS; i++)
		pairs[i].cell = pairs[i].up = -1;
	struct pollfd pfd[1 + 2 * EGRESS_MAX_CONNS];
	int complaints = 0;
	for (;;) {
		int n = 0, used = 0;
		pfd[n++] = (struct pollfd){ 3, POLLIN, 0 };
		for (int i = 0; i < EGRESS_MAX_CONNS; i++) {
			struct egress_pair *p = &pairs[i];
			if (p->cell < 0)
				continue;
			used++;
			short ec = 0, eu = 0;
			if (p->connecting) {
				eu = POLLOUT;
			} else {
				if (p->to_up.len == 0 && !p->to_up.eof)
					ec |= POLLIN;
				if (p->to_cell.len > 0)
					ec |= POLLOUT;
				if (p->to_cell.len == 0 && !p->to_cell.eof)
					eu |= POLLIN;
				if (p->to_up.len > 0)
					eu |= POLLOUT;
			}
			pfd[n++] = (struct pollfd){ p->cell_gone ? -1 : p->cell, ec, 0 };
			pfd[n++] = (struct pollfd){ p->up_gone ? -1 : p->up, eu, 0 };
		}
		if (used == EGRESS_MAX_CONNS)
			pfd[0].fd = -1; /* full: the kernel's backlog holds the rest */
		if (poll(pfd, (nfds_t)n, 1000) < 0 && errno != EINTR)
			_exit(1);
		int64_t now = priv_now_ms();
		int k = 1;
		for (int i = 0; i < EGRESS_MAX_CONNS; i++) {
			struct egress_pair *p = &pairs[i];
			if (p->cell < 0)
				continue;
			short rc = pfd[k].revents, ru = pfd[k + 1].revents;
			k += 2;
			if (p->connecting) {
				int err = 0;
				socklen_t el = sizeof err;
				if (ru)
					getsockopt(p->up, SOL_SOCKET, SO_ERROR, &err, &el);
				if ((rc & (POLLERR | POLLHUP | POLLNVAL)) || err != 0 ||
				    (!ru && now >= p->deadline_ms)) {
					if (err != 0 || !ru)
						if (complaints++ < 5)
							log_error(
							    "egress of session %s: cannot reach "
							    "upstream_proxy %s:%s: %s",
							    id, pv.proxy_host, pv.proxy_port,
							    err ? strerror(err) : "timed out");
					egress_close(p);
				} else if (ru) {
					p->connecting = false;
					p->deadline_ms = now + EGRESS_IDLE_MS;
				}
				continue;
			}
			if ((rc | ru) & POLLNVAL) {
				egress_close(p);
				continue;
			}
			if (rc | ru)
				p->deadline_ms = now + EGRESS_IDLE_MS;
			egress_move(p->cell, p->up, &p->to_up, &p->cell_gone, &p->up_gone, rc);
			egress_move(p->up, p->cell, &p->to_cell, &p->up_gone, &p->cell_gone, ru);
			/* a hang-up (or error) is final once its data has been read */
			if ((rc & (POLLHUP | POLLERR)) && p->to_up.eof)
				p->cell_gone = true;
			if ((ru & (POLLHUP | POLLERR)) && p->to_cell.eof)
				p->up_gone = true;
			if ((p->to_up.eof && p->to_up.len == 0 && p->to_cell.eof &&
			     p->to_cell.len == 0) ||
			    (p->cell_gone && p->up_gone) || now >= p->deadline_ms)
				egress_close(p);
		}
		if (pfd[0].revents & POLLIN) {
			for (int i = 0; i < EGRESS_MAX_CONNS; i++) {
				if (pairs[i].cell >= 0)
					continue;
				int c = accept4(3, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (c < 0)
					break;
				int u = egress_connect();
				if (u < 0) {
					if (complaints++ < 5)
						log_error(
						    "egress of session %s: upstream_proxy %s:%s: %s",
						    id, pv.proxy_host, pv.proxy_port,
						    strerror(errno));
					close(c);
					continue;
				}
				memset(&pairs[i], 0, sizeof pairs[i]);
				pairs[i].cell = c;
				pairs[i].up = u;
				pairs[i].connecting = true;
				pairs[i].deadline_ms = now + EGRESS_CONNECT_MS;
			}
		}
	}
}
