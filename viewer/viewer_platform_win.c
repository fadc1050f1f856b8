/*
 * viewer_platform_win.c: viewer_platform.h on Windows (MinGW-w64). Paths
 * are UTF-8 in the viewer and wide (UTF-16) towards Windows.
 */
#include "viewer_platform.h"

#include <SDL2/SDL_ttf.h>
#include <aclapi.h>
#include <errno.h>
#include <sddl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

/* UTF-8 -> UTF-16 into out (n wide characters): 0, or -1. */
static int win_wide(const char *utf8, wchar_t *out, int n)
{
	return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, out, n) > 0 ? 0 : -1;
}

/* UTF-16 -> UTF-8 into out (n bytes): 0, or -1. */
static int win_utf8(const wchar_t *w, char *out, int n)
{
	return WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, out, n, NULL, NULL) > 0
	    ? 0
	    : -1;
}

/* The environment variable name as UTF-8 into out: 0, or -1 (unset, empty,
   too long). */
static int win_env(const wchar_t *name, char *out, size_t outlen)
{
	wchar_t w[MAX_PATH * 2];
	DWORD n = GetEnvironmentVariableW(name, w, MAX_PATH * 2);

	if (n == 0 || n >= MAX_PATH * 2)
		return -1;
	return win_utf8(w, out, (int)outlen);
}

int vplat_system_config_path(char *out, size_t outlen)
{
	char base[MAX_PATH * 3];
	int n;

	if (win_env(L"ProgramData", base, sizeof(base)))
		snprintf(base, sizeof(base), "C:\\ProgramData");
	n = snprintf(out, outlen, "%s\\pixelgate\\viewer.conf", base);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const char *vplat_user_config_hint(void)
{
	return "%APPDATA%\\pixelgate\\viewer.conf";
}

int vplat_can_read(const char *path)
{
	wchar_t w[MAX_PATH * 2];
	HANDLE h;

	if (win_wide(path, w, MAX_PATH * 2)) {
		errno = EINVAL;
		return -1;
	}
	h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
			FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();

		errno = e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? ENOENT
		    : e == ERROR_ACCESS_DENIED                                 ? EACCES
									       : EIO;
		return -1;
	}
	CloseHandle(h);
	return 0;
}

/* The account name of sid ("DOMAIN\\user"), or its S-1-... form. */
static void win_sid_name(PSID sid, char *out, size_t outlen)
{
	wchar_t name[256], dom[256];
	DWORD nn = 256, dn = 256;
	SID_NAME_USE use;
	LPWSTR str = NULL;
	char n8[512], d8[512];

	if (LookupAccountSidW(NULL, sid, name, &nn, dom, &dn, &use) && !win_utf8(name, n8, 512) &&
	    !win_utf8(dom, d8, 512)) {
		snprintf(out, outlen, "%s%s%s", d8, d8[0] ? "\\" : "", n8);
		return;
	}
	if (ConvertSidToStringSidW(sid, &str) && !win_utf8(str, n8, 512))
		snprintf(out, outlen, "%s", n8);
	else
		snprintf(out, outlen, "an unknown account");
	if (str)
		LocalFree(str);
}

/* True if sid may read a private file besides its owner: SYSTEM and the
   Administrators group can read every file anyway. */
static BOOL win_sid_trusted(PSID sid, PSID owner)
{
	return EqualSid(sid, owner) || IsWellKnownSid(sid, WinLocalSystemSid) ||
	    IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
	    IsWellKnownSid(sid, WinCreatorOwnerSid);
}

/* True for the accounts that may own or change the settings IT deploys. */
static BOOL win_sid_admin(PSID sid)
{
	static const wchar_t trusted_installer[] =
	    L"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";
	PSID ti = NULL;
	BOOL is_ti = FALSE;

	if (IsWellKnownSid(sid, WinLocalSystemSid) ||
	    IsWellKnownSid(sid, WinBuiltinAdministratorsSid))
		return TRUE;
	if (ConvertStringSidToSidW(trusted_installer, &ti)) {
		is_ti = EqualSid(sid, ti);
		LocalFree(ti);
	}
	return is_ti;
}

static BOOL win_sid_admin_any(PSID sid, PSID owner)
{
	(void)owner;
	return win_sid_admin(sid);
}

/*
 * True if dacl lets an account that ok() does not accept have any of the
 * rights in mask, with the account's name in who; fails closed: no DACL
 * (everyone may do anything), an entry that cannot be read, or an entry of
 * a kind other than plain allow/deny (conditional, object or callback
 * entries, whose effect this check does not work out) all count as "yes".
 */
