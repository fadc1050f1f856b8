/*
 * gateway.h: internals of pixelgate, the gateway daemon.
 *
 * Two processes (gateway_priv.c): a root privileged parent and the
 * unprivileged network process. One libwebsockets context is the network
 * process's whole event loop. Its files:
 *   gateway_main.c      start-up, the vhosts and their protocols, shutdown
 *   gateway_accept.c    who is connecting: per-address caps, PROXY v2, peers
 *   gateway_http.c      "http": the staff login API, the ticket check before the upgrade
 *   gateway_auth*.c     password checks and lockout (staff and admin), on a thread pool
 *   gateway_relay.c     "binary": the viewer's WebSocket (RFB inside), and
 *                       "pg-rfb": the raw socketpair end towards the worker
 *   gateway_session.c   "pg-ctl": the worker's control socket; the session
 *                       table, each session's states and timers, its one end path
 *   gateway_admit.c     the one admission check (login and connect)
 *   gateway_proc.c      a session's worker process: spawn (asked of the parent),
 *                       settings, stop, reaping, forensics results
 *   gateway_record.c    session recordings (vncrec)
 *   gateway_audit.c     the audit log writer
 *   gateway_admin*.c    "admin-http": the admin API on its own TLS vhost
 *   gateway_agent.c     "agent-check": HAProxy's agent check
 * The privileged parent's: gateway_priv.c (its loop and messages),
 * gateway_cell.c (a cell's set-up), gateway_cgroup.c, gateway_egress.c (a
 * cell's only way out), gateway_forensics.c (kept session directories).
 */
#ifndef PIXELGATE_GATEWAY_H
#define PIXELGATE_GATEWAY_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "input_budget.h"
#include "node_limits.h"
#include "output_rate.h"
#include "ldap_auth.h"
#include "lockout.h"
#include "login.h"
#include "rfb_filter.h"
#include "rfb_stream.h"
#include "ticket.h"
#include "users.h"

/* WebSocket close codes the gateway sends (4000-4999: private use). */
#define GW_CLOSE_REPLACED 4000         /* another connection of the same user took over */
#define GW_CLOSE_VIOLATION 4001        /* the viewer sent something the boundary refuses */
#define GW_CLOSE_SESSION_ENDED 4002    /* browser exited, worker died, grace expired */
#define GW_CLOSE_START_FAILED 4003     /* the session could not be started */
#define GW_CLOSE_IDLE 4004             /* idle_timeout_s without input */
#define GW_CLOSE_MAX_TIME 4005         /* max_session_s reached */
#define GW_CLOSE_ADMIN 4006            /* ended by an administrator */
#define GW_CLOSE_SERVER_VIOLATION 4007 /* the browser side sent what the boundary refuses */
#define GW_CLOSE_SHUTDOWN 1001         /* the gateway is stopping ("going away") */

/* Why sessions ended, for /metrics (pixelgate_sessions_ended_total{reason}). */
enum gw_end_reason {
	GW_END_GRACE,        /* no viewer came back within reconnect_grace_s */
	GW_END_BROWSER,      /* the browser or the worker ended the session itself */
	GW_END_WORKER_CRASH, /* the worker died without saying why */
	GW_END_IDLE,
	GW_END_MAX_TIME,
	GW_END_ADMIN,
	GW_END_SHUTDOWN,
	GW_END_START_FAILED,
	GW_END_PROTOCOL, /* the browser side broke the RFB allow-list (rfb_stream.h) */
	GW_END_COUNT
};

