/*
 * viewer_text.h: every message pixelgate-viewer shows, in Japanese and
 * English. Japanese when the locale (LC_ALL, LC_MESSAGES, LANG, the first
 * that is set and not empty) starts with "ja", or when none of them is set
 * and the system's preferred language is Japanese (SDL_GetPreferredLocales:
 * the Windows display language), or when the config says language = ja;
 * English otherwise.
 *
 * The messages are written for city-hall staff who are not technical: each
 * error says what happened and what to do.
 */
#ifndef PIXELGATE_VIEWER_TEXT_H
#define PIXELGATE_VIEWER_TEXT_H

#include <stdbool.h>

enum text_id {
	TEXT_TITLE_LOGIN,  /* "pixelgate — ログイン" */
	TEXT_LABEL_SERVER, /* "接続先" (the app prints ": " and the address after it) */
	TEXT_LABEL_USER,
	TEXT_LABEL_PASSWORD,
	TEXT_LABEL_OTP,        /* the second factor's code field */
	TEXT_ERR_OTP_REQUIRED, /* 401 otp_required: enter the code */
	TEXT_ERR_OTP_INVALID,  /* 401 otp_invalid: wrong or used code */
	TEXT_BUTTON_LOGIN,
	TEXT_CONNECTING, /* "接続しています…" */
	TEXT_STARTING_BROWSER,
	TEXT_ERR_CREDENTIALS,    /* 401 invalid_credentials: what happened + what to do */
	TEXT_ERR_SERVER_REFUSED, /* other 4xx/5xx: followed (next line) by the server's message */
	TEXT_ERR_UNREACHABLE,    /* no answer: check the network, ask IT */
	TEXT_ERR_CERTIFICATE,    /* the server's certificate is not from the pinned CA */
	TEXT_ERR_CA_FILE,        /* the CA file cannot be read */
	TEXT_ERR_NO_SERVER,      /* no server configured, or its address is wrong */
	TEXT_ERR_EMPTY_FIELDS,   /* user or password empty */
	TEXT_LOST_RETRYING,      /* the only message with a conversion: one %d, seconds */
	TEXT_SESSION_ENDED, /* the server ended the session: followed (next line) by its reason */
	TEXT_REPLACED,      /* the same user connected elsewhere */
	TEXT_PRESS_ENTER_TO_LOGIN, /* after an error: log in again */
	TEXT_PLAY_VERIFIED,        /* the player: the file is the one the audit log names */
	TEXT_PLAY_NOT_VERIFIED,    /* the player with --unverified: followed by why */
	TEXT_PLAY_EVENTS,          /* the player: heading of the audit events list */
	TEXT_PLAY_KEYS,            /* the player: the keys */
	TEXT_COUNT
};

/*
 * Choose the language: "ja", "en", or "auto"/NULL/anything else (from the
 * locale, see above).
 */
void text_set_language(const char *language);

/* True when messages are Japanese (decided from the locale on first use). */
bool text_is_japanese(void);

/*
 * The message (UTF-8, never NULL; "" for an id out of range). Only
 * TEXT_LOST_RETRYING contains a conversion, exactly one "%d"; no message
 * contains any other '%'.
 */
const char *text_get(enum text_id id);

/*
 * The locale rule as a pure function: true if the first of lc_all,
 * lc_messages, lang that is not NULL or empty starts with "ja".
 */
bool text_locale_is_japanese(const char *lc_all, const char *lc_messages, const char *lang);

#endif
