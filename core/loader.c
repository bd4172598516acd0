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
#include "mg_loader.h"
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

/*
 * Every program of the enforcement object, once: the link it is pinned as
 * and its variants, [memcg kfuncs][lsm/].  A program with no lsm/ form
 * leaves that column NULL and the other is taken; a row whose chosen cell
 * is NULL loads nothing here (fork_commit without the BPF LSM).  Loading,
 * attaching, unpinning and `memgate probe` (MG_VARIANT_PROBE*: the attach
 * points it tries) all read this table; a new backend is a row.
 */
#define ONE(name) { { name, NULL }, { name, NULL } }
#define KFUNC(name) { { name, NULL }, { name "_kfunc", NULL } }
#define KFUNC_LSM(name) { { name, name "_lsm" }, { name "_kfunc", name "_lsm_kfunc" } }
#define LSM(name) { { name, name "_lsm" }, { name, name "_lsm" } }

const struct mg_variants mg_variants[] = {
	/* First: left out where it is not loaded (no BPF LSM). */
	{ .link = "fork_commit", .prog = { { NULL, "mg_fork_lsm" }, { NULL, "mg_fork_lsm_kfunc" } },
	  .flags = MG_VARIANT_PROBE_LSM },
	{ .link = "vm_enough", .prog = KFUNC("mg_vm_enough"), .flags = MG_VARIANT_PROBE },
	{ .link = "mmap_file", .prog = KFUNC_LSM("mg_mmap_file"), .flags = MG_VARIANT_PROBE_LSM },
	{ .link = "mprotect", .prog = KFUNC_LSM("mg_mprotect"), .flags = MG_VARIANT_PROBE_LSM },
	{ .link = "mmap_addr", .prog = KFUNC_LSM("mg_mmap_addr") },
	{ .link = "shm_alloc", .prog = KFUNC_LSM("mg_shm_alloc") },
	/* Shared memory's inode life: lsm/ where the BPF LSM is active, never skipped. */
	{ .link = "inode_alloc", .prog = LSM("mg_inode_alloc"), .flags = MG_VARIANT_PROBE },
	{ .link = "inode_free", .prog = LSM("mg_inode_free") },
	{ .link = "munmap_exit", .prog = ONE("mg_munmap_exit") },
	{ .link = "brk_exit", .prog = ONE("mg_brk_exit") },
	{ .link = "mremap_exit", .prog = ONE("mg_mremap_exit") },
	{ .link = "mprotect_exit", .prog = ONE("mg_mprotect_exit") },
	{ .link = "exit_mmap", .prog = ONE("mg_exit_mmap") },
	{ .link = "exec", .prog = ONE("mg_exec") },
	{ .link = "exec_done", .prog = ONE("mg_exec_done") },
	{ .link = "fork", .prog = ONE("mg_fork"), .flags = MG_VARIANT_PROBE },
	/* The fork gate: pinned as progs/task_alloc, attached per container. */
	{ .link = "task_alloc", .prog = KFUNC("mg_task_alloc"),
	  .flags = MG_VARIANT_CGROUP | MG_VARIANT_PROBE },
};

const size_t mg_variants_count = sizeof(mg_variants) / sizeof(mg_variants[0]);

const char *mg_variant_chosen(const struct mg_variants *row, bool kfuncs, bool lsm_cgroup,
			      bool lsm)
{
	const char *const *cells = row->prog[kfuncs];

	if ((row->flags & MG_VARIANT_CGROUP) && !lsm_cgroup)
		return NULL;
	return cells[lsm && cells[1] ? 1 : 0];
}

int mg_variants_choose(struct bpf_object *obj, bool kfuncs, bool lsm_cgroup, bool lsm)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		bool listed = false, load = false;

		for (size_t i = 0; i < mg_variants_count; i++) {
			const char *chosen = mg_variant_chosen(&mg_variants[i], kfuncs, lsm_cgroup, lsm);

			for (int k = 0; k < 2; k++)
				for (int l = 0; l < 2; l++)
					listed |= mg_variants[i].prog[k][l] &&
						  !strcmp(mg_variants[i].prog[k][l], name);
			load |= chosen && !strcmp(chosen, name);
		}
		if (!listed)
			return -ENOENT; /* a program the table does not know: add its row */
		bpf_program__set_autoload(prog, load);
	}
	return 0;
}

