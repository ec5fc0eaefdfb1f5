/* SPDX-License-Identifier: MIT */
/*
 * The transport bridge: one end of the vmapp-transport(7) stream and its
 * channels, each joined to a local Wayland socket.  The agent's bridge
 * (guest role) joins each guest client's socket to a channel; the proxy's
 * (host role) joins each channel to a socket of the validating relay, so
 * that every message from the guest goes through the same validator as a
 * local client's.
 *
 * It turns file descriptors into frames and frames back into descriptors
 * it makes itself: shm pools (the guest's mapped, the host's mirrored in
 * sealed memfds), fd contents (a keymap from the compositor becomes a
 * memfd in the guest) and pipes carried as streams.  Every frame is
 * decoded and applied through transport.c's rules before anything is done
 * with it; a refused frame costs its channel or the connection, as the
 * codec says.
 *
 * The bridge has its own epoll fd: the owner's loop watches it and calls
 * vmapp_bridge_dispatch when it is readable.
 */
#ifndef VMAPP_BRIDGE_H
#define VMAPP_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "transport.h"
#include "wire.h"

struct vmapp_bridge;
struct vmapp_bridge_channel;

/* The agent's shm mirroring, per channel (agent/shm.c behind it). */
struct vmapp_bridge_guest_ops {
	void *(*create)(void);
	void (*destroy)(void *shm);
	/* One decoded request and its fds, before it is queued: queue shm
	 * frames with vmapp_bridge_queue_shm(), set refs[i] for the fds it
	 * made refs of (others stay 0).  -errno costs the channel. */
	int (*request)(void *shm, struct vmapp_bridge_channel *ch,
		       const struct vmapp_message_view *view, const int *fds, uint32_t *refs);
	/* The bytes of an update, read when it is sent; NULL costs the channel. */
	const uint8_t *(*data)(void *shm, uint32_t ref, uint64_t offset, uint64_t size);
	/* After SHM_DESTROY went out. */
	void (*release)(void *shm, uint32_t ref);
};

struct vmapp_bridge_config {
	enum vmapp_transport_role role;
	const char *name; /* log lines start "NAME: " */
	bool verbose;
	const struct vmapp_transport_limits *limits; /* NULL: the defaults */
	/* Host: a channel opened; returns the connected socket of its
	 * Wayland side (the bridge owns it), or -errno to refuse it. */
	int (*open_channel)(void *data, uint32_t channel);
	/* Guest: the shm mirroring; NULL sends no shm frames (pools refused). */
	const struct vmapp_bridge_guest_ops *guest;
	/* Control frames delivered: RUN, SIGNAL (of a run the guest has not
	 * answered yet) and LIST_APPS (guest), EXIT and APPS (host).  May
	 * call the vmapp_bridge_send_* functions. */
	void (*control)(void *data, struct vmapp_bridge *bridge,
			const struct vmapp_transport_frame *frame);
	void *data;
};

/* Takes the stream fd (owned from now on) and sends HELLO.  NULL on ENOMEM
 * or when an fd can not be made. */
struct vmapp_bridge *vmapp_bridge_create(const struct vmapp_bridge_config *config, int stream_fd);
void vmapp_bridge_destroy(struct vmapp_bridge *bridge); /* accepts NULL */

int vmapp_bridge_fd(const struct vmapp_bridge *bridge);
/* Handles whatever is ready; never blocks. */
void vmapp_bridge_dispatch(struct vmapp_bridge *bridge);

/* The stream is over (closed by the peer, an ERROR either way, a framing
 * error); *ret_error says whether it ended in an error.  Only destroy is
 * left to do. */
bool vmapp_bridge_closed(const struct vmapp_bridge *bridge, bool *ret_error);
/* Both HELLOs went: channels may open. */
bool vmapp_bridge_ready(const struct vmapp_bridge *bridge);
/* Open channels now. */
uint32_t vmapp_bridge_n_channels(const struct vmapp_bridge *bridge);

/* Guest: a new Wayland client on wl_fd (owned from now on): opens a
 * channel for it.  The channel id, or -EBUSY when none is free, -EAGAIN
 * before the handshake (wl_fd is closed on errors). */
int vmapp_bridge_open_channel(struct vmapp_bridge *bridge, int wl_fd);

/* For the guest ops: queues one shm frame, in order with the channel's
 * Wayland bytes. */
enum vmapp_bridge_shm_kind {
	VMAPP_BRIDGE_SHM_CREATE,
	VMAPP_BRIDGE_SHM_RESIZE,
	VMAPP_BRIDGE_SHM_UPDATE,
	VMAPP_BRIDGE_SHM_DESTROY,
};
int vmapp_bridge_queue_shm(struct vmapp_bridge_channel *ch, enum vmapp_bridge_shm_kind kind,
			   uint32_t ref, uint64_t offset, uint64_t size);

/* Control frames, sent at once (see the transport senders for errors). */
int vmapp_bridge_send_run(struct vmapp_bridge *bridge, uint32_t run_id, const char *const *argv,
			  uint32_t argc, const char *const *envp, uint32_t envc);
int vmapp_bridge_send_exit(struct vmapp_bridge *bridge, uint32_t run_id, int32_t status);
int vmapp_bridge_send_list_apps(struct vmapp_bridge *bridge);
/* Guest: what run `run_id` wrote on stream 1 (stdout) or 2 (stderr),
 * 1..VMAPP_TRANSPORT_MAX_OUTPUT bytes, before its EXIT. */
int vmapp_bridge_send_output(struct vmapp_bridge *bridge, uint32_t run_id, uint32_t stream,
			     const void *data, size_t size);
/* Host: `bytes` of run `run_id`'s output went on to whoever asked. */
int vmapp_bridge_send_output_credit(struct vmapp_bridge *bridge, uint32_t run_id, uint32_t bytes);
/* The OUTPUT bytes run `run_id` may send now (guest). */
uint32_t vmapp_bridge_output_credit(const struct vmapp_bridge *bridge, uint32_t run_id);
/* The stream's outgoing buffer is at its bound: a sender that can wait
 * (a command's output) waits until a dispatch has written it out. */
bool vmapp_bridge_stream_full(const struct vmapp_bridge *bridge);
/* Host: `signo` (Linux's number, vmapp_transport_signal_ok()) to the
 * process group of run `run_id`. */
int vmapp_bridge_send_signal(struct vmapp_bridge *bridge, uint32_t run_id, uint32_t signo);
int vmapp_bridge_send_apps(struct vmapp_bridge *bridge, const struct vmapp_transport_app *apps,
			   uint32_t n_apps);

#endif
