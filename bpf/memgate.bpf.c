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
 * Who is governed: the container's workload, not its runtime.  An address
 * space is governed from the exec that created it inside a container under
 * policy, and every fork of a governed address space is governed too
 * (threads and vfork share it).  runc or crun init, and the init of
 * `runc exec`, came into the cgroup from outside and never exec'd there, so
 * they are neither charged nor denied until they exec the workload.  The
 * one entry in memgate_mms answers both "is this governed" and "by whom".
 *
 * A container's commit is the sum, over its governed address spaces, of
 * data_vm + stack_vm: the kernel's exact per-mm counters of private
 * writable and stack pages, which is what overcommit accounting charges.
 * Releases have no hook of their own (vm_unacct_memory is inline, and
 * vm_stat_account is inlined into mm/mmap.c), so an mm's share is re-read
 * from its counters when it charges, when munmap, brk, mremap or mprotect
 * return, at fork and at exit.  The sum stays exact without ever scanning
 * other address spaces.  What the kernel commits to a shared memory object
 * instead (a shared anonymous mapping, a SysV segment) is kept per object,
 * in mg_shm, from its shmem inode's creation to its free.  Nothing here
 * sleeps, nothing allocates but a thread's mg_pending (once, at its first
 * shared object), and no loop depends on how many containers there are.
 *
 * This file holds only the programs: thin wrappers, grouped by attach point,
 * that hand what their hook gives to a decision of decide.bpf.h, which
 * reads what differs between kernels through compat.bpf.h.  Each hook has
 * its variants: _kfunc reads memcg through the memcg kfuncs, _lsm is the
 * BPF LSM's form; core/loader.c's mg_variants names them, one row per
 * attach point, and picks one of each row per kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "memgate.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 page_shift = 12;

/* The maps, created by the monitor object and reused here (see maps.bpf.h). */
#include "maps.bpf.h"

/*
 * Where the BPF LSM is active, mmap and mprotect are decided by lsm/
 * programs, for every mapping they make private and writable, and the
 * charge the kernel then makes for it is not decided again.  A trampoline
 * skips an fmod_ret program on a CPU where another task was preempted inside
 * it (recursion_misses), which lets the charge through undecided; a BPF LSM
 * program is never skipped.  Kernels that preempt kernel code (Debian's 7.x,
 * preempt=lazy) do that under load: docs/design.md, 1.3.
 */
const volatile bool lsm_deciders = false;

#include "compat.bpf.h"
#include "decide.bpf.h"

/* Every commit the kernel charges (overcommit accounting). */
SEC("fmod_ret/security_vm_enough_memory_mm")
int BPF_PROG(mg_vm_enough, struct mm_struct *mm, long pages, int ret)
{
	if (ret)
		return ret;
	return decide_charge(mm, pages, false);
}

SEC("fmod_ret/security_vm_enough_memory_mm")
int BPF_PROG(mg_vm_enough_kfunc, struct mm_struct *mm, long pages, int ret)
{
	if (ret)
		return ret;
	return decide_charge(mm, pages, true);
}

/* mmap: what the kernel does not charge, or under lsm/ every commit (decide_mmap). */
SEC("fmod_ret/security_mmap_file")
int BPF_PROG(mg_mmap_file, struct file *file, unsigned long prot, unsigned long flags, int ret)
{
	if (ret)
		return ret;
	return decide_mmap(file, prot, flags, false, false);
}

SEC("fmod_ret/security_mmap_file")
int BPF_PROG(mg_mmap_file_kfunc, struct file *file, unsigned long prot, unsigned long flags,
	     int ret)
{
	if (ret)
		return ret;
	return decide_mmap(file, prot, flags, true, false);
}

SEC("lsm/mmap_file")
int BPF_PROG(mg_mmap_file_lsm, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	return decide_mmap(file, prot, flags, false, true);
}

SEC("lsm/mmap_file")
int BPF_PROG(mg_mmap_file_lsm_kfunc, struct file *file, unsigned long reqprot,
	     unsigned long prot, unsigned long flags, int ret)
{
	if (ret)
		return ret;
	return decide_mmap(file, prot, flags, true, true);
}

/* mprotect making a private mapping writable (decide_mprotect). */
SEC("fmod_ret/security_file_mprotect")
int BPF_PROG(mg_mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	if (ret)
		return ret;
	return decide_mprotect(vma, prot, false, false);
}

SEC("fmod_ret/security_file_mprotect")
int BPF_PROG(mg_mprotect_kfunc, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return ret;
	return decide_mprotect(vma, prot, true, false);
}

SEC("lsm/file_mprotect")
int BPF_PROG(mg_mprotect_lsm, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return ret;
	return decide_mprotect(vma, prot, false, true);
}

SEC("lsm/file_mprotect")
int BPF_PROG(mg_mprotect_lsm_kfunc, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return ret;
	return decide_mprotect(vma, prot, true, true);
}

/* shmget creating a SysV segment (decide_shm). */
SEC("fmod_ret/security_shm_alloc")
int BPF_PROG(mg_shm_alloc, struct kern_ipc_perm *perm, int ret)
{
	if (ret)
		return ret;
	return decide_shm(false, false);
}

SEC("fmod_ret/security_shm_alloc")
int BPF_PROG(mg_shm_alloc_kfunc, struct kern_ipc_perm *perm, int ret)
{
	if (ret)
		return ret;
	return decide_shm(true, false);
}

