// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate: read what the hook and the programs share under /sys/fs/bpf/memgate.
 *
 *   memgate status [--json | --prometheus]
 *   memgate events [--follow] [--json]
 *   memgate probe [--json] [--verbose]
 *   memgate gc [--all]
 *   memgate validate [--memory-max SIZE] [--container-name NAME] [--config FILE]
 *                    [--admin-config FILE] [KEY=VALUE...]
 *   memgate help [COMMAND], memgate COMMAND --help, memgate --version
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_config.h"
#include "mg_confine.h"
#include "mg_oci.h"
#include "mg_policy.h"
#include "mg_probe.h"
#include "mg_shared.h"
#include "version.h"

#define STATUS_SCHEMA 2

static const char *kind_name(__u32 kind)
{
	switch (kind) {
	case MG_KIND_COMMIT: return "commit-limit";
	case MG_KIND_PRESSURE: return "pressure-gate";
	case MG_KIND_FORK: return "fork-gate";
	case MG_KIND_OOM_KILL: return "oom-kill";
	default: return "none";
	}
}

static bool has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return true;
	return false;
}

static int check_flags(int argc, char **argv, const char *const *known, struct mg_error *err)
{
	for (int i = 2; i < argc; i++) {
		bool ok = false;

		for (const char *const *k = known; *k; k++)
			ok |= !strcmp(argv[i], *k);
		if (!ok)
			return mg_fail(err, EINVAL, "%s: unknown option '%s'", argv[1], argv[i]);
	}
	return 0;
}

/* JSON text on stdout, with nothing raw that a terminal would act on. */
static void put_json(const char *text)
{
	size_t len = strlen(text), n = mg_escape(NULL, 0, text, len, MG_ESCAPE_JSON);
	_cleanup_free_ char *out = malloc(n + 1);

	if (!out) {
		fprintf(stderr, "memgate: out of memory\n");
		exit(1);
	}
	mg_escape(out, n + 1, text, len, MG_ESCAPE_JSON);
	puts(out);
}

static void print_json(json_object *obj)
{
	put_json(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

static json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static json_object *denial_json(const struct mg_denial *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(kind_name(d->kind)));
	json_object_object_add(o, "pid", u64(d->pid));
	json_object_object_add(o, "comm", json_object_new_string_len(d->comm, strnlen(d->comm, sizeof(d->comm))));
	json_object_object_add(o, "requested_bytes", u64(d->requested));
	json_object_object_add(o, "measured_bytes", u64(d->measured));
	json_object_object_add(o, "limit_bytes", u64(d->limit));
	json_object_object_add(o, "timestamp_ns", u64(d->timestamp_ns));
	return o;
}

/* The victim of an OOM kill: pid, comm and when. */
static json_object *oom_kill_json(const struct mg_denial *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", u64(d->pid));
	json_object_object_add(o, "comm", json_object_new_string_len(d->comm, strnlen(d->comm, sizeof(d->comm))));
	json_object_object_add(o, "timestamp_ns", u64(d->timestamp_ns));
	return o;
}

/* Tenant bytes, escaped by json-c. */
static json_object *kube_json(const struct mg_kube_names *k)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "namespace", json_object_new_string(k->namespace));
	json_object_object_add(o, "pod", json_object_new_string(k->pod));
	json_object_object_add(o, "container", json_object_new_string(k->container));
	return o;
}

static const char *mode_name(const struct mg_policy *policy)
{
	if (policy->flags & MG_MONITOR)
		return "monitor";
	return policy->flags & MG_AUDIT ? "audit" : "enforce";
}

struct entry {
	char id[MG_ID_LEN];
	struct mg_kube_names kube; /* container "" when not a Kubernetes container */
	uint64_t cgroup_id;
	struct mg_policy policy;
	struct mg_stats stats;
	struct mg_cgroup_memory memory; /* memory.peak and memory.events, read now */
};

/* A process name from the kernel, as a tenant set it: escaped (comm need not end in NUL). */
#define COMM_LEN sizeof(((struct mg_denial *)0)->comm)
#define COMM_TEXT (COMM_LEN * 5 + 1)
static const char *comm_text(const char *comm, char buf[COMM_TEXT])
{
	mg_escape(buf, COMM_TEXT, comm, strnlen(comm, COMM_LEN), MG_ESCAPE_C);
	return buf;
}

/* A container id, escaped for a terminal or, prometheus, for a label value. */
#define ID_TEXT (MG_ID_LEN * 5 + 1)
static const char *id_text(const char *id, bool prometheus, char buf[ID_TEXT])
{
	mg_escape(buf, ID_TEXT, id, strnlen(id, MG_ID_LEN),
		  prometheus ? MG_ESCAPE_PROMETHEUS : MG_ESCAPE_C);
	return buf;
}

/* "  kubernetes: container NAME of pod NAMESPACE/POD, id ID", every name escaped. */
static void print_kube(const struct entry *e)
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

