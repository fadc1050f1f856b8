/*
 * harness.c: the world of one integration test (see harness.h).
 *
 * Everything runs on 127.0.0.1: the page server, the daemon, its sessions.
 * Children get PR_SET_PDEATHSIG so that a test process killed by Criterion
 * does not leave them behind, and no descriptor but 0-2 (Criterion's pipes
 * must not be held open by a daemon).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "users.h"

struct it_world it;

/* The test's own extra processes (it_extra_start()); it_stop() ends them. */
static struct it_extra {
	pid_t pid;
	char what[32];
	char log[320];
	bool exited; /* reaped; status holds its wait status */
	int status;
} it_extras[IT_MAX_EXTRAS];
static int it_nextras;

static int it_scan_ours(pid_t *pids, int max);
/* Processes of the session uids and the gateway's user already running when
   the test started (another pixelgate on this machine, e.g. the
   quickstart's): not the test's. */
static pid_t it_before[512];
static int it_nbefore;

double it_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *it_password(const char *user)
{
	static char buf[128];

	snprintf(buf, sizeof buf, "pw-%s-Zq7!", user);
	return buf;
}

/* True for the browser's and Xvfb's chatter in the daemon log (Chromium's
   "[pid:tid:date:LEVEL:file(line)] ..." lines, Xvfb's transport noise). */
static bool it_noise(const char *line)
{
	/* a session's output comes marked by the privileged parent: "cell <id>| ..." */
	if (strncmp(line, "cell ", 5) == 0 && strlen(line) > 23 && line[21] == '|')
		line += 23;
	return (line[0] == '[' && line[1] >= '0' && line[1] <= '9' && strchr(line, ':') &&
		strstr(line, "] ")) ||
	    strncmp(line, "_XSERVTrans", 11) == 0 || line[0] == '\n';
}

/* Prints the last nlines lines of path that are not noise to stderr. */
static void it_tail(const char *title, const char *path, int nlines)
{
	FILE *f = fopen(path, "r");
	char **ring = calloc((size_t)nlines, sizeof *ring);
	char line[2048];
	long total = 0, hidden = 0;

	if (!f || !ring) {
		fprintf(stderr, "--- %s (%s): cannot open: %s\n", title, path, strerror(errno));
		if (f)
			fclose(f);
		free(ring);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		if (it_noise(line)) {
			hidden++;
			continue;
		}
		free(ring[total % nlines]);
		ring[total % nlines] = strdup(line);
		total++;
	}
	fclose(f);
	fprintf(stderr, "--- last %d lines of %s (%s; %ld browser/X lines hidden) ---\n", nlines,
		title, path, hidden);
	for (long i = total > nlines ? total - nlines : 0; i < total; i++) {
		const char *l = ring[i % nlines] ? ring[i % nlines] : "";

		fprintf(stderr, "%s%s", l, l[0] && l[strlen(l) - 1] == '\n' ? "" : "\n");
	}
	fprintf(stderr, "--- end of %s ---\n", title);
	for (int i = 0; i < nlines; i++)
		free(ring[i]);
	free(ring);
}

void it_dump_logs(void)
{
	if (it.daemon_log[0])
		it_tail("daemon log", it.daemon_log, 80);
	if (it.page_log[0])
		it_tail("page server log", it.page_log, 20);
	for (int i = 0; i < it_nextras; i++) {
		char title[64];

		snprintf(title, sizeof title, "%s log", it_extras[i].what);
		it_tail(title, it_extras[i].log, 40);
	}
}

/* Fails the test with a message (and the logs). */
#define IT_FAIL(...) IT_ASSERT(0, __VA_ARGS__)

/* Writes text to path with mode; fails the test on error. */
/* Give path (in the test's dir) to the gateway's user, which reads and writes it. */
void it_give(const char *path)
{
	struct passwd *pw = getpwnam(IT_GATEWAY_USER);

	IT_ASSERT(pw != NULL, "no user %s (tests/run.sh creates it)", IT_GATEWAY_USER);
	IT_ASSERT(lchown(path, pw->pw_uid, pw->pw_gid) == 0, "chown %s: %s", path, strerror(errno));
}

void it_recording_dir(char *top, char *recdir, size_t recdirlen, char *extra, size_t extralen)
{
	IT_ASSERT(mkdtemp(top) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(recdir, recdirlen, "%s/rec", top);
	snprintf(extra, extralen, "recording = all\nrecording_dir = %s\n", recdir);
	IT_ASSERT(mkdir(recdir, 0700) == 0 && chmod(top, 0711) == 0, "%s: %s", recdir,
		  strerror(errno));
	it_give(recdir);
}

void it_recording_path(const char *recdir, double seconds, char *file, size_t filelen, char *path,
		       size_t pathlen)
{
	json_t *rec = it_audit_wait(NULL, seconds, 1, NULL, "recording", NULL);
	IT_ASSERT(rec != NULL, "no \"recording\" audit record within %.0f s", seconds);
	const char *name = json_string_value(json_object_get(rec, "file"));
	IT_ASSERT(name != NULL && strlen(name) < filelen, "a recording record without file");
	snprintf(file, filelen, "%s", name);
	snprintf(path, pathlen, "%s/%s", recdir, name);
	json_decref(rec);
}

void it_write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);

	IT_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	IT_ASSERT(write(fd, text, len) == (ssize_t)len, "write %s: %s", path, strerror(errno));
	IT_ASSERT(fchmod(fd, mode) == 0, "chmod %s: %s", path, strerror(errno));
	close(fd);
	if (it.dir[0] && strncmp(path, it.dir, strlen(it.dir)) == 0 && path[strlen(it.dir)] == '/')
		it_give(path);
}

/* it_give() for every file under dir. */
static int it_give_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	it_give(path);
	return 0;
}

/* Runs a shell command (for openssl); fails the test with its output if it fails. */
static void it_sh(const char *fmt, ...)
{
	char cmd[4096], out[400], full[4600];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(out, sizeof out, "%s/sh.out", it.dir);
	snprintf(full, sizeof full, "(%s) >%s 2>&1", cmd, out);
	rc = system(full);
	if (rc != 0) {
		it_tail("command output", out, 30);
		IT_FAIL("command failed (%d): %s", rc, cmd);
	}
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int it_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	IT_ASSERT(fd >= 0, "socket: %s", strerror(errno));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	IT_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind: %s", strerror(errno));
	IT_ASSERT(getsockname(fd, (struct sockaddr *)&a, &len) == 0, "getsockname: %s",
		  strerror(errno));
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* True if something accepts TCP connections on 127.0.0.1:port. */
bool it_port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/*
 * Forks and execs argv with stdin /dev/null, stdout to out_fd (or the log if
 * out_fd < 0) and stderr to log_path; the child dies with the test process.
 */
/* When >= 0, the next it_spawn_env() gives the child this fd as stdout and stderr. */
static int it_spawn_err_fd = -1;

static pid_t it_spawn_env(char *const argv[], char *const envp[], int out_fd, const char *log_path)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	IT_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int null_fd = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		if (log_fd < 0 || null_fd < 0)
			_exit(127);
		dup2(null_fd, 0);
		dup2(out_fd >= 0 ? out_fd : log_fd, 1);
		dup2(log_fd, 2);
		if (it_spawn_err_fd >= 0) {
			dup2(it_spawn_err_fd, 1);
			dup2(it_spawn_err_fd, 2);
		}
		closefrom(3);
		if (envp)
			execve(argv[0], argv, envp);
		else
			execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static pid_t it_spawn(char *const argv[], int out_fd, const char *log_path)
{
	return it_spawn_env(argv, NULL, out_fd, log_path);
}

/* Creates the CA, the server certificate for IP:127.0.0.1 and IP:::1 and its 0600 key. */
static void it_make_certs(void)
{
	char ext[400];

	snprintf(ext, sizeof ext, "%s/server.ext", it.dir);
	it_write_file(ext,
		      "subjectAltName = IP:127.0.0.1, IP:::1\n"
		      "basicConstraints = CA:FALSE\n"
		      "keyUsage = critical, digitalSignature, keyEncipherment\n"
		      "extendedKeyUsage = serverAuth\n",
		      0600);
	it_sh("cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	      "-nodes -keyout ca.key -out ca.crt -days 3 -subj '/CN=pixelgate test CA' "
	      "-addext basicConstraints=critical,CA:TRUE "
	      "-addext keyUsage=critical,keyCertSign,cRLSign",
	      it.dir);
	it_sh("cd '%s' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	      "-keyout server.key -out server.csr -subj '/CN=127.0.0.1' && "
	      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
	      "-out server.crt -days 3 -extfile server.ext && chmod 600 server.key ca.key",
	      it.dir);
	snprintf(it.ca_file, sizeof it.ca_file, "%s/ca.crt", it.dir);
}

/* Writes the users file with every user of the NULL-terminated lists (admins
   get the admin role). */
static void it_make_users(const char *path, const char *const *users, const char *const *admins)
{
	struct users u = { 0 };
	char err[256];

	for (; users && *users; users++)
		IT_ASSERT(users_set(&u, *users, false, it_password(*users), err, sizeof err) == 0,
			  "users_set %s: %s", *users, err);
	for (; admins && *admins; admins++)
		IT_ASSERT(users_set(&u, *admins, true, it_password(*admins), err, sizeof err) == 0,
			  "users_set %s (admin): %s", *admins, err);
	IT_ASSERT(users_save(&u, path, err, sizeof err) == 0, "users_save %s: %s", path, err);
	users_free(&u);
	IT_ASSERT(chmod(path, 0600) == 0, "chmod %s: %s", path, strerror(errno));
}

bool it_read_line(int fd, char *buf, size_t len, double timeout_s)
{
	double end = it_now_s() + timeout_s;
	size_t got = 0;
	char *nl = NULL;

	buf[0] = '\0';
	/* byte by byte: what follows the line stays in the pipe */
	while (got < len - 1 && it_now_s() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, buf + got, 1);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL)
			break;
	}
	if (nl)
		*nl = '\0';
	return nl != NULL;
}

