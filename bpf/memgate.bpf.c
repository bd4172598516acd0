// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate's in-kernel decisions, taken synchronously at allocation time:
 *
 *  - commit limit: security_vm_enough_memory_mm() is where Linux decides an
 *    overcommit charge (mmap, brk, mremap, mprotect to writable, stack
 *    growth).  memgate adds a per-container answer there.
 *  - pressure gate: the same hook, against the container's memcg usage less
 *    its reclaimable file cache.
 *  - fork gate: lsm_cgroup on task_alloc, attached to the container's cgroup.
 *
 * A container's commit is the sum, over its address spaces, of data_vm +
 * stack_vm: the kernel's exact per-mm counters of private writable and stack
 * pages, which is what overcommit accounting charges.  Releases have no hook
 * (vm_unacct_memory is inline), so an mm's share is re-read from its counters
 * whenever it charges, dropped at exit_mmap, and all of a container's shares
 * are re-read before any denial.  Nothing here allocates or sleeps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "memgate.h"

#define ENOMEM 12
#define EAGAIN 11

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 page_shift = 12;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct mg_policy);
} mg_policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct mg_stats);
} mg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_MMS);
	__type(key, __u64);
	__type(value, struct mg_mm);
} mg_mms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(key, struct mg_container_key);
	__type(value, struct mg_container);
} mg_containers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_globals);
} mg_globals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MG_EVENTS_BYTES);
} mg_events SEC(".maps");

static __always_inline struct mg_globals *globals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mg_globals, &zero);
}

/* The outermost cgroup of the current task that has a policy. */
static __always_inline struct mg_policy *find_policy(__u64 *cgroup_id)
{
	for (int level = 1; level <= MG_MAX_CGROUP_LEVEL; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		struct mg_policy *policy;

		if (!id)
			break;
		policy = bpf_map_lookup_elem(&mg_policies, &id);
		if (policy) {
			*cgroup_id = id;
			return policy;
		}
	}
	return NULL;
}

static __always_inline __s64 mm_commit_pages(struct mm_struct *mm)
{
	return BPF_CORE_READ(mm, data_vm) + BPF_CORE_READ(mm, stack_vm);
}

/* Set an mm's share, keeping the cgroup's sum exact under concurrency. */
static __always_inline void set_share(struct mg_mm *entry, struct mg_stats *stats, __s64 pages)
{
	__s64 old = __sync_lock_test_and_set(&entry->pages, pages);

	__sync_fetch_and_add(&stats->committed_pages, pages - old);
}

struct resync_ctx {
	__u64 cgroup_id;
	__s64 delta;
};

static long resync_one(struct bpf_map *map, __u64 *key, struct mg_mm *entry, struct resync_ctx *ctx)
{
	struct mm_struct *mm = (struct mm_struct *)*key;
	__s64 now, old;

	if (entry->cgroup_id != ctx->cgroup_id)
		return 0;
	now = mm_commit_pages(mm);
	old = __sync_lock_test_and_set(&entry->pages, now);
	ctx->delta += now - old;
	return 0;
}

/* Re-read every tracked mm of the cgroup: catches memory others released. */
static __always_inline void resync_cgroup(__u64 cgroup_id, struct mg_stats *stats)
{
	struct resync_ctx ctx = { .cgroup_id = cgroup_id };

	bpf_for_each_map_elem(&mg_mms, resync_one, &ctx, 0);
	__sync_fetch_and_add(&stats->committed_pages, ctx.delta);
}

static __always_inline struct mg_mm *track_mm(__u64 key, __u64 cgroup_id)
{
	struct mg_mm fresh = { .cgroup_id = cgroup_id };
	struct mg_globals *g;
	struct mg_mm *entry;

	entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (entry)
		return entry;
	bpf_map_update_elem(&mg_mms, &key, &fresh, BPF_NOEXIST);
	entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (!entry) {
		g = globals();
		if (g)
			__sync_fetch_and_add(&g->mms_untracked, 1);
	}
	return entry;
}

