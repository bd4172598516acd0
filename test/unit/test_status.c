// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate status's three forms of fixed snapshots, without a kernel: the
 * JSON document, the Prometheus text and the table, each byte for byte.
 * The expected texts were printed by the renderers before they were
 * table-driven; a field renamed, moved or dropped fails here.
 */
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "mg_snapshot.h"
#include "../../cli/cli.h"

/* cmd_status's calls (cli/status.o is linked whole), never made here. */
bool has_flag(int argc, char **argv, const char *flag)
{
	fail();
	return false;
}

int check_flags(int argc, char **argv, const char *const *known, struct mg_error *err)
{
	fail();
	return -EINVAL;
}

int mg_snapshot_take(struct mg_snapshot *snap, struct mg_error *err)
{
	fail();
	return -EINVAL;
}

void mg_snapshot_free(struct mg_snapshot *snap)
{
	fail();
}

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

/* A Kubernetes container with a denial and an OOM kill, and a plain one in audit mode. */
static struct mg_snapshot_entry entries[] = {
	{
		.id = "0123456789abcdef0123456789abcdef",
		.kube = { .namespace = "shop", .pod = "web-7d4f", .container = "nginx" },
		.cgroup_id = 4242,
		.policy = { .commit_limit = GiB, .pressure_gate = 512 * MiB, .fork_gate = 768 * MiB,
			    .flags = 0, .level = 5 },
		.stats = {
			.commit_allowed = 100, .commit_denied = 2, .commit_audited = 0,
			.fork_allowed = 7, .fork_denied = 1, .fork_audited = 0,
			.committed_pages = 2560, .committed_peak_pages = 4096,
			.last_denial = { .timestamp_ns = 123456789, .requested = 64 * MiB,
					 .measured = 1000 * MiB, .limit = GiB, .pid = 31337,
					 .kind = MG_KIND_COMMIT, .comm = "nginx: worker" },
			.oom_kills = 1, .reclaim_episodes = 12, .reclaim_ns = 1500000001,
			.last_oom_kill = { .timestamp_ns = 987654321, .pid = 31338,
					   .kind = MG_KIND_OOM_KILL,
					   /* 16 bytes, no NUL: a tenant's name, escaped */
					   .comm = { 'e', 'v', 'i', 'l', '\x1b', '[', '2', 'J',
						     'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' } },
			.mms = 3, .mms_untracked = 1, .shm = 2, .shm_no_room = 4,
		},
		.memory = { .has_peak = true, .has_events = true, .peak_bytes = 300 * MiB,
			    .oom_kills = 2 },
		.committed_bytes = 10 * MiB,
		.committed_peak_bytes = 16 * MiB,
	},
	{
		.id = "plain\"id\n\x7f",
		.cgroup_id = 77,
		.policy = { .commit_limit = 0, .pressure_gate = 4096, .fork_gate = 0,
			    .flags = MG_AUDIT, .level = 3 },
		.stats = {
			.commit_allowed = 5, .commit_audited = 6, .fork_audited = 8,
			.committed_pages = -3, .committed_peak_pages = 1,
		},
		.committed_bytes = -12288,
		.committed_peak_bytes = 4096,
	},
};

static const struct mg_snapshot loaded = {
	.loaded = true,
	.kept = true,
	.globals = { .layout_version = 9, .events_dropped = 3, .mms_untracked = 1,
		     .dead_dropped = 0, .enforce_error = 0, .mms_pool_used = 5, .shm_pool_used = 2 },
	.skipped = 11,
	.entries = entries,
	.n = 2,
	.retired = { { .path = "/sys/fs/bpf/memgate.old-8", .layout = 8, .containers = 1 } },
	.n_retired = 1,
};

/* Enforcement failed to load: one container, monitored only. */
static struct mg_snapshot_entry monitored_entry = {
	.id = "m1",
	.cgroup_id = 5,
	.policy = { .flags = MG_MONITOR, .level = 2 },
	.memory = { .has_peak = false, .has_events = true, .oom_kills = 0 },
};

