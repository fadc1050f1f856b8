/*
 * test_cell.c: each session in its own cell (issue 9), with the real daemon,
 * Xvfb, Chromium and squid as the upstream proxy.
 *
 * "Inside a cell" is what a compromised browser would have: the test enters
 * the worker's namespaces with nsenter and becomes the cell's uid (setpriv,
 * no_new_privs), then tries to reach what it must not. The browser side is
 * driven through real pages (tests/fixtures/pageserver.py: /escape.html,
 * /hog.html) and the address bar.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define CELL_END_S 60 /* a session past a limit is ended within this */

/* The workers of two sessions, by uid order; fails unless there are exactly two. */
static void cell_two_workers(pid_t w[2], uid_t u[2])
{
	int n = it_workers(w, 2);

	IT_ASSERT(n == 2, "%d session workers, want 2", n);
	u[0] = it_proc_uid(w[0]);
	u[1] = it_proc_uid(w[1]);
}

/* Run script inside worker's cell as uid (all its namespaces, no_new_privs). */
static int cell_sh(pid_t worker, uid_t uid, char *out, size_t len, const char *script)
{
	return it_run(out, len,
		      "nsenter -t %d -m -p -n -i -u -- setpriv --reuid=%u --regid=%u "
		      "--clear-groups --no-new-privs -- sh -c '%s'",
		      (int)worker, (unsigned)uid, (unsigned)uid, script);
}

static void cell_ns(pid_t pid, const char *ns, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns);
	n = readlink(path, out, len - 1);
	IT_ASSERT(n > 0, "readlink %s: %s", path, strerror(errno));
	out[n] = '\0';
}

/* A line of /proc/PID/status ("NoNewPrivs:\t1"), or "". */
static void cell_status(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	out[0] = '\0';
	f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line);
			break;
		}
	if (f)
		fclose(f);
}

/* The session directory's name (session-<id>) in worker's cell. */
static void cell_dir(pid_t worker, char *out, size_t len)
{
	char path[600], cmd[800];

	IT_ASSERT(it_cell_path(worker, it.runtime_dir, path, sizeof path),
		  "no %s in the cell of %d", it.runtime_dir, (int)worker);
	IT_ASSERT(it_run(out, len, "ls %s", path) == 0, "ls %s failed", path);
	out[strcspn(out, "\n")] = '\0';
	snprintf(cmd, sizeof cmd, "%s", out);
	IT_ASSERT(strncmp(cmd, "session-", 8) == 0 && strlen(cmd) == 24,
		  "the cell of %d holds \"%s\" in %s, want one session-<id>", (int)worker, cmd,
		  it.runtime_dir);
}

/*
 * The cgroup file of worker's session in hierarchy ctrl ("pids", "memory"; v1)
 * or in the unified one (v2): its value into out. false if the worker is in
 * no pixelgate-session-* group there.
 */
static bool cell_cgroup_value(pid_t worker, const char *ctrl, const char *file, char *out,
			      size_t len)
{
	char path[64], line[1024], full[1400];
	FILE *f;
	bool ok = false;

	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)worker);
	f = fopen(path, "r");
	while (!ok && f && fgets(line, sizeof line, f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2 || !strstr(c2, "/pixelgate-session-"))
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (c1[1] == '\0') /* v2 */
			snprintf(full, sizeof full, "/sys/fs/cgroup%s/%s", c2 + 1, file);
		else if (strstr(c1 + 1, ctrl))
			snprintf(full, sizeof full, "/sys/fs/cgroup/%s%s/%s", ctrl, c2 + 1, file);
		else
			continue;
		FILE *g = fopen(full, "r");
		ok = g && fgets(out, (int)len, g);
		if (g)
			fclose(g);
	}
	if (f)
		fclose(f);
	return ok;
}

