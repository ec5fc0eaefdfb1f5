/* SPDX-License-Identifier: MIT */
/*
 * VM definition files (vmapp-vm(5)): one "KEY = VALUE" a line, whole-line
 * comments, every key at most once, defaults for the keys left out.
 *
 * The file is the user's own, so it is trusted in what it says, but its
 * values end up in QEMU's command line and in paths: every value is
 * checked here, and a bad one fails with FILE:LINE rather than reaching
 * QEMU as something else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error-at.h"
#include "sanitize.h"
#include "vmdef.h"
#include "wire.h"

/* A definition is a dozen short lines; these are far above any real one,
 * so a corrupt or binary file fails at once with a clear reason. */
#define MAX_FILE_SIZE (64 * 1024)
#define MAX_LINE 4096
/* At most this much of a value is quoted back in an error. */
#define MAX_QUOTE 64

#define DEFAULT_MEMORY_MIB 2048u
#define DEFAULT_CPUS 2u

enum key_id {
	KEY_MEMORY,
	KEY_CPUS,
	KEY_IMAGE,
	KEY_ACCEL,
	KEY_NETWORK,
	KEY_AUDIO,
	KEY_AUDIO_BACKEND,
	KEY_SHARE,
	KEY_SHARE_MODE,
	KEY_TRANSPORT,
	KEY_POLICY,
	KEY_COLOUR,
	KEY_PACKAGES,
	N_KEYS,
};

/* The order the file is written in. */
static const char *const key_names[N_KEYS] = {
	[KEY_MEMORY] = "memory",
	[KEY_CPUS] = "cpus",
	[KEY_IMAGE] = "image",
	[KEY_ACCEL] = "accel",
	[KEY_NETWORK] = "network",
	[KEY_AUDIO] = "audio",
	[KEY_AUDIO_BACKEND] = "audio_backend",
	[KEY_SHARE] = "share",
	[KEY_SHARE_MODE] = "share_mode",
	[KEY_TRANSPORT] = "transport",
	[KEY_POLICY] = "policy",
	[KEY_COLOUR] = "colour",
	[KEY_PACKAGES] = "packages",
};

#define KEY_LIST "memory, cpus, image, accel, network, audio, audio_backend, share, " \
	"share_mode, transport, policy, colour or packages"

static const char *const accel_names[] = {
	[VMAPP_ACCEL_AUTO] = "auto", [VMAPP_ACCEL_KVM] = "kvm", [VMAPP_ACCEL_TCG] = "tcg",
};
static const char *const network_names[] = {
	[VMAPP_NETWORK_OFF] = "off", [VMAPP_NETWORK_NAT] = "nat",
};
static const char *const audio_names[] = {
	[VMAPP_AUDIO_OFF] = "off", [VMAPP_AUDIO_PLAYBACK] = "playback",
	[VMAPP_AUDIO_DUPLEX] = "duplex",
};
static const char *const audio_backend_names[] = {
	[VMAPP_AUDIO_BACKEND_PULSEAUDIO] = "pulseaudio",
	[VMAPP_AUDIO_BACKEND_PIPEWIRE] = "pipewire",
	[VMAPP_AUDIO_BACKEND_WAV] = "wav",
	[VMAPP_AUDIO_BACKEND_NONE] = "none",
};
static const char *const share_mode_names[] = {
	[VMAPP_SHARE_AUTO] = "auto", [VMAPP_SHARE_VIRTIOFS] = "virtiofs", [VMAPP_SHARE_9P] = "9p",
};
static const char *const transport_names[] = {
	[VMAPP_TRANSPORT_AUTO] = "auto", [VMAPP_TRANSPORT_VSOCK] = "vsock",
	[VMAPP_TRANSPORT_SERIAL] = "serial",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned value)
{
	return value < n ? names[value] : "?";
}

const char *vmapp_accel_name(enum vmapp_accel v)
{
	return name_of(accel_names, N_OF(accel_names), v);
}

const char *vmapp_network_name(enum vmapp_network v)
{
	return name_of(network_names, N_OF(network_names), v);
}

const char *vmapp_audio_name(enum vmapp_audio v)
{
	return name_of(audio_names, N_OF(audio_names), v);
}

const char *vmapp_audio_backend_name(enum vmapp_audio_backend v)
{
	return name_of(audio_backend_names, N_OF(audio_backend_names), v);
}

const char *vmapp_share_mode_name(enum vmapp_share_mode v)
{
	return name_of(share_mode_names, N_OF(share_mode_names), v);
}

const char *vmapp_transport_name(enum vmapp_transport v)
{
	return name_of(transport_names, N_OF(transport_names), v);
}

const char *const *vmapp_vmdef_keys(size_t *ret_n)
{
	*ret_n = N_KEYS;
	return key_names;
}


/* 'value', or 'value...' when cut.  Values reaching here are checked text
 * (no control characters), so the quote stays on one line. */
static const char *quote(char buf[static MAX_QUOTE + 8], const char *value)
{
	size_t len = strlen(value);

	if (len > MAX_QUOTE) {
		/* Cut at a UTF-8 character boundary. */
		size_t cut = MAX_QUOTE;

		while (cut > 0 && ((unsigned char)value[cut] & 0xc0) == 0x80)
			cut--;
		snprintf(buf, MAX_QUOTE + 8, "'%.*s...'", (int)cut, value);
	} else {
		snprintf(buf, MAX_QUOTE + 8, "'%s'", value);
	}
	return buf;
}

