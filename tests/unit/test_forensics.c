/*
 * test_forensics.c: the copy of a hostile session directory kept for
 * security staff (proxy/common/forensics.c). A tree as a compromised
 * browser could leave it: a symbolic link out to /etc/passwd and one to
 * "..", a FIFO (a reader that opened it would hang), a socket, a name with a
 * terminal escape and one that is not UTF-8, a sparse file far larger than
 * the cap, a chain of directories deeper than the cap, more names than the
 * cap. The copy must list each with what it is, copy only regular files,
 * never follow a link, stop at every cap and say so, store files under
 * numbers, and leave a manifest whose SHA-256 the summary and the result
 * name.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "forensics.h"

#define ID "0123456789abcdef"

static char base[256], src[300], dest[300];

static int rm_cb(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)f;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void setup(void)
{
	snprintf(base, sizeof base, "/tmp/pg-forensics-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(src, sizeof src, "%s/src", base);
	snprintf(dest, sizeof dest, "%s/dest", base);
	cr_assert_eq(mkdir(src, 0700), 0);
	cr_assert_eq(mkdir(dest, 0700), 0);
}

static void teardown(void)
{
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(forensics, .init = setup, .fini = teardown);

static void put(const char *rel, const char *text)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", src, rel);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static int run(uint64_t max_bytes, char *result)
{
	int s = open(src, O_PATH | O_DIRECTORY);
	int d = open(dest, O_RDONLY | O_DIRECTORY);
	cr_assert(s >= 0 && d >= 0);
	struct forensics_job j = {
		.src_dirfd = s,
		.dest_dirfd = d,
		.id = ID,
		.user = "alice",
		.what = "ServerCutText refused (clipboard to the terminal is off)",
		.max_bytes = max_bytes,
		.reader_uid = (uid_t)-1,
		.writer_uid = (uid_t)-1,
		.reader_gid = (gid_t)-1,
		.writer_gid = (gid_t)-1
	};
	int rc = forensics_copy(&j, result, FORENSICS_RESULT_MAX);
	close(s);
	close(d);
	return rc;
}

static json_t *load(const char *rel)
{
	char p[600];
	snprintf(p, sizeof p, "%s/session-" ID "/%s", dest, rel);
	json_error_t e;
	json_t *v = json_load_file(p, 0, &e);
	cr_assert_not_null(v, "%s: %s", p, e.text);
	return v;
}

static char *slurp(const char *rel, size_t *len)
{
	char p[600];
	snprintf(p, sizeof p, "%s/session-" ID "/%s", dest, rel);
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	char *b = NULL;
	size_t cap = 0, n = 0, r;
	do {
		if (n + 65536 > cap)
			cr_assert_not_null(b = realloc(b, cap = n + 65536 + cap));
		r = fread(b + n, 1, 65536, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return b;
}

static json_t *entry(json_t *manifest, const char *path)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(manifest, "entries"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
			return e;
	cr_assert_fail("the manifest does not list %s", path);
	return NULL;
}

static const char *str(json_t *e, const char *k)
{
	const char *v = json_string_value(json_object_get(e, k));
	return v != NULL ? v : "";
}

static void mode_is(const char *rel, mode_t want)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/session-" ID "%s%s", dest, rel[0] ? "/" : "", rel);
	cr_assert_eq(lstat(p, &st), 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(st.st_mode & 07777, want, "%s has mode %o, want %o", p, st.st_mode & 07777,
		     want);
}

Test(forensics, a_hostile_tree_is_listed_and_only_its_files_are_copied)
{
	char p[600], result[FORENSICS_RESULT_MAX];
	put("hello.txt", "what the browser left\n");
	snprintf(p, sizeof p, "%s/profile", src);
	cr_assert_eq(mkdir(p, 0700), 0);
	put("profile/Preferences", "{\"x\":1}");
	snprintf(p, sizeof p, "%s/escape", src);
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof p, "%s/profile/up", src);
	cr_assert_eq(symlink("..", p), 0);
	snprintf(p, sizeof p, "%s/pipe", src);
	cr_assert_eq(mkfifo(p, 0600), 0);
	int sk = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cr_assert(strlen(src) + 6 < sizeof sa.sun_path);
	memcpy(sa.sun_path, src, strlen(src));
	memcpy(sa.sun_path + strlen(src), "/sock", 6);
	cr_assert_eq(bind(sk, (struct sockaddr *)&sa, sizeof sa), 0, "%s", strerror(errno));
	put("esc\x1b[31mred", "escape");
	put("bad\xff", "not utf-8");

	cr_assert_eq(run(1 << 20, result), 0, "%s", result);
	close(sk);
	json_error_t je;
	json_t *r = json_loads(result, 0, &je);
	cr_assert_not_null(r, "result \"%s\": %s", result, je.text);
	cr_assert_eq(json_integer_value(json_object_get(r, "files")), 4, "%s", result);
	cr_assert_eq(json_integer_value(json_object_get(r, "bytes")),
		     (json_int_t)(strlen("what the browser left\n") + 7 + 6 + 9), "%s", result);
	cr_assert(json_is_false(json_object_get(r, "truncated")), "%s", result);

	json_t *m = load("manifest.json"), *s = load("summary.json");
	cr_assert_str_eq(str(m, "session"), ID);
	cr_assert_eq(json_array_size(json_object_get(m, "entries")), 9);

	json_t *e = entry(m, "hello.txt");
	cr_assert_str_eq(str(e, "type"), "file");
	cr_assert_eq(json_integer_value(json_object_get(e, "size")), 22);
	size_t n;
	char *b = slurp(str(e, "stored"), &n);
	cr_assert(n == 22 && memcmp(b, "what the browser left\n", 22) == 0);
	free(b);
	unsigned char d[32];
	char hex[65];
	EVP_Digest("what the browser left\n", 22, d, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	cr_assert_str_eq(str(e, "sha256"), hex);
	cr_assert_eq(strncmp(str(e, "stored"), "files/", 6), 0);

	cr_assert_str_eq(str(entry(m, "profile"), "type"), "dir");
	cr_assert_str_eq(str(entry(m, "profile/Preferences"), "type"), "file");
	e = entry(m, "escape");
	cr_assert_str_eq(str(e, "type"), "symlink");
	cr_assert_str_eq(str(e, "target"), "/etc/passwd");
	cr_assert_null(json_object_get(e, "stored"), "a link's target was copied");
	e = entry(m, "profile/up");
	cr_assert_str_eq(str(e, "type"), "symlink");
	cr_assert_str_eq(str(e, "target"), "..");
	cr_assert_str_eq(str(entry(m, "pipe"), "type"), "fifo");
	cr_assert_null(json_object_get(entry(m, "pipe"), "stored"));
	cr_assert_str_eq(str(entry(m, "sock"), "type"), "socket");
	/* names: cleaned for the reader, the raw bytes kept in hex */
	e = entry(m, "esc?[31mred");
	cr_assert_str_eq(str(e, "name_hex"), "6573631b5b33316d726564");
	e = entry(m, "bad?");
	cr_assert_str_eq(str(e, "name_hex"), "626164ff");
	b = slurp(str(e, "stored"), &n);
	cr_assert(n == 9 && memcmp(b, "not utf-8", 9) == 0);
	free(b);

	/* the summary, and the manifest's hash in both */
	cr_assert_str_eq(str(s, "session"), ID);
	cr_assert_str_eq(str(s, "user"), "alice");
	cr_assert_str_eq(str(s, "what"),
			 "ServerCutText refused (clipboard to the terminal is off)");
	cr_assert_eq(json_integer_value(json_object_get(s, "entries")), 9);
	cr_assert_eq(json_integer_value(json_object_get(s, "files")), 4);
	b = slurp("manifest.json", &n);
	EVP_Digest(b, n, d, NULL, EVP_sha256(), NULL);
	free(b);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	cr_assert_str_eq(str(s, "manifest_sha256"), hex);
	cr_assert_str_eq(str(r, "manifest_sha256"), hex);
	cr_assert_eq(strlen(str(s, "kept")), 20, "kept \"%s\" is not RFC 3339 UTC", str(s, "kept"));

	/* owner-only */
	mode_is("", 0700);
	mode_is("files", 0700);
	mode_is("manifest.json", 0600);
	mode_is("summary.json", 0600);
	mode_is(str(entry(m, "hello.txt"), "stored"), 0600);
	json_decref(r);
	json_decref(m);
	json_decref(s);
}

