/*
 * test_ipc.c: the control channel between the gateway and a worker
 * (proxy/common/ipc.c) over a real SOCK_SEQPACKET socketpair, as the two
 * ends and an attacker on either end see it. Every message kind goes
 * through with payloads of 0, 1 and IPC_PAYLOAD_MAX bytes, with and without
 * a passed descriptor (which arrives close-on-exec and refers to the same
 * file). Raw packets written to the other end (empty, a short header, a
 * length field that disagrees with the packet, one over the cap, a packet
 * larger than any message, unknown types, descriptors where none belong,
 * more descriptors than a message carries, the sender gone halfway) are
 * refused with EPROTO and a reason, or read as the end of the channel,
 * and no descriptor is left open behind them: /proc/self/fd is counted
 * before and after.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc.h"

/* Open descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

static void pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0, "%s",
		     strerror(errno));
}

/* A descriptor to pass: a pipe's read end (its write end in *other). */
static int some_fd(int *other)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	*other = p[1];
	return p[0];
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	cr_assert_eq(fstat(a, &sa), 0);
	cr_assert_eq(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* One raw packet of len bytes with nfds copies of fd attached (nfds may be 0). */
static void send_raw(int sock, const void *buf, size_t len, int fd, int nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 253)];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { 0 };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		cr_assert_leq(nfds, 253);
		memset(&ctl, 0, sizeof ctl);
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		for (int i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + (size_t)i * sizeof(int), &fd, sizeof fd);
	}
	ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	cr_assert_eq(n, (ssize_t)len, "raw send of %zu bytes: %zd (%s)", len, n, strerror(errno));
}

static const enum ipc_type kinds[] = { IPC_SETTINGS, IPC_ATTACH, IPC_STOP, IPC_READY,
				       IPC_ENDED,    IPC_EVENT,  IPC_CLAIM };

Test(ipc, every_kind_goes_through_with_and_without_a_descriptor)
{
	static const size_t lens[] = { 0, 1, 100, IPC_PAYLOAD_MAX };
	static char data[IPC_PAYLOAD_MAX], payload[IPC_PAYLOAD_MAX + 1];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)('a' + i % 26);
	data[7] = '\0'; /* a payload is bytes: a NUL inside goes through */
	int sv[2];
	pair(sv);
	int before = count_fds();
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
			for (int with_fd = 0; with_fd < 2; with_fd++) {
				int other = -1, fd = with_fd ? some_fd(&other) : -1;
				cr_assert_eq(ipc_send(sv[0], kinds[k], data, lens[l], fd), 0,
					     "%s, %zu bytes, fd %d: %s", ipc_type_name(kinds[k]),
					     lens[l], fd, strerror(errno));
				struct ipc_header hdr = { 0, 0 };
				int got = -2;
				char err[128] = "";
				memset(payload, 0x5a, sizeof payload);
				int r = ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err);
				cr_assert_eq(r, 1, "%s, %zu bytes: %d (%s)",
					     ipc_type_name(kinds[k]), lens[l], r, err);
				cr_assert_eq(hdr.type, (uint32_t)kinds[k]);
				cr_assert_eq(hdr.len, (uint32_t)lens[l]);
				cr_assert_eq(memcmp(payload, data, lens[l]), 0);
				cr_assert_eq(payload[lens[l]], '\0', "payload not NUL-terminated");
				if (with_fd) {
					cr_assert_geq(got, 0, "%s: the descriptor was lost",
						      ipc_type_name(kinds[k]));
					cr_assert_neq(got, fd);
					cr_assert(same_file(got, fd), "another file arrived");
					cr_assert(fcntl(got, F_GETFD) & FD_CLOEXEC,
						  "a passed descriptor must not survive an exec");
					close(got);
					close(fd);
					close(other);
				} else {
					cr_assert_eq(got, -1, "a descriptor out of nowhere: %d",
						     got);
				}
			}
		}
	}
	cr_assert_eq(count_fds(), before, "descriptors leaked");
	close(sv[0]);
	close(sv[1]);
	/* and their names in the logs */
	static const char *const names[] = { "SETTINGS", "ATTACH", "STOP", "READY",
					     "ENDED",    "EVENT",  "CLAIM" };
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		cr_expect_str_eq(ipc_type_name(kinds[k]), names[k]);
	cr_expect_str_eq(ipc_type_name(0), "?");
	cr_expect_str_eq(ipc_type_name(IPC_TYPE_MAX), "unknown");
	cr_expect_str_eq(ipc_type_name(0xffffffffu), "unknown");
}