/* Two users' sessions: different uids and namespaces, each sealed from the other. */
IT_TEST(cell, sessions_are_apart)
{
	static const char *const users[] = { "c1-aoi", "c2-ren", NULL };
	static const char *const nss[] = { "mnt", "net", "ipc", "uts", "pid" };
	struct it_rect r;
	pid_t w[2];
	uid_t u[2];
	char a[128], b[128], out[4096], dir1[64], script[1500], path[700];
	struct passwd *gwpw = getpwnam(IT_GATEWAY_USER);
	uid_t gw_uid = gwpw ? gwpw->pw_uid : 0;
	struct stat st;

	/* a host service on a Unix socket outside /tmp (as D-Bus, journald, nscd) */
	char sockpath[108];
	int hostsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sockpath, sizeof sockpath, "/run/pixelgate-cell-test-%d.sock", (int)getpid());
	unlink(sockpath);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sockpath);
	IT_ASSERT(hostsock >= 0 && bind(hostsock, (struct sockaddr *)&sun, sizeof sun) == 0 &&
		      chmod(sockpath, 0666) == 0 && listen(hostsock, 4) == 0,
		  "host socket %s: %s", sockpath, strerror(errno));
	it_start("cell_sessions_are_apart", users);
	it_open_page("c1-aoi", 0, 0, &r);
	it_open_page("c2-ren", 0, 0, &r);
	cell_two_workers(w, u);
	IT_ASSERT(gwpw != NULL, "no user %s", IT_GATEWAY_USER);
	for (int i = 0; i < 2; i++) {
		IT_ASSERT(u[i] >= IT_SESSION_UID_BASE && u[i] < IT_SESSION_UID_BASE + 64 &&
			      u[i] != gw_uid,
			  "worker %d runs as uid %u, want one of the session range", (int)w[i],
			  (unsigned)u[i]);
		cell_status(w[i], "NoNewPrivs", a, sizeof a);
		IT_ASSERT(strcmp(a, "NoNewPrivs:\t1") == 0, "worker %d: \"%s\"", (int)w[i], a);
		/* not dumpable: the files of its /proc entry belong to root, not to its uid */
		snprintf(path, sizeof path, "/proc/%d/status", (int)w[i]);
		IT_ASSERT(stat(path, &st) == 0 && st.st_uid == 0,
			  "worker %d is dumpable (%s belongs to uid %u)", (int)w[i], path,
			  (unsigned)st.st_uid);
	}
	IT_ASSERT(u[0] != u[1], "both sessions run as uid %u", (unsigned)u[0]);
	/* each in a cgroup of its own with the pids and memory limits (this host
	   lets root make cgroups: v1 hierarchies here, v2 where delegated) */
	for (int i = 0; i < 2; i++) {
		char v[64] = "", m[64] = "";
		IT_ASSERT(cell_cgroup_value(w[i], "pids", "pids.max", v, sizeof v) &&
			      strcmp(v, "2048\n") == 0,
			  "worker %d: pids.max of its session cgroup is \"%s\", want 2048",
			  (int)w[i], v);
		IT_ASSERT((cell_cgroup_value(w[i], "memory", "memory.limit_in_bytes", m,
					     sizeof m) ||
			   cell_cgroup_value(w[i], "memory", "memory.max", m, sizeof m)) &&
			      strtoull(m, NULL, 10) == 2560ULL << 20,
			  "worker %d: memory limit of its session cgroup is \"%s\", want 2560 MiB "
			  "(a quarter above session_memory_mib)",
			  (int)w[i], m);
	}
	{
		pid_t eg[8];
		int ne = it_find_procs(it.conf_file, eg, 8), in_group = 0;

		for (int i = 0; i < ne; i++) {
			char comm[64] = "", v[64];
			snprintf(a, sizeof a, "/proc/%d/comm", (int)eg[i]);
			FILE *f = fopen(a, "r");
			if (f && fgets(comm, sizeof comm, f) && strcmp(comm, "pg-egress\n") == 0 &&
			    cell_cgroup_value(eg[i], "pids", "pids.max", v, sizeof v))
				in_group++;
			if (f)
				fclose(f);
		}
		IT_ASSERT(in_group == 2, "%d egress forwarders in their session's cgroup, want 2",
			  in_group);
	}
	for (size_t i = 0; i < sizeof nss / sizeof nss[0]; i++) {
		char self[128];

		cell_ns(w[0], nss[i], a, sizeof a);
		cell_ns(w[1], nss[i], b, sizeof b);
		cell_ns(getpid(), nss[i], self, sizeof self);
		IT_ASSERT(strcmp(a, b) != 0 && strcmp(a, self) != 0 && strcmp(b, self) != 0,
			  "%s namespace shared: %s / %s / host %s", nss[i], a, b, self);
	}
	fprintf(stderr,
		"[%s] workers %d (uid %u) and %d (uid %u): own mnt/net/ipc/uts/pid "
		"namespaces, NoNewPrivs, not dumpable\n",
		it.test_name, (int)w[0], (unsigned)u[0], (int)w[1], (unsigned)u[1]);

	/* from inside cell 0, as its uid: only its own processes, not the other
	   session's directory or X socket, only loopback, host read-only */
	cell_dir(w[1], dir1, sizeof dir1);
	snprintf(
	    script, sizeof script,
	    "for s in /proc/[0-9]*/status; do "
	    "  id=$(sed -n \"s/^Uid:[[:space:]]*\\([0-9]*\\).*/\\1/p\" $s 2>/dev/null); "
	    "  [ -n \"$id\" ] && [ \"$id\" != %u ] && echo foreign-process $s $id; "
	    "done; "
	    "test -e %s/%s && echo other-dir-visible; "
	    "test -e /proc/%d/root && echo other-worker-visible; "
	    "ls -A /tmp/.X11-unix | tr \"\\n\" \" \" | sed \"s/^/x11: /\"; echo; "
	    "stat -c \"x0-inode %%d:%%i\" /tmp/.X11-unix/X0; "
	    "sed -n \"s/^ *\\([a-z0-9]*\\):.*/iface \\1/p\" /proc/self/net/dev; "
	    "touch /usr/pixelgate-cell-probe 2>/dev/null && echo host-writable; "
	    "grep \" / / \" /proc/self/mountinfo | grep -q nosuid || echo root-suid; "
	    "grep -q \"^NoNewPrivs:.1\" /proc/self/status && echo nnp; "
	    "test -e %s && echo host-socket-visible; "
	    "python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect(\\\"%s\\\")\" "
	    "  2>/dev/null && echo host-socket-reached; "
	    "ls -A /dev | tr \"\\n\" \" \" | sed \"s/^/dev: /\"; echo; "
	    "ls -A / | tr \"\\n\" \" \" | sed \"s/^/root: /\"; echo; "
	    "echo done",
	    (unsigned)u[0], it.runtime_dir, dir1, (int)w[1], sockpath, sockpath);
	cell_sh(w[0], u[0], out, sizeof out, script);
	fprintf(stderr, "[%s] inside the first cell:\n%s", it.test_name, out);
	IT_ASSERT(strstr(out, "done") != NULL, "the probe did not run in the cell: %s", out);
	IT_ASSERT(strstr(out, "foreign-process") == NULL, "the cell sees other processes:\n%s",
		  out);
	IT_ASSERT(strstr(out, "other-dir-visible") == NULL,
		  "the cell sees the other session's directory %s/%s", it.runtime_dir, dir1);
	IT_ASSERT(strstr(out, "x11: X0 \n") != NULL || strstr(out, "x11: X0 ") != NULL,
		  "the cell's X socket directory holds more than its own X0:\n%s", out);
	IT_ASSERT(strstr(out, "iface lo") != NULL &&
		      strstr(out, "iface ") == strstr(out, "iface lo") &&
		      strstr(strstr(out, "iface lo") + 8, "iface ") == NULL,
		  "the cell has network interfaces other than lo:\n%s", out);
	IT_ASSERT(strstr(out, "host-writable") == NULL, "the host's /usr is writable in the cell");
	IT_ASSERT(strstr(out, "root-suid") == NULL, "the cell's / is not mounted nosuid:\n%s", out);
	IT_ASSERT(strstr(out, "nnp") != NULL, "no_new_privs not set inside the cell");
	IT_ASSERT(strstr(out, "host-socket-visible") == NULL &&
		      strstr(out, "host-socket-reached") == NULL,
		  "the cell reaches the host's Unix socket %s:\n%s", sockpath, out);
	IT_ASSERT(strstr(out,
			 "dev: fd full null random shm stderr stdin stdout tty urandom zero \n") !=
		      NULL,
		  "the cell's /dev holds more (or less) than its few nodes:\n%s", out);
	IT_ASSERT(strstr(out, "root: ") != NULL && strstr(out, " home ") == NULL &&
		      strstr(out, " root ") == NULL && strstr(out, " work ") == NULL &&
		      strstr(out, " srv ") == NULL,
		  "the cell sees more of the host's tree than it needs:\n%s", out);
	close(hostsock);
	unlink(sockpath);
	/* its X0 is not the other cell's X0 */
	IT_ASSERT(it_cell_path(w[1], "/tmp/.X11-unix/X0", path, sizeof path) &&
		      stat(path, &st) == 0,
		  "no X socket in the second cell");
	snprintf(a, sizeof a, "x0-inode %lu:%lu", (unsigned long)st.st_dev,
		 (unsigned long)st.st_ino);
	IT_ASSERT(strstr(out, a) == NULL, "the first cell reaches the second cell's X socket");
}

