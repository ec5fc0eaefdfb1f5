/* SPDX-License-Identifier: MIT */
/*
 * vmapp-vm's commands: create, list, show, set and delete VM definitions
 * (vmapp-vm(1), the files are vmapp-vm(5)).
 *
 * Every value from the command line goes through vmapp_vmdef_set(), the
 * parser's own check of a line, so a setting is refused with the message
 * the file would get.  A VM name is checked before it becomes part of a
 * path: nothing is read, written or removed for a name that fails the
 * rule, and a valid name has no '/' or '.' to climb out of
 * $XDG_CONFIG_HOME/vmapp or the VM's state folder with.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "vm-cli.h"

/* More than the keys there are (12): room for new ones, checked at run time. */
#define MAX_KEYS 32
/* A value with a path in it, as vmapp_vmdef_get() writes it. */
#define VALUE_MAX (VMAPP_VM_PATH_MAX + 16)
#define ERROR_MAX 1024
/* A state folder is a few disks and logs; deeper than this is not ours. */
#define MAX_TREE_DEPTH 32
/* Passes over a folder while removing it (readdir() may skip entries
 * that are removed while it reads). */
#define MAX_REMOVE_PASSES 4

void vmapp_vm_say(const char *fmt, ...)
{
	va_list ap;

	fputs("vmapp-vm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int out_of_memory(void)
{
	vmapp_vm_say("out of memory");
	return VMAPP_VM_EXIT_UNEXPECTED;
}

/* Printable ASCII, short: an argument that can be quoted back as it is. */
static bool quotable(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (*s < 0x20 || *s >= 0x7f || n >= 64)
			return false;
	return true;
}

/* stdout reached its reader, or exit status 1 with why. */
static int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		vmapp_vm_say("can not write the output: %s", strerror(errno));
		return VMAPP_VM_EXIT_FAILED;
	}
	return VMAPP_VM_EXIT_OK;
}

static int check_name(const char *name)
{
	char why[256];

	if (vmapp_vm_name_check(name, why, sizeof(why)) == 0)
		return VMAPP_VM_EXIT_OK;
	vmapp_vm_say("%s", why);
	vmapp_vm_say("a VM name is 1 to 32 of a-z, 0-9 and '-', not starting with '-' "
	    "(it labels the VM's windows and names its files)");
	return VMAPP_VM_EXIT_USAGE;
}

/* The name checked (exit 2), then its paths (exit 1: the environment). */
int vmapp_vm_cli_paths(const struct vmapp_env *env, const char *name, struct vmapp_vm_paths *paths)
{
	char why[ERROR_MAX];
	int r = check_name(name);

	if (r != VMAPP_VM_EXIT_OK)
		return r;
	if (vmapp_vm_paths_init(paths, env, name, why, sizeof(why)) < 0) {
		vmapp_vm_say("%s", why);
		return VMAPP_VM_EXIT_FAILED;
	}
	return VMAPP_VM_EXIT_OK;
}

int vmapp_vm_no_such_vm(const char *name, const struct vmapp_vm_paths *paths)
{
	vmapp_vm_say("no VM '%s' (%s does not exist)", name, paths->config_file);
	return VMAPP_VM_EXIT_FAILED;
}

static const char *const *keys_checked(size_t *ret_n)
{
	const char *const *keys = vmapp_vmdef_keys(ret_n);

	return *ret_n <= MAX_KEYS ? keys : NULL;
}

/*
 * KEY=VALUE words, each set on def as a file line would be.  given[k] is
 * set for each key given: every key at most once, as in a file.  Exit
 * status 2 with the parser's message for a bad key or value.
 */
static int apply_settings(struct vmapp_vmdef *def, int argc, char *argv[],
			  bool given[static MAX_KEYS])
{
	const char *const *keys;
	size_t n_keys;

	keys = keys_checked(&n_keys);
	if (!keys) {
		vmapp_vm_say("more keys than this build can hold");
		return VMAPP_VM_EXIT_UNEXPECTED;
	}
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char why[ERROR_MAX], *key;
		int id = -1, r;

		if (!eq) {
			if (quotable(argv[i]))
				vmapp_vm_say("expected KEY=VALUE, not '%s'", argv[i]);
			else
				vmapp_vm_say("expected KEY=VALUE");
			return VMAPP_VM_EXIT_USAGE;
		}
		key = strndup(argv[i], (size_t)(eq - argv[i]));
		if (!key)
			return out_of_memory();
		for (size_t k = 0; k < n_keys; k++)
			if (strcmp(key, keys[k]) == 0)
				id = (int)k;
		if (id >= 0 && given[id]) {
			vmapp_vm_say("'%s' is given twice", key);
			free(key);
			return VMAPP_VM_EXIT_USAGE;
		}
		r = vmapp_vmdef_set(def, key, eq + 1, why, sizeof(why));
		free(key);
		if (r == -ENOMEM)
			return out_of_memory();
		if (r < 0) {
			vmapp_vm_say("%s", why);
			return VMAPP_VM_EXIT_USAGE;
		}
		if (id < 0) { /* vmapp_vmdef_set() knows a key we do not */
			vmapp_vm_say("vmapp_vmdef_set() took a key not in vmapp_vmdef_keys()");
			return VMAPP_VM_EXIT_UNEXPECTED;
		}
		given[id] = true;
	}
	return VMAPP_VM_EXIT_OK;
}

