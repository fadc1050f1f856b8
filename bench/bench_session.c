/*
 * bench_session.c: measures what a pixelgate gateway costs and delivers per
 * session, against a running daemon, and prints a table (figures only: it
 * asserts nothing about timings). bench/run.sh builds the world (CA, users,
 * config, bench/pageserver.py, the daemon) and runs it; see bench/README.md.
 *
 *   (a) login -> first complete frame, for 1 session and N concurrent ones
 *   (b) frames/s, KiB/s and the age of the picture on the animated page,
 *       without and with a max_fps cap (PATCH /api/v1/limits)
 *   (c) bytes/s on the static page (event-driven capture: ~0 expected)
 *   (d) gateway RSS and CPU time, per-session PSS of the worker's processes
 *   (e) login burst: the picture age of a session on the animated page while
 *       --burst logins (half of them with a wrong password) arrive at once,
 *       next to the same figure without logins; each login is its own
 *       process (bench_session --login-at ..., exec'd), so the TLS
 *       handshakes and requests really arrive together
 *
 * Two more scenarios, each alone (--scenario; bench/run.sh record, compare):
 *
 *   record: the picture age of a session (B, bench-1) on the animated page
 *       while another session (A, --big-size, default 2048x2048) streams a
 *       full-screen noise page in Hextile (--big-encoding) with a
 *       non-incremental update request every second: B alone, then with A
 *       not recorded (bench-3), then with A recorded (bench-2); the daemon
 *       must record bench-1 and bench-2 only (recording = users)
 *   relay: gateway CPU per MB relayed to one viewer, on the soak page with
 *       the viewer's own encodings (Tight), on the soak page in Hextile
 *       (text: many subrectangles) and on the noise page in Hextile, both with
 *       a full update asked every second; prints
 *       "relay" lines for bench/run.sh compare, which runs it against two
 *       daemons (before/after) and prints them side by side
 *
 * Users: bench-1 .. bench-N (staff) and bench-admin (admin), all with the
 * password in --password-file. Every session is ended (admin API) and its
 * processes gone before the next scenario starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include <arpa/inet.h>
#include <dirent.h>

#include "client_core.h"

#define BENCH_MAX_SESSIONS 64
#define BENCH_PAGE_TIMEOUT_S 120 /* login until the page is complete on screen */
#define BENCH_QUIET_MS 2000      /* static page: this long without bytes = settled */
#define BENCH_SETTLE_MAX_S 60    /* longest wait for that quiet */
#define BENCH_WARMUP_MS 3000     /* animated page: time to load before measuring */
#define BENCH_END_TIMEOUT_S 60   /* sessions ended and their processes gone */
#define BENCH_READY_TIMEOUT_S 30 /* the daemon answers /healthz */
#define BENCH_AGE_MAX_MS 10000   /* a decoded picture age above this is a misread */
#define BENCH_CLOCK_MOD 262144   /* the page's clock is Date.now() mod 2^18 ms */
#define BENCH_BURST_MAX 200      /* logins of one burst, at most */
#define BENCH_BURST_ROUNDS 3     /* bursts in scenario (e) */
#define BENCH_BURST_LEAD_MS 500  /* the login processes start, then all log in at once */
#define BENCH_BURST_GAP_MS 3000  /* between bursts */
#define BENCH_BURST_TIMEOUT_S 60 /* a burst's last answer, at most */
#define BENCH_BIG_FULL_MS \
	1000                     /* record: A asks for a full update this often (the
				      gateway demotes more frequent ones to incremental) */
#define BENCH_LEAVE_MS 5000      /* record: B measured from A's leaving, this long */
#define BENCH_READ_EVERY_MS 2000 /* (f): a reading user's pace, one Page_Down per ... */
#define BENCH_READ_DOWNS 8       /* ... then Home, and down again */
#define BENCH_READ_LOAD_MS 5000  /* (f): the reading page loads after F5 */
#define BENCH_KEY_F5 0xffc2
#define BENCH_KEY_HOME 0xff50
#define BENCH_KEY_PAGE_DOWN 0xff56

/* The pages of bench/pageserver.py, CSS pixels. */
#define PAGE_MARKER_X 100
#define PAGE_MARKER_Y 60
#define PAGE_MARKER_W 240
#define PAGE_MARKER_H 120
#define PAGE_CLOCK_X 100 /* first clock block; the others 40 px to the right each */
#define PAGE_CLOCK_Y 200
#define PAGE_CLOCK_SIZE 32

enum bench_scenario { SCEN_DEFAULT, SCEN_RECORD, SCEN_RELAY };

/* Command-line settings. */
struct bench_opts {
	int port;       /* staff listener */
	int admin_port; /* admin API listener */
	int page_port;  /* bench/pageserver.py */
	const char *ca_file;
	const char *password_file;
	pid_t gateway_pid;     /* the network process (RSS, CPU) */
	pid_t sessions_parent; /* its parent, the privileged parent: the workers' parent */
	int sessions;          /* N of scenario (a) */
	int prestart;          /* the daemon's [session] prestart (it keeps that many) */
	int seconds;           /* length of each measuring window of (b) and (c) */
	int fps_cap;           /* max_fps of the capped run of (b) */
	int burst;             /* logins of one burst in (e); 0 = no (e) */
	/* --login-at: one login of a burst (a process of its own), then exit */
	long long login_at_ms; /* CLOCK_MONOTONIC ms when to send it; 0 = not this mode */
	const char *login_user;
	bool login_wrong; /* with a wrong password */
	enum bench_scenario scenario;
	int big_w, big_h;          /* record: session A's size */
	int32_t big_enc;           /* record, relay: the big stream's encoding (5 Hextile, 0 Raw) */
	const char *recording_dir; /* record: the daemon's recording_dir (bytes written) */
	int rounds;                /* record: unrecorded/recorded pairs */
};

static struct bench_opts opt = { .sessions = 4,
				 .seconds = 10,
				 .fps_cap = 10,
				 .burst = 20,
				 .big_w = 2048,
				 .big_h = 2048,
				 .big_enc = 5,
				 .rounds = 1 };
static struct pgc_server staff_srv, admin_srv;
static char password[256];
static char admin_auth[400]; /* "Basic base64(bench-admin:password)" */
static volatile sig_atomic_t interrupted;

/* One viewer: a connection and what its callbacks saw. */
struct viewer {
	char user[32];
	int req_w, req_h; /* screen size the login asks for; 0 = the server's */
	bool no_marker;   /* a page without the marker (soak): open = first frame */
	struct pgc_conn *c;
	struct pgc_fb fb; /* latest framebuffer view (valid while c is open) */
	bool have_fb;
	double t0_s;                                          /* monotonic, before the login */
	double login_ms, connect_ms, first_frame_ms, page_ms; /* since t0; < 0: not reached */
	bool page_found;
	int marker_x, marker_y; /* the marker's top-left corner on screen */
	bool sample_ages;       /* decode the page clock at every frame */
	double *ages;           /* picture ages, ms */
	size_t nages, cap_ages;
	unsigned long misreads; /* frames whose clock did not decode */
	double last_frame_s;    /* monotonic, last frame while sampling (0: none yet) */
	double max_gap_ms;      /* longest time between two frames while sampling */
	char err[512];
};

/* ---- small helpers --------------------------------------------------------- */

/* Wall-clock milliseconds mod BENCH_CLOCK_MOD: what the page's clock shows now. */
static long wall_clock_mod_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return (long)(ms % BENCH_CLOCK_MOD);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted)
		;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- /proc ----------------------------------------------------------------- */

/* Pss and private (Private_Clean + Private_Dirty) memory of pid in KiB,
   from smaps_rollup; both 0 if unreadable. */
static void proc_mem_kib(pid_t pid, long *pss, long *priv)
{
	char path[64], line[256];

	*pss = *priv = 0;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "Pss:", 4) == 0)
			*pss = atol(line + 4);
		else if (strncmp(line, "Private_Clean:", 14) == 0)
			*priv += atol(line + 14);
		else if (strncmp(line, "Private_Dirty:", 14) == 0)
			*priv += atol(line + 14);
	}
	fclose(f);
}

/* VmRSS of pid in KiB, -1 if unreadable. */
static long proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = atol(line + 6);
	fclose(f);
	return kib;
}

/* A snapshot of the gateway and its sessions (each child of the gateway is
   one session worker; its subtree holds its Xvfb and Chromium). */
struct usage {
	double t_s; /* monotonic time of the snapshot */
	long gw_rss_kib;
	double gw_cpu_ms;       /* gateway's own utime + stime */
	double sessions_cpu_ms; /* all session processes alive now */
	int nsessions;
	double pss_mib[BENCH_MAX_SESSIONS * 2];  /* per session: its share of all pages */
	double priv_mib[BENCH_MAX_SESSIONS * 2]; /* per session: pages only it maps */
	int nprocs[BENCH_MAX_SESSIONS * 2];      /* processes per session */
	int negress;                             /* egress forwarders (one per cell) */
	double egress_pss_mib;                   /* their PSS, all together */
	double gw_pss_mib; /* the gateway and the privileged parent (with_pss) */
};

