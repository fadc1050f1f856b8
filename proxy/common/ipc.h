/*
 * ipc.h: messages on the control channel between the gateway and a session
 * worker (an AF_UNIX SOCK_SEQPACKET socketpair, so one message is one packet).
 *
 * Each packet is a struct ipc_header followed by len payload bytes
 * (len <= IPC_PAYLOAD_MAX). Messages are hostile input to the receiver:
 * ipc_recv() checks sizes; an unknown type is the caller's fatal error.
 */
#ifndef PIXELGATE_IPC_H
#define PIXELGATE_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define IPC_PAYLOAD_MAX 8192
#define IPC_FDS_MAX 4 /* descriptors a packet may carry (the first is kept); more: refused */

enum ipc_type {
	IPC_SETTINGS = 1, /* gateway -> worker: JSON session settings (first message) */
	IPC_ATTACH,       /* gateway -> worker: a viewer's RFB socket, passed as SCM_RIGHTS */
	IPC_STOP,         /* gateway -> worker: end the session; payload = reason text */
	IPC_READY,        /* worker -> gateway: browser and screen are up */
	IPC_ENDED,        /* worker -> gateway: the session is ending; payload = reason text */
	IPC_EVENT, /* worker -> gateway: JSON event for the log (navigate, download_blocked) */
	IPC_CLAIM, /* gateway -> worker: a pre-started session is a user's now; payload = the
		      home page to open */
	IPC_TYPE_MAX
};

struct ipc_header {
	uint32_t type;
	uint32_t len;
};

/*
 * One datagram of the iovecs, with fd attached (SCM_RIGHTS) when fd >= 0;
 * EINTR retried, no SIGPIPE. The bytes sent, or -1 (errno). Also the
 * gateway's privileged parent's messages use it (gateway_priv.c).
 */
ssize_t ipc_sendmsg(int sock, struct iovec *iov, int iovcnt, int fd);

/*
 * One datagram into buf[0 .. len) (flags: e.g. MSG_DONTWAIT). Of the passed
 * descriptors the first goes to *fd (close-on-exec), the rest are closed;
 * *fd is -1 if none. Returns its length, 0 on EOF (or an empty packet), or
 * -1 (errno; EMSGSIZE, with no descriptor kept, when it did not fit or
 * carried more than IPC_FDS_MAX descriptors).
 */
ssize_t ipc_recvmsg(int sock, void *buf, size_t len, int *fd, int flags);

/* Name of a message type for logs. */
const char *ipc_type_name(uint32_t type);

/* Send one message, with fd attached when fd >= 0. 0 or -1 (errno set). */
int ipc_send(int sock, enum ipc_type type, const void *payload, size_t len, int fd);

/*
 * Receive one message into payload (IPC_PAYLOAD_MAX + 1 bytes; a NUL is
 * appended). *fd gets a passed descriptor or -1. Returns 1 on a message, 0
 * on EOF, -1 on error or a malformed message (errno EPROTO; err says what).
 */
int ipc_recv(int sock, struct ipc_header *hdr, char *payload, int *fd, char *err, size_t errlen);

#endif
