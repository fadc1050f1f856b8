/*
 * gateway_record.c: session recording in libvncclient's vncrec format.
 *
 * What the worker sends to one viewer (the RFB server->client stream, as
 * negotiated by that viewer) is written to recording_dir/<session>-<n>.vncrec:
 * the magic "vncLog0.0", the handshake bytes as they came, then before each
 * server message a timestamp as libvncclient 0.9.14 reads it back
 * (ReadFromRFBServer with serverPort = -1: one struct timeval, each field
 * swapped as a 32-bit big-endian value). The recorder parses nothing: the
 * relay gives it only bytes the server -> client check (rfb_stream.c) has
 * accepted, in order, and says where a message starts. So a recording holds
 * only what a viewer could have been sent, costs one write per piece, and
 * buffers nothing.
 */
#include "gateway.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define REC_MAGIC "vncLog0.0"
#define REC_PRUNE_PERIOD_US (24ull * 3600ull * 1000000ull)
/* Start the write-back of every this many bytes as they come, without waiting
   for it: the fsync() at the close then waits for little (it ran on the loop
   for 0.26 s after a 402 MB recording: bench/README.md) */
#define REC_WRITEBACK_BYTES (4u << 20)

_Static_assert(sizeof(struct timeval) == 16, "vncrec timestamps assume an LP64 struct timeval");

/* One connection's recording. */
struct gw_rec {
	int fd;
	char path[CONFIG_PATH_MAX + 64];
	char name[64];   /* file name, for the audit record */
	EVP_MD_CTX *md;  /* sha256 of everything written */
	uint64_t bytes;  /* written to the file */
	uint64_t kicked; /* write-back started up to here */
	bool stopped;    /* a write failed: nothing more is written */
};

static lws_sorted_usec_list_t record_prune_sul;

