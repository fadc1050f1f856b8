/*
 * test_end_text.c: what a viewer is told when the worker ended its session
 * (proxy/common/end_text.c). Every reason the worker gives maps to a fixed
 * text, and nothing the worker or the browser wrote after the known
 * beginning (a CDP error message, a page's words, a terminal escape) ever
 * reaches the text.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "end_text.h"

Test(end_text, each_known_reason_has_its_fixed_text)
{
	static const struct {
		const char *worker;
		bool started;
		const char *want;
	} cases[] = {
		{ "the browser refused download denial: refused by the fake browser", false,
		  "the browser refused to deny downloads" },
		{ "the browser refused download denial in a browser context: Call 03-1234-5678 to "
		  "unlock your PC",
		  true, "the browser refused to deny downloads" },
		{ "the browser did not answer download denial within 10 s", false,
		  "the browser did not confirm that downloads are denied" },
		{ "the browser did not answer Target.setAutoAttach within 10 s", false,
		  "the browser did not answer in time" },
		{ "the browser refused Page.enable: \x1b[2Jpwned", false,
		  "the browser refused a required setting" },
		{ "the browser left 64 required commands unanswered", false,
		  "the browser did not answer in time" },
		{ "the session used 812 MiB of memory (0 MiB of it in files), more than its limit "
		  "of 768 MiB (session_memory_mib)",
		  true, "the session used more memory than it may (session_memory_mib)" },
		{ "the session ran 380 processes and threads, at its limit of 400 (session_max_procs)",
		  true, "the session ran more processes than it may (session_max_procs)" },
		{ "browser exited (status 1)", true, "the browser exited" },
		{ "the browser closed the CDP pipe before answering download denial", false,
		  "the browser exited" },
		{ "display server exited (signal 9)", true, "the display server exited" },
		{ "stopped by signal 15 (Terminated)", true, "the session process was stopped" },
		{ "cannot start the browser", false, "the browser could not be started" },
		{ "cannot open display :5", false, "the display server could not be started" },
		{ "cannot set up screen capture", false, "the screen capture could not be set up" },
		/* anything else: a fixed text by whether the session had started */
		{ "", true, "the browser session ended" },
		{ "Your session expired: sign in again at http://evil.example/", true,
		  "the browser session ended" },
		{ "Your session expired: sign in again at http://evil.example/", false,
		  "the browser could not be started" },
		{ NULL, true, "the browser session ended" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_assert_str_eq(end_text_for_viewer(cases[i].worker, cases[i].started),
				 cases[i].want, "case %zu", i);
}
