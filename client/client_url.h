/*
 * client_url.h: the server address of the staff tools (pixelgate-viewer's
 * "server", pixelgatectl's --server and "server"), one parser for both
 * (client_url.c). Pure code over a string, no I/O.
 */
#ifndef PIXELGATE_CLIENT_URL_H
#define PIXELGATE_CLIENT_URL_H

#include <stddef.h>

/* Longest address that can be valid, characters: "https://", a host name of
   253, ":65535" and "/". */
#define PGC_URL_MAX 268
/* Longest host name (RFC 1035), characters. */
#define PGC_HOST_NAME_MAX 253

/*
 * Split "https://HOST[:PORT][/]" into host and port (default_port when
 * there is none). HOST is a host name (dot-separated labels of 1 to 63
 * letters, digits and hyphens, no hyphen at either end of a label, no
 * trailing dot, the last label not all digits; at most PGC_HOST_NAME_MAX
 * characters), an IPv4 address in dotted-quad form, or an IPv6 address in
 * brackets, returned without them ("https://[::1]:8443" gives "::1").
 * PORT is 1 to 5 digits, 1..65535. The scheme is matched without regard to
 * case; nothing else is accepted: no user@, path (but a lone "/"), query or
 * fragment, no space, control or non-ASCII character.
 *
 * 0, or -1 with the reason in err (a sentence the caller may prefix with
 * where the address came from); host and *port are written only on
 * success, host only if it fits in hostlen bytes with its NUL.
 */
int pgc_parse_server_url(const char *url, int default_port, char *host, size_t hostlen, int *port,
			 char *err, size_t errlen);

#endif
