/*
 * test_rfb_stream.c: the server -> client RFB stream check (rfb_stream.c).
 *
 * A stream of every kind of message and rectangle the gateway allows passes,
 * whole and cut at every place; each hostile stream in the table is refused,
 * with a reason that names what was wrong, and none of the bytes of the field
 * that made it hostile is ever accepted (the relay passes on only accepted
 * bytes, so the viewer never gets them).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfb_filter.h"
#include "rfb_stream.h"

#define W 100
#define H 60

/* A stream under construction; bad marks where its hostile field starts. */
struct sb {
	uint8_t d[1 << 17];
	size_t n;
	size_t bad;
};

static void p8(struct sb *s, unsigned v)
{
	cr_assert(s->n < sizeof s->d);
	s->d[s->n++] = (uint8_t)v;
}
static void p16(struct sb *s, unsigned v)
{
	p8(s, v >> 8);
	p8(s, v);
}
static void p32(struct sb *s, uint32_t v)
{
	p16(s, v >> 16);
	p16(s, v & 0xFFFF);
}
static void pfill(struct sb *s, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		p8(s, v);
}
static void pbytes(struct sb *s, const void *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p8(s, ((const uint8_t *)b)[i]);
}
static void mark(struct sb *s)
{
	s->bad = s->n;
}
/* Tight's compact length */
static void pcompact(struct sb *s, uint32_t v)
{
	if (v < 0x80) {
		p8(s, v);
	} else if (v < 0x4000) {
		p8(s, (v & 0x7F) | 0x80);
		p8(s, v >> 7);
	} else {
		p8(s, (v & 0x7F) | 0x80);
		p8(s, ((v >> 7) & 0x7F) | 0x80);
		p8(s, v >> 14);
	}
}

/* 32-bit depth-24 8:8:8, as pixelgate-viewer and noVNC use */
static const uint8_t PF32[16] = { 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0 };

static void handshake(struct sb *s, unsigned w, unsigned h, const char *name)
{
	pbytes(s, "RFB 003.008\n", 12);
	p8(s, 1);
	p8(s, 1);
	p32(s, 0);
	p16(s, w);
	p16(s, h);
	pbytes(s, PF32, 16);
	p32(s, (uint32_t)strlen(name));
	pbytes(s, name, strlen(name));
}

static void update(struct sb *s, unsigned nrects)
{
	p8(s, 0);
	p8(s, 0);
	p16(s, nrects);
}

static void rect(struct sb *s, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc)
{
	p16(s, x);
	p16(s, y);
	p16(s, w);
	p16(s, h);
	p32(s, (uint32_t)enc);
}

/* The viewer's side: its pixel format, encodings and first update request. */
static void viewer(struct rfb_sc *p, const int32_t *encs, size_t n)
{
	uint8_t spf[20] = { 0 }, se[4 + 4 * 32] = { 2, 0, 0, 0 }, fbur[10] = { 3, 0 };
	char why[160];

	memcpy(spf + 4, PF32, 16);
	cr_assert(rfb_sc_client(p, spf, sizeof spf, why, sizeof why), "%s", why);
	se[3] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)encs[i];
		se[4 + 4 * i] = (uint8_t)(v >> 24);
		se[5 + 4 * i] = (uint8_t)(v >> 16);
		se[6 + 4 * i] = (uint8_t)(v >> 8);
		se[7 + 4 * i] = (uint8_t)v;
	}
	cr_assert(rfb_sc_client(p, se, 4 + 4 * n, why, sizeof why), "%s", why);
	cr_assert(rfb_sc_client(p, fbur, sizeof fbur, why, sizeof why), "%s", why);
}

static const int32_t ALL[] = { 7, 16, 6, 5, 1, 0, -239, -240, -224, -223, -23, -247 };

static void start(struct rfb_sc *p, bool cut_text, const int32_t *encs, size_t n)
{
	struct rfb_sc_config cfg = { .width = W,
				     .height = H,
				     .allow_cut_text = cut_text,
				     .max_cut_text_bytes = 64,
				     .allowed = RFB_SC_GATEWAY_ENCODINGS };
	rfb_sc_init(p, &cfg);
	viewer(p, encs, n);
}

/* What feeding a stream gave. */
struct fed {
	enum rfb_sc_verdict last; /* REJECT, or PASS/NEED_MORE when the input ran out */
	size_t accepted;          /* bytes accepted in all */
	int messages, starts, handshake_steps;
	char reason[RFB_SC_REASON_LEN];
};

