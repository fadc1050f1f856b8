/*
 * rfb_stream.h: the boundary's check of the browser -> terminal RFB stream.
 *
 * Every byte the session's worker (the browser side, assumed hostile) sends
 * towards a viewer passes this parser before it may leave the gateway; the
 * viewer runs the same parser before libvncclient sees a byte, and the
 * recorder takes its message boundaries from it. It is pure (no I/O, no
 * allocation), keeps a few hundred bytes of state per connection and never
 * buffers a message: fixed-size fields ("tokens", at most RFB_SC_MAX_TOKEN
 * bytes) are checked once they are whole, bulk data (pixels, compressed
 * data, text) passes in whatever pieces it comes.
 *
 * What it accepts, RFB 3.8 only:
 *  - handshake: exactly "RFB 003.008\n"; security types exactly [None];
 *    SecurityResult 0; ServerInit with the session's size, a true-colour
 *    pixel format of 8, 16 or 32 bits and a printable name of at most
 *    RFB_SC_MAX_NAME bytes;
 *  - messages: FramebufferUpdate and Bell; ServerCutText only if the
 *    configuration allows text to the terminal (capped; tab, line ends and
 *    printable Latin-1 bytes only, or UTF-8 bytes where configured; the
 *    extended clipboard's form where configured, its payload capped).
 *    Everything else (SetColourMapEntries, TextChat, ServerIdentity, xvp,
 *    fences, ...) is a violation;
 *  - rectangles: an encoding both in the gateway's allow-list (Raw, CopyRect,
 *    Hextile, Zlib, Tight, ZRLE, the two cursor pseudo-encodings, LastRect,
 *    DesktopSize) and among those the viewer asked for (rfb_sc_client());
 *    pixel rectangles inside the framebuffer; CopyRect's source inside;
 *    Hextile walked tile by tile, each subrectangle inside its tile; Zlib,
 *    ZRLE and Tight data no longer than the rectangle can need; Tight's
 *    control byte, filter and palette valid, JPEG only if the viewer asked
 *    for a quality level; cursors at most RFB_SC_MAX_CURSOR square with the
 *    hotspot inside; DesktopSize only if asked for and equal to the
 *    session's size; LastRect only if asked for.
 * The pixel format is the viewer's SetPixelFormat (or ServerInit's): a
 * SetPixelFormat after the viewer's first FramebufferUpdateRequest is a
 * violation (rfb_sc_client()), since updates in flight could be in either.
 */
#ifndef PIXELGATE_RFB_STREAM_H
#define PIXELGATE_RFB_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFB_SC_REASON_LEN 160
#define RFB_SC_MAX_NAME 64    /* ServerInit's desktop name, bytes */
#define RFB_SC_MAX_CURSOR 128 /* cursor shapes, pixels each way */
#define RFB_SC_MAX_WIDTH 7680 /* the largest session (config.c's max_width/height) */
#define RFB_SC_MAX_HEIGHT 4320
#define RFB_SC_MAX_TOKEN 1032 /* largest fixed-size field (a Tight header with its palette) */

/* Encodings the parser knows, as bits of rfb_sc.asked / RFB_SC_GATEWAY_ENCODINGS. */
enum rfb_sc_encoding {
	RFB_SC_RAW = 1u << 0,
	RFB_SC_COPYRECT = 1u << 1,
	RFB_SC_HEXTILE = 1u << 2,
	RFB_SC_ZLIB = 1u << 3,
	RFB_SC_TIGHT = 1u << 4,
	RFB_SC_ZRLE = 1u << 5,
	RFB_SC_RICH_CURSOR = 1u << 6,  /* -239 */
	RFB_SC_X_CURSOR = 1u << 7,     /* -240 */
	RFB_SC_LAST_RECT = 1u << 8,    /* -224 */
	RFB_SC_DESKTOP_SIZE = 1u << 9, /* -223 */
	RFB_SC_JPEG = 1u << 10,        /* a Tight quality level -32..-23 was asked for */
};

/* What the gateway lets a worker send at all (before what the viewer asked). */
#define RFB_SC_GATEWAY_ENCODINGS                                                      \
	(RFB_SC_RAW | RFB_SC_COPYRECT | RFB_SC_HEXTILE | RFB_SC_ZLIB | RFB_SC_TIGHT | \
	 RFB_SC_ZRLE | RFB_SC_RICH_CURSOR | RFB_SC_X_CURSOR | RFB_SC_LAST_RECT |      \
	 RFB_SC_DESKTOP_SIZE | RFB_SC_JPEG)

