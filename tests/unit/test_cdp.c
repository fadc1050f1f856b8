/*
 * test_cdp.c: the worker's side of the Chrome DevTools Protocol pipe
 * (proxy/session/session_cdp.c), as the gateway's audit log and a hostile
 * or broken browser see it. cdp_translate() turns Chromium's real messages
 * (Browser.downloadWillBegin, Target.targetCreated/targetInfoChanged of a
 * page; not of a worker or an iframe; not Page.* or answers) into the
 * worker's events, and takes hostile ones (not JSON, wrong types, missing
 * fields, huge strings, invalid UTF-8, deep nesting) without crashing or
 * losing a download. Through real pipes and a real control socketpair:
 * the opening commands must be answered before READY, a refusal or a closed
 * pipe says why, each browser context gets its own download denial (once,
 * bounded), messages split at any byte arrive whole, an oversize one is
 * skipped, a navigate with Chromium's placeholder title waits for the real
 * one, a title change is not a second navigation, and what reaches the
 * gateway becomes the audit record browser_event_parse() makes of it.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "browser_event.h"
#include "ipc.h"
#include "log.h"
#include "session.h"

static void quiet(void)
{
	log_init("test_cdp", LOG_LEVEL_ERROR);
}

TestSuite(cdp, .init = quiet);

/* ---- cdp_translate: one message at a time ------------------------------- */

struct translate_case {
	const char *what;
	const char *msg;
	int rc;            /* -1 not a JSON object, 0 nothing to report, 1 an event */
	const char *event; /* with 1: the event, JSON with sorted keys */
};

