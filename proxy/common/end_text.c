/*
 * end_text.c: the fixed texts a viewer is shown for a worker's end reason
 * (end_text.h).
 */
#include "end_text.h"

#include <string.h>

/* The beginnings of the worker's reasons (session_main.c, session_cdp.c, session_cell.c). */
static const struct {
	const char *prefix;
	const char *text;
} end_texts[] = {
	{ "the browser refused download denial", "the browser refused to deny downloads" },
	{ "the browser did not answer download denial",
	  "the browser did not confirm that downloads are denied" },
	{ "the browser did not answer", "the browser did not answer in time" },
	{ "the browser refused", "the browser refused a required setting" },
	{ "the browser left", "the browser did not answer in time" },
	{ "the browser closed the CDP pipe", "the browser exited" },
	{ "the browser reported", "the browser misbehaved" },
	{ "the browser opened more than", "the browser misbehaved" },
	{ "the session used ", "the session used more memory than it may (session_memory_mib)" },
	{ "the session ran ", "the session ran more processes than it may (session_max_procs)" },
	{ "browser exited", "the browser exited" },
	{ "cannot send", "the browser stopped answering" },
	{ "display server exited", "the display server exited" },
	{ "stopped by signal", "the session process was stopped" },
	{ "cannot start the browser", "the browser could not be started" },
	{ "cannot start the display server", "the display server could not be started" },
	{ "cannot open display", "the display server could not be started" },
	{ "cannot set up screen capture", "the screen capture could not be set up" },
};

const char *end_text_for_viewer(const char *worker_words, bool started)
{
	for (size_t i = 0; worker_words != NULL && i < sizeof end_texts / sizeof end_texts[0]; i++)
		if (strncmp(worker_words, end_texts[i].prefix, strlen(end_texts[i].prefix)) == 0)
			return end_texts[i].text;
	return started ? "the browser session ended" : "the browser could not be started";
}
