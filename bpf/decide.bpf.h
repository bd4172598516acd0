/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * memgate's decisions and the accounting they read, free of how they are
 * attached: memgate.bpf.c's programs call each decide_* with what their
 * hook gives, and return its verdict.  Included by memgate.bpf.c after the
 * maps (maps.bpf.h), its load-time constants and compat.bpf.h.
 */
#ifndef MG_DECIDE_BPF_H
#define MG_DECIDE_BPF_H

#define ENOMEM 12
#define EAGAIN 11

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

/*
 * A direct (BTF) load: no helper call in the hottest path.  Every caller
 * passes an mm the verifier knows as a kernel pointer.
 */
static __always_inline __s64 mm_commit_pages(struct mm_struct *mm)
{
	return mm->data_vm + mm->stack_vm;
}

/* Set an mm's share, keeping the cgroup's sum exact under concurrency. */
static __always_inline void set_share(struct mg_mm *entry, struct mg_stats *stats, __s64 pages)
{
	__s64 old = __sync_lock_test_and_set(&entry->pages, pages);

	__sync_fetch_and_add(&stats->committed_pages, pages - old);
}

/*
 * The maps every container draws entries from (memgate.h): memgate_mms,
 * address spaces, and mg_shm, shared memory objects.  Each room is a
 * count in the container's mg_stats, a count of the pool's in mg_globals,
 * and the sizes; kind is a constant, so each call folds to one of them.
 */
enum room_kind { ROOM_MMS, ROOM_SHM };

#define ROOM_HELD(stats, kind) ((kind) == ROOM_SHM ? &(stats)->shm : &(stats)->mms)
#define ROOM_POOL_USED(g, kind) ((kind) == ROOM_SHM ? &(g)->shm_pool_used : &(g)->mms_pool_used)
#define ROOM_RESERVE(kind) ((kind) == ROOM_SHM ? MG_SHM_RESERVE : MG_MMS_RESERVE)
#define ROOM_POOL(kind) ((kind) == ROOM_SHM ? MG_SHM_POOL : MG_MMS_POOL)
#define ROOM_SHARE(kind) ((kind) == ROOM_SHM ? MG_SHM_SHARE : MG_MMS_SHARE)

/*
 * Take a slot for a new entry of the container: 0 from its reserve, 1 from
 * the shared pool, -1 when it has no room (its reserve and its share of
 * the pool taken, or the pool empty).  Another container's reserve is
 * never taken (see MG_MAX_MMS, MG_MAX_SHM).
 */
static __always_inline int claim_slot(struct mg_stats *stats, struct mg_globals *g, int kind)
{
	__u64 held = __sync_fetch_and_add(ROOM_HELD(stats, kind), 1);

	if (held < ROOM_RESERVE(kind))
		return 0;
	if (held < ROOM_SHARE(kind)) {
		if (__sync_fetch_and_add(ROOM_POOL_USED(g, kind), 1) < ROOM_POOL(kind))
			return 1;
		__sync_fetch_and_add(ROOM_POOL_USED(g, kind), -1);
	}
	__sync_fetch_and_add(ROOM_HELD(stats, kind), -1);
	return -1;
}

/* Whether claim_slot would find room now: a decision before the entry exists. */
static __always_inline bool has_room(struct mg_stats *stats, struct mg_globals *g, int kind)
{
	__u64 held = *ROOM_HELD(stats, kind);

	return held < ROOM_RESERVE(kind) ||
	       (held < ROOM_SHARE(kind) && *ROOM_POOL_USED(g, kind) < ROOM_POOL(kind));
}

/* Give a slot back; stats is NULL once the container is forgotten. */
static __always_inline void release_slot(struct mg_stats *stats, __u64 pooled, int kind)
{
	struct mg_globals *g = globals();

	if (stats)
		__sync_fetch_and_add(ROOM_HELD(stats, kind), -1);
	if (pooled && g)
		__sync_fetch_and_add(ROOM_POOL_USED(g, kind), -1);
}

/*
 * Add fresh (pages 0) under key, within the container's room; the entry
 * now under key (the winner of a race for the same key), NULL when it has
 * no room.
 */
