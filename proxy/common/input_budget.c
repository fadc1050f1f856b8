/*
 * input_budget.c: the input budget of one viewer connection (input_budget.h).
 * Two token buckets (keys, pointer motion), a minimum gap between
 * non-incremental update requests, and the run of throttling that makes a
 * viewer abusive.
 */
#include "input_budget.h"

#include <string.h>

void input_budget_init(struct input_budget *b, int64_t now_ms)
{
	memset(b, 0, sizeof *b);
	b->key_tokens = INPUT_KEYS_BURST;
	b->pointer_tokens = INPUT_POINTER_BURST;
	b->refill_ms = now_ms;
	b->last_full_fbur_ms = -1;
	b->flood_since_ms = -1;
	b->last_throttle_ms = -1;
}

/* Add the tokens earned since the last refill (a clock that goes back earns none). */
static void budget_refill(struct input_budget *b, int64_t now_ms)
{
	if (now_ms <= b->refill_ms) {
		if (now_ms < b->refill_ms)
			b->refill_ms = now_ms;
		return;
	}
	double s = (double)(now_ms - b->refill_ms) / 1000.0;
	b->key_tokens += s * INPUT_KEYS_PER_S;
	if (b->key_tokens > INPUT_KEYS_BURST)
		b->key_tokens = INPUT_KEYS_BURST;
	b->pointer_tokens += s * INPUT_POINTER_PER_S;
	if (b->pointer_tokens > INPUT_POINTER_BURST)
		b->pointer_tokens = INPUT_POINTER_BURST;
	b->refill_ms = now_ms;
}

/* Note a throttle at now_ms: a run of them without a calm pause is a flood. */
static void budget_throttled(struct input_budget *b, int64_t now_ms)
{
	if (b->flood_since_ms < 0 || b->last_throttle_ms < 0 ||
	    now_ms - b->last_throttle_ms >= INPUT_CALM_MS)
		b->flood_since_ms = now_ms;
	b->last_throttle_ms = now_ms;
}

/* Milliseconds until a bucket holding tokens (< 1) has one, at rate per second. */
static int64_t budget_wait_ms(double tokens, int rate_per_s)
{
	double need = 1.0 - tokens;
	int64_t ms = (int64_t)(need * 1000.0 / rate_per_s) + 1;
	return ms < 1 ? 1 : ms;
}

enum input_verdict input_budget_key(struct input_budget *b, int64_t now_ms, int64_t *retry_ms)
{
	budget_refill(b, now_ms);
	if (b->key_tokens >= 1.0) {
		b->key_tokens -= 1.0;
		return INPUT_FORWARD;
	}
	*retry_ms = now_ms + budget_wait_ms(b->key_tokens, INPUT_KEYS_PER_S);
	b->counts.keys_delayed++;
	budget_throttled(b, now_ms);
	return INPUT_WAIT;
}

enum input_verdict input_budget_pointer(struct input_budget *b, bool buttons_changed,
					int64_t now_ms, int64_t *retry_ms)
{
	budget_refill(b, now_ms);
	if (buttons_changed) {
		/* a click is never held back; it still spends a token if there is one */
		if (b->pointer_tokens >= 1.0)
			b->pointer_tokens -= 1.0;
		return INPUT_FORWARD;
	}
	if (b->pointer_tokens >= 1.0) {
		b->pointer_tokens -= 1.0;
		return INPUT_FORWARD;
	}
	*retry_ms = now_ms + budget_wait_ms(b->pointer_tokens, INPUT_POINTER_PER_S);
	b->counts.pointer_coalesced++;
	budget_throttled(b, now_ms);
	return INPUT_COALESCE;
}

void input_budget_pointer_flushed(struct input_budget *b, int64_t now_ms)
{
	budget_refill(b, now_ms);
	if (b->pointer_tokens >= 1.0)
		b->pointer_tokens -= 1.0;
}

enum input_verdict input_budget_fbur(struct input_budget *b, bool incremental, int64_t now_ms)
{
	if (incremental)
		return INPUT_FORWARD;
	if (b->last_full_fbur_ms < 0 || now_ms - b->last_full_fbur_ms >= INPUT_FULL_FBUR_MIN_MS ||
	    now_ms < b->last_full_fbur_ms) {
		b->last_full_fbur_ms = now_ms;
		return INPUT_FORWARD;
	}
	b->counts.fbur_demoted++;
	budget_throttled(b, now_ms);
	return INPUT_DEMOTE;
}

int64_t input_budget_fbur_release_ms(int64_t last_sent_ms, bool answered, int64_t now_ms)
{
	if (answered || last_sent_ms <= 0)
		return now_ms;
	int64_t at = last_sent_ms + INPUT_FBUR_ANSWER_WAIT_MS;
	return at > now_ms ? at : now_ms;
}

bool input_budget_abusive(const struct input_budget *b, int64_t now_ms)
{
	if (b->flood_since_ms < 0 || b->last_throttle_ms < 0)
		return false;
	if (now_ms - b->last_throttle_ms >= INPUT_CALM_MS)
		return false; /* the flood ended */
	return b->last_throttle_ms - b->flood_since_ms >= INPUT_ABUSE_MS;
}
