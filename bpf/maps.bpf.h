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

#endif
