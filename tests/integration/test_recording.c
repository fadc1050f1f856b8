/*
 * test_recording.c: session recording (issue 5, "Session recording").
 *
 * With [audit] recording = all, a viewer connection's server->client stream
 * is kept as a vncrec file (0600) whose sha256 is in the audit log, and
 * `pixelgatectl recording export` decodes it (libvncclient playback) into
 * PNG frames, the last one showing the test page's block where the viewer
 * saw it.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RT_AUDIT_S 15 /* the recording's audit record follows the disconnect */

/* Lower-case hex sha256 of a file into hex (65 bytes). */
static void rt_sha256(const char *path, char *hex)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n;
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	IT_ASSERT(f != NULL && ctx != NULL, "%s: %s", path, strerror(errno));
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
	fclose(f);
}

static int rt_is_png(const struct dirent *e);

/*
 * `pixelgatectl recording export` of the recording at path into outdir (a
 * PNG a second), and the last frame read as RGB into *img and the returned
 * pixels (malloc'd), its path into last, the frames' count into *frames.
 */
static png_bytep rt_export_last(const char *path, const char *outdir, png_image *img, char *last,
				size_t lastlen, int *frames)
{
	char out[8192];
	int rc = it_run(out, sizeof out, "%s/pixelgatectl recording export %s --png %s --every 1",
			PIXELGATE_BUILD_DIR, path, outdir);
	IT_ASSERT(rc == 0, "recording export exited %d: %s", rc, out);
	struct dirent **names = NULL;
	int n = scandir(outdir, &names, rt_is_png, alphasort);
	IT_ASSERT(n >= 1, "no PNG frame from the recording: %s", out);
	snprintf(last, lastlen, "%s/%s", outdir, names[n - 1]->d_name);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	*frames = n;
	memset(img, 0, sizeof *img);
	img->version = PNG_IMAGE_VERSION;
	IT_ASSERT(png_image_begin_read_from_file(img, last), "%s: %s", last, img->message);
	img->format = PNG_FORMAT_RGB;
	png_bytep px = malloc(PNG_IMAGE_SIZE(*img));
	IT_ASSERT(px != NULL, "out of memory");
	IT_ASSERT(png_image_finish_read(img, NULL, px, 0, NULL), "%s: %s", last, img->message);
	return px;
}

/* The last frame of the test's recording in recdir (the first one the audit
   log names), exported under top/frames; as rt_export_last(). */
static png_bytep rt_recording_last_frame(const char *recdir, const char *top, png_image *img)
{
	char file[64], path[1400], outdir[600], last[1400];
	int frames;

	it_recording_path(recdir, RT_AUDIT_S, file, sizeof file, path, sizeof path);
	snprintf(outdir, sizeof outdir, "%s/frames", top);
	return rt_export_last(path, outdir, img, last, sizeof last, &frames);
}

static int rt_is_png(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return n > 4 && strcmp(e->d_name + n - 4, ".png") == 0;
}