static BOOL win_acl_grants(PACL dacl, DWORD mask, PSID owner, BOOL (*ok)(PSID, PSID), char *who,
			   size_t wholen)
{
	if (dacl == NULL) {
		snprintf(who, wholen, "everyone (the file has no access list)");
		return TRUE;
	}
	for (DWORD i = 0; i < dacl->AceCount; i++) {
		ACE_HEADER *h;

		if (!GetAce(dacl, i, (void **)&h)) {
			snprintf(who, wholen, "an access-list entry that cannot be read");
			return TRUE;
		}
		if (h->AceFlags & INHERIT_ONLY_ACE)
			continue;
		if (h->AceType == ACCESS_DENIED_ACE_TYPE)
			continue;
		if (h->AceType != ACCESS_ALLOWED_ACE_TYPE) {
			snprintf(who, wholen, "an access-list entry of type %u (not understood)",
				 (unsigned)h->AceType);
			return TRUE;
		}
		ACCESS_ALLOWED_ACE *a = (ACCESS_ALLOWED_ACE *)h;
		PSID sid = (PSID)&a->SidStart;
		if (!(a->Mask & mask) || ok(sid, owner))
			continue;
		win_sid_name(sid, who, wholen);
		return TRUE;
	}
	return FALSE;
}

/* What a checked read asks of a file's owner and access list: 0, or -1
   with the reason in why. */
typedef int (*win_file_check)(const char *path, PSID owner, PACL dacl, char *why, size_t whylen);

/* A password file: no one but the owner (and SYSTEM, Administrators) can
   read it; whoever may change its access list or owner can read it too. */
static int win_check_private(const char *path, PSID owner, PACL dacl, char *why, size_t whylen)
{
	const DWORD reads = FILE_READ_DATA | GENERIC_READ | GENERIC_ALL | MAXIMUM_ALLOWED |
	    WRITE_DAC | WRITE_OWNER;
	char who[512];

	if (!win_acl_grants(dacl, reads, owner, win_sid_trusted, who, sizeof who))
		return 0;
	snprintf(why, whylen,
		 "%s: %s can read it; allow only your own account (icacls FILE /inheritance:r "
		 "/grant:r %%USERNAME%%:R)",
		 path, who);
	return -1;
}

/* The settings IT deploys: owned by Administrators (SYSTEM, TrustedInstaller),
   changeable by no one else. */
static int win_check_admin(const char *path, PSID owner, PACL dacl, char *why, size_t whylen)
{
	const DWORD writes = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA |
	    FILE_WRITE_ATTRIBUTES | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL |
	    MAXIMUM_ALLOWED;
	char who[512];

	if (owner == NULL || !win_sid_admin(owner)) {
		if (owner)
			win_sid_name(owner, who, sizeof(who));
		snprintf(why, whylen,
			 "%s belongs to %s, not to Administrators: a user may have put it there; "
			 "IT installs it (icacls FILE /setowner Administrators)",
			 path, owner ? who : "nobody");
		return -1;
	}
	if (!win_acl_grants(dacl, writes, owner, win_sid_admin_any, who, sizeof who))
		return 0;
	snprintf(why, whylen,
		 "%s can be changed by %s; only Administrators may (icacls FILE "
		 "/inheritance:r /grant:r Administrators:F SYSTEM:F Users:R)",
		 path, who);
	return -1;
}

/*
 * Opens path (a link or other reparse point is not followed), checks its
 * owner and access list with check, and reads at most cap - 1 bytes through
 * the same handle, so nothing can be swapped in between: 0; 1 if it does
 * not exist and absent_ok; -1 with the reason in why.
 */
