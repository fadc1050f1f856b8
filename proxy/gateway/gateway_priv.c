/*
 * gateway_priv.c: privilege separation (the OpenBSD httpd/relayd pattern).
 *
 * pixelgate starts as root, reads its configuration, then forks:
 *
 *   privileged parent (this file, root, no network, no secrets)
 *     - creates a session's cell and starts the worker in it;
 *     - kills a cell when asked, reaps cells and tells the network process;
 *     - forwards SIGTERM/SIGINT to the network process and exits with it;
 *     - on SIGHUP reads the configuration file (root's to read) and hands
 *       it to the network process (PRIV_CONFIG, gateway_reload.c).
 *   network process (setuid to [server] user, never root again)
 *     - TLS, HTTP, WebSocket, the relay, the admin API, the audit writer:
 *       everything in the other gateway_*.c files.
 *
 * They speak over one SOCK_SEQPACKET socketpair with fixed-size messages
 * (struct priv_msg, exactly that size or refused): SPAWN and KILL from the
 * network process; SPAWNED (with the worker's control socket attached) and
 * EXITED from the parent. The parent trusts nothing in a message but a
 * well-formed session id; the network process accepts a descriptor only on
 * SPAWNED.
 *
 * A cell (pixelgate's unit of isolation, one per session):
 *   - a uid and gid of its own (session_uid_base + slot), no groups;
 *   - new PID, mount, IPC, UTS and network namespaces; the worker is pid 1,
 *     so everything in the cell dies with it;
 *   - the host's file systems read-only and nosuid; private tmpfs on /tmp
 *     (with its own /tmp/.X11-unix), /dev/shm, /var/tmp and the session's
 *     directory, which vanish with the cell (nothing to delete afterwards,
 *     nothing a symlink could redirect); a /proc of its own;
 *   - Chromium's managed policy directory replaced by one holding the
 *     checked policy plus proxy settings and the administrator's URL lists;
 *   - no_new_privs, rlimits (NPROC, NOFILE < 1024 for libvncserver's
 *     select(), CORE 0), oom_score_adj 800 (the gateway: -900), parent-death
 *     signal; the worker makes itself non-dumpable;
 *   - only loopback in its network: 127.0.0.1:PRIV_EGRESS_PORT is a socket
 *     held by an egress forwarder outside the namespace (a child of this
 *     parent, as the cell's uid) that connects every accepted connection to
 *     [session] upstream_proxy, and nowhere else.
 *
 * Started as non-root (development_unprivileged = on only), the same two
 * processes run, but workers run as the daemon's uid without a cell.
 *
 * This file: the messages, the network process's side of them, the parent's
 * loop (spawning, reaping, the cells' log pipes) and start-up. The cell's
 * set-up is gateway_cell.c, the forwarder gateway_egress.c, the cgroups
 * gateway_cgroup.c (gateway_priv.h holds what they share).
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
#include <sys/mman.h>
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
#include "ipc.h"
#include "log.h"

struct priv_state pv = { .fd = -1, .exe_fd = -1, .life = { -1, -1 } };

/* ---- messages ---------------------------------------------------------- */

bool priv_id_ok(const char *id)
{
	return strnlen(id, sizeof((struct priv_msg *)0)->id) == 16 &&
	    strspn(id, "0123456789abcdef") == 16;
}

int priv_send(int sock, const struct priv_msg *m, int fd)
{
	struct iovec iov = { (void *)m, sizeof *m };
	return ipc_sendmsg(sock, &iov, 1, fd) == (ssize_t)sizeof *m ? 0 : -1;
}

/* One message: 1, 0 on EOF, -2 if none waits, -1 on a malformed one (any passed fd is in *fd). */
int priv_recv(int sock, struct priv_msg *m, int *fd)
{
	ssize_t n = ipc_recvmsg(sock, m, sizeof *m, fd, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return -2;
	if (n < 0 && errno == EMSGSIZE)
		errno = 0; /* not the transport's fault: a message too big */
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof *m) {
		errno = 0; /* a message of the wrong size */
		return -1;
	}
	m->id[sizeof m->id - 1] = '\0';
	m->text[sizeof m->text - 1] = '\0';
	return 1;
}

int64_t priv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* setrlimit(res, v, v); 0 or -1. */
int priv_setrlimit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };
	if (setrlimit(res, &rl) == 0)
		return 0;
	/* valgrind (the memcheck test runs the gateway under it) keeps the hard
	   NOFILE limit for itself: the soft one still keeps fds below 1024 */
	if (errno == EPERM && res == RLIMIT_NOFILE && getrlimit(res, &rl) == 0 &&
	    rl.rlim_max >= v) {
		rl.rlim_cur = v;
		if (setrlimit(res, &rl) == 0)
			return 0;
	}
	return -1;
}

/* ---- the network process's side ----------------------------------------- */

bool priv_cells(void)
{
	return pv.cells;
}

int priv_spawn(const char *id, int policy)
{
	struct priv_msg m = { .type = PRIV_SPAWN, .status = policy };
	snprintf(m.id, sizeof m.id, "%s", id);
	return priv_send(gw->priv_fd, &m, -1);
}

