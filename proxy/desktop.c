/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "desktop.h"
#include "sanitize.h"
#include "wire.h"

static const char desktop_suffix[] = ".desktop";
#define SUFFIX_LEN (sizeof(desktop_suffix) - 1)

/* ---- checks shared by both sides ---- */

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* One path word, whatever joins it: [A-Za-z0-9._-]+, not a hidden file
 * (leading '.'), not an option (leading '-'), no "..". */
static bool path_word_valid(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!word_char(s[i]))
			return false;
		if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
			return false;
	}
	return true;
}

static bool id_valid(const char *id, size_t n)
{
	return n > SUFFIX_LEN && n <= VMAPP_DESKTOP_MAX_ID && path_word_valid(id, n) &&
	       memcmp(id + n - SUFFIX_LEN, desktop_suffix, SUFFIX_LEN) == 0;
}

/* Valid UTF-8 without a control character: C0, DEL, or C1 (U+0080..9F,
 * 0xc2 0x80..0x9f in UTF-8; U+0085 is a line break to some readers). */
static bool plain_text(const char *s, size_t n)
{
	if (!vmapp_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] <= 0x9f))
			return false;
	}
	return true;
}

void vmapp_desktop_entry_finish(struct vmapp_desktop_entry *entry)
{
	if (!entry)
		return;
	free(entry->id);
	free(entry->name);
	free(entry->comment);
	free(entry->icon);
	if (entry->categories)
		for (size_t i = 0; i < entry->n_categories; i++)
			free(entry->categories[i]);
	free(entry->categories);
	if (entry->argv)
		for (size_t i = 0; i < entry->argc; i++)
			free(entry->argv[i]);
	free(entry->argv);
	memset(entry, 0, sizeof(*entry));
}

/* ---- guest side: one file ---- */

enum key {
	KEY_TYPE,
	KEY_NAME,
	KEY_COMMENT,
	KEY_ICON,
	KEY_EXEC,
	KEY_CATEGORIES,
	KEY_TERMINAL,
	KEY_NO_DISPLAY,
	KEY_HIDDEN,
	N_KEYS
};

static const char *const key_names[N_KEYS] = {
	[KEY_TYPE] = "Type",
	[KEY_NAME] = "Name",
	[KEY_COMMENT] = "Comment",
	[KEY_ICON] = "Icon",
	[KEY_EXEC] = "Exec",
	[KEY_CATEGORIES] = "Categories",
	[KEY_TERMINAL] = "Terminal",
	[KEY_NO_DISPLAY] = "NoDisplay",
	[KEY_HIDDEN] = "Hidden",
};

/* A value as written in the file: still escaped, blanks around it trimmed. */
struct raw {
	const char *data;
	size_t len;
	bool set;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool raw_is(const struct raw *r, const char *s)
{
	return r->len == strlen(s) && memcmp(r->data, s, r->len) == 0;
}

/* Splits the file into lines and keeps the raw values of the keys we read
 * from [Desktop Entry]; every line is checked, in every group, so that a
 * file we accept is one that any conforming parser reads the same way. */
static int read_lines(const char *text, size_t len, struct raw values[N_KEYS])
{
	static const char entry_group[] = "Desktop Entry";
	bool in_group = false, in_entry = false, seen_entry = false;
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + (nl != NULL);
		if (n > VMAPP_DESKTOP_MAX_LINE)
			return -EINVAL;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		/* NUL and the other controls: a NUL would end the value early
		 * for a C reader and not for us; a lone CR would start a new
		 * line for some readers.  Tab is a blank. */
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)line[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return -EINVAL;
		}
		while (n > 0 && is_blank(line[0])) {
			line++;
			n--;
		}
		if (n == 0 || line[0] == '#')
			continue;

		if (line[0] == '[') {
			while (n > 0 && is_blank(line[n - 1]))
				n--;
			if (n < 3 || line[n - 1] != ']' || memchr(line + 1, '[', n - 2) ||
			    memchr(line + 1, ']', n - 2))
				return -EINVAL;
			in_group = true;
			in_entry = n - 2 == sizeof(entry_group) - 1 &&
				   memcmp(line + 1, entry_group, n - 2) == 0;
			if (in_entry) {
				if (seen_entry)
					return -EINVAL; /* spec: group names are unique */
				seen_entry = true;
			}
			continue;
		}

		const char *eq = memchr(line, '=', n);
		if (!in_group || !eq)
			return -EINVAL;
		size_t key_len = (size_t)(eq - line);
		while (key_len > 0 && is_blank(line[key_len - 1]))
			key_len--;
		if (key_len == 0)
			return -EINVAL;
		if (!in_entry)
			continue;

		const char *value = eq + 1;
		size_t value_len = (size_t)(line + n - value);
		while (value_len > 0 && is_blank(value[0])) {
			value++;
			value_len--;
		}
		while (value_len > 0 && is_blank(value[value_len - 1]))
			value_len--;

		for (int k = 0; k < N_KEYS; k++) {
			if (key_len != strlen(key_names[k]) || memcmp(line, key_names[k], key_len) != 0)
				continue;
			if (values[k].set || value_len > VMAPP_DESKTOP_MAX_VALUE)
				return -EINVAL;
			values[k] = (struct raw){ value, value_len, true };
			break;
		}
	}
	return seen_entry ? 0 : -EINVAL;
}

