/* SPDX-License-Identifier: MIT */
/* vmapp-agent: command line parsing and wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmapp-agent --connect TRANSPORT [OPTIONS] [-- COMMAND [ARGS...]]\n"
		"\n"
		"The guest half of vmapp: serves a Wayland socket in the guest and carries\n"
		"its clients to vmapp-proxy on the host over one stream.\n"
		"\n"
		"  --connect TRANSPORT  unix:PATH, vsock:CID:PORT (the host is CID 2) or\n"
		"                       serial:/dev/virtio-ports/NAME\n"
		"  --socket NAME        the Wayland socket to serve, under XDG_RUNTIME_DIR\n"
		"                       or an absolute path (default: wayland-0)\n"
		"  --shm-diff MODE      how changed shm bytes are found: auto (default),\n"
		"                       damage or shadow\n"
		"  --wait SECONDS       keep trying to connect this long (default: 10)\n"
		"  -v, --verbose        log connections too\n"
		"  -h, --help           show this help\n"
		"  --version            show the version\n"
		"\n"
		"With COMMAND, it runs COMMAND on the socket and exits with its status\n"
		"once it is done (125 when the agent fails, 126/127 when COMMAND can not\n"
		"run); without, it serves until the stream ends, running what the host\n"
		"asks.  See vmapp-agent(8) and vmapp-transport(7).\n");
}

int main(int argc, char *argv[])
{
	enum { OPT_CONNECT = 256, OPT_SOCKET, OPT_SHM_DIFF, OPT_WAIT, OPT_VERSION };
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "shm-diff", required_argument, NULL, OPT_SHM_DIFF },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	struct vmapp_agent_options options = {
		.socket_name = "wayland-0",
		.connect_timeout = 10,
	};
	const char *connect = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONNECT: connect = optarg; break;
		case OPT_SOCKET: options.socket_name = optarg; break;
		case OPT_SHM_DIFF:
			if (!strcmp(optarg, "auto")) {
				options.diff = VMAPP_SHM_DIFF_AUTO;
			} else if (!strcmp(optarg, "damage")) {
				options.diff = VMAPP_SHM_DIFF_DAMAGE;
			} else if (!strcmp(optarg, "shadow")) {
				options.diff = VMAPP_SHM_DIFF_SHADOW;
			} else {
				fprintf(stderr, "vmapp-agent: bad --shm-diff '%s': auto, damage "
						"or shadow\n", optarg);
				return 2;
			}
			break;
		case OPT_WAIT: {
			char *end;
			options.connect_timeout = strtod(optarg, &end);
			if (!*optarg || *end || !(options.connect_timeout >= 0) ||
			    options.connect_timeout > 86400) {
				fprintf(stderr, "vmapp-agent: bad --wait '%s': seconds, 0 to "
						"86400\n", optarg);
				return 2;
			}
			break;
		}
		case 'v': options.verbose = true; break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("vmapp-agent %s\n", VMAPP_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!connect) {
		fprintf(stderr, "vmapp-agent: say --connect TRANSPORT\n");
		usage(stderr);
		return 2;
	}
	char error[256];
	if (vmapp_address_parse(connect, &options.address, error, sizeof(error)) < 0) {
		fprintf(stderr, "vmapp-agent: --connect %s\n", error);
		return 2;
	}
	if (options.address.kind == VMAPP_ADDRESS_VSOCK && !options.address.has_cid) {
		fprintf(stderr, "vmapp-agent: --connect vsock:CID:PORT needs the CID (the host "
				"is 2)\n");
		return 2;
	}
	if (!*options.socket_name || (options.socket_name[0] != '/' &&
				      strchr(options.socket_name, '/'))) {
		fprintf(stderr, "vmapp-agent: bad --socket '%s': a name or an absolute path\n",
			options.socket_name);
		return 2;
	}
	if (optind < argc)
		options.command = argv + optind;
	return vmapp_agent_run(&options);
}