Test(forensics, every_cap_stops_the_copy_and_says_so)
{
	char p[600], result[FORENSICS_RESULT_MAX];
	/* a sparse file of 1 GiB against a cap of 64 KiB */
	snprintf(p, sizeof p, "%s/huge", src);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	cr_assert(fd >= 0 && ftruncate(fd, 1LL << 30) == 0);
	close(fd);
	/* a chain deeper than the cap */
	size_t at = (size_t)snprintf(p, sizeof p, "%s", src);
	for (int i = 0; i < FORENSICS_MAX_DEPTH + 3; i++) {
		at += (size_t)snprintf(p + at, sizeof p - at, "/d");
		cr_assert_eq(mkdir(p, 0700), 0, "%s", strerror(errno));
	}
	cr_assert_eq(run(65536, result), 0, "%s", result);
	json_t *r = json_loads(result, 0, NULL);
	cr_assert_not_null(r, "%s", result);
	cr_assert(json_is_true(json_object_get(r, "truncated")), "%s", result);
	cr_assert_eq(json_integer_value(json_object_get(r, "bytes")), 65536, "%s", result);
	json_t *m = load("manifest.json");
	json_t *e = entry(m, "huge");
	cr_assert_eq(json_integer_value(json_object_get(e, "size")), 1LL << 30);
	cr_assert_eq(json_integer_value(json_object_get(e, "copied")), 65536);
	cr_assert(json_is_true(json_object_get(e, "truncated")));
	/* the deepest listed directory says its contents are not */
	char deep[200] = "d";
	for (int i = 1; i <= FORENSICS_MAX_DEPTH; i++)
		strcat(deep, "/d");
	cr_assert_str_eq(str(entry(m, deep), "error"), "too deep: its contents are not listed");
	json_decref(m);
	json_decref(r);

	/* a second copy of the same session is refused, not mixed in */
	cr_assert_eq(run(65536, result), -1);
	cr_assert(strstr(result, "\"error\"") != NULL && strstr(result, "File exists") != NULL,
		  "%s", result);
}

