// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader: the monitor object, then the enforcement object on the
 * monitor's maps, in the variants this kernel takes; attached and pinned in
 * a staging tree that is renamed into place whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mg_cleanup.h"
#include "mg_kernel.h"
#include "mg_monitor.h"
#include "mg_shared.h"
#include "core.h"
#include "memgate.skel.h"
#include "monitor.skel.h"

static int pin_map(struct bpf_map *map, const char *dir, const char *name, struct mg_error *err)
{
	char path[512];
	int ret;

	snprintf(path, sizeof(path), "%s/maps/%s", dir, name);
	ret = bpf_map__pin(map, path);
	if (ret < 0)
		return mg_fail_errno(err, -ret, "cannot pin map %s", path);
	return 0;
}

static int pin_link(struct bpf_link *link, const char *dir, const char *name, struct mg_error *err)
{
	char path[512];
	int ret;

	snprintf(path, sizeof(path), "%s/links/%s", dir, name);
	ret = bpf_link__pin(link, path);
	if (ret < 0)
		return mg_fail_errno(err, -ret, "cannot pin link %s", path);
	return 0;
}

/* The shared maps of both objects, in the same order; maps/<name> when pinned. */
#define SHARED_MAPS(skel)                                                                          \
	{ { (skel)->maps.mg_policies, "policies" },     { (skel)->maps.mg_stats, "stats" },       \
	  { (skel)->maps.mg_mms, "mms" },               { (skel)->maps.mg_containers, "containers" }, \
	  { (skel)->maps.mg_globals, "globals" },       { (skel)->maps.mg_events, "events" },     \
	  { (skel)->maps.mg_names, "names" },           { (skel)->maps.mg_dead, "dead" } }

struct named_map {
	struct bpf_map *map;
	const char *name;
};