/* Starts tests/fixtures/pageserver.py and reads its port. */
static void it_start_page_server(void)
{
	char *argv[] = { "/usr/bin/python3", PIXELGATE_SOURCE_DIR "/tests/fixtures/pageserver.py",
			 NULL };
	char line[32] = "";
	int pfd[2];

	IT_ASSERT(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	it.page_pid = it_spawn(argv, pfd[1], it.page_log);
	close(pfd[1]);
	it_read_line(pfd[0], line, sizeof line, 20);
	close(pfd[0]);
	it.page_port = atoi(line);
	IT_ASSERT(it.page_port > 0, "page server did not print its port (got \"%s\")", line);
}

/*
 * Starts Debian's squid on a free 127.0.0.1 port as the sessions' upstream
 * proxy (the stand-in for the prefectural security cloud): it lets through
 * the test page server's port on 127.0.0.1 and nothing else (no other
 * loopback port, no private, link-local or metadata address), asks no DNS
 * server but 127.0.0.1, and logs every request to it.squid_log.
 */
static void it_start_squid(void)
{
	char conf[400], text[4096], log[400];
	struct passwd *pw = getpwnam("proxy");
	char *argv[] = { "/usr/sbin/squid", "-N", "-f", conf, NULL };

	IT_ASSERT(access(argv[0], X_OK) == 0, "%s: %s (install squid)", argv[0], strerror(errno));
	IT_ASSERT(pw != NULL, "no user proxy (the squid package makes it)");
	snprintf(it.squid_dir, sizeof it.squid_dir, "%s/squid", it.dir);
	IT_ASSERT(mkdir(it.squid_dir, 0700) == 0, "mkdir %s: %s", it.squid_dir, strerror(errno));
	IT_ASSERT(chown(it.squid_dir, pw->pw_uid, pw->pw_gid) == 0, "chown: %s", strerror(errno));
	snprintf(conf, sizeof conf, "%s/squid.conf", it.squid_dir);
	snprintf(it.squid_log, sizeof it.squid_log, "%s/access.log", it.squid_dir);
	snprintf(log, sizeof log, "%s/squid.log", it.dir);
	it.squid_port = it_free_port();
	snprintf(text, sizeof text,
		 "# written by the integration test %s\n"
		 "http_port 127.0.0.1:%d\n"
		 "pid_filename none\n"
		 "cache deny all\n"
		 "cache_mem 8 MB\n"
		 "cache_effective_user proxy\n"
		 "access_log stdio:%s buffer-size=0KB\n"
		 "cache_log %s/cache.log\n"
		 "cache_store_log none\n"
		 "coredump_dir %s\n"
		 "dns_nameservers 127.0.0.1\n"
		 "shutdown_lifetime 0 seconds\n"
		 "forwarded_for delete\n"
		 "acl test_pages dst 127.0.0.1\n"
		 "acl test_port port %d\n"
		 "acl to_loopback dst 127.0.0.0/8 ::1\n"
		 "acl to_private dst 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10 fc00::/7\n"
		 "acl to_linklocal dst 169.254.0.0/16 fe80::/10\n"
		 "http_access allow test_pages test_port\n"
		 "http_access deny to_loopback\n"
		 "http_access deny to_private\n"
		 "http_access deny to_linklocal\n"
		 "http_access deny all\n",
		 it.test_name, it.squid_port, it.squid_log, it.squid_dir, it.squid_dir,
		 it.page_port);
	it_write_file(conf, text, 0644);
	IT_ASSERT(chown(conf, 0, 0) == 0, "chown: %s", strerror(errno));
	it.squid_pid = it_spawn(argv, -1, log);
	for (double end = it_now_s() + 20; !it_port_open(it.squid_port);) {
		int status;

		IT_ASSERT(waitpid(it.squid_pid, &status, WNOHANG) != it.squid_pid,
			  "squid exited at start (log: %s)", log);
		IT_ASSERT(it_now_s() < end, "squid not listening on 127.0.0.1:%d after 20 s",
			  it.squid_port);
		it_sleep_ms(50);
	}
}

/* What a daemon's config names. */
struct it_conf {
	const char *test_name, *users_file, *runtime_dir, *state_dir, *audit_dir, *audit_key,
	    *session_binary, *dir;        /* dir: holds forensics/ (NULL: the test's dir) */
	int port, admin_port, agent_port; /* agent_port 0: off */
	const char *audit_extra, *home_path, *extra_conf; /* each may be NULL */
};

/* Writes a daemon's config (0600) to path. */
static void it_write_conf(const char *path, const struct it_conf *c)
{
	char conf[8192], agent[64] = "";

	if (c->agent_port)
		snprintf(agent, sizeof agent, "agent_check_port = %d\n", c->agent_port);
	snprintf(conf, sizeof conf,
		 "# written by the integration test %s\n"
		 "[server]\n"
		 "listen_address = 127.0.0.1\n"
		 "listen_port = %d\n"
		 "tls_cert = %s/server.crt\n"
		 "tls_key = %s/server.key\n"
		 "users_file = %s\n"
		 "runtime_dir = %s\n"
		 "state_dir = %s\n"
		 "session_binary = %s\n"
		 "[admin]\n"
		 "admin_listen_address = 127.0.0.1\n"
		 "admin_listen_port = %d\n"
		 "%s"
		 "[audit]\n"
		 "audit_dir = %s\n"
		 "audit_key_file = %s\n"
		 "forensics_dir = %s/forensics\n"
		 "%s"
		 "[session]\n"
		 "home_page = http://127.0.0.1:%d%s\n"
		 "upstream_proxy = 127.0.0.1:%d\n"
		 "[limits]\n"
		 "reconnect_grace_s = %d\n"
		 "%s",
		 c->test_name, c->port, it.dir, it.dir, c->users_file, c->runtime_dir, c->state_dir,
		 c->session_binary, c->admin_port, agent, c->audit_dir, c->audit_key,
		 c->dir ? c->dir : it.dir, c->audit_extra ? c->audit_extra : "", it.page_port,
		 c->home_path ? c->home_path : "/page.html", it.squid_port, IT_GRACE_S,
		 c->extra_conf ? c->extra_conf : "");
	it_write_file(path, conf, 0600);
}

/* Starts the daemon and waits until its ports accept connections. */
static void it_start_daemon(void)
{
	char *argv[] = { PIXELGATE_BUILD_DIR "/pixelgate", "-c", it.conf_file, NULL };
	char gateway[400], logopt[400];
	/* memcheck: the gateway under valgrind, which reports every invalid read
	   or write (also those libcrypto and libwebsockets make into memory the
	   gateway freed, which ASan cannot see) and exits with 99 if it found any */
	char *vg_argv[] = { "/usr/bin/valgrind",
			    "--tool=memcheck",
			    "--error-exitcode=99",
			    "--leak-check=no",
			    "--track-origins=no",
			    "--num-callers=30",
			    logopt,
			    gateway,
			    "-c",
			    it.conf_file,
			    NULL };
	double end = it_now_s() + (it.memcheck ? 4 * IT_DAEMON_READY_S : IT_DAEMON_READY_S);
	int status;

	if (it.memcheck) {
		const char *dir = getenv("PIXELGATE_MEMCHECK_DIR");

		IT_ASSERT(dir != NULL && dir[0] != '\0',
			  "PIXELGATE_MEMCHECK_DIR is not set: tests/run.sh builds the gateway "
			  "without sanitizers there for valgrind");
		snprintf(gateway, sizeof gateway, "%s/pixelgate", dir);
		snprintf(logopt, sizeof logopt, "--log-file=%s", it.memcheck_log);
		IT_ASSERT(access(vg_argv[0], X_OK) == 0, "%s: %s (install valgrind)", vg_argv[0],
			  strerror(errno));
		IT_ASSERT(access(gateway, X_OK) == 0, "%s: %s", gateway, strerror(errno));
	}
	IT_ASSERT(access(argv[0], X_OK) == 0, "%s: %s (is the gateway built?)", argv[0],
		  strerror(errno));
	it_spawn_err_fd = it.daemon_err_fd > 0 ? it.daemon_err_fd : -1;
	it.daemon_pid = it_spawn(it.memcheck ? vg_argv : argv, -1, it.daemon_log);
	it_spawn_err_fd = -1;
	while (!it_port_open(it.port) || !it_port_open(it.admin_port) ||
	       (it.agent_port && !it_port_open(it.agent_port))) {
		pid_t r = waitpid(it.daemon_pid, &status, WNOHANG);

		if (r == it.daemon_pid) {
			it.daemon_pid = 0;
			IT_FAIL("pixelgate exited before listening (%s %d)",
				WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		IT_ASSERT(it_now_s() < end,
			  "pixelgate not listening on 127.0.0.1:%d (staff), :%d (admin)%s "
			  "after %d s",
			  it.port, it.admin_port, it.agent_port ? " and the agent-check port" : "",
			  IT_DAEMON_READY_S);
		it_sleep_ms(100);
	}
}

void it_start(const char *test_name, const char *const *users)
{
	it_start_opts(test_name, users, NULL);
}

void it_start_opts(const char *test_name, const char *const *users, const struct it_opts *o)
{
	char users_file[320], session_binary[400];

	memset(&it, 0, sizeof it);
	snprintf(it.test_name, sizeof it.test_name, "%s", test_name);
	it_nbefore = it_scan_ours(it_before, 512);
	snprintf(it.dir, sizeof it.dir, "/tmp/pixelgate-it.XXXXXX");
	IT_ASSERT(mkdtemp(it.dir) != NULL, "mkdtemp: %s", strerror(errno));
	/* the browser user must be able to traverse it */
	IT_ASSERT(chmod(it.dir, 0711) == 0, "chmod %s: %s", it.dir, strerror(errno));
	snprintf(it.daemon_log, sizeof it.daemon_log, "%s/daemon.log", it.dir);
	snprintf(it.page_log, sizeof it.page_log, "%s/pageserver.log", it.dir);
	snprintf(it.runtime_dir, sizeof it.runtime_dir, "%s/run", it.dir);
	IT_ASSERT(mkdir(it.runtime_dir, 0711) == 0, "mkdir %s: %s", it.runtime_dir,
		  strerror(errno));
	IT_ASSERT(chmod(it.runtime_dir, 0711) == 0, "chmod: %s", strerror(errno));
	snprintf(it.state_dir, sizeof it.state_dir, "%s/state", it.dir);
	if (o && o->audit_dir)
		snprintf(it.audit_dir, sizeof it.audit_dir, "%s", o->audit_dir);
	else
		snprintf(it.audit_dir, sizeof it.audit_dir, "%s/audit", it.dir);
	snprintf(it.audit_key, sizeof it.audit_key, "%s/audit.key", it.dir);
	snprintf(users_file, sizeof users_file, "%s/users", it.dir);
	snprintf(it.conf_file, sizeof it.conf_file, "%s/pixelgate.conf", it.dir);
	snprintf(it.memcheck_log, sizeof it.memcheck_log, "%s/memcheck.log", it.dir);
	it.memcheck = o && o->memcheck;
	it.daemon_err_fd = o ? o->daemon_stderr : 0;

	it_make_certs();
	it_sh("head -c 32 /dev/urandom > '%s' && chmod 600 '%s'", it.audit_key, it.audit_key);
	it_make_users(users_file, users, o ? o->admins : NULL);
	it_start_page_server();
	it_start_squid();
	it.port = it_free_port();
	do
		it.admin_port = it_free_port();
	while (it.admin_port == it.port);
	if (o && o->agent_check) {
		do
			it.agent_port = it_free_port();
		while (it.agent_port == it.port || it.agent_port == it.admin_port);
	}
	if (o && o->session_binary) {
		snprintf(session_binary, sizeof session_binary, "%s", o->session_binary);
		IT_ASSERT(access(session_binary, X_OK) == 0, "%s: %s (is it built?)",
			  session_binary, strerror(errno));
	} else {
		snprintf(session_binary, sizeof session_binary, "%s/pixelgate-session",
			 PIXELGATE_BUILD_DIR);
	}
	it_write_conf(it.conf_file,
		      &(struct it_conf){ .test_name = test_name,
					 .users_file = users_file,
					 .runtime_dir = it.runtime_dir,
					 .state_dir = it.state_dir,
					 .audit_dir = it.audit_dir,
					 .audit_key = it.audit_key,
					 .session_binary = session_binary,
					 .port = it.port,
					 .admin_port = it.admin_port,
					 .agent_port = it.agent_port,
					 .audit_extra = o ? o->audit_extra : NULL,
					 .home_path = o ? o->home_path : NULL,
					 .extra_conf = o ? o->extra_conf : NULL });
	if (o && o->before_daemon)
		o->before_daemon();
	/* the network process (IT_GATEWAY_USER) owns its files, as in a deployment;
	   the test's dir is its (the users file is rewritten by rename there) */
	nftw(it.dir, it_give_cb, 16, FTW_PHYS);
	IT_ASSERT(chown(it.runtime_dir, 0, 0) == 0 && chown(it.conf_file, 0, 0) == 0, "chown: %s",
		  strerror(errno));
	if (o && o->audit_dir)
		it_give(o->audit_dir);
	{
		struct passwd *pw = getpwnam("proxy");

		IT_ASSERT(pw && chown(it.squid_dir, pw->pw_uid, pw->pw_gid) == 0, "chown: %s",
			  strerror(errno));
	}
	it.srv.host = "127.0.0.1";
	it.srv.port = it.port;
	it.srv.ca_file = it.ca_file;
	it.admin_srv.host = "127.0.0.1";
	it.admin_srv.port = it.admin_port;
	it.admin_srv.ca_file = it.ca_file;
	it_start_daemon();
}

/* ---- connections ---------------------------------------------------------- */

#define IT_MAX_CONNS 16
static struct pgc_conn *it_conns[IT_MAX_CONNS];

void it_conn_free(struct pgc_conn *c)
{
	for (int i = 0; i < IT_MAX_CONNS; i++)
		if (it_conns[i] == c)
			it_conns[i] = NULL;
	pgc_free(c);
}

struct pgc_conn *it_login_connect(const char *user, int width, int height)
{
	return it_login_connect_at(&it.srv, user, width, height);
}

struct pgc_conn *it_login_connect_at(const struct pgc_server *srv, const char *user, int width,
				     int height)
{
	struct pgc_login_result res;
	struct pgc_conn *c;
	char err[512];
	int status = 0;

	memset(&res, 0, sizeof res);
	IT_ASSERT(pgc_login(srv, user, it_password(user), width, height, &res) == 0,
		  "login as %s failed: HTTP %d, error \"%s\", message \"%s\", body \"%s\"", user,
		  res.http_status, res.error, res.message, res.body);
	IT_ASSERT(res.ticket[0] != '\0', "login as %s: 200 without a ticket (body \"%s\")", user,
		  res.body);
	c = pgc_connect(srv, res.ticket, err, sizeof err, &status);
	IT_ASSERT(c != NULL, "connect as %s failed: %s (HTTP status %d)", user, err, status);
	for (int i = 0; i < IT_MAX_CONNS; i++)
		if (!it_conns[i]) {
			it_conns[i] = c;
			break;
		}
	return c;
}

struct pgc_conn *it_connect_ticket(const char *ticket, char *err, size_t errlen, int *status)
{
	struct pgc_conn *c;

	*status = 0;
	c = pgc_connect(&it.srv, ticket, err, errlen, status);
	if (!c)
		return NULL;
	for (int i = 0; i < IT_MAX_CONNS; i++)
		if (!it_conns[i]) {
			it_conns[i] = c;
			return c;
		}
	pgc_free(c);
	IT_FAIL("more than %d connections", IT_MAX_CONNS);
	return NULL;
}

struct pgc_conn *it_open_page(const char *user, int width, int height, struct it_rect *block)
{
	return it_open_page_at(&it.srv, user, width, height, block);
}

struct pgc_conn *it_open_page_at(const struct pgc_server *srv, const char *user, int width,
				 int height, struct it_rect *block)
{
	struct pgc_conn *c = it_login_connect_at(srv, user, width, height);
	double t0 = it_now_s();
	bool found = it_wait_block(c, IT_FIRST_PAGE_S, block);

	IT_ASSERT(found,
		  "%s: the test page's block (%dx%d, rgb(%d,%d,%d)) not on screen after %.0f s: "
		  "%llu frames, %llu bytes in, connection %s (code %d, \"%s\")",
		  user, PAGE_BLOCK_W, PAGE_BLOCK_H, PAGE_BLOCK_R, PAGE_BLOCK_G, PAGE_BLOCK_B,
		  it_now_s() - t0, (unsigned long long)pgc_frames(c),
		  (unsigned long long)pgc_bytes_in(c), pgc_closed(c) ? "closed" : "open",
		  pgc_close_code(c), pgc_close_reason(c));
	fprintf(stderr, "[%s] %s: page shown after %.1f s, block at %d,%d (%dx%d)\n", it.test_name,
		user, it_now_s() - t0, block->x, block->y, block->w, block->h);
	return c;
}

/* ---- pixels --------------------------------------------------------------- */

/* The colour of pixel (x, y) of c's framebuffer, 0..255 per channel. */
static void it_pixel(rfbClient *cl, int x, int y, int *r, int *g, int *b)
{
	const uint8_t *p = cl->frameBuffer + ((size_t)y * (size_t)cl->width + (size_t)x) * 4;
	uint32_t v;
	const rfbPixelFormat *f = &cl->format;

	if (f->bigEndian)
		v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	else
		v = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	*r = (int)((v >> f->redShift) & f->redMax) * 255 / (f->redMax ? f->redMax : 1);
	*g = (int)((v >> f->greenShift) & f->greenMax) * 255 / (f->greenMax ? f->greenMax : 1);
	*b = (int)((v >> f->blueShift) & f->blueMax) * 255 / (f->blueMax ? f->blueMax : 1);
}

/* True if (x, y) has the block's colour (small tolerance: lossy encodings). */
static bool it_is_block(rfbClient *cl, int x, int y)
{
	int r, g, b;

	if (x < 0 || y < 0 || x >= cl->width || y >= cl->height)
		return false;
	it_pixel(cl, x, y, &r, &g, &b);
	return abs(r - PAGE_BLOCK_R) <= 12 && abs(g - PAGE_BLOCK_G) <= 12 &&
	    abs(b - PAGE_BLOCK_B) <= 12;
}

bool it_find_block(struct pgc_conn *c, struct it_rect *out)
{
	rfbClient *cl = pgc_rfb(c);

	if (!cl || !cl->frameBuffer || cl->format.bitsPerPixel != 32)
		return false;
	for (int y = 0; y < cl->height; y++)
		for (int x = 0; x < cl->width; x++) {
			int w = 0, h = 0;
			long good = 0;

			if (!it_is_block(cl, x, y) || it_is_block(cl, x - 1, y) ||
			    it_is_block(cl, x, y - 1))
				continue;
			while (it_is_block(cl, x + w, y))
				w++;
			while (it_is_block(cl, x, y + h))
				h++;
			if (abs(w - PAGE_BLOCK_W) > 3 || abs(h - PAGE_BLOCK_H) > 3)
				continue;
			for (int yy = y; yy < y + h; yy++)
				for (int xx = x; xx < x + w; xx++)
					good += it_is_block(cl, xx, yy);
			if (good * 100 < (long)w * h * 99)
				continue;
			out->x = x;
			out->y = y;
			out->w = w;
			out->h = h;
			return true;
		}
	return false;
}

bool it_wait_block(struct pgc_conn *c, double deadline_s, struct it_rect *r)
{
	double end = it_now_s() + deadline_s;
	uint64_t seen = UINT64_MAX;

	while (it_now_s() < end) {
		if (pgc_frames(c) != seen) {
			seen = pgc_frames(c);
			if (seen > 0 && it_find_block(c, r))
				return true;
		}
		if (pgc_pump(c, 200) < 0)
			return false;
	}
	return false;
}

int it_page_to_screen_x(const struct it_rect *block, int page_x)
{
	return block->x - PAGE_BLOCK_X + page_x;
}

int it_page_to_screen_y(const struct it_rect *block, int page_y)
{
	return block->y - PAGE_BLOCK_Y + page_y;
}

bool it_pump_for(struct pgc_conn *c, int ms)
{
	double end = it_now_s() + ms / 1000.0;

	while (it_now_s() < end) {
		int left = (int)((end - it_now_s()) * 1000);

		if (pgc_pump(c, left < 50 ? (left > 0 ? left : 0) : 50) < 0)
			return false;
	}
	return true;
}

void it_click(struct pgc_conn *c, int x, int y)
{
	IT_ASSERT(pgc_pointer(c, x, y, 0) == 0, "pointer move failed: %s", pgc_close_reason(c));
	it_pump_for(c, 100);
	IT_ASSERT(pgc_pointer(c, x, y, 1) == 0, "button press failed: %s", pgc_close_reason(c));
	it_pump_for(c, 80);
	IT_ASSERT(pgc_pointer(c, x, y, 0) == 0, "button release failed: %s", pgc_close_reason(c));
	it_pump_for(c, 100);
}

int it_focus_count(void)
{
	char body[512];
	int st = it_page_get("/stats", body, sizeof body);
	long long n;

	IT_ASSERT(st == 200, "GET /stats from the page server: %d", st);
	n = it_json_int(body, "focus");
	IT_ASSERT(n >= 0, "no \"focus\" count in the page server's /stats: %s", body);
	return (int)n;
}

void it_focus_field(struct pgc_conn *c, const struct it_rect *block)
{
	int before = it_focus_count(), now = before;

	it_click(c, it_page_to_screen_x(block, PAGE_FIELD_X + PAGE_FIELD_W / 2),
		 it_page_to_screen_y(block, PAGE_FIELD_Y + PAGE_FIELD_H / 2));
	for (double end = it_now_s() + IT_REPORT_S; now == before && it_now_s() < end;) {
		if (!it_pump_for(c, 50))
			IT_FAIL("the connection closed while waiting for the field's focus: %d %s",
				pgc_close_code(c), pgc_close_reason(c));
		now = it_focus_count();
	}
	IT_ASSERT(now > before, "the page's field did not get the focus within %d s of a click",
		  IT_REPORT_S);
}

bool it_wait_closed(struct pgc_conn *c, double deadline_s)
{
	double end = it_now_s() + deadline_s;

	while (!pgc_closed(c) && it_now_s() < end)
		if (pgc_pump(c, 200) < 0)
			break;
	/* pgc_pump() may see EOF a moment before the close is recorded */
	while (!pgc_closed(c) && it_now_s() < end)
		it_sleep_ms(50);
	return pgc_closed(c);
}

/* ---- the page server ------------------------------------------------------ */

int it_page_get(const char *path, char *body, size_t bodylen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)it.page_port) };
	char req[512], buf[65536];
	size_t got = 0;
	int fd, status = -1;
	char *sep;

	if (bodylen)
		body[0] = '\0';
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (got >= sizeof buf - 1 || poll(&p, 1, 5000) <= 0)
			break;
		n = read(fd, buf + got, sizeof buf - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	sep = strstr(buf, "\r\n\r\n");
	if (sep && bodylen)
		snprintf(body, bodylen, "%s", sep + 4);
	return status;
}

bool it_wait_last(const char *want, double deadline_s, struct pgc_conn *c1, struct pgc_conn *c2,
		  char *last, size_t lastlen)
{
	double end = it_now_s() + deadline_s;

	for (;;) {
		int st = it_page_get("/last", last, lastlen);

		if (st == 200 && strcmp(last, want) == 0)
			return true;
		if (it_now_s() >= end)
			return false;
		if (c1 && !pgc_closed(c1))
			it_pump_for(c1, c2 ? 100 : 200);
		if (c2 && !pgc_closed(c2))
			it_pump_for(c2, 100);
		if ((!c1 || pgc_closed(c1)) && (!c2 || pgc_closed(c2)))
			it_sleep_ms(200);
	}
}

/* ---- processes ------------------------------------------------------------ */

/* Reads /proc/pid/cmdline into buf (NUL-separated); returns its length or -1. */
static ssize_t it_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n, got = 0;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

const char *it_proc_cmdline(pid_t pid, char *buf, size_t len)
{
	ssize_t n = it_cmdline(pid, buf, len);

	if (n <= 0)
		return "?";
	for (ssize_t k = 0; k < n - 1; k++)
		if (buf[k] == '\0')
			buf[k] = ' ';
	return buf;
}

int it_find_procs(const char *needle, pid_t *pids, int max)
{
	static char buf[131072];
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(e->d_name);
		ssize_t len;

		if (pid <= 0 || pid == getpid())
			continue;
		len = it_cmdline(pid, buf, sizeof buf);
		if (len <= 0 || !memmem(buf, (size_t)len, needle, strlen(needle)))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}

bool it_proc_has_arg(pid_t pid, const char *prefix)
{
	static char buf[131072];
	ssize_t len = it_cmdline(pid, buf, sizeof buf);

	/* arguments are NUL-separated, or space-separated where the process
	   rewrote its title (Chromium's zygote and renderers do) */
	for (ssize_t i = 0; i < len; i++)
		if ((i == 0 || buf[i - 1] == '\0' || buf[i - 1] == ' ') &&
		    strncmp(buf + i, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

uid_t it_proc_uid(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	unsigned long uid = (unsigned long)-1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return (uid_t)-1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Uid: %lu", &uid) == 1)
			break;
	fclose(f);
	return (uid_t)uid;
}

/* Parent pid of pid from /proc/pid/stat, or -1. */
static pid_t it_ppid(pid_t pid)
{
	char path[64], buf[1024], *p;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return (pid_t)ppid;
}

/* Children of parent, up to max; returns how many. */
static int it_children(pid_t parent, pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid > 0 && it_ppid(pid) == parent)
			pids[n++] = pid;
	}
	closedir(d);
	return n;
}

int it_workers(pid_t *pids, int max)
{
	pid_t kids[64];
	int n = it.daemon_pid > 0 ? it_children(it.daemon_pid, kids, 64) : 0, m = 0;
	char cmd[200];

	for (int i = 0; i < n && m < max; i++)
		if (it_cmdline(kids[i], cmd, sizeof cmd) > 0 &&
		    strcmp(cmd, "pixelgate-session") == 0)
			pids[m++] = kids[i];
	return m;
}

pid_t it_net_pid(void)
{
	pid_t kids[64];
	int n = it.daemon_pid > 0 ? it_children(it.daemon_pid, kids, 64) : 0;
	char path[64], comm[32];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/proc/%d/comm", (int)kids[i]);
		FILE *f = fopen(path, "r");
		bool yes = f && fgets(comm, sizeof comm, f) && strcmp(comm, "pixelgate\n") == 0;

		if (f)
			fclose(f);
		if (yes)
			return kids[i];
	}
	IT_FAIL("no network process under the daemon %d", (int)it.daemon_pid);
	return -1;
}

bool it_cell_path(pid_t worker, const char *path, char *out, size_t len)
{
	int n = snprintf(out, len, "/proc/%d/root%s", (int)worker, path);

	return n > 0 && (size_t)n < len && access(out, F_OK) == 0;
}

/* True if pid exists and is not a zombie. */
static bool it_alive(pid_t pid)
{
	char path[64], buf[512], *p, state = '?';
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 1, " %c", &state);
	fclose(f);
	return state != 'Z' && state != 'X' && state != '?';
}

