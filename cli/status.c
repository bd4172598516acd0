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

/*
 * A container's fields, in the order of its JSON object: where each sits
 * (group: the nested object, NULL: the container's own) and how it is read
 * from the snapshot.  The Prometheus metrics (metrics[]) name these rows.
 */
enum field_id {
	F_ID,
	F_KUBERNETES,
	F_CGROUP_ID,
	F_MODE,
	F_COMMIT_LIMIT,
	F_PRESSURE_GATE,
	F_FORK_GATE,
	F_COMMITS_ALLOWED,
	F_COMMITS_DENIED,
	F_COMMITS_AUDITED,
	F_FORKS_ALLOWED,
	F_FORKS_DENIED,
	F_FORKS_AUDITED,
	F_COMMITTED,
	F_COMMITTED_PEAK,
	F_ADDRESS_SPACES,
	F_ADDRESS_SPACES_UNTRACKED,
	F_SHARED_OBJECTS,
	F_SHARED_OBJECTS_WITHOUT_ROOM,
	F_LAST_DENIAL,
	F_OOM_KILLS,
	F_MEMCG_OOM_KILLS,
	F_LAST_VICTIM,
	F_RECLAIM_EPISODES,
	F_RECLAIM_NS,
	F_PEAK,
	F_COUNT,
};

struct field {
	const char *group, *key;
	/* A number: its offset in the entry; signed: below 0 is 0 in JSON. */
	size_t offset;
	bool is_signed;
	/* NULL: always there; false: null in JSON, no Prometheus sample. */
	bool (*has)(const struct mg_snapshot_entry *e);
	/* Not a number: its JSON. */
	json_object *(*json)(const struct mg_snapshot_entry *e);
};

/* Every number of an entry is 64 bits wide: NUM() refuses to build otherwise. */
#define NUM(member)                                                                                \
	.offset = offsetof(struct mg_snapshot_entry, member) +                                     \
		  0 * sizeof(char[sizeof(((struct mg_snapshot_entry *)0)->member) == 8 ? 1 : -1])

static json_object *id_json(const struct mg_snapshot_entry *e)
{
	return json_object_new_string(e->id);
}

/* Tenant bytes, escaped by json-c. */
static json_object *kube_json(const struct mg_snapshot_entry *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "namespace", json_object_new_string(e->kube.namespace));
	json_object_object_add(o, "pod", json_object_new_string(e->kube.pod));
	json_object_object_add(o, "container", json_object_new_string(e->kube.container));
	return o;
}

static json_object *mode_json(const struct mg_snapshot_entry *e)
{
	return json_object_new_string(mode_name(&e->policy));
}

static json_object *last_denial_json(const struct mg_snapshot_entry *e)
{
	return denial_json(&e->stats.last_denial);
}

static json_object *last_victim_json(const struct mg_snapshot_entry *e)
{
	return oom_kill_json(&e->stats.last_oom_kill);
}

static bool has_kube(const struct mg_snapshot_entry *e)
{
	return e->kube.container[0];
}

static bool has_denial(const struct mg_snapshot_entry *e)
{
	return e->stats.last_denial.kind;
}

static bool has_victim(const struct mg_snapshot_entry *e)
{
	return e->stats.last_oom_kill.kind;
}

static bool has_events(const struct mg_snapshot_entry *e)
{
	return e->memory.has_events;
}

static bool has_peak(const struct mg_snapshot_entry *e)
{
	return e->memory.has_peak;
}

