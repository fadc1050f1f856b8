/*
 * session_tight.c: text compressed harder than libvncserver lets a viewer ask.
 *
 * libvncserver 0.9.14's Tight encoder (tight.c, SendRectEncodingTight())
 * lowers the compression level of a lossless update to 1 and of one with
 * JPEG to 2 at most, whatever the viewer asks (its CL 9 is clamped to 1
 * before it is looked at): zlib level 1 for the indexed rectangles that
 * anti-aliased text becomes. On bench/run.sh peers' reading page that left
 * pixelgate at 0.54x the bytes of the best peer (1084 kB against 2026).
 *
 * The encoder keeps one zlib stream per kind of rectangle in the client's
 * record (cl->zsStruct[], public in rfb/rfb.h). It starts a stream only when
 * cl->zsActive[i] is false, and calls deflateParams() only when the level it
 * wants differs from cl->zsLevel[i], the level it believes the stream has.
 * So the worker starts the streams itself, at its own levels, before the
 * first update, and before each update writes into cl->zsLevel[] the level
 * libvncserver is about to want: libvncserver compresses with the worker's
 * levels, and frees the streams as its own (rfbClientConnectionGone()). The
 * viewer's zlib does not depend on the level. Should a later libvncserver
 * want other levels, it resets the streams to them: more bytes, nothing
 * broken.
 *
 * Measured (bench/run.sh peers --only read, 3 runs each, bytes / worker+X
 * CPU per 10 s): levels 1/1/1 1083 kB 140 ms; indexed 4: 1019 kB 160-180 ms;
 * indexed 5: 1010 kB 170-200 ms; indexed 6: 1004 kB 240 ms; indexed 9:
 * 985 kB 1080 ms. Full colour above 1 and mono at 9 changed the bytes by
 * less than the noise.
 */
#include "session_tight.h"

#include <string.h>
#include <zlib.h>

/* libvncserver 0.9.14's tightConf[]: zlib level per stream at its
   compression levels 1 and 2 (the only ones it uses with zlib). */
static const int tight_asked[3][TIGHT_STREAMS] = {
	{ 0, 0, 0 }, /* 0: no zlib */
	{ 1, 1, 1 },
	{ 2, 3, 3 },
};

static const int tight_ours[TIGHT_STREAMS] = {
	[TIGHT_FULL_COLOUR] = TIGHT_LEVEL_FULL_COLOUR,
	[TIGHT_MONO] = TIGHT_LEVEL_MONO,
	[TIGHT_INDEXED] = TIGHT_LEVEL_INDEXED,
};

void tight_zlib_prepare(rfbClientPtr cl, int cl_level)
{
	if (cl->preferredEncoding != rfbEncodingTight || cl_level < 1 || cl_level > 2)
		return;
	for (int i = 0; i < TIGHT_STREAMS; i++) {
		if (!cl->zsActive[i]) {
			z_streamp pz = &cl->zsStruct[i];
			memset(pz, 0, sizeof *pz);
			/* as tight.c's CompressData() does, but at our level */
			if (deflateInit2(pz, tight_ours[i], Z_DEFLATED, MAX_WBITS, MAX_MEM_LEVEL,
					 Z_DEFAULT_STRATEGY) != Z_OK)
				continue; /* libvncserver starts it at its own level */
			cl->zsActive[i] = TRUE;
		}
		cl->zsLevel[i] = tight_asked[cl_level][i];
	}
}
