/*
 * gateway_auth_pool.c: password checks (Argon2id, ~40 ms each) on a small
 * pool of worker threads, so that the event loop, and with it every relayed
 * session, never waits for one. What is checked, and what a result means
 * (lockout, audit, metrics), is gateway_auth.c's: this file only runs the
 * checks.
 *
 * The loop submits a job holding copies of what the check needs (the user
 * name, the Argon2id hash to verify against, the password) and tied to the
 * connection (wsi) that waits for it. A thread runs argon2id_verify() on
 * those copies only: it never touches the gateway's state, so the users
 * table may be reloaded meanwhile. It posts the result and wakes the loop
 * with lws_cancel_service(), the only libwebsockets call that is safe from
 * another thread in 4.1.6. lws then calls LWS_CALLBACK_EVENT_WAIT_CANCELLED
 * on every protocol of every vhost (lws_broadcast() with a fake wsi, user
 * NULL); the "http" and "admin-http" callbacks answer it with auth_poll(),
 * which hands each finished job to its listener (http_auth_done(),
 * admin_auth_done()) on the loop thread.
 *
 * A connection that closes while its check is queued or running cancels
 * it (auth_cancel() at LWS_CALLBACK_CLOSED_HTTP and WSI_DESTROY): a queued
 * job is dropped, a running one is finished and its result discarded, so a
 * result is never delivered to a wsi that is gone (or to a new connection
 * that got the same address).
 *
 * Unknown user names are checked against a dummy hash made at start-up
 * with the same parameters as real ones, so the answer takes as long as for
 * a known name. Passwords are wiped (OPENSSL_cleanse) when a job ends,
 * whichever way.
 *
 * The queue is bounded: when it is full, auth_submit() fails at once and
 * the caller answers 503 busy with Retry-After.
 *
 * With [auth] backend = ldap, a name that is not in users_file is checked
 * by the directory instead (ldap_auth_login_on(), one kept connection per
 * thread), and every result, of either kind, is handed over no earlier than
 * answer_floor_ms after it was asked for (a timer on the loop, not a sleep
 * on a thread), so that how long an answer takes does not tell a local
 * account from a directory one, or an unknown name from a wrong password.
 * A directory that failed is not asked again for AUTH_DIRECTORY_HOLD_MS:
 * the checks meanwhile answer "unavailable" at once, so that a directory
 * that hangs (each step up to timeout_ms) cannot keep every thread, and
 * with them the local break-glass accounts, waiting.
 */
#include <argon2.h>
#include <openssl/rand.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "gateway_auth.h"
#include "log.h"

#define AUTH_DIRECTORY_HOLD_MS 5000

struct auth_job {
	struct auth_job *next;
	/* the loop's side */
	struct lws *wsi; /* the waiting connection; NULL once cancelled */
	enum auth_for kind;
	char tag[LOCKOUT_KEY_MAX]; /* who asked (address lockout key): auth_pending() */
	/* input of the thread: copies, never pointers into the gateway's state */
	char user[USERS_NAME_MAX + 1];
	char hash[USERS_HASH_MAX];
	char password[USERS_PASSWORD_MAX + 1];
	size_t password_len;
	bool directory; /* checked by the directory, not against hash */
	int64_t due_ms; /* not delivered before (gw_now_ms(): submitted + floor) */
	/* output of the thread */
	bool ok;
	enum ldap_auth_result dir_result;
	struct ldap_auth_outcome dir;
};

static struct {
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;                      /* a job was queued, or stop */
	struct auth_job *queue_head, *queue_tail; /* waiting for a thread */
	size_t queued, queue_max;
	struct auth_job *running; /* being checked (a list, order does not matter) */
	struct auth_job *done;    /* finished, waiting for auth_poll() */
	bool stop;
	pthread_t *threads;
	size_t n_threads;
	struct lws_context *ctx;
	char dummy_hash[USERS_HASH_MAX];
	struct ldap_auth_conf *ldap; /* a copy, or NULL: [auth] backend = file */
	int floor_ms;
	lws_sorted_usec_list_t due_sul; /* the next job not yet due (loop thread) */
	/* the directory's last failure (under lock): not asked again before down_until_ms */
	int64_t down_until_ms;
	char down_why[LDAP_AUTH_STR_MAX];
} auth;

