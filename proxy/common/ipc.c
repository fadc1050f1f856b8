/*
 * ipc.c: control channel messages, see ipc.h.
 */
#include "ipc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

const char *ipc_type_name(uint32_t type)
{
	static const char *names[] = { "?",     "SETTINGS", "ATTACH", "STOP",
				       "READY", "ENDED",    "EVENT",  "CLAIM" };
	return type < IPC_TYPE_MAX ? names[type] : "unknown";
}

ssize_t ipc_sendmsg(int sock, struct iovec *iov, int iovcnt, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { 0 };
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)iovcnt;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof ctl);
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof ctl.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t ipc_recvmsg(int sock, void *buf, size_t len, int *fd, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr msg = { 0 };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	*fd = -1;
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* Take any passed descriptors first so none leak on a bad message. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
			if (*fd < 0)
				*fd = got;
			else
				close(got);
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

int ipc_send(int sock, enum ipc_type type, const void *payload, size_t len, int fd)
{
	if (len > IPC_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	struct ipc_header hdr = { (uint32_t)type, (uint32_t)len };
	struct iovec iov[2] = { { &hdr, sizeof hdr }, { (void *)payload, len } };
	ssize_t n = ipc_sendmsg(sock, iov, len ? 2 : 1, fd);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof hdr + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int ipc_recv(int sock, struct ipc_header *hdr, char *payload, int *fd, char *err, size_t errlen)
{
	char buf[sizeof *hdr + IPC_PAYLOAD_MAX + 1];
	ssize_t n = ipc_recvmsg(sock, buf, sizeof buf, fd, 0);
	if (n < 0 && errno == EMSGSIZE) {
		snprintf(err, errlen, "message truncated (over %d bytes or %d descriptors)",
			 IPC_PAYLOAD_MAX, IPC_FDS_MAX);
		errno = EPROTO;
		return -1;
	}
	if (n < 0) {
		snprintf(err, errlen, "recvmsg: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		return 0;
	if ((size_t)n < sizeof *hdr) {
		snprintf(err, errlen, "short message (%zd bytes)", n);
		goto bad;
	}
	memcpy(hdr, buf, sizeof *hdr);
	if (hdr->len > IPC_PAYLOAD_MAX || (size_t)n != sizeof *hdr + hdr->len) {
		snprintf(err, errlen, "length field %u does not match packet of %zd bytes",
			 hdr->len, n);
		goto bad;
	}
	if (hdr->type == 0 || hdr->type >= IPC_TYPE_MAX) {
		snprintf(err, errlen, "unknown message type %u", hdr->type);
		goto bad;
	}
	memcpy(payload, buf + sizeof *hdr, hdr->len);
	payload[hdr->len] = '\0';
	return 1;
bad:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = EPROTO;
	return -1;
}
