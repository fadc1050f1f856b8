/*
 * gateway_clipboard.c: clipboard text at the boundary (issue 15).
 *
 * Terminal -> browser: a ClientCutText the filter let through
 * (clipboard_to_browser on, within clipboard_max_bytes), plain (ISO 8859-1)
 * or the extended clipboard's Provide of text (UTF-8 in a zlib stream, which
 * is how Japanese comes), is made safe (clip_text.h), audited as a
 * "clipboard" record and forwarded to the worker as a plain ClientCutText
 * whose bytes are always the gateway's UTF-8 (the worker reads them as
 * such: the only writer of that leg is this file). A refused transfer (the
 * policy off, control characters, a bad stream, another extended action) is
 * audited with the reason, not forwarded, and the session goes on.
 *
 * Browser -> terminal (clipboard_to_terminal): the worker's ServerCutText,
 * taken out of the stream by the relay (relay_clip_piece()), is checked
 * whole for the terminal (clip_text_for_terminal(): no controls, no bidi or
 * invisible characters), audited, and replaced by the gateway's own message
 * for the viewer: the extended clipboard's Provide or ISO 8859-1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "clip_text.h"
#include "gateway.h"
#include "log.h"

/* The "clipboard" audit record of one transfer (text NULL when refused). */
static void clip_audit(const struct gw_conn *conn, const char *direction, const char *text,
		       size_t n, size_t raw_bytes, const char *why)
{
	json_t *f = json_pack("{s:s, s:I, s:s}", "direction", direction, "bytes",
			      (json_int_t)(text != NULL ? n : raw_bytes), "result",
			      text != NULL ? "passed" : "refused");
	if (f != NULL && text != NULL) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		char hex[2 * 32 + 1] = "";
		if (EVP_Digest(text, n, md, &mdlen, EVP_sha256(), NULL) == 1)
			for (unsigned int i = 0; i < mdlen && i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
		json_object_set_new(f, "sha256", json_string(hex));
		if (gw->cfg.clipboard_content) {
			/* at most GW_CLIP_AUDIT_TEXT bytes of it, cut between characters */
			size_t keep = n;
			if (keep > GW_CLIP_AUDIT_TEXT) {
				keep = GW_CLIP_AUDIT_TEXT;
				while (keep > 0 && ((unsigned char)text[keep] & 0xc0) == 0x80)
					keep--;
				json_object_set_new(f, "text_truncated", json_true());
			}
			json_object_set_new(f, "text", json_stringn(text, keep));
		}
	}
	if (f != NULL && text == NULL)
		json_object_set_new(f, "reason", json_string(why));
	audit_event("clipboard", conn->user, conn->peer, conn->session ? conn->session->id : "", f);
	json_decref(f);
	if (text != NULL)
		log_info("viewer of %s from %s: %zu bytes of clipboard text %s", conn->user,
			 conn->peer, n,
			 strcmp(direction, "to_browser") == 0 ? "to the browser"
							      : "to the terminal");
	else
		log_warn("viewer of %s from %s: clipboard text %s refused: %s", conn->user,
			 conn->peer,
			 strcmp(direction, "to_browser") == 0 ? "to the browser"
							      : "to the terminal",
			 why);
}

void clip_refused_to_browser(const struct gw_conn *conn, size_t bytes, const char *why)
{
	clip_audit(conn, "to_browser", NULL, 0, bytes, why);
}

void clip_refused_to_terminal(const struct gw_conn *conn, size_t bytes, const char *why)
{
	clip_audit(conn, "to_terminal", NULL, 0, bytes, why);
}

