/*
 * session_inject.h: what the test-only hostile worker writes (constants only).
 *
 * pixelgate-session-inject (session_inject.c, built only with the tests,
 * never installed) is pixelgate-session plus one ability: when the browser
 * goes to a URL ending in INJECT_FRAGMENT<kind>, it writes hostile bytes
 * into the viewer's RFB stream at the next message boundary, as a
 * compromised worker would. tests/integration/test_boundary.c includes this
 * header to know the markers it must never see on the viewer's side. No
 * libvncserver types here: the test's translation unit has libvncclient's.
 */
#ifndef PIXELGATE_SESSION_INJECT_H
#define PIXELGATE_SESSION_INJECT_H

/* The URL fragment that triggers an injection: INJECT_FRAGMENT "cuttext" etc. */
#define INJECT_FRAGMENT "#pixelgate-inject-"

/* Kinds (the fragment's tail): */
#define INJECT_KIND_CUTTEXT "cuttext" /* ServerCutText carrying INJECT_CUT_TEXT */
/* a ServerCutText whose text turns hostile midway (an ESC after plain text) */
#define INJECT_KIND_CUTTEXT_MIDWAY "cuttext-midway"
/* 30 ServerCutText messages of one character at once (a copy flood) */
#define INJECT_KIND_CUTTEXT_FLOOD "cuttext-flood"
#define INJECT_FLOOD_COPIES 30
/* 300 navigate events at once on the control channel (an audit log flood) */
#define INJECT_KIND_EVENT_FLOOD "event-flood"
#define INJECT_FLOOD_EVENTS 300
#define INJECT_CUT_TEXT_MIDWAY "clean start \x1b[2J then the rest"
#define INJECT_KIND_ENCODING \
	"encoding" /* a FramebufferUpdate with one RRE rectangle
					   (INJECT_RECT_*) the viewer never asked for */
#define INJECT_KIND_OUTSIDE \
	"outside" /* a Raw rectangle INJECT_OUTSIDE_W x 1 at
					   (width - INJECT_OUTSIDE_W / 2, 0): half of
					   it past the framebuffer's right edge */
#define INJECT_KIND_RESIZE \
	"resize" /* a DesktopSize pseudo-rectangle of
					   INJECT_RESIZE_PX x INJECT_RESIZE_PX */
#define INJECT_KIND_MOUNT \
	"mount" /* first mount /usr over its own session
					   directory in a user and mount namespace
					   of its own (what the gateway would open
					   through /proc/<pid>/root), then the
					   ServerCutText of "cuttext" */

/* The ServerCutText's text: printable ASCII, so only the policy refuses it. */
#define INJECT_CUT_TEXT "PIXELGATE-INJECTED-CUTTEXT-5f0c3a9e71d2b486"

/* The RRE rectangle, in framebuffer pixels (inside the smallest screen, 320x240). */
#define INJECT_RECT_X 24
#define INJECT_RECT_Y 16
#define INJECT_RECT_W 40
#define INJECT_RECT_H 24

/* The Raw rectangle's width, pixels (its x puts half of it past the edge). */
#define INJECT_OUTSIDE_W 32

/* The DesktopSize asked for, pixels each way. */
#define INJECT_RESIZE_PX 16384

/*
 * Every injected pixel (RRE background and subrectangle, Raw data) is these
 * bytes, the first bytes-per-pixel of them in the viewer's own pixel format.
 * At 32 bits the fourth byte is the padding byte, which the real screen
 * leaves 0: a framebuffer pixel with these four bytes came from the
 * injection.
 */
#define INJECT_PIXEL_BYTES             \
	{                              \
		0xa5, 0x5a, 0xc3, 0x3c \
	}

/*
 * Before it injects, the worker leaves in its session directory what a
 * compromised browser could: a file the test looks for in the kept copy
 * (forensics_dir), a symbolic link out of the directory to a file only root
 * may read, and a FIFO (a copier that opened it for reading would hang).
 */
#define INJECT_EVIDENCE_FILE "inject-evidence.txt"
#define INJECT_EVIDENCE_TEXT "left by the hostile worker 9d41c7be\n"
#define INJECT_ESCAPE_LINK "inject-escape"
#define INJECT_ESCAPE_TARGET "/etc/shadow"
#define INJECT_FIFO "inject-pipe"

#endif
