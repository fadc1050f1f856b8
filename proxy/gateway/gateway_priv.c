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
#include "gateway.h"
#include "log.h"

#define PRIV_ENV_MAX 12
#define PRIV_POLICY_DIR "/etc/chromium/policies/managed"
#define PRIV_POLICY_RECOMMENDED "/etc/chromium/policies/recommended"
#define PRIV_SETUP_TIMEOUT_MS 5000
#define PRIV_OOM_CELL "800"
#define PRIV_OOM_GATEWAY "-900"
#define PRIV_NOFILE 1000 /* libvncserver select()s: every fd must stay below 1024 */
#define PRIV_CELL_EXE "/run/pixelgate-session" /* the worker binary inside a cell */
#define PRIV_LOG_LINE 2048 /* a cell's log line is cut here */
#define PRIV_LOG_RATE 50   /* lines per second a cell may log, after a burst of... */
#define PRIV_LOG_BURST 400

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
	int cell_status; /* the worker's wait status, for EXITED */
	char dir[CONFIG_PATH_MAX + 32]; /* without a cell: the host directory to remove */
	int log_fd;   /* the read end of the cell's stdout/stderr, or -1 */
	char log_buf[PRIV_LOG_LINE];
	size_t log_len;
	double log_tokens;       /* lines it may write now (PRIV_LOG_RATE per second) */
	int64_t log_refill_ms;
	unsigned long log_dropped;
};

static struct {
	int fd;                 /* to the network process */
	pid_t net_pid;
	int exe_fd;             /* pixelgate-session, opened at start */
	char exe_path[PATH_MAX]; /* where it was: bound into each cell if it is still that file */
	int life[2];            /* never written: a child sees POLLHUP once the parent died */
	bool cells;             /* root: sessions get cells */
	uid_t net_uid;
	gid_t net_gid;
	struct priv_slot *slots;
	int nslots;
	char *policy_json;      /* the policy each cell gets */
	char proxy_host[256], proxy_port[8];
	struct sockaddr_storage proxy_addr; /* upstream_proxy, resolved at start */
	socklen_t proxy_addrlen;
	char env_store[PRIV_ENV_MAX][512];
	char *envp[PRIV_ENV_MAX + 1];
} pv = { .fd = -1, .exe_fd = -1, .life = { -1, -1 } };

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
			session_exited(ids[i], SIGKILL);
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

/* ---- cgroups: a group per session where the host lets us make one ------ */

/*
 * cgroup v2 (Debian 12's default, systemd with Delegate=yes): our own group
 * holds only a leaf "pixelgate-gateway" (the no-internal-process rule) and
 * one "pixelgate-session-<id>" per cell with memory.max, memory.swap.max 0,
 * memory.oom.group 1, pids.max and cpu.weight. cgroup v1 (a hybrid host):
 * the memory, pids and cpu hierarchies each get "pixelgate-session-<id>"
 * under our group with memory.limit_in_bytes, pids.max and cpu.shares.
 * memory is a backstop a quarter above session_memory_mib (the watchdog ends
 * the session first, with a reason); it bounds what no process shows, memfd
 * pages and tmpfs included. The cell and its forwarder join the group
 * themselves before they drop root.
 */
enum { CG_NONE, CG_V1, CG_V2 };
static struct {
	int mode;
	char v2[PATH_MAX];                  /* our v2 group's directory */
	char mem[PATH_MAX], pids[PATH_MAX], cpu[PATH_MAX]; /* v1: our group in each */
	char why[200];                      /* CG_NONE: why not */
} cg;

static int cg_write(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* Our group in hierarchy `name` ("memory", "pids", "cpu"; "" = v2) from /proc/self/cgroup. */
static bool cg_own(const char *name, char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX + 64];
	bool found = false;
	while (!found && f != NULL && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1;
		bool match = name[0] == '\0' ? ctrls[0] == '\0' : false;
		for (char *save = NULL, *t = name[0] ? strtok_r((char *)ctrls, ",", &save) : NULL;
		     t != NULL; t = strtok_r(NULL, ",", &save))
			match |= strcmp(t, name) == 0;
		if (match) {
			snprintf(out, outlen, "%s", c2 + 1);
			found = true;
		}
	}
	if (f != NULL)
		fclose(f);
	return found;
}

