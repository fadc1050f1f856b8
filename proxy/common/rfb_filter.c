/*
 * rfb_filter.c: see rfb_filter.h.
 *
 * Every check is applied as soon as the byte it looks at is in the buffer, so
 * NEED_MORE means "this is a proper prefix of a message the filter would
 * accept" and nothing else: a hostile length, flag or type is refused on the
 * byte that makes it hostile, never after waiting for more input. Multi-byte
 * fields are read big-endian through memcpy into a byte array (no casts of
 * the input pointer, no alignment assumptions).
 */
#include "rfb_filter.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* What the handshake must open with; sizeof - 1 drops the NUL. */
static const char rfb_filter_version[] = RFB_VERSION_388;
#define RFB_FILTER_VERSION_LEN RFB_VERSION_LEN

#define RFB_SECURITY_NONE 1

/* Client-to-server message types the filter lets through. */
enum {
	RFB_MSG_SET_PIXEL_FORMAT = 0,
	RFB_MSG_SET_ENCODINGS = 2,
	RFB_MSG_FB_UPDATE_REQUEST = 3,
	RFB_MSG_KEY_EVENT = 4,
	RFB_MSG_POINTER_EVENT = 5,
	RFB_MSG_CLIENT_CUT_TEXT = 6,
};

#define RFB_SET_PIXEL_FORMAT_LEN 20
#define RFB_SET_ENCODINGS_HDR_LEN 4
#define RFB_FB_UPDATE_REQUEST_LEN 10
#define RFB_KEY_EVENT_LEN 8
#define RFB_POINTER_EVENT_LEN 6
#define RFB_CUT_TEXT_HDR_LEN 8

/* Inclusive range of allow-listed encoding numbers (signed, as in RFC 6143). */
struct rfb_encoding_range {
	int64_t lo;
	int64_t hi;
};

/*
 * Encodings a viewer may ask for. Everything else is dropped from SetEncodings,
 * notably the pseudo-encodings that unlock extra client-to-server messages or
 * channels: fence (-312), continuous updates (-313), xvp (-309), QEMU extended
 * key events (-258), SupportedMessages/ServerIdentity, KeyboardLedState,
 * extended clipboard (0xC0A1E5CE) and the UltraVNC/TightVNC file-transfer ones.
 */
/*
 * Only what pixelgate-viewer (libvncclient) and noVNC use, and what the
 * server -> client check (rfb_stream.c) follows: no RRE, CoRRE, ZlibHex,
 * ZYWRLE (decoders with a CVE history nobody here needs), no PointerPos, no
 * ExtendedDesktopSize (a session's size is fixed at login).
 */
static const struct rfb_encoding_range rfb_filter_encodings[] = {
	{ 0, 1 },       /* Raw, CopyRect */
	{ 5, 7 },       /* Hextile, Zlib, Tight */
	{ 16, 16 },     /* ZRLE */
	{ -32, -23 },   /* Tight JPEG quality levels 0..9 */
	{ -256, -247 }, /* Tight compress levels 0..9 */
	{ -240, -239 }, /* XCursor, RichCursor */
	{ -224, -223 }, /* LastRect, NewFBSize (DesktopSize) */
};

/*
 * The pixel formats real viewers send (libvncclient's 32/24, 16/16, 16/15
 * and 8-bit BGR233, noVNC's 32/24 and 8/6), either byte order. Anything else
 * is refused: no viewer needs it, and every decoder would have to be right
 * for it.
 */