/* The browser reaches the test pages through squid and nothing else. */
IT_TEST(cell, egress_only_through_the_proxy)
{
	static const char *const users[] = { "c3-sora", NULL };
	struct it_rect r;
	struct pgc_conn *c;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int lsock, usock, lport, uport, n;
	char url[400], last[256], out[2048], needle[128], script[600];
	pid_t w;
	uid_t u;

	/* a host service that no session may reach, and a UDP port for WebRTC */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	IT_ASSERT(lsock >= 0 && bind(lsock, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		      listen(lsock, 8) == 0 && getsockname(lsock, (struct sockaddr *)&sa, &sl) == 0,
		  "listener: %s", strerror(errno));
	lport = ntohs(sa.sin_port);
	sa.sin_port = 0;
	sl = sizeof sa;
	usock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	IT_ASSERT(usock >= 0 && bind(usock, (struct sockaddr *)&sa, sizeof sa) == 0 &&
		      getsockname(usock, (struct sockaddr *)&sa, &sl) == 0,
		  "udp: %s", strerror(errno));
	uport = ntohs(sa.sin_port);

	it_start("cell_egress_only_through_the_proxy", users);
	c = it_open_page("c3-sora", 0, 0, &r);
	snprintf(url, sizeof url,
		 "http://127.0.0.1:%d/escape.html?targets=127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d"
		 "&udp=127.0.0.1:%d",
		 it.page_port, lport, it.admin_port, it.port, uport);
	it_goto(c, url);
	IT_ASSERT(it_wait_last("escape-done", 60, c, NULL, last, sizeof last),
		  "the escape page did not finish (last report \"%s\")", last);
	it_pump_for(c, 1000);

	IT_ASSERT(accept(lsock, NULL, NULL) < 0 && errno == EAGAIN,
		  "a host service on 127.0.0.1:%d was reached from the session", lport);
	{
		char buf[64];

		IT_ASSERT(recv(usock, buf, sizeof buf, 0) < 0 && errno == EAGAIN,
			  "WebRTC sent UDP to 127.0.0.1:%d", uport);
	}
	/* the proxy served the test pages and refused the rest, and says so */
	n = it_file_count(it.squid_log, "TCP_DENIED/403");
	fprintf(stderr, "[%s] squid: %d requests refused, %d page loads\n", it.test_name, n,
		it_file_count(it.squid_log, "/escape.html"));
	snprintf(needle, sizeof needle, "/escape.html");
	IT_ASSERT(it_file_count(it.squid_log, needle) >= 1, "no escape.html in %s", it.squid_log);
	int ports[] = { lport, it.admin_port, it.port };
	for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
		snprintf(needle, sizeof needle, "http://127.0.0.1:%d/", ports[i]);
		IT_ASSERT(it_file_count(it.squid_log, needle) >= 1,
			  "the proxy's log has no request for %s (the browser went elsewhere?)",
			  needle);
		char cmd[600];

		snprintf(cmd, sizeof cmd, "grep -F '%s' '%s' | grep -v -c TCP_DENIED/403", needle,
			 it.squid_log);
		it_run(out, sizeof out, "%s", cmd);
		IT_ASSERT(atoi(out) == 0, "the proxy let a request for %s through:\n%s", needle,
			  out);
	}

	/* a compromised browser ignoring the proxy: only the cell's own loopback */
	IT_ASSERT(it_workers(&w, 1) == 1, "no worker");
	u = it_proc_uid(w);
	snprintf(script, sizeof script,
		 "for p in %d %d %d %d; do "
		 "  if timeout 5 bash -c \"exec 3<>/dev/tcp/127.0.0.1/$p\" 2>/dev/null; "
		 "  then echo reached $p; else echo refused $p; fi; "
		 "done",
		 lport, it.admin_port, it.port, it.squid_port);
	cell_sh(w, u, out, sizeof out, script);
	fprintf(stderr, "[%s] direct connections from inside the cell:\n%s", it.test_name, out);
	IT_ASSERT(strstr(out, "reached") == NULL && strstr(out, "refused") != NULL,
		  "a direct connection from the cell reached the host:\n%s", out);
	close(lsock);
	close(usock);
}

