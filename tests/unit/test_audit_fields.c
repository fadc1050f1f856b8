/*
 * test_audit_fields.c: the fields of an audit record as the writer builds
 * them (proxy/common/audit_fields.c), as a security reviewer reads them and
 * as a hostile client, page or worker would like them to be. The four
 * fields every record has are always there; an event's own fields cannot
 * take the record's names (a page cannot claim to be another user), only
 * strings, integers and booleans are kept, at most 32 of them with names of
 * at most 64 bytes; strings are valid UTF-8 without NUL, cut between
 * characters with U+2026 at the cap (2048 and the shorter 256) whatever
 * their length; the event's own object is left as it was.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_fields.h"
#include "utf8.h"

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL)
		return "(absent)";
	return json_is_string(v) ? json_string_value(v) : "(not a string)";
}

Test(audit_fields, every_record_has_event_user_client_and_session)
{
	json_t *f = audit_fields_make("login", "alice", "192.0.2.7", NULL, NULL, AUDIT_FIELD_MAX,
				      false);
	cr_assert_not_null(f);
	cr_expect_eq(json_object_size(f), 4);
	cr_expect_str_eq(str(f, "event"), "login");
	cr_expect_str_eq(str(f, "user"), "alice");
	cr_expect_str_eq(str(f, "client"), "192.0.2.7");
	cr_expect_str_eq(str(f, "session"), "", "no session: an empty string, not absent");
	json_decref(f);
	json_t *extra = json_string("not an object");
	f = audit_fields_make("startup", NULL, NULL, NULL, extra, AUDIT_FIELD_MAX, false);
	cr_expect_eq(json_object_size(f), 4, "extra that is not an object adds nothing");
	cr_expect_str_eq(str(f, "user"), "");
	json_decref(f);
	json_decref(extra);
}

Test(audit_fields, an_events_fields_cannot_take_the_records_names)
{
	json_t *extra = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "user", "root",
				  "client", "127.0.0.1", "session", "forged", "event", "logout",
				  "ts", "1970-01-01T00:00:00.000Z", "seq", 1, "prev", "00", "mac",
				  "ff", "url", "https://x.example/");
	char *before = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *f = audit_fields_make("navigate", "alice", "192.0.2.7", "s1", extra,
				      AUDIT_FIELD_MAX, true);
	cr_assert_not_null(f);
	cr_expect_str_eq(str(f, "user"), "alice");
	cr_expect_str_eq(str(f, "client"), "192.0.2.7");
	cr_expect_str_eq(str(f, "session"), "s1");
	cr_expect_str_eq(str(f, "event"), "navigate");
	cr_expect_null(json_object_get(f, "ts"));
	cr_expect_null(json_object_get(f, "seq"));
	cr_expect_null(json_object_get(f, "prev"));
	cr_expect_null(json_object_get(f, "mac"));
	cr_expect_str_eq(str(f, "url"), "https://x.example/");
	cr_expect_eq(json_object_size(f), 5);
	char *after = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS);
	cr_expect_str_eq(after, before, "the event's own object was changed");
	free(before);
	free(after);
	json_decref(f);
	json_decref(extra);
}

Test(audit_fields, only_strings_integers_and_booleans_are_kept)
{
	json_t *extra = json_pack("{s:s, s:I, s:b, s:b, s:f, s:n, s:[i], s:{s:s}}", "s", "text",
				  "i", (json_int_t)-9007199254740993LL, "t", 1, "f", 0, "real", 1.5,
				  "null", "array", 1, "object", "a", "b");
	json_t *f = audit_fields_make("e", "u", "c", "s1", extra, AUDIT_FIELD_MAX, false);
	cr_assert_not_null(f);
	cr_expect_str_eq(str(f, "s"), "text");
	cr_expect_eq(json_integer_value(json_object_get(f, "i")), -9007199254740993LL,
		     "integers are kept exactly");
	cr_expect(json_is_true(json_object_get(f, "t")));
	cr_expect(json_is_false(json_object_get(f, "f")));
	cr_expect_null(json_object_get(f, "real"));
	cr_expect_null(json_object_get(f, "null"));
	cr_expect_null(json_object_get(f, "array"), "a nested array would escape every cap");
	cr_expect_null(json_object_get(f, "object"));
	json_decref(f);
	json_decref(extra);
}

Test(audit_fields, names_and_the_number_of_fields_are_capped)
{
	json_t *extra = json_object();
	char name[80];
	memset(name, 'k', sizeof name);
	name[AUDIT_KEY_NAME_MAX] = '\0';
	json_object_set_new(extra, name, json_string("64 bytes: kept"));
	name[AUDIT_KEY_NAME_MAX] = 'k';
	name[AUDIT_KEY_NAME_MAX + 1] = '\0';
	json_object_set_new(extra, name, json_string("65 bytes: left out"));
	for (int i = 0; i < 40; i++) {
		char k[16];
		snprintf(k, sizeof k, "f%02d", i);
		json_object_set_new(extra, k, json_integer(i));
	}
	json_t *f = audit_fields_make("e", "u", "c", "s", extra, AUDIT_FIELD_MAX, false);
	cr_assert_not_null(f);
	cr_expect_eq(json_object_size(f), 4 + AUDIT_FIELDS_MAX, "%zu fields", json_object_size(f));
	name[AUDIT_KEY_NAME_MAX] = '\0';
	cr_expect_str_eq(str(f, name), "64 bytes: kept");
	json_decref(f);
	json_decref(extra);
}

Test(audit_fields, strings_become_valid_utf8_without_nul)
{
	static const struct {
		const char *what;
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "Japanese stays", "\xe5\xa4\x9a\xe6\x91\xa9", 6, "\xe5\xa4\x9a\xe6\x91\xa9" },
		{ "a NUL inside", "a\0b", 3, "a?b" },
		{ "invalid bytes",
		  "\xff"
		  "a\xc0\xaf",
		  4, "?a??" },
		{ "truncated character", "ok\xe3\x81", 4, "ok??" },
		{ "surrogate", "\xed\xa0\x80", 3, "???" },
		{ "controls are JSON-escaped, not replaced", "a\nb\x1b", 4, "a\nb\x1b" },
		{ "len, not the NUL, ends it", "abcdef", 3, "abc" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = audit_fields_string(cases[i].in, cases[i].len, AUDIT_FIELD_MAX);
		cr_assert_not_null(j, "%s", cases[i].what);
		cr_expect_eq(json_string_length(j), strlen(cases[i].out), "%s", cases[i].what);
		cr_expect_str_eq(json_string_value(j), cases[i].out, "%s", cases[i].what);
		json_decref(j);
	}
	/* a user name or client address with bad bytes, as the writer gets them */
	json_t *f = audit_fields_make("login_failed", "al\xffice", "\xe3\x81", NULL, NULL,
				      AUDIT_FIELD_MAX, false);
	cr_assert_not_null(f, "a bad user name must not lose the whole record");
	cr_expect_str_eq(str(f, "user"), "al?ice");
	cr_expect_str_eq(str(f, "client"), "??");
	json_decref(f);
}