/* Why logins were refused before a session (pixelgate_refusals_total{reason}). */
enum gw_refusal {
	GW_REFUSE_NODE_FULL,           /* max_sessions: 503 */
	GW_REFUSE_USER_LIMIT,          /* max_sessions_per_user: 429 */
	GW_REFUSE_LOCKED,              /* login lockout: 429 */
	GW_REFUSE_DRAINING,            /* node draining: 503 */
	GW_REFUSE_ADDRESS_CONNECTIONS, /* max_connections_per_address: TCP closed before TLS */
	GW_REFUSE_PROXY_UNTRUSTED,     /* proxy_protocol: a connection not from proxy_trusted */
	GW_REFUSE_PROXY_HEADER,        /* proxy_protocol: no valid PROXY v2 header in time */
	GW_REFUSE_BUSY,                /* password-check queue full (staff login): 503 busy */
	GW_REFUSE_RATE_LIMITED,        /* login_rate_per_s of the address (staff login): 429 */
	GW_REFUSE_ADMIN_BUSY,          /* password-check queue full (admin API): 503 busy */
	GW_REFUSE_ADMIN_RATE_LIMITED,  /* admin_rate_per_s of the address: 429 */
	GW_REFUSE_DIRECTORY,           /* [auth] backend = ldap: the directory failed: 503 */
	GW_REFUSE_METRICS_TOKEN,       /* GET /metrics with a wrong bearer token: 401 */
	GW_REFUSE_COUNT
};

/* Counters for GET /metrics (monotonic since start). */
struct gw_metrics {
	uint64_t logins_ok;
	uint64_t logins_failed; /* wrong user or password */
	uint64_t refusals[GW_REFUSE_COUNT];
	uint64_t bytes_out; /* to viewers */
	uint64_t bytes_in;  /* from viewers */
	uint64_t worker_crashes;
	uint64_t sessions_ended[GW_END_COUNT];
	struct input_budget_counts input; /* viewer input throttled (input_budget.h) */
	uint64_t input_floods;            /* viewers closed 4001 for an input flood */
	uint64_t reloads_ok;              /* SIGHUP reloads applied */
	uint64_t reloads_refused;         /* SIGHUP reloads refused (the old config kept) */
	uint64_t audit_records;           /* audit records written */
	uint64_t audit_lost;              /* audit records that could not be written */
};

/* Stable names of the enums above (metrics labels, logs). */
const char *gw_end_reason_name(enum gw_end_reason r);
const char *gw_refusal_name(enum gw_refusal r);

/* A worker's browser events audited in a window; the rest are dropped (one record says so). */
#define GW_EVENT_WINDOW_MS 10000
#define GW_EVENT_MAX_PER_WINDOW 200
/* The watermark's text after {user} and {client} (the worker takes less than 256 bytes). */
#define GW_WATERMARK_MAX 240
/* A paste is a human act: more ClientCutText than this in a window is a flood (4001). */
#define GW_CLIP_WINDOW_MS 10000
#define GW_CLIP_MAX_PER_WINDOW 20
/* The most of a clipboard text an audit record holds ([audit] clipboard_content). */
#define GW_CLIP_AUDIT_TEXT 65536
/* Relay buffers: stop reading a side when its outgoing buffer holds this much. */
#define GW_RELAY_HIGH_BYTES (512u * 1024u)
#define GW_RELAY_LOW_BYTES (128u * 1024u)
/* What a side may still deliver after it was paused (one read / one fragment). */
#define GW_RELAY_SLACK_BYTES (128u * 1024u)
/* Largest WebSocket message the relay sends at once. */
#define GW_WS_TX_CHUNK 16384u

#define SESSION_CTRL_FD 3             /* the worker's control socket (session.h) */
#define GW_LOGIN_BODY_MAX 4096        /* bytes of a login request body */
#define GW_SESSION_STOP_GRACE_MS 4000 /* after STOP, SIGKILL the group */
#define GW_POOL_USER "(pool)"         /* a pre-started session's user: no valid name */
#define GW_POOL_REFILL_MS 3000        /* after a claim: the claimed page first */
#define GW_POOL_RETRY_MS 5000         /* after a pre-started session failed or ended */
#define GW_SESSION_EXIT_WAIT_MS 2000  /* control socket closed: the exit's report due */
#define GW_SHUTDOWN_DEADLINE_MS 15000

/* A byte buffer with a fixed capacity (no growth past cap). */
struct gw_buf {
	uint8_t *data;
	size_t len, cap;
};

struct gw_session;

