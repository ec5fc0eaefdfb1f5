/* SPDX-License-Identifier: MIT */
/* .desktop files: guest-side parsing and listing, host-side sanitising and
 * the host entry text.  Fixtures in desktop-data/ (see its README). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "desktop.h"
#include "msg.h"

#define PROXY "/usr/bin/vmapp-proxy"
#define SUFFIX_LEN_FOR_TEST 8 /* ".desktop" */

static const char *data_dir;

static size_t read_fixture(const char *name, char *buf, size_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		exit(99);
	}
	size_t n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static int parse_fixture(const char *name, struct vmapp_desktop_entry *ret)
{
	static char buf[VMAPP_DESKTOP_MAX_SIZE + 1];
	size_t n = read_fixture(name, buf, sizeof(buf));
	return vmapp_desktop_parse(buf, n, name, ret);
}

static void expect_refused(const char *name, int want)
{
	struct vmapp_desktop_entry e;
	int r = parse_fixture(name, &e);
	if (r != want) {
		fprintf(stderr, "%s: got %d, want %d\n", name, r, want);
		test_failures++;
		if (r == 0)
			vmapp_desktop_entry_finish(&e);
	}
}

static void expect_str(const char *what, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
		fprintf(stderr, "%s:\n  got  \"%s\"\n  want \"%s\"\n", what, got ? got : "(null)",
			want ? want : "(null)");
		test_failures++;
	}
}

/* want: NULL-terminated */
static void expect_list(const char *what, char *const *got, size_t n, const char *const *want)
{
	size_t i = 0;
	for (; want[i]; i++) {
		if (i >= n) {
			fprintf(stderr, "%s: only %zu items, want \"%s\" at %zu\n", what, n, want[i], i);
			test_failures++;
			return;
		}
		expect_str(what, got[i], want[i]);
	}
	if (i != n) {
		fprintf(stderr, "%s: %zu items, want %zu\n", what, n, i);
		test_failures++;
	}
	if (got && got[n] != NULL && strcmp(what, "argv") == 0) {
		fprintf(stderr, "%s: not NULL-terminated\n", what);
		test_failures++;
	}
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Sanitises for VM "work", writes the host entry, compares it with the
 * golden text, and reads it back with our own parser: the host Exec must
 * give back exactly the proxy's argv followed by the guest's words. */
static void expect_host_entry(const struct vmapp_desktop_entry *untrusted, const char *golden)
{
	struct vmapp_desktop_entry clean, back;
	char text[8192], file[300];

	int r = vmapp_desktop_sanitize(untrusted, "work", &clean);
	CHECK(r == 0);
	if (r < 0)
		return;
	r = vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, sizeof(text));
	CHECK(r == (int)strlen(golden));
	expect_str(untrusted->id, text, golden);

	CHECK(vmapp_desktop_host_file_name("work", clean.id, file, sizeof(file)) > 0);
	r = vmapp_desktop_parse(text, strlen(text), file, &back);
	CHECK(r == 0);
	if (r == 0) {
		CHECK(back.argc == clean.argc + 4);
		if (back.argc == clean.argc + 4) {
			expect_str("host argv[0]", back.argv[0], PROXY);
			expect_str("host argv[1]", back.argv[1], "--vm");
			expect_str("host argv[2]", back.argv[2], "work");
			expect_str("host argv[3]", back.argv[3], "--");
			for (size_t i = 0; i < clean.argc; i++)
				expect_str("host argv", back.argv[4 + i], clean.argv[i]);
		}
		expect_str("host name", back.name, clean.name);
		vmapp_desktop_entry_finish(&back);
	}
	vmapp_desktop_entry_finish(&clean);
}

static void test_real_world(void)
{
	struct vmapp_desktop_entry e;

	CHECK(parse_fixture("foot.desktop", &e) == 0);
	expect_str("foot id", e.id, "foot.desktop");
	expect_str("foot name", e.name, "Foot");
	expect_str("foot comment", e.comment, "A wayland native terminal emulator");
	expect_str("foot icon", e.icon, "foot");
	expect_list("foot categories", e.categories, e.n_categories, LIST("System", "TerminalEmulator"));
	expect_list("argv", e.argv, e.argc, LIST("foot"));
	CHECK(!e.terminal);
	expect_host_entry(&e,
		"[Desktop Entry]\n"
		"Type=Application\n"
		"Name=[work] Foot\n"
		"Comment=A wayland native terminal emulator\n"
		"Icon=foot\n"
		"Categories=System;TerminalEmulator;\n"
		"Terminal=false\n"
		"Exec=\"/usr/bin/vmapp-proxy\" \"--vm\" \"work\" \"--\" \"foot\"\n"
		"X-Vmapp-VM=work\n");
	vmapp_desktop_entry_finish(&e);

	/* localised Name[..] and X-GNOME-FullName[..] lines are not Name */
	CHECK(parse_fixture("firefox-esr.desktop", &e) == 0);
	expect_str("firefox name", e.name, "Firefox ESR");
	expect_str("firefox comment", e.comment, "Browse the World Wide Web");
	expect_list("argv", e.argv, e.argc, LIST("/usr/lib/firefox-esr/firefox-esr"));
	expect_list("firefox categories", e.categories, e.n_categories, LIST("Network", "WebBrowser"));
	expect_host_entry(&e,
		"[Desktop Entry]\n"
		"Type=Application\n"
		"Name=[work] Firefox ESR\n"
		"Comment=Browse the World Wide Web\n"
		"Icon=firefox-esr\n"
		"Categories=Network;WebBrowser;\n"
		"Terminal=false\n"
		"Exec=\"/usr/bin/vmapp-proxy\" \"--vm\" \"work\" \"--\" \"/usr/lib/firefox-esr/firefox-esr\"\n"
		"X-Vmapp-VM=work\n");
	vmapp_desktop_entry_finish(&e);

	/* comments before the group, TryExec, %F */
	CHECK(parse_fixture("vim.desktop", &e) == 0);
	expect_str("vim name", e.name, "Vim");
	expect_list("argv", e.argv, e.argc, LIST("vim"));
	CHECK(e.terminal);
	vmapp_desktop_entry_finish(&e);

	expect_refused("gtk3-demo.desktop", -ENOENT); /* NoDisplay=true */
}

