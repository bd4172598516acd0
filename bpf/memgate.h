/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Types shared by memgate's BPF programs and user space.  The pinned maps
 * under MG_PIN_DIR hold these; MG_LAYOUT_VERSION changes with any layout
 * change, so a hook never reads maps written by another layout.
 */
#ifndef MEMGATE_H
#define MEMGATE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MG_PIN_DIR "/sys/fs/bpf/memgate"
#ifndef MG_LAYOUT_TEST
#define MG_LAYOUT_VERSION 5
#else
/*
 * The "older memgate" of test/bats/upgrade.bats (make builds it into
 * build/test/layout-test): another version and a policy value of another
 * size, as a real layout change brings.
 */
#define MG_LAYOUT_VERSION 2
#endif

#define MG_MAX_CGROUPS 4096	/* containers under policy at once */
/*
 * Entries of the maps every container draws from: address spaces tracked
 * for commit accounting (memgate_mms) and shared memory objects counted
 * (mg_shm, shmem inodes).  Each container under policy may always hold
 * *_RESERVE entries of its own; beyond that it draws from a pool all
 * share, up to *_SHARE in all.  Each map holds every reserve and the pool,
 * so no container can take another's reserve, and one container takes at
 * most *_SHARE of the pool.
 */
#ifndef MG_CAPACITY_TEST
#define MG_MMS_RESERVE 4
#define MG_MMS_POOL 16384
#define MG_MMS_SHARE 4096
#define MG_SHM_RESERVE 4
#define MG_SHM_POOL 16384
#define MG_SHM_SHARE 4096
#else
/* The small capacity test/bats/capacity.bats runs (build/test/capacity-test). */
#define MG_MMS_RESERVE 4
#define MG_MMS_POOL 8
#define MG_MMS_SHARE 12
#define MG_SHM_RESERVE 4
#define MG_SHM_POOL 8
#define MG_SHM_SHARE 12
#endif
#define MG_MAX_MMS (MG_MAX_CGROUPS * MG_MMS_RESERVE + MG_MMS_POOL)
#define MG_MAX_SHM (MG_MAX_CGROUPS * MG_SHM_RESERVE + MG_SHM_POOL)
#define MG_MAX_CGROUP_LEVEL 16	/* deepest cgroup level searched for a policy */
#define MG_EVENTS_BYTES (256 * 1024)
#define MG_ID_LEN 256		/* container ids longer than this are refused */

/*
 * Pages and bytes at a page shift: the one conversion, for the programs
 * (page_shift) and user space (mg_kernel_page_shift()).  Policies hold
 * bytes; the programs count pages.  Signed: a container's commit may dip
 * below 0 (a denial's bytes are these bits, unsigned).
 */
static inline __attribute__((always_inline)) __s64 mg_pages_to_bytes(__s64 pages, __u32 shift)
{
	return pages * ((__s64)1 << shift);
}

/* The whole pages in bytes (rounded down): a limit's or a gate's pages. */
static inline __attribute__((always_inline)) __s64 mg_bytes_to_pages(__u64 bytes, __u32 shift)
{
	return bytes >> shift;
}

enum mg_mode_flags {
	MG_AUDIT = 1 << 0,   /* record what would be denied, deny nothing */
	MG_MONITOR = 1 << 1, /* no knob: OOM kills, reclaim and usage recorded only */
};

/* memgate_policies: cgroup id -> policy, written by the hook only. */
struct mg_policy {
#ifdef MG_LAYOUT_TEST
	__u64 layout_test;
#endif
	__u64 commit_limit;  /* bytes of committed private memory, 0 = none */
	__u64 pressure_gate; /* bytes in use (not counting file cache), 0 = none */
	__u64 fork_gate;     /* bytes in use above which fork fails, 0 = none */
	__u32 flags;	     /* enum mg_mode_flags */
	__u32 level;	     /* the cgroup's level in the cgroup2 hierarchy */
};

enum mg_kind {
	MG_KIND_COMMIT = 1,   /* commit limit */
	MG_KIND_PRESSURE = 2, /* pressure gate */
	MG_KIND_FORK = 3,     /* fork gate */
	MG_KIND_OOM_KILL = 4, /* not a decision: the kernel's OOM killer took a victim */
};

