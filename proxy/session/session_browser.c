/*
 * session_browser.c: start and stop the session's Xvfb and Chromium.
 *
 * Xvfb renders into an XWD file under the session's private directory
 * (-fbdir), listens only on its Unix socket and requires a per-session
 * MIT-MAGIC-COOKIE. Chromium runs with its sandbox on, a fresh HOME and
 * profile, and the DevTools protocol on a pipe (fds 3 and 4), never a port.
 */
#include "session.h"

#include <X11/Xauth.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define XVFB_START_TIMEOUT_MS 10000

/*
 * Prepare a child: default signals, nothing blocked, stdin from /dev/null,
 * keep[i] moved to fd 3 + i (close-on-exec cleared) and every other
 * descriptor above 2 closed. 0 or -1.
 */
static int browser_child_setup(const int *keep, int nkeep)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		if (devnull > 2)
			close(devnull);
	}
	/* First above any target, then into place: a keep[] fd may sit on a
	   target number, and dup2() onto itself would keep close-on-exec. */
	int high[8];
	if (nkeep > 8)
		return -1;
	for (int i = 0; i < nkeep; i++) {
		high[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 3 + 8);
		if (high[i] < 0)
			return -1;
	}
	for (int i = 0; i < nkeep; i++)
		if (dup2(high[i], 3 + i) != 3 + i)
			return -1;
	return close_range(3 + (unsigned)nkeep, ~0U, 0);
}

/* Write an Xauthority file holding one random cookie for any display. */
static int browser_write_xauth(const char *path)
{
	unsigned char cookie[16];
	if (RAND_bytes(cookie, sizeof cookie) != 1)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	static char name[] = "MIT-MAGIC-COOKIE-1";
	static char empty[] = "";
	Xauth a = { 0 };
	a.family = FamilyWild;
	a.address = empty;
	a.number = empty;
	a.name = name;
	a.name_length = (unsigned short)strlen(name);
	a.data = (char *)cookie;
	a.data_length = sizeof cookie;
	int ok = XauWriteAuth(f, &a);
	if (fclose(f) != 0 || !ok)
		return -1;
	return 0;
}

