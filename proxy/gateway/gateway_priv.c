/*
 * gateway_priv.c: privilege separation (the OpenBSD httpd/relayd pattern).
 *
 * pixelgate starts as root, reads its configuration, then forks:
 *
 *   privileged parent (this file, root, no network, no secrets)
 *     - creates a session's cell and starts the worker in it;
 *     - kills a cell when asked, reaps cells and tells the network process;
 *     - forwards SIGTERM/SIGINT to the network process and exits with it.
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
 */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chromium_policy.h"
#include "gateway.h"
#include "log.h"

#define PRIV_ENV_MAX 12
#define PRIV_POLICY_DIR "/etc/chromium/policies/managed"
#define PRIV_POLICY_RECOMMENDED "/etc/chromium/policies/recommended"
#define PRIV_SETUP_TIMEOUT_MS 5000
#define PRIV_OOM_CELL "800"
#define PRIV_OOM_GATEWAY "-900"
#define PRIV_NOFILE 1000 /* libvncserver select()s: every fd must stay below 1024 */

enum priv_type {
	PRIV_SPAWN = 1, /* net -> priv: start a cell for session id */
	PRIV_KILL,      /* net -> priv: SIGKILL session id's cell */
	PRIV_SPAWNED,   /* priv -> net: pid, uid, control socket attached; or text = error */
	PRIV_EXITED,    /* priv -> net: the cell's worker exited with wait status */
};

struct priv_msg {
	uint32_t type;
	int32_t pid;
	int32_t status; /* EXITED: wait status; SPAWNED: 0 ok, else failed */
	uint32_t uid;
	char id[24];    /* 16 lowercase hex digits + NUL */
	char text[200]; /* SPAWNED failure: why, for the log and the viewer */
};

/* One uid of the range: which session holds it, and its processes. */
struct priv_slot {
	bool used;
	char id[24];
	pid_t cell;   /* the worker, pid 1 of the cell; 0 once reaped */
	pid_t egress; /* the egress forwarder; 0 once reaped or none */
	char dir[CONFIG_PATH_MAX + 32]; /* without a cell: the host directory to remove */
};

static struct {
	int fd;                 /* to the network process */
	pid_t net_pid;
	int exe_fd;             /* pixelgate-session, opened at start */
	bool cells;             /* root: sessions get cells */
	uid_t net_uid;
	gid_t net_gid;
	struct priv_slot *slots;
	int nslots;
	char *policy_json;      /* the policy each cell gets */
	char proxy_host[256], proxy_port[8];
	char env_store[PRIV_ENV_MAX][512];
	char *envp[PRIV_ENV_MAX + 1];
} pv = { .fd = -1, .exe_fd = -1 };

/* ---- messages ---------------------------------------------------------- */

static bool priv_id_ok(const char *id)
{
	return strnlen(id, sizeof((struct priv_msg *)0)->id) == 16 &&
	       strspn(id, "0123456789abcdef") == 16;
}

static int priv_send(int sock, const struct priv_msg *m, int fd)
{
	struct iovec iov = { (void *)m, sizeof *m };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof u.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *m ? 0 : -1;
}

/* One message: 1, 0 on EOF, -1 on a malformed one (any passed fd is in *fd). */
static int priv_recv(int sock, struct priv_msg *m, int *fd)
{
	struct iovec iov = { m, sizeof *m };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof u.buf };
	*fd = -1;
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (*fd < 0)
				*fd = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EAGAIN ? -2 : -1;
	if (n != (ssize_t)sizeof *m || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	m->id[sizeof m->id - 1] = '\0';
	m->text[sizeof m->text - 1] = '\0';
	return 1;
}

/* ---- the network process's side ----------------------------------------- */

bool priv_cells(void)
{
	return pv.cells;
}

