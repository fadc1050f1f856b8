/*
 * test_audit_chain.c: what a security auditor relies on in the audit log.
 * A chain of ten records is built in memory; every kind of tampering
 * (one byte changed in any record, a line deleted, a forged or copied record
 * inserted, two records swapped, the tail cut mid-line, the wrong key) is
 * reported at the exact line and seq with the right reason, and hostile
 * lines (not JSON, huge, NUL bytes, missing or mistyped fields) are refused
 * with the right problem.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_chain.h"

#define NREC 10

static const uint8_t key[AUDIT_KEY_MIN] = "0123456789abcdef0123456789ABCDEF";
static const uint8_t other_key[AUDIT_KEY_MIN] = "fedcba9876543210fedcba9876543210";

struct chain {
	char *lines[NREC + 2];
	char macs[NREC + 2][AUDIT_MAC_HEX + 1];
	size_t n;
};

/* Record i (0-based) of the test chain: seq i + 1, a different event each time. */
static char *make_record(size_t i, const char *prev, const uint8_t *k, char mac[AUDIT_MAC_HEX + 1])
{
	static const char *const events[] = { "login_ok",      "session_start", "navigate",
					      "new_tab",       "navigate",      "download_blocked",
					      "limit_refused", "navigate",      "session_detach",
					      "session_end" };
	char ts[40], url[64];
	json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "event", events[i % NREC], "user", "yamada",
			      "client", "192.0.2.10", "session", "s-0001");
	cr_assert_not_null(f);
	snprintf(url, sizeof url, "https://www.example.jp/page/%zu", i);
	if (strcmp(events[i % NREC], "navigate") == 0 || strcmp(events[i % NREC], "new_tab") == 0) {
		json_object_set_new(f, "url", json_string(url));
		json_object_set_new(f, "title", json_string("市のお知らせ"));
		json_object_set_new(f, "tab", json_integer(1));
	}
	if (strcmp(events[i % NREC], "session_end") == 0) {
		json_object_set_new(f, "reason", json_string("logout"));
		json_object_set_new(f, "bytes_in", json_integer(123456789));
		json_object_set_new(f, "ok", json_true());
	}
	cr_assert_eq(audit_format_ts(1795662000000LL + (int64_t)i * 1500, ts, sizeof ts), 0);
	char *line = audit_record_make(f, ts, i + 1, prev, k, AUDIT_KEY_MIN, mac);
	json_decref(f);
	cr_assert_not_null(line);
	return line;
}

static void chain_build(struct chain *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NREC; i++)
		c->lines[i] = make_record(i, i == 0 ? "" : c->macs[i - 1], key, c->macs[i]);
	c->n = NREC;
}

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i < NREC + 2; i++)
		free(c->lines[i]);
}

/* The lines joined with newlines (each one ended by a newline). */
static char *join(char *const *lines, size_t n, size_t *len)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(lines[i]) + 1;
	char *buf = malloc(total + 1), *p = buf;
	cr_assert_not_null(buf);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);
		memcpy(p, lines[i], l);
		p += l;
		*p++ = '\n';
	}
	*p = '\0';
	*len = total;
	return buf;
}

struct result {
	enum audit_problem p;
	struct audit_where w;
	struct audit_verify v;
	char why[256];
};

static struct result verify_buf(const char *buf, size_t len, const uint8_t *k,
				const struct audit_head *head)
{
	struct result r;
	struct audit_file f = { .name = "audit-1.jsonl", .data = buf, .len = len };
	r.p = audit_verify_files(&f, 1, k, AUDIT_KEY_MIN, true, head, &r.v, &r.w, r.why,
				 sizeof r.why);
	return r;
}

/* Verify lines[0..n) joined; free the buffer. */
static struct result verify_lines(char *const *lines, size_t n, const uint8_t *k)
{
	size_t len;
	char *buf = join(lines, n, &len);
	struct result r = verify_buf(buf, len, k, NULL);
	free(buf);
	return r;
}

#define assert_bad(r, prob, ln, sq)                                                            \
	do {                                                                                   \
		cr_assert_eq((r).p, (prob), "got %s (%s), want %s", audit_problem_name((r).p), \
			     (r).why, audit_problem_name(prob));                               \
		cr_assert_eq((r).w.line, (uint64_t)(ln), "line %" PRIu64 ", want %d (%s)",     \
			     (r).w.line, (int)(ln), (r).why);                                  \
		cr_assert_eq((r).w.seq, (uint64_t)(sq), "seq %" PRIu64 ", want %d (%s)",       \
			     (r).w.seq, (int)(sq), (r).why);                                   \
	} while (0)

