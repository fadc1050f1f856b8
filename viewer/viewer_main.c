/*
 * viewer_main.c: pixelgate-viewer, the staff client.
 *
 *   pixelgate-viewer [--server URL] [--ca FILE] [--user NAME]
 *                    [--password-file FILE] [--log-file FILE] [--size WxH]
 *   pixelgate-viewer --play FILE [--audit-dir DIR] [--audit-key FILE]
 *                    [--at SECONDS] [--paused] [--unverified]   (Linux)
 *
 * Settings come from /etc/pixelgate/viewer.conf, then the per-user file
 * (viewer_config.h), then the command line. The window shows the login
 * form, then the remote browser. The UI thread (this file) sleeps in
 * SDL_WaitEvent(); the session's network thread (viewer_session.c) wakes it
 * with SDL user events when pixels arrived or the connection changed, so a
 * still page costs no CPU. Every state change is one log line
 * ("pixelgate-viewer: ..."), to stderr or --log-file.
 */
#include <SDL2/SDL.h>
#include <SDL2/SDL_ttf.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgc_platform.h"
#include "client_url.h"
#include "viewer_config.h"
#include "viewer_form.h"
#include "viewer_input.h"
#include "viewer_keymap.h"
#include "viewer_log.h"
#include "viewer_platform.h"
#ifndef _WIN32
#include "viewer_player.h"
#endif
#include "viewer_sanitizer.h"
#include "viewer_screen.h"
#include "viewer_session.h"
#include "viewer_text.h"
#include "viewer_ui.h"
#include "viewer_wm.h"

#define DEFAULT_WIN_W 1280
#define DEFAULT_WIN_H 800
/* Exit status for a usage or configuration error. */
#define EXIT_USAGE 2

/* What the window shows. */
enum view {
	VIEW_FORM,   /* login form (maybe busy, maybe with an error) */
	VIEW_REMOTE, /* the remote screen */
	VIEW_LOST,   /* the last picture dimmed, with the retry message */
};

struct app {
	struct viewer_config cfg;
	char host[VIEWER_HOST_MAX + 1];
	int port;
	bool server_ok;
	char server_shown[VIEWER_HOST_MAX + 16]; /* host[:port] for the title */

	SDL_Window *win;
	SDL_Renderer *ren;
	uint32_t ev_session; /* SDL event type of session events */
	struct vui *ui;
	struct vform *form; /* locked in memory (pgc_mem_lock()): holds the password */
	struct vscreen screen;
	struct vinput input;

	struct vsession *s;
	struct vsession_status st; /* last status read */
	enum view view;
	bool fullscreen;
	int windowed_w; /* window size before full screen */
	int windowed_h;
	bool redraw;
	bool quit;
	char preedit[256]; /* IME composition while on the remote screen */
	SDL_Rect ime_rect; /* window coordinates */
};

/* ------------------------------------------------------------------------ */
/* Start-up                                                                 */
/* ------------------------------------------------------------------------ */

/* The settings file IT deploys, for messages. */
static const char *system_config_path(void)
{
	static char path[VIEWER_PATH_MAX];

	if (!path[0] && vplat_system_config_path(path, sizeof(path)))
		path[0] = '\0';
	return path;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pixelgate-viewer [--server https://HOST[:PORT]] [--ca FILE] [--user NAME]\n"
		"                        [--password-file FILE] [--log-file FILE] [--size WxH]\n"
		"       pixelgate-viewer --help | --version\n"
		"Settings are read from %s, then the per-user file\n"
		"(%s), then the command line.\n"
		"--password-file logs in without the form (scripted use); only its owner may\n"
		"be able to read the file.\n"
#ifndef _WIN32
		"\n"
		"       pixelgate-viewer --play FILE [--audit-dir DIR] [--audit-key FILE]\n"
		"                        [--at SECONDS] [--paused] [--unverified] [--size WxH]\n"
		"plays a session recording after checking its SHA-256 against the audit log\n"
		"(DIR, default " VPLAYER_AUDIT_DIR ", verified with the key FILE,\n"
		"default " VPLAYER_AUDIT_KEY "); a file the log does not vouch for is\n"
		"refused unless --unverified is given. Exit status 1 when refused.\n"
#endif
		,
		system_config_path(), vplat_user_config_hint());
}

/*
 * Reads a password from path into out (size bytes, NUL-terminated): the
 * first line, without its line end. The file must be a regular file that
 * only its owner can read. 0, or -1 (logged).
 */
