/* SPDX-License-Identifier: MIT */
/*
 * The applications a VM offers, as .desktop files (freedesktop Desktop
 * Entry Specification 1.5).
 *
 * Guest side (vmapp-agent): vmapp_desktop_parse() reads one file,
 * vmapp_desktop_list() scans the XDG data dirs for all of them.
 *
 * Host side (vmapp-proxy): what a guest sends is untrusted, however it was
 * produced (a hostile guest replaces the agent).  vmapp_desktop_sanitize()
 * keeps what may reach the host menu, vmapp_desktop_write_host_entry()
 * writes the host's own .desktop text, whose Exec runs
 * `vmapp-proxy --vm VM -- ARGV...`, and vmapp_desktop_host_file_name()
 * names its file.
 *
 * Errors are negative errno: -EINVAL for a malformed or over-limit value,
 * -ENOENT for a well-formed file that is not an application to list,
 * -ENOMEM when out of memory.
 */
#ifndef VMAPP_DESKTOP_H
#define VMAPP_DESKTOP_H

#include <stdbool.h>
#include <stddef.h>

/* Limits.  A file, a line or a value over its limit refuses the file, it
 * is never cut: a cut Exec would run something else. */
#define VMAPP_DESKTOP_MAX_SIZE (64 * 1024) /* one .desktop file */
#define VMAPP_DESKTOP_MAX_LINE (16 * 1024) /* MimeType lines run to a few KiB */
#define VMAPP_DESKTOP_MAX_VALUE 4096	   /* a value we read; all of argv together */
#define VMAPP_DESKTOP_MAX_ARGS 64	   /* words of Exec */
#define VMAPP_DESKTOP_MAX_CATEGORIES 32
#define VMAPP_DESKTOP_MAX_ID 255	   /* a file name (NAME_MAX) */
/* Listing: entries returned, directory entries looked at (in all dirs
 * together), and subdirectory depth below DIR/applications. */
#define VMAPP_DESKTOP_MAX_ENTRIES 1024
#define VMAPP_DESKTOP_MAX_SCAN 65536
#define VMAPP_DESKTOP_MAX_DEPTH 8
#define VMAPP_DESKTOP_MAX_DATA_DIRS 32
/* Host side: the cleaned Name (before "[VM] ") and Comment, in bytes. */
#define VMAPP_DESKTOP_MAX_NAME 128
#define VMAPP_DESKTOP_MAX_COMMENT 512
/* Host side: an icon theme name, and the categories kept. */
#define VMAPP_DESKTOP_MAX_ICON 64
#define VMAPP_DESKTOP_MAX_HOST_CATEGORIES 16

/*
 * One application.  Every string is heap-allocated, NUL-terminated, owned
 * by the entry and freed by vmapp_desktop_entry_finish().  From the parser
 * every string is valid UTF-8; name, comment and argv words may hold
 * control characters that came from escapes (\n, \t, \r): the host cleans
 * or refuses them.  When an entry comes from the guest, the code that
 * decodes it must still hand over NUL-terminated strings and arrays of the
 * stated lengths; everything else is vmapp_desktop_sanitize()'s to check.
 */
struct vmapp_desktop_entry {
	char *id;	    /* desktop file id, "org.example.App.desktop" */
	char *name;	    /* the unlocalised Name, not empty */
	char *comment;	    /* the unlocalised Comment; may be NULL */
	char *icon;	    /* Icon as written (a name, or a path in the guest); may be NULL */
	char **categories;  /* n_categories non-empty strings; may be NULL when none */
	size_t n_categories;
	char **argv;	    /* Exec split into words, field codes dropped: argc >= 1 */
	size_t argc;	    /* words, then argv[argc] == NULL */
	bool terminal;
};

/* Frees what the entry owns and zeroes it; entry may be NULL. */
void vmapp_desktop_entry_finish(struct vmapp_desktop_entry *entry);

