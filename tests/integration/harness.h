/*
 * harness.h: what every integration test shares.
 *
 * Each test gets its own world (it_start()): a private temporary directory
 * holding a throw-away CA and server certificate, a users file, a runtime
 * directory and a config; the test page server (tests/fixtures/pageserver.py)
 * on 127.0.0.1; and the real pixelgate daemon on a free 127.0.0.1 port, which
 * starts the real pixelgate-session, Xvfb and Chromium.
 *
 * Declare tests with IT_TEST(), not Test(): its body ends with the teardown
 * (it_finish()), which fails the test if the daemon died, hung or did not
 * exit 0 on SIGTERM, a process of a session outlived it, or a log of ours
 * has a sanitizer or valgrind report. Criterion ignores assertions in a
 * .fini hook, so the teardown's verdict must come from the body. The .fini
 * (it_stop()) only cleans up after a body that failed or was skipped. Logs
 * of a failed test (of every test if the environment has
 * PIXELGATE_IT_KEEP_LOGS) are kept in /tmp/pixelgate-it-logs/.
 *
 * Assert with IT_ASSERT(): on failure it prints the tail of the daemon's and
 * the page server's logs before failing the test.
 */
#ifndef PIXELGATE_IT_HARNESS_H
#define PIXELGATE_IT_HARNESS_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client_core.h"

/* Deadlines, generous: ASan build on a shared CI machine. */
#define IT_DAEMON_READY_S 30 /* daemon accepts TCP connections */
#define IT_DAEMON_STOP_S 30  /* daemon and its sessions gone after SIGTERM */
#define IT_FIRST_PAGE_S 120  /* session start + page load until the block shows */
#define IT_REPORT_S 45       /* typed text reaches the page server */
#define IT_CLOSE_S 30        /* a connection the gateway closes is seen closed */
#define IT_GRACE_S 15        /* reconnect_grace_s in the test config */

/* The test page (tests/fixtures/pageserver.py), CSS pixels in the page. */
#define PAGE_BLOCK_X 100
#define PAGE_BLOCK_Y 60
#define PAGE_BLOCK_W 240
#define PAGE_BLOCK_H 120
#define PAGE_BLOCK_R 0
#define PAGE_BLOCK_G 160
#define PAGE_BLOCK_B 255
#define PAGE_FIELD_X 100
#define PAGE_FIELD_Y 220
#define PAGE_FIELD_W 320
#define PAGE_FIELD_H 36
#define PAGE_LINK_X 100
#define PAGE_LINK_Y 300
#define PAGE_LINK_W 240
#define PAGE_LINK_H 48
#define PAGE_P2_X 100 /* the link to /page2.html */
#define PAGE_P2_Y 380
#define PAGE_P2_W 240
#define PAGE_P2_H 48
#define PAGE_DOWNLOAD_NAME "pixelgate-canary-download.bin"
#define PAGE_DOWNLOAD_CANARY "PIXELGATE-DOWNLOAD-CANARY-7f3a9c2e5b1d4f60a8e2c9b7d1f4a6e3"

/* Keysyms the tests send. */
#define IT_XK_END 0xff57

/* The world of the running test. */
struct it_world {
	char dir[256];         /* private temp dir (removed by it_stop) */
	char runtime_dir[320]; /* the daemon's runtime_dir */
	char ca_file[320];
	char conf_file[320];
	char daemon_log[320];
	char page_log[320];
	char test_name[128];
	pid_t daemon_pid;
	pid_t page_pid;
	char state_dir[320]; /* the daemon's state_dir (limits.json) */
	char audit_dir[320]; /* the daemon's audit log directory */
	char audit_key[320]; /* its HMAC key file (0600) */
	int port;            /* the staff listener */
	int admin_port;      /* the admin API listener */
	int agent_port;      /* the HAProxy agent-check listener; 0 = off */
	int page_port;       /* the page server */
	struct pgc_server srv;
	struct pgc_server admin_srv; /* the admin API listener */
	bool failed;                 /* set by IT_ASSERT */
	char memcheck_log[320];      /* valgrind's log when the daemon runs under memcheck */
	int daemon_err_fd;           /* it_opts.daemon_stderr */
	bool memcheck;
	pid_t squid_pid; /* the upstream proxy (Debian's squid) the sessions use */
	int squid_port;
	char squid_dir[320]; /* its config and logs */
	char squid_log[400]; /* its access log: one line per request, TCP_DENIED/403 refused */
};