static const struct rfb_pixel_format {
	uint8_t bpp, depth;
	uint16_t max[3];
	uint8_t shift[3];
} rfb_filter_formats[] = {
	{ 32, 24, { 255, 255, 255 }, { 16, 8, 0 } }, { 32, 24, { 255, 255, 255 }, { 0, 8, 16 } },
	{ 32, 24, { 255, 255, 255 }, { 8, 16, 0 } }, { 32, 24, { 255, 255, 255 }, { 0, 16, 8 } },
	{ 32, 24, { 255, 255, 255 }, { 16, 0, 8 } }, { 32, 24, { 255, 255, 255 }, { 8, 0, 16 } },
	{ 16, 16, { 31, 63, 31 }, { 11, 5, 0 } },    { 16, 16, { 31, 63, 31 }, { 0, 5, 11 } },
	{ 16, 15, { 31, 31, 31 }, { 10, 5, 0 } },    { 16, 15, { 31, 31, 31 }, { 0, 5, 10 } },
	{ 8, 8, { 7, 7, 3 }, { 0, 3, 6 } },          { 8, 8, { 7, 7, 3 }, { 5, 2, 0 } },
	{ 8, 6, { 3, 3, 3 }, { 4, 2, 0 } },          { 8, 6, { 3, 3, 3 }, { 0, 2, 4 } },
};

