/*
 * gateway_proc.c: the life of a session's worker process, as the network
 * process sees it (guacd's proc.c): asking the privileged parent for a cell
 * (gateway_priv.c makes it: a uid, namespaces, a private tmpfs, egress only
 * through upstream_proxy), the answer (session_spawned: the worker's control
 * socket, its settings, the socket adopted into the lws loop as "pg-ctl"),
 * making it go when its session ends (proc_stop: STOP, or SIGKILL of the
 * cell), its reaping (session_exited, with the result of a forensics copy)
 * and, at exit, killing what is left. The session's state and timers are
 * gateway_session.c's; this file moves it only through session_set_state()
 * and session_end().
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "end_text.h"
#include "gateway.h"
#include "ipc.h"
#include "log.h"
#include "utf8.h"

static int proc_rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	int rc = type == FTW_DP ? rmdir(path) : unlink(path);
	if (rc != 0 && errno != ENOENT)
		log_warn("removing %s: %s", path, strerror(errno));
	return 0;
}

/* rm -rf dir (never following symlinks or crossing mounts). */
void session_remove_dir(const char *dir)
{
	if (dir[0] == '\0')
		return;
	if (nftw(dir, proc_rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0 && errno != ENOENT)
		log_warn("removing %s: %s", dir, strerror(errno));
}

/* Settings for the worker, as JSON (IPC_SETTINGS). */
static char *proc_settings_json(const struct gw_session *s)
{
	/* In a cell the browser's only way out is the egress port in its own
	   network namespace; without one (development) it is upstream_proxy. */
	char proxy[CONFIG_URL_MAX];
	if (priv_cells() && gw->cfg.upstream_proxy[0] != '\0')
		snprintf(proxy, sizeof proxy, "127.0.0.1:%d", PRIV_EGRESS_PORT);
	else
		snprintf(proxy, sizeof proxy, "%s", gw->cfg.upstream_proxy);
	json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:b, s:i, s:i}", "dir", s->dir,
			      "width", s->width, "height", s->height, "home_page",
			      /* nothing of a user before the claim (IPC_CLAIM has the page) */
			      s->pooled ? "about:blank" : policy_home_page(s->policy),
			      "upstream_proxy", proxy, "chromium_path", gw->cfg.chromium_path,
			      "xvfb_path", gw->cfg.xvfb_path, "allow_cut_text",
			      policy_clipboard_to_browser(s->policy), "memory_mib",
			      /* the watchdog counts its /proc: only a cell's is the session's */
			      priv_cells() ? gw->cfg.session_memory_mib : 0, "max_procs",
			      priv_cells() ? gw->cfg.session_max_procs : 0);
	if (o != NULL) {
		json_object_set_new(o, "clipboard_to_terminal",
				    json_boolean(policy_clipboard_to_terminal(s->policy)));
		json_object_set_new(o, "clipboard_max_bytes",
				    json_integer(gw->cfg.clipboard_max_bytes));
	}
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

