/*
 * Unit tests for clip_text.c: clipboard text made safe at the boundary.
 */
#include <criterion/criterion.h>
#include <string.h>

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
