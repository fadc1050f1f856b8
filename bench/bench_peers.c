/*
 * bench_peers.c: the measuring client of `bench/run.sh peers` (issue 12):
 * one RFB server (pixelgate, or a VNC server behind websockify) measured on
 * the same pages with the same client, so that bench/run.sh can set the
 * figures of pixelgate, x11vnc and TigerVNC's Xvnc side by side. Figures
 * only: nothing here passes or fails on a timing.
 *
 * It connects over TLS WebSockets with the client library (pixelgate:
 * login, ticket, wss, pgc_connect_cb(); a peer: pgc_connect_ws(), which
 * asks the server for the encodings a pixelgate gateway passes on, in the
 * same order: libvncclient's "tight zrle zlib hextile copyrect raw" plus
 * its pseudo-encodings, 32 bpp; or --encodings, the same for all), then
 * for each run and workload:
 *
 *   GET /mode?m=PAGE on bench/pageserver.py, F5 (the browser reloads its
 *   start page, which is now PAGE), waits until the page's marker is on
 *   screen and the screen has been still for PEERS_QUIET_MS, then for
 *   --seconds measures:
 *     read:   Page_Down PEERS_READ_KEYS times at a fixed pace
 *     type:   PEERS_TYPE_KEYS letters at a fixed pace into a focused text area
 *     anim30: nothing (a 300 x 250 canvas changes 30 times a second)
 *     idle:   nothing (a still page)
 *     photo:  Page_Down as read, through photo-like pictures
 *   bytes (RFB payload received), framebuffer updates, server CPU
 *   (utime + stime of the encoder and X server processes: --server-pid, or
 *   for pixelgate the session's pixelgate-session and its Xvfb, found under
 *   --pixelgate-daemon), transport CPU (the subtree of --transport-pid:
 *   websockify, or pixelgate's network process), latency from each key to
 *   the first change of the client's pixels after it; then, once the screen
 *   is still again, the PSNR of the client's picture against the X
 *   server's screen (xwd of --xwd-display, or the Xvfb_screen0 file
 *   under --fb-dir; for pixelgate under --fb-dir as the session's worker
 *   sees it, /proc/PID/root/...), the box around the pointer left out.
 *
 * Prints one line per run and workload on stdout:
 *   result NAME WORKLOAD RUN BYTES UPDATES SERVER_CPU_MS TRANSPORT_CPU_MS
 *          P50_MS P95_MS KEYS_SEEN KEYS_SENT MSE
 * (MSE: the mean squared error per colour channel, 0..255, of the still
 * picture, from which bench/run.sh computes the PSNR; "-" for what does not
 * apply); progress on stderr. bench/run.sh peers turns the lines into
 * tables. When the client's guard (the viewer's check of the server's
 * stream, rfb_stream.c) refuses what a server sent, it prints
 *   refused NAME WORKLOAD RUN REASON
 * connects again and measures that window again (PEERS_MAX_REFUSALS times
 * at most).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include "client_core.h"

#define PEERS_MAX_PIDS 8
#define PEERS_MAX_KEYS 256
#define PEERS_CONNECT_SETTLE_S 60 /* first frame and a still screen after connecting */
#define PEERS_PAGE_TIMEOUT_S 30   /* F5 until the page's marker is on screen */
#define PEERS_RELOAD_MIN_MS 1000  /* F5 until the marker counts */
#define PEERS_QUIET_MS 1500       /* a still screen: no pixel changed for this long */
#define PEERS_SETTLE_MAX_S 20     /* longest wait for that */
#define PEERS_ANIM_WARMUP_MS 2000 /* anim30: after its marker, before measuring */
#define PEERS_FID_QUIET_MS 1000   /* fidelity: still this long before comparing */
#define PEERS_FID_MAX_S 8         /* longest wait for that */
#define PEERS_READ_KEYS 10        /* Page_Down presses per read/photo window */
#define PEERS_TYPE_KEYS 40        /* letters per type window */
#define PEERS_MAX_REFUSALS 3      /* guard refusals per window before giving up */
/* The pointer rests here (over the page, right of its text column, where
   nothing hovers); the box around it is left out of the PSNR, since a
   server may draw the cursor into the pixels it sends and xwd leaves it
   out. */
