/*
 * gateway_main.c: pixelgate, the gateway daemon. Start-up, the event loop
 * and shutdown.
 *
 *   pixelgate -c FILE      run in the foreground (systemd: Type=simple)
 *   pixelgate -n -c FILE   check the configuration, print "configuration OK"
 *
 * Start-up as root: the configuration, the Chromium policy, the session uid
 * range, the worker binary as an open descriptor and the runtime directory;
 * then priv_split() forks. The root parent only makes and reaps session
 * cells (gateway_priv.c); this file's main() goes on in the child, the
 * network process, which is [server] user from then on: it reads the TLS
 * key, users file and audit key, listens and serves. SIGTERM/SIGINT (the
 * parent forwards them): every session is told to stop, viewers are closed
 * with 1001, and the process exits once all workers are reaped or after
 * GW_SHUTDOWN_DEADLINE_MS (the parent kills what is left).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"
#include "gateway_auth.h"
#include "log.h"

static struct ticket_store gw_tickets;
static struct lockout gw_lockout;
static lws_sorted_usec_list_t gw_shutdown_sul;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pixelgate -c FILE      run the gateway (foreground)\n"
		"       pixelgate -n -c FILE   check the configuration and exit\n"
		"       pixelgate --keys       list every configuration key with its default\n"
		"       pixelgate --version\n"
		"SIGHUP reloads the certificate, users and limits; SIGTERM stops (see pixelgate(8))\n");
}

/* Route libwebsockets' own log lines into ours. */
static void main_lws_log(int level, const char *line)
{
	char text[512];
	snprintf(text, sizeof text, "%s", line);
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	if (level & LLL_ERR)
		log_error("lws: %s", text);
	else
		log_warn("lws: %s", text);
}

/* Shutdown: wake up regularly to see whether every worker is gone. */
static void main_shutdown_tick(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (session_count() == 0 || gw_now_ms() >= gw->stop_deadline_ms) {
		lws_cancel_service(gw->ctx);
		return;
	}
	lws_sul_schedule(gw->ctx, 0, &gw_shutdown_sul, main_shutdown_tick, 100 * LWS_US_PER_MS);
}

static void main_begin_shutdown(const char *signame)
{
	if (gw->stopping)
		return;
	gw->stopping = true;
	gw->stop_deadline_ms = gw_now_ms() + GW_SHUTDOWN_DEADLINE_MS;
	log_info("%s received: stopping %zu sessions", signame, session_count());
	session_stop_all("the gateway is shutting down");
	main_shutdown_tick(NULL);
}

/* The signalfd in the lws loop: SIGTERM/SIGINT stop; SIGHUP goes to the parent. */
static int main_signal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
				void *in, size_t len)
{
	(void)wsi;
	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	struct signalfd_siginfo si;
	while (read(gw->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD: /* no children of ours: the privileged parent reaps the cells */
			break;
		case SIGTERM:
			main_begin_shutdown("SIGTERM");
			break;
		case SIGINT:
			main_begin_shutdown("SIGINT");
			break;
		case SIGHUP:
			/* The parent reads the file: it is root's (gateway_priv.c). */
			log_warn("SIGHUP to the network process ignored: send it to the main "
				 "process, pid %d (systemctl reload pixelgate does)",
				 (int)getppid());
			break;
		default:
			break;
		}
	}
	return 0;
}

