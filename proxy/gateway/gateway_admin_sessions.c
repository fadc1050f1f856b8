/*
 * gateway_admin_sessions.c: the admin API's endpoints about sessions: GET
 * /api/v1/sessions, DELETE /api/v1/sessions/{id}, and the directories of
 * ended sessions kept for security staff (gateway_forensics.c): GET
 * /api/v1/forensics, DELETE /api/v1/forensics/{id} (the glue:
 * gateway_admin.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "forensics.h"
#include "gateway_admin.h"
#include "log.h"

/* A session's state as the API names it; NULL for one already reaped. */
static const char *admin_session_state(const struct gw_session *s)
{
	switch (s->state) {
	case GW_SESSION_STARTING:
		return "starting";
	case GW_SESSION_READY:
		return s->conn != NULL ? "active" : "detached";
	case GW_SESSION_ENDING:
		return "ending";
	case GW_SESSION_DEAD:
		break;
	}
	return NULL;
}

/* One session for GET /api/v1/sessions; NULL when out of memory. */
static json_t *admin_session_json(const struct gw_session *s, const char *state, int64_t mono_now,
				  int64_t unix_now)
{
	char started[32] = "", last[32] = "";
	if (admin_rfc3339(admin_wall_ms(s->started_ms, mono_now, unix_now), started,
			  sizeof started) != 0)
		snprintf(started, sizeof started, "1970-01-01T00:00:00Z");
	/* last_input_ms starts at started_ms: no input yet is null. */
	bool have_input = s->last_input_ms > s->started_ms &&
	    admin_rfc3339(admin_wall_ms(s->last_input_ms, mono_now, unix_now), last, sizeof last) ==
		0;
	double fps = (double)(long long)(s->fps * 10.0 + 0.5) / 10.0;
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:f, s:s, s:s}", "id", s->id, "user",
			 s->user, "client", s->peer, "started", started, "last_input",
			 have_input ? json_string(last) : json_null(), "bytes_in",
			 (json_int_t)s->bytes_in, "bytes_out", (json_int_t)s->bytes_out, "fps", fps,
			 "state", state, "policy", policy_name(s->policy));
}

