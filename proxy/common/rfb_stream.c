/*
 * rfb_stream.c: see rfb_stream.h.
 *
 * The stream is a sequence of fields. A fixed-size field (a "token": the
 * version, ServerInit, a message or rectangle header, a Hextile tile header
 * or subrectangle, a Tight header with its palette and length) is checked
 * only once all of its bytes are in the buffer, so a hostile value is
 * refused before any byte of the field may be passed on; until then the
 * verdict is NEED_MORE and the caller keeps the bytes. Bulk data (pixels,
 * compressed data, a name, text) passes in any pieces, its length known
 * and bounded in advance. Multi-byte values are big-endian, read byte by
 * byte (no casts of the input pointer).
 */
#include "rfb_stream.h"

#include "rfb_filter.h" /* RFB_FILTER_EXT_CUT_MAX */

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char sc_version[] = "RFB 003.008\n";
#define SC_VERSION_LEN (sizeof sc_version - 1)

/* What the next bytes are. */
enum sc_phase {
	SC_VERSION,   /* 12 bytes */
	SC_SECURITY,  /* count 1, type None */
	SC_SECRESULT, /* u32 0 */
	SC_INIT,      /* ServerInit without its name */
	SC_MSG,       /* a server message's type and fixed header */
	SC_RECT,      /* a rectangle header */
	SC_COPYRECT,  /* CopyRect's source */
	SC_LENGTH32,  /* Zlib's or ZRLE's u32 length */
	SC_HEXTILE,   /* a Hextile tile header */
	SC_SUBRECT,   /* a Hextile subrectangle */
	SC_TIGHT,     /* a Tight header (control, fill colour, filter, palette, length) */
	SC_BULK,      /* bulk_left bytes of bulk_kind */
	SC_FAILED,    /* after a violation: nothing more is accepted */
};

/* What bulk bytes are, for the checks made on each byte. */
enum sc_bulk { SC_BULK_DATA, SC_BULK_NAME, SC_BULK_TEXT };

/* Where the parser goes after bulk data. */
enum sc_after { SC_AFTER_INIT, SC_AFTER_MESSAGE, SC_AFTER_RECT, SC_AFTER_TILE };

/* Server-to-client message types. */
enum {
	SC_MSG_UPDATE = 0,
	SC_MSG_COLOURMAP = 1,
	SC_MSG_BELL = 2,
	SC_MSG_CUT_TEXT = 3,
};

/* Wire encoding numbers. */
#define SC_ENC_RAW 0
#define SC_ENC_COPYRECT 1
#define SC_ENC_HEXTILE 5
#define SC_ENC_ZLIB 6
#define SC_ENC_TIGHT 7
#define SC_ENC_ZRLE 16
#define SC_ENC_X_CURSOR (-240)
#define SC_ENC_RICH_CURSOR (-239)
#define SC_ENC_LAST_RECT (-224)
#define SC_ENC_DESKTOP_SIZE (-223)

/* Hextile subencoding bits. */
#define SC_HT_RAW 1
#define SC_HT_BG 2
#define SC_HT_FG 4
#define SC_HT_ANY 8
#define SC_HT_COLOURED 16

/* libvncclient's buffer for Tight data sent without zlib (RFB_BUFFER_SIZE). */
#define SC_TIGHT_RAW_MAX (640u * 480u)
#define SC_TIGHT_MIN_TO_COMPRESS 12
/*
 * libvncclient's gradient filter keeps one row of at most 2048 pixels
 * (TIGHT_GRADIENT_MAX_WIDTH; wider overflows it where the library is not
 * patched for CVE-2026-44988) and writes each row's first pixel even when
 * the rectangle is 0 pixels wide (past the framebuffer's end for one at its
 * right edge). In a 16-bit format it decodes JPEG into its RFB_BUFFER_SIZE
 * buffer at 3 bytes a pixel, so a larger picture overwrites the rfbClient.
 * libvncserver's encoder never sends more: Tight rectangles at most 2048
 * pixels wide and 65536 pixels in all, fills aside.
 */
#define SC_TIGHT_GRADIENT_MAX_WIDTH 2048u
#define SC_TIGHT_JPEG16_MAX_PIXELS (SC_TIGHT_RAW_MAX / 3)

static uint16_t sc_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t sc_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The wire's two's-complement s32, without implementation-defined conversion. */
static int32_t sc_s32(uint32_t v)
{
	return v >= UINT32_C(0x80000000) ? (int32_t)(int64_t)((int64_t)v - INT64_C(0x100000000))
					 : (int32_t)v;
}

