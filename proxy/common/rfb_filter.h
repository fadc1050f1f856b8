/*
 * rfb_filter.h: the boundary's allow-list for the terminal -> proxy RFB stream.
 *
 * The gateway feeds every byte a viewer sends through this filter before it
 * reaches the session worker. It is a pure function over a buffer: no I/O, no
 * allocation. The stream must be RFB 3.8 ("RFB 003.008\n"), security type None
 * (1), a ClientInit, then only these messages:
 *   0 SetPixelFormat (20 bytes; only the true-colour formats viewers use, see
 *                     .c; rewritten with zero padding and byte order 0/1)
 *   2 SetEncodings   (4 + 4*n bytes, n <= RFB_FILTER_MAX_ENCODINGS; rewritten
 *                     to keep only the allow-listed encodings, see .c)
 *   3 FramebufferUpdateRequest (10 bytes)
 *   4 KeyEvent       (8 bytes)
 *   5 PointerEvent   (6 bytes)
 *   6 ClientCutText  (8 + len bytes) only if allow_cut_text, len <= max_cut_text_bytes
 * Anything else (unknown type, file transfer 7, text chat 11, xvp, SetDesktopSize,
 * QEMU, extended clipboard, oversize length) is a violation with a reason.
 */
#ifndef PIXELGATE_RFB_FILTER_H
#define PIXELGATE_RFB_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFB_FILTER_MAX_ENCODINGS 64 /* SetEncodings entries accepted */

/* The one ProtocolVersion accepted (12 bytes, no NUL on the wire). */
#define RFB_VERSION_388 "RFB 003.008\n"
#define RFB_VERSION_LEN (sizeof RFB_VERSION_388 - 1)
#define RFB_FILTER_REASON_LEN 128

enum rfb_filter_phase {
	RFB_PHASE_VERSION,     /* expecting the 12-byte ProtocolVersion */
	RFB_PHASE_SECURITY,    /* expecting the 1-byte security type choice */
	RFB_PHASE_CLIENT_INIT, /* expecting the 1-byte ClientInit */
	RFB_PHASE_NORMAL,      /* client-to-server messages */
};

/* Filter state of one connection; zero it with rfb_filter_init(). */
struct rfb_filter {
	enum rfb_filter_phase phase;
	bool allow_cut_text;         /* clipboard terminal -> browser allowed */
	uint32_t max_cut_text_bytes; /* cap on ClientCutText length when allowed */
	uint64_t messages;           /* messages accepted so far (for logs) */
};

enum rfb_verdict {
	RFB_NEED_MORE, /* the buffer holds only part of the next message */
	RFB_PASS,      /* forward buf[0 .. len) unchanged */
	RFB_REWRITE,   /* forward out->rewritten[0 .. rewritten_len), consume len */
	RFB_REJECT,    /* violation: close the connection, log out->reason */
};

/* Result of one rfb_filter_step(). */
struct rfb_step {
	enum rfb_verdict verdict;
	size_t len; /* bytes of input the message occupies (PASS/REWRITE) */
	uint8_t rewritten[4 + 4 * RFB_FILTER_MAX_ENCODINGS];
	size_t rewritten_len;
	char reason[RFB_FILTER_REASON_LEN]; /* for REJECT: what was refused */
};

/* Start a connection's filter. Clipboard is off unless allow_cut_text. */
void rfb_filter_init(struct rfb_filter *f, bool allow_cut_text, uint32_t max_cut_text_bytes);

/*
 * Examine the first message at buf[0 .. len). Advances f's phase on PASS or
 * REWRITE. NEED_MORE never happens for a message larger than
 * rfb_filter_max_message(f): such a message is rejected as soon as its
 * header is complete.
 */
enum rfb_verdict rfb_filter_step(struct rfb_filter *f, const uint8_t *buf, size_t len,
				 struct rfb_step *out);

/* The largest message the filter can ever accept (bytes), for buffer sizing. */
size_t rfb_filter_max_message(const struct rfb_filter *f);

#endif