static const struct lws_protocols main_protocols[] = {
	{ "http", accept_staff_callback, sizeof(struct http_pss), 0, 0, NULL, 0 },
	{ "binary", relay_ws_callback, sizeof(struct gw_conn), 65536, 0, NULL, 0 },
	{ "pg-rfb", relay_raw_callback, 0, 32768, 0, NULL, 0 },
	{ "pg-ctl", session_ctl_callback, 0, 0, 0, NULL, 0 },
	{ "pg-signal", main_signal_callback, 0, 0, 0, NULL, 0 },
	{ "pg-priv", priv_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* A TLS listener (TLS 1.2 and later, HTTP/1.1 only) with the configured certificate. */
static struct lws_vhost *main_tls_vhost(const char *name, const char *address, int port,
					const struct lws_protocols *protocols)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.vhost_name = name;
	info.port = port;
	info.iface = address;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.ssl_cert_filepath = gw->cfg.tls_cert;
	info.ssl_private_key_filepath = gw->cfg.tls_key;
	info.ssl_options_set = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
	    SSL_OP_NO_TLSv1_1;
	info.alpn = "http/1.1";
	info.keepalive_timeout = 30;
	info.timeout_secs = 30;
	/*
	 * A WebSocket upgrade that names no subprotocol (noVNC unless its page
	 * passes wsProtocols) is bound to "binary", as websockify does. lws binds
	 * it to the vhost's "default" protocol, which also becomes what a fresh
	 * connection starts on unless it is adopted with a protocol's name; so
	 * every accepted connection is adopted as "http" (listen_accept_protocol
	 * here, and gateway_accept.c for the PROXY protocol path).
	 */
	static const struct lws_protocol_vhost_options default_opt = { NULL, NULL, "default", "1" };
	static const struct lws_protocol_vhost_options binary_pvo = { NULL, &default_opt, "binary",
								      "" };
	if (protocols == main_protocols) {
		info.pvo = &binary_pvo;
		info.listen_accept_protocol = "http";
	}
	return lws_create_vhost(gw->ctx, &info);
}

static char main_worker_path[PATH_MAX];

/* Every GW_ALIVE_MS: the loop turns; the parent pings systemd's watchdog with it. */
static lws_sorted_usec_list_t main_alive_sul;
static void main_alive(lws_sorted_usec_list_t *sul)
{
	priv_status(false, "");
	lws_sul_schedule(gw->ctx, 0, sul, main_alive, GW_ALIVE_MS * LWS_US_PER_MS);
}

/* Find the worker binary: configured, or pixelgate-session next to us. */
static int main_open_worker(char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (gw->cfg.session_binary[0] != '\0') {
		snprintf(path, sizeof path, "%s", gw->cfg.session_binary);
	} else {
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
		if (n <= 0) {
			snprintf(err, errlen, "cannot find our own path: %s", strerror(errno));
			return -1;
		}
		path[n] = '\0';
		char *slash = strrchr(path, '/');
		if (slash == NULL ||
		    (size_t)(slash - path) + sizeof "/pixelgate-session" > sizeof path) {
			snprintf(err, errlen, "unexpected path %s", path);
			return -1;
		}
		strcpy(slash, "/pixelgate-session");
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		snprintf(err, errlen, "session_binary %s: %s", path,
			 fd < 0 ? strerror(errno) : "not an executable file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	gw->session_exe_fd = fd;
	snprintf(main_worker_path, sizeof main_worker_path, "%s", path);
	return 0;
}

int gw_config_rules(const struct config *c, const char *path, char *err, size_t errlen)
{
	if (c->tls_cert[0] == '\0' || c->tls_key[0] == '\0') {
		snprintf(err, errlen,
			 "%s: tls_cert and tls_key are required (the staff listener is TLS only)",
			 path);
		return -1;
	}
	if (c->admin_listen_port != 0 && c->admin_listen_port == c->listen_port) {
		snprintf(err, errlen, "%s: admin_listen_port must differ from listen_port", path);
		return -1;
	}
	if (c->upstream_proxy[0] == '\0' && !c->development_direct_egress) {
		snprintf(
		    err, errlen,
		    "%s: [session] upstream_proxy is required: it is the sessions' only way out "
		    "(host:port of the prefectural security cloud's proxy, or a local squid); "
		    "development_direct_egress = on lets browsers use the host's network (never "
		    "in production)",
		    path);
		return -1;
	}
	return 0;
}

/* A program the worker starts (chromium_path, xvfb_path): an absolute executable file. */
static int main_program(const char *key, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (path[0] == '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0)
		return 0;
	snprintf(err, errlen, "[session] %s %s: %s", key, path,
		 path[0] != '/'             ? "must be an absolute path"
		     : stat(path, &st) != 0 ? strerror(errno)
		     : !S_ISREG(st.st_mode) ? "not a regular file"
					    : "not executable");
	return -1;
}

/* The configuration itself (as root, before the split). 0 or -1 + err. */
static int main_check_config(char *err, size_t errlen)
{
	if (config_load(&gw->cfg, gw->config_path, err, errlen) != 0 ||
	    gw_config_rules(&gw->cfg, gw->config_path, err, errlen) != 0 ||
	    main_program("chromium_path", gw->cfg.chromium_path, err, errlen) != 0 ||
	    main_program("xvfb_path", gw->cfg.xvfb_path, err, errlen) != 0)
		return -1;
	if (gw->cfg.upstream_proxy[0] == '\0')
		log_warn("DEVELOPMENT: development_direct_egress = on and no upstream_proxy: "
			 "browsers reach whatever this host can reach");
	return 0;
}

/* Whether path opens for reading as we are now; else err says how to fix it. */
static int main_readable(const char *what, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	snprintf(err, errlen, "%s %s: %s%s%s%s", what, path, strerror(errno),
		 errno == EACCES ? " (the network process runs as [server] user " : "",
		 errno == EACCES ? gw->cfg.user : "",
		 errno == EACCES ? ": chown it to that user, mode 600)" : "");
	return -1;
}

/* What the network process reads (as [server] user). 0 or -1 + err. */
static int main_check_files(char *err, size_t errlen)
{
	if (main_readable("tls_cert", gw->cfg.tls_cert, err, errlen) != 0 ||
	    main_readable("tls_key", gw->cfg.tls_key, err, errlen) != 0 ||
	    main_readable("users_file", gw->cfg.users_file, err, errlen) != 0)
		return -1;
	if (config_check_secret_file(gw->cfg.tls_key, err, errlen) != 0)
		return -1;
	if (reload_check_cert(gw->cfg.tls_cert, gw->cfg.tls_key, &gw->cert_not_after, err,
			      errlen) != 0)
		return -1;
	if (admin_metrics_token_load(gw->cfg.metrics_token_file, gw->metrics_token_sha,
				     &gw->metrics_token_set, err, errlen) != 0)
		return -1;
	if (config_check_secret_file(gw->cfg.users_file, err, errlen) != 0)
		return -1;
	if (config_check_secret_file(gw->cfg.audit_key_file, err, errlen) != 0) {
		size_t n = strlen(err);
		snprintf(
		    err + n, errlen - n,
		    " (the audit key: create it with: head -c 32 /dev/urandom > %s && chmod 600 %s)",
		    gw->cfg.audit_key_file, gw->cfg.audit_key_file);
		return -1;
	}
	if (main_readable("audit_key_file", gw->cfg.audit_key_file, err, errlen) != 0)
		return -1;
	users_free(&gw->users);
	if (users_load(&gw->users, gw->cfg.users_file, false, err, errlen) != 0)
		return -1;
	if (directory_load(err, errlen) != 0 || gw_totp_load(err, errlen) != 0)
		return -1;
	struct stat st;
	if (stat(gw->cfg.users_file, &st) == 0) {
		gw->users_ino = st.st_ino;
		gw->users_size = st.st_size;
		gw->users_mtime = st.st_mtim;
	}
	/* Limits: the config's defaults, then the run-time overrides saved in state_dir. */
	gw->limits_base = gw->cfg.limits;
	gw->limits = gw->cfg.limits;
	snprintf(gw->limits_path, sizeof gw->limits_path, "%s/limits.json", gw->cfg.state_dir);
	if (limits_load_overrides(&gw->limits, gw->limits_path, err, errlen) != 0)
		return -1;
	return 0;
}

/* -n as root: the files checked as the network process's user will see them. */
static int main_check_files_as_net(bool root, char *err, size_t errlen)
{
	if (!root)
		return main_check_files(err, errlen);
	if (setegid(priv_net_gid()) != 0 || seteuid(priv_net_uid()) != 0) {
		snprintf(err, errlen, "cannot act as %s: %s", gw->cfg.user, strerror(errno));
		return -1;
	}
	int rc = main_check_files(err, errlen);
	if (seteuid(0) != 0 || setegid(0) != 0)
		fatal("cannot return to root after the check: %s", strerror(errno));
	return rc;
}

/*
 * As root: the directories the network process writes (state_dir, audit_dir,
 * forensics_dir, recording_dir when recording is on) are made for it when missing: parents
 * root 0755, the directory itself [server] user 0700. Existing ones are left
 * as they are (the network process says so if it cannot write them).
 */
static int main_prepare_dir(const char *dir, char *err, size_t errlen)
{
	char p[CONFIG_PATH_MAX];
	snprintf(p, sizeof p, "%s", dir);
	struct stat st;
	if (p[0] != '/' || stat(p, &st) == 0)
		return 0;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 || chown(p, priv_net_uid(), priv_net_gid()) != 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	log_info("created %s for %s", p, gw->cfg.user);
	return 0;
}

/* Create runtime_dir (0711) and remove session directories a crash left behind. */
static int main_runtime_dir(char *err, size_t errlen)
{
	const char *dir = gw->cfg.runtime_dir;
	if (mkdir(dir, 0711) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "runtime_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "runtime_dir %s: not a directory", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "runtime_dir %s: must be owned by the gateway's user", dir);
		return -1;
	}
	if (chmod(dir, 0711) != 0) {
		snprintf(err, errlen, "runtime_dir %s: chmod: %s", dir, strerror(errno));
		return -1;
	}
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "session-", 8) != 0)
			continue;
		/* Only names we create: "session-" and 16 hex digits. */
		if (strlen(e->d_name) != 8 + 16 || strspn(e->d_name + 8, "0123456789abcdef") != 16)
			continue;
		char path[CONFIG_PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/%.24s", dir, e->d_name);
		log_warn("removing %s left over from an earlier run", path);
		session_remove_dir(path);
	}
	if (d != NULL)
		closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	bool check_only = false;
	const char *config_path = NULL;
	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' },
						  { "keys", no_argument, NULL, 'k' },
						  { "version", no_argument, NULL, 'V' },
						  { NULL, 0, NULL, 0 } };
	int opt;
	while ((opt = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'k':
			config_print_reference();
			return 0;
		case 'V':
			printf("pixelgate %s\n", PIXELGATE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("pixelgate", LOG_LEVEL_INFO);
	systemd_init_logging();
	gw->session_exe_fd = -1;
	gw->signal_fd = -1;
	snprintf(gw->config_path, sizeof gw->config_path, "%s", config_path);
	config_defaults(&gw->cfg);

	gw->priv_fd = -1;
	char err[512];
	bool root = geteuid() == 0;
	if (main_check_config(err, sizeof err) != 0 || priv_check(root, err, sizeof err) != 0 ||
	    main_open_worker(err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check_only) {
		if (main_check_files_as_net(root, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		char probe[700];
		if (directory_probe(probe, sizeof probe) != 0)
			printf("warning: %s (directory users cannot sign in until it answers)\n",
			       probe);
		else if (gw->ldap != NULL)
			printf("%s\n", probe);
		printf("configuration OK\n");
		return 0;
	}
	if (main_runtime_dir(err, sizeof err) != 0)
		fatal("%s", err);
	if (root &&
	    (main_prepare_dir(gw->cfg.state_dir, err, sizeof err) != 0 ||
	     main_prepare_dir(gw->cfg.audit_dir, err, sizeof err) != 0 ||
	     main_prepare_dir(gw->cfg.forensics_dir, err, sizeof err) != 0 ||
	     (record_configured() && main_prepare_dir(gw->cfg.recording_dir, err, sizeof err) != 0)))
		fatal("%s", err);
	/* From here on this is the network process; the root parent stays in priv_split. */
	if (priv_split(gw->session_exe_fd, main_worker_path, err, sizeof err) != 0)
		fatal("%s", err);
	gw->session_exe_fd = -1;
	if (main_check_files(err, sizeof err) != 0)
		fatal("%s", err);
	if (mkdir(gw->cfg.state_dir, 0700) != 0 && errno != EEXIST)
		fatal("state_dir %s: %s", gw->cfg.state_dir, strerror(errno));
	lockout_init(&gw_lockout);
	gw->lockout = &gw_lockout;
	ticket_store_init(&gw_tickets);
	gw->tickets = &gw_tickets;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		fatal("sigprocmask: %s", strerror(errno));
	gw->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (gw->signal_fd < 0)
		fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);

	lws_set_log_level(LLL_ERR | LLL_WARN, main_lws_log);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.pt_serv_buf_size = 32768;
	gw->ctx = lws_create_context(&info);
	if (gw->ctx == NULL)
		fatal("could not create the libwebsockets context");

	/* With proxy_protocol, gateway_accept.c owns the listening socket. */
	gw->vhost = main_tls_vhost("staff", gw->cfg.listen_address,
				   gw->cfg.proxy_protocol ? CONTEXT_PORT_NO_LISTEN_SERVER
							  : gw->cfg.listen_port,
				   main_protocols);
	if (gw->vhost == NULL)
		fatal(
		    "could not listen on %s:%d with TLS (address in use, or bad tls_cert/tls_key?)",
		    gw->cfg.listen_address, gw->cfg.listen_port);

	if (gw->cfg.admin_listen_port != 0) {
		static struct lws_protocols admin_protocols[] = {
			{ "admin-http", accept_admin_callback, 0, 0, 0, NULL, 0 },
			{ NULL, NULL, 0, 0, 0, NULL, 0 }
		};
		admin_protocols[0].per_session_data_size = admin_pss_size();
		gw->admin_vhost = main_tls_vhost("admin", gw->cfg.admin_listen_address,
						 gw->cfg.admin_listen_port, admin_protocols);
		if (gw->admin_vhost == NULL)
			fatal("could not listen on %s:%d (admin, TLS)",
			      gw->cfg.admin_listen_address, gw->cfg.admin_listen_port);
	}
	if (gw->cfg.agent_check_port != 0) {
		static const struct lws_protocols agent_protocols[] = {
			{ "agent-check", agent_callback, 0, 0, 0, NULL, 0 },
			{ NULL, NULL, 0, 0, 0, NULL, 0 }
		};
		memset(&info, 0, sizeof info);
		info.vhost_name = "agent-check";
		info.port = gw->cfg.agent_check_port;
		info.iface = gw->cfg.agent_check_address;
		info.protocols = agent_protocols;
		info.options = LWS_SERVER_OPTION_ONLY_RAW;
		gw->agent_vhost = lws_create_vhost(gw->ctx, &info);
		if (gw->agent_vhost == NULL)
			fatal("could not listen on %s:%d (agent-check)",
			      gw->cfg.agent_check_address, gw->cfg.agent_check_port);
	}

	lws_adopt_desc_t ad = { 0 };
	ad.vh = gw->vhost;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = gw->signal_fd;
	ad.vh_prot_name = "pg-signal";
	if (lws_adopt_descriptor_vhost_via_info(&ad) == NULL)
		fatal("could not watch signals");
	ad.fd.filefd = gw->priv_fd;
	ad.vh_prot_name = "pg-priv";
	if (lws_adopt_descriptor_vhost_via_info(&ad) == NULL)
		fatal("could not watch the privileged parent's socket");
	if (accept_init(err, sizeof err) != 0)
		fatal("staff listener: %s", err);

	if (gw->admin_vhost != NULL)
		log_info("admin API on https://%s:%d", gw->cfg.admin_listen_address,
			 gw->cfg.admin_listen_port);
	if (gw->agent_vhost != NULL)
		log_info("HAProxy agent-check on %s:%d", gw->cfg.agent_check_address,
			 gw->cfg.agent_check_port);
	if (audit_open(err, sizeof err) != 0)
		fatal("audit log: %s", err);
	record_init();
	if (auth_init(gw->ctx, gw->cfg.auth_threads, gw->cfg.auth_queue, gw->ldap,
		      gw->cfg.ldap_answer_floor_ms, err, sizeof err) != 0)
		fatal("password checks: %s", err);
	log_info("pixelgate listening on https://%s:%d (users file %s, %zu users, runtime dir %s, "
		 "network process uid %u%s)",
		 gw->cfg.listen_address, gw->cfg.listen_port, gw->cfg.users_file, gw->users.n,
		 gw->cfg.runtime_dir, (unsigned)getuid(),
		 priv_cells() ? ", sessions in cells" : ", DEVELOPMENT: sessions without cells");
	pool_fill();
	char status[200];
	snprintf(status, sizeof status, "listening on %s:%d, %zu users", gw->cfg.listen_address,
		 gw->cfg.listen_port, gw->users.n);
	priv_status(true, status);
	lws_sul_schedule(gw->ctx, 0, &main_alive_sul, main_alive, GW_ALIVE_MS * LWS_US_PER_MS);

	while (true) {
		if (lws_service(gw->ctx, 0) < 0)
			break;
		if (gw->stopping && (session_count() == 0 || gw_now_ms() >= gw->stop_deadline_ms))
			break;
	}
	if (session_count() > 0)
		log_warn("%zu sessions did not stop in time: killing them", session_count());
	session_kill_all();
	lws_sul_cancel(&gw_shutdown_sul);
	lws_sul_cancel(&main_alive_sul);
	/* Counted refusals are audited before the log closes; no thread may wake a dead context. */
	auth_refusals_flush_all();
	auth_shutdown();
	gw->destroying = true; /* the parent's socket closes now: not a lost parent */
	lws_context_destroy(gw->ctx);
	accept_close();
	audit_close();
	users_free(&gw->users);
	directory_free();
	gw_totp_free();
	log_info("pixelgate stopped");
	return 0;
}
