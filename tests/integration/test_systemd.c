/*
 * test_systemd.c: what systemd sees of the gateway, without systemd as PID 1.
 *
 * notify: the test plays the service manager's notification socket (a
 * datagram socket with SO_PASSCRED, NOTIFY_SOCKET and WATCHDOG_USEC in the
 * daemon's environment, as systemd sets them for Type=notify). It sees
 * READY=1 once the daemon listens, WATCHDOG=1 every few seconds,
 * RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM, and every
 * message from the main process itself (NotifyAccess=main would take them).
 *
 * journal: a real systemd-journald runs in the test's own mount namespace
 * (tmpfs over /run/systemd, /run/log and /var/log/journal there, so the
 * machine's journal is not touched); the daemon's stderr is a journal stream
 * with JOURNAL_STREAM set, as systemd gives it. journalctl then shows its
 * lines with their priorities, no timestamp in MESSAGE, SYSLOG_IDENTIFIER
 * pixelgate / pixelgate-priv, a cell's lines as pixelgate-cell ("cell ID|"
 * in MESSAGE, the name they claim in PIXELGATE_CELL_IDENT, never error),
 * and the session's and the user's fields on a session's lines.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "harness.h"

/* GW_ALIVE_MS in gateway.h: how often the network process reports in. */
#define SD_ALIVE_S 5

struct sd_msg {
	char text[512];
	pid_t pid;
};

/* The next notification within timeout_s: true with its text and sender. */
static bool sd_next(int fd, double timeout_s, struct sd_msg *m)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0)
		return false;
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { m->text, sizeof m->text - 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf
	};
	ssize_t n = recvmsg(fd, &mh, 0);
	if (n < 0)
		return false;
	m->text[n] = '\0';
	m->pid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;
			memcpy(&cr, CMSG_DATA(c), sizeof cr);
			m->pid = cr.pid;
		}
	return true;
}

/* Waits for a notification containing want (others are checked for their sender). */
static void sd_expect(int fd, const char *want, double timeout_s, struct sd_msg *m)
{
	double end = it_now_s() + timeout_s;
	while (it_now_s() < end) {
		if (!sd_next(fd, end - it_now_s(), m))
			break;
		fprintf(stderr, "notify from %d: %s\n", (int)m->pid, m->text);
		IT_ASSERT(m->pid == it.daemon_pid,
			  "a notification from pid %d, not the main process %d: %s", (int)m->pid,
			  (int)it.daemon_pid, m->text);
		if (strstr(m->text, want) != NULL)
			return;
	}
	IT_ASSERT(false, "no \"%s\" notification within %.0f s", want, timeout_s);
}

static char sd_path[108];

/* it_opts.before_daemon: what systemd puts in a Type=notify service's environment. */
static void sd_env(void)
{
	setenv("NOTIFY_SOCKET", sd_path, 1);
	setenv("WATCHDOG_USEC", "10000000", 1);
}

IT_TEST(systemd, notify_ready_watchdog_reload_and_stop, .timeout = 120)
{
	static const char *const users[] = { "sd-kato", NULL };
	char path[108];
	struct sd_msg m;

	snprintf(path, sizeof path, "/tmp/pixelgate-notify-%d.sock", (int)getpid());
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int one = 1;
	IT_ASSERT(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		      setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0,
		  "notify socket: %s", strerror(errno));
	chmod(path, 0666); /* sd_notify comes from the main process, root here */
	snprintf(sd_path, sizeof sd_path, "%s", path);
	struct it_opts o = { .before_daemon = sd_env }; /* the daemon's, not squid's */
	it_start_opts("systemd_notify", users, &o);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");

	sd_expect(fd, "READY=1", 10, &m);
	IT_ASSERT(strstr(m.text, "STATUS=listening on 127.0.0.1:") != NULL, "%s", m.text);
	sd_expect(fd, "WATCHDOG=1", 2.0 * SD_ALIVE_S, &m);
	sd_expect(fd, "WATCHDOG=1", 2.0 * SD_ALIVE_S, &m);

	IT_ASSERT(kill(it.daemon_pid, SIGHUP) == 0, "SIGHUP");
	sd_expect(fd, "RELOADING=1", 5, &m);
	sd_expect(fd, "READY=1", 5, &m);
	IT_ASSERT(strstr(m.text, "STATUS=reloaded: certificate valid until") != NULL, "%s", m.text);

	pid_t main_pid = it.daemon_pid;
	kill(main_pid, SIGTERM);
	sd_expect(fd, "STOPPING=1", 5, &m);
	IT_ASSERT(it_stop_daemon(30) == 0, "the daemon did not exit 0 after SIGTERM");
	close(fd);
	unlink(path);
	/* The workers and the network process never had NOTIFY_SOCKET (checked above: every
	   message came from the main process); the log says nothing failed. */
	IT_ASSERT(it_file_count(it.daemon_log, "sd_notify") == 0, "sd_notify failed: see the log");
}

/* ---- journald ----------------------------------------------------------- */

static char sj_log[400];

