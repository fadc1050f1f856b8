/*
 * fuzz_rfb_filter.c: libFuzzer target for the RFB client->server filter.
 *
 * Input: byte 0 configures the filter (bit 0 clipboard allowed, bit 1 start
 * in the NORMAL phase so the fuzzer need not rediscover the handshake, bit 2
 * clipboard cap UINT32_MAX instead of byte 1), byte 1 is the clipboard cap,
 * the rest is the viewer's stream. The target steps through the stream the
 * way the gateway does and checks, for every step:
 *   - the verdict is one of the five and matches out->verdict;
 *   - PASS/REWRITE/DROP consume 1 .. remaining bytes, at most max_message, count
 *     one message, and the same message alone (no trailing bytes) gives the
 *     same answer while every shorter prefix of it gives NEED_MORE;
 *   - REWRITE output fits out->rewritten, is a SetEncodings whose count
 *     matches its length or the same SetPixelFormat with its padding zeroed
 *     and byte order 0/1, and passes the filter unchanged when fed back;
 *   - NEED_MORE and REJECT leave the filter state untouched; NEED_MORE only
 *     for fewer than max_message bytes, and every shorter prefix is NEED_MORE;
 *   - REJECT and DROP carry a non-empty NUL-terminated reason; DROP is only
 *     for a ClientCutText;
 *   - a passed ClientCutText's payload (cut_off, cut_len) ends the message.
 *     Only text within the cap passes: plain, or an extended Provide of
 *     text whose stream is within RFB_FILTER_EXT_CUT_MAX.
 * Failures abort(), so they fire even when built with -DNDEBUG.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfb_filter.h"

/* Longest message whose every prefix is re-checked (quadratic cost). */
#define FUZZ_PREFIX_CHECK_MAX 300

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_same_state(const struct rfb_filter *a, const struct rfb_filter *b)
{
	return a->phase == b->phase && a->allow_cut_text == b->allow_cut_text &&
	    a->max_cut_text_bytes == b->max_cut_text_bytes && a->messages == b->messages;
}

static enum rfb_verdict fuzz_step(struct rfb_filter *f, const uint8_t *buf, size_t len,
				  struct rfb_step *out)
{
	/* Poison the result so a field the filter forgets to set shows up. */
	memset(out, 0xa5, sizeof *out);
	bool was_normal = f->phase == RFB_PHASE_NORMAL;
	enum rfb_verdict v = rfb_filter_step(f, buf, len, out);
	CHECK(v == RFB_NEED_MORE || v == RFB_PASS || v == RFB_REWRITE || v == RFB_REJECT ||
	      v == RFB_DROP);
	CHECK(out->verdict == v);
	if (v == RFB_DROP)
		CHECK(was_normal && len > 0 && buf[0] == 6);
	if (v == RFB_PASS && was_normal && buf[0] == 6) {
		CHECK(out->cut == RFB_CUT_LATIN1 || out->cut == RFB_CUT_PROVIDE);
		CHECK(out->cut_off + out->cut_len == out->len);
		CHECK(f->allow_cut_text);
		if (out->cut == RFB_CUT_LATIN1)
			CHECK(out->cut_len <= f->max_cut_text_bytes);
		else
			CHECK(out->cut_len + 4 <= RFB_FILTER_EXT_CUT_MAX(f->max_cut_text_bytes));
	}
	if (v == RFB_REJECT || v == RFB_DROP) {
		CHECK(memchr(out->reason, '\0', sizeof out->reason) != NULL);
		CHECK(out->reason[0] != '\0');
	}
	if (v == RFB_REWRITE)
		CHECK(out->rewritten_len <= sizeof out->rewritten);
	return v;
}

