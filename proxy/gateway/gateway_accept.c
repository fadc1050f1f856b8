/*
 * gateway_accept.c: who is connecting.
 *
 * Every staff and admin connection is known here from the moment it is
 * accepted until libwebsockets destroys it (LWS_CALLBACK_WSI_DESTROY, which
 * lws 4.1.6 delivers to the vhost's protocols[0], also after the upgrade
 * to a WebSocket; the same wsi lives on), in a table keyed by wsi. That
 * table gives:
 *
 *  - gw_peer(): the client address the whole gateway logs, audits, locks
 *    out and limits by;
 *  - max_connections_per_address: connections per client address and
 *    listener are counted; one over the cap is closed at once, before any
 *    TLS byte (LWS_CALLBACK_FILTER_NETWORK_CONNECTION on lws's listener,
 *    or before adoption on ours), logged once per address a minute and
 *    counted as refusals{reason="address_connections"}.
 *
 * PROXY protocol v2 ([server] proxy_protocol = on; lws 4.1.6 has no server
 * side of it): the staff vhost is created without a listener and this file
 * owns the listening socket. The listening socket and every connection
 * still waiting for its header are in one epoll set, and that epoll
 * descriptor is in the lws loop (a raw file on a vhost of its own), so
 * nothing here ever blocks the loop. A connection from an address not in
 * proxy_trusted is closed at accept; the others must send a complete,
 * valid header (proxy_v2.c) within ACCEPT_HEADER_DEADLINE_MS. The header is
 * read with plain non-blocking recv(), 16 bytes and then exactly the length
 * it states, never a byte past it, and the socket is handed to the TLS vhost
 * (lws_adopt_descriptor_vhost) with the address the header names.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"
#include "proxy_v2.h"

#define ACCEPT_HEADER_DEADLINE_MS 5000 /* a PROXY header must be complete by then */
#define ACCEPT_PENDING_MAX 1024        /* connections waiting for their header */
#define ACCEPT_BUCKETS 256             /* hash buckets of the two tables */
#define ACCEPT_LOG_INTERVAL_MS 60000   /* one log line per reason and address */
#define ACCEPT_LOG_SLOTS 128           /* addresses whose last log line is remembered */
#define ACCEPT_EMFILE_PAUSE_MS 200     /* out of descriptors: stop accepting this long */
#define ACCEPT_EVENTS 64               /* epoll events handled per wake-up */

enum accept_listener { ACCEPT_STAFF, ACCEPT_ADMIN };

static const char *const accept_listener_name[] = { "staff", "admin" };

/* One connection lws holds (staff or admin). */
struct accept_conn {
	struct accept_conn *next;
	struct lws *wsi;
	enum accept_listener listener;
	bool proxied;                  /* addr came from a PROXY header */
	char addr[PROXY_V2_ADDR_TEXT]; /* the client address (counting key) */
};

/* Connections of one client address on one listener. */
struct accept_count {
	struct accept_count *next;
	enum accept_listener listener;
	unsigned n;
	char addr[PROXY_V2_ADDR_TEXT];
};

/* A staff connection whose PROXY header is not complete yet. */
struct accept_pending {
	struct accept_pending *next, *prev;
	int fd;
	char from[PROXY_V2_ADDR_TEXT]; /* the balancer's address */
	uint8_t buf[PROXY_V2_MAX_LEN];
	size_t len;  /* bytes of the header read so far */
	size_t want; /* bytes the header needs, as far as known */
	lws_sorted_usec_list_t deadline;
};

/* When a refusal was last logged for a reason and address. */
struct accept_logged {
	char key[128];
	int64_t last_ms;
	uint64_t suppressed; /* refusals not logged since */
};

static struct {
	struct accept_conn *conns[ACCEPT_BUCKETS];
	struct accept_count *counts[ACCEPT_BUCKETS];
	struct accept_logged logged[ACCEPT_LOG_SLOTS];
	/* The address of the socket being adopted now (set just before lws
	   creates its wsi, taken by LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED). */
	struct {
		bool set;
		int fd;
		bool proxied;
		char addr[PROXY_V2_ADDR_TEXT];
	} adopting;
	/* PROXY protocol */
	struct proxy_v2_trust trust;
	int listen_fd, epoll_fd;
	bool listen_paused;
	struct lws_vhost *vhost; /* ours: only the epoll descriptor lives here */
	struct accept_pending *pending;
	size_t n_pending;
	lws_sorted_usec_list_t resume; /* re-arms the listening socket after EMFILE */
} acc = { .listen_fd = -1, .epoll_fd = -1 };