/* Go to url as a user would: Ctrl+L, type it into the address bar, Return. */
void it_goto(struct pgc_conn *c, const char *url);

/*
 * The daemon's network process (the privileged parent's child that serves:
 * what memory and descriptor figures are about). Fails the test if none.
 */
pid_t it_net_pid(void);

/* Give path to IT_GATEWAY_USER (a file or directory the network process writes). */
void it_give(const char *path);

/*
 * Recording every connection: top (a "/tmp/...-XXXXXX" template) is made,
 * top/rec given to the network process, and the [audit] lines that record
 * there written into extra (for it_opts.audit_extra; the caller removes top).
 */
void it_recording_dir(char *top, char *recdir, size_t recdirlen, char *extra, size_t extralen);

/*
 * The file named by the first "recording" audit record (waited for up to
 * seconds): its name into file, recdir/name into path.
 */
void it_recording_path(const char *recdir, double seconds, char *file, size_t filelen, char *path,
		       size_t pathlen);

/* The pids of the daemon's session workers (each pid 1 of its cell). */
int it_workers(pid_t *pids, int max);

/*
 * path (e.g. the session's directory) as the host sees it inside worker's
 * cell: /proc/<worker>/root<path>. false if it does not exist there.
 */
bool it_cell_path(pid_t worker, const char *path, char *out, size_t len);

/* What it_walk_for_download() found. */
struct it_download_walk {
	int files;         /* regular files seen */
	int bad;           /* of them, the test page's download (name, partial, content) */
	char report[4096]; /* the bad ones: " path (N bytes);" each */
};

/* Walk root (symlinks not followed), adding to w. false if root cannot be walked. */
bool it_walk_for_download(const char *root, struct it_download_walk *w);

/* The user the gateway's network process runs as (tests/run.sh creates it). */
#define IT_GATEWAY_USER "pixelgate"
/* The first session uid (the default session_uid_base): the first cell runs as it. */
#define IT_SESSION_UID_BASE 2100000000u

extern struct it_world it;

/* Where a rectangle of the page was found on the screen. */
struct it_rect {
	int x, y, w, h;
};

/*
 * Builds the world and starts the page server and the daemon with the given
 * users (NULL-terminated; each one's password is it_password(name)). Fails the
 * test if anything does not come up.
 */
void it_start(const char *test_name, const char *const *users);

/* What a test adds to the world of it_start(). */
struct it_opts {
	const char *const *admins;   /* users with the admin role (NULL-terminated; may be NULL) */
	const char *extra_conf;      /* INI text appended to the config, e.g. "[limits]\n..." */
	bool agent_check;            /* give the daemon an agent-check port (it.agent_port) */
	const char *audit_dir;       /* the audit log directory (NULL: audit/ in the test's
				      temp dir); it.audit_dir either way */
	const char *audit_extra;     /* lines added to the [audit] section (NULL: none) */
	const char *home_path;       /* the page server's path the sessions open (NULL:
				      "/page.html"; "/churn.html": big updates non-stop) */
	bool memcheck;               /* run the gateway under valgrind memcheck: the
				      non-sanitized build in $PIXELGATE_MEMCHECK_DIR
				      (tests/run.sh makes it); it.memcheck_log */
	const char *session_binary;  /* the worker executable (NULL: the build's
				       pixelgate-session), e.g. the test-only
				       pixelgate-session-inject */
	void (*before_daemon)(void); /* called when the world (it.dir, its CA and
					certificates) is made, before the daemon
					starts: e.g. a directory server */
	int daemon_stderr;           /* > 0: the daemon's stdout and stderr (e.g. a
					journald stream) instead of its log, whose
					checks then see nothing */
};

/*
 * it_start() with admin users and extra config (o may be NULL). Every world
 * has the admin API on a free port (it.admin_port, it.admin_srv) and its
 * state_dir in the test's temp dir; [limits] reconnect_grace_s is
 * IT_GRACE_S unless the extra text sets it again.
 */
void it_start_opts(const char *test_name, const char *const *users, const struct it_opts *o);

