/*
 * gateway_forensics.c: the privileged parent keeps a session's directory
 * after the browser side broke the RFB allow-list (PRIV_KEEP).
 *
 * On KEEP the parent opens the session's directory as an O_PATH descriptor
 * (in a cell: /proc/<cell>/root, then runtime_dir/session-<id> with openat2
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) and kills
 * the cell at once: the hostile side gets no grace period to tidy up. The
 * descriptor keeps the cell's private tmpfs alive after its mount namespace
 * is gone, and once the cell is reaped nothing of it runs any more: the copy
 * sees the directory as it was when the session was killed. A child then
 * copies it (forensics.c: no link followed, regular files only, capped at
 * forensics_max_mib, FORENSICS_TIMEOUT_S at most), reading as root and
 * writing as the gateway's user into forensics_dir/session-<id>/, and hands
 * its one-line result back; the slot (and its uid) is freed after the copy,
 * and the result goes to the network process in PRIV_EXITED's text, which
 * audits it (forensics_kept / forensics_failed). Without cells (development)
 * the directory is the host's runtime_dir/session-<id>, and the browser's
 * processes may still be exiting while it is copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forensics.h"
#include "gateway_priv.h"
#include "log.h"

#define FORENSICS_TIMEOUT_S 60 /* the copier is killed (SIGALRM) past this */
#define KEEP_BURST 4           /* copies at once; then one more per KEEP_REFILL_S */
#define KEEP_REFILL_S 60
#define KEEP_FREE_MIN (64ull << 20) /* free bytes left after a copy of forensics_max_mib */

static double keep_tokens = KEEP_BURST;
static int64_t keep_refill_ms;

static void keep_fail(struct priv_slot *ps, const char *fmt, ...)
    __attribute__((format(__printf__, 2, 3)));

static void keep_fail(struct priv_slot *ps, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	log_error("session %s: its directory cannot be kept for forensics: %s", ps->id, why);
	forensics_error_line(ps->kept, sizeof ps->kept, why);
}

/* The uid a slot's cell runs as. */
static uid_t keep_uid(const struct priv_slot *ps)
{
	return (uid_t)gw->cfg.session_uid_base + (uid_t)(ps - pv.slots);
}

