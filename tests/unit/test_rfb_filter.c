/*
 * test_rfb_filter.c: the RFB client->server allow-list against hostile input.
 *
 * Tables of well-formed and hostile messages; every allowed message is also
 * checked at every truncation (NEED_MORE, never REJECT, state untouched) and
 * every hostile one at every prefix (NEED_MORE until the offending byte, then
 * REJECT for good).
 */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rfb_filter.h"

#define MSG_MAX 300

/* One message as bytes. */
struct msg {
	const char *name;
	uint8_t bytes[MSG_MAX];
	size_t len;
};

/* Encoding numbers as the spec writes them, and their wire form. */
#define ENC_EXT_CLIPBOARD ((int32_t)-1063131698) /* 0xC0A1E5CE */
#define ENC_KBD_LED_STATE ((int32_t)-131072)     /* 0xFFFE0000 */
#define ENC_FILE_TRANSFER ((int32_t)-32766)      /* 0xFFFF8002 */

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int32_t get_s32(const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	int32_t s;
	memcpy(&s, &v, sizeof s);
	return s;
}

/* Build a SetEncodings of n entries into dst; returns its length. */
static size_t set_encodings(uint8_t *dst, const int32_t *encs, size_t n)
{
	dst[0] = 2;
	dst[1] = 0;
	put_u16(dst + 2, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		put_u32(dst + 4 + 4 * i, (uint32_t)encs[i]);
	return 4 + 4 * n;
}

/* A SetPixelFormat: 32 bpp, depth 24, little-endian, true colour, 8:8:8. */
static size_t set_pixel_format(uint8_t *dst, uint8_t bpp, uint8_t depth, uint8_t true_colour)
{
	memset(dst, 0, 20);
	dst[0] = 0;
	dst[4] = bpp;
	dst[5] = depth;
	dst[6] = 0;
	dst[7] = true_colour;
	put_u16(dst + 8, 255);
	put_u16(dst + 10, 255);
	put_u16(dst + 12, 255);
	dst[14] = 16;
	dst[15] = 8;
	dst[16] = 0;
	return 20;
}

static size_t cut_text(uint8_t *dst, uint32_t declared_len, const char *text)
{
	dst[0] = 6;
	dst[1] = dst[2] = dst[3] = 0;
	put_u32(dst + 4, declared_len);
	size_t n = text != NULL ? strlen(text) : 0;
	memcpy(dst + 8, text != NULL ? text : "", n);
	return 8 + n;
}

static const uint8_t handshake_bytes[] = "RFB 003.008\n\x01\x01";
#define HANDSHAKE_LEN 14

/* Init a filter and walk it through version, security None, ClientInit. */
static void handshake(struct rfb_filter *f, bool allow_cut, uint32_t cap)
{
	struct rfb_step out;
	rfb_filter_init(f, allow_cut, cap);
	cr_assert_eq(rfb_filter_step(f, handshake_bytes, 12, &out), RFB_PASS);
	cr_assert_eq(out.len, 12);
	cr_assert_eq(f->phase, RFB_PHASE_SECURITY);
	cr_assert_eq(rfb_filter_step(f, handshake_bytes + 12, 1, &out), RFB_PASS);
	cr_assert_eq(out.len, 1);
	cr_assert_eq(f->phase, RFB_PHASE_CLIENT_INIT);
	cr_assert_eq(rfb_filter_step(f, handshake_bytes + 13, 1, &out), RFB_PASS);
	cr_assert_eq(out.len, 1);
	cr_assert_eq(f->phase, RFB_PHASE_NORMAL);
	cr_assert_eq(f->messages, 3);
}

static void assert_rejected(const struct rfb_step *out, const char *what)
{
	cr_assert_eq(out->verdict, RFB_REJECT, "%s: not rejected", what);
	cr_assert_neq(memchr(out->reason, '\0', sizeof out->reason), NULL,
		      "%s: reason not NUL-terminated", what);
	cr_assert_gt(strlen(out->reason), 0, "%s: empty reason", what);
}

/* Messages the filter accepts unchanged once in the NORMAL phase. */
static size_t allowed_messages(struct msg *m, bool with_cut_text)
{
	size_t n = 0;
	m[n].name = "SetPixelFormat 32/24";
	m[n].len = set_pixel_format(m[n].bytes, 32, 24, 1);
	n++;
	m[n].name = "SetPixelFormat 16/16";
	m[n].len = set_pixel_format(m[n].bytes, 16, 16, 1);
	put_u16(m[n].bytes + 8, 31);
	put_u16(m[n].bytes + 10, 63);
	put_u16(m[n].bytes + 12, 31);
	m[n].bytes[14] = 11;
	m[n].bytes[15] = 5;
	m[n].bytes[16] = 0;
	n++;
	m[n].name = "SetPixelFormat 8/8";
	m[n].len = set_pixel_format(m[n].bytes, 8, 8, 1);
	put_u16(m[n].bytes + 8, 7);
	put_u16(m[n].bytes + 10, 7);
	put_u16(m[n].bytes + 12, 3);
	m[n].bytes[14] = 0;
	m[n].bytes[15] = 3;
	m[n].bytes[16] = 6;
	n++;
	static const int32_t encs[] = { 16,  7,    5,    6,    1,    0,    -32,
					-23, -256, -247, -240, -239, -224, -223 };
	m[n].name = "SetEncodings all allowed";
	m[n].len = set_encodings(m[n].bytes, encs, sizeof encs / sizeof encs[0]);
	n++;
	m[n].name = "SetEncodings empty";
	m[n].len = set_encodings(m[n].bytes, NULL, 0);
	n++;
	int32_t many[RFB_FILTER_MAX_ENCODINGS];
	for (size_t i = 0; i < RFB_FILTER_MAX_ENCODINGS; i++)
		many[i] = (int32_t[]){ 0, 1, 5, 6, 7, 16, -239, -23 }[i % 8]; /* all allowed */
	m[n].name = "SetEncodings 64 entries";
	m[n].len = set_encodings(m[n].bytes, many, RFB_FILTER_MAX_ENCODINGS);
	n++;
	m[n].name = "FramebufferUpdateRequest full";
	m[n].len = 10;
	memcpy(m[n].bytes, "\x03\x00\x00\x00\x00\x00\x04\x00\x03\x00", 10);
	n++;
	m[n].name = "FramebufferUpdateRequest incremental";
	m[n].len = 10;
	memcpy(m[n].bytes, "\x03\x01\xff\xff\xff\xff\xff\xff\xff\xff", 10);
	n++;
	m[n].name = "KeyEvent down";
	m[n].len = 8;
	memcpy(m[n].bytes, "\x04\x01\x00\x00\x00\x00\xff\x0d", 8);
	n++;
	m[n].name = "KeyEvent up";
	m[n].len = 8;
	memcpy(m[n].bytes, "\x04\x00\x00\x00\x00\x00\x00\x61", 8);
	n++;
	m[n].name = "PointerEvent";
	m[n].len = 6;
	memcpy(m[n].bytes, "\x05\x01\x01\x00\x02\x00", 6);
	n++;
	if (with_cut_text) {
		m[n].name = "ClientCutText short";
		m[n].len = cut_text(m[n].bytes, 5, "hello");
		n++;
		m[n].name = "ClientCutText empty";
		m[n].len = cut_text(m[n].bytes, 0, NULL);
		n++;
		m[n].name = "ClientCutText at cap";
		m[n].len = cut_text(m[n].bytes, 16, "0123456789abcdef");
		n++;
	}
	return n;
}

#define CUT_CAP 16
#define MAX_MSGS 32

Test(rfb_filter, empty_buffer_needs_more_in_every_phase)
{
	struct rfb_filter f;
	struct rfb_step out;
	rfb_filter_init(&f, false, 0);
	static const uint8_t bytes[] = "RFB 003.008\n\x01\x01";
	for (size_t i = 0; i < 4; i++) {
		enum rfb_filter_phase phase = f.phase;
		cr_assert_eq(rfb_filter_step(&f, bytes, 0, &out), RFB_NEED_MORE);
		cr_assert_eq(f.phase, phase);
		if (i == 0)
			cr_assert_eq(rfb_filter_step(&f, bytes, 12, &out), RFB_PASS);
		else if (i < 3)
			cr_assert_eq(rfb_filter_step(&f, bytes + 11 + i, 1, &out), RFB_PASS);
	}
	cr_assert_eq(f.phase, RFB_PHASE_NORMAL);
}

Test(rfb_filter, init_defaults)
{
	struct rfb_filter f;
	memset(&f, 0xa5, sizeof f);
	rfb_filter_init(&f, false, 123);
	cr_assert_eq(f.phase, RFB_PHASE_VERSION);
	cr_assert_eq(f.allow_cut_text, false);
	cr_assert_eq(f.max_cut_text_bytes, 123);
	cr_assert_eq(f.messages, 0);
}

Test(rfb_filter, handshake_and_every_allowed_message_pass)
{
	struct msg m[MAX_MSGS];
	size_t n = allowed_messages(m, true);
	struct rfb_filter f;
	handshake(&f, true, CUT_CAP);
	for (size_t i = 0; i < n; i++) {
		struct rfb_step out;
		uint64_t before = f.messages;
		cr_assert_eq(rfb_filter_step(&f, m[i].bytes, m[i].len, &out), RFB_PASS, "%s: %s",
			     m[i].name, out.reason);
		cr_assert_eq(out.verdict, RFB_PASS);
		cr_assert_eq(out.len, m[i].len, "%s", m[i].name);
		cr_assert_eq(out.rewritten_len, 0, "%s", m[i].name);
		cr_assert_eq(f.messages, before + 1, "%s", m[i].name);
		cr_assert_eq(f.phase, RFB_PHASE_NORMAL);
	}
}

Test(rfb_filter, every_truncation_of_an_allowed_message_needs_more)
{
	struct msg m[MAX_MSGS];
	size_t n = allowed_messages(m, true);
	for (size_t i = 0; i < n; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		handshake(&f, true, CUT_CAP);
		for (size_t k = 0; k < m[i].len; k++) {
			cr_assert_eq(rfb_filter_step(&f, m[i].bytes, k, &out), RFB_NEED_MORE,
				     "%s truncated to %zu: verdict %d (%s)", m[i].name, k,
				     out.verdict, out.reason);
			cr_assert_eq(f.phase, RFB_PHASE_NORMAL);
			cr_assert_eq(f.messages, 3, "%s: NEED_MORE counted a message", m[i].name);
		}
		cr_assert_eq(rfb_filter_step(&f, m[i].bytes, m[i].len, &out), RFB_PASS, "%s",
			     m[i].name);
		cr_assert_eq(out.len, m[i].len);
	}
}

Test(rfb_filter, every_truncation_of_the_handshake_needs_more)
{
	for (size_t k = 0; k < 12; k++) {
		struct rfb_filter f;
		struct rfb_step out;
		rfb_filter_init(&f, false, 0);
		cr_assert_eq(rfb_filter_step(&f, handshake_bytes, k, &out), RFB_NEED_MORE,
			     "version truncated to %zu: %s", k, out.reason);
		cr_assert_eq(f.phase, RFB_PHASE_VERSION);
		cr_assert_eq(f.messages, 0);
	}
}

Test(rfb_filter, trailing_bytes_do_not_change_the_verdict)
{
	struct msg m[MAX_MSGS];
	size_t n = allowed_messages(m, true);
	for (size_t i = 0; i < n; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		uint8_t buf[MSG_MAX + 8];
		handshake(&f, true, CUT_CAP);
		memcpy(buf, m[i].bytes, m[i].len);
		memset(buf + m[i].len, 0xff, 8); /* a forbidden type follows */
		cr_assert_eq(rfb_filter_step(&f, buf, m[i].len + 8, &out), RFB_PASS, "%s",
			     m[i].name);
		cr_assert_eq(out.len, m[i].len, "%s", m[i].name);
	}
}

Test(rfb_filter, every_forbidden_type_is_rejected_with_a_reason)
{
	for (unsigned t = 0; t < 256; t++) {
		if (t == 0 || (t >= 2 && t <= 6))
			continue;
		struct rfb_filter f;
		struct rfb_step out;
		uint8_t buf[64];
		memset(buf, 0, sizeof buf);
		buf[0] = (uint8_t)t;
		char what[32];
		snprintf(what, sizeof what, "type %u", t);
		/* Rejected on the type byte alone, and the same with more behind it. */
		handshake(&f, true, 1 << 20);
		rfb_filter_step(&f, buf, 1, &out);
		assert_rejected(&out, what);
		cr_assert_eq(f.messages, 3);
		cr_assert_eq(out.len, 0);
		char reason[RFB_FILTER_REASON_LEN];
		memcpy(reason, out.reason, sizeof reason);
		rfb_filter_step(&f, buf, sizeof buf, &out);
		assert_rejected(&out, what);
		cr_assert_str_eq(out.reason, reason);
		char num[16];
		snprintf(num, sizeof num, "type %u", t);
		cr_assert_not_null(strstr(out.reason, num), "%s: reason \"%s\"", what, out.reason);
	}
}

Test(rfb_filter, forbidden_types_are_named)
{
	static const struct {
		uint8_t type;
		const char *reason;
	} cases[] = {
		{ 7, "message type 7 (FileTransfer) not allowed" },
		{ 8, "message type 8 (SetScale) not allowed" },
		{ 9, "message type 9 (SetServerInput) not allowed" },
		{ 10, "message type 10 (SetSW) not allowed" },
		{ 11, "message type 11 (TextChat) not allowed" },
		{ 12, "message type 12 (KeepAlive) not allowed" },
		{ 15, "message type 15 (SetScale(Palm)) not allowed" },
		{ 150, "message type 150 (EnableContinuousUpdates) not allowed" },
		{ 248, "message type 248 (ClientFence) not allowed" },
		{ 250, "message type 250 (xvp) not allowed" },
		{ 251, "message type 251 (SetDesktopSize) not allowed" },
		{ 255, "message type 255 (QEMU) not allowed" },
		{ 42, "unknown message type 42" },
		{ 127, "unknown message type 127" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		handshake(&f, false, 0);
		cr_assert_eq(rfb_filter_step(&f, &cases[i].type, 1, &out), RFB_REJECT);
		cr_assert_str_eq(out.reason, cases[i].reason);
	}
}

Test(rfb_filter, wrong_versions_are_rejected)
{
	static const char *const versions[] = {
		"RFB 003.003\n",  "RFB 003.007\n",
		"RFB 003.889\n",  "RFB 004.001\n",
		"RFB 003.008\r",  "RFB 003.008 ",
		"rfb 003.008\n",  "RFB 003.0080",
		"GET / HTTP/1.1", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00",
		"RFB 103.008\n",  "RFB\000003.008\n", /* NUL for the space */
	};
	static const size_t lens[] = { 12, 12, 12, 12, 12, 12, 12, 12, 14, 12, 12, 12 };
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		rfb_filter_init(&f, false, 0);
		rfb_filter_step(&f, (const uint8_t *)versions[i], lens[i], &out);
		assert_rejected(&out, versions[i]);
		cr_assert_not_null(strstr(out.reason, "unsupported protocol version"), "%s",
				   out.reason);
		cr_assert_eq(f.phase, RFB_PHASE_VERSION);
		cr_assert_eq(f.messages, 0);
	}
}

Test(rfb_filter, version_mismatch_is_rejected_on_the_first_bad_byte)
{
	static const char good[] = "RFB 003.008\n";
	for (size_t bad = 0; bad < 12; bad++) {
		uint8_t buf[12];
		memcpy(buf, good, 12);
		buf[bad] ^= 0x20;
		for (size_t k = 1; k <= 12; k++) {
			struct rfb_filter f;
			struct rfb_step out;
			rfb_filter_init(&f, false, 0);
			enum rfb_verdict v = rfb_filter_step(&f, buf, k, &out);
			if (k <= bad)
				cr_assert_eq(v, RFB_NEED_MORE, "bad byte %zu, prefix %zu", bad, k);
			else
				assert_rejected(&out, "version");
		}
	}
}

Test(rfb_filter, security_types_other_than_none_are_rejected)
{
	static const uint8_t types[] = { 0, 2, 5, 16, 18, 19, 30, 113, 129, 255 };
	for (size_t i = 0; i < sizeof types; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		rfb_filter_init(&f, false, 0);
		cr_assert_eq(rfb_filter_step(&f, handshake_bytes, 12, &out), RFB_PASS);
		rfb_filter_step(&f, &types[i], 1, &out);
		assert_rejected(&out, "security type");
		cr_assert_eq(f.phase, RFB_PHASE_SECURITY);
	}
	struct rfb_filter f;
	struct rfb_step out;
	rfb_filter_init(&f, false, 0);
	cr_assert_eq(rfb_filter_step(&f, handshake_bytes, 12, &out), RFB_PASS);
	cr_assert_eq(rfb_filter_step(&f, (const uint8_t *)"\x02", 1, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "security type 2 refused (only None, 1)");
}

Test(rfb_filter, client_init_accepts_any_shared_flag)
{
	static const uint8_t flags[] = { 0, 1, 2, 0xff };
	for (size_t i = 0; i < sizeof flags; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		rfb_filter_init(&f, false, 0);
		cr_assert_eq(rfb_filter_step(&f, handshake_bytes, 13, &out), RFB_PASS);
		cr_assert_eq(out.len, 12);
		cr_assert_eq(rfb_filter_step(&f, handshake_bytes + 12, 1, &out), RFB_PASS);
		cr_assert_eq(rfb_filter_step(&f, &flags[i], 1, &out), RFB_PASS);
		cr_assert_eq(out.len, 1);
		cr_assert_eq(f.phase, RFB_PHASE_NORMAL);
	}
}

Test(rfb_filter, set_encodings_over_the_limit_is_rejected_on_the_header)
{
	struct rfb_filter f;
	struct rfb_step out;
	uint8_t buf[4 + 4 * 70];
	int32_t encs[70] = { 0 };
	set_encodings(buf, encs, 65);
	handshake(&f, false, 0);
	/* The header alone is enough: the body is never waited for. */
	cr_assert_eq(rfb_filter_step(&f, buf, 4, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "SetEncodings with 65 encodings (max 64)");
	cr_assert_eq(rfb_filter_step(&f, buf, 4 + 4 * 65, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "SetEncodings with 65 encodings (max 64)");
	cr_assert_eq(f.messages, 3);

	static const uint16_t counts[] = { 65, 100, 255, 256, 0x7fff, 0x8000, 0xffff };
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		uint8_t hdr[4] = { 2, 0, 0, 0 };
		put_u16(hdr + 2, counts[i]);
		char expect[RFB_FILTER_REASON_LEN];
		snprintf(expect, sizeof expect, "SetEncodings with %u encodings (max 64)",
			 (unsigned)counts[i]);
		cr_assert_eq(rfb_filter_step(&f, hdr, 4, &out), RFB_REJECT);
		cr_assert_str_eq(out.reason, expect);
		/* A high count byte is already fatal before the low one arrives. */
		enum rfb_verdict v3 = rfb_filter_step(&f, hdr, 3, &out);
		cr_assert_eq(v3, counts[i] >= 256 ? RFB_REJECT : RFB_NEED_MORE, "count %u",
			     (unsigned)counts[i]);
	}
}

Test(rfb_filter, set_encodings_rewrite_keeps_allowed_in_order)
{
	static const int32_t in[] = {
		7,    /* Tight: keep */
		-312, /* fence */
		16,   /* ZRLE: keep */
		ENC_EXT_CLIPBOARD,
		-23,  /* JPEG quality 9: keep */
		-309, /* xvp */
		1,    /* CopyRect: keep */
		-258, /* QEMU extended key event */
		-257, /* QEMU pointer motion change */
		-223, /* DesktopSize: keep */
		ENC_KBD_LED_STATE,
		ENC_FILE_TRANSFER,
		-313, /* continuous updates */
		-308, /* ExtendedDesktopSize: a session's size is fixed */
		2,
		4,
		8,
		17,
		-232, /* RRE, CoRRE, ZlibHex, ZYWRLE, PointerPos: dropped */
		3,    /* unassigned */
		-33,
		-22,
		-257,
		-246,
		-241,
		-238,
		-233,
		-231,
		-225,
		-222,
		-307,
		9,
		15,
		18,
		-256,
		-247,
		-32,
		-240,
		-239,
		-224, /* boundaries: keep */
		0,    /* Raw: keep */
		INT32_MIN,
		INT32_MAX,
		-1,
	};
	static const int32_t expect[] = {
		7, 16, -23, 1, -223, -256, -247, -32, -240, -239, -224, 0
	};
	const size_t n_in = sizeof in / sizeof in[0];
	const size_t n_expect = sizeof expect / sizeof expect[0];
	uint8_t buf[4 + 4 * 64];
	size_t len = set_encodings(buf, in, n_in);
	struct rfb_filter f;
	struct rfb_step out;
	handshake(&f, false, 0);
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_REWRITE);
	cr_assert_eq(out.verdict, RFB_REWRITE);
	cr_assert_eq(out.len, len);
	cr_assert_eq(out.rewritten_len, 4 + 4 * n_expect);
	cr_assert_eq(out.rewritten[0], 2);
	cr_assert_eq(out.rewritten[1], 0);
	cr_assert_eq(out.rewritten[2] << 8 | out.rewritten[3], (int)n_expect);
	for (size_t i = 0; i < n_expect; i++)
		cr_assert_eq(get_s32(out.rewritten + 4 + 4 * i), expect[i], "entry %zu", i);
	cr_assert_eq(f.messages, 4);
}

Test(rfb_filter, set_encodings_all_dropped_becomes_empty)
{
	static const int32_t in[] = { -312, -313, -309, ENC_EXT_CLIPBOARD };
	uint8_t buf[4 + 4 * 4];
	size_t len = set_encodings(buf, in, 4);
	struct rfb_filter f;
	struct rfb_step out;
	handshake(&f, false, 0);
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_REWRITE);
	cr_assert_eq(out.len, len);
	cr_assert_eq(out.rewritten_len, 4);
	cr_assert_eq(memcmp(out.rewritten, "\x02\x00\x00\x00", 4), 0);
}

Test(rfb_filter, set_encodings_padding_is_normalised)
{
	static const int32_t in[] = { 0, 1 };
	uint8_t buf[12];
	size_t len = set_encodings(buf, in, 2);
	buf[1] = 0x5a;
	struct rfb_filter f;
	struct rfb_step out;
	handshake(&f, false, 0);
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_REWRITE);
	cr_assert_eq(out.rewritten_len, len);
	cr_assert_eq(out.rewritten[1], 0);
	cr_assert_eq(memcmp(out.rewritten + 2, buf + 2, len - 2), 0);
}