static unsigned accept_hash_ptr(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	return (unsigned)((v >> 4) ^ (v >> 12)) % ACCEPT_BUCKETS;
}

static unsigned accept_hash_str(const char *s, enum accept_listener l)
{
	uint32_t h = 2166136261u ^ (uint32_t)l;
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % ACCEPT_BUCKETS;
}

static struct accept_conn *accept_conn_find(struct lws *wsi)
{
	for (struct accept_conn *c = acc.conns[accept_hash_ptr(wsi)]; c != NULL; c = c->next)
		if (c->wsi == wsi)
			return c;
	return NULL;
}

static struct accept_count *accept_count_find(enum accept_listener l, const char *addr)
{
	for (struct accept_count *c = acc.counts[accept_hash_str(addr, l)]; c != NULL; c = c->next)
		if (c->listener == l && strcmp(c->addr, addr) == 0)
			return c;
	return NULL;
}

/* Connections addr holds on listener l now. */
static unsigned accept_count_of(enum accept_listener l, const char *addr)
{
	struct accept_count *c = accept_count_find(l, addr);
	return c != NULL ? c->n : 0;
}

/* Count one more (delta 1) or one less (-1) connection of addr on l. */
static void accept_count_add(enum accept_listener l, const char *addr, int delta)
{
	struct accept_count **pp = &acc.counts[accept_hash_str(addr, l)];
	for (; *pp != NULL; pp = &(*pp)->next) {
		struct accept_count *c = *pp;
		if (c->listener != l || strcmp(c->addr, addr) != 0)
			continue;
		if (delta > 0) {
			c->n++;
		} else if (--c->n == 0) {
			*pp = c->next;
			free(c);
		}
		return;
	}
	if (delta <= 0)
		return;
	struct accept_count *c = calloc(1, sizeof *c);
	if (c == NULL)
		return; /* uncounted: the cap errs on the side of serving */
	c->listener = l;
	c->n = 1;
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	c->next = acc.counts[accept_hash_str(addr, l)];
	acc.counts[accept_hash_str(addr, l)] = c;
}

/*
 * Log a line at most once per ACCEPT_LOG_INTERVAL_MS for the same key (a
 * reason and an address: a flood must not flood the log); the next line
 * says how many went unlogged.
 */
static void accept_log_limited(const char *key, const char *fmt, va_list ap)
{
	int64_t now = gw_now_ms();
	struct accept_logged *slot = NULL, *oldest = &acc.logged[0];
	for (size_t i = 0; i < ACCEPT_LOG_SLOTS; i++) {
		struct accept_logged *e = &acc.logged[i];
		if (e->last_ms != 0 && strcmp(e->key, key) == 0) {
			slot = e;
			break;
		}
		if (e->last_ms < oldest->last_ms)
			oldest = e;
	}
	if (slot != NULL && now - slot->last_ms < ACCEPT_LOG_INTERVAL_MS) {
		slot->suppressed++;
		return;
	}
	uint64_t suppressed = slot != NULL ? slot->suppressed : 0;
	if (slot == NULL) {
		slot = oldest;
		snprintf(slot->key, sizeof slot->key, "%s", key);
	}
	slot->last_ms = now;
	slot->suppressed = 0;
	char msg[384];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (suppressed > 0)
		log_warn("%s (and %llu more like it in the last %d s, not logged)", msg,
			 (unsigned long long)suppressed, ACCEPT_LOG_INTERVAL_MS / 1000);
	else
		log_warn("%s", msg);
}

/*
 * A connection refused for reason: counted always, logged as
 * accept_log_limited() allows, keyed by reason, address and kind (the
 * kind of problem: its first words, digits left out, so that one line of
 * each different problem shows while repeats of it are counted).
 */
static void accept_refused(enum gw_refusal reason, const char *addr, const char *kind,
			   const char *fmt, ...) __attribute__((format(__printf__, 4, 5)));

static void accept_refused(enum gw_refusal reason, const char *addr, const char *kind,
			   const char *fmt, ...)
{
	gw->metrics.refusals[reason]++;
	char key[sizeof acc.logged[0].key], what[40];
	size_t k = 0;
	for (; *kind != '\0' && k < sizeof what - 1; kind++)
		if (*kind < '0' || *kind > '9')
			what[k++] = *kind;
	what[k] = '\0';
	snprintf(key, sizeof key, "%s %s %s", gw_refusal_name(reason), addr, what);
	va_list ap;
	va_start(ap, fmt);
	accept_log_limited(key, fmt, ap);
	va_end(ap);
}

