/*
 * config.c: INI configuration (libinih) driven by one table of keys.
 */
#include "config.h"
#include "ini_lines.h"
#include "proxy_v2.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

enum config_type { CONFIG_STR, CONFIG_INT, CONFIG_BOOL };

/* One configuration key. */
struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	size_t offset;   /* into struct config */
	size_t size;     /* for CONFIG_STR: buffer size */
	long min, max;   /* for CONFIG_INT */
	const char *def; /* default, as text */
	const char *help;
};

#define STR(sec, field, def, help)                                       \
	{                                                                \
		sec, #field, CONFIG_STR, offsetof(struct config, field), \
		    sizeof(((struct config *)0)->field), 0, 0, def, help \
	}
#define INT(sec, field, lo, hi, def, help)                                                    \
	{                                                                                     \
		sec, #field, CONFIG_INT, offsetof(struct config, field), 0, lo, hi, def, help \
	}
#define BOOL(sec, field, def, help)                                                          \
	{                                                                                    \
		sec, #field, CONFIG_BOOL, offsetof(struct config, field), 0, 0, 1, def, help \
	}

/* A key whose name is not its field's ([ldap] uri: ldap_uri). */
#define STRK(sec, key, field, def, help)                                 \
	{                                                                \
		sec, key, CONFIG_STR, offsetof(struct config, field),    \
		    sizeof(((struct config *)0)->field), 0, 0, def, help \
	}
#define INTK(sec, key, field, lo, hi, def, help)                                           \
	{                                                                                  \
		sec, key, CONFIG_INT, offsetof(struct config, field), 0, lo, hi, def, help \
	}

