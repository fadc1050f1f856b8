/*
 * viewer_sanitizer.c: LeakSanitizer settings for sanitizer builds of
 * pixelgate-viewer (empty otherwise).
 *
 * The system's graphics and desktop libraries keep a few allocations until
 * exit (Mesa's GLX/DRI driver, libdbus as used by SDL 2.26, which never
 * shuts it down). They are suppressed by library name, so a leak in our own
 * code still fails the tests. SDL unloads the GL driver at SDL_Quit(),
 * after which LeakSanitizer cannot name it: vsan_pin_libraries() keeps
 * those libraries loaded.
 */
#include "viewer_sanitizer.h"

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>

/* LeakSanitizer asks for this at start-up. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libdbus-1.so\n"
	       "leak:libGLX_mesa.so\n"
	       "leak:libGLX.so\n"
	       "leak:libGL.so\n"
	       "leak:libglapi.so\n"
	       "leak:swrast_dri.so\n"
	       "leak:libLLVM\n"
	       "leak:libX11.so\n"
	       "leak:libxcb\n"
	       "leak:libfontconfig.so\n";
}

void vsan_pin_libraries(void)
{
	static const char *const libs[] = {
		"libGL.so.1",
		"libGLX.so.0",
		"libGLX_mesa.so.0",
		"libglapi.so.0",
		"/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so",
		"libLLVM-15.so.1",
		"libdbus-1.so.3",
		"libX11.so.6",
	};

	/* RTLD_NOLOAD: only if already loaded; RTLD_NODELETE: never unload */
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		dlopen(libs[i], RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}
#else
void vsan_pin_libraries(void)
{
}
#endif
