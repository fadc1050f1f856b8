/*
 * viewer_input.c: local keyboard and mouse to the remote browser (see
 * viewer_input.h).
 */
#include "viewer_input.h"

#include <string.h>

#include "keysym.h"
#include "utf8.h"
#include "viewer_keymap.h"

void vinput_init(struct vinput *in)
{
	memset(in, 0, sizeof(*in));
}

void vinput_forget(struct vinput *in)
{
	memset(in->held, 0, sizeof(in->held));
	in->buttons = 0;
}

void vinput_key(struct vinput *in, struct vsession *s, const SDL_KeyboardEvent *k)
{
	SDL_Scancode sc = k->keysym.scancode;
	uint32_t ks;

	if ((int)sc < 0 || sc >= SDL_NUM_SCANCODES)
		return;
	if (k->type == SDL_KEYUP) {
		/* release with the keysym the press sent, whatever the modifiers
		   are now */
		if (in->held[sc]) {
			vsession_key(s, in->held[sc], false);
			in->held[sc] = 0;
		}
		return;
	}
	if (keymap_decide(k->keysym.sym, sc, k->keysym.mod) != KEYMAP_KEYSYM)
		return;
	ks = keymap_keysym(k->keysym.sym, sc);
	if (!ks)
		return;
	if (in->held[sc] && in->held[sc] != ks)
		vsession_key(s, in->held[sc], false);
	/* a paste (Ctrl+V, Ctrl+Shift+V, Shift+Insert): the terminal's text
	   first, so that the browser pastes it; never continuously */
	if (!k->repeat && keymap_is_paste(k->keysym.sym, k->keysym.mod))
		(void)vsession_offer_clipboard(s);
	/* auto-repeat arrives as repeated presses, as X does it */
	if (vsession_key(s, ks, true) == 0)
		in->held[sc] = ks;
}

void vinput_text(struct vinput *in, struct vsession *s, const char *utf8)
{
	(void)in;
	/* X11 sends text "f" for Alt+F too; the key already went as a keysym. */
	if (!keymap_text_wanted((uint16_t)SDL_GetModState()))
		return;
	const unsigned char *u = (const unsigned char *)utf8;
	size_t n = strlen(utf8);
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0, ks = 0;
		size_t l = utf8_next(u + i, n - i, &cp);

		if (l > 0)
			ks = keysym_from_codepoint(cp);
		i += l > 0 ? l : 1; /* an invalid byte is skipped alone */
		if (ks == 0)        /* invalid, or a control character (C0, DEL, C1): not text */
			continue;
		if (vsession_key(s, ks, true) == 0)
			vsession_key(s, ks, false);
	}
}

/* Sends the pointer at the remote point of output (ox, oy). */
static void send_pointer(struct vinput *in, struct vsession *s, const struct geo_rect *dst,
			 int fb_w, int fb_h, int ox, int oy, int mask)
{
	int rx, ry;

	if (fb_w <= 0 || fb_h <= 0)
		return;
	geometry_to_remote(dst, fb_w, fb_h, ox, oy, &rx, &ry);
	in->x = rx;
	in->y = ry;
	in->have_pos = true;
	vsession_pointer(s, rx, ry, mask);
}

void vinput_motion(struct vinput *in, struct vsession *s, const struct geo_rect *dst, int fb_w,
		   int fb_h, int ox, int oy)
{
	send_pointer(in, s, dst, fb_w, fb_h, ox, oy, in->buttons);
}

void vinput_button(struct vinput *in, struct vsession *s, const struct geo_rect *dst, int fb_w,
		   int fb_h, int ox, int oy, int sdl_button, bool down)
{
	int bit;

	switch (sdl_button) {
	case SDL_BUTTON_LEFT:
		bit = VINPUT_BUTTON_LEFT;
		break;
	case SDL_BUTTON_MIDDLE:
		bit = VINPUT_BUTTON_MIDDLE;
		break;
	case SDL_BUTTON_RIGHT:
		bit = VINPUT_BUTTON_RIGHT;
		break;
	default:
		return; /* X1/X2 (back/forward) are not RFB buttons */
	}
	if (down)
		in->buttons |= bit;
	else
		in->buttons &= ~bit;
	send_pointer(in, s, dst, fb_w, fb_h, ox, oy, in->buttons);
}

/* Presses and releases wheel button bit n times at the last position. */
static void wheel_notches(struct vinput *in, struct vsession *s, int bit, int n)
{
	if (n > VINPUT_WHEEL_MAX_NOTCHES)
		n = VINPUT_WHEEL_MAX_NOTCHES;
	for (int i = 0; i < n; i++) {
		vsession_pointer(s, in->x, in->y, in->buttons | bit);
		vsession_pointer(s, in->x, in->y, in->buttons);
	}
}

void vinput_wheel(struct vinput *in, struct vsession *s, int dx, int dy)
{
	if (!in->have_pos)
		return;
	if (dy > 0)
		wheel_notches(in, s, VINPUT_WHEEL_UP, dy);
	else if (dy < 0)
		wheel_notches(in, s, VINPUT_WHEEL_DOWN, -dy);
	if (dx > 0)
		wheel_notches(in, s, VINPUT_WHEEL_RIGHT, dx);
	else if (dx < 0)
		wheel_notches(in, s, VINPUT_WHEEL_LEFT, -dx);
}

void vinput_release_all(struct vinput *in, struct vsession *s)
{
	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++)
		if (in->held[sc]) {
			vsession_key(s, in->held[sc], false);
			in->held[sc] = 0;
		}
	if (in->buttons && in->have_pos)
		vsession_pointer(s, in->x, in->y, 0);
	in->buttons = 0;
}
