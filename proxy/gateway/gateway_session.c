/*
 * gateway_session.c: the session table and each session's state.
 *
 * A session is one staff member's pixelgate-session worker, running in a
 * cell of its own (its process's life is gateway_proc.c's). The network
 * process talks to the worker over a SOCK_SEQPACKET control socket on the
 * worker's fd 3 ("pg-ctl" protocol, adopted into the lws loop; this file
 * reads it) and hands it each viewer's RFB socket with IPC_ATTACH.
 *
 * Life of a session: STARTING (cell asked for, then spawned) -> READY
 * (IPC_READY) -> ENDING (session_end: STOP sent, or the worker said ENDED,
 * or its control socket closed) -> DEAD (reaped) -> freed once the control
 * socket is gone too. session_set_state() is the only place the state
 * changes and owns the three timers; session_end() is the only way to end.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "browser_event.h"
#include "end_text.h"
#include "gateway.h"
#include "ipc.h"
#include "log.h"
#include "utf8.h"

void session_audit(const struct gw_session *s, const char *event, json_t *fields)
{
	if (!s->pooled) /* nobody's yet: nothing of a user happened */
		audit_event(event, s->user, s->peer, s->id, fields);
	json_decref(fields);
}

static void pool_schedule(int64_t ms);

bool session_live(const struct gw_session *s)
{
	return s->state == GW_SESSION_STARTING || s->state == GW_SESSION_READY;
}

struct gw_session *session_find_user(const char *user)
{
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		if (session_live(s) && !s->pooled && strcmp(s->user, user) == 0)
			return s;
	return NULL;
}

const char *gw_end_reason_name(enum gw_end_reason r)
{
	static const char *const names[GW_END_COUNT] = {
		"grace",    "browser",      "worker_crash",      "idle", "max_time", "admin",
		"shutdown", "start_failed", "protocol_violation"
	};
	return (unsigned)r < GW_END_COUNT ? names[r] : "unknown";
}

const char *gw_refusal_name(enum gw_refusal r)
{
	static const char *const names[GW_REFUSE_COUNT] = { "node_full",
							    "user_limit",
							    "locked",
							    "draining",
							    "address_connections",
							    "proxy_untrusted",
							    "proxy_header",
							    "busy",
							    "rate_limited",
							    "admin_busy",
							    "admin_rate_limited",
							    "directory_unavailable",
							    "metrics_token" };
	return (unsigned)r < GW_REFUSE_COUNT ? names[r] : "unknown";
}

size_t session_count_live(void)
{
	size_t n = 0;
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		n += session_live(s) && !s->pooled;
	return n;
}

size_t session_count_detached(void)
{
	size_t n = 0;
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		n += session_live(s) && s->conn == NULL && !s->pooled;
	return n;
}

size_t session_count_user(const char *user)
{
	size_t n = 0;
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		n += session_live(s) && !s->pooled && strcmp(s->user, user) == 0;
	return n;
}

