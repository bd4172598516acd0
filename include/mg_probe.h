/* SPDX-License-Identifier: GPL-2.0-only */
/* Which kernel mechanisms load, attach and fire here, and why not. */
#ifndef MG_PROBE_H
#define MG_PROBE_H

#include <stdbool.h>

#include "mg_kernel.h"
#include "mg_loader.h"
#include "probe.h"

struct mg_probe_result {
	const char *name;     /* fmod_ret, fentry, lsm_cgroup, ... */
	char target[MG_PROBE_TARGETS * MG_SECTION_LEN]; /* the hooks it attaches to, by commas */
	const char *used_for; /* the memgate knobs that need it */
	bool loads, attaches, fires;
	char why_not[256];    /* empty when it fires */
	char libbpf[1024];    /* verbose: libbpf's warnings, the verifier's last lines */
};

/* The mechanism's name: its attach type, the SEC() prefix of its programs. */
const char *mg_probe_name(enum mg_probe which);

/*
 * Where each mechanism attaches: the attach points of its type that the
 * loader's table marks for probing (mg_variants_probed()), in its order;
 * a type the table has none of (tracepoint) attaches where its probe
 * program's own SEC() says.  0, or -ENOENT (a marked attach type no
 * mechanism tries, or a mechanism with nowhere to attach), -E2BIG (more
 * than MG_PROBE_TARGETS for one), -errno.
 */
struct mg_probe_targets {
	size_t n;
	char target[MG_PROBE_TARGETS][MG_SECTION_LEN];
};

int mg_probe_targets(struct mg_probe_targets out[MG_PROBE_COUNT]);

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
