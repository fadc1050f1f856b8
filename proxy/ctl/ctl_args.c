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

/* An option that takes a value. */
struct ctl_valopt {
	const char *name;
	size_t offset; /* into struct ctl_opts, of a const char * */
};

static const struct ctl_valopt ctl_valopts[] = {
	{ "--server", offsetof(struct ctl_opts, server) },
	{ "--ca", offsetof(struct ctl_opts, ca_file) },
	{ "--user", offsetof(struct ctl_opts, user) },
	{ "--password-file", offsetof(struct ctl_opts, password_file) },
	{ "--config", offsetof(struct ctl_opts, config_file) },
	{ "--new-password-file", offsetof(struct ctl_opts, new_password_file) },
};

/* Options with a value of the users-file commands (ctl_main.c) too. */
static const char *const ctl_other_valopts[] = { "-c", "--users-file" };

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
	[CTL_CMD_DRAIN] = "drain",
	[CTL_CMD_UNDRAIN] = "undrain",
	[CTL_CMD_FORENSICS] = "forensics",
	[CTL_CMD_FORENSICS_DEL] = "forensics del",
};

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	if ((size_t)cmd < sizeof ctl_cmd_names / sizeof ctl_cmd_names[0])
		return ctl_cmd_names[cmd];
	return "?";
}

const char *ctl_args_command_word(int argc, char *const *argv)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (arg[0] != '-' || arg[1] == '\0')
			return arg;
		bool takes_value = false;
		for (size_t k = 0; k < sizeof ctl_valopts / sizeof ctl_valopts[0]; k++)
			if (strcmp(arg, ctl_valopts[k].name) == 0)
				takes_value = true;
		for (size_t k = 0; k < sizeof ctl_other_valopts / sizeof ctl_other_valopts[0]; k++)
			if (strcmp(arg, ctl_other_valopts[k]) == 0)
				takes_value = true;
		if (takes_value)
			i++;
	}
	return NULL;
}

/*
 * If argv[*i] is one of the value options ("--x V" or "--x=V"), store V,
 * advance *i and return 1; 0 if it is not; -1 with err when the value is
 * missing or empty or the option is repeated.
 */
static int ctl_take_value(int argc, char *const *argv, int *i, struct ctl_opts *o, char *err,
			  size_t errlen)
{
	const char *arg = argv[*i];
	for (size_t k = 0; k < sizeof ctl_valopts / sizeof ctl_valopts[0]; k++) {
		const char *name = ctl_valopts[k].name;
		size_t n = strlen(name);
		const char *v;
		if (strcmp(arg, name) == 0) {
			if (*i + 1 >= argc)
				return ctl_fail(err, errlen, "%s needs a value", name);
			v = argv[++*i];
		} else if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
			v = arg + n + 1;
		} else {
			continue;
		}
		const char **slot = (const char **)(void *)((char *)o + ctl_valopts[k].offset);
		if (*slot != NULL)
			return ctl_fail(err, errlen, "%s given twice", name);
		if (v[0] == '\0')
			return ctl_fail(err, errlen, "%s needs a non-empty value", name);
		*slot = v;
		return 1;
	}
	return 0;
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

	if (strcmp(w, "status") == 0 || strcmp(w, "drain") == 0 || strcmp(w, "undrain") == 0) {
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
		} else {
			size_t k, nverbs = sizeof ctl_users_verbs / sizeof ctl_users_verbs[0];
			for (k = 0; k < nverbs; k++)
				if (strcmp(pos[1], ctl_users_verbs[k].word) == 0)
					break;
			if (k == nverbs)
				return ctl_fail(err, errlen,
						"users: unknown subcommand \"%s\" (list, add, del, "
						"passwd, lock, unlock, admin)",
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
	} else if (strcmp(w, "user") == 0) {
		return ctl_fail(err, errlen,
				"\"user\" edits the users file (see --help); the "
				"admin API command is \"users\"");
	} else {
		return ctl_fail(err, errlen,
				"unknown command \"%s\" (status, sessions, limits, users, drain, "
				"undrain, forensics, user)",
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
	int npos = 0;
	bool options_done = false;
	memset(o, 0, sizeof *o);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int rc;
		if (options_done || arg[0] != '-' || arg[1] == '\0') {
			if (npos == (int)(sizeof pos / sizeof pos[0]))
				return ctl_fail(err, errlen, "too many arguments (from \"%s\" on)",
						arg);
			pos[npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return 1;
		if (strcmp(arg, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(arg, "--admin") == 0) {
			o->admin = true;
			continue;
		}
		if ((rc = ctl_take_value(argc, argv, &i, o, err, errlen)) != 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--users-file") == 0 ||
		    strncmp(arg, "--users-file=", 13) == 0)
			return ctl_fail(
			    err, errlen,
			    "%s goes with the users-file commands (pixelgatectl user ...); "
			    "the admin API commands take --config FILE",
			    arg);
		return ctl_fail(err, errlen, "unknown option \"%s\"", arg);
	}
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
