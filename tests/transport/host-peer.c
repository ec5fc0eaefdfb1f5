/* SPDX-License-Identifier: MIT */
/*
 * host-peer SOCKET: the host's end of the control channel, for testing
 * vmapp-agent's RUN, EXIT and LIST_APPS before vmapp-proxy sends them.  It
 * listens on SOCKET, takes one agent, and checks on the receiving side:
 * a RUN's exit status, its environment (the strings sent and
 * WAYLAND_DISPLAY), a command that does not exist (127), one killed by a
 * signal (-15), and the application list (APPS: ids, and the icon and
 * categories of the fixtures it knows) against what the test put in the
 * agent's XDG_DATA_DIRS.  Then SIGNAL: SIGTERM to a `sleep 60` and to a
 * shell waiting for a `sleep 60` of its own must end both within a few
 * seconds (EXIT -15; the shell's child gone too: the signal went to the
 * command's process group), and a SIGNAL that crosses its run's EXIT
 * (a command that does not exist ends at once) must be ignored, the
 * stream going on.  Exit 0 when every answer is right.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "unix.h"

#define N_RUNS 8
/* SIGNAL to EXIT, at most: a few seconds, not the command's 60. */
#define SIGNAL_WAIT_S 5

struct expect {
	const char *what;
	const char *argv[4];
	const char *env[2];
	int32_t status;
	bool done;
	uint32_t signo; /* SIGNAL it once it runs (0: never) */
};

static struct {
	bool signalled;
	struct timespec at; /* when the RUN went, then when the SIGNAL did */
} sent_at[N_RUNS];

/* The pid of run 6's own child, as it wrote it to pidfile. */
static char pidfile[4200];
static char pidfile_env[4300];

static struct expect runs[N_RUNS] = {
	{ "exit status", { "sh", "-c", "exit 3", NULL }, { NULL }, 3, false, 0 },
	{ "environment", { "sh", "-c",
			   "test \"$VMAPP_T\" = 'a b=c' && test -S \"$WAYLAND_DISPLAY\" && "
			   "test -z \"${WAYLAND_SOCKET:-}\"", NULL },
	  { "VMAPP_T=a b=c", NULL }, 0, false, 0 },
	{ "command not found", { "no-such-command-here", NULL }, { NULL }, 127, false, 0 },
	{ "killed by a signal", { "sh", "-c", "kill -TERM $$", NULL }, { NULL }, -15, false, 0 },
	{ "SIGNAL SIGTERM", { "sleep", "60", NULL }, { NULL }, -15, false, 15 },
	{ "SIGNAL SIGTERM to a process group",
	  { "sh", "-c", "sleep 60 & echo $! >\"$VMAPP_PIDFILE.new\" && "
			"mv \"$VMAPP_PIDFILE.new\" \"$VMAPP_PIDFILE\"; wait", NULL },
	  { pidfile_env, NULL }, -15, false, 15 },
	/* Runs 7 and 8: their output (output_want) before their EXIT. */
	{ "output", { "sh", "-c", "printf 'out\\000put\\n'; echo err >&2; printf more", NULL },
	  { NULL }, 0, false, 0 },
	{ "output past the credit, the credit held back a while",
	  { "sh", "-c", "head -c 600000 /dev/zero | tr '\\000' a; echo end >&2", NULL },
	  { NULL }, 0, false, 0 },
};

/* What runs 7 and 8 must have written, each stream on its own, whole and
 * before their EXIT.  Run 8's credit comes back only 0.3 s after its
 * output stops coming: the agent must wait for it, not drop or overrun. */
static const struct {
	const char *out, *err;
	size_t out_size;
	char out_fill; /* out_size bytes of it, when out is NULL */
} output_want[N_RUNS] = {
	[6] = { "out\0put\nmore", "err\n", 12, 0 },
	[7] = { NULL, "end\n", 600000, 'a' },
};
static struct {
	char out[600001], err[64];
	size_t out_size, err_size;
	bool bad;
	uint32_t owed; /* credit not returned yet */
	struct timespec last; /* its last OUTPUT */
} output_got[N_RUNS];

static bool output_ok(uint32_t i)
{
	if (output_want[i].out_size == 0)
		return output_got[i].out_size == 0 && output_got[i].err_size == 0;
	if (output_got[i].bad || output_got[i].out_size != output_want[i].out_size ||
	    output_got[i].err_size != strlen(output_want[i].err) ||
	    memcmp(output_got[i].err, output_want[i].err, output_got[i].err_size))
		return false;
	for (size_t k = 0; k < output_got[i].out_size; k++)
		if (output_got[i].out[k] !=
		    (output_want[i].out ? output_want[i].out[k] : output_want[i].out_fill))
			return false;
	return true;
}