/* Every prefix shorter than len of buf must be NEED_MORE from state f. */
static void fuzz_check_prefixes(const struct rfb_filter *f, const uint8_t *buf, size_t len)
{
	size_t limit = len < FUZZ_PREFIX_CHECK_MAX ? len : FUZZ_PREFIX_CHECK_MAX;
	for (size_t k = 0; k < limit; k++) {
		struct rfb_filter g = *f;
		struct rfb_step out;
		CHECK(fuzz_step(&g, buf, k, &out) == RFB_NEED_MORE);
		CHECK(fuzz_same_state(&g, f));
	}
	if (len > limit) {
		struct rfb_filter g = *f;
		struct rfb_step out;
		CHECK(fuzz_step(&g, buf, len - 1, &out) == RFB_NEED_MORE);
	}
}

static void fuzz_check_rewrite(const struct rfb_step *out, const uint8_t *in)
{
	CHECK(out->rewritten_len >= 4);
	CHECK(out->rewritten_len <= out->len);
	if (out->rewritten[0] == 0) {
		/* SetPixelFormat: the same format, padding zeroed, byte order 0 or 1 */
		CHECK(out->rewritten_len == 20 && out->len == 20 && in[0] == 0);
		for (size_t i = 1; i < 4; i++)
			CHECK(out->rewritten[i] == 0 && out->rewritten[16 + i] == 0);
		CHECK(out->rewritten[6] == (in[6] != 0));
		CHECK(memcmp(out->rewritten + 4, in + 4, 2) == 0);
		CHECK(memcmp(out->rewritten + 7, in + 7, 10) == 0);
	} else {
		CHECK(out->rewritten[0] == 2);
		CHECK(out->rewritten[1] == 0);
		size_t count = (size_t)out->rewritten[2] << 8 | out->rewritten[3];
		CHECK(count <= RFB_FILTER_MAX_ENCODINGS);
		CHECK(out->rewritten_len == 4 + 4 * count);
	}

	/* Filtering the filter's own output changes nothing. */
	struct rfb_filter g;
	struct rfb_step again;
	rfb_filter_init(&g, false, 0);
	g.phase = RFB_PHASE_NORMAL;
	CHECK(fuzz_step(&g, out->rewritten, out->rewritten_len, &again) == RFB_PASS);
	CHECK(again.len == out->rewritten_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t cfg = data[0];
	uint32_t cap = (cfg & 4) != 0 ? UINT32_MAX : data[1];
	struct rfb_filter f;
	rfb_filter_init(&f, (cfg & 1) != 0, cap);
	if ((cfg & 2) != 0)
		f.phase = RFB_PHASE_NORMAL;
	data += 2;
	size -= 2;

	size_t off = 0;
	for (;;) {
		const uint8_t *buf = data + off;
		size_t left = size - off;
		struct rfb_filter before = f;
		struct rfb_step out;
		enum rfb_verdict v = fuzz_step(&f, buf, left, &out);

		if (v == RFB_NEED_MORE) {
			CHECK(fuzz_same_state(&f, &before));
			CHECK(left < rfb_filter_max_message(&f));
			fuzz_check_prefixes(&before, buf, left);
			break;
		}
		if (v == RFB_REJECT) {
			CHECK(fuzz_same_state(&f, &before));
			break;
		}

		/* PASS, REWRITE or DROP. */
		CHECK(out.len >= 1);
		CHECK(out.len <= left);
		CHECK(out.len <= rfb_filter_max_message(&before));
		CHECK(f.messages == before.messages + 1);
		CHECK(f.phase >= before.phase);
		if (v == RFB_PASS || v == RFB_DROP)
			CHECK(out.rewritten_len == 0);
		else
			fuzz_check_rewrite(&out, buf);

		/* The message alone gives the same answer as with bytes after it. */
		struct rfb_filter g = before;
		struct rfb_step alone;
		CHECK(fuzz_step(&g, buf, out.len, &alone) == v);
		CHECK(alone.len == out.len);
		CHECK(alone.rewritten_len == out.rewritten_len);
		CHECK(memcmp(alone.rewritten, out.rewritten, out.rewritten_len) == 0);
		CHECK(fuzz_same_state(&g, &f));
		fuzz_check_prefixes(&before, buf, out.len);

		off += out.len;
	}
	return 0;
}