static void cg_init(void)
{
	char own[1024], ctl[PATH_MAX + 64];
	struct stat st;
	memset(&cg, 0, sizeof cg);
	/* v2: a unified hierarchy at /sys/fs/cgroup with memory and pids */
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0 && cg_own("", own, sizeof own)) {
		snprintf(cg.v2, sizeof cg.v2, "/sys/fs/cgroup%s", strcmp(own, "/") == 0 ? "" : own);
		snprintf(ctl, sizeof ctl, "%s/cgroup.controllers", cg.v2);
		FILE *f = fopen(ctl, "re");
		char have[256] = "";
		if (f != NULL) {
			if (fgets(have, sizeof have, f) == NULL)
				have[0] = '\0';
			fclose(f);
		}
		char leaf[PATH_MAX + 32];
		snprintf(leaf, sizeof leaf, "%s/pixelgate-gateway", cg.v2);
		if (strstr(have, "memory") == NULL || strstr(have, "pids") == NULL) {
			snprintf(cg.why, sizeof cg.why,
				 "cgroup v2 at %.100s offers no memory and pids controllers (delegate "
				 "them: systemd Delegate=yes)", cg.v2);
		} else if ((mkdir(leaf, 0755) != 0 && errno != EEXIST) ||
			   cg_write(leaf, "cgroup.procs", "0") != 0 ||
			   cg_write(cg.v2, "cgroup.subtree_control",
				    strstr(have, "cpu") ? "+memory +pids +cpu" : "+memory +pids") != 0) {
			snprintf(cg.why, sizeof cg.why, "cannot use cgroup v2 at %.100s: %s", cg.v2,
				 strerror(errno));
		} else {
			cg.mode = CG_V2;
			return;
		}
		return;
	}
	/* v1: memory and pids hierarchies where we may make groups */
	char m[1024], p[1024], c[1024];
	if (!cg_own("memory", m, sizeof m) || !cg_own("pids", p, sizeof p)) {
		snprintf(cg.why, sizeof cg.why, "no cgroup v2 and no v1 memory and pids hierarchies");
		return;
	}
	snprintf(cg.mem, sizeof cg.mem, "/sys/fs/cgroup/memory%s", strcmp(m, "/") ? m : "");
	snprintf(cg.pids, sizeof cg.pids, "/sys/fs/cgroup/pids%s", strcmp(p, "/") ? p : "");
	if (cg_own("cpu", c, sizeof c))
		snprintf(cg.cpu, sizeof cg.cpu, "/sys/fs/cgroup/cpu%s", strcmp(c, "/") ? c : "");
	snprintf(ctl, sizeof ctl, "%s/pixelgate-probe", cg.mem);
	if (access(cg.mem, W_OK) != 0 || access(cg.pids, W_OK) != 0 ||
	    (mkdir(ctl, 0755) != 0 && errno != EEXIST)) {
		snprintf(cg.why, sizeof cg.why, "cannot make groups in %.70s / %.70s: %s", cg.mem,
			 cg.pids, strerror(errno));
		return;
	}
	rmdir(ctl);
	cg.mode = CG_V1;
}

/* The session's directory in hierarchy dir. */
static void cg_dir(const char *base, const char *id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/pixelgate-session-%s", base, id);
}

