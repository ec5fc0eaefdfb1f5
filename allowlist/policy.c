/* SPDX-License-Identifier: MIT */
/*
 * Policy file parser and queries.  The format is described in
 * vmapp-allowlist(5); in short, one directive a line:
 *
 *	allow INTERFACE VERSION
 *	clipboard off|guest-to-host|both
 *	limit NAME VALUE[K|M|G]
 *
 * The file is written by the administrator, so it is trusted in what it
 * says, but it must not crash or mislead the parser whatever its bytes:
 * a truncated, binary or hand-mangled file fails with a line number.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error-at.h"
#include "policy.h"

/* A directive fits on a line of this many bytes; longer lines are refused
 * rather than read, so a corrupt file fails at once with a clear reason. */
#define MAX_LINE 4096
/* Policy files are a few hundred lines; this is far above any real one. */
#define MAX_FILE_SIZE (1024 * 1024)
/* Interface names in the protocol XML are well below this. */
#define MAX_NAME 256
/* At most this much of a token is quoted back in an error. */
#define MAX_QUOTE 64
/* allow, NAME, VERSION and one more to report as trailing garbage */
#define MAX_TOKENS 4

struct allow_entry {
	char *interface;
	uint32_t version_cap;
	size_t line;
};

struct vmapp_policy {
	struct allow_entry *allowed; /* sorted by interface once parsed */
	size_t n_allowed;
	size_t allocated;
	enum vmapp_clipboard_mode clipboard;
	struct vmapp_limits limits;
};

/* What a file that does not set a limit gets; the same values as the
 * shipped default.policy. */
static const struct vmapp_limits default_limits = {
	.objects = 10000,
	.shm_pools = 256,
	.shm_bytes = UINT64_C(4) * 1024 * 1024 * 1024,
	.fds_in_flight = 64,
	.queue_bytes = UINT64_C(4) * 1024 * 1024,
	.title_length = 256,
	.message_rate = 100000,
};

enum limit_id {
	LIMIT_OBJECTS,
	LIMIT_SHM_POOLS,
	LIMIT_SHM_BYTES,
	LIMIT_FDS,
	LIMIT_QUEUE_BYTES,
	LIMIT_TITLE_LENGTH,
	LIMIT_MESSAGE_RATE,
	N_LIMITS,
};

static const struct {
	const char *name;
	uint64_t max;
} limit_info[N_LIMITS] = {
	[LIMIT_OBJECTS] = { "objects", UINT32_MAX },
	[LIMIT_SHM_POOLS] = { "shm-pools", UINT32_MAX },
	[LIMIT_SHM_BYTES] = { "shm-bytes", UINT64_MAX },
	[LIMIT_FDS] = { "fds", UINT32_MAX },
	[LIMIT_QUEUE_BYTES] = { "queue-bytes", UINT64_MAX },
	[LIMIT_TITLE_LENGTH] = { "title-length", UINT32_MAX },
	[LIMIT_MESSAGE_RATE] = { "message-rate", UINT32_MAX },
};

static const struct {
	const char *name;
	enum vmapp_clipboard_mode mode;
} clipboard_modes[] = {
	{ "off", VMAPP_CLIPBOARD_OFF },
	{ "guest-to-host", VMAPP_CLIPBOARD_GUEST_TO_HOST },
	{ "both", VMAPP_CLIPBOARD_BOTH },
};

struct token {
	const char *start; /* not NUL-terminated */
	size_t len;
};

struct parser {
	const char *filename;
	const struct vmapp_protocol_set *set;
	char *error;
	size_t error_size;
	size_t line;
	struct vmapp_policy *policy;
	size_t clipboard_line;        /* 0: not set yet */
	size_t limit_line[N_LIMITS];  /* 0: not set yet */
};


static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes "FILE:LINE: message" and returns -EINVAL. */
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vmapp_error_at(p->error, p->error_size, p->filename, p->line, fmt, ap);
	va_end(ap);
	return r;
}

/* Quotes a token for an error message: 'tok', or 'tok...' when cut.
 * Tokens hold only printable ASCII, checked before they are split. */
static const char *quote(char buf[static MAX_QUOTE + 8], struct token t)
{
	if (t.len > MAX_QUOTE)
		snprintf(buf, MAX_QUOTE + 8, "'%.*s...'", MAX_QUOTE, t.start);
	else
		snprintf(buf, MAX_QUOTE + 8, "'%.*s'", (int)t.len, t.start);
	return buf;
}

static bool token_is(struct token t, const char *s)
{
	return strlen(s) == t.len && memcmp(t.start, s, t.len) == 0;
}

/*
 * Decimal digits, then, when `suffixes`, one of K, M, G (binary: 1024,
 * 1024^2, 1024^3).  -EINVAL when it is not such a number, -ERANGE when it
 * is above max.  No sign, no spaces, no hex: "0x10" or "-1" is not a number.
 */
