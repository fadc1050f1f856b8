/*
 * gateway_priv.h: what the privileged parent's files share (not the network
 * process's API: that is in gateway.h). The parent is split by concern:
 *   gateway_priv.c    messages, the parent's loop, spawning and reaping, start-up
 *   gateway_cell.c    a cell: namespaces, the allowlisted root, limits, exec
 *   gateway_egress.c  a cell's egress forwarder to upstream_proxy
 *   gateway_cgroup.c  a cgroup per session where the host lets root make one
 *   gateway_forensics.c  a session's directory kept after a protocol violation
 */
#ifndef PIXELGATE_GATEWAY_PRIV_H
#define PIXELGATE_GATEWAY_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "gateway.h"

#define PRIV_ENV_MAX 12
#define PRIV_POLICY_DIR "/etc/chromium/policies/managed"
#define PRIV_POLICY_RECOMMENDED "/etc/chromium/policies/recommended"
#define PRIV_SETUP_TIMEOUT_MS 5000
/* Longest runtime_dir without cells: 107 bytes of a unix socket path less
   "/session-" + 16 hex + "/tmp/org.chromium.Chromium.XXXXXX/SingletonSocket". */
#define PRIV_DEV_RUNTIME_DIR_MAX 33
#define PRIV_OOM_CELL "800"
#define PRIV_OOM_GATEWAY "-900"
#define PRIV_NOFILE 1000 /* libvncserver select()s: every fd must stay below 1024 */
#define PRIV_CELL_EXE "/run/pixelgate-session" /* the worker binary inside a cell */
#define PRIV_LOG_LINE 2048                     /* a cell's log line is cut here */
#define PRIV_LOG_RATE 50 /* lines per second a cell may log, after a burst of... */
#define PRIV_LOG_BURST 400

enum priv_type {
	PRIV_SPAWN = 1, /* net -> priv: start a cell for session id */
	PRIV_KILL,      /* net -> priv: SIGKILL session id's cell */
	PRIV_SPAWNED,   /* priv -> net: pid, uid, control socket attached; or text = error */
	PRIV_EXITED,    /* priv -> net: the cell's worker exited with wait status; text =
			   the forensics copy's result line after a KEEP, else "" */
	PRIV_KEEP,      /* net -> priv: kill session id's cell, keeping its directory for
			   forensics (text = "user\nwhat") */
	PRIV_CONFIG,    /* priv -> net, on SIGHUP: the configuration file as the parent
			   read it, in a sealed memfd attached; or status != 0 and text =
			   why it could not be read (id is "") */
	PRIV_STATUS,    /* net -> priv: status 1 = ready (listening, or a reload done),
			   text = systemd's STATUS line; status 0 = alive (the loop
			   turns: a watchdog ping); id is "" */
};

/* The most of a configuration file the parent hands over at a reload. */
#define PRIV_CONFIG_MAX (1024 * 1024)

struct priv_msg {
	uint32_t type;
	int32_t pid;
	int32_t status; /* EXITED: wait status; SPAWNED: 0 ok, else failed */
	uint32_t uid;
	uint32_t flags; /* EXITED: PRIV_EXIT_* */
	char id[24];    /* 16 lowercase hex digits + NUL */
	char text[200]; /* SPAWNED failure: why, for the log and the viewer; see above */
};

/* One uid of the range: which session holds it, and its processes. */
struct priv_slot {
	bool used;
	char id[24];
	pid_t cell;                     /* the worker, pid 1 of the cell; 0 once reaped */
	pid_t egress;                   /* the egress forwarder; 0 once reaped or none */
	int cell_status;                /* the worker's wait status, for EXITED */
	char dir[CONFIG_PATH_MAX + 32]; /* without a cell: the host directory to remove */
	int log_fd;                     /* the read end of the cell's stdout/stderr, or -1 */
	char log_buf[PRIV_LOG_LINE];
	size_t log_len;
	double log_tokens; /* lines it may write now (PRIV_LOG_RATE per second) */
	int64_t log_refill_ms;
	unsigned long log_dropped;
	int oom_fd;  /* cgroup v1: an eventfd the kernel signals on an OOM in its group, or -1 */
	bool oom;    /* the OOM killer acted in its group: the cell was killed */
	bool killed; /* we sent its processes SIGKILL */
	/* forensics (PRIV_KEEP): the session's directory held open while the
	   cell dies, then copied by a child once the cell is reaped */
	int keep_fd; /* O_PATH of the session's directory, or -1 */
	bool keep_asked;
	pid_t copier;        /* the copying child; 0 once reaped or none */
	int copier_out;      /* its result line (read end), or -1 */
	char keep_text[200]; /* "user\nwhat" from the KEEP */
	char kept[200];      /* the result line for EXITED */
};