/* The network process is its own unprivileged user; no session uid reads its secrets. */
IT_TEST(cell, gateway_runs_unprivileged)
{
	static const char *const users[] = { "c4-yui", NULL };
	struct passwd *gwpw = getpwnam(IT_GATEWAY_USER);
	uid_t gw_uid = gwpw ? gwpw->pw_uid : 0;
	pid_t kids[64];
	char cmd[400], line[256], out[1024], want[128];
	int n, found = 0;

	it_start("cell_gateway_runs_unprivileged", users);
	IT_ASSERT(gwpw != NULL, "no user %s", IT_GATEWAY_USER);
	n = it_find_procs(it.conf_file, kids, 64);
	for (int i = 0; i < n; i++) {
		if (kids[i] == it.daemon_pid)
			continue;
		cell_status(kids[i], "Uid", line, sizeof line);
		snprintf(want, sizeof want, "Uid:\t%u\t%u\t%u\t%u", (unsigned)gw_uid,
			 (unsigned)gw_uid, (unsigned)gw_uid, (unsigned)gw_uid);
		IT_ASSERT(strcmp(line, want) == 0, "network process %d: \"%s\", want \"%s\"",
			  (int)kids[i], line, want);
		cell_status(kids[i], "CapEff", line, sizeof line);
		IT_ASSERT(strcmp(line, "CapEff:\t0000000000000000") == 0,
			  "network process %d has capabilities: %s", (int)kids[i], line);
		cell_status(kids[i], "NoNewPrivs", line, sizeof line);
		IT_ASSERT(strcmp(line, "NoNewPrivs:\t1") == 0, "network process %d: %s",
			  (int)kids[i], line);
		found++;
	}
	IT_ASSERT(found == 1, "%d network processes (besides the parent %d), want 1", found,
		  (int)it.daemon_pid);
	fprintf(stderr, "[%s] network process runs as %s (uid %u), no capabilities\n", it.test_name,
		IT_GATEWAY_USER, (unsigned)gw_uid);

	/* the TLS key, users file and audit key: not readable by any session uid */
	const char *secrets[] = { "server.key", "users", "audit.key" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(cmd, sizeof cmd, "%s/%s", it.dir, secrets[i]);
		IT_ASSERT(access(cmd, F_OK) == 0, "no %s", cmd);
		int rc = it_run(out, sizeof out,
				"setpriv --reuid=%u --regid=%u --clear-groups cat '%s'",
				IT_SESSION_UID_BASE, IT_SESSION_UID_BASE, cmd);
		IT_ASSERT(rc != 0 && strstr(out, "Permission denied") != NULL,
			  "session uid %u can read %s (exit %d): %.200s", IT_SESSION_UID_BASE, cmd,
			  rc, out);
	}
}

