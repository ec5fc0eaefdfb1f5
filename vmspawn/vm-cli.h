/* SPDX-License-Identifier: MIT */
/*
 * vmapp-vm's commands on VM definitions (vmapp-vm(1)): each takes the
 * words after its name, prints its own errors as "vmapp-vm: ...", and
 * returns the exit status.
 */
#ifndef VMAPP_VM_CLI_H
#define VMAPP_VM_CLI_H

#include "vmdef.h"

enum {
	VMAPP_VM_EXIT_OK = 0,
	VMAPP_VM_EXIT_FAILED = 1,      /* exists, no such VM, a broken file, I/O */
	VMAPP_VM_EXIT_USAGE = 2,       /* usage, a bad name, key or value */
	VMAPP_VM_EXIT_UNEXPECTED = 125, /* out of memory, a check of our own failed */
};

int vmapp_vm_cmd_create(const struct vmapp_env *env, int argc, char *argv[]);
int vmapp_vm_cmd_list(const struct vmapp_env *env, int argc, char *argv[]);
int vmapp_vm_cmd_show(const struct vmapp_env *env, int argc, char *argv[]);
int vmapp_vm_cmd_set(const struct vmapp_env *env, int argc, char *argv[]);
int vmapp_vm_cmd_delete(const struct vmapp_env *env, int argc, char *argv[]);
int vmapp_vm_cmd_start(const struct vmapp_env *env, int argc, char *argv[]);
int vmapp_vm_cmd_stop(const struct vmapp_env *env, int argc, char *argv[]);

/* What the commands share: a line "vmapp-vm: ..." on stderr; a VM
 * name checked (exit 2) and then its paths (exit 1: the environment);
 * "no VM 'NAME' (FILE does not exist)" and exit 1. */
void vmapp_vm_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vmapp_vm_cli_paths(const struct vmapp_env *env, const char *name,
		       struct vmapp_vm_paths *paths);
int vmapp_vm_no_such_vm(const char *name, const struct vmapp_vm_paths *paths);

/* 1 when the VM's proxy answers on its control socket. */
int vmapp_vm_running(const struct vmapp_vm_paths *paths);

#endif
