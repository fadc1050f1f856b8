/*
 * fuzz_cdp.c: libFuzzer target for what the session worker reads from
 * Chromium on --remote-debugging-pipe: proxy/session/session_cdp.c, compiled
 * in as it is. cdp_read() splits the pipe's bytes at NULs into messages;
 * each is an answer to a required command (download denial, target
 * discovery), a target event (a browser context to deny downloads in, a new
 * tab, a navigation whose title may be held until the real one comes) or a
 * download, turned into an IPC_EVENT for the gateway by cdp_translate().
 *
 * Input byte 0: bit 0 the opening commands are sent first (cdp_start(): ids
 * 1 and 2 await answers), bits 1..2 the size of the pieces of the second run
 * (1, 7, 64 or 1000 bytes), bit 3 the title wait of a held navigate is over
 * after each message (then cdp_tick() asks Chromium for the title with
 * Target.getTargetInfo, whose answer may be in the input, or gives up and
 * sends the navigate as it is). The rest is what Chromium writes; then the
 * pipe closes. ipc_send() is replaced here: it keeps what the worker sends.
 *
 * The input is fed twice: all at once (with bit 3: message by message), and
 * in pieces with a cdp_read() after each (with bit 3: a message's pieces,
 * the tick after its last). Invariants, each an abort():
 *  - both runs send the same events and the same commands and end with the
 *    same failure (or none) and READY state;
 *  - every event is one the gateway can receive: at most IPC_PAYLOAD_MAX
 *    bytes, a JSON object whose "event" is download_blocked, new_tab or
 *    navigate, with no keys but those of its kind;
 *  - every command is NUL-terminated JSON {"id","method","params"}, ids
 *    counting up from 1, methods those the worker uses; a download denial
 *    says "deny" and names a browser context of 1..64 bytes or none;
 *  - every browser context named in a target event (a message without an
 *    integer "id") gets a download denial of its own, or the session fails;
 *  - READY only without a failure, and only with the opening commands sent
 *    (bit 0); the failure text (it quotes the browser) is non-empty, valid
 *    UTF-8 without control characters, NUL-terminated in its buffer;
 *  - cdp_translate() says -1 exactly for a message that is not a JSON object
 *    (as json_loads() reads it), and an event it returns fits its buffer;
 *    a download or a page's target event without an "error" always gives
 *    an event in IPC_PAYLOAD_MAX bytes when its fields are strings: a page
 *    chooses its title and URL, and a long one must not keep it out of the
 *    audit log.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "session.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_EVENTS_MAX 4096

/* What one run produced. */
struct cdp_run {
	char *events[FUZZ_EVENTS_MAX];
	size_t nevents;
	char commands[65536];
	size_t commands_len;
	char failure[sizeof((struct cdp *)0)->failure];
	bool started;
};

static struct cdp_run *current;

/* The worker's only use of the control socket in session_cdp.c: events. */
int ipc_send(int sock, enum ipc_type type, const void *payload, size_t len, int fd)
{
	(void)sock;
	FUZZ_CHECK(type == IPC_EVENT && fd == -1);
	/* The real ipc_send() refuses this with EMSGSIZE: the event would be lost. */
	FUZZ_CHECK(len <= IPC_PAYLOAD_MAX);
	FUZZ_CHECK(current->nevents < FUZZ_EVENTS_MAX);
	char *copy = malloc(len + 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, payload, len);
	copy[len] = '\0';
	current->events[current->nevents++] = copy;
	return 0;
}

