/*
 * viewer_form.c: the login form (see viewer_form.h).
 */
#include "pgc_platform.h"
#include "viewer_form.h"

#include <stdio.h>
#include <string.h>

#include "viewer_text.h"

#define FORM_W_MAX 520
#define FIELD_H 40
#define BUTTON_H 44
#define PAD 28
#define GAP 10

static const SDL_Color col_bg = { 229, 231, 235, 255 };
static const SDL_Color col_panel = { 255, 255, 255, 255 };
static const SDL_Color col_text = { 31, 41, 55, 255 };
static const SDL_Color col_muted = { 75, 85, 99, 255 };
static const SDL_Color col_border = { 156, 163, 175, 255 };
static const SDL_Color col_focus = { 37, 99, 235, 255 };
static const SDL_Color col_button = { 37, 99, 235, 255 };
static const SDL_Color col_button_off = { 156, 163, 175, 255 };
static const SDL_Color col_white = { 255, 255, 255, 255 };
static const SDL_Color col_error = { 185, 28, 28, 255 };
static const SDL_Color col_preedit = { 30, 64, 175, 255 };

void vform_init(struct vform *f, const char *server)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->server, sizeof(f->server), "%s", server);
	f->focus = VF_USER;
	f->can_submit = true;
}

void vform_set_message(struct vform *f, const char *message, bool is_error)
{
	snprintf(f->message, sizeof(f->message), "%s", message ? message : "");
	f->message_is_error = is_error;
	f->detail[0] = '\0';
}

void vform_set_detail(struct vform *f, const char *detail)
{
	snprintf(f->detail, sizeof(f->detail), "%s", detail ? detail : "");
}

void vform_wipe_password(struct vform *f)
{
	pgc_secure_zero(f->password, sizeof(f->password));
	pgc_secure_zero(f->otp, sizeof(f->otp));
	pgc_secure_zero(f->preedit, sizeof(f->preedit));
}

/* The focused text field's buffer and size, or NULL on the button. */
static char *focused_field(struct vform *f, size_t *size)
{
	if (f->focus == VF_USER) {
		*size = sizeof(f->user);
		return f->user;
	}
	if (f->focus == VF_PASSWORD) {
		*size = sizeof(f->password);
		return f->password;
	}
	if (f->focus == VF_OTP) {
		*size = sizeof(f->otp);
		return f->otp;
	}
	*size = 0;
	return NULL;
}

/* Appends UTF-8 text to the focused field (whole code points only; control
   characters are dropped). True if something was added. */
static bool field_append(struct vform *f, const char *text)
{
	size_t size, len;
	char *buf = focused_field(f, &size);
	bool added = false;

	if (!buf)
		return false;
	len = strlen(buf);
	while (*text) {
		size_t n = 1;

		while ((text[n] & 0xc0) == 0x80)
			n++;
		char digit = 0;

		if (buf == f->otp) {
			/* the code: digits only; an IME's full-width ０-９ count as 0-9 */
			if (n == 1 && text[0] >= '0' && text[0] <= '9')
				digit = text[0];
			else if (n == 3 && (unsigned char)text[0] == 0xef &&
				 (unsigned char)text[1] == 0xbc && (unsigned char)text[2] >= 0x90 &&
				 (unsigned char)text[2] <= 0x99)
				digit = (char)('0' + ((unsigned char)text[2] - 0x90));
			if (!digit) {
				text += n;
				continue;
			}
		} else if ((unsigned char)text[0] < 0x20 || text[0] == 0x7f) {
			text += n;
			continue;
		}
		if (len + (digit ? 1 : n) >= size)
			break;
		if (digit)
			buf[len] = digit;
		else
			memcpy(buf + len, text, n);
		len += digit ? 1 : n;
		buf[len] = '\0';
		text += n;
		added = true;
	}
	return added;
}

/* Removes the last code point of the focused field. */
static bool field_backspace(struct vform *f)
{
	size_t size, len;
	char *buf = focused_field(f, &size);

	if (!buf || !buf[0])
		return false;
	len = strlen(buf);
	do
		len--;
	while (len > 0 && (buf[len] & 0xc0) == 0x80);
	pgc_secure_zero(buf + len, size - len);
	return true;
}

/* Pastes the first line of the local clipboard into the focused field. */
static bool field_paste(struct vform *f)
{
	char *clip = SDL_GetClipboardText();
	bool added;

	if (!clip)
		return false;
	clip[strcspn(clip, "\r\n")] = '\0';
	added = field_append(f, clip);
	pgc_secure_zero(clip, strlen(clip));
	SDL_free(clip);
	return added;
}

