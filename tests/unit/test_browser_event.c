/*
 * test_browser_event.c: what the gateway records of a worker's browser event
 * (browser_event_parse, proxy/common/browser_event.c), as a security
 * reviewer reads the audit log and as a compromised worker would try it.
 * Each known event keeps exactly its own fields; a navigate with a long
 * Japanese title keeps its title, cut between characters and marked, at
 * every length around the cap (the bug: cut in the middle of a character,
 * refused by jansson, the title silently missing); hostile payloads (not
 * JSON, not an object, unknown or mistyped event, duplicate keys, fields of
 * the wrong type, controls, invalid escapes, huge strings, deep nesting)
 * are refused or cleaned, never passed through.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browser_event.h"
#include "utf8.h"

#define CAP (BROWSER_EVENT_FIELD_MAX - 1)

/* The string field key of fields ("(absent)" / "(not a string)" otherwise). */
static const char *field(json_t *fields, const char *key)
{
	json_t *v = json_object_get(fields, key);
	if (v == NULL)
		return "(absent)";
	return json_is_string(v) ? json_string_value(v) : "(not a string)";
}

/* The fields as compact JSON with sorted keys, to compare whole records. */
static char *dump(json_t *fields)
{
	char *s = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_not_null(s);
	return s;
}

struct event_case {
	const char *what;
	const char *payload;
	const char *event;  /* NULL: refused */
	const char *fields; /* expected record fields, JSON with sorted keys */
};

