// SPDX-License-Identifier: GPL-2.0-only
/*
 * make bench's floor: one empty program on each attach point memgate uses,
 * so an instruction count with only these attached is what the kernel's
 * trampoline, shim or tracepoint costs before memgate's code runs.  Named as
 * memgate's pinned links are (core/loader.c), with _lsm for the BPF LSM
 * variants; test/bench-count.sh picks those memgate attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fmod_ret/security_vm_enough_memory_mm")
int BPF_PROG(vm_enough, struct mm_struct *mm, long pages, int ret)
{
	return ret;
}

SEC("fmod_ret/security_mmap_file")
int BPF_PROG(mmap_file, struct file *file, unsigned long prot, unsigned long flags, int ret)
{
	return ret;
}

SEC("lsm/mmap_file")
int BPF_PROG(mmap_file_lsm, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	return ret;
}

SEC("fmod_ret/security_file_mprotect")
int BPF_PROG(mprotect, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	return ret;
}

SEC("lsm/file_mprotect")
int BPF_PROG(mprotect_lsm, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot,
	     int ret)
{
	return ret;
}

SEC("fmod_ret/security_mmap_addr")
int BPF_PROG(mmap_addr)
{
	return 0;
}

SEC("lsm/mmap_addr")
int BPF_PROG(mmap_addr_lsm)
{
	return 0;
}

SEC("fmod_ret/security_shm_alloc")
int BPF_PROG(shm_alloc)
{
	return 0;
}

SEC("lsm/shm_alloc_security")
int BPF_PROG(shm_alloc_lsm)
{
	return 0;
}

SEC("fmod_ret/security_inode_alloc")
int BPF_PROG(inode_alloc)
{
	return 0;
}

SEC("lsm/inode_alloc_security")
int BPF_PROG(inode_alloc_lsm)
{
	return 0;
}

SEC("fentry/security_inode_free")
int BPF_PROG(inode_free)
{
	return 0;
}

SEC("lsm/inode_free_security")
int BPF_PROG(inode_free_lsm)
{
	return 0;
}

SEC("fexit/__x64_sys_munmap")
int BPF_PROG(munmap_exit)
{
	return 0;
}

SEC("fexit/__x64_sys_brk")
int BPF_PROG(brk_exit)
{
	return 0;
}

SEC("fexit/__x64_sys_mremap")
int BPF_PROG(mremap_exit)
{
	return 0;
}

SEC("fexit/__x64_sys_mprotect")
int BPF_PROG(mprotect_exit)
{
	return 0;
}

SEC("tp_btf/exit_mmap")
int BPF_PROG(exit_mmap)
{
	return 0;
}

SEC("fexit/begin_new_exec")
int BPF_PROG(exec)
{
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_done)
{
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork)
{
	return 0;
}

/* The monitor's hot one: every signal, SIGCHLD of each fork's child included. */
SEC("tp_btf/signal_generate")
int BPF_PROG(oom_signal)
{
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgroup_rmdir)
{
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(oom_victim)
{
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(reclaim_begin)
{
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(reclaim_end)
{
	return 0;
}

/* Allows every fork; attached to one cgroup, the kernel's shim runs for all. */
SEC("lsm_cgroup/task_alloc")
int BPF_PROG(task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	return 1;
}

/*
 * The deciders as lsm_cgroup programs would be (attached to another
 * cgroup): what a bystander would meet instead of mmap_file_lsm and
 * mprotect_lsm, the kernel's shim.
 */
SEC("lsm_cgroup/mmap_file")
int BPF_PROG(mmap_file_cgroup, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags)
{
	return 1;
}

SEC("lsm_cgroup/file_mprotect")
int BPF_PROG(mprotect_cgroup, struct vm_area_struct *vma, unsigned long reqprot, unsigned long prot)
{
	return 1;
}
