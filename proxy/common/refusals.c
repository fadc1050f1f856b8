/*
 * refusals.c: counting refusals per key, with a bounded table.
 *
 * A flat array searched linearly (at most a few hundred keys). Keys are
 * compared on their stored (possibly cut) form, so two keys that differ
 * only past a field's size count together, which only makes records fewer.
 */
#include "refusals.h"

#include <stdio.h>
#include <string.h>

void refusals_init(struct refusals *r, int64_t interval_ms)
{
	memset(r, 0, sizeof *r);
	r->interval_ms = interval_ms > 0 ? interval_ms : 1;
}

/* Copy src into dst (size bytes), cut if needed. */
static void refusals_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static bool refusals_same(const struct refusal *e, const char *event, const char *user,
			  const char *client)
{
	return strcmp(e->event, event) == 0 && strcmp(e->user, user) == 0 &&
	    strcmp(e->client, client) == 0;
}

/* Start entry e for this key at now. */
static void refusals_start(struct refusal *e, const char *event, const char *user,
			   const char *client, const char *reason, bool overflow, int64_t now_ms,
			   int64_t wall_ms)
{
	memset(e, 0, sizeof *e);
	refusals_copy(e->event, sizeof e->event, event);
	refusals_copy(e->user, sizeof e->user, user);
	refusals_copy(e->client, sizeof e->client, client);
	refusals_copy(e->reason, sizeof e->reason, reason);
	e->overflow = overflow;
	e->count = 1;
	e->first_ms = now_ms;
	e->first_wall_ms = wall_ms;
	e->last_wall_ms = wall_ms;
}

/* One more refusal for e. */
static void refusals_count(struct refusal *e, int64_t wall_ms)
{
	if (e->count < UINT64_MAX)
		e->count++;
	if (wall_ms > e->last_wall_ms)
		e->last_wall_ms = wall_ms;
}

bool refusals_add(struct refusals *r, const char *event, const char *user, const char *client,
		  const char *reason, int64_t now_ms, int64_t wall_ms)
{
	char ev[REFUSALS_EVENT_MAX], us[REFUSALS_USER_MAX], cl[REFUSALS_CLIENT_MAX];
	refusals_copy(ev, sizeof ev, event);
	refusals_copy(us, sizeof us, user);
	refusals_copy(cl, sizeof cl, client);
	for (size_t i = 0; i < r->n; i++) {
		if (refusals_same(&r->v[i], ev, us, cl)) {
			refusals_count(&r->v[i], wall_ms);
			return false;
		}
	}
	if (r->n < REFUSALS_KEYS_MAX) {
		if (r->n_overflow > 0) /* keep the overflow entries after the keys */
			memmove(&r->v[r->n + 1], &r->v[r->n], r->n_overflow * sizeof r->v[0]);
		refusals_start(&r->v[r->n], ev, us, cl, reason, false, now_ms, wall_ms);
		r->n++;
		return true;
	}
	/* Full: count it in its event's overflow entry. */
	struct refusal *o = &r->v[r->n];
	for (size_t i = 0; i < r->n_overflow; i++) {
		if (strcmp(o[i].event, ev) == 0) {
			refusals_count(&o[i], wall_ms);
			return false;
		}
	}
	if (r->n_overflow >= REFUSALS_OVERFLOW_MAX) {
		r->dropped++;
		return false;
	}
	refusals_start(&o[r->n_overflow], ev, "", REFUSALS_OVERFLOW_CLIENT, reason, true, now_ms,
		       wall_ms);
	r->n_overflow++;
	return true;
}

/* Whether e's interval has ended at now_ms. */
static bool refusals_due(const struct refusals *r, const struct refusal *e, int64_t now_ms)
{
	/* A clock that went back leaves the entry for the next flush. */
	return now_ms >= e->first_ms && now_ms - e->first_ms >= r->interval_ms;
}

size_t refusals_flush(struct refusals *r, int64_t now_ms, bool all,
		      void (*emit)(const struct refusal *e, void *arg), void *arg)
{
	size_t emitted = 0, total = r->n + r->n_overflow, kept = 0, kept_keys = 0;
	/* Emit in place, compacting what stays (keys stay before overflow entries). */
	for (size_t i = 0; i < total; i++) {
		struct refusal *e = &r->v[i];
		if (all || refusals_due(r, e, now_ms)) {
			emit(e, arg);
			emitted++;
			continue;
		}
		if (kept != i)
			r->v[kept] = *e;
		kept++;
		if (i < r->n)
			kept_keys++;
	}
	r->n = kept_keys;
	r->n_overflow = kept - kept_keys;
	return emitted;
}

int64_t refusals_next_due(const struct refusals *r)
{
	int64_t due = INT64_MAX;
	for (size_t i = 0; i < r->n + r->n_overflow; i++) {
		int64_t d = r->v[i].first_ms > INT64_MAX - r->interval_ms
		    ? INT64_MAX
		    : r->v[i].first_ms + r->interval_ms;
		if (d < due)
			due = d;
	}
	return due;
}
