/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "control.h"
#include "desktop.h"

extern char **environ;

pid_t vmapp_agent_spawn(const char *const *argv, const char *const *envp, size_t envc,
			const char *display)
{
	size_t n_env = 0;
	while (environ[n_env])
		n_env++;
	char **env = calloc(n_env + envc + 2, sizeof(*env));
	char *wayland = NULL;
	if (!env || asprintf(&wayland, "WAYLAND_DISPLAY=%s", display) < 0) {
		free(env);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < n_env; i++) {
		/* An inherited socket would go around the agent. */
		if (!strncmp(environ[i], "WAYLAND_SOCKET=", 15) ||
		    !strncmp(environ[i], "WAYLAND_DISPLAY=", 16))
			continue;
		env[k++] = environ[i];
	}
	for (size_t i = 0; i < envc; i++)
		env[k++] = (char *)envp[i];
	env[k++] = wayland;
	env[k] = NULL;

	posix_spawnattr_t attr;
	sigset_t empty;
	sigemptyset(&empty);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &empty);
	/* The agent ignores SIGPIPE; its commands get the default back. */
	sigset_t pipe_signal;
	sigemptyset(&pipe_signal);
	sigaddset(&pipe_signal, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &pipe_signal);
	/* A session of its own, so a process group of its own (pgid = pid):
	 * a SIGNAL reaches the command's children too (signal_run).  The
	 * agent has no controlling terminal to lose or share: its commands
	 * never had one, and stdin is the agent's, not a tty's. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETSID);
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], NULL, &attr, (char *const *)argv, env);
	posix_spawnattr_destroy(&attr);
	free(wayland);
	free(env);
	return r ? -r : pid;
}

static void run(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge,
		const struct vmapp_transport_frame *f)
{
	const char *argv[VMAPP_TRANSPORT_MAX_ARGS + 1];
	const char *envp[VMAPP_TRANSPORT_MAX_ENV];
	const char *s = f->run.strings;
	for (uint32_t i = 0; i < f->run.argc; i++, s += strlen(s) + 1)
		argv[i] = s;
	argv[f->run.argc] = NULL;
	for (uint32_t i = 0; i < f->run.envc; i++, s += strlen(s) + 1)
		envp[i] = s;

	size_t slot = VMAPP_AGENT_MAX_RUNS;
	for (size_t i = 0; i < VMAPP_AGENT_MAX_RUNS && slot == VMAPP_AGENT_MAX_RUNS; i++)
		if (!runs->runs[i].pid)
			slot = i;
	pid_t pid = slot == VMAPP_AGENT_MAX_RUNS ? -EAGAIN
						 : vmapp_agent_spawn(argv, envp, f->run.envc,
								     runs->display);
	if (pid < 0) {
		fprintf(stderr, "vmapp-agent: run %u: %s: %s\n", f->run.run_id, argv[0],
			strerror((int)-pid));
		vmapp_bridge_send_exit(bridge, f->run.run_id, pid == -ENOENT ? 127 : 126);
		return;
	}
	runs->runs[slot].pid = pid;
	runs->runs[slot].run_id = f->run.run_id;
}

/* SIGNAL: to the run's process group (vmapp_agent_spawn made one).  The
 * codec delivers only SIGNALs of runs without their EXIT, which are those
 * not reaped yet: the pid is still the group's. */
static void signal_run(struct vmapp_agent_runs *runs, const struct vmapp_transport_frame *f)
{
	/* The wire has Linux's numbers, which are this guest's. */
	int signo = (int)f->signal.signo;
	for (size_t i = 0; i < VMAPP_AGENT_MAX_RUNS; i++) {
		if (!runs->runs[i].pid || runs->runs[i].run_id != f->signal.run_id)
			continue;
		/* ESRCH: the group emptied as the command went; its EXIT
		 * follows when it is reaped. */
		if (kill(-runs->runs[i].pid, signo) < 0 && errno != ESRCH)
			fprintf(stderr, "vmapp-agent: run %u: signal %d: %s\n", f->signal.run_id,
				signo, strerror(errno));
		return;
	}
}

