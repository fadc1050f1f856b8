/*
 * output_rate.c: a viewer's frame rate and bandwidth caps, see output_rate.h.
 */
#include "output_rate.h"

#define NS_PER_MS 1000000
#define NS_PER_S 1000000000

/* Add cost_ns to a debt that is paid from now_ms on at the earliest. */
static void output_rate_owe(int64_t *paid_ns, int64_t cost_ns, int64_t now_ms)
{
	int64_t now_ns = now_ms * NS_PER_MS;
	if (*paid_ns < now_ns)
		*paid_ns = now_ns;
	*paid_ns += cost_ns;
}

void output_rate_sent(struct output_rate *r, size_t n, int max_kbps, int64_t now_ms)
{
	/* kbps = bits per millisecond; n is at most a few MiB */
	if (max_kbps > 0)
		output_rate_owe(&r->bytes_paid_ns, (int64_t)n * 8 * NS_PER_MS / max_kbps, now_ms);
}

void output_rate_fbur_sent(struct output_rate *r, int max_fps, int64_t now_ms)
{
	if (max_fps > 0)
		output_rate_owe(&r->frames_paid_ns, NS_PER_S / max_fps, now_ms);
}

int64_t output_rate_fbur_due_ms(const struct output_rate *r, int64_t now_ms, int max_fps,
				int max_kbps, int64_t not_before_ms)
{
	int64_t at = now_ms;
	/* the millisecond in which a debt is paid */
	if (max_fps > 0 && r->frames_paid_ns / NS_PER_MS > at)
		at = r->frames_paid_ns / NS_PER_MS;
	if (max_kbps > 0 && r->bytes_paid_ns / NS_PER_MS > at)
		at = r->bytes_paid_ns / NS_PER_MS;
	return not_before_ms > at ? not_before_ms : at;
}

static uint32_t output_rate_u16(const uint8_t *p)
{
	return (uint32_t)(p[0] << 8 | p[1]);
}

static void output_rate_put_u16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void output_rate_merge_fbur(uint8_t held[10], const uint8_t msg[10])
{
	uint32_t x0 = output_rate_u16(held + 2), y0 = output_rate_u16(held + 4);
	uint32_t x1 = x0 + output_rate_u16(held + 6), y1 = y0 + output_rate_u16(held + 8);
	uint32_t mx0 = output_rate_u16(msg + 2), my0 = output_rate_u16(msg + 4);
	uint32_t mx1 = mx0 + output_rate_u16(msg + 6), my1 = my0 + output_rate_u16(msg + 8);
	held[1] = (uint8_t)(held[1] && msg[1]); /* non-incremental wins */
	x0 = mx0 < x0 ? mx0 : x0;
	y0 = my0 < y0 ? my0 : y0;
	x1 = mx1 > x1 ? mx1 : x1;
	y1 = my1 > y1 ? my1 : y1;
	if (x1 > 0xffff)
		x1 = 0xffff;
	if (y1 > 0xffff)
		y1 = 0xffff;
	output_rate_put_u16(held + 2, x0);
	output_rate_put_u16(held + 4, y0);
	output_rate_put_u16(held + 6, x1 - x0);
	output_rate_put_u16(held + 8, y1 - y0);
}
