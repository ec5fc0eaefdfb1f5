/* SPDX-License-Identifier: MIT */
/* Local mode: the proxy between host apps and the host compositor. */
#ifndef VMAPP_LOCAL_H
#define VMAPP_LOCAL_H

#include <stdbool.h>

#include "policy.h"

struct vmapp_local_options {
	const char *label;
	const struct vmapp_policy *policy;
	const char *listen_path; /* may be NULL: a private socket for the command */
	char *const *command;    /* may be NULL with listen_path */
	bool verbose;
};

/* Exit status conventions of env(1) and timeout(1): the proxy's own
 * failures are 125, a command that can not run 126 or 127. */
#define VMAPP_EXIT_FAILURE 125
#define VMAPP_EXIT_CANNOT_RUN 126
#define VMAPP_EXIT_NOT_FOUND 127

/* Runs local mode to the end; returns the process exit status. */
int vmapp_local_run(const struct vmapp_local_options *options);

#endif