/* ---- teardown ------------------------------------------------------------- */

static int it_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Waits up to s seconds for child pid to exit; true if it did. */
static bool it_reap(pid_t pid, double s, int *status)
{
	double end = it_now_s() + s;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (it_now_s() >= end)
			return false;
		it_sleep_ms(50);
	}
}

/* ---- extra processes -------------------------------------------------------- */

pid_t it_extra_start(const char *what, char *const argv[], char *const envp[], int out_fd,
		     const char *log_path)
{
	struct it_extra *e;

	IT_ASSERT(it_nextras < IT_MAX_EXTRAS, "more than %d extra processes", IT_MAX_EXTRAS);
	IT_ASSERT(access(argv[0], X_OK) == 0, "%s: %s", argv[0], strerror(errno));
	e = &it_extras[it_nextras];
	memset(e, 0, sizeof *e);
	snprintf(e->what, sizeof e->what, "%s", what);
	snprintf(e->log, sizeof e->log, "%s", log_path);
	e->pid = it_spawn_env(argv, envp, out_fd, log_path);
	it_nextras++;
	return e->pid;
}

static struct it_extra *it_extra_find(pid_t pid)
{
	for (int i = 0; i < it_nextras; i++)
		if (it_extras[i].pid == pid)
			return &it_extras[i];
	return NULL;
}

