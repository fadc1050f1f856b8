/*
 * gateway_admit.c: the one admission check (gateway.h, session_admit()), used
 * by the staff login before it issues a ticket and by the connect that
 * starts the session. Its own file so that the login's fuzz target compiles
 * it as it is.
 */
#include "gateway.h"

enum gw_admit session_admit(const char *user, bool new_session, int policy)
{
	if (new_session && session_count_user(user) >= (size_t)policy_max_sessions_per_user(policy))
		return GW_ADMIT_USER_LIMIT;
	if (gw->draining)
		return GW_ADMIT_DRAINING;
	if (gw->limits.max_sessions > 0 && session_count_live() >= (size_t)gw->limits.max_sessions)
		return GW_ADMIT_NODE_FULL;
	if (!session_uid_free() && pool_count() == 0) /* a pre-started one is claimed or ended */
		return GW_ADMIT_NO_UID;
	return GW_ADMIT_OK;
}

enum gw_refusal gw_admit_refusal(enum gw_admit a)
{
	switch (a) {
	case GW_ADMIT_USER_LIMIT:
		return GW_REFUSE_USER_LIMIT;
	case GW_ADMIT_DRAINING:
		return GW_REFUSE_DRAINING;
	case GW_ADMIT_NODE_FULL:
	case GW_ADMIT_NO_UID:
	case GW_ADMIT_OK:
		break;
	}
	return GW_REFUSE_NODE_FULL;
}
