/* SPDX-License-Identifier: MIT */
/* Cleaning guest-chosen text before it reaches the desktop. */
#ifndef VMAPP_SANITIZE_H
#define VMAPP_SANITIZE_H

#include <stddef.h>

/*
 * Copies untrusted text into out (out_size > 0), keeping only valid UTF-8
 * that is neither a control character (C0, DEL, C1) nor a bidirectional
 * control (U+061C, U+200E/F, U+202A..E, U+2066..9), cut at a character
 * boundary after at most max_bytes.  Returns the bytes written, always
 * NUL-terminated.
 */
size_t vmapp_sanitize_title(const char *untrusted, size_t len, size_t max_bytes,
			    char *out, size_t out_size);

/* As above, then anything outside [A-Za-z0-9._-] becomes '_': an app_id
 * is matched against .desktop file names and must stay one path word. */
size_t vmapp_sanitize_app_id(const char *untrusted, size_t len, size_t max_bytes,
			     char *out, size_t out_size);

/* A label (a VM name) is used in titles, app_ids and paths: 1..32 of
 * [a-z0-9-], not starting with '-'. */
int vmapp_label_valid(const char *label);

#endif