/* Booleans are "true" or "false"; "1" and "0" too, as GLib reads them. */
static int parse_bool(const struct raw *r, bool *ret)
{
	if (!r->set || raw_is(r, "false") || raw_is(r, "0")) {
		*ret = false;
		return 0;
	}
	if (raw_is(r, "true") || raw_is(r, "1")) {
		*ret = true;
		return 0;
	}
	return -EINVAL;
}

/*
 * Undoes the escapes of string values (spec "Possible value types"):
 * \s \n \t \r \\, and \; inside a list whose separator `sep` is ';' (0:
 * not a list).  Reads v[0..n) up to an unescaped sep into out, which has
 * room for n + 1 bytes, and sets *ret_consumed to the bytes read (the
 * separator included).  Any other escape, or a backslash at the end, is
 * -EINVAL, as GLib has it.
 */
static int unescape(const char *v, size_t n, char sep, char *out, size_t *ret_len,
		    size_t *ret_consumed)
{
	size_t i = 0, o = 0;

	while (i < n) {
		char c = v[i++];
		if (sep != 0 && c == sep)
			break;
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (i == n)
			return -EINVAL;
		c = v[i++];
		if (c == 's')
			out[o++] = ' ';
		else if (c == 'n')
			out[o++] = '\n';
		else if (c == 't')
			out[o++] = '\t';
		else if (c == 'r')
			out[o++] = '\r';
		else if (c == '\\')
			out[o++] = '\\';
		else if (c == ';' && sep == ';')
			out[o++] = ';';
		else
			return -EINVAL;
	}
	out[o] = '\0';
	*ret_len = o;
	*ret_consumed = i;
	return 0;
}

