/*
 * viewer_player.c: the recording player (viewer_player.h).
 *
 * One thread: SDL's events and the playback clock. While playing, the
 * clock (SDL_GetTicks64() times the speed) moves the place, and
 * pgc_rec_goto() decodes every message stamped up to it; the loop sleeps in
 * SDL_WaitEventTimeout() until the next message is due (or 100 ms, for the
 * time shown). Paused, it sleeps until an event. A seek back decodes from
 * the start (client_recording.h).
 */
#include "viewer_player.h"

#include <SDL2/SDL.h>
#include <SDL2/SDL_ttf.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_read.h"
#include "client_recording.h"
#include "viewer_geometry.h"
#include "viewer_log.h"
#include "viewer_sanitizer.h"
#include "viewer_text.h"
#include "viewer_ui.h"

#define VP_BAR_H 56        /* the controls under the picture */
#define VP_PANEL_W 340     /* the verification and the events, right of it */
#define VP_ROW_H 24        /* one event */
#define VP_STEP_US 5000000 /* Left/Right */
#define VP_TICK_MS 100     /* the time shown is redrawn this often while playing */

static const SDL_Color vp_white = { 235, 235, 235, 255 };
static const SDL_Color vp_grey = { 150, 150, 150, 255 };
static const SDL_Color vp_green = { 80, 200, 110, 255 };
static const SDL_Color vp_red = { 235, 70, 70, 255 };
static const SDL_Color vp_bg = { 32, 32, 36, 255 };
static const SDL_Color vp_hi = { 60, 80, 120, 255 };

struct vplayer {
	const struct vplayer_opts *o;
	struct pgc_rec *r;
	struct audit_recording rec;
	bool verified;
	char verdict[5200]; /* what the verification found, for the window */
	const char *base;   /* the file's name */

	SDL_Window *win;
	SDL_Renderer *ren;
	struct vui *ui;
	SDL_Texture *tex;
	int tex_w, tex_h;
	unsigned tex_gen; /* the recording's generation the texture shows */
	uint32_t tex_format;
	uint8_t *conv; /* for a pixel format SDL has no name for */

	int64_t pos_us; /* the place */
	bool playing;
	int speed;         /* 1..8 */
	uint64_t clock_ms; /* SDL_GetTicks64() when pos_us was last moved by the clock */
	int ev_top;        /* first event row shown */
	bool redraw;
	bool shown_logged; /* the frame at the place was presented and said so */
	bool quit;
	int status;
};

/* ---- verification -------------------------------------------------------- */

/* The place of event i, microseconds from the first message (0 before it). */
static int64_t vp_event_us(const struct vplayer *p, size_t i)
{
	/* in double: a hostile record's time cannot overflow */
	double t = (double)p->rec.events[i].unix_ms * 1000 - (double)p->r->start_us,
	       dur = (double)pgc_rec_duration_us(p->r);
	return t < 0 ? 0 : t > dur ? (int64_t)dur : (int64_t)t;
}

/*
 * Verify the chain, find the file's record, compare. Sets p->verified and
 * p->verdict, and p->rec (events) when the log could be read. 0, or -1 when
 * the log cannot be read at all.
 */
