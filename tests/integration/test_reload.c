/*
 * test_reload.c: SIGHUP (systemctl reload) with a session running.
 *
 * The daemon's main process (the privileged parent, the one systemd knows)
 * gets SIGHUP after the test has:
 *   - put a renewed certificate (same CA, new serial and subject) and key
 *     over the files at the configured paths, as certbot or a city CA's
 *     renewal would: the next TLS handshake gets the new certificate, on
 *     the staff and the admin listener, and the viewer connected before
 *     still gets its page (same connection, no reconnect);
 *   - added [limits] max_sessions = 7 to the configuration: /metrics says 7;
 *   - broken the configuration (a key that does not exist): the reload is
 *     refused with the reason in the log and an audit record, the session
 *     and new logins go on, the old limits stay;
 *   - put a key that does not match the certificate: refused the same way,
 *     and the certificate served stays the renewed one.
 * The gateway runs under valgrind memcheck (the reload hands files to
 * OpenSSL contexts that libwebsockets owns).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define RL_USER "rl-tanaka"
#define RL_ADMIN "rl-admin"

/* The serial of the certificate the listener on port serves now ("serial=..."). */
static void rl_served_serial(int port, char *serial, size_t len)
{
	char out[1024];
	int rc = it_run(out, sizeof out,
			"openssl s_client -connect 127.0.0.1:%d -CAfile %s -verify_return_error "
			"</dev/null 2>/dev/null | openssl x509 -noout -serial -subject",
			port, it.ca_file);
	IT_ASSERT(rc == 0, "no certificate from port %d: %s", port, out);
	snprintf(serial, len, "%s", out);
	serial[strcspn(serial, "\n")] = '\0';
}

static void rl_file_serial(const char *cert, char *serial, size_t len)
{
	char out[1024];
	IT_ASSERT(it_run(out, sizeof out, "openssl x509 -in %s -noout -serial -subject", cert) == 0,
		  "%s: %s", cert, out);
	snprintf(serial, len, "%s", out);
	serial[strcspn(serial, "\n")] = '\0';
}

/* SIGHUP to the daemon, then wait for the log line that ends this reload (count + 1). */
static void rl_reload(const char *want, int before)
{
	IT_ASSERT(kill(it.daemon_pid, SIGHUP) == 0, "kill SIGHUP");
	double deadline = it_now_s() + 15;
	while (it_file_count(it.daemon_log, want) <= before && it_now_s() < deadline)
		it_sleep_ms(100);
	IT_ASSERT(it_file_count(it.daemon_log, want) > before, "no \"%s\" in the log after SIGHUP",
		  want);
}

