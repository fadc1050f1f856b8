/*
 * fuzz_audit_chain.c: libFuzzer target for proxy/common/audit_chain.c, the
 * reader of audit log lines (audit_verify_line, audit_record_parse,
 * audit_head_parse) and the walk over whole files (audit_verify_files).
 *
 * Input byte 0: bit 0 the line is complete (ended by a newline), bit 1 a
 * small `why` buffer, bit 2 the line follows a good seq-1 record (else it is
 * the first of the walk), bit 3 the other key. The rest is the line, and
 * also, split at newlines, a whole file. The key is 32 bytes 3, 10, 17, ...
 * (i * 7 + 3), so seeds made with it verify (see tests/fuzz/README.md).
 *
 * Invariants, each an abort() when broken:
 *  - the verdict is a known problem; an incomplete line is TRUNCATED; a line
 *    over AUDIT_LINE_MAX is NOT_JSON;
 *  - why is NUL-terminated within its buffer and printable ASCII (it reaches
 *    terminals; nothing from the line is copied into it), non-empty on a
 *    problem, and a small buffer gives the same verdict;
 *  - a refused line leaves the walk's state untouched (but any_mac_ok, set
 *    when its mac matched and only its form or place in the chain is
 *    wrong); an accepted one advances it by exactly one record with the
 *    line's seq and mac;
 *  - NOT_JSON / MISSING_FIELD exactly when audit_record_parse() refuses;
 *  - an accepted line passes audit_mac_ok(), and audit_record_make() of its
 *    fields, ts, seq and prev gives back the very same line;
 *  - a walk over the input as a file stops within the file, at a line that
 *    exists, and when it says OK every line was a record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_chain.h"

static uint8_t key[AUDIT_KEY_MIN], other[AUDIT_KEY_MIN];
static char first_line[1024], first_file[1025];
static struct audit_verify after_first;

static void check_why(const char *why, size_t len)
{
	const char *end = memchr(why, '\0', len);
	if (end == NULL)
		abort();
	for (const char *p = why; p < end; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

static void init(void)
{
	static int done;
	char mac[AUDIT_MAC_HEX + 1];
	if (done)
		return;
	done = 1;
	for (int i = 0; i < AUDIT_KEY_MIN; i++) {
		key[i] = (uint8_t)(i * 7 + 3);
		other[i] = (uint8_t)(i * 5 + 1);
	}
	json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "event", "login_ok", "user", "yamada",
			      "client", "192.0.2.1", "session", "");
	char *line = audit_record_make(f, "2026-11-26T03:04:05.678Z", 1, "", key, sizeof key, mac);
	json_decref(f);
	if (line == NULL || strlen(line) >= sizeof first_line)
		abort();
	strcpy(first_line, line);
	strcpy(first_file, line);
	strcat(first_file, "\n");
	free(line);
	audit_verify_init(&after_first);
	if (audit_verify_line(&after_first, first_line, strlen(first_line), true, key, sizeof key,
			      NULL, 0) != AUDIT_OK)
		abort();
}

/* The line rebuilt from its own fields with the writer: must be identical. */
static void check_round_trip(const char *line, size_t len, const uint8_t *k)
{
	json_t *o = audit_record_parse(line, len);
	char mac[AUDIT_MAC_HEX + 1];
	if (o == NULL)
		abort();
	json_t *fields = json_copy(o);
	const char *ts = json_string_value(json_object_get(o, "ts"));
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	const char *prev = json_string_value(json_object_get(o, "prev"));
	json_object_del(fields, "ts");
	json_object_del(fields, "seq");
	json_object_del(fields, "prev");
	json_object_del(fields, "mac");
	char *again = audit_record_make(fields, ts, seq, prev, k, AUDIT_KEY_MIN, mac);
	if (again == NULL || strlen(again) != len || memcmp(again, line, len) != 0)
		abort();
	if (strcmp(mac, json_string_value(json_object_get(o, "mac"))) != 0)
		abort();
	free(again);
	json_decref(fields);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_verify v, before, v2;
	char why[256], small[8];
	init();
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const char *line = (const char *)data + 1;
	size_t len = size - 1;
	bool complete = flags & 1;
	const uint8_t *k = flags & 8 ? other : key;

	if (flags & 4)
		v = after_first;
	else
		audit_verify_init(&v);
	before = v;
	v2 = v;
	memset(why, 'x', sizeof why);
	enum audit_problem p = audit_verify_line(&v, line, len, complete, k, AUDIT_KEY_MIN, why,
						 (flags & 2) ? 1 : sizeof why);
	if ((flags & 2) && why[0] != '\0')
		abort();
	if (p > AUDIT_TRUNCATED)
		abort();
	if (!complete && p != AUDIT_TRUNCATED)
		abort();
	if (complete && len > AUDIT_LINE_MAX && p != AUDIT_NOT_JSON)
		abort();
	memset(small, 'x', sizeof small);
	if (audit_verify_line(&v2, line, len, complete, k, AUDIT_KEY_MIN, small, sizeof small) != p)
		abort();
	check_why(small, sizeof small);
	if (!(flags & 2)) {
		check_why(why, sizeof why);
		if (p != AUDIT_OK && why[0] == '\0')
			abort();
	}
	if (p != AUDIT_OK) {
		/* only any_mac_ok may change: the mac matched, the place or form did not */
		if (v.any_mac_ok != before.any_mac_ok &&
		    (p == AUDIT_NOT_JSON || p == AUDIT_MISSING_FIELD || p == AUDIT_WRONG_KEY ||
		     p == AUDIT_TRUNCATED))
			abort();
		v.any_mac_ok = before.any_mac_ok;
		if (memcmp(&v, &before, sizeof v) != 0)
			abort();
	} else {
		if (v.records != before.records + 1 || !audit_mac_ok(line, len, k, AUDIT_KEY_MIN))
			abort();
		json_t *o = audit_record_parse(line, len);
		if (o == NULL ||
		    (uint64_t)json_integer_value(json_object_get(o, "seq")) != v.last_seq ||
		    strcmp(json_string_value(json_object_get(o, "mac")), v.last_mac) != 0)
			abort();
		json_decref(o);
		check_round_trip(line, len, k);
	}
	if (complete) {
		json_t *o = audit_record_parse(line, len);
		bool refused = p == AUDIT_NOT_JSON || p == AUDIT_MISSING_FIELD;
		if ((o == NULL) != refused)
			abort();
		json_decref(o);
	}

	/* The input as a whole file, after the good first record (bit 2) or alone. */
	struct audit_file files[2] = { { "first", first_file, strlen(first_file) },
				       { "input", line, len } };
	struct audit_verify w;
	struct audit_where where;
	const struct audit_file *walk = (flags & 4) ? files : &files[1];
	size_t nwalk = (flags & 4) ? 2 : 1;
	uint64_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += line[i] == '\n';
	if (len > 0 && line[len - 1] != '\n')
		lines++;
	memset(why, 'x', sizeof why);
	p = audit_verify_files(walk, nwalk, k, AUDIT_KEY_MIN, flags & 16, NULL, &w, &where, why,
			       sizeof why);
	check_why(why, sizeof why);
	if (p > AUDIT_TRUNCATED || where.file >= nwalk)
		abort();
	if (walk[where.file].name == files[1].name && where.line > lines)
		abort();
	if (p == AUDIT_OK && w.records != lines + ((flags & 4) ? 1 : 0))
		abort();

	struct audit_head h;
	if (audit_head_parse(line, len, &h) == 0 && (h.seq == 0 || strlen(h.mac) != AUDIT_MAC_HEX))
		abort();
	return 0;
}