uint32_t rfb_sc_encoding_bit(int32_t e)
{
	switch (e) {
	case SC_ENC_RAW:
		return RFB_SC_RAW;
	case SC_ENC_COPYRECT:
		return RFB_SC_COPYRECT;
	case SC_ENC_HEXTILE:
		return RFB_SC_HEXTILE;
	case SC_ENC_ZLIB:
		return RFB_SC_ZLIB;
	case SC_ENC_TIGHT:
		return RFB_SC_TIGHT;
	case SC_ENC_ZRLE:
		return RFB_SC_ZRLE;
	case SC_ENC_RICH_CURSOR:
		return RFB_SC_RICH_CURSOR;
	case SC_ENC_X_CURSOR:
		return RFB_SC_X_CURSOR;
	case SC_ENC_LAST_RECT:
		return RFB_SC_LAST_RECT;
	case SC_ENC_DESKTOP_SIZE:
		return RFB_SC_DESKTOP_SIZE;
	default:
		return e >= -32 && e <= -23 ? RFB_SC_JPEG : 0;
	}
}

static const char *sc_encoding_name(int32_t e)
{
	switch (e) {
	case 2:
		return "RRE";
	case 4:
		return "CoRRE";
	case 8:
		return "ZlibHex";
	case 9:
		return "Ultra";
	case 10:
		return "UltraZip";
	case 15:
		return "TRLE";
	case 17:
		return "ZYWRLE";
	case 20:
		return "H.264";
	case 21:
		return "JPEG";
	case 50:
		return "Open H.264";
	case -260:
		return "TightPNG";
	case -232:
		return "PointerPos";
	case -305:
		return "ServerIdentity";
	case -307:
		return "DesktopName";
	case -308:
		return "ExtendedDesktopSize";
	case -309:
		return "xvp";
	case -312:
		return "Fence";
	case -313:
		return "ContinuousUpdates";
	default:
		return NULL;
	}
}

static const char *sc_message_name(uint8_t t)
{
	switch (t) {
	case 1:
		return "SetColourMapEntries";
	case 4:
		return "ResizeFrameBuffer";
	case 5:
		return "KeyFrameUpdate";
	case 7:
		return "FileTransfer";
	case 11:
		return "TextChat";
	case 15:
		return "PalmVNCReSizeFrameBuffer";
	case 150:
		return "EndOfContinuousUpdates";
	case 173:
		return "ServerState";
	case 248:
		return "ServerFence";
	case 250:
		return "xvp";
	case 252:
		return "tight";
	case 253:
		return "gii";
	case 255:
		return "QEMU";
	default:
		return NULL;
	}
}

static enum rfb_sc_verdict sc_reject(struct rfb_sc *p, struct rfb_sc_step *out, const char *fmt,
				     ...) __attribute__((format(__printf__, 3, 4)));

static enum rfb_sc_verdict sc_reject(struct rfb_sc *p, struct rfb_sc_step *out, const char *fmt,
				     ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(out->reason, sizeof out->reason, "protocol violation");
	p->phase = SC_FAILED;
	out->verdict = RFB_SC_REJECT;
	return out->verdict;
}

/* The pixel sizes of a 16-byte PIXEL_FORMAT; false if the parser cannot follow it. */
static bool sc_format(const uint8_t *pf, uint8_t *bpp, uint8_t *tpixel, char *why, size_t whylen)
{
	unsigned bits = pf[0], depth = pf[1];
	if (bits != 8 && bits != 16 && bits != 32) {
		snprintf(why, whylen, "%u bits per pixel (8, 16, 32 only)", bits);
		return false;
	}
	if (depth < 1 || depth > bits) {
		snprintf(why, whylen, "depth %u with %u bits per pixel", depth, bits);
		return false;
	}
	if (pf[3] == 0) { /* any other value is true (libvncserver sends 255) */
		snprintf(why, whylen, "true-colour flag 0 (colour maps are refused)");
		return false;
	}
	*bpp = (uint8_t)(bits / 8);
	/* Tight's TPIXEL and CPIXEL: 3 bytes for 32-bit depth-24 8:8:8 (libvncclient's rule) */
	*tpixel = bits == 32 && depth == 24 && sc_u16(pf + 4) == 255 && sc_u16(pf + 6) == 255 &&
		sc_u16(pf + 8) == 255
	    ? 3
	    : *bpp;
	return true;
}

bool rfb_sc_at_message(const struct rfb_sc *p)
{
	return p->phase == SC_MSG;
}

bool rfb_sc_past_version(const struct rfb_sc *p)
{
	return p->phase != SC_VERSION;
}

void rfb_sc_init(struct rfb_sc *p, const struct rfb_sc_config *cfg)
{
	memset(p, 0, sizeof *p);
	p->cfg = *cfg;
	/* a session is never larger (config.c's bounds); nothing bigger passes */
	if (p->cfg.width > RFB_SC_MAX_WIDTH || p->cfg.height > RFB_SC_MAX_HEIGHT)
		p->cfg.width = p->cfg.height = 0;
	p->phase = SC_VERSION;
}

