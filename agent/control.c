/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "desktop.h"

extern char **environ;

pid_t vmapp_agent_spawn(const char *const *argv, const char *const *envp, size_t envc,
			const char *display, const int *out_fds)
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
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	if (out_fds) {
		posix_spawn_file_actions_adddup2(&actions, out_fds[0], STDOUT_FILENO);
		posix_spawn_file_actions_adddup2(&actions, out_fds[1], STDERR_FILENO);
	}
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], &actions, &attr, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	free(wayland);
	free(env);
	return r ? -r : pid;
}

void vmapp_agent_runs_init(struct vmapp_agent_runs *runs, const char *display, int epoll_fd,
			   uint64_t output_tag)
{
	*runs = (struct vmapp_agent_runs){ .display = display, .epoll_fd = epoll_fd,
					   .output_tag = output_tag };
	for (size_t i = 0; i < VMAPP_AGENT_MAX_OUTPUTS; i++)
		runs->outputs[i].fd = -1;
}

static void output_close(struct vmapp_agent_output *o)
{
	if (o->fd >= 0)
		close(o->fd); /* leaves the epoll set with it */
	*o = (struct vmapp_agent_output){ .fd = -1 };
}

void vmapp_agent_runs_finish(struct vmapp_agent_runs *runs)
{
	for (size_t i = 0; i < VMAPP_AGENT_MAX_OUTPUTS; i++)
		output_close(&runs->outputs[i]);
}

/* Two free outputs for a new run's stdout and stderr: their pipes, the
 * write ends for the command in out_fds.  -1 when there is no room (the
 * command then writes to the agent's own stderr). */
static int output_open(struct vmapp_agent_runs *runs, uint32_t run_id, int out_fds[2],
		       size_t slots[2])
{
	size_t n = 0;
	for (size_t i = 0; i < VMAPP_AGENT_MAX_OUTPUTS && n < 2; i++)
		if (runs->outputs[i].fd < 0)
			slots[n++] = i;
	if (n < 2)
		return -1;
	for (uint32_t k = 0; k < 2; k++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			if (k == 1) {
				close(out_fds[0]);
				output_close(&runs->outputs[slots[0]]);
			}
			return -1;
		}
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		runs->outputs[slots[k]] = (struct vmapp_agent_output){
			.fd = p[0], .run_id = run_id, .stream = k + 1,
		};
		out_fds[k] = p[1];
	}
	return 0;
}

static void output_watch(struct vmapp_agent_runs *runs, size_t i, bool on)
{
	struct vmapp_agent_output *o = &runs->outputs[i];
	if (o->fd < 0 || o->watched == on)
		return;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = runs->output_tag + i };
	if (epoll_ctl(runs->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, o->fd, &ev) == 0)
		o->watched = on;
}

void vmapp_agent_output_update(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge)
{
	bool room = bridge && !vmapp_bridge_stream_full(bridge);
	for (size_t i = 0; i < VMAPP_AGENT_MAX_OUTPUTS; i++) {
		struct vmapp_agent_output *o = &runs->outputs[i];
		if (o->fd >= 0)
			output_watch(runs, i, o->ended ||
						      (room && vmapp_bridge_output_credit(
									bridge, o->run_id) > 0));
	}
}

/* Reads once: to the host within the run's credit, or after the run's
 * EXIT to the agent's stderr.  0, or -1 once the pipe is closed. */
static int output_read(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge, size_t i)
{
	struct vmapp_agent_output *o = &runs->outputs[i];
	static char buf[VMAPP_TRANSPORT_MAX_OUTPUT];
	size_t want = sizeof(buf);
	if (!o->ended) {
		uint32_t credit = bridge ? vmapp_bridge_output_credit(bridge, o->run_id) : 0;
		if (credit == 0)
			return 0;
		if (want > credit)
			want = credit;
	}
	ssize_t n = read(o->fd, buf, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		output_close(o);
		return -1;
	}
	if (o->ended) {
		ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
		(void)w;
		return 0;
	}
	if (vmapp_bridge_send_output(bridge, o->run_id, o->stream, buf, (size_t)n) < 0)
		fprintf(stderr, "vmapp-agent: run %u: %zd bytes of output lost\n", o->run_id, n);
	return 0;
}

static void try_exits(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge);