/* Make session id's group(s) with its limits. 0, or -1 with err. */
static int cg_create(const char *id, char *err, size_t errlen)
{
	char d[PATH_MAX + 64], v[32];
	unsigned long long mem = ((unsigned long long)gw->cfg.session_memory_mib * 5 / 4) << 20;
	const char *bases[3] = { cg.v2, NULL, NULL };
	if (cg.mode == CG_V1) {
		bases[0] = cg.mem;
		bases[1] = cg.pids;
		bases[2] = cg.cpu[0] ? cg.cpu : NULL;
	} else if (cg.mode != CG_V2) {
		return 0;
	}
	for (int i = 0; i < 3 && bases[i] != NULL; i++) {
		cg_dir(bases[i], id, d, sizeof d);
		if (mkdir(d, 0755) != 0 && errno != EEXIST)
			goto fail;
	}
	snprintf(v, sizeof v, "%llu", mem);
	if (cg.mode == CG_V2) {
		cg_dir(cg.v2, id, d, sizeof d);
		char pids[16];
		snprintf(pids, sizeof pids, "%d", gw->cfg.session_max_procs);
		if (cg_write(d, "memory.max", v) != 0 || cg_write(d, "memory.swap.max", "0") != 0 ||
		    cg_write(d, "memory.oom.group", "1") != 0 || cg_write(d, "pids.max", pids) != 0)
			goto fail;
		cg_write(d, "cpu.weight", "100"); /* equal shares: absent without the cpu controller */
		return 0;
	}
	cg_dir(cg.mem, id, d, sizeof d);
	if (cg_write(d, "memory.limit_in_bytes", v) != 0)
		goto fail;
	cg_dir(cg.pids, id, d, sizeof d);
	snprintf(v, sizeof v, "%d", gw->cfg.session_max_procs);
	if (cg_write(d, "pids.max", v) != 0)
		goto fail;
	if (cg.cpu[0]) {
		cg_dir(cg.cpu, id, d, sizeof d);
		cg_write(d, "cpu.shares", "1024");
	}
	return 0;
fail:
	snprintf(err, errlen, "cgroup %s: %s", d, strerror(errno));
	return -1;
}

/* In a cell or forwarder (root still): join session id's group(s). 0 or -1. */
static int cg_join(const char *id)
{
	char d[PATH_MAX + 64];
	const char *bases[3] = { cg.mode == CG_V2 ? cg.v2 : cg.mem, cg.mode == CG_V1 ? cg.pids : NULL,
				 cg.mode == CG_V1 && cg.cpu[0] ? cg.cpu : NULL };
	if (cg.mode == CG_NONE)
		return 0;
	for (int i = 0; i < 3 && bases[i] != NULL; i++) {
		cg_dir(bases[i], id, d, sizeof d);
		if (cg_write(d, "cgroup.procs", "0") != 0)
			return -1;
	}
	return 0;
}

/* Groups an earlier run left (its parent was killed): removed once empty. */
static void cg_cleanup(void)
{
	const char *bases[3] = { cg.mode == CG_V2 ? cg.v2 : cg.mem, cg.mode == CG_V1 ? cg.pids : NULL,
				 cg.mode == CG_V1 && cg.cpu[0] ? cg.cpu : NULL };
	if (cg.mode == CG_NONE)
		return;
	for (int i = 0; i < 3 && bases[i] != NULL; i++) {
		DIR *d = opendir(bases[i]);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "pixelgate-session-", 18) != 0)
				continue;
			char path[PATH_MAX + 300];
			snprintf(path, sizeof path, "%s/%s", bases[i], e->d_name);
			/* its processes were just killed: give them a moment to go */
			for (int tries = 0; rmdir(path) != 0 && errno == EBUSY && tries < 20; tries++)
				usleep(50 * 1000);
		}
		if (d != NULL)
			closedir(d);
	}
}

/* Remove session id's group(s) (empty once its cell and forwarder are reaped). */
static void cg_remove(const char *id)
{
	char d[PATH_MAX + 64];
	const char *bases[3] = { cg.mode == CG_V2 ? cg.v2 : cg.mem, cg.mode == CG_V1 ? cg.pids : NULL,
				 cg.mode == CG_V1 && cg.cpu[0] ? cg.cpu : NULL };
	if (cg.mode == CG_NONE)
		return;
	for (int i = 0; i < 3 && bases[i] != NULL; i++) {
		cg_dir(bases[i], id, d, sizeof d);
		if (rmdir(d) != 0 && errno != ENOENT)
			log_warn("cgroup %s: %s", d, strerror(errno));
	}
}

/* ---- the privileged parent: cells -------------------------------------- */

struct cell_args {
	int slot;
	uid_t uid;
	int ctrl;      /* the worker's control socket (becomes fd 3) */
	int pass;      /* to send the egress listening socket back */
	int errw;      /* set-up failure text; closed by a successful exec */
	int logw;      /* the cell's stdout and stderr: a pipe the parent reads */
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
	char p[2 * CONFIG_PATH_MAX + 64];
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

/* A read-only, nosuid bind of the host's src at dst (made: a directory or an empty file). */
static void cell_bind(const struct cell_args *a, const char *src, const char *dst, bool dev)
{
	struct stat st;
	if (stat(src, &st) != 0)
		cell_fail(a, src);
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0755) != 0 && errno != EEXIST)
			cell_fail(a, dst);
	} else {
		int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			cell_fail(a, dst);
		close(fd);
	}
	/* not MS_REC: a bind brings no mount below it (the host's /usr/... stays out) */
	if (mount(src, dst, "none", MS_BIND, NULL) != 0)
		cell_fail(a, src);
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID;
	if (!dev)
		flags |= MS_NODEV;
	if (mount("none", dst, "none", flags, NULL) != 0)
		cell_fail(a, dst);
}

