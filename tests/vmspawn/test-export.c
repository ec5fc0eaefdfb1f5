/* SPDX-License-Identifier: MIT */
/*
 * A VM's apps in the host menu, in a temporary folder: the file names and
 * texts (Exec read back by the desktop parser), hostile apps refused or
 * cleaned and never a file outside the folder, the guest's icons and
 * categories filtered, stale entries removed, unchanged ones left alone,
 * other VMs' and unrelated files kept, and vmapp_export_remove_vm()
 * removing exactly one VM's files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "desktop.h"
#include "export.h"

#define PROXY "/usr/bin/vmapp-proxy"
#define N(a) ((uint32_t)(sizeof(a) / sizeof(*(a))))

static char root[64], apps_dir[256];

static const char *path_of(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", apps_dir, name);
	return path;
}

/* The file's text, or "(missing)" when it can not be read. */
static const char *read_text(const char *name)
{
	static char buf[16384];
	FILE *f = fopen(path_of(name), "rb");
	if (!f)
		return "(missing)";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted, joined by spaces. */
static const char *listing(const char *dir)
{
	static char out[4096];
	char *names[64];
	size_t n = 0, o = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	out[0] = '\0';
	if (!d)
		return "(missing)";
	while ((de = readdir(d)) && n < 64)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	return out;
}

static void touch(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");
	if (!f) {
		perror(name);
		exit(99);
	}
	fputs(text, f);
	fclose(f);
}

static ino_t inode(const char *name)
{
	struct stat st;
	return stat(path_of(name), &st) == 0 ? st.st_ino : 0;
}

static unsigned line_count(const char *text, const char *prefix)
{
	unsigned n = 0;
	size_t len = strlen(prefix);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, prefix, len) == 0)
			n++;
	return n;
}

/* Exec of a written file, read back by the spec's parser. */
static void expect_argv(const char *name, const char *const *want)
{
	struct vmapp_desktop_entry e;
	const char *text = read_text(name);
	int r;

	r = vmapp_desktop_parse(text, strlen(text), "host.desktop", &e);
	if (!CHECK(r == 0, "%s does not parse back: %d\n%s", name, r, text))
		return;
	size_t i = 0;
	for (; want[i]; i++)
		CHECK(i < e.argc && strcmp(e.argv[i], want[i]) == 0, "%s word %zu: '%s', want '%s'",
		      name, i, i < e.argc ? e.argv[i] : "(none)", want[i]);
	CHECK(e.argc == i, "%s: %zu words, want %zu", name, e.argc, i);
	vmapp_desktop_entry_finish(&e);
}

static void test_dir(void)
{
	char buf[64];
	struct vmapp_env env = { .home = "/home/u" };

	CHECK(vmapp_export_dir(&env, buf, sizeof(buf)) == 0, "home");
	CHECK(strcmp(buf, "/home/u/.local/share/applications") == 0, "%s", buf);
	env.xdg_data_home = "/data";
	CHECK(vmapp_export_dir(&env, buf, sizeof(buf)) == 0, "xdg");
	CHECK(strcmp(buf, "/data/applications") == 0, "%s", buf);
	/* a relative XDG_DATA_HOME is ignored */
	env.xdg_data_home = "data";
	CHECK(vmapp_export_dir(&env, buf, sizeof(buf)) == 0, "relative xdg");
	CHECK(strcmp(buf, "/home/u/.local/share/applications") == 0, "%s", buf);
	env.home = "home/u";
	CHECK(vmapp_export_dir(&env, buf, sizeof(buf)) == -EINVAL, "relative home");
	env.home = NULL;
	CHECK(vmapp_export_dir(&env, buf, sizeof(buf)) == -EINVAL, "no home");
	env.xdg_data_home = "/a-rather-long-data-home-that-does-not-fit-in-the-buffer";
	CHECK(vmapp_export_dir(&env, buf, sizeof(buf)) == -ENAMETOOLONG, "too long");
	CHECK(buf[0] == '\0', "buf not cleared");
}