static const struct mg_snapshot monitored = {
	.loaded = true,
	.globals = { .enforce_error = -ENOENT },
	.entries = &monitored_entry,
	.n = 1,
};

/* Not loaded, with more retired trees than a snapshot lists. */
static const struct mg_snapshot unloaded = {
	.retired = {
		{ .path = "/sys/fs/bpf/memgate.old-1", .layout = 1, .containers = 2 },
		{ .path = "/sys/fs/bpf/memgate.old-2", .layout = 0, .containers = 0 },
		{ .path = "/sys/fs/bpf/memgate.old-3", .layout = 3, .containers = 1 },
		{ .path = "/sys/fs/bpf/memgate.old-4", .layout = 4, .containers = 3 },
		{ .path = "/sys/fs/bpf/memgate.old-5", .layout = 5, .containers = 1 },
		{ .path = "/sys/fs/bpf/memgate.old-6", .layout = 6, .containers = 1 },
		{ .path = "/sys/fs/bpf/memgate.old-7", .layout = 7, .containers = 5 },
		{ .path = "/sys/fs/bpf/memgate.old-8", .layout = 8, .containers = 1 },
	},
	.n_retired = 9,
};

/* What render printed on stdout, malloc'ed. */
static char *rendered(void (*render)(const struct mg_snapshot *), const struct mg_snapshot *snap)
{
	FILE *tmp = tmpfile();
	int saved;
	long len;
	char *out;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	render(snap);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	len = ftell(tmp);
	assert_true(len >= 0);
	out = calloc(1, len + 1);
	assert_non_null(out);
	rewind(tmp);
	assert_int_equal(fread(out, 1, len, tmp), (size_t)len);
	fclose(tmp);
	return out;
}

/* Byte for byte; on a difference, the line where it starts, got and expected. */
static void expect(const char *what, void (*render)(const struct mg_snapshot *),
		   const struct mg_snapshot *snap, const char *want)
{
	char *got = rendered(render, snap);
	size_t i = 0, start = 0, line = 1;

	while (got[i] && got[i] == want[i])
		if (got[i++] == '\n') {
			line++;
			start = i;
		}
	if (got[i] != want[i]) {
		print_message("# %s differs at line %zu:\n#   got      \"%.*s\"\n#   expected \"%.*s\"\n",
			      what, line, (int)strcspn(got + start, "\n"), got + start,
			      (int)strcspn(want + start, "\n"), want + start);
		free(got);
		fail();
	}
	free(got);
}

