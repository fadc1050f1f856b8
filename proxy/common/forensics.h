/*
 * forensics.h: copying a session's directory for security staff after the
 * browser side broke the RFB allow-list (the session was ended for it).
 *
 * The source is hostile: everything in it was written by the session, whose
 * browser may be compromised. The copy never follows a symbolic link, never
 * leaves the directory or crosses a mount (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV on each name),
 * copies only regular files (links, FIFOs, sockets and devices are listed
 * with what they are), and is capped: total bytes, entries, depth. Names
 * are the session's choice too, so the files are stored under numbers
 * (files/000001 ...) and manifest.json maps each to its path, cleaned to
 * printable UTF-8 (with the raw name in hex when cleaning changed it).
 *
 * The layout of DEST/session-ID/ (directories 0700, files 0600):
 *   files/NNNNNN   the regular files' bytes (the first bytes of a file cut by
 *                  the cap)
 *   manifest.json  {"session","entries":[{path, name_hex, type, size, mode,
 *                  uid, mtime, stored, copied, sha256, truncated, target,
 *                  error}]} (name_hex: the last component's raw bytes, when
 *                  cleaning changed the path)
 *   summary.json   {"session","user","what","kept","entries","files","bytes",
 *                  "truncated","manifest_sha256"}, written last: a directory
 *                  without it is a copy that did not finish
 *
 * Reading and writing may run with different file-system identities (the
 * privileged parent reads as the session's uid, so nothing is read that the
 * session could not have copied into its directory itself, and writes as the
 * gateway's user): reader_uid/writer_uid, or -1 for "as we are".
 */
#ifndef PIXELGATE_FORENSICS_H
#define PIXELGATE_FORENSICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FORENSICS_MAX_ENTRIES 20000        /* names listed, at most */
#define FORENSICS_MAX_DEPTH 32             /* directories below the session's */
#define FORENSICS_LINK_MAX 1024            /* bytes of a symbolic link's target listed */
#define FORENSICS_RESULT_MAX 200           /* forensics_copy()'s result line, with its NUL */
#define FORENSICS_MANIFEST_MAX (16u << 20) /* bytes of manifest.json, about, at most */

struct forensics_job {
	int src_dirfd;                /* the session's directory (O_PATH is enough) */
	int dest_dirfd;               /* forensics_dir, opened O_DIRECTORY */
	const char *id;               /* the session id: the copy is DEST/session-ID */
	const char *user;             /* whose session, for summary.json */
	const char *what;             /* why it was kept (the violation), for summary.json */
	uint64_t max_bytes;           /* bytes copied at most (the rest is listed) */
	uid_t reader_uid, writer_uid; /* setfsuid() before reading / writing; -1: none */
	gid_t reader_gid, writer_gid;
};

/*
 * Copy job->src_dirfd into DEST/session-ID as described above. Returns 0
 * and a one-line JSON summary in result ({"files":N,"bytes":N,
 * "truncated":B,"manifest_sha256":"HEX"}), or -1 and {"error":"TEXT"}.
 * result holds at most FORENSICS_RESULT_MAX bytes with the NUL.
 */
int forensics_copy(const struct forensics_job *job, char *result, size_t resultlen);

/*
 * {"error":"why"} into result (resultlen >= 32), why cleaned to printable
 * UTF-8 and cut so that the line fits whole.
 */
void forensics_error_line(char *result, size_t resultlen, const char *why);

/* "session-" + 16 lower-case hex digits: a kept directory's name. */
int forensics_name_ok(const char *name);

#endif
