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

#define CT_A 0x0061
#define CT_C 0x0063

/* Ctrl+A, Ctrl+C in the page's field: the browser copies what the field holds. */
static void ct_copy_all(struct pgc_conn *c)
{
	IT_ASSERT(pgc_key(c, CT_CONTROL_L, true) == 0 && pgc_key(c, CT_A, true) == 0 &&
		      pgc_key(c, CT_A, false) == 0 && pgc_key(c, CT_C, true) == 0 &&
		      pgc_key(c, CT_C, false) == 0 && pgc_key(c, CT_CONTROL_L, false) == 0,
		  "Ctrl+A, Ctrl+C: %s", pgc_close_reason(c));
}

/* Waits until the connection has had n clipboard texts; the last in out. */
static bool ct_wait_clipboard(struct pgc_conn *c, uint64_t n, char *out, size_t outlen,
			      double seconds)
{
	double end = it_now_s() + seconds;
	while (pgc_last_clipboard(c, out, outlen) < n) {
		if (it_now_s() >= end || !it_pump_for(c, 100))
			return false;
	}
	return true;
}

/*
 * With clipboard_to_terminal on, a copy in the page reaches the viewer: as
 * the extended clipboard's UTF-8 (pixelgate's client asks for it), or as
 * ISO 8859-1 with '?' for the rest to a viewer that did not; audited; a copy
 * over the cap is refused and audited.
 */
IT_TEST(clipboard, a_copy_in_the_page_reaches_the_terminal, .timeout = 120)
{
	static const char *const users[] = { "c4-chika", NULL };
	static const char typed[] = "Caf\xc3\xa9 東京 ok";
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_terminal = true\n"
					   "clipboard_max_bytes = 64\n" };
	struct it_rect r;
	struct pgc_conn *c;
	char got[512], hex[65];
	unsigned char md[32];
	unsigned int mdlen = 0;
	int n;

	it_start_opts("clipboard_a_copy_in_the_page_reaches_the_terminal", users, &o);
	c = it_open_page("c4-chika", 0, 0, &r);
	it_focus_field(c, &r);
	IT_ASSERT(pgc_type_utf8(c, typed) == 0, "typing: %s", pgc_close_reason(c));
	IT_ASSERT(it_wait_last(typed, IT_REPORT_S, c, NULL, got, sizeof got),
		  "the field holds \"%s\"", got);
	ct_copy_all(c);
	IT_ASSERT(ct_wait_clipboard(c, 1, got, sizeof got, 10),
		  "no clipboard text reached the viewer after Ctrl+C in the page");
	IT_ASSERT(strcmp(got, typed) == 0, "the viewer got \"%s\", want \"%s\"", got, typed);
	IT_ASSERT(EVP_Digest(typed, sizeof typed - 1, md, &mdlen, EVP_sha256(), NULL) == 1,
		  "sha256");
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	json_t *rec = it_audit_find(&n, "clipboard", "user", "c4-chika", "direction", "to_terminal",
				    NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "result"), "passed") == 0 &&
		      strcmp(it_rec_str(rec, "sha256"), hex) == 0 &&
		      it_rec_int(rec, "bytes") == (long long)sizeof typed - 1,
		  "%d to_terminal records (result %s, sha256 %s)", n,
		  rec ? it_rec_str(rec, "result") : "-", rec ? it_rec_str(rec, "sha256") : "-");
	json_decref(rec);

	/* a viewer whose SetEncodings lacks the extended clipboard: ISO 8859-1
	   (Tight, ZRLE, Zlib, Hextile, CopyRect, Raw, LastRect, DesktopSize) */
	static const unsigned char setenc[] = {
		2, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0,    16,   0,    0,    0,    6,    0,    0,
		0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x20, 0xff, 0xff, 0xff, 0x21,
	};
	IT_ASSERT(pgc_send_raw(c, setenc, sizeof setenc) == 0, "SetEncodings: %s",
		  pgc_close_reason(c));
	ct_copy_all(c);
	IT_ASSERT(ct_wait_clipboard(c, 2, got, sizeof got, 10),
		  "no second clipboard text after Ctrl+C");
	IT_ASSERT(strcmp(got, "Caf\xc3\xa9 ?? ok") == 0,
		  "the plain viewer got \"%s\", want \"Caf\xc3\xa9 ?? ok\"", got);

	/* over clipboard_max_bytes (64): refused by the worker, audited */
	/* (the field's text is selected: what is typed replaces it) */
	IT_ASSERT(pgc_type_utf8(c,
				"a lot more text than the sixty-four bytes the clipboard "
				"takes here") == 0,
		  "typing: %s", pgc_close_reason(c));
	it_pump_for(c, 1000);
	ct_copy_all(c);
	for (double end = it_now_s() + 10;
	     it_audit_count("clipboard", "user", "c4-chika", "result", "refused", NULL) == 0 &&
	     it_now_s() < end;)
		it_pump_for(c, 200);
	rec = it_audit_find(&n, "clipboard", "user", "c4-chika", "result", "refused", NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "direction"), "to_terminal") == 0 &&
		      strcmp(it_rec_str(rec, "reason"), "the copy is over the cap of 64 bytes") ==
			  0,
		  "%d refused records (reason %s)", n, rec ? it_rec_str(rec, "reason") : "-");
	json_decref(rec);
	IT_ASSERT(pgc_last_clipboard(c, got, sizeof got) == 2, "a refused copy reached the viewer");

	/* copying in a loop: copies that come while the worker asks the browser
	   for one make one more request after it (they share its property), at
	   most 20 reach the viewer in 10 s (boundary/a_flood_of_copies_... shows
	   the gateway's cap), the last one is what the page holds, and none is
	   refused for having lost the race */
	IT_ASSERT(pgc_type_utf8(c, "x") == 0, "typing: %s", pgc_close_reason(c));
	it_pump_for(c, 500);
	for (int i = 0; i < 45; i++)
		ct_copy_all(c);
	it_pump_for(c, 3000);
	uint64_t copies = pgc_last_clipboard(c, got, sizeof got);
	IT_ASSERT(copies > 2 && copies <= 2 + 20 && strcmp(got, "x") == 0,
		  "45 copies at once: %llu copies reached the viewer, the last \"%s\"",
		  (unsigned long long)copies, got);
	IT_ASSERT(it_audit_count("clipboard", "user", "c4-chika", "result", "refused", NULL) ==
		      1 +
			  it_audit_count("clipboard", "user", "c4-chika", "reason",
					 "more than 20 copies in 10 s: dropped until the next "
					 "10 s",
					 NULL),
		  "a copy was refused for something else than the cap or the count");
	IT_ASSERT(!pgc_closed(c), "the session ended: %s", pgc_close_reason(c));
	it_conn_free(c);
}