static void test_hostile(void)
{
	struct vmapp_desktop_entry e, clean;

	/* Quoted per the spec, the shell syntax is just bytes of one word. */
	CHECK(parse_fixture("hostile-exec.desktop", &e) == 0);
	expect_list("argv", e.argv, e.argc,
		    LIST("sh", "-c", "echo $(id) `uname` ;rm -rf ~ 100% \"q\" \\"));
	expect_host_entry(&e,
		"[Desktop Entry]\n"
		"Type=Application\n"
		"Name=[work] Hostile Exec\n"
		"Icon=utilities-terminal\n"
		"Categories=System;\n"
		"Terminal=false\n"
		"Exec=\"/usr/bin/vmapp-proxy\" \"--vm\" \"work\" \"--\" \"sh\" \"-c\" "
		"\"echo \\\\$(id) \\\\`uname\\\\` ;rm -rf ~ 100%% \\\\\"q\\\\\" \\\\\\\\\"\n"
		"X-Vmapp-VM=work\n");
	vmapp_desktop_entry_finish(&e);

	/* Unquoted, they are refused: no guessing what a shell would do. */
	expect_refused("exec-unquoted-semicolon.desktop", -EINVAL);
	expect_refused("exec-unquoted-subst.desktop", -EINVAL);
	expect_refused("exec-unquoted-backtick.desktop", -EINVAL);
	expect_refused("exec-quote-inside-word.desktop", -EINVAL);
	expect_refused("exec-unterminated-quote.desktop", -EINVAL);
	expect_refused("bad-escape.desktop", -EINVAL); /* \" is no string escape */

	CHECK(parse_fixture("field-codes.desktop", &e) == 0);
	expect_list("argv", e.argv, e.argc,
		    LIST("app", "--title", "Field Codes", "100%", "--uri=", "%f"));
	expect_host_entry(&e,
		"[Desktop Entry]\n"
		"Type=Application\n"
		"Name=[work] Field Codes\n"
		"Terminal=false\n"
		"Exec=\"/usr/bin/vmapp-proxy\" \"--vm\" \"work\" \"--\" \"app\" \"--title\" "
		"\"Field Codes\" \"100%%\" \"--uri=\" \"%%f\"\n"
		"X-Vmapp-VM=work\n");
	vmapp_desktop_entry_finish(&e);
	expect_refused("field-code-unknown.desktop", -EINVAL);
	expect_refused("field-code-embedded-list.desktop", -EINVAL);

	/* The guest keeps what the file says; the host cleans it. */
	CHECK(parse_fixture("name-hostile.desktop", &e) == 0);
	expect_str("hostile name", e.name, "Bank\nApp \xe2\x80\xae" "fdp.exe\t");
	expect_str("hostile comment", e.comment, " A \\ comment\r\nwith\xc2\x85 C1");
	expect_str("hostile icon", e.icon, "/etc/passwd");
	expect_list("hostile categories", e.categories, e.n_categories,
		    LIST("Network", "X-Evil", "../../etc", "WebBrowser", "Network", "Screensaver",
			 "network", ";", "Office"));
	CHECK(e.terminal);
	expect_host_entry(&e,
		"[Desktop Entry]\n"
		"Type=Application\n"
		"Name=[work] BankApp fdp.exe\n"
		"Comment=A \\\\ commentwith C1\n"
		"Categories=Network;WebBrowser;Office;\n"
		"Terminal=true\n"
		"Exec=\"/usr/bin/vmapp-proxy\" \"--vm\" \"work\" \"--\" \"bank\"\n"
		"X-Vmapp-VM=work\n");
	vmapp_desktop_entry_finish(&e);

	CHECK(parse_fixture("icon-dotdot.desktop", &e) == 0);
	expect_str("dotdot icon", e.icon, "../../x");
	CHECK(vmapp_desktop_sanitize(&e, "work", &clean) == 0);
	expect_str("dotdot clean icon", clean.icon, NULL);
	vmapp_desktop_entry_finish(&clean);
	vmapp_desktop_entry_finish(&e);

	expect_refused("name-invalid-utf8.desktop", -EINVAL);
	expect_refused("name-overlong-utf8.desktop", -EINVAL);
	expect_refused("nul-byte.desktop", -EINVAL);
	expect_refused("no-group.desktop", -EINVAL);
	expect_refused("wrong-group.desktop", -EINVAL);
	expect_refused("duplicate-key.desktop", -EINVAL);
	expect_refused("duplicate-group.desktop", -EINVAL);
	expect_refused("no-equals.desktop", -EINVAL);
	expect_refused("bad-bool.desktop", -EINVAL);
	expect_refused("bom.desktop", -EINVAL);
	expect_refused("type-link.desktop", -ENOENT);
	expect_refused("nodisplay.desktop", -ENOENT);
	expect_refused("hidden.desktop", -ENOENT);
	expect_refused("no-exec.desktop", -ENOENT);

	/* CRLF, blanks around '=', indented comments, Name[de], other groups */
	CHECK(parse_fixture("crlf.desktop", &e) == 0);
	expect_str("crlf name", e.name, "CRLF App");
	expect_list("argv", e.argv, e.argc, LIST("crlf-app", "--flag"));
	vmapp_desktop_entry_finish(&e);
}