static __always_inline struct mg_mm *add_entry(void *map, __u64 key, struct mg_mm *fresh,
					       struct mg_stats *stats, struct mg_globals *g,
					       int kind)
{
	int pooled = claim_slot(stats, g, kind);

	if (pooled < 0)
		return NULL;
	fresh->pooled = pooled;
	/* Lost a race for the same key (EEXIST), or the map is full: the slot goes back. */
	if (bpf_map_update_elem(map, &key, fresh, BPF_NOEXIST))
		release_slot(stats, pooled, kind);
	return bpf_map_lookup_elem(map, &key);
}

/* An entry leaves its container's sum, and the map, and gives its slot back. */
static __always_inline void drop_entry(void *map, __u64 key, struct mg_mm *entry, int kind)
{
	struct mg_stats *stats = bpf_map_lookup_elem(&mg_stats, &entry->cgroup_id);
	__u64 pooled;

	if (stats)
		set_share(entry, stats, 0);
	/* Read before the delete: a freed element may be reused at once. */
	pooled = entry->pooled;
	if (!bpf_map_delete_elem(map, &key))
		release_slot(stats, pooled, kind);
}

/*
 * Start governing an mm.  A container with no room left counts it in its
 * own mms_untracked: from then on its mms without an entry fail closed
 * (governed()), and no other container's are touched.
 */
static __always_inline struct mg_mm *track_mm(struct mm_struct *mm, __u64 cgroup_id,
					      struct mg_stats *stats)
{
	__u64 key = (__u64)mm;
	struct mg_globals *g = globals();
	struct mg_mm *entry;

	if (!g)
		return NULL;
	entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (entry && entry->cgroup_id != cgroup_id) {
		/*
		 * A stale entry of another container (an mm address reused
		 * after a skipped exit): leave its sum and its room first.
		 */
		drop_entry(&mg_mms, key, entry, ROOM_MMS);
		entry = NULL;
	}
	if (!entry) {
		struct mg_mm fresh = { .cgroup_id = cgroup_id };

		entry = add_entry(&mg_mms, key, &fresh, stats, g, ROOM_MMS);
	}
	if (!entry || entry->cgroup_id != cgroup_id) {
		__sync_fetch_and_add(&stats->mms_untracked, 1);
		__sync_fetch_and_add(&g->mms_untracked, 1);
		return NULL;
	}
	set_share(entry, stats, mm_commit_pages(mm));
	return entry;
}

struct governed {
	struct mg_mm *entry; /* NULL only when memgate_mms is full */
	struct mg_policy *policy;
	struct mg_stats *stats;
	__u64 cgroup_id;
};

/*
 * Whether mm is governed, and by which policy: one lookup for every mm that
 * is not.  In a container that had no room in memgate_mms for one of its
 * address spaces, an mm without an entry may be a workload's that could not
 * be added, so it is governed by the policy of its task's cgroup, as if the
 * runtime had no helpers.  Other containers' helpers stay ungoverned.
 */
static __always_inline bool governed(struct mm_struct *mm, struct governed *gov)
{
	__u64 key = (__u64)mm;
	struct mg_globals *g;

	gov->entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (gov->entry) {
		gov->cgroup_id = gov->entry->cgroup_id;
		gov->policy = bpf_map_lookup_elem(&mg_policies, &gov->cgroup_id);
	} else {
		g = globals();
		if (!g || !g->mms_untracked)
			return false;
		gov->policy = find_policy(&gov->cgroup_id);
	}
	if (!gov->policy)
		return false;
	gov->stats = bpf_map_lookup_elem(&mg_stats, &gov->cgroup_id);
	if (!gov->stats || (!gov->entry && !gov->stats->mms_untracked))
		return false;
	if (!gov->entry)
		gov->entry = track_mm(mm, gov->cgroup_id, gov->stats);
	return true;
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

	bpf_get_current_comm(d.comm, sizeof(d.comm));
	if (!audited)
		stats->last_denial = d;
	emit_event(cgroup_id, &d, audited);
}

