/*
 * test_proxy_v2.c: the PROXY protocol v2 header parser and the trusted list
 * as a balancer and an attacker see them. A valid header of each kind gives
 * the client's address and exactly its own length (TLVs skipped, nothing
 * after it looked at); every prefix of it asks for more, never for more than
 * the header and never past the cap; a table of hostile starts (TLS or HTTP
 * without a header, v1 text, wrong version or command, a length over the
 * cap, addresses shorter than their family, AF_UNIX, UDP) is refused with a
 * reason, as soon as the bytes that decide it are in. The [server] keys
 * proxy_protocol / proxy_trusted / max_connections_per_address: defaults,
 * refusals with file:line.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "proxy_v2.h"

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* A header: signature, ver_cmd, fam, length field, then body (blen bytes). */
static size_t mk(uint8_t *out, uint8_t ver_cmd, uint8_t fam, unsigned length_field,
		 const uint8_t *body, size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(length_field >> 8);
	out[15] = (uint8_t)length_field;
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

/* PROXY TCP4 src -> dst with ports, plus tlv_len bytes of TLVs. */
static size_t mk_v4(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		    size_t tlv_len)
{
	uint8_t body[12 + 600];
	cr_assert(tlv_len <= 600);
	cr_assert_eq(inet_pton(AF_INET, src, body), 1);
	cr_assert_eq(inet_pton(AF_INET, dst, body + 4), 1);
	body[8] = (uint8_t)(sport >> 8);
	body[9] = (uint8_t)sport;
	body[10] = (uint8_t)(dport >> 8);
	body[11] = (uint8_t)dport;
	for (size_t i = 0; i < tlv_len; i++)
		body[12 + i] = (uint8_t)(0xe0 + i); /* junk TLVs: never parsed */
	return mk(out, 0x21, 0x11, (unsigned)(12 + tlv_len), body, 12 + tlv_len);
}

static size_t mk_v6(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	uint8_t body[36];
	cr_assert_eq(inet_pton(AF_INET6, src, body), 1);
	cr_assert_eq(inet_pton(AF_INET6, dst, body + 16), 1);
	body[32] = (uint8_t)(sport >> 8);
	body[33] = (uint8_t)sport;
	body[34] = (uint8_t)(dport >> 8);
	body[35] = (uint8_t)dport;
	return mk(out, 0x21, 0x21, 36, body, 36);
}

static const char *src_text(const struct proxy_v2_header *h)
{
	static char buf[PROXY_V2_ADDR_TEXT];
	cr_assert_eq(proxy_v2_addr_text(h->family, h->src, buf, sizeof buf), 0);
	return buf;
}

/* Every strict prefix of a valid header asks for more, within the header. */
static void assert_prefixes_need_more(const uint8_t *buf, size_t total)
{
	for (size_t n = 0; n < total; n++) {
		size_t need = 0;
		struct proxy_v2_header h;
		char why[PROXY_V2_WHY_LEN] = "x";
		cr_assert_eq(proxy_v2_parse(n ? buf : NULL, n, &h, &need, why, sizeof why),
			     PROXY_V2_NEED_MORE, "prefix of %zu bytes", n);
		cr_assert_gt(need, n, "prefix %zu: need %zu", n, need);
		cr_assert_leq(need, total, "prefix %zu asks past the header: %zu > %zu", n, need,
			      total);
		cr_assert_eq(need, n < 16 ? 16 : total);
	}
}

Test(proxy_v2, tcp4_header_gives_the_client_and_exactly_its_length)
{
	uint8_t b[64];
	size_t n = mk_v4(b, "192.0.2.10", 54321, "10.0.0.1", 8443, 0);
	memset(b + n, 0x16, sizeof b - n); /* a TLS hello right behind: not looked at */
	struct proxy_v2_header h;
	size_t need = 0;
	char why[PROXY_V2_WHY_LEN];
	cr_assert_eq(proxy_v2_parse(b, sizeof b, &h, &need, why, sizeof why), PROXY_V2_OK, "%s",
		     why);
	cr_assert_eq(h.length, 28);
	cr_assert_eq(h.command, PROXY_V2_PROXY);
	cr_assert(h.has_source);
	cr_assert_eq(h.family, AF_INET);
	cr_assert_str_eq(src_text(&h), "192.0.2.10");
	cr_assert_eq(h.src_port, 54321);
	cr_assert_eq(h.dst_port, 8443);
	assert_prefixes_need_more(b, 28);
}

Test(proxy_v2, tcp6_header_gives_the_client)
{
	uint8_t b[64];
	size_t n = mk_v6(b, "2001:db8::10", 40000, "2001:db8::1", 443);
	cr_assert_eq(n, 52);
	struct proxy_v2_header h;
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	cr_assert_eq(h.length, 52);
	cr_assert_eq(h.family, AF_INET6);
	cr_assert_str_eq(src_text(&h), "2001:db8::10");
	cr_assert_eq(h.src_port, 40000);
	assert_prefixes_need_more(b, n);
}

Test(proxy_v2, ipv4_mapped_ipv6_client_is_an_ipv4_client)
{
	uint8_t b[64];
	size_t n = mk_v6(b, "::ffff:192.0.2.10", 1, "::ffff:10.0.0.1", 2);
	struct proxy_v2_header h;
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	cr_assert_eq(h.family, AF_INET);
	cr_assert_str_eq(src_text(&h), "192.0.2.10");
}

Test(proxy_v2, tlvs_are_skipped_and_counted_in_the_length)
{
	uint8_t b[PROXY_V2_MAX_LEN + 8];
	size_t n = mk_v4(b, "198.51.100.7", 1000, "10.0.0.1", 8443, 100);
	cr_assert_eq(n, 128);
	struct proxy_v2_header h;
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	cr_assert_eq(h.length, 128);
	cr_assert_str_eq(src_text(&h), "198.51.100.7");
	assert_prefixes_need_more(b, n);
	/* The largest header accepted: exactly the cap. */
	n = mk_v4(b, "198.51.100.7", 1000, "10.0.0.1", 8443, PROXY_V2_MAX_LEN - 28);
	cr_assert_eq(n, PROXY_V2_MAX_LEN);
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	cr_assert_eq(h.length, PROXY_V2_MAX_LEN);
}

Test(proxy_v2, local_and_unspec_keep_the_socket_address)
{
	uint8_t b[64], body[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct proxy_v2_header h;
	/* LOCAL, AF_UNSPEC, no body: what HAProxy's health checks send. */
	size_t n = mk(b, 0x20, 0x00, 0, NULL, 0);
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	cr_assert_eq(h.command, PROXY_V2_LOCAL);
	cr_assert_not(h.has_source);
	cr_assert_eq(h.length, 16);
	/* LOCAL with addresses, even AF_UNIX: the block is ignored. */
	n = mk(b, 0x20, 0x11, 12, body, 12);
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	cr_assert_not(h.has_source);
	cr_assert_eq(h.length, 28);
	n = mk(b, 0x20, 0x31, 12, body, 12);
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	/* PROXY with AF_UNSPEC: the connection's own address is used. */
	n = mk(b, 0x21, 0x00, 0, NULL, 0);
	cr_assert_eq(proxy_v2_parse(b, n, &h, NULL, NULL, 0), PROXY_V2_OK);
	cr_assert_eq(h.command, PROXY_V2_PROXY);
	cr_assert_not(h.has_source);
}

/* One hostile start: the bytes, and a word the reason must contain. */
struct hostile {
	const char *name;
	uint8_t bytes[40];
	size_t len;
	const char *why_has;
};

#define SIG 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a

static const struct hostile hostile[] = {
	{ "TLS ClientHello without a header", { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 }, 6, "TLS" },
	{ "TLS first byte alone", { 0x16 }, 1, "TLS" },
	{ "HTTP request without a header", "GET / HTTP/1.1\r\n", 16, "HTTP" },
	{ "PROXY v1 text", "PROXY TCP4 192.0.2.1 ", 21, "v1" },
	{ "signature wrong in its last byte",
	  { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0b },
	  12,
	  "signature" },
	{ "signature wrong in its first byte", { 0x0a }, 1, "signature" },
	{ "version 1 in binary", { SIG, 0x11 }, 13, "version 1" },
	{ "version 3", { SIG, 0x31 }, 13, "version 3" },
	{ "version 0", { SIG, 0x01 }, 13, "version 0" },
	{ "command 2", { SIG, 0x22 }, 13, "command" },
	{ "command 15", { SIG, 0x2f }, 13, "command" },
	{ "length 0xffff", { SIG, 0x21, 0x11, 0xff, 0xff }, 16, "cap" },
	{ "length one over the cap", { SIG, 0x21, 0x11, 0x02, 0x09 }, 16, "cap" },
	{ "length over the cap, LOCAL", { SIG, 0x20, 0x00, 0x80, 0x00 }, 16, "cap" },
	{ "AF_INET with 11 address bytes", { SIG, 0x21, 0x11, 0x00, 0x0b }, 16, "12 bytes" },
	{ "AF_INET with none", { SIG, 0x21, 0x11, 0x00, 0x00 }, 16, "12 bytes" },
	{ "AF_INET6 with 35 address bytes", { SIG, 0x21, 0x21, 0x00, 0x23 }, 16, "36 bytes" },
	{ "AF_INET6 with AF_INET's length", { SIG, 0x21, 0x21, 0x00, 0x0c }, 16, "36 bytes" },
	{ "AF_UNIX", { SIG, 0x21, 0x31, 0x00, 0xd8 }, 16, "AF_UNIX" },
	{ "family 4", { SIG, 0x21, 0x41, 0x00, 0x0c }, 16, "family" },
	{ "family 15", { SIG, 0x21, 0xf1, 0x00, 0x0c }, 16, "family" },
	{ "AF_INET over DGRAM", { SIG, 0x21, 0x12, 0x00, 0x0c }, 16, "STREAM" },
	{ "AF_INET6 with transport UNSPEC", { SIG, 0x21, 0x20, 0x00, 0x24 }, 16, "STREAM" },
	{ "AF_INET transport 15", { SIG, 0x21, 0x1f, 0x00, 0x0c }, 16, "STREAM" },
};

Test(proxy_v2, hostile_starts_are_refused_with_a_reason_as_soon_as_decided)
{
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		const struct hostile *t = &hostile[i];
		struct proxy_v2_header h;
		memset(&h, 0x5a, sizeof h);
		size_t need = 12345;
		char why[PROXY_V2_WHY_LEN];
		memset(why, 'x', sizeof why);
		cr_assert_eq(proxy_v2_parse(t->bytes, t->len, &h, &need, why, sizeof why),
			     PROXY_V2_BAD, "%s: not refused", t->name);
		cr_assert(memchr(why, '\0', sizeof why) != NULL, "%s: why unterminated", t->name);
		cr_assert(strstr(why, t->why_has) != NULL, "%s: why \"%s\" lacks \"%s\"", t->name,
			  why, t->why_has);
		cr_assert_eq(need, 12345, "%s: need changed on a refusal", t->name);
		uint8_t pattern[sizeof h];
		memset(pattern, 0x5a, sizeof pattern);
		cr_assert_eq(memcmp(&h, pattern, sizeof h), 0, "%s: out changed on a refusal",
			     t->name);
		/* A tiny why buffer: still refused, still terminated. */
		char small[1] = { 'x' };
		cr_assert_eq(proxy_v2_parse(t->bytes, t->len, NULL, NULL, small, sizeof small),
			     PROXY_V2_BAD, "%s", t->name);
		cr_assert_eq(small[0], '\0');
		cr_assert_eq(proxy_v2_parse(t->bytes, t->len, NULL, NULL, NULL, 0), PROXY_V2_BAD);
	}
}

Test(proxy_v2, the_cap_is_checked_before_waiting_for_the_bytes)
{
	uint8_t b[16];
	size_t need = 0;
	/* 16 + 520 = the cap: wait for exactly that much, no more. */
	mk(b, 0x21, 0x11, PROXY_V2_MAX_LEN - 16, NULL, 0);
	cr_assert_eq(proxy_v2_parse(b, 16, NULL, &need, NULL, 0), PROXY_V2_NEED_MORE);
	cr_assert_eq(need, PROXY_V2_MAX_LEN);
	/* One more: refused at 16 bytes, nothing more is read. */
	mk(b, 0x21, 0x11, PROXY_V2_MAX_LEN - 15, NULL, 0);
	cr_assert_eq(proxy_v2_parse(b, 16, NULL, &need, NULL, 0), PROXY_V2_BAD);
}

Test(proxy_v2, random_bytes_after_the_signature_never_ask_past_the_cap)
{
	uint8_t b[PROXY_V2_MAX_LEN + 64];
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		memcpy(b, sig, 12);
		for (size_t i = 12; i < sizeof b; i++)
			b[i] = (uint8_t)rand();
		if (round % 2)
			b[12] = (uint8_t)(0x20 | (b[12] & 1)); /* mostly valid version/command */
		size_t len = (size_t)rand() % sizeof b;
		size_t need = 0;
		struct proxy_v2_header h;
		char why[PROXY_V2_WHY_LEN];
		enum proxy_v2_status st = proxy_v2_parse(b, len, &h, &need, why, sizeof why);
		if (st == PROXY_V2_NEED_MORE) {
			cr_assert_gt(need, len);
			cr_assert_leq(need, PROXY_V2_MAX_LEN);
		} else if (st == PROXY_V2_OK) {
			cr_assert_leq(h.length, len);
			cr_assert_leq(h.length, PROXY_V2_MAX_LEN);
			cr_assert_geq(h.length, 16);
		} else {
			cr_assert_neq(why[0], '\0');
		}
	}
}

