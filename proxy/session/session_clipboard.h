/*
 * session_clipboard.h: text from the staff terminal on the session's X
 * CLIPBOARD (issue 15), so that Ctrl+V in the page pastes it. The worker
 * owns the selection with a window of its own (never mapped) and answers
 * Chromium's requests (ICCCM 2.2): TARGETS, TIMESTAMP, UTF8_STRING, TEXT,
 * STRING. PRIMARY is never touched. The text was made safe before
 * (clip_text.h); a copy in the browser takes the selection over and the
 * worker forgets its text.
 *
 * With clipboard_to_terminal, the worker also watches CLIPBOARD (XFixes):
 * when the browser takes it (a copy in the page), the text is asked for as
 * UTF8_STRING, at most the cap, and handed to the copied callback; a copy
 * that is not text, or too large, goes to the refused callback with the
 * reason. Never PRIMARY (a mere selection in the page is not a copy).
 */
#ifndef PIXELGATE_SESSION_CLIPBOARD_H
#define PIXELGATE_SESSION_CLIPBOARD_H

#include <X11/Xlib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the watch hands over: text (UTF-8 as the browser gave it, len bytes) or a refusal. */
typedef void (*clipboard_copied_fn)(void *user, const uint8_t *text, size_t len);
typedef void (*clipboard_refused_fn)(void *user, const char *why);

struct clipboard {
	Display *dpy;
	Window win; /* None until clipboard_init() */
	Atom clipboard, targets, timestamp, utf8, text, string, atom, integer;
	Atom prop, incr; /* where the browser's text is put for us; its INCR type */
	/* the watch of the browser's copies (clipboard_watch()) */
	bool watching;
	int xfixes_event;
	size_t watch_max;
	clipboard_copied_fn copied;
	clipboard_refused_fn refused;
	void *user;
	uint8_t *in; /* the text coming in, in_len bytes */
	size_t in_len;
	bool too_big;
	/* one conversion at a time (they share the property): copies that come
	   meanwhile make one more afterwards, at the last copy's time */
	bool converting, convert_again;
	Time convert_time, again_time; /* X server times */
	char *data;                    /* UTF-8, LF line ends; NULL when not the owner */
	size_t len;
	Time owned_at;
	size_t max_property; /* bytes one XChangeProperty may carry */
};

/* 0, or -1 (no window could be made: the clipboard stays off). */
int clipboard_init(struct clipboard *c, Display *dpy);
/* Own CLIPBOARD with text (len bytes of safe UTF-8). 0, or -1 with the reason logged. */
int clipboard_set(struct clipboard *c, const char *text, size_t len);
/*
 * Watch the browser's copies (clipboard_to_terminal): text of at most max
 * bytes to copied, refusals to refused. 0, or -1 (no XFixes, or no window).
 */
int clipboard_watch(struct clipboard *c, size_t max, clipboard_copied_fn copied,
		    clipboard_refused_fn refused, void *user);
/* An X event for the clipboard (SelectionRequest, SelectionClear, the watch's): true if it was its. */
bool clipboard_handle_event(struct clipboard *c, const XEvent *ev);
void clipboard_free(struct clipboard *c);

#endif
