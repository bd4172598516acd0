/* SPDX-License-Identifier: GPL-2.0-only */
/* Which kernel mechanisms load, attach and fire here, and why not. */
#ifndef MG_PROBE_H
#define MG_PROBE_H

#include <stdbool.h>

#include "probe.h"

struct mg_probe_result {
	const char *name;     /* fmod_ret, fentry, lsm_cgroup, ... */
	const char *target;   /* the hook it attaches to */
	const char *used_for; /* the memgate knobs that need it */
	bool loads, attaches, fires;
	char why_not[256];    /* empty when it fires */
};

/* Try every mechanism in turn; never fails, a mechanism that can't is reported. */
void mg_probe_all(struct mg_probe_result results[MG_PROBE_COUNT]);

#endif
