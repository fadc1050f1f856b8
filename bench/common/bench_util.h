/*
 * bench_util.h: what every benchmark tool of bench/ needs alike (library
 * pgbench): a clock, quantiles, the processes of /proc, and telling bench/pageserver.py which page
 * to serve.
 */
#ifndef PIXELGATE_BENCH_UTIL_H
#define PIXELGATE_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Monotonic clock, seconds. */
double bench_now_s(void);

/* The q-quantile (0..1) of v[0..n) (sorts v); NAN if n == 0. */
double bench_quantile(double *v, size_t n, double q);

/* Tells the page server on 127.0.0.1:port which page /start.html serves
   (GET /mode?m=mode). 0, or -1 after a line on stderr naming who asks. */
int bench_page_mode(int port, const char *mode, const char *who);

/* One process of /proc: pid, parent, CPU ticks (utime + stime), name (cut to 31 bytes). */
struct bench_proc {
	pid_t pid, ppid;
	unsigned long long ticks;
	char comm[32];
};

/* Every process. Returns the count, *out malloc'd (NULL if none). */
size_t bench_proc_scan(struct bench_proc **out);

/* Marks in[] the processes of v[0..n) in root's subtree (root included). */
void bench_proc_subtree(const struct bench_proc *v, size_t n, pid_t root, bool *in);

/* True if p's name starts with prefix. */
bool bench_proc_is(const struct bench_proc *p, const char *prefix);

#endif