/* Write all of buf; 0 or -1. */
static int rec_write(struct gw_rec *r, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t left = n;
	while (left > 0) {
		ssize_t w = write(r->fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		left -= (size_t)w;
	}
	EVP_DigestUpdate(r->md, buf, n);
	r->bytes += n;
	if (r->bytes - r->kicked >= REC_WRITEBACK_BYTES) {
		(void)sync_file_range(r->fd, (off_t)r->kicked, (off_t)(r->bytes - r->kicked),
				      SYNC_FILE_RANGE_WRITE);
		r->kicked = r->bytes;
	}
	return 0;
}

static int rec_timestamp(struct gw_rec *r)
{
	struct timeval tv;
	uint8_t b[16] = { 0 };
	gettimeofday(&tv, NULL);
	uint32_t s = (uint32_t)tv.tv_sec, us = (uint32_t)tv.tv_usec;
	b[0] = s >> 24, b[1] = s >> 16, b[2] = s >> 8, b[3] = s;
	b[8] = us >> 24, b[9] = us >> 16, b[10] = us >> 8, b[11] = us;
	return rec_write(r, b, sizeof b);
}

bool record_applies(const char *user, int policy)
{
	const struct config *cfg = &gw->cfg;
	int group = policy_recording(policy); /* a [group]'s recording = on|off decides */
	if (group >= 0)
		return group == 1;
	if (strcmp(cfg->recording, "all") == 0)
		return true;
	if (strcmp(cfg->recording, "users") != 0)
		return false;
	size_t ulen = strlen(user);
	for (const char *p = cfg->recording_users; *p != '\0';) {
		while (*p == ',' || *p == ' ')
			p++;
		const char *e = p;
		while (*e != '\0' && *e != ',')
			e++;
		const char *t = e;
		while (t > p && t[-1] == ' ')
			t--;
		if ((size_t)(t - p) == ulen && ulen > 0 && memcmp(p, user, ulen) == 0)
			return true;
		p = e;
	}
	return false;
}

static void rec_free(struct gw_rec *r)
{
	if (r->fd >= 0)
		close(r->fd);
	EVP_MD_CTX_free(r->md);
	free(r);
}

void record_start(struct gw_conn *conn)
{
	struct gw_session *s = conn->session;
	if (s == NULL || !record_applies(conn->user, s->policy))
		return;
	struct gw_rec *r = calloc(1, sizeof *r);
	if (r == NULL)
		goto fail;
	r->fd = -1;
	r->md = EVP_MD_CTX_new();
	if (r->md == NULL || EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		goto fail;
	(void)mkdir(gw->cfg.recording_dir, 0700);
	snprintf(r->name, sizeof r->name, "%s-%u.vncrec", s->id, ++s->recordings);
	snprintf(r->path, sizeof r->path, "%s/%s", gw->cfg.recording_dir, r->name);
	r->fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->fd < 0 || rec_write(r, REC_MAGIC, strlen(REC_MAGIC)) != 0) {
		log_error("%s: %s: %s: not recording this connection", __func__, r->path,
			  strerror(errno));
		goto fail;
	}
	log_info("recording the viewer of %s (session %s) to %s", conn->user, s->id, r->path);
	conn->rec = r;
	return;
fail:
	if (r != NULL)
		rec_free(r);
}

void record_data(struct gw_conn *conn, const uint8_t *in, size_t len, bool starts_message)
{
	struct gw_rec *r = conn->rec;
	if (r == NULL || r->stopped)
		return;
	if ((starts_message && rec_timestamp(r) != 0) || rec_write(r, in, len) != 0) {
		log_error("recording %s of %s: %s: recording stopped, the session goes on", r->path,
			  conn->user, strerror(errno ? errno : EIO));
		r->stopped = true;
	}
}

void record_close(struct gw_conn *conn)
{
	struct gw_rec *r = conn->rec;
	if (r == NULL)
		return;
	conn->rec = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hex[65] = ""; /* sha256: 32 bytes */
	if (EVP_DigestFinal_ex(r->md, md, &mdlen) == 1)
		for (unsigned i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (fsync(r->fd) != 0)
		log_error("%s: fsync %s: %s", __func__, r->path, strerror(errno));
	log_info("recording %s closed: %llu bytes, sha256 %s", r->path,
		 (unsigned long long)r->bytes, hex);
	json_t *f = json_pack("{s:s, s:s, s:I}", "file", r->name, "sha256", hex, "bytes",
			      (json_int_t)r->bytes);
	audit_event("recording", conn->user, conn->peer,
		    conn->session != NULL ? conn->session->id : "", f);
	json_decref(f);
	if (conn->session != NULL) {
		snprintf(conn->session->rec_file, sizeof conn->session->rec_file, "%s", r->name);
		snprintf(conn->session->rec_sha256, sizeof conn->session->rec_sha256, "%s", hex);
	}
	rec_free(r);
}

/* Delete recordings older than recording_retention_days, one audit record each. */
static void record_prune(void)
{
	int days = gw->cfg.recording_retention_days;
	if (days <= 0)
		return;
	DIR *d = opendir(gw->cfg.recording_dir);
	if (d == NULL)
		return;
	time_t cutoff = time(NULL) - (time_t)days * 86400;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 8 || strcmp(e->d_name + n - 7, ".vncrec") != 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= cutoff)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
			log_error("%s: %s/%s: %s", __func__, gw->cfg.recording_dir, e->d_name,
				  strerror(errno));
			continue;
		}
		char session[17] = "";
		const char *dash = strchr(e->d_name, '-');
		if (dash != NULL && dash - e->d_name < (long)sizeof session)
			memcpy(session, e->d_name, (size_t)(dash - e->d_name));
		log_info("recording %s/%s pruned (older than %d days)", gw->cfg.recording_dir,
			 e->d_name, days);
		json_t *f = json_pack("{s:s, s:I}", "file", e->d_name, "retention_days",
				      (json_int_t)days);
		audit_event("recording_pruned", "", "", session, f);
		json_decref(f);
	}
	closedir(d);
}

static void record_prune_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	record_prune();
	lws_sul_schedule(gw->ctx, 0, &record_prune_sul, record_prune_cb, REC_PRUNE_PERIOD_US);
}

bool record_configured(void)
{
	if (strcmp(gw->cfg.recording, "off") != 0)
		return true;
	for (int i = 0; i < gw->cfg.n_groups; i++)
		if (gw->cfg.groups[i].recording == 1)
			return true;
	return false;
}

void record_init(void)
{
	if (record_configured() && mkdir(gw->cfg.recording_dir, 0700) != 0 && errno != EEXIST)
		log_error("%s: %s: %s", __func__, gw->cfg.recording_dir, strerror(errno));
	record_prune_cb(NULL);
}