Test(rfb_filter, cut_text_is_dropped_when_the_policy_is_off)
{
	struct rfb_filter f;
	struct rfb_step out;
	uint8_t buf[16];
	size_t len = cut_text(buf, 5, "hello");
	handshake(&f, false, 1024);
	for (size_t k = 1; k < len; k++)
		cr_assert_eq(rfb_filter_step(&f, buf, k, &out), RFB_NEED_MORE, "prefix %zu", k);
	/* read whole, not forwarded, not a violation: the session goes on */
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_DROP);
	cr_assert_eq(out.len, len);
	cr_assert_eq(out.cut, RFB_CUT_LATIN1);
	cr_assert_str_eq(out.reason, "ClientCutText refused: clipboard disabled by policy");
	cr_assert_eq(f.messages, 4);
	cr_assert_eq(f.phase, RFB_PHASE_NORMAL);
	/* over the cap it is still a violation, on the header */
	cut_text(buf, 1025, NULL);
	cr_assert_eq(rfb_filter_step(&f, buf, 8, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "ClientCutText of 1025 bytes exceeds cap 1024");
}

Test(rfb_filter, cut_text_allowed_under_cap)
{
	struct rfb_filter f;
	struct rfb_step out;
	uint8_t buf[64];
	size_t len = cut_text(buf, 5, "hello");
	handshake(&f, true, 5);
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_PASS, "%s", out.reason);
	cr_assert_eq(out.len, 13);
	len = cut_text(buf, 0, NULL);
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_PASS);
	cr_assert_eq(out.len, 8);
	/* cap 0 with clipboard on: only empty texts. */
	handshake(&f, true, 0);
	cr_assert_eq(rfb_filter_step(&f, buf, 8, &out), RFB_PASS);
}