static int parse_number(struct token t, bool suffixes, uint64_t max, uint64_t *ret)
{
	uint64_t value = 0, multiplier = 1;
	size_t digits = t.len;

	if (suffixes && t.len > 0) {
		switch (t.start[t.len - 1]) {
		case 'K':
			multiplier = UINT64_C(1) << 10;
			break;
		case 'M':
			multiplier = UINT64_C(1) << 20;
			break;
		case 'G':
			multiplier = UINT64_C(1) << 30;
			break;
		default:
			break;
		}
		if (multiplier != 1)
			digits--;
	}
	if (digits == 0)
		return -EINVAL;
	for (size_t i = 0; i < digits; i++)
		if (t.start[i] < '0' || t.start[i] > '9')
			return -EINVAL;

	for (size_t i = 0; i < digits; i++) {
		unsigned d = (unsigned)(t.start[i] - '0');

		if (value > (UINT64_MAX - d) / 10)
			return -ERANGE;
		value = value * 10 + d;
	}
	if (value > UINT64_MAX / multiplier)
		return -ERANGE;
	value *= multiplier;
	if (value > max)
		return -ERANGE;
	*ret = value;
	return 0;
}

static struct allow_entry *find_allowed(struct vmapp_policy *policy, const char *interface)
{
	for (size_t i = 0; i < policy->n_allowed; i++)
		if (strcmp(policy->allowed[i].interface, interface) == 0)
			return &policy->allowed[i];
	return NULL;
}

static int add_allowed(struct vmapp_policy *policy, const char *interface,
		       uint32_t version_cap, size_t line)
{
	struct allow_entry *entry;

	if (policy->n_allowed == policy->allocated) {
		size_t n = policy->allocated ? policy->allocated * 2 : 32;
		struct allow_entry *a = reallocarray(policy->allowed, n, sizeof(*a));

		if (!a)
			return -ENOMEM;
		policy->allowed = a;
		policy->allocated = n;
	}
	entry = &policy->allowed[policy->n_allowed];
	entry->interface = strdup(interface);
	if (!entry->interface)
		return -ENOMEM;
	entry->version_cap = version_cap;
	entry->line = line;
	policy->n_allowed++;
	return 0;
}

static int parse_allow(struct parser *p, const struct token *tokens, size_t n_tokens)
{
	char q[MAX_QUOTE + 8], name[MAX_NAME];
	const struct vmapp_interface *iface;
	const struct allow_entry *previous;
	uint64_t version;
	int r;

	if (n_tokens < 3)
		return fail(p, "'allow' needs an interface name and a version");
	if (n_tokens > 3)
		return fail(p, "trailing garbage %s", quote(q, tokens[3]));

	/* Interface names are short; a longer token names nothing. */
	if (tokens[1].len >= sizeof(name))
		return fail(p, "unknown interface %s", quote(q, tokens[1]));
	memcpy(name, tokens[1].start, tokens[1].len);
	name[tokens[1].len] = '\0';

	/* Before the table lookup: blocked is the more useful answer, and it
	 * holds for names the vendored tables do not know too. */
	if (vmapp_policy_always_blocked(name))
		return fail(p, "'%s' is always blocked and can not be allowed", name);
	iface = vmapp_protocol_find(p->set, name);
	if (!iface)
		return fail(p, "unknown interface '%s'", name);

	r = parse_number(tokens[2], false, UINT64_MAX, &version);
	if (r == -EINVAL)
		return fail(p, "version %s is not a number", quote(q, tokens[2]));
	if (r == 0 && version == 0)
		return fail(p, "version 0 of '%s' is not a version (versions start at 1)", name);
	/* A cap above what the tables describe would let the guest bind a
	 * version whose messages the validator can not check. */
	if (r == -ERANGE || version > iface->version)
		return fail(p, "version %s of '%s' is above its highest known version %" PRIu32,
			    quote(q, tokens[2]), name, iface->version);

	previous = find_allowed(p->policy, name);
	if (previous)
		return fail(p, "duplicate 'allow %s' (first at line %zu)", name, previous->line);

	r = add_allowed(p->policy, name, (uint32_t)version, p->line);
	if (r < 0)
		return r;
	return 0;
}