static void test_exec_quoting(void)
{
	struct vmapp_desktop_entry e, clean;
	char fixture[1024], want[2048], text[4096];

	/* Every quoting escape, %%, empty and space-edged words.  The host
	 * writes each word in the same canonical form the fixture uses, so
	 * its Exec line is the fixture's behind the proxy's words.  (GLib
	 * 2.74's GDesktopAppInfo was checked by hand to launch this host
	 * entry with exactly these arguments.) */
	CHECK(parse_fixture("exec-quoting.desktop", &e) == 0);
	expect_list("argv", e.argv, e.argc,
		    LIST("a", "\\\\", "$x", "`y`", "%c", "'", " lead", "trail ", "\xc3\xa9",
			 "a\\nb", "", "--", "-x", "%%", "\"\"", "#;|&<>*?~()"));

	fixture[read_fixture("exec-quoting.desktop", fixture, sizeof(fixture) - 1)] = '\0';
	const char *exec = strstr(fixture, "\nExec=") + strlen("\nExec=");
	snprintf(want, sizeof(want), "\nExec=\"" PROXY "\" \"--vm\" \"work\" \"--\" %s", exec);
	CHECK(vmapp_desktop_sanitize(&e, "work", &clean) == 0);
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, sizeof(text)) > 0);
	if (!strstr(text, want)) {
		fprintf(stderr, "exec-quoting host entry:\n%s\nwant a line:%s", text, want);
		test_failures++;
	}
	vmapp_desktop_entry_finish(&clean);
	expect_host_entry(&e, text); /* and it reads back as the same argv */
	vmapp_desktop_entry_finish(&e);
}

static int parse_str(const char *text, const char *id, struct vmapp_desktop_entry *ret)
{
	return vmapp_desktop_parse(text, strlen(text), id, ret);
}

static void expect_exec(const char *exec, int want, const char *const *want_argv)
{
	char text[8192];
	struct vmapp_desktop_entry e;

	snprintf(text, sizeof(text), "[Desktop Entry]\nType=Application\nName=N\nExec=%s\n", exec);
	int r = parse_str(text, "t.desktop", &e);
	if (r != want) {
		fprintf(stderr, "Exec=%s: got %d, want %d\n", exec, r, want);
		test_failures++;
	}
	if (r == 0) {
		if (want_argv)
			expect_list("argv", e.argv, e.argc, want_argv);
		vmapp_desktop_entry_finish(&e);
	}
}

static void test_exec_rules(void)
{
	expect_exec("a  b   c ", 0, LIST("a", "b", "c"));
	expect_exec("a \"\" b", 0, LIST("a", "", "b"));
	expect_exec("a \"b c\" \"d;e|f&g<h>i*j?k#l(m)n~o'p\"", 0,
		    LIST("a", "b c", "d;e|f&g<h>i*j?k#l(m)n~o'p"));
	/* \\\\ in the file is one backslash in the argument (spec example) */
	expect_exec("a \"\\\\\\\\\"", 0, LIST("a", "\\"));
	expect_exec("a \"\\\\$HOME\"", 0, LIST("a", "$HOME"));
	expect_exec("a \"$HOME\"", -EINVAL, NULL);
	expect_exec("a \"`id`\"", -EINVAL, NULL);
	expect_exec("a \"\\\\x\"", -EINVAL, NULL);	/* \x is no quoting escape */
	expect_exec("a\\tb", -EINVAL, NULL);		/* tab is reserved */
	expect_exec("a \"b\\tc\"", 0, LIST("a", "b\tc")); /* quoted it is kept */
	expect_exec("a \"b\\nc\"", 0, LIST("a", "b\nc"));
	expect_exec("a \\sb", 0, LIST("a", "b"));	/* \s is a space: a separator */
	expect_exec("a 'b c'", -EINVAL, NULL);		/* single quotes are not quoting */
	expect_exec("a b\\\\c", -EINVAL, NULL);		/* unquoted backslash */
	expect_exec("\"\" a", -EINVAL, NULL);		/* empty program */
	expect_exec("%f", -EINVAL, NULL);		/* nothing left */
	expect_exec("   ", -ENOENT, NULL);
	expect_exec("a %", -EINVAL, NULL);
	expect_exec("a 5%", -EINVAL, NULL);
	expect_exec("a %%", 0, LIST("a", "%"));
	expect_exec("a %%%%", 0, LIST("a", "%%"));
	expect_exec("a x%fy", 0, LIST("a", "xy"));
	expect_exec("a x%Uy", -EINVAL, NULL);
	expect_exec("a x%iy", -EINVAL, NULL);
	expect_exec("a %F %U %i", 0, LIST("a"));
	expect_exec("a %d %D %n %N %v %m", 0, LIST("a"));
	expect_exec("a %c", 0, LIST("a", "N"));
	expect_exec("a --name=%c", 0, LIST("a", "--name=N"));
	expect_exec("a %z", -EINVAL, NULL);
	expect_exec("a %1", -EINVAL, NULL);
	expect_exec("a \"%x\"", -EINVAL, NULL);	/* codes count inside quotes too */
	expect_exec("a \"%%\"", 0, LIST("a", "%"));
	expect_exec("a \"%f\"", 0, LIST("a"));

	/* limits: argument count and total length */
	char exec[8192];
	size_t o = 0;
	for (int i = 0; i < VMAPP_DESKTOP_MAX_ARGS; i++)
		o += (size_t)snprintf(exec + o, sizeof(exec) - o, "a ");
	expect_exec(exec, 0, NULL);
	snprintf(exec + o, sizeof(exec) - o, "a");
	expect_exec(exec, -EINVAL, NULL);
	memset(exec, 'x', VMAPP_DESKTOP_MAX_VALUE);
	exec[VMAPP_DESKTOP_MAX_VALUE] = '\0';
	expect_exec(exec, 0, NULL);
	exec[VMAPP_DESKTOP_MAX_VALUE] = 'x';
	exec[VMAPP_DESKTOP_MAX_VALUE + 1] = '\0';
	expect_exec(exec, -EINVAL, NULL);
}

