/*
 * test_viewer_keymap.c: the viewer's key table and the key-versus-text
 * decision, with the SDL events a JIS keyboard really produces on X11 and on
 * Windows (see the comment at the top of viewer/viewer_keymap.c). The
 * decoder and the keysym rule of SDL_TEXTINPUT text are utf8.h's and
 * keysym.h's (test_utf8.c, test_keysym.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "viewer_keymap.h"

/* SDL_SCANCODE_TO_KEYCODE(SDL_SCANCODE_UNKNOWN): X11's keycode for keysyms SDL does not know. */
#define X11_UNKNOWN_KEYCODE ((SDL_Keycode)SDLK_SCANCODE_MASK)

struct key_case {
	const char *what;
	SDL_Keycode sym;
	SDL_Scancode scancode;
	uint32_t keysym;
};

static void check_keysyms(const struct key_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(keymap_keysym(cases[i].sym, cases[i].scancode), cases[i].keysym,
			     "%s: keysym 0x%x, expected 0x%x", cases[i].what,
			     keymap_keysym(cases[i].sym, cases[i].scancode), cases[i].keysym);
}

#define CHECK_KEYSYMS(cases) check_keysyms(cases, sizeof cases / sizeof cases[0])

Test(keymap, non_text_keys_map_to_their_x_keysyms)
{
	static const struct key_case cases[] = {
		{ "Return", SDLK_RETURN, SDL_SCANCODE_RETURN, 0xff0d },
		{ "Tab", SDLK_TAB, SDL_SCANCODE_TAB, 0xff09 },
		{ "BackSpace", SDLK_BACKSPACE, SDL_SCANCODE_BACKSPACE, 0xff08 },
		{ "Escape", SDLK_ESCAPE, SDL_SCANCODE_ESCAPE, 0xff1b },
		{ "Delete", SDLK_DELETE, SDL_SCANCODE_DELETE, 0xffff },
		{ "Insert", SDLK_INSERT, SDL_SCANCODE_INSERT, 0xff63 },
		{ "Home", SDLK_HOME, SDL_SCANCODE_HOME, 0xff50 },
		{ "End", SDLK_END, SDL_SCANCODE_END, 0xff57 },
		{ "Prior", SDLK_PAGEUP, SDL_SCANCODE_PAGEUP, 0xff55 },
		{ "Next", SDLK_PAGEDOWN, SDL_SCANCODE_PAGEDOWN, 0xff56 },
		{ "Left", SDLK_LEFT, SDL_SCANCODE_LEFT, 0xff51 },
		{ "Up", SDLK_UP, SDL_SCANCODE_UP, 0xff52 },
		{ "Right", SDLK_RIGHT, SDL_SCANCODE_RIGHT, 0xff53 },
		{ "Down", SDLK_DOWN, SDL_SCANCODE_DOWN, 0xff54 },
		{ "Print", SDLK_PRINTSCREEN, SDL_SCANCODE_PRINTSCREEN, 0xff61 },
		{ "Pause", SDLK_PAUSE, SDL_SCANCODE_PAUSE, 0xff13 },
		{ "Menu (application key)", SDLK_APPLICATION, SDL_SCANCODE_APPLICATION, 0xff67 },
		{ "Menu", SDLK_MENU, SDL_SCANCODE_MENU, 0xff67 },
		{ "Caps_Lock", SDLK_CAPSLOCK, SDL_SCANCODE_CAPSLOCK, 0xffe5 },
		{ "Num_Lock", SDLK_NUMLOCKCLEAR, SDL_SCANCODE_NUMLOCKCLEAR, 0xff7f },
		{ "Scroll_Lock", SDLK_SCROLLLOCK, SDL_SCANCODE_SCROLLLOCK, 0xff14 },
	};
	CHECK_KEYSYMS(cases);
}

