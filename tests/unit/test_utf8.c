/*
 * test_utf8.c: the one UTF-8 decoder (proxy/common/utf8.c) and the cleaning
 * of outside text before it reaches a log line or an audit record. The
 * decoder takes every valid form and refuses overlong forms, surrogates,
 * values past U+10FFFF and truncated sequences. utf8_clean() never splits a
 * character whatever the buffer size (1-, 2-, 3- and 4-byte characters at
 * every length around the cut), marks a cut with U+2026, turns each invalid
 * byte and each control character into one '?', and its output is always
 * something jansson accepts: the bug was a title cut in the middle of a
 * character and then refused by json_string(), so the record lost it.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define MARK UTF8_CUT_MARK

/* Whether s[0 .. n) is all valid UTF-8 for the decoder. */
static bool all_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l = utf8_next(u + i, n - i, &cp);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

struct decode_case {
	const char *what;
	const char *bytes;
	size_t n;   /* bytes available to the decoder */
	size_t len; /* expected length, 0 = invalid */
	uint32_t cp;
};

Test(utf8, the_decoder_takes_every_valid_form_and_refuses_the_rest)
{
	static const struct decode_case cases[] = {
		{ "ASCII", "A", 1, 1, 'A' },
		{ "NUL is a character", "\0", 1, 1, 0 },
		{ "DEL", "\x7f", 1, 1, 0x7f },
		{ "smallest 2-byte", "\xc2\x80", 2, 2, 0x80 },
		{ "largest 2-byte", "\xdf\xbf", 2, 2, 0x7ff },
		{ "smallest 3-byte", "\xe0\xa0\x80", 3, 3, 0x800 },
		{ "hiragana a", "\xe3\x81\x82", 3, 3, 0x3042 },
		{ "last before surrogates", "\xed\x9f\xbf", 3, 3, 0xd7ff },
		{ "first after surrogates", "\xee\x80\x80", 3, 3, 0xe000 },
		{ "largest 3-byte", "\xef\xbf\xbf", 3, 3, 0xffff },
		{ "smallest 4-byte", "\xf0\x90\x80\x80", 4, 4, 0x10000 },
		{ "emoji", "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
		{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
		{ "decodes one character only", "\xe3\x81\x82\xe3\x81\x84", 6, 3, 0x3042 },
		{ "lone continuation byte", "\x80", 1, 0, 0 },
		{ "overlong 2-byte (C0)", "\xc0\xaf", 2, 0, 0 },
		{ "overlong 2-byte (C1)", "\xc1\xbf", 2, 0, 0 },
		{ "overlong 3-byte", "\xe0\x80\xaf", 3, 0, 0 },
		{ "overlong 3-byte, largest", "\xe0\x9f\xbf", 3, 0, 0 },
		{ "overlong 4-byte", "\xf0\x80\x80\xaf", 4, 0, 0 },
		{ "overlong 4-byte, largest", "\xf0\x8f\xbf\xbf", 4, 0, 0 },
		{ "high surrogate", "\xed\xa0\x80", 3, 0, 0 },
		{ "low surrogate", "\xed\xbf\xbf", 3, 0, 0 },
		{ "past U+10FFFF", "\xf4\x90\x80\x80", 4, 0, 0 },
		{ "F5 lead", "\xf5\x80\x80\x80", 4, 0, 0 },
		{ "FE", "\xfe", 1, 0, 0 },
		{ "FF", "\xff", 1, 0, 0 },
		{ "3-byte cut after 2", "\xe3\x81", 2, 0, 0 },
		{ "3-byte cut after 1", "\xe3", 1, 0, 0 },
		{ "4-byte cut after 3", "\xf0\x9f\x98", 3, 0, 0 },
		{ "3-byte whose end the length leaves out", "\xe3\x81\x82", 2, 0, 0 },
		{ "ASCII where a continuation belongs", "\xe3\x41\x82", 3, 0, 0 },
		{ "a new lead where a continuation belongs", "\xe3\xe3\x81\x82", 4, 0, 0 },
		{ "2-byte followed by NUL", "\xc3\0", 2, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct decode_case *c = &cases[i];
		uint32_t cp = 0xdeadbeef;
		size_t len = utf8_next((const unsigned char *)c->bytes, c->n, &cp);
		cr_expect_eq(len, c->len, "%s: length %zu, expected %zu", c->what, len, c->len);
		if (c->len > 0)
			cr_expect_eq(cp, c->cp, "%s: U+%04X, expected U+%04X", c->what, cp, c->cp);
		else
			cr_expect_eq(cp, 0xdeadbeef, "%s: *cp written for invalid input", c->what);
	}
}

/* n copies of ch into out (NUL-terminated). */
static void repeat(char *out, const char *ch, size_t n)
{
	size_t l = strlen(ch);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * l, ch, l);
	out[n * l] = '\0';
}

/*
 * Text of n characters of width w bytes (optionally after a prefix of ASCII
 * that shifts the characters against the cut) through every buffer size
 * around its length: whole when it fits, else the most whole characters that
 * fit with the mark after them; always valid, always accepted by jansson.
 */
static void check_cuts(const char *ch, size_t prefix)
{
	char src[256], dst[256];
	size_t w = strlen(ch);
	for (size_t n = 0; n <= 12; n++) {
		memset(src, 'a', prefix);
		repeat(src + prefix, ch, n);
		size_t srclen = strlen(src);
		for (size_t dstlen = 1; dstlen <= srclen + 3; dstlen++) {
			memset(dst, 0x5a, sizeof dst);
			size_t o = utf8_clean(dst, dstlen, src);
			size_t limit = dstlen - 1;
			cr_assert_eq(dst[o], '\0', "%zu chars in %zu bytes: no NUL at %zu", n,
				     dstlen, o);
			cr_assert_eq(strlen(dst), o);
			cr_assert_leq(o, limit,
				      "%zu chars of %zu bytes in a buffer of %zu: wrote %zu", n, w,
				      dstlen, o);
			cr_assert_eq(dst[dstlen], 0x5a, "wrote past the buffer of %zu", dstlen);
			cr_assert(all_valid(dst, o),
				  "%zu chars of %zu bytes after %zu ASCII, buffer %zu: a character "
				  "was split",
				  n, w, prefix, dstlen);
			json_t *j = json_string(dst);
			cr_assert_not_null(j, "jansson refuses the cut text (buffer %zu)", dstlen);
			json_decref(j);
			if (srclen <= limit) {
				cr_assert_str_eq(dst, src, "it fits in %zu bytes: kept whole",
						 dstlen);
				continue;
			}
			if (limit < 3) { /* no room for the mark: nothing but whole ASCII */
				cr_assert_leq(o, limit);
				cr_assert_eq(memcmp(dst, src, o), 0);
				continue;
			}
			/* the longest prefix of whole characters within limit - 3, then the mark */
			size_t keep = limit - 3;
			size_t want = keep <= prefix ? keep : prefix + (keep - prefix) / w * w;
			cr_assert_eq(o, want + 3,
				     "%zu chars of %zu bytes after %zu ASCII, buffer %zu: %zu bytes, "
				     "expected %zu kept and the mark",
				     n, w, prefix, dstlen, o, want);
			cr_assert_eq(memcmp(dst, src, want), 0);
			cr_assert_str_eq(dst + want, MARK);
		}
	}
}

Test(utf8, a_cut_never_splits_a_character_of_any_width)
{
	static const char *const chars[] = { "x", "\xc3\xa9" /* é */, "\xe3\x81\x82" /* あ */,
					     "\xf0\x9f\x98\x80" /* 😀 */ };
	for (size_t c = 0; c < sizeof chars / sizeof chars[0]; c++)
		for (size_t prefix = 0; prefix < strlen(chars[c]); prefix++)
			check_cuts(chars[c], prefix);
}

Test(utf8, ascii_is_cut_at_the_byte_with_the_mark)
{
	char dst[8];
	cr_assert_eq(utf8_clean(dst, sizeof dst, "abcdefgh"), 7);
	cr_assert_str_eq(dst, "abcd" MARK);
	cr_assert_eq(utf8_clean(dst, sizeof dst, "abcdefg"), 7);
	cr_assert_str_eq(dst, "abcdefg", "exactly fits: no mark");
}

struct clean_case {
	const char *what;
	const char *in;
	const char *out;
};

Test(utf8, invalid_bytes_and_controls_become_one_question_mark_each)
{
	static const struct clean_case cases[] = {
		{ "plain Japanese stays", "\xe5\xb8\x82\xe5\xbd\xb9\xe6\x89\x80",
		  "\xe5\xb8\x82\xe5\xbd\xb9\xe6\x89\x80" },
		{ "newline, CR and tab (a forged log line)", "a\nb\rc\td", "a?b?c?d" },
		{ "escape sequence", "\x1b[2J\x1b]0;x\x07", "?[2J?]0;x?" },
		{ "DEL",
		  "a\x7f"
		  "b",
		  "a?b" },
		{ "C1 CSI (U+009B) is one character",
		  "a\xc2\x9b"
		  "31m",
		  "a?31m" },
		{ "NBSP (U+00A0) is not a control",
		  "a\xc2\xa0"
		  "b",
		  "a\xc2\xa0"
		  "b" },
		{ "lone continuation",
		  "a\x80"
		  "b",
		  "a?b" },
		{ "each invalid byte on its own", "\xff\xfe\xc0\xaf", "????" },
		{ "truncated at the end", "ok\xe3\x81", "ok??" },
		{ "a new lead inside a character", "\xe3\x81\xe3\x81\x82", "??\xe3\x81\x82" },
		{ "surrogate (CESU-8)", "\xed\xa0\xbd\xed\xb8\x80", "??????" },
		{ "past U+10FFFF", "\xf4\x90\x80\x80", "????" },
		{ "overlong slash", "\xe0\x80\xaf", "???" },
		{ "empty", "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char dst[64];
		size_t o = utf8_clean(dst, sizeof dst, cases[i].in);
		cr_expect_str_eq(dst, cases[i].out, "%s", cases[i].what);
		cr_expect_eq(o, strlen(cases[i].out), "%s: returned %zu", cases[i].what, o);
	}
}

Test(utf8, replaced_bytes_count_against_the_cut_too)
{
	char dst[8];
	/* 10 invalid bytes: 7 fit, so 4 question marks and the mark */
	cr_assert_eq(utf8_clean(dst, sizeof dst, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), 7);
	cr_assert_str_eq(dst, "????" MARK);
	/* a control character right at the cut */
	cr_assert_eq(utf8_clean(dst, sizeof dst, "abcde\n\n\n"), 7);
	cr_assert_str_eq(dst, "abcd" MARK);
}

Test(utf8, tiny_buffers_get_what_fits_whole)
{
	char dst[4];
	memset(dst, 0x5a, sizeof dst);
	cr_assert_eq(utf8_clean(dst, 1, "\xe3\x81\x82"), 0);
	cr_assert_str_eq(dst, "");
	cr_assert_eq(utf8_clean(dst, 2, "ab"), 1, "no room for the mark: what fits whole");
	cr_assert_str_eq(dst, "a");
	cr_assert_eq(utf8_clean(dst, 3, "\xe3\x81\x82"), 0);
	cr_assert_str_eq(dst, "");
	cr_assert_eq(utf8_clean(dst, 4, "\xe3\x81\x82"), 3);
	cr_assert_str_eq(dst, "\xe3\x81\x82");
	cr_assert_eq(utf8_clean(dst, 4, "\xe3\x81\x82\xe3\x81\x82"), 3);
	cr_assert_str_eq(dst, MARK);
}

Test(utf8, the_terminal_cleaning_also_replaces_bidi_controls_and_marks_its_cut)
{
	char out[16];
	/* a log line keeps a bidi override; a terminal (UTF8_CLEAN_BIDI) does not */
	cr_assert_eq(utf8_clean_text(out, sizeof out,
				     "\xe2\x80\xae"
				     "exe",
				     6, "...", 0),
		     6);
	cr_assert_str_eq(out,
			 "\xe2\x80\xae"
			 "exe");
	cr_assert_eq(utf8_clean_text(out, sizeof out,
				     "\xe2\x80\xae"
				     "exe\xe2\x81\xa9",
				     9, "...", UTF8_CLEAN_BIDI),
		     5);
	cr_assert_str_eq(out, "?exe?");
	/* n bytes, NULs included; the cut keeps whole characters before the mark */
	cr_assert_eq(utf8_clean_text(out, sizeof out, "a\0b", 3, "...", 0), 3);
	cr_assert_str_eq(out, "a?b");
	cr_assert_eq(utf8_clean_text(out, 8, "a\xe6\x9d\xb1\xe6\x9d\xb1\xe6\x9d\xb1", 10, "...", 0),
		     7);
	cr_assert_str_eq(out, "a\xe6\x9d\xb1...");
	cr_assert_eq(utf8_clean_text(out, 4, "abcdef", 6, "", 0), 3);
	cr_assert_str_eq(out, "abc");
}
