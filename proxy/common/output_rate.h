/*
 * output_rate.h: the caps on what one viewer is sent (max_fps, max_kbps),
 * the pure part of the relay (gateway_relay.c). No I/O; the caller passes
 * the time (monotonic milliseconds).
 *
 * The relay never queues frames to slow a viewer down: it holds the
 * viewer's FramebufferUpdateRequest (merged with later ones) until the caps
 * allow the next frame, so a capped session shows fewer frames instead of
 * falling behind. Both caps are debts counted in nanoseconds: each request
 * that goes to the worker costs 1 s / max_fps, each write of n bytes to the
 * viewer n * 8 / max_kbps ms, paid from now on (an idle viewer saves up
 * nothing) or from where the last debt ends. The next request may go in the
 * millisecond in which both debts are paid. So over any stretch of time the
 * viewer gets at most max_fps requests a second and max_kbps, give or take
 * a millisecond's worth and the frame in flight, whatever the write sizes:
 * whole milliseconds per write would make a 16 KiB write past 131 Mbit/s,
 * or any write under max_kbps / 8 bytes, cost nothing, and 1000 / max_fps
 * rounded would give 250 or 200 frames for 240.
 */
#ifndef PIXELGATE_OUTPUT_RATE_H
#define PIXELGATE_OUTPUT_RATE_H

#include <stddef.h>
#include <stdint.h>

struct output_rate {
	int64_t bytes_paid_ns;  /* max_kbps: the bytes sent so far are paid for at this time */
	int64_t frames_paid_ns; /* max_fps: the requests sent so far are paid for at this time */
};

/* n bytes went to the viewer at now_ms, under max_kbps (0: no cap, nothing counted). */
void output_rate_sent(struct output_rate *r, size_t n, int max_kbps, int64_t now_ms);

/* A FramebufferUpdateRequest went to the worker at now_ms, under max_fps (0: no cap). */
void output_rate_fbur_sent(struct output_rate *r, int max_fps, int64_t now_ms);

/*
 * When a held FramebufferUpdateRequest may go to the worker (ms, >= now_ms)
 * under max_fps and max_kbps (0: no cap), and not before not_before_ms (the
 * input budget's one-request-outstanding rule, input_budget_fbur_release_ms()).
 */
int64_t output_rate_fbur_due_ms(const struct output_rate *r, int64_t now_ms, int max_fps,
				int max_kbps, int64_t not_before_ms);

/*
 * Merge FramebufferUpdateRequest msg (10 bytes: type, incremental, x, y, w,
 * h big-endian) into the held one: the bounding box of both (clamped to
 * 65535), non-incremental if either is.
 */
void output_rate_merge_fbur(uint8_t held[10], const uint8_t msg[10]);

#endif