int vmapp_vm_cmd_create(const struct vmapp_env *env, int argc, char *argv[])
{
	bool given[MAX_KEYS] = { false };
	struct vmapp_vm_paths paths;
	struct vmapp_vmdef *def;
	char why[ERROR_MAX];
	int status, r;

	if (argc < 1) {
		vmapp_vm_say("create needs a VM name: create NAME [KEY=VALUE...]");
		return VMAPP_VM_EXIT_USAGE;
	}
	status = vmapp_vm_cli_paths(env, argv[0], &paths);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	def = vmapp_vmdef_create(argv[0]);
	if (!def)
		return out_of_memory();
	status = apply_settings(def, argc - 1, argv + 1, given);
	if (status != VMAPP_VM_EXIT_OK)
		goto out;
	if (vmapp_vmdef_check(def, why, sizeof(why)) < 0) {
		vmapp_vm_say("%s", why);
		status = VMAPP_VM_EXIT_USAGE;
		goto out;
	}
	r = vmapp_vm_create_from(&paths, def, why, sizeof(why));
	if (r == -ENOMEM) {
		status = out_of_memory();
	} else if (r < 0) {
		vmapp_vm_say("%s", why);
		status = VMAPP_VM_EXIT_FAILED;
	}
out:
	vmapp_vmdef_destroy(def);
	return status;
}

/* A line of list: the VM's name and the settings that say most about it. */
static int list_one(const struct vmapp_env *env, const char *config_dir, const char *name,
		    int width)
{
	struct vmapp_vm_paths paths;
	static const char *const shown[] = { "memory", "cpus", "network", "audio", "share" };
	char path[VMAPP_VM_PATH_MAX + VMAPP_VM_NAME_MAX + 8], why[ERROR_MAX];
	struct vmapp_vmdef *def;
	int r;

	snprintf(path, sizeof(path), "%s/%s.vm", config_dir, name);
	r = vmapp_vmdef_load(path, name, why, sizeof(why), &def);
	if (r == -ENOMEM)
		return out_of_memory();
	if (r < 0) {
		/* One broken file does not hide the other VMs. */
		printf("%-*s  error: %s\n", width, name, why);
		return VMAPP_VM_EXIT_OK;
	}
	bool running = vmapp_vm_paths_init(&paths, env, name, NULL, 0) == 0 &&
		       vmapp_vm_running(&paths);
	printf("%-*s  %-7s", width, name, running ? "running" : "stopped");
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		char value[VALUE_MAX];

		if (vmapp_vmdef_get(def, shown[i], value, sizeof(value)) < 0) {
			vmapp_vmdef_destroy(def);
			vmapp_vm_say("no text for %s of VM '%s'", shown[i], name);
			return VMAPP_VM_EXIT_UNEXPECTED;
		}
		printf(" %s=%s", shown[i], value);
	}
	putchar('\n');
	vmapp_vmdef_destroy(def);
	return VMAPP_VM_EXIT_OK;
}

int vmapp_vm_cmd_list(const struct vmapp_env *env, int argc, char *argv[])
{
	char dir[VMAPP_VM_PATH_MAX], why[ERROR_MAX];
	char **names;
	size_t n;
	int width = 0, status = VMAPP_VM_EXIT_OK, r;

	if (argc > 0) {
		vmapp_vm_say("list takes no arguments");
		return VMAPP_VM_EXIT_USAGE;
	}
	if (vmapp_vm_config_dir(env, dir, sizeof(dir), why, sizeof(why)) < 0) {
		vmapp_vm_say("%s", why);
		return VMAPP_VM_EXIT_FAILED;
	}
	r = vmapp_vm_list(dir, &names, &n);
	if (r == -ENOMEM)
		return out_of_memory();
	if (r < 0) {
		vmapp_vm_say("%s: %s", dir, strerror(-r));
		return VMAPP_VM_EXIT_FAILED;
	}
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(names[i]);

		width = len > width ? len : width;
	}
	for (size_t i = 0; i < n && status == VMAPP_VM_EXIT_OK; i++)
		status = list_one(env, dir, names[i], width);
	vmapp_vm_list_free(names);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	return finish_stdout();
}

