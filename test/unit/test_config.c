// SPDX-License-Identifier: GPL-2.0-only
/*
 * The admin configuration: defaults per knob, ceilings (percentages against
 * memory.max), a broken file, unknown keys, a missing file.
 */

#include <fcntl.h>
#include <unistd.h>

#include "unit.h"
#include "mg_config.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define PATH "/etc/memgate/memgate.json"

static void load(const char *text, struct mg_config *cfg)
{
	struct mg_error err = {0};

	if (mg_config_parse(text, strlen(text), PATH, cfg, &err) < 0)
		failf("%s: %s", text, err.msg);
	assert_true(cfg->present);
}

static void rejects(const char *text, const char *want)
{
	struct mg_config cfg;
	struct mg_error err = {0};

	if (mg_config_parse(text, strlen(text), PATH, &cfg, &err) == 0)
		failf("accepted %s", text);
	assert_msg_has(err, "admin configuration " PATH ": ");
	assert_msg_has(err, want);
	assert_null(strchr(err.msg, '\n'));
	assert_false(cfg.present);
}

/* The container's annotations as a spec, the admin defaults applied. */
static void spec_of(const struct mg_config *cfg, const char *json, struct mg_policy_spec *spec)
{
	json_object *obj = json_tokener_parse(json);
	struct mg_error err = {0};

	assert_non_null(obj);
	if (mg_policy_parse(obj, spec, &err) < 0)
		failf("%s: %s", json, err.msg);
	json_object_put(obj);
	mg_config_defaults(cfg, spec);
}

static int resolve(const struct mg_config *cfg, const char *json, uint64_t memory_max,
		   struct mg_policy_bytes *b, struct mg_error *err)
{
	struct mg_policy_spec spec;

	spec_of(cfg, json, &spec);
	return mg_config_resolve(cfg, &spec, memory_max, b, err);
}

static const char example[] =
	"{ \"defaults\": { \"memgate.io/commit-limit\": \"1Gi\", \"memgate.io/mode\": \"audit\" },"
	"  \"ceilings\": { \"memgate.io/commit-limit\": \"4Gi\","
	"                  \"memgate.io/pressure-gate\": \"90%\" } }";

static void test_defaults_fill_unset_container(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load(example, &cfg);
	assert_int_equal(resolve(&cfg, "{}", 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, GiB);
	assert_int_equal(b.mode, MG_MODE_AUDIT);
}

static void test_defaults_are_per_knob(void **state)
{
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load(example, &cfg);
	/* The container sets commit-limit: its own value, and the default mode still applies. */
	spec_of(&cfg, "{\"memgate.io/commit-limit\": \"2Gi\"}", &spec);
	assert_int_equal(spec.defaulted, MG_KNOB_BIT(MG_KNOB_MODE));
	assert_int_equal(mg_config_resolve(&cfg, &spec, 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, 2 * GiB);
	assert_int_equal(b.mode, MG_MODE_AUDIT);

	/* Setting mode does not stop the commit-limit default. */
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"enforce\"}", 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, GiB);
	assert_int_equal(b.mode, MG_MODE_ENFORCE);
}

static void test_defaults_override_for_this_container(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load(example, &cfg);
	/* An override for another container leaves this one to the default... */
	assert_int_equal(resolve(&cfg,
				 "{\"io.kubernetes.container.name\": \"web\","
				 " \"memgate.io/commit-limit.db\": \"3Gi\"}",
				 0, &b, &err),
			 0);
	assert_int_equal(b.commit_limit, GiB);
	/* ...and one for this container wins over it. */
	assert_int_equal(resolve(&cfg,
				 "{\"io.kubernetes.container.name\": \"db\","
				 " \"memgate.io/commit-limit.db\": \"3Gi\"}",
				 0, &b, &err),
			 0);
	assert_int_equal(b.commit_limit, 3 * GiB);
}

static void test_defaults_skip_sandbox(void **state)
{
	struct mg_policy_spec spec;
	struct mg_config cfg;

	load(example, &cfg);
	spec_of(&cfg, "{\"io.kubernetes.cri-o.ContainerType\": \"sandbox\"}", &spec);
	assert_false(spec.present);
	assert_int_equal(spec.set, 0);
}

static void test_default_that_can_not_apply_is_dropped(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load("{\"defaults\": {\"memgate.io/pressure-gate\": \"80%\", "
	     "\"memgate.io/fork-gate\": \"2Gi\"}}",
	     &cfg);
	/* No memory.max: the percentage can not resolve; not an error. */
	assert_int_equal(resolve(&cfg, "{}", 0, &b, &err), 0);
	assert_int_equal(b.pressure_gate, 0);
	assert_int_equal(b.fork_gate, 2 * GiB);
	/* memory.max 1Gi: 80% applies, a 2Gi gate would never close and is left out. */
	assert_int_equal(resolve(&cfg, "{}", GiB, &b, &err), 0);
	assert_int_equal(b.pressure_gate, GiB / 100 * 80 + GiB % 100 * 80 / 100);
	assert_int_equal(b.fork_gate, 0);
}

static void test_ceiling_refuses_annotation_above(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load(example, &cfg);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/commit-limit\": \"4Gi\"}", 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, 4 * GiB);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/commit-limit\": \"5Gi\"}", 0, &b, &err),
			 -ERANGE);
	assert_msg_has(err, "annotation memgate.io/commit-limit=\"5Gi\" is above the ceiling "
			    "memgate.io/commit-limit=\"4Gi\" in the admin configuration " PATH);
	assert_null(strchr(err.msg, '\n'));
}

