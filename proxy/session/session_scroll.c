/*
 * session_scroll.c: a vertical scroll found in a damaged rectangle
 * (session.h, scroll_find()). Pure code over two pixel buffers, so the unit
 * tests drive it with pictures of their own.
 *
 * Each row of the rectangle, in the new picture and in the old, gets a
 * 64-bit hash; a new row whose hash is that of exactly one old row votes for
 * the offset between them (rows that occur more than once, blank lines,
 * vote for nothing). The offset with the most votes is then checked with
 * memcmp row by row, and the longest run of rows that really moved is the
 * block to send as a CopyRect: a fixed header, a footer or a scrollbar
 * outside it stays out.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* Votes an offset needs (rows whose content is found once, moved by it): a
   Page_Down without smooth scrolling keeps only an eighth of the rows, so no
   share of the rectangle is asked for; the rows are compared anyway. */
#define SCROLL_MIN_VOTES 8

static uint64_t scroll_row_hash(const uint8_t *p, size_t bytes)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ bytes;
	size_t i = 0;
	for (; i + 8 <= bytes; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	for (; i < bytes; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h ^ (h >> 32);
}

int scroll_init(struct scroll *sc, int height)
{
	memset(sc, 0, sizeof *sc);
	size_t slots = 16;
	while (slots < (size_t)height * 2)
		slots *= 2;
	sc->height = height;
	sc->slots = slots;
	sc->old_hash = calloc((size_t)height, sizeof *sc->old_hash);
	sc->new_hash = calloc((size_t)height, sizeof *sc->new_hash);
	sc->votes = calloc((size_t)height * 2 + 1, sizeof *sc->votes);
	sc->table = calloc(slots, sizeof *sc->table);
	if (sc->old_hash == NULL || sc->new_hash == NULL || sc->votes == NULL ||
	    sc->table == NULL) {
		scroll_free(sc);
		return -1;
	}
	return 0;
}

void scroll_free(struct scroll *sc)
{
	free(sc->old_hash);
	free(sc->new_hash);
	free(sc->votes);
	free(sc->table);
	memset(sc, 0, sizeof *sc);
}

/* The table's slot for hash h: its old row + 1, 0 if empty, -1 if several rows. */
static int32_t *scroll_slot(struct scroll *sc, uint64_t h)
{
	size_t mask = sc->slots - 1, i = (size_t)h & mask;
	while (sc->table[i].row != 0 && sc->table[i].hash != h)
		i = (i + 1) & mask;
	sc->table[i].hash = h;
	return &sc->table[i].row;
}

bool scroll_find(struct scroll *sc, const uint8_t *newp, size_t new_stride, const uint8_t *oldp,
		 size_t old_stride, int x, int y, int w, int h, int *r0, int *r1, int *shift)
{
	size_t bytes = (size_t)w * 4;
	if (w <= 0 || h < SCROLL_MIN_ROWS || y < 0 || y + h > sc->height)
		return false;
	memset(sc->table, 0, sc->slots * sizeof *sc->table);
	for (int i = 0; i < h; i++) {
		int row = y + i;
		sc->old_hash[i] = scroll_row_hash(oldp + (size_t)row * old_stride + (size_t)x * 4,
						  bytes);
		sc->new_hash[i] = scroll_row_hash(newp + (size_t)row * new_stride + (size_t)x * 4,
						  bytes);
		int32_t *slot = scroll_slot(sc, sc->old_hash[i]);
		*slot = *slot == 0 ? i + 1 : -1;
	}
	/* votes[h + s]: new row i matched old row i + s */
	memset(sc->votes, 0, ((size_t)h * 2 + 1) * sizeof *sc->votes);
	int best = 0, best_votes = 0;
	for (int i = 0; i < h; i++) {
		if (sc->new_hash[i] == sc->old_hash[i])
			continue; /* unchanged rows vote for no scroll */
		int32_t j = *scroll_slot(sc, sc->new_hash[i]) - 1;
		if (j < 0)
			continue;
		int s = j - i;
		if (++sc->votes[h + s] > best_votes) {
			best_votes = sc->votes[h + s];
			best = s;
		}
	}
	if (best == 0 || best_votes < SCROLL_MIN_VOTES)
		return false;
	/* the longest run of rows that moved by best, checked pixel by pixel */
	int run0 = -1, run_len = 0, cur0 = -1;
	for (int i = 0; i <= h; i++) {
		bool moved = false;
		if (i < h && i + best >= 0 && i + best < h)
			moved = memcmp(newp + (size_t)(y + i) * new_stride + (size_t)x * 4,
				       oldp + (size_t)(y + i + best) * old_stride + (size_t)x * 4,
				       bytes) == 0;
		if (moved && cur0 < 0)
			cur0 = i;
		if (!moved && cur0 >= 0) {
			if (i - cur0 > run_len) {
				run_len = i - cur0;
				run0 = cur0;
			}
			cur0 = -1;
		}
	}
	if (run_len < SCROLL_MIN_ROWS)
		return false;
	*r0 = y + run0;
	*r1 = y + run0 + run_len - 1;
	*shift = best;
	return true;
}
