// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate probe [--json] [--verbose]: one verdict per knob and mode, then
 * each mechanism core/probe.c tried, and the monitor.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "mg_kernel.h"
#include "mg_probe.h"
#include "cli.h"

/* One verdict per knob and mode: can it apply here, and why (not). */
struct verdict {
	const char *name;
	bool yes;
	char why[300];
};

enum { V_COMMIT, V_PRESSURE, V_FORK, V_AUDIT, V_MONITOR, V_COUNT };

static void verdicts(const struct mg_probe_result *r, const struct mg_probe_monitor *mon,
		     enum mg_memcg_source memcg, struct verdict v[V_COUNT])
{
	const struct mg_probe_result *fmod = &r[MG_PROBE_FMOD_RET], *fentry = &r[MG_PROBE_FENTRY];
	const struct mg_probe_result *lsmcg = &r[MG_PROBE_LSM_CGROUP], *lsm = &r[MG_PROBE_LSM];
	bool commit = fmod->fires && fentry->fires;

	v[V_COMMIT] = (struct verdict){ .name = mg_knob_name(MG_KNOB_COMMIT_LIMIT), .yes = commit };
	if (commit)
		snprintf(v[V_COMMIT].why, sizeof(v[0].why),
			 "fmod_ret decides each commit; fentry and fexit programs count releases");
	else
		snprintf(v[V_COMMIT].why, sizeof(v[0].why), "%s: %s", fmod->fires ? "fentry" : "fmod_ret",
			 fmod->fires ? fentry->why_not : fmod->why_not);
	v[V_PRESSURE] = (struct verdict){ .name = mg_knob_name(MG_KNOB_PRESSURE_GATE), .yes = commit };
	if (commit)
		snprintf(v[V_PRESSURE].why, sizeof(v[0].why),
			 "decided where commit-limit is; memory in use read through %s",
			 mg_memcg_source_id(memcg));
	else
		snprintf(v[V_PRESSURE].why, sizeof(v[0].why), "as commit-limit");
	v[V_FORK] = (struct verdict){ .name = mg_knob_name(MG_KNOB_FORK_GATE), .yes = commit && lsmcg->fires && lsm->fires };
	if (v[V_FORK].yes)
		snprintf(v[V_FORK].why, sizeof(v[0].why),
			 "an lsm_cgroup program on task_alloc, attached to each container's cgroup");
	else if (!commit)
		snprintf(v[V_FORK].why, sizeof(v[0].why), "memgate's enforcement does not load (as commit-limit)");
	else
		snprintf(v[V_FORK].why, sizeof(v[0].why), "%s: %s", lsm->fires ? "lsm_cgroup" : "lsm",
			 lsm->fires ? lsmcg->why_not : lsm->why_not);
	v[V_AUDIT] = (struct verdict){ .name = mg_mode_name(MG_MODE_AUDIT), .yes = commit };
	snprintf(v[V_AUDIT].why, sizeof(v[0].why), "%s",
		 commit ? "each knob that says yes above is decided and recorded, nothing denied"
			: "no knob can be decided here (as commit-limit)");
	v[V_MONITOR] = (struct verdict){ .name = mg_mode_name(MG_MODE_MONITOR), .yes = mon->available };
	if (mon->available)
		snprintf(v[V_MONITOR].why, sizeof(v[0].why),
			 "tp_btf programs, no trampoline: OOM kills %s, memcg reclaim %s, peak usage",
			 mon->oom ? "yes" : "no", mon->reclaim ? "yes" : "no");
	else
		snprintf(v[V_MONITOR].why, sizeof(v[0].why), "%s", mon->why_not);
}

/*
 * The TARGET column: a mechanism's hooks ("task_alloc,mmap_file,...") as
 * many whole ones, commas kept, as fit; the rest go on lines of their own.
 */
#define TARGET_WIDTH 30
static size_t target_fit(const char *list)
{
	size_t len = 0, next;

	while (list[len]) {
		next = len + strcspn(list + len, ",");
		next += list[next] == ',';
		if (len && next > TARGET_WIDTH)
			break;
		len = next;
	}
	return len;
}

/* libbpf's reasons, indented under what they explain. */
static void print_libbpf(const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		printf("    %.*s\n", (int)len, text);
		text += len + (text[len] == '\n');
	}
}

