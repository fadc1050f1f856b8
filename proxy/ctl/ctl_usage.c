/*
 * ctl_usage.c: pixelgatectl's --help text and its usage error (ctl.h), in a
 * unit of their own so that the commands' parts do not depend on ctl_main.c.
 */
#include "ctl.h"

#include <stdio.h>

#include "ctl_conf.h"
#include "users.h"

void ctl_usage(FILE *out)
{
	fprintf(out,
		"usage: " CTL_NAME " [-c CONFIG] local-user add NAME [--admin] [--users-file F] "
		"[--password-file F]\n"
		"       " CTL_NAME " [-c CONFIG] local-user passwd NAME [--users-file F] "
		"[--password-file F]\n"
		"       " CTL_NAME " [-c CONFIG] local-user del NAME [--users-file F]\n"
		"       " CTL_NAME " [-c CONFIG] local-user list [--users-file F]\n"
		"       " CTL_NAME " [API OPTIONS] COMMAND\n"
		"       " CTL_NAME " --help | --version\n"
		"\n"
		"local-user: manage the users file on the gateway's own host (as root), e.g. to\n"
		"make the first administrator (\"user\", its old name, still works for now):\n"
		"users_file of " CTL_DEFAULT_CONFIG " when that\n"
		"exists, else " CTL_DEFAULT_USERS_FILE ".\n"
		"\n"
		"  -c, --config CONFIG   take users_file from this pixelgate configuration file\n"
		"  --users-file F        the users file itself (not together with -c)\n"
		"  --password-file F     read the password from the first line of F; without it\n"
		"                        the password is asked twice on the terminal\n"
		"  --admin               local-user add: an administrator (default staff)\n"
		"  --                    end of options (for a name that starts with '-')\n"
		"\n"
		"Names are 1-%d characters of A-Z a-z 0-9 . _ @ -; passwords are 8-%d bytes.\n"
		"local-user add creates a missing users file (mode 0600) and refuses an existing\n"
		"user (use local-user passwd). Every change rewrites the file atomically, mode\n"
		"0600, keeping its owner.\n"
		"\n"
		"Admin API commands (HTTPS to the gateway's admin listener, as a user with the\n"
		"admin role):\n"
		"\n"
		"  status                      health, draining, sessions against the limit\n"
		"  sessions                    the sessions on the node\n"
		"  sessions kill ID            end a session (its viewer is told why)\n"
		"  limits                      the limits in force\n"
		"  limits set KEY=VALUE...     change limits at run time (all or nothing)\n"
		"  users [list]                the users, their role and lock\n"
		"  users add NAME [--admin]    add a user (password asked twice, or\n"
		"                              --new-password-file F)\n"
		"  users del NAME              delete a user\n"
		"  users passwd NAME           set a user's password (as for add)\n"
		"  users lock NAME | users unlock NAME\n"
		"  users admin NAME on|off     give or take the admin role\n"
		"  users totp enroll NAME      a new second factor (TOTP): prints the QR code\n"
		"                              for the authenticator app; replaces any other\n"
		"  users totp remove NAME | users totp show NAME\n"
		"  policies                    the node's policy and each directory group's\n"
		"                              ([group NAME] sections), as in force\n"
		"  drain | undrain             stop / resume taking new sessions\n"
		"  forensics [list]            session directories kept after the browser side\n"
		"                              broke the RFB allow-list (forensics_dir)\n"
		"  forensics del ID            remove one, once security staff have it\n"
		"\n"
		"audit verify|query|sessions: read the audit log files (see audit --help).\n"
		"\n"
		"API OPTIONS\n"
		"  --server https://HOST:PORT  the admin listener (default " CTL_DEFAULT_SERVER
		")\n"
		"  --ca FILE                   PEM CA the server's certificate must chain to\n"
		"  --user NAME                 the administrator to authenticate as\n"
		"  --password-file F           their password, first line of F (only its owner\n"
		"                              may read F); without it, asked on the terminal\n"
		"  --config FILE               read FILE instead of " CTL_CONF_SYSTEM "\n"
		"                              and ~/.config/" CTL_CONF_USER "\n"
		"  --json                      print the server's JSON answer as is\n"
		"\n"
		"Settings come from " CTL_CONF_SYSTEM ", then\n"
		"~/.config/" CTL_CONF_USER " ([" CTL_CONF_SECTION "] server, ca_file, user,\n"
		"password_file), then the options.\n"
		"\n"
		"Exit status, every command: 0 done; 1 refused or failed (the server said no:\n"
		"its HTTP status and message are printed; the audit log is not intact; the user\n"
		"exists...); 2 a usage error; 3 no answer: the server unreachable (connection,\n"
		"TLS, timeout) or the audit log or its key cannot be read.\n",
		USERS_NAME_MAX, USERS_PASSWORD_MAX);
}

int ctl_usage_error(const char *what)
{
	ctl_error("%s", what);
	fputs(CTL_NAME ": try '" CTL_NAME " --help'\n", stderr);
	return CTL_EXIT_USAGE;
}