static void test_ceiling_percentage_against_memory_max(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load(example, &cfg);
	/* 900Mi is under 90% of 1Gi (921.6Mi); 950Mi is above it. */
	assert_int_equal(resolve(&cfg, "{\"memgate.io/pressure-gate\": \"900Mi\"}", GiB, &b, &err),
			 0);
	assert_int_equal(b.pressure_gate, 900 * MiB);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/pressure-gate\": \"950Mi\"}", GiB, &b, &err),
			 -ERANGE);
	assert_msg_has(err, "memgate.io/pressure-gate=\"950Mi\" (950Mi) is above the ceiling "
			    "memgate.io/pressure-gate=\"90%\"");
	assert_msg_has(err, "of memory.max 1Gi) in the admin configuration " PATH);
	/* A percentage annotation compares once resolved too. */
	assert_int_equal(resolve(&cfg, "{\"memgate.io/pressure-gate\": \"91%\"}", GiB, &b, &err),
			 -ERANGE);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/pressure-gate\": \"90%\"}", GiB, &b, &err),
			 0);
	/* Without memory.max a percentage ceiling bounds nothing. */
	assert_int_equal(resolve(&cfg, "{\"memgate.io/pressure-gate\": \"64Gi\"}", 0, &b, &err), 0);
	assert_int_equal(b.pressure_gate, 64 * GiB);
}

static void test_missing_file_is_no_configuration(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	assert_int_equal(mg_config_load("/nonexistent/memgate.json", &cfg, &err), 0);
	assert_false(cfg.present);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/commit-limit\": \"64Gi\"}", 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, 64 * GiB);
	assert_int_equal(resolve(&cfg, "{}", 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, 0);
}