static const struct config_key config_keys[] = {
	STR("server", listen_address, "127.0.0.1",
	    "address of the staff (LGWAN-side) TLS listener"),
	INT("server", listen_port, 1, 65535, "8443", "TCP port of the staff listener"),
	STR("server", tls_cert, "/etc/pixelgate/tls/server.crt", "PEM server certificate (chain)"),
	STR("server", tls_key, "/etc/pixelgate/tls/server.key",
	    "PEM private key; refused if group- or world-readable"),
	STR("server", users_file, "/etc/pixelgate/users",
	    "users and Argon2id hashes (pixelgatectl user ...); refused if group/world-readable"),
	STR("server", runtime_dir, "/run/pixelgate",
	    "where each session gets a private 0700 directory (use tmpfs)"),
	STR("server", session_binary, "",
	    "worker binary; empty = pixelgate-session beside pixelgate"),
	STR("server", user, "pixelgate",
	    "system user of the network process (TLS, HTTP, relay, admin API, audit); it owns "
	    "state_dir, audit_dir, recording_dir, the TLS key, users file and audit key"),
	BOOL("server", development_unprivileged, "off",
	     "DEVELOPMENT ONLY: let a non-root start run sessions as its own uid, without a cell "
	     "(no uid of their own, no namespaces); never in production"),
	STR("server", state_dir, "/var/lib/pixelgate",
	    "run-time state kept across restarts (limits.json: limits changed by an administrator)"),
	BOOL("server", proxy_protocol, "off",
	     "every staff connection starts with a PROXY protocol v2 header (HAProxy send-proxy-v2) "
	     "naming the terminal's address; only from proxy_trusted"),
	STR("server", proxy_trusted, "",
	    "comma-separated addresses (CIDR allowed) of the balancers allowed to send a PROXY "
	    "header; required with proxy_protocol = on"),
	INT("server", max_connections_per_address, 0, 1000000, "32",
	    "TCP connections one client address may hold at once, staff and admin listener "
	    "counted apart (the header's address with proxy_protocol); 0 = no cap"),
	INT("server", auth_threads, 1, 64, "2",
	    "threads that check passwords (Argon2id), off the event loop"),
	INT("server", auth_queue, 1, 4096, "32",
	    "password checks that may wait for a thread; a login beyond that gets 503 busy"),
	STR("admin", admin_listen_address, "127.0.0.1",
	    "address of the admin API TLS listener (management side; never the staff network)"),
	INT("admin", admin_listen_port, 0, 65535, "8444",
	    "TCP port of the admin API listener; 0 = no admin API"),
	STR("admin", metrics_token_file, "",
	    "bearer token file for GET /metrics (Prometheus' credentials_file): one word of "
	    "16-256 characters, [server] user's, mode 600; empty = admins only"),
	STR("admin", agent_check_address, "127.0.0.1",
	    "address of the HAProxy agent-check listener (plain TCP)"),
	INT("admin", agent_check_port, 0, 65535, "0",
	    "TCP port of the HAProxy agent-check listener; 0 = off"),
	STR("session", home_page, "about:blank", "page a new session opens"),
	STR("session", upstream_proxy, "",
	    "HTTP proxy every session's only way out (the prefectural security cloud), host:port; "
	    "required"),
	BOOL("session", development_direct_egress, "off",
	     "DEVELOPMENT ONLY: allow an empty upstream_proxy; browsers then use the host's "
	     "network directly; never in production"),
	INT("session", session_uid_base, 1000, 2147000000, "2100000000",
	    "first uid (and gid) of the session cells; the range must have no passwd or group "
	    "entry"),
	INT("session", session_uid_count, 1, 4096, "64",
	    "uids in the range, one per concurrent session (the most sessions at once)"),
	INT("session", session_memory_mib, 128, 1048576, "2048",
	    "memory (anonymous memory of its processes + its tmpfs) one session may use; beyond it the session ends"),
	INT("session", session_max_procs, 64, 65536, "2048",
	    "processes and threads one session may run (RLIMIT_NPROC of its uid)"),
	INT("session", prestart, 0, 64, "0",
	    "sessions kept started on about:blank (screen of the last login, at first "
	    "default_width x default_height), each claimed by one login and never reused; 0 = off"),
	INT("session", session_tmpfs_mib, 16, 65536, "512",
	    "size of each private tmpfs of a session (/tmp, /dev/shm, its directory)"),
	STR("session", chromium_policy, "/etc/chromium/policies/managed/pixelgate.json",
	    "the managed Chromium policy pixelgate installs; checked at start, then given to "
	    "every session with the proxy and URL lists added"),
	INT("session", default_width, CONFIG_MIN_WIDTH, 7680, "1280",
	    "screen width when the login does not ask"),
	INT("session", default_height, CONFIG_MIN_HEIGHT, 4320, "800",
	    "screen height when the login does not ask"),
	INT("session", max_width, CONFIG_MIN_WIDTH, 7680, "3840",
	    "largest width a login may ask for"),
	INT("session", max_height, CONFIG_MIN_HEIGHT, 4320, "2160",
	    "largest height a login may ask for"),
	INT("session", session_start_timeout_s, 5, 300, "30",
	    "seconds a new session may take to show its browser"),
	STR("session", chromium_path, "/usr/lib/chromium/chromium",
	    "Chromium binary (not the /usr/bin wrapper)"),
	STR("session", xvfb_path, "/usr/bin/Xvfb", "Xvfb binary"),
	BOOL("policy", clipboard_to_browser, "false",
	     "allow text from the terminal's clipboard into the browser"),
	BOOL("policy", clipboard_to_terminal, "false",
	     "allow text copied in the browser onto the terminal's clipboard (plain text, "
	     "control characters removed, audited)"),
	STR("policy", url_allowlist, "",
	    "comma-separated URL patterns always allowed (Chromium URLAllowlist), e.g. "
	    "\"https://www.city.example.lg.jp, example.jp\""),
	STR("policy", url_blocklist, "",
	    "comma-separated URL patterns blocked (Chromium URLBlocklist); \"*\" with an "
	    "allowlist = only the allowlist"),
	STR("audit", audit_dir, "/var/log/pixelgate/audit",
	    "directory of the audit log files (audit-YYYYMMDD-NNN.jsonl)"),
	STR("audit", audit_key_file, "/etc/pixelgate/audit.key",
	    "HMAC key of the audit chain (at least 32 bytes); refused if group/world-readable"),
	INT("audit", audit_rotate_mb, 1, 65536, "64",
	    "start a new audit file past this size (MiB)"),
	BOOL("audit", audit_rotate_daily, "true", "start a new audit file every day (UTC)"),
	BOOL("audit", audit_fail_open, "false",
	     "keep accepting logins when the audit log cannot be written (NOT recommended)"),
	STR("audit", recording, "off",
	    "session recording: off, all, or users (those in recording_users)"),
	STR("audit", recording_users, "",
	    "comma-separated user names recorded when recording = users"),
	STR("audit", recording_dir, "/var/log/pixelgate/recordings",
	    "directory of the recordings (<session>-<n>.vncrec, 0600; the directory 0700)"),
	INT("audit", recording_retention_days, 0, 36500, "90",
	    "delete recordings older than this many days (checked at start-up and daily); 0 = keep"),
	STR("audit", forensics_dir, "/var/log/pixelgate/forensics",
	    "where the session directory is kept when the browser side broke the RFB allow-list "
	    "(session-<id>/: files/ and manifest.json; owner-only) until an administrator "
	    "removes it"),
	INT("audit", forensics_max_mib, 1, 65536, "256",
	    "cap on the bytes kept of one session directory (MiB); the rest is listed, not copied"),
	STR("policy", watermark, "off",
	    "off, corner (a label at the bottom right) or tiled (repeated diagonally "
	    "over the screen): the text drawn into what the worker serves (every viewer and "
	    "recording)"),
	STR("policy", watermark_text, "{user} {client} {date} {time}",
	    "the watermark's text: {user}, {client} (the terminal's address), {date}, {time} "
	    "(updated each minute) and any other text, Japanese included"),
	INT("policy", watermark_opacity, 5, 100, "35", "the watermark's opacity, percent"),
	INT("policy", clipboard_max_bytes, 0, 1048576, "65536",
	    "cap on one clipboard transfer, bytes"),
	BOOL("audit", clipboard_content, "false",
	     "put the clipboard text itself in the \"clipboard\" audit records (its SHA-256 is "
	     "always there)"),
	STRK("auth", "backend", auth_backend, "file",
	     "who may sign in: file (users_file only) or ldap (the directory of [ldap]; "
	     "users_file is asked first, for break-glass accounts)"),
	STRK("auth", "mfa", auth_mfa, "off",
	     "second factor (TOTP) required at the staff login: off, admins or everyone; "
	     "a user with a code enrolled is always asked for it"),
	STR("auth", totp_file, "/var/lib/pixelgate/totp.json",
	    "enrolled TOTP secrets, encrypted with totp_key_file (written by the gateway)"),
	STR("auth", totp_key_file, "/etc/pixelgate/totp.key",
	    "32-byte key that encrypts the TOTP secrets; refused if group/world-readable"),
	STRK("ldap", "uri", ldap_uri, "",
	     "the directory: ldaps://HOST[:PORT], or ldap://HOST[:PORT] with StartTLS"),
	STRK("ldap", "ca_file", ldap_ca_file, "",
	     "PEM CA certificate(s) of the directory: the only ones trusted"),
	STRK("ldap", "bind_dn", ldap_bind_dn, "",
	     "the service account that searches users and groups"),
	STRK("ldap", "bind_password_file", ldap_bind_password_file, "/etc/pixelgate/ldap.password",
	     "file holding the service account's password (one line); refused if "
	     "group/world-readable"),
	STRK("ldap", "base_dn", ldap_base_dn, "", "where users are searched (subtree)"),
	STRK("ldap", "user_filter", ldap_user_filter, "(uid=%s)",
	     "filter that finds one enabled user; %s is the escaped name, e.g. "
	     "(&(sAMAccountName=%s)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"),
	STRK("ldap", "name_attribute", ldap_name_attribute, "uid",
	     "attribute whose value names the user in pixelgate (sessions, audit, lockout); "
	     "sAMAccountName on Active Directory"),
	STRK("ldap", "staff_group", ldap_staff_group, "",
	     "DN of the group whose members (member attribute) sign in as staff"),
	STRK("ldap", "admin_group", ldap_admin_group, "",
	     "DN of the group whose members sign in as administrators"),
	INTK("ldap", "timeout_ms", ldap_timeout_ms, 100, 60000, "5000",
	     "each step with the directory (connect, TLS, bind, search); beyond it: 503 "
	     "directory_unavailable"),
	INTK("ldap", "answer_floor_ms", ldap_answer_floor_ms, 0, 10000, "500",
	     "every login answer (file or directory user, right or wrong) waits at least this "
	     "long, so its time does not tell which; raise it if the directory is slower"),
};