/* The agent's APPS exec (each word quoted, no field codes) back to argv. */
static void test_from_app(void)
{
	struct vmapp_desktop_entry e;

	CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", "\"a b\" \"100%\" c \"\\$x\\\\\" \"\"",
					   NULL, NULL, &e) == 0, "split");
	CHECK(e.argc == 5, "%zu words", e.argc);
	if (e.argc == 5) {
		CHECK(strcmp(e.argv[0], "a b") == 0, "%s", e.argv[0]);
		CHECK(strcmp(e.argv[1], "100%") == 0, "%% is literal: %s", e.argv[1]);
		CHECK(strcmp(e.argv[2], "c") == 0, "%s", e.argv[2]);
		CHECK(strcmp(e.argv[3], "$x\\") == 0, "%s", e.argv[3]);
		CHECK(strcmp(e.argv[4], "") == 0, "%s", e.argv[4]);
	}
	CHECK(strcmp(e.id, "a.desktop") == 0 && strcmp(e.name, "A") == 0, "id/name");
	vmapp_desktop_entry_finish(&e);

	static const char *const bad[] = {
		"",		/* no command */
		"   ",
		"\"\"",		/* an empty first word */
		"\"a",		/* no closing quote */
		"\"a\"b",	/* quotes enclose a whole word */
		"\"$HOME\"",	/* $ unescaped even inside quotes */
		"\"`id`\"",
		"a;b",		/* reserved, unquoted */
		"a|b",
		"\"\\n\"",	/* an escape the quoting does not have */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", bad[i], NULL, NULL, &e) == -EINVAL,
		      "'%s' accepted", bad[i]);
	CHECK(vmapp_desktop_entry_from_app(NULL, "A", "a", NULL, NULL, &e) == -EINVAL, "NULL id");

	char *long_exec = malloc(VMAPP_DESKTOP_MAX_VALUE + 2);
	memset(long_exec, 'a', VMAPP_DESKTOP_MAX_VALUE + 1);
	long_exec[VMAPP_DESKTOP_MAX_VALUE + 1] = '\0';
	CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", long_exec, NULL, NULL, &e) == -EINVAL,
	      "long");
	free(long_exec);
	char many[3 * (VMAPP_DESKTOP_MAX_ARGS + 1)];
	for (size_t i = 0; i <= VMAPP_DESKTOP_MAX_ARGS; i++)
		memcpy(many + 2 * i, "a ", 2);
	many[2 * (VMAPP_DESKTOP_MAX_ARGS + 1)] = '\0';
	CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", many, NULL, NULL, &e) == -EINVAL,
	      "65 words");

	/* Icon as sent; Categories split at ';', empty words and the words
	 * past VMAPP_DESKTOP_MAX_CATEGORIES left out; over-long ones or
	 * empty strings are none, and never refuse the app. */
	CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", "a", "/etc/passwd",
					   ";Game;;X-Evil\n;", &e) == 0, "icon, categories");
	CHECK(e.icon && strcmp(e.icon, "/etc/passwd") == 0, "icon %s", e.icon ? e.icon : "(null)");
	CHECK(e.n_categories == 2 && strcmp(e.categories[0], "Game") == 0 &&
		      strcmp(e.categories[1], "X-Evil\n") == 0,
	      "%zu categories", e.n_categories);
	vmapp_desktop_entry_finish(&e);
	CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", "a", "", "", &e) == 0, "empty");
	CHECK(!e.icon && !e.categories && e.n_categories == 0, "empty icon, categories");
	vmapp_desktop_entry_finish(&e);
	char *long_value = malloc(VMAPP_DESKTOP_MAX_VALUE + 2);
	memset(long_value, 'G', VMAPP_DESKTOP_MAX_VALUE + 1);
	long_value[VMAPP_DESKTOP_MAX_VALUE + 1] = '\0';
	CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", "a", long_value, long_value, &e) == 0,
	      "long icon and categories refused the app");
	CHECK(!e.icon && e.n_categories == 0, "long icon and categories kept");
	vmapp_desktop_entry_finish(&e);
	free(long_value);
	char lots[64 * 5 + 1] = "";
	for (int i = 0; i < 64; i++)
		strcat(lots, "Game;");
	CHECK(vmapp_desktop_entry_from_app("a.desktop", "A", "a", NULL, lots, &e) == 0, "lots");
	CHECK(e.n_categories == VMAPP_DESKTOP_MAX_CATEGORIES, "%zu categories", e.n_categories);
	vmapp_desktop_entry_finish(&e);
}