struct gw_session *session_find_id(const char *id)
{
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

bool session_uid_free(void)
{
	/* every session not yet reaped still holds its cell's uid */
	return !priv_cells() || session_count() < (size_t)gw->cfg.session_uid_count;
}

size_t session_count(void)
{
	size_t n = 0;
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		n++;
	return n;
}

/* Unlink and free a DEAD session (no timers) whose control socket is closed. */
void session_free(struct gw_session *s)
{
	for (struct gw_session **pp = &gw->sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->conn != NULL) {
		record_close(s->conn); /* its name and sha256 go into session_end */
		s->conn->session = NULL;
	}
	if (s->pooled) {
		log_info("session %s (pre-started) removed (ended: %s: %s)", s->id,
			 gw_end_reason_name(s->end_kind), s->end_reason);
		if (!gw->stopping)
			pool_schedule(GW_POOL_RETRY_MS); /* not at once: it may fail again */
		free(s);
		return;
	}
	gw->metrics.sessions_ended[s->end_kind]++;
	json_t *end = json_pack("{s:s, s:s, s:I, s:I, s:I}", "reason",
				gw_end_reason_name(s->end_kind), "detail", s->end_reason,
				"duration_s", (json_int_t)((gw_now_ms() - s->started_ms) / 1000),
				"bytes_in", (json_int_t)s->bytes_in, "bytes_out",
				(json_int_t)s->bytes_out);
	if (end != NULL && s->rec_file[0] != '\0') {
		/* the session's last recording (each has its own "recording" record) */
		json_object_set_new(end, "recording", json_string(s->rec_file));
		json_object_set_new(end, "recording_sha256", json_string(s->rec_sha256));
	}
	if (end != NULL && s->worker_said[0] != '\0')
		json_object_set_new(end, "worker_detail", json_string(s->worker_said));
	if (end != NULL && s->kept_dir[0] != '\0')
		json_object_set_new(end, "forensics", json_string(s->kept_dir));
	session_audit(s, "session_end", end);
	audit_sync();
	log_info("session %s of %s removed (ended: %s; %llu bytes in, %llu bytes out)", s->id,
		 s->user, gw_end_reason_name(s->end_kind), (unsigned long long)s->bytes_in,
		 (unsigned long long)s->bytes_out);
	free(s);
}

/* ---- the state machine ---------------------------------------------------- */

static void session_kill_cb(lws_sorted_usec_list_t *sul);
static void session_grace_cb(lws_sorted_usec_list_t *sul);
static void session_limit_arm(struct gw_session *s);

/* (Re)start the kill deadline: SIGKILL the cell in ms unless it is reaped first. */
static void session_kill_after(struct gw_session *s, int64_t ms)
{
	lws_sul_schedule(gw->ctx, 0, &s->kill_sul, session_kill_cb, (lws_usec_t)ms * LWS_US_PER_MS);
}

/*
 * The grace timer follows the viewer: a live session with no viewer ends
 * reconnect_grace_s after it left (or after it became READY, whichever is
 * later); one with a viewer, or one that is not live, has none.
 */
static void session_grace_follow(struct gw_session *s)
{
	if (session_live(s) && s->conn == NULL && !s->pooled)
		lws_sul_schedule(gw->ctx, 0, &s->grace_sul, session_grace_cb,
				 (lws_usec_t)gw->limits.reconnect_grace_s * LWS_US_PER_SEC);
	else
		lws_sul_cancel(&s->grace_sul);
}

/*
 * The one place a session changes state, and so the one owner of its three
 * timers. What runs in each state:
 *   STARTING  kill_sul (session_start_timeout_s), limit_sul, grace_sul with no viewer
 *   READY     limit_sul, grace_sul with no viewer (restarted on entry)
 *   ENDING    kill_sul (GW_SESSION_STOP_GRACE_MS: the worker's time to go)
 *   DEAD      nothing (reaped; freed once its control socket is gone too)
 * Besides: the grace timer follows attach and detach (session_grace_follow)
 * and the limit timer is re-armed when the limits change.
 */
void session_set_state(struct gw_session *s, enum gw_session_state to)
{
	s->state = to;
	switch (to) {
	case GW_SESSION_STARTING:
		session_kill_after(s, (int64_t)gw->cfg.session_start_timeout_s * 1000);
		session_limit_arm(s);
		session_grace_follow(s);
		break;
	case GW_SESSION_READY:
		lws_sul_cancel(&s->kill_sul);
		session_grace_follow(s);
		break;
	case GW_SESSION_ENDING:
		lws_sul_cancel(&s->grace_sul);
		lws_sul_cancel(&s->limit_sul);
		session_kill_after(s, GW_SESSION_STOP_GRACE_MS);
		break;
	case GW_SESSION_DEAD:
		lws_sul_cancel(&s->grace_sul);
		lws_sul_cancel(&s->limit_sul);
		lws_sul_cancel(&s->kill_sul);
		break;
	}
}

/*
 * Close the attached viewer: with code and reason as given, or (code 0)
 * 4002 "session ended: ..." / 4003 "session failed to start: ..." with the
 * session's end reason cut to fit a WebSocket close frame (UTF-8, RFC 6455).
 */
static void session_tell_viewer(struct gw_session *s, bool started, int code, const char *reason)
{
	if (s->conn == NULL)
		return;
	if (code != 0) {
		relay_close(s->conn, code, reason);
		return;
	}
	char why[91], text[120];
	utf8_clean(why, sizeof why, s->end_reason);
	snprintf(text, sizeof text, "%s: %s", started ? "session ended" : "session failed to start",
		 why);
	relay_close(s->conn, started ? GW_CLOSE_SESSION_ENDED : GW_CLOSE_START_FAILED, text);
}

void session_end(struct gw_session *s, enum gw_end_reason kind, int code, const char *reason)
{
	if (!session_live(s))
		return; /* the first reason wins */
	bool started = s->state == GW_SESSION_READY;
	s->end_kind = kind;
	snprintf(s->end_reason, sizeof s->end_reason, "%s", reason);
	log_info("session %s of %s: ending (%s): %s", s->id, s->user, gw_end_reason_name(kind),
		 reason);
	if (kind == GW_END_WORKER_CRASH) {
		gw->metrics.worker_crashes++;
		session_audit(s, "worker_crash", NULL);
	}
	proc_stop(s, kind, reason);
	session_set_state(s, s->reaped ? GW_SESSION_DEAD : GW_SESSION_ENDING);
	session_tell_viewer(s, started, code, reason);
}

/* The kill deadline passed: the start timeout, or a worker slow to go. */
static void session_kill_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_session *s = lws_container_of(sul, struct gw_session, kill_sul);
	if (session_live(s) && s->ctrl_eof) {
		log_error("session %s of %s: the worker closed its control socket but was not "
			  "reaped within %d ms",
			  s->id, s->user, GW_SESSION_EXIT_WAIT_MS);
		session_end(s, GW_END_WORKER_CRASH, 0, "the session process exited unexpectedly");
		return;
	}
	if (s->state == GW_SESSION_STARTING) {
		char reason[96];
		snprintf(reason, sizeof reason, "the browser did not start within %d s",
			 gw->cfg.session_start_timeout_s);
		log_error("session %s of %s: %s", s->id, s->user, reason);
		session_end(s, GW_END_START_FAILED, 0, reason); /* kills the cell */
		return;
	}
	log_warn("session %s of %s: killing its cell (worker %d)", s->id, s->user, (int)s->pid);
	priv_kill(s->id);
}