static int unescape_dup(const struct raw *r, char **ret)
{
	size_t len, consumed;
	char *s = malloc(r->len + 1);

	if (!s)
		return -ENOMEM;
	if (unescape(r->data, r->len, 0, s, &len, &consumed) < 0) {
		free(s);
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

/* As unescape_dup(), but an empty value is no value. */
static int optional_string(const struct raw *r, char **ret)
{
	*ret = NULL;
	if (!r->set || r->len == 0)
		return 0;
	return unescape_dup(r, ret);
}

static int parse_categories(const struct raw *r, struct vmapp_desktop_entry *e)
{
	char item[VMAPP_DESKTOP_MAX_VALUE + 1];
	size_t pos = 0;

	while (pos < r->len) {
		size_t len, consumed;
		if (unescape(r->data + pos, r->len - pos, ';', item, &len, &consumed) < 0)
			return -EINVAL;
		pos += consumed;
		if (len == 0)
			continue; /* the trailing ';', or ";;" */
		if (e->n_categories == VMAPP_DESKTOP_MAX_CATEGORIES)
			return -EINVAL;
		if (!e->categories) {
			e->categories = calloc(VMAPP_DESKTOP_MAX_CATEGORIES, sizeof(*e->categories));
			if (!e->categories)
				return -ENOMEM;
		}
		e->categories[e->n_categories] = strdup(item);
		if (!e->categories[e->n_categories])
			return -ENOMEM;
		e->n_categories++;
	}
	return 0;
}

/* Characters that the spec says make a word need quoting; we also count
 * every control character (they can only come from \n \t \r escapes). */
static bool exec_reserved(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f ||
	       (c != '\0' && strchr(" \t\n\"'\\><~|&;$*?#`()", c) != NULL);
}

static int push_word(struct vmapp_desktop_entry *e, size_t *bytes, const char *word, size_t len)
{
	if (e->argc == VMAPP_DESKTOP_MAX_ARGS)
		return -EINVAL;
	*bytes += len;
	if (*bytes > VMAPP_DESKTOP_MAX_VALUE)
		return -EINVAL;
	char *s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, word, len);
	s[len] = '\0';
	e->argv[e->argc++] = s;
	return 0;
}

/* Expands the field codes of one unquoted word (spec "The Exec key": the
 * quoting is undone first, then the codes are expanded, once). */
static int expand_word(struct vmapp_desktop_entry *e, size_t *bytes, const char *word,
		       size_t len)
{
	char out[VMAPP_DESKTOP_MAX_VALUE];
	size_t o = 0;
	bool had_code = false;

	for (size_t i = 0; i < len; i++) {
		if (word[i] != '%') {
			if (o == sizeof(out))
				return -EINVAL;
			out[o++] = word[i];
			continue;
		}
		if (i + 1 == len)
			return -EINVAL;
		char code = word[++i];
		switch (code) {
		case '%':
			if (o == sizeof(out))
				return -EINVAL;
			out[o++] = '%';
			break;
		case 'f': /* files and URLs: the host hands none over */
		case 'u':
		case 'k': /* the file's location: a guest path means nothing on the host */
			had_code = true;
			break;
		case 'F': /* lists, and %i (which is two words): only on their own */
		case 'U':
		case 'i':
			if (len != 2)
				return -EINVAL;
			had_code = true;
			break;
		case 'c': {
			size_t name_len = strlen(e->name);
			if (name_len > sizeof(out) - o)
				return -EINVAL;
			memcpy(out + o, e->name, name_len);
			o += name_len;
			had_code = true;
			break;
		}
		case 'd': /* deprecated: "should be removed from the command line" */
		case 'D':
		case 'n':
		case 'N':
		case 'v':
		case 'm':
			had_code = true;
			break;
		default: /* "invalid and must not be processed" */
			return -EINVAL;
		}
	}
	if (had_code && o == 0)
		return 0;
	return push_word(e, bytes, out, o);
}

/* Splits an unescaped Exec value into e->argv by the spec's quoting rules;
 * then expands each word's field codes, or, without field_codes, keeps it
 * as it is (a '%' is then literal). */
static int split_exec(struct vmapp_desktop_entry *e, const char *s, size_t n, bool field_codes)
{
	char word[VMAPP_DESKTOP_MAX_VALUE + 1]; /* n <= MAX_VALUE: unquoting only shrinks */
	size_t i = 0, bytes = 0;
	int r;

	for (;;) {
		size_t w = 0;

		while (i < n && s[i] == ' ')
			i++;
		if (i == n)
			break;
		if (s[i] == '"') {
			i++;
			for (;;) {
				if (i == n)
					return -EINVAL; /* no closing quote */
				char c = s[i++];
				if (c == '"')
					break;
				if (c == '`' || c == '$')
					return -EINVAL; /* must be escaped, even quoted */
				if (c == '\\') {
					if (i == n || s[i] == '\0' || !strchr("\"`$\\", s[i]))
						return -EINVAL;
					c = s[i++];
				}
				word[w++] = c;
			}
			if (i < n && s[i] != ' ')
				return -EINVAL; /* "a"b: quotes enclose a whole word */
		} else {
			while (i < n && s[i] != ' ') {
				if (exec_reserved(s[i]))
					return -EINVAL;
				word[w++] = s[i++];
			}
		}
		r = field_codes ? expand_word(e, &bytes, word, w) : push_word(e, &bytes, word, w);
		if (r < 0)
			return r;
	}
	if (e->argc == 0 || e->argv[0][0] == '\0')
		return -EINVAL;
	return 0;
}

static int parse_exec(const struct raw *r, struct vmapp_desktop_entry *e)
{
	char value[VMAPP_DESKTOP_MAX_VALUE + 1];
	size_t len, consumed;

	if (unescape(r->data, r->len, 0, value, &len, &consumed) < 0)
		return -EINVAL;
	e->argv = calloc(VMAPP_DESKTOP_MAX_ARGS + 1, sizeof(*e->argv));
	if (!e->argv)
		return -ENOMEM;
	int ret = split_exec(e, value, len, true);
	if (ret < 0)
		return ret;
	char **shrunk = realloc(e->argv, (e->argc + 1) * sizeof(*e->argv));
	if (shrunk)
		e->argv = shrunk;
	return 0;
}

int vmapp_desktop_parse(const char *text, size_t len, const char *desktop_id,
			struct vmapp_desktop_entry *ret_entry)
{
	struct raw values[N_KEYS] = { 0 };
	struct vmapp_desktop_entry e = { 0 };
	bool hidden, no_display;
	int r;

	if (len > VMAPP_DESKTOP_MAX_SIZE ||
	    !id_valid(desktop_id, strnlen(desktop_id, VMAPP_DESKTOP_MAX_ID + 1)) ||
	    !vmapp_utf8_valid(text, len))
		return -EINVAL;
	r = read_lines(text, len, values);
	if (r < 0)
		return r;
	if (parse_bool(&values[KEY_HIDDEN], &hidden) < 0 ||
	    parse_bool(&values[KEY_NO_DISPLAY], &no_display) < 0 ||
	    parse_bool(&values[KEY_TERMINAL], &e.terminal) < 0)
		return -EINVAL;
	if (hidden || no_display)
		return -ENOENT;
	if (!values[KEY_TYPE].set || !values[KEY_NAME].set)
		return -EINVAL;
	if (!raw_is(&values[KEY_TYPE], "Application"))
		return -ENOENT;
	if (!values[KEY_EXEC].set || values[KEY_EXEC].len == 0)
		return -ENOENT;

	e.id = strdup(desktop_id);
	if (!e.id) {
		r = -ENOMEM;
		goto fail;
	}
	r = unescape_dup(&values[KEY_NAME], &e.name);
	if (r < 0)
		goto fail;
	if (e.name[0] == '\0') {
		r = -EINVAL;
		goto fail;
	}
	r = optional_string(&values[KEY_COMMENT], &e.comment);
	if (r < 0)
		goto fail;
	r = optional_string(&values[KEY_ICON], &e.icon);
	if (r < 0)
		goto fail;
	if (values[KEY_CATEGORIES].set) {
		r = parse_categories(&values[KEY_CATEGORIES], &e);
		if (r < 0)
			goto fail;
	}
	r = parse_exec(&values[KEY_EXEC], &e);
	if (r < 0)
		goto fail;
	*ret_entry = e;
	return 0;

fail:
	vmapp_desktop_entry_finish(&e);
	return r;
}

/* ---- guest side: the data dirs ---- */

struct scan {
	struct vmapp_desktop_entry *entries; /* VMAPP_DESKTOP_MAX_ENTRIES slots */
	size_t n_entries;
	char **decided; /* ids settled by an earlier file, sorted */
	size_t n_decided, cap_decided;
	size_t budget; /* directory entries still to look at */
	bool truncated;
	char *buf; /* one file: VMAPP_DESKTOP_MAX_SIZE + 1 bytes */
	struct stat chain[VMAPP_DESKTOP_MAX_DEPTH + 1]; /* the dirs being scanned */
	char id[VMAPP_DESKTOP_MAX_ID + 1];
};

#define SCAN_STOP 1

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Binary search: true when found; *ret_pos is where it is or would go. */
static bool decided_find(const struct scan *s, const char *id, size_t *ret_pos)
{
	size_t lo = 0, hi = s->n_decided;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->decided[mid], id);
		if (c == 0) {
			*ret_pos = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_pos = lo;
	return false;
}

static int decide(struct scan *s, const char *id)
{
	size_t pos;

	if (decided_find(s, id, &pos))
		return 0;
	if (s->n_decided == s->cap_decided) {
		size_t cap = s->cap_decided ? s->cap_decided * 2 : 256;
		char **grown = realloc(s->decided, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->decided = grown;
		s->cap_decided = cap;
	}
	char *copy = strdup(id);
	if (!copy)
		return -ENOMEM;
	memmove(s->decided + pos + 1, s->decided + pos, (s->n_decided - pos) * sizeof(*s->decided));
	s->decided[pos] = copy;
	s->n_decided++;
	return 0;
}

/* Reads a regular file of at most VMAPP_DESKTOP_MAX_SIZE bytes into s->buf. */
static int read_file(struct scan *s, int dfd, const char *name, size_t *ret_len)
{
	struct stat st;
	size_t len = 0;
	/* O_NONBLOCK: if a FIFO took the file's place since the stat, the
	 * open must not wait for a writer (the fstat below refuses it). */
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > VMAPP_DESKTOP_MAX_SIZE) {
		close(fd);
		return -EINVAL;
	}
	/* Read one byte past the limit: the file may have grown since. */
	while (len <= VMAPP_DESKTOP_MAX_SIZE) {
		ssize_t k = read(fd, s->buf + len, VMAPP_DESKTOP_MAX_SIZE + 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			close(fd);
			return -EIO;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	if (len > VMAPP_DESKTOP_MAX_SIZE)
		return -EFBIG;
	*ret_len = len;
	return 0;
}

static int scan_dir(struct scan *s, int dfd, size_t id_len, size_t depth);

static int scan_subdir(struct scan *s, int dfd, const char *name, const struct stat *st,
		       size_t id_len, size_t depth)
{
	size_t n = strlen(name);
	struct stat sub_st;

	if (depth == VMAPP_DESKTOP_MAX_DEPTH || id_len + n + 1 > VMAPP_DESKTOP_MAX_ID)
		return 0;
	/* A symlink to one of the dirs being scanned is a loop. */
	for (size_t k = 0; k <= depth; k++)
		if (s->chain[k].st_dev == st->st_dev && s->chain[k].st_ino == st->st_ino)
			return 0;
	int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	if (sub < 0)
		return 0;
	if (fstat(sub, &sub_st) < 0 || sub_st.st_dev != st->st_dev || sub_st.st_ino != st->st_ino) {
		close(sub); /* replaced since the stat */
		return 0;
	}
	s->chain[depth + 1] = sub_st;
	memcpy(s->id + id_len, name, n);
	s->id[id_len + n] = '-';
	s->id[id_len + n + 1] = '\0';
	return scan_dir(s, sub, id_len + n + 1, depth + 1);
}

static int scan_file(struct scan *s, int dfd, const char *name, const struct stat *st,
		     size_t id_len)
{
	struct vmapp_desktop_entry e;
	size_t n = strlen(name), len = 0, pos;
	int r;

	if (n <= SUFFIX_LEN || strcmp(name + n - SUFFIX_LEN, desktop_suffix) != 0 ||
	    id_len + n > VMAPP_DESKTOP_MAX_ID)
		return 0;
	memcpy(s->id + id_len, name, n + 1);
	if (!id_valid(s->id, id_len + n) || decided_find(s, s->id, &pos))
		return 0;
	if (st->st_size > VMAPP_DESKTOP_MAX_SIZE || read_file(s, dfd, name, &len) < 0)
		return 0;
	r = vmapp_desktop_parse(s->buf, len, s->id, &e);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && r != -ENOENT)
		return 0; /* malformed: as if absent */
	if (r == 0 && s->n_entries == VMAPP_DESKTOP_MAX_ENTRIES) {
		vmapp_desktop_entry_finish(&e);
		s->truncated = true;
		return SCAN_STOP;
	}
	int d = decide(s, s->id);
	if (d < 0) {
		if (r == 0)
			vmapp_desktop_entry_finish(&e);
		return d;
	}
	if (r == 0)
		s->entries[s->n_entries++] = e;
	return 0;
}

/* Scans the open dir dfd (taken over) whose ids start with s->id[0..id_len). */
static int scan_dir(struct scan *s, int dfd, size_t id_len, size_t depth)
{
	DIR *dir = fdopendir(dfd);
	char **names = NULL;
	size_t n_names = 0, cap = 0;
	struct dirent *de;
	int r = 0;

	if (!dir) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(dir))) {
		if (s->budget == 0) {
			s->truncated = true;
			break;
		}
		s->budget--;
		if (de->d_name[0] == '.')
			continue; /* ".", "..", and hidden files: no valid id starts with '.' */
		if (n_names == cap) {
			size_t new_cap = cap ? cap * 2 : 64;
			char **grown = realloc(names, new_cap * sizeof(*grown));
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			names = grown;
			cap = new_cap;
		}
		names[n_names] = strdup(de->d_name);
		if (!names[n_names]) {
			r = -ENOMEM;
			goto out;
		}
		n_names++;
	}
	/* Sorted, so that which of two files with one id wins does not
	 * depend on the order readdir happens to return. */
	if (n_names > 0)
		qsort(names, n_names, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n_names && r == 0; i++) {
		struct stat st;
		if (fstatat(dirfd(dir), names[i], &st, 0) < 0)
			continue; /* dangling link, a loop of links, gone */
		if (S_ISDIR(st.st_mode))
			r = scan_subdir(s, dirfd(dir), names[i], &st, id_len, depth);
		else if (S_ISREG(st.st_mode))
			r = scan_file(s, dirfd(dir), names[i], &st, id_len);
		s->id[id_len] = '\0';
	}
out:
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct vmapp_desktop_entry *)a)->id,
		      ((const struct vmapp_desktop_entry *)b)->id);
}