#define CONFIG_NKEYS (sizeof config_keys / sizeof config_keys[0])

/* A boolean's text: 1 (true, yes, on, 1), 0 (false, no, off, 0), or -1. */
static int config_bool(const char *value)
{
	if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on") ||
	    !strcmp(value, "1"))
		return 1;
	if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off") ||
	    !strcmp(value, "0"))
		return 0;
	return -1;
}

/* Parse one value into c; returns 0 or -1 with a message (no location). */
static int config_set(struct config *c, const struct config_key *k, const char *value, char *err,
		      size_t errlen)
{
	char *field = (char *)c + k->offset;
	switch (k->type) {
	case CONFIG_STR:
		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes", k->name,
				 k->size - 1);
			return -1;
		}
		if (k->offset == offsetof(struct config, recording) && strcmp(value, "off") != 0 &&
		    strcmp(value, "all") != 0 && strcmp(value, "users") != 0) {
			snprintf(err, errlen, "recording: \"%s\" is not off, all or users", value);
			return -1;
		}
		if (k->offset == offsetof(struct config, watermark) && strcmp(value, "off") != 0 &&
		    strcmp(value, "corner") != 0 && strcmp(value, "tiled") != 0) {
			snprintf(err, errlen, "watermark: \"%s\" is not off, corner or tiled",
				 value);
			return -1;
		}
		if (k->offset == offsetof(struct config, auth_backend) &&
		    strcmp(value, "file") != 0 && strcmp(value, "ldap") != 0) {
			snprintf(err, errlen, "backend: \"%s\" is not file or ldap", value);
			return -1;
		}
		if (k->offset == offsetof(struct config, auth_mfa) && strcmp(value, "off") != 0 &&
		    strcmp(value, "admins") != 0 && strcmp(value, "everyone") != 0) {
			snprintf(err, errlen, "mfa: \"%s\" is not off, admins or everyone", value);
			return -1;
		}
		if (k->offset == offsetof(struct config, proxy_trusted)) {
			struct proxy_v2_trust trust;
			char why[160];
			if (proxy_v2_trust_parse(value, &trust, why, sizeof why) != 0) {
				snprintf(err, errlen, "proxy_trusted: %s", why);
				return -1;
			}
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case CONFIG_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0') {
			snprintf(err, errlen, "%s: \"%s\" is not an integer", k->name, value);
			return -1;
		}
		if (v < k->min || v > k->max) {
			snprintf(err, errlen, "%s: %ld is out of range %ld..%ld", k->name, v,
				 k->min, k->max);
			return -1;
		}
		*(int *)field = (int)v;
		return 0;
	}
	case CONFIG_BOOL: {
		int b = config_bool(value);
		if (b < 0) {
			snprintf(err, errlen, "%s: \"%s\" is not a boolean (true/false)", k->name,
				 value);
			return -1;
		}
		*(bool *)field = b == 1;
		return 0;
	}
	}
	return -1;
}

