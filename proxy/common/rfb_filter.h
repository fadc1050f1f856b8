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
 *   6 ClientCutText  (8 + len bytes), len <= max_cut_text_bytes: Latin-1 text;
 *                    or the extended clipboard's form (a negative length: 4
 *                    bytes of flags and a zlib stream, the stream at most
 *                    RFB_FILTER_EXT_CUT_MAX(max_cut_text_bytes) bytes).
 *                    Only a Provide of text alone passes (the gateway inflates
 *                    and checks it, see clip_text.h); with the clipboard off by
 *                    policy, or another extended action (Caps, Request, Peek,
 *                    Notify, other formats), the message is DROPPED: consumed,
 *                    not forwarded, the session goes on.
 * Anything else (unknown type, file transfer 7, text chat 11, xvp, SetDesktopSize,
 * QEMU, oversize length) is a violation with a reason.
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

/* The extended clipboard (0xC0A1E5CE) flags: formats in bits 0-15, actions in 24-31. */
#define RFB_ENCODING_EXT_CLIPBOARD 0xC0A1E5CEu /* the pseudo-encoding, as on the wire */
#define RFB_EXT_CLIP_TEXT 0x00000001u
#define RFB_EXT_CLIP_PROVIDE 0x10000000u
/*
 * The largest zlib stream accepted for text of at most cap bytes: deflate's
 * worst case (stored blocks: 5 bytes per 16 KiB, a header and a flush) for
 * the 4-byte size, the text and its NUL, with room to spare.
 */
#define RFB_FILTER_EXT_CUT_MAX(cap) ((uint64_t)(cap) + (uint64_t)(cap) / 256 + 64)

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
	bool ext_clipboard;          /* the viewer's last SetEncodings had the extended clipboard
			       (stripped: the gateway speaks it for the browser's side) */
};

enum rfb_verdict {
	RFB_NEED_MORE, /* the buffer holds only part of the next message */
	RFB_PASS,      /* forward buf[0 .. len) unchanged */
	RFB_REWRITE,   /* forward out->rewritten[0 .. rewritten_len), consume len */
	RFB_REJECT,    /* violation: close the connection, log out->reason */
	RFB_DROP,      /* consume len, forward nothing; out->reason says why */
};

/* What a passed ClientCutText carries (rfb_step.cut). */
enum rfb_cut_kind {
	RFB_CUT_NONE,    /* not a ClientCutText */
	RFB_CUT_LATIN1,  /* plain: ISO 8859-1 text at cut_off, cut_len bytes */
	RFB_CUT_PROVIDE, /* extended Provide of text: a zlib stream at cut_off, cut_len bytes */
};

/* Result of one rfb_filter_step(). */
struct rfb_step {
	enum rfb_verdict verdict;
	size_t len; /* bytes of input the message occupies (PASS/REWRITE) */
	uint8_t rewritten[4 + 4 * RFB_FILTER_MAX_ENCODINGS];
	size_t rewritten_len;
	char reason[RFB_FILTER_REASON_LEN]; /* for REJECT and DROP: what was refused */
	enum rfb_cut_kind cut;              /* for a ClientCutText (PASS or DROP) */
	size_t cut_off, cut_len;            /* its payload within the message (PASS) */
};

/*
 * Start a connection's filter. Clipboard text is dropped unless
 * allow_cut_text; max_cut_text_bytes caps it either way (a longer one is a
 * violation).
 */
void rfb_filter_init(struct rfb_filter *f, bool allow_cut_text, uint32_t max_cut_text_bytes);

/*
 * Examine the first message at buf[0 .. len). Advances f's phase on PASS,
 * REWRITE or DROP. NEED_MORE never happens for a message larger than
 * rfb_filter_max_message(f): such a message is rejected as soon as its
 * header is complete.
 */
enum rfb_verdict rfb_filter_step(struct rfb_filter *f, const uint8_t *buf, size_t len,
				 struct rfb_step *out);

/* The largest message the filter can ever accept (bytes), for buffer sizing. */
size_t rfb_filter_max_message(const struct rfb_filter *f);

#endif
