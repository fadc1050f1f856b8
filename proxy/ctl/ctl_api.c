/*
 * ctl_api.c: pixelgatectl's admin API commands (status, sessions, limits,
 * users, drain, undrain) over HTTPS with the client core
 * (pgc_http_request), the server's CA pinned.
 *
 * Settings: /etc/pixelgate/pixelgatectl.conf, then the user's file (or only
 * --config FILE), then the options. The administrator authenticates with
 * HTTP Basic; the password comes from a file only its owner can read or is
 * asked on the terminal, and every buffer that held it is wiped.
 *
 * Exit status (ctl.h): 0 done; 1 the server refused (any HTTP status outside
 * 2xx: the status, the server's "error" and "message" are printed) or a
 * local error (config, password file); 2 a usage error; 3 the server could
 * not be reached (connection, TLS, timeout: the reason is printed).
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_http.h"
#include "client_url.h"
#include "config.h"
#include "ctl.h"
#include "ctl_args.h"
#include "ctl_conf.h"
#include "ctl_format.h"
#include "ctl_password.h"
#include "ctl_qr.h"
#include "ctl_request.h"
#include "users.h"

/* A request path: prefix, a percent-encoded segment (3 bytes per byte of a
   name or ID of up to 256 bytes), a suffix. */
#define CTL_REQ_PATH_MAX 1024
#define CTL_SEGMENT_MAX 256

/* One run of an admin API command. */
struct ctl_api {
	struct ctl_opts o;
	struct ctl_conf conf;
	const char *url; /* the server as the user gave it */
	char host[CTL_HOST_MAX];
	struct pgc_server srv;
	const char *user;
	const char *password_file;
	char auth[CTL_AUTH_MAX]; /* "Basic ...", "" until asked for */
};

/* Read the config files into c->conf. 0 or -1 after a message. */
static int ctl_api_config(struct ctl_api *c)
{
	char err[CTL_PATH_MAX + 256], path[CTL_PATH_MAX];
	if (c->o.config_file != NULL) {
		if (ctl_conf_load(&c->conf, c->o.config_file, false, err, sizeof err) != 0) {
			ctl_error("%s", err);
			return -1;
		}
		return 0;
	}
	if (ctl_conf_load(&c->conf, CTL_CONF_SYSTEM, true, err, sizeof err) != 0) {
		ctl_error("%s", err);
		return -1;
	}
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(path, sizeof path, "%s/%s", xdg, CTL_CONF_USER);
	else if (home != NULL && home[0] == '/')
		n = snprintf(path, sizeof path, "%s/.config/%s", home, CTL_CONF_USER);
	else
		return 0;
	if (n < 0 || (size_t)n >= sizeof path)
		return 0;
	if (ctl_conf_load(&c->conf, path, true, err, sizeof err) != 0) {
		ctl_error("%s", err);
		return -1;
	}
	return 0;
}

/* Options over config files over defaults; check them. 0 or -1 + message. */
static int ctl_api_settings(struct ctl_api *c)
{
	char err[256];
	int port;
	c->url = c->o.server != NULL    ? c->o.server
	    : c->conf.server[0] != '\0' ? c->conf.server
					: CTL_DEFAULT_SERVER;
	if (pgc_parse_server_url(c->url, CTL_DEFAULT_PORT, c->host, sizeof c->host, &port, err,
				 sizeof err) != 0) {
		ctl_error("server %s: %s", c->url, err);
		return -1;
	}
	c->srv.host = c->host;
	c->srv.port = port;
	c->srv.ca_file = c->o.ca_file != NULL ? c->o.ca_file
	    : c->conf.ca_file[0] != '\0'      ? c->conf.ca_file
					      : NULL;
	if (c->srv.ca_file == NULL) {
		ctl_error("no CA file to check the server's certificate: give --ca FILE or ca_file "
			  "in " CTL_CONF_SYSTEM);
		return -1;
	}
	c->user = c->o.user != NULL ? c->o.user : c->conf.user[0] != '\0' ? c->conf.user : NULL;
	c->password_file = c->o.password_file != NULL ? c->o.password_file
	    : c->conf.password_file[0] != '\0'        ? c->conf.password_file
						      : NULL;
	return 0;
}

/* A password from a file only its owner may read. 0 or -1 + message. */
static int ctl_api_secret_file(const char *path, char *buf, size_t size)
{
	char err[CTL_PATH_MAX + 128];
	if (config_check_secret_file(path, err, sizeof err) != 0) {
		ctl_error("%s", err);
		return -1;
	}
	return ctl_password_from_file(path, buf, size);
}

