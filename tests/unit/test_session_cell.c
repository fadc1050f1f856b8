/*
 * test_session_cell.c: the worker's watchdog decisions (session_cell.c):
 * memory past session_memory_mib (processes' anonymous memory plus the cell's
 * tmpfs), tasks at 95 % of session_max_procs, or a quarter of it as processes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "session_cell.h"

static int watch(long processes, long tasks, long anon_kib, long files_kib, int mib, int procs,
		 char *reason, char *limit)
{
	struct cell_usage u = { processes, tasks, anon_kib, files_kib };
	return cell_watch(&u, mib, procs, reason, 200, limit, 16);
}

Test(session_cell, a_normal_session_passes)
{
	char reason[200] = "", limit[16] = "";
	/* one Chromium with a few tabs: ~15 processes, ~300 threads, ~400 MiB */
	cr_assert_eq(watch(15, 300, 400 * 1024, 20 * 1024, 2048, 2048, reason, limit), 0);
	cr_assert_str_empty(reason);
	/* limits 0: no watch at all */
	cr_assert_eq(watch(5000, 50000, 1L << 30, 1L << 30, 0, 0, reason, limit), 0);
}

Test(session_cell, memory_counts_processes_and_files)
{
	char reason[200], limit[16];
	cr_assert_eq(watch(15, 300, 1000 * 1024, 24 * 1024, 1024, 2048, reason, limit), 0);
	cr_assert_eq(watch(15, 300, 1000 * 1024, 25 * 1024, 1024, 2048, reason, limit), 1);
	cr_assert_str_eq(limit, "memory");
	cr_assert(strstr(reason, "1025 MiB") && strstr(reason, "25 MiB of it in files") &&
		      strstr(reason, "session_memory_mib"),
		  "%s", reason);
}

Test(session_cell, tasks_near_the_limit_end_it)
{
	char reason[200], limit[16];
	cr_assert_eq(watch(20, 1945, 0, 0, 2048, 2048, reason, limit), 0);
	cr_assert_eq(watch(20, 1946, 0, 0, 2048, 2048, reason, limit), 1); /* 95 % of 2048 */
	cr_assert_str_eq(limit, "processes");
	cr_assert(strstr(reason, "1946 processes and threads") != NULL, "%s", reason);
}

Test(session_cell, many_processes_end_it_before_the_task_limit)
{
	char reason[200], limit[16];
	/* a fork bomb: a quarter of the limit as processes, far below it in tasks */
	cr_assert_eq(watch(511, 511, 0, 0, 2048, 2048, reason, limit), 0);
	cr_assert_eq(watch(512, 512, 0, 0, 2048, 2048, reason, limit), 1);
	cr_assert_str_eq(limit, "processes");
}
