/*
 * ctl_args.c: pixelgatectl's admin API command line, the limits body and
 * path segments (ctl_args.h). No I/O: every problem is a message in err.
 */
#include "ctl_args.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_format.h"

/*
 * The options of the admin API commands, value options first (their values
 * go to vals[k] of ctl_getopt() in this order). -c and --users-file are the
 * users-file commands' (ctl_main.c): known here so that the command word is
 * found past their values, and refused by ctl_args_parse() with a pointer.
 */
static const struct option ctl_longopts[] = {
	{ "server", required_argument, NULL, 'v' },
	{ "ca", required_argument, NULL, 'v' },
	{ "user", required_argument, NULL, 'v' },
	{ "password-file", required_argument, NULL, 'v' },
	{ "config", required_argument, NULL, 'v' },
	{ "new-password-file", required_argument, NULL, 'v' },
	{ "users-file", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "admin", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
#define CTL_SHORTOPTS "-:hc:"

static const char *const ctl_cmd_names[] = {
	[CTL_CMD_STATUS] = "status",
	[CTL_CMD_SESSIONS] = "sessions",
	[CTL_CMD_SESSIONS_KILL] = "sessions kill",
	[CTL_CMD_LIMITS] = "limits",
	[CTL_CMD_LIMITS_SET] = "limits set",
	[CTL_CMD_USERS] = "users",
	[CTL_CMD_USERS_ADD] = "users add",
	[CTL_CMD_USERS_DEL] = "users del",
	[CTL_CMD_USERS_PASSWD] = "users passwd",
	[CTL_CMD_USERS_LOCK] = "users lock",
	[CTL_CMD_USERS_UNLOCK] = "users unlock",
	[CTL_CMD_USERS_ADMIN] = "users admin",
	[CTL_CMD_USERS_TOTP_ENROLL] = "users totp enroll",
	[CTL_CMD_USERS_TOTP_REMOVE] = "users totp remove",
	[CTL_CMD_USERS_TOTP_SHOW] = "users totp show",
	[CTL_CMD_DRAIN] = "drain",
	[CTL_CMD_UNDRAIN] = "undrain",
	[CTL_CMD_FORENSICS] = "forensics",
	[CTL_CMD_FORENSICS_DEL] = "forensics del",
	[CTL_CMD_POLICIES] = "policies",
};

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	if ((size_t)cmd < sizeof ctl_cmd_names / sizeof ctl_cmd_names[0])
		return ctl_cmd_names[cmd];
	return "?";
}

static bool ctl_getopt_rest; /* "--" was seen: the rest are words */

int ctl_getopt(int argc, char *const *argv, const char *shortopts, const struct option *lo,
	       const char **vals, char *err, size_t errlen)
{
	int at = optind > 0 ? optind : 1, k = -1, c;
	const char *a = at < argc ? argv[at] : "";

	if (optind == 0)
		ctl_getopt_rest = false;
	if (ctl_getopt_rest) {
		if (optind >= argc)
			return -1;
		optarg = argv[optind++];
		return 1;
	}
	/* Long options in full only (no abbreviations), short ones alone. */
	if (a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0) {
		bool known = a[1] != '-' && a[2] == '\0';
		for (int i = 0; a[1] == '-' && lo[i].name != NULL; i++) {
			size_t n = strlen(lo[i].name);
			known |= strncmp(a + 2, lo[i].name, n) == 0 &&
			    (a[2 + n] == '\0' || a[2 + n] == '=');
		}
		if (!known) {
			optind = at + 1;
			ctl_fail(err, errlen, "unknown option \"%s\"", a);
			return '?';
		}
	}
	opterr = 0;
	c = getopt_long(argc, argv, shortopts, lo, &k);
	if (c == -1 && optind < argc) {
		ctl_getopt_rest = true;
		optarg = argv[optind++];
		return 1;
	}
	if (c == ':' || c == '?') {
		if (c == ':')
			ctl_fail(err, errlen, "%s needs a value", argv[at]);
		else
			ctl_fail(err, errlen, "unknown option \"%s\"", argv[at]);
		return '?';
	}
	/* A short option: getopt_long() left k alone; find its long one. */
	for (int i = 0; k < 0 && c > 1 && lo[i].name != NULL; i++)
		if (lo[i].val == c)
			k = i;
	if (k >= 0 && lo[k].has_arg == required_argument) {
		if (vals[k] != NULL || optarg[0] == '\0') {
			ctl_fail(err, errlen,
				 vals[k] != NULL ? "--%s given twice"
						 : "--%s needs a non-empty value",
				 lo[k].name);
			return '?';
		}
		vals[k] = optarg;
	}
	return c;
}

const char *ctl_args_command_word(int argc, char *const *argv)
{
	const char *vals[sizeof ctl_longopts / sizeof ctl_longopts[0]] = { 0 };
	int c;
	optind = 0;
	while ((c = ctl_getopt(argc, argv, CTL_SHORTOPTS, ctl_longopts, vals, NULL, 0)) != -1)
		if (c == 1)
			return optarg;
	return NULL;
}

/* The users subcommands that take a NAME. */
static const struct {
	const char *word;
	enum ctl_cmd cmd;
} ctl_users_verbs[] = {
	{ "add", CTL_CMD_USERS_ADD },       { "del", CTL_CMD_USERS_DEL },
	{ "passwd", CTL_CMD_USERS_PASSWD }, { "lock", CTL_CMD_USERS_LOCK },
	{ "unlock", CTL_CMD_USERS_UNLOCK }, { "admin", CTL_CMD_USERS_ADMIN },
};

/* Make sense of the command words pos[0..npos). 0 or -1 + err. */
static int ctl_parse_words(const char *const *pos, int npos, struct ctl_opts *o, char *err,
			   size_t errlen)
{
	const char *w = pos[0];
	int want; /* how many words the command takes in all */

	if (strcmp(w, "policies") == 0) {
		o->cmd = CTL_CMD_POLICIES;
		want = 1;
	} else if (strcmp(w, "status") == 0 || strcmp(w, "drain") == 0 ||
		   strcmp(w, "undrain") == 0) {
		o->cmd = w[0] == 's' ? CTL_CMD_STATUS
		    : w[0] == 'd'    ? CTL_CMD_DRAIN
				     : CTL_CMD_UNDRAIN;
		want = 1;
	} else if (strcmp(w, "sessions") == 0) {
		if (npos == 1) {
			o->cmd = CTL_CMD_SESSIONS;
			want = 1;
		} else if (strcmp(pos[1], "kill") == 0) {
			if (npos < 3)
				return ctl_fail(err, errlen,
						"sessions kill: missing the session ID");
			o->cmd = CTL_CMD_SESSIONS_KILL;
			o->arg = pos[2];
			want = 3;
		} else {
			return ctl_fail(
			    err, errlen,
			    "sessions: unknown subcommand \"%s\" (sessions, sessions kill ID)",
			    pos[1]);
		}
	} else if (strcmp(w, "limits") == 0) {
		if (npos == 1) {
			o->cmd = CTL_CMD_LIMITS;
			want = 1;
		} else if (strcmp(pos[1], "set") == 0) {
			if (npos < 3)
				return ctl_fail(err, errlen, "limits set: missing KEY=VALUE");
			if (npos - 2 > CTL_SETTINGS_MAX)
				return ctl_fail(err, errlen, "limits set: more than %d KEY=VALUE",
						CTL_SETTINGS_MAX);
			o->cmd = CTL_CMD_LIMITS_SET;
			for (int i = 2; i < npos; i++)
				o->settings[o->nsettings++] = pos[i];
			want = npos;
		} else {
			return ctl_fail(err, errlen,
					"limits: unknown subcommand \"%s\" (limits, limits set "
					"KEY=VALUE...)",
					pos[1]);
		}
	} else if (strcmp(w, "users") == 0) {
		if (npos == 1 || strcmp(pos[1], "list") == 0) {
			o->cmd = CTL_CMD_USERS;
			want = npos == 1 ? 1 : 2;
		} else if (strcmp(pos[1], "totp") == 0) {
			const char *v = npos > 2 ? pos[2] : "";
			if (strcmp(v, "enroll") == 0)
				o->cmd = CTL_CMD_USERS_TOTP_ENROLL;
			else if (strcmp(v, "remove") == 0)
				o->cmd = CTL_CMD_USERS_TOTP_REMOVE;
			else if (strcmp(v, "show") == 0)
				o->cmd = CTL_CMD_USERS_TOTP_SHOW;
			else
				return ctl_fail(
				    err, errlen,
				    "users totp: want enroll, remove or show, then NAME");
			if (npos < 4)
				return ctl_fail(err, errlen, "users totp %s: missing NAME", v);
			o->arg = pos[3];
			want = 4;
		} else {
			size_t k, nverbs = sizeof ctl_users_verbs / sizeof ctl_users_verbs[0];
			for (k = 0; k < nverbs; k++)
				if (strcmp(pos[1], ctl_users_verbs[k].word) == 0)
					break;
			if (k == nverbs)
				return ctl_fail(err, errlen,
						"users: unknown subcommand \"%s\" (list, add, del, "
						"passwd, lock, unlock, admin, totp)",
						pos[1]);
			o->cmd = ctl_users_verbs[k].cmd;
			if (npos < 3)
				return ctl_fail(err, errlen, "users %s: missing NAME", pos[1]);
			o->arg = pos[2];
			want = 3;
			if (o->cmd == CTL_CMD_USERS_ADMIN) {
				if (npos < 4)
					return ctl_fail(err, errlen,
							"users admin: missing on or off");
				if (strcmp(pos[3], "on") == 0)
					o->admin_on = true;
				else if (strcmp(pos[3], "off") == 0)
					o->admin_on = false;
				else
					return ctl_fail(err, errlen,
							"users admin: \"%s\" is not on or off",
							pos[3]);
				want = 4;
			}
		}
	} else if (strcmp(w, "forensics") == 0) {
		if (npos == 1 || strcmp(pos[1], "list") == 0) {
			o->cmd = CTL_CMD_FORENSICS;
			want = npos == 1 ? 1 : 2;
		} else if (strcmp(pos[1], "del") == 0) {
			if (npos < 3)
				return ctl_fail(err, errlen,
						"forensics del: missing the session ID");
			o->cmd = CTL_CMD_FORENSICS_DEL;
			o->arg = pos[2];
			want = 3;
		} else {
			return ctl_fail(err, errlen,
					"forensics: unknown subcommand \"%s\" (forensics list, "
					"forensics del ID)",
					pos[1]);
		}
	} else {
		return ctl_fail(err, errlen,
				"unknown command \"%s\" (status, sessions, limits, users, policies, "
				"drain, undrain, forensics, local-user, audit, recording)",
				w);
	}
	if (npos > want)
		return ctl_fail(err, errlen, "%s: unexpected argument \"%s\"", ctl_cmd_name(o->cmd),
				pos[want]);
	return 0;
}

int ctl_args_parse(int argc, char *const *argv, struct ctl_opts *o, char *err, size_t errlen)
{
	const char *pos[CTL_SETTINGS_MAX + 3];
	const char *vals[sizeof ctl_longopts / sizeof ctl_longopts[0]] = { 0 };
	int npos = 0, c;
	memset(o, 0, sizeof *o);
	optind = 0;
	while ((c = ctl_getopt(argc, argv, CTL_SHORTOPTS, ctl_longopts, vals, err, errlen)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'h')
			return 1;
		if (c == 'c') /* -c V, --users-file V or --users-file=V, named as typed */
			return ctl_fail(
			    err, errlen,
			    "%s goes with the users-file commands (pixelgatectl user ...); "
			    "the admin API commands take --config FILE",
			    optarg == argv[optind - 1] ? argv[optind - 2] : argv[optind - 1]);
		o->json |= c == 'j';
		o->admin |= c == 'a';
		if (c == 1 && npos == (int)(sizeof pos / sizeof pos[0]))
			return ctl_fail(err, errlen, "too many arguments (from \"%s\" on)", optarg);
		if (c == 1)
			pos[npos++] = optarg;
	}
	o->server = vals[0];
	o->ca_file = vals[1];
	o->user = vals[2];
	o->password_file = vals[3];
	o->config_file = vals[4];
	o->new_password_file = vals[5];
	if (npos == 0)
		return ctl_fail(err, errlen, "no command given");
	if (ctl_parse_words(pos, npos, o, err, errlen) != 0)
		return -1;
	if (o->admin && o->cmd != CTL_CMD_USERS_ADD)
		return ctl_fail(err, errlen,
				"--admin only goes with users add (or users admin NAME "
				"on)");
	if (o->new_password_file != NULL && o->cmd != CTL_CMD_USERS_ADD &&
	    o->cmd != CTL_CMD_USERS_PASSWD)
		return ctl_fail(err, errlen,
				"--new-password-file only goes with users add or users passwd");
	return 0;
}

/* A decimal integer that fits in int64_t: optional '-', 1..19 digits. */
static int ctl_parse_int64(const char *s, int64_t *out)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	size_t n = strlen(d);
	if (n == 0 || strspn(d, "0123456789") != n)
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

int ctl_limits_body(const char *const *kv, int n, char **out, char *err, size_t errlen)
{
	json_t *o = json_object();
	*out = NULL;
	if (o == NULL)
		return ctl_fail(err, errlen, "out of memory");
	if (n <= 0) {
		json_decref(o);
		return ctl_fail(err, errlen, "no KEY=VALUE given");
	}
	for (int i = 0; i < n; i++) {
		const char *s = kv[i];
		const char *eq = strchr(s, '=');
		char key[CTL_LIMIT_NAME_MAX + 1];
		size_t kl = eq != NULL ? (size_t)(eq - s) : 0;
		int64_t v;
		if (eq == NULL) {
			json_decref(o);
			return ctl_fail(err, errlen,
					"\"%.80s\": expected KEY=VALUE (e.g. max_sessions=20)", s);
		}
		if (kl == 0 || kl > CTL_LIMIT_NAME_MAX ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") < kl) {
			json_decref(o);
			return ctl_fail(err, errlen,
					"\"%.80s\": KEY must be a limit name (1-%d of a-z 0-9 _)",
					s, CTL_LIMIT_NAME_MAX);
		}
		memcpy(key, s, kl);
		key[kl] = '\0';
		if (ctl_parse_int64(eq + 1, &v) != 0) {
			json_decref(o);
			return ctl_fail(err, errlen, "%s: \"%.40s\" is not an integer", key,
					eq + 1);
		}
		if (json_object_get(o, key) != NULL) {
			json_decref(o);
			return ctl_fail(err, errlen, "%s given twice", key);
		}
		if (json_object_set_new(o, key, json_integer((json_int_t)v)) != 0) {
			json_decref(o);
			return ctl_fail(err, errlen, "out of memory");
		}
	}
	*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (*out == NULL)
		return ctl_fail(err, errlen, "out of memory");
	return 0;
}

int ctl_path_segment(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		unsigned char ch = *p;
		bool keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
		    ch == '@';
		size_t need = keep ? 1 : 3;
		if (o + need >= outlen)
			return -1;
		if (keep) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}