#define PEERS_POINTER_X 1200
#define PEERS_POINTER_Y 790
#define PEERS_CURSOR_X0 1180
#define PEERS_CURSOR_Y0 760
#define PEERS_CURSOR_X1 1260
#define PEERS_CURSOR_Y1 800
/* Each page's marker: 40 x 20 CSS px of its own colour (pageserver.py's
   MARKERS) at the top right of the viewport; searched right of
   PEERS_MARK_MIN_X and above PEERS_MARK_MAX_Y, counted as there with at
   least PEERS_MARK_MIN_PIXELS pixels within PEERS_MARK_TOL of its colour. */
#define PEERS_MARK_MIN_X 1150
#define PEERS_MARK_MAX_Y 300
#define PEERS_MARK_MIN_PIXELS 500
#define PEERS_MARK_TOL 8

/* A workload: its page, its marker's colour and what is pressed. */
struct workload {
	const char *name;
	int r, g, b;
	uint32_t keysym; /* 0: no keys; 1: letters a..z in turn */
	int keys;        /* presses per window */
	bool fidelity;   /* compare the still picture at the end */
};

static const struct workload workloads[] = {
	{ "read", 255, 0, 128, XK_Page_Down, PEERS_READ_KEYS, true },
	{ "type", 0, 200, 80, 1, PEERS_TYPE_KEYS, true },
	{ "anim30", 200, 100, 0, 0, 0, false },
	{ "idle", 120, 0, 255, 0, 0, true },
	{ "photo", 0, 128, 128, XK_Page_Down, PEERS_READ_KEYS, true },
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static struct {
	const char *name;
	const char *host;
	int port;
	const char *ca;
	const char *user; /* pixelgate: log in as user */
	const char *password_file;
	const char *ws_path; /* a peer: wss://host:port/ws_path */
	pid_t server_pids[PEERS_MAX_PIDS];
	int nserver_pids;
	pid_t pixelgate_daemon; /* pixelgate: its worker and Xvfb are found under it */
	pid_t transport_pid;
	const char *xwd_display;
	const char *fb_dir;
	int page_port;
	int seconds;
	int runs;
	const char *only;      /* comma-separated workloads, NULL = all */
	const char *encodings; /* --encodings: asked for after connecting, NULL = the viewer's */
} opt = { .host = "127.0.0.1", .seconds = 10, .runs = 2 };

static volatile sig_atomic_t interrupted;
/* pixelgate: the session's worker (pid 1 of its cell), seen by cpu_sample() */
static pid_t worker_pid;

/* The connection and what its callbacks saw. */
struct peer {
	struct pgc_conn *c;
	uint8_t *shadow; /* the previous pixels, to tell a change from a repeat */
	int w, h;
	int rs, gs, bs;     /* shifts of red, green, blue in a pixel */
	double last_change; /* monotonic s of the last pixel change */
	uint64_t changes;   /* rectangles that changed pixels */
	bool key_waiting;   /* a key was sent and no change seen since */
	double key_t;       /* when */
	double lat_ms[PEERS_MAX_KEYS];
	int nlat;
};

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- /proc: CPU time of the measured processes ------------------------------ */

/* CPU ms now: *server (encoder + X server), *transport (the subtree of
   --transport-pid). *nserver: processes counted as the server. */
static void cpu_sample(double *server, double *transport, int *nserver)
{
	struct bench_proc *v;
	size_t n = bench_proc_scan(&v);
	bool *in = calloc(n ? n : 1, sizeof *in);
	double tick_ms = 1000.0 / (double)sysconf(_SC_CLK_TCK);

	*server = *transport = 0;
	*nserver = 0;
	if (in == NULL) {
		free(v);
		return;
	}
	if (opt.pixelgate_daemon > 0) {
		/* the session's worker (a child of the privileged parent) and the
		   Xvfb in its cell; not its Chromium */
		for (size_t i = 0; i < n; i++) {
			if (v[i].ppid != opt.pixelgate_daemon ||
			    strncmp(v[i].comm, "pixelgate-sess", 14) != 0)
				continue;
			worker_pid = v[i].pid;
			bench_proc_subtree(v, n, v[i].pid, in);
			for (size_t j = 0; j < n; j++)
				if (in[j] && (j == i || strcmp(v[j].comm, "Xvfb") == 0)) {
					*server += (double)v[j].ticks * tick_ms;
					(*nserver)++;
				}
		}
	} else {
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < opt.nserver_pids; k++)
				if (v[i].pid == opt.server_pids[k]) {
					*server += (double)v[i].ticks * tick_ms;
					(*nserver)++;
				}
	}
	if (opt.transport_pid > 0) {
		bench_proc_subtree(v, n, opt.transport_pid, in);
		for (size_t i = 0; i < n; i++)
			if (in[i])
				*transport += (double)v[i].ticks * tick_ms;
	}
	free(in);
	free(v);
}

