/*
 * test_output_rate.c: the caps on what one viewer is sent (max_fps,
 * max_kbps; proxy/common/output_rate.c), as an administrator who set them
 * measures them. A simulated viewer that asks for frames as fast as the
 * relay lets it gets max_fps frames a second (1 to 240), and max_kbps
 * through the relay's real write sizes (16 KiB chunks, small updates, tiny
 * writes) from 64 kbit/s to 10 Gbit/s, within 1 % and never more at any
 * point; with both caps the stricter rules; an idle viewer saves nothing
 * up; no cap means no wait; the one-request-outstanding rule wins when it
 * is later; held requests merge into the bounding box, clamped,
 * non-incremental if any was.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "output_rate.h"

Test(output_rate, no_cap_no_wait)
{
	struct output_rate r = { 0 };
	output_rate_sent(&r, 1 << 20, 0, 1000);
	output_rate_fbur_sent(&r, 0, 1000);
	cr_expect_eq(r.bytes_paid_ns, 0, "no cap: nothing counted");
	cr_expect_eq(r.frames_paid_ns, 0, "no cap: nothing counted");
	cr_expect_eq(output_rate_fbur_due_ms(&r, 1000, 0, 0, 0), 1000);
	cr_expect_eq(output_rate_fbur_due_ms(&r, 1000, 0, 0, 1200), 1200,
		     "the outstanding request still holds the next one");
	cr_expect_eq(output_rate_fbur_due_ms(&r, 1000, 30, 100, 0), 1000,
		     "the first request goes at once");
}

/*
 * A viewer that asks again as soon as the relay lets it: nframes + 1
 * requests released; each frame's frame_bytes go out at once in writes of
 * at most write_max bytes. *elapsed_ms: from the first release to the last;
 * *bytes: of the frames before the last. Checks as it goes that no stretch
 * from the start got more than the caps allow (a millisecond's worth and
 * the frame in flight aside).
 */
static void simulate(int max_fps, int max_kbps, size_t frame_bytes, size_t write_max, int nframes,
		     int64_t *elapsed_ms, int64_t *bytes)
{
	struct output_rate r = { 0 };
	int64_t start = 5000, now = start, sent = 0;
	for (int f = 0; f <= nframes; f++) {
		int64_t at = output_rate_fbur_due_ms(&r, now, max_fps, max_kbps, 0);
		cr_assert_geq(at, now);
		now = at;
		int64_t t = now - start;
		if (max_fps > 0)
			cr_assert_leq((int64_t)f, (int64_t)max_fps * (t + 1) / 1000 + 1,
				      "max_fps %d: request %d after %lld ms", max_fps, f,
				      (long long)t);
		if (max_kbps > 0)
			cr_assert_leq(sent * 8,
				      (int64_t)max_kbps * (t + 1) + (int64_t)frame_bytes * 8,
				      "max_kbps %d: %lld bytes after %lld ms", max_kbps,
				      (long long)sent, (long long)t);
		if (f == nframes)
			break;
		output_rate_fbur_sent(&r, max_fps, now);
		for (size_t left = frame_bytes; left > 0;) {
			size_t n = left < write_max ? left : write_max;
			output_rate_sent(&r, n, max_kbps, now);
			left -= n;
			sent += (int64_t)n;
		}
	}
	*elapsed_ms = now - start;
	*bytes = sent;
}

Test(output_rate, max_fps_is_met_and_never_passed)
{
	static const int caps[] = { 1, 7, 24, 30, 60, 144, 240 };
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		int64_t ms, bytes;
		int n = caps[i] * 5; /* five seconds' worth */
		simulate(caps[i], 0, 1000, 16384, n, &ms, &bytes);
		double fps = n * 1000.0 / (double)ms;
		cr_expect_leq(fps, caps[i] * 1.002, "max_fps %d: %.2f a second", caps[i], fps);
		cr_expect_geq(fps, caps[i] * 0.99, "max_fps %d: only %.2f a second", caps[i], fps);
	}
}

Test(output_rate, max_kbps_is_met_and_never_passed_whatever_the_write_sizes)
{
	static const int caps[] = { 64, 1000, 8000, 50000, 100000, 200000, 1000000, 10000000 };
	static const struct {
		size_t frame, write_max;
	} shapes[] = {
		{ 200000, 16384 }, /* big updates in the relay's 16 KiB chunks */
		{ 3000, 16384 },   /* a blinking cursor: small frames, one write each */
		{ 100, 100 },      /* tiny writes */
	};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
			/* at least 300 ms of frames: a millisecond's slack is 0.3 % of it */
			int64_t ms, bytes;
			int64_t n = (int64_t)caps[i] * 300 / ((int64_t)shapes[s].frame * 8) + 1;
			simulate(0, caps[i], shapes[s].frame, shapes[s].write_max,
				 (int)(n < 50 ? 50 : n), &ms, &bytes);
			double kbps = (double)bytes * 8 / (double)ms;
			cr_expect_leq(kbps, caps[i] * 1.01,
				      "max_kbps %d, %zu-byte frames in %zu-byte writes: %.0f kbit/s",
				      caps[i], shapes[s].frame, shapes[s].write_max, kbps);
			cr_expect_geq(kbps, caps[i] * 0.99,
				      "max_kbps %d, %zu-byte frames in %zu-byte writes: only %.0f "
				      "kbit/s",
				      caps[i], shapes[s].frame, shapes[s].write_max, kbps);
		}
	}
}

