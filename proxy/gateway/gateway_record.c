/*
 * gateway_record.c: session recording in libvncclient's vncrec format.
 *
 * What the worker sends to one viewer (the RFB server->client stream, as
 * negotiated by that viewer) is written to recording_dir/<session>-<n>.vncrec:
 * the magic "vncLog0.0", the handshake bytes as they came, then before each
 * server message a timestamp as libvncclient 0.9.14 reads it back
 * (ReadFromRFBServer with serverPort = -1: one struct timeval, each field
 * swapped as a 32-bit big-endian value). Message boundaries are found by a
 * small parser of the server->client messages and encodings the viewer can
 * ask for; anything it does not know stops the recording (never the session).
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
#define REC_PENDING_MAX_BYTES (160u * 1024u * 1024u) /* one message, worst case raw 8K */
#define REC_PRUNE_PERIOD_US (24ull * 3600ull * 1000000ull)

_Static_assert(sizeof(struct timeval) == 16, "vncrec timestamps assume an LP64 struct timeval");

enum rec_phase { REC_VERSION, REC_SECURITY, REC_SECRESULT, REC_INIT, REC_NORMAL };

/* One connection's recording. */
struct gw_rec {
	int fd;
	char path[CONFIG_PATH_MAX + 64];
	char name[64];                 /* file name, for the audit record */
	EVP_MD_CTX *md;                /* sha256 of everything written */
	uint64_t bytes;                /* written to the file */
	uint8_t *pend;                 /* stream bytes from the start of the current message */
	size_t len, cap;
	size_t need;                   /* do not parse again before len reaches this */
	enum rec_phase phase;
	int minor;                     /* RFB 3.x minor version in use */
	int bpp, depth;                /* pixel format of the updates */
	bool cut_zeros;                /* Tight's 3-byte TPIXEL */
};

static lws_sorted_usec_list_t record_prune_sul;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Apply a 16-byte RFB PIXEL_FORMAT. */
static void record_format(struct gw_rec *r, const uint8_t *pf)
{
	r->bpp = pf[0];
	r->depth = pf[1];
	r->cut_zeros = r->bpp == 32 && r->depth == 24 && rd16(pf + 4) == 255 && rd16(pf + 6) == 255 &&
		       rd16(pf + 8) == 255;
}

/* A parse cursor: NEED() returns 0 ("need more") from the parser. */
struct rec_cur {
	const uint8_t *p;
	size_t n, off;
};
#define NEED(c, k)                                                                            \
	do {                                                                                  \
		if ((c)->off + (size_t)(k) > (c)->n) {                                        \
			r->need = (c)->off + (size_t)(k);                                     \
			return 0;                                                             \
		}                                                                             \
	} while (0)

/* Tight's compact length; 1 and *len, 0 need more. */
static int rec_compact(struct gw_rec *r, struct rec_cur *c, size_t *len)
{
	NEED(c, 1);
	size_t v = c->p[c->off] & 0x7f;
	if (c->p[c->off++] & 0x80) {
		NEED(c, 1);
		v |= (size_t)(c->p[c->off] & 0x7f) << 7;
		if (c->p[c->off++] & 0x80) {
			NEED(c, 1);
			v |= (size_t)c->p[c->off++] << 14;
		}
	}
	*len = v;
	return 1;
}