struct mg_denial {
	__u64 timestamp_ns; /* CLOCK_BOOTTIME */
	__u64 requested;    /* bytes asked for (0 for fork) */
	__u64 measured;	    /* committed or in-use bytes at the time */
	__u64 limit;	    /* the limit or gate it was held to */
	__u32 pid;
	__u32 kind; /* enum mg_kind */
	char comm[16];
};

/* memgate_stats: cgroup id -> decisions, written by the programs. */
struct mg_stats {
	__u64 commit_allowed;
	__u64 commit_denied;
	__u64 commit_audited;
	__u64 fork_allowed;
	__u64 fork_denied;
	__u64 fork_audited;
	__s64 committed_pages; /* sum of the tracked address spaces' commit */
	__s64 committed_peak_pages;
	struct mg_denial last_denial;
	/* Written by the monitor programs (monitor.bpf.c). */
	__u64 oom_kills;
	__u64 reclaim_episodes; /* memcg limit reclaim, begin to end */
	__u64 reclaim_ns;	/* total time in them */
	struct mg_denial last_oom_kill; /* kind MG_KIND_OOM_KILL, pid and comm of the victim */
	/* Written by the enforcement programs: the container's memgate_mms entries. */
	__u64 mms;	     /* entries it holds (reserve and pool) */
	__u64 mms_untracked; /* address spaces it had no room for: its untracked ones fail closed */
	/* The same for its mg_shm entries, the shared memory objects it created. */
	__u64 shm;	   /* entries it holds (reserve and pool) */
	__u64 shm_no_room; /* objects it had no room for: refused (see bind_shared) */
};

/*
 * memgate_mms: mm_struct address -> the container governing it, and what it
 * adds to that container's commit.  An address space is governed from the
 * exec that created it inside a container under policy, and every fork of a
 * governed one is governed too.  The runtime's helpers (runc or crun init,
 * the init of runc exec) never exec'd inside the container, so they have no
 * entry until they exec the workload.
 */
struct mg_mm {
	__u64 cgroup_id; /* the policy's cgroup */
	__s64 pages;	 /* data_vm + stack_vm, plus charges allowed but not yet mapped */
	__u64 pooled;	 /* 1: the entry holds a slot of the shared pool, 0: of its reserve */
};

/* memgate_containers: container id -> cgroup, so poststop finds its entry. */
struct mg_container_key {
	char id[MG_ID_LEN];
};

struct mg_container {
	__u64 cgroup_id;
	__u64 fork_link_id; /* id of the lsm_cgroup link, 0 when none */
};

/* memgate_globals[0]: counters that belong to no container. */
struct mg_globals {
	__u64 layout_version;
	__u64 events_dropped; /* ring buffer full */
	/*
	 * Times a container had no room in memgate_mms for a governed address
	 * space (the sum of mg_stats.mms_untracked, never reset).  Only while
	 * it is not 0 do the programs look up the policy of an mm without an
	 * entry: in a container that overflowed, every such mm is governed,
	 * helpers included, and fails closed.
	 */
	__u64 mms_untracked;
	__u64 dead_dropped; /* memgate_dead full: the next hook prunes by a full scan */
	/*
	 * 0 when the enforcement object (memgate.bpf.c) is loaded and attached,
	 * else -errno of the step that failed: only the monitor runs then.
	 */
	__s64 enforce_error;
	__u64 mms_pool_used; /* memgate_mms entries drawn from the shared pool */
	__u64 shm_pool_used; /* mg_shm entries drawn from its shared pool */
};

/*
 * memgate_dead: ids of removed cgroups that had a policy, queued by the
 * programs for the next hook run to prune (a start that failed after the
 * hook ran gets no poststop).  memgate_names: cgroup id -> container key.
 */

/* One record in the memgate_events ring buffer: a denial or an OOM kill (d.kind). */
struct mg_event {
	__u64 cgroup_id;
	struct mg_denial d;
	__u32 audited; /* 1: would have been denied, allowed by audit mode */
	__u32 pad;
};

#endif
