/*
 * client_url.c: the server address of the staff tools (client_url.h).
 *
 * Formerly two parsers (pixelgatectl's and the viewer's) with different host
 * and port rules; this one takes the stricter of each, and checks what they
 * both let through: an all-numeric host must be a dotted-quad IPv4 address
 * (getaddrinfo() would take "1.2.3" or "010.1.1.1" for an address other than
 * the one written), and a host name is made of valid labels.
 */
#include "client_url.h"

#ifdef _WIN32
#include <ws2tcpip.h> /* inet_pton (ws2_32; needs no WSAStartup) */
#else
#include <arpa/inet.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest DNS label, characters. */
#define URL_LABEL_MAX 63

/* The error for what follows the host and port (a path, query or fragment);
   0 if nothing (or a lone "/") follows. */
static int url_rest(const char *rest, char *err, size_t errlen)
{
	if (rest[0] == '\0' || (rest[0] == '/' && rest[1] == '\0'))
		return 0;
	if (rest[0] == '/')
		snprintf(err, errlen, "a path (\"%s\") is not allowed: write https://host[:port]",
			 rest);
	else if (rest[0] == '?')
		snprintf(err, errlen, "a query (\"%s\") is not allowed: write https://host[:port]",
			 rest);
	else
		snprintf(err, errlen,
			 "a fragment (\"%s\") is not allowed: write https://host[:port]", rest);
	return -1;
}

static bool url_is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* True if h (hl characters, only letters, digits, '-' and '.') is made of
   valid labels and its last label is not all digits. */
static bool url_labels_valid(const char *h, size_t hl)
{
	size_t start = 0;
	while (start <= hl) {
		const char *dot = memchr(h + start, '.', hl - start);
		size_t end = dot != NULL ? (size_t)(dot - h) : hl;
		size_t len = end - start;
		if (len == 0 || len > URL_LABEL_MAX || h[start] == '-' || h[end - 1] == '-')
			return false;
		if (dot == NULL)
			return strspn(h + start, "0123456789") < len;
		start = end + 1;
	}
	return false; /* a trailing dot: an empty last label */
}

/* Checks the host name or IPv4 address h (hl > 0 characters). 0, or -1 + err. */
static int url_check_host(const char *h, size_t hl, char *err, size_t errlen)
{
	if (hl > PGC_HOST_NAME_MAX) {
		snprintf(err, errlen, "the host name is longer than %d characters",
			 PGC_HOST_NAME_MAX);
		return -1;
	}
	for (size_t i = 0; i < hl; i++) {
		if (!url_is_alnum(h[i]) && h[i] != '-' && h[i] != '.') {
			snprintf(err, errlen, "\"%.*s\" is not a host name", (int)hl, h);
			return -1;
		}
	}
	if (strspn(h, "0123456789.") >= hl) {
		char v4[16];
		struct in_addr addr;
		if (hl >= sizeof v4) {
			snprintf(err, errlen, "\"%.*s\" is not an IPv4 address", (int)hl, h);
			return -1;
		}
		memcpy(v4, h, hl);
		v4[hl] = '\0';
		if (inet_pton(AF_INET, v4, &addr) != 1) {
			snprintf(err, errlen, "\"%s\" is not an IPv4 address", v4);
			return -1;
		}
		return 0;
	}
	if (!url_labels_valid(h, hl)) {
		snprintf(err, errlen, "\"%.*s\" is not a host name", (int)hl, h);
		return -1;
	}
	return 0;
}

/* Checks the IPv6 address in brackets at a (*a == '[') before aend: sets *h,
   *hl to it and *p after the ']'. 0, or -1 + err. */
