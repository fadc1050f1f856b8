/*
 * test_audit_file.c: the audit log's file names and rotation
 * (proxy/common/audit_file.c), as the security staff who look for a day's
 * file and the writer that must never overwrite one see them. Dates are UTC
 * at the day's edges; only exact audit-YYYYMMDD-NNN.jsonl names (NNN >= 1)
 * are the log's; a path parses back to its date and number; rotation by
 * size and by day, NNN+1 on the same day and 001 on the next, the clock
 * going back, and the 999th file of a day that has no successor.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "audit_file.h"

#define MIB (1024 * 1024)

Test(audit_file, dates_are_utc_days_cut_at_midnight)
{
	static const struct {
		int64_t ms;
		const char *date;
	} cases[] = {
		{ 0, "19700101" },
		{ 86399999, "19700101" },
		{ 86400000, "19700102" },
		{ -1, "00000000" },            /* before 1970: no record can be stamped either */
		{ 1709251199999, "20240229" }, /* leap day, last millisecond */
		{ 1709251200000, "20240301" },
		{ 1735689599999, "20241231" },
		{ 1735689600000, "20250101" },
		{ 253402300799999, "99991231" },
		{ 253402300800000, "00000000" }, /* year 10000 does not fit YYYYMMDD */
		{ INT64_MAX, "00000000" },
		{ INT64_MIN, "00000000" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char d[9];
		memset(d, 'x', sizeof d);
		audit_file_date(cases[i].ms, d);
		cr_expect_str_eq(d, cases[i].date, "%lld ms", (long long)cases[i].ms);
	}
}

Test(audit_file, only_exact_log_names_are_the_logs)
{
	static const struct {
		const char *name;
		const char *date; /* NULL: not a log file */
		int num;
	} cases[] = {
		{ "audit-20240101-001.jsonl", "20240101", 1 },
		{ "audit-20241231-999.jsonl", "20241231", 999 },
		{ "audit-20240101-042.jsonl", "20240101", 42 },
		{ "audit-20240101-000.jsonl", NULL, 0 },
		{ "audit-20240101-01.jsonl", NULL, 0 },
		{ "audit-20240101-0001.jsonl", NULL, 0 },
		{ "audit-2024010-001.jsonl", NULL, 0 },
		{ "audit-2024010a-001.jsonl", NULL, 0 },
		{ "audit-20240101_001.jsonl", NULL, 0 },
		{ "audit-20240101-+01.jsonl", NULL, 0 },
		{ "audit-20240101- 01.jsonl", NULL, 0 },
		{ "audit-20240101-001.json", NULL, 0 },
		{ "audit-20240101-001.jsonx", NULL, 0 },
		{ "audit-20240101-001.jsonl.tmp", NULL, 0 },
		{ "Audit-20240101-001.jsonl", NULL, 0 },
		{ "xaudit-20240101-001.jsonl", NULL, 0 },
		{ "audit-20240101-001.jsonl\n", NULL, 0 },
		{ ".audit-20240101-001.jsonl", NULL, 0 },
		{ "../20240101-001.jsonl/aa", NULL, 0 },
		{ "", NULL, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char date[9] = "";
		int num = -1;
		bool ok = audit_file_name_parse(cases[i].name, date, &num);
		if (cases[i].date == NULL) {
			cr_expect(!ok, "\"%s\" taken for a log file", cases[i].name);
			continue;
		}
		cr_expect(ok, "\"%s\" refused", cases[i].name);
		cr_expect_str_eq(date, cases[i].date, "%s", cases[i].name);
		cr_expect_eq(num, cases[i].num, "%s", cases[i].name);
	}
}

Test(audit_file, a_path_parses_back_to_its_date_and_number)
{
	static const int nums[] = { 1, 2, 9, 10, 99, 100, 998, 999 };
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		char path[128], date[9];
		int num;
		cr_assert_eq(audit_file_path(path, sizeof path, "/var/log/pixelgate", "20240615",
					     nums[i]),
			     0);
		const char *base = strrchr(path, '/') + 1;
		cr_assert_eq(base - path, (long)strlen("/var/log/pixelgate/"));
		cr_assert_eq(strlen(base), AUDIT_NAME_LEN, "%s", base);
		cr_assert(audit_file_name_parse(base, date, &num), "%s", base);
		cr_expect_str_eq(date, "20240615");
		cr_expect_eq(num, nums[i]);
	}
	char small[30];
	cr_expect_eq(audit_file_path(small, sizeof small, "/var/log/pixelgate", "20240615", 1), -1,
		     "a path that does not fit is refused, not cut");
	char exact[sizeof "/d/audit-20240615-001.jsonl"];
	cr_expect_eq(audit_file_path(exact, sizeof exact, "/d", "20240615", 1), 0);
	cr_expect_str_eq(exact, "/d/audit-20240615-001.jsonl");
}

struct rotation_case {
	const char *what;
	int64_t size;
	int rotate_mb;
	bool daily;
	const char *today, *date;
	int num;
	enum audit_file_rotation want;
};