static void test_export(void)
{
	char error[256];
	unsigned written = 99;
	struct stat st;
	int r;

	const struct vmapp_transport_app web[] = {
		{ "org.gnome.Calculator.desktop", "Calculator", "\"gnome-calculator\"",
		  "org.gnome.Calculator", "GNOME;GTK;Utility;Calculator;X-GNOME-Utilities;" },
		/* a guest path for an icon, categories half junk: dropped,
		 * not the app */
		{ "firefox.desktop", "  Firefox\x1b[31m\n\tName=x\xc2\x85 ",
		  "\"firefox\" \"--new-window\" \"100%\" \"a \\\"b\\\" \\$c\"",
		  "/etc/passwd", "../x;Network;\nExec=sh;;WebBrowser;Network;Screensaver" },
		/* hostile */
		{ "../../evil.desktop", "Evil", "\"sh\"", "", "" },
		{ "sub/evil.desktop", "Evil", "\"sh\"", "", "" },
		{ ".hidden.desktop", "Evil", "\"sh\"", "", "" },
		{ "evil", "Evil", "\"sh\"", "", "" },
		{ "nl.desktop", "Evil", "\"sh\" \"-c\nrm -rf ~\"", "", "" },
		{ "empty.desktop", "Evil", "", "", "" },
		{ "noname.desktop", "\x01\x02 ", "\"sh\"", "", "" },
		{ "shell.desktop", "Evil", "sh;rm", "", "" },
		{ "firefox.desktop", "Second Firefox", "\"other\"", "", "" },
	};

	/* Bad arguments change nothing. */
	CHECK(vmapp_export_apps(apps_dir, "Web", PROXY, web, N(web), error, sizeof(error),
				&written) == -EINVAL, "VM name");
	CHECK(vmapp_export_apps(apps_dir, "../x", PROXY, web, N(web), error, sizeof(error),
				&written) == -EINVAL, "VM name");
	CHECK(vmapp_export_apps(apps_dir, "web", "", web, N(web), error, sizeof(error),
				&written) == -EINVAL, "proxy");
	CHECK(vmapp_export_apps(apps_dir, "web", PROXY, web, VMAPP_TRANSPORT_MAX_APPS + 1, error,
				sizeof(error), &written) == -EINVAL, "count");
	CHECK(strcmp(listing(root), "") == 0, "root: %s", listing(root));

	/* The folder is made, the good apps written, the others skipped. */
	r = vmapp_export_apps(apps_dir, "web", PROXY, web, N(web), error, sizeof(error), &written);
	CHECK(r == 9, "skipped %d: %s", r, error);
	CHECK(written == 2, "written %u", written);
	CHECK(strstr(error, "app 2 '") == error, "first skipped: %s", error);
	CHECK(strchr(error, '/') == NULL, "error shows a path from the guest: %s", error);
	CHECK(strcmp(listing(apps_dir),
		     "vmapp-web_firefox.desktop vmapp-web_org.gnome.Calculator.desktop") == 0,
	      "%s", listing(apps_dir));
	CHECK(strcmp(listing(root), "share") == 0, "outside: %s", listing(root));
	CHECK(stat(apps_dir, &st) == 0 && (st.st_mode & 0777) == 0700, "dir mode %o",
	      st.st_mode & 0777);
	CHECK(stat(path_of("vmapp-web_firefox.desktop"), &st) == 0 && (st.st_mode & 07777) == 0644,
	      "file mode %o", st.st_mode & 07777);

	const char *text = read_text("vmapp-web_org.gnome.Calculator.desktop");
	CHECK(strcmp(text, "[Desktop Entry]\n"
				   "Type=Application\n"
				   "Name=[web] Calculator\n"
				   "Icon=org.gnome.Calculator\n"
				   "Categories=GNOME;GTK;Utility;Calculator;\n"
				   "Terminal=false\n"
				   "Exec=\"" PROXY "\" \"--vm\" \"web\" \"--\" \"gnome-calculator\"\n"
				   "X-Vmapp-VM=web\n") == 0,
	      "calculator:\n%s", text);
	text = read_text("vmapp-web_firefox.desktop");
	CHECK(strstr(text, "\nName=[web] Firefox[31mName=x\n"), "name:\n%s", text);
	CHECK(line_count(text, "Name=") == 1 && line_count(text, "Exec=") == 1 &&
		      line_count(text, "Icon=") == 0 && line_count(text, "Categories=") == 1,
	      "lines:\n%s", text);
	CHECK(strstr(text, "\nCategories=Network;WebBrowser;\n"), "categories:\n%s", text);
	/* "%" doubled, '"' and '$' backslashed, the backslash doubled */
	CHECK(strstr(text, "\nExec=\"" PROXY "\" \"--vm\" \"web\" \"--\" \"firefox\" "
				   "\"--new-window\" \"100%%\" \"a \\\\\"b\\\\\" \\\\$c\"\n"),
	      "exec:\n%s", text);
	expect_argv("vmapp-web_firefox.desktop",
		    (const char *const[]){ PROXY, "--vm", "web", "--", "firefox", "--new-window",
					   "100%", "a \"b\" $c", NULL });

	/* A second VM whose name starts with the first's, a file of the user,
	 * one that only looks like ours, and a temporary file a crash left. */
	const struct vmapp_transport_app web2[] = {
		{ "firefox.desktop", "Firefox", "\"firefox\"", NULL, NULL },
		{ "org.gnome.Calculator.desktop", "Calculator", "\"gnome-calculator\"", NULL, NULL },
	};
	r = vmapp_export_apps(apps_dir, "web-2", PROXY, web2, N(web2), error, sizeof(error),
			      &written);
	CHECK(r == 0 && written == 2 && error[0] == '\0', "web-2: %d %u %s", r, written, error);
	touch("org.example.Mine.desktop", "[Desktop Entry]\n");
	touch("vmapp-web_notes.txt", "mine\n");
	touch("vmapp-webx.desktop", "mine\n");
	touch(".vmapp-web_tmp-000000000000", "half");

	/* Unchanged entries are left alone; a changed one is replaced; a
	 * dropped one removed, with the temporary file. */
	ino_t firefox = inode("vmapp-web_firefox.desktop");
	const struct vmapp_transport_app web_again[] = {
		web[1],
		{ "org.gnome.Calculator.desktop", "Calculator 2", "\"gnome-calculator\"",
		  "org.gnome.Calculator", "GNOME;GTK;Utility;Calculator;X-GNOME-Utilities;" },
	};
	r = vmapp_export_apps(apps_dir, "web", PROXY, web_again, N(web_again), error,
			      sizeof(error), &written);
	CHECK(r == 0 && written == 2, "again: %d %u %s", r, written, error);
	CHECK(inode("vmapp-web_firefox.desktop") == firefox, "unchanged file rewritten");
	text = read_text("vmapp-web_org.gnome.Calculator.desktop");
	CHECK(strstr(text, "\nName=[web] Calculator 2\n"), "not updated:\n%s", text);

	r = vmapp_export_apps(apps_dir, "web", PROXY, &web[1], 1, error, sizeof(error), &written);
	CHECK(r == 0 && written == 1, "dropped: %d %u %s", r, written, error);
	CHECK(strcmp(listing(apps_dir), "org.example.Mine.desktop vmapp-web-2_firefox.desktop "
					"vmapp-web-2_org.gnome.Calculator.desktop "
					"vmapp-web_firefox.desktop vmapp-web_notes.txt "
					"vmapp-webx.desktop") == 0,
	      "%s", listing(apps_dir));
	CHECK(inode("vmapp-web_firefox.desktop") == firefox, "unchanged file rewritten");

	/* An empty list removes all of the VM's entries. */
	r = vmapp_export_apps(apps_dir, "web-2", PROXY, NULL, 0, error, sizeof(error), &written);
	CHECK(r == 0 && written == 0, "empty: %d %u %s", r, written, error);
	CHECK(strcmp(listing(apps_dir), "org.example.Mine.desktop vmapp-web_firefox.desktop "
					"vmapp-web_notes.txt vmapp-webx.desktop") == 0,
	      "%s", listing(apps_dir));

	/* remove_vm: exactly that VM's files. */
	r = vmapp_export_apps(apps_dir, "web-2", PROXY, web2, N(web2), error, sizeof(error),
			      &written);
	CHECK(r == 0 && written == 2, "web-2 again: %d", r);
	touch(".vmapp-web_tmp-000000000001", "half");
	CHECK(vmapp_export_remove_vm(apps_dir, "web") == 2, "remove web");
	CHECK(strcmp(listing(apps_dir), "org.example.Mine.desktop vmapp-web-2_firefox.desktop "
					"vmapp-web-2_org.gnome.Calculator.desktop "
					"vmapp-web_notes.txt vmapp-webx.desktop") == 0,
	      "%s", listing(apps_dir));
	CHECK(vmapp_export_remove_vm(apps_dir, "web") == 0, "again");
	CHECK(vmapp_export_remove_vm(apps_dir, "web-2") == 2, "remove web-2");
	CHECK(strcmp(listing(apps_dir), "org.example.Mine.desktop vmapp-web_notes.txt "
					"vmapp-webx.desktop") == 0,
	      "%s", listing(apps_dir));
	CHECK(vmapp_export_remove_vm(apps_dir, "../x") == -EINVAL, "bad name");
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/missing", root);
	CHECK(vmapp_export_remove_vm(missing, "web") == 0, "missing folder");
}