static int parse_clipboard(struct parser *p, const struct token *tokens, size_t n_tokens)
{
	char q[MAX_QUOTE + 8];

	if (n_tokens < 2)
		return fail(p, "'clipboard' needs a mode: off, guest-to-host or both");
	if (n_tokens > 2)
		return fail(p, "trailing garbage %s", quote(q, tokens[2]));
	if (p->clipboard_line)
		return fail(p, "duplicate 'clipboard' (first at line %zu)", p->clipboard_line);

	for (size_t i = 0; i < sizeof(clipboard_modes) / sizeof(clipboard_modes[0]); i++) {
		if (token_is(tokens[1], clipboard_modes[i].name)) {
			p->policy->clipboard = clipboard_modes[i].mode;
			p->clipboard_line = p->line;
			return 0;
		}
	}
	return fail(p, "bad clipboard mode %s (expected off, guest-to-host or both)",
		    quote(q, tokens[1]));
}

static void set_limit(struct vmapp_limits *limits, enum limit_id id, uint64_t value)
{
	/* parse_number() kept value within limit_info[id].max */
	switch (id) {
	case LIMIT_OBJECTS:
		limits->objects = (uint32_t)value;
		break;
	case LIMIT_SHM_POOLS:
		limits->shm_pools = (uint32_t)value;
		break;
	case LIMIT_SHM_BYTES:
		limits->shm_bytes = value;
		break;
	case LIMIT_FDS:
		limits->fds_in_flight = (uint32_t)value;
		break;
	case LIMIT_QUEUE_BYTES:
		limits->queue_bytes = value;
		break;
	case LIMIT_TITLE_LENGTH:
		limits->title_length = (uint32_t)value;
		break;
	case LIMIT_MESSAGE_RATE:
		limits->message_rate = (uint32_t)value;
		break;
	case N_LIMITS:
		break;
	}
}

static int parse_limit(struct parser *p, const struct token *tokens, size_t n_tokens)
{
	char q[MAX_QUOTE + 8];
	enum limit_id id;
	uint64_t value;
	int r;

	if (n_tokens < 3)
		return fail(p, "'limit' needs a name and a value");
	if (n_tokens > 3)
		return fail(p, "trailing garbage %s", quote(q, tokens[3]));

	for (id = 0; id < N_LIMITS; id++)
		if (token_is(tokens[1], limit_info[id].name))
			break;
	if (id == N_LIMITS)
		return fail(p, "unknown limit %s (expected objects, shm-pools, shm-bytes, "
			    "fds, queue-bytes, title-length or message-rate)", quote(q, tokens[1]));
	if (p->limit_line[id])
		return fail(p, "duplicate 'limit %s' (first at line %zu)",
			    limit_info[id].name, p->limit_line[id]);

	r = parse_number(tokens[2], true, limit_info[id].max, &value);
	if (r == -EINVAL)
		return fail(p, "limit %s value %s is not a number (digits, then K, M or G)",
			    limit_info[id].name, quote(q, tokens[2]));
	if (r == -ERANGE)
		return fail(p, "limit %s value %s is too large (at most %" PRIu64 ")",
			    limit_info[id].name, quote(q, tokens[2]), limit_info[id].max);
	/* Zero would mean "nothing at all", which no client survives; turning
	 * a feature off is done by not allowing its interface. */
	if (value == 0)
		return fail(p, "limit %s must be at least 1", limit_info[id].name);

	set_limit(&p->policy->limits, id, value);
	p->limit_line[id] = p->line;
	return 0;
}

static int parse_line(struct parser *p, const char *line, size_t len)
{
	struct token tokens[MAX_TOKENS];
	size_t n_tokens = 0, content_len = len;
	char q[MAX_QUOTE + 8];

	if (len > MAX_LINE)
		return fail(p, "line is longer than %d bytes", MAX_LINE);

	/* Everything after '#' is a comment, in any encoding; before it,
	 * printable ASCII and blanks only, so that every token is safe to
	 * quote back and nothing invisible can change a line's meaning. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0')
			return fail(p, "NUL byte in column %zu", i + 1);
		if (content_len == len && c == '#')
			content_len = i;
		if (content_len == len && c != ' ' && c != '\t' && (c < 0x21 || c > 0x7e))
			return fail(p, "invalid byte 0x%02x in column %zu", c, i + 1);
	}

	for (size_t i = 0; i < content_len;) {
		size_t start;

		if (line[i] == ' ' || line[i] == '\t') {
			i++;
			continue;
		}
		start = i;
		while (i < content_len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (n_tokens == MAX_TOKENS)
			break; /* enough to report trailing garbage */
		tokens[n_tokens++] = (struct token){ line + start, i - start };
	}

	if (n_tokens == 0)
		return 0;
	if (token_is(tokens[0], "allow"))
		return parse_allow(p, tokens, n_tokens);
	if (token_is(tokens[0], "clipboard"))
		return parse_clipboard(p, tokens, n_tokens);
	if (token_is(tokens[0], "limit"))
		return parse_limit(p, tokens, n_tokens);
	return fail(p, "unknown directive %s (expected allow, clipboard or limit)",
		    quote(q, tokens[0]));
}