int cmd_probe(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--json", "--verbose", NULL };
	bool verbose = has_flag(argc, argv, "--verbose");
	struct mg_probe_result r[MG_PROBE_COUNT];
	struct mg_probe_monitor mon;
	struct verdict v[V_COUNT];
	enum mg_memcg_source memcg;
	struct utsname u;
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	uname(&u);
	mg_probe_all(r, verbose);
	mg_probe_monitor(&mon, verbose);
	memcg = mg_kernel_memcg_source();
	verdicts(r, &mon, memcg, v);
	if (has_flag(argc, argv, "--json")) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();
		json_object *knobs = json_object_new_array();

		json_object_object_add(root, "kernel", json_object_new_string(u.release));
		for (int i = 0; i < V_COUNT; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(v[i].name));
			json_object_object_add(o, "available", json_object_new_boolean(v[i].yes));
			json_object_object_add(o, "why", json_object_new_string(v[i].why));
			json_object_array_add(knobs, o);
		}
		json_object_object_add(root, "verdicts", knobs);
		json_object_object_add(root, "memcg_measure",
				       json_object_new_string(mg_memcg_source_id(memcg)));
		for (int i = 0; i < MG_PROBE_COUNT; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(r[i].name));
			json_object_object_add(o, "target", json_object_new_string(r[i].target));
			json_object_object_add(o, "used_for", json_object_new_string(r[i].used_for));
			json_object_object_add(o, "loads", json_object_new_boolean(r[i].loads));
			json_object_object_add(o, "attaches", json_object_new_boolean(r[i].attaches));
			json_object_object_add(o, "fires", json_object_new_boolean(r[i].fires));
			json_object_object_add(o, "why_not", json_object_new_string(r[i].why_not));
			if (verbose)
				json_object_object_add(o, "libbpf", json_object_new_string(r[i].libbpf));
			json_object_array_add(arr, o);
		}
		json_object_object_add(root, "mechanisms", arr);
		{
			json_object *m = json_object_new_object();

			json_object_object_add(m, "available", json_object_new_boolean(mon.available));
			json_object_object_add(m, "oom_kills", json_object_new_boolean(mon.oom));
			json_object_object_add(m, "reclaim", json_object_new_boolean(mon.reclaim));
			json_object_object_add(m, "why_not", json_object_new_string(mon.why_not));
			if (verbose)
				json_object_object_add(m, "libbpf", json_object_new_string(mon.libbpf));
			json_object_object_add(root, "monitor", m);
		}
		print_json(root);
		return 0;
	}
	printf("kernel %s\n\n%-14s %-4s %s\n", u.release, "KNOB OR MODE", "HERE", "HOW, OR WHY NOT");
	for (int i = 0; i < V_COUNT; i++)
		printf("%-14s %-4s %s\n", v[i].name, v[i].yes ? "yes" : "no", v[i].why);
	printf("\n%-11s %-*s %-6s %-8s %-6s %s\n", "MECHANISM", TARGET_WIDTH, "TARGET", "LOADS",
	       "ATTACHES", "FIRES", "FOR");
	for (int i = 0; i < MG_PROBE_COUNT; i++) {
		const char *target = r[i].target;
		size_t len = target_fit(target);

		printf("%-11s %-*.*s %-6s %-8s %-6s %s\n", r[i].name, TARGET_WIDTH, (int)len, target,
		       r[i].loads ? "yes" : "no", r[i].attaches ? "yes" : "no",
		       r[i].fires ? "yes" : "no", r[i].used_for);
		/* The rest of a list of hooks, under the column. */
		for (target += len; *target; target += len) {
			len = target_fit(target);
			printf("%-11s %.*s\n", "", (int)len, target);
		}
		if (!r[i].fires)
			printf("  why not: %s\n", r[i].why_not);
		if (verbose)
			print_libbpf(r[i].libbpf);
	}
	printf("memory in use (pressure-gate, fork-gate) is read through: %s\n",
	       mg_memcg_source_name(memcg));
	if (mon.available)
		printf("monitor mode: yes (OOM kills: %s, memcg reclaim: %s; tp_btf, no trampoline)\n",
		       mon.oom ? "yes" : "no", mon.reclaim ? "yes" : "no");
	else
		printf("monitor mode: no (%s)\n", mon.why_not);
	if (verbose)
		print_libbpf(mon.libbpf);
	return 0;
}