Test(keymap, function_keys_f1_to_f24_are_consecutive_keysyms)
{
	static const SDL_Keycode f[24] = {
		SDLK_F1,  SDLK_F2,  SDLK_F3,  SDLK_F4,  SDLK_F5,  SDLK_F6,  SDLK_F7,  SDLK_F8,
		SDLK_F9,  SDLK_F10, SDLK_F11, SDLK_F12, SDLK_F13, SDLK_F14, SDLK_F15, SDLK_F16,
		SDLK_F17, SDLK_F18, SDLK_F19, SDLK_F20, SDLK_F21, SDLK_F22, SDLK_F23, SDLK_F24,
	};
	for (int i = 0; i < 24; i++) {
		SDL_Scancode sc = i < 12 ? (SDL_Scancode)(SDL_SCANCODE_F1 + i)
					 : (SDL_Scancode)(SDL_SCANCODE_F13 + i - 12);
		cr_expect_eq(keymap_keysym(f[i], sc), 0xffbeu + (uint32_t)i, "F%d", i + 1);
		cr_expect_eq(keymap_decide(f[i], sc, KMOD_NONE), KEYMAP_KEYSYM, "F%d", i + 1);
	}
	cr_expect_eq(keymap_keysym(SDLK_F1, SDL_SCANCODE_F1), 0xffbe);
	cr_expect_eq(keymap_keysym(SDLK_F24, SDL_SCANCODE_F24), 0xffd5);
}

Test(keymap, modifiers_map_to_left_and_right_keysyms)
{
	static const struct key_case cases[] = {
		{ "Shift_L", SDLK_LSHIFT, SDL_SCANCODE_LSHIFT, 0xffe1 },
		{ "Shift_R", SDLK_RSHIFT, SDL_SCANCODE_RSHIFT, 0xffe2 },
		{ "Control_L", SDLK_LCTRL, SDL_SCANCODE_LCTRL, 0xffe3 },
		{ "Control_R", SDLK_RCTRL, SDL_SCANCODE_RCTRL, 0xffe4 },
		{ "Alt_L", SDLK_LALT, SDL_SCANCODE_LALT, 0xffe9 },
		{ "Alt_R (no AltGr on JIS)", SDLK_RALT, SDL_SCANCODE_RALT, 0xffea },
		{ "Super_L", SDLK_LGUI, SDL_SCANCODE_LGUI, 0xffeb },
		{ "Super_R", SDLK_RGUI, SDL_SCANCODE_RGUI, 0xffec },
		{ "Mode_switch", SDLK_MODE, SDL_SCANCODE_MODE, 0xff7e },
	};
	CHECK_KEYSYMS(cases);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_expect(keymap_is_modifier(cases[i].sym), "%s", cases[i].what);
		cr_expect_eq(keymap_decide(cases[i].sym, cases[i].scancode, KMOD_NONE),
			     KEYMAP_KEYSYM, "%s", cases[i].what);
	}
	cr_expect_not(keymap_is_modifier(SDLK_a));
	cr_expect_not(keymap_is_modifier(SDLK_CAPSLOCK));
	cr_expect_not(keymap_is_modifier(SDLK_RETURN));
}

