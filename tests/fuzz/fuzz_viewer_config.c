/*
 * fuzz_viewer_config.c: libFuzzer target for the viewer's settings file
 * parser and its server URL parser (files IT deploys and users edit, so
 * outside bytes). Invariants: never crashes; a refused file leaves the
 * settings unchanged and an error message that is NUL-terminated; an
 * accepted server URL yields a non-empty host and a port in 1..65535.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "viewer_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct viewer_config c, before;
	char err[256];
	viewer_config_defaults(&c);
	before = c;
	memset(err, 'x', sizeof err);
	if (viewer_config_parse(&c, "fuzz", (const char *)data, size, err, sizeof err) != 0) {
		if (memchr(err, '\0', sizeof err) == NULL || memcmp(&c, &before, sizeof c) != 0)
			abort();
	} else if (c.server[0] != '\0') {
		char host[VIEWER_HOST_MAX + 1];
		int port = 0;
		if (pgc_parse_server_url(c.server, VIEWER_DEFAULT_PORT, host, sizeof host, &port,
					 err, sizeof err) == 0 &&
		    (host[0] == '\0' || port < 1 || port > 65535))
			abort();
	}
	/* The URL parser on the raw bytes as well. */
	char url[1024];
	size_t n = size < sizeof url - 1 ? size : sizeof url - 1;
	memcpy(url, data, n);
	url[n] = '\0';
	char host[VIEWER_HOST_MAX + 1];
	int port = 0;
	if (pgc_parse_server_url(url, VIEWER_DEFAULT_PORT, host, sizeof host, &port, err,
				 sizeof err) == 0 &&
	    (host[0] == '\0' || port < 1 || port > 65535))
		abort();
	return 0;
}
