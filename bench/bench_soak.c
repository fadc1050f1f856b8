/*
 * bench_soak.c: a churn soak of a running pixelgate gateway. N users log in,
 * connect, read a page that scrolls itself and repaints a noise band (big
 * updates, bench/pageserver.py's "soak" page), and leave in every way a real
 * viewer leaves, again and again, for a given time; meanwhile sessions are
 * taken over, ended by the admin API, left idle until idle_timeout_s ends
 * them, and their browsers are killed. At the end it checks that the
 * gateway survived, that its descriptors did not grow, that the audit log is
 * intact and holds every login the users saw succeed, and prints what it
 * saw. bench/run.sh soak builds the world and runs it; see bench/README.md.
 *
 * Processes: the main process forks one process per user before it touches
 * OpenSSL or libwebsockets (so each fork is of a single-threaded process);
 * a user process forks one child per connection ("viewer"), which logs in,
 * connects with the client library and streams. A viewer that leaves
 * abruptly kills itself with SIGKILL in the middle of a FramebufferUpdate
 * (the rest of the update is still in its socket: the kernel answers with a
 * reset); a takeover is a second viewer of the same user. Counters live in
 * one MAP_SHARED page set, updated with atomics, so a viewer that is killed
 * loses nothing it counted before. The main process meanwhile injects the
 * admin kills and browser crashes and samples the gateway.
 *
 * Exit status: 0 if the gateway is alive, its fd count did not grow beyond
 * --fd-margin, `pixelgatectl audit verify` says OK and the audit log holds
 * at least as many login_ok records as logins succeeded; 1 otherwise;
 * 2 on a usage error. Traffic goes only to the addresses of the config
 * (127.0.0.1 in bench/run.sh's world).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include <arpa/inet.h>

#include "client_core.h"
#include "config.h"

#define SOAK_MAX_USERS 64
#define SOAK_MAX_KEYS 96 /* distinct outcome texts counted */
#define SOAK_KEY_LEN 96
#define SOAK_DWELL_MIN_MS 1000  /* a viewer streams this long at least ... */
#define SOAK_DWELL_MAX_MS 6000  /* ... and at most, before it leaves */
#define SOAK_INPUT_EVERY_MS 300 /* pointer moves (and wheel turns) while streaming */
#define SOAK_STREAM_WAIT_S \
	60                   /* login until the viewer streams (sessions start slowly under load) */
#define SOAK_CLOSE_WAIT_S 30 /* a closed or replaced viewer has gone */
#define SOAK_IDLE_EXTRA_S 20 /* idle cycle: idle_timeout_s plus this, at most */
#define SOAK_STOP_WAIT_S 90  /* users have finished after the end of the run */
#define SOAK_END_WAIT_S 60   /* every session ended and its worker gone */
#define SOAK_READY_TIMEOUT_S 30 /* the daemon answers /healthz */
#define SOAK_SAMPLE_MS 1000     /* gateway RSS / liveness sampling period */
#define SOAK_SETTLE_MS 2000     /* after the last session ended, before the fd count */

/* Command-line settings. */
struct soak_opts {
	const char *conf_file; /* the gateway's config: ports, directories, limits */
	const char *ca_file;
	const char *password_file;
	const char *gateway_log; /* the daemon's stderr (worker crashes, sanitizer reports) */
	const char *ctl;         /* pixelgatectl, for audit verify */
	const char *user_prefix; /* users PREFIX1 .. PREFIXN */
	const char *admin_user;
	pid_t gateway_pid;
	int page_port; /* bench/pageserver.py: 0 = leave the page mode alone */
	int users;
	int duration_s;
	int chaos_interval_s; /* one admin kill or browser crash this often (0 = none) */
	int fd_margin;        /* fds the gateway may hold at the end beyond the start */
	unsigned seed;
};

static struct soak_opts opt = { .user_prefix = "bench-",
				.admin_user = "bench-admin",
				.users = 4,
				.duration_s = 120,
				.chaos_interval_s = 15,
				.fd_margin = 4 };
static struct config cfg;
static struct pgc_server staff_srv, admin_srv;
static char password[256];
static char admin_auth[400];
static volatile sig_atomic_t interrupted;

/* ---- counters shared by every process ----------------------------------- */

/* Fixed counters. */
enum soak_counter {
	C_CYCLES,        /* viewers started */
	C_LOGIN_OK,      /* HTTP 200 with a ticket */
	C_LOGIN_REFUSED, /* any other answer or none */
	C_WRONG_SENT,    /* logins sent with a wrong password on purpose */
	C_WRONG_401,     /* ... answered 401 invalid_credentials */
	C_CONNECT_OK,    /* WebSocket open and RFB handshake done */
	C_CONNECT_FAILED,
	C_CLEAN_CLOSE,       /* the viewer closed with a close frame */
	C_ABRUPT_MID,        /* the viewer died in the middle of an update */
	C_ABRUPT_IDLE,       /* ... with no update arriving (it waited 2 s for one) */
	C_CLOSED_BY_GW,      /* the gateway (or the network) ended the connection */
	C_TAKEOVERS,         /* second viewers started while the first streamed */
	C_TAKEOVER_4000,     /* ... whose first viewer got 4000 replaced */
	C_IDLE_CYCLES,       /* viewers that stopped sending input */
	C_IDLE_4004,         /* ... closed with 4004 */
	C_GRACE_PAUSES,      /* pauses longer than reconnect_grace_s before the next login */
	C_HUNG,              /* viewers killed by their user process after a deadline */
	C_FRAMES,            /* FramebufferUpdates decoded */
	C_BYTES,             /* RFB bytes received */
	C_ADMIN_KILLS,       /* DELETE /api/v1/sessions/ID answered 200 */
	C_ADMIN_KILL_MISSED, /* ... answered otherwise (session gone meanwhile) */
	C_CRASHES,           /* Chromium browser processes killed */
	C_CRASH_MISSED,      /* no Chromium found for the chosen session */
	C_COUNT
};

/* A counted outcome text ("login: HTTP 503 busy", "closed: 4002 ..."). */
struct soak_key {
	_Atomic int state; /* 0 free, 1 being written, 2 ready */
	char text[SOAK_KEY_LEN];
	_Atomic unsigned long n;
};

/* One user's current viewer, as its user process and the viewer see it. */
struct soak_slot {
	_Atomic int streaming_pid; /* pid of the viewer that is streaming now, 0 if none */
};

