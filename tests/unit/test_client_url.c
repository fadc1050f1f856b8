/*
 * test_client_url.c: pgc_parse_server_url(), the server address of
 * pixelgate-viewer and pixelgatectl. The cases of the two parsers it
 * replaces (test_viewer_config.c's and test_ctl_conf.c's tables), each with
 * the exact message now, and what neither checked: labels of a host name,
 * all-numeric hosts that are not a dotted-quad IPv4 address, a trailing dot,
 * ports of more than five digits.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "client_url.h"

Test(client_url, https_host_port_addresses_are_accepted)
{
	static const struct {
		const char *url;
		int default_port;
		const char *host;
		int port;
	} cases[] = {
		/* test_viewer_config.c's */
		{ "https://pixelgate.example.lg.jp", 443, "pixelgate.example.lg.jp", 443 },
		{ "https://pixelgate.example.lg.jp:8443", 443, "pixelgate.example.lg.jp", 8443 },
		{ "https://pixelgate.example.lg.jp:8443/", 443, "pixelgate.example.lg.jp", 8443 },
		{ "https://pg/", 443, "pg", 443 },
		{ "HTTPS://PG.Example:443", 443, "PG.Example", 443 },
		{ "https://127.0.0.1:8443", 443, "127.0.0.1", 8443 },
		{ "https://[::1]:8443", 443, "::1", 8443 },
		{ "https://[2001:db8::10]", 443, "2001:db8::10", 443 },
		{ "https://[::ffff:192.0.2.1]:1/", 443, "::ffff:192.0.2.1", 1 },
		{ "https://pg.example:65535", 443, "pg.example", 65535 },
		{ "https://pg.example:08443", 443, "pg.example", 8443 },
		/* test_ctl_conf.c's, with pixelgatectl's default port */
		{ "https://127.0.0.1:8444", 8444, "127.0.0.1", 8444 },
		{ "HTTPS://pg.example.lg.jp", 8444, "pg.example.lg.jp", 8444 },
		{ "https://pg:1/", 8444, "pg", 1 },
		{ "https://[::1]:65535", 8444, "::1", 65535 },
		{ "https://[fe80::1]", 8444, "fe80::1", 8444 },
		/* host names and addresses at their limits */
		{ "https://pg-1.example", 443, "pg-1.example", 443 },
		{ "https://xn--eckwd4c7c.example.jp", 443, "xn--eckwd4c7c.example.jp", 443 },
		{ "https://1pg.example", 443, "1pg.example", 443 },
		{ "https://pg.example2", 443, "pg.example2", 443 },
		{ "https://255.255.255.255", 443, "255.255.255.255", 443 },
		{ "https://0.0.0.0:00001", 443, "0.0.0.0", 1 },
		{ "https://a23456789012345678901234567890123456789012345678901234567890123.jp", 443,
		  "a23456789012345678901234567890123456789012345678901234567890123.jp", 443 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char host[PGC_HOST_NAME_MAX + 1] = "", err[256] = "";
		int port = -1;
		cr_expect_eq(pgc_parse_server_url(cases[i].url, cases[i].default_port, host,
						  sizeof host, &port, err, sizeof err),
			     0, "%s: %s", cases[i].url, err);
		cr_expect_str_eq(host, cases[i].host, "%s", cases[i].url);
		cr_expect_eq(port, cases[i].port, "%s", cases[i].url);
	}
}

Test(client_url, a_host_name_of_253_characters_passes_and_254_do_not)
{
	char url[300], host[PGC_HOST_NAME_MAX + 1], err[256];
	int port = 0;
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memcpy(url, "https://", 8);
	memset(url + 8, 'a', 253);
	url[8 + 63] = url[8 + 127] = url[8 + 191] = '.';
	url[8 + 253] = '\0';
	cr_expect_eq(pgc_parse_server_url(url, 443, host, sizeof host, &port, err, sizeof err), 0,
		     "%s", err);
	cr_expect_eq(strlen(host), 253);
	memcpy(url + 8 + 253, "a", 2);
	cr_expect_eq(pgc_parse_server_url(url, 443, host, sizeof host, &port, err, sizeof err), -1);
	cr_expect_str_eq(err, "the host name is longer than 253 characters");
}

