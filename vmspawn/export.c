/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error-at.h"
#include "desktop.h"
#include "export.h"
#include "sanitize.h"

#define FILE_MODE 0644
#define DIR_MODE 0700
/* A host entry: Name (cleaned, with "[VM] "), Exec (at most
 * VMAPP_DESKTOP_MAX_VALUE once quoted, or write_host_entry() refuses it)
 * and a few short lines (Icon at most VMAPP_DESKTOP_MAX_ICON bytes,
 * Categories at most VMAPP_DESKTOP_MAX_HOST_CATEGORIES registered words). */
#define ENTRY_MAX (2 * VMAPP_DESKTOP_MAX_VALUE)
/* What an error message shows of a guest's id. */
#define SHOWN_ID_MAX 64


int vmapp_export_dir(const struct vmapp_env *env, char *buf, size_t size)
{
	int n;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	/* XDG Base Directory Specification: a relative path is ignored. */
	if (env->xdg_data_home && env->xdg_data_home[0] == '/')
		n = snprintf(buf, size, "%s/applications", env->xdg_data_home);
	else if (env->home && env->home[0] == '/')
		n = snprintf(buf, size, "%s/.local/share/applications", env->home);
	else
		return -EINVAL;
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* "vmapp-VM_" (the VM's entries) or, hidden, ".vmapp-VM_" (its
 * temporary files): the '_' ends the VM name, which can not hold one. */
static void vm_prefix(const char *vm_name, bool temporary, char *buf, size_t size)
{
	snprintf(buf, size, "%svmapp-%s_", temporary ? "." : "", vm_name);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_desktop_suffix(const char *s)
{
	size_t len = strlen(s);
	return len > 8 && strcmp(s + len - 8, ".desktop") == 0;
}

/* True when name already holds exactly text, as a regular file of
 * FILE_MODE: rewriting it would only make menus reload. */
static bool same_file(int dfd, const char *name, const char *text, size_t len)
{
	char buf[ENTRY_MAX + 1];
	struct stat st;
	size_t done = 0;
	bool same = false;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != FILE_MODE ||
	    (size_t)st.st_size != len || len > ENTRY_MAX)
		goto out;
	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		done += (size_t)n;
	}
	same = memcmp(buf, text, len) == 0;
out:
	close(fd);
	return same;
}

/* A new hidden temporary file of the VM in dfd, mode FILE_MODE whatever
 * the umask; its name in tmp. */
static int create_temporary(int dfd, const char *vm_name, char *tmp, size_t tmp_size)
{
	char prefix[64];

	vm_prefix(vm_name, true, prefix, sizeof(prefix));
	for (int attempt = 0; attempt < 100; attempt++) {
		unsigned long long rnd = 0;
		int fd;

		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
			rnd = (unsigned long long)getpid() << 16 ^ (unsigned long long)attempt;
		snprintf(tmp, tmp_size, "%stmp-%012llx", prefix, rnd & 0xffffffffffffULL);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    FILE_MODE);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		if (fchmod(fd, FILE_MODE) < 0) {
			int r = -errno;
			close(fd);
			unlinkat(dfd, tmp, 0);
			return r;
		}
		return fd;
	}
	return -EEXIST;
}

/* Replaces name in dfd with text, whole or not at all. */
static int write_file(int dfd, const char *vm_name, const char *name, const char *text,
		      size_t len)
{
	char tmp[NAME_MAX + 1];
	int fd, r;

	fd = create_temporary(dfd, vm_name, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	/* Synced before the rename: after a crash the name holds the old
	 * text or the new, never an empty file. */
	r = vmapp_write_synced(fd, text, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dfd, tmp, 0);
	return r;
}

static bool name_kept(char (*keep)[NAME_MAX + 1], size_t n_keep, const char *name)
{
	for (size_t i = 0; i < n_keep; i++)
		if (strcmp(keep[i], name) == 0)
			return true;
	return false;
}

/*
 * Removes the VM's entries in dfd but those in keep, and all its
 * temporary files.  Returns the number removed, or the first -errno (the
 * others are still tried).
 */
static int remove_files(int dfd, const char *vm_name, char (*keep)[NAME_MAX + 1],
			size_t n_keep)
{
	char prefix[64], temporary[64];
	struct dirent *de;
	int removed = 0, r = 0;
	int fd;
	DIR *d;

	vm_prefix(vm_name, false, prefix, sizeof(prefix));
	vm_prefix(vm_name, true, temporary, sizeof(temporary));
	fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		bool ours = (has_prefix(name, prefix) && has_desktop_suffix(name) &&
			     !name_kept(keep, n_keep, name)) ||
			    has_prefix(name, temporary);

		if (!ours || de->d_type == DT_DIR)
			continue;
		if (unlinkat(dfd, name, 0) == 0)
			removed++;
		else if (errno != ENOENT && errno != EISDIR && r == 0)
			r = -errno;
	}
	if (errno != 0 && r == 0)
		r = -errno;
	closedir(d);
	return r < 0 ? r : removed;
}

/* The id as an error message may show it: cleaned, cut. */
static const char *shown_id(const char *untrusted_id, char *buf, size_t size)
{
	if (!untrusted_id)
		return "";
	vmapp_sanitize_app_id(untrusted_id, strnlen(untrusted_id, SHOWN_ID_MAX + 1),
			      SHOWN_ID_MAX, buf, size);
	return buf;
}

/*
 * One app: its host entry and file name.  0, or -EINVAL with why when the
 * app is skipped, or -ENOMEM.
 */