Test(audit_chain, an_intact_chain_verifies_with_its_first_and_last_time)
{
	struct chain c;
	chain_build(&c);
	struct result r = verify_lines(c.lines, NREC, key);
	cr_assert_eq(r.p, AUDIT_OK, "%s", r.why);
	cr_assert_eq(r.v.records, NREC);
	cr_assert_eq(r.v.last_seq, NREC);
	cr_assert_str_eq(r.v.first_ts, "2026-11-26T03:00:00.000Z");
	cr_assert_str_eq(r.v.last_ts, "2026-11-26T03:00:13.500Z");
	cr_assert_str_eq(r.v.last_mac, c.macs[NREC - 1]);
	cr_assert_eq(r.w.line, NREC);
	cr_assert_eq(r.w.seq, NREC);
	chain_free(&c);
}

Test(audit_chain, a_line_is_the_sorted_compact_record_with_its_mac)
{
	char mac[AUDIT_MAC_HEX + 1];
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "user", "u", "event", "login_fail",
			      "reason", "bad_password", "client", "c", "session", "");
	char *line = audit_record_make(f, "2026-11-26T03:04:05.678Z", 1, "", key, sizeof key, mac);
	cr_assert_not_null(line);
	char want[512];
	snprintf(want, sizeof want,
		 "{\"client\":\"c\",\"event\":\"login_fail\",\"mac\":\"%s\",\"prev\":\"\","
		 "\"reason\":\"bad_password\",\"seq\":1,\"session\":\"\",\"ts\":"
		 "\"2026-11-26T03:04:05.678Z\",\"user\":\"u\"}",
		 mac);
	cr_assert_str_eq(line, want);
	/* fields is not modified */
	cr_assert_null(json_object_get(f, "mac"));
	cr_assert_eq(json_object_size(f), 5);
	json_decref(f);
	free(line);
}

Test(audit_chain, one_byte_changed_in_any_record_is_reported_as_changed_there)
{
	struct chain c;
	chain_build(&c);
	for (size_t k = 0; k < NREC; k++) {
		char *saved = strdup(c.lines[k]);
		char *u = strstr(c.lines[k], "\"user\":\"yamada\"");
		cr_assert_not_null(u);
		u[strlen("\"user\":\"yamad")] = 'o'; /* yamada -> yamado */
		struct result r = verify_lines(c.lines, NREC, key);
		assert_bad(r, AUDIT_CHANGED, k + 1, k + 1);
		strcpy(c.lines[k], saved);
		free(saved);
	}
	chain_free(&c);
}

Test(audit_chain, every_byte_of_every_record_is_covered)
{
	struct chain c;
	chain_build(&c);
	for (size_t k = 0; k < NREC; k++) {
		size_t len = strlen(c.lines[k]);
		for (size_t b = 0; b < len; b++) {
			char old = c.lines[k][b];
			c.lines[k][b] = (char)(old ^ 0x01);
			struct result r = verify_lines(c.lines, NREC, key);
			c.lines[k][b] = old;
			cr_assert(r.p == AUDIT_CHANGED || r.p == AUDIT_NOT_JSON ||
				      r.p == AUDIT_MISSING_FIELD,
				  "record %zu byte %zu: %s (%s)", k + 1, b, audit_problem_name(r.p),
				  r.why);
			cr_assert_eq(r.w.line, k + 1, "record %zu byte %zu: line %" PRIu64, k + 1,
				     b, r.w.line);
		}
	}
	chain_free(&c);
}

Test(audit_chain, a_deleted_line_is_reported_at_the_record_after_the_gap)
{
	struct chain c;
	chain_build(&c);
	for (size_t k = 0; k < NREC - 1; k++) {
		char *lines[NREC];
		size_t n = 0;
		for (size_t i = 0; i < NREC; i++)
			if (i != k)
				lines[n++] = c.lines[i];
		struct result r = verify_lines(lines, n, key);
		/* line k + 1 now holds seq k + 2 */
		assert_bad(r, AUDIT_DELETED, k + 1, k + 2);
	}
	chain_free(&c);
}

