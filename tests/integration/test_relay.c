/*
 * test_relay.c: the relay's back-pressure. A viewer that asks for far more
 * than it reads must not make the gateway's memory grow: the gateway's
 * buffers are bounded and it stops reading the worker instead. The page is
 * the churn page (a band of noise redrawn every 40 ms) and the encoding Raw,
 * so the worker always has megabytes to send; the input budget keeps one
 * update request outstanding, so the stream is as big as the page makes it,
 * not as big as the requests a viewer piles up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Bound on the gateway's growth while a slow viewer has hundreds of MB pending. */
#define RELAY_MAX_GROWTH_KIB (48 * 1024)
#define RELAY_REQUESTS 300
/* What must arrive once the viewer reads (Raw noise: megabytes a frame). */
#define RELAY_DRAIN_BYTES (64ull << 20)
/* What may arrive while it does not: socket and relay buffers, nothing more. */
#define RELAY_PAUSED_MAX_BYTES (48ull << 20)

IT_TEST(relay, slow_viewer_does_not_grow_gateway_memory)
{
	static const char *const users[] = { "t8-slow", NULL };
	struct it_rect r;
	struct it_opts o = { .home_path = "/churn.html" };
	it_start_opts("relay_slow_viewer_does_not_grow_gateway_memory", users, &o);
	struct pgc_conn *c = it_open_page("t8-slow", 0, 0, &r);
	rfbClient *cl = pgc_rfb(c);
	long before = it_rss_kib(it_net_pid());
	IT_ASSERT(before > 0, "cannot read the daemon's memory use");

	/* Raw encoding only, then many full-screen requests, unread. */
	const uint8_t set_raw[8] = { 2, 0, 0, 1, 0, 0, 0, 0 };
	IT_ASSERT(pgc_send_raw(c, set_raw, sizeof set_raw) == 0, "SetEncodings not sent");
	uint8_t req[10] = { 3, 0, 0, 0, 0, 0 };
	req[6] = (uint8_t)(cl->width >> 8);
	req[7] = (uint8_t)cl->width;
	req[8] = (uint8_t)(cl->height >> 8);
	req[9] = (uint8_t)cl->height;
	for (int i = 0; i < RELAY_REQUESTS; i++)
		IT_ASSERT(pgc_send_raw(c, req, sizeof req) == 0, "request %d not sent", i);
	const uint64_t asked = (uint64_t)RELAY_REQUESTS * (uint64_t)cl->width *
	    (uint64_t)cl->height * 4u;

	/*
	 * The viewer reads nothing for 3 s (the worker drops a viewer whose
	 * socket stays full for 5 s); the gateway must hold steady meanwhile.
	 */
	long peak = before;
	uint64_t in_while_paused = 0;
	for (int i = 0; i < 6; i++) {
		it_sleep_ms(500);
		long now = it_rss_kib(it_net_pid());
		if (now > peak)
			peak = now;
		in_while_paused = pgc_bytes_in(c);
	}
	fprintf(stderr,
		"[relay] %llu MB asked for; %llu MB arrived while the viewer did not read;"
		" gateway RSS %ld KiB -> peak %ld KiB\n",
		(unsigned long long)(asked >> 20), (unsigned long long)(in_while_paused >> 20),
		before, peak);
	IT_ASSERT(in_while_paused < RELAY_PAUSED_MAX_BYTES,
		  "the stream did not stall: %llu of %llu bytes arrived unread",
		  (unsigned long long)in_while_paused, (unsigned long long)asked);
	IT_ASSERT(peak - before < RELAY_MAX_GROWTH_KIB,
		  "gateway grew by %ld KiB while the viewer did not read (limit %d KiB)",
		  peak - before, RELAY_MAX_GROWTH_KIB);

	/*
	 * Now read (libvncclient asks for the next update after each one): the
	 * noise keeps coming, megabytes a frame, and memory stays bounded.
	 */
	double deadline = it_now_s() + 300;
	while (pgc_bytes_in(c) < in_while_paused + RELAY_DRAIN_BYTES && it_now_s() < deadline &&
	       !pgc_closed(c)) {
		pgc_pump(c, 200);
		long now = it_rss_kib(it_net_pid());
		if (now > peak)
			peak = now;
	}
	fprintf(stderr, "[relay] drained %llu MB; gateway RSS peak %ld KiB\n",
		(unsigned long long)(pgc_bytes_in(c) >> 20), peak);
	IT_ASSERT(!pgc_closed(c), "closed while draining: %d %s", pgc_close_code(c),
		  pgc_close_reason(c));
	IT_ASSERT(pgc_bytes_in(c) >= in_while_paused + RELAY_DRAIN_BYTES,
		  "only %llu bytes arrived in 300 s of reading",
		  (unsigned long long)(pgc_bytes_in(c) - in_while_paused));
	IT_ASSERT(peak - before < RELAY_MAX_GROWTH_KIB,
		  "gateway grew by %ld KiB while relaying (limit %d KiB)", peak - before,
		  RELAY_MAX_GROWTH_KIB);
}