static void test_parse_edges(void)
{
	struct vmapp_desktop_entry e;
	char *big;

	/* ids: the parser refuses what the host would */
	const char *ok = "[Desktop Entry]\nType=Application\nName=N\nExec=x\n";
	CHECK(parse_str(ok, "a/b.desktop", &e) == -EINVAL);
	CHECK(parse_str(ok, "..desktop", &e) == -EINVAL);
	CHECK(parse_str(ok, "a..b.desktop", &e) == -EINVAL);
	CHECK(parse_str(ok, ".hidden.desktop", &e) == -EINVAL);
	CHECK(parse_str(ok, "-opt.desktop", &e) == -EINVAL);
	CHECK(parse_str(ok, "a b.desktop", &e) == -EINVAL);
	CHECK(parse_str(ok, "a.txt", &e) == -EINVAL);
	CHECK(parse_str(ok, ".desktop", &e) == -EINVAL);
	CHECK(parse_str(ok, "org.example.App_1-2.desktop", &e) == 0);
	vmapp_desktop_entry_finish(&e);

	/* other groups may say anything well-formed; keys outside any group may not */
	CHECK(parse_str("[X]\nName=a\nName=b\n[Desktop Entry]\nType=Application\nName=N\nExec=x\n",
			"t.desktop", &e) == 0);
	vmapp_desktop_entry_finish(&e);
	CHECK(parse_str("Name=a\n[Desktop Entry]\nType=Application\nName=N\nExec=x\n", "t.desktop",
			&e) == -EINVAL);
	CHECK(parse_str("[Desktop Entry\nType=Application\nName=N\nExec=x\n", "t.desktop", &e) ==
	      -EINVAL);
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=N\nExec=x\n=v\n", "t.desktop",
			&e) == -EINVAL);
	/* a lone CR is a control character, not a line end */
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=N\rExec=y\nExec=x\n", "t.desktop",
			&e) == -EINVAL);
	/* no final newline */
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=N\nExec=x", "t.desktop", &e) == 0);
	expect_list("argv", e.argv, e.argc, LIST("x"));
	vmapp_desktop_entry_finish(&e);
	/* missing Type or Name */
	CHECK(parse_str("[Desktop Entry]\nName=N\nExec=x\n", "t.desktop", &e) == -EINVAL);
	CHECK(parse_str("[Desktop Entry]\nType=Application\nExec=x\n", "t.desktop", &e) == -EINVAL);
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=\nExec=x\n", "t.desktop", &e) ==
	      -EINVAL);
	/* a duplicate of a key we do not read is not looked at */
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=N\nExec=x\nX-A=1\nX-A=2\n",
			"t.desktop", &e) == 0);
	vmapp_desktop_entry_finish(&e);
	/* booleans as GLib reads them */
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=N\nExec=x\nTerminal=1\n",
			"t.desktop", &e) == 0);
	CHECK(e.terminal);
	vmapp_desktop_entry_finish(&e);
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=N\nExec=x\nHidden=True\n",
			"t.desktop", &e) == -EINVAL);
	/* string escapes */
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=\\sa\\\\b\\tc\nExec=x\n",
			"t.desktop", &e) == 0);
	expect_str("escaped name", e.name, " a\\b\tc");
	vmapp_desktop_entry_finish(&e);
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=a\\\nExec=x\n", "t.desktop", &e) ==
	      -EINVAL);
	CHECK(parse_str("[Desktop Entry]\nType=Application\nName=a\\;\nExec=x\n", "t.desktop", &e) ==
	      -EINVAL); /* \; only in lists */
	/* too many categories */
	char cats[4096] = "[Desktop Entry]\nType=Application\nName=N\nExec=x\nCategories=";
	for (int i = 0; i <= VMAPP_DESKTOP_MAX_CATEGORIES; i++)
		strcat(cats, "Game;");
	CHECK(parse_str(cats, "t.desktop", &e) == -EINVAL);

	/* size and line limits */
	big = malloc(VMAPP_DESKTOP_MAX_SIZE + 2);
	size_t head = (size_t)snprintf(big, 200, "[Desktop Entry]\nType=Application\nName=N\nExec=x\n#");
	memset(big + head, 'x', VMAPP_DESKTOP_MAX_SIZE + 1 - head);
	CHECK(vmapp_desktop_parse(big, VMAPP_DESKTOP_MAX_SIZE + 1, "t.desktop", &e) == -EINVAL);
	/* 64 KiB of short comment lines is fine */
	for (size_t i = head; i + 1 < VMAPP_DESKTOP_MAX_SIZE; i += 100) {
		big[i] = '\n';
		big[i + 1] = '#';
	}
	CHECK(vmapp_desktop_parse(big, VMAPP_DESKTOP_MAX_SIZE, "t.desktop", &e) == 0);
	vmapp_desktop_entry_finish(&e);
	/* one line over VMAPP_DESKTOP_MAX_LINE */
	memset(big + head, 'x', VMAPP_DESKTOP_MAX_LINE + 1);
	big[head + VMAPP_DESKTOP_MAX_LINE + 1] = '\n';
	CHECK(vmapp_desktop_parse(big, head + VMAPP_DESKTOP_MAX_LINE + 2, "t.desktop", &e) ==
	      -EINVAL);
	/* a Name over VMAPP_DESKTOP_MAX_VALUE */
	size_t n = (size_t)snprintf(big, 200, "[Desktop Entry]\nType=Application\nExec=x\nName=");
	memset(big + n, 'n', VMAPP_DESKTOP_MAX_VALUE + 1);
	CHECK(vmapp_desktop_parse(big, n + VMAPP_DESKTOP_MAX_VALUE + 1, "t.desktop", &e) == -EINVAL);
	CHECK(vmapp_desktop_parse(big, n + VMAPP_DESKTOP_MAX_VALUE, "t.desktop", &e) == 0);
	vmapp_desktop_entry_finish(&e);
	free(big);

	/* Every prefix and many one-byte changes of a fixture: no crash, no
	 * leak (the sanitizer build), and an entry only with a valid argv. */
	char buf[1024];
	size_t len = read_fixture("hostile-exec.desktop", buf, sizeof(buf));
	for (size_t cut = 0; cut <= len; cut++) {
		if (vmapp_desktop_parse(buf, cut, "t.desktop", &e) == 0) {
			CHECK(e.argc >= 1 && e.argv[e.argc] == NULL);
			vmapp_desktop_entry_finish(&e);
		}
	}
	static const char flips[] = { '\0', '\n', '\r', '"', '\\', '%', ' ', '$', '[', '=', (char)0xff };
	for (size_t at = 0; at < len; at++) {
		for (size_t k = 0; k < sizeof(flips); k++) {
			char saved = buf[at];
			buf[at] = flips[k];
			if (vmapp_desktop_parse(buf, len, "t.desktop", &e) == 0) {
				CHECK(e.argc >= 1 && e.argv[e.argc] == NULL && e.argv[0][0] != '\0');
				vmapp_desktop_entry_finish(&e);
			}
			buf[at] = saved;
		}
	}
}