static int vp_verify(struct vplayer *p)
{
	static uint8_t key[AUDIT_KEY_MAX + 1];
	size_t keylen = 0;
	struct audit_log log;
	struct audit_verify v;
	struct audit_where w;
	char why[4400];
	enum audit_problem prob;

	if (audit_key_read(p->o->audit_key, key, &keylen, why, sizeof why) != 0) {
		snprintf(p->verdict, sizeof p->verdict, "the audit key cannot be read: %s", why);
		return -1;
	}
	if (audit_log_open(&log, p->o->audit_dir, NULL, 0, why, sizeof why) != 0) {
		OPENSSL_cleanse(key, sizeof key);
		snprintf(p->verdict, sizeof p->verdict, "the audit log cannot be read: %s", why);
		return -1;
	}
	prob = audit_verify_files(log.f, log.n, key, keylen, true, NULL, &v, &w, why, sizeof why);
	OPENSSL_cleanse(key, sizeof key);
	int found = audit_find_recording(&log, p->base, p->r->start_us / 1000 - 2000, &p->rec);
	if (found < 0) {
		snprintf(p->verdict, sizeof p->verdict, "out of memory reading the audit log");
	} else if (prob != AUDIT_OK) {
		snprintf(p->verdict, sizeof p->verdict,
			 "the audit log is not intact (%s, line %" PRIu64
			 " of %s: %s), so it cannot "
			 "vouch for the recording",
			 audit_problem_name(prob), w.line, log.n > 0 ? log.f[w.file].name : "",
			 why);
	} else if (found == 1) {
		snprintf(p->verdict, sizeof p->verdict,
			 "the audit log (%" PRIu64
			 " records, verified) has no \"recording\" record "
			 "of %s",
			 v.records, p->base);
	} else if (strcmp(p->rec.sha256, p->r->sha256) != 0 ||
		   json_integer_value(json_object_get(p->rec.record, "bytes")) !=
		       (json_int_t)p->r->bytes) {
		snprintf(p->verdict, sizeof p->verdict,
			 "the file (%" PRIu64
			 " bytes, SHA-256 %s) does not match its record in the "
			 "audit log (seq %" PRIu64 ": %" JSON_INTEGER_FORMAT " bytes, SHA-256 %s)",
			 p->r->bytes, p->r->sha256,
			 (uint64_t)json_integer_value(json_object_get(p->rec.record, "seq")),
			 json_integer_value(json_object_get(p->rec.record, "bytes")),
			 p->rec.sha256);
	} else {
		p->verified = true;
		snprintf(p->verdict, sizeof p->verdict,
			 "the SHA-256 %.16s... matches the audit log's recording record (seq %" PRIu64
			 ", session %s, user %s); the audit log verifies (%" PRIu64 " records)",
			 p->r->sha256,
			 (uint64_t)json_integer_value(json_object_get(p->rec.record, "seq")),
			 p->rec.session, p->rec.user, v.records);
	}
	audit_log_close(&log);
	return found < 0 ? -1 : 0;
}

/* ---- the picture --------------------------------------------------------- */

/* Upload the framebuffer when the recording's screen changed. */
static void vp_upload(struct vplayer *p)
{
	rfbClient *cl = p->r->cl;
	if (cl == NULL || cl->frameBuffer == NULL || p->tex_gen == p->r->generation)
		return;
	const rfbPixelFormat *pf = &cl->format;
	uint32_t fmt = SDL_PIXELFORMAT_UNKNOWN;
	if (pf->bitsPerPixel == 32 && pf->redMax == 255 && pf->greenMax == 255 &&
	    pf->blueMax == 255 && pf->greenShift == 8) {
		if (pf->redShift == 0 && pf->blueShift == 16)
			fmt = SDL_PIXELFORMAT_XBGR8888;
		else if (pf->redShift == 16 && pf->blueShift == 0)
			fmt = SDL_PIXELFORMAT_XRGB8888;
	}
	uint32_t want = fmt != SDL_PIXELFORMAT_UNKNOWN ? fmt : SDL_PIXELFORMAT_RGB24;
	if (p->tex == NULL || p->tex_w != cl->width || p->tex_h != cl->height ||
	    p->tex_format != want) {
		if (p->tex != NULL)
			SDL_DestroyTexture(p->tex);
		free(p->conv);
		p->conv = NULL;
		p->tex = SDL_CreateTexture(p->ren, want, SDL_TEXTUREACCESS_STREAMING, cl->width,
					   cl->height);
		if (p->tex == NULL) {
			vlog("play: cannot make a %dx%d picture: %s", cl->width, cl->height,
			     SDL_GetError());
			p->quit = true;
			p->status = 1;
			return;
		}
		p->tex_w = cl->width;
		p->tex_h = cl->height;
		p->tex_format = want;
	}
	if (fmt != SDL_PIXELFORMAT_UNKNOWN) {
		SDL_UpdateTexture(p->tex, NULL, cl->frameBuffer, cl->width * 4);
	} else {
		if (p->conv == NULL)
			p->conv = malloc((size_t)cl->width * (size_t)cl->height * 3);
		if (p->conv == NULL)
			return;
		for (int y = 0; y < cl->height; y++)
			for (int x = 0; x < cl->width; x++)
				pgc_rec_rgb(p->r, x, y, p->conv + ((size_t)y * cl->width + x) * 3);
		SDL_UpdateTexture(p->tex, NULL, p->conv, cl->width * 3);
	}
	p->tex_gen = p->r->generation;
}