static void usage_take(struct usage *u, bool with_pss)
{
	struct bench_proc *v;
	size_t n = bench_proc_scan(&v);
	bool *in = calloc(n ? n : 1, sizeof *in);
	double tick_ms = 1000.0 / (double)sysconf(_SC_CLK_TCK);

	memset(u, 0, sizeof *u);
	u->t_s = bench_now_s();
	u->gw_rss_kib = proc_rss_kib(opt.gateway_pid);
	if (with_pss) {
		long p1, p2;
		proc_mem_kib(opt.gateway_pid, &p1, &p2);
		u->gw_pss_mib = (double)p1 / 1024.0;
		proc_mem_kib(opt.sessions_parent, &p1, &p2);
		u->gw_pss_mib += (double)p1 / 1024.0;
	}
	for (size_t i = 0; in != NULL && i < n; i++) {
		if (v[i].pid == opt.gateway_pid)
			u->gw_cpu_ms = (double)v[i].ticks * tick_ms;
		/* the workers are children of the privileged parent, the gateway's parent,
		   and so is each cell's egress forwarder */
		if (v[i].ppid == opt.sessions_parent && bench_proc_is(&v[i], "pg-egress")) {
			u->negress++;
			if (with_pss) {
				long p1, p2;
				proc_mem_kib(v[i].pid, &p1, &p2);
				u->egress_pss_mib += (double)p1 / 1024.0;
			}
			continue;
		}
		if (v[i].ppid != opt.sessions_parent || !bench_proc_is(&v[i], "pixelgate-sess"))
			continue;
		bench_proc_subtree(v, n, v[i].pid, in);
		long pss = 0, priv = 0;
		int procs = 0;
		for (size_t j = 0; j < n; j++) {
			if (!in[j])
				continue;
			u->sessions_cpu_ms += (double)v[j].ticks * tick_ms;
			procs++;
			if (with_pss) {
				long p1, p2;
				proc_mem_kib(v[j].pid, &p1, &p2);
				pss += p1;
				priv += p2;
			}
		}
		if (u->nsessions < BENCH_MAX_SESSIONS * 2) {
			u->pss_mib[u->nsessions] = (double)pss / 1024.0;
			u->priv_mib[u->nsessions] = (double)priv / 1024.0;
			u->nprocs[u->nsessions] = procs;
		}
		u->nsessions++;
	}
	free(in);
	free(v);
}

/* Percent of one CPU the gateway (or the sessions) used between a and b. */
static double cpu_pct(double a_ms, double b_ms, const struct usage *a, const struct usage *b)
{
	double wall_ms = (b->t_s - a->t_s) * 1000.0;

	return wall_ms > 0 ? (b_ms - a_ms) * 100.0 / wall_ms : NAN;
}

/* ---- HTTP: admin API and page server -------------------------------------- */

/* One admin API request; returns the HTTP status (-1: no answer), body into out. */
static int admin_request(const char *method, const char *path, const char *json, char *out,
			 size_t outlen)
{
	struct pgc_http_response res;
	int rc = pgc_http_request(&admin_srv, method, path, admin_auth,
				  json ? "application/json" : NULL, json, json ? strlen(json) : 0,
				  &res);
	int status = rc == 0 ? res.status : -1;

	if (out && outlen)
		snprintf(out, outlen, "%s", rc == 0 && res.body ? res.body : res.message);
	pgc_http_response_free(&res);
	return status;
}

/* GET /healthz (no credentials); its member key ("sessions", "prestarted"), or -1 if no
   200 answer. */
static int healthz_int(const char *key)
{
	struct pgc_http_response res;
	int n = -1;

	if (pgc_http_request(&admin_srv, "GET", "/healthz", NULL, NULL, NULL, 0, &res) == 0 &&
	    res.status == 200) {
		json_t *j = json_loads(res.body, 0, NULL);
		json_t *s = json_object_get(j, key);
		n = json_is_integer(s) ? (int)json_integer_value(s) : -1;
		json_decref(j);
	}
	pgc_http_response_free(&res);
	return n;
}

static int healthz_sessions(void)
{
	return healthz_int("sessions");
}

/* With --prestart N: wait until want pre-started sessions are READY (at most 60 s). */
static void wait_prestarted(int want)
{
	if (opt.prestart <= 0)
		return;
	if (want > opt.prestart)
		want = opt.prestart;
	for (double end = bench_now_s() + 60; bench_now_s() < end && !interrupted; sleep_ms(200))
		if (healthz_int("prestarted") >= want)
			return;
	fprintf(stderr, "bench: fewer than %d pre-started sessions ready after 60 s\n", want);
}

/* Sets max_fps; 0 or -1 (reported). */
static int set_max_fps(int fps)
{
	char body[64], out[1024];

	snprintf(body, sizeof body, "{\"max_fps\": %d}", fps);
	int st = admin_request("PATCH", "/api/v1/limits", body, out, sizeof out);
	if (st != 200) {
		fprintf(stderr, "bench: PATCH /api/v1/limits %s: HTTP %d %s\n", body, st, out);
		return -1;
	}
	return 0;
}

/* ---- viewer callbacks: find the page, read its clock ------------------------ */

static void pixel_rgb(const struct pgc_fb *fb, int x, int y, int *r, int *g, int *b)
{
	uint32_t p;

	memcpy(&p, fb->pixels + (size_t)y * (size_t)fb->stride_bytes + (size_t)x * 4, 4);
	*r = (int)((p >> fb->red_shift) & 0xff);
	*g = (int)((p >> fb->green_shift) & 0xff);
	*b = (int)((p >> fb->blue_shift) & 0xff);
}

/* True if (x, y) has the marker's colour rgb(0,160,255). */
static bool is_marker(const struct pgc_fb *fb, int x, int y)
{
	int r, g, b;

	if (x < 0 || y < 0 || x >= fb->width || y >= fb->height)
		return false;
	pixel_rgb(fb, x, y, &r, &g, &b);
	return abs(r - 0) <= 12 && abs(g - 160) <= 12 && abs(b - 255) <= 12;
}

/* Looks for the whole marker block on screen; its top-left into *mx, *my. */
static bool find_marker(const struct pgc_fb *fb, int *mx, int *my)
{
	for (int y = 0; y < fb->height; y += 4)
		for (int x = 0; x < fb->width; x += 4) {
			if (!is_marker(fb, x, y))
				continue;
			int x0 = x, y0 = y, w = 0, h = 0;
			while (is_marker(fb, x0 - 1, y0))
				x0--;
			while (is_marker(fb, x0, y0 - 1))
				y0--;
			while (is_marker(fb, x0 + w, y0))
				w++;
			while (is_marker(fb, x0, y0 + h))
				h++;
			if (abs(w - PAGE_MARKER_W) > 3 || abs(h - PAGE_MARKER_H) > 3)
				continue;
			bool whole = true;
			for (int yy = y0; whole && yy < y0 + h; yy += 2)
				for (int xx = x0; whole && xx < x0 + w; xx += 2)
					whole = is_marker(fb, xx, yy);
			if (whole) {
				*mx = x0;
				*my = y0;
				return true;
			}
		}
	return false;
}

/* One colour channel of a clock block: 0..3, or -1 if it is no clock level. */
static int clock_level(int c)
{
	int l = (c + 42) / 85;

	return abs(c - l * 85) <= 30 ? l : -1;
}

/* The page clock (ms mod 2^18) as the viewer's screen shows it; -1 if unreadable. */
static long read_clock(const struct viewer *v)
{
	long t = 0;

	for (int i = 0; i < 3; i++) {
		int x = v->marker_x + PAGE_CLOCK_X + 40 * i + PAGE_CLOCK_SIZE / 2 - PAGE_MARKER_X;
		int y = v->marker_y + PAGE_CLOCK_Y + PAGE_CLOCK_SIZE / 2 - PAGE_MARKER_Y;
		int r, g, b, lr, lg, lb;

		if (x < 0 || y < 0 || x >= v->fb.width || y >= v->fb.height)
			return -1;
		pixel_rgb(&v->fb, x, y, &r, &g, &b);
		lr = clock_level(r);
		lg = clock_level(g);
		lb = clock_level(b);
		if (lr < 0 || lg < 0 || lb < 0)
			return -1;
		t = t << 6 | (long)(lr << 4 | lg << 2 | lb);
	}
	return t;
}

static void cb_fb(void *user, const struct pgc_fb *fb)
{
	struct viewer *v = user;

	v->fb = *fb;
	v->have_fb = true;
}

static void cb_update(void *user, const struct pgc_fb *fb, int x, int y, int w, int h)
{
	(void)x, (void)y, (void)w, (void)h;
	cb_fb(user, fb);
}

static void cb_frame_done(void *user)
{
	struct viewer *v = user;
	double ms = (bench_now_s() - v->t0_s) * 1000.0;

	if (v->first_frame_ms < 0)
		v->first_frame_ms = ms;
	if (!v->have_fb)
		return;
	if (!v->page_found) {
		if (find_marker(&v->fb, &v->marker_x, &v->marker_y)) {
			v->page_found = true;
			v->page_ms = ms;
		}
		return;
	}
	if (!v->sample_ages)
		return;
	double t = bench_now_s();
	if (v->last_frame_s > 0 && (t - v->last_frame_s) * 1000.0 > v->max_gap_ms)
		v->max_gap_ms = (t - v->last_frame_s) * 1000.0;
	v->last_frame_s = t;
	long shown = read_clock(v);
	long age = (wall_clock_mod_ms() - shown + BENCH_CLOCK_MOD) % BENCH_CLOCK_MOD;
	int mx, my;
	/* the page may have moved since it was found (Chromium's window is
	   placed and sized after its first paint): look for the marker again */
	if ((shown < 0 || age > BENCH_AGE_MAX_MS) && find_marker(&v->fb, &mx, &my) &&
	    (mx != v->marker_x || my != v->marker_y)) {
		v->marker_x = mx;
		v->marker_y = my;
		shown = read_clock(v);
		age = (wall_clock_mod_ms() - shown + BENCH_CLOCK_MOD) % BENCH_CLOCK_MOD;
	}
	if (shown < 0 || age > BENCH_AGE_MAX_MS) {
		v->misreads++;
		return;
	}
	if (v->nages == v->cap_ages) {
		size_t ncap = v->cap_ages ? v->cap_ages * 2 : 1024;
		double *na = realloc(v->ages, ncap * sizeof *na);
		if (na == NULL)
			return;
		v->ages = na;
		v->cap_ages = ncap;
	}
	v->ages[v->nages++] = (double)age;
}