/* Pages the container's memcg holds, less the file cache it could reclaim. */
static __always_inline __s64 in_use_pages(__u32 level)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int memory_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	int active = bpf_core_enum_value(enum node_stat_item, NR_ACTIVE_FILE);
	int inactive = bpf_core_enum_value(enum node_stat_item, NR_INACTIVE_FILE);
	struct cgroup_subsys_state *css;
	struct memcg_vmstats *vmstats;
	struct mem_cgroup *memcg;
	long usage, file_active = 0, file_inactive = 0;

	if (memory_id < 0 || memory_id >= 16)
		return 0;
	css = BPF_CORE_READ(task, cgroups, subsys[memory_id]);
	for (int i = 0; i < MG_MAX_CGROUP_LEVEL; i++) {
		if (!css || BPF_CORE_READ(css, cgroup, level) <= (int)level)
			break;
		css = BPF_CORE_READ(css, parent);
	}
	if (!css)
		return 0;
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	usage = BPF_CORE_READ(memcg, memory.usage.counter);
	vmstats = BPF_CORE_READ(memcg, vmstats);
	if (vmstats && active >= 0 && active < 50 && inactive >= 0 && inactive < 50) {
		bpf_core_read(&file_active, sizeof(file_active), &vmstats->state[active]);
		bpf_core_read(&file_inactive, sizeof(file_inactive), &vmstats->state[inactive]);
	}
	usage -= file_active + file_inactive;
	return usage > 0 ? usage : 0;
}

static __always_inline void record(struct mg_stats *stats, __u64 cgroup_id, __u32 kind,
				   __s64 requested_pages, __s64 measured_pages, __u64 limit,
				   bool audited)
{
	struct mg_denial d = {
		.timestamp_ns = bpf_ktime_get_boot_ns(),
		.requested = (__u64)requested_pages << page_shift,
		.measured = (__u64)measured_pages << page_shift,
		.limit = limit,
		.pid = bpf_get_current_pid_tgid() >> 32,
		.kind = kind,
	};
	struct mg_globals *g;
	struct mg_event *event;

	bpf_get_current_comm(d.comm, sizeof(d.comm));
	if (!audited)
		stats->last_denial = d;

	event = bpf_ringbuf_reserve(&mg_events, sizeof(*event), 0);
	if (!event) {
		g = globals();
		if (g)
			__sync_fetch_and_add(&g->events_dropped, 1);
		return;
	}
	event->cgroup_id = cgroup_id;
	event->d = d;
	event->audited = audited;
	event->pad = 0;
	bpf_ringbuf_submit(event, 0);
}

static __always_inline int check_commit(struct mm_struct *mm, long pages, __u64 cgroup_id,
					struct mg_policy *policy, struct mg_stats *stats)
{
	__s64 limit = policy->commit_limit >> page_shift;
	__s64 now = mm_commit_pages(mm);
	struct mg_mm *entry;
	__s64 committed;

	entry = track_mm((__u64)mm, cgroup_id);
	if (!entry)
		return 0;
	if (entry->cgroup_id != cgroup_id) {
		/* The mm moved to another container: leave the old sum first. */
		struct mg_stats *old = bpf_map_lookup_elem(&mg_stats, &entry->cgroup_id);

		if (old)
			set_share(entry, old, 0);
		entry->cgroup_id = cgroup_id;
	}
	set_share(entry, stats, now);

	committed = stats->committed_pages;
	if (committed + pages > limit) {
		resync_cgroup(cgroup_id, stats);
		committed = stats->committed_pages;
	}
	if (committed + pages > limit) {
		bool audit = policy->flags & MG_AUDIT;

		record(stats, cgroup_id, MG_KIND_COMMIT, pages, committed, policy->commit_limit,
		       audit);
		if (!audit) {
			__sync_fetch_and_add(&stats->commit_denied, 1);
			return -ENOMEM;
		}
		__sync_fetch_and_add(&stats->commit_audited, 1);
	}
	/* Count the charge now; the next charge or a resync corrects it if it failed. */
	set_share(entry, stats, now + pages);
	committed = stats->committed_pages;
	if (committed > stats->committed_peak_pages)
		stats->committed_peak_pages = committed;
	return 0;
}