struct soak_shared {
	_Atomic int go;   /* users start */
	_Atomic int stop; /* users finish their viewer and leave */
	_Atomic unsigned long c[C_COUNT];
	struct soak_key keys[SOAK_MAX_KEYS];
	_Atomic unsigned long keys_lost; /* outcomes not counted: table full */
	struct soak_slot slot[SOAK_MAX_USERS];
};

static struct soak_shared *sh;

static void count(enum soak_counter k, unsigned long n)
{
	atomic_fetch_add(&sh->c[k], n);
}

static unsigned long counter(enum soak_counter k)
{
	return atomic_load(&sh->c[k]);
}

/* Counts one outcome under text (cleaned, cut at SOAK_KEY_LEN - 1). Lock-free:
   a process killed while it writes a new key leaves only that slot unusable. */
static void count_key(const char *text)
{
	char t[SOAK_KEY_LEN];
	size_t n = 0;

	for (const char *p = text; *p && n < sizeof t - 1; p++)
		t[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	t[n] = '\0';
	for (int i = 0; i < SOAK_MAX_KEYS; i++) {
		struct soak_key *k = &sh->keys[i];
		int st = atomic_load(&k->state);

		if (st == 0) {
			int zero = 0;
			if (atomic_compare_exchange_strong(&k->state, &zero, 1)) {
				memcpy(k->text, t, n + 1);
				atomic_store(&k->state, 2);
				atomic_fetch_add(&k->n, 1);
				return;
			}
			st = atomic_load(&k->state);
		}
		for (int spin = 0; st == 1 && spin < 1000; spin++) {
			struct timespec ts = { 0, 10000 };
			nanosleep(&ts, NULL);
			st = atomic_load(&k->state);
		}
		if (st == 2 && strcmp(k->text, t) == 0) {
			atomic_fetch_add(&k->n, 1);
			return;
		}
	}
	atomic_fetch_add(&sh->keys_lost, 1);
}

static void __attribute__((format(__printf__, 1, 2))) count_keyf(const char *fmt, ...)
{
	char t[SOAK_KEY_LEN * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t, sizeof t, fmt, ap);
	va_end(ap);
	count_key(t);
}

/* ---- small helpers --------------------------------------------------------- */

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

/* Uniform in [lo, hi] from a per-process generator. */
static int rand_between(unsigned *seed, int lo, int hi)
{
	return lo + (int)(rand_r(seed) % (unsigned)(hi - lo + 1));
}

static bool chance(unsigned *seed, int percent)
{
	return (int)(rand_r(seed) % 100) < percent;
}

/* Text up to the first character that varies between occurrences of the
   same outcome (digits of ids, ports, pids), so equal kinds count together. */
static void outcome_text(char *out, size_t outlen, const char *in)
{
	size_t n = 0;

	for (const char *p = in; *p && n + 1 < outlen; p++)
		out[n++] = isdigit((unsigned char)*p) ? '#' : *p;
	out[n] = '\0';
	/* collapse runs of '#' */
	char *w = out;
	for (char *r = out; *r; r++)
		if (!(*r == '#' && w > out && w[-1] == '#'))
			*w++ = *r;
	*w = '\0';
}

/* ---- /proc ----------------------------------------------------------------- */

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

/* Open descriptors of pid, -1 if unreadable. */
static int proc_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* True if pid runs and is not a zombie. */
static bool proc_alive(pid_t pid)
{
	char path[64], buf[512];

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = '\0';
	const char *p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The workers' parent: the gateway's privileged parent (the network process's parent). */
static pid_t soak_sessions_parent(void)
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
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1 || ppid <= 1)
		return opt.gateway_pid;
	return (pid_t)ppid;
}

/* The session workers (one per session): pixelgate-session, children of the
   gateway's privileged parent. */
static int gateway_children(void)
{
	struct bench_proc *v = NULL;
	size_t n = bench_proc_scan(&v);
	pid_t parent = soak_sessions_parent();
	int workers = 0;

	for (size_t i = 0; i < n; i++)
		workers += v[i].ppid == parent && bench_proc_is(&v[i], "pixelgate-sess");
	free(v);
	return workers;
}

/*
 * Kills (SIGKILL) the Chromium browser process of session id: the process
 * whose command line names the session's profile directory
 * (--user-data-dir=runtime_dir/session-ID/home/profile) and has no --type=
 * (renderers, zygotes, utilities and the GPU process have one). Returns the pid killed, 0 if none
 * was found, -1 if the kill was refused.
 */
static pid_t kill_browser(const char *id)
{
	char needle[CONFIG_PATH_MAX + 96];
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	if (d == NULL)
		return 0;
	snprintf(needle, sizeof needle, "--user-data-dir=%s/session-%s/home/profile",
		 cfg.runtime_dir, id);
	while (found == 0 && (e = readdir(d)) != NULL) {
		char path[64], buf[8192];
		int pid = atoi(e->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		/* Chromium rewrites its command line into one space-separated
		   string: look at it as text */
		for (ssize_t i = 0; i < len; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[len] = '\0';
		const char *at = strstr(buf, needle);
		size_t nl = strlen(needle);
		bool has_dir = at != NULL && (at[nl] == ' ' || at[nl] == '\0');
		bool has_type = strstr(buf, " --type=") != NULL;
		if (has_dir && !has_type)
			found = (pid_t)pid;
	}
	closedir(d);
	if (found > 0 && kill(found, SIGKILL) != 0)
		return -1;
	return found;
}

/* ---- HTTP: admin API and page server -------------------------------------- */

/* One admin API request; the HTTP status (-1: no answer); the body (malloc'd,
   may be NULL) into *out if out is not NULL. */
static int admin_request(const char *method, const char *path, char **out)
{
	struct pgc_http_response res;
	int rc = pgc_http_request(&admin_srv, method, path, admin_auth, NULL, NULL, 0, &res);
	int status = rc == 0 ? res.status : -1;

	if (out)
		*out = rc == 0 && res.body ? strdup(res.body) : NULL;
	pgc_http_response_free(&res);
	return status;
}

/* GET /healthz (no credentials); its "sessions", or -1 if no 200 answer. */
static int healthz_sessions(void)
{
	struct pgc_http_response res;
	int n = -1;

	if (pgc_http_request(&admin_srv, "GET", "/healthz", NULL, NULL, NULL, 0, &res) == 0 &&
	    res.status == 200) {
		json_t *j = json_loads(res.body, 0, NULL);
		json_t *s = json_object_get(j, "sessions");
		n = json_is_integer(s) ? (int)json_integer_value(s) : -1;
		json_decref(j);
	}
	pgc_http_response_free(&res);
	return n;
}

/* The ids of the sessions the admin API lists (only those in state, if not
   NULL); at most max into ids[]. Returns the count, -1 on an error. */
static int list_sessions(const char *state, char ids[][64], int max)
{
	char *body = NULL;
	int n = 0;

	if (admin_request("GET", "/api/v1/sessions", &body) != 200) {
		free(body);
		return -1;
	}
	json_t *j = json_loads(body ? body : "", 0, NULL), *e;
	size_t i;
	json_array_foreach(json_object_get(j, "sessions"), i, e) {
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *st = json_string_value(json_object_get(e, "state"));
		if (id == NULL || n >= max || (state && (st == NULL || strcmp(st, state) != 0)))
			continue;
		snprintf(ids[n++], 64, "%s", id);
	}
	json_decref(j);
	free(body);
	return n;
}

/* /metrics: the value of the sample "name" or "name{labels}" (exact text), -1 if absent. */
static double metric(const char *text, const char *sample)
{
	size_t n = strlen(sample);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, sample, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* ---- a viewer (forked child of a user process) ----------------------------- */

/* How a viewer leaves. */
enum leave {
	LEAVE_CLEAN,  /* pgc_free() (close frame) right after an update arrived */
	LEAVE_ABRUPT, /* SIGKILL itself in the middle of an update */
	LEAVE_WAIT,   /* stream (with input) until the gateway closes it: takeover victim */
	LEAVE_IDLE,   /* stop sending input; wait for idle_timeout_s to end it */
};

struct viewer {
	int user; /* index 0..users-1 */
	enum leave leave;
	int dwell_ms;     /* streaming time before leaving (CLEAN, ABRUPT) */
	bool wrong_first; /* send a wrong password first */
	unsigned seed;
	/* run time */
	double leave_at_s; /* monotonic; 0 = not yet */
	bool want_close;   /* an update arrived after leave_at_s: close now (CLEAN) */
	uint64_t frames_counted, bytes_counted;
	struct pgc_conn *c;
};

static struct viewer *cur_viewer; /* the one viewer of this process, for the callbacks */

/* Adds the frames and bytes received since the last call to the counters. */
static void viewer_flush_counts(struct viewer *v)
{
	if (v->c == NULL)
		return;
	uint64_t f = pgc_frames(v->c), b = pgc_bytes_in(v->c);
	count(C_FRAMES, (unsigned long)(f - v->frames_counted));
	count(C_BYTES, (unsigned long)(b - v->bytes_counted));
	v->frames_counted = f;
	v->bytes_counted = b;
}

/* A rectangle of an update arrived: the rest of the update may still be on
   its way. The moment to leave, if it is time. */
static void cb_update(void *user, const struct pgc_fb *fb, int x, int y, int w, int h)
{
	struct viewer *v = user;

	(void)fb, (void)x, (void)y, (void)w, (void)h;
	if (v->leave_at_s <= 0 || bench_now_s() < v->leave_at_s)
		return;
	if (v->leave == LEAVE_ABRUPT) {
		count(C_ABRUPT_MID, 1);
		/* frames and bytes of this connection since the last flush are lost:
		   pgc_* may not be called from a callback */
		raise(SIGKILL);
	}
	if (v->leave == LEAVE_CLEAN)
		v->want_close = true;
}

/* Counts how the gateway ended v's connection; returns the close code. */
static int viewer_closed(struct viewer *v)
{
	char reason[SOAK_KEY_LEN];
	int code = pgc_close_code(v->c);

	outcome_text(reason, sizeof reason, pgc_close_reason(v->c));
	count(C_CLOSED_BY_GW, 1);
	count_keyf("closed: %d %s", code, reason);
	return code;
}

/* The life of one viewer; ends the process. Exit status: 0 it left as planned
   or was closed by the gateway, 3 the login was refused, 4 the connect failed. */
static void __attribute__((noreturn)) viewer_main(struct viewer *v)
{
	struct pgc_login_result res;
	struct pgc_callbacks cb = { .user = v, .fb_update = cb_update };
	char user[64], err[512], text[SOAK_KEY_LEN];
	int status = 0;

	cur_viewer = v;
	signal(SIGPIPE, SIG_IGN);
	snprintf(user, sizeof user, "%s%d", opt.user_prefix, v->user + 1);
	count(C_CYCLES, 1);
	if (v->wrong_first) {
		count(C_WRONG_SENT, 1);
		memset(&res, 0, sizeof res);
		pgc_login(&staff_srv, user, "not-the-password-at-all", 0, 0, &res);
		if (res.http_status == 401)
			count(C_WRONG_401, 1);
		outcome_text(text, sizeof text, res.http_status ? res.error : res.message);
		count_keyf("login with a wrong password: %d %s", res.http_status, text);
	}
	memset(&res, 0, sizeof res);
	if (pgc_login(&staff_srv, user, password, 0, 0, &res) != 0) {
		count(C_LOGIN_REFUSED, 1);
		outcome_text(text, sizeof text, res.http_status ? res.error : res.message);
		count_keyf("login refused: %d %s", res.http_status, text);
		_exit(3);
	}
	count(C_LOGIN_OK, 1);
	v->c = pgc_connect_cb(&staff_srv, res.ticket, &cb, err, sizeof err, &status);
	OPENSSL_cleanse(res.ticket, sizeof res.ticket);
	if (v->c == NULL) {
		count(C_CONNECT_FAILED, 1);
		outcome_text(text, sizeof text, err);
		count_keyf("connect failed: %d %s", status, text);
		_exit(4);
	}
	count(C_CONNECT_OK, 1);
	atomic_store(&sh->slot[v->user].streaming_pid, (int)getpid());

	double t0 = bench_now_s(), next_input = t0, deadline;
	if (v->leave == LEAVE_IDLE)
		deadline = t0 + cfg.limits.idle_timeout_s + SOAK_IDLE_EXTRA_S;
	else if (v->leave == LEAVE_WAIT)
		deadline = t0 + SOAK_STREAM_WAIT_S + SOAK_CLOSE_WAIT_S;
	else
		deadline = t0 + v->dwell_ms / 1000.0 + 2.0;
	if (v->leave == LEAVE_CLEAN || v->leave == LEAVE_ABRUPT)
		v->leave_at_s = t0 + v->dwell_ms / 1000.0;
	int x = 640, y = 400;
	for (;;) {
		if (pgc_pump(v->c, 100) < 0 || pgc_closed(v->c)) {
			viewer_flush_counts(v);
			int code = viewer_closed(v);
			if (v->leave == LEAVE_IDLE && code == 4004)
				count(C_IDLE_4004, 1);
			if (v->leave == LEAVE_WAIT && code == 4000)
				count(C_TAKEOVER_4000, 1);
			else if (v->leave == LEAVE_WAIT)
				count_keyf("takeover: the first viewer was closed with %d before",
					   code);
			_exit(0);
		}
		viewer_flush_counts(v);
		double t = bench_now_s();
		if (v->want_close || atomic_load(&sh->stop) || interrupted) {
			pgc_free(v->c);
			count(C_CLEAN_CLOSE, 1);
			_exit(0);
		}
		if (t >= deadline) {
			if (v->leave == LEAVE_ABRUPT) {
				count(C_ABRUPT_IDLE, 1); /* no update came: leave between updates */
				raise(SIGKILL);
			}
			if (v->leave == LEAVE_CLEAN) {
				pgc_free(v->c);
				count(C_CLEAN_CLOSE, 1);
				_exit(0);
			}
			/* waited in vain to be closed (takeover or idle timeout) */
			count_keyf("not closed by the gateway within %.0f s (%s)", t - t0,
				   v->leave == LEAVE_IDLE ? "idle timeout" : "takeover");
			pgc_free(v->c);
			_exit(0);
		}
		if (v->leave != LEAVE_IDLE && t >= next_input) {
			/* a pointer wandering over the page, now and then a wheel turn */
			x = 100 + rand_r(&v->seed) % 1080;
			y = 100 + rand_r(&v->seed) % 600;
			if (chance(&v->seed, 20)) {
				pgc_pointer(v->c, x, y, 1 << 4); /* wheel down */
				pgc_pointer(v->c, x, y, 0);
			} else {
				pgc_pointer(v->c, x, y, 0);
			}
			next_input = t + SOAK_INPUT_EVERY_MS / 1000.0;
		}
	}
}

/* ---- a user (forked child of the main process) ------------------------------ */

/* Starts a viewer process for v; its pid, or -1. */
static pid_t viewer_spawn(struct viewer *v)
{
	pid_t pid = fork();

	if (pid == 0)
		viewer_main(v);
	if (pid < 0)
		count_keyf("fork failed: %s", strerror(errno));
	return pid;
}

/*
 * Waits up to wait_s for viewer pid to end; kills it (counted as hung) after
 * that. Returns its wait status, or -1.
 */
static int viewer_reap(pid_t pid, double wait_s)
{
	int status;
	double end = bench_now_s() + wait_s;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (bench_now_s() >= end) {
			count(C_HUNG, 1);
			kill(pid, SIGKILL);
			return waitpid(pid, &status, 0) == pid ? status : -1;
		}
		sleep_ms(50);
	}
}

/* Waits until viewer pid streams (or ends, or wait_s passed). True if it streams. */
static bool viewer_wait_streaming(int user, pid_t pid, double wait_s)
{
	double end = bench_now_s() + wait_s;

	while (bench_now_s() < end && !atomic_load(&sh->stop)) {
		siginfo_t si;

		if (atomic_load(&sh->slot[user].streaming_pid) == (int)pid)
			return true;
		/* ended (a zombie now)? look without reaping it */
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
		    si.si_pid == pid)
			return false;
		sleep_ms(50);
	}
	return false;
}

/* Plans the next viewer of user u. */
static void viewer_plan(struct viewer *v, int u, unsigned *seed, bool allow_takeover)
{
	int r = rand_between(seed, 0, 99);

	memset(v, 0, sizeof *v);
	v->user = u;
	v->seed = (unsigned)rand_r(seed);
	v->wrong_first = chance(seed, 5);
	v->dwell_ms = rand_between(seed, SOAK_DWELL_MIN_MS, SOAK_DWELL_MAX_MS);
	if (allow_takeover && r < 12)
		v->leave = LEAVE_WAIT; /* the first viewer of a takeover */
	else if (r < 18 && cfg.limits.idle_timeout_s > 0 && cfg.limits.idle_timeout_s <= 60)
		v->leave = LEAVE_IDLE;
	else if (r < 59)
		v->leave = LEAVE_ABRUPT;
	else
		v->leave = LEAVE_CLEAN;
}

/* The loop of user u until the run ends; ends the process. */
static void __attribute__((noreturn)) user_main(int u)
{
	unsigned seed = opt.seed * 7919u + (unsigned)u * 104729u + 1u;

	setpgid(0, 0);           /* the main process can end this user and its viewers at once */
	signal(SIGINT, SIG_IGN); /* the main process decides when to stop */
	while (!atomic_load(&sh->go) && !atomic_load(&sh->stop))
		sleep_ms(50);
	/* spread the first logins a little */
	sleep_ms(rand_between(&seed, 0, 500 * (u % 8)));
	while (!atomic_load(&sh->stop)) {
		struct viewer v;

		viewer_plan(&v, u, &seed, true);
		if (v.leave == LEAVE_IDLE)
			count(C_IDLE_CYCLES, 1);
		pid_t pid = viewer_spawn(&v);
		if (pid < 0) {
			sleep_ms(1000);
			continue;
		}
		if (v.leave == LEAVE_WAIT) {
			/* a takeover: a second viewer of the same user while this one streams */
			if (viewer_wait_streaming(u, pid, SOAK_STREAM_WAIT_S)) {
				sleep_ms(v.dwell_ms);
				struct viewer second;
				viewer_plan(&second, u, &seed, false);
				if (second.leave == LEAVE_IDLE)
					count(C_IDLE_CYCLES, 1);
				count(C_TAKEOVERS, 1);
				pid_t pid2 = viewer_spawn(&second);
				int st = viewer_reap(pid, SOAK_STREAM_WAIT_S + SOAK_CLOSE_WAIT_S);
				(void)st;
				if (pid2 < 0)
					continue;
				pid = pid2;
				v = second;
			}
		}
		double wait = v.leave == LEAVE_IDLE ? cfg.limits.idle_timeout_s + SOAK_IDLE_EXTRA_S
		    : v.leave == LEAVE_WAIT         ? SOAK_STREAM_WAIT_S + SOAK_CLOSE_WAIT_S
						    : v.dwell_ms / 1000.0 + 5.0;
		viewer_reap(pid, SOAK_STREAM_WAIT_S + wait + 10.0);
		atomic_store(&sh->slot[u].streaming_pid, 0);
		/* now and then stay away longer than the grace: the session ends */
		if (cfg.limits.reconnect_grace_s > 0 && cfg.limits.reconnect_grace_s <= 10 &&
		    chance(&seed, 6) && !atomic_load(&sh->stop)) {
			count(C_GRACE_PAUSES, 1);
			sleep_ms((cfg.limits.reconnect_grace_s + 1) * 1000);
		}
	}
	_exit(0);
}

/* ---- the audit log --------------------------------------------------------- */

struct audit_counts {
	unsigned long records, login_ok, login_fail_invalid, login_fail_other, session_start,
	    session_end, worker_crash, bad_lines;
};

/* Counts the records of every audit-*.jsonl in audit_dir. 0 or -1. */
static int audit_count(struct audit_counts *ac)
{
	DIR *d = opendir(cfg.audit_dir);
	struct dirent *e;

	memset(ac, 0, sizeof *ac);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[CONFIG_PATH_MAX + 300];
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "audit-", 6) != 0 || n < 7 ||
		    strcmp(e->d_name + n - 6, ".jsonl") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", cfg.audit_dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, f) > 0) {
			json_t *j = json_loads(line, 0, NULL);
			const char *ev = json_string_value(json_object_get(j, "event"));
			const char *reason = json_string_value(json_object_get(j, "reason"));
			if (ev == NULL) {
				ac->bad_lines++;
				json_decref(j);
				continue;
			}
			ac->records++;
			if (strcmp(ev, "login_ok") == 0)
				ac->login_ok++;
			else if (strcmp(ev, "login_fail") == 0 && reason &&
				 strcmp(reason, "invalid_credentials") == 0)
				ac->login_fail_invalid++;
			else if (strcmp(ev, "login_fail") == 0)
				ac->login_fail_other++;
			else if (strcmp(ev, "session_start") == 0)
				ac->session_start++;
			else if (strcmp(ev, "session_end") == 0)
				ac->session_end++;
			else if (strcmp(ev, "worker_crash") == 0)
				ac->worker_crash++;
			json_decref(j);
		}
		free(line);
		fclose(f);
	}
	closedir(d);
	return 0;
}