/* One viewer WebSocket connection: the "binary" protocol's per-session data. */
struct gw_conn {
	struct lws *ws;  /* the viewer's WebSocket */
	struct lws *raw; /* our end of the RFB socketpair (NULL once closed) */
	int worker_fd;   /* the worker's end until handed over, else -1 */
	struct gw_session *session;
	char user[USERS_NAME_MAX + 1];
	char peer[64]; /* client address for logs */
	struct rfb_filter filter;
	struct gw_buf up_in;        /* viewer bytes not yet examined by the filter */
	struct gw_buf up_out;       /* filtered bytes for the worker */
	struct gw_buf down;         /* worker bytes for the viewer */
	size_t down_ok;             /* of them, checked by sc (the first down_ok bytes) */
	struct rfb_sc sc;           /* the check of the worker's bytes (server -> client) */
	bool ws_paused, raw_paused; /* rx flow control state of each side */
	bool closing;               /* close frame requested; nothing more is relayed */
	int close_code;
	char close_reason[120];           /* WebSocket close reasons are at most 123 bytes */
	lws_sorted_usec_list_t close_sul; /* deferred close after the worker dropped us */
	uint64_t bytes_up, bytes_down;
	/* max_fps / max_kbps: FramebufferUpdateRequests are held, not queued */
	uint8_t held_fbur[10]; /* the pending request (merged), if have_held */
	bool have_held;
	int64_t last_fbur_ms;            /* when the last request went to the worker */
	struct output_rate rate;         /* max_fps, max_kbps: what was sent, as debts */
	lws_sorted_usec_list_t fbur_sul; /* releases the held request */
	int64_t fps_window_ms;           /* start of the current one-second fps window */
	uint32_t fps_count;
	struct gw_rec *rec; /* recording of the worker's bytes, or NULL */
	bool rec_checked;   /* whether recording was considered yet */
	/* the input budget (input_budget.h): keys slowed, motion coalesced,
	   full update requests demoted, one request outstanding at the worker */
	struct input_budget budget;
	bool input_waiting; /* parsing stopped for the key rate until input_sul */
	lws_sorted_usec_list_t input_sul;
	uint8_t held_ptr[6]; /* the latest coalesced PointerEvent, if have_ptr */
	bool have_ptr;
	lws_sorted_usec_list_t ptr_sul; /* sends held_ptr */
	bool ptr_seen;                  /* a PointerEvent was forwarded: ptr_buttons is valid */
	uint8_t ptr_buttons;            /* button mask of the last one forwarded */
	bool fbur_unanswered;           /* no FramebufferUpdate ended since the last request */
	int64_t clip_window_ms;         /* start of the current clipboard window */
	uint32_t clip_count;            /* ClientCutText messages in it (GW_CLIP_MAX_PER_WINDOW) */
	uint32_t drops_logged;          /* dropped messages logged (the first few only) */
	uint8_t *clip_down;             /* the worker's ServerCutText so far (relay_clip_piece) */
	size_t clip_down_len, clip_down_cap;
	bool clip_down_lost;         /* out of memory for it: dropped at its end */
	int64_t clip_down_window_ms; /* the browser's copies: at most GW_CLIP_MAX_PER_WINDOW */
	uint32_t clip_down_count;
};

/* A session's states; session_set_state() (gateway_session.c) says which timers each runs. */
enum gw_session_state {
	GW_SESSION_STARTING, /* cell asked for, worker spawned, waiting for READY */
	GW_SESSION_READY,    /* browser up; viewers can attach */
	GW_SESSION_ENDING,   /* ended (session_end): the worker is going; waiting for its exit */
	GW_SESSION_DEAD,     /* worker reaped; freed once its control socket is gone too */
};