/* ---- viewers ----------------------------------------------------------------- */

static void viewer_init(struct viewer *v, const char *user)
{
	memset(v, 0, sizeof *v);
	snprintf(v->user, sizeof v->user, "%s", user);
	v->login_ms = v->connect_ms = v->first_frame_ms = v->page_ms = -1;
}

static void viewer_free(struct viewer *v)
{
	pgc_free(v->c);
	v->c = NULL;
	v->have_fb = false;
	free(v->ages);
	v->ages = NULL;
	v->nages = v->cap_ages = 0;
}

/* Logs in, connects and pumps until the page is complete on screen. 0 or -1 (v->err). */
static int viewer_open(struct viewer *v)
{
	struct pgc_login_result res;
	struct pgc_callbacks cb = {
		.user = v, .fb_resized = cb_fb, .fb_update = cb_update, .frame_done = cb_frame_done
	};
	int status = 0;

	v->t0_s = bench_now_s();
	memset(&res, 0, sizeof res);
	if (pgc_login(&staff_srv, v->user, password, v->req_w, v->req_h, &res) != 0) {
		snprintf(v->err, sizeof v->err, "login: HTTP %d %s %s", res.http_status, res.error,
			 res.message);
		return -1;
	}
	v->login_ms = (bench_now_s() - v->t0_s) * 1000.0;
	v->c = pgc_connect_cb(&staff_srv, res.ticket, &cb, v->err, sizeof v->err, &status);
	if (v->c == NULL)
		return -1;
	v->connect_ms = (bench_now_s() - v->t0_s) * 1000.0;
	double end = v->t0_s + BENCH_PAGE_TIMEOUT_S;
	while (!(v->no_marker ? v->first_frame_ms >= 0 : v->page_found) && bench_now_s() < end &&
	       !interrupted)
		if (pgc_pump(v->c, 100) < 0)
			break;
	if (!(v->no_marker ? v->first_frame_ms >= 0 : v->page_found)) {
		snprintf(v->err, sizeof v->err, "page not complete on screen after %.0f s (%s)",
			 bench_now_s() - v->t0_s,
			 pgc_closed(v->c) ? pgc_close_reason(v->c) : "connection open");
		return -1;
	}
	return 0;
}

/* Pumps v for ms milliseconds. False if the connection closed. */
static bool viewer_pump_for(struct viewer *v, int ms)
{
	double end = bench_now_s() + ms / 1000.0;

	while (bench_now_s() < end && !interrupted) {
		int left = (int)((end - bench_now_s()) * 1000.0);
		if (pgc_pump(v->c, left > 100 ? 100 : left < 1 ? 1 : left) < 0)
			return false;
	}
	return !pgc_closed(v->c);
}

static void *viewer_thread(void *arg)
{
	struct viewer *v = arg;

	viewer_open(v);
	return NULL;
}

/* Ends every session (viewers closed, then DELETE whatever is left) and waits
   until the gateway has no worker left. 0, or -1 if some remain. */
static int end_sessions(struct viewer *v, int n)
{
	char body[65536];

	for (int i = 0; i < n; i++)
		viewer_free(&v[i]);
	if (interrupted)
		return -1;
	if (admin_request("GET", "/api/v1/sessions", NULL, body, sizeof body) == 200) {
		json_t *j = json_loads(body, 0, NULL);
		json_t *arr = json_object_get(j, "sessions"), *e;
		size_t i;

		json_array_foreach(arr, i, e) {
			const char *id = json_string_value(json_object_get(e, "id"));
			char path[256];

			if (id == NULL)
				continue;
			snprintf(path, sizeof path, "/api/v1/sessions/%s", id);
			admin_request("DELETE", path, NULL, NULL, 0);
		}
		json_decref(j);
	}
	for (double end = bench_now_s() + BENCH_END_TIMEOUT_S; bench_now_s() < end && !interrupted;
	     sleep_ms(200)) {
		struct usage u;

		usage_take(&u, false);
		/* pre-started sessions (--prestart) stay */
		if (u.nsessions <= opt.prestart && healthz_sessions() == 0)
			return 0;
	}
	if (!interrupted)
		fprintf(stderr, "bench: sessions still running %d s after they were ended\n",
			BENCH_END_TIMEOUT_S);
	return -1;
}

/* ---- output -------------------------------------------------------------- */

static void print_ms_row(const char *label, const char *what, double *v, size_t n, int ok,
			 int total)
{
	if (n == 0) {
		printf("  %-14s %-26s %9s %9s %9s %6d/%d\n", label, what, "-", "-", "-", ok, total);
		return;
	}
	double mn = bench_quantile(v, n, 0), md = bench_quantile(v, n, 0.5),
	       mx = bench_quantile(v, n, 1);
	printf("  %-14s %-26s %9.0f %9.0f %9.0f %6d/%d\n", label, what, mn, md, mx, ok, total);
}

/* The (a) rows of viewers v[0..n). */
static void print_latency(const char *label, struct viewer *v, int n)
{
	static const char *what[] = { "login answered", "RFB connected", "first frame",
				      "page complete" };
	double vals[BENCH_MAX_SESSIONS];

	for (int k = 0; k < 4; k++) {
		size_t m = 0;
		int ok = 0;
		for (int i = 0; i < n; i++) {
			double x = k == 0 ? v[i].login_ms
			    : k == 1      ? v[i].connect_ms
			    : k == 2      ? v[i].first_frame_ms
					  : v[i].page_ms;
			if (x >= 0) {
				vals[m++] = x;
				ok++;
			}
		}
		print_ms_row(k == 0 ? label : "", what[k], vals, m, ok, n);
	}
	for (int i = 0; i < n; i++)
		if (v[i].err[0])
			printf("  %-14s %s: %s\n", "", v[i].user, v[i].err);
}

/* A measuring window of one viewer. */
struct window {
	bool ok;
	double secs;
	uint64_t frames, bytes;
	double age_p50, age_p95, age_max;
	size_t nages;
	unsigned long misreads;
	double max_gap_ms; /* longest time between two updates */
	double gw_cpu_pct, sess_cpu_pct;
};

/* Pumps v for ms milliseconds and fills w (ages only if sample_ages). */
static void measure_window_ms(struct viewer *v, bool sample_ages, int ms, struct window *w)
{
	struct usage a, b;

	memset(w, 0, sizeof *w);
	free(v->ages);
	v->ages = NULL;
	v->nages = v->cap_ages = 0;
	v->misreads = 0;
	v->last_frame_s = 0;
	v->max_gap_ms = 0;
	uint64_t f0 = pgc_frames(v->c), b0 = pgc_bytes_in(v->c);
	usage_take(&a, false);
	v->sample_ages = sample_ages;
	w->ok = viewer_pump_for(v, ms);
	v->sample_ages = false;
	usage_take(&b, false);
	w->secs = b.t_s - a.t_s;
	w->frames = pgc_frames(v->c) - f0;
	w->bytes = pgc_bytes_in(v->c) - b0;
	w->nages = v->nages;
	w->misreads = v->misreads;
	w->max_gap_ms = v->max_gap_ms;
	w->age_p50 = bench_quantile(v->ages, v->nages, 0.5);
	w->age_p95 = bench_quantile(v->ages, v->nages, 0.95);
	w->age_max = bench_quantile(v->ages, v->nages, 1);
	w->gw_cpu_pct = cpu_pct(a.gw_cpu_ms, b.gw_cpu_ms, &a, &b);
	w->sess_cpu_pct = cpu_pct(a.sessions_cpu_ms, b.sessions_cpu_ms, &a, &b);
}

/* Pumps v for opt.seconds and fills w (ages only if sample_ages). */
static void measure_window(struct viewer *v, bool sample_ages, struct window *w)
{
	measure_window_ms(v, sample_ages, opt.seconds * 1000, w);
}

static void print_anim_row(const char *label, const struct window *w)
{
	if (!w->ok && w->secs <= 0) {
		printf("  %-18s (not measured)\n", label);
		return;
	}
	double fps = (double)w->frames / w->secs;
	printf("  %-18s %8.1f %9.1f %11.0f %8.0f %8.0f %8.0f %8.1f %8.1f%s\n", label, fps,
	       (double)w->bytes / 1024.0 / w->secs,
	       w->frames ? (double)w->bytes / (double)w->frames : 0.0, w->age_p50, w->age_p95,
	       w->age_max, w->gw_cpu_pct, w->sess_cpu_pct, w->ok ? "" : "  (connection closed)");
	if (w->misreads)
		printf("  %-18s (%lu of %lu frames: clock not readable)\n", "", w->misreads,
		       w->misreads + (unsigned long)w->nages);
}