void session_protocol_violation(struct gw_session *s, const char *what)
{
	log_error("session %s of %s: the browser side broke the RFB allow-list: %s; ending the "
		  "session",
		  s->id, s->user, what);
	session_audit(s, "server_protocol_violation", json_pack("{s:s}", "what", what));
	/* killed at once, its directory kept for security staff (forensics_dir);
	   also when the worker had said it was ending (it may be tidying up) */
	if (s->state != GW_SESSION_DEAD && s->pid != 0)
		priv_keep(s->id, s->user, what);
	session_end(s, GW_END_PROTOCOL, GW_CLOSE_SERVER_VIOLATION,
		    "session ended for your safety: the browser side sent data the gateway "
		    "refuses");
}

/* ---- idle, max-time and grace --------------------------------------------- */

/* When the next idle / max-time check is due (ms, monotonic), or 0 for none. */
static int64_t session_limit_due(const struct gw_session *s)
{
	int64_t due = 0;
	int idle_s = policy_idle_timeout_s(s->policy);
	if (idle_s > 0)
		due = s->last_input_ms + (int64_t)idle_s * 1000;
	if (gw->limits.max_session_s > 0) {
		int64_t end = s->started_ms + (int64_t)gw->limits.max_session_s * 1000;
		if (due == 0 || end < due)
			due = end;
	}
	return due;
}

static void session_limit_cb(lws_sorted_usec_list_t *sul);

/* (Re-)arm s's idle / max-time check. */
static void session_limit_arm(struct gw_session *s)
{
	lws_sul_cancel(&s->limit_sul);
	if (!session_live(s) || s->pooled)
		return; /* a pre-started session's clock starts at its claim */
	int64_t due = session_limit_due(s);
	if (due == 0)
		return;
	int64_t wait_ms = due - gw_now_ms();
	if (wait_ms < 10)
		wait_ms = 10;
	lws_sul_schedule(gw->ctx, 0, &s->limit_sul, session_limit_cb,
			 (lws_usec_t)wait_ms * LWS_US_PER_MS);
}

static void session_limit_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_session *s = lws_container_of(sul, struct gw_session, limit_sul);
	int64_t now = gw_now_ms();
	char reason[120];
	if (gw->limits.max_session_s > 0 &&
	    now >= s->started_ms + (int64_t)gw->limits.max_session_s * 1000) {
		snprintf(reason, sizeof reason, "session ended: maximum session time %d s reached",
			 gw->limits.max_session_s);
		session_end(s, GW_END_MAX_TIME, GW_CLOSE_MAX_TIME, reason);
		return;
	}
	int idle_s = policy_idle_timeout_s(s->policy);
	if (idle_s > 0 && now >= s->last_input_ms + (int64_t)idle_s * 1000) {
		snprintf(reason, sizeof reason, "session ended: idle for %d s", idle_s);
		session_end(s, GW_END_IDLE, GW_CLOSE_IDLE, reason);
		return;
	}
	session_limit_arm(s); /* input arrived meanwhile: check again later */
}

