/*
 * client_clip.c: see client_clip.h.
 */
#include "client_clip.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CLIP_FLAGS 0x10000001u /* Provide | text */

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int pgc_clip_provide(const char *utf8, size_t len, uint8_t **msg, size_t *msg_len)
{
	*msg = NULL;
	*msg_len = 0;
	if (len > PGC_CLIP_MAX || (len > 0 && utf8 == NULL))
		return -1;
	/* the stream's content: u32 size (the text and its NUL), the text, NUL */
	size_t raw_len = 4 + len + 1;
	uint8_t *raw = malloc(raw_len);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (raw == NULL || deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(raw);
		return -1;
	}
	put_u32(raw, (uint32_t)(len + 1));
	if (len > 0)
		memcpy(raw + 4, utf8, len);
	raw[4 + len] = 0;
	/* header, flags, and the stream: deflateBound plus a sync flush's 5 bytes */
	size_t cap = 12 + deflateBound(&zs, (uLong)raw_len) + 16;
	uint8_t *m = malloc(cap);
	int ret = -1;
	if (m != NULL) {
		zs.next_in = raw;
		zs.avail_in = (uInt)raw_len;
		zs.next_out = m + 12;
		zs.avail_out = (uInt)(cap - 12);
		if (deflate(&zs, Z_SYNC_FLUSH) == Z_OK && zs.avail_in == 0 && zs.avail_out > 0) {
			size_t zlen = cap - 12 - zs.avail_out;
			m[0] = 6; /* ClientCutText */
			m[1] = m[2] = m[3] = 0;
			put_u32(m + 4,
				(uint32_t)(0u - (uint32_t)(4 + zlen))); /* negative: extended */
			put_u32(m + 8, CLIP_FLAGS);
			*msg = m;
			*msg_len = 12 + zlen;
			m = NULL;
			ret = 0;
		}
	}
	deflateEnd(&zs);
	free(m);
	memset(raw, 0, raw_len);
	free(raw);
	return ret;
}
