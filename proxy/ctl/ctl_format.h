/*
 * ctl_format.h: pixelgatectl's human output: aligned tables, and the admin
 * API's JSON answers turned into them. Every function here is pure over a
 * buffer (it writes to the FILE it is given and nothing else), so the unit
 * tests feed it hostile answers: text from the server is cleaned of control
 * characters and invalid UTF-8 before it reaches the terminal.
 */
#ifndef PIXELGATE_CTL_FORMAT_H
#define PIXELGATE_CTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Write the message into err (errlen bytes, may be NULL/0) and return -1:
 * how pixelgatectl's pure functions fail.
 */
int ctl_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

/* Most columns a table has. */
#define CTL_TABLE_COLS_MAX 16
/* Longest cell, bytes after cleaning; longer text is cut with "...". */
#define CTL_CELL_MAX 256

/* Rows of text cells printed with aligned columns. */
struct ctl_table {
	size_t ncols;
	const char *headers[CTL_TABLE_COLS_MAX];
	bool right[CTL_TABLE_COLS_MAX]; /* right-aligned (numbers) */
	char **cells;                   /* nrows * ncols cleaned copies */
	size_t nrows;
	size_t cap; /* rows allocated */
};

/* Start a table of ncols columns (1..CTL_TABLE_COLS_MAX). 0 or -1. */
int ctl_table_init(struct ctl_table *t, size_t ncols, const char *const *headers,
		   const bool *right);

/* Append a row of ncols cells (copied and cleaned; NULL shows "-"). 0 or -1. */
int ctl_table_add(struct ctl_table *t, const char *const *row);

/*
 * Print the header and the rows: columns two spaces apart, as wide as their
 * widest cell (in display columns: 東 takes 2), the last one not padded. 0, or -1 on a write
 * error.
 */
int ctl_table_print(const struct ctl_table *t, FILE *out);

void ctl_table_free(struct ctl_table *t);

/*
 * Copy len bytes of s into out (outlen > 3) for a terminal: valid UTF-8 is
 * kept, control characters (C0, DEL, C1) and invalid bytes become '?', and
 * text longer than outlen - 1 bytes is cut at a character boundary and ends
 * with "..." (utf8_clean_text() with UTF8_CLEAN_BIDI: bidi controls become
 * '?' too). Returns the display columns of out (2 for a CJK character, 0
 * for a combining mark: wcwidth() in C.UTF-8).
 */
size_t ctl_clean_text(const char *s, size_t len, char *out, size_t outlen);

/*
 * An RFC 3339 time with seconds and a zone ("2026-11-26T03:04:05Z",
 * "...05.123+09:00", audit_parse_time()) as local time "2026-11-26
 * 12:04:05". 0, or -1 if text is not such a time.
 */
int ctl_local_time(const char *text, char *out, size_t outlen);

/* A byte count for people: "512 B", "1.5 KiB", "23 MiB", "4.0 GiB". */
void ctl_human_bytes(uint64_t n, char *out, size_t outlen);

/*
 * The answers of the admin API as tables (ctl_print_sessions: ID USER CLIENT
 * STARTED LAST-INPUT IN OUT FPS STATE; ctl_print_limits: NAME VALUE;
 * ctl_print_users: NAME ROLE LOCKED). 0, or -1 with what is wrong in err
 * when json (len bytes) is not the documented shape or writing fails.
 */
int ctl_print_sessions(const char *json, size_t len, FILE *out, char *err, size_t errlen);
int ctl_print_limits(const char *json, size_t len, FILE *out, char *err, size_t errlen);
int ctl_print_users(const char *json, size_t len, FILE *out, char *err, size_t errlen);
/* GET /api/v1/policies as a table: GROUP SESSIONS IDLE-S CLIPBOARD RECORDING HOME-PAGE ALLOW BLOCK. */
int ctl_print_policies(const char *json, size_t len, FILE *out, char *err, size_t errlen);
/* GET /api/v1/forensics: ID USER KEPT FILES BYTES STATE WHAT. */
int ctl_print_forensics(const char *json, size_t len, FILE *out, char *err, size_t errlen);

/*
 * `pixelgatectl status`: a few lines from the answers of GET /healthz,
 * GET /api/v1/limits and GET /api/v1/sessions. 0 or -1 + err.
 */
int ctl_print_status(const char *server, const char *health, size_t health_len, const char *limits,
		     size_t limits_len, const char *sessions, size_t sessions_len, FILE *out,
		     char *err, size_t errlen);

/*
 * One line saying why the server refused a request: "HTTP 400 invalid_limit:
 * max_fps must be an integer between 0 and 240 (field max_fps)", with "; retry
 * after N s" from retry_after_s (the Retry-After header; -1 if none) or the
 * body's "retry_after_s". A body that is not JSON is quoted (cleaned, cut).
 */
void ctl_describe_refusal(int status, int retry_after_s, const char *body, size_t len, char *out,
			  size_t outlen);

/*
 * Combine three JSON answers into {"health": ..., "limits": ..., "sessions":
 * [...]} for `status --json` (malloc'd; the caller frees). NULL + err if one
 * does not parse.
 */
char *ctl_status_json(const char *health, size_t health_len, const char *limits, size_t limits_len,
		      const char *sessions, size_t sessions_len, char *err, size_t errlen);

#endif
