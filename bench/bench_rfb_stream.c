/*
 * bench_rfb_stream.c: what checking the browser -> terminal stream costs.
 *
 * The gateway passes every byte a worker sends to a viewer through
 * rfb_stream.c (issue 10) and, when the session is recorded, writes the
 * accepted bytes to its vncrec file. This program times both on streams of
 * the shapes a session produces, fed as the relay gets them (reads of at
 * most 64 KiB, a field cut short kept for the next read), and prints beside
 * them, measured in the same run on the same bytes, what the gateway spends
 * on every byte anyway: copying it (memcpy, twice on its way through the
 * relay) and encrypting it for TLS (AES-128-GCM through OpenSSL's EVP, the
 * cipher a viewer negotiates here). The check's share is its time over the
 * sum of those, the relayed bytes' floor.
 *
 *   bench_rfb_stream [--mib N] [--record DIR]
 *
 * Streams (1280x800, 32-bit, N MiB each, default 64):
 *   raw        full-screen Raw updates: the check's best case (one bulk field)
 *   hextile    Hextile updates of 6.1 MB, every tile 255 coloured 1x1
 *              subrects (the largest a 1280x800 Hextile update can be): the
 *              check's worst case, a field of 6 bytes at a time
 *   tight      Tight rectangles of 64x64 with zlib data: typical
 *   zrle       ZRLE rectangles of 64x64: typical
 * With --record, each stream is also recorded into DIR the recorder's way
 * (a write of each accepted piece, a timestamp before each message), and
 * the longest time one read of the worker's bytes kept the event loop busy
 * is printed: what a big update being recorded adds to the picture age of
 * every other session on the gateway (the old recorder re-parsed such an
 * update from its start on every read: about 10 s for 16 MiB of Hextile).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include "rfb_stream.h"

#define W 1280
#define H 800
#define READ_MAX 65536

struct buf {
	uint8_t *d;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 20;
		while (cap < b->n + n)
			cap *= 2;
		b->d = realloc(b->d, cap);
		if (b->d == NULL) {
			perror("realloc");
			exit(1);
		}
		b->cap = cap;
	}
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void p8(struct buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;
	put(b, &c, 1);
}

static void p16(struct buf *b, unsigned v)
{
	p8(b, v >> 8);
	p8(b, v);
}

static void p32(struct buf *b, uint32_t v)
{
	p16(b, v >> 16);
	p16(b, v & 0xFFFF);
}

static void rect(struct buf *b, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc)
{
	p16(b, x);
	p16(b, y);
	p16(b, w);
	p16(b, h);
	p32(b, (uint32_t)enc);
}

/* Pseudo-random bytes (the content does not matter to the check, only lengths). */
static uint32_t rnd_state = 12345;
static uint8_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (uint8_t)(rnd_state >> 16);
}

static void fill(struct buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p8(b, rnd());
}

static void handshake(struct buf *b)
{
	static const uint8_t pf[16] = { 32, 24, 0, 255, 0, 255, 0, 255, 0, 255, 16, 8, 0 };
	put(b, "RFB 003.008\n\001\001\0\0\0\0", 18);
	p16(b, W);
	p16(b, H);
	put(b, pf, 16);
	p32(b, 5);
	put(b, "bench", 5);
}

