/*
 * ctl_audit.c: `pixelgatectl audit`, the security staff's view of the audit
 * log. It maps the log files read-only and hands them to the pure code:
 * audit_verify_files() (audit_chain.c) for `verify`, audit_record_parse()
 * and the filters and tables of ctl_audit_text.c for `query` and
 * `sessions`. It never writes anything but its output.
 *
 * Files: FILES as given, or every audit-*.jsonl of --dir (default
 * /var/log/pixelgate/audit) sorted by name, which is the order the gateway
 * writes them in; the chain goes on from one file to the next.
 */
#include "ctl_audit.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_chain.h"
#include "audit_read.h"
#include "ctl.h"
#include "ctl_audit_text.h"
#include "ctl_format.h"

#define CTL_AUDIT_HEAD_MAX (AUDIT_LINE_MAX + 2)

void ctl_audit_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " CTL_NAME " audit verify [FILES...] [--dir D] [--key-file F] [--head F]\n"
	    "       " CTL_NAME " audit query [FILES...] [--dir D] [--user U] [--since T] "
	    "[--until T]\n"
	    "                          [--event E[,E...]] [--url-contains S] [--session ID] "
	    "[--json]\n"
	    "       " CTL_NAME " audit sessions [FILES...] [--dir D] [--user U] [--since T] "
	    "[--until T] [--json]\n"
	    "\n"
	    "Reads the gateway's audit log directly (read-only; no server needed): FILES, or\n"
	    "every audit-*.jsonl in --dir D (default " CTL_AUDIT_DIR "), sorted\n"
	    "by name; the chain goes on from one file to the next.\n"
	    "\n"
	    "verify    check every record's HMAC with the key file (default\n"
	    "          " CTL_AUDIT_KEY_FILE "; owner-only, at least %d bytes) and the\n"
	    "          chain: prints \"OK, N records, first ..., last ...\" or the first bad\n"
	    "          record (file:line, seq) and why: changed, deleted, inserted, reordered,\n"
	    "          truncated, wrong key. With --dir the chain must start at seq 1; FILES\n"
	    "          may start later. --head F: a copy of the newest record (or \"SEQ MAC\")\n"
	    "          kept elsewhere; records cut from the end are then found too.\n"
	    "query     the records that match every condition, as a table in local time\n"
	    "          (TIME USER CLIENT SESSION EVENT DETAILS) or, with --json, as JSON Lines.\n"
	    "sessions  one line per session: user, client, start, end, duration, pages\n"
	    "          visited, blocked events (downloads, file dialogs, protocol violations).\n"
	    "\n"
	    "T is local time (TZ) \"2026-11-26 09:00\", \"2026-11-26T09:00:30\", a date\n"
	    "\"2026-11-26\", or RFC 3339 with Z or an offset; --since is inclusive, --until\n"
	    "exclusive. query and sessions do not check the chain: run verify first.\n"
	    "\n"
	    "Exit status: 0 OK, 1 the log is not intact (verify) or has lines that are not\n"
	    "records (query, sessions), 2 a usage mistake, 3 a file or the key cannot be\n"
	    "read.\n",
	    AUDIT_KEY_MIN);
}

static int ctl_audit_usage_error(const char *msg)
{
	ctl_error("%s", msg);
	fputs(CTL_NAME ": try '" CTL_NAME " audit --help'\n", stderr);
	return CTL_AUDIT_EXIT_USAGE;
}

