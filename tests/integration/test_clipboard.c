/*
 * test_clipboard.c: the staff terminal's clipboard into the browser
 * (issue 15, the part built so far): a ClientCutText the gateway lets
 * through with clipboard_to_browser on is audited and becomes the
 * session's X CLIPBOARD, and Ctrl+V in the page's field pastes it; text
 * with control characters is refused and audited, and the session goes on;
 * Japanese comes through the extended clipboard's Provide; with the policy
 * off every form is refused and audited, and the session goes on.
 */
#include "harness.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define CT_CONTROL_L 0xffe3
#define CT_V 0x0076

/* A ClientCutText of len bytes of text (ISO 8859-1, as RFB's). */
static void ct_send(struct pgc_conn *c, const char *text, size_t len)
{
	unsigned char msg[8 + 256];
	IT_ASSERT(len <= 256, "text too long for the test");
	memset(msg, 0, 8);
	msg[0] = 6;
	msg[4] = (unsigned char)(len >> 24);
	msg[5] = (unsigned char)(len >> 16);
	msg[6] = (unsigned char)(len >> 8);
	msg[7] = (unsigned char)len;
	memcpy(msg + 8, text, len);
	IT_ASSERT(pgc_send_raw(c, msg, 8 + len) == 0, "sending ClientCutText: %s",
		  pgc_close_reason(c));
}

/* Ctrl+V, as the staff member presses it in the page. */
static void ct_paste(struct pgc_conn *c)
{
	IT_ASSERT(pgc_key(c, CT_CONTROL_L, true) == 0 && pgc_key(c, CT_V, true) == 0 &&
		      pgc_key(c, CT_V, false) == 0 && pgc_key(c, CT_CONTROL_L, false) == 0,
		  "Ctrl+V: %s", pgc_close_reason(c));
}

IT_TEST(clipboard, terminal_text_is_pasted_into_the_page, .timeout = 120)
{
	static const char *const users[] = { "c1-chika", NULL };
	static const char latin1[] = "Caf\xe9 \xa5"
				     "100 1-2-3";
	static const char utf8[] = "Caf\xc3\xa9 \xc2\xa5"
				   "100 1-2-3";
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_browser = true\n" };
	struct it_rect r;
	struct pgc_conn *c;
	char last[512], hex[65];
	unsigned char md[32];
	unsigned int mdlen = 0;
	int n;

	it_start_opts("clipboard_terminal_text_is_pasted_into_the_page", users, &o);
	c = it_open_page("c1-chika", 0, 0, &r);
	it_focus_field(c, &r);
	ct_send(c, latin1, sizeof latin1 - 1);
	ct_paste(c);
	IT_ASSERT(it_wait_last(utf8, IT_REPORT_S, c, NULL, last, sizeof last),
		  "after the terminal's text and Ctrl+V the page reported \"%s\", want \"%s\" (%s)",
		  last, utf8, pgc_closed(c) ? pgc_close_reason(c) : "connection open");
	/* audited: direction, size and the SHA-256 of the text as pasted, not the text */
	IT_ASSERT(EVP_Digest(utf8, sizeof utf8 - 1, md, &mdlen, EVP_sha256(), NULL) == 1, "sha256");
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	json_t *rec = it_audit_find(&n, "clipboard", "user", "c1-chika", "result", "passed", NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "direction"), "to_browser") == 0 &&
		      it_rec_int(rec, "bytes") == (long long)sizeof utf8 - 1 &&
		      strcmp(it_rec_str(rec, "sha256"), hex) == 0 &&
		      json_object_get(rec, "text") == NULL,
		  "%d clipboard records; direction %s, bytes %lld, sha256 %s", n,
		  rec ? it_rec_str(rec, "direction") : "-", rec ? it_rec_int(rec, "bytes") : -1,
		  rec ? it_rec_str(rec, "sha256") : "-");
	json_decref(rec);

	/* control characters: refused, audited with the reason, the session goes on */
	ct_send(c, "rm -rf /\x1b[0m", 12);
	IT_ASSERT(it_pump_for(c, 1500), "the session ended after refused clipboard text: %s",
		  pgc_close_reason(c));
	rec = it_audit_find(&n, "clipboard", "user", "c1-chika", "result", "refused", NULL);
	IT_ASSERT(n == 1 &&
		      strcmp(it_rec_str(rec, "reason"), "control character U+001B at byte 8") == 0,
		  "%d refused clipboard records; reason %s", n,
		  rec ? it_rec_str(rec, "reason") : "-");
	json_decref(rec);
}