Test(audit_chain, the_newest_record_deleted_is_seen_only_against_a_head)
{
	struct chain c;
	chain_build(&c);
	size_t len;
	char *buf = join(c.lines, NREC - 1, &len);
	struct result r = verify_buf(buf, len, key, NULL);
	cr_assert_eq(r.p, AUDIT_OK, "%s", r.why);
	cr_assert_eq(r.v.records, NREC - 1);

	struct audit_head h;
	cr_assert_eq(audit_head_parse(c.lines[NREC - 1], strlen(c.lines[NREC - 1]), &h), 0);
	cr_assert_eq(h.seq, NREC);
	r = verify_buf(buf, len, key, &h);
	assert_bad(r, AUDIT_TRUNCATED, NREC - 1, NREC - 1);
	cr_assert_str_eq(r.why,
			 "the log ends at seq 9 but the head is seq 10: 1 record missing "
			 "at the end");
	free(buf);

	buf = join(c.lines, NREC, &len);
	r = verify_buf(buf, len, key, &h);
	cr_assert_eq(r.p, AUDIT_OK, "%s", r.why);
	/* a head whose mac is not the log's record: the log was rewritten */
	char text[128];
	snprintf(text, sizeof text, "5 %s\n", c.macs[3]);
	cr_assert_eq(audit_head_parse(text, strlen(text), &h), 0);
	r = verify_buf(buf, len, key, &h);
	assert_bad(r, AUDIT_CHANGED, 5, 5);
	free(buf);
	chain_free(&c);
}

Test(audit_chain, a_forged_record_put_in_anywhere_is_reported_as_inserted)
{
	struct chain c;
	chain_build(&c);
	for (size_t k = 0; k < NREC; k++) {
		/* A plausible record: the next seq, chained, but made without the key. */
		char fmac[AUDIT_MAC_HEX + 1];
		char *forged = make_record(k, k == 0 ? "" : c.macs[k - 1], other_key, fmac);
		char *lines[NREC + 1];
		size_t n = 0;
		for (size_t i = 0; i < NREC; i++) {
			if (i == k)
				lines[n++] = forged;
			lines[n++] = c.lines[i];
		}
		struct result r = verify_lines(lines, n, key);
		assert_bad(r, AUDIT_INSERTED, k + 1, k + 1);
		free(forged);
	}
	chain_free(&c);
}

Test(audit_chain, a_forged_record_repeating_the_previous_seq_is_inserted)
{
	struct chain c;
	chain_build(&c);
	char fmac[AUDIT_MAC_HEX + 1];
	/* after record 4, a forged "seq 4" */
	char *forged = make_record(3, c.macs[2], other_key, fmac);
	char *lines[] = { c.lines[0], c.lines[1], c.lines[2], c.lines[3], forged,    c.lines[4],
			  c.lines[5], c.lines[6], c.lines[7], c.lines[8], c.lines[9] };
	struct result r = verify_lines(lines, NREC + 1, key);
	assert_bad(r, AUDIT_INSERTED, 5, 4);
	free(forged);
	chain_free(&c);
}

Test(audit_chain, a_forged_record_after_the_newest_is_a_changed_last_record)
{
	/* Nothing follows it, so an edited last record and an appended forgery look alike. */
	struct chain c;
	chain_build(&c);
	char fmac[AUDIT_MAC_HEX + 1];
	c.lines[NREC] = make_record(NREC, c.macs[NREC - 1], other_key, fmac);
	struct result r = verify_lines(c.lines, NREC + 1, key);
	assert_bad(r, AUDIT_CHANGED, NREC + 1, NREC + 1);
	chain_free(&c);
}

Test(audit_chain, a_copy_of_an_existing_record_is_reported_as_inserted)
{
	struct chain c;
	chain_build(&c);
	static const struct {
		size_t copy, after; /* 0-based: copy of record `copy` put after record `after` */
		int line, seq;
	} cases[] = {
		{ 2, 6, 8, 3 },  /* an old record again, later */
		{ 6, 2, 4, 7 },  /* a later record, early */
		{ 4, 4, 6, 5 },  /* right after itself: seq repeats */
		{ 0, 9, 11, 1 }, /* the first record at the end */
		{ 9, 9, 11, 10 },
	};
	for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
		char *lines[NREC + 1];
		size_t n = 0;
		for (size_t i = 0; i < NREC; i++) {
			lines[n++] = c.lines[i];
			if (i == cases[t].after)
				lines[n++] = c.lines[cases[t].copy];
		}
		struct result r = verify_lines(lines, n, key);
		assert_bad(r, AUDIT_INSERTED, cases[t].line, cases[t].seq);
	}
	chain_free(&c);
}

Test(audit_chain, two_records_swapped_are_reported_as_reordered_at_the_first)
{
	struct chain c;
	chain_build(&c);
	static const size_t pairs[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 },
					   { 4, 5 }, { 5, 6 }, { 6, 7 }, { 7, 8 },
					   { 8, 9 }, { 2, 7 }, { 0, 9 } };
	for (size_t t = 0; t < sizeof pairs / sizeof pairs[0]; t++) {
		char *lines[NREC];
		size_t a = pairs[t][0], b = pairs[t][1];
		memcpy(lines, c.lines, sizeof lines);
		lines[a] = c.lines[b];
		lines[b] = c.lines[a];
		struct result r = verify_lines(lines, NREC, key);
		/* line a + 1 holds seq b + 1, ahead of its place */
		assert_bad(r, AUDIT_REORDERED, a + 1, b + 1);
	}
	chain_free(&c);
}