/* Build c->auth ("Basic base64(user:password)"), asking for the password
   if no file gives it. 0 or -1 after a message. */
static int ctl_api_auth(struct ctl_api *c)
{
	char password[CTL_LINE_MAX], prompt[CTL_URL_MAX + 128];
	int rc = -1;

	if (c->auth[0] != '\0')
		return 0;
	if (c->user == NULL) {
		ctl_error(
		    "no administrator to authenticate as: give --user NAME or user in " CTL_CONF_SYSTEM);
		return -1;
	}
	if (!users_name_valid(c->user)) {
		ctl_error("--user: \"%s\" is not a user name (1-%d of A-Z a-z 0-9 . _ @ -)",
			  c->user, USERS_NAME_MAX);
		return -1;
	}
	if (c->password_file != NULL) {
		if (ctl_api_secret_file(c->password_file, password, sizeof password) != 0)
			return -1;
	} else {
		snprintf(prompt, sizeof prompt, "Password for %s at %s: ", c->user, c->url);
		if (ctl_password_ask(prompt, NULL, password, sizeof password) != 0)
			return -1;
	}
	if (ctl_basic_auth(c->user, password, c->auth, sizeof c->auth) != 0)
		ctl_error("the password is too long");
	else
		rc = 0;
	OPENSSL_cleanse(password, sizeof password);
	return rc;
}

/* Print body as is (with a final newline) to stdout. */
static void ctl_api_print_json(const struct pgc_http_response *res)
{
	if (res->body_len == 0)
		return;
	fwrite(res->body, 1, res->body_len, stdout);
	if (res->body[res->body_len - 1] != '\n')
		fputc('\n', stdout);
}

/*
 * One request. what names it in messages ("limits set"); with_auth adds the
 * Authorization header (asking for the password first if needed). Returns
 * CTL_EXIT_OK with the 2xx answer in res (the caller frees it), or the exit
 * status after a message (res freed).
 */
static int ctl_api_call(struct ctl_api *c, const char *what, const char *method, const char *path,
			bool with_auth, const char *body, struct pgc_http_response *res)
{
	char why[1024], code[64];
	memset(res, 0, sizeof *res);
	if (with_auth && ctl_api_auth(c) != 0)
		return CTL_EXIT_REFUSED;
	int rc = pgc_http_request(&c->srv, method, path, with_auth ? c->auth : NULL,
				  body != NULL ? "application/json" : NULL, body,
				  body != NULL ? strlen(body) : 0, res);
	if (rc != 0) {
		if (res->status == 0) {
			ctl_error("%s: cannot reach %s: %s", what, c->url, res->message);
			pgc_http_response_free(res);
			return CTL_EXIT_CANNOT;
		}
		ctl_error("%s: %s %s: HTTP %d, but %s", what, method, path, res->status,
			  res->message);
		pgc_http_response_free(res);
		return CTL_EXIT_REFUSED;
	}
	if (res->status >= 200 && res->status < 300)
		return CTL_EXIT_OK;
	ctl_describe_refusal(res->status, res->retry_after_s, res->body, res->body_len, why,
			     sizeof why);
	ctl_answer_error_code(res->body, res->body_len, code, sizeof code);
	ctl_error("%s refused by %s: %s%s", what, c->url, why,
		  ctl_refusal_hint(res->status, code, path));
	if (c->o.json)
		ctl_api_print_json(res);
	pgc_http_response_free(res);
	return CTL_EXIT_REFUSED;
}

/* "/api/v1/PREFIX/SEGMENT[SUFFIX]" for a name or ID. 0 or -1 + message. */
static int ctl_api_item_path(char *out, size_t outlen, const char *prefix, const char *item,
			     const char *suffix)
{
	char seg[3 * CTL_SEGMENT_MAX + 1];
	if (strlen(item) > CTL_SEGMENT_MAX || ctl_path_segment(item, seg, sizeof seg) != 0) {
		ctl_error("\"%.64s\" cannot be a name or ID", item);
		return -1;
	}
	snprintf(out, outlen, "%s/%s%s", prefix, seg, suffix);
	return 0;
}

/* A checked user name argument. 0 or -1 + message. */
static int ctl_api_check_name(const char *name)
{
	if (!users_name_valid(name)) {
		ctl_error("invalid user name \"%.80s\" (1-%d of A-Z a-z 0-9 . _ @ -)", name,
			  USERS_NAME_MAX);
		return -1;
	}
	return 0;
}

/*
 * The JSON body {"name"?: name, "password": new password, "admin"?: bool}
 * for users add / passwd, the password from --new-password-file or asked
 * twice. *body gets a malloc'd string to wipe and free. 0 or -1.
 */