/* ---- the page server ---------------------------------------------------------- */

/* ---- callbacks: the client's picture ------------------------------------------ */

static void cb_fb(void *user, const struct pgc_fb *fb)
{
	struct peer *p = user;
	uint8_t *s = calloc((size_t)fb->width * (size_t)fb->height, 4);

	if (s == NULL)
		return;
	free(p->shadow);
	p->shadow = s;
	p->w = fb->width;
	p->h = fb->height;
	p->rs = fb->red_shift;
	p->gs = fb->green_shift;
	p->bs = fb->blue_shift;
	p->last_change = bench_now_s();
}

/* A decoded rectangle: a change if any of its pixels differs from before. */
static void cb_update(void *user, const struct pgc_fb *fb, int x, int y, int w, int h)
{
	struct peer *p = user;
	bool changed = false;

	if (p->shadow == NULL || fb->width != p->w || fb->height != p->h)
		return;
	for (int row = y; row < y + h; row++) {
		const uint8_t *src = fb->pixels + (size_t)row * (size_t)fb->stride_bytes +
		    (size_t)x * 4;
		uint8_t *dst = p->shadow + ((size_t)row * (size_t)p->w + (size_t)x) * 4;
		if (memcmp(src, dst, (size_t)w * 4) != 0) {
			changed = true;
			memcpy(dst, src, (size_t)w * 4);
		}
	}
	if (!changed)
		return;
	double t = bench_now_s();
	p->last_change = t;
	p->changes++;
	if (p->key_waiting) {
		p->key_waiting = false;
		if (p->nlat < PEERS_MAX_KEYS)
			p->lat_ms[p->nlat++] = (t - p->key_t) * 1000.0;
	}
}

/* Pumps for ms milliseconds. False if the connection closed. */
static bool pump_for(struct peer *p, int ms)
{
	double end = bench_now_s() + ms / 1000.0;

	while (!interrupted) {
		int left = (int)((end - bench_now_s()) * 1000.0);
		if (left <= 0)
			break;
		if (pgc_pump(p->c, left > 50 ? 50 : left) < 0)
			return false;
	}
	return !pgc_closed(p->c) && !interrupted;
}

/* Pumps until no pixel changed for quiet_ms, at most max_s. True if still. */
static bool wait_still(struct peer *p, int quiet_ms, double max_s)
{
	double end = bench_now_s() + max_s;

	while (bench_now_s() < end) {
		if (bench_now_s() - p->last_change >= quiet_ms / 1000.0)
			return true;
		if (!pump_for(p, 50))
			return false;
	}
	return false;
}

/* True if the workload's marker is on the client's screen. */
static bool marker_seen(const struct peer *p, const struct workload *wl)
{
	int count = 0;

	if (p->shadow == NULL)
		return false;
	for (int y = 0; y < p->h && y < PEERS_MARK_MAX_Y; y++)
		for (int x = PEERS_MARK_MIN_X; x < p->w; x++) {
			uint32_t px;
			memcpy(&px, p->shadow + ((size_t)y * (size_t)p->w + (size_t)x) * 4, 4);
			int r = (int)(px >> p->rs) & 0xff, g = (int)(px >> p->gs) & 0xff,
			    b = (int)(px >> p->bs) & 0xff;
			if (abs(r - wl->r) <= PEERS_MARK_TOL && abs(g - wl->g) <= PEERS_MARK_TOL &&
			    abs(b - wl->b) <= PEERS_MARK_TOL)
				count++;
		}
	return count >= PEERS_MARK_MIN_PIXELS;
}

