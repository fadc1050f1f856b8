/*
 * session_cdp.c: the Chrome DevTools Protocol over --remote-debugging-pipe.
 *
 * Messages are NUL-terminated JSON in both directions. At start the session
 * denies every download (Browser.setDownloadBehavior "deny" cancels at 0
 * bytes; the DownloadRestrictions policy alone still writes the file) and
 * asks for target events, which become download_blocked, new_tab and
 * navigate events for the gateway's log.
 *
 * Those opening commands are required: the session is READY only once
 * Chromium has answered both without an error, and ends when one is refused
 * or not answered within CDP_REQUIRED_WAIT_MS. The default download
 * behaviour does not reach other browser contexts (an incognito or guest
 * window, a context made over CDP; the policy forbids them, this is the
 * second line), so every browserContextId seen in a target event gets its
 * own "deny" once, required the same way. The default context is included:
 * a second deny there is harmless, and telling it apart would rely on
 * Target.getBrowserContexts' experimental defaultBrowserContextId.
 */
#include "session.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "utf8.h"

#define CDP_READ_CHUNK 65536
/* Longest string in an event for the gateway, bytes: what its audit keeps of one. */
#define CDP_EVENT_STRING_MAX 2047

int cdp_init(struct cdp *c, int wfd, int rfd, int ctrl_fd)
{
	memset(c, 0, sizeof *c);
	c->wfd = wfd;
	c->rfd = rfd;
	c->ctrl_fd = ctrl_fd;
	c->next_id = 1;
	return 0;
}

static int64_t cdp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The session must end for this reason (the first one is kept). It may
 * quote the browser: cleaned (utf8_clean) before it reaches the log.
 */
static void cdp_fail(struct cdp *c, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

static void cdp_fail(struct cdp *c, const char *fmt, ...)
{
	if (c->failure[0] != '\0')
		return;
	char raw[sizeof c->failure];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	utf8_clean(c->failure, sizeof c->failure, raw);
	log_error("%s", c->failure);
}

/* Send one command; params is stolen. Its id, or -1. */
static int cdp_send(struct cdp *c, const char *method, json_t *params)
{
	int id = c->next_id++;
	json_t *msg = json_pack("{s:i, s:s, s:o}", "id", id, "method", method, "params",
				params ? params : json_object());
	if (msg == NULL)
		return -1;
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text == NULL)
		return -1;
	size_t len = strlen(text) + 1; /* the NUL terminates the message */
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(c->wfd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("%s: %s: %s", __func__, method, strerror(errno));
			free(text);
			return -1;
		}
		off += (size_t)n;
	}
	free(text);
	return id;
}

/*
 * Send a command the session cannot do without (what names it in the
 * reason); its answer is awaited by cdp_answer(). 0, or -1 with the
 * failure set.
 */
static int cdp_send_required(struct cdp *c, const char *method, json_t *params, const char *what,
			     bool opening)
{
	if (c->nrequired >= CDP_REQUIRED_MAX) {
		json_decref(params);
		cdp_fail(c, "the browser left %d required commands unanswered", CDP_REQUIRED_MAX);
		return -1;
	}
	int id = cdp_send(c, method, params);
	if (id < 0) {
		cdp_fail(c, "cannot send %s to the browser", what);
		return -1;
	}
	struct cdp_required *r = &c->required[c->nrequired++];
	r->id = id;
	r->opening = opening;
	r->deadline_ms = cdp_now_ms() + CDP_REQUIRED_WAIT_MS;
	snprintf(r->what, sizeof r->what, "%s", what);
	if (opening)
		c->opening_left++;
	return 0;
}

int cdp_start(struct cdp *c)
{
	if (cdp_send_required(c, "Browser.setDownloadBehavior",
			      json_pack("{s:s, s:b}", "behavior", "deny", "eventsEnabled", 1),
			      "download denial", true) != 0 ||
	    cdp_send_required(c, "Target.setDiscoverTargets", json_pack("{s:b}", "discover", 1),
			      "target discovery", true) != 0)
		return -1;
	c->start_sent = true;
	return 0;
}

bool cdp_started(const struct cdp *c)
{
	return c->start_sent && c->opening_left == 0 && c->failure[0] == '\0';
}

const char *cdp_failure(const struct cdp *c)
{
	return c->failure[0] != '\0' ? c->failure : NULL;
}

/*
 * If root answers a required command, settle it: an error answer is the
 * session's failure. True if root was such an answer (nothing else to do).
 */
