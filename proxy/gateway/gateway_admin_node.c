/*
 * gateway_admin_node.c: the admin API's endpoints about the node as a whole:
 * GET /healthz, GET /metrics, GET and PATCH /api/v1/limits, POST
 * /api/v1/drain and /api/v1/undrain (the glue: gateway_admin.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway_admin.h"
#include "log.h"

#define ADMIN_LIMITS_CHANGES_MAX 1024 /* bytes of the "name old->new, ..." text */

_Static_assert(GW_REFUSE_COUNT <= ADMIN_LABELS_MAX, "refusal reasons fit the metrics table");
_Static_assert(GW_END_COUNT <= ADMIN_LABELS_MAX, "end reasons fit the metrics table");

/*
 * 200 {"status":"ok"} while the node takes logins; 503 while it refuses them
 * all ("audit_unavailable": the audit log cannot be written; "stopping"), so
 * a balancer's health check stops sending logins here.
 */
void admin_healthz(struct admin_pss *pss)
{
	const char *status = "ok", *message = "serving";
	if (gw->stopping) {
		status = "stopping";
		message = "the gateway is shutting down";
	} else if (!gw_logins_possible()) {
		status = "audit_unavailable";
		message = "logins are refused: the audit log cannot be written";
	}
	admin_reply_json(pss, strcmp(status, "ok") == 0 ? 200 : 503,
			 json_pack("{s:s, s:s, s:b, s:b, s:I, s:I}", "status", status, "message",
				   message, "audit_available", audit_writable(), "draining",
				   gw->draining, "sessions", (json_int_t)session_count_live(),
				   "prestarted", (json_int_t)pool_ready()));
}

int admin_metrics_token_load(const char *path, unsigned char sha[32], bool *set, char *err,
			     size_t errlen)
{
	*set = false;
	if (path[0] == '\0')
		return 0;
	char e[256];
	char text[ADMIN_TOKEN_MAX + 8], token[ADMIN_TOKEN_MAX + 1];
	/* Opened first, then its descriptor checked: nothing swapped in between (a FIFO
	   would block the loop, a link would be followed). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "metrics_token_file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "metrics_token_file %s: must be a regular file that only its owner may read "
			 "(chmod 600)",
			 path);
		close(fd);
		return -1;
	}
	ssize_t n = read(fd, text, sizeof text);
	if (n < 0) {
		snprintf(err, errlen, "metrics_token_file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	int rc = admin_token_parse(text, (size_t)n, token, sizeof token, e, sizeof e);
	if (rc != 0)
		snprintf(err, errlen, "metrics_token_file %s: %s", path, e);
	else
		SHA256((const unsigned char *)token, strlen(token), sha);
	OPENSSL_cleanse(text, sizeof text);
	OPENSSL_cleanse(token, sizeof token);
	*set = rc == 0;
	return rc;
}

void admin_metrics(struct admin_pss *pss)
{
	struct admin_metrics m = { 0 };
	size_t live = session_count_live(), detached = session_count_detached();
	m.sessions_active = live > detached ? live - detached : 0;
	m.sessions_detached = detached;
	m.sessions_max = gw->limits.max_sessions;
	m.draining = gw->draining;
	m.logins_ok = gw->metrics.logins_ok;
	m.logins_failed = gw->metrics.logins_failed;
	for (int i = 0; i < GW_REFUSE_COUNT; i++)
		m.refusals[i] = (struct admin_counter){ gw_refusal_name((enum gw_refusal)i),
							gw->metrics.refusals[i] };
	m.n_refusals = GW_REFUSE_COUNT;
	m.bytes_out = gw->metrics.bytes_out;
	m.bytes_in = gw->metrics.bytes_in;
	m.worker_crashes = gw->metrics.worker_crashes;
	for (int i = 0; i < GW_END_COUNT; i++)
		m.ended[i] = (struct admin_counter){ gw_end_reason_name((enum gw_end_reason)i),
						     gw->metrics.sessions_ended[i] };
	m.n_ended = GW_END_COUNT;
	m.audit_available = audit_writable();
	m.input_throttled[0] = (struct admin_counter){ "keys_delayed",
						       gw->metrics.input.keys_delayed };
	m.input_throttled[1] = (struct admin_counter){ "pointer_coalesced",
						       gw->metrics.input.pointer_coalesced };
	m.input_throttled[2] = (struct admin_counter){ "fbur_demoted",
						       gw->metrics.input.fbur_demoted };
	m.n_input_throttled = 3;
	m.input_floods = gw->metrics.input_floods;
	m.reloads_ok = gw->metrics.reloads_ok;
	m.reloads_refused = gw->metrics.reloads_refused;
	m.cert_not_after = gw->cert_not_after;
	m.audit_records = gw->metrics.audit_records;
	m.audit_lost = gw->metrics.audit_lost;
	admin_reply_text(pss, 200, "text/plain; version=0.0.4; charset=utf-8",
			 admin_metrics_text(&m));
}

/* GET /api/v1/limits, and the reply of a PATCH. */
void admin_limits_reply(struct admin_pss *pss)
{
	admin_reply_text(pss, 200, "application/json", limits_to_json(&gw->limits));
}

void admin_limits_patch(struct admin_pss *pss)
{
	struct limits next = gw->limits;
	char field[64] = "", err[512] = "", changes[ADMIN_LIMITS_CHANGES_MAX] = "";
	if (pss->len == 0) {
		admin_error(pss, 400, "bad_request",
			    "a JSON object of limits is required as the request body");
		return;
	}
	if (limits_patch_json(&next, pss->body, pss->len, field, sizeof field, err, sizeof err,
			      changes, sizeof changes) != 0) {
		log_warn("admin %s: limits not changed: %s", pss->admin, err);
		if (field[0] != '\0')
			admin_reply_json(pss, 400,
					 json_pack("{s:s, s:s, s:s}", "error", "invalid_limit",
						   "field", field, "message", err));
		else
			admin_error(pss, 400, "bad_request", err);
		return;
	}
	if (changes[0] != '\0') {
		/* Persist first: a change that would not survive a restart is not made. */
		if (limits_save_overrides(&gw->limits_base, &next, gw->limits_path, err,
					  sizeof err) != 0) {
			log_error("admin %s: limits not changed: %s", pss->admin, err);
			admin_errorf(pss, 500, "internal_error",
				     "the limits could not be saved (%s); nothing was changed",
				     err);
			return;
		}
		gw->limits = next;
		session_limits_changed();
		log_info("admin %s changed limits: %s", pss->admin, changes);
		/* changes reads "name old->new, ...": both values are in it */
		admin_audit(pss->admin, pss->peer, "set_limits", "limits", "", changes);
	}
	admin_limits_reply(pss);
}

void admin_drain(struct admin_pss *pss, bool drain)
{
	if (gw->draining != drain)
		log_info("admin %s %s: %s", pss->admin,
			 drain ? "drains the node" : "undrains the node",
			 drain ? "no new sessions, existing ones go on"
			       : "new sessions are accepted");
	if (gw->draining != drain)
		admin_audit(pss->admin, pss->peer, drain ? "drain" : "undrain", "node",
			    gw->draining ? "draining" : "serving", drain ? "draining" : "serving");
	gw->draining = drain;
	if (drain)
		pool_empty("the node is draining");
	else
		pool_fill();
	admin_reply_json(pss, 200, json_pack("{s:b}", "draining", drain));
}