void config_defaults(struct config *c)
{
	char err[256];
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (config_set(c, &config_keys[i], config_keys[i].def, err, sizeof err) != 0)
			abort(); /* a bad default is a broken invariant */
	limits_defaults(&c->limits);
}

/* State of one parse (read by ini_lines.c): the first error wins. */
struct config_parse {
	struct ini_lines in; /* first: the handler is given &in */
	struct config *c;
	int grace_line;            /* line that set reconnect_grace_s, 0 if none yet */
	const char *grace_section; /* "limits" or "session" (the old name) */
	int proxy_line;            /* line that set proxy_protocol, 0 if none */
};

#define config_fail(p, ...) ini_fail(&(p)->in, __VA_ARGS__)

/* The [limits] section: the keys of node_limits.h's table. */
#define CONFIG_LIMITS_SECTION "limits"

static bool config_section_known(const char *section)
{
	if (strcmp(section, CONFIG_LIMITS_SECTION) == 0)
		return true;
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	return false;
}

/*
 * A key of [limits], or [session] reconnect_grace_s, the old name of
 * [limits] reconnect_grace_s: setting it under both names is refused, as
 * one of them would be silently ignored.
 */
static int config_handle_limit(struct config_parse *p, const char *section, const char *name,
			       const char *value)
{
	char msg[320];
	if (limits_find(name) == NULL) {
		config_fail(p, "unknown key \"%s\" in section [%s]", name, section);
		return 0;
	}
	if (strcmp(name, "reconnect_grace_s") == 0) {
		if (p->grace_line != 0 && strcmp(p->grace_section, section) != 0) {
			config_fail(
			    p,
			    "reconnect_grace_s is already set in [%s] (line %d); [session] "
			    "reconnect_grace_s is the old name of [limits] reconnect_grace_s, "
			    "keep only the [limits] one",
			    p->grace_section, p->grace_line);
			return 0;
		}
		p->grace_line = p->in.lineno;
		p->grace_section = strcmp(section, "session") == 0 ? "session"
								   : CONFIG_LIMITS_SECTION;
	}
	if (limits_set_text(&p->c->limits, name, value, msg, sizeof msg) != 0) {
		config_fail(p, "%s", msg);
		return 0;
	}
	return 1;
}

