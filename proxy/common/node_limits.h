/*
 * node_limits.h: the session limits a node enforces, one table.
 *
 * Defaults come from the [limits] section of the config file; run-time
 * overrides (admin API PATCH /api/v1/limits, `pixelgatectl limits set`)
 * are validated as a whole (nothing is applied unless every field is valid)
 * and persisted in the state directory, so they survive a restart. Each
 * limit is an integer; 0 means "no limit" where the table says so.
 */
#ifndef PIXELGATE_NODE_LIMITS_H
#define PIXELGATE_NODE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

struct limits {
	int max_sessions;          /* sessions on this node (0 = no limit) */
	int max_sessions_per_user; /* sessions one user may hold (>= 1) */
	int idle_timeout_s;        /* no input from the viewer: the session ends (0 = never) */
	int max_session_s;         /* a session's whole life (0 = no limit) */
	int reconnect_grace_s;     /* a session without a viewer stays this long */
	int max_fps;               /* framebuffer updates per second per session (0 = no limit) */
	int max_kbps;              /* kilobits per second to one viewer (0 = no limit) */
	int login_max_failures;    /* failed logins before a lockout (0 = never lock) */
	int login_lockout_s;       /* how long a user / an address stays locked */
	int login_rate_per_s;      /* staff logins per second per client address (0 = no limit) */
	int login_burst;           /* staff logins an address may make at once (>= 1) */
	int admin_rate_per_s;      /* admin API requests per second per address (0 = no limit) */
	int admin_burst;           /* admin API requests an address may make at once (>= 1) */
};

/* Name, bounds, default and help of each limit (README, errors, pixelgatectl). */
struct limits_key {
	const char *name;
	size_t offset; /* into struct limits */
	int min, max;
	int def;
	bool zero_off; /* 0 turns it off ("no limit", "never"; min is 0) */
	const char *help;
};

/* The table; *n gets its length. */
const struct limits_key *limits_table(size_t *n);

/* Fill l with the built-in defaults. */
void limits_defaults(struct limits *l);

/* Look a limit up by name; NULL if unknown. */
const struct limits_key *limits_find(const char *name);

/*
 * Set one limit from text (config file, `limits set KEY=VALUE`). 0, or -1
 * with "KEY: must be an integer between MIN and MAX" (or "unknown limit")
 * in err.
 */
int limits_set_text(struct limits *l, const char *name, const char *value, char *err,
		    size_t errlen);

/*
 * Apply a JSON object {"name": integer, ...} to l: every field must be a
 * known limit with an integer value within its bounds, else nothing changes
 * and -1 is returned with the offending field's name in field and the reason
 * (with the allowed range) in err. On success, changes gets a short text
 * "name old->new, ..." for the log (may be empty if nothing changed).
 */
int limits_patch_json(struct limits *l, const char *json, size_t len, char *field, size_t fieldlen,
		      char *err, size_t errlen, char *changes, size_t changeslen);

/* All limits as a JSON object (malloc'd; the caller frees). */
char *limits_to_json(const struct limits *l);

/*
 * Persist the limits of cur that differ from base to path (JSON object,
 * written atomically with mode 0600). 0 or -1 + err.
 */
int limits_save_overrides(const struct limits *base, const struct limits *cur, const char *path,
			  char *err, size_t errlen);

/*
 * Apply the overrides saved in path to l (a missing file is no overrides).
 * A file that does not parse or holds an invalid value is an error (the
 * daemon refuses to start rather than run with limits nobody chose).
 */
int limits_load_overrides(struct limits *l, const char *path, char *err, size_t errlen);

#endif
