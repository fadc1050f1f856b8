/*
 * session_input.c: keyboard and pointer input into the session's X server.
 *
 * Keysyms that have a keycode are pressed with XTest (adding Shift when the
 * keysym sits on the shifted level). Any other keysym, in particular Unicode
 * keysyms (0x01000000 + code point) for Japanese text, is typed through a
 * spare keycode remapped with XChangeKeyboardMapping. Several spare keycodes
 * are rotated so a remap never changes a keycode whose event Chromium may
 * not have read yet; the mappings are emptied again at exit.
 */
#include "session.h"

#include <X11/XKBlib.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define INPUT_REMAP_SETTLE_MS 12  /* let clients read the new mapping */
#define INPUT_MAX_BUTTONS 8

int input_init(struct input *in, Display *dpy)
{
	memset(in, 0, sizeof *in);
	in->dpy = dpy;
	int ev, err, major, minor;
	if (!XTestQueryExtension(dpy, &ev, &err, &major, &minor)) {
		log_error("%s: X server lacks XTEST", __func__);
		return -1;
	}
	int min_kc, max_kc, per;
	XDisplayKeycodes(dpy, &min_kc, &max_kc);
	KeySym *map = XGetKeyboardMapping(dpy, (KeyCode)min_kc, max_kc - min_kc + 1, &per);
	if (map == NULL)
		return -1;
	/* Spare keycodes: no keysym at all. Use the highest ones. */
	for (int kc = max_kc; kc >= min_kc && in->nspare < INPUT_SPARE_KEYCODES; kc--) {
		bool empty = true;
		for (int i = 0; i < per; i++)
			empty &= map[(kc - min_kc) * per + i] == NoSymbol;
		if (empty)
			in->spare[in->nspare++] = kc;
	}
	XFree(map);
	in->shift_keycode = XKeysymToKeycode(dpy, XK_Shift_L);
	if (in->nspare == 0)
		log_warn("%s: no spare keycode; non-keyboard characters cannot be typed", __func__);
	return 0;
}

static void input_sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* Type keysym once through a spare keycode (press and release). */
static void input_type_via_spare(struct input *in, KeySym keysym)
{
	if (in->nspare == 0) {
		log_warn("%s: dropped keysym 0x%lx: no spare keycode", __func__, keysym);
		return;
	}
	int slot = -1;
	for (int i = 0; i < in->nspare; i++)
		if (in->spare_keysym[i] == keysym)
			slot = i;
	if (slot < 0) {
		slot = in->next_spare;
		in->next_spare = (in->next_spare + 1) % in->nspare;
		KeySym syms[2] = { keysym, keysym };
		XChangeKeyboardMapping(in->dpy, in->spare[slot], 2, syms, 1);
		XSync(in->dpy, False);
		in->spare_keysym[slot] = keysym;
		input_sleep_ms(INPUT_REMAP_SETTLE_MS);
	}
	XTestFakeKeyEvent(in->dpy, (unsigned)in->spare[slot], True, CurrentTime);
	XTestFakeKeyEvent(in->dpy, (unsigned)in->spare[slot], False, CurrentTime);
	XFlush(in->dpy);
}

void input_key(struct input *in, bool down, uint32_t keysym_in)
{
	KeySym keysym = keysym_in;
	/* Unicode keysyms of Latin-1 characters are the Latin-1 keysyms. */
	if (keysym >= 0x01000020 && keysym <= 0x010000ff && !(keysym >= 0x0100007f && keysym < 0x010000a0))
		keysym -= 0x01000000;
	KeyCode kc = XKeysymToKeycode(in->dpy, keysym);
	/*
	 * Type through a spare keycode when no key has the keysym on its plain
	 * or shifted level (AltGr levels would need modifiers we do not press),
	 * or when the key that has it is one of our spares from an earlier
	 * remap: the second "日" of "日日" must be typed like the first.
	 */
	bool via_spare = kc == 0;
	for (int i = 0; i < in->nspare && !via_spare; i++)
		via_spare = kc == in->spare[i];
	KeySym level0 = via_spare ? NoSymbol : XkbKeycodeToKeysym(in->dpy, kc, 0, 0);
	KeySym level1 = via_spare ? NoSymbol : XkbKeycodeToKeysym(in->dpy, kc, 0, 1);
	if (!via_spare && level0 != keysym && level1 != keysym)
		via_spare = true;
	if (via_spare) {
		if (down)
			input_type_via_spare(in, keysym); /* press and release */
		return;
	}
	if (down) {
		bool shifted = level0 != keysym && level1 == keysym;
		bool shift_held = in->shift_keycode != 0 && in->pressed[in->shift_keycode];
		for (int i = 0; i < 256 && !shift_held; i++)
			shift_held = in->pressed[i] && (in->held_keysym[i] == XK_Shift_L ||
							in->held_keysym[i] == XK_Shift_R);
		if (shifted && !shift_held && in->shift_keycode != 0) {
			XTestFakeKeyEvent(in->dpy, in->shift_keycode, True, CurrentTime);
			in->shift_added[kc] = true;
		}
		XTestFakeKeyEvent(in->dpy, kc, True, CurrentTime);
		in->pressed[kc] = 1;
		in->held_keysym[kc] = keysym;
	} else {
		if (!in->pressed[kc])
			return;
		XTestFakeKeyEvent(in->dpy, kc, False, CurrentTime);
		in->pressed[kc] = 0;
		if (in->shift_added[kc]) {
			XTestFakeKeyEvent(in->dpy, in->shift_keycode, False, CurrentTime);
			in->shift_added[kc] = false;
		}
	}
	XFlush(in->dpy);
}

void input_pointer(struct input *in, int button_mask, int x, int y)
{
	XTestFakeMotionEvent(in->dpy, -1, x, y, CurrentTime);
	for (int b = 0; b < INPUT_MAX_BUTTONS; b++) {
		int bit = 1 << b;
		if ((button_mask & bit) != (in->buttons & bit))
			XTestFakeButtonEvent(in->dpy, (unsigned)b + 1, (button_mask & bit) != 0,
					     CurrentTime);
	}
	in->buttons = button_mask;
	XFlush(in->dpy);
}

void input_release_all(struct input *in)
{
	for (int kc = 0; kc < 256; kc++) {
		if (in->pressed[kc])
			XTestFakeKeyEvent(in->dpy, (unsigned)kc, False, CurrentTime);
		in->pressed[kc] = 0;
		in->shift_added[kc] = false;
	}
	if (in->shift_keycode != 0)
		XTestFakeKeyEvent(in->dpy, in->shift_keycode, False, CurrentTime);
	for (int b = 0; b < INPUT_MAX_BUTTONS; b++)
		if (in->buttons & (1 << b))
			XTestFakeButtonEvent(in->dpy, (unsigned)b + 1, False, CurrentTime);
	in->buttons = 0;
	XFlush(in->dpy);
}

void input_close(struct input *in)
{
	for (int i = 0; i < in->nspare; i++) {
		if (in->spare_keysym[i] == 0)
			continue;
		KeySym none[2] = { NoSymbol, NoSymbol };
		XChangeKeyboardMapping(in->dpy, in->spare[i], 2, none, 1);
		in->spare_keysym[i] = 0;
	}
	XSync(in->dpy, False);
}