/* A line logged as accept_log_limited() allows for key. */
static void accept_log_keyed(const char *key, const char *fmt, ...)
    __attribute__((format(__printf__, 2, 3)));

static void accept_log_keyed(const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	accept_log_limited(key, fmt, ap);
	va_end(ap);
}

/* A problem of the listener itself. */
#define accept_problem(...) accept_log_keyed("listener", __VA_ARGS__)

/* Whether addr may open one more connection on l; refused ones are logged and counted. */
static bool accept_under_cap(enum accept_listener l, const char *addr)
{
	int cap = gw->cfg.max_connections_per_address;
	unsigned n = accept_count_of(l, addr);
	if (cap <= 0 || n < (unsigned)cap)
		return true;
	accept_refused(GW_REFUSE_ADDRESS_CONNECTIONS, addr, "",
		       "%s connection from %s refused: it already has %u connections "
		       "(max_connections_per_address %d)",
		       accept_listener_name[l], addr, n, cap);
	return false;
}

/* The text of a socket address as the gateway keys it; "?" if not IP. */
static void accept_sockaddr_text(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
	int family;
	uint8_t a[16];
	if (proxy_v2_sockaddr(sa, salen, &family, a) != 0 ||
	    proxy_v2_addr_text(family, a, buf, len) != 0)
		snprintf(buf, len, "?");
}

/* The socket's peer address (fallback when nobody told us). */
static void accept_fd_peer(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		snprintf(buf, len, "?");
	else
		accept_sockaddr_text((struct sockaddr *)&ss, sl, buf, len);
}

/* A new wsi of listener l: remember its address and count it. */
static void accept_track(enum accept_listener l, struct lws *wsi)
{
	int fd = lws_get_socket_fd(wsi);
	if (accept_conn_find(wsi) != NULL)
		return; /* cannot happen: one NEW_CLIENT_INSTANTIATED per wsi */
	struct accept_conn *c = calloc(1, sizeof *c);
	if (c == NULL) {
		log_error("%s connection: out of memory for its address (not counted)",
			  accept_listener_name[l]);
		acc.adopting.set = false;
		return;
	}
	c->wsi = wsi;
	c->listener = l;
	if (acc.adopting.set && acc.adopting.fd == fd) {
		snprintf(c->addr, sizeof c->addr, "%s", acc.adopting.addr);
		c->proxied = acc.adopting.proxied;
	} else {
		accept_fd_peer(fd, c->addr, sizeof c->addr);
	}
	acc.adopting.set = false;
	unsigned h = accept_hash_ptr(wsi);
	c->next = acc.conns[h];
	acc.conns[h] = c;
	accept_count_add(l, c->addr, 1);
}

/* wsi is being destroyed: forget it, count it down. */
static void accept_untrack(struct lws *wsi)
{
	for (struct accept_conn **pp = &acc.conns[accept_hash_ptr(wsi)]; *pp != NULL;
	     pp = &(*pp)->next) {
		struct accept_conn *c = *pp;
		if (c->wsi != wsi)
			continue;
		*pp = c->next;
		accept_count_add(c->listener, c->addr, -1);
		free(c);
		return;
	}
}