static char *sorted(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	cr_assert_not_null(o, "not JSON: %s", text);
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

Test(cdp, chromiums_messages_become_the_workers_events)
{
	static const struct translate_case cases[] = {
		/* what Chromium 120 sends, trimmed to the fields that matter */
		{ "a download",
		  "{\"method\":\"Browser.downloadWillBegin\",\"params\":{\"frameId\":"
		  "\"F1\",\"guid\":\"g\",\"url\":\"https://x.example/setup.exe\","
		  "\"suggestedFilename\":\"setup.exe\"}}",
		  1,
		  "{\"event\":\"download_blocked\",\"filename\":\"setup.exe\","
		  "\"url\":\"https://x.example/setup.exe\"}" },
		{ "a new tab",
		  "{\"method\":\"Target.targetCreated\",\"params\":{\"targetInfo\":"
		  "{\"targetId\":\"T1\",\"type\":\"page\",\"title\":\"\",\"url\":\"about:blank\","
		  "\"attached\":false,\"canAccessOpener\":false,\"browserContextId\":\"C1\"}}}",
		  1,
		  "{\"event\":\"new_tab\",\"target\":\"T1\",\"title\":\"\",\"url\":\"about:blank\"}" },
		{ "a navigation",
		  "{\"method\":\"Target.targetInfoChanged\",\"params\":{\"targetInfo\":"
		  "{\"targetId\":\"T1\",\"type\":\"page\",\"title\":\"\xe5\xa4\x9a\xe6\x91\xa9\xe5\xb8"
		  "\x82\",\"url\":\"https://www.city.tama.lg.jp/\",\"attached\":true}}}",
		  1,
		  "{\"event\":\"navigate\",\"target\":\"T1\",\"title\":\"\xe5\xa4\x9a\xe6\x91\xa9"
		  "\xe5\xb8\x82\",\"url\":\"https://www.city.tama.lg.jp/\"}" },
		{ "escaped characters come out as UTF-8",
		  "{\"method\":\"Target.targetInfoChanged\",\"params\":{\"targetInfo\":{\"targetId\":"
		  "\"T1\",\"type\":\"page\",\"title\":\"\\u3042\",\"url\":\"u\"}}}",
		  1,
		  "{\"event\":\"navigate\",\"target\":\"T1\",\"title\":\"\xe3\x81\x82\",\"url\":\"u\"}" },
		{ "a service worker is not a tab",
		  "{\"method\":\"Target.targetCreated\",\"params\":{\"targetInfo\":{\"targetId\":\"W\","
		  "\"type\":\"service_worker\",\"url\":\"https://x.example/sw.js\"}}}",
		  0, NULL },
		{ "an iframe is not a tab",
		  "{\"method\":\"Target.targetInfoChanged\",\"params\":{\"targetInfo\":{\"targetId\":"
		  "\"I\",\"type\":\"iframe\",\"url\":\"https://ads.example/\"}}}",
		  0, NULL },
		{ "the browser target",
		  "{\"method\":\"Target.targetCreated\",\"params\":{\"targetInfo\":"
		  "{\"targetId\":\"B\",\"type\":\"browser\",\"url\":\"\"}}}",
		  0, NULL },
		{ "attachedToTarget is not reported",
		  "{\"method\":\"Target.attachedToTarget\",\"params\":"
		  "{\"sessionId\":\"S\",\"targetInfo\":{\"targetId\":\"T1\",\"type\":\"page\","
		  "\"url\":\"u\"},\"waitingForDebugger\":false}}",
		  0, NULL },
		{ "Page.frameNavigated (not subscribed): nothing",
		  "{\"method\":\"Page.frameNavigated\",\"params\":{\"frame\":{\"id\":\"F\",\"url\":"
		  "\"https://x/\"}}}",
		  0, NULL },
		{ "Browser.downloadProgress: nothing",
		  "{\"method\":\"Browser.downloadProgress\","
		  "\"params\":{\"guid\":\"g\",\"state\":\"canceled\"}}",
		  0, NULL },
		{ "targetDestroyed: nothing",
		  "{\"method\":\"Target.targetDestroyed\",\"params\":"
		  "{\"targetId\":\"T1\"}}",
		  0, NULL },
		{ "an answer", "{\"id\":1,\"result\":{}}", 0, NULL },
		{ "an error answer",
		  "{\"id\":3,\"error\":{\"code\":-32000,\"message\":\"Browser "
		  "context management is not supported.\"}}",
		  0, NULL },
		{ "an error beats a method",
		  "{\"method\":\"Browser.downloadWillBegin\",\"error\":{},"
		  "\"params\":{\"url\":\"u\"}}",
		  0, NULL },
		/* hostile or broken */
		{ "a download without params is still reported",
		  "{\"method\":\"Browser.downloadWillBegin\"}", 1,
		  "{\"event\":\"download_blocked\",\"filename\":null,\"url\":null}" },
		{ "a download with params of the wrong type is still reported",
		  "{\"method\":\"Browser.downloadWillBegin\",\"params\":[1,2]}", 1,
		  "{\"event\":\"download_blocked\",\"filename\":null,\"url\":null}" },
		{ "a page without targetInfo",
		  "{\"method\":\"Target.targetCreated\",\"params\":{}}", 0, NULL },
		{ "type not a string",
		  "{\"method\":\"Target.targetCreated\",\"params\":{\"targetInfo\":"
		  "{\"type\":1,\"url\":\"u\"}}}",
		  0, NULL },
		{ "type Page (case matters)",
		  "{\"method\":\"Target.targetCreated\",\"params\":"
		  "{\"targetInfo\":{\"type\":\"Page\",\"url\":\"u\"}}}",
		  0, NULL },
		{ "method not a string", "{\"method\":7,\"params\":{}}", 0, NULL },
		{ "method with a NUL escape", "{\"method\":\"Browser.downloadWillBegin\\u0000\"}",
		  -1, NULL },
		{ "an empty object", "{}", 0, NULL },
		{ "a JSON array", "[{\"method\":\"Browser.downloadWillBegin\"}]", -1, NULL },
		{ "a JSON string", "\"Browser.downloadWillBegin\"", -1, NULL },
		{ "a number", "42", -1, NULL },
		{ "not JSON", "Browser.downloadWillBegin", -1, NULL },
		{ "empty", "", -1, NULL },
		{ "cut short", "{\"method\":\"Browser.downloadWillBegin\",\"params\":{\"url\":", -1,
		  NULL },
		{ "raw invalid UTF-8",
		  "{\"method\":\"Target.targetInfoChanged\",\"params\":"
		  "{\"targetInfo\":{\"type\":\"page\",\"title\":\"\xe3\x81\"}}}",
		  -1, NULL },
		{ "a lone surrogate escape",
		  "{\"method\":\"Target.targetInfoChanged\",\"params\":"
		  "{\"targetInfo\":{\"type\":\"page\",\"title\":\"\\udc00\"}}}",
		  -1, NULL },
	};
	static char out[IPC_PAYLOAD_MAX];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct translate_case *c = &cases[i];
		memset(out, 0x5a, sizeof out);
		int rc = cdp_translate(c->msg, out, sizeof out);
		cr_expect_eq(rc, c->rc, "%s: %d, expected %d", c->what, rc, c->rc);
		if (rc != 1 || c->rc != 1)
			continue;
		char *got = sorted(out), *want = sorted(c->event);
		cr_expect_str_eq(got, want, "%s", c->what);
		free(got);
		free(want);
	}
}