/* ---- fidelity: the X server's screen ------------------------------------------ */

/* A 32-bit XWD image (Xvfb's -fbdir file or xwd's output). */
struct xwd {
	const uint8_t *pixels;
	int w, h, stride;
	bool msb; /* pixel byte order */
	uint32_t mask[3];
};

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Parses the XWD header of buf[0 .. len). 0, or -1 (reported) if it is not a
   32-bit ZPixmap that fits in len. */
static int xwd_parse(const uint8_t *buf, size_t len, struct xwd *x)
{
	if (len < 100) {
		fprintf(stderr, "bench_peers: XWD image too short\n");
		return -1;
	}
	uint32_t hsize = be32(buf), format = be32(buf + 8), w = be32(buf + 16), h = be32(buf + 20),
		 order = be32(buf + 28), bpp = be32(buf + 44), stride = be32(buf + 48),
		 ncolors = be32(buf + 76);
	uint64_t off = (uint64_t)hsize + (uint64_t)ncolors * 12;
	if (format != 2 || bpp != 32 || w == 0 || h == 0 || w > 16384 || h > 16384 ||
	    stride < w * 4 || off + (uint64_t)stride * h > len) {
		fprintf(stderr, "bench_peers: XWD image not 32-bit ZPixmap or cut short\n");
		return -1;
	}
	x->pixels = buf + off;
	x->w = (int)w;
	x->h = (int)h;
	x->stride = (int)stride;
	x->msb = order == 1;
	x->mask[0] = be32(buf + 56);
	x->mask[1] = be32(buf + 60);
	x->mask[2] = be32(buf + 64);
	return 0;
}

/* Reads all of f into a malloc'd buffer. NULL on failure. */
static uint8_t *read_all(FILE *f, size_t *len)
{
	size_t cap = 8u << 20, n = 0;
	uint8_t *b = malloc(cap);

	while (b != NULL) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2);
			if (nb == NULL) {
				free(b);
				return NULL;
			}
			b = nb;
			cap *= 2;
		}
	}
	*len = n;
	return b;
}

static char fb_file[4096];

static int find_fb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	if (type == FTW_F && strcmp(path + ftw->base, "Xvfb_screen0") == 0) {
		snprintf(fb_file, sizeof fb_file, "%s", path);
		return 1;
	}
	return 0;
}

/* The X server's screen now as XWD bytes (malloc'd), or NULL (reported). */
static uint8_t *screen_grab(size_t *len)
{
	FILE *f;
	uint8_t *b;

	if (opt.fb_dir != NULL) {
		char dir[4096];
		/* pixelgate: the session's directory is on a tmpfs of the cell's
		   own, seen through its worker's root */
		if (opt.pixelgate_daemon > 0)
			snprintf(dir, sizeof dir, "/proc/%d/root%s", (int)worker_pid, opt.fb_dir);
		else
			snprintf(dir, sizeof dir, "%s", opt.fb_dir);
		fb_file[0] = '\0';
		nftw(dir, find_fb, 16, FTW_PHYS);
		if (fb_file[0] == '\0') {
			fprintf(stderr, "bench_peers: no Xvfb_screen0 under %s\n", dir);
			return NULL;
		}
		f = fopen(fb_file, "rb");
		if (f == NULL) {
			fprintf(stderr, "bench_peers: %s: %s\n", fb_file, strerror(errno));
			return NULL;
		}
		b = read_all(f, len);
		fclose(f);
		return b;
	}
	if (opt.xwd_display == NULL)
		return NULL;
	char cmd[256];
	snprintf(cmd, sizeof cmd, "xwd -root -silent -display '%s'", opt.xwd_display);
	f = popen(cmd, "r");
	if (f == NULL)
		return NULL;
	b = read_all(f, len);
	if (pclose(f) != 0) {
		fprintf(stderr, "bench_peers: %s failed\n", cmd);
		free(b);
		return NULL;
	}
	return b;
}

/* The value of a channel (mask) of an XWD pixel, scaled to 0..255. */
static int xwd_channel(uint32_t px, uint32_t mask)
{
	int shift = 0, bits = 0;

	if (mask == 0)
		return 0;
	while (!(mask >> shift & 1))
		shift++;
	while (shift + bits < 32 && (mask >> (shift + bits) & 1))
		bits++;
	uint32_t v = (px & mask) >> shift, max = (bits >= 32 ? 0xffffffffu : (1u << bits) - 1);
	return (int)(v * 255 / max);
}

