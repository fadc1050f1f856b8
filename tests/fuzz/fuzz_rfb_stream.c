/*
 * fuzz_rfb_stream.c: libFuzzer target for proxy/common/rfb_stream.c, the
 * gateway's streaming check of the server -> client RFB stream (included as
 * it is, so the invariants can name its phases), with a differential check
 * against the real libvncclient (Debian's 0.9.14, linked with -lvncclient).
 *
 * Input: byte 0 is options, bytes 1-2 the encodings the viewer asked for,
 * the rest the server's stream.
 *  - byte 0 bits 0-1: the viewer's pixel format, from rfb_filter.c's list:
 *    0 32/24 8:8:8 (Tight pixels of 3 bytes), 1 16/16 5:6:5, 2 8/8 BGR233
 *    (libvncclient's own 8-bit format), 3 16/15 5:5:5;
 *    bit 2: ServerCutText allowed (cap 64 bytes);
 *    bits 3-4: the session's size: 64x48, 13x7, 2100x3 (wider than
 *    libvncclient's 2048-pixel Tight gradient buffers), 1x1;
 *    bit 5: the target writes the handshake (RFB 003.008, None, result 0, a
 *    ServerInit of the session's size in the viewer's format named "fuzz"),
 *    so the input starts at the first server message;
 *    bit 6: the deployment allows no Zlib, ZRLE or JPEG (cfg.allowed);
 *    bit 7: cut text is UTF-8 and may come in the extended clipboard's form
 *    (cfg.cut_text_utf8, cfg.ext_cut_text); libvncclient knows neither,
 *    so there is no differential check then.
 *  - bytes 1-2 (byte 1 | byte 2 << 8, bits 0-10): enum rfb_sc_encoding
 *    bits: Raw, CopyRect, Hextile, Zlib, Tight, ZRLE, RichCursor, XCursor,
 *    LastRect, DesktopSize, a JPEG quality level. The parser is told the
 *    viewer's SetPixelFormat, a SetEncodings of those wire numbers and a
 *    FramebufferUpdateRequest before the stream, as the relay does.
 *
 * The stream is fed whole, byte by byte and in two pseudo-random splits
 * (pieces of 1..16 and 1..512 bytes; unaccepted bytes are kept and offered
 * again with the next piece, as the relay does). Invariants, each an abort():
 *  - every step: the verdict is one of the three and equals out->verdict;
 *    PASS accepts 1..len bytes, starts a message exactly when the parser
 *    stood between messages (its first byte is then the message type, 0, 2,
 *    or 3 when cut text is allowed), counts a message exactly when it ends a
 *    non-handshake one, and is a handshake step only before any message;
 *    NEED_MORE accepts nothing, leaves the parser where it was and comes
 *    only for fewer than RFB_SC_MAX_TOKEN bytes; REJECT gives at most len
 *    valid bytes and a non-empty, NUL-terminated, printable reason, and
 *    every later step is a REJECT that accepts nothing;
 *  - the state stays within bounds after every step: pixel sizes 1/2/4 (3
 *    for Tight), a pixel rectangle inside the framebuffer while its data is
 *    parsed, the Hextile tile inside its rectangle and at most 16x16, bulk
 *    data no longer than its field can be (a name <= 64, text <= the cap, a
 *    Raw tile <= tile x pixel size, a rectangle's data bounded by its area);
 *  - all four feedings agree: the same verdict, valid bytes, message and
 *    rectangle counts, reason, handshake end, message end offsets and final
 *    parser position.
 * Differential: the accepted stream, up to the end of its last whole
 * message before the first rectangle whose payload the parser cannot
 * validate (Zlib and ZRLE data, Tight data sent through zlib, Tight JPEG:
 * random bytes there are not valid compressed data, and libvncclient
 * rightly refuses them), is written into one end of a socketpair; the other
 * end is an rfbClient's socket (0.9.14 has no read hook) whose pixel format
 * is the viewer's. rfbInitClient() must succeed and have read exactly the
 * handshake, then each HandleRFBServerMessage() must succeed and read
 * exactly up to the parser's next message end, and what the viewer sees
 * must be what the gateway promises: the session's size, a printable name
 * of <= 64 bytes, cursors <= 128 with the hotspot inside, text only when
 * allowed and only text bytes, updates inside the framebuffer. The checked
 * subset is Raw, CopyRect, Hextile, both cursors, DesktopSize, LastRect,
 * Bell, ServerCutText, Tight fill, Tight basic data under 12 bytes (sent
 * without zlib) and Tight without zlib (libvncserver's level 0), in every
 * pixel format. The framebuffer (the session's size exactly) ends at a
 * PROT_NONE page, so a write past its end faults even from libvncclient's
 * own code. libvncclient is not built with ASan: ASan sees its heap and
 * stack accesses only where they go through intercepted calls (memcpy,
 * memset, read, malloc/free), not its plain loads and stores.
 *
 * FUZZ_LOG=1 in the environment prints each input's outcome and
 * libvncclient's log lines.
 */