int priv_spawn(const char *id)
{
	struct priv_msg m = { .type = PRIV_SPAWN };
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

int priv_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	(void)wsi;
	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
		log_error("the privileged parent is gone: no session can start or be ended; "
			  "shutting down");
		gw->priv_fd = -1;
		kill(getpid(), SIGTERM);
		return 0;
	}
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	for (int i = 0; i < 64; i++) {
		struct priv_msg m;
		int fd;
		int r = priv_recv(gw->priv_fd, &m, &fd);
		if (r == -2)
			return 0;
		if (r == 0)
			return -1;
		if (r < 0 || !priv_id_ok(m.id) ||
		    (m.type != PRIV_SPAWNED && m.type != PRIV_EXITED) ||
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
		else
			session_exited(m.id, m.status);
	}
	return 0;
}

/* ---- the privileged parent: cells -------------------------------------- */

struct cell_args {
	int slot;
	uid_t uid;
	int ctrl;      /* the worker's control socket (becomes fd 3) */
	int pass;      /* to send the egress listening socket back */
	int errw;      /* set-up failure text; closed by a successful exec */
	const char *id;
	bool netns;
};

/* In the cell: report a failed step and leave. */
static void __attribute__((noreturn)) cell_fail(const struct cell_args *a, const char *what)
{
	char msg[200];
	int n = snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
	if (n > 0 && write(a->errw, msg, (size_t)(n < (int)sizeof msg ? n : (int)sizeof msg - 1)) < 0)
		_exit(125);
	_exit(126);
}

static void cell_tmpfs(const struct cell_args *a, const char *path, const char *mode,
		       int size_mib)
{
	char opts[96];
	snprintf(opts, sizeof opts, "mode=%s,size=%dm,nr_inodes=65536", mode, size_mib);
	if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
		cell_fail(a, path);
}

/* mkdir -p for dirs inside a fresh tmpfs (root, 0711). */
static void cell_mkdirs(const struct cell_args *a, const char *path)
{
	char p[CONFIG_PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0711) != 0 && errno != EEXIST)
			cell_fail(a, p);
		*s = '/';
	}
	if (mkdir(p, 0711) != 0 && errno != EEXIST)
		cell_fail(a, p);
}

/* Loopback up, and the egress port on it; the socket goes to the parent. */
static void cell_network(const struct cell_args *a)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		cell_fail(a, "loopback");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		cell_fail(a, "loopback up");
	close(s);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PRIV_EGRESS_PORT) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(l, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(l, 128) != 0)
		cell_fail(a, "egress socket");
	struct priv_msg m = { .type = PRIV_SPAWNED };
	if (priv_send(a->pass, &m, l) != 0)
		cell_fail(a, "passing the egress socket");
	close(l);
}

static void cell_write(const struct cell_args *a, const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0)
		cell_fail(a, path);
}

/*
 * Without mount_setattr(): every mount of /proc/self/mountinfo remounted
 * read-only and nosuid, one by one (bind remounts keep each mount's other
 * flags). "/" must succeed; a mount that refuses (an autofs trigger, one that
 * vanished) is left, read-only "/" covers what matters.
 */
static void cell_readonly_each(const struct cell_args *a)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		cell_fail(a, "/proc/self/mountinfo");
	char line[4096];
	while (fgets(line, sizeof line, f) != NULL) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... */
		char mp[PATH_MAX], opts[512];
		char *fields[6] = { 0 };
		char *save = NULL, *t = strtok_r(line, " ", &save);
		for (int i = 0; t != NULL && i < 6; i++, t = strtok_r(NULL, " ", &save))
			fields[i] = t;
		if (fields[5] == NULL)
			continue;
		/* unescape \040 (space) and friends */
		size_t j = 0;
		for (const char *p = fields[4]; *p && j + 1 < sizeof mp; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
				mp[j++] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else {
				mp[j++] = *p;
			}
		}
		mp[j] = '\0';
		snprintf(opts, sizeof opts, ",%s,", fields[5]);
		unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID;
		if (strstr(opts, ",nodev,"))
			flags |= MS_NODEV;
		if (strstr(opts, ",noexec,"))
			flags |= MS_NOEXEC;
		if (strstr(opts, ",noatime,"))
			flags |= MS_NOATIME;
		if (strstr(opts, ",nodiratime,"))
			flags |= MS_NODIRATIME;
		if (strstr(opts, ",relatime,"))
			flags |= MS_RELATIME;
		/* source and type are ignored by a remount ("none": valgrind wants strings) */
		if (mount("none", mp, "none", flags, NULL) != 0 && strcmp(mp, "/") == 0) {
			fclose(f);
			cell_fail(a, "making / read-only");
		}
	}
	fclose(f);
}