/* A bool of a [group] section: 0 or 1, or -1 (message in err). */
static int config_group_bool(const char *key, const char *value, char *err, size_t errlen)
{
	int b = config_bool(value);
	if (b < 0)
		snprintf(err, errlen, "%s: \"%s\" is not on or off", key, value);
	return b;
}

/* A non-negative integer of a [group] section up to max, or -1 (message in err). */
static int config_group_int(const char *key, const char *value, long max, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < 0 || v > max) {
		snprintf(err, errlen, "%s: \"%s\" is not an integer in 0..%ld", key, value, max);
		return -1;
	}
	return (int)v;
}

/* The [group NAME] section named section, made when first seen; NULL with the parse failed. */
static struct group_policy *config_group(struct config_parse *p, const char *gname)
{
	struct config *c = p->c;
	for (int i = 0; i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, gname) == 0)
			return &c->groups[i];
	size_t len = strlen(gname);
	if (len == 0 || len >= CONFIG_GROUP_NAME_MAX ||
	    strspn(gname, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
		len) {
		config_fail(p, "[group %s]: a group's name is 1..%d of A-Z a-z 0-9 _ . -", gname,
			    CONFIG_GROUP_NAME_MAX - 1);
		return NULL;
	}
	if (c->n_groups >= CONFIG_GROUPS_MAX) {
		config_fail(p, "[group %s]: at most %d [group] sections", gname, CONFIG_GROUPS_MAX);
		return NULL;
	}
	struct group_policy *g = &c->groups[c->n_groups++];
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "%s", gname);
	g->max_sessions_per_user = g->idle_timeout_s = g->clipboard_to_browser = g->recording = -1;
	g->clipboard_to_terminal = -1;
	return g;
}