/* A (d) row: gateway RSS, its CPU time since the start, sessions and their PSS. */
static void print_usage_row(const char *label, const struct usage *u, const struct usage *start)
{
	int n = u->nsessions < BENCH_MAX_SESSIONS * 2 ? u->nsessions : BENCH_MAX_SESSIONS * 2;
	double pss[BENCH_MAX_SESSIONS * 2], priv[BENCH_MAX_SESSIONS * 2];
	int procs = 0;

	printf("  %-22s %10ld %10.0f %9d", label, u->gw_rss_kib, u->gw_cpu_ms - start->gw_cpu_ms,
	       u->nsessions);
	for (int i = 0; i < n; i++) {
		pss[i] = u->pss_mib[i];
		priv[i] = u->priv_mib[i];
		procs += u->nprocs[i];
	}
	if (n > 0 && pss[0] > 0)
		printf("   %5.0f / %5.0f / %5.0f   %12.0f   %5.1f\n",
		       bench_quantile(pss, (size_t)n, 0), bench_quantile(pss, (size_t)n, 0.5),
		       bench_quantile(pss, (size_t)n, 1), bench_quantile(priv, (size_t)n, 0.5),
		       (double)procs / n);
	else
		printf("   %21s   %12s   %5s\n", "-", "-", "-");
}

/* ---- (f) N users reading ---------------------------------------------------- */

/* One reading user of (f): pumps its viewer and pages on at the reading pace. */
struct reader {
	struct viewer *v;
	int load_ms, ms; /* loading the page, then reading */
	uint64_t bytes;  /* received while reading */
	int keys;
	bool ok;
};

static bool reader_key(struct viewer *v, uint32_t keysym)
{
	return pgc_key(v->c, keysym, true) == 0 && pgc_key(v->c, keysym, false) == 0;
}

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	struct viewer *v = r->v;

	r->ok = v->c != NULL && !pgc_closed(v->c) && reader_key(v, BENCH_KEY_F5) &&
	    viewer_pump_for(v, r->load_ms);
	uint64_t b0 = r->ok ? pgc_bytes_in(v->c) : 0;
	double start = bench_now_s(), end = start + r->ms / 1000.0;
	for (int i = 0; r->ok && bench_now_s() < end && !interrupted; i++) {
		uint32_t key = i % (BENCH_READ_DOWNS + 1) == BENCH_READ_DOWNS ? BENCH_KEY_HOME
									      : BENCH_KEY_PAGE_DOWN;
		r->ok = reader_key(v, key);
		r->keys++;
		double next = start + (i + 1) * BENCH_READ_EVERY_MS / 1000.0;
		int left = (int)(((next < end ? next : end) - bench_now_s()) * 1000.0);
		if (r->ok && left > 0)
			r->ok = viewer_pump_for(v, left);
		if (next >= end)
			break; /* the window is over */
	}
	if (v->c != NULL)
		r->bytes = pgc_bytes_in(v->c) - b0;
	return NULL;
}

/* What (f) measured: the window's CPU and the memory at its end. */
struct reading {
	bool ok;
	int users, keys, failed;
	double secs, sess_cpu_pct, gw_cpu_pct; /* % of one core, all users together */
	double bytes_per_user_s;
	struct usage end; /* with PSS */
};

/* (f): the n open viewers go to the reading page (F5 after the mode change)
   and page through it at a reader's pace for ms; CPU between two snapshots
   taken while all of them read, PSS at the end. */
static void run_reading(struct viewer *v, int n, int ms, struct reading *out)
{
	pthread_t th[BENCH_MAX_SESSIONS];
	struct reader r[BENCH_MAX_SESSIONS];
	bool started[BENCH_MAX_SESSIONS] = { false };
	struct usage a;

	memset(out, 0, sizeof *out);
	out->users = n;
	if (bench_page_mode(opt.page_port, "read", "bench") != 0)
		return;
	for (int i = 0; i < n; i++) {
		r[i] = (struct reader){ .v = &v[i], .load_ms = BENCH_READ_LOAD_MS, .ms = ms };
		started[i] = pthread_create(&th[i], NULL, reader_thread, &r[i]) == 0;
	}
	sleep_ms(BENCH_READ_LOAD_MS + 200);
	usage_take(&a, false);
	sleep_ms(ms - 400);
	usage_take(&out->end, true);
	for (int i = 0; i < n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		out->failed += !started[i] || !r[i].ok;
		out->keys += r[i].keys;
		out->bytes_per_user_s += (double)r[i].bytes / (ms / 1000.0) / n;
	}
	out->secs = out->end.t_s - a.t_s;
	out->sess_cpu_pct = cpu_pct(a.sessions_cpu_ms, out->end.sessions_cpu_ms, &a, &out->end);
	out->gw_cpu_pct = cpu_pct(a.gw_cpu_ms, out->end.gw_cpu_ms, &a, &out->end);
	out->ok = out->failed == 0 && out->end.nsessions == n;
	bench_page_mode(opt.page_port, "static", "bench");
}

static void print_reading(const struct reading *f)
{
	const struct usage *u = &f->end;
	int n = u->nsessions < BENCH_MAX_SESSIONS * 2 ? u->nsessions : BENCH_MAX_SESSIONS * 2;
	double pss = 0;

	for (int i = 0; i < n; i++)
		pss += u->pss_mib[i];
	int users = f->users > 0 ? f->users : 1;
	printf("  %-22s %9s %9s %9s %11s %11s %10s\n", "", "CPU/user", "sessions", "gateway",
	       "PSS/user", "sess. PSS", "kB/s/user");
	printf("  %-22s %8.1f%% %8.1f%% %8.1f%% %7.0f MiB %7.0f MiB %10.1f%s\n", "per reading user",
	       (f->sess_cpu_pct + f->gw_cpu_pct) / users, f->sess_cpu_pct / users,
	       f->gw_cpu_pct / users, (pss + u->egress_pss_mib + u->gw_pss_mib) / users,
	       n > 0 ? pss / n : 0.0, f->bytes_per_user_s / 1000.0,
	       f->ok ? "" : "  (not all users read: see stderr)");
	printf("  (CPU: %% of one core over %.1f s, all processes of the sessions and the "
	       "gateway's; PSS: the\n   sessions' processes, their egress forwarders (%.0f MiB) "
	       "and the gateway with its\n   privileged parent (%.0f MiB), over %d users; "
	       "%d keys sent)\n",
	       f->secs, u->egress_pss_mib, u->gw_pss_mib, users, f->keys);
}

/* ---- (e) login burst ------------------------------------------------------ */

/* One login of a burst, as its process reported it. */
struct burst_login {
	pid_t pid;
	int fd;         /* read end of its stdout; -1 once at EOF */
	bool wrong;     /* sent with a wrong password */
	int status;     /* HTTP status; 0 no answer; -1 no report */
	double ms;      /* request start to answer, as the process measured it */
	char error[64]; /* the answer's error code ("-" on 200) */
	char out[256];
	size_t outlen;
};

/* What the bursts did, all rounds together. */
struct burst_result {
	bool ok;
	int rounds, logins, wrong;
	double window_s; /* time from the bursts' start to their last answer */
	uint64_t frames; /* updates the viewer received in those windows */
	double age_p50, age_p95, age_max, max_gap_ms;
	size_t nages;
	unsigned long misreads;
	double *login_ms; /* every answered login's time */
	size_t nlogin_ms;
	char statuses[512]; /* "200 x30, 401 invalid_credentials x30" */
};

/* --login-at mode: at opt.login_at_ms (CLOCK_MONOTONIC) log in once and
   print "STATUS MS ERROR" on stdout. */
static int login_once(void)
{
	struct pgc_login_result res;
	struct timespec at = { (time_t)(opt.login_at_ms / 1000),
			       (long)(opt.login_at_ms % 1000) * 1000000L };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
	double t0 = bench_now_s();
	memset(&res, 0, sizeof res);
	pgc_login(&staff_srv, opt.login_user, opt.login_wrong ? "not-the-password-burst" : password,
		  0, 0, &res);
	printf("%d %.1f %s\n", res.http_status, (bench_now_s() - t0) * 1000.0,
	       res.http_status == 200 ? "-"
		   : res.error[0]     ? res.error
				      : "no_answer");
	OPENSSL_cleanse(res.ticket, sizeof res.ticket);
	return 0;
}

/* Starts one login process of a burst: bench_session --login-at at_ms. */
static int burst_spawn(struct burst_login *b, const char *user, long long at_ms)
{
	char port[16], at[32];
	int pfd[2];

	snprintf(port, sizeof port, "%d", opt.port);
	snprintf(at, sizeof at, "%lld", at_ms);
	char *argv[] = { "bench_session",
			 "--port",
			 port,
			 "--ca",
			 (char *)opt.ca_file,
			 "--password-file",
			 (char *)opt.password_file,
			 "--login-at",
			 at,
			 "--login-user",
			 (char *)user,
			 b->wrong ? "--login-wrong" : NULL,
			 NULL };
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	b->pid = fork();
	if (b->pid == 0) {
		/* only async-signal-safe calls here: this process has threads */
		dup2(pfd[1], 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(pfd[1]);
	if (b->pid < 0) {
		close(pfd[0]);
		return -1;
	}
	b->fd = pfd[0];
	fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) | O_NONBLOCK);
	b->status = -1;
	return 0;
}