/*
 * A second node (two nodes behind a balancer): another pixelgate daemon of
 * the test's world, with the first one's certificate, page server, upstream
 * proxy and accounts (a copy of its users file, so call it after it_start()),
 * and its own ports, runtime, state and audit directories, audit key and
 * session uids (IT_NODE_UID_BASE..: on one machine two nodes' cells must not
 * share uids). extra_conf is appended to its config as it_opts.extra_conf is.
 * The teardown stops it before the daemon and judges it the same way: exit
 * status 0 within IT_DAEMON_STOP_S of SIGTERM, nothing of its sessions left,
 * no report in its log (kept as <test>-<name>.log). One per test.
 */
#define IT_NODE_UID_BASE (IT_SESSION_UID_BASE + 64u)
#define IT_NODE_UID_COUNT 32
struct it_node {
	char name[32];
	char dir[300], conf_file[340], log[340], runtime_dir[340], state_dir[340], audit_dir[340];
	int port, admin_port, agent_port; /* staff, admin API, agent-check */
	pid_t pid;
	struct pgc_server srv, admin_srv; /* srv: only without proxy_protocol (the
					     node then wants a PROXY header first) */
};
void it_node_start(struct it_node *n, const char *name, const char *extra_conf);

/*
 * Stops the daemon (SIGTERM; fails the test if it or its sessions are not
 * gone within IT_DAEMON_STOP_S) and starts it again with the same config and
 * state_dir. Connections to the old daemon are left to the caller.
 */
void it_restart_daemon(void);
/* The same, calling between() while the daemon is stopped (e.g. to age its files). */
void it_restart_daemon_with(void (*between)(void));

/*
 * Stops the daemon now (SIGTERM, SIGKILL after timeout_s) and returns its
 * wait status; it_stop() then has no daemon to stop. Fails the test if there
 * is no daemon or it had already exited.
 */
int it_stop_daemon(double timeout_s);

/*
 * A test whose teardown is checked in its body: the body, then it_finish();
 * it_stop() as .fini for a body that failed half-way. Extra Criterion
 * options (e.g. .timeout = 300) follow the name; tests/CMakeLists.txt reads
 * them from these lines (one ctest entry per test, with its own timeout).
 */
#define IT_TEST(suite, name, ...)                         \
	static void it_body_##suite##_##name(void);       \
	Test(suite, name, .fini = it_stop, ##__VA_ARGS__) \
	{                                                 \
		it_body_##suite##_##name();               \
		it_finish();                              \
	}                                                 \
	static void it_body_##suite##_##name(void)

/*
 * The teardown, with its verdict: stops everything (hooks, connections, the
 * test's processes, the daemon), checks what is left and the logs, removes
 * the temp dir and keeps the logs if anything is wrong; fails the test with
 * the problems found. Called by IT_TEST() at the end of the body.
 */
void it_finish(void);

/* Criterion .fini: the same teardown when the body did not get to it (its
   findings are printed; the test has failed already). A no-op otherwise. */
void it_stop(void);

/*
 * A teardown step of a test's own (e.g. stop a viewer and judge its exit),
 * run first by the next teardown; it appends "; "-separated problems to the
 * list (len bytes). Up to 4 per test.
 */
typedef void (*it_stop_hook)(char *problems, size_t len);
void it_at_stop(it_stop_hook hook);

/*
 * How many lines of the log at path report a problem of ours (sanitizer
 * reports, valgrind errors, a worker that exited with a status other than
 * 0 or was killed by a signal other than SIGKILL/SIGTERM); the first such
 * line goes to first (may be NULL).
 */
int it_log_reports(const char *path, char *first, size_t firstlen);

/*
 * The test cannot run on this machine (why): fails the test, unless the
 * environment has PIXELGATE_TEST_ALLOW_SKIP=1, which skips it (ctest shows
 * it as skipped and tests/run.sh counts it). Does not return.
 */
void it_skip(const char *why);

/* The password it_start() gave user. */
const char *it_password(const char *user);

/* Prints the last lines of the daemon's and the page server's logs to stderr. */
void it_dump_logs(void);

#define IT_ASSERT(cond, ...)                                                                 \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			it.failed = true;                                                    \
			fprintf(stderr, "\n*** %s:%d: assertion failed: %s\n*** ", __FILE__, \
				__LINE__, #cond);                                            \
			fprintf(stderr, __VA_ARGS__);                                        \
			fprintf(stderr, "\n");                                               \
			it_dump_logs();                                                      \
			cr_assert_fail(__VA_ARGS__);                                         \
		}                                                                            \
	} while (0)

