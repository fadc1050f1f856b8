/*
 * test_keysym.c: the one code point -> keysym rule (keysym.h) that the
 * viewer uses for IME text and printable keys: Latin-1 as itself (so é
 * types the keysym eacute, 0xe9, not 0x010000e9), every other character
 * as a Unicode keysym, and control characters not typed at all; the
 * viewer's printable keys follow the same rule.
 */
#include <criterion/criterion.h>

#include "keysym.h"
#include "viewer_keymap.h"

Test(keysym, latin1_is_itself_other_characters_are_unicode_keysyms)
{
	static const struct {
		uint32_t cp, keysym;
	} cases[] = {
		{ ' ', 0x20 },
		{ 'a', 0x61 },
		{ '~', 0x7e },
		{ 0xa0, 0xa0 },
		{ 0xa5, 0xa5 }, /* ¥ */
		{ 0xe9, 0xe9 }, /* é: XK_eacute */
		{ 0xff, 0xff },
		{ 0x100, 0x01000100 },
		{ 0x65e5, 0x010065e5 }, /* 日 */
		{ 0xffe5, 0x0100ffe5 }, /* full-width ￥ */
		{ 0x1f600, 0x0101f600 },
		{ 0x10ffff, 0x0110ffff },
		/* not text: C0, DEL, C1, surrogates, beyond Unicode */
		{ 0, 0 },
		{ '\n', 0 },
		{ '\t', 0 },
		{ 0x1b, 0 },
		{ 0x7f, 0 },
		{ 0x80, 0 },
		{ 0x9f, 0 },
		{ 0xd800, 0 },
		{ 0xdfff, 0 },
		{ 0x110000, 0 },
		{ 0xffffffff, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect_eq(keysym_from_codepoint(cases[i].cp), cases[i].keysym,
			     "U+%04X: 0x%x, expected 0x%x", cases[i].cp,
			     keysym_from_codepoint(cases[i].cp), cases[i].keysym);
}

Test(keysym, the_viewers_printable_keys_follow_the_same_rule)
{
	static const uint32_t cps[] = { 'q', 0xe9, 0xfc, 0x3042, 0x20ac };
	for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++)
		cr_expect_eq(keymap_keysym((SDL_Keycode)cps[i], SDL_SCANCODE_UNKNOWN),
			     keysym_from_codepoint(cps[i]), "U+%04X", cps[i]);
	cr_expect_eq(keymap_keysym(0x85, SDL_SCANCODE_UNKNOWN), 0);
	cr_expect_eq(keymap_keysym(-1, SDL_SCANCODE_UNKNOWN), 0);
}
