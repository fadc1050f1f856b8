/*
 * ctl_recording.c: export a session recording (vncrec, see README "Session
 * recording") as PNG frames: client_recording.c checks and decodes it
 * (libvncclient in playback mode, the viewer's 32-bit format), so a frame
 * here is the screen the viewer's player shows at the same time.
 */
#include "ctl_recording.h"

#include "client_recording.h"
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void ctl_recording_usage(FILE *f)
{
	fprintf(f,
		"usage: pixelgatectl recording export FILE --png DIR [--every S]\n"
		"  DIR/frame-N.png is the screen at N x S seconds of the recording (default\n"
		"  S 1), written when it changed since the frame before; the last one is\n"
		"  the screen at the end\n");
}

/* Write the recording's framebuffer to path as an RGB PNG; 0 or -1 (message printed). */
static int ctl_png_write(const struct pgc_rec *r, const char *path)
{
	const rfbClient *cl = r->cl;
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
	for (int y = 0; y < cl->height; y++) {
		for (int x = 0; x < cl->width; x++)
			pgc_rec_rgb(r, x, y, row + x * 3);
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

/*
 * Export file's frames into dir: frame-N.png is the screen at N * every_s
 * seconds of the recording (client_recording.h: every message stamped at or
 * before that time decoded), written only when the screen changed since the
 * frame before; then the screen at the end, if it changed after the last
 * one. Exit status.
 */
static int ctl_recording_export(const char *file, const char *dir, double every_s)
{
	char path[4096];
	char why[256];
	int rc = 1, frames = 0;
	struct pgc_rec *r = pgc_rec_open(file, why, sizeof why);
	if (r == NULL) {
		fprintf(stderr,
			"pixelgatectl: %s: refused, it does not pass the gateway's check of what a "
			"viewer may be sent: %s\n",
			file, why);
		return 1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "pixelgatectl: %s: %s\n", dir, strerror(errno));
		goto done;
	}
	int64_t dur = pgc_rec_duration_us(r), every_us = (int64_t)(every_s * 1e6 + 0.5);
	unsigned written = r->generation - 1; /* the handshake's screen is written */
	int64_t n = 0;
	for (;; n++) {
		int64_t t = n * every_us;
		if (pgc_rec_goto(r, t > dur ? dur : t, why, sizeof why) != 0) {
			fprintf(stderr, "pixelgatectl: %s: %s\n", file, why);
			goto done;
		}
		if (r->generation != written) {
			/* the frame as it was at this point of the recording */
			snprintf(path, sizeof path, "%s/frame-%06lld.png", dir, (long long)n);
			if (ctl_png_write(r, path) != 0)
				goto done;
			written = r->generation;
			frames++;
		}
		if (t >= dur)
			break;
		/* nothing changes before the next message: go straight to it (a
		   long pause, or a recording stamped over years, costs nothing) */
		int64_t next = pgc_rec_next_us(r), target = next >= 0 ? next : dur;
		if (target / every_us - 1 > n)
			n = target / every_us - 1;
	}
	printf("%s: %zu messages, %.1f s, %d frames in %s (frame-N.png: the screen at N x %g s)\n",
	       file, r->n, (double)dur / 1e6, frames, dir, every_s);
	rc = 0;
done:
	pgc_rec_close(r);
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
			if (*end != '\0' || !(every_s >= 0.001 && every_s <= 86400)) {
				fprintf(stderr,
					"pixelgatectl: --every: \"%s\" is not a number of seconds "
					"from 0.001 to 86400\n",
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