static void test_sanitize(void)
{
	struct vmapp_desktop_entry clean;
	char *argv[VMAPP_DESKTOP_MAX_ARGS + 2] = { "app", NULL };
	char *cats[] = { "Game", "Game", "TrayIcon", "X-Foo", NULL, "Gamer", "ArcadeGame" };
	struct vmapp_desktop_entry u = {
		.id = "org.example.App.desktop",
		.name = "  App  ",
		.argv = argv,
		.argc = 1,
		.categories = cats,
		.n_categories = sizeof(cats) / sizeof(*cats),
		.icon = "org.example.App",
	};
	char text[4096];

	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	expect_str("clean name", clean.name, "[work] App");
	expect_str("clean icon", clean.icon, "org.example.App");
	expect_list("clean categories", clean.categories, clean.n_categories,
		    LIST("Game", "ArcadeGame"));
	expect_str("clean comment", clean.comment, NULL);
	/* the host entry is for the VM the entry was cleaned for */
	CHECK(vmapp_desktop_write_host_entry(&clean, "other", PROXY, text, sizeof(text)) == -EINVAL);
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", "", text, sizeof(text)) == -EINVAL);
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", "/a\nb", text, sizeof(text)) == -EINVAL);
	int full = vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, sizeof(text));
	CHECK(full > 0);
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, (size_t)full) == -ENOBUFS);
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, (size_t)full + 1) == full);
	/* a proxy path with spaces, quotes and % is one word too */
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", "/opt/my \"vm\"/100%/proxy", text,
					     sizeof(text)) > 0);
	CHECK(strstr(text, "Exec=\"/opt/my \\\\\"vm\\\\\"/100%%/proxy\" \"--vm\"") != NULL);
	vmapp_desktop_entry_finish(&clean);

	/* bad VM names */
	CHECK(vmapp_desktop_sanitize(&u, "Work", &clean) == -EINVAL);
	CHECK(vmapp_desktop_sanitize(&u, "a/b", &clean) == -EINVAL);
	CHECK(vmapp_desktop_sanitize(&u, "", &clean) == -EINVAL);

	/* ids */
	static const char *const bad_ids[] = {
		"../../.bashrc.desktop", "a/b.desktop", "..desktop", ".desktop", "x.desktop/",
		"x", "x.desktop\n", "-x.desktop", "x y.desktop", "x\xc3\xa9.desktop", "", NULL,
	};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(*bad_ids); i++) {
		u.id = (char *)bad_ids[i];
		if (vmapp_desktop_sanitize(&u, "work", &clean) != -EINVAL) {
			fprintf(stderr, "id \"%s\" not refused\n", bad_ids[i] ? bad_ids[i] : "(null)");
			test_failures++;
		}
	}
	char long_id[300];
	memset(long_id, 'a', sizeof(long_id));
	strcpy(long_id + VMAPP_DESKTOP_MAX_ID - SUFFIX_LEN_FOR_TEST, ".desktop");
	u.id = long_id; /* exactly 255 bytes */
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	char file[300];
	CHECK(vmapp_desktop_host_file_name("work", clean.id, file, sizeof(file)) == -ENAMETOOLONG);
	vmapp_desktop_entry_finish(&clean);
	strcpy(long_id + VMAPP_DESKTOP_MAX_ID + 1 - SUFFIX_LEN_FOR_TEST, ".desktop");
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	u.id = "org.example.App.desktop";

	/* argv */
	u.argc = 0;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	u.argv = NULL;
	u.argc = 1;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	u.argv = argv;
	static const char *const bad_words[] = { "a\nb", "a\rb", "\x7f", "\xc2\x85", "\xff", "",
						 "\xc0\xaf" };
	for (size_t i = 0; i < sizeof(bad_words) / sizeof(*bad_words); i++) {
		argv[0] = (char *)bad_words[i];
		CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	}
	argv[0] = "app";
	argv[1] = NULL;
	u.argc = 2; /* a NULL word inside argc */
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	for (int i = 0; i <= VMAPP_DESKTOP_MAX_ARGS; i++)
		argv[i] = "a";
	u.argc = VMAPP_DESKTOP_MAX_ARGS;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	vmapp_desktop_entry_finish(&clean);
	u.argc = VMAPP_DESKTOP_MAX_ARGS + 1;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	char *huge = malloc(VMAPP_DESKTOP_MAX_VALUE + 2);
	memset(huge, 'h', VMAPP_DESKTOP_MAX_VALUE + 1);
	huge[VMAPP_DESKTOP_MAX_VALUE + 1] = '\0';
	argv[0] = huge;
	u.argc = 1;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	free(huge);
	argv[0] = "app";

	/* names: cleaned, capped, never empty */
	u.name = "\xe2\x80\xae\n\t ";
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	u.name = NULL;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == -EINVAL);
	char long_name[1000];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	u.name = long_name;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	CHECK(strlen(clean.name) == strlen("[work] ") + VMAPP_DESKTOP_MAX_NAME);
	vmapp_desktop_entry_finish(&clean);
	u.name = "[host] Terminal";
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	expect_str("label kept", clean.name, "[work] [host] Terminal");
	vmapp_desktop_entry_finish(&clean);

	/* icons: theme names only; the entry stays */
	char icon64[VMAPP_DESKTOP_MAX_ICON + 1], icon65[VMAPP_DESKTOP_MAX_ICON + 2];
	memset(icon64, 'i', sizeof(icon64) - 1);
	icon64[sizeof(icon64) - 1] = '\0';
	memset(icon65, 'i', sizeof(icon65) - 1);
	icon65[sizeof(icon65) - 1] = '\0';
	static const char *const bad_icons[] = {
		"/etc/passwd", "../../x", "../x", "..", ".hidden", "a/b", "-x", "a b",
		"file:///x.png", "", "foot\n", "foot\nExec=sh", "a\tb", "a;b", "a=b", "a\\b",
		"caf\xc3\xa9", "x.png/", "~", "$HOME", "a..b",
	};
	for (size_t i = 0; i < sizeof(bad_icons) / sizeof(*bad_icons); i++) {
		u.icon = (char *)bad_icons[i];
		CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
		expect_str("dropped icon", clean.icon, NULL);
		vmapp_desktop_entry_finish(&clean);
	}
	u.icon = icon65;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	expect_str("65-byte icon", clean.icon, NULL);
	vmapp_desktop_entry_finish(&clean);
	static const char *const good_icons[] = {
		"firefox-esr", "utilities-terminal", "org.gnome.Calculator", "gimp-2.10", "c++",
		"applications_games", "x", "foot",
	};
	for (size_t i = 0; i < sizeof(good_icons) / sizeof(*good_icons); i++) {
		u.icon = (char *)good_icons[i];
		CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
		expect_str("kept icon", clean.icon, good_icons[i]);
		vmapp_desktop_entry_finish(&clean);
	}
	u.icon = icon64;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	expect_str("64-byte icon", clean.icon, icon64);
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, sizeof(text)) > 0);
	CHECK(strstr(text, "\nIcon=") != NULL);
	vmapp_desktop_entry_finish(&clean);
	u.icon = "org.example.App";

	/* categories: registered words only, each once, at most 16 kept */
	char *hostile_cats[] = { "Office\nExec=sh", "Network", "../../etc", "Net work", "network",
				 "X-Evil", "Screensaver", "", "Network;Game", "Développement",
				 "WebBrowser", "Network" };
	u.categories = hostile_cats;
	u.n_categories = sizeof(hostile_cats) / sizeof(*hostile_cats);
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	expect_list("filtered categories", clean.categories, clean.n_categories,
		    LIST("Network", "WebBrowser"));
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, sizeof(text)) > 0);
	CHECK(strstr(text, "\nCategories=Network;WebBrowser;\n") != NULL);
	vmapp_desktop_entry_finish(&clean);
	char *all_junk[] = { "X-Foo", "TrayIcon" };
	u.categories = all_junk;
	u.n_categories = 2;
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	CHECK(clean.n_categories == 0);
	CHECK(vmapp_desktop_write_host_entry(&clean, "work", PROXY, text, sizeof(text)) > 0);
	CHECK(strstr(text, "Categories=") == NULL);
	vmapp_desktop_entry_finish(&clean);
	char *twenty[] = { "AudioVideo", "Audio", "Video", "Development", "Education", "Game",
			   "Graphics", "Network", "Office", "Science", "Settings", "System",
			   "Utility", "Building", "Debugger", "IDE", "Profiling", "Translation",
			   "Calendar", "Email" };
	u.categories = twenty;
	u.n_categories = sizeof(twenty) / sizeof(*twenty);
	CHECK(vmapp_desktop_sanitize(&u, "work", &clean) == 0);
	CHECK(clean.n_categories == VMAPP_DESKTOP_MAX_HOST_CATEGORIES);
	expect_str("16th category", clean.categories[VMAPP_DESKTOP_MAX_HOST_CATEGORIES - 1], "IDE");
	vmapp_desktop_entry_finish(&clean);
	u.categories = cats;
	u.n_categories = sizeof(cats) / sizeof(*cats);

	/* file names */
	CHECK(vmapp_desktop_host_file_name("work", "firefox-esr.desktop", file, sizeof(file)) ==
	      (int)strlen("vmapp-work_firefox-esr.desktop"));
	expect_str("file name", file, "vmapp-work_firefox-esr.desktop");
	/* two VMs whose names and ids share '-' get two files */
	char other[300];
	CHECK(vmapp_desktop_host_file_name("a", "b-c.desktop", file, sizeof(file)) > 0);
	CHECK(vmapp_desktop_host_file_name("a-b", "c.desktop", other, sizeof(other)) > 0);
	CHECK(strcmp(file, other) != 0);
	CHECK(vmapp_desktop_host_file_name("Work", "x.desktop", file, sizeof(file)) == -EINVAL);
	CHECK(vmapp_desktop_host_file_name("work", "../x.desktop", file, sizeof(file)) == -EINVAL);
	CHECK(vmapp_desktop_host_file_name("work", "x.desktop", file, 5) == -ENOBUFS);
}