/* Mean squared error per colour channel of the client's picture against the
   X screen, the pointer's box left out; NAN if not available. */
static double mse_now(const struct peer *p)
{
	size_t len = 0;
	uint8_t *buf = screen_grab(&len);
	struct xwd x;
	double se = 0;
	uint64_t n = 0;

	if (buf == NULL)
		return NAN;
	if (xwd_parse(buf, len, &x) != 0 || x.w < p->w || x.h < p->h || p->shadow == NULL) {
		free(buf);
		return NAN;
	}
	for (int y = 0; y < p->h; y++)
		for (int xx = 0; xx < p->w; xx++) {
			if (xx >= PEERS_CURSOR_X0 && xx < PEERS_CURSOR_X1 && y >= PEERS_CURSOR_Y0 &&
			    y < PEERS_CURSOR_Y1)
				continue;
			const uint8_t *s = x.pixels + (size_t)y * (size_t)x.stride + (size_t)xx * 4;
			uint32_t sp = x.msb ? be32(s)
					    : (uint32_t)s[3] << 24 | (uint32_t)s[2] << 16 |
				(uint32_t)s[1] << 8 | s[0];
			uint32_t cp;
			memcpy(&cp, p->shadow + ((size_t)y * (size_t)p->w + (size_t)xx) * 4, 4);
			int d[3] = { (int)(cp >> p->rs & 0xff) - xwd_channel(sp, x.mask[0]),
				     (int)(cp >> p->gs & 0xff) - xwd_channel(sp, x.mask[1]),
				     (int)(cp >> p->bs & 0xff) - xwd_channel(sp, x.mask[2]) };
			se += (double)(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
			n += 3;
		}
	free(buf);
	return n > 0 ? se / (double)n : NAN;
}

/* ---- the workloads ------------------------------------------------------------ */

static int key_press(struct peer *p, uint32_t keysym)
{
	p->key_t = bench_now_s();
	p->key_waiting = true;
	if (pgc_key(p->c, keysym, true) != 0 || pgc_key(p->c, keysym, false) != 0)
		return -1;
	return 0;
}

/* Loads the workload's page (mode, F5) and waits for it. 0 or -1 (reported). */
static int load_page(struct peer *p, const struct workload *wl)
{
	if (bench_page_mode(opt.page_port, wl->name, "bench_peers") != 0)
		return -1;
	p->key_waiting = false;
	if (pgc_pointer(p->c, PEERS_POINTER_X, PEERS_POINTER_Y, 0) != 0 ||
	    pgc_key(p->c, XK_F5, true) != 0 || pgc_key(p->c, XK_F5, false) != 0) {
		fprintf(stderr, "bench_peers: %s: sending F5 failed: %s\n", opt.name,
			pgc_close_reason(p->c));
		return -1;
	}
	if (!pump_for(p, PEERS_RELOAD_MIN_MS))
		return -1;
	double end = bench_now_s() + PEERS_PAGE_TIMEOUT_S;
	while (!marker_seen(p, wl)) {
		if (bench_now_s() > end) {
			fprintf(stderr, "bench_peers: %s: page %s not on screen after %d s\n",
				opt.name, wl->name, PEERS_PAGE_TIMEOUT_S);
			return -1;
		}
		if (!pump_for(p, 100))
			return -1;
	}
	if (!wl->fidelity) /* it never stands still */
		return pump_for(p, PEERS_ANIM_WARMUP_MS) ? 0 : -1;
	if (!wait_still(p, PEERS_QUIET_MS, PEERS_SETTLE_MAX_S))
		fprintf(stderr, "bench_peers: %s: page %s not still after %d s; measuring anyway\n",
			opt.name, wl->name, PEERS_SETTLE_MAX_S);
	return pgc_closed(p->c) ? -1 : 0;
}

/* One window of one workload; prints its result line. 0 or -1. */
static int run_workload(struct peer *p, const struct workload *wl, int run)
{
	double s0, t0, s1, t1, start, end, pace;
	uint64_t b0, f0;
	int n0, n1, sent = 0;

	if (load_page(p, wl) != 0)
		return -1;
	p->nlat = 0;
	p->key_waiting = false;
	pace = wl->keys > 0 ? (double)opt.seconds / wl->keys : 0;
	cpu_sample(&s0, &t0, &n0);
	b0 = pgc_bytes_in(p->c);
	f0 = pgc_frames(p->c);
	start = bench_now_s();
	end = start + opt.seconds;
	while (bench_now_s() < end) {
		double next = wl->keys > 0 && sent < wl->keys ? start + pace * (sent + 0.25) : end;
		if (next > end)
			next = end;
		if (bench_now_s() >= next && sent < wl->keys) {
			uint32_t ks = wl->keysym == 1 ? (uint32_t)('a' + sent % 26) : wl->keysym;
			if (key_press(p, ks) != 0)
				return -1;
			sent++;
			continue;
		}
		int left = (int)((next - bench_now_s()) * 1000.0);
		if (pgc_pump(p->c, left < 1 ? 1 : left > 20 ? 20 : left) < 0 || interrupted)
			return -1;
	}
	uint64_t bytes = pgc_bytes_in(p->c) - b0, frames = pgc_frames(p->c) - f0;
	cpu_sample(&s1, &t1, &n1);
	int seen = p->nlat;
	double p50 = bench_quantile(p->lat_ms, (size_t)p->nlat, 0.5);
	double p95 = bench_quantile(p->lat_ms, (size_t)p->nlat, 0.95);
	double mse = NAN;
	if (wl->fidelity && (opt.fb_dir || opt.xwd_display)) {
		if (wait_still(p, PEERS_FID_QUIET_MS, PEERS_FID_MAX_S))
			mse = mse_now(p);
		else
			fprintf(stderr,
				"bench_peers: %s: %s not still after the window: no fidelity\n",
				opt.name, wl->name);
	}
	if (n0 == 0 || n1 != n0)
		fprintf(stderr, "bench_peers: %s: server processes counted: %d, then %d\n",
			opt.name, n0, n1);
	char lat50[32] = "-", lat95[32] = "-", ps[32] = "-";
	if (wl->keys > 0 && seen > 0) {
		snprintf(lat50, sizeof lat50, "%.1f", p50);
		snprintf(lat95, sizeof lat95, "%.1f", p95);
	}
	if (!isnan(mse))
		snprintf(ps, sizeof ps, "%.4g", mse);
	printf("result %s %s %d %llu %llu %.0f %.0f %s %s %d %d %s\n", opt.name, wl->name, run,
	       (unsigned long long)bytes, (unsigned long long)frames, s1 - s0, t1 - t0, lat50,
	       lat95, seen, sent, ps);
	fflush(stdout);
	fprintf(stderr,
		"bench_peers: %s %s run %d: %.1f kB, %llu updates, server %.0f ms, transport %.0f "
		"ms, key->change p50 %s p95 %s ms (%d/%d), MSE %s\n",
		opt.name, wl->name, run, (double)bytes / 1000.0, (unsigned long long)frames,
		s1 - s0, t1 - t0, lat50, lat95, seen, sent, ps);
	return 0;
}

/* ---- main -------------------------------------------------------------------- */

static void usage_exit(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --name NAME --port PORT --ca CA_FILE --page-port PORT\n"
		"         (--user USER --password-file FILE --pixelgate-daemon PID | --ws-path PATH\n"
		"          --server-pid PID [--server-pid PID ...])\n"
		"         [--transport-pid PID] [--xwd-display :N | --fb-dir DIR]\n"
		"         [--seconds S] [--runs N] [--only read,type,anim30,idle,photo]\n"
		"         [--encodings 'zrle copyrect raw ...']\n",
		argv0);
	exit(2);
}

