/*
 * test_users.c: the users file and Argon2id passwords. A right password is
 * accepted, a wrong one or an unknown user is not; the file survives a
 * save/load round trip with mode 0600; every malformed line is refused with
 * "file:line: message". An administrator's lock is an optional fourth field
 * that survives saving, a password reset and a reload.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "users.h"

/* A syntactically valid Argon2id hash (of "password1", cheap parameters). */
#define SAMPLE_HASH                                             \
	"$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$" \
	"9t1Vh4vYqz2G0Ypgy6eY1r6fHdsS4xq4z6zq2YQJ3c0"

static char dir[64];

static void dir_setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/pg-test-users-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void dir_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

TestSuite(users, .init = dir_setup, .fini = dir_teardown);

/* Write text to dir/name (mode 0600); path receives its path. */
static void write_file(const char *name, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fputs(text, f) >= 0, true);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, 0600), 0);
}

Test(users, hash_is_argon2id_and_salted)
{
	char a[USERS_HASH_MAX], b[USERS_HASH_MAX];
	cr_assert_eq(users_hash_password("correct horse", a, sizeof a), 0);
	cr_assert_eq(users_hash_password("correct horse", b, sizeof b), 0);
	cr_assert_eq(strncmp(a, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0, "%s", a);
	cr_assert_str_neq(a, b, "two hashes of one password must differ (salt)");
	cr_assert(strstr(a, "correct horse") == NULL);
}

Test(users, right_password_is_accepted)
{
	struct users u = { 0 };
	char err[256] = "";
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_set(&u, "admin@city", true, "Kanri-Pass-99", err, sizeof err), 0, "%s",
		     err);
	const struct user *usr = users_authenticate(&u, "tanaka", "Sakura-2024!");
	cr_assert_not_null(usr);
	cr_assert_str_eq(usr->name, "tanaka");
	cr_assert_eq(usr->admin, false);
	usr = users_authenticate(&u, "admin@city", "Kanri-Pass-99");
	cr_assert_not_null(usr);
	cr_assert_eq(usr->admin, true);
	users_free(&u);
}

Test(users, wrong_password_is_refused)
{
	struct users u = { 0 };
	char err[256] = "";
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_null(users_authenticate(&u, "tanaka", "sakura-2024!"));
	cr_assert_null(users_authenticate(&u, "tanaka", "Sakura-2024"));
	cr_assert_null(users_authenticate(&u, "tanaka", "Sakura-2024!!"));
	cr_assert_null(users_authenticate(&u, "tanaka", ""));
	/* Another user's password does not open this account. */
	cr_assert_eq(users_set(&u, "suzuki", false, "Momiji-2024!", err, sizeof err), 0);
	cr_assert_null(users_authenticate(&u, "tanaka", "Momiji-2024!"));
	users_free(&u);
}

Test(users, unknown_user_is_refused)
{
	struct users u = { 0 };
	char err[256] = "";
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_null(users_authenticate(&u, "suzuki", "Sakura-2024!"));
	cr_assert_null(users_authenticate(&u, "Tanaka", "Sakura-2024!"));
	cr_assert_null(users_authenticate(&u, "", "Sakura-2024!"));
	cr_assert_null(users_find(&u, "suzuki"));
	users_free(&u);
	/* And in an empty set. */
	cr_assert_null(users_authenticate(&u, "tanaka", "Sakura-2024!"));
}

Test(users, over_long_password_is_refused)
{
	struct users u = { 0 };
	char err[256] = "";
	static char pw[USERS_PASSWORD_MAX + 2];
	memset(pw, 'p', USERS_PASSWORD_MAX + 1);
	cr_assert_eq(users_set(&u, "tanaka", false, pw, err, sizeof err), -1);
	cr_assert_str_eq(err, "password must be 8 to 1024 bytes");
	cr_assert_eq(users_set(&u, "tanaka", false, "short7!", err, sizeof err), -1);
	cr_assert_str_eq(err, "password must be 8 to 1024 bytes");
	pw[USERS_PASSWORD_MAX] = '\0';
	cr_assert_eq(users_set(&u, "tanaka", false, pw, err, sizeof err), 0, "%s", err);
	pw[USERS_PASSWORD_MAX] = 'p';
	cr_assert_null(users_authenticate(&u, "tanaka", pw));
	users_free(&u);
}