/* Every container under policy, joined across the containers, policies and stats maps. */
static int collect(const struct mg_shared *s, struct entry **out, size_t *count)
{
	struct mg_container_key key, cursor;
	struct mg_container container;
	struct entry *list = NULL, *grown;
	bool first = true;
	size_t n = 0;

	while (bpf_map_get_next_key(s->containers, first ? NULL : &cursor, &key) == 0) {
		struct entry e = {};

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

/* Seconds since a CLOCK_BOOTTIME timestamp of the programs. */
static double seconds_ago(uint64_t boot_ns)
{
	struct timespec now;

	clock_gettime(CLOCK_BOOTTIME, &now);
	return ((double)now.tv_sec * 1e9 + now.tv_nsec - (double)boot_ns) / 1e9;
}

/* The monitor's line, and the last OOM kill's. */
static void print_monitor(const struct entry *e)
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

static int open_shared(struct mg_shared *s, bool *none, struct mg_error *err)
{
	int ret;

	*none = !mg_shared_exists();
	if (*none)
		return 0;
	ret = mg_shared_open(s, false, err);
	if (ret == -EPROTO) { /* another layout's: listed as retired */
		mg_shared_close(s);
		*err = (struct mg_error){};
		*none = true;
		return 0;
	}
	return ret;
}

#define MAX_RETIRED_LISTED 8

/* Older layouts' trees, still serving their containers after an upgrade. */
static void print_retired(const struct mg_retired *retired, size_t n)
{
	if (n > MAX_RETIRED_LISTED)
		printf("%zu older layouts' trees are served; the first %d:\n", n, MAX_RETIRED_LISTED);
	for (size_t i = 0; i < n && i < MAX_RETIRED_LISTED; i++)
		printf("layout %" PRIu64 " state at %s: %u container%s under its policy, "
		       "served until %s\n",
		       retired[i].layout, retired[i].path, retired[i].containers,
		       retired[i].containers == 1 ? "" : "s",
		       retired[i].containers == 1 ? "it stops" : "they stop");
}

static int cmd_status(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--json", "--prometheus", NULL };
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	_cleanup_free_ struct entry *list = NULL;
	struct mg_retired retired[MAX_RETIRED_LISTED];
	struct mg_globals g = {};
	size_t n = 0, n_retired;
	uint64_t skipped = 0;
	__u32 zero = 0;
	bool none;
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	if (has_flag(argc, argv, "--json") && has_flag(argc, argv, "--prometheus"))
		return mg_fail(err, EINVAL, "--json and --prometheus exclude each other: give one");
	ret = open_shared(&s, &none, err);
	if (ret < 0)
		return ret;
	n_retired = mg_shared_list_retired(retired, MAX_RETIRED_LISTED);
	if (!none) {
		bpf_map_lookup_elem(s.globals, &zero, &g);
		skipped = mg_shared_skipped_runs();
		ret = collect(&s, &list, &n);
		if (ret < 0)
			return mg_fail(err, -ret, "cannot read memgate's maps");
	}
	if (has_flag(argc, argv, "--json")) {
		json_object *root = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(root, "schema", json_object_new_int(STATUS_SCHEMA));
		json_object_object_add(root, "loaded", json_object_new_boolean(!none));
		json_object_object_add(root, "kept_loaded", json_object_new_boolean(!none && mg_shared_kept()));
		json_object_object_add(root, "events_dropped", u64(g.events_dropped));
		json_object_object_add(root, "mms_untracked", u64(g.mms_untracked));
		json_object_object_add(root, "mms_pool_used", u64(g.mms_pool_used));
		json_object_object_add(root, "shm_pool_used", u64(g.shm_pool_used));
		json_object_object_add(root, "program_runs_skipped", u64(skipped));
		json_object_object_add(root, "enforcement", json_object_new_boolean(!none && !g.enforce_error));
		json_object_object_add(root, "enforcement_error",
				       !none && g.enforce_error ? json_object_new_string(strerror((int)-g.enforce_error)) : NULL);
		for (size_t i = 0; i < n; i++) {
			struct entry *e = &list[i];
			json_object *c = json_object_new_object(), *p = json_object_new_object();
			json_object *st = json_object_new_object();
			long page = sysconf(_SC_PAGESIZE);

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
			json_object_object_add(st, "committed_bytes", u64(e->stats.committed_pages > 0 ? e->stats.committed_pages * page : 0));
			json_object_object_add(st, "committed_peak_bytes", u64(e->stats.committed_peak_pages * page));
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
		for (size_t i = 0; i < n_retired && i < MAX_RETIRED_LISTED; i++) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "path", json_object_new_string(retired[i].path));
			json_object_object_add(r, "layout", u64(retired[i].layout));
			json_object_object_add(r, "containers", u64(retired[i].containers));
			json_object_array_add(arr, r);
		}
		json_object_object_add(root, "retired", arr);
		print_json(root);
		return 0;
	}
	if (has_flag(argc, argv, "--prometheus")) {
		long page = sysconf(_SC_PAGESIZE);
		char id[ID_TEXT];

		printf("# HELP memgate_decisions_total Decisions taken by memgate's programs.\n"
		       "# TYPE memgate_decisions_total counter\n");
		for (size_t i = 0; i < n; i++) {
			struct mg_stats *st = &list[i].stats;
			const struct {
				const char *op, *decision;
				uint64_t v;
			} rows[] = {
				{ "commit", "allowed", st->commit_allowed }, { "commit", "denied", st->commit_denied },
				{ "commit", "audited", st->commit_audited }, { "fork", "allowed", st->fork_allowed },
				{ "fork", "denied", st->fork_denied },	     { "fork", "audited", st->fork_audited },
			};
			for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
				printf("memgate_decisions_total{container=\"%s\",op=\"%s\",decision=\"%s\"} %" PRIu64 "\n",
				       id_text(list[i].id, true, id), rows[r].op, rows[r].decision, rows[r].v);
		}
		printf("# HELP memgate_committed_bytes Committed private memory of the container.\n"
		       "# TYPE memgate_committed_bytes gauge\n");
		for (size_t i = 0; i < n; i++)
			printf("memgate_committed_bytes{container=\"%s\"} %" PRId64 "\n", id_text(list[i].id, true, id),
			       (int64_t)(list[i].stats.committed_pages * page));
		printf("# HELP memgate_commit_limit_bytes The container's commit limit (0: none).\n"
		       "# TYPE memgate_commit_limit_bytes gauge\n");
		for (size_t i = 0; i < n; i++)
			printf("memgate_commit_limit_bytes{container=\"%s\"} %" PRIu64 "\n", id_text(list[i].id, true, id),
			       (uint64_t)list[i].policy.commit_limit);
		printf("# HELP memgate_oom_kills_total Processes of the container the kernel's OOM killer killed.\n"
		       "# TYPE memgate_oom_kills_total counter\n");
		for (size_t i = 0; i < n; i++)
			printf("memgate_oom_kills_total{container=\"%s\"} %" PRIu64 "\n", id_text(list[i].id, true, id),
			       (uint64_t)list[i].stats.oom_kills);
		printf("# HELP memgate_reclaim_episodes_total memcg limit reclaim episodes in the container.\n"
		       "# TYPE memgate_reclaim_episodes_total counter\n");
		for (size_t i = 0; i < n; i++)
			printf("memgate_reclaim_episodes_total{container=\"%s\"} %" PRIu64 "\n", id_text(list[i].id, true, id),
			       (uint64_t)list[i].stats.reclaim_episodes);
		printf("# HELP memgate_reclaim_seconds_total Time the container's tasks spent in memcg limit reclaim.\n"
		       "# TYPE memgate_reclaim_seconds_total counter\n");
		for (size_t i = 0; i < n; i++)
			printf("memgate_reclaim_seconds_total{container=\"%s\"} %.9f\n", id_text(list[i].id, true, id),
			       list[i].stats.reclaim_ns / 1e9);
		printf("# HELP memgate_memory_peak_bytes The container cgroup's memory.peak.\n"
		       "# TYPE memgate_memory_peak_bytes gauge\n");
		for (size_t i = 0; i < n; i++)
			if (list[i].memory.has_peak)
				printf("memgate_memory_peak_bytes{container=\"%s\"} %" PRIu64 "\n", id_text(list[i].id, true, id),
				       list[i].memory.peak_bytes);
		printf("# HELP memgate_events_dropped_total Events lost to a full ring buffer.\n"
		       "# TYPE memgate_events_dropped_total counter\n"
		       "memgate_events_dropped_total %" PRIu64 "\n", (uint64_t)g.events_dropped);
		printf("# HELP memgate_program_runs_skipped_total Runs of memgate's programs the kernel skipped.\n"
		       "# TYPE memgate_program_runs_skipped_total counter\n"
		       "memgate_program_runs_skipped_total %" PRIu64 "\n", skipped);
		return 0;
	}
	if (none) {
		if (!n_retired)
			printf("memgate: not loaded (no container is under policy)\n");
		print_retired(retired, n_retired);
		return 0;
	}
	if (mg_shared_kept())
		printf("memgate: kept loaded with no policy (memgate preload)\n");
	printf("%-24s %-8s %12s %12s %10s %10s %10s %8s\n", "CONTAINER", "MODE", "COMMITTED", "LIMIT",
	       "ALLOWED", "DENIED", "AUDITED", "FORK-DN");
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &list[i];
		const struct mg_denial *d = &e->stats.last_denial;
		int64_t pages = e->stats.committed_pages;
		char used[MG_SIZE_TEXT_LEN], limit[MG_SIZE_TEXT_LEN];
		char asked[MG_SIZE_TEXT_LEN], at[MG_SIZE_TEXT_LEN], of[MG_SIZE_TEXT_LEN];
		char id[ID_COLUMN + 1], comm[COMM_TEXT];

		/* Sizes as the annotations write them; "-" for no limit. */
		mg_format_size(pages > 0 ? (uint64_t)pages * sysconf(_SC_PAGESIZE) : 0, used);
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
	if (g.enforce_error)
		printf("enforcement not loaded (%s): containers are monitored only\n",
		       strerror((int)-g.enforce_error));
	if (g.events_dropped)
		printf("events dropped: %" PRIu64 "\n", (uint64_t)g.events_dropped);
	if (skipped)
		printf("program runs the kernel skipped: %" PRIu64 " (charges let through undecided; "
		       "where the BPF LSM is active, never those of mmap, mprotect, brk, mremap "
		       "or fork)\n",
		       skipped);
	print_retired(retired, n_retired);
	return 0;
}

static volatile sig_atomic_t stop_following;

static void on_signal(int sig)
{
	stop_following = 1;
}

struct event_ctx {
	bool json;
	int names; /* memgate_names: cgroup id -> container, for the container's id */
};

static int print_event(void *ctx, void *data, size_t size)
{
	const struct mg_event *e = data;
	const struct event_ctx *ec = ctx;
	struct mg_container_key key = {};
	char id[ID_TEXT], comm[COMM_TEXT];
	bool oom;

	if (size < sizeof(*e))
		return 0;
	oom = e->d.kind == MG_KIND_OOM_KILL;
	bpf_map_lookup_elem(ec->names, &e->cgroup_id, &key);
	key.id[sizeof(key.id) - 1] = '\0';
	if (ec->json) {
		json_object *o;

		if (oom) {
			o = oom_kill_json(&e->d);
			json_object_object_add(o, "kind", json_object_new_string(kind_name(e->d.kind)));
		} else {
			o = denial_json(&e->d);
		}
		json_object_object_add(o, "cgroup_id", u64(e->cgroup_id));
		json_object_object_add(o, "container", key.id[0] ? json_object_new_string(key.id) : NULL);
		json_object_object_add(o, "decision", json_object_new_string(oom ? "killed" : e->audited ? "audited" : "denied"));
		put_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else if (oom) {
		printf("oom-kill container=%s cgroup=%" PRIu64 " pid=%u comm=%s\n",
		       key.id[0] ? id_text(key.id, false, id) : "-", (uint64_t)e->cgroup_id, e->d.pid,
		       comm_text(e->d.comm, comm));
	} else {
		printf("%s %s cgroup=%" PRIu64 " pid=%u comm=%s requested=%" PRIu64 " measured=%" PRIu64 " limit=%" PRIu64 "\n",
		       e->audited ? "audited" : "denied", kind_name(e->d.kind), (uint64_t)e->cgroup_id, e->d.pid,
		       comm_text(e->d.comm, comm), (uint64_t)e->d.requested, (uint64_t)e->d.measured, (uint64_t)e->d.limit);
	}
	fflush(stdout);
	return 0;
}

/* Sleep up to ms, or less when a signal stops following. */
static void nap(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Read memgate's ring buffer once, or until memgate unloads when following. */
static int read_events(bool follow, struct event_ctx *ec, struct mg_error *err)
{
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	struct ring_buffer *rb;
	int ret;

	ret = mg_shared_open(&s, false, err);
	if (ret < 0)
		return ret;
	ec->names = s.names;
	rb = ring_buffer__new(s.events, print_event, ec, NULL);
	if (!rb)
		return mg_fail_errno(err, errno, "cannot read %s/maps/events", MG_PIN_DIR);
	if (!follow) {
		ring_buffer__consume(rb);
	} else {
		while (!stop_following && mg_shared_exists()) {
			ret = ring_buffer__poll(rb, 200);
			if (ret < 0 && ret != -EINTR)
				break;
		}
	}
	ring_buffer__free(rb);
	return 0;
}

static int cmd_events(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--follow", "--json", NULL };
	struct event_ctx ec = { .json = has_flag(argc, argv, "--json") };
	bool follow = has_flag(argc, argv, "--follow"), said = false;
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	if (!follow)
		return read_events(false, &ec, err);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* A service from boot: wait for memgate to load, and again after it unloads. */
	while (!stop_following) {
		if (!mg_shared_exists()) {
			if (!said)
				fprintf(stderr, "memgate events: waiting for memgate to load (the first "
						"container under policy)\n");
			said = true;
			nap(500);
			continue;
		}
		said = false;
		ret = read_events(true, &ec, err);
		/* Caught mid-load or mid-unload, or another layout's tree: say it, wait, retry. */
		if (ret < 0) {
			fprintf(stderr, "memgate events: %s; retrying\n", err->msg);
			nap(1000);
		}
		*err = (struct mg_error){};
	}
	return 0;
}

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

	v[V_COMMIT] = (struct verdict){ .name = "commit-limit", .yes = commit };
	if (commit)
		snprintf(v[V_COMMIT].why, sizeof(v[0].why),
			 "fmod_ret decides each commit; fentry and fexit programs count releases");
	else
		snprintf(v[V_COMMIT].why, sizeof(v[0].why), "%s: %s", fmod->fires ? "fentry" : "fmod_ret",
			 fmod->fires ? fentry->why_not : fmod->why_not);
	v[V_PRESSURE] = (struct verdict){ .name = "pressure-gate", .yes = commit };
	if (commit)
		snprintf(v[V_PRESSURE].why, sizeof(v[0].why),
			 "decided where commit-limit is; memory in use read through %s",
			 mg_memcg_source_id(memcg));
	else
		snprintf(v[V_PRESSURE].why, sizeof(v[0].why), "as commit-limit");
	v[V_FORK] = (struct verdict){ .name = "fork-gate", .yes = commit && lsmcg->fires && lsm->fires };
	if (v[V_FORK].yes)
		snprintf(v[V_FORK].why, sizeof(v[0].why),
			 "an lsm_cgroup program on task_alloc, attached to each container's cgroup");
	else if (!commit)
		snprintf(v[V_FORK].why, sizeof(v[0].why), "memgate's enforcement does not load (as commit-limit)");
	else
		snprintf(v[V_FORK].why, sizeof(v[0].why), "%s: %s", lsm->fires ? "lsm_cgroup" : "lsm",
			 lsm->fires ? lsmcg->why_not : lsm->why_not);
	v[V_AUDIT] = (struct verdict){ .name = "audit", .yes = commit };
	snprintf(v[V_AUDIT].why, sizeof(v[0].why), "%s",
		 commit ? "each knob that says yes above is decided and recorded, nothing denied"
			: "no knob can be decided here (as commit-limit)");
	v[V_MONITOR] = (struct verdict){ .name = "monitor", .yes = mon->available };
	if (mon->available)
		snprintf(v[V_MONITOR].why, sizeof(v[0].why),
			 "tp_btf programs, no trampoline: OOM kills %s, memcg reclaim %s, peak usage",
			 mon->oom ? "yes" : "no", mon->reclaim ? "yes" : "no");
	else
		snprintf(v[V_MONITOR].why, sizeof(v[0].why), "%s", mon->why_not);
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

static int cmd_probe(int argc, char **argv, struct mg_error *err)
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
	memcg = mg_probe_memcg_source();
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
	printf("\n%-11s %-30s %-6s %-8s %-6s %s\n", "MECHANISM", "TARGET", "LOADS", "ATTACHES",
	       "FIRES", "FOR");
	for (int i = 0; i < MG_PROBE_COUNT; i++) {
		printf("%-11s %-30s %-6s %-8s %-6s %s\n", r[i].name, r[i].target,
		       r[i].loads ? "yes" : "no", r[i].attaches ? "yes" : "no",
		       r[i].fires ? "yes" : "no", r[i].used_for);
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

static int cmd_gc(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--all", NULL };
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	_cleanup_free_ struct entry *list = NULL;
	bool all = has_flag(argc, argv, "--all");
	size_t n = 0, removed = 0;
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	ret = mg_shared_lock(&s, mg_config_lock_timeout(), err);
	if (ret < 0)
		return ret;
	if (all) {
		ret = mg_shared_remove_all(err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			printf("memgate: nothing to collect\n");
		else
			printf("memgate: removed all of %s (%d tree%s, retired and stale included)\n",
			       MG_PIN_DIR, ret, ret == 1 ? "" : "s");
		return 0;
	}
	mg_shared_serve_retired(NULL);
	{
		struct mg_retired retired[MAX_RETIRED_LISTED];

		print_retired(retired, mg_shared_list_retired(retired, MAX_RETIRED_LISTED));
	}
	if (!mg_shared_exists()) {
		printf("memgate: nothing to collect\n");
		return 0;
	}
	ret = mg_shared_open(&s, false, err);
	if (ret < 0)
		return ret;
	ret = collect(&s, &list, &n);
	if (ret < 0)
		return mg_fail(err, -ret, "cannot read memgate's maps");
	for (size_t i = 0; i < n; i++) {
		ret = mg_cgroup_alive(list[i].cgroup_id, err);
		if (ret < 0)
			return ret;
		if (ret)
			continue;
		char id[ID_TEXT];

		printf("memgate: removing %s (cgroup %" PRIu64 " is gone)\n",
		       id_text(list[i].id, false, id), list[i].cgroup_id);
		ret = mg_shared_remove(&s, list[i].id, err);
		if (ret < 0)
			return ret;
		removed++;
	}
	/* What a start killed before its policy was in place left, and no container names. */
	ret = mg_shared_forget_dead(&s, err);
	if (ret < 0)
		return ret;
	n = ret;
	if (n)
		printf("memgate: removing the entries of %zu removed cgroup%s without a container\n", n,
		       n == 1 ? "" : "s");
	removed += n;
	printf("memgate: %zu entr%s removed\n", removed, removed == 1 ? "y" : "ies");
	return mg_shared_release_if_unused(&s, err);
}

/*
 * Keep memgate loaded from boot with no policy (deploy/systemd), so the first
 * container's start costs what a warm one does; --release undoes it.
 */
static int cmd_preload(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--release", NULL };
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	bool release = has_flag(argc, argv, "--release");
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	ret = mg_shared_lock(&s, mg_config_lock_timeout(), err);
	if (ret < 0)
		return ret;
	mg_shared_serve_retired(NULL);
	if (release && !mg_shared_exists()) {
		printf("memgate: not loaded\n");
		return 0;
	}
	ret = mg_shared_open(&s, !release, err);
	if (ret < 0)
		return ret;
	ret = mg_shared_keep(&s, !release, err);
	if (ret < 0)
		return ret;
	if (!release)
		printf("memgate: loaded at %s and kept with no policy\n", MG_PIN_DIR);
	else if (mg_shared_exists())
		printf("memgate: no longer kept; it goes when its last container under policy stops\n");
	else
		printf("memgate: released (no container was under policy)\n");
	return 0;
}

/* "commit-limit=1Gi mode=audit", the knobs spec sets, as written. */
static void describe(const struct mg_policy_spec *spec, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < MG_KNOB_COUNT && n < size; k++) {
		const struct mg_size *sz = mg_policy_size(spec, k);
		const char *v;

		if (!(spec->set & MG_KNOB_BIT(k)))
			continue;
		if (sz)
			v = sz->text;
		else if (k == MG_KNOB_MODE)
			v = mg_mode_name(spec->mode);
		else
			v = spec->warn_unsupported ? "warn" : "fail";
		n += snprintf(buf + n, size - n, "%s%s=%s", n ? " " : "", mg_knob_name(k), v);
	}
	if (!n)
		snprintf(buf, size, "none");
}

/* An admin file has defaults or ceilings; a bundle's config.json has neither. */
static bool is_admin_config(json_object *root)
{
	return !json_object_object_get_ex(root, "annotations", NULL) &&
	       !json_object_object_get_ex(root, "ociVersion", NULL) &&
	       (json_object_object_get_ex(root, "defaults", NULL) ||
		json_object_object_get_ex(root, "ceilings", NULL) ||
		json_object_object_get_ex(root, "modes", NULL));
}

/* --config FILE: a bundle's annotations into annotations, or the admin file into cfg. */
static int read_config(const char *path, bool force_admin, json_object *annotations,
		       struct mg_config *cfg, bool *admin, struct mg_error *err)
{
	_cleanup_json_ json_object *root = NULL, *found = NULL;
	_cleanup_free_ char *buf = NULL;
	char what[4200];
	int ret;

	/* An admin file, named as one: the hook's own reader and its messages. */
	if (force_admin) {
		*admin = true;
		return mg_config_read(path, cfg, err);
	}
	ret = mg_read_file(path, MG_SPEC_MAX, &buf, err);
	if (ret < 0)
		return ret;
	snprintf(what, sizeof(what), "OCI bundle config %s", path);
	ret = mg_json_parse_object(buf, strlen(buf), path, &root, err);
	if (ret < 0 && !force_admin)
		return ret;
	if (!force_admin && !is_admin_config(root)) {
		ret = mg_spec_annotations_parse(buf, strlen(buf), what, &found, err);
		if (ret < 0 || !found)
			return ret;
		json_object_object_foreach(found, k, v)
			json_object_object_add(annotations, k, json_object_get(v));
		return 0;
	}
	*admin = true;
	if (strlen(buf) > MG_CONFIG_MAX)
		return mg_fail(err, EFBIG, "admin configuration %s exceeds %d bytes", path,
			       MG_CONFIG_MAX);
	return mg_config_parse(buf, strlen(buf), path, cfg, err);
}

/* The knob a key names, whatever its case or prefix ("commit-limit", "MEMGATE.IO/mode.web"). */
static const char *knob_of(const char *key)
{
	const size_t plen = strlen(MG_ANNOTATION_PREFIX);
	const char *knob = strncasecmp(key, MG_ANNOTATION_PREFIX, plen) ? key : key + plen;
	size_t len = strcspn(knob, ".");

	for (int k = 0; k < MG_KNOB_COUNT; k++)
		if (strlen(mg_knob_name(k)) == len && !strncasecmp(knob, mg_knob_name(k), len))
			return mg_knob_name(k);
	return NULL;
}

/*
 * KEY=VALUE on the command line that the hook would ignore, but that was
 * surely meant for memgate: no prefix or a prefix in capitals.
 */
static int check_prefix(const char *arg, size_t key_len, struct mg_error *err)
{
	const size_t plen = strlen(MG_ANNOTATION_PREFIX);
	char *key = strndupa(arg, key_len);
	const char *knob = knob_of(key), *rest;

	if (!strncmp(key, MG_ANNOTATION_PREFIX, plen))
		return 0;
	if (!strncasecmp(key, MG_ANNOTATION_PREFIX, plen))
		return mg_fail(err, EINVAL,
			       "'%s': annotation keys are case-sensitive, and the hook ignores this "
			       "one; did you mean " MG_ANNOTATION_PREFIX "%s%s?",
			       arg, key + plen, arg + key_len);
	if (!knob || strchr(key, '/'))
		return 0;
	rest = key + strcspn(key, ".");
	return mg_fail(err, EINVAL,
		       "'%s': no " MG_ANNOTATION_PREFIX " prefix, so the hook would ignore it; did "
		       "you mean " MG_ANNOTATION_PREFIX "%s%s%s?",
		       arg, knob, rest, arg + key_len);
}

static bool has_percent(const struct mg_policy_spec *spec)
{
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		const struct mg_size *size = mg_policy_size(spec, k);

		if (size && size->kind == MG_SIZE_PERCENT)
			return true;
	}
	return false;
}

static int cmd_validate(int argc, char **argv, struct mg_error *err)
{
	const char *name = NULL;
	_cleanup_json_ json_object *annotations = NULL;
	struct mg_policy_bytes bytes;
	struct mg_policy_spec spec;
	struct mg_config cfg = {};
	char line[MG_ERROR_LEN], line2[MG_ERROR_LEN];
	uint64_t memory_max = 0;
	bool admin = false, container = false;
	int ret;

	/* The files and values it reads are as untrusted as the hook's: the same confinement. */
	if (mg_confine(mg_confine_writable, NULL, err) < 0) {
		fprintf(stderr, "memgate validate: warning: running unconfined: %s\n", err->msg);
		*err = (struct mg_error){};
	}
	annotations = json_object_new_object();
	for (int i = 2; i < argc; i++) {
		char *eq;

		if (!strcmp(argv[i], "--memory-max") && i + 1 < argc) {
			ret = mg_parse_quantity(argv[++i], &memory_max, err);
			if (ret < 0) {
				mg_error_prefix(err, "--memory-max");
				return ret;
			}
		} else if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "--admin-config")) &&
			   i + 1 < argc) {
			bool force = !strcmp(argv[i], "--admin-config"), got_admin = false;

			if (admin && force)
				return mg_fail(err, EINVAL, "more than one admin configuration");
			ret = read_config(argv[i + 1], force, annotations, &cfg, &got_admin, err);
			if (ret < 0)
				return ret;
			admin |= got_admin;
			container |= !got_admin;
			i++;
		} else if (!strcmp(argv[i], "--container-name") && i + 1 < argc) {
			name = argv[++i];
		} else if ((eq = strchr(argv[i], '=')) && eq != argv[i]) {
			ret = check_prefix(argv[i], eq - argv[i], err);
			if (ret < 0)
				return ret;
			json_object_object_add(annotations, strndupa(argv[i], eq - argv[i]),
					       json_object_new_string(eq + 1));
			container = true;
		} else {
			return mg_fail(err, EINVAL,
				       "unexpected '%s' (expected KEY=VALUE, --config FILE, "
				       "--admin-config FILE, --memory-max SIZE or --container-name "
				       "NAME)",
				       argv[i]);
		}
	}
	/* The name CRI-O and Kubernetes give; it picks memgate.io/KNOB.NAME overrides. */
	if (name) {
		json_object_object_add(annotations, "io.kubernetes.container.name",
				       json_object_new_string(name));
		json_object_object_del(annotations, "io.kubernetes.cri.container-name");
	}
	/* Without an admin file named, check what the hook would read. */
	if (!admin) {
		ret = mg_config_load(mg_config_path(), &cfg, err);
		if (ret < 0)
			return ret;
	}
	/* A file that only sets lock-timeout says nothing about containers. */
	if (cfg.present && (admin || cfg.defaults.set || cfg.ceilings.set || cfg.modes)) {
		describe(&cfg.defaults, line, sizeof(line));
		describe(&cfg.ceilings, line2, sizeof(line2));
		printf("admin configuration %s: defaults %s; ceilings %s", cfg.path, line, line2);
		if (cfg.modes) {
			printf("; modes");
			for (int m = MG_MODE_ENFORCE; m <= MG_MODE_MONITOR; m++)
				if (cfg.modes & MG_MODE_BIT(m))
					printf("%s%s", m ? ", " : " ", mg_mode_name(m));
		}
		printf("\n");
		if (admin && !container)
			return 0;
	}
	ret = mg_policy_parse(annotations, &spec, err);
	if (ret < 0)
		return ret;
	mg_config_defaults(&cfg, &spec);
	if (!spec.present) {
		printf("no memgate policy: the hook will do nothing for this container\n");
		return 0;
	}
	ret = mg_config_resolve(&cfg, &spec, memory_max, &bytes, err);
	if (ret == -EINVAL && !memory_max && has_percent(&spec)) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n,
			 "; give the container's limit with --memory-max SIZE");
	}
	if (ret < 0)
		return ret;
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		struct mg_kube_names kube;
		struct mg_error why;

		if (!(bytes.left_out & MG_KNOB_BIT(k)))
			continue;
		mg_kube_names(annotations, &kube);
		mg_config_why_left_out(&spec, k, memory_max, kube.container, &why);
		printf("warning: %s\n", why.msg);
	}
	/* The policy that will apply: a mode the admin's bounds hold, monitor's sizes of 0. */
	mg_config_mode_note(&cfg, &spec, &bytes, line, sizeof(line));
	if (line[0])
		printf("%s\n", line);
	line[0] = '\0';
	for (int k = 0, n = 0; k < MG_KNOB_COUNT; k++)
		if (spec.defaulted & MG_KNOB_BIT(k))
			n += snprintf(line + n, sizeof(line) - n, "%s%s", n ? "," : " (defaults: ",
				      mg_knob_name(k));
	printf("valid: mode=%s commit-limit=%" PRIu64 " pressure-gate=%" PRIu64 " fork-gate=%" PRIu64 "%s%s%s\n",
	       mg_mode_name(bytes.mode), bytes.commit_limit, bytes.pressure_gate,
	       bytes.fork_gate, spec.warn_unsupported ? " on-unsupported=warn" : "", line,
	       line[0] ? ")" : "");
	return 0;
}