void priv_kill(const char *id)
{
	struct priv_msg m = { .type = PRIV_KILL };
	snprintf(m.id, sizeof m.id, "%s", id);
	if (gw->priv_fd >= 0 && priv_send(gw->priv_fd, &m, -1) != 0)
		log_error("cannot ask the privileged parent to end session %s: %s", id,
			  strerror(errno));
}

void priv_status(bool ready, const char *status)
{
	struct priv_msg m = { .type = PRIV_STATUS, .status = ready ? 1 : 0 };
	snprintf(m.text, sizeof m.text, "%s", status);
	if (gw->priv_fd >= 0 && priv_send(gw->priv_fd, &m, -1) != 0)
		log_error("cannot tell the privileged parent our status: %s", strerror(errno));
}

void priv_keep(const char *id, const char *user, const char *what)
{
	struct priv_msg m = { .type = PRIV_KEEP };
	snprintf(m.id, sizeof m.id, "%s", id);
	snprintf(m.text, sizeof m.text, "%s\n%s", user, what);
	if (gw->priv_fd >= 0 && priv_send(gw->priv_fd, &m, -1) != 0)
		log_error("cannot ask the privileged parent to keep session %s: %s", id,
			  strerror(errno));
}

int priv_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	(void)wsi;
	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
		gw->priv_fd = -1;
		if (gw->destroying)
			return 0; /* our own exit closes it */
		log_error("the privileged parent is gone: every cell died with it (parent-death "
			  "signal); shutting down");
		/* the cells are gone: no EXITED will come, so say it for them */
		char ids[256][24];
		int n = 0;
		for (struct gw_session *x = gw->sessions; x != NULL && n < 256; x = x->next)
			snprintf(ids[n++], sizeof ids[0], "%s", x->id);
		for (int i = 0; i < n; i++)
			session_exited(ids[i], SIGKILL, 0, "");
		kill(getpid(), SIGTERM);
		return 0;
	}
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	for (int i = 0; i < 64; i++) {
		struct priv_msg m = { 0 };
		int fd;
		int r = priv_recv(gw->priv_fd, &m, &fd);
		if (r == -2)
			return 0;
		if (r == 0)
			return -1;
		if (r < 0) {
			log_error("bad message from the privileged parent: %s",
				  errno ? strerror(errno) : "wrong size");
			if (fd >= 0)
				close(fd);
			return 0;
		}
		if (m.type == PRIV_CONFIG && m.id[0] == '\0' && (fd >= 0) == (m.status == 0)) {
			reload_run(fd, m.text);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (!priv_id_ok(m.id) || (m.type != PRIV_SPAWNED && m.type != PRIV_EXITED) ||
		    (fd >= 0 && (m.type != PRIV_SPAWNED || m.status != 0))) {
			log_error("malformed message from the privileged parent (type %u)",
				  (unsigned)m.type);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (m.type == PRIV_SPAWNED)
			session_spawned(m.id, m.pid, m.uid, m.status == 0 ? fd : -1,
					m.status == 0 ? NULL : m.text);
		else {
			m.text[sizeof m.text - 1] = '\0';
			session_exited(m.id, m.status, m.flags, m.text);
		}
	}
	return 0;
}

/* ---- the privileged parent: spawning and reaping ------------------------ */

static void priv_reply_fail(const char *id, const char *fmt, ...)
    __attribute__((format(__printf__, 2, 3)));
static void priv_reply_fail(const char *id, const char *fmt, ...)
{
	struct priv_msg m = { .type = PRIV_SPAWNED, .status = 1 };
	snprintf(m.id, sizeof m.id, "%s", id);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof m.text, fmt, ap);
	va_end(ap);
	log_error("session %s: %s", id, m.text);
	priv_send(pv.fd, &m, -1);
}

/* Read what a failing cell wrote before it exited; "" when exec succeeded. */
static void priv_read_setup(int errr, char *out, size_t outlen)
{
	size_t got = 0;
	out[0] = '\0';
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { errr, POLLIN, 0 };
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= PRIV_SETUP_TIMEOUT_MS) {
			snprintf(out, outlen, "the cell was not set up within %d ms",
				 PRIV_SETUP_TIMEOUT_MS);
			return;
		}
		if (poll(&p, 1, (int)(PRIV_SETUP_TIMEOUT_MS - ms)) <= 0)
			continue;
		ssize_t n = read(errr, out + got, outlen - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == outlen - 1)
			break;
	}
	out[got] = '\0';
}

static char priv_stack[256 * 1024] __attribute__((aligned(16)));

/* A free slot (its uid) for session id, or -1 after telling the network process why not. */
static int priv_free_slot(const char *id)
{
	int slot = -1;
	for (int i = 0; i < pv.nslots; i++) {
		if (pv.slots[i].used && strcmp(pv.slots[i].id, id) == 0) {
			priv_reply_fail(id, "session id already in use");
			return -1;
		}
		if (!pv.slots[i].used && slot < 0)
			slot = i;
	}
	if (slot < 0)
		priv_reply_fail(id, "no free session uid: all %d (session_uid_count) are in use",
				pv.nslots);
	return slot;
}