/*
 * pixelgatectl audit verify --dir audit_dir --key-file K --head state/audit.head;
 * its first output line into out. Returns its exit status (-1: not run).
 */
static int audit_verify(char *out, size_t outlen)
{
	char head[CONFIG_PATH_MAX + 32];
	int pfd[2], status;

	snprintf(out, outlen, "not run");
	snprintf(head, sizeof head, "%s/audit.head", cfg.state_dir);
	if (opt.ctl == NULL || pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	bool with_head = access(head, R_OK) == 0;
	char *argv[] = { (char *)opt.ctl,
			 "audit",
			 "verify",
			 "--dir",
			 cfg.audit_dir,
			 "--key-file",
			 cfg.audit_key_file,
			 with_head ? "--head" : NULL,
			 head,
			 NULL };
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execv(opt.ctl, argv);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	char buf[4096];
	size_t got = 0;
	ssize_t r;
	while ((r = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0 && got < sizeof buf - 1)
		got += (size_t)r;
	while (read(pfd[0], out, 1) > 0) /* drain the rest */
		;
	close(pfd[0]);
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	size_t len = strlen(buf) < outlen - 1 ? strlen(buf) : outlen - 1;
	memcpy(out, buf, len);
	out[len] = '\0';
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Lines of the gateway's log containing needle and also needle2 (if not
   NULL); -1 if it cannot be read. */
static long log_count(const char *needle, const char *needle2)
{
	FILE *f = opt.gateway_log ? fopen(opt.gateway_log, "r") : NULL;
	char *line = NULL;
	size_t cap = 0;
	long n = 0;

	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, needle) && (needle2 == NULL || strstr(line, needle2)))
			n++;
	free(line);
	fclose(f);
	return n;
}