const char *gw_peer(struct lws *wsi, char *buf, size_t len)
{
	struct accept_conn *c = wsi != NULL ? accept_conn_find(wsi) : NULL;
	if (c != NULL && c->proxied)
		snprintf(buf, len, "%s", c->addr);
	else if (wsi == NULL || lws_get_peer_simple(wsi, buf, len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/*
 * What the listeners' protocols[0] sees before (pre) or after the real
 * callback. Returns non-zero to refuse a connection lws just accepted.
 */
static int accept_hook_pre(enum accept_listener l, enum lws_callback_reasons reason, void *user,
			   void *in)
{
	if (reason != LWS_CALLBACK_FILTER_NETWORK_CONNECTION)
		return 0;
	/* lws 4.1.6: user is the accepted socket's address, in its descriptor. */
	const struct lws_filter_network_conn_args *filt = user;
	char addr[PROXY_V2_ADDR_TEXT];
	int fd = (int)(intptr_t)in;
	if (filt != NULL)
		accept_sockaddr_text((const struct sockaddr *)&filt->cli_addr, filt->clilen, addr,
				     sizeof addr);
	else
		accept_fd_peer(fd, addr, sizeof addr);
	acc.adopting.set = false;
	if (!accept_under_cap(l, addr))
		return 1; /* lws closes the socket; no wsi was made */
	acc.adopting.set = true;
	acc.adopting.fd = fd;
	acc.adopting.proxied = false;
	snprintf(acc.adopting.addr, sizeof acc.adopting.addr, "%s", addr);
	return 0;
}

static void accept_hook_post(enum accept_listener l, struct lws *wsi,
			     enum lws_callback_reasons reason)
{
	if (reason == LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED)
		accept_track(l, wsi);
	else if (reason == LWS_CALLBACK_WSI_DESTROY)
		accept_untrack(wsi);
}

int accept_staff_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			  size_t len)
{
	if (reason == LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED)
		accept_hook_post(ACCEPT_STAFF, wsi, reason); /* known before http sees it */
	if (accept_hook_pre(ACCEPT_STAFF, reason, user, in) != 0)
		return 1;
	int rc = http_callback(wsi, reason, user, in, len);
	if (reason == LWS_CALLBACK_WSI_DESTROY)
		accept_hook_post(ACCEPT_STAFF, wsi, reason); /* http may still ask gw_peer() */
	return rc;
}

int accept_admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			  size_t len)
{
	if (reason == LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED)
		accept_hook_post(ACCEPT_ADMIN, wsi, reason);
	if (accept_hook_pre(ACCEPT_ADMIN, reason, user, in) != 0)
		return 1;
	int rc = admin_callback(wsi, reason, user, in, len);
	if (reason == LWS_CALLBACK_WSI_DESTROY)
		accept_hook_post(ACCEPT_ADMIN, wsi, reason);
	return rc;
}

/* ---- PROXY protocol v2 on the staff listener ------------------------------ */

/* Close a waiting connection and forget it (fd closed unless handed over: fd < 0). */
static void accept_pending_free(struct accept_pending *p)
{
	lws_sul_cancel(&p->deadline);
	if (p->fd >= 0) {
		epoll_ctl(acc.epoll_fd, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
	}
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		acc.pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	acc.n_pending--;
	free(p);
}

static void accept_deadline(lws_sorted_usec_list_t *sul)
{
	struct accept_pending *p = lws_container_of(sul, struct accept_pending, deadline);
	accept_refused(GW_REFUSE_PROXY_HEADER, p->from, "deadline",
		       "staff connection from %s closed: no complete PROXY protocol v2 header "
		       "within %d s (%zu bytes came)",
		       p->from, ACCEPT_HEADER_DEADLINE_MS / 1000, p->len);
	accept_pending_free(p);
}

/* The header is complete and valid: count the client and give the socket to lws. */
static void accept_hand_over(struct accept_pending *p, const struct proxy_v2_header *h)
{
	char addr[PROXY_V2_ADDR_TEXT];
	bool proxied = h->has_source;
	if (proxied)
		proxy_v2_addr_text(h->family, h->src, addr, sizeof addr);
	else
		snprintf(addr, sizeof addr, "%s",
			 p->from); /* LOCAL / UNSPEC: the balancer itself */
	/* Closed already: a balancer's health check (HAProxy "check
	   check-send-proxy" sends a LOCAL header and closes, every inter), or a
	   client gone. Nothing to serve, nothing wrong: lws would fail to adopt it. */
	char peek;
	ssize_t n = recv(p->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		log_debug("staff connection from %s closed right after its PROXY protocol v2 "
			  "header%s",
			  addr, proxied ? "" : " (LOCAL: a balancer's health check)");
		accept_pending_free(p);
		return;
	}
	if (!accept_under_cap(ACCEPT_STAFF, addr)) {
		accept_pending_free(p);
		return;
	}
	int fd = p->fd;
	epoll_ctl(acc.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	p->fd = -1;
	accept_pending_free(p);
	acc.adopting.set = true;
	acc.adopting.fd = fd;
	acc.adopting.proxied = proxied;
	snprintf(acc.adopting.addr, sizeof acc.adopting.addr, "%s", addr);
	lws_sock_file_fd_type desc;
	desc.sockfd = fd;
	/* On failure lws has closed fd already (lws_adopt_descriptor_vhost_via_info). */
	if (lws_adopt_descriptor_vhost(gw->vhost,
				       LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | LWS_ADOPT_ALLOW_SSL,
				       desc, "http", NULL) == NULL) {
		char key[sizeof acc.logged[0].key];
		snprintf(key, sizeof key, "adopt %s", addr);
		accept_log_keyed(key,
				 "staff connection from %s: libwebsockets could not take it over "
				 "(TLS failed at once, or the peer closed it%s)",
				 addr, proxied ? "" : ": a balancer's health check?");
	}
	acc.adopting.set = false;
}

/* Bytes arrived (or the peer closed) on a connection waiting for its header. */
static void accept_pending_read(struct accept_pending *p)
{
	for (;;) {
		ssize_t n = recv(p->fd, p->buf + p->len, p->want - p->len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			accept_refused(GW_REFUSE_PROXY_HEADER, p->from, "closed",
				       "staff connection from %s closed before its PROXY protocol "
				       "v2 header was complete (%zu bytes came%s%s)",
				       p->from, p->len, n < 0 ? ": " : "",
				       n < 0 ? strerror(errno) : "");
			accept_pending_free(p);
			return;
		}
		p->len += (size_t)n;
		struct proxy_v2_header h;
		size_t need = 0;
		char why[PROXY_V2_WHY_LEN];
		switch (proxy_v2_parse(p->buf, p->len, &h, &need, why, sizeof why)) {
		case PROXY_V2_OK:
			accept_hand_over(p, &h);
			return;
		case PROXY_V2_NEED_MORE:
			if (need <= p->len || need > sizeof p->buf) {
				/* Broken invariant of proxy_v2_parse(): refuse rather than overrun. */
				snprintf(why, sizeof why, "header length out of bounds");
				break;
			}
			p->want = need;
			continue;
		case PROXY_V2_BAD:
			break;
		}
		accept_refused(GW_REFUSE_PROXY_HEADER, p->from, why,
			       "staff connection from %s refused: %s", p->from, why);
		accept_pending_free(p);
		return;
	}
}

/* Stop watching the listening socket for a while (EMFILE would make it spin). */
static void accept_resume(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (acc.listen_paused && epoll_ctl(acc.epoll_fd, EPOLL_CTL_ADD, acc.listen_fd, &ev) == 0)
		acc.listen_paused = false;
}

static void accept_pause(void)
{
	if (acc.listen_paused)
		return;
	epoll_ctl(acc.epoll_fd, EPOLL_CTL_DEL, acc.listen_fd, NULL);
	acc.listen_paused = true;
	lws_sul_schedule(gw->ctx, 0, &acc.resume, accept_resume,
			 ACCEPT_EMFILE_PAUSE_MS * LWS_US_PER_MS);
}

/* The listening socket is readable: take what is queued. */
static void accept_listen_ready(void)
{
	for (int i = 0; i < ACCEPT_EVENTS; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(acc.listen_fd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				accept_problem("staff listener: accept: %s (pausing %d ms)",
					       strerror(errno), ACCEPT_EMFILE_PAUSE_MS);
				accept_pause();
				return;
			}
			accept_problem("staff listener: accept: %s", strerror(errno));
			return;
		}
		char from[PROXY_V2_ADDR_TEXT];
		int family;
		uint8_t a[16];
		if (proxy_v2_sockaddr((struct sockaddr *)&ss, sl, &family, a) != 0 ||
		    proxy_v2_addr_text(family, a, from, sizeof from) != 0 ||
		    !proxy_v2_trusted(&acc.trust, family, a)) {
			accept_sockaddr_text((struct sockaddr *)&ss, sl, from, sizeof from);
			accept_refused(GW_REFUSE_PROXY_UNTRUSTED, from, "",
				       "staff connection from %s refused: proxy_protocol is on and "
				       "%s is not in proxy_trusted",
				       from, from);
			close(fd);
			continue;
		}
		if (acc.n_pending >= ACCEPT_PENDING_MAX) {
			accept_refused(GW_REFUSE_PROXY_HEADER, from, "pending",
				       "staff connection from %s refused: %d connections already "
				       "wait for their PROXY header",
				       from, ACCEPT_PENDING_MAX);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as lws does */
		struct accept_pending *p = calloc(1, sizeof *p);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		ev.data.ptr = p;
		if (p == NULL || epoll_ctl(acc.epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			log_error("staff connection from %s: %s", from,
				  p == NULL ? "out of memory" : strerror(errno));
			free(p);
			close(fd);
			continue;
		}
		p->fd = fd;
		p->want = PROXY_V2_FIXED_LEN;
		snprintf(p->from, sizeof p->from, "%s", from);
		p->next = acc.pending;
		if (acc.pending != NULL)
			acc.pending->prev = p;
		acc.pending = p;
		acc.n_pending++;
		lws_sul_schedule(gw->ctx, 0, &p->deadline, accept_deadline,
				 ACCEPT_HEADER_DEADLINE_MS * LWS_US_PER_MS);
	}
}

/* The epoll descriptor in the lws loop: something is ready. */
static int accept_epoll_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
				 void *in, size_t len)
{
	(void)wsi;
	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	struct epoll_event ev[ACCEPT_EVENTS];
	int n = epoll_wait(acc.epoll_fd, ev, ACCEPT_EVENTS, 0);
	/* A pending connection is freed only while its own event is handled. */
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == NULL)
			accept_listen_ready();
		else
			accept_pending_read(ev[i].data.ptr);
	}
	return 0;
}

/* Our listening socket on listen_address:listen_port. -1 + err. */
static int accept_listen(char *err, size_t errlen)
{
	char port[8];
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	const char *host = gw->cfg.listen_address;
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		host = NULL;
	snprintf(port, sizeof port, "%d", gw->cfg.listen_port);
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "listen_address %s: %s", gw->cfg.listen_address,
			 gai_strerror(rc));
		return -1;
	}
	int fd = -1, last_errno = 0;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		last_errno = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", gw->cfg.listen_address,
			 gw->cfg.listen_port, strerror(last_errno));
		return -1;
	}
	acc.listen_fd = fd;
	return 0;
}

