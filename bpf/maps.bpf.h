/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The maps every container shares, pinned under MG_PIN_DIR/maps.  Both BPF
 * objects define them alike: the monitor object (monitor.bpf.c) creates
 * them, and the enforcement object (memgate.bpf.c) reuses its maps
 * (bpf_map__reuse_fd) before it loads, so the two see the same state.
 */
#ifndef MG_MAPS_BPF_H
#define MG_MAPS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct mg_policy);
} mg_policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct mg_stats);
} mg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_MMS);
	__type(key, __u64);
	__type(value, struct mg_mm);
} mg_mms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(key, struct mg_container_key);
	__type(value, struct mg_container);
} mg_containers SEC(".maps");

/* Written and read by the hook only: which container a pruned cgroup was. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct mg_container_key);
} mg_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_globals);
} mg_globals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MG_EVENTS_BYTES);
} mg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, MG_MAX_CGROUPS);
	__type(value, __u64);
} mg_dead SEC(".maps");

static __always_inline struct mg_globals *globals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mg_globals, &zero);
}

/* One record for `memgate events`; a full ring buffer is counted, not waited on. */
static __always_inline void emit_event(__u64 cgroup_id, const struct mg_denial *d, bool audited)
{
	struct mg_event *event = bpf_ringbuf_reserve(&mg_events, sizeof(*event), 0);
	struct mg_globals *g;

	if (!event) {
		g = globals();
		if (g)
			__sync_fetch_and_add(&g->events_dropped, 1);
		return;
	}
	event->cgroup_id = cgroup_id;
	event->d = *d;
	event->audited = audited;
	event->pad = 0;
	bpf_ringbuf_submit(event, 0);
}

#endif