static int int_arg(const char *s, int lo, int hi, const char *argv0)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*s == '\0' || *e != '\0' || v < lo || v > hi)
		usage_exit(argv0);
	return (int)v;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			usage_exit(argv[0]);
		i++;
		if (strcmp(a, "--name") == 0)
			opt.name = v;
		else if (strcmp(a, "--port") == 0)
			opt.port = int_arg(v, 1, 65535, argv[0]);
		else if (strcmp(a, "--ca") == 0)
			opt.ca = v;
		else if (strcmp(a, "--page-port") == 0)
			opt.page_port = int_arg(v, 1, 65535, argv[0]);
		else if (strcmp(a, "--user") == 0)
			opt.user = v;
		else if (strcmp(a, "--password-file") == 0)
			opt.password_file = v;
		else if (strcmp(a, "--ws-path") == 0)
			opt.ws_path = v;
		else if (strcmp(a, "--server-pid") == 0 && opt.nserver_pids < PEERS_MAX_PIDS)
			opt.server_pids[opt.nserver_pids++] = int_arg(v, 1, 1 << 30, argv[0]);
		else if (strcmp(a, "--pixelgate-daemon") == 0)
			opt.pixelgate_daemon = int_arg(v, 1, 1 << 30, argv[0]);
		else if (strcmp(a, "--transport-pid") == 0)
			opt.transport_pid = int_arg(v, 1, 1 << 30, argv[0]);
		else if (strcmp(a, "--xwd-display") == 0)
			opt.xwd_display = v;
		else if (strcmp(a, "--fb-dir") == 0)
			opt.fb_dir = v;
		else if (strcmp(a, "--seconds") == 0)
			opt.seconds = int_arg(v, 1, 3600, argv[0]);
		else if (strcmp(a, "--runs") == 0)
			opt.runs = int_arg(v, 1, 16, argv[0]);
		else if (strcmp(a, "--only") == 0)
			opt.only = v;
		else if (strcmp(a, "--encodings") == 0)
			opt.encodings = v;
		else
			usage_exit(argv[0]);
	}
	if (opt.name == NULL || opt.port == 0 || opt.ca == NULL || opt.page_port == 0 ||
	    (opt.user != NULL) == (opt.ws_path != NULL) ||
	    (opt.user != NULL && (opt.password_file == NULL || opt.pixelgate_daemon == 0)) ||
	    (opt.ws_path != NULL && opt.nserver_pids == 0))
		usage_exit(argv[0]);
	if (opt.xwd_display != NULL && strchr(opt.xwd_display, '\'') != NULL)
		usage_exit(argv[0]);
}