void session_limits_changed(void)
{
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		session_limit_arm(s);
}

static void session_grace_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_session *s = lws_container_of(sul, struct gw_session, grace_sul);
	char reason[96];
	snprintf(reason, sizeof reason, "no viewer reconnected within %d s",
		 gw->limits.reconnect_grace_s);
	session_end(s, GW_END_GRACE, 0, reason);
}

/*
 * Ask for a cell: for user, with conn its viewer, or (conn NULL, user
 * GW_POOL_USER) a pre-started session nobody has yet. NULL on failure (logged).
 */
static struct gw_session *session_new(const char *user, int width, int height, int policy,
				      struct gw_conn *conn)
{
	struct gw_session *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->ctrl_fd = -1;
	uint8_t rnd[8];
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(s->user, sizeof s->user, "%s", user);
	s->pooled = conn == NULL;
	s->policy = policy;
	s->width = width;
	s->height = height;
	s->started_ms = gw_now_ms();
	s->last_input_ms = s->started_ms;
	snprintf(s->dir, sizeof s->dir, "%s/session-%s", gw->cfg.runtime_dir, s->id);
	if (proc_spawn(s) != 0) {
		free(s);
		return NULL;
	}
	if (conn != NULL) {
		snprintf(s->peer, sizeof s->peer, "%s", conn->peer);
		s->conn = conn;
		conn->session = s;
	}
	s->next = gw->sessions;
	gw->sessions = s;
	session_set_state(s, GW_SESSION_STARTING);
	return s;
}

/* ---- pre-started sessions ([session] prestart) ----------------------------
 * Up to prestart sessions are started ahead of logins on about:blank, in
 * cells like any other, with the screen size of the last login (at first
 * default_width x default_height). A login of that size claims one that is
 * READY: it becomes the user's (one-shot: it is never given back), the
 * worker opens the home page in a new tab and closes the blank one, and the
 * viewer is attached at once; the pool is filled again GW_POOL_REFILL_MS
 * later, so that the new session does not compete with the claimed one's
 * first page. Nothing of a user reaches a pre-started session before its
 * claim; it counts in no limit (max_sessions counts users' sessions, and the
 * pool fills only below it), has no idle, maximum-time or grace timer, and
 * is not audited until it is claimed (session_start's "prestarted": true). */

static lws_sorted_usec_list_t pool_sul;
static int pool_width, pool_height;

size_t pool_count(void)
{
	size_t n = 0;
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		n += session_live(s) && s->pooled;
	return n;
}

size_t pool_ready(void)
{
	size_t n = 0;
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		n += s->state == GW_SESSION_READY && s->pooled;
	return n;
}

static void pool_fill_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	pool_fill();
}

static void pool_schedule(int64_t ms)
{
	if (gw->cfg.prestart > 0 && gw->ctx != NULL)
		lws_sul_schedule(gw->ctx, 0, &pool_sul, pool_fill_cb,
				 (lws_usec_t)ms * LWS_US_PER_MS);
}

void pool_fill(void)
{
	if (gw->cfg.prestart <= 0 || gw->stopping || gw->draining)
		return;
	if (pool_width == 0) {
		pool_width = gw->cfg.default_width;
		pool_height = gw->cfg.default_height;
	}
	/* one of another size than the last login's is replaced */
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		if (session_live(s) && s->pooled && s->state == GW_SESSION_READY &&
		    (s->width != pool_width || s->height != pool_height)) {
			session_end(s, GW_END_ADMIN, 0, "pre-started for another screen size");
			break;
		}
	while (pool_count() < (size_t)gw->cfg.prestart) {
		if (gw->limits.max_sessions > 0 &&
		    session_count_live() + pool_count() >= (size_t)gw->limits.max_sessions)
			return;
		if (!session_uid_free())
			return;
		struct gw_session *s = session_new(GW_POOL_USER, pool_width, pool_height, 0, NULL);
		if (s == NULL) {
			pool_schedule(GW_POOL_RETRY_MS);
			return;
		}
		log_info("session %s: pre-started (%dx%d) for the next login", s->id, s->width,
			 s->height);
	}
}

