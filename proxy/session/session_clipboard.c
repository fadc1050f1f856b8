/*
 * session_clipboard.c: the session's CLIPBOARD, owned for the staff
 * terminal's text (see session_clipboard.h).
 */
#include "session_clipboard.h"

#include <X11/Xatom.h>
#include <X11/extensions/Xfixes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip_text.h"
#include "log.h"

int clipboard_init(struct clipboard *c, Display *dpy)
{
	memset(c, 0, sizeof *c);
	c->dpy = dpy;
	c->win = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), -10, -10, 1, 1, 0, 0, 0);
	if (c->win == None)
		return -1;
	XSelectInput(dpy, c->win, PropertyChangeMask);
	c->clipboard = XInternAtom(dpy, "CLIPBOARD", False);
	c->targets = XInternAtom(dpy, "TARGETS", False);
	c->timestamp = XInternAtom(dpy, "TIMESTAMP", False);
	c->utf8 = XInternAtom(dpy, "UTF8_STRING", False);
	c->text = XInternAtom(dpy, "TEXT", False);
	c->string = XA_STRING;
	c->atom = XA_ATOM;
	c->integer = XA_INTEGER;
	c->prop = XInternAtom(dpy, "PIXELGATE_CLIPBOARD", False);
	c->incr = XInternAtom(dpy, "INCR", False);
	long ext = XExtendedMaxRequestSize(dpy), max = ext > 0 ? ext : XMaxRequestSize(dpy);
	c->max_property = max > 100 ? (size_t)max * 4 - 400 : 0; /* 4-byte units, a margin */
	return 0;
}

void clipboard_free(struct clipboard *c)
{
	free(c->data);
	c->data = NULL;
	free(c->in);
	c->in = NULL;
	if (c->dpy != NULL && c->win != None)
		XDestroyWindow(c->dpy, c->win);
	c->win = None;
}

/* A server timestamp (ICCCM 2.1: not CurrentTime): a zero-length append to our window. */
static Time clipboard_now(struct clipboard *c)
{
	XEvent ev;
	unsigned char none = 0;
	XChangeProperty(c->dpy, c->win, c->timestamp, c->integer, 8, PropModeAppend, &none, 0);
	XWindowEvent(c->dpy, c->win, PropertyChangeMask, &ev);
	return ev.xproperty.time;
}

int clipboard_set(struct clipboard *c, const char *text, size_t len)
{
	if (c->win == None)
		return -1;
	if (len > c->max_property) {
		log_warn("clipboard: %zu bytes are more than one X request carries (%zu): not "
			 "put on the session's clipboard",
			 len, c->max_property);
		return -1;
	}
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	free(c->data);
	c->data = copy;
	c->len = len;
	c->owned_at = clipboard_now(c);
	XSetSelectionOwner(c->dpy, c->clipboard, c->win, c->owned_at);
	if (XGetSelectionOwner(c->dpy, c->clipboard) != c->win) {
		log_warn("clipboard: the session's CLIPBOARD could not be owned");
		free(c->data);
		c->data = NULL;
		return -1;
	}
	return 0;
}

/* Answer one SelectionRequest: the property set, or None (refused). */
static void clipboard_answer(struct clipboard *c, const XSelectionRequestEvent *r)
{
	Atom property = r->property != None ? r->property : r->target; /* an old client */
	bool ok = true;
	if (c->data == NULL || r->selection != c->clipboard ||
	    (r->time != CurrentTime && r->time < c->owned_at)) {
		ok = false;
	} else if (r->target == c->targets) {
		Atom list[] = { c->targets, c->timestamp, c->utf8, c->text, c->string };
		XChangeProperty(c->dpy, r->requestor, property, c->atom, 32, PropModeReplace,
				(unsigned char *)list, (int)(sizeof list / sizeof list[0]));
	} else if (r->target == c->timestamp) {
		long t = (long)c->owned_at;
		XChangeProperty(c->dpy, r->requestor, property, c->integer, 32, PropModeReplace,
				(unsigned char *)&t, 1);
	} else if (r->target == c->utf8 || r->target == c->text) {
		XChangeProperty(c->dpy, r->requestor, property, c->utf8, 8, PropModeReplace,
				(unsigned char *)c->data, (int)c->len);
	} else if (r->target == c->string) {
		/* ISO 8859-1: characters beyond it become '?' */
		char *l1 = malloc(c->len + 1);
		if (l1 != NULL) {
			size_t n = clip_text_to_latin1(c->data, c->len, l1);
			XChangeProperty(c->dpy, r->requestor, property, c->string, 8,
					PropModeReplace, (unsigned char *)l1, (int)n);
		}
		ok = l1 != NULL;
		free(l1);
	} else {
		ok = false; /* images, files, HTML: text only */
	}
	XEvent ev = { 0 };
	ev.xselection.type = SelectionNotify;
	ev.xselection.display = c->dpy;
	ev.xselection.requestor = r->requestor;
	ev.xselection.selection = r->selection;
	ev.xselection.target = r->target;
	ev.xselection.property = ok ? property : None;
	ev.xselection.time = r->time;
	XSendEvent(c->dpy, r->requestor, False, NoEventMask, &ev);
	XFlush(c->dpy);
}

