/* SPDX-License-Identifier: MIT */
/* Error messages of the line-based file parsers (policies, VM definitions)
 * and of what writes files for them. */
#ifndef VMAPP_ERROR_AT_H
#define VMAPP_ERROR_AT_H

#include <stdarg.h>
#include <stddef.h>

/* Writes "FILE:LINE: message" into error (error_size bytes; nothing when
 * error is NULL or error_size 0) and returns -EINVAL. */
int vmapp_error_at(char *error, size_t error_size, const char *filename, size_t line,
		   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Writes the message into error (nothing when error is NULL or
 * error_size 0): the "why" out-parameter of the parsers and file
 * writers. */
void vmapp_set_error(char *error, size_t error_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