static __always_inline int check_pressure(long pages, __u64 cgroup_id, struct mg_policy *policy,
					  struct mg_stats *stats)
{
	__s64 in_use = in_use_pages(policy->level);
	bool audit = policy->flags & MG_AUDIT;

	if (in_use + pages <= (__s64)(policy->pressure_gate >> page_shift))
		return 0;
	record(stats, cgroup_id, MG_KIND_PRESSURE, pages, in_use, policy->pressure_gate, audit);
	if (audit) {
		__sync_fetch_and_add(&stats->commit_audited, 1);
		return 0;
	}
	__sync_fetch_and_add(&stats->commit_denied, 1);
	return -ENOMEM;
}

/* The commit decision: pressure gate, then commit limit, for pages about to be committed. */
static __always_inline int decide_commit(struct mm_struct *mm, long pages)
{
	struct mg_policy *policy;
	struct mg_stats *stats;
	__u64 cgroup_id = 0;
	int verdict = 0;

	policy = find_policy(&cgroup_id);
	if (!policy || (!policy->commit_limit && !policy->pressure_gate))
		return 0;
	stats = bpf_map_lookup_elem(&mg_stats, &cgroup_id);
	if (!stats)
		return 0;
	if (policy->pressure_gate)
		verdict = check_pressure(pages, cgroup_id, policy, stats);
	if (!verdict && policy->commit_limit)
		verdict = check_commit(mm, pages, cgroup_id, policy, stats);
	if (!verdict)
		__sync_fetch_and_add(&stats->commit_allowed, 1);
	return verdict;
}

SEC("fmod_ret/security_vm_enough_memory_mm")
int BPF_PROG(mg_vm_enough, struct mm_struct *mm, long pages, int ret)
{
	if (ret)
		return ret;
	return decide_commit(mm, pages);
}

/*
 * Linux's heuristic overcommit mode does not charge MAP_NORESERVE mappings,
 * and glibc grows every thread's arena that way (a PROT_NONE MAP_NORESERVE
 * reservation made writable piece by piece with mprotect).  A per-container
 * commit limit must count them, as strict overcommit does, so memgate
 * decides them itself.  The hooks do not carry the length: it comes from the
 * syscall's own arguments.
 */
#define MG_PROT_WRITE 0x2
#define MG_MAP_TYPE 0x0f
#define MG_MAP_PRIVATE 0x02
#define MG_MAP_NORESERVE 0x4000
#define MG_VM_WRITE 0x2
#define MG_VM_SHARED 0x8
#define MG_VM_NORESERVE 0x00200000

#if defined(__TARGET_ARCH_x86)
#define MG_NR_MMAP 9
#define MG_NR_MPROTECT 10
#define MG_NR_PKEY_MPROTECT 329

/* The first two arguments of the current syscall, when it is one of nr_a, nr_b. */
static __always_inline bool syscall_args(long nr_a, long nr_b, __u64 *arg0, __u64 *arg1)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr;

	if (!regs)
		return false;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr != nr_a && nr != nr_b)
		return false;
	*arg0 = BPF_CORE_READ(regs, di);
	*arg1 = BPF_CORE_READ(regs, si);
	return true;
}
#else
static __always_inline bool syscall_args(long nr_a, long nr_b, __u64 *arg0, __u64 *arg1)
{
	return false;
}
#define MG_NR_MMAP -1
#define MG_NR_MPROTECT -1
#define MG_NR_PKEY_MPROTECT -1
#endif

SEC("fmod_ret/security_mmap_file")
int BPF_PROG(mg_mmap_file, struct file *file, unsigned long prot, unsigned long flags, int ret)
{
	struct task_struct *task;
	__u64 addr, len;

	if (ret)
		return ret;
	if (!(prot & MG_PROT_WRITE) || (flags & MG_MAP_TYPE) != MG_MAP_PRIVATE ||
	    !(flags & MG_MAP_NORESERVE))
		return 0;
	if (!syscall_args(MG_NR_MMAP, MG_NR_MMAP, &addr, &len))
		return 0;
	task = bpf_get_current_task_btf();
	return decide_commit(task->mm, (len + (1 << page_shift) - 1) >> page_shift);
}

