/*
 * viewer_keymap.c: SDL key events to X keysyms, and which keystrokes travel
 * as keys and which as text (see viewer_keymap.h for the contract).
 *
 * How SDL 2.26 reports the JIS keys (read in the SDL sources; the keycodes
 * of the keys SDL's tables do not name were checked against SDL 2.26.5's
 * default keymap, where INTERNATIONAL1..5, LANG1..5 and NONUSBACKSLASH are
 * all SDLK_UNKNOWN):
 *
 * X11 (src/video/x11/SDL_x11keyboard.c, src/events/scancodes_xfree86.h /
 * scancodes_linux.h, SDL_keysym_to_scancode.c): the scancode comes from the
 * evdev keycode table; only non-character keys whose keysym names another
 * scancode are remapped. The keycode is the key's level-0 keysym through
 * imKStoUCS, else SDL_SCANCODE_TO_KEYCODE(scancode of that keysym), which is
 * 0x40000000 for keysyms SDL does not know (Zenkaku_Hankaku, Eisu_toggle).
 * With the xkb "jp" layout:
 *   半角/全角  evdev KEY_GRAVE (the key sits where ` is; xkb aliases <HZTG>
 *             to <TLDE>), keysym Zenkaku_Hankaku -> SDL_SCANCODE_GRAVE,
 *             keycode 0x40000000. (KEY_ZENKAKUHANKAKU -> LANG5 exists in the
 *             table but PC keyboards do not send it.)
 *   変換       KEY_HENKAN -> INTERNATIONAL4; 無変換 KEY_MUHENKAN -> INTERNATIONAL5
 *             (and so does KEY_KPJPCOMMA); カタカナひらがな
 *             KEY_KATAKANAHIRAGANA -> INTERNATIONAL2; KEY_KATAKANA -> LANG3,
 *             KEY_HIRAGANA -> LANG4; keycodes from the keysyms Henkan_Mode,
 *             Muhenkan, Hiragana_Katakana (SDL scancode keycodes).
 *   ろ         KEY_RO -> INTERNATIONAL1, keysym backslash -> keycode '\\',
 *             types "\" (Shift: "_").
 *   ¥          KEY_YEN -> INTERNATIONAL3, keysym backslash (jp106) or yen
 *             (jp OADG109A) -> keycode '\\' or 0xa5, types that character.
 *   英数       the Caps Lock key: keysym Eisu_toggle (Shift: Caps_Lock);
 *             SDL keeps SDL_SCANCODE_CAPSLOCK (not remappable), keycode
 *             0x40000000.
 *   KEY_HANGEUL -> LANG1, KEY_HANJA -> LANG2 (Apple JIS かな/英数).
 *
 * Windows (src/events/scancodes_windows.h, WindowsScanCodeToSDLScanCode and
 * VKeytoScancode in src/video/windows/SDL_windowsevents.c, WIN_UpdateKeymap
 * in SDL_windowskeyboard.c; the JIS layout's virtual keys as in ReactOS
 * dll/keyboard/kbdja/kbdja.c): the scancode comes from VKeytoScancode()
 * first, then from the table indexed by the PS/2 set-1 scan code. The
 * keycode is MapVirtualKey(vk, MAPVK_VK_TO_CHAR) of the key's virtual key,
 * else SDL's default:
 *   半角/全角  scan 0x29 (VK_KANJI / VK_OEM_AUTO, no character) ->
 *             SDL_SCANCODE_GRAVE with the default keycode SDLK_BACKQUOTE.
 *             It cannot be told apart from ` on a US keyboard, so this
 *             table treats SDL_SCANCODE_GRAVE with keycode ` as 半角/全角
 *             (the users have JIS keyboards; on a US layout a typed ` also
 *             sends a harmless Zenkaku_Hankaku key, the text still arrives
 *             once through SDL_TEXTINPUT).
 *   カタカナひらがな scan 0x70 -> INTERNATIONAL2; ろ scan 0x73 is VK_OEM_102,
 *             which VKeytoScancode() turns into SDL_SCANCODE_NONUSBACKSLASH
 *             (not INTERNATIONAL1), keycode SDLK_UNKNOWN or '\\'; 変換 scan
 *             0x79 -> INTERNATIONAL4; 無変換 scan 0x7B -> INTERNATIONAL5; ¥
 *             scan 0x7D (VK_OEM_5, types "\") -> INTERNATIONAL3, keycode
 *             '\\'. The IME keys have keycode SDLK_UNKNOWN (no character).
 *   英数       scan 0x3A (VK_OEM_ATTN; Shift: VK_CAPITAL) ->
 *             SDL_SCANCODE_CAPSLOCK, keycode SDLK_CAPSLOCK.
 *   With the IME on, keys it consumes arrive as VK_PROCESSKEY and SDL drops
 *   them (IME_HandleMessage), so only keys the IME lets through reach us.
 *
 * So the JIS keys are recognised by scancode whatever the keycode says, and
 * a keycode of 0 or 0x40000000 is not "unknown" for them.
 */