static bool in_rect(const SDL_Rect *r, int x, int y)
{
	return x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h;
}

enum vform_action vform_event(struct vform *f, const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_TEXTINPUT:
		if (f->busy)
			return VFA_NONE;
		f->preedit[0] = '\0';
		field_append(f, ev->text.text);
		return VFA_REDRAW;
	case SDL_TEXTEDITING:
		if (f->busy)
			return VFA_NONE;
		snprintf(f->preedit, sizeof(f->preedit), "%s", ev->edit.text);
		return VFA_REDRAW;
	case SDL_KEYDOWN: {
		SDL_Keycode k = ev->key.keysym.sym;
		Uint16 mod = ev->key.keysym.mod;

		if (k == SDLK_TAB) {
			int step = (mod & KMOD_SHIFT) ? VF_COUNT - 1 : 1;

			f->preedit[0] = '\0';
			do /* the code field only when it is shown */
				f->focus = (enum vform_focus)(((int)f->focus + step) % VF_COUNT);
			while (f->focus == VF_OTP && !f->want_otp);
			return VFA_REDRAW;
		}
		if (f->busy)
			return VFA_NONE;
		if ((k == SDLK_RETURN || k == SDLK_KP_ENTER ||
		     (k == SDLK_SPACE && f->focus == VF_BUTTON)) &&
		    !f->preedit[0])
			return f->can_submit ? VFA_SUBMIT : VFA_NONE;
		if (k == SDLK_BACKSPACE && !f->preedit[0])
			return field_backspace(f) ? VFA_REDRAW : VFA_NONE;
		if (k == SDLK_v && (mod & KMOD_CTRL))
			return field_paste(f) ? VFA_REDRAW : VFA_NONE;
		return VFA_NONE;
	}
	case SDL_MOUSEBUTTONDOWN:
		if (ev->button.button != SDL_BUTTON_LEFT)
			return VFA_NONE;
		if (in_rect(&f->r_user, ev->button.x, ev->button.y)) {
			f->focus = VF_USER;
			return VFA_REDRAW;
		}
		if (in_rect(&f->r_password, ev->button.x, ev->button.y)) {
			f->focus = VF_PASSWORD;
			return VFA_REDRAW;
		}
		if (f->want_otp && in_rect(&f->r_otp, ev->button.x, ev->button.y)) {
			f->focus = VF_OTP;
			return VFA_REDRAW;
		}
		if (in_rect(&f->r_button, ev->button.x, ev->button.y) && !f->busy) {
			f->focus = VF_BUTTON;
			return f->can_submit ? VFA_SUBMIT : VFA_REDRAW;
		}
		return VFA_NONE;
	default:
		return VFA_NONE;
	}
}

/* Draws one text field: its content (the tail if it is too long), the
   composition underlined, and a caret when focused. */
static void draw_field(struct vform *f, struct vui *u, const SDL_Rect *r, const char *content,
		       bool focused)
{
	SDL_Rect inner = { r->x + 10, r->y, r->w - 20, r->h };
	int tw, th, pw = 0, ph, x, y;

	vui_fill(u, r, col_white);
	vui_frame(u, r, focused ? col_focus : col_border, focused ? 2 : 1);
	vui_measure(u, VUI_BODY, content, &tw, &th);
	if (focused && f->preedit[0])
		vui_measure(u, VUI_BODY, f->preedit, &pw, &ph);
	x = inner.x;
	if (tw + pw + 2 > inner.w)
		x = inner.x + inner.w - (tw + pw + 2); /* show the end */
	y = r->y + (r->h - th) / 2;
	vui_clip(u, &inner);
	vui_text(u, VUI_BODY, content, x, y, col_text);
	if (focused && f->preedit[0]) {
		SDL_Rect ul = { x + tw, y + th - 2, pw, 2 };

		vui_text(u, VUI_BODY, f->preedit, x + tw, y, col_preedit);
		vui_fill(u, &ul, col_preedit);
	}
	if (focused) {
		SDL_Rect caret = { x + tw + pw, r->y + 8, 2, r->h - 16 };

		vui_fill(u, &caret, col_text);
	}
	vui_clip(u, NULL);
}

