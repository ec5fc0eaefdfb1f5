/* SPDX-License-Identifier: MIT */
/*
 * The control socket's messages (vmspawn/vmctl.h) on a real
 * SOCK_SEQPACKET pair: a request and its fields back as sent; OUTPUT
 * carrying any bytes (NULs, more NULs than a message has fields, more
 * bytes than a message holds) split over messages and joined back whole;
 * and the VM's proxy's output queue (proxy/vm-output.h) against a client
 * that reads slowly: what the socket does not take waits, in order,
 * nothing is lost, the bytes that went are counted for the guest's
 * credit, and the EXIT queued behind the output comes last.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "vm-output.h"
#include "vmctl.h"

static char rbuf[VMAPP_CTL_MAX + 1];

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
}

static void test_request(void)
{
	int sv[2];
	struct vmapp_ctl_msg msg;
	const char *fields[] = { "sh", "-c", "", "echo 'a b'" };

	pair(sv);
	CHECK(vmapp_ctl_send(sv[0], "RUN", fields, 4) == 0, "send");
	CHECK(vmapp_ctl_recv(sv[1], rbuf, &msg) == 1, "recv");
	CHECK(strcmp(msg.verb, "RUN") == 0 && msg.n_fields == 4, "%s %zu", msg.verb, msg.n_fields);
	for (size_t i = 0; i < 4 && i < msg.n_fields; i++)
		CHECK(strcmp(msg.fields[i], fields[i]) == 0, "field %zu '%s'", i, msg.fields[i]);
	char big[VMAPP_CTL_MAX];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *too_big[] = { big };
	CHECK(vmapp_ctl_send(sv[0], "RUN", too_big, 1) == -EMSGSIZE, "too big");
	close(sv[0]);
	close(sv[1]);
}

/* Sends data as OUTPUT messages, reads them back: the joined bytes. */
static size_t output_round_trip(const char *data, size_t len, char *out, size_t *ret_messages)
{
	int sv[2];
	static char message[VMAPP_CTL_MAX];
	size_t got = 0, messages = 0;

	pair(sv);
	int one = 4 * 1024 * 1024;
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	for (size_t at = 0; at < len;) {
		size_t used;
		size_t size = vmapp_ctl_output_message(at % 2 ? 2 : 1, data + at, len - at, message,
						       &used);
		CHECK(size <= VMAPP_CTL_MAX && used > 0, "message %zu holds %zu", size, used);
		if (send(sv[0], message, size, 0) != (ssize_t)size)
			abort();
		at += used;
		messages++;
		struct vmapp_ctl_msg msg;
		CHECK(vmapp_ctl_recv(sv[1], rbuf, &msg) == 1 && strcmp(msg.verb, "OUTPUT") == 0,
		      "recv");
		got += vmapp_ctl_output_bytes(&msg, out + got);
	}
	close(sv[0]);
	close(sv[1]);
	*ret_messages = messages;
	return got;
}

static void test_output_messages(void)
{
	static char data[300000], out[300000 + VMAPP_CTL_MAX];
	size_t messages;

	/* Text with a NUL inside and at both ends. */
	static const char text[] = "\0hello\0world\n\0";
	CHECK(output_round_trip(text, sizeof(text) - 1, out, &messages) == sizeof(text) - 1 &&
	      memcmp(out, text, sizeof(text) - 1) == 0 && messages == 1, "text with NULs");
	/* NULs only: more than a message has fields. */
	memset(data, 0, 5000);
	size_t n = output_round_trip(data, 5000, out, &messages);
	CHECK(n == 5000 && memcmp(out, data, 5000) == 0, "5000 NULs: %zu bytes back", n);
	CHECK(messages == (5000 + VMAPP_CTL_MAX_FIELDS - 2) / (VMAPP_CTL_MAX_FIELDS - 1) ||
	      messages > 1, "5000 NULs in %zu messages", messages);
	/* Every byte value, more bytes than a message holds. */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + i / 256);
	n = output_round_trip(data, sizeof(data), out, &messages);
	CHECK(n == sizeof(data) && memcmp(out, data, sizeof(data)) == 0 && messages >= 5,
	      "300000 bytes: %zu back in %zu messages", n, messages);
}