/* Wipe and free a job. */
static void auth_job_free(struct auth_job *j)
{
	OPENSSL_cleanse(j, sizeof *j);
	free(j);
}

/* Remove j from the list at *head; true if it was there. */
static bool auth_unlink(struct auth_job **head, struct auth_job *j)
{
	for (struct auth_job **pp = head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			j->next = NULL;
			return true;
		}
	}
	return false;
}

/* A directory job, on its thread: asked, or refused at once while the directory is held off. */
static void auth_directory_check(struct auth_job *j, struct ldap_auth_conn *conn)
{
	int64_t now = gw_now_ms();
	pthread_mutex_lock(&auth.lock);
	bool held = now < auth.down_until_ms;
	if (held) {
		memset(&j->dir, 0, sizeof j->dir);
		snprintf(j->dir.why, sizeof j->dir.why,
			 "not asked: it failed less than %d s ago (%.300s)",
			 AUTH_DIRECTORY_HOLD_MS / 1000, auth.down_why);
	}
	pthread_mutex_unlock(&auth.lock);
	if (held) {
		j->dir_result = LDAP_AUTH_UNAVAILABLE;
		j->ok = false;
		return;
	}
	j->dir_result = ldap_auth_login_on(conn, auth.ldap, j->user, j->password, &j->dir);
	j->ok = j->dir_result == LDAP_AUTH_OK;
	if (j->dir_result == LDAP_AUTH_UNAVAILABLE) {
		pthread_mutex_lock(&auth.lock);
		auth.down_until_ms = gw_now_ms() + AUTH_DIRECTORY_HOLD_MS;
		snprintf(auth.down_why, sizeof auth.down_why, "%s", j->dir.why);
		pthread_mutex_unlock(&auth.lock);
	}
}

static void *auth_thread(void *arg)
{
	struct ldap_auth_conn conn = { 0 }; /* this thread's own, kept between checks */
	(void)arg;
	pthread_mutex_lock(&auth.lock);
	while (true) {
		while (!auth.stop && auth.queue_head == NULL)
			pthread_cond_wait(&auth.wake, &auth.lock);
		if (auth.stop)
			break;
		struct auth_job *j = auth.queue_head;
		auth.queue_head = j->next;
		if (auth.queue_head == NULL)
			auth.queue_tail = NULL;
		auth.queued--;
		j->next = auth.running;
		auth.running = j;
		pthread_mutex_unlock(&auth.lock);

		/* Only j's own copies (and the directory settings, never changed while
		   the threads run) are read here; argon2id_verify is thread-safe. */
		if (j->directory) {
			auth_directory_check(j, &conn);
		} else {
			j->ok = argon2id_verify(j->hash, j->password, j->password_len) == ARGON2_OK;
		}
		OPENSSL_cleanse(j->password, sizeof j->password);

		pthread_mutex_lock(&auth.lock);
		auth_unlink(&auth.running, j);
		j->next = auth.done;
		auth.done = j;
		pthread_mutex_unlock(&auth.lock);
		lws_cancel_service(auth.ctx);
		pthread_mutex_lock(&auth.lock);
	}
	pthread_mutex_unlock(&auth.lock);
	ldap_auth_conn_close(&conn);
	return NULL;
}

int auth_init(struct lws_context *ctx, int threads, int queue_max,
	      const struct ldap_auth_conf *ldap, int floor_ms, char *err, size_t errlen)
{
	if (threads < 1 || queue_max < 1) {
		snprintf(err, errlen, "auth_threads and auth_queue must be at least 1");
		return -1;
	}
	/* The dummy: a hash of a random password nobody knows, same cost as real ones. */
	unsigned char secret[32];
	char secret_text[65];
	if (RAND_bytes(secret, sizeof secret) != 1) {
		snprintf(err, errlen, "no random bytes for the dummy password hash");
		return -1;
	}
	for (size_t i = 0; i < sizeof secret; i++)
		snprintf(secret_text + 2 * i, 3, "%02x", secret[i]);
	int hrc = users_hash_password(secret_text, auth.dummy_hash, sizeof auth.dummy_hash);
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(secret_text, sizeof secret_text);
	if (hrc != 0) {
		snprintf(err, errlen, "could not make the dummy password hash (Argon2id)");
		return -1;
	}
	auth.ctx = ctx;
	auth.queue_max = (size_t)queue_max;
	if (ldap != NULL) {
		auth.ldap = malloc(sizeof *auth.ldap);
		if (auth.ldap == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(auth.ldap, ldap, sizeof *auth.ldap);
		auth.floor_ms = floor_ms;
	}
	auth.threads = calloc((size_t)threads, sizeof *auth.threads);
	if (auth.threads == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&auth.lock, NULL);
	pthread_cond_init(&auth.wake, NULL);
	auth.started = true;
	for (int i = 0; i < threads; i++) {
		int rc = pthread_create(&auth.threads[i], NULL, auth_thread, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "could not start password-check thread %d: %s", i + 1,
				 strerror(rc));
			auth_shutdown();
			return -1;
		}
		auth.n_threads++;
	}
	return 0;
}

