/*
 * clip_text.c: clipboard text made safe (see clip_text.h).
 */
#include "clip_text.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rfb_filter.h" /* the extended clipboard's flags */
#include "utf8.h"

/* Append code point cp (already checked) to out as UTF-8; -1 when out is full. */
static int clip_put(uint32_t cp, char *out, size_t outcap, size_t *n)
{
	unsigned char b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*n + k + 1 > outcap)
		return -1;
	for (size_t i = 0; i < k; i++)
		out[(*n)++] = (char)b[i];
	return 0;
}

/*
 * One code point of the text at offset at: appended (line ends made LF), or
 * -1 with why. For the terminal (terminal), the bidi controls and invisible
 * characters count as controls too.
 */
static int clip_char(uint32_t cp, uint32_t next, int has_next, size_t at, char *out, size_t outcap,
		     size_t *n, int *skip_lf, bool terminal, size_t *removed, char *why,
		     size_t whylen)
{
	if (*skip_lf) {
		*skip_lf = 0;
		if (cp == '\n')
			return 0; /* the LF of a CRLF */
	}
	if (cp == '\r') {
		*skip_lf = has_next && next == '\n';
		cp = '\n';
	} else if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f) ||
		   (terminal && (utf8_is_bidi_control(cp) || utf8_is_invisible(cp)))) {
		if (removed != NULL) {
			(*removed)++;
			return 0;
		}
		snprintf(why, whylen, "%s character U+%04X at byte %zu",
			 cp < 0xa0 ? "control" : "bidi or invisible", (unsigned)cp, at);
		return -1;
	}
	if (clip_put(cp, out, outcap, n) != 0) {
		snprintf(why, whylen, "text too long for its buffer");
		return -1;
	}
	return 0;
}

int clip_text_from_latin1(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			  char *why, size_t whylen)
{
	size_t n = 0;
	int skip_lf = 0;
	if (outcap == 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (clip_char(in[i], i + 1 < len ? in[i + 1] : 0, i + 1 < len, i, out, outcap, &n,
			      &skip_lf, false, NULL, why, whylen) != 0) {
			out[0] = '\0';
			return -1;
		}
	out[n] = '\0';
	*outlen = n;
	return 0;
}

/* UTF-8 text checked (removed NULL: refused) or cleaned (controls counted in *removed). */
static int clip_utf8(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
		     bool terminal, size_t *removed, char *why, size_t whylen)
{
	size_t n = 0;
	int skip_lf = 0;
	if (outcap == 0)
		return -1;
	if (len > 0 && in[len - 1] == 0)
		len--; /* the extended clipboard's terminating NUL */
	for (size_t i = 0; i < len;) {
		uint32_t cp, next = 0;
		size_t k = utf8_next(in + i, len - i, &cp);
		if (k == 0) {
			snprintf(why, whylen, "invalid UTF-8 at byte %zu", i);
			out[0] = '\0';
			return -1;
		}
		if (i + k < len)
			next = in[i + k]; /* only compared with LF */
		if (clip_char(cp, next, i + k < len, i, out, outcap, &n, &skip_lf, terminal,
			      removed, why, whylen) != 0) {
			out[0] = '\0';
			return -1;
		}
		i += k;
	}
	out[n] = '\0';
	*outlen = n;
	return 0;
}

int clip_text_from_utf8(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			char *why, size_t whylen)
{
	return clip_utf8(in, len, out, outcap, outlen, false, NULL, why, whylen);
}

int clip_text_for_terminal(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			   char *why, size_t whylen)
{
	return clip_utf8(in, len, out, outcap, outlen, true, NULL, why, whylen);
}

int clip_text_clean_utf8(const uint8_t *in, size_t len, char *out, size_t outcap, size_t *outlen,
			 size_t *removed, char *why, size_t whylen)
{
	*removed = 0;
	return clip_utf8(in, len, out, outcap, outlen, true, removed, why, whylen);
}

size_t clip_text_to_latin1(const char *utf8, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = utf8_next((const unsigned char *)utf8 + i, len - i, &cp);
		if (k == 0) {
			cp = '?';
			k = 1;
		}
		out[n++] = cp <= 0xff ? (char)cp : '?';
		i += k;
	}
	out[n] = '\0';
	return n;
}

static void clip_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int clip_text_provide_message(uint8_t type, const char *utf8, size_t len, uint8_t **msg,
			      size_t *msg_len)
{
	*msg = NULL;
	*msg_len = 0;
	if (len > CLIP_TEXT_MAX || (len > 0 && utf8 == NULL))
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
	clip_put_u32(raw, (uint32_t)(len + 1));
	if (len > 0)
		memcpy(raw + 4, utf8, len);
	raw[4 + len] = 0;
	/* header, flags, and the stream: deflateBound plus a sync flush's bytes */
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
			m[0] = type;
			m[1] = m[2] = m[3] = 0;
			/* a negative length: the extended form */
			clip_put_u32(m + 4, (uint32_t)(0u - (uint32_t)(4 + zlen)));
			clip_put_u32(m + 8, RFB_EXT_CLIP_PROVIDE | RFB_EXT_CLIP_TEXT);
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

int clip_text_from_provide(const uint8_t *z, size_t zlen, size_t cap, bool terminal, char **out,
			   size_t *outlen, char *why, size_t whylen)
{
	*out = NULL;
	*outlen = 0;
	if (cap > (size_t)UINT32_MAX - 8 || zlen > (size_t)UINT32_MAX) {
		snprintf(why, whylen, "clipboard cap too large");
		return -1;
	}
	/* 4 bytes of size, the text and its NUL, and one byte to see more */
	size_t room = 4 + cap + 2;
	uint8_t *raw = malloc(room);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (raw == NULL || inflateInit(&zs) != Z_OK) {
		free(raw);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)z;
	zs.avail_in = (uInt)zlen;
	zs.next_out = raw;
	zs.avail_out = (uInt)room;
	int rc = inflate(&zs, Z_SYNC_FLUSH);
	size_t got = room - zs.avail_out;
	bool whole = rc == Z_STREAM_END || (rc == Z_OK && zs.avail_in == 0) ||
	    (rc == Z_BUF_ERROR && zs.avail_in == 0 && zs.avail_out > 0);
	int ret = -1;
	if (got > 4 + cap + 1)
		snprintf(why, whylen, "clipboard text over %zu bytes when inflated", cap);
	else if (rc == Z_STREAM_END && zs.avail_in != 0)
		snprintf(why, whylen, "%u bytes after the end of the zlib stream", zs.avail_in);
	else if (!whole)
		snprintf(why, whylen, "bad zlib stream (%s)",
			 zs.msg != NULL ? zs.msg : "incomplete");
	else if (got < 4)
		snprintf(why, whylen, "no text size in the Provide (%zu bytes inflated)", got);
	else {
		uint32_t size = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
		    (uint32_t)raw[2] << 8 | raw[3];
		if ((uint64_t)size != got - 4)
			snprintf(why, whylen,
				 "the Provide announces %u bytes of text and holds %zu",
				 (unsigned)size, got - 4);
		else if (size > 0 && raw[got - 1] != 0)
			snprintf(why, whylen, "text not terminated by NUL");
		else if ((*out = malloc(size + 1)) == NULL)
			snprintf(why, whylen, "out of memory");
		else if (clip_utf8(raw + 4, size, *out, size + 1, outlen, terminal, NULL, why,
				   whylen) != 0) {
			free(*out);
			*out = NULL;
		} else
			ret = 0;
	}
	inflateEnd(&zs);
	memset(raw, 0, got);
	free(raw);
	return ret;
}