/* ---- layout -------------------------------------------------------------- */

struct vp_layout {
	SDL_Rect picture_area, bar, panel;
	SDL_Rect play, speed, track;
	int rows_y; /* first event row */
	int rows;   /* rows that fit */
};

static struct vp_layout vp_layout(struct vplayer *p)
{
	struct vp_layout l;
	int w, h;
	SDL_GetRendererOutputSize(p->ren, &w, &h);
	int panel_w = w > VP_PANEL_W * 2 ? VP_PANEL_W : 0;
	l.picture_area = (SDL_Rect){ 0, 0, w - panel_w, h - VP_BAR_H };
	l.bar = (SDL_Rect){ 0, h - VP_BAR_H, w - panel_w, VP_BAR_H };
	l.panel = (SDL_Rect){ w - panel_w, 0, panel_w, h };
	l.play = (SDL_Rect){ l.bar.x + 10, l.bar.y + 10, 40, 36 };
	l.speed = (SDL_Rect){ l.bar.x + 60, l.bar.y + 10, 48, 36 };
	int track_x = l.bar.x + 300;
	l.track = (SDL_Rect){ track_x, l.bar.y + 22, l.bar.w - track_x - 16, 12 };
	if (l.track.w < 20)
		l.track.w = 20;
	/* verification text, heading, then the rows */
	int used = 10 +
	    vui_text_wrapped(p->ui, VUI_SMALL, p->verdict, 0, 0, panel_w - 20, vp_white, false);
	used += vui_text_wrapped(p->ui, VUI_SMALL,
				 text_get(p->verified ? TEXT_PLAY_VERIFIED
						      : TEXT_PLAY_NOT_VERIFIED),
				 0, 0, panel_w - 20, vp_white, false);
	l.rows_y = used + 20 + vui_line_height(p->ui, VUI_BODY) + 6;
	l.rows = (h - l.rows_y - vui_line_height(p->ui, VUI_SMALL) * 2 - 10) / VP_ROW_H;
	if (l.rows < 0)
		l.rows = 0;
	return l;
}