/* Off by default: a copy in the page never leaves the session. */
IT_TEST(clipboard, with_clipboard_to_terminal_off_a_copy_stays_in_the_session, .timeout = 120)
{
	static const char *const users[] = { "c5-chika", NULL };
	struct it_rect r;
	struct pgc_conn *c;
	char got[512];

	it_start("clipboard_with_clipboard_to_terminal_off_a_copy_stays_in_the_session", users);
	c = it_open_page("c5-chika", 0, 0, &r);
	it_focus_field(c, &r);
	IT_ASSERT(pgc_type_utf8(c, "secret 秘密") == 0, "typing: %s", pgc_close_reason(c));
	IT_ASSERT(it_wait_last("secret 秘密", IT_REPORT_S, c, NULL, got, sizeof got),
		  "the field holds \"%s\"", got);
	ct_copy_all(c);
	IT_ASSERT(it_pump_for(c, 3000), "the session ended: %s", pgc_close_reason(c));
	IT_ASSERT(pgc_last_clipboard(c, got, sizeof got) == 0,
		  "clipboard text \"%s\" reached the viewer with clipboard_to_terminal off", got);
	IT_ASSERT(it_audit_count("clipboard", "user", "c5-chika", NULL) == 0,
		  "a clipboard record with the clipboard off");
	it_conn_free(c);
}

/*
 * Large text both ways: 400 000 bytes pasted from the terminal (one
 * ClientCutText, one X property for Chromium), then copied in the page (one
 * property from Chromium: Xvfb's requests carry 16 MiB); the viewer gets it
 * whole, audited with its size.
 */
IT_TEST(clipboard, a_large_copy_goes_both_ways, .timeout = 180)
{
	static const char *const users[] = { "c6-chika", NULL };
	struct it_opts o = { .extra_conf = "[policy]\nclipboard_to_browser = true\n"
					   "clipboard_to_terminal = true\n"
					   "clipboard_max_bytes = 1048576\n" };
	struct it_rect r;
	struct pgc_conn *c;
	char got[512];
	size_t big = 400000;
	char *text = malloc(big + 1);
	int n;

	IT_ASSERT(text != NULL, "malloc");
	for (size_t i = 0; i < big; i++)
		text[i] = (char)('a' + i % 26);
	text[big] = '\0';
	it_start_opts("clipboard_a_large_copy_goes_both_ways", users, &o);
	c = it_open_page("c6-chika", 0, 0, &r);
	it_focus_field(c, &r);
	IT_ASSERT(pgc_send_clipboard(c, text, big) == 0, "pgc_send_clipboard: %s",
		  pgc_close_reason(c));
	ct_paste(c);
	IT_ASSERT(it_pump_for(c, 3000), "the session ended: %s", pgc_close_reason(c));
	ct_copy_all(c);
	IT_ASSERT(ct_wait_clipboard(c, 1, got, sizeof got, 30),
		  "the large copy did not reach the viewer");
	IT_ASSERT(strncmp(got, text, sizeof got - 1) == 0, "the copy starts \"%.40s\"", got);
	json_t *rec = it_audit_find(&n, "clipboard", "user", "c6-chika", "direction", "to_terminal",
				    NULL);
	IT_ASSERT(n == 1 && strcmp(it_rec_str(rec, "result"), "passed") == 0 &&
		      it_rec_int(rec, "bytes") == (long long)big,
		  "%d to_terminal records (result %s, bytes %lld)", n,
		  rec ? it_rec_str(rec, "result") : "-", rec ? it_rec_int(rec, "bytes") : -1);
	json_decref(rec);
	free(text);
	it_conn_free(c);
}