#include "rfb_stream.c"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "support.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The viewer's pixel formats (PIXEL_FORMAT as on the wire), byte 0 bits 0-1. */
static const uint8_t fz_formats[4][16] = {
	{ 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0 },
	{ 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0 },
	{ 8, 8, 0, 1, 0, 7, 0, 7, 0, 3, 0, 3, 6 },
	{ 16, 15, 0, 1, 0, 31, 0, 31, 0, 31, 10, 5, 0 },
};

/* The session's sizes, byte 0 bits 3-4. */
static const uint16_t fz_sizes[4][2] = { { 64, 48 }, { 13, 7 }, { 2100, 3 }, { 1, 1 } };

/* Wire numbers of the enum rfb_sc_encoding bits, in bit order. */
static const int32_t fz_wire[11] = { 0, 1, 5, 6, 7, 16, -239, -240, -224, -223, -23 };

#define FZ_CUT_CAP 64

/* One fuzz input's configuration. */
struct fz_config {
	const uint8_t *pf; /* the viewer's PIXEL_FORMAT */
	struct rfb_sc_config sc;
	uint32_t asked;     /* enum rfb_sc_encoding bits */
	bool own_handshake; /* the target wrote the handshake */
};

/* What one feeding of the stream gave. */
struct fz_run {
	size_t valid; /* bytes accepted (REJECT's valid bytes included) */
	bool rejected;
	char reason[RFB_SC_REASON_LEN];
	uint64_t messages, rects;
	unsigned hs_steps; /* handshake steps ended */
	size_t hs_end;     /* where the handshake ended, 0 if it did not */
	size_t *ends;      /* where each message ended (the reference run keeps them) */
	size_t nends;
	size_t taint; /* the first payload the parser cannot validate, SIZE_MAX if none */
	int phase;    /* the parser at the end */
	uint64_t bulk_left;
	uint16_t rects_left;
};

/* ---- the parser's invariants ------------------------------------------------- */

static bool fz_reason_ok(const char *r, size_t len)
{
	const char *end = memchr(r, '\0', len);
	if (end == NULL || end == r)
		return false;
	for (const char *c = r; c < end; c++)
		if (*c < 0x20 || *c > 0x7e)
			return false;
	return true;
}

/* The most bulk data a rectangle of the current one's size can carry (generous). */
static uint64_t fz_rect_bulk_max(const struct rfb_sc *p)
{
	uint64_t area = (uint64_t)p->rw * p->rh;
	uint64_t tiles = ((uint64_t)p->rw + 63) / 64 * (((uint64_t)p->rh + 63) / 64);
	return area * 4 * 2 + tiles * 600 + (area >> 7) + 4096;
}