/* The cell's file system: host read-only, private tmpfs where anything writes. */
static void cell_mounts(const struct cell_args *a, const char *dir)
{
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
		cell_fail(a, "making / private");
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof attr) != 0) {
		if (errno != ENOSYS)
			cell_fail(a, "making the host's file systems read-only");
		cell_readonly_each(a); /* kernels before 5.12, valgrind */
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		cell_fail(a, "/proc");
	cell_tmpfs(a, "/tmp", "1777", gw->cfg.session_tmpfs_mib);
	if (mkdir("/tmp/.X11-unix", 01777) != 0 || chmod("/tmp/.X11-unix", 01777) != 0)
		cell_fail(a, "/tmp/.X11-unix");
	cell_tmpfs(a, "/dev/shm", "1777", gw->cfg.session_tmpfs_mib);
	struct stat st;
	if (stat("/var/tmp", &st) == 0 && S_ISDIR(st.st_mode))
		cell_tmpfs(a, "/var/tmp", "1777", 16);
	/* The managed policy: exactly pixelgate's, with this cell's proxy. */
	cell_tmpfs(a, PRIV_POLICY_DIR, "0755", 1);
	cell_write(a, PRIV_POLICY_DIR "/pixelgate.json", pv.policy_json, 0644);
	if (stat(PRIV_POLICY_RECOMMENDED, &st) == 0 && S_ISDIR(st.st_mode))
		cell_tmpfs(a, PRIV_POLICY_RECOMMENDED, "0755", 1);
	/* runtime_dir: under /tmp it is now inside the cell's /tmp; elsewhere a
	   tmpfs of its own hides the host's (and so every other session's). */
	const char *rt = gw->cfg.runtime_dir;
	if (strncmp(rt, "/tmp/", 5) == 0)
		cell_mkdirs(a, rt);
	else
		cell_tmpfs(a, rt, "0711", gw->cfg.session_tmpfs_mib);
	if (mkdir(dir, 0700) != 0 || chown(dir, a->uid, a->uid) != 0)
		cell_fail(a, dir);
	if (chdir("/") != 0)
		cell_fail(a, "chdir /");
}

static void cell_limit(const struct cell_args *a, int res, rlim_t v, const char *what)
{
	struct rlimit rl = { v, v };
	if (setrlimit(res, &rl) == 0)
		return;
	/* valgrind (the memcheck test runs the gateway under it) keeps the hard
	   NOFILE limit for itself: the soft one still keeps fds below 1024 */
	if (errno == EPERM && res == RLIMIT_NOFILE && getrlimit(res, &rl) == 0 && rl.rlim_max >= v) {
		rl.rlim_cur = v;
		if (setrlimit(res, &rl) == 0)
			return;
	}
	cell_fail(a, what);
}