static bool cdp_answer(struct cdp *c, json_t *root)
{
	json_t *id = json_object_get(root, "id");
	if (!json_is_integer(id))
		return false;
	for (int i = 0; i < c->nrequired; i++) {
		struct cdp_required *r = &c->required[i];
		if (r->id != json_integer_value(id))
			continue;
		json_t *error = json_object_get(root, "error");
		if (error != NULL || !json_is_object(json_object_get(root, "result"))) {
			const char *m = json_string_value(json_object_get(error, "message"));
			cdp_fail(c, "the browser refused %s: %.120s", r->what,
				 m ? m : "an answer without a result");
		} else {
			log_info("the browser accepted %s", r->what);
		}
		if (r->opening)
			c->opening_left--;
		c->required[i] = c->required[--c->nrequired];
		return true;
	}
	return false;
}

/*
 * A target event (created, changed, attached) names its browser context:
 * the first time a context is seen, deny its downloads too.
 */
static void cdp_watch_context(struct cdp *c, json_t *root)
{
	const char *method = json_string_value(json_object_get(root, "method"));
	if (method == NULL ||
	    (strcmp(method, "Target.targetCreated") != 0 &&
	     strcmp(method, "Target.targetInfoChanged") != 0 &&
	     strcmp(method, "Target.attachedToTarget") != 0))
		return;
	json_t *info = json_object_get(json_object_get(root, "params"), "targetInfo");
	const char *type = json_string_value(json_object_get(info, "type"));
	const char *tid = json_string_value(json_object_get(info, "targetId"));
	if (!c->claimed && c->first_page[0] == '\0' &&
	    strcmp(method, "Target.targetCreated") == 0 && type != NULL &&
	    strcmp(type, "page") == 0 && tid != NULL && strlen(tid) <= CDP_CONTEXT_ID_MAX)
		snprintf(c->first_page, sizeof c->first_page, "%s", tid);
	const char *ctx = json_string_value(json_object_get(info, "browserContextId"));
	if (ctx == NULL || ctx[0] == '\0')
		return;
	size_t len = strlen(ctx);
	for (int i = 0; i < c->ncontexts; i++)
		if (strcmp(c->contexts[i], ctx) == 0)
			return;
	if (len > CDP_CONTEXT_ID_MAX) {
		cdp_fail(c, "the browser reported a browser context id of %zu bytes", len);
		return;
	}
	if (c->ncontexts >= CDP_CONTEXTS_MAX) {
		cdp_fail(c, "the browser opened more than %d browser contexts", CDP_CONTEXTS_MAX);
		return;
	}
	memcpy(c->contexts[c->ncontexts++], ctx, len + 1);
	char shown[CDP_CONTEXT_ID_MAX + 1];
	utf8_clean(shown, sizeof shown, ctx);
	log_info("browser context %s: denying its downloads", shown);
	cdp_send_required(c, "Browser.setDownloadBehavior",
			  json_pack("{s:s, s:s, s:b}", "behavior", "deny", "browserContextId", ctx,
				    "eventsEnabled", 1),
			  "download denial in a browser context", false);
}

/*
 * The compact JSON text of an event for the gateway (malloc'd), shorter
 * than outlen. A page chooses its URL and title: a string that makes the
 * event too long is cut at a UTF-8 character boundary (to what the
 * gateway's audit keeps, then shorter), so the event is reported with the
 * start of its text instead of being lost. NULL if it still does not fit
 * (only other values can be that big) or out of memory.
 */
static char *cdp_event_text(json_t *ev, size_t outlen)
{
	for (size_t cap = CDP_EVENT_STRING_MAX;; cap /= 2) {
		char *text = json_dumps(ev, JSON_COMPACT);
		if (text != NULL && strlen(text) < outlen)
			return text;
		free(text);
		if (text == NULL || cap == 0)
			return NULL;
		const char *key;
		json_t *v;
		json_object_foreach(ev, key, v) {
			const char *str = json_string_value(v);
			size_t n = json_string_length(v);
			if (str == NULL || n <= cap)
				continue;
			n = cap;
			while (n > 0 && ((unsigned char)str[n] & 0xc0) == 0x80)
				n--;
			if (json_object_set_new(ev, key, json_stringn(str, n)) != 0)
				return NULL;
		}
	}
}

