/*
 * viewer_config.h: pixelgate-viewer's settings file.
 *
 * Read in order, later values overriding earlier ones:
 *   1. /etc/pixelgate/viewer.conf        (deployed by IT; on Windows
 *      %ProgramData%\pixelgate\viewer.conf, vplat_system_config_path())
 *   2. $XDG_CONFIG_HOME/pixelgate/viewer.conf
 *      (~/.config/pixelgate/viewer.conf; on Windows %APPDATA%\pixelgate\viewer.conf)
 *   3. the command line (--server, --ca, --user).
 * Format: INI (UTF-8, at most 64 KiB), section [viewer], keys server
 * (https://host[:port], pgc_parse_server_url()), ca_file, user, language (ja|en|auto). An empty
 * value clears what an earlier file set. Unknown sections and keys, a key
 * set twice in one file, over-long values, NUL bytes and text that is not
 * UTF-8 are errors reported as "file:line: message".
 * Passwords are never read from or written to this file.
 *
 *   [viewer]
 *   server = https://pixelgate.example.lg.jp:8443
 *   ca_file = /etc/pixelgate/ca.pem
 *   language = ja
 */
#ifndef PIXELGATE_VIEWER_CONFIG_H
#define PIXELGATE_VIEWER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "client_url.h"

#define VIEWER_HOST_MAX 256
#define VIEWER_PATH_MAX 1024
#define VIEWER_USER_MAX 64
#define VIEWER_CONFIG_MAX_BYTES 65536 /* larger files are refused */

struct viewer_config {
	char server[VIEWER_HOST_MAX + 16]; /* as written: https://host[:port] */
	char ca_file[VIEWER_PATH_MAX];
	char user[VIEWER_USER_MAX + 1];
	char language[8]; /* "ja", "en" or "auto" (default) */
};

/* Everything empty, language "auto". */
void viewer_config_defaults(struct viewer_config *c);

/*
 * Parse text (INI, len bytes, need not be NUL-terminated) named name into c.
 * 0, or -1 with "name:line: message" in err; on error c is left unchanged.
 * Lines are limited by libinih's buffer (200 bytes in Debian's build).
 */
int viewer_config_parse(struct viewer_config *c, const char *name, const char *text, size_t len,
			char *err, size_t errlen);

/*
 * Load path into c; a missing file (ENOENT) is fine when missing_ok. 0 or
 * -1 + err ("path: ..." or "path:line: ..."); on error c is left unchanged.
 * Files over 64 KiB are refused.
 */
int viewer_config_load(struct viewer_config *c, const char *path, bool missing_ok, char *err,
		       size_t errlen);

/*
 * The per-user file's path (see above) into out: $XDG_CONFIG_HOME when it
 * is an absolute path, else $HOME/.config. 0, or -1 if HOME is unknown (or
 * not absolute) or the path does not fit in outlen.
 */
int viewer_config_user_path(char *out, size_t outlen);

/* The port of a server address without one (pgc_parse_server_url()). */
#define VIEWER_DEFAULT_PORT 443

#endif
