// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate status [--json | --prometheus]: one snapshot of memgate's state
 * (core/snapshot.c), rendered as a table, one JSON document or Prometheus
 * text.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mg_cleanup.h"
#include "mg_snapshot.h"
#include "cli.h"

#define STATUS_SCHEMA 2

/* Tenant bytes, escaped by json-c. */
static json_object *kube_json(const struct mg_kube_names *k)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "namespace", json_object_new_string(k->namespace));
	json_object_object_add(o, "pod", json_object_new_string(k->pod));
	json_object_object_add(o, "container", json_object_new_string(k->container));
	return o;
}

/* "  kubernetes: container NAME of pod NAMESPACE/POD, id ID", every name escaped. */
static void print_kube(const struct mg_snapshot_entry *e)
{
	char name[MG_KUBE_NAME_LEN * 5], ns[MG_KUBE_NAME_LEN * 5], pod[MG_KUBE_NAME_LEN * 5];
	char id[ID_TEXT];

	mg_printable(name, sizeof(name), e->kube.container);
	mg_printable(ns, sizeof(ns), e->kube.namespace);
	mg_printable(pod, sizeof(pod), e->kube.pod);
	printf("  kubernetes: container %s of pod %s/%s, id %s\n", name, ns, pod,
	       id_text(e->id, false, id));
}

/* The id's escaped head for the status table's column: escapes are never cut. */
#define ID_COLUMN 24
static const char *id_column(const char *id, char buf[ID_COLUMN + 1])
{
	size_t len = strnlen(id, MG_ID_LEN);

	while (mg_escape(buf, ID_COLUMN + 1, id, len, MG_ESCAPE_C) > ID_COLUMN)
		len--;
	return buf;
}

/* Seconds since a CLOCK_BOOTTIME timestamp of the programs. */
static double seconds_ago(uint64_t boot_ns)
{
	struct timespec now;

	clock_gettime(CLOCK_BOOTTIME, &now);
	return ((double)now.tv_sec * 1e9 + now.tv_nsec - (double)boot_ns) / 1e9;
}

/* The monitor's line, and the last OOM kill's. */
static void print_monitor(const struct mg_snapshot_entry *e)
{
	const struct mg_denial *k = &e->stats.last_oom_kill;
	char peak[MG_SIZE_TEXT_LEN], comm[COMM_TEXT];

	if (e->memory.has_peak)
		mg_format_size(e->memory.peak_bytes, peak);
	else
		snprintf(peak, sizeof(peak), "-");
	printf("  memory: peak %s, reclaim %" PRIu64 " episodes %.3fs, oom kills %" PRIu64, peak,
	       (uint64_t)e->stats.reclaim_episodes, e->stats.reclaim_ns / 1e9,
	       (uint64_t)e->stats.oom_kills);
	if (e->memory.has_events)
		printf(" (memory.events oom_kill %" PRIu64 ")", e->memory.oom_kills);
	printf("\n");
	if (k->kind)
		printf("  last oom kill: pid %u (%s) %.0fs ago\n", k->pid, comm_text(k->comm, comm),
		       seconds_ago(k->timestamp_ns));
}