static int prepare(const struct vmapp_transport_app *untrusted_app, const char *vm_name,
		   const char *proxy_path, char *text, size_t text_size, size_t *ret_len,
		   char *name, size_t name_size, const char **ret_why)
{
	struct vmapp_desktop_entry untrusted = { 0 }, clean = { 0 };
	int r;

	r = vmapp_desktop_entry_from_app(untrusted_app->id, untrusted_app->name,
					 untrusted_app->exec, untrusted_app->icon,
					 untrusted_app->categories, &untrusted);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*ret_why = "Exec is malformed, empty or over the limits";
		return -EINVAL;
	}
	r = vmapp_desktop_sanitize(&untrusted, vm_name, &clean);
	vmapp_desktop_entry_finish(&untrusted);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*ret_why = "refused by the sanitiser (bad id, an Exec word with a control "
			   "character, or no Name)";
		return -EINVAL;
	}
	r = vmapp_desktop_host_file_name(vm_name, clean.id, name, name_size);
	if (r < 0) {
		vmapp_desktop_entry_finish(&clean);
		*ret_why = "the host file name would be too long";
		return -EINVAL;
	}
	r = vmapp_desktop_write_host_entry(&clean, vm_name, proxy_path, text, text_size);
	vmapp_desktop_entry_finish(&clean);
	if (r < 0) {
		*ret_why = r == -E2BIG ? "Exec is too long with the proxy's words in front"
				       : "the host entry can not be written";
		return -EINVAL;
	}
	*ret_len = (size_t)r;
	return 0;
}

int vmapp_export_apps(const char *applications_dir, const char *vm_name,
		      const char *proxy_path, const struct vmapp_transport_app *apps,
		      uint32_t n_apps, char *ret_error, size_t error_size,
		      unsigned *ret_written)
{
	char (*names)[NAME_MAX + 1] = NULL;
	char text[ENTRY_MAX + 1], shown[SHOWN_ID_MAX + 1];
	size_t n_names = 0;
	int skipped = 0, dfd = -1, r;

	vmapp_set_error(ret_error, error_size, "%s", "");
	if (ret_written)
		*ret_written = 0;
	if (!applications_dir || !vm_name || !vmapp_label_valid(vm_name)) {
		vmapp_set_error(ret_error, error_size, "bad folder or VM name");
		return -EINVAL;
	}
	/* It becomes an Exec word: write_host_entry() refuses a control
	 * character in it, but an empty one would be no command at all. */
	if (!proxy_path || proxy_path[0] == '\0') {
		vmapp_set_error(ret_error, error_size, "no path for vmapp-proxy");
		return -EINVAL;
	}
	if (n_apps > VMAPP_TRANSPORT_MAX_APPS || (n_apps > 0 && !apps)) {
		vmapp_set_error(ret_error, error_size, "%" PRIu32 " apps, over the limit of %u", n_apps,
			  VMAPP_TRANSPORT_MAX_APPS);
		return -EINVAL;
	}

	r = vmapp_make_dirs(applications_dir, DIR_MODE);
	if (r < 0) {
		vmapp_set_error(ret_error, error_size, "%s: %s", applications_dir, strerror(-r));
		return r;
	}
	dfd = open(applications_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		vmapp_set_error(ret_error, error_size, "%s: %s", applications_dir, strerror(-r));
		return r;
	}
	names = calloc(n_apps ? n_apps : 1, sizeof(*names));
	if (!names) {
		r = -ENOMEM;
		vmapp_set_error(ret_error, error_size, "out of memory");
		goto out;
	}

	for (uint32_t i = 0; i < n_apps; i++) {
		const char *why = NULL;
		size_t len = 0;

		r = prepare(&apps[i], vm_name, proxy_path, text, sizeof(text), &len,
			    names[n_names], sizeof(names[n_names]), &why);
		if (r == -ENOMEM) {
			vmapp_set_error(ret_error, error_size, "out of memory");
			goto out;
		}
		/* Two apps of one id would write one file twice: the first
		 * decides, as in the guest's own listing. */
		if (r == 0 && name_kept(names, n_names, names[n_names])) {
			why = "an id listed twice";
			r = -EINVAL;
		}
		if (r < 0) {
			if (skipped++ == 0)
				vmapp_set_error(ret_error, error_size, "app %" PRIu32 " '%s': %s", i,
					  shown_id(apps[i].id, shown, sizeof(shown)), why);
			continue;
		}
		if (!same_file(dfd, names[n_names], text, len)) {
			r = write_file(dfd, vm_name, names[n_names], text, len);
			if (r < 0) {
				vmapp_set_error(ret_error, error_size, "%s/%s: %s", applications_dir,
					  names[n_names], strerror(-r));
				goto out;
			}
		}
		n_names++;
	}

	/* Only after every new file is in place: a menu never shows the VM
	 * with fewer apps than either list. */
	r = remove_files(dfd, vm_name, names, n_names);
	if (r < 0) {
		vmapp_set_error(ret_error, error_size, "%s: removing stale entries: %s",
			  applications_dir, strerror(-r));
		goto out;
	}
	if (ret_written)
		*ret_written = (unsigned)n_names;
	r = skipped;
out:
	free(names);
	close(dfd);
	return r;
}

int vmapp_export_remove_vm(const char *applications_dir, const char *vm_name)
{
	int dfd, r;

	if (!applications_dir || !vm_name || !vmapp_label_valid(vm_name))
		return -EINVAL;
	dfd = open(applications_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = remove_files(dfd, vm_name, NULL, 0);
	close(dfd);
	return r;
}