Test(rfb_filter, cut_text_over_cap_is_rejected_on_the_header)
{
	struct rfb_filter f;
	struct rfb_step out;
	uint8_t buf[64];
	handshake(&f, true, 16);
	cut_text(buf, 17, NULL);
	cr_assert_eq(rfb_filter_step(&f, buf, 8, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "ClientCutText of 17 bytes exceeds cap 16");
	cut_text(buf, 0x7fffffff, NULL);
	cr_assert_eq(rfb_filter_step(&f, buf, 8, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "ClientCutText of 2147483647 bytes exceeds cap 16");
	/* 0x00 0x00 0x01 .. is at least 256 already: no need to wait. */
	cut_text(buf, 0x100, NULL);
	cr_assert_eq(rfb_filter_step(&f, buf, 7, &out), RFB_REJECT);
	cr_assert_eq(rfb_filter_step(&f, buf, 6, &out), RFB_NEED_MORE);
	cr_assert_eq(f.messages, 3);
}

/* An extended-clipboard ClientCutText: length -(4 + n), flags, n payload bytes. */
static size_t ext_cut_text(uint8_t *dst, uint32_t flags, const uint8_t *payload, size_t n)
{
	dst[0] = 6;
	dst[1] = dst[2] = dst[3] = 0;
	put_u32(dst + 4, (uint32_t)(0u - (uint32_t)(4 + n)));
	put_u32(dst + 8, flags);
	memcpy(dst + 12, payload, n);
	return 12 + n;
}

Test(rfb_filter, extended_cut_text_too_big_is_rejected_on_the_header)
{
	/* sizes 2^31, 0x3ffffff0, 2^31 - 1 and 0x7f000001 against a cap of 1024 */
	static const uint32_t lens[] = { 0x80000000u, 0xc0000010u, 0x80000001u, 0x81000000u };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		uint8_t buf[16];
		handshake(&f, true, 1024);
		cut_text(buf, lens[i], NULL);
		cr_assert_eq(rfb_filter_step(&f, buf, 4, &out), RFB_NEED_MORE);
		/* byte 4 already makes it bigger than the cap allows */
		for (size_t k = 5; k <= 12; k++) {
			cr_assert_eq(rfb_filter_step(&f, buf, k, &out), RFB_REJECT,
				     "len %08x prefix %zu", lens[i], k);
			cr_assert_not_null(strstr(out.reason, "extended ClientCutText of"), "%s",
					   out.reason);
			cr_assert_not_null(strstr(out.reason, "exceeds cap 1092"), "%s",
					   out.reason);
		}
		cr_assert_eq(f.messages, 3);
	}
	/* fewer than the 4 bytes of flags */
	struct rfb_filter f;
	struct rfb_step out;
	uint8_t buf[16];
	handshake(&f, true, 1024);
	cut_text(buf, 0xffffffffu, NULL);
	cr_assert_eq(rfb_filter_step(&f, buf, 7, &out), RFB_NEED_MORE);
	cr_assert_eq(rfb_filter_step(&f, buf, 8, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "extended ClientCutText of 1 bytes has no flags");
}

Test(rfb_filter, extended_provide_of_text_passes_with_its_stream)
{
	struct rfb_filter f;
	struct rfb_step out;
	uint8_t buf[64];
	const uint8_t z[] = { 0x78, 0x9c, 1, 2, 3, 4, 5 };
	size_t len = ext_cut_text(buf, RFB_EXT_CLIP_PROVIDE | RFB_EXT_CLIP_TEXT, z, sizeof z);
	handshake(&f, true, 16);
	for (size_t k = 1; k < len; k++)
		cr_assert_eq(rfb_filter_step(&f, buf, k, &out), RFB_NEED_MORE, "prefix %zu", k);
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_PASS, "%s", out.reason);
	cr_assert_eq(out.len, len);
	cr_assert_eq(out.cut, RFB_CUT_PROVIDE);
	cr_assert_eq(out.cut_off, 12);
	cr_assert_eq(out.cut_len, sizeof z);
	cr_assert_eq(f.messages, 4);
	/* the stream's cap: the text cap plus deflate's worst case */
	cr_assert_eq(RFB_FILTER_EXT_CUT_MAX(16), 80);
	cr_assert_geq(rfb_filter_max_message(&f), 8 + 80);
}

Test(rfb_filter, other_extended_actions_and_formats_are_dropped)
{
	static const uint32_t flags[] = {
		0x01000001u, /* Caps */
		0x02000001u, /* Request */
		0x04000000u, /* Peek */
		0x08000001u, /* Notify */
		0x10000003u, /* Provide of text and RTF */
		0x10000004u, /* Provide of HTML */
		0x10000011u, /* Provide of text and files */
		0x11000001u, /* Provide and Caps */
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		uint8_t buf[64];
		size_t len = ext_cut_text(buf, flags[i], (const uint8_t *)"abcd", 4);
		handshake(&f, true, 1024);
		cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_DROP, "flags %08x", flags[i]);
		cr_assert_eq(out.len, len);
		cr_assert_eq(out.cut, RFB_CUT_NONE);
		cr_assert_not_null(strstr(out.reason, "extended clipboard flags"), "%s",
				   out.reason);
		cr_assert_eq(f.messages, 4);
	}
	/* a Provide of text with the policy off: dropped as clipboard text */
	struct rfb_filter f;
	struct rfb_step out;
	uint8_t buf[64];
	size_t len = ext_cut_text(buf, RFB_EXT_CLIP_PROVIDE | RFB_EXT_CLIP_TEXT,
				  (const uint8_t *)"abcd", 4);
	handshake(&f, false, 1024);
	cr_assert_eq(rfb_filter_step(&f, buf, len, &out), RFB_DROP);
	cr_assert_eq(out.cut, RFB_CUT_PROVIDE);
	cr_assert_str_eq(out.reason, "ClientCutText refused: clipboard disabled by policy");
}