/* The enforcement object, on the monitor's maps: one state for both. */
static struct memgate_bpf *open_and_load(struct monitor_bpf *monitor, bool memcg_kfuncs,
					 bool with_lsm_cgroup, bool lsm_deciders, int *load_err)
{
	struct memgate_bpf *skel = memgate_bpf__open();
	/* Each decider in its variants: [memcg kfuncs][lsm/], NULL where there is none. */
	struct bpf_program *deciders[][2][2] = {
		{ { skel ? skel->progs.mg_vm_enough : NULL, NULL },
		  { skel ? skel->progs.mg_vm_enough_kfunc : NULL, NULL } },
		{ { skel ? skel->progs.mg_mmap_file : NULL, skel ? skel->progs.mg_mmap_file_lsm : NULL },
		  { skel ? skel->progs.mg_mmap_file_kfunc : NULL,
		    skel ? skel->progs.mg_mmap_file_lsm_kfunc : NULL } },
		{ { skel ? skel->progs.mg_mprotect : NULL, skel ? skel->progs.mg_mprotect_lsm : NULL },
		  { skel ? skel->progs.mg_mprotect_kfunc : NULL,
		    skel ? skel->progs.mg_mprotect_lsm_kfunc : NULL } },
		{ { skel ? skel->progs.mg_mmap_addr : NULL, skel ? skel->progs.mg_mmap_addr_lsm : NULL },
		  { skel ? skel->progs.mg_mmap_addr_kfunc : NULL,
		    skel ? skel->progs.mg_mmap_addr_lsm_kfunc : NULL } },
		{ { skel ? skel->progs.mg_shm_alloc : NULL, skel ? skel->progs.mg_shm_alloc_lsm : NULL },
		  { skel ? skel->progs.mg_shm_alloc_kfunc : NULL,
		    skel ? skel->progs.mg_shm_alloc_lsm_kfunc : NULL } },
		/* fork: lsm/ only, else mg_vm_enough decides copy_mm's charges. */
		{ { NULL, skel ? skel->progs.mg_fork_lsm : NULL },
		  { NULL, skel ? skel->progs.mg_fork_lsm_kfunc : NULL } },
	};

	if (!skel) {
		*load_err = -errno;
		return NULL;
	}
	skel->rodata->page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	skel->rodata->lsm_deciders = lsm_deciders;
	{
		struct named_map mine[] = SHARED_MAPS(skel), theirs[] = SHARED_MAPS(monitor);

		for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
			*load_err = bpf_map__reuse_fd(mine[i].map, bpf_map__fd(theirs[i].map));
			if (*load_err) {
				memgate_bpf__destroy(skel);
				return NULL;
			}
		}
	}
	/* One variant of each decider: the memcg measure and the hook type differ. */
	for (size_t i = 0; i < sizeof(deciders) / sizeof(deciders[0]); i++)
		for (int k = 0; k < 2; k++)
			for (int l = 0; l < 2; l++)
				if (deciders[i][k][l])
					bpf_program__set_autoload(
						deciders[i][k][l],
						k == memcg_kfuncs &&
							l == (lsm_deciders && deciders[i][k][1]));
	/* Shared memory's inode life: lsm/ where the BPF LSM is active, never skipped. */
	bpf_program__set_autoload(skel->progs.mg_inode_alloc, !lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_inode_alloc_lsm, lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_inode_free, !lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_inode_free_lsm, lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_task_alloc, with_lsm_cgroup && !memcg_kfuncs);
	bpf_program__set_autoload(skel->progs.mg_task_alloc_kfunc, with_lsm_cgroup && memcg_kfuncs);
	*load_err = memgate_bpf__load(skel);
	if (*load_err) {
		memgate_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int make_tree(struct monitor_bpf *monitor, const char *dir, struct mg_error *err)
{
	struct named_map maps[] = SHARED_MAPS(monitor);
	char path[512];
	int ret;

	if (mkdir(dir, 0700) < 0)
		return mg_fail_errno(err, errno, "cannot create %s", dir);
	for (const char *sub = "maps\0progs\0links\0"; *sub; sub += strlen(sub) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub);
		if (mkdir(path, 0700) < 0)
			return mg_fail_errno(err, errno, "cannot create %s", path);
	}
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		ret = pin_map(maps[i].map, dir, maps[i].name, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct named_prog {
	struct bpf_program *prog;
	const char *name;
};

#define MAX_LINKS 24

/*
 * Attach every program, then pin every link: a program that can not attach
 * leaves no link of its group behind.  Returns 0 or -errno; err says which.
 */
static int attach_all(const struct named_prog *progs, size_t n, const char *dir,
		      struct mg_error *err)
{
	struct bpf_link *links[MAX_LINKS] = {};
	int ret = 0;

	for (size_t i = 0; i < n && i < MAX_LINKS; i++) {
		links[i] = bpf_program__attach(progs[i].prog);
		if (!links[i]) {
			ret = mg_fail_errno(err, errno, "cannot attach memgate program %s",
					    bpf_program__name(progs[i].prog));
			goto out;
		}
	}
	for (size_t i = 0; i < n && i < MAX_LINKS; i++) {
		ret = pin_link(links[i], dir, progs[i].name, err);
		if (ret < 0)
			goto out;
	}
out:
	for (size_t i = 0; i < n && i < MAX_LINKS; i++)
		bpf_link__destroy(links[i]);
	return ret;
}

static int attach_monitor(struct monitor_bpf *monitor, const char *dir, struct mg_error *err)
{
	struct mg_monitor_prog progs[MG_MONITOR_PROGS];
	struct named_prog named[MG_MONITOR_PROGS];
	size_t n = mg_monitor_progs(monitor, progs);

	for (size_t i = 0; i < n; i++)
		named[i] = (struct named_prog){ progs[i].prog, progs[i].name };
	return attach_all(named, n, dir, err);
}

/* The one of a decider's variants that was loaded. */
static struct bpf_program *loaded(struct bpf_program *const *variants, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bpf_program__fd(variants[i]) >= 0)
			return variants[i];
	return variants[0];
}

static int attach_enforcement(struct memgate_bpf *skel, const char *dir, struct mg_error *err)
{
	struct bpf_program *vm_enough[] = { skel->progs.mg_vm_enough, skel->progs.mg_vm_enough_kfunc };
	struct bpf_program *mmap_file[] = { skel->progs.mg_mmap_file, skel->progs.mg_mmap_file_kfunc,
					    skel->progs.mg_mmap_file_lsm,
					    skel->progs.mg_mmap_file_lsm_kfunc };
	struct bpf_program *mprotect[] = { skel->progs.mg_mprotect, skel->progs.mg_mprotect_kfunc,
					   skel->progs.mg_mprotect_lsm,
					   skel->progs.mg_mprotect_lsm_kfunc };
	struct bpf_program *mmap_addr[] = { skel->progs.mg_mmap_addr, skel->progs.mg_mmap_addr_kfunc,
					    skel->progs.mg_mmap_addr_lsm,
					    skel->progs.mg_mmap_addr_lsm_kfunc };
	struct bpf_program *shm_alloc[] = { skel->progs.mg_shm_alloc, skel->progs.mg_shm_alloc_kfunc,
					    skel->progs.mg_shm_alloc_lsm,
					    skel->progs.mg_shm_alloc_lsm_kfunc };
	struct bpf_program *inode_alloc[] = { skel->progs.mg_inode_alloc,
					      skel->progs.mg_inode_alloc_lsm };
	struct bpf_program *inode_free[] = { skel->progs.mg_inode_free,
					     skel->progs.mg_inode_free_lsm };
	bool kfuncs = bpf_program__fd(skel->progs.mg_vm_enough_kfunc) >= 0;
	struct bpf_program *fork_commit[] = { skel->progs.mg_fork_lsm, skel->progs.mg_fork_lsm_kfunc };
	struct named_prog progs[] = {
		/* First: left out where it is not loaded (no BPF LSM). */
		{ loaded(fork_commit, 2), "fork_commit" },
		{ loaded(vm_enough, 2), "vm_enough" },
		{ loaded(mmap_file, 4), "mmap_file" },
		{ loaded(mprotect, 4), "mprotect" },
		{ loaded(mmap_addr, 4), "mmap_addr" },
		{ loaded(shm_alloc, 4), "shm_alloc" },
		{ loaded(inode_alloc, 2), "inode_alloc" },
		{ loaded(inode_free, 2), "inode_free" },
		{ skel->progs.mg_munmap_exit, "munmap_exit" },
		{ skel->progs.mg_brk_exit, "brk_exit" },
		{ skel->progs.mg_mremap_exit, "mremap_exit" },
		{ skel->progs.mg_mprotect_exit, "mprotect_exit" },
		{ skel->progs.mg_exit_mmap, "exit_mmap" },
		{ skel->progs.mg_exec, "exec" },
		{ skel->progs.mg_exec_done, "exec_done" },
		{ skel->progs.mg_fork, "fork" },
	};
	struct bpf_program *task_alloc =
		kfuncs ? skel->progs.mg_task_alloc_kfunc : skel->progs.mg_task_alloc;
	size_t first = bpf_program__fd(progs[0].prog) >= 0 ? 0 : 1;
	char path[512];
	int ret;

	ret = attach_all(progs + first, sizeof(progs) / sizeof(progs[0]) - first, dir, err);
	if (ret < 0)
		return ret;
	if (bpf_program__fd(task_alloc) >= 0) {
		snprintf(path, sizeof(path), "%s/progs/task_alloc", dir);
		ret = bpf_program__pin(task_alloc, path);
		if (ret < 0)
			return mg_fail_errno(err, -ret, "cannot pin %s", path);
	}
	return 0;
}

/* Remove the enforcement links pinned before one failed: only the monitor stays. */
static void unpin_enforcement(const char *dir)
{
	_cleanup_closedir_ DIR *links = NULL;
	struct dirent *de;
	char path[1024];

	snprintf(path, sizeof(path), "%s/links", dir);
	links = opendir(path);
	while (links && (de = readdir(links))) {
		bool monitor = false;

		for (const char *m = "oom_victim\0oom_signal\0reclaim_begin\0reclaim_end\0cgroup_rmdir\0";
		     *m; m += strlen(m) + 1)
			monitor |= !strcmp(de->d_name, m);
		if (monitor || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/links/%s", dir, de->d_name);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/progs/task_alloc", dir);
	unlink(path);
}

/*
 * Load the monitor, then the enforcement object on its maps where the
 * kernel allows it; pin both in a staging tree and rename it into place.
 * Without trampolines (lockdown) only the monitor runs, and
 * memgate_globals says why.
 */
static int load_and_pin(struct mg_error *err)
{
	struct mg_globals g = { .layout_version = MG_LAYOUT_VERSION };
	struct memgate_bpf *skel = NULL;
	struct monitor_bpf *monitor;
	struct mg_error enforce_err;
	char staging[256];
	int load_err, ret;
	__u32 zero = 0;
	bool bpf_lsm;

	ret = mg_pin_ensure_bpffs(err);
	if (ret < 0)
		return ret;
	mg_pin_remove_stale();
	monitor = mg_monitor_load(&load_err);
	if (!monitor)
		return mg_fail_errno(err, -load_err,
				     "cannot load memgate's monitor programs (see `memgate probe`)");
	snprintf(staging, sizeof(staging), STAGING_PREFIX "%d", getpid());
	ret = make_tree(monitor, staging, err);
	if (ret == 0)
		ret = attach_monitor(monitor, staging, err);
	if (ret < 0)
		goto out;

	/*
	 * The memcg kfunc variants where the kernel names them, else (or failing
	 * that) CO-RE; lsm/ deciders where the BPF LSM is active.
	 */
	bpf_lsm = mg_kernel_bpf_lsm();
	for (int kfuncs = mg_kernel_memcg_kfuncs(); !skel && kfuncs >= 0; kfuncs--) {
		if (bpf_lsm)
			skel = open_and_load(monitor, kfuncs, true, true, &load_err);
		if (!skel) /* fmod_ret deciders: still never skipped without preemption. */
			skel = open_and_load(monitor, kfuncs, true, false, &load_err);
		if (!skel) /* No lsm_cgroup here: commit limits can still work. */
			skel = open_and_load(monitor, kfuncs, false, false, &load_err);
	}
	if (!skel)
		g.enforce_error = load_err ? load_err : -EINVAL;
	else if (attach_enforcement(skel, staging, &enforce_err) < 0)
		g.enforce_error = -enforce_err.code;
	if (g.enforce_error)
		unpin_enforcement(staging);
	if (bpf_map_update_elem(bpf_map__fd(monitor->maps.mg_globals), &zero, &g, BPF_ANY) < 0) {
		ret = mg_fail_errno(err, errno, "cannot initialise memgate's globals map");
		goto out;
	}
	if (rename(staging, MG_PIN_DIR) < 0)
		ret = mg_fail_errno(err, errno, "cannot move %s to %s", staging, MG_PIN_DIR);
out:
	if (skel)
		memgate_bpf__destroy(skel);
	mg_monitor_destroy(monitor);
	if (ret < 0)
		mg_pin_remove_tree(staging);
	return ret;
}

/* The loader's one entry: the pin tree opened, loaded and pinned first when asked. */
int mg_shared_open(struct mg_shared *s, bool create, struct mg_error *err)
{
	int ret;

	if (create && !mg_shared_exists()) {
		ret = load_and_pin(err);
		if (ret < 0)
			return ret;
	}
	return mg_pin_open(s, err);
}
