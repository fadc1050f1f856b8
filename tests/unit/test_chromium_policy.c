/*
 * test_chromium_policy.c: the managed Chromium policy check and the session's
 * policy. The shipped deploy/chromium-policy.json passes; a file with any
 * required setting missing or wrong, too big, not JSON, with a duplicate key
 * or with its own ProxySettings is refused with an error naming the file,
 * the key, what is needed and what was found; the administrator's URL lists
 * and the session's proxy are merged in.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chromium_policy.h"

/* The shipped policy: PIXELGATE_SOURCE_DIR if the build gives it, else found
   from this file's own (absolute, under CMake) path. */
static void shipped_path(char *out, size_t outlen)
{
#ifdef PIXELGATE_SOURCE_DIR
	snprintf(out, outlen, "%s/deploy/chromium-policy.json", PIXELGATE_SOURCE_DIR);
#else
	char here[PATH_MAX];
	snprintf(here, sizeof here, "%s", __FILE__);
	char *slash = strstr(here, "/tests/unit/");
	cr_assert(slash != NULL, "cannot find the source tree from %s", __FILE__);
	*slash = '\0';
	snprintf(out, outlen, "%s/deploy/chromium-policy.json", here);
#endif
}

static char tmpdir[64];
static char tmpfile_path[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pg-policy-XXXXXX");
	cr_assert(mkdtemp(tmpdir) != NULL);
	snprintf(tmpfile_path, sizeof tmpfile_path, "%s/policy.json", tmpdir);
}

static void teardown(void)
{
	unlink(tmpfile_path);
	rmdir(tmpdir);
}

