/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What memgate reads differently on each kernel: the memory a container's
 * memcg holds (through the memcg kfuncs of 7.x, else CO-RE from struct
 * mem_cgroup, before and after 6.11's memcg_vmstats layout) and the current
 * syscall's number and arguments (per architecture).  The decisions
 * (decide.bpf.h) call these; memgate.bpf.c includes this after page_shift.
 */
#ifndef MG_COMPAT_BPF_H
#define MG_COMPAT_BPF_H

/*
 * The memcg kfuncs of Linux 7.x.  Only the *_kfunc programs call them, and
 * those load only where the kernel has them (see mg_kernel_memcg_kfuncs()).
 */
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ksym __weak;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym __weak;
extern struct mem_cgroup *bpf_get_mem_cgroup(struct cgroup_subsys_state *css) __ksym __weak;
extern void bpf_put_mem_cgroup(struct mem_cgroup *memcg) __ksym __weak;
extern unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg) __ksym __weak;
extern unsigned long bpf_mem_cgroup_page_state(struct mem_cgroup *memcg, int idx) __ksym __weak;

/*
 * From 6.11 memcg_vmstats.state[] holds only the items memcg tracks, at the
 * slots this table gives; before, it was indexed by the item itself.
 */
extern const void mem_cgroup_stats_index __ksym __weak;

/* The slot of a node stat item in memcg_vmstats.state[]; -1 when absent. */
static __always_inline int vmstats_slot(int item)
{
	const void *table = &mem_cgroup_stats_index;
	__s8 slot;

	if (item < 0)
		return -1;
	if (!table)
		return item;
	if (bpf_probe_read_kernel(&slot, sizeof(slot), table + item))
		return -1;
	return slot;
}

static __always_inline long vmstats_read(struct memcg_vmstats *vmstats, int slot)
{
	long value = 0;

	if (slot < 0 || slot >= bpf_core_field_size(vmstats->state) / sizeof(long))
		return 0;
	bpf_core_read(&value, sizeof(value), &vmstats->state[slot]);
	return value;
}

/*
 * Pages the container's memcg holds, less the file cache it could reclaim,
 * read with CO-RE from struct mem_cgroup: kernels without the memcg kfuncs.
 */
static __always_inline __s64 in_use_pages_core(__u32 level)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int memory_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	int active = vmstats_slot(bpf_core_enum_value(enum node_stat_item, NR_ACTIVE_FILE));
	int inactive = vmstats_slot(bpf_core_enum_value(enum node_stat_item, NR_INACTIVE_FILE));
	struct cgroup_subsys_state *css;
	struct memcg_vmstats *vmstats;
	struct mem_cgroup *memcg;
	long usage;

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
	if (vmstats)
		usage -= vmstats_read(vmstats, active) + vmstats_read(vmstats, inactive);
	return usage > 0 ? usage : 0;
}

/* The same measure through the memcg kfuncs: no kernel struct read at all. */
static __always_inline __s64 in_use_pages_kfunc(__u32 level)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;
	__s64 usage;

	cgrp = bpf_cgroup_ancestor(task->cgroups->dfl_cgrp, level);
	if (!cgrp)
		return 0;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		return 0;
	usage = bpf_mem_cgroup_usage(memcg);
	usage -= bpf_mem_cgroup_page_state(memcg, NR_ACTIVE_FILE);
	usage -= bpf_mem_cgroup_page_state(memcg, NR_INACTIVE_FILE);
	bpf_put_mem_cgroup(memcg);
	usage >>= page_shift;
	return usage > 0 ? usage : 0;
}

static __always_inline __s64 in_use_pages(__u32 level, bool kfuncs)
{
	return kfuncs ? in_use_pages_kfunc(level) : in_use_pages_core(level);
}

#if defined(__TARGET_ARCH_x86)
#define MG_NR_MMAP 9
#define MG_NR_MPROTECT 10
#define MG_NR_BRK 12
#define MG_NR_MREMAP 25
#define MG_NR_SHMGET 29
#define MG_NR_CLONE 56
#define MG_NR_FORK 57
#define MG_NR_CLONE3 435
#define MG_NR_PKEY_MPROTECT 329

/* The number of the current syscall; -1 outside one. */
static __always_inline long syscall_nr(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return regs ? BPF_CORE_READ(regs, orig_ax) : -1;
}

/* The first three arguments of the current syscall, when it is one of nr_a, nr_b. */
static __always_inline bool syscall_args3(long nr_a, long nr_b, __u64 *arg0, __u64 *arg1,
					  __u64 *arg2)
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
	*arg2 = BPF_CORE_READ(regs, dx);
	return true;
}

static __always_inline bool syscall_args(long nr_a, long nr_b, __u64 *arg0, __u64 *arg1)
{
	__u64 arg2;

	return syscall_args3(nr_a, nr_b, arg0, arg1, &arg2);
}

/* The fourth argument of the current syscall. */
static __always_inline __u64 syscall_arg3(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return regs ? BPF_CORE_READ(regs, r10) : 0;
}
#else
static __always_inline long syscall_nr(void)
{
	return -1;
}

static __always_inline bool syscall_args3(long nr_a, long nr_b, __u64 *arg0, __u64 *arg1,
					  __u64 *arg2)
{
	return false;
}

static __always_inline bool syscall_args(long nr_a, long nr_b, __u64 *arg0, __u64 *arg1)
{
	return false;
}
static __always_inline __u64 syscall_arg3(void)
{
	return 0;
}
#define MG_NR_MMAP -1
#define MG_NR_MPROTECT -1
#define MG_NR_BRK -1
#define MG_NR_MREMAP -1
#define MG_NR_SHMGET -1
#define MG_NR_CLONE -1
#define MG_NR_FORK -1
#define MG_NR_CLONE3 -1
#define MG_NR_PKEY_MPROTECT -1
#endif

#endif
