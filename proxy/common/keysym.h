/*
 * keysym.h: the one rule that turns a Unicode code point into the X keysym
 * that types it (X11 keysymdef.h, "Unicode keysyms"): U+0020..U+007E and
 * U+00A0..U+00FF are the Latin-1 keysyms of the same value, every other
 * character is 0x01000000 + its code point. The viewer (text from the IME,
 * printable keys) and the client library use it; the worker's XTest input
 * turns a Unicode keysym of a Latin-1 character back into the Latin-1 one.
 *
 * Header only (inline), so that the viewer, which does not link pgcommon,
 * uses it too.
 */
#ifndef PIXELGATE_KEYSYM_H
#define PIXELGATE_KEYSYM_H

#include <stdint.h>

/* Unicode keysyms are 0x01000000 + the code point. */
#define KEYSYM_UNICODE_BASE 0x01000000u

/*
 * The keysym that types code point cp, or 0 for what is not typed as text:
 * C0 controls, DEL, C1 controls, surrogates, values over U+10FFFF.
 */
static inline uint32_t keysym_from_codepoint(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return 0;
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp <= 0xff)
		return cp;
	return KEYSYM_UNICODE_BASE + cp;
}

#endif