IT_TEST(recording, exported_frames_show_the_block)
{
	static const char *const users[] = { "r1-rei", NULL };
	const char *user = "r1-rei";
	char extra[1024], recdir[600], path[1400], outdir[600], out[8192], hex[65] = "";
	struct it_opts o = { 0 };
	struct it_rect b;
	struct pgc_conn *c;
	json_t *rec = NULL;
	struct stat st;

	/* it.dir is made by it_start_opts(): the recordings go to a temp dir of their own */
	char top[] = "/tmp/pixelgate-rec-XXXXXX";
	IT_ASSERT(mkdtemp(top) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(recdir, sizeof recdir, "%s/rec", top);
	snprintf(extra, sizeof extra, "recording = all\nrecording_dir = %s\n", recdir);
	o.audit_extra = extra;
	/* a recording older than the retention (90 days) is pruned at start-up */
	char old[700];
	IT_ASSERT(mkdir(recdir, 0700) == 0, "%s: %s", recdir, strerror(errno));
	snprintf(old, sizeof old, "%s/00000000000000aa-1.vncrec", recdir);
	it_write_file(old, "vncLog0.0", 0600);
	struct timespec ts[2] = { { time(NULL) - 100 * 86400, 0 },
				  { time(NULL) - 100 * 86400, 0 } };
	IT_ASSERT(utimensat(AT_FDCWD, old, ts, 0) == 0, "utimensat: %s", strerror(errno));
	IT_ASSERT(chmod(top, 0711) == 0, "chmod %s: %s", top, strerror(errno));
	it_give(recdir); /* the network process writes and prunes the recordings */
	it_give(old);
	it_start_opts("recording_exported", users, &o);
	IT_ASSERT(access(old, F_OK) != 0, "%s (100 days old) not pruned at start-up", old);
	json_t *pruned = it_audit_find(NULL, "recording_pruned", NULL);
	IT_ASSERT(pruned != NULL, "no recording_pruned record");
	const char *pf = json_string_value(json_object_get(pruned, "file"));
	IT_ASSERT(pf != NULL && strcmp(pf, "00000000000000aa-1.vncrec") == 0,
		  "recording_pruned names %s", pf != NULL ? pf : "(none)");
	json_decref(pruned);

	c = it_open_page(user, 0, 0, &b);
	it_pump_for(c, 2500);
	IT_ASSERT(it_find_block(c, &b), "the block went away");
	it_conn_free(c);

	rec = it_audit_wait(NULL, RT_AUDIT_S, 1, NULL, "recording", NULL);
	IT_ASSERT(rec != NULL, "no \"recording\" audit record within %d s of the disconnect",
		  RT_AUDIT_S);
	const char *file = json_string_value(json_object_get(rec, "file"));
	const char *sha = json_string_value(json_object_get(rec, "sha256"));
	IT_ASSERT(file != NULL && sha != NULL, "recording record without file/sha256");
	snprintf(path, sizeof path, "%s/%s", recdir, file);
	IT_ASSERT(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	IT_ASSERT((st.st_mode & 0777) == 0600, "%s has mode %o, not 0600", path,
		  (unsigned)(st.st_mode & 0777));
	struct stat dst;
	IT_ASSERT(stat(recdir, &dst) == 0 && (dst.st_mode & 0777) == 0700,
		  "%s has mode %o, not 0700", recdir, (unsigned)(dst.st_mode & 0777));
	rt_sha256(path, hex);
	IT_ASSERT(strcmp(hex, sha) == 0, "sha256 of %s is %s, the audit log says %s", path, hex,
		  sha);
	IT_ASSERT(json_integer_value(json_object_get(rec, "bytes")) == (json_int_t)st.st_size,
		  "the audit log says %lld bytes, the file has %lld",
		  (long long)json_integer_value(json_object_get(rec, "bytes")),
		  (long long)st.st_size);

	snprintf(outdir, sizeof outdir, "%s/frames", top);
	png_image img;
	char last[1400];
	int n;
	png_bytep px = rt_export_last(path, outdir, &img, last, sizeof last, &n);
	IT_ASSERT(n >= 2, "%d PNG frames from a recording of more than 2 s", n);
	int pts[3][2] = { { b.x + b.w / 2, b.y + b.h / 2 },
			  { b.x + 2, b.y + 2 },
			  { b.x + b.w - 3, b.y + b.h - 3 } };
	for (int i = 0; i < 3; i++) {
		int x = pts[i][0], y = pts[i][1];
		IT_ASSERT(x < (int)img.width && y < (int)img.height, "%s is %ux%u", last, img.width,
			  img.height);
		const png_byte *p = px + ((size_t)y * img.width + (size_t)x) * 3;
		IT_ASSERT(abs(p[0] - PAGE_BLOCK_R) <= 12 && abs(p[1] - PAGE_BLOCK_G) <= 12 &&
			      abs(p[2] - PAGE_BLOCK_B) <= 12,
			  "%s: pixel %d,%d is rgb(%d,%d,%d), not the block's rgb(%d,%d,%d)", last,
			  x, y, p[0], p[1], p[2], PAGE_BLOCK_R, PAGE_BLOCK_G, PAGE_BLOCK_B);
	}
	/* outside the block the page is not the block's colour */
	const png_byte *q = px +
	    ((size_t)(b.y + b.h + 5) * img.width + (size_t)(b.x + b.w + 5)) * 3;
	IT_ASSERT(!(abs(q[0] - PAGE_BLOCK_R) <= 12 && abs(q[1] - PAGE_BLOCK_G) <= 12 &&
		    abs(q[2] - PAGE_BLOCK_B) <= 12),
		  "the block's colour outside the block in %s", last);
	free(px);
	fprintf(stderr, "[recording] %s: %lld bytes, %d frames, block at %d,%d in %s\n", file,
		(long long)st.st_size, n, b.x, b.y, last);

	/* a recording with a message the gateway would never have passed on (its
	   handshake, then a timestamp and a TextChat) is refused before
	   libvncclient decodes it */
	char bad[1200];
	{
		static const uint8_t chat[] = { 0, 0, 0,  1, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0,
						0, 0, 11, 0, 0, 0, 0, 0, 0, 4, 'e', 'v', 'i', 'l' };
		uint8_t head[200];
		FILE *in = fopen(path, "rb");
		size_t got = in ? fread(head, 1, sizeof head, in) : 0;

		if (in)
			fclose(in);
		/* magic 9, version 12, security 2, result 4, ServerInit 24 + its name */
		IT_ASSERT(got >= 51, "%s: %zu bytes", path, got);
		size_t hs = 51 +
		    (size_t)(head[47] << 24 | head[48] << 16 | head[49] << 8 | head[50]);
		IT_ASSERT(hs <= got, "%s: a handshake of %zu bytes", path, hs);
		snprintf(bad, sizeof bad, "%s/tampered.vncrec", top);
		FILE *w = fopen(bad, "wb");
		IT_ASSERT(w && fwrite(head, 1, hs, w) == hs &&
			      fwrite(chat, 1, sizeof chat, w) == sizeof chat && fclose(w) == 0,
			  "%s: %s", bad, strerror(errno));
	}
	int rc = it_run(out, sizeof out,
			"%s/pixelgatectl recording export %s --png %s/bad --every 1",
			PIXELGATE_BUILD_DIR, bad, top);
	IT_ASSERT(rc == 1 && strstr(out, "does not pass the gateway's check") &&
		      strstr(out, "(TextChat)"),
		  "export of a tampered recording: exit %d, want 1 and a refusal naming "
		  "TextChat:\n%s",
		  rc, out);

	/* session_end (after the reconnect grace) names the recording too */
	json_t *end = it_audit_wait(NULL, IT_GRACE_S + 20, 1, NULL, "session_end", NULL);
	IT_ASSERT(end != NULL, "no session_end within %d s", IT_GRACE_S + 20);
	const char *ef = json_string_value(json_object_get(end, "recording"));
	const char *es = json_string_value(json_object_get(end, "recording_sha256"));
	IT_ASSERT(ef != NULL && strcmp(ef, file) == 0 && es != NULL && strcmp(es, hex) == 0,
		  "session_end names recording %s sha256 %s, not %s %s", ef ? ef : "(none)",
		  es ? es : "(none)", file, hex);
	json_decref(end);
	json_decref(rec);
	it_run(out, sizeof out, "rm -rf %s", top);
}

/* Pixels of the strip at the bottom right where the watermark's label ends
   (rgb, stride w * bpp) that are darker than the page's white. */
static int rt_label_pixels(const uint8_t *px, int w, int h, int bpp)
{
	int n = 0;
	for (int y = h - 8 - 18; y < h - 8; y++)
		for (int x = w - 24 - 160; x < w - 24; x++) {
			const uint8_t *p = px + ((size_t)y * w + x) * bpp;
			if (p[0] < 0xd0 && p[1] < 0xd0 && p[2] < 0xd0)
				n++;
		}
	return n;
}

/*
 * [policy] watermark = corner: the worker draws the user's name, the
 * terminal's address, the date and the time into the framebuffer: a viewer
 * gets it (no viewer can leave it out) and so does the recording.
 */
IT_TEST(recording, the_watermark_is_in_the_framebuffer_and_the_recording)
{
	static const char *const users[] = { "r9-rei", NULL };
	char extra[1024], recdir[600], out[8192], want[160], day[16];
	struct it_opts o = {
		.extra_conf = "[policy]\nwatermark = corner\n"
			      "watermark_text = {user} {client} {date} {time} 庁内限り\n"
			      "watermark_opacity = 60\n"
	};
	struct it_rect b;
	struct pgc_conn *c;
	time_t now = time(NULL);
	struct tm tm;

	char top[] = "/tmp/pixelgate-rec-XXXXXX";
	it_recording_dir(top, recdir, sizeof recdir, extra, sizeof extra);
	o.audit_extra = extra;
	it_start_opts("recording_the_watermark", users, &o);
	c = it_open_page("r9-rei", 0, 0, &b);
	it_pump_for(c, 2000);
	rfbClient *cl = pgc_rfb(c);
	int seen = rt_label_pixels((const uint8_t *)cl->frameBuffer, cl->width, cl->height, 4);
	IT_ASSERT(seen > 100, "the viewer's framebuffer has %d label pixels at the bottom right",
		  seen);
	/* the worker drew the text with the user, the address and the date */
	localtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	snprintf(want, sizeof want, "watermark: \"r9-rei 127.0.0.1 %s ", day);
	IT_ASSERT(it_file_count(it.daemon_log, want) == 1 &&
		      it_file_count(it.daemon_log, " 庁内限り\" at 60%") == 1,
		  "the daemon log has no line with %s... 庁内限り\" at 60%%", want);
	/* the page's block is still there and whole */
	IT_ASSERT(it_find_block(c, &b), "the block went away");
	it_conn_free(c);

	png_image img;
	png_bytep px = rt_recording_last_frame(recdir, top, &img);
	seen = rt_label_pixels(px, (int)img.width, (int)img.height, 3);
	free(px);
	IT_ASSERT(seen > 100, "the recording's last frame has %d label pixels", seen);
	it_run(out, sizeof out, "rm -rf '%s'", top);
}

/* Pixels of the page's empty right half (rgb, stride w * bpp) that are not
   the page's white: the tiled pattern's text. */
static int rt_pattern_pixels(const uint8_t *px, int w, int h, int bpp, int *bands)
{
	int n = 0;
	*bands = 0;
	/* rows in bands of 100: the pattern is everywhere, not in one place */
	for (int y0 = 200; y0 + 100 <= h - 40; y0 += 100) {
		int in_band = 0;
		for (int y = y0; y < y0 + 100; y++)
			for (int x = w / 2; x < w - 40; x++) {
				const uint8_t *p = px + ((size_t)y * w + x) * bpp;
				if (p[0] < 0xfc && p[0] == p[1] && p[1] == p[2])
					in_band++;
			}
		n += in_band;
		*bands += in_band > 50;
	}
	return n;
}

/*
 * [policy] watermark = tiled: the text repeated diagonally over the whole
 * screen, in the viewer's framebuffer and in the recording.
 */
IT_TEST(recording, the_tiled_watermark_covers_the_screen_and_the_recording)
{
	static const char *const users[] = { "r10-rei", NULL };
	char extra[1024], recdir[600], out[8192];
	/* faint enough for the harness to find the page's block under it
	   (colour tolerance 12) */
	struct it_opts o = { .extra_conf = "[policy]\nwatermark = tiled\nwatermark_opacity = 8\n"
					   "watermark_text = {user} {client} {date} 庁内限り\n" };
	struct it_rect b;
	struct pgc_conn *c;
	int bands;

	char top[] = "/tmp/pixelgate-rec-XXXXXX";
	it_recording_dir(top, recdir, sizeof recdir, extra, sizeof extra);
	o.audit_extra = extra;
	it_start_opts("recording_the_tiled_watermark", users, &o);
	c = it_open_page("r10-rei", 0, 0, &b);
	it_pump_for(c, 2000);
	rfbClient *cl = pgc_rfb(c);
	int seen = rt_pattern_pixels((const uint8_t *)cl->frameBuffer, cl->width, cl->height, 4,
				     &bands);
	IT_ASSERT(seen > 1000 && bands >= 3,
		  "the viewer's framebuffer has %d pattern pixels in the page's empty half, in %d "
		  "bands of 100 rows",
		  seen, bands);
	IT_ASSERT(it_file_count(it.daemon_log, " 庁内限り\" at 8%, tiled") == 1,
		  "the daemon log has no line of the tiled watermark");
	/* the page's block is still found under the faint pattern */
	IT_ASSERT(it_find_block(c, &b), "the block went away");
	it_conn_free(c);

	png_image img;
	png_bytep px = rt_recording_last_frame(recdir, top, &img);
	seen = rt_pattern_pixels(px, (int)img.width, (int)img.height, 3, &bands);
	free(px);
	IT_ASSERT(seen > 1000 && bands >= 3,
		  "the recording's last frame has %d pattern pixels in %d bands", seen, bands);
	it_run(out, sizeof out, "rm -rf '%s'", top);
}