int clip_to_browser(const struct gw_conn *conn, const struct rfb_step *step, const uint8_t *msg,
		    uint8_t **fwd, size_t *fwd_len)
{
	char why[CLIP_TEXT_WHY_LEN] = "";
	const uint8_t *payload = msg + step->cut_off;
	size_t cap = (size_t)gw->cfg.clipboard_max_bytes;
	char *text = NULL;
	size_t n = 0, text_cap = 0;
	int ok = -1;
	*fwd = NULL;
	*fwd_len = 0;
	if (step->cut == RFB_CUT_PROVIDE) {
		ok = clip_text_from_provide(payload, step->cut_len, cap, false, &text, &n, why,
					    sizeof why);
		text_cap = ok == 0 ? n + 1 : 0;
	} else if (step->cut == RFB_CUT_LATIN1) {
		text_cap = 2 * step->cut_len + 1;
		text = malloc(text_cap);
		if (text == NULL)
			snprintf(why, sizeof why, "out of memory");
		else
			ok = clip_text_from_latin1(payload, step->cut_len, text, text_cap, &n, why,
						   sizeof why);
	} else {
		snprintf(why, sizeof why, "not clipboard text");
	}
	if (ok == 0 && n > cap) {
		snprintf(why, sizeof why, "%zu bytes as UTF-8, over the cap of %zu", n, cap);
		ok = -1;
	}
	if (ok == 0) {
		*fwd = malloc(8 + n);
		if (*fwd == NULL) {
			snprintf(why, sizeof why, "out of memory");
			ok = -1;
		}
	}
	if (ok != 0) {
		clip_audit(conn, "to_browser", NULL, 0, step->cut_len, why);
	} else {
		clip_audit(conn, "to_browser", text, n, step->cut_len, NULL);
		uint8_t *m = *fwd;
		m[0] = 6; /* ClientCutText, padding, u32 length, the UTF-8 text */
		m[1] = m[2] = m[3] = 0;
		m[4] = (uint8_t)(n >> 24);
		m[5] = (uint8_t)(n >> 16);
		m[6] = (uint8_t)(n >> 8);
		m[7] = (uint8_t)n;
		memcpy(m + 8, text, n);
		*fwd_len = 8 + n;
	}
	if (text != NULL) {
		OPENSSL_cleanse(text, text_cap);
		free(text);
	}
	return ok;
}

int clip_to_terminal(const struct gw_conn *conn, const uint8_t *msg, size_t len, size_t room,
		     uint8_t **out, size_t *out_len)
{
	char why[CLIP_TEXT_WHY_LEN] = "";
	size_t raw = len > 8 ? len - 8 : 0, n = 0;
	char *text = malloc(raw + 1);
	int ok = -1;
	*out = NULL;
	*out_len = 0;
	if (text == NULL)
		snprintf(why, sizeof why, "out of memory");
	else if (len < 8 || msg[0] != 3)
		snprintf(why, sizeof why, "not a ServerCutText");
	else
		ok = clip_text_for_terminal(msg + 8, raw, text, raw + 1, &n, why, sizeof why);
	if (ok == 0 && n == 0) {
		free(text);
		return -1; /* nothing copied: nothing to say */
	}
	if (ok == 0 && conn->filter.ext_clipboard) {
		if (clip_text_provide_message(CLIP_SERVER_CUT_TEXT, text, n, out, out_len) != 0) {
			snprintf(why, sizeof why, "out of memory");
			ok = -1;
		}
	} else if (ok == 0) {
		/* a viewer without the extended clipboard: ISO 8859-1, '?' for the rest */
		uint8_t *m = malloc(8 + n + 1);
		if (m == NULL) {
			snprintf(why, sizeof why, "out of memory");
			ok = -1;
		} else {
			size_t l1 = clip_text_to_latin1(text, n, (char *)m + 8);
			m[0] = CLIP_SERVER_CUT_TEXT;
			m[1] = m[2] = m[3] = 0;
			m[4] = (uint8_t)(l1 >> 24);
			m[5] = (uint8_t)(l1 >> 16);
			m[6] = (uint8_t)(l1 >> 8);
			m[7] = (uint8_t)l1;
			*out = m;
			*out_len = 8 + l1;
		}
	}
	if (ok == 0 && *out_len > room) {
		snprintf(why, sizeof why, "no room in the viewer's queue for %zu bytes", *out_len);
		free(*out);
		*out = NULL;
		*out_len = 0;
		ok = -1;
	}
	clip_audit(conn, "to_terminal", ok == 0 ? text : NULL, n, raw, why);
	if (text != NULL) {
		OPENSSL_cleanse(text, raw + 1);
		free(text);
	}
	return ok;
}
