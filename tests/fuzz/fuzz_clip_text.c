/*
 * fuzz_clip_text.c: libFuzzer target for the clipboard text the gateway
 * takes from a viewer (clip_text.c): the extended clipboard's Provide (a
 * zlib stream, a size, UTF-8 text) and plain Latin-1 text.
 *
 * Input: byte 0 chooses the cap (cap = (byte >> 1) * 128) and whether the
 * text is for the terminal (bit 0: clip_text_for_terminal()'s rules), the
 * rest is a Provide's stream and also, as it is, Latin-1 text and UTF-8
 * text for the terminal. Checked for every input:
 *   - a refusal leaves *out NULL and gives a non-empty reason;
 *   - accepted text is NUL-terminated at *outlen, at most cap bytes, valid
 *     UTF-8 with no NUL, C0 (other than tab and LF), DEL or C1 character,
 *     and no CR; for the terminal no bidi control or invisible character
 *     either (also for the cleaned text, clip_text_clean_utf8());
 *   - the Latin-1 conversion keeps the same promises within 2 * len + 1.
 * Failures abort(), so they fire even when built with -DNDEBUG.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip_text.h"
#include "support.h"
#include "utf8.h"

#define CHECK FUZZ_CHECK

/* text[0 .. n) is what clip_text promises: safe UTF-8, LF line ends. */
static void check_text(const char *text, size_t n, bool terminal)
{
	CHECK(text[n] == '\0');
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_next((const uint8_t *)text + i, n - i, &cp);
		CHECK(k > 0);
		CHECK(cp != 0 && cp != '\r' && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f));
		CHECK(cp >= 0x20 || cp == '\t' || cp == '\n');
		CHECK(!terminal || (!utf8_is_bidi_control(cp) && !utf8_is_invisible(cp)));
		i += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cap = (size_t)(data[0] >> 1) * 128;
	bool terminal = (data[0] & 1) != 0;
	data++;
	size--;

	char *out = (char *)0x1, why[CLIP_TEXT_WHY_LEN] = "";
	size_t n = 0;
	if (clip_text_from_provide(data, size, cap, terminal, &out, &n, why, sizeof why) == 0) {
		CHECK(out != NULL);
		CHECK(n <= cap);
		check_text(out, n, terminal);
		free(out);
	} else {
		CHECK(out == NULL);
		CHECK(why[0] != '\0' && memchr(why, '\0', sizeof why) != NULL);
	}

	size_t lcap = 2 * size + 1;
	char *text = malloc(lcap);
	CHECK(text != NULL);
	why[0] = '\0';
	if (clip_text_from_latin1(data, size, text, lcap, &n, why, sizeof why) == 0) {
		CHECK(n < lcap);
		check_text(text, n, false);
	} else {
		CHECK(why[0] != '\0');
	}
	size_t removed = 0;
	why[0] = '\0';
	if (clip_text_clean_utf8(data, size, text, size + 1, &n, &removed, why, sizeof why) == 0) {
		CHECK(n <= size);
		check_text(text, n, true);
	} else {
		CHECK(why[0] != '\0');
	}
	free(text);
	return 0;
}
