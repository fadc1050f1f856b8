/*
 * client_clip.h: the terminal's clipboard text as an RFB message (issue 15).
 *
 * Plain ClientCutText carries ISO 8859-1 only; Japanese needs the extended
 * clipboard's form (pseudo-encoding 0xC0A1E5CE): a ClientCutText with a
 * negative length, the flags Provide|text and a zlib stream of the text's
 * size (with its NUL) and the UTF-8 text. libvncclient 0.9.14 has no
 * extended clipboard, so the message is laid out here and its stream made
 * with zlib. The pixelgate gateway takes it whether or not the server
 * announced the extension (it never does: the gateway strips the encoding
 * toward the browser's server and checks and converts the text itself).
 */
#ifndef PIXELGATE_CLIENT_CLIP_H
#define PIXELGATE_CLIENT_CLIP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The message for len bytes of UTF-8 text (no NUL inside) in *msg
 * (malloc'd, *msg_len bytes; free it). The stream is sync-flushed, not
 * finished (libvncserver 0.9.14 refuses a finished one). 0, or -1 (out of
 * memory, or text over PGC_CLIP_MAX bytes).
 */
#define PGC_CLIP_MAX (1u << 20)
int pgc_clip_provide(const char *utf8, size_t len, uint8_t **msg, size_t *msg_len);

#endif