/*
 * --encodings "zrle copyrect ...": a SetEncodings of those (raw, copyrect,
 * hextile, zlib, tight, zrle; "jpeg" adds Tight's quality level 5), then
 * compression level 3, LastRect and DesktopSize, sent after libvncclient's
 * own, so that every server is asked for the same other list. 0 or -1.
 */
static int send_encodings(struct peer *p)
{
	static const struct {
		const char *name;
		int32_t enc;
	} names[] = { { "raw", 0 },   { "copyrect", 1 }, { "hextile", 5 }, { "zlib", 6 },
		      { "tight", 7 }, { "zrle", 16 },    { "jpeg", -27 } };
	uint8_t msg[4 + 4 * 16] = { 2, 0, 0, 0 };
	int32_t list[16];
	int n = 0;
	char words[256];

	snprintf(words, sizeof words, "%s", opt.encodings);
	for (char *save = NULL, *w = strtok_r(words, " ,", &save); w != NULL;
	     w = strtok_r(NULL, " ,", &save)) {
		size_t i;
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(w, names[i].name) == 0)
				break;
		if (i == sizeof names / sizeof names[0] || n >= 12) {
			fprintf(stderr, "bench_peers: --encodings: unknown or too many: %s\n", w);
			return -1;
		}
		list[n++] = names[i].enc;
	}
	list[n++] = -256 + 3; /* compression level 3, libvncclient's default */
	list[n++] = -224;     /* LastRect */
	list[n++] = -223;     /* DesktopSize */
	msg[3] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint32_t u = (uint32_t)list[i];
		msg[4 + 4 * i] = (uint8_t)(u >> 24);
		msg[5 + 4 * i] = (uint8_t)(u >> 16);
		msg[6 + 4 * i] = (uint8_t)(u >> 8);
		msg[7 + 4 * i] = (uint8_t)u;
	}
	return pgc_send_raw(p->c, msg, 4 + 4 * (size_t)n);
}

