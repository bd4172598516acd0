/* SPDX-License-Identifier: GPL-2.0-only */
/* Finding a container's cgroup v2 from its pid, as the kernel sees it. */
#ifndef MG_CGROUP_H
#define MG_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mg_error.h"

struct mg_cgroup {
	char path[4096]; /* absolute directory, e.g. /sys/fs/cgroup/mg/ctr1 */
	uint64_t id;	 /* what bpf_get_current_cgroup_id() returns for it */
	unsigned level;	 /* 0 for the root */
};

/* The cgroup2 mount point in a mountinfo text (hybrid hosts included). */
int mg_cgroup2_mount_parse(const char *mountinfo, char *mount, size_t size, struct mg_error *err);

/* The same from an open mountinfo, read a line at a time up to its first cgroup2 mount. */
int mg_cgroup2_mount_find(FILE *mountinfo, char *mount, size_t size, struct mg_error *err);

/* The "0::/path" entry of a /proc/PID/cgroup text. */
int mg_cgroup_path_parse(const char *proc_cgroup, char *path, size_t size, struct mg_error *err);

/* The cgroup v2 of a live process. */
int mg_cgroup_of_pid(pid_t pid, struct mg_cgroup *cg, struct mg_error *err);

/* The caller's own, from /proc/self: right whichever PID namespace /proc shows. */
int mg_cgroup_of_self(struct mg_cgroup *cg, struct mg_error *err);

/*
 * Whether the cgroup with this id still exists: 1 or 0, by its id (one
 * open_by_handle_at on a mount opened once per process), or -errno when that
 * can not be told.  Never guess: a caller forgets nothing on an error.
 */
int mg_cgroup_alive(uint64_t id, struct mg_error *err);

/* Whether processes are in the cgroup or below it: 1, 0 (none, or gone), or -errno. */
int mg_cgroup_populated(uint64_t id);

/* memory.max in bytes; 0 when "max" (no limit). Fails if the file is absent. */
int mg_cgroup_memory_max(const struct mg_cgroup *cg, uint64_t *bytes, struct mg_error *err);

/* What the kernel's memcg says of a cgroup, read by its id; has_* false when absent. */
struct mg_cgroup_memory {
	bool has_peak;	 /* memory.peak: cgroup v2, Linux 5.19 and later */
	bool has_events; /* memory.events */
	uint64_t peak_bytes;
	uint64_t oom_kills; /* memory.events oom_kill: the kernel's own count */
};

/* 0, or -errno when the cgroup can not be opened (gone, or no cgroup2). */
int mg_cgroup_memory_usage(uint64_t id, struct mg_cgroup_memory *mem);

#endif