static void fz_check_state(const struct rfb_sc *p)
{
	FUZZ_CHECK(p->bpp == 1 || p->bpp == 2 || p->bpp == 4);
	FUZZ_CHECK(p->tpixel == p->bpp || (p->bpp == 4 && p->tpixel == 3));
	FUZZ_CHECK(p->phase >= SC_VERSION && p->phase <= SC_FAILED);
	int ph = p->phase;
	bool tile = ph == SC_HEXTILE || ph == SC_SUBRECT ||
	    (ph == SC_BULK && p->after_bulk == SC_AFTER_TILE);
	bool in_rect = tile || ph == SC_RECT || ph == SC_COPYRECT || ph == SC_LENGTH32 ||
	    ph == SC_TIGHT || (ph == SC_BULK && p->after_bulk == SC_AFTER_RECT);
	if (in_rect) {
		FUZZ_CHECK(p->in_message && p->msg_type == SC_MSG_UPDATE);
		FUZZ_CHECK(p->rects_left >= 1);
	}
	if (in_rect && ph != SC_RECT && p->enc >= 0) /* a pixel rectangle's data */
		FUZZ_CHECK((uint32_t)p->rx + p->rw <= p->cfg.width &&
			   (uint32_t)p->ry + p->rh <= p->cfg.height);
	if (ph == SC_COPYRECT)
		FUZZ_CHECK(p->enc == SC_ENC_COPYRECT);
	if (ph == SC_LENGTH32)
		FUZZ_CHECK(p->enc == SC_ENC_ZLIB || p->enc == SC_ENC_ZRLE);
	if (ph == SC_TIGHT)
		FUZZ_CHECK(p->enc == SC_ENC_TIGHT);
	if (tile) {
		FUZZ_CHECK(p->enc == SC_ENC_HEXTILE);
		FUZZ_CHECK(p->tw >= 1 && p->tw <= 16 && p->th >= 1 && p->th <= 16);
		FUZZ_CHECK(p->tx >= p->rx && p->ty >= p->ry);
		FUZZ_CHECK((p->tx - p->rx) % 16 == 0 && (p->ty - p->ry) % 16 == 0);
		FUZZ_CHECK((uint32_t)p->tx + p->tw <= (uint32_t)p->rx + p->rw);
		FUZZ_CHECK((uint32_t)p->ty + p->th <= (uint32_t)p->ry + p->rh);
	}
	if (ph == SC_SUBRECT)
		FUZZ_CHECK(p->subrects_left >= 1);
	if (ph == SC_BULK) {
		FUZZ_CHECK(p->bulk_left >= 1);
		switch (p->bulk_kind) {
		case SC_BULK_NAME:
			FUZZ_CHECK(p->after_bulk == SC_AFTER_INIT &&
				   p->bulk_left <= RFB_SC_MAX_NAME);
			break;
		case SC_BULK_TEXT:
			FUZZ_CHECK(p->cfg.allow_cut_text && p->after_bulk == SC_AFTER_MESSAGE);
			FUZZ_CHECK(p->bulk_left <= p->cfg.max_cut_text_bytes);
			break;
		default:
			FUZZ_CHECK(p->bulk_kind == SC_BULK_DATA);
			if (p->after_bulk == SC_AFTER_TILE)
				FUZZ_CHECK(p->bulk_left <= (uint64_t)p->tw * p->th * p->bpp);
			else if (p->after_bulk == SC_AFTER_MESSAGE) /* extended cut text */
				FUZZ_CHECK(p->cfg.ext_cut_text && p->cfg.allow_cut_text &&
					   p->bulk_left <=
					       RFB_FILTER_EXT_CUT_MAX(p->cfg.max_cut_text_bytes));
			else
				FUZZ_CHECK(p->after_bulk == SC_AFTER_RECT &&
					   p->bulk_left <= fz_rect_bulk_max(p));
			break;
		}
	}
	if ((p->enc == SC_ENC_RICH_CURSOR || p->enc == SC_ENC_X_CURSOR) && ph == SC_BULK)
		FUZZ_CHECK(p->rw <= RFB_SC_MAX_CURSOR && p->rh <= RFB_SC_MAX_CURSOR &&
			   p->rx < p->rw && p->ry < p->rh);
}

/* The fields that say where the parser stands (NEED_MORE must not move them). */
static bool fz_same_place(const struct rfb_sc *a, const struct rfb_sc *b)
{
	return a->phase == b->phase && a->messages == b->messages && a->rects == b->rects &&
	    a->rects_left == b->rects_left && a->bulk_left == b->bulk_left && a->rx == b->rx &&
	    a->ry == b->ry && a->rw == b->rw && a->rh == b->rh && a->enc == b->enc &&
	    a->tx == b->tx && a->ty == b->ty && a->subrects_left == b->subrects_left &&
	    a->bpp == b->bpp && a->tpixel == b->tpixel && a->asked == b->asked;
}

/* One rfb_sc_step() with the per-step invariants. */
static enum rfb_sc_verdict fz_step(struct rfb_sc *p, const uint8_t *buf, size_t len,
				   struct rfb_sc_step *st)
{
	struct rfb_sc before = *p;
	memset(st, 0xa5, sizeof *st); /* a field the parser forgets to set shows */
	enum rfb_sc_verdict v = rfb_sc_step(p, buf, len, st);

