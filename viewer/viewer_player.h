/*
 * viewer_player.h: pixelgate-viewer --play FILE, the recording player for
 * security staff (Linux; where the recordings and the audit log are).
 *
 * Before anything is shown the player checks the file as the gateway checks
 * what a viewer is sent (client_recording.h), verifies the audit log's
 * chain with its key, finds the file's "recording" record and compares its
 * SHA-256 and size with the file's; it says so in its log and its window,
 * and refuses to play a file that does not match unless --unverified is
 * given (then a red NOT VERIFIED stays on the screen). The session's audit
 * events while it was recorded are listed beside the picture; a click on
 * one goes to its moment.
 *
 * Play/pause (Space, the button), seek (the bar, Left/Right 5 s, Home/End),
 * speed 1-8x (keys 1-8, the speed button), the current time; Escape or Q
 * closes. Every change of place is one log line ("play: at 12.300 s ...").
 */
#ifndef PIXELGATE_VIEWER_PLAYER_H
#define PIXELGATE_VIEWER_PLAYER_H

#include <stdbool.h>

struct vplayer_opts {
	const char *file;
	const char *audit_dir; /* the log's files: every audit-*.jsonl there */
	const char *audit_key; /* the key that verifies the chain */
	double at_s;           /* where to start, seconds from the first message */
	bool paused;           /* start paused (else playing) */
	bool unverified;       /* play a file the audit log does not vouch for */
	int win_w, win_h;      /* 0: the picture's size plus the controls */
};

#define VPLAYER_AUDIT_DIR "/var/log/pixelgate/audit"
#define VPLAYER_AUDIT_KEY "/etc/pixelgate/audit.key"

/*
 * Verify, then play until the window is closed. Exit status: 0, 1 the file
 * is refused (not a recording, not verified) or the window cannot be made.
 * SDL and SDL_ttf are started and stopped here.
 */
int vplayer_run(const struct vplayer_opts *o);

#endif