Test(users, set_replaces_and_del_removes)
{
	struct users u = { 0 };
	char err[256] = "";
	cr_assert_eq(users_set(&u, "tanaka", false, "first-pass", err, sizeof err), 0);
	cr_assert_eq(users_set(&u, "tanaka", true, "second-pass", err, sizeof err), 0);
	cr_assert_eq(u.n, 1);
	cr_assert_null(users_authenticate(&u, "tanaka", "first-pass"));
	cr_assert_not_null(users_authenticate(&u, "tanaka", "second-pass"));
	cr_assert_eq(users_find(&u, "tanaka")->admin, true);
	cr_assert_eq(users_del(&u, "suzuki"), -1);
	cr_assert_eq(users_del(&u, "tanaka"), 0);
	cr_assert_eq(u.n, 0);
	cr_assert_eq(users_del(&u, "tanaka"), -1);
	users_free(&u);
}

Test(users, save_load_round_trip_with_mode_0600)
{
	struct users u = { 0 }, back;
	char err[256] = "", path[128];
	struct stat st;
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0);
	cr_assert_eq(users_set(&u, "admin@city", true, "Kanri-Pass-99", err, sizeof err), 0);
	cr_assert_eq(users_set(&u, "s.suzuki_2-x", false, "Momiji-2024!", err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/users", dir);
	mode_t old = umask(0); /* the file must be 0600 whatever the umask */
	int rc = users_save(&u, path, err, sizeof err);
	umask(old);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", (unsigned)(st.st_mode & 07777));

	cr_assert_eq(users_load(&back, path, false, err, sizeof err), 0, "%s", err);
	cr_assert_eq(back.n, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(back.v[i].name, u.v[i].name);
		cr_assert_eq(back.v[i].admin, u.v[i].admin);
		cr_assert_str_eq(back.v[i].hash, u.v[i].hash);
	}
	cr_assert_not_null(users_authenticate(&back, "admin@city", "Kanri-Pass-99"));
	cr_assert_null(users_authenticate(&back, "admin@city", "Sakura-2024!"));

	/* Saving over an existing file replaces it and leaves no temp file. */
	cr_assert_eq(users_del(&back, "tanaka"), 0);
	cr_assert_eq(users_save(&back, path, err, sizeof err), 0, "%s", err);
	users_free(&back);
	cr_assert_eq(users_load(&back, path, false, err, sizeof err), 0, "%s", err);
	cr_assert_eq(back.n, 2);
	cr_assert_null(users_find(&back, "tanaka"));
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	cr_assert_eq(access(tmp, F_OK), -1);
	users_free(&back);
	users_free(&u);
}

Test(users, file_format_is_name_role_hash)
{
	struct users u = { 0 };
	char err[256] = "", path[128], line[512];
	cr_assert_eq(users_set(&u, "tanaka", true, "Sakura-2024!", err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/users", dir);
	cr_assert_eq(users_save(&u, path, err, sizeof err), 0, "%s", err);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof line, f));
	cr_assert_null(fgets(line + 256, 256, f), "one user, one line");
	fclose(f);
	char want[512];
	snprintf(want, sizeof want, "tanaka:admin:%s\n", u.v[0].hash);
	cr_assert_str_eq(line, want);
	users_free(&u);
}

Test(users, comments_blank_lines_and_crlf_are_accepted)
{
	struct users u;
	char err[256] = "", path[128];
	write_file("users",
		   "# pixelgate users\n"
		   "\n"
		   "tanaka:staff:" SAMPLE_HASH "\r\n"
		   "#suzuki:admin:" SAMPLE_HASH "\n"
		   "admin:admin:" SAMPLE_HASH,
		   path, sizeof path);
	cr_assert_eq(users_load(&u, path, false, err, sizeof err), 0, "%s", err);
	cr_assert_eq(u.n, 2);
	cr_assert_str_eq(u.v[0].name, "tanaka");
	cr_assert_eq(u.v[0].admin, false);
	cr_assert_str_eq(u.v[0].hash, SAMPLE_HASH);
	cr_assert_str_eq(u.v[1].name, "admin");
	cr_assert_eq(u.v[1].admin, true);
	users_free(&u);
}

Test(users, missing_and_empty_files)
{
	struct users u;
	char err[256] = "", path[128], want[256];
	snprintf(path, sizeof path, "%s/none", dir);
	cr_assert_eq(users_load(&u, path, true, err, sizeof err), 0, "%s", err);
	cr_assert_eq(u.n, 0);
	cr_assert_eq(users_load(&u, path, false, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
	cr_assert_str_eq(err, want);
	write_file("empty", "", path, sizeof path);
	cr_assert_eq(users_load(&u, path, false, err, sizeof err), 0, "%s", err);
	cr_assert_eq(u.n, 0);
}

/* One malformed users file: the line and message it must be refused with. */
struct bad_users {
	const char *text;
	const char *message; /* after "<path>:" */
};

static const struct bad_users bad_users[] = {
	{ "tanaka\n", "1: expected name:role:hash" },
	{ "# c\ntanaka:staff\n", "2: expected name:role:hash" },
	{ "tanaka:staff:" SAMPLE_HASH "\n\nsuzuki:root:" SAMPLE_HASH "\n",
	  "3: role must be staff or admin, not \"root\"" },
	{ "tanaka:Staff:" SAMPLE_HASH "\n", "1: role must be staff or admin, not \"Staff\"" },
	{ "tanaka::" SAMPLE_HASH "\n", "1: role must be staff or admin, not \"\"" },
	{ "tanaka:staff:$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g\n",
	  "1: not an Argon2id hash" },
	{ "tanaka:staff:password1\n", "1: not an Argon2id hash" },
	{ "tanaka:staff:\n", "1: not an Argon2id hash" },
	{ "\n\n\n:staff:" SAMPLE_HASH "\n", "4: invalid user name" },
	{ "ta naka:staff:" SAMPLE_HASH "\n", "1: invalid user name" },
	{ "tanaka/../x:staff:" SAMPLE_HASH "\n", "1: invalid user name" },
	{ "tanaka:staff:" SAMPLE_HASH "\nsuzuki:staff:" SAMPLE_HASH "\ntanaka:admin:" SAMPLE_HASH
	  "\n",
	  "3: duplicate user \"tanaka\"" },
	{ "tanaka:staff:" SAMPLE_HASH ":Locked\n",
	  "1: fourth field must be \"locked\", not \"Locked\"" },
	{ "tanaka:staff:" SAMPLE_HASH ":\n", "1: fourth field must be \"locked\", not \"\"" },
	{ "tanaka:staff:" SAMPLE_HASH ":locked:x\n",
	  "1: fourth field must be \"locked\", not \"locked:x\"" },
	{ "tanaka:staff:" SAMPLE_HASH ":unlocked\n",
	  "1: fourth field must be \"locked\", not \"unlocked\"" },
	{ "tanaka:staff:" SAMPLE_HASH ": locked\n",
	  "1: fourth field must be \"locked\", not \" locked\"" },
	{ "tanaka:staff::locked\n", "1: not an Argon2id hash" },
};

Test(users, malformed_lines_are_refused_with_file_and_line)
{
	for (size_t i = 0; i < sizeof bad_users / sizeof bad_users[0]; i++) {
		struct users u;
		char err[256] = "", path[128], want[256];
		write_file("users", bad_users[i].text, path, sizeof path);
		cr_assert_eq(users_load(&u, path, false, err, sizeof err), -1, "case %zu accepted",
			     i);
		snprintf(want, sizeof want, "%s:%s", path, bad_users[i].message);
		cr_assert_str_eq(err, want, "case %zu", i);
		cr_assert_eq(u.n, 0);
		cr_assert_null(u.v);
	}
}

Test(users, over_long_line_is_refused)
{
	struct users u;
	char err[256] = "", path[128], want[256];
	static char text[2048];
	int n = snprintf(text, sizeof text,
			 "tanaka:staff:" SAMPLE_HASH "\nsuzuki:staff:$argon2id$");
	memset(text + n, 'A', 1000);
	text[n + 1000] = '\n';
	write_file("users", text, path, sizeof path);
	cr_assert_eq(users_load(&u, path, false, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:2: line longer than 510 bytes", path);
	cr_assert_str_eq(err, want);
}

Test(users, invalid_names_are_refused)
{
	static const char *const bad[] = {
		"",
		"ta naka",
		"tanaka:admin",
		"ta\nnaka",
		"../etc",
		"tanaka/x",
		"田中",
		"tanaka\t",
		"a\"b",
		"a;b",
		"a,b",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	static const char *const good[] = {
		"a",
		"tanaka",
		"T.Tanaka",
		"tanaka@city.example.lg.jp",
		"tanaka_01-x",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
	};
	struct users u = { 0 };
	char err[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(users_name_valid(bad[i]), false, "\"%s\" accepted", bad[i]);
		err[0] = '\0';
		cr_assert_eq(users_set(&u, bad[i], false, "Sakura-2024!", err, sizeof err), -1);
		cr_assert_eq(strncmp(err, "invalid user name \"", 19), 0, "%s", err);
	}
	cr_assert_eq(u.n, 0);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_assert_eq(users_name_valid(good[i]), true, "\"%s\" refused", good[i]);
}

Test(users, lock_is_a_fourth_field_that_round_trips)
{
	struct users u = { 0 }, back;
	char err[256] = "", path[128], line[512], want[512];
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_set(&u, "suzuki", true, "Momiji-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_find(&u, "tanaka")->locked, false, "a new user is not locked");
	cr_assert_eq(users_set_locked(&u, "tanaka", true), 0);
	cr_assert_eq(users_set_locked(&u, "nobody", true), -1);
	snprintf(path, sizeof path, "%s/users", dir);
	cr_assert_eq(users_save(&u, path, err, sizeof err), 0, "%s", err);

	/* Only the locked user's line has the fourth field. */
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof line, f));
	snprintf(want, sizeof want, "tanaka:staff:%s:locked\n", u.v[0].hash);
	cr_assert_str_eq(line, want);
	cr_assert_not_null(fgets(line, sizeof line, f));
	snprintf(want, sizeof want, "suzuki:admin:%s\n", u.v[1].hash);
	cr_assert_str_eq(line, want);
	fclose(f);

	cr_assert_eq(users_load(&back, path, false, err, sizeof err), 0, "%s", err);
	cr_assert_eq(back.n, 2);
	cr_assert_eq(users_find(&back, "tanaka")->locked, true);
	cr_assert_str_eq(users_find(&back, "tanaka")->hash, u.v[0].hash);
	cr_assert_eq(users_find(&back, "suzuki")->locked, false);

	/* Unlocking removes the field again. */
	cr_assert_eq(users_set_locked(&back, "tanaka", false), 0);
	cr_assert_eq(users_save(&back, path, err, sizeof err), 0, "%s", err);
	users_free(&back);
	cr_assert_eq(users_load(&back, path, false, err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_find(&back, "tanaka")->locked, false);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof line, f));
	fclose(f);
	cr_assert_null(strstr(line, ":locked"), "%s", line);
	users_free(&back);
	users_free(&u);
}

Test(users, files_without_the_fourth_field_load_unlocked)
{
	struct users u;
	char err[256] = "", path[128];
	write_file("users",
		   "tanaka:staff:" SAMPLE_HASH "\n"
		   "suzuki:admin:" SAMPLE_HASH ":locked\r\n"
		   "sato:staff:" SAMPLE_HASH "\n",
		   path, sizeof path);
	cr_assert_eq(users_load(&u, path, false, err, sizeof err), 0, "%s", err);
	cr_assert_eq(u.n, 3);
	cr_assert_eq(u.v[0].locked, false);
	cr_assert_eq(u.v[1].locked, true);
	cr_assert_eq(u.v[1].admin, true);
	cr_assert_str_eq(u.v[1].hash, SAMPLE_HASH, "the flag is not part of the hash");
	cr_assert_eq(u.v[2].locked, false);
	users_free(&u);
}

Test(users, locked_user_is_returned_only_with_the_right_password)
{
	struct users u = { 0 };
	char err[256] = "";
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_set_locked(&u, "tanaka", true), 0);
	/* Wrong password: refused like any other (nothing tells it is locked). */
	cr_assert_null(users_authenticate(&u, "tanaka", "sakura-2024!"));
	/* Right password: the user comes back flagged; the caller answers 403. */
	const struct user *usr = users_authenticate(&u, "tanaka", "Sakura-2024!");
	cr_assert_not_null(usr);
	cr_assert_eq(usr->locked, true);
	users_free(&u);
}

Test(users, password_reset_keeps_the_lock)
{
	struct users u = { 0 };
	char err[256] = "";
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_set_locked(&u, "tanaka", true), 0);
	cr_assert_eq(users_set(&u, "tanaka", true, "Momiji-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_find(&u, "tanaka")->locked, true);
	cr_assert_eq(users_find(&u, "tanaka")->admin, true);
	cr_assert_not_null(users_authenticate(&u, "tanaka", "Momiji-2024!"));
	/* Deleting and adding again makes a new, unlocked account. */
	cr_assert_eq(users_del(&u, "tanaka"), 0);
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_find(&u, "tanaka")->locked, false);
	users_free(&u);
}

Test(users, copy_is_independent)
{
	struct users u = { 0 }, c;
	char err[256] = "";
	cr_assert_eq(users_copy(&c, &u), 0);
	cr_assert_eq(c.n, 0);
	cr_assert_null(c.v);
	cr_assert_eq(users_set(&u, "tanaka", false, "Sakura-2024!", err, sizeof err), 0, "%s", err);
	cr_assert_eq(users_copy(&c, &u), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(users_set_locked(&c, "tanaka", true), 0);
	cr_assert_eq(users_del(&c, "tanaka"), 0);
	cr_assert_eq(u.n, 1);
	cr_assert_eq(users_find(&u, "tanaka")->locked, false);
	users_free(&c);
	users_free(&u);
}
