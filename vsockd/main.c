/* SPDX-License-Identifier: MIT */
/* vmapp-vsockd: command line parsing and wiring only. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

/* More forwards than any VM needs; the list is searched per request. */
#define MAX_FORWARDS 64

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmapp-vsockd --socket PATH --guest-cid CID --forward PORT:UNIXPATH\n"
		"                    [--forward PORT:UNIXPATH...] [--verbose]\n"
		"\n"
		"A virtio-vsock device for one QEMU, as a vhost-user back-end: QEMU\n"
		"connects to PATH (-device vhost-user-vsock-pci); the guest's stream\n"
		"connections to the host (CID 2) on a forwarded PORT are connected to\n"
		"UNIXPATH, any other connection is refused.\n"
		"\n"
		"  --socket PATH            the vhost-user socket to listen on (mode 0600)\n"
		"  --guest-cid CID          the guest's CID, 3 to 4294967294\n"
		"  --forward PORT:UNIXPATH  deliver guest connections to PORT to UNIXPATH\n"
		"  -v, --verbose            log the rings and each connection too\n"
		"  -h, --help               show this help\n"
		"  --version                show the version\n"
		"\n"
		"Exits 0 when QEMU hangs up, 1 on failure, 2 on a usage error.\n"
		"See vmapp-vsockd(8).\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmapp-vsockd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vmapp-vsockd --help'.\n");
	return 2;
}

static bool parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

int main(int argc, char *argv[])
{
	enum { OPT_SOCKET = 256, OPT_GUEST_CID, OPT_FORWARD, OPT_VERSION };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "guest-cid", required_argument, NULL, OPT_GUEST_CID },
		{ "forward", required_argument, NULL, OPT_FORWARD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	static struct vmapp_vsock_forward forwards[MAX_FORWARDS];
	struct vmapp_vsockd_options options = { .forwards = forwards };
	bool have_cid = false;
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			if (!*optarg || strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				return usage_error("bad --socket '%s': empty or too long for a "
						"unix socket", optarg);
			options.socket_path = optarg;
			break;
		case OPT_GUEST_CID:
			if (!parse_u64(optarg, &options.guest_cid) ||
			    options.guest_cid < VMAPP_VSOCK_MIN_GUEST_CID ||
			    options.guest_cid > VMAPP_VSOCK_MAX_GUEST_CID)
				return usage_error("bad --guest-cid '%s': 3 to 4294967294", optarg);
			have_cid = true;
			break;
		case OPT_FORWARD: {
			char *colon = strchr(optarg, ':');
			uint64_t port;
			if (!colon)
				return usage_error("bad --forward '%s': PORT:UNIXPATH", optarg);
			*colon = '\0';
			bool port_ok = parse_u64(optarg, &port) && port < UINT32_MAX;
			*colon = ':';
			/* 0xffffffff is VMADDR_PORT_ANY, no port to connect to. */
			if (!port_ok)
				return usage_error("bad --forward '%s': PORT is 0 to 4294967294",
						optarg);
			const char *path = colon + 1;
			if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				return usage_error("bad --forward '%s': UNIXPATH empty or too "
						"long for a unix socket", optarg);
			for (size_t i = 0; i < options.n_forwards; i++)
				if (forwards[i].port == port)
					return usage_error("bad --forward '%s': port forwarded "
							"twice", optarg);
			if (options.n_forwards == MAX_FORWARDS)
				return usage_error("too many --forward: at most %d", MAX_FORWARDS);
			forwards[options.n_forwards++] = (struct vmapp_vsock_forward){
				.port = (uint32_t)port, .path = path,
			};
			break;
		}
		case 'v':
			options.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("vmapp-vsockd %s\n", VMAPP_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'vmapp-vsockd --help'.\n");
			return 2;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!options.socket_path)
		return usage_error("%s", "--socket PATH is required");
	if (!have_cid)
		return usage_error("%s", "--guest-cid CID is required");
	if (options.n_forwards == 0)
		return usage_error("%s", "at least one --forward PORT:UNIXPATH is required");

	/* It serves one VM for its parent: it goes when the parent does. */
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) {
		fprintf(stderr, "vmapp-vsockd: the parent is gone\n");
		return 1;
	}
	/* Writes to a unix socket whose reader left are errors, not deaths. */
	signal(SIGPIPE, SIG_IGN);

	return vmapp_vsockd_run(&options) < 0 ? 1 : 0;
}