void pool_empty(const char *why)
{
	for (struct gw_session *s = gw->sessions, *next; s != NULL; s = next) {
		next = s->next; /* as if session_end() could unlink s */
		if (session_live(s) && s->pooled)
			session_end(s, GW_END_ADMIN, 0, why);
	}
}

/* Make room for a user's session: end a pre-started one if they fill the node. */
static void pool_evict(void)
{
	bool full = (gw->limits.max_sessions > 0 &&
		     session_count_live() + pool_count() >= (size_t)gw->limits.max_sessions) ||
	    (priv_cells() && session_count() >= (size_t)gw->cfg.session_uid_count);
	for (struct gw_session *s = gw->sessions; full && s != NULL; s = s->next)
		if (session_live(s) && s->pooled) {
			session_end(s, GW_END_ADMIN, 0, "its place is needed for a login");
			return;
		}
}

/* A READY pre-started session of grant's size becomes grant's user's, conn its viewer. */
static struct gw_session *pool_claim(const struct ticket_grant *grant, struct gw_conn *conn)
{
	struct gw_session *s = gw->sessions;
	for (; s != NULL; s = s->next)
		if (session_live(s) && s->pooled && s->state == GW_SESSION_READY &&
		    s->width == grant->width && s->height == grant->height)
			break;
	if (s == NULL)
		return NULL;
	const char *home = policy_home_page(grant->policy);
	if (ipc_send(s->ctrl_fd, IPC_CLAIM, home, strlen(home), -1) != 0) {
		log_error("session %s (pre-started): cannot claim it: %s", s->id, strerror(errno));
		session_end(s, GW_END_START_FAILED, 0, "could not be claimed");
		return NULL;
	}
	s->pooled = false;
	s->policy = grant->policy;
	snprintf(s->user, sizeof s->user, "%s", grant->user);
	snprintf(s->peer, sizeof s->peer, "%s", conn->peer);
	s->conn = conn;
	conn->session = s;
	s->started_ms = s->last_input_ms = gw_now_ms();
	session_grace_follow(s);
	session_limit_arm(s);
	log_info("session %s of %s: a pre-started session, claimed", s->id, s->user);
	relay_hand_over(conn);
	return s;
}

/* Ask for a cell for grant's user, conn its viewer. NULL on failure (logged). */
static struct gw_session *session_start(const struct ticket_grant *grant, struct gw_conn *conn)
{
	return session_new(grant->user, grant->width, grant->height, grant->policy, conn);
}

int session_attach(struct gw_conn *conn, const struct ticket_grant *grant)
{
	if (gw->stopping) {
		relay_close(conn, GW_CLOSE_SHUTDOWN, "the gateway is shutting down");
		return -1;
	}
	struct gw_session *s = grant->new_session ? NULL : session_find_user(grant->user);
	if (s != NULL) {
		snprintf(s->peer, sizeof s->peer, "%s", conn->peer);
		if (s->conn != NULL) {
			struct gw_conn *old = s->conn;
			old->session = NULL;
			relay_close(old, GW_CLOSE_REPLACED,
				    "replaced by a newer connection of the same user");
		}
		s->conn = conn;
		conn->session = s;
		session_grace_follow(s);
		log_info("session %s of %s: viewer from %s attached", s->id, s->user, conn->peer);
		session_audit(s, "session_attach", NULL);
		if (s->state == GW_SESSION_READY)
			relay_hand_over(conn);
		return 0;
	}
	/* The login checked for room; check again, another login may have taken it. */
	static const char *const whys[] = {
		[GW_ADMIT_USER_LIMIT] =
		    "session failed to start: you already have the most sessions "
		    "allowed",
		[GW_ADMIT_DRAINING] = "session failed to start: the server is draining",
		[GW_ADMIT_NODE_FULL] = "session failed to start: no session free on this server",
		[GW_ADMIT_NO_UID] = "session failed to start: no session free on this server (all "
				    "session uids are in use)",
	};
	enum gw_admit admit = session_admit(grant->user, grant->new_session, grant->policy);
	if (admit != GW_ADMIT_OK) {
		enum gw_refusal refusal = gw_admit_refusal(admit);
		const char *why = whys[admit];
		gw->metrics.refusals[refusal]++;
		log_warn("viewer of %s from %s refused at connect (%s): %s", conn->user, conn->peer,
			 gw_refusal_name(refusal), why);
		relay_close(conn, GW_CLOSE_START_FAILED, why);
		return -1;
	}
	/* a pre-started browser has the node's URL lists: not for a group with its own */
	s = gw->cfg.prestart > 0 && policy_takes_pool(grant->policy) ? pool_claim(grant, conn)
								     : NULL;
	bool prestarted = s != NULL;
	if (s == NULL) {
		pool_evict();
		s = session_start(grant, conn);
	}
	if (s == NULL) {
		relay_close(conn, GW_CLOSE_START_FAILED,
			    "session failed to start: see the gateway log");
		return -1;
	}
	session_audit(s, "session_start",
		      json_pack("{s:i, s:i, s:b}", "width", s->width, "height", s->height,
				"prestarted", prestarted));
	if (gw->cfg.prestart > 0) {
		pool_width = grant->width; /* the pool follows the last login's screen */
		pool_height = grant->height;
		pool_schedule(GW_POOL_REFILL_MS);
	}
	return 0;
}