static int ctl_api_password_body(struct ctl_api *c, const char *name, bool with_name, char **body)
{
	char password[CTL_LINE_MAX];
	*body = NULL;
	if (c->o.new_password_file != NULL) {
		if (ctl_api_secret_file(c->o.new_password_file, password, sizeof password) != 0)
			return -1;
	} else if (ctl_password_new(name, password, sizeof password) != 0) {
		return -1;
	}
	*body = ctl_password_body(name, with_name, c->o.admin, password);
	OPENSSL_cleanse(password, sizeof password);
	if (*body == NULL) {
		ctl_error("cannot encode the request (is the password UTF-8?)");
		return -1;
	}
	return 0;
}

static void ctl_free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* status: health (no auth), limits and sessions. */
static int ctl_api_status(struct ctl_api *c)
{
	struct pgc_http_response h, l, s;
	char err[512];
	int rc = ctl_api_call(c, "status", "GET", "/healthz", false, NULL, &h);
	if (rc != CTL_EXIT_OK)
		return rc;
	rc = ctl_api_call(c, "status", "GET", "/api/v1/limits", true, NULL, &l);
	if (rc != CTL_EXIT_OK) {
		pgc_http_response_free(&h);
		return rc;
	}
	rc = ctl_api_call(c, "status", "GET", "/api/v1/sessions", true, NULL, &s);
	if (rc != CTL_EXIT_OK) {
		pgc_http_response_free(&h);
		pgc_http_response_free(&l);
		return rc;
	}
	if (c->o.json) {
		char *all = ctl_status_json(h.body, h.body_len, l.body, l.body_len, s.body,
					    s.body_len, err, sizeof err);
		if (all == NULL)
			rc = CTL_EXIT_REFUSED;
		else
			puts(all);
		free(all);
	} else if (ctl_print_status(c->url, h.body, h.body_len, l.body, l.body_len, s.body,
				    s.body_len, stdout, err, sizeof err) != 0) {
		rc = CTL_EXIT_REFUSED;
	}
	if (rc != CTL_EXIT_OK)
		ctl_error("status: %s", err);
	pgc_http_response_free(&h);
	pgc_http_response_free(&l);
	pgc_http_response_free(&s);
	return rc;
}

