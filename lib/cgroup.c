// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_read.h"

/* The mount point of one mountinfo line when it is a cgroup2 mount: 1, else 0. */
static int cgroup2_mount_line(const char *line, size_t len, char *mount, size_t size,
			      struct mg_error *err)
{
	/* "36 25 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw" */
	const char *p = line, *end = line + len;

	if (!memmem(line, len, " - cgroup2 ", 11))
		return 0;
	for (int field = 0; field < 4; field++) {
		p = memchr(p, ' ', end - p);
		if (!p)
			return 0;
		p++;
	}
	len = (const char *)strchrnul(p, ' ') - p;
	if (p + len > end)
		len = end - p;
	if (len == 0)
		return 0;
	if (len >= size)
		return mg_fail(err, ENAMETOOLONG, "/proc/self/mountinfo: cgroup2 mount point too long");
	memcpy(mount, p, len);
	mount[len] = '\0';
	return 1;
}

static int no_cgroup2(struct mg_error *err)
{
	return mg_fail(err, ENOENT, "/proc/self/mountinfo: no cgroup2 filesystem is mounted "
				    "(memgate needs cgroup v2)");
}

int mg_cgroup2_mount_parse(const char *mountinfo, char *mount, size_t size, struct mg_error *err)
{
	const char *line = mountinfo;
	int ret;

	while (line && *line) {
		const char *end = strchrnul(line, '\n');

		ret = cgroup2_mount_line(line, end - line, mount, size, err);
		if (ret)
			return ret < 0 ? ret : 0;
		line = *end ? end + 1 : NULL;
	}
	return no_cgroup2(err);
}

int mg_cgroup2_mount_find(FILE *mountinfo, char *mount, size_t size, struct mg_error *err)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret;

	/* A line at a time, up to the first cgroup2 mount: mountinfo may hold any number. */
	while ((len = getline(&line, &cap, mountinfo)) >= 0) {
		ret = cgroup2_mount_line(line, len, mount, size, err);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	if (ferror(mountinfo))
		return mg_fail_errno(err, errno, "/proc/self/mountinfo: read failed");
	return no_cgroup2(err);
}

int mg_cgroup_path_parse(const char *proc_cgroup, char *path, size_t size, struct mg_error *err)
{
	const char *line = proc_cgroup;

	while (line && *line) {
		const char *end = strchrnul(line, '\n');

		if (!strncmp(line, "0::", 3)) {
			size_t len = end - line - 3;

			if (len == 0 || line[3] != '/')
				return mg_fail(err, EINVAL, "malformed cgroup v2 entry in /proc/PID/cgroup");
			if (len >= size)
				return mg_fail(err, ENAMETOOLONG, "cgroup path too long");
			memcpy(path, line + 3, len);
			path[len] = '\0';
			return 0;
		}
		line = *end ? end + 1 : NULL;
	}
	return mg_fail(err, ENOENT, "the process is in no cgroup v2 (no \"0::\" line)");
}

/* A cgroup2 file handle is the cgroup's 64-bit id (FILEID_KERNFS). */
struct cgroup_handle {
	struct file_handle fh;
	uint64_t id;
};

static int cgroup_id_of(const char *dir, uint64_t *id, struct mg_error *err)
{
	struct cgroup_handle handle = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, dir, &handle.fh, &mount_id, 0) < 0)
		return mg_fail_errno(err, errno, "cannot get the cgroup id of %s", dir);
	*id = handle.id;
	return 0;
}