static __always_inline int check_commit(struct mm_struct *mm, long pages, struct governed *gov)
{
	struct mg_stats *stats = gov->stats;
	__s64 limit = gov->policy->commit_limit >> page_shift;
	__s64 now = mm_commit_pages(mm);
	__s64 committed;

	/* Whatever this mm released since its last charge counts now. */
	if (gov->entry)
		set_share(gov->entry, stats, now);
	committed = stats->committed_pages;
	/*
	 * An mm memgate_mms had no room for is counted nowhere: fail closed,
	 * it may commit nothing more.
	 */
	if (!gov->entry)
		committed = limit;
	if (committed + pages > limit) {
		bool audit = gov->policy->flags & MG_AUDIT;

		record(stats, gov->cgroup_id, MG_KIND_COMMIT, pages, committed,
		       gov->policy->commit_limit, audit);
		if (!audit) {
			__sync_fetch_and_add(&stats->commit_denied, 1);
			return -ENOMEM;
		}
		__sync_fetch_and_add(&stats->commit_audited, 1);
	}
	/* Count the charge now; the next re-read corrects it if it failed. */
	if (gov->entry)
		set_share(gov->entry, stats, now + pages);
	committed = stats->committed_pages;
	if (committed > stats->committed_peak_pages)
		stats->committed_peak_pages = committed;
	return 0;
}

static __always_inline int check_pressure(long pages, struct governed *gov, bool kfuncs)
{
	struct mg_policy *policy = gov->policy;
	__s64 in_use = in_use_pages(policy->level, kfuncs);
	bool audit = policy->flags & MG_AUDIT;

	if (in_use + pages <= (__s64)(policy->pressure_gate >> page_shift))
		return 0;
	record(gov->stats, gov->cgroup_id, MG_KIND_PRESSURE, pages, in_use, policy->pressure_gate,
	       audit);
	if (audit) {
		__sync_fetch_and_add(&gov->stats->commit_audited, 1);
		return 0;
	}
	__sync_fetch_and_add(&gov->stats->commit_denied, 1);
	return -ENOMEM;
}

/* The commit decision: pressure gate, then commit limit, for pages about to be committed. */
static __always_inline int decide_governed(struct mm_struct *mm, long pages,
					   struct governed *gov, bool kfuncs)
{
	int verdict = 0;

	if (!gov->policy->commit_limit && !gov->policy->pressure_gate)
		return 0;
	if (gov->policy->pressure_gate)
		verdict = check_pressure(pages, gov, kfuncs);
	if (!verdict && gov->policy->commit_limit)
		verdict = check_commit(mm, pages, gov);
	if (!verdict)
		__sync_fetch_and_add(&gov->stats->commit_allowed, 1);
	return verdict;
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
#define MG_SHM_NORESERVE 010000

/* A charge an lsm/ program decided already, at the syscall's own hook. */
static __always_inline bool decided_by_lsm(void)
{
	long nr;

	if (!lsm_deciders)
		return false;
	nr = syscall_nr();
	return nr == MG_NR_MMAP || nr == MG_NR_MPROTECT || nr == MG_NR_PKEY_MPROTECT ||
	       nr == MG_NR_SHMGET || nr == MG_NR_BRK || nr == MG_NR_MREMAP || nr == MG_NR_CLONE ||
	       nr == MG_NR_FORK || nr == MG_NR_CLONE3;
}

static __always_inline int decide_charge(struct mm_struct *mm, long pages, bool kfuncs)
{
	struct governed gov;

	if (!governed(mm, &gov) || decided_by_lsm())
		return 0;
	return decide_governed(mm, pages, &gov, kfuncs);
}

/*
 * Shared memory: a shared anonymous mapping (MAP_SHARED of nothing or of
 * /dev/zero) and a SysV segment are each one shmem inode, which the kernel
 * charges whole when it creates it (shmem_acct_size) and uncharges when it
 * evicts it, whoever still maps it.  Such a commitment belongs to no mm's
 * data_vm, so memgate keeps it in mg_shm, keyed by the inode, in the sum of
 * the container that created it, from the inode's creation to its free.
 * mg_shm is shared like memgate_mms: a reserve per container and a pool
 * (claim_slot), so a container that makes many objects runs out of room
 * alone.  It is private to this object (never pinned) and preallocated.
 *
 * The inode does not exist when the commitment is decided (mmap_file,
 * shm_alloc): the decision leaves the allowed size in the deciding thread's
 * own mg_pending (task local storage: it goes with the thread, and no
 * other thread, of this container or another, can take or evict it), and
 * the inode's creation in the same syscall, on a tmpfs superblock, moves it
 * to mg_shm.
 */
#define MG_MAP_SHARED_ANON 0x20 /* MAP_ANONYMOUS */
#define MG_SHM_HUGETLB 04000
#define MG_TMPFS_MAGIC 0x01021994
#define MG_DEV_ZERO ((1U << 20) | 5) /* MKDEV(1, 5) */
#define MG_S_IFMT 00170000
#define MG_S_IFCHR 0020000

struct mg_pending {
	__u64 cgroup_id;
	__s64 pages; /* 0: nothing pending */
	__s64 nr;    /* the syscall that decided it */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mg_pending);
} mg_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_SHM);
	__type(key, __u64);
	__type(value, struct mg_mm);
} mg_shm SEC(".maps");