/* One staff member's browser session. */
struct gw_session {
	struct gw_session *next;
	char id[17]; /* 16 hex characters, for logs and the directory */
	char user[USERS_NAME_MAX + 1];
	int width, height;
	enum gw_session_state state;
	pid_t pid;        /* worker (pid 1 of its cell); 0 until spawned or once reaped */
	uid_t uid;        /* the cell's uid */
	int ctrl_fd;      /* control socket; -1 once closed */
	struct lws *ctrl; /* the control socket in the lws loop */
	char dir[CONFIG_PATH_MAX + 32]; /* private directory (inside the cell's own tmpfs) */
	struct gw_conn *conn;           /* attached viewer, or NULL (detached) */
	char end_reason[200];           /* why it ended, for the viewer and the log */
	char worker_said[200];          /* the worker's own end reason (log, audit only) */
	int64_t started_ms;
	int64_t events_window_ms; /* the worker's events: GW_EVENT_MAX_PER_WINDOW in a window */
	uint32_t events_in_window;
	lws_sorted_usec_list_t grace_sul; /* detached: end when it fires */
	lws_sorted_usec_list_t kill_sul;  /* start timeout / stop deadline */
	lws_sorted_usec_list_t limit_sul; /* idle / max session time checks */
	enum gw_end_reason end_kind;      /* for metrics, once ENDING */
	char peer[64];                    /* address of the current or last viewer */
	int64_t last_input_ms;            /* last KeyEvent/PointerEvent from a viewer */
	uint64_t bytes_in, bytes_out;     /* over all its viewers */
	uint64_t updates_requested;       /* FramebufferUpdateRequests forwarded */
	double fps;                       /* updates requested per second, last full second */
	unsigned recordings;              /* recording files made so far (<id>-<n>.vncrec) */
	char rec_file[64];                /* the last closed recording, for session_end */
	char rec_sha256[65];
	char kept_dir[32]; /* "session-<id>" in forensics_dir once kept, or "" */
	bool worker_ended; /* the worker said IPC_ENDED: it is going by itself */
	bool reaped;       /* the worker was reaped, or its cell never made */
	bool ctrl_eof;     /* the worker closed its control socket (it is exiting): the
			      session ends when the parent reports the exit and why */
	bool pooled;       /* pre-started ([session] prestart), nobody's yet: no user, no
			      viewer, no timers but the start timeout, not counted */
	int policy;        /* gateway_policy.c: 0 the node's, i + 1 [group] i */
};

/* The daemon's state (one instance, gateway_main.c). */
struct gateway {
	struct config cfg;
	char config_path[CONFIG_PATH_MAX];
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	struct users users;
	struct timespec users_mtime; /* reload the users file when it changes */
	ino_t users_ino;
	off_t users_size;
	struct ticket_store *tickets;
	struct gw_session *sessions;
	int session_exe_fd;                     /* the worker binary, opened at start-up */
	int priv_fd;                            /* to the privileged parent (gateway_priv.c) */
	bool destroying;                        /* lws_context_destroy() runs: sockets close */
	struct limits limits_base;              /* from the config file */
	struct limits limits;                   /* in force: base + persisted run-time overrides */
	char limits_path[CONFIG_PATH_MAX + 32]; /* state_dir/limits.json */
	struct lockout *lockout;                /* failed logins per user and per address */
	struct ldap_auth_conf *ldap; /* [auth] backend = ldap: the directory; else NULL */
	struct gw_totp *totp;        /* the second factor: NULL when off (no key file) */
	bool draining;               /* no new sessions; existing ones go on */
	struct gw_metrics metrics;
	struct lws_vhost *admin_vhost; /* NULL when admin_listen_port = 0 */
	struct lws_vhost *agent_vhost; /* NULL when agent_check_port = 0 */
	bool stopping;                 /* SIGTERM/SIGINT received */
	int64_t stop_deadline_ms;
	int signal_fd;
	int64_t cert_not_after; /* the served certificate's end of validity (Unix s) */
	bool metrics_token_set; /* [admin] metrics_token_file: its token's SHA-256 */
	unsigned char metrics_token_sha[32];
};

/* gateway_main.c: the rules a loaded configuration must meet (start, -n, reload). */
int gw_config_rules(const struct config *c, const char *path, char *err, size_t errlen);

/* gateway_admin_node.c: */
/*
 * [admin] metrics_token_file at path ("" = none: *set false): a secret file
 * (config_check_secret_file()) of one token (admin_token_parse()); sha gets
 * its SHA-256. 0, or -1 with why in err.
 */
int admin_metrics_token_load(const char *path, unsigned char sha[32], bool *set, char *err,
			     size_t errlen);

