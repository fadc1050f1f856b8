/*
 * audit_file.c: audit file names and rotation, see audit_file.h.
 */
#include "audit_file.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void audit_file_date(int64_t unix_ms, char out[9])
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	if (unix_ms < 0 || gmtime_r(&t, &tm) == NULL || strftime(out, 9, "%Y%m%d", &tm) != 8)
		memcpy(out, "00000000", 9);
}

bool audit_file_name_parse(const char *name, char date[9], int *num)
{
	if (strlen(name) != AUDIT_NAME_LEN || strncmp(name, "audit-", 6) != 0 ||
	    strspn(name + 6, "0123456789") != 8 || name[14] != '-' ||
	    strspn(name + 15, "0123456789") != 3 || strcmp(name + 18, ".jsonl") != 0)
		return false;
	memcpy(date, name + 6, 8);
	date[8] = '\0';
	*num = (name[15] - '0') * 100 + (name[16] - '0') * 10 + (name[17] - '0');
	return *num >= 1;
}

int audit_file_path(char *out, size_t outlen, const char *dir, const char *date, int num)
{
	int n = snprintf(out, outlen, "%s/audit-%.8s-%03d.jsonl", dir, date, num);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

enum audit_file_rotation audit_file_rotation(int64_t size, int rotate_mb, bool rotate_daily,
					     const char *today, const char *date, int num)
{
	bool too_big = size >= (int64_t)rotate_mb * 1024 * 1024;
	bool later_day = strcmp(today, date) > 0;
	if ((rotate_daily && later_day) || (too_big && (later_day || num < AUDIT_FILE_NUM_MAX)))
		return AUDIT_FILE_ROTATE;
	return too_big ? AUDIT_FILE_FULL : AUDIT_FILE_KEEP;
}

void audit_file_next(const char *today, const char *date, int num, char next_date[9], int *next_num)
{
	const char *d = strcmp(today, date) > 0 ? today : date;
	*next_num = strcmp(d, date) == 0 ? num + 1 : 1;
	memmove(next_date, d, 8);
	next_date[8] = '\0';
}