/* Reads what login b printed; true once it is all there (EOF). */
static bool burst_read(struct burst_login *b)
{
	ssize_t r;

	if (b->fd < 0)
		return true;
	while ((r = read(b->fd, b->out + b->outlen, sizeof b->out - 1 - b->outlen)) > 0)
		b->outlen += (size_t)r;
	if (r < 0 && (errno == EAGAIN || errno == EINTR) && b->outlen < sizeof b->out - 1)
		return false;
	close(b->fd);
	b->fd = -1;
	b->out[b->outlen] = '\0';
	if (sscanf(b->out, "%d %lf %63s", &b->status, &b->ms, b->error) != 3)
		b->status = -1;
	return true;
}

/* Adds "STATUS ERROR" to the tally in text. */
static void burst_tally(char (*keys)[80], int *counts, int *nkeys, const struct burst_login *b)
{
	char key[80];

	if (b->status < 0)
		snprintf(key, sizeof key, "no report");
	else if (b->status == 200)
		snprintf(key, sizeof key, "200");
	else
		snprintf(key, sizeof key, "%d %s", b->status, b->error);
	for (int i = 0; i < *nkeys; i++)
		if (strcmp(keys[i], key) == 0) {
			counts[i]++;
			return;
		}
	if (*nkeys < 16) {
		snprintf(keys[*nkeys], 80, "%s", key);
		counts[(*nkeys)++] = 1;
	}
}

/*
 * BENCH_BURST_ROUNDS bursts of opt.burst logins (every other one with a wrong
 * password; users bench-2..bench-N, or bench-1 if N is 1) while v, on the
 * animated page, is pumped and its picture ages sampled from each burst's
 * start to its last answer.
 */
static void run_bursts(struct viewer *v, struct burst_result *r)
{
	static struct burst_login b[BENCH_BURST_MAX];
	char keys[16][80];
	int counts[16], nkeys = 0;

	memset(r, 0, sizeof *r);
	free(v->ages);
	v->ages = NULL;
	v->nages = v->cap_ages = 0;
	v->misreads = 0;
	v->max_gap_ms = 0;
	r->login_ms = calloc((size_t)opt.burst * BENCH_BURST_ROUNDS, sizeof *r->login_ms);
	for (int round = 0; round < BENCH_BURST_ROUNDS && !interrupted; round++) {
		long long at_ms = (long long)(bench_now_s() * 1000.0) + BENCH_BURST_LEAD_MS;
		int n = 0;

		for (int i = 0; i < opt.burst; i++) {
			char user[32];
			snprintf(user, sizeof user, "bench-%d",
				 opt.sessions > 1 ? 2 + i % (opt.sessions - 1) : 1);
			memset(&b[n], 0, sizeof b[n]);
			b[n].wrong = i % 2 == 1;
			if (burst_spawn(&b[n], user, at_ms) == 0)
				n++;
		}
		/* the viewer goes on until the burst starts ... */
		double t_at = (double)at_ms / 1000.0;
		while (bench_now_s() < t_at && !interrupted)
			if (pgc_pump(v->c, 5) < 0)
				break;
		/* ... and is measured until its last answer */
		uint64_t f0 = pgc_frames(v->c);
		v->last_frame_s = 0;
		v->sample_ages = true;
		int left = n;
		while (left > 0 && bench_now_s() < t_at + BENCH_BURST_TIMEOUT_S && !interrupted) {
			if (pgc_pump(v->c, 5) < 0)
				break;
			left = 0;
			for (int i = 0; i < n; i++)
				if (!burst_read(&b[i]))
					left++;
		}
		v->sample_ages = false;
		r->window_s += bench_now_s() - t_at;
		r->frames += pgc_frames(v->c) - f0;
		for (int i = 0; i < n; i++) {
			if (b[i].fd >= 0) {
				kill(b[i].pid, SIGKILL);
				close(b[i].fd);
				b[i].fd = -1;
			}
			waitpid(b[i].pid, NULL, 0);
			burst_tally(keys, counts, &nkeys, &b[i]);
			if (b[i].status > 0)
				r->login_ms[r->nlogin_ms++] = b[i].ms;
			r->wrong += b[i].wrong;
		}
		r->logins += n;
		r->rounds++;
		if (pgc_closed(v->c))
			break;
		viewer_pump_for(v, BENCH_BURST_GAP_MS);
	}
	r->ok = r->rounds == BENCH_BURST_ROUNDS && !pgc_closed(v->c);
	r->nages = v->nages;
	r->misreads = v->misreads;
	r->max_gap_ms = v->max_gap_ms;
	r->age_p50 = bench_quantile(v->ages, v->nages, 0.5);
	r->age_p95 = bench_quantile(v->ages, v->nages, 0.95);
	r->age_max = bench_quantile(v->ages, v->nages, 1);
	size_t off = 0;
	for (int i = 0; i < nkeys && off < sizeof r->statuses; i++)
		off += (size_t)snprintf(r->statuses + off, sizeof r->statuses - off, "%s%s x%d",
					i ? ", " : "", keys[i], counts[i]);
}

static void print_burst(const struct window *w0, const struct burst_result *r)
{
	char label[64];

	printf("  %-28s %8s %8s %8s %8s %11s\n", "", "frames/s", "age p50", "age p95", "age max",
	       "max gap ms");
	snprintf(label, sizeof label, "no logins, %.0f s", w0->secs);
	printf("  %-28s %8.1f %8.0f %8.0f %8.0f %11.0f\n", label, (double)w0->frames / w0->secs,
	       w0->age_p50, w0->age_p95, w0->age_max, w0->max_gap_ms);
	if (w0->misreads)
		printf("  %-28s (%lu of %lu frames: clock not readable)\n", "", w0->misreads,
		       w0->misreads + (unsigned long)w0->nages);
	snprintf(label, sizeof label, "during the bursts, %.1f s", r->window_s);
	printf("  %-28s %8.1f %8.0f %8.0f %8.0f %11.0f%s\n", label,
	       r->window_s > 0 ? (double)r->frames / r->window_s : 0.0, r->age_p50, r->age_p95,
	       r->age_max, r->max_gap_ms, r->ok ? "" : "  (incomplete)");
	if (r->misreads)
		printf("  %-28s (%lu of %lu frames: clock not readable)\n", "", r->misreads,
		       r->misreads + (unsigned long)r->nages);
	double *ms = r->login_ms;
	size_t n = r->nlogin_ms;
	if (n > 0)
		printf("  logins answered after (ms)   min %.0f, median %.0f, p95 %.0f, max %.0f\n",
		       bench_quantile(ms, n, 0), bench_quantile(ms, n, 0.5),
		       bench_quantile(ms, n, 0.95), bench_quantile(ms, n, 1));
	printf("  answers                      %s\n", r->statuses[0] ? r->statuses : "none");
}

/* ---- record: a big recorded session beside a small one -------------------- */

/* Session A of the record scenario (and the relay scenario's noise viewer):
   a viewer on the noise page, in a thread of its own, that asks for one
   encoding only and for a full update every BENCH_BIG_FULL_MS. */
enum big_state { BIG_OPENING, BIG_STREAMING, BIG_FAILED, BIG_DONE };

