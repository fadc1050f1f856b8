/*
 * chromium_policy.c: check the managed Chromium policy and build a session's.
 *
 * The file is outside input (an administrator edits it): it is read with a
 * cap, parsed with duplicate keys refused, and every setting the boundary
 * depends on is checked against one table (chromium_policy_rules) with the
 * value it must have. An error names the file, the key, what is needed and
 * what was found. The session's policy is the file's, plus the
 * administrator's URL lists and the mandatory proxy settings.
 *
 * DeveloperToolsAvailability and the CDP pipe, checked on Debian 12's
 * Chromium 156.0.8078.114 (/usr/lib/chromium/chromium, run unprivileged on
 * Xvfb with its sandbox, --remote-debugging-pipe, this policy installed as
 * the managed policy): with DeveloperToolsAvailability 2 the pipe keeps
 * working. Browser.getVersion, Browser.setDownloadBehavior (also with a
 * browserContextId), Target.setDiscoverTargets, Target.getTargetInfo,
 * Target.createTarget and Target.createBrowserContext are answered,
 * Target.targetCreated / targetInfoChanged and Browser.downloadWillBegin /
 * downloadProgress arrive, and a download is canceled at 0 bytes. Only
 * attaching to a page is refused (Target.attachToTarget: -32000 "Not
 * allowed"; without the policy it works and Runtime.evaluate runs), which
 * the worker never does. So DESIGN.md's "2 also disables the CDP pipe" does
 * not hold for this Chromium, and 2 is required here: DevTools is off by
 * policy, and the worker also drops the DevTools shortcuts (F12,
 * Ctrl+Shift+I/J/C). What does kill the pipe is RemoteDebuggingAllowed
 * false: Chromium then answers no CDP command at all, so the file may only
 * set it to true. Should a later Chromium change this, the worker notices:
 * a session whose download denial is not answered does not start.
 */
#include "chromium_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest URL list entry from the configuration, bytes. */
#define CHROMIUM_POLICY_URL_MAX 2048
/* Longest proxy_server accepted, bytes. */
#define CHROMIUM_POLICY_PROXY_MAX 2048
/* Longest found value quoted in an error, characters. */
#define CHROMIUM_POLICY_QUOTE_MAX 120

enum rule_kind {
	RULE_INT,            /* an integer equal to ival */
	RULE_BOOL,           /* true or false, equal to bval */
	RULE_STRING,         /* a string equal to sval */
	RULE_LIST_HAS,       /* a list of strings holding every string of items */
	RULE_ABSENT_OR_TRUE, /* absent, or true */
};

/* One setting the boundary needs. */
struct rule {
	const char *key;
	enum rule_kind kind;
	long long ival;
	bool bval;
	const char *sval;
	const char *const *items; /* NULL-terminated */
	const char *why;          /* what the value means, for the error */
};

static const char *const rule_extensions[] = { "*", NULL };
static const char *const rule_urls[] = { "file://*", "chrome://*", "devtools://*", "view-source:*",
					 NULL };

static const struct rule chromium_policy_rules[] = {
	{ "DownloadRestrictions", RULE_INT, 3, false, NULL, NULL, "all downloads blocked" },
	{ "AllowFileSelectionDialogs", RULE_BOOL, 0, false, NULL, NULL,
	  "no file selection dialogs" },
	{ "PrintingEnabled", RULE_BOOL, 0, false, NULL, NULL, "printing off" },
	{ "IncognitoModeAvailability", RULE_INT, 1, false, NULL, NULL, "incognito off" },
	{ "BrowserGuestModeEnabled", RULE_BOOL, 0, false, NULL, NULL, "guest mode off" },
	{ "BrowserAddPersonEnabled", RULE_BOOL, 0, false, NULL, NULL, "no added profiles" },
	{ "DeveloperToolsAvailability", RULE_INT, 2, false, NULL, NULL,
	  "DevTools off; the CDP pipe keeps working" },
	{ "RemoteDebuggingAllowed", RULE_ABSENT_OR_TRUE, 0, true, NULL, NULL,
	  "false closes the CDP pipe the session needs for download denial" },
	{ "WebRtcIPHandling", RULE_STRING, 0, false, "disable_non_proxied_udp", NULL,
	  "WebRTC only through the proxy" },
	{ "AutoplayAllowed", RULE_BOOL, 0, false, NULL, NULL, "autoplay off" },
	{ "PasswordManagerEnabled", RULE_BOOL, 0, false, NULL, NULL, "no saved passwords" },
	{ "SyncDisabled", RULE_BOOL, 0, true, NULL, NULL, "sync off" },
	{ "BrowserSignin", RULE_INT, 0, false, NULL, NULL, "browser sign-in off" },
	{ "ExtensionInstallBlocklist", RULE_LIST_HAS, 0, false, NULL, rule_extensions,
	  "no extensions" },
	{ "URLBlocklist", RULE_LIST_HAS, 0, false, NULL, rule_urls,
	  "local files, browser pages, DevTools and page sources blocked" },
};

