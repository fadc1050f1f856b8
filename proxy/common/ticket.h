/*
 * ticket.h: login tickets. A ticket is 256 bits from OpenSSL's CSPRNG, shown
 * as 64 hex characters, valid for TICKET_TTL_S seconds and for one use.
 * Time is passed in by the caller so the store is a pure data structure.
 */
#ifndef PIXELGATE_TICKET_H
#define PIXELGATE_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "users.h"

#define TICKET_TTL_S 30
#define TICKET_BYTES 32
#define TICKET_TEXT_LEN (TICKET_BYTES * 2)
#define TICKET_STORE_MAX 4096 /* outstanding tickets; oldest evicted past this */

/* What a ticket grants. */
struct ticket_grant {
	char user[USERS_NAME_MAX + 1];
	int width, height;
	bool new_session; /* the login asked for an additional session */
	int policy;       /* the session's policy (gateway_policy.c): 0 the node's */
};

struct ticket {
	char text[TICKET_TEXT_LEN + 1];
	int64_t expires_ms;
	struct ticket_grant grant;
};

struct ticket_store {
	struct ticket v[TICKET_STORE_MAX];
	size_t n;
};

void ticket_store_init(struct ticket_store *s);

/* Issue a ticket for grant at now_ms; copies its text to out (TICKET_TEXT_LEN+1). 0 or -1. */
int ticket_issue(struct ticket_store *s, const struct ticket_grant *grant, int64_t now_ms,
		 char *out);

/*
 * Redeem: if text names an unexpired ticket, remove it, copy its grant and
 * return 0. Else -1 (unknown, reused or expired: the caller cannot tell).
 */
int ticket_redeem(struct ticket_store *s, const char *text, int64_t now_ms,
		  struct ticket_grant *grant);

/* Drop expired tickets. */
void ticket_expire(struct ticket_store *s, int64_t now_ms);

#endif
