/*
 * ctl_audit_text.h: the pure parts of `pixelgatectl audit` (ctl_audit.c):
 * times typed by security staff, record filters, the DETAILS of a record,
 * and sessions summed up from their records. No I/O except writing to the
 * FILE given, so the unit tests drive them with tricky input.
 */
#ifndef PIXELGATE_CTL_AUDIT_TEXT_H
#define PIXELGATE_CTL_AUDIT_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A time given on the command line, as milliseconds since the epoch:
 *   2026-11-26                  local midnight
 *   2026-11-26 09:00            local time (TZ; JST on the city's machines),
 *   2026-11-26T09:00[:05[.123]] also with seconds and a fraction
 *   2026-11-26T00:00:00Z        RFC 3339: with Z or an offset (+09:00)
 * A date or time that does not exist (2026-02-30, 25:00, a local time
 * skipped by a DST change) is refused. 0, or -1 with what is wrong in err.
 */
int ctl_audit_parse_time(const char *text, int64_t *unix_ms, char *err, size_t errlen);

/* What `audit query` / `audit sessions` keep. NULL / false = no condition. */
struct ctl_audit_filter {
	const char *user;         /* exactly this user */
	const char *event;        /* one of these events (comma-separated) */
	const char *url_contains; /* the record's url contains this (ASCII case ignored) */
	const char *session;      /* exactly this session */
	bool since_set, until_set;
	int64_t since_ms; /* ts >= since */
	int64_t until_ms; /* ts < until */
};

/* Whether record rec (a parsed audit record) passes every condition of f. */
bool ctl_audit_match(const struct ctl_audit_filter *f, const json_t *rec);

/*
 * The event's own fields of rec as "key=value" separated by spaces: url,
 * title, filename, reason, what first, then the rest by name (ts, seq,
 * event, user, client, session, prev and mac are columns or chain, not
 * details). Cut to fit outlen.
 */
void ctl_audit_details(const json_t *rec, char *out, size_t outlen);

/*
 * rec's ts in local time, "2026-11-26 12:04:05"; the ts as it is when it
 * does not parse.
 */
void ctl_audit_local(const char *ts, char *out, size_t outlen);

/*
 * `audit query`: print the records as a table (TIME USER CLIENT SESSION
 * EVENT DETAILS). 0, or -1 on a write error.
 */
int ctl_audit_print_records(json_t *const *recs, size_t n, FILE *out);

/* One session, summed up from its records. */
struct ctl_audit_session {
	char *id, *user, *client;
	int64_t start_ms;   /* session_start's ts; -1 when not seen */
	int64_t end_ms;     /* session_end's ts; -1 while open or not seen */
	int64_t duration_s; /* session_end's duration_s, else end - start; -1 unknown */
	char *end_reason;   /* session_end's reason, NULL if none */
	uint64_t pages;     /* navigate records */
	uint64_t blocked;   /* download_blocked + file_dialog_blocked + protocol_violation */
	bool listed;        /* a session_start or session_end was seen */
};

/* Sessions in the order their first record came. */
struct ctl_audit_sessions {
	struct ctl_audit_session *v;
	size_t n, cap;
	json_t *index; /* id -> position in v */
};

void ctl_audit_sessions_init(struct ctl_audit_sessions *s);
/* Fold one record into the sessions (records without a session are ignored). 0 or -1. */
int ctl_audit_sessions_add(struct ctl_audit_sessions *s, const json_t *rec);
/*
 * Whether a session is shown: it was seen starting or ending, its user is
 * f->user (if set), and it overlaps [since, until): started before until
 * (or start unknown) and ended at or after since (or still open).
 */
bool ctl_audit_session_match(const struct ctl_audit_session *x, const struct ctl_audit_filter *f);
/*
 * Print the sessions that match as a table (SESSION USER CLIENT START END
 * DURATION PAGES BLOCKED; times local, "-" unknown, "open" for a session
 * without its end) or, with json, one JSON object per line. 0 or -1.
 */
int ctl_audit_print_sessions(const struct ctl_audit_sessions *s, const struct ctl_audit_filter *f,
			     bool json, FILE *out);
void ctl_audit_sessions_free(struct ctl_audit_sessions *s);

/* A duration for people: "0:04:05", "27:00:00". */
void ctl_audit_duration(int64_t s, char *out, size_t outlen);

/* The `audit` subcommands. */
enum ctl_audit_cmd {
	CTL_AUDIT_VERIFY,
	CTL_AUDIT_QUERY,
	CTL_AUDIT_SESSIONS,
};

#define CTL_AUDIT_KEY_FILE "/etc/pixelgate/audit.key"
#define CTL_AUDIT_DIR "/var/log/pixelgate/audit"

/* The command line of `pixelgatectl audit ...`; strings point into argv. */
struct ctl_audit_args {
	enum ctl_audit_cmd cmd;
	const char *key_file; /* --key-file (verify), default CTL_AUDIT_KEY_FILE */
	const char *dir;      /* --dir, default CTL_AUDIT_DIR when no FILES */
	const char *head;     /* --head (verify) */
	bool json;            /* --json (query, sessions) */
	struct ctl_audit_filter filter;
	const char **files; /* FILES (malloc'd array; free it), in the order given */
	size_t nfiles;
};

/*
 * Parse argv (argv[0] the program, then "audit", the subcommand, options and
 * FILES in any order; "--" ends the options) into a. Returns 0, 1 for
 * --help / -h, or -1 with what is wrong in err (a->files is then freed).
 */
int ctl_audit_args_parse(int argc, char *const *argv, struct ctl_audit_args *a, char *err,
			 size_t errlen);

#endif