/* What the renderers printed before they were table-driven (cli/status.c of ee09610). */
static const char loaded_json[] =
	"{\n"
	"  \"schema\":2,\n"
	"  \"loaded\":true,\n"
	"  \"kept_loaded\":true,\n"
	"  \"events_dropped\":3,\n"
	"  \"mms_untracked\":1,\n"
	"  \"mms_pool_used\":5,\n"
	"  \"shm_pool_used\":2,\n"
	"  \"program_runs_skipped\":11,\n"
	"  \"enforcement\":true,\n"
	"  \"enforcement_error\":null,\n"
	"  \"containers\":[\n"
	"    {\n"
	"      \"id\":\"0123456789abcdef0123456789abcdef\",\n"
	"      \"kubernetes\":{\n"
	"        \"namespace\":\"shop\",\n"
	"        \"pod\":\"web-7d4f\",\n"
	"        \"container\":\"nginx\"\n"
	"      },\n"
	"      \"cgroup_id\":4242,\n"
	"      \"mode\":\"enforce\",\n"
	"      \"policy\":{\n"
	"        \"commit_limit_bytes\":1073741824,\n"
	"        \"pressure_gate_bytes\":536870912,\n"
	"        \"fork_gate_bytes\":805306368\n"
	"      },\n"
	"      \"decisions\":{\n"
	"        \"commits_allowed\":100,\n"
	"        \"commits_denied\":2,\n"
	"        \"commits_audited\":0,\n"
	"        \"forks_allowed\":7,\n"
	"        \"forks_denied\":1,\n"
	"        \"forks_audited\":0,\n"
	"        \"committed_bytes\":10485760,\n"
	"        \"committed_peak_bytes\":16777216,\n"
	"        \"address_spaces\":3,\n"
	"        \"address_spaces_untracked\":1,\n"
	"        \"shared_objects\":2,\n"
	"        \"shared_objects_without_room\":4\n"
	"      },\n"
	"      \"last_denial\":{\n"
	"        \"kind\":\"commit-limit\",\n"
	"        \"pid\":31337,\n"
	"        \"comm\":\"nginx: worker\",\n"
	"        \"requested_bytes\":67108864,\n"
	"        \"measured_bytes\":1048576000,\n"
	"        \"limit_bytes\":1073741824,\n"
	"        \"timestamp_ns\":123456789\n"
	"      },\n"
	"      \"oom\":{\n"
	"        \"kills\":1,\n"
	"        \"memcg_oom_kills\":2,\n"
	"        \"last_victim\":{\n"
	"          \"pid\":31338,\n"
	"          \"comm\":\"evil\\u001b[2Jabcdefgh\",\n"
	"          \"timestamp_ns\":987654321\n"
	"        }\n"
	"      },\n"
	"      \"reclaim\":{\n"
	"        \"episodes\":12,\n"
	"        \"time_ns\":1500000001\n"
	"      },\n"
	"      \"memory\":{\n"
	"        \"peak_bytes\":314572800\n"
	"      }\n"
	"    },\n"
	"    {\n"
	"      \"id\":\"plain\\\"id\\n\\u007f\",\n"
	"      \"kubernetes\":null,\n"
	"      \"cgroup_id\":77,\n"
	"      \"mode\":\"audit\",\n"
	"      \"policy\":{\n"
	"        \"commit_limit_bytes\":0,\n"
	"        \"pressure_gate_bytes\":4096,\n"
	"        \"fork_gate_bytes\":0\n"
	"      },\n"
	"      \"decisions\":{\n"
	"        \"commits_allowed\":5,\n"
	"        \"commits_denied\":0,\n"
	"        \"commits_audited\":6,\n"
	"        \"forks_allowed\":0,\n"
	"        \"forks_denied\":0,\n"
	"        \"forks_audited\":8,\n"
	"        \"committed_bytes\":0,\n"
	"        \"committed_peak_bytes\":4096,\n"
	"        \"address_spaces\":0,\n"
	"        \"address_spaces_untracked\":0,\n"
	"        \"shared_objects\":0,\n"
	"        \"shared_objects_without_room\":0\n"
	"      },\n"
	"      \"last_denial\":null,\n"
	"      \"oom\":{\n"
	"        \"kills\":0,\n"
	"        \"memcg_oom_kills\":null,\n"
	"        \"last_victim\":null\n"
	"      },\n"
	"      \"reclaim\":{\n"
	"        \"episodes\":0,\n"
	"        \"time_ns\":0\n"
	"      },\n"
	"      \"memory\":{\n"
	"        \"peak_bytes\":null\n"
	"      }\n"
	"    }\n"
	"  ],\n"
	"  \"retired\":[\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-8\",\n"
	"      \"layout\":8,\n"
	"      \"containers\":1\n"
	"    }\n"
	"  ]\n"
	"}\n";

