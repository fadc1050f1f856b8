/*
 * input_budget.h: how much input one viewer connection may give its session.
 *
 * A person types a few keys a second and moves the mouse at the screen's
 * rate; a hostile or broken viewer can send millions of messages a second
 * and, with non-incremental FramebufferUpdateRequests back to back, keep its
 * worker encoding whole frames at 100 % CPU. The relay asks this module
 * about each message (gateway_relay.c) and:
 *   - KeyEvent: forwards it while the key bucket has a token, else stops
 *     reading the viewer until one is due (the viewer is slowed; no key is
 *     ever dropped or reordered);
 *   - PointerEvent: forwards every button change; pure motion beyond the
 *     pointer rate is coalesced (only the latest position goes out, when a
 *     token is due);
 *   - FramebufferUpdateRequest: at most one non-incremental request a second,
 *     later ones are demoted to incremental (the worker then sends only what
 *     changed). The relay also keeps at most one request outstanding at the
 *     worker (input_budget_fbur_release_ms()).
 * A viewer that has been throttled without a pause of INPUT_CALM_MS for
 * INPUT_ABUSE_MS is abusive: the relay closes it with 4001.
 *
 * Pure: the caller passes the time (monotonic milliseconds); no I/O.
 */
#ifndef PIXELGATE_INPUT_BUDGET_H
#define PIXELGATE_INPUT_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define INPUT_KEYS_PER_S 100    /* KeyEvents forwarded per second, sustained */
#define INPUT_KEYS_BURST 400    /* ... and at once (an IME commit of ~200 characters) */
#define INPUT_POINTER_PER_S 120 /* motion-only PointerEvents per second */
#define INPUT_POINTER_BURST 60
#define INPUT_FULL_FBUR_MIN_MS 1000 /* between two non-incremental requests */
#define INPUT_FBUR_ANSWER_WAIT_MS \
	250                  /* a request still unanswered after this no longer
					 holds the next one back */
#define INPUT_CALM_MS 1000   /* a throttle-free pause that ends a flood */
#define INPUT_ABUSE_MS 30000 /* throttled this long without a pause: abusive */

/* What to do with one message. */
enum input_verdict {
	INPUT_FORWARD,  /* send it to the worker now */
	INPUT_WAIT,     /* KeyEvent: keep it and everything after it; try again at *retry_ms */
	INPUT_COALESCE, /* PointerEvent: keep only the latest such; send it at *retry_ms */
	INPUT_DEMOTE,   /* FramebufferUpdateRequest: forward it as incremental */
};

/* Counters of what was throttled (for /metrics). */
struct input_budget_counts {
	uint64_t keys_delayed;      /* times reading stopped for the key rate */
	uint64_t pointer_coalesced; /* motion events replaced by a later one */
	uint64_t fbur_demoted;      /* non-incremental requests made incremental */
};

struct input_budget {
	double key_tokens;
	double pointer_tokens;
	int64_t refill_ms;         /* when the buckets were last refilled */
	int64_t last_full_fbur_ms; /* last non-incremental request forwarded; < 0 none */
	int64_t flood_since_ms;    /* start of the current run of throttling; < 0 none */
	int64_t last_throttle_ms;
	struct input_budget_counts counts;
};

/* A full budget at now_ms. */
void input_budget_init(struct input_budget *b, int64_t now_ms);

/* A KeyEvent: INPUT_FORWARD, or INPUT_WAIT with *retry_ms (> now_ms) set. */
enum input_verdict input_budget_key(struct input_budget *b, int64_t now_ms, int64_t *retry_ms);

/*
 * A PointerEvent; buttons_changed when its button mask differs from the last
 * one forwarded. INPUT_FORWARD, or INPUT_COALESCE with *retry_ms set.
 */
enum input_verdict input_budget_pointer(struct input_budget *b, bool buttons_changed,
					int64_t now_ms, int64_t *retry_ms);

/* A coalesced pointer event is being sent at its retry time (takes a token if any). */
void input_budget_pointer_flushed(struct input_budget *b, int64_t now_ms);

/* A FramebufferUpdateRequest: INPUT_FORWARD or INPUT_DEMOTE (non-incremental only). */
enum input_verdict input_budget_fbur(struct input_budget *b, bool incremental, int64_t now_ms);

/*
 * When a held request may go to the worker, given that the last one went at
 * last_sent_ms and is still unanswered (answered: now).
 */
int64_t input_budget_fbur_release_ms(int64_t last_sent_ms, bool answered, int64_t now_ms);

/* True once the viewer has been throttled for INPUT_ABUSE_MS without a calm pause. */
bool input_budget_abusive(const struct input_budget *b, int64_t now_ms);

#endif