struct big {
	struct viewer v;
	pthread_t th;
	bool started;
	atomic_bool stop;        /* set by the main thread: close and end */
	atomic_int state;        /* enum big_state */
	_Atomic uint64_t bytes;  /* pgc_bytes_in(), published by the thread */
	_Atomic uint64_t frames; /* pgc_frames() */
	_Atomic uint64_t fulls;  /* full-update requests sent */
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* SetEncodings of opt.big_enc alone. 0 or -1. */
static int big_set_encoding(struct pgc_conn *c)
{
	uint8_t m[8] = { 2, 0, 0, 1 };
	uint32_t e = (uint32_t)opt.big_enc;

	m[4] = (uint8_t)(e >> 24);
	m[5] = (uint8_t)(e >> 16);
	m[6] = (uint8_t)(e >> 8);
	m[7] = (uint8_t)e;
	return pgc_send_raw(c, m, sizeof m);
}

/* A non-incremental FramebufferUpdateRequest of the whole screen. 0 or -1. */
static int big_full_request(struct pgc_conn *c, int w, int h)
{
	uint8_t m[10] = { 3, 0 };

	put16(m + 2, 0);
	put16(m + 4, 0);
	put16(m + 6, (unsigned)w);
	put16(m + 8, (unsigned)h);
	return pgc_send_raw(c, m, sizeof m);
}

static void *big_thread(void *arg)
{
	struct big *b = arg;
	struct viewer *v = &b->v;

	if (viewer_open(v) != 0 || big_set_encoding(v->c) != 0) {
		if (!v->err[0])
			snprintf(v->err, sizeof v->err, "SetEncodings could not be sent");
		viewer_free(v);
		atomic_store(&b->state, BIG_FAILED);
		return NULL;
	}
	atomic_store(&b->state, BIG_STREAMING);
	double next = 0;
	while (!atomic_load(&b->stop) && !interrupted) {
		double t = bench_now_s();
		if (t >= next) {
			if (big_full_request(v->c, v->fb.width, v->fb.height) == 0)
				atomic_fetch_add(&b->fulls, 1);
			next = t + BENCH_BIG_FULL_MS / 1000.0;
		}
		if (pgc_pump(v->c, 20) < 0)
			break;
		atomic_store(&b->bytes, pgc_bytes_in(v->c));
		atomic_store(&b->frames, pgc_frames(v->c));
	}
	if (!atomic_load(&b->stop) && pgc_closed(v->c))
		snprintf(v->err, sizeof v->err, "closed: %s", pgc_close_reason(v->c));
	viewer_free(v); /* closes the connection: the session ends (grace 0) */
	atomic_store(&b->state, BIG_DONE);
	return NULL;
}

/* Starts A as user at w x h on page ("noise" or "soak"); pumps *keep
   meanwhile (NULL: none) until A streams. 0 or -1 (A's err). */
static int big_start(struct big *b, const char *user, int w, int h, const char *page,
		     struct viewer *keep)
{
	memset(b, 0, sizeof *b);
	viewer_init(&b->v, user);
	b->v.req_w = w;
	b->v.req_h = h;
	b->v.no_marker = strcmp(page, "soak") == 0;
	if (bench_page_mode(opt.page_port, page, "bench") != 0)
		return -1;
	if (pthread_create(&b->th, NULL, big_thread, b) != 0) {
		snprintf(b->v.err, sizeof b->v.err, "pthread_create failed");
		return -1;
	}
	b->started = true;
	while (atomic_load(&b->state) == BIG_OPENING && !interrupted) {
		if (keep != NULL) {
			if (!viewer_pump_for(keep, 100))
				break;
		} else {
			sleep_ms(100);
		}
	}
	return atomic_load(&b->state) == BIG_STREAMING ? 0 : -1;
}

/* Tells A to leave and waits until it is gone and the gateway counts
   `remaining` sessions; pumps *keep meanwhile. */
static void big_stop(struct big *b, struct viewer *keep, int remaining)
{
	if (!b->started)
		return;
	atomic_store(&b->stop, true);
	while (atomic_load(&b->state) != BIG_DONE && atomic_load(&b->state) != BIG_FAILED &&
	       !interrupted)
		if (keep == NULL || !viewer_pump_for(keep, 100))
			sleep_ms(100);
	pthread_join(b->th, NULL);
	b->started = false;
	for (double end = bench_now_s() + BENCH_END_TIMEOUT_S;
	     bench_now_s() < end && !interrupted;) {
		if (healthz_sessions() <= remaining)
			break;
		if (keep == NULL || !viewer_pump_for(keep, 200))
			sleep_ms(200);
	}
}

/* Bytes in the regular files of dir (the recordings); 0 if unreadable. */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	uint64_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			n += (uint64_t)st.st_size;
	}
	closedir(d);
	return n;
}

/* One row of the record scenario: B's window and what A did meanwhile. */
struct rec_row {
	char label[64];
	struct window w;
	double a_mib_s, a_fps, rec_mib_s;
	bool with_a;
	char err[160];
};

/* Measures B for ms while A (NULL: none) streams. */
static void rec_measure(struct rec_row *r, struct viewer *bv, struct big *a, int ms)
{
	uint64_t ab0 = a ? atomic_load(&a->bytes) : 0, af0 = a ? atomic_load(&a->frames) : 0;
	uint64_t rb0 = dir_bytes(opt.recording_dir);

	measure_window_ms(bv, true, ms, &r->w);
	if (a != NULL && r->w.secs > 0) {
		r->with_a = true;
		r->a_mib_s = (double)(atomic_load(&a->bytes) - ab0) / 1048576.0 / r->w.secs;
		r->a_fps = (double)(atomic_load(&a->frames) - af0) / r->w.secs;
	}
	if (opt.recording_dir && r->w.secs > 0)
		r->rec_mib_s = (double)(dir_bytes(opt.recording_dir) - rb0) / 1048576.0 / r->w.secs;
}

static void print_rec_row(const struct rec_row *r)
{
	const struct window *w = &r->w;

	if (r->err[0]) {
		printf("  %-34s failed: %s\n", r->label, r->err);
		return;
	}
	if (w->secs <= 0) {
		printf("  %-34s (not measured)\n", r->label);
		return;
	}
	printf("  %-34s %8.1f %8.0f %8.0f %8.0f %8.0f %8.1f", r->label, (double)w->frames / w->secs,
	       w->age_p50, w->age_p95, w->age_max, w->max_gap_ms, w->gw_cpu_pct);
	if (r->with_a)
		printf(" %8.1f %8.1f", r->a_fps, r->a_mib_s);
	else
		printf(" %8s %8s", "-", "-");
	if (opt.recording_dir)
		printf(" %8.1f", r->rec_mib_s);
	printf("%s\n", w->ok ? "" : "  (B's connection closed)");
	if (w->misreads)
		printf("  %-34s (%lu of %lu frames: clock not readable)\n", "", w->misreads,
		       w->misreads + (unsigned long)w->nages);
}

static const char *enc_name(int32_t e)
{
	return e == 5 ? "Hextile" : e == 0 ? "Raw" : "?";
}

static int run_record(void)
{
	static struct viewer bv;
	static struct big a;
	struct rec_row rows[1 + 4 * 8];
	int nrows = 0;

	memset(rows, 0, sizeof rows);
	viewer_init(&bv, "bench-1");
	fprintf(stderr, "bench: record: B (bench-1) on the animated page\n");
	if (bench_page_mode(opt.page_port, "anim", "bench") != 0 || viewer_open(&bv) != 0 ||
	    !viewer_pump_for(&bv, BENCH_WARMUP_MS)) {
		fprintf(stderr, "bench: record: B: %s\n", bv.err[0] ? bv.err : "closed");
		end_sessions(&bv, 1);
		return 1;
	}
	snprintf(rows[nrows].label, sizeof rows[nrows].label, "B alone");
	rec_measure(&rows[nrows++], &bv, NULL, opt.seconds * 1000);
	for (int round = 0; round < opt.rounds && !interrupted && !pgc_closed(bv.c); round++) {
		for (int recorded = 0; recorded < 2 && !interrupted && !pgc_closed(bv.c);
		     recorded++) {
			const char *user = recorded ? "bench-2" : "bench-3";
			struct rec_row *r = &rows[nrows++];

			fprintf(stderr, "bench: record: A (%s, %s) at %dx%d, %s\n", user,
				recorded ? "recorded" : "not recorded", opt.big_w, opt.big_h,
				enc_name(opt.big_enc));
			snprintf(r->label, sizeof r->label, "with A %s (%s)",
				 recorded ? "recorded" : "not recorded", user);
			if (big_start(&a, user, opt.big_w, opt.big_h, "noise", &bv) != 0) {
				snprintf(r->err, sizeof r->err, "A: %.150s", a.v.err);
				big_stop(&a, &bv, 1);
				continue;
			}
			viewer_pump_for(&bv, BENCH_WARMUP_MS);
			rec_measure(r, &bv, &a, opt.seconds * 1000);
			if (a.v.err[0] && !r->err[0])
				snprintf(r->err, sizeof r->err, "A: %.150s", a.v.err);
			/* A leaves: B measured from that moment (a recording is
			   closed and fsync'd when its viewer goes) */
			struct rec_row *l = &rows[nrows++];
			snprintf(l->label, sizeof l->label, "  A leaves, next %.0f s",
				 BENCH_LEAVE_MS / 1000.0);
			atomic_store(&a.stop, true);
			rec_measure(l, &bv, NULL, BENCH_LEAVE_MS);
			big_stop(&a, &bv, 1);
		}
	}
	end_sessions(&bv, 1);
	if (interrupted)
		return 130;

	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("\npixelgate benchmark, %s, %ld CPUs, %d s windows\n\n", date,
	       sysconf(_SC_NPROCESSORS_ONLN), opt.seconds);
	printf("(f) recording a big session: B (bench-1, recorded) on the animated page, its "
	       "picture age while\n    A streams a full-screen noise page at %dx%d in %s "
	       "(a full update asked every %d ms)\n",
	       opt.big_w, opt.big_h, enc_name(opt.big_enc), BENCH_BIG_FULL_MS);
	printf("  %-34s %8s %8s %8s %8s %8s %8s %8s %8s", "", "frames/s", "age p50", "age p95",
	       "age max", "max gap", "gw CPU%", "A upd/s", "A MiB/s");
	if (opt.recording_dir)
		printf(" %8s", "rec MiB/s");
	printf("\n");
	for (int i = 0; i < nrows; i++)
		print_rec_row(&rows[i]);
	printf("  (ages and max gap in ms; B's frames; A's updates and RFB MiB/s as its viewer "
	       "received them;\n   rec MiB/s: growth of the recording directory)\n");
	return 0;
}

/* ---- relay: gateway CPU per MB relayed ---------------------------------- */

/* One viewer streaming page for opt.seconds, with the viewer's own
   encodings and requests, or (one_encoding) with opt.big_enc only and a full
   update asked every second: prints
   "relay NAME SECONDS BYTES GW_CPU_MS FRAMES". 0 or -1. */
