/*
 * ctl_conf.h: pixelgatectl's settings for the admin API: the config files
 * (/etc/pixelgate/pixelgatectl.conf, then ~/.config/pixelgate/pixelgatectl.conf).
 * The server address is checked by pgc_parse_server_url() (client_url.h),
 * the viewer's parser too. Pure code over buffers, no I/O except
 * ctl_conf_load(), so the unit tests and a fuzz target can drive it.
 *
 * File format (INI, one section):
 *
 *     [pixelgatectl]
 *     server = https://pixelgate1.example.lg.jp:8444
 *     ca_file = /etc/pixelgate/ca.crt
 *     user = admin
 *     password_file = /root/.pixelgate-admin   ; only its owner may read it
 *
 * Read as every INI file of pixelgate is (ini_lines.h): '#' or ';' at the
 * start of a line, or ';' after a space, starts a comment; a line holds at
 * most 198 characters (libinih's buffer); an indented line after a key,
 * which libinih would take as more of that value, is refused. Unknown
 * sections or keys, a line that is neither [pixelgatectl] nor key = value,
 * an empty value or a control character (NUL included) are errors
 * ("file:line: message").
 * A relative ca_file or password_file is taken relative to the directory of
 * the file that names it.
 */
#ifndef PIXELGATE_CTL_CONF_H
#define PIXELGATE_CTL_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_CONF_SECTION "pixelgatectl"
#define CTL_CONF_SYSTEM "/etc/pixelgate/pixelgatectl.conf"
/* Relative to $XDG_CONFIG_HOME, or to ~/.config without it. */
#define CTL_CONF_USER "pixelgate/pixelgatectl.conf"
#define CTL_CONF_FILE_MAX (64 * 1024) /* bytes a config file may hold */
#define CTL_URL_MAX 512               /* bytes of a server address */
#define CTL_HOST_MAX 256              /* bytes of a host name, with the NUL */
#define CTL_PATH_MAX 4096             /* bytes of a path, with the NUL */
#define CTL_DEFAULT_SERVER "https://127.0.0.1:8444"
#define CTL_DEFAULT_PORT 8444

/* Settings gathered from the files; an empty string is "not set". */
struct ctl_conf {
	char server[CTL_URL_MAX + 1];
	char ca_file[CTL_PATH_MAX];
	char user[65];
	char password_file[CTL_PATH_MAX];
};

/*
 * Parse config text (len bytes, need not be NUL-terminated) named name in
 * messages, found in directory dir (for relative paths; NULL = leave them
 * relative). Keys found override those already in c; on error c is left
 * as it was. 0, or -1 with "name:line: message" in err.
 */
int ctl_conf_parse(struct ctl_conf *c, const char *name, const char *dir, const char *text,
		   size_t len, char *err, size_t errlen);

/*
 * Read path (at most CTL_CONF_FILE_MAX bytes) and parse it into c. A missing
 * file is not an error when missing_ok. 0, or -1 with a message in err.
 */
int ctl_conf_load(struct ctl_conf *c, const char *path, bool missing_ok, char *err, size_t errlen);

#endif