/* One key of a [group NAME] section. */
static int config_handle_group(struct config_parse *p, const char *gname, const char *name,
			       const char *value)
{
	char msg[320];
	int v = 0;
	struct group_policy *g = config_group(p, gname);
	if (g == NULL)
		return 0;
	msg[0] = '\0';
	if (strcmp(name, "dn") == 0) {
		if (value[0] == '\0' || strlen(value) >= sizeof g->dn)
			snprintf(msg, sizeof msg, "dn: want the group's DN, under %zu bytes",
				 sizeof g->dn);
		else
			snprintf(g->dn, sizeof g->dn, "%s", value);
	} else if (strcmp(name, "max_sessions_per_user") == 0) {
		if ((v = config_group_int(name, value, 64, msg, sizeof msg)) == 0)
			snprintf(msg, sizeof msg, "max_sessions_per_user: at least 1");
		g->max_sessions_per_user = v;
	} else if (strcmp(name, "idle_timeout_s") == 0) {
		g->idle_timeout_s = config_group_int(name, value, 30 * 86400, msg, sizeof msg);
	} else if (strcmp(name, "clipboard_to_browser") == 0) {
		g->clipboard_to_browser = config_group_bool(name, value, msg, sizeof msg);
	} else if (strcmp(name, "clipboard_to_terminal") == 0) {
		g->clipboard_to_terminal = config_group_bool(name, value, msg, sizeof msg);
	} else if (strcmp(name, "recording") == 0) {
		g->recording = config_group_bool(name, value, msg, sizeof msg);
	} else if (strcmp(name, "home_page") == 0) {
		if (value[0] == '\0' || strlen(value) >= sizeof g->home_page)
			snprintf(msg, sizeof msg, "home_page: want a URL under %zu bytes",
				 sizeof g->home_page);
		else
			snprintf(g->home_page, sizeof g->home_page, "%s", value);
	} else if (strcmp(name, "url_allowlist") == 0 || strcmp(name, "url_blocklist") == 0) {
		bool allow = name[4] == 'a';
		char *field = allow ? g->url_allowlist : g->url_blocklist;
		if (strlen(value) >= sizeof g->url_allowlist)
			snprintf(msg, sizeof msg, "%s: value longer than %zu bytes", name,
				 sizeof g->url_allowlist - 1);
		else
			snprintf(field, sizeof g->url_allowlist, "%s", value);
		*(allow ? &g->has_url_allowlist : &g->has_url_blocklist) = true;
	} else {
		snprintf(msg, sizeof msg,
			 "unknown key \"%s\" in [group %s] (dn, max_sessions_per_user, "
			 "idle_timeout_s, clipboard_to_browser, clipboard_to_terminal, recording, "
			 "home_page, url_allowlist, url_blocklist)",
			 name, gname);
	}
	if (msg[0] != '\0') {
		config_fail(p, "[group %s] %s", gname, msg);
		return 0;
	}
	return 1;
}

static int config_handle(struct ini_lines *in, const char *section, const char *name,
			 const char *value)
{
	struct config_parse *p = (struct config_parse *)in;
	char msg[320];
	if (section[0] == '\0') {
		config_fail(p, "key \"%s\" outside any [section]", name);
		return 0;
	}
	if (strncmp(section, "group ", 6) == 0)
		return config_handle_group(p, section + 6, name, value);
	if (!config_section_known(section)) {
		config_fail(p, "unknown section [%s]", section);
		return 0;
	}
	if (strcmp(section, CONFIG_LIMITS_SECTION) == 0 ||
	    (strcmp(section, "session") == 0 && strcmp(name, "reconnect_grace_s") == 0))
		return config_handle_limit(p, section, name, value);
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		if (config_set(p->c, k, value, msg, sizeof msg) == 0) {
			if (k->offset == offsetof(struct config, proxy_protocol))
				p->proxy_line = p->in.lineno;
			return 1;
		}
		config_fail(p, "%s", msg);
		return 0;
	}
	config_fail(p, "unknown key \"%s\" in section [%s]", name, section);
	return 0;
}

/* An address that binds every interface (and so clashes with any other). */
static bool config_wildcard(const char *addr)
{
	return addr[0] == '\0' || strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0 ||
	    strcmp(addr, "*") == 0 || strcmp(addr, "[::]") == 0;
}

/* Whether two listeners (port 0 = off) would bind the same port on the same address. */
static bool config_same_socket(const char *a_addr, int a_port, const char *b_addr, int b_port)
{
	if (a_port == 0 || b_port == 0 || a_port != b_port)
		return false;
	return strcmp(a_addr, b_addr) == 0 || config_wildcard(a_addr) || config_wildcard(b_addr);
}

