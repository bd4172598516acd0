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

/*
 * The probing process: its tgid in its own PID namespace, and that
 * namespace (/proc/self/ns/pid: the kernel's dev_t of nsfs, the inode).
 * Pids are compared there, so a probe in a pod without hostPID finds
 * itself as one on the node does.
 */
const volatile __u32 target_tgid;
const volatile __u64 target_ns_dev, target_ns_ino;

__u64 fired[MG_PROBE_COUNT][MG_PROBE_TARGETS];

/* The tgid of task at level, the depth of a PID namespace it is in; 0 if none. */
static __always_inline __u32 tgid_at(struct task_struct *task, unsigned int level)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	int nr = 0;

	if (!pid || BPF_CORE_READ(pid, level) < level)
		return 0;
	bpf_probe_read_kernel(&nr, sizeof(nr),
			      (void *)pid + bpf_core_field_offset(struct pid, numbers) +
				      level * bpf_core_type_size(struct upid) +
				      bpf_core_field_offset(struct upid, nr));
	return nr;
}

/*
 * The probing process, or the child it forks to trigger exits: both in
 * the probe's PID namespace (a child's parent is at the same depth).
 */
static __always_inline void count(enum mg_probe probe, int i)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bpf_pidns_info ns;

	if (bpf_get_ns_current_pid_tgid(target_ns_dev, target_ns_ino, &ns, sizeof(ns)))
		return;
	if (ns.tgid == target_tgid ||
	    tgid_at(BPF_CORE_READ(task, real_parent), BPF_CORE_READ(task, thread_pid, level)) ==
		    target_tgid)
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