Test(ipc, a_payload_over_the_cap_is_not_sent)
{
	static char big[IPC_PAYLOAD_MAX + 1];
	int sv[2];
	pair(sv);
	errno = 0;
	cr_assert_eq(ipc_send(sv[0], IPC_EVENT, big, sizeof big, -1), -1);
	cr_assert_eq(errno, EMSGSIZE);
	char b[16];
	cr_assert_eq(recv(sv[1], b, sizeof b, MSG_DONTWAIT), -1, "something was sent");
	cr_assert_eq(errno, EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

struct hostile {
	const char *what;
	uint32_t type, len;  /* the header written */
	size_t header_bytes; /* how much of the header is in the packet (0-8) */
	size_t payload;      /* payload bytes after it */
	const char *why;     /* in the error text */
};

/* Each hostile packet, with 0, 1, 2 and 5 descriptors attached. */
Test(ipc, hostile_packets_are_refused_and_leave_no_descriptor_open)
{
	static const struct hostile cases[] = {
		{ "1 byte", IPC_EVENT, 0, 1, 0, "short message (1 bytes)" },
		{ "half a header", IPC_EVENT, 0, 4, 0, "short message (4 bytes)" },
		{ "7 bytes", IPC_EVENT, 0, 7, 0, "short message (7 bytes)" },
		{ "length says 10, 5 came", IPC_EVENT, 10, 8, 5, "length field 10 does not match" },
		{ "length says 5, 10 came", IPC_EVENT, 5, 8, 10, "length field 5 does not match" },
		{ "length says 1, none came", IPC_STOP, 1, 8, 0, "length field 1 does not match" },
		{ "length says 0, a byte came", IPC_READY, 0, 8, 1,
		  "length field 0 does not match" },
		{ "length past the cap, all of it there", IPC_EVENT, IPC_PAYLOAD_MAX + 1, 8,
		  IPC_PAYLOAD_MAX + 1, "length field 8193 does not match" },
		{ "length 4 GiB", IPC_EVENT, 0xffffffffu, 8, 3, "length field 4294967295" },
		{ "length wrapping a 32-bit sum", IPC_EVENT, 0xfffffff8u, 8, 0,
		  "length field 4294967288" },
		{ "a packet larger than any message", IPC_EVENT, IPC_PAYLOAD_MAX + 100, 8,
		  IPC_PAYLOAD_MAX + 100, "message truncated" },
		{ "type 0", 0, 0, 8, 0, "unknown message type 0" },
		{ "type past the last", IPC_TYPE_MAX, 0, 8, 0, "unknown message type 8" },
		{ "type 2^32-1", 0xffffffffu, 2, 8, 2, "unknown message type 4294967295" },
	};
	static const int nfds[] = { 0, 1, 2, 5 };
	static char packet[8 + IPC_PAYLOAD_MAX + 100], payload[IPC_PAYLOAD_MAX + 1];
	int sv[2];
	pair(sv);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct hostile *c = &cases[i];
		for (size_t f = 0; f < sizeof nfds / sizeof nfds[0]; f++) {
			int other, fd = some_fd(&other);
			int before = count_fds();
			struct ipc_header h = { c->type, c->len };
			memcpy(packet, &h, sizeof h);
			memset(packet + sizeof h, 'x', c->payload);
			size_t off = sizeof h -
			    c->header_bytes; /* a short header: its last bytes */
			send_raw(sv[0], packet + off, c->header_bytes + c->payload, fd, nfds[f]);
			struct ipc_header hdr;
			int got = -2;
			char err[128] = "";
			errno = 0;
			int r = ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err);
			cr_expect_eq(r, -1, "%s, %d fds: accepted (%d)", c->what, nfds[f], r);
			cr_expect_eq(errno, EPROTO, "%s: errno %d (%s)", c->what, errno,
				     strerror(errno));
			/* more descriptors than a message carries: refused for that first */
			const char *why = nfds[f] > 4 ? "descriptors" : c->why;
			cr_expect(strstr(err, why) != NULL, "%s, %d fds: \"%s\", expected \"%s\"",
				  c->what, nfds[f], err, why);
			cr_expect_eq(got, -1, "%s, %d fds: descriptor %d handed out", c->what,
				     nfds[f], got);
			cr_expect_eq(count_fds(), before, "%s, %d fds: descriptors leaked", c->what,
				     nfds[f]);
			close(fd);
			close(other);
		}
	}
	/* the channel still works after all that */
	cr_assert_eq(ipc_send(sv[0], IPC_READY, NULL, 0, -1), 0);
	struct ipc_header hdr;
	int got;
	char err[128];
	cr_assert_eq(ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err), 1, "%s", err);
	cr_assert_eq(hdr.type, IPC_READY);
	close(sv[0]);
	close(sv[1]);
}

Test(ipc, extra_descriptors_on_a_good_message_are_closed_and_too_many_refuse_it)
{
	static char payload[IPC_PAYLOAD_MAX + 1];
	struct ipc_header h = { IPC_ATTACH, 0 }, hdr;
	int sv[2];
	pair(sv);
	static const int counts[] = { 1, 2, 3, 4, 5, 6, 16, 64, 253 }; /* 253: SCM_MAX_FD */
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		int nfds = counts[i];
		int other, fd = some_fd(&other);
		int before = count_fds();
		send_raw(sv[0], &h, sizeof h, fd, nfds);
		int got = -2;
		char err[128] = "";
		int r = ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err);
		if (nfds <= 4) {
			/* what ipc.h promises: the first one kept, the rest closed */
			cr_expect_eq(r, 1, "%d descriptors: %d (%s)", nfds, r, err);
			cr_expect_geq(got, 0, "%d descriptors: none kept", nfds);
			if (got >= 0) {
				cr_expect(same_file(got, fd));
				close(got);
			}
		} else {
			/* past what the control buffer holds: the message is refused */
			cr_expect_eq(r, -1, "%d descriptors: accepted", nfds);
			cr_expect_eq(errno, EPROTO);
			cr_expect(strstr(err, "descriptors") != NULL, "%d descriptors: \"%s\"",
				  nfds, err);
			cr_expect_eq(got, -1);
		}
		cr_expect_eq(count_fds(), before, "%d descriptors passed: %d leaked", nfds,
			     count_fds() - before);
		close(fd);
		close(other);
	}
	close(sv[0]);
	close(sv[1]);
}

