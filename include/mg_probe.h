/* SPDX-License-Identifier: GPL-2.0-only */
/* Which kernel mechanisms load, attach and fire here, and why not. */
#ifndef MG_PROBE_H
#define MG_PROBE_H

#include <stdbool.h>

#include "mg_kernel.h"
#include "probe.h"

struct mg_probe_result {
	const char *name;     /* fmod_ret, fentry, lsm_cgroup, ... */
	const char *target;   /* the hook it attaches to */
	const char *used_for; /* the memgate knobs that need it */
	bool loads, attaches, fires;
	char why_not[256];    /* empty when it fires */
	char libbpf[1024];    /* verbose: libbpf's warnings, the verifier's last lines */
};

/*
 * Try every mechanism in turn; never fails, a mechanism that can't is
 * reported.  verbose: libbpf's reasons for a failure, in libbpf[].
 */
void mg_probe_all(struct mg_probe_result results[MG_PROBE_COUNT], bool verbose);

/* Monitor mode: memgate's own monitor object, loaded and attached, then dropped. */
struct mg_probe_monitor {
	bool available; /* every program of the monitor loads and attaches */
	bool oom;	/* OOM kills are recorded (oom:mark_victim) */
	bool reclaim;	/* memcg reclaim is recorded (vmscan:mm_vmscan_memcg_reclaim_*) */
	char why_not[256];
	char libbpf[1024]; /* verbose: as in mg_probe_result */
};

void mg_probe_monitor(struct mg_probe_monitor *m, bool verbose);

#endif