/*
 * Feeds d[0 .. n) in pieces of chunk bytes the way the relay does: bytes not
 * yet accepted are kept and offered again with the next piece.
 */
static struct fed feed(struct rfb_sc *p, const uint8_t *d, size_t n, size_t chunk)
{
	struct fed f = { .last = RFB_SC_NEED_MORE };
	size_t have = 0; /* d[accepted .. have) is offered */

	while (have < n) {
		have = have + chunk < n ? have + chunk : n;
		for (;;) {
			struct rfb_sc_step st;
			enum rfb_sc_verdict v = rfb_sc_step(p, d + f.accepted, have - f.accepted,
							    &st);
			f.last = v;
			if (v == RFB_SC_REJECT) {
				cr_assert(st.len <= have - f.accepted);
				f.accepted += st.len;
				snprintf(f.reason, sizeof f.reason, "%s", st.reason);
				cr_assert(st.reason[0] != '\0', "a refusal without a reason");
				return f;
			}
			if (v == RFB_SC_NEED_MORE) {
				cr_assert(st.len == 0);
				break;
			}
			cr_assert(st.len > 0 && st.len <= have - f.accepted);
			f.accepted += st.len;
			f.starts += st.starts_message;
			if (st.ends_message) {
				if (st.handshake)
					f.handshake_steps++;
				else
					f.messages++;
			}
			if (f.accepted == have)
				break;
		}
	}
	return f;
}

/* Every kind of message and rectangle the gateway lets through. */
static void good_stream(struct sb *s)
{
	handshake(s, W, H, "pixelgate");
	update(s, 0); /* an empty update */
	p8(s, 2);     /* Bell */
	update(s, 17);
	rect(s, 0, 0, 4, 2, 0); /* Raw */
	pfill(s, 4 * 2 * 4, 0xAB);
	rect(s, 10, 10, 20, 20, 1); /* CopyRect */
	p16(s, 70);
	p16(s, 30);
	rect(s, 0, 0, 20, 18, 5); /* Hextile: 2x2 tiles of 16x16, 4x16, 16x2, 4x2 */
	p8(s, 1);                 /* raw tile 16x16 */
	pfill(s, 16 * 16 * 4, 1);
	p8(s, 2 | 4 | 8); /* bg, fg, 2 subrects in a 4x16 tile */
	pfill(s, 8, 7);
	p8(s, 2);
	p8(s, 0x00);
	p8(s, 0x3F); /* 4x16 at 0,0 */
	p8(s, 0x11);
	p8(s, 0x00);
	p8(s, 8 | 16); /* coloured subrects in a 16x2 tile */
	p8(s, 1);
	pfill(s, 4, 9);
	p8(s, 0xF1);
	p8(s, 0x00);            /* 1x1 at 15,1 */
	p8(s, 0);               /* 4x2 tile, nothing new */
	rect(s, 0, 0, W, H, 6); /* Zlib */
	p32(s, 5);
	pfill(s, 5, 0x78);
	rect(s, 1, 1, 64, 40, 16); /* ZRLE */
	p32(s, 9);
	pfill(s, 9, 0x11);
	rect(s, 0, 0, 8, 8, 7); /* Tight fill */
	p8(s, 0x80);
	pfill(s, 3, 0x22);
	rect(s, 0, 0, 1, 3, 7); /* Tight basic, 9 bytes: sent as they are */
	p8(s, 0x00);
	pfill(s, 9, 0x33);
	rect(s, 0, 0, 30, 30, 7); /* Tight basic with stream 2 reset, zlib */
	p8(s, 0x04 | 0x20);
	pcompact(s, 300);
	pfill(s, 300, 0x44);
	rect(s, 0, 0, 30, 30, 7); /* Tight 2-colour palette, 1 bit a pixel */
	p8(s, 0x40);
	p8(s, 1);
	p8(s, 1);
	pfill(s, 6, 0x55);
	pcompact(s, 20);
	pfill(s, 20, 0x66);
	rect(s, 0, 0, 8, 8, 7); /* Tight without zlib (libvncserver's level 0): exact size */
	p8(s, 0xA0);
	pcompact(s, 8 * 8 * 3);
	pfill(s, 8 * 8 * 3, 0x77);
	rect(s, 0, 0, 16, 16, 7); /* Tight JPEG */
	p8(s, 0x90);
	pcompact(s, 200);
	pfill(s, 200, 0xFF);
	rect(s, 0, 0, 95, 2, 7); /* a thin Tight JPEG: whole 16 x 16 blocks */
	p8(s, 0x90);
	pcompact(s, 96 * 16 * 4 + 2048);
	pfill(s, 96 * 16 * 4 + 2048, 0xFE);
	rect(s, 3, 4, 10, 9, -239); /* RichCursor */
	pfill(s, 10 * 9 * 4 + 2 * 9, 0x12);
	rect(s, 0, 0, 9, 2, -240); /* XCursor */
	pfill(s, 6 + 2 * 2 * 2, 0x34);
	rect(s, 0, 0, 0, 0, -239); /* no cursor */
	rect(s, 0, 0, W, H, -223); /* DesktopSize, the same size */
	rect(s, 0, 0, 0, 0, 0);    /* an empty Raw */
	update(s, 0xFFFF);         /* ended by LastRect */
	rect(s, 0, 0, 2, 2, 0);
	pfill(s, 16, 0);
	rect(s, 0, 0, 0, 0, -224);
}