static const struct field fields[F_COUNT] = {
	[F_ID] = { NULL, "id", .json = id_json },
	[F_KUBERNETES] = { NULL, "kubernetes", .has = has_kube, .json = kube_json },
	[F_CGROUP_ID] = { NULL, "cgroup_id", NUM(cgroup_id) },
	[F_MODE] = { NULL, "mode", .json = mode_json },
	[F_COMMIT_LIMIT] = { "policy", "commit_limit_bytes", NUM(policy.commit_limit) },
	[F_PRESSURE_GATE] = { "policy", "pressure_gate_bytes", NUM(policy.pressure_gate) },
	[F_FORK_GATE] = { "policy", "fork_gate_bytes", NUM(policy.fork_gate) },
	[F_COMMITS_ALLOWED] = { "decisions", "commits_allowed", NUM(stats.commit_allowed) },
	[F_COMMITS_DENIED] = { "decisions", "commits_denied", NUM(stats.commit_denied) },
	[F_COMMITS_AUDITED] = { "decisions", "commits_audited", NUM(stats.commit_audited) },
	[F_FORKS_ALLOWED] = { "decisions", "forks_allowed", NUM(stats.fork_allowed) },
	[F_FORKS_DENIED] = { "decisions", "forks_denied", NUM(stats.fork_denied) },
	[F_FORKS_AUDITED] = { "decisions", "forks_audited", NUM(stats.fork_audited) },
	[F_COMMITTED] = { "decisions", "committed_bytes", NUM(committed_bytes), .is_signed = true },
	[F_COMMITTED_PEAK] = { "decisions", "committed_peak_bytes", NUM(committed_peak_bytes) },
	[F_ADDRESS_SPACES] = { "decisions", "address_spaces", NUM(stats.mms) },
	[F_ADDRESS_SPACES_UNTRACKED] = { "decisions", "address_spaces_untracked",
					 NUM(stats.mms_untracked) },
	[F_SHARED_OBJECTS] = { "decisions", "shared_objects", NUM(stats.shm) },
	[F_SHARED_OBJECTS_WITHOUT_ROOM] = { "decisions", "shared_objects_without_room",
					    NUM(stats.shm_no_room) },
	[F_LAST_DENIAL] = { NULL, "last_denial", .has = has_denial, .json = last_denial_json },
	[F_OOM_KILLS] = { "oom", "kills", NUM(stats.oom_kills) },
	[F_MEMCG_OOM_KILLS] = { "oom", "memcg_oom_kills", NUM(memory.oom_kills), .has = has_events },
	[F_LAST_VICTIM] = { "oom", "last_victim", .has = has_victim, .json = last_victim_json },
	[F_RECLAIM_EPISODES] = { "reclaim", "episodes", NUM(stats.reclaim_episodes) },
	[F_RECLAIM_NS] = { "reclaim", "time_ns", NUM(stats.reclaim_ns) },
	[F_PEAK] = { "memory", "peak_bytes", NUM(memory.peak_bytes), .has = has_peak },
};

/* A number field's 64 bits. */
static uint64_t number(const struct mg_snapshot_entry *e, enum field_id f)
{
	uint64_t v;

	memcpy(&v, (const char *)e + fields[f].offset, sizeof(v));
	return v;
}

static json_object *field_json(const struct mg_snapshot_entry *e, enum field_id f)
{
	const struct field *d = &fields[f];
	uint64_t v;

	if (d->has && !d->has(e))
		return NULL;
	if (d->json)
		return d->json(e);
	v = number(e, f);
	return u64(d->is_signed && (int64_t)v < 0 ? 0 : v);
}

/* One container's object: each group's fields nested, in the table's order. */
static json_object *container_json(const struct mg_snapshot_entry *e)
{
	json_object *c = json_object_new_object(), *group = NULL;

	for (int f = 0; f < F_COUNT; f++) {
		const char *name = fields[f].group;

		if (!name) {
			json_object_object_add(c, fields[f].key, field_json(e, f));
			continue;
		}
		if (!f || !fields[f - 1].group || strcmp(fields[f - 1].group, name)) {
			group = json_object_new_object();
			json_object_object_add(c, name, group);
		}
		json_object_object_add(group, fields[f].key, field_json(e, f));
	}
	return c;
}

/* --json: one document (its schema in memgate(8)). */
void render_json(const struct mg_snapshot *snap)
{
	const struct mg_globals *g = &snap->globals;
	bool none = !snap->loaded;
	json_object *root = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(root, "schema", json_object_new_int(STATUS_SCHEMA));
	json_object_object_add(root, "loaded", json_object_new_boolean(!none));
	json_object_object_add(root, "kept_loaded", json_object_new_boolean(snap->kept));
	json_object_object_add(root, "events_dropped", u64(g->events_dropped));
	json_object_object_add(root, "mms_untracked", u64(g->mms_untracked));
	json_object_object_add(root, "mms_pool_used", u64(g->mms_pool_used));
	json_object_object_add(root, "shm_pool_used", u64(g->shm_pool_used));
	json_object_object_add(root, "program_runs_skipped", u64(snap->skipped));
	json_object_object_add(root, "enforcement", json_object_new_boolean(!none && !g->enforce_error));
	json_object_object_add(root, "enforcement_error",
			       !none && g->enforce_error ? json_object_new_string(strerror((int)-g->enforce_error)) : NULL);
	for (size_t i = 0; i < snap->n; i++)
		json_object_array_add(arr, container_json(&snap->entries[i]));
	json_object_object_add(root, "containers", arr);
	arr = json_object_new_array();
	for (size_t i = 0; i < snap->n_retired && i < MG_SNAPSHOT_RETIRED; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "path", json_object_new_string(snap->retired[i].path));
		json_object_object_add(r, "layout", u64(snap->retired[i].layout));
		json_object_object_add(r, "containers", u64(snap->retired[i].containers));
		json_object_array_add(arr, r);
	}
	json_object_object_add(root, "retired", arr);
	print_json(root);
}