Test(keymap, keypad_keys_use_kp_keysyms)
{
	static const struct key_case cases[] = {
		{ "KP_Enter", SDLK_KP_ENTER, SDL_SCANCODE_KP_ENTER, 0xff8d },
		{ "KP_Add", SDLK_KP_PLUS, SDL_SCANCODE_KP_PLUS, 0xffab },
		{ "KP_Subtract", SDLK_KP_MINUS, SDL_SCANCODE_KP_MINUS, 0xffad },
		{ "KP_Multiply", SDLK_KP_MULTIPLY, SDL_SCANCODE_KP_MULTIPLY, 0xffaa },
		{ "KP_Divide", SDLK_KP_DIVIDE, SDL_SCANCODE_KP_DIVIDE, 0xffaf },
		{ "KP_Equal", SDLK_KP_EQUALS, SDL_SCANCODE_KP_EQUALS, 0xffbd },
		{ "KP_0 = KP_Insert", SDLK_KP_0, SDL_SCANCODE_KP_0, 0xff9e },
		{ "KP_1 = KP_End", SDLK_KP_1, SDL_SCANCODE_KP_1, 0xff9c },
		{ "KP_2 = KP_Down", SDLK_KP_2, SDL_SCANCODE_KP_2, 0xff99 },
		{ "KP_3 = KP_Next", SDLK_KP_3, SDL_SCANCODE_KP_3, 0xff9b },
		{ "KP_4 = KP_Left", SDLK_KP_4, SDL_SCANCODE_KP_4, 0xff96 },
		{ "KP_5 = KP_Begin", SDLK_KP_5, SDL_SCANCODE_KP_5, 0xff9d },
		{ "KP_6 = KP_Right", SDLK_KP_6, SDL_SCANCODE_KP_6, 0xff98 },
		{ "KP_7 = KP_Home", SDLK_KP_7, SDL_SCANCODE_KP_7, 0xff95 },
		{ "KP_8 = KP_Up", SDLK_KP_8, SDL_SCANCODE_KP_8, 0xff97 },
		{ "KP_9 = KP_Prior", SDLK_KP_9, SDL_SCANCODE_KP_9, 0xff9a },
		{ "KP_Decimal = KP_Delete", SDLK_KP_PERIOD, SDL_SCANCODE_KP_PERIOD, 0xff9f },
	};
	CHECK_KEYSYMS(cases);
}

Test(keymap, keypad_digits_are_text_with_numlock_and_keys_without)
{
	cr_expect_eq(keymap_decide(SDLK_KP_7, SDL_SCANCODE_KP_7, KMOD_NUM), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_KP_0, SDL_SCANCODE_KP_0, KMOD_NUM), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_KP_PERIOD, SDL_SCANCODE_KP_PERIOD, KMOD_NUM), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_KP_7, SDL_SCANCODE_KP_7, KMOD_NONE), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_KP_PERIOD, SDL_SCANCODE_KP_PERIOD, KMOD_NONE),
		     KEYMAP_KEYSYM);
	/* X11: Shift inverts NumLock on the keypad (KP_Home, no text). */
	cr_expect_eq(keymap_decide(SDLK_KP_7, SDL_SCANCODE_KP_7, KMOD_NUM | KMOD_LSHIFT),
		     KEYMAP_KEYSYM);
	/* Ctrl with NumLock: a key event. */
	cr_expect_eq(keymap_decide(SDLK_KP_1, SDL_SCANCODE_KP_1, KMOD_NUM | KMOD_LCTRL),
		     KEYMAP_KEYSYM);
	/* Operators type text whatever NumLock says; Enter never does. */
	cr_expect_eq(keymap_decide(SDLK_KP_PLUS, SDL_SCANCODE_KP_PLUS, KMOD_NONE), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_KP_DIVIDE, SDL_SCANCODE_KP_DIVIDE, KMOD_NUM), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_KP_PLUS, SDL_SCANCODE_KP_PLUS, KMOD_LCTRL), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_KP_ENTER, SDL_SCANCODE_KP_ENTER, KMOD_NUM), KEYMAP_KEYSYM);
}

