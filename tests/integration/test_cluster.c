/*
 * test_cluster.c: two nodes behind HAProxy (issue 16), set up as README.md
 * "Several nodes behind HAProxy" says, on one machine.
 *
 * Two real pixelgate daemons (the test's daemon, node1, and a second node,
 * node2, from it_node_start()), each with proxy_protocol = on,
 * proxy_trusted = 127.0.0.1, max_sessions = 4 and an agent-check port.
 * Debian's haproxy runs deploy/haproxy-pixelgate.cfg as shipped, with
 * loopback addresses put in for the example's: it listens on [::1] and
 * 127.0.0.1 and reaches the nodes from 127.0.0.1, so a node that names a
 * terminal "::1" learnt it from the PROXY v2 header. The terminals are the
 * test's clients, speaking the real protocol (login, WebSocket, RFB)
 * through the balancer, one from ::1 and one from 127.0.0.1 (two terminal
 * addresses); HAProxy's view is read from its stats socket.
 *
 * What it shows: the health checks (with a PROXY LOCAL header) and agent
 * checks pass on both nodes, and leave no error in the nodes' logs; a login
 * and its /rfb reach one node, which shows the page and names the terminal's
 * address, and HAProxy's stick table ties the terminal to that node; the
 * node's agent answer (up ready 75%: one session of four) becomes its
 * weight; a reconnect reaches the same node and gets the same session back;
 * when that node is drained, HAProxy shows it drained, the session there
 * goes on, and its terminal still reconnects to it, while another
 * terminal's login reaches the other node, which shows the page; undrained,
 * HAProxy takes the node back ("ready": HAProxy keeps an agent's drain
 * until told otherwise).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define CL_ADMIN "cl-admin"
#define CL_AIKO "cl-aiko"
#define CL_KEN "cl-ken"
#define CL_HAPROXY "/usr/sbin/haproxy"
#define CL_EXAMPLE PIXELGATE_SOURCE_DIR "/deploy/haproxy-pixelgate.cfg"
/* the example's agent-inter and inter are 2 s: a few of them */
#define CL_HAPROXY_SEES_S 20

/* Both nodes: the README's node settings, four sessions each at most. */
#define CL_NODE_CONF                                                            \
	"[server]\nproxy_protocol = on\nproxy_trusted = 127.0.0.1\n[session]\n" \
	"session_uid_count = 32\n[limits]\nmax_sessions = 4\n"

static char cl_sock[100]; /* haproxy's stats socket (fits sun_path) */

/* In text (of size size), replaces the one occurrence of from by to; fails
   the test if from is not there exactly once (the example changed). */
static void cl_replace_once(char *text, size_t size, const char *from, const char *to)
{
	char *p = strstr(text, from);
	size_t flen = strlen(from), tlen = strlen(to), rest;

	IT_ASSERT(p != NULL, "%s has no \"%s\" any more: update this test", CL_EXAMPLE, from);
	IT_ASSERT(strstr(p + flen, from) == NULL, "%s has \"%s\" more than once", CL_EXAMPLE, from);
	rest = strlen(p + flen);
	IT_ASSERT(strlen(text) - flen + tlen < size, "the haproxy config grew too big");
	memmove(p + tlen, p + flen, rest + 1);
	memcpy(p, to, tlen);
}

/* haproxy.cfg: a global section of the test's (log to stdout, a stats
   socket), then the shipped example with loopback addresses. */
static void cl_haproxy_config(const char *path, int front_port, const struct it_node *n2)
{
	static char text[16384];
	static char conf[sizeof text + 1024];
	char to[128];
	FILE *f = fopen(CL_EXAMPLE, "r");
	size_t len;

	IT_ASSERT(f != NULL, "%s: %s", CL_EXAMPLE, strerror(errno));
	len = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[len] = '\0';
	/* two terminal addresses: ::1 and 127.0.0.1 */
	snprintf(to, sizeof to, "bind [::1]:%d\n    bind 127.0.0.1:%d", front_port, front_port);
	cl_replace_once(text, sizeof text, "bind 10.0.0.5:8443", to);
	snprintf(to, sizeof to, "127.0.0.1:%d", it.port);
	cl_replace_once(text, sizeof text, "10.0.0.11:8443", to);
	snprintf(to, sizeof to, "127.0.0.1:%d", n2->port);
	cl_replace_once(text, sizeof text, "10.0.0.12:8443", to);
	snprintf(to, sizeof to, "agent-addr 127.0.0.1 agent-port %d", it.agent_port);
	cl_replace_once(text, sizeof text, "agent-addr 10.0.0.11 agent-port 8445", to);
	snprintf(to, sizeof to, "agent-addr 127.0.0.1 agent-port %d", n2->agent_port);
	cl_replace_once(text, sizeof text, "agent-addr 10.0.0.12 agent-port 8445", to);
	/* every address it names is now the machine's own (comments aside) */
	for (const char *line = text; *line;
	     line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != '\0')) {
		size_t ll = strcspn(line, "\n");
		const char *hash = memchr(line, '#', ll);
		char buf[512];

		snprintf(buf, sizeof buf, "%.*s", (int)(hash ? hash - line : (long)ll), line);
		IT_ASSERT(strstr(buf, "10.0.") == NULL, "an example address is left in: %s", buf);
	}
	snprintf(conf, sizeof conf,
		 "# written by test_cluster.c from %s\n"
		 "global\n"
		 "    log stdout format raw local0 info\n"
		 "    stats socket %s mode 600 level admin\n"
		 "defaults\n"
		 "    log global\n"
		 "%s",
		 CL_EXAMPLE, cl_sock, text);
	it_write_file(path, conf, 0600);
}