static int compare_entries(const void *a, const void *b)
{
	const struct allow_entry *x = a, *y = b;

	return strcmp(x->interface, y->interface);
}

static int compare_key(const void *key, const void *entry)
{
	const struct allow_entry *e = entry;

	return strcmp(key, e->interface);
}

int vmapp_policy_parse(const char *text, size_t len, const char *filename,
		       const struct vmapp_protocol_set *set,
		       char *ret_error, size_t error_size,
		       struct vmapp_policy **ret_policy)
{
	struct parser p = {
		.filename = filename ? filename : "(policy)",
		.set = set,
		.error = ret_error,
		.error_size = error_size,
	};
	size_t pos = 0;
	int r;

	vmapp_set_error(ret_error, error_size, "%s", "");
	*ret_policy = NULL;
	if (!text && len > 0) {
		vmapp_set_error(ret_error, error_size, "%s: no text", p.filename);
		return -EINVAL;
	}

	p.policy = calloc(1, sizeof(*p.policy));
	if (!p.policy)
		goto out_of_memory;
	/* Nothing is allowed and nothing crosses the clipboard unless the
	 * file says so; limits fall back to the shipped defaults. */
	p.policy->clipboard = VMAPP_CLIPBOARD_OFF;
	p.policy->limits = default_limits;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t line_len = end - pos;

		p.line++;
		/* CRLF files are ordinary text files from another system. */
		if (line_len > 0 && text[end - 1] == '\r')
			line_len--;
		r = parse_line(&p, text + pos, line_len);
		if (r == -ENOMEM)
			goto out_of_memory;
		if (r < 0) {
			vmapp_policy_destroy(p.policy);
			return r;
		}
		pos = nl ? end + 1 : len;
	}

	if (p.policy->n_allowed > 0)
		qsort(p.policy->allowed, p.policy->n_allowed,
		      sizeof(p.policy->allowed[0]), compare_entries);
	*ret_policy = p.policy;
	return 0;

out_of_memory:
	vmapp_policy_destroy(p.policy);
	vmapp_set_error(ret_error, error_size, "%s: out of memory", p.filename);
	return -ENOMEM;
}

int vmapp_policy_load(const char *path, const struct vmapp_protocol_set *set,
		      char *ret_error, size_t error_size,
		      struct vmapp_policy **ret_policy)
{
	char *text = NULL;
	size_t len = 0, allocated = 0;
	int fd, r;

	*ret_policy = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		vmapp_set_error(ret_error, error_size, "%s: %s", path, strerror(-r));
		return r;
	}
	/* Read to the end rather than trust a size from fstat(): a FIFO or
	 * /dev/stdin is fine too.  A directory fails here with EISDIR.  One
	 * byte more than the maximum is read to tell "too large" from "full". */
	for (;;) {
		ssize_t n;

		if (len > MAX_FILE_SIZE) {
			r = -EFBIG;
			vmapp_set_error(ret_error, error_size, "%s: larger than %d bytes",
				  path, MAX_FILE_SIZE);
			goto out;
		}
		if (len == allocated) {
			size_t size = allocated ? allocated * 2 : 4096;
			char *t;

			if (size > MAX_FILE_SIZE + 1)
				size = MAX_FILE_SIZE + 1;
			t = realloc(text, size);
			if (!t) {
				r = -ENOMEM;
				vmapp_set_error(ret_error, error_size, "%s: out of memory", path);
				goto out;
			}
			text = t;
			allocated = size;
		}
		n = read(fd, text + len, allocated - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			vmapp_set_error(ret_error, error_size, "%s: %s", path, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = vmapp_policy_parse(text, len, path, set, ret_error, error_size, ret_policy);
out:
	free(text);
	close(fd);
	return r;
}

void vmapp_policy_destroy(struct vmapp_policy *policy)
{
	if (!policy)
		return;
	for (size_t i = 0; i < policy->n_allowed; i++)
		free(policy->allowed[i].interface);
	free(policy->allowed);
	free(policy);
}

uint32_t vmapp_policy_version_cap(const struct vmapp_policy *policy,
				  const char *interface)
{
	const struct allow_entry *entry;

	/* Blocked first: whatever a parsed policy holds, these stay out. */
	if (!policy || !interface || vmapp_policy_always_blocked(interface))
		return 0;
	if (policy->n_allowed == 0)
		return 0;
	entry = bsearch(interface, policy->allowed, policy->n_allowed,
			sizeof(policy->allowed[0]), compare_key);
	return entry ? entry->version_cap : 0;
}

enum vmapp_clipboard_mode vmapp_policy_clipboard(const struct vmapp_policy *policy)
{
	return policy->clipboard;
}

const struct vmapp_limits *vmapp_policy_limits(const struct vmapp_policy *policy)
{
	return &policy->limits;
}