int mg_variants_probed(char (*sections)[MG_SECTION_LEN], size_t max)
{
	struct memgate_bpf *skel = memgate_bpf__open();
	size_t n = 0;
	int ret = 0;

	if (!skel)
		return -errno;
	for (size_t i = 0; i < mg_variants_count && !ret; i++)
		for (int l = 0; l < 2 && !ret; l++) {
			const char *name = mg_variants[i].prog[0][l];
			struct bpf_program *prog;

			if (!(mg_variants[i].flags & (l ? MG_VARIANT_PROBE_LSM : MG_VARIANT_PROBE)))
				continue;
			prog = name ? bpf_object__find_program_by_name(skel->obj, name) : NULL;
			if (!prog)
				ret = -ENOENT;
			else if (n == max)
				ret = -E2BIG;
			else if (snprintf(sections[n++], MG_SECTION_LEN, "%s",
					  bpf_program__section_name(prog)) >= MG_SECTION_LEN)
				ret = -ENAMETOOLONG;
		}
	memgate_bpf__destroy(skel);
	return ret ? ret : (int)n;
}

/* The enforcement object, on the monitor's maps: one state for both. */
static struct memgate_bpf *open_and_load(struct monitor_bpf *monitor, bool memcg_kfuncs,
					 bool with_lsm_cgroup, bool lsm_deciders, int *load_err)
{
	struct memgate_bpf *skel = memgate_bpf__open();

	if (!skel) {
		*load_err = -errno;
		return NULL;
	}
	skel->rodata->page_shift = __builtin_ctzl(mg_kernel_page_size());
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
	/* One variant of each: the memcg measure and the hook type differ. */
	*load_err = mg_variants_choose(skel->obj, memcg_kfuncs, with_lsm_cgroup, lsm_deciders);
	if (!*load_err)
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

/* The variant of row that was loaded, or NULL. */
static struct bpf_program *loaded(struct bpf_object *obj, const struct mg_variants *row)
{
	for (int k = 0; k < 2; k++)
		for (int l = 0; l < 2; l++) {
			struct bpf_program *prog =
				row->prog[k][l] ? bpf_object__find_program_by_name(obj, row->prog[k][l])
						: NULL;

			if (prog && bpf_program__fd(prog) >= 0)
				return prog;
		}
	return NULL;
}

static int attach_enforcement(struct memgate_bpf *skel, const char *dir, struct mg_error *err)
{
	struct named_prog progs[MAX_LINKS];
	char path[512];
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < mg_variants_count && n < MAX_LINKS; i++) {
		const struct mg_variants *row = &mg_variants[i];
		struct bpf_program *prog = loaded(skel->obj, row);

		if (row->flags & MG_VARIANT_CGROUP)
			continue;
		/* Only a row without a variant for this kernel may be left out. */
		if (!prog && !row->prog[0][0])
			continue;
		if (!prog)
			prog = bpf_object__find_program_by_name(skel->obj, row->prog[0][0]);
		progs[n++] = (struct named_prog){ prog, row->link };
	}
	ret = attach_all(progs, n, dir, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < mg_variants_count; i++) {
		const struct mg_variants *row = &mg_variants[i];
		struct bpf_program *prog = loaded(skel->obj, row);

		if (!(row->flags & MG_VARIANT_CGROUP) || !prog)
			continue;
		snprintf(path, sizeof(path), "%s/progs/%s", dir, row->link);
		ret = bpf_program__pin(prog, path);
		if (ret < 0)
			return mg_fail_errno(err, -ret, "cannot pin %s", path);
	}
	return 0;
}

/* Remove the enforcement links pinned before one failed: only the monitor stays. */
static void unpin_enforcement(const char *dir)
{
	char path[1024];

	for (size_t i = 0; i < mg_variants_count; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir,
			 mg_variants[i].flags & MG_VARIANT_CGROUP ? "progs" : "links",
			 mg_variants[i].link);
		unlink(path);
	}
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
