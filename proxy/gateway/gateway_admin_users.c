/*
 * gateway_admin_users.c: the admin API's endpoints about users: GET and POST
 * /api/v1/users, DELETE /api/v1/users/{name}, PUT .../password, POST
 * .../lock and .../unlock, PUT .../admin (the glue: gateway_admin.c). Each
 * change is made on a copy of the users, written to the users file
 * atomically, then put in force; an administrator cannot delete, lock or
 * demote themselves.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "gateway_admin.h"
#include "gateway_auth.h"
#include "log.h"

/*
 * Write next to the users file (atomically) and make it the users in force.
 * next is taken either way. 0, or -1 with a 500 reply set and nothing changed.
 */
static int admin_users_commit(struct admin_pss *pss, struct users *next)
{
	char err[512];
	if (users_save(next, gw->cfg.users_file, err, sizeof err) != 0) {
		users_free(next);
		log_error("admin %s: users file not written: %s", pss->admin, err);
		admin_errorf(pss, 500, "internal_error",
			     "the users file could not be written (%s); nothing was changed", err);
		return -1;
	}
	auth_users_install(next);
	return 0;
}

/* {"name", "role", "locked"} */
static json_t *admin_user_json(const struct user *u)
{
	return json_pack("{s:s, s:s, s:b}", "name", u->name, "role", u->admin ? "admin" : "staff",
			 "locked", u->locked);
}

