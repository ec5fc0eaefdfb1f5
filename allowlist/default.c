/* SPDX-License-Identifier: MIT */
/*
 * The shipped default policy: default.policy, embedded at build time by
 * embed-text.py, parsed against the generated protocol tables.
 */
#include <stddef.h>

#include "default-text.h"
#include "policy.h"
#include "vmapp-tables.h"

const char *vmapp_policy_default_text(size_t *ret_len)
{
	*ret_len = vmapp_default_policy_len;
	return vmapp_default_policy_text;
}

struct vmapp_policy *vmapp_policy_create_default(void)
{
	struct vmapp_policy *policy;
	char error[256];

	/* Fails only when default.policy and the vendored protocol XML
	 * disagree, which tests/policy catches at build time; the error text
	 * is there for whoever calls vmapp_policy_parse() on the same text. */
	if (vmapp_policy_parse(vmapp_default_policy_text, vmapp_default_policy_len,
			       "default.policy", &vmapp_protocols,
			       error, sizeof(error), &policy) < 0)
		return NULL;
	return policy;
}
