/*
 * viewer_platform.h: what pixelgate-viewer needs from the operating system
 * where Linux and Windows differ (viewer_platform_posix.c,
 * viewer_platform_win.c); the client library's part is pgc_platform.h.
 */
#ifndef PIXELGATE_VIEWER_PLATFORM_H
#define PIXELGATE_VIEWER_PLATFORM_H

#include <stddef.h>

/*
 * The settings file IT deploys: /etc/pixelgate/viewer.conf, or on Windows
 * %ProgramData%\pixelgate\viewer.conf (writable by Administrators only; the
 * MSI creates the folder so). 0, or -1 if it does not fit.
 */
int vplat_system_config_path(char *out, size_t outlen);

/*
 * Reads the settings file IT deploys (at most cap - 1 bytes, NUL-terminated,
 * length in *len). It pins the server and the CA for every user of the PC,
 * so only administrators may be able to change it; it is checked and read
 * through one open handle (nothing can be swapped in between). POSIX: owned
 * by root, not writable by group or others. Windows: owned by
 * Administrators, SYSTEM or TrustedInstaller, and no access-control entry
 * lets anyone else write, append, delete or re-permission it; an entry of a
 * kind not understood fails the check (C:\ProgramData lets every user create
 * files in its folders, so a file a user made there is refused). Returns 1
 * if the file does not exist, 0 when read, -1 with the reason in why.
 */
int vplat_read_admin_file(const char *path, char *buf, size_t cap, size_t *len, char *why,
			  size_t whylen);

/* How the per-user file is named in messages ("$XDG_CONFIG_HOME/...",
   "%APPDATA%\..."). */
const char *vplat_user_config_hint(void);

/* 0 if this user can open path for reading, else -1 with errno set
   (ENOENT, EACCES, ...). */
int vplat_can_read(const char *path);

/*
 * Reads the first cap - 1 bytes at most of a private file (the password
 * file) into buf, NUL-terminated, its length in *len. Private: a regular
 * file that only its owner can read (POSIX: no group or other permission
 * bits; Windows: no access-control entry lets anyone but the owner, SYSTEM
 * or Administrators read it). 0, or -1 with the reason in why.
 */
int vplat_read_private_file(const char *path, char *buf, size_t cap, size_t *len, char *why,
			    size_t whylen);

/*
 * The font for the window's own text (the login form, messages), which
 * must have Japanese: fontconfig's best match for "Noto Sans CJK JP" on
 * Linux; on Windows Yu Gothic, Meiryo or MS Gothic from the Windows fonts
 * folder, else the first font there that has 日. Fills path and the face
 * index in a collection. 0, or -1 (nothing found). *warn is set when the
 * font found has no Japanese.
 */
int vplat_find_font(char *path, size_t pathlen, int *index, int *warn);

/*
 * The C library's locale for character handling: the environment's, with
 * a UTF-8 character set (X11 needs one to talk to the input method; a
 * locale that is not installed would leave "C" and Japanese typed would be
 * lost). What was done goes into note ("" if nothing), logged by the caller
 * once the log is open. Nothing on Windows: SDL hands text over as UTF-8.
 */
void vplat_set_locale(char *note, size_t notelen);

#endif