#include "viewer_keymap.h"

/* pgviewer has no include path to proxy/common (header only: nothing to link) */
#include "keysym.h"

/* X keysyms (X11/keysymdef.h); the viewer does not link Xlib. */
#define XK_BackSpace 0xff08
#define XK_Tab 0xff09
#define XK_Return 0xff0d
#define XK_Pause 0xff13
#define XK_Scroll_Lock 0xff14
#define XK_Sys_Req 0xff15
#define XK_Escape 0xff1b
#define XK_Home 0xff50
#define XK_Left 0xff51
#define XK_Up 0xff52
#define XK_Right 0xff53
#define XK_Down 0xff54
#define XK_Prior 0xff55
#define XK_Next 0xff56
#define XK_End 0xff57
#define XK_Print 0xff61
#define XK_Insert 0xff63
#define XK_Menu 0xff67
#define XK_Mode_switch 0xff7e
#define XK_Num_Lock 0xff7f
#define XK_KP_Enter 0xff8d
#define XK_KP_Home 0xff95
#define XK_KP_Left 0xff96
#define XK_KP_Up 0xff97
#define XK_KP_Right 0xff98
#define XK_KP_Down 0xff99
#define XK_KP_Prior 0xff9a
#define XK_KP_Next 0xff9b
#define XK_KP_End 0xff9c
#define XK_KP_Begin 0xff9d
#define XK_KP_Insert 0xff9e
#define XK_KP_Delete 0xff9f
#define XK_KP_Multiply 0xffaa
#define XK_KP_Add 0xffab
#define XK_KP_Separator 0xffac
#define XK_KP_Subtract 0xffad
#define XK_KP_Divide 0xffaf
#define XK_KP_Equal 0xffbd
#define XK_F1 0xffbe
#define XK_Shift_L 0xffe1
#define XK_Shift_R 0xffe2
#define XK_Control_L 0xffe3
#define XK_Control_R 0xffe4
#define XK_Caps_Lock 0xffe5
#define XK_Alt_L 0xffe9
#define XK_Alt_R 0xffea
#define XK_Super_L 0xffeb
#define XK_Super_R 0xffec
#define XK_Delete 0xffff

/* Keys that never type text by themselves (or type text SDL reports). */
struct keymap_entry {
	SDL_Keycode sym;
	uint32_t keysym;
	bool text; /* produces an SDL_TEXTINPUT when typed without Ctrl/Alt/GUI */
};