bool rfb_sc_client(struct rfb_sc *p, const uint8_t *msg, size_t len, char *reason,
		   size_t reason_len)
{
	if (len == 0)
		return true;
	switch (msg[0]) {
	case 0: { /* SetPixelFormat: type, 3 pad, PIXEL_FORMAT */
		uint8_t bpp, tpixel;
		char why[96];
		if (len < 20) {
			snprintf(reason, reason_len, "SetPixelFormat of %zu bytes", len);
			return false;
		}
		if (!sc_format(msg + 4, &bpp, &tpixel, why, sizeof why)) {
			snprintf(reason, reason_len, "SetPixelFormat with %s", why);
			return false;
		}
		if (p->update_requested && (bpp != p->bpp || tpixel != p->tpixel)) {
			snprintf(reason, reason_len,
				 "SetPixelFormat after the first FramebufferUpdateRequest (updates "
				 "in flight could be in either format)");
			return false;
		}
		p->bpp = bpp;
		p->tpixel = tpixel;
		p->client_format = true;
		return true;
	}
	case 2: /* SetEncodings: type, pad, u16 count, count x s32 */
		for (size_t off = 4; len >= 4 && off + 4 <= len; off += 4)
			p->asked |= rfb_sc_encoding_bit(sc_s32(sc_u32(msg + off)));
		return true;
	case 3: /* FramebufferUpdateRequest */
		p->update_requested = true;
		return true;
	default:
		return true;
	}
}

/* Bytes at most that deflate'd data of raw bytes can take (deflate's own
   bound with room for a sync flush and a stream header per rectangle). */
static uint64_t sc_zbound(uint64_t raw)
{
	return raw + (raw >> 8) + 1024;
}

/* Bulk data of n (> 0) bytes, then back to after. */
static void sc_bulk(struct rfb_sc *p, uint64_t n, enum sc_bulk kind, enum sc_after after)
{
	p->phase = SC_BULK;
	p->bulk_left = n;
	p->bulk_kind = kind;
	p->after_bulk = after;
}

/* The current rectangle is done: the next, or the end of the update. */
static bool sc_rect_done(struct rfb_sc *p)
{
	p->rects++;
	/* as libvncclient counts: 0xFFFF rectangles at most, LastRect or not */
	p->rects_left--;
	if (p->rects_left == 0) {
		p->phase = SC_MSG;
		return true;
	}
	p->phase = SC_RECT;
	return false;
}

/* The first tile of the rectangle, or the next; false when there is none. */
static bool sc_next_tile(struct rfb_sc *p, bool first)
{
	if (first) {
		p->tx = p->rx;
		p->ty = p->ry;
	} else {
		p->tx += 16;
		if (p->tx >= (uint32_t)p->rx + p->rw) {
			p->tx = p->rx;
			p->ty += 16;
		}
	}
	if (p->rw == 0 || p->rh == 0 || (uint32_t)p->ty >= (uint32_t)p->ry + p->rh)
		return false;
	uint32_t rx_end = (uint32_t)p->rx + p->rw, ry_end = (uint32_t)p->ry + p->rh;
	p->tw = (uint16_t)(rx_end - p->tx < 16 ? rx_end - p->tx : 16);
	p->th = (uint16_t)(ry_end - p->ty < 16 ? ry_end - p->ty : 16);
	p->phase = SC_HEXTILE;
	return true;
}

/* After a Hextile tile: the next one, or the rectangle is done. Returns
   true if that ended the message. */
static bool sc_tile_done(struct rfb_sc *p)
{
	if (sc_next_tile(p, false))
		return false;
	return sc_rect_done(p);
}

/* ---- tokens ----------------------------------------------------------------- */

/*
 * Each token function looks at buf[0 .. len) (len >= 1), returns the token's
 * size in *need once it can tell (0 until then), and checks it once len >=
 * *need. Returns false on a violation (reason set in out).
 */

static bool sc_tok_version(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			   struct rfb_sc_step *out)
{
	size_t have = len < SC_VERSION_LEN ? len : SC_VERSION_LEN;
	for (size_t i = 0; i < have; i++)
		if (b[i] != (uint8_t)sc_version[i]) {
			sc_reject(p, out, "ProtocolVersion byte %zu is 0x%02x (only RFB 003.008)",
				  i, b[i]);
			return false;
		}
	*need = SC_VERSION_LEN;
	if (len >= SC_VERSION_LEN)
		p->phase = SC_SECURITY;
	return true;
}

static bool sc_tok_security(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			    struct rfb_sc_step *out)
{
	if (b[0] != 1) {
		sc_reject(p, out, "%u security types offered (exactly one, None)", b[0]);
		return false;
	}
	*need = 2;
	if (len < 2)
		return true;
	if (b[1] != 1) {
		sc_reject(p, out, "security type %u offered (only None, 1)", b[1]);
		return false;
	}
	p->phase = SC_SECRESULT;
	return true;
}

static bool sc_tok_secresult(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			     struct rfb_sc_step *out)
{
	*need = 4;
	if (len < 4)
		return true;
	if (sc_u32(b) != 0) {
		sc_reject(p, out, "SecurityResult %" PRIu32 " (only 0, OK)", sc_u32(b));
		return false;
	}
	p->phase = SC_INIT;
	return true;
}