/* Monotonic seconds. */
double it_now_s(void);

/* Sleeps ms milliseconds. */
void it_sleep_ms(int ms);

/*
 * Logs in as user (with its it_password) and connects; fails the test on
 * error. The connection is freed by it_stop() unless it_conn_free()d first.
 */
struct pgc_conn *it_login_connect(const char *user, int width, int height);
/* The same through srv (e.g. a balancer in front of the nodes). */
struct pgc_conn *it_login_connect_at(const struct pgc_server *srv, const char *user, int width,
				     int height);

/*
 * it_login_connect(), then waits until the test page shows (fails the test
 * if it does not within IT_FIRST_PAGE_S); block gets where it is on screen.
 */
struct pgc_conn *it_open_page(const char *user, int width, int height, struct it_rect *block);
struct pgc_conn *it_open_page_at(const struct pgc_server *srv, const char *user, int width,
				 int height, struct it_rect *block);

/*
 * Opens the WebSocket for ticket (from it_login_http()). Returns the
 * connection (freed by it_stop() like it_login_connect()'s), or NULL with the
 * reason in err and the refusal's HTTP status in *status (0 if none): a
 * refusal does not fail the test.
 */
struct pgc_conn *it_connect_ticket(const char *ticket, char *err, size_t errlen, int *status);

/* Closes and frees a connection from it_login_connect(). */
void it_conn_free(struct pgc_conn *c);

/*
 * Pumps c until the test page's block is on screen (whole, right colour,
 * right size) or deadline_s passed. Returns true and its screen rectangle in
 * r when found. Stops early if the connection closes.
 */
bool it_wait_block(struct pgc_conn *c, double deadline_s, struct it_rect *r);

/* Looks for the block in the current framebuffer of c; see it_wait_block. */
bool it_find_block(struct pgc_conn *c, struct it_rect *r);

/* Screen position of a page point, given where the block was found. */
int it_page_to_screen_x(const struct it_rect *block, int page_x);
int it_page_to_screen_y(const struct it_rect *block, int page_y);

/* Moves the pointer to (x, y) and clicks the left button there. */
void it_click(struct pgc_conn *c, int x, int y);

/*
 * Clicks the test page's text field (block: where the page's block is on
 * screen) and waits, pumping c, until the page says the field has the
 * keyboard focus (the page server's "focus" count goes up); fails the test
 * if it does not within IT_REPORT_S. What is typed next goes into the field.
 */
void it_focus_field(struct pgc_conn *c, const struct it_rect *block);

/* How many times the test page's field got the focus (the page server's
   /stats "focus"); fails the test if the page server does not answer. */
int it_focus_count(void);

/* Pumps c for ms milliseconds (or until closed). Returns false if closed. */
bool it_pump_for(struct pgc_conn *c, int ms);

/* Pumps c until it is closed or deadline_s passed; true if closed. */
bool it_wait_closed(struct pgc_conn *c, double deadline_s);

/*
 * GET path from the page server. Returns the HTTP status (or -1 on a transport
 * error) and the body, NUL-terminated and truncated, in body.
 */
int it_page_get(const char *path, char *body, size_t bodylen);

/*
 * Waits until the page server's /last equals want (pumping the given
 * connections, which may be NULL, meanwhile) or deadline_s passed. Returns
 * true on a match; last gets the last value seen.
 */
bool it_wait_last(const char *want, double deadline_s, struct pgc_conn *c1, struct pgc_conn *c2,
		  char *last, size_t lastlen);

/*
 * Sends request (a complete HTTP/1.1 request) to the staff listener over TLS
 * (the test CA pinned) and reads the answer. Returns the HTTP status or -1;
 * body gets the response body, error its JSON "error" member (or "").
 */
int it_https_raw(const char *request, char *body, size_t bodylen, char *error, size_t errorlen);

/* it_https_raw() to another TLS port of the daemon (e.g. it.admin_port);
   head (may be NULL) gets the status line and headers. */
int it_https_raw_port(int port, const char *request, char *head, size_t headlen, char *body,
		      size_t bodylen, char *error, size_t errorlen);