Test(rfb_filter, bad_pixel_formats_are_rejected)
{
	static const struct {
		const char *name;
		size_t offset;
		uint8_t value;
	} cases[] = {
		{ "bpp 0", 4, 0 },
		{ "bpp 1", 4, 1 },
		{ "bpp 7", 4, 7 },
		{ "bpp 15", 4, 15 },
		{ "bpp 24", 4, 24 },
		{ "bpp 64", 4, 64 },
		{ "bpp 255", 4, 255 },
		{ "depth 0", 5, 0 },
		{ "depth 33", 5, 33 },
		{ "depth 255", 5, 255 },
		{ "colour map", 7, 0 },
		{ "true colour 2", 7, 2 },
		{ "true colour 255", 7, 255 },
		{ "red shift 32", 14, 32 },
		{ "green shift 200", 15, 200 },
		{ "blue shift 255", 16, 255 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t buf[20];
		set_pixel_format(buf, 32, 24, 1);
		buf[cases[i].offset] = cases[i].value;
		struct rfb_filter f;
		struct rfb_step out;
		handshake(&f, false, 0);
		/* NEED_MORE up to the bad byte, REJECT from it on. */
		for (size_t k = 1; k <= 20; k++) {
			enum rfb_verdict v = rfb_filter_step(&f, buf, k, &out);
			if (k <= cases[i].offset)
				cr_assert_eq(v, RFB_NEED_MORE, "%s prefix %zu", cases[i].name, k);
			else
				assert_rejected(&out, cases[i].name);
		}
		cr_assert_not_null(strstr(out.reason, "SetPixelFormat"), "%s", out.reason);
		cr_assert_eq(f.messages, 3);
	}
}

Test(rfb_filter, only_the_pixel_formats_viewers_use_pass_and_padding_is_zeroed)
{
	static const struct {
		const char *name;
		uint8_t bpp, depth;
		uint16_t max;
		uint8_t shifts[3];
	} refused[] = {
		{ "32/32", 32, 32, 255, { 16, 8, 0 } },
		{ "32/24 shifts 24,16,8", 32, 24, 255, { 24, 16, 8 } },
		{ "32/24 max 127", 32, 24, 127, { 16, 8, 0 } },
		{ "8/1", 8, 1, 1, { 0, 0, 0 } },
		{ "16/16 max 255", 16, 16, 255, { 11, 5, 0 } },
		{ "32/24 shifts 16,16,16", 32, 24, 255, { 16, 16, 16 } },
	};
	uint8_t buf[20];
	struct rfb_filter f;
	struct rfb_step out;

	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		set_pixel_format(buf, refused[i].bpp, refused[i].depth, 1);
		put_u16(buf + 8, refused[i].max);
		put_u16(buf + 10, refused[i].max);
		put_u16(buf + 12, refused[i].max);
		memcpy(buf + 14, refused[i].shifts, 3);
		handshake(&f, false, 0);
		rfb_filter_step(&f, buf, sizeof buf, &out);
		assert_rejected(&out, refused[i].name);
		cr_assert(strstr(out.reason, "not a format viewers use"), "%s", out.reason);
	}
	/* a known format with junk in the padding and byte order 7: rewritten */
	set_pixel_format(buf, 32, 24, 1);
	buf[1] = 0xAA;
	buf[6] = 7;
	buf[19] = 0x55;
	handshake(&f, false, 0);
	cr_assert_eq(rfb_filter_step(&f, buf, sizeof buf, &out), RFB_REWRITE);
	cr_assert_eq(out.len, 20);
	cr_assert_eq(out.rewritten_len, 20);
	cr_assert(out.rewritten[1] == 0 && out.rewritten[6] == 1 && out.rewritten[19] == 0);
	cr_assert(memcmp(out.rewritten + 4, buf + 4, 2) == 0 &&
		  memcmp(out.rewritten + 7, buf + 7, 10) == 0);
}