void auth_shutdown(void)
{
	if (!auth.started)
		return;
	pthread_mutex_lock(&auth.lock);
	auth.stop = true;
	pthread_cond_broadcast(&auth.wake);
	pthread_mutex_unlock(&auth.lock);
	for (size_t i = 0; i < auth.n_threads; i++)
		pthread_join(auth.threads[i], NULL);
	free(auth.threads);
	auth.threads = NULL;
	auth.n_threads = 0;
	/* Every thread is gone: no lock needed. Nothing is delivered any more. */
	struct auth_job *lists[] = { auth.queue_head, auth.running, auth.done };
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		for (struct auth_job *j = lists[i], *next; j != NULL; j = next) {
			next = j->next;
			auth_job_free(j);
		}
	}
	auth.queue_head = auth.queue_tail = auth.running = auth.done = NULL;
	auth.queued = 0;
	lws_sul_cancel(&auth.due_sul);
	if (auth.ldap != NULL) {
		OPENSSL_cleanse(auth.ldap, sizeof *auth.ldap);
		free(auth.ldap);
		auth.ldap = NULL;
	}
	pthread_cond_destroy(&auth.wake);
	pthread_mutex_destroy(&auth.lock);
	auth.started = false;
}

int auth_submit(struct lws *wsi, enum auth_for kind, const char *user, const char *hash,
		bool directory, const char *tag, const char *password)
{
	if (!auth.started)
		return -1;
	size_t plen = strlen(password);
	if (plen > USERS_PASSWORD_MAX)
		plen = USERS_PASSWORD_MAX; /* the callers' buffers hold no more */
	pthread_mutex_lock(&auth.lock);
	bool full = auth.queued >= auth.queue_max;
	pthread_mutex_unlock(&auth.lock);
	if (full)
		return -1;
	struct auth_job *j = calloc(1, sizeof *j);
	if (j == NULL)
		return -1;
	j->wsi = wsi;
	j->kind = kind;
	j->directory = directory && auth.ldap != NULL;
	j->due_ms = gw_now_ms() + auth.floor_ms;
	snprintf(j->tag, sizeof j->tag, "%s", tag);
	snprintf(j->user, sizeof j->user, "%s", user);
	/* Unknown user: the dummy hash, so the check costs the same. */
	const char *h = hash != NULL ? hash : auth.dummy_hash;
	snprintf(j->hash, sizeof j->hash, "%s", h);
	memcpy(j->password, password, plen);
	j->password[plen] = '\0';
	j->password_len = plen;
	pthread_mutex_lock(&auth.lock);
	if (auth.queued >= auth.queue_max) { /* only the loop submits, but be exact */
		pthread_mutex_unlock(&auth.lock);
		auth_job_free(j);
		return -1;
	}
	if (auth.queue_tail != NULL)
		auth.queue_tail->next = j;
	else
		auth.queue_head = j;
	auth.queue_tail = j;
	auth.queued++;
	pthread_cond_signal(&auth.wake);
	pthread_mutex_unlock(&auth.lock);
	return 0;
}