static const char loaded_prometheus[] =
	"# HELP memgate_decisions_total Decisions taken by memgate's programs.\n"
	"# TYPE memgate_decisions_total counter\n"
	"memgate_decisions_total{container=\"0123456789abcdef0123456789abcdef\",op=\"commit\",decision=\"allowed\"} 100\n"
	"memgate_decisions_total{container=\"0123456789abcdef0123456789abcdef\",op=\"commit\",decision=\"denied\"} 2\n"
	"memgate_decisions_total{container=\"0123456789abcdef0123456789abcdef\",op=\"commit\",decision=\"audited\"} 0\n"
	"memgate_decisions_total{container=\"0123456789abcdef0123456789abcdef\",op=\"fork\",decision=\"allowed\"} 7\n"
	"memgate_decisions_total{container=\"0123456789abcdef0123456789abcdef\",op=\"fork\",decision=\"denied\"} 1\n"
	"memgate_decisions_total{container=\"0123456789abcdef0123456789abcdef\",op=\"fork\",decision=\"audited\"} 0\n"
	"memgate_decisions_total{container=\"plain\\\"id\\n\\\\x7f\",op=\"commit\",decision=\"allowed\"} 5\n"
	"memgate_decisions_total{container=\"plain\\\"id\\n\\\\x7f\",op=\"commit\",decision=\"denied\"} 0\n"
	"memgate_decisions_total{container=\"plain\\\"id\\n\\\\x7f\",op=\"commit\",decision=\"audited\"} 6\n"
	"memgate_decisions_total{container=\"plain\\\"id\\n\\\\x7f\",op=\"fork\",decision=\"allowed\"} 0\n"
	"memgate_decisions_total{container=\"plain\\\"id\\n\\\\x7f\",op=\"fork\",decision=\"denied\"} 0\n"
	"memgate_decisions_total{container=\"plain\\\"id\\n\\\\x7f\",op=\"fork\",decision=\"audited\"} 8\n"
	"# HELP memgate_committed_bytes Committed private memory of the container.\n"
	"# TYPE memgate_committed_bytes gauge\n"
	"memgate_committed_bytes{container=\"0123456789abcdef0123456789abcdef\"} 10485760\n"
	"memgate_committed_bytes{container=\"plain\\\"id\\n\\\\x7f\"} -12288\n"
	"# HELP memgate_commit_limit_bytes The container's commit limit (0: none).\n"
	"# TYPE memgate_commit_limit_bytes gauge\n"
	"memgate_commit_limit_bytes{container=\"0123456789abcdef0123456789abcdef\"} 1073741824\n"
	"memgate_commit_limit_bytes{container=\"plain\\\"id\\n\\\\x7f\"} 0\n"
	"# HELP memgate_oom_kills_total Processes of the container the kernel's OOM killer killed.\n"
	"# TYPE memgate_oom_kills_total counter\n"
	"memgate_oom_kills_total{container=\"0123456789abcdef0123456789abcdef\"} 1\n"
	"memgate_oom_kills_total{container=\"plain\\\"id\\n\\\\x7f\"} 0\n"
	"# HELP memgate_reclaim_episodes_total memcg limit reclaim episodes in the container.\n"
	"# TYPE memgate_reclaim_episodes_total counter\n"
	"memgate_reclaim_episodes_total{container=\"0123456789abcdef0123456789abcdef\"} 12\n"
	"memgate_reclaim_episodes_total{container=\"plain\\\"id\\n\\\\x7f\"} 0\n"
	"# HELP memgate_reclaim_seconds_total Time the container's tasks spent in memcg limit reclaim.\n"
	"# TYPE memgate_reclaim_seconds_total counter\n"
	"memgate_reclaim_seconds_total{container=\"0123456789abcdef0123456789abcdef\"} 1.500000001\n"
	"memgate_reclaim_seconds_total{container=\"plain\\\"id\\n\\\\x7f\"} 0.000000000\n"
	"# HELP memgate_memory_peak_bytes The container cgroup's memory.peak.\n"
	"# TYPE memgate_memory_peak_bytes gauge\n"
	"memgate_memory_peak_bytes{container=\"0123456789abcdef0123456789abcdef\"} 314572800\n"
	"# HELP memgate_events_dropped_total Events lost to a full ring buffer.\n"
	"# TYPE memgate_events_dropped_total counter\n"
	"memgate_events_dropped_total 3\n"
	"# HELP memgate_program_runs_skipped_total Runs of memgate's programs the kernel skipped.\n"
	"# TYPE memgate_program_runs_skipped_total counter\n"
	"memgate_program_runs_skipped_total 11\n";