static int cmd_help(int argc, char **argv, struct mg_error *err);

static const struct command {
	const char *name;
	int (*fn)(int, char **, struct mg_error *);
	bool root; /* reads or changes memgate's state, or loads BPF */
	const char *synopsis;
	const char *help;
} commands[] = {
	{ "status", cmd_status, true, "[--json | --prometheus]",
	  "Every container under policy: mode, committed memory, commit limit, decisions,\n"
	  "the last denial, peak memory, OOM kills and reclaim.\n"
	  "  --json        the same as one JSON document (schema in memgate(8))\n"
	  "  --prometheus  the same as Prometheus text metrics\n" },
	{ "events", cmd_events, true, "[--follow] [--json]",
	  "Denials, audited decisions and OOM kills from memgate's ring buffer.\n"
	  "  --follow  keep reading until SIGINT or SIGTERM; waits while memgate is not\n"
	  "            loaded, so it can run as a service from boot\n"
	  "  --json    one JSON object a line\n" },
	{ "probe", cmd_probe, true, "[--json] [--verbose]",
	  "What this kernel lets memgate do: first one verdict per knob and mode, then\n"
	  "each mechanism (loads, attaches, fires) and what it is for.\n"
	  "  --json     the same as one JSON document\n"
	  "  --verbose  libbpf's and the verifier's reasons for what failed\n" },
	{ "gc", cmd_gc, true, "[--all]",
	  "Remove the policy of containers whose cgroup is gone (a poststop that never\n"
	  "ran), and unload memgate when no container is left.\n"
	  "  --all  remove everything under /sys/fs/bpf/memgate, running containers' policy\n"
	  "         included\n" },
	{ "validate", cmd_validate, false,
	  "[--memory-max SIZE] [--container-name NAME] [--config FILE]\n"
	  "                        [--admin-config FILE] [KEY=VALUE...]",
	  "Check annotations with the hook's own parser, and print the policy that will\n"
	  "apply, the admin configuration included. Needs no root and no BPF.\n"
	  "  KEY=VALUE             an annotation, e.g. memgate.io/commit-limit=1Gi\n"
	  "  --memory-max SIZE     the container's memory limit, for percentages\n"
	  "  --container-name NAME the container's name in its pod, for\n"
	  "                        memgate.io/KNOB.NAME overrides\n"
	  "  --config FILE         a bundle's config.json, or an admin configuration\n"
	  "  --admin-config FILE   the admin configuration to use instead of\n"
	  "                        /etc/memgate/memgate.json ($MEMGATE_CONFIG)\n" },
	{ "preload", cmd_preload, true, "[--release]",
	  "Keep memgate loaded from boot with no container under policy (deploy/systemd),\n"
	  "so the first container starts as fast as the next.\n"
	  "  --release  stop keeping it: it goes when its last container stops\n" },
	{ "help", cmd_help, false, "[COMMAND]", "This help, or one command's.\n" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "memgate %s: per-container memory policy, enforced by BPF\n\n", MG_VERSION);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "%s memgate %s %s\n", i ? "      " : "usage:", commands[i].name,
			commands[i].synopsis);
	fprintf(f, "       memgate --version\n\n"
		   "Every command but validate and help needs root. memgate COMMAND --help, or\n"
		   "memgate(8), says more. Exit status: 0 done, 1 failed (a bad option included),\n"
		   "2 no command or an unknown one.\n");
}

