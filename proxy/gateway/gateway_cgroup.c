/*
 * gateway_cgroup.c: a cgroup per session where the host lets root make one
 * (the privileged parent makes and removes it; a cell and its forwarder join).
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
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <linux/keyctl.h>
#include <time.h>
#include <unistd.h>

#include "chromium_policy.h"
#include "gateway_priv.h"
#include "log.h"

struct priv_cgroups cg;

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

void cg_init(void)
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
			snprintf(
			    cg.why, sizeof cg.why,
			    "cgroup v2 at %.100s offers no memory and pids controllers (delegate "
			    "them: systemd Delegate=yes)",
			    cg.v2);
		} else if ((mkdir(leaf, 0755) != 0 && errno != EEXIST) ||
			   cg_write(leaf, "cgroup.procs", "0") != 0 ||
			   cg_write(cg.v2, "cgroup.subtree_control",
				    strstr(have, "cpu") ? "+memory +pids +cpu" : "+memory +pids") !=
			       0) {
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
		snprintf(cg.why, sizeof cg.why,
			 "no cgroup v2 and no v1 memory and pids hierarchies");
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
int cg_create(const char *id, char *err, size_t errlen)
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
		cg_write(d, "cpu.weight",
			 "100"); /* equal shares: absent without the cpu controller */
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
int cg_join(const char *id)
{
	char d[PATH_MAX + 64];
	const char *bases[3] = { cg.mode == CG_V2 ? cg.v2 : cg.mem,
				 cg.mode == CG_V1 ? cg.pids : NULL,
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
void cg_cleanup(void)
{
	const char *bases[3] = { cg.mode == CG_V2 ? cg.v2 : cg.mem,
				 cg.mode == CG_V1 ? cg.pids : NULL,
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
			for (int tries = 0; rmdir(path) != 0 && errno == EBUSY && tries < 20;
			     tries++)
				usleep(50 * 1000);
		}
		if (d != NULL)
			closedir(d);
	}
}

/* Remove session id's group(s) (empty once its cell and forwarder are reaped). */
void cg_remove(const char *id)
{
	char d[PATH_MAX + 64];
	const char *bases[3] = { cg.mode == CG_V2 ? cg.v2 : cg.mem,
				 cg.mode == CG_V1 ? cg.pids : NULL,
				 cg.mode == CG_V1 && cg.cpu[0] ? cg.cpu : NULL };
	if (cg.mode == CG_NONE)
		return;
	for (int i = 0; i < 3 && bases[i] != NULL; i++) {
		cg_dir(bases[i], id, d, sizeof d);
		if (rmdir(d) != 0 && errno != ENOENT)
			log_warn("cgroup %s: %s", d, strerror(errno));
	}
}

/* cgroup v1: the OOM killer ends one process of the group (Chromium's renderer,
   whose tab then shows "Aw, Snap!" while the session goes on); the parent
   learns it through cgroup.event_control and kills the whole cell. */
int cg_oom_watch(const char *id)
{
	char d[PATH_MAX + 64], path[PATH_MAX + 96], reg[64];
	if (cg.mode != CG_V1)
		return -1;
	cg_dir(cg.mem, id, d, sizeof d);
	snprintf(path, sizeof path, "%s/memory.oom_control", d);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int cfd = open(path, O_RDONLY | O_CLOEXEC);
	if (efd >= 0 && cfd >= 0) {
		snprintf(reg, sizeof reg, "%d %d", efd, cfd);
		if (cg_write(d, "cgroup.event_control", reg) == 0) {
			close(cfd);
			return efd;
		}
	}
	log_warn("session %s: cannot watch %s for the OOM killer (%s): the watchdog alone "
		 "ends a session over session_memory_mib",
		 id, path, strerror(errno));
	if (cfd >= 0)
		close(cfd);
	if (efd >= 0)
		close(efd);
	return -1;
}

long cg_oom_kills(const char *id)
{
	char d[PATH_MAX + 64], path[PATH_MAX + 96], line[128];
	long n = -1;
	if (cg.mode == CG_NONE)
		return -1;
	cg_dir(cg.mode == CG_V2 ? cg.v2 : cg.mem, id, d, sizeof d);
	snprintf(path, sizeof path, "%s/%s", d,
		 cg.mode == CG_V2 ? "memory.events" : "memory.oom_control");
	FILE *f = fopen(path, "re");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return n;
}