static int read_password_file(const char *path, char *out, size_t size)
{
	char buf[VSESSION_PASSWORD_MAX + 4], why[256];
	size_t len;

	if (vplat_read_private_file(path, buf, sizeof(buf), &len, why, sizeof(why))) {
		vlog("password file refused: %s", why);
		pgc_secure_zero(buf, sizeof(buf));
		return -1;
	}
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (!len || len >= size || len > VSESSION_PASSWORD_MAX) {
		vlog("the password file %s holds %s", path,
		     len ? "a password longer than 1024 bytes" : "no password");
		pgc_secure_zero(buf, sizeof(buf));
		return -1;
	}
	memcpy(out, buf, len + 1);
	pgc_secure_zero(buf, sizeof(buf));
	return 0;
}

/*
 * Loads the two config files into cfg. A file that does not parse is
 * skipped (logged, its error kept in err for the window); the other one
 * still counts. 0, or -1 if a file was refused.
 */
static int load_config(struct viewer_config *cfg, char *err, size_t errlen)
{
	char path[VIEWER_PATH_MAX];
	int rc = 0;

	viewer_config_defaults(cfg);
	err[0] = '\0';
	if (system_config_path()[0]) {
		/* checked and read through one handle: a file anyone could have
		   written does not get to pin the server */
		char *buf = malloc(VIEWER_CONFIG_MAX_BYTES + 2);
		size_t len = 0;
		int got = buf != NULL
		    ? vplat_read_admin_file(system_config_path(), buf, VIEWER_CONFIG_MAX_BYTES + 2,
					    &len, err, errlen)
		    : -1;

		if (buf == NULL)
			snprintf(err, errlen, "out of memory");
		if (got < 0) {
			vlog("configuration error: %s; not read", err);
			rc = -1;
		} else if (got == 0 &&
			   viewer_config_parse(cfg, system_config_path(), buf, len, err, errlen)) {
			vlog("configuration error: %s", err);
			rc = -1;
		}
		free(buf);
	}
	if (viewer_config_user_path(path, sizeof(path)) == 0) {
		char err2[512];

		if (viewer_config_load(cfg, path, true, err2, sizeof(err2))) {
			vlog("configuration error: %s", err2);
			if (!rc)
				snprintf(err, errlen, "%s", err2);
			rc = -1;
		}
	}
	return rc;
}

/* Parses "WxH". */
static int parse_size(const char *s, int *w, int *h)
{
	char *end;
	long a = strtol(s, &end, 10), b;

	if (end == s || (*end != 'x' && *end != 'X'))
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end || a < 320 || b < 240 || a > 16384 || b > 16384)
		return -1;
	*w = (int)a;
	*h = (int)b;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Session life                                                             */
/* ------------------------------------------------------------------------ */

/* The window's client area in output pixels. */
static void output_size(struct app *a, int *w, int *h)
{
	if (SDL_GetRendererOutputSize(a->ren, w, h) || *w <= 0 || *h <= 0)
		SDL_GetWindowSize(a->win, w, h);
}

/* Window point to output point (they differ on high-DPI displays). */
static void to_output(struct app *a, int wx, int wy, int *ox, int *oy)
{
	int ww, wh, ow, oh;

	SDL_GetWindowSize(a->win, &ww, &wh);
	output_size(a, &ow, &oh);
	*ox = ww > 0 ? (int)((long)wx * ow / ww) : wx;
	*oy = wh > 0 ? (int)((long)wy * oh / wh) : wy;
}

static void set_title(struct app *a, const char *user)
{
	char title[VIEWER_HOST_MAX + VIEWER_USER_MAX + 64];

	if (user && user[0])
		snprintf(title, sizeof(title), "pixelgate — %s@%s", user, a->server_shown);
	else
		snprintf(title, sizeof(title), "%s", text_get(TEXT_TITLE_LOGIN));
	vwm_set_title(a->win, title);
}

/* Puts the IME's candidate window at r (output coordinates). */
static void set_ime_rect(struct app *a, SDL_Rect r)
{
	int ww, wh, ow, oh;

	SDL_GetWindowSize(a->win, &ww, &wh);
	output_size(a, &ow, &oh);
	if (ow > 0 && oh > 0) {
		r.x = (int)((long)r.x * ww / ow);
		r.w = (int)((long)r.w * ww / ow);
		r.y = (int)((long)r.y * wh / oh);
		r.h = (int)((long)r.h * wh / oh);
	}
	a->ime_rect = r;
	SDL_SetTextInputRect(&a->ime_rect);
}

