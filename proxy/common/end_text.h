/*
 * end_text.h: what a viewer is told when the worker ended its session.
 *
 * The worker's reason (IPC_ENDED) can carry the browser's own words (a CDP
 * error message) and the worker runs beside a browser that may be
 * compromised: shown to staff as it is, it would be a text channel from the
 * internet tier onto the LGWAN terminal's screen. The viewer gets one of a
 * fixed set of texts chosen by the reason's known beginning; the worker's
 * words go to the gateway's log and the session_end audit record only.
 */
#ifndef PIXELGATE_END_TEXT_H
#define PIXELGATE_END_TEXT_H

#include <stdbool.h>

/*
 * The fixed text for worker_words (started: the session had been ready).
 * Never NULL; never a byte of worker_words.
 */
const char *end_text_for_viewer(const char *worker_words, bool started);

#endif
