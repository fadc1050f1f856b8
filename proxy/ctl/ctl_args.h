/*
 * ctl_args.h: pixelgatectl's command line for the admin API commands, and
 * the request bodies and paths built from it. Pure functions (no I/O), so
 * the unit tests drive them with hostile input.
 *
 *   pixelgatectl [--server https://HOST:PORT] [--ca FILE] [--user NAME]
 *                [--password-file F] [--config FILE] [--json] COMMAND
 *
 *   status | sessions | sessions kill ID | limits | limits set KEY=VALUE...
 *   users | users list | users add NAME [--admin] [--new-password-file F]
 *   users del NAME | users passwd NAME [--new-password-file F]
 *   users lock NAME | users unlock NAME | users admin NAME on|off
 *   drain | undrain | forensics | forensics list | forensics del ID
 *
 * Options may come before or after the command words; "--" ends them.
 */
#ifndef PIXELGATE_CTL_ARGS_H
#define PIXELGATE_CTL_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* Most KEY=VALUE pairs one `limits set` takes. */
#define CTL_SETTINGS_MAX 32
/* Longest limit name, bytes. */
#define CTL_LIMIT_NAME_MAX 64

enum ctl_cmd {
	CTL_CMD_STATUS,
	CTL_CMD_SESSIONS,
	CTL_CMD_SESSIONS_KILL,
	CTL_CMD_LIMITS,
	CTL_CMD_LIMITS_SET,
	CTL_CMD_USERS,
	CTL_CMD_USERS_ADD,
	CTL_CMD_USERS_DEL,
	CTL_CMD_USERS_PASSWD,
	CTL_CMD_USERS_LOCK,
	CTL_CMD_USERS_UNLOCK,
	CTL_CMD_USERS_ADMIN,
	CTL_CMD_USERS_TOTP_ENROLL, /* users totp enroll NAME */
	CTL_CMD_USERS_TOTP_REMOVE, /* users totp remove NAME */
	CTL_CMD_USERS_TOTP_SHOW,   /* users totp show NAME */
	CTL_CMD_DRAIN,
	CTL_CMD_UNDRAIN,
	CTL_CMD_FORENSICS,
	CTL_CMD_FORENSICS_DEL,
	CTL_CMD_POLICIES, /* the node's policy and each directory group's */
};

/* What the command line asked for; strings point into argv. */
struct ctl_opts {
	const char *server;            /* --server, NULL = from the config files */
	const char *ca_file;           /* --ca */
	const char *user;              /* --user */
	const char *password_file;     /* --password-file: the admin's password */
	const char *config_file;       /* --config: instead of the two default files */
	const char *new_password_file; /* --new-password-file: users add / passwd */
	bool json;                     /* --json */
	bool admin;                    /* --admin: users add */
	enum ctl_cmd cmd;
	const char *arg;                        /* the session ID or user NAME */
	bool admin_on;                          /* users admin NAME on|off */
	const char *settings[CTL_SETTINGS_MAX]; /* limits set: "KEY=VALUE" */
	int nsettings;
};

/*
 * Parse argv (argv[0] is the program) into o. Returns 0, 1 when --help or -h
 * was given (o is then incomplete), or -1 with what is wrong in err.
 */
int ctl_args_parse(int argc, char *const *argv, struct ctl_opts *o, char *err, size_t errlen);

/*
 * getopt_long() for every command line of pixelgatectl, with its own
 * messages. Start each argv with optind = 0. shortopts begins with "-:":
 * argv is taken in order and left as it is, a word that is not an option
 * comes back as 1 with the word in optarg, and so does every word after
 * "--". Long options must be spelt in full. The value of the option lo[k]
 * (required_argument; put those first) goes to vals[k], which must be NULL
 * until then: an option given twice or with an empty value is refused.
 * Returns the option's val, 1 for a word, -1 at the end, or '?' with what
 * is wrong in err (an unknown option, a missing or empty value, a repeat).
 */
int ctl_getopt(int argc, char *const *argv, const char *shortopts, const struct option *lo,
	       const char **vals, char *err, size_t errlen);

/*
 * The first word of argv that is not an option or an option's value: the
 * command ("user", "sessions", ...), or NULL if there is none. Knows the
 * options of both the admin API commands and the users-file commands.
 */
const char *ctl_args_command_word(int argc, char *const *argv);

/* The name of a command as typed ("sessions kill", "limits set", ...). */
const char *ctl_cmd_name(enum ctl_cmd cmd);

/*
 * Build the JSON body of PATCH /api/v1/limits from n "KEY=VALUE" strings:
 * KEY is 1..CTL_LIMIT_NAME_MAX of a-z 0-9 _, VALUE a decimal integer that
 * fits in 64 bits (an optional '-'), each KEY once. *out gets a malloc'd,
 * compact JSON object in the order given, e.g. {"max_fps":5,"max_kbps":0}.
 * 0, or -1 with what is wrong (and which argument) in err. Whether a limit
 * exists and its range are the server's to say.
 */
int ctl_limits_body(const char *const *kv, int n, char **out, char *err, size_t errlen);

/*
 * Percent-encode s for one path segment into out: A-Z a-z 0-9 - . _ ~ and @
 * (user names hold it; RFC 3986 allows it in a segment) stay, every other
 * byte becomes %XX. 0, or -1 if it does not fit or s is empty, "." or "..".
 */
int ctl_path_segment(const char *s, char *out, size_t outlen);

#endif
