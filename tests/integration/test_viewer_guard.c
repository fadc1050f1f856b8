/*
 * test_viewer_guard.c: the viewer defends itself too (issue 10, item 3).
 *
 * The client core (pixelgate-viewer, pixelgatectl, the tests) runs the
 * gateway's server -> client parser on every byte from the server before
 * libvncclient reads it. The gateway refuses such streams itself, so these
 * tests put a hostile server in its place: a fake staff listener (fg_*) in
 * a child process of the test, libwebsockets over TLS on 127.0.0.1 with a
 * certificate from a throw-away CA that the client pins. It answers
 * POST /api/v1/login with a ticket and plays a canned RFB 3.8 server on
 * wss://.../rfb: ProtocolVersion, security [None], SecurityResult 0, a
 * ServerInit of the case's size, then the case's next canned bytes in
 * answer to each of the viewer's FramebufferUpdateRequests. It never closes
 * a connection itself: only the viewer can end it.
 *
 * Asserted is what the viewer's user and libvncclient see: the close code
 * and reason, the framebuffer's size and pixels, and that libvncclient's
 * callbacks (GotXCutText, MallocFrameBuffer, GotFrameBufferUpdate) never saw
 * what was refused; and, from the fake's log, the close frame it got. The
 * last test runs pixelgate-viewer itself (on an Xvfb of its own) against the
 * fake: the refusal ends the session on the login form like the gateway's
 * close reasons, and the viewer does not log in again.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FG_TICKET "fake-ticket-0123456789abcdef0123456789abcdef0123"
#define FG_USER "guard"
#define FG_PASSWORD "guard-password"
#define FG_W 640 /* the fake's session size */
#define FG_H 480
#define FG_MAX_REPLIES 2
#define FG_REPLY_MAX 8192 /* bytes of one canned reply */
#define FG_READY_S 30     /* the fake listens */
#define FG_CONNECT_S 30   /* login, WebSocket and RFB handshake */
#define FG_CLOSE_S 20     /* a refusal is seen closed */
#define FG_QUIET_S 8      /* how long the viewer is watched for another login */
#define FG_VIEWER PIXELGATE_BUILD_DIR "/pixelgate-viewer"
#define FG_XVFB "/usr/bin/Xvfb"

/* What the fake server plays. */
struct fg_case {
	uint16_t width, height;                      /* ServerInit's */
	uint8_t reply[FG_MAX_REPLIES][FG_REPLY_MAX]; /* after the viewer's 1st, 2nd update request */
	size_t reply_len[FG_MAX_REPLIES];
	bool bytewise; /* every byte in a WebSocket message of its own */
};

/* The fake of the running test, and the test's connection to it. */
static struct {
	struct fg_case cs;
	char dir[64]; /* its certificates and log (removed by fg_stop) */
	char ca_file[128];
	char cert[128];
	char key[128];
	char log[128];
	pid_t pid;
	int port;
	struct pgc_conn *conn;
	pid_t xvfb_pid;
	pid_t viewer_pid;
	char viewer_log[128];
} fg;

/* What libvncclient and the client core's callbacks saw. */
static struct {
	int resized; /* fb_resized calls (MallocFrameBuffer) */
	int width, height;
	int updates;   /* fb_update calls (GotFrameBufferUpdate) */
	int frames;    /* frame_done calls */
	int cut_texts; /* GotXCutText calls */
	int bells;     /* Bell calls */
} seen;

/* ---- the fake server (child process) ------------------------------------- */

static volatile sig_atomic_t fg_stopping;
static int fg_log_fd = -1;

/* One WebSocket connection of the fake. */
struct fg_ws {
	uint8_t out[4 * FG_REPLY_MAX];
	size_t out_len; /* queued */
	size_t out_off; /* of which sent */
	uint64_t rx;    /* viewer bytes so far */
	uint8_t msg[8]; /* the head of the viewer's current message */
	size_t have;
	uint32_t skip; /* bytes of it left after the head */
	int requests;  /* FramebufferUpdateRequests seen */
};

static void fg_sigterm(int sig)
{
	(void)sig;
	fg_stopping = 1;
}

/* Queues bytes for the viewer. */
static void fg_queue(struct lws *wsi, struct fg_ws *w, const void *p, size_t n)
{
	if (n > sizeof w->out - w->out_len) {
		dprintf(fg_log_fd, "fake: output full\n");
		return;
	}
	memcpy(w->out + w->out_len, p, n);
	w->out_len += n;
	lws_callback_on_writable(wsi);
}

static void fg_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ServerInit: the case's size, 32-bit true colour, name "fake". */
static void fg_server_init(struct lws *wsi, struct fg_ws *w)
{
	uint8_t si[28] = { 0 };

	fg_put16(si, fg.cs.width);
	fg_put16(si + 2, fg.cs.height);
	si[4] = 32; /* bits per pixel */
	si[5] = 24; /* depth */
	si[6] = 0;  /* little endian */
	si[7] = 1;  /* true colour */
	fg_put16(si + 8, 255);
	fg_put16(si + 10, 255);
	fg_put16(si + 12, 255);
	si[14] = 16; /* red shift */
	si[15] = 8;
	si[16] = 0;
	fg_put32(si + 20, 4);
	memcpy(si + 24, "fake", 4);
	fg_queue(wsi, w, si, sizeof si);
}