Test(rfb_stream, every_allowed_kind_passes_whole_and_in_every_cut)
{
	static struct sb s;
	struct rfb_sc p;

	memset(&s, 0, sizeof s);
	good_stream(&s);
	for (size_t chunk = 1; chunk <= 40; chunk++) {
		start(&p, false, ALL, sizeof ALL / sizeof ALL[0]);
		struct fed f = feed(&p, s.d, s.n, chunk);
		cr_assert(f.last == RFB_SC_PASS, "pieces of %zu: %s after %zu of %zu bytes", chunk,
			  f.last == RFB_SC_REJECT ? f.reason : "waiting", f.accepted, s.n);
		cr_assert(f.accepted == s.n);
		cr_assert(f.messages == 4 && f.starts == 4, "pieces of %zu: %d messages, %d starts",
			  chunk, f.messages, f.starts);
		cr_assert(f.handshake_steps == 4, "pieces of %zu: %d handshake steps", chunk,
			  f.handshake_steps);
		cr_assert(p.rects == 19, "%llu rectangles", (unsigned long long)p.rects);
	}
	start(&p, false, ALL, sizeof ALL / sizeof ALL[0]);
	struct fed f = feed(&p, s.d, s.n, s.n);
	cr_assert(f.last == RFB_SC_PASS && f.accepted == s.n, "whole: %s", f.reason);
}

Test(rfb_stream, server_cut_text_only_when_allowed_and_only_text)
{
	static struct sb s;
	struct rfb_sc p;
	struct fed f;

	memset(&s, 0, sizeof s);
	handshake(&s, W, H, "x");
	p8(&s, 3);
	pfill(&s, 3, 0);
	p32(&s, 12);
	pbytes(&s, "T\xe9l 03\t12\r\n34", 12);
	start(&p, true, ALL, 2);
	f = feed(&p, s.d, s.n, 5);
	cr_assert(f.last == RFB_SC_PASS && f.accepted == s.n && f.messages == 1, "%s", f.reason);
	start(&p, false, ALL, 2);
	f = feed(&p, s.d, s.n, 5);
	cr_assert(f.last == RFB_SC_REJECT && strstr(f.reason, "off by policy"), "%s", f.reason);
}