static int win_read_checked(const char *path, bool absent_ok, win_file_check check, char *buf,
			    size_t cap, size_t *len, char *why, size_t whylen)
{
	wchar_t wpath[MAX_PATH * 2];
	PSECURITY_DESCRIPTOR sd = NULL;
	FILE_ATTRIBUTE_TAG_INFO tag;
	PSID owner = NULL;
	PACL dacl = NULL;
	DWORD rc, got = 0;
	HANDLE h;
	int ret = -1;

	if (win_wide(path, wpath, MAX_PATH * 2)) {
		snprintf(why, whylen, "%s: the path is not valid UTF-8 or too long", path);
		return -1;
	}
	h = CreateFileW(wpath, GENERIC_READ | READ_CONTROL, FILE_SHARE_READ, NULL, OPEN_EXISTING,
			FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();

		if (absent_ok && (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND))
			return 1;
		snprintf(why, whylen, "%s: cannot open it (Windows error %lu)", path, e);
		return -1;
	}
	if (GetFileType(h) != FILE_TYPE_DISK ||
	    !GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag) ||
	    (tag.FileAttributes & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY))) {
		snprintf(why, whylen, "%s: not a regular file", path);
		goto out;
	}
	rc = GetSecurityInfo(h, SE_FILE_OBJECT,
			     OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL,
			     &dacl, NULL, &sd);
	if (rc != ERROR_SUCCESS) {
		snprintf(why, whylen, "%s: cannot read its access list (Windows error %lu)", path,
			 rc);
		goto out;
	}
	if (check(path, owner, dacl, why, whylen))
		goto out;
	if (!ReadFile(h, buf, (DWORD)(cap - 1), &got, NULL)) {
		snprintf(why, whylen, "%s: cannot read it (Windows error %lu)", path,
			 GetLastError());
		goto out;
	}
	buf[got] = '\0';
	*len = got;
	ret = 0;
out:
	if (sd)
		LocalFree(sd);
	CloseHandle(h);
	return ret;
}

int vplat_read_admin_file(const char *path, char *buf, size_t cap, size_t *len, char *why,
			  size_t whylen)
{
	return win_read_checked(path, true, win_check_admin, buf, cap, len, why, whylen);
}

int vplat_read_private_file(const char *path, char *buf, size_t cap, size_t *len, char *why,
			    size_t whylen)
{
	return win_read_checked(path, false, win_check_private, buf, cap, len, why, whylen);
}

/* True if the font file at path (face index) has 日 (U+65E5). */
static int win_font_has_japanese(const char *path, int index)
{
	TTF_Font *f = TTF_OpenFontIndex(path, 12, index);
	int ok;

	if (!f)
		return 0;
	ok = TTF_GlyphIsProvided32(f, 0x65e5) != 0;
	TTF_CloseFont(f);
	return ok;
}

int vplat_find_font(char *path, size_t pathlen, int *index, int *warn)
{
	static const char *const preferred[] = {
		"YuGothM.ttc", /* Yu Gothic Medium: Windows 10 and 11 */
		"YuGothR.ttc",
		"meiryo.ttc",
		"msgothic.ttc",
	};
	char dir[MAX_PATH * 3], first[MAX_PATH * 3] = "";
	wchar_t wpat[MAX_PATH * 2];
	WIN32_FIND_DATAW fd;
	HANDLE fh;

	*index = 0;
	*warn = 0;
	if (win_env(L"WINDIR", dir, sizeof(dir)))
		snprintf(dir, sizeof(dir), "C:\\Windows");
	for (size_t i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++) {
		snprintf(path, pathlen, "%s\\Fonts\\%s", dir, preferred[i]);
		if (win_font_has_japanese(path, 0))
			return 0;
	}
	/* any font of the folder with Japanese (a Windows without the
	   Japanese fonts, Wine with Noto CJK added) */
	snprintf(path, pathlen, "%s\\Fonts\\*", dir);
	if (win_wide(path, wpat, MAX_PATH * 2))
		return -1;
	fh = FindFirstFileW(wpat, &fd);
	if (fh == INVALID_HANDLE_VALUE)
		return -1;
	do {
		char name[MAX_PATH * 3];
		size_t n;

		if (win_utf8(fd.cFileName, name, sizeof(name)) || (n = strlen(name)) < 5)
			continue;
		if (_stricmp(name + n - 4, ".ttf") && _stricmp(name + n - 4, ".ttc") &&
		    _stricmp(name + n - 4, ".otf"))
			continue;
		snprintf(path, pathlen, "%s\\Fonts\\%s", dir, name);
		if (win_font_has_japanese(path, 0)) {
			FindClose(fh);
			return 0;
		}
		if (!first[0])
			snprintf(first, sizeof(first), "%s", path);
	} while (FindNextFileW(fh, &fd));
	FindClose(fh);
	if (!first[0])
		return -1;
	snprintf(path, pathlen, "%s", first);
	*warn = 1;
	return 0;
}

void vplat_set_locale(char *note, size_t notelen)
{
	if (notelen)
		note[0] = '\0';
}