/* gateway_systemd.c: journald and sd_notify (see there). */
void systemd_init_logging(void);
void systemd_notify(const char *state);
bool systemd_notifying(void);
/* How often the network process tells the parent its loop turns (PRIV_STATUS alive). */
#define GW_ALIVE_MS 5000
/* gateway_priv.c, network process: tell the parent (and so systemd) how it is. */
void priv_status(bool ready, const char *status);

/*
 * gateway_reload.c: SIGHUP. The privileged parent reads the configuration
 * file and hands it over (PRIV_CONFIG): fd is a sealed memfd of it, or -1
 * with why it could not be read in why.
 */
void reload_run(int fd, const char *why);
/* cert and key load and match; *not_after = the certificate's end (Unix s). 0 or -1 + err. */
int reload_check_cert(const char *cert, const char *key, int64_t *not_after, char *err,
		      size_t errlen);

/*
 * gateway_policy.c: the policy of a session: 0 the node's, i + 1 the
 * [group] section i over it (see there).
 */
const struct group_policy *policy_group(int policy);
/* The policy of a directory user in groups (bit i: [group] i): the first, or 0. */
int policy_of_groups(unsigned groups);
const char *policy_name(int policy); /* the [group] name, "" for the node's */
int policy_max_sessions_per_user(int policy);
int policy_idle_timeout_s(int policy);
bool policy_clipboard_to_browser(int policy);
bool policy_clipboard_to_terminal(int policy);
const char *policy_home_page(int policy);
/* 1 recorded, 0 not, -1 as the node's [audit] recording says */
int policy_recording(int policy);
/* Whether a session of this policy may take a pre-started browser (the same URL lists
   and clipboard switches as the node's, which its cell and worker were made with). */
bool policy_takes_pool(int policy);
/* The policy in force, for the admin API (NULL when out of memory). */
json_t *policy_json(int policy);

/*
 * gateway_directory.c: [auth] backend = ldap. directory_load() makes
 * gw->ldap from [ldap] (NULL for backend = file): 0 or -1 + err.
 * directory_probe(): the service account's bind tried once (pixelgate -n),
 * 0 or -1, with what happened in msg either way.
 */
int directory_load(char *err, size_t errlen);
void directory_free(void);
int directory_probe(char *msg, size_t msglen);

/* gateway_core.c: the global state and the clocks. */
extern struct gateway *gw;
/* Monotonic clock in milliseconds (timers, rates, ages). */
int64_t gw_now_ms(void);
/* Wall clock in milliseconds since 1970 (what records and the admin API show). */
int64_t gw_wall_ms(void);

/* gateway_http.c: per-request state of the "http" protocol. */
struct http_pss {
	char body[GW_LOGIN_BODY_MAX + 1];
	size_t len;
	bool too_big; /* more than GW_LOGIN_BODY_MAX bytes arrived: discard, then 400 */
	bool is_login;
	/* a login whose password is being checked (gateway_auth.h); no password here */
	bool checking;
	char user[USERS_NAME_MAX + 1];
	int width, height;
	bool new_session;
	char otp[LOGIN_OTP_DIGITS + 1]; /* the second factor's code, "" if none; wiped */
	char peer[64];
	/* the answer, written at HTTP_WRITEABLE (after an asynchronous check) */
	bool replying;
	unsigned int status;
	int retry_after_s;
	char reply[512];
};

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len);

/*
 * Answer a WebSocket upgrade request that is refused with status and
 * {"error": code, "message": message}; the return value is the
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE callback's.
 */
int gw_refuse_upgrade(struct lws *wsi, unsigned int status, const char *code, const char *message);
/* The grant of wsi's confirmed upgrade (malloc'd, caller frees), or NULL. */
struct ticket_grant *http_take_grant(struct lws *wsi);
/* Forget wsi's grant, if any (the upgrade failed). */
void http_drop_grant(struct lws *wsi);

/*
 * gateway_accept.c: who is connecting. Per-address connection caps on the
 * staff and admin listeners, PROXY protocol v2 on the staff listener (then
 * the gateway owns that listening socket), and the client address of a
 * connection as every part of the gateway uses it.
 */
