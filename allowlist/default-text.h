/* SPDX-License-Identifier: MIT */
/* The compiled-in text of default.policy, written by embed-text.py. */
#ifndef VMAPP_DEFAULT_TEXT_H
#define VMAPP_DEFAULT_TEXT_H

#include <stddef.h>

extern const char vmapp_default_policy_text[];   /* NUL-terminated */
extern const size_t vmapp_default_policy_len;    /* without the NUL */

#endif