static bool vp_in(const SDL_Rect *r, int x, int y)
{
	return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

/* "mm:ss.t" (or "h:mm:ss.t") of t microseconds. */
static void vp_time(int64_t t, char *out, size_t len)
{
	int64_t ds = t / 100000, s = ds / 10;
	if (s >= 3600)
		snprintf(out, len, "%d:%02d:%02d.%d", (int)(s / 3600), (int)(s / 60 % 60),
			 (int)(s % 60), (int)(ds % 10));
	else
		snprintf(out, len, "%02d:%02d.%d", (int)(s / 60), (int)(s % 60), (int)(ds % 10));
}

/* The last event at or before the place, or -1. */
static long vp_current_event(const struct vplayer *p)
{
	long cur = -1;
	for (size_t i = 0; i < p->rec.nevents && vp_event_us(p, i) <= p->pos_us; i++)
		cur = (long)i;
	return cur;
}

/* ---- drawing ------------------------------------------------------------- */

static void vp_render(struct vplayer *p)
{
	struct vp_layout l = vp_layout(p);
	char t[64], d[64], line[400];
	int64_t dur = pgc_rec_duration_us(p->r);

	SDL_SetRenderDrawColor(p->ren, 0, 0, 0, 255);
	SDL_RenderClear(p->ren);
	vp_upload(p);
	if (p->tex != NULL) {
		struct geo_rect g = geometry_fit(l.picture_area.w, l.picture_area.h, p->tex_w,
						 p->tex_h);
		SDL_Rect dst = { l.picture_area.x + g.x, l.picture_area.y + g.y, g.w, g.h };
		/* one screen pixel per window pixel when it fits: exactly the recording's */
		SDL_SetTextureScaleMode(p->tex,
					g.w == p->tex_w && g.h == p->tex_h ? SDL_ScaleModeNearest
									   : SDL_ScaleModeLinear);
		SDL_RenderCopy(p->ren, p->tex, NULL, &dst);
	}
	/* the controls */
	vui_fill(p->ui, &l.bar, vp_bg);
	vui_frame(p->ui, &l.play, vp_grey, 1);
	if (p->playing) {
		SDL_Rect a = { l.play.x + 12, l.play.y + 9, 6, 18 },
			 b = { l.play.x + 23, l.play.y + 9, 6, 18 };
		vui_fill(p->ui, &a, vp_white);
		vui_fill(p->ui, &b, vp_white);
	} else {
		SDL_SetRenderDrawColor(p->ren, vp_white.r, vp_white.g, vp_white.b, 255);
		for (int i = 0; i < 18; i++) {
			int half = i < 9 ? i : 17 - i;
			SDL_RenderDrawLine(p->ren, l.play.x + 14, l.play.y + 9 + i,
					   l.play.x + 14 + half * 14 / 9, l.play.y + 9 + i);
		}
	}
	vui_frame(p->ui, &l.speed, vp_grey, 1);
	snprintf(t, sizeof t, "%d×", p->speed);
	vui_text(p->ui, VUI_BODY, t, l.speed.x + 10, l.speed.y + 6, vp_white);
	vp_time(p->pos_us, t, sizeof t);
	vp_time(dur, d, sizeof d);
	snprintf(line, sizeof line, "%s / %s", t, d);
	vui_text(p->ui, VUI_BODY, line, l.speed.x + l.speed.w + 14, l.bar.y + 16, vp_white);
	SDL_Rect track = l.track;
	vui_fill(p->ui, &track, (SDL_Color){ 70, 70, 76, 255 });
	if (dur > 0) {
		SDL_Rect done = track;
		done.w = (int)((double)track.w * (double)p->pos_us / (double)dur);
		vui_fill(p->ui, &done, (SDL_Color){ 90, 140, 230, 255 });
		for (size_t i = 0; i < p->rec.nevents; i++) {
			SDL_Rect mark = { track.x +
					      (int)((double)(track.w - 2) *
						    (double)vp_event_us(p, i) / (double)dur),
					  track.y - 5, 2, track.h + 10 };
			vui_fill(p->ui, &mark, vp_white);
		}
	}
	/* the verification and the events */
	if (l.panel.w > 0) {
		int x = l.panel.x + 10, y = 10, wrap = l.panel.w - 20;
		vui_fill(p->ui, &l.panel, vp_bg);
		y += vui_text_wrapped(p->ui, VUI_SMALL,
				      text_get(p->verified ? TEXT_PLAY_VERIFIED
							   : TEXT_PLAY_NOT_VERIFIED),
				      x, y, wrap, p->verified ? vp_green : vp_red, true);
		y += vui_text_wrapped(p->ui, VUI_SMALL, p->verdict, x, y, wrap,
				      p->verified ? vp_grey : vp_red, true);
		y += 20;
		vui_text(p->ui, VUI_BODY, text_get(TEXT_PLAY_EVENTS), x, y, vp_white);
		long cur = vp_current_event(p);
		SDL_Rect clip = { l.panel.x, l.rows_y, l.panel.w, l.rows * VP_ROW_H };
		vui_clip(p->ui, &clip);
		for (int row = 0; row < l.rows && (size_t)(p->ev_top + row) < p->rec.nevents;
		     row++) {
			size_t i = (size_t)(p->ev_top + row);
			SDL_Rect r = { l.panel.x, l.rows_y + row * VP_ROW_H, l.panel.w, VP_ROW_H };
			if ((long)i == cur)
				vui_fill(p->ui, &r, vp_hi);
			vp_time(vp_event_us(p, i), t, sizeof t);
			snprintf(line, sizeof line, "%s  %s  %s", t, p->rec.events[i].event,
				 p->rec.events[i].detail);
			vui_text(p->ui, VUI_SMALL, line, x, r.y + 2, vp_white);
		}
		vui_clip(p->ui, NULL);
		if (p->rec.events_left_out > 0) {
			snprintf(line, sizeof line, "+ %zu", p->rec.events_left_out);
			vui_text(p->ui, VUI_SMALL, line, x,
				 l.panel.h - vui_line_height(p->ui, VUI_SMALL) * 3 - 6, vp_red);
		}
		vui_text_wrapped(p->ui, VUI_SMALL, text_get(TEXT_PLAY_KEYS), x,
				 l.panel.h - vui_line_height(p->ui, VUI_SMALL) * 2 - 6, wrap,
				 vp_grey, true);
	}
	if (!p->verified) {
		/* on the picture too: nobody mistakes it for a verified one */
		SDL_Rect band = { 0, 0, l.picture_area.w, 30 };
		vui_fill(p->ui, &band, (SDL_Color){ 160, 0, 0, 200 });
		vui_text(p->ui, VUI_BODY, text_get(TEXT_PLAY_NOT_VERIFIED), 10, 3, vp_white);
	}
	SDL_RenderPresent(p->ren);
	p->redraw = false;
	if (!p->shown_logged && p->tex_gen == p->r->generation) {
		/* the test harness captures the window after this line */
		vlog("play: shown at %.3f s", (double)p->pos_us / 1e6);
		p->shown_logged = true;
	}
}

/* ---- control ------------------------------------------------------------- */

/* Move the place to t (clamped) and decode up to it. */
static void vp_seek(struct vplayer *p, int64_t t, const char *why)
{
	char err[256];
	int64_t dur = pgc_rec_duration_us(p->r);
	if (t < 0)
		t = 0;
	if (t > dur)
		t = dur;
	p->pos_us = t;
	p->clock_ms = SDL_GetTicks64();
	if (pgc_rec_goto(p->r, t, err, sizeof err) != 0) {
		vlog("play: %s: %s", p->o->file, err);
		p->quit = true;
		p->status = 1;
		return;
	}
	vlog("play: at %.3f s (%s, %s, speed %d)", (double)t / 1e6, why,
	     p->playing ? "playing" : "paused", p->speed);
	p->shown_logged = false;
	p->redraw = true;
}

static void vp_toggle(struct vplayer *p)
{
	if (!p->playing && p->pos_us >= pgc_rec_duration_us(p->r))
		p->pos_us = 0; /* play again from the start */
	p->playing = !p->playing;
	vp_seek(p, p->pos_us, p->playing ? "play" : "pause");
}

static void vp_jump_event(struct vplayer *p, size_t i)
{
	char why[64];
	snprintf(why, sizeof why, "event %zu: %s", i + 1, p->rec.events[i].event);
	vp_seek(p, vp_event_us(p, i), why);
}

static void vp_key(struct vplayer *p, const SDL_KeyboardEvent *k)
{
	SDL_Keycode c = k->keysym.sym;
	long cur = vp_current_event(p);
	if (c == SDLK_SPACE || c == SDLK_k) {
		vp_toggle(p);
	} else if (c == SDLK_LEFT) {
		vp_seek(p, p->pos_us - VP_STEP_US, "back 5 s");
	} else if (c == SDLK_RIGHT) {
		vp_seek(p, p->pos_us + VP_STEP_US, "forward 5 s");
	} else if (c == SDLK_HOME) {
		vp_seek(p, 0, "start");
	} else if (c == SDLK_END) {
		vp_seek(p, pgc_rec_duration_us(p->r), "end");
	} else if (c >= SDLK_1 && c <= SDLK_8) {
		p->speed = (int)(c - SDLK_0);
		vp_seek(p, p->pos_us, "speed");
	} else if (c == SDLK_DOWN && p->rec.nevents > 0) {
		/* the next event after the place */
		size_t i = cur < 0 ? 0 : (size_t)cur;
		while (i < p->rec.nevents && vp_event_us(p, i) <= p->pos_us)
			i++;
		if (i < p->rec.nevents)
			vp_jump_event(p, i);
	} else if (c == SDLK_UP && cur >= 0) {
		/* the event before the current one (or the current one, if past it) */
		size_t i = (size_t)cur;
		if (vp_event_us(p, i) == p->pos_us && i > 0)
			i--;
		vp_jump_event(p, i);
	} else if (c == SDLK_ESCAPE || c == SDLK_q) {
		p->quit = true;
	}
}

static void vp_click(struct vplayer *p, int wx, int wy)
{
	struct vp_layout l = vp_layout(p);
	int ox, oy, w, h, ow, oh;
	/* window to output coordinates (high-DPI) */
	SDL_GetWindowSize(p->win, &w, &h);
	SDL_GetRendererOutputSize(p->ren, &ow, &oh);
	ox = w > 0 ? wx * ow / w : wx;
	oy = h > 0 ? wy * oh / h : wy;
	if (vp_in(&l.play, ox, oy)) {
		vp_toggle(p);
	} else if (vp_in(&l.speed, ox, oy)) {
		p->speed = p->speed >= 8 ? 1 : p->speed * 2;
		vp_seek(p, p->pos_us, "speed");
	} else if (ox >= l.track.x && ox < l.track.x + l.track.w && oy >= l.bar.y) {
		int64_t dur = pgc_rec_duration_us(p->r);
		vp_seek(p,
			(int64_t)((double)(ox - l.track.x) * (double)dur /
				  (double)(l.track.w > 1 ? l.track.w - 1 : 1)),
			"seek bar");
	} else if (l.panel.w > 0 && vp_in(&l.panel, ox, oy) && oy >= l.rows_y) {
		int row = (oy - l.rows_y) / VP_ROW_H;
		if (row < l.rows && (size_t)(p->ev_top + row) < p->rec.nevents)
			vp_jump_event(p, (size_t)(p->ev_top + row));
	}
}

static void vp_event(struct vplayer *p, const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_QUIT:
		p->quit = true;
		break;
	case SDL_KEYDOWN:
		vp_key(p, &ev->key);
		break;
	case SDL_MOUSEBUTTONDOWN:
		if (ev->button.button == SDL_BUTTON_LEFT)
			vp_click(p, ev->button.x, ev->button.y);
		break;
	case SDL_MOUSEWHEEL: {
		struct vp_layout l = vp_layout(p);
		p->ev_top -= ev->wheel.y * 3;
		if (p->ev_top > (int)p->rec.nevents - l.rows)
			p->ev_top = (int)p->rec.nevents - l.rows;
		if (p->ev_top < 0)
			p->ev_top = 0;
		p->redraw = true;
		break;
	}
	case SDL_WINDOWEVENT:
		p->redraw = true;
		break;
	default:
		break;
	}
}