static bool sc_tok_init(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			struct rfb_sc_step *out)
{
	/* width, height, PIXEL_FORMAT (16), name length */
	char why[96];
	*need = 24;
	if (len < 24)
		return true;
	if (sc_u16(b) != p->cfg.width || sc_u16(b + 2) != p->cfg.height) {
		sc_reject(p, out, "ServerInit size %ux%u, the session's is %ux%u", sc_u16(b),
			  sc_u16(b + 2), p->cfg.width, p->cfg.height);
		return false;
	}
	uint8_t bpp, tpixel;
	if (!sc_format(b + 4, &bpp, &tpixel, why, sizeof why)) {
		sc_reject(p, out, "ServerInit pixel format with %s", why);
		return false;
	}
	if (!p->client_format) { /* the server's format, until the viewer sets its own */
		p->bpp = bpp;
		p->tpixel = tpixel;
	}
	uint32_t name_len = sc_u32(b + 20);
	if (name_len > RFB_SC_MAX_NAME) {
		sc_reject(p, out, "ServerInit name of %" PRIu32 " bytes (at most %d)", name_len,
			  RFB_SC_MAX_NAME);
		return false;
	}
	sc_bulk(p, name_len, SC_BULK_NAME, SC_AFTER_INIT);
	return true;
}

static bool sc_tok_message(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			   struct rfb_sc_step *out)
{
	p->msg_type = b[0];
	switch (b[0]) {
	case SC_MSG_UPDATE: /* type, pad, u16 rectangles */
		*need = 4;
		if (len < 4)
			return true;
		p->rects_left = sc_u16(b + 2);
		p->desktop_size_seen = false;
		p->phase = p->rects_left == 0 ? SC_MSG : SC_RECT;
		return true;
	case SC_MSG_BELL:
		*need = 1;
		p->phase = SC_MSG;
		return true;
	case SC_MSG_CUT_TEXT: { /* type, 3 pad, u32 length, text */
		if (!p->cfg.allow_cut_text) {
			sc_reject(p, out, "ServerCutText: text to the terminal is off by policy");
			return false;
		}
		*need = 8;
		if (len < 8)
			return true;
		uint32_t n = sc_u32(b + 4);
		if ((n & 0x80000000u) != 0 && p->cfg.ext_cut_text) {
			/* the extended clipboard's form: flags and a zlib stream */
			uint64_t size = 0x100000000ull - n;
			uint64_t max = RFB_FILTER_EXT_CUT_MAX(p->cfg.max_cut_text_bytes);
			if (size < 4 || size > max) {
				sc_reject(p, out,
					  "extended ServerCutText of %" PRIu64
					  " bytes (4 to %" PRIu64 ")",
					  size, max);
				return false;
			}
			sc_bulk(p, size, SC_BULK_DATA, SC_AFTER_MESSAGE);
			return true;
		}
		if (n > p->cfg.max_cut_text_bytes) {
			sc_reject(p, out, "ServerCutText of %" PRIu32 " bytes (cap %" PRIu32 ")", n,
				  p->cfg.max_cut_text_bytes);
			return false;
		}
		if (n == 0)
			p->phase = SC_MSG;
		else
			sc_bulk(p, n, SC_BULK_TEXT, SC_AFTER_MESSAGE);
		return true;
	}
	default: {
		const char *name = sc_message_name(b[0]);
		if (name != NULL)
			sc_reject(p, out, "server message type %u (%s) is not allowed", b[0], name);
		else
			sc_reject(p, out, "unknown server message type %u", b[0]);
		return false;
	}
	}
}

/* A pixel rectangle must lie inside the framebuffer. */
static bool sc_inside(const struct rfb_sc *p, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	return x + w <= p->cfg.width && y + h <= p->cfg.height;
}