/* The cell sends its egress listening socket over pass: start ps's forwarder
   with it (ps->egress), writing to logw. false if none came or fork failed. */
static bool priv_start_egress(struct priv_slot *ps, int pass, int logw, uid_t uid, pid_t ppid_self)
{
	struct pollfd p = { pass, POLLIN, 0 };
	struct priv_msg m;
	int egress_fd = -1;
	if (poll(&p, 1, PRIV_SETUP_TIMEOUT_MS) > 0 && priv_recv(pass, &m, &egress_fd) == 1 &&
	    egress_fd >= 0) {
		pid_t e = fork();
		if (e == 0)
			egress_main(egress_fd, logw, uid, ps->id, ppid_self);
		if (e > 0)
			ps->egress = e;
	}
	if (egress_fd >= 0)
		close(egress_fd);
	return ps->egress > 0;
}

static void priv_spawn_cell(const char *id, int policy)
{
	int slot = priv_free_slot(id);
	if (slot < 0)
		return;
	struct priv_slot *ps = &pv.slots[slot];
	pid_t ppid_self = getpid();
	uid_t uid = pv.cells ? (uid_t)gw->cfg.session_uid_base + (uid_t)slot : getuid();
	bool netns = pv.cells && pv.proxy_host[0] != '\0';
	int ctrl[2] = { -1, -1 }, pass[2] = { -1, -1 }, errp[2] = { -1, -1 }, logp[2] = { -1, -1 };
	memset(ps, 0, sizeof *ps);
	ps->log_fd = -1;
	ps->oom_fd = -1;
	ps->keep_fd = -1;
	ps->copier_out = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctrl) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pass) != 0 ||
	    pipe2(errp, O_CLOEXEC) != 0 || pipe2(logp, O_CLOEXEC) != 0) {
		priv_reply_fail(id, "socketpair: %s", strerror(errno));
		goto out;
	}
	snprintf(ps->id, sizeof ps->id, "%s", id);
	ps->log_tokens = PRIV_LOG_BURST;
	ps->log_refill_ms = priv_now_ms();
	if (!pv.cells) {
		snprintf(ps->dir, sizeof ps->dir, "%s/session-%s", gw->cfg.runtime_dir, id);
		if (mkdir(ps->dir, 0700) != 0) {
			priv_reply_fail(id, "mkdir %s: %s", ps->dir, strerror(errno));
			ps->dir[0] = '\0';
			goto out;
		}
	}
	char cgerr[300];
	if (pv.cells && cg_create(id, cgerr, sizeof cgerr) != 0) {
		priv_reply_fail(id, "cannot make the session's cgroup: %s", cgerr);
		cg_remove(id);
		goto out;
	}
	struct cell_args args = { .slot = slot,
				  .uid = uid,
				  .ctrl = ctrl[1],
				  .pass = pass[1],
				  .errw = errp[1],
				  .logw = logp[1],
				  .id = id,
				  .netns = netns,
				  /* the group's own URL lists, or the node's */
				  .policy_json = policy >= 1 && policy <= CONFIG_GROUPS_MAX &&
					  pv.group_policy_json[policy - 1] != NULL
				      ? pv.group_policy_json[policy - 1]
				      : pv.policy_json };
	int flags = SIGCHLD;
	if (pv.cells)
		flags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
		    (netns ? CLONE_NEWNET : 0);
	pid_t pid = clone(cell_main, priv_stack + sizeof priv_stack, flags, &args);
	if (pid < 0) {
		priv_reply_fail(id, "cannot create the session's cell (clone: %s)",
				strerror(errno));
		if (ps->dir[0])
			session_remove_dir(ps->dir);
		if (pv.cells)
			cg_remove(id);
		goto out;
	}
	ps->used = true;
	ps->cell = pid;
	if (pv.cells)
		ps->oom_fd = cg_oom_watch(id);
	ps->log_fd = logp[0];
	logp[0] = -1;
	fcntl(ps->log_fd, F_SETFL, O_NONBLOCK);
	close(ctrl[1]);
	close(pass[1]);
	close(errp[1]);
	ctrl[1] = pass[1] = errp[1] = -1;
	if (netns) {
		if (!priv_start_egress(ps, pass[0], logp[1], uid, ppid_self)) {
			kill(pid, SIGKILL);
			char why[200];
			priv_read_setup(errp[0], why, sizeof why);
			priv_reply_fail(id, "cannot start the session's egress forwarder%s%s",
					why[0] ? ": " : "", why);
			goto out;
		}
	}
	close(logp[1]); /* the cell and its forwarder hold it now */
	logp[1] = -1;
	char why[200];
	priv_read_setup(errp[0], why, sizeof why);
	if (why[0] != '\0') {
		kill(pid, SIGKILL);
		if (ps->egress > 0)
			kill(ps->egress, SIGKILL);
		priv_reply_fail(id, "cannot set up the session's cell: %s", why);
		goto out;
	}
	struct priv_msg m = { .type = PRIV_SPAWNED, .pid = pid, .uid = uid };
	snprintf(m.id, sizeof m.id, "%s", id);
	if (priv_send(pv.fd, &m, ctrl[0]) != 0) {
		log_error("session %s: cannot hand the control socket over: %s", id,
			  strerror(errno));
		kill(pid, SIGKILL);
	}
	log_info("session %s: worker %d in a cell as uid %u%s", id, (int)pid, (unsigned)uid,
		 netns ? ", egress only through upstream_proxy" : "");