/* The child: pid 1 of new namespaces, still root until it becomes the cell's uid. */
static int cell_main(void *arg)
{
	const struct cell_args *a = arg;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	char dir[CONFIG_PATH_MAX + 32];
	snprintf(dir, sizeof dir, "%s/session-%s", gw->cfg.runtime_dir, a->id);
	if (pv.cells) {
		if (sethostname("pixelgate-cell", 14) != 0)
			cell_fail(a, "hostname");
		if (a->netns)
			cell_network(a);
		cell_mounts(a, dir);
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, PRIV_OOM_CELL, strlen(PRIV_OOM_CELL)) < 0)
			cell_fail(a, "oom_score_adj");
		close(fd);
		cell_limit(a, RLIMIT_NOFILE, PRIV_NOFILE, "RLIMIT_NOFILE");
		cell_limit(a, RLIMIT_NPROC, (rlim_t)gw->cfg.session_max_procs, "RLIMIT_NPROC");
		cell_limit(a, RLIMIT_CORE, 0, "RLIMIT_CORE");
		if (setgroups(0, NULL) != 0 || setresgid(a->uid, a->uid, a->uid) != 0 ||
		    setresuid(a->uid, a->uid, a->uid) != 0)
			cell_fail(a, "becoming the session's uid");
		if (getuid() != a->uid || geteuid() != a->uid || setuid(0) == 0)
			cell_fail(a, "dropping root");
	} else {
		cell_limit(a, RLIMIT_NOFILE, PRIV_NOFILE, "RLIMIT_NOFILE");
		cell_limit(a, RLIMIT_CORE, 0, "RLIMIT_CORE");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		cell_fail(a, "prctl");
	/* fd 3: control socket; fd 4: the binary (close-on-exec); nothing else. */
	int c = fcntl(a->ctrl, F_DUPFD, 100);
	int e = fcntl(pv.exe_fd, F_DUPFD_CLOEXEC, 101);
	int w = fcntl(a->errw, F_DUPFD_CLOEXEC, 102);
	if (c < 0 || e < 0 || w < 0 || dup2(c, SESSION_CTRL_FD) != SESSION_CTRL_FD ||
	    dup2(e, SESSION_CTRL_FD + 1) != SESSION_CTRL_FD + 1 ||
	    dup2(w, SESSION_CTRL_FD + 2) != SESSION_CTRL_FD + 2)
		cell_fail(a, "descriptors");
	fcntl(SESSION_CTRL_FD + 1, F_SETFD, FD_CLOEXEC);
	fcntl(SESSION_CTRL_FD + 2, F_SETFD, FD_CLOEXEC);
	close_range(SESSION_CTRL_FD + 3, ~0U, 0);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0 && devnull != STDIN_FILENO) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	char *const argv[] = { "pixelgate-session", NULL };
	fexecve(SESSION_CTRL_FD + 1, argv, pv.envp);
	struct cell_args b = *a;
	b.errw = SESSION_CTRL_FD + 2;
	cell_fail(&b, "exec pixelgate-session");
}

/* ---- the egress forwarder ---------------------------------------------- */

#define EGRESS_MAX_CONNS 128
#define EGRESS_BUF 16384

struct egress_half {
	char buf[EGRESS_BUF];
	size_t len, off;
	bool eof;      /* the reading side is done */
	bool shut;     /* shutdown(SHUT_WR) sent to the writing side */
};

struct egress_pair {
	int cell, up;           /* -1 = free */
	bool connecting;
	struct egress_half to_up, to_cell;
};

static int egress_connect(const char *id)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int rc = getaddrinfo(pv.proxy_host, pv.proxy_port, &hints, &res);
	if (rc != 0) {
		log_error("egress of session %s: upstream_proxy %s:%s: %s", id, pv.proxy_host,
			  pv.proxy_port, gai_strerror(rc));
		return -1;
	}
	int s = -1;
	for (struct addrinfo *ai = res; ai != NULL && s < 0; ai = ai->ai_next) {
		s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, ai->ai_addr, ai->ai_addrlen) != 0 &&
		    errno != EINPROGRESS) {
			close(s);
			s = -1;
		}
	}
	freeaddrinfo(res);
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

/* Move bytes from -> to through h. false: the pair is done (or broken). */
static bool egress_move(int from, int to, struct egress_half *h, short rev_from, short rev_to)
{
	if (h->len == 0 && !h->eof && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(from, h->buf, sizeof h->buf);
		if (n > 0) {
			h->len = (size_t)n;
			h->off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			h->eof = true;
			if (n < 0)
				return false;
		}
	}
	if (h->len > 0 && (rev_to & POLLOUT || h->off == 0)) {
		ssize_t n = send(to, h->buf + h->off, h->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			h->off += (size_t)n;
			h->len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return false;
		}
	}
	if (h->eof && h->len == 0 && !h->shut) {
		shutdown(to, SHUT_WR);
		h->shut = true;
	}
	return true;
}