/* Leave pages for the inode this thread's syscall creates next; false when it cannot. */
static __always_inline bool set_pending(__u64 cgroup_id, __s64 pages, long nr)
{
	struct mg_pending *p = bpf_task_storage_get(&mg_pending, bpf_get_current_task_btf(), NULL,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!p)
		return false;
	p->cgroup_id = cgroup_id;
	p->nr = nr;
	p->pages = pages;
	return true;
}

/* Nothing pending for this thread: an object made uncounted binds no older decision. */
static __always_inline void clear_pending(void)
{
	struct mg_pending *p = bpf_task_storage_get(&mg_pending, bpf_get_current_task_btf(), NULL, 0);

	if (p)
		p->pages = 0;
}

/*
 * A container has no room in mg_shm for an object it creates: with a
 * commit limit enforced, refused (-ENOMEM), counted in its shm_no_room and
 * recorded as a commit denial; otherwise allowed, uncounted (1).
 */
static __always_inline int no_room(struct mg_policy *policy, struct mg_stats *stats,
				   __u64 cgroup_id, __s64 pages)
{
	bool audit = policy->flags & MG_AUDIT;

	if (!policy->commit_limit)
		return 1;
	record(stats, cgroup_id, MG_KIND_COMMIT, pages, stats->committed_pages,
	       policy->commit_limit, audit);
	if (audit) {
		__sync_fetch_and_add(&stats->commit_audited, 1);
		return 1;
	}
	__sync_fetch_and_add(&stats->shm_no_room, 1);
	__sync_fetch_and_add(&stats->commit_denied, 1);
	return -ENOMEM;
}

/*
 * Before a shared commitment is decided: 0 when the container has room for
 * the object and it will be counted, else no_room()'s answer.
 */
static __always_inline int shared_room(struct governed *gov, __s64 pages)
{
	struct mg_globals *g = globals();

	if (g && has_room(gov->stats, g, ROOM_SHM))
		return 0;
	return no_room(gov->policy, gov->stats, gov->cgroup_id, pages);
}

static __always_inline bool tmpfs_inode(struct inode *inode)
{
	return BPF_CORE_READ(inode, i_sb, s_magic) == MG_TMPFS_MAGIC;
}

/*
 * A shmem inode is being created: if this thread's syscall decided a shared
 * commitment, it is this inode's from now on.  The pages move from the mm's
 * pending charge (dropped by re-reading the mm) to mg_shm, so the sum holds
 * them once.  A container with no room left (the decision checked, but
 * another of its threads may have taken the last slot since) gets no_room():
 * under lsm/ the creation fails.  The fentry fallback (can_fail false)
 * cannot fail it: the pages then stay in the container's sum until its
 * policy is gone, so it still fails closed, alone.
 */
static __always_inline int bind_shared(struct inode *inode, bool can_fail)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	__u64 key = (__u64)inode, mm_key = (__u64)mm;
	struct mg_mm fresh = {}, *entry;
	struct mg_pending *pending, p;
	struct mg_policy *policy;
	struct mg_stats *stats;
	struct mg_globals *g;
	int verdict;

	if (!tmpfs_inode(inode))
		return 0;
	pending = bpf_task_storage_get(&mg_pending, bpf_get_current_task_btf(), NULL, 0);
	if (!pending || pending->pages <= 0)
		return 0;
	p = *pending;
	pending->pages = 0;
	if (p.nr != syscall_nr())
		return 0;
	stats = bpf_map_lookup_elem(&mg_stats, &p.cgroup_id);
	policy = bpf_map_lookup_elem(&mg_policies, &p.cgroup_id);
	g = globals();
	if (!stats || !policy || !g)
		return 0;
	/* An entry under this address is a freed inode's whose free went unseen. */
	entry = bpf_map_lookup_elem(&mg_shm, &key);
	if (entry)
		drop_entry(&mg_shm, key, entry, ROOM_SHM);
	fresh.cgroup_id = p.cgroup_id;
	entry = add_entry(&mg_shm, key, &fresh, stats, g, ROOM_SHM);
	if (entry) {
		set_share(entry, stats, p.pages);
	} else {
		verdict = no_room(policy, stats, p.cgroup_id, p.pages);
		if (verdict > 0)
			return 0;
		if (can_fail)
			return verdict;
		__sync_fetch_and_add(&stats->committed_pages, p.pages);
	}
	entry = bpf_map_lookup_elem(&mg_mms, &mm_key);
	if (mm && entry && entry->cgroup_id == p.cgroup_id)
		set_share(entry, stats, mm_commit_pages(mm));
	if (stats->committed_pages > stats->committed_peak_pages)
		stats->committed_peak_pages = stats->committed_pages;
	return 0;
}

