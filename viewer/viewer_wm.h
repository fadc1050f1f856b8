/*
 * viewer_wm.h: the window title, as window managers and tools see it.
 */
#ifndef PIXELGATE_VIEWER_WM_H
#define PIXELGATE_VIEWER_WM_H

#include <SDL2/SDL.h>

/*
 * Set the window title (UTF-8, e.g. "pixelgate — alice@gw.example"). On
 * X11 the legacy WM_NAME property also gets an ASCII rendering of it
 * ("pixelgate - alice@gw.example"): SDL stores WM_NAME as UTF8_STRING,
 * which tools running in the C locale (xdotool search --name) cannot
 * read, while window managers show _NET_WM_NAME, which keeps the UTF-8
 * title.
 */
void vwm_set_title(SDL_Window *win, const char *utf8);

#endif
