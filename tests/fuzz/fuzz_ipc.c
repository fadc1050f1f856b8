/*
 * fuzz_ipc.c: libFuzzer target for the control channel between the gateway
 * and a session worker (a SOCK_SEQPACKET socketpair; the worker side runs
 * the browser, so what it sends is hostile): proxy/common/ipc.c's framing,
 * and the gateway's handling of each message in
 * proxy/gateway/gateway_session.c (with gateway_proc.c, the worker's spawn
 * and reaping), compiled in as they are with the rest of the gateway
 * stubbed (gw_stubs.c): READY, ENDED with its reason, EVENT with
 * a browser event for the audit log; anything else, a passed descriptor or
 * a malformed packet is the worker breaking the protocol.
 *
 * Input byte 0: bit 0 the session has a viewer; bit 1 an administrator
 * ends the session before the worker's messages (STOP sent); bit 2 the
 * worker's exit is reaped before its control socket closes (else after);
 * bit 3 framing only: each packet goes straight to ipc_recv(). The rest is
 * packets, each a 2-byte big-endian header (bits 0..13 the length, cut to
 * the bytes left; bit 15 a descriptor is passed with it) and its bytes.
 *
 * A session's whole life runs over a real socketpair: attach (the viewer),
 * spawned (SETTINGS sent), the packets, the worker exits, reaped. Invariants,
 * each an abort():
 *  - framing only: ipc_recv() gives 1 exactly for a well-formed packet
 *    (header, length field = payload bytes <= IPC_PAYLOAD_MAX, a known type),
 *    with its type, payload and a NUL after it, and the descriptor passed;
 *    else -1 with errno EPROTO, a printable reason and no descriptor;
 *  - the gateway reads packets in order and stops at the first that breaks
 *    the protocol (then it closes the channel): each EVENT before it whose
 *    JSON names a known event gives exactly one audit record of that name,
 *    nothing else does;
 *  - a browser event's record holds exactly its kind's fields, each a string
 *    of at most 2047 bytes of valid UTF-8 without control characters (C0,
 *    DEL, C1): the worker's own when it was such text and short enough, its
 *    start with a U+2026 when it was longer, "" when it sent none;
 *  - the settings the gateway sends are a JSON object the worker accepts;
 *  - a viewer is closed with 4002/4003 and a reason of at most 123 bytes of
 *    valid UTF-8 (RFC 6455);
 *  - after every step the session runs exactly its state's timers
 *    (session_set_state()): STARTING the start deadline, the limits and the
 *    grace without a viewer; READY the limits and the grace without a
 *    viewer; ENDING the kill deadline only; DEAD none;
 *  - in the end the session is gone, every one of its timers cancelled,
 *    every descriptor closed, and its session_end record has all its fields;
 *  - no log line of the gateway holds a control character.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_stubs.h"
#include "ipc.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PACKET_MAX 8300 /* over what ipc_recv() takes, to reach its truncation */
#define FUZZ_PACKETS_MAX 512

struct packet {
	const uint8_t *bytes;
	size_t len;
	bool with_fd;
};

static int devnull = -1;
static dev_t devnull_dev;
static ino_t devnull_ino;
static int lowest_free_fd;

static void init(void)
{
	if (devnull >= 0)
		return;
	fuzz_log_one_line = true;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	FUZZ_CHECK(devnull >= 0);
	struct stat st;
	FUZZ_CHECK(fstat(devnull, &st) == 0);
	devnull_dev = st.st_dev;
	devnull_ino = st.st_ino;
	lowest_free_fd = dup(0);
	FUZZ_CHECK(lowest_free_fd >= 0);
	close(lowest_free_fd);
	signal(SIGPIPE, SIG_IGN);
}

static size_t split(const uint8_t *data, size_t size, struct packet *p)
{
	size_t n = 0;
	while (size >= 2 && n < FUZZ_PACKETS_MAX) {
		size_t len = ((size_t)data[0] << 8 | data[1]) & 0x3fff;
		p[n].with_fd = (data[0] & 0x80) != 0;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > FUZZ_PACKET_MAX)
			len = FUZZ_PACKET_MAX;
		p[n].bytes = data;
		p[n].len = len;
		n++;
		data += len;
		size -= len;
	}
	return n;
}