/* The JIS keys as SDL 2.26 reports them on X11 with the xkb "jp" layout. */
Test(keymap, jis_keys_on_x11_map_by_scancode)
{
	static const struct key_case cases[] = {
		{ "半角/全角 (TLDE, Zenkaku_Hankaku)", X11_UNKNOWN_KEYCODE, SDL_SCANCODE_GRAVE,
		  0xff2a },
		{ "変換", SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL4, 0xff23 },
		{ "変換 (keycode from Henkan_Mode)",
		  SDL_SCANCODE_TO_KEYCODE(SDL_SCANCODE_INTERNATIONAL4), SDL_SCANCODE_INTERNATIONAL4,
		  0xff23 },
		{ "無変換", SDL_SCANCODE_TO_KEYCODE(SDL_SCANCODE_INTERNATIONAL5),
		  SDL_SCANCODE_INTERNATIONAL5, 0xff22 },
		{ "カタカナひらがな", SDL_SCANCODE_TO_KEYCODE(SDL_SCANCODE_INTERNATIONAL2),
		  SDL_SCANCODE_INTERNATIONAL2, 0xff27 },
		{ "ろ (backslash keysym)", SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL1, 0x5c },
		{ "¥ (jp106: backslash keysym)", SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL3,
		  0xa5 },
		{ "¥ (OADG109A: yen keysym)", 0xa5, SDL_SCANCODE_INTERNATIONAL3, 0xa5 },
		{ "英数 (CAPS, Eisu_toggle)", X11_UNKNOWN_KEYCODE, SDL_SCANCODE_CAPSLOCK, 0xffe5 },
		{ "KEY_ZENKAKUHANKAKU", SDLK_UNKNOWN, SDL_SCANCODE_LANG5, 0xff2a },
		{ "KEY_KATAKANA", SDLK_UNKNOWN, SDL_SCANCODE_LANG3, 0xff26 },
		{ "KEY_HIRAGANA", SDLK_UNKNOWN, SDL_SCANCODE_LANG4, 0xff25 },
		{ "Apple JIS 英数 (KEY_HANJA)", SDLK_UNKNOWN, SDL_SCANCODE_LANG2, 0xff30 },
		{ "Apple JIS かな (KEY_HANGEUL)", SDLK_UNKNOWN, SDL_SCANCODE_LANG1, 0xff27 },
	};
	CHECK_KEYSYMS(cases);
}

/* The same keys as SDL 2.26 reports them on Windows with the Japanese layout. */
Test(keymap, jis_keys_on_windows_map_by_scancode)
{
	static const struct key_case cases[] = {
		{ "半角/全角 (scan 0x29: GRAVE, default keycode `)", SDLK_BACKQUOTE,
		  SDL_SCANCODE_GRAVE, 0xff2a },
		{ "変換 (scan 0x79, no character)", SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL4,
		  0xff23 },
		{ "無変換 (scan 0x7B)", SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL5, 0xff22 },
		{ "カタカナひらがな (scan 0x70)", SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL2,
		  0xff27 },
		{ "ろ (VK_OEM_102 -> NONUSBACKSLASH, no keycode)", SDLK_UNKNOWN,
		  SDL_SCANCODE_NONUSBACKSLASH, 0x5c },
		{ "ろ (VK_OEM_102 -> NONUSBACKSLASH, keycode \\)", SDLK_BACKSLASH,
		  SDL_SCANCODE_NONUSBACKSLASH, 0x5c },
		{ "¥ (scan 0x7D, VK_OEM_5 types \\)", SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL3,
		  0xa5 },
		{ "英数 (scan 0x3A)", SDLK_CAPSLOCK, SDL_SCANCODE_CAPSLOCK, 0xffe5 },
	};
	CHECK_KEYSYMS(cases);
}

Test(keymap, jis_ime_keys_go_as_keysyms_even_without_a_keycode)
{
	cr_expect_eq(keymap_decide(X11_UNKNOWN_KEYCODE, SDL_SCANCODE_GRAVE, KMOD_NONE),
		     KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_BACKQUOTE, SDL_SCANCODE_GRAVE, KMOD_NONE), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL4, KMOD_NONE),
		     KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL5, KMOD_NONE),
		     KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL2, KMOD_LSHIFT),
		     KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_UNKNOWN, SDL_SCANCODE_LANG2, KMOD_NONE), KEYMAP_KEYSYM);
}

