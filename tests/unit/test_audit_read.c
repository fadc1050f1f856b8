/*
 * test_audit_read.c: how the recording player finds what the audit log says
 * of a recording (audit_read.c): the last "recording" record of the file,
 * its session's events while it was recorded, in time order, with one line
 * of detail each (control characters cleaned), other sessions and the
 * session's other recordings left out; the key file's mode; the files of a
 * directory in the gateway's order.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_read.h"

static const uint8_t key[AUDIT_KEY_MIN] = "0123456789abcdef0123456789ABCDEF";

/* Appends a record of event to buf (at ms), chained after prev. */
static void add(char *buf, size_t len, uint64_t *seq, char prev[AUDIT_MAC_HEX + 1], int64_t ms,
		json_t *f)
{
	char ts[40], mac[AUDIT_MAC_HEX + 1];
	cr_assert_eq(audit_format_ts(ms, ts, sizeof ts), 0);
	char *line = audit_record_make(f, ts, ++*seq, prev, key, sizeof key, mac);
	cr_assert_not_null(line);
	json_decref(f);
	strncat(buf, line, len - strlen(buf) - 1);
	strncat(buf, "\n", len - strlen(buf) - 1);
	memcpy(prev, mac, sizeof mac);
	free(line);
}

#define T0 1795662000000LL

static json_t *rec(const char *event, const char *session)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "event", event, "user", "yamada", "client",
			 "192.0.2.10", "session", session);
}

Test(audit_read, a_recordings_record_and_its_sessions_events)
{
	static char buf[16384];
	char prev[AUDIT_MAC_HEX + 1] = "";
	uint64_t seq = 0;
	json_t *f;

	buf[0] = '\0';
	add(buf, sizeof buf, &seq, prev, T0 - 60000, rec("login_ok", "")); /* before: out */
	add(buf, sizeof buf, &seq, prev, T0, rec("session_start", "s-1"));
	f = rec("navigate", "s-1");
	json_object_set_new(f, "url", json_string("https://www.city.example.lg.jp/\x1b[2J"));
	add(buf, sizeof buf, &seq, prev, T0 + 5000, f);
	f = rec("navigate", "s-2"); /* another session */
	json_object_set_new(f, "url", json_string("https://other.example/"));
	add(buf, sizeof buf, &seq, prev, T0 + 6000, f);
	f = rec("clipboard", "s-1");
	json_object_set_new(f, "direction", json_string("to_browser"));
	json_object_set_new(f, "bytes", json_integer(18));
	json_object_set_new(f, "result", json_string("refused"));
	json_object_set_new(f, "reason", json_string("policy_off"));
	add(buf, sizeof buf, &seq, prev, T0 + 3000, f); /* written late: sorted by time */
	f = rec("recording", "s-1"); /* the session's first connection: not this file */
	json_object_set_new(f, "file", json_string("s-1-1.vncrec"));
	json_object_set_new(f, "sha256", json_string("aa"));
	add(buf, sizeof buf, &seq, prev, T0 + 7000, f);
	f = rec("recording", "s-1");
	json_object_set_new(f, "file", json_string("s-1-2.vncrec"));
	json_object_set_new(f, "sha256", json_string("bb"));
	json_object_set_new(f, "bytes", json_integer(4242));
	add(buf, sizeof buf, &seq, prev, T0 + 9000, f);
	f = rec("download_blocked", "s-1"); /* after the recording ended: out */
	json_object_set_new(f, "filename", json_string("a.exe"));
	add(buf, sizeof buf, &seq, prev, T0 + 9500, f);

	struct audit_file file = { .name = "audit-20261126-001.jsonl",
				   .data = buf,
				   .len = strlen(buf) };
	struct audit_log log = { .f = &file, .n = 1 };
	struct audit_recording r;
	cr_assert_eq(audit_find_recording(&log, "s-1-2.vncrec", T0 - 2000, &r), 0);
	cr_expect_str_eq(r.sha256, "bb");
	cr_expect_str_eq(r.session, "s-1");
	cr_expect_str_eq(r.user, "yamada");
	cr_expect_eq(r.end_ms, T0 + 9000);
	cr_expect_eq(json_integer_value(json_object_get(r.record, "bytes")), 4242);
	cr_assert_eq(r.nevents, 3, "%zu events", r.nevents);
	cr_expect_str_eq(r.events[0].event, "session_start");
	cr_expect_str_eq(r.events[1].event, "clipboard");
	cr_expect_str_eq(r.events[1].detail, "to_browser 18 bytes refused policy_off");
	cr_expect_eq(r.events[1].unix_ms, T0 + 3000);
	cr_expect_str_eq(r.events[2].event, "navigate");
	cr_expect_str_eq(r.events[2].detail, "https://www.city.example.lg.jp/?[2J");
	audit_recording_free(&r);

	/* a file the log does not name */
	cr_expect_eq(audit_find_recording(&log, "s-9-1.vncrec", 0, &r), 1);
	cr_expect_null(r.record);
	audit_recording_free(&r);
}

Test(audit_read, the_key_file_must_be_the_owners_alone)
{
	char dir[] = "/tmp/pg-audit-read-XXXXXX", path[64], why[256];
	uint8_t k[AUDIT_KEY_MAX + 1];
	size_t len = 0;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/audit.key", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fwrite(key, 1, sizeof key, f);
	fclose(f);
	cr_assert_eq(chmod(path, 0640), 0);
	cr_expect_eq(audit_key_read(path, k, &len, why, sizeof why), -1);
	cr_expect(strstr(why, "lets group or others read") != NULL, "%s", why);
	cr_assert_eq(chmod(path, 0600), 0);
	cr_expect_eq(audit_key_read(path, k, &len, why, sizeof why), 0, "%s", why);
	cr_expect_eq(len, sizeof key);
	cr_expect_eq(memcmp(k, key, len), 0);

	/* the directory's audit-*.jsonl in name order, nothing else */
	char p2[96];
	const char *names[] = { "audit-20261127-001.jsonl", "audit-20261126-002.jsonl",
				"notes.txt" };
	for (int i = 0; i < 3; i++) {
		snprintf(p2, sizeof p2, "%s/%s", dir, names[i]);
		f = fopen(p2, "w");
		cr_assert_not_null(f);
		fputs("{}\n", f);
		fclose(f);
	}
	struct audit_log log;
	cr_assert_eq(audit_log_open(&log, dir, NULL, 0, why, sizeof why), 0, "%s", why);
	cr_assert_eq(log.n, 2);
	cr_expect(strstr(log.paths[0], "audit-20261126-002.jsonl") != NULL);
	cr_expect(strstr(log.paths[1], "audit-20261127-001.jsonl") != NULL);
	cr_expect_eq(log.f[0].len, 3);
	audit_log_close(&log);
	for (int i = 0; i < 3; i++) {
		snprintf(p2, sizeof p2, "%s/%s", dir, names[i]);
		unlink(p2);
	}
	unlink(path);
	rmdir(dir);
}
