/* test_file_atomic.c: file_write_atomic() replaces in one step and, as root,
   keeps the owner of what it replaces (pixelgatectl local-user add on the gateway's
   users file). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_atomic.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/pg-atomic-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(file_atomic, replaces_the_contents_with_mode_0600, .init = setup, .fini = teardown)
{
	char path[128], err[256], buf[64] = "";
	snprintf(path, sizeof path, "%s/users", dir);
	cr_assert_eq(file_write_atomic(path, "one\n", 4, err, sizeof err), 0, "%s", err);
	cr_assert_eq(file_write_atomic(path, "two\n", 4, err, sizeof err), 0, "%s", err);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof buf, f));
	fclose(f);
	cr_assert_str_eq(buf, "two\n");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
}

Test(file_atomic, root_keeps_the_owner_and_takes_the_directorys_for_a_new_file, .init = setup,
     .fini = teardown)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (tests/run.sh runs the unit tests as root)");
	char path[128], err[256];
	struct stat st;
	snprintf(path, sizeof path, "%s/users", dir);
	/* A directory of an unprivileged user: a new file is that user's. */
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	cr_assert_eq(file_write_atomic(path, "a\n", 2, err, sizeof err), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_uid, 65534);
	cr_assert_eq(st.st_gid, 65534);
	/* An existing file keeps its owner when root rewrites it. */
	cr_assert_eq(chown(path, 65533, 65532), 0);
	cr_assert_eq(file_write_atomic(path, "b\n", 2, err, sizeof err), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_uid, 65533);
	cr_assert_eq(st.st_gid, 65532);
	/* In root's own directory, a new file is root's. */
	cr_assert_eq(chown(dir, 0, 0), 0);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(file_write_atomic(path, "c\n", 2, err, sizeof err), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_uid, 0);
}