/* A page that allocates without end ends its own session only. */
IT_TEST(cell, memory_hog_ends_only_its_session)
{
	static const char *const users[] = { "c5-hana", "c6-kai", NULL };
	struct it_opts o = { .extra_conf = "[session]\nsession_memory_mib = 1024\n" };
	struct it_rect r;
	struct pgc_conn *hog, *other;
	char url[200], last[256];

	it_start_opts("cell_memory_hog_ends_only_its_session", users, &o);
	other = it_open_page("c6-kai", 0, 0, &r);
	hog = it_open_page("c5-hana", 0, 0, &r);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hog.html", it.page_port);
	it_goto(hog, url);
	IT_ASSERT(it_wait_last("hog-started", 60, hog, NULL, last, sizeof last),
		  "the hog page did not start (last report \"%s\")", last);
	IT_ASSERT(it_wait_closed(hog, CELL_END_S), "the hog's session still runs after %d s",
		  CELL_END_S);
	fprintf(stderr, "[%s] hog closed: %d \"%s\"\n", it.test_name, pgc_close_code(hog),
		pgc_close_reason(hog));
	IT_ASSERT(pgc_close_code(hog) == 4002 && strstr(pgc_close_reason(hog), "memory") != NULL,
		  "close %d \"%s\", want 4002 with the memory limit", pgc_close_code(hog),
		  pgc_close_reason(hog));
	IT_ASSERT(it_file_count(it.daemon_log, "limit_exceeded") >= 1,
		  "no limit_exceeded event in the daemon log");
	/* the audit log says which limit, for the security staff */
	json_t *limit = it_audit_wait(NULL, 10, 1, NULL, "limit_exceeded", "user", "c5-hana",
				      "limit", "memory", NULL);
	IT_ASSERT(limit != NULL,
		  "no limit_exceeded audit record of c5-hana with limit \"memory\" within 10 s "
		  "(%d limit_exceeded records in all)",
		  it_audit_count("limit_exceeded", NULL));
	json_decref(limit);
	/* the other session goes on */
	IT_ASSERT(!pgc_closed(other), "the other session was closed too: %s",
		  pgc_close_reason(other));
	it_focus_field(other, &r);
	IT_ASSERT(pgc_type_utf8(other, "still-here") == 0, "typing failed");
	IT_ASSERT(it_wait_last("still-here", IT_REPORT_S, other, NULL, last, sizeof last),
		  "the other session did not take the text (last \"%s\")", last);
}