/* A stream of the given shape, at least mib MiB after the handshake. */
static void make_stream(struct buf *b, const char *shape, size_t mib)
{
	size_t target = mib << 20;
	b->n = 0;
	handshake(b);
	while (b->n < target) {
		if (strcmp(shape, "raw") == 0) {
			p8(b, 0), p8(b, 0), p16(b, 1);
			rect(b, 0, 0, W, H, 0);
			fill(b, (size_t)W * H * 4);
		} else if (strcmp(shape, "hextile") == 0) {
			/* 1280x800 = 4000 tiles x (1 + 1 + 255 x 6) bytes = 6.1 MiB an update */
			p8(b, 0), p8(b, 0), p16(b, 1);
			rect(b, 0, 0, W, H, 5);
			for (int t = 0; t < (W / 16) * (H / 16); t++) {
				p8(b, 8 | 16);
				p8(b, 255);
				for (int s = 0; s < 255; s++) {
					p32(b, rnd());
					p8(b, (unsigned)((s % 16) << 4 | (s / 16) % 16));
					p8(b, 0);
				}
			}
		} else if (strcmp(shape, "tight") == 0 || strcmp(shape, "zrle") == 0) {
			bool tight = shape[0] == 't';
			p8(b, 0), p8(b, 0), p16(b, (W / 64) * (H / 64));
			for (int y = 0; y + 64 <= H; y += 64)
				for (int x = 0; x < W; x += 64) {
					size_t len = 2000 + rnd() * 16u;
					rect(b, (unsigned)x, (unsigned)y, 64, 64, tight ? 7 : 16);
					if (tight) {
						p8(b, 0x00);
						p8(b, (len & 0x7F) | 0x80);
						p8(b, len >> 7);
					} else {
						p32(b, (uint32_t)len);
					}
					fill(b, len);
				}
			/* the 32 rows left: counted in the header above (W/64 x H/64 = 240) */
		}
	}
}

/* The viewer asks for everything the gateway allows, in 32-bit. */
static void start(struct rfb_sc *sc)
{
	static const uint8_t spf[20] = { 0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8 };
	static const uint8_t se[] = { 2, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 16, 0, 0,
				      0, 5, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0,  0, 0 };
	static const uint8_t fbur[10] = { 3 };
	struct rfb_sc_config cfg = { .width = W, .height = H, .allowed = RFB_SC_GATEWAY_ENCODINGS };
	char why[RFB_SC_REASON_LEN];
	rfb_sc_init(sc, &cfg);
	if (!rfb_sc_client(sc, spf, sizeof spf, why, sizeof why) ||
	    !rfb_sc_client(sc, se, sizeof se, why, sizeof why) ||
	    !rfb_sc_client(sc, fbur, sizeof fbur, why, sizeof why)) {
		fprintf(stderr, "bench_rfb_stream: %s\n", why);
		exit(1);
	}
}

/* The recorder's way: a timestamp before each message, then the bytes. */
static void rec_write(int fd, const uint8_t *p, size_t n, bool starts)
{
	if (starts) {
		struct timeval tv;
		uint8_t t[16] = { 0 };
		gettimeofday(&tv, NULL);
		memcpy(t, &tv, sizeof t < sizeof tv ? sizeof t : sizeof tv);
		if (write(fd, t, sizeof t) != (ssize_t)sizeof t)
			goto fail;
	}
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			goto fail;
		p += w;
		n -= (size_t)w;
	}
	return;
fail:
	perror("bench_rfb_stream: write");
	exit(1);
}

/*
 * The relay's loop over the stream: reads of up to READ_MAX bytes (sizes
 * varying as real reads do), each checked as far as it goes. Returns the
 * seconds it took; *worst gets the longest one read took.
 */
static double check_stream(const struct buf *b, int rec_fd, double *worst)
{
	struct rfb_sc sc;
	size_t have = 0, ok = 0;
	double t0 = bench_now_s();
	*worst = 0;
	start(&sc);
	while (have < b->n) {
		double r0 = bench_now_s();
		size_t k = 1024 + (rnd() * 251u) % (READ_MAX - 1024);
		have = have + k < b->n ? have + k : b->n;
		while (ok < have) {
			struct rfb_sc_step st;
			enum rfb_sc_verdict v = rfb_sc_step(&sc, b->d + ok, have - ok, &st);
			if (v == RFB_SC_NEED_MORE)
				break;
			if (v == RFB_SC_REJECT) {
				fprintf(stderr, "bench_rfb_stream: refused at %zu: %s\n", ok,
					st.reason);
				exit(1);
			}
			if (rec_fd >= 0)
				rec_write(rec_fd, b->d + ok, st.len, st.starts_message);
			ok += st.len;
		}
		double r = bench_now_s() - r0;
		if (r > *worst)
			*worst = r;
	}
	return bench_now_s() - t0;
}

