/*
 * client_recording.h: reading a session recording (vncrec, README "Session
 * recording") for `pixelgatectl recording export` and the viewer's player
 * (pixelgate-viewer --play): one definition of "the screen at time T".
 *
 * Opening a recording reads it once into sealed memory (a memfd), which is
 * what libvncclient decodes (the bytes hashed are the bytes shown, whatever
 * happens to the file meanwhile); checks every byte with the gateway's own
 * server -> client check (rfb_stream.c) as a viewer asking for everything
 * the gateway allows, in the 32-bit format the client decodes with, before
 * libvncclient decodes any of it; computes its SHA-256; and indexes each
 * message's timestamp. Time 0 is the first message; the screen at time T is what
 * libvncclient's framebuffer holds once every message stamped at or before
 * T is decoded. Going back decodes again from the start (zlib streams have
 * no other way back).
 *
 * POSIX only (the player and the export run where the recordings are).
 */
#ifndef PIXELGATE_CLIENT_RECORDING_H
#define PIXELGATE_CLIENT_RECORDING_H

#include <rfb/rfbclient.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGC_REC_MESSAGES_MAX (16u * 1024 * 1024) /* a longer recording is refused */
/* a larger file is refused: it is copied into memory whole */
#define PGC_REC_BYTES_MAX (4ull * 1024 * 1024 * 1024)

struct pgc_rec {
	rfbClient *cl;       /* the decoder; NULL between a failed restart and close */
	char *path;          /* owned */
	int memfd;           /* the bytes checked and hashed, sealed: what is decoded */
	int64_t *t_us;       /* each message's time from the first, microseconds */
	size_t n;            /* messages */
	size_t next;         /* the next message to decode */
	int64_t start_us;    /* the first message's wall-clock time (unix, microseconds) */
	uint64_t bytes;      /* the file's size */
	char sha256[65];     /* lower-case hex of the whole file */
	unsigned generation; /* counts decodes that changed the screen (for redraws) */
};

/*
 * Open and check path. Returns the recording, decoded up to its handshake
 * (the screen before time 0), or NULL with why ("not a vncrec file", "at
 * byte N: ...", the system's error).
 */
struct pgc_rec *pgc_rec_open(const char *path, char *why, size_t whylen);

void pgc_rec_close(struct pgc_rec *r);

/* The time of the last message (0 for none), microseconds. */
int64_t pgc_rec_duration_us(const struct pgc_rec *r);

/* The time of the next message to decode, or -1 at the end. */
int64_t pgc_rec_next_us(const struct pgc_rec *r);

/*
 * Make the framebuffer the screen at time t_us (clamped to 0..duration):
 * decode forward, or from the start when t_us is before a decoded message.
 * 0, or -1 with why (the recording could not be decoded again, or
 * libvncclient stopped where the check had passed it); the recording is
 * then unusable.
 */
int pgc_rec_goto(struct pgc_rec *r, int64_t t_us, char *why, size_t whylen);

/*
 * The framebuffer's pixel (x, y) as 8-bit red, green and blue, from
 * libvncclient's 32-bit format (whatever its shifts).
 */
void pgc_rec_rgb(const struct pgc_rec *r, int x, int y, uint8_t rgb[3]);

#endif