/* A GET whose answer is shown with print (or as is with --json). */
static int ctl_api_show(struct ctl_api *c, const char *what, const char *path,
			int (*print)(const char *, size_t, FILE *, char *, size_t))
{
	struct pgc_http_response res;
	char err[512];
	int rc = ctl_api_call(c, what, "GET", path, true, NULL, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (c->o.json) {
		ctl_api_print_json(&res);
	} else if (print(res.body, res.body_len, stdout, err, sizeof err) != 0) {
		ctl_error("%s: %s", what, err);
		rc = CTL_EXIT_REFUSED;
	}
	pgc_http_response_free(&res);
	return rc;
}

/* A change: on success print done (a line for people) or the JSON. */
static int ctl_api_change(struct ctl_api *c, const char *method, const char *path, const char *body,
			  const char *done)
{
	struct pgc_http_response res;
	int rc = ctl_api_call(c, ctl_cmd_name(c->o.cmd), method, path, true, body, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (c->o.json)
		ctl_api_print_json(&res);
	else
		puts(done);
	pgc_http_response_free(&res);
	return rc;
}

/* limits set KEY=VALUE...: PATCH, then the limits now in force. */
static int ctl_api_limits_set(struct ctl_api *c)
{
	struct pgc_http_response res;
	char err[512], *body;
	if (ctl_limits_body(c->o.settings, c->o.nsettings, &body, err, sizeof err) != 0)
		return ctl_usage_error(err);
	int rc = ctl_api_call(c, "limits set", "PATCH", "/api/v1/limits", true, body, &res);
	free(body);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (c->o.json) {
		ctl_api_print_json(&res);
	} else if (ctl_print_limits(res.body, res.body_len, stdout, err, sizeof err) != 0) {
		ctl_error("limits set: the change was made, but %s", err);
		rc = CTL_EXIT_REFUSED;
	}
	pgc_http_response_free(&res);
	return rc;
}

/* users add / passwd: the new password in the body. */
static int ctl_api_users_password(struct ctl_api *c)
{
	bool add = c->o.cmd == CTL_CMD_USERS_ADD;
	char path[CTL_REQ_PATH_MAX], done[256], *body;
	if (add)
		snprintf(path, sizeof path, "/api/v1/users");
	else if (ctl_api_item_path(path, sizeof path, "/api/v1/users", c->o.arg, "/password") != 0)
		return CTL_EXIT_REFUSED;
	/* the administrator's password first, then the new one */
	if (ctl_api_auth(c) != 0)
		return CTL_EXIT_REFUSED;
	if (ctl_api_password_body(c, c->o.arg, add, &body) != 0)
		return CTL_EXIT_REFUSED;
	if (add)
		snprintf(done, sizeof done, "added user %s (%s)", c->o.arg,
			 c->o.admin ? "admin" : "staff");
	else
		snprintf(done, sizeof done, "changed the password of %s", c->o.arg);
	int rc = ctl_api_change(c, add ? "POST" : "PUT", path, body, done);
	ctl_free_secret(body);
	return rc;
}

/* The commands on one user: del, lock, unlock, admin on|off. */
static int ctl_api_users_item(struct ctl_api *c)
{
	char path[CTL_REQ_PATH_MAX], done[256];
	const char *method = "POST", *suffix = "", *body = NULL, *name = c->o.arg;
	switch (c->o.cmd) {
	case CTL_CMD_USERS_DEL:
		method = "DELETE";
		snprintf(done, sizeof done, "deleted user %s", name);
		break;
	case CTL_CMD_USERS_LOCK:
		suffix = "/lock";
		snprintf(done, sizeof done, "locked user %s: their logins are refused", name);
		break;
	case CTL_CMD_USERS_UNLOCK:
		suffix = "/unlock";
		snprintf(done, sizeof done, "unlocked user %s", name);
		break;
	default: /* CTL_CMD_USERS_ADMIN */
		method = "PUT";
		suffix = "/admin";
		body = c->o.admin_on ? "{\"admin\":true}" : "{\"admin\":false}";
		if (c->o.admin_on)
			snprintf(done, sizeof done, "user %s now has the admin role", name);
		else
			snprintf(done, sizeof done, "user %s no longer has the admin role", name);
		break;
	}
	if (ctl_api_item_path(path, sizeof path, "/api/v1/users", name, suffix) != 0)
		return CTL_EXIT_REFUSED;
	return ctl_api_change(c, method, path, body, done);
}

/* users totp enroll|remove|show NAME. */
static int ctl_api_users_totp(struct ctl_api *c)
{
	char path[CTL_REQ_PATH_MAX], done[256], uri[512] = "", when[64] = "";
	const char *name = c->o.arg;
	struct pgc_http_response res;
	if (ctl_api_item_path(path, sizeof path, "/api/v1/users", name, "/totp") != 0)
		return CTL_EXIT_REFUSED;
	if (c->o.cmd == CTL_CMD_USERS_TOTP_REMOVE) {
		snprintf(done, sizeof done,
			 "removed the second factor of %s: their authenticator app's codes no "
			 "longer work",
			 name);
		return ctl_api_change(c, "DELETE", path, NULL, done);
	}
	bool enroll = c->o.cmd == CTL_CMD_USERS_TOTP_ENROLL;
	int rc = ctl_api_call(c, ctl_cmd_name(c->o.cmd), enroll ? "POST" : "GET", path, true, NULL,
			      &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	json_t *o = json_loadb(res.body, res.body_len, 0, NULL);
	const char *u = json_string_value(json_object_get(o, "uri"));
	const char *at = json_string_value(json_object_get(o, "enrolled_at"));
	snprintf(uri, sizeof uri, "%s", u != NULL ? u : "");
	snprintf(when, sizeof when, "%s", at != NULL ? at : "");
	bool enrolled = json_is_true(json_object_get(o, "enrolled"));
	if (u != NULL)
		OPENSSL_cleanse((char *)u, strlen(u)); /* the secret: jansson's copy too */
	json_decref(o);
	if (c->o.json) {
		ctl_api_print_json(&res);
	} else if (!enroll) {
		if (enrolled)
			printf("%s has a second factor, enrolled %s\n", name, when);
		else
			printf("%s has no second factor\n", name);
	} else if (strncmp(uri, "otpauth://", 10) != 0) {
		ctl_error("users totp enroll: the server's answer holds no otpauth URI");
		rc = CTL_EXIT_REFUSED;
	} else {
		const char *secret = strstr(uri, "secret=");
		printf("Enrolled a second factor for %s. Let them scan this with their "
		       "authenticator app\n(any TOTP app: Google Authenticator, Microsoft "
		       "Authenticator, ...):\n\n",
		       name);
		if (ctl_print_qr(uri, stdout) != 0)
			printf("(no QR code: the URI is too long for one)\n");
		printf("\nor type in the key: %.*s\n",
		       secret != NULL ? (int)strcspn(secret + 7, "&") : 0,
		       secret != NULL ? secret + 7 : "");
		printf("(%s)\nA code enrolled before for %s no longer works. This key is shown "
		       "once: do not keep it.\n",
		       uri, name);
	}
	OPENSSL_cleanse(uri, sizeof uri);
	if (res.body != NULL)
		OPENSSL_cleanse(res.body, res.body_len);
	pgc_http_response_free(&res);
	return rc;
}

/* DELETE base/ID (sessions kill, forensics del); done: what to say, before the id. */
static int ctl_api_delete_id(struct ctl_api *c, const char *base, const char *done_what)
{
	char path[CTL_REQ_PATH_MAX], id[CTL_CELL_MAX], done[CTL_CELL_MAX + 64];
	if (ctl_api_item_path(path, sizeof path, base, c->o.arg, "") != 0)
		return CTL_EXIT_REFUSED;
	ctl_clean_text(c->o.arg, strlen(c->o.arg), id, sizeof id);
	snprintf(done, sizeof done, "%s %s", done_what, id);
	return ctl_api_change(c, "DELETE", path, NULL, done);
}

int ctl_api_main(int argc, char **argv)
{
	static struct ctl_api c; /* holds the Authorization header: wiped at the end */
	char err[512];
	int rc;

	memset(&c, 0, sizeof c);
	rc = ctl_args_parse(argc, argv, &c.o, err, sizeof err);
	if (rc == 1) {
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (rc != 0)
		return ctl_usage_error(err);
	if (c.o.arg != NULL && c.o.cmd != CTL_CMD_SESSIONS_KILL &&
	    c.o.cmd != CTL_CMD_FORENSICS_DEL && ctl_api_check_name(c.o.arg) != 0)
		return CTL_EXIT_REFUSED;
	if (ctl_api_config(&c) != 0 || ctl_api_settings(&c) != 0)
		return CTL_EXIT_REFUSED;

	switch (c.o.cmd) {
	case CTL_CMD_STATUS:
		rc = ctl_api_status(&c);
		break;
	case CTL_CMD_SESSIONS:
		rc = ctl_api_show(&c, "sessions", "/api/v1/sessions", ctl_print_sessions);
		break;
	case CTL_CMD_SESSIONS_KILL:
		rc = ctl_api_delete_id(&c, "/api/v1/sessions", "ended session");
		break;
	case CTL_CMD_LIMITS:
		rc = ctl_api_show(&c, "limits", "/api/v1/limits", ctl_print_limits);
		break;
	case CTL_CMD_LIMITS_SET:
		rc = ctl_api_limits_set(&c);
		break;
	case CTL_CMD_USERS:
		rc = ctl_api_show(&c, "users", "/api/v1/users", ctl_print_users);
		break;
	case CTL_CMD_USERS_ADD:
	case CTL_CMD_USERS_PASSWD:
		rc = ctl_api_users_password(&c);
		break;
	case CTL_CMD_USERS_DEL:
	case CTL_CMD_USERS_LOCK:
	case CTL_CMD_USERS_UNLOCK:
	case CTL_CMD_USERS_ADMIN:
		rc = ctl_api_users_item(&c);
		break;
	case CTL_CMD_USERS_TOTP_ENROLL:
	case CTL_CMD_USERS_TOTP_REMOVE:
	case CTL_CMD_USERS_TOTP_SHOW:
		rc = ctl_api_users_totp(&c);
		break;
	case CTL_CMD_POLICIES:
		rc = ctl_api_show(&c, "policies", "/api/v1/policies", ctl_print_policies);
		break;
	case CTL_CMD_FORENSICS:
		rc = ctl_api_show(&c, "forensics", "/api/v1/forensics", ctl_print_forensics);
		break;
	case CTL_CMD_FORENSICS_DEL:
		rc = ctl_api_delete_id(&c, "/api/v1/forensics",
				       "removed the kept directory of session");
		break;
	case CTL_CMD_DRAIN:
		rc = ctl_api_change(&c, "POST", "/api/v1/drain", NULL,
				    "draining: no new sessions; existing sessions go on");
		break;
	case CTL_CMD_UNDRAIN:
		rc = ctl_api_change(&c, "POST", "/api/v1/undrain", NULL,
				    "no longer draining: new sessions are accepted");
		break;
	}
	OPENSSL_cleanse(c.auth, sizeof c.auth);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("writing the output: %s", strerror(errno));
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_REFUSED;
	}
	return rc;
}