Test(cdp, huge_strings_are_cut_so_the_event_is_not_lost)
{
	/* a 9000-byte title of 3-byte characters and a 6000-byte URL */
	size_t tn = 3000;
	char *title = malloc(tn * 3 + 1), *url = malloc(6001);
	for (size_t i = 0; i < tn; i++)
		memcpy(title + 3 * i, "\xe6\x9d\xb1", 3);
	title[tn * 3] = '\0';
	memcpy(url, "https://", 8);
	memset(url + 8, 'a', 5992);
	url[6000] = '\0';
	json_t *m = json_pack("{s:s, s:{s:{s:s, s:s, s:s, s:s}}}", "method",
			      "Target.targetInfoChanged", "params", "targetInfo", "targetId", "T1",
			      "type", "page", "title", title, "url", url);
	char *msg = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	static char out[IPC_PAYLOAD_MAX];
	cr_assert_eq(cdp_translate(msg, out, sizeof out), 1, "the navigation was lost");
	cr_assert_lt(strlen(out), sizeof out);
	json_t *ev = json_loads(out, 0, NULL);
	cr_assert_not_null(ev, "the event is not JSON (a character split?)");
	const char *t = json_string_value(json_object_get(ev, "title"));
	const char *u = json_string_value(json_object_get(ev, "url"));
	cr_assert(t != NULL && u != NULL, "%s", out);
	cr_expect_gt(strlen(t), 0);
	cr_expect_eq(strlen(t) % 3, 0, "title cut inside a character: %zu bytes", strlen(t));
	cr_expect_eq(memcmp(t, title, strlen(t)), 0);
	cr_expect_eq(strncmp(u, "https://aaa", 11), 0);
	json_decref(ev);

	/* and through the gateway: the record keeps a title */
	json_t *fields;
	cr_assert_str_eq(browser_event_parse(out, &fields), "navigate");
	cr_expect_gt(strlen(json_string_value(json_object_get(fields, "title"))), 0);
	json_decref(fields);

	/* with no room at all, nothing is written past the buffer */
	char small[16];
	memset(small, 0x5a, sizeof small);
	cr_expect_eq(cdp_translate(msg, small, sizeof small), 0);
	free(msg);
	free(title);
	free(url);
}

Test(cdp, deep_nesting_is_not_a_json_object_to_it)
{
	size_t depth = 100000;
	char *p = malloc(2 * depth + 128);
	size_t o = (size_t)sprintf(p, "{\"method\":\"Browser.downloadWillBegin\",\"params\":");
	memset(p + o, '[', depth);
	memset(p + o + depth, ']', depth);
	strcpy(p + o + 2 * depth, "}");
	static char out[IPC_PAYLOAD_MAX];
	cr_expect_eq(cdp_translate(p, out, sizeof out), -1);
	free(p);
	/* nesting jansson takes, in a value the event copies: still one bounded event */
	const char *ok = "{\"method\":\"Browser.downloadWillBegin\",\"params\":{\"url\":"
			 "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]],\"suggestedFilename\":\"a\"}}";
	cr_expect_eq(cdp_translate(ok, out, sizeof out), 1);
	json_t *fields;
	cr_assert_str_eq(browser_event_parse(out, &fields), "download_blocked");
	cr_expect_str_eq(json_string_value(json_object_get(fields, "url")), "",
			 "a URL that is not a string is recorded as empty");
	cr_expect_str_eq(json_string_value(json_object_get(fields, "filename")), "a");
	json_decref(fields);
}

/* ---- the pipe: a browser on one end, the gateway on the other ------------- */

struct rig {
	struct cdp c;
	int to_worker;   /* the browser writes here (the worker's rfd) */
	int from_worker; /* the browser reads the commands here (non-blocking) */
	int gateway;     /* the gateway's end of the control socket */
	char cmds[65536];
	size_t cmds_len;
};

static void rig_open(struct rig *r)
{
	int in[2], out[2], ctl[2];
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl), 0);
	memset(r, 0, sizeof *r);
	cdp_init(&r->c, out[1], in[0], ctl[0]);
	r->to_worker = in[1];
	r->from_worker = out[0];
	r->gateway = ctl[1];
}

static void rig_close(struct rig *r)
{
	cdp_close(&r->c);
	if (r->to_worker >= 0)
		close(r->to_worker);
	close(r->from_worker);
	close(r->c.ctrl_fd);
	close(r->gateway);
}

