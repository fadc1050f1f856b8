/*
 * test_clients.c: third-party RFB clients as they come.
 *
 * Debian's noVNC (package novnc, 1.3.0) asks for no WebSocket subprotocol
 * unless the page that embeds it passes wsProtocols. Its own vnc_lite.html,
 * unmodified, is served over HTTPS from /usr/share/novnc (noVNC picks wss://
 * only for a page that came over https://) and opened in a real headless
 * Chromium (a client here, not a session's browser: its own unprivileged
 * user, its sandbox on) with the ticket of a login in its path. The test
 * sees the page say "Connected" and, in Chromium's screenshot, the test
 * page's blue block drawn by noVNC from the session's framebuffer.
 *
 * The upgrade's subprotocol rule is checked at the wire too: none or a list
 * naming "binary" is served, a list without it is refused with 400.
 *
 * noVNC takes one handshake step per WebSocket message. A VNC server never
 * sends its security types before the client's ProtocolVersion, but a
 * pixelgate worker has the viewer's version ahead of time (the gateway gives
 * it at once), and its types used to follow its version in the same message
 * now and then: noVNC then said "Connecting" for ever. The handshake test
 * reads the wire after the version came, before it answers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <png.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define CL_USER "cl-novnc"
#define CL_NOVNC_DIR "/usr/share/novnc"
#define CL_CLIENT_USER "nobody" /* the client Chromium's user: not root, sandbox on */

/* An upgrade of /rfb with a bad ticket and the given protocol header line ("" = none). */
static int cl_upgrade_status(const char *proto_line, char *body, size_t bodylen)
{
	char req[512], err[256];
	snprintf(req, sizeof req,
		 "GET /rfb?ticket=x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n%s\r\n",
		 proto_line);
	int status = it_https_raw(req, body, bodylen, err, sizeof err);
	IT_ASSERT(status > 0, "upgrade request failed: %s", err);
	return status;
}

/* A WebSocket to the staff listener, spoken byte by byte (no library: the
   test looks at the frames as they come). */
struct cl_ws {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

/* Opens /rfb with ticket and no subprotocol, reads the 101 and nothing past it. */
static void cl_ws_open(struct cl_ws *w, const char *ticket)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)it.port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->fd = -1;
	w->ctx = SSL_CTX_new(TLS_client_method());
	IT_ASSERT(w->ctx != NULL && SSL_CTX_load_verify_locations(w->ctx, it.ca_file, NULL) == 1,
		  "TLS context");
	SSL_CTX_set_verify(w->ctx, SSL_VERIFY_PEER, NULL);
	w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	IT_ASSERT(w->fd >= 0 && connect(w->fd, (struct sockaddr *)&a, sizeof a) == 0,
		  "connect to the staff listener");
	w->ssl = SSL_new(w->ctx);
	IT_ASSERT(w->ssl != NULL && SSL_set_fd(w->ssl, w->fd) == 1 &&
		      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(w->ssl), "127.0.0.1") == 1 &&
		      SSL_connect(w->ssl) == 1,
		  "TLS handshake with the staff listener");
	char req[512];
	int n = snprintf(req, sizeof req,
			 "GET /rfb?ticket=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n",
			 ticket);
	IT_ASSERT(SSL_write(w->ssl, req, n) == n, "send the upgrade");
	char head[1024];
	size_t got = 0;
	while (got < sizeof head - 1 && (got < 4 || memcmp(head + got - 4, "\r\n\r\n", 4) != 0)) {
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
		IT_ASSERT(SSL_pending(w->ssl) > 0 || poll(&pfd, 1, 15000) == 1,
			  "no answer to the upgrade");
		IT_ASSERT(SSL_read(w->ssl, head + got, 1) == 1, "the upgrade's answer broke off");
		got++;
	}
	head[got] = '\0';
	IT_ASSERT(strncmp(head, "HTTP/1.1 101", 12) == 0, "upgrade: %s", head);
}