Test(rfb_filter, fb_update_request_incremental_must_be_boolean)
{
	struct rfb_filter f;
	struct rfb_step out;
	handshake(&f, false, 0);
	for (unsigned flag = 2; flag < 256; flag++) {
		uint8_t buf[10] = { 3, (uint8_t)flag, 0, 0, 0, 0, 0, 16, 0, 16 };
		cr_assert_eq(rfb_filter_step(&f, buf, 2, &out), RFB_REJECT, "flag %u", flag);
		cr_assert_eq(rfb_filter_step(&f, buf, 10, &out), RFB_REJECT, "flag %u", flag);
	}
	cr_assert_eq(f.messages, 3);
}

/* Every prefix of a hostile message: NEED_MORE, then REJECT for good. */
Test(rfb_filter, hostile_prefixes_never_flip_back)
{
	struct msg m[16];
	size_t n = 0;
	int32_t zeros[RFB_FILTER_MAX_ENCODINGS + 1] = { 0 };
	m[n].name = "SetEncodings 65";
	m[n].len = set_encodings(m[n].bytes, zeros, RFB_FILTER_MAX_ENCODINGS + 1);
	n++;
	m[n].name = "SetPixelFormat colour map";
	m[n].len = set_pixel_format(m[n].bytes, 8, 8, 0);
	n++;
	m[n].name = "ClientCutText over cap";
	m[n].len = cut_text(m[n].bytes, CUT_CAP + 1, "0123456789abcdefg");
	n++;
	m[n].name = "ClientCutText negative";
	m[n].len = cut_text(m[n].bytes, 0x80000005, "hello");
	n++;
	m[n].name = "FramebufferUpdateRequest flag 2";
	m[n].len = 10;
	memcpy(m[n].bytes, "\x03\x02\x00\x00\x00\x00\x00\x10\x00\x10", 10);
	n++;
	m[n].name = "TextChat";
	m[n].len = 8;
	memcpy(m[n].bytes, "\x0b\x00\x00\x00\xff\xff\xff\xff", 8);
	n++;
	m[n].name = "SetDesktopSize";
	m[n].len = 8;
	memcpy(m[n].bytes, "\xfb\x00\x04\x00\x03\x00\x01\x00", 8);
	n++;
	for (size_t i = 0; i < n; i++) {
		struct rfb_filter f;
		struct rfb_step out;
		handshake(&f, true, CUT_CAP);
		bool rejected = false;
		for (size_t k = 1; k <= m[i].len; k++) {
			enum rfb_verdict v = rfb_filter_step(&f, m[i].bytes, k, &out);
			cr_assert(v == RFB_NEED_MORE || v == RFB_REJECT,
				  "%s prefix %zu: verdict %d", m[i].name, k, v);
			if (rejected)
				cr_assert_eq(v, RFB_REJECT, "%s prefix %zu: rejection undone",
					     m[i].name, k);
			if (v == RFB_REJECT)
				rejected = true;
			if (v == RFB_NEED_MORE)
				cr_assert_lt(k, rfb_filter_max_message(&f), "%s prefix %zu",
					     m[i].name, k);
		}
		cr_assert(rejected, "%s never rejected", m[i].name);
		assert_rejected(&out, m[i].name);
		cr_assert_eq(f.messages, 3);
	}
}

