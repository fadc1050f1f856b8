/*
 * bench_util.c: the benchmark tools' shared helpers (bench_util.h).
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <dirent.h>
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

size_t bench_proc_scan(struct bench_proc **out)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0, cap = 0;
	struct bench_proc *v = NULL;

	*out = NULL;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024];
		pid_t pid = (pid_t)atoi(e->d_name);
		unsigned long long ut, st;
		int ppid;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t len = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[len] = '\0';
		const char *lp = strchr(buf, '(');
		const char *p = strrchr(buf, ')'); /* the command name may hold anything */
		if (lp == NULL || p == NULL || p < lp ||
		    sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ppid,
			   &ut, &st) != 3)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct bench_proc *nv = realloc(v, ncap * sizeof *nv);
			if (nv == NULL)
				break;
			v = nv;
			cap = ncap;
		}
		v[n] = (struct bench_proc){ pid, (pid_t)ppid, ut + st, "" };
		size_t cl = (size_t)(p - lp - 1);
		if (cl >= sizeof v[n].comm)
			cl = sizeof v[n].comm - 1;
		memcpy(v[n].comm, lp + 1, cl);
		v[n].comm[cl] = '\0';
		n++;
	}
	closedir(d);
	*out = v;
	return n;
}

void bench_proc_subtree(const struct bench_proc *v, size_t n, pid_t root, bool *in)
{
	bool changed = true;

	for (size_t i = 0; i < n; i++)
		in[i] = v[i].pid == root;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (in[i])
				continue;
			for (size_t j = 0; j < n; j++)
				if (in[j] && v[j].pid == v[i].ppid) {
					in[i] = changed = true;
					break;
				}
		}
	}
}

bool bench_proc_is(const struct bench_proc *p, const char *prefix)
{
	return strncmp(p->comm, prefix, strlen(prefix)) == 0;
}
