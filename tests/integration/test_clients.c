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
 */
#include <png.h>
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
