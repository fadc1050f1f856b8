/*
 * fuzz_proxy_v2.c: libFuzzer target for proxy/common/proxy_v2.c, the PROXY
 * protocol v2 header parser (the first bytes of every staff connection when
 * proxy_protocol is on) and the proxy_trusted list parser.
 *
 * Input byte 0 bit 0 picks the trusted-list parser (the rest as text);
 * otherwise the rest is the start of a connection and bits 1..3 pick a
 * `why` buffer of 0, 1, 8, 40 or 128 bytes. Invariants, each an abort():
 *  - OK: 16 <= length <= PROXY_V2_MAX_LEN and length <= the bytes given; a
 *    client address only for AF_INET/AF_INET6, and it has a text form;
 *  - NEED_MORE: need > the bytes given, need <= PROXY_V2_MAX_LEN;
 *  - BAD: a non-empty reason, NUL-terminated within its buffer, printable;
 *    out and need untouched;
 *  - the gateway's way of reading (16 bytes, then exactly what the parser
 *    asks for) never reads past the header, and reaches the same verdict
 *    (and the same header) as the whole input at once;
 *  - the why buffer's size never changes the verdict;
 *  - a trusted list is accepted with at most PROXY_V2_TRUST_MAX entries of
 *    sane prefixes, each of which trusts its own address; a refused one is
 *    empty with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy_v2.h"

static void check_why(const char *why, size_t len)
{
	const char *end = memchr(why, '\0', len);
	if (end == NULL || end == why)
		abort();
	for (const char *p = why; p < end; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

static void fuzz_trust(const uint8_t *data, size_t size)
{
	char text[2048];
	if (size >= sizeof text)
		size = sizeof text - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	struct proxy_v2_trust t;
	char err[160];
	memset(err, 0xff, sizeof err);
	if (proxy_v2_trust_parse(text, &t, err, sizeof err) != 0) {
		check_why(err, sizeof err);
		if (t.n != 0)
			abort();
		return;
	}
	if (t.n > PROXY_V2_TRUST_MAX)
		abort();
	for (size_t i = 0; i < t.n; i++) {
		const struct proxy_v2_net *n = &t.net[i];
		if ((n->family == AF_INET && n->prefix > 32) ||
		    (n->family == AF_INET6 && n->prefix > 128) ||
		    (n->family != AF_INET && n->family != AF_INET6))
			abort();
		if (!proxy_v2_trusted(&t, n->family, n->addr))
			abort();
	}
}

static int same_header(const struct proxy_v2_header *a, const struct proxy_v2_header *b)
{
	return a->command == b->command && a->has_source == b->has_source &&
	    a->family == b->family && a->length == b->length && memcmp(a->src, b->src, 16) == 0 &&
	    a->src_port == b->src_port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t why_sizes[] = { 0, 1, 8, 40, 128, 128, 128, 128 };
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode & 1) {
		fuzz_trust(data, size);
		return 0;
	}
	size_t whylen = why_sizes[(mode >> 1) & 7];

	/* The whole input at once. */
	struct proxy_v2_header whole, h;
	memset(&whole, 0x5a, sizeof whole);
	size_t need = 0x5a5a;
	char why[PROXY_V2_WHY_LEN];
	memset(why, 0xff, sizeof why);
	enum proxy_v2_status st = proxy_v2_parse(size ? data : NULL, size, &whole, &need, why,
						 sizeof why);
	switch (st) {
	case PROXY_V2_OK: {
		if (whole.length < PROXY_V2_FIXED_LEN || whole.length > PROXY_V2_MAX_LEN ||
		    whole.length > size)
			abort();
		if (whole.has_source) {
			char text[PROXY_V2_ADDR_TEXT];
			if (whole.family != AF_INET && whole.family != AF_INET6)
				abort();
			if (proxy_v2_addr_text(whole.family, whole.src, text, sizeof text) != 0)
				abort();
		} else if (whole.family != AF_UNSPEC) {
			abort();
		}
		break;
	}
	case PROXY_V2_NEED_MORE:
		if (need <= size || need > PROXY_V2_MAX_LEN)
			abort();
		break;
	case PROXY_V2_BAD: {
		check_why(why, sizeof why);
		uint8_t pattern[sizeof whole];
		memset(pattern, 0x5a, sizeof pattern);
		if (memcmp(&whole, pattern, sizeof whole) != 0 || need != 0x5a5a)
			abort();
		break;
	}
	default:
		abort();
	}

	/* The why buffer's size does not change the verdict. */
	char small[PROXY_V2_WHY_LEN];
	memset(small, 0xff, sizeof small);
	if (proxy_v2_parse(size ? data : NULL, size, NULL, NULL, whylen ? small : NULL, whylen) !=
	    st)
		abort();
	if (st == PROXY_V2_BAD && whylen > 0 && memchr(small, '\0', whylen) == NULL)
		abort();

	/* The gateway's reader: 16 bytes, then exactly what is asked for. */
	size_t have = 0, want = PROXY_V2_FIXED_LEN;
	for (;;) {
		size_t take = want - have;
		if (take > size - have)
			take = size - have;
		have += take;
		size_t n2 = 0;
		enum proxy_v2_status r = proxy_v2_parse(have ? data : NULL, have, &h, &n2, NULL, 0);
		if (r == PROXY_V2_OK) {
			if (st != PROXY_V2_OK || h.length != have || !same_header(&h, &whole))
				abort();
			break;
		}
		if (r == PROXY_V2_BAD) {
			if (st != PROXY_V2_BAD)
				abort();
			break;
		}
		if (n2 <= have || n2 > PROXY_V2_MAX_LEN)
			abort();
		if (have == size) {
			if (st != PROXY_V2_NEED_MORE || n2 != need)
				abort();
			break;
		}
		want = n2;
	}
	return 0;
}