/* Icon and Categories from the guest, end to end: only an icon theme name
 * and registered categories reach the host file, and a bad one never
 * costs the app its entry. */
static void test_icon_and_categories(void)
{
	char error[256], long_icon[VMAPP_DESKTOP_MAX_ICON + 2], cats[1024] = "";
	unsigned written;
	static const char *const many[] = {
		"AudioVideo", "Audio", "Video", "Development", "Education", "Game",
		"Graphics", "Network", "Office", "Science", "Settings", "System",
		"Utility", "Building", "Debugger", "IDE", "Profiling", "Translation",
	};
	/* 18 registered words: the first 16 kept. */
	for (size_t i = 0; i < sizeof(many) / sizeof(*many); i++) {
		strcat(cats, many[i]);
		strcat(cats, ";");
	}
	memset(long_icon, 'i', sizeof(long_icon) - 1);
	long_icon[sizeof(long_icon) - 1] = '\0'; /* 65 bytes */

	const struct vmapp_transport_app apps[] = {
		{ "a.desktop", "A", "\"a\"", "firefox-esr", "Network;WebBrowser;" },
		{ "b.desktop", "B", "\"b\"", "utilities-terminal", "System;TerminalEmulator" },
		{ "c.desktop", "C", "\"c\"", "/etc/passwd", "Game;X-Foo;game;Game;" },
		{ "d.desktop", "D", "\"d\"", "../x", "TrayIcon;Screensaver;Applet;Shell" },
		{ "e.desktop", "E", "\"e\"", "evil\nExec=rm -rf ~", "Office\nExec=sh;Office;" },
		{ "f.desktop", "F", "\"f\"", long_icon, cats },
		{ "g.desktop", "G", "\"g\"", "gimp-2.10", ";;;" },
		{ "h.desktop", "H", "\"h\"", "-x", "../../etc;Utility/x;Uti lity;" },
		{ "i.desktop", "I", "\"i\"", ".hidden", "" },
		{ "j.desktop", "J", "\"j\"", "c++", "Développement;Education;" },
		{ "k.desktop", "K", "\"k\"", "file:///usr/share/icons/x.png", NULL },
		{ "l.desktop", "L", "\"l\"", NULL, NULL },
	};
	static const struct {
		const char *name, *icon, *categories; /* NULL: no line */
	} want[] = {
		{ "vmapp-ic_a.desktop", "firefox-esr", "Network;WebBrowser;" },
		{ "vmapp-ic_b.desktop", "utilities-terminal", "System;TerminalEmulator;" },
		{ "vmapp-ic_c.desktop", NULL, "Game;" },
		{ "vmapp-ic_d.desktop", NULL, NULL },
		{ "vmapp-ic_e.desktop", NULL, "Office;" },
		{ "vmapp-ic_f.desktop", NULL,
		  "AudioVideo;Audio;Video;Development;Education;Game;Graphics;Network;Office;"
		  "Science;Settings;System;Utility;Building;Debugger;IDE;" },
		{ "vmapp-ic_g.desktop", "gimp-2.10", NULL },
		{ "vmapp-ic_h.desktop", NULL, NULL },
		{ "vmapp-ic_i.desktop", NULL, NULL },
		{ "vmapp-ic_j.desktop", "c++", "Education;" },
		{ "vmapp-ic_k.desktop", NULL, NULL },
		{ "vmapp-ic_l.desktop", NULL, NULL },
	};

	int r = vmapp_export_apps(apps_dir, "ic", PROXY, apps, N(apps), error, sizeof(error),
				  &written);
	CHECK(r == 0 && written == N(apps), "%d %u %s", r, written, error);
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		char line[512];
		const char *text = read_text(want[i].name);
		CHECK(line_count(text, "Icon=") == (want[i].icon ? 1u : 0u), "%s icon:\n%s",
		      want[i].name, text);
		CHECK(line_count(text, "Categories=") == (want[i].categories ? 1u : 0u),
		      "%s categories:\n%s", want[i].name, text);
		/* No line of the guest's own: Type, Name, Icon?, Categories?,
		 * Terminal, Exec, X-Vmapp-VM. */
		CHECK(line_count(text, "Exec=") == 1 && line_count(text, "Name=") == 1 &&
			      line_count(text, "") == 6u + (want[i].icon != NULL) +
							  (want[i].categories != NULL),
		      "%s lines:\n%s", want[i].name, text);
		if (want[i].icon) {
			snprintf(line, sizeof(line), "\nIcon=%s\n", want[i].icon);
			CHECK(strstr(text, line), "%s: no %s in\n%s", want[i].name, line, text);
		}
		if (want[i].categories) {
			snprintf(line, sizeof(line), "\nCategories=%s\n", want[i].categories);
			CHECK(strstr(text, line), "%s: no %s in\n%s", want[i].name, line, text);
		}
		/* and the host entry is one the spec's parser takes back */
		struct vmapp_desktop_entry e;
		CHECK(vmapp_desktop_parse(text, strlen(text), "host.desktop", &e) == 0,
		      "%s does not parse back", want[i].name);
		vmapp_desktop_entry_finish(&e);
	}
	CHECK(vmapp_export_remove_vm(apps_dir, "ic") == (int)N(apps), "remove ic");
}

/* A proxy path that Exec must quote, and the umask not deciding the mode. */
static void test_proxy_path_and_umask(void)
{
	char error[256];
	unsigned written;
	struct stat st;
	const struct vmapp_transport_app app[] = { { "a.desktop", "A", "\"a\"", "", "" } };
	mode_t old = umask(077);
	int r = vmapp_export_apps(apps_dir, "m", "/opt/my vm/100%/proxy", app, 1, error,
				  sizeof(error), &written);
	umask(old);

	CHECK(r == 0 && written == 1, "%d %s", r, error);
	CHECK(stat(path_of("vmapp-m_a.desktop"), &st) == 0 && (st.st_mode & 07777) == 0644,
	      "mode %o", st.st_mode & 07777);
	expect_argv("vmapp-m_a.desktop", (const char *const[]){ "/opt/my vm/100%/proxy", "--vm",
								"m", "--", "a", NULL });
	CHECK(vmapp_export_remove_vm(apps_dir, "m") == 1, "remove m");
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/vmapp-test-export.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(apps_dir, sizeof(apps_dir), "%s/share/applications", root);

	test_dir();
	test_from_app();
	test_export();
	test_icon_and_categories();
	test_proxy_path_and_umask();

	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return check_exit_code();
}