/* memcpy of the stream in relay-sized pieces, twice (into the relay's buffer, out of it). */
static double copy_stream(const struct buf *b)
{
	static uint8_t a[READ_MAX], c[READ_MAX];
	double t0 = bench_now_s();
	for (size_t off = 0; off < b->n; off += READ_MAX) {
		size_t k = b->n - off < READ_MAX ? b->n - off : READ_MAX;
		memcpy(a, b->d + off, k);
		memcpy(c, a, k);
		__asm__ volatile("" : : "r"(c) : "memory");
	}
	return bench_now_s() - t0;
}

/* AES-128-GCM of the stream in 16 KiB TLS records, as OpenSSL does for the viewer. */
static double encrypt_stream(const struct buf *b)
{
	static const unsigned char key[16] = { 1 }, iv[12] = { 2 };
	static unsigned char out[16384 + 16];
	unsigned char tag[16];
	int n;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	double t0 = bench_now_s();
	for (size_t off = 0; off < b->n; off += 16384) {
		int k = (int)(b->n - off < 16384 ? b->n - off : 16384);
		if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, iv) != 1 ||
		    EVP_EncryptUpdate(ctx, out, &n, b->d + off, k) != 1 ||
		    EVP_EncryptFinal_ex(ctx, out + n, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) {
			fprintf(stderr, "bench_rfb_stream: EVP failed\n");
			exit(1);
		}
	}
	double t = bench_now_s() - t0;
	EVP_CIPHER_CTX_free(ctx);
	return t;
}

int main(int argc, char **argv)
{
	static const char *const shapes[] = { "raw", "hextile", "tight", "zrle" };
	size_t mib = 64;
	const char *rec_dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc)
			mib = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
			rec_dir = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--mib N] [--record DIR]\n", argv[0]);
			return 2;
		}
	}
	if (mib < 1)
		mib = 1;
	printf("browser -> terminal check (rfb_stream.c), %zu MiB a stream, reads of 1..64 KiB\n\n",
	       mib);
	printf("  %-8s %10s %10s %10s %10s %8s", "stream", "check", "copy x2", "AES-GCM",
	       "check ms/MB", "share");
	if (rec_dir)
		printf(" %12s %14s", "+record MB/s", "longest read");
	printf("\n");
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		struct buf b = { 0 };
		double worst, best_check = 1e9, best_copy = 1e9, best_aes = 1e9;
		make_stream(&b, shapes[i], mib);
		for (int rep = 0; rep < 3; rep++) {
			double t = check_stream(&b, -1, &worst);
			best_check = t < best_check ? t : best_check;
			t = copy_stream(&b);
			best_copy = t < best_copy ? t : best_copy;
			t = encrypt_stream(&b);
			best_aes = t < best_aes ? t : best_aes;
		}
		double mb = (double)b.n / 1e6;
		printf("  %-8s %8.0f/s %8.0f/s %8.0f/s %10.3f %7.1f%%", shapes[i], mb / best_check,
		       mb / best_copy, mb / best_aes, best_check * 1e3 / mb,
		       100.0 * best_check / (best_copy + best_aes));
		if (rec_dir) {
			char path[4096];
			snprintf(path, sizeof path, "%s/bench-%s.vncrec", rec_dir, shapes[i]);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (fd < 0) {
				fprintf(stderr, "bench_rfb_stream: %s: %s\n", path,
					strerror(errno));
				return 1;
			}
			double t = check_stream(&b, fd, &worst);
			close(fd);
			unlink(path);
			printf(" %10.0f/s %11.2f ms", mb / t, worst * 1e3);
		}
		printf("\n");
		free(b.d);
	}
	printf("\n  check, copy x2, AES-GCM: MB/s on one core (best of 3); check ms/MB: the\n"
	       "  check's time per MB; share: the check's time over copy x2 + AES-GCM, the\n"
	       "  least the gateway spends on every relayed byte besides it.\n");
	return 0;
}