static int url_check_ipv6(const char *a, const char *aend, const char **h, size_t *hl,
			  const char **p, char *err, size_t errlen)
{
	const char *close = memchr(a, ']', (size_t)(aend - a));
	char v6[64];
	struct in6_addr addr;
	if (close == NULL) {
		snprintf(err, errlen, "an IPv6 address needs a closing ]");
		return -1;
	}
	*h = a + 1;
	*hl = (size_t)(close - *h);
	if (*hl == 0 || *hl >= sizeof v6) {
		snprintf(err, errlen, "\"%.*s\" is not an IPv6 address", (int)(*hl > 64 ? 64 : *hl),
			 *h);
		return -1;
	}
	memcpy(v6, *h, *hl);
	v6[*hl] = '\0';
	if (inet_pton(AF_INET6, v6, &addr) != 1) {
		snprintf(err, errlen, "\"%s\" is not an IPv6 address", v6);
		return -1;
	}
	*p = close + 1;
	if (*p < aend && **p != ':') {
		snprintf(err, errlen, "unexpected characters after the IPv6 address");
		return -1;
	}
	return 0;
}

/* Reads the port digits [d, dend) into *port. 0, or -1 + err. */
static int url_port(const char *d, const char *dend, int *port, char *err, size_t errlen)
{
	size_t dl = (size_t)(dend - d);
	int shown = (int)(dl > 16 ? 16 : dl);
	long v = 0;
	if (dl == 0) {
		snprintf(err, errlen, "no port number after \":\"");
		return -1;
	}
	for (size_t i = 0; i < dl; i++) {
		if (d[i] < '0' || d[i] > '9') {
			snprintf(err, errlen, "port \"%.*s\" is not a number", shown, d);
			return -1;
		}
		if (v <= 65535)
			v = v * 10 + (d[i] - '0');
	}
	if (dl > 5 || v < 1 || v > 65535) {
		snprintf(err, errlen, "port %.*s is out of range 1..65535", shown, d);
		return -1;
	}
	*port = (int)v;
	return 0;
}

/* Checks the whole string: not empty, not too long, printable ASCII with no
   space, and https://. 0, or -1 + err. */
static int url_check_text(const char *url, char *err, size_t errlen)
{
	size_t n = strlen(url);
	if (n == 0) {
		snprintf(err, errlen, "no server address");
		return -1;
	}
	if (n > PGC_URL_MAX) {
		snprintf(err, errlen, "the address is longer than %d characters", PGC_URL_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= 0x20 || ch >= 0x7f) {
			snprintf(err, errlen,
				 "the address contains a space, a control character or a non-ASCII "
				 "character");
			return -1;
		}
	}
	if (strncasecmp(url, "https://", 8) != 0) {
		if (strncasecmp(url, "http://", 7) == 0)
			snprintf(err, errlen,
				 "http:// is not allowed: the connection must be encrypted "
				 "(https://)");
		else if (strstr(url, "://") != NULL)
			snprintf(err, errlen, "only https:// addresses are allowed");
		else
			snprintf(err, errlen, "the address must start with https://");
		return -1;
	}
	return 0;
}

int pgc_parse_server_url(const char *url, int default_port, char *host, size_t hostlen, int *port,
			 char *err, size_t errlen)
{
	if (url_check_text(url, err, errlen) != 0)
		return -1;
	const char *a = url + 8;
	const char *aend = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(aend - a)) != NULL) {
		snprintf(err, errlen, "a user name in the address (user@host) is not allowed");
		return -1;
	}
	const char *h, *p;
	size_t hl;
	if (*a == '[') {
		if (url_check_ipv6(a, aend, &h, &hl, &p, err, errlen) != 0)
			return -1;
	} else {
		const char *colon = memchr(a, ':', (size_t)(aend - a));
		h = a;
		p = colon != NULL ? colon : aend;
		hl = (size_t)(p - h);
		if (hl == 0) {
			snprintf(err, errlen, "no host name after https://");
			return -1;
		}
		if (url_check_host(h, hl, err, errlen) != 0)
			return -1;
	}
	int port_v = default_port;
	if (p < aend && url_port(p + 1, aend, &port_v, err, errlen) != 0) /* *p == ':' */
		return -1;
	if (url_rest(aend, err, errlen) != 0)
		return -1;
	if (hl + 1 > hostlen) {
		snprintf(err, errlen, "the host name is too long");
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = port_v;
	return 0;
}
