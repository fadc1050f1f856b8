/*
 * ctl_recording.c: export a session recording (vncrec, see README "Session
 * recording") as PNG frames, decoded by libvncclient in playback mode with
 * the pixel format the viewer asks for (rfbGetClient(8, 3, 4): 32 bpp).
 */
#include "ctl_recording.h"

#include "client_core.h"
#include "rfb_stream.h"
#include <errno.h>
#include <png.h>
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void ctl_recording_usage(FILE *f)
{
	fprintf(f,
		"usage: pixelgatectl recording export FILE --png DIR [--every S]\n"
		"  writes DIR/frame-NNNNNN.png every S seconds of recording time (default 1)\n"
		"  and the last frame at the end\n");
}

/* Write cl's framebuffer to path as an RGB PNG; 0 or -1 (message printed). */
static int ctl_png_write(rfbClient *cl, const char *path)
{
	FILE *f = fopen(path, "wb");
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep row = NULL;
	int rc = -1;
	if (f == NULL) {
		fprintf(stderr, "pixelgatectl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png != NULL ? png_create_info_struct(png) : NULL;
	row = malloc((size_t)cl->width * 3);
	if (info == NULL || row == NULL)
		goto fail;
	if (setjmp(png_jmpbuf(png)))
		goto fail;
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)cl->width, (png_uint_32)cl->height, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	const rfbPixelFormat *pf = &cl->format;
	for (int y = 0; y < cl->height; y++) {
		const uint8_t *src = cl->frameBuffer + (size_t)y * (size_t)cl->width * 4;
		for (int x = 0; x < cl->width; x++) {
			uint32_t p;
			memcpy(&p, src + (size_t)x * 4, 4); /* 32 bpp, host order (rfbGetClient) */
			row[x * 3 + 0] = (uint8_t)(((p >> pf->redShift) & pf->redMax) * 255 /
						   pf->redMax);
			row[x * 3 + 1] = (uint8_t)(((p >> pf->greenShift) & pf->greenMax) * 255 /
						   pf->greenMax);
			row[x * 3 + 2] = (uint8_t)(((p >> pf->blueShift) & pf->blueMax) * 255 /
						   pf->blueMax);
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	rc = 0;
fail:
	if (rc != 0)
		fprintf(stderr, "pixelgatectl: %s: could not write the PNG\n", path);
	png_destroy_write_struct(&png, &info);
	free(row);
	if (fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "pixelgatectl: %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

static void ctl_rfb_quiet(const char *fmt, ...)
{
	(void)fmt;
}

/*
 * Does the recording pass the gateway's own server -> client check
 * (rfb_stream.c), as a viewer asking for everything the gateway allows in
 * the 32-bit format the export decodes with? The file is "vncLog0.0", the
 * handshake, then each message after a 16-byte timestamp. libvncclient only
 * decodes what passes: a file that was altered, or written by something
 * else, is refused before it reaches its decoders. 0, or -1 with why.
 */
static int ctl_recording_check(const char *file, char *why, size_t whylen)
{
	static const uint8_t asked[] = { 2,    0,    0,    12,   0,    0,    0,    7,    0,
					 0,    0,    16,   0,    0,    0,    6,    0,    0,
					 0,    5,    0,    0,    0,    1,    0,    0,    0,
					 0,    0xFF, 0xFF, 0xFF, 0x11, 0xFF, 0xFF, 0xFF, 0x10,
					 0xFF, 0xFF, 0xFF, 0x20, 0xFF, 0xFF, 0xFF, 0x21, 0xFF,
					 0xFF, 0xFF, 0xE9, 0xFF, 0xFF, 0xFF, 0x00 };
	static const uint8_t format[20] = { 0,   0, 0,   0, 32,  24, 0, 1, 0,
					    255, 0, 255, 0, 255, 16, 8, 0 };
	static const uint8_t fbur[10] = { 3 };
	uint8_t buf[65536];
	size_t have = 0, off = 0;
	uint64_t at = 0; /* file offset of buf[0] */
	bool stamp_next = false, configured = false;
	struct rfb_sc sc;
	FILE *f = fopen(file, "rb");
	if (f == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (off > 0) {
			memmove(buf, buf + off, have - off);
			at += off;
			have -= off;
			off = 0;
		}
		size_t got = fread(buf + have, 1, sizeof buf - have, f);
		have += got;
		if (!configured) {
			/* the session's size, from ServerInit: magic 9, version 12, security 2,
			   result 4 */
			if (have < 31) {
				snprintf(why, whylen, "shorter than a vncrec handshake");
				break;
			}
			if (memcmp(buf, "vncLog0.0", 9) != 0) {
				snprintf(why, whylen, "not a vncrec file");
				break;
			}
			struct rfb_sc_config cfg = {
				.width = (uint16_t)(buf[27] << 8 | buf[28]),
				.height = (uint16_t)(buf[29] << 8 | buf[30]),
				.allowed = RFB_SC_GATEWAY_ENCODINGS,
			};
			rfb_sc_init(&sc, &cfg);
			if (!rfb_sc_client(&sc, format, sizeof format, why, whylen))
				break;
			rfb_sc_client(&sc, asked, sizeof asked, why, whylen);
			rfb_sc_client(&sc, fbur, sizeof fbur, why, whylen);
			off = 9;
			configured = true;
		}
		while (off < have) {
			if (stamp_next) {
				if (have - off < 16)
					break;
				off += 16;
				stamp_next = false;
				continue;
			}
			struct rfb_sc_step st;
			enum rfb_sc_verdict v = rfb_sc_step(&sc, buf + off, have - off, &st);
			if (v == RFB_SC_REJECT) {
				snprintf(why, whylen, "at byte %llu: %s",
					 (unsigned long long)(at + off + st.len), st.reason);
				fclose(f);
				return -1;
			}
			if (v == RFB_SC_NEED_MORE)
				break;
			off += st.len;
			stamp_next = rfb_sc_at_message(&sc);
		}
		if (got == 0) {
			fclose(f);
			return 0; /* a recording may end anywhere: the session's end cuts it */
		}
	}
	fclose(f);
	return -1;
}

/* Export file's frames into dir every every_s seconds; exit status. */
static int ctl_recording_export(const char *file, const char *dir, double every_s)
{
	char path[4096];
	int n = 0, rc = 1;
	char why[256];
	if (ctl_recording_check(file, why, sizeof why) != 0) {
		fprintf(stderr,
			"pixelgatectl: %s: refused, it does not pass the gateway's check of "
			"what a viewer may be sent: %s\n",
			file, why);
		return 1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "pixelgatectl: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	rfbClientLog = ctl_rfb_quiet;
	rfbClient *cl = pgc_rfb_client_new(file); /* as the viewer's */
	if (cl == NULL)
		return 1;
	cl->serverPort = -1; /* playback of a vncrec file */
	if (!rfbInitClient(cl, NULL, NULL)) {
		/* rfbInitClient() has freed cl */
		fprintf(stderr, "pixelgatectl: %s: not a readable recording\n", file);
		return 1;
	}
	cl->vncRec->doNotSleep = TRUE;
	double start = -1, next = 0;
	size_t messages = 0;
	while (HandleRFBServerMessage(cl)) {
		messages++;
		double t = (double)cl->vncRec->tv.tv_sec + (double)cl->vncRec->tv.tv_usec / 1e6;
		if (start < 0)
			start = t;
		if (t - start >= next) {
			/* the frame as it was at this point of the recording */
			snprintf(path, sizeof path, "%s/frame-%06d.png", dir, n);
			if (ctl_png_write(cl, path) != 0)
				goto done;
			n++;
			while (next <= t - start)
				next += every_s;
		}
	}
	snprintf(path, sizeof path, "%s/frame-%06d.png", dir, n);
	if (ctl_png_write(cl, path) != 0)
		goto done;
	n++;
	printf("%s: %zu messages, %.1f s, %d frames in %s\n", file, messages,
	       start < 0 ? 0.0
			 : (double)cl->vncRec->tv.tv_sec + cl->vncRec->tv.tv_usec / 1e6 - start,
	       n, dir);
	rc = 0;
done:
	pgc_rfb_client_free(cl);
	return rc;
}

int ctl_recording_main(int argc, char **argv)
{
	const char *file = NULL, *dir = NULL;
	double every_s = 1;
	int i = 1;
	while (i < argc && strcmp(argv[i], "recording") != 0)
		i++;
	if (i + 1 >= argc || strcmp(argv[i + 1], "export") != 0) {
		ctl_recording_usage(stderr);
		return 2;
	}
	for (i += 2; i < argc; i++) {
		if (strcmp(argv[i], "--png") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
			char *end;
			every_s = strtod(argv[++i], &end);
			if (*end != '\0' || !(every_s > 0 && every_s <= 86400)) {
				fprintf(stderr,
					"pixelgatectl: --every: \"%s\" is not a number of seconds\n",
					argv[i]);
				return 2;
			}
		} else if (argv[i][0] != '-' && file == NULL) {
			file = argv[i];
		} else {
			ctl_recording_usage(stderr);
			return 2;
		}
	}
	if (file == NULL || dir == NULL) {
		ctl_recording_usage(stderr);
		return 2;
	}
	return ctl_recording_export(file, dir, every_s);
}