bool it_extra_running(pid_t pid, int *status)
{
	struct it_extra *e = it_extra_find(pid);

	if (!e)
		return false;
	if (!e->exited && waitpid(pid, &e->status, WNOHANG) == pid)
		e->exited = true;
	if (e->exited && status)
		*status = e->status;
	return !e->exited;
}

int it_extra_stop(pid_t pid, double timeout_s)
{
	struct it_extra *e = it_extra_find(pid);

	if (!e)
		return -1;
	if (!e->exited) {
		kill(pid, SIGTERM);
		if (!it_reap(pid, timeout_s, &e->status)) {
			kill(pid, SIGKILL);
			it_reap(pid, 5, &e->status);
		}
		e->exited = true;
	}
	return e->status;
}

int it_file_count(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		for (const char *p = line; (p = strstr(p, needle)) != NULL; p += strlen(needle))
			n++;
	fclose(f);
	return n;
}

/* Copies a log of a failed test to /tmp/pixelgate-it-logs/. */
static void it_keep_log(const char *path, const char *what)
{
	char dst[512], cmd[1200];

	if (!path[0] || access(path, R_OK) != 0)
		return;
	mkdir("/tmp/pixelgate-it-logs", 0755);
	snprintf(dst, sizeof dst, "/tmp/pixelgate-it-logs/%s-%s.log", it.test_name, what);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, dst);
	if (system(cmd) == 0)
		fprintf(stderr, "*** kept %s: %s\n", what, dst);
}

/* Teardown hooks (it_at_stop()), run first by the next teardown. */
static it_stop_hook it_hooks[4];
static int it_nhooks;

void it_at_stop(it_stop_hook hook)
{
	IT_ASSERT(it_nhooks < (int)(sizeof it_hooks / sizeof it_hooks[0]),
		  "more than %zu teardown hooks", sizeof it_hooks / sizeof it_hooks[0]);
	it_hooks[it_nhooks++] = hook;
}