Test(keymap, ro_and_yen_are_text_unless_ctrl_is_held)
{
	/* X11 */
	cr_expect_eq(keymap_decide(SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL1, KMOD_NONE),
		     KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL1, KMOD_LSHIFT),
		     KEYMAP_TEXT); /* "_" */
	cr_expect_eq(keymap_decide(SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL3, KMOD_NONE),
		     KEYMAP_TEXT);
	/* Windows: ろ as NONUSBACKSLASH without a keycode still types "\" */
	cr_expect_eq(keymap_decide(SDLK_UNKNOWN, SDL_SCANCODE_NONUSBACKSLASH, KMOD_NONE),
		     KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_UNKNOWN, SDL_SCANCODE_INTERNATIONAL1, KMOD_NONE),
		     KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL1, KMOD_LCTRL),
		     KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_BACKSLASH, SDL_SCANCODE_INTERNATIONAL3, KMOD_RCTRL),
		     KEYMAP_KEYSYM);
}

Test(keymap, caps_lock_eisu_and_other_locks_are_not_forwarded)
{
	cr_expect_eq(keymap_decide(SDLK_CAPSLOCK, SDL_SCANCODE_CAPSLOCK, KMOD_NONE), KEYMAP_IGNORE);
	cr_expect_eq(keymap_decide(X11_UNKNOWN_KEYCODE, SDL_SCANCODE_CAPSLOCK, KMOD_NONE),
		     KEYMAP_IGNORE);
	cr_expect_eq(keymap_decide(SDLK_CAPSLOCK, SDL_SCANCODE_CAPSLOCK, KMOD_LSHIFT),
		     KEYMAP_IGNORE);
	cr_expect_eq(keymap_decide(SDLK_NUMLOCKCLEAR, SDL_SCANCODE_NUMLOCKCLEAR, KMOD_NUM),
		     KEYMAP_IGNORE);
	cr_expect_eq(keymap_decide(SDLK_SCROLLLOCK, SDL_SCANCODE_SCROLLLOCK, KMOD_NONE),
		     KEYMAP_IGNORE);
}

Test(keymap, printable_keys_map_to_unshifted_latin1_keysyms)
{
	static const struct key_case cases[] = {
		{ "a", SDLK_a, SDL_SCANCODE_A, 'a' },
		{ "z", SDLK_z, SDL_SCANCODE_Z, 'z' },
		{ "1", SDLK_1, SDL_SCANCODE_1, '1' },
		{ "space", SDLK_SPACE, SDL_SCANCODE_SPACE, 0x20 },
		{ "minus", SDLK_MINUS, SDL_SCANCODE_MINUS, '-' },
		{ "JIS @ (xkb AD11)", SDLK_AT, SDL_SCANCODE_LEFTBRACKET, '@' },
		{ "JIS ^", SDLK_CARET, SDL_SCANCODE_EQUALS, '^' },
		{ "JIS :", SDLK_COLON, SDL_SCANCODE_APOSTROPHE, ':' },
		{ "German ß", 0xdf, SDL_SCANCODE_MINUS, 0xdf },
		{ "Russian ф", 0x444, SDL_SCANCODE_A, 0x01000444 },
		{ "German ^ at the grave position", SDLK_CARET, SDL_SCANCODE_GRAVE, '^' },
		{ "ISO < (NONUSBACKSLASH with a keycode)", SDLK_LESS, SDL_SCANCODE_NONUSBACKSLASH,
		  '<' },
	};
	CHECK_KEYSYMS(cases);
}

Test(keymap, text_keys_without_modifiers_take_the_text_path)
{
	cr_expect_eq(keymap_decide(SDLK_a, SDL_SCANCODE_A, KMOD_NONE), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_a, SDL_SCANCODE_A, KMOD_LSHIFT), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_a, SDL_SCANCODE_A, KMOD_CAPS | KMOD_NUM), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_SPACE, SDL_SCANCODE_SPACE, KMOD_NONE), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(SDLK_1, SDL_SCANCODE_1, KMOD_RSHIFT), KEYMAP_TEXT);
	cr_expect_eq(keymap_decide(0xdf, SDL_SCANCODE_MINUS, KMOD_NONE), KEYMAP_TEXT);
}