Test(ipc, the_end_of_the_channel_reads_as_eof_after_what_was_sent)
{
	static char payload[IPC_PAYLOAD_MAX + 1];
	struct ipc_header hdr;
	char err[128];
	int sv[2], got;
	int before = count_fds();
	pair(sv);
	int other, fd = some_fd(&other);
	/* the sender sends a message with a descriptor, and one cut short, then dies */
	cr_assert_eq(ipc_send(sv[0], IPC_ATTACH, NULL, 0, fd), 0);
	struct ipc_header h = { IPC_EVENT, 100 };
	send_raw(sv[0], &h, sizeof h, -1, 0); /* the 100 bytes never come */
	close(sv[0]);
	close(fd);
	cr_assert_eq(ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err), 1, "%s", err);
	cr_assert_geq(got, 0, "the queued descriptor was lost with the sender");
	close(got);
	errno = 0;
	cr_assert_eq(ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err), -1,
		     "a message cut short by the sender's end is refused, not waited for");
	cr_assert_eq(errno, EPROTO);
	cr_assert(strstr(err, "length field 100 does not match packet of 8 bytes"), "%s", err);
	for (int i = 0; i < 3; i++) { /* EOF stays EOF */
		got = -2;
		cr_assert_eq(ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err), 0);
		cr_assert_eq(got, -1);
	}
	close(sv[1]);
	close(other);
	cr_assert_eq(count_fds(), before, "descriptors leaked");
}

Test(ipc, an_empty_packet_reads_as_the_end_of_the_channel)
{
	/*
	 * On SOCK_SEQPACKET recvmsg() returns 0 for an empty packet too: the
	 * receiver cannot tell it from EOF and closes the channel, which only
	 * ends the sender's own session (the gateway and the worker do that on
	 * any malformed message as well).
	 */
	static char payload[IPC_PAYLOAD_MAX + 1];
	struct ipc_header hdr;
	char err[128];
	int sv[2], got = -2;
	pair(sv);
	send_raw(sv[0], "", 0, -1, 0);
	cr_assert_eq(ipc_recv(sv[1], &hdr, payload, &got, err, sizeof err), 0);
	cr_assert_eq(got, -1);
	close(sv[0]);
	close(sv[1]);
}

Test(ipc, recvmsg_keeps_no_descriptor_of_a_packet_that_does_not_fit)
{
	int sv[2];
	pair(sv);
	int before = count_fds();
	int other, fd = some_fd(&other);
	char big[64] = { 0 }, small[16];
	struct iovec iov = { big, sizeof big };
	cr_assert_eq(ipc_sendmsg(sv[0], &iov, 1, fd), (ssize_t)sizeof big);
	int got = -2;
	errno = 0;
	cr_assert_eq(ipc_recvmsg(sv[1], small, sizeof small, &got, 0), -1);
	cr_assert_eq(errno, EMSGSIZE);
	cr_assert_eq(got, -1);
	close(fd);
	close(other);
	cr_assert_eq(count_fds(), before, "the descriptor of a truncated packet leaked");
	/* nothing waiting: MSG_DONTWAIT says so, without a descriptor */
	got = -2;
	cr_assert_eq(ipc_recvmsg(sv[1], small, sizeof small, &got, MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(got, -1);
	close(sv[0]);
	close(sv[1]);
}

Test(ipc, sendmsg_gathers_iovecs_into_one_packet)
{
	int sv[2];
	pair(sv);
	struct iovec iov[3] = { { "ab", 2 }, { "", 0 }, { "cde", 3 } };
	cr_assert_eq(ipc_sendmsg(sv[0], iov, 3, -1), 5);
	char b[16];
	int got;
	cr_assert_eq(ipc_recvmsg(sv[1], b, sizeof b, &got, 0), 5, "not one packet");
	cr_assert_eq(memcmp(b, "abcde", 5), 0);
	cr_assert_eq(got, -1);
	close(sv[0]);
	close(sv[1]);
}

Test(ipc, sending_to_a_gone_peer_fails_without_sigpipe)
{
	int sv[2];
	pair(sv);
	close(sv[1]);
	/* SIGPIPE would kill this test process (Criterion reports a crash) */
	errno = 0;
	cr_assert_eq(ipc_send(sv[0], IPC_STOP, "bye", 3, -1), -1);
	cr_assert_eq(errno, EPIPE, "%s", strerror(errno));
	close(sv[0]);
}