int vmapp_vm_name_check(const char *name, char *ret_error, size_t error_size)
{
	char q[MAX_QUOTE + 8];
	size_t len;

	if (vmapp_label_valid(name))
		return 0;

	/* vmapp_label_valid() is the rule; the rest only says which part of
	 * it failed.  Bytes are shown as hex, so a hostile name can not put
	 * control characters into the message. */
	len = strlen(name);
	if (len == 0) {
		vmapp_set_error(ret_error, error_size, "VM name is empty");
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c >= 0x7f) {
			vmapp_set_error(ret_error, error_size,
				  "VM name has the byte 0x%02x (only a-z, 0-9 and '-')", c);
			return -EINVAL;
		}
	}
	if (len > VMAPP_VM_NAME_MAX) {
		vmapp_set_error(ret_error, error_size, "VM name %s is longer than %u bytes",
			  quote(q, name), VMAPP_VM_NAME_MAX);
		return -EINVAL;
	}
	if (name[0] == '-') {
		vmapp_set_error(ret_error, error_size, "VM name %s starts with '-'", quote(q, name));
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			vmapp_set_error(ret_error, error_size,
				  "VM name %s has '%c' (only a-z, 0-9 and '-')", quote(q, name), c);
			return -EINVAL;
		}
	}
	vmapp_set_error(ret_error, error_size, "VM name %s is not valid", quote(q, name));
	return -EINVAL;
}

struct vmapp_vmdef *vmapp_vmdef_create(const char *name)
{
	struct vmapp_vmdef *def;

	if (vmapp_vm_name_check(name, NULL, 0) < 0)
		return NULL;
	def = calloc(1, sizeof(*def));
	if (!def)
		return NULL;
	snprintf(def->name, sizeof(def->name), "%s", name);
	def->memory_mib = DEFAULT_MEMORY_MIB;
	def->cpus = DEFAULT_CPUS;
	def->image = strdup("default");
	if (!def->image) {
		free(def);
		return NULL;
	}
	def->accel = VMAPP_ACCEL_AUTO;
	def->network = VMAPP_NETWORK_OFF;
	def->audio = VMAPP_AUDIO_OFF;
	def->audio_backend = VMAPP_AUDIO_BACKEND_PULSEAUDIO;
	def->share = NULL;
	def->share_mode = VMAPP_SHARE_AUTO;
	def->transport = VMAPP_TRANSPORT_AUTO;
	def->policy = NULL;
	def->has_colour = false;
	def->packages = strdup(VMAPP_VM_DEFAULT_PACKAGES);
	if (!def->packages) {
		free(def->image);
		free(def);
		return NULL;
	}
	return def;
}

void vmapp_vmdef_destroy(struct vmapp_vmdef *def)
{
	if (!def)
		return;
	free(def->image);
	free(def->share);
	free(def->policy);
	free(def->packages);
	free(def);
}

static int find_key(const char *key)
{
	for (int i = 0; i < N_KEYS; i++)
		if (strcmp(key, key_names[i]) == 0)
			return i;
	return -1;
}

/* One of names[], by its exact spelling; -1 if none. */
static int find_word(const char *value, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(value, names[i]) == 0)
			return (int)i;
	return -1;
}

/* "off, playback or duplex" */
static void word_list(char *buf, size_t size, const char *const *names, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(buf + used, size - used, "%s%s", sep, names[i]);

		if (w < 0 || (size_t)w >= size - used)
			return;
		used += (size_t)w;
	}
}

/*
 * A size: decimal digits and a unit, M (MiB) or G (GiB).  The unit is
 * required: QEMU reads a bare number as MiB and people read it as bytes.
 */
static int parse_memory(const char *value, uint64_t *ret_mib)
{
	size_t len = strlen(value), digits;
	uint64_t n = 0, unit;

	if (len < 2)
		return -EINVAL;
	switch (value[len - 1]) {
	case 'M':
		unit = 1;
		break;
	case 'G':
		unit = 1024;
		break;
	default:
		return -EINVAL;
	}
	digits = len - 1;
	for (size_t i = 0; i < digits; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -EINVAL;
		/* Anything with more digits than this is out of range anyway. */
		if (n > UINT64_MAX / 100)
			return -ERANGE;
		n = n * 10 + (uint64_t)(value[i] - '0');
	}
	if (n > UINT64_MAX / unit)
		return -ERANGE;
	*ret_mib = n * unit;
	return 0;
}

static int parse_uint(const char *value, uint64_t max, uint64_t *ret)
{
	uint64_t n = 0;

	if (value[0] == '\0')
		return -EINVAL;
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > max)
			return -ERANGE;
	}
	*ret = n;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Text that can go on a line of the file and into QEMU's command line:
 * valid UTF-8 without control characters (C0, DEL, C1).  What is wrong,
 * or NULL.
 */
static const char *check_text(const char *value, char *buf, size_t size)
{
	size_t len = strlen(value);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x20 || c == 0x7f) {
			snprintf(buf, size, "has the control character 0x%02x", c);
			return buf;
		}
		/* U+0080..U+009F are C1 controls: 0xc2 0x80..0x9f in UTF-8. */
		if (c == 0xc2 && i + 1 < len && (unsigned char)value[i + 1] >= 0x80 &&
		    (unsigned char)value[i + 1] <= 0x9f) {
			snprintf(buf, size, "has the control character U+%04X",
				 (unsigned char)value[i + 1]);
			return buf;
		}
	}
	if (!vmapp_utf8_valid(value, len))
		return "is not valid UTF-8";
	return NULL;
}

/*
 * An absolute path: starts with '/', no "." or ".." component (the path
 * should say plainly which folder it is), no empty component, no
 * trailing '/' unless it is "/".
 */