static const char loaded_table[] =
	"memgate: kept loaded with no policy (memgate preload)\n"
	"CONTAINER                MODE        COMMITTED        LIMIT    ALLOWED     DENIED    AUDITED  FORK-DN\n"
	"nginx                    enforce          10Mi          1Gi        100          2          0        1\n"
	"  kubernetes: container nginx of pod shop/web-7d4f, id 0123456789abcdef0123456789abcdef\n"
	"  last denial: commit-limit pid 31337 (nginx: worker) asked 64Mi at 1000Mi of 1Gi\n"
	"  address spaces: 3 tracked, 1 without room: its untracked processes may commit nothing\n"
	"  shared memory objects: 2 counted, 4 refused without room\n"
	"  memory: peak 300Mi, reclaim 12 episodes 1.500s, oom kills 1 (memory.events oom_kill 2)\n"
	"  last oom kill: pid 31338 (evil\\e[2Jabcdefgh) 5s ago\n"
	"plain\\\"id\\n\\x7f          audit               0            -          5          0         14        0\n"
	"  memory: peak -, reclaim 0 episodes 0.000s, oom kills 0\n"
	"events dropped: 3\n"
	"program runs the kernel skipped: 11 (charges let through undecided; where the BPF LSM is active, never those of mmap, mprotect, brk, mremap or fork)\n"
	"layout 8 state at /sys/fs/bpf/memgate.old-8: 1 container under its policy, served until it stops\n";

static const char monitored_json[] =
	"{\n"
	"  \"schema\":2,\n"
	"  \"loaded\":true,\n"
	"  \"kept_loaded\":false,\n"
	"  \"events_dropped\":0,\n"
	"  \"mms_untracked\":0,\n"
	"  \"mms_pool_used\":0,\n"
	"  \"shm_pool_used\":0,\n"
	"  \"program_runs_skipped\":0,\n"
	"  \"enforcement\":false,\n"
	"  \"enforcement_error\":\"No such file or directory\",\n"
	"  \"containers\":[\n"
	"    {\n"
	"      \"id\":\"m1\",\n"
	"      \"kubernetes\":null,\n"
	"      \"cgroup_id\":5,\n"
	"      \"mode\":\"monitor\",\n"
	"      \"policy\":{\n"
	"        \"commit_limit_bytes\":0,\n"
	"        \"pressure_gate_bytes\":0,\n"
	"        \"fork_gate_bytes\":0\n"
	"      },\n"
	"      \"decisions\":{\n"
	"        \"commits_allowed\":0,\n"
	"        \"commits_denied\":0,\n"
	"        \"commits_audited\":0,\n"
	"        \"forks_allowed\":0,\n"
	"        \"forks_denied\":0,\n"
	"        \"forks_audited\":0,\n"
	"        \"committed_bytes\":0,\n"
	"        \"committed_peak_bytes\":0,\n"
	"        \"address_spaces\":0,\n"
	"        \"address_spaces_untracked\":0,\n"
	"        \"shared_objects\":0,\n"
	"        \"shared_objects_without_room\":0\n"
	"      },\n"
	"      \"last_denial\":null,\n"
	"      \"oom\":{\n"
	"        \"kills\":0,\n"
	"        \"memcg_oom_kills\":0,\n"
	"        \"last_victim\":null\n"
	"      },\n"
	"      \"reclaim\":{\n"
	"        \"episodes\":0,\n"
	"        \"time_ns\":0\n"
	"      },\n"
	"      \"memory\":{\n"
	"        \"peak_bytes\":null\n"
	"      }\n"
	"    }\n"
	"  ],\n"
	"  \"retired\":[\n"
	"  ]\n"
	"}\n";

