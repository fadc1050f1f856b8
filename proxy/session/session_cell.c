/*
 * session_cell.c: the worker's own part of its cell (gateway_priv.c makes
 * the rest: uid, namespaces, tmpfs, rlimits, egress).
 *
 * The worker is pid 1 of the cell's PID namespace, so its /proc lists
 * exactly the cell's processes. Once a second the watchdog adds up their
 * anonymous memory (RssAnon: the heap, V8's, typed arrays; shared library
 * pages are not counted) plus what the cell's tmpfs hold, and their tasks (threads count against RLIMIT_NPROC too).
 * Past session_memory_mib, at 95 % of session_max_procs tasks (where forks
 * start to fail), or with a quarter of session_max_procs as processes
 * (Chromium runs a few dozen at most; a fork bomb thousands), the session
 * ends with that reason. This
 * holds without a delegated cgroup; RLIMIT_AS is not used because Chromium
 * reserves far more address space than it uses (V8's cage, PartitionAlloc).
 */
#include "session_cell.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int cell_init(void)
{
	/* exec made us dumpable again; nobody of our uid may ptrace or read us */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_error("%s: PR_SET_DUMPABLE: %s", __func__, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * One process: its tasks (threads, at least 1: a zombie shows 0 threads but
 * still counts against RLIMIT_NPROC until it is reaped) and its anonymous
 * resident memory (RssAnon: what a page that allocates makes grow). Both
 * come from /proc/PID/status, counters the kernel keeps: reading them costs
 * nothing like smaps' walk over every mapping (Chromium has thousands).
 * 0 tasks if the process is gone.
 */
static void cell_proc(const char *pid, long *tasks, long *anon_kib)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%s/status", pid);
	FILE *f = fopen(path, "re");
	*tasks = f != NULL ? 1 : 0;
	*anon_kib = 0;
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "RssAnon:", 8) == 0) {
			*anon_kib = strtol(line + 8, NULL, 10);
		} else if (strncmp(line, "Threads:", 8) == 0) {
			long t = strtol(line + 8, NULL, 10);
			*tasks = t > 1 ? t : 1;
			break; /* Threads comes after RssAnon */
		}
	}
	if (f != NULL)
		fclose(f);
}

int cell_measure(struct cell_usage *u, long max_detail)
{
	memset(u, 0, sizeof *u);
	DIR *d = opendir("/proc");
	if (d == NULL)
		return -1;
	/* One cheap pass first: how many processes. Past max_detail (a fork bomb)
	   the per-process files are not read: that would take seconds of CPU the
	   bomb leaves us only a sliver of, and the count alone decides. */
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    strspn(e->d_name, "0123456789") == strlen(e->d_name))
			u->processes++;
	if (u->processes > max_detail) {
		closedir(d);
		u->tasks = u->processes;
		return 0;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    strspn(e->d_name, "0123456789") != strlen(e->d_name))
			continue;
		long t, anon;
		cell_proc(e->d_name, &t, &anon);
		if (t <= 0)
			continue;
		u->tasks += t;
		u->pss_kib += anon;
	}
	closedir(d);
	return 0;
}

void cell_measure_files(struct cell_usage *u, const char *dir)
{
	const char *paths[] = { "/tmp", "/dev/shm", "/var/tmp", dir };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct statvfs sv;
		if (paths[i] != NULL && statvfs(paths[i], &sv) == 0 && sv.f_blocks >= sv.f_bfree)
			u->files_kib += (long)((sv.f_blocks - sv.f_bfree) * sv.f_frsize / 1024);
	}
}

int cell_watch(const struct cell_usage *u, int memory_mib, int max_procs, char *reason,
	       size_t reasonlen, char *limit, size_t limitlen)
{
	if (memory_mib > 0 && u->pss_kib + u->files_kib > (long)memory_mib * 1024) {
		snprintf(limit, limitlen, "memory");
		snprintf(reason, reasonlen,
			 "the session used %ld MiB of memory (%ld MiB of it in files), more than "
			 "its limit of %d MiB (session_memory_mib)",
			 (u->pss_kib + u->files_kib) / 1024, u->files_kib / 1024, memory_mib);
		return 1;
	}
	if (max_procs > 0 &&
	    (u->tasks * 100 >= (long)max_procs * 95 || u->processes >= max_procs / 4)) {
		snprintf(limit, limitlen, "processes");
		snprintf(reason, reasonlen,
			 "the session ran %ld processes and threads, at its limit of %d "
			 "(session_max_procs)",
			 u->tasks, max_procs);
		return 1;
	}
	return 0;
}

int cell_kill_others(int wait_ms)
{
	if (getpid() != 1)
		return -1; /* not a cell's init: kill(-1) would reach our uid's other processes */
	if (kill(-1, SIGKILL) != 0 && errno != ESRCH)
		log_warn("%s: kill(-1): %s", __func__, strerror(errno));
	/* what dies is re-parented to us, its init: reap it all */
	int reaped = 0;
	for (int waited = 0; waited <= wait_ms;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r > 0) {
			reaped++;
			continue;
		}
		if (r < 0 && errno == ECHILD)
			return reaped;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
		waited += 10;
	}
	log_warn("%s: processes left in the cell after %d ms (%d reaped)", __func__, wait_ms,
		 reaped);
	return reaped;
}