/* The session's directory, O_PATH, or -1 (errno set). */
static int keep_open(const struct priv_slot *ps)
{
	char rel[CONFIG_PATH_MAX + 32];
	if (!pv.cells)
		return open(ps->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char root[48];
	snprintf(root, sizeof root, "/proc/%d/root", (int)ps->cell);
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -1;
	/* runtime_dir is absolute (config.c); inside the cell it is the same path */
	snprintf(rel, sizeof rel, "%s/session-%s", gw->cfg.runtime_dir + 1, ps->id);
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
				    RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, rfd, rel, &how, sizeof how);
	int saved = errno;
	close(rfd);
	if (fd < 0) {
		errno = saved;
		return -1;
	}
	/* The cell's pid 1 could have mounted something else there (in a user
	   namespace of its own): only a tmpfs directory of the session's uid is
	   its directory (reading as that uid is the real bound, see the copier) */
	struct statfs sfs;
	struct stat st;
	if (fstatfs(fd, &sfs) != 0 || sfs.f_type != TMPFS_MAGIC || fstat(fd, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != keep_uid(ps)) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

void priv_keep_slot(struct priv_slot *ps, const char *text)
{
	if (ps->keep_asked)
		return;
	ps->keep_asked = true;
	snprintf(ps->keep_text, sizeof ps->keep_text, "%s", text);
	if (ps->cell <= 0) {
		keep_fail(ps, "the session had already ended");
		return;
	}
	/* a page that breaks every session must not fill the disk: a budget */
	int64_t now = priv_now_ms();
	keep_tokens += (double)(now - keep_refill_ms) / (KEEP_REFILL_S * 1000.0);
	if (keep_tokens > KEEP_BURST)
		keep_tokens = KEEP_BURST;
	keep_refill_ms = now;
	if (keep_tokens < 1) {
		keep_fail(ps, "more than %d directories kept within %d s: this one is not",
			  KEEP_BURST, KEEP_BURST * KEEP_REFILL_S);
	} else {
		keep_tokens -= 1;
		ps->keep_fd = keep_open(ps);
		if (ps->keep_fd < 0)
			keep_fail(ps, "runtime_dir/session-%s in the cell: %s", ps->id,
				  errno == EXDEV ? "not the session's own tmpfs directory"
						 : strerror(errno));
	}
	/* at once, whether or not it could be opened */
	kill(ps->cell, SIGKILL);
	if (ps->egress > 0)
		kill(ps->egress, SIGKILL);
	log_warn("session %s: cell killed%s", ps->id,
		 ps->keep_fd >= 0 ? "; its directory is kept for forensics" : "");
}

/*
 * The copier as root: no supplementary groups, no capability but switching
 * its file-system identity, the first the OOM killer takes. 0 or -1 + why.
 */
static int keep_drop(char *why, size_t whylen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	d[0].effective = d[0].permitted = (1u << CAP_SETUID) | (1u << CAP_SETGID);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1000", 4) != 4) {
		snprintf(why, whylen, "oom_score_adj: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (setgroups(0, NULL) != 0 || syscall(SYS_capset, &h, d) != 0) {
		snprintf(why, whylen, "dropping privileges: %s", strerror(errno));
		return -1;
	}
	return 0; /* forensics_copy() checks that each switch of identity takes */
}

/* The copier: never returns. */
static void __attribute__((noreturn)) keep_copier(struct priv_slot *ps, int out)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "pg-forensics", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(FORENSICS_TIMEOUT_S);
	/* nothing of the parent's but the directory and the result pipe: fds 3, 4 */
	int src = fcntl(ps->keep_fd, F_DUPFD, 100), res = fcntl(out, F_DUPFD, 101);
	if (src < 0 || res < 0 || dup2(src, 3) != 3 || dup2(res, 4) != 4 ||
	    close_range(5, ~0U, 0) != 0)
		_exit(1);
	ps->keep_fd = 3;
	out = 4;
	char result[FORENSICS_RESULT_MAX], why[160];
	char user[200], *what = NULL;
	snprintf(user, sizeof user, "%s", ps->keep_text);
	char *nl = strchr(user, '\n');
	if (nl != NULL) {
		*nl = '\0';
		what = nl + 1;
	}
	int dest = -1;
	if (pv.cells && keep_drop(why, sizeof why) != 0) {
		forensics_error_line(result, sizeof result, why);
		goto out;
	}
	/* forensics_dir belongs to the gateway's user: opened as that user */
	if (pv.cells) {
		setfsgid(pv.net_gid);
		setfsuid(pv.net_uid);
	}
	dest = open(gw->cfg.forensics_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int saved = errno;
	struct stat st;
	struct statvfs vfs;
	if (dest >= 0 &&
	    (fstat(dest, &st) != 0 || st.st_uid != pv.net_uid || (st.st_mode & 077) != 0)) {
		close(dest);
		dest = -1;
		saved = EPERM;
	}
	uint64_t max = (uint64_t)gw->cfg.forensics_max_mib << 20;
	if (dest < 0) {
		snprintf(why, sizeof why, "forensics_dir %.80s: %s", gw->cfg.forensics_dir,
			 saved == EPERM ? "not the gateway user's own (mode 0700)"
					: strerror(saved));
		forensics_error_line(result, sizeof result, why);
	} else if (fstatvfs(dest, &vfs) != 0 ||
		   (uint64_t)vfs.f_bavail * vfs.f_frsize < max + KEEP_FREE_MIN) {
		snprintf(why, sizeof why,
			 "forensics_dir %.80s: less than forensics_max_mib + 64 MiB "
			 "free",
			 gw->cfg.forensics_dir);
		forensics_error_line(result, sizeof result, why);
	} else {
		struct forensics_job j = {
			.src_dirfd = ps->keep_fd,
			.dest_dirfd = dest,
			.id = ps->id,
			.user = user,
			.what = what != NULL ? what : "",
			.max_bytes = max,
			/* as the session: nothing is read that it could not have
			   copied into its directory itself */
			.reader_uid = pv.cells ? keep_uid(ps) : (uid_t)-1,
			.reader_gid = pv.cells ? (gid_t)keep_uid(ps) : (gid_t)-1,
			.writer_uid = pv.cells ? pv.net_uid : (uid_t)-1,
			.writer_gid = pv.cells ? pv.net_gid : (gid_t)-1,
		};
		forensics_copy(&j, result, sizeof result);
	}
out:;
	size_t len = strlen(result);
	_exit(write(out, result, len) == (ssize_t)len ? 0 : 1);
}

bool priv_keep_start(struct priv_slot *ps)
{
	if (ps->keep_fd < 0)
		return false;
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		keep_fail(ps, "pipe: %s", strerror(errno));
		close(ps->keep_fd);
		ps->keep_fd = -1;
		return false;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		keep_copier(ps, p[1]);
	}
	close(p[1]);
	close(ps->keep_fd); /* the copier has it */
	ps->keep_fd = -1;
	if (pid < 0) {
		keep_fail(ps, "fork: %s", strerror(errno));
		close(p[0]);
		return false;
	}
	ps->copier = pid;
	ps->copier_out = p[0];
	log_info("session %s: copying its directory to %s/session-%s (copier %d)", ps->id,
		 gw->cfg.forensics_dir, ps->id, (int)pid);
	return true;
}

void priv_keep_done(struct priv_slot *ps, int status)
{
	ps->copier = 0;
	ssize_t n = read(ps->copier_out, ps->kept, sizeof ps->kept - 1);
	close(ps->copier_out);
	ps->copier_out = -1;
	ps->kept[n > 0 ? n : 0] = '\0';
	if (n <= 0) {
		if (WIFSIGNALED(status))
			keep_fail(ps, "the copy did not finish (killed by signal %d%s)",
				  WTERMSIG(status),
				  WTERMSIG(status) == SIGALRM ? ": it took too long" : "");
		else
			keep_fail(ps, "the copy failed (status %d)", WEXITSTATUS(status));
		return;
	}
	if (strncmp(ps->kept, "{\"error\"", 8) == 0)
		log_error("session %s: its directory could not be kept: %s", ps->id, ps->kept);
	else
		log_info("session %s: directory kept in %s/session-%s: %s", ps->id,
			 gw->cfg.forensics_dir, ps->id, ps->kept);
}