int vmapp_desktop_list(const char *const *data_dirs, size_t n_dirs,
		       struct vmapp_desktop_list *ret_list)
{
	struct scan *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->budget = VMAPP_DESKTOP_MAX_SCAN;
	s->entries = calloc(VMAPP_DESKTOP_MAX_ENTRIES, sizeof(*s->entries));
	s->buf = malloc(VMAPP_DESKTOP_MAX_SIZE + 1);
	if (!s->entries || !s->buf) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_dirs && r == 0; i++) {
		char path[PATH_MAX];
		if (!data_dirs[i])
			continue;
		int n = snprintf(path, sizeof(path), "%s/applications", data_dirs[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (fstat(fd, &s->chain[0]) < 0) {
			close(fd);
			continue;
		}
		s->id[0] = '\0';
		r = scan_dir(s, fd, 0, 0);
	}
	if (r < 0)
		goto out;

	if (s->n_entries > 0)
		qsort(s->entries, s->n_entries, sizeof(*s->entries), cmp_entry);
	ret_list->entries = s->entries;
	ret_list->n_entries = s->n_entries;
	ret_list->truncated = s->truncated;
	if (s->n_entries > 0) {
		struct vmapp_desktop_entry *shrunk =
			realloc(s->entries, s->n_entries * sizeof(*shrunk));
		if (shrunk)
			ret_list->entries = shrunk;
	}
	s->entries = NULL;
	s->n_entries = 0;
	r = 0;
out:
	if (s->entries)
		for (size_t i = 0; i < s->n_entries; i++)
			vmapp_desktop_entry_finish(&s->entries[i]);
	free(s->entries);
	for (size_t i = 0; i < s->n_decided; i++)
		free(s->decided[i]);
	free(s->decided);
	free(s->buf);
	free(s);
	return r;
}

void vmapp_desktop_list_finish(struct vmapp_desktop_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n_entries; i++)
		vmapp_desktop_entry_finish(&list->entries[i]);
	free(list->entries);
	memset(list, 0, sizeof(*list));
}

