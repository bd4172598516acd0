/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The running kernel's capabilities as memgate reads them without loading
 * anything (core/kernel.c): from vmlinux BTF, kallsyms and securityfs.
 * Probing by loading is mg_probe.h's.
 */
#ifndef MG_KERNEL_H
#define MG_KERNEL_H

#include <stdbool.h>

/* Where the pressure measure reads a container's memory in use from. */
enum mg_memcg_source {
	MG_MEMCG_KFUNCS,	/* the BPF memcg kfuncs (bpf_mem_cgroup_*), Linux 7.x */
	MG_MEMCG_CORE_COMPACT,	/* CO-RE reads, stats slots through the kernel's index table (6.11+) */
	MG_MEMCG_CORE_ITEM,	/* CO-RE reads, stats indexed by item (before 6.11) */
};

/*
 * Each computed once per run, the first time it is asked, and only then:
 * a hook that refuses a knob before loading never reads vmlinux BTF.
 */
/* The memcg kfuncs memgate uses are named in vmlinux BTF (the cheap check). */
bool mg_kernel_memcg_kfuncs(void);
/* "bpf" is in /sys/kernel/security/lsm (mounting securityfs if need be). */
bool mg_kernel_bpf_lsm(void);
enum mg_memcg_source mg_kernel_memcg_source(void);

/* The page size's log2: the programs' page_shift, and user space's mg_pages_to_bytes(). */
unsigned int mg_kernel_page_shift(void);
const char *mg_memcg_source_name(enum mg_memcg_source source);
/* "kfuncs", "co-re-indexed" or "co-re-item", for JSON. */
const char *mg_memcg_source_id(enum mg_memcg_source source);

#endif