int clipboard_watch(struct clipboard *c, size_t max, clipboard_copied_fn copied,
		    clipboard_refused_fn refused, void *user)
{
	int error_base = 0;
	if (c->win == None || !XFixesQueryExtension(c->dpy, &c->xfixes_event, &error_base))
		return -1;
	c->watch_max = max;
	c->copied = copied;
	c->refused = refused;
	c->user = user;
	XFixesSelectSelectionInput(c->dpy, c->win, c->clipboard, XFixesSetSelectionOwnerNotifyMask);
	c->watching = true;
	return 0;
}

/* The incoming text is done (or abandoned): hand it over and forget it. */
static void clipboard_in_done(struct clipboard *c)
{
	char why[96];
	if (c->too_big) {
		snprintf(why, sizeof why, "the copy is over the cap of %zu bytes", c->watch_max);
		c->refused(c->user, why);
	} else {
		c->copied(c->user, c->in != NULL ? c->in : (const uint8_t *)"", c->in_len);
	}
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
	c->too_big = false;
}

/* Append n bytes of the browser's text, at most watch_max in all. */
static void clipboard_in_add(struct clipboard *c, const unsigned char *d, size_t n)
{
	if (c->too_big || n == 0)
		return;
	if (c->in_len + n > c->watch_max) {
		c->too_big = true;
		free(c->in);
		c->in = NULL;
		c->in_len = 0;
		return;
	}
	uint8_t *grown = realloc(c->in, c->in_len + n);
	if (grown == NULL) {
		c->too_big = true;
		return;
	}
	memcpy(grown + c->in_len, d, n);
	c->in = grown;
	c->in_len += n;
}

/* Read our property (deleting it). Returns its type, None when absent, with its bytes in *got. */
static Atom clipboard_read(struct clipboard *c, unsigned long *got)
{
	Atom type = None;
	int format = 0;
	unsigned long n = 0, after = 0;
	unsigned char *d = NULL;
	*got = 0;
	/* up to the cap and one byte more, in 32-bit units */
	long units = (long)(c->watch_max / 4 + 1);
	if (XGetWindowProperty(c->dpy, c->win, c->prop, 0, units, True, AnyPropertyType, &type,
			       &format, &n, &after, &d) != Success)
		return None;
	if (type == c->utf8 && format == 8) {
		*got = n + after;
		clipboard_in_add(c, d, n);
		if (after > 0)
			c->too_big = true;
	}
	if (d != NULL)
		XFree(d);
	return type;
}

/* Ask the owner for the text (or, while a request is out, once more after it). */
static void clipboard_convert(struct clipboard *c, Time when)
{
	/* an owner that never answered (ICCCM says it must) holds nothing up for long */
	if (c->converting && when - c->convert_time > 5000)
		c->converting = false;
	if (c->converting) {
		c->convert_again = true;
		c->again_time = when;
		return;
	}
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
	c->too_big = false;
	c->converting = true;
	c->convert_again = false;
	c->convert_time = when;
	XDeleteProperty(c->dpy, c->win, c->prop);
	XConvertSelection(c->dpy, c->clipboard, c->utf8, c->prop, c->win, when);
	XFlush(c->dpy);
}

/*
 * The watch's events: a new owner, the answer to our request. No INCR: the
 * cap (clipboard_max_bytes, at most 1 MiB) is far below what one X request
 * carries on Xvfb (BIG-REQUESTS, 16 MiB), so Chromium always answers in one
 * property (a 400 000-byte copy is tested); an INCR answer is refused.
 */
static bool clipboard_watch_event(struct clipboard *c, const XEvent *ev)
{
	if (ev->type == c->xfixes_event + XFixesSelectionNotify) {
		const XFixesSelectionNotifyEvent *se = (const XFixesSelectionNotifyEvent *)ev;
		if (se->selection != c->clipboard || se->owner == None || se->owner == c->win)
			return true; /* cleared, or the terminal's text (ours) */
		clipboard_convert(c, se->selection_timestamp);
		return true;
	}
	if (ev->type == SelectionNotify && ev->xselection.requestor == c->win &&
	    ev->xselection.selection == c->clipboard) {
		unsigned long got = 0;
		c->converting = false;
		if (c->convert_again) {
			/* a later copy came meanwhile: only its text counts */
			clipboard_convert(c, c->again_time);
			return true;
		}
		if (ev->xselection.property == None) {
			c->refused(c->user, "the copy is not text");
			return true;
		}
		Atom type = clipboard_read(c, &got);
		if (type == c->incr)
			c->refused(c->user, "the copy came in INCR pieces, which are not read");
		else if (type != c->utf8)
			c->refused(c->user, "the copy is not UTF-8 text");
		else
			clipboard_in_done(c);
		return true;
	}
	return false;
}

bool clipboard_handle_event(struct clipboard *c, const XEvent *ev)
{
	if (c->win == None)
		return false;
	if (c->watching && clipboard_watch_event(c, ev))
		return true;
	if (ev->type == SelectionRequest && ev->xselectionrequest.owner == c->win) {
		clipboard_answer(c, &ev->xselectionrequest);
		return true;
	}
	if (ev->type == SelectionClear && ev->xselectionclear.window == c->win) {
		/* the browser copied something: ours is no longer the clipboard */
		free(c->data);
		c->data = NULL;
		c->len = 0;
		return true;
	}
	if (ev->type == PropertyNotify && ev->xproperty.window == c->win)
		return true;
	return false;
}
