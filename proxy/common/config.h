/*
 * config.h: the gateway's configuration, one table.
 *
 * Every key has a name, a section, bounds and a default in config.c's table;
 * the same table serves the file parser, `pixelgate -n` and README.md.
 * Only the gateway parses the file; workers get their settings over IPC.
 */
#ifndef PIXELGATE_CONFIG_H
#define PIXELGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "node_limits.h"

#define CONFIG_PATH_MAX 512
#define CONFIG_URL_MAX 2048
#define CONFIG_GROUPS_MAX 16 /* [group NAME] sections (LDAP_AUTH_GROUPS_MAX) */
#define CONFIG_GROUP_NAME_MAX 32

/*
 * [group NAME]: the policy of the members of a directory group, over the
 * node's ([auth] backend = ldap). A member of several groups gets the
 * first group's, in the file's order. Unset fields (-1, "", false) are the
 * node's.
 */
struct group_policy {
	char name[CONFIG_GROUP_NAME_MAX]; /* NAME: [A-Za-z0-9_.-], 1..31 */
	char dn[512];                     /* the group's DN (member = the user's DN) */
	int max_sessions_per_user;        /* -1: [limits] */
	int idle_timeout_s;               /* -1: [limits]; 0 = none */
	int clipboard_to_browser;         /* -1: [policy]; 0 off; 1 on */
	int clipboard_to_terminal;        /* -1: [policy]; 0 off; 1 on */
	int recording;                    /* -1: [audit] recording; 0 off; 1 on */
	char home_page[CONFIG_URL_MAX];   /* "": [session] home_page */
	bool has_url_allowlist, has_url_blocklist;
	char url_allowlist[4096];
	char url_blocklist[4096];
};