/*
 * The client address of wsi (a staff or admin connection, before or after
 * the WebSocket upgrade) into buf: the one a PROXY header named, else the
 * socket's peer ("?" if unknown). Returns buf.
 */
const char *gw_peer(struct lws *wsi, char *buf, size_t len);
/* protocols[0] of the staff vhost: accounting around http_callback(). */
int accept_staff_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			  size_t len);
/* protocols[0] of the admin vhost: accounting around admin_callback(). */
int accept_admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			  size_t len);
/*
 * Start accepting (after the vhosts exist): with proxy_protocol, listen on
 * listen_address:listen_port ourselves and hand each connection to
 * gw->vhost after its header. 0, or -1 with the reason in err.
 */
int accept_init(char *err, size_t errlen);
/* After lws_context_destroy(): close what is left and free the tables. */
void accept_close(void);

/* gateway_relay.c */
int relay_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len);
int relay_raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len);
/*
 * Close conn's WebSocket with code and reason (the one close path of a
 * viewer connection). Safe to call more than once; the first reason wins.
 */
void relay_close(struct gw_conn *conn, int code, const char *reason);

/* gateway_clipboard.c: clipboard text at the boundary, audited. */
/* A ClientCutText the filter dropped (bytes long, why): a "clipboard" refused record. */
void clip_refused_to_browser(const struct gw_conn *conn, size_t bytes, const char *why);
/* The browser's copy (bytes long) not sent to the terminal (why): a refused record. */
void clip_refused_to_terminal(const struct gw_conn *conn, size_t bytes, const char *why);
/*
 * A ClientCutText the filter passed (step, the message at msg): checked,
 * audited, and on 0 the message for the worker (plain, UTF-8) in *fwd
 * (malloc'd, *fwd_len bytes; free it). -1: refused and audited; drop it.
 */
int clip_to_browser(const struct gw_conn *conn, const struct rfb_step *step, const uint8_t *msg,
		    uint8_t **fwd, size_t *fwd_len);
/*
 * The worker's ServerCutText (msg, len bytes: its header and UTF-8 text, the
 * browser's copy): checked, audited (direction to_terminal), and on 0 the
 * message for the viewer in *out (malloc'd, *out_len bytes; free it): the
 * extended clipboard's Provide if the viewer's SetEncodings asked for it,
 * else plain ISO 8859-1 ('?' for what it lacks), at most room bytes. -1:
 * refused and audited.
 */
int clip_to_terminal(const struct gw_conn *conn, const uint8_t *msg, size_t len, size_t room,
		     uint8_t **out, size_t *out_len);
/* The session is ready: hand the worker its end of conn's socketpair. */
void relay_hand_over(struct gw_conn *conn);

/* gateway_session.c */
int session_ctl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len);
/*
 * Attach conn to user's session, starting one if there is none; an older
 * connection of the same session is closed. 0, or -1 with conn closed.
 */
int session_attach(struct gw_conn *conn, const struct ticket_grant *grant);
/* conn went away: the session stays for reconnect_grace_s. */
void session_detach(struct gw_conn *conn);
/* End every session (shutdown). */
void session_stop_all(const char *reason);
/* Number of sessions not yet reaped. */
size_t session_count(void);
/* Whether a cell's uid is free for one more session (session_uid_count). */
bool session_uid_free(void);
/* rm -rf dir without following symlinks or crossing mounts (gateway_proc.c). */
void session_remove_dir(const char *dir);
/* Sessions starting or running (what max_sessions counts). */
size_t session_count_live(void);
/* Live sessions with no viewer attached. */
size_t session_count_detached(void);
/* Pre-started sessions waiting for a login ([session] prestart; not in the counts above). */
size_t pool_count(void);
/* Start pre-started sessions up to [session] prestart, room permitting. */
void pool_fill(void);
/* Of them, those READY for a login (/healthz "prestarted"). */
size_t pool_ready(void);
/* End every pre-started session (draining: none is needed, each costs a session's memory). */
void pool_empty(const char *why);
/* The session with this id, or NULL. */
struct gw_session *session_find_id(const char *id);
/* Sessions of a user that are starting or running. */
size_t session_count_user(const char *user);
/* A session of user that is starting or running (the one a takeover attaches to), or NULL. */
struct gw_session *session_find_user(const char *user);