Test(output_rate, both_caps_the_stricter_one_rules)
{
	int64_t ms, bytes;
	/* 30 fps of 100 KB frames is 24 Mbit/s: a 8 Mbit/s cap gives 10 fps */
	simulate(30, 8000, 100000, 16384, 50, &ms, &bytes);
	cr_expect_leq(50 * 1000.0 / (double)ms, 10.1);
	cr_expect_geq(50 * 1000.0 / (double)ms, 9.9);
	/* 30 fps of 1 KB frames is 240 kbit/s: a 8 Mbit/s cap leaves 30 fps */
	simulate(30, 8000, 1000, 16384, 150, &ms, &bytes);
	cr_expect_leq(150 * 1000.0 / (double)ms, 30.1);
	cr_expect_geq(150 * 1000.0 / (double)ms, 29.7);
}

Test(output_rate, a_debt_is_paid_from_now_not_from_the_past)
{
	/* an idle viewer does not save up bandwidth for a burst */
	struct output_rate r = { 0 };
	output_rate_sent(&r, 125000, 1000, 1000); /* 1 Mbit at 1000 kbps: 1 s */
	cr_expect_eq(output_rate_fbur_due_ms(&r, 1000, 0, 1000, 0), 2000);
	output_rate_sent(&r, 125000, 1000, 60000); /* a minute later */
	cr_expect_eq(output_rate_fbur_due_ms(&r, 60000, 0, 1000, 0), 61000);
	/* a debt still running adds up */
	output_rate_sent(&r, 125000, 1000, 60500);
	cr_expect_eq(output_rate_fbur_due_ms(&r, 60500, 0, 1000, 0), 62000);
	/* a cap lowered at run time applies to what is sent next */
	output_rate_sent(&r, 125000, 100, 60500);
	cr_expect_eq(output_rate_fbur_due_ms(&r, 60500, 0, 100, 0), 72000);
	/* a cap switched off no longer holds anything */
	cr_expect_eq(output_rate_fbur_due_ms(&r, 60500, 0, 0, 0), 60500);
	/* frames: one request at 10 fps, then the next 100 ms later, not earlier */
	struct output_rate z = { 0 };
	output_rate_fbur_sent(&z, 10, 5000);
	cr_expect_eq(output_rate_fbur_due_ms(&z, 5000, 10, 0, 0), 5100);
	cr_expect_eq(output_rate_fbur_due_ms(&z, 5099, 10, 0, 0), 5100);
	cr_expect_eq(output_rate_fbur_due_ms(&z, 5100, 10, 0, 0), 5100);
	cr_expect_eq(output_rate_fbur_due_ms(&z, 5000, 10, 0, 5250), 5250,
		     "the outstanding rule when it is later");
}

/* A FramebufferUpdateRequest. */
static void fbur(uint8_t m[10], int incremental, unsigned x, unsigned y, unsigned w, unsigned h)
{
	m[0] = 3;
	m[1] = (uint8_t)incremental;
	m[2] = (uint8_t)(x >> 8), m[3] = (uint8_t)x;
	m[4] = (uint8_t)(y >> 8), m[5] = (uint8_t)y;
	m[6] = (uint8_t)(w >> 8), m[7] = (uint8_t)w;
	m[8] = (uint8_t)(h >> 8), m[9] = (uint8_t)h;
}

Test(output_rate, held_requests_merge_into_their_bounding_box)
{
	static const struct {
		const char *what;
		unsigned a[5], b[5], want[5]; /* incremental, x, y, w, h */
	} cases[] = {
		{ "same area",
		  { 1, 0, 0, 1280, 800 },
		  { 1, 0, 0, 1280, 800 },
		  { 1, 0, 0, 1280, 800 } },
		{ "two corners",
		  { 1, 0, 0, 10, 10 },
		  { 1, 100, 200, 10, 10 },
		  { 1, 0, 0, 110, 210 } },
		{ "inside", { 1, 0, 0, 1280, 800 }, { 1, 10, 10, 5, 5 }, { 1, 0, 0, 1280, 800 } },
		{ "a full request wins",
		  { 1, 0, 0, 10, 10 },
		  { 0, 0, 0, 10, 10 },
		  { 0, 0, 0, 10, 10 } },
		{ "a full request stays full",
		  { 0, 0, 0, 10, 10 },
		  { 1, 0, 0, 10, 10 },
		  { 0, 0, 0, 10, 10 } },
		{ "empty areas", { 1, 5, 5, 0, 0 }, { 1, 9, 9, 0, 0 }, { 1, 5, 5, 4, 4 } },
		{ "past 65535 is clamped",
		  { 1, 65000, 65000, 535, 535 },
		  { 1, 65535, 65535, 65535, 65535 },
		  { 1, 65000, 65000, 535, 535 } },
		{ "hostile sizes from 0",
		  { 1, 0, 0, 65535, 65535 },
		  { 1, 65535, 65535, 65535, 65535 },
		  { 1, 0, 0, 65535, 65535 } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const unsigned *a = cases[i].a, *b = cases[i].b, *w = cases[i].want;
		uint8_t held[10], msg[10], want[10];
		fbur(held, (int)a[0], a[1], a[2], a[3], a[4]);
		fbur(msg, (int)b[0], b[1], b[2], b[3], b[4]);
		fbur(want, (int)w[0], w[1], w[2], w[3], w[4]);
		output_rate_merge_fbur(held, msg);
		cr_expect_eq(memcmp(held, want, 10), 0,
			     "%s: %u,%u %ux%u inc %u; expected %u,%u %ux%u inc %u", cases[i].what,
			     held[2] << 8 | held[3], held[4] << 8 | held[5], held[6] << 8 | held[7],
			     held[8] << 8 | held[9], held[1], w[1], w[2], w[3], w[4], w[0]);
	}
}