IT_TEST(reload, sighup_serves_the_renewed_certificate_and_keeps_the_session, .timeout = 180)
{
	static const char *const users[] = { RL_USER, NULL };
	static const char *const admins[] = { RL_ADMIN, NULL };
	/* Under valgrind memcheck: the certificate goes into OpenSSL contexts lws holds. */
	struct it_opts o = { .admins = admins, .memcheck = true };
	char cert[320], key[320], out[2048], before[256], after[256], renewed[256];
	struct it_http r;

	it_start_opts("reload_sighup", users, &o);
	snprintf(cert, sizeof cert, "%s/server.crt", it.dir);
	snprintf(key, sizeof key, "%s/server.key", it.dir);
	rl_served_serial(it.port, before, sizeof before);

	struct it_rect block;
	struct pgc_conn *c = it_open_page(RL_USER, 1024, 768, &block);

	/* A renewed certificate over the old files (contents replaced, owner and mode kept). */
	IT_ASSERT(it_run(out, sizeof out,
			 "cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
			 "-nodes -keyout renewed.key -out renewed.csr -subj '/CN=127.0.0.1 renewed' "
			 "2>&1 && openssl x509 -req -in renewed.csr -CA ca.crt -CAkey ca.key "
			 "-CAcreateserial -out renewed.crt -days 3 -extfile server.ext 2>&1 && "
			 "cat renewed.crt > server.crt && cat renewed.key > server.key",
			 it.dir) == 0,
		  "renewing: %s", out);
	char renewed_crt[340];
	snprintf(renewed_crt, sizeof renewed_crt, "%s/renewed.crt", it.dir);
	rl_file_serial(renewed_crt, renewed, sizeof renewed);
	IT_ASSERT(strcmp(before, renewed) != 0, "the renewed certificate is the same: %s", before);

	/* ... and [limits] max_sessions = 7 added. */
	FILE *f = fopen(it.conf_file, "a");
	IT_ASSERT(f != NULL, "%s", it.conf_file);
	fprintf(f, "\n[limits]\nmax_sessions = 7\n");
	fclose(f);

	rl_reload("reloaded: certificate", 0);
	rl_served_serial(it.port, after, sizeof after);
	IT_ASSERT(strcmp(after, renewed) == 0, "staff listener after reload: %s, want %s", after,
		  renewed);
	rl_served_serial(it.admin_port, after, sizeof after);
	IT_ASSERT(strcmp(after, renewed) == 0, "admin listener after reload: %s, want %s", after,
		  renewed);
	IT_ASSERT(it_admin("GET", "/metrics", RL_ADMIN, NULL, &r) == 200, "metrics: %d", r.status);
	IT_ASSERT(it_metric(r.body, "pixelgate_sessions_max") == 7, "max_sessions after reload: %g",
		  it_metric(r.body, "pixelgate_sessions_max"));
	IT_ASSERT(it_metric(r.body, "pixelgate_reloads_total{result=\"ok\"}") == 1,
		  "reloads ok: %g", it_metric(r.body, "pixelgate_reloads_total{result=\"ok\"}"));

	/* The viewer of before the reload: same connection, the page still answers. */
	it_click(c, block.x + 5, block.y + 5);
	IT_ASSERT(it_pump_for(c, 1500), "the session's connection closed at the reload");
	IT_ASSERT(it_find_block(c, &block), "the page is gone from the viewer after the reload");

	/* A configuration that does not load: refused, the old one kept. */
	f = fopen(it.conf_file, "a");
	IT_ASSERT(f != NULL, "%s", it.conf_file);
	fprintf(f, "\n[limits]\nmax_sessions = 9\nno_such_key = 1\n");
	fclose(f);
	rl_reload("reload refused:", 0);
	IT_ASSERT(it_file_count(it.daemon_log, "no_such_key") > 0, "the refusal does not say why");
	IT_ASSERT(it_admin("GET", "/metrics", RL_ADMIN, NULL, &r) == 200, "metrics: %d", r.status);
	IT_ASSERT(it_metric(r.body, "pixelgate_sessions_max") == 7,
		  "a refused reload changed max_sessions: %g",
		  it_metric(r.body, "pixelgate_sessions_max"));
	IT_ASSERT(it_metric(r.body, "pixelgate_reloads_total{result=\"refused\"}") == 1,
		  "reloads refused: %g",
		  it_metric(r.body, "pixelgate_reloads_total{result=\"refused\"}"));
	IT_ASSERT(it_pump_for(c, 500), "the session's connection closed at the refused reload");

	/* A key that does not match the certificate: refused, the renewed one still served. */
	IT_ASSERT(it_run(out, sizeof out,
			 "cd %s && head -n -4 %s > conf.ok && cp conf.ok %s && "
			 "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 "
			 "2>/dev/null > other.key && cat other.key > server.key",
			 it.dir, it.conf_file, it.conf_file) == 0,
		  "%s", out);
	rl_reload("reload refused:", 1);
	IT_ASSERT(it_file_count(it.daemon_log, "tls_key") > 0, "the key refusal does not say why");
	rl_served_serial(it.port, after, sizeof after);
	IT_ASSERT(strcmp(after, renewed) == 0, "after a refused reload: %s, want %s", after,
		  renewed);

	/* New logins still work, and the audit log has both outcomes. */
	IT_ASSERT(it_login_http(RL_USER, it_password(RL_USER), false, &r) == 200,
		  "login after the reloads: %d %s", r.status, r.body);
	IT_ASSERT(it_audit_count("config_reload", "result", "ok", NULL) == 1,
		  "audit: config_reload ok");
	IT_ASSERT(it_audit_count("config_reload", "result", "refused", NULL) == 2,
		  "audit: config_reload refused");
	IT_ASSERT(it_pump_for(c, 500), "the session's connection closed");
}
