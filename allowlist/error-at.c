/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "error-at.h"

int vmapp_error_at(char *error, size_t error_size, const char *filename, size_t line,
		   const char *fmt, va_list ap)
{
	if (!error || error_size == 0)
		return -EINVAL;
	int n = snprintf(error, error_size, "%s:%zu: ", filename, line);
	if (n < 0 || (size_t)n >= error_size)
		return -EINVAL;
	vsnprintf(error + n, error_size - (size_t)n, fmt, ap);
	return -EINVAL;
}

void vmapp_set_error(char *error, size_t error_size, const char *fmt, ...)
{
	va_list ap;

	if (!error || error_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(error, error_size, fmt, ap);
	va_end(ap);
}