/* The worker's leg: UTF-8 text passes; the extended form only where configured. */
Test(rfb_stream, utf8_and_extended_cut_text_where_configured)
{
	static struct sb s, ext;
	struct rfb_sc p;
	struct fed f;
	static const char jp[] = "\xe6\x97\xa5\xe6\x9c\xac ok";

	memset(&s, 0, sizeof s);
	handshake(&s, W, H, "x");
	p8(&s, 3);
	pfill(&s, 3, 0);
	p32(&s, (uint32_t)strlen(jp));
	pbytes(&s, jp, strlen(jp));
	/* as Latin-1: 0x97 is a C1 byte */
	start(&p, true, ALL, 2);
	f = feed(&p, s.d, s.n, 3);
	cr_assert(f.last == RFB_SC_REJECT && strstr(f.reason, "byte 0x97"), "%s", f.reason);
	/* as UTF-8 (the worker's leg): passes; a C0 byte still does not */
	for (int bad = 0; bad < 2; bad++) {
		struct rfb_sc_config cfg = { .width = W,
					     .height = H,
					     .allow_cut_text = true,
					     .max_cut_text_bytes = 64,
					     .cut_text_utf8 = true,
					     .allowed = RFB_SC_GATEWAY_ENCODINGS };
		rfb_sc_init(&p, &cfg);
		viewer(&p, ALL, 2);
		if (bad)
			s.d[s.n - 2] = 0x1b;
		f = feed(&p, s.d, s.n, 3);
		if (bad)
			cr_assert(f.last == RFB_SC_REJECT && strstr(f.reason, "byte 0x1b"), "%s",
				  f.reason);
		else
			cr_assert(f.last == RFB_SC_PASS && f.accepted == s.n && f.messages == 1,
				  "%s", f.reason);
	}

	/* the extended form: refused unless configured, then framed by its size */
	memset(&ext, 0, sizeof ext);
	handshake(&ext, W, H, "x");
	p8(&ext, 3);
	pfill(&ext, 3, 0);
	p32(&ext, (uint32_t)(0u - 10u));
	p32(&ext, 0x10000001u);
	pfill(&ext, 6, 0xff); /* the stream: opaque here */
	p8(&ext, 2);          /* a Bell after it */
	start(&p, true, ALL, 2);
	f = feed(&p, ext.d, ext.n, 4);
	cr_assert(f.last == RFB_SC_REJECT && strstr(f.reason, "4294967286 bytes (cap 64)"), "%s",
		  f.reason);
	struct rfb_sc_config cfg = { .width = W,
				     .height = H,
				     .allow_cut_text = true,
				     .max_cut_text_bytes = 64,
				     .ext_cut_text = true,
				     .allowed = RFB_SC_GATEWAY_ENCODINGS };
	rfb_sc_init(&p, &cfg);
	viewer(&p, ALL, 2);
	f = feed(&p, ext.d, ext.n, 4);
	cr_assert(f.last == RFB_SC_PASS && f.accepted == ext.n && f.messages == 2, "%s", f.reason);
	/* sizes under 4 (no flags) and over the cap's stream refused */
	static const uint32_t lens[] = { 0u - 3u, 0u - (uint32_t)(RFB_FILTER_EXT_CUT_MAX(64) + 1) };
	for (size_t i = 0; i < 2; i++) {
		memset(&ext, 0, sizeof ext);
		handshake(&ext, W, H, "x");
		p8(&ext, 3);
		pfill(&ext, 3, 0);
		p32(&ext, lens[i]);
		rfb_sc_init(&p, &cfg);
		viewer(&p, ALL, 2);
		f = feed(&p, ext.d, ext.n, 4);
		cr_assert(f.last == RFB_SC_REJECT && strstr(f.reason, "extended ServerCutText"),
			  "%s", f.reason);
	}
}

/* A hostile stream: what it is, how to build it, what the refusal must say. */
struct hostile {
	const char *what;
	void (*build)(struct sb *s);
	const char *says;
	bool cut_text;
};