/* Adds dir[0..len) to dirs unless relative, empty or already there. */
static int add_dir(char **dirs, size_t *n, const char *dir, size_t len, const char *suffix)
{
	size_t suffix_len = strlen(suffix);

	while (len > 1 && suffix_len == 0 && dir[len - 1] == '/')
		len--;
	if (len == 0 || dir[0] != '/' || len + suffix_len >= PATH_MAX ||
	    *n == VMAPP_DESKTOP_MAX_DATA_DIRS)
		return 0;
	char *d = malloc(len + suffix_len + 1);
	if (!d)
		return -ENOMEM;
	memcpy(d, dir, len);
	memcpy(d + len, suffix, suffix_len + 1);
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(dirs[i], d) == 0) {
			free(d);
			return 0;
		}
	}
	dirs[(*n)++] = d;
	return 0;
}

static int add_dir_list(char **dirs, size_t *n, const char *list)
{
	while (*list) {
		const char *colon = strchr(list, ':');
		size_t len = colon ? (size_t)(colon - list) : strlen(list);
		if (add_dir(dirs, n, list, len, "") < 0)
			return -ENOMEM;
		list += len + (colon != NULL);
	}
	return 0;
}

int vmapp_desktop_data_dirs(const char *xdg_data_home, const char *xdg_data_dirs,
			    const char *home, char ***ret_dirs, size_t *ret_n_dirs)
{
	char **dirs = calloc(VMAPP_DESKTOP_MAX_DATA_DIRS, sizeof(*dirs));
	size_t n = 0;
	int r = 0;

	if (!dirs)
		return -ENOMEM;
	if (xdg_data_home)
		r = add_dir(dirs, &n, xdg_data_home, strlen(xdg_data_home), "");
	if (r == 0 && n == 0 && home) {
		size_t len = strlen(home);
		while (len > 1 && home[len - 1] == '/')
			len--;
		r = add_dir(dirs, &n, home, len, "/.local/share");
	}
	size_t n_home = n;
	if (r == 0 && xdg_data_dirs)
		r = add_dir_list(dirs, &n, xdg_data_dirs);
	if (r == 0 && n == n_home)
		r = add_dir_list(dirs, &n, "/usr/local/share:/usr/share");
	if (r < 0) {
		vmapp_desktop_data_dirs_free(dirs, n);
		return r;
	}
	*ret_dirs = dirs;
	*ret_n_dirs = n;
	return 0;
}

void vmapp_desktop_data_dirs_free(char **dirs, size_t n_dirs)
{
	if (!dirs)
		return;
	for (size_t i = 0; i < n_dirs; i++)
		free(dirs[i]);
	free(dirs);
}

/* ---- host side ---- */

/* Desktop Menu Specification 1.1, appendix A: the Main and Additional
 * Categories.  The Reserved ones (Screensaver, TrayIcon, Applet, Shell)
 * have a desktop-specific meaning that a guest app must not claim. */
