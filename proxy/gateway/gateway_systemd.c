/*
 * gateway_systemd.c: what systemd sees of the gateway (libsystemd).
 *
 * Logs: when stderr is the journal (JOURNAL_STREAM names it, as systemd
 * sets it for StandardError=journal), every line goes to journald natively:
 * PRIORITY from the level, SYSLOG_IDENTIFIER from the process
 * (pixelgate-priv, pixelgate; pixelgate-cell for whatever a cell wrote, with
 * the name its line claims in PIXELGATE_CELL_IDENT and at most warning),
 * MESSAGE without a second timestamp, and PIXELGATE_SESSION /
 * PIXELGATE_USER when the line is about a session (log.h's "session ID of
 * USER:" convention):
 *   journalctl -u pixelgate PIXELGATE_SESSION=8b2ae0130cfbccc4
 *   journalctl -u pixelgate -p warning
 * Elsewhere lines go to stderr as before.
 *
 * Notifications (Type=notify, NotifyAccess=main): only the main process,
 * the privileged parent, talks to NOTIFY_SOCKET; the network process tells
 * it over the priv socket (PRIV_STATUS) when it listens and after each
 * reload, and every GW_ALIVE_MS that its event loop turns. So:
 *   READY=1 and STATUS=...      once the listeners and the audit log are up;
 *   RELOADING=1, then READY=1   around each SIGHUP (the STATUS says how it went);
 *   WATCHDOG=1                  each time the network process's loop reports in
 *                               (WatchdogSec= restarts a hung gateway);
 *   STOPPING=1                  at SIGTERM.
 * NOTIFY_SOCKET is taken out of the environment of every other process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"

static int systemd_journal_sink(enum log_level level, const struct log_fields *f, const char *msg)
{
	static const int prio[] = { 7, 6, 4, 3 }; /* debug, info, warning (4), error (3) */
	char m[4200], p[16], ident[64], session[48], user[96], claimed[64];
	struct iovec iov[6];
	int n = 0;
	snprintf(m, sizeof m, "MESSAGE=%s", msg);
	iov[n++] = (struct iovec){ m, strlen(m) };
	snprintf(p, sizeof p, "PRIORITY=%d", prio[level]);
	iov[n++] = (struct iovec){ p, strlen(p) };
	snprintf(ident, sizeof ident, "SYSLOG_IDENTIFIER=%s", f->ident ? f->ident : "pixelgate");
	iov[n++] = (struct iovec){ ident, strlen(ident) };
	if (f->session != NULL) {
		snprintf(session, sizeof session, "PIXELGATE_SESSION=%s", f->session);
		iov[n++] = (struct iovec){ session, strlen(session) };
	}
	if (f->user != NULL) {
		snprintf(user, sizeof user, "PIXELGATE_USER=%s", f->user);
		iov[n++] = (struct iovec){ user, strlen(user) };
	}
	if (f->claimed != NULL) {
		snprintf(claimed, sizeof claimed, "PIXELGATE_CELL_IDENT=%s", f->claimed);
		iov[n++] = (struct iovec){ claimed, strlen(claimed) };
	}
	return sd_journal_sendv(iov, n) == 0 ? 0 : -1;
}

void systemd_init_logging(void)
{
	/* "dev:ino" of the journal's stream; stderr must still be that stream. */
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0 || (unsigned long long)st.st_dev != dev ||
	    (unsigned long long)st.st_ino != ino)
		return;
	log_set_sink(systemd_journal_sink);
}

void systemd_notify(const char *state)
{
	int r = sd_notify(0, state);
	if (r < 0)
		log_warn("sd_notify \"%s\": %s", state, strerror(-r));
}

bool systemd_notifying(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	return s != NULL && s[0] != '\0';
}
