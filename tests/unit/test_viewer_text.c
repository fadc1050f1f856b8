/*
 * test_viewer_text.c: the viewer's messages. Every message exists in both
 * languages, the two agree on their printf conversions (the app fills in
 * TEXT_LOST_RETRYING's "%d"), and the language follows the forced setting
 * or the locale as POSIX orders it (LC_ALL, LC_MESSAGES, LANG).
 * Criterion runs each test in its own process, so setenv() stays local.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "viewer_text.h"

/* The printf conversions in s, e.g. "%d%s", into out ("%%" is not one). */
static void conversions(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = s; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		const char *q = p + 1;
		while (*q && strchr("diouxXcspfFeEgGaAn", *q) == NULL)
			q++;
		size_t len = (size_t)(q - p) + (*q ? 1 : 0);
		cr_assert_lt(n + len, outlen);
		memcpy(out + n, p, len);
		n += len;
		out[n] = '\0';
		if (*q == '\0')
			break;
		p = q;
	}
}

static void clear_locale(void)
{
	cr_assert_eq(unsetenv("LC_ALL"), 0);
	cr_assert_eq(unsetenv("LC_MESSAGES"), 0);
	cr_assert_eq(unsetenv("LANG"), 0);
	cr_assert_eq(unsetenv("LANGUAGE"), 0);
}

Test(text, every_message_exists_in_both_languages)
{
	for (int id = 0; id < TEXT_COUNT; id++) {
		text_set_language("ja");
		const char *ja = text_get((enum text_id)id);
		text_set_language("en");
		const char *en = text_get((enum text_id)id);
		cr_expect_not_null(ja);
		cr_expect_not_null(en);
		cr_expect_gt(strlen(ja), 0, "message %d has no Japanese text", id);
		cr_expect_gt(strlen(en), 0, "message %d has no English text", id);
		cr_expect_str_neq(ja, en, "message %d is not translated", id);
	}
}

Test(text, japanese_messages_are_japanese_and_english_ones_are_ascii_or_punctuation)
{
	for (int id = 0; id < TEXT_COUNT; id++) {
		text_set_language("ja");
		const char *ja = text_get((enum text_id)id);
		bool non_ascii = false;
		for (const char *p = ja; *p; p++)
			non_ascii |= (unsigned char)*p >= 0x80;
		cr_expect(non_ascii, "message %d is not in Japanese: %s", id, ja);
		text_set_language("en");
		const char *en = text_get((enum text_id)id);
		/* English may use "—" and "…" (U+2014, U+2026) but no Japanese. */
		for (const unsigned char *p = (const unsigned char *)en; *p; p++)
			cr_expect(*p < 0x80 || *p == 0xe2 || *p == 0x80 || *p == 0x94 || *p == 0xa6,
				  "message %d has unexpected non-ASCII: %s", id, en);
	}
}

Test(text, both_languages_have_the_same_format_conversions)
{
	for (int id = 0; id < TEXT_COUNT; id++) {
		char cj[64], ce[64];
		text_set_language("ja");
		conversions(text_get((enum text_id)id), cj, sizeof cj);
		text_set_language("en");
		conversions(text_get((enum text_id)id), ce, sizeof ce);
		cr_expect_str_eq(cj, ce, "message %d: ja \"%s\" en \"%s\"", id, cj, ce);
		/* The app relies on this: one %d in TEXT_LOST_RETRYING, nothing elsewhere. */
		cr_expect_str_eq(cj, id == TEXT_LOST_RETRYING ? "%d" : "", "message %d", id);
		text_set_language("ja");
		cr_expect_eq(strchr(text_get((enum text_id)id), '%') != NULL,
			     id == TEXT_LOST_RETRYING);
		text_set_language("en");
		cr_expect_eq(strchr(text_get((enum text_id)id), '%') != NULL,
			     id == TEXT_LOST_RETRYING);
	}
}

Test(text, conversions_helper_sees_what_printf_sees)
{
	char out[64];
	conversions("a %d b %5.2f c %% d %s", out, sizeof out);
	cr_expect_str_eq(out, "%d%5.2f%s");
	conversions("100%% sure", out, sizeof out);
	cr_expect_str_eq(out, "");
	conversions("trailing %", out, sizeof out);
	cr_expect_str_eq(out, "%");
}

Test(text, the_wrong_password_message_says_what_to_do)
{
	text_set_language("ja");
	cr_expect_str_eq(text_get(TEXT_ERR_CREDENTIALS),
			 "ユーザー名またはパスワードが違います。もう一度入力してください。");
	cr_expect_str_eq(text_get(TEXT_TITLE_LOGIN), "pixelgate — ログイン");
	cr_expect_str_eq(text_get(TEXT_CONNECTING), "接続しています…");
	text_set_language("en");
	cr_expect_str_eq(text_get(TEXT_ERR_CREDENTIALS),
			 "The user name or password is incorrect. Please enter them again.");
}

