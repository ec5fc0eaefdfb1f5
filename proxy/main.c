/* SPDX-License-Identifier: MIT */
/* vmapp-proxy: command line parsing and wiring only. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "local.h"
#include "policy.h"
#include "sanitize.h"
#include "vm.h"
#include "vmdef.h"
#include "vmapp-tables.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmapp-proxy --local [OPTIONS] -- COMMAND [ARGS...]\n"
		"       vmapp-proxy --local [OPTIONS] --listen PATH\n"
		"       vmapp-proxy --accept TRANSPORT [OPTIONS] [-- COMMAND [ARGS...]]\n"
		"       vmapp-proxy --vm NAME [--] [COMMAND [ARGS...]]\n"
		"\n"
		"A validating Wayland proxy: every message between the app and the\n"
		"compositor in WAYLAND_DISPLAY is checked against the protocol tables\n"
		"and the policy; windows are labelled \"[LABEL] title\".\n"
		"\n"
		"  --local           proxy host apps to the host compositor\n"
		"  --label LABEL     the label of windows and app_ids (default: local);\n"
		"                    1-32 of a-z, 0-9 and '-'\n"
		"  --policy FILE     the policy file (default: the built-in default policy)\n"
		"  --listen PATH     serve a socket at PATH until SIGTERM or SIGINT\n"
		"  --accept TRANSPORT  serve a VM's vmapp-agent: unix:PATH, vsock:PORT or\n"
		"                    serial:PATH (QEMU's virtio-serial chardev socket)\n"
		"  --cid CID         with vsock (required): the only guest CID accepted\n"
		"  --once            with --accept: exit when the agent's stream ends\n"
		"  --vm NAME         run COMMAND in the VM NAME (vmapp-vm(1)), starting it\n"
		"                    and its proxy when it is not running; without a\n"
		"                    COMMAND, only start it\n"
		"  -v, --verbose     log connections too\n"
		"  -h, --help        show this help\n"
		"  --version         show the version\n"
		"\n"
		"With COMMAND, it runs COMMAND on a private socket and exits with its\n"
		"status; 125 when the proxy itself fails, 126/127 when COMMAND can not\n"
		"run.  With --accept, it serves one agent stream at a time until SIGTERM\n"
		"or SIGINT; with a COMMAND too, it has the agent run COMMAND in the guest\n"
		"and exits with its status.  With --vm, its windows are labelled with the\n"
		"VM's name and the VM's policy applies; the exit status is COMMAND's.\n"
		"See vmapp-proxy(1), vmapp-vm(1), vmapp-allowlist(5), vmapp-transport(7).\n");
}

int main(int argc, char *argv[])
{
	enum {
		OPT_LOCAL = 256, OPT_LABEL, OPT_POLICY, OPT_LISTEN, OPT_VERSION, OPT_ACCEPT,
		OPT_CID, OPT_ONCE, OPT_VM, OPT_VM_SERVE,
	};
	static const struct option longopts[] = {
		{ "local", no_argument, NULL, OPT_LOCAL },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "accept", required_argument, NULL, OPT_ACCEPT },
		{ "cid", required_argument, NULL, OPT_CID },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "vm", required_argument, NULL, OPT_VM },
		/* The VM's own proxy, as --vm starts it: not for users. */
		{ "vm-serve", required_argument, NULL, OPT_VM_SERVE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	struct vmapp_local_options options = { .label = "local" };
	const char *policy_path = NULL;
	struct vmapp_accept_options accept_options = { 0 };
	const char *accept = NULL, *cid = NULL, *vm = NULL, *vm_serve = NULL;
	bool local = false, label_given = false;
	int c;

	/* "+": options end at the command's name. */
	while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LOCAL: local = true; break;
		case OPT_LABEL: options.label = optarg; label_given = true; break;
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_LISTEN: options.listen_path = optarg; break;
		case OPT_ACCEPT: accept = optarg; break;
		case OPT_CID: cid = optarg; break;
		case OPT_ONCE: accept_options.once = true; break;
		case OPT_VM: vm = optarg; break;
		case OPT_VM_SERVE: vm_serve = optarg; break;
		case 'v': options.verbose = true; break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("vmapp-proxy %s\n", VMAPP_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (vm || vm_serve) {
		const char *name = vm ? vm : vm_serve;
		char why[256];
		if (local || accept || label_given || policy_path || options.listen_path || cid ||
		    accept_options.once || (vm && vm_serve)) {
			fprintf(stderr, "vmapp-proxy: --vm takes no other mode or option: the "
					"VM's definition has its label and policy\n");
			return 2;
		}
		if (vmapp_vm_name_check(name, why, sizeof(why)) < 0) {
			fprintf(stderr, "vmapp-proxy: %s\n", why);
			return 2;
		}
		struct vmapp_vm_options vm_options = {
			.name = name,
			.command = optind < argc ? argv + optind : NULL,
			.verbose = options.verbose,
			.status_fd = -1,
		};
		if (vm)
			return vmapp_vm_client_run(&vm_options);
		if (vm_options.command) {
			fprintf(stderr, "vmapp-proxy: --vm-serve takes no command\n");
			return 2;
		}
		/* Its progress goes to fd 3 when the client made it. */
		if (fcntl(3, F_SETFD, FD_CLOEXEC) == 0)
			vm_options.status_fd = 3;
		return vmapp_vm_serve(&vm_options);
	}
	if (local == !!accept) {
		fprintf(stderr, "vmapp-proxy: say --local, --accept TRANSPORT or --vm NAME\n");
		usage(stderr);
		return 2;
	}
	if (!vmapp_label_valid(options.label)) {
		fprintf(stderr, "vmapp-proxy: bad label '%s': 1 to 32 of a-z, 0-9 and '-', "
				"not starting with '-'\n", options.label);
		return 2;
	}
	if (accept) {
		char error[256];
		if (vmapp_address_parse(accept, &accept_options.address, error,
					sizeof(error)) < 0) {
			fprintf(stderr, "vmapp-proxy: --accept %s\n", error);
			return 2;
		}
		if (accept_options.address.kind == VMAPP_ADDRESS_VSOCK &&
		    accept_options.address.has_cid) {
			fprintf(stderr, "vmapp-proxy: --accept vsock:PORT takes the guest's CID "
					"as --cid CID\n");
			return 2;
		}
		if (cid) {
			char *end;
			unsigned long v = strtoul(cid, &end, 10);
			if (!*cid || *end || v < 3 || v > UINT32_MAX) {
				fprintf(stderr, "vmapp-proxy: bad --cid '%s': a guest CID is 3 "
						"or more\n", cid);
				return 2;
			}
			accept_options.has_cid = true;
			accept_options.cid = (uint32_t)v;
		}
		if (accept_options.address.kind == VMAPP_ADDRESS_VSOCK && !cid) {
			fprintf(stderr, "vmapp-proxy: --accept vsock:PORT needs the guest's CID "
					"(--cid CID): only that guest may connect\n");
			return 2;
		}
		if (options.listen_path) {
			fprintf(stderr, "vmapp-proxy: --accept takes no --listen\n");
			return 2;
		}
		if (optind < argc)
			accept_options.command = argv + optind;
	} else if (cid || accept_options.once) {
		fprintf(stderr, "vmapp-proxy: --cid and --once go with --accept\n");
		return 2;
	}
	if (optind < argc)
		options.command = argv + optind;
	if (!accept && !options.command && !options.listen_path) {
		fprintf(stderr, "vmapp-proxy: give a COMMAND to run or --listen PATH\n");
		usage(stderr);
		return 2;
	}

	struct vmapp_policy *policy;
	if (policy_path) {
		char error[512];
		int r = vmapp_policy_load(policy_path, &vmapp_protocols, error, sizeof(error),
					  &policy);
		if (r < 0) {
			fprintf(stderr, "vmapp-proxy: %s\n", error);
			return 2;
		}
	} else {
		policy = vmapp_policy_create_default();
		if (!policy) {
			fprintf(stderr, "vmapp-proxy: the built-in policy failed to load\n");
			return VMAPP_EXIT_FAILURE;
		}
	}
	options.policy = policy;

	int status;
	if (accept) {
		accept_options.label = options.label;
		accept_options.policy = policy;
		accept_options.verbose = options.verbose;
		status = vmapp_accept_run(&accept_options);
	} else {
		status = vmapp_local_run(&options);
	}
	vmapp_policy_destroy(policy);
	return status;
}