/* Whether a session may start now (session_admit()). */
enum gw_admit {
	GW_ADMIT_OK,
	GW_ADMIT_USER_LIMIT, /* new_session, and the user has max_sessions_per_user */
	GW_ADMIT_DRAINING,   /* the node is draining */
	GW_ADMIT_NODE_FULL,  /* max_sessions reached */
	GW_ADMIT_NO_UID,     /* every session uid is held (session_uid_count) */
};
/*
 * The one admission check, for a login that would start a session and for
 * the connect that starts it (another login may have taken the room
 * meanwhile). new_session: the user asked for another session beside theirs.
 */
enum gw_admit session_admit(const char *user, bool new_session, int policy);
/* The refusal a non-OK admission counts as (pixelgate_refusals_total). */
enum gw_refusal gw_admit_refusal(enum gw_admit a);
/*
 * The one end path of a session (a no-op unless it is STARTING or READY;
 * the first reason wins): kind is counted in metrics and names the end in
 * the session_end record, reason is its detail; the viewer is closed with
 * code and reason, or (code 0) with 4002 "session ended: <reason>" / 4003
 * "session failed to start: <reason>". The worker is asked to stop (STOP),
 * or killed at once if it failed to start or crashed, or left to go if it
 * said it ended; killed anyway if it is not gone in GW_SESSION_STOP_GRACE_MS.
 */
void session_end(struct gw_session *s, enum gw_end_reason kind, int code, const char *reason);
/*
 * The worker sent its viewer what the server -> client check refuses (what):
 * audited as server_protocol_violation, the viewer closed with
 * GW_CLOSE_SERVER_VIOLATION, the session ended.
 */
void session_protocol_violation(struct gw_session *s, const char *what);
/* Limits changed at run time: re-arm every session's idle / max-time checks. */
void session_limits_changed(void);
/* Between gateway_session.c and gateway_proc.c: */
/* Whether s is STARTING or READY (what the limits count; what can still end). */
bool session_live(const struct gw_session *s);
/*
 * The one place s changes state; it starts and stops the timers each state
 * runs (gateway_session.c's table). Only session_end() and the worker's
 * READY and reaping call it.
 */
void session_set_state(struct gw_session *s, enum gw_session_state to);
/* Audit event of s with extra fields (an object or NULL, not kept). */
void session_audit(const struct gw_session *s, const char *event, json_t *fields);
/* Unlink and free a DEAD session whose control socket is closed (session_end record). */
void session_free(struct gw_session *s);

/*
 * gateway_audit.c: the audit log writer (the only one). Records are chained
 * (audit_chain.h), flushed to the file before the action they record is
 * acknowledged where possible, fsync'd at least once a second and at every
 * session_end, rotated by size or day with the chain going on.
 */
/* Open the log (continuing the chain from its last record) and load the key. 0 or -1 + err. */
int audit_open(char *err, size_t errlen);
/*
 * Write one record: event name, user/client/session ("" if none) and extra
 * fields (an object of strings/integers/booleans, or NULL; it is not kept).
 * 0, or -1 when the log cannot be written (then audit_available() is false
 * and the gateway refuses new logins with 503 audit_unavailable).
 */
int audit_event(const char *event, const char *user, const char *client, const char *session,
		json_t *fields);
/* Whether records can be written now, or audit_fail_open lets logins go on without. */
bool audit_available(void);
/* Whether records can be written now (checks the directory and file). */
bool audit_writable(void);
/* Whether a login can succeed at all: the audit log is writable, or audit_fail_open. */
bool gw_logins_possible(void);
/* fsync now (session_end, shutdown). */
void audit_sync(void);
void audit_close(void);

/*
 * gateway_record.c: session recording ([audit] recording), vncrec files of
 * what the worker sends to each viewer connection, sha256 audited on close.
 */