	FUZZ_CHECK(v == RFB_SC_NEED_MORE || v == RFB_SC_PASS || v == RFB_SC_REJECT);
	FUZZ_CHECK(st->verdict == v);
	if (v == RFB_SC_REJECT) {
		FUZZ_CHECK(st->len <= len);
		FUZZ_CHECK(fz_reason_ok(st->reason, sizeof st->reason));
		FUZZ_CHECK(p->phase == SC_FAILED);
		if (before.phase == SC_FAILED)
			FUZZ_CHECK(st->len == 0);
		/* nothing more is ever accepted */
		struct rfb_sc again = *p;
		struct rfb_sc_step st2;
		FUZZ_CHECK(rfb_sc_step(&again, buf, len, &st2) == RFB_SC_REJECT);
		FUZZ_CHECK(st2.len == 0 && fz_reason_ok(st2.reason, sizeof st2.reason));
		return v;
	}
	FUZZ_CHECK(before.phase != SC_FAILED);
	fz_check_state(p);
	if (v == RFB_SC_NEED_MORE) {
		FUZZ_CHECK(st->len == 0);
		FUZZ_CHECK(len < RFB_SC_MAX_TOKEN);
		FUZZ_CHECK(fz_same_place(p, &before));
		return v;
	}
	/* PASS */
	FUZZ_CHECK(st->len >= 1 && st->len <= len);
	bool between = before.phase == SC_MSG;
	FUZZ_CHECK(st->starts_message == between);
	if (st->handshake) {
		FUZZ_CHECK(!st->starts_message && before.messages == 0 && !before.in_message);
		FUZZ_CHECK(p->messages == 0);
	} else {
		FUZZ_CHECK(before.phase >= SC_MSG);
		FUZZ_CHECK(between ? !before.in_message : before.in_message);
		FUZZ_CHECK(p->messages == before.messages + (st->ends_message ? 1 : 0));
		FUZZ_CHECK(st->message_type == p->msg_type);
		if (st->starts_message) {
			FUZZ_CHECK(buf[0] == st->message_type);
			FUZZ_CHECK(st->message_type == SC_MSG_UPDATE ||
				   st->message_type == SC_MSG_BELL ||
				   (st->message_type == SC_MSG_CUT_TEXT && p->cfg.allow_cut_text));
		}
		/* ends exactly where the next message may start */
		FUZZ_CHECK(st->ends_message == (p->phase == SC_MSG));
		FUZZ_CHECK(st->ends_message ? !p->in_message : p->in_message);
	}
	return v;
}

/* ---- feeding ----------------------------------------------------------------- */

/* A splitmix64 step: the pieces of a pseudo-random split. */
static uint64_t fz_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * For the differential: a PASS step that took a token whose payload the
 * parser cannot validate (Zlib/ZRLE length, Tight JPEG, Tight data through
 * zlib) marks where the checked prefix must stop. Only meaningful byte by
 * byte, where each PASS takes one token or one bulk byte.
 */
static bool fz_opaque_token(const struct rfb_sc *p, int phase, const uint8_t *tok, size_t len)
{
	if (phase == SC_LENGTH32)
		return true;
	if (phase != SC_TIGHT)
		return false;
	unsigned v = tok[0] >> 4;
	if (v == 8)
		return false; /* fill */
	if (v == 9)
		return true; /* JPEG */
	if ((v & 0xA) == 0xA)
		return false; /* sent without zlib */
	unsigned bits = p->tpixel * 8u;
	if ((v & 4) && len >= 3 && tok[1] == 1)
		bits = tok[2] == 1 ? 1 : 8; /* a palette of tok[2] + 1 colours */
	uint64_t data = ((uint64_t)p->rw * bits + 7) / 8 * p->rh;
	return data >= SC_TIGHT_MIN_TO_COMPRESS; /* smaller data is sent as it is */
}

/*
 * Feed d[0 .. n) in pieces (piece_max 0: whole; 1: byte by byte; else
 * pseudo-random 1..piece_max from seed). A reference run (ref NULL) keeps
 * its message ends in r->ends; the others must match them as they go.
 */