/* The browser writes len bytes in pieces of piece bytes, the worker reading after each. */
static void feed(struct rig *r, const char *data, size_t len, size_t piece)
{
	for (size_t off = 0; off < len;) {
		size_t k = len - off < piece ? len - off : piece;
		cr_assert_eq(write(r->to_worker, data + off, k), (ssize_t)k);
		off += k;
		cr_assert_eq(cdp_read(&r->c), 0);
	}
}

/* One message from the browser (its NUL added). */
static void say(struct rig *r, const char *msg)
{
	feed(r, msg, strlen(msg) + 1, 65536);
}

/* The next command the worker wrote to the browser, parsed, or NULL. */
static json_t *next_command(struct rig *r)
{
	ssize_t n;
	while ((n = read(r->from_worker, r->cmds + r->cmds_len, sizeof r->cmds - r->cmds_len)) > 0)
		r->cmds_len += (size_t)n;
	char *nul = memchr(r->cmds, '\0', r->cmds_len);
	if (nul == NULL)
		return NULL;
	json_t *o = json_loads(r->cmds, 0, NULL);
	cr_assert_not_null(o, "a command that is not JSON: %s", r->cmds);
	size_t used = (size_t)(nul - r->cmds) + 1;
	memmove(r->cmds, nul + 1, r->cmds_len - used);
	r->cmds_len -= used;
	return o;
}

/* The next command must be method (with browserContextId ctx, if not NULL); its id. */
static int expect_command(struct rig *r, const char *method, const char *ctx)
{
	json_t *o = next_command(r);
	cr_assert_not_null(o, "no command; expected %s", method);
	cr_assert_str_eq(json_string_value(json_object_get(o, "method")), method);
	json_t *params = json_object_get(o, "params");
	if (strcmp(method, "Browser.setDownloadBehavior") == 0) {
		cr_assert_str_eq(json_string_value(json_object_get(params, "behavior")), "deny");
		const char *got = json_string_value(json_object_get(params, "browserContextId"));
		if (ctx == NULL)
			cr_assert_null(got, "default context expected, got %s", got);
		else
			cr_assert_str_eq(got ? got : "(none)", ctx);
	}
	int id = (int)json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	return id;
}

static void expect_no_command(struct rig *r)
{
	json_t *o = next_command(r);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	cr_assert_null(o, "unexpected command %s", s);
}

static void answer(struct rig *r, int id)
{
	char msg[64];
	snprintf(msg, sizeof msg, "{\"id\":%d,\"result\":{}}", id);
	say(r, msg);
}

/* The next event the gateway got, or NULL (caller frees). */
static char *next_event(struct rig *r)
{
	struct pollfd p = { r->gateway, POLLIN, 0 };
	if (poll(&p, 1, 0) != 1)
		return NULL;
	struct ipc_header hdr;
	static char payload[IPC_PAYLOAD_MAX + 1];
	char err[128];
	int fd;
	cr_assert_eq(ipc_recv(r->gateway, &hdr, payload, &fd, err, sizeof err), 1, "%s", err);
	cr_assert_eq(hdr.type, IPC_EVENT);
	cr_assert_eq(fd, -1);
	return strdup(payload);
}

/* The next event must be kind with these url and title (title NULL: not checked). */
static void expect_event(struct rig *r, const char *kind, const char *url, const char *title)
{
	char *ev = next_event(r);
	cr_assert_not_null(ev, "no event; expected %s %s", kind, url);
	json_t *fields;
	const char *name = browser_event_parse(ev, &fields);
	cr_assert_str_eq(name ? name : "(refused by the gateway)", kind, "%s", ev);
	cr_assert_str_eq(json_string_value(json_object_get(fields, "url")), url, "%s", ev);
	if (title != NULL)
		cr_assert_str_eq(json_string_value(json_object_get(fields, "title")), title, "%s",
				 ev);
	json_decref(fields);
	free(ev);
}

static void expect_no_event(struct rig *r)
{
	char *ev = next_event(r);
	cr_assert_null(ev, "unexpected event %s", ev);
}

