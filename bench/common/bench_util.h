/*
 * bench_util.h: what every benchmark tool of bench/ needs alike (library
 * pgbench): a clock, quantiles, and telling bench/pageserver.py which page
 * to serve.
 */
#ifndef PIXELGATE_BENCH_UTIL_H
#define PIXELGATE_BENCH_UTIL_H

#include <stddef.h>

/* Monotonic clock, seconds. */
double bench_now_s(void);

/* The q-quantile (0..1) of v[0..n) (sorts v); NAN if n == 0. */
double bench_quantile(double *v, size_t n, double q);

/* Tells the page server on 127.0.0.1:port which page /start.html serves
   (GET /mode?m=mode). 0, or -1 after a line on stderr naming who asks. */
int bench_page_mode(int port, const char *mode, const char *who);

#endif
