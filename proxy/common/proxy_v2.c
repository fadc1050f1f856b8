/*
 * proxy_v2.c: the PROXY protocol v2 header parser and the trusted-balancer
 * list (see proxy_v2.h). Pure: no I/O, no allocation.
 *
 * Layout of a header (haproxy's doc/proxy-protocol.txt, section 2.2):
 *   0..11  signature \r\n\r\n\0\r\nQUIT\n
 *   12     version (high nibble, 2) and command (low nibble, 0 LOCAL, 1 PROXY)
 *   13     address family (high nibble) and transport (low nibble)
 *   14..15 length of what follows, big-endian
 *   16..   addresses (12 bytes for AF_INET, 36 for AF_INET6), then TLVs
 */
#include "proxy_v2.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t proxy_v2_sig[PROXY_V2_SIG_LEN] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
							0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

#define PROXY_V2_AF_UNSPEC 0x0
#define PROXY_V2_AF_INET 0x1
#define PROXY_V2_AF_INET6 0x2
#define PROXY_V2_AF_UNIX 0x3
#define PROXY_V2_STREAM 0x1
#define PROXY_V2_INET_LEN 12  /* src, dst (4 each), src port, dst port */
#define PROXY_V2_INET6_LEN 36 /* src, dst (16 each), ports */

static void proxy_v2_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

static void proxy_v2_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Name a wrong start of a connection, for the log. */
static const char *proxy_v2_guess(const uint8_t *buf, size_t len)
{
	if (len >= 6 && memcmp(buf, "PROXY ", 6) == 0)
		return "PROXY protocol v1 (text) header; only v2 is accepted (send-proxy-v2)";
	if (len >= 1 && buf[0] == 0x16)
		return "no PROXY protocol header (a TLS handshake came first)";
	if (len >= 1 && isupper(buf[0]))
		return "no PROXY protocol header (plain text, e.g. HTTP, came first)";
	return "no PROXY protocol v2 signature";
}

enum proxy_v2_status proxy_v2_parse(const uint8_t *buf, size_t len, struct proxy_v2_header *out,
				    size_t *need, char *why, size_t whylen)
{
	size_t sig = len < PROXY_V2_SIG_LEN ? len : PROXY_V2_SIG_LEN;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (sig > 0 && memcmp(buf, proxy_v2_sig, sig) != 0) {
		proxy_v2_why(why, whylen, "%s", proxy_v2_guess(buf, len));
		return PROXY_V2_BAD;
	}
	if (len >= 13) {
		unsigned version = buf[12] >> 4, command = buf[12] & 0x0f;
		if (version != 2) {
			proxy_v2_why(why, whylen, "PROXY protocol version %u (only 2 is accepted)",
				     version);
			return PROXY_V2_BAD;
		}
		if (command != PROXY_V2_LOCAL && command != PROXY_V2_PROXY) {
			proxy_v2_why(why, whylen, "unknown PROXY protocol command 0x%x", command);
			return PROXY_V2_BAD;
		}
	}
	if (len < PROXY_V2_FIXED_LEN) {
		if (need != NULL)
			*need = PROXY_V2_FIXED_LEN;
		return PROXY_V2_NEED_MORE;
	}
	unsigned command = buf[12] & 0x0f;
	unsigned family = buf[13] >> 4, transport = buf[13] & 0x0f;
	/* The length field is checked against the cap before it is used. */
	size_t body = ((size_t)buf[14] << 8) | buf[15];
	if (body > PROXY_V2_MAX_LEN - PROXY_V2_FIXED_LEN) {
		proxy_v2_why(why, whylen, "header of %zu bytes is over the cap of %d",
			     PROXY_V2_FIXED_LEN + body, PROXY_V2_MAX_LEN);
		return PROXY_V2_BAD;
	}
	size_t total = PROXY_V2_FIXED_LEN + body;
	bool has_source = false;
	if (command == PROXY_V2_PROXY) {
		if (family == PROXY_V2_AF_INET || family == PROXY_V2_AF_INET6) {
			if (transport != PROXY_V2_STREAM) {
				proxy_v2_why(why, whylen, "transport 0x%x is not STREAM (TCP)",
					     transport);
				return PROXY_V2_BAD;
			}
			size_t min = family == PROXY_V2_AF_INET ? PROXY_V2_INET_LEN
								: PROXY_V2_INET6_LEN;
			if (body < min) {
				proxy_v2_why(why, whylen,
					     "%s addresses need %zu bytes, the header has %zu",
					     family == PROXY_V2_AF_INET ? "AF_INET" : "AF_INET6",
					     min, body);
				return PROXY_V2_BAD;
			}
			has_source = true;
		} else if (family == PROXY_V2_AF_UNIX) {
			proxy_v2_why(why, whylen, "AF_UNIX addresses are not accepted");
			return PROXY_V2_BAD;
		} else if (family != PROXY_V2_AF_UNSPEC) {
			proxy_v2_why(why, whylen, "unknown address family 0x%x", family);
			return PROXY_V2_BAD;
		}
	}
	/* LOCAL: the address block, whatever it holds, is skipped (spec 2.2). */
	if (len < total) {
		if (need != NULL)
			*need = total;
		return PROXY_V2_NEED_MORE;
	}
	if (out == NULL)
		return PROXY_V2_OK;
	memset(out, 0, sizeof *out);
	out->command = command == PROXY_V2_PROXY ? PROXY_V2_PROXY : PROXY_V2_LOCAL;
	out->length = total;
	out->family = AF_UNSPEC;
	if (!has_source)
		return PROXY_V2_OK;
	const uint8_t *a = buf + PROXY_V2_FIXED_LEN;
	size_t alen = family == PROXY_V2_AF_INET ? 4 : 16;
	uint8_t src[16], dst[16];
	memcpy(src, a, alen);
	memcpy(dst, a + alen, alen);
	uint16_t sport = (uint16_t)((a[2 * alen] << 8) | a[2 * alen + 1]);
	uint16_t dport = (uint16_t)((a[2 * alen + 2] << 8) | a[2 * alen + 3]);
	out->has_source = true;
	out->family = family == PROXY_V2_AF_INET ? AF_INET : AF_INET6;
	/* An IPv4-mapped IPv6 client is an IPv4 client (one lockout key, one log form). */
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (out->family == AF_INET6 && memcmp(src, mapped, 12) == 0) {
		out->family = AF_INET;
		memmove(src, src + 12, 4);
		if (memcmp(dst, mapped, 12) == 0)
			memmove(dst, dst + 12, 4);
		else
			memset(dst, 0, sizeof dst); /* not expressible as IPv4: unknown */
		alen = 4;
	}
	memcpy(out->src, src, alen);
	memcpy(out->dst, dst, alen);
	out->src_port = sport;
	out->dst_port = dport;
	return PROXY_V2_OK;
}

