/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "vm-output.h"
#include "vmctl.h"

static int queue(struct vmapp_vm_output *o, const void *message, uint32_t size, uint32_t bytes)
{
	uint8_t *p = vmapp_buf_reserve(&o->queue, 8 + (size_t)size);
	if (!p)
		return -ENOMEM;
	memcpy(p, &size, 4);
	memcpy(p + 4, &bytes, 4);
	memcpy(p + 8, message, size);
	o->queue.len += 8 + (size_t)size;
	return 0;
}

int64_t vmapp_vm_output_flush(struct vmapp_vm_output *o, int fd)
{
	int64_t went = 0;
	while (vmapp_buf_size(&o->queue) > 0) {
		const uint8_t *head = vmapp_buf_head(&o->queue);
		uint32_t size, bytes;
		memcpy(&size, head, 4);
		memcpy(&bytes, head + 4, 4);
		ssize_t n;
		do
			n = send(fd, head + 8, size, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
			break;
		/* SOCK_SEQPACKET: a message goes whole or not at all.  A
		 * client that is gone (EPIPE, ECONNRESET) reads nothing more:
		 * its output counts as gone on, so that the command in the
		 * guest is not held up by it. */
		vmapp_buf_consume(&o->queue, 8 + (size_t)size);
		went += bytes;
	}
	return went;
}

int64_t vmapp_vm_output_push(struct vmapp_vm_output *o, int fd, unsigned stream,
			     const void *data, size_t len)
{
	static char message[VMAPP_CTL_MAX];
	const char *p = data;
	while (len > 0) {
		size_t used;
		size_t size = vmapp_ctl_output_message(stream, p, len, message, &used);
		if (queue(o, message, (uint32_t)size, (uint32_t)used) < 0)
			return -ENOMEM;
		p += used;
		len -= used;
	}
	return vmapp_vm_output_flush(o, fd);
}

int64_t vmapp_vm_output_push_message(struct vmapp_vm_output *o, int fd, const void *message,
				     size_t size)
{
	if (size > VMAPP_CTL_MAX || queue(o, message, (uint32_t)size, 0) < 0)
		return -ENOMEM;
	return vmapp_vm_output_flush(o, fd);
}

void vmapp_vm_output_finish(struct vmapp_vm_output *o)
{
	vmapp_buf_finish(&o->queue);
}