static bool sc_tok_rect(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			struct rfb_sc_step *out)
{
	*need = 12;
	if (len < 12)
		return true;
	p->rx = sc_u16(b);
	p->ry = sc_u16(b + 2);
	p->rw = sc_u16(b + 4);
	p->rh = sc_u16(b + 6);
	p->enc = sc_s32(sc_u32(b + 8));
	uint32_t bit = rfb_sc_encoding_bit(p->enc);
	if (bit == 0 || bit == RFB_SC_JPEG || !(p->cfg.allowed & bit) || !(p->asked & bit)) {
		const char *name = sc_encoding_name(p->enc);
		sc_reject(p, out, "rectangle %" PRIu64 " with encoding %" PRId32 "%s%s%s, %s",
			  p->rects, p->enc, name ? " (" : "", name ? name : "", name ? ")" : "",
			  bit == 0 || bit == RFB_SC_JPEG || !(p->cfg.allowed & bit)
			      ? "not allowed by the gateway"
			      : "which the viewer did not ask for");
		return false;
	}
	uint64_t area = (uint64_t)p->rw * p->rh;
	switch (p->enc) {
	case SC_ENC_RICH_CURSOR:
	case SC_ENC_X_CURSOR:
		if (p->rw > RFB_SC_MAX_CURSOR || p->rh > RFB_SC_MAX_CURSOR) {
			sc_reject(p, out, "cursor of %ux%u (at most %dx%d)", p->rw, p->rh,
				  RFB_SC_MAX_CURSOR, RFB_SC_MAX_CURSOR);
			return false;
		}
		if (area == 0 ? p->rx != 0 || p->ry != 0 : p->rx >= p->rw || p->ry >= p->rh) {
			sc_reject(p, out, "cursor of %ux%u with its hotspot at %u,%u", p->rw, p->rh,
				  p->rx, p->ry);
			return false;
		}
		if (area == 0) {
			sc_rect_done(p);
			return true;
		}
		if (p->enc == SC_ENC_RICH_CURSOR)
			sc_bulk(p, area * p->bpp + (uint64_t)((p->rw + 7) / 8) * p->rh,
				SC_BULK_DATA, SC_AFTER_RECT);
		else
			sc_bulk(p, 6 + 2 * (uint64_t)((p->rw + 7) / 8) * p->rh, SC_BULK_DATA,
				SC_AFTER_RECT);
		return true;
	case SC_ENC_LAST_RECT:
		p->rects++;
		p->rects_left = 0;
		p->phase = SC_MSG;
		return true;
	case SC_ENC_DESKTOP_SIZE:
		if (p->rw != p->cfg.width || p->rh != p->cfg.height) {
			sc_reject(p, out, "DesktopSize %ux%u, the session's is %ux%u", p->rw, p->rh,
				  p->cfg.width, p->cfg.height);
			return false;
		}
		/* each one makes libvncclient reallocate its framebuffer and ask for
		   a full update: one per update is all a size change needs */
		if (p->desktop_size_seen) {
			sc_reject(p, out, "a second DesktopSize in one update");
			return false;
		}
		p->desktop_size_seen = true;
		sc_rect_done(p);
		return true;
	default:
		break;
	}
	if (!sc_inside(p, p->rx, p->ry, p->rw, p->rh)) {
		sc_reject(p, out, "rectangle %ux%u at %u,%u outside the %ux%u framebuffer", p->rw,
			  p->rh, p->rx, p->ry, p->cfg.width, p->cfg.height);
		return false;
	}
	switch (p->enc) {
	case SC_ENC_RAW:
		if (area == 0)
			sc_rect_done(p);
		else
			sc_bulk(p, area * p->bpp, SC_BULK_DATA, SC_AFTER_RECT);
		return true;
	case SC_ENC_COPYRECT:
		p->phase = SC_COPYRECT;
		return true;
	case SC_ENC_HEXTILE:
		if (!sc_next_tile(p, true))
			sc_rect_done(p);
		return true;
	case SC_ENC_ZLIB:
	case SC_ENC_ZRLE:
		p->phase = SC_LENGTH32;
		return true;
	case SC_ENC_TIGHT:
		p->phase = SC_TIGHT;
		return true;
	default:
		sc_reject(p, out, "encoding %" PRId32 " has no parser", p->enc);
		return false;
	}
}

static bool sc_tok_copyrect(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			    struct rfb_sc_step *out)
{
	*need = 4;
	if (len < 4)
		return true;
	if (!sc_inside(p, sc_u16(b), sc_u16(b + 2), p->rw, p->rh)) {
		sc_reject(p, out, "CopyRect source %ux%u at %u,%u outside the %ux%u framebuffer",
			  p->rw, p->rh, sc_u16(b), sc_u16(b + 2), p->cfg.width, p->cfg.height);
		return false;
	}
	sc_rect_done(p);
	return true;
}

static bool sc_tok_length32(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			    struct rfb_sc_step *out)
{
	*need = 4;
	if (len < 4)
		return true;
	uint64_t n = sc_u32(b), area = (uint64_t)p->rw * p->rh;
	/* ZRLE's decoded form per 64x64 tile: a subencoding byte, at most a
	   127-colour palette, then a run length byte per pixel beside its CPIXEL */
	uint64_t raw = p->enc == SC_ENC_ZLIB ? area * p->bpp
					     : area * ((uint64_t)p->tpixel + 1) +
		((uint64_t)(p->rw + 63) / 64) * ((p->rh + 63) / 64) *
		    (1 + 127 * (uint64_t)p->tpixel);
	if (n > sc_zbound(raw)) {
		sc_reject(p, out,
			  "%s data of %" PRIu64 " bytes for a %ux%u rectangle (at most %" PRIu64
			  ")",
			  p->enc == SC_ENC_ZLIB ? "Zlib" : "ZRLE", n, p->rw, p->rh, sc_zbound(raw));
		return false;
	}
	if (n == 0)
		sc_rect_done(p);
	else
		sc_bulk(p, n, SC_BULK_DATA, SC_AFTER_RECT);
	return true;
}