static void test_load_from_file(void **state)
{
	char path[] = "/tmp/memgate-config-XXXXXX";
	struct mg_error err = {0};
	struct mg_config cfg;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, strlen(example)), (ssize_t)strlen(example));
	close(fd);
	assert_int_equal(mg_config_load(path, &cfg, &err), 0);
	assert_true(cfg.present);
	assert_string_equal(mg_policy_size(&cfg.ceilings, MG_KNOB_PRESSURE_GATE)->text, "90%");

	/* A broken file names itself and the fault. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"defaults\": ", 13), 13);
	close(fd);
	assert_true(mg_config_load(path, &cfg, &err) < 0);
	assert_msg_has(err, "admin configuration ");
	assert_msg_has(err, path);
	assert_msg_has(err, "invalid JSON");
	assert_false(cfg.present);
	unlink(path);
}

static void test_env_overrides_path(void **state)
{
	setenv(MG_CONFIG_ENV, "/tmp/other.json", 1);
	assert_string_equal(mg_config_path(), "/tmp/other.json");
	setenv(MG_CONFIG_ENV, "", 1);
	assert_string_equal(mg_config_path(), MG_CONFIG_PATH);
	unsetenv(MG_CONFIG_ENV);
	assert_string_equal(mg_config_path(), "/etc/memgate/memgate.json");
}

static void test_broken_files(void **state)
{
	rejects("", "invalid JSON");
	rejects("{\"defaults\": ", "invalid JSON");
	rejects("[]", "");
	rejects("{\"default\": {}}",
		"unknown key \"default\" (expected \"defaults\", \"ceilings\", \"modes\" or \"lock-timeout\")");
	rejects("{\"lock-timeout\": \"10s\"}", "\"lock-timeout\": expected a number of seconds");
	rejects("{\"lock-timeout\": 0}", "\"lock-timeout\": expected 0.001 to 3600 seconds, got 0");
	rejects("{\"lock-timeout\": -1}", "expected 0.001 to 3600 seconds, got -1");
	rejects("{\"lock-timeout\": 1e9}", "expected 0.001 to 3600 seconds");
	rejects("{\"defaults\": [] }", "\"defaults\": expected an object");
	rejects("{\"defaults\": {\"commit-limit\": \"1Gi\"}}",
		"\"defaults\": unknown key \"commit-limit\"");
	rejects("{\"defaults\": {\"memgate.io/commit-limit.web\": \"1Gi\"}}",
		"unknown key \"memgate.io/commit-limit.web\"");
	rejects("{\"defaults\": {\"memgate.io/commit-limt\": \"1Gi\"}}",
		"unknown knob \"commit-limt\"");
	rejects("{\"defaults\": {\"memgate.io/commit-limit\": 1073741824}}",
		"expected a JSON string");
	rejects("{\"defaults\": {\"memgate.io/commit-limit\": \"512m\"}}",
		"\"defaults\": memgate.io/commit-limit=\"512m\": \"512m\" is 0.512 bytes");
	rejects("{\"defaults\": {\"memgate.io/commit-limit\": \"80%\"}}",
		"a percentage is not accepted here");
	rejects("{\"defaults\": {\"memgate.io/mode\": \"loud\"}}",
		"expected \"enforce\", \"audit\" or \"monitor\"");
	rejects("{\"ceilings\": {\"memgate.io/mode\": \"audit\"}}",
		"memgate.io/mode has no ceiling");
	rejects("{\"defaults\": {\"memgate.io/commit-limit\": \"8Gi\"},"
		" \"ceilings\": {\"memgate.io/commit-limit\": \"4Gi\"}}",
		"default memgate.io/commit-limit=\"8Gi\" is above its ceiling \"4Gi\"");
	rejects("{\"modes\": \"audit\"}", "\"modes\": expected a list of modes");
	rejects("{\"modes\": []}", "\"modes\": expected a list of modes");
	rejects("{\"modes\": [\"enforce\", \"loud\"]}",
		"\"modes\": \"loud\": expected \"enforce\", \"audit\" or \"monitor\"");
	rejects("{\"modes\": [1]}", "\"modes\": 1: expected \"enforce\"");
}

/* The admin's example of issue 17: a default of 64Mi under a ceiling of 256Mi. */
static const char bounded[] = "{ \"defaults\": { \"memgate.io/commit-limit\": \"64Mi\" },"
			      "  \"ceilings\": { \"memgate.io/commit-limit\": \"256Mi\" } }";

