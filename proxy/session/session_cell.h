/*
 * session_cell.h: the worker's own part of its cell (session_cell.c):
 * non-dumpable, and a watchdog over the cell's memory and processes.
 */
#ifndef PIXELGATE_SESSION_CELL_H
#define PIXELGATE_SESSION_CELL_H

#include <stddef.h>

/* What the cell's processes use now. */
struct cell_usage {
	long processes;
	long tasks;     /* threads of all of them (what RLIMIT_NPROC counts) */
	long pss_kib;   /* anonymous resident memory of its processes (RssAnon) */
	long files_kib; /* what its private tmpfs hold (memory too, in no process's Pss) */
};

/* Make the worker non-dumpable. 0 or -1 (logged). */
int cell_init(void);

/*
 * Measure every process in our /proc (the cell's PID namespace). With more
 * than max_detail processes only they are counted (tasks = processes, no
 * memory figure). 0 or -1.
 */
int cell_measure(struct cell_usage *u, long max_detail);

/* Add what the cell's tmpfs hold (/tmp, /dev/shm, /var/tmp, dir's) to u->files_kib. */
void cell_measure_files(struct cell_usage *u, const char *dir);

/*
 * 1 when u passes a limit (memory_mib / max_procs; 0 = none): reason says
 * what for the viewer and the log, limit is "memory" or "processes".
 */
int cell_watch(const struct cell_usage *u, int memory_mib, int max_procs, char *reason,
	       size_t reasonlen, char *limit, size_t limitlen);

/*
 * After a limit was passed: SIGKILL every other process of the cell (the
 * worker is the init of the cell's PID namespace) and reap them for at most
 * wait_ms. What passed the limit stops at once, and the worker's own way out
 * (its report, the sanitizers' exit-time checks, which need a process slot)
 * no longer competes with a fork bomb. Returns the number reaped, or -1 when
 * the worker is not pid 1 (no cell: nothing is killed).
 */
int cell_kill_others(int wait_ms);

#endif