void vmapp_agent_output_ready(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge,
			      size_t index)
{
	if (index < VMAPP_AGENT_MAX_OUTPUTS && runs->outputs[index].fd >= 0)
		output_read(runs, bridge, index);
	try_exits(runs, bridge);
	vmapp_agent_output_update(runs, bridge);
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
	int out_fds[2] = { -1, -1 };
	size_t outs[2];
	bool piped = slot < VMAPP_AGENT_MAX_RUNS &&
		     output_open(runs, f->run.run_id, out_fds, outs) == 0;
	pid_t pid = slot == VMAPP_AGENT_MAX_RUNS ? -EAGAIN
						 : vmapp_agent_spawn(argv, envp, f->run.envc,
								     runs->display,
								     piped ? out_fds : NULL);
	if (piped) {
		/* The command has its ends; the agent keeps only the read ends. */
		close(out_fds[0]);
		close(out_fds[1]);
		if (pid < 0) {
			output_close(&runs->outputs[outs[0]]);
			output_close(&runs->outputs[outs[1]]);
		}
	}
	if (pid < 0) {
		fprintf(stderr, "vmapp-agent: run %u: %s: %s\n", f->run.run_id, argv[0],
			strerror((int)-pid));
		vmapp_bridge_send_exit(bridge, f->run.run_id, pid == -ENOENT ? 127 : 126);
		return;
	}
	runs->runs[slot].pid = pid;
	runs->runs[slot].run_id = f->run.run_id;
	vmapp_agent_output_update(runs, bridge);
}

/* SIGNAL: to the run's process group (vmapp_agent_spawn made one).  The
 * codec delivers only SIGNALs of runs without their EXIT, which are those
 * not reaped yet: the pid is still the group's. */
static void signal_run(struct vmapp_agent_runs *runs, const struct vmapp_transport_frame *f)
{
	/* The wire has Linux's numbers, which are this guest's. */
	int signo = (int)f->signal.signo;
	for (size_t i = 0; i < VMAPP_AGENT_MAX_RUNS; i++) {
		/* A command reaped already, its EXIT waiting for its output,
		 * has no group left of its own for sure: its pid may be
		 * another's by now. */
		if (!runs->runs[i].pid || runs->runs[i].exited ||
		    runs->runs[i].run_id != f->signal.run_id)
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
	else if (frame->kind == VMAPP_TRANSPORT_OUTPUT_CREDIT)
		vmapp_agent_output_update(runs, bridge);
}

/* A reaped run's EXIT goes once what the command wrote is out of its
 * pipes (as the credit lets it go); what its children write later goes
 * to the agent's stderr. */
static void try_exit(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge, size_t slot)
{
	uint32_t run_id = runs->runs[slot].run_id;
	if (!runs->runs[slot].exited)
		return;
	for (size_t k = 0; bridge && k < VMAPP_AGENT_MAX_OUTPUTS; k++) {
		struct vmapp_agent_output *o = &runs->outputs[k];
		int queued = 0;
		if (o->fd >= 0 && !o->ended && o->run_id == run_id &&
		    ioctl(o->fd, FIONREAD, &queued) == 0 && queued > 0)
			return;
	}
	for (size_t k = 0; k < VMAPP_AGENT_MAX_OUTPUTS; k++)
		if (runs->outputs[k].fd >= 0 && runs->outputs[k].run_id == run_id)
			runs->outputs[k].ended = true;
	runs->runs[slot].pid = 0;
	runs->runs[slot].exited = false;
	if (bridge)
		vmapp_bridge_send_exit(bridge, run_id, runs->runs[slot].code);
}

static void try_exits(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge)
{
	for (size_t i = 0; i < VMAPP_AGENT_MAX_RUNS; i++)
		if (runs->runs[i].pid && runs->runs[i].exited)
			try_exit(runs, bridge, i);
}

bool vmapp_agent_reap(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge, pid_t pid,
		      int status)
{
	for (size_t i = 0; i < VMAPP_AGENT_MAX_RUNS; i++) {
		if (runs->runs[i].pid != pid || runs->runs[i].exited)
			continue;
		runs->runs[i].exited = true;
		runs->runs[i].code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
		try_exit(runs, bridge, i);
		vmapp_agent_output_update(runs, bridge);
		return true;
	}
	return false;
}