static void take_output(struct vmapp_bridge *bridge, const struct vmapp_transport_frame *f)
{
	uint32_t i = f->output.run_id - 1;
	if (i >= N_RUNS) {
		printf("FAIL OUTPUT for run %u, which was not asked\n", f->output.run_id);
		return;
	}
	char *to = f->output.stream == 1 ? output_got[i].out : output_got[i].err;
	size_t *size = f->output.stream == 1 ? &output_got[i].out_size : &output_got[i].err_size;
	size_t cap = f->output.stream == 1 ? sizeof(output_got[i].out) : sizeof(output_got[i].err);
	if (*size + f->output.size > cap)
		output_got[i].bad = true;
	else
		memcpy(to + *size, f->output.data, f->output.size);
	*size += f->output.size;
	clock_gettime(CLOCK_MONOTONIC, &output_got[i].last);
	if (i == 7) {
		output_got[i].owed += f->output.size;
		return;
	}
	if (vmapp_bridge_send_output_credit(bridge, f->output.run_id, f->output.size) < 0)
		output_got[i].bad = true;
}

static int failures;

static double since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Run 6's child, once it wrote its pid: the pid, else 0. */
static pid_t grandchild(void)
{
	FILE *f = fopen(pidfile, "r");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid > 1 ? (pid_t)pid : 0;
}

/* Gone, or a zombie its new parent has not reaped: it runs no more. */
static bool process_gone(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	const char *paren = strrchr(stat, ')');
	return !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
}
static bool apps_done;
static const char *want_apps; /* "id1,id2": the ids APPS must hold, in order */

/* The Icon and Categories of the fixtures (tests/unit/desktop-data) that
 * the agent must pass on as the files have them, when it lists them. */
static const struct {
	const char *id, *icon, *categories;
} want_meta[] = {
	{ "foot.desktop", "foot", "System;TerminalEmulator;" },
	{ "firefox-esr.desktop", "firefox-esr", "Network;WebBrowser;" },
};

static void check_meta(const char *id, const char *icon, const char *categories)
{
	for (size_t i = 0; i < sizeof(want_meta) / sizeof(*want_meta); i++) {
		if (strcmp(id, want_meta[i].id) != 0)
			continue;
		if (strcmp(icon, want_meta[i].icon) != 0 ||
		    strcmp(categories, want_meta[i].categories) != 0) {
			printf("FAIL %s: icon '%s' categories '%s', want '%s' '%s'\n", id, icon,
			       categories, want_meta[i].icon, want_meta[i].categories);
			failures++;
		}
	}
}

static void control(void *data, struct vmapp_bridge *bridge,
		    const struct vmapp_transport_frame *f)
{
	if (f->kind == VMAPP_TRANSPORT_OUTPUT) {
		take_output(bridge, f);
		return;
	}
	if (f->kind == VMAPP_TRANSPORT_EXIT) {
		uint32_t i = f->exit.run_id - 1;
		if (i >= N_RUNS || runs[i].done) {
			printf("FAIL an EXIT for run %u, which was not asked\n", f->exit.run_id);
			failures++;
			return;
		}
		runs[i].done = true;
		if (runs[i].signo && !sent_at[i].signalled) {
			printf("FAIL %s: it ended (status %d) before its SIGNAL\n", runs[i].what,
			       f->exit.status);
			failures++;
		} else if (runs[i].signo && since(&sent_at[i].at) > SIGNAL_WAIT_S) {
			printf("FAIL %s: its EXIT came %.1f s after the SIGNAL\n", runs[i].what,
			       since(&sent_at[i].at));
			failures++;
		}
		if (!output_ok(i)) {
			printf("FAIL %s: at its EXIT its output was %zu bytes on stdout, %zu on "
			       "stderr, not what it wrote\n", runs[i].what, output_got[i].out_size,
			       output_got[i].err_size);
			failures++;
		}
		if (f->exit.status != runs[i].status) {
			printf("FAIL %s: status %d, want %d\n", runs[i].what, f->exit.status,
			       runs[i].status);
			failures++;
		} else {
			printf("ok %s: status %d\n", runs[i].what, f->exit.status);
		}
	} else if (f->kind == VMAPP_TRANSPORT_APPS) {
		char got[4096] = "";
		const char *s = f->apps.strings;
		for (uint32_t i = 0; i < f->apps.count; i++) {
			const char *id = s, *name = id + strlen(id) + 1,
				   *exec = name + strlen(name) + 1, *icon = exec + strlen(exec) + 1,
				   *categories = icon + strlen(icon) + 1;
			printf("app %s name '%s' exec '%s' icon '%s' categories '%s'\n", id, name,
			       exec, icon, categories);
			check_meta(id, icon, categories);
			if (*got)
				strncat(got, ",", sizeof(got) - strlen(got) - 1);
			strncat(got, id, sizeof(got) - strlen(got) - 1);
			s = categories + strlen(categories) + 1;
		}
		apps_done = true;
		if (strcmp(got, want_apps)) {
			printf("FAIL APPS: '%s', want '%s'\n", got, want_apps);
			failures++;
		} else {
			printf("ok APPS: %s\n", got);
		}
	}
}