Test(rfb_filter, back_to_back_messages_are_stepped_one_by_one)
{
	uint8_t buf[512];
	size_t len = 0;
	size_t lens[16];
	enum rfb_verdict verdicts[16];
	size_t n = 0;

	memcpy(buf, handshake_bytes, HANDSHAKE_LEN);
	lens[n] = 12, verdicts[n++] = RFB_PASS;
	lens[n] = 1, verdicts[n++] = RFB_PASS;
	lens[n] = 1, verdicts[n++] = RFB_PASS;
	len = HANDSHAKE_LEN;
	len += set_pixel_format(buf + len, 32, 24, 1);
	lens[n] = 20, verdicts[n++] = RFB_PASS;
	static const int32_t encs[] = { 16, -312, 0, -223 };
	len += set_encodings(buf + len, encs, 4);
	lens[n] = 20, verdicts[n++] = RFB_REWRITE;
	memcpy(buf + len, "\x03\x00\x00\x00\x00\x00\x04\x00\x03\x00", 10);
	len += 10;
	lens[n] = 10, verdicts[n++] = RFB_PASS;
	memcpy(buf + len, "\x04\x01\x00\x00\x00\x00\x00\x61", 8);
	len += 8;
	lens[n] = 8, verdicts[n++] = RFB_PASS;
	memcpy(buf + len, "\x05\x00\x00\x10\x00\x20", 6);
	len += 6;
	lens[n] = 6, verdicts[n++] = RFB_PASS;
	len += cut_text(buf + len, 3, "abc");
	lens[n] = 11, verdicts[n++] = RFB_PASS;
	memcpy(buf + len, "\x03\x01\x00\x00\x00\x00\x04\x00\x03\x00", 10);
	len += 10;
	lens[n] = 10, verdicts[n++] = RFB_PASS;
	/* A partial PointerEvent, then nothing. */
	memcpy(buf + len, "\x05\x00\x00", 3);
	len += 3;

	struct rfb_filter f;
	struct rfb_step out;
	rfb_filter_init(&f, true, 64);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		enum rfb_verdict v = rfb_filter_step(&f, buf + off, len - off, &out);
		cr_assert_eq(v, verdicts[i], "message %zu: verdict %d (%s)", i, v, out.reason);
		cr_assert_eq(out.len, lens[i], "message %zu", i);
		off += out.len;
	}
	cr_assert_eq(f.messages, n);
	cr_assert_eq(rfb_filter_step(&f, buf + off, len - off, &out), RFB_NEED_MORE);
	cr_assert_eq(len - off, 3);

	/* The same stream, then a forbidden message: stops exactly there. */
	buf[len - 3] = 11;
	cr_assert_eq(rfb_filter_step(&f, buf + off, len - off, &out), RFB_REJECT);
	cr_assert_str_eq(out.reason, "message type 11 (TextChat) not allowed");
}