/* Appends a formatted problem to the teardown's list. */
static void it_problem(char *problems, size_t len, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
static void it_problem(char *problems, size_t len, const char *fmt, ...)
{
	size_t used = strlen(problems);
	va_list ap;

	if (used + 4 >= len)
		return;
	if (used) {
		snprintf(problems + used, len - used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(problems + used, len - used, fmt, ap);
	va_end(ap);
}

/* "exit status N" / "signal N" of a wait status, for messages. */
static const char *it_status_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "wait status %#x", status);
	return buf;
}

/*
 * What in a log says a program of ours went wrong: sanitizer reports (the
 * gateway's, and its workers', which the privileged parent copies into the
 * gateway's log as "cell <id>| ..."), valgrind's error summary, a worker
 * that exited with a status other than 0 or died of a signal other than the
 * SIGKILL/SIGTERM the gateway sends.
 * Returns how many such lines; the first one goes to first.
 */
int it_log_reports(const char *path, char *first, size_t firstlen)
{
	static const char *const needles[] = {
		"ERROR: AddressSanitizer",
		"ERROR: LeakSanitizer",
		": runtime error: ",
		"WARNING: AddressSanitizer",
		"ERROR: UndefinedBehaviorSanitizer",
		"AddressSanitizer:DEADLYSIGNAL",
		"Sanitizer has encountered a fatal error", /* e.g. LSan could not start its tracer */
	};
	FILE *f = path[0] ? fopen(path, "r") : NULL;
	char line[2048];
	int n = 0;

	if (first && firstlen)
		first[0] = '\0';
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		bool bad = false;
		const char *p;
		int errors = 0, sig = 0;

		for (size_t i = 0; i < sizeof needles / sizeof needles[0] && !bad; i++)
			bad = strstr(line, needles[i]) != NULL;
		/* valgrind: "==123== ERROR SUMMARY: 2 errors from 2 contexts" */
		if (!bad && (p = strstr(line, "ERROR SUMMARY: ")) != NULL &&
		    sscanf(p, "ERROR SUMMARY: %d", &errors) == 1)
			bad = errors > 0;
		/* the gateway on a worker: "worker 123 killed by signal 11", "worker
		   123 exited with status 1" (a worker ends with 0 in every test; a
		   sanitizer's exit code is 1 or 23) */
		if (!bad && (p = strstr(line, " killed by signal ")) != NULL &&
		    strstr(line, ": worker ") && sscanf(p, " killed by signal %d", &sig) == 1)
			bad = sig != SIGKILL && sig != SIGTERM;
		if (!bad && (p = strstr(line, " exited with status ")) != NULL &&
		    strstr(line, ": worker ") && sscanf(p, " exited with status %d", &sig) == 1)
			bad = sig != 0;
		if (!bad)
			continue;
		if (n++ == 0 && first && firstlen) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(first, firstlen, "%s", line);
		}
	}
	fclose(f);
	return n;
}

/* it_log_reports() of path as a teardown problem. */
static void it_check_log(char *problems, size_t len, const char *path, const char *what)
{
	char first[400];
	int n = it_log_reports(path, first, sizeof first);
	char line[2048];
	bool from = false;
	int shown = 0;
	FILE *f;

	if (n == 0)
		return;
	it_problem(problems, len, "%d report line(s) in the %s's log (%s), the first: %s", n, what,
		   path, first);
	/* the report itself, from its first line (the tail of the log printed
	   on failure may have scrolled past it) */
	f = fopen(path, "r");
	fprintf(stderr, "--- the %s's log from its first report line ---\n", what);
	while (f && shown < 80 && fgets(line, sizeof line, f)) {
		char copy[sizeof line];

		snprintf(copy, sizeof copy, "%s", line);
		copy[strcspn(copy, "\n")] = '\0';
		from = from || strncmp(copy, first, strlen(first)) == 0;
		if (from) {
			fputs(line, stderr);
			shown++;
		}
	}
	fprintf(stderr, "--- end of the report ---\n");
	if (f)
		fclose(f);
}

/*
 * Processes of the session uid ranges (the daemon's and a second node's) and
 * of the gateway's user, up to max;
 * returns how many.
 */
static int it_scan_ours(pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct passwd *pw = getpwnam(IT_GATEWAY_USER);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		pid_t pid = (pid_t)atoi(e->d_name);
		uid_t uid;

		if (pid <= 0 || !it_alive(pid))
			continue;
		uid = it_proc_uid(pid);
		if ((uid >= IT_SESSION_UID_BASE &&
		     uid < IT_NODE_UID_BASE + (uid_t)IT_NODE_UID_COUNT) ||
		    (pw && uid == pw->pw_uid))
			pids[n++] = pid;
	}
	closedir(d);
	return n;
}

/*
 * Such processes that were not there when the test started: after the
 * daemon has stopped there must be none (a cell's processes, a forwarder, a
 * network process). Kills what it finds.
 */
static bool it_is_before(pid_t pid)
{
	for (int k = 0; k < it_nbefore; k++)
		if (it_before[k] == pid)
			return true;
	return false;
}

static void it_leftovers(char *problems, size_t len)
{
	pid_t now[512];
	int n = 0, found = 0;

	/* a few seconds' slack, as above (the daemon may have been stopped by
	   the test itself just before) */
	for (double end = it_now_s() + 10;; it_sleep_ms(100)) {
		int fresh = 0;

		n = it_scan_ours(now, 512);
		for (int i = 0; i < n; i++)
			fresh += !it_is_before(now[i]);
		if (fresh == 0 || it_now_s() >= end)
			break;
	}
	for (int i = 0; i < n; i++) {
		char cmd[200];
		ssize_t clen;

		if (it_is_before(now[i]))
			continue;
		clen = it_cmdline(now[i], cmd, sizeof cmd);
		for (ssize_t k = 0; k < clen; k++)
			if (cmd[k] == '\0')
				cmd[k] = ' ';
		if (found++ == 0)
			it_problem(problems, len,
				   "process(es) left after the daemon stopped "
				   "(killed now):");
		if (found <= 8)
			it_problem(problems, len, "[pid %d uid %u: %s]", (int)now[i],
				   (unsigned)it_proc_uid(now[i]), clen > 0 ? cmd : "?");
		kill(now[i], SIGKILL);
	}
}

/*
 * The teardown: the hooks, the test's connections and processes, the daemon
 * (it must stop on SIGTERM with exit status 0), then checks that nothing of a
 * session is left, and that no log has a sanitizer or valgrind report. The
 * problems found go to problems; the logs are kept if any or if the test
 * failed. Does nothing if there is nothing to tear down.
 */
static void it_teardown(char *problems, size_t len)
{
	pid_t workers[64], left[64];
	int nworkers = 0, nleft = 0, status = 0;
	char st[64];

	problems[0] = '\0';
	for (int i = 0; i < it_nhooks; i++)
		it_hooks[i](problems, len);
	it_nhooks = 0;
	for (int i = 0; i < IT_MAX_CONNS; i++)
		if (it_conns[i]) {
			pgc_free(it_conns[i]);
			it_conns[i] = NULL;
		}
	/* the test's own processes first, latest started first: a viewer goes
	   before the relay it talks through and the X server it draws on */
	for (int i = it_nextras - 1; i >= 0; i--)
		it_extra_stop(it_extras[i].pid, 10);
	if (it.daemon_pid > 0 && waitpid(it.daemon_pid, &status, WNOHANG) == it.daemon_pid) {
		it_problem(problems, len, "pixelgate exited during the test (%s)",
			   it_status_text(status, st, sizeof st));
		it.daemon_pid = 0;
	}
	if (it.daemon_pid > 0) {
		double t0 = it_now_s();

		nworkers = it_children(it.daemon_pid, workers, 64);
		kill(it.daemon_pid, SIGTERM);
		if (!it_reap(it.daemon_pid, IT_DAEMON_STOP_S, &status)) {
			it_problem(problems, len, "pixelgate still running %d s after SIGTERM",
				   IT_DAEMON_STOP_S);
			kill(it.daemon_pid, SIGKILL);
			it_reap(it.daemon_pid, 5, &status);
		} else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			it_problem(problems, len,
				   "pixelgate ended with %s after SIGTERM (want exit "
				   "status 0)",
				   it_status_text(status, st, sizeof st));
		} else if (!it.failed) {
			fprintf(stderr, "[%s] pixelgate stopped %.1f s after SIGTERM (%s)\n",
				it.test_name, it_now_s() - t0,
				it_status_text(status, st, sizeof st));
		}
		it.daemon_pid = 0;
	}
	/* sessions must be gone with the daemon: workers, Xvfb, Chromium (a few
	   seconds' slack: a worker notices a dead daemon by its control socket) */
	for (double end = it_now_s() + 10;;) {
		nleft = 0;
		for (int i = 0; i < nworkers; i++)
			if (it_alive(workers[i]) && nleft < 64)
				left[nleft++] = workers[i];
		if (it.runtime_dir[0]) {
			pid_t more[64];
			int n = it_find_procs(it.runtime_dir, more, 64);

			for (int i = 0; i < n && i < 64 && nleft < 64; i++)
				if (it_alive(more[i]))
					left[nleft++] = more[i];
		}
		if (nleft == 0 || it_now_s() >= end)
			break;
		it_sleep_ms(100);
	}
	if (nleft) {
		it_problem(problems, len,
			   "%d session process(es) still running after the daemon "
			   "stopped (killed now):",
			   nleft);
		for (int i = 0; i < nleft; i++) {
			char cmd[200];
			ssize_t clen = it_cmdline(left[i], cmd, sizeof cmd);

			for (ssize_t k = 0; k < clen; k++)
				if (cmd[k] == '\0')
					cmd[k] = ' ';
			it_problem(problems, len, "[%d %s]", (int)left[i], clen > 0 ? cmd : "?");
			kill(left[i], SIGKILL);
		}
	}
	if (it.dir[0])
		it_leftovers(problems, len);
	if (it.squid_pid > 0) {
		kill(it.squid_pid, SIGKILL);
		it_reap(it.squid_pid, 5, &status);
		it.squid_pid = 0;
	}
	if (it.page_pid > 0) {
		kill(it.page_pid, SIGTERM);
		if (!it_reap(it.page_pid, 5, &status)) {
			kill(it.page_pid, SIGKILL);
			it_reap(it.page_pid, 5, &status);
		}
		it.page_pid = 0;
	}
	/* the reports of everything of ours that ran: the daemon (and, through
	   it, its workers), valgrind, the test's own processes (a viewer) */
	if (it.dir[0]) {
		it_check_log(problems, len, it.daemon_log, "daemon");
		if (it.memcheck)
			it_check_log(problems, len, it.memcheck_log, "valgrind");
	}
	for (int i = 0; i < it_nextras; i++)
		it_check_log(problems, len, it_extras[i].log, it_extras[i].what);
	if (problems[0]) {
		fprintf(stderr, "*** [%s] teardown: %s\n", it.test_name, problems);
		if (!it.failed)
			it_dump_logs();
		it.failed = true;
	}
	if (it.failed || getenv("PIXELGATE_IT_KEEP_LOGS")) {
		it_keep_log(it.daemon_log, "daemon");
		it_keep_log(it.page_log, "pageserver");
		it_keep_log(it.squid_log, "squid-access");
		if (it.memcheck)
			it_keep_log(it.memcheck_log, "memcheck");
		for (int i = 0; i < it_nextras; i++)
			it_keep_log(it_extras[i].log, it_extras[i].what);
	}
	it_nextras = 0;
	if (it.dir[0]) {
		nftw(it.dir, it_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		it.dir[0] = '\0';
	}
}

