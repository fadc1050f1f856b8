/*
 * Unit tests for clip_text.c: clipboard text made safe at the boundary.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clip_text.h"

Test(clip_text, latin1_becomes_utf8_with_lf)
{
	const uint8_t in[] = "Caf\xe9 \xa5"
			     "100\r\n2-3\rend\tx\n";
	char out[64], why[CLIP_TEXT_WHY_LEN];
	size_t n = 0;
	cr_assert_eq(clip_text_from_latin1(in, sizeof in - 1, out, sizeof out, &n, why, sizeof why),
		     0, "%s", why);
	cr_assert_str_eq(out,
			 "Caf\xc3\xa9 \xc2\xa5"
			 "100\n2-3\nend\tx\n");
	cr_assert_eq(n, strlen(out));
}

Test(clip_text, utf8_japanese_passes_and_one_trailing_nul_goes)
{
	const char in[] = "\xe3\x80\x92"
			  "100-0001 \xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\r\n";
	char out[64], why[CLIP_TEXT_WHY_LEN];
	size_t n = 0;
	cr_assert_eq(clip_text_from_utf8((const uint8_t *)in, sizeof in, out, sizeof out, &n, why,
					 sizeof why),
		     0, "%s", why);
	cr_assert_str_eq(out,
			 "\xe3\x80\x92"
			 "100-0001 \xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\n");
}

Test(clip_text, controls_nul_and_bad_utf8_are_refused)
{
	static const struct {
		const char *in;
		size_t len;
		int utf8;
		const char *why;
	} bad[] = {
		{ "ab\0cd", 5, 0, "control character U+0000 at byte 2" },
		{ "a\x1b[31m", 6, 0, "control character U+001B at byte 1" },
		{ "a\x7f", 2, 0, "control character U+007F at byte 1" },
		{ "a\x85", 2, 0, "control character U+0085 at byte 1" },
		{ "a\xc2\x85", 3, 1, "control character U+0085 at byte 1" },
		{ "a\xc0\xaf", 3, 1, "invalid UTF-8 at byte 1" },
		{ "a\xed\xa0\x80", 4, 1, "invalid UTF-8 at byte 1" },
		{ "ab\0\0", 4, 1, "control character U+0000 at byte 2" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char out[64], why[CLIP_TEXT_WHY_LEN] = "";
		size_t n = 99;
		int rc = bad[i].utf8 ? clip_text_from_utf8((const uint8_t *)bad[i].in, bad[i].len,
							   out, sizeof out, &n, why, sizeof why)
				     : clip_text_from_latin1((const uint8_t *)bad[i].in, bad[i].len,
							     out, sizeof out, &n, why, sizeof why);
		cr_assert_eq(rc, -1, "case %zu passed", i);
		cr_assert_str_eq(why, bad[i].why, "case %zu", i);
		cr_assert_str_eq(out, "", "case %zu", i);
	}
	char small[4], why[CLIP_TEXT_WHY_LEN];
	size_t n;
	cr_assert_eq(clip_text_from_latin1((const uint8_t *)"\xe9\xe9", 2, small, sizeof small, &n,
					   why, sizeof why),
		     -1);
}

/* The stream of a message clip_text_provide_message() made (the viewer's side). */
static void provide_stream(const char *text, uint8_t **msg, const uint8_t **z, size_t *zlen)
{
	size_t len = 0;
	cr_assert_eq(clip_text_provide_message(CLIP_CLIENT_CUT_TEXT, text, strlen(text), msg, &len),
		     0);
	cr_assert_geq(len, 12);
	uint32_t neg = (uint32_t)(*msg)[4] << 24 | (uint32_t)(*msg)[5] << 16 |
	    (uint32_t)(*msg)[6] << 8 | (*msg)[7];
	cr_assert_eq((uint32_t)(0u - neg), len - 8, "the length is minus flags and stream");
	cr_assert_eq((*msg)[8], 0x10);
	cr_assert_eq((*msg)[11], 0x01);
	*z = *msg + 12;
	*zlen = len - 12;
}