void session_detach(struct gw_conn *conn)
{
	struct gw_session *s = conn->session;
	conn->session = NULL;
	if (s == NULL || s->conn != conn)
		return;
	s->conn = NULL;
	if (s->state != GW_SESSION_STARTING && s->state != GW_SESSION_READY)
		return;
	if (gw->stopping) {
		session_end(s, GW_END_SHUTDOWN, 0, "the gateway is shutting down");
		return;
	}
	session_audit(s, "session_detach", NULL);
	log_info("session %s of %s: viewer left; session kept for %d s", s->id, s->user,
		 gw->limits.reconnect_grace_s);
	session_grace_follow(s);
}

/*
 * A browser event from the worker (JSON): navigate, new_tab, download_blocked,
 * file_dialog_blocked, shortcut_blocked, limit_exceeded; what is recorded of
 * it is browser_event_parse()'s.
 */
static void session_browser_event(struct gw_session *s, const char *payload)
{
	/* a worker sending events in a loop would fill the audit log: beyond
	   the window's count they are dropped, and one record says so */
	int64_t now = gw_now_ms();
	if (now - s->events_window_ms >= GW_EVENT_WINDOW_MS) {
		s->events_window_ms = now;
		s->events_in_window = 0;
	}
	if (++s->events_in_window > GW_EVENT_MAX_PER_WINDOW) {
		if (s->events_in_window == GW_EVENT_MAX_PER_WINDOW + 1) {
			log_warn("session %s of %s: more than %d browser events in %d s: the rest "
				 "of them dropped until the next %d s",
				 s->id, s->user, GW_EVENT_MAX_PER_WINDOW, GW_EVENT_WINDOW_MS / 1000,
				 GW_EVENT_WINDOW_MS / 1000);
			session_audit(s, "browser_events_dropped",
				      json_pack("{s:i, s:i}", "limit", GW_EVENT_MAX_PER_WINDOW,
						"window_s", GW_EVENT_WINDOW_MS / 1000));
		}
		return;
	}
	json_t *fields;
	const char *event = browser_event_parse(payload, &fields);
	if (event == NULL) {
		char text[256];
		utf8_clean(text, sizeof text, payload);
		log_warn("session %s of %s: unknown browser event ignored: %s", s->id, s->user,
			 text);
		return;
	}
	const char *url = json_string_value(json_object_get(fields, "url"));
	if (url != NULL)
		log_info("session %s of %s: %s %s", s->id, s->user, event, url);
	else
		log_info("session %s of %s: %s", s->id, s->user, event);
	/* over its memory or process limit: the cell is killed now, not after a
	   grace in which a fork bomb or a leak goes on (the worker is ending) */
	const char *detail = json_string_value(json_object_get(fields, "detail"));
	char shown[120] = "";
	if (strcmp(event, "limit_exceeded") == 0 && session_live(s))
		snprintf(shown, sizeof shown, "%s", end_text_for_viewer(detail, true));
	if (strcmp(event, "clipboard_refused") == 0) {
		/* the "clipboard" record of a refused copy (the gateway's own fields) */
		json_object_set_new(fields, "direction", json_string("to_terminal"));
		json_object_set_new(fields, "result", json_string("refused"));
		json_object_set_new(fields, "source", json_string("worker")); /* its word */
		event = "clipboard";
	}
	session_audit(s, event, fields);
	if (shown[0] != '\0') {
		bool started = s->state == GW_SESSION_READY;
		session_end(s, started ? GW_END_BROWSER : GW_END_START_FAILED, 0, shown);
		priv_kill(s->id);
	}
}