/* Advance the clock while playing. */
static void vp_tick(struct vplayer *p)
{
	if (!p->playing)
		return;
	uint64_t now = SDL_GetTicks64();
	int64_t dur = pgc_rec_duration_us(p->r), t = p->pos_us;
	t += (int64_t)(now - p->clock_ms) * 1000 * p->speed;
	p->clock_ms = now;
	char err[256];
	if (t >= dur) {
		t = dur;
		p->playing = false;
	}
	p->pos_us = t;
	if (pgc_rec_goto(p->r, t, err, sizeof err) != 0) {
		vlog("play: %s: %s", p->o->file, err);
		p->quit = true;
		p->status = 1;
		return;
	}
	if (!p->playing)
		vlog("play: at %.3f s (the end, paused, speed %d)", (double)t / 1e6, p->speed);
	p->redraw = true;
}

/* How long to sleep: until the next message is due, at most VP_TICK_MS; -1 paused. */
static int vp_wait_ms(const struct vplayer *p)
{
	if (!p->playing)
		return -1;
	int64_t next = pgc_rec_next_us(p->r), ms = VP_TICK_MS;
	if (next >= 0) {
		int64_t due = (next - p->pos_us) / 1000 / p->speed;
		if (due < ms)
			ms = due < 1 ? 1 : due;
	}
	return (int)ms;
}