Test(proxy_v2, addr_text_normalises_and_refuses_small_buffers)
{
	uint8_t a[16];
	char buf[PROXY_V2_ADDR_TEXT];
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1", a), 1);
	cr_assert_eq(proxy_v2_addr_text(AF_INET6, a, buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "127.0.0.1");
	char tiny[4];
	cr_assert_eq(proxy_v2_addr_text(AF_INET6, a, tiny, sizeof tiny), -1);
	cr_assert_str_eq(tiny, "?");
	cr_assert_eq(proxy_v2_addr_text(AF_UNIX, a, buf, sizeof buf), -1);
}

/* ---- the trusted list ----------------------------------------------------- */

static bool trusted(const struct proxy_v2_trust *t, const char *addr)
{
	uint8_t a[16] = { 0 };
	if (inet_pton(AF_INET, addr, a) == 1)
		return proxy_v2_trusted(t, AF_INET, a);
	cr_assert_eq(inet_pton(AF_INET6, addr, a), 1, "%s", addr);
	return proxy_v2_trusted(t, AF_INET6, a);
}

Test(proxy_v2, trusted_list_matches_addresses_and_networks)
{
	struct proxy_v2_trust t;
	char err[160];
	cr_assert_eq(proxy_v2_trust_parse(" 127.0.0.1 , 10.0.0.0/8,172.16.0.0/12,\t2001:db8::/32 ,"
					  "::ffff:192.168.1.0/120",
					  &t, err, sizeof err),
		     0, "%s", err);
	cr_assert_eq(t.n, 5);
	cr_assert(trusted(&t, "127.0.0.1"));
	cr_assert_not(trusted(&t, "127.0.0.2"));
	cr_assert(trusted(&t, "10.255.1.2"));
	cr_assert_not(trusted(&t, "11.0.0.1"));
	cr_assert(trusted(&t, "172.31.255.255"));
	cr_assert_not(trusted(&t, "172.32.0.0"));
	cr_assert(trusted(&t, "2001:db8:ffff::1"));
	cr_assert_not(trusted(&t, "2001:db9::1"));
	cr_assert(trusted(&t, "192.168.1.77")); /* a mapped entry is an IPv4 network */
	cr_assert_not(trusted(&t, "192.168.2.1"));
	cr_assert_not(trusted(&t, "::1"));
	/* Every address of a family, and nothing of the other. */
	cr_assert_eq(proxy_v2_trust_parse("0.0.0.0/0", &t, err, sizeof err), 0);
	cr_assert(trusted(&t, "203.0.113.9"));
	cr_assert_not(trusted(&t, "2001:db8::1"));
	/* Empty: nobody. */
	cr_assert_eq(proxy_v2_trust_parse("  ", &t, err, sizeof err), 0);
	cr_assert_eq(t.n, 0);
	cr_assert_not(trusted(&t, "127.0.0.1"));
}

Test(proxy_v2, bad_trusted_lists_are_refused_naming_the_entry)
{
	static const char *const bad[] = {
		"10.0.0.1,",     ",10.0.0.1",    "10.0.0.1,,10.0.0.2", "10.0.0.0/33",
		"::/129",        "10.0.0.1/",    "10.0.0.1/ 8",        "balancer.example",
		"10.0.0.1/-1",   "1.2.3",        "10.0.0.1 10.0.0.2",  "::ffff:10.0.0.0/95",
		"10.0.0.1/0008", "fe80::1%eth0",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct proxy_v2_trust t;
		char err[160] = "";
		cr_assert_eq(proxy_v2_trust_parse(bad[i], &t, err, sizeof err), -1,
			     "\"%s\" accepted", bad[i]);
		cr_assert_neq(err[0], '\0');
		cr_assert_eq(t.n, 0);
	}
	/* More entries than the table holds. */
	char many[PROXY_V2_TRUST_MAX * 16 + 32] = "";
	for (int i = 0; i <= PROXY_V2_TRUST_MAX; i++) {
		char one[24];
		snprintf(one, sizeof one, "%s10.0.%d.%d", i ? "," : "", i / 200, i % 200);
		strcat(many, one);
	}
	struct proxy_v2_trust t;
	char err[160];
	cr_assert_eq(proxy_v2_trust_parse(many, &t, err, sizeof err), -1);
	cr_assert(strstr(err, "more than") != NULL, "%s", err);
}

/* ---- the [server] keys ---------------------------------------------------- */

Test(proxy_v2, config_defaults_are_off_and_32_connections)
{
	struct config c;
	config_defaults(&c);
	cr_assert_eq(c.proxy_protocol, false);
	cr_assert_str_eq(c.proxy_trusted, "");
	cr_assert_eq(c.max_connections_per_address, 32);
}

Test(proxy_v2, config_on_without_trusted_is_refused_at_its_line)
{
	struct config c;
	char err[512];
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "t.conf",
					 "[server]\nlisten_port = 9443\n"
					 "proxy_protocol = on\n",
					 err, sizeof err),
		     -1);
	cr_assert(strncmp(err, "t.conf:3: ", 10) == 0, "%s", err);
	cr_assert(strstr(err, "proxy_trusted") != NULL, "%s", err);
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "t.conf",
					 "[server]\nproxy_protocol = on\n"
					 "proxy_trusted = 10.0.0.5, 10.0.0.6\n"
					 "max_connections_per_address = 0\n",
					 err, sizeof err),
		     0, "%s", err);
	cr_assert(c.proxy_protocol);
	cr_assert_str_eq(c.proxy_trusted, "10.0.0.5, 10.0.0.6");
	cr_assert_eq(c.max_connections_per_address, 0);
	/* A list without the switch is accepted (and unused). */
	config_defaults(&c);
	cr_assert_eq(config_parse_string(&c, "t.conf", "[server]\nproxy_trusted = ::1\n", err,
					 sizeof err),
		     0, "%s", err);
}

Test(proxy_v2, config_bad_values_are_refused_with_file_and_line)
{
	static const struct {
		const char *text, *has;
	} bad[] = {
		{ "[server]\n\nproxy_trusted = 10.0.0.0/40\n", "t.conf:3: proxy_trusted: " },
		{ "[server]\nproxy_trusted = lb1.example\n", "t.conf:2: proxy_trusted: " },
		{ "[server]\nproxy_protocol = maybe\n", "t.conf:2: proxy_protocol" },
		{ "[server]\nmax_connections_per_address = -1\n",
		  "t.conf:2: max_connections_per_address" },
		{ "[server]\nmax_connections_per_address = many\n",
		  "t.conf:2: max_connections_per_address" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct config c;
		char err[512];
		config_defaults(&c);
		cr_assert_eq(config_parse_string(&c, "t.conf", bad[i].text, err, sizeof err), -1,
			     "%s", bad[i].text);
		cr_assert(strstr(err, bad[i].has) != NULL, "\"%s\" lacks \"%s\"", err, bad[i].has);
	}
}
