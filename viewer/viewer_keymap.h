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
#define KEYMAP_XK_Eisu_toggle 0xff30
#define KEYMAP_XK_yen 0x00a5
#define KEYMAP_XK_backslash 0x005c

enum keymap_path {
	KEYMAP_IGNORE,  /* nothing to send (unknown key, or handled by the viewer) */
	KEYMAP_KEYSYM,  /* send the key event as the keysym keymap_keysym() gives */
	KEYMAP_TEXT,    /* do not send: the matching SDL_TEXTINPUT carries it */
};

/*
 * X keysym for an SDL key (scancode decides for the JIS keys, keycode for
 * the rest), or 0 if there is none. Printable keys map to their unshifted
 * Latin-1 keysym (for Ctrl/Alt combinations).
 */
uint32_t keymap_keysym(SDL_Keycode sym, SDL_Scancode scancode);

/* Which path a key event with these modifiers (SDL_Keymod bits) takes. */
enum keymap_path keymap_decide(SDL_Keycode sym, SDL_Scancode scancode, uint16_t mod);

/* True for the modifier keys (Shift, Ctrl, Alt, GUI, AltGr) themselves. */
bool keymap_is_modifier(SDL_Keycode sym);

/*
 * Decode one UTF-8 code point at *p (advancing it) for SDL_TEXTINPUT text.
 * Returns the code point, or -1 for an invalid sequence (skips one byte).
 */
int32_t keymap_utf8_next(const char **p);

/* The keysym for a text code point: Latin-1 as itself, else 0x01000000 + cp. */
uint32_t keymap_text_keysym(int32_t cp);

#endif