/* In the test's own mount namespace: tmpfs where journald keeps its sockets and files. */
static void sj_private_journal(void)
{
	IT_ASSERT(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	IT_ASSERT(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private /: %s",
		  strerror(errno));
	static const char *const dirs[] = { "/run/systemd", "/run/log", "/var/log/journal" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		struct stat st;
		if (i < 2)
			mkdir(dirs[i], 0755);
		else if (stat(dirs[i], &st) != 0)
			continue; /* no persistent journal: journald keeps to /run/log */
		IT_ASSERT(mount("tmpfs", dirs[i], "tmpfs", 0, "mode=0755") == 0, "tmpfs on %s: %s",
			  dirs[i], strerror(errno));
	}
}

IT_TEST(systemd, logs_go_to_journald_with_priorities_and_session_fields, .timeout = 180)
{
	static const char *const users[] = { "sd-mori", NULL };
	/* the whole journal of the run (hundreds of lines), not a tail that could miss the start */
	static char out[4 << 20];

	IT_ASSERT(access("/lib/systemd/systemd-journald", X_OK) == 0,
		  "/lib/systemd/systemd-journald is missing (package systemd)");
	sj_private_journal();
	snprintf(sj_log, sizeof sj_log, "/tmp/pixelgate-journald-%d.log", (int)getpid());
	char *const jargv[] = { "/lib/systemd/systemd-journald", NULL };
	pid_t jpid = it_extra_start("journald", jargv, NULL, -1, sj_log);
	double end = it_now_s() + 10;
	while (access("/run/systemd/journal/stdout", F_OK) != 0 && it_now_s() < end)
		it_sleep_ms(100);
	IT_ASSERT(access("/run/systemd/journal/stdout", F_OK) == 0, "journald did not start");

	/* The daemon's stdout and stderr: a journal stream, named in JOURNAL_STREAM. */
	int js = sd_journal_stream_fd("pixelgate", LOG_INFO, 0);
	IT_ASSERT(js >= 0, "sd_journal_stream_fd: %s", strerror(-js));
	struct stat st;
	IT_ASSERT(fstat(js, &st) == 0, "fstat");
	char stream[64];
	snprintf(stream, sizeof stream, "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	struct it_opts o = { .daemon_stderr = js };
	it_start_opts("systemd_journal", users, &o);
	unsetenv("JOURNAL_STREAM");

	struct it_rect block;
	struct pgc_conn *c = it_open_page("sd-mori", 1024, 768, &block);
	it_pump_for(c, 500);
	it_conn_free(c);
	IT_ASSERT(it_stop_daemon(30) == 0, "the daemon did not exit 0 after SIGTERM");
	close(js);
	it_sleep_ms(500);

	IT_ASSERT(
	    it_run(out, sizeof out,
		   "journalctl --no-pager -D /run/log/journal -o json "
		   "SYSLOG_IDENTIFIER=pixelgate SYSLOG_IDENTIFIER=pixelgate-priv "
		   "SYSLOG_IDENTIFIER=pixelgate-cell SYSLOG_IDENTIFIER=pixelgate-session 2>&1") ==
		0,
	    "journalctl: %s", out);
	int listening = 0, session_lines = 0, user_lines = 0, worker_lines = 0, priv_lines = 0,
	    warnings = 0, stamped = 0;
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		if (j == NULL)
			continue;
		const char *msg = json_string_value(json_object_get(j, "MESSAGE"));
		const char *ident = json_string_value(json_object_get(j, "SYSLOG_IDENTIFIER"));
		const char *prio = json_string_value(json_object_get(j, "PRIORITY"));
		const char *sess = json_string_value(json_object_get(j, "PIXELGATE_SESSION"));
		const char *user = json_string_value(json_object_get(j, "PIXELGATE_USER"));
		const char *transport = json_string_value(json_object_get(j, "_TRANSPORT"));
		if (msg == NULL || ident == NULL || prio == NULL) {
			json_decref(j);
			continue;
		}
		IT_ASSERT(transport != NULL && strcmp(transport, "journal") == 0,
			  "a line came as %s, not natively: %s", transport ? transport : "?", msg);
		if (strncmp(msg, "20", 2) == 0 && strlen(msg) > 24 && msg[23] == 'Z')
			stamped++;
		if (strstr(msg, "pixelgate listening on") != NULL && strcmp(prio, "6") == 0)
			listening++;
		if (sess != NULL && strlen(sess) == 16)
			session_lines++;
		if (user != NULL && strcmp(user, "sd-mori") == 0)
			user_lines++;
		const char *claimed = json_string_value(json_object_get(j, "PIXELGATE_CELL_IDENT"));
		if (strcmp(ident, "pixelgate-cell") == 0 && sess != NULL && claimed != NULL &&
		    strcmp(claimed, "pixelgate-session") == 0 && strncmp(msg, "cell ", 5) == 0 &&
		    strcmp(prio, "3") != 0)
			worker_lines++;
		IT_ASSERT(strcmp(ident, "pixelgate-session") != 0,
			  "a cell's line under the worker's own identifier: %s", msg);
		if (strcmp(ident, "pixelgate-priv") == 0)
			priv_lines++;
		if (strcmp(prio, "4") == 0)
			warnings++;
		json_decref(j);
	}
	fprintf(stderr,
		"journal: listening %d, session %d, user %d, worker %d, priv %d, warnings %d, "
		"stamped %d\n",
		listening, session_lines, user_lines, worker_lines, priv_lines, warnings, stamped);
	IT_ASSERT(listening == 1, "the listening line at priority 6: %d", listening);
	IT_ASSERT(session_lines >= 3 && user_lines >= 2, "session fields: %d lines, user %d",
		  session_lines, user_lines);
	IT_ASSERT(worker_lines >= 3, "the worker's lines with its session: %d", worker_lines);
	IT_ASSERT(priv_lines >= 1, "the privileged parent's lines: %d", priv_lines);
	IT_ASSERT(stamped == 0, "%d messages carry their own timestamp", stamped);
	it_extra_stop(jpid, 10);
}