/* --json: one document (its schema in memgate(8)). */
void render_json(const struct mg_snapshot *snap)
{
	const struct mg_snapshot_entry *list = snap->entries;
	const struct mg_retired *retired = snap->retired;
	const struct mg_globals *g = &snap->globals;
	size_t n = snap->n, n_retired = snap->n_retired;
	uint64_t skipped = snap->skipped;
	bool none = !snap->loaded;
	json_object *root = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(root, "schema", json_object_new_int(STATUS_SCHEMA));
	json_object_object_add(root, "loaded", json_object_new_boolean(!none));
	json_object_object_add(root, "kept_loaded", json_object_new_boolean(snap->kept));
	json_object_object_add(root, "events_dropped", u64(g->events_dropped));
	json_object_object_add(root, "mms_untracked", u64(g->mms_untracked));
	json_object_object_add(root, "mms_pool_used", u64(g->mms_pool_used));
	json_object_object_add(root, "shm_pool_used", u64(g->shm_pool_used));
	json_object_object_add(root, "program_runs_skipped", u64(skipped));
	json_object_object_add(root, "enforcement", json_object_new_boolean(!none && !g->enforce_error));
	json_object_object_add(root, "enforcement_error",
			       !none && g->enforce_error ? json_object_new_string(strerror((int)-g->enforce_error)) : NULL);
	for (size_t i = 0; i < n; i++) {
		const struct mg_snapshot_entry *e = &list[i];
		json_object *c = json_object_new_object(), *p = json_object_new_object();
		json_object *st = json_object_new_object();

		json_object_object_add(c, "id", json_object_new_string(e->id));
		json_object_object_add(c, "kubernetes", e->kube.container[0] ? kube_json(&e->kube) : NULL);
		json_object_object_add(c, "cgroup_id", u64(e->cgroup_id));
		json_object *oom = json_object_new_object(), *reclaim = json_object_new_object();
		json_object *mem = json_object_new_object();

		json_object_object_add(c, "mode", json_object_new_string(mode_name(&e->policy)));
		json_object_object_add(p, "commit_limit_bytes", u64(e->policy.commit_limit));
		json_object_object_add(p, "pressure_gate_bytes", u64(e->policy.pressure_gate));
		json_object_object_add(p, "fork_gate_bytes", u64(e->policy.fork_gate));
		json_object_object_add(c, "policy", p);
		json_object_object_add(st, "commits_allowed", u64(e->stats.commit_allowed));
		json_object_object_add(st, "commits_denied", u64(e->stats.commit_denied));
		json_object_object_add(st, "commits_audited", u64(e->stats.commit_audited));
		json_object_object_add(st, "forks_allowed", u64(e->stats.fork_allowed));
		json_object_object_add(st, "forks_denied", u64(e->stats.fork_denied));
		json_object_object_add(st, "forks_audited", u64(e->stats.fork_audited));
		json_object_object_add(st, "committed_bytes", u64(e->committed_bytes > 0 ? e->committed_bytes : 0));
		json_object_object_add(st, "committed_peak_bytes", u64(e->committed_peak_bytes));
		json_object_object_add(st, "address_spaces", u64(e->stats.mms));
		json_object_object_add(st, "address_spaces_untracked", u64(e->stats.mms_untracked));
		json_object_object_add(st, "shared_objects", u64(e->stats.shm));
		json_object_object_add(st, "shared_objects_without_room", u64(e->stats.shm_no_room));
		json_object_object_add(c, "decisions", st);
		json_object_object_add(c, "last_denial", e->stats.last_denial.kind ? denial_json(&e->stats.last_denial) : NULL);
		json_object_object_add(oom, "kills", u64(e->stats.oom_kills));
		json_object_object_add(oom, "memcg_oom_kills", e->memory.has_events ? u64(e->memory.oom_kills) : NULL);
		json_object_object_add(oom, "last_victim", e->stats.last_oom_kill.kind ? oom_kill_json(&e->stats.last_oom_kill) : NULL);
		json_object_object_add(c, "oom", oom);
		json_object_object_add(reclaim, "episodes", u64(e->stats.reclaim_episodes));
		json_object_object_add(reclaim, "time_ns", u64(e->stats.reclaim_ns));
		json_object_object_add(c, "reclaim", reclaim);
		json_object_object_add(mem, "peak_bytes", e->memory.has_peak ? u64(e->memory.peak_bytes) : NULL);
		json_object_object_add(c, "memory", mem);
		json_object_array_add(arr, c);
	}
	json_object_object_add(root, "containers", arr);
	arr = json_object_new_array();
	for (size_t i = 0; i < n_retired && i < MG_SNAPSHOT_RETIRED; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "path", json_object_new_string(retired[i].path));
		json_object_object_add(r, "layout", u64(retired[i].layout));
		json_object_object_add(r, "containers", u64(retired[i].containers));
		json_object_array_add(arr, r);
	}
	json_object_object_add(root, "retired", arr);
	print_json(root);
}

/* --prometheus: the decisions, one sample per operation and outcome. */
static const struct {
	const char *op, *decision;
	size_t offset; /* of its __u64 in struct mg_stats */
} decisions[] = {
	{ "commit", "allowed", offsetof(struct mg_stats, commit_allowed) },
	{ "commit", "denied", offsetof(struct mg_stats, commit_denied) },
	{ "commit", "audited", offsetof(struct mg_stats, commit_audited) },
	{ "fork", "allowed", offsetof(struct mg_stats, fork_allowed) },
	{ "fork", "denied", offsetof(struct mg_stats, fork_denied) },
	{ "fork", "audited", offsetof(struct mg_stats, fork_audited) },
};

