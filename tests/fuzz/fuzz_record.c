/*
 * fuzz_record.c: libFuzzer target for the session recorder
 * (proxy/gateway/gateway_record.c, included here as it is, so its private
 * state can be checked; the rest of the gateway is gw_stubs.c) driven the
 * way the relay drives it: what the worker sends a viewer is hostile input;
 * the server -> client check (rfb_stream.c) accepts what it may, and the
 * recorder gets the accepted bytes in order with the start of each message
 * marked, writing a timestamp before each message of its vncrec file.
 *
 * Input byte 0: bits 0..1 the size of the pieces the second run gives the
 * check (1, 3, 100 or 4096 bytes); bit 2 the viewer sends a SetPixelFormat:
 * its pixel format is the next 16 bytes of the input, and the 2 after them
 * (big-endian) say after how many bytes of the stream it arrives. The rest
 * is the worker's stream. The session's size is the one its ServerInit says
 * (bytes 18..21 of the stream), so that size check passes and the fuzzer
 * gets past it. gettimeofday() of the recorder gives the number of the
 * timestamp, so the file is the same every run.
 *
 * The stream is recorded twice, given all at once and in pieces.
 * Invariants, each an abort():
 *  - both files are the same byte for byte: where the stream is cut does not
 *    change what is recorded;
 *  - the file is "vncLog0.0", then exactly the bytes the check accepted, in
 *    order, with a 16-byte timestamp (seconds and microseconds as 32-bit
 *    big-endian values, each in its 8 bytes) before each server message and
 *    nowhere else: none within the handshake (at least 38 bytes), each
 *    followed by a FramebufferUpdate or a Bell;
 *  - what was not accepted is a field cut short (less than RFB_SC_MAX_TOKEN
 *    bytes) or the rest of a refused stream;
 *  - the "recording" audit record names the file and gives its size and
 *    its SHA-256;
 *  - no log line holds a control character; nothing leaks.
 */
#include <stdio.h>
#include <sys/time.h>

static int fuzz_gettimeofday(struct timeval *tv, void *tz);
#define gettimeofday fuzz_gettimeofday
#include "gateway_record.c"
#undef gettimeofday

#include "gw_stubs.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_STAMPS_MAX 65536

static struct gw_conn *stamp_conn; /* whose file the timestamps go to */
static off_t stamps[FUZZ_STAMPS_MAX];
static size_t nstamps;

/* The recorder's clock: timestamp k is k + 1 seconds; where it goes is noted. */
static int fuzz_gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	FUZZ_CHECK(stamp_conn != NULL && stamp_conn->rec != NULL);
	FUZZ_CHECK(nstamps < FUZZ_STAMPS_MAX);
	off_t at = lseek(stamp_conn->rec->fd, 0, SEEK_CUR);
	FUZZ_CHECK(at >= (off_t)strlen(REC_MAGIC));
	stamps[nstamps++] = at;
	tv->tv_sec = (time_t)nstamps;
	tv->tv_usec = 0;
	return 0;
}

static char dir[CONFIG_PATH_MAX];

static void remove_dir(void)
{
	rmdir(dir);
}

/*
 * The recordings go to a directory of their own in /dev/shm (the recorder
 * fsyncs each file: on a disk that is most of the time), else in $TMPDIR or /tmp.
 */