/*
 * Parses one .desktop file: `len` bytes of `text` (no NUL needed), whose
 * desktop file id is `desktop_id` (copied; it must pass the same check as
 * on the host: [A-Za-z0-9._-], no leading '.' or '-', no "..", ending in
 * ".desktop", at most VMAPP_DESKTOP_MAX_ID bytes).
 *
 * Returns 0 and fills ret_entry (the caller finishes it), or
 *  -EINVAL: not a valid desktop entry.  The whole file must be valid UTF-8
 *           with no NUL or control character but tab (CRLF line ends are
 *           accepted), within the limits above; a [Desktop Entry] group,
 *           exactly once; every line a comment, a blank, a [group] or a
 *           key=value inside a group; Type and Name present; no unknown
 *           string escape; a valid Exec (below).  A key that we read
 *           appearing twice in [Desktop Entry] refuses the file (the spec
 *           forbids it, and "first wins" and "last wins" parsers would
 *           disagree about what the file says); other keys and other
 *           groups are not looked at beyond their line syntax.
 *  -ENOENT: valid, but not an application to list: Hidden=true,
 *           NoDisplay=true, Type other than Application, or no (or an
 *           empty) Exec.  Hidden and NoDisplay are looked at before Type
 *           and Name are required, so that a bare "Hidden=true" file
 *           masks the same id in later data dirs, as the spec means it to.
 *  -ENOMEM.
 * OnlyShowIn and NotShowIn are ignored: the host desktop is not the
 * guest's.  TryExec is not checked.
 *
 * Exec, after the string escapes are undone, is split as the spec's
 * "The Exec key" says: words separated by spaces; a word is either plain
 * (no reserved character: space, tab, newline, " ' \ > < ~ | & ; $ * ? #
 * ` ( ) or any control) or wholly enclosed in double quotes, inside which
 * only \" \` \$ \\ are escapes and ` and $ must be escaped.  A command line
 * that breaks these rules is refused, never guessed at (no shell).  Then
 * the field codes: %% is a literal %; %f %u %k expand to nothing, %F %U %i
 * likewise but only as a word of their own; %c is the Name (the spec's
 * "translated name", and dropping it would shift the arguments after it);
 * the deprecated %d %D %n %N %v %m are removed, as the spec says they
 * should be; any other code, or a % at the end of a word, refuses the
 * file.  A word that held field codes and expanded to nothing is dropped;
 * "" stays an empty argument.  At most VMAPP_DESKTOP_MAX_ARGS words and
 * VMAPP_DESKTOP_MAX_VALUE bytes in all; an Exec that leaves no word, or an
 * empty first word, is refused.
 */
int vmapp_desktop_parse(const char *text, size_t len, const char *desktop_id,
			struct vmapp_desktop_entry *ret_entry);

struct vmapp_desktop_list {
	struct vmapp_desktop_entry *entries; /* sorted by id (strcmp) */
	size_t n_entries;
	bool truncated; /* more entries, or more files, than the limits allow */
};

/* Frees every entry and the array, and zeroes the list; list may be NULL. */
void vmapp_desktop_list_finish(struct vmapp_desktop_list *list);

/*
 * Lists the applications in DIR/applications of each of the n_dirs data
 * dirs (most important first, as vmapp_desktop_data_dirs() returns them),
 * recursively: the desktop file id is the path below applications/ with
 * '/' turned into '-' ("sub/app.desktop" is "sub-app.desktop").
 *
 * The first file found for an id decides it, in dir order and, inside a
 * dir, in strcmp order of names (so the result does not depend on readdir
 * order): a listable one is listed; a -ENOENT one (Hidden, NoDisplay, not
 * an Application) masks the id in later dirs.  Files that can not be read
 * (missing, unreadable, not regular, a FIFO, over VMAPP_DESKTOP_MAX_SIZE,
 * malformed) are skipped as if absent, so a later dir may still provide
 * the id.  Names starting with '.' are skipped.  Symbolic links are
 * followed, but a directory that is one of its own ancestors is not
 * entered, nor anything deeper than VMAPP_DESKTOP_MAX_DEPTH.
 *
 * At most VMAPP_DESKTOP_MAX_ENTRIES entries (the first ones in the scan
 * order above) and VMAPP_DESKTOP_MAX_SCAN directory entries looked at;
 * beyond that ret_list->truncated is set.  Missing dirs are fine.
 * Returns 0 and fills ret_list (the caller finishes it), or -ENOMEM.
 */
int vmapp_desktop_list(const char *const *data_dirs, size_t n_dirs,
		       struct vmapp_desktop_list *ret_list);

/*
 * The XDG data dirs, most important first: xdg_data_home (default
 * HOME/.local/share; none if home is NULL too), then each of
 * xdg_data_dirs (':'-separated; default /usr/local/share:/usr/share).
 * Pass getenv("XDG_DATA_HOME"), getenv("XDG_DATA_DIRS"), getenv("HOME");
 * each may be NULL.  Relative paths are ignored (XDG Base Directory
 * Specification), a value with no usable path counts as unset, trailing
 * '/' are dropped and repeated dirs kept once.  Returns 0 with
 * *ret_dirs (free with vmapp_desktop_data_dirs_free()) and *ret_n_dirs,
 * or -ENOMEM.
 */
int vmapp_desktop_data_dirs(const char *xdg_data_home, const char *xdg_data_dirs,
			    const char *home, char ***ret_dirs, size_t *ret_n_dirs);
void vmapp_desktop_data_dirs_free(char **dirs, size_t n_dirs);

/*
 * Host side: keeps what of an untrusted entry may reach the host menu.
 * vm_name must pass vmapp_label_valid().
 *  - id: checked as in vmapp_desktop_parse(), else refused;
 *  - argv: 1..VMAPP_DESKTOP_MAX_ARGS words, VMAPP_DESKTOP_MAX_VALUE bytes
 *    in all, each valid UTF-8 without control characters, the first not
 *    empty, else refused (they are written into the host Exec quoted, and
 *    run in the guest, never on the host);
 *  - name: cleaned by vmapp_sanitize_title() to VMAPP_DESKTOP_MAX_NAME
 *    bytes, spaces trimmed, and prefixed "[VM] "; refused if nothing is
 *    left;
 *  - comment: cleaned likewise to VMAPP_DESKTOP_MAX_COMMENT; NULL if empty;
 *  - icon: kept only when it is an icon theme name ([A-Za-z0-9._+-],
 *    1..VMAPP_DESKTOP_MAX_ICON bytes, no leading '.' or '-', no "..", so
 *    never a path: a guest path means nothing on the host and could name a
 *    host file), else NULL: the caller uses a default icon;
 *  - categories: only the registered Main and Additional Categories of the
 *    Desktop Menu Specification, each once (the Reserved ones such as
 *    Screensaver or TrayIcon, X- ones, and anything else are dropped, not
 *    the entry); only the first VMAPP_DESKTOP_MAX_CATEGORIES are looked
 *    at, and at most VMAPP_DESKTOP_MAX_HOST_CATEGORIES kept;
 *  - terminal: as sent.
 * Returns 0 and fills ret_clean (the caller finishes it), -EINVAL, or
 * -ENOMEM.
 */