/* The connection's fixed facts. */
struct rfb_sc_config {
	uint16_t width, height; /* the session's framebuffer (above RFB_SC_MAX_*: none passes) */
	bool allow_cut_text;    /* ServerCutText (text to the terminal) allowed */
	uint32_t max_cut_text_bytes;
	bool cut_text_utf8; /* its text is UTF-8 (the worker's leg: the gateway checks it whole) */
	bool ext_cut_text;  /* the extended clipboard's form too (a negative length; the
			       gateway's leg to pixelgate-viewer): its payload (flags and a
			       zlib stream) at most RFB_FILTER_EXT_CUT_MAX(max_cut_text_bytes) */
	uint32_t allowed;   /* enum rfb_sc_encoding bits the deployment allows */
};

/* Parser state of one connection (a few hundred bytes); rfb_sc_init() it. */
struct rfb_sc {
	struct rfb_sc_config cfg;
	int phase;               /* what the next bytes are (see .c) */
	uint32_t asked;          /* encodings the viewer asked for, ever (union) */
	bool update_requested;   /* the viewer sent a FramebufferUpdateRequest */
	bool client_format;      /* the viewer sent a SetPixelFormat */
	uint8_t bpp;             /* bytes per pixel of the viewer's format: 1, 2, 4 */
	uint8_t tpixel;          /* Tight's pixel size: 3 for 32-bit depth-24 8:8:8 */
	uint8_t msg_type;        /* the server message being parsed */
	bool in_message;         /* between a message's first and last byte */
	uint16_t rects_left;     /* of the current FramebufferUpdate (LastRect may end it early) */
	bool desktop_size_seen;  /* a DesktopSize in the current FramebufferUpdate */
	uint16_t rx, ry, rw, rh; /* the current rectangle */
	int32_t enc;             /* its encoding */
	uint32_t tx, ty;         /* Hextile: the current tile (32 bits: no wrap) */
	uint16_t tw, th;
	uint8_t subrects_left; /* Hextile: of the current tile */
	bool subrects_coloured;
	uint8_t tight_bits;  /* Tight: bits per pixel after the filter */
	bool tight_no_zlib;  /* Tight: data follows uncompressed (libvncserver's level 0) */
	uint64_t bulk_left;  /* bytes of bulk data left in the current field */
	int bulk_kind;       /* what they are (see .c) */
	int after_bulk;      /* where the bulk data returns to (see .c) */
	uint64_t messages;   /* server messages accepted */
	uint64_t rects;      /* rectangles accepted */
	uint64_t jpeg_rects; /* of them Tight JPEG rectangles */
};

enum rfb_sc_verdict {
	RFB_SC_NEED_MORE, /* buf holds only part of the next field: call again with more */
	RFB_SC_PASS,      /* buf[0 .. len) is valid: pass it on */
	RFB_SC_REJECT,    /* violation: end the connection; reason says what */
};

/* Result of one rfb_sc_step(). */
struct rfb_sc_step {
	enum rfb_sc_verdict verdict;
	size_t len;           /* PASS: bytes accepted (> 0), never past a message's end;
				      REJECT: the valid bytes before the violation */
	bool starts_message;  /* PASS: they begin a server message (after the handshake) */
	bool ends_message;    /* PASS: they end a server message or a handshake step */
	bool handshake;       /* PASS: they belong to the handshake */
	uint8_t message_type; /* PASS: the server message they belong to */
	char reason[RFB_SC_REASON_LEN];
};

/* Start a connection's parser. */
void rfb_sc_init(struct rfb_sc *p, const struct rfb_sc_config *cfg);

/*
 * Tell the parser about a message the viewer sent (one whole message, as the
 * client-to-server filter passed it on, after its rewrite): SetPixelFormat,
 * SetEncodings and FramebufferUpdateRequest change what the server may send;
 * others are ignored. Returns false (reason set) for a SetPixelFormat after
 * the first FramebufferUpdateRequest or one the parser cannot follow.
 */
bool rfb_sc_client(struct rfb_sc *p, const uint8_t *msg, size_t len, char *reason,
		   size_t reason_len);

/*
 * Examine the stream at buf[0 .. len): accepts as much as it can up to the
 * end of the current server message, or says why not.
 */
enum rfb_sc_verdict rfb_sc_step(struct rfb_sc *p, const uint8_t *buf, size_t len,
				struct rfb_sc_step *out);

/* True between server messages (after the handshake): the next byte is a message type. */
bool rfb_sc_at_message(const struct rfb_sc *p);

/* True once the server's ProtocolVersion has passed (or the stream was refused). */
bool rfb_sc_past_version(const struct rfb_sc *p);

/* The encoding bit of a wire encoding number, 0 if the parser does not know it. */
uint32_t rfb_sc_encoding_bit(int32_t encoding);

#endif