static void h_version(struct sb *s)
{
	mark(s);
	pbytes(s, "RFB 003.003\n", 12);
}
static void h_two_types(struct sb *s)
{
	pbytes(s, "RFB 003.008\n", 12);
	mark(s);
	p8(s, 2);
	p8(s, 1);
	p8(s, 2);
}
static void h_vnc_auth(struct sb *s)
{
	pbytes(s, "RFB 003.008\n", 12);
	mark(s);
	p8(s, 1);
	p8(s, 2);
}
static void h_result(struct sb *s)
{
	pbytes(s, "RFB 003.008\n", 12);
	p8(s, 1);
	p8(s, 1);
	mark(s);
	p32(s, 1);
}
static void h_big_fb(struct sb *s)
{
	pbytes(s, "RFB 003.008\n\001\001\0\0\0\0", 18);
	mark(s);
	p16(s, 16384);
	p16(s, 16384);
	pbytes(s, PF32, 16);
	p32(s, 0);
}
static void h_colour_map(struct sb *s)
{
	uint8_t pf[16];

	memcpy(pf, PF32, 16);
	pf[3] = 0;
	pbytes(s, "RFB 003.008\n\001\001\0\0\0\0", 18);
	mark(s);
	p16(s, W);
	p16(s, H);
	pbytes(s, pf, 16);
	p32(s, 0);
}
static void h_long_name(struct sb *s)
{
	pbytes(s, "RFB 003.008\n\001\001\0\0\0\0", 18);
	mark(s);
	p16(s, W);
	p16(s, H);
	pbytes(s, PF32, 16);
	p32(s, 65);
}
static void h_name_control(struct sb *s)
{
	handshake(s, W, H, "abc");
	s->n--;
	mark(s);
	p8(s, 0x1B);
}
static void h_cut_text(struct sb *s)
{
	handshake(s, W, H, "");
	mark(s);
	p8(s, 3);
	pfill(s, 3, 0);
	p32(s, 4);
	pbytes(s, "evil", 4);
}
static void h_cut_text_big(struct sb *s)
{
	handshake(s, W, H, "");
	mark(s);
	p8(s, 3);
	pfill(s, 3, 0);
	p32(s, 65);
}
static void h_cut_text_nul(struct sb *s)
{
	handshake(s, W, H, "");
	p8(s, 3);
	pfill(s, 3, 0);
	p32(s, 4);
	p8(s, 'a');
	mark(s);
	p8(s, 0);
}
static void h_text_chat(struct sb *s)
{
	handshake(s, W, H, "");
	mark(s);
	p8(s, 11);
}
static void h_colourmap_msg(struct sb *s)
{
	handshake(s, W, H, "");
	mark(s);
	p8(s, 1);
}
static void h_unknown_msg(struct sb *s)
{
	handshake(s, W, H, "");
	mark(s);
	p8(s, 99);
}
static void h_rre(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0, 0, 1, 1, 2);
}
static void h_zywrle(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0, 0, 1, 1, 17);
}
static void h_not_asked(struct sb *s) /* the viewer asked for Raw and CopyRect only */
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0, 0, 1, 1, 5);
}
static void h_outside(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 90, 0, 11, 1, 0);
}
static void h_outside_wrap(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0xFFFF, 0, 2, 1, 0);
}
static void h_copyrect_src(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 10, 10, 1);
	mark(s);
	p16(s, 95);
	p16(s, 0);
}
static void h_hextile_subrect(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 4, 4, 5);
	p8(s, 8);
	p8(s, 1);
	mark(s);
	p8(s, 0x00);
	p8(s, 0x40); /* 5x1 in a 4x4 tile */
}
static void h_hextile_flags(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 4, 4, 5);
	mark(s);
	p8(s, 0x20);
}
static void h_zlib_len(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 2, 2, 6);
	mark(s);
	p32(s, 16 * 1024 * 1024);
}
static void h_zrle_len(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 2, 2, 16);
	mark(s);
	p32(s, 0xFFFFFFFF);
}
static void h_tight_ctl(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 2, 2, 7);
	mark(s);
	p8(s, 0xC0);
}
static void h_tight_filter(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 2, 2, 7);
	mark(s);
	p8(s, 0x40);
	p8(s, 3);
}
static void h_tight_palette(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 2, 2, 7);
	mark(s);
	p8(s, 0x40);
	p8(s, 1);
	p8(s, 0); /* one colour */
}
static void h_tight_len(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 4, 4, 7);
	mark(s);
	p8(s, 0x00);
	pcompact(s, 4000000);
}
static void h_tight_nozlib_len(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 4, 4, 7);
	mark(s);
	p8(s, 0xA0);
	pcompact(s, 4 * 4 * 3 + 1);
}
static void h_tight_jpeg(struct sb *s) /* no quality level asked */
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 4, 4, 7);
	mark(s);
	p8(s, 0x90);
	pcompact(s, 10);
}
static void h_tight_gradient_empty(struct sb *s) /* libvncclient writes a pixel past the end */
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, W, H - 1, 0, 1, 7);
	mark(s);
	p8(s, 0x40);
	p8(s, 2);
}
static void h_cursor_big(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0, 0, 129, 2, -239);
}
static void h_cursor_hotspot(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 10, 0, 10, 10, -239);
}
static void h_desktop_size(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0, 0, 16384, 16384, -223);
}
static void h_ext_desktop_size(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0, 0, W, H, -308);
}
static void h_last_rect_not_asked(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 2);
	mark(s);
	rect(s, 0, 0, 0, 0, -224);
}
static void h_server_identity(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 1);
	mark(s);
	rect(s, 0, 0, 0, 0, -305);
}

