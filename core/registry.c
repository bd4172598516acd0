// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry of containers under policy: a container's entries in the
 * pinned maps (containers, names, policies, stats), its fork gate's link,
 * its Kubernetes names; added whole or not at all, forgotten with its cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <syslog.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_oci.h"
#include "mg_read.h"
#include "mg_shared.h"
#include "core.h"

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

static void kube_path(uint64_t cgroup_id, char *path, size_t size)
{
	snprintf(path, size, MG_KUBE_DIR "/%" PRIu64, cgroup_id);
}

void mg_kube_forget(uint64_t cgroup_id)
{
	char path[128];

	kube_path(cgroup_id, path, sizeof(path));
	unlink(path);
}

/* With no container left under policy, no names either. */
void mg_kube_forget_all(void)
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
	mg_kube_forget(cgroup_id);
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
