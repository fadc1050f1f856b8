/*
 * session_clipboard.h: text from the staff terminal on the session's X
 * CLIPBOARD (issue 15), so that Ctrl+V in the page pastes it. The worker
 * owns the selection with a window of its own (never mapped) and answers
 * Chromium's requests (ICCCM 2.2): TARGETS, TIMESTAMP, UTF8_STRING, TEXT,
 * STRING. PRIMARY is never touched. The text was made safe before
 * (clip_text.h); a copy in the browser takes the selection over and the
 * worker forgets its text.
 */
#ifndef PIXELGATE_SESSION_CLIPBOARD_H
#define PIXELGATE_SESSION_CLIPBOARD_H

#include <X11/Xlib.h>
#include <stdbool.h>
#include <stddef.h>

struct clipboard {
	Display *dpy;
	Window win; /* None until clipboard_init() */
	Atom clipboard, targets, timestamp, utf8, text, string, atom, integer;
	char *data; /* UTF-8, LF line ends; NULL when not the owner */
	size_t len;
	Time owned_at;
	size_t max_property; /* bytes one XChangeProperty may carry */
};

/* 0, or -1 (no window could be made: the clipboard stays off). */
int clipboard_init(struct clipboard *c, Display *dpy);
/* Own CLIPBOARD with text (len bytes of safe UTF-8). 0, or -1 with the reason logged. */
int clipboard_set(struct clipboard *c, const char *text, size_t len);
/* An X event for the clipboard (SelectionRequest, SelectionClear): true if it was its. */
bool clipboard_handle_event(struct clipboard *c, const XEvent *ev);
void clipboard_free(struct clipboard *c);

#endif