/* ---- set-up -------------------------------------------------------------- */

static void usage_exit(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --conf FILE --ca FILE --password-file F --gateway-pid PID\n"
		"          [--gateway-log FILE] [--ctl PIXELGATECTL] [--page-port P]\n"
		"          [--users N] [--duration S] [--chaos-interval S] [--fd-margin N]\n"
		"          [--seed N] [--user-prefix P] [--admin-user NAME]\n"
		"Users P1..PN (staff) and the admin must exist with the password in F.\n",
		argv0);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conf", required_argument, NULL, 'C' },
		{ "ca", required_argument, NULL, 'c' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "gateway-pid", required_argument, NULL, 'g' },
		{ "gateway-log", required_argument, NULL, 'l' },
		{ "ctl", required_argument, NULL, 'x' },
		{ "page-port", required_argument, NULL, 'w' },
		{ "users", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "chaos-interval", required_argument, NULL, 'i' },
		{ "fd-margin", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "user-prefix", required_argument, NULL, 'u' },
		{ "admin-user", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opt.seed = (unsigned)time(NULL);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'C':
			opt.conf_file = optarg;
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
		case 'l':
			opt.gateway_log = optarg;
			break;
		case 'x':
			opt.ctl = optarg;
			break;
		case 'w':
			opt.page_port = atoi(optarg);
			break;
		case 'n':
			opt.users = atoi(optarg);
			break;
		case 'd':
			opt.duration_s = atoi(optarg);
			break;
		case 'i':
			opt.chaos_interval_s = atoi(optarg);
			break;
		case 'm':
			opt.fd_margin = atoi(optarg);
			break;
		case 's':
			opt.seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			opt.user_prefix = optarg;
			break;
		case 'a':
			opt.admin_user = optarg;
			break;
		default:
			usage_exit(argv[0]);
		}
	}
	if (optind != argc || !opt.conf_file || !opt.ca_file || !opt.password_file ||
	    opt.gateway_pid <= 0 || opt.users < 1 || opt.users > SOAK_MAX_USERS ||
	    opt.duration_s < 1 || opt.duration_s > 7 * 86400 || opt.chaos_interval_s < 0 ||
	    opt.fd_margin < 0 || opt.page_port < 0 || opt.page_port > 65535)
		usage_exit(argv[0]);
}

