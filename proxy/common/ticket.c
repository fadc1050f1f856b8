/*
 * ticket.c: single-use, short-lived login tickets.
 */
#include "ticket.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

void ticket_store_init(struct ticket_store *s)
{
	memset(s, 0, sizeof *s);
}

static void ticket_remove(struct ticket_store *s, size_t i)
{
	OPENSSL_cleanse(&s->v[i], sizeof s->v[i]);
	s->v[i] = s->v[s->n - 1];
	s->n--;
}

void ticket_expire(struct ticket_store *s, int64_t now_ms)
{
	for (size_t i = 0; i < s->n;) {
		if (s->v[i].expires_ms <= now_ms)
			ticket_remove(s, i);
		else
			i++;
	}
}

int ticket_issue(struct ticket_store *s, const struct ticket_grant *grant, int64_t now_ms,
		 char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[TICKET_BYTES];
	ticket_expire(s, now_ms);
	if (s->n == TICKET_STORE_MAX) {
		/* Full of live tickets: evict the one closest to expiry. */
		size_t oldest = 0;
		for (size_t i = 1; i < s->n; i++)
			if (s->v[i].expires_ms < s->v[oldest].expires_ms)
				oldest = i;
		ticket_remove(s, oldest);
	}
	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	struct ticket *t = &s->v[s->n];
	for (size_t i = 0; i < TICKET_BYTES; i++) {
		t->text[2 * i] = hex[raw[i] >> 4];
		t->text[2 * i + 1] = hex[raw[i] & 15];
	}
	t->text[TICKET_TEXT_LEN] = '\0';
	t->expires_ms = now_ms + TICKET_TTL_S * 1000;
	t->grant = *grant;
	s->n++;
	memcpy(out, t->text, TICKET_TEXT_LEN + 1);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

int ticket_redeem(struct ticket_store *s, const char *text, int64_t now_ms,
		  struct ticket_grant *grant)
{
	if (strlen(text) != TICKET_TEXT_LEN)
		return -1;
	ticket_expire(s, now_ms);
	for (size_t i = 0; i < s->n; i++) {
		if (CRYPTO_memcmp(s->v[i].text, text, TICKET_TEXT_LEN) == 0) {
			*grant = s->v[i].grant;
			ticket_remove(s, i);
			return 0;
		}
	}
	return -1;
}