/* A shmem inode is freed (the last mapping or attachment went): so is its commitment. */
static __always_inline void release_shared(struct inode *inode)
{
	__u64 key = (__u64)inode;
	struct mg_mm *obj;

	if (!tmpfs_inode(inode))
		return;
	obj = bpf_map_lookup_elem(&mg_shm, &key);
	if (obj)
		drop_entry(&mg_shm, key, obj, ROOM_SHM);
}

/* Whether mmap(MAP_SHARED) of file creates a shmem object: no file, or /dev/zero. */
static __always_inline bool shared_anon(struct file *file, unsigned long flags)
{
	struct inode *inode;

	if ((flags & MG_MAP_TYPE) == MG_MAP_PRIVATE)
		return false;
	if (!file)
		return true;
	inode = BPF_CORE_READ(file, f_inode);
	return inode && (BPF_CORE_READ(inode, i_mode) & MG_S_IFMT) == MG_S_IFCHR &&
	       BPF_CORE_READ(inode, i_rdev) == MG_DEV_ZERO;
}

/*
 * Decide pages a syscall commits: a private mapping's always; a shared
 * object's (shared) only when decide is set, the kernel's own charge
 * deciding it otherwise.  A shared object needs room in mg_shm first, and
 * leaves its pages pending for its inode.  Pending cannot be left (no
 * memory for this thread's storage): refused, when the limit is enforced.
 */
static __always_inline int decide_object(struct mm_struct *mm, long pages, struct governed *gov,
					 bool shared, bool decide, long nr, bool kfuncs)
{
	int verdict = 0, room = 0;

	if (shared) {
		room = shared_room(gov, pages);
		if (room < 0)
			return room;
		if (room)
			clear_pending();
	}
	if (!shared || decide) {
		verdict = decide_governed(mm, pages, gov, kfuncs);
		if (verdict)
			return verdict;
	}
	if (shared && !room && !set_pending(gov->cgroup_id, pages, nr))
		return no_room(gov->policy, gov->stats, gov->cgroup_id, pages) < 0 ? -ENOMEM : 0;
	return 0;
}

/*
 * mmap(PROT_WRITE, MAP_PRIVATE): with lsm/ deciders every such mapping, else
 * only the MAP_NORESERVE ones the kernel does not charge.  A shared
 * anonymous mapping, whatever its protection: with lsm/ deciders always,
 * else only with MAP_NORESERVE (the kernel's own charge is decided by
 * mg_vm_enough); memgate counts it as strict overcommit does, NORESERVE or
 * not, and keeps it until its shmem inode is freed.
 */
static __always_inline int decide_mmap(struct file *file, unsigned long prot,
				       unsigned long flags, bool kfuncs, bool all)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	bool shared = false;
	struct governed gov;
	__u64 addr, len;
	long pages;

	if ((flags & MG_MAP_TYPE) != MG_MAP_PRIVATE) {
		if (!shared_anon(file, flags))
			return 0;
		shared = true;
	} else if (!(prot & MG_PROT_WRITE) || !(all || (flags & MG_MAP_NORESERVE))) {
		return 0;
	}
	/* One lookup for everyone else, before the syscall's registers are read. */
	if (!mm || !governed(mm, &gov))
		return 0;
	if (!syscall_args(MG_NR_MMAP, MG_NR_MMAP, &addr, &len))
		return 0;
	pages = (len + (1 << page_shift) - 1) >> page_shift;
	return decide_object(mm, pages, &gov, shared, all || (flags & MG_MAP_NORESERVE),
			     MG_NR_MMAP, kfuncs);
}

