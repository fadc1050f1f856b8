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
#include <limits.h>
#include <time.h>

#include "keysym.h"
#include "log.h"

#define INPUT_MAX_BUTTONS 8

int input_init(struct input *in, Display *dpy)
{
	memset(in, 0, sizeof *in);
	in->dpy = dpy;
	for (int i = 0; i < INPUT_SPARE_KEYCODES; i++)
		in->spare_used_ms[i] = -1;
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
	else
		log_info("%d spare keycodes for characters without a key", in->nspare);
	return 0;
}

/* The spare keycode slot that holds keysym, or -1. */
static int input_spare_slot(const struct input *in, KeySym keysym)
{
	for (int i = 0; i < in->nspare; i++)
		if (in->spare_keysym[i] == keysym)
			return i;
	return -1;
}

/* Type keysym once (press and release) through the spare slot that holds it. */
static void input_type_spare(struct input *in, int slot, int64_t now)
{
	XTestFakeKeyEvent(in->dpy, (unsigned)in->spare[slot], True, CurrentTime);
	XTestFakeKeyEvent(in->dpy, (unsigned)in->spare[slot], False, CurrentTime);
	in->spare_used_ms[slot] = now;
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

/*
 * Whether keysym must be typed through a spare keycode: no key has it on its
 * plain or shifted level (AltGr levels would need modifiers we do not
 * press), or the key that has it is one of our spares from an earlier
 * remap (the second "日" of "日日" must be typed like the first). Only the
 * spares' mapping ever changes, so the answer for a keysym does not.
 */
static bool input_needs_spare(struct input *in, KeySym keysym)
{
	KeyCode kc = XKeysymToKeycode(in->dpy, keysym);
	if (kc == 0)
		return true;
	for (int i = 0; i < in->nspare; i++)
		if (kc == in->spare[i])
			return true;
	return XkbKeycodeToKeysym(in->dpy, kc, 0, 0) != keysym &&
	    XkbKeycodeToKeysym(in->dpy, kc, 0, 1) != keysym;
}

/* A key with a keycode of its own: press or release it (adding Shift for
   a keysym on the shifted level). */
static void input_send_key(struct input *in, bool down, KeySym keysym)
{
	KeyCode kc = XKeysymToKeycode(in->dpy, keysym);
	if (down) {
		KeySym level0 = XkbKeycodeToKeysym(in->dpy, kc, 0, 0);
		bool shifted = level0 != keysym;
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
}

static void input_send_pointer(struct input *in, int button_mask, int x, int y)
{
	XTestFakeMotionEvent(in->dpy, -1, x, y, CurrentTime);
	for (int b = 0; b < INPUT_MAX_BUTTONS; b++) {
		int bit = 1 << b;
		if ((button_mask & bit) != (in->buttons & bit))
			XTestFakeButtonEvent(in->dpy, (unsigned)b + 1, (button_mask & bit) != 0,
					     CurrentTime);
	}
	in->buttons = button_mask;
}

static void input_send_release_all(struct input *in)
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
}

static struct input_event *input_at(struct input *in, int i)
{
	return &in->queue[(in->qhead + i) % INPUT_QUEUE_MAX];
}

/*
 * One remap round for the characters waiting at the head of the queue: puts
 * up to nspare of them, in queue order, on spare keycodes. The browser
 * translates a key event with the mapping of the moment it reads it, and a
 * busy browser reads its X events late (a burst of 16 key events into a
 * text field: more than 12 ms), so a spare is taken only once the last key
 * typed through it is INPUT_SPARE_REUSE_MS old, least recently used first
 * and, if possible, one that no waiting event needs. Returns when the head
 * may go: once the new mapping has settled, or when a spare is free.
 */
static int64_t input_remap_round(struct input *in, int64_t now)
{
	bool wanted[INPUT_SPARE_KEYCODES] = { false };
	KeySym want[INPUT_SPARE_KEYCODES];
	int nwant = 0;
	for (int i = 0; i < in->qlen; i++) {
		const struct input_event *e = input_at(in, i);
		if (e->kind != INPUT_EV_KEY || !e->spare)
			continue;
		int slot = input_spare_slot(in, e->keysym);
		if (slot >= 0) {
			wanted[slot] = true;
			continue;
		}
		bool listed = false;
		for (int j = 0; j < nwant; j++)
			listed |= want[j] == e->keysym;
		if (!listed && nwant < in->nspare)
			want[nwant++] = e->keysym;
	}
	/* Free spares no waiting event needs, least recently used first; only
	   if there is none, one that is needed (for the head: the character it
	   held is mapped again later) */
	int order[INPUT_SPARE_KEYCODES], nfree = 0;
	for (int pass = 0; pass < 2 && nfree == 0; pass++) {
		for (int i = 0; i < in->nspare; i++) {
			bool settled = in->spare_used_ms[i] < 0 ||
			    now - in->spare_used_ms[i] >= INPUT_SPARE_REUSE_MS;
			if (settled && wanted[i] == (pass == 1))
				order[nfree++] = i;
		}
		for (int a = 1; a < nfree; a++) /* insertion sort by last use */
			for (int b = a;
			     b > 0 && in->spare_used_ms[order[b]] < in->spare_used_ms[order[b - 1]];
			     b--) {
				int t = order[b];
				order[b] = order[b - 1];
				order[b - 1] = t;
			}
		if (pass == 1 && nfree > 1)
			nfree = 1;
	}
	if (nfree == 0) {
		int64_t soonest = INT64_MAX;
		for (int i = 0; i < in->nspare; i++)
			if (in->spare_used_ms[i] + INPUT_SPARE_REUSE_MS < soonest)
				soonest = in->spare_used_ms[i] + INPUT_SPARE_REUSE_MS;
		return soonest;
	}
	int n = nwant < nfree ? nwant : nfree;
	for (int i = 0; i < n; i++) {
		int slot = order[i];
		KeySym syms[2] = { want[i], want[i] };
		XChangeKeyboardMapping(in->dpy, in->spare[slot], 2, syms, 1);
		in->spare_keysym[slot] = want[i];
	}
	XSync(in->dpy, False);
	in->remaps += (uint64_t)n;
	in->remap_rounds++;
	return now + INPUT_REMAP_SETTLE_MS;
}

void input_run(struct input *in, int64_t now)
{
	bool sent = false;
	while (in->qlen > 0 && now >= in->settle_until_ms) {
		struct input_event *e = input_at(in, 0);
		if (e->kind == INPUT_EV_KEY && e->spare) {
			int slot = input_spare_slot(in, e->keysym);
			if (slot < 0 && in->nspare == 0) {
				log_warn("%s: dropped keysym 0x%lx: no spare keycode", __func__,
					 (unsigned long)e->keysym);
			} else if (slot < 0) {
				in->settle_until_ms = input_remap_round(in, now);
				continue; /* the head goes once the new mapping has settled */
			} else {
				input_type_spare(in, slot, now); /* press and release */
			}
		} else if (e->kind == INPUT_EV_KEY) {
			input_send_key(in, e->down, e->keysym);
		} else if (e->kind == INPUT_EV_POINTER) {
			input_send_pointer(in, e->mask, e->x, e->y);
		} else {
			input_send_release_all(in);
		}
		sent = true;
		in->qhead = (in->qhead + 1) % INPUT_QUEUE_MAX;
		in->qlen--;
	}
	if (sent)
		XFlush(in->dpy);
}

bool input_backlogged(const struct input *in, bool held)
{
	return held ? in->qlen > INPUT_QUEUE_LOW : in->qlen >= INPUT_QUEUE_HIGH;
}

int input_timeout_ms(const struct input *in, int64_t now)
{
	if (in->qlen == 0)
		return -1;
	int64_t wait = in->settle_until_ms - now;
	return wait <= 0 ? 0 : wait > INT_MAX ? INT_MAX : (int)wait;
}

/* Append e and send what may go. The worker holds the viewer's messages
   back from INPUT_QUEUE_HIGH on (input_backlogged()), one message per
   rfbProcessEvents(), so the queue does not fill; if it ever did, it would
   be worked off here, waiting out the remaps: nothing is dropped. */
static void input_push(struct input *in, struct input_event e, int64_t now)
{
	while (in->qlen == INPUT_QUEUE_MAX) {
		int wait = input_timeout_ms(in, now);
		if (wait > 0) {
			struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		now = qual_now_ms();
		input_run(in, now);
	}
	*input_at(in, in->qlen) = e;
	in->qlen++;
	input_run(in, now);
}

void input_key(struct input *in, bool down, uint32_t keysym_in, int64_t now)
{
	if (keysym_in == NoSymbol || keysym_in == XK_VoidSymbol)
		return; /* no character and no key */
	KeySym keysym = input_latin1(keysym_in);
	bool spare = input_needs_spare(in, keysym);
	if (spare && !down)
		return; /* the press typed it, press and release */
	input_push(in,
		   (struct input_event){ .kind = INPUT_EV_KEY,
					 .down = down,
					 .keysym = (uint32_t)keysym,
					 .spare = spare },
		   now);
}

void input_pointer(struct input *in, int button_mask, int x, int y, int64_t now)
{
	input_push(in,
		   (struct input_event){ .kind = INPUT_EV_POINTER,
					 .mask = (uint8_t)button_mask,
					 .x = (uint16_t)x,
					 .y = (uint16_t)y },
		   now);
}

void input_release_all(struct input *in, int64_t now)
{
	in->ctrl_down[0] = in->ctrl_down[1] = false;
	in->shift_down[0] = in->shift_down[1] = false;
	in->nblocked_held = 0;
	input_push(in, (struct input_event){ .kind = INPUT_EV_RELEASE_ALL }, now);
}

void input_close(struct input *in)
{
	if (in->qlen > 0)
		log_info("%d input event(s) still waiting at the end were not sent", in->qlen);
	in->qlen = 0;
	for (int i = 0; i < in->nspare; i++) {
		if (in->spare_keysym[i] == 0)
			continue;
		KeySym none[2] = { NoSymbol, NoSymbol };
		XChangeKeyboardMapping(in->dpy, in->spare[i], 2, none, 1);
		in->spare_keysym[i] = 0;
	}
	XSync(in->dpy, False);
	if (in->remaps > 0)
		log_info("remapped spare keycodes %llu time(s) in %llu round(s)",
			 (unsigned long long)in->remaps, (unsigned long long)in->remap_rounds);
}