/* A started session: READY only once both opening commands were answered. */
static void start(struct rig *r)
{
	rig_open(r);
	cr_assert_eq(cdp_start(&r->c), 0);
	int deny = expect_command(r, "Browser.setDownloadBehavior", NULL);
	int discover = expect_command(r, "Target.setDiscoverTargets", NULL);
	cr_assert(!cdp_started(&r->c), "READY before Chromium answered");
	answer(r, discover);
	cr_assert(!cdp_started(&r->c), "READY before the download denial was answered");
	answer(r, deny);
	cr_assert(cdp_started(&r->c));
	cr_assert_null(cdp_failure(&r->c));
}

static void page_event(struct rig *r, const char *method, const char *target, const char *url,
		       const char *title, const char *ctx)
{
	json_t *m = json_pack("{s:s, s:{s:{s:s, s:s, s:s, s:s}}}", "method", method, "params",
			      "targetInfo", "targetId", target, "type", "page", "url", url, "title",
			      title);
	if (ctx != NULL)
		json_object_set_new(json_object_get(json_object_get(m, "params"), "targetInfo"),
				    "browserContextId", json_string(ctx));
	char *s = json_dumps(m, JSON_COMPACT);
	say(r, s);
	free(s);
	json_decref(m);
}

Test(cdp, a_refused_download_denial_ends_the_session_with_chromiums_words)
{
	struct rig r;
	rig_open(&r);
	cr_assert_eq(cdp_start(&r.c), 0);
	int deny = expect_command(&r, "Browser.setDownloadBehavior", NULL);
	int discover = expect_command(&r, "Target.setDiscoverTargets", NULL);
	answer(&r, discover);
	char msg[160];
	snprintf(msg, sizeof msg,
		 "{\"id\":%d,\"error\":{\"code\":-32000,\"message\":\"Not allowed\\n\"}}", deny);
	say(&r, msg);
	cr_assert(!cdp_started(&r.c));
	cr_assert_not_null(cdp_failure(&r.c));
	cr_expect_str_eq(cdp_failure(&r.c), "the browser refused download denial: Not allowed?",
			 "the browser's words are cleaned before they reach a log line");
	rig_close(&r);

	/* a long Japanese refusal: cut, and still valid UTF-8 */
	rig_open(&r);
	cdp_start(&r.c);
	deny = expect_command(&r, "Browser.setDownloadBehavior", NULL);
	char *jmsg = malloc(1024);
	int o = snprintf(jmsg, 1024, "{\"id\":%d,\"error\":{\"message\":\"", deny);
	for (int i = 0; i < 100; i++, o += 3)
		memcpy(jmsg + o, "\xe6\x8b\x92", 3); /* 拒 */
	strcpy(jmsg + o, "\"}}");
	say(&r, jmsg);
	free(jmsg);
	const char *f = cdp_failure(&r.c);
	cr_assert_not_null(f);
	cr_expect_lt(strlen(f), sizeof r.c.failure);
	json_t *j = json_string(f);
	cr_expect_not_null(j, "the failure is not valid UTF-8: %s", f);
	json_decref(j);
	rig_close(&r);

	rig_open(&r);
	cdp_start(&r.c);
	deny = expect_command(&r, "Browser.setDownloadBehavior", NULL);
	snprintf(msg, sizeof msg, "{\"id\":%d,\"result\":[]}", deny);
	say(&r, msg);
	cr_expect_str_eq(cdp_failure(&r.c),
			 "the browser refused download denial: an answer without a result");
	rig_close(&r);
}

Test(cdp, a_pipe_closed_before_the_answers_says_so)
{
	struct rig r;
	rig_open(&r);
	cdp_start(&r.c);
	close(r.to_worker);
	r.to_worker = -1;
	cr_assert_eq(cdp_read(&r.c), -1);
	cr_assert(!cdp_started(&r.c));
	cr_assert_str_eq(cdp_failure(&r.c) ? cdp_failure(&r.c) : "(none)",
			 "the browser closed the CDP pipe before answering download denial");
	rig_close(&r);
}

Test(cdp, answers_to_other_ids_or_without_an_integer_id_settle_nothing)
{
	struct rig r;
	rig_open(&r);
	cdp_start(&r.c);
	int deny = expect_command(&r, "Browser.setDownloadBehavior", NULL);
	int discover = expect_command(&r, "Target.setDiscoverTargets", NULL);
	char msg[128];
	snprintf(msg, sizeof msg, "{\"id\":\"%d\",\"result\":{}}", deny);
	say(&r, msg);
	snprintf(msg, sizeof msg, "{\"id\":%d.0,\"result\":{}}", discover);
	say(&r, msg);
	say(&r, "{\"id\":99,\"result\":{}}");
	say(&r, "{\"id\":-1,\"error\":{\"message\":\"x\"}}");
	cr_assert(!cdp_started(&r.c));
	cr_assert_null(cdp_failure(&r.c));
	answer(&r, deny);
	answer(&r, discover);
	cr_assert(cdp_started(&r.c));
	answer(&r, deny); /* a second answer to the same id: nothing to settle */
	cr_assert(cdp_started(&r.c));
	rig_close(&r);
}