static const char monitored_prometheus[] =
	"# HELP memgate_decisions_total Decisions taken by memgate's programs.\n"
	"# TYPE memgate_decisions_total counter\n"
	"memgate_decisions_total{container=\"m1\",op=\"commit\",decision=\"allowed\"} 0\n"
	"memgate_decisions_total{container=\"m1\",op=\"commit\",decision=\"denied\"} 0\n"
	"memgate_decisions_total{container=\"m1\",op=\"commit\",decision=\"audited\"} 0\n"
	"memgate_decisions_total{container=\"m1\",op=\"fork\",decision=\"allowed\"} 0\n"
	"memgate_decisions_total{container=\"m1\",op=\"fork\",decision=\"denied\"} 0\n"
	"memgate_decisions_total{container=\"m1\",op=\"fork\",decision=\"audited\"} 0\n"
	"# HELP memgate_committed_bytes Committed private memory of the container.\n"
	"# TYPE memgate_committed_bytes gauge\n"
	"memgate_committed_bytes{container=\"m1\"} 0\n"
	"# HELP memgate_commit_limit_bytes The container's commit limit (0: none).\n"
	"# TYPE memgate_commit_limit_bytes gauge\n"
	"memgate_commit_limit_bytes{container=\"m1\"} 0\n"
	"# HELP memgate_oom_kills_total Processes of the container the kernel's OOM killer killed.\n"
	"# TYPE memgate_oom_kills_total counter\n"
	"memgate_oom_kills_total{container=\"m1\"} 0\n"
	"# HELP memgate_reclaim_episodes_total memcg limit reclaim episodes in the container.\n"
	"# TYPE memgate_reclaim_episodes_total counter\n"
	"memgate_reclaim_episodes_total{container=\"m1\"} 0\n"
	"# HELP memgate_reclaim_seconds_total Time the container's tasks spent in memcg limit reclaim.\n"
	"# TYPE memgate_reclaim_seconds_total counter\n"
	"memgate_reclaim_seconds_total{container=\"m1\"} 0.000000000\n"
	"# HELP memgate_memory_peak_bytes The container cgroup's memory.peak.\n"
	"# TYPE memgate_memory_peak_bytes gauge\n"
	"# HELP memgate_events_dropped_total Events lost to a full ring buffer.\n"
	"# TYPE memgate_events_dropped_total counter\n"
	"memgate_events_dropped_total 0\n"
	"# HELP memgate_program_runs_skipped_total Runs of memgate's programs the kernel skipped.\n"
	"# TYPE memgate_program_runs_skipped_total counter\n"
	"memgate_program_runs_skipped_total 0\n";

static const char monitored_table[] =
	"CONTAINER                MODE        COMMITTED        LIMIT    ALLOWED     DENIED    AUDITED  FORK-DN\n"
	"m1                       monitor             0            -          0          0          0        0\n"
	"  memory: peak -, reclaim 0 episodes 0.000s, oom kills 0 (memory.events oom_kill 0)\n"
	"enforcement not loaded (No such file or directory): containers are monitored only\n";

static const char unloaded_json[] =
	"{\n"
	"  \"schema\":2,\n"
	"  \"loaded\":false,\n"
	"  \"kept_loaded\":false,\n"
	"  \"events_dropped\":0,\n"
	"  \"mms_untracked\":0,\n"
	"  \"mms_pool_used\":0,\n"
	"  \"shm_pool_used\":0,\n"
	"  \"program_runs_skipped\":0,\n"
	"  \"enforcement\":false,\n"
	"  \"enforcement_error\":null,\n"
	"  \"containers\":[\n"
	"  ],\n"
	"  \"retired\":[\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-1\",\n"
	"      \"layout\":1,\n"
	"      \"containers\":2\n"
	"    },\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-2\",\n"
	"      \"layout\":0,\n"
	"      \"containers\":0\n"
	"    },\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-3\",\n"
	"      \"layout\":3,\n"
	"      \"containers\":1\n"
	"    },\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-4\",\n"
	"      \"layout\":4,\n"
	"      \"containers\":3\n"
	"    },\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-5\",\n"
	"      \"layout\":5,\n"
	"      \"containers\":1\n"
	"    },\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-6\",\n"
	"      \"layout\":6,\n"
	"      \"containers\":1\n"
	"    },\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-7\",\n"
	"      \"layout\":7,\n"
	"      \"containers\":5\n"
	"    },\n"
	"    {\n"
	"      \"path\":\"/sys/fs/bpf/memgate.old-8\",\n"
	"      \"layout\":8,\n"
	"      \"containers\":1\n"
	"    }\n"
	"  ]\n"
	"}\n";