static bool sc_tok_hextile(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			   struct rfb_sc_step *out)
{
	uint8_t s = b[0];
	if (s & ~(SC_HT_RAW | SC_HT_BG | SC_HT_FG | SC_HT_ANY | SC_HT_COLOURED)) {
		sc_reject(p, out, "Hextile tile at %u,%u with subencoding 0x%02x", p->tx, p->ty, s);
		return false;
	}
	if (s & SC_HT_RAW) {
		*need = 1;
		sc_bulk(p, (uint64_t)p->tw * p->th * p->bpp, SC_BULK_DATA, SC_AFTER_TILE);
		return true;
	}
	*need = 1 + ((s & SC_HT_BG) ? p->bpp : 0) + ((s & SC_HT_FG) ? p->bpp : 0) +
	    ((s & SC_HT_ANY) ? 1 : 0);
	if (len < *need)
		return true;
	if (!(s & SC_HT_ANY) || b[*need - 1] == 0) {
		sc_tile_done(p);
		return true;
	}
	p->subrects_left = b[*need - 1];
	p->subrects_coloured = (s & SC_HT_COLOURED) != 0;
	p->phase = SC_SUBRECT;
	return true;
}

static bool sc_tok_subrect(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			   struct rfb_sc_step *out)
{
	size_t c = p->subrects_coloured ? p->bpp : 0;
	*need = c + 2;
	if (len < *need)
		return true;
	unsigned x = b[c] >> 4, y = b[c] & 15, w = (b[c + 1] >> 4) + 1u, h = (b[c + 1] & 15) + 1u;
	if (x + w > p->tw || y + h > p->th) {
		sc_reject(p, out,
			  "Hextile subrectangle %ux%u at %u,%u outside its %ux%u tile at %u,%u", w,
			  h, x, y, p->tw, p->th, p->tx, p->ty);
		return false;
	}
	if (--p->subrects_left == 0)
		sc_tile_done(p);
	return true;
}

/* A Tight compact length at b[0 .. len): its size in *size (0 if incomplete), value in *v. */
static void sc_compact(const uint8_t *b, size_t len, size_t *size, uint32_t *v)
{
	*size = 0;
	if (len < 1)
		return;
	*v = b[0] & 0x7F;
	if (!(b[0] & 0x80)) {
		*size = 1;
		return;
	}
	if (len < 2)
		return;
	*v |= (uint32_t)(b[1] & 0x7F) << 7;
	if (!(b[1] & 0x80)) {
		*size = 2;
		return;
	}
	if (len < 3)
		return;
	*v |= (uint32_t)b[2] << 14;
	*size = 3;
}

static bool sc_tok_tight(struct rfb_sc *p, const uint8_t *b, size_t len, size_t *need,
			 struct rfb_sc_step *out)
{
	/* control byte: 4 stream-reset bits, then the compression type */
	unsigned v = b[0] >> 4;
	size_t off = 1, csize;
	uint32_t clen = 0;
	uint64_t area = (uint64_t)p->rw * p->rh;