/* Starts logging in with the form's fields. */
static void submit(struct app *a)
{
	struct vsession_params *p;
	int w, h;

	if (a->s || !a->server_ok)
		return;
	if (!a->form->user[0] || !a->form->password[0]) {
		vform_set_message(a->form, text_get(TEXT_ERR_EMPTY_FIELDS), true);
		a->form->focus = a->form->user[0] ? VF_PASSWORD : VF_USER;
		a->redraw = true;
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		vlog("out of memory");
		return;
	}
	snprintf(p->host, sizeof(p->host), "%s", a->host);
	p->port = a->port;
	snprintf(p->ca_file, sizeof(p->ca_file), "%s", a->cfg.ca_file);
	snprintf(p->user, sizeof(p->user), "%s", a->form->user);
	memcpy(p->password, a->form->password, sizeof(p->password));
	snprintf(p->otp, sizeof(p->otp), "%s", a->form->otp);
	pgc_secure_zero(a->form->otp, sizeof(a->form->otp));
	output_size(a, &w, &h);
	vsession_clamp_size(&w, &h);
	p->width = w;
	p->height = h;
	vscreen_reset(&a->screen);
	vinput_forget(&a->input);
	a->s = vsession_start(p, a->ev_session);
	pgc_secure_zero(p, sizeof(*p));
	free(p);
	if (!a->s) {
		vform_set_message(a->form, text_get(TEXT_ERR_UNREACHABLE), true);
		a->redraw = true;
		return;
	}
	memset(&a->st, 0, sizeof(a->st));
	set_title(a, a->form->user);
	a->form->busy = true;
	a->form->preedit[0] = '\0';
	vform_set_message(a->form, text_get(TEXT_CONNECTING), false);
	a->view = VIEW_FORM;
	a->redraw = true;
}

/* The session ended with a refusal: back to the form with what happened and
   what to do. */
static void session_ended(struct app *a, const struct vsession_status *st)
{
	char msg[1536], detail[600];
	const char *what = "stopped";
	bool keep_password = true;

	msg[0] = detail[0] = '\0';
	switch (st->refusal) {
	case VR_CREDENTIALS:
		if (strcmp(st->error, "otp_required") == 0 ||
		    strcmp(st->error, "otp_invalid") == 0) {
			/* the password was right: ask for the code, keep the password */
			what = st->error[4] == 'r' ? "a code is needed" : "wrong or used code";
			snprintf(msg, sizeof(msg), "%s",
				 text_get(st->error[4] == 'r' ? TEXT_ERR_OTP_REQUIRED
							      : TEXT_ERR_OTP_INVALID));
			a->form->want_otp = true;
			break;
		}
		what = "wrong user name or password";
		snprintf(msg, sizeof(msg), "%s", text_get(TEXT_ERR_CREDENTIALS));
		keep_password = false;
		break;
	case VR_SERVER:
		what = "refused by the server";
		snprintf(msg, sizeof(msg), "%s\n%s\n\n%s", text_get(TEXT_ERR_SERVER_REFUSED),
			 st->message, text_get(TEXT_PRESS_ENTER_TO_LOGIN));
		snprintf(detail, sizeof(detail), "HTTP %d %s", st->http_status, st->error);
		break;
	case VR_CERTIFICATE:
		what = "certificate refused";
		snprintf(msg, sizeof(msg), "%s", text_get(TEXT_ERR_CERTIFICATE));
		snprintf(detail, sizeof(detail), "%s", st->message);
		break;
	case VR_CA_FILE:
		what = "CA file unusable";
		snprintf(msg, sizeof(msg), "%s", text_get(TEXT_ERR_CA_FILE));
		snprintf(detail, sizeof(detail), "%s", st->message);
		break;
	case VR_UNREACHABLE:
		what = "server unreachable";
		snprintf(msg, sizeof(msg), "%s\n\n%s", text_get(TEXT_ERR_UNREACHABLE),
			 text_get(TEXT_PRESS_ENTER_TO_LOGIN));
		snprintf(detail, sizeof(detail), "%s", st->message);
		break;
	case VR_CLOSED:
		if (st->close_code == 4000) {
			what = "replaced by another connection";
			snprintf(msg, sizeof(msg), "%s\n\n%s", text_get(TEXT_REPLACED),
				 text_get(TEXT_PRESS_ENTER_TO_LOGIN));
		} else {
			what = "session closed by the server";
			snprintf(msg, sizeof(msg), "%s\n%s\n\n%s", text_get(TEXT_SESSION_ENDED),
				 st->message, text_get(TEXT_PRESS_ENTER_TO_LOGIN));
		}
		snprintf(detail, sizeof(detail), "WebSocket close %d", st->close_code);
		break;
	case VR_NONE:
		break;
	}
	vsession_free(a->s);
	a->s = NULL;
	vinput_forget(&a->input);
	vscreen_reset(&a->screen);
	a->form->busy = false;
	a->form->preedit[0] = '\0';
	a->preedit[0] = '\0';
	if (!keep_password) {
		vform_wipe_password(a->form);
		a->form->focus = VF_PASSWORD;
	} else if (a->form->want_otp && st->refusal == VR_CREDENTIALS) {
		a->form->focus = VF_OTP;
	} else {
		a->form->focus = VF_BUTTON;
	}
	vform_set_message(a->form, msg, true);
	vform_set_detail(a->form, detail);
	a->view = VIEW_FORM;
	a->redraw = true;
	vlog("login form shown: %s; %s", what,
	     !keep_password                 ? "waiting for the password"
		 : a->form->focus == VF_OTP ? "waiting for the code"
					    : "press Enter to log in again");
}