static uint64_t decision(const struct mg_stats *st, size_t r)
{
	__u64 v;

	memcpy(&v, (const char *)st + decisions[r].offset, sizeof(v));
	return v;
}

/* A container's sample of one metric into v; false: it has none. */
typedef bool (*sample_fn)(const struct mg_snapshot_entry *e, char *v, size_t size);

static bool committed(const struct mg_snapshot_entry *e, char *v, size_t size)
{
	return snprintf(v, size, "%" PRId64, e->committed_bytes) > 0;
}

static bool commit_limit(const struct mg_snapshot_entry *e, char *v, size_t size)
{
	return snprintf(v, size, "%" PRIu64, (uint64_t)e->policy.commit_limit) > 0;
}

static bool oom_kills(const struct mg_snapshot_entry *e, char *v, size_t size)
{
	return snprintf(v, size, "%" PRIu64, (uint64_t)e->stats.oom_kills) > 0;
}

static bool reclaim_episodes(const struct mg_snapshot_entry *e, char *v, size_t size)
{
	return snprintf(v, size, "%" PRIu64, (uint64_t)e->stats.reclaim_episodes) > 0;
}

static bool reclaim_seconds(const struct mg_snapshot_entry *e, char *v, size_t size)
{
	return snprintf(v, size, "%.9f", e->stats.reclaim_ns / 1e9) > 0;
}

static bool memory_peak(const struct mg_snapshot_entry *e, char *v, size_t size)
{
	return e->memory.has_peak && snprintf(v, size, "%" PRIu64, e->memory.peak_bytes) > 0;
}

/* One sample per container; names, types and help as memgate(8) lists them. */
static const struct {
	const char *name, *type, *help;
	sample_fn sample;
} metrics[] = {
	{ "memgate_committed_bytes", "gauge", "Committed private memory of the container.", committed },
	{ "memgate_commit_limit_bytes", "gauge", "The container's commit limit (0: none).",
	  commit_limit },
	{ "memgate_oom_kills_total", "counter",
	  "Processes of the container the kernel's OOM killer killed.", oom_kills },
	{ "memgate_reclaim_episodes_total", "counter",
	  "memcg limit reclaim episodes in the container.", reclaim_episodes },
	{ "memgate_reclaim_seconds_total", "counter",
	  "Time the container's tasks spent in memcg limit reclaim.", reclaim_seconds },
	{ "memgate_memory_peak_bytes", "gauge", "The container cgroup's memory.peak.", memory_peak },
};

static void header(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void render_prometheus(const struct mg_snapshot *snap)
{
	char id[ID_TEXT], v[64];

	header("memgate_decisions_total", "counter", "Decisions taken by memgate's programs.");
	for (size_t i = 0; i < snap->n; i++)
		for (size_t r = 0; r < sizeof(decisions) / sizeof(decisions[0]); r++)
			printf("memgate_decisions_total{container=\"%s\",op=\"%s\",decision=\"%s\"} "
			       "%" PRIu64 "\n",
			       id_text(snap->entries[i].id, true, id), decisions[r].op,
			       decisions[r].decision,
			       decision(&snap->entries[i].stats, r));
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		header(metrics[m].name, metrics[m].type, metrics[m].help);
		for (size_t i = 0; i < snap->n; i++)
			if (metrics[m].sample(&snap->entries[i], v, sizeof(v)))
				printf("%s{container=\"%s\"} %s\n", metrics[m].name,
				       id_text(snap->entries[i].id, true, id), v);
	}
	header("memgate_events_dropped_total", "counter", "Events lost to a full ring buffer.");
	printf("memgate_events_dropped_total %" PRIu64 "\n", (uint64_t)snap->globals.events_dropped);
	header("memgate_program_runs_skipped_total", "counter",
	       "Runs of memgate's programs the kernel skipped.");
	printf("memgate_program_runs_skipped_total %" PRIu64 "\n", snap->skipped);
}