/*
 * The cell's file system, built from an allowlist (as bubblewrap does):
 * a fresh tmpfs root holding read-only binds of /usr, /etc and the /bin,
 * /lib... links or directories; a /dev of its own with only null, zero,
 * full, random, urandom and tty; its own /proc and /sys; private tmpfs on
 * /tmp (own /tmp/.X11-unix), /dev/shm, /var/tmp, /run and the session's
 * directory; Chromium's managed-policy directory replaced. Then pivot_root
 * and the host's tree is detached: no host socket (D-Bus, journald, nscd,
 * databases), device or writable directory is reachable, and everything the
 * session writes vanishes with it.
 */
static void cell_mounts(const struct cell_args *a, const char *dir)
{
	char r[CONFIG_PATH_MAX], p[2 * CONFIG_PATH_MAX + 64];
	snprintf(r, sizeof r, "%s", gw->cfg.runtime_dir); /* an empty root-owned mount point */
#define CELL_AT(path) (snprintf(p, sizeof p, "%s%s", r, (path)), p)
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
		cell_fail(a, "making / private");
	cell_tmpfs(a, r, "0755", 4);
	static const char *const dirs[] = { "/usr", "/etc", "/proc", "/sys", "/dev", "/tmp",
					    "/var", "/var/tmp", "/var/cache", "/run", "/.old" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (mkdir(CELL_AT(dirs[i]), 0755) != 0)
			cell_fail(a, p);
	cell_bind(a, "/usr", CELL_AT("/usr"), false);
	cell_bind(a, "/etc", CELL_AT("/etc"), false);
	static const char *const tops[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
	for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
		struct stat st;
		char target[PATH_MAX];
		if (lstat(tops[i], &st) != 0)
			continue;
		if (S_ISLNK(st.st_mode)) { /* merged /usr: bin -> usr/bin */
			ssize_t n = readlink(tops[i], target, sizeof target - 1);
			if (n <= 0)
				cell_fail(a, tops[i]);
			target[n] = '\0';
			if (symlink(target, CELL_AT(tops[i])) != 0)
				cell_fail(a, p);
		} else if (S_ISDIR(st.st_mode)) {
			cell_bind(a, tops[i], CELL_AT(tops[i]), false);
		}
	}
	struct stat st;
	if (stat("/var/cache/fontconfig", &st) == 0) /* fonts start fast */
		cell_bind(a, "/var/cache/fontconfig", CELL_AT("/var/cache/fontconfig"), false);
	/* /dev: a few harmless nodes, nothing else of the host's */
	cell_tmpfs(a, CELL_AT("/dev"), "0755", 1);
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom", "tty" };
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
		char src[32], dst[CONFIG_PATH_MAX + 32];
		snprintf(src, sizeof src, "/dev/%s", devs[i]);
		snprintf(dst, sizeof dst, "%s/dev/%s", r, devs[i]);
		cell_bind(a, src, dst, true);
	}
	static const char *const links[][2] = { { "/proc/self/fd", "/dev/fd" },
						{ "/proc/self/fd/0", "/dev/stdin" },
						{ "/proc/self/fd/1", "/dev/stdout" },
						{ "/proc/self/fd/2", "/dev/stderr" } };
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlink(links[i][0], CELL_AT(links[i][1])) != 0)
			cell_fail(a, p);
	if (mkdir(CELL_AT("/dev/shm"), 01777) != 0)
		cell_fail(a, p);
	cell_tmpfs(a, CELL_AT("/dev/shm"), "1777", gw->cfg.session_tmpfs_mib);
	if (mount("proc", CELL_AT("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		cell_fail(a, "/proc");
	if (mount("sysfs", CELL_AT("/sys"), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) != 0)
		cell_fail(a, "/sys");
	cell_tmpfs(a, CELL_AT("/tmp"), "1777", gw->cfg.session_tmpfs_mib);
	if (mkdir(CELL_AT("/tmp/.X11-unix"), 01777) != 0 || chmod(p, 01777) != 0)
		cell_fail(a, "/tmp/.X11-unix");
	cell_tmpfs(a, CELL_AT("/var/tmp"), "1777", 16);
	cell_tmpfs(a, CELL_AT("/run"), "0755", 1);
	/* the worker binary, opened at start: wherever it was installed, the cell
	   runs it from here (an exec by descriptor would need the host's path) */
	struct stat was, is;
	if (fstat(pv.exe_fd, &was) != 0 || stat(pv.exe_path, &is) != 0 ||
	    was.st_dev != is.st_dev || was.st_ino != is.st_ino) {
		errno = ESTALE;
		cell_fail(a, "pixelgate-session was replaced on disk since pixelgate started "
			     "(restart pixelgate)");
	}
	cell_bind(a, pv.exe_path, CELL_AT(PRIV_CELL_EXE), false);
	/* The managed policy: exactly pixelgate's, with this cell's proxy. */
	cell_tmpfs(a, CELL_AT(PRIV_POLICY_DIR), "0755", 1);
	cell_write(a, CELL_AT(PRIV_POLICY_DIR "/pixelgate.json"), pv.policy_json, 0644);
	if (stat(PRIV_POLICY_RECOMMENDED, &st) == 0 && S_ISDIR(st.st_mode))
		cell_tmpfs(a, CELL_AT(PRIV_POLICY_RECOMMENDED), "0755", 1);
	/* runtime_dir again inside, a tmpfs of its own, with the session's directory */
	cell_mkdirs(a, CELL_AT(gw->cfg.runtime_dir));
	cell_tmpfs(a, p, "0711", gw->cfg.session_tmpfs_mib);
	if (mkdir(CELL_AT(dir), 0700) != 0 || chown(p, a->uid, a->uid) != 0)
		cell_fail(a, dir);
	/* the switch: the host's tree goes away */
	if (syscall(SYS_pivot_root, r, CELL_AT("/.old")) != 0)
		cell_fail(a, "pivot_root");
	if (chdir("/") != 0 || umount2("/.old", MNT_DETACH) != 0 || rmdir("/.old") != 0)
		cell_fail(a, "detaching the host's file systems");
	if (mount("none", "/", "none", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL) != 0)
		cell_fail(a, "making / read-only");
#undef CELL_AT
}

/* setrlimit(res, v, v); 0 or -1. */
static int priv_setrlimit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };
	if (setrlimit(res, &rl) == 0)
		return 0;
	/* valgrind (the memcheck test runs the gateway under it) keeps the hard
	   NOFILE limit for itself: the soft one still keeps fds below 1024 */
	if (errno == EPERM && res == RLIMIT_NOFILE && getrlimit(res, &rl) == 0 && rl.rlim_max >= v) {
		rl.rlim_cur = v;
		if (setrlimit(res, &rl) == 0)
			return 0;
	}
	return -1;
}