static void policy_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

static void policy_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* v as short JSON text for an error ("missing" when NULL). */
static void policy_quote(const json_t *v, char *out, size_t outlen)
{
	if (v == NULL) {
		snprintf(out, outlen, "missing");
		return;
	}
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL) {
		snprintf(out, outlen, "unprintable");
		return;
	}
	if (strlen(text) > CHROMIUM_POLICY_QUOTE_MAX)
		snprintf(out, outlen, "%.*s...", CHROMIUM_POLICY_QUOTE_MAX, text);
	else
		snprintf(out, outlen, "%s", text);
	free(text);
}

/* True if s has a control character (C0 or DEL). */
static bool policy_has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* -1 (err set) unless every member of the list at key is a string. */
static int policy_check_strings(const char *path, const char *key, json_t *list, char *err,
				size_t errlen)
{
	size_t i;
	json_t *item;
	if (!json_is_array(list)) {
		char found[CHROMIUM_POLICY_QUOTE_MAX + 8];
		policy_quote(list, found, sizeof found);
		policy_err(err, errlen, "%s: %s must be a list of strings, is %s", path, key,
			   found);
		return -1;
	}
	json_array_foreach(list, i, item) {
		if (!json_is_string(item)) {
			char found[CHROMIUM_POLICY_QUOTE_MAX + 8];
			policy_quote(item, found, sizeof found);
			policy_err(err, errlen, "%s: %s must be a list of strings, entry %zu is %s",
				   path, key, i + 1, found);
			return -1;
		}
	}
	return 0;
}

static bool policy_list_has(json_t *list, const char *want)
{
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		if (strcmp(json_string_value(item), want) == 0)
			return true;
	}
	return false;
}

/* Check one rule against the policy object. 0, or -1 with err set. */
static int policy_check_rule(const char *path, json_t *root, const struct rule *r, char *err,
			     size_t errlen)
{
	json_t *v = json_object_get(root, r->key);
	char found[CHROMIUM_POLICY_QUOTE_MAX + 8];
	policy_quote(v, found, sizeof found);
	switch (r->kind) {
	case RULE_INT:
		if (json_is_integer(v) && json_integer_value(v) == r->ival)
			return 0;
		policy_err(err, errlen, "%s: %s must be %lld (%s), is %s", path, r->key, r->ival,
			   r->why, found);
		return -1;
	case RULE_BOOL:
		if (json_is_boolean(v) && json_is_true(v) == r->bval)
			return 0;
		policy_err(err, errlen, "%s: %s must be %s (%s), is %s", path, r->key,
			   r->bval ? "true" : "false", r->why, found);
		return -1;
	case RULE_STRING:
		if (json_is_string(v) && strcmp(json_string_value(v), r->sval) == 0)
			return 0;
		policy_err(err, errlen, "%s: %s must be \"%s\" (%s), is %s", path, r->key, r->sval,
			   r->why, found);
		return -1;
	case RULE_ABSENT_OR_TRUE:
		if (v == NULL || json_is_true(v))
			return 0;
		policy_err(err, errlen, "%s: %s must be true or absent (%s), is %s", path, r->key,
			   r->why, found);
		return -1;
	case RULE_LIST_HAS:
		if (v == NULL) {
			policy_err(err, errlen,
				   "%s: %s must be a list containing \"%s\" (%s), is missing", path,
				   r->key, r->items[0], r->why);
			return -1;
		}
		if (policy_check_strings(path, r->key, v, err, errlen) != 0)
			return -1;
		for (const char *const *want = r->items; *want != NULL; want++) {
			if (!policy_list_has(v, *want)) {
				policy_err(err, errlen, "%s: %s must contain \"%s\" (%s), is %s",
					   path, r->key, *want, r->why, found);
				return -1;
			}
		}
		return 0;
	}
	return -1;
}

