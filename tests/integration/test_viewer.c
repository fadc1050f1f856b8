/*
 * test_viewer.c: pixelgate-viewer, the staff client, against the real
 * daemon (issue 3, "Integration under Xvfb").
 *
 * Each test starts its own world (harness.c), its own Xvfb (a display number
 * it gets through -displayfd, so it cannot collide with the sessions' X
 * servers) and the viewer on it with --password-file. There is no window
 * manager: the test finds the window and types into it with xdotool (XTEST:
 * what a keyboard would do; Unicode characters through a keycode xdotool
 * remaps, which SDL delivers as text input) and reads the window's pixels
 * with xwd. What the test asserts is what a user would see or what the page
 * received: the test page's block in the window at the scale the window
 * implies, the text field's value as the page server got it, the viewer's
 * log lines, and the daemon's log.
 */
#include "harness.h"

#include <errno.h>
#include <locale.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <X11/Xlib.h>
#include <dirent.h>
#include <png.h>

#include "utf8.h"

#define VT_VIEWER PIXELGATE_BUILD_DIR "/pixelgate-viewer"
/* The Windows viewer (issue 13): deploy/build-windows-viewer.sh --out
   BUILD/windows, as tests/run.sh builds it, run by Debian's wine64. */
#define VT_VIEWER_EXE PIXELGATE_BUILD_DIR "/windows/pixelgate-viewer.exe"
#define VT_VIEWER_MSI PIXELGATE_BUILD_DIR "/windows/pixelgate-viewer.msi"
#define VT_WINTYPE PIXELGATE_BUILD_DIR "/windows/wintype.exe" /* tests/fixtures/wintype.c */
#define VT_WINE "/usr/lib/wine/wine64"
#define VT_WINESERVER "/usr/lib/wine/wineserver"
#define VT_CJK_FONT "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#define VT_WINEBOOT_S 180 /* a new Wine prefix (wineboot --init) */
#define VT_WINE_EXIT_S 20 /* the Windows viewer ends after Alt+F4 */
#define VT_XVFB "/usr/bin/Xvfb"
#define VT_XDOTOOL "/usr/bin/xdotool"
#define VT_XWD "/usr/bin/xwd"
#define VT_SCREEN "1600x1000x24"

/* Deadlines in seconds, generous (ASan build, 2-core CI machine). */
#define VT_XVFB_READY_S 30 /* our Xvfb prints its display number */
#define VT_WINDOW_S 60     /* the viewer's window is mapped */
#define VT_TOOL_S 30       /* one xdotool or xwd run */
#define VT_REDRAW_S 30     /* the window shows a change (resize, reconnect) */
#define VT_LOG_S 30        /* a log line expected soon */
#define VT_QUIET_S 8       /* how long a refused viewer is watched for retries */
#define VT_SILENT_S \
	90 /* a network gone silent is noticed (the client core
				   pings after 20 s of silence, hangs up after 35 s) */

/* Tolerance of the block's place and size in a scaled picture, pixels. */
#define VT_SCALED_TOL 2

/* The viewer's error text colour on the login form (viewer_form.c col_error). */
#define VT_ERROR_R 185
#define VT_ERROR_G 28
#define VT_ERROR_B 28

/* The viewer test's own processes and files. */
static struct {
	pid_t xvfb_pid;
	pid_t viewer_pid;
	pid_t relay_pid;
	int display; /* our Xvfb's display number */
	int relay_port;
	unsigned long win; /* the viewer's X window */
	char viewer_log[320];
	char tool_err[320]; /* stderr of the last xdotool/xwd run */
	char xwd_file[320];
	char last_cmd[512]; /* the last xdotool/xwd command line, for messages */
	uint8_t *xwd;       /* the last xwd file's bytes (freed by vt_teardown) */
	uint8_t *rgb;       /* the last capture's pixels (freed by vt_teardown) */
	const char *lang;   /* LANG of the viewer vt_open() starts; NULL: C.UTF-8 */
	bool wine;          /* vt_open() starts the Windows viewer under Wine */
	char wine_prefix[320];
	char wine_exe[400]; /* the .exe Wine runs: "" for VT_VIEWER_EXE */
	const char *screen; /* our Xvfb's screen: NULL for VT_SCREEN */
} vt;

/* A capture of the viewer's window as 8-bit RGB triplets; valid until the
   next capture (the pixels are vt.rgb). */
struct vt_img {
	int w, h;
	const uint8_t *rgb;
};

/* ---- processes ------------------------------------------------------------ */

static void vt_teardown(char *problems, size_t len);

/* Starts our Xvfb and reads its display number; the test's teardown then
   starts with vt_teardown(). */