void vform_draw(struct vform *f, struct vui *u, int out_w, int out_h)
{
	SDL_Rect bg = { 0, 0, out_w, out_h }, panel, r;
	char mask[VSESSION_PASSWORD_MAX * 3 + 1];
	int w = out_w - 40 < FORM_W_MAX ? out_w - 40 : FORM_W_MAX;
	int body = vui_line_height(u, VUI_BODY), title = vui_line_height(u, VUI_TITLE);
	int inner_w, msg_h = 0, h, y, n;
	const char *p;

	if (w < 240)
		w = out_w;
	inner_w = w - 2 * PAD;
	if (f->message[0])
		msg_h = vui_text_wrapped(u, VUI_BODY, f->message, 0, 0, inner_w, col_text, false) +
		    GAP;
	if (f->detail[0])
		msg_h += vui_text_wrapped(u, VUI_SMALL, f->detail, 0, 0, inner_w, col_muted,
					  false) +
		    GAP;
	h = PAD + title + GAP + body + GAP + (f->want_otp ? 3 : 2) * (body + 4 + FIELD_H + GAP) +
	    GAP + BUTTON_H + GAP + msg_h + PAD;
	panel.w = w;
	panel.h = h;
	panel.x = (out_w - w) / 2;
	panel.y = out_h > h ? (out_h - h) / 2 : 0;

	vui_fill(u, &bg, col_bg);
	vui_fill(u, &panel, col_panel);
	vui_frame(u, &panel, col_border, 1);

	y = panel.y + PAD;
	vui_text(u, VUI_TITLE, text_get(TEXT_TITLE_LOGIN), panel.x + PAD, y, col_text);
	y += title + GAP;

	{
		char line[VIEWER_HOST_MAX + 64];

		snprintf(line, sizeof(line), "%s: %s", text_get(TEXT_LABEL_SERVER),
			 f->server[0] ? f->server : "-");
		vui_text(u, VUI_BODY, line, panel.x + PAD, y, col_muted);
	}
	y += body + GAP;

	vui_text(u, VUI_BODY, text_get(TEXT_LABEL_USER), panel.x + PAD, y, col_text);
	y += body + 4;
	f->r_user = (SDL_Rect){ panel.x + PAD, y, inner_w, FIELD_H };
	draw_field(f, u, &f->r_user, f->user, f->focus == VF_USER);
	y += FIELD_H + GAP;

	vui_text(u, VUI_BODY, text_get(TEXT_LABEL_PASSWORD), panel.x + PAD, y, col_text);
	y += body + 4;
	f->r_password = (SDL_Rect){ panel.x + PAD, y, inner_w, FIELD_H };
	/* one • per code point of the password */
	n = 0;
	for (p = f->password; *p; p++)
		if ((*p & 0xc0) != 0x80 && n + 3 < (int)sizeof(mask)) {
			memcpy(mask + n, "\xe2\x80\xa2", 3);
			n += 3;
		}
	mask[n] = '\0';
	draw_field(f, u, &f->r_password, mask, f->focus == VF_PASSWORD);
	y += FIELD_H + GAP;

	if (f->want_otp) {
		vui_text(u, VUI_BODY, text_get(TEXT_LABEL_OTP), panel.x + PAD, y, col_text);
		y += body + 4;
		f->r_otp = (SDL_Rect){ panel.x + PAD, y, inner_w, FIELD_H };
		draw_field(f, u, &f->r_otp, f->otp, f->focus == VF_OTP);
		y += FIELD_H + GAP;
	} else {
		f->r_otp = (SDL_Rect){ 0, 0, 0, 0 };
	}
	y += GAP;

	f->r_button = (SDL_Rect){ panel.x + PAD, y, inner_w, BUTTON_H };
	vui_fill(u, &f->r_button, f->can_submit && !f->busy ? col_button : col_button_off);
	if (f->focus == VF_BUTTON) {
		r = f->r_button;
		r.x -= 3;
		r.y -= 3;
		r.w += 6;
		r.h += 6;
		vui_frame(u, &r, col_focus, 2);
	}
	{
		int tw, th;

		vui_measure(u, VUI_BODY, text_get(TEXT_BUTTON_LOGIN), &tw, &th);
		vui_text(u, VUI_BODY, text_get(TEXT_BUTTON_LOGIN),
			 f->r_button.x + (f->r_button.w - tw) / 2,
			 f->r_button.y + (f->r_button.h - th) / 2, col_white);
	}
	y += BUTTON_H + GAP;

	if (f->message[0])
		y += vui_text_wrapped(u, VUI_BODY, f->message, panel.x + PAD, y, inner_w,
				      f->message_is_error ? col_error : col_text, true) +
		    GAP;
	if (f->detail[0])
		vui_text_wrapped(u, VUI_SMALL, f->detail, panel.x + PAD, y, inner_w, col_muted,
				 true);
}

SDL_Rect vform_input_rect(const struct vform *f)
{
	if (f->focus == VF_PASSWORD)
		return f->r_password;
	if (f->focus == VF_OTP)
		return f->r_otp;
	return f->r_user;
}
