/*
 * audit_fields.c: the fields of an audit record, see audit_fields.h.
 */
#include "audit_fields.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utf8.h"

json_t *audit_fields_string(const char *s, size_t len, size_t cap)
{
	static const char ellipsis[] = "\xe2\x80\xa6"; /* marks a cut string */
	char *out = malloc(cap + 1);
	if (out == NULL)
		return NULL;
	/* Each input byte gives one output byte, so only a longer input is cut. */
	size_t limit = len <= cap ? cap : cap - (sizeof ellipsis - 1);
	size_t o = 0, i = 0;
	bool cut = false;
	while (i < len) {
		const uint8_t *u = (const uint8_t *)s + i;
		uint32_t cp = 0;
		size_t n = utf8_next(u, len - i, &cp);
		bool ok = n > 0 && cp != 0;
		if (n == 0)
			n = 1;
		if (o + n > limit) {
			cut = true;
			break;
		}
		if (ok)
			memcpy(out + o, u, n);
		else
			out[o] = '?';
		o += n;
		i += n;
	}
	if (cut) {
		memcpy(out + o, ellipsis, sizeof ellipsis - 1);
		o += sizeof ellipsis - 1;
	}
	json_t *j = json_stringn(out, o);
	free(out);
	return j;
}

/* The names the record itself uses. */
static bool audit_fields_reserved(const char *key)
{
	static const char *const names[] = { "ts",    "seq",  "prev",   "mac",
					     "event", "user", "client", "session" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(key, names[i]) == 0)
			return true;
	return false;
}

json_t *audit_fields_make(const char *event, const char *user, const char *client,
			  const char *session, json_t *extra, size_t cap, bool warn)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	const char *names[] = { "event", "user", "client", "session" };
	const char *values[] = { event, user, client, session };
	for (size_t i = 0; i < 4; i++) {
		const char *v = values[i] ? values[i] : "";
		if (json_object_set_new(o, names[i], audit_fields_string(v, strlen(v), cap)) != 0)
			goto fail;
	}
	if (!json_is_object(extra))
		return o;
	const char *key;
	json_t *value;
	size_t n = 0;
	json_object_foreach(extra, key, value) {
		json_t *copy = NULL;
		if (audit_fields_reserved(key) || strlen(key) > AUDIT_KEY_NAME_MAX ||
		    n >= AUDIT_FIELDS_MAX) {
			if (warn)
				log_warn("%s: %s: field \"%.64s\" left out of the record", __func__,
					 event, key);
			continue;
		}
		if (json_is_string(value))
			copy = audit_fields_string(json_string_value(value),
						   json_string_length(value), cap);
		else if (json_is_integer(value) || json_is_boolean(value))
			copy = json_copy(value);
		else {
			if (warn)
				log_warn("%s: %s: field \"%s\" is not a string, integer or "
					 "boolean: left out",
					 __func__, event, key);
			continue;
		}
		if (json_object_set_new(o, key, copy) != 0)
			goto fail;
		n++;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}