/* An extended clipboard message (negative length) with these flags and payload. */
static void ct_send_ext(struct pgc_conn *c, uint32_t flags, const void *payload, size_t len)
{
	unsigned char msg[12 + 512];
	IT_ASSERT(len <= 512, "payload too long for the test");
	uint32_t neg = 0u - (uint32_t)(4 + len);
	memset(msg, 0, 4);
	msg[0] = 6;
	for (int i = 0; i < 4; i++) {
		msg[4 + i] = (unsigned char)(neg >> (24 - 8 * i));
		msg[8 + i] = (unsigned char)(flags >> (24 - 8 * i));
	}
	if (len > 0)
		memcpy(msg + 12, payload, len);
	IT_ASSERT(pgc_send_raw(c, msg, 12 + len) == 0, "sending an extended ClientCutText: %s",
		  pgc_close_reason(c));
}

/*
 * Japanese through the extended clipboard (the viewer's form: a Provide of
 * UTF-8 text in zlib, pgc_send_clipboard()), pasted exactly; streams that
 * lie are refused and audited; other extended actions are dropped; the
 * session goes on through all of it.
 */
IT_TEST(clipboard, japanese_through_the_extended_clipboard, .timeout = 120)
{
	static const char *const users[] = { "c3-chika", NULL };
	static const char want[] = "〒100-0001 東京都千代田区 ① ｶﾅ";
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_browser = true\n"
					   "[audit]\nclipboard_content = true\n" };
	struct it_rect r;
	struct pgc_conn *c;
	char last[512];
	int n;

	it_start_opts("clipboard_japanese_through_the_extended_clipboard", users, &o);
	c = it_open_page("c3-chika", 0, 0, &r);
	it_focus_field(c, &r);
	IT_ASSERT(pgc_send_clipboard(c, want, strlen(want)) == 0, "pgc_send_clipboard: %s",
		  pgc_close_reason(c));
	ct_paste(c);
	IT_ASSERT(it_wait_last(want, IT_REPORT_S, c, NULL, last, sizeof last),
		  "after the terminal's Japanese and Ctrl+V the page reported \"%s\", want \"%s\"",
		  last, want);
	/* with [audit] clipboard_content the text itself is in the record */
	json_t *rec = it_audit_find(&n, "clipboard", "user", "c3-chika", "result", "passed", NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "text"), want) == 0 &&
		      it_rec_int(rec, "bytes") == (long long)strlen(want),
		  "%d clipboard records; text %s", n, rec ? it_rec_str(rec, "text") : "-");
	json_decref(rec);

	/* a stream that is not zlib, one announcing more than it holds: refused */
	ct_send_ext(c, 0x10000001u, "not zlib at all", 15);
	unsigned char lying[64];
	uLongf lying_len = sizeof lying;
	IT_ASSERT(compress2(lying, &lying_len, (const Bytef *)"\0\0\0\x09ok\0", 7, 9) == Z_OK,
		  "compress2");
	ct_send_ext(c, 0x10000001u, lying, lying_len);
	/* Caps, Request and a Provide of HTML: dropped, not audited as transfers */
	ct_send_ext(c, 0x01000001u, "\0\0\x10\0", 4);
	ct_send_ext(c, 0x02000001u, NULL, 0);
	ct_send_ext(c, 0x10000004u, "\x78\x9c", 2);
	IT_ASSERT(it_pump_for(c, 1500), "the session ended after refused clipboard messages: %s",
		  pgc_close_reason(c));
	IT_ASSERT(it_audit_count("clipboard", "user", "c3-chika", "result", "refused", NULL) == 2,
		  "want 2 refused clipboard records (the bad streams), have %d",
		  it_audit_count("clipboard", "user", "c3-chika", "result", "refused", NULL));
	IT_ASSERT(it_audit_count("protocol_violation", "user", "c3-chika", NULL) == 0,
		  "a protocol violation for a dropped clipboard message");
	/* the page still has the first text only */
	ct_paste(c);
	IT_ASSERT(it_wait_last("〒100-0001 東京都千代田区 ① ｶﾅ〒100-0001 東京都千代田区 ① ｶﾅ",
			       IT_REPORT_S, c, NULL, last, sizeof last),
		  "a second Ctrl+V gave \"%s\"", last);
	it_conn_free(c);
}