/* One server's row of haproxy's "show stat": its status and weight. */
struct cl_stat {
	char status[32]; /* "UP", "DOWN", "DRAIN", ... ("" if not found) */
	int weight;
};

/* One command on the stats socket; the answer into out. False if none. */
static bool cl_stats_cmd(const char *cmd, char *out, size_t outlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;

	out[0] = '\0';
	if (fd < 0)
		return false;
	IT_ASSERT(strlen(cl_sock) < sizeof a.sun_path, "socket path too long: %s", cl_sock);
	memcpy(a.sun_path, cl_sock, strlen(cl_sock) + 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		close(fd);
		return false;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0 || got + 1 >= outlen)
			break;
		n = read(fd, out + got, outlen - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(fd);
	return got > 0;
}

/* The CSV column named name in header line head (without "# "); -1 if none. */
static int cl_column(const char *head, const char *name)
{
	int col = 0;
	size_t nlen = strlen(name);

	for (const char *p = head; *p && *p != '\n'; col++) {
		size_t flen = strcspn(p, ",\n");

		if (flen == nlen && strncmp(p, name, nlen) == 0)
			return col;
		p += flen;
		if (*p == ',')
			p++;
	}
	return -1;
}

/* Field col of the CSV line at line into out. */
static void cl_field(const char *line, int col, char *out, size_t outlen)
{
	for (int i = 0; i < col && *line && *line != '\n'; i++) {
		line += strcspn(line, ",\n");
		if (*line == ',')
			line++;
	}
	snprintf(out, outlen, "%.*s", (int)strcspn(line, ",\n"), line);
}

/* Server server of backend "pixelgate" as haproxy sees it now. */
static struct cl_stat cl_server(const char *server)
{
	static char out[65536];
	struct cl_stat s = { "", -1 };
	char prefix[64], w[16];
	const char *line;
	int cs, cw;

	if (!cl_stats_cmd("show stat\n", out, sizeof out) || strncmp(out, "# ", 2) != 0)
		return s;
	cs = cl_column(out + 2, "status");
	cw = cl_column(out + 2, "weight");
	IT_ASSERT(cs >= 0 && cw >= 0, "haproxy's show stat has no status or weight column: %.200s",
		  out);
	snprintf(prefix, sizeof prefix, "\npixelgate,%s,", server);
	line = strstr(out, prefix);
	if (line == NULL)
		return s;
	line++;
	cl_field(line, cs, s.status, sizeof s.status);
	cl_field(line, cw, w, sizeof w);
	s.weight = atoi(w);
	return s;
}

/* The server HAProxy's stick table ties terminal address key (as the table
   shows it, e.g. "::1") to, into server ("" if none). */
static void cl_stuck_to(const char *key, char *server, size_t len)
{
	static char out[65536];
	char want[96];
	const char *p, *sk;

	server[0] = '\0';
	if (!cl_stats_cmd("show table pixelgate\n", out, sizeof out))
		return;
	snprintf(want, sizeof want, " key=%s ", key);
	p = strstr(out, want);
	if (p == NULL)
		return;
	sk = strstr(p, " server_key=");
	if (sk == NULL || (strchr(p, '\n') != NULL && sk > strchr(p, '\n')))
		return;
	sk += strlen(" server_key=");
	snprintf(server, len, "%.*s", (int)strcspn(sk, " \n"), sk);
}

/* Waits until haproxy sees server with status and (if >= 0) weight. */
static void cl_wait_server(const char *server, const char *status, int weight)
{
	double end = it_now_s() + CL_HAPROXY_SEES_S;
	struct cl_stat s;

	for (;; it_sleep_ms(250)) {
		s = cl_server(server);
		if (strcmp(s.status, status) == 0 && (weight < 0 || s.weight == weight))
			break;
		IT_ASSERT(it_now_s() < end,
			  "haproxy sees %s as \"%s\" weight %d after %d s, want \"%s\" weight %d",
			  server, s.status, s.weight, CL_HAPROXY_SEES_S, status, weight);
	}
	fprintf(stderr, "[%s] haproxy: %s %s weight %d\n", it.test_name, server, s.status,
		s.weight);
}

/* The sessions each node lists: n1 and n2 get how many, s1 and s2 the first. */
static void cl_sessions(const struct it_node *n2, int *n1, struct it_session *s1, int *nn2,
			struct it_session *s2)
{
	struct it_session s[4];

	*n1 = it_sessions(CL_ADMIN, s, 4);
	if (*n1 > 0)
		*s1 = s[0];
	*nn2 = it_sessions_at(&n2->admin_srv, CL_ADMIN, s, 4);
	if (*nn2 > 0)
		*s2 = s[0];
}

IT_TEST(cluster, two_nodes_behind_haproxy_share_the_terminals, .timeout = 420)
{
	static const char *const users[] = { CL_AIKO, CL_KEN, NULL };
	static const char *const admins[] = { CL_ADMIN, NULL };
	struct it_opts o = { .admins = admins, .agent_check = true, .extra_conf = CL_NODE_CONF };
	static struct it_node n2;
	struct it_session s1, s2, again;
	struct it_rect block;
	struct pgc_server front6, front4;
	struct pgc_conn *aiko, *ken;
	struct it_http r;
	char cfg[400], log[400], out[2048], first_id[128], stuck[32];
	const char *x, *y; /* the node with aiko's session, the other one */
	const struct pgc_server *x_admin;
	int n1, nn2, front_port;
	bool on1;

	if (access(CL_HAPROXY, X_OK) != 0)
		it_skip(CL_HAPROXY
			" is not installed (Debian's haproxy; tests/run.sh installs it)");
	it_start_opts("cluster_haproxy", users, &o);
	it_node_start(&n2, "node2", CL_NODE_CONF);
	do
		front_port = it_free_port();
	while (front_port == it.port || front_port == n2.port);
	IT_ASSERT(strlen(it.dir) + sizeof "/haproxy.sock" <= sizeof cl_sock, "%s: too long",
		  it.dir);
	memcpy(cl_sock, it.dir, strlen(it.dir));
	memcpy(cl_sock + strlen(it.dir), "/haproxy.sock", sizeof "/haproxy.sock");
	snprintf(cfg, sizeof cfg, "%s/haproxy.cfg", it.dir);
	snprintf(log, sizeof log, "%s/haproxy.log", it.dir);
	cl_haproxy_config(cfg, front_port, &n2);
	IT_ASSERT(it_run(out, sizeof out, CL_HAPROXY " -c -f '%s'", cfg) == 0,
		  "haproxy -c refuses the config made from %s: %s", CL_EXAMPLE, out);
	it_extra_start("haproxy", (char *const[]){ CL_HAPROXY, "-db", "-f", cfg, NULL }, NULL, -1,
		       log);

	/* Health checks (TCP after a PROXY LOCAL header) and agent checks ("up
	   ready 100%": no session yet) pass on both nodes. */
	cl_wait_server("node1", "UP", 100);
	cl_wait_server("node2", "UP", 100);

	/* A terminal logs in through the balancer and sees the page. */
	front6 = (struct pgc_server){ .host = "::1", .port = front_port, .ca_file = it.ca_file };
	front4 = (struct pgc_server){ .host = "127.0.0.1",
				      .port = front_port,
				      .ca_file = it.ca_file };
	aiko = it_open_page_at(&front6, CL_AIKO, 1024, 768, &block);
	cl_sessions(&n2, &n1, &s1, &nn2, &s2);
	IT_ASSERT(n1 + nn2 == 1, "node1 lists %d sessions, node2 %d: want 1 in all", n1, nn2);
	on1 = n1 == 1;
	x = on1 ? "node1" : "node2";
	y = on1 ? "node2" : "node1";
	x_admin = on1 ? &it.admin_srv : &n2.admin_srv;
	{
		const struct it_session *s = on1 ? &s1 : &s2;
		const char *node_log = on1 ? it.daemon_log : n2.log;

		fprintf(stderr, "[%s] %s's session %s is on %s\n", it.test_name, CL_AIKO, s->id, x);
		IT_ASSERT(strcmp(s->user, CL_AIKO) == 0 && strcmp(s->client, "::1") == 0,
			  "the session lists user %s client \"%s\": want %s from ::1 (the PROXY "
			  "header's address, not the balancer's 127.0.0.1)",
			  s->user, s->client, CL_AIKO);
		IT_ASSERT(it_file_count(node_log, "login ok: user " CL_AIKO " from ::1") == 1,
			  "%s's log does not show the login from ::1", x);
		snprintf(first_id, sizeof first_id, "%s", s->id);
	}
	/* HAProxy ties the terminal to that node... */
	cl_stuck_to("::1", stuck, sizeof stuck);
	IT_ASSERT(strcmp(stuck, x) == 0, "HAProxy's stick table ties ::1 to \"%s\", want %s", stuck,
		  x);
	/* ...whose agent now says "up ready 75%" (one of four): its weight. */
	cl_wait_server(x, "UP", 75);
	cl_wait_server(y, "UP", 100);

	/* The terminal's connection drops; it logs in again through the balancer,
	   reaches the same node and gets its session back. */
	it_conn_free(aiko);
	aiko = it_open_page_at(&front6, CL_AIKO, 1024, 768, &block);
	cl_sessions(&n2, &n1, &s1, &nn2, &s2);
	again = on1 ? s1 : s2;
	IT_ASSERT((on1 ? n1 : nn2) == 1 && n1 + nn2 == 1,
		  "after the reconnect node1 lists %d sessions, node2 %d: want 1, on %s", n1, nn2,
		  x);
	IT_ASSERT(strcmp(again.id, first_id) == 0, "the reconnect got session %s, want %s",
		  again.id, first_id);

	/* The node with the session is drained: HAProxy shows it drained... */
	it_http(x_admin, "POST", "/api/v1/drain", CL_ADMIN, it_password(CL_ADMIN), NULL, &r);
	IT_ASSERT(r.status == 200 && it_json_bool(r.body, "draining") == 1,
		  "POST /api/v1/drain: %d %s", r.status, r.body);
	cl_wait_server(x, "DRAIN (agent)", -1);

	/* ...the session there goes on through the balancer... */
	it_focus_field(aiko, &block);
	IT_ASSERT(pgc_type_utf8(aiko, "drained") == 0, "typing failed: %s", pgc_close_reason(aiko));
	IT_ASSERT(it_wait_last("drained", IT_REPORT_S, aiko, NULL, out, sizeof out),
		  "what was typed on the drained node did not reach the page (last \"%s\")", out);
	/* ...and its terminal still reaches it (the stick table holds while the
	   node drains)... */
	it_conn_free(aiko);
	aiko = it_open_page_at(&front6, CL_AIKO, 1024, 768, &block);
	cl_sessions(&n2, &n1, &s1, &nn2, &s2);
	again = on1 ? s1 : s2;
	IT_ASSERT((on1 ? n1 : nn2) == 1 && strcmp(again.id, first_id) == 0,
		  "reconnecting while %s drains: it lists %d sessions (first %s), want %s", x,
		  on1 ? n1 : nn2, again.id, first_id);

	/* ...while another terminal's login reaches the other node. */
	ken = it_open_page_at(&front4, CL_KEN, 1024, 768, &block);
	cl_sessions(&n2, &n1, &s1, &nn2, &s2);
	IT_ASSERT(n1 == 1 && nn2 == 1, "node1 lists %d sessions, node2 %d: want 1 each", n1, nn2);
	{
		const struct it_session *s = on1 ? &s2 : &s1;

		IT_ASSERT(strcmp(s->user, CL_KEN) == 0 && strcmp(s->client, "127.0.0.1") == 0,
			  "%s lists user %s client \"%s\": want %s from 127.0.0.1", y, s->user,
			  s->client, CL_KEN);
	}
	cl_stuck_to("::ffff:127.0.0.1", stuck, sizeof stuck);
	IT_ASSERT(strcmp(stuck, y) == 0, "HAProxy's stick table ties 127.0.0.1 to \"%s\", want %s",
		  stuck, y);
	IT_ASSERT(!pgc_closed(aiko), "%s's connection closed: %d %s", CL_AIKO, pgc_close_code(aiko),
		  pgc_close_reason(aiko));

	/* Undrained, HAProxy takes the node back at its weight. */
	it_http(x_admin, "POST", "/api/v1/undrain", CL_ADMIN, it_password(CL_ADMIN), NULL, &r);
	IT_ASSERT(r.status == 200 && it_json_bool(r.body, "draining") == 0,
		  "POST /api/v1/undrain: %d %s", r.status, r.body);
	cl_wait_server(x, "UP", 75);
	it_conn_free(ken);
	it_conn_free(aiko);

	/* HAProxy's checks every 2 s were served quietly: a LOCAL header and a
	   close is not an error (nor is anything else here). */
	IT_ASSERT(it_file_count(it.daemon_log, ": error: ") == 0 &&
		      it_file_count(n2.log, ": error: ") == 0,
		  "error lines in the nodes' logs: node1 %d, node2 %d",
		  it_file_count(it.daemon_log, ": error: "), it_file_count(n2.log, ": error: "));
	IT_ASSERT(it_file_count(it.daemon_log, "could not take it over") == 0 &&
		      it_file_count(n2.log, "could not take it over") == 0,
		  "a node could not hand a connection from haproxy to libwebsockets");
}
