/*
 * clip_text.h: clipboard text that crosses the boundary (issue 15), made
 * safe in one place for the gateway (which audits and forwards it), the
 * worker (which puts it on the session's X CLIPBOARD and reads the
 * browser's) and pixelgate-viewer (which sends and takes the extended
 * clipboard's messages): plain text only. Library pgclip (zlib only).
 *
 * Refused: NUL and control characters other than tab, line feed and
 * carriage return (C0, DEL, and C1 U+0080..U+009F), and invalid UTF-8.
 * Line ends become LF (CRLF and a lone CR), as X11 and Chromium want them.
 */
#ifndef PIXELGATE_CLIP_TEXT_H
#define PIXELGATE_CLIP_TEXT_H

#include <stdbool.h>
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
 * Text for the terminal's clipboard (UTF-8): as clip_text_from_utf8(), and
 * the bidi controls and invisible characters (utf8.h) are refused too: a
 * staff member may paste it into an editor or a shell, where they reorder
 * or hide what is there.
 */
int clip_text_for_terminal(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			   char *why, size_t whylen);

/*
 * Text copied in the browser (UTF-8), for the terminal: what
 * clip_text_for_terminal() refuses is removed instead (counted in
 * *removed), line ends become LF. Invalid UTF-8 is still refused. out
 * needs len + 1 bytes. 0, or -1 with why.
 */
int clip_text_clean_utf8(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			 size_t *removed, char *why, size_t whylen);

/*
 * Safe UTF-8 text as ISO 8859-1 for a viewer that knows only RFB's plain cut
 * text: a character above U+00FF becomes '?' (as noVNC does). out needs
 * len + 1 bytes; returns the bytes written (NUL-terminated).
 */
size_t clip_text_to_latin1(const char *utf8, size_t len, char *out);

/* RFB's message types that carry clipboard text. */
#define CLIP_CLIENT_CUT_TEXT 6
#define CLIP_SERVER_CUT_TEXT 3
/* The largest text clip_text_provide_message() takes. */
#define CLIP_TEXT_MAX (1u << 20)

/*
 * The extended clipboard's Provide of len bytes of UTF-8 text as a message
 * of type (CLIP_CLIENT_CUT_TEXT or CLIP_SERVER_CUT_TEXT): a negative length,
 * the flags Provide|text and a zlib stream of the text's size (with its NUL),
 * the text and the NUL, sync-flushed (libvncserver 0.9.14 refuses a
 * finished one). *msg is malloc'd (*msg_len bytes; free it). 0, or -1 (out
 * of memory, or over CLIP_TEXT_MAX).
 */
int clip_text_provide_message(uint8_t type, const char *utf8, size_t len, uint8_t **msg,
			      size_t *msg_len);

/*
 * The extended clipboard's Provide of text (a zlib stream of: u32 size, then
 * size bytes of UTF-8 ending in NUL) as safe UTF-8 text of at most cap bytes
 * before conversion. The stream may be sync-flushed or finished; it is
 * inflated into at most 4 + cap + 1 bytes (a bigger one is refused before
 * more is inflated), the announced size must be what it holds, and nothing
 * may follow the text; the text is checked as clip_text_from_utf8() does,
 * or for the terminal as clip_text_for_terminal() does. *out is malloc'd
 * (free it, cleansed, after use): NUL-terminated, *outlen bytes. 0, or -1
 * with the reason in why.
 */
int clip_text_from_provide(const uint8_t *z, size_t zlen, size_t cap, bool terminal, char **out,
			   size_t *outlen, char *why, size_t whylen);

#endif
