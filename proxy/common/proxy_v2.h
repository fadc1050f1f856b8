/*
 * proxy_v2.h: the PROXY protocol version 2 header (HAProxy's
 * "send-proxy-v2") and the list of balancers trusted to send it.
 *
 * Pure functions over buffers: no I/O, no allocation, no global state. The
 * gateway (gateway_accept.c) reads a header byte by byte as it arrives and
 * asks proxy_v2_parse() after each read how many bytes the header needs in
 * all; it never reads past the header, so the TLS handshake that follows
 * stays in the socket for libwebsockets.
 *
 * Accepted: signature, version 2, command LOCAL (a balancer's own health
 * check: the socket's address is kept) or PROXY with AF_UNSPEC (address
 * kept), AF_INET or AF_INET6 over STREAM (the source address is the
 * client). TLVs are skipped unread. A header is at most PROXY_V2_MAX_LEN
 * bytes; its length field is checked against that cap before anything else
 * depends on it.
 */
#ifndef PIXELGATE_PROXY_V2_H
#define PIXELGATE_PROXY_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PROXY_V2_SIG_LEN 12   /* the binary signature, bytes */
#define PROXY_V2_FIXED_LEN 16 /* signature, version/command, family, length */
#define PROXY_V2_MAX_LEN 536  /* the whole header with TLVs, bytes (our cap) */
#define PROXY_V2_ADDR_TEXT 46 /* INET6_ADDRSTRLEN: text of an address with its NUL */
#define PROXY_V2_TRUST_MAX 64 /* entries of a trusted list */
#define PROXY_V2_WHY_LEN 128  /* enough for every refusal message */

enum proxy_v2_status {
	PROXY_V2_OK,        /* a complete, valid header; *out filled */
	PROXY_V2_NEED_MORE, /* valid so far: read up to *need bytes in all, then ask again */
	PROXY_V2_BAD,       /* not a header we accept; why says what is wrong */
};

enum proxy_v2_command {
	PROXY_V2_LOCAL = 0, /* the balancer speaks for itself (health check) */
	PROXY_V2_PROXY = 1, /* relayed on behalf of a client */
};

/* A parsed header. */
struct proxy_v2_header {
	enum proxy_v2_command command;
	bool has_source;             /* PROXY over AF_INET/AF_INET6 STREAM: src is the client's */
	int family;                  /* AF_INET or AF_INET6 when has_source, else AF_UNSPEC */
	uint8_t src[16], dst[16];    /* network order; 4 bytes used for AF_INET */
	uint16_t src_port, dst_port; /* host order */
	size_t length;               /* bytes of the whole header: 16 + its length field */
};

/*
 * Look at the first len bytes of a connection. Returns:
 *  PROXY_V2_OK with *out filled (out->length bytes are the header; nothing
 *    after them was looked at);
 *  PROXY_V2_NEED_MORE with *need > len: the header needs *need bytes in all
 *    as far as is known now (16 until the fixed part is in, then 16 + the
 *    length field), never more than PROXY_V2_MAX_LEN;
 *  PROXY_V2_BAD with a NUL-terminated reason in why (if whylen > 0).
 * A prefix that cannot start a header is refused at once (e.g. a TLS
 * ClientHello or an HTTP request sent without a header). buf may be NULL
 * when len is 0. out and need are left alone unless the status says so.
 */
enum proxy_v2_status proxy_v2_parse(const uint8_t *buf, size_t len, struct proxy_v2_header *out,
				    size_t *need, char *why, size_t whylen);

/*
 * An address as the gateway keys and shows it: IPv4-mapped IPv6
 * (::ffff:a.b.c.d) becomes IPv4. family AF_INET (4 bytes at addr) or
 * AF_INET6 (16 bytes). Writes the text into buf (PROXY_V2_ADDR_TEXT bytes
 * are always enough). Returns 0, or -1 (buf "?") for an unknown family or a
 * buffer too small.
 */
int proxy_v2_addr_text(int family, const uint8_t *addr, char *buf, size_t len);

/*
 * The family and bytes of a socket address, IPv4-mapped IPv6 turned into
 * IPv4. Returns 0, or -1 for anything but AF_INET/AF_INET6 (or salen too short).
 */
int proxy_v2_sockaddr(const struct sockaddr *sa, socklen_t salen, int *family, uint8_t addr[16]);

/* One trusted network: an address and how many leading bits must match. */
struct proxy_v2_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix; /* 0..32 or 0..128 */
};

/* The balancers allowed to send a header ([server] proxy_trusted). */
struct proxy_v2_trust {
	struct proxy_v2_net net[PROXY_V2_TRUST_MAX];
	size_t n;
};

/*
 * Parse a comma-separated list of addresses, each optionally with /prefix
 * (CIDR); blanks around entries are ignored; an empty text gives an empty
 * list. IPv4-mapped IPv6 entries (prefix >= 96) are stored as IPv4. Returns 0,
 * or -1 with the first bad entry named in err (and *t emptied).
 */
int proxy_v2_trust_parse(const char *text, struct proxy_v2_trust *t, char *err, size_t errlen);

/* Whether the address (as from proxy_v2_sockaddr()) is in the list. */
bool proxy_v2_trusted(const struct proxy_v2_trust *t, int family, const uint8_t *addr);

#endif