/* An HTTP answer, held in the caller's storage (nothing to free). */
struct it_http {
	int status;        /* HTTP status; -1 on a transport error */
	int retry_after_s; /* Retry-After header in seconds; -1 if absent */
	char error[64];    /* the JSON body's "error" member, or "" */
	char body[16384];  /* the body (truncated), or why the request failed */
};

/*
 * One HTTPS request to srv (pgc_http_request()) with Basic credentials
 * user:password (user NULL: no Authorization header) and an optional JSON
 * body. Fills r; returns r->status.
 */
int it_http(const struct pgc_server *srv, const char *method, const char *path, const char *user,
	    const char *password, const char *json, struct it_http *r);

/* it_http() to the admin API as user (password it_password(user); NULL: no auth). */
int it_admin(const char *method, const char *path, const char *user, const char *json,
	     struct it_http *r);

/* POST /api/v1/login for user with password (and "new_session": true if asked). */
int it_login_http(const char *user, const char *password, bool new_session, struct it_http *r);

/* Integer member key of the JSON object in body; LLONG_MIN if absent or not an integer. */
long long it_json_int(const char *body, const char *key);

/* String member key of the JSON object in body into out; false if absent or not a string. */
bool it_json_str(const char *body, const char *key, char *out, size_t outlen);

/* Boolean member key of the JSON object in body: 1, 0, or -1 if absent or not a boolean. */
int it_json_bool(const char *body, const char *key);

/* ---- the audit log (audit-*.jsonl in it.audit_dir), read as an auditor would ---- */

/*
 * Every record of the audit log, in file-name then line order: a JSON array
 * (json_decref() it) of the parsed lines, each with "_line" added (the text
 * as written, without its newline). A line that is not a JSON object fails
 * the test; an unterminated last line (a record being written) is read
 * again for up to 1 s first. bytes (may be NULL) gets the files' total size.
 */
json_t *it_audit_records(size_t *bytes);

/*
 * How many audit files there are; newest (may be NULL) gets the path of the
 * last by name ("" if none).
 */
int it_audit_files(char *newest, size_t newestlen);

/* String member key of the record rec (may be NULL); "" if absent or not a string. */
const char *it_rec_str(const json_t *rec, const char *key);

/* Integer member key of the record rec (may be NULL); LLONG_MIN if absent or not an integer. */
long long it_rec_int(const json_t *rec, const char *key);

/*
 * The it_audit_*() below select records by event (NULL: any) and then key,
 * value pairs ending with NULL: each string member key must be value, as
 * it_rec_str() reads it (so "" also matches an absent member). E.g.
 * it_audit_count("login_fail", "user", "hana", "via", "admin", NULL).
 */

/*
 * The first record of recs (an array from it_audit_records()) that matches,
 * borrowed from recs, or NULL; count (may be NULL) gets how many match.
 */
json_t *it_audit_match(const json_t *recs, int *count, const char *event, ...)
    __attribute__((sentinel));

/* it_audit_match() over the log as it is now; the record is a new reference (or NULL). */
json_t *it_audit_find(int *count, const char *event, ...) __attribute__((sentinel));

/* How many records of the log as it is now match. */
int it_audit_count(const char *event, ...) __attribute__((sentinel));

/*
 * it_audit_find(), again and again until at least want records match or
 * seconds passed, pumping pump meanwhile (or sleeping 200 ms if pump is NULL
 * or closed). Returns the first match (a new reference) or NULL; count (may
 * be NULL) gets how many matched at the last look.
 */
json_t *it_audit_wait(struct pgc_conn *pump, double seconds, int want, int *count,
		      const char *event, ...) __attribute__((sentinel));

/* One entry of GET /api/v1/sessions. */
struct it_session {
	char id[128];
	char user[80];
	char client[80];
	char state[16];
	char started[40];
	char last_input[40]; /* "" when null */
	long long bytes_in, bytes_out;
};

/*
 * GET /api/v1/sessions as admin; fills up to max entries, returns how many
 * sessions were listed. Fails the test unless the answer is 200 with a
 * "sessions" array.
 */
int it_sessions(const char *admin, struct it_session *s, int max);
/* The same from the admin API at admin_srv (e.g. a second node's). */
int it_sessions_at(const struct pgc_server *admin_srv, const char *admin, struct it_session *s,
		   int max);

/*
 * The value of the Prometheus sample series (e.g.
 * "pixelgate_sessions{state=\"active\"}") in text; -1 if there is none.
 */