/* The VM's definition, or the exit status with its error said. */
static int load(const char *name, const struct vmapp_vm_paths *paths,
		struct vmapp_vmdef **ret_def)
{
	char why[ERROR_MAX];
	int r;

	r = vmapp_vmdef_load(paths->config_file, name, why, sizeof(why), ret_def);
	if (r == -ENOENT)
		return vmapp_vm_no_such_vm(name, paths);
	if (r == -ENOMEM)
		return out_of_memory();
	if (r < 0) {
		vmapp_vm_say("%s", why);
		return VMAPP_VM_EXIT_FAILED;
	}
	return VMAPP_VM_EXIT_OK;
}

int vmapp_vm_cmd_show(const struct vmapp_env *env, int argc, char *argv[])
{
	struct vmapp_vm_paths paths;
	struct vmapp_vmdef *def;
	char *text;
	int status;

	if (argc != 1) {
		vmapp_vm_say("show takes one VM name: show NAME");
		return VMAPP_VM_EXIT_USAGE;
	}
	status = vmapp_vm_cli_paths(env, argv[0], &paths);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	status = load(argv[0], &paths, &def);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	/* The definition as it is in effect, every key: what create writes. */
	text = vmapp_vmdef_serialize(def);
	vmapp_vmdef_destroy(def);
	if (!text)
		return out_of_memory();
	fputs(text, stdout);
	free(text);
	return finish_stdout();
}

/*
 * Holds off another set or delete of any VM until fd is closed: each
 * reads, decides and writes, and two at once would lose a change or bring
 * a deleted VM back.  (create needs no lock: its link() never replaces.)
 */
static int lock_config_dir(const char *dir, int *ret_fd)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		int r = -errno;

		if (r != -EINTR) {
			close(fd);
			return r;
		}
	}
	*ret_fd = fd;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The key a line of the file sets, as the parser reads it; -1 for a
 * comment, a blank line or anything else. */
static int line_key(const char *s, size_t len, const char *const *keys, size_t n_keys)
{
	const char *eq;
	size_t start = 0, end;

	while (start < len && is_blank(s[start]))
		start++;
	if (start == len || s[start] == '#')
		return -1;
	eq = memchr(s + start, '=', len - start);
	if (!eq)
		return -1;
	end = (size_t)(eq - s);
	while (end > start && is_blank(s[end - 1]))
		end--;
	for (size_t k = 0; k < n_keys; k++)
		if (strlen(keys[k]) == end - start && memcmp(s + start, keys[k], end - start) == 0)
			return (int)k;
	return -1;
}

/*
 * The file's text with each key in values[] (NULL: not given) set: the
 * line that sets it rewritten in place, keeping its indentation and line
 * ending; keys the file did not set added at the end.  Comments, blank
 * lines and every other line stay as they were.  NULL when out of memory.
 */