/*
 * --prometheus: one sample per container of each row's field (a number), in
 * this order (memgate(8) lists them); the rows of one name follow each
 * other, and its first gives HELP and TYPE.
 */
#define DECISION(f, op, decision) .field = f, .labels = ",op=\"" op "\",decision=\"" decision "\""
static const struct {
	const char *name, *type, *help;
	enum field_id field;
	const char *labels; /* after the container's */
	bool seconds;	    /* nanoseconds, printed as seconds */
} metrics[] = {
	{ "memgate_decisions_total", "counter", "Decisions taken by memgate's programs.",
	  DECISION(F_COMMITS_ALLOWED, "commit", "allowed") },
	{ "memgate_decisions_total", DECISION(F_COMMITS_DENIED, "commit", "denied") },
	{ "memgate_decisions_total", DECISION(F_COMMITS_AUDITED, "commit", "audited") },
	{ "memgate_decisions_total", DECISION(F_FORKS_ALLOWED, "fork", "allowed") },
	{ "memgate_decisions_total", DECISION(F_FORKS_DENIED, "fork", "denied") },
	{ "memgate_decisions_total", DECISION(F_FORKS_AUDITED, "fork", "audited") },
	{ "memgate_committed_bytes", "gauge", "Committed private memory of the container.",
	  .field = F_COMMITTED },
	{ "memgate_commit_limit_bytes", "gauge", "The container's commit limit (0: none).",
	  .field = F_COMMIT_LIMIT },
	{ "memgate_oom_kills_total", "counter",
	  "Processes of the container the kernel's OOM killer killed.", .field = F_OOM_KILLS },
	{ "memgate_reclaim_episodes_total", "counter",
	  "memcg limit reclaim episodes in the container.", .field = F_RECLAIM_EPISODES },
	{ "memgate_reclaim_seconds_total", "counter",
	  "Time the container's tasks spent in memcg limit reclaim.", .field = F_RECLAIM_NS,
	  .seconds = true },
	{ "memgate_memory_peak_bytes", "gauge", "The container cgroup's memory.peak.",
	  .field = F_PEAK },
};

#define N_METRICS (sizeof(metrics) / sizeof(metrics[0]))

static void header(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Metric m's sample of a container; it has none when its field is absent. */
static void sample(const struct mg_snapshot_entry *e, size_t m)
{
	const struct field *d = &fields[metrics[m].field];
	uint64_t v = number(e, metrics[m].field);
	char id[ID_TEXT];

	if (d->has && !d->has(e))
		return;
	printf("%s{container=\"%s\"%s} ", metrics[m].name, id_text(e->id, true, id),
	       metrics[m].labels ? metrics[m].labels : "");
	if (metrics[m].seconds)
		printf("%.9f\n", v / 1e9);
	else if (d->is_signed)
		printf("%" PRId64 "\n", (int64_t)v);
	else
		printf("%" PRIu64 "\n", v);
}

void render_prometheus(const struct mg_snapshot *snap)
{
	/* Each name's rows: per container, one sample a row. */
	for (size_t m = 0, end; m < N_METRICS; m = end) {
		for (end = m + 1; end < N_METRICS && !strcmp(metrics[end].name, metrics[m].name); end++)
			;
		header(metrics[m].name, metrics[m].type, metrics[m].help);
		for (size_t i = 0; i < snap->n; i++)
			for (size_t r = m; r < end; r++)
				sample(&snap->entries[i], r);
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
