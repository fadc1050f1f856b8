/*
 * session_clipboard.c: the session's CLIPBOARD, owned for the staff
 * terminal's text (see session_clipboard.h).
 */
#include "session_clipboard.h"

#include <X11/Xatom.h>
#include <stdlib.h>
#include <string.h>

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
	long ext = XExtendedMaxRequestSize(dpy), max = ext > 0 ? ext : XMaxRequestSize(dpy);
	c->max_property = max > 100 ? (size_t)max * 4 - 400 : 0; /* 4-byte units, a margin */
	return 0;
}

void clipboard_free(struct clipboard *c)
{
	free(c->data);
	c->data = NULL;
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

/* The text as ISO 8859-1 for a STRING request: characters beyond it become '?'. */
static char *clipboard_latin1(const struct clipboard *c, size_t *n)
{
	char *out = malloc(c->len + 1);
	size_t k = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < c->len;) {
		unsigned char b = (unsigned char)c->data[i];
		if (b < 0x80) {
			out[k++] = (char)b;
			i++;
		} else if ((b & 0xe0) == 0xc0 && i + 1 < c->len) {
			unsigned cp = (unsigned)(b & 0x1f) << 6 |
			    ((unsigned char)c->data[i + 1] & 0x3f);
			out[k++] = cp <= 0xff ? (char)cp : '?';
			i += 2;
		} else {
			out[k++] = '?';
			i++;
			while (i < c->len && ((unsigned char)c->data[i] & 0xc0) == 0x80)
				i++;
		}
	}
	*n = k;
	return out;
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
		size_t n = 0;
		char *l1 = clipboard_latin1(c, &n);
		if (l1 != NULL)
			XChangeProperty(c->dpy, r->requestor, property, c->string, 8,
					PropModeReplace, (unsigned char *)l1, (int)n);
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

bool clipboard_handle_event(struct clipboard *c, const XEvent *ev)
{
	if (c->win == None)
		return false;
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