/*
 * shmget creating a segment (security_shm_alloc runs before its shmem
 * inode is made; the size is the syscall's second argument).  Counted with
 * or without SHM_NORESERVE, as strict overcommit does; SHM_HUGETLB
 * segments come from the hugetlb pool, not from commit.  With lsm/
 * deciders always decided here, else only SHM_NORESERVE ones (mg_vm_enough
 * decides the kernel's charge for the others).
 */
static __always_inline int decide_shm(bool kfuncs, bool all)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	__u64 key, size, shmflg;
	struct governed gov;
	long pages;

	if (!mm || !governed(mm, &gov))
		return 0;
	if (!syscall_args3(MG_NR_SHMGET, MG_NR_SHMGET, &key, &size, &shmflg))
		return 0;
	if (shmflg & MG_SHM_HUGETLB)
		return 0;
	pages = (size + (1 << page_shift) - 1) >> page_shift;
	return decide_object(mm, pages, &gov, true, all || (shmflg & MG_SHM_NORESERVE),
			     MG_NR_SHMGET, kfuncs);
}

/*
 * mprotect making a private, non-writable VMA writable: with lsm/ deciders
 * every such VMA, else only the VM_NORESERVE ones the kernel does not charge.
 */
static __always_inline int decide_mprotect(struct vm_area_struct *vma, unsigned long prot,
					   bool kfuncs, bool all)
{
	unsigned long vm_flags = vma->vm_flags;
	__u64 start, len, end, vm_start, vm_end;
	struct mm_struct *mm;
	struct governed gov;

	if (!(prot & MG_PROT_WRITE) || (vm_flags & (MG_VM_WRITE | MG_VM_SHARED)) ||
	    !(all || (vm_flags & MG_VM_NORESERVE)))
		return 0;
	mm = vma->vm_mm;
	if (!mm || !governed(mm, &gov))
		return 0;
	if (!syscall_args(MG_NR_MPROTECT, MG_NR_PKEY_MPROTECT, &start, &len))
		return 0;
	vm_start = vma->vm_start;
	vm_end = vma->vm_end;
	end = start + len;
	if (start < vm_start)
		start = vm_start;
	if (end > vm_end)
		end = vm_end;
	if (end <= start)
		return 0;
	return decide_governed(mm, (end - start) >> page_shift, &gov, kfuncs);
}

/*
 * mremap growth, in place or moved, and brk growth.  mremap: the kernel
 * charges only a VM_ACCOUNT VMA's growth, so a MAP_NORESERVE one would grow
 * undecided.  Neither syscall has an LSM hook that can refuse, but both ask
 * get_unmapped_area for the new range first (check_brk_limits; for mremap
 * vma_expandable in place, the new address when it moves), which calls
 * security_mmap_addr: the growth, from the syscall's arguments, is decided
 * there, before anything is charged or moves.  The VMA is not known at that
 * hook, so every mremap growth is decided, whatever the mapping: a
 * read-only or shared one near the limit is refused too.  brk is decided
 * here only by the lsm/ variant, which the kernel never skips (1.3 of
 * docs/design.md); under fmod_ret mg_vm_enough decides its charge.
 */
#define MG_MREMAP_DONTUNMAP 4

static __always_inline int decide_mmap_addr(bool kfuncs, bool lsm)
{
	__u64 page = 1ULL << page_shift;
	__u64 arg0, arg1, arg2, old_end, new_end;
	struct mm_struct *mm;
	struct governed gov;
	long nr = syscall_nr();

	if (nr != MG_NR_MREMAP && !(lsm && nr == MG_NR_BRK))
		return 0;
	mm = bpf_get_current_task_btf()->mm;
	if (!mm || !governed(mm, &gov))
		return 0;
	if (!syscall_args3(MG_NR_MREMAP, MG_NR_BRK, &arg0, &arg1, &arg2))
		return 0;
	if (nr == MG_NR_BRK) {
		/* brk(arg0): the heap grows from mm->brk to arg0. */
		old_end = mm->brk;
		new_end = arg0;
	} else {
		/*
		 * mremap(addr, old_len, new_len, flags).  old_len 0 duplicates
		 * a shared mapping: no new commit.  A move charges new_len and
		 * releases old_len after, but MREMAP_DONTUNMAP keeps old_len.
		 */
		if (!arg1)
			return 0;
		old_end = syscall_arg3() & MG_MREMAP_DONTUNMAP ? 0 : arg1;
		new_end = arg2;
	}
	old_end = (old_end + page - 1) & ~(page - 1);
	new_end = (new_end + page - 1) & ~(page - 1);
	if (new_end <= old_end)
		return 0;
	return decide_governed(mm, (new_end - old_end) >> page_shift, &gov, kfuncs);
}