static const struct keymap_entry keymap_table[] = {
	{ SDLK_RETURN, XK_Return, false },
	{ SDLK_RETURN2, XK_Return, false },
	{ SDLK_TAB, XK_Tab, false },
	{ SDLK_BACKSPACE, XK_BackSpace, false },
	{ SDLK_ESCAPE, XK_Escape, false },
	{ SDLK_DELETE, XK_Delete, false },
	{ SDLK_INSERT, XK_Insert, false },
	{ SDLK_HOME, XK_Home, false },
	{ SDLK_END, XK_End, false },
	{ SDLK_PAGEUP, XK_Prior, false },
	{ SDLK_PAGEDOWN, XK_Next, false },
	{ SDLK_LEFT, XK_Left, false },
	{ SDLK_UP, XK_Up, false },
	{ SDLK_RIGHT, XK_Right, false },
	{ SDLK_DOWN, XK_Down, false },
	{ SDLK_PRINTSCREEN, XK_Print, false },
	{ SDLK_PAUSE, XK_Pause, false },
	{ SDLK_SYSREQ, XK_Sys_Req, false },
	{ SDLK_APPLICATION, XK_Menu, false },
	{ SDLK_MENU, XK_Menu, false },
	{ SDLK_CAPSLOCK, XK_Caps_Lock, false },
	{ SDLK_NUMLOCKCLEAR, XK_Num_Lock, false },
	{ SDLK_SCROLLLOCK, XK_Scroll_Lock, false },
	{ SDLK_LSHIFT, XK_Shift_L, false },
	{ SDLK_RSHIFT, XK_Shift_R, false },
	{ SDLK_LCTRL, XK_Control_L, false },
	{ SDLK_RCTRL, XK_Control_R, false },
	{ SDLK_LALT, XK_Alt_L, false },
	{ SDLK_RALT, XK_Alt_R, false }, /* JIS and US keyboards have no AltGr */
	{ SDLK_LGUI, XK_Super_L, false },
	{ SDLK_RGUI, XK_Super_R, false },
	{ SDLK_MODE, XK_Mode_switch, false },
	/* Keypad: digits and period as with NumLock off (with it on they are text). */
	{ SDLK_KP_ENTER, XK_KP_Enter, false },
	{ SDLK_KP_0, XK_KP_Insert, false },
	{ SDLK_KP_1, XK_KP_End, false },
	{ SDLK_KP_2, XK_KP_Down, false },
	{ SDLK_KP_3, XK_KP_Next, false },
	{ SDLK_KP_4, XK_KP_Left, false },
	{ SDLK_KP_5, XK_KP_Begin, false },
	{ SDLK_KP_6, XK_KP_Right, false },
	{ SDLK_KP_7, XK_KP_Home, false },
	{ SDLK_KP_8, XK_KP_Up, false },
	{ SDLK_KP_9, XK_KP_Prior, false },
	{ SDLK_KP_PERIOD, XK_KP_Delete, false },
	{ SDLK_KP_PLUS, XK_KP_Add, true },
	{ SDLK_KP_MINUS, XK_KP_Subtract, true },
	{ SDLK_KP_MULTIPLY, XK_KP_Multiply, true },
	{ SDLK_KP_DIVIDE, XK_KP_Divide, true },
	{ SDLK_KP_EQUALS, XK_KP_Equal, true },
	{ SDLK_KP_COMMA, XK_KP_Separator, true },
};

#define KEYMAP_NENTRIES (sizeof keymap_table / sizeof keymap_table[0])

/* The JIS keys, recognised by scancode (see the top of this file). */
struct keymap_jis {
	SDL_Scancode scancode;
	uint32_t keysym;
	bool text; /* types a character (ろ "\", ¥ "\" or "¥") */
};

static const struct keymap_jis keymap_jis_table[] = {
	{ SDL_SCANCODE_LANG5, KEYMAP_XK_Zenkaku_Hankaku, false },
	{ SDL_SCANCODE_INTERNATIONAL4, KEYMAP_XK_Henkan, false },
	{ SDL_SCANCODE_INTERNATIONAL5, KEYMAP_XK_Muhenkan, false },
	{ SDL_SCANCODE_INTERNATIONAL2, KEYMAP_XK_Hiragana_Katakana, false },
	{ SDL_SCANCODE_LANG3, KEYMAP_XK_Katakana, false },
	{ SDL_SCANCODE_LANG4, KEYMAP_XK_Hiragana, false },
	{ SDL_SCANCODE_LANG1, KEYMAP_XK_Hiragana_Katakana,
	  false },                                            /* Apple JIS かな (xkb jp <KANA>) */
	{ SDL_SCANCODE_LANG2, KEYMAP_XK_Eisu_toggle, false }, /* Apple JIS 英数 (xkb jp <EISU>) */
	{ SDL_SCANCODE_INTERNATIONAL3, KEYMAP_XK_yen, true },
	{ SDL_SCANCODE_INTERNATIONAL1, KEYMAP_XK_backslash, true },
};

#define KEYMAP_NJIS (sizeof keymap_jis_table / sizeof keymap_jis_table[0])

/* True if sym is a keycode that is itself a printable character. */
static bool keymap_sym_is_char(SDL_Keycode sym)
{
	return keysym_from_codepoint((uint32_t)sym) != 0;
}

static const struct keymap_jis *keymap_find_jis(SDL_Scancode scancode)
{
	for (size_t i = 0; i < KEYMAP_NJIS; i++)
		if (keymap_jis_table[i].scancode == scancode)
			return &keymap_jis_table[i];
	return NULL;
}

static const struct keymap_entry *keymap_find(SDL_Keycode sym)
{
	for (size_t i = 0; i < KEYMAP_NENTRIES; i++)
		if (keymap_table[i].sym == sym)
			return &keymap_table[i];
	return NULL;
}