Test(audit_chain, a_tail_cut_mid_line_is_truncated_at_that_line)
{
	struct chain c;
	chain_build(&c);
	size_t len;
	char *buf = join(c.lines, NREC, &len);
	/* without its final newline */
	struct result r = verify_buf(buf, len - 1, key, NULL);
	assert_bad(r, AUDIT_TRUNCATED, NREC, 0);
	/* in the middle of the last line */
	r = verify_buf(buf, len - 40, key, NULL);
	assert_bad(r, AUDIT_TRUNCATED, NREC, 0);
	/* in the middle of record 5 (the rest of the file gone) */
	size_t cut = 0;
	for (size_t i = 0; i < 4; i++)
		cut += strlen(c.lines[i]) + 1;
	r = verify_buf(buf, cut + 17, key, NULL);
	assert_bad(r, AUDIT_TRUNCATED, 5, 0);
	/* one byte of the last line left */
	r = verify_buf(buf, len - strlen(c.lines[NREC - 1]), key, NULL);
	assert_bad(r, AUDIT_TRUNCATED, NREC, 0);
	free(buf);
	chain_free(&c);
}

Test(audit_chain, the_wrong_key_is_told_from_an_edit)
{
	struct chain c;
	chain_build(&c);
	struct result r = verify_lines(c.lines, NREC, other_key);
	assert_bad(r, AUDIT_WRONG_KEY, 1, 1);
	cr_assert_str_eq(audit_problem_name(r.p), "wrong key");
	/* a single record: nothing to compare with, the key is blamed */
	r = verify_lines(c.lines, 1, other_key);
	assert_bad(r, AUDIT_WRONG_KEY, 1, 1);
	/* an edited first record with the right key is an edit */
	c.lines[0][strlen(c.lines[0]) - 3] ^= 0x01;
	r = verify_lines(c.lines, NREC, key);
	assert_bad(r, AUDIT_CHANGED, 1, 1);
	chain_free(&c);
}

Test(audit_chain, the_chain_goes_on_across_files)
{
	struct chain c;
	chain_build(&c);
	size_t l1, l2;
	char *b1 = join(c.lines, 6, &l1), *b2 = join(c.lines + 6, 4, &l2);
	struct audit_file f[2] = { { "audit-20261126.jsonl", b1, l1 },
				   { "audit-20261127.jsonl", b2, l2 } };
	struct audit_verify v;
	struct audit_where w;
	char why[256];
	cr_assert_eq(audit_verify_files(f, 2, key, sizeof key, true, NULL, &v, &w, why, sizeof why),
		     AUDIT_OK, "%s", why);
	cr_assert_eq(v.records, NREC);
	cr_assert_eq(w.file, 1);
	cr_assert_eq(w.line, 4);

	/* in the wrong order: the second file's first record comes first */
	struct audit_file swapped[2] = { f[1], f[0] };
	cr_assert_eq(audit_verify_files(swapped, 2, key, sizeof key, true, NULL, &v, &w, why,
					sizeof why),
		     AUDIT_REORDERED, "%s", why);
	cr_assert_eq(w.file, 0);
	cr_assert_eq(w.line, 1);
	cr_assert_eq(w.seq, 7);
	/* the same, walked from the middle: seq 1 after seq 10 goes back */
	cr_assert_eq(audit_verify_files(swapped, 2, key, sizeof key, false, NULL, &v, &w, why,
					sizeof why),
		     AUDIT_REORDERED, "%s", why);
	cr_assert_eq(w.file, 1);
	cr_assert_eq(w.line, 1);
	cr_assert_eq(w.seq, 1);

	/* the first record of the second file deleted */
	struct audit_file cut[2] = { f[0],
				     { "audit-20261127.jsonl", b2 + strlen(c.lines[6]) + 1,
				       l2 - strlen(c.lines[6]) - 1 } };
	cr_assert_eq(audit_verify_files(cut, 2, key, sizeof key, true, NULL, &v, &w, why,
					sizeof why),
		     AUDIT_DELETED, "%s", why);
	cr_assert_eq(w.file, 1);
	cr_assert_eq(w.line, 1);
	cr_assert_eq(w.seq, 8);
	cr_assert_str_eq(why, "seq 8 follows seq 6: 1 record missing");

	/* only the second file, walked from the middle */
	cr_assert_eq(audit_verify_files(&f[1], 1, key, sizeof key, false, NULL, &v, &w, why,
					sizeof why),
		     AUDIT_OK, "%s", why);
	cr_assert_eq(v.records, 4);
	/* ... but not as a whole log */
	cr_assert_eq(audit_verify_files(&f[1], 1, key, sizeof key, true, NULL, &v, &w, why,
					sizeof why),
		     AUDIT_DELETED, "%s", why);
	cr_assert_str_eq(why, "the first record is seq 7: 6 records missing before it");
	free(b1);
	free(b2);
	chain_free(&c);
}