IT_TEST(clipboard, with_the_policy_off_the_text_never_arrives, .timeout = 120)
{
	static const char *const users[] = { "c2-chika", NULL };
	struct it_rect r;
	struct pgc_conn *c;
	char last[512];
	int n;

	it_start("clipboard_with_the_policy_off_the_text_never_arrives", users);
	c = it_open_page("c2-chika", 0, 0, &r);
	it_focus_field(c, &r);
	/* plain and extended: each refused and audited, the session goes on */
	ct_send(c, "secret", 6);
	IT_ASSERT(pgc_send_clipboard(c, "秘密", strlen("秘密")) == 0, "pgc_send_clipboard: %s",
		  pgc_close_reason(c));
	ct_paste(c);
	IT_ASSERT(pgc_type_utf8(c, "ok") == 0, "typing: %s", pgc_close_reason(c));
	IT_ASSERT(it_wait_last("ok", IT_REPORT_S, c, NULL, last, sizeof last),
		  "with the clipboard off, Ctrl+V then \"ok\" left \"%s\" in the field", last);
	json_t *rec = it_audit_find(&n, "clipboard", "user", "c2-chika", NULL);
	IT_ASSERT(n == 2 && strcmp(it_rec_str(rec, "result"), "refused") == 0 &&
		      strcmp(it_rec_str(rec, "reason"),
			     "ClientCutText refused: clipboard disabled by policy") == 0 &&
		      json_object_get(rec, "sha256") == NULL &&
		      json_object_get(rec, "text") == NULL,
		  "%d clipboard records; the last: result %s, reason %s", n,
		  rec ? it_rec_str(rec, "result") : "-", rec ? it_rec_str(rec, "reason") : "-");
	json_decref(rec);
	IT_ASSERT(it_audit_count("protocol_violation", "user", "c2-chika", NULL) == 0,
		  "a protocol violation for clipboard text refused by policy");
	IT_ASSERT(it_file_count(it.daemon_log, "secret") == 0,
		  "the refused text is in the daemon's log");

	/* no human pastes 21 times in 10 s: a flood of the audit log, closed */
	for (int i = 0; i < 30 && !pgc_closed(c); i++)
		(void)pgc_send_raw(c, "\x06\0\0\0\0\0\0\x01x", 9);
	IT_ASSERT(it_wait_closed(c, it_now_s() + 10) && pgc_close_code(c) == 4001,
		  "30 clipboard messages at once: close code %d (%s)", pgc_close_code(c),
		  pgc_close_reason(c));
	rec = it_audit_find(&n, "protocol_violation", "user", "c2-chika", NULL);
	IT_ASSERT(n == 1 && strstr(it_rec_str(rec, "what"), "clipboard flood") != NULL,
		  "%d protocol_violation records: %s", n, rec ? it_rec_str(rec, "what") : "-");
	json_decref(rec);
	IT_ASSERT(it_audit_count("clipboard", "user", "c2-chika", NULL) == 20,
		  "the audit log holds %d clipboard records, want 20 (the cap of the window)",
		  it_audit_count("clipboard", "user", "c2-chika", NULL));
	it_conn_free(c);
}
