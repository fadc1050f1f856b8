/*
 * gateway_agent.c: the HAProxy agent-check port ("agent-check" protocol on
 * a raw TCP vhost; [admin] agent_check_address / agent_check_port).
 *
 * On connect the gateway writes one line and closes: "up ready NN%\n" with
 * NN the free capacity (so HAProxy weighs nodes by room left), "up drain\n"
 * while an administrator drains the node or it is full (terminals that
 * stick to it still come: their sessions are here), "down\n" when it is
 * stopping or while the audit log cannot be written (every login is
 * refused then). See admin_agent_text().
 * Whatever the peer sends (HAProxy's agent-send) is ignored.
 */
#include <stdio.h>
#include <string.h>

#include "admin_text.h"
#include "gateway.h"

#define AGENT_ANSWER_MAX 32 /* bytes of the one line */
#define AGENT_TIMEOUT_S 5   /* a peer that never lets us write is dropped */

void agent_answer(char *out, size_t outlen)
{
	if (gw->stopping) {
		snprintf(out, outlen, "down\n");
		return;
	}
	admin_agent_text(gw_logins_possible(), gw->draining, gw->limits.max_sessions,
			 session_count_live(), out, outlen);
}

int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, AGENT_TIMEOUT_S);
		lws_callback_on_writable(wsi);
		return 0;

	case LWS_CALLBACK_RAW_WRITEABLE: {
		uint8_t buf[LWS_PRE + AGENT_ANSWER_MAX];
		char *line = (char *)buf + LWS_PRE;
		agent_answer(line, AGENT_ANSWER_MAX);
		size_t n = strlen(line);
		(void)lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_RAW);
		return -1; /* one line, then close */
	}

	default:
		break;
	}
	return 0;
}
