/*
 * clip_text.h: clipboard text that crosses the boundary (issue 15), made
 * safe in one place for the gateway (which audits and forwards it) and the
 * worker (which puts it on the session's X CLIPBOARD): plain text only.
 *
 * Refused: NUL and control characters other than tab, line feed and
 * carriage return (C0, DEL, and C1 U+0080..U+009F), and invalid UTF-8.
 * Line ends become LF (CRLF and a lone CR), as X11 and Chromium want them.
 */
#ifndef PIXELGATE_CLIP_TEXT_H
#define PIXELGATE_CLIP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define CLIP_TEXT_WHY_LEN 96

/*
 * RFB's ClientCutText text (ISO 8859-1, len bytes) as UTF-8 into out
 * (outcap bytes, NUL-terminated; at most 2 * len + 1 are needed). 0 with
 * *outlen, or -1 with the reason (the first refused byte and where) in why.
 */
int clip_text_from_latin1(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			  char *why, size_t whylen);

/* The same for UTF-8 text (one trailing NUL, as the extended clipboard sends it, is dropped). */
int clip_text_from_utf8(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			char *why, size_t whylen);

/*
 * The extended clipboard's Provide of text (a zlib stream of: u32 size, then
 * size bytes of UTF-8 ending in NUL) as safe UTF-8 text of at most cap bytes
 * before conversion. The stream may be sync-flushed or finished; it is
 * inflated into at most 4 + cap + 1 bytes (a bigger one is refused before
 * more is inflated), the announced size must be what it holds, and nothing
 * may follow the text. *out is malloc'd (free it, cleansed, after use):
 * NUL-terminated, *outlen bytes. 0, or -1 with the reason in why.
 */
int clip_text_from_provide(const uint8_t *z, size_t zlen, size_t cap, char **out, size_t *outlen,
			   char *why, size_t whylen);

#endif
