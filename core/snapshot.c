// SPDX-License-Identifier: GPL-2.0-only
/*
 * A snapshot of memgate's state for readers (status, gc): every container
 * under policy, joined across the containers, policies and stats maps, with
 * its memcg figures and Kubernetes names and its pages in bytes; the
 * globals, the program runs the kernel skipped and the retired trees.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "mg_cgroup.h"
#include "mg_kernel.h"
#include "mg_snapshot.h"

int mg_snapshot_entries(const struct mg_shared *s, struct mg_snapshot_entry **out, size_t *count)
{
	struct mg_container_key key, cursor;
	struct mg_container container;
	struct mg_snapshot_entry *list = NULL, *grown;
	unsigned int shift = mg_kernel_page_shift();
	bool first = true;
	size_t n = 0;

	while (bpf_map_get_next_key(s->containers, first ? NULL : &cursor, &key) == 0) {
		struct mg_snapshot_entry e = {};

		first = false;
		cursor = key;
		if (bpf_map_lookup_elem(s->containers, &key, &container) < 0 ||
		    bpf_map_lookup_elem(s->policies, &container.cgroup_id, &e.policy) < 0)
			continue;
		memcpy(e.id, key.id, sizeof(e.id));
		e.cgroup_id = container.cgroup_id;
		bpf_map_lookup_elem(s->stats, &container.cgroup_id, &e.stats);
		mg_shared_get_kube(container.cgroup_id, &e.kube);
		mg_cgroup_memory_usage(container.cgroup_id, &e.memory);
		e.committed_bytes = mg_pages_to_bytes(e.stats.committed_pages, shift);
		e.committed_peak_bytes = mg_pages_to_bytes(e.stats.committed_peak_pages, shift);
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown) {
			free(list);
			return -ENOMEM;
		}
		list = grown;
		list[n++] = e;
	}
	*out = list;
	*count = n;
	return 0;
}

int mg_snapshot_take(struct mg_snapshot *snap, struct mg_error *err)
{
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	__u32 zero = 0;
	int ret;

	memset(snap, 0, sizeof(*snap));
	snap->loaded = mg_shared_exists();
	if (snap->loaded) {
		ret = mg_shared_open(&s, false, err);
		if (ret == -EPROTO) { /* another layout's: listed as retired */
			*err = (struct mg_error){};
			snap->loaded = false;
		} else if (ret < 0) {
			return ret;
		}
	}
	snap->n_retired = mg_shared_list_retired(snap->retired, MG_SNAPSHOT_RETIRED);
	if (!snap->loaded)
		return 0;
	bpf_map_lookup_elem(s.globals, &zero, &snap->globals);
	snap->skipped = mg_shared_skipped_runs();
	ret = mg_snapshot_entries(&s, &snap->entries, &snap->n);
	if (ret < 0)
		return mg_fail(err, -ret, "cannot read memgate's maps");
	snap->kept = mg_shared_kept();
	return 0;
}

void mg_snapshot_free(struct mg_snapshot *snap)
{
	free(snap->entries);
	snap->entries = NULL;
	snap->n = 0;
}