int accept_init(char *err, size_t errlen)
{
	if (!gw->cfg.proxy_protocol)
		return 0;
	char why[160];
	if (proxy_v2_trust_parse(gw->cfg.proxy_trusted, &acc.trust, why, sizeof why) != 0 ||
	    acc.trust.n == 0) {
		snprintf(err, errlen, "proxy_trusted: %s",
			 acc.trust.n == 0 && why[0] == '\0' ? "empty" : why);
		return -1;
	}
	if (accept_listen(err, errlen) != 0)
		return -1;
	acc.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (acc.epoll_fd < 0 || epoll_ctl(acc.epoll_fd, EPOLL_CTL_ADD, acc.listen_fd, &ev) != 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	static const struct lws_protocols protocols[] = { { "pg-accept", accept_epoll_callback, 0,
							    0, 0, NULL, 0 },
							  { NULL, NULL, 0, 0, 0, NULL, 0 } };
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.vhost_name = "pg-accept";
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	acc.vhost = lws_create_vhost(gw->ctx, &info);
	if (acc.vhost == NULL) {
		snprintf(err, errlen, "could not create the accept vhost");
		return -1;
	}
	lws_adopt_desc_t ad = { 0 };
	ad.vh = acc.vhost;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = acc.epoll_fd;
	ad.vh_prot_name = "pg-accept";
	if (lws_adopt_descriptor_vhost_via_info(&ad) == NULL) {
		snprintf(err, errlen, "could not watch the staff listener");
		return -1;
	}
	log_info("staff listener takes PROXY protocol v2 headers from %s (header within %d s)",
		 gw->cfg.proxy_trusted, ACCEPT_HEADER_DEADLINE_MS / 1000);
	return 0;
}

void accept_close(void)
{
	/* The context is gone: its timers with it; only memory and descriptors are left. */
	while (acc.pending != NULL) {
		struct accept_pending *p = acc.pending;
		acc.pending = p->next;
		if (p->fd >= 0)
			close(p->fd);
		free(p);
	}
	acc.n_pending = 0;
	if (acc.listen_fd >= 0)
		close(acc.listen_fd);
	acc.listen_fd = -1;
	acc.epoll_fd = -1; /* closed by lws with its wsi */
	for (size_t i = 0; i < ACCEPT_BUCKETS; i++) {
		while (acc.conns[i] != NULL) {
			struct accept_conn *c = acc.conns[i];
			acc.conns[i] = c->next;
			free(c);
		}
		while (acc.counts[i] != NULL) {
			struct accept_count *c = acc.counts[i];
			acc.counts[i] = c->next;
			free(c);
		}
	}
}