int browser_start_xvfb(struct browser *b, const struct session_settings *s)
{
	char fbdir[600], geometry[64];
	int pfd[2];
	if (access(s->xvfb_path, X_OK) != 0) {
		log_error("%s: %s: %s", __func__, s->xvfb_path, strerror(errno));
		return -1;
	}
	snprintf(fbdir, sizeof fbdir, "%s/fb", s->dir);
	snprintf(b->xauthority, sizeof b->xauthority, "%s/Xauthority", s->dir);
	if (mkdir(fbdir, 0700) != 0 && errno != EEXIST) {
		log_error("%s: mkdir %s: %s", __func__, fbdir, strerror(errno));
		return -1;
	}
	if (browser_write_xauth(b->xauthority) != 0) {
		log_error("%s: cannot write %s: %s", __func__, b->xauthority, strerror(errno));
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	snprintf(geometry, sizeof geometry, "%dx%dx24", s->width, s->height);
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int keep[] = { pfd[1] }; /* becomes fd 3 */
		if (browser_child_setup(keep, 1) != 0)
			_exit(127);
		execl(s->xvfb_path, "Xvfb", "-displayfd", "3", "-screen", "0", geometry, "-fbdir",
		      fbdir, "-nolisten", "tcp", "-auth", b->xauthority, "-noreset",
		      "-nocursor", /* the viewer gets the cursor shape instead */
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	b->xvfb_pid = pid;
	/* Xvfb writes the display number it chose, then a newline. */
	char buf[32];
	size_t got = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int r = poll(&p, 1, 200);
		if (r > 0) {
			ssize_t n = read(pfd[0], buf + got, sizeof buf - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			buf[got] = '\0';
			if (strchr(buf, '\n') != NULL || got == sizeof buf - 1)
				break;
		}
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > XVFB_START_TIMEOUT_MS)
			break;
	}
	close(pfd[0]);
	buf[got] = '\0';
	char *end;
	long display = strtol(buf, &end, 10);
	if (got == 0 || end == buf || display < 0 || display > 65535) {
		log_error("%s: Xvfb did not report a display within %d ms", __func__,
			  XVFB_START_TIMEOUT_MS);
		return -1;
	}
	b->display = (int)display;
	log_info("Xvfb pid %d on display :%d, %dx%d", (int)pid, b->display, s->width, s->height);
	return 0;
}

/*
 * LANG=... for Chromium: the locale the gateway gave the worker (it knows
 * which locales the host has, e.g. ja_JP.UTF-8), or C.UTF-8. Only a plain
 * locale name is passed on.
 */
static void browser_lang(char *out, size_t outlen)
{
	const char *lang = getenv("LANG");
	bool ok = lang != NULL && lang[0] != '\0' && strlen(lang) < 64;
	for (const char *p = lang; ok && *p; p++)
		ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-' || *p == '@';
	snprintf(out, outlen, "LANG=%s", ok ? lang : "C.UTF-8");
}

int browser_start_chromium(struct browser *b, const struct session_settings *s)
{
	char home[600], profile[700], tmpdir[600], window_size[64], display[32], udd[720],
	    proxy[2100];
	int to_chrome[2], from_chrome[2];
	/* Fail before READY, not as "browser exited (exit status 127)" after it. */
	if (access(s->chromium_path, X_OK) != 0) {
		log_error("%s: %s: %s", __func__, s->chromium_path, strerror(errno));
		return -1;
	}
	snprintf(home, sizeof home, "%s/home", s->dir);
	snprintf(profile, sizeof profile, "%s/profile", home);
	/* In a cell (we are its pid 1) the browser's temporary files go to the
	   cell's own /tmp, a tmpfs of session_tmpfs_mib gone with the cell.
	   Chromium puts its SingletonSocket there: a unix socket path, at most
	   107 bytes, which <runtime_dir>/session-ID/tmp/org.chromium.Chromium.
	   XXXXXX/SingletonSocket passes with a runtime_dir over 33 characters
	   (Chromium then aborts: "Socket path too long"). Without a cell
	   (development) the session's directory keeps them apart. */
	if (getpid() == 1)
		snprintf(tmpdir, sizeof tmpdir, "/tmp");
	else
		snprintf(tmpdir, sizeof tmpdir, "%s/tmp", s->dir);
	if ((mkdir(home, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(tmpdir, 0700) != 0 && errno != EEXIST)) {
		log_error("%s: cannot create %s: %s", __func__, home, strerror(errno));
		return -1;
	}
	snprintf(window_size, sizeof window_size, "--window-size=%d,%d", s->width, s->height);
	snprintf(display, sizeof display, ":%d", b->display);
	snprintf(udd, sizeof udd, "--user-data-dir=%s", profile);
	if (pipe2(to_chrome, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(from_chrome, O_CLOEXEC) != 0) {
		close(to_chrome[0]);
		close(to_chrome[1]);
		return -1;
	}
	const char *argv[40];
	int n = 0;
	argv[n++] = "chromium";
	argv[n++] = udd;
	argv[n++] = "--remote-debugging-pipe";
	argv[n++] = "--no-first-run";
	argv[n++] = "--no-default-browser-check";
	argv[n++] = "--disable-background-networking";
	argv[n++] = "--disable-component-update";
	argv[n++] = "--disable-sync";
	argv[n++] = "--disable-breakpad";
	argv[n++] = "--noerrdialogs";
	argv[n++] = "--password-store=basic";
	argv[n++] = "--disable-gpu";
	/* The network service in the browser process: as a utility process it
	   runs unsandboxed too on Linux (--service-sandbox-type=none; Chromium's
	   NetworkServiceSandbox is off there), as the same user in the same cell,
	   so the boundary that matters (the cell) is unchanged; a session has one
	   process fewer (PSS -16 MiB a session with 8). The cost: a network
	   stack crash now ends the browser (the session) instead of restarting
	   the service, and a bug there runs in the process that holds the CDP
	   pipe. Re-check on a Chromium upgrade that turns that sandbox on. The
	   GPU process stays apart: it is sandboxed, and --in-process-gpu saved
	   only 2 MiB more. */
	argv[n++] = "--enable-features=NetworkServiceInProcess2";
	/* a Page_Down is one jump, not 5-10 frames: on the peer bench's reading
	   page -23 % bytes, 94 -> 10 updates, 420 -> 70 ms of worker + Xvfb CPU
	   (--disable-lcd-text changed nothing: Xvfb's text is grayscale already) */
	argv[n++] = "--disable-smooth-scrolling";
	/* no spare renderer; the omnibox's popups drawn by the browser process
	   instead of a WebUI renderer preloaded for them (one process fewer) */
	argv[n++] =
	    "--disable-features=Translate,MediaRouter,DialMediaRouteProvider,OptimizationHints,"
	    "SpareRendererForSitePerProcess,WebUIOmniboxPopup,WebUIOmniboxAimPopup";
	argv[n++] = "--lang=ja";
	argv[n++] = "--window-position=0,0";
	argv[n++] = window_size;
	/* WebRTC may use UDP only through the proxy, i.e. not at all. */
	argv[n++] = "--force-webrtc-ip-handling-policy=disable_non_proxied_udp";
	if (s->upstream_proxy[0] != '\0') {
		snprintf(proxy, sizeof proxy, "--proxy-server=%s%s",
			 strncmp(s->upstream_proxy, "http://", 7) == 0 ? "" : "http://",
			 s->upstream_proxy);
		argv[n++] = proxy;
		/* loopback too goes to the proxy (in a cell it is the only way anywhere) */
		argv[n++] = "--proxy-bypass-list=<-loopback>";
	}
	argv[n++] = "--";
	argv[n++] = s->home_page;
	argv[n] = NULL;

	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		/* Chromium reads commands on fd 3 and writes answers on fd 4. */
		int keep[] = { to_chrome[0], from_chrome[1] };
		if (browser_child_setup(keep, 2) != 0)
			_exit(127);
		char *envp[] = { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
		char env_home[620], env_display[48], env_xauth[620], env_tmp[620], env_lang[80];
		browser_lang(env_lang, sizeof env_lang);
		snprintf(env_home, sizeof env_home, "HOME=%s", home);
		snprintf(env_display, sizeof env_display, "DISPLAY=%s", display);
		snprintf(env_xauth, sizeof env_xauth, "XAUTHORITY=%s", b->xauthority);
		snprintf(env_tmp, sizeof env_tmp, "TMPDIR=%s", tmpdir);
		envp[0] = env_home;
		envp[1] = env_display;
		envp[2] = env_xauth;
		envp[3] = env_tmp;
		envp[4] = "PATH=/usr/bin:/bin";
		envp[5] = env_lang;
		envp[6] = "DBUS_SESSION_BUS_ADDRESS=disabled:";
		execve(s->chromium_path, (char *const *)argv, envp);
		_exit(127);
	}
	close(to_chrome[0]);
	close(from_chrome[1]);
	b->chromium_pid = pid;
	b->cdp_write_fd = to_chrome[1];
	b->cdp_read_fd = from_chrome[0];
	log_info("Chromium pid %d on %s, home page %s%s%s", (int)pid, display, s->home_page,
		 s->upstream_proxy[0] ? ", via proxy " : "", s->upstream_proxy);
	return 0;
fail:
	close(to_chrome[0]);
	close(to_chrome[1]);
	close(from_chrome[0]);
	close(from_chrome[1]);
	return -1;
}

/* Wait for pid to exit for at most ms; true if it was reaped. */
static bool browser_wait(pid_t pid, int ms)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return false;
}

void browser_stop(struct browser *b, int deadline_ms)
{
	if (b->chromium_pid > 0) {
		kill(b->chromium_pid, SIGTERM);
		if (!browser_wait(b->chromium_pid, deadline_ms / 2)) {
			kill(b->chromium_pid, SIGKILL);
			browser_wait(b->chromium_pid, 500);
		}
		b->chromium_pid = 0;
	}
	if (b->xvfb_pid > 0) {
		kill(b->xvfb_pid, SIGTERM);
		if (!browser_wait(b->xvfb_pid, deadline_ms / 4)) {
			kill(b->xvfb_pid, SIGKILL);
			browser_wait(b->xvfb_pid, 500);
		}
		b->xvfb_pid = 0;
	}
}