static void fz_feed(const struct fz_config *cfg, const uint8_t *d, size_t n, size_t piece_max,
		    uint64_t seed, const struct fz_run *ref, struct fz_run *r)
{
	struct rfb_sc p;
	char why[RFB_SC_REASON_LEN];
	size_t have = 0;

	rfb_sc_init(&p, &cfg->sc);
	{
		uint8_t spf[20] = { 0 }, se[4 + 4 * 11] = { 2, 0, 0, 0 }, fbur[10] = { 3, 0 };
		size_t k = 0;
		memcpy(spf + 4, cfg->pf, 16);
		for (size_t i = 0; i < 11; i++) {
			if (!(cfg->asked & (1u << i)))
				continue;
			uint32_t w = (uint32_t)fz_wire[i];
			se[4 + 4 * k] = (uint8_t)(w >> 24);
			se[5 + 4 * k] = (uint8_t)(w >> 16);
			se[6 + 4 * k] = (uint8_t)(w >> 8);
			se[7 + 4 * k] = (uint8_t)w;
			k++;
		}
		se[3] = (uint8_t)k;
		FUZZ_CHECK(rfb_sc_client(&p, spf, sizeof spf, why, sizeof why));
		FUZZ_CHECK(rfb_sc_client(&p, se, 4 + 4 * k, why, sizeof why));
		FUZZ_CHECK(rfb_sc_client(&p, fbur, sizeof fbur, why, sizeof why));
		FUZZ_CHECK(p.asked == cfg->asked);
	}
	r->valid = 0;
	r->rejected = false;
	r->reason[0] = '\0';
	r->hs_steps = 0;
	r->hs_end = 0;
	r->nends = 0;
	r->taint = SIZE_MAX;
	while (have < n && !r->rejected) {
		size_t piece = piece_max == 0 ? n
		    : piece_max == 1          ? 1
					      : 1 + fz_rand(&seed) % piece_max;
		have = piece < n - have ? have + piece : n;
		while (have > r->valid) {
			struct rfb_sc_step st;
			int phase = p.phase;
			const uint8_t *b = d + r->valid;
			enum rfb_sc_verdict v = fz_step(&p, b, have - r->valid, &st);
			if (v == RFB_SC_NEED_MORE)
				break;
			r->valid += st.len;
			if (v == RFB_SC_REJECT) {
				r->rejected = true;
				memcpy(r->reason, st.reason, sizeof r->reason);
				break;
			}
			if (piece_max == 1 && r->taint == SIZE_MAX &&
			    fz_opaque_token(&p, phase, b, st.len))
				r->taint = r->valid - st.len;
			if (!st.ends_message)
				continue;
			if (st.handshake) {
				r->hs_steps++;
				FUZZ_CHECK(r->hs_steps <= 4);
				if (p.phase == SC_MSG) {
					FUZZ_CHECK(r->hs_steps == 4);
					r->hs_end = r->valid;
				}
				continue;
			}
			FUZZ_CHECK(r->hs_end != 0);
			if (ref == NULL)
				r->ends[r->nends] = r->valid;
			else
				FUZZ_CHECK(r->nends < ref->nends &&
					   ref->ends[r->nends] == r->valid);
			r->nends++;
		}
	}
	FUZZ_CHECK(r->valid <= n);
	FUZZ_CHECK(r->rejected || r->valid == n || n - r->valid < RFB_SC_MAX_TOKEN);
	FUZZ_CHECK(r->nends == p.messages);
	r->messages = p.messages;
	r->rects = p.rects;
	r->phase = p.phase;
	r->bulk_left = p.bulk_left;
	r->rects_left = p.rects_left;
}

static void fz_same_run(const struct fz_run *a, const struct fz_run *b)
{
	FUZZ_CHECK(a->rejected == b->rejected);
	FUZZ_CHECK(a->valid == b->valid);
	FUZZ_CHECK(strcmp(a->reason, b->reason) == 0);
	FUZZ_CHECK(a->messages == b->messages && a->nends == b->nends);
	FUZZ_CHECK(a->rects == b->rects);
	FUZZ_CHECK(a->hs_steps == b->hs_steps && a->hs_end == b->hs_end);
	/* where it stands (after a refusal, nothing matters) */
	FUZZ_CHECK(a->phase == b->phase);
	FUZZ_CHECK(a->rejected || (a->bulk_left == b->bulk_left && a->rects_left == b->rects_left));
}

/* ---- the differential: libvncclient ------------------------------------------ */

/* The session being decoded (libFuzzer runs one input at a time). */
static struct {
	const struct fz_config *cfg;
	uint8_t *fb_map; /* the framebuffer's mapping, guard pages included */
	size_t fb_map_len;
	char last_log[512]; /* libvncclient's last log line, for a report */
} fz_vnc;