Test(audit_chain, an_empty_log_verifies_with_no_records)
{
	struct audit_verify v;
	struct audit_where w;
	char why[64];
	struct audit_file f = { "empty", "", 0 };
	cr_assert_eq(audit_verify_files(&f, 1, key, sizeof key, true, NULL, &v, &w, why,
					sizeof why),
		     AUDIT_OK);
	cr_assert_eq(v.records, 0);
	cr_assert_eq(w.line, 0);
	cr_assert_eq(audit_verify_files(NULL, 0, key, sizeof key, true, NULL, &v, &w, why,
					sizeof why),
		     AUDIT_OK);
}

/* audit_verify_line on a fresh walk over one hostile line. */
static enum audit_problem one_line(const char *line, size_t len, char *why, size_t whylen)
{
	struct audit_verify v;
	audit_verify_init(&v);
	enum audit_problem p = audit_verify_line(&v, line, len, true, key, sizeof key, why, whylen);
	if (p != AUDIT_OK)
		cr_assert_eq(v.records, 0);
	return p;
}

Test(audit_chain, hostile_lines_are_refused_with_the_right_problem)
{
	char mac[AUDIT_MAC_HEX + 1];
	memset(mac, 'a', AUDIT_MAC_HEX);
	mac[AUDIT_MAC_HEX] = '\0';
	static char buf[1024];
	static const struct {
		const char *line;
		enum audit_problem p;
	} cases[] = {
		{ "", AUDIT_NOT_JSON },
		{ " ", AUDIT_NOT_JSON },
		{ "hello", AUDIT_NOT_JSON },
		{ "{", AUDIT_NOT_JSON },
		{ "[]", AUDIT_NOT_JSON },
		{ "null", AUDIT_NOT_JSON },
		{ "\"x\"", AUDIT_NOT_JSON },
		{ "42", AUDIT_NOT_JSON },
		{ "{}{}", AUDIT_NOT_JSON },
		{ "{} trailing", AUDIT_NOT_JSON },
		{ "{\"a\":\"\\ud800\"}", AUDIT_NOT_JSON },   /* a lone surrogate */
		{ "{\"a\":\"\xff\xfe\"}", AUDIT_NOT_JSON },  /* invalid UTF-8 */
		{ "{\"a\":\"x\\u0000y\"}", AUDIT_NOT_JSON }, /* an escaped NUL */
		{ "{\"seq\":1,\"seq\":2}", AUDIT_NOT_JSON }, /* a duplicate key */
		{ "{}", AUDIT_MISSING_FIELD },
		{ "{\"event\":\"x\"}", AUDIT_MISSING_FIELD },
		{ "{\"a\":{\"b\":1}}", AUDIT_MISSING_FIELD }, /* nested */
		{ "{\"a\":[1]}", AUDIT_MISSING_FIELD },
		{ "{\"a\":null}", AUDIT_MISSING_FIELD },
		{ "{\"a\":1.5}", AUDIT_MISSING_FIELD },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char why[128] = "unset";
		enum audit_problem p = one_line(cases[i].line, strlen(cases[i].line), why,
						sizeof why);
		cr_assert_eq(p, cases[i].p, "case %zu: %s (%s)", i, audit_problem_name(p), why);
		cr_assert_neq(why[0], '\0', "case %zu: no explanation", i);
	}
	/* fields missing or mistyped, one at a time, in an otherwise good record */
	static const char *const variants[] = {
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1", /* no ts */
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"%.0s",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":\"1\",\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":0,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":-3,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":true,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":1795654800",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26 03:04:05\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-02-30T03:04:05.678Z\"",
		"\"event\":\"\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":7,\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"abc\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%.63s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%sA\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\"",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\",\"user\":5",
		"\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":\"2026-11-26T03:04:05.678Z\",\"session\":false",
	};
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		char fmt[512], why[128] = "";
		snprintf(fmt, sizeof fmt, "{%s}", variants[i]);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(buf, sizeof buf, fmt, mac);
#pragma GCC diagnostic pop
		enum audit_problem p = one_line(buf, strlen(buf), why, sizeof why);
		cr_assert_eq(p, AUDIT_MISSING_FIELD, "variant %zu %s: %s (%s)", i, buf,
			     audit_problem_name(p), why);
		cr_assert_null(audit_record_parse(buf, strlen(buf)), "variant %zu", i);
	}
	/* well-formed, but the mac is not this key's: the first record of a walk */
	snprintf(buf, sizeof buf,
		 "{\"event\":\"x\",\"mac\":\"%s\",\"prev\":\"\",\"seq\":1,\"ts\":"
		 "\"2026-11-26T03:04:05.678Z\"}",
		 mac);
	cr_assert_eq(one_line(buf, strlen(buf), NULL, 0), AUDIT_WRONG_KEY);
	json_t *o = audit_record_parse(buf, strlen(buf));
	cr_assert_not_null(o);
	json_decref(o);
}