/* The table for a terminal, tenant bytes escaped. */
void render_table(const struct mg_snapshot *snap)
{
	const struct mg_snapshot_entry *list = snap->entries;
	const struct mg_retired *retired = snap->retired;
	const struct mg_globals *g = &snap->globals;
	size_t n = snap->n, n_retired = snap->n_retired;
	uint64_t skipped = snap->skipped;
	bool none = !snap->loaded;
	if (none) {
		if (!n_retired)
			printf("memgate: not loaded (no container is under policy)\n");
		print_retired(retired, n_retired);
		return;
	}
	if (snap->kept)
		printf("memgate: kept loaded with no policy (memgate preload)\n");
	printf("%-24s %-8s %12s %12s %10s %10s %10s %8s\n", "CONTAINER", "MODE", "COMMITTED", "LIMIT",
	       "ALLOWED", "DENIED", "AUDITED", "FORK-DN");
	for (size_t i = 0; i < n; i++) {
		const struct mg_snapshot_entry *e = &list[i];
		const struct mg_denial *d = &e->stats.last_denial;
		char used[MG_SIZE_TEXT_LEN], limit[MG_SIZE_TEXT_LEN];
		char asked[MG_SIZE_TEXT_LEN], at[MG_SIZE_TEXT_LEN], of[MG_SIZE_TEXT_LEN];
		char id[ID_COLUMN + 1], comm[COMM_TEXT];

		/* Sizes as the annotations write them; "-" for no limit. */
		mg_format_size(e->committed_bytes > 0 ? (uint64_t)e->committed_bytes : 0, used);
		if (e->policy.commit_limit)
			mg_format_size(e->policy.commit_limit, limit);
		else
			snprintf(limit, sizeof(limit), "-");
		/* A Kubernetes container by its own name. */
		printf("%-24s %-8s %12s %12s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64 "\n",
		       id_column(e->kube.container[0] ? e->kube.container : e->id, id),
		       mode_name(&e->policy), used, limit,
		       (uint64_t)e->stats.commit_allowed, (uint64_t)e->stats.commit_denied,
		       (uint64_t)(e->stats.commit_audited + e->stats.fork_audited), (uint64_t)e->stats.fork_denied);
		if (e->kube.container[0])
			print_kube(e);
		if (d->kind)
			printf("  last denial: %s pid %u (%s) asked %s at %s of %s\n", kind_name(d->kind),
			       d->pid, comm_text(d->comm, comm), mg_format_size(d->requested, asked),
			       mg_format_size(d->measured, at), mg_format_size(d->limit, of));
		if (e->stats.mms_untracked)
			printf("  address spaces: %" PRIu64 " tracked, %" PRIu64 " without room: "
			       "its untracked processes may commit nothing\n",
			       (uint64_t)e->stats.mms, (uint64_t)e->stats.mms_untracked);
		if (e->stats.shm_no_room)
			printf("  shared memory objects: %" PRIu64 " counted, %" PRIu64 " refused "
			       "without room\n",
			       (uint64_t)e->stats.shm, (uint64_t)e->stats.shm_no_room);
		print_monitor(e);
	}
	if (g->enforce_error)
		printf("enforcement not loaded (%s): containers are monitored only\n",
		       strerror((int)-g->enforce_error));
	if (g->events_dropped)
		printf("events dropped: %" PRIu64 "\n", (uint64_t)g->events_dropped);
	if (skipped)
		printf("program runs the kernel skipped: %" PRIu64 " (charges let through undecided; "
		       "where the BPF LSM is active, never those of mmap, mprotect, brk, mremap "
		       "or fork)\n",
		       skipped);
	print_retired(retired, n_retired);
}

/* Each form of the same snapshot; the first flag given picks, none: the table. */
static const struct {
	const char *flag;
	void (*render)(const struct mg_snapshot *snap);
} forms[] = {
	{ "--json", render_json },
	{ "--prometheus", render_prometheus },
	{ NULL, render_table },
};

int cmd_status(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--json", "--prometheus", NULL };
	struct mg_snapshot snap __attribute__((cleanup(mg_snapshot_free))) = {};
	size_t f = 0;
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	if (has_flag(argc, argv, "--json") && has_flag(argc, argv, "--prometheus"))
		return mg_fail(err, EINVAL, "--json and --prometheus exclude each other: give one");
	ret = mg_snapshot_take(&snap, err);
	if (ret < 0)
		return ret;
	while (forms[f].flag && !has_flag(argc, argv, forms[f].flag))
		f++;
	forms[f].render(&snap);
	return 0;
}
