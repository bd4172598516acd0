/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The state all containers share, pinned under MG_PIN_DIR:
 *
 *   maps/{policies,stats,mms,containers,names,globals,events,dead}
 *   links/{oom_victim,oom_signal,reclaim_begin,reclaim_end,cgroup_rmdir}
 *                               the monitor (monitor.bpf.c), always
 *   links/{vm_enough,mmap_file,mprotect,mmap_addr,shm_alloc,inode_alloc,inode_free,
 *         *_exit,exit_mmap,exec,exec_done,fork}
 *                               the enforcement object, where it loads
 *   progs/task_alloc            the lsm_cgroup program, attached per container
 *   links/fork-gate-<cgroup id>        one per container with a fork gate
 *
 * A tree of another layout is retired beside it (mg_shared_serve_retired).
 *
 * The tree is built in a staging directory and renamed into place, so a
 * hook killed half-way leaves either the whole tree or none of it.  Every
 * change happens under an flock on MG_LOCK_FILE, which the kernel drops
 * when its holder dies.
 */
#ifndef MG_SHARED_H
#define MG_SHARED_H

#include <stdbool.h>
#include <stdint.h>

#include "memgate.h"
#include "mg_error.h"
#include "mg_policy.h"

#define MG_LOCK_DIR "/run/memgate"
#define MG_LOCK_FILE MG_LOCK_DIR "/lock"
/* <cgroup id>: the Kubernetes names of a container under policy, for status. */
#define MG_KUBE_DIR MG_LOCK_DIR "/kube"

struct mg_shared {
	int policies;
	int stats;
	int mms;
	int containers;
	int globals;
	int events;
	int names;
	int dead;
	int lock;
};

#define MG_SHARED_INIT { -1, -1, -1, -1, -1, -1, -1, -1, -1 }

/* What the running kernel can enforce, from what was loaded and attached. */
struct mg_support {
	bool monitor;	  /* the monitor programs (tp_btf) are attached */
	bool commit;	  /* fmod_ret on security_vm_enough_memory_mm */
	bool fork_gate;	  /* lsm_cgroup loaded and the BPF LSM active */
	char why_not_commit[256];
	char why_not_fork[256];
};

/*
 * 0 when this process is root on the host; otherwise "needs root ...",
 * saying why (another uid, or uid 0 of a user namespace: a rootless runtime).
 */
int mg_need_root(struct mg_error *err);

/*
 * Take MG_LOCK_FILE, waiting at most timeout_ms for another holder, and
 * check that /run/memgate, the lock, /sys/fs/bpf and every tree of
 * memgate's in it are root's alone; otherwise one line naming the path and
 * the fix.
 */
int mg_shared_lock(struct mg_shared *s, unsigned int timeout_ms, struct mg_error *err);

/* Open the pinned maps; load and pin everything first when create is set. */
int mg_shared_open(struct mg_shared *s, bool create, struct mg_error *err);

/* Whether the shared state exists at all (one stat, no BPF). */
bool mg_shared_exists(void);

/*
 * Before loading (s = NULL) only what needs no BPF is known: whether the
 * BPF LSM is active.  A knob refused then never costs a load and unload.
 */
void mg_shared_support(struct mg_support *support, const struct mg_shared *s);

/* Register a container's policy.  Undoes all of it on failure. */
int mg_shared_add(struct mg_shared *s, const char *id, uint64_t cgroup_id, int cgroup_fd,
		  const struct mg_policy *policy, struct mg_error *err);

/*
 * Remember the Kubernetes names of the container of cgroup_id, under the
 * lock, after mg_shared_add(); forgetting the cgroup forgets them.
 */
int mg_shared_set_kube(uint64_t cgroup_id, const struct mg_kube_names *names,
		       struct mg_error *err);

/* The names mg_shared_set_kube() kept; -ENOENT for a container without. */
int mg_shared_get_kube(uint64_t cgroup_id, struct mg_kube_names *names);

/* Forget a container by id; a no-op when it has no entry. */
int mg_shared_remove(struct mg_shared *s, const char *id, struct mg_error *err);

/* Forget a cgroup and everything keyed by it, its container's entry included. */
void mg_shared_forget_cgroup(struct mg_shared *s, uint64_t cgroup_id);

/*
 * Forget the cgroups removed since the last run, as the programs queued
 * them: a failed start or a lost poststop leaves nothing once any hook runs.
 * Costs one pop per removed cgroup, and no walk unless the queue overflowed.
 */
void mg_shared_prune(struct mg_shared *s);

/*
 * Forget every cgroup that has an entry and is gone, whether or not it has
 * a policy (a start killed before its policy was in place); a walk over all
 * entries.  Returns how many were forgotten, or -errno when liveness can not
 * be told (then it stops: nothing is forgotten on a guess).
 */
int mg_shared_forget_dead(struct mg_shared *s, struct mg_error *err);

/*
 * Unpin everything when no policy is left; the kernel then unloads it.  A
 * no-op unless mg_shared_open() opened this layout's maps.
 */
int mg_shared_release_if_unused(struct mg_shared *s, struct mg_error *err);

/*
 * memgate preload: keep this layout's tree loaded with no policy (a keep
 * mark in it, which mg_shared_release_if_unused honours), so a container's
 * start never pays the load; or drop the mark and release the tree if no
 * policy is left.  With the lock held and the tree open.
 */
int mg_shared_keep(struct mg_shared *s, bool keep, struct mg_error *err);
bool mg_shared_kept(void);

void mg_shared_close(struct mg_shared *s);

/*
 * Upgrades.  With the lock held, a tree of an older layout at MG_PIN_DIR is
 * moved to MG_PIN_DIR-retired-<layout>-<pid>, never written as ours: its
 * programs keep serving its containers.  A newer layout's tree is left
 * alone, and mg_shared_open() refuses it with -EPROTO.  Each retired tree then forgets the
 * container stopped_id (NULL: none) and the cgroups that are gone, and is
 * removed with its last container.
 */
void mg_shared_serve_retired(const char *stopped_id);

/* Whether any retired tree is still served (one readdir, no BPF). */
bool mg_shared_retired_exist(void);

struct mg_retired {
	char path[512];
	uint64_t layout;	 /* 0 when its globals can not be read */
	unsigned int containers; /* policies it still holds */
};

/*
 * Retired trees, and MG_PIN_DIR when it holds another layout not yet moved:
 * how many there are, the first max of them in out.
 */
size_t mg_shared_list_retired(struct mg_retired *out, size_t max);

/*
 * How many times the kernel skipped one of memgate's programs, summed over
 * the programs its pinned links run (bpf_prog_info.recursion_misses).  A
 * skipped decision is a charge nobody decided: nonzero means the kernel let
 * allocations through memgate (docs/design.md, "Skipped runs").
 */
uint64_t mg_shared_skipped_runs(void);

/*
 * memgate gc --all: remove every tree of memgate state, this layout's, the
 * retired ones and what killed hooks left; how many.
 */
int mg_shared_remove_all(struct mg_error *err);
int mg_container_key(const char *id, struct mg_container_key *key, struct mg_error *err);

#endif
