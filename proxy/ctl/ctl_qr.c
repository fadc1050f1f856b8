/*
 * ctl_qr.c: a QR code in the terminal (see ctl_qr.h).
 */
#include "ctl_qr.h"

#include <qrencode.h>
#include <stdbool.h>

#define CTL_QR_QUIET 2

/* Whether module (x, y) is dark; outside the symbol (the quiet zone) light. */
static bool ctl_qr_dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return q->data[y * q->width + x] & 1;
}

int ctl_print_qr(const char *text, FILE *out)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (q == NULL)
		return -1;
	for (int y = -CTL_QR_QUIET; y < q->width + CTL_QR_QUIET; y += 2) {
		for (int x = -CTL_QR_QUIET; x < q->width + CTL_QR_QUIET; x++) {
			bool top = !ctl_qr_dark(q, x, y), bottom = !ctl_qr_dark(q, x, y + 1);
			/* light is drawn: upper half, lower half, both, neither */
			fputs(top && bottom ? "\u2588"
				  : top     ? "\u2580"
				  : bottom  ? "\u2584"
					    : " ",
			      out);
		}
		fputc('\n', out);
	}
	QRcode_free(q);
	return 0;
}