Test(forensics, more_names_than_the_cap_are_not_listed)
{
	char p[600], result[FORENSICS_RESULT_MAX];
	for (int i = 0; i < FORENSICS_MAX_ENTRIES + 10; i++) {
		snprintf(p, sizeof p, "%s/%d", src, i);
		int fd = open(p, O_WRONLY | O_CREAT, 0600);
		cr_assert(fd >= 0);
		close(fd);
	}
	cr_assert_eq(run(1 << 20, result), 0, "%s", result);
	json_t *m = load("manifest.json");
	cr_assert_eq(json_array_size(json_object_get(m, "entries")), FORENSICS_MAX_ENTRIES);
	json_t *s = load("summary.json");
	cr_assert(json_is_true(json_object_get(s, "truncated")));
	json_decref(m);
	json_decref(s);
}

Test(forensics, long_hostile_names_stop_at_the_manifest_cap)
{
	char p[600], name[256], result[FORENSICS_RESULT_MAX];
	int made = 0;
	for (int i = 0; i < 15000; i++) {
		memset(name, 0xff, 240);
		snprintf(name + 240, sizeof name - 240, "%d", i);
		snprintf(p, sizeof p, "%s/%s", src, name);
		int fd = open(p, O_WRONLY | O_CREAT, 0600);
		cr_assert(fd >= 0, "%s", strerror(errno));
		close(fd);
		made++;
	}
	cr_assert_eq(run(1 << 20, result), 0, "%s", result);
	json_t *m = load("manifest.json");
	size_t n = json_array_size(json_object_get(m, "entries"));
	cr_assert(n > 1000 && n < (size_t)made, "%zu of %d names listed", n, made);
	json_t *s = load("summary.json");
	cr_assert(json_is_true(json_object_get(s, "truncated")));
	size_t len;
	char *b = slurp("manifest.json", &len);
	free(b);
	cr_assert(len <= FORENSICS_MANIFEST_MAX, "manifest.json has %zu bytes", len);
	json_decref(m);
	json_decref(s);
}

Test(forensics, an_error_line_is_json_that_fits)
{
	char out[FORENSICS_RESULT_MAX], why[600];
	memset(why, '"', sizeof why - 1);
	why[sizeof why - 1] = '\0';
	forensics_error_line(out, sizeof out, why);
	json_t *v = json_loads(out, 0, NULL);
	cr_assert_not_null(v, "%s", out);
	cr_assert(strlen(out) < sizeof out);
	json_decref(v);
	forensics_error_line(out, sizeof out, "forensics_dir /a\\b\"c\x01\xff: No such file");
	v = json_loads(out, 0, NULL);
	cr_assert_not_null(v, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(v, "error")),
			 "forensics_dir /a/b'c??: No such file");
	json_decref(v);
}

Test(forensics, kept_directory_names)
{
	cr_assert(forensics_name_ok("session-" ID));
	cr_assert(!forensics_name_ok("session-0123456789ABCDEF"));
	cr_assert(!forensics_name_ok("session-0123456789abcde"));
	cr_assert(!forensics_name_ok("session-0123456789abcdef0"));
	cr_assert(!forensics_name_ok("session-../../etc/passwd"));
	cr_assert(!forensics_name_ok("x-0123456789abcdef"));
}