/*
 * fork, where the BPF LSM is active: the whole commit the child copies
 * (its parent's data_vm + stack_vm) is decided at once, in security_task_alloc(),
 * before copy_mm() charges it VMA by VMA; mg_vm_enough then lets those
 * charges through.  Threads and vfork share the mm and commit nothing.
 */
#define MG_CLONE_VM 0x100

static __always_inline int decide_fork_commit(unsigned long clone_flags, bool kfuncs)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	struct governed gov;

	if ((clone_flags & MG_CLONE_VM) || !mm || !governed(mm, &gov))
		return 0;
	return decide_governed(mm, mm_commit_pages(mm), &gov, kfuncs);
}

/*
 * Re-read the calling mm's share when a syscall that can release commit
 * returns, so a release counts at once and no denial ever needs to re-read
 * the container's other address spaces.
 */
static __always_inline void settle_current(void)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	__u64 key = (__u64)mm;
	struct mg_stats *stats;
	struct mg_mm *entry;

	entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (!entry)
		return;
	stats = bpf_map_lookup_elem(&mg_stats, &entry->cgroup_id);
	if (stats)
		set_share(entry, stats, mm_commit_pages(mm));
}

/* An address space is gone: its share of the commit goes with it. */
static __always_inline void forget_mm(struct mm_struct *mm)
{
	__u64 key = (__u64)mm;
	struct mg_mm *entry;

	entry = bpf_map_lookup_elem(&mg_mms, &key);
	if (entry)
		drop_entry(&mg_mms, key, entry, ROOM_MMS);
}

/* Govern the current mm if its task is in a cgroup under policy. */
static __always_inline void govern_exec(void)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	struct mg_policy *policy;
	struct mg_stats *stats;
	__u64 cgroup_id = 0;

	if (!mm)
		return;
	policy = find_policy(&cgroup_id);
	if (!policy)
		return;
	stats = bpf_map_lookup_elem(&mg_stats, &cgroup_id);
	if (stats)
		track_mm(mm, cgroup_id, stats);
}

/*
 * A fork of a governed mm is governed.  fork copied the parent's commit
 * into the new mm, charging each copied mapping against the parent: count
 * the child from its own counters and settle the parent's share again.
 */
static __always_inline void govern_fork(struct task_struct *parent, struct task_struct *child)
{
	struct mm_struct *parent_mm = parent->mm;
	struct mm_struct *child_mm = child->mm;
	struct governed gov;

	if (!child_mm || child_mm == parent_mm)
		return;
	if (!governed(parent_mm, &gov))
		return;
	if (gov.entry)
		set_share(gov.entry, gov.stats, mm_commit_pages(parent_mm));
	track_mm(child_mm, gov.cgroup_id, gov.stats);
}

/*
 * The fork gate, in lsm_cgroup's convention: 1 allows, 0 refuses with the
 * error bpf_set_retval() left.
 */
static __always_inline int decide_fork(bool kfuncs)
{
	struct governed gov;
	__s64 in_use;
	bool audit;

	/* The runtime's helpers (runc init's Go threads) are not refused at start. */
	if (!governed(bpf_get_current_task_btf()->mm, &gov) || !gov.policy->fork_gate)
		return 1;
	in_use = in_use_pages(gov.policy->level, kfuncs);
	if (in_use < (__s64)(gov.policy->fork_gate >> page_shift)) {
		__sync_fetch_and_add(&gov.stats->fork_allowed, 1);
		return 1;
	}
	audit = gov.policy->flags & MG_AUDIT;
	record(gov.stats, gov.cgroup_id, MG_KIND_FORK, 0, in_use, gov.policy->fork_gate, audit);
	if (audit) {
		__sync_fetch_and_add(&gov.stats->fork_audited, 1);
		return 1;
	}
	__sync_fetch_and_add(&gov.stats->fork_denied, 1);
	bpf_set_retval(-EAGAIN);
	return 0;
}

#endif
