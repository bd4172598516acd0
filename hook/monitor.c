// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "mg_monitor.h"
#include "monitor.skel.h"

/* Parameters of a tracepoint's btf_trace_* prototype, the context included; -1 when absent. */
static int tracepoint_params(const struct btf *btf, const char *name)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return -1;
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t);
}

struct monitor_bpf *mg_monitor_load(int *load_err)
{
	struct btf *btf = btf__load_vmlinux_btf();
	/* (ctx, task, uid) since 6.8 and in backports; (ctx, pid) before. */
	int victim = tracepoint_params(btf, "btf_trace_mark_victim");
	bool reclaim = tracepoint_params(btf, "btf_trace_mm_vmscan_memcg_reclaim_begin") > 0 &&
		       tracepoint_params(btf, "btf_trace_mm_vmscan_memcg_reclaim_end") > 0;
	struct monitor_bpf *skel;

	btf__free(btf);
	skel = monitor_bpf__open();
	if (!skel) {
		*load_err = -errno;
		return NULL;
	}
	bpf_program__set_autoload(skel->progs.mg_oom_victim, victim >= 3);
	bpf_program__set_autoload(skel->progs.mg_oom_victim_pid, victim == 2);
	bpf_program__set_autoload(skel->progs.mg_oom_signal, victim == 2);
	bpf_program__set_autoload(skel->progs.mg_reclaim_begin, reclaim);
	bpf_program__set_autoload(skel->progs.mg_reclaim_end, reclaim);
	*load_err = monitor_bpf__load(skel);
	if (*load_err) {
		monitor_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

size_t mg_monitor_progs(struct monitor_bpf *skel, struct mg_monitor_prog out[MG_MONITOR_PROGS])
{
	const struct mg_monitor_prog all[] = {
		{skel->progs.mg_oom_victim, "oom_victim"},
		{skel->progs.mg_oom_victim_pid, "oom_victim"},
		{skel->progs.mg_oom_signal, "oom_signal"},
		{skel->progs.mg_reclaim_begin, "reclaim_begin"},
		{skel->progs.mg_reclaim_end, "reclaim_end"},
		{skel->progs.mg_cgroup_rmdir, "cgroup_rmdir"},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < MG_MONITOR_PROGS; i++)
		if (bpf_program__fd(all[i].prog) >= 0)
			out[n++] = all[i];
	return n;
}

void mg_monitor_destroy(struct monitor_bpf *skel)
{
	monitor_bpf__destroy(skel);
}
