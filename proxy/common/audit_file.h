/*
 * audit_file.h: names and rotation of the audit log's files, the pure part
 * of the writer (gateway_audit.c): no I/O, the caller passes the time and
 * the current file's size.
 *
 * Files are audit_dir/audit-YYYYMMDD-NNN.jsonl (UTC date, NNN 001..999).
 * Rotation happens before a write: when the file has reached rotate_mb MiB,
 * or (rotate_daily) the UTC date is past the file's date. Same date: NNN+1;
 * a later date: 001. When the clock went back the current file's date is
 * kept. Past NNN 999 of a day there is no next name: the writer goes on in
 * the same file (AUDIT_FILE_FULL) until the date changes.
 */
#ifndef PIXELGATE_AUDIT_FILE_H
#define PIXELGATE_AUDIT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_FILE_NUM_MAX 999 /* NNN of audit-YYYYMMDD-NNN.jsonl */
#define AUDIT_NAME_LEN 24      /* strlen("audit-YYYYMMDD-NNN.jsonl") */

/*
 * "YYYYMMDD" (UTC) of unix_ms; "00000000" before 1970 or after 9999 (where
 * audit_format_ts() refuses to stamp a record anyway).
 */
void audit_file_date(int64_t unix_ms, char out[9]);

/*
 * Whether name is exactly audit-YYYYMMDD-NNN.jsonl with NNN >= 1; its date
 * and number. A false answer may still have written date and *num.
 */
bool audit_file_name_parse(const char *name, char date[9], int *num);

/* "dir/audit-YYYYMMDD-NNN.jsonl" into out. 0, or -1 if it does not fit. */
int audit_file_path(char *out, size_t outlen, const char *dir, const char *date, int num);

/* What to do before a write to the current file. */
enum audit_file_rotation {
	AUDIT_FILE_KEEP,   /* go on in the current file */
	AUDIT_FILE_ROTATE, /* start the next file (audit_file_next()) first */
	AUDIT_FILE_FULL,   /* too big, but NNN 999 of the day is used: go on, say so once */
};

/*
 * The decision for the current file date/num of size bytes at the UTC date
 * today, with rotate_mb (MiB) and rotate_daily.
 */
enum audit_file_rotation audit_file_rotation(int64_t size, int rotate_mb, bool rotate_daily,
					     const char *today, const char *date, int num);

/*
 * The file after date/num at the UTC date today: today's date (or date, if
 * the clock went back) with num+1 on the same date, 1 on a later one. The
 * number may be past AUDIT_FILE_NUM_MAX: then there is none.
 */
void audit_file_next(const char *today, const char *date, int num, char next_date[9],
		     int *next_num);

#endif
