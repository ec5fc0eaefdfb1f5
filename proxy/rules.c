/* SPDX-License-Identifier: MIT */
#include "rules.h"

#define VMAPP_RULE_NAME(id, name) [VMAPP_RULE_##id] = name,
static const char *const rule_names[VMAPP_RULE_COUNT] = { VMAPP_RULES(VMAPP_RULE_NAME) };
#undef VMAPP_RULE_NAME

const char *vmapp_rule_name(enum vmapp_rule rule)
{
	if ((unsigned)rule >= VMAPP_RULE_COUNT)
		return "unknown-rule";
	return rule_names[rule];
}