/* 1 sent, 0 the receiver's buffer is full, -1 the channel is closed. */
static int send_packet(int sock, const struct packet *p)
{
	struct iovec iov = { (void *)p->bytes, p->len };
	ssize_t n = ipc_sendmsg(sock, &iov, 1, p->with_fd ? devnull : -1);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return 0;
	if (n < 0)
		return -1;
	FUZZ_CHECK((size_t)n == p->len);
	return 1;
}

static bool same_file_as_devnull(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_dev == devnull_dev && st.st_ino == devnull_ino;
}

/* What the framing makes of a packet: 1 a message, -1 malformed. */
static int well_formed(const struct packet *p, struct ipc_header *h)
{
	if (p->len < sizeof *h)
		return -1;
	memcpy(h, p->bytes, sizeof *h);
	if (h->len > IPC_PAYLOAD_MAX || h->len != p->len - sizeof *h)
		return -1;
	if (h->type == 0 || h->type >= IPC_TYPE_MAX)
		return -1;
	return 1;
}

/* ---- framing only ---------------------------------------------------------- */

static void fuzz_framing(const struct packet *p, size_t n)
{
	int sp[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	static char payload[IPC_PAYLOAD_MAX + 1];
	for (size_t i = 0; i < n; i++) {
		if (p[i].len == 0)
			continue; /* an empty packet reads as the end of the channel */
		FUZZ_CHECK(send_packet(sp[1], &p[i]) == 1);
		struct ipc_header hdr, want;
		char err[128];
		int fd = -2;
		memset(err, 'x', sizeof err);
		errno = 0;
		int r = ipc_recv(sp[0], &hdr, payload, &fd, err, sizeof err);
		if (well_formed(&p[i], &want) == 1) {
			FUZZ_CHECK(r == 1);
			FUZZ_CHECK(hdr.type == want.type && hdr.len == want.len);
			FUZZ_CHECK(memcmp(payload, p[i].bytes + sizeof want, want.len) == 0);
			FUZZ_CHECK(payload[want.len] == '\0');
			if (p[i].with_fd) {
				FUZZ_CHECK(fd >= 0 && same_file_as_devnull(fd));
				FUZZ_CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
				close(fd);
			} else {
				FUZZ_CHECK(fd == -1);
			}
		} else {
			FUZZ_CHECK(r == -1 && errno == EPROTO && fd == -1);
			const char *end = memchr(err, '\0', sizeof err);
			FUZZ_CHECK(end != NULL && end > err);
			FUZZ_CHECK(fuzz_printable(err, (size_t)(end - err)));
		}
	}
	close(sp[0]);
	close(sp[1]);
}

/* ---- the gateway's side ---------------------------------------------------- */

static const char *const known_events[] = { "navigate",         "new_tab",
					    "download_blocked", "file_dialog_blocked",
					    "shortcut_blocked", "limit_exceeded" };

/* The fields the gateway keeps of a browser event. */
static const char *const *event_fields(const char *event)
{
	static const char *const keys[] = { "keys", NULL };
	static const char *const limit[] = { "limit", "detail", NULL };
	static const char *const download[] = { "url", "filename", "target", NULL };
	static const char *const page[] = { "url", "title", "target", NULL };
	if (strcmp(event, "shortcut_blocked") == 0)
		return keys;
	if (strcmp(event, "limit_exceeded") == 0)
		return limit;
	if (strcmp(event, "download_blocked") == 0)
		return download;
	return page;
}

/* The event a packet's payload names for the audit log, or NULL. */
static const char *known_event(const struct packet *p, json_t **in)
{
	char *text = malloc(p->len - sizeof(struct ipc_header) + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, p->bytes + sizeof(struct ipc_header), p->len - sizeof(struct ipc_header));
	text[p->len - sizeof(struct ipc_header)] = '\0';
	*in = json_loads(text, JSON_REJECT_DUPLICATES, NULL); /* up to a NUL, as the gateway */
	free(text);
	const char *event = json_string_value(json_object_get(*in, "event"));
	for (size_t i = 0; event != NULL && i < sizeof known_events / sizeof known_events[0]; i++)
		if (strcmp(event, known_events[i]) == 0)
			return known_events[i];
	json_decref(*in);
	*in = NULL;
	return NULL;
}

/* Whether s[0 .. len) is valid UTF-8 with no C0 control, DEL or C1 control. */
static bool clean_text(const char *s, size_t len)
{
	if (!fuzz_utf8_valid(s, len) || !fuzz_printable(s, len))
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
			return false; /* U+0080..U+009F */
	return true;
}

/*
 * A kept field: the worker's string when it is clean text of at most 2047
 * bytes, else cleaned (utf8_clean(): '?' for what is not) and cut between
 * characters with a U+2026 at the end; "" when it sent none or no string.
 */
static void check_field(json_t *fields, json_t *in, const char *key)
{
	static const char mark[] = "\xe2\x80\xa6";
	json_t *v = json_object_get(fields, key);
	FUZZ_CHECK(json_is_string(v));
	const char *got = json_string_value(v);
	size_t len = json_string_length(v);
	FUZZ_CHECK(strlen(got) == len && len <= 2047);
	FUZZ_CHECK(clean_text(got, len));
	const char *sent = json_string_value(json_object_get(in, key));
	size_t sent_len = sent != NULL ? strlen(sent) : 0;
	if (sent == NULL) {
		FUZZ_CHECK(len == 0);
	} else if (clean_text(sent, sent_len) && sent_len <= 2047) {
		FUZZ_CHECK(len == sent_len && memcmp(got, sent, len) == 0);
	} else if (clean_text(sent, sent_len)) {
		/* cut: a prefix, at most a character and the mark short of the cap */
		FUZZ_CHECK(len >= 2047 - 3 - 3 && len >= 3);
		FUZZ_CHECK(memcmp(got + len - 3, mark, 3) == 0);
		FUZZ_CHECK(memcmp(got, sent, len - 3) == 0);
	}
}

static void check_event_record(const struct fuzz_audit *a, const char *event, json_t *in,
			       const struct gw_session *s)
{
	FUZZ_CHECK(strcmp(a->event, event) == 0);
	FUZZ_CHECK(strcmp(a->user, "yamada") == 0 && strcmp(a->session, s->id) == 0);
	const char *const *keys = event_fields(event);
	size_t n = 0;
	for (const char *const *k = keys; *k != NULL; k++, n++)
		check_field(a->fields, in, *k);
	FUZZ_CHECK(json_object_size(a->fields) == n);
}

/* s runs exactly the timers of its state (session_set_state()'s table); a live
   session whose worker closed its control socket waits for the exit's report
   on the kill timer. */
static void check_timers(const struct gw_session *s)
{
	bool live = s->state == GW_SESSION_STARTING || s->state == GW_SESSION_READY;
	bool limits = gw->limits.idle_timeout_s > 0 || gw->limits.max_session_s > 0;
	bool kill = s->state == GW_SESSION_STARTING || s->state == GW_SESSION_ENDING ||
	    (live && s->ctrl_eof);
	FUZZ_CHECK(fuzz_sul_pending(&s->kill_sul) == kill);
	FUZZ_CHECK(fuzz_sul_pending(&s->limit_sul) == (live && limits));
	FUZZ_CHECK(fuzz_sul_pending(&s->grace_sul) == (live && s->conn == NULL));
}

/* Call the control socket's callback while packets wait; -1 once it closed. */
static int pump(struct gw_session *s, struct lws **wsi, int *gw_fd)
{
	while (*wsi != NULL) {
		struct pollfd pfd = { .fd = *gw_fd, .events = POLLIN };
		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		if (session_ctl_callback(*wsi, LWS_CALLBACK_RAW_RX_FILE, NULL, NULL, 0) == 0) {
			check_timers(s);
			continue;
		}
		/* lws closes the connection: CLOSE_FILE, then the descriptor goes */
		FUZZ_CHECK(s->ctrl == *wsi && s->ctrl_fd == *gw_fd);
		session_ctl_callback(*wsi, LWS_CALLBACK_RAW_CLOSE_FILE, NULL, NULL, 0);
		check_timers(s); /* ENDING (not yet reaped) */
		close(*gw_fd);
		free(*wsi);
		*wsi = NULL;
		*gw_fd = -1;
		return -1;
	}
	return -1;
}

/* The settings the worker gets: what session_main.c's worker_read_settings() needs. */
static void check_settings(int worker_fd)
{
	struct ipc_header hdr;
	static char payload[IPC_PAYLOAD_MAX + 1];
	char err[128];
	int fd;
	FUZZ_CHECK(ipc_recv(worker_fd, &hdr, payload, &fd, err, sizeof err) == 1);
	FUZZ_CHECK(hdr.type == IPC_SETTINGS && fd == -1);
	json_t *o = json_loads(payload, 0, NULL);
	FUZZ_CHECK(json_is_object(o));
	static const char *const required[] = { "dir", "home_page", "chromium_path", "xvfb_path" };
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		FUZZ_CHECK(json_is_string(json_object_get(o, required[i])));
	FUZZ_CHECK(json_integer_value(json_object_get(o, "width")) == 1280);
	FUZZ_CHECK(json_integer_value(json_object_get(o, "height")) == 800);
	json_decref(o);
}

static void fuzz_gateway(uint8_t flags, const struct packet *p, size_t n)
{
	bool viewer = (flags & 1) != 0, stop_first = (flags & 2) != 0,
	     reaped_first = (flags & 4) != 0;
	fuzz_gw_reset();
	struct gw_conn *conn = calloc(1, sizeof *conn);
	FUZZ_CHECK(conn != NULL);
	conn->worker_fd = -1;
	snprintf(conn->user, sizeof conn->user, "yamada");
	snprintf(conn->peer, sizeof conn->peer, "192.0.2.1");
	struct ticket_grant grant = { .user = "yamada", .width = 1280, .height = 800 };
	FUZZ_CHECK(session_attach(conn, &grant) == 0);
	struct gw_session *s = conn->session;
	FUZZ_CHECK(s != NULL && s->state == GW_SESSION_STARTING && fuzz_spawns == 1);
	char id[sizeof s->id];
	memcpy(id, s->id, sizeof id);
	check_timers(s);
	if (!viewer)
		session_detach(conn);
	check_timers(s);

	int sp[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	int gw_fd = sp[0], worker_fd = sp[1];
	session_spawned(id, 4242, 60001, gw_fd, NULL);
	struct lws *wsi = s->ctrl;
	FUZZ_CHECK(wsi != NULL && s->ctrl_fd == gw_fd);
	check_settings(worker_fd);
	check_timers(s);
	if (stop_first) {
		session_end(s, GW_END_ADMIN, GW_CLOSE_ADMIN, "ended by an administrator");
		FUZZ_CHECK(s->state == GW_SESSION_ENDING);
		check_timers(s);
	}
	FUZZ_CHECK(fcntl(worker_fd, F_SETFL, O_NONBLOCK) == 0);

	/* What the gateway must make of the packets. */
	size_t audits_before = fuzz_naudits;
	size_t sent = 0;
	for (size_t i = 0; i < n && wsi != NULL; i++) {
		int r;
		while ((r = send_packet(worker_fd, &p[i])) == 0)
			if (pump(s, &wsi, &gw_fd) < 0) /* full: the gateway reads */
				r = -1;
		if (r < 0)
			break;
		sent++;
		if (i % 8 == 7)
			pump(s, &wsi, &gw_fd);
	}
	pump(s, &wsi, &gw_fd);

	/* The packets the gateway took, in order, and the records they gave. */
	size_t next = audits_before;
	bool broke = false;
	for (size_t i = 0; i < sent && !broke; i++) {
		struct ipc_header h;
		if (p[i].len == 0 || p[i].with_fd || well_formed(&p[i], &h) != 1 ||
		    (h.type != IPC_READY && h.type != IPC_ENDED && h.type != IPC_EVENT)) {
			broke = true;
			break;
		}
		if (h.type != IPC_EVENT)
			continue;
		json_t *in;
		const char *event = known_event(&p[i], &in);
		if (event == NULL)
			continue;
		int at = -1;
		for (size_t k = next; k < fuzz_naudits && at < 0; k++)
			for (size_t e = 0; e < sizeof known_events / sizeof known_events[0]; e++)
				if (strcmp(fuzz_audits[k].event, known_events[e]) == 0)
					at = (int)k;
		FUZZ_CHECK(at >= 0); /* every known event is audited */
		check_event_record(&fuzz_audits[at], event, in, s);
		json_decref(in);
		next = (size_t)at + 1;
	}
	/* ... and no browser event record more */
	for (size_t k = next; k < fuzz_naudits; k++)
		for (size_t e = 0; e < sizeof known_events / sizeof known_events[0]; e++)
			FUZZ_CHECK(strcmp(fuzz_audits[k].event, known_events[e]) != 0);
	if (broke)
		FUZZ_CHECK(wsi == NULL); /* the channel is closed */

	/* The worker's end: its exit reaped before or after its socket closes. */
	if (reaped_first) {
		session_exited(id, SIGKILL, 0, "");
		if (wsi != NULL) {
			FUZZ_CHECK(wsi->timeout_set); /* lws is told to close it */
			FUZZ_CHECK(session_find_id(id) != NULL && s->state == GW_SESSION_DEAD);
			check_timers(s);
			session_ctl_callback(wsi, LWS_CALLBACK_RAW_CLOSE_FILE, NULL, NULL, 0);
			close(gw_fd);
			free(wsi);
			wsi = NULL;
		}
		close(worker_fd);
	} else {
		close(worker_fd);
		if (wsi != NULL)
			FUZZ_CHECK(pump(s, &wsi, &gw_fd) == -1); /* EOF */
		FUZZ_CHECK(session_find_id(id) != NULL);
		session_exited(id, 0, 0, "");
	}

	/* Gone, with its timers, descriptors and its last record. */
	FUZZ_CHECK(session_find_id(id) == NULL && gw->sessions == NULL);
	FUZZ_CHECK(fuzz_suls_pending() == 0);
	int end = fuzz_audit_find("session_end", audits_before);
	FUZZ_CHECK(end >= 0 && fuzz_audit_find("session_end", (size_t)end + 1) < 0);
	json_t *f = fuzz_audits[end].fields;
	static const char *const end_keys[] = { "reason", "detail", "duration_s", "bytes_in",
						"bytes_out" };
	FUZZ_CHECK(f != NULL);
	for (size_t i = 0; i < sizeof end_keys / sizeof end_keys[0]; i++)
		FUZZ_CHECK(json_object_get(f, end_keys[i]) != NULL);
	for (size_t i = 0; i < fuzz_ncloses; i++) {
		const struct fuzz_close *c = &fuzz_closes[i];
		FUZZ_CHECK(c->conn == conn);
		FUZZ_CHECK(c->code == GW_CLOSE_SESSION_ENDED || c->code == GW_CLOSE_START_FAILED ||
			   c->code == GW_CLOSE_ADMIN);
		size_t len = strlen(c->reason);
		FUZZ_CHECK(len > 0 && len <= 123);
		FUZZ_CHECK(fuzz_utf8_valid(c->reason, len));
	}
	free(conn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct packet p[FUZZ_PACKETS_MAX];
	init();
	if (size < 1)
		return 0;
	size_t n = split(data + 1, size - 1, p);
	if (data[0] & 8)
		fuzz_framing(p, n);
	else
		fuzz_gateway(data[0], p, n);
	int probe = dup(0);
	FUZZ_CHECK(probe == lowest_free_fd); /* no descriptor left open */
	close(probe);
	fuzz_audits_clear();
	return 0;
}