Test(audit_file, rotation_by_size_and_by_day)
{
	static const struct rotation_case cases[] = {
		{ "empty file", 0, 64, true, "20240101", "20240101", 1, AUDIT_FILE_KEEP },
		{ "one byte under", 64LL * MIB - 1, 64, true, "20240101", "20240101", 1,
		  AUDIT_FILE_KEEP },
		{ "at the size", 64LL * MIB, 64, true, "20240101", "20240101", 1,
		  AUDIT_FILE_ROTATE },
		{ "past the size", 100LL * MIB, 64, false, "20240101", "20240101", 5,
		  AUDIT_FILE_ROTATE },
		{ "1 MiB files", 1 * MIB, 1, false, "20240101", "20240101", 1, AUDIT_FILE_ROTATE },
		{ "64 GiB setting, no overflow", 65536LL * MIB - 1, 65536, false, "20240101",
		  "20240101", 1, AUDIT_FILE_KEEP },
		{ "next day, daily", 10, 64, true, "20240102", "20240101", 7, AUDIT_FILE_ROTATE },
		{ "next day, not daily", 10, 64, false, "20240102", "20240101", 7,
		  AUDIT_FILE_KEEP },
		{ "next year, daily", 10, 64, true, "20250101", "20241231", 1, AUDIT_FILE_ROTATE },
		{ "998th file full", 64LL * MIB, 64, true, "20240101", "20240101", 998,
		  AUDIT_FILE_ROTATE },
		{ "999th file full: no next name today", 64LL * MIB, 64, true, "20240101",
		  "20240101", 999, AUDIT_FILE_FULL },
		{ "999th file not full", 10, 64, true, "20240101", "20240101", 999,
		  AUDIT_FILE_KEEP },
		{ "999th file full, a new day: 001 of it", 64LL * MIB, 64, false, "20240102",
		  "20240101", 999, AUDIT_FILE_ROTATE },
		{ "clock went back, daily: no rotation", 10, 64, true, "20231231", "20240101", 3,
		  AUDIT_FILE_KEEP },
		{ "clock went back, file full", 64LL * MIB, 64, true, "20231231", "20240101", 3,
		  AUDIT_FILE_ROTATE },
		{ "clock went back, 999th full", 64LL * MIB, 64, true, "20231231", "20240101", 999,
		  AUDIT_FILE_FULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rotation_case *c = &cases[i];
		enum audit_file_rotation got = audit_file_rotation(c->size, c->rotate_mb, c->daily,
								   c->today, c->date, c->num);
		cr_expect_eq(got, c->want, "%s: %d, expected %d", c->what, got, c->want);
	}
}

Test(audit_file, the_next_file_is_nnn_plus_one_or_001_of_a_new_day)
{
	static const struct {
		const char *what, *today, *date;
		int num;
		const char *next_date;
		int next_num;
	} cases[] = {
		{ "same day", "20240101", "20240101", 1, "20240101", 2 },
		{ "same day, late", "20240101", "20240101", 998, "20240101", 999 },
		{ "past 999: none (the writer stops at AUDIT_FILE_NUM_MAX)", "20240101", "20240101",
		  999, "20240101", 1000 },
		{ "a new day", "20240102", "20240101", 17, "20240102", 1 },
		{ "clock went back: the file's date goes on", "20231231", "20240101", 4, "20240101",
		  5 },
		{ "no file yet", "20240101", "", 0, "20240101", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char d[9];
		int n = -1;
		audit_file_next(cases[i].today, cases[i].date, cases[i].num, d, &n);
		cr_expect_str_eq(d, cases[i].next_date, "%s", cases[i].what);
		cr_expect_eq(n, cases[i].next_num, "%s", cases[i].what);
	}
	/* the writer passes its current date as both date and next_date's source */
	char date[9] = "20240101";
	int n;
	audit_file_next("20240101", date, 3, date, &n);
	cr_expect_str_eq(date, "20240101");
	cr_expect_eq(n, 4);
}

Test(audit_file, a_busy_day_then_midnight_gives_names_in_order)
{
	/* 1 MiB files, 20 KiB of records a minute, from 22:00 to 02:00 */
	char date[9] = "20240101", today[9];
	int num = 1;
	int64_t size = 0, t = 1704146400000; /* 2024-01-01 22:00 UTC */
	const char *seen[8];
	char names[8][AUDIT_NAME_LEN + 1];
	size_t nseen = 0;
	for (int minute = 0; minute < 4 * 60; minute++, t += 60000) {
		audit_file_date(t, today);
		if (audit_file_rotation(size, 1, true, today, date, num) == AUDIT_FILE_ROTATE) {
			audit_file_next(today, date, num, date, &num);
			size = 0;
			cr_assert_lt(nseen, 8);
			char path[64];
			cr_assert_eq(audit_file_path(path, sizeof path, ".", date, num), 0);
			memcpy(names[nseen], path + 2, AUDIT_NAME_LEN + 1);
			seen[nseen] = names[nseen];
			nseen++;
		}
		size += 20 * 1024;
	}
	static const char *const want[] = { "audit-20240101-002.jsonl", "audit-20240101-003.jsonl",
					    "audit-20240102-001.jsonl", "audit-20240102-002.jsonl",
					    "audit-20240102-003.jsonl" };
	cr_assert_eq(nseen, 5, "%zu files started", nseen);
	for (size_t i = 0; i < nseen; i++) {
		cr_expect_str_eq(seen[i], want[i]);
		if (i > 0)
			cr_expect_gt(strcmp(seen[i], seen[i - 1]), 0, "names out of order");
	}
}