void it_finish(void)
{
	static char problems[8192];

	it_teardown(problems, sizeof problems);
	if (problems[0])
		cr_assert_fail("teardown: %s", problems);
}

void it_stop(void)
{
	static char problems[8192];

	/* only after a test body that did not reach it_finish(): the test has
	   failed (or was skipped) already; what is found here is printed */
	it_teardown(problems, sizeof problems);
}

void it_skip(const char *why)
{
	const char *allow = getenv("PIXELGATE_TEST_ALLOW_SKIP");

	if (allow && strcmp(allow, "1") == 0)
		cr_skip_test("%s (skipped: PIXELGATE_TEST_ALLOW_SKIP=1)", why);
	IT_FAIL("cannot run here: %s (set PIXELGATE_TEST_ALLOW_SKIP=1 to let such tests be "
		"skipped; tests/run.sh counts them)",
		why);
}

/* ---- raw HTTPS ------------------------------------------------------------ */

int it_https_raw(const char *request, char *body, size_t bodylen, char *error, size_t errorlen)
{
	return it_https_raw_port(it.port, request, NULL, 0, body, bodylen, error, errorlen);
}

int it_https_raw_port(int port, const char *request, char *head, size_t headlen, char *body,
		      size_t bodylen, char *error, size_t errorlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 15 };
	static char buf[65536];
	size_t got = 0, want = SIZE_MAX;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd = -1, status = -1;
	char *sep;

	if (bodylen)
		body[0] = '\0';
	if (errorlen)
		error[0] = '\0';
	if (headlen)
		head[0] = '\0';
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_load_verify_locations(ctx, it.ca_file, NULL) != 1)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		goto out;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") != 1 ||
	    SSL_connect(ssl) != 1 || SSL_write(ssl, request, (int)strlen(request)) <= 0) {
		snprintf(body, bodylen, "TLS connection failed");
		goto out;
	}
	while (got < sizeof buf - 1 && got < want) {
		int n = SSL_read(ssl, buf + got, (int)(sizeof buf - 1 - got));

		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		sep = strstr(buf, "\r\n\r\n");
		if (sep && want == SIZE_MAX) {
			const char *cl = strcasestr(buf, "\r\ncontent-length:");

			if (cl && cl < sep)
				want = (size_t)(sep + 4 - buf) + strtoul(cl + 17, NULL, 10);
			else if (strncmp(buf + 9, "101", 3) == 0)
				want = (size_t)(sep + 4 - buf);
		}
	}
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		status = -1;
		goto out;
	}
	sep = strstr(buf, "\r\n\r\n");
	if (headlen)
		snprintf(head, headlen, "%.*s", (int)(sep ? sep - buf : (ptrdiff_t)got), buf);
	if (sep) {
		json_t *j = json_loads(sep + 4, JSON_DISABLE_EOF_CHECK, NULL);
		const char *e = json_string_value(json_object_get(j, "error"));

		if (bodylen)
			snprintf(body, bodylen, "%s", sep + 4);
		if (e && errorlen)
			snprintf(error, errorlen, "%s", e);
		json_decref(j);
	}
out:
	if (ssl)
		SSL_free(ssl);
	if (ctx)
		SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return status;
}

int it_ws_upgrade(const char *path_and_query, char *body, size_t bodylen, char *error,
		  size_t errorlen)
{
	char req[2048];

	snprintf(req, sizeof req,
		 "GET %s HTTP/1.1\r\n"
		 "Host: 127.0.0.1:%d\r\n"
		 "Upgrade: websocket\r\n"
		 "Connection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n"
		 "Sec-WebSocket-Protocol: binary\r\n"
		 "\r\n",
		 path_and_query, it.port);
	return it_https_raw(req, body, bodylen, error, errorlen);
}

/* ---- daemon restart ---------------------------------------------------------- */

int it_stop_daemon(double timeout_s)
{
	int status = 0;

	IT_ASSERT(it.daemon_pid > 0, "no daemon to stop");
	IT_ASSERT(waitpid(it.daemon_pid, &status, WNOHANG) == 0,
		  "pixelgate exited before it was stopped (%s %d)",
		  WIFEXITED(status) ? "exit status" : "signal",
		  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	kill(it.daemon_pid, SIGTERM);
	if (!it_reap(it.daemon_pid, timeout_s, &status)) {
		kill(it.daemon_pid, SIGKILL);
		it_reap(it.daemon_pid, 5, &status);
		it.daemon_pid = 0;
		IT_FAIL("pixelgate still running %.0f s after SIGTERM", timeout_s);
	}
	it.daemon_pid = 0;
	return status;
}

void it_restart_daemon(void)
{
	it_restart_daemon_with(NULL);
}

void it_restart_daemon_with(void (*between)(void))
{
	pid_t left[8];
	double t0 = it_now_s(), end;
	int status = 0, n = 0;

	IT_ASSERT(it.daemon_pid > 0, "no daemon to restart");
	IT_ASSERT(waitpid(it.daemon_pid, &status, WNOHANG) == 0,
		  "pixelgate exited before the restart (%s %d)",
		  WIFEXITED(status) ? "exit status" : "signal",
		  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	kill(it.daemon_pid, SIGTERM);
	IT_ASSERT(it_reap(it.daemon_pid, IT_DAEMON_STOP_S, &status),
		  "pixelgate still running %d s after SIGTERM", IT_DAEMON_STOP_S);
	it.daemon_pid = 0;
	IT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "pixelgate ended with %s after SIGTERM for a restart (want exit status 0)",
		  WIFEXITED(status) ? "an exit status" : "a signal");
	/* its sessions go with it (a worker notices by its control socket) */
	for (end = it_now_s() + 15; it_now_s() < end; it_sleep_ms(100)) {
		pid_t pids[8];
		int m = it_find_procs(it.runtime_dir, pids, 8);

		n = 0;
		for (int i = 0; i < m && i < 8; i++)
			if (it_alive(pids[i]))
				left[n++] = pids[i];
		if (n == 0)
			break;
	}
	IT_ASSERT(n == 0,
		  "%d session process(es) (first pid %d) still running 15 s after the "
		  "daemon stopped",
		  n, n ? (int)left[0] : 0);
	fprintf(stderr, "[%s] pixelgate stopped for a restart after %.1f s (%s %d)\n", it.test_name,
		it_now_s() - t0, WIFEXITED(status) ? "exit status" : "signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (between != NULL)
		between();
	it_start_daemon();
}

/* ---- HTTP helpers ------------------------------------------------------------ */

int it_http(const struct pgc_server *srv, const char *method, const char *path, const char *user,
	    const char *password, const char *json, struct it_http *r)
{
	struct pgc_http_response res;
	char cred[256], auth[400] = "Basic ";
	json_t *j;
	int rc, n;

	memset(r, 0, sizeof *r);
	r->status = -1;
	r->retry_after_s = -1;
	if (user) {
		n = snprintf(cred, sizeof cred, "%s:%s", user, password);
		IT_ASSERT(n > 0 && (size_t)n < sizeof cred &&
			      (size_t)n * 4 / 3 + 8 < sizeof auth - 6,
			  "credentials too long");
		EVP_EncodeBlock((unsigned char *)auth + 6, (const unsigned char *)cred, n);
	}
	rc = pgc_http_request(srv, method, path, user ? auth : NULL,
			      json ? "application/json" : NULL, json, json ? strlen(json) : 0,
			      &res);
	if (rc != 0 && res.status == 0) {
		snprintf(r->body, sizeof r->body, "%s %s: no HTTP answer: %s", method, path,
			 res.message);
		pgc_http_response_free(&res);
		return -1;
	}
	r->status = res.status;
	r->retry_after_s = res.retry_after_s;
	snprintf(r->body, sizeof r->body, "%s", res.body ? res.body : res.message);
	pgc_http_response_free(&res);
	j = json_loads(r->body, JSON_DISABLE_EOF_CHECK, NULL);
	if (json_is_string(json_object_get(j, "error")))
		snprintf(r->error, sizeof r->error, "%s",
			 json_string_value(json_object_get(j, "error")));
	json_decref(j);
	return r->status;
}

int it_admin(const char *method, const char *path, const char *user, const char *json,
	     struct it_http *r)
{
	char pw[128];

	snprintf(pw, sizeof pw, "%s", user ? it_password(user) : "");
	return it_http(&it.admin_srv, method, path, user, pw, json, r);
}

int it_login_http(const char *user, const char *password, bool new_session, struct it_http *r)
{
	json_t *o = json_pack("{s:s, s:s}", "user", user, "password", password);
	char *text;
	int st;

	if (new_session)
		json_object_set_new(o, "new_session", json_true());
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	IT_ASSERT(text != NULL, "json_dumps failed");
	st = it_http(&it.srv, "POST", "/api/v1/login", NULL, NULL, text, r);
	free(text);
	return st;
}

long long it_json_int(const char *body, const char *key)
{
	json_t *j = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL);
	json_t *v = json_object_get(j, key);
	long long n = json_is_integer(v) ? (long long)json_integer_value(v) : LLONG_MIN;

	json_decref(j);
	return n;
}

bool it_json_str(const char *body, const char *key, char *out, size_t outlen)
{
	json_t *j = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL);
	json_t *v = json_object_get(j, key);
	bool ok = json_is_string(v);

	if (outlen)
		snprintf(out, outlen, "%s", ok ? json_string_value(v) : "");
	json_decref(j);
	return ok;
}

int it_json_bool(const char *body, const char *key)
{
	json_t *j = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL);
	json_t *v = json_object_get(j, key);
	int b = json_is_boolean(v) ? json_is_true(v) : -1;

	json_decref(j);
	return b;
}

/* ---- the audit log --------------------------------------------------------------- */

/* Keeps audit-*.jsonl names (the daemon's audit files). */
static int it_is_audit_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return strncmp(e->d_name, "audit-", 6) == 0 && n > 12 &&
	    strcmp(e->d_name + n - 6, ".jsonl") == 0;
}