/* A session event arrived. */
static void on_session_event(struct app *a, const SDL_UserEvent *ue)
{
	struct vsession_status st;
	enum vsession_state prev = a->st.state;

	if (!a->s)
		return;
	switch (ue->code) {
	case VSE_FRAME:
		if (vscreen_upload(&a->screen, a->s) && a->view != VIEW_FORM)
			a->redraw = true;
		if (a->view == VIEW_REMOTE && a->screen.fb_w)
			a->redraw = true;
		return;
	case VSE_CURSOR:
		vscreen_update_cursor(&a->screen, a->s);
		return;
	case VSE_CLIPBOARD: {
		/* the session's browser copied text (clipboard_to_terminal) */
		char *text = vsession_take_clipboard(a->s);
		if (text && SDL_SetClipboardText(text) != 0)
			vlog("the session's copy could not be put on this terminal's clipboard: %s",
			     SDL_GetError());
		else if (text)
			vlog("the session's copy is on this terminal's clipboard");
		if (text) {
			pgc_secure_zero(text, strlen(text));
			free(text);
		}
		return;
	}
	case VSE_STATE:
		break;
	default:
		return;
	}
	vsession_get_status(a->s, &st);
	a->st = st;
	switch (st.state) {
	case VS_LOGGING_IN:
		vform_set_message(a->form, text_get(TEXT_CONNECTING), false);
		break;
	case VS_STARTING:
		vform_set_message(a->form, text_get(TEXT_STARTING_BROWSER), false);
		break;
	case VS_CONNECTED:
		if (prev != VS_CONNECTED) {
			/* keys held when the connection dropped are still down on the
			   remote side: release them on the new connection */
			vinput_release_all(&a->input, a->s);
			a->form->busy = false;
			vform_set_message(a->form, "", false);
			a->view = VIEW_REMOTE;
			vscreen_show_cursor(&a->screen, true);
			if (prev != VS_LOST && prev != VS_RECONNECTING) {
				/* until the first click: the IME opens mid-window */
				int ow, oh;
				SDL_Rect r;

				output_size(a, &ow, &oh);
				r = (SDL_Rect){ ow / 2, oh / 3, 1, 24 };
				set_ime_rect(a, r);
			}
		}
		break;
	case VS_LOST:
	case VS_RECONNECTING:
		if (a->view == VIEW_REMOTE)
			vscreen_show_cursor(&a->screen, false);
		a->view = a->st.was_connected ? VIEW_LOST : VIEW_FORM;
		break;
	case VS_ENDED:
		session_ended(a, &st);
		break;
	}
	a->redraw = true;
}

/* ------------------------------------------------------------------------ */
/* Drawing                                                                  */
/* ------------------------------------------------------------------------ */

/* Draws the IME composition in a box at the IME position (remote view). */
static void draw_preedit(struct app *a)
{
	const SDL_Color bg = { 255, 255, 224, 255 }, fg = { 30, 64, 175, 255 },
			border = { 30, 64, 175, 255 };
	int tw, th, ox, oy;
	SDL_Rect box;

	if (!a->preedit[0])
		return;
	vui_measure(a->ui, VUI_BODY, a->preedit, &tw, &th);
	to_output(a, a->ime_rect.x, a->ime_rect.y + a->ime_rect.h, &ox, &oy);
	box.x = ox;
	box.y = oy + 2;
	box.w = tw + 12;
	box.h = th + 8;
	vui_fill(a->ui, &box, bg);
	vui_frame(a->ui, &box, border, 1);
	vui_text(a->ui, VUI_BODY, a->preedit, box.x + 6, box.y + 4, fg);
}

