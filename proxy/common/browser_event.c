/*
 * browser_event.c: a worker's browser event as the gateway records it, see
 * browser_event.h.
 */
#include "browser_event.h"

#include <string.h>

#include "utf8.h"

/* Set out[key] to in[key] cleaned, or "" when it is not a string. 0 or -1. */
static int browser_event_str(json_t *out, json_t *in, const char *key)
{
	const char *v = json_string_value(json_object_get(in, key));
	char buf[BROWSER_EVENT_FIELD_MAX];
	utf8_clean(buf, sizeof buf, v ? v : "");
	return json_object_set_new(out, key, json_string(buf));
}

const char *browser_event_parse(const char *payload, json_t **fields)
{
	static const char *const known[] = { "navigate",         "new_tab",
					     "download_blocked", "file_dialog_blocked",
					     "shortcut_blocked", "limit_exceeded",
					     "clipboard_refused" };
	static const char *const keys_clipboard[] = { "reason", NULL };
	static const char *const keys_shortcut[] = { "keys", NULL };
	static const char *const keys_limit[] = { "limit", "detail", NULL };
	static const char *const keys_download[] = { "url", "filename", "target", NULL };
	static const char *const keys_page[] = { "url", "title", "target", NULL };
	*fields = NULL;
	json_t *in = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
	const char *event = json_string_value(json_object_get(in, "event"));
	const char *name = NULL;
	for (size_t i = 0; event != NULL && i < sizeof known / sizeof known[0]; i++)
		if (strcmp(event, known[i]) == 0)
			name = known[i];
	if (name == NULL) {
		json_decref(in);
		return NULL;
	}
	const char *const *keys = keys_page;
	if (strcmp(name, "shortcut_blocked") == 0)
		keys = keys_shortcut;
	else if (strcmp(name, "limit_exceeded") == 0)
		keys = keys_limit;
	else if (strcmp(name, "download_blocked") == 0)
		keys = keys_download;
	else if (strcmp(name, "clipboard_refused") == 0)
		keys = keys_clipboard;
	json_t *out = json_object();
	for (size_t i = 0; out != NULL && keys[i] != NULL; i++) {
		if (browser_event_str(out, in, keys[i]) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	json_decref(in);
	if (out == NULL)
		return NULL;
	*fields = out;
	return name;
}