	*need = 0;
	if (v == 8) { /* fill: one colour */
		*need = 1 + p->tpixel;
		if (len >= *need)
			sc_rect_done(p);
		return true;
	}
	if (v == 9) { /* JPEG */
		if (!(p->asked & RFB_SC_JPEG) || !(p->cfg.allowed & RFB_SC_JPEG)) {
			sc_reject(p, out,
				  "Tight JPEG rectangle, but no JPEG quality level was asked "
				  "for");
			return false;
		}
		if (p->bpp == 1) {
			sc_reject(p, out, "Tight JPEG rectangle in an 8-bit pixel format");
			return false;
		}
		/* libvncclient hands w and h to tjDecompress(), where 0 means "the
		   JPEG's own size": a 0x0 rectangle would be drawn past the
		   framebuffer as large as the JPEG says */
		if (area == 0) {
			sc_reject(p, out, "Tight JPEG rectangle of %ux%u (JPEG needs a size)",
				  p->rw, p->rh);
			return false;
		}
		if (p->bpp == 2 && area > SC_TIGHT_JPEG16_MAX_PIXELS) {
			sc_reject(p, out,
				  "Tight JPEG rectangle of %ux%u in a 16-bit pixel format (at "
				  "most %u pixels)",
				  p->rw, p->rh, SC_TIGHT_JPEG16_MAX_PIXELS);
			return false;
		}
		sc_compact(b + 1, len - 1, &csize, &clen);
		if (csize == 0)
			return true;
		*need = 1 + csize;
		/* JPEG codes whole 16 x 16 blocks (MCUs) plus headers and tables:
		   a two-row rectangle is mostly padding (Xvnc sent 8232 bytes for
		   755 x 2, over a bound of area * 4 + 2048) */
		uint64_t padded = (uint64_t)((p->rw + 15u) / 16u * 16u) *
		    ((p->rh + 15u) / 16u * 16u);
		uint64_t max = padded * 4 + 2048;
		if (clen == 0 || clen > max) {
			sc_reject(p, out,
				  "Tight JPEG data of %" PRIu32 " bytes for a %ux%u rectangle "
				  "(1..%" PRIu64 ")",
				  clen, p->rw, p->rh, max);
			return false;
		}
		sc_bulk(p, clen, SC_BULK_DATA, SC_AFTER_RECT);
		p->jpeg_rects++;
		return true;
	}
	p->tight_no_zlib = (v & 0xA) == 0xA; /* libvncserver's data without zlib */
	if (p->tight_no_zlib)
		v &= ~0xAu;
	if (v > 7) {
		sc_reject(p, out, "Tight control byte 0x%02x", b[0]);
		return false;
	}
	/* basic compression: an optional filter (and palette), then the data */
	unsigned bits = p->tpixel * 8u;
	if (v & 4) {
		if (len < 2)
			return true;
		off = 2;
		switch (b[1]) {
		case 0: /* copy */
			break;
		case 2: /* gradient */
			if (p->rw == 0 || p->rw > SC_TIGHT_GRADIENT_MAX_WIDTH) {
				sc_reject(p, out,
					  "Tight gradient filter on a %ux%u rectangle (1..%u "
					  "pixels wide)",
					  p->rw, p->rh, SC_TIGHT_GRADIENT_MAX_WIDTH);
				return false;
			}
			break;
		case 1: { /* palette: colours - 1, then the colours */
			if (len < 3)
				return true;
			unsigned colours = b[2] + 1u;
			if (colours < 2) {
				sc_reject(p, out, "Tight palette of %u colours (2..256)", colours);
				return false;
			}
			off = 3 + (size_t)colours * p->tpixel;
			bits = colours == 2 ? 1 : 8;
			break;
		}
		default:
			sc_reject(p, out, "Tight filter %u (0 copy, 1 palette, 2 gradient)", b[1]);
			return false;
		}
	}
	if (len < off)
		return true;
	uint64_t row = ((uint64_t)p->rw * bits + 7) / 8, data = row * p->rh;
	if (data < SC_TIGHT_MIN_TO_COMPRESS) { /* sent as it is, no length */
		*need = off;
		if (data == 0)
			sc_rect_done(p);
		else
			sc_bulk(p, data, SC_BULK_DATA, SC_AFTER_RECT);
		return true;
	}
	sc_compact(b + off, len - off, &csize, &clen);
	if (csize == 0)
		return true;
	*need = off + csize;
	if (p->tight_no_zlib ? clen != data || clen > SC_TIGHT_RAW_MAX
			     : clen == 0 || clen > sc_zbound(data)) {
		sc_reject(p, out,
			  "Tight %s data of %" PRIu32 " bytes for %" PRIu64 " bytes of %ux%u "
			  "pixels",
			  p->tight_no_zlib ? "uncompressed" : "zlib", clen, data, p->rw, p->rh);
		return false;
	}
	sc_bulk(p, clen, SC_BULK_DATA, SC_AFTER_RECT);
	return true;
}

/* ---- the step ---------------------------------------------------------------- */

/* Check bulk bytes of the current kind; returns how many of b[0 .. n) pass. */
static size_t sc_bulk_check(const struct rfb_sc *p, const uint8_t *b, size_t n)
{
	size_t i = 0;
	if (p->bulk_kind == SC_BULK_NAME) {
		while (i < n && b[i] >= 0x20 && b[i] <= 0x7E)
			i++;
	} else if (p->bulk_kind == SC_BULK_TEXT) {
		/* Latin-1 text: printable, tab, newline, carriage return; UTF-8
		   text: the same with every byte from 0x80 (its sequences are
		   checked on the whole text by the gateway, clip_text.h) */
		uint8_t high = p->cfg.cut_text_utf8 ? 0x80 : 0xA0;
		while (i < n &&
		       (b[i] == '\t' || b[i] == '\n' || b[i] == '\r' ||
			(b[i] >= 0x20 && b[i] <= 0x7E) || b[i] >= high))
			i++;
	} else {
		i = n;
	}
	return i;
}

/* Bulk data done: where it returns to. Returns true if a message ended. */
static bool sc_bulk_done(struct rfb_sc *p, bool *handshake_step)
{
	switch (p->after_bulk) {
	case SC_AFTER_INIT:
		*handshake_step = true;
		p->phase = SC_MSG;
		return false;
	case SC_AFTER_MESSAGE:
		p->phase = SC_MSG;
		return true;
	case SC_AFTER_TILE:
		return sc_tile_done(p);
	default:
		return sc_rect_done(p);
	}
}

/* One field of phase (not SC_BULK) at b: its length in *need once whole;
   *ended when it ends a message, *hs_end when it ends a handshake step. */