Test(browser_event, each_known_event_keeps_exactly_its_own_fields)
{
	static const struct event_case cases[] = {
		{ "navigate as the worker sends it",
		  "{\"event\":\"navigate\",\"url\":\"https://www.city.tama.lg.jp/\","
		  "\"title\":\"\xe5\xa4\x9a\xe6\x91\xa9\xe5\xb8\x82\",\"target\":\"A1B2\"}",
		  "navigate",
		  "{\"target\":\"A1B2\",\"title\":\"\xe5\xa4\x9a\xe6\x91\xa9\xe5\xb8\x82\","
		  "\"url\":\"https://www.city.tama.lg.jp/\"}" },
		{ "new tab", "{\"event\":\"new_tab\",\"url\":\"about:blank\",\"target\":\"T\"}",
		  "new_tab", "{\"target\":\"T\",\"title\":\"\",\"url\":\"about:blank\"}" },
		{ "download: filename instead of title",
		  "{\"event\":\"download_blocked\",\"url\":\"https://x.example/a.exe\","
		  "\"filename\":\"a.exe\",\"title\":\"not kept\"}",
		  "download_blocked",
		  "{\"filename\":\"a.exe\",\"target\":\"\",\"url\":\"https://x.example/a.exe\"}" },
		{ "file dialog",
		  "{\"event\":\"file_dialog_blocked\",\"url\":\"https://u.example/\"}",
		  "file_dialog_blocked",
		  "{\"target\":\"\",\"title\":\"\",\"url\":\"https://u.example/\"}" },
		{ "shortcut: keys only",
		  "{\"event\":\"shortcut_blocked\",\"keys\":\"Ctrl+Shift+N\",\"url\":\"x\"}",
		  "shortcut_blocked", "{\"keys\":\"Ctrl+Shift+N\"}" },
		{ "limit: limit and detail",
		  "{\"event\":\"limit_exceeded\",\"limit\":\"memory\",\"detail\":\"2100 MiB\"}",
		  "limit_exceeded", "{\"detail\":\"2100 MiB\",\"limit\":\"memory\"}" },
		{ "clipboard refused: the reason only (the gateway sets direction and result)",
		  "{\"event\":\"clipboard_refused\",\"reason\":\"the copy is not text\","
		  "\"result\":\"passed\",\"direction\":\"to_browser\"}",
		  "clipboard_refused", "{\"reason\":\"the copy is not text\"}" },
		{ "extra keys are dropped, reserved names too",
		  "{\"event\":\"navigate\",\"url\":\"u\",\"user\":\"root\",\"seq\":1,\"mac\":\"00\","
		  "\"evil\":\"x\"}",
		  "navigate", "{\"target\":\"\",\"title\":\"\",\"url\":\"u\"}" },
		{ "fields of the wrong type become empty",
		  "{\"event\":\"navigate\",\"url\":42,\"title\":{\"a\":1},\"target\":null}",
		  "navigate", "{\"target\":\"\",\"title\":\"\",\"url\":\"\"}" },
		{ "an array where a string belongs",
		  "{\"event\":\"download_blocked\",\"url\":[\"a\",\"b\"],\"filename\":true}",
		  "download_blocked", "{\"filename\":\"\",\"target\":\"\",\"url\":\"\"}" },
		{ "control characters in a title (a forged log line)",
		  "{\"event\":\"navigate\",\"url\":\"u\",\"title\":\"a\\nb\\u001b[2J\\u009b\\u007f\"}",
		  "navigate", "{\"target\":\"\",\"title\":\"a?b?[2J??\",\"url\":\"u\"}" },
		{ "escaped non-ASCII is kept as the character",
		  "{\"event\":\"navigate\",\"url\":\"u\",\"title\":\"\\u3042\\ud83d\\ude00\"}",
		  "navigate",
		  "{\"target\":\"\",\"title\":\"\xe3\x81\x82\xf0\x9f\x98\x80\",\"url\":\"u\"}" },
		/* refused */
		{ "not JSON", "navigate https://x", NULL, NULL },
		{ "empty", "", NULL, NULL },
		{ "a JSON array", "[\"navigate\"]", NULL, NULL },
		{ "a JSON string", "\"navigate\"", NULL, NULL },
		{ "no event", "{\"url\":\"https://x\"}", NULL, NULL },
		{ "event not a string", "{\"event\":1,\"url\":\"u\"}", NULL, NULL },
		{ "event null", "{\"event\":null}", NULL, NULL },
		{ "unknown event", "{\"event\":\"session_end\",\"url\":\"u\"}", NULL, NULL },
		{ "a known name with a suffix", "{\"event\":\"navigated\"}", NULL, NULL },
		{ "a known name in upper case", "{\"event\":\"NAVIGATE\"}", NULL, NULL },
		{ "a known name with a NUL after it", "{\"event\":\"navigate\\u0000x\"}", NULL,
		  NULL },
		{ "duplicate event keys", "{\"event\":\"navigate\",\"event\":\"new_tab\"}", NULL,
		  NULL },
		{ "duplicate field keys", "{\"event\":\"navigate\",\"url\":\"a\",\"url\":\"b\"}",
		  NULL, NULL },
		{ "a lone surrogate escape", "{\"event\":\"navigate\",\"title\":\"\\ud800\"}", NULL,
		  NULL },
		{ "raw invalid UTF-8 in the JSON",
		  "{\"event\":\"navigate\",\"title\":\"\xe3\x81\"}", NULL, NULL },
		{ "trailing garbage", "{\"event\":\"navigate\"} x", NULL, NULL },
		{ "two objects", "{\"event\":\"navigate\"}{\"event\":\"new_tab\"}", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct event_case *c = &cases[i];
		json_t *fields = (json_t *)0x1;
		const char *event = browser_event_parse(c->payload, &fields);
		if (c->event == NULL) {
			cr_expect_null(event, "%s: accepted as %s", c->what, event);
			cr_expect_null(fields, "%s: fields left behind", c->what);
			json_decref(fields);
			continue;
		}
		cr_expect_str_eq(event != NULL ? event : "(refused)", c->event, "%s", c->what);
		if (event == NULL)
			continue;
		char *got = dump(fields);
		cr_expect_str_eq(got, c->fields, "%s", c->what);
		free(got);
		json_decref(fields);
	}
}

/* A navigate whose title is prefix ASCII bytes then n copies of ch. */
static char *navigate_with_title(size_t prefix, const char *ch, size_t n, char **title_out)
{
	size_t w = strlen(ch);
	char *title = malloc(prefix + n * w + 1);
	cr_assert_not_null(title);
	memset(title, 't', prefix);
	for (size_t i = 0; i < n; i++)
		memcpy(title + prefix + i * w, ch, w);
	title[prefix + n * w] = '\0';
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "event", "navigate", "url",
			       "https://www.city.tama.lg.jp/", "title", title, "target", "T1");
	cr_assert_not_null(ev);
	char *text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	*title_out = title;
	return text;
}