/* Read what the worker wrote to Chromium so far (the write end stays open). */
static void drain_commands(int fd, struct cdp_run *run)
{
	for (;;) {
		size_t room = sizeof run->commands - run->commands_len;
		FUZZ_CHECK(room > 0);
		ssize_t n = read(fd, run->commands + run->commands_len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		run->commands_len += (size_t)n;
	}
}

/* Feed data[0 .. n) to the pipe in pieces of at most piece bytes, a cdp_read() after each. */
static void feed(struct cdp *c, int w, int cmd_fd, const uint8_t *data, size_t n, size_t piece,
		 struct cdp_run *run)
{
	for (size_t off = 0; off < n;) {
		size_t k = n - off < piece ? n - off : piece;
		FUZZ_CHECK(write(w, data + off, k) == (ssize_t)k);
		off += k;
		FUZZ_CHECK(cdp_read(c) == 0);
		drain_commands(cmd_fd, run);
		/* READY never comes with a failure. */
		if (cdp_started(c))
			FUZZ_CHECK(cdp_failure(c) == NULL);
	}
}

/*
 * One run over the input. With tick, message by message, each followed by
 * the end of the title wait and cdp_tick() as the worker's loop does it.
 */
static void run_cdp(const uint8_t *data, size_t size, bool start, size_t piece, bool tick,
		    struct cdp_run *run)
{
	int in[2], out[2];
	FUZZ_CHECK(pipe2(in, O_CLOEXEC) == 0);
	FUZZ_CHECK(pipe2(out, O_CLOEXEC | O_NONBLOCK) == 0);
	memset(run, 0, sizeof *run);
	current = run;
	struct cdp c;
	cdp_init(&c, out[1], in[0], -1);
	if (start)
		FUZZ_CHECK(cdp_start(&c) == 0);
	if (!tick) {
		feed(&c, in[1], out[0], data, size, piece, run);
	} else {
		for (size_t off = 0; off < size;) {
			const uint8_t *nul = memchr(data + off, '\0', size - off);
			size_t n = nul != NULL ? (size_t)(nul - (data + off)) + 1 : size - off;
			feed(&c, in[1], out[0], data + off, n, piece, run);
			off += n;
			if (c.pending != NULL)
				c.pending_deadline_ms = 0; /* the wait is over */
			cdp_tick(&c, false);
			drain_commands(out[0], run);
		}
	}
	close(in[1]);
	FUZZ_CHECK(cdp_read(&c) == -1); /* the pipe closed */
	drain_commands(out[0], run);
	run->started = cdp_started(&c);
	const char *f = cdp_failure(&c);
	if (f != NULL) {
		size_t len = strnlen(f, sizeof c.failure);
		FUZZ_CHECK(len > 0 && len < sizeof c.failure);
		FUZZ_CHECK(fuzz_utf8_valid(f, len) && fuzz_printable(f, len));
		memcpy(run->failure, f, len + 1);
		FUZZ_CHECK(!run->started);
	}
	cdp_close(&c); /* flushes a held navigate */
	close(out[0]);
	current = NULL;
}

static void free_run(struct cdp_run *run)
{
	for (size_t i = 0; i < run->nevents; i++)
		free(run->events[i]);
	run->nevents = 0;
}

static bool only_keys(json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		bool known = false;
		for (const char *const *p = keys; *p != NULL; p++)
			known |= strcmp(k, *p) == 0;
		if (!known)
			return false;
	}
	return true;
}