static bool sc_token(struct rfb_sc *p, int phase, const uint8_t *b, size_t have, size_t *need,
		     struct rfb_sc_step *out, bool *ended, bool *hs_end)
{
	bool ok;
	switch (phase) {
	case SC_VERSION:
		ok = sc_tok_version(p, b, have, need, out);
		*hs_end = true;
		break;
	case SC_SECURITY:
		ok = sc_tok_security(p, b, have, need, out);
		*hs_end = true;
		break;
	case SC_SECRESULT:
		ok = sc_tok_secresult(p, b, have, need, out);
		*hs_end = true;
		break;
	case SC_INIT:
		ok = sc_tok_init(p, b, have, need, out);
		if (ok && have >= *need && p->bulk_left == 0) {
			/* a ServerInit without a name ends the handshake here */
			p->phase = SC_MSG;
			*hs_end = true;
		}
		break;
	case SC_MSG:
		out->starts_message = true;
		out->handshake = false;
		ok = sc_tok_message(p, b, have, need, out);
		out->message_type = p->msg_type;
		p->in_message = true;
		*ended = ok && have >= *need && p->phase == SC_MSG;
		break;
	case SC_RECT:
		ok = sc_tok_rect(p, b, have, need, out);
		*ended = ok && have >= *need && p->phase == SC_MSG;
		break;
	case SC_COPYRECT:
		ok = sc_tok_copyrect(p, b, have, need, out);
		*ended = ok && have >= *need && p->phase == SC_MSG;
		break;
	case SC_LENGTH32:
		ok = sc_tok_length32(p, b, have, need, out);
		*ended = ok && have >= *need && p->phase == SC_MSG;
		break;
	case SC_HEXTILE:
		ok = sc_tok_hextile(p, b, have, need, out);
		*ended = ok && have >= *need && p->phase == SC_MSG;
		break;
	case SC_SUBRECT:
		ok = sc_tok_subrect(p, b, have, need, out);
		*ended = ok && have >= *need && p->phase == SC_MSG;
		break;
	case SC_TIGHT:
		ok = sc_tok_tight(p, b, have, need, out);
		*ended = ok && *need != 0 && have >= *need && p->phase == SC_MSG;
		break;
	default:
		sc_reject(p, out, "parser in unknown phase %d", phase);
		return false;
	}
	return ok;
}

enum rfb_sc_verdict rfb_sc_step(struct rfb_sc *p, const uint8_t *buf, size_t len,
				struct rfb_sc_step *out)
{
	size_t off = 0;

	memset(out, 0, offsetof(struct rfb_sc_step, reason));
	out->reason[0] = '\0';
	if (p->phase == SC_FAILED)
		return sc_reject(p, out, "the stream was refused before");
	out->handshake = p->phase < SC_MSG ||
	    (p->phase == SC_BULK && p->after_bulk == SC_AFTER_INIT);
	out->message_type = p->msg_type;
	while (off < len) {
		const uint8_t *b = buf + off;
		size_t have = len - off, need = 0;
		bool ok = true, ended = false, hs_end = false;
		int phase = p->phase;

		if (phase == SC_MSG && off > 0)
			break; /* one message per step */
		if (phase != SC_BULK) {
			ok = sc_token(p, phase, b, have, &need, out, &ended, &hs_end);
		} else {
			size_t n = have < p->bulk_left ? have : (size_t)p->bulk_left;
			size_t good = sc_bulk_check(p, b, n);
			if (good < n) {
				out->len = off + good;
				return sc_reject(p, out, "%s byte 0x%02x",
						 p->bulk_kind == SC_BULK_NAME
						     ? "ServerInit name with"
						     : "ServerCutText with",
						 b[good]);
			}
			p->bulk_left -= n;
			off += n;
			if (p->bulk_left == 0) {
				bool hs = false;
				ended = sc_bulk_done(p, &hs);
				if (hs) {
					out->ends_message = true;
					out->len = off;
					out->verdict = RFB_SC_PASS;
					return out->verdict;
				}
			}
			if (ended)
				goto message_end;
			continue;
		}
		if (!ok) {
			out->len = off;
			return out->verdict;
		}
		if (need == 0 || have < need) {
			/* a field cut short: what came before it passes, it waits */
			p->phase = phase;
			if (phase == SC_MSG)
				p->in_message = false;
			break;
		}
		off += need;
		if (ended)
			goto message_end;
		if (hs_end) {
			out->ends_message = true;
			break; /* one handshake step per step */
		}
	}
	if (off == 0) {
		out->verdict = RFB_SC_NEED_MORE;
		out->starts_message = false;
		return out->verdict;
	}
	out->len = off;
	out->verdict = RFB_SC_PASS;
	return out->verdict;

message_end:
	p->in_message = false;
	p->messages++;
	out->ends_message = true;
	out->len = off;
	out->verdict = RFB_SC_PASS;
	return out->verdict;
}
