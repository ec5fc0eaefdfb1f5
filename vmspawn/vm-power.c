/* SPDX-License-Identifier: MIT */
/*
 * vmapp-vm start and stop (vmapp-vm(1)): a running VM is its proxy, which
 * serves the VM's control socket (vmctl.h).  start runs
 * `vmapp-proxy --vm NAME`, which starts the VM and its proxy and returns
 * once the agent answered; stop asks the proxy to stop the VM and waits
 * until it is gone, QEMU and the sockets with it.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vm-cli.h"
#include "vmctl.h"

/* QEMU gets 10 s to end after SIGTERM, then SIGKILL. */
#define STOP_WAIT_S 30

/* The one VM NAME of start and stop, defined, with a runtime folder. */
static int paths_of(const struct vmapp_env *env, int argc, char *argv[], const char *cmd,
		    struct vmapp_vm_paths *paths)
{
	struct stat st;

	if (argc != 1) {
		vmapp_vm_say("%s takes one VM name: %s NAME", cmd, cmd);
		return VMAPP_VM_EXIT_USAGE;
	}
	int status = vmapp_vm_cli_paths(env, argv[0], paths);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	if (stat(paths->config_file, &st) < 0)
		return vmapp_vm_no_such_vm(argv[0], paths);
	if (!paths->has_runtime) {
		vmapp_vm_say("%s", vmapp_vm_paths_runtime_error(paths, env));
		return VMAPP_VM_EXIT_FAILED;
	}
	return VMAPP_VM_EXIT_OK;
}

int vmapp_vm_running(const struct vmapp_vm_paths *paths)
{
	if (!paths->has_runtime)
		return 0;
	int fd = vmapp_ctl_connect(paths->control_socket);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int vmapp_vm_cmd_start(const struct vmapp_env *env, int argc, char *argv[])
{
	struct vmapp_vm_paths paths;
	int status = paths_of(env, argc, argv, "start", &paths);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	/* VMAPP_PROXY; else the vmapp-proxy beside this program (installed);
	 * else the one of this build. */
	char sibling[PATH_MAX];
	const char *proxy = getenv("VMAPP_PROXY");
	ssize_t n = readlink("/proc/self/exe", sibling, sizeof(sibling) - 1);
	if (!proxy || !proxy[0]) {
		proxy = VMAPP_PROXY_DEFAULT;
		char *slash = n > 0 ? memrchr(sibling, '/', (size_t)n) : NULL;
		if (slash && (size_t)(slash - sibling) + sizeof("/vmapp-proxy") <= sizeof(sibling)) {
			strcpy(slash, "/vmapp-proxy");
			if (access(sibling, X_OK) == 0)
				proxy = sibling;
		}
	}
	char *const args[] = { (char *)proxy, (char *)"--vm", argv[0], NULL };
	execv(proxy, args);
	vmapp_vm_say("can not run %s: %s", proxy, strerror(errno));
	return VMAPP_VM_EXIT_FAILED;
}

int vmapp_vm_cmd_stop(const struct vmapp_env *env, int argc, char *argv[])
{
	struct vmapp_vm_paths paths;
	int status = paths_of(env, argc, argv, "stop", &paths);
	if (status != VMAPP_VM_EXIT_OK)
		return status;
	int fd = vmapp_ctl_connect(paths.control_socket);
	if (fd == -ENOENT || fd == -ECONNREFUSED) {
		vmapp_vm_say("VM '%s' is not running", argv[0]);
		return VMAPP_VM_EXIT_OK;
	}
	if (fd < 0) {
		vmapp_vm_say("%s: %s", paths.control_socket, strerror(-fd));
		return VMAPP_VM_EXIT_FAILED;
	}
	int r = vmapp_ctl_send(fd, "STOP", NULL, 0);
	if (r < 0) {
		vmapp_vm_say("can not ask VM '%s' to stop: %s", argv[0],
			strerror(-r));
		close(fd);
		return VMAPP_VM_EXIT_FAILED;
	}
	/* STOPPING, then the end of the connection once the VM's proxy has
	 * stopped QEMU and removed its sockets. */
	static char buf[VMAPP_CTL_MAX + 1];
	time_t deadline = time(NULL) + STOP_WAIT_S;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(deadline - time(NULL));
		if (left <= 0 || poll(&p, 1, left * 1000) == 0) {
			vmapp_vm_say("VM '%s' did not stop in %d s (log: %s)",
				argv[0], STOP_WAIT_S, paths.vm_log);
			close(fd);
			return VMAPP_VM_EXIT_FAILED;
		}
		struct vmapp_ctl_msg msg;
		r = vmapp_ctl_recv(fd, buf, &msg);
		if (r <= 0 && r != -EINTR)
			break;
		if (strcmp(msg.verb, "ERROR") == 0 && msg.n_fields == 1) {
			vmapp_vm_say("%s", msg.fields[0]);
			close(fd);
			return VMAPP_VM_EXIT_FAILED;
		}
	}
	close(fd);
	return VMAPP_VM_EXIT_OK;
}