int cdp_translate(const char *msg, char *out, size_t outlen)
{
	json_error_t jerr;
	json_t *root = json_loads(msg, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	int rc = 0;
	json_t *ev = NULL;
	const char *method = json_string_value(json_object_get(root, "method"));
	json_t *params = json_object_get(root, "params");
	json_t *error = json_object_get(root, "error");
	if (error != NULL) {
		const char *m = json_string_value(json_object_get(error, "message"));
		char shown[256];
		utf8_clean(shown, sizeof shown, m ? m : "?");
		log_warn("CDP command %lld failed: %s",
			 (long long)json_integer_value(json_object_get(root, "id")), shown);
	} else if (method != NULL && strcmp(method, "Browser.downloadWillBegin") == 0) {
		ev = json_pack("{s:s, s:O?, s:O?}", "event", "download_blocked", "url",
			       json_object_get(params, "url"), "filename",
			       json_object_get(params, "suggestedFilename"));
	} else if (method != NULL &&
		   (strcmp(method, "Target.targetCreated") == 0 ||
		    strcmp(method, "Target.targetInfoChanged") == 0)) {
		json_t *info = json_object_get(params, "targetInfo");
		const char *type = json_string_value(json_object_get(info, "type"));
		if (type != NULL && strcmp(type, "page") == 0)
			ev = json_pack("{s:s, s:O?, s:O?, s:O?}", "event",
				       strcmp(method, "Target.targetCreated") == 0 ? "new_tab"
										   : "navigate",
				       "url", json_object_get(info, "url"), "title",
				       json_object_get(info, "title"), "target",
				       json_object_get(info, "targetId"));
	}
	if (ev != NULL) {
		char *text = cdp_event_text(ev, outlen);
		if (text != NULL) {
			memcpy(out, text, strlen(text) + 1);
			rc = 1;
		}
		free(text);
		json_decref(ev);
	}
	json_decref(root);
	return rc;
}

static uint64_t cdp_hash(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

/*
 * True if event (translated JSON) repeats what was already reported: a
 * "navigate" whose tab is still at the URL a navigate last reported for it
 * (a new tab's own URL does not count, so its first page load is reported).
 */
static bool cdp_is_repeat(struct cdp *c, const char *event)
{
	json_t *o = json_loads(event, 0, NULL);
	const char *kind = json_string_value(json_object_get(o, "event"));
	const char *target = json_string_value(json_object_get(o, "target"));
	const char *url = json_string_value(json_object_get(o, "url"));
	bool repeat = false;
	if (kind != NULL && target != NULL &&
	    (strcmp(kind, "navigate") == 0 || strcmp(kind, "new_tab") == 0)) {
		uint64_t th = cdp_hash(target), uh = cdp_hash(url ? url : "");
		size_t slot = CDP_SEEN_TABS;
		for (size_t i = 0; i < CDP_SEEN_TABS; i++)
			if (c->seen[i].target_hash == th)
				slot = i;
		if (slot < CDP_SEEN_TABS) {
			repeat = strcmp(kind, "navigate") == 0 && c->seen[slot].url_hash == uh;
		} else {
			slot = c->next_seen;
			c->next_seen = (c->next_seen + 1) % CDP_SEEN_TABS;
			c->seen[slot].target_hash = th;
		}
		/*
		 * Only a reported navigation counts as "already seen": a tab opened
		 * at URL X still gets its navigate X (the page load itself).
		 */
		c->seen[slot].url_hash = strcmp(kind, "navigate") == 0 ? uh : 0;
	}
	json_decref(o);
	return repeat;
}

void session_send_event(int ctrl_fd, const char *ev)
{
	log_info("browser event: %s", ev);
	if (ipc_send(ctrl_fd, IPC_EVENT, ev, strlen(ev), -1) != 0)
		log_warn("cannot send the gateway a browser event: %s", strerror(errno));
}

static void cdp_forward(struct cdp *c, const char *ev)
{
	session_send_event(c->ctrl_fd, ev);
}

static bool cdp_title_is_placeholder(json_t *ev);

int cdp_timeout_ms(const struct cdp *c)
{
	int64_t next = -1;
	if (c->pending != NULL)
		next = c->pending_deadline_ms;
	if (c->failure[0] == '\0')
		for (int i = 0; i < c->nrequired; i++)
			if (next < 0 || c->required[i].deadline_ms < next)
				next = c->required[i].deadline_ms;
	if (next < 0)
		return -1;
	int64_t left = next - cdp_now_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

void cdp_tick(struct cdp *c, bool flush)
{
	int64_t now = cdp_now_ms();
	for (int i = 0; !flush && i < c->nrequired; i++)
		if (now >= c->required[i].deadline_ms)
			cdp_fail(c, "the browser did not answer %s within %d s",
				 c->required[i].what, CDP_REQUIRED_WAIT_MS / 1000);
	if (c->pending == NULL || (!flush && now < c->pending_deadline_ms))
		return;
	if (!flush && c->pending_queries < CDP_TITLE_QUERIES) {
		/* Chromium does not always report the <title> by itself: ask. */
		json_t *held = json_loads(c->pending, 0, NULL);
		const char *target = json_string_value(json_object_get(held, "target"));
		c->pending_query_id = c->next_id;
		c->pending_queries++;
		c->pending_deadline_ms = cdp_now_ms() + CDP_TITLE_WAIT_MS;
		if (target == NULL ||
		    cdp_send(c, "Target.getTargetInfo", json_pack("{s:s}", "targetId", target)) < 0)
			c->pending_queries = CDP_TITLE_QUERIES;
		json_decref(held);
		return;
	}
	cdp_forward(c, c->pending);
	free(c->pending);
	c->pending = NULL;
	c->pending_query_id = 0;
}

/* The answer to a title query: forward the held navigate with the real title. */
static void cdp_title_answer(struct cdp *c, json_t *root)
{
	json_t *info = json_object_get(json_object_get(root, "result"), "targetInfo");
	json_t *held = json_loads(c->pending, 0, NULL);
	const char *hurl = json_string_value(json_object_get(held, "url"));
	const char *url = json_string_value(json_object_get(info, "url"));
	json_t *probe = json_pack("{s:O?, s:O?}", "title", json_object_get(info, "title"), "url",
				  json_object_get(info, "url"));
	if (hurl != NULL && url != NULL && strcmp(hurl, url) == 0 && probe != NULL &&
	    !cdp_title_is_placeholder(probe)) {
		json_object_set(held, "title", json_object_get(info, "title"));
		char *text = cdp_event_text(held, IPC_PAYLOAD_MAX);
		cdp_forward(c, text != NULL ? text : c->pending);
		free(text);
		free(c->pending);
		c->pending = NULL;
		c->pending_query_id = 0;
	}
	json_decref(probe);
	json_decref(held);
}

/*
 * Chromium first reports a new page's title as its URL (without the scheme)
 * or empty, and the real <title> in a later targetInfoChanged with the same
 * URL. True if ev's title is such a placeholder.
 */
static bool cdp_title_is_placeholder(json_t *ev)
{
	const char *title = json_string_value(json_object_get(ev, "title"));
	const char *url = json_string_value(json_object_get(ev, "url"));
	if (title == NULL || title[0] == '\0')
		return true;
	return url != NULL && strstr(url, title) != NULL;
}

/*
 * A navigate event: hold it while its title is a placeholder; a held one
 * for the same tab and URL gets the real title from a later repeat.
 * Returns true if ev was consumed (held, or used to complete the held one).
 */
static bool cdp_title_wait(struct cdp *c, const char *ev_text, bool repeat)
{
	json_t *ev = json_loads(ev_text, 0, NULL);
	const char *kind = json_string_value(json_object_get(ev, "event"));
	const char *target = json_string_value(json_object_get(ev, "target"));
	bool consumed = false;
	if (kind == NULL || target == NULL || strcmp(kind, "navigate") != 0) {
		json_decref(ev);
		return false;
	}
	uint64_t th = cdp_hash(target);
	if (c->pending != NULL && c->pending_target == th) {
		json_t *held = json_loads(c->pending, 0, NULL);
		const char *hurl = json_string_value(json_object_get(held, "url"));
		const char *url = json_string_value(json_object_get(ev, "url"));
		if (repeat && hurl != NULL && url != NULL && strcmp(hurl, url) == 0) {
			if (!cdp_title_is_placeholder(ev)) {
				json_object_set(held, "title", json_object_get(ev, "title"));
				char *text = cdp_event_text(held, IPC_PAYLOAD_MAX);
				cdp_forward(c, text != NULL ? text : c->pending);
				free(text);
				free(c->pending);
				c->pending = NULL;
			}
			consumed = true;
		} else {
			cdp_tick(c, true); /* the tab moved on: report what we had */
		}
		json_decref(held);
	}
	if (!consumed && !repeat && cdp_title_is_placeholder(ev)) {
		cdp_tick(c, true);
		c->pending = strdup(ev_text);
		c->pending_target = th;
		c->pending_queries = 0;
		c->pending_query_id = 0;
		c->pending_deadline_ms = cdp_now_ms() + CDP_TITLE_WAIT_MS;
		consumed = c->pending != NULL;
	}
	json_decref(ev);
	return consumed;
}

/* Handle one complete message. */
static void cdp_handle(struct cdp *c, const char *msg)
{
	json_t *root = json_loads(msg, 0, NULL);
	if (root != NULL) {
		bool answered = cdp_answer(c, root);
		if (!answered)
			cdp_watch_context(c, root);
		json_decref(root);
		if (answered)
			return;
	}
	if (c->pending != NULL && c->pending_query_id != 0) {
		root = json_loads(msg, 0, NULL);
		json_t *id = json_object_get(root, "id");
		if (json_is_integer(id) && json_integer_value(id) == c->pending_query_id) {
			c->pending_query_id = 0;
			cdp_title_answer(c, root);
			json_decref(root);
			return;
		}
		json_decref(root);
	}
	char ev[IPC_PAYLOAD_MAX];
	int rc = cdp_translate(msg, ev, sizeof ev);
	if (rc < 0) {
		log_warn("%s: ignored a CDP message that is not a JSON object", __func__);
		return;
	}
	if (rc != 1)
		return;
#ifdef PIXELGATE_TEST_INJECT
	inject_watch(ev); /* test-only build: see session_inject.c */
#endif
	if (c->closed_page[0] != '\0') {
		char needle[CDP_CONTEXT_ID_MAX + 16];
		snprintf(needle, sizeof needle, "\"target\":\"%s\"", c->closed_page);
		if (strstr(ev, needle) != NULL)
			return; /* the blank tab of before the claim */
	}
	bool repeat = cdp_is_repeat(c, ev);
	if (cdp_title_wait(c, ev, repeat))
		return;
	if (repeat) {
		log_debug("browser event (same URL, not forwarded): %s", ev);
		return;
	}
	cdp_forward(c, ev);
}

int cdp_read(struct cdp *c)
{
	char chunk[CDP_READ_CHUNK];
	ssize_t n = read(c->rfd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		if (c->nrequired > 0)
			cdp_fail(c, "the browser closed the CDP pipe before answering %s",
				 c->required[0].what);
		return -1;
	}
	for (ssize_t i = 0; i < n;) {
		char *nul = memchr(chunk + i, '\0', (size_t)(n - i));
		size_t part = nul ? (size_t)(nul - (chunk + i)) : (size_t)(n - i);
		if (!c->discarding) {
			if (c->len + part + 1 > CDP_MESSAGE_MAX) {
				log_warn("%s: CDP message over %d bytes skipped", __func__,
					 CDP_MESSAGE_MAX);
				c->discarding = true;
				c->len = 0;
			} else {
				if (c->len + part + 1 > c->cap) {
					size_t ncap = c->cap ? c->cap : 65536;
					while (ncap < c->len + part + 1)
						ncap *= 2;
					char *nb = realloc(c->buf, ncap);
					if (nb == NULL)
						return -1;
					c->buf = nb;
					c->cap = ncap;
				}
				memcpy(c->buf + c->len, chunk + i, part);
				c->len += part;
			}
		}
		i += (ssize_t)part;
		if (nul != NULL) {
			if (!c->discarding) {
				c->buf[c->len] = '\0';
				cdp_handle(c, c->buf);
			}
			c->discarding = false;
			c->len = 0;
			i++;
		}
	}
	return 0;
}

int cdp_claim(struct cdp *c, const char *url)
{
	/* the new tab first: closing the only one would close the window */
	if (cdp_send(c, "Target.createTarget", json_pack("{s:s}", "url", url)) < 0)
		return -1;
	if (c->first_page[0] != '\0' &&
	    cdp_send(c, "Target.closeTarget", json_pack("{s:s}", "targetId", c->first_page)) < 0)
		return -1;
	c->claimed = true;
	memcpy(c->closed_page, c->first_page, sizeof c->closed_page);
	c->first_page[0] = '\0';
	/* about:blank's navigate, held for its title, is from before the claim */
	free(c->pending);
	c->pending = NULL;
	c->pending_query_id = 0;
	return 0;
}

void cdp_close(struct cdp *c)
{
	cdp_tick(c, true); /* a held navigate is reported, not lost */
	free(c->buf);
	c->buf = NULL;
	if (c->wfd >= 0)
		close(c->wfd);
	if (c->rfd >= 0)
		close(c->rfd);
	c->wfd = c->rfd = -1;
}
