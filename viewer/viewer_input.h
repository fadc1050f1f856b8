/*
 * viewer_input.h: local keyboard and mouse to the remote browser.
 *
 * Keys: keymap_decide() says whether an SDL key event goes as its X keysym
 * (down and up, the up with the keysym the down sent) or not at all because
 * the matching SDL_TEXTINPUT carries it; text goes as Unicode keysyms, each
 * code point pressed and released once. Keys held down are remembered, so
 * losing the focus (or the connection coming back) releases every one.
 * Mouse: buttons 1-3 and the wheel as RFB buttons 4/5 (vertical) and 6/7
 * (horizontal), pressed and released per notch, at the remote position of
 * the window point.
 */
#ifndef PIXELGATE_VIEWER_INPUT_H
#define PIXELGATE_VIEWER_INPUT_H

#include <SDL2/SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "viewer_geometry.h"
#include "viewer_session.h"

/* RFB pointer button mask bits. */
#define VINPUT_BUTTON_LEFT 0x01
#define VINPUT_BUTTON_MIDDLE 0x02
#define VINPUT_BUTTON_RIGHT 0x04
#define VINPUT_WHEEL_UP 0x08
#define VINPUT_WHEEL_DOWN 0x10
#define VINPUT_WHEEL_LEFT 0x20
#define VINPUT_WHEEL_RIGHT 0x40

/* Notches sent for one wheel event at most. */
#define VINPUT_WHEEL_MAX_NOTCHES 10

struct vinput {
	uint32_t held[SDL_NUM_SCANCODES]; /* keysym sent down per scancode, 0 = up */
	int buttons;                      /* RFB button mask held */
	int x, y;                         /* last remote pointer position */
	bool have_pos;
};

void vinput_init(struct vinput *in);

/* An SDL_KEYDOWN/SDL_KEYUP of the remote screen. */
void vinput_key(struct vinput *in, struct vsession *s, const SDL_KeyboardEvent *k);

/* SDL_TEXTINPUT: committed text. */
void vinput_text(struct vinput *in, struct vsession *s, const char *utf8);

/* Pointer moved to output point (ox, oy) with the picture at dst. */
void vinput_motion(struct vinput *in, struct vsession *s, const struct geo_rect *dst, int fb_w,
		   int fb_h, int ox, int oy);

/* SDL button (SDL_BUTTON_LEFT...) pressed or released at (ox, oy). */
void vinput_button(struct vinput *in, struct vsession *s, const struct geo_rect *dst, int fb_w,
		   int fb_h, int ox, int oy, int sdl_button, bool down);

/* Wheel: dy > 0 away from the user (up), dx > 0 to the right. */
void vinput_wheel(struct vinput *in, struct vsession *s, int dx, int dy);

/* Release every key and button held (focus lost, reconnected). */
void vinput_release_all(struct vinput *in, struct vsession *s);

/* Forget what is held without sending (the connection is gone). */
void vinput_forget(struct vinput *in);

#endif
