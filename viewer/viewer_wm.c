/*
 * viewer_wm.c: the window title (see viewer_wm.h).
 *
 * The X11 part calls XStoreName() from the libX11 that SDL already loaded
 * (looked up with dlopen(RTLD_NOLOAD), so the viewer does not link libX11
 * itself); without X11 it does nothing.
 */
#include "viewer_wm.h"

#include <SDL2/SDL_syswm.h>
#include <stdio.h>
#include <string.h>

#include "viewer_log.h"

/* ASCII rendering of utf8 into out: the em dash becomes '-', any other
   non-ASCII character '?'. */
static void ascii_title(const char *utf8, char *out, size_t outlen)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)utf8;

	while (*p && o + 1 < outlen) {
		if (*p < 0x80) {
			out[o++] = (char)(*p >= 0x20 && *p != 0x7f ? *p : '?');
			p++;
			continue;
		}
		out[o++] = (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0x94) ? '-' : '?';
		p++;
		while ((*p & 0xc0) == 0x80)
			p++;
	}
	out[o] = '\0';
}

#if defined(SDL_VIDEO_DRIVER_X11)
#include <dlfcn.h>

/* Stores an ASCII WM_NAME on the X11 window of win, if it is one. */
static void x11_store_ascii_name(SDL_Window *win, const char *utf8)
{
	typedef int (*store_name_fn)(Display *, Window, const char *);
	typedef int (*flush_fn)(Display *);
	SDL_SysWMinfo info;
	store_name_fn store_name;
	flush_fn flush;
	char ascii[512];
	void *lib, *sym;

	SDL_VERSION(&info.version);
	if (!SDL_GetWindowWMInfo(win, &info) || info.subsystem != SDL_SYSWM_X11)
		return;
	lib = dlopen("libX11.so.6", RTLD_LAZY | RTLD_NOLOAD);
	if (!lib)
		return;
	sym = dlsym(lib, "XStoreName");
	memcpy(&store_name, &sym, sizeof(sym));
	sym = dlsym(lib, "XFlush");
	memcpy(&flush, &sym, sizeof(sym));
	if (store_name && flush) {
		ascii_title(utf8, ascii, sizeof(ascii));
		store_name(info.info.x11.display, info.info.x11.window, ascii);
		flush(info.info.x11.display);
	}
	dlclose(lib);
}
#endif

void vwm_set_title(SDL_Window *win, const char *utf8)
{
	SDL_SetWindowTitle(win, utf8);
#if defined(SDL_VIDEO_DRIVER_X11)
	x11_store_ascii_name(win, utf8);
#else
	(void)ascii_title;
#endif
}
