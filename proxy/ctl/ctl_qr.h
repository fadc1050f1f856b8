/*
 * ctl_qr.h: a QR code in the terminal (libqrencode), for the otpauth URI of
 * `pixelgatectl users totp enroll NAME`: the member of staff scans it with
 * their authenticator app from the administrator's screen.
 */
#ifndef PIXELGATE_CTL_QR_H
#define PIXELGATE_CTL_QR_H

#include <stdio.h>

/*
 * Print text as a QR code (error correction M) to out, two module rows per
 * line in Unicode half blocks, light modules drawn (as `qrencode -t UTF8`:
 * for a dark terminal), with a quiet zone of 2 modules. 0, or -1 (text
 * too long for a QR code, out of memory).
 */
int ctl_print_qr(const char *text, FILE *out);

#endif