/* Skip one rectangle's data. 1 done, 0 need more, -1 unknown; *last on LastRect. */
static int rec_rect(struct gw_rec *r, struct rec_cur *c, bool *last)
{
	NEED(c, 12);
	size_t w = rd16(c->p + c->off + 4), h = rd16(c->p + c->off + 6);
	int32_t enc = (int32_t)rd32(c->p + c->off + 8);
	size_t px = (size_t)r->bpp / 8, tpx = r->cut_zeros ? 3 : px;
	c->off += 12;
	switch (enc) {
	case 0: /* Raw */
		NEED(c, w * h * px);
		c->off += w * h * px;
		return 1;
	case 1: /* CopyRect */
		NEED(c, 4);
		c->off += 4;
		return 1;
	case 6:  /* zlib */
	case 16: /* ZRLE */
		NEED(c, 4);
		{
			size_t n = rd32(c->p + c->off);
			NEED(c, 4 + n);
			c->off += 4 + n;
		}
		return 1;
	case 5: /* Hextile */
		for (size_t ty = 0; ty < h; ty += 16)
			for (size_t tx = 0; tx < w; tx += 16) {
				size_t tw = w - tx < 16 ? w - tx : 16, th = h - ty < 16 ? h - ty : 16;
				NEED(c, 1);
				uint8_t sub = c->p[c->off++];
				if (sub & 1) {
					NEED(c, tw * th * px);
					c->off += tw * th * px;
					continue;
				}
				size_t k = ((sub & 2) ? px : 0) + ((sub & 4) ? px : 0);
				NEED(c, k);
				c->off += k;
				if (sub & 8) {
					NEED(c, 1);
					size_t n = c->p[c->off++];
					k = n * (((sub & 16) ? px : 0) + 2);
					NEED(c, k);
					c->off += k;
				}
			}
		return 1;
	case 7: { /* Tight */
		NEED(c, 1);
		unsigned ctl = c->p[c->off++] >> 4;
		size_t n;
		if (ctl == 8) { /* fill */
			NEED(c, tpx);
			c->off += tpx;
			return 1;
		}
		if (ctl == 9) { /* JPEG */
			if (rec_compact(r, c, &n) == 0)
				return 0;
			NEED(c, n);
			c->off += n;
			return 1;
		}
		if (ctl > 9)
			return -1;
		size_t bits = r->cut_zeros ? 24 : (size_t)r->bpp;
		if (ctl & 4) {
			NEED(c, 1);
			uint8_t filter = c->p[c->off++];
			if (filter == 1) { /* palette */
				NEED(c, 1);
				size_t colours = (size_t)c->p[c->off++] + 1;
				NEED(c, colours * tpx);
				c->off += colours * tpx;
				bits = colours == 2 ? 1 : 8;
			} else if (filter > 2) {
				return -1;
			}
		}
		size_t size = h * ((w * bits + 7) / 8);
		if (size < 12) {
			NEED(c, size);
			c->off += size;
			return 1;
		}
		if (rec_compact(r, c, &n) == 0)
			return 0;
		NEED(c, n);
		c->off += n;
		return 1;
	}
	case -239: /* RichCursor */
		if (w * h != 0) {
			size_t k = w * h * px + (w + 7) / 8 * h;
			NEED(c, k);
			c->off += k;
		}
		return 1;
	case -240: /* XCursor */
		if (w * h != 0) {
			size_t k = 6 + 2 * ((w + 7) / 8 * h);
			NEED(c, k);
			c->off += k;
		}
		return 1;
	case -224: /* LastRect */
		*last = true;
		return 1;
	case -223: /* NewFBSize */
	case -232: /* PointerPos */
	case -258: /* KeyboardLedState */
		return 1;
	case -305: /* SupportedMessages */
		NEED(c, 64);
		c->off += 64;
		return 1;
	case -306: /* SupportedEncodings */
	case -307: /* ServerIdentity */
		NEED(c, w);
		c->off += w;
		return 1;
	case -308: /* ExtendedDesktopSize */
		NEED(c, 4);
		{
			size_t k = 4 + 16 * (size_t)c->p[c->off];
			NEED(c, k);
			c->off += k;
		}
		return 1;
	default:
		return -1;
	}
}

/*
 * Length of the complete unit at the start of r->pend (a handshake step or a
 * server message): > 0, 0 if more bytes are needed, -1 if not understood.
 * *timestamped: whether libvncclient reads a timestamp before it.
 */