static void fz_vnc_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fz_vnc.last_log, sizeof fz_vnc.last_log, fmt, ap);
	va_end(ap);
	if (getenv("FUZZ_LOG") != NULL)
		fprintf(stderr, "libvncclient: %s", fz_vnc.last_log);
}

static void fz_fb_free(void)
{
	if (fz_vnc.fb_map != NULL)
		munmap(fz_vnc.fb_map, fz_vnc.fb_map_len);
	fz_vnc.fb_map = NULL;
}

/* The framebuffer: exactly the session's size, ending at a PROT_NONE page. */
static rfbBool fz_malloc_fb(rfbClient *cl)
{
	const long page = sysconf(_SC_PAGESIZE);
	FUZZ_CHECK(cl->width == fz_vnc.cfg->sc.width && cl->height == fz_vnc.cfg->sc.height);
	size_t size = (size_t)cl->width * cl->height * (cl->format.bitsPerPixel / 8);
	size_t pages = (size + (size_t)page - 1) / (size_t)page;
	fz_fb_free();
	fz_vnc.fb_map_len = (pages + 2) * (size_t)page;
	void *m = mmap(NULL, fz_vnc.fb_map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FUZZ_CHECK(m != MAP_FAILED);
	fz_vnc.fb_map = m;
	FUZZ_CHECK(mprotect(fz_vnc.fb_map + page, pages * (size_t)page, PROT_READ | PROT_WRITE) ==
		   0);
	cl->frameBuffer = fz_vnc.fb_map + (size_t)page + pages * (size_t)page - size;
	return TRUE;
}

static void fz_got_cursor(rfbClient *cl, int xhot, int yhot, int width, int height, int bpp)
{
	FUZZ_CHECK(width >= 1 && width <= RFB_SC_MAX_CURSOR && height >= 1 &&
		   height <= RFB_SC_MAX_CURSOR);
	FUZZ_CHECK(xhot >= 0 && xhot < width && yhot >= 0 && yhot < height);
	FUZZ_CHECK(bpp == cl->format.bitsPerPixel / 8);
	/* libvncclient 0.9.14 leaks the previous mask at the next cursor: take both */
	free(cl->rcSource);
	free(cl->rcMask);
	cl->rcSource = NULL;
	cl->rcMask = NULL;
}

static void fz_got_cut_text(rfbClient *cl, const char *text, int len)
{
	(void)cl;
	FUZZ_CHECK(fz_vnc.cfg->sc.allow_cut_text);
	FUZZ_CHECK(len >= 0 && (uint32_t)len <= fz_vnc.cfg->sc.max_cut_text_bytes);
	for (int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		FUZZ_CHECK(c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0x7e) ||
			   c >= 0xa0);
	}
}

static void fz_got_update(rfbClient *cl, int x, int y, int w, int h)
{
	FUZZ_CHECK(x >= 0 && y >= 0 && w >= 0 && h >= 0);
	FUZZ_CHECK(x + w <= cl->width && y + h <= cl->height);
}

/* Bytes of the stream libvncclient has taken so far. */
static size_t fz_vnc_taken(rfbClient *cl, size_t written)
{
	int queued = 0;
	FUZZ_CHECK(ioctl(cl->sock, FIONREAD, &queued) == 0 && queued >= 0);
	FUZZ_CHECK((size_t)queued + cl->buffered <= written);
	return written - (size_t)queued - cl->buffered;
}

