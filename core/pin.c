// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pin tree under MG_PIN_DIR: the lock, the trust checks, opening the
 * maps (loading first through loader.c when asked to), retiring another
 * layout's tree and serving it, removing trees (gc), keep and release.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <syslog.h>
#include <time.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/magic.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_shared.h"
#include "core.h"

#define DEAD_PREFIX BPFFS "/memgate-dead-"
#define RETIRED_PREFIX BPFFS "/memgate-retired-"
/* A directory whose presence keeps the tree loaded with no policy (memgate preload). */
#define KEEP_MARK MG_PIN_DIR "/keep"

static const struct {
	const char *name;
	size_t offset;
} shared_maps[] = {
	{ "policies", offsetof(struct mg_shared, policies) },
	{ "stats", offsetof(struct mg_shared, stats) },
	{ "mms", offsetof(struct mg_shared, mms) },
	{ "containers", offsetof(struct mg_shared, containers) },
	{ "globals", offsetof(struct mg_shared, globals) },
	{ "events", offsetof(struct mg_shared, events) },
	{ "names", offsetof(struct mg_shared, names) },
	{ "dead", offsetof(struct mg_shared, dead) },
};

#define SHARED_FD(s, i) (*(int *)((char *)(s) + shared_maps[i].offset))

int mg_need_root(struct mg_error *err)
{
	unsigned long inside, outside, count;
	char line[128];
	FILE *f;

	if (geteuid() != 0)
		return mg_fail(err, EPERM,
			       "needs root: memgate's state (%s, %s) is root's only, and this "
			       "runs as uid %u",
			       MG_PIN_DIR, MG_LOCK_FILE, (unsigned)geteuid());
	/* The initial user namespace maps all of 0..2^32-2; a rootless runtime's maps a few. */
	f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "%lu %lu %lu", &inside, &outside, &count) != 3)
		count = 0;
	fclose(f);
	if (count && count != 4294967295UL)
		return mg_fail(err, EPERM,
			       "needs root on the host: this is uid 0 of a user namespace (uid "
			       "%lu outside), as a rootless runtime runs it",
			       outside);
	return 0;
}


/*
 * Whether only root can change what st describes: owned by root, not
 * writable by group or others, of the type expected.  Otherwise one line
 * naming the path and the fix.  A bpffs mounted without mode= is 1777, so
 * anyone could have made a tree memgate would then load from or remove.
 */
static int check_trusted(const struct stat *st, const char *path, mode_t type, const char *fix,
			 struct mg_error *err)
{
	if ((st->st_mode & S_IFMT) != type)
		return mg_fail(err, EPERM, "%s is not a %s: memgate uses it only when root made it; %s",
			       path, type == S_IFDIR ? "directory" : "regular file", fix);
	if (st->st_uid != 0)
		return mg_fail(err, EPERM, "%s is owned by uid %u, not root: %s", path,
			       (unsigned)st->st_uid, fix);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return mg_fail(err, EPERM, "%s is writable by %s (mode %04o): %s", path,
			       st->st_mode & S_IWOTH ? "others" : "its group",
			       (unsigned)(st->st_mode & 07777), fix);
	return 0;
}

/* Open dir (never through a link) and check it; -errno, or the fd. */
static int open_trusted_dir(int at, const char *name, const char *path, const char *fix,
			    struct mg_error *err)
{
	_cleanup_close_ int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int ret;

	if (fd < 0)
		return mg_fail_errno(err, errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0)
		return mg_fail_errno(err, errno, "cannot stat %s", path);
	ret = check_trusted(&st, path, S_IFDIR, fix, err);
	if (ret < 0)
		return ret;
	return mg_steal_fd(fd);
}

#define FIX_BPFFS "run `chmod 0700 " BPFFS "` (or mount bpffs there with mode=700)"
#define FIX_RUN "remove it (`rm -r " MG_LOCK_DIR "`) if root did not make it; memgate makes it 0700"