static long rec_unit(struct gw_rec *r, bool *timestamped)
{
	struct rec_cur cur = { r->pend, r->len, 0 }, *c = &cur;
	*timestamped = false;
	switch (r->phase) {
	case REC_VERSION: {
		NEED(c, 12);
		char version[13]; /* the 12 bytes alone: sscanf must not read on past them */
		memcpy(version, r->pend, 12);
		version[12] = '\0';
		int major, minor;
		if (sscanf(version, "RFB %03d.%03d\n", &major, &minor) != 2 || major != 3)
			return -1;
		r->minor = minor >= 8 ? 8 : minor >= 7 ? 7 : 3;
		r->phase = REC_SECURITY;
		return 12;
	}
	case REC_SECURITY: {
		if (r->minor == 3) {
			NEED(c, 4);
			if (rd32(r->pend) != 1) /* only None is followed */
				return -1;
			r->phase = REC_INIT;
			return 4;
		}
		NEED(c, 1);
		size_t n = r->pend[0];
		NEED(c, 1 + n);
		if (n == 0 || memchr(r->pend + 1, 1, n) == NULL)
			return -1;
		r->phase = r->minor == 8 ? REC_SECRESULT : REC_INIT;
		return (long)(1 + n);
	}
	case REC_SECRESULT:
		NEED(c, 4);
		if (rd32(r->pend) != 0)
			return -1;
		r->phase = REC_INIT;
		return 4;
	case REC_INIT: {
		NEED(c, 24);
		size_t n = rd32(r->pend + 20);
		NEED(c, 24 + n);
		record_format(r, r->pend + 4);
		r->phase = REC_NORMAL;
		return (long)(24 + n);
	}
	case REC_NORMAL:
		break;
	}
	*timestamped = true;
	NEED(c, 1);
	switch (r->pend[0]) {
	case 0: { /* FramebufferUpdate */
		NEED(c, 4);
		size_t n = rd16(r->pend + 2);
		c->off = 4;
		for (size_t i = 0; i < n; i++) {
			bool last = false;
			int rc = rec_rect(r, c, &last);
			if (rc <= 0)
				return rc;
			if (last)
				break;
		}
		return (long)c->off;
	}
	case 1: /* SetColourMapEntries */
		NEED(c, 6);
		NEED(c, 6 + 6 * (size_t)rd16(r->pend + 4));
		return (long)(6 + 6 * (size_t)rd16(r->pend + 4));
	case 2: /* Bell */
		return 1;
	case 3: { /* ServerCutText (negative length: extended clipboard) */
		NEED(c, 8);
		int32_t n = (int32_t)rd32(r->pend + 4);
		size_t k = n < 0 ? (size_t)(-(int64_t)n) : (size_t)n;
		NEED(c, 8 + k);
		return (long)(8 + k);
	}
	case 150: /* EndOfContinuousUpdates */
		return 1;
	case 250: /* Xvp */
		NEED(c, 4);
		return 4;
	default:
		return -1;
	}
}

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

bool record_applies(const char *user)
{
	const struct config *cfg = &gw->cfg;
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
	free(r->pend);
	free(r);
}

void record_start(struct gw_conn *conn)
{
	struct gw_session *s = conn->session;
	if (s == NULL || !record_applies(conn->user))
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
	r->bpp = 32;
	log_info("recording the viewer of %s (session %s) to %s", conn->user, s->id, r->path);
	conn->rec = r;
	return;
fail:
	if (r != NULL)
		rec_free(r);
}

/* Stop recording conn after an error (the file is kept and closed as usual). */
static void rec_stop(struct gw_conn *conn, const char *why)
{
	log_error("recording %s of %s: %s: recording stopped, the session goes on",
		  conn->rec->path, conn->user, why);
	free(conn->rec->pend);
	conn->rec->pend = NULL;
	conn->rec->len = conn->rec->cap = 0;
	conn->rec->phase = REC_NORMAL;
	conn->rec->need = SIZE_MAX; /* never parse again */
}

void record_data(struct gw_conn *conn, const uint8_t *in, size_t len)
{
	struct gw_rec *r = conn->rec;
	if (r == NULL || r->need == SIZE_MAX)
		return;
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		while (cap < r->len + len)
			cap *= 2;
		uint8_t *p = cap > REC_PENDING_MAX_BYTES ? NULL : realloc(r->pend, cap);
		if (p == NULL) {
			rec_stop(conn, "message too large");
			return;
		}
		r->pend = p;
		r->cap = cap;
	}
	memcpy(r->pend + r->len, in, len);
	r->len += len;
	while (r->len > 0 && r->len >= r->need) {
		bool ts;
		r->need = 0;
		long n = rec_unit(r, &ts);
		if (n == 0)
			return;
		if (n < 0) {
			rec_stop(conn, "server message not understood");
			return;
		}
		if ((ts && rec_timestamp(r) != 0) || rec_write(r, r->pend, (size_t)n) != 0) {
			rec_stop(conn, strerror(errno ? errno : EIO));
			return;
		}
		memmove(r->pend, r->pend + n, r->len - (size_t)n);
		r->len -= (size_t)n;
	}
}

void record_client_format(struct gw_conn *conn, const uint8_t *msg, size_t len)
{
	if (conn->rec != NULL && len >= 20 && msg[0] == 0)
		record_format(conn->rec, msg + 4);
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

void record_init(void)
{
	if (strcmp(gw->cfg.recording, "off") != 0 && mkdir(gw->cfg.recording_dir, 0700) != 0 &&
	    errno != EEXIST)
		log_error("%s: %s: %s", __func__, gw->cfg.recording_dir, strerror(errno));
	record_prune_cb(NULL);
}
