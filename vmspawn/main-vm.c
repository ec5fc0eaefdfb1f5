/* SPDX-License-Identifier: MIT */
/* vmapp-vm: command line parsing and wiring only; the commands are vm-cli.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "vm-cli.h"

struct command {
	const char *name;
	const char *synopsis;
	const char *summary;
	int (*run)(const struct vmapp_env *env, int argc, char *argv[]);
};

static const struct command commands[] = {
	{ "create", "create NAME [KEY=VALUE...]",
	  "define a new VM: the defaults, then the settings given", vmapp_vm_cmd_create },
	{ "list", "list", "one line per VM: its name and main settings, or its error",
	  vmapp_vm_cmd_list },
	{ "show", "show NAME", "the whole definition, every key, in the file format",
	  vmapp_vm_cmd_show },
	{ "set", "set NAME KEY=VALUE...",
	  "change settings; the file's other lines and comments stay", vmapp_vm_cmd_set },
	{ "delete", "delete NAME",
	  "remove the definition, the VM's state folder and its menu entries",
	  vmapp_vm_cmd_delete },
	{ "start", "start NAME", "start the VM and its proxy; return once its agent answers",
	  vmapp_vm_cmd_start },
	{ "stop", "stop NAME", "stop the VM: QEMU, its proxy and their sockets go",
	  vmapp_vm_cmd_stop },
	{ "help", "help [COMMAND]", "show this help, or one command's", NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmapp-vm [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"Creates, lists, shows, changes and deletes VM definitions, the files\n"
		"$XDG_CONFIG_HOME/vmapp/NAME.vm (see vmapp-vm(5)), and starts and stops\n"
		"the VMs.  Apps run in a VM with vmapp-proxy --vm NAME COMMAND.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-28s %s\n", commands[i].synopsis, commands[i].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -h, --help                   show this help\n"
		"  --version                    show the version\n"
		"\n"
		"KEY is memory, cpus, image, accel, network, audio, audio_backend, share,\n"
		"share_mode, transport, policy, colour or packages.  A VM name is 1 to 32\n"
		"of a-z, 0-9 and '-', not starting with '-'.\n"
		"\n"
		"Exit status: 0 done; 1 the operation failed (the VM exists, there is no\n"
		"such VM, its file is broken, a file can not be read or written); 2 a\n"
		"usage error or a bad name, key or value; 125 an unexpected failure.\n"
		"See vmapp-vm(1) and vmapp-vm(5).\n");
}

static void command_usage(FILE *f, const struct command *c)
{
	fprintf(f, "Usage: vmapp-vm %s\n  %s\nSee vmapp-vm(1).\n", c->synopsis, c->summary);
}

static int help(int argc, char *argv[])
{
	const struct command *c;

	if (argc == 0) {
		usage(stdout);
		return VMAPP_VM_EXIT_OK;
	}
	c = argc == 1 ? find_command(argv[0]) : NULL;
	if (!c) {
		fprintf(stderr, "vmapp-vm: help takes one of the commands: help [COMMAND]\n");
		return VMAPP_VM_EXIT_USAGE;
	}
	command_usage(stdout, c);
	return VMAPP_VM_EXIT_OK;
}

int main(int argc, char *argv[])
{
	enum { OPT_VERSION = 256 };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	const struct command *command;
	struct vmapp_env env;
	int c;

	/* "+": options end at the command; what follows is the command's. */
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return VMAPP_VM_EXIT_OK;
		case OPT_VERSION: printf("vmapp-vm %s\n", VMAPP_VERSION); return VMAPP_VM_EXIT_OK;
		default: usage(stderr); return VMAPP_VM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmapp-vm: give a command\n");
		usage(stderr);
		return VMAPP_VM_EXIT_USAGE;
	}
	command = find_command(argv[optind]);
	if (!command) {
		/* Quoted back only when it is a short word of plain text. */
		const char *word = argv[optind];
		size_t len = strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789-_.");

		if (word[len] == '\0' && len > 0 && len <= 32)
			fprintf(stderr, "vmapp-vm: unknown command '%s' ", word);
		else
			fprintf(stderr, "vmapp-vm: unknown command ");
		fprintf(stderr, "(expected create, list, show, set, delete, start, stop or help)\n");
		return VMAPP_VM_EXIT_USAGE;
	}
	argc -= optind + 1;
	argv += optind + 1;
	if (!command->run)
		return help(argc, argv);
	/* A command has no options of its own: words that start with '-'
	 * are names (and refused as such), except these. */
	if (argc > 0 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
		command_usage(stdout, command);
		return VMAPP_VM_EXIT_OK;
	}
	if (argc > 0 && strcmp(argv[0], "--") == 0) {
		argc--;
		argv++;
	}
	vmapp_env_from_environ(&env);
	return command->run(&env, argc, argv);
}