static void test_data_dirs(void)
{
	char **dirs;
	size_t n;

	CHECK(vmapp_desktop_data_dirs(NULL, NULL, "/home/u/", &dirs, &n) == 0);
	expect_list("dirs", dirs, n, LIST("/home/u/.local/share", "/usr/local/share", "/usr/share"));
	vmapp_desktop_data_dirs_free(dirs, n);

	CHECK(vmapp_desktop_data_dirs("/x//", "/a:rel:/b/::/a:/x", "/home/u", &dirs, &n) == 0);
	expect_list("dirs", dirs, n, LIST("/x", "/a", "/b"));
	vmapp_desktop_data_dirs_free(dirs, n);

	CHECK(vmapp_desktop_data_dirs("rel", "", NULL, &dirs, &n) == 0);
	expect_list("dirs", dirs, n, LIST("/usr/local/share", "/usr/share"));
	vmapp_desktop_data_dirs_free(dirs, n);

	CHECK(vmapp_desktop_data_dirs("", "rel:also-rel", "/h", &dirs, &n) == 0);
	expect_list("dirs", dirs, n, LIST("/h/.local/share", "/usr/local/share", "/usr/share"));
	vmapp_desktop_data_dirs_free(dirs, n);
}

/* ---- listing, in a temporary tree ---- */