static void test_own_mode_can_not_drop_a_default(void **state)
{
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;
	char note[MG_ERROR_LEN];

	load(bounded, &cfg);
	for (int i = 0; i < 2; i++) {
		spec_of(&cfg, i ? "{\"memgate.io/mode\": \"audit\"}" : "{\"memgate.io/mode\": \"monitor\"}",
			&spec);
		assert_int_equal(mg_config_resolve(&cfg, &spec, 0, &b, &err), 0);
		assert_int_equal(b.mode, MG_MODE_ENFORCE);
		assert_int_equal(b.commit_limit, 64 * MiB);
		assert_int_equal(b.mode_held, MG_KNOB_BIT(MG_KNOB_COMMIT_LIMIT));
		mg_config_mode_note(&cfg, &spec, &b, note, sizeof(note));
		if (strcmp(note, i ? "annotation memgate.io/mode=\"audit\" does not apply: the admin "
				     "configuration " PATH " bounds commit-limit (default 64Mi, "
				     "ceiling 256Mi), so the container is enforced"
				   : "annotation memgate.io/mode=\"monitor\" does not apply: the admin "
				     "configuration " PATH " bounds commit-limit (default 64Mi, "
				     "ceiling 256Mi), so the container is enforced"))
			failf("note: %s", note);
	}
}

static void test_own_mode_can_not_lift_a_ceiling(void **state)
{
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;
	char note[MG_ERROR_LEN];

	load(bounded, &cfg);
	/* Under the ceiling: the container's own limit, enforced. */
	spec_of(&cfg, "{\"memgate.io/mode\": \"audit\", \"memgate.io/commit-limit\": \"128Mi\"}",
		&spec);
	assert_int_equal(mg_config_resolve(&cfg, &spec, 0, &b, &err), 0);
	assert_int_equal(b.mode, MG_MODE_ENFORCE);
	assert_int_equal(b.commit_limit, 128 * MiB);
	mg_config_mode_note(&cfg, &spec, &b, note, sizeof(note));
	assert_non_null(strstr(note, "bounds commit-limit (ceiling 256Mi), so the container is enforced"));
	/* Above it: refused in every mode, as in enforce. */
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"monitor\", \"memgate.io/commit-limit\": \"400Mi\"}",
				 0, &b, &err),
			 -ERANGE);
	assert_msg_has(err, "is above the ceiling memgate.io/commit-limit=\"256Mi\"");
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"audit\", \"memgate.io/commit-limit\": \"400Mi\"}",
				 0, &b, &err),
			 -ERANGE);
}

static void test_own_mode_applies_where_nothing_is_bound(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	/* A ceiling on a knob the container does not have bounds nothing. */
	load("{\"ceilings\": {\"memgate.io/pressure-gate\": \"90%\"}}", &cfg);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"audit\", \"memgate.io/commit-limit\": \"1Gi\"}",
				 0, &b, &err),
			 0);
	assert_int_equal(b.mode, MG_MODE_AUDIT);
	assert_int_equal(b.commit_limit, GiB);
	assert_int_equal(b.mode_held, 0);
	/* Monitor mode applies no knob, and the resolved policy says so. */
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"monitor\", \"memgate.io/commit-limit\": \"1Gi\"}",
				 0, &b, &err),
			 0);
	assert_int_equal(b.mode, MG_MODE_MONITOR);
	assert_int_equal(b.commit_limit, 0);
	assert_int_equal(b.mode_held, 0);
	/* A default the container overrides with its own value, no ceiling: not bound. */
	load("{\"defaults\": {\"memgate.io/commit-limit\": \"64Mi\"}}", &cfg);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"audit\", \"memgate.io/commit-limit\": \"1Gi\"}",
				 0, &b, &err),
			 0);
	assert_int_equal(b.mode, MG_MODE_AUDIT);
	/* The admin's own default mode is the admin's choice: it applies. */
	load("{\"defaults\": {\"memgate.io/commit-limit\": \"64Mi\", \"memgate.io/mode\": \"monitor\"},"
	     " \"ceilings\": {\"memgate.io/commit-limit\": \"256Mi\"}, \"modes\": [\"enforce\"]}",
	     &cfg);
	assert_int_equal(resolve(&cfg, "{}", 0, &b, &err), 0);
	assert_int_equal(b.mode, MG_MODE_MONITOR);
	assert_int_equal(b.commit_limit, 0);
	assert_int_equal(b.mode_held, 0);
}