Test(audit_chain, nul_bytes_and_huge_lines_are_refused_before_parsing)
{
	struct chain c;
	chain_build(&c);
	char why[128];
	size_t len = strlen(c.lines[0]);
	cr_assert_eq(one_line(c.lines[0], len, why, sizeof why), AUDIT_OK);
	/* a NUL inside a good record */
	char *copy = malloc(len + 1);
	memcpy(copy, c.lines[0], len + 1);
	copy[10] = '\0';
	cr_assert_eq(one_line(copy, len, why, sizeof why), AUDIT_NOT_JSON);
	cr_assert_str_eq(why, "a NUL byte at column 11");
	cr_assert_null(audit_record_parse(copy, len));
	free(copy);
	/* 1 MiB: a JSON string value, and a run of spaces */
	size_t big = 1024 * 1024;
	char *huge = malloc(big);
	memset(huge, 'a', big);
	memcpy(huge, "{\"a\":\"", 6);
	memcpy(huge + big - 2, "\"}", 2);
	cr_assert_eq(one_line(huge, big, why, sizeof why), AUDIT_NOT_JSON);
	cr_assert_str_eq(why, "a line of 1048576 bytes (at most 65536)");
	cr_assert_null(audit_record_parse(huge, big));
	memset(huge, ' ', big);
	cr_assert_eq(one_line(huge, big, why, sizeof why), AUDIT_NOT_JSON);
	/* a whole file of it: the walk stops there, at line 2 */
	size_t flen = strlen(c.lines[0]) + 1 + big + 1;
	char *file = malloc(flen);
	memcpy(file, c.lines[0], strlen(c.lines[0]));
	file[strlen(c.lines[0])] = '\n';
	memcpy(file + strlen(c.lines[0]) + 1, huge, big);
	file[flen - 1] = '\n';
	struct result r = verify_buf(file, flen, key, NULL);
	assert_bad(r, AUDIT_NOT_JSON, 2, 0);
	/* NUL bytes as a line of their own */
	memset(file + strlen(c.lines[0]) + 1, 0, big);
	r = verify_buf(file, flen, key, NULL);
	assert_bad(r, AUDIT_NOT_JSON, 2, 0);
	free(file);
	free(huge);
	chain_free(&c);
}

Test(audit_chain, a_line_in_another_spelling_of_the_same_json_is_changed)
{
	struct chain c;
	chain_build(&c);
	/* the same object with a space after the first colon: the mac still matches */
	char *line = c.lines[3];
	char *colon = strchr(line, ':');
	size_t len = strlen(line);
	char *spaced = malloc(len + 2);
	memcpy(spaced, line, (size_t)(colon - line) + 1);
	spaced[colon - line + 1] = ' ';
	memcpy(spaced + (colon - line) + 2, colon + 1, len - (size_t)(colon - line));
	char *saved = c.lines[3];
	c.lines[3] = spaced;
	struct result r = verify_lines(c.lines, NREC, key);
	assert_bad(r, AUDIT_CHANGED, 4, 4);
	cr_assert_str_eq(r.why, "the text was altered (not as the gateway wrote it)");
	/* a CR before the newline (a file edited on Windows) */
	c.lines[3] = saved;
	saved = c.lines[6];
	char *crlf = malloc(strlen(saved) + 2);
	sprintf(crlf, "%s\r", saved);
	c.lines[6] = crlf;
	r = verify_lines(c.lines, NREC, key);
	assert_bad(r, AUDIT_CHANGED, 7, 7);
	c.lines[6] = saved;
	free(crlf);
	free(spaced);
	chain_free(&c);
}