static void h_tight_jpeg_big(struct sb *s) /* more than its 16 x 16 blocks could need */
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, 0, 95, 2, 7);
	mark(s);
	p8(s, 0x90);
	pcompact(s, 96 * 16 * 4 + 2048 + 1);
}
static void h_tight_jpeg_empty(struct sb *s) /* tjDecompress() reads 0 as "the JPEG's size" */
{
	handshake(s, W, H, "");
	update(s, 1);
	rect(s, 0, H - 1, 0, 0, 7);
	mark(s);
	p8(s, 0x90);
	pcompact(s, 690);
}
static void h_two_desktop_sizes(struct sb *s)
{
	handshake(s, W, H, "");
	update(s, 2);
	rect(s, 0, 0, W, H, -223);
	mark(s);
	rect(s, 0, 0, W, H, -223);
}

static const struct hostile hostile[] = {
	{ "a 0x0 Tight JPEG", h_tight_jpeg_empty, "Tight JPEG rectangle of 0x0", false },
	{ "a Tight JPEG over its blocks' bound", h_tight_jpeg_big,
	  "Tight JPEG data of 8193 bytes for a 95x2 rectangle (1..8192)", false },
	{ "two DesktopSizes in one update", h_two_desktop_sizes, "a second DesktopSize", false },
	{ "RFB 3.3", h_version, "ProtocolVersion", false },
	{ "two security types", h_two_types, "2 security types", false },
	{ "VNC authentication", h_vnc_auth, "security type 2", false },
	{ "SecurityResult 1", h_result, "SecurityResult 1", false },
	{ "a 16384x16384 ServerInit", h_big_fb, "ServerInit size 16384x16384", false },
	{ "a colour-map pixel format", h_colour_map, "true-colour", false },
	{ "a 65-byte name", h_long_name, "name of 65 bytes", false },
	{ "a name with ESC", h_name_control, "name with byte 0x1b", false },
	{ "ServerCutText when off", h_cut_text, "off by policy", false },
	{ "ServerCutText over the cap", h_cut_text_big, "65 bytes (cap 64)", true },
	{ "ServerCutText with NUL", h_cut_text_nul, "ServerCutText with byte 0x00", true },
	{ "TextChat", h_text_chat, "(TextChat)", false },
	{ "SetColourMapEntries", h_colourmap_msg, "(SetColourMapEntries)", false },
	{ "an unknown message", h_unknown_msg, "unknown server message type 99", false },
	{ "RRE", h_rre, "(RRE), not allowed by the gateway", false },
	{ "ZYWRLE", h_zywrle, "(ZYWRLE), not allowed", false },
	{ "Hextile not asked for", h_not_asked, "did not ask for", false },
	{ "a rectangle past the right edge", h_outside, "outside the 100x60", false },
	{ "a rectangle whose x wraps", h_outside_wrap, "outside the 100x60", false },
	{ "a CopyRect source outside", h_copyrect_src, "CopyRect source", false },
	{ "a Hextile subrect outside its tile", h_hextile_subrect, "outside its 4x4 tile", false },
	{ "Hextile subencoding bits", h_hextile_flags, "subencoding 0x20", false },
	{ "Zlib of 16 MiB for 2x2", h_zlib_len, "Zlib data of 16777216", false },
	{ "ZRLE of 4 GiB", h_zrle_len, "ZRLE data of 4294967295", false },
	{ "Tight control 0xC0", h_tight_ctl, "Tight control byte 0xc0", false },
	{ "Tight filter 3", h_tight_filter, "Tight filter 3", false },
	{ "a 1-colour Tight palette", h_tight_palette, "palette of 1 colours", false },
	{ "Tight zlib data too long", h_tight_len, "Tight zlib data of 4000000", false },
	{ "Tight raw data of the wrong size", h_tight_nozlib_len, "uncompressed data of 49",
	  false },
	{ "Tight JPEG not asked for", h_tight_jpeg, "no JPEG quality level", false },
	{ "a 0-pixel-wide Tight gradient", h_tight_gradient_empty, "gradient filter on a 0x1",
	  false },
	{ "a 129-pixel cursor", h_cursor_big, "cursor of 129x2", false },
	{ "a cursor hotspot outside", h_cursor_hotspot, "hotspot at 10,0", false },
	{ "a DesktopSize of 16384x16384", h_desktop_size, "DesktopSize 16384x16384", false },
	{ "ExtendedDesktopSize", h_ext_desktop_size, "(ExtendedDesktopSize)", false },
	{ "LastRect not asked for", h_last_rect_not_asked, "did not ask for", false },
	{ "ServerIdentity", h_server_identity, "(ServerIdentity)", false },
};