static char tmp_root[256];

static void write_file(const char *rel, const char *text)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(99);
	}
	fputs(text, f);
	fclose(f);
}

static void write_app(const char *rel, const char *name)
{
	char text[512];
	snprintf(text, sizeof(text), "[Desktop Entry]\nType=Application\nName=%s\nExec=run\n", name);
	write_file(rel, text);
}

static void make_dir(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
	if (mkdir(path, 0755) < 0) {
		fprintf(stderr, "cannot mkdir %s\n", path);
		exit(99);
	}
}

static void make_link(const char *target, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
	if (symlink(target, path) < 0) {
		fprintf(stderr, "cannot symlink %s\n", path);
		exit(99);
	}
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void test_list(void)
{
	struct vmapp_desktop_list list;
	char d1[512], d2[512], d3[512], missing[512], path[1024], unreadable[1024];
	const char *tmp = getenv("TMPDIR");

	snprintf(tmp_root, sizeof(tmp_root), "%s/vmapp-desktop-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmp_root)) {
		fprintf(stderr, "mkdtemp failed\n");
		exit(99);
	}
	snprintf(d1, sizeof(d1), "%s/d1", tmp_root);
	snprintf(d2, sizeof(d2), "%s/d2", tmp_root);
	snprintf(d3, sizeof(d3), "%s/d3", tmp_root);
	snprintf(missing, sizeof(missing), "%s/missing", tmp_root);

	make_dir("d1");
	make_dir("d1/applications");
	make_dir("d1/applications/sub");
	make_dir("d1/applications/sub/deeper");
	make_dir("d2");
	make_dir("d2/applications");
	write_app("d1/applications/foo.desktop", "Foo One");
	write_app("d2/applications/foo.desktop", "Foo Two");
	write_app("d1/applications/sub/bar.desktop", "Bar in sub");
	write_app("d2/applications/sub-bar.desktop", "Bar flat in d2"); /* same id, later dir */
	write_app("d1/applications/sub/deeper/baz.desktop", "Baz");
	/* Hidden in d1 masks d2's */
	write_file("d1/applications/masked.desktop", "[Desktop Entry]\nHidden=true\n");
	write_app("d2/applications/masked.desktop", "Masked");
	/* malformed in d1: skipped, d2's is used */
	write_file("d1/applications/broken.desktop", "not a desktop file\n");
	write_app("d2/applications/broken.desktop", "Broken fixed in d2");
	/* unreadable in d1: chmod 000 (not for root), and a file whose read
	 * fails even for root: /proc/self/mem at offset 0 is EIO */
	write_app("d1/applications/unreadable.desktop", "Unreadable One");
	snprintf(unreadable, sizeof(unreadable), "%s/applications/unreadable.desktop", d1);
	chmod(unreadable, 0);
	bool root = geteuid() == 0;
	make_link("/proc/self/mem", "d1/applications/eio.desktop");
	write_app("d2/applications/eio.desktop", "EIO fixed in d2");
	write_app("d2/applications/unreadable.desktop", "Unreadable fixed in d2");
	/* loops and other non-files: must not hang or be listed */
	make_link(".", "d1/applications/loop");
	make_link("..", "d1/applications/sub/up");
	make_link("self", "d1/applications/self");
	make_link("/nonexistent", "d1/applications/dangling.desktop");
	make_link("/dev/zero", "d1/applications/zero.desktop");
	snprintf(path, sizeof(path), "%s/applications/fifo.desktop", d1);
	CHECK(mkfifo(path, 0644) == 0);
	write_app("d1/applications/.dot.desktop", "Dot");
	write_app("d1/applications/notes.txt", "Not a desktop file");
	write_app("d1/applications/bad name.desktop", "Bad id");
	char *big = malloc(VMAPP_DESKTOP_MAX_SIZE + 200);
	size_t head = (size_t)snprintf(big, 200, "[Desktop Entry]\nType=Application\nName=Huge\nExec=x\n#");
	memset(big + head, 'x', VMAPP_DESKTOP_MAX_SIZE);
	big[head + VMAPP_DESKTOP_MAX_SIZE] = '\0';
	write_file("d1/applications/huge.desktop", big);
	free(big);
	/* a symlinked file is followed */
	make_link("foo.desktop", "d1/applications/alias.desktop");

	const char *const dirs[] = { missing, d1, d2, d1 };
	CHECK(vmapp_desktop_list(dirs, 4, &list) == 0);
	const char *want_ids[] = { "alias.desktop", "broken.desktop", "eio.desktop", "foo.desktop",
				   "sub-bar.desktop", "sub-deeper-baz.desktop", "unreadable.desktop" };
	const char *want_names[] = { "Foo One", "Broken fixed in d2", "EIO fixed in d2", "Foo One",
				     "Bar in sub", "Baz",
				     root ? "Unreadable One" : "Unreadable fixed in d2" };
	size_t want_n = sizeof(want_ids) / sizeof(*want_ids);
	CHECK(list.n_entries == want_n);
	CHECK(!list.truncated);
	for (size_t i = 0; i < want_n && i < list.n_entries; i++) {
		expect_str("listed id", list.entries[i].id, want_ids[i]);
		expect_str("listed name", list.entries[i].name, want_names[i]);
	}
	if (list.n_entries != want_n)
		for (size_t i = 0; i < list.n_entries; i++)
			fprintf(stderr, "  listed %s: %s\n", list.entries[i].id, list.entries[i].name);
	vmapp_desktop_list_finish(&list);
	chmod(unreadable, 0644);

	/* over the cap: the first VMAPP_DESKTOP_MAX_ENTRIES, sorted */
	make_dir("d3");
	make_dir("d3/applications");
	for (int i = 0; i < VMAPP_DESKTOP_MAX_ENTRIES + 100; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "d3/applications/app-%04d.desktop", i);
		write_app(rel, "Many");
	}
	const char *const many[] = { d3 };
	CHECK(vmapp_desktop_list(many, 1, &list) == 0);
	CHECK(list.n_entries == VMAPP_DESKTOP_MAX_ENTRIES);
	CHECK(list.truncated);
	if (list.n_entries == VMAPP_DESKTOP_MAX_ENTRIES) {
		expect_str("first", list.entries[0].id, "app-0000.desktop");
		expect_str("last", list.entries[VMAPP_DESKTOP_MAX_ENTRIES - 1].id, "app-1023.desktop");
		for (size_t i = 1; i < list.n_entries; i++)
			CHECK(strcmp(list.entries[i - 1].id, list.entries[i].id) < 0);
	}
	vmapp_desktop_list_finish(&list);

	/* nothing at all */
	CHECK(vmapp_desktop_list(NULL, 0, &list) == 0);
	CHECK(list.n_entries == 0 && !list.truncated);
	vmapp_desktop_list_finish(&list);

	nftw(tmp_root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	data_dir = getenv("VMAPP_DESKTOP_DATA");
	if (!data_dir) {
		fprintf(stderr, "VMAPP_DESKTOP_DATA is not set\n");
		return 99;
	}
	test_real_world();
	test_hostile();
	test_exec_quoting();
	test_exec_rules();
	test_parse_edges();
	test_sanitize();
	test_data_dirs();
	test_list();
	TEST_DONE();
}