/*
 * A worker killed from outside (a crash, as the gateway sees it) ends its
 * session with the crash's fixed text once the parent reports the exit; the
 * other session goes on.
 */
IT_TEST(cell, killed_worker_ends_only_its_session)
{
	static const char *const users[] = { "c13-kou", "c14-ami", NULL };
	struct it_rect r, r2;
	struct pgc_conn *gone, *other;
	pid_t w[2];
	char last[256];

	it_start("cell_killed_worker_ends_only_its_session", users);
	gone = it_open_page("c13-kou", 0, 0, &r);
	IT_ASSERT(it_workers(w, 2) == 1, "want one worker before the second login");
	other = it_open_page("c14-ami", 0, 0, &r2);
	IT_ASSERT(kill(w[0], SIGKILL) == 0, "kill %d: %s", (int)w[0], strerror(errno));
	IT_ASSERT(it_wait_closed(gone, 10), "the session still runs 10 s after its worker died");
	fprintf(stderr, "[%s] closed: %d \"%s\"\n", it.test_name, pgc_close_code(gone),
		pgc_close_reason(gone));
	IT_ASSERT(pgc_close_code(gone) == 4002 &&
		      strcmp(pgc_close_reason(gone),
			     "session ended: the session process exited unexpectedly") == 0,
		  "close %d \"%s\", want 4002 and the crash's text", pgc_close_code(gone),
		  pgc_close_reason(gone));
	IT_ASSERT(it_file_count(it.daemon_log, "ending (worker_crash)") == 1,
		  "want one worker_crash end in the daemon log");
	IT_ASSERT(!pgc_closed(other), "the other session was closed too: %s",
		  pgc_close_reason(other));
	it_focus_field(other, &r2);
	IT_ASSERT(pgc_type_utf8(other, "after-kill") == 0, "typing failed");
	IT_ASSERT(it_wait_last("after-kill", IT_REPORT_S, other, NULL, last, sizeof last),
		  "the other session did not take the text (last \"%s\")", last);
}

/* A fork bomb inside one cell ends that session only. */
IT_TEST(cell, fork_bomb_ends_only_its_session)
{
	static const char *const users[] = { "c7-mio", "c8-sho", NULL };
	struct it_rect r;
	struct pgc_conn *bomb, *other;
	pid_t w[2], runner;
	uid_t u[2];
	char last[256], nproc[32], limits[64];
	struct it_rect r2;

	it_start("cell_fork_bomb_ends_only_its_session", users);
	bomb = it_open_page("c7-mio", 0, 0, &r);
	IT_ASSERT(it_workers(w, 2) == 1, "want one worker before the second login");
	u[0] = it_proc_uid(w[0]);
	other = it_open_page("c8-sho", 0, 0, &r2);
	/* the compromised browser's rights: the cell's namespaces, uid and limits */
	snprintf(limits, sizeof limits, "/proc/%d/limits", (int)w[0]);
	IT_ASSERT(it_run(nproc, sizeof nproc, "awk '/Max processes/ { print $3 }' %s", limits) ==
			  0 &&
		      atoi(nproc) > 0,
		  "no process limit in %s: \"%s\"", limits, nproc);
	nproc[strcspn(nproc, "\n")] = '\0';
	{
		char uid_s[32], nproc_arg[80];
		char *argv[] = { "/usr/bin/nsenter",
				 "-t",
				 NULL,
				 "-m",
				 "-p",
				 "-n",
				 "-i",
				 "-u",
				 "--",
				 "/usr/bin/prlimit",
				 nproc_arg,
				 "--",
				 "/usr/bin/setpriv",
				 NULL,
				 NULL,
				 "--clear-groups",
				 "--no-new-privs",
				 "--",
				 "/bin/sh",
				 "-c",
				 "b() { b & b & wait; }; b",
				 NULL };
		char pid_s[32], reuid[48], regid[48];

		snprintf(pid_s, sizeof pid_s, "%d", (int)w[0]);
		snprintf(uid_s, sizeof uid_s, "%u", (unsigned)u[0]);
		snprintf(nproc_arg, sizeof nproc_arg, "--nproc=%s:%s", nproc, nproc);
		snprintf(reuid, sizeof reuid, "--reuid=%s", uid_s);
		snprintf(regid, sizeof regid, "--regid=%s", uid_s);
		argv[2] = pid_s;
		argv[13] = reuid;
		argv[14] = regid;
		char log[400];

		snprintf(log, sizeof log, "%s/forkbomb.log", it.dir);
		runner = it_extra_start("forkbomb", argv, NULL, -1, log);
	}
	fprintf(stderr, "[%s] fork bomb started in the cell of %d (uid %u, %s processes)\n",
		it.test_name, (int)w[0], (unsigned)u[0], nproc);
	IT_ASSERT(it_wait_closed(bomb, CELL_END_S), "the bombed session still runs after %d s",
		  CELL_END_S);
	fprintf(stderr, "[%s] bombed session closed: %d \"%s\"\n", it.test_name,
		pgc_close_code(bomb), pgc_close_reason(bomb));
	IT_ASSERT(pgc_close_code(bomb) == 4002 &&
		      strstr(pgc_close_reason(bomb), "processes") != NULL,
		  "close %d \"%s\", want 4002 with the process limit", pgc_close_code(bomb),
		  pgc_close_reason(bomb));
	it_extra_stop(runner, 10);
	IT_ASSERT(!pgc_closed(other), "the other session was closed too: %s",
		  pgc_close_reason(other));
	it_focus_field(other, &r2);
	IT_ASSERT(pgc_type_utf8(other, "after-bomb") == 0, "typing failed");
	IT_ASSERT(it_wait_last("after-bomb", IT_REPORT_S, other, NULL, last, sizeof last),
		  "the other session did not take the text (last \"%s\")", last);
}