static int relay_one(const char *name, const char *page, bool one_encoding)
{
	struct usage u0, u1;
	uint64_t b0, b1, f0, f1;
	static struct viewer v;
	static struct big a;

	fprintf(stderr, "bench: relay: %s, %d s\n", name, opt.seconds);
	if (one_encoding) {
		if (big_start(&a, "bench-1", 0, 0, page, NULL) != 0) {
			fprintf(stderr, "bench: relay %s: %s\n", name, a.v.err);
			big_stop(&a, NULL, 0);
			return -1;
		}
		sleep_ms(BENCH_WARMUP_MS);
		b0 = atomic_load(&a.bytes);
		f0 = atomic_load(&a.frames);
		usage_take(&u0, false);
		sleep_ms(opt.seconds * 1000);
		usage_take(&u1, false);
		b1 = atomic_load(&a.bytes);
		f1 = atomic_load(&a.frames);
		bool ok = atomic_load(&a.state) == BIG_STREAMING;
		big_stop(&a, NULL, 0);
		if (!ok) {
			fprintf(stderr, "bench: relay %s: %s\n", name, a.v.err);
			return -1;
		}
	} else {
		viewer_init(&v, "bench-1");
		v.no_marker = true; /* the soak page has none: measured after the warm-up */
		if (bench_page_mode(opt.page_port, page, "bench") != 0 || viewer_open(&v) != 0 ||
		    !viewer_pump_for(&v, BENCH_WARMUP_MS)) {
			fprintf(stderr, "bench: relay %s: %s\n", name, v.err);
			end_sessions(&v, 1);
			return -1;
		}
		b0 = pgc_bytes_in(v.c);
		f0 = pgc_frames(v.c);
		usage_take(&u0, false);
		bool ok = viewer_pump_for(&v, opt.seconds * 1000);
		usage_take(&u1, false);
		b1 = pgc_bytes_in(v.c);
		f1 = pgc_frames(v.c);
		end_sessions(&v, 1);
		if (!ok) {
			fprintf(stderr, "bench: relay %s: the connection closed\n", name);
			return -1;
		}
	}
	printf("relay %s %.3f %llu %.0f %llu\n", name, u1.t_s - u0.t_s,
	       (unsigned long long)(b1 - b0), u1.gw_cpu_ms - u0.gw_cpu_ms,
	       (unsigned long long)(f1 - f0));
	return 0;
}

static int run_relay(void)
{
	char name[64];
	const char *enc = opt.big_enc == 5 ? "hextile" : "raw";
	int rc = 0;

	if (relay_one("soak-tight", "soak", false) != 0)
		rc = 1;
	snprintf(name, sizeof name, "soak-%s", enc);
	if (!interrupted && relay_one(name, "soak", true) != 0)
		rc = 1;
	snprintf(name, sizeof name, "noise-%s", enc);
	if (!interrupted && relay_one(name, "noise", true) != 0)
		rc = 1;
	return interrupted ? 130 : rc;
}

/* ---- set-up -------------------------------------------------------------- */

static void usage_exit(const char *argv0)
{
	fprintf(
	    stderr,
	    "usage: %s --port P --admin-port P --page-port P --ca FILE --password-file F\n"
	    "          --gateway-pid PID [--sessions N] [--prestart N] [--seconds S] [--fps-cap FPS]\n"
	    "          [--burst LOGINS]\n"
	    "          [--scenario default|record|relay] [--big-size WxH] [--big-encoding hextile|raw]\n"
	    "          [--recording-dir DIR] [--rounds N]\n"
	    "Users bench-1..bench-N and bench-admin must exist with that password\n"
	    "(record: bench-1..bench-3, the daemon recording bench-1 and bench-2 only).\n",
	    argv0);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "admin-port", required_argument, NULL, 'a' },
		{ "page-port", required_argument, NULL, 'w' },
		{ "ca", required_argument, NULL, 'c' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "gateway-pid", required_argument, NULL, 'g' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "prestart", required_argument, NULL, 'P' },
		{ "seconds", required_argument, NULL, 's' },
		{ "fps-cap", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "login-at", required_argument, NULL, 'A' },
		{ "login-user", required_argument, NULL, 'U' },
		{ "login-wrong", no_argument, NULL, 'W' },
		{ "scenario", required_argument, NULL, 'S' },
		{ "big-size", required_argument, NULL, 'B' },
		{ "big-encoding", required_argument, NULL, 'E' },
		{ "recording-dir", required_argument, NULL, 'R' },
		{ "rounds", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			opt.port = atoi(optarg);
			break;
		case 'a':
			opt.admin_port = atoi(optarg);
			break;
		case 'w':
			opt.page_port = atoi(optarg);
			break;
		case 'c':
			opt.ca_file = optarg;
			break;
		case 'f':
			opt.password_file = optarg;
			break;
		case 'g':
			opt.gateway_pid = (pid_t)atoi(optarg);
			break;
		case 'n':
			opt.sessions = atoi(optarg);
			break;
		case 'P':
			opt.prestart = atoi(optarg);
			break;
		case 's':
			opt.seconds = atoi(optarg);
			break;
		case 'r':
			opt.fps_cap = atoi(optarg);
			break;
		case 'b':
			opt.burst = atoi(optarg);
			break;
		case 'A':
			opt.login_at_ms = atoll(optarg);
			break;
		case 'U':
			opt.login_user = optarg;
			break;
		case 'W':
			opt.login_wrong = true;
			break;
		case 'S':
			if (strcmp(optarg, "default") == 0)
				opt.scenario = SCEN_DEFAULT;
			else if (strcmp(optarg, "record") == 0)
				opt.scenario = SCEN_RECORD;
			else if (strcmp(optarg, "relay") == 0)
				opt.scenario = SCEN_RELAY;
			else
				usage_exit(argv[0]);
			break;
		case 'B':
			if (sscanf(optarg, "%dx%d", &opt.big_w, &opt.big_h) != 2 ||
			    opt.big_w < 640 || opt.big_h < 480 || opt.big_w > 7680 ||
			    opt.big_h > 4320)
				usage_exit(argv[0]);
			break;
		case 'E':
			if (strcmp(optarg, "hextile") == 0)
				opt.big_enc = 5;
			else if (strcmp(optarg, "raw") == 0)
				opt.big_enc = 0;
			else
				usage_exit(argv[0]);
			break;
		case 'R':
			opt.recording_dir = optarg;
			break;
		case 'N':
			opt.rounds = atoi(optarg);
			break;
		default:
			usage_exit(argv[0]);
		}
	}
	if (opt.login_at_ms > 0) { /* one login of a burst */
		if (optind != argc || opt.port <= 0 || !opt.ca_file || !opt.password_file ||
		    !opt.login_user)
			usage_exit(argv[0]);
		return;
	}
	if (opt.burst < 0 || opt.burst > BENCH_BURST_MAX)
		usage_exit(argv[0]);
	if (optind != argc || opt.port <= 0 || opt.admin_port <= 0 || opt.page_port <= 0 ||
	    !opt.ca_file || !opt.password_file || opt.gateway_pid <= 0 || opt.sessions < 1 ||
	    opt.sessions > BENCH_MAX_SESSIONS || opt.seconds < 1 || opt.fps_cap < 1 ||
	    opt.fps_cap > 240 || opt.rounds < 1 || opt.rounds > 8)
		usage_exit(argv[0]);
}