/* One message from a worker. -1: the worker broke the protocol. */
static int session_ctl_message(struct gw_session *s, const struct ipc_header *hdr,
			       const char *payload)
{
	switch (hdr->type) {
	case IPC_READY:
		if (s->state != GW_SESSION_STARTING)
			return 0;
		session_set_state(s, GW_SESSION_READY);
		log_info("session %s of %s: ready after %lld ms", s->id, s->user,
			 (long long)(gw_now_ms() - s->started_ms));
		if (s->conn != NULL)
			relay_hand_over(s->conn);
		return 0;
	case IPC_ENDED: {
		bool started = s->state == GW_SESSION_READY;
		char reason[sizeof s->end_reason];
		utf8_clean(reason, sizeof reason, payload);
		log_info("session %s of %s: worker says it ended: %s", s->id, s->user, reason);
		if (!session_live(s))
			return 0; /* it was ending already, or reaped */
		/* the viewer gets a fixed text, never the worker's (or the
		   browser's) words: those go to the log and session_end */
		s->worker_ended = true;
		snprintf(s->worker_said, sizeof s->worker_said, "%s", reason);
		session_end(s, started ? GW_END_BROWSER : GW_END_START_FAILED, 0,
			    end_text_for_viewer(reason, started));
		return 0;
	}
	case IPC_EVENT:
		session_browser_event(s, payload);
		return 0;
	default:
		log_error("session %s of %s: unexpected %s message from the worker", s->id, s->user,
			  ipc_type_name(hdr->type));
		return -1;
	}
}

/*
 * The control socket is gone: the worker exited or broke the protocol. An
 * exit is ended by the parent's report (session_exited), which says why: the
 * kernel's OOM killer at the memory group's limit reads differently from a
 * crash; a worker that closed the socket but lives on is killed after
 * GW_SESSION_EXIT_WAIT_MS.
 */
static void session_ctl_closed(struct gw_session *s)
{
	s->ctrl = NULL;
	s->ctrl_fd = -1;
	if (session_live(s) && s->ctrl_eof) {
		log_info("session %s of %s: the worker closed its control socket; ending when "
			 "its exit is reported",
			 s->id, s->user);
		session_kill_after(s, GW_SESSION_EXIT_WAIT_MS);
	} else if (session_live(s)) {
		log_error("session %s of %s: the session process exited unexpectedly", s->id,
			  s->user);
		/* kills the cell: the worker closes its control socket only on the way out */
		session_end(s, GW_END_WORKER_CRASH, 0, "the session process exited unexpectedly");
	} else if (s->state == GW_SESSION_ENDING) {
		priv_kill(s->id);
	} else {
		session_free(s);
	}
}

int session_ctl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	struct gw_session *s = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE: {
		if (s == NULL)
			return -1;
		for (int i = 0; i < 64; i++) {
			struct pollfd pfd = { .fd = s->ctrl_fd, .events = POLLIN };
			if (poll(&pfd, 1, 0) <= 0)
				return 0;
			struct ipc_header hdr;
			static char payload[IPC_PAYLOAD_MAX + 1];
			char err[128];
			int fd = -1;
			int r = ipc_recv(s->ctrl_fd, &hdr, payload, &fd, err, sizeof err);
			if (fd >= 0) {
				close(fd);
				log_error("session %s: the worker sent a descriptor: refused",
					  s->id);
				return -1;
			}
			if (r == 0) {
				s->ctrl_eof = true;
				return -1; /* EOF */
			}
			if (r < 0) {
				log_error("session %s of %s: control socket: %s", s->id, s->user,
					  err);
				return -1;
			}
			if (session_ctl_message(s, &hdr, payload) != 0)
				return -1;
		}
		return 0;
	}
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (s != NULL) {
			lws_set_opaque_user_data(wsi, NULL);
			session_ctl_closed(s);
		}
		return 0;
	default:
		return 0;
	}
}

void session_stop_all(const char *reason)
{
	lws_sul_cancel(&pool_sul);
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		session_end(s, GW_END_SHUTDOWN, GW_CLOSE_SHUTDOWN, reason);
}