/* n copies of ch after prefix ASCII bytes, through audit_fields_string at cap. */
static void check_cap(const char *ch, size_t cap)
{
	size_t w = strlen(ch);
	char *s = malloc(cap + 64);
	cr_assert_not_null(s);
	for (size_t prefix = 0; prefix < w; prefix++) {
		for (size_t n = (cap - 8) / w; n <= (cap + 8) / w; n++) {
			memset(s, 'a', prefix);
			for (size_t i = 0; i < n; i++)
				memcpy(s + prefix + i * w, ch, w);
			size_t len = prefix + n * w;
			json_t *j = audit_fields_string(s, len, cap);
			cr_assert_not_null(j, "%zu bytes at cap %zu refused", len, cap);
			const char *v = json_string_value(j);
			size_t vlen = json_string_length(j);
			cr_assert_leq(vlen, cap, "%zu bytes at cap %zu became %zu", len, cap, vlen);
			if (len <= cap) {
				cr_assert_eq(vlen, len);
				cr_assert_eq(memcmp(v, s, len), 0);
			} else {
				size_t keep = prefix + (cap - 3 - prefix) / w * w;
				cr_assert_eq(vlen, keep + 3,
					     "%zu ASCII + %zu chars of %zu bytes at cap %zu: %zu, "
					     "expected %zu and the mark",
					     prefix, n, w, cap, vlen, keep);
				cr_assert_eq(memcmp(v, s, keep), 0);
				cr_assert_str_eq(v + keep, UTF8_CUT_MARK);
			}
			json_decref(j);
		}
	}
	free(s);
}

Test(audit_fields, strings_are_cut_between_characters_at_both_caps)
{
	static const size_t caps[] = { AUDIT_FIELD_MAX, AUDIT_FIELD_SHORT };
	for (size_t c = 0; c < 2; c++) {
		check_cap("x", caps[c]);
		check_cap("\xc3\xa9", caps[c]);
		check_cap("\xe6\x9d\xb1", caps[c]);
		check_cap("\xf0\xa0\xae\xb7", caps[c]);
	}
}

Test(audit_fields, every_field_of_a_record_is_capped)
{
	char *big = malloc(10000);
	memset(big, 'u', 9999);
	big[9999] = '\0';
	json_t *extra = json_pack("{s:s, s:s}", "url", big, "title", big);
	json_t *f = audit_fields_make(big, big, big, big, extra, AUDIT_FIELD_SHORT, false);
	cr_assert_not_null(f);
	const char *key;
	json_t *v;
	json_object_foreach(f, key, v) {
		cr_expect_eq(json_string_length(v), AUDIT_FIELD_SHORT, "%s: %zu bytes", key,
			     json_string_length(v));
	}
	json_decref(f);
	json_decref(extra);
	free(big);
}