/* ---- start and end ------------------------------------------------------- */

static int vp_window(struct vplayer *p)
{
	int w = p->o->win_w, h = p->o->win_h;
	char title[600];
	if (w <= 0 || h <= 0) {
		SDL_Rect usable;
		w = p->r->cl->width + VP_PANEL_W;
		h = p->r->cl->height + VP_BAR_H;
		if (SDL_GetDisplayUsableBounds(0, &usable) == 0) {
			if (w > usable.w)
				w = usable.w;
			if (h > usable.h)
				h = usable.h;
		}
	}
	snprintf(title, sizeof title, "pixelgate playback: %s", p->base);
	p->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
				  SDL_WINDOW_RESIZABLE);
	if (p->win == NULL) {
		vlog("play: cannot open a window: %s", SDL_GetError());
		return -1;
	}
	SDL_SetWindowTitle(p->win, title); /* WM_NAME too (xdotool search --name) */
	p->ren = SDL_CreateRenderer(p->win, -1, SDL_RENDERER_ACCELERATED);
	if (p->ren == NULL)
		p->ren = SDL_CreateRenderer(p->win, -1, SDL_RENDERER_SOFTWARE);
	if (p->ren == NULL) {
		vlog("play: cannot draw in the window: %s", SDL_GetError());
		return -1;
	}
	p->ui = vui_create(p->ren);
	return p->ui != NULL ? 0 : -1;
}