/* Whether [audit] recording applies to user. */
bool record_applies(const char *user, int policy);
/* Whether anything is ever recorded ([audit] recording, or a [group] with recording = on). */
bool record_configured(void);
/* Start recording conn if it applies (conn->session set); failures are logged only. */
void record_start(struct gw_conn *conn);
/*
 * Bytes from the worker for conn's viewer that the server -> client check
 * accepted, in order; starts_message: they begin a server message (a
 * timestamp goes before them). A write error stops the recording only.
 */
void record_data(struct gw_conn *conn, const uint8_t *in, size_t len, bool starts_message);
/* Close conn's recording: sha256, log line, "recording" audit record. */
void record_close(struct gw_conn *conn);
/* Create recording_dir, prune old recordings now and once a day. */
void record_init(void);

/* gateway_admin.c: the admin listener ("admin-http" on its own TLS vhost). */
int admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);
/* Per-request state size of the admin protocol. */
size_t admin_pss_size(void);
/* gateway_agent.c: HAProxy agent-check ("agent-check", plain TCP vhost). */
int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);
/* The agent-check answer for the current state ("up ready 75%\n", "up drain\n", "down\n"). */
void agent_answer(char *out, size_t outlen);

/*
 * gateway_proc.c: a session's worker process (spawn, stop, reap), talking
 * to the privileged parent for it. The session_* names are the API the
 * parent's messages (gateway_priv.c) and gateway_main.c call.
 */
/* Ask the privileged parent for s's cell (answered by session_spawned). 0, or -1 logged. */
int proc_spawn(const struct gw_session *s);
/*
 * Make s's worker go as its session ends for kind: nothing if it was reaped
 * or said it ended; its cell killed now if it failed to start or crashed;
 * else IPC_STOP with reason (ENDING's deadline kills it if it lingers).
 */
void proc_stop(struct gw_session *s, enum gw_end_reason kind, const char *reason);
/* Kill every worker's process group and remove directories (last resort at exit). */
void session_kill_all(void);
/* The privileged parent answered a spawn: ctrl_fd, or error (then ctrl_fd is -1). */
void session_spawned(const char *id, pid_t pid, uid_t uid, int ctrl_fd, const char *error);
/* The privileged parent reaped session id's worker (wait status); kept is the
   forensics copy's result line after priv_keep(), else ""; flags PRIV_EXIT_OOM
   if the kernel's OOM killer acted in its memory group (ended as over its
   memory limit, audited as limit_exceeded). */
void session_exited(const char *id, int status, unsigned flags, const char *kept);

/*
 * gateway_priv.c: privilege separation. A root parent that only makes cells
 * (a uid, namespaces, private tmpfs, egress through upstream_proxy only) and
 * reaps them; the network process (everything else) runs as [server] user.
 */
#define PRIV_EGRESS_PORT 3128 /* inside each cell: the only way out, to upstream_proxy */
/* A cell's end (PRIV_EXITED's flags): the kernel's OOM killer acted in its
   memory group (the cgroup backstop, session_memory_mib and a quarter), and
   the parent killed the whole cell */
#define PRIV_EXIT_OOM 1u
/* Before the split: who runs sessions, the uid range, the Chromium policy. 0 or -1 + err. */
int priv_check(bool root, char *err, size_t errlen);
/* The network process's uid/gid (valid after priv_check). */
uid_t priv_net_uid(void);
gid_t priv_net_gid(void);
/* Fork: the parent never returns; the child (the network process) returns 0. */
int priv_split(int exe_fd, const char *exe_path, char *err, size_t errlen);
/* Whether sessions run in cells (the daemon started as root). */
bool priv_cells(void);
/* Ask for a cell for session id (answered by session_spawned). 0 or -1. */
int priv_spawn(const char *id, int policy);
/* Ask the parent to SIGKILL session id's cell. */
void priv_kill(const char *id);
/*
 * Ask the parent to SIGKILL session id's cell at once, keeping its directory
 * for forensics (gateway_forensics.c); the result comes with session_exited().
 */
void priv_keep(const char *id, const char *user, const char *what);
/* The parent's socket in the lws loop ("pg-priv"). */
int priv_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len);

#endif
