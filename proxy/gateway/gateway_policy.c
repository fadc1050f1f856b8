/*
 * gateway_policy.c: the policy a session runs under (issue 14): the node's
 * ([limits], [policy], [session] home_page, [audit] recording), or a
 * directory group's ([group NAME] sections, config.h's struct
 * group_policy) over it. A directory user gets the first [group] whose
 * group they are in, in the file's order (ldap_auth.c reports the
 * membership with the sign-in); a local account gets the node's. The
 * number travels with the login's ticket to the session (0: the node's,
 * i + 1: [group] i, so that a zeroed grant or session is the node's) and
 * stays the session's for its life, reconnections included.
 */
#include <stdio.h>
#include <string.h>

#include "gateway.h"

const struct group_policy *policy_group(int policy)
{
	return policy >= 1 && policy <= gw->cfg.n_groups ? &gw->cfg.groups[policy - 1] : NULL;
}

int policy_of_groups(unsigned groups)
{
	for (int i = 0; i < gw->cfg.n_groups && i < CONFIG_GROUPS_MAX; i++)
		if (groups & (1u << i))
			return i + 1;
	return 0;
}

const char *policy_name(int policy)
{
	const struct group_policy *g = policy_group(policy);
	return g != NULL ? g->name : "";
}

int policy_max_sessions_per_user(int policy)
{
	const struct group_policy *g = policy_group(policy);
	return g != NULL && g->max_sessions_per_user >= 0 ? g->max_sessions_per_user
							  : gw->limits.max_sessions_per_user;
}

int policy_idle_timeout_s(int policy)
{
	const struct group_policy *g = policy_group(policy);
	return g != NULL && g->idle_timeout_s >= 0 ? g->idle_timeout_s : gw->limits.idle_timeout_s;
}

bool policy_clipboard_to_browser(int policy)
{
	const struct group_policy *g = policy_group(policy);
	return g != NULL && g->clipboard_to_browser >= 0 ? g->clipboard_to_browser == 1
							 : gw->cfg.clipboard_to_browser;
}

bool policy_clipboard_to_terminal(int policy)
{
	const struct group_policy *g = policy_group(policy);
	return g != NULL && g->clipboard_to_terminal >= 0 ? g->clipboard_to_terminal == 1
							  : gw->cfg.clipboard_to_terminal;
}

const char *policy_home_page(int policy)
{
	const struct group_policy *g = policy_group(policy);
	return g != NULL && g->home_page[0] != '\0' ? g->home_page : gw->cfg.home_page;
}

int policy_recording(int policy)
{
	const struct group_policy *g = policy_group(policy);
	return g != NULL ? g->recording : -1;
}

bool policy_takes_pool(int policy)
{
	const struct group_policy *g = policy_group(policy);
	/* a pre-started browser has the node's URL lists, set when its cell was
	   made, and its worker the node's clipboard switches (whether it owns
	   and watches the session's CLIPBOARD) */
	return g == NULL ||
	    (!g->has_url_allowlist && !g->has_url_blocklist &&
	     policy_clipboard_to_browser(policy) == policy_clipboard_to_browser(0) &&
	     policy_clipboard_to_terminal(policy) == policy_clipboard_to_terminal(0));
}

json_t *policy_json(int policy)
{
	const struct group_policy *g = policy_group(policy);
	json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:b, s:s, s:s, s:s}", "name",
			      g != NULL ? g->name : "", "dn", g != NULL ? g->dn : "",
			      "max_sessions_per_user", policy_max_sessions_per_user(policy),
			      "idle_timeout_s", policy_idle_timeout_s(policy),
			      "clipboard_to_browser", policy_clipboard_to_browser(policy),
			      "home_page", policy_home_page(policy), "url_allowlist",
			      g != NULL && g->has_url_allowlist ? g->url_allowlist
								: gw->cfg.url_allowlist,
			      "url_blocklist",
			      g != NULL && g->has_url_blocklist ? g->url_blocklist
								: gw->cfg.url_blocklist);
	if (o == NULL)
		return NULL;
	int rec = policy_recording(policy);
	json_object_set_new(o, "clipboard_to_terminal",
			    json_boolean(policy_clipboard_to_terminal(policy)));
	json_object_set_new(o, "recording",
			    json_string(rec == 1       ? "on"
					    : rec == 0 ? "off"
						       : gw->cfg.recording));
	return o;
}