out:
	for (int i = 0; i < 2; i++) {
		if (ctrl[i] >= 0)
			close(ctrl[i]);
		if (pass[i] >= 0)
			close(pass[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (logp[i] >= 0)
			close(logp[i]);
	}
}

static void priv_kill_slot(struct priv_slot *ps)
{
	ps->killed = true;
	if (ps->cell > 0)
		kill(ps->cell, SIGKILL);
	if (ps->egress > 0)
		kill(ps->egress, SIGKILL);
}

/* One line of a cell's output to our stderr: marked as the session's, control
   characters replaced, at most PRIV_LOG_RATE lines a second (burst PRIV_LOG_BURST). */
static void priv_log_line(struct priv_slot *ps, const char *line, size_t len)
{
	int64_t now = priv_now_ms();
	ps->log_tokens += (double)(now - ps->log_refill_ms) * PRIV_LOG_RATE / 1000.0;
	if (ps->log_tokens > PRIV_LOG_BURST)
		ps->log_tokens = PRIV_LOG_BURST;
	ps->log_refill_ms = now;
	if (ps->log_tokens < 1) {
		ps->log_dropped++;
		return;
	}
	ps->log_tokens -= 1;
	char out[PRIV_LOG_LINE + 128];
	size_t n = 0;
	if (ps->log_dropped > 0) {
		snprintf(out, sizeof out, "(%lu lines dropped: more than %d a second)",
			 ps->log_dropped, PRIV_LOG_RATE);
		ps->log_dropped = 0;
		log_cell_line(ps->id, out);
	}
	for (size_t i = 0; i < len && n < sizeof out - 1; i++) {
		unsigned char ch = (unsigned char)line[i];
		out[n++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : (char)ch;
	}
	out[n] = '\0';
	log_cell_line(ps->id, out);
}

/* Read what the cell wrote; on EOF (every writer gone) close the pipe. */
static void priv_log_read(struct priv_slot *ps)
{
	for (int rounds = 0; ps->log_fd >= 0 && rounds < 16; rounds++) {
		ssize_t n = read(ps->log_fd, ps->log_buf + ps->log_len,
				 sizeof ps->log_buf - ps->log_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (ps->log_len > 0)
				priv_log_line(ps, ps->log_buf, ps->log_len);
			ps->log_len = 0;
			close(ps->log_fd);
			ps->log_fd = -1;
			return;
		}
		ps->log_len += (size_t)n;
		size_t start = 0;
		for (size_t i = 0; i < ps->log_len; i++)
			if (ps->log_buf[i] == '\n') {
				priv_log_line(ps, ps->log_buf + start, i - start);
				start = i + 1;
			}
		if (start == 0 && ps->log_len == sizeof ps->log_buf) {
			priv_log_line(ps, ps->log_buf, ps->log_len); /* a line too long: cut */
			start = ps->log_len;
		}
		memmove(ps->log_buf, ps->log_buf + start, ps->log_len - start);
		ps->log_len -= start;
	}
}

/* The slot's cell and forwarder are both reaped: tell the network process, free the uid. */
static void priv_slot_done(struct priv_slot *ps)
{
	if (ps->log_fd >= 0) {
		priv_log_read(ps);
		if (ps->log_fd >= 0)
			close(ps->log_fd);
		ps->log_fd = -1;
	}
	if (ps->keep_fd >= 0)
		close(ps->keep_fd);
	ps->keep_fd = -1;
	if (ps->oom_fd >= 0)
		close(ps->oom_fd);
	ps->oom_fd = -1;
	if (ps->dir[0])
		session_remove_dir(ps->dir);
	/* v2's memory.oom.group killed the whole cell: the counter says why */
	if (pv.cells && !ps->oom && cg_oom_kills(ps->id) > 0)
		ps->oom = true;
	if (pv.cells)
		cg_remove(ps->id);
	struct priv_msg m = { .type = PRIV_EXITED,
			      .status = ps->cell_status,
			      .flags = ps->oom ? PRIV_EXIT_OOM : 0 };
	snprintf(m.id, sizeof m.id, "%s", ps->id);
	snprintf(m.text, sizeof m.text, "%s", ps->kept);
	if (pv.fd >= 0 && priv_send(pv.fd, &m, -1) != 0)
		log_error("session %s: cannot tell the network process it ended: %s", ps->id,
			  strerror(errno));
	ps->used = false; /* the uid is free: nothing of the cell is left */
}

/* Reap children; true once the network process has exited (its status in *net_status). */
static bool priv_reap(int *net_status)
{
	int status;
	pid_t pid;
	bool net_gone = false;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == pv.net_pid) {
			*net_status = status;
			net_gone = true;
			continue;
		}
		for (int i = 0; i < pv.nslots; i++) {
			struct priv_slot *ps = &pv.slots[i];
			if (!ps->used)
				continue;
			if (ps->cell == pid) {
				ps->cell = 0;
				ps->cell_status = status;
				if (ps->egress > 0)
					kill(ps->egress, SIGKILL);
				/* nothing of the cell runs now: copy what it left */
				priv_keep_start(ps);
			} else if (ps->copier == pid) {
				priv_keep_done(ps, status);
			} else if (ps->egress == pid) {
				ps->egress = 0;
				if (ps->cell > 0 && !ps->keep_asked && !ps->killed) {
					log_error(
					    "session %s: the egress forwarder exited; ending the "
					    "session",
					    ps->id);
					kill(ps->cell, SIGKILL);
				}
			} else {
				continue;
			}
			if (ps->cell == 0 && ps->egress == 0 && ps->copier == 0)
				priv_slot_done(ps);
			break;
		}
	}
	return net_gone;
}