static void vt_start_xvfb(void)
{
	char *screen = (char *)(vt.screen ? vt.screen : VT_SCREEN);
	char *argv[] = { VT_XVFB, "-displayfd", "1",   "-screen", "0",
			 screen,  "-nolisten",  "tcp", NULL };
	char log[320], line[32];
	int pfd[2];

	it_at_stop(vt_teardown);
	snprintf(log, sizeof log, "%s/xvfb.log", it.dir);
	IT_ASSERT(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	vt.xvfb_pid = it_extra_start("xvfb", argv, NULL, pfd[1], log);
	close(pfd[1]);
	it_read_line(pfd[0], line, sizeof line, VT_XVFB_READY_S);
	close(pfd[0]);
	vt.display = line[0] ? atoi(line) : -1;
	IT_ASSERT(vt.display >= 0 && line[0] >= '0' && line[0] <= '9',
		  "Xvfb did not print its display number within %d s (got \"%s\")", VT_XVFB_READY_S,
		  line);
	fprintf(stderr, "[%s] our Xvfb on :%d (%s)\n", it.test_name, vt.display, screen);
}

/* Starts tests/fixtures/tcpproxy.py in front of the daemon. */
static void vt_start_relay(void)
{
	char target[16], log[320], line[32];
	char *argv[] = { "/usr/bin/python3", PIXELGATE_SOURCE_DIR "/tests/fixtures/tcpproxy.py",
			 target, NULL };
	int pfd[2];

	snprintf(target, sizeof target, "%d", it.port);
	snprintf(log, sizeof log, "%s/tcpproxy.log", it.dir);
	IT_ASSERT(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	vt.relay_pid = it_extra_start("tcpproxy", argv, NULL, pfd[1], log);
	close(pfd[1]);
	it_read_line(pfd[0], line, sizeof line, 20);
	close(pfd[0]);
	vt.relay_port = atoi(line);
	IT_ASSERT(vt.relay_port > 0, "tcpproxy.py did not print its port (got \"%s\")", line);
}

/*
 * Runs an X client (xdotool, xwd) on our display with its arguments (a NULL-
 * terminated list), killing it after timeout_s. out gets its stdout,
 * NUL-terminated, trailing newlines removed; its stderr goes to vt.tool_err.
 * Returns its exit status, or -1 if it had to be killed or did not run.
 */
static int vt_x(char *out, size_t outlen, double timeout_s, const char *prog, ...)
{
	char *argv[32], display[16];
	const char *a;
	va_list ap;
	int n = 0, pfd[2], status = 0;
	size_t got = 0;
	double end = it_now_s() + timeout_s;
	pid_t pid, parent = getpid();
	bool timed_out = false;

	argv[n++] = (char *)prog;
	va_start(ap, prog);
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	vt.last_cmd[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t used = strlen(vt.last_cmd);

		snprintf(vt.last_cmd + used, sizeof vt.last_cmd - used, "%s%s", i ? " " : "",
			 argv[i]);
	}
	snprintf(display, sizeof display, ":%d", vt.display);
	snprintf(vt.tool_err, sizeof vt.tool_err, "%s/xtool.err", it.dir);
	if (outlen)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int err = open(vt.tool_err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null_fd = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || err < 0 || null_fd < 0)
			_exit(127);
		dup2(null_fd, 0);
		dup2(pfd[1], 1);
		dup2(err, 2);
		closefrom(3);
		setenv("DISPLAY", display, 1);
		unsetenv("XAUTHORITY");
		execv(prog, argv);
		fprintf(stderr, "exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		char buf[512];
		ssize_t r;

		if (it_now_s() >= end) {
			timed_out = true;
			break;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(pfd[0], buf, sizeof buf);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (outlen && got < outlen - 1)
				out[got++] = buf[i];
	}
	close(pfd[0]);
	if (outlen) {
		out[got] = '\0';
		while (got > 0 && out[got - 1] == '\n')
			out[--got] = '\0';
	}
	while (!timed_out && waitpid(pid, &status, WNOHANG) == 0) {
		if (it_now_s() >= end)
			timed_out = true;
		else
			it_sleep_ms(20);
	}
	if (timed_out) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line of vt.tool_err, for messages. */
static const char *vt_tool_error(void)
{
	static char line[400];
	FILE *f = fopen(vt.tool_err, "r");

	line[0] = '\0';
	if (f) {
		if (!fgets(line, sizeof line, f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	return line[0] ? line : "(no message)";
}

/* Runs xdotool with the arguments; fails the test if it fails. */
#define VT_XDO(...)                                                                       \
	do {                                                                              \
		int rc_ = vt_x(NULL, 0, VT_TOOL_S, VT_XDOTOOL, __VA_ARGS__, NULL);        \
		IT_ASSERT(rc_ == 0, "%s failed (%d%s): %s", vt.last_cmd, rc_,             \
			  rc_ < 0 ? ", killed after the deadline" : "", vt_tool_error()); \
	} while (0)

/*
 * Starts the viewer on our display as user with password (written to a 0600
 * file for --password-file), talking to 127.0.0.1:port, with LANG=lang, and
 * waits until its window is mapped (vt.win).
 */
/* path as Wine's Windows programs see it: Z: is the root, backslashes. */
static void vt_wine_path(const char *path, char *out, size_t len)
{
	size_t o = (size_t)snprintf(out, len, "Z:");

	for (const char *p = path; *p && o + 1 < len; p++)
		out[o++] = *p == '/' ? '\\' : *p;
	out[o < len ? o : len - 1] = '\0';
}

/* The environment of every Wine program of the test (NULL-terminated, in
   env, the strings in store). */
static void vt_wine_env(char *env[8], char store[4][360], const char *lang)
{
	snprintf(store[0], sizeof store[0], "DISPLAY=:%d", vt.display);
	snprintf(store[1], sizeof store[1], "WINEPREFIX=%s", vt.wine_prefix);
	snprintf(store[2], sizeof store[2], "HOME=%s", it.dir);
	snprintf(store[3], sizeof store[3], "LANG=%s", lang);
	env[0] = store[0];
	env[1] = store[1];
	env[2] = store[2];
	env[3] = store[3];
	env[4] = "WINEDEBUG=-all";
	env[5] = "WINEDLLOVERRIDES=mscoree,mshtml="; /* no Mono or Gecko installer dialogs */
	env[6] = "PATH=/usr/lib/wine:/usr/bin:/bin";
	env[7] = NULL;
}

/*
 * A Wine prefix of the test's own (wineboot), with a Japanese font in its
 * Windows fonts folder: a Wine prefix has none of Yu Gothic, Meiryo or MS
 * Gothic, and the viewer then takes the first font there that has 日.
 */
static void vt_wine_prepare(const char *lang)
{
	char *argv[] = { VT_WINE, "wineboot", "--init", NULL };
	char *env[8], store[4][360], log[320], out[512];
	int status = 0;
	pid_t pid;
	double end;

	IT_ASSERT(access(VT_VIEWER_EXE, R_OK) == 0,
		  "%s is missing: tests/run.sh builds it (deploy/build-windows-viewer.sh --out "
		  "%s/windows)",
		  VT_VIEWER_EXE, PIXELGATE_BUILD_DIR);
	snprintf(vt.wine_prefix, sizeof vt.wine_prefix, "%s/wine", it.dir);
	/* Wine makes a prefix only in a directory of ours (the world's is not) */
	IT_ASSERT(mkdir(vt.wine_prefix, 0700) == 0, "mkdir %s: %s", vt.wine_prefix,
		  strerror(errno));
	vt_wine_env(env, store, lang);
	snprintf(log, sizeof log, "%s/wineboot.log", it.dir);
	pid = it_extra_start("wineboot", argv, env, -1, log);
	for (end = it_now_s() + VT_WINEBOOT_S; it_extra_running(pid, &status); it_sleep_ms(200))
		IT_ASSERT(it_now_s() < end, "wineboot --init did not finish within %d s (log %s)",
			  VT_WINEBOOT_S, log);
	IT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "wineboot --init failed (status %d; log %s)", status, log);
	IT_ASSERT(it_run(out, sizeof out, "cp '%s' '%s/drive_c/windows/Fonts/'", VT_CJK_FONT,
			 vt.wine_prefix) == 0,
		  "copying %s into the Wine prefix: %s", VT_CJK_FONT, out);
}

/* Runs a Windows program of the test's Wine prefix to its end (args: a
   shell-quoted tail, no single quotes): its exit status; out gets its
   output. */
static int vt_wine_run(char *out, size_t outlen, const char *args)
{
	return it_run(out, outlen,
		      "env -i DISPLAY=:%d WINEPREFIX='%s' HOME='%s' LANG=C.UTF-8 WINEDEBUG=-all "
		      "PATH=/usr/lib/wine:/usr/bin:/bin %s %s",
		      vt.display, vt.wine_prefix, it.dir, VT_WINE, args);
}

/* Starts the Windows viewer under Wine (vt_start_viewer()'s work for it). */
static pid_t vt_start_wine_viewer(const char *user, const char *server, const char *pwfile,
				  const char *lang)
{
	char ca[400], pw[400], logw[400];
	char *argv[] = { VT_WINE,      VT_VIEWER_EXE, "--server",   (char *)server,    "--ca",
			 ca,           "--user",      (char *)user, "--password-file", pw,
			 "--log-file", logw,          NULL };
	char *env[8], store[4][360], wine_log[320];

	if (!vt.wine_prefix[0])
		vt_wine_prepare(lang);
	if (vt.wine_exe[0])
		argv[1] = vt.wine_exe;
	vt_wine_path(it.ca_file, ca, sizeof ca);
	vt_wine_path(pwfile, pw, sizeof pw);
	vt_wine_path(vt.viewer_log, logw, sizeof logw);
	vt_wine_env(env, store, lang);
	snprintf(wine_log, sizeof wine_log, "%s/wine.log", it.dir);
	return it_extra_start("wine-viewer", argv, env, -1, wine_log);
}

/* The environment a viewer runs in on our display (strings in store). */
struct vt_env {
	char *envp[16];
	char xdg[320], display[32], lang[64], env_xdg[360], asan[512], ubsan[512], home[360];
};

static void vt_viewer_env(struct vt_env *e, const char *lang)
{
	const char *asan = getenv("ASAN_OPTIONS"), *ubsan = getenv("UBSAN_OPTIONS");
	int n = 0;
	char *xdg = e->xdg;

	/* an empty per-user config directory: nothing of the machine's user leaks in */
	snprintf(xdg, sizeof e->xdg, "%s/xdg", it.dir);
	IT_ASSERT(mkdir(xdg, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", xdg, strerror(errno));
	snprintf(e->display, sizeof e->display, "DISPLAY=:%d", vt.display);
	snprintf(e->lang, sizeof e->lang, "LANG=%s", lang);
	snprintf(e->env_xdg, sizeof e->env_xdg, "XDG_CONFIG_HOME=%s", xdg);
	snprintf(e->home, sizeof e->home, "HOME=%s", it.dir);
	e->envp[n++] = e->display;
	e->envp[n++] = e->lang;
	e->envp[n++] = e->env_xdg;
	e->envp[n++] = e->home;
	e->envp[n++] = "SDL_VIDEODRIVER=x11";
	e->envp[n++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	if (asan) {
		snprintf(e->asan, sizeof e->asan, "ASAN_OPTIONS=%s", asan);
		e->envp[n++] = e->asan;
	}
	if (ubsan) {
		snprintf(e->ubsan, sizeof e->ubsan, "UBSAN_OPTIONS=%s", ubsan);
		e->envp[n++] = e->ubsan;
	}
	e->envp[n] = NULL;
}

static void vt_wait_window(double t0, const char *how, const char *what);

static void vt_start_viewer(const char *user, const char *password, int port, const char *lang)
{
	char server[64], pwfile[320];
	char *argv[] = { VT_VIEWER,    "--server",        server, "--ca", it.ca_file, "--user",
			 (char *)user, "--password-file", pwfile, NULL };
	struct vt_env e;
	int fd;
	double t0;

	snprintf(server, sizeof server, "https://127.0.0.1:%d", port);
	snprintf(pwfile, sizeof pwfile, "%s/viewer-password", it.dir);
	fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	IT_ASSERT(fd >= 0, "open %s: %s", pwfile, strerror(errno));
	IT_ASSERT(write(fd, password, strlen(password)) == (ssize_t)strlen(password) &&
		      write(fd, "\n", 1) == 1,
		  "write %s: %s", pwfile, strerror(errno));
	close(fd);
	vt_viewer_env(&e, lang);

	snprintf(vt.viewer_log, sizeof vt.viewer_log, "%s/viewer.log", it.dir);
	t0 = it_now_s();
	if (vt.wine)
		vt.viewer_pid = vt_start_wine_viewer(user, server, pwfile, lang);
	else
		vt.viewer_pid = it_extra_start("viewer", argv, e.envp, -1, vt.viewer_log);
	vt_wait_window(t0, "--name", "pixelgate");
}

/* Waits for the viewer's window (started at t0; found with xdotool search
   how what) and keeps its id in vt.win. */
static void vt_wait_window(double t0, const char *how, const char *what)
{
	char out[256];

	/* the only window on our display that has a name; a search that meets
	   a window being destroyed meanwhile (Wine makes and drops windows while
	   it starts) ends with BadWindow: search again until the deadline */
	int rc = -1;
	for (double end = t0 + VT_WINDOW_S; it_now_s() < end; it_sleep_ms(200)) {
		rc = vt_x(out, sizeof out, end - it_now_s(), VT_XDOTOOL, "search", "--sync",
			  "--onlyvisible", how, what, NULL);
		if (rc == 0 && out[0])
			break;
	}
	IT_ASSERT(rc == 0 && out[0], "the viewer's window did not show within %d s (%s); viewer %s",
		  VT_WINDOW_S, vt_tool_error(),
		  it_extra_running(vt.viewer_pid, NULL) ? "running" : "exited");
	vt.win = strtoul(out, NULL, 10);
	IT_ASSERT(vt.win != 0, "xdotool search printed \"%s\"", out);
	fprintf(stderr, "[%s] viewer window 0x%lx after %.1f s\n", it.test_name, vt.win,
		it_now_s() - t0);
}

/*
 * Waits until the viewer's log holds at least count lines containing needle.
 * Returns false after timeout_s, or at once if the viewer exited.
 */
static bool vt_wait_log(const char *needle, int count, double timeout_s)
{
	double end = it_now_s() + timeout_s;

	for (;;) {
		if (it_file_count(vt.viewer_log, needle) >= count)
			return true;
		if (it_now_s() >= end || !it_extra_running(vt.viewer_pid, NULL))
			return it_file_count(vt.viewer_log, needle) >= count;
		it_sleep_ms(100);
	}
}

/* "running" or how the viewer ended, for messages. */
static const char *vt_viewer_state(void)
{
	static char buf[64];
	int status = 0;

	if (it_extra_running(vt.viewer_pid, &status))
		return "running";
	snprintf(buf, sizeof buf, "exited (%s %d)", WIFEXITED(status) ? "status" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return buf;
}

/*
 * Closes the Windows viewer as a user would (Alt+F4: WM_CLOSE; a Windows
 * program is not signalled) and waits for it: a problem is added to
 * problems unless it ends with status 0 within VT_WINE_EXIT_S.
 */
static void vt_wine_close(char *problems, size_t len)
{
	char win[32];
	int status = 0;
	double end = it_now_s() + VT_WINE_EXIT_S;

	snprintf(win, sizeof win, "%lu", vt.win);
	vt_x(NULL, 0, VT_TOOL_S, VT_XDOTOOL, "key", "--window", win, "alt+F4", NULL);
	while (it_extra_running(vt.viewer_pid, &status) && it_now_s() < end)
		it_sleep_ms(100);
	if (it_extra_running(vt.viewer_pid, NULL) ||
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		size_t used = strlen(problems);

		snprintf(problems + used, len - used,
			 "%sthe Windows viewer did not exit cleanly within %d s of Alt+F4 (%s)",
			 used ? "; " : "", VT_WINE_EXIT_S, vt_viewer_state());
	}
}

/* The session size from the viewer's "connected: session WxH" line. */
static void vt_session_size(int *w, int *h)
{
	FILE *f = fopen(vt.viewer_log, "r");
	char line[1024];

	*w = *h = 0;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		const char *p = strstr(line, "connected: session ");

		if (p)
			sscanf(p + strlen("connected: session "), "%dx%d", w, h);
	}
	fclose(f);
}

/* ---- pixels --------------------------------------------------------------- */

static uint32_t vt_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Value of the bits of v under mask, scaled to 0..255. */
static int vt_channel(uint32_t v, uint32_t mask)
{
	int shift = 0;
	uint32_t max;

	if (!mask)
		return 0;
	while (!(mask & 1u << shift))
		shift++;
	max = mask >> shift;
	return (int)(((v & mask) >> shift) * 255u / max);
}

/*
 * Parses an XWD dump (X11/XWDFile.h: a big-endian header of 25 CARD32s and
 * the window name, ncolors 12-byte colour entries, then the image rows in the
 * header's byte order). Only 32 bits per pixel ZPixmap true colour, which is
 * what a depth-24 Xvfb gives. Returns NULL or why it is not usable.
 */
static const char *vt_parse_xwd(const uint8_t *d, size_t len, struct vt_img *img)
{
	uint32_t hsize, format, width, height, byte_order, bpp, bpl, rmask, gmask, bmask, ncolors;
	size_t off;

	if (len < 100)
		return "shorter than its header";
	hsize = vt_be32(d);
	format = vt_be32(d + 2 * 4);
	width = vt_be32(d + 4 * 4);
	height = vt_be32(d + 5 * 4);
	byte_order = vt_be32(d + 7 * 4);
	bpp = vt_be32(d + 11 * 4);
	bpl = vt_be32(d + 12 * 4);
	rmask = vt_be32(d + 14 * 4);
	gmask = vt_be32(d + 15 * 4);
	bmask = vt_be32(d + 16 * 4);
	ncolors = vt_be32(d + 19 * 4);
	if (vt_be32(d + 4) != 7)
		return "not XWD version 7";
	if (format != 2 || bpp != 32)
		return "not a 32 bits per pixel ZPixmap";
	if (width == 0 || height == 0 || width > 16384 || height > 16384 || bpl < width * 4 ||
	    hsize < 100)
		return "implausible size";
	off = (size_t)hsize + (size_t)ncolors * 12;
	if (off > len || (len - off) / bpl < height)
		return "truncated";
	free(vt.rgb);
	vt.rgb = malloc((size_t)width * height * 3);
	if (!vt.rgb)
		return "out of memory";
	img->rgb = vt.rgb;
	img->w = (int)width;
	img->h = (int)height;
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++) {
			const uint8_t *p = d + off + (size_t)y * bpl + (size_t)x * 4;
			uint32_t v = byte_order == 0 ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
				(uint32_t)p[1] << 8 | p[0]
						     : vt_be32(p);
			uint8_t *o = vt.rgb + ((size_t)y * width + x) * 3;

			o[0] = (uint8_t)vt_channel(v, rmask);
			o[1] = (uint8_t)vt_channel(v, gmask);
			o[2] = (uint8_t)vt_channel(v, bmask);
		}
	return NULL;
}

/* Captures the viewer's window with xwd; fails the test if that fails. */
static void vt_capture(struct vt_img *img)
{
	char id[32];
	struct stat st;
	const char *err;
	ssize_t got;
	int fd, rc;

	memset(img, 0, sizeof *img);
	snprintf(vt.xwd_file, sizeof vt.xwd_file, "%s/window.xwd", it.dir);
	snprintf(id, sizeof id, "0x%lx", vt.win);
	unlink(vt.xwd_file);
	rc = vt_x(NULL, 0, VT_TOOL_S, VT_XWD, "-silent", "-id", id, "-out", vt.xwd_file, NULL);
	IT_ASSERT(rc == 0, "xwd -id %s failed (%d): %s; viewer %s", id, rc, vt_tool_error(),
		  vt_viewer_state());
	fd = open(vt.xwd_file, O_RDONLY | O_CLOEXEC);
	IT_ASSERT(fd >= 0 && fstat(fd, &st) == 0, "%s: %s", vt.xwd_file, strerror(errno));
	free(vt.xwd);
	vt.xwd = malloc((size_t)st.st_size + 1);
	got = vt.xwd ? read(fd, vt.xwd, (size_t)st.st_size) : -1;
	close(fd);
	IT_ASSERT(got == st.st_size, "read %s: %s", vt.xwd_file, strerror(errno));
	err = vt_parse_xwd(vt.xwd, (size_t)st.st_size, img);
	IT_ASSERT(err == NULL, "%s (%lld bytes): %s", vt.xwd_file, (long long)st.st_size, err);
}

static const uint8_t *vt_px(const struct vt_img *img, int x, int y)
{
	return img->rgb + ((size_t)y * (size_t)img->w + (size_t)x) * 3;
}

static bool vt_near(const uint8_t *p, int r, int g, int b, int tol)
{
	return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

/*
 * The block's pixels: its colour, with room for a scaled picture's linear
 * filtering at the edges (a pixel that is mostly block still counts).
 */
static bool vt_is_block(const struct vt_img *img, int x, int y)
{
	return x >= 0 && y >= 0 && x < img->w && y < img->h &&
	    vt_near(vt_px(img, x, y), PAGE_BLOCK_R, PAGE_BLOCK_G, PAGE_BLOCK_B, 40);
}

/*
 * Finds the test page's block in a capture: the largest 4-connected area of
 * its colour that fills at least 97% of its bounding box, the box in r.
 */
static bool vt_find_block(const struct vt_img *img, struct it_rect *r)
{
	size_t n = (size_t)img->w * (size_t)img->h;
	uint8_t *seen = calloc(n, 1);
	int *stack = malloc(n * sizeof *stack);
	long best = 0;

	IT_ASSERT(seen && stack, "out of memory");
	for (int y0 = 0; y0 < img->h; y0++)
		for (int x0 = 0; x0 < img->w; x0++) {
			size_t top = 0;
			long count = 0;
			int minx = x0, maxx = x0, miny = y0, maxy = y0;

			if (seen[(size_t)y0 * img->w + x0] || !vt_is_block(img, x0, y0))
				continue;
			seen[(size_t)y0 * img->w + x0] = 1;
			stack[top++] = y0 * img->w + x0;
			while (top) {
				int i = stack[--top], x = i % img->w, y = i / img->w;
				static const int dx[4] = { 1, -1, 0, 0 }, dy[4] = { 0, 0, 1, -1 };

				count++;
				minx = x < minx ? x : minx;
				maxx = x > maxx ? x : maxx;
				miny = y < miny ? y : miny;
				maxy = y > maxy ? y : maxy;
				for (int k = 0; k < 4; k++) {
					int nx = x + dx[k], ny = y + dy[k];

					if (!vt_is_block(img, nx, ny) ||
					    seen[(size_t)ny * img->w + nx])
						continue;
					seen[(size_t)ny * img->w + nx] = 1;
					stack[top++] = ny * img->w + nx;
				}
			}
			if (count > best && count >= 100 &&
			    count * 100 >= (long)(maxx - minx + 1) * (maxy - miny + 1) * 97) {
				best = count;
				r->x = minx;
				r->y = miny;
				r->w = maxx - minx + 1;
				r->h = maxy - miny + 1;
			}
		}
	free(seen);
	free(stack);
	return best > 0;
}

/* Where a rectangle of the remote screen (fb_w x fb_h) lands in a window of
   win_w x win_h: scaled by the smaller ratio, aspect kept, centred. */
static struct it_rect vt_expect(int win_w, int win_h, int fb_w, int fb_h, const struct it_rect *fb)
{
	double sx = (double)win_w / fb_w, sy = (double)win_h / fb_h, s = sx < sy ? sx : sy;
	double ox = (win_w - fb_w * s) / 2, oy = (win_h - fb_h * s) / 2;
	struct it_rect e;

	e.x = (int)(ox + fb->x * s + 0.5);
	e.y = (int)(oy + fb->y * s + 0.5);
	e.w = (int)(fb->w * s + 0.5);
	e.h = (int)(fb->h * s + 0.5);
	return e;
}

static bool vt_rect_near(const struct it_rect *a, const struct it_rect *b, int tol)
{
	return abs(a->x - b->x) <= tol && abs(a->y - b->y) <= tol && abs(a->w - b->w) <= tol &&
	    abs(a->h - b->h) <= tol;
}

/*
 * Captures the window until it is win_w x win_h (0: any size) and shows the
 * block near want (NULL: of the page's own size, i.e. at scale 1), or until
 * timeout_s. Returns true on a match; img and r hold the last capture and
 * what was found in it (r->w == 0 if no block).
 */
static bool vt_wait_block(int win_w, int win_h, const struct it_rect *want, int tol,
			  double timeout_s, struct vt_img *img, struct it_rect *r)
{
	double end = it_now_s() + timeout_s;
	struct it_rect one = { 0, 0, PAGE_BLOCK_W, PAGE_BLOCK_H };

	for (;;) {
		bool found;

		vt_capture(img);
		memset(r, 0, sizeof *r);
		found = vt_find_block(img, r);
		if (found && (!win_w || (img->w == win_w && img->h == win_h))) {
			if (want && vt_rect_near(r, want, tol))
				return true;
			one.x = r->x;
			one.y = r->y;
			if (!want && vt_rect_near(r, &one, tol))
				return true;
		}
		if (it_now_s() >= end)
			return false;
		IT_ASSERT(it_extra_running(vt.viewer_pid, NULL),
			  "the viewer %s while the test waited for its picture", vt_viewer_state());
		it_sleep_ms(500);
	}
}

/* Window point of a page point, from where the block is in the window. */
static int vt_page_x(const struct it_rect *b, int page_x)
{
	return b->x + (int)((double)(page_x - PAGE_BLOCK_X) * b->w / PAGE_BLOCK_W + 0.5);
}

static int vt_page_y(const struct it_rect *b, int page_y)
{
	return b->y + (int)((double)(page_y - PAGE_BLOCK_Y) * b->h / PAGE_BLOCK_H + 0.5);
}

/* Clicks the page's text field through the viewer's window and gives the
   window the keyboard focus. */
static void vt_click_field(const struct it_rect *block)
{
	char x[16], y[16], win[32];
	int before = it_focus_count(), now = before;

	snprintf(win, sizeof win, "%lu", vt.win);
	snprintf(x, sizeof x, "%d", vt_page_x(block, PAGE_FIELD_X + PAGE_FIELD_W / 2));
	snprintf(y, sizeof y, "%d", vt_page_y(block, PAGE_FIELD_Y + PAGE_FIELD_H / 2));
	VT_XDO("windowfocus", "--sync", win);
	VT_XDO("mousemove", "--window", win, x, y);
	it_sleep_ms(300);
	VT_XDO("click", "1");
	/* the focus lands in the field before the first key: the page says so */
	for (double end = it_now_s() + IT_REPORT_S; now == before && it_now_s() < end;
	     it_sleep_ms(50))
		now = it_focus_count();
	IT_ASSERT(now > before,
		  "the page's field did not get the focus within %d s of a click "
		  "in the viewer's window",
		  IT_REPORT_S);
}

/* Types text into the focused viewer window, one key every 50 ms. */
/*
 * Binds each character of text that our display's keymap lacks to a free
 * keycode of its own, before xdotool starts. Otherwise xdotool binds one
 * scratch keycode per character while it types, and a viewer that reads the
 * MappingNotify late fetches the mapping of a later character ("abc 本本語"
 * seen under load): a race of the test's tool, not of the viewer.
 */
static void vt_bind_chars(const char *text)
{
	char name[32];
	int lo, hi, per;
	size_t len = strlen(text);
	Display *d;
	KeySym *map;

	snprintf(name, sizeof name, ":%d", vt.display);
	d = XOpenDisplay(name);
	IT_ASSERT(d != NULL, "cannot open display %s", name);
	XDisplayKeycodes(d, &lo, &hi);
	map = XGetKeyboardMapping(d, (KeyCode)lo, hi - lo + 1, &per);
	IT_ASSERT(map != NULL, "no keyboard mapping on %s", name);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next((const unsigned char *)text + i, len - i, &cp);
		KeySym ks = 0x01000000UL | cp;
		int kc = 0;

		IT_ASSERT(n > 0, "\"%s\" is not UTF-8", text);
		i += n;
		bool bound = cp < 0x80;

		for (int j = 0; j < (hi - lo + 1) * per && !bound; j++)
			bound = map[j] == ks;
		if (bound)
			continue;
		for (int c = hi; c >= lo && kc == 0; c--) {
			bool empty = true;

			for (int j = 0; j < per; j++)
				empty &= map[(c - lo) * per + j] == NoSymbol;
			if (empty)
				kc = c;
		}
		IT_ASSERT(kc != 0, "no free keycode on %s for U+%04X", name, (unsigned)cp);
		map[(kc - lo) * per] = ks;
		XChangeKeyboardMapping(d, kc, 1, &ks, 1);
	}
	XSync(d, False);
	XFree(map);
	XCloseDisplay(d);
}

/* Types text (no quote characters) into the Windows viewer under Wine as
   Unicode text input (tests/fixtures/wintype.c). */
static void vt_wine_type(const char *text)
{
	char out[512], args[700];
	int rc;

	snprintf(args, sizeof args, "'%s' '%s'", VT_WINTYPE, text);
	rc = vt_wine_run(out, sizeof out, args);

	IT_ASSERT(rc == 0, "wintype.exe \"%s\": exit status %d (%s)", text, rc, out);
}

static void vt_type(const char *text)
{
	char win[32];

	if (vt.wine) {
		/*
		 * ASCII as keys (xdotool: X key events that Wine makes Windows
		 * key messages, scan codes and all), the rest as Unicode text
		 * input, as a Windows input method commits it (Wine turns X key
		 * events of Unicode keysyms into keys without a character).
		 */
		snprintf(win, sizeof win, "%lu", vt.win);
		for (size_t i = 0; text[i];) {
			char run[256];
			size_t n = 0;
			bool ascii = (unsigned char)text[i] < 0x80;

			while (text[i] && ((unsigned char)text[i] < 0x80) == ascii &&
			       n < sizeof run - 1)
				run[n++] = text[i++];
			run[n] = '\0';
			VT_XDO("windowfocus", "--sync", win);
			if (ascii)
				VT_XDO("type", "--delay", "50", run);
			else
				vt_wine_type(run);
		}
		return;
	}
	vt_bind_chars(text);
	snprintf(win, sizeof win, "%lu", vt.win);
	VT_XDO("windowfocus", "--sync", win);
	VT_XDO("type", "--delay", "50", text);
}

/*
 * The values the page server was told, in order (its log's "report seq=N
 * '...'" lines), joined with " | " into buf; returns how many there were and
 * whether each is a prefix of want (a character typed twice shows as a value
 * that is not, even if a later one is right again).
 */
static int vt_reports(const char *want, char *buf, size_t len, bool *all_prefixes)
{
	FILE *f = fopen(it.page_log, "r");
	char line[2048];
	size_t used = 0;
	int n = 0;

	*all_prefixes = true;
	buf[0] = '\0';
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char *p = strstr(line, "report seq="), *q, *e;

		if (!p || !(q = strchr(p, '\'')) || !(e = strrchr(q + 1, '\'')))
			continue;
		*e = '\0';
		q++;
		n++;
		if (strncmp(want, q, strlen(q)) != 0)
			*all_prefixes = false;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s\"%s\"",
						 n > 1 ? " | " : "", q);
	}
	fclose(f);
	return n;
}

/* Counts pixels of the capture near the colour (r, g, b). */
static long vt_count_colour(const struct vt_img *img, int r, int g, int b, int tol)
{
	long n = 0;

	for (int y = 0; y < img->h; y++)
		for (int x = 0; x < img->w; x++)
			n += vt_near(vt_px(img, x, y), r, g, b, tol);
	return n;
}

/* Asserts that every pixel of the capture in [x0, x1) x [y0, y1) is black. */
static void vt_assert_black(const struct vt_img *img, int x0, int y0, int x1, int y1,
			    const char *what)
{
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			const uint8_t *p = vt_px(img, x, y);

			IT_ASSERT(vt_near(p, 0, 0, 0, 8),
				  "%s bar (%d,%d)-(%d,%d): pixel (%d,%d) is rgb(%d,%d,%d), "
				  "want black",
				  what, x0, y0, x1, y1, x, y, p[0], p[1], p[2]);
		}
}

/* Asserts that the picture is centred: black bars where the window is wider
   or taller than the scaled picture (a pixel of slack at the picture's edge),
   the page's white just inside the picture's corners. */
static void vt_assert_bars(const struct vt_img *img, int fb_w, int fb_h)
{
	struct it_rect all = { 0, 0, fb_w, fb_h };
	struct it_rect pic = vt_expect(img->w, img->h, fb_w, fb_h, &all);
	const int corners[2][2] = { { pic.x + 3, pic.y + pic.h - 4 },
				    { pic.x + pic.w - 4, pic.y + pic.h - 4 } };

	vt_assert_black(img, 0, 0, img->w, pic.y - 1, "top");
	vt_assert_black(img, 0, pic.y + pic.h + 1, img->w, img->h, "bottom");
	vt_assert_black(img, 0, 0, pic.x - 1, img->h, "left");
	vt_assert_black(img, pic.x + pic.w + 1, 0, img->w, img->h, "right");
	for (int i = 0; i < 2; i++) {
		const uint8_t *p = vt_px(img, corners[i][0], corners[i][1]);

		IT_ASSERT(vt_near(p, 255, 255, 255, 16),
			  "inside the picture's corner (%d,%d) is rgb(%d,%d,%d), want the page's "
			  "white (picture at %d,%d %dx%d in a %dx%d window)",
			  corners[i][0], corners[i][1], p[0], p[1], p[2], pic.x, pic.y, pic.w,
			  pic.h, img->w, img->h);
	}
}

/* ---- set-up and teardown -------------------------------------------------- */

/* A viewer that starts and logs in: the block at scale 1, with the window
   and session sizes. */
static void vt_open(const char *user, int port, struct vt_img *img, struct it_rect *block,
		    int *fb_w, int *fb_h)
{
	double t0;

	vt_start_xvfb();
	vt_start_viewer(user, it_password(user), port, vt.lang ? vt.lang : "C.UTF-8");
	t0 = it_now_s();
	IT_ASSERT(vt_wait_log("pixelgate-viewer: connected: session ", 1, IT_FIRST_PAGE_S),
		  "the viewer did not log \"connected: session\" within %d s; viewer %s",
		  IT_FIRST_PAGE_S, vt_viewer_state());
	vt_session_size(fb_w, fb_h);
	IT_ASSERT(vt_wait_block(0, 0, NULL, 1, IT_FIRST_PAGE_S, img, block),
		  "the viewer's %dx%d window does not show the test page's %dx%d block at scale 1 "
		  "after %.0f s (largest block-coloured area: %d,%d %dx%d; session %dx%d)",
		  img->w, img->h, PAGE_BLOCK_W, PAGE_BLOCK_H, it_now_s() - t0, block->x, block->y,
		  block->w, block->h, *fb_w, *fb_h);
	fprintf(stderr, "[%s] window %dx%d, session %dx%d, block at %d,%d (%dx%d) after %.1f s\n",
		it.test_name, img->w, img->h, *fb_w, *fb_h, block->x, block->y, block->w, block->h,
		it_now_s() - t0);
}

/*
 * The teardown hook of every viewer test (vt_start_xvfb() registers it):
 * stops the viewer, which must end on SIGTERM with exit status 0 (as when
 * the session closes), and keeps the last picture of its window if anything
 * went wrong. The harness then reads the viewer's log for sanitizer reports
 * and ends the rest.
 */
static void vt_teardown(char *problems, size_t len)
{
	if (vt.wine && vt.viewer_pid > 0 && vt.win && it_extra_running(vt.viewer_pid, NULL))
		vt_wine_close(problems, len);
	if (vt.viewer_pid > 0 && vt.wine) {
		it_extra_stop(vt.viewer_pid, 5);
		vt.viewer_pid = 0;
	}
	if (vt.wine && vt.wine_prefix[0]) {
		/* Wine's own processes (wineserver, services, explorer) end with it */
		char out[256];

		it_run(out, sizeof out, "WINEPREFIX='%s' %s -k", vt.wine_prefix, VT_WINESERVER);
	}
	if (vt.viewer_pid > 0) {
		bool was_running = it_extra_running(vt.viewer_pid, NULL);
		double t0 = it_now_s();
		int status = it_extra_stop(vt.viewer_pid, 15);

		if (was_running && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			size_t used = strlen(problems);

			snprintf(problems + used, len - used,
				 "%sthe viewer did not exit cleanly on SIGTERM (%s %d after %.1f s)",
				 used ? "; " : "", WIFEXITED(status) ? "exit status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				 it_now_s() - t0);
		}
	}
	/* the last picture of the window, for whoever reads the failure */
	if ((it.failed || problems[0] || getenv("PIXELGATE_IT_KEEP_LOGS")) && vt.xwd_file[0] &&
	    access(vt.xwd_file, R_OK) == 0) {
		char cmd[1200];

		mkdir("/tmp/pixelgate-it-logs", 0755);
		snprintf(cmd, sizeof cmd, "cp '%s' '/tmp/pixelgate-it-logs/%s-window.xwd'",
			 vt.xwd_file, it.test_name);
		if (system(cmd) == 0)
			fprintf(stderr,
				"*** kept the last capture of the viewer's window: "
				"/tmp/pixelgate-it-logs/%s-window.xwd\n",
				it.test_name);
	}
	free(vt.xwd);
	free(vt.rgb);
	memset(&vt, 0, sizeof vt);
}

/* ---- the tests ------------------------------------------------------------ */

/* 1. The viewer logs in with --password-file; its window shows the page at
   the scale the window implies: at login the session is the window's client
   area, so 1:1, where a plain client of the same session sees it. */
IT_TEST(viewer, shows_page_scaled)
{
	static const char *const users[] = { "v1-alice", NULL };
	struct vt_img img = { 0 };
	struct it_rect block, want, seen;
	struct pgc_conn *c;
	char title[256], expect[256], win[32];
	int fb_w, fb_h;

	it_start("viewer_shows_page_scaled", users);
	vt_open("v1-alice", it.port, &img, &block, &fb_w, &fb_h);

	/* the session is the window's client area at login: scale 1 */
	IT_ASSERT(fb_w == img.w && fb_h == img.h,
		  "session %dx%d, but the window's client area at login was %dx%d", fb_w, fb_h,
		  img.w, img.h);
	IT_ASSERT(block.w == PAGE_BLOCK_W && block.h == PAGE_BLOCK_H,
		  "block is %dx%d in the window, want the page's %dx%d at scale 1", block.w,
		  block.h, PAGE_BLOCK_W, PAGE_BLOCK_H);

	snprintf(win, sizeof win, "%lu", vt.win);
	IT_ASSERT(vt_x(title, sizeof title, VT_TOOL_S, VT_XDOTOOL, "getwindowname", win, NULL) == 0,
		  "xdotool getwindowname: %s", vt_tool_error());
	snprintf(expect, sizeof expect, "pixelgate — v1-alice@127.0.0.1:%d", it.port);
	IT_ASSERT(strcmp(title, expect) == 0, "window title \"%s\", want \"%s\"", title, expect);

	/* where the remote screen really has it: a client of the same session
	   (it takes the session over; the viewer is told it was replaced) */
	c = it_login_connect("v1-alice", fb_w, fb_h);
	IT_ASSERT(it_wait_block(c, 30, &seen), "a client of the same session sees no block (%s)",
		  pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	IT_ASSERT(pgc_rfb(c)->width == fb_w && pgc_rfb(c)->height == fb_h,
		  "the session is %dx%d for a second client, the viewer said %dx%d",
		  pgc_rfb(c)->width, pgc_rfb(c)->height, fb_w, fb_h);
	want = vt_expect(img.w, img.h, fb_w, fb_h, &seen);
	IT_ASSERT(vt_rect_near(&block, &want, 0),
		  "viewer shows the block at %d,%d %dx%d; the session has it at %d,%d %dx%d, so "
		  "in a %dx%d window it belongs at %d,%d %dx%d",
		  block.x, block.y, block.w, block.h, seen.x, seen.y, seen.w, seen.h, img.w, img.h,
		  want.x, want.y, want.w, want.h);
	it_conn_free(c);
}

/* Typing into the viewer's window (ASCII, a space, Japanese as Unicode
   keysyms, which SDL delivers as text input) reaches the page's field with
   every character exactly once, and the window shows it. */
static void vt_typing_reaches_page_once(const char *user)
{
	static const char want[] = "abc 日本語";
	struct vt_img img = { 0 };
	struct it_rect block;
	char last[512], reports[2048];
	int fb_w, fb_h, n;
	bool ok, prefixes;

	vt_open(user, it.port, &img, &block, &fb_w, &fb_h);
	vt_click_field(&block);
	vt_type(want);
	ok = it_wait_last(want, IT_REPORT_S, NULL, NULL, last, sizeof last);
	n = vt_reports(want, reports, sizeof reports, &prefixes);
	IT_ASSERT(ok, "the page's field holds \"%s\", want \"%s\" (reports: %s)", last, want,
		  reports);
	/* nothing comes late (a key event and a text event for one keystroke) */
	it_sleep_ms(3000);
	IT_ASSERT(it_page_get("/last", last, sizeof last) == 200 && strcmp(last, want) == 0,
		  "3 s later the page's field holds \"%s\", want \"%s\"", last, want);
	n = vt_reports(want, reports, sizeof reports, &prefixes);
	IT_ASSERT(prefixes, "the field held a value that is not a prefix of \"%s\" on the way: %s",
		  want, reports);
	fprintf(stderr, "[%s] %d reports: %s\n", it.test_name, n, reports);

	/* and the window shows it: the field's inside is no longer empty */
	{
		struct it_rect f = { vt_page_x(&block, PAGE_FIELD_X) + 4,
				     vt_page_y(&block, PAGE_FIELD_Y) + 4,
				     vt_page_x(&block, PAGE_FIELD_X + PAGE_FIELD_W) - 4,
				     vt_page_y(&block, PAGE_FIELD_Y + PAGE_FIELD_H) - 4 };
		long dark = 0;

		for (double end = it_now_s() + VT_REDRAW_S;; it_sleep_ms(500)) {
			vt_capture(&img);
			dark = 0;
			for (int y = f.y; y < f.h && y < img.h; y++)
				for (int x = f.x; x < f.w && x < img.w; x++)
					dark += vt_px(&img, x, y)[0] < 128;
			if (dark >= 50 || it_now_s() >= end)
				break;
		}
		IT_ASSERT(dark >= 50,
			  "the page got the text but the viewer's window shows the field "
			  "(%d,%d)-(%d,%d) empty (%ld dark pixels)",
			  f.x, f.y, f.w, f.h, dark);
	}
}

/* 2. Typing reaches the page once (vt_typing_reaches_page_once). */
IT_TEST(viewer, typing_reaches_page_once)
{
	static const char *const users[] = { "v2-bob", NULL };

	it_start("viewer_typing_reaches_page_once", users);
	vt_typing_reaches_page_once("v2-bob");
}

/* 2b. The same with LANG naming a locale this machine does not have (as a
   terminal set to Japanese where ja_JP.UTF-8 was never generated): the
   viewer says once that it handles characters as C.UTF-8, and Japanese
   still reaches the page. */
IT_TEST(viewer, typing_works_without_the_locale)
{
	static const char *const users[] = { "v2b-bob", NULL };
	static const char *const langs[] = { "ja_JP.UTF-8", "ja_XX.UTF-8" };
	locale_t loc = (locale_t)0;

	it_start("viewer_typing_works_without_the_locale", users);
	/* ja_JP.UTF-8 unless this machine has it generated */
	for (size_t i = 0; i < sizeof langs / sizeof langs[0] && !vt.lang; i++) {
		loc = newlocale(LC_CTYPE_MASK, langs[i], (locale_t)0);
		if (loc != (locale_t)0)
			freelocale(loc);
		else
			vt.lang = langs[i];
	}
	IT_ASSERT(vt.lang != NULL, "every locale this test would name is installed");
	vt_typing_reaches_page_once("v2b-bob");
	IT_ASSERT(it_file_count(vt.viewer_log, "is not installed") == 1,
		  "with LANG=%s the viewer did not say once that the locale is missing (log %s)",
		  vt.lang, vt.viewer_log);
}

/* 2c. The Windows viewer (pixelgate-viewer.exe, MinGW-w64) under Wine on its
   own Xvfb: logs in over TLS with the pinned CA and --password-file (its
   access list checked by Windows' rules), shows the page 1:1, and typed text,
   Japanese included (Unicode keysyms Wine hands over as WM_CHAR, which SDL
   delivers as text input), reaches the page exactly once; Alt+F4 ends it
   with status 0 (vt_teardown()). */
IT_TEST(viewer, windows_viewer_under_wine, .timeout = 400)
{
	static const char *const users[] = { "vw-alice", NULL };

	it_start("viewer_windows_viewer_under_wine", users);
	vt.wine = true;
	vt_typing_reaches_page_once("vw-alice");
}

/* The one file under root (a Wine prefix's drive_c) whose name ends with
   suffix, into out; false if none. */
static bool vt_find_file(const char *root, const char *suffix, char *out, size_t len)
{
	char cmd_out[1024];

	if (it_run(cmd_out, sizeof cmd_out, "find '%s' -path '*%s' -print -quit", root, suffix) !=
		0 ||
	    !cmd_out[0])
		return false;
	cmd_out[strcspn(cmd_out, "\n")] = '\0';
	snprintf(out, len, "%s", cmd_out);
	return true;
}

/* 2d. The MSI (msitools' wixl) under Wine: msiexec /i /qn installs the
   viewer under Program Files with a Start-menu entry and makes
   ProgramData\pixelgate; the installed viewer refuses a ProgramData
   viewer.conf that a user, not Administrators, owns (ProgramData lets every
   user create files there: such a file must not pin the server), logs in
   and shows the page; msiexec /x /qn removes it all. */
IT_TEST(viewer, windows_msi_installs_and_uninstalls, .timeout = 400)
{
	static const char *const users[] = { "vm-carol", NULL };
	char out[1024], exe[400], lnk[400], path[400], msi[400], args[512], problems[512] = "";
	struct vt_img img = { 0 };
	struct it_rect block;
	long red = 0;

	it_start("viewer_windows_msi_installs_and_uninstalls", users);
	vt.wine = true;
	vt_start_xvfb();
	vt_wine_prepare("C.UTF-8");
	IT_ASSERT(access(VT_VIEWER_MSI, R_OK) == 0, "%s is missing (tests/run.sh builds it)",
		  VT_VIEWER_MSI);
	vt_wine_path(VT_VIEWER_MSI, msi, sizeof msi);
	snprintf(args, sizeof args, "msiexec /i '%s' /qn", msi);
	IT_ASSERT(vt_wine_run(out, sizeof out, args) == 0, "msiexec /i: %s", out);
	snprintf(exe, sizeof exe, "%s/drive_c/Program Files/pixelgate/pixelgate-viewer.exe",
		 vt.wine_prefix);
	IT_ASSERT(access(exe, X_OK) == 0, "msiexec /i put no %s", exe);
	snprintf(path, sizeof path, "%s/drive_c/Program Files/pixelgate/viewer.conf.example",
		 vt.wine_prefix);
	IT_ASSERT(access(path, R_OK) == 0, "msiexec /i put no %s", path);
	/* the Start-menu entry (Wine puts a per-machine one in the user's menu) */
	IT_ASSERT(vt_find_file(vt.wine_prefix, "Start Menu/Programs/pixelgate.lnk", lnk,
			       sizeof lnk),
		  "no Start-menu entry pixelgate.lnk after msiexec /i");
	snprintf(path, sizeof path, "%s/drive_c/ProgramData/pixelgate", vt.wine_prefix);
	IT_ASSERT(access(path, X_OK) == 0, "msiexec /i made no %s", path);

	/* a viewer.conf a user put there, naming another server: the window says
	   so and the viewer does not log in (IT has to fix the file) */
	snprintf(path, sizeof path, "%s/drive_c/ProgramData/pixelgate/viewer.conf", vt.wine_prefix);
	it_write_file(path, "[viewer]\nserver = https://127.0.0.1:9\n", 0644);
	vt_wine_path(exe, vt.wine_exe, sizeof vt.wine_exe);
	vt_start_viewer("vm-carol", it_password("vm-carol"), it.port, "C.UTF-8");
	IT_ASSERT(vt_wait_log("not to Administrators", 1, VT_LOG_S) &&
		      it_file_count(vt.viewer_log, "; not read") == 1,
		  "the installed viewer did not refuse the user's ProgramData viewer.conf (%s)",
		  vt_viewer_state());
	for (double end = it_now_s() + VT_REDRAW_S;; it_sleep_ms(500)) {
		vt_capture(&img);
		red = vt_count_colour(&img, VT_ERROR_R, VT_ERROR_G, VT_ERROR_B, 24);
		if (red >= 40 || it_now_s() >= end)
			break;
	}
	IT_ASSERT(red >= 40, "the window shows no error text (%ld pixels of its colour)", red);
	IT_ASSERT(it_file_count(vt.viewer_log, "logging in") == 0,
		  "the viewer logged in with a settings file it refused");
	vt_wine_close(problems, sizeof problems);
	IT_ASSERT(!problems[0], "%s", problems);

	/* without it, the installed viewer logs in and shows the page 1:1 */
	IT_ASSERT(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
	vt_start_viewer("vm-carol", it_password("vm-carol"), it.port, "C.UTF-8");
	IT_ASSERT(vt_wait_log("pixelgate-viewer: connected: session ", 1, IT_FIRST_PAGE_S),
		  "the installed viewer did not connect within %d s (%s)", IT_FIRST_PAGE_S,
		  vt_viewer_state());
	IT_ASSERT(vt_wait_block(0, 0, NULL, 1, IT_FIRST_PAGE_S, &img, &block),
		  "the installed viewer's window does not show the test page's block at scale 1");

	vt_wine_close(problems, sizeof problems);
	IT_ASSERT(!problems[0], "%s", problems);
	vt.viewer_pid = 0;
	snprintf(args, sizeof args, "msiexec /x '%s' /qn", msi);
	IT_ASSERT(vt_wine_run(out, sizeof out, args) == 0, "msiexec /x: %s", out);
	IT_ASSERT(access(exe, F_OK) != 0, "msiexec /x left %s", exe);
	IT_ASSERT(access(lnk, F_OK) != 0, "msiexec /x left %s", lnk);
}

/* 3. Resizing the window scales the picture (the session keeps its size),
   aspect kept, centred between black bars, and clicks land where the picture
   shows things; back at the login size it is 1:1 again. */
IT_TEST(viewer, resize_keeps_picture)
{
	static const char *const users[] = { "v3-carol", NULL };
	static const int sizes[][2] = { { 1000, 700 }, { 1200, 500 }, { 0, 0 } };
	struct vt_img img = { 0 };
	struct it_rect block0, block, want;
	char win[32], w[16], h[16], line[64], last[512];
	int fb_w, fb_h, w0, h0;

	it_start("viewer_resize_keeps_picture", users);
	vt_open("v3-carol", it.port, &img, &block0, &fb_w, &fb_h);
	w0 = img.w;
	h0 = img.h;
	/* where the block is on the remote screen */
	IT_ASSERT(fb_w == w0 && fb_h == h0, "session %dx%d in a %dx%d window at login", fb_w, fb_h,
		  w0, h0);
	snprintf(win, sizeof win, "%lu", vt.win);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		int ww = sizes[i][0] ? sizes[i][0] : w0, wh = sizes[i][1] ? sizes[i][1] : h0;
		int before;

		snprintf(w, sizeof w, "%d", ww);
		snprintf(h, sizeof h, "%d", wh);
		snprintf(line, sizeof line, "pixelgate-viewer: window %dx%d", ww, wh);
		before = it_file_count(vt.viewer_log, line);
		VT_XDO("windowsize", win, w, h);
		IT_ASSERT(vt_wait_log(line, before + 1, VT_LOG_S),
			  "the viewer did not log \"window %dx%d\" within %d s of the resize; "
			  "viewer %s",
			  ww, wh, VT_LOG_S, vt_viewer_state());
		want = vt_expect(ww, wh, fb_w, fb_h, &block0);
		IT_ASSERT(vt_wait_block(ww, wh, &want, VT_SCALED_TOL, VT_REDRAW_S, &img, &block),
			  "after resizing to %dx%d: window %dx%d shows the block at %d,%d %dx%d, "
			  "want %d,%d %dx%d (±%d; session %dx%d, block %d,%d %dx%d on it)",
			  ww, wh, img.w, img.h, block.x, block.y, block.w, block.h, want.x, want.y,
			  want.w, want.h, VT_SCALED_TOL, fb_w, fb_h, block0.x, block0.y, block0.w,
			  block0.h);
		vt_assert_bars(&img, fb_w, fb_h);
		fprintf(stderr, "[%s] %dx%d: block at %d,%d %dx%d (want %d,%d %dx%d)\n",
			it.test_name, ww, wh, block.x, block.y, block.w, block.h, want.x, want.y,
			want.w, want.h);
		if (ww == 1200) {
			/* the pointer is mapped back through the scaling and the bars:
			   a click on the field as shown focuses it */
			vt_click_field(&block);
			vt_type("ok");
			IT_ASSERT(it_wait_last("ok", IT_REPORT_S, NULL, NULL, last, sizeof last),
				  "clicked the field where the %dx%d window shows it, typed "
				  "\"ok\": the page's field holds \"%s\"",
				  ww, wh, last);
		}
	}
	/* the session was not restarted or resized on the way */
	IT_ASSERT(it_file_count(vt.viewer_log, "connected: session ") == 1,
		  "the viewer connected %d times during the resizes, want once",
		  it_file_count(vt.viewer_log, "connected: session "));
	IT_ASSERT(vt_rect_near(&block, &block0, 0),
		  "back at %dx%d the block is at %d,%d %dx%d, at login it was at %d,%d %dx%d", w0,
		  h0, block.x, block.y, block.w, block.h, block0.x, block0.y, block0.w, block0.h);
}

/* A viewer through the relay, logged in, "abc" typed into the field. */
static void vt_open_typed(const char *user, struct vt_img *img, struct it_rect *block)
{
	char last[512];
	int fb_w, fb_h;

	vt_start_relay();
	vt_open(user, vt.relay_port, img, block, &fb_w, &fb_h);
	vt_click_field(block);
	vt_type("abc");
	IT_ASSERT(it_wait_last("abc", IT_REPORT_S, NULL, NULL, last, sizeof last),
		  "before the drop the page's field holds \"%s\", want \"abc\"", last);
}

/* Asserts that the window shows the last picture dimmed (the connection is
   lost; the retry message is drawn over the middle, away from the block). */
static void vt_assert_dimmed(struct vt_img *img, const struct it_rect *block)
{
	const uint8_t *p = NULL;
	bool dimmed = false;

	for (double end = it_now_s() + 10;; it_sleep_ms(300)) {
		vt_capture(img);
		if (img->w <= block->x + block->w || img->h <= block->y + block->h)
			break;
		p = vt_px(img, block->x + block->w / 2, block->y + block->h / 2);
		dimmed = p[2] > 40 && p[2] < PAGE_BLOCK_B * 3 / 4 && p[1] < PAGE_BLOCK_G * 3 / 4;
		if (dimmed || it_now_s() >= end)
			break;
	}
	IT_ASSERT(p != NULL, "the window shrank to %dx%d", img->w, img->h);
	IT_ASSERT(dimmed,
		  "while the connection is lost the block's centre is rgb(%d,%d,%d), want the "
		  "block's rgb(%d,%d,%d) dimmed",
		  p[0], p[1], p[2], PAGE_BLOCK_R, PAGE_BLOCK_G, PAGE_BLOCK_B);
}

/*
 * After the relay's restore (at t_restore; the drop began at t_drop): the
 * viewer reconnects, shows the picture again where it was, and reaches the
 * same browser: "x" typed after End lands behind the "abc" still in the
 * field, and the daemon started one browser in all.
 */
static void vt_assert_back(struct vt_img *img, const struct it_rect *block, double t_drop)
{
	struct it_rect again;
	char last[512], reports[2048];
	bool ok, prefixes;

	IT_ASSERT(vt_wait_log("pixelgate-viewer: reconnected: session ", 1, IT_GRACE_S + 30),
		  "the viewer did not log \"reconnected\" within %d s of the relay's restore; "
		  "viewer %s",
		  IT_GRACE_S + 30, vt_viewer_state());
	fprintf(stderr, "[%s] viewer reconnected %.1f s after the drop\n", it.test_name,
		it_now_s() - t_drop);
	/* the picture is back, undimmed, where it was */
	IT_ASSERT(vt_wait_block(img->w, img->h, block, 0, VT_REDRAW_S, img, &again),
		  "after the reconnect the window shows the block at %d,%d %dx%d, before it was "
		  "at %d,%d %dx%d",
		  again.x, again.y, again.w, again.h, block->x, block->y, block->w, block->h);

	/* the same browser: the text is still in the field */
	VT_XDO("key", "End");
	vt_type("x");
	ok = it_wait_last("abcx", IT_REPORT_S, NULL, NULL, last, sizeof last);
	vt_reports("abcx", reports, sizeof reports, &prefixes);
	IT_ASSERT(ok,
		  "after the reconnect the page's field holds \"%s\", want \"abcx\" "
		  "(reports: %s)",
		  last, reports);
	IT_ASSERT(it_file_count(it.daemon_log, "Xvfb pid ") == 1,
		  "the daemon started %d browsers (Xvfb) for one user, want 1",
		  it_file_count(it.daemon_log, "Xvfb pid "));
}

/* 4. The network drops (the relay is cut) and comes back within the grace
   period: the viewer says so, retries, and lands on the same browser, with
   the text still in the field. */
static void vt_reconnects_same_session(const char *user)
{
	struct vt_img img = { 0 };
	struct it_rect block;
	double t_cut;

	vt_open_typed(user, &img, &block);

	t_cut = it_now_s();
	IT_ASSERT(kill(vt.relay_pid, SIGUSR1) == 0, "kill tcpproxy: %s", strerror(errno));
	IT_ASSERT(vt_wait_log("pixelgate-viewer: connection lost", 1, VT_LOG_S),
		  "the viewer did not log \"connection lost\" within %d s of the cut; viewer %s",
		  VT_LOG_S, vt_viewer_state());
	IT_ASSERT(it_file_count(vt.viewer_log, "retrying in") >= 1,
		  "the viewer's \"connection lost\" line does not say it is retrying");
	vt_assert_dimmed(&img, &block);
	/* it tries again while the network is still down... */
	IT_ASSERT(vt_wait_log("pixelgate-viewer: reconnecting (attempt 1)", 1, 10),
		  "the viewer made no new attempt within 10 s of losing the connection; viewer %s",
		  vt_viewer_state());
	IT_ASSERT(vt_wait_log("pixelgate-viewer: reconnect failed", 1, 10),
		  "the viewer's first attempt through the cut relay did not fail within 10 s");
	/* ...and gets through once it is back, within the daemon's grace period */
	IT_ASSERT(kill(vt.relay_pid, SIGUSR2) == 0, "kill tcpproxy: %s", strerror(errno));
	fprintf(stderr, "[%s] relay restored %.1f s after the cut\n", it.test_name,
		it_now_s() - t_cut);
	IT_ASSERT(it_now_s() - t_cut < IT_GRACE_S - 3,
		  "the relay was restored %.1f s after the cut: too close to the %d s grace",
		  it_now_s() - t_cut, IT_GRACE_S);
	vt_assert_back(&img, &block, t_cut);
}

IT_TEST(viewer, reconnects_same_session)
{
	static const char *const users[] = { "v4-dave", NULL };

	it_start("viewer_reconnects_same_session", users);
	vt_reconnects_same_session("v4-dave");
}

/* 4b. The same with the Windows viewer under Wine (its socket pair, waits
   and back-off on Winsock and winpthreads). */
IT_TEST(viewer, windows_reconnects_same_session, .timeout = 400)
{
	static const char *const users[] = { "vw4-dave", NULL };

	it_start("viewer_windows_reconnects_same_session", users);
	vt.wine = true;
	vt_reconnects_same_session("vw4-dave");
}

/* 6. The network goes silent (the relay freezes: no reset, nothing moves
   either way, as when a cable is pulled or a NAT forgets the connection):
   the viewer notices by itself, says so, and reattaches to the same browser
   once the network is back. */
IT_TEST(viewer, notices_silent_drop)
{
	static const char *const users[] = { "v6-frank", NULL };
	struct vt_img img = { 0 };
	struct it_rect block;
	double t_freeze;

	it_start("viewer_notices_silent_drop", users);
	vt_open_typed("v6-frank", &img, &block);

	t_freeze = it_now_s();
	IT_ASSERT(kill(vt.relay_pid, SIGHUP) == 0, "kill tcpproxy: %s", strerror(errno));
	IT_ASSERT(vt_wait_log("pixelgate-viewer: connection lost", 1, VT_SILENT_S),
		  "the viewer did not notice within %d s that nothing arrives any more (no "
		  "\"connection lost\"); viewer %s",
		  VT_SILENT_S, vt_viewer_state());
	fprintf(stderr, "[%s] viewer noticed the silent drop after %.1f s\n", it.test_name,
		it_now_s() - t_freeze);
	vt_assert_dimmed(&img, &block);
	IT_ASSERT(kill(vt.relay_pid, SIGUSR2) == 0, "kill tcpproxy: %s", strerror(errno));
	vt_assert_back(&img, &block, t_freeze);
}

/* 5. A wrong password: the viewer shows the refusal (in Japanese for
   LANG=ja_JP.UTF-8) in its window, keeps running, and does not try again on
   its own. */
static void vt_wrong_password_shows_error(const char *user)
{
	struct vt_img img = { 0 };
	long red = 0;
	double t0, end;
	char failed[128], tries[128];

	snprintf(failed, sizeof failed, "login failed for user \"%s\"", user);
	snprintf(tries, sizeof tries, "logging in as %s", user);
	vt_start_xvfb();
	vt_start_viewer(user, "not-the-password", it.port, "ja_JP.UTF-8");
	IT_ASSERT(vt_wait_log("pixelgate-viewer: login refused: 401 invalid_credentials", 1,
			      IT_FIRST_PAGE_S),
		  "the viewer did not log \"login refused: 401 invalid_credentials\" within %d s; "
		  "viewer %s",
		  IT_FIRST_PAGE_S, vt_viewer_state());
	t0 = it_now_s();
	IT_ASSERT(it_file_count(vt.viewer_log, "messages in Japanese") == 1,
		  "with LANG=ja_JP.UTF-8 the viewer did not choose Japanese messages");
	IT_ASSERT(it_file_count(it.daemon_log, failed) == 1,
		  "the daemon logged %d failed logins for %s, want 1",
		  it_file_count(it.daemon_log, failed), user);

	/* still there, and no second try */
	while (it_now_s() < t0 + VT_QUIET_S) {
		IT_ASSERT(it_extra_running(vt.viewer_pid, NULL),
			  "the viewer %s %.1f s after the refusal", vt_viewer_state(),
			  it_now_s() - t0);
		it_sleep_ms(250);
	}
	IT_ASSERT(it_file_count(it.daemon_log, failed) == 1,
		  "the daemon logged %d failed logins for %s over %d s, want 1 (the viewer "
		  "retried)",
		  it_file_count(it.daemon_log, failed), user, VT_QUIET_S);
	IT_ASSERT(it_file_count(vt.viewer_log, tries) == 1,
		  "the viewer logged in %d times, want once", it_file_count(vt.viewer_log, tries));
	/* the form is back with the error text (in the form's error colour) */
	IT_ASSERT(it_file_count(vt.viewer_log, "login form shown: wrong user name or password") ==
		      1,
		  "the viewer did not log that the login form shows the refusal");
	for (end = it_now_s() + VT_REDRAW_S;; it_sleep_ms(500)) {
		vt_capture(&img);
		red = vt_count_colour(&img, VT_ERROR_R, VT_ERROR_G, VT_ERROR_B, 24);
		if (red >= 40 || it_now_s() >= end)
			break;
	}
	IT_ASSERT(red >= 40,
		  "the window shows no error text (%ld pixels of rgb(%d,%d,%d) in %dx%d)", red,
		  VT_ERROR_R, VT_ERROR_G, VT_ERROR_B, img.w, img.h);
	fprintf(stderr, "[%s] %ld pixels of the error text's colour in the window\n", it.test_name,
		red);

	IT_ASSERT(it_file_count(it.daemon_log, "login ok") == 0,
		  "the daemon let a wrong password in");
}

IT_TEST(viewer, wrong_password_shows_error)
{
	static const char *const users[] = { "v5-eve", NULL };

	it_start("viewer_wrong_password_shows_error", users);
	vt_wrong_password_shows_error("v5-eve");
}

/* 5b. The same with the Windows viewer under Wine: the refusal in Japanese
   in the login form (Wine takes the Windows display language from LANG),
   drawn with the font found in the Windows fonts folder, and no retry. */
IT_TEST(viewer, windows_wrong_password_shows_error, .timeout = 400)
{
	static const char *const users[] = { "vw5-eve", NULL };

	it_start("viewer_windows_wrong_password_shows_error", users);
	vt.wine = true;
	vt_wrong_password_shows_error("vw5-eve");
}

/* 7. After a refusal the user types the right password into the form and
   presses Enter: the viewer logs in and shows the page. */
IT_TEST(viewer, form_login_after_refusal)
{
	static const char *const users[] = { "v7-gina", NULL };
	struct vt_img img = { 0 };
	struct it_rect block;

	it_start("viewer_form_login_after_refusal", users);
	vt_start_xvfb();
	vt_start_viewer("v7-gina", "not-the-password", it.port, "C.UTF-8");
	IT_ASSERT(vt_wait_log("pixelgate-viewer: login form shown: wrong user name or password", 1,
			      IT_FIRST_PAGE_S),
		  "the viewer did not show the form after the refusal; viewer %s",
		  vt_viewer_state());
	/* the password field has the focus */
	vt_type(it_password("v7-gina"));
	VT_XDO("key", "Return");
	IT_ASSERT(vt_wait_log("pixelgate-viewer: connected: session ", 1, IT_FIRST_PAGE_S),
		  "the viewer did not log in with the password typed into the form; viewer %s",
		  vt_viewer_state());
	IT_ASSERT(vt_wait_block(0, 0, NULL, 1, IT_FIRST_PAGE_S, &img, &block),
		  "after the form's login the window shows no block");
	IT_ASSERT(it_file_count(it.daemon_log, "login failed for user \"v7-gina\"") == 1 &&
		      it_file_count(it.daemon_log, "login ok: user v7-gina") == 1,
		  "the daemon logged %d failed and %d good logins for v7-gina, want 1 and 1",
		  it_file_count(it.daemon_log, "login failed for user \"v7-gina\""),
		  it_file_count(it.daemon_log, "login ok: user v7-gina"));
	IT_ASSERT(it_file_count(vt.viewer_log, it_password("v7-gina")) == 0,
		  "the viewer's log holds the password");
}

/* The second factor (issue 14): the server asks for a code, the form shows
   the code field with the focus on it, the code typed there logs in; the
   password is not asked again, and neither ends up in the log. */
IT_TEST(viewer, asks_for_the_code_and_logs_in)
{
	static const char *const admins[] = { "v9-chief", "v9-ops", NULL };
	struct it_opts o = { .admins = admins, .before_daemon = it_mfa_world };
	struct vt_img img = { 0 };
	struct it_rect block;
	char secret[128], code[16];

	it_start_opts("viewer_asks_for_the_code_and_logs_in", NULL, &o);
	it_totp_enroll("v9-ops", "v9-chief", secret, sizeof secret);
	vt_start_xvfb();
	vt_start_viewer("v9-chief", it_password("v9-chief"), it.port, "ja_JP.UTF-8");
	IT_ASSERT(vt_wait_log("pixelgate-viewer: login form shown: a code is needed; waiting for "
			      "the code",
			      1, IT_FIRST_PAGE_S),
		  "the viewer did not ask for the code; viewer %s", vt_viewer_state());
	it_totp_code(secret, code);
	vt_type(code);
	VT_XDO("key", "Return");
	IT_ASSERT(vt_wait_log("pixelgate-viewer: connected: session ", 1, IT_FIRST_PAGE_S),
		  "the viewer did not log in with the code typed into the form; viewer %s",
		  vt_viewer_state());
	IT_ASSERT(vt_wait_block(0, 0, NULL, 1, IT_FIRST_PAGE_S, &img, &block),
		  "after the code the window shows no block");
	IT_ASSERT(it_audit_count("login_ok", "user", "v9-chief", "mfa", "totp", NULL) == 1,
		  "no login_ok of v9-chief with mfa totp");
	IT_ASSERT(it_file_count(vt.viewer_log, it_password("v9-chief")) == 0 &&
		      it_file_count(vt.viewer_log, code) == 0,
		  "the viewer's log holds the password or the code");
}

/*
 * The terminal's clipboard holds text (xclip on the viewer's display, as a
 * staff member's copy in an LGWAN document): xclip forks a process that
 * owns CLIPBOARD until the display goes. Read back to be sure it is there.
 */
static void vt_set_clipboard(const char *text)
{
	char path[PATH_MAX], cmd[PATH_MAX + 128], back[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/terminal-clipboard.txt", it.dir);
	f = fopen(path, "w");
	IT_ASSERT(f && fputs(text, f) >= 0 && fclose(f) == 0, "writing %s", path);
	snprintf(cmd, sizeof cmd,
		 "exec /usr/bin/xclip -selection clipboard -i '%s' >/dev/null 2>&1", path);
	IT_ASSERT(vt_x(NULL, 0, VT_TOOL_S, "/bin/sh", "-c", cmd, NULL) == 0,
		  "xclip could not take the clipboard: %s", vt_tool_error());
	IT_ASSERT(vt_x(back, sizeof back, VT_TOOL_S, "/usr/bin/xclip", "-selection", "clipboard",
		       "-o", NULL) == 0 &&
		      strcmp(back, text) == 0,
		  "the terminal's clipboard holds \"%s\", want \"%s\"", back, text);
}

/* Ctrl+A, Ctrl+C in the viewer's window: the page's field is copied. */
static void vt_copy_all(void)
{
	char win[32];

	snprintf(win, sizeof win, "%lu", vt.win);
	VT_XDO("windowfocus", "--sync", win);
	VT_XDO("key", "--delay", "80", "ctrl+a", "ctrl+c");
}

/* The terminal's clipboard holds want (within seconds; at once if 0). */
static void vt_assert_terminal_clipboard(const char *want, double seconds)
{
	char back[512] = "";
	double end = it_now_s() + seconds;

	for (;;) {
		if (vt_x(back, sizeof back, VT_TOOL_S, "/usr/bin/xclip", "-selection", "clipboard",
			 "-o", NULL) == 0 &&
		    strcmp(back, want) == 0)
			return;
		if (it_now_s() >= end)
			break;
		it_sleep_ms(300);
	}
	IT_ASSERT(false, "the terminal's clipboard holds \"%s\", want \"%s\"", back, want);
}

/* Ctrl+V in the viewer's window, as the staff member pastes into the page. */
static void vt_paste(void)
{
	char win[32];

	snprintf(win, sizeof win, "%lu", vt.win);
	VT_XDO("windowfocus", "--sync", win);
	VT_XDO("key", "--delay", "50", "ctrl+v");
}

/*
 * 15. Japanese copied on the terminal is pasted into the page exactly: the
 * viewer sends it on Ctrl+V as the extended clipboard's Provide (UTF-8 in
 * zlib), the gateway checks, audits and forwards it, the worker owns the
 * session's CLIPBOARD and Chromium pastes it.
 */
static void vt_japanese_copied_is_pasted(const char *user)
{
	static const char want[] = "〒100-0001 東京都千代田区千代田1-1 ①";
	struct vt_img img = { 0 };
	struct it_rect block;
	char last[512], typed[600];
	int fb_w, fb_h, n;

	vt_open(user, it.port, &img, &block, &fb_w, &fb_h);
	IT_ASSERT(vt_wait_log("pixelgate-viewer: clipboard text to the session: allowed on paste",
			      1, 5),
		  "the viewer did not learn that the policy allows the clipboard");
	vt_click_field(&block);
	vt_set_clipboard(want);
	vt_paste();
	IT_ASSERT(it_wait_last(want, IT_REPORT_S, NULL, NULL, last, sizeof last),
		  "after Ctrl+V the page's field holds \"%s\", want \"%s\"", last, want);
	IT_ASSERT(vt_wait_log("pixelgate-viewer: clipboard text (", 1, 5),
		  "the viewer did not log the text it sent");
	json_t *rec = it_audit_find(&n, "clipboard", "user", user, NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "result"), "passed") == 0 &&
		      strcmp(it_rec_str(rec, "direction"), "to_browser") == 0 &&
		      it_rec_int(rec, "bytes") == (long long)strlen(want),
		  "%d clipboard records (result %s, bytes %lld)", n,
		  rec ? it_rec_str(rec, "result") : "-", rec ? it_rec_int(rec, "bytes") : -1);
	json_decref(rec);
	/* typing goes on as before, after the pasted text */
	vt_type("x");
	snprintf(typed, sizeof typed, "%sx", want);
	IT_ASSERT(it_wait_last(typed, IT_REPORT_S, NULL, NULL, last, sizeof last),
		  "after typing x the field holds \"%s\"", last);
}

IT_TEST(viewer, japanese_copied_on_the_terminal_is_pasted)
{
	static const char *const users[] = { "v15-hanako", NULL };
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_browser = true\n" };

	it_start_opts("viewer_japanese_copied_on_the_terminal_is_pasted", users, &o);
	vt_japanese_copied_is_pasted("v15-hanako");
}

/* 15w. The same with the Windows viewer under Wine: SDL's clipboard is
   Windows' there, which Wine keeps in step with X's CLIPBOARD (xclip's). */
IT_TEST(viewer, windows_viewer_pastes_the_terminal_clipboard, .timeout = 400)
{
	static const char *const users[] = { "vw15-hanako", NULL };
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_browser = true\n" };

	it_start_opts("viewer_windows_viewer_pastes_the_terminal_clipboard", users, &o);
	vt.wine = true;
	vt_japanese_copied_is_pasted("vw15-hanako");
}

/* 15b. With the policy off the viewer sends nothing: Ctrl+V pastes only
   what the browser itself copied (nothing here), and nothing is audited. */
IT_TEST(viewer, with_the_clipboard_off_nothing_leaves_the_terminal)
{
	static const char *const users[] = { "v15b-hanako", NULL };
	struct vt_img img = { 0 };
	struct it_rect block;
	char last[512];
	int fb_w, fb_h;

	it_start("viewer_with_the_clipboard_off_nothing_leaves_the_terminal", users);
	vt_open("v15b-hanako", it.port, &img, &block, &fb_w, &fb_h);
	IT_ASSERT(vt_wait_log("pixelgate-viewer: clipboard text to the session: off", 1, 5),
		  "the viewer did not log that the clipboard is off");
	vt_click_field(&block);
	vt_set_clipboard("秘密の文書");
	vt_paste();
	vt_type("ok");
	IT_ASSERT(it_wait_last("ok", IT_REPORT_S, NULL, NULL, last, sizeof last),
		  "after Ctrl+V and \"ok\" the page's field holds \"%s\", want \"ok\"", last);
	IT_ASSERT(it_file_count(vt.viewer_log, "sent for the paste") == 0,
		  "the viewer sent clipboard text with the policy off");
	/* and the other way (clipboard_to_terminal off too): a copy in the page
	   leaves the terminal's clipboard as it was */
	vt_copy_all();
	it_sleep_ms(3000);
	vt_assert_terminal_clipboard("秘密の文書", 0);
	IT_ASSERT(it_audit_count("clipboard", "user", "v15b-hanako", NULL) == 0,
		  "a clipboard record with the policy off");
}

/*
 * 15c. With clipboard_to_terminal on, Japanese copied in the page lands on
 * the terminal's clipboard exactly (the gateway's extended Provide, taken
 * out of the stream by the viewer's guard, put there with SDL).
 */
IT_TEST(viewer, a_copy_in_the_page_lands_on_the_terminal_clipboard)
{
	static const char *const users[] = { "v15c-hanako", NULL };
	static const char want[] = "日本語のコピー ok";
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_terminal = true\n" };
	struct vt_img img = { 0 };
	struct it_rect block;
	char last[512];
	int fb_w, fb_h;

	it_start_opts("viewer_a_copy_in_the_page_lands_on_the_terminal_clipboard", users, &o);
	vt_open("v15c-hanako", it.port, &img, &block, &fb_w, &fb_h);
	vt_click_field(&block);
	vt_set_clipboard("before");
	vt_type(want);
	IT_ASSERT(it_wait_last(want, IT_REPORT_S, NULL, NULL, last, sizeof last),
		  "the page's field holds \"%s\", want \"%s\"", last, want);
	vt_copy_all();
	vt_assert_terminal_clipboard(want, 10);
	IT_ASSERT(vt_wait_log("pixelgate-viewer: the session's copy is on this terminal's clipboard",
			      1, 5),
		  "the viewer did not log the copy");
	IT_ASSERT(it_audit_count("clipboard", "user", "v15c-hanako", "direction", "to_terminal",
				 "result", "passed", NULL) == 1,
		  "no clipboard record of the copy");
}

/* ---- the recording player (pixelgate-viewer --play) ----------------------- */

static int vt_is_frame(const struct dirent *e)
{
	return strncmp(e->d_name, "frame-", 6) == 0;
}

/* A PNG read as 8-bit RGB (malloc'd), its size in *w, *h. */
static uint8_t *vt_read_png(const char *path, int *w, int *h)
{
	png_image img;

	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	IT_ASSERT(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
	img.format = PNG_FORMAT_RGB;
	uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
	IT_ASSERT(px != NULL, "out of memory");
	IT_ASSERT(png_image_finish_read(&img, NULL, px, 0, NULL), "%s: %s", path, img.message);
	*w = (int)img.width;
	*h = (int)img.height;
	return px;
}

/* Pixels of the w x h picture at the window's top left that differ from rgb. */
static long vt_differ(const struct vt_img *img, const uint8_t *rgb, int w, int h)
{
	long n = 0;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if (memcmp(vt_px(img, x, y), rgb + ((size_t)y * w + x) * 3, 3) != 0)
				n++;
	return n;
}

/* Starts the player on file with args (NULL-terminated, after --play FILE). */
static void vt_start_player(const char *file, ...)
{
	char *argv[24], err[400];
	int n = 0;
	struct vt_env e;
	va_list ap;

	argv[n++] = VT_VIEWER;
	argv[n++] = "--play";
	argv[n++] = (char *)file;
	argv[n++] = "--log-file";
	argv[n++] = vt.viewer_log;
	va_start(ap, file);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 23;)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	vt_viewer_env(&e, "C.UTF-8");
	snprintf(err, sizeof err, "%s.stderr", vt.viewer_log);
	vt.viewer_pid = it_extra_start("player", argv, e.envp, -1, err);
}

/*
 * Issue 15: a session recorded while the staff member typed and copied is
 * played by pixelgate-viewer --play: it verifies the file against the audit
 * log first, and the frame it shows at a chosen time is, pixel for pixel,
 * the PNG `pixelgatectl recording export` writes for that time (and not the
 * end of the recording). The session's copy is in its events list; Down
 * goes to it. A file changed after the fact is refused.
 */
IT_TEST(viewer, playback_shows_the_frame_the_export_has_at_that_time)
{
	static const char *const users[] = { "v15p-kenji", NULL };
	char extra[1024], recdir[600], path[1400], outdir[700], out[8192], frame[1000], lastf[1000],
	    at[32], bad[1400];
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_terminal = true\n" };
	struct vt_img img = { 0 };
	struct it_rect block;
	char last[512];
	int fb_w, fb_h;

	/* the player's window is the picture (1:1) plus its controls */
	vt.screen = "1920x1080x24";
	char top[] = "/tmp/pixelgate-play-XXXXXX";
	it_recording_dir(top, recdir, sizeof recdir, extra, sizeof extra);
	o.audit_extra = extra;
	it_start_opts("viewer_playback_shows_the_frame_the_export_has", users, &o);

	/* the session: type, wait, copy (an audit event), type again */
	vt_open("v15p-kenji", it.port, &img, &block, &fb_w, &fb_h);
	vt_click_field(&block);
	vt_type("first words");
	IT_ASSERT(it_wait_last("first words", IT_REPORT_S, NULL, NULL, last, sizeof last),
		  "the page's field holds \"%s\"", last);
	it_sleep_ms(2500);
	vt_copy_all();
	IT_ASSERT(it_audit_wait(NULL, 10, 1, NULL, "clipboard", "direction", "to_terminal", NULL) !=
		      NULL,
		  "no clipboard record of the copy");
	it_sleep_ms(1500);
	vt_type("second");
	IT_ASSERT(it_wait_last("second", IT_REPORT_S, NULL, NULL, last, sizeof last),
		  "the page's field holds \"%s\"", last);
	it_sleep_ms(1500);
	int status = it_extra_stop(vt.viewer_pid, 15);
	vt.viewer_pid = 0;
	IT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the viewer ended with %d",
		  status);

	char file[64];
	it_recording_path(recdir, 20, file, sizeof file, path, sizeof path);

	/* the export's frames, a second apart: the last one that differs from the end */
	snprintf(outdir, sizeof outdir, "%s/frames", top);
	int rc = it_run(out, sizeof out, "%s/pixelgatectl recording export %s --png %s --every 1",
			PIXELGATE_BUILD_DIR, path, outdir);
	IT_ASSERT(rc == 0, "recording export exited %d: %s", rc, out);
	struct dirent **names = NULL;
	int n = scandir(outdir, &names, vt_is_frame, alphasort);
	IT_ASSERT(n >= 3, "%d frames exported: %s", n, out);
	snprintf(lastf, sizeof lastf, "%s/%s", outdir, names[n - 1]->d_name);
	int lw, lh, w, h;
	uint8_t *end_px = vt_read_png(lastf, &lw, &lh), *px = NULL;
	long apart = 0;
	int k = -1;
	for (int i = n - 2; i >= 0 && k < 0; i--) {
		snprintf(frame, sizeof frame, "%s/%s", outdir, names[i]->d_name);
		px = vt_read_png(frame, &w, &h);
		IT_ASSERT(w == lw && h == lh, "%s is %dx%d, the last frame %dx%d", frame, w, h, lw,
			  lh);
		apart = 0;
		for (size_t j = 0; j < (size_t)w * h; j++)
			apart += memcmp(px + j * 3, end_px + j * 3, 3) != 0;
		if (apart > 50)
			k = atoi(names[i]->d_name + 6);
		else
			free(px);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	IT_ASSERT(k >= 0, "every exported frame is the last one: nothing to tell apart");
	fprintf(stderr, "[%s] frame %d (%s) differs from the end in %ld pixels\n", it.test_name, k,
		frame, apart);

	/* the player at that time, paused: its picture is that frame */
	snprintf(vt.viewer_log, sizeof vt.viewer_log, "%s/player.log", it.dir);
	snprintf(at, sizeof at, "%d", k);
	double t0 = it_now_s();
	vt_start_player(path, "--audit-dir", it.audit_dir, "--audit-key", it.audit_key, "--at", at,
			"--paused", NULL);
	/* (its title, "pixelgate playback: FILE", is not found by xdotool's --name) */
	vt_wait_window(t0, "--class", "pixelgate-viewer");
	IT_ASSERT(vt_wait_log("pixelgate-viewer: play: verified: the SHA-256 ", 1, VT_LOG_S),
		  "the player did not say the recording is verified; player %s", vt_viewer_state());
	char shown[64];
	snprintf(shown, sizeof shown, "play: shown at %d.000 s", k);
	IT_ASSERT(vt_wait_log(shown, 1, VT_LOG_S), "the player did not log \"%s\"; player %s",
		  shown, vt_viewer_state());
	it_sleep_ms(300);
	vt_capture(&img);
	IT_ASSERT(img.w >= w && img.h >= h, "the player's window is %dx%d, the recording %dx%d",
		  img.w, img.h, w, h);
	long diff = vt_differ(&img, px, w, h), from_end = vt_differ(&img, end_px, w, h);
	IT_ASSERT(diff == 0 && from_end > 50,
		  "at %d s the player shows a picture that differs from the export's frame in %ld "
		  "pixels (from the last frame in %ld)",
		  k, diff, from_end);
	IT_ASSERT(it_file_count(vt.viewer_log, "audit events of session ") == 1 &&
		      it_file_count(vt.viewer_log, " 0 audit events") == 0,
		  "the player found no audit events of the session");

	/* Home, then Down: to the session's first event after the start */
	char win[32];
	snprintf(win, sizeof win, "%lu", vt.win);
	VT_XDO("windowfocus", "--sync", win);
	VT_XDO("key", "--delay", "100", "Home", "Down");
	IT_ASSERT(vt_wait_log("(event ", 1, VT_LOG_S), "Down did not go to an event; player %s",
		  vt_viewer_state());
	/* the end: the last frame */
	VT_XDO("key", "End");
	IT_ASSERT(vt_wait_log("(end, paused", 1, VT_LOG_S), "End did not go to the end");
	for (double until = it_now_s() + VT_REDRAW_S; it_now_s() < until; it_sleep_ms(200)) {
		vt_capture(&img);
		if (vt_differ(&img, end_px, w, h) == 0)
			break;
	}
	IT_ASSERT(vt_differ(&img, end_px, w, h) == 0,
		  "at the end the player does not show the "
		  "export's last frame");
	status = it_extra_stop(vt.viewer_pid, 15);
	vt.viewer_pid = 0;
	IT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the player ended with %d",
		  status);
	free(px);
	free(end_px);

	/* a copy with its last 100 bytes cut is still a recording, but not that one */
	snprintf(bad, sizeof bad, "%s/bad", top);
	IT_ASSERT(mkdir(bad, 0700) == 0, "mkdir %s: %s", bad, strerror(errno));
	snprintf(bad, sizeof bad, "%s/bad/%s", top, file);
	rc = it_run(out, sizeof out, "head -c -100 '%s' > '%s'", path, bad);
	IT_ASSERT(rc == 0, "cannot copy the recording: %s", out);
	snprintf(vt.viewer_log, sizeof vt.viewer_log, "%s/player-bad.log", it.dir);
	vt_start_player(bad, "--audit-dir", it.audit_dir, "--audit-key", it.audit_key, NULL);
	for (double until = it_now_s() + VT_LOG_S;
	     it_extra_running(vt.viewer_pid, &status) && it_now_s() < until; it_sleep_ms(100))
		;
	if (it_extra_running(vt.viewer_pid, NULL))
		status = it_extra_stop(vt.viewer_pid, 5);
	vt.viewer_pid = 0;
	IT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
		      it_file_count(vt.viewer_log, "play: refused: the file (") == 1 &&
		      it_file_count(vt.viewer_log,
				    ") does not match its record in the audit log") == 1,
		  "a changed recording: the player ended with %d and did not refuse it as not "
		  "matching the audit log",
		  status);
	it_run(out, sizeof out, "rm -rf '%s'", top);
}