void admin_users_list(struct admin_pss *pss)
{
	gw_users_refresh();
	json_t *list = json_array();
	for (size_t i = 0; i < gw->users.n && list != NULL; i++) {
		if (json_array_append_new(list, admin_user_json(&gw->users.v[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	admin_reply_json(pss, 200, list != NULL ? json_pack("{s:o}", "users", list) : NULL);
}

/* The user the path names, from a fresh users file; NULL with 404 set. */
static const struct user *admin_target_user(struct admin_pss *pss)
{
	gw_users_refresh();
	const struct user *u = users_find(&gw->users, pss->target.arg);
	if (u == NULL)
		admin_errorf(pss, 404, "not_found", "no user \"%s\"", pss->target.arg);
	return u;
}

/* A copy of the users to change; -1 with 500 set. */
static int admin_users_copy(struct admin_pss *pss, struct users *next)
{
	if (users_copy(next, &gw->users) == 0)
		return 0;
	admin_error(pss, 500, "internal_error", "out of memory");
	return -1;
}

void admin_user_add(struct admin_pss *pss)
{
	char name[USERS_NAME_MAX + 1], password[USERS_PASSWORD_MAX + 1], err[256];
	bool admin;
	struct users next;
	if (admin_parse_new_user(pss->body, pss->len, name, password, &admin, err, sizeof err) !=
	    0) {
		admin_error(pss, 400, "bad_request", err);
		return;
	}
	gw_users_refresh();
	if (users_find(&gw->users, name) != NULL) {
		admin_errorf(pss, 409, "exists", "user \"%s\" already exists", name);
		goto done;
	}
	if (admin_users_copy(pss, &next) != 0)
		goto done;
	if (users_set(&next, name, admin, password, err, sizeof err) != 0) {
		users_free(&next);
		admin_error(pss, 400, "bad_request", err);
		goto done;
	}
	if (admin_users_commit(pss, &next) != 0)
		goto done;
	log_info("admin %s added user %s (%s)", pss->admin, name, admin ? "admin" : "staff");
	admin_audit(pss->admin, pss->peer, "add_user", name, "", admin ? "admin" : "staff");
	admin_reply_json(pss, 201, admin_user_json(users_find(&gw->users, name)));
done:
	OPENSSL_cleanse(password, sizeof password);
}

void admin_user_delete(struct admin_pss *pss)
{
	struct users next;
	if (admin_target_user(pss) == NULL)
		return;
	if (strcmp(pss->target.arg, pss->admin) == 0) {
		admin_error(pss, 409, "self", "you cannot delete your own account");
		return;
	}
	if (admin_users_copy(pss, &next) != 0)
		return;
	users_del(&next, pss->target.arg);
	if (admin_users_commit(pss, &next) != 0)
		return;
	log_info("admin %s deleted user %s", pss->admin, pss->target.arg);
	admin_audit(pss->admin, pss->peer, "delete_user", pss->target.arg, "exists", "deleted");
	admin_reply_json(pss, 200, json_pack("{s:s}", "deleted", pss->target.arg));
}

void admin_user_password(struct admin_pss *pss)
{
	char password[USERS_PASSWORD_MAX + 1], err[256];
	struct users next;
	const struct user *u = admin_target_user(pss);
	if (u == NULL)
		return;
	bool admin = u->admin;
	if (admin_parse_password(pss->body, pss->len, password, err, sizeof err) != 0) {
		admin_error(pss, 400, "bad_request", err);
		return;
	}
	if (admin_users_copy(pss, &next) != 0)
		goto done;
	if (users_set(&next, pss->target.arg, admin, password, err, sizeof err) != 0) {
		users_free(&next);
		admin_error(pss, 400, "bad_request", err);
		goto done;
	}
	if (admin_users_commit(pss, &next) != 0)
		goto done;
	log_info("admin %s changed the password of %s", pss->admin, pss->target.arg);
	admin_audit(pss->admin, pss->peer, "set_password", pss->target.arg, "", "(changed)");
	admin_reply_json(pss, 200, admin_user_json(users_find(&gw->users, pss->target.arg)));
done:
	OPENSSL_cleanse(password, sizeof password);
}

void admin_user_lock(struct admin_pss *pss, bool lock)
{
	struct users next;
	const struct user *u = admin_target_user(pss);
	if (u == NULL)
		return;
	if (lock && strcmp(u->name, pss->admin) == 0) {
		admin_error(pss, 409, "self", "you cannot lock your own account");
		return;
	}
	if (u->locked != lock) {
		if (admin_users_copy(pss, &next) != 0)
			return;
		users_set_locked(&next, pss->target.arg, lock);
		if (admin_users_commit(pss, &next) != 0)
			return;
		log_info("admin %s %s user %s", pss->admin, lock ? "locked" : "unlocked",
			 pss->target.arg);
		admin_audit(pss->admin, pss->peer, lock ? "lock_user" : "unlock_user",
			    pss->target.arg, lock ? "unlocked" : "locked",
			    lock ? "locked" : "unlocked");
	}
	if (!lock) {
		/* A fresh start: failed logins before the unlock no longer count. */
		auth_forget_failures(pss->target.arg);
	}
	admin_reply_json(pss, 200, admin_user_json(users_find(&gw->users, pss->target.arg)));
}

void admin_user_role(struct admin_pss *pss)
{
	char err[256];
	bool admin;
	struct users next;
	const struct user *u = admin_target_user(pss);
	if (u == NULL)
		return;
	if (admin_parse_admin_flag(pss->body, pss->len, &admin, err, sizeof err) != 0) {
		admin_error(pss, 400, "bad_request", err);
		return;
	}
	if (!admin && strcmp(u->name, pss->admin) == 0) {
		admin_error(pss, 409, "self", "you cannot remove your own admin role");
		return;
	}
	if (u->admin != admin) {
		if (admin_users_copy(pss, &next) != 0)
			return;
		users_find(&next, pss->target.arg)->admin = admin;
		if (admin_users_commit(pss, &next) != 0)
			return;
		log_info("admin %s %s the admin role %s user %s", pss->admin,
			 admin ? "gave" : "took", admin ? "to" : "from", pss->target.arg);
		admin_audit(pss->admin, pss->peer, "set_admin_role", pss->target.arg,
			    admin ? "staff" : "admin", admin ? "admin" : "staff");
	}
	admin_reply_json(pss, 200, admin_user_json(users_find(&gw->users, pss->target.arg)));
}