static int check_path(const char *key, const char *value, char *ret_error, size_t error_size)
{
	char q[MAX_QUOTE + 8];
	const char *p;

	if (value[0] != '/') {
		vmapp_set_error(ret_error, error_size, "%s %s is not an absolute path", key,
			  quote(q, value));
		return -EINVAL;
	}
	if (strlen(value) >= VMAPP_VM_PATH_MAX) {
		vmapp_set_error(ret_error, error_size, "%s %s is longer than %u bytes", key,
			  quote(q, value), VMAPP_VM_PATH_MAX - 1);
		return -EINVAL;
	}
	p = value;
	while (*p) {
		const char *component = p + 1, *end = strchr(component, '/');
		size_t n = end ? (size_t)(end - component) : strlen(component);

		if ((n == 1 && component[0] == '.') ||
		    (n == 2 && component[0] == '.' && component[1] == '.')) {
			vmapp_set_error(ret_error, error_size, "%s %s has a '%.*s' component", key,
				  quote(q, value), (int)n, component);
			return -EINVAL;
		}
		if (n == 0 && (end || p != value)) {
			vmapp_set_error(ret_error, error_size, "%s %s has an empty component", key,
				  quote(q, value));
			return -EINVAL;
		}
		if (!end)
			break;
		p = end;
	}
	return 0;
}