Test(audit_chain, record_make_refuses_what_verify_would_refuse)
{
	char mac[AUDIT_MAC_HEX + 1], prev[AUDIT_MAC_HEX + 1];
	memset(prev, 'b', AUDIT_MAC_HEX);
	prev[AUDIT_MAC_HEX] = '\0';
	const char *ts = "2026-11-26T03:04:05.678Z";
	json_t *ok = json_pack("{s:s}", "event", "worker_crash");
	json_t *nested = json_pack("{s:s, s:{s:i}}", "event", "x", "o", "a", 1);
	json_t *real = json_pack("{s:s, s:f}", "event", "x", "r", 1.5);
	json_t *nul = json_pack("{s:s, s:n}", "event", "x", "n");
	json_t *noevent = json_pack("{s:s}", "user", "u");
	json_t *emptyevent = json_pack("{s:s}", "event", "");
	char *longs = malloc(AUDIT_LINE_MAX + 1);
	memset(longs, 'x', AUDIT_LINE_MAX);
	longs[AUDIT_LINE_MAX] = '\0';
	json_t *huge = json_pack("{s:s, s:s}", "event", "navigate", "url", longs);

	cr_assert_null(audit_record_make(nested, ts, 1, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(real, ts, 1, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(nul, ts, 1, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(noevent, ts, 1, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(emptyevent, ts, 1, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(huge, ts, 1, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(NULL, ts, 1, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(ok, ts, 1, "", key, AUDIT_KEY_MIN - 1, mac));
	cr_assert_null(audit_record_make(ok, ts, 0, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(ok, ts, 1, prev, key, sizeof key, mac));
	cr_assert_null(audit_record_make(ok, ts, 2, "", key, sizeof key, mac));
	cr_assert_null(audit_record_make(ok, ts, 2, "B", key, sizeof key, mac));
	cr_assert_null(audit_record_make(ok, "2026-11-26T03:04:05Z", 1, "", key, sizeof key, mac));
	cr_assert_null(
	    audit_record_make(ok, ts, (uint64_t)INT64_MAX + 1, prev, key, sizeof key, mac));
	char *line = audit_record_make(ok, ts, 2, prev, key, sizeof key, mac);
	cr_assert_not_null(line);
	cr_assert(audit_mac_ok(line, strlen(line), key, sizeof key));
	cr_assert_not(audit_mac_ok(line, strlen(line), other_key, sizeof other_key));
	/* mac_out may be NULL */
	char *again = audit_record_make(ok, ts, 2, prev, key, sizeof key, NULL);
	cr_assert_str_eq(again, line);
	free(again);
	free(line);
	json_decref(ok);
	json_decref(nested);
	json_decref(real);
	json_decref(nul);
	json_decref(noevent);
	json_decref(emptyevent);
	json_decref(huge);
	free(longs);
}

Test(audit_chain, timestamps_are_utc_with_milliseconds)
{
	char ts[40];
	int64_t ms;
	cr_assert_eq(audit_format_ts(0, ts, sizeof ts), 0);
	cr_assert_str_eq(ts, "1970-01-01T00:00:00.000Z");
	cr_assert_eq(audit_format_ts(1795662245678LL, ts, sizeof ts), 0);
	cr_assert_str_eq(ts, "2026-11-26T03:04:05.678Z");
	cr_assert_eq(audit_parse_ts(ts, &ms), 0);
	cr_assert_eq(ms, 1795662245678LL);
	cr_assert_eq(audit_format_ts(-1, ts, sizeof ts), -1);
	cr_assert_eq(audit_format_ts(0, ts, 24), -1);
	cr_assert_eq(audit_format_ts(0, NULL, 40), -1);
	cr_assert_eq(audit_format_ts(INT64_MAX, ts, sizeof ts), -1);
	cr_assert_eq(audit_parse_ts("2024-02-29T23:59:59.999Z", &ms), 0);
	static const char *const bad[] = {
		"2026-11-26T03:04:05.678z",  "2026-11-26T03:04:05.678+09:00",
		"2026-11-26T03:04:05Z",      "2026-11-26 03:04:05.678Z",
		"2026-13-01T00:00:00.000Z",  "2025-02-29T00:00:00.000Z",
		"2026-11-26T24:00:00.000Z",  "2026-11-26T03:04:60.000Z",
		"1969-12-31T23:59:59.999Z",  "2026-11-26T03:04:05.67xZ",
		"+026-11-26T03:04:05.678Z",  "",
		"2026-11-26T03:04:05.6789Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(audit_parse_ts(bad[i], &ms), -1, "%s", bad[i]);
	cr_assert_eq(audit_parse_ts(NULL, &ms), -1);
}

Test(audit_chain, one_time_parser_takes_every_form_and_says_what_it_read)
{
	static const struct {
		const char *text;
		int rc;
		int64_t unix_s;
		int ms, frac;
		bool time, sec, zone;
	} cases[] = {
		{ "2026-11-26T03:04:05.678Z", AUDIT_TIME_OK, 1795662245, 678, 3, true, true, true },
		{ "2026-11-26t12:04:05.5+09:00", AUDIT_TIME_OK, 1795662245, 500, 1, true, true,
		  true },
		{ "2026-11-25 22:04:05.123456789-05:00", AUDIT_TIME_OK, 1795662245, 123, 9, true,
		  true, true },
		{ "2026-11-26T03:04Z", AUDIT_TIME_OK, 1795662240, 0, 0, true, false, true },
		{ "2026-11-26 03:04", AUDIT_TIME_OK, 1795662240, 0, 0, true, false,
		  false }, /* TZ=UTC */
		{ "2026-11-26", AUDIT_TIME_OK, 1795651200, 0, 0, false, false, false },
		{ "1970-01-01T00:00:00+09:00", AUDIT_TIME_OK, -32400, 0, 0, true, true, true },
		{ "2026-02-30T00:00:00Z", AUDIT_TIME_NO_SUCH, 0, 0, 0, true, true, true },
		{ "2026-11-26T03:04:60Z", AUDIT_TIME_NO_SUCH, 0, 0, 0, true, true, true },
		{ "2026-11-26T03:04:05+24:00", AUDIT_TIME_NO_SUCH, 0, 0, 0, true, true, true },
		{ "1969-12-31", AUDIT_TIME_NO_SUCH, 0, 0, 0, false, false, false },
		{ "2026-11-26T03:04:05.1234567890Z", AUDIT_TIME_SYNTAX, 0, 0, 0, true, true,
		  false },
		{ "2026-11-26T03:04:05+0900", AUDIT_TIME_SYNTAX, 0, 0, 0, true, true, true },
		{ "2026-11-26Z", AUDIT_TIME_SYNTAX, 0, 0, 0, false, false, false },
		{ "2026-11-26T3:04", AUDIT_TIME_SYNTAX, 0, 0, 0, false, false, false },
		{ " 2026-11-26", AUDIT_TIME_SYNTAX, 0, 0, 0, false, false, false },
	};
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct audit_time t;
		int rc = audit_parse_time(cases[i].text, &t);
		cr_assert_eq(rc, cases[i].rc, "%s: %d", cases[i].text, rc);
		if (rc == AUDIT_TIME_SYNTAX)
			continue;
		cr_assert_eq(t.has_zone, cases[i].zone, "%s", cases[i].text);
		if (rc != AUDIT_TIME_OK)
			continue;
		cr_assert_eq(t.unix_s, cases[i].unix_s, "%s: %" PRId64, cases[i].text, t.unix_s);
		cr_assert_eq(t.ms, cases[i].ms, "%s", cases[i].text);
		cr_assert_eq(t.frac_digits, cases[i].frac, "%s", cases[i].text);
		cr_assert_eq(t.has_time, cases[i].time, "%s", cases[i].text);
		cr_assert_eq(t.has_sec, cases[i].sec, "%s", cases[i].text);
	}
	struct audit_time t;
	cr_assert_eq(audit_parse_time(NULL, &t), AUDIT_TIME_SYNTAX);
}

Test(audit_chain, heads_are_a_record_or_seq_and_mac)
{
	struct audit_head h;
	char mac[AUDIT_MAC_HEX + 1], text[160];
	memset(mac, 'c', AUDIT_MAC_HEX);
	mac[AUDIT_MAC_HEX] = '\0';
	snprintf(text, sizeof text, "1234 %s\n", mac);
	cr_assert_eq(audit_head_parse(text, strlen(text), &h), 0);
	cr_assert_eq(h.seq, 1234);
	cr_assert_str_eq(h.mac, mac);
	static const char *const bad[] = { "",         "\n",
					   "1234",     "0 x",
					   "-1 %s",    "12a %s",
					   "1234  %s", "99999999999999999999 %s",
					   "1 %.63s",  "1 %sd" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(text, sizeof text, bad[i], mac);
#pragma GCC diagnostic pop
		cr_assert_eq(audit_head_parse(text, strlen(text), &h), -1, "%s", text);
	}
	cr_assert_eq(audit_head_parse("{\"seq\":1}", 9, &h), -1);
}

Test(audit_chain, problems_have_the_words_auditors_read)
{
	cr_assert_str_eq(audit_problem_name(AUDIT_CHANGED), "changed");
	cr_assert_str_eq(audit_problem_name(AUDIT_DELETED), "deleted");
	cr_assert_str_eq(audit_problem_name(AUDIT_INSERTED), "inserted");
	cr_assert_str_eq(audit_problem_name(AUDIT_REORDERED), "reordered");
	cr_assert_str_eq(audit_problem_name(AUDIT_TRUNCATED), "truncated");
	cr_assert_str_eq(audit_problem_name(AUDIT_WRONG_KEY), "wrong key");
	cr_assert_str_eq(audit_problem_name((enum audit_problem)99), "unknown");
}