Test(rfb_filter, max_message_covers_every_acceptable_message)
{
	struct rfb_filter f;
	/* clipboard text within the cap is read whole even when it is dropped:
	   the extended form's stream may be a little longer than its text */
	rfb_filter_init(&f, false, 1 << 20);
	cr_assert_eq(rfb_filter_max_message(&f), 8 + (1 << 20) + (1 << 12) + 64);
	rfb_filter_init(&f, true, 0);
	cr_assert_eq(rfb_filter_max_message(&f), 4 + 4 * RFB_FILTER_MAX_ENCODINGS);
	rfb_filter_init(&f, true, 100);
	cr_assert_eq(rfb_filter_max_message(&f), 4 + 4 * RFB_FILTER_MAX_ENCODINGS);
	rfb_filter_init(&f, true, 1000);
	cr_assert_eq(rfb_filter_max_message(&f), 8 + 1000 + 3 + 64);
	rfb_filter_init(&f, true, UINT32_MAX);
	if (sizeof(size_t) > 4)
		cr_assert_eq((uint64_t)rfb_filter_max_message(&f),
			     (uint64_t)UINT32_MAX + UINT32_MAX / 256 + 64 + 8);
	else
		cr_assert_eq(rfb_filter_max_message(&f), SIZE_MAX);

	/* A message of exactly max_message bytes is accepted, one more is not:
	   plain text up to the cap, the extended form's stream up to its own. */
	static uint8_t big[8 + 1000 + 3 + 64 + 1];
	handshake(&f, true, 1000);
	struct rfb_step out;
	cut_text(big, 1000, NULL);
	memset(big + 8, 'x', 1000);
	cr_assert_eq(rfb_filter_step(&f, big, 1007, &out), RFB_NEED_MORE);
	cr_assert_eq(rfb_filter_step(&f, big, 1008, &out), RFB_PASS);
	cut_text(big, 1001, NULL);
	cr_assert_eq(rfb_filter_step(&f, big, 8, &out), RFB_REJECT);
	cut_text(big, (uint32_t)(0u - 1067u), NULL);
	put_u32(big + 8, RFB_EXT_CLIP_PROVIDE | RFB_EXT_CLIP_TEXT);
	cr_assert_eq(rfb_filter_step(&f, big, 8 + 1067 - 1, &out), RFB_NEED_MORE);
	cr_assert_eq(rfb_filter_step(&f, big, 8 + 1067, &out), RFB_PASS);
	cr_assert_eq(out.len, rfb_filter_max_message(&f));
	cut_text(big, (uint32_t)(0u - 1068u), NULL);
	cr_assert_eq(rfb_filter_step(&f, big, 8, &out), RFB_REJECT);
}
