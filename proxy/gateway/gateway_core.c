/*
 * gateway_core.c: what every file of the network process shares and none of
 * them owns: the global state (gw) and the two clocks (gateway.h). Kept here
 * so that no file reaches into gateway_main.c for them; the fuzz targets,
 * which build a few gateway files, give their own (tests/fuzz/gw_stubs.c).
 */
#include <time.h>

#include "gateway.h"

static struct gateway gw_state;
struct gateway *gw = &gw_state;

static int64_t gw_clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_now_ms(void)
{
	return gw_clock_ms(CLOCK_MONOTONIC);
}

int64_t gw_wall_ms(void)
{
	return gw_clock_ms(CLOCK_REALTIME);
}
