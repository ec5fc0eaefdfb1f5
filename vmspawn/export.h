/* SPDX-License-Identifier: MIT */
/*
 * A VM's applications in the host's application menu: one host .desktop
 * file for each application the guest's agent lists (an APPS frame,
 * vmapp-transport(7)), in $XDG_DATA_HOME/applications, where menus find
 * them (they watch the folder; no cache is updated).
 *
 * Each file is named by vmapp_desktop_host_file_name(): "vmapp-VM_ID",
 * e.g. "vmapp-work_org.gnome.Calculator.desktop".  A VM name is
 * [a-z0-9-] and never holds '_', so the prefix "vmapp-VM_" is exactly
 * that VM's files: "vmapp-web_" is not a prefix of VM "web-2"'s
 * "vmapp-web-2_...".  Files outside that prefix are never touched.
 * Temporary files are ".vmapp-VM_ID.XXXXXX" (hidden, and not ending in
 * .desktop, so menus skip them); one left by a crash is removed with the
 * VM's files.
 *
 * Errors are negative errno, with why in ret_error where there is one.
 */
#ifndef VMAPP_EXPORT_H
#define VMAPP_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"
#include "vmdef.h"

/*
 * $XDG_DATA_HOME/applications (XDG_DATA_HOME only when absolute, else
 * HOME/.local/share) into buf.  0, -EINVAL when neither is absolute, or
 * -ENAMETOOLONG.
 */
int vmapp_export_dir(const struct vmapp_env *env, char *buf, size_t size);

/*
 * Makes the files of VM vm_name in applications_dir those of apps, the
 * untrusted list its agent sent (n_apps <= VMAPP_TRANSPORT_MAX_APPS):
 *  - applications_dir is made when missing (mkdir -p, new folders 0700);
 *  - each app goes through vmapp_desktop_entry_from_app() and
 *    vmapp_desktop_sanitize(); one that fails, or whose host entry or file
 *    name can not be written (over the limits), is skipped, as is a second
 *    app with the same id; an icon that is not an icon theme name, and
 *    categories that are not registered ones, are dropped, not the app;
 *  - each host entry, whose Exec runs `proxy_path --vm VM -- ARGV...`, is
 *    written through a temporary file renamed over the old one, mode
 *    0644; a file that already holds the same text is left alone, so that
 *    menus do not reload for nothing;
 *  - then every other file of that VM (an app no longer listed, or one
 *    skipped now) is removed, and any temporary file of it.
 * proxy_path is written into the entries as it is: the absolute path of
 * vmapp-proxy (or a name looked up in the menu's PATH).
 *
 * Returns the number of apps skipped (0 when none; then ret_error is
 * empty, else it says why the first one was), with *ret_written (may be
 * NULL) the number of files in place for the VM; or -EINVAL (bad vm_name,
 * proxy_path or n_apps), -ENOMEM, or -errno from the file system, with
 * why in ret_error.  On an error the VM's files may be part old and part
 * new, but every file is whole, and the stale ones are still there.
 */
int vmapp_export_apps(const char *applications_dir, const char *vm_name,
		      const char *proxy_path, const struct vmapp_transport_app *apps,
		      uint32_t n_apps, char *ret_error, size_t error_size,
		      unsigned *ret_written);

/*
 * Removes every file of VM vm_name from applications_dir (its exported
 * entries and temporary files; nothing else).  Returns the number of files
 * removed, 0 when the folder is missing, -EINVAL for a bad vm_name, or
 * -errno (the first failure; the other files are still removed).
 */
int vmapp_export_remove_vm(const char *applications_dir, const char *vm_name);

#endif
