/*
 * viewer_text.h: every message pixelgate-viewer shows, in Japanese and
 * English. Japanese when the locale (LC_ALL, LC_MESSAGES, LANG) starts with
 * "ja" or the config says language = ja; English otherwise.
 */
#ifndef PIXELGATE_VIEWER_TEXT_H
#define PIXELGATE_VIEWER_TEXT_H

#include <stdbool.h>

enum text_id {
	TEXT_TITLE_LOGIN,          /* "pixelgate — ログイン" */
	TEXT_LABEL_SERVER,
	TEXT_LABEL_USER,
	TEXT_LABEL_PASSWORD,
	TEXT_BUTTON_LOGIN,
	TEXT_CONNECTING,           /* "接続しています…" */
	TEXT_STARTING_BROWSER,
	TEXT_ERR_CREDENTIALS,      /* 401 invalid_credentials: what happened + what to do */
	TEXT_ERR_SERVER_REFUSED,   /* other 4xx/5xx: followed by the server's message */
	TEXT_ERR_UNREACHABLE,      /* no answer: check the network, ask IT */
	TEXT_ERR_CERTIFICATE,      /* the server's certificate is not from the pinned CA */
	TEXT_ERR_CA_FILE,          /* the CA file cannot be read */
	TEXT_ERR_NO_SERVER,        /* no server configured */
	TEXT_ERR_EMPTY_FIELDS,     /* user or password empty */
	TEXT_LOST_RETRYING,        /* "接続が切れました。再接続しています（%d 秒後）" */
	TEXT_SESSION_ENDED,        /* the server ended the session: followed by its reason */
	TEXT_REPLACED,             /* the same user connected elsewhere */
	TEXT_PRESS_ENTER_TO_LOGIN, /* after an error: log in again */
	TEXT_COUNT
};

/* Choose the language: "ja", "en", or "auto"/NULL (from the locale). */
void text_set_language(const char *language);

/* True when messages are Japanese. */
bool text_is_japanese(void);

/* The message (UTF-8, may contain one %d or %s where the comment says). */
const char *text_get(enum text_id id);

#endif