/* The audit files' names in it.audit_dir, sorted (free each and the array); how many. */
static int it_audit_names(struct dirent ***names)
{
	int n = scandir(it.audit_dir, names, it_is_audit_file, alphasort);

	IT_ASSERT(n >= 0, "scandir %s: %s", it.audit_dir, strerror(errno));
	return n;
}

/*
 * Appends every record of the audit files to all and their sizes to *bytes.
 * False if a file's last line has no newline and is not a JSON object (a
 * record seen half written), unless torn_fails: then that fails the test as
 * any other line that is not a JSON object does.
 */
static bool it_audit_read(json_t *all, size_t *bytes, bool torn_fails)
{
	struct dirent **names = NULL;
	int n = it_audit_names(&names);
	bool whole = true;

	for (int i = 0; i < n; i++) {
		char path[640], *line = NULL;
		size_t cap = 0;
		ssize_t len;
		long lineno = 0;
		FILE *f;

		snprintf(path, sizeof path, "%s/%s", it.audit_dir, names[i]->d_name);
		free(names[i]);
		if (!whole)
			continue;
		f = fopen(path, "r");
		IT_ASSERT(f != NULL, "open %s: %s", path, strerror(errno));
		while ((len = getline(&line, &cap, f)) > 0) {
			bool ended = line[len - 1] == '\n';
			json_t *rec;

			lineno++;
			*bytes += (size_t)len;
			if (ended)
				line[--len] = '\0';
			rec = json_loadb(line, (size_t)len, 0, NULL);
			if (!json_is_object(rec) && !ended && !torn_fails) {
				json_decref(rec);
				whole = false;
				break;
			}
			IT_ASSERT(json_is_object(rec), "%s:%ld is not a JSON object: %.300s", path,
				  lineno, line);
			json_object_set_new(rec, "_line", json_stringn(line, (size_t)len));
			json_array_append_new(all, rec);
		}
		free(line);
		fclose(f);
	}
	free(names);
	return whole;
}

json_t *it_audit_records(size_t *bytes)
{
	for (int tries = 1;; tries++) {
		json_t *all = json_array();
		size_t total = 0;

		if (it_audit_read(all, &total, tries >= 20)) {
			if (bytes)
				*bytes = total;
			return all;
		}
		json_decref(all);
		it_sleep_ms(50);
	}
}

int it_audit_files(char *newest, size_t newestlen)
{
	struct dirent **names = NULL;
	int n = it_audit_names(&names);

	if (newest && newestlen) {
		if (n > 0)
			snprintf(newest, newestlen, "%s/%s", it.audit_dir, names[n - 1]->d_name);
		else
			newest[0] = '\0';
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n;
}

const char *it_rec_str(const json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s ? s : "";
}

long long it_rec_int(const json_t *rec, const char *key)
{
	json_t *v = json_object_get(rec, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : LLONG_MIN;
}

#define IT_AUDIT_PAIRS 8 /* key, value pairs a selection may have */

/* What the it_audit_*() select: see harness.h. */
struct it_audit_sel {
	const char *event; /* NULL: any */
	const char *key[IT_AUDIT_PAIRS], *value[IT_AUDIT_PAIRS];
	int pairs;
};

/* Fills sel from event and the key, value pairs of ap (ending with NULL). */
static void it_audit_sel_make(struct it_audit_sel *sel, const char *event, va_list ap)
{
	const char *key;

	sel->event = event;
	sel->pairs = 0;
	while ((key = va_arg(ap, const char *)) != NULL) {
		IT_ASSERT(sel->pairs < IT_AUDIT_PAIRS, "an audit selection of more than %d pairs",
			  IT_AUDIT_PAIRS);
		sel->key[sel->pairs] = key;
		sel->value[sel->pairs] = va_arg(ap, const char *);
		IT_ASSERT(sel->value[sel->pairs] != NULL,
			  "an audit selection with key \"%s\" but no value", key);
		sel->pairs++;
	}
}

/* The first record of recs that sel selects (borrowed) or NULL; how many in *count. */
static json_t *it_audit_select(const json_t *recs, const struct it_audit_sel *sel, int *count)
{
	json_t *first = NULL, *r;
	size_t i;
	int n = 0;

	json_array_foreach(recs, i, r) {
		bool match = !sel->event || strcmp(it_rec_str(r, "event"), sel->event) == 0;

		for (int k = 0; match && k < sel->pairs; k++)
			match = strcmp(it_rec_str(r, sel->key[k]), sel->value[k]) == 0;
		if (!match)
			continue;
		if (first == NULL)
			first = r;
		n++;
	}
	if (count)
		*count = n;
	return first;
}

json_t *it_audit_match(const json_t *recs, int *count, const char *event, ...)
{
	struct it_audit_sel sel;
	va_list ap;

	va_start(ap, event);
	it_audit_sel_make(&sel, event, ap);
	va_end(ap);
	return it_audit_select(recs, &sel, count);
}

json_t *it_audit_find(int *count, const char *event, ...)
{
	struct it_audit_sel sel;
	json_t *recs, *first;
	va_list ap;

	va_start(ap, event);
	it_audit_sel_make(&sel, event, ap);
	va_end(ap);
	recs = it_audit_records(NULL);
	first = json_incref(it_audit_select(recs, &sel, count));
	json_decref(recs);
	return first;
}

int it_audit_count(const char *event, ...)
{
	struct it_audit_sel sel;
	json_t *recs;
	va_list ap;
	int n;

	va_start(ap, event);
	it_audit_sel_make(&sel, event, ap);
	va_end(ap);
	recs = it_audit_records(NULL);
	it_audit_select(recs, &sel, &n);
	json_decref(recs);
	return n;
}

json_t *it_audit_wait(struct pgc_conn *pump, double seconds, int want, int *count,
		      const char *event, ...)
{
	struct it_audit_sel sel;
	double end = it_now_s() + seconds;
	va_list ap;

	va_start(ap, event);
	it_audit_sel_make(&sel, event, ap);
	va_end(ap);
	for (;;) {
		json_t *recs = it_audit_records(NULL);
		int n;
		json_t *first = json_incref(it_audit_select(recs, &sel, &n));

		json_decref(recs);
		if (count)
			*count = n;
		if (n >= want || it_now_s() >= end)
			return first;
		json_decref(first);
		if (pump && !pgc_closed(pump))
			it_pump_for(pump, 200);
		else
			it_sleep_ms(200);
	}
}

/* Copies string member key of o into out ("" if absent); integers too. */
static void it_member(json_t *o, const char *key, char *out, size_t outlen)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		snprintf(out, outlen, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
	else
		snprintf(out, outlen, "%s", "");
}

int it_sessions(const char *admin, struct it_session *s, int max)
{
	return it_sessions_at(&it.admin_srv, admin, s, max);
}

int it_sessions_at(const struct pgc_server *admin_srv, const char *admin, struct it_session *s,
		   int max)
{
	struct it_http r;
	json_t *j, *arr;
	int n;

	it_http(admin_srv, "GET", "/api/v1/sessions", admin, it_password(admin), NULL, &r);
	IT_ASSERT(r.status == 200, "GET /api/v1/sessions: %d %s", r.status, r.body);
	j = json_loads(r.body, 0, NULL);
	arr = json_object_get(j, "sessions");
	if (!json_is_array(arr)) {
		json_decref(j);
		IT_FAIL("GET /api/v1/sessions: no \"sessions\" array in %s", r.body);
	}
	n = (int)json_array_size(arr);
	for (int i = 0; i < n && i < max; i++) {
		json_t *e = json_array_get(arr, (size_t)i);

		memset(&s[i], 0, sizeof s[i]);
		it_member(e, "id", s[i].id, sizeof s[i].id);
		it_member(e, "user", s[i].user, sizeof s[i].user);
		it_member(e, "client", s[i].client, sizeof s[i].client);
		it_member(e, "state", s[i].state, sizeof s[i].state);
		it_member(e, "started", s[i].started, sizeof s[i].started);
		it_member(e, "last_input", s[i].last_input, sizeof s[i].last_input);
		s[i].bytes_in = json_is_integer(json_object_get(e, "bytes_in"))
		    ? json_integer_value(json_object_get(e, "bytes_in"))
		    : -1;
		s[i].bytes_out = json_is_integer(json_object_get(e, "bytes_out"))
		    ? json_integer_value(json_object_get(e, "bytes_out"))
		    : -1;
	}
	json_decref(j);
	return n;
}

double it_metric(const char *text, const char *series)
{
	size_t len = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, len) == 0 && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return -1;
}

bool it_agent_check(char *line, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)it.agent_port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	line[0] = '\0';
	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		snprintf(line, len, "connect: %s", strerror(errno));
		close(fd);
		return false;
	}
	ok = it_read_line(fd, line, len, 10);
	close(fd);
	return ok;
}

static void it_key(struct pgc_conn *c, uint32_t keysym, bool down)
{
	IT_ASSERT(pgc_key(c, keysym, down) == 0, "key 0x%x %s failed: %s", keysym,
		  down ? "down" : "up", pgc_close_reason(c));
	it_pump_for(c, 60);
}

void it_goto(struct pgc_conn *c, const char *url)
{
	it_pump_for(c, 500);
	it_key(c, 0xffe3, true); /* Control_L */
	it_key(c, 'l', true);
	it_key(c, 'l', false);
	it_key(c, 0xffe3, false);
	it_pump_for(c, 500);
	IT_ASSERT(pgc_type_utf8(c, url) == 0, "typing %s failed: %s", url, pgc_close_reason(c));
	it_pump_for(c, 300);
	it_key(c, 0xff0d, true); /* Return */
	it_key(c, 0xff0d, false);
}