/* 半角/全角: the ` position with no character or with ` (see the top). */
static bool keymap_is_zenkaku_hankaku(SDL_Keycode sym, SDL_Scancode scancode)
{
	return scancode == SDL_SCANCODE_GRAVE &&
	    (sym == SDLK_BACKQUOTE || !keymap_sym_is_char(sym));
}

/*
 * Look a key up: its keysym (0 if none) and whether it types text when no
 * Ctrl/Alt/GUI is held (keypad digits and period: only with NumLock).
 */
static uint32_t keymap_lookup(SDL_Keycode sym, SDL_Scancode scancode, bool *text)
{
	*text = false;
	if (keymap_is_zenkaku_hankaku(sym, scancode))
		return KEYMAP_XK_Zenkaku_Hankaku;
	const struct keymap_jis *jis = keymap_find_jis(scancode);
	if (jis != NULL) {
		*text = jis->text;
		return jis->keysym;
	}
	if (scancode == SDL_SCANCODE_CAPSLOCK)
		return XK_Caps_Lock; /* also 英数 on JIS, whatever the keycode */
	if (scancode == SDL_SCANCODE_NONUSBACKSLASH && !keymap_sym_is_char(sym)) {
		*text = true; /* ろ on Windows (VK_OEM_102) */
		return KEYMAP_XK_backslash;
	}
	if (sym >= SDLK_F1 && sym <= SDLK_F12)
		return XK_F1 + (uint32_t)(sym - SDLK_F1);
	if (sym >= SDLK_F13 && sym <= SDLK_F24)
		return XK_F1 + 12 + (uint32_t)(sym - SDLK_F13);
	const struct keymap_entry *e = keymap_find(sym);
	if (e != NULL) {
		*text = e->text;
		return e->keysym;
	}
	if (keymap_sym_is_char(sym)) {
		*text = true;
		return keysym_from_codepoint((uint32_t)sym);
	}
	return 0;
}

uint32_t keymap_keysym(SDL_Keycode sym, SDL_Scancode scancode)
{
	bool text;
	return keymap_lookup(sym, scancode, &text);
}

/* AltGr as SDL 2 reports it: KMOD_MODE, or RAlt + LCtrl (Windows adds the LCtrl). */
static bool keymap_altgr(uint16_t mod)
{
	if (mod & KMOD_MODE)
		return true;
	return (mod & KMOD_RALT) && (mod & KMOD_LCTRL) &&
	    !(mod & (KMOD_LALT | KMOD_RCTRL | KMOD_GUI));
}

bool keymap_text_wanted(uint16_t mod)
{
	if (keymap_altgr(mod))
		return true;
	return !(mod & (KMOD_CTRL | KMOD_ALT | KMOD_GUI));
}

bool keymap_is_paste(SDL_Keycode sym, uint16_t mod)
{
	if (mod & (KMOD_ALT | KMOD_GUI))
		return false;
	if (sym == SDLK_v)
		return (mod & KMOD_CTRL) != 0;
	if (sym == SDLK_INSERT)
		return (mod & KMOD_SHIFT) != 0 && !(mod & KMOD_CTRL);
	return false;
}

static bool keymap_is_keypad_number(SDL_Keycode sym)
{
	return (sym >= SDLK_KP_1 && sym <= SDLK_KP_0) || sym == SDLK_KP_PERIOD;
}

enum keymap_path keymap_decide(SDL_Keycode sym, SDL_Scancode scancode, uint16_t mod)
{
	bool text;
	uint32_t keysym = keymap_lookup(sym, scancode, &text);
	if (keysym == 0)
		return KEYMAP_IGNORE;
	if (keysym == XK_Caps_Lock || keysym == XK_Num_Lock || keysym == XK_Scroll_Lock)
		return KEYMAP_IGNORE;
	/* NumLock on: the keypad types digits (Shift inverts it, as in X11). */
	if (keymap_is_keypad_number(sym) && (mod & KMOD_NUM) && !(mod & KMOD_SHIFT))
		text = true;
	if (text && keymap_text_wanted(mod))
		return KEYMAP_TEXT;
	return KEYMAP_KEYSYM;
}

bool keymap_is_modifier(SDL_Keycode sym)
{
	switch (sym) {
	case SDLK_LSHIFT:
	case SDLK_RSHIFT:
	case SDLK_LCTRL:
	case SDLK_RCTRL:
	case SDLK_LALT:
	case SDLK_RALT:
	case SDLK_LGUI:
	case SDLK_RGUI:
	case SDLK_MODE:
		return true;
	default:
		return false;
	}
}
