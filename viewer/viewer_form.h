/*
 * viewer_form.h: the login form inside the viewer window: the server (shown,
 * not edited), user and password fields (the password masked), the second
 * factor's code field once the server asked for a code, a login button, and a message area for errors and progress. Tab moves the focus,
 * Enter submits, the fields take IME text (SDL_TEXTINPUT) and show the
 * IME's composition (SDL_TEXTEDITING) in place.
 */
#ifndef PIXELGATE_VIEWER_FORM_H
#define PIXELGATE_VIEWER_FORM_H

#include <SDL2/SDL.h>
#include <stdbool.h>

#include "viewer_config.h"
#include "viewer_session.h"
#include "viewer_ui.h"

enum vform_focus { VF_USER, VF_PASSWORD, VF_OTP, VF_BUTTON, VF_COUNT };

enum vform_action {
	VFA_NONE,   /* nothing changed */
	VFA_REDRAW, /* the form changed: draw it again */
	VFA_SUBMIT, /* log in with the fields' contents */
};

struct vform {
	char server[VIEWER_HOST_MAX + 16]; /* as shown */
	char user[VIEWER_USER_MAX + 1];
	char password[VSESSION_PASSWORD_MAX + 1]; /* wiped by vform_wipe() */
	char otp[VSESSION_OTP_MAX + 1];           /* the code: digits only; wiped after a submit */
	bool want_otp;     /* the server asked for a code: the code field is shown */
	char preedit[256]; /* the IME's composition, not yet committed */
	enum vform_focus focus;
	bool busy;       /* logging in: read-only, the message is progress */
	bool can_submit; /* false when no server/CA is usable */
	bool message_is_error;
	char message[1536]; /* shown under the button */
	char detail[640];   /* technical detail under it, small (for IT) */
	/* laid out by vform_draw(), for clicks and the IME position */
	SDL_Rect r_user, r_password, r_otp, r_button;
};

/* An empty form for server (as shown). */
void vform_init(struct vform *f, const char *server);

/* Set the message (error in red when is_error) and clear the detail. */
void vform_set_message(struct vform *f, const char *message, bool is_error);

/* Set the technical detail shown under the message ("" for none). */
void vform_set_detail(struct vform *f, const char *detail);

/* Handle one SDL event (output coordinates already scaled for mice). */
enum vform_action vform_event(struct vform *f, const SDL_Event *ev);

/* Draw the form into an out_w x out_h output. */
void vform_draw(struct vform *f, struct vui *u, int out_w, int out_h);

/* Where the IME's candidate window should go (the focused field). */
SDL_Rect vform_input_rect(const struct vform *f);

/* Wipe the password (and the composition). */
void vform_wipe_password(struct vform *f);

#endif