SEC("fmod_ret/security_file_mprotect")
int BPF_PROG(mg_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	unsigned long vm_flags = BPF_CORE_READ(vma, vm_flags);
	__u64 start, len, end, vm_start, vm_end;

	if (ret)
		return ret;
	/* Only what the kernel will not charge itself: private, newly writable, NORESERVE. */
	if (!(prot & MG_PROT_WRITE) || (vm_flags & (MG_VM_WRITE | MG_VM_SHARED)) ||
	    !(vm_flags & MG_VM_NORESERVE))
		return 0;
	if (!syscall_args(MG_NR_MPROTECT, MG_NR_PKEY_MPROTECT, &start, &len))
		return 0;
	vm_start = BPF_CORE_READ(vma, vm_start);
	vm_end = BPF_CORE_READ(vma, vm_end);
	end = start + len;
	if (start < vm_start)
		start = vm_start;
	if (end > vm_end)
		end = vm_end;
	if (end <= start)
		return 0;
	return decide_commit(BPF_CORE_READ(vma, vm_mm), (end - start) >> page_shift);
}

/* An address space is gone: its share of the commit goes with it. */
SEC("fentry/exit_mmap")
int BPF_PROG(mg_exit_mmap, struct mm_struct *mm)
{
	__u64 key = (__u64)mm;
	struct mg_stats *stats;
	struct mg_mm *entry;

	entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (!entry)
		return 0;
	stats = bpf_map_lookup_elem(&mg_stats, &entry->cgroup_id);
	if (stats)
		set_share(entry, stats, 0);
	bpf_map_delete_elem(&mg_mms, &key);
	return 0;
}

/*
 * fork copied the parent's commit into a new mm, charging each copied
 * mapping against the parent: count the child from its own counters and
 * settle the parent's share again.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(mg_fork, struct task_struct *parent, struct task_struct *child)
{
	struct mm_struct *parent_mm = BPF_CORE_READ(parent, mm);
	struct mm_struct *child_mm = BPF_CORE_READ(child, mm);
	struct mg_policy *policy;
	struct mg_stats *stats;
	struct mg_mm *entry;
	__u64 cgroup_id = 0;
	__u64 key;

	if (!child_mm || child_mm == parent_mm)
		return 0;
	policy = find_policy(&cgroup_id);
	if (!policy || !policy->commit_limit)
		return 0;
	stats = bpf_map_lookup_elem(&mg_stats, &cgroup_id);
	if (!stats)
		return 0;
	key = (__u64)parent_mm;
	entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (entry && entry->cgroup_id == cgroup_id)
		set_share(entry, stats, mm_commit_pages(parent_mm));
	entry = track_mm((__u64)child_mm, cgroup_id);
	if (entry)
		set_share(entry, stats, mm_commit_pages(child_mm));
	return 0;
}

/* Attached to each container cgroup with a fork gate (cgroup-scoped). */
SEC("lsm_cgroup/task_alloc")
int BPF_PROG(mg_task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	struct mg_policy *policy;
	struct mg_stats *stats;
	__u64 cgroup_id = 0;
	__s64 in_use;
	bool audit;

	policy = find_policy(&cgroup_id);
	if (!policy || !policy->fork_gate)
		return 1;
	stats = bpf_map_lookup_elem(&mg_stats, &cgroup_id);
	if (!stats)
		return 1;
	in_use = in_use_pages(policy->level);
	if (in_use < (__s64)(policy->fork_gate >> page_shift)) {
		__sync_fetch_and_add(&stats->fork_allowed, 1);
		return 1;
	}
	audit = policy->flags & MG_AUDIT;
	record(stats, cgroup_id, MG_KIND_FORK, 0, in_use, policy->fork_gate, audit);
	if (audit) {
		__sync_fetch_and_add(&stats->fork_audited, 1);
		return 1;
	}
	__sync_fetch_and_add(&stats->fork_denied, 1);
	bpf_set_retval(-EAGAIN);
	return 0;
}