/* The size of the viewer's message whose first have bytes are in m (its
   head; ClientCutText's text is skipped), 0 if unknown. */
static size_t fg_client_size(const uint8_t *m, size_t have)
{
	switch (m[0]) {
	case 0:
		return 20;
	case 2:
		return have < 4 ? 4 : 4 + 4 * (size_t)(m[2] << 8 | m[3]);
	case 3:
		return 10;
	case 4:
		return 8;
	case 5:
		return 6;
	case 6:
		return 8;
	default:
		return 0;
	}
}

/* The viewer's bytes: its handshake, then its messages (answers to the
   update requests). */
static void fg_from_viewer(struct lws *wsi, struct fg_ws *w, const uint8_t *b, size_t n)
{
	static const uint8_t security[2] = { 1, 1 }, result[4] = { 0, 0, 0, 0 };

	for (size_t i = 0; i < n; i++) {
		if (w->rx < 14) { /* version (12), security type (1), ClientInit (1) */
			w->rx++;
			if (w->rx == 12)
				fg_queue(wsi, w, security, sizeof security);
			else if (w->rx == 13)
				fg_queue(wsi, w, result, sizeof result);
			else if (w->rx == 14)
				fg_server_init(wsi, w);
			continue;
		}
		w->rx++;
		if (w->skip) {
			w->skip--;
			continue;
		}
		if (w->have < sizeof w->msg)
			w->msg[w->have] = b[i];
		w->have++;
		size_t size = fg_client_size(w->msg, w->have);
		if (size == 0) {
			dprintf(fg_log_fd, "fake: unknown message type %u from the viewer\n",
				w->msg[0]);
			w->have = 0;
			continue;
		}
		if (w->have < (size < sizeof w->msg ? size : sizeof w->msg))
			continue;
		if (w->msg[0] == 6)
			w->skip = (uint32_t)w->msg[4] << 24 | (uint32_t)w->msg[5] << 16 |
			    (uint32_t)w->msg[6] << 8 | w->msg[7];
		else
			w->skip = (uint32_t)(size - w->have);
		if (w->msg[0] == 3) {
			dprintf(fg_log_fd, "fake: update request %d\n", w->requests + 1);
			if (w->requests < FG_MAX_REPLIES && fg.cs.reply_len[w->requests])
				fg_queue(wsi, w, fg.cs.reply[w->requests],
					 fg.cs.reply_len[w->requests]);
			w->requests++;
		}
		w->have = 0;
	}
}

/* The next piece of what is queued (one byte if the case says so). */
static int fg_write(struct lws *wsi, struct fg_ws *w)
{
	uint8_t buf[LWS_PRE + 4096];
	size_t n = w->out_len - w->out_off;

	if (!n)
		return 0;
	if (n > 4096)
		n = 4096;
	if (fg.cs.bytewise)
		n = 1;
	memcpy(buf + LWS_PRE, w->out + w->out_off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
		return -1;
	w->out_off += n;
	if (w->out_off == w->out_len)
		w->out_off = w->out_len = 0;
	else
		lws_callback_on_writable(wsi);
	return 0;
}

/* The "binary" WebSocket protocol of the fake. */
static int fg_ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	static const char version[] = "RFB 003.008\n";
	struct fg_ws *w = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(w, 0, sizeof *w);
		dprintf(fg_log_fd, "fake: WebSocket open\n");
		fg_queue(wsi, w, version, sizeof version - 1);
		break;
	case LWS_CALLBACK_RECEIVE:
		fg_from_viewer(wsi, w, in, len);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return fg_write(wsi, w);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (in && len >= 2)
			dprintf(fg_log_fd, "fake: closed by the viewer: %d %.*s\n",
				((const uint8_t *)in)[0] << 8 | ((const uint8_t *)in)[1],
				(int)len - 2, (const char *)in + 2);
		else
			dprintf(fg_log_fd, "fake: closed by the viewer without a code\n");
		break;
	case LWS_CALLBACK_CLOSED:
		dprintf(fg_log_fd, "fake: WebSocket closed\n");
		break;
	default:
		break;
	}
	return 0;
}