struct priv_state {
	int fd; /* to the network process */
	pid_t net_pid;
	int exe_fd;              /* pixelgate-session, opened at start */
	char exe_path[PATH_MAX]; /* where it was: bound into each cell if it is still that file */
	int life[2];             /* never written: a child sees POLLHUP once the parent died */
	bool cells;              /* root: sessions get cells */
	uid_t net_uid;
	gid_t net_gid;
	struct priv_slot *slots;
	int nslots;
	char *policy_json; /* the policy each cell gets */
	/* [group NAME] i with its own URL lists: the policy its members' cells get; else NULL */
	char *group_policy_json[CONFIG_GROUPS_MAX];
	char proxy_host[256], proxy_port[8];
	struct sockaddr_storage proxy_addr; /* upstream_proxy, resolved at start */
	socklen_t proxy_addrlen;
	char env_store[PRIV_ENV_MAX][512];
	char *envp[PRIV_ENV_MAX + 1];
};

/* The privileged parent's state (gateway_priv.c); a cell or forwarder has a copy. */
extern struct priv_state pv;

/* What a cell's first process is given (gateway_cell.c). */
struct cell_args {
	int slot;
	uid_t uid;
	int ctrl; /* the worker's control socket (becomes fd 3) */
	int pass; /* to send the egress listening socket back */
	int errw; /* set-up failure text; closed by a successful exec */
	int logw; /* the cell's stdout and stderr: a pipe the parent reads */
	const char *id;
	bool netns;
	const char *policy_json; /* the managed Chromium policy of this cell */
};

/* cgroups (gateway_cgroup.c) */
enum { CG_NONE, CG_V1, CG_V2 };
struct priv_cgroups {
	int mode;
	char v2[PATH_MAX];                                 /* our v2 group's directory */
	char mem[PATH_MAX], pids[PATH_MAX], cpu[PATH_MAX]; /* v1: our group in each */
	char why[200];                                     /* CG_NONE: why not */
};
extern struct priv_cgroups cg;

/* gateway_priv.c */
bool priv_id_ok(const char *id);
/* Send one message (with fd attached when >= 0). 0 or -1. */
int priv_send(int sock, const struct priv_msg *m, int fd);
/* One message: 1, 0 on EOF, -2 if none is waiting, -1 on a malformed one. */
int priv_recv(int sock, struct priv_msg *m, int *fd);
/* Monotonic clock, ms. */
int64_t priv_now_ms(void);
/* setrlimit(res, v, v), or the soft limit alone where valgrind keeps the hard one. */
int priv_setrlimit(int res, rlim_t v);

/* gateway_cell.c: the cell's first process (clone()'s function). Never returns on success. */
int cell_main(void *arg);

/* gateway_egress.c: the forwarder's life, in a child of the parent. */
void __attribute__((noreturn))
egress_main(int listen_fd, int logw, uid_t uid, const char *id, pid_t parent);

/* gateway_forensics.c: keep slot ps's directory (PRIV_KEEP) and kill its cell. */
void priv_keep_slot(struct priv_slot *ps, const char *text);
/* Its cell was reaped: start the copy (true) or say why not in ps->kept (false). */
bool priv_keep_start(struct priv_slot *ps);
/* The copier was reaped with status: its result into ps->kept. */
void priv_keep_done(struct priv_slot *ps, int status);

/* gateway_cgroup.c */
void cg_init(void);
int cg_create(const char *id, char *err, size_t errlen);
int cg_join(const char *id);
void cg_cleanup(void);
void cg_remove(const char *id);
/* cgroup v1: an eventfd signalled when the OOM killer acts in session id's
   memory group (v1 kills one process, not the group), or -1 (v2's
   memory.oom.group kills the whole cell itself; no cgroups). */
int cg_oom_watch(const char *id);
/* How many processes the OOM killer ended in session id's group: >= 0, or -1 unknown. */
long cg_oom_kills(const char *id);

#endif