static void render(struct app *a)
{
	int ow, oh;
	char msg[512];

	a->redraw = false;
	output_size(a, &ow, &oh);
	SDL_RenderSetClipRect(a->ren, NULL);
	switch (a->view) {
	case VIEW_FORM:
		vform_draw(a->form, a->ui, ow, oh);
		break;
	case VIEW_REMOTE:
		if (!vscreen_draw(&a->screen, ow, oh, false))
			vui_message_box(a->ui, ow, oh, text_get(TEXT_STARTING_BROWSER));
		draw_preedit(a);
		break;
	case VIEW_LOST:
		vscreen_draw(&a->screen, ow, oh, true);
		if (a->st.state == VS_LOST)
			vui_format_int(msg, sizeof(msg), text_get(TEXT_LOST_RETRYING),
				       a->st.retry_in_s);
		else
			snprintf(msg, sizeof(msg), "%s", text_get(TEXT_CONNECTING));
		vui_message_box(a->ui, ow, oh, msg);
		break;
	}
	SDL_RenderPresent(a->ren);
}

/* ------------------------------------------------------------------------ */
/* Events                                                                   */
/* ------------------------------------------------------------------------ */

static void toggle_fullscreen(struct app *a)
{
	if (!a->fullscreen)
		SDL_GetWindowSize(a->win, &a->windowed_w, &a->windowed_h);
	a->fullscreen = !a->fullscreen;
	if (SDL_SetWindowFullscreen(a->win, a->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0)) {
		vlog("cannot switch full screen: %s", SDL_GetError());
		a->fullscreen = !a->fullscreen;
		return;
	}
	/* without a window manager nobody restores the windowed size */
	if (!a->fullscreen && a->windowed_w > 0)
		SDL_SetWindowSize(a->win, a->windowed_w, a->windowed_h);
	vlog("full screen %s", a->fullscreen ? "on" : "off");
	a->redraw = true;
}

/* Events while the remote screen is shown (or being reconnected). */
static void on_remote_event(struct app *a, const SDL_Event *ev)
{
	struct geo_rect dst;
	int ow, oh, x, y;

	output_size(a, &ow, &oh);
	dst = vscreen_place(&a->screen, ow, oh);
	switch (ev->type) {
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		if (ev->key.keysym.sym == SDLK_F11) {
			if (ev->type == SDL_KEYDOWN && !ev->key.repeat)
				toggle_fullscreen(a);
			return;
		}
		/* while the local IME composes, its keys (Enter to commit,
		   Backspace, arrows) are the IME's, not the browser's */
		if (ev->type == SDL_KEYDOWN && a->preedit[0] &&
		    !keymap_is_modifier(ev->key.keysym.sym))
			return;
		vinput_key(&a->input, a->s, &ev->key);
		return;
	case SDL_TEXTINPUT:
		if (a->preedit[0]) {
			a->preedit[0] = '\0';
			a->redraw = true;
		}
		vinput_text(&a->input, a->s, ev->text.text);
		return;
	case SDL_TEXTEDITING:
		snprintf(a->preedit, sizeof(a->preedit), "%s", ev->edit.text);
		a->redraw = true;
		return;
	case SDL_TEXTEDITING_EXT:
		snprintf(a->preedit, sizeof(a->preedit), "%s",
			 ev->editExt.text ? ev->editExt.text : "");
		a->redraw = true;
		return;
	case SDL_MOUSEMOTION:
		to_output(a, ev->motion.x, ev->motion.y, &x, &y);
		vinput_motion(&a->input, a->s, &dst, a->screen.fb_w, a->screen.fb_h, x, y);
		return;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		to_output(a, ev->button.x, ev->button.y, &x, &y);
		vinput_button(&a->input, a->s, &dst, a->screen.fb_w, a->screen.fb_h, x, y,
			      ev->button.button, ev->type == SDL_MOUSEBUTTONDOWN);
		if (ev->type == SDL_MOUSEBUTTONDOWN && ev->button.button == SDL_BUTTON_LEFT) {
			/* the remote caret is likely where the user clicked */
			SDL_Rect r = { x, y - 12, 1, 24 };

			set_ime_rect(a, r);
		}
		return;
	case SDL_MOUSEWHEEL: {
		int dx = ev->wheel.x, dy = ev->wheel.y;

		if (ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED) {
			dx = -dx;
			dy = -dy;
		}
		vinput_wheel(&a->input, a->s, dx, dy);
		return;
	}
	default:
		return;
	}
}

