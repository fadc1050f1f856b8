/*
 * gateway_reload.c: SIGHUP (systemctl reload) re-reads, without dropping a
 * session or a connection:
 *
 *   - the TLS certificate and key at the configured paths (a renewed
 *     certificate is served to every new handshake, on the staff and admin
 *     listeners; connections already up keep theirs);
 *   - the users file;
 *   - [limits] (the run-time overrides saved in state_dir still win).
 *
 * Everything is checked before anything is applied: a configuration file
 * that does not load or breaks a rule, a certificate that does not load or
 * does not match its key, a users file that does not load, a limits file
 * that does not load: the reload is refused with one log line that says why
 * and the daemon goes on with what it had. Any other key that changed is
 * named in a warning: it takes effect at the next restart (listeners, paths,
 * the cell, the policy sessions are made with, the directory).
 *
 * The privileged parent gets SIGHUP and hands over the configuration file it
 * read as root (gateway_priv.c, PRIV_CONFIG): the network process cannot
 * read it, and parses the copy that was read. Each reload
 * is audited ("config_reload": result, what changed or why not) and counted
 * in /metrics.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway.h"
#include "gateway_auth.h"
#include "log.h"

/*
 * Loads cert and key into a scratch context, as lws will: refuses a chain
 * that does not load, a key that does not load or that does not match.
 * *not_after gets the certificate's end of validity (Unix seconds).
 */
int reload_check_cert(const char *cert, const char *key, int64_t *not_after, char *err,
		      size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "tls_cert %s: %s", cert,
			 ERR_reason_error_string(ERR_peek_last_error()) != NULL
			     ? ERR_reason_error_string(ERR_peek_last_error())
			     : "cannot be read");
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "tls_key %s: %s", key,
			 ERR_reason_error_string(ERR_peek_last_error()) != NULL
			     ? ERR_reason_error_string(ERR_peek_last_error())
			     : "cannot be read");
		goto out;
	}
	X509 *x = SSL_CTX_get0_certificate(ctx);
	struct tm tm;
	if (x == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
		snprintf(err, errlen, "tls_cert %s: no end of validity", cert);
		goto out;
	}
	*not_after = (int64_t)timegm(&tm);
	rc = 0;
out:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return rc;
}

struct reload_diff {
	char text[768]; /* "[section] key, ..." */
	size_t len;
};

static void reload_note_key(const char *section, const char *name, void *arg)
{
	struct reload_diff *d = arg;
	/* [limits] is not in config_diff(); a changed path of a file is not applied either,
	   but for metrics_token_file's. */
	if (strcmp(name, "metrics_token_file") == 0)
		return;
	if (d->len >= sizeof d->text - 1)
		return;
	int n = snprintf(d->text + d->len, sizeof d->text - d->len, "%s[%s] %s",
			 d->len > 0 ? ", " : "", section, name);
	if (n > 0)
		d->len += (size_t)n < sizeof d->text - d->len ? (size_t)n
							      : sizeof d->text - d->len - 1;
}

/* "name old->new, ..." of the limits that differ between a and b. */
static void reload_limits_changes(const struct limits *a, const struct limits *b, char *out,
				  size_t outlen)
{
	size_t n, len = 0;
	const struct limits_key *t = limits_table(&n);
	out[0] = '\0';
	for (size_t i = 0; i < n && len < outlen - 1; i++) {
		int va = *(const int *)(const void *)((const char *)a + t[i].offset);
		int vb = *(const int *)(const void *)((const char *)b + t[i].offset);
		if (va == vb)
			continue;
		int w = snprintf(out + len, outlen - len, "%s%s %d->%d", len > 0 ? ", " : "",
				 t[i].name, va, vb);
		if (w > 0)
			len += (size_t)w < outlen - len ? (size_t)w : outlen - len - 1;
	}
}

static void reload_refused(const char *why)
{
	char status[200];
	snprintf(status, sizeof status, "reload refused (see the log); running as before");
	priv_status(true, status);
	gw->metrics.reloads_refused++;
	log_error("reload refused: %s; the running configuration is kept", why);
	json_t *f = json_pack("{s:s, s:s}", "result", "refused", "reason", why);
	audit_event("config_reload", "", "", "", f);
	json_decref(f);
}