/* /sys/fs/bpf, checked: an fd every tree is reached through. */
static int open_bpffs(struct mg_error *err)
{
	return open_trusted_dir(AT_FDCWD, BPFFS, BPFFS, FIX_BPFFS, err);
}

static void alarm_ignored(int sig)
{
}

/*
 * flock, bounded: a stuck holder fails this run, not every start on the
 * node.  The timer repeats, so a signal that came before flock slept only
 * delays the next one.
 */
static int lock_bounded(int fd, unsigned int timeout_ms, struct mg_error *err)
{
	struct sigaction sa = { .sa_handler = alarm_ignored }, old;
	struct itimerval tick = { .it_interval = { 0, 100 * 1000 } }, off = {};
	struct timespec start, now;
	int ret = 0;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return mg_fail_errno(err, errno, "cannot lock %s", MG_LOCK_FILE);
	clock_gettime(CLOCK_MONOTONIC, &start);
	tick.it_value = (struct timeval){ timeout_ms / 1000, timeout_ms % 1000 * 1000 };
	if (!timeout_ms)
		tick.it_value.tv_usec = 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART: flock returns EINTR */
	setitimer(ITIMER_REAL, &tick, NULL);
	for (;;) {
		if (flock(fd, LOCK_EX) == 0)
			break;
		if (errno != EINTR) {
			ret = mg_fail_errno(err, errno, "cannot lock %s", MG_LOCK_FILE);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
		    timeout_ms) {
			ret = mg_fail(err, ETIMEDOUT,
				      "%s is still held by another memgate after %u.%03u s: giving "
				      "up (a stuck memgate-hook or `memgate gc`? lock-timeout in the "
				      "admin configuration sets this bound)",
				      MG_LOCK_FILE, timeout_ms / 1000, timeout_ms % 1000);
			break;
		}
	}
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	return ret;
}

static int check_trees(struct mg_error *err);