/* What libvncclient sent: drained (so it never blocks); its first SetPixelFormat checked. */
static void fz_vnc_drain(int fd, bool check_format)
{
	uint8_t buf[4096];
	ssize_t got;
	size_t total = 0;
	uint8_t head[12 + 1 + 1 + 20];
	while ((got = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < got && total + (size_t)i < sizeof head; i++)
			head[total + (size_t)i] = buf[i];
		total += (size_t)got;
	}
	FUZZ_CHECK(got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	if (check_format) {
		/* version, security type, ClientInit, then SetPixelFormat: the parser's format */
		FUZZ_CHECK(total >= sizeof head);
		FUZZ_CHECK(memcmp(head, "RFB 003.008\n", 12) == 0 && head[12] == 1);
		FUZZ_CHECK(head[14] == 0 && memcmp(head + 18, fz_vnc.cfg->pf, 16) == 0);
	}
}

static void fz_vnc_fail(const char *what, size_t at, size_t end, size_t msg)
{
	fprintf(stderr,
		"fuzz_rfb_stream: differential: libvncclient %s (message %zu, stream bytes "
		"%zu..%zu); its last log line: %s\n",
		what, msg, at, end, fz_vnc.last_log);
	fuzz_fail(__FILE__, __LINE__, "libvncclient decodes every stream the parser accepts");
}

/* libvncclient decodes stream[0 .. end): the handshake, then messages ending at ends[]. */
static void fz_differential(const struct fz_config *cfg, const uint8_t *stream, size_t hs_end,
			    const size_t *ends, size_t nends, size_t end)
{
	int sv[2];
	int big = 1 << 20;

	fz_vnc.cfg = cfg;
	fz_vnc.last_log[0] = '\0';
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	}
	for (size_t off = 0; off < end;) {
		ssize_t w = write(sv[0], stream + off, end - off);
		FUZZ_CHECK(w > 0); /* the accepted prefix fits the socket's buffer */
		off += (size_t)w;
	}
	FUZZ_CHECK(shutdown(sv[0], SHUT_WR) == 0); /* a read past the end sees EOF, no hang */

	rfbClient *cl = rfbGetClient(8, 3, 4);
	FUZZ_CHECK(cl != NULL);
	const uint8_t *pf = cfg->pf;
	cl->format.bitsPerPixel = pf[0];
	cl->format.depth = pf[1];
	cl->format.bigEndian = pf[2];
	cl->format.trueColour = pf[3];
	cl->format.redMax = (uint16_t)(pf[4] << 8 | pf[5]);
	cl->format.greenMax = (uint16_t)(pf[6] << 8 | pf[7]);
	cl->format.blueMax = (uint16_t)(pf[8] << 8 | pf[9]);
	cl->format.redShift = pf[10];
	cl->format.greenShift = pf[11];
	cl->format.blueShift = pf[12];

	static char encodings[64];
	static const char *names[6] = { "raw", "copyrect", "hextile", "zlib", "tight", "zrle" };
	encodings[0] = '\0';
	for (size_t i = 0; i < 6; i++)
		if (cfg->asked & (1u << i))
			snprintf(encodings + strlen(encodings),
				 sizeof encodings - strlen(encodings), "%s%s",
				 encodings[0] ? " " : "", names[i]);
	cl->appData.encodingsString = encodings[0] ? encodings : "raw";
	cl->appData.enableJPEG = (cfg->asked & RFB_SC_JPEG) != 0;
	cl->appData.qualityLevel = 9;
	cl->appData.useRemoteCursor = (cfg->asked & (RFB_SC_RICH_CURSOR | RFB_SC_X_CURSOR)) != 0;
	cl->canHandleNewFBSize = (cfg->asked & RFB_SC_DESKTOP_SIZE) != 0;
	cl->MallocFrameBuffer = fz_malloc_fb;
	cl->GotCursorShape = fz_got_cursor;
	cl->GotXCutText = fz_got_cut_text;
	cl->GotFrameBufferUpdate = fz_got_update;
	cl->sock = sv[1];
	cl->listenSpecified = TRUE; /* the socket is given: no connect */

	if (!rfbInitClient(cl, NULL, NULL)) { /* it freed cl and closed sv[1] */
		fz_fb_free();
		close(sv[0]);
		fz_vnc_fail("refused the handshake", 0, hs_end, 0);
	}
	if (fz_vnc_taken(cl, end) != hs_end)
		fz_vnc_fail("read a handshake of another length", fz_vnc_taken(cl, end), hs_end, 0);
	FUZZ_CHECK(cl->width == cfg->sc.width && cl->height == cfg->sc.height);
	size_t name_len = strlen(cl->desktopName);
	FUZZ_CHECK(name_len <= RFB_SC_MAX_NAME);
	for (size_t i = 0; i < name_len; i++)
		FUZZ_CHECK(cl->desktopName[i] >= 0x20 && cl->desktopName[i] <= 0x7e);
	fz_vnc_drain(sv[0], true);

	size_t at = hs_end;
	for (size_t i = 0; i < nends && ends[i] <= end; i++) {
		if (!HandleRFBServerMessage(cl))
			fz_vnc_fail("refused a message", at, ends[i], i);
		size_t taken = fz_vnc_taken(cl, end);
		if (taken != ends[i])
			fz_vnc_fail(taken < ends[i] ? "read a shorter message"
						    : "read a longer message",
				    at, ends[i], i);
		FUZZ_CHECK(cl->width == cfg->sc.width && cl->height == cfg->sc.height);
		fz_vnc_drain(sv[0], false);
		at = ends[i];
	}
	FUZZ_CHECK(at == end);

	free(cl->rcSource);
	free(cl->rcMask);
	cl->rcSource = NULL;
	cl->rcMask = NULL;
	rfbClientCleanup(cl); /* closes sv[1] */
	fz_fb_free();
	close(sv[0]);
}