Test(cdp, each_browser_context_gets_its_own_download_denial_once)
{
	struct rig r;
	start(&r);
	page_event(&r, "Target.targetCreated", "T1", "about:blank", "", "CTX-A");
	int a = expect_command(&r, "Browser.setDownloadBehavior", "CTX-A");
	page_event(&r, "Target.targetInfoChanged", "T1", "about:blank", "", "CTX-A");
	say(&r,
	    "{\"method\":\"Target.attachedToTarget\",\"params\":{\"targetInfo\":{\"type\":"
	    "\"page\",\"targetId\":\"T1\",\"browserContextId\":\"CTX-A\"}}}");
	expect_no_command(&r);
	/* a service worker in an incognito context: denied too */
	say(&r,
	    "{\"method\":\"Target.targetCreated\",\"params\":{\"targetInfo\":{\"type\":"
	    "\"service_worker\",\"targetId\":\"W\",\"url\":\"u\",\"browserContextId\":\"CTX-B\"}}}");
	int b = expect_command(&r, "Browser.setDownloadBehavior", "CTX-B");
	answer(&r, a);
	answer(&r, b);
	cr_assert_null(cdp_failure(&r.c));
	/* the denial of a later context refused: the session ends */
	page_event(&r, "Target.targetCreated", "T2", "about:blank", "", "CTX-C");
	int c = expect_command(&r, "Browser.setDownloadBehavior", "CTX-C");
	char msg[128];
	snprintf(msg, sizeof msg, "{\"id\":%d,\"error\":{\"message\":\"no such context\"}}", c);
	say(&r, msg);
	cr_assert_str_eq(cdp_failure(&r.c) ? cdp_failure(&r.c) : "(none)",
			 "the browser refused download denial in a browser context: no such "
			 "context");
	rig_close(&r);
}

Test(cdp, browser_contexts_are_bounded)
{
	struct rig r;
	start(&r);
	char id[80];
	memset(id, 'x', CDP_CONTEXT_ID_MAX);
	id[CDP_CONTEXT_ID_MAX] = '\0';
	page_event(&r, "Target.targetCreated", "T", "u", "", id);
	answer(&r, expect_command(&r, "Browser.setDownloadBehavior", id));
	cr_assert_null(cdp_failure(&r.c), "a %d-byte id is allowed", CDP_CONTEXT_ID_MAX);
	memset(id, 'y', CDP_CONTEXT_ID_MAX + 1);
	id[CDP_CONTEXT_ID_MAX + 1] = '\0';
	page_event(&r, "Target.targetCreated", "T", "u", "", id);
	expect_no_command(&r);
	cr_assert_str_eq(cdp_failure(&r.c) ? cdp_failure(&r.c) : "(none)",
			 "the browser reported a browser context id of 65 bytes");
	rig_close(&r);

	start(&r);
	for (int i = 0; i < CDP_CONTEXTS_MAX; i++) {
		snprintf(id, sizeof id, "C%d", i);
		page_event(&r, "Target.targetCreated", "T", "u", "", id);
		answer(&r, expect_command(&r, "Browser.setDownloadBehavior", id));
	}
	cr_assert_null(cdp_failure(&r.c));
	page_event(&r, "Target.targetCreated", "T", "u", "", "one-too-many");
	expect_no_command(&r);
	cr_assert_str_eq(cdp_failure(&r.c) ? cdp_failure(&r.c) : "(none)",
			 "the browser opened more than 16 browser contexts");
	rig_close(&r);
}