static void cell_limit(const struct cell_args *a, int res, rlim_t v, const char *what)
{
	if (priv_setrlimit(res, v) != 0)
		cell_fail(a, what);
}

/* In the cell's IPC namespace (root still): SysV shared memory bounded like its tmpfs. */
static void cell_ipc_limits(const struct cell_args *a)
{
	char v[32];
	unsigned long long bytes = (unsigned long long)gw->cfg.session_tmpfs_mib << 20;
	static const char *const keys[] = { "/proc/sys/kernel/shmmax", "/proc/sys/kernel/shmall",
					    "/proc/sys/kernel/shmmni" };
	unsigned long long vals[] = { bytes, bytes / 4096, 256 };
	for (size_t i = 0; i < 3; i++) {
		snprintf(v, sizeof v, "%llu", vals[i]);
		int fd = open(keys[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, v, strlen(v)) < 0)
			cell_fail(a, keys[i]);
		close(fd);
	}
}

/* The child: pid 1 of new namespaces, still root until it becomes the cell's uid. */
static int cell_main(void *arg)
{
	const struct cell_args *a = arg;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	close(pv.life[1]); /* only the parent holds it: its end is our sign it died */
	/* stdout and stderr go to the parent, which prefixes and sanitizes them:
	   nothing a session writes can pass for the gateway's own log lines */
	if (dup2(a->logw, STDOUT_FILENO) != STDOUT_FILENO ||
	    dup2(a->logw, STDERR_FILENO) != STDERR_FILENO)
		cell_fail(a, "log pipe");
	char dir[CONFIG_PATH_MAX + 32];
	snprintf(dir, sizeof dir, "%s/session-%s", gw->cfg.runtime_dir, a->id);
	if (pv.cells) {
		/* into the session's cgroup first: everything below is charged to it */
		if (cg_join(a->id) != 0)
			cell_fail(a, "joining the session's cgroup");
		if (sethostname("pixelgate-cell", 14) != 0)
			cell_fail(a, "hostname");
		if (a->netns)
			cell_network(a);
		cell_mounts(a, dir);
		cell_ipc_limits(a);
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
		/* no keyring shared with the parent or another cell, nothing left in
		   the uid's own keyring by the cell that had this uid before */
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 ||
		    syscall(SYS_keyctl, KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING) < 0)
			cell_fail(a, "keyrings");
	} else {
		cell_limit(a, RLIMIT_NOFILE, PRIV_NOFILE, "RLIMIT_NOFILE");
		cell_limit(a, RLIMIT_CORE, 0, "RLIMIT_CORE");
	}
	/* the death signal after the uid change (which clears it); then make
	   sure the parent did not die before it was armed */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		cell_fail(a, "prctl");
	struct pollfd life = { pv.life[0], POLLIN, 0 };
	if (poll(&life, 1, 0) != 0)
		_exit(1);
	/* fd 3: control socket; fd 4: the binary (close-on-exec); nothing else. */
	int c = fcntl(a->ctrl, F_DUPFD, 100);
	int e = fcntl(pv.exe_fd, F_DUPFD_CLOEXEC, 101);
	int w = fcntl(a->errw, F_DUPFD_CLOEXEC, 102);
	if (c < 0 || e < 0 || w < 0 || dup2(c, SESSION_CTRL_FD) != SESSION_CTRL_FD ||
	    dup2(e, SESSION_CTRL_FD + 1) != SESSION_CTRL_FD + 1 ||
	    dup2(w, SESSION_CTRL_FD + 2) != SESSION_CTRL_FD + 2 ||
	    fcntl(SESSION_CTRL_FD + 1, F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(SESSION_CTRL_FD + 2, F_SETFD, FD_CLOEXEC) != 0 ||
	    close_range(SESSION_CTRL_FD + 3, ~0U, 0) != 0)
		cell_fail(a, "descriptors");
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) != STDIN_FILENO)
		cell_fail(a, "/dev/null");
	close(devnull);
	char *const argv[] = { "pixelgate-session", NULL };
	if (pv.cells)
		execve(PRIV_CELL_EXE, argv, pv.envp);
	else
		fexecve(SESSION_CTRL_FD + 1, argv, pv.envp);
	struct cell_args b = *a;
	b.errw = SESSION_CTRL_FD + 2;
	cell_fail(&b, "exec pixelgate-session");
}