Test(clip_text, the_viewers_provide_comes_back_exactly)
{
	const char *text = "\xe3\x80\x92" /* 〒100-0001 東京都千代田区 */
			   "100-0001 \xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe5\x8d\x83\xe4\xbb\xa3"
			   "\xe7\x94\xb0\xe5\x8c\xba\r\n2\tx";
	uint8_t *msg;
	const uint8_t *z;
	size_t zlen, n = 0;
	char *out = NULL, why[CLIP_TEXT_WHY_LEN] = "";
	provide_stream(text, &msg, &z, &zlen);
	cr_assert_eq(clip_text_from_provide(z, zlen, 1024, false, &out, &n, why, sizeof why), 0,
		     "%s", why);
	cr_assert_str_eq(out,
			 "\xe3\x80\x92"
			 "100-0001 \xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe5\x8d\x83\xe4\xbb"
			 "\xa3\xe7\x94\xb0\xe5\x8c\xba\n2\tx");
	cr_assert_eq(n, strlen(out));
	free(out);
	/* the cap counts the text before conversion: one byte short is refused */
	cr_assert_eq(clip_text_from_provide(z, zlen, strlen(text) - 1, false, &out, &n, why,
					    sizeof why),
		     -1);
	cr_assert_null(out);
	cr_assert_not_null(strstr(why, "when inflated"), "%s", why);
	cr_assert_eq(clip_text_from_provide(z, zlen, strlen(text), false, &out, &n, why,
					    sizeof why),
		     0, "%s", why);
	free(out);
	/* cut short: the stream holds less than it announces */
	cr_assert_eq(clip_text_from_provide(z, zlen / 2, 1024, false, &out, &n, why, sizeof why),
		     -1);
	free(msg);
	/* empty text */
	provide_stream("", &msg, &z, &zlen);
	cr_assert_eq(clip_text_from_provide(z, zlen, 0, false, &out, &n, why, sizeof why), 0, "%s",
		     why);
	cr_assert_eq(n, 0);
	free(out);
	free(msg);
}

/* A stream made with compress2() (finished, as noVNC's pako makes it) of raw[0 .. len). */
static size_t finished_stream(const uint8_t *raw, size_t len, uint8_t *z, size_t zcap)
{
	uLongf zl = (uLongf)zcap;
	cr_assert_eq(compress2(z, &zl, raw, (uLong)len, 9), Z_OK);
	return (size_t)zl;
}