/* Reads the password (first line of the file) and builds the admin's Basic header. */
static int load_password(void)
{
	char cred[400];
	FILE *f = fopen(opt.password_file, "r");

	if (f == NULL || fgets(password, sizeof password, f) == NULL) {
		fprintf(stderr, "bench: cannot read %s: %s\n", opt.password_file, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	password[strcspn(password, "\r\n")] = '\0';
	int n = snprintf(cred, sizeof cred, "bench-admin:%s", password);
	memcpy(admin_auth, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)admin_auth + 6, (const unsigned char *)cred, n);
	return 0;
}

/* Waits for /healthz; -1 if the daemon died or did not answer in time. */
static int wait_ready(void)
{
	for (double end = bench_now_s() + BENCH_READY_TIMEOUT_S; bench_now_s() < end;
	     sleep_ms(200)) {
		{
			char path[64], buf[512];
			int ppid = 0;
			snprintf(path, sizeof path, "/proc/%d/stat", (int)opt.gateway_pid);
			FILE *f = fopen(path, "r");
			size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
			if (f)
				fclose(f);
			buf[len] = '\0';
			const char *p = strrchr(buf, ')');
			if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
				ppid = 0;
			opt.sessions_parent = ppid > 1 ? (pid_t)ppid : opt.gateway_pid;
		}
		if (kill(opt.gateway_pid, 0) != 0) {
			fprintf(stderr, "bench: gateway pid %d is not running\n",
				(int)opt.gateway_pid);
			return -1;
		}
		if (healthz_sessions() >= 0)
			return 0;
	}
	fprintf(stderr, "bench: no /healthz answer on 127.0.0.1:%d within %d s\n", opt.admin_port,
		BENCH_READY_TIMEOUT_S);
	return -1;
}

/* ---- the scenarios ------------------------------------------------------- */

int main(int argc, char **argv)
{
	static struct viewer v[BENCH_MAX_SESSIONS];
	struct usage u_start, u_one, u_anim, u_many, u_end;
	struct window w_free = { 0 }, w_cap = { 0 }, w_static = { 0 };
	double settle_s = -1;
	bool one_ok = false, anim_ok = false;
	char label[64];

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	staff_srv = (struct pgc_server){ "127.0.0.1", opt.port, opt.ca_file };
	admin_srv = (struct pgc_server){ "127.0.0.1", opt.admin_port, opt.ca_file };
	if (opt.login_at_ms > 0)
		return load_password() == 0 ? login_once() : 1;
	if (load_password() != 0 || wait_ready() != 0)
		return 1;
	if (opt.scenario == SCEN_RECORD)
		return run_record();
	if (opt.scenario == SCEN_RELAY)
		return run_relay();
	usage_take(&u_start, false);
	memset(&u_one, 0, sizeof u_one);
	u_anim = u_many = u_one;

	/* (a) one session, then (c) and (d) on it: the static page */
	wait_prestarted(1);
	fprintf(stderr, "bench: (a) one session on the static page\n");
	static struct viewer one;
	viewer_init(&one, "bench-1");
	if (bench_page_mode(opt.page_port, "static", "bench") == 0 && viewer_open(&one) == 0) {
		double t0 = bench_now_s(), end = t0 + BENCH_SETTLE_MAX_S;
		fprintf(stderr, "bench: (c) waiting for %d ms without updates\n", BENCH_QUIET_MS);
		while (bench_now_s() < end && !interrupted) {
			uint64_t b0 = pgc_bytes_in(one.c);
			if (!viewer_pump_for(&one, BENCH_QUIET_MS))
				break;
			if (pgc_bytes_in(one.c) == b0) {
				settle_s = bench_now_s() - t0;
				break;
			}
		}
		fprintf(stderr, "bench: (c) static page, %d s\n", opt.seconds);
		measure_window(&one, false, &w_static);
		usage_take(&u_one, true);
		one_ok = true;
	}
	end_sessions(&one, 1); /* keeps its timings and err for the table */

	/* (b) the animated page, without and with a cap */
	static struct viewer anim;
	viewer_init(&anim, "bench-1");
	if (!interrupted && bench_page_mode(opt.page_port, "anim", "bench") == 0) {
		fprintf(stderr, "bench: (b) animated page, no cap then max_fps %d, %d s each\n",
			opt.fps_cap, opt.seconds);
		if (set_max_fps(0) == 0 && viewer_open(&anim) == 0 &&
		    viewer_pump_for(&anim, BENCH_WARMUP_MS)) {
			measure_window(&anim, true, &w_free);
			if (set_max_fps(opt.fps_cap) == 0 && viewer_pump_for(&anim, 1000))
				measure_window(&anim, true, &w_cap);
			set_max_fps(0);
			usage_take(&u_anim, true);
			anim_ok = true;
		}
		if (!anim_ok && !anim.err[0])
			snprintf(anim.err, sizeof anim.err,
				 "the connection closed or the admin API refused max_fps");
		if (anim.err[0])
			fprintf(stderr, "bench: (b) %s\n", anim.err);
	}
	end_sessions(&anim, 1);

	/* (e) the animated page again, without logins, then during login bursts */
	static struct viewer bv;
	struct window w_burst0 = { 0 };
	struct burst_result burst = { 0 };
	bool burst_ok = false;
	viewer_init(&bv, "bench-1");
	if (opt.burst > 0 && !interrupted && bench_page_mode(opt.page_port, "anim", "bench") == 0) {
		fprintf(stderr,
			"bench: (e) animated page, %d s without logins, then %d bursts of %d "
			"logins\n",
			opt.seconds, BENCH_BURST_ROUNDS, opt.burst);
		if (viewer_open(&bv) == 0 && viewer_pump_for(&bv, BENCH_WARMUP_MS)) {
			measure_window(&bv, true, &w_burst0);
			if (w_burst0.ok) {
				run_bursts(&bv, &burst);
				burst_ok = true;
			}
		}
		if (!burst_ok && !bv.err[0])
			snprintf(bv.err, sizeof bv.err, "the connection closed");
		if (bv.err[0])
			fprintf(stderr, "bench: (e) %s\n", bv.err);
	}
	end_sessions(&bv, 1);

	/* (a) N concurrent sessions, (d) with N sessions, (f) N users reading */
	int n = opt.sessions;
	struct reading reading = { 0 };
	if (n > 1 && !interrupted && bench_page_mode(opt.page_port, "static", "bench") == 0) {
		pthread_t th[BENCH_MAX_SESSIONS];
		bool started[BENCH_MAX_SESSIONS] = { false };

		wait_prestarted(n);
		fprintf(stderr, "bench: (a) %d concurrent sessions\n", n);
		for (int i = 0; i < n; i++) {
			char user[32];
			snprintf(user, sizeof user, "bench-%d", i + 1);
			viewer_init(&v[i], user);
		}
		for (int i = 0; i < n; i++)
			started[i] = pthread_create(&th[i], NULL, viewer_thread, &v[i]) == 0;
		for (int i = 0; i < n; i++)
			if (started[i])
				pthread_join(th[i], NULL);
			else
				snprintf(v[i].err, sizeof v[i].err, "pthread_create failed");
		usage_take(&u_many, true);
		if (!interrupted) {
			fprintf(stderr, "bench: (f) %d users reading, %d s\n", n, opt.seconds * 2);
			run_reading(v, n, opt.seconds * 2000, &reading);
		}
		end_sessions(v, n);
	}
	usage_take(&u_end, false);
	if (interrupted) {
		fprintf(stderr, "bench: interrupted\n");
		for (int i = 0; i < n; i++)
			viewer_free(&v[i]);
		return 130;
	}

	/* the table */
	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("\npixelgate benchmark, %s, %ld CPUs, %d sessions, %d s windows\n\n", date,
	       sysconf(_SC_NPROCESSORS_ONLN), n, opt.seconds);

	printf("(a) login -> first complete frame, ms since the login request\n");
	printf("  %-14s %-26s %9s %9s %9s %8s\n", "", "", "min", "median", "max", "ok");
	print_latency("1 session", &one, 1);
	if (n > 1) {
		snprintf(label, sizeof label, "%d sessions", n);
		print_latency(label, v, n);
	}

	printf("\n(b) animated page (redraws every 33 ms), one viewer, %d s each\n", opt.seconds);
	printf("  %-18s %8s %9s %11s %8s %8s %8s %8s %8s\n", "", "frames/s", "KiB/s", "bytes/frame",
	       "age p50", "age p95", "age max", "gw CPU%", "ses CPU%");
	if (anim_ok) {
		print_anim_row("max_fps 0 (no cap)", &w_free);
		snprintf(label, sizeof label, "max_fps %d", opt.fps_cap);
		print_anim_row(label, &w_cap);
	} else {
		printf("  failed: %s\n", anim.err[0] ? anim.err : "see stderr");
	}

	printf("\n(c) static page, one viewer, %d s once the screen was quiet for %d ms\n",
	       opt.seconds, BENCH_QUIET_MS);
	printf("  %-18s %8s %9s %9s %8s %8s\n", "", "bytes/s", "frames/s", "quiet after", "gw CPU%",
	       "ses CPU%");
	if (one_ok && w_static.secs > 0) {
		char quiet[32];
		if (settle_s >= 0)
			snprintf(quiet, sizeof quiet, "%.1f s", settle_s);
		else
			snprintf(quiet, sizeof quiet, "never");
		printf("  %-18s %8.1f %9.2f %11s %8.1f %8.1f\n", "static page",
		       (double)w_static.bytes / w_static.secs,
		       (double)w_static.frames / w_static.secs, quiet, w_static.gw_cpu_pct,
		       w_static.sess_cpu_pct);
	} else {
		printf("  failed: %s\n", one.err[0] ? one.err : "see stderr");
	}

	printf("\n(d) gateway and sessions (PSS: all processes of one session worker)\n");
	printf("  %-22s %10s %10s %9s   %21s   %12s   %5s\n", "", "gw RSS KiB", "gw CPU ms",
	       "sessions", "PSS MiB min/med/max", "private MiB", "procs");
	print_usage_row("start", &u_start, &u_start);
	if (one_ok)
		print_usage_row("1 session, static", &u_one, &u_start);
	if (anim_ok)
		print_usage_row("1 session, animated", &u_anim, &u_start);
	if (n > 1) {
		snprintf(label, sizeof label, "%d sessions, static", n);
		print_usage_row(label, &u_many, &u_start);
	}
	print_usage_row("end (sessions ended)", &u_end, &u_start);
	printf("  (gw CPU ms: the gateway's own user+system time since the start)\n");
	if (n > 1 && u_many.negress > 0)
		printf("  egress forwarders with %d sessions: %d, PSS %.1f MiB together (outside "
		       "the sessions' figures)\n",
		       n, u_many.negress, u_many.egress_pss_mib);

	if (n > 1) {
		printf("\n(f) %d users reading at once: F5 to a long page of Japanese and English "
		       "text, then\n    Page_Down every %d ms (Home after %d), %.0f s measured\n",
		       n, BENCH_READ_EVERY_MS, BENCH_READ_DOWNS, reading.secs);
		if (reading.end.t_s > 0)
			print_reading(&reading);
		else
			printf("  failed: the page server did not take the reading page\n");
	}

	if (opt.burst > 0) {
		printf(
		    "\n(e) login burst: %d logins at once (every other one with a wrong password), "
		    "%d rounds, one viewer on the animated page\n",
		    opt.burst, BENCH_BURST_ROUNDS);
		if (burst_ok)
			print_burst(&w_burst0, &burst);
		else
			printf("  failed: %s\n", bv.err[0] ? bv.err : "see stderr");
		free(burst.login_ms);
	}

	return 0;
}