/* Titles of ch at every length around the cap keep their title, cut whole. */
static void check_long_titles(const char *ch)
{
	size_t w = strlen(ch);
	for (size_t prefix = 0; prefix < w; prefix++) {
		for (size_t n = (CAP - 8) / w; n <= (CAP + 8) / w; n++) {
			char *title;
			char *payload = navigate_with_title(prefix, ch, n, &title);
			json_t *fields;
			const char *event = browser_event_parse(payload, &fields);
			cr_assert_str_eq(event ? event : "(refused)", "navigate");
			const char *got = field(fields, "title");
			size_t len = strlen(title), glen = strlen(got);
			cr_assert(json_is_string(json_object_get(fields, "title")),
				  "%zu ASCII + %zu characters of %zu bytes (%zu bytes): the title "
				  "is %s",
				  prefix, n, w, len, got);
			cr_assert_leq(glen, CAP, "title of %zu bytes recorded as %zu", len, glen);
			if (len <= CAP) {
				cr_assert_str_eq(got, title, "a title of %zu bytes fits whole",
						 len);
			} else {
				/* the most whole characters that fit with the mark */
				size_t keep = prefix + (CAP - 3 - prefix) / w * w;
				cr_assert_eq(glen, keep + 3,
					     "%zu ASCII + %zu characters of %zu bytes: %zu bytes "
					     "recorded, expected %zu and the mark",
					     prefix, n, w, glen, keep);
				cr_assert_eq(memcmp(got, title, keep), 0);
				cr_assert_str_eq(got + keep, UTF8_CUT_MARK);
			}
			/* what the audit writer does with it next: a JSON record */
			char *line = json_dumps(fields, JSON_COMPACT);
			cr_assert_not_null(line);
			const char *t = strstr(line, "\"title\":\"");
			cr_assert(t != NULL && t[9] != '"', "the record has no title: %.80s", line);
			free(line);
			json_decref(fields);
			free(payload);
			free(title);
		}
	}
}

Test(browser_event, a_long_japanese_title_is_kept_and_cut_between_characters)
{
	check_long_titles("\xe6\x9d\xb1");     /* 東: 3 bytes */
	check_long_titles("\xf0\xa0\xae\xb7"); /* 𠮷: 4 bytes */
	check_long_titles("\xc3\xa9");         /* é: 2 bytes */
}

Test(browser_event, every_field_is_capped_not_only_the_title)
{
	/* three fields of 3000 bytes (more than one IPC message carries in all) */
	static char big[3000];
	memset(big, 'u', sizeof big - 1);
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "event", "download_blocked", "url", big,
			       "filename", big, "target", big);
	char *payload = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	json_t *fields;
	cr_assert_str_eq(browser_event_parse(payload, &fields), "download_blocked");
	const char *keys[] = { "url", "filename", "target" };
	for (size_t i = 0; i < 3; i++) {
		const char *v = field(fields, keys[i]);
		cr_expect_eq(strlen(v), CAP, "%s: %zu bytes", keys[i], strlen(v));
		cr_expect_str_eq(v + CAP - 3, UTF8_CUT_MARK, "%s: cut without its mark", keys[i]);
	}
	json_decref(fields);
	free(payload);
}

Test(browser_event, deep_nesting_is_refused_or_ignored_without_a_crash)
{
	/* 100000 nested arrays: far past jansson's depth limit, in a field and as the whole */
	size_t depth = 100000;
	char *p = malloc(2 * depth + 64);
	cr_assert_not_null(p);
	size_t o = (size_t)sprintf(p, "{\"event\":\"navigate\",\"title\":");
	memset(p + o, '[', depth);
	memset(p + o + depth, ']', depth);
	strcpy(p + o + 2 * depth, "}");
	json_t *fields;
	cr_expect_null(browser_event_parse(p, &fields), "a document too deep for the parser");
	cr_expect_null(fields);
	memset(p, '[', depth);
	memset(p + depth, ']', depth);
	p[2 * depth] = '\0';
	cr_expect_null(browser_event_parse(p, &fields));
	free(p);

	/* nesting the parser takes, where a string belongs: an empty field */
	const char *ok = "{\"event\":\"new_tab\",\"url\":[[[[[[[[[[{\"a\":[1]}]]]]]]]]]]}";
	cr_assert_str_eq(browser_event_parse(ok, &fields), "new_tab");
	cr_expect_str_eq(field(fields, "url"), "");
	json_decref(fields);
}