int proxy_v2_addr_text(int family, const uint8_t *addr, char *buf, size_t len)
{
	char text[PROXY_V2_ADDR_TEXT];
	int f;
	uint8_t a[16];
	if (buf == NULL || len == 0)
		return -1;
	if (family == AF_INET6) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
		memcpy(&s6.sin6_addr, addr, 16);
		if (proxy_v2_sockaddr((const struct sockaddr *)&s6, sizeof s6, &f, a) != 0)
			goto fail;
	} else if (family == AF_INET) {
		f = AF_INET;
		memcpy(a, addr, 4);
	} else {
		goto fail;
	}
	if (inet_ntop(f, a, text, sizeof text) == NULL || strlen(text) >= len)
		goto fail;
	memcpy(buf, text, strlen(text) + 1);
	return 0;
fail:
	snprintf(buf, len, "?");
	return -1;
}

int proxy_v2_sockaddr(const struct sockaddr *sa, socklen_t salen, int *family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		*family = AF_INET;
		memset(addr, 0, 16);
		memcpy(addr, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = (const uint8_t *)&s6->sin6_addr;
		memset(addr, 0, 16);
		if (memcmp(b, mapped, 12) == 0) {
			*family = AF_INET;
			memcpy(addr, b + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, b, 16);
		}
		return 0;
	}
	return -1;
}

/* Parse one trimmed entry "addr[/prefix]" (len bytes of text, not NUL-terminated). */
static int proxy_v2_net_parse(const char *text, size_t len, struct proxy_v2_net *n)
{
	char s[PROXY_V2_ADDR_TEXT + 8];
	if (len == 0 || len >= sizeof s)
		return -1;
	memcpy(s, text, len);
	s[len] = '\0';
	char *slash = strchr(s, '/');
	long prefix = -1;
	if (slash != NULL) {
		*slash = '\0';
		const char *p = slash + 1;
		if (*p == '\0' || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p))
			return -1;
		prefix = strtol(p, NULL, 10);
	}
	uint8_t a[16] = { 0 };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, s, a) == 1) {
		if (prefix > 32)
			return -1;
		n->family = AF_INET;
		n->prefix = prefix < 0 ? 32 : (unsigned)prefix;
	} else if (inet_pton(AF_INET6, s, &s6.sin6_addr) == 1) {
		if (prefix > 128)
			return -1;
		int f = AF_INET6; /* set by the call; initialised for gcc -O2's warning */
		proxy_v2_sockaddr((const struct sockaddr *)&s6, sizeof s6, &f, a);
		n->family = f;
		n->prefix = prefix < 0 ? (f == AF_INET ? 32 : 128) : (unsigned)prefix;
		if (f == AF_INET && prefix >= 0) {
			if (prefix < 96)
				return -1; /* mixes IPv4-mapped and other IPv6 addresses */
			n->prefix = (unsigned)prefix - 96;
		}
	} else {
		return -1;
	}
	memcpy(n->addr, a, 16);
	return 0;
}

int proxy_v2_trust_parse(const char *text, struct proxy_v2_trust *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		return 0;
	const char *p = text;
	/* An all-blank text is the empty list. */
	if (p[strspn(p, " \t")] == '\0')
		return 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (t->n == PROXY_V2_TRUST_MAX) {
			snprintf(err, errlen, "more than %d addresses", PROXY_V2_TRUST_MAX);
			goto fail;
		}
		if (len == 0) {
			snprintf(err, errlen, "empty entry in the list");
			goto fail;
		}
		if (proxy_v2_net_parse(s, len, &t->net[t->n]) != 0) {
			char shown[61];
			size_t k = len < sizeof shown - 1 ? len : sizeof shown - 1;
			for (size_t i = 0; i < k; i++) /* the message goes to a terminal or log */
				shown[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
			shown[k] = '\0';
			snprintf(err, errlen,
				 "\"%s\" is not an IPv4 or IPv6 address (optionally /prefix)",
				 shown);
			goto fail;
		}
		t->n++;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
fail:
	memset(t, 0, sizeof *t);
	return -1;
}

bool proxy_v2_trusted(const struct proxy_v2_trust *t, int family, const uint8_t *addr)
{
	if (t == NULL || addr == NULL)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		const struct proxy_v2_net *n = &t->net[i];
		if (n->family != family)
			continue;
		unsigned whole = n->prefix / 8, rest = n->prefix % 8;
		if (memcmp(n->addr, addr, whole) != 0)
			continue;
		if (rest != 0) {
			uint8_t mask = (uint8_t)(0xff << (8 - rest));
			if ((n->addr[whole] & mask) != (addr[whole] & mask))
				continue;
		}
		return true;
	}
	return false;
}