void reload_run(int fd, const char *why)
{
	static struct config next; /* large: not on the stack */
	char err[CONFIG_PATH_MAX + 256];

	if (gw->stopping)
		return;
	if (fd < 0) {
		snprintf(err, sizeof err, "%s: %s", gw->config_path, why);
		reload_refused(err);
		return;
	}
	log_info("reload: reading %s (SIGHUP)", gw->config_path);
	config_defaults(&next);
	if (config_load_fd(&next, fd, gw->config_path, err, sizeof err) != 0 ||
	    gw_config_rules(&next, gw->config_path, err, sizeof err) != 0) {
		reload_refused(err);
		return;
	}
	struct reload_diff d = { .len = 0 };
	d.text[0] = '\0';
	config_diff(&gw->cfg, &next, reload_note_key, &d);

	/* The certificate: only at the paths the listeners were made with. */
	int64_t not_after = 0;
	if (reload_check_cert(gw->cfg.tls_cert, gw->cfg.tls_key, &not_after, err, sizeof err) !=
	    0) {
		reload_refused(err);
		return;
	}
	/* The users file (its path may not change either). */
	struct users fresh = { 0 };
	if (config_check_secret_file(gw->cfg.users_file, err, sizeof err) != 0 ||
	    users_load(&fresh, gw->cfg.users_file, false, err, sizeof err) != 0) {
		users_free(&fresh);
		reload_refused(err);
		return;
	}
	/* The metrics token (its file at the path the configuration now names). */
	unsigned char token_sha[32];
	bool token_set;
	if (admin_metrics_token_load(next.metrics_token_file, token_sha, &token_set, err,
				     sizeof err) != 0) {
		users_free(&fresh);
		reload_refused(err);
		return;
	}
	/* [limits] from the file, then the overrides saved at run time. */
	struct limits lim = next.limits;
	if (limits_load_overrides(&lim, gw->limits_path, err, sizeof err) != 0) {
		users_free(&fresh);
		reload_refused(err);
		return;
	}

	/* Everything checked: apply. lws loads the same files into each vhost's SSL_CTX. */
	lws_tls_cert_updated(gw->ctx, gw->cfg.tls_cert, gw->cfg.tls_key, NULL, 0, NULL, 0);
	/*
	 * lws read the files again (and says nothing of how it went): if they
	 * changed since the check, the listeners may hold a key that does not
	 * match. Check them once more; a renewal caught half-way is reloaded again.
	 */
	int64_t again = not_after;
	char late[CONFIG_PATH_MAX + 128];
	if (reload_check_cert(gw->cfg.tls_cert, gw->cfg.tls_key, &again, late, sizeof late) != 0 ||
	    again != not_after)
		log_error("reload: the certificate files changed while they were loaded (%s): the "
			  "listeners may now refuse handshakes; send SIGHUP again once the renewal "
			  "is complete",
			  again != not_after ? "another certificate" : late);
	gw->cert_not_after = not_after;
	snprintf(gw->cfg.metrics_token_file, sizeof gw->cfg.metrics_token_file, "%s",
		 next.metrics_token_file);
	memcpy(gw->metrics_token_sha, token_sha, sizeof token_sha);
	gw->metrics_token_set = token_set;
	OPENSSL_cleanse(token_sha, sizeof token_sha);
	size_t nusers = fresh.n;
	auth_users_install(&fresh);
	char changes[512];
	reload_limits_changes(&gw->limits, &lim, changes, sizeof changes);
	gw->cfg.limits = next.limits;
	gw->limits_base = next.limits;
	gw->limits = lim;
	if (changes[0] != '\0')
		session_limits_changed();
	gw->metrics.reloads_ok++;

	char until[32];
	time_t t = (time_t)not_after;
	struct tm tm;
	strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	log_info("reloaded: certificate %s (valid until %s), %zu users, limits %s",
		 gw->cfg.tls_cert, until, nusers, changes[0] ? changes : "unchanged");
	if (d.len > 0)
		log_warn("reload: changed in %s but applied only at the next restart: %s",
			 gw->config_path, d.text);
	char status[200];
	snprintf(status, sizeof status, "reloaded: certificate valid until %s, %zu users", until,
		 nusers);
	priv_status(true, status);
	json_t *f = json_pack("{s:s, s:s, s:i, s:s, s:s}", "result", "ok", "cert_not_after", until,
			      "users", (int)nusers, "limits", changes, "restart_needed_for",
			      d.text);
	audit_event("config_reload", "", "", "", f);
	json_decref(f);
}