static bool all_done(void)
{
	for (int i = 0; i < N_RUNS; i++)
		if (!runs[i].done)
			return false;
	return apps_done;
}

int main(int argc, char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "usage: host-peer SOCKET ID,ID...\n");
		return 2;
	}
	want_apps = argv[2];
	snprintf(pidfile, sizeof(pidfile), "%s.pid", argv[1]);
	snprintf(pidfile_env, sizeof(pidfile_env), "VMAPP_PIDFILE=%s", pidfile);
	unlink(pidfile);
	int listen_fd = vmapp_unix_listen(argv[1]);
	if (listen_fd < 0) {
		fprintf(stderr, "host-peer: listen %s: %s\n", argv[1], strerror(-listen_fd));
		return 2;
	}
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	if (poll(&pfd, 1, 20000) != 1) {
		fprintf(stderr, "host-peer: no agent came\n");
		return 1;
	}
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return 2;
	struct vmapp_bridge_config config = {
		.role = VMAPP_TRANSPORT_HOST,
		.name = "host-peer",
		.control = control,
	};
	struct vmapp_bridge *b = vmapp_bridge_create(&config, fd);
	if (!b)
		return 2;
	bool sent = false;
	for (int rounds = 0; rounds < 2000 && !all_done(); rounds++) {
		struct pollfd p = { .fd = vmapp_bridge_fd(b), .events = POLLIN };
		poll(&p, 1, 10);
		vmapp_bridge_dispatch(b);
		if (vmapp_bridge_closed(b, NULL)) {
			printf("FAIL the agent closed the stream\n");
			failures++;
			break;
		}
		if (!sent && vmapp_bridge_ready(b)) {
			for (uint32_t i = 0; i < N_RUNS; i++) {
				uint32_t argc_i = 0, envc = 0;
				while (runs[i].argv[argc_i])
					argc_i++;
				while (runs[i].env[envc])
					envc++;
				if (vmapp_bridge_send_run(b, i + 1, runs[i].argv, argc_i, runs[i].env,
							  envc) < 0)
					failures++;
				clock_gettime(CLOCK_MONOTONIC, &sent_at[i].at);
			}
			/* Run 3 does not exist: its EXIT is on its way, and this
			 * SIGNAL crosses it.  The agent must ignore it. */
			if (vmapp_bridge_send_signal(b, 3, SIGTERM) < 0) {
				printf("FAIL can not send a SIGNAL to run 3\n");
				failures++;
			}
			if (vmapp_bridge_send_list_apps(b) < 0)
				failures++;
			sent = true;
		}
		/* Run 8's credit, held back until its output stopped coming
		 * for a moment: the agent waits for it. */
		if (output_got[7].owed && since(&output_got[7].last) > 0.3) {
			if (vmapp_bridge_send_output_credit(b, 8, output_got[7].owed) < 0) {
				printf("FAIL can not return run 8's credit\n");
				failures++;
			}
			output_got[7].owed = 0;
		}
		for (uint32_t i = 0; sent && i < N_RUNS; i++) {
			/* Once the command surely runs: a moment after its RUN;
			 * for run 6, once its child is there. */
			if (!runs[i].signo || sent_at[i].signalled || runs[i].done ||
			    since(&sent_at[i].at) < 0.3)
				continue;
			if (i == 5 && !grandchild())
				continue;
			int r = vmapp_bridge_send_signal(b, i + 1, runs[i].signo);
			if (r < 0) {
				printf("FAIL %s: can not send it: %s\n", runs[i].what,
				       strerror(-r));
				failures++;
			}
			sent_at[i].signalled = true;
			clock_gettime(CLOCK_MONOTONIC, &sent_at[i].at);
		}
	}
	pid_t child = grandchild();
	if (!child) {
		printf("FAIL %s: the shell's child never wrote its pid\n", runs[5].what);
		failures++;
	} else {
		/* The group's other members got the signal at once; give
		 * one that was slow to go a moment. */
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		while (!process_gone(child) && since(&t) < SIGNAL_WAIT_S)
			usleep(20000);
		if (!process_gone(child)) {
			printf("FAIL %s: the shell's child %ld still runs\n", runs[5].what,
			       (long)child);
			kill(child, SIGKILL);
			failures++;
		} else {
			printf("ok %s: the shell's child is gone too\n", runs[5].what);
		}
	}
	unlink(pidfile);
	if (!all_done()) {
		printf("FAIL not every RUN and LIST_APPS was answered\n");
		failures++;
	}
	vmapp_bridge_destroy(b);
	close(listen_fd);
	unlink(argv[1]);
	return failures ? 1 : 0;
}