int proc_spawn(const struct gw_session *s)
{
	if (priv_spawn(s->id, s->policy) != 0) {
		log_error("session for %s: cannot ask for a cell: %s", s->user, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Give the worker on ctrl_fd its settings and adopt the socket into the lws
 * loop as "pg-ctl". NULL, or (the socket closed) what went wrong for the viewer.
 */
static const char *proc_open_ctrl(struct gw_session *s, int ctrl_fd)
{
	s->ctrl_fd = ctrl_fd;
	char *settings = proc_settings_json(s);
	if (settings == NULL || strlen(settings) > IPC_PAYLOAD_MAX ||
	    ipc_send(s->ctrl_fd, IPC_SETTINGS, settings, strlen(settings), -1) != 0) {
		log_error("session %s of %s: could not send settings", s->id, s->user);
		free(settings);
		close(s->ctrl_fd);
		s->ctrl_fd = -1;
		return "could not configure the session";
	}
	free(settings);
	fcntl(s->ctrl_fd, F_SETFL, fcntl(s->ctrl_fd, F_GETFL) | O_NONBLOCK);
	lws_adopt_desc_t ad = { 0 };
	ad.vh = gw->vhost;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = s->ctrl_fd;
	ad.vh_prot_name = "pg-ctl";
	ad.opaque = s;
	s->ctrl = lws_adopt_descriptor_vhost_via_info(&ad);
	if (s->ctrl == NULL) {
		log_error("session %s of %s: could not adopt the control socket", s->id, s->user);
		close(s->ctrl_fd);
		s->ctrl_fd = -1;
		return "internal error";
	}
	return NULL;
}

void session_spawned(const char *id, pid_t pid, uid_t uid, int ctrl_fd, const char *error)
{
	struct gw_session *s = session_find_id(id);
	if (s == NULL || s->pid != 0 || s->ctrl != NULL) {
		if (ctrl_fd >= 0)
			close(ctrl_fd);
		if (error == NULL)
			priv_kill(id); /* nobody wants this cell any more */
		return;
	}
	if (error != NULL) {
		log_error("session %s of %s: %s", s->id, s->user, error);
		s->reaped = true; /* no cell: nothing to stop or reap */
		if (session_live(s))
			session_end(s, GW_END_START_FAILED, 0, error);
		else
			session_set_state(s, GW_SESSION_DEAD);
		session_free(s);
		return;
	}
	s->pid = pid;
	s->uid = uid;
	if (s->state != GW_SESSION_STARTING) {
		close(ctrl_fd); /* stopped while its cell was being made */
		priv_kill(s->id);
		return;
	}
	const char *failed = proc_open_ctrl(s, ctrl_fd);
	if (failed != NULL) {
		session_end(s, GW_END_START_FAILED, 0, failed); /* kills the cell */
		return;
	}
	log_info("session %s of %s: worker %d started as uid %u in %s (%dx%d)", s->id, s->user,
		 (int)pid, (unsigned)uid, s->dir, s->width, s->height);
}

/*
 * Make the worker go, from what is known of it: nothing if it was reaped (or
 * its cell never made) or it is ending by itself (IPC_ENDED); its cell
 * killed at once if it failed to start, crashed or its control socket is
 * closed; else asked with IPC_STOP. ENDING's deadline kills it if it lingers.
 */
void proc_stop(struct gw_session *s, enum gw_end_reason kind, const char *reason)
{
	if (s->reaped || s->worker_ended)
		return;
	if (kind == GW_END_START_FAILED || kind == GW_END_WORKER_CRASH ||
	    (s->pid != 0 && s->ctrl_fd < 0)) {
		priv_kill(s->id);
		return;
	}
	if (s->ctrl_fd >= 0 && ipc_send(s->ctrl_fd, IPC_STOP, reason, strlen(reason), -1) != 0)
		log_warn("session %s: could not send STOP: %s", s->id, strerror(errno));
}

/* The privileged parent's result of a forensics copy, audited. */
static void proc_kept(struct gw_session *s, const char *kept)
{
	json_error_t e;
	json_t *r = json_loads(kept, 0, &e);
	const char *err = json_string_value(json_object_get(r, "error"));
	if (r != NULL && json_is_object(r) && err == NULL) {
		char dir[CONFIG_PATH_MAX + 32];
		snprintf(dir, sizeof dir, "%s/session-%s", gw->cfg.forensics_dir, s->id);
		json_object_set_new(r, "dir", json_string(dir));
		log_warn("session %s of %s: its directory is kept for forensics in %s", s->id,
			 s->user, dir);
		snprintf(s->kept_dir, sizeof s->kept_dir, "session-%s", s->id);
		session_audit(s, "forensics_kept", r);
		return;
	}
	char why[200];
	utf8_clean(why, sizeof why, err != NULL ? err : kept);
	json_decref(r);
	log_error("session %s of %s: its directory could not be kept: %s", s->id, s->user, why);
	session_audit(s, "forensics_failed", json_pack("{s:s}", "error", why));
}

void session_exited(const char *id, int status, unsigned flags, const char *kept)
{
	struct gw_session *s = session_find_id(id);
	if (s == NULL || s->state == GW_SESSION_DEAD)
		return;
	if (kept[0] != '\0')
		proc_kept(s, kept);
	if ((flags & PRIV_EXIT_OOM) && session_live(s)) {
		/* the cgroup's backstop was reached before the watchdog saw the
		   session over session_memory_mib (it grew faster than a tick) */
		char detail[200];
		snprintf(detail, sizeof detail,
			 "the session used more than its memory group allows (%d MiB, "
			 "session_memory_mib and a quarter): the kernel's OOM killer acted",
			 gw->cfg.session_memory_mib * 5 / 4);
		log_warn("session %s of %s: limit_exceeded: %s; its cell was killed", s->id,
			 s->user, detail);
		json_t *fields = json_pack("{s:s, s:s}", "limit", "memory", "detail", detail);
		session_audit(s, "limit_exceeded", fields); /* takes fields */
		bool started = s->state == GW_SESSION_READY;
		session_end(s, started ? GW_END_BROWSER : GW_END_START_FAILED, 0,
			    end_text_for_viewer(detail, started));
	}
	if (WIFEXITED(status))
		log_info("session %s of %s: worker %d exited with status %d", s->id, s->user,
			 (int)s->pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("session %s of %s: worker %d killed by signal %d", s->id, s->user,
			 (int)s->pid, WTERMSIG(status));
	s->pid = 0;
	s->reaped = true;
	if (session_live(s))
		session_end(s, GW_END_WORKER_CRASH, 0, "the session process exited unexpectedly");
	else
		session_set_state(s, GW_SESSION_DEAD);
	if (s->ctrl == NULL)
		session_free(s);
	else
		lws_set_timeout(s->ctrl, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

void session_kill_all(void)
{
	/* the privileged parent kills whatever is left once we are gone, too */
	for (struct gw_session *s = gw->sessions; s != NULL; s = s->next)
		if (s->state != GW_SESSION_DEAD)
			priv_kill(s->id);
}