int it_run(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[4096], path[400], full[4600];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof path, "%s/run.out", it.dir);
	snprintf(full, sizeof full, "(%s) </dev/null >%s 2>&1", cmd, path);
	rc = system(full);
	out[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		n = fread(out, 1, outlen - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- process figures ---------------------------------------------------------- */

long it_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int it_fd_count(pid_t pid)
{
	char path[64];
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- the test page's download ------------------------------------------------- */

static struct it_download_walk *it_walk_into;

/* nftw callback: a file named like the download, a partial download, or a
   file holding the download's content is a leak. */
static int it_walk_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct it_download_walk *w = it_walk_into;
	const char *base = path + ftw->base;
	bool leak = false;
	size_t len = strlen(w->report);

	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	w->files++;
	if (strstr(base, "pixelgate-canary") || strstr(base, ".crdownload") ||
	    strncmp(base, "Unconfirmed ", 12) == 0) {
		leak = true;
	} else if (st->st_size > 0 && st->st_size < 256L * 1024 * 1024) {
		FILE *f = fopen(path, "rb");
		char *buf = f ? malloc((size_t)st->st_size + 1) : NULL;

		if (buf) {
			size_t n = fread(buf, 1, (size_t)st->st_size, f);

			leak = memmem(buf, n, PAGE_DOWNLOAD_CANARY, strlen(PAGE_DOWNLOAD_CANARY)) !=
			    NULL;
		}
		free(buf);
		if (f)
			fclose(f);
	}
	if (leak) {
		w->bad++;
		snprintf(w->report + len, sizeof w->report - len, " %s (%lld bytes);", path,
			 (long long)st->st_size);
	}
	return 0;
}

bool it_walk_for_download(const char *root, struct it_download_walk *w)
{
	it_walk_into = w;
	bool ok = nftw(root, it_walk_cb, 32, FTW_PHYS) == 0;
	it_walk_into = NULL;
	return ok;
}

/* ---- the second factor (TOTP) --------------------------------------------------- */

/* it_opts.before_daemon: the key file and [auth] appended. */
void it_mfa_world(void)
{
	char key[400], text[1200];
	FILE *f;

	snprintf(key, sizeof key, "%s/totp.key", it.dir);
	IT_ASSERT(it_run(text, sizeof text, "head -c 32 /dev/urandom > '%s' && chmod 600 '%s' 2>&1",
			 key, key) == 0,
		  "the key file: %s", text);
	snprintf(text, sizeof text,
		 "[auth]\nmfa = admins\ntotp_key_file = %s\ntotp_file = %s/totp.json\n", key,
		 it.state_dir);
	f = fopen(it.conf_file, "a");
	IT_ASSERT(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "%s: %s", it.conf_file,
		  strerror(errno));
}

/* Enrol user through the admin API (as admin); the base32 secret into secret. */
void it_totp_enroll(const char *admin, const char *user, char *secret, size_t len)
{
	struct it_http r;
	char path[128], uri[512];
	const char *p;

	snprintf(path, sizeof path, "/api/v1/users/%s/totp", user);
	IT_ASSERT(it_admin("POST", path, admin, NULL, &r) == 200, "enrol %s: %d %s", user, r.status,
		  r.body);
	IT_ASSERT(it_json_str(r.body, "uri", uri, sizeof uri), "no uri: %s", r.body);
	p = strstr(uri, "secret=");
	IT_ASSERT(strncmp(uri, "otpauth://totp/pixelgate:", 25) == 0 && p != NULL,
		  "not an otpauth URI: %s", uri);
	snprintf(secret, len, "%.*s", (int)strcspn(p + 7, "&"), p + 7);
}

/* The code of secret now, as an authenticator app shows it (oathtool). */
void it_totp_code(const char *secret, char code[16])
{
	char out[64];

	IT_ASSERT(it_run(out, sizeof out, "/usr/bin/oathtool --totp -b '%s'", secret) == 0,
		  "oathtool: %s", out);
	snprintf(code, 16, "%.6s", out);
}

int it_login_otp(const char *user, const char *password, const char *otp, struct it_http *r)
{
	json_t *o = json_pack("{s:s, s:s}", "user", user, "password", password);
	char *text;
	int st;

	if (otp[0])
		json_object_set_new(o, "otp", json_string(otp));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	IT_ASSERT(text != NULL, "json_dumps failed");
	st = it_http(&it.srv, "POST", "/api/v1/login", NULL, NULL, text, r);
	free(text);
	fprintf(stderr, "[%s] login %s otp \"%s\": %d %s\n", it.test_name, user, otp, st, r->error);
	return st;
}

void it_ctl_config(const char *admin, char *conf, size_t len, char *pw_path, size_t pw_len)
{
	char pwfile[400], text[1400];

	snprintf(pwfile, sizeof pwfile, "%s/ctl-%s.pw", it.dir, admin);
	if (pw_path != NULL)
		snprintf(pw_path, pw_len, "%s", pwfile);
	it_write_file(pwfile, it_password(admin), 0600);
	snprintf(conf, len, "%s/pixelgatectl-%s.conf", it.dir, admin);
	snprintf(text, sizeof text,
		 "[pixelgatectl]\nserver = https://127.0.0.1:%d\nca_file = %s\nuser = %s\n"
		 "password_file = %s\n",
		 it.admin_port, it.ca_file, admin, pwfile);
	it_write_file(conf, text, 0600);
}

/* ---- a second node ------------------------------------------------------------ */

static struct it_node *it_node_up; /* the one it_node_start() started, until the teardown */

/* Teardown hook: the node stops as the daemon does, and leaves nothing. */
static void it_node_stop_hook(char *problems, size_t len)
{
	struct it_node *n = it_node_up;
	pid_t left[64];
	int status = 0, nleft = 0;
	char st[64];

	it_node_up = NULL;
	if (n == NULL || n->pid <= 0)
		return;
	if (!it_extra_running(n->pid, &status)) {
		it_problem(problems, len, "%s exited during the test (%s)", n->name,
			   it_status_text(status, st, sizeof st));
	} else {
		status = it_extra_stop(n->pid, IT_DAEMON_STOP_S);
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			it_problem(problems, len,
				   "%s ended with %s after SIGTERM (want exit status 0 within %d s)",
				   n->name, it_status_text(status, st, sizeof st),
				   IT_DAEMON_STOP_S);
	}
	n->pid = 0;
	for (double end = it_now_s() + 10;; it_sleep_ms(100)) {
		nleft = it_find_procs(n->runtime_dir, left, 64);
		if (nleft == 0 || it_now_s() >= end)
			break;
	}
	if (nleft > 0) {
		it_problem(problems, len, "%d process(es) of %s's sessions left (killed now)",
			   nleft, n->name);
		for (int i = 0; i < nleft; i++)
			kill(left[i], SIGKILL);
	}
}

void it_node_start(struct it_node *n, const char *name, const char *extra_conf)
{
	char users_file[400], audit_key[400], session_binary[400], node_conf[4096];
	char *argv[] = { PIXELGATE_BUILD_DIR "/pixelgate", "-c", n->conf_file, NULL };
	double end = it_now_s() + IT_DAEMON_READY_S;
	int status;

	IT_ASSERT(it.dir[0] && it.daemon_pid > 0, "it_node_start() before it_start()");
	IT_ASSERT(it_node_up == NULL, "one second node per test");
	memset(n, 0, sizeof *n);
	snprintf(n->name, sizeof n->name, "%s", name);
	snprintf(n->dir, sizeof n->dir, "%s/%s", it.dir, name);
	IT_ASSERT(mkdir(n->dir, 0711) == 0, "mkdir %s: %s", n->dir, strerror(errno));
	snprintf(n->runtime_dir, sizeof n->runtime_dir, "%s/run", n->dir);
	IT_ASSERT(mkdir(n->runtime_dir, 0711) == 0, "mkdir %s: %s", n->runtime_dir,
		  strerror(errno));
	snprintf(n->state_dir, sizeof n->state_dir, "%s/state", n->dir);
	snprintf(n->audit_dir, sizeof n->audit_dir, "%s/audit", n->dir);
	snprintf(n->conf_file, sizeof n->conf_file, "%s/pixelgate.conf", n->dir);
	snprintf(n->log, sizeof n->log, "%s/daemon.log", n->dir);
	snprintf(users_file, sizeof users_file, "%s/users", n->dir);
	snprintf(audit_key, sizeof audit_key, "%s/audit.key", n->dir);
	snprintf(session_binary, sizeof session_binary, "%s/pixelgate-session",
		 PIXELGATE_BUILD_DIR);
	/* the same accounts (the users file as the first node has it), a key of its own */
	it_sh("cp '%s/users' '%s' && head -c 32 /dev/urandom > '%s' && chmod 600 '%s' '%s'", it.dir,
	      users_file, audit_key, users_file, audit_key);
	do
		n->port = it_free_port();
	while (n->port == it.port || n->port == it.admin_port || n->port == it.agent_port);
	do
		n->admin_port = it_free_port();
	while (n->admin_port == n->port || n->admin_port == it.port ||
	       n->admin_port == it.admin_port || n->admin_port == it.agent_port);
	do
		n->agent_port = it_free_port();
	while (n->agent_port == n->port || n->agent_port == n->admin_port ||
	       n->agent_port == it.port || n->agent_port == it.admin_port ||
	       n->agent_port == it.agent_port);
	/* on one machine the nodes' cells must not share uids (on two they may) */
	snprintf(node_conf, sizeof node_conf,
		 "[session]\nsession_uid_base = %u\nsession_uid_count = %d\n%s", IT_NODE_UID_BASE,
		 IT_NODE_UID_COUNT, extra_conf ? extra_conf : "");
	it_write_conf(n->conf_file,
		      &(struct it_conf){ .test_name = it.test_name,
					 .users_file = users_file,
					 .runtime_dir = n->runtime_dir,
					 .state_dir = n->state_dir,
					 .audit_dir = n->audit_dir,
					 .audit_key = audit_key,
					 .session_binary = session_binary,
					 .dir = n->dir,
					 .port = n->port,
					 .admin_port = n->admin_port,
					 .agent_port = n->agent_port,
					 .extra_conf = node_conf });
	nftw(n->dir, it_give_cb, 16, FTW_PHYS);
	IT_ASSERT(chown(n->runtime_dir, 0, 0) == 0 && chown(n->conf_file, 0, 0) == 0, "chown: %s",
		  strerror(errno));
	n->srv = (struct pgc_server){ .host = "127.0.0.1", .port = n->port, .ca_file = it.ca_file };
	n->admin_srv = (struct pgc_server){ .host = "127.0.0.1",
					    .port = n->admin_port,
					    .ca_file = it.ca_file };
	n->pid = it_extra_start(name, argv, NULL, -1, n->log);
	it_node_up = n;
	it_at_stop(it_node_stop_hook);
	while (!it_port_open(n->port) || !it_port_open(n->admin_port) ||
	       !it_port_open(n->agent_port)) {
		IT_ASSERT(it_extra_running(n->pid, &status), "%s exited before listening (%s %d)",
			  name, WIFEXITED(status) ? "exit status" : "signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		IT_ASSERT(it_now_s() < end, "%s not listening on :%d, :%d and :%d after %d s", name,
			  n->port, n->admin_port, n->agent_port, IT_DAEMON_READY_S);
		it_sleep_ms(100);
	}
}
