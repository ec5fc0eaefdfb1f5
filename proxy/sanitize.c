/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sanitize.h"

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0. */
static size_t decode_one(const unsigned char *s, size_t avail, uint32_t *ret_cp)
{
	size_t n;
	uint32_t cp, min;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4; cp = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

static bool unwanted(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static size_t sanitize(const char *untrusted, size_t len, size_t max_bytes,
		       char *out, size_t out_size, bool word)
{
	const unsigned char *s = (const unsigned char *)untrusted;
	size_t o = 0;

	if (max_bytes > out_size - 1)
		max_bytes = out_size - 1;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = decode_one(s + i, len - i, &cp);
		if (n == 0) {
			i++; /* drop the invalid byte */
			continue;
		}
		if (unwanted(cp)) {
			i += n;
			continue;
		}
		if (word && !(cp < 0x80 && (strchr("._-", (int)cp) ||
					    (cp >= '0' && cp <= '9') ||
					    ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')))) {
			if (o + 1 > max_bytes)
				break;
			out[o++] = '_';
			i += n;
			continue;
		}
		if (o + n > max_bytes)
			break;
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return o;
}

size_t vmapp_sanitize_title(const char *untrusted, size_t len, size_t max_bytes,
			    char *out, size_t out_size)
{
	return sanitize(untrusted, len, max_bytes, out, out_size, false);
}

size_t vmapp_sanitize_app_id(const char *untrusted, size_t len, size_t max_bytes,
			     char *out, size_t out_size)
{
	return sanitize(untrusted, len, max_bytes, out, out_size, true);
}

int vmapp_label_valid(const char *label)
{
	size_t n = strlen(label);
	if (n == 0 || n > 32 || label[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = label[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}
