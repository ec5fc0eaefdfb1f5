/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "address.h"
#include "unix.h"

static bool parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

int vmapp_address_parse(const char *text, struct vmapp_address *ret, char *error, size_t size)
{
	memset(ret, 0, sizeof(*ret));
	const char *rest;

	if (!strncmp(text, "unix:", 5) || !strncmp(text, "serial:", 7)) {
		ret->kind = text[0] == 'u' ? VMAPP_ADDRESS_UNIX : VMAPP_ADDRESS_SERIAL;
		rest = strchr(text, ':') + 1;
		if (!*rest) {
			snprintf(error, size, "%s: the path is missing", text);
			return -EINVAL;
		}
		if (strlen(rest) >= sizeof(ret->path)) {
			snprintf(error, size, "%s: the path is longer than %zu bytes", text,
				 sizeof(ret->path) - 1);
			return -EINVAL;
		}
		strcpy(ret->path, rest);
		return 0;
	}
	if (!strncmp(text, "vsock:", 6)) {
		ret->kind = VMAPP_ADDRESS_VSOCK;
		rest = text + 6;
		const char *colon = strchr(rest, ':');
		char cid[16];
		if (colon) {
			size_t n = (size_t)(colon - rest);
			if (n >= sizeof(cid)) {
				snprintf(error, size, "%s: a bad CID", text);
				return -EINVAL;
			}
			memcpy(cid, rest, n);
			cid[n] = '\0';
			if (!parse_u32(cid, &ret->cid) || ret->cid < 2) {
				snprintf(error, size, "%s: a bad CID (2 is the host)", text);
				return -EINVAL;
			}
			ret->has_cid = true;
			rest = colon + 1;
		}
		if (!parse_u32(rest, &ret->port)) {
			snprintf(error, size, "%s: a bad port", text);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(error, size, "%s: say unix:PATH, vsock:[CID:]PORT or serial:PATH", text);
	return -EINVAL;
}

void vmapp_address_format(const struct vmapp_address *a, char *buf, size_t size)
{
	switch (a->kind) {
	case VMAPP_ADDRESS_UNIX:
		snprintf(buf, size, "unix:%s", a->path);
		break;
	case VMAPP_ADDRESS_SERIAL:
		snprintf(buf, size, "serial:%s", a->path);
		break;
	case VMAPP_ADDRESS_VSOCK:
		if (a->has_cid)
			snprintf(buf, size, "vsock:%u:%u", a->cid, a->port);
		else
			snprintf(buf, size, "vsock:%u", a->port);
		break;
	}
}

int vmapp_address_listen(const struct vmapp_address *a)
{
	if (a->kind == VMAPP_ADDRESS_UNIX)
		return vmapp_unix_listen(a->path);
	if (a->kind != VMAPP_ADDRESS_VSOCK)
		return -EOPNOTSUPP;
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = a->port,
	};
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int vmapp_address_connect(const struct vmapp_address *a)
{
	struct stat st;

	switch (a->kind) {
	case VMAPP_ADDRESS_UNIX:
		return vmapp_unix_connect(a->path);
	case VMAPP_ADDRESS_SERIAL:
		if (stat(a->path, &st) == 0 && S_ISCHR(st.st_mode)) {
			int fd = open(a->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
			return fd < 0 ? -errno : fd;
		}
		return vmapp_unix_connect(a->path);
	case VMAPP_ADDRESS_VSOCK: {
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		struct sockaddr_vm addr = {
			.svm_family = AF_VSOCK,
			.svm_cid = a->has_cid ? a->cid : VMADDR_CID_HOST,
			.svm_port = a->port,
		};
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			int r = -errno;
			close(fd);
			return r;
		}
		return fd;
	}
	}
	return -EINVAL;
}
