/* SPDX-License-Identifier: GPL-2.0-only */
/* What readers of memgate's state render: one snapshot, taken once (core/snapshot.c). */
#ifndef MG_SNAPSHOT_H
#define MG_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memgate.h"
#include "mg_cgroup.h"
#include "mg_error.h"
#include "mg_policy.h"
#include "mg_shared.h"

struct mg_snapshot_entry {
	char id[MG_ID_LEN];
	struct mg_kube_names kube; /* container "" when not a Kubernetes container */
	uint64_t cgroup_id;
	struct mg_policy policy;
	struct mg_stats stats;
	struct mg_cgroup_memory memory; /* memory.peak and memory.events, read now */
	int64_t committed_bytes;	/* stats' pages in bytes, once: may be below 0 */
	int64_t committed_peak_bytes;
};

/* Retired trees a snapshot lists; n_retired counts them all. */
#define MG_SNAPSHOT_RETIRED 8

struct mg_snapshot {
	bool loaded; /* this layout's tree is there and open */
	bool kept;   /* memgate preload keeps it loaded */
	struct mg_globals globals;
	uint64_t skipped; /* mg_shared_skipped_runs() */
	struct mg_snapshot_entry *entries;
	size_t n;
	struct mg_retired retired[MG_SNAPSHOT_RETIRED];
	size_t n_retired;
};

/*
 * Open the tree read-only and read it all: a tree of another layout, or
 * none, is not loaded (its retired trees are listed still).  No lock taken.
 */
int mg_snapshot_take(struct mg_snapshot *snap, struct mg_error *err);
void mg_snapshot_free(struct mg_snapshot *snap);

/* The containers of an open tree (gc); -ENOMEM. */
int mg_snapshot_entries(const struct mg_shared *s, struct mg_snapshot_entry **out, size_t *count);

#endif