/* The forwarder's life: accept in the cell, connect to the proxy, copy. */
static void __attribute__((noreturn)) egress_main(int listen_fd, uid_t uid, const char *id)
{
	log_init("pixelgate-egress", LOG_LEVEL_INFO);
	prctl(PR_SET_NAME, "pg-egress", 0, 0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || setgroups(0, NULL) != 0 ||
	    setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0 || setuid(0) == 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0) {
		log_error("egress of session %s: dropping privileges: %s", id, strerror(errno));
		_exit(1);
	}
	int l = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
	if (l != 3 && (dup2(l, 3) != 3 || fcntl(3, F_SETFD, FD_CLOEXEC) != 0))
		_exit(1);
	close_range(4, ~0U, 0);
	fcntl(3, F_SETFL, O_NONBLOCK);
	static struct egress_pair pairs[EGRESS_MAX_CONNS];
	for (int i = 0; i < EGRESS_MAX_CONNS; i++)
		pairs[i].cell = pairs[i].up = -1;
	struct pollfd pfd[1 + 2 * EGRESS_MAX_CONNS];
	int refused_logged = 0;
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
			pfd[n++] = (struct pollfd){ p->cell, ec, 0 };
			pfd[n++] = (struct pollfd){ p->up, eu, 0 };
		}
		if (used == EGRESS_MAX_CONNS)
			pfd[0].events = 0; /* full: the kernel's backlog holds the rest */
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			_exit(1);
		int k = 1;
		for (int i = 0; i < EGRESS_MAX_CONNS; i++) {
			struct egress_pair *p = &pairs[i];
			if (p->cell < 0)
				continue;
			short rc = pfd[k].revents, ru = pfd[k + 1].revents;
			k += 2;
			if (p->connecting) {
				if (!ru)
					continue;
				int err = 0;
				socklen_t el = sizeof err;
				getsockopt(p->up, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err != 0) {
					if (refused_logged++ < 5)
						log_error("egress of session %s: cannot reach upstream_proxy "
							  "%s:%s: %s", id, pv.proxy_host, pv.proxy_port,
							  strerror(err));
					egress_close(p);
					continue;
				}
				p->connecting = false;
				continue;
			}
			bool ok = egress_move(p->cell, p->up, &p->to_up, rc, ru) &&
				  egress_move(p->up, p->cell, &p->to_cell, ru, rc);
			if (!ok || (p->to_up.eof && p->to_cell.eof && p->to_up.len == 0 &&
				    p->to_cell.len == 0))
				egress_close(p);
		}
		if (pfd[0].revents & POLLIN) {
			for (int i = 0; i < EGRESS_MAX_CONNS; i++) {
				if (pairs[i].cell >= 0)
					continue;
				int c = accept4(3, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (c < 0)
					break;
				int u = egress_connect(id);
				if (u < 0) {
					close(c);
					continue;
				}
				memset(&pairs[i], 0, sizeof pairs[i]);
				pairs[i].cell = c;
				pairs[i].up = u;
				pairs[i].connecting = true;
			}
		}
	}
}

/* ---- the privileged parent: spawning and reaping ------------------------ */

