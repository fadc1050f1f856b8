/*
 * viewer_sanitizer.h: LeakSanitizer support for sanitizer builds (no-ops
 * otherwise). See viewer_sanitizer.c.
 */
#ifndef PIXELGATE_VIEWER_SANITIZER_H
#define PIXELGATE_VIEWER_SANITIZER_H

/* Keep the graphics libraries loaded until exit (call before SDL_Quit()). */
void vsan_pin_libraries(void);

#endif