struct config {
	/* [server] */
	char listen_address[64];        /* staff listener address */
	int listen_port;                /* staff listener TCP port */
	char tls_cert[CONFIG_PATH_MAX]; /* PEM certificate chain */
	char tls_key[CONFIG_PATH_MAX];  /* PEM private key, must not be group/world readable */
	char users_file[CONFIG_PATH_MAX];
	char runtime_dir[CONFIG_PATH_MAX];    /* per-session private dirs; tmpfs */
	char session_binary[CONFIG_PATH_MAX]; /* "" = pixelgate-session beside pixelgate */
	char user[64];                        /* the network process's unprivileged system user */
	bool development_unprivileged;   /* DEVELOPMENT: non-root start, sessions without cells */
	char state_dir[CONFIG_PATH_MAX]; /* persisted run-time state (limits.json) */
	int auth_threads;                /* password-check (Argon2id) threads */
	int auth_queue;                  /* password checks that may wait; more: 503 busy */
	bool proxy_protocol;             /* staff connections start with a PROXY v2 header */
	char proxy_trusted[1024];        /* balancers allowed to send one (proxy_v2_trust_parse) */
	int max_connections_per_address; /* per listener, by the real address; 0 = no cap */
	/* [admin] */
	char admin_listen_address[64];            /* admin API TLS listener (management side) */
	int admin_listen_port;                    /* 0 = no admin listener */
	char metrics_token_file[CONFIG_PATH_MAX]; /* bearer token for /metrics; "" = none */
	char agent_check_address[64];             /* HAProxy agent-check, plain TCP */
	int agent_check_port;                     /* 0 = no agent-check listener */
	/* [limits]: defaults of the run-time limits (node_limits.h); [session]
	   reconnect_grace_s is accepted as an alias of limits.reconnect_grace_s */
	struct limits limits;
	/* [session] */
	char home_page[CONFIG_URL_MAX];
	char upstream_proxy[CONFIG_URL_MAX]; /* host:port; required unless development_direct_egress */
	bool development_direct_egress;      /* DEVELOPMENT: no proxy, the host's network */
	int session_uid_base;                /* sessions run as uid base .. base + count - 1 */
	int session_uid_count;               /* = the most sessions at once */
	int session_memory_mib;              /* RSS of one session's processes; beyond: it ends */
	int session_max_procs;               /* processes + threads of one session (RLIMIT_NPROC) */
	int session_tmpfs_mib;               /* size of each private tmpfs of a cell */
	int prestart;                        /* pre-started sessions kept waiting; 0 = off */
	char chromium_policy[CONFIG_PATH_MAX]; /* the installed managed policy, checked at start */
	int default_width;
	int default_height;
	int max_width;
	int max_height;
	int session_start_timeout_s;
	char chromium_path[CONFIG_PATH_MAX];
	char xvfb_path[CONFIG_PATH_MAX];
	/* [policy] */
	bool clipboard_to_browser;  /* ClientCutText allowed (default off) */
	bool clipboard_to_terminal; /* ServerCutText allowed (default off) */
	char watermark[8];          /* "off", "corner" or "tiled" */
	char watermark_text[200];   /* {user} {client} {date} {time} */
	int watermark_opacity;      /* percent */
	char url_allowlist[4096];   /* comma-separated Chromium URLAllowlist entries */
	char url_blocklist[4096];   /* comma-separated Chromium URLBlocklist entries */
	/* [audit] */
	char audit_dir[CONFIG_PATH_MAX];
	char audit_key_file[CONFIG_PATH_MAX];
	int audit_rotate_mb;
	bool audit_rotate_daily;
	bool audit_fail_open;       /* default false: no audit, no logins */
	char recording[8];          /* "off", "all" or "users" */
	char recording_users[1024]; /* comma-separated, for recording = users */
	char recording_dir[CONFIG_PATH_MAX];
	int recording_retention_days;        /* 0 = keep for ever */
	char forensics_dir[CONFIG_PATH_MAX]; /* session directories kept after a violation */
	int forensics_max_mib;               /* bytes of one kept directory, at most */
	int clipboard_max_bytes;
	bool clipboard_content; /* [audit]: the text itself in "clipboard" records */
	/* [auth] */
	char auth_backend[8]; /* "file" or "ldap" */
	char auth_mfa[12];    /* "off", "admins" or "everyone" */
	char totp_file[CONFIG_PATH_MAX];
	char totp_key_file[CONFIG_PATH_MAX];
	/* [ldap] (ldap_auth.h's struct ldap_auth_conf, read by gateway_directory.c) */
	char ldap_uri[512];
	char ldap_ca_file[512];
	char ldap_bind_dn[512];
	char ldap_bind_password_file[CONFIG_PATH_MAX];
	char ldap_base_dn[512];
	char ldap_user_filter[512];
	char ldap_name_attribute[64];
	char ldap_staff_group[512];
	char ldap_admin_group[512];
	int ldap_timeout_ms;
	int ldap_answer_floor_ms;
	/* [group NAME] sections */
	struct group_policy groups[CONFIG_GROUPS_MAX];
	int n_groups;
};

#define CONFIG_MIN_WIDTH 640
#define CONFIG_MIN_HEIGHT 480

/*
 * Split an upstream_proxy value ("host:port", "[v6]:port", optionally
 * "http://" before and "/" after) into host and port. 0 or -1.
 */
int config_proxy_hostport(const char *proxy, char *host, size_t hostlen, char *port,
			  size_t portlen);

/* Fill c with every default. */
void config_defaults(struct config *c);

/*
 * Parse path into c (which must hold defaults). Returns 0, or -1 with
 * "file:line: message" in err.
 */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* The same from an open file (read from its start; fd stays open); name is for messages. */
int config_load_fd(struct config *c, int fd, const char *name, char *err, size_t errlen);

/* Parse INI text held in memory; name is used in messages. Same contract. */
int config_parse_string(struct config *c, const char *name, const char *text, char *err,
			size_t errlen);

/*
 * Refuse a secret file (TLS key, users file) that is group- or world-
 * accessible or not a regular file. Returns 0 or -1 with a message in err.
 */
int config_check_secret_file(const char *path, char *err, size_t errlen);

/*
 * The keys whose values differ between a and b: each(section, key, arg) is
 * called for each one, in the reference's order; [group NAME] sections count
 * as one key, section "group", name "*". [limits] is not compared (struct
 * limits, node_limits.h, has its own). Returns how many differ.
 */
int config_diff(const struct config *a, const struct config *b,
		void (*each)(const char *section, const char *name, void *arg), void *arg);

/* Print every key with its default and description (README, --help). */
void config_print_reference(void);

#endif