/* Reads the password (first line of the file) and builds the admin's Basic header. */
static int load_password(void)
{
	char cred[400];
	FILE *f = fopen(opt.password_file, "r");

	if (f == NULL || fgets(password, sizeof password, f) == NULL) {
		fprintf(stderr, "soak: cannot read %s: %s\n", opt.password_file, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	password[strcspn(password, "\r\n")] = '\0';
	int n = snprintf(cred, sizeof cred, "%s:%s", opt.admin_user, password);
	if (n < 0 || (size_t)n >= sizeof cred)
		return -1;
	memcpy(admin_auth, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)admin_auth + 6, (const unsigned char *)cred, n);
	OPENSSL_cleanse(cred, sizeof cred);
	return 0;
}

/* Waits for /healthz; -1 if the daemon died or did not answer in time. */
static int wait_ready(void)
{
	for (double end = bench_now_s() + SOAK_READY_TIMEOUT_S; bench_now_s() < end;
	     sleep_ms(200)) {
		if (!proc_alive(opt.gateway_pid)) {
			fprintf(stderr, "soak: gateway pid %d is not running\n",
				(int)opt.gateway_pid);
			return -1;
		}
		if (healthz_sessions() >= 0)
			return 0;
	}
	fprintf(stderr, "soak: no /healthz answer on %s:%d within %d s\n", admin_srv.host,
		admin_srv.port, SOAK_READY_TIMEOUT_S);
	return -1;
}

/* Ends every session still running and waits until the gateway has no worker
   left. 0, or -1 if some remain. */
static int end_sessions(void)
{
	char ids[256][64];
	int n = list_sessions(NULL, ids, 256);

	for (int i = 0; i < n; i++) {
		char path[128];
		snprintf(path, sizeof path, "/api/v1/sessions/%s", ids[i]);
		admin_request("DELETE", path, NULL);
	}
	for (double end = bench_now_s() + SOAK_END_WAIT_S; bench_now_s() < end; sleep_ms(250))
		if (gateway_children() == 0 && healthz_sessions() == 0)
			return 0;
	return -1;
}

/* ---- the run ------------------------------------------------------------- */

/* What the main process saw of the gateway. */
struct gw_view {
	long rss_start_kib, rss_max_kib, rss_end_kib;
	int fds_start, fds_end;
	bool died;
	double died_after_s;
	double crashes_start; /* pixelgate_worker_crashes_total */
};

/* One chaos action on a random active session: an admin kill or a browser crash. */
static void chaos_once(unsigned *seed, int turn)
{
	char ids[SOAK_MAX_USERS * 2][64];
	int n = list_sessions("active", ids, SOAK_MAX_USERS * 2);

	if (n <= 0)
		return;
	const char *id = ids[rand_between(seed, 0, n - 1)];
	if (turn % 2 == 0) {
		char path[128];
		snprintf(path, sizeof path, "/api/v1/sessions/%s", id);
		int st = admin_request("DELETE", path, NULL);
		count(st == 200 ? C_ADMIN_KILLS : C_ADMIN_KILL_MISSED, 1);
		if (st != 200)
			count_keyf("admin kill: DELETE answered %d", st);
	} else {
		pid_t pid = kill_browser(id);
		count(pid > 0 ? C_CRASHES : C_CRASH_MISSED, 1);
		if (pid < 0)
			count_keyf("browser crash: kill refused: %s", strerror(errno));
		else if (pid == 0)
			count_key("browser crash: no Chromium found for the session");
	}
}

/* Stops the users (they finish their viewers), then kills what is left. */
static void users_stop(pid_t *users, int n)
{
	atomic_store(&sh->stop, 1);
	double end = bench_now_s() + SOAK_STOP_WAIT_S;
	int left = n;

	while (left > 0 && bench_now_s() < end) {
		for (int i = 0; i < n; i++)
			if (users[i] > 0 && waitpid(users[i], NULL, WNOHANG) == users[i]) {
				users[i] = 0;
				left--;
			}
		if (left > 0)
			sleep_ms(100);
	}
	for (int i = 0; i < n; i++)
		if (users[i] > 0) {
			fprintf(stderr,
				"soak: user %d still running %d s after the end, killing it\n",
				i + 1, SOAK_STOP_WAIT_S);
			kill(-users[i], SIGKILL);
			waitpid(users[i], NULL, 0);
			users[i] = 0;
		}
	/* viewers whose user was killed are orphans now: their process groups
	   were the user's, gone with the kill above */
}

/* Prints the counted outcomes whose text starts with prefix (without it),
   the first under label; "none" if there is none. */
static void print_keys(const char *prefix, const char *label)
{
	bool any = false;

	for (int i = 0; i < SOAK_MAX_KEYS; i++) {
		struct soak_key *k = &sh->keys[i];
		if (atomic_load(&k->state) != 2 || strncmp(k->text, prefix, strlen(prefix)) != 0)
			continue;
		printf("  %-22s %8lu  %s\n", any ? "" : label, atomic_load(&k->n),
		       k->text + strlen(prefix));
		any = true;
	}
	if (!any)
		printf("  %-22s %8s\n", label, "none");
}

/* Prints every counted outcome not shown under one of the known prefixes. */
static void print_other_keys(const char *label)
{
	static const char *const shown[] = { "login refused: ", "login with a wrong password: ",
					     "connect failed: ", "closed: " };
	bool any = false;

	for (int i = 0; i < SOAK_MAX_KEYS; i++) {
		struct soak_key *k = &sh->keys[i];
		bool known = false;
		if (atomic_load(&k->state) != 2)
			continue;
		for (size_t j = 0; j < sizeof shown / sizeof shown[0]; j++)
			known = known || strncmp(k->text, shown[j], strlen(shown[j])) == 0;
		if (known)
			continue;
		printf("  %-22s %8lu  %s\n", any ? "" : label, atomic_load(&k->n), k->text);
		any = true;
	}
	if (!any)
		printf("  %-22s %8s\n", label, "none");
}

int main(int argc, char **argv)
{
	static pid_t users[SOAK_MAX_USERS];
	char err[1024];
	struct gw_view gv = { 0 };
	unsigned seed;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	config_defaults(&cfg);
	if (config_load(&cfg, opt.conf_file, err, sizeof err) != 0) {
		fprintf(stderr, "soak: %s\n", err);
		return 2;
	}
	if (load_password() != 0)
		return 2;
	staff_srv = (struct pgc_server){ cfg.listen_address, cfg.listen_port, opt.ca_file };
	admin_srv = (struct pgc_server){ cfg.admin_listen_address, cfg.admin_listen_port,
					 opt.ca_file };
	if (cfg.admin_listen_port == 0) {
		fprintf(stderr, "soak: the config has no admin listener (admin_listen_port = 0)\n");
		return 2;
	}
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		fprintf(stderr, "soak: mmap: %s\n", strerror(errno));
		return 1;
	}
	memset(sh, 0, sizeof *sh);
	signal(SIGPIPE, SIG_IGN);

	/* The users first, while this process has no thread and no OpenSSL state. */
	for (int i = 0; i < opt.users; i++) {
		users[i] = fork();
		if (users[i] == 0)
			user_main(i);
		if (users[i] < 0) {
			fprintf(stderr, "soak: fork: %s\n", strerror(errno));
			users_stop(users, i);
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (wait_ready() != 0 ||
	    (opt.page_port > 0 && bench_page_mode(opt.page_port, "soak", "soak") != 0)) {
		users_stop(users, opt.users);
		return 1;
	}
	char *mtext = NULL;
	admin_request("GET", "/metrics", &mtext);
	gv.crashes_start = mtext ? metric(mtext, "pixelgate_worker_crashes_total") : -1;
	free(mtext);
	gv.rss_start_kib = gv.rss_max_kib = proc_rss_kib(opt.gateway_pid);
	gv.fds_start = proc_fds(opt.gateway_pid);
	fprintf(stderr,
		"soak: %d users for %d s (idle_timeout_s %d, reconnect_grace_s %d, chaos every %d s, "
		"seed %u); gateway pid %d: RSS %ld KiB, %d fds\n",
		opt.users, opt.duration_s, cfg.limits.idle_timeout_s, cfg.limits.reconnect_grace_s,
		opt.chaos_interval_s, opt.seed, (int)opt.gateway_pid, gv.rss_start_kib,
		gv.fds_start);

	/* The run: the users churn; this process samples and injects chaos. */
	seed = opt.seed;
	double t0 = bench_now_s(), end = t0 + opt.duration_s,
	       next_chaos = t0 + opt.chaos_interval_s;
	double next_report = t0 + 30;
	int turn = 0;
	atomic_store(&sh->go, 1);
	while (bench_now_s() < end && !interrupted) {
		sleep_ms(SOAK_SAMPLE_MS);
		if (!proc_alive(opt.gateway_pid)) {
			gv.died = true;
			gv.died_after_s = bench_now_s() - t0;
			fprintf(stderr, "soak: the gateway died after %.0f s\n", gv.died_after_s);
			break;
		}
		long rss = proc_rss_kib(opt.gateway_pid);
		if (rss > gv.rss_max_kib)
			gv.rss_max_kib = rss;
		if (opt.chaos_interval_s > 0 && bench_now_s() >= next_chaos) {
			chaos_once(&seed, turn++);
			next_chaos += opt.chaos_interval_s;
		}
		if (bench_now_s() >= next_report) {
			fprintf(stderr,
				"soak: %.0f s: %lu logins ok, %lu connections, %lu closed by the "
				"gateway, %.0f MiB received; gateway RSS %ld KiB, %d fds\n",
				bench_now_s() - t0, counter(C_LOGIN_OK), counter(C_CONNECT_OK),
				counter(C_CLOSED_BY_GW), (double)counter(C_BYTES) / 1048576.0, rss,
				proc_fds(opt.gateway_pid));
			next_report += 30;
		}
	}
	double ran_s = bench_now_s() - t0;
	fprintf(stderr, "soak: stopping the users\n");
	users_stop(users, opt.users);
	if (!gv.died && !proc_alive(opt.gateway_pid)) {
		gv.died = true;
		gv.died_after_s = bench_now_s() - t0;
	}

	/* The end: every session ended, the gateway settled, then the figures. */
	bool ended = false;
	double metrics_crashes = -1, ended_by[8];
	static const char *const end_reasons[] = { "grace",    "browser",     "worker_crash",
						   "idle",     "max_time",    "admin",
						   "shutdown", "start_failed" };
	for (int i = 0; i < 8; i++)
		ended_by[i] = -1;
	if (!gv.died) {
		fprintf(stderr, "soak: ending the sessions left\n");
		ended = end_sessions() == 0;
		sleep_ms(SOAK_SETTLE_MS);
		mtext = NULL;
		if (admin_request("GET", "/metrics", &mtext) == 200 && mtext) {
			metrics_crashes = metric(mtext, "pixelgate_worker_crashes_total");
			for (int i = 0; i < 8; i++) {
				char sample[96];
				snprintf(sample, sizeof sample,
					 "pixelgate_sessions_ended_total{reason=\"%s\"}",
					 end_reasons[i]);
				ended_by[i] = metric(mtext, sample);
			}
		}
		free(mtext);
		/* descriptors: the least of a few samples (lws lets closed sockets go
		   on its own timers) */
		sleep_ms(SOAK_SETTLE_MS);
		gv.fds_end = -1;
		for (int i = 0; i < 5; i++) {
			int fds = proc_fds(opt.gateway_pid);
			if (fds >= 0 && (gv.fds_end < 0 || fds < gv.fds_end))
				gv.fds_end = fds;
			sleep_ms(500);
		}
		gv.rss_end_kib = proc_rss_kib(opt.gateway_pid);
		if (!proc_alive(opt.gateway_pid)) {
			gv.died = true;
			gv.died_after_s = bench_now_s() - t0;
		}
	}
	char verify[512];
	int vrc = audit_verify(verify, sizeof verify);
	struct audit_counts ac;
	int arc = audit_count(&ac);
	/* the log holds the workers' stderr too: the gateway's own ASan reports
	   carry its pid (==PID==ERROR), a worker's its pid in its namespace */
	char gw_asan_tag[64];
	snprintf(gw_asan_tag, sizeof gw_asan_tag, "==%d==ERROR: AddressSanitizer",
		 (int)opt.gateway_pid);
	long log_crashes = log_count("error: session ", "exited unexpectedly");
	long log_asan = log_count("ERROR: AddressSanitizer", NULL);
	long log_asan_gw = log_count(gw_asan_tag, NULL);
	long log_ubsan = log_count("runtime error:", NULL);

	/* The report. */
	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("\npixelgate soak, %s, %ld CPUs, %d users, %.0f s (asked %d s), seed %u\n", date,
	       sysconf(_SC_NPROCESSORS_ONLN), opt.users, ran_s, opt.duration_s, opt.seed);
	printf("  idle_timeout_s %d, reconnect_grace_s %d, chaos every %d s\n\n",
	       cfg.limits.idle_timeout_s, cfg.limits.reconnect_grace_s, opt.chaos_interval_s);

	printf("sessions served          %8lu  (session_start records; session_end %lu)\n",
	       ac.session_start, ac.session_end);
	printf("  ended, by reason       ");
	for (int i = 0; i < 8; i++)
		if (ended_by[i] > 0)
			printf(" %s %.0f", end_reasons[i], ended_by[i]);
	printf("%s\n", metrics_crashes < 0 ? " (no /metrics)" : "  (/metrics)");
	printf("viewers started          %8lu\n", counter(C_CYCLES));
	printf("logins ok                %8lu\n", counter(C_LOGIN_OK));
	printf("logins refused           %8lu  (+ %lu wrong passwords sent on purpose: %lu "
	       "answered 401)\n",
	       counter(C_LOGIN_REFUSED), counter(C_WRONG_SENT), counter(C_WRONG_401));
	print_keys("login refused: ", "by kind");
	print_keys("login with a wrong password: ", "wrong passwords, answers");
	printf("connections opened       %8lu  (failed %lu)\n", counter(C_CONNECT_OK),
	       counter(C_CONNECT_FAILED));
	print_keys("connect failed: ", "failed, by kind");
	printf("  left by the viewer     %8lu  clean (close frame, mid-stream)\n",
	       counter(C_CLEAN_CLOSE));
	printf("                         %8lu  abrupt (viewer killed mid-update: reset)\n",
	       counter(C_ABRUPT_MID));
	printf("                         %8lu  abrupt (viewer killed between updates)\n",
	       counter(C_ABRUPT_IDLE));
	printf("  closed by the gateway  %8lu\n", counter(C_CLOSED_BY_GW));
	print_keys("closed: ", "by code and reason");
	printf("churn                    %8lu  takeovers (%lu first viewers got 4000)\n",
	       counter(C_TAKEOVERS), counter(C_TAKEOVER_4000));
	printf("                         %8lu  admin kills (DELETE 200; %lu missed)\n",
	       counter(C_ADMIN_KILLS), counter(C_ADMIN_KILL_MISSED));
	printf("                         %8lu  browser crashes (Chromium SIGKILLed; %lu missed)\n",
	       counter(C_CRASHES), counter(C_CRASH_MISSED));
	printf("                         %8lu  idle viewers (%lu closed with 4004)\n",
	       counter(C_IDLE_CYCLES), counter(C_IDLE_4004));
	printf("                         %8lu  pauses beyond reconnect_grace_s\n",
	       counter(C_GRACE_PAUSES));
	printf("traffic                  %8lu  updates, %.1f MiB (%.0f KiB/s)\n", counter(C_FRAMES),
	       (double)counter(C_BYTES) / 1048576.0,
	       (double)counter(C_BYTES) / 1024.0 / (ran_s > 0 ? ran_s : 1));
	printf("gateway                  %8s  %s\n", gv.died ? "DIED" : "alive",
	       gv.died ? ""
		       : (ended ? "every session ended at the end"
				: "sessions still running at the end"));
	if (gv.died)
		printf("  died after             %8.0f s\n", gv.died_after_s);
	printf("  RSS KiB                %8ld  start, %ld max, %ld end\n", gv.rss_start_kib,
	       gv.rss_max_kib, gv.rss_end_kib);
	printf("  open fds               %8d  start, %d end (margin %d)\n", gv.fds_start,
	       gv.fds_end, opt.fd_margin);
	printf("worker crashes           %8.0f  (/metrics, since the start; %ld in the log; "
	       "%lu worker_crash records)\n",
	       metrics_crashes >= 0 && gv.crashes_start >= 0 ? metrics_crashes - gv.crashes_start
							     : -1.0,
	       log_crashes, ac.worker_crash);
	printf("sanitizer reports        %8ld  AddressSanitizer (gateway %ld, session workers %ld), "
	       "%ld UBSan runtime errors (daemon log so far)\n",
	       log_asan, log_asan_gw, log_asan - log_asan_gw, log_ubsan);
	printf("audit verify             %8s  %s\n", vrc == 0 ? "OK" : "FAILED", verify);
	printf("audit records            %8lu  (%lu lines not records)\n", ac.records,
	       ac.bad_lines);
	long lost = (long)counter(C_LOGIN_OK) - (long)ac.login_ok;
	printf("  login_ok               %8lu  (logins the users saw succeed: %lu; %s)\n",
	       ac.login_ok, counter(C_LOGIN_OK),
	       arc != 0       ? "audit_dir unreadable"
		   : lost > 0 ? "RECORDS LOST"
			      : "none lost");
	printf("  login_fail             %8lu  invalid_credentials (401s seen: %lu), %lu other\n",
	       ac.login_fail_invalid, counter(C_WRONG_401), ac.login_fail_other);
	printf("other outcomes           %8lu  viewers killed by their user after a deadline\n",
	       counter(C_HUNG));
	print_other_keys("");
	if (atomic_load(&sh->keys_lost))
		printf("  %-22s %8lu  outcomes not counted (table full)\n", "",
		       atomic_load(&sh->keys_lost));

	/* The verdict. */
	int rc = 0;
	printf("\nresult: ");
	if (gv.died) {
		printf("FAIL (the gateway died) ");
		rc = 1;
	}
	if (vrc != 0) {
		printf("FAIL (audit verify) ");
		rc = 1;
	}
	if (arc != 0 || lost > 0) {
		printf("FAIL (audit records lost or unreadable) ");
		rc = 1;
	}
	if (!gv.died &&
	    (gv.fds_start < 0 || gv.fds_end < 0 || gv.fds_end > gv.fds_start + opt.fd_margin)) {
		printf("FAIL (gateway fds %d -> %d) ", gv.fds_start, gv.fds_end);
		rc = 1;
	}
	if (log_asan > 0) {
		printf("FAIL (AddressSanitizer reports in the daemon log: gateway %ld, session "
		       "workers %ld) ",
		       log_asan_gw, log_asan - log_asan_gw);
		rc = 1;
	}
	if (rc == 0)
		printf("PASS");
	printf("\n");
	/* one line for tests/run.sh's summary */
	printf("summary: %s: %d users %.0f s, %lu sessions, %lu logins ok, %lu connections, "
	       "gateway %s, fds %d->%d, RSS %ld->%ld KiB, worker crashes %.0f, audit %s\n",
	       rc == 0 ? "PASS" : "FAIL", opt.users, ran_s, ac.session_start, counter(C_LOGIN_OK),
	       counter(C_CONNECT_OK), gv.died ? "DIED" : "alive", gv.fds_start, gv.fds_end,
	       gv.rss_start_kib, gv.rss_end_kib,
	       metrics_crashes >= 0 && gv.crashes_start >= 0 ? metrics_crashes - gv.crashes_start
							     : -1.0,
	       vrc == 0 && lost <= 0 ? "OK" : "FAILED");
	if (interrupted)
		return 130;
	return rc;
}