Test(clip_text, provide_streams_that_lie_are_refused)
{
	static const struct {
		const char *raw;
		size_t len;
		const char *why;
	} bad[] = {
		{ "\0\0\0\x03"
		  "ab",
		  6, "announces 3 bytes of text and holds 2" },
		{ "\0\0\0\x02"
		  "abc",
		  7, "announces 2 bytes of text and holds 3" },
		{ "\0\0\0\x02"
		  "ab",
		  6, "not terminated by NUL" },
		{ "\0\0", 2, "no text size" },
		{ "\0\0\0\x04"
		  "a\x1b"
		  "b\0",
		  8, "control character U+001B at byte 1" },
		{ "\0\0\0\x04"
		  "a\0b\0",
		  8, "control character U+0000 at byte 1" },
		{ "\0\0\0\x03\xff\xfe\0", 7, "invalid UTF-8 at byte 0" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t z[128];
		size_t zlen = finished_stream((const uint8_t *)bad[i].raw, bad[i].len, z, sizeof z);
		char *out = NULL, why[CLIP_TEXT_WHY_LEN] = "";
		size_t n = 0;
		cr_assert_eq(clip_text_from_provide(z, zlen, 64, false, &out, &n, why, sizeof why),
			     -1, "case %zu", i);
		cr_assert_null(out);
		cr_assert_not_null(strstr(why, bad[i].why), "case %zu: %s", i, why);
	}
	/* a finished stream is taken; bytes after its end are not */
	uint8_t z[128];
	size_t zlen = finished_stream((const uint8_t *)"\0\0\0\x03ok\0", 7, z, sizeof z - 4);
	char *out = NULL, why[CLIP_TEXT_WHY_LEN] = "";
	size_t n = 0;
	cr_assert_eq(clip_text_from_provide(z, zlen, 64, false, &out, &n, why, sizeof why), 0, "%s",
		     why);
	cr_assert_str_eq(out, "ok");
	free(out);
	memcpy(z + zlen, "junk", 4);
	cr_assert_eq(clip_text_from_provide(z, zlen + 4, 64, false, &out, &n, why, sizeof why), -1);
	cr_assert_not_null(strstr(why, "after the end"), "%s", why);
	/* not zlib at all */
	cr_assert_eq(clip_text_from_provide((const uint8_t *)"hello", 5, 64, false, &out, &n, why,
					    sizeof why),
		     -1);
	cr_assert_not_null(strstr(why, "bad zlib stream"), "%s", why);
}

Test(clip_text, a_zip_bomb_is_refused_at_the_cap)
{
	/* 16 MiB of 'a' in about 16 KiB: inflated only up to the cap */
	size_t big = 16u << 20;
	uint8_t *raw = malloc(big);
	cr_assert_not_null(raw);
	memset(raw, 'a', big);
	raw[0] = 0x00, raw[1] = 0xff, raw[2] = 0xff, raw[3] = 0xfc;
	raw[big - 1] = 0;
	uLongf zl = compressBound((uLong)big);
	uint8_t *z = malloc(zl);
	cr_assert_eq(compress2(z, &zl, raw, (uLong)big, 9), Z_OK);
	free(raw);
	cr_assert_lt(zl, 65536);
	char *out = NULL, why[CLIP_TEXT_WHY_LEN] = "";
	size_t n = 0;
	cr_assert_eq(clip_text_from_provide(z, zl, 65536, false, &out, &n, why, sizeof why), -1);
	cr_assert_null(out);
	cr_assert_str_eq(why, "clipboard text over 65536 bytes when inflated");
	free(z);
}

Test(clip_text, the_browsers_copy_is_cleaned_and_made_latin1)
{
	const char in[] = "a\x1b[31mb\r\nc\x7f\xc2\x85"
			  "d\te \xe2\x80\xae\xe6\x97\xa5\xe2\x80\x8b\xef\xbb\xbf";
	char out[64], l1[64], why[CLIP_TEXT_WHY_LEN] = "";
	size_t n = 0, removed = 0;
	cr_assert_eq(clip_text_clean_utf8((const uint8_t *)in, sizeof in - 1, out, sizeof out, &n,
					  &removed, why, sizeof why),
		     0, "%s", why);
	cr_assert_str_eq(out, "a[31mb\ncd\te \xe6\x97\xa5");
	cr_assert_eq(removed, 6); /* ESC, DEL, U+0085, U+202E, U+200B, U+FEFF */
	/* the gateway's check for the terminal refuses what the worker removes */
	cr_assert_eq(clip_text_for_terminal((const uint8_t *)"ab\xe2\x80\xae"
							     "cd",
					    7, out, sizeof out, &n, why, sizeof why),
		     -1);
	cr_assert_str_eq(why, "bidi or invisible character U+202E at byte 2");
	cr_assert_eq(clip_text_for_terminal((const uint8_t *)"\xe6\x97\xa5 ok", 6, out, sizeof out,
					    &n, why, sizeof why),
		     0, "%s", why);
	/* into the browser they pass (a web form shows them as they are) */
	cr_assert_eq(clip_text_from_utf8((const uint8_t *)"ab\xe2\x80\xae"
							  "cd",
					 7, out, sizeof out, &n, why, sizeof why),
		     0, "%s", why);
	cr_assert_eq(n, strlen(out));
	/* invalid UTF-8 is still refused */
	cr_assert_eq(clip_text_clean_utf8((const uint8_t *)"a\xff", 2, out, sizeof out, &n,
					  &removed, why, sizeof why),
		     -1);
	cr_assert_str_eq(why, "invalid UTF-8 at byte 1");
	/* for a plain viewer: Latin-1, '?' for the rest */
	cr_assert_eq(clip_text_to_latin1("Caf\xc3\xa9 \xe6\x97\xa5", 9, l1), 6);
	cr_assert_str_eq(l1, "Caf\xe9 ?");
}

Test(clip_text, a_servers_provide_has_the_server_type)
{
	uint8_t *msg = NULL;
	size_t len = 0, n = 0;
	char *out = NULL, why[CLIP_TEXT_WHY_LEN] = "";
	cr_assert_eq(clip_text_provide_message(CLIP_SERVER_CUT_TEXT, "\xe6\x97\xa5", 3, &msg, &len),
		     0);
	cr_assert_eq(msg[0], 3);
	cr_assert_eq(clip_text_from_provide(msg + 12, len - 12, 16, false, &out, &n, why,
					    sizeof why),
		     0, "%s", why);
	cr_assert_str_eq(out, "\xe6\x97\xa5");
	free(out);
	free(msg);
	/* over CLIP_TEXT_MAX: refused before anything is made */
	cr_assert_eq(clip_text_provide_message(CLIP_SERVER_CUT_TEXT, "x", CLIP_TEXT_MAX + 1, &msg,
					       &len),
		     -1);
	cr_assert_null(msg);
}
