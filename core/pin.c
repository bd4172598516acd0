// SPDX-License-Identifier: GPL-2.0-only
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
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_monitor.h"
#include "mg_oci.h"
#include "mg_read.h"
#include "mg_probe.h"
#include "mg_shared.h"
#include "memgate.skel.h"
#include "monitor.skel.h"

#define BPFFS "/sys/fs/bpf"
#define STAGING_PREFIX BPFFS "/memgate-staging-"
#define DEAD_PREFIX BPFFS "/memgate-dead-"
#define RETIRED_PREFIX BPFFS "/memgate-retired-"
/* A directory whose presence keeps the tree loaded with no policy (memgate preload). */
#define KEEP_MARK MG_PIN_DIR "/keep"
/* links/fork-gate-<cgroup id>: a container's fork gate, in every layout. */
#define FORK_LINK_PREFIX "fork-gate-"

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

int mg_container_key(const char *id, struct mg_container_key *key, struct mg_error *err)
{
	size_t len = strlen(id);

	if (len == 0 || len >= sizeof(key->id))
		return mg_fail(err, ENAMETOOLONG,
			       "OCI state: container \"id\" must be 1 to %zu characters, got %zu",
			       sizeof(key->id) - 1, len);
	memset(key, 0, sizeof(*key));
	memcpy(key->id, id, len);
	return 0;
}

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

static int ensure_bpffs(struct mg_error *err)
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
static int remove_tree(const char *path)
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

	if (remove_tree(path) == 0)
		r->removed++;
	else if (!r->error) {
		r->error = errno;
		snprintf(r->failed, sizeof(r->failed), "%s", path);
	}
	return 0;
}

/* Staging or dying trees left by hooks that were killed; we hold the lock. */
static void remove_stale_trees(void)
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

static void kube_path(uint64_t cgroup_id, char *path, size_t size)
{
	snprintf(path, size, MG_KUBE_DIR "/%" PRIu64, cgroup_id);
}

static void forget_kube(uint64_t cgroup_id)
{
	char path[128];

	kube_path(cgroup_id, path, sizeof(path));
	unlink(path);
}

/* With no container left under policy, no names either. */
static void forget_all_kube(void)
{
	_cleanup_closedir_ DIR *dir = opendir(MG_KUBE_DIR);
	struct dirent *de;

	while (dir && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(dir), de->d_name, 0);
}

int mg_shared_set_kube(uint64_t cgroup_id, const struct mg_kube_names *names,
		       struct mg_error *err)
{
	_cleanup_json_ json_object *obj = json_object_new_object();
	char path[128], tmp[160];
	const char *text;
	_cleanup_close_ int fd = -1;
	size_t len;