int vmapp_desktop_sanitize(const struct vmapp_desktop_entry *untrusted, const char *vm_name,
			   struct vmapp_desktop_entry *ret_clean);

/*
 * Host side: the untrusted entry for one application of a guest's APPS
 * frame (vmapp-transport(7)), whose five strings are the desktop id, the
 * unlocalised Name, Exec, Icon and Categories as the agent sends them.
 * Exec is the argv that vmapp_desktop_parse() gave, field codes already
 * expanded, each word in double quotes with " ` $ \ backslashed, joined
 * by spaces, and no string escaping.  Exec is split by the spec's quoting
 * rules only (so a '%' is literal, as it was in the guest's argv);
 * unquoted words are taken too, without reserved characters.  Icon is
 * taken as it is (NULL when empty).  Categories is split at each ';' into
 * its non-empty words, the first VMAPP_DESKTOP_MAX_CATEGORIES of them
 * (the rest are dropped).  An icon or categories over
 * VMAPP_DESKTOP_MAX_VALUE bytes is dropped whole, not the app (the
 * transport allows no more anyway).  Nothing else is checked: the result
 * is for vmapp_desktop_sanitize(), which checks the id, the words, the
 * icon and the categories.  No comment, terminal false.  untrusted_icon
 * and untrusted_categories may be NULL (none).
 * Returns 0 and fills ret_untrusted (the caller finishes it), -EINVAL for
 * a NULL id, name or exec, an Exec that is malformed, empty or over the
 * limits (VMAPP_DESKTOP_MAX_VALUE bytes, VMAPP_DESKTOP_MAX_ARGS words), or
 * -ENOMEM.
 */
int vmapp_desktop_entry_from_app(const char *untrusted_id, const char *untrusted_name,
				 const char *untrusted_exec, const char *untrusted_icon,
				 const char *untrusted_categories,
				 struct vmapp_desktop_entry *ret_untrusted);

/*
 * Writes the host .desktop text for a sanitised entry into buf (size
 * bytes, NUL-terminated):
 *
 *   [Desktop Entry]
 *   Type=Application
 *   Name=[VM] NAME
 *   Comment=...                  (when there is one)
 *   Icon=...                     (when there is one)
 *   Categories=A;B;              (when there are some)
 *   Terminal=false
 *   Exec="PROXY" "--vm" "VM" "--" "ARGV0" "ARGV1"...
 *   X-Vmapp-VM=VM
 *
 * Every Exec word is quoted by the spec's rules, so that it reads back as
 * exactly one argument whatever it holds: % doubled (no field code),
 * " ` $ \ escaped with a backslash inside the quotes, and then each
 * backslash doubled by the string escaping (so a literal \ is written
 * \\\\ and a $ is \\$, as the spec's examples say).  No value may hold a
 * control character, so none can start a new line.  vm_name must pass
 * vmapp_label_valid() and match the "[VM] " of clean->name; proxy_path
 * is the host's vmapp-proxy (absolute, or a name looked up in PATH).
 * Returns the length written, -EINVAL, -ENOBUFS when buf is too small, or
 * -E2BIG when the host Exec (the guest's words after four of ours, quoted)
 * would pass the limits vmapp_desktop_parse() holds Exec to: the host
 * entry is always one the parser takes back.
 */
int vmapp_desktop_write_host_entry(const struct vmapp_desktop_entry *clean, const char *vm_name,
				   const char *proxy_path, char *buf, size_t size);

/*
 * The host file name for a sanitised id: "vmapp-VM_ID", e.g.
 * "vmapp-work_firefox-esr.desktop".  The '_' can not occur in a VM name,
 * so the name says which VM it belongs to unambiguously: with a '-'
 * there, VM "a" with id "b-c.desktop" and VM "a-b" with id "c.desktop"
 * would share a file, and deleting VM "a" by the prefix "vmapp-a-" would
 * delete VM "a-b"'s files.  Remove a VM's files by the prefix
 * "vmapp-VM_".  Returns the length written (NUL-terminated), -EINVAL for a
 * bad VM name or id, -ENAMETOOLONG when the name would exceed
 * VMAPP_DESKTOP_MAX_ID bytes, or -ENOBUFS.
 */
int vmapp_desktop_host_file_name(const char *vm_name, const char *clean_id, char *buf,
				 size_t size);

#endif