/* cgroup v1: slot ps's cell reached its memory group's limit (its eventfd
   fired; the kernel signals it as it goes to OOM-kill, before the kill). The
   whole cell is killed now: a browser whose renderer alone was killed would
   go on showing "Aw, Snap!" to a session over its limit. */
static void priv_oom(struct priv_slot *ps)
{
	uint64_t n;
	if (read(ps->oom_fd, &n, sizeof n) != (ssize_t)sizeof n)
		return;
	if (ps->oom || ps->cell <= 0)
		return;
	ps->oom = true;
	log_warn("session %s: its cell reached the memory group's limit (the kernel's OOM killer "
		 "acts); killing the cell",
		 ps->id);
	priv_kill_slot(ps);
}

/*
 * SIGHUP: the configuration file, read as root, to the network process in a
 * sealed memfd (it cannot open the file itself, and a file changed while it
 * parses is not what was checked). A file that cannot be read or is too big
 * goes as a failed PRIV_CONFIG with the reason.
 */
static void priv_send_config(void)
{
	struct priv_msg m = { .type = PRIV_CONFIG };
	int in = open(gw->config_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	int mfd = -1;
	if (in < 0 || fstat(in, &st) != 0) {
		snprintf(m.text, sizeof m.text, "cannot open: %s", strerror(errno));
	} else if (!S_ISREG(st.st_mode) || st.st_size > PRIV_CONFIG_MAX) {
		snprintf(m.text, sizeof m.text, "not a regular file of at most %d bytes",
			 PRIV_CONFIG_MAX);
	} else if ((mfd = memfd_create("pixelgate.conf", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0) {
		snprintf(m.text, sizeof m.text, "memfd_create: %s", strerror(errno));
	} else {
		char buf[8192];
		ssize_t n;
		off_t total = 0;
		while ((n = read(in, buf, sizeof buf)) > 0 && total + n <= PRIV_CONFIG_MAX) {
			if (write(mfd, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
			total += n;
		}
		if (n != 0 ||
		    fcntl(mfd, F_ADD_SEALS,
			  F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
			snprintf(m.text, sizeof m.text, "%s",
				 n > 0 ? "grew over the limit while read" : strerror(errno));
			close(mfd);
			mfd = -1;
		}
	}
	if (in >= 0)
		close(in);
	m.status = mfd >= 0 ? 0 : 1;
	log_info("SIGHUP: %s handed to the network process%s%s", gw->config_path,
		 mfd >= 0 ? "" : " as unreadable: ", mfd >= 0 ? "" : m.text);
	if (pv.fd >= 0 && priv_send(pv.fd, &m, mfd) != 0)
		log_error("SIGHUP: cannot reach the network process: %s", strerror(errno));
	if (mfd >= 0)
		close(mfd);
}

static void priv_message(void)
{
	struct priv_msg m;
	int fd;
	int r = priv_recv(pv.fd, &m, &fd);
	if (fd >= 0)
		close(fd);
	if (r == -2)
		return;
	if (r == 0) {
		close(pv.fd);
		pv.fd = -1;
		return;
	}
	if (r == 1 && fd < 0 && m.type == PRIV_STATUS && m.id[0] == '\0') {
		char state[300];
		m.text[sizeof m.text - 1] = '\0';
		if (m.status == 1) {
			/* the text is the network process's: keep it to one printable line */
			for (char *c = m.text; *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			snprintf(state, sizeof state, "READY=1\nSTATUS=%s", m.text);
			systemd_notify(state);
		} else {
			systemd_notify("WATCHDOG=1");
		}
		return;
	}
	if (r < 0 || fd >= 0 || !priv_id_ok(m.id) ||
	    (m.type != PRIV_SPAWN && m.type != PRIV_KILL && m.type != PRIV_KEEP)) {
		log_error("malformed message from the network process refused");
		return;
	}
	if (m.type == PRIV_SPAWN) {
		priv_spawn_cell(m.id, m.status);
		return;
	}
	m.text[sizeof m.text - 1] = '\0';
	for (int i = 0; i < pv.nslots; i++) {
		if (!pv.slots[i].used || strcmp(pv.slots[i].id, m.id) != 0)
			continue;
		if (m.type == PRIV_KEEP)
			priv_keep_slot(&pv.slots[i], m.text);
		else
			priv_kill_slot(&pv.slots[i]);
	}
}

/* The privileged parent's loop. Returns the exit status for the daemon. */
static int priv_loop(int sig_fd)
{
	int net_status = 0;
	bool net_gone = false;
	/* the signals, the network process, then each slot's log and OOM event */
	struct pollfd *p = calloc(2 * (size_t)pv.nslots + 2, sizeof *p);
	if (p == NULL)
		fatal("out of memory");
	while (!net_gone) {
		p[0] = (struct pollfd){ sig_fd, POLLIN, 0 };
		p[1] = (struct pollfd){ pv.fd, POLLIN, 0 };
		for (int i = 0; i < pv.nslots; i++) {
			bool used = pv.slots[i].used;
			p[2 + 2 * i] = (struct pollfd){ used ? pv.slots[i].log_fd : -1, POLLIN, 0 };
			p[3 + 2 * i] = (struct pollfd){ used ? pv.slots[i].oom_fd : -1, POLLIN, 0 };
		}
		if (poll(p, 2 * (nfds_t)pv.nslots + 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < pv.nslots; i++) {
			if (p[2 + 2 * i].revents && pv.slots[i].used)
				priv_log_read(&pv.slots[i]);
			if (p[3 + 2 * i].revents && pv.slots[i].used && pv.slots[i].oom_fd >= 0)
				priv_oom(&pv.slots[i]);
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGCHLD)
					net_gone |= priv_reap(&net_status);
				else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					systemd_notify("STOPPING=1");
					kill(pv.net_pid, (int)si.ssi_signo);
				} else if (si.ssi_signo == SIGHUP) {
					systemd_notify("RELOADING=1");
					priv_send_config();
				}
			}
		}
		if (pv.fd >= 0 && p[1].revents)
			priv_message();
	}
	free(p);
	/* The network process is gone: no cell outlives it. */
	for (int i = 0; i < pv.nslots; i++)
		if (pv.slots[i].used)
			priv_kill_slot(&pv.slots[i]);
	int status;
	pid_t pid;
	while ((pid = wait(&status)) > 0)
		if (pid == pv.net_pid)
			net_status = status;
	for (int i = 0; i < pv.nslots; i++)
		if (pv.slots[i].used && pv.slots[i].dir[0])
			session_remove_dir(pv.slots[i].dir);
	if (WIFSIGNALED(net_status)) {
		log_error("the network process was killed by signal %d", WTERMSIG(net_status));
		return 1;
	}
	return WEXITSTATUS(net_status);
}

/* ---- start-up ----------------------------------------------------------- */

/* The worker's environment: nothing of ours but sanitizer/debug knobs. */
static void priv_build_env(void)
{
	size_t ne = 0;
	snprintf(pv.env_store[ne++], sizeof pv.env_store[0], "PATH=/usr/bin:/bin");
	snprintf(pv.env_store[ne++], sizeof pv.env_store[0], "LANG=C.UTF-8");
	static const char *pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
				      "PIXELGATE_DEBUG", "TZ" };
	for (size_t i = 0; i < sizeof pass / sizeof pass[0] && ne < PRIV_ENV_MAX; i++) {
		const char *v = getenv(pass[i]);
		if (v != NULL)
			snprintf(pv.env_store[ne++], sizeof pv.env_store[0], "%s=%s", pass[i], v);
	}
	for (size_t i = 0; i < ne; i++)
		pv.envp[i] = pv.env_store[i];
	pv.envp[ne] = NULL;
}

/*
 * No subordinate id range of /etc/subuid or /etc/subgid ("name:start:count")
 * may overlap the session range: its owner could run processes with a
 * session's uid in a user namespace of their own.
 */
static int priv_check_subids(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	unsigned long long lo = (unsigned long long)gw->cfg.session_uid_base;
	unsigned long long hi = lo + (unsigned long long)gw->cfg.session_uid_count;
	char line[512];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		unsigned long long start = strtoull(c1 + 1, NULL, 10),
				   count = strtoull(c2 + 1, NULL, 10);
		if (start < hi && start + count > lo) {
			*c1 = '\0';
			snprintf(err, errlen,
				 "%s: the subordinate ids of %.64s (%llu, %llu of them) overlap the "
				 "session uids %llu..%llu; move session_uid_base",
				 path, line, start, count, lo, hi - 1);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

/* Processes left with a session uid (a parent killed without its cells): SIGKILL. */
static void priv_kill_leftovers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int killed = 0;
	uid_t lo = (uid_t)gw->cfg.session_uid_base, hi = lo + (uid_t)gw->cfg.session_uid_count;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[64], line[256];
		int pid = atoi(e->d_name);
		if (pid <= 1)
			continue;
		snprintf(path, sizeof path, "/proc/%d/status", pid);
		FILE *f = fopen(path, "re");
		unsigned ruid = 0;
		bool found = false;
		while (f != NULL && fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "Uid: %u", &ruid) == 1) {
				found = true;
				break;
			}
		if (f != NULL)
			fclose(f);
		if (found && ruid >= lo && ruid < hi && kill(pid, SIGKILL) == 0)
			killed++;
	}
	if (d != NULL)
		closedir(d);
	if (killed > 0)
		log_warn("killed %d processes left with session uids by an earlier run", killed);
}

int priv_check(bool root, char *err, size_t errlen)
{
	pv.cells = root;
	if (!root) {
		if (!gw->cfg.development_unprivileged) {
			snprintf(
			    err, errlen,
			    "pixelgate runs as uid %u, not root: it cannot give sessions a cell "
			    "of their own (a uid, namespaces, egress only through the proxy). Start "
			    "it as root (it drops to [server] user for the network side), or set "
			    "[server] development_unprivileged = on on a development machine",
			    (unsigned)getuid());
			return -1;
		}
		pv.net_uid = getuid();
		pv.net_gid = getgid();
		/* Without a cell the browser's TMPDIR is runtime_dir/session-ID/tmp
		   (session_browser.c), where Chromium makes its SingletonSocket: a
		   unix socket's path has at most 107 bytes. */
		size_t len = strlen(gw->cfg.runtime_dir);
		if (len > PRIV_DEV_RUNTIME_DIR_MAX) {
			snprintf(err, errlen,
				 "[server] runtime_dir %s has %zu characters: without cells "
				 "(development_unprivileged) Chromium's socket under "
				 "runtime_dir/session-ID/tmp would pass the 107-byte limit of a unix "
				 "socket path and no session would start; use one of at most %d",
				 gw->cfg.runtime_dir, len, PRIV_DEV_RUNTIME_DIR_MAX);
			return -1;
		}
	} else {
		struct passwd *pw = getpwnam(gw->cfg.user);
		if (pw == NULL || pw->pw_uid == 0) {
			snprintf(err, errlen,
				 "[server] user %s: %s (create it: useradd --system --no-create-home "
				 "--home-dir /nonexistent --shell /usr/sbin/nologin %s)",
				 gw->cfg.user, pw == NULL ? "no such user" : "must not be root",
				 gw->cfg.user);
			return -1;
		}
		pv.net_uid = pw->pw_uid;
		pv.net_gid = pw->pw_gid;
		for (int i = 0; i < gw->cfg.session_uid_count; i++) {
			uid_t u = (uid_t)gw->cfg.session_uid_base + (uid_t)i;
			struct passwd *p = getpwuid(u);
			struct group *g = p == NULL ? getgrgid(u) : NULL;
			if (p != NULL || g != NULL || u == pv.net_uid) {
				snprintf(
				    err, errlen,
				    "session uid %u (session_uid_base %d + %d) belongs to %s %s: the "
				    "range must be used by no account; move session_uid_base",
				    (unsigned)u, gw->cfg.session_uid_base, i, p ? "user" : "group",
				    p       ? p->pw_name
					: g ? g->gr_name
					    : gw->cfg.user);
				return -1;
			}
		}
		if (priv_check_subids("/etc/subuid", err, errlen) != 0 ||
		    priv_check_subids("/etc/subgid", err, errlen) != 0)
			return -1;
	}
	free(pv.policy_json);
	pv.policy_json = NULL;
	for (int i = 0; i < CONFIG_GROUPS_MAX; i++) {
		free(pv.group_policy_json[i]);
		pv.group_policy_json[i] = NULL;
	}
	pv.proxy_host[0] = '\0';
	if (gw->cfg.upstream_proxy[0] != '\0' &&
	    config_proxy_hostport(gw->cfg.upstream_proxy, pv.proxy_host, sizeof pv.proxy_host,
				  pv.proxy_port, sizeof pv.proxy_port) != 0) {
		snprintf(err, errlen, "upstream_proxy %s: not host:port", gw->cfg.upstream_proxy);
		return -1;
	}
	if (pv.proxy_host[0] != '\0') {
		/* resolved once: the forwarders never ask DNS (a cell could make them wait) */
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
		int rc = getaddrinfo(pv.proxy_host, pv.proxy_port, &hints, &res);
		if (rc != 0 || res == NULL || res->ai_addrlen > sizeof pv.proxy_addr) {
			snprintf(err, errlen, "upstream_proxy %s: cannot resolve %s: %s",
				 gw->cfg.upstream_proxy, pv.proxy_host,
				 rc ? gai_strerror(rc) : "no address");
			if (res != NULL)
				freeaddrinfo(res);
			return -1;
		}
		memcpy(&pv.proxy_addr, res->ai_addr, res->ai_addrlen);
		pv.proxy_addrlen = res->ai_addrlen;
		freeaddrinfo(res);
	} else if (root) {
		snprintf(err, errlen,
			 "development_direct_egress needs development_unprivileged (a non-root "
			 "start): as root every session gets a cell, and a cell's only way out is "
			 "upstream_proxy");
		return -1;
	}
	char proxy[32];
	snprintf(proxy, sizeof proxy, "127.0.0.1:%d", PRIV_EGRESS_PORT);
	if (chromium_policy_build(gw->cfg.chromium_policy, gw->cfg.url_allowlist,
				  gw->cfg.url_blocklist, root && pv.proxy_host[0] ? proxy : NULL,
				  &pv.policy_json, err, errlen) != 0)
		return -1;
	/* [group NAME] sections with URL lists of their own: a policy each */
	for (int i = 0; i < gw->cfg.n_groups; i++) {
		const struct group_policy *g = &gw->cfg.groups[i];
		if (!g->has_url_allowlist && !g->has_url_blocklist)
			continue;
		char why[400];
		if (chromium_policy_build(gw->cfg.chromium_policy,
					  g->has_url_allowlist ? g->url_allowlist
							       : gw->cfg.url_allowlist,
					  g->has_url_blocklist ? g->url_blocklist
							       : gw->cfg.url_blocklist,
					  root && pv.proxy_host[0] ? proxy : NULL,
					  &pv.group_policy_json[i], why, sizeof why) != 0) {
			snprintf(err, errlen, "[group %s]: %s", g->name, why);
			return -1;
		}
	}
	return 0;
}

uid_t priv_net_uid(void)
{
	return pv.net_uid;
}

gid_t priv_net_gid(void)
{
	return pv.net_gid;
}

int priv_split(int exe_fd, const char *exe_path, char *err, size_t errlen)
{
	pv.exe_fd = exe_fd;
	snprintf(pv.exe_path, sizeof pv.exe_path, "%s", exe_path);
	if (pv.cells) {
		pv.nslots = gw->cfg.session_uid_count;
		if (mkdir(PRIV_POLICY_DIR, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", PRIV_POLICY_DIR, strerror(errno));
			return -1;
		}
		cg_init();
		if (cg.mode == CG_NONE)
			/* what is lost: README, "Sessions and cells" */
			log_warn(
			    "sessions get no cgroup of their own (%s): their memory and process "
			    "counts are held by RLIMIT_NPROC and the worker's watchdog only, memory "
			    "no process shows (memfd) is not bounded, and their CPU use is not "
			    "weighted against each other",
			    cg.why);
		else
			log_info("each session gets a cgroup (%s: memory %d MiB, pids %d, equal CPU "
				 "weight)",
				 cg.mode == CG_V2 ? cg.v2 : "v1 memory, pids, cpu",
				 gw->cfg.session_memory_mib * 5 / 4, gw->cfg.session_max_procs);
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, PRIV_OOM_GATEWAY, strlen(PRIV_OOM_GATEWAY)) < 0)
			log_warn("oom_score_adj %s: %s", PRIV_OOM_GATEWAY, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		pv.nslots = 256;
	}
	pv.slots = calloc((size_t)pv.nslots, sizeof *pv.slots);
	if (pv.slots == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	priv_build_env();
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
		snprintf(err, errlen, "sigprocmask: %s", strerror(errno));
		return -1;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The network process: never root again, and never systemd's to notify. */
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		close(sv[0]);
		close(exe_fd);
		pv.exe_fd = -1;
		free(pv.slots);
		pv.slots = NULL;
		pv.nslots = 0;
		gw->priv_fd = sv[1];
		fcntl(gw->priv_fd, F_SETFL, O_NONBLOCK);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
			snprintf(err, errlen, "prctl: %s", strerror(errno));
			return -1;
		}
		if (pv.cells) {
			if (setgroups(1, &pv.net_gid) != 0 ||
			    setresgid(pv.net_gid, pv.net_gid, pv.net_gid) != 0 ||
			    setresuid(pv.net_uid, pv.net_uid, pv.net_uid) != 0 || setuid(0) == 0 ||
			    getuid() != pv.net_uid) {
				snprintf(err, errlen, "becoming %s: %s", gw->cfg.user,
					 strerror(errno));
				return -1;
			}
			/* setuid cleared the death signal */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
		}
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0) {
			snprintf(err, errlen, "prctl: %s", strerror(errno));
			return -1;
		}
		if (getppid() == 1) {
			snprintf(err, errlen, "the privileged parent exited during start-up");
			return -1;
		}
		return 0;
	}
	close(sv[1]);
	pv.fd = sv[0];
	pv.net_pid = pid;
	log_init("pixelgate-priv", LOG_LEVEL_INFO);
	/* a network process that stops reading must not stop us reaping and killing */
	struct timeval tv = { 1, 0 };
	if (setsockopt(pv.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		log_warn("SO_SNDTIMEO: %s", strerror(errno));
	if (pipe2(pv.life, O_CLOEXEC) != 0)
		fatal("pipe: %s", strerror(errno));
	if (pv.cells) {
		priv_kill_leftovers();
		cg_cleanup();
	}
	int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	log_info("privileged parent %d: network process %d runs as %s (uid %u)%s", (int)getpid(),
		 (int)pid, pv.cells ? gw->cfg.user : "this user", (unsigned)pv.net_uid,
		 pv.cells ? "; sessions run in cells"
			  : "; DEVELOPMENT: sessions run without cells");
	exit(priv_loop(sig_fd));
}