Test(text, forced_language_wins_over_the_locale)
{
	clear_locale();
	cr_assert_eq(setenv("LANG", "C.UTF-8", 1), 0);
	text_set_language("ja");
	cr_expect(text_is_japanese());
	cr_expect_str_eq(text_get(TEXT_BUTTON_LOGIN), "ログイン");
	cr_assert_eq(setenv("LANG", "ja_JP.UTF-8", 1), 0);
	text_set_language("en");
	cr_expect_not(text_is_japanese());
	cr_expect_str_eq(text_get(TEXT_BUTTON_LOGIN), "Log in");
}

Test(text, auto_follows_lang)
{
	clear_locale();
	cr_assert_eq(setenv("LANG", "ja_JP.UTF-8", 1), 0);
	text_set_language("auto");
	cr_expect(text_is_japanese());
	text_set_language(NULL);
	cr_expect(text_is_japanese());
	text_set_language("fr"); /* not a choice: the locale decides */
	cr_expect(text_is_japanese());
	cr_assert_eq(setenv("LANG", "en_US.UTF-8", 1), 0);
	text_set_language("auto");
	cr_expect_not(text_is_japanese());
	cr_expect_str_eq(text_get(TEXT_LABEL_USER), "User name");
}

Test(text, decided_from_the_locale_on_first_use)
{
	clear_locale();
	cr_assert_eq(setenv("LC_MESSAGES", "ja_JP.eucJP", 1), 0);
	/* No text_set_language() call: the first text_get() looks at the locale. */
	cr_expect_str_eq(text_get(TEXT_LABEL_PASSWORD), "パスワード");
}

Test(text, lc_all_then_lc_messages_then_lang)
{
	clear_locale();
	cr_assert_eq(setenv("LANG", "ja_JP.UTF-8", 1), 0);
	cr_assert_eq(setenv("LC_MESSAGES", "en_US.UTF-8", 1), 0);
	text_set_language("auto");
	cr_expect_not(text_is_japanese());
	cr_assert_eq(setenv("LC_ALL", "ja_JP.UTF-8", 1), 0);
	text_set_language("auto");
	cr_expect(text_is_japanese());
	cr_assert_eq(setenv("LC_ALL", "C", 1), 0);
	text_set_language("auto");
	cr_expect_not(text_is_japanese());
	/* Empty variables do not count. */
	cr_assert_eq(setenv("LC_ALL", "", 1), 0);
	cr_assert_eq(setenv("LC_MESSAGES", "", 1), 0);
	text_set_language("auto");
	cr_expect(text_is_japanese());
}

Test(text, without_locale_variables_the_system_language_decides)
{
	/* SDL_GetPreferredLocales(): LANGUAGE on Unix, the display language on Windows. */
	clear_locale();
	text_set_language("auto");
	cr_expect_not(text_is_japanese());
	cr_assert_eq(setenv("LANGUAGE", "ja_JP:en", 1), 0);
	text_set_language("auto");
	cr_expect(text_is_japanese());
}

Test(text, locale_rule_as_a_pure_function)
{
	cr_expect(text_locale_is_japanese(NULL, NULL, "ja_JP.UTF-8"));
	cr_expect(text_locale_is_japanese(NULL, NULL, "ja"));
	cr_expect(text_locale_is_japanese("", "", "japanese"));
	cr_expect(text_locale_is_japanese(NULL, "ja_JP.SJIS", "en_US.UTF-8"));
	cr_expect(text_locale_is_japanese("ja_JP.UTF-8", "C", "C"));
	cr_expect_not(text_locale_is_japanese("C", "ja_JP.UTF-8", "ja_JP.UTF-8"));
	cr_expect_not(text_locale_is_japanese(NULL, NULL, NULL));
	cr_expect_not(text_locale_is_japanese("", "", ""));
	cr_expect_not(text_locale_is_japanese(NULL, NULL, "C.UTF-8"));
	cr_expect_not(text_locale_is_japanese(NULL, NULL, "en_JP.UTF-8"));
	cr_expect_not(text_locale_is_japanese(NULL, NULL, "j"));
	cr_expect_not(text_locale_is_japanese(NULL, NULL, "JA_JP"));
}

Test(text, out_of_range_ids_give_an_empty_string)
{
	text_set_language("en");
	cr_expect_str_eq(text_get(TEXT_COUNT), "");
	cr_expect_str_eq(text_get((enum text_id) - 1), "");
	cr_expect_str_eq(text_get((enum text_id)1000), "");
}