double it_metric(const char *text, const char *series);

/*
 * Connects to the agent-check port and reads its line (without the newline)
 * into line. False if nothing came within 10 s.
 */
bool it_agent_check(char *line, size_t len);

/*
 * Runs a shell command with stdout and stderr captured into out (truncated).
 * Returns its exit status (-1 if it did not exit normally).
 */
int it_run(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

/* Writes text to path with mode (fails the test on error). */
void it_write_file(const char *path, const char *text, mode_t mode);

/* A WebSocket upgrade request for path_and_query (subprotocol "binary"), as
   a browser's noVNC would send it; same contract as it_https_raw(). */
int it_ws_upgrade(const char *path_and_query, char *body, size_t bodylen, char *error,
		  size_t errorlen);

/*
 * Pids of the processes whose command line contains needle (e.g. the
 * runtime dir). Fills up to max pids; returns how many matched.
 */
int it_find_procs(const char *needle, pid_t *pids, int max);

/* pid's command line, arguments joined by spaces, in buf ("?" if gone). */
const char *it_proc_cmdline(pid_t pid, char *buf, size_t len);

/* True if pid's command line has an argument starting with prefix. */
bool it_proc_has_arg(pid_t pid, const char *prefix);

/* Resident memory of pid in KiB (VmRSS), or -1 if it cannot be read. */
long it_rss_kib(pid_t pid);

/* Open descriptors of pid, or -1 if they cannot be listed. */
int it_fd_count(pid_t pid);

/* Real uid of pid, or (uid_t)-1. */
uid_t it_proc_uid(pid_t pid);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int it_free_port(void);

/* True if something accepts TCP connections on 127.0.0.1:port. */
bool it_port_open(int port);

/* ---- the test's own extra processes (an Xvfb, a relay, the viewer) ---- */

#define IT_MAX_EXTRAS 8

/*
 * Starts argv (argv[0] an absolute path) with the environment envp (NULL: the
 * test's own), as the daemon is started: stdin /dev/null, stdout to out_fd
 * (or to the log if out_fd < 0), stderr to log_path; it dies with the test
 * process. it_stop() ends it before the daemon (latest started first:
 * SIGTERM, SIGKILL after 10 s), also after a failed assertion; the tail of
 * log_path is printed with the other logs by it_dump_logs() and kept as
 * /tmp/pixelgate-it-logs/<test>-<what>.log when the test fails.
 */
pid_t it_extra_start(const char *what, char *const argv[], char *const envp[], int out_fd,
		     const char *log_path);

/*
 * True while a process from it_extra_start() runs; once it has exited,
 * false, with its wait status in *status (if not NULL).
 */
bool it_extra_running(pid_t pid, int *status);

/*
 * Ends a process from it_extra_start() now: SIGTERM, SIGKILL after
 * timeout_s. Returns its wait status (of the SIGKILL if it came to that), or
 * -1 if pid is not one of the test's extras.
 */
int it_extra_stop(pid_t pid, double timeout_s);

/*
 * Reads from fd until a newline or timeout_s; buf gets the line without its
 * newline. True if a whole line came.
 */
bool it_read_line(int fd, char *buf, size_t len, double timeout_s);

/*
 * Occurrences of needle in the file at path (0 if it cannot be read):
 * counts a test can compare, e.g. of one log line.
 */
int it_file_count(const char *path, const char *needle);

/*
 * The second factor (issue 14). it_mfa_world: an it_opts.before_daemon that
 * makes the TOTP key file and sets [auth] mfa = admins. it_totp_enroll():
 * POST /api/v1/users/USER/totp as admin; the base32 secret of the answer's
 * otpauth URI into secret. it_totp_code(): the code of secret now, by
 * oathtool (as an authenticator app computes it).
 */
void it_mfa_world(void);
void it_totp_enroll(const char *admin, const char *user, char *secret, size_t len);
void it_totp_code(const char *secret, char code[16]);
/*
 * A pixelgatectl.conf for the admin API as admin: its path into conf, the
 * 0600 file it names for the password into pw_path (may be NULL).
 */
void it_ctl_config(const char *admin, char *conf, size_t len, char *pw_path, size_t pw_len);
/* POST /api/v1/login with the code otp ("" for none); r->status. */
int it_login_otp(const char *user, const char *password, const char *otp, struct it_http *r);

#endif