static void command_help(const struct command *c)
{
	printf("usage: memgate %s %s\n\n%s", c->name, c->synopsis, c->help);
	if (c->root)
		printf("Needs root.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv, struct mg_error *err)
{
	const struct command *c;

	if (argc < 3) {
		usage(stdout);
		return 0;
	}
	c = find_command(!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h") ? "help" : argv[2]);
	if (!c || argc > 3)
		return mg_fail(err, EINVAL, "unknown command '%s' (expected status, events, probe, "
					    "gc, preload, validate or help)",
			       argv[2]);
	command_help(c);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;
	struct mg_error err = {};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("memgate %s\n", MG_VERSION);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "memgate: unknown command '%s' (expected status, events, probe, gc, "
				"preload, validate or help; memgate --help lists them)\n",
			argv[1]);
		return 2;
	}
	for (int i = 2; i < argc && c->fn != cmd_help; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			command_help(c);
			return 0;
		}
	if ((c->root && mg_need_root(&err) < 0) || c->fn(argc, argv, &err) < 0) {
		char msg[MG_ERROR_LEN];

		/* Nothing raw: the message may quote a tenant's annotation or id. */
		mg_escape(msg, sizeof(msg), err.msg, strlen(err.msg), MG_ESCAPE_TEXT);
		fprintf(stderr, "memgate %s: %s\n", argv[1], msg);
		return c->fn == cmd_help ? 2 : 1;
	}
	return 0;
}
