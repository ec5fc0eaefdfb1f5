/* SPDX-License-Identifier: MIT */
/*
 * A command's output on its way to the client that asked for it
 * (vmapp-proxy --vm NAME COMMAND): the VM's proxy turns the guest's
 * OUTPUT frames into OUTPUT messages of the control socket (vmctl.h) and
 * sends what the client's socket takes at once; the rest waits in this
 * queue, in order, for the socket to take more.  Nothing is dropped: the
 * caller returns the bytes that went to the guest (OUTPUT_CREDIT), and
 * the guest sends no more than that credit, so the queue holds at most
 * VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT bytes of output (and the EXIT that
 * follows them).
 */
#ifndef VMAPP_VM_OUTPUT_H
#define VMAPP_VM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

struct vmapp_vm_output {
	/* Each entry: u32 message size, u32 output bytes in it, the message. */
	struct vmapp_buf queue;
};

/* Queues stream's bytes (1 stdout, 2 stderr) behind what waits, then
 * sends what fd (non-blocking) takes.  The output bytes that went, for
 * OUTPUT_CREDIT (those of earlier calls too), or -ENOMEM. */
int64_t vmapp_vm_output_push(struct vmapp_vm_output *o, int fd, unsigned stream,
			     const void *data, size_t len);

/* Queues one message of another kind (the EXIT) behind the output, then
 * sends what fd takes: as vmapp_vm_output_push(). */
int64_t vmapp_vm_output_push_message(struct vmapp_vm_output *o, int fd, const void *message,
				     size_t size);

/* Sends what fd takes: the output bytes that went.  To a client that is
 * gone everything goes (lost with it, but no longer waiting). */
int64_t vmapp_vm_output_flush(struct vmapp_vm_output *o, int fd);

static inline bool vmapp_vm_output_pending(const struct vmapp_vm_output *o)
{
	return vmapp_buf_size(&o->queue) > 0;
}

void vmapp_vm_output_finish(struct vmapp_vm_output *o);

#endif