static void priv_reply_fail(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
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

static void priv_spawn_cell(const char *id)
{
	int slot = -1;
	for (int i = 0; i < pv.nslots; i++) {
		if (pv.slots[i].used && strcmp(pv.slots[i].id, id) == 0) {
			priv_reply_fail(id, "session id already in use");
			return;
		}
		if (!pv.slots[i].used && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		priv_reply_fail(id, "no free session uid: all %d (session_uid_count) are in use",
				pv.nslots);
		return;
	}
	struct priv_slot *ps = &pv.slots[slot];
	uid_t uid = pv.cells ? (uid_t)gw->cfg.session_uid_base + (uid_t)slot : getuid();
	bool netns = pv.cells && pv.proxy_host[0] != '\0';
	int ctrl[2] = { -1, -1 }, pass[2] = { -1, -1 }, errp[2] = { -1, -1 }, egress_fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctrl) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pass) != 0 ||
	    pipe2(errp, O_CLOEXEC) != 0) {
		priv_reply_fail(id, "socketpair: %s", strerror(errno));
		goto out;
	}
	memset(ps, 0, sizeof *ps);
	snprintf(ps->id, sizeof ps->id, "%s", id);
	if (!pv.cells) {
		snprintf(ps->dir, sizeof ps->dir, "%s/session-%s", gw->cfg.runtime_dir, id);
		if (mkdir(ps->dir, 0700) != 0) {
			priv_reply_fail(id, "mkdir %s: %s", ps->dir, strerror(errno));
			ps->dir[0] = '\0';
			goto out;
		}
	}
	struct cell_args args = { slot, uid, ctrl[1], pass[1], errp[1], id, netns };
	int flags = SIGCHLD;
	if (pv.cells)
		flags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
			 (netns ? CLONE_NEWNET : 0);
	pid_t pid = clone(cell_main, priv_stack + sizeof priv_stack, flags, &args);
	if (pid < 0) {
		priv_reply_fail(id, "cannot create the session's cell (clone: %s)", strerror(errno));
		if (ps->dir[0])
			session_remove_dir(ps->dir);
		goto out;
	}
	ps->used = true;
	ps->cell = pid;
	close(ctrl[1]);
	close(pass[1]);
	close(errp[1]);
	ctrl[1] = pass[1] = errp[1] = -1;
	if (netns) {
		struct pollfd p = { pass[0], POLLIN, 0 };
		struct priv_msg m;
		if (poll(&p, 1, PRIV_SETUP_TIMEOUT_MS) > 0 && priv_recv(pass[0], &m, &egress_fd) == 1 &&
		    egress_fd >= 0) {
			pid_t e = fork();
			if (e == 0)
				egress_main(egress_fd, uid, id);
			if (e > 0)
				ps->egress = e;
		}
		if (ps->egress <= 0) {
			kill(pid, SIGKILL);
			char why[200];
			priv_read_setup(errp[0], why, sizeof why);
			priv_reply_fail(id, "cannot start the session's egress forwarder%s%s",
					why[0] ? ": " : "", why);
			goto out;
		}
	}
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
	}
	if (egress_fd >= 0)
		close(egress_fd);
}

static void priv_kill_slot(struct priv_slot *ps)
{
	if (ps->cell > 0)
		kill(ps->cell, SIGKILL);
	if (ps->egress > 0)
		kill(ps->egress, SIGKILL);
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
				if (ps->egress > 0)
					kill(ps->egress, SIGKILL);
				struct priv_msg m = { .type = PRIV_EXITED, .pid = pid, .status = status };
				snprintf(m.id, sizeof m.id, "%s", ps->id);
				if (pv.fd >= 0)
					priv_send(pv.fd, &m, -1);
			} else if (ps->egress == pid) {
				ps->egress = 0;
				if (ps->cell > 0) {
					log_error("session %s: the egress forwarder exited; ending the "
						  "session", ps->id);
					kill(ps->cell, SIGKILL);
				}
			} else {
				continue;
			}
			if (ps->cell == 0 && ps->egress == 0) {
				if (ps->dir[0])
					session_remove_dir(ps->dir);
				ps->used = false; /* the uid is free: nothing of the cell is left */
			}
			break;
		}
	}
	return net_gone;
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
	if (r < 0 || fd >= 0 || !priv_id_ok(m.id) || (m.type != PRIV_SPAWN && m.type != PRIV_KILL)) {
		log_error("malformed message from the network process refused");
		return;
	}
	if (m.type == PRIV_SPAWN) {
		priv_spawn_cell(m.id);
		return;
	}
	for (int i = 0; i < pv.nslots; i++)
		if (pv.slots[i].used && strcmp(pv.slots[i].id, m.id) == 0)
			priv_kill_slot(&pv.slots[i]);
}