/* Events of the login form. */
static void on_form_event(struct app *a, const SDL_Event *ev)
{
	SDL_Event e = *ev;
	enum vform_action act;

	if (e.type == SDL_KEYDOWN && e.key.keysym.sym == SDLK_F11) {
		if (!e.key.repeat)
			toggle_fullscreen(a);
		return;
	}
	if (e.type == SDL_TEXTEDITING_EXT) {
		/* as a plain SDL_TEXTEDITING (the form shows at most 255 bytes) */
		const char *t = ev->editExt.text ? ev->editExt.text : "";

		memset(&e, 0, sizeof(e));
		e.type = SDL_TEXTEDITING;
		snprintf(e.edit.text, sizeof(e.edit.text), "%s", t);
	}
	if (e.type == SDL_MOUSEBUTTONDOWN)
		to_output(a, ev->button.x, ev->button.y, &e.button.x, &e.button.y);
	act = vform_event(a->form, &e);
	if (act == VFA_SUBMIT)
		submit(a);
	else if (act == VFA_REDRAW)
		a->redraw = true;
	if (act != VFA_NONE)
		set_ime_rect(a, vform_input_rect(a->form));
}

static void on_window_event(struct app *a, const SDL_WindowEvent *we)
{
	int w, h;

	switch (we->event) {
	case SDL_WINDOWEVENT_SIZE_CHANGED:
		output_size(a, &w, &h);
		vlog("window %dx%d", w, h);
		if (a->s) {
			vsession_clamp_size(&w, &h);
			vsession_set_size(a->s, w, h);
		}
		a->redraw = true;
		break;
	case SDL_WINDOWEVENT_EXPOSED:
	case SDL_WINDOWEVENT_SHOWN:
	case SDL_WINDOWEVENT_RESTORED:
		a->redraw = true;
		break;
	case SDL_WINDOWEVENT_FOCUS_LOST:
		/* the keys the user holds now go to another window: release them
		   on the remote side, modifiers included */
		if (a->s)
			vinput_release_all(&a->input, a->s);
		break;
	default:
		break;
	}
}

