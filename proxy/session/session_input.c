/*
 * session_input.c: keyboard and pointer input into the session's X server.
 *
 * Keysyms that have a keycode are pressed with XTest (adding Shift when the
 * keysym sits on the shifted level). Any other keysym, in particular Unicode
 * keysyms (0x01000000 + code point) for Japanese text, is typed through a
 * spare keycode remapped with XChangeKeyboardMapping. Several spare keycodes
 * are rotated so a remap never changes a keycode whose event Chromium may
 * not have read yet; the mappings are emptied again at exit.
 *
 * Before any of that, the shortcut filter drops the browser shortcuts that
 * open DevTools, an incognito window or the profile switcher. The policy
 * turns those features off as well; the filter keeps the keys from reaching
 * the browser at all and lets the gateway audit the attempt.
 */
#include "session.h"

#include <X11/XKBlib.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keysym.h"
#include "log.h"

#define INPUT_REMAP_SETTLE_MS 12 /* let clients read the new mapping */
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

/* Unicode keysyms of Latin-1 characters are the Latin-1 keysyms. */
static KeySym input_latin1(uint32_t keysym_in)
{
	if (keysym_in >= KEYSYM_UNICODE_BASE + 0x20 && keysym_in <= KEYSYM_UNICODE_BASE + 0xff) {
		uint32_t k = keysym_from_codepoint(keysym_in - KEYSYM_UNICODE_BASE);
		if (k != 0)
			return k;
	}
	return keysym_in;
}

/* Letters blocked with Ctrl+Shift, and why. */
static const struct {
	KeySym letter; /* lower case */
	const char *what;
} input_blocked_letters[] = {
	{ XK_i, "DevTools" },
	{ XK_j, "DevTools console" },
	{ XK_c, "DevTools element picker" },
	{ XK_n, "incognito window" },
	{ XK_m, "profile switcher" },
};

bool input_shortcut_blocked(struct input *in, bool down, uint32_t keysym_in, char *keys,
			    size_t keyslen)
{
	KeySym keysym = input_latin1(keysym_in);
	keys[0] = '\0';
	switch (keysym) {
	case XK_Control_L:
	case XK_Control_R:
		in->ctrl_down[keysym == XK_Control_R] = down;
		return false;
	case XK_Shift_L:
	case XK_Shift_R:
		in->shift_down[keysym == XK_Shift_R] = down;
		return false;
	default:
		break;
	}
	bool upper = keysym >= XK_A && keysym <= XK_Z;
	if (upper)
		keysym += XK_a - XK_A;
	int held = -1;
	for (int i = 0; i < in->nblocked_held; i++)
		if (in->blocked_held[i] == keysym)
			held = i;
	if (!down) {
		if (held < 0)
			return false;
		in->blocked_held[held] = in->blocked_held[--in->nblocked_held];
		return true; /* the release of a blocked press */
	}
	if (held >= 0)
		return true; /* a key repeat of a blocked press */
	bool ctrl = in->ctrl_down[0] || in->ctrl_down[1];
	bool shift = in->shift_down[0] || in->shift_down[1] || upper;
	const char *what = NULL;
	if (keysym == XK_F12) {
		what = "DevTools";
		snprintf(keys, keyslen, "%s%sF12", ctrl ? "Ctrl+" : "", shift ? "Shift+" : "");
	} else if (ctrl && shift) {
		for (size_t i = 0;
		     i < sizeof input_blocked_letters / sizeof input_blocked_letters[0]; i++)
			if (input_blocked_letters[i].letter == keysym)
				what = input_blocked_letters[i].what;
		if (what != NULL)
			snprintf(keys, keyslen, "Ctrl+Shift+%c", (char)(keysym - XK_a + 'A'));
	}
	if (what == NULL)
		return false;
	log_info("dropped %s (%s)", keys, what);
	if (in->nblocked_held < INPUT_BLOCKED_HELD)
		in->blocked_held[in->nblocked_held++] = keysym;
	return true;
}

void input_key(struct input *in, bool down, uint32_t keysym_in)
{
	KeySym keysym = input_latin1(keysym_in);
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
			shift_held = in->pressed[i] &&
			    (in->held_keysym[i] == XK_Shift_L || in->held_keysym[i] == XK_Shift_R);
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
	in->ctrl_down[0] = in->ctrl_down[1] = false;
	in->shift_down[0] = in->shift_down[1] = false;
	in->nblocked_held = 0;
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
