/*
 * browser_event.h: what the gateway records of a worker's browser event.
 *
 * A worker sends IPC_EVENT messages, JSON objects such as
 * {"event":"navigate","url":"https://...","title":"...","target":"..."}
 * (session_cdp.c makes them from Chromium's CDP messages). The worker runs
 * next to the browser and is hostile input: only the known event names are
 * recorded, each with its own fixed string fields, every one cleaned
 * (utf8_clean: valid UTF-8, no control characters) and cut between
 * characters to BROWSER_EVENT_FIELD_MAX - 1 bytes. Anything else in the
 * message is dropped.
 */
#ifndef PIXELGATE_BROWSER_EVENT_H
#define PIXELGATE_BROWSER_EVENT_H

#include <jansson.h>

#define BROWSER_EVENT_FIELD_MAX 2048 /* bytes of one field with its NUL */

/*
 * The audit record of one IPC_EVENT payload (NUL-terminated). Returns the
 * event's name (a static string: navigate, new_tab, download_blocked,
 * file_dialog_blocked, shortcut_blocked, limit_exceeded, clipboard_refused)
 * with *fields set to a new object of its fields, all strings ("" for one
 * the worker left out or sent as something else):
 *   shortcut_blocked: keys;  limit_exceeded: limit, detail;
 *   clipboard_refused (a copy in the browser not sent to the terminal): reason;
 *   download_blocked: url, filename, target;  the others: url, title, target.
 * Returns NULL with *fields NULL for a payload that is not a JSON object
 * (duplicate keys refused) or whose "event" is missing or unknown, or when
 * out of memory.
 */
const char *browser_event_parse(const char *payload, json_t **fields);

#endif