Test(keymap, ctrl_alt_or_gui_with_a_letter_sends_the_keysym)
{
	/* Ctrl+C: Control_L went as a key, then c, not the text path. */
	cr_expect_eq(keymap_decide(SDLK_c, SDL_SCANCODE_C, KMOD_LCTRL), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_keysym(SDLK_c, SDL_SCANCODE_C), 'c');
	cr_expect_eq(keymap_decide(SDLK_c, SDL_SCANCODE_C, KMOD_RCTRL | KMOD_LSHIFT),
		     KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_f, SDL_SCANCODE_F, KMOD_LALT), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_f, SDL_SCANCODE_F, KMOD_RALT), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_l, SDL_SCANCODE_L, KMOD_LGUI), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_SPACE, SDL_SCANCODE_SPACE, KMOD_LCTRL), KEYMAP_KEYSYM);
}

Test(keymap, altgr_text_stays_on_the_text_path)
{
	/* Windows AltGr: LCtrl + RAlt. */
	cr_expect_eq(keymap_decide(SDLK_q, SDL_SCANCODE_Q, KMOD_LCTRL | KMOD_RALT), KEYMAP_TEXT);
	/* X11 Mode_switch. */
	cr_expect_eq(keymap_decide(SDLK_q, SDL_SCANCODE_Q, KMOD_MODE), KEYMAP_TEXT);
	/* Real Ctrl+Alt chords are keys. */
	cr_expect_eq(keymap_decide(SDLK_q, SDL_SCANCODE_Q, KMOD_LCTRL | KMOD_LALT), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_q, SDL_SCANCODE_Q, KMOD_RCTRL | KMOD_RALT), KEYMAP_KEYSYM);
	cr_expect_eq(keymap_decide(SDLK_q, SDL_SCANCODE_Q, KMOD_LCTRL | KMOD_RALT | KMOD_LALT),
		     KEYMAP_KEYSYM);
	/* Non-text keys with AltGr are still keys. */
	cr_expect_eq(keymap_decide(SDLK_LEFT, SDL_SCANCODE_LEFT, KMOD_LCTRL | KMOD_RALT),
		     KEYMAP_KEYSYM);
}

Test(keymap, text_events_are_dropped_while_ctrl_alt_or_gui_is_held)
{
	cr_expect(keymap_text_wanted(KMOD_NONE));
	cr_expect(keymap_text_wanted(KMOD_LSHIFT | KMOD_CAPS | KMOD_NUM));
	cr_expect(keymap_text_wanted(KMOD_LCTRL | KMOD_RALT)); /* AltGr */
	cr_expect(keymap_text_wanted(KMOD_MODE));
	cr_expect_not(keymap_text_wanted(KMOD_LALT)); /* X11 sends "f" for Alt+F */
	cr_expect_not(keymap_text_wanted(KMOD_RALT));
	cr_expect_not(keymap_text_wanted(KMOD_LCTRL));
	cr_expect_not(keymap_text_wanted(KMOD_RGUI));
	cr_expect_not(keymap_text_wanted(KMOD_LCTRL | KMOD_LALT));
}

