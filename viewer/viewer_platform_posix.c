/*
 * viewer_platform_posix.c: viewer_platform.h on Linux.
 */
#include "viewer_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <fontconfig/fontconfig.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vplat_system_config_path(char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s", "/etc/pixelgate/viewer.conf");

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const char *vplat_user_config_hint(void)
{
	return "$XDG_CONFIG_HOME/pixelgate/viewer.conf";
}

int vplat_read_admin_file(const char *path, char *buf, size_t cap, size_t *len, char *why,
			  size_t whylen)
{
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, whylen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (sb.st_uid != 0 || (sb.st_mode & 022)) {
		snprintf(why, whylen,
			 "%s can be changed by others than root (owner uid %u, mode %03o); "
			 "chown root and chmod 644 it",
			 path, (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 0777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, whylen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

int vplat_can_read(const char *path)
{
	return access(path, R_OK);
}

int vplat_read_private_file(const char *path, char *buf, size_t cap, size_t *len, char *why,
			    size_t whylen)
{
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(why, whylen, "%s: cannot open it: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (sb.st_mode & 077) {
		snprintf(why, whylen, "%s is readable by group or others (mode %03o); chmod 600 it",
			 path, (unsigned)(sb.st_mode & 0777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, whylen, "%s: cannot read it: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

/*
 * Asks fontconfig for the best font for Japanese ("Noto Sans CJK JP",
 * lang ja). Fills path and the face index inside a collection (.ttc).
 * Returns 0, or -1 if fontconfig has no font at all (vplat_find_font()).
 */
int vplat_find_font(char *path, size_t pathlen, int *index, int *warn)
{
	FcConfig *cfg = FcInitLoadConfigAndFonts();
	FcPattern *pat = NULL, *match = NULL;
	FcLangSet *ls = NULL;
	FcChar8 *file = NULL;
	FcCharSet *cs = NULL;
	FcResult res = FcResultNoMatch;
	int rc = -1;

	if (!cfg)
		return -1;
	pat = FcPatternCreate();
	ls = FcLangSetCreate();
	if (!pat || !ls)
		goto out;
	FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"Noto Sans CJK JP");
	FcLangSetAdd(ls, (const FcChar8 *)"ja");
	FcPatternAddLangSet(pat, FC_LANG, ls);
	FcPatternAddInteger(pat, FC_WEIGHT, FC_WEIGHT_REGULAR);
	FcPatternAddBool(pat, FC_SCALABLE, FcTrue);
	FcConfigSubstitute(cfg, pat, FcMatchPattern);
	FcDefaultSubstitute(pat);
	match = FcFontMatch(cfg, pat, &res);
	if (!match || FcPatternGetString(match, FC_FILE, 0, &file) != FcResultMatch)
		goto out;
	snprintf(path, pathlen, "%s", (const char *)file);
	if (FcPatternGetInteger(match, FC_INDEX, 0, index) != FcResultMatch)
		*index = 0;
	/* 日 (U+65E5): does the font cover Japanese at all? */
	*warn = FcPatternGetCharSet(match, FC_CHARSET, 0, &cs) != FcResultMatch ||
	    !FcCharSetHasChar(cs, 0x65e5);
	rc = 0;
out:
	if (match)
		FcPatternDestroy(match);
	if (pat)
		FcPatternDestroy(pat);
	if (ls)
		FcLangSetDestroy(ls);
	FcConfigDestroy(cfg);
	return rc;
}

/*
 * The C library locale from the environment, with a UTF-8 character type:
 * X11 needs one to set the UTF-8 window title and to talk to the input
 * method (a locale that is not installed, e.g. LANG=ja_JP.UTF-8 on a box
 * without it, would leave plain "C", and Japanese typed into the window
 * would be lost). The message language is chosen separately (viewer_text.h)
 * and is not affected. What was done is put into note (logged once the log
 * is open); "" if the environment's locale was used as it is.
 */
void vplat_set_locale(char *note, size_t notelen)
{
	const char *cs, *name = getenv("LC_ALL");

	note[0] = '\0';
	if (!name || !*name)
		name = getenv("LC_CTYPE");
	if (!name || !*name)
		name = getenv("LANG");
	if (!setlocale(LC_ALL, "")) {
		setlocale(LC_ALL, "C.UTF-8");
		snprintf(note, notelen,
			 "the locale %s is not installed; characters are handled as C.UTF-8",
			 name && *name ? name : "of the environment");
	}
	cs = nl_langinfo(CODESET);
	if (!cs || strcmp(cs, "UTF-8") != 0) {
		setlocale(LC_CTYPE, "C.UTF-8");
		if (!note[0])
			snprintf(note, notelen,
				 "the locale's character set is %s; characters are handled as "
				 "C.UTF-8",
				 cs ? cs : "unknown");
	}
}