static void on_event(struct app *a, SDL_Event *ev)
{
	if (ev->type == a->ev_session) {
		on_session_event(a, &ev->user);
		return;
	}
	switch (ev->type) {
	case SDL_QUIT:
		a->quit = true;
		return;
	case SDL_WINDOWEVENT:
		on_window_event(a, &ev->window);
		return;
	case SDL_RENDER_TARGETS_RESET:
	case SDL_RENDER_DEVICE_RESET:
		a->screen.stale = true;
		if (a->s)
			vscreen_upload(&a->screen, a->s);
		a->redraw = true;
		return;
	default:
		break;
	}
	if (a->view == VIEW_FORM)
		on_form_event(a, ev);
	else if (a->s)
		on_remote_event(a, ev);
	if (ev->type == SDL_TEXTEDITING_EXT)
		SDL_free(ev->editExt.text);
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

/* Sets up the server fields and the form's initial message. */
static void check_settings(struct app *a)
{
	char err[256], msg[1536];

	a->server_ok = false;
	if (!a->cfg.server[0]) {
		vlog("no server configured (--server or %s)", system_config_path());
		vform_set_message(a->form, text_get(TEXT_ERR_NO_SERVER), true);
		a->form->can_submit = false;
		return;
	}
	if (pgc_parse_server_url(a->cfg.server, VIEWER_DEFAULT_PORT, a->host, sizeof(a->host),
				 &a->port, err, sizeof(err))) {
		vlog("server %s: %s", a->cfg.server, err);
		vform_set_message(a->form, text_get(TEXT_ERR_NO_SERVER), true);
		snprintf(msg, sizeof(msg), "%s: %s", a->cfg.server, err);
		vform_set_detail(a->form, msg);
		a->form->can_submit = false;
		return;
	}
	if (a->port == VIEWER_DEFAULT_PORT)
		snprintf(a->server_shown, sizeof(a->server_shown), "%s", a->host);
	else if (strchr(a->host, ':'))
		snprintf(a->server_shown, sizeof(a->server_shown), "[%s]:%d", a->host, a->port);
	else
		snprintf(a->server_shown, sizeof(a->server_shown), "%s:%d", a->host, a->port);
	if (!a->cfg.ca_file[0] || vplat_can_read(a->cfg.ca_file)) {
		const char *why = a->cfg.ca_file[0] ? strerror(errno) : "not configured";

		snprintf(msg, sizeof(msg), "%s: %s", a->cfg.ca_file[0] ? a->cfg.ca_file : "ca_file",
			 why);
		vlog("CA file %s (set ca_file or --ca)", msg);
		vform_set_message(a->form, text_get(TEXT_ERR_CA_FILE), true);
		vform_set_detail(a->form, msg);
		a->form->can_submit = false;
		return;
	}
	a->server_ok = true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "size", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "play", required_argument, NULL, 'P' },
		{ "audit-dir", required_argument, NULL, 'D' },
		{ "audit-key", required_argument, NULL, 'K' },
		{ "at", required_argument, NULL, 'A' },
		{ "paused", no_argument, NULL, 'S' },
		{ "unverified", no_argument, NULL, 'U' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *opt_server = NULL, *opt_ca = NULL, *opt_user = NULL, *opt_pwfile = NULL,
		   *opt_log = NULL;
	int win_w = DEFAULT_WIN_W, win_h = DEFAULT_WIN_H, ch, status = 0;
	struct app *a;
	bool autologin = false, cfg_failed, size_given = false;
	const char *opt_play = NULL, *opt_audit_dir = NULL, *opt_audit_key = NULL;
	double opt_at = 0;
	bool opt_paused = false, opt_unverified = false, play_opt = false;
	char cfg_err[512], locale_note[200];

	vplat_set_locale(locale_note, sizeof locale_note);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			opt_server = optarg;
			break;
		case 'c':
			opt_ca = optarg;
			break;
		case 'u':
			opt_user = optarg;
			break;
		case 'p':
			opt_pwfile = optarg;
			break;
		case 'l':
			opt_log = optarg;
			break;
		case 'g':
			if (parse_size(optarg, &win_w, &win_h)) {
				fprintf(stderr, "pixelgate-viewer: --size: want WxH, got \"%s\"\n",
					optarg);
				return EXIT_USAGE;
			}
			size_given = true;
			break;
		case 'P':
			opt_play = optarg;
			break;
		case 'D':
			opt_audit_dir = optarg;
			play_opt = true;
			break;
		case 'K':
			opt_audit_key = optarg;
			play_opt = true;
			break;
		case 'A': {
			char *end;
			opt_at = strtod(optarg, &end);
			if (*end != '\0' || !(opt_at >= 0 && opt_at <= 1e7)) {
				fprintf(
				    stderr,
				    "pixelgate-viewer: --at: want seconds from the start, got \"%s\"\n",
				    optarg);
				return EXIT_USAGE;
			}
			play_opt = true;
			break;
		}
		case 'S':
			opt_paused = true;
			play_opt = true;
			break;
		case 'U':
			opt_unverified = true;
			play_opt = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pixelgate-viewer %s\n", PIXELGATE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || (play_opt && !opt_play) ||
	    (opt_play && (opt_server || opt_ca || opt_user || opt_pwfile))) {
		if (play_opt && !opt_play)
			fprintf(stderr,
				"pixelgate-viewer: --audit-dir, --audit-key, --at, --paused "
				"and --unverified go with --play\n");
		else if (opt_play && optind >= argc)
			fprintf(stderr,
				"pixelgate-viewer: --play shows a recording: no server, CA, "
				"user or password with it\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (opt_log)
		vlog_open(opt_log);
	if (locale_note[0])
		vlog("%s", locale_note);
	if (opt_play) {
#ifdef _WIN32
		(void)opt_audit_dir;
		(void)opt_audit_key;
		(void)opt_at;
		(void)opt_paused;
		(void)opt_unverified;
		(void)size_given;
		vlog("--play: the recording player is in the Linux viewer (where the recordings "
		     "and the audit log are)");
		vlog_close();
		return EXIT_USAGE;
#else
		struct vplayer_opts po = {
			.file = opt_play,
			.audit_dir = opt_audit_dir ? opt_audit_dir : VPLAYER_AUDIT_DIR,
			.audit_key = opt_audit_key ? opt_audit_key : VPLAYER_AUDIT_KEY,
			.at_s = opt_at,
			.paused = opt_paused,
			.unverified = opt_unverified,
			.win_w = size_given ? win_w : 0,
			.win_h = size_given ? win_h : 0,
		};
		struct viewer_config pcfg;
		char perr[512];

		/* the language of the messages, as the staff viewer's */
		if (load_config(&pcfg, perr, sizeof perr) == 0)
			text_set_language(pcfg.language);
		SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
		status = vplayer_run(&po);
		vlog_close();
		return status;
#endif
	}

	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	a->form = calloc(1, sizeof(*a->form));
	if (!a->form) {
		free(a);
		return 1;
	}
	/* the form holds the password: keep it out of swap */
	if (pgc_mem_lock(a->form, sizeof(*a->form)))
		vlog("warning: cannot lock the password in memory: %s", strerror(errno));

	cfg_failed = load_config(&a->cfg, cfg_err, sizeof(cfg_err)) != 0;
	if (opt_server)
		snprintf(a->cfg.server, sizeof(a->cfg.server), "%s", opt_server);
	if (opt_ca)
		snprintf(a->cfg.ca_file, sizeof(a->cfg.ca_file), "%s", opt_ca);
	if (opt_user)
		snprintf(a->cfg.user, sizeof(a->cfg.user), "%s", opt_user);
	text_set_language(a->cfg.language);
	vform_init(a->form, a->cfg.server);
	snprintf(a->form->user, sizeof(a->form->user), "%s", a->cfg.user);
	a->form->focus = a->form->user[0] ? VF_PASSWORD : VF_USER;
	check_settings(a);
	if (cfg_failed) {
		/* IT has to fix the file: say so in the window, do not log in */
		vform_set_message(a->form, text_get(TEXT_ERR_NO_SERVER), true);
		vform_set_detail(a->form, cfg_err);
		a->form->can_submit = false;
		a->server_ok = false;
	}
	if (opt_pwfile) {
		if (!a->form->user[0]) {
			vlog("--password-file needs a user (--user or user = in the config)");
			status = EXIT_USAGE;
			goto out;
		}
		if (read_password_file(opt_pwfile, a->form->password, sizeof(a->form->password))) {
			status = EXIT_USAGE;
			goto out;
		}
		autologin = a->server_ok;
	}
	vlog("starting: server %s, user %s, messages in %s",
	     a->cfg.server[0] ? a->cfg.server : "(none)", a->cfg.user[0] ? a->cfg.user : "(none)",
	     text_is_japanese() ? "Japanese" : "English");

	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	SDL_SetHint(SDL_HINT_IME_SUPPORT_EXTENDED_TEXT, "1");
	SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
	SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
#ifdef _WIN32
	/* Windows' own IME: its composition and candidate windows are drawn by
	   Windows (SDL hides them unless asked), the committed text comes as
	   SDL_TEXTINPUT; and a sharp window on high-DPI screens */
	SDL_SetHint(SDL_HINT_IME_SHOW_UI, "1");
	SDL_SetHint(SDL_HINT_WINDOWS_DPI_AWARENESS, "permonitorv2");
#endif
	if (SDL_Init(SDL_INIT_VIDEO)) {
		vlog("cannot start SDL: %s", SDL_GetError());
		status = 1;
		goto out;
	}
	if (TTF_Init()) {
		vlog("cannot start SDL_ttf: %s", TTF_GetError());
		status = 1;
		goto out_sdl;
	}
	a->ev_session = SDL_RegisterEvents(1);
	if (a->ev_session == (uint32_t)-1) {
		vlog("no SDL user event left");
		status = 1;
		goto out_ttf;
	}
	a->win = SDL_CreateWindow("pixelgate", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
				  win_w, win_h, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
	if (!a->win) {
		vlog("cannot open a window: %s", SDL_GetError());
		status = 1;
		goto out_ttf;
	}
	a->ren = SDL_CreateRenderer(a->win, -1, SDL_RENDERER_ACCELERATED);
	if (!a->ren)
		a->ren = SDL_CreateRenderer(a->win, -1, SDL_RENDERER_SOFTWARE);
	if (!a->ren) {
		vlog("cannot draw in the window: %s", SDL_GetError());
		status = 1;
		goto out_win;
	}
	{
		SDL_RendererInfo ri;

		if (SDL_GetRendererInfo(a->ren, &ri) == 0)
			vlog("renderer: %s", ri.name);
	}
	a->ui = vui_create(a->ren);
	if (!a->ui) {
		status = 1;
		goto out_ren;
	}
	vscreen_init(&a->screen, a->ren);
	vinput_init(&a->input);
	set_title(a, a->form->user);
	SDL_StartTextInput();
	set_ime_rect(a, vform_input_rect(a->form));
	a->view = VIEW_FORM;
	a->redraw = true;
	if (autologin)
		submit(a);

	while (!a->quit) {
		SDL_Event ev;

		if (a->redraw)
			render(a);
		if (!SDL_WaitEvent(&ev)) {
			vlog("waiting for events failed: %s", SDL_GetError());
			status = 1;
			break;
		}
		on_event(a, &ev);
		while (!a->quit && SDL_PollEvent(&ev))
			on_event(a, &ev);
	}
	vlog("exiting");
	SDL_HideWindow(a->win);
	vsession_free(a->s); /* closes the connection, wipes its credentials */
	a->s = NULL;
	SDL_StopTextInput();
	vscreen_free(&a->screen);
	vui_free(a->ui);
out_ren:
	SDL_DestroyRenderer(a->ren);
out_win:
	SDL_DestroyWindow(a->win);
out_ttf:
	TTF_Quit();
out_sdl:
	vsan_pin_libraries();
	SDL_Quit();
out:
	vform_wipe_password(a->form);
	pgc_mem_unlock(a->form, sizeof(*a->form));
	free(a->form);
	free(a);
	vlog_close();
	return status;
}