Test(keymap, every_keystroke_takes_exactly_one_path)
{
	/*
	 * For each key and modifier set: a text key whose text is wanted never
	 * also goes as a keysym, and a keysym never goes with wanted text.
	 */
	static const uint16_t mods[] = { KMOD_NONE,
					 KMOD_LSHIFT,
					 KMOD_LCTRL,
					 KMOD_LALT,
					 KMOD_RALT,
					 KMOD_LGUI,
					 KMOD_LCTRL | KMOD_RALT,
					 KMOD_NUM,
					 KMOD_NUM | KMOD_LSHIFT,
					 KMOD_CAPS };
	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
		/* The keycodes SDL can attach: its own for the scancode, none, characters. */
		const SDL_Keycode syms[] = { SDL_SCANCODE_TO_KEYCODE(sc),
					     SDLK_UNKNOWN,
					     SDLK_a,
					     SDLK_BACKQUOTE,
					     SDLK_BACKSLASH,
					     SDLK_SPACE,
					     0xdf,
					     0x65e5 };
		for (size_t k = 0; k < sizeof syms / sizeof syms[0]; k++) {
			for (size_t m = 0; m < sizeof mods / sizeof mods[0]; m++) {
				SDL_Keycode sym = syms[k];
				enum keymap_path path = keymap_decide(sym, (SDL_Scancode)sc,
								      mods[m]);
				if (path == KEYMAP_TEXT)
					cr_expect(keymap_text_wanted(mods[m]),
						  "scancode %d sym 0x%x mod 0x%x", sc, sym,
						  mods[m]);
				if (path == KEYMAP_KEYSYM)
					cr_expect_neq(keymap_keysym(sym, (SDL_Scancode)sc), 0,
						      "scancode %d sym 0x%x mod 0x%x", sc, sym,
						      mods[m]);
			}
		}
	}
}

Test(keymap, unknown_keys_are_ignored)
{
	cr_expect_eq(keymap_keysym(SDLK_UNKNOWN, SDL_SCANCODE_UNKNOWN), 0);
	cr_expect_eq(keymap_decide(SDLK_UNKNOWN, SDL_SCANCODE_UNKNOWN, KMOD_NONE), KEYMAP_IGNORE);
	cr_expect_eq(keymap_decide(X11_UNKNOWN_KEYCODE, SDL_SCANCODE_UNKNOWN, KMOD_NONE),
		     KEYMAP_IGNORE);
	cr_expect_eq(keymap_decide(SDLK_VOLUMEUP, SDL_SCANCODE_VOLUMEUP, KMOD_NONE), KEYMAP_IGNORE);
	cr_expect_eq(keymap_decide(SDLK_BRIGHTNESSDOWN, SDL_SCANCODE_BRIGHTNESSDOWN, KMOD_LCTRL),
		     KEYMAP_IGNORE);
	/* Keycodes that are not characters: C1 controls, surrogates, beyond Unicode. */
	cr_expect_eq(keymap_keysym(0x85, SDL_SCANCODE_UNKNOWN), 0);
	cr_expect_eq(keymap_keysym(0xd800, SDL_SCANCODE_UNKNOWN), 0);
	cr_expect_eq(keymap_keysym(0x110000, SDL_SCANCODE_UNKNOWN), 0);
}

Test(keymap, pastes_are_ctrl_v_and_shift_insert)
{
	cr_assert(keymap_is_paste(SDLK_v, KMOD_LCTRL));
	cr_assert(keymap_is_paste(SDLK_v, KMOD_RCTRL | KMOD_LSHIFT));
	cr_assert(keymap_is_paste(SDLK_v, KMOD_LCTRL | KMOD_NUM | KMOD_CAPS));
	cr_assert(keymap_is_paste(SDLK_INSERT, KMOD_LSHIFT));
	cr_assert_not(keymap_is_paste(SDLK_v, KMOD_NONE));
	cr_assert_not(keymap_is_paste(SDLK_v, KMOD_LSHIFT));
	cr_assert_not(keymap_is_paste(SDLK_v, KMOD_LCTRL | KMOD_LALT));
	cr_assert_not(keymap_is_paste(SDLK_v, KMOD_RALT | KMOD_LCTRL)); /* AltGr on Windows */
	cr_assert_not(keymap_is_paste(SDLK_v, KMOD_LGUI | KMOD_LCTRL));
	cr_assert_not(keymap_is_paste(SDLK_INSERT, KMOD_NONE));
	cr_assert_not(keymap_is_paste(SDLK_INSERT, KMOD_LCTRL)); /* Ctrl+Insert copies */
	cr_assert_not(keymap_is_paste(SDLK_c, KMOD_LCTRL));
}