static const char *const registered_categories[] = {
	/* main */
	"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics",
	"Network", "Office", "Science", "Settings", "System", "Utility",
	/* additional */
	"Building", "Debugger", "IDE", "GUIDesigner", "Profiling", "RevisionControl",
	"Translation", "Calendar", "ContactManagement", "Database", "Dictionary", "Chart",
	"Email", "Finance", "FlowChart", "PDA", "ProjectManagement", "Presentation",
	"Spreadsheet", "WordProcessor", "2DGraphics", "VectorGraphics", "RasterGraphics",
	"3DGraphics", "Scanning", "OCR", "Photography", "Publishing", "Viewer", "TextTools",
	"DesktopSettings", "HardwareSettings", "Printing", "PackageManager", "Dialup",
	"InstantMessaging", "Chat", "IRCClient", "Feed", "FileTransfer", "HamRadio", "News",
	"P2P", "RemoteAccess", "Telephony", "TelephonyTools", "VideoConference",
	"WebBrowser", "WebDevelopment", "Midi", "Mixer", "Sequencer", "Tuner", "TV",
	"AudioVideoEditing", "Player", "Recorder", "DiscBurning", "ActionGame",
	"AdventureGame", "ArcadeGame", "BoardGame", "BlocksGame", "CardGame", "KidsGame",
	"LogicGame", "RolePlaying", "Shooter", "Simulation", "SportsGame", "StrategyGame",
	"Art", "Construction", "Music", "Languages", "ArtificialIntelligence", "Astronomy",
	"Biology", "Chemistry", "ComputerScience", "DataVisualization", "Economy",
	"Electricity", "Geography", "Geology", "Geoscience", "History", "Humanities",
	"ImageProcessing", "Literature", "Maps", "Math", "NumericalAnalysis",
	"MedicalSoftware", "Physics", "Robotics", "Spirituality", "Sports",
	"ParallelComputing", "Amusement", "Archiving", "Compression", "Electronics",
	"Emulator", "Engineering", "FileTools", "FileManager", "TerminalEmulator",
	"Filesystem", "Monitor", "Security", "Accessibility", "Calculator", "Clock",
	"TextEditor", "Documentation", "Adult", "Core", "KDE", "GNOME", "XFCE", "DDE", "GTK",
	"Qt", "Motif", "Java", "ConsoleOnly",
};

static const char *registered_category(const char *untrusted, size_t len)
{
	for (size_t i = 0; i < sizeof(registered_categories) / sizeof(*registered_categories); i++) {
		const char *c = registered_categories[i];
		if (strlen(c) == len && memcmp(c, untrusted, len) == 0)
			return c;
	}
	return NULL;
}

/* An icon theme name ("firefox-esr", "utilities-terminal"): [A-Za-z0-9._+-],
 * 1..VMAPP_DESKTOP_MAX_ICON bytes, no leading '.' or '-', no "..".  Never a
 * path: a guest's path means nothing on the host and could name a host
 * file for the menu to read. */
static bool icon_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > VMAPP_DESKTOP_MAX_ICON || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!word_char(s[i]) && s[i] != '+')
			return false;
		if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* vmapp_sanitize_title() into out, then ASCII spaces trimmed at both ends. */
static size_t clean_text(const char *untrusted, size_t max_bytes, char *out, size_t out_size)
{
	size_t len = vmapp_sanitize_title(untrusted, strnlen(untrusted, VMAPP_DESKTOP_MAX_VALUE),
					  max_bytes, out, out_size);
	size_t start = 0;

	while (len > 0 && out[len - 1] == ' ')
		len--;
	while (start < len && out[start] == ' ')
		start++;
	memmove(out, out + start, len - start);
	len -= start;
	out[len] = '\0';
	return len;
}

int vmapp_desktop_sanitize(const struct vmapp_desktop_entry *untrusted, const char *vm_name,
			   struct vmapp_desktop_entry *ret_clean)
{
	struct vmapp_desktop_entry c = { 0 };
	char name[VMAPP_DESKTOP_MAX_NAME + 1];
	char comment[VMAPP_DESKTOP_MAX_COMMENT + 1];
	size_t total = 0;

	if (!vmapp_label_valid(vm_name))
		return -EINVAL;

	/* Refused outright: the id names a host file, argv is what runs. */
	const char *untrusted_id = untrusted->id;
	if (!untrusted_id || !id_valid(untrusted_id, strnlen(untrusted_id, VMAPP_DESKTOP_MAX_ID + 1)))
		return -EINVAL;
	char *const *untrusted_argv = untrusted->argv;
	size_t untrusted_argc = untrusted->argc;
	if (!untrusted_argv || untrusted_argc == 0 || untrusted_argc > VMAPP_DESKTOP_MAX_ARGS)
		return -EINVAL;
	for (size_t i = 0; i < untrusted_argc; i++) {
		const char *untrusted_word = untrusted_argv[i];
		if (!untrusted_word)
			return -EINVAL;
		size_t len = strnlen(untrusted_word, VMAPP_DESKTOP_MAX_VALUE + 1);
		total += len;
		if (total > VMAPP_DESKTOP_MAX_VALUE || !plain_text(untrusted_word, len))
			return -EINVAL;
	}
	if (untrusted_argv[0][0] == '\0')
		return -EINVAL;

	/* Cleaned: the text a user reads. */
	if (!untrusted->name || clean_text(untrusted->name, VMAPP_DESKTOP_MAX_NAME, name,
					   sizeof(name)) == 0)
		return -EINVAL;
	if (untrusted->comment)
		clean_text(untrusted->comment, VMAPP_DESKTOP_MAX_COMMENT, comment, sizeof(comment));
	else
		comment[0] = '\0';

