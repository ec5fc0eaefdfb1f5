/* SPDX-License-Identifier: MIT */
/*
 * The log lines a peer can cause: a client's protocol violations (local
 * mode, and every Wayland client of a VM), the agent's stream and its
 * channels.  A hostile peer can cause them as fast as it can reconnect,
 * and they go to a file on the host's disk (a VM's vm.log), so they are
 * rate-limited for the whole process: VMAPP_PEER_LOG_BURST at once, then
 * VMAPP_PEER_LOG_PER_SECOND a second; when lines come again after some
 * were held back, one line says how many.
 */
#ifndef VMAPP_PEER_LOG_H
#define VMAPP_PEER_LOG_H

#define VMAPP_PEER_LOG_BURST 200
#define VMAPP_PEER_LOG_PER_SECOND 20

/* Writes line and a newline to stderr, unless the rate is spent. */
void vmapp_peer_log(const char *line);

#endif