static void test_modes_a_container_may_choose(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load("{\"modes\": [\"audit\"]}", &cfg);
	assert_int_equal(cfg.modes, MG_MODE_BIT(MG_MODE_ENFORCE) | MG_MODE_BIT(MG_MODE_AUDIT));
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"audit\", \"memgate.io/commit-limit\": \"1Gi\"}",
				 0, &b, &err),
			 0);
	assert_int_equal(b.mode, MG_MODE_AUDIT);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"enforce\"}", 0, &b, &err), 0);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"monitor\"}", 0, &b, &err), -EPERM);
	assert_string_equal(err.msg, "annotation memgate.io/mode=\"monitor\" is not allowed by the "
				     "admin configuration " PATH " (modes a container may choose: "
				     "enforce, audit)");
	/* Without "modes", any. */
	load("{}", &cfg);
	assert_int_equal(resolve(&cfg, "{\"memgate.io/mode\": \"monitor\"}", 0, &b, &err), 0);
	assert_int_equal(b.mode, MG_MODE_MONITOR);
}

/* Pod-wide annotations on a container of a pod (containerd's container name). */
#define POD_SIDECAR "\"io.kubernetes.cri.container-name\": \"sidecar\", "

static void test_podwide_percentage_without_limit_is_left_out(void **state)
{
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;
	struct mg_error err = {0}, why;
	struct mg_config cfg = {0};

	/* The sidecar has no memory limit: the gate is left out, the commit limit holds. */
	spec_of(&cfg, "{" POD_SIDECAR "\"memgate.io/pressure-gate\": \"80%\","
		      " \"memgate.io/fork-gate\": \"90%\", \"memgate.io/commit-limit\": \"64Mi\"}",
		&spec);
	assert_int_equal(mg_config_resolve(&cfg, &spec, 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, 64 * MiB);
	assert_int_equal(b.pressure_gate, 0);
	assert_int_equal(b.fork_gate, 0);
	assert_int_equal(b.left_out,
			 MG_KNOB_BIT(MG_KNOB_PRESSURE_GATE) | MG_KNOB_BIT(MG_KNOB_FORK_GATE));
	mg_config_why_left_out(&spec, MG_KNOB_PRESSURE_GATE, 0, "sidecar", &why);
	assert_string_equal(why.msg, "annotation memgate.io/pressure-gate=\"80%\": a percentage "
				     "needs a container memory limit (memory.max is \"max\"); it is "
				     "pod-wide, so container sidecar starts without it");

	/* A container of the same pod with a limit gets it. */
	assert_int_equal(mg_config_resolve(&cfg, &spec, GiB, &b, &err), 0);
	assert_int_equal(b.pressure_gate, GiB / 10 * 8 + GiB % 10 * 8 / 10);
	assert_int_equal(b.left_out, 0);

	/* A pod-wide gate above this container's limit can not apply either. */
	assert_int_equal(resolve(&cfg, "{" POD_SIDECAR "\"memgate.io/pressure-gate\": \"1Gi\"}",
				 256 * MiB, &b, &err),
			 0);
	assert_int_equal(b.pressure_gate, 0);
	assert_int_equal(b.left_out, MG_KNOB_BIT(MG_KNOB_PRESSURE_GATE));
}

static void test_podwide_tenant_name_escaped(void **state)
{
	struct mg_policy_spec spec;
	struct mg_error why;
	struct mg_config cfg = {0};

	spec_of(&cfg, "{" POD_SIDECAR "\"memgate.io/pressure-gate\": \"80%\"}", &spec);
	mg_config_why_left_out(&spec, MG_KNOB_PRESSURE_GATE, 0, "evil\n\x1b[2J", &why);
	assert_msg_has(why, "so container evil\\n\\e[2J starts without it");
}

static void test_own_percentage_without_limit_still_fails(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg = {0};

	/* The container's own override: its author asked for it, so it is an error. */
	assert_true(resolve(&cfg, "{" POD_SIDECAR "\"memgate.io/pressure-gate.sidecar\": \"80%\"}",
			    0, &b, &err) < 0);
	assert_msg_has(err, "annotation memgate.io/pressure-gate.sidecar=\"80%\": a percentage needs");
	/* Not Kubernetes: the annotation is the container's own. */
	err = (struct mg_error){0};
	assert_true(resolve(&cfg, "{\"memgate.io/pressure-gate\": \"80%\"}", 0, &b, &err) < 0);
	assert_msg_has(err, "annotation memgate.io/pressure-gate=\"80%\": a percentage needs");
}

static void test_podwide_above_ceiling_still_fails(void **state)
{
	struct mg_policy_bytes b;
	struct mg_error err = {0};
	struct mg_config cfg;

	load(example, &cfg);
	assert_true(resolve(&cfg, "{" POD_SIDECAR "\"memgate.io/commit-limit\": \"8Gi\"}", 0, &b,
			    &err) < 0);
	assert_msg_has(err, "is above the ceiling memgate.io/commit-limit=\"4Gi\"");
}

static void test_empty_object_is_valid(void **state)
{
	struct mg_config cfg;

	load("{}", &cfg);
	assert_int_equal(cfg.defaults.set | cfg.ceilings.set, 0);
	assert_int_equal(cfg.lock_timeout_ms, 10000);
}

static void test_lock_timeout(void **state)
{
	struct mg_error err = {0};
	struct mg_config cfg;

	load("{\"lock-timeout\": 2}", &cfg);
	assert_int_equal(cfg.lock_timeout_ms, 2000);
	load("{\"lock-timeout\": 0.25}", &cfg);
	assert_int_equal(cfg.lock_timeout_ms, 250);
	assert_int_equal(mg_config_load("/nonexistent/memgate.json", &cfg, &err), 0);
	assert_int_equal(cfg.lock_timeout_ms, 10000);
	setenv(MG_CONFIG_ENV, "/nonexistent/memgate.json", 1);
	assert_int_equal(mg_config_lock_timeout(), 10000);
	unsetenv(MG_CONFIG_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_fill_unset_container),
		cmocka_unit_test(test_defaults_are_per_knob),
		cmocka_unit_test(test_defaults_override_for_this_container),
		cmocka_unit_test(test_defaults_skip_sandbox),
		cmocka_unit_test(test_default_that_can_not_apply_is_dropped),
		cmocka_unit_test(test_ceiling_refuses_annotation_above),
		cmocka_unit_test(test_ceiling_percentage_against_memory_max),
		cmocka_unit_test(test_missing_file_is_no_configuration),
		cmocka_unit_test(test_load_from_file),
		cmocka_unit_test(test_env_overrides_path),
		cmocka_unit_test(test_broken_files),
		cmocka_unit_test(test_empty_object_is_valid),
		cmocka_unit_test(test_lock_timeout),
		cmocka_unit_test(test_podwide_percentage_without_limit_is_left_out),
		cmocka_unit_test(test_podwide_tenant_name_escaped),
		cmocka_unit_test(test_own_percentage_without_limit_still_fails),
		cmocka_unit_test(test_podwide_above_ceiling_still_fails),
		cmocka_unit_test(test_own_mode_can_not_drop_a_default),
		cmocka_unit_test(test_own_mode_can_not_lift_a_ceiling),
		cmocka_unit_test(test_own_mode_applies_where_nothing_is_bound),
		cmocka_unit_test(test_modes_a_container_may_choose),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