	c.terminal = untrusted->terminal ? true : false;
	c.id = strdup(untrusted_id);
	size_t name_size = strlen(vm_name) + strlen(name) + 4;
	c.name = malloc(name_size);
	if (!c.id || !c.name)
		goto nomem;
	snprintf(c.name, name_size, "[%s] %s", vm_name, name);
	if (comment[0] != '\0' && !(c.comment = strdup(comment)))
		goto nomem;

	/* Dropped when not an icon theme name: a path would be a host path. */
	const char *untrusted_icon = untrusted->icon;
	if (untrusted_icon) {
		size_t len = strnlen(untrusted_icon, VMAPP_DESKTOP_MAX_ICON + 1);
		if (icon_name_valid(untrusted_icon, len) && !(c.icon = strdup(untrusted_icon)))
			goto nomem;
	}

	/* Kept only when registered, each once: a word is compared with the
	 * table, never copied, so what reaches the host is the table's. */
	size_t n_categories = untrusted->categories ? untrusted->n_categories : 0;
	if (n_categories > VMAPP_DESKTOP_MAX_CATEGORIES)
		n_categories = VMAPP_DESKTOP_MAX_CATEGORIES;
	for (size_t i = 0; i < n_categories && c.n_categories < VMAPP_DESKTOP_MAX_HOST_CATEGORIES;
	     i++) {
		const char *untrusted_category = untrusted->categories[i];
		if (!untrusted_category)
			continue;
		const char *known = registered_category(untrusted_category,
							strnlen(untrusted_category, 64));
		bool seen = false;
		for (size_t k = 0; known && k < c.n_categories; k++)
			seen = seen || strcmp(c.categories[k], known) == 0;
		if (!known || seen)
			continue;
		if (!c.categories &&
		    !(c.categories = calloc(VMAPP_DESKTOP_MAX_CATEGORIES, sizeof(*c.categories))))
			goto nomem;
		if (!(c.categories[c.n_categories] = strdup(known)))
			goto nomem;
		c.n_categories++;
	}

	c.argv = calloc(untrusted_argc + 1, sizeof(*c.argv));
	if (!c.argv)
		goto nomem;
	for (size_t i = 0; i < untrusted_argc; i++) {
		if (!(c.argv[i] = strdup(untrusted_argv[i])))
			goto nomem;
		c.argc++;
	}
	*ret_clean = c;
	return 0;

nomem:
	vmapp_desktop_entry_finish(&c);
	return -ENOMEM;
}

/* The non-empty ';'-separated words of a Categories value as the agent
 * sends it (no string escaping), the first VMAPP_DESKTOP_MAX_CATEGORIES. */
static int split_categories(struct vmapp_desktop_entry *e, const char *untrusted_categories)
{
	const char *p = untrusted_categories;

	while (*p && e->n_categories < VMAPP_DESKTOP_MAX_CATEGORIES) {
		size_t n = strcspn(p, ";");
		if (n > 0) {
			if (!e->categories) {
				e->categories = calloc(VMAPP_DESKTOP_MAX_CATEGORIES,
						       sizeof(*e->categories));
				if (!e->categories)
					return -ENOMEM;
			}
			if (!(e->categories[e->n_categories] = strndup(p, n)))
				return -ENOMEM;
			e->n_categories++;
		}
		p += n + (p[n] == ';');
	}
	return 0;
}

int vmapp_desktop_entry_from_app(const char *untrusted_id, const char *untrusted_name,
				 const char *untrusted_exec, const char *untrusted_icon,
				 const char *untrusted_categories,
				 struct vmapp_desktop_entry *ret_untrusted)
{
	struct vmapp_desktop_entry e = { 0 };
	size_t len;
	int r;

	if (!untrusted_id || !untrusted_name || !untrusted_exec)
		return -EINVAL;
	/* split_exec()'s word buffer holds MAX_VALUE bytes: unquoting only
	 * shrinks, so a longer value could not give a valid argv anyway. */
	len = strnlen(untrusted_exec, VMAPP_DESKTOP_MAX_VALUE + 1);
	if (len > VMAPP_DESKTOP_MAX_VALUE)
		return -EINVAL;
	e.id = strdup(untrusted_id);
	e.name = strdup(untrusted_name);
	e.argv = calloc(VMAPP_DESKTOP_MAX_ARGS + 1, sizeof(*e.argv));
	if (!e.id || !e.name || !e.argv) {
		r = -ENOMEM;
		goto fail;
	}
	/* The agent has expanded the field codes already (it sends the argv
	 * vmapp_desktop_parse() gave it, requoted): expanding them again
	 * would turn a literal "%%u" into "%u" into nothing. */
	r = split_exec(&e, untrusted_exec, len, false);
	if (r < 0)
		goto fail;
	/* Over the limit, or empty: none, not a refusal of the app (the
	 * sanitiser drops what it does not like of these two too). */
	if (untrusted_icon && untrusted_icon[0] != '\0' &&
	    strnlen(untrusted_icon, VMAPP_DESKTOP_MAX_VALUE + 1) <= VMAPP_DESKTOP_MAX_VALUE &&
	    !(e.icon = strdup(untrusted_icon))) {
		r = -ENOMEM;
		goto fail;
	}
	if (untrusted_categories &&
	    strnlen(untrusted_categories, VMAPP_DESKTOP_MAX_VALUE + 1) <= VMAPP_DESKTOP_MAX_VALUE) {
		r = split_categories(&e, untrusted_categories);
		if (r < 0)
			goto fail;
	}
	*ret_untrusted = e;
	return 0;

fail:
	vmapp_desktop_entry_finish(&e);
	return r;
}