/* Replaces *slot with a copy of value (NULL for none). */
static int replace_string(char **slot, const char *value)
{
	char *copy = NULL;

	if (value) {
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_enum(int *slot, const char *key, const char *value, const char *const *names,
		    size_t n, char *ret_error, size_t error_size)
{
	char q[MAX_QUOTE + 8], list[128];
	int v = find_word(value, names, n);

	if (v < 0) {
		word_list(list, sizeof(list), names, n);
		vmapp_set_error(ret_error, error_size, "bad %s %s (expected %s)", key, quote(q, value), list);
		return -EINVAL;
	}
	*slot = v;
	return 0;
}

/* A Debian package name (Debian Policy 5.6.1): [a-z0-9][a-z0-9+.-]+. */
static bool package_name_valid(const char *s, size_t len)
{
	if (len < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* packages: Debian package names separated by blanks, kept one space
 * apart; each reaches mmdebstrap's --include, so nothing else passes. */
static int set_packages(struct vmapp_vmdef *def, const char *value, char *ret_error,
			size_t error_size)
{
	char clean[VMAPP_VM_PACKAGES_MAX + 1];
	size_t used = 0, words = 0;
	const char *p = value;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " \t");
		if (!package_name_valid(p, len)) {
			vmapp_set_error(ret_error, error_size, "packages: '%.*s' is not a Debian "
					"package name (a-z, 0-9, '+', '.', '-'; two or more)",
					(int)(len > 64 ? 64 : len), p);
			return -EINVAL;
		}
		if (used + len + 1 > sizeof(clean) - 1 || ++words > VMAPP_VM_PACKAGES_COUNT_MAX) {
			vmapp_set_error(ret_error, error_size, "packages: more than %u names or %u "
					"bytes", VMAPP_VM_PACKAGES_COUNT_MAX,
					VMAPP_VM_PACKAGES_MAX);
			return -EINVAL;
		}
		if (used)
			clean[used++] = ' ';
		memcpy(clean + used, p, len);
		used += len;
		p += len;
	}
	clean[used] = '\0';
	if (used == 0) {
		vmapp_set_error(ret_error, error_size, "packages: name at least one package "
				"(the default is " VMAPP_VM_DEFAULT_PACKAGES ")");
		return -EINVAL;
	}
	return replace_string(&def->packages, clean);
}

int vmapp_vmdef_set(struct vmapp_vmdef *def, const char *key, const char *value,
		    char *ret_error, size_t error_size)
{
	char q[MAX_QUOTE + 8], why[64];
	const char *bad;
	uint64_t n = 0;
	int id, r, v;

	id = find_key(key);
	if (id < 0) {
		/* Keys are [a-z_]: a key of other bytes is not quoted back,
		 * so that the message stays one line of plain text. */
		bool plain = key[0] != '\0' && strlen(key) <= MAX_QUOTE;

		for (const char *p = key; *p; p++)
			if (*p <= 0x20 || *p >= 0x7f)
				plain = false;
		if (plain)
			vmapp_set_error(ret_error, error_size, "unknown key '%s' (expected " KEY_LIST ")",
				  key);
		else
			vmapp_set_error(ret_error, error_size, "bad key (expected " KEY_LIST ")");
		return -EINVAL;
	}
	bad = check_text(value, why, sizeof(why));
	if (bad) {
		/* Not quoted: the value is what is broken. */
		vmapp_set_error(ret_error, error_size, "%s value %s", key, bad);
		return -EINVAL;
	}
	if (value[0] == '\0') {
		vmapp_set_error(ret_error, error_size, "'%s' needs a value", key);
		return -EINVAL;
	}
	/* The file trims them: a value that keeps them would not read back. */
	if (value[0] == ' ' || value[strlen(value) - 1] == ' ') {
		vmapp_set_error(ret_error, error_size, "%s value starts or ends with a space", key);
		return -EINVAL;
	}

	switch ((enum key_id)id) {
	case KEY_MEMORY:
		r = parse_memory(value, &n);
		if (r == -EINVAL) {
			vmapp_set_error(ret_error, error_size,
				  "memory %s is not a size (digits, then M or G: 512M, 2G)",
				  quote(q, value));
			return r;
		}
		if (r == -ERANGE || n < VMAPP_VM_MEMORY_MIN_MIB || n > VMAPP_VM_MEMORY_MAX_MIB) {
			vmapp_set_error(ret_error, error_size,
				  "memory %s is out of range (%uM to %uG)", quote(q, value),
				  VMAPP_VM_MEMORY_MIN_MIB, VMAPP_VM_MEMORY_MAX_MIB / 1024);
			return -EINVAL;
		}
		def->memory_mib = n;
		return 0;
	case KEY_CPUS:
		r = parse_uint(value, UINT32_MAX, &n);
		if (r == -EINVAL) {
			vmapp_set_error(ret_error, error_size, "cpus %s is not a number", quote(q, value));
			return r;
		}
		if (r == -ERANGE || n < 1 || n > VMAPP_VM_CPUS_MAX) {
			vmapp_set_error(ret_error, error_size, "cpus %s is out of range (1 to %u)",
				  quote(q, value), VMAPP_VM_CPUS_MAX);
			return -EINVAL;
		}
		def->cpus = (uint32_t)n;
		return 0;
	case KEY_IMAGE:
		if (value[0] == '/') {
			r = check_path("image", value, ret_error, error_size);
			if (r < 0)
				return r;
		} else if (!vmapp_label_valid(value)) {
			vmapp_set_error(ret_error, error_size,
				  "image %s is neither an absolute path nor an image name "
				  "(1 to 32 of a-z, 0-9 and '-', not starting with '-')",
				  quote(q, value));
			return -EINVAL;
		}
		return replace_string(&def->image, value);
	case KEY_ACCEL:
		r = set_enum(&v, key, value, accel_names, N_OF(accel_names), ret_error, error_size);
		if (r == 0)
			def->accel = (enum vmapp_accel)v;
		return r;
	case KEY_NETWORK:
		r = set_enum(&v, key, value, network_names, N_OF(network_names), ret_error,
			     error_size);
		if (r == 0)
			def->network = (enum vmapp_network)v;
		return r;
	case KEY_AUDIO:
		r = set_enum(&v, key, value, audio_names, N_OF(audio_names), ret_error, error_size);
		if (r == 0)
			def->audio = (enum vmapp_audio)v;
		return r;
	case KEY_AUDIO_BACKEND:
		r = set_enum(&v, key, value, audio_backend_names, N_OF(audio_backend_names),
			     ret_error, error_size);
		if (r == 0)
			def->audio_backend = (enum vmapp_audio_backend)v;
		return r;
	case KEY_SHARE:
		if (strcmp(value, "none") == 0)
			return replace_string(&def->share, NULL);
		r = check_path("share", value, ret_error, error_size);
		if (r < 0)
			return r;
		/* The point of a shared folder is that nothing else of the
		 * host is visible. */
		if (strcmp(value, "/") == 0) {
			vmapp_set_error(ret_error, error_size,
				  "share '/' would show the guest the whole host file system");
			return -EINVAL;
		}
		return replace_string(&def->share, value);
	case KEY_SHARE_MODE:
		r = set_enum(&v, key, value, share_mode_names, N_OF(share_mode_names), ret_error,
			     error_size);
		if (r == 0)
			def->share_mode = (enum vmapp_share_mode)v;
		return r;
	case KEY_TRANSPORT:
		r = set_enum(&v, key, value, transport_names, N_OF(transport_names), ret_error,
			     error_size);
		if (r == 0)
			def->transport = (enum vmapp_transport)v;
		return r;
	case KEY_POLICY:
		if (strcmp(value, "default") == 0)
			return replace_string(&def->policy, NULL);
		r = check_path("policy", value, ret_error, error_size);
		if (r < 0)
			return r;
		return replace_string(&def->policy, value);
	case KEY_PACKAGES:
		return set_packages(def, value, ret_error, error_size);
	case KEY_COLOUR:
		if (strcmp(value, "none") == 0) {
			def->has_colour = false;
			def->colour = 0;
			return 0;
		}
		if (strlen(value) != 7 || value[0] != '#')
			goto bad_colour;
		n = 0;
		for (int i = 1; i < 7; i++) {
			int d = hex_digit(value[i]);

			if (d < 0)
				goto bad_colour;
			n = n * 16 + (uint64_t)d;
		}
		def->has_colour = true;
		def->colour = (uint32_t)n;
		return 0;
bad_colour:
		vmapp_set_error(ret_error, error_size, "colour %s is not #rrggbb or none",
			  quote(q, value));
		return -EINVAL;
	case N_KEYS:
		break;
	}
	return -EINVAL;
}

int vmapp_vmdef_get(const struct vmapp_vmdef *def, const char *key, char *buf, size_t size)
{
	int id = find_key(key), w;

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	switch (id) {
	case KEY_MEMORY:
		if (def->memory_mib % 1024 == 0)
			w = snprintf(buf, size, "%" PRIu64 "G", def->memory_mib / 1024);
		else
			w = snprintf(buf, size, "%" PRIu64 "M", def->memory_mib);
		break;
	case KEY_CPUS:
		w = snprintf(buf, size, "%" PRIu32, def->cpus);
		break;
	case KEY_IMAGE:
		w = snprintf(buf, size, "%s", def->image);
		break;
	case KEY_ACCEL:
		w = snprintf(buf, size, "%s", vmapp_accel_name(def->accel));
		break;
	case KEY_NETWORK:
		w = snprintf(buf, size, "%s", vmapp_network_name(def->network));
		break;
	case KEY_AUDIO:
		w = snprintf(buf, size, "%s", vmapp_audio_name(def->audio));
		break;
	case KEY_AUDIO_BACKEND:
		w = snprintf(buf, size, "%s", vmapp_audio_backend_name(def->audio_backend));
		break;
	case KEY_SHARE:
		w = snprintf(buf, size, "%s", def->share ? def->share : "none");
		break;
	case KEY_SHARE_MODE:
		w = snprintf(buf, size, "%s", vmapp_share_mode_name(def->share_mode));
		break;
	case KEY_TRANSPORT:
		w = snprintf(buf, size, "%s", vmapp_transport_name(def->transport));
		break;
	case KEY_POLICY:
		w = snprintf(buf, size, "%s", def->policy ? def->policy : "default");
		break;
	case KEY_PACKAGES:
		w = snprintf(buf, size, "%s", def->packages);
		break;
	case KEY_COLOUR:
		if (def->has_colour)
			w = snprintf(buf, size, "#%06" PRIx32, def->colour & 0xffffff);
		else
			w = snprintf(buf, size, "none");
		break;
	default:
		return -EINVAL;
	}
	if (w < 0 || (size_t)w >= size) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

static bool same_string(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool vmapp_vmdef_equal(const struct vmapp_vmdef *a, const struct vmapp_vmdef *b)
{
	return strcmp(a->name, b->name) == 0 && a->memory_mib == b->memory_mib &&
	       a->cpus == b->cpus && same_string(a->image, b->image) && a->accel == b->accel &&
	       a->network == b->network && a->audio == b->audio &&
	       a->audio_backend == b->audio_backend && same_string(a->share, b->share) &&
	       a->share_mode == b->share_mode && a->transport == b->transport &&
	       same_string(a->policy, b->policy) && a->has_colour == b->has_colour &&
	       (!a->has_colour || a->colour == b->colour) &&
	       same_string(a->packages, b->packages);
}

struct parser {
	const char *filename;
	char *error;
	size_t error_size;
	size_t line;
	size_t key_line[N_KEYS]; /* 0: not set yet */
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "FILE:LINE: message" and returns -EINVAL. */
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vmapp_error_at(p->error, p->error_size, p->filename, p->line, fmt, ap);
	va_end(ap);
	return r;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line, without its line ending: NUL-free, checked by the caller. */
static int parse_line(struct parser *p, struct vmapp_vmdef *def, char *s, size_t len)
{
	char message[512], *key, *value, *eq, *end;
	int id, r;

	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	s[len] = '\0';
	if (len == 0 || s[0] == '#')
		return 0;

	eq = strchr(s, '=');
	if (!eq)
		return fail(p, "expected KEY = VALUE");
	key = s;
	end = eq;
	while (end > key && is_blank(end[-1]))
		end--;
	*end = '\0';
	value = eq + 1;
	while (is_blank(*value))
		value++;
	if (key[0] == '\0')
		return fail(p, "expected KEY = VALUE");
	for (const char *k = key; *k; k++)
		if (is_blank(*k))
			return fail(p, "expected KEY = VALUE (a key is one word)");

	id = find_key(key);
	if (id >= 0 && p->key_line[id])
		return fail(p, "duplicate '%s' (first at line %zu)", key, p->key_line[id]);

	r = vmapp_vmdef_set(def, key, value, message, sizeof(message));
	if (r == -EINVAL)
		return fail(p, "%s", message);
	if (r < 0)
		return r;
	p->key_line[id] = p->line;
	return 0;
}

/* What is wrong with one key against another, or NULL. */
static const char *combination_error(const struct vmapp_vmdef *def)
{
	/* QEMU's wav backend only plays: a duplex codec on it gets an input
	 * that can not be created ("Failed to create voice `adc'"). */
	if (def->audio == VMAPP_AUDIO_DUPLEX && def->audio_backend == VMAPP_AUDIO_BACKEND_WAV)
		return "audio duplex needs a backend that records; wav only plays "
		       "(use playback, or audio_backend none)";
	return NULL;
}

int vmapp_vmdef_check(const struct vmapp_vmdef *def, char *ret_error, size_t error_size)
{
	const char *why = combination_error(def);

	vmapp_set_error(ret_error, error_size, "%s", why ? why : "");
	return why ? -EINVAL : 0;
}

/* Checks of one key against another, once every line is read. */
static int check_combination(struct parser *p, const struct vmapp_vmdef *def)
{
	const char *why = combination_error(def);
	size_t a = p->key_line[KEY_AUDIO], b = p->key_line[KEY_AUDIO_BACKEND];

	if (!why)
		return 0;
	/* The only rule is audio's: its error is on the later of the two. */
	p->line = a > b ? a : b;
	return fail(p, "%s", why);
}

int vmapp_vmdef_parse(const char *text, size_t len, const char *filename, const char *name,
		      char *ret_error, size_t error_size, struct vmapp_vmdef **ret_def)
{
	struct parser p = {
		.filename = filename,
		.error = ret_error,
		.error_size = error_size,
	};
	struct vmapp_vmdef *def;
	char *line = NULL;
	size_t pos = 0;
	int r = 0;

	*ret_def = NULL;
	vmapp_set_error(ret_error, error_size, "%s", "");
	r = vmapp_vm_name_check(name, ret_error, error_size);
	if (r < 0)
		return r;
	if (len > MAX_FILE_SIZE) {
		vmapp_set_error(ret_error, error_size, "%s: larger than %d bytes", filename, MAX_FILE_SIZE);
		return -EINVAL;
	}
	def = vmapp_vmdef_create(name);
	line = malloc(MAX_LINE + 1);
	if (!def || !line) {
		r = -ENOMEM;
		goto out;
	}

	while (pos < len) {
		const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		size_t content = n;
		bool comment = false, seen_text = false;

		p.line++;
		pos += n + (nl ? 1 : 0);
		if (content > 0 && start[content - 1] == '\r')
			content--;
		if (content > MAX_LINE) {
			r = fail(&p, "line is longer than %d bytes", MAX_LINE);
			goto out;
		}
		/* Bytes first: a NUL anywhere, a control character outside a
		 * comment.  Values are checked for UTF-8 as they are set. */
		for (size_t i = 0; i < content; i++) {
			unsigned char c = (unsigned char)start[i];

			if (c == '\0') {
				r = fail(&p, "NUL byte in column %zu", i + 1);
				goto out;
			}
			if (!seen_text && !is_blank((char)c)) {
				seen_text = true;
				comment = c == '#';
			}
			if (!comment && ((c < 0x20 && c != '\t') || c == 0x7f)) {
				r = fail(&p, "control character 0x%02x in column %zu", c, i + 1);
				goto out;
			}
		}
		if (comment)
			continue;
		memcpy(line, start, content);
		line[content] = '\0';
		r = parse_line(&p, def, line, content);
		if (r < 0)
			goto out;
	}
	r = check_combination(&p, def);
	if (r < 0)
		goto out;
	*ret_def = def;
	def = NULL;
out:
	if (r == -ENOMEM)
		vmapp_set_error(ret_error, error_size, "%s: out of memory", filename);
	free(line);
	vmapp_vmdef_destroy(def);
	return r;
}

int vmapp_vmdef_read(const char *path, char **ret_text, size_t *ret_len,
		     char *ret_error, size_t error_size)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r = 0;

	*ret_text = NULL;
	*ret_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		vmapp_set_error(ret_error, error_size, "%s: %s", path, strerror(-r));
		return r;
	}
	/* One byte more than allowed, to tell "too large" from "just fits";
	 * one more again for the NUL. */
	text = malloc(MAX_FILE_SIZE + 2);
	if (!text) {
		close(fd);
		vmapp_set_error(ret_error, error_size, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (len < MAX_FILE_SIZE + 1) {
		ssize_t n = read(fd, text + len, MAX_FILE_SIZE + 1 - len);

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
	if (len > MAX_FILE_SIZE) {
		vmapp_set_error(ret_error, error_size, "%s: larger than %d bytes", path, MAX_FILE_SIZE);
		r = -EFBIG;
		goto out;
	}
	text[len] = '\0';
	*ret_text = text;
	*ret_len = len;
	text = NULL;
out:
	free(text);
	close(fd);
	return r;
}

int vmapp_vmdef_load(const char *path, const char *name,
		     char *ret_error, size_t error_size, struct vmapp_vmdef **ret_def)
{
	char *text;
	size_t len;
	int r;

	*ret_def = NULL;
	r = vmapp_vmdef_read(path, &text, &len, ret_error, error_size);
	if (r < 0)
		return r;
	r = vmapp_vmdef_parse(text, len, path, name, ret_error, error_size, ret_def);
	free(text);
	return r;
}

char *vmapp_vmdef_serialize(const struct vmapp_vmdef *def)
{
	char *out = NULL, value[VMAPP_VM_PATH_MAX + 16];
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	fprintf(f, "# vmapp VM '%s': see vmapp-vm(5)\n", def->name);
	for (int i = 0; i < N_KEYS; i++) {
		if (vmapp_vmdef_get(def, key_names[i], value, sizeof(value)) < 0) {
			fclose(f);
			free(out);
			return NULL;
		}
		fprintf(f, "%s = %s\n", key_names[i], value);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int vmapp_vmdef_check_host(const struct vmapp_vmdef *def, uint32_t host_cpus,
			   uint64_t host_memory_mib, char *ret_error, size_t error_size)
{
	if (host_cpus > 0 && def->cpus > host_cpus) {
		vmapp_set_error(ret_error, error_size, "cpus %" PRIu32 " is more than this host's %" PRIu32
			  " CPUs", def->cpus, host_cpus);
		return -EINVAL;
	}
	if (host_memory_mib > 0 && def->memory_mib > host_memory_mib) {
		vmapp_set_error(ret_error, error_size,
			  "memory %" PRIu64 "M is more than this host's %" PRIu64 "M",
			  def->memory_mib, host_memory_mib);
		return -EINVAL;
	}
	return 0;
}

uint32_t vmapp_host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 && n <= (long)UINT32_MAX ? (uint32_t)n : 0;
}

uint64_t vmapp_host_memory_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || page <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)page / (1024 * 1024);
}

void vmapp_env_from_environ(struct vmapp_env *env)
{
	env->home = getenv("HOME");
	env->xdg_config_home = getenv("XDG_CONFIG_HOME");
	env->xdg_state_home = getenv("XDG_STATE_HOME");
	env->xdg_data_home = getenv("XDG_DATA_HOME");
	env->xdg_runtime_dir = getenv("XDG_RUNTIME_DIR");
}

static bool absolute(const char *path)
{
	return path && path[0] == '/';
}

static int join(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int join(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* An XDG base directory: the variable when absolute, else home/fallback. */
static int base_dir(char *buf, size_t size, const char *xdg, const struct vmapp_env *env,
		    const char *fallback, const char *variable, char *ret_error, size_t error_size)
{
	if (absolute(xdg)) {
		if (join(buf, size, "%s", xdg) < 0)
			goto too_long;
		return 0;
	}
	if (!absolute(env->home)) {
		vmapp_set_error(ret_error, error_size, "%s is not set and HOME is not an absolute path",
			  variable);
		return -EINVAL;
	}
	if (join(buf, size, "%s/%s", env->home, fallback) < 0)
		goto too_long;
	return 0;
too_long:
	vmapp_set_error(ret_error, error_size, "%s is too long", variable);
	return -ENAMETOOLONG;
}

static void clear_runtime(struct vmapp_vm_paths *paths)
{
	paths->has_runtime = false;
	paths->runtime_dir[0] = '\0';
	paths->pid_file[0] = '\0';
	paths->transport_socket[0] = '\0';
	paths->virtiofs_socket[0] = '\0';
	paths->vsock_socket[0] = '\0';
	paths->agent_socket[0] = '\0';
	paths->qmp_socket[0] = '\0';
	paths->control_socket[0] = '\0';
	paths->lock_file[0] = '\0';
}

int vmapp_vm_config_dir(const struct vmapp_env *env, char *buf, size_t size,
			char *ret_error, size_t error_size)
{
	char base[VMAPP_VM_PATH_MAX];
	int r;

	r = base_dir(base, sizeof(base), env->xdg_config_home, env, ".config", "XDG_CONFIG_HOME",
		     ret_error, error_size);
	if (r < 0)
		return r;
	if (join(buf, size, "%s/vmapp", base) < 0) {
		vmapp_set_error(ret_error, error_size, "XDG_CONFIG_HOME is too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

int vmapp_vm_paths_init(struct vmapp_vm_paths *paths, const struct vmapp_env *env,
			const char *name, char *ret_error, size_t error_size)
{
	char base[VMAPP_VM_PATH_MAX];
	int r;

	memset(paths, 0, sizeof(*paths));
	r = vmapp_vm_name_check(name, ret_error, error_size);
	if (r < 0)
		return r;

	r = vmapp_vm_config_dir(env, paths->config_dir, sizeof(paths->config_dir), ret_error,
				error_size);
	if (r < 0)
		return r;
	if (join(paths->config_file, sizeof(paths->config_file), "%s/%s.vm", paths->config_dir,
		 name) < 0)
		goto too_long;

	r = base_dir(base, sizeof(base), env->xdg_state_home, env, ".local/state",
		     "XDG_STATE_HOME", ret_error, error_size);
	if (r < 0)
		return r;
	if (join(paths->state_dir, sizeof(paths->state_dir), "%s/vmapp/%s", base, name) < 0 ||
	    join(paths->console_log, sizeof(paths->console_log), "%s/console.log",
		 paths->state_dir) < 0 ||
	    join(paths->vm_log, sizeof(paths->vm_log), "%s/vm.log", paths->state_dir) < 0 ||
	    join(paths->overlay, sizeof(paths->overlay), "%s/root.qcow2", paths->state_dir) < 0 ||
	    join(paths->audio_wav, sizeof(paths->audio_wav), "%s/audio.wav", paths->state_dir) < 0)
		goto too_long;

	r = base_dir(base, sizeof(base), env->xdg_data_home, env, ".local/share", "XDG_DATA_HOME",
		     ret_error, error_size);
	if (r < 0)
		return r;
	if (join(paths->images_dir, sizeof(paths->images_dir), "%s/vmapp/images", base) < 0)
		goto too_long;

	clear_runtime(paths);
	if (absolute(env->xdg_runtime_dir)) {
		paths->has_runtime = true;
		if (join(paths->runtime_dir, sizeof(paths->runtime_dir), "%s/vmapp/%s",
			 env->xdg_runtime_dir, name) < 0 ||
		    join(paths->pid_file, sizeof(paths->pid_file), "%s/qemu.pid",
			 paths->runtime_dir) < 0 ||
		    join(paths->transport_socket, sizeof(paths->transport_socket),
			 "%s/transport.sock", paths->runtime_dir) < 0 ||
		    join(paths->virtiofs_socket, sizeof(paths->virtiofs_socket),
			 "%s/virtiofs.sock", paths->runtime_dir) < 0 ||
		    join(paths->vsock_socket, sizeof(paths->vsock_socket),
			 "%s/vsock.sock", paths->runtime_dir) < 0 ||
		    join(paths->agent_socket, sizeof(paths->agent_socket),
			 "%s/agent.sock", paths->runtime_dir) < 0 ||
		    join(paths->qmp_socket, sizeof(paths->qmp_socket), "%s/qmp.sock",
			 paths->runtime_dir) < 0 ||
		    join(paths->control_socket, sizeof(paths->control_socket), "%s/control.sock",
			 paths->runtime_dir) < 0 ||
		    join(paths->lock_file, sizeof(paths->lock_file), "%s/lock",
			 paths->runtime_dir) < 0)
			clear_runtime(paths);
	}
	return 0;
too_long:
	vmapp_set_error(ret_error, error_size, "the paths of VM '%s' are longer than %u bytes", name,
		  VMAPP_VM_PATH_MAX - 1);
	return -ENAMETOOLONG;
}

const char *vmapp_vm_paths_runtime_error(const struct vmapp_vm_paths *paths,
					 const struct vmapp_env *env)
{
	if (paths->has_runtime)
		return NULL;
	if (!env->xdg_runtime_dir || env->xdg_runtime_dir[0] == '\0')
		return "XDG_RUNTIME_DIR is not set";
	if (!absolute(env->xdg_runtime_dir))
		return "XDG_RUNTIME_DIR is not an absolute path";
	return "XDG_RUNTIME_DIR is too long for the VM's socket paths (108 bytes)";
}

int vmapp_vm_image_dir(const struct vmapp_vmdef *def, const struct vmapp_vm_paths *paths,
		       char *buf, size_t size)
{
	if (def->image[0] == '/')
		return join(buf, size, "%s", def->image);
	return join(buf, size, "%s/%s", paths->images_dir, def->image);
}

int vmapp_make_dirs(const char *path, mode_t mode)
{
	char buf[VMAPP_VM_PATH_MAX];

	if (path[0] == '\0')
		return -EINVAL;
	if (join(buf, sizeof(buf), "%s", path) < 0)
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int vmapp_write_synced(int fd, const char *text, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/* Writes text to a new temporary file beside path; its name in tmp. */
static int write_temporary(const char *path, const char *text, char *tmp, size_t tmp_size)
{
	size_t len = strlen(text);
	int fd, r;

	if (join(tmp, tmp_size, "%s.XXXXXX", path) < 0)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = vmapp_write_synced(fd, text, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int vmapp_vmdef_write_text(const char *path, const char *text,
			   char *ret_error, size_t error_size)
{
	char tmp[VMAPP_VM_PATH_MAX + 8];
	int r;

	r = write_temporary(path, text, tmp, sizeof(tmp));
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
	}
	if (r < 0)
		vmapp_set_error(ret_error, error_size, "%s: %s", path, strerror(-r));
	return r;
}

int vmapp_vmdef_write(const char *path, const struct vmapp_vmdef *def,
		      char *ret_error, size_t error_size)
{
	char *text = vmapp_vmdef_serialize(def);
	int r;

	if (!text) {
		vmapp_set_error(ret_error, error_size, "%s: out of memory", path);
		return -ENOMEM;
	}
	r = vmapp_vmdef_write_text(path, text, ret_error, error_size);
	free(text);
	return r;
}

int vmapp_vm_create(const struct vmapp_vm_paths *paths, const char *name,
		    char *ret_error, size_t error_size)
{
	struct vmapp_vmdef *def;
	int r;

	r = vmapp_vm_name_check(name, ret_error, error_size);
	if (r < 0)
		return r;
	def = vmapp_vmdef_create(name);
	if (!def) {
		vmapp_set_error(ret_error, error_size, "%s: out of memory", paths->config_file);
		return -ENOMEM;
	}
	r = vmapp_vm_create_from(paths, def, ret_error, error_size);
	vmapp_vmdef_destroy(def);
	return r;
}

int vmapp_vm_create_from(const struct vmapp_vm_paths *paths, const struct vmapp_vmdef *def,
			 char *ret_error, size_t error_size)
{
	char tmp[VMAPP_VM_PATH_MAX + 8];
	const char *name = def->name;
	char *text;
	int r;

	r = vmapp_vm_name_check(name, ret_error, error_size);
	if (r < 0)
		return r;
	/* Written only when it reads back as the same definition. */
	r = vmapp_vmdef_check(def, ret_error, error_size);
	if (r < 0)
		return r;
	r = vmapp_make_dirs(paths->config_dir, 0700);
	if (r < 0) {
		vmapp_set_error(ret_error, error_size, "%s: %s", paths->config_dir, strerror(-r));
		return r;
	}
	/* The common case of an existing VM, before a temporary file is
	 * made: the folder is left as it was.  link() below is what makes
	 * it certain. */
	if (faccessat(AT_FDCWD, paths->config_file, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		vmapp_set_error(ret_error, error_size, "VM '%s' already exists (%s)", name,
			  paths->config_file);
		return -EEXIST;
	}
	text = vmapp_vmdef_serialize(def);
	if (!text) {
		vmapp_set_error(ret_error, error_size, "%s: out of memory", paths->config_file);
		return -ENOMEM;
	}
	r = write_temporary(paths->config_file, text, tmp, sizeof(tmp));
	free(text);
	if (r < 0) {
		vmapp_set_error(ret_error, error_size, "%s: %s", paths->config_file, strerror(-r));
		return r;
	}
	/* link() fails with EEXIST instead of replacing: two creates of one
	 * name can not both win, and an existing VM is never overwritten. */
	if (link(tmp, paths->config_file) < 0) {
		r = -errno;
		if (r == -EEXIST)
			vmapp_set_error(ret_error, error_size, "VM '%s' already exists (%s)", name,
				  paths->config_file);
		else
			vmapp_set_error(ret_error, error_size, "%s: %s", paths->config_file,
				  strerror(-r));
	}
	unlink(tmp);
	return r;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void vmapp_vm_list_free(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

int vmapp_vm_list(const char *config_dir, char ***ret_names, size_t *ret_n)
{
	char **names = NULL;
	size_t n = 0, allocated = 0;
	struct dirent *entry;
	DIR *dir;
	int r = 0;

	*ret_names = NULL;
	*ret_n = 0;
	dir = opendir(config_dir);
	if (!dir && errno != ENOENT)
		return -errno;
	while (dir && (errno = 0, entry = readdir(dir))) {
		size_t len = strlen(entry->d_name);
		char name[VMAPP_VM_NAME_MAX + 1];

		if (len <= 3 || strcmp(entry->d_name + len - 3, ".vm") != 0 ||
		    len - 3 > VMAPP_VM_NAME_MAX)
			continue;
		memcpy(name, entry->d_name, len - 3);
		name[len - 3] = '\0';
		if (!vmapp_label_valid(name))
			continue;
		if (n + 1 >= allocated) {
			size_t want = allocated ? allocated * 2 : 16;
			char **a = reallocarray(names, want, sizeof(*a));

			if (!a) {
				r = -ENOMEM;
				goto fail;
			}
			names = a;
			allocated = want;
		}
		names[n] = strdup(name);
		if (!names[n]) {
			r = -ENOMEM;
			goto fail;
		}
		names[++n] = NULL;
	}
	if (dir && errno != 0) {
		r = -errno;
		goto fail;
	}
	if (dir)
		closedir(dir);
	if (!names) {
		names = calloc(1, sizeof(*names));
		if (!names)
			return -ENOMEM;
	}
	qsort(names, n, sizeof(*names), compare_names);
	*ret_names = names;
	*ret_n = n;
	return 0;
fail:
	if (names)
		names[n] = NULL;
	vmapp_vm_list_free(names);
	if (dir)
		closedir(dir);
	return r;
}