/* What arrives within ms (up to cap bytes; stops early once want bytes came). */
static size_t cl_ws_read(struct cl_ws *w, uint8_t *buf, size_t cap, size_t want, int ms)
{
	size_t got = 0;
	double end = it_now_s() + ms / 1000.0;
	while (got < cap && got < want) {
		int left = (int)((end - it_now_s()) * 1000);
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
		if (SSL_pending(w->ssl) == 0 && (left <= 0 || poll(&pfd, 1, left) != 1))
			break;
		int n = SSL_read(w->ssl, buf + got, (int)(cap - got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void cl_ws_close(struct cl_ws *w)
{
	SSL_free(w->ssl);
	SSL_CTX_free(w->ctx);
	if (w->fd >= 0)
		close(w->fd);
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

/* The test's connection, also closed by the teardown when an assertion ended the test. */
static struct cl_ws cl_steps_ws = { .fd = -1 };

static void cl_steps_stop(char *problems, size_t len)
{
	(void)problems;
	(void)len;
	cl_ws_close(&cl_steps_ws);
}

/* Bytes as hex for a message. */
static const char *cl_hex(const uint8_t *b, size_t n, char *out, size_t outlen)
{
	out[0] = '\0';
	for (size_t i = 0, o = 0; i < n && o + 3 < outlen; i++, o += 3)
		snprintf(out + o, outlen - o, "%02x ", b[i]);
	return out;
}

IT_TEST(clients, handshake_steps_come_one_message_at_a_time, .timeout = 120)
{
	static const char *const users[] = { "cl-steps", NULL };
	/* one unmasked binary frame each (the server's), one masked with the
	   zero key (the client's: RFC 6455 wants a mask, any key will do) */
	static const uint8_t version[] = { 0x82, 12,  'R', 'F', 'B', ' ', '0',
					   '0',  '3', '.', '0', '0', '8', '\n' };
	static const uint8_t reply[] = { 0x82, 0x80 | 12, 0,   0,   0,   0,   'R', 'F', 'B',
					 ' ',  '0',       '0', '3', '.', '0', '0', '8', '\n' };
	static const uint8_t types[] = { 0x82, 2, 1, 1 }; /* one type: None */
	uint8_t got[256];
	char hex[800];
	struct it_http r;

	it_start("clients_steps", users);
	IT_ASSERT(it_login_http("cl-steps", it_password("cl-steps"), false, &r) == 200,
		  "login: %d %s", r.status, r.body);
	char ticket[128];
	IT_ASSERT(it_json_str(r.body, "ticket", ticket, sizeof ticket), "no ticket: %s", r.body);
	struct cl_ws *w = &cl_steps_ws;
	it_at_stop(cl_steps_stop);
	cl_ws_open(w, ticket);

	/* The worker's version comes once its session is up; the worker has the
	   viewer's, so it sends its types right behind: they must wait. */
	size_t n = cl_ws_read(w, got, sizeof got, sizeof version, 60000);
	IT_ASSERT(n == sizeof version && memcmp(got, version, n) == 0,
		  "the first message is not the server's ProtocolVersion alone: %s",
		  cl_hex(got, n, hex, sizeof hex));
	n = cl_ws_read(w, got, sizeof got, sizeof got, 2000);
	IT_ASSERT(n == 0, "before the viewer's ProtocolVersion the server sent more: %s",
		  cl_hex(got, n, hex, sizeof hex));

	IT_ASSERT(SSL_write(w->ssl, reply, sizeof reply) == (int)sizeof reply, "send the version");
	n = cl_ws_read(w, got, sizeof got, sizeof types, 15000);
	IT_ASSERT(n == sizeof types && memcmp(got, types, n) == 0,
		  "after the viewer's version, not the security types in one message: %s",
		  cl_hex(got, n, hex, sizeof hex));
}

/* Pixels of the block's colour (within 12 per channel) in the PNG at path. */
static long cl_block_pixels(const char *path)
{
	png_image img;
	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	IT_ASSERT(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
	img.format = PNG_FORMAT_RGB;
	png_bytep px = malloc(PNG_IMAGE_SIZE(img));
	IT_ASSERT(px != NULL, "out of memory");
	IT_ASSERT(png_image_finish_read(&img, NULL, px, 0, NULL), "%s: %s", path, img.message);
	long n = 0;
	for (size_t i = 0; i + 2 < PNG_IMAGE_SIZE(img); i += 3)
		if (abs(px[i] - PAGE_BLOCK_R) <= 12 && abs(px[i + 1] - PAGE_BLOCK_G) <= 12 &&
		    abs(px[i + 2] - PAGE_BLOCK_B) <= 12)
			n++;
	free(px);
	return n;
}

IT_TEST(clients, novnc_vnc_lite_connects_without_a_subprotocol, .timeout = 180)
{
	static const char *const users[] = { CL_USER, NULL };
	char body[4096], out[8192];

	it_start("novnc_vnc_lite", users);
	IT_ASSERT(access(CL_NOVNC_DIR "/vnc_lite.html", R_OK) == 0,
		  CL_NOVNC_DIR "/vnc_lite.html is missing: tests/run.sh installs Debian's novnc");

	/* At the wire: no subprotocol passes the subprotocol rule (then fails on the
	   ticket), a list naming binary too, a list without it is refused. */
	IT_ASSERT(cl_upgrade_status("", body, sizeof body) == 401, "no subprotocol: %s", body);
	IT_ASSERT(cl_upgrade_status("Sec-WebSocket-Protocol: chat, binary\r\n", body,
				    sizeof body) == 401,
		  "a list naming binary: %s", body);
	IT_ASSERT(cl_upgrade_status("Sec-WebSocket-Protocol: base64\r\n", body, sizeof body) == 400,
		  "a list without binary was not refused: %s", body);
	IT_ASSERT(strstr(body, "or none") != NULL, "the refusal says why: %s", body);
	/* lws binds the first name it knows: an internal protocol first is refused */
	IT_ASSERT(cl_upgrade_status("Sec-WebSocket-Protocol: pg-priv, binary\r\n", body,
				    sizeof body) == 400,
		  "a list naming an internal protocol was not refused: %s", body);
	IT_ASSERT(cl_upgrade_status("Sec-WebSocket-Protocol: http, binary\r\n", body,
				    sizeof body) == 400,
		  "a list naming http was not refused: %s", body);

	/* The listener's root says what it is (a newcomer's curl or browser). */
	char err[128];
	IT_ASSERT(it_https_raw("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", body, sizeof body, err,
			       sizeof err) == 200,
		  "GET /: %s %s", body, err);
	IT_ASSERT(strstr(body, "\"service\":\"pixelgate\"") != NULL &&
		      strstr(body, "POST /api/v1/login") != NULL,
		  "GET / says: %s", body);

	/* noVNC's page over HTTPS with the daemon's own certificate. */
	char page_log[400], port_line[32];
	snprintf(page_log, sizeof page_log, "%s/https-static.log", it.dir);
	int pfd[2];
	IT_ASSERT(pipe(pfd) == 0, "pipe");
	char cert[320], key[320];
	snprintf(cert, sizeof cert, "%s/server.crt", it.dir);
	snprintf(key, sizeof key, "%s/server.key", it.dir);
	char *const sargv[] = { "/usr/bin/python3",
				PIXELGATE_SOURCE_DIR "/tests/fixtures/https_static.py",
				"--dir",
				CL_NOVNC_DIR,
				"--cert",
				cert,
				"--key",
				key,
				NULL };
	it_extra_start("novnc-https", sargv, NULL, pfd[1], page_log);
	close(pfd[1]);
	IT_ASSERT(it_read_line(pfd[0], port_line, sizeof port_line, 15),
		  "the noVNC page server did not start");
	close(pfd[0]);
	int page_port = atoi(port_line);

	/* The client Chromium trusts exactly that certificate (its SPKI pin). */
	char spki[128];
	IT_ASSERT(it_run(spki, sizeof spki,
			 "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform der | "
			 "openssl dgst -sha256 -binary | base64",
			 cert) == 0,
		  "spki: %s", spki);
	spki[strcspn(spki, "\r\n")] = '\0';

	struct it_http r;
	IT_ASSERT(it_login_http(CL_USER, it_password(CL_USER), false, &r) == 200, "login: %d %s",
		  r.status, r.body);
	char ticket[128];
	IT_ASSERT(it_json_str(r.body, "ticket", ticket, sizeof ticket), "no ticket: %s", r.body);

	char home[320], shot[400];
	snprintf(home, sizeof home, "%s/novnc-client", it.dir);
	IT_ASSERT(mkdir(home, 0700) == 0, "mkdir %s", home);
	IT_ASSERT(it_run(out, sizeof out, "chown %s: %s && chmod 0711 %s", CL_CLIENT_USER, home,
			 it.dir) == 0,
		  "chown: %s", out);
	snprintf(shot, sizeof shot, "%s/shot.png", home);

	/*
	 * Chromium's managed policy for the sessions' browsers (/etc/chromium/
	 * policies) would apply to this client too: it runs in a mount namespace
	 * where that directory is empty. cdp_page.py waits for noVNC's status
	 * line to say Connected, then for the picture to settle, and screenshots.
	 */
	char empty[400];
	snprintf(empty, sizeof empty, "%s/empty", home);
	IT_ASSERT(mkdir(empty, 0755) == 0, "mkdir %s", empty);
	int rc = it_run(
	    out, sizeof out,
	    "cd %s && unshare --mount sh -c 'if [ -d /etc/chromium/policies/managed ]; then "
	    "mount --bind %s /etc/chromium/policies/managed || exit 2; fi; "
	    "exec setpriv --reuid=%s --regid=nogroup --clear-groups env HOME=%s "
	    "timeout 90 python3 %s/tests/fixtures/cdp_page.py "
	    "--url \"https://127.0.0.1:%d/vnc_lite.html?host=127.0.0.1&port=%d&path=rfb%%3Fticket%%3D%s\" "
	    "--expr \"document.getElementById(\\\"status\\\").textContent\" --want Connected "
	    "--timeout 30 --settle 3 --shot %s -- --user-data-dir=%s/profile "
	    "--ignore-certificate-errors-spki-list=%s' 2>%s/chromium.log",
	    home, empty, CL_CLIENT_USER, home, PIXELGATE_SOURCE_DIR, page_port, it.port, ticket,
	    shot, home, spki, home);
	out[strcspn(out, "\n")] = '\0';
	bool connected = rc == 0 && strncmp(out, "Connected to ", 13) == 0;
	long block = access(shot, R_OK) == 0 ? cl_block_pixels(shot) : -1;
	fprintf(stderr, "novnc: cdp_page.py exit %d, status \"%s\", block pixels %ld\n", rc, out,
		block);
	if (getenv("PIXELGATE_IT_KEEP_LOGS") != NULL && block >= 0)
		it_run(body, sizeof body,
		       "mkdir -p /tmp/pixelgate-it-logs && cp %s /tmp/pixelgate-it-logs/"
		       "clients_novnc_vnc_lite-screenshot.png",
		       shot);
	IT_ASSERT(connected,
		  "noVNC's status never said Connected: \"%s\" (exit %d; %s/chromium.log)", out, rc,
		  home);
	IT_ASSERT(block > 20000, "the session's page is not in noVNC's screenshot (%ld px)", block);
}
