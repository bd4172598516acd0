// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <bpf/libbpf.h>

#include "mg_monitor.h"
#include "monitor.skel.h"

static struct monitor_bpf *try_load(bool task_victim, bool reclaim, int *load_err)
{
	struct monitor_bpf *skel = monitor_bpf__open();

	if (!skel) {
		*load_err = -errno;
		return NULL;
	}
	bpf_program__set_autoload(skel->progs.mg_oom_victim, task_victim);
	bpf_program__set_autoload(skel->progs.mg_oom_victim_pid, !task_victim);
	bpf_program__set_autoload(skel->progs.mg_oom_signal, !task_victim);
	bpf_program__set_autoload(skel->progs.mg_reclaim_begin, reclaim);
	bpf_program__set_autoload(skel->progs.mg_reclaim_end, reclaim);
	*load_err = monitor_bpf__load(skel);
	if (*load_err) {
		monitor_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct monitor_bpf *mg_monitor_load(int *load_err)
{
	/*
	 * Today's kernels first: mark_victim(task, uid) (6.8+, and backported)
	 * and the memcg reclaim tracepoints.  Where the verifier refuses a
	 * variant the next one loads, so no cold start parses vmlinux BTF a
	 * second time to choose.
	 */
	static const struct {
		bool task_victim, reclaim;
	} tries[] = { { true, true }, { false, true }, { true, false }, { false, false } };
	struct monitor_bpf *skel = NULL;

	for (size_t i = 0; !skel && i < sizeof(tries) / sizeof(tries[0]); i++)
		skel = try_load(tries[i].task_victim, tries[i].reclaim, load_err);
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