static uint16_t rfb_filter_get_u16(const uint8_t *p)
{
	uint8_t b[2];
	memcpy(b, p, sizeof b);
	return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static uint32_t rfb_filter_get_u32(const uint8_t *p)
{
	uint8_t b[4];
	memcpy(b, p, sizeof b);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void rfb_filter_put_u16(uint8_t *p, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	memcpy(p, b, sizeof b);
}

/* The wire's two's-complement s32, without implementation-defined conversion. */
static int64_t rfb_filter_signed32(uint32_t v)
{
	return v >= UINT32_C(0x80000000) ? (int64_t)v - INT64_C(0x100000000) : (int64_t)v;
}

static bool rfb_filter_encoding_allowed(uint32_t wire)
{
	int64_t enc = rfb_filter_signed32(wire);
	for (size_t i = 0; i < sizeof rfb_filter_encodings / sizeof rfb_filter_encodings[0]; i++) {
		if (enc >= rfb_filter_encodings[i].lo && enc <= rfb_filter_encodings[i].hi)
			return true;
	}
	return false;
}

static enum rfb_verdict rfb_filter_need_more(struct rfb_step *out)
{
	out->verdict = RFB_NEED_MORE;
	return out->verdict;
}

static enum rfb_verdict rfb_filter_reject(struct rfb_step *out, const char *fmt, ...)
    __attribute__((format(__printf__, 2, 3)));

static enum rfb_verdict rfb_filter_reject(struct rfb_step *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(out->reason, sizeof out->reason, "protocol violation");
	out->verdict = RFB_REJECT;
	return out->verdict;
}

/* Accept the first msg_len bytes as they are and move to phase next. */
static enum rfb_verdict rfb_filter_pass(struct rfb_filter *f, struct rfb_step *out, size_t msg_len,
					enum rfb_filter_phase next)
{
	f->phase = next;
	f->messages++;
	out->len = msg_len;
	out->verdict = RFB_PASS;
	return out->verdict;
}

static enum rfb_verdict rfb_filter_version_step(struct rfb_filter *f, const uint8_t *buf,
						size_t len, struct rfb_step *out)
{
	size_t have = len < RFB_FILTER_VERSION_LEN ? len : RFB_FILTER_VERSION_LEN;
	for (size_t i = 0; i < have; i++) {
		if (buf[i] != (uint8_t)rfb_filter_version[i])
			return rfb_filter_reject(out,
						 "unsupported protocol version (byte %zu is 0x%02x,"
						 " only RFB 003.008 accepted)",
						 i, buf[i]);
	}
	if (len < RFB_FILTER_VERSION_LEN)
		return rfb_filter_need_more(out);
	return rfb_filter_pass(f, out, RFB_FILTER_VERSION_LEN, RFB_PHASE_SECURITY);
}

static enum rfb_verdict rfb_filter_security_step(struct rfb_filter *f, const uint8_t *buf,
						 struct rfb_step *out)
{
	if (buf[0] != RFB_SECURITY_NONE)
		return rfb_filter_reject(out, "security type %u refused (only None, 1)", buf[0]);
	return rfb_filter_pass(f, out, 1, RFB_PHASE_CLIENT_INIT);
}

static enum rfb_verdict rfb_filter_set_pixel_format(struct rfb_filter *f, const uint8_t *buf,
						    size_t len, struct rfb_step *out)
{
	/* Layout: type, 3 pad, bpp, depth, big-endian, true-colour, 3 x u16 max,
	 * 3 x u8 shift, 3 pad. */
	if (len > 4 && buf[4] != 8 && buf[4] != 16 && buf[4] != 32)
		return rfb_filter_reject(out,
					 "SetPixelFormat with %u bits per pixel (8, 16, 32 only)",
					 buf[4]);
	if (len > 5 && (buf[5] < 1 || buf[5] > 32))
		return rfb_filter_reject(out, "SetPixelFormat with depth %u (1..32 only)", buf[5]);
	if (len > 7 && buf[7] != 1)
		return rfb_filter_reject(out,
					 "SetPixelFormat with true-colour flag %u"
					 " (colour maps not supported)",
					 buf[7]);
	/* A shift past bit 31 addresses no bit of any pixel; servers shift ints
	 * by it, which is undefined behaviour in C. No real viewer sends one. */
	for (size_t i = 14; i <= 16; i++) {
		if (len > i && buf[i] > 31)
			return rfb_filter_reject(out,
						 "SetPixelFormat with colour shift %u (0..31 only)",
						 buf[i]);
	}
	if (len < RFB_SET_PIXEL_FORMAT_LEN)
		return rfb_filter_need_more(out);
	bool known = false;
	for (size_t i = 0; i < sizeof rfb_filter_formats / sizeof rfb_filter_formats[0]; i++) {
		const struct rfb_pixel_format *pf = &rfb_filter_formats[i];
		known = known ||
		    (buf[4] == pf->bpp && buf[5] == pf->depth &&
		     rfb_filter_get_u16(buf + 8) == pf->max[0] &&
		     rfb_filter_get_u16(buf + 10) == pf->max[1] &&
		     rfb_filter_get_u16(buf + 12) == pf->max[2] && buf[14] == pf->shift[0] &&
		     buf[15] == pf->shift[1] && buf[16] == pf->shift[2]);
	}
	if (!known)
		return rfb_filter_reject(out,
					 "SetPixelFormat %u/%u, max %u:%u:%u, shifts %u,%u,%u is "
					 "not a format viewers use",
					 buf[4], buf[5], rfb_filter_get_u16(buf + 8),
					 rfb_filter_get_u16(buf + 10), rfb_filter_get_u16(buf + 12),
					 buf[14], buf[15], buf[16]);
	rfb_filter_pass(f, out, RFB_SET_PIXEL_FORMAT_LEN, RFB_PHASE_NORMAL);
	/* canonical: the padding bytes zero, the byte order 0 or 1 */
	memcpy(out->rewritten, buf, RFB_SET_PIXEL_FORMAT_LEN);
	memset(out->rewritten + 1, 0, 3);
	memset(out->rewritten + 17, 0, 3);
	out->rewritten[6] = buf[6] != 0;
	if (memcmp(out->rewritten, buf, RFB_SET_PIXEL_FORMAT_LEN) == 0)
		return out->verdict;
	out->rewritten_len = RFB_SET_PIXEL_FORMAT_LEN;
	out->verdict = RFB_REWRITE;
	return out->verdict;
}

static enum rfb_verdict rfb_filter_set_encodings(struct rfb_filter *f, const uint8_t *buf,
						 size_t len, struct rfb_step *out)
{
	/* Layout: type, pad, u16 count, count x s32 encoding. */
	if (len >= RFB_SET_ENCODINGS_HDR_LEN) {
		unsigned count = rfb_filter_get_u16(buf + 2);
		if (count > RFB_FILTER_MAX_ENCODINGS)
			return rfb_filter_reject(out, "SetEncodings with %u encodings (max %d)",
						 count, RFB_FILTER_MAX_ENCODINGS);
	} else if (len == 3 && buf[2] != 0) {
		return rfb_filter_reject(out, "SetEncodings with at least 256 encodings (max %d)",
					 RFB_FILTER_MAX_ENCODINGS);
	}
	if (len < RFB_SET_ENCODINGS_HDR_LEN)
		return rfb_filter_need_more(out);
	size_t count = rfb_filter_get_u16(buf + 2);
	size_t msg_len = RFB_SET_ENCODINGS_HDR_LEN + 4 * count;
	if (len < msg_len)
		return rfb_filter_need_more(out);

	/* count <= RFB_FILTER_MAX_ENCODINGS, so the copy fits out->rewritten. */
	size_t kept = 0;
	bool ext_clipboard = false;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *enc = buf + RFB_SET_ENCODINGS_HDR_LEN + 4 * i;
		if (rfb_filter_get_u32(enc) == RFB_ENCODING_EXT_CLIPBOARD)
			ext_clipboard = true; /* noted, never passed on */
		if (!rfb_filter_encoding_allowed(rfb_filter_get_u32(enc)))
			continue;
		memcpy(out->rewritten + RFB_SET_ENCODINGS_HDR_LEN + 4 * kept, enc, 4);
		kept++;
	}
	out->rewritten[0] = RFB_MSG_SET_ENCODINGS;
	out->rewritten[1] = 0;
	rfb_filter_put_u16(out->rewritten + 2, (uint16_t)kept);
	size_t new_len = RFB_SET_ENCODINGS_HDR_LEN + 4 * kept;
	rfb_filter_pass(f, out, msg_len, RFB_PHASE_NORMAL);
	f->ext_clipboard = ext_clipboard;
	/* Unchanged (everything allowed, pad already 0): forward the input. */
	if (new_len == msg_len && memcmp(out->rewritten, buf, msg_len) == 0)
		return out->verdict;
	out->rewritten_len = new_len;
	out->verdict = RFB_REWRITE;
	return out->verdict;
}

static enum rfb_verdict rfb_filter_fb_update_request(struct rfb_filter *f, const uint8_t *buf,
						     size_t len, struct rfb_step *out)
{
	/* Layout: type, incremental, u16 x, y, width, height. */
	if (len > 1 && buf[1] > 1)
		return rfb_filter_reject(
		    out, "FramebufferUpdateRequest with incremental flag %u (0 or 1 only)", buf[1]);
	if (len < RFB_FB_UPDATE_REQUEST_LEN)
		return rfb_filter_need_more(out);
	return rfb_filter_pass(f, out, RFB_FB_UPDATE_REQUEST_LEN, RFB_PHASE_NORMAL);
}

static enum rfb_verdict rfb_filter_fixed(struct rfb_filter *f, size_t msg_len, size_t len,
					 struct rfb_step *out)
{
	if (len < msg_len)
		return rfb_filter_need_more(out);
	return rfb_filter_pass(f, out, msg_len, RFB_PHASE_NORMAL);
}

/* Consume msg_len bytes without forwarding them; the reason says why. */
static enum rfb_verdict rfb_filter_drop(struct rfb_filter *f, struct rfb_step *out, size_t msg_len,
					const char *why)
{
	f->messages++;
	out->len = msg_len;
	snprintf(out->reason, sizeof out->reason, "%s", why);
	out->verdict = RFB_DROP;
	return out->verdict;
}

/*
 * The extended clipboard's form of ClientCutText (a negative length; the
 * pseudo-encoding is never passed to the worker, which therefore never
 * sends Caps): u32 flags, then a zlib stream (Provide) or nothing the
 * browser may use. size is the announced payload size (flags included).
 */
static enum rfb_verdict rfb_filter_ext_cut_text(struct rfb_filter *f, const uint8_t *buf,
						size_t len, uint64_t size, struct rfb_step *out)
{
	uint64_t max = RFB_FILTER_EXT_CUT_MAX(f->max_cut_text_bytes);
	if (size < 4)
		return rfb_filter_reject(out,
					 "extended ClientCutText of %" PRIu64 " bytes has no flags",
					 size);
	if (size > max)
		return rfb_filter_reject(out,
					 "extended ClientCutText of %" PRIu64
					 " bytes exceeds cap %" PRIu64,
					 size, max);
	uint64_t msg_len = RFB_CUT_TEXT_HDR_LEN + size;
	if ((uint64_t)len < msg_len)
		return rfb_filter_need_more(out);
	uint32_t flags = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 |
	    buf[11];
	out->cut = RFB_CUT_PROVIDE;
	if (!f->allow_cut_text)
		return rfb_filter_drop(f, out, (size_t)msg_len,
				       "ClientCutText refused: clipboard disabled by policy");
	if (flags != (RFB_EXT_CLIP_PROVIDE | RFB_EXT_CLIP_TEXT)) {
		out->cut = RFB_CUT_NONE;
		char why[RFB_FILTER_REASON_LEN];
		snprintf(why, sizeof why,
			 "extended clipboard flags 0x%08" PRIx32
			 " dropped (only a Provide of text is taken)",
			 flags);
		return rfb_filter_drop(f, out, (size_t)msg_len, why);
	}
	out->cut_off = RFB_CUT_TEXT_HDR_LEN + 4;
	out->cut_len = (size_t)(size - 4);
	return rfb_filter_pass(f, out, (size_t)msg_len, RFB_PHASE_NORMAL);
}

static enum rfb_verdict rfb_filter_cut_text(struct rfb_filter *f, const uint8_t *buf, size_t len,
					    struct rfb_step *out)
{
	/* Layout: type, 3 pad, u32 length, length bytes of Latin-1 text. */
	if (len > 4 && (buf[4] & 0x80) != 0) {
		/* negative: the extended form. The smallest size the bytes seen so
		   far allow (unseen bytes as 0xff) is refused at once if too big. */
		uint32_t raw = 0;
		for (size_t i = 4; i < RFB_CUT_TEXT_HDR_LEN; i++)
			raw = raw << 8 | (i < len ? buf[i] : 0xff);
		uint64_t size = 0x100000000ull - raw;
		if (len < RFB_CUT_TEXT_HDR_LEN) {
			uint64_t max = RFB_FILTER_EXT_CUT_MAX(f->max_cut_text_bytes);
			if (size > max)
				return rfb_filter_reject(out,
							 "extended ClientCutText of at least %" PRIu64
							 " bytes exceeds cap %" PRIu64,
							 size, max);
			return rfb_filter_need_more(out);
		}
		return rfb_filter_ext_cut_text(f, buf, len, size, out);
	}
	/* The smallest length the bytes seen so far allow: unseen bytes as 0. */
	uint32_t text_len = 0;
	for (size_t i = 4; i < RFB_CUT_TEXT_HDR_LEN; i++)
		text_len = text_len << 8 | (i < len ? buf[i] : 0);
	if (text_len > f->max_cut_text_bytes) {
		if (len >= RFB_CUT_TEXT_HDR_LEN)
			return rfb_filter_reject(out,
						 "ClientCutText of %" PRIu32
						 " bytes exceeds cap %" PRIu32,
						 text_len, f->max_cut_text_bytes);
		return rfb_filter_reject(out,
					 "ClientCutText of at least %" PRIu32
					 " bytes exceeds cap %" PRIu32,
					 text_len, f->max_cut_text_bytes);
	}
	if (len < RFB_CUT_TEXT_HDR_LEN)
		return rfb_filter_need_more(out);
	uint64_t msg_len = RFB_CUT_TEXT_HDR_LEN + (uint64_t)text_len;
	if ((uint64_t)len < msg_len)
		return rfb_filter_need_more(out);
	out->cut = RFB_CUT_LATIN1;
	if (!f->allow_cut_text)
		return rfb_filter_drop(f, out, (size_t)msg_len,
				       "ClientCutText refused: clipboard disabled by policy");
	out->cut_off = RFB_CUT_TEXT_HDR_LEN;
	out->cut_len = text_len;
	return rfb_filter_pass(f, out, (size_t)msg_len, RFB_PHASE_NORMAL);
}

static const char *rfb_filter_type_name(uint8_t type)
{
	switch (type) {
	case 1:
		return "FixColourMapEntries";
	case 7:
		return "FileTransfer";
	case 8:
		return "SetScale";
	case 9:
		return "SetServerInput";
	case 10:
		return "SetSW";
	case 11:
		return "TextChat";
	case 12:
		return "KeepAlive";
	case 15:
		return "SetScale(Palm)";
	case 150:
		return "EnableContinuousUpdates";
	case 248:
		return "ClientFence";
	case 250:
		return "xvp";
	case 251:
		return "SetDesktopSize";
	case 255:
		return "QEMU";
	default:
		return NULL;
	}
}

static enum rfb_verdict rfb_filter_normal_step(struct rfb_filter *f, const uint8_t *buf, size_t len,
					       struct rfb_step *out)
{
	switch (buf[0]) {
	case RFB_MSG_SET_PIXEL_FORMAT:
		return rfb_filter_set_pixel_format(f, buf, len, out);
	case RFB_MSG_SET_ENCODINGS:
		return rfb_filter_set_encodings(f, buf, len, out);
	case RFB_MSG_FB_UPDATE_REQUEST:
		return rfb_filter_fb_update_request(f, buf, len, out);
	case RFB_MSG_KEY_EVENT:
		return rfb_filter_fixed(f, RFB_KEY_EVENT_LEN, len, out);
	case RFB_MSG_POINTER_EVENT:
		return rfb_filter_fixed(f, RFB_POINTER_EVENT_LEN, len, out);
	case RFB_MSG_CLIENT_CUT_TEXT:
		return rfb_filter_cut_text(f, buf, len, out);
	default:
		break;
	}
	const char *name = rfb_filter_type_name(buf[0]);
	if (name != NULL)
		return rfb_filter_reject(out, "message type %u (%s) not allowed", buf[0], name);
	return rfb_filter_reject(out, "unknown message type %u", buf[0]);
}

void rfb_filter_init(struct rfb_filter *f, bool allow_cut_text, uint32_t max_cut_text_bytes)
{
	memset(f, 0, sizeof *f);
	f->phase = RFB_PHASE_VERSION;
	f->allow_cut_text = allow_cut_text;
	f->max_cut_text_bytes = max_cut_text_bytes;
}

enum rfb_verdict rfb_filter_step(struct rfb_filter *f, const uint8_t *buf, size_t len,
				 struct rfb_step *out)
{
	out->len = 0;
	out->rewritten_len = 0;
	out->reason[0] = '\0';
	out->cut = RFB_CUT_NONE;
	out->cut_off = out->cut_len = 0;
	if (len == 0)
		return rfb_filter_need_more(out);
	switch (f->phase) {
	case RFB_PHASE_VERSION:
		return rfb_filter_version_step(f, buf, len, out);
	case RFB_PHASE_SECURITY:
		return rfb_filter_security_step(f, buf, out);
	case RFB_PHASE_CLIENT_INIT:
		/* The shared-session flag: any value, the session decides. */
		return rfb_filter_pass(f, out, 1, RFB_PHASE_NORMAL);
	case RFB_PHASE_NORMAL:
		return rfb_filter_normal_step(f, buf, len, out);
	}
	return rfb_filter_reject(out, "filter in unknown phase %d", (int)f->phase);
}

size_t rfb_filter_max_message(const struct rfb_filter *f)
{
	uint64_t max = RFB_FILTER_VERSION_LEN;
	if (max < RFB_SET_PIXEL_FORMAT_LEN)
		max = RFB_SET_PIXEL_FORMAT_LEN;
	if (max < RFB_SET_ENCODINGS_HDR_LEN + 4 * RFB_FILTER_MAX_ENCODINGS)
		max = RFB_SET_ENCODINGS_HDR_LEN + 4 * RFB_FILTER_MAX_ENCODINGS;
	/* ClientCutText within the cap is read whole even when it is dropped */
	if (max < RFB_CUT_TEXT_HDR_LEN + RFB_FILTER_EXT_CUT_MAX(f->max_cut_text_bytes))
		max = RFB_CUT_TEXT_HDR_LEN + RFB_FILTER_EXT_CUT_MAX(f->max_cut_text_bytes);
#if SIZE_MAX < UINT64_MAX
	if (max > SIZE_MAX)
		return SIZE_MAX;
#endif
	return (size_t)max;
}