/* The privileged parent's loop. Returns the exit status for the daemon. */
static int priv_loop(int sig_fd)
{
	int net_status = 0;
	bool net_gone = false;
	while (!net_gone) {
		struct pollfd p[2] = { { sig_fd, POLLIN, 0 }, { pv.fd, POLLIN, 0 } };
		if (poll(p, pv.fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			struct signalfd_siginfo si;
			while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGCHLD)
					net_gone |= priv_reap(&net_status);
				else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					kill(pv.net_pid, (int)si.ssi_signo);
			}
		}
		if (pv.fd >= 0 && p[1].revents)
			priv_message();
	}
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

int priv_check(bool root, char *err, size_t errlen)
{
	pv.cells = root;
	if (!root) {
		if (!gw->cfg.development_unprivileged) {
			snprintf(err, errlen,
				 "pixelgate runs as uid %u, not root: it cannot give sessions a cell "
				 "of their own (a uid, namespaces, egress only through the proxy). Start "
				 "it as root (it drops to [server] user for the network side), or set "
				 "[server] development_unprivileged = on on a development machine",
				 (unsigned)getuid());
			return -1;
		}
		pv.net_uid = getuid();
		pv.net_gid = getgid();
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
				snprintf(err, errlen,
					 "session uid %u (session_uid_base %d + %d) belongs to %s %s: the "
					 "range must be used by no account; move session_uid_base",
					 (unsigned)u, gw->cfg.session_uid_base, i,
					 p ? "user" : "group", p ? p->pw_name : g ? g->gr_name : gw->cfg.user);
				return -1;
			}
		}
	}
	free(pv.policy_json);
	pv.policy_json = NULL;
	pv.proxy_host[0] = '\0';
	if (gw->cfg.upstream_proxy[0] != '\0' &&
	    config_proxy_hostport(gw->cfg.upstream_proxy, pv.proxy_host, sizeof pv.proxy_host,
				  pv.proxy_port, sizeof pv.proxy_port) != 0) {
		snprintf(err, errlen, "upstream_proxy %s: not host:port", gw->cfg.upstream_proxy);
		return -1;
	}
	char proxy[32];
	snprintf(proxy, sizeof proxy, "127.0.0.1:%d", PRIV_EGRESS_PORT);
	return chromium_policy_build(gw->cfg.chromium_policy, gw->cfg.url_allowlist,
				     gw->cfg.url_blocklist,
				     root && pv.proxy_host[0] ? proxy : NULL, &pv.policy_json, err,
				     errlen);
}

uid_t priv_net_uid(void)
{
	return pv.net_uid;
}

gid_t priv_net_gid(void)
{
	return pv.net_gid;
}

int priv_split(int exe_fd, char *err, size_t errlen)
{
	pv.exe_fd = exe_fd;
	if (pv.cells) {
		pv.nslots = gw->cfg.session_uid_count;
		if (mkdir(PRIV_POLICY_DIR, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", PRIV_POLICY_DIR, strerror(errno));
			return -1;
		}
		/* What a delegated cgroup would add is not there (README: Sessions and cells). */
		log_warn("sessions get no cgroup of their own: their memory and process counts are "
			 "held by RLIMIT_NPROC and the worker's watchdog (session_memory_mib, "
			 "session_max_procs), but their CPU use is not weighted against each other");
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
		/* The network process: never root again. */
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
				snprintf(err, errlen, "becoming %s: %s", gw->cfg.user, strerror(errno));
				return -1;
			}
			/* setuid cleared the death signal */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
		}
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_DUMPABLE, 0) != 0) {
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
	int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	log_info("privileged parent %d: network process %d runs as %s (uid %u)%s", (int)getpid(),
		 (int)pid, pv.cells ? gw->cfg.user : "this user", (unsigned)pv.net_uid,
		 pv.cells ? "; sessions run in cells" : "; DEVELOPMENT: sessions run without cells");
	exit(priv_loop(sig_fd));
}