/* ---- the egress forwarder ---------------------------------------------- */

#define EGRESS_MAX_CONNS 64       /* Chromium keeps at most 32 per proxy */
#define EGRESS_BUF 16384
#define EGRESS_CONNECT_MS 10000   /* upstream_proxy must accept within this */
#define EGRESS_IDLE_MS 600000     /* a connection silent both ways this long is closed */
#define EGRESS_NOFILE (2 * EGRESS_MAX_CONNS + 16)

struct egress_half {
	char buf[EGRESS_BUF];
	size_t len, off;
	bool eof;      /* nothing more will be read from the source */
	bool shut;     /* shutdown(SHUT_WR) sent to the destination */
};

struct egress_pair {
	int cell, up;           /* -1 = free */
	bool connecting;
	bool cell_gone, up_gone; /* hung up or failed: never polled again */
	int64_t deadline_ms;    /* connect deadline, then idle deadline */
	struct egress_half to_up, to_cell;
};

static int64_t priv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
static void egress_move(int from, int to, struct egress_half *h, bool *from_gone,
			bool *to_gone, short rev_from)
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
static void __attribute__((noreturn)) egress_main(int listen_fd, int logw, uid_t uid,
						  const char *id, pid_t parent)
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
	if (dup2(logw, STDERR_FILENO) != STDERR_FILENO || dup2(logw, STDOUT_FILENO) != STDOUT_FILENO)
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
							log_error("egress of session %s: cannot reach "
								  "upstream_proxy %s:%s: %s", id,
								  pv.proxy_host, pv.proxy_port,
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
						log_error("egress of session %s: upstream_proxy %s:%s: %s",
							  id, pv.proxy_host, pv.proxy_port, strerror(errno));
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
	pid_t ppid_self = getpid();
	uid_t uid = pv.cells ? (uid_t)gw->cfg.session_uid_base + (uid_t)slot : getuid();
	bool netns = pv.cells && pv.proxy_host[0] != '\0';
	int ctrl[2] = { -1, -1 }, pass[2] = { -1, -1 }, errp[2] = { -1, -1 },
	    logp[2] = { -1, -1 }, egress_fd = -1;
	memset(ps, 0, sizeof *ps);
	ps->log_fd = -1;
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
	struct cell_args args = { .slot = slot, .uid = uid, .ctrl = ctrl[1], .pass = pass[1],
				  .errw = errp[1], .logw = logp[1], .id = id, .netns = netns };
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
	ps->log_fd = logp[0];
	logp[0] = -1;
	fcntl(ps->log_fd, F_SETFL, O_NONBLOCK);
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
				egress_main(egress_fd, logp[1], uid, id, ppid_self);
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
		n = (size_t)snprintf(out, sizeof out, "cell %s| (%lu lines dropped: more than %d a second)\n",
				     ps->id, ps->log_dropped, PRIV_LOG_RATE);
		ps->log_dropped = 0;
		if (write(STDERR_FILENO, out, n) < 0)
			return;
	}
	n = (size_t)snprintf(out, sizeof out, "cell %s| ", ps->id);
	for (size_t i = 0; i < len && n < sizeof out - 2; i++) {
		unsigned char ch = (unsigned char)line[i];
		out[n++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : (char)ch;
	}
	out[n++] = '\n';
	if (write(STDERR_FILENO, out, n) < 0)
		return;
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
	if (ps->dir[0])
		session_remove_dir(ps->dir);
	if (pv.cells)
		cg_remove(ps->id);
	struct priv_msg m = { .type = PRIV_EXITED, .status = ps->cell_status };
	snprintf(m.id, sizeof m.id, "%s", ps->id);
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
			if (ps->cell == 0 && ps->egress == 0)
				priv_slot_done(ps);
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
	struct pollfd *p = calloc((size_t)pv.nslots + 2, sizeof *p);
	if (p == NULL)
		fatal("out of memory");
	while (!net_gone) {
		p[0] = (struct pollfd){ sig_fd, POLLIN, 0 };
		p[1] = (struct pollfd){ pv.fd, POLLIN, 0 };
		for (int i = 0; i < pv.nslots; i++)
			p[2 + i] = (struct pollfd){ pv.slots[i].used ? pv.slots[i].log_fd : -1, POLLIN,
						    0 };
		if (poll(p, (nfds_t)pv.nslots + 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < pv.nslots; i++)
			if (p[2 + i].revents && pv.slots[i].used)
				priv_log_read(&pv.slots[i]);
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
		if (priv_check_subids("/etc/subuid", err, errlen) != 0 ||
		    priv_check_subids("/etc/subgid", err, errlen) != 0)
			return -1;
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
			log_warn("sessions get no cgroup of their own (%s): their memory and process "
				 "counts are held by RLIMIT_NPROC and the worker's watchdog only, memory "
				 "no process shows (memfd) is not bounded, and their CPU use is not "
				 "weighted against each other", cg.why);
		else
			log_info("each session gets a cgroup (%s: memory %d MiB, pids %d, equal CPU "
				 "weight)", cg.mode == CG_V2 ? cg.v2 : "v1 memory, pids, cpu",
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
		 pv.cells ? "; sessions run in cells" : "; DEVELOPMENT: sessions run without cells");
	exit(priv_loop(sig_fd));
}
