/*
 * gateway_cell.c: a session's cell, set up by its first process (cloned by
 * the privileged parent into new namespaces, root until it execs the worker
 * as the cell's uid). See gateway_priv.c for what a cell is.
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

/* ---- the privileged parent: cells -------------------------------------- */

/* In the cell: report a failed step and leave. */
static void __attribute__((noreturn)) cell_fail(const struct cell_args *a, const char *what)
{
	char msg[200];
	int n = snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
	if (n > 0 &&
	    write(a->errw, msg, (size_t)(n < (int)sizeof msg ? n : (int)sizeof msg - 1)) < 0)
		_exit(125);
	_exit(126);
}

static void cell_tmpfs(const struct cell_args *a, const char *path, const char *mode, int size_mib)
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
	static const char *const dirs[] = { "/usr",       "/etc", "/proc", "/sys",
					    "/dev",       "/tmp", "/var",  "/var/tmp",
					    "/var/cache", "/run", "/.old" };
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
	if (fstat(pv.exe_fd, &was) != 0 || stat(pv.exe_path, &is) != 0 || was.st_dev != is.st_dev ||
	    was.st_ino != is.st_ino) {
		errno = ESTALE;
		cell_fail(a,
			  "pixelgate-session was replaced on disk since pixelgate started "
			  "(restart pixelgate)");
	}
	cell_bind(a, pv.exe_path, CELL_AT(PRIV_CELL_EXE), false);
	/* The managed policy: exactly pixelgate's, with this cell's proxy. */
	cell_tmpfs(a, CELL_AT(PRIV_POLICY_DIR), "0755", 1);
	cell_write(a, CELL_AT(PRIV_POLICY_DIR "/pixelgate.json"), a->policy_json, 0644);
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
int cell_main(void *arg)
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