static void init(void)
{
	if (dir[0] != '\0')
		return;
	fuzz_log_one_line = true;
	const char *base = getenv("TMPDIR");
	if (access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL || base[0] == '\0')
		base = "/tmp";
	FUZZ_CHECK(strlen(base) < CONFIG_PATH_MAX - 32);
	snprintf(dir, sizeof dir, "%s/fuzz_record.XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	atexit(remove_dir);
}

/* What one recording gave. */
struct rec_run {
	uint8_t *file;
	size_t len;
	bool refused;    /* the check refused the stream */
	size_t accepted; /* bytes of the stream it accepted */
	off_t stamps[FUZZ_STAMPS_MAX];
	size_t nstamps;
};

static void sha256_hex(const uint8_t *p, size_t n, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FUZZ_CHECK(ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		   EVP_DigestUpdate(ctx, p, n) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/*
 * The relay's way: data[0 .. n) arrives in pieces of at most piece bytes;
 * what the check accepts goes to the recorder, the rest waits for more. The
 * viewer's SetPixelFormat pf (or none) goes to the check after pf_at bytes.
 */
static void feed(struct gw_conn *conn, struct rfb_sc *sc, const uint8_t *data, size_t n,
		 size_t piece, const uint8_t *pf, size_t pf_at, struct rec_run *run)
{
	size_t have = 0;
	bool pf_sent = pf == NULL;
	run->accepted = 0;
	run->refused = false;
	while ((have < n || !pf_sent) && !run->refused) {
		if (!pf_sent && have == pf_at) { /* at the same byte in every run */
			char why[RFB_SC_REASON_LEN];
			(void)rfb_sc_client(sc, pf, 20, why, sizeof why);
			pf_sent = true;
			continue;
		}
		size_t k = n - have < piece ? n - have : piece;
		if (!pf_sent && have + k > pf_at)
			k = pf_at - have;
		have += k;
		while (run->accepted < have) {
			struct rfb_sc_step st;
			enum rfb_sc_verdict v = rfb_sc_step(sc, data + run->accepted,
							    have - run->accepted, &st);
			if (v == RFB_SC_NEED_MORE)
				break;
			/* a refusal's valid bytes before the bad field pass too, as in the relay */
			if (st.len > 0)
				record_data(conn, data + run->accepted, st.len, st.starts_message);
			if (v == RFB_SC_REJECT) {
				run->accepted += st.len;
				run->refused = true;
				break;
			}
			run->accepted += st.len;
		}
	}
	if (!run->refused)
		FUZZ_CHECK(n - run->accepted < RFB_SC_MAX_TOKEN);
}

/* Record data, the viewer's SetPixelFormat pf (or none) after pf_at bytes of it. */
static void record_run(struct gw_session *s, struct gw_conn *conn, const uint8_t *pf, size_t pf_at,
		       const uint8_t *data, size_t size, size_t piece, struct rec_run *run)
{
	/* the viewer asks for everything the gateway allows */
	static const uint8_t asked[] = { 2,    0,    0,    12,   0,    0,    0,    7,    0,
					 0,    0,    16,   0,    0,    0,    6,    0,    0,
					 0,    5,    0,    0,    0,    1,    0,    0,    0,
					 0,    0xFF, 0xFF, 0xFF, 0x11, 0xFF, 0xFF, 0xFF, 0x10,
					 0xFF, 0xFF, 0xFF, 0x20, 0xFF, 0xFF, 0xFF, 0x21, 0xFF,
					 0xFF, 0xFF, 0xE9, 0xFF, 0xFF, 0xFF, 0x00 };
	static const uint8_t fbur[10] = { 3 };
	struct rfb_sc_config cfg = { .allowed = RFB_SC_GATEWAY_ENCODINGS };
	struct rfb_sc sc;
	char why[RFB_SC_REASON_LEN];

	if (size >= 22) {
		cfg.width = (uint16_t)(data[18] << 8 | data[19]);
		cfg.height = (uint16_t)(data[20] << 8 | data[21]);
	}
	rfb_sc_init(&sc, &cfg);
	FUZZ_CHECK(rfb_sc_client(&sc, asked, sizeof asked, why, sizeof why));
	memset(conn, 0, sizeof *conn);
	conn->session = s;
	conn->worker_fd = -1;
	snprintf(conn->user, sizeof conn->user, "yamada");
	snprintf(conn->peer, sizeof conn->peer, "192.0.2.1");
	record_start(conn);
	FUZZ_CHECK(conn->rec != NULL);
	char path[sizeof conn->rec->path];
	snprintf(path, sizeof path, "%s", conn->rec->path);
	stamp_conn = conn;
	nstamps = 0;
	if (pf != NULL && pf_at > size)
		pf_at = size;
	/* the first update request goes with the pixel format: after it a new
	   format would be refused */
	if (pf == NULL)
		FUZZ_CHECK(rfb_sc_client(&sc, fbur, sizeof fbur, why, sizeof why));
	feed(conn, &sc, data, size, piece, pf, pf_at, run);
	FUZZ_CHECK(!conn->rec->stopped);
	memcpy(run->stamps, stamps, nstamps * sizeof stamps[0]);
	run->nstamps = nstamps;
	stamp_conn = NULL;

	size_t audits = fuzz_naudits;
	record_close(conn);
	FUZZ_CHECK(conn->rec == NULL);

	/* The file, and the record that vouches for it. */
	FILE *f = fopen(path, "rb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fseek(f, 0, SEEK_END) == 0);
	long len = ftell(f);
	FUZZ_CHECK(len >= 0);
	rewind(f);
	run->len = (size_t)len;
	run->file = malloc(run->len + 1);
	FUZZ_CHECK(run->file != NULL);
	FUZZ_CHECK(fread(run->file, 1, run->len, f) == run->len);
	fclose(f);
	FUZZ_CHECK(unlink(path) == 0);
	FUZZ_CHECK(fuzz_naudits == audits + 1);
	const struct fuzz_audit *a = &fuzz_audits[audits];
	FUZZ_CHECK(strcmp(a->event, "recording") == 0 && strcmp(a->session, s->id) == 0);
	const char *name = json_string_value(json_object_get(a->fields, "file"));
	const char *sha = json_string_value(json_object_get(a->fields, "sha256"));
	json_t *bytes = json_object_get(a->fields, "bytes");
	FUZZ_CHECK(name != NULL && strcmp(path + strlen(dir) + 1, name) == 0);
	FUZZ_CHECK(json_is_integer(bytes) && (size_t)json_integer_value(bytes) == run->len);
	char hex[65];
	sha256_hex(run->file, run->len, hex);
	FUZZ_CHECK(sha != NULL && strcmp(sha, hex) == 0);
	FUZZ_CHECK(strcmp(s->rec_file, name) == 0 && strcmp(s->rec_sha256, hex) == 0);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The file: magic, then the accepted stream with a timestamp before each message. */
static void check_file(const struct rec_run *run, const uint8_t *data)
{
	static const uint8_t types[] = { 0, 2 };
	size_t magic = strlen(REC_MAGIC);
	FUZZ_CHECK(run->len >= magic && memcmp(run->file, REC_MAGIC, magic) == 0);
	size_t at = magic, consumed = 0;
	for (size_t k = 0; k <= run->nstamps; k++) {
		size_t until = k < run->nstamps ? (size_t)run->stamps[k] : run->len;
		FUZZ_CHECK(until >= at && until <= run->len);
		size_t n = until - at;
		FUZZ_CHECK(consumed + n <= run->accepted);
		FUZZ_CHECK(memcmp(run->file + at, data + consumed, n) == 0);
		consumed += n;
		at = until;
		if (k == run->nstamps)
			break;
		if (k == 0)
			FUZZ_CHECK(consumed >= 38); /* the handshake has no timestamps */
		else
			FUZZ_CHECK(n >= 1);
		FUZZ_CHECK(at + 16 <= run->len);
		static const uint8_t zero[4];
		const uint8_t *t = run->file + at;
		FUZZ_CHECK(rd32(t) == k + 1 && memcmp(t + 4, zero, 4) == 0 && rd32(t + 8) == 0 &&
			   memcmp(t + 12, zero, 4) == 0);
		at += 16;
		FUZZ_CHECK(consumed < run->accepted);
		FUZZ_CHECK(memchr(types, data[consumed], sizeof types) != NULL);
	}
	FUZZ_CHECK(consumed == run->accepted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[] = { 1, 3, 100, 4096 };
	static struct rec_run whole, split;
	init();
	if (size < 1)
		return 0;
	size_t piece = pieces[data[0] & 3];
	uint8_t pf[20] = { 0 }; /* SetPixelFormat: type 0, padding, the format */
	bool with_pf = (data[0] & 4) != 0;
	size_t pf_at = 0;
	data++;
	size--;
	if (with_pf) {
		if (size < 18)
			return 0;
		memcpy(pf + 4, data, 16);
		pf_at = (size_t)data[16] << 8 | data[17];
		data += 18;
		size -= 18;
	}
	if (piece == 1 && size > 2048)
		piece = 3; /* a call per byte: keep the run short */

	fuzz_gw_reset();
	snprintf(gw->cfg.recording, sizeof gw->cfg.recording, "all");
	snprintf(gw->cfg.recording_dir, sizeof gw->cfg.recording_dir, "%s", dir);
	struct gw_session s;
	memset(&s, 0, sizeof s);
	snprintf(s.id, sizeof s.id, "0123456789abcdef");
	snprintf(s.user, sizeof s.user, "yamada");
	struct gw_conn conn;
	const uint8_t *pfp = with_pf ? pf : NULL;
	record_run(&s, &conn, pfp, pf_at, data, size, size > 0 ? size : 1, &whole);
	record_run(&s, &conn, pfp, pf_at, data, size, piece, &split);

	FUZZ_CHECK(whole.refused == split.refused && whole.accepted == split.accepted &&
		   whole.len == split.len && memcmp(whole.file, split.file, whole.len) == 0);
	check_file(&whole, data);
	free(whole.file);
	free(split.file);
	fuzz_audits_clear();
	return 0;
}