/* Read the file at path (at most CHROMIUM_POLICY_MAX bytes) and parse it. */
static json_t *policy_load(const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	json_t *root = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		policy_err(err, errlen, "%s: cannot open the Chromium policy: %s", path,
			   strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		policy_err(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	buf = malloc(CHROMIUM_POLICY_MAX + 1);
	if (buf == NULL) {
		policy_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	/* read one byte past the cap: a file that grew since fstat is caught too */
	size_t len = 0;
	while (len < CHROMIUM_POLICY_MAX + 1) {
		ssize_t n = read(fd, buf + len, CHROMIUM_POLICY_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			policy_err(err, errlen, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CHROMIUM_POLICY_MAX) {
		policy_err(err, errlen, "%s: the policy is larger than %d bytes", path,
			   CHROMIUM_POLICY_MAX);
		goto out;
	}
	/* jansson stops at a NUL; Chromium would refuse what follows it, and
	   with it the whole file */
	const char *nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		policy_err(err, errlen, "%s: a NUL byte at offset %zu", path, (size_t)(nul - buf));
		goto out;
	}
	json_error_t jerr;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		policy_err(err, errlen, "%s:%d: not valid JSON: %s", path, jerr.line, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		policy_err(err, errlen, "%s: the policy must be a JSON object, is a %s", path,
			   json_is_array(root) ? "list" : "single value");
		json_decref(root);
		root = NULL;
	}
out:
	free(buf);
	close(fd);
	return root;
}

/*
 * Append the comma-separated entries of csv (from [policy] name) to the list
 * at key of root, creating it if needed. 0, or -1 with err set.
 */
static int policy_merge_list(json_t *root, const char *key, const char *name, const char *csv,
			     char *err, size_t errlen)
{
	if (csv == NULL || csv[0] == '\0')
		return 0;
	json_t *list = json_object_get(root, key);
	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(root, key, list) != 0)
			goto oom;
	}
	int index = 0;
	const char *p = csv;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n > 0) {
			index++;
			if (n > CHROMIUM_POLICY_URL_MAX) {
				policy_err(
				    err, errlen,
				    "[policy] %s: entry %d (\"%.40s...\") is longer than %d bytes",
				    name, index, s, CHROMIUM_POLICY_URL_MAX);
				return -1;
			}
			char entry[CHROMIUM_POLICY_URL_MAX + 1];
			memcpy(entry, s, n);
			entry[n] = '\0';
			if (policy_has_control(entry)) {
				policy_err(err, errlen,
					   "[policy] %s: entry %d has a control character", name,
					   index);
				return -1;
			}
			json_t *str = json_string(entry);
			if (str == NULL) {
				policy_err(err, errlen, "[policy] %s: entry %d is not valid UTF-8",
					   name, index);
				return -1;
			}
			if (json_array_append_new(list, str) != 0)
				goto oom;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
oom:
	policy_err(err, errlen, "[policy] %s: out of memory", name);
	return -1;
}

int chromium_policy_build(const char *path, const char *allowlist, const char *blocklist,
			  const char *proxy_server, char **json_out, char *err, size_t errlen)
{
	*json_out = NULL;
	json_t *root = policy_load(path, err, errlen);
	if (root == NULL)
		return -1;
	if (json_object_get(root, "ProxySettings") != NULL) {
		policy_err(err, errlen,
			   "%s: ProxySettings must not be in the file (pixelgate sets each session's "
			   "proxy), but it is",
			   path);
		goto fail;
	}
	for (size_t i = 0; i < sizeof chromium_policy_rules / sizeof chromium_policy_rules[0]; i++)
		if (policy_check_rule(path, root, &chromium_policy_rules[i], err, errlen) != 0)
			goto fail;
	json_t *allow = json_object_get(root, "URLAllowlist");
	if (allow != NULL && policy_check_strings(path, "URLAllowlist", allow, err, errlen) != 0)
		goto fail;
	if (policy_merge_list(root, "URLAllowlist", "url_allowlist", allowlist, err, errlen) != 0 ||
	    policy_merge_list(root, "URLBlocklist", "url_blocklist", blocklist, err, errlen) != 0)
		goto fail;
	if (proxy_server != NULL) {
		size_t n = strlen(proxy_server);
		if (n == 0 || n > CHROMIUM_POLICY_PROXY_MAX || policy_has_control(proxy_server) ||
		    strpbrk(proxy_server, " \t,;") != NULL) {
			policy_err(err, errlen,
				   "proxy server \"%.60s\" for the Chromium policy: want host:port",
				   proxy_server);
			goto fail;
		}
		json_t *proxy = json_pack("{s:s, s:s, s:s}", "ProxyMode", "fixed_servers",
					  "ProxyServer", proxy_server, "ProxyBypassList",
					  "<-loopback>");
		if (proxy == NULL || json_object_set_new(root, "ProxySettings", proxy) != 0) {
			policy_err(err, errlen, "proxy server \"%.60s\": not valid UTF-8",
				   proxy_server);
			goto fail;
		}
	}
	*json_out = json_dumps(root, JSON_INDENT(2));
	if (*json_out == NULL) {
		policy_err(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return -1;
}