Test(cdp, a_message_split_at_every_byte_arrives_whole)
{
	const char *msg = "{\"method\":\"Browser.downloadWillBegin\",\"params\":{\"url\":"
			  "\"https://x.example/\xe6\x9d\xb1.zip\",\"suggestedFilename\":"
			  "\"\xe6\x9d\xb1.zip\"}}";
	size_t len = strlen(msg) + 1;
	static const size_t pieces[] = { 1, 2, 3, 7, 64 };
	for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
		struct rig r;
		start(&r);
		feed(&r, msg, len, pieces[p]);
		expect_event(&r, "download_blocked", "https://x.example/\xe6\x9d\xb1.zip", NULL);
		expect_no_event(&r);
		rig_close(&r);
	}
	/* two messages and the start of a third in one write */
	struct rig r;
	start(&r);
	char both[1024];
	int n = snprintf(both, sizeof both, "%s%c%s%c{\"method\":", msg, 0, msg, 0);
	feed(&r, both, (size_t)n, (size_t)n);
	expect_event(&r, "download_blocked", "https://x.example/\xe6\x9d\xb1.zip", NULL);
	expect_event(&r, "download_blocked", "https://x.example/\xe6\x9d\xb1.zip", NULL);
	expect_no_event(&r);
	feed(&r, "\"Browser.downloadWillBegin\"}", 29, 29);
	expect_event(&r, "download_blocked", "", NULL);
	rig_close(&r);
}

Test(cdp, an_oversize_message_is_skipped_and_the_next_one_counts)
{
	struct rig r;
	start(&r);
	/*
	 * A valid download message past CDP_MESSAGE_MAX: CDP_MESSAGE_MAX bytes of
	 * white space, then the object. Skipped whole: neither parsed at any
	 * size nor picked up again from where it went over.
	 */
	const char *tail = "{\"method\":\"Browser.downloadWillBegin\",\"params\":{\"url\":"
			   "\"https://oversize/\"}}";
	size_t tl = strlen(tail), big = CDP_MESSAGE_MAX + tl;
	char *m = malloc(big + 1);
	memset(m, ' ', CDP_MESSAGE_MAX);
	memcpy(m + CDP_MESSAGE_MAX, tail, tl + 1);
	feed(&r, m, big + 1, 65536);
	expect_no_event(&r);
	/* one byte shorter than the cap with its NUL: taken */
	memset(m, ' ', CDP_MESSAGE_MAX - 1 - tl);
	memcpy(m + CDP_MESSAGE_MAX - 1 - tl, tail, tl + 1);
	feed(&r, m, CDP_MESSAGE_MAX, 65536);
	expect_event(&r, "download_blocked", "https://oversize/", NULL);
	free(m);
	say(&r, "{\"method\":\"Browser.downloadWillBegin\",\"params\":{\"url\":\"https://y/\"}}");
	expect_event(&r, "download_blocked", "https://y/", NULL);
	/* garbage between messages is skipped the same way */
	say(&r, "\xff\xfe garbage");
	say(&r, "");
	say(&r, "{\"method\":\"Browser.downloadWillBegin\",\"params\":{\"url\":\"https://z/\"}}");
	expect_event(&r, "download_blocked", "https://z/", NULL);
	cr_assert(cdp_started(&r.c));
	rig_close(&r);
}

Test(cdp, a_navigation_is_reported_once_with_its_real_title)
{
	struct rig r;
	start(&r);
	page_event(&r, "Target.targetCreated", "T1", "about:blank", "", NULL);
	expect_event(&r, "new_tab", "about:blank", "");
	/* Chromium first names the page after its URL: held, not reported */
	page_event(&r, "Target.targetInfoChanged", "T1", "https://www.city.tama.lg.jp/",
		   "www.city.tama.lg.jp/", NULL);
	expect_no_event(&r);
	/* the <title> arrives: one navigate with it */
	page_event(&r, "Target.targetInfoChanged", "T1", "https://www.city.tama.lg.jp/",
		   "\xe5\xa4\x9a\xe6\x91\xa9\xe5\xb8\x82", NULL);
	expect_event(&r, "navigate", "https://www.city.tama.lg.jp/",
		     "\xe5\xa4\x9a\xe6\x91\xa9\xe5\xb8\x82");
	/* a later title change at the same URL is not a navigation */
	page_event(&r, "Target.targetInfoChanged", "T1", "https://www.city.tama.lg.jp/",
		   "(1) \xe5\xa4\x9a\xe6\x91\xa9\xe5\xb8\x82", NULL);
	expect_no_event(&r);
	/* another URL is */
	page_event(&r, "Target.targetInfoChanged", "T1", "https://www.city.tama.lg.jp/a", "A",
		   NULL);
	expect_event(&r, "navigate", "https://www.city.tama.lg.jp/a", "A");
	rig_close(&r);
}

