/*
 * client_recording.c: a session recording, checked, indexed and decoded by
 * libvncclient in playback mode (client_recording.h).
 */
#include "client_recording.h"

#include "client_core.h"
#include "rfb_stream.h"
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void pgc_rec_quiet(const char *fmt, ...)
{
	(void)fmt;
}

static uint32_t pgc_rec_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append a message's time to the index. 0, or -1 with why. */
static int pgc_rec_push(struct pgc_rec *r, size_t *cap, int64_t t, char *why, size_t whylen)
{
	if (r->n >= PGC_REC_MESSAGES_MAX) {
		snprintf(why, whylen, "more than %u messages", PGC_REC_MESSAGES_MAX);
		return -1;
	}
	if (r->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		int64_t *p = realloc(r->t_us, ncap * sizeof *p);
		if (p == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		r->t_us = p;
		*cap = ncap;
	}
	r->t_us[r->n++] = t;
	return 0;
}

/* Write all of buf to fd. 0 or -1. */
static int pgc_rec_write(int fd, const uint8_t *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Check the file as the gateway checks what a viewer is sent (a file that
 * was altered, or written by something else, is refused before it reaches
 * libvncclient's decoders), hash it, and index its messages' times. The
 * file is "vncLog0.0", the handshake, then each message after a 16-byte
 * timestamp. The bytes read are copied into r->memfd, sealed, which is what
 * libvncclient decodes: the bytes checked and hashed are the bytes shown,
 * whatever happens to the file meanwhile. 0, or -1 with why.
 */
static int pgc_rec_scan(struct pgc_rec *r, char *why, size_t whylen)
{
	/* SetEncodings of everything the gateway allows, as a viewer asks */
	static const uint8_t asked[] = { 2,    0,    0,    12,   0,    0,    0,    7,    0,
					 0,    0,    16,   0,    0,    0,    6,    0,    0,
					 0,    5,    0,    0,    0,    1,    0,    0,    0,
					 0,    0xFF, 0xFF, 0xFF, 0x11, 0xFF, 0xFF, 0xFF, 0x10,
					 0xFF, 0xFF, 0xFF, 0x20, 0xFF, 0xFF, 0xFF, 0x21, 0xFF,
					 0xFF, 0xFF, 0xE9, 0xFF, 0xFF, 0xFF, 0x00 };
	/* SetPixelFormat: 32 bpp, depth 24, little endian, true colour */
	static const uint8_t format[20] = { 0,   0, 0,   0, 32,  24, 0, 1, 0,
					    255, 0, 255, 0, 255, 16, 8, 0 };
	static const uint8_t fbur[10] = { 3 };
	uint8_t *buf = malloc(65536);
	size_t have = 0, off = 0, cap = 0;
	uint64_t at = 0; /* file offset of buf[0] */
	bool stamp_next = false, configured = false, in_msg = false;
	int64_t pending = 0, last = 0;
	int64_t sec0 = -1, usec0 = 0;
	struct rfb_sc sc;
	int rc = -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	/* a regular file only (a FIFO or a device would block or never end),
	   opened without waiting, of a size the copy can hold */
	struct stat fst;
	int fd = open(r->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	FILE *f = NULL;
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		close(fd);
		goto out;
	}
	if ((uint64_t)fst.st_size > PGC_REC_BYTES_MAX) {
		snprintf(why, whylen, "%lld bytes, more than the %llu a recording may have",
			 (long long)fst.st_size, (unsigned long long)PGC_REC_BYTES_MAX);
		close(fd);
		goto out;
	}
	f = fdopen(fd, "rb");
	if (f == NULL) {
		close(fd);
		snprintf(why, whylen, "%s", strerror(errno));
		goto out;
	}
	if (buf == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	r->memfd = memfd_create("pixelgate-recording", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r->memfd < 0) {
		snprintf(why, whylen, "memfd_create: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		if (off > 0) {
			memmove(buf, buf + off, have - off);
			at += off;
			have -= off;
			off = 0;
		}
		size_t got = fread(buf + have, 1, 65536 - have, f);
		if (ferror(f)) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto out;
		}
		if (r->bytes + got > PGC_REC_BYTES_MAX) {
			snprintf(why, whylen, "it grew past %llu bytes while it was read",
				 (unsigned long long)PGC_REC_BYTES_MAX);
			goto out;
		}
		EVP_DigestUpdate(md, buf + have, got);
		if (pgc_rec_write(r->memfd, buf + have, got) != 0) {
			snprintf(why, whylen, "copying it into memory: %s", strerror(errno));
			goto out;
		}
		have += got;
		r->bytes += got;
		if (!configured) {
			/* the session's size, from ServerInit: magic 9, version 12,
			   security 2, result 4 */
			if (have < 31) {
				snprintf(why, whylen, "shorter than a vncrec handshake");
				goto out;
			}
			if (memcmp(buf, "vncLog0.0", 9) != 0) {
				snprintf(why, whylen, "not a vncrec file");
				goto out;
			}
			struct rfb_sc_config cfg = {
				.width = (uint16_t)(buf[27] << 8 | buf[28]),
				.height = (uint16_t)(buf[29] << 8 | buf[30]),
				.allowed = RFB_SC_GATEWAY_ENCODINGS,
			};
			rfb_sc_init(&sc, &cfg);
			if (!rfb_sc_client(&sc, format, sizeof format, why, whylen) ||
			    !rfb_sc_client(&sc, asked, sizeof asked, why, whylen) ||
			    !rfb_sc_client(&sc, fbur, sizeof fbur, why, whylen))
				goto out;
			off = 9;
			configured = true;
		}
		while (off < have) {
			if (stamp_next) {
				if (have - off < 16)
					break;
				int64_t sec = pgc_rec_be32(buf + off),
					usec = pgc_rec_be32(buf + off + 8);
				if (usec > 999999) {
					snprintf(why, whylen,
						 "at byte %llu: a timestamp of %lld microseconds",
						 (unsigned long long)(at + off), (long long)usec);
					goto out;
				}
				if (sec0 < 0) {
					sec0 = sec;
					usec0 = usec;
					r->start_us = sec * 1000000 + usec;
				}
				pending = (sec - sec0) * 1000000 + (usec - usec0);
				if (pending < last)
					pending = last; /* the gateway's clock went back */
				off += 16;
				stamp_next = false;
				in_msg = true;
				continue;
			}
			struct rfb_sc_step st;
			enum rfb_sc_verdict v = rfb_sc_step(&sc, buf + off, have - off, &st);
			if (v == RFB_SC_REJECT) {
				snprintf(why, whylen, "at byte %llu: %s",
					 (unsigned long long)(at + off + st.len), st.reason);
				goto out;
			}
			if (v == RFB_SC_NEED_MORE)
				break;
			off += st.len;
			stamp_next = rfb_sc_at_message(&sc);
			if (stamp_next && in_msg) {
				if (pgc_rec_push(r, &cap, pending, why, whylen) != 0)
					goto out;
				last = pending;
				in_msg = false;
			}
		}
		if (got == 0)
			break; /* a recording may end anywhere: the session's end cuts it */
	}
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	EVP_DigestFinal_ex(md, digest, &dlen);
	for (unsigned i = 0; i < dlen && i < 32; i++)
		snprintf(r->sha256 + 2 * i, 3, "%02x", digest[i]);
	if (fcntl(r->memfd, F_ADD_SEALS,
		  F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
		snprintf(why, whylen, "sealing its copy: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

/* (Re)start the decoder at the beginning. 0, or -1 with why. */
static int pgc_rec_start(struct pgc_rec *r, char *why, size_t whylen)
{
	if (r->cl != NULL) {
		pgc_rfb_client_free(r->cl);
		r->cl = NULL;
	}
	r->next = 0;
	r->generation++;
	rfbClientLog = pgc_rec_quiet;
	/* the sealed copy, opened anew (its own offset) through /proc */
	char copy[64];
	snprintf(copy, sizeof copy, "/proc/self/fd/%d", r->memfd);
	rfbClient *cl = pgc_rfb_client_new(copy); /* the viewer's format and encodings */
	if (cl == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	cl->serverPort = -1; /* playback of a vncrec file */
	if (!rfbInitClient(cl, NULL, NULL)) {
		/* rfbInitClient() has freed cl */
		snprintf(why, whylen, "libvncclient cannot read its handshake");
		return -1;
	}
	cl->vncRec->doNotSleep = TRUE;
	r->cl = cl;
	return 0;
}

struct pgc_rec *pgc_rec_open(const char *path, char *why, size_t whylen)
{
	struct pgc_rec *r = calloc(1, sizeof *r);
	if (r == NULL || (r->path = strdup(path)) == NULL) {
		snprintf(why, whylen, "out of memory");
		free(r);
		return NULL;
	}
	r->memfd = -1;
	if (pgc_rec_scan(r, why, whylen) != 0 || pgc_rec_start(r, why, whylen) != 0) {
		pgc_rec_close(r);
		return NULL;
	}
	return r;
}

void pgc_rec_close(struct pgc_rec *r)
{
	if (r == NULL)
		return;
	if (r->cl != NULL)
		pgc_rfb_client_free(r->cl);
	if (r->memfd >= 0)
		close(r->memfd);
	free(r->t_us);
	free(r->path);
	free(r);
}

int64_t pgc_rec_duration_us(const struct pgc_rec *r)
{
	return r->n > 0 ? r->t_us[r->n - 1] : 0;
}

int64_t pgc_rec_next_us(const struct pgc_rec *r)
{
	return r->next < r->n ? r->t_us[r->next] : -1;
}

int pgc_rec_goto(struct pgc_rec *r, int64_t t_us, char *why, size_t whylen)
{
	if (r->cl == NULL) {
		snprintf(why, whylen, "the recording could not be decoded again");
		return -1;
	}
	if (r->next > 0 && t_us < r->t_us[r->next - 1] && pgc_rec_start(r, why, whylen) != 0)
		return -1;
	bool changed = false;
	while (r->next < r->n && r->t_us[r->next] <= t_us) {
		if (!HandleRFBServerMessage(r->cl)) {
			snprintf(why, whylen, "libvncclient stopped at message %zu of %zu",
				 r->next + 1, r->n);
			pgc_rfb_client_free(r->cl);
			r->cl = NULL;
			return -1;
		}
		/* the player shows no cursor: libvncclient allocates a new shape
		   for every cursor message without freeing the one before */
		free(r->cl->rcSource);
		r->cl->rcSource = NULL;
		free(r->cl->rcMask);
		r->cl->rcMask = NULL;
		r->next++;
		changed = true;
	}
	if (changed)
		r->generation++;
	return 0;
}

void pgc_rec_rgb(const struct pgc_rec *r, int x, int y, uint8_t rgb[3])
{
	const rfbClient *cl = r->cl;
	const rfbPixelFormat *pf = &cl->format;
	uint32_t p;
	/* 32 bpp in host order (rfbGetClient(8, 3, 4)) */
	memcpy(&p, cl->frameBuffer + ((size_t)y * (size_t)cl->width + (size_t)x) * 4, 4);
	rgb[0] = (uint8_t)(((p >> pf->redShift) & pf->redMax) * 255 / pf->redMax);
	rgb[1] = (uint8_t)(((p >> pf->greenShift) & pf->greenMax) * 255 / pf->greenMax);
	rgb[2] = (uint8_t)(((p >> pf->blueShift) & pf->blueMax) * 255 / pf->blueMax);
}
