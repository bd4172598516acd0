// SPDX-License-Identifier: GPL-2.0-only
/*
 * `memgate probe`: tiny programs for each kernel mechanism memgate relies
 * on.  Each counts the times it fired for the probing process, and changes
 * nothing: fmod_ret returns 0 (the function runs), lsm programs allow.
 *
 * probe_<mechanism> and probe_<mechanism>_<i> have no target of their own:
 * core/probe.c gives each the first or i-th attach point the loader's table
 * (core/loader.c) marks for its mechanism (bpf_program__set_attach_target).
 * Only the tracepoint, tracefs's and none of the table's, names its own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "probe.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid;

__u64 fired[MG_PROBE_COUNT][MG_PROBE_TARGETS];

/* The probing process, or the child it forks to trigger exits. */
static __always_inline void count(enum mg_probe probe, int i)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (bpf_get_current_pid_tgid() >> 32 == target_tgid ||
	    BPF_CORE_READ(task, real_parent, tgid) == target_tgid)
		__sync_fetch_and_add(&fired[probe][i], 1);
}

/* A program of mechanism (an attach type), for its i-th attach point. */
#define PROBE(name, mechanism, which, i, verdict)                                                  \
	SEC(#mechanism)                                                                            \
	int BPF_PROG(name)                                                                         \
	{                                                                                          \
		count(which, i);                                                                   \
		return verdict;                                                                    \
	}

/* MG_PROBE_TARGETS of them; the first keeps the name `memgate probe --verbose` shows. */
#define PROBES(m, which, verdict)                                                                  \
	PROBE(probe_##m, m, which, 0, verdict)                                                     \
	PROBE(probe_##m##_1, m, which, 1, verdict)                                                 \
	PROBE(probe_##m##_2, m, which, 2, verdict)                                                 \
	PROBE(probe_##m##_3, m, which, 3, verdict)

_Static_assert(MG_PROBE_TARGETS == 4, "PROBES makes MG_PROBE_TARGETS programs");

PROBES(fmod_ret, MG_PROBE_FMOD_RET, 0)
PROBES(fentry, MG_PROBE_FENTRY, 0)
PROBES(lsm_cgroup, MG_PROBE_LSM_CGROUP, 1)
PROBES(lsm, MG_PROBE_LSM, 0)
PROBES(tp_btf, MG_PROBE_TP_BTF, 0)

SEC("tracepoint/sched/sched_process_fork")
int probe_tracepoint(void *ctx)
{
	count(MG_PROBE_TRACEPOINT, 0);
	return 0;
}