static void check_events(const struct cdp_run *run)
{
	static const char *const download_keys[] = { "event", "url", "filename", NULL };
	static const char *const page_keys[] = { "event", "url", "title", "target", NULL };
	for (size_t i = 0; i < run->nevents; i++) {
		json_t *o = json_loads(run->events[i], JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(json_is_object(o));
		const char *kind = json_string_value(json_object_get(o, "event"));
		FUZZ_CHECK(kind != NULL);
		if (strcmp(kind, "download_blocked") == 0)
			FUZZ_CHECK(only_keys(o, download_keys));
		else if (strcmp(kind, "new_tab") == 0 || strcmp(kind, "navigate") == 0)
			FUZZ_CHECK(only_keys(o, page_keys));
		else
			FUZZ_CHECK(!"an event of an unknown kind");
		json_decref(o);
	}
}

/*
 * The commands: ids 1, 2, ...; the browser contexts denied go into denied
 * (their ids, NUL-separated). Returns how many contexts were denied.
 */
static size_t check_commands(const struct cdp_run *run, bool start, char *denied, size_t denied_cap)
{
	size_t ndenied = 0, used = 0;
	json_int_t next_id = 1;
	for (size_t off = 0; off < run->commands_len;) {
		const char *msg = run->commands + off;
		const char *nul = memchr(msg, '\0', run->commands_len - off);
		FUZZ_CHECK(nul != NULL); /* every command ends with its NUL */
		json_t *o = json_loads(msg, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(json_is_object(o));
		FUZZ_CHECK(json_object_size(o) == 3);
		json_t *id = json_object_get(o, "id");
		FUZZ_CHECK(json_is_integer(id) && json_integer_value(id) == next_id);
		next_id++;
		const char *method = json_string_value(json_object_get(o, "method"));
		json_t *params = json_object_get(o, "params");
		FUZZ_CHECK(method != NULL && json_is_object(params));
		if (strcmp(method, "Browser.setDownloadBehavior") == 0) {
			const char *b = json_string_value(json_object_get(params, "behavior"));
			FUZZ_CHECK(b != NULL && strcmp(b, "deny") == 0);
			json_t *ctx = json_object_get(params, "browserContextId");
			if (ctx != NULL) {
				const char *s = json_string_value(ctx);
				size_t len = json_string_length(ctx);
				FUZZ_CHECK(s != NULL && len >= 1 && len <= CDP_CONTEXT_ID_MAX);
				FUZZ_CHECK(strlen(s) == len);
				FUZZ_CHECK(used + len + 1 <= denied_cap);
				memcpy(denied + used, s, len + 1);
				used += len + 1;
				ndenied++;
			} else {
				FUZZ_CHECK(start && next_id - 1 == 1); /* the opening one */
			}
		} else if (strcmp(method, "Target.setDiscoverTargets") == 0) {
			FUZZ_CHECK(start && next_id - 1 == 2);
		} else {
			FUZZ_CHECK(strcmp(method, "Target.getTargetInfo") == 0);
		}
		json_decref(o);
		off += (size_t)(nul - msg) + 1;
	}
	FUZZ_CHECK(ndenied <= CDP_CONTEXTS_MAX);
	return ndenied;
}

static bool was_denied(const char *denied, size_t ndenied, const char *ctx)
{
	for (size_t i = 0; i < ndenied; i++) {
		if (strcmp(denied, ctx) == 0)
			return true;
		denied += strlen(denied) + 1;
	}
	return false;
}

/* Whether every member of o named in keys is a string or absent. */
static bool strings_or_absent(json_t *o, const char *const *keys)
{
	for (const char *const *k = keys; *k != NULL; k++) {
		json_t *v = json_object_get(o, *k);
		if (v != NULL && !json_is_string(v))
			return false;
	}
	return true;
}

/* A message cdp_translate() must turn into an event: a download, or a page's target event. */
static bool reported_event(json_t *root, const char *method)
{
	static const char *const download_keys[] = { "url", "suggestedFilename", NULL };
	static const char *const page_keys[] = { "url", "title", "targetId", NULL };
	if (!json_is_object(root) || method == NULL || json_object_get(root, "error") != NULL)
		return false;
	json_t *params = json_object_get(root, "params");
	if (strcmp(method, "Browser.downloadWillBegin") == 0)
		return strings_or_absent(params, download_keys);
	if (strcmp(method, "Target.targetCreated") != 0 &&
	    strcmp(method, "Target.targetInfoChanged") != 0)
		return false;
	json_t *info = json_object_get(params, "targetInfo");
	const char *type = json_string_value(json_object_get(info, "type"));
	return type != NULL && strcmp(type, "page") == 0 && strings_or_absent(info, page_keys);
}

/* Each complete message on its own: translation and browser contexts. */
static void check_messages(const uint8_t *data, size_t size, const struct cdp_run *run,
			   const char *denied, size_t ndenied)
{
	static char out[IPC_PAYLOAD_MAX];
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (nul == NULL)
			break; /* never completed: never handled */
		json_t *root = json_loads(p, 0, NULL);
		memset(out, 0x5a, sizeof out);
		int rc = cdp_translate(p, out, sizeof out);
		FUZZ_CHECK(json_is_object(root) ? rc == 0 || rc == 1 : rc == -1);
		if (rc == 1)
			FUZZ_CHECK(memchr(out, '\0', sizeof out) != NULL);
		const char *method = json_string_value(json_object_get(root, "method"));
		if (reported_event(root, method))
			FUZZ_CHECK(rc == 1);
		if (json_is_object(root) && !json_is_integer(json_object_get(root, "id")) &&
		    method != NULL &&
		    (strcmp(method, "Target.targetCreated") == 0 ||
		     strcmp(method, "Target.targetInfoChanged") == 0 ||
		     strcmp(method, "Target.attachedToTarget") == 0)) {
			json_t *info = json_object_get(json_object_get(root, "params"),
						       "targetInfo");
			const char *ctx = json_string_value(
			    json_object_get(info, "browserContextId"));
			if (ctx != NULL && ctx[0] != '\0' && run->failure[0] == '\0')
				FUZZ_CHECK(was_denied(denied, ndenied, ctx));
		}
		json_decref(root);
		p = nul + 1;
	}
}

static bool same_runs(const struct cdp_run *a, const struct cdp_run *b)
{
	if (a->nevents != b->nevents || a->commands_len != b->commands_len ||
	    a->started != b->started || strcmp(a->failure, b->failure) != 0 ||
	    memcmp(a->commands, b->commands, a->commands_len) != 0)
		return false;
	for (size_t i = 0; i < a->nevents; i++)
		if (strcmp(a->events[i], b->events[i]) != 0)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[] = { 1, 7, 64, 1000 };
	static struct cdp_run whole, split;
	if (size < 1)
		return 0;
	bool start = (data[0] & 1) != 0, tick = (data[0] & 8) != 0;
	size_t piece = pieces[(data[0] >> 1) & 3];
	data++;
	size--;
	if (piece == 1 && size > 512)
		piece = 7; /* a read per byte: keep the run short */

	run_cdp(data, size, start, size > 0 ? size : 1, tick, &whole);
	run_cdp(data, size, start, piece, tick, &split);
	FUZZ_CHECK(same_runs(&whole, &split));

	check_events(&whole);
	static char denied[CDP_CONTEXTS_MAX * (CDP_CONTEXT_ID_MAX + 1)];
	size_t ndenied = check_commands(&whole, start, denied, sizeof denied);
	check_messages(data, size, &whole, denied, ndenied);
	if (whole.started)
		FUZZ_CHECK(start && whole.failure[0] == '\0');
	free_run(&whole);
	free_run(&split);
	return 0;
}