/* ---- the target -------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	rfbClientLog = fz_vnc_log;
	rfbClientErr = fz_vnc_log;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;

	struct fz_config cfg = { 0 };
	uint8_t opt = data[0];
	cfg.pf = fz_formats[opt & 3];
	cfg.sc.width = fz_sizes[(opt >> 3) & 3][0];
	cfg.sc.height = fz_sizes[(opt >> 3) & 3][1];
	cfg.sc.allow_cut_text = (opt & 4) != 0;
	cfg.sc.max_cut_text_bytes = FZ_CUT_CAP;
	cfg.sc.allowed = RFB_SC_GATEWAY_ENCODINGS;
	if (opt & 0x40)
		cfg.sc.allowed &= ~(uint32_t)(RFB_SC_ZLIB | RFB_SC_ZRLE | RFB_SC_JPEG);
	cfg.asked = (uint32_t)(data[1] | data[2] << 8) & 0x7FF;
	cfg.own_handshake = (opt & 0x20) != 0;
	cfg.sc.cut_text_utf8 = cfg.sc.ext_cut_text = (opt & 0x80) != 0;
	data += 3;
	size -= 3;

	/* the stream, after the target's handshake if asked */
	size_t pre = cfg.own_handshake ? 12 + 2 + 4 + 24 + 4 : 0, n = pre + size;
	uint8_t *s = malloc(n ? n : 1);
	size_t *ends = malloc((n + 1) * sizeof *ends);
	FUZZ_CHECK(s != NULL && ends != NULL);
	if (cfg.own_handshake) {
		uint8_t *h = s;
		memcpy(h, sc_version, SC_VERSION_LEN);
		h += 12;
		*h++ = 1;
		*h++ = 1;
		memset(h, 0, 4);
		h += 4;
		*h++ = (uint8_t)(cfg.sc.width >> 8);
		*h++ = (uint8_t)cfg.sc.width;
		*h++ = (uint8_t)(cfg.sc.height >> 8);
		*h++ = (uint8_t)cfg.sc.height;
		memcpy(h, cfg.pf, 16);
		h += 16;
		memcpy(h, "\0\0\0\4fuzz", 8);
	}
	memcpy(s + pre, data, size);

	uint64_t seed = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		seed = (seed ^ s[i]) * 1099511628211u;

	struct fz_run whole = { .ends = ends }, bytes, small, large;
	fz_feed(&cfg, s, n, 0, 0, NULL, &whole);
	fz_feed(&cfg, s, n, 1, 0, &whole, &bytes);
	fz_same_run(&whole, &bytes);
	fz_feed(&cfg, s, n, 16, seed, &whole, &small);
	fz_same_run(&whole, &small);
	fz_feed(&cfg, s, n, 512, seed ^ 0x5bd1e995, &whole, &large);
	fz_same_run(&whole, &large);

	size_t end = whole.hs_end; /* the checked prefix: whole messages before an opaque payload */
	for (size_t i = 0; end != 0 && i < whole.nends && whole.ends[i] <= bytes.taint; i++)
		end = whole.ends[i];
	if (getenv("FUZZ_LOG") != NULL)
		fprintf(stderr,
			"fuzz_rfb_stream: %zu bytes, %s after %zu (%s), %" PRIu64
			" messages, %" PRIu64
			" rectangles; handshake %zu bytes, libvncclient checked on %zu\n",
			n, whole.rejected ? "refused" : "accepted", whole.valid, whole.reason,
			whole.messages, whole.rects, whole.hs_end, end);
	if (end != 0 && !cfg.sc.ext_cut_text)
		fz_differential(&cfg, s, whole.hs_end, whole.ends, whole.nends, end);
	free(ends);
	free(s);
	return 0;
}