/* Exec as a desktop entry's Exec value: every word quoted. */
static char *join_exec(const struct vmapp_desktop_entry *e)
{
	size_t len = 1;
	for (size_t i = 0; i < e->argc; i++)
		len += 3 + 2 * strlen(e->argv[i]);
	char *out = malloc(len), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < e->argc; i++) {
		if (i)
			*p++ = ' ';
		*p++ = '"';
		for (const char *c = e->argv[i]; *c; c++) {
			if (strchr("\"`$\\", *c))
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p = '\0';
	return out;
}

/* Categories as a desktop entry's value, "A;B;" ("" when none).  A word
 * holding ';' (written "\;" in the file) would read back as two, and is
 * no registered category anyway: it is left out.  So is the whole list
 * when it would pass the transport's limit: the host only keeps the
 * registered words, and the app matters more than its menu folder. */
static char *join_categories(const struct vmapp_desktop_entry *e)
{
	size_t len = 1;
	for (size_t i = 0; i < e->n_categories; i++)
		len += strlen(e->categories[i]) + 1;
	char *out = malloc(len), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; len - 1 <= VMAPP_TRANSPORT_MAX_APP_STRING && i < e->n_categories; i++) {
		const char *c = e->categories[i];
		if (strchr(c, ';'))
			continue;
		size_t n = strlen(c);
		memcpy(p, c, n);
		p += n;
		*p++ = ';';
	}
	*p = '\0';
	return out;
}

static void list_apps(struct vmapp_bridge *bridge)
{
	char **dirs = NULL;
	size_t n_dirs = 0;
	struct vmapp_desktop_list list = { 0 };
	struct vmapp_transport_app *apps = NULL;
	char **execs = NULL, **categories = NULL;
	uint32_t n = 0;

	if (vmapp_desktop_data_dirs(getenv("XDG_DATA_HOME"), getenv("XDG_DATA_DIRS"),
				    getenv("HOME"), &dirs, &n_dirs) == 0 &&
	    vmapp_desktop_list((const char *const *)dirs, n_dirs, &list) == 0) {
		size_t max = list.n_entries < VMAPP_TRANSPORT_MAX_APPS ? list.n_entries
									: VMAPP_TRANSPORT_MAX_APPS;
		apps = calloc(max ? max : 1, sizeof(*apps));
		execs = calloc(max ? max : 1, sizeof(*execs));
		categories = calloc(max ? max : 1, sizeof(*categories));
		for (size_t i = 0; apps && execs && categories && i < max; i++) {
			const struct vmapp_desktop_entry *e = &list.entries[i];
			execs[n] = join_exec(e);
			categories[n] = join_categories(e);
			if (!execs[n] || !categories[n] ||
			    strlen(execs[n]) > VMAPP_TRANSPORT_MAX_APP_STRING ||
			    strlen(e->name) > VMAPP_TRANSPORT_MAX_APP_STRING) {
				free(execs[n]);
				free(categories[n]);
				continue;
			}
			apps[n].id = e->id;
			apps[n].name = e->name;
			apps[n].exec = execs[n];
			/* As the file has it, a name or a path: the host decides
			 * what it can use.  Too long to send is no icon. */
			apps[n].icon = e->icon && strlen(e->icon) <= VMAPP_TRANSPORT_MAX_APP_STRING
					       ? e->icon
					       : "";
			apps[n].categories = categories[n];
			n++;
		}
	}
	/* Too big for one frame: fewer apps, rather than none. */
	uint32_t n_sent = n;
	while (vmapp_bridge_send_apps(bridge, apps, n_sent) == -EMSGSIZE && n_sent > 0)
		n_sent /= 2;
	for (uint32_t i = 0; execs && categories && i < n; i++) {
		free(execs[i]);
		free(categories[i]);
	}
	free(execs);
	free(categories);
	free(apps);
	vmapp_desktop_list_finish(&list);
	vmapp_desktop_data_dirs_free(dirs, n_dirs);
}

void vmapp_agent_control(void *data, struct vmapp_bridge *bridge,
			 const struct vmapp_transport_frame *frame)
{
	struct vmapp_agent_runs *runs = data;
	if (frame->kind == VMAPP_TRANSPORT_RUN)
		run(runs, bridge, frame);
	else if (frame->kind == VMAPP_TRANSPORT_SIGNAL)
		signal_run(runs, frame);
	else if (frame->kind == VMAPP_TRANSPORT_LIST_APPS)
		list_apps(bridge);
}

bool vmapp_agent_reap(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge, pid_t pid,
		      int status)
{
	for (size_t i = 0; i < VMAPP_AGENT_MAX_RUNS; i++) {
		if (runs->runs[i].pid != pid)
			continue;
		runs->runs[i].pid = 0;
		int32_t code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
		if (bridge)
			vmapp_bridge_send_exit(bridge, runs->runs[i].run_id, code);
		return true;
	}
	return false;
}
