/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the .desktop path end to end as the host sees it: an untrusted
 * entry from a guest is parsed, sanitised and written as a host entry;
 * the host entry, parsed back the way a desktop's launcher would, must run
 * exactly `vmapp-proxy --vm VM -- <the guest's words>`: nothing a guest
 * writes may add a host argument, a field code or another key.
 *
 * Input: the bytes of a .desktop file.
 */
#include <string.h>

#include "desktop.h"
#include "fuzz.h"

#define PROXY "/usr/bin/vmapp-proxy"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmapp_desktop_entry entry = { 0 }, clean = { 0 }, back = { 0 };
	static char host[256 * 1024];

	if (vmapp_desktop_parse((const char *)data, size, "fuzz.desktop", &entry) != 0)
		return 0;
	FUZZ_CHECK(entry.argc >= 1 && entry.argv[entry.argc] == NULL);
	FUZZ_CHECK(entry.name && entry.name[0]);

	if (vmapp_desktop_sanitize(&entry, "fuzz", &clean) == 0) {
		FUZZ_CHECK(strncmp(clean.name, "[fuzz] ", 7) == 0);
		FUZZ_CHECK(!clean.icon || !strchr(clean.icon, '/'));
		int n = vmapp_desktop_write_host_entry(&clean, "fuzz", PROXY, host, sizeof(host));
		if (n >= 0) {
			FUZZ_CHECK((size_t)n < sizeof(host));
			FUZZ_CHECK(vmapp_desktop_parse(host, (size_t)n, clean.id, &back) == 0);
			FUZZ_CHECK(back.argc == clean.argc + 4);
			FUZZ_CHECK(strcmp(back.argv[0], PROXY) == 0);
			FUZZ_CHECK(strcmp(back.argv[1], "--vm") == 0);
			FUZZ_CHECK(strcmp(back.argv[2], "fuzz") == 0);
			FUZZ_CHECK(strcmp(back.argv[3], "--") == 0);
			for (size_t i = 0; i < clean.argc; i++)
				FUZZ_CHECK(strcmp(back.argv[4 + i], clean.argv[i]) == 0);
			FUZZ_CHECK(strcmp(back.name, clean.name) == 0);
			FUZZ_CHECK(back.terminal == clean.terminal);
		}
	}
	vmapp_desktop_entry_finish(&back);
	vmapp_desktop_entry_finish(&clean);
	vmapp_desktop_entry_finish(&entry);
	return 0;
}