/* The proxy's queue against a client whose socket is small and read
 * late. */
static void test_output_queue(void)
{
	int sv[2];
	struct vmapp_vm_output q = { 0 };
	static char data[200000], got[2][200000];
	size_t got_n[2] = { 0, 0 };
	int64_t went = 0;

	pair(sv);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	/* Pushed in pieces as OUTPUT frames come, stdout and stderr
	 * alternating; the socket takes little of it. */
	for (size_t at = 0; at < sizeof(data); at += 8000) {
		int64_t w = vmapp_vm_output_push(&q, sv[0], (at / 8000) % 2 ? 2 : 1, data + at,
						 at + 8000 <= sizeof(data) ? 8000 : sizeof(data) - at);
		CHECK(w >= 0, "push: %lld", (long long)w);
		went += w;
	}
	CHECK(vmapp_vm_output_pending(&q), "everything went through a 4 KiB socket");
	CHECK(went < (int64_t)sizeof(data), "counted %lld bytes as gone", (long long)went);
	char exit_msg[32];
	const char *status[] = { "0" };
	ssize_t size = vmapp_ctl_format(exit_msg, "EXIT", status, 1);
	CHECK(size > 0 && vmapp_vm_output_push_message(&q, sv[0], exit_msg, (size_t)size) >= 0,
	      "EXIT queued");
	/* The client reads; the queue goes as its socket takes more. */
	bool exited = false;
	for (int rounds = 0; rounds < 100000 && !exited; rounds++) {
		struct vmapp_ctl_msg msg;
		int r = vmapp_ctl_recv(sv[1], rbuf, &msg);
		if (r == 1 && strcmp(msg.verb, "OUTPUT") == 0) {
			int k = msg.fields[0][0] == '2';
			got_n[k] += vmapp_ctl_output_bytes(&msg, got[k] + got_n[k]);
		} else if (r == 1 && strcmp(msg.verb, "EXIT") == 0) {
			exited = true;
		} else if (r != -EAGAIN && r != 1) {
			CHECK(false, "recv: %d", r);
			break;
		}
		if (vmapp_vm_output_pending(&q))
			went += vmapp_vm_output_flush(&q, sv[0]);
	}
	CHECK(exited && !vmapp_vm_output_pending(&q), "the EXIT did not come last");
	CHECK(went == (int64_t)sizeof(data), "%lld bytes counted as gone, not %zu",
	      (long long)went, sizeof(data));
	/* Each stream in order and whole. */
	size_t want[2] = { 0, 0 };
	bool ok = true;
	for (size_t at = 0; at < sizeof(data); at += 8000) {
		int k = (at / 8000) % 2;
		size_t len = at + 8000 <= sizeof(data) ? 8000 : sizeof(data) - at;
		ok = ok && want[k] + len <= got_n[k] && memcmp(got[k] + want[k], data + at, len) == 0;
		want[k] += len;
	}
	CHECK(ok && want[0] == got_n[0] && want[1] == got_n[1], "streams %zu/%zu bytes, want %zu/%zu",
	      got_n[0], got_n[1], want[0], want[1]);
	/* A client that is gone: its output counts as gone, nothing waits. */
	close(sv[1]);
	int64_t w = vmapp_vm_output_push(&q, sv[0], 1, data, 5000);
	CHECK(w == 5000 && !vmapp_vm_output_pending(&q), "to a closed client: %lld",
	      (long long)w);
	close(sv[0]);
	vmapp_vm_output_finish(&q);
}

int main(void)
{
	test_request();
	test_output_messages();
	test_output_queue();
	return check_exit_code();
}