static bool is_cgroup2(const char *dir)
{
	struct statfs fs;

	return statfs(dir, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

/*
 * The cgroup2 mount point, as this process sees it: found once per process,
 * where systemd and the runtimes mount it, else from mountinfo.
 */
static int cgroup2_mount(char *mount, size_t size, struct mg_error *err)
{
	static char found[4096];
	FILE *mountinfo;
	int ret;

	if (!found[0]) {
		if (is_cgroup2("/sys/fs/cgroup")) {
			strcpy(found, "/sys/fs/cgroup");
		} else if (is_cgroup2("/sys/fs/cgroup/unified")) {
			strcpy(found, "/sys/fs/cgroup/unified");
		} else {
			mountinfo = fopen("/proc/self/mountinfo", "re");
			if (!mountinfo)
				return mg_fail_errno(err, errno, "cannot open /proc/self/mountinfo");
			ret = mg_cgroup2_mount_find(mountinfo, found, sizeof(found), err);
			fclose(mountinfo);
			if (ret < 0) {
				found[0] = '\0';
				return ret;
			}
		}
	}
	if (strlen(found) >= size)
		return mg_fail(err, ENAMETOOLONG, "cgroup2 mount point %s too long", found);
	strcpy(mount, found);
	return 0;
}

/* The cgroup2 mount, opened once per process: every id is looked up through it. */
static int cgroup2_mount_fd(struct mg_error *err)
{
	static int fd = -1;
	char mount[4096];
	int ret;

	if (fd >= 0)
		return fd;
	ret = cgroup2_mount(mount, sizeof(mount), err);
	if (ret < 0)
		return ret;
	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mg_fail_errno(err, errno, "cannot open the cgroup2 mount %s", mount);
	return fd;
}

int mg_cgroup_alive(uint64_t id, struct mg_error *err)
{
	struct cgroup_handle handle = { .fh.handle_bytes = sizeof(uint64_t), .fh.handle_type = 1,
					.id = id };
	_cleanup_close_ int fd = -1;
	int mount_fd = cgroup2_mount_fd(err);

	if (mount_fd < 0)
		return mount_fd;
	fd = open_by_handle_at(mount_fd, &handle.fh, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return 1;
	if (errno == ESTALE || errno == ENOENT)
		return 0;
	return mg_fail_errno(err, errno, "cannot tell whether cgroup %" PRIu64 " exists", id);
}

int mg_cgroup_populated(uint64_t id)
{
	struct cgroup_handle handle = { .fh.handle_bytes = sizeof(uint64_t), .fh.handle_type = 1,
					.id = id };
	_cleanup_close_ int dir = -1, fd = -1;
	struct mg_error ignored;
	int mount_fd = cgroup2_mount_fd(&ignored);
	char text[256];
	ssize_t n;

	if (mount_fd < 0)
		return mount_fd;
	dir = open_by_handle_at(mount_fd, &handle.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return errno == ESTALE || errno == ENOENT ? 0 : -errno;
	fd = openat(dir, "cgroup.events", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (n < 0)
		return -errno;
	text[n] = '\0';
	return strstr(text, "populated 1") != NULL;
}

/* A "key value" line of a flat-keyed cgroup file (memory.events). */
static bool keyed_value(const char *text, const char *key, uint64_t *value)
{
	size_t len = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, key, len) && line[len] == ' ')
			return sscanf(line + len + 1, "%" SCNu64, value) == 1;
	return false;
}

int mg_cgroup_memory_usage(uint64_t id, struct mg_cgroup_memory *mem)
{
	struct cgroup_handle handle = { .fh.handle_bytes = sizeof(uint64_t), .fh.handle_type = 1,
					.id = id };
	_cleanup_close_ int dir = -1;
	struct mg_error ignored;
	char text[1024];
	const char *files[] = { "memory.peak", "memory.events" };
	int mount_fd = cgroup2_mount_fd(&ignored);

	memset(mem, 0, sizeof(*mem));
	if (mount_fd < 0)
		return -ENOENT;
	dir = open_by_handle_at(mount_fd, &handle.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		_cleanup_close_ int fd = openat(dir, files[i], O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

		if (n < 0)
			continue;
		text[n] = '\0';
		if (i == 0)
			mem->has_peak = sscanf(text, "%" SCNu64, &mem->peak_bytes) == 1;
		else
			mem->has_events = keyed_value(text, "oom_kill", &mem->oom_kills);
	}
	return 0;
}

/* The cgroup /proc/<pid>/cgroup (file) names. */
static int cgroup_of(const char *file, struct mg_cgroup *cg, struct mg_error *err)
{
	_cleanup_free_ char *proc_cgroup = NULL;
	char mount[4096], rel[4096];
	int ret;

	ret = cgroup2_mount(mount, sizeof(mount), err);
	if (ret < 0)
		return ret;
	ret = mg_read_file(file, 1 << 16, &proc_cgroup, err);
	if (ret < 0)
		return ret;
	ret = mg_cgroup_path_parse(proc_cgroup, rel, sizeof(rel), err);
	if (ret < 0) {
		mg_error_prefix(err, "%s", file);
		return ret;
	}
	if (snprintf(cg->path, sizeof(cg->path), "%s%s", mount, strcmp(rel, "/") ? rel : "") >=
	    (int)sizeof(cg->path))
		return mg_fail(err, ENAMETOOLONG, "cgroup path too long");
	cg->level = 0;
	for (const char *p = rel; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			cg->level++;
	return cgroup_id_of(cg->path, &cg->id, err);
}

int mg_cgroup_of_pid(pid_t pid, struct mg_cgroup *cg, struct mg_error *err)
{
	char file[64];

	if (pid <= 0)
		return mg_fail(err, EINVAL, "OCI state: \"pid\" is missing; expected the container's pid at this stage");
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	return cgroup_of(file, cg, err);
}

int mg_cgroup_of_self(struct mg_cgroup *cg, struct mg_error *err)
{
	return cgroup_of("/proc/self/cgroup", cg, err);
}

int mg_cgroup_memory_max(const struct mg_cgroup *cg, uint64_t *bytes, struct mg_error *err)
{
	_cleanup_free_ char *text = NULL;
	char file[4200];
	char *end;
	int ret;

	snprintf(file, sizeof(file), "%s/memory.max", cg->path);
	ret = mg_read_file(file, 64, &text, err);
	if (ret < 0)
		return ret;
	if (!strncmp(text, "max", 3)) {
		*bytes = 0;
		return 0;
	}
	errno = 0;
	*bytes = strtoull(text, &end, 10);
	if (errno || end == text)
		return mg_fail(err, EINVAL, "%s: expected a byte count or \"max\"", file);
	return 0;
}
