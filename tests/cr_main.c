/*
 * cr_main.c: main() of the Criterion test binaries (unit_tests,
 * integration_tests), Criterion's own with two differences that ctest can
 * see:
 * - a run in which a test was skipped (and none failed) exits 77, which
 *   tests/CMakeLists.txt declares as SKIP_RETURN_CODE: ctest lists the test
 *   as skipped instead of passed, and tests/run.sh counts it;
 * - a run that executed no test (a --filter that matches nothing, e.g. after
 *   a test was renamed) exits 1 instead of passing.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>

static size_t cr_ran, cr_skipped;

/* Criterion counts the tests a --filter left out as skipped: count what ran. */
ReportHook(PRE_INIT)(struct criterion_test *test)
{
	(void)test;
	cr_ran++;
}

ReportHook(POST_FINI)(struct criterion_test_stats *stats)
{
	if (stats->test_status == CR_STATUS_SKIPPED)
		cr_skipped++;
}

int main(int argc, char *argv[])
{
	struct criterion_test_set *tests = criterion_initialize();
	int result = 0, args = criterion_handle_args(argc, argv, true);

	if (args > 0) {
		result = criterion_run_all_tests(tests) ? 0 : 1;
		if (result == 0 && cr_ran == 0) {
			fprintf(stderr, "%s: no test ran (does --filter match a test?)\n", argv[0]);
			result = 1;
		} else if (result == 0 && cr_skipped > 0) {
			result = 77;
		}
	} else if (args < 0) {
		result = 1;
	}
	criterion_finalize(tests);
	return result;
}
