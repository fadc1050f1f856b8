/*
 * bench_util.c: the benchmark tools' shared helpers (bench_util.h).
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, bench_cmp_double);
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

int bench_page_mode(int port, const char *mode, const char *who)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[128], resp[256];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = -1;
	size_t got = 0;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(req, sizeof req, "GET /mode?m=%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", mode);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
		ssize_t r;
		while (got < sizeof resp - 1 &&
		       (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
			got += (size_t)r;
		resp[got] = '\0';
		if (strncmp(resp, "HTTP/1.0 200", 12) == 0 ||
		    strncmp(resp, "HTTP/1.1 200", 12) == 0)
			ok = 0;
	}
	close(fd);
	if (ok != 0)
		fprintf(stderr, "%s: page server on port %d did not take mode %s\n", who, port,
			mode);
	return ok;
}