SEC("lsm/shm_alloc_security")
int BPF_PROG(mg_shm_alloc_lsm, struct kern_ipc_perm *perm, int ret)
{
	if (ret)
		return ret;
	return decide_shm(false, true);
}

SEC("lsm/shm_alloc_security")
int BPF_PROG(mg_shm_alloc_lsm_kfunc, struct kern_ipc_perm *perm, int ret)
{
	if (ret)
		return ret;
	return decide_shm(true, true);
}

/*
 * A shared object's shmem inode is made (bind_shared) and freed
 * (release_shared).  Without the BPF LSM: fentry, not fmod_ret, because
 * security_inode_alloc gained a gfp argument (6.13), which would stand
 * where an fmod_ret program reads the return value.  An fentry cannot fail
 * the creation, so here an object mg_shm has no room for is made, uncounted.
 */
SEC("fentry/security_inode_alloc")
int BPF_PROG(mg_inode_alloc, struct inode *inode)
{
	bind_shared(inode, false);
	return 0;
}

SEC("lsm/inode_alloc_security")
int BPF_PROG(mg_inode_alloc_lsm, struct inode *inode, int ret)
{
	if (ret)
		return ret;
	return bind_shared(inode, true);
}

SEC("fentry/security_inode_free")
int BPF_PROG(mg_inode_free, struct inode *inode)
{
	release_shared(inode);
	return 0;
}

SEC("lsm/inode_free_security")
int BPF_PROG(mg_inode_free_lsm, struct inode *inode)
{
	release_shared(inode);
	return 0;
}

/* mremap growth, and under lsm/ brk growth, before either maps (decide_mmap_addr). */
SEC("fmod_ret/security_mmap_addr")
int BPF_PROG(mg_mmap_addr, unsigned long addr, int ret)
{
	if (ret)
		return ret;
	return decide_mmap_addr(false, false);
}

SEC("fmod_ret/security_mmap_addr")
int BPF_PROG(mg_mmap_addr_kfunc, unsigned long addr, int ret)
{
	if (ret)
		return ret;
	return decide_mmap_addr(true, false);
}

SEC("lsm/mmap_addr")
int BPF_PROG(mg_mmap_addr_lsm, unsigned long addr, int ret)
{
	if (ret)
		return ret;
	return decide_mmap_addr(false, true);
}

SEC("lsm/mmap_addr")
int BPF_PROG(mg_mmap_addr_lsm_kfunc, unsigned long addr, int ret)
{
	if (ret)
		return ret;
	return decide_mmap_addr(true, true);
}

/* fork's whole commit at once, where the BPF LSM is active (decide_fork_commit). */
SEC("lsm/task_alloc")
int BPF_PROG(mg_fork_lsm, struct task_struct *task, unsigned long clone_flags, int ret)
{
	if (ret)
		return ret;
	return decide_fork_commit(clone_flags, false);
}

SEC("lsm/task_alloc")
int BPF_PROG(mg_fork_lsm_kfunc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	if (ret)
		return ret;
	return decide_fork_commit(clone_flags, true);
}

/* The syscalls that can release commit: the caller's share is re-read as they return. */
SEC("fexit/__x64_sys_munmap")
int BPF_PROG(mg_munmap_exit)
{
	settle_current();
	return 0;
}

SEC("fexit/__x64_sys_brk")
int BPF_PROG(mg_brk_exit)
{
	settle_current();
	return 0;
}

SEC("fexit/__x64_sys_mremap")
int BPF_PROG(mg_mremap_exit)
{
	settle_current();
	return 0;
}

SEC("fexit/__x64_sys_mprotect")
int BPF_PROG(mg_mprotect_exit)
{
	settle_current();
	return 0;
}

/*
 * An address space is gone (forget_mm).  A tracepoint, not fentry: a
 * skipped exit would leave a dead mm's share in the sum, and a tracepoint
 * is skipped far less (never where tracepoints run with preemption off, as
 * on 6.1 and 6.12; 7.3 counted a few misses).
 */
SEC("tp_btf/exit_mmap")
int BPF_PROG(mg_exit_mmap, struct mm_struct *mm)
{
	forget_mm(mm);
	return 0;
}

/*
 * The point of no return of an exec: the new mm is in place and nothing of
 * the new program is mapped yet.  Inside a container under policy, this is
 * where a runtime helper becomes the workload.
 */
SEC("fexit/begin_new_exec")
int BPF_PROG(mg_exec, struct linux_binprm *bprm, int ret)
{
	if (!ret)
		govern_exec();
	return 0;
}

/*
 * The exec succeeded.  A trampoline can skip mg_exec (see above); this
 * tracepoint is a second chance (skipped only where tracepoints run
 * preemptible, and then rarely): it tracks the mm if mg_exec did not, and
 * otherwise only re-reads its share.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(mg_exec_done, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	govern_exec();
	return 0;
}

/* A fork, once its child exists: the child's address space is governed too. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(mg_fork, struct task_struct *parent, struct task_struct *child)
{
	govern_fork(parent, child);
	return 0;
}

/* The fork gate: attached to each container cgroup with a fork gate (decide_fork). */
SEC("lsm_cgroup/task_alloc")
int BPF_PROG(mg_task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	return decide_fork(false);
}

SEC("lsm_cgroup/task_alloc")
int BPF_PROG(mg_task_alloc_kfunc, struct task_struct *task, unsigned long clone_flags)
{
	return decide_fork(true);
}