static void write_text(const char *text, size_t len)
{
	FILE *f = fopen(tmpfile_path, "wb");
	cr_assert(f != NULL);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* The shipped policy as a JSON object (the caller's reference). */
static json_t *shipped(void)
{
	char path[PATH_MAX];
	json_error_t jerr;
	shipped_path(path, sizeof path);
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert(json_is_object(o), "%s: %s", path, jerr.text);
	return o;
}

/* Write o (stolen) to the temp file. */
static void write_policy(json_t *o)
{
	char *text = json_dumps(o, JSON_INDENT(2));
	cr_assert(text != NULL);
	write_text(text, strlen(text));
	free(text);
	json_decref(o);
}

/* Build from the temp file; the error when refused, NULL when accepted. */
static const char *build_err(const char *allow, const char *block, const char *proxy)
{
	static char err[512];
	char *out = (char *)"untouched";
	int rc = chromium_policy_build(tmpfile_path, allow, block, proxy, &out, err, sizeof err);
	if (rc == 0) {
		cr_assert(out != NULL);
		free(out);
		return NULL;
	}
	cr_assert_eq(rc, -1);
	cr_assert_null(out, "a refused policy still gave a text");
	return err;
}

/* Build from the temp file, which must pass; the session's policy (decref it). */
static json_t *build_ok(const char *allow, const char *block, const char *proxy)
{
	char err[512], *out = NULL;
	cr_assert_eq(chromium_policy_build(tmpfile_path, allow, block, proxy, &out, err,
					   sizeof err),
		     0, "refused: %s", err);
	json_error_t jerr;
	json_t *o = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert(json_is_object(o), "the built policy is not a JSON object: %s", jerr.text);
	free(out);
	return o;
}

static void assert_err(const char *got, const char *want_suffix)
{
	char want[1024];
	snprintf(want, sizeof want, "%s: %s", tmpfile_path, want_suffix);
	cr_assert(got != NULL, "accepted, want \"%s\"", want);
	cr_assert_str_eq(got, want);
}

Test(chromium_policy, the_shipped_policy_passes_unchanged)
{
	char path[PATH_MAX], err[512], *out = NULL;
	shipped_path(path, sizeof path);
	cr_assert_eq(chromium_policy_build(path, "", "", NULL, &out, err, sizeof err), 0,
		     "the shipped policy is refused: %s", err);
	json_error_t jerr;
	json_t *built = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
	json_t *file = shipped();
	cr_assert(json_equal(built, file),
		  "with no lists and no proxy the policy is not the file's");
	cr_assert_null(json_object_get(built, "ProxySettings"));
	json_decref(built);
	json_decref(file);
	free(out);
}

Test(chromium_policy, each_required_setting_missing_is_named, .init = setup, .fini = teardown)
{
	static const struct {
		const char *key, *err;
	} cases[] = {
		{ "DownloadRestrictions",
		  "DownloadRestrictions must be 3 (all downloads blocked), is missing" },
		{ "AllowFileSelectionDialogs",
		  "AllowFileSelectionDialogs must be false (no file selection dialogs), is missing" },
		{ "PrintingEnabled", "PrintingEnabled must be false (printing off), is missing" },
		{ "IncognitoModeAvailability",
		  "IncognitoModeAvailability must be 1 (incognito off), is missing" },
		{ "BrowserGuestModeEnabled",
		  "BrowserGuestModeEnabled must be false (guest mode off), is missing" },
		{ "BrowserAddPersonEnabled",
		  "BrowserAddPersonEnabled must be false (no added profiles), is missing" },
		{ "DeveloperToolsAvailability",
		  "DeveloperToolsAvailability must be 2 (DevTools off; the CDP pipe keeps working), is missing" },
		{ "WebRtcIPHandling",
		  "WebRtcIPHandling must be \"disable_non_proxied_udp\" (WebRTC only through the proxy), is missing" },
		{ "AutoplayAllowed", "AutoplayAllowed must be false (autoplay off), is missing" },
		{ "PasswordManagerEnabled",
		  "PasswordManagerEnabled must be false (no saved passwords), is missing" },
		{ "SyncDisabled", "SyncDisabled must be true (sync off), is missing" },
		{ "BrowserSignin", "BrowserSignin must be 0 (browser sign-in off), is missing" },
		{ "ExtensionInstallBlocklist",
		  "ExtensionInstallBlocklist must be a list containing \"*\" (no extensions), is missing" },
		{ "URLBlocklist",
		  "URLBlocklist must be a list containing \"file://*\" (local files, browser pages, DevTools and page sources blocked), is missing" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *o = shipped();
		cr_assert_eq(json_object_del(o, cases[i].key), 0, "%s is not in the shipped policy",
			     cases[i].key);
		write_policy(o);
		assert_err(build_err("", "", NULL), cases[i].err);
	}
}

Test(chromium_policy, each_required_setting_with_a_wrong_value_says_what_it_is, .init = setup,
     .fini = teardown)
{
	static const struct {
		const char *key, *value, *err;
	} cases[] = {
		{ "DownloadRestrictions", "0",
		  "DownloadRestrictions must be 3 (all downloads blocked), is 0" },
		{ "DownloadRestrictions", "\"3\"",
		  "DownloadRestrictions must be 3 (all downloads blocked), is \"3\"" },
		{ "DownloadRestrictions", "3.0",
		  "DownloadRestrictions must be 3 (all downloads blocked), is 3.0" },
		{ "AllowFileSelectionDialogs", "true",
		  "AllowFileSelectionDialogs must be false (no file selection dialogs), is true" },
		{ "PrintingEnabled", "0", "PrintingEnabled must be false (printing off), is 0" },
		{ "IncognitoModeAvailability", "0",
		  "IncognitoModeAvailability must be 1 (incognito off), is 0" },
		{ "IncognitoModeAvailability", "2",
		  "IncognitoModeAvailability must be 1 (incognito off), is 2" },
		{ "BrowserGuestModeEnabled", "true",
		  "BrowserGuestModeEnabled must be false (guest mode off), is true" },
		{ "BrowserAddPersonEnabled", "null",
		  "BrowserAddPersonEnabled must be false (no added profiles), is null" },
		{ "DeveloperToolsAvailability", "1",
		  "DeveloperToolsAvailability must be 2 (DevTools off; the CDP pipe keeps working), is 1" },
		{ "RemoteDebuggingAllowed", "false",
		  "RemoteDebuggingAllowed must be true or absent (false closes the CDP pipe the session needs for download denial), is false" },
		{ "WebRtcIPHandling", "\"default\"",
		  "WebRtcIPHandling must be \"disable_non_proxied_udp\" (WebRTC only through the proxy), is \"default\"" },
		{ "AutoplayAllowed", "true",
		  "AutoplayAllowed must be false (autoplay off), is true" },
		{ "PasswordManagerEnabled", "true",
		  "PasswordManagerEnabled must be false (no saved passwords), is true" },
		{ "SyncDisabled", "false", "SyncDisabled must be true (sync off), is false" },
		{ "BrowserSignin", "1", "BrowserSignin must be 0 (browser sign-in off), is 1" },
		{ "ExtensionInstallBlocklist", "[]",
		  "ExtensionInstallBlocklist must contain \"*\" (no extensions), is []" },
		{ "ExtensionInstallBlocklist", "\"*\"",
		  "ExtensionInstallBlocklist must be a list of strings, is \"*\"" },
		{ "URLBlocklist", "[\"file://*\",\"chrome://*\",\"view-source:*\"]",
		  "URLBlocklist must contain \"devtools://*\" (local files, browser pages, DevTools and page sources blocked), is [\"file://*\",\"chrome://*\",\"view-source:*\"]" },
		{ "URLBlocklist", "[\"file://*\",\"chrome://*\",\"devtools://*\"]",
		  "URLBlocklist must contain \"view-source:*\" (local files, browser pages, DevTools and page sources blocked), is [\"file://*\",\"chrome://*\",\"devtools://*\"]" },
		{ "URLBlocklist",
		  "[\"file://*\",\"chrome://*\",\"devtools://*\",\"view-source:*\",7]",
		  "URLBlocklist must be a list of strings, entry 5 is 7" },
		{ "URLAllowlist", "[\"chrome://newtab\",{}]",
		  "URLAllowlist must be a list of strings, entry 2 is {}" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *o = shipped();
		json_t *v = json_loads(cases[i].value, JSON_DECODE_ANY, NULL);
		cr_assert(v != NULL, "case %zu", i);
		json_object_set_new(o, cases[i].key, v);
		write_policy(o);
		assert_err(build_err("", "", NULL), cases[i].err);
	}
	/* RemoteDebuggingAllowed true is as good as absent */
	json_t *o = shipped();
	json_object_set_new(o, "RemoteDebuggingAllowed", json_true());
	write_policy(o);
	cr_assert_null(build_err("", "", NULL));
}

Test(chromium_policy, a_file_of_more_than_64_KiB_is_refused, .init = setup, .fini = teardown)
{
	/* the shipped policy padded with spaces to exactly the cap passes ... */
	char path[PATH_MAX];
	shipped_path(path, sizeof path);
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL);
	char *text = calloc(1, CHROMIUM_POLICY_MAX + 2);
	size_t n = fread(text, 1, CHROMIUM_POLICY_MAX, f);
	fclose(f);
	cr_assert(n > 0 && n < CHROMIUM_POLICY_MAX);
	memset(text + n, ' ', CHROMIUM_POLICY_MAX - n);
	write_text(text, CHROMIUM_POLICY_MAX);
	cr_assert_null(build_err("", "", NULL), "a policy of exactly the cap is refused");
	/* ... one byte more does not */
	text[CHROMIUM_POLICY_MAX] = ' ';
	write_text(text, CHROMIUM_POLICY_MAX + 1);
	assert_err(build_err("", "", NULL), "the policy is larger than 65536 bytes");
	free(text);
}

Test(chromium_policy, what_is_not_a_json_object_is_refused, .init = setup, .fini = teardown)
{
	static const struct {
		const char *text;
		size_t len;
		const char *err;
	} cases[] = {
		{ "", 0, ":1: not valid JSON: '[' or '{' expected near end of file" },
		{ "{\"DownloadRestrictions\": 3,", 27,
		  ":1: not valid JSON: string or '}' expected near end of file" },
		{ "{\"DownloadRestrictions\": 3}\n}", 29,
		  ":2: not valid JSON: end of file expected near '}'" },
		{ "{\"a\": \"\xff\"}", 10,
		  ":1: not valid JSON: unable to decode byte 0xff near '\"'" },
		{ "{\"a\": 1}\0{}", 11, ": a NUL byte at offset 8" },
		{ "{\"a\": \"x\0y\"}", 12, ": a NUL byte at offset 8" },
		{ "[1, 2]", 6, ": the policy must be a JSON object, is a list" },
		{ "3", 1, ":1: not valid JSON: '[' or '{' expected near '3'" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_text(cases[i].text, cases[i].len);
		const char *got = build_err("", "", NULL);
		char want[640];
		snprintf(want, sizeof want, "%s%s", tmpfile_path, cases[i].err);
		cr_assert(got != NULL, "case %zu accepted", i);
		cr_assert_str_eq(got, want, "case %zu", i);
	}
}

Test(chromium_policy, a_duplicate_key_is_refused, .init = setup, .fini = teardown)
{
	/* the shipped policy with a second DownloadRestrictions at its end: a
	   reader that keeps the last one would allow downloads */
	json_t *o = shipped();
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	size_t len = strlen(text);
	static const char dup[] = ",\"DownloadRestrictions\":0}";
	text = realloc(text, len + sizeof dup);
	memcpy(text + len - 1, dup, sizeof dup);
	write_text(text, strlen(text));
	free(text);
	const char *got = build_err("", "", NULL);
	cr_assert(got != NULL, "a duplicate key was accepted");
	cr_assert(strstr(got, tmpfile_path) == got && strstr(got, "duplicate object key") != NULL,
		  "error \"%s\" does not name the file and the duplicate key", got);
}

Test(chromium_policy, proxy_settings_in_the_file_are_refused, .init = setup, .fini = teardown)
{
	json_t *o = shipped();
	json_object_set_new(o, "ProxySettings", json_pack("{s:s}", "ProxyMode", "direct"));
	write_policy(o);
	assert_err(
	    build_err("", "", "127.0.0.1:3128"),
	    "ProxySettings must not be in the file (pixelgate sets each session's proxy), but it is");
}

Test(chromium_policy, a_missing_file_or_a_directory_is_refused, .init = setup, .fini = teardown)
{
	char err[512], *out = NULL;
	char missing[160];
	snprintf(missing, sizeof missing, "%s/none.json", tmpdir);
	cr_assert_eq(chromium_policy_build(missing, "", "", NULL, &out, err, sizeof err), -1);
	char want[640];
	snprintf(want, sizeof want,
		 "%s: cannot open the Chromium policy: No such file or directory", missing);
	cr_assert_str_eq(err, want);
	cr_assert_eq(chromium_policy_build(tmpdir, "", "", NULL, &out, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", tmpdir);
	cr_assert_str_eq(err, want);
	cr_assert_null(out);
}

Test(chromium_policy, the_url_lists_are_appended_trimmed_and_without_empty_entries, .init = setup,
     .fini = teardown)
{
	write_policy(shipped());
	json_t *built = build_ok(" https://portal.example.lg.jp/* ,, ,\thttps://b.example/x\t",
				 "example.com,  *.ads.example ,", NULL);
	json_t *file = shipped();
	json_t *allow = json_object_get(built, "URLAllowlist");
	json_t *block = json_object_get(built, "URLBlocklist");
	size_t fa = json_array_size(json_object_get(file, "URLAllowlist"));
	size_t fb = json_array_size(json_object_get(file, "URLBlocklist"));
	cr_assert_eq(json_array_size(allow), fa + 2);
	cr_assert_eq(json_array_size(block), fb + 2);
	for (size_t i = 0; i < fa; i++)
		cr_assert(json_equal(json_array_get(allow, i),
				     json_array_get(json_object_get(file, "URLAllowlist"), i)),
			  "the file's allowlist entry %zu is not kept first", i);
	for (size_t i = 0; i < fb; i++)
		cr_assert(json_equal(json_array_get(block, i),
				     json_array_get(json_object_get(file, "URLBlocklist"), i)),
			  "the file's blocklist entry %zu is not kept first", i);
	cr_assert_str_eq(json_string_value(json_array_get(allow, fa)),
			 "https://portal.example.lg.jp/*");
	cr_assert_str_eq(json_string_value(json_array_get(allow, fa + 1)), "https://b.example/x");
	cr_assert_str_eq(json_string_value(json_array_get(block, fb)), "example.com");
	cr_assert_str_eq(json_string_value(json_array_get(block, fb + 1)), "*.ads.example");
	/* everything else is the file's */
	json_object_del(built, "URLAllowlist");
	json_object_del(built, "URLBlocklist");
	json_object_del(file, "URLAllowlist");
	json_object_del(file, "URLBlocklist");
	cr_assert(json_equal(built, file));
	json_decref(built);
	json_decref(file);
}

Test(chromium_policy, an_allowlist_is_created_when_the_file_has_none, .init = setup,
     .fini = teardown)
{
	json_t *o = shipped();
	json_object_del(o, "URLAllowlist");
	write_policy(o);
	json_t *built = build_ok("https://a.example", NULL, NULL);
	json_t *allow = json_object_get(built, "URLAllowlist");
	cr_assert_eq(json_array_size(allow), 1);
	cr_assert_str_eq(json_string_value(json_array_get(allow, 0)), "https://a.example");
	json_decref(built);
}

Test(chromium_policy, hostile_url_list_entries_are_refused, .init = setup, .fini = teardown)
{
	write_policy(shipped());
	char *longest = malloc(2048 + 2 + 4);
	memcpy(longest, "a.b,", 4);
	memset(longest + 4, 'x', 2048);
	longest[4 + 2048] = '\0';
	cr_assert_null(build_err(longest, "", NULL), "an entry of 2048 bytes is refused");
	longest[4 + 2048] = 'y';
	longest[4 + 2049] = '\0';
	const char *got = build_err(longest, "", NULL);
	cr_assert(got != NULL);
	cr_assert_str_eq(
	    got,
	    "[policy] url_allowlist: entry 2 (\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\") "
	    "is longer than 2048 bytes");
	free(longest);
	got = build_err("", "a.example, b.example\x01", NULL);
	cr_assert(got != NULL);
	cr_assert_str_eq(got, "[policy] url_blocklist: entry 2 has a control character");
	got = build_err("", "a.example\x7f", NULL);
	cr_assert(got != NULL);
	cr_assert_str_eq(got, "[policy] url_blocklist: entry 1 has a control character");
	got = build_err("\xc3\x28.example", "", NULL);
	cr_assert(got != NULL);
	cr_assert_str_eq(got, "[policy] url_allowlist: entry 1 is not valid UTF-8");
	/* a real host name in Japanese is fine */
	cr_assert_null(build_err("https://例え.jp/*", "", NULL));
}

Test(chromium_policy, the_sessions_proxy_is_mandatory_and_covers_loopback, .init = setup,
     .fini = teardown)
{
	write_policy(shipped());
	json_t *built = build_ok("", "", "127.0.0.1:3128");
	json_t *p = json_object_get(built, "ProxySettings");
	cr_assert(json_is_object(p), "no ProxySettings in the session's policy");
	cr_assert_eq(json_object_size(p), 3);
	cr_assert_str_eq(json_string_value(json_object_get(p, "ProxyMode")), "fixed_servers");
	cr_assert_str_eq(json_string_value(json_object_get(p, "ProxyServer")), "127.0.0.1:3128");
	cr_assert_str_eq(json_string_value(json_object_get(p, "ProxyBypassList")), "<-loopback>");
	json_decref(built);

	static const char *const bad[] = { "", "127.0.0.1:3128;direct://", "a b:1", "h:1\n",
					   "h:1,direct://" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *got = build_err("", "", bad[i]);
		cr_assert(got != NULL, "proxy \"%s\" accepted", bad[i]);
		cr_assert(strstr(got, "want host:port") != NULL, "%s", got);
	}
}