/* Connects (pixelgate: logs in first). 0 or -1 (reported). */
static int peer_connect(struct peer *p)
{
	const struct pgc_server srv = { .host = opt.host, .port = opt.port, .ca_file = opt.ca };
	const struct pgc_callbacks cb = {
		.user = p, .fb_resized = cb_fb, .fb_update = cb_update, .frame_done = NULL
	};
	char err[512] = "";

	if (opt.user != NULL) {
		char password[256] = "";
		struct pgc_login_result res;
		FILE *f = fopen(opt.password_file, "r");
		if (f == NULL || fgets(password, sizeof password, f) == NULL) {
			fprintf(stderr, "bench_peers: cannot read %s\n", opt.password_file);
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		password[strcspn(password, "\r\n")] = '\0';
		memset(&res, 0, sizeof res);
		if (pgc_login(&srv, opt.user, password, 1280, 800, &res) != 0) {
			fprintf(stderr, "bench_peers: login: HTTP %d %s %s\n", res.http_status,
				res.error, res.message);
			return -1;
		}
		p->c = pgc_connect_cb(&srv, res.ticket, &cb, err, sizeof err, NULL);
	} else {
		p->c = pgc_connect_ws(&srv, opt.ws_path, &cb, err, sizeof err);
	}
	if (p->c == NULL) {
		fprintf(stderr, "bench_peers: %s: connect: %s\n", opt.name, err);
		return -1;
	}
	if (pgc_pointer(p->c, PEERS_POINTER_X, PEERS_POINTER_Y, 0) != 0 ||
	    (opt.encodings != NULL && send_encodings(p) != 0))
		return -1;
	/* the first picture, and the browser done starting */
	double end = bench_now_s() + PEERS_CONNECT_SETTLE_S;
	while (pgc_frames(p->c) == 0 && bench_now_s() < end)
		if (!pump_for(p, 100))
			break;
	if (pgc_frames(p->c) == 0 || !wait_still(p, 2000, PEERS_CONNECT_SETTLE_S)) {
		fprintf(stderr, "bench_peers: %s: no still picture after connecting (%s)\n",
			opt.name, pgc_closed(p->c) ? pgc_close_reason(p->c) : "connection open");
		return -1;
	}
	fprintf(stderr, "bench_peers: %s: connected, %dx%d\n", opt.name, p->w, p->h);
	return 0;
}

/* True if workload name is among --only (or there is no --only). */
static bool wanted(const char *name)
{
	if (opt.only == NULL)
		return true;
	size_t n = strlen(name);
	for (const char *s = opt.only; *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == n && strncmp(s, name, n) == 0)
			return true;
		s += len + (e != NULL);
	}
	return false;
}

int main(int argc, char **argv)
{
	static struct peer p;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 0;

	parse_args(argc, argv);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (peer_connect(&p) != 0) {
		pgc_free(p.c);
		free(p.shadow);
		return 1;
	}
	for (int run = 1; run <= opt.runs && rc == 0; run++)
		for (size_t i = 0; i < NWORKLOADS && rc == 0; i++) {
			int refusals = 0;
			if (!wanted(workloads[i].name))
				continue;
			while (run_workload(&p, &workloads[i], run) != 0) {
				/* the client's guard (rfb_stream.c, as in the viewer)
				   refused what the server sent: say so, connect again
				   and measure the window again */
				if (interrupted || pgc_close_code(p.c) != PGC_CLOSE_REFUSED ||
				    ++refusals > PEERS_MAX_REFUSALS) {
					rc = 1;
					break;
				}
				printf("refused %s %s %d %s\n", opt.name, workloads[i].name, run,
				       pgc_close_reason(p.c));
				fflush(stdout);
				fprintf(stderr, "bench_peers: %s: %s; connecting again\n", opt.name,
					pgc_close_reason(p.c));
				pgc_free(p.c);
				p.c = NULL;
				if (peer_connect(&p) != 0) {
					rc = 1;
					break;
				}
			}
		}
	if (rc != 0)
		fprintf(stderr, "bench_peers: %s: stopped (%s)\n", opt.name,
			interrupted           ? "interrupted"
			    : pgc_closed(p.c) ? pgc_close_reason(p.c)
					      : "see above");
	pgc_free(p.c);
	free(p.shadow);
	return interrupted ? 130 : rc;
}