/* A complete JSON answer. Returns what the callback returns. */
static int fg_http_reply(struct lws *wsi, unsigned status, const char *json)
{
	uint8_t head[LWS_PRE + 512], body[LWS_PRE + 512];
	uint8_t *start = head + LWS_PRE, *p = start, *end = head + sizeof head - 1;
	size_t n = strlen(json);

	if (lws_add_http_common_headers(wsi, status, "application/json", (lws_filepos_t)n, &p,
					end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	memcpy(body + LWS_PRE, json, n);
	if (lws_write(wsi, body + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) != (int)n)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The HTTP side of the fake: POST /api/v1/login gets a ticket. */
static int fg_http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (in && strcmp(in, "/api/v1/login") == 0 &&
		    lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
			return 0; /* the answer after the body */
		return fg_http_reply(wsi, 404, "{\"error\":\"not_found\"}");
	case LWS_CALLBACK_HTTP_BODY:
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		dprintf(fg_log_fd, "fake: login\n");
		return fg_http_reply(wsi, 200, "{\"ticket\":\"" FG_TICKET "\",\"expires_in\":30}");
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols fg_protocols[] = { { "http", fg_http_cb, 0, 0, 0, NULL, 0 },
						     { "binary", fg_ws_cb, sizeof(struct fg_ws),
						       65536, 0, NULL, 0 },
						     { NULL, NULL, 0, 0, 0, NULL, 0 } };

/* The child: serves until SIGTERM; its port goes to port_fd. Never returns. */
static void fg_serve(int port_fd)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fg_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = 0; /* any free port */
	info.iface = "127.0.0.1";
	info.protocols = fg_protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.ssl_cert_filepath = fg.cert;
	info.ssl_private_key_filepath = fg.key;
	info.gid = -1;
	info.uid = -1;
	ctx = lws_create_context(&info);
	if (!ctx) {
		dprintf(fg_log_fd, "fake: cannot create the lws context\n");
		_exit(1);
	}
	dprintf(port_fd, "%d\n", lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default")));
	close(port_fd);
	while (!fg_stopping)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
	dprintf(fg_log_fd, "fake: stopped\n");
	_exit(0);
}

/* ---- the test's side -------------------------------------------------------- */

/* Teardown (it_at_stop): the viewer and its Xvfb, the connection, the fake
   (it must stop on SIGTERM with status 0 and have no sanitizer report),
   its files. */
static void fg_stop(char *problems, size_t len)
{
	char first[300];
	int status = 0;
	size_t used;

	if (fg.viewer_pid > 0) {
		bool was_running = it_extra_running(fg.viewer_pid, NULL);

		status = it_extra_stop(fg.viewer_pid, 15);
		if (was_running && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			used = strlen(problems);
			snprintf(problems + used, len - used,
				 "%sthe viewer did not exit cleanly on SIGTERM (status 0x%x)",
				 used ? "; " : "", (unsigned)status);
		}
		fg.viewer_pid = 0;
	}
	if (fg.xvfb_pid > 0) {
		it_extra_stop(fg.xvfb_pid, 10);
		fg.xvfb_pid = 0;
	}
	pgc_free(fg.conn);
	fg.conn = NULL;
	if (fg.pid > 0) {
		kill(fg.pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(fg.pid, &status, WNOHANG) == 0; i++)
			usleep(100000);
		if (waitpid(fg.pid, &status, WNOHANG) == 0) {
			kill(fg.pid, SIGKILL);
			waitpid(fg.pid, &status, 0);
			status = -1;
		}
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			used = strlen(problems);
			snprintf(problems + used, len - used,
				 "%sthe fake server did not stop cleanly (status 0x%x)",
				 used ? "; " : "", (unsigned)status);
		}
		fg.pid = 0;
	}
	if (fg.log[0] && it_log_reports(fg.log, first, sizeof first) > 0) {
		used = strlen(problems);
		snprintf(problems + used, len - used, "%sthe fake server's log: %s",
			 used ? "; " : "", first);
	}
	if (fg.log[0] && (it.failed || problems[0] || getenv("PIXELGATE_IT_KEEP_LOGS"))) {
		char cmd[400];

		mkdir("/tmp/pixelgate-it-logs", 0755);
		snprintf(cmd, sizeof cmd, "cp '%s' '/tmp/pixelgate-it-logs/%s-fake.log'", fg.log,
			 it.test_name);
		if (system(cmd) == 0)
			fprintf(stderr,
				"*** kept the fake server's log: "
				"/tmp/pixelgate-it-logs/%s-fake.log\n",
				it.test_name);
	}
	if (fg.dir[0]) {
		char cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", fg.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "*** could not remove %s\n", fg.dir);
	}
	if (fg_log_fd >= 0)
		close(fg_log_fd);
	fg_log_fd = -1;
	memset(&fg, 0, sizeof fg);
}

/* Runs a shell command; fails the test with its output if it fails. */
static void fg_sh(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof full, "(%s) >>'%s' 2>&1", cmd, fg.log);
	IT_ASSERT(system(full) == 0, "command failed: %s (see %s)", cmd, fg.log);
}

/* Makes the certificates and starts the fake with case cs (copied). */
static void fg_start(const char *test_name, const struct fg_case *cs)
{
	char cmd[1536], line[32];
	int pfd[2];
	pid_t parent = getpid();

	memset(&it, 0, sizeof it);
	memset(&seen, 0, sizeof seen);
	snprintf(it.test_name, sizeof it.test_name, "%s", test_name);
	it_at_stop(fg_stop);
	fg.cs = *cs;
	snprintf(fg.dir, sizeof fg.dir, "/tmp/pixelgate-guard.XXXXXX");
	IT_ASSERT(mkdtemp(fg.dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(fg.log, sizeof fg.log, "%s/fake.log", fg.dir);
	snprintf(fg.ca_file, sizeof fg.ca_file, "%s/ca.crt", fg.dir);
	snprintf(fg.cert, sizeof fg.cert, "%s/server.crt", fg.dir);
	snprintf(fg.key, sizeof fg.key, "%s/server.key", fg.dir);
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && printf 'subjectAltName = IP:127.0.0.1\\nbasicConstraints = "
		 "CA:FALSE\\nextendedKeyUsage = serverAuth\\n' >server.ext && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout ca.key -out ca.crt -days 3 -subj '/CN=pixelgate guard test CA' "
		 "-addext basicConstraints=critical,CA:TRUE "
		 "-addext keyUsage=critical,keyCertSign,cRLSign && "
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout server.key -out server.csr -subj '/CN=127.0.0.1' && "
		 "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
		 "-out server.crt -days 3 -extfile server.ext && chmod 600 server.key ca.key",
		 fg.dir);
	fg_sh(cmd);

	fg_log_fd = open(fg.log, O_WRONLY | O_APPEND | O_CLOEXEC);
	IT_ASSERT(fg_log_fd >= 0, "open %s: %s", fg.log, strerror(errno));
	IT_ASSERT(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	fg.pid = fork();
	IT_ASSERT(fg.pid >= 0, "fork: %s", strerror(errno));
	if (fg.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(pfd[0]);
		dup2(fg_log_fd, 2);
		fg_serve(pfd[1]);
	}
	close(pfd[1]);
	it_read_line(pfd[0], line, sizeof line, FG_READY_S);
	close(pfd[0]);
	fg.port = atoi(line);
	IT_ASSERT(fg.port > 0, "the fake server did not say its port within %d s (got \"%s\")",
		  FG_READY_S, line);
	fprintf(stderr, "[%s] fake server on 127.0.0.1:%d, %ux%u\n", it.test_name, fg.port,
		cs->width, cs->height);
}

static void on_resized(void *user, const struct pgc_fb *fb)
{
	(void)user;
	seen.resized++;
	seen.width = fb->width;
	seen.height = fb->height;
}

static void on_update(void *user, const struct pgc_fb *fb, int x, int y, int w, int h)
{
	(void)user;
	(void)fb;
	(void)x;
	(void)y;
	(void)w;
	(void)h;
	seen.updates++;
}

static void on_frame(void *user)
{
	(void)user;
	seen.frames++;
}

static void on_cut_text(rfbClient *cl, const char *text, int textlen)
{
	(void)cl;
	(void)text;
	(void)textlen;
	seen.cut_texts++;
}

static void on_bell(rfbClient *cl)
{
	(void)cl;
	seen.bells++;
}

/*
 * Logs in to the fake and connects with callbacks that count what
 * libvncclient hands on. Returns the connection (fg.conn), or NULL with the
 * reason in err when the connect failed.
 */
static struct pgc_conn *fg_connect(char *err, size_t errlen)
{
	struct pgc_server srv = { "127.0.0.1", fg.port, fg.ca_file };
	struct pgc_callbacks cb = {
		.user = NULL,
		.fb_resized = on_resized,
		.fb_update = on_update,
		.frame_done = on_frame,
	};
	struct pgc_login_result res;
	int status = 0;

	IT_ASSERT(pgc_login(&srv, FG_USER, FG_PASSWORD, FG_W, FG_H, &res) == 0,
		  "login at the fake failed: %d %s", res.http_status, res.message);
	IT_ASSERT(strcmp(res.ticket, FG_TICKET) == 0, "ticket \"%s\"", res.ticket);
	fg.conn = pgc_connect_cb(&srv, res.ticket, &cb, err, errlen, &status);
	if (fg.conn) {
		pgc_rfb(fg.conn)->GotXCutText = on_cut_text;
		pgc_rfb(fg.conn)->Bell = on_bell;
	}
	return fg.conn;
}

/* Pumps the connection until it closes (true) or FG_CLOSE_S passed. */
static bool fg_wait_closed(void)
{
	double end = it_now_s() + FG_CLOSE_S;

	while (!pgc_closed(fg.conn) && it_now_s() < end)
		if (pgc_pump(fg.conn, 200) < 0)
			break;
	return pgc_closed(fg.conn);
}

/* Waits up to timeout_s until the fake's log has a line with needle. */
static bool fg_wait_log(const char *path, const char *needle, double timeout_s)
{
	double end = it_now_s() + timeout_s;

	while (it_file_count(path, needle) == 0 && it_now_s() < end)
		it_sleep_ms(100);
	return it_file_count(path, needle) > 0;
}

/* ---- canned RFB ------------------------------------------------------------ */

/* Appends a rectangle header. */
static uint8_t *fg_rect(uint8_t *p, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc)
{
	fg_put16(p, x);
	fg_put16(p + 2, y);
	fg_put16(p + 4, w);
	fg_put16(p + 6, h);
	fg_put32(p + 8, (uint32_t)enc);
	return p + 12;
}

/* Appends a FramebufferUpdate header of n rectangles. */
static uint8_t *fg_update(uint8_t *p, unsigned n)
{
	p[0] = 0;
	p[1] = 0;
	fg_put16(p + 2, n);
	return p + 4;
}

/* Appends a pixel in the viewer's format (libvncclient's 32-bit little-
   endian, red at bit 0). */
static uint8_t *fg_pixel(uint8_t *p, uint8_t r, uint8_t g, uint8_t b)
{
	p[0] = r;
	p[1] = g;
	p[2] = b;
	p[3] = 0;
	return p + 4;
}

/* Appends a 16x16 Raw rectangle at x, y of one colour. */
static uint8_t *fg_raw16(uint8_t *p, unsigned x, unsigned y, uint8_t r, uint8_t g, uint8_t b)
{
	p = fg_rect(p, x, y, 16, 16, 0);
	for (int i = 0; i < 16 * 16; i++)
		p = fg_pixel(p, r, g, b);
	return p;
}

/* Finishes reply k of cs at end. */
static void fg_set(struct fg_case *cs, int k, const uint8_t *end)
{
	cs->reply_len[k] = (size_t)(end - cs->reply[k]);
}

/* A case of the session size with no replies. */
static void fg_case_init(struct fg_case *cs)
{
	memset(cs, 0, sizeof *cs);
	cs->width = FG_W;
	cs->height = FG_H;
}

/*
 * A case of the session size whose first reply is a valid update (a red
 * square at 0,0): the hostile bytes go into reply[1], sent once libvncclient
 * decoded that update, in pgc_pump() after pgc_connect() returned. Returns
 * where reply[1] starts.
 */
static uint8_t *fg_case_hostile(struct fg_case *cs)
{
	uint8_t *p;

	fg_case_init(cs);
	p = fg_update(cs->reply[0], 1);
	p = fg_raw16(p, 0, 0, 255, 0, 0);
	fg_set(cs, 0, p);
	return cs->reply[1];
}

/* The colour of the framebuffer at x, y. */
static void fg_fb_colour(int x, int y, int *r, int *g, int *b)
{
	rfbClient *cl = pgc_rfb(fg.conn);
	const uint8_t *px = (const uint8_t *)cl->frameBuffer + ((size_t)y * cl->width + x) * 4;
	uint32_t v = (uint32_t)px[0] | (uint32_t)px[1] << 8 | (uint32_t)px[2] << 16 |
	    (uint32_t)px[3] << 24;

	*r = (int)(v >> cl->format.redShift & 0xff);
	*g = (int)(v >> cl->format.greenShift & 0xff);
	*b = (int)(v >> cl->format.blueShift & 0xff);
}

/* Asserts the connection closed with the guard's code and a reason
   "the server sent data this viewer refuses: <want...>", and that the fake
   got the viewer's close frame (1008). */
static void fg_assert_refused(const char *want)
{
	char expect[256];
	const char *reason;

	IT_ASSERT(fg_wait_closed(),
		  "the viewer is still connected %d s after the hostile bytes "
		  "(frames %d, cut texts %d)",
		  FG_CLOSE_S, seen.frames, seen.cut_texts);
	reason = pgc_close_reason(fg.conn);
	fprintf(stderr, "[%s] closed: %d \"%s\"\n", it.test_name, pgc_close_code(fg.conn), reason);
	IT_ASSERT(pgc_close_code(fg.conn) == PGC_CLOSE_REFUSED, "closed with %d \"%s\", want %d",
		  pgc_close_code(fg.conn), reason, PGC_CLOSE_REFUSED);
	snprintf(expect, sizeof expect, "the server sent data this viewer refuses: %s", want);
	IT_ASSERT(strncmp(reason, expect, strlen(expect)) == 0,
		  "close reason \"%s\", want \"%s...\"", reason, expect);
	IT_ASSERT(fg_wait_log(fg.log, "fake: closed by the viewer: 1008 ", FG_CLOSE_S),
		  "the fake server got no close frame 1008 from the viewer");
}

/* ---- the tests ------------------------------------------------------------- */

/* 1. A stream of what the viewer asked for passes, even one byte per
   WebSocket message (every field cut short waits for its rest): a DesktopSize
   repeating the session's size, Raw, Hextile, CopyRect, then a Bell. */
IT_TEST(viewer, guard_passes_normal_stream)
{
	static struct fg_case cs;
	uint8_t *p;
	char err[512];
	double end;
	int r, g, b;

	fg_case_init(&cs);
	cs.bytewise = true;
	p = fg_update(cs.reply[0], 4);
	p = fg_rect(p, 0, 0, FG_W, FG_H, -223); /* DesktopSize, the same size */
	p = fg_raw16(p, 0, 0, 255, 0, 0);
	p = fg_rect(p, 16, 0, 16, 16, 5); /* Hextile: one tile, background green */
	*p++ = 2;
	p = fg_pixel(p, 0, 255, 0);
	p = fg_rect(p, 32, 0, 16, 16, 1); /* CopyRect of the red one */
	fg_put16(p, 0);
	fg_put16(p + 2, 0);
	p += 4;
	*p++ = 2; /* Bell */
	fg_set(&cs, 0, p);
	fg_start("viewer_guard_passes_normal_stream", &cs);

	IT_ASSERT(fg_connect(err, sizeof err) != NULL, "connect: %s", err);
	for (end = it_now_s() + FG_CONNECT_S;
	     (seen.frames < 1 || seen.bells < 1) && it_now_s() < end && !pgc_closed(fg.conn);)
		pgc_pump(fg.conn, 200);
	IT_ASSERT(seen.frames == 1 && seen.bells == 1,
		  "%d frames and %d bells decoded, want 1 and 1 (%s)", seen.frames, seen.bells,
		  pgc_closed(fg.conn) ? pgc_close_reason(fg.conn) : "open");
	IT_ASSERT(it_pump_for(fg.conn, 1000), "closed after a valid stream: %d %s",
		  pgc_close_code(fg.conn), pgc_close_reason(fg.conn));
	IT_ASSERT(seen.resized == 2 && seen.width == FG_W && seen.height == FG_H,
		  "framebuffer allocated %d times, last %dx%d; want 2 at %dx%d", seen.resized,
		  seen.width, seen.height, FG_W, FG_H);
	IT_ASSERT(seen.updates == 3, "%d rectangles decoded, want 3", seen.updates);
	fg_fb_colour(5, 5, &r, &g, &b);
	IT_ASSERT(r == 255 && g == 0 && b == 0, "Raw: rgb(%d,%d,%d) at 5,5, want red", r, g, b);
	fg_fb_colour(21, 5, &r, &g, &b);
	IT_ASSERT(r == 0 && g == 255 && b == 0, "Hextile: rgb(%d,%d,%d) at 21,5, want green", r, g,
		  b);
	fg_fb_colour(37, 5, &r, &g, &b);
	IT_ASSERT(r == 255 && g == 0 && b == 0, "CopyRect: rgb(%d,%d,%d) at 37,5, want red", r, g,
		  b);
	IT_ASSERT(pgc_bytes_in(fg.conn) > 1024 + 80, "only %llu bytes came",
		  (unsigned long long)pgc_bytes_in(fg.conn));
}

/* 2. ServerCutText right behind a valid update, in the same WebSocket
   message: the update is decoded; the text is taken out of the stream (the
   session's copy, clipboard_to_terminal) and never reaches libvncclient,
   which has no extended clipboard; the connection goes on. */
IT_TEST(viewer, guard_takes_cut_text_out_of_the_stream)
{
	static struct fg_case cs;
	static const uint8_t cut[] = { 3, 0, 0, 0, 0, 0, 0, 6, 's', 'e', 'c', 'r', 'e', 't' };
	uint8_t *p;
	char err[512], got[64];
	double end;

	p = fg_update(fg_case_hostile(&cs), 1);
	p = fg_raw16(p, 16, 0, 0, 255, 0);
	memcpy(p, cut, sizeof cut);
	fg_set(&cs, 1, p + sizeof cut);
	fg_start("viewer_guard_takes_cut_text_out_of_the_stream", &cs);

	IT_ASSERT(fg_connect(err, sizeof err) != NULL, "connect: %s", err);
	for (end = it_now_s() + FG_CONNECT_S; pgc_last_clipboard(fg.conn, got, sizeof got) == 0 &&
	     it_now_s() < end && !pgc_closed(fg.conn);)
		pgc_pump(fg.conn, 200);
	IT_ASSERT(pgc_last_clipboard(fg.conn, got, sizeof got) == 1 && strcmp(got, "secret") == 0,
		  "the clipboard text \"%s\" (%s)", got,
		  pgc_closed(fg.conn) ? pgc_close_reason(fg.conn) : "open");
	IT_ASSERT(it_pump_for(fg.conn, 1000), "closed after a ServerCutText: %d %s",
		  pgc_close_code(fg.conn), pgc_close_reason(fg.conn));
	IT_ASSERT(seen.cut_texts == 0, "libvncclient handed on %d ServerCutText", seen.cut_texts);
	IT_ASSERT(seen.frames == 2, "%d updates decoded, want the 2 around the text", seen.frames);
}

/* 2b. ServerCutText with a control character: refused, the connection closed. */
IT_TEST(viewer, guard_refuses_cut_text_with_control_characters)
{
	static struct fg_case cs;
	static const uint8_t cut[] = { 3, 0, 0, 0, 0, 0, 0, 6, 'r', 'm', 0x1b, '[', '0', 'm' };
	uint8_t *p;
	char err[512];

	p = fg_update(fg_case_hostile(&cs), 1);
	p = fg_raw16(p, 16, 0, 0, 255, 0);
	memcpy(p, cut, sizeof cut);
	fg_set(&cs, 1, p + sizeof cut);
	fg_start("viewer_guard_refuses_cut_text_with_control_characters", &cs);

	IT_ASSERT(fg_connect(err, sizeof err) != NULL, "connect: %s", err);
	fg_assert_refused("ServerCutText with byte 0x1b");
	IT_ASSERT(seen.cut_texts == 0, "libvncclient handed on %d ServerCutText", seen.cut_texts);
	IT_ASSERT(pgc_last_clipboard(fg.conn, NULL, 0) == 0, "refused text was kept");
}

/* 3. After a valid update, a rectangle in RRE, which the viewer did not ask
   for (libvncclient would decode it). */
IT_TEST(viewer, guard_refuses_unasked_encoding)
{
	static struct fg_case cs;
	uint8_t *p;
	char err[512];

	p = fg_update(fg_case_hostile(&cs), 1);
	p = fg_rect(p, 0, 0, 16, 16, 2); /* RRE: background, one subrectangle */
	fg_put32(p, 1);
	p = fg_pixel(p + 4, 0, 0, 255);
	p = fg_pixel(p, 255, 255, 0);
	fg_put16(p, 0); /* its x, y, w, h */
	fg_put16(p + 2, 0);
	fg_put16(p + 4, 4);
	fg_put16(p + 6, 4);
	fg_set(&cs, 1, p + 8);
	fg_start("viewer_guard_refuses_unasked_encoding", &cs);

	IT_ASSERT(fg_connect(err, sizeof err) != NULL, "connect: %s", err);
	fg_assert_refused("rectangle 1 with encoding 2 (RRE)");
	IT_ASSERT(seen.updates == 1 && seen.frames == 1,
		  "libvncclient decoded %d rectangles, %d updates; want only the first",
		  seen.updates, seen.frames);
}

/* 4. After a valid update, a cursor shape, which this connection did not
   ask for (no cursor callback; libvncclient would decode it anyway). */
IT_TEST(viewer, guard_refuses_unasked_cursor)
{
	static struct fg_case cs;
	uint8_t *p;
	char err[512];

	p = fg_update(fg_case_hostile(&cs), 1);
	p = fg_rect(p, 0, 0, 2, 2, -239); /* RichCursor: 2x2 pixels, then the mask */
	for (int i = 0; i < 4; i++)
		p = fg_pixel(p, 255, 255, 255);
	*p++ = 0xc0;
	*p++ = 0xc0;
	fg_set(&cs, 1, p);
	fg_start("viewer_guard_refuses_unasked_cursor", &cs);

	IT_ASSERT(fg_connect(err, sizeof err) != NULL, "connect: %s", err);
	fg_assert_refused("rectangle 1 with encoding -239, which the viewer did not ask for");
	IT_ASSERT(seen.frames == 1, "libvncclient decoded %d updates, want only the first",
		  seen.frames);
}

/* 5. A ServerInit of 16384x16384: refused during the handshake, no
   framebuffer allocated. */
IT_TEST(viewer, guard_refuses_huge_server_init)
{
	static struct fg_case cs;
	static const char want[] = "the viewer closed the connection during the RFB handshake: "
				   "4007 the server sent data this viewer refuses: ServerInit size "
				   "16384x16384";
	struct pgc_conn *c;
	char err[512];

	fg_case_init(&cs);
	cs.width = 16384;
	cs.height = 16384;
	fg_start("viewer_guard_refuses_huge_server_init", &cs);

	c = fg_connect(err, sizeof err);
	IT_ASSERT(c == NULL, "a ServerInit of 16384x16384 was accepted (%dx%d)", pgc_rfb(c)->width,
		  pgc_rfb(c)->height);
	fprintf(stderr, "[%s] connect failed: %s\n", it.test_name, err);
	IT_ASSERT(strncmp(err, want, sizeof want - 1) == 0,
		  "connect failed with \"%s\", want "
		  "\"%s...\"",
		  err, want);
	IT_ASSERT(seen.resized == 0, "a framebuffer was allocated (%dx%d)", seen.width,
		  seen.height);
	IT_ASSERT(fg_wait_log(fg.log, "fake: closed by the viewer: 1008 ", FG_CLOSE_S),
		  "the fake server got no close frame 1008 from the viewer");
}

/* 6. After a valid update, a DesktopSize to another size than ServerInit's:
   refused, the framebuffer stays as it was. */
IT_TEST(viewer, guard_refuses_desktop_size)
{
	static struct fg_case cs;
	uint8_t *p;
	char err[512];

	p = fg_update(fg_case_hostile(&cs), 1);
	p = fg_rect(p, 0, 0, 800, 600, -223);
	fg_set(&cs, 1, p);
	fg_start("viewer_guard_refuses_desktop_size", &cs);

	IT_ASSERT(fg_connect(err, sizeof err) != NULL, "connect: %s", err);
	fg_assert_refused("DesktopSize 800x600, the session's is 640x480");
	IT_ASSERT(seen.resized == 1 && seen.width == FG_W && seen.height == FG_H,
		  "framebuffer allocated %d times, last %dx%d; want once at %dx%d", seen.resized,
		  seen.width, seen.height, FG_W, FG_H);
	IT_ASSERT(pgc_rfb(fg.conn)->width == FG_W && pgc_rfb(fg.conn)->height == FG_H,
		  "libvncclient's framebuffer is %dx%d", pgc_rfb(fg.conn)->width,
		  pgc_rfb(fg.conn)->height);
}

/* 7. pixelgate-viewer against the fake (ServerCutText with a control
   character after a valid update):
   the refusal ends the session with the guard's reason on the login form
   (as 4001-4006 from the gateway do), and the viewer does not log in
   again. */
IT_TEST(viewer, guard_refusal_shown_by_viewer)
{
	static struct fg_case cs;
	static const char closed[] = "pixelgate-viewer: connection closed by the server: 4007 the "
				     "server sent data this viewer refuses: ServerCutText";
	char server[64], pwfile[160], xdg[160], display[32], env_xdg[200], env_home[200],
	    env_asan[512], xlog[160], line[32];
	char *argv[] = { FG_VIEWER, "--server",        server, "--ca", fg.ca_file, "--user",
			 FG_USER,   "--password-file", pwfile, NULL };
	char *xargv[] = { FG_XVFB,       "-displayfd", "1",   "-screen", "0",
			  "1280x800x24", "-nolisten",  "tcp", NULL };
	char *envp[12];
	const char *asan = getenv("ASAN_OPTIONS");
	uint8_t *p;
	int n = 0, fd, pfd[2];
	double t0;

	if (access(FG_VIEWER, X_OK) != 0 || access(FG_XVFB, X_OK) != 0)
		it_skip("pixelgate-viewer or Xvfb is missing");
	p = fg_case_hostile(&cs);
	memcpy(p, "\3\0\0\0\0\0\0\6rm\x1b[0m", 14); /* text with a control character */
	fg_set(&cs, 1, p + 14);
	fg_start("viewer_guard_refusal_shown_by_viewer", &cs);

	snprintf(xlog, sizeof xlog, "%s/xvfb.log", fg.dir);
	IT_ASSERT(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	fg.xvfb_pid = it_extra_start("xvfb", xargv, NULL, pfd[1], xlog);
	close(pfd[1]);
	it_read_line(pfd[0], line, sizeof line, 30);
	close(pfd[0]);
	IT_ASSERT(line[0] >= '0' && line[0] <= '9', "Xvfb did not say its display (\"%s\")", line);

	snprintf(server, sizeof server, "https://127.0.0.1:%d", fg.port);
	snprintf(pwfile, sizeof pwfile, "%s/password", fg.dir);
	fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	IT_ASSERT(fd >= 0 &&
		      write(fd, FG_PASSWORD "\n", sizeof FG_PASSWORD) ==
			  (ssize_t)sizeof FG_PASSWORD,
		  "write %s: %s", pwfile, strerror(errno));
	close(fd);
	snprintf(xdg, sizeof xdg, "%s/xdg", fg.dir);
	IT_ASSERT(mkdir(xdg, 0700) == 0, "mkdir %s: %s", xdg, strerror(errno));
	snprintf(display, sizeof display, "DISPLAY=:%d", atoi(line));
	snprintf(env_xdg, sizeof env_xdg, "XDG_CONFIG_HOME=%s", xdg);
	snprintf(env_home, sizeof env_home, "HOME=%s", fg.dir);
	envp[n++] = display;
	envp[n++] = "LANG=C.UTF-8";
	envp[n++] = env_xdg;
	envp[n++] = env_home;
	envp[n++] = "SDL_VIDEODRIVER=x11";
	envp[n++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	if (asan) {
		snprintf(env_asan, sizeof env_asan, "ASAN_OPTIONS=%s", asan);
		envp[n++] = env_asan;
	}
	envp[n] = NULL;
	snprintf(fg.viewer_log, sizeof fg.viewer_log, "%s/viewer.log", fg.dir);
	fg.viewer_pid = it_extra_start("viewer", argv, envp, -1, fg.viewer_log);

	IT_ASSERT(fg_wait_log(fg.viewer_log, closed, 60),
		  "the viewer did not log \"%s\" within 60 s (viewer %s)", closed,
		  it_extra_running(fg.viewer_pid, NULL) ? "running" : "exited");
	IT_ASSERT(fg_wait_log(fg.viewer_log, "login form shown: session closed by the server",
			      FG_CLOSE_S),
		  "the viewer did not show the login form with the reason");
	IT_ASSERT(it_file_count(fg.log, "fake: closed by the viewer: 1008 ") == 1,
		  "the fake server got no close frame 1008 from the viewer");
	t0 = it_now_s();
	while (it_now_s() < t0 + FG_QUIET_S) {
		IT_ASSERT(it_extra_running(fg.viewer_pid, NULL),
			  "the viewer exited after the "
			  "refusal");
		it_sleep_ms(250);
	}
	IT_ASSERT(it_file_count(fg.log, "fake: login") == 1,
		  "the fake saw %d logins over %d s, want 1 (the viewer retried)",
		  it_file_count(fg.log, "fake: login"), FG_QUIET_S);
}