int vplayer_run(const struct vplayer_opts *o)
{
	struct vplayer *p = calloc(1, sizeof *p);
	char why[512];
	int status = 1;
	if (p == NULL)
		return 1;
	p->o = o;
	p->speed = 1;
	p->base = strrchr(o->file, '/') != NULL ? strrchr(o->file, '/') + 1 : o->file;
	p->r = pgc_rec_open(o->file, why, sizeof why);
	if (p->r == NULL) {
		vlog("play: %s: refused, it does not pass the gateway's check of what a viewer may "
		     "be sent: %s",
		     o->file, why);
		goto out;
	}
	vlog("play: %s: %zu messages, %.3f s, %" PRIu64 " bytes, SHA-256 %s", o->file, p->r->n,
	     (double)pgc_rec_duration_us(p->r) / 1e6, p->r->bytes, p->r->sha256);
	vp_verify(p);
	if (p->verified) {
		vlog("play: verified: %s", p->verdict);
	} else if (o->unverified) {
		vlog("play: NOT VERIFIED, played as asked (--unverified): %s", p->verdict);
	} else {
		vlog("play: refused: %s (--unverified plays it anyway, marked NOT VERIFIED)",
		     p->verdict);
		goto out;
	}
	vlog("play: %zu audit events of session %s while it was recorded", p->rec.nevents,
	     p->rec.session[0] ? p->rec.session : "(unknown)");
	if (p->rec.events_left_out > 0)
		vlog("play: %zu more events of the session are not listed (at most %d are)",
		     p->rec.events_left_out, AUDIT_EVENTS_MAX);

	if (SDL_Init(SDL_INIT_VIDEO) != 0) {
		vlog("play: cannot start SDL: %s", SDL_GetError());
		goto out;
	}
	if (TTF_Init() != 0) {
		vlog("play: cannot start SDL_ttf: %s", TTF_GetError());
		goto out_sdl;
	}
	if (vp_window(p) != 0)
		goto out_win;
	p->playing = !o->paused;
	vp_seek(p, (int64_t)(o->at_s * 1e6), "start");
	status = 0;
	while (!p->quit) {
		SDL_Event ev;
		if (p->redraw)
			vp_render(p);
		int wait = vp_wait_ms(p);
		bool got = wait < 0 ? SDL_WaitEvent(&ev) : SDL_WaitEventTimeout(&ev, wait);
		if (got) {
			vp_event(p, &ev);
			while (!p->quit && SDL_PollEvent(&ev))
				vp_event(p, &ev);
		}
		vp_tick(p);
	}
	if (p->status != 0)
		status = p->status;
	vlog("play: closed");
out_win:
	if (p->tex != NULL)
		SDL_DestroyTexture(p->tex);
	vui_free(p->ui);
	if (p->ren != NULL)
		SDL_DestroyRenderer(p->ren);
	if (p->win != NULL)
		SDL_DestroyWindow(p->win);
	TTF_Quit();
out_sdl:
	vsan_pin_libraries(); /* before SDL unloads them (viewer_sanitizer.c) */
	SDL_Quit();
out:
	free(p->conv);
	audit_recording_free(&p->rec);
	pgc_rec_close(p->r);
	free(p);
	return status;
}
