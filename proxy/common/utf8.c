/*
 * utf8.c: the cleaning of outside text, see utf8.h (where the decoder is).
 */
#include "utf8.h"

#include <stdbool.h>
#include <string.h>

/*
 * C0 controls, DEL and C1 controls: they can rewrite a log line or a
 * terminal; with UTF8_CLEAN_BIDI also the bidi controls (utf8_is_bidi_control():
 * marks, embeddings, overrides, isolates), which reorder one.
 */
static bool utf8_is_unsafe(uint32_t cp, unsigned flags)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return true;
	return (flags & UTF8_CLEAN_BIDI) && utf8_is_bidi_control(cp);
}

size_t utf8_clean_text(char *dst, size_t dstlen, const char *src, size_t n, const char *mark,
		       unsigned flags)
{
	const size_t marklen = strlen(mark);
	const unsigned char *s = (const unsigned char *)src;
	size_t limit = dstlen - 1, i = 0, o = 0;
	size_t rewind = 0; /* where the mark goes if a later character does not fit */
	bool cut = false;
	while (i < n) {
		uint32_t cp = 0;
		size_t l = utf8_next(s + i, n - i, &cp);
		const unsigned char *from = s + i;
		size_t outl = l;
		if (l == 0 || utf8_is_unsafe(cp, flags)) {
			from = (const unsigned char *)"?";
			outl = 1;
			if (l == 0)
				l = 1;
		}
		if (o + outl > limit) {
			cut = true;
			break;
		}
		memcpy(dst + o, from, outl);
		o += outl;
		i += l;
		if (o + marklen <= limit)
			rewind = o;
	}
	if (cut && limit >= marklen) {
		o = rewind;
		memcpy(dst + o, mark, marklen);
		o += marklen;
	}
	dst[o] = '\0';
	return o;
}

size_t utf8_clean(char *dst, size_t dstlen, const char *src)
{
	return utf8_clean_text(dst, dstlen, src, strlen(src), UTF8_CUT_MARK, 0);
}
