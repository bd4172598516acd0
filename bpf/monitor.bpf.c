// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate's monitor: what happened to a container's memory, recorded from
 * tracepoints only (tp_btf), so it loads where BPF trampolines are refused
 * (lockdown).  It creates the shared maps; the enforcement object reuses
 * them.  Every container with an entry in memgate_policies is monitored,
 * whatever its mode.
 *
 *  - OOM kills: oom:mark_victim, attributed by the victim's cgroup, not by
 *    the OOM killer's current task (a global OOM runs in any task).
 *  - memcg reclaim: vmscan:mm_vmscan_memcg_reclaim_begin/end, the limit
 *    reclaim a charge (memory.max) or memory.high enters in the charging
 *    task, so the current task names the container.
 *
 * Nothing here allocates or sleeps, and no loop depends on how many
 * containers there are.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "memgate.h"
#include "maps.bpf.h"

#define SIGKILL 9

char LICENSE[] SEC("license") = "GPL";

/* Reclaim in progress: thread id -> when it began (CLOCK_BOOTTIME). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} mg_reclaim_start SEC(".maps");

struct mg_pending_kill {
	__u64 cgroup_id;
	__u32 victim_tid;
	__u32 victim_pid;
	char comm[16];
};

/*
 * Kernels whose mark_victim carries only the victim's thread id: the
 * SIGKILL the OOM killer sent just before, from the same thread, names the
 * task.  killer thread id -> that victim.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct mg_pending_kill);
} mg_pending_kills SEC(".maps");

/* The outermost cgroup with a policy among cgrp and its ancestors; 0 when none. */
static __always_inline __u64 policy_cgroup(struct cgroup *cgrp)
{
	__u64 found = 0;

	for (int i = 0; i <= MG_MAX_CGROUP_LEVEL && cgrp; i++) {
		__u64 id = BPF_CORE_READ(cgrp, kn, id);
		struct cgroup_subsys_state *parent;

		if (bpf_map_lookup_elem(&mg_policies, &id))
			found = id;
		parent = BPF_CORE_READ(cgrp, self.parent);
		if (!parent)
			break;
		cgrp = (void *)parent - bpf_core_field_offset(struct cgroup, self);
	}
	return found;
}

/* The same for the current task, without reading any kernel struct. */
static __always_inline __u64 current_policy_cgroup(void)
{
	for (int level = 1; level <= MG_MAX_CGROUP_LEVEL; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (!id)
			break;
		if (bpf_map_lookup_elem(&mg_policies, &id))
			return id;
	}
	return 0;
}

static __always_inline void record_kill(__u64 cgroup_id, __u32 pid, const char *comm)
{
	struct mg_stats *stats = bpf_map_lookup_elem(&mg_stats, &cgroup_id);
	struct mg_denial d = {
		.timestamp_ns = bpf_ktime_get_boot_ns(),
		.pid = pid,
		.kind = MG_KIND_OOM_KILL,
	};

	if (!stats)
		return;
	__builtin_memcpy(d.comm, comm, sizeof(d.comm));
	__sync_fetch_and_add(&stats->oom_kills, 1);
	stats->last_oom_kill = d;
	emit_event(cgroup_id, &d, false);
}

/* mark_victim(struct task_struct *, uid_t): 6.8 and later, and backports. */
SEC("tp_btf/mark_victim")
int BPF_PROG(mg_oom_victim, struct task_struct *task)
{
	__u64 cgroup_id = policy_cgroup(BPF_CORE_READ(task, cgroups, dfl_cgrp));
	char comm[16];

	if (!cgroup_id)
		return 0;
	BPF_CORE_READ_STR_INTO(&comm, task, comm);
	record_kill(cgroup_id, BPF_CORE_READ(task, tgid), comm);
	return 0;
}

/*
 * mark_victim(int pid): older kernels.  __oom_kill_process() sends the
 * victim SIGKILL, then marks it, in the same thread.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(mg_oom_signal, int sig, struct kernel_siginfo *info, struct task_struct *task)
{
	struct mg_pending_kill pending = {};
	__u32 tid = bpf_get_current_pid_tgid();

	if (sig != SIGKILL)
		return 0;
	pending.cgroup_id = policy_cgroup(BPF_CORE_READ(task, cgroups, dfl_cgrp));
	if (!pending.cgroup_id)
		return 0;
	pending.victim_tid = BPF_CORE_READ(task, pid);
	pending.victim_pid = BPF_CORE_READ(task, tgid);
	BPF_CORE_READ_STR_INTO(&pending.comm, task, comm);
	bpf_map_update_elem(&mg_pending_kills, &tid, &pending, BPF_ANY);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(mg_oom_victim_pid, int pid)
{
	__u32 tid = bpf_get_current_pid_tgid();
	struct mg_pending_kill *pending;

	pending = bpf_map_lookup_elem(&mg_pending_kills, &tid);
	if (!pending)
		return 0;
	if (pending->victim_tid == (__u32)pid)
		record_kill(pending->cgroup_id, pending->victim_pid, pending->comm);
	bpf_map_delete_elem(&mg_pending_kills, &tid);
	return 0;
}

/* The arguments differ across kernels (7.x adds the memcg); none is read. */
SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(mg_reclaim_begin)
{
	__u32 tid = bpf_get_current_pid_tgid();
	__u64 now;

	if (!current_policy_cgroup())
		return 0;
	now = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&mg_reclaim_start, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(mg_reclaim_end)
{
	__u32 tid = bpf_get_current_pid_tgid();
	struct mg_stats *stats;
	__u64 cgroup_id, *began, now;

	began = bpf_map_lookup_elem(&mg_reclaim_start, &tid);
	if (!began)
		return 0;
	now = bpf_ktime_get_boot_ns();
	cgroup_id = current_policy_cgroup();
	stats = cgroup_id ? bpf_map_lookup_elem(&mg_stats, &cgroup_id) : NULL;
	if (stats) {
		__sync_fetch_and_add(&stats->reclaim_episodes, 1);
		__sync_fetch_and_add(&stats->reclaim_ns, now > *began ? now - *began : 0);
	}
	bpf_map_delete_elem(&mg_reclaim_start, &tid);
	return 0;
}

/*
 * A cgroup memgate has entries for was removed: the next hook run prunes
 * them.  stats is the first entry a start adds and the last a forget
 * deletes, so a hook killed half-way still leaves the cgroup found here.
 */
SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(mg_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	__u64 id = BPF_CORE_READ(cgrp, kn, id);
	struct mg_globals *g;

	if (!bpf_map_lookup_elem(&mg_stats, &id))
		return 0;
	if (bpf_map_push_elem(&mg_dead, &id, 0)) {
		g = globals();
		if (g)
			__sync_fetch_and_add(&g->dead_dropped, 1);
	}
	return 0;
}