static char *edit_text(const char *text, size_t len, const char *const *keys, size_t n_keys,
		       char *const values[static MAX_KEYS])
{
	bool placed[MAX_KEYS] = { false };
	char *out = NULL;
	size_t size = 0, pos = 0;
	bool need_newline = len > 0 && text[len - 1] != '\n';
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	while (pos < len) {
		const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) + 1 : len - pos;
		size_t content = nl ? n - 1 : n, indent = 0;
		int id;

		if (content > 0 && start[content - 1] == '\r')
			content--;
		id = line_key(start, content, keys, n_keys);
		if (id >= 0 && values[id]) {
			while (indent < content && is_blank(start[indent]))
				indent++;
			fwrite(start, 1, indent, f);
			fprintf(f, "%s = %s", keys[id], values[id]);
			fwrite(start + content, 1, n - content, f);
			placed[id] = true;
		} else {
			fwrite(start, 1, n, f);
		}
		pos += n;
	}
	for (size_t k = 0; k < n_keys; k++) {
		if (!values[k] || placed[k])
			continue;
		if (need_newline) {
			fputc('\n', f);
			need_newline = false;
		}
		fprintf(f, "%s = %s\n", keys[k], values[k]);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * set: the new settings are checked first, then applied to the text of
 * the file, which must parse to what the settings say before it replaces
 * the file.  A file that is broken may be mended this way: the result is
 * written when it parses.
 */
static int set_locked(const char *name, const struct vmapp_vm_paths *paths,
		      const struct vmapp_vmdef *wanted, const bool given[static MAX_KEYS])
{
	char *values[MAX_KEYS] = { NULL };
	char why[ERROR_MAX], *text = NULL, *edited = NULL;
	struct vmapp_vmdef *before = NULL, *after = NULL;
	const char *const *keys;
	size_t n_keys, len;
	int status = VMAPP_VM_EXIT_UNEXPECTED, r;

	keys = keys_checked(&n_keys);
	r = vmapp_vmdef_read(paths->config_file, &text, &len, why, sizeof(why));
	if (r == -ENOENT)
		return vmapp_vm_no_such_vm(name, paths);
	if (r == -ENOMEM)
		return out_of_memory();
	if (r < 0) {
		vmapp_vm_say("%s", why);
		return VMAPP_VM_EXIT_FAILED;
	}

	/* Each value in its written form (2048M is 2G), as show says it. */
	for (size_t k = 0; k < n_keys; k++) {
		char value[VALUE_MAX];

		if (!given[k])
			continue;
		if (vmapp_vmdef_get(wanted, keys[k], value, sizeof(value)) < 0) {
			vmapp_vm_say("no text for %s", keys[k]);
			goto out;
		}
		values[k] = strdup(value);
		if (!values[k]) {
			status = out_of_memory();
			goto out;
		}
	}

	r = vmapp_vmdef_parse(text, len, paths->config_file, name, why, sizeof(why), &before);
	if (r == -ENOMEM) {
		status = out_of_memory();
		goto out;
	}
	if (before) {
		/* A working file: the settings against the rest of it. */
		for (size_t k = 0; k < n_keys; k++) {
			if (values[k] && vmapp_vmdef_set(before, keys[k], values[k], why,
							 sizeof(why)) < 0) {
				vmapp_vm_say("%s does not take its own text: %s", keys[k], why);
				goto out;
			}
		}
		if (vmapp_vmdef_check(before, why, sizeof(why)) < 0) {
			vmapp_vm_say("%s", why);
			status = VMAPP_VM_EXIT_USAGE;
			goto out;
		}
	}

	edited = edit_text(text, len, keys, n_keys, values);
	if (!edited) {
		status = out_of_memory();
		goto out;
	}
	r = vmapp_vmdef_parse(edited, strlen(edited), paths->config_file, name, why, sizeof(why),
			      &after);
	if (r == -ENOMEM) {
		status = out_of_memory();
		goto out;
	}
	if (r < 0 && !before) {
		/* Broken before, and these settings do not mend it. */
		vmapp_vm_say("%s", why);
		vmapp_vm_say("%s is unchanged: set mends only the keys it is given", paths->config_file);
		status = VMAPP_VM_EXIT_FAILED;
		goto out;
	}
	if (r < 0 || (before && !vmapp_vmdef_equal(before, after))) {
		vmapp_vm_say("the changed file would not say what was set (%s); %s is unchanged",
		    r < 0 ? why : "it reads back differently", paths->config_file);
		goto out;
	}
	if (vmapp_vmdef_write_text(paths->config_file, edited, why, sizeof(why)) < 0) {
		vmapp_vm_say("%s", why);
		status = VMAPP_VM_EXIT_FAILED;
		goto out;
	}
	status = VMAPP_VM_EXIT_OK;
out:
	for (size_t k = 0; k < MAX_KEYS; k++)
		free(values[k]);
	vmapp_vmdef_destroy(before);
	vmapp_vmdef_destroy(after);
	free(edited);
	free(text);
	return status;
}

int vmapp_vm_cmd_set(const struct vmapp_env *env, int argc, char *argv[])
{
	bool given[MAX_KEYS] = { false };
	struct vmapp_vm_paths paths;
	struct vmapp_vmdef *wanted;
	int status, lock = -1, r;

	if (argc < 2) {
		vmapp_vm_say("set needs a VM name and at least one setting: set NAME KEY=VALUE...");
		return VMAPP_VM_EXIT_USAGE;
	}
	status = vmapp_vm_cli_paths(env, argv[0], &paths);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	/* The values on their own first: a bad one stops here, before any
	 * file is opened. */
	wanted = vmapp_vmdef_create(argv[0]);
	if (!wanted)
		return out_of_memory();
	status = apply_settings(wanted, argc - 1, argv + 1, given);
	if (status != VMAPP_VM_EXIT_OK)
		goto out;
	r = lock_config_dir(paths.config_dir, &lock);
	if (r == -ENOENT) {
		status = vmapp_vm_no_such_vm(argv[0], &paths);
		goto out;
	}
	if (r < 0) {
		vmapp_vm_say("%s: %s", paths.config_dir, strerror(-r));
		status = VMAPP_VM_EXIT_FAILED;
		goto out;
	}
	status = set_locked(argv[0], &paths, wanted, given);
out:
	if (lock >= 0)
		close(lock);
	vmapp_vmdef_destroy(wanted);
	return status;
}

/*
 * Removes name in the folder parent and, when it is a folder, everything
 * in it.  Symbolic links are removed, never followed, and a folder on
 * another file system than its parent's (dev) is left alone: nothing
 * outside the tree is touched.
 */
static int remove_at(int parent, const char *name, const dev_t *dev, unsigned depth)
{
	struct stat st, opened;
	DIR *dir;
	int fd, r = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (dev && st.st_dev != *dev)
		return -EXDEV;
	if (depth >= MAX_TREE_DEPTH)
		return -ELOOP;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Replaced since fstatat(): not the folder that was looked at. */
	if (fstat(fd, &opened) < 0 || opened.st_dev != st.st_dev || opened.st_ino != st.st_ino) {
		close(fd);
		return -ESTALE;
	}
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	for (int pass = 0; r == 0 && pass < MAX_REMOVE_PASSES; pass++) {
		bool any = false;
		struct dirent *entry;

		rewinddir(dir);
		while (r == 0 && (errno = 0, entry = readdir(dir))) {
			if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
				continue;
			any = true;
			r = remove_at(dirfd(dir), entry->d_name, &st.st_dev, depth + 1);
		}
		if (r == 0 && errno != 0)
			r = -errno;
		if (!any)
			break;
	}
	closedir(dir);
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

/* Removes the folder at path (its last component a VM name) and all in it. */
static int remove_tree(const char *path)
{
	char parent[VMAPP_VM_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, r;

	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(parent))
		return -EINVAL;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = remove_at(fd, slash + 1, NULL, 0);
	close(fd);
	return r;
}

int vmapp_vm_cmd_delete(const struct vmapp_env *env, int argc, char *argv[])
{
	struct vmapp_vm_paths paths;
	struct stat st;
	int status, lock = -1, r;

	if (argc != 1) {
		vmapp_vm_say("delete takes one VM name: delete NAME");
		return VMAPP_VM_EXIT_USAGE;
	}
	status = vmapp_vm_cli_paths(env, argv[0], &paths);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	r = lock_config_dir(paths.config_dir, &lock);
	if (r == -ENOENT)
		return vmapp_vm_no_such_vm(argv[0], &paths);
	if (r < 0) {
		vmapp_vm_say("%s: %s", paths.config_dir, strerror(-r));
		return VMAPP_VM_EXIT_FAILED;
	}
	status = VMAPP_VM_EXIT_FAILED;
	if (lstat(paths.config_file, &st) < 0) {
		if (errno == ENOENT)
			status = vmapp_vm_no_such_vm(argv[0], &paths);
		else
			vmapp_vm_say("%s: %s", paths.config_file, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		vmapp_vm_say("%s is a folder, not a VM definition", paths.config_file);
		goto out;
	}
	if (vmapp_vm_running(&paths)) {
		vmapp_vm_say("VM '%s' is running; stop it first: vmapp-vm stop %s", argv[0], argv[0]);
		goto out;
	}
	/* The state first: when it can not all go, the definition stays and
	 * delete can be run again. */
	r = remove_tree(paths.state_dir);
	if (r == -EXDEV) {
		vmapp_vm_say("%s has another file system mounted in it; nothing more is removed, "
		    "and the definition is kept", paths.state_dir);
		goto out;
	}
	if (r < 0) {
		vmapp_vm_say("can not remove %s: %s; the definition is kept", paths.state_dir,
		    strerror(-r));
		goto out;
	}
	char apps[VMAPP_VM_PATH_MAX];
	if (vmapp_export_dir(env, apps, sizeof(apps)) == 0) {
		r = vmapp_export_remove_vm(apps, argv[0]);
		if (r < 0) {
			vmapp_vm_say("can not remove the menu entries of '%s' from %s: %s; the definition "
			    "is kept", argv[0], apps, strerror(-r));
			goto out;
		}
	}
	if (unlink(paths.config_file) < 0) {
		vmapp_vm_say("%s: %s", paths.config_file, strerror(errno));
		goto out;
	}
	status = VMAPP_VM_EXIT_OK;
out:
	close(lock);
	return status;
}