static const char unloaded_prometheus[] =
	"# HELP memgate_decisions_total Decisions taken by memgate's programs.\n"
	"# TYPE memgate_decisions_total counter\n"
	"# HELP memgate_committed_bytes Committed private memory of the container.\n"
	"# TYPE memgate_committed_bytes gauge\n"
	"# HELP memgate_commit_limit_bytes The container's commit limit (0: none).\n"
	"# TYPE memgate_commit_limit_bytes gauge\n"
	"# HELP memgate_oom_kills_total Processes of the container the kernel's OOM killer killed.\n"
	"# TYPE memgate_oom_kills_total counter\n"
	"# HELP memgate_reclaim_episodes_total memcg limit reclaim episodes in the container.\n"
	"# TYPE memgate_reclaim_episodes_total counter\n"
	"# HELP memgate_reclaim_seconds_total Time the container's tasks spent in memcg limit reclaim.\n"
	"# TYPE memgate_reclaim_seconds_total counter\n"
	"# HELP memgate_memory_peak_bytes The container cgroup's memory.peak.\n"
	"# TYPE memgate_memory_peak_bytes gauge\n"
	"# HELP memgate_events_dropped_total Events lost to a full ring buffer.\n"
	"# TYPE memgate_events_dropped_total counter\n"
	"memgate_events_dropped_total 0\n"
	"# HELP memgate_program_runs_skipped_total Runs of memgate's programs the kernel skipped.\n"
	"# TYPE memgate_program_runs_skipped_total counter\n"
	"memgate_program_runs_skipped_total 0\n";

static const char unloaded_table[] =
	"9 older layouts' trees are served; the first 8:\n"
	"layout 1 state at /sys/fs/bpf/memgate.old-1: 2 containers under its policy, served until they stop\n"
	"layout 0 state at /sys/fs/bpf/memgate.old-2: 0 containers under its policy, served until they stop\n"
	"layout 3 state at /sys/fs/bpf/memgate.old-3: 1 container under its policy, served until it stops\n"
	"layout 4 state at /sys/fs/bpf/memgate.old-4: 3 containers under its policy, served until they stop\n"
	"layout 5 state at /sys/fs/bpf/memgate.old-5: 1 container under its policy, served until it stops\n"
	"layout 6 state at /sys/fs/bpf/memgate.old-6: 1 container under its policy, served until it stops\n"
	"layout 7 state at /sys/fs/bpf/memgate.old-7: 5 containers under its policy, served until they stop\n"
	"layout 8 state at /sys/fs/bpf/memgate.old-8: 1 container under its policy, served until it stops\n";

static void test_json(void **state)
{
	expect("loaded --json", render_json, &loaded, loaded_json);
	expect("monitored --json", render_json, &monitored, monitored_json);
	expect("unloaded --json", render_json, &unloaded, unloaded_json);
}

static void test_prometheus(void **state)
{
	expect("loaded --prometheus", render_prometheus, &loaded, loaded_prometheus);
	expect("monitored --prometheus", render_prometheus, &monitored, monitored_prometheus);
	expect("unloaded --prometheus", render_prometheus, &unloaded, unloaded_prometheus);
}

static void test_table(void **state)
{
	struct mg_snapshot_entry e[2];
	struct mg_snapshot snap = loaded;
	struct timespec now;

	/* The last OOM kill 5 s ago: the table prints its age. */
	memcpy(e, entries, sizeof(e));
	clock_gettime(CLOCK_BOOTTIME, &now);
	e[0].stats.last_oom_kill.timestamp_ns = (uint64_t)now.tv_sec * 1000000000 + now.tv_nsec -
						UINT64_C(5000000000);
	snap.entries = e;
	expect("loaded table", render_table, &snap, loaded_table);
	expect("monitored table", render_table, &monitored, monitored_table);
	expect("unloaded table", render_table, &unloaded, unloaded_table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
