/*
 * viewer_keymap.h: keyboard policy of pixelgate-viewer, as pure functions.
 *
 * Two paths carry keys to the remote browser:
 *   - keys that do not produce text (Enter, Tab, Backspace, arrows, F-keys,
 *     Escape, modifiers, JIS IME keys, and any key while Ctrl/Alt/GUI is
 *     held) go as their X keysym from the SDL key event;
 *   - text (SDL_TEXTINPUT, i.e. what the local IME committed) goes as
 *     Unicode keysyms, each character once.
 * keymap_decide() says which path a key event takes, so a keystroke is
 * never sent both as a key and as text.
 *
 * How the application uses it (SDL2):
 *   SDL_KEYDOWN: if keymap_decide(sym, scancode, mod) == KEYMAP_KEYSYM, send
 *                ks = keymap_keysym(sym, scancode) down and remember ks for
 *                the scancode; otherwise send nothing (KEYMAP_TEXT: the
 *                SDL_TEXTINPUT that follows types it).
 *   SDL_KEYUP:   release the keysym remembered for the scancode, if any.
 *                (Never decide again on key-up: Ctrl may have been released
 *                before the letter, and the letter must still go up.)
 *   SDL_TEXTINPUT: if keymap_text_wanted(SDL_GetModState()), for each code
 *                point cp that utf8_next() (utf8.h) decodes, with
 *                ks = keysym_from_codepoint(cp) != 0 (keysym.h), send ks
 *                down then up; skip one byte where utf8_next() gives 0.
 *   Focus lost:  release every remembered keysym.
 *   While the IME shows a composition (SDL_TEXTEDITING with text), send no
 *   key events at all: the keys belong to the IME.
 *
 * keymap_text_wanted() matters on X11: SDL 2.26 delivers an SDL_TEXTINPUT
 * "f" for Alt+F (XLookupString ignores Mod1), which would type an "f" after
 * the Alt+F keysym. Windows sends no text for Alt/Ctrl combinations.
 */
#ifndef PIXELGATE_VIEWER_KEYMAP_H
#define PIXELGATE_VIEWER_KEYMAP_H

#include <SDL2/SDL_keyboard.h>
#include <stdbool.h>
#include <stdint.h>

/* X keysyms used by the table (values from X11/keysymdef.h). */
#define KEYMAP_XK_Zenkaku_Hankaku 0xff2a
#define KEYMAP_XK_Henkan 0xff23
#define KEYMAP_XK_Muhenkan 0xff22
#define KEYMAP_XK_Hiragana_Katakana 0xff27
#define KEYMAP_XK_Hiragana 0xff25
#define KEYMAP_XK_Katakana 0xff26
#define KEYMAP_XK_Eisu_toggle 0xff30
#define KEYMAP_XK_yen 0x00a5
#define KEYMAP_XK_backslash 0x005c

enum keymap_path {
	KEYMAP_IGNORE, /* nothing to send (unknown key, or handled by the viewer) */
	KEYMAP_KEYSYM, /* send the key event as the keysym keymap_keysym() gives */
	KEYMAP_TEXT,   /* do not send: the matching SDL_TEXTINPUT carries it */
};

/*
 * X keysym for an SDL key (scancode decides for the JIS keys, keycode for
 * the rest), or 0 if there is none. Printable keys map to the keysym of
 * their unshifted character (for Ctrl/Alt combinations) by the one rule of
 * keysym.h: Latin-1 as itself, other characters 0x01000000 + code point. Keypad digits and the keypad period map to their
 * NumLock-off keysyms (KP_Home ... KP_Insert, KP_Delete): with NumLock on
 * they produce text and keymap_decide() sends them on the text path.
 * See viewer_keymap.c for how SDL 2.26 reports the JIS keys on X11 and
 * Windows.
 */
uint32_t keymap_keysym(SDL_Keycode sym, SDL_Scancode scancode);

/*
 * Which path a key-down event with these modifiers (SDL_Keymod bits) takes:
 *   KEYMAP_TEXT    a key that types a character (letters, digits, space,
 *                  punctuation, ろ, ¥, keypad digits with NumLock, keypad
 *                  operators) with neither Ctrl, Alt nor GUI held; Shift and
 *                  AltGr are fine (AltGr: KMOD_MODE, or RAlt together with
 *                  LCtrl, which is how Windows reports AltGr);
 *   KEYMAP_KEYSYM  every other key keymap_keysym() knows, including text keys
 *                  with Ctrl, Alt (also RAlt alone: JIS keyboards have no
 *                  AltGr) or GUI held, so Ctrl+C goes as Control_L then c;
 *   KEYMAP_IGNORE  unknown keys, and the lock keys (Caps Lock / 英数, Num
 *                  Lock, Scroll Lock): the local lock state already shapes the
 *                  text and the keypad, and a lock toggled in the remote X
 *                  server would change the case of what the session types.
 */
enum keymap_path keymap_decide(SDL_Keycode sym, SDL_Scancode scancode, uint16_t mod);

/* True for the modifier keys (Shift, Ctrl, Alt, GUI, AltGr) themselves. */
bool keymap_is_modifier(SDL_Keycode sym);

/*
 * Whether an SDL_TEXTINPUT arriving while these modifiers are held should be
 * typed: false while Ctrl, Alt or GUI (but not AltGr) is held, because the
 * key event already went as a keysym (see keymap_decide()).
 */
bool keymap_text_wanted(uint16_t mod);

/*
 * Whether a key press is a paste: Ctrl+V (with or without Shift, Chromium's
 * "paste as plain text") or Shift+Insert, without Alt or GUI (AltGr+V types
 * a character on some layouts). The viewer then offers the terminal's
 * clipboard text to the session before the key goes.
 */
bool keymap_is_paste(SDL_Keycode sym, uint16_t mod);

#endif