/* pixelgate -n: no policy file, or no upstream proxy, is a refusal that says what to fix. */
IT_TEST(cell, check_refuses_missing_policy_and_proxy)
{
	static const char *const users[] = { "c9-rin", NULL };
	char conf[400], out[2048];
	int rc;

	it_start("cell_check_refuses_missing_policy_and_proxy", users);
	snprintf(conf, sizeof conf, "%s/check.conf", it.dir);

	rc = it_run(out, sizeof out,
		    "sed 's|^upstream_proxy = .*||' '%s' > '%s' && %s/pixelgate -n -c '%s'",
		    it.conf_file, conf, PIXELGATE_BUILD_DIR, conf);
	fprintf(stderr, "[%s] without upstream_proxy: exit %d: %s", it.test_name, rc, out);
	IT_ASSERT(rc == 1 && strstr(out, "upstream_proxy is required") != NULL,
		  "pixelgate -n without upstream_proxy: exit %d, %s", rc, out);

	/* as root every session gets a cell, whose only way out is the proxy */
	rc = it_run(out, sizeof out,
		    "sed 's|^upstream_proxy = .*|development_direct_egress = on|' '%s' > '%s' && "
		    "%s/pixelgate -n -c '%s'",
		    it.conf_file, conf, PIXELGATE_BUILD_DIR, conf);
	IT_ASSERT(rc == 1 && strstr(out, "needs development_unprivileged") != NULL,
		  "direct egress as root: exit %d, %s", rc, out);

	rc = it_run(out, sizeof out,
		    "sed 's|^\\[session\\]|[session]\\nchromium_policy = %s/no-such-policy.json|' "
		    "'%s' > '%s' && %s/pixelgate -n -c '%s'",
		    it.dir, it.conf_file, conf, PIXELGATE_BUILD_DIR, conf);
	fprintf(stderr, "[%s] without the policy: exit %d: %s", it.test_name, rc, out);
	IT_ASSERT(rc == 1 && strstr(out, "no-such-policy.json") != NULL,
		  "pixelgate -n without the policy file: exit %d, %s", rc, out);

	/* the programs the worker starts */
	rc = it_run(out, sizeof out,
		    "sed 's|^\\[session\\]|[session]\\nchromium_path = /usr/bin/no-such-chromium|' "
		    "'%s' > '%s' && %s/pixelgate -n -c '%s'",
		    it.conf_file, conf, PIXELGATE_BUILD_DIR, conf);
	IT_ASSERT(rc == 1 &&
		      strstr(out, "chromium_path /usr/bin/no-such-chromium: No such file") != NULL,
		  "pixelgate -n with a missing chromium_path: exit %d, %s", rc, out);
	rc = it_run(out, sizeof out,
		    "printf 'not a program' > '%s/not-a-program' && chmod 644 '%s/not-a-program' && "
		    "sed 's|^\\[session\\]|[session]\\nxvfb_path = %s/not-a-program|' "
		    "'%s' > '%s' && %s/pixelgate -n -c '%s'",
		    it.dir, it.dir, it.dir, it.conf_file, conf, PIXELGATE_BUILD_DIR, conf);
	IT_ASSERT(rc == 1 && strstr(out, "not-a-program: not executable") != NULL,
		  "pixelgate -n with xvfb_path not a program: exit %d, %s", rc, out);

	/* without cells (a developer's, as a plain user) Chromium's socket lives
	   under runtime_dir: one it cannot is refused up front, with the reason */
	rc = it_run(out, sizeof out,
		    "sed -e 's|^runtime_dir = .*|runtime_dir = %s/a-runtime-dir-too-long-for-it|' "
		    "-e 's|^\\[server\\]|[server]\\ndevelopment_unprivileged = on|' '%s' > '%s' && "
		    "chown %s '%s' && runuser -u %s -- %s/pixelgate -n -c '%s'",
		    it.dir, it.conf_file, conf, IT_GATEWAY_USER, conf, IT_GATEWAY_USER,
		    PIXELGATE_BUILD_DIR, conf);
	IT_ASSERT(rc == 1 && strstr(out, "would pass the 107-byte limit of a unix socket path") &&
		      strstr(out, "at most 33"),
		  "pixelgate -n without cells and a long runtime_dir: exit %d, %s", rc, out);
	rc = it_run(out, sizeof out,
		    "sed -e 's|^\\[server\\]|[server]\\ndevelopment_unprivileged = on|' '%s' > "
		    "'%s' && chown %s '%s' && runuser -u %s -- %s/pixelgate -n -c '%s'",
		    it.conf_file, conf, IT_GATEWAY_USER, conf, IT_GATEWAY_USER, PIXELGATE_BUILD_DIR,
		    conf);
	IT_ASSERT(rc == 0,
		  "without cells, the test's runtime_dir %s (%zu characters) does not pass: %s",
		  it.runtime_dir, strlen(it.runtime_dir), out);

	rc = it_run(out, sizeof out, "%s/pixelgate -n -c '%s'", PIXELGATE_BUILD_DIR, it.conf_file);
	IT_ASSERT(rc == 0, "the test's own config does not pass: %s", out);
}