Test(rfb_stream, hostile_streams_are_refused_before_their_bad_field_passes)
{
	static struct sb s;
	static const int32_t some[] = {
		0, 1, 7, 6, 16, -239, -223
	}; /* no Hextile, JPEG, LastRect */

	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		const struct hostile *h = &hostile[i];
		const int32_t *encs = h->build == h_not_asked ? some : ALL;
		size_t n = h->build == h_not_asked ? 2 : sizeof ALL / sizeof ALL[0];

		if (h->build == h_tight_jpeg || h->build == h_last_rect_not_asked) {
			encs = some;
			n = sizeof some / sizeof some[0];
		}
		memset(&s, 0, sizeof s);
		h->build(&s);
		for (size_t chunk = 1; chunk <= 13; chunk += 4) {
			struct rfb_sc p;
			struct fed f;

			start(&p, h->cut_text, encs, n);
			f = feed(&p, s.d, s.n, chunk);
			cr_assert(f.last == RFB_SC_REJECT,
				  "%s (pieces of %zu): not refused (%zu of %zu "
				  "bytes accepted)",
				  h->what, chunk, f.accepted, s.n);
			cr_assert(strstr(f.reason, h->says) != NULL,
				  "%s: the reason \"%s\" does not say "
				  "\"%s\"",
				  h->what, f.reason, h->says);
			cr_assert(f.accepted <= s.bad,
				  "%s (pieces of %zu): %zu bytes accepted, the bad "
				  "field starts at %zu",
				  h->what, chunk, f.accepted, s.bad);
			/* and nothing more after a refusal */
			struct rfb_sc_step st;
			cr_assert(rfb_sc_step(&p, s.d, 1, &st) == RFB_SC_REJECT);
		}
	}
}

Test(rfb_stream, a_pixel_format_change_after_the_first_request_is_refused)
{
	struct rfb_sc p;
	uint8_t spf[20] = { 0 };
	char why[160];

	start(&p, false, ALL, 2);
	memcpy(spf + 4, PF32, 16);
	cr_assert(rfb_sc_client(&p, spf, sizeof spf, why, sizeof why), "the same format: %s", why);
	spf[4] = 16;
	spf[5] = 16;
	cr_assert(!rfb_sc_client(&p, spf, sizeof spf, why, sizeof why));
	cr_assert(strstr(why, "after the first FramebufferUpdateRequest"), "%s", why);
}

Test(rfb_stream, pixel_sizes_follow_the_viewers_format)
{
	static struct sb s;
	struct rfb_sc_config cfg = { .width = W, .height = H, .allowed = RFB_SC_GATEWAY_ENCODINGS };
	uint8_t spf[20] = { 0, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0 };
	uint8_t se[8] = { 2, 0, 0, 1, 0, 0, 0, 7 };
	char why[160];
	struct rfb_sc p;
	struct fed f;

	/* 16-bit: a Tight fill colour is 2 bytes, not 3 */
	memset(&s, 0, sizeof s);
	handshake(&s, W, H, "");
	update(&s, 1);
	rect(&s, 0, 0, 4, 4, 7);
	p8(&s, 0x80);
	pfill(&s, 2, 0);
	p8(&s, 2); /* Bell: in step only if the fill took 2 bytes */
	rfb_sc_init(&p, &cfg);
	cr_assert(rfb_sc_client(&p, spf, sizeof spf, why, sizeof why), "%s", why);
	cr_assert(rfb_sc_client(&p, se, sizeof se, why, sizeof why));
	f = feed(&p, s.d, s.n, 3);
	cr_assert(f.last == RFB_SC_PASS && f.accepted == s.n && f.messages == 2, "%s", f.reason);
}

/*
 * libvncclient's own Tight limits, which the sizes of the rectangles above
 * cannot reach: its gradient filter's row of 2048 pixels (wider overflowed
 * it before CVE-2026-44988) and, in a 16-bit format, JPEG decoded into its
 * 640x480-byte buffer at 3 bytes a pixel (a larger picture overwrote the
 * rfbClient after it). Up to each limit passes, one pixel more is refused
 * before any byte of the Tight header is accepted.
 */