Test(client_url, hostile_addresses_are_refused_with_a_reason)
{
	char overlong[400], longhost[300];
	snprintf(overlong, sizeof overlong, "https://%0300d", 0);
	memset(longhost, 'a', sizeof longhost);
	memcpy(longhost, "https://", 8);
	longhost[8 + 254] = '\0';
	const struct {
		const char *url;
		const char *err;
	} cases[] = {
		/* test_viewer_config.c's (user@host: the hint "use user =" is the caller's) */
		{ "", "no server address" },
		{ "http://pg.example",
		  "http:// is not allowed: the connection must be encrypted (https://)" },
		{ "HTTP://pg.example:8443",
		  "http:// is not allowed: the connection must be encrypted (https://)" },
		{ "ftp://pg.example", "only https:// addresses are allowed" },
		{ "wss://pg.example", "only https:// addresses are allowed" },
		{ "pg.example:8443", "the address must start with https://" },
		{ "https:/pg.example", "the address must start with https://" },
		{ "https://", "no host name after https://" },
		{ "https://:8443", "no host name after https://" },
		{ "https:///path", "no host name after https://" },
		{ "https://::1:8443", "no host name after https://" },
		{ "https://pg.example:0", "port 0 is out of range 1..65535" },
		{ "https://pg.example:65536", "port 65536 is out of range 1..65535" },
		{ "https://pg.example:99999999999999999999999",
		  "port 9999999999999999 is out of range 1..65535" },
		{ "https://pg.example:abc", "port \"abc\" is not a number" },
		{ "https://pg.example:-1", "port \"-1\" is not a number" },
		{ "https://pg.example:+443", "port \"+443\" is not a number" },
		{ "https://pg.example:84 43",
		  "the address contains a space, a control character or a non-ASCII character" },
		{ "https://pg.example:", "no port number after \":\"" },
		{ "https://taro@pg.example",
		  "a user name in the address (user@host) is not allowed" },
		{ "https://taro:pw@pg.example:8443",
		  "a user name in the address (user@host) is not allowed" },
		{ "https://pg.example/login",
		  "a path (\"/login\") is not allowed: write https://host[:port]" },
		{ "https://pg.example//",
		  "a path (\"//\") is not allowed: write https://host[:port]" },
		{ "https://pg.example/?a=1",
		  "a path (\"/?a=1\") is not allowed: write https://host[:port]" },
		{ "https://pg.example?user=taro",
		  "a query (\"?user=taro\") is not allowed: write https://host[:port]" },
		{ "https://pg.example#top",
		  "a fragment (\"#top\") is not allowed: write https://host[:port]" },
		{ "https://pg example",
		  "the address contains a space, a control character or a non-ASCII character" },
		{ "https://pg.example\n",
		  "the address contains a space, a control character or a non-ASCII character" },
		{ "https://ｐｇ.example",
		  "the address contains a space, a control character or a non-ASCII character" },
		{ "https://-pg.example", "\"-pg.example\" is not a host name" },
		{ "https://.pg.example", "\".pg.example\" is not a host name" },
		{ "https://pg_example", "\"pg_example\" is not a host name" },
		{ "https://pg.example%2f", "\"pg.example%2f\" is not a host name" },
		{ "https://[::1", "an IPv6 address needs a closing ]" },
		{ "https://[::1/]", "an IPv6 address needs a closing ]" },
		{ "https://[]:8443", "\"\" is not an IPv6 address" },
		{ "https://[::1]x", "unexpected characters after the IPv6 address" },
		{ "https://[::1]]", "unexpected characters after the IPv6 address" },
		{ "https://[zz::1]", "\"zz::1\" is not an IPv6 address" },
		{ "https://[127.0.0.1]", "\"127.0.0.1\" is not an IPv6 address" },
		{ "https://[fe80::1%eth0]:8443", "\"fe80::1%eth0\" is not an IPv6 address" },
		{ "https://[::1]:0", "port 0 is out of range 1..65535" },
		{ overlong, "the address is longer than 268 characters" },
		{ longhost, "the host name is longer than 253 characters" },
		/* test_ctl_conf.c's */
		{ "http://pg:8444",
		  "http:// is not allowed: the connection must be encrypted (https://)" },
		{ "ftp://pg", "only https:// addresses are allowed" },
		{ "pg:8444", "the address must start with https://" },
		{ "https://pg:0", "port 0 is out of range 1..65535" },
		{ "https://pg:", "no port number after \":\"" },
		{ "https://pg:84a4", "port \"84a4\" is not a number" },
		{ "https://pg:8444/api",
		  "a path (\"/api\") is not allowed: write https://host[:port]" },
		{ "https://pg:8444?x",
		  "a query (\"?x\") is not allowed: write https://host[:port]" },
		{ "https://pg#x", "a fragment (\"#x\") is not allowed: write https://host[:port]" },
		{ "https://root@pg", "a user name in the address (user@host) is not allowed" },
		{ "https://p\xc3\xa9",
		  "the address contains a space, a control character or a non-ASCII character" },
		{ "https://pg_1", "\"pg_1\" is not a host name" },
		{ "https://[nothex]:1", "\"nothex\" is not an IPv6 address" },
		/* accepted by the viewer's parser before: more than five digits */
		{ "https://pg:0000008444", "port 0000008444 is out of range 1..65535" },
		/* accepted by both parsers before */
		{ "https://pg-1.example.", "\"pg-1.example.\" is not a host name" },
		{ "https://pg-.example", "\"pg-.example\" is not a host name" },
		{ "https://pg.-example", "\"pg.-example\" is not a host name" },
		{ "https://pg..example", "\"pg..example\" is not a host name" },
		{ "https://pg.123", "\"pg.123\" is not a host name" },
		{ "https://a234567890123456789012345678901234567890123456789012345678901234.jp",
		  "\"a234567890123456789012345678901234567890123456789012345678901234.jp\" is not a host name" },
		{ "https://999.1.1.1", "\"999.1.1.1\" is not an IPv4 address" },
		{ "https://1.2.3", "\"1.2.3\" is not an IPv4 address" },
		{ "https://010.0.0.1", "\"010.0.0.1\" is not an IPv4 address" },
		{ "https://127.0.0.1.", "\"127.0.0.1.\" is not an IPv4 address" },
		{ "https://2130706433", "\"2130706433\" is not an IPv4 address" },
		{ "https://1.2.3.4.5:8443", "\"1.2.3.4.5\" is not an IPv4 address" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char host[PGC_HOST_NAME_MAX + 1] = "untouched", err[256] = "";
		int port = -1;
		cr_expect_eq(pgc_parse_server_url(cases[i].url, 443, host, sizeof host, &port, err,
						  sizeof err),
			     -1, "accepted: %s", cases[i].url);
		cr_expect_str_eq(err, cases[i].err, "%s", cases[i].url);
		cr_expect_str_eq(host, "untouched", "%s", cases[i].url);
		cr_expect_eq(port, -1, "%s", cases[i].url);
	}
}

Test(client_url, a_host_that_does_not_fit_the_buffer_is_refused)
{
	char host[4] = "", err[256] = "";
	int port = 0;
	cr_expect_eq(pgc_parse_server_url("https://abcd:8443", 443, host, sizeof host, &port, err,
					  sizeof err),
		     -1);
	cr_expect_str_eq(err, "the host name is too long");
	cr_expect_eq(pgc_parse_server_url("https://abc:8443", 443, host, sizeof host, &port, err,
					  sizeof err),
		     0);
	cr_expect_str_eq(host, "abc");
	cr_expect_eq(port, 8443);
}