/* With every session uid in use, one more login is refused and says why. */
IT_TEST(cell, no_free_uid_is_refused_with_a_reason)
{
	static const char *const users[] = { "c10-eri", "c11-jun", NULL };
	struct it_opts o = { .extra_conf = "[session]\nsession_uid_count = 1\n" };
	struct it_rect r;
	struct it_http h;

	it_start_opts("cell_no_free_uid_is_refused_with_a_reason", users, &o);
	it_open_page("c10-eri", 0, 0, &r);
	it_login_http("c11-jun", it_password("c11-jun"), false, &h);
	fprintf(stderr, "[%s] second login: %d %s\n", it.test_name, h.status, h.body);
	IT_ASSERT(h.status == 503 && strcmp(h.error, "node_full") == 0,
		  "second login with one session uid: %d %s, want 503 node_full", h.status, h.body);
	IT_ASSERT(it_file_count(it.daemon_log, "all 1 session uids are in use") >= 1,
		  "the daemon log does not say the session uids ran out");
}

/* The root parent killed outright: no process of any session (or forwarder) survives it. */
IT_TEST(cell, nothing_outlives_the_parent)
{
	static const char *const users[] = { "c12-nao", NULL };
	struct it_rect r;
	char out[2048];
	int status, left = -1;

	it_start("cell_nothing_outlives_the_parent", users);
	it_open_page("c12-nao", 0, 0, &r);
	pid_t net = it_net_pid();

	IT_ASSERT(kill(it.daemon_pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	IT_ASSERT(waitpid(it.daemon_pid, &status, 0) == it.daemon_pid && WIFSIGNALED(status),
		  "the parent was not killed (status %d)", status);
	it.daemon_pid = 0; /* nothing left for the teardown to stop */
	for (double end = it_now_s() + 15; it_now_s() < end; it_sleep_ms(200)) {
		/* every process whose real uid is in the session range */
		it_run(out, sizeof out, "ps -eo ruid=,pid=,comm= | awk '$1 >= %u && $1 < %u' ",
		       IT_SESSION_UID_BASE, IT_SESSION_UID_BASE + 64);
		left = 0;
		for (const char *p = out; *p; p++)
			left += *p == '\n';
		if (left == 0)
			break;
	}
	IT_ASSERT(left == 0, "session processes outlived the parent:\n%s", out);
	/* the network process got SIGTERM with it, and ends */
	for (double end = it_now_s() + 20; kill(net, 0) == 0 && it_now_s() < end;)
		it_sleep_ms(100);
	IT_ASSERT(kill(net, 0) != 0, "the network process %d outlived the parent", (int)net);
	IT_ASSERT(it_file_count(it.daemon_log, "the privileged parent is gone") == 1,
		  "the network process did not say why it stopped");
}