Test(rfb_stream, tight_stays_within_libvncclients_buffers)
{
	static struct sb s;
	static const uint8_t PF16[16] = { 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0 };
	static const struct {
		unsigned w, h, rw, rh;
		bool sixteen, jpeg;
		const char *says; /* NULL: passes */
	} cases[] = {
		{ 2100, 3, 2048, 1, false, false, NULL },
		{ 2100, 3, 2049, 1, false, false, "gradient filter on a 2049x1 rectangle" },
		{ 2100, 3, 2049, 1, true, false, "gradient filter on a 2049x1 rectangle" },
		{ 400, 300, 400, 256, true, true, NULL }, /* 102400 pixels, 307200 bytes */
		{ 400, 300, 400, 257, true, true, "JPEG rectangle of 400x257 in a 16-bit" },
		{ 400, 300, 400, 300, false, true, NULL }, /* 32-bit: into the framebuffer */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rfb_sc_config cfg = { .width = (uint16_t)cases[i].w,
					     .height = (uint16_t)cases[i].h,
					     .allowed = RFB_SC_GATEWAY_ENCODINGS };
		uint8_t spf[20] = { 0 },
			se[12] = { 2, 0, 0, 2, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xE9 };
		unsigned tpixel = cases[i].sixteen ? 2 : 3;
		char why[160];
		struct rfb_sc p;

		memset(&s, 0, sizeof s);
		handshake(&s, cases[i].w, cases[i].h, "");
		update(&s, 1);
		rect(&s, 0, 0, cases[i].rw, cases[i].rh, 7);
		mark(&s);
		if (cases[i].jpeg) {
			p8(&s, 0x90);
			pcompact(&s, 100);
			pfill(&s, 100, 0xD8);
		} else { /* gradient, sent without zlib */
			p8(&s, 0xE0);
			p8(&s, 2);
			pcompact(&s, cases[i].rw * cases[i].rh * tpixel);
			pfill(&s, (size_t)cases[i].rw * cases[i].rh * tpixel, 0x01);
		}
		memcpy(spf + 4, cases[i].sixteen ? PF16 : PF32, 16);
		rfb_sc_init(&p, &cfg);
		cr_assert(rfb_sc_client(&p, spf, sizeof spf, why, sizeof why), "%s", why);
		cr_assert(rfb_sc_client(&p, se, sizeof se, why, sizeof why), "%s", why);
		struct fed f = feed(&p, s.d, s.n, 7);
		if (cases[i].says == NULL) {
			cr_assert(f.last == RFB_SC_PASS && f.accepted == s.n && f.messages == 1,
				  "case %zu: %s", i, f.reason);
		} else {
			cr_assert(f.last == RFB_SC_REJECT && strstr(f.reason, cases[i].says),
				  "case %zu: \"%s\"", i, f.reason);
			cr_assert(f.accepted <= s.bad, "case %zu: %zu bytes of the header passed",
				  i, f.accepted - s.bad);
		}
	}
}

Test(rfb_stream, a_session_larger_than_any_real_one_gets_nothing_through)
{
	static struct sb s;
	struct rfb_sc_config cfg = { .width = 65535,
				     .height = 16,
				     .allowed = RFB_SC_GATEWAY_ENCODINGS };
	struct rfb_sc p;
	struct fed f;

	/* a Hextile walk at x = 65520 would wrap a 16-bit tile position */
	memset(&s, 0, sizeof s);
	handshake(&s, 65535, 16, "");
	rfb_sc_init(&p, &cfg);
	viewer(&p, ALL, sizeof ALL / sizeof ALL[0]);
	f = feed(&p, s.d, s.n, 7);
	cr_assert(f.last == RFB_SC_REJECT && strstr(f.reason, "ServerInit size 65535x16"), "%s",
		  f.reason);
}

/* The relay holds the worker's bytes after its version until the viewer's
   came (noVNC takes one handshake step per WebSocket message). */
Test(rfb_stream, past_version_only_after_the_whole_version)
{
	struct rfb_sc p;
	struct rfb_sc_step st;
	static const uint8_t v[] = "RFB 003.008\n\x01\x01";
	start(&p, false, ALL, sizeof ALL / sizeof ALL[0]);
	cr_assert(!rfb_sc_past_version(&p));
	cr_assert_eq(rfb_sc_step(&p, v, 11, &st), RFB_SC_NEED_MORE);
	cr_assert(!rfb_sc_past_version(&p));
	cr_assert_eq(rfb_sc_step(&p, v, 14, &st), RFB_SC_PASS);
	cr_assert_eq(st.len, 12, "one step is the version alone, not %zu bytes", st.len);
	cr_assert(st.handshake && st.ends_message);
	cr_assert(rfb_sc_past_version(&p));
}
