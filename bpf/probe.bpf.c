// SPDX-License-Identifier: GPL-2.0-only
/*
 * `memgate probe`: one tiny program per kernel mechanism memgate relies on.
 * Each counts the times it fired for the probing process, and changes
 * nothing: fmod_ret returns the verdict it was given, lsm programs allow.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "probe.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid;

__u64 fired[MG_PROBE_COUNT];
/* MG_PROBE_LSM: each of the BPF LSM hooks memgate decides on. */
__u64 lsm_fired[MG_PROBE_LSM_HOOKS];

/* The probing process, or the child it forks to trigger exits. */
static __always_inline void count_at(__u64 *slot)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (bpf_get_current_pid_tgid() >> 32 == target_tgid ||
	    BPF_CORE_READ(task, real_parent, tgid) == target_tgid)
		__sync_fetch_and_add(slot, 1);
}

static __always_inline void count(enum mg_probe probe)
{
	count_at(&fired[probe]);
}

SEC("fmod_ret/security_vm_enough_memory_mm")
int BPF_PROG(probe_fmod_ret, struct mm_struct *mm, long pages, int ret)
{
	count(MG_PROBE_FMOD_RET);
	return ret;
}

/* Where memgate's fentry programs attach without the BPF LSM (mg_inode_alloc). */
SEC("fentry/security_inode_alloc")
int BPF_PROG(probe_fentry)
{
	count(MG_PROBE_FENTRY);
	return 0;
}

SEC("lsm_cgroup/task_alloc")
int BPF_PROG(probe_lsm_cgroup, struct task_struct *task, unsigned long clone_flags)
{
	count(MG_PROBE_LSM_CGROUP);
	return 1;
}

/* The LSM hooks memgate decides on where the BPF LSM is active; each allows. */
SEC("lsm/task_alloc")
int BPF_PROG(probe_lsm)
{
	count_at(&lsm_fired[MG_PROBE_LSM_TASK_ALLOC]);
	return 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(probe_lsm_mmap_file)
{
	count_at(&lsm_fired[MG_PROBE_LSM_MMAP_FILE]);
	return 0;
}

SEC("lsm/file_mprotect")
int BPF_PROG(probe_lsm_file_mprotect)
{
	count_at(&lsm_fired[MG_PROBE_LSM_FILE_MPROTECT]);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(probe_tp_btf, struct task_struct *parent, struct task_struct *child)
{
	count(MG_PROBE_TP_BTF);
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int probe_tracepoint(void *ctx)
{
	count(MG_PROBE_TRACEPOINT);
	return 0;
}