/* Appends to a caller's buffer; len keeps counting past the end, so that
 * the caller learns that it did not fit. */
struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->size && n < o->size - o->len)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A string value: one line, so no control character; a backslash and a
 * leading space escaped (spec "Possible value types"). */
static int put_value(struct out *o, const char *s)
{
	size_t len = strlen(s);

	if (!plain_text(s, len))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			puts_(o, "\\\\");
		else if (s[i] == ' ' && i == 0)
			puts_(o, "\\s");
		else
			put(o, s + i, 1);
	}
	return 0;
}

/*
 * One Exec word, encoded in the reverse order of the spec's decoding
 * (string escapes undone, then quoting, then field codes): % doubled;
 * then quoted, with " ` $ \ backslashed; then every backslash of that
 * doubled by the string escaping.
 */
static int put_exec_word(struct out *o, const char *w)
{
	size_t len = strlen(w);

	if (!plain_text(w, len))
		return -EINVAL;
	puts_(o, "\"");
	for (size_t i = 0; i < len; i++) {
		if (w[i] == '%')
			puts_(o, "%%");
		else if (w[i] == '"' || w[i] == '`' || w[i] == '$') {
			puts_(o, "\\\\");
			put(o, w + i, 1);
		} else if (w[i] == '\\')
			puts_(o, "\\\\\\\\");
		else
			put(o, w + i, 1);
	}
	puts_(o, "\"");
	return 0;
}

int vmapp_desktop_write_host_entry(const struct vmapp_desktop_entry *clean, const char *vm_name,
				   const char *proxy_path, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	size_t vm_len;

	if (!vmapp_label_valid(vm_name) || !proxy_path || proxy_path[0] == '\0' || !clean->name ||
	    !clean->argv || clean->argc == 0 || size == 0)
		return -EINVAL;
	/* The name must carry this VM's label: an entry cleaned for one VM
	 * written out for another would be mislabelled. */
	vm_len = strlen(vm_name);
	if (clean->name[0] != '[' || strncmp(clean->name + 1, vm_name, vm_len) != 0 ||
	    strncmp(clean->name + 1 + vm_len, "] ", 2) != 0)
		return -EINVAL;

	puts_(&o, "[Desktop Entry]\nType=Application\nName=");
	if (put_value(&o, clean->name) < 0)
		return -EINVAL;
	if (clean->comment) {
		puts_(&o, "\nComment=");
		if (put_value(&o, clean->comment) < 0)
			return -EINVAL;
	}
	if (clean->icon) {
		if (!icon_name_valid(clean->icon, strlen(clean->icon)))
			return -EINVAL;
		puts_(&o, "\nIcon=");
		puts_(&o, clean->icon);
	}
	if (clean->n_categories > VMAPP_DESKTOP_MAX_HOST_CATEGORIES)
		return -EINVAL;
	if (clean->n_categories > 0) {
		puts_(&o, "\nCategories=");
		for (size_t i = 0; i < clean->n_categories; i++) {
			const char *cat = clean->categories[i];
			if (!registered_category(cat, strlen(cat)))
				return -EINVAL;
			puts_(&o, cat);
			puts_(&o, ";");
		}
	}
	/* The host entry must itself be one this parser (and so a strict
	 * launcher) takes: the four words in front count against the same
	 * limits as the guest's. */
	size_t words = clean->argc + 4, bytes = strlen(proxy_path) + 4 + vm_len + 2;
	for (size_t i = 0; i < clean->argc; i++)
		bytes += clean->argv[i] ? strlen(clean->argv[i]) : 0;
	if (words > VMAPP_DESKTOP_MAX_ARGS || bytes > VMAPP_DESKTOP_MAX_VALUE)
		return -E2BIG;
	puts_(&o, clean->terminal ? "\nTerminal=true" : "\nTerminal=false");
	puts_(&o, "\nExec=");
	size_t exec_start = o.len;
	if (put_exec_word(&o, proxy_path) < 0)
		return -EINVAL;
	puts_(&o, " \"--vm\" ");
	put_exec_word(&o, vm_name);
	puts_(&o, " \"--\"");
	for (size_t i = 0; i < clean->argc; i++) {
		puts_(&o, " ");
		if (!clean->argv[i] || put_exec_word(&o, clean->argv[i]) < 0)
			return -EINVAL;
	}
	/* Quoting and escaping lengthen the value: it must still be one a
	 * parser takes whole. */
	if (o.len - exec_start > VMAPP_DESKTOP_MAX_VALUE)
		return -E2BIG;
	puts_(&o, "\nX-Vmapp-VM=");
	puts_(&o, vm_name);
	puts_(&o, "\n");

	if (o.len >= size || o.len > INT_MAX)
		return -ENOBUFS;
	buf[o.len] = '\0';
	return (int)o.len;
}

int vmapp_desktop_host_file_name(const char *vm_name, const char *clean_id, char *buf,
				 size_t size)
{
	if (!vmapp_label_valid(vm_name) ||
	    !id_valid(clean_id, strnlen(clean_id, VMAPP_DESKTOP_MAX_ID + 1)))
		return -EINVAL;
	int n = snprintf(buf, size, "vmapp-%s_%s", vm_name, clean_id);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n > VMAPP_DESKTOP_MAX_ID)
		return -ENAMETOOLONG;
	if ((size_t)n >= size)
		return -ENOBUFS;
	return n;
}
