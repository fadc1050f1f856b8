/*
 * session_tight.h: the zlib levels of libvncserver's Tight streams
 * (session_tight.c).
 */
#ifndef PIXELGATE_SESSION_TIGHT_H
#define PIXELGATE_SESSION_TIGHT_H

#include <rfb/rfb.h>

/* The streams of libvncserver 0.9.14's Tight encoder (tight.c): their
   numbers, the zlib level the worker gives each, and the level that
   libvncserver asks for at each compression level it uses (tightConf[]). */
enum tight_stream { TIGHT_FULL_COLOUR = 0, TIGHT_MONO = 1, TIGHT_INDEXED = 2, TIGHT_STREAMS = 3 };
#define TIGHT_LEVEL_FULL_COLOUR 1 /* photos and gradients: a higher level gained nothing */
#define TIGHT_LEVEL_MONO 9        /* two-colour text: little data, 9 costs nothing */
#define TIGHT_LEVEL_INDEXED 5     /* anti-aliased text: 1 -> 5 is 7 % fewer bytes */

/*
 * Before an update that libvncserver will encode as Tight at compression
 * level cl_level (1: lossless, 2: with JPEG; what worker_display_hook()
 * leaves in cl->tightCompressLevel): starts the client's Tight streams at the
 * worker's levels if they are not started, and records in cl->zsLevel the
 * levels libvncserver is about to ask for, so that it never changes them.
 * Nothing for a viewer whose encoding is not Tight or for a level without
 * zlib (0).
 */
void tight_zlib_prepare(rfbClientPtr cl, int cl_level);

#endif