void admin_policies_list(struct admin_pss *pss)
{
	json_t *list = json_array();
	for (int p = 0; p <= gw->cfg.n_groups && list != NULL; p++) {
		if (json_array_append_new(list, policy_json(p)) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	admin_reply_json(pss, 200, list != NULL ? json_pack("{s:o}", "policies", list) : NULL);
}

void admin_sessions_list(struct admin_pss *pss)
{
	json_t *list = json_array();
	int64_t mono_now = gw_now_ms(), unix_now = gw_wall_ms();
	for (const struct gw_session *s = gw->sessions; s != NULL && list != NULL; s = s->next) {
		const char *state = admin_session_state(s);
		if (state == NULL || s->pooled)
			continue; /* pre-started ones are nobody's yet */
		if (json_array_append_new(list, admin_session_json(s, state, mono_now, unix_now)) !=
		    0) {
			json_decref(list);
			list = NULL;
		}
	}
	admin_reply_json(pss, 200, list != NULL ? json_pack("{s:o}", "sessions", list) : NULL);
}

void admin_session_delete(struct admin_pss *pss)
{
	const char *id = pss->target.arg;
	struct gw_session *s = session_find_id(id);
	if (s == NULL || s->state == GW_SESSION_DEAD) {
		admin_errorf(pss, 404, "not_found", "no session %s", id);
		return;
	}
	if (s->state != GW_SESSION_ENDING) {
		log_info("admin %s ended session %s of %s", pss->admin, s->id, s->user);
		admin_audit(pss->admin, pss->peer, "end_session", s->id, "active", "ended");
		session_end(s, GW_END_ADMIN, GW_CLOSE_ADMIN, "ended by administrator");
	}
	admin_reply_json(pss, 200, json_pack("{s:s}", "ended", id));
}

#define ADMIN_FORENSICS_LIST_MAX 1000 /* kept directories listed, at most */
#define ADMIN_SUMMARY_MAX 65536       /* bytes of a summary.json read */

static int admin_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* forensics_dir/NAME/summary.json, or NULL (a copy not finished, or unreadable). */
static json_t *admin_forensic_summary(int dirfd, const char *name)
{
	char rel[CONFIG_PATH_MAX + 64], buf[ADMIN_SUMMARY_MAX];
	snprintf(rel, sizeof rel, "%s/summary.json", name);
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct stat st;
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (off_t)sizeof buf)
		n = read(fd, buf, sizeof buf);
	close(fd);
	if (n <= 0)
		return NULL;
	json_t *v = json_loadb(buf, (size_t)n, 0, NULL);
	if (!json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* One kept directory for GET /api/v1/forensics. */
static json_t *admin_forensic_json(int dirfd, const char *name)
{
	const char *id = name + 8; /* after "session-" */
	json_t *sum = admin_forensic_summary(dirfd, name);
	const struct gw_session *s = session_find_id(id);
	bool copying = sum == NULL && s != NULL && s->state != GW_SESSION_DEAD;
	json_t *o = json_pack("{s:s, s:s}", "id", id, "state",
			      sum != NULL   ? "complete"
				  : copying ? "copying"
					    : "incomplete");
	if (o == NULL || sum == NULL) {
		json_decref(sum);
		return o;
	}
	static const char *const keys[] = { "user",  "what",  "kept",      "entries",
					    "files", "bytes", "truncated", "manifest_sha256" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(sum, keys[i]);
		if (v != NULL && (json_is_string(v) || json_is_integer(v) || json_is_boolean(v)))
			json_object_set(o, keys[i], v);
	}
	json_decref(sum);
	return o;
}

void admin_forensics_list(struct admin_pss *pss)
{
	DIR *d = opendir(gw->cfg.forensics_dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			admin_reply_json(pss, 200, json_pack("{s:[]}", "forensics"));
			return;
		}
		admin_errorf(pss, 500, "forensics_unreadable", "forensics_dir %s: %s",
			     gw->cfg.forensics_dir, strerror(errno));
		return;
	}
	char *names[ADMIN_FORENSICS_LIST_MAX];
	size_t n = 0;
	bool more = false;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!forensics_name_ok(e->d_name))
			continue;
		if (n == ADMIN_FORENSICS_LIST_MAX) {
			more = true;
			break;
		}
		if ((names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	qsort(names, n, sizeof names[0], admin_name_cmp);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		if (list != NULL &&
		    json_array_append_new(list, admin_forensic_json(dirfd(d), names[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
		free(names[i]);
	}
	closedir(d);
	admin_reply_json(pss, 200,
			 list != NULL ? json_pack("{s:o, s:b}", "forensics", list, "more", more)
				      : NULL);
}

void admin_forensic_delete(struct admin_pss *pss)
{
	const char *id = pss->target.arg;
	char dir[CONFIG_PATH_MAX + 32];
	struct stat st;
	snprintf(dir, sizeof dir, "%s/session-%.16s", gw->cfg.forensics_dir, id);
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		admin_errorf(pss, 404, "not_found", "no kept directory of session %s", id);
		return;
	}
	const struct gw_session *s = session_find_id(id);
	if (s != NULL && s->state != GW_SESSION_DEAD) {
		admin_errorf(pss, 409, "copying",
			     "session %s is still ending: its directory is being copied", id);
		return;
	}
	json_t *sum = admin_forensic_summary(AT_FDCWD, dir);
	const char *sha = json_string_value(json_object_get(sum, "manifest_sha256"));
	char old[80];
	snprintf(old, sizeof old, "%s", sha != NULL ? sha : "incomplete");
	json_decref(sum);
	session_remove_dir(dir);
	if (lstat(dir, &st) == 0) {
		admin_errorf(pss, 500, "remove_failed",
			     "session-%s could not be removed entirely (the gateway's log says why)",
			     id);
		return;
	}
	log_info("admin %s removed the kept directory of session %s", pss->admin, id);
	admin_audit(pss->admin, pss->peer, "remove_forensics", id, old, "removed");
	admin_reply_json(pss, 200, json_pack("{s:s}", "removed", id));
}