int config_proxy_hostport(const char *proxy, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *p = proxy;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	const char *colon;
	size_t hl;
	if (p[0] == '[') {
		const char *close = strchr(p, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		hl = (size_t)(close - p - 1);
		p++;
		colon = close + 1;
	} else {
		colon = strrchr(p, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - p);
	}
	const char *ps = colon + 1;
	size_t pl = strlen(ps);
	if (pl > 0 && ps[pl - 1] == '/')
		pl--; /* "http://proxy:8080/" */
	if (hl == 0 || hl >= hostlen || pl == 0 || pl > 5 || pl >= portlen ||
	    strspn(ps, "0123456789") < pl)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if (!(isalnum((unsigned char)p[i]) || p[i] == '.' || p[i] == '-' || p[i] == ':' ||
		      p[i] == '_'))
			return -1;
	memcpy(host, p, hl);
	host[hl] = '\0';
	memcpy(port, ps, pl);
	port[pl] = '\0';
	long n = strtol(port, NULL, 10);
	return n >= 1 && n <= 65535 ? 0 : -1;
}

/* Cross-key checks after a successful parse. */
static int config_validate(const struct config *c, const char *name, char *err, size_t errlen)
{
	char host[256], port[8];
	if (c->upstream_proxy[0] != '\0' &&
	    config_proxy_hostport(c->upstream_proxy, host, sizeof host, port, sizeof port) != 0) {
		snprintf(
		    err, errlen,
		    "%s: upstream_proxy \"%.200s\" is not host:port (e.g. proxy.example.lg.jp:8080)",
		    name, c->upstream_proxy);
		return -1;
	}
	if ((long)c->session_uid_base + c->session_uid_count > 2147483647L) {
		snprintf(err, errlen, "%s: session_uid_base + session_uid_count passes 2147483647",
			 name);
		return -1;
	}
	if (c->default_width > c->max_width || c->default_height > c->max_height) {
		snprintf(err, errlen,
			 "%s: default_width x default_height exceeds max_width x max_height", name);
		return -1;
	}
	if (c->runtime_dir[0] != '/') {
		snprintf(err, errlen, "%s: runtime_dir must be an absolute path", name);
		return -1;
	}
	if (c->state_dir[0] != '/') {
		snprintf(err, errlen, "%s: state_dir must be an absolute path", name);
		return -1;
	}
	if (c->forensics_dir[0] != '/') {
		snprintf(err, errlen, "%s: forensics_dir must be an absolute path", name);
		return -1;
	}
	if (config_same_socket(c->admin_listen_address, c->admin_listen_port, c->listen_address,
			       c->listen_port)) {
		snprintf(err, errlen,
			 "%s: admin_listen_port %d is the staff listener's port (listen_port) on the "
			 "same address; the admin API needs a listener of its own",
			 name, c->admin_listen_port);
		return -1;
	}
	if (config_same_socket(c->agent_check_address, c->agent_check_port, c->listen_address,
			       c->listen_port)) {
		snprintf(err, errlen,
			 "%s: agent_check_port %d is the staff listener's port (listen_port) on the "
			 "same address; the agent-check needs a port of its own",
			 name, c->agent_check_port);
		return -1;
	}
	for (int i = 0; i < c->n_groups; i++) {
		if (c->groups[i].dn[0] == '\0') {
			snprintf(err, errlen, "%s: [group %s] has no dn (the directory group's DN)",
				 name, c->groups[i].name);
			return -1;
		}
		if (strcmp(c->auth_backend, "ldap") != 0) {
			snprintf(err, errlen,
				 "%s: [group %s]: group policies need [auth] backend = ldap (the "
				 "directory says who is in a group)",
				 name, c->groups[i].name);
			return -1;
		}
	}
	if (config_same_socket(c->agent_check_address, c->agent_check_port, c->admin_listen_address,
			       c->admin_listen_port)) {
		snprintf(
		    err, errlen,
		    "%s: agent_check_port %d is the admin listener's port (admin_listen_port) on "
		    "the same address; the agent-check needs a port of its own",
		    name, c->agent_check_port);
		return -1;
	}
	return 0;
}

/* Parse p->in's text, then the checks across keys. 0, or -1 + "name:line: ...". */
static int config_run(struct config_parse *p)
{
	if (ini_lines_parse(&p->in, config_handle) != 0)
		return -1;
	if (p->c->proxy_protocol &&
	    p->c->proxy_trusted[strspn(p->c->proxy_trusted, " \t")] == '\0') {
		snprintf(p->in.err, p->in.errlen,
			 "%s:%d: proxy_protocol = on needs proxy_trusted: the addresses of the "
			 "balancers allowed to send a PROXY header (e.g. proxy_trusted = 10.0.0.5, "
			 "10.0.0.6); without it every staff connection would be refused",
			 p->in.name, p->proxy_line);
		return -1;
	}
	return config_validate(p->c, p->in.name, p->in.err, p->in.errlen);
}

int config_load_fd(struct config *c, int fd, const char *name, char *err, size_t errlen)
{
	struct config_parse p = { .c = c, .in = { .name = name, .err = err, .errlen = errlen } };
	int dup_fd = dup(fd);
	p.in.f = dup_fd >= 0 ? fdopen(dup_fd, "r") : NULL;
	if (p.in.f == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	rewind(p.in.f);
	int rc = config_run(&p);
	fclose(p.in.f);
	return rc;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct config_parse p = { .c = c, .in = { .name = path, .err = err, .errlen = errlen } };
	p.in.f = fopen(path, "r");
	if (p.in.f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	int rc = config_run(&p);
	fclose(p.in.f);
	return rc;
}

int config_parse_string(struct config *c, const char *name, const char *text, char *err,
			size_t errlen)
{
	struct config_parse p = {
		.c = c, .in = { .name = name, .err = err, .errlen = errlen, .text = text }
	};
	p.in.len = strlen(text);
	return config_run(&p);
}

int config_check_secret_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "%s: mode %04o lets group or others read a secret; run chmod 600 %s", path,
			 (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static bool config_group_equal(const struct group_policy *a, const struct group_policy *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->dn, b->dn) == 0 &&
	    a->max_sessions_per_user == b->max_sessions_per_user &&
	    a->idle_timeout_s == b->idle_timeout_s &&
	    a->clipboard_to_browser == b->clipboard_to_browser &&
	    a->clipboard_to_terminal == b->clipboard_to_terminal && a->recording == b->recording &&
	    strcmp(a->home_page, b->home_page) == 0 &&
	    a->has_url_allowlist == b->has_url_allowlist &&
	    a->has_url_blocklist == b->has_url_blocklist &&
	    strcmp(a->url_allowlist, b->url_allowlist) == 0 &&
	    strcmp(a->url_blocklist, b->url_blocklist) == 0;
}

int config_diff(const struct config *a, const struct config *b,
		void (*each)(const char *section, const char *name, void *arg), void *arg)
{
	int n = 0;
	for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		const struct config_key *k = &config_keys[i];
		const char *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;
		bool same;
		switch (k->type) {
		case CONFIG_STR:
			same = strncmp(pa, pb, k->size) == 0;
			break;
		case CONFIG_INT:
			same = *(const int *)(const void *)pa == *(const int *)(const void *)pb;
			break;
		default:
			same = *(const bool *)(const void *)pa == *(const bool *)(const void *)pb;
			break;
		}
		if (!same) {
			n++;
			each(k->section, k->name, arg);
		}
	}
	bool groups_same = a->n_groups == b->n_groups;
	for (int i = 0; groups_same && i < a->n_groups; i++)
		groups_same = config_group_equal(&a->groups[i], &b->groups[i]);
	if (!groups_same) {
		n++;
		each("group", "*", arg);
	}
	return n;
}

void config_print_reference(void)
{
	const char *section = "";
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (strcmp(section, k->section) != 0) {
			printf("%s[%s]\n", i ? "\n" : "", k->section);
			section = k->section;
		}
		printf("# %s", k->help);
		if (k->type == CONFIG_INT)
			printf(" (%ld..%ld)", k->min, k->max);
		printf("\n%s = %s\n", k->name, k->def);
	}
	size_t n;
	const struct limits_key *lk = limits_table(&n);
	printf("\n[%s]\n", CONFIG_LIMITS_SECTION);
	printf(
	    "# defaults of the run-time limits; an administrator's changes (PATCH /api/v1/limits)\n"
	    "# are kept in state_dir/limits.json and take precedence\n");
	for (size_t i = 0; i < n; i++)
		printf("# %s (%d..%d)\n%s = %d\n", lk[i].help, lk[i].min, lk[i].max, lk[i].name,
		       lk[i].def);
}