void auth_cancel(struct lws *wsi)
{
	if (!auth.started || wsi == NULL)
		return;
	pthread_mutex_lock(&auth.lock);
	/* Queued: drop it (keeping the tail right). */
	struct auth_job *prev = NULL;
	for (struct auth_job *j = auth.queue_head, *next; j != NULL; j = next) {
		next = j->next;
		if (j->wsi != wsi) {
			prev = j;
			continue;
		}
		if (prev != NULL)
			prev->next = next;
		else
			auth.queue_head = next;
		if (auth.queue_tail == j)
			auth.queue_tail = prev;
		auth.queued--;
		auth_job_free(j);
	}
	/* Running: finished by its thread, then discarded by auth_poll(). */
	for (struct auth_job *j = auth.running; j != NULL; j = j->next)
		if (j->wsi == wsi)
			j->wsi = NULL;
	/* Done but not yet delivered: drop it. */
	for (struct auth_job **pp = &auth.done; *pp != NULL;) {
		struct auth_job *j = *pp;
		if (j->wsi == wsi) {
			*pp = j->next;
			auth_job_free(j);
		} else {
			pp = &j->next;
		}
	}
	pthread_mutex_unlock(&auth.lock);
}

size_t auth_pending(const char *tag)
{
	size_t n = 0;
	if (!auth.started)
		return 0;
	pthread_mutex_lock(&auth.lock);
	struct auth_job *lists[] = { auth.queue_head, auth.running, auth.done };
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (struct auth_job *j = lists[i]; j != NULL; j = j->next)
			/* a running one counts even when its asker left: it holds a thread */
			if ((j->wsi != NULL || lists[i] == auth.running) &&
			    strcmp(j->tag, tag) == 0)
				n++;
	pthread_mutex_unlock(&auth.lock);
	return n;
}

static void auth_due(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	auth_poll();
}

/* The first finished job that may be handed over at now, unlinked; else NULL. */
static struct auth_job *auth_take_due(int64_t now, int64_t *next_due)
{
	*next_due = INT64_MAX;
	for (struct auth_job **pp = &auth.done; *pp != NULL; pp = &(*pp)->next) {
		struct auth_job *j = *pp;
		if (j->due_ms <= now || j->wsi == NULL) { /* a cancelled one: drop it now */
			*pp = j->next;
			j->next = NULL;
			return j;
		}
		if (j->due_ms < *next_due)
			*next_due = j->due_ms;
	}
	return NULL;
}

/*
 * A directory answer that came after the floor: its time is its own again
 * (a wrong password takes a bind longer than an unknown name). Said in
 * the log, at most once a minute, with what to do.
 */
static void auth_floor_check(const struct auth_job *j)
{
	static int64_t last_ms = INT64_MIN;
	int64_t now = gw_now_ms(), late = now - j->due_ms;
	if (!j->directory || auth.floor_ms <= 0 || late <= 50 || now - last_ms < 60000)
		return;
	last_ms = now;
	log_warn("a directory answer took %lld ms, over [ldap] answer_floor_ms %d: answers "
		 "that slow can tell a wrong password from an unknown name by their time; raise "
		 "answer_floor_ms above the directory's slowest answers",
		 (long long)(late + auth.floor_ms), auth.floor_ms);
}

void auth_poll(void)
{
	if (!auth.started)
		return;
	while (true) {
		/* One at a time: a cancel during delivery still finds the others. */
		int64_t next_due;
		pthread_mutex_lock(&auth.lock);
		struct auth_job *j = auth_take_due(gw_now_ms(), &next_due);
		pthread_mutex_unlock(&auth.lock);
		if (j == NULL) {
			/* Those not due yet: woken when the first is. */
			if (next_due != INT64_MAX) {
				int64_t wait_ms = next_due - gw_now_ms();
				lws_sul_schedule(auth.ctx, 0, &auth.due_sul, auth_due,
						 (lws_usec_t)(wait_ms > 1 ? wait_ms : 1) *
						     LWS_US_PER_MS);
			}
			return;
		}
		auth_floor_check(j);
		if (j->wsi != NULL) {
			struct auth_result r = { .ok = j->ok, .directory = j->directory };
			memcpy(r.user, j->user, sizeof r.user);
			memcpy(r.hash, j->hash, sizeof r.hash);
			if (j->directory) {
				r.dir_result = j->dir_result;
				r.dir = j->dir;
			}
			if (j->kind == AUTH_FOR_STAFF)
				http_auth_done(j->wsi, &r);
			else
				admin_auth_done(j->wsi, &r);
			OPENSSL_cleanse(&r, sizeof r);
		}
		auth_job_free(j);
	}
}