	if (!obj)
		return mg_fail(err, ENOMEM, "cannot record the container's Kubernetes names");
	json_object_object_add(obj, "namespace", json_object_new_string(names->namespace));
	json_object_object_add(obj, "pod", json_object_new_string(names->pod));
	json_object_object_add(obj, "container", json_object_new_string(names->container));
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	if (mkdir(MG_KUBE_DIR, 0700) < 0 && errno != EEXIST)
		return mg_fail_errno(err, errno, "cannot create %s", MG_KUBE_DIR);
	kube_path(cgroup_id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.%d", path, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return mg_fail_errno(err, errno, "cannot create %s", tmp);
	if (write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
		mg_fail_errno(err, errno, "cannot write %s", path);
		unlink(tmp);
		return -err->code;
	}
	return 0;
}

int mg_shared_get_kube(uint64_t cgroup_id, struct mg_kube_names *names)
{
	_cleanup_json_ json_object *obj = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct mg_error ignored;
	char *dst[] = { names->namespace, names->pod, names->container };
	static const char *const keys[] = { "namespace", "pod", "container" };
	char path[128];
	size_t len;

	memset(names, 0, sizeof(*names));
	kube_path(cgroup_id, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (mg_read_bounded(fd, 4096, path, &buf, &len, &ignored) < 0 ||
	    mg_json_parse_object(buf, len, path, &obj, &ignored) < 0)
		return -EINVAL;
	for (size_t i = 0; i < 3; i++) {
		json_object *v;

		if (json_object_object_get_ex(obj, keys[i], &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(dst[i], MG_KUBE_NAME_LEN, "%s", json_object_get_string(v));
	}
	return names->container[0] ? 0 : -EINVAL;
}

/* Its policy first: after that one delete the old programs decide nothing for it. */
static void forget_retired(const char *dir, int policies, __u64 cgroup_id)
{
	char path[1024];

	bpf_map_delete_elem(policies, &cgroup_id);
	snprintf(path, sizeof(path), "%s/links/" FORK_LINK_PREFIX "%" PRIu64, dir,
		 (uint64_t)cgroup_id);
	unlink(path);
	forget_kube(cgroup_id);
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
		forget_all_kube();
	if (remove_tree(dead) < 0)
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

static bool lsm_active(const char *name)
{
	_cleanup_free_ char *list = NULL;
	struct mg_error ignored;
	size_t len = strlen(name);

	if (access("/sys/kernel/security/lsm", F_OK) < 0)
		mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	if (mg_read_file("/sys/kernel/security/lsm", 4096, &list, &ignored) < 0)
		return false;
	for (char *p = list; (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\n' || !p[len]))
			return true;
	return false;
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

	ret = ensure_bpffs(err);
	if (ret < 0)
		return ret;
	remove_stale_trees();
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
	bpf_lsm = lsm_active("bpf");
	for (int kfuncs = mg_probe_memcg_kfuncs(); !skel && kfuncs >= 0; kfuncs--) {
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
		remove_tree(staging);
	return ret;
}

int mg_shared_open(struct mg_shared *s, bool create, struct mg_error *err)
{
	_cleanup_close_ int bpffs = -1, tree = -1;
	char path[512];
	__u64 layout;
	int ret;

	if (!mg_shared_exists()) {
		if (!create)
			return mg_fail(err, ENOENT, "no memgate state at %s: no container is under policy",
				       MG_PIN_DIR);
		ret = load_and_pin(err);
		if (ret < 0)
			return ret;
	}
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

void mg_shared_support(struct mg_support *support, const struct mg_shared *s)
{
	struct mg_globals g = {};
	bool loaded = s && s->globals >= 0;
	__u32 zero = 0;

	memset(support, 0, sizeof(*support));
	if (loaded)
		bpf_map_lookup_elem(s->globals, &zero, &g);
	support->monitor = !loaded || access(MG_PIN_DIR "/links/cgroup_rmdir", F_OK) == 0;
	support->commit = !loaded || access(MG_PIN_DIR "/links/vm_enough", F_OK) == 0;
	if (!support->commit)
		snprintf(support->why_not_commit, sizeof(support->why_not_commit),
			 "memgate's enforcement programs (fmod_ret, fentry) can not run here: %s "
			 "(see `memgate probe`)",
			 strerror(g.enforce_error ? (int)-g.enforce_error : ENOENT));
	if (loaded && !support->commit)
		snprintf(support->why_not_fork, sizeof(support->why_not_fork), "%s",
			 support->why_not_commit);
	else if (loaded && access(MG_PIN_DIR "/progs/task_alloc", F_OK) < 0)
		snprintf(support->why_not_fork, sizeof(support->why_not_fork),
			 "this kernel does not load lsm_cgroup programs");
	else if (!lsm_active("bpf"))
		snprintf(support->why_not_fork, sizeof(support->why_not_fork),
			 "the BPF LSM is not active (add \"bpf\" to the kernel's lsm= list)");
	else
		support->fork_gate = true;
}

static void fork_link_path(uint64_t cgroup_id, char *path, size_t size)
{
	snprintf(path, size, MG_PIN_DIR "/links/" FORK_LINK_PREFIX "%" PRIu64, cgroup_id);
}

static int attach_fork_gate(uint64_t cgroup_id, int cgroup_fd, __u64 *link_id,
			    struct mg_error *err)
{
	_cleanup_close_ int prog = bpf_obj_get(MG_PIN_DIR "/progs/task_alloc");
	_cleanup_close_ int link = -1;
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[512];

	if (prog < 0)
		return mg_fail_errno(err, errno, "cannot open %s/progs/task_alloc", MG_PIN_DIR);
	link = bpf_link_create(prog, cgroup_fd, BPF_LSM_CGROUP, NULL);
	if (link < 0)
		return mg_fail_errno(err, errno, "cannot attach the fork gate to the cgroup");
	fork_link_path(cgroup_id, path, sizeof(path));
	if (bpf_obj_pin(link, path) < 0)
		return mg_fail_errno(err, errno, "cannot pin %s", path);
	if (bpf_obj_get_info_by_fd(link, &info, &len) == 0)
		*link_id = info.id;
	return 0;
}

void mg_shared_forget_cgroup(struct mg_shared *s, uint64_t cgroup_id)
{
	struct mg_container_key key;
	struct mg_container container;
	char path[512];

	/*
	 * Its address spaces leave memgate_mms at exit_mmap, and one that
	 * moved elsewhere is no longer governed once the policy is gone: no
	 * walk over other containers' entries.  stats goes last, as it came
	 * first in mg_shared_add: while any entry is left, stats is, and the
	 * programs queue the cgroup when it is removed.
	 */
	bpf_map_delete_elem(s->policies, &cgroup_id);
	fork_link_path(cgroup_id, path, sizeof(path));
	unlink(path);
	forget_kube(cgroup_id);
	if (bpf_map_lookup_elem(s->names, &cgroup_id, &key) == 0) {
		if (bpf_map_lookup_elem(s->containers, &key, &container) == 0 &&
		    container.cgroup_id == cgroup_id)
			bpf_map_delete_elem(s->containers, &key);
		bpf_map_delete_elem(s->names, &cgroup_id);
	}
	bpf_map_delete_elem(s->stats, &cgroup_id);
}

int mg_shared_forget_dead(struct mg_shared *s, struct mg_error *err)
{
	__u64 id, next, *prev = NULL;
	int forgotten = 0, alive;

	while (bpf_map_get_next_key(s->stats, prev, &next) == 0) {
		alive = mg_cgroup_alive(next, err);
		if (alive < 0)
			return alive;
		if (!alive) {
			mg_shared_forget_cgroup(s, next);
			forgotten++;
			continue; /* restart from prev: next is gone */
		}
		id = next;
		prev = &id;
	}
	return forgotten;
}

void mg_shared_prune(struct mg_shared *s)
{
	struct mg_error ignored;
	struct mg_globals g;
	__u64 id;
	__u32 zero = 0;

	/* Peek, forget, then pop: a hook killed in between leaves the id queued. */
	while (bpf_map_lookup_elem(s->dead, NULL, &id) == 0) {
		mg_shared_forget_cgroup(s, id);
		if (bpf_map_lookup_and_delete_elem(s->dead, NULL, &id) < 0)
			break;
	}
	if (bpf_map_lookup_elem(s->globals, &zero, &g) < 0 || !g.dead_dropped)
		return;
	/* The queue overflowed: look at every cgroup once; again next run if that failed. */
	if (mg_shared_forget_dead(s, &ignored) < 0)
		return;
	g.dead_dropped = 0;
	bpf_map_update_elem(s->globals, &zero, &g, BPF_ANY);
}

/*
 * A start refused because its id names a live container under policy:
 * /run/memgate/refused-<hash of the id> (never a path from the id's bytes)
 * tells the poststop the runtime then runs for it that it is not the first's.
 */
static void refused_path(const char *id, char *path, size_t size)
{
	uint64_t hash = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		hash = (hash ^ *p) * 0x100000001b3ULL;
	snprintf(path, size, MG_LOCK_DIR "/refused-%016" PRIx64, hash);
}

static void mark_refused(const char *id)
{
	char path[64];
	int fd;

	refused_path(id, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

int mg_shared_add(struct mg_shared *s, const char *id, uint64_t cgroup_id, int cgroup_fd,
		  const struct mg_policy *policy, struct mg_error *err)
{
	struct mg_container container = { .cgroup_id = cgroup_id };
	struct mg_container_key key;
	struct mg_stats stats = {};
	struct mg_policy existing;
	int ret;

	ret = mg_container_key(id, &key, err);
	if (ret < 0)
		return ret;
	if (bpf_map_lookup_elem(s->containers, &key, &container) == 0) {
		/* prestart and createRuntime both ran, or a stale entry of a reused id. */
		if (container.cgroup_id == cgroup_id &&
		    bpf_map_lookup_elem(s->policies, &cgroup_id, &existing) == 0 &&
		    !memcmp(&existing, policy, sizeof(existing)))
			return 0;
		/* Another container's, live: a second one under its id takes nothing of it. */
		if (container.cgroup_id != cgroup_id) {
			ret = mg_cgroup_alive(container.cgroup_id, err);
			if (ret < 0)
				return ret;
			if (ret) {
				char printable[sizeof(key.id)];

				mark_refused(id);
				mg_printable(printable, sizeof(printable), id);
				return mg_fail(err, EEXIST,
					       "container id \"%s\" is already in use by a live "
					       "container under memgate policy (cgroup %" PRIu64
					       "); a second container can not take its id",
					       printable, (uint64_t)container.cgroup_id);
			}
		}
		mg_shared_forget_cgroup(s, container.cgroup_id);
		bpf_map_delete_elem(s->containers, &key);
		container = (struct mg_container){ .cgroup_id = cgroup_id };
	}
	if (bpf_map_lookup_elem(s->policies, &cgroup_id, &existing) == 0)
		return mg_fail(err, EEXIST,
			       "cgroup %" PRIu64 " already has a memgate policy from another container",
			       cgroup_id);

	if (bpf_map_update_elem(s->stats, &cgroup_id, &stats, BPF_ANY) < 0) {
		ret = mg_fail_errno(err, errno, "cannot add to %s/maps/stats", MG_PIN_DIR);
		goto undo;
	}
	if (policy->fork_gate) {
		ret = attach_fork_gate(cgroup_id, cgroup_fd, &container.fork_link_id, err);
		if (ret < 0)
			goto undo;
	}
	if (bpf_map_update_elem(s->policies, &cgroup_id, policy, BPF_NOEXIST) < 0) {
		ret = mg_fail_errno(err, errno, "cannot add to %s/maps/policies", MG_PIN_DIR);
		goto undo;
	}
	if (bpf_map_update_elem(s->names, &cgroup_id, &key, BPF_ANY) < 0) {
		ret = mg_fail_errno(err, errno, "cannot add to %s/maps/names", MG_PIN_DIR);
		goto undo;
	}
	if (bpf_map_update_elem(s->containers, &key, &container, BPF_ANY) < 0) {
		ret = mg_fail_errno(err, errno, "cannot add to %s/maps/containers", MG_PIN_DIR);
		goto undo;
	}
	/* Removed before its policy was in place: the programs could not queue it. */
	ret = mg_cgroup_alive(cgroup_id, err);
	if (ret == 0)
		ret = mg_fail(err, ENOENT, "the container's cgroup %" PRIu64 " was removed during start",
			      cgroup_id);
	if (ret < 0)
		goto undo;
	return 0;
undo:
	mg_shared_forget_cgroup(s, cgroup_id);
	return ret;
}

int mg_shared_remove(struct mg_shared *s, const char *id, struct mg_error *err)
{
	struct mg_container_key key;
	struct mg_container container;
	struct mg_error ignored;
	char path[64];

	/* An id memgate can not key was refused at start: it has no entry. */
	if (mg_container_key(id, &key, &ignored) < 0)
		return 0;
	if (bpf_map_lookup_elem(s->containers, &key, &container) < 0)
		return 0;
	/*
	 * A start under this id was refused while this one ran.  Processes
	 * still in its cgroup: this poststop is the refused container's, not
	 * this one's (a stopped container's processes are gone by its poststop).
	 */
	refused_path(id, path, sizeof(path));
	if (unlink(path) == 0 && mg_cgroup_populated(container.cgroup_id) > 0) {
		char printable[sizeof(key.id)];

		mg_printable(printable, sizeof(printable), id);
		syslog(LOG_NOTICE,
		       "poststop for container id %s: the container under policy with that id "
		       "still runs in cgroup %" PRIu64 ", so its policy stays",
		       printable, (uint64_t)container.cgroup_id);
		return 0;
	}
	mg_shared_forget_cgroup(s, container.cgroup_id);
	bpf_map_delete_elem(s->containers, &key);
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
