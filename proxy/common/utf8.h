/*
 * utf8.h: UTF-8 for text that came from outside (a browser, a worker, a
 * server's answer): one decoder, and the cleaning of such text for a log
 * line or an audit record.
 *
 * The decoder is strict (RFC 3629): overlong forms, surrogates, values over
 * U+10FFFF and truncated sequences are invalid. jansson refuses invalid
 * UTF-8 (json_string() returns NULL), so text that goes into JSON must be
 * cleaned first, and cut only between characters.
 */
#ifndef PIXELGATE_UTF8_H
#define PIXELGATE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode one UTF-8 character at s (n bytes left, n > 0) into *cp. Returns
 * its length (1-4), or 0 if the bytes there are not valid UTF-8 (overlong
 * forms, surrogates and values over U+10FFFF included); *cp is untouched
 * then. Inline, so that the viewer and the client library, which do not
 * link pgcommon, decode with it too.
 */
static inline size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * The characters that reorder or hide text in a terminal or an editor
 * without showing: bidi marks (U+061C, U+200E, U+200F), embeddings and
 * overrides (U+202A..U+202E), isolates (U+2066..U+2069).
 */
static inline bool utf8_is_bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* Invisible characters that are not text to keep on a terminal's clipboard:
   zero-width space, word joiner and invisible operators, the line and
   paragraph separators, the byte order mark, interlinear annotations. */
static inline bool utf8_is_invisible(uint32_t cp)
{
	return cp == 0x200b || cp == 0x2028 || cp == 0x2029 || (cp >= 0x2060 && cp <= 0x2064) ||
	    cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

/*
 * Copy the NUL-terminated src into dst (dstlen > 0 bytes, always
 * NUL-terminated) as valid UTF-8 without control characters: each byte that
 * does not start a valid character, and each C0 control, DEL and C1 control
 * (U+0080..U+009F), becomes one '?'; every other character is kept as it is.
 * Text that does not fit is cut between two characters and ends with
 * UTF8_CUT_MARK, all within dstlen - 1 bytes (when dstlen - 1 is shorter
 * than the mark, nothing but what fits whole). Returns the bytes written
 * (without the NUL).
 */
size_t utf8_clean(char *dst, size_t dstlen, const char *src);

/* utf8_clean_text()'s flags. */
#define UTF8_CLEAN_BIDI 1u /* '?' for the bidi controls too (utf8_is_bidi_control()) */

/*
 * utf8_clean() of n bytes at src (a NUL among them is a control), with the
 * cut marked by mark (any text, "" for none) and, with UTF8_CLEAN_BIDI, the
 * bidi controls replaced too (for a terminal, where they reorder what
 * follows). Returns the bytes written.
 */
size_t utf8_clean_text(char *dst, size_t dstlen, const char *src, size_t n, const char *mark,
		       unsigned flags);

/* Ends text that utf8_clean() cut: U+2026 HORIZONTAL ELLIPSIS, 3 bytes. */
#define UTF8_CUT_MARK "\xe2\x80\xa6"

#endif