Test(cdp, a_title_that_never_comes_is_asked_for_then_the_navigate_goes_as_is)
{
	struct rig r;
	start(&r);
	page_event(&r, "Target.targetInfoChanged", "T9", "https://slow.example/", "", NULL);
	expect_no_event(&r);
	cr_assert_geq(cdp_timeout_ms(&r.c), 0, "a held navigate needs a timer");
	/* the wait is over: the worker asks Chromium for the title */
	r.c.pending_deadline_ms = 0;
	cdp_tick(&r.c, false);
	json_t *q = next_command(&r);
	cr_assert_not_null(q, "no Target.getTargetInfo");
	cr_assert_str_eq(json_string_value(json_object_get(q, "method")), "Target.getTargetInfo");
	cr_assert_str_eq(json_string_value(
			     json_object_get(json_object_get(q, "params"), "targetId")),
			 "T9");
	int id = (int)json_integer_value(json_object_get(q, "id"));
	json_decref(q);
	char msg[256];
	snprintf(msg, sizeof msg,
		 "{\"id\":%d,\"result\":{\"targetInfo\":{\"targetId\":\"T9\",\"type\":\"page\","
		 "\"url\":\"https://slow.example/\",\"title\":\"Slow page\"}}}",
		 id);
	say(&r, msg);
	expect_event(&r, "navigate", "https://slow.example/", "Slow page");
	expect_no_event(&r);

	/* no answer at all: after CDP_TITLE_QUERIES tries the placeholder goes out */
	page_event(&r, "Target.targetInfoChanged", "T9", "https://never.example/", "", NULL);
	for (int i = 0; i < CDP_TITLE_QUERIES; i++) {
		r.c.pending_deadline_ms = 0;
		cdp_tick(&r.c, false);
		cr_assert_eq(expect_command(&r, "Target.getTargetInfo", NULL) > 0, 1);
		expect_no_event(&r);
	}
	r.c.pending_deadline_ms = 0;
	cdp_tick(&r.c, false);
	expect_event(&r, "navigate", "https://never.example/", "");
	rig_close(&r);
}

Test(cdp, a_held_navigate_is_reported_when_the_session_closes)
{
	struct rig r;
	start(&r);
	page_event(&r, "Target.targetInfoChanged", "T1", "https://last.example/", "", NULL);
	expect_no_event(&r);
	cdp_close(&r.c);
	expect_event(&r, "navigate", "https://last.example/", "");
	close(r.to_worker);
	close(r.from_worker);
	close(r.c.ctrl_fd);
	close(r.gateway);
}

/* A pre-started session claimed by a login: the home page in a new tab, the
   blank one closed, and nothing of the blank tab reported after the claim. */
Test(cdp, a_claim_opens_the_home_page_and_closes_the_blank_tab)
{
	struct rig r;
	start(&r);
	page_event(&r, "Target.targetCreated", "B1", "about:blank", "", NULL);
	expect_event(&r, "new_tab", "about:blank", "");
	/* about:blank's navigate, held for a title when the login comes */
	page_event(&r, "Target.targetInfoChanged", "B1", "about:blank", "about:blank", NULL);
	cr_assert_eq(cdp_claim(&r.c, "https://www.city.tama.lg.jp/"), 0);
	json_t *o = next_command(&r);
	cr_assert_not_null(o);
	cr_assert_str_eq(json_string_value(json_object_get(o, "method")), "Target.createTarget");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "params"), "url")),
			 "https://www.city.tama.lg.jp/");
	json_decref(o);
	o = next_command(&r);
	cr_assert_not_null(o, "the blank tab was not closed");
	cr_assert_str_eq(json_string_value(json_object_get(o, "method")), "Target.closeTarget");
	cr_assert_str_eq(json_string_value(
			     json_object_get(json_object_get(o, "params"), "targetId")),
			 "B1");
	json_decref(o);
	expect_no_command(&r);
	cdp_tick(&r.c, true); /* the held navigate is not the user's */
	expect_no_event(&r);
	page_event(&r, "Target.targetInfoChanged", "B1", "about:blank#x", "x", NULL);
	expect_no_event(&r);
	/* the home page's tab is reported */
	page_event(&r, "Target.targetCreated", "H1", "https://www.city.tama.lg.jp/", "", NULL);
	expect_event(&r, "new_tab", "https://www.city.tama.lg.jp/", "");
	/* a second claim has no blank tab left to close */
	cr_assert_eq(cdp_claim(&r.c, "https://example.org/"), 0);
	o = next_command(&r);
	cr_assert_str_eq(json_string_value(json_object_get(o, "method")), "Target.createTarget");
	json_decref(o);
	expect_no_command(&r);
	rig_close(&r);
}