/* A record's ts as local time with the zone: "2026-11-26 12:04:05 JST". */
static void ctl_audit_local_zone(const char *ts, char *out, size_t outlen)
{
	int64_t ms;
	struct tm tm;
	if (audit_parse_ts(ts, &ms) != 0) {
		snprintf(out, outlen, "%s", ts);
		return;
	}
	time_t t = (time_t)(ms / 1000);
	if (localtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(out, outlen, "%s", ts);
}

/* List and map the files: FILES, or audit-*.jsonl of --dir. 0 or -1 after a message. */
static int ctl_audit_open(const struct ctl_audit_args *a, struct audit_log *log)
{
	char why[4300];
	if (audit_log_open(log, a->dir, (const char *const *)a->files, a->nfiles, why,
			   sizeof why) != 0) {
		ctl_error("%s", why);
		return -1;
	}
	return 0;
}

static int ctl_audit_verify(const struct ctl_audit_args *a)
{
	static uint8_t key[AUDIT_KEY_MAX + 1];
	size_t keylen = 0;
	struct audit_log log;
	struct audit_head head, *hp = NULL;
	struct audit_verify v;
	struct audit_where w;
	char why[512], first[64], last[64];
	enum audit_problem p;

	if (a->head != NULL) {
		char *buf = malloc(CTL_AUDIT_HEAD_MAX);
		FILE *f = fopen(a->head, "r");
		size_t n = 0;
		if (f == NULL || buf == NULL) {
			ctl_error("head %s: %s", a->head,
				  buf == NULL ? "out of memory" : strerror(errno));
			if (f != NULL)
				fclose(f);
			free(buf);
			return CTL_AUDIT_EXIT_CANNOT;
		}
		n = fread(buf, 1, CTL_AUDIT_HEAD_MAX, f);
		fclose(f);
		int rc = n < CTL_AUDIT_HEAD_MAX ? audit_head_parse(buf, n, &head) : -1;
		free(buf);
		if (rc != 0) {
			ctl_error("head %s: not a record line nor \"SEQ MAC\"", a->head);
			return CTL_AUDIT_EXIT_CANNOT;
		}
		hp = &head;
	}
	if (audit_key_read(a->key_file, key, &keylen, why, sizeof why) != 0) {
		ctl_error("%s", why);
		return CTL_AUDIT_EXIT_CANNOT;
	}
	if (ctl_audit_open(a, &log) != 0) {
		OPENSSL_cleanse(key, sizeof key);
		return CTL_AUDIT_EXIT_CANNOT;
	}
	p = audit_verify_files(log.f, log.n, key, keylen, a->dir != NULL, hp, &v, &w, why,
			       sizeof why);
	OPENSSL_cleanse(key, sizeof key);
	ctl_audit_local_zone(v.first_ts, first, sizeof first);
	ctl_audit_local_zone(v.last_ts, last, sizeof last);
	if (p == AUDIT_OK) {
		if (v.records == 0)
			printf("OK, 0 records (in %zu file%s)\n", log.n, log.n == 1 ? "" : "s");
		else
			printf("OK, %" PRIu64 " record%s, first %s, last %s (seq %" PRIu64
			       " to %" PRIu64 " in %zu file%s)\n",
			       v.records, v.records == 1 ? "" : "s", first, last,
			       v.last_seq - v.records + 1, v.last_seq, log.n,
			       log.n == 1 ? "" : "s");
		if (a->dir == NULL && v.records > 0 && v.last_seq - v.records + 1 != 1)
			printf("note: these files start at seq %" PRIu64
			       "; the records before it were not checked\n",
			       v.last_seq - v.records + 1);
		audit_log_close(&log);
		return CTL_AUDIT_EXIT_OK;
	}
	char cleaned[4200];
	const char *name = log.n > 0 ? log.f[w.file].name : "";
	ctl_clean_text(name, strlen(name), cleaned, sizeof cleaned);
	if (w.seq > 0)
		printf("%s:%" PRIu64 ": seq %" PRIu64 ": %s: %s\n", cleaned, w.line, w.seq,
		       audit_problem_name(p), why);
	else
		printf("%s:%" PRIu64 ": %s: %s\n", cleaned, w.line, audit_problem_name(p), why);
	if (v.records > 0)
		printf("%" PRIu64 " record%s before it verified (seq %" PRIu64 " to %" PRIu64
		       ", %s to %s)\n",
		       v.records, v.records == 1 ? "" : "s", v.last_seq - v.records + 1, v.last_seq,
		       first, last);
	audit_log_close(&log);
	return CTL_AUDIT_EXIT_BAD;
}

struct ctl_audit_query {
	const struct ctl_audit_args *a;
	json_t **recs;
	size_t n, cap;
};

static int ctl_audit_query_one(void *arg, json_t *rec, const char *line, size_t len)
{
	struct ctl_audit_query *q = arg;
	if (!ctl_audit_match(&q->a->filter, rec)) {
		json_decref(rec);
		return 0;
	}
	if (q->a->json) {
		json_decref(rec);
		/* the line as written: it is the record's canonical JSON */
		if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
			return -1;
		return 0;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		json_t **r = realloc(q->recs, cap * sizeof *r);
		if (r == NULL) {
			json_decref(rec);
			return -1;
		}
		q->recs = r;
		q->cap = cap;
	}
	q->recs[q->n++] = rec;
	return 0;
}

static int ctl_audit_sessions_one(void *arg, json_t *rec, const char *line, size_t len)
{
	(void)line;
	(void)len;
	int rc = ctl_audit_sessions_add(arg, rec);
	json_decref(rec);
	return rc;
}

static void ctl_audit_warn_bad(uint64_t bad)
{
	if (bad > 0)
		ctl_error("warning: %" PRIu64 " line%s (skipped); run " CTL_NAME " audit verify",
			  bad,
			  bad == 1 ? " of the log is not a record"
				   : "s of the log are not records");
}

static int ctl_audit_query(const struct ctl_audit_args *a)
{
	struct audit_log log;
	struct ctl_audit_query q = { .a = a };
	uint64_t bad = 0;
	int rc;
	if (ctl_audit_open(a, &log) != 0)
		return CTL_AUDIT_EXIT_CANNOT;
	rc = audit_log_each(&log, ctl_audit_query_one, &q, &bad);
	if (rc == 0 && !a->json)
		rc = ctl_audit_print_records(q.recs, q.n, stdout);
	for (size_t i = 0; i < q.n; i++)
		json_decref(q.recs[i]);
	free(q.recs);
	audit_log_close(&log);
	if (rc != 0 || fflush(stdout) != 0) {
		ctl_error("audit query: out of memory or cannot write the output");
		return CTL_AUDIT_EXIT_CANNOT;
	}
	ctl_audit_warn_bad(bad);
	return bad > 0 ? CTL_AUDIT_EXIT_BAD : CTL_AUDIT_EXIT_OK;
}

static int ctl_audit_sessions(const struct ctl_audit_args *a)
{
	struct audit_log log;
	struct ctl_audit_sessions s;
	uint64_t bad = 0;
	int rc;
	if (ctl_audit_open(a, &log) != 0)
		return CTL_AUDIT_EXIT_CANNOT;
	ctl_audit_sessions_init(&s);
	rc = audit_log_each(&log, ctl_audit_sessions_one, &s, &bad);
	if (rc == 0)
		rc = ctl_audit_print_sessions(&s, &a->filter, a->json, stdout);
	ctl_audit_sessions_free(&s);
	audit_log_close(&log);
	if (rc != 0 || fflush(stdout) != 0) {
		ctl_error("audit sessions: out of memory or cannot write the output");
		return CTL_AUDIT_EXIT_CANNOT;
	}
	ctl_audit_warn_bad(bad);
	return bad > 0 ? CTL_AUDIT_EXIT_BAD : CTL_AUDIT_EXIT_OK;
}

int ctl_audit_main(int argc, char **argv)
{
	struct ctl_audit_args a;
	char err[512];
	int rc = ctl_audit_args_parse(argc, argv, &a, err, sizeof err);
	if (rc == 1) {
		ctl_audit_usage(stdout);
		return CTL_AUDIT_EXIT_OK;
	}
	if (rc != 0)
		return ctl_audit_usage_error(err);
	tzset();
	switch (a.cmd) {
	case CTL_AUDIT_VERIFY:
		rc = ctl_audit_verify(&a);
		break;
	case CTL_AUDIT_QUERY:
		rc = ctl_audit_query(&a);
		break;
	case CTL_AUDIT_SESSIONS:
	default:
		rc = ctl_audit_sessions(&a);
		break;
	}
	free(a.files);
	return rc;
}