int mg_shared_lock(struct mg_shared *s, unsigned int timeout_ms, struct mg_error *err)
{
	_cleanup_close_ int dir = -1;
	struct stat st;
	int ret;

	if (mkdir(MG_LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return mg_fail_errno(err, errno, "cannot create %s", MG_LOCK_DIR);
	dir = open_trusted_dir(AT_FDCWD, MG_LOCK_DIR, MG_LOCK_DIR, FIX_RUN, err);
	if (dir < 0)
		return dir;
	s->lock = openat(dir, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (s->lock < 0)
		return mg_fail_errno(err, errno, "cannot open %s", MG_LOCK_FILE);
	if (fstat(s->lock, &st) < 0)
		return mg_fail_errno(err, errno, "cannot stat %s", MG_LOCK_FILE);
	ret = check_trusted(&st, MG_LOCK_FILE, S_IFREG, FIX_RUN, err);
	if (ret == 0)
		ret = lock_bounded(s->lock, timeout_ms, err);
	if (ret == 0)
		ret = check_trees(err);
	if (ret < 0) {
		close(s->lock);
		s->lock = -1;
	}
	return ret;
}

bool mg_shared_exists(void)
{
	return access(MG_PIN_DIR "/maps/policies", F_OK) == 0;
}

int mg_pin_ensure_bpffs(struct mg_error *err)
{
	struct statfs fs;

	if (statfs(BPFFS, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700") < 0)
		return mg_fail_errno(err, errno, "bpffs is not mounted at %s and mounting it failed",
				     BPFFS);
	return 0;
}

/* Remove name under at and everything below it, never following a link. */
static int remove_at(int at, const char *name, int depth)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	struct stat st;
	int fd;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0; /* a pin, a file or a link: the name goes, not what it points at */
	if (errno != EISDIR || depth == 0)
		return -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_uid != 0)
		errno = EPERM; /* not root's: nothing of it is memgate's to remove */
	else if (fstat(fd, &st) == 0)
		dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    remove_at(dirfd(dir), de->d_name, depth - 1) < 0)
			return -1;
	return unlinkat(at, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

/*
 * Unpinning drops the kernel's last reference: links detach, programs
 * unload.  path is one of memgate's trees, BPFFS/<name>: removed through
 * the checked /sys/fs/bpf, a directory at a time (a tree is 2 deep).
 */
int mg_pin_remove_tree(const char *path)
{
	_cleanup_close_ int bpffs = -1;
	struct mg_error ignored;
	const char *name = path + strlen(BPFFS "/");

	if (strncmp(path, BPFFS "/", strlen(BPFFS "/")) || strchr(name, '/')) {
		errno = EINVAL;
		return -1;
	}
	bpffs = open_bpffs(&ignored);
	if (bpffs < 0) {
		errno = ignored.code;
		return -1;
	}
	return remove_at(bpffs, name, 4);
}

enum tree_kind {
	TREE_STALE = 1,	  /* memgate-staging-*, memgate-dead-*: left by a killed hook */
	TREE_RETIRED = 2, /* memgate-retired-*: an older layout's, still serving */
};

static int tree_kind(const char *name)
{
	if (!strncmp(name, "memgate-staging-", 16) || !strncmp(name, "memgate-dead-", 13))
		return TREE_STALE;
	if (!strncmp(name, "memgate-retired-", 16))
		return TREE_RETIRED;
	return 0;
}

/* fn on the path of each of memgate's trees of the kinds in mask, until it returns non-zero. */
static int for_each_tree(int mask, int (*fn)(const char *path, void *arg), void *arg)
{
	_cleanup_closedir_ DIR *dir = opendir(BPFFS);
	struct dirent *de;
	char path[512];
	int ret;

	while (dir && (de = readdir(dir))) {
		if (!(tree_kind(de->d_name) & mask))
			continue;
		snprintf(path, sizeof(path), BPFFS "/%s", de->d_name);
		ret = fn(path, arg);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * /sys/fs/bpf and every tree of memgate's in it are root's alone, or nothing
 * runs: a tree another user made could hand memgate maps and links to use.
 */
static int check_trees(struct mg_error *err)
{
	_cleanup_close_ int bpffs = -1;
	_cleanup_closedir_ DIR *dir = NULL;
	struct statfs fs;
	struct dirent *de;
	struct stat st;
	char path[512], fix[600];
	int ret;

	/* Not mounted: memgate mounts it mode=0700 when it needs it. */
	if (statfs(BPFFS, &fs) < 0 || fs.f_type != BPF_FS_MAGIC)
		return 0;
	bpffs = open_bpffs(err);
	if (bpffs < 0)
		return bpffs;
	dir = fdopendir(dup(bpffs));
	if (!dir)
		return mg_fail_errno(err, errno, "cannot read %s", BPFFS);
	while ((de = readdir(dir))) {
		if (!tree_kind(de->d_name) && strcmp(de->d_name, "memgate"))
			continue;
		snprintf(path, sizeof(path), BPFFS "/%s", de->d_name);
		if (fstatat(bpffs, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return mg_fail_errno(err, errno, "cannot stat %s", path);
		}
		snprintf(fix, sizeof(fix), "if root did not make it, remove it (`rm -r %s`)", path);
		ret = check_trusted(&st, path, S_IFDIR, fix, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct removal {
	int removed;
	int error;
	char failed[512];
};

static int remove_counted(const char *path, void *arg)
{
	struct removal *r = arg;

	if (mg_pin_remove_tree(path) == 0)
		r->removed++;
	else if (!r->error) {
		r->error = errno;
		snprintf(r->failed, sizeof(r->failed), "%s", path);
	}
	return 0;
}

/* Staging or dying trees left by hooks that were killed; we hold the lock. */
void mg_pin_remove_stale(void)
{
	struct removal r = {};

	for_each_tree(TREE_STALE, remove_counted, &r);
}

/*
 * Another layout's tree.  What every layout keeps, so one memgate can serve
 * another's tree without reading the rest: maps/policies keyed by the __u64
 * cgroup id, maps/containers keyed by the zero-padded container id with the
 * __u64 cgroup id first in its value, maps/globals[0] starting with the
 * __u64 layout version, and links/fork-gate-<cgroup id>.
 */
static int open_pinned_map(const char *dir, const char *name, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/maps/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* The first __u64 of map[key], whatever the layout's value size. */
static int lookup_first_u64(int map, const struct bpf_map_info *info, const void *key, __u64 *out)
{
	_cleanup_free_ void *value = NULL;

	if (info->value_size < sizeof(*out))
		return -EPROTO;
	value = calloc(1, info->value_size);
	if (!value)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map, key, value) < 0)
		return -errno;
	memcpy(out, value, sizeof(*out));
	return 0;
}

static __u64 tree_layout(const char *dir)
{
	struct bpf_map_info info;
	_cleanup_close_ int globals = open_pinned_map(dir, "globals", &info);
	__u32 zero = 0;
	__u64 layout = 0;

	if (globals >= 0 && info.key_size == sizeof(zero))
		lookup_first_u64(globals, &info, &zero, &layout);
	return layout;
}

static unsigned int count_keys(int map, __u32 key_size)
{
	_cleanup_free_ void *key = calloc(2, key_size);
	unsigned int n = 0;

	if (!key)
		return 0;
	for (void *prev = NULL; bpf_map_get_next_key(map, prev, (char *)key + key_size) == 0; n++) {
		memcpy(key, (char *)key + key_size, key_size);
		prev = key;
	}
	return n;
}

/* Its policy first: after that one delete the old programs decide nothing for it. */
static void forget_retired(const char *dir, int policies, __u64 cgroup_id)
{
	char path[1024];

	bpf_map_delete_elem(policies, &cgroup_id);
	snprintf(path, sizeof(path), "%s/links/" FORK_LINK_PREFIX "%" PRIu64, dir,
		 (uint64_t)cgroup_id);
	unlink(path);
	mg_kube_forget(cgroup_id);
}

/* Renamed out of the way first: a kill leaves a dead tree, never a half-removed one. */
static int release_tree(const char *dir, struct mg_error *err)
{
	char dead[256];

	snprintf(dead, sizeof(dead), DEAD_PREFIX "%d", getpid());
	if (rename(dir, dead) < 0) {
		if (errno == ENOENT)
			return 0;
		return mg_fail_errno(err, errno, "cannot remove %s", dir);
	}
	if (!strcmp(dir, MG_PIN_DIR))
		mg_kube_forget_all();
	if (mg_pin_remove_tree(dead) < 0)
		return mg_fail_errno(err, errno, "cannot remove %s", dead);
	return 0;
}

static int serve_retired_tree(const char *dir, void *arg)
{
	const char *stopped_id = arg;
	struct mg_error ignored;
	struct bpf_map_info pinfo, cinfo;
	_cleanup_close_ int policies = open_pinned_map(dir, "policies", &pinfo);
	_cleanup_close_ int containers = open_pinned_map(dir, "containers", &cinfo);
	__u64 id, next, *prev = NULL;

	if (policies < 0) { /* no policy to serve: whatever is left there decides nothing */
		release_tree(dir, &ignored);
		return 0;
	}
	if (pinfo.key_size != sizeof(__u64))
		return 0; /* not a layout memgate can serve: `memgate gc --all` removes it */
	if (stopped_id && containers >= 0 && strlen(stopped_id) < cinfo.key_size) {
		_cleanup_free_ char *key = calloc(1, cinfo.key_size);
		__u64 cgroup_id;

		if (key) {
			memcpy(key, stopped_id, strlen(stopped_id));
			if (lookup_first_u64(containers, &cinfo, key, &cgroup_id) == 0) {
				forget_retired(dir, policies, cgroup_id);
				bpf_map_delete_elem(containers, key);
			}
		}
	}
	while (bpf_map_get_next_key(policies, prev, &next) == 0) {
		/* Not known to be gone (or not known at all): left for a later run. */
		if (mg_cgroup_alive(next, &ignored) == 0) {
			forget_retired(dir, policies, next);
			continue; /* restart from prev: next is gone */
		}
		id = next;
		prev = &id;
	}
	if (bpf_map_get_next_key(policies, NULL, &next) == 0)
		return 0;
	syslog(LOG_NOTICE, "the last container of %s is gone: removing it", dir);
	release_tree(dir, &ignored);
	return 0;
}

static int found(const char *path, void *arg)
{
	return 1;
}

bool mg_shared_retired_exist(void)
{
	return for_each_tree(TREE_RETIRED, found, NULL) > 0;
}

void mg_shared_serve_retired(const char *stopped_id)
{
	char path[512];
	__u64 layout;

	/* Only an older layout: an older memgate never retires a newer one's tree. */
	if (mg_shared_exists() && (layout = tree_layout(MG_PIN_DIR)) < MG_LAYOUT_VERSION) {
		snprintf(path, sizeof(path), RETIRED_PREFIX "%" PRIu64 "-%d", (uint64_t)layout,
			 getpid());
		if (rename(MG_PIN_DIR, path) == 0)
			syslog(LOG_NOTICE,
			       "%s held layout %" PRIu64 ", this memgate uses %d: moved to %s, "
			       "where it serves its containers until the last one stops",
			       MG_PIN_DIR, (uint64_t)layout, MG_LAYOUT_VERSION, path);
	}
	for_each_tree(TREE_RETIRED, serve_retired_tree, (void *)stopped_id);
}

struct retired_list {
	struct mg_retired *out;
	size_t max, n;
};

static int list_one(const char *path, void *arg)
{
	struct retired_list *list = arg;
	struct mg_retired spare, *r = list->n < list->max ? &list->out[list->n] : &spare;
	struct bpf_map_info info;
	_cleanup_close_ int policies = -1;

	snprintf(r->path, sizeof(r->path), "%s", path);
	r->layout = tree_layout(path);
	if (!strcmp(path, MG_PIN_DIR) && r->layout == MG_LAYOUT_VERSION)
		return 0;
	policies = open_pinned_map(path, "policies", &info);
	r->containers = policies < 0 ? 0 : count_keys(policies, info.key_size);
	list->n++;
	return 0;
}

size_t mg_shared_list_retired(struct mg_retired *out, size_t max)
{
	struct retired_list list = { out, max, 0 };

	if (mg_shared_exists())
		list_one(MG_PIN_DIR, &list);
	for_each_tree(TREE_RETIRED, list_one, &list);
	return list.n;
}

int mg_shared_remove_all(struct mg_error *err)
{
	struct removal r = {};

	for_each_tree(TREE_STALE | TREE_RETIRED, remove_counted, &r);
	if (r.error)
		return mg_fail_errno(err, r.error, "cannot remove %s", r.failed);
	if (access(MG_PIN_DIR, F_OK) < 0)
		return r.removed;
	if (release_tree(MG_PIN_DIR, err) < 0)
		return -err->code;
	return r.removed + 1;
}

uint64_t mg_shared_skipped_runs(void)
{
	_cleanup_closedir_ DIR *links = opendir(MG_PIN_DIR "/links");
	uint64_t skipped = 0;
	struct dirent *de;
	char path[1024];

	while (links && (de = readdir(links))) {
		struct bpf_link_info link_info = {};
		struct bpf_prog_info prog_info = {};
		__u32 len = sizeof(link_info);
		_cleanup_close_ int link = -1, prog = -1;

		/* Fork gates share one lsm_cgroup program, which is never skipped. */
		if (de->d_name[0] == '.' ||
		    !strncmp(de->d_name, FORK_LINK_PREFIX, strlen(FORK_LINK_PREFIX)))
			continue;
		snprintf(path, sizeof(path), MG_PIN_DIR "/links/%s", de->d_name);
		link = bpf_obj_get(path);
		if (link < 0 || bpf_obj_get_info_by_fd(link, &link_info, &len) < 0)
			continue;
		prog = bpf_prog_get_fd_by_id(link_info.prog_id);
		len = sizeof(prog_info);
		if (prog >= 0 && bpf_obj_get_info_by_fd(prog, &prog_info, &len) == 0)
			skipped += prog_info.recursion_misses;
	}
	return skipped;
}

int mg_pin_open(struct mg_shared *s, struct mg_error *err)
{
	_cleanup_close_ int bpffs = -1, tree = -1;
	char path[512];
	__u64 layout;

	if (!mg_shared_exists())
		return mg_fail(err, ENOENT, "no memgate state at %s: no container is under policy",
			       MG_PIN_DIR);
	/* Readers too (status, events) take maps only from a tree root made. */
	bpffs = open_bpffs(err);
	if (bpffs < 0)
		return bpffs;
	tree = open_trusted_dir(bpffs, "memgate", MG_PIN_DIR,
				"if root did not make it, remove it (`rm -r " MG_PIN_DIR "`)", err);
	if (tree < 0)
		return tree;
	/* Before any map: another layout may name or shape them differently. */
	layout = tree_layout(MG_PIN_DIR);
	if (layout > MG_LAYOUT_VERSION)
		return mg_fail(err, EPROTO,
			       "%s holds memgate state of layout %" PRIu64 ", newer than this "
			       "memgate's %d: run the newer memgate-hook, or stop its containers first",
			       MG_PIN_DIR, (uint64_t)layout, MG_LAYOUT_VERSION);
	if (layout != MG_LAYOUT_VERSION)
		return mg_fail(err, EPROTO,
			       "%s holds memgate state of layout %" PRIu64 ", older than this "
			       "memgate's %d: the next container start or `memgate gc` moves it "
			       "aside and serves its containers until they stop",
			       MG_PIN_DIR, (uint64_t)layout, MG_LAYOUT_VERSION);
	for (size_t i = 0; i < sizeof(shared_maps) / sizeof(shared_maps[0]); i++) {
		snprintf(path, sizeof(path), MG_PIN_DIR "/maps/%s", shared_maps[i].name);
		SHARED_FD(s, i) = bpf_obj_get(path);
		if (SHARED_FD(s, i) < 0)
			return mg_fail_errno(err, errno, "cannot open pinned map %s", path);
	}
	return 0;
}

int mg_shared_release_if_unused(struct mg_shared *s, struct mg_error *err)
{
	__u64 key;

	/* Only a tree whose policies we read: never another layout's, never unopened. */
	if (s->policies < 0 || bpf_map_get_next_key(s->policies, NULL, &key) == 0 ||
	    mg_shared_kept())
		return 0;
	return release_tree(MG_PIN_DIR, err);
}

bool mg_shared_kept(void)
{
	return access(KEEP_MARK, F_OK) == 0;
}

int mg_shared_keep(struct mg_shared *s, bool keep, struct mg_error *err)
{
	if (keep) {
		if (mkdir(KEEP_MARK, 0700) < 0 && errno != EEXIST)
			return mg_fail_errno(err, errno, "cannot create %s", KEEP_MARK);
		return 0;
	}
	if (rmdir(KEEP_MARK) < 0 && errno != ENOENT)
		return mg_fail_errno(err, errno, "cannot remove %s", KEEP_MARK);
	return mg_shared_release_if_unused(s, err);
}

void mg_shared_close(struct mg_shared *s)
{
	for (size_t i = 0; i < sizeof(shared_maps) / sizeof(shared_maps[0]); i++) {
		if (SHARED_FD(s, i) >= 0)
			close(SHARED_FD(s, i));
		SHARED_FD(s, i) = -1;
	}
	if (s->lock >= 0)
		close(s->lock);
	s->lock = -1;
}
