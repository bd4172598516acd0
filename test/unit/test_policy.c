// SPDX-License-Identifier: GPL-2.0-only
/*
 * Quantities, sizes and annotation policy.  Table cases become one cmocka test
 * each, named after the input, so a TAP line points at the failing string.
 */

#include "unit.h"
#include "mg_policy.h"
#define GiB (UINT64_C(1) << 30)

/* err.msg must contain want; printed on failure so the message can be read. */

/* ---- mg_parse_quantity: accepted forms ---- */

struct qty_ok {
	const char *text;
	uint64_t bytes;
};

static const struct qty_ok qty_ok[] = {
	{"0", 0},
	{"1", 1},
	{"4096", 4096},
	{"007Mi", 7 * 1024 * 1024},
	{"1Ki", 1024},
	{"512Mi", 536870912},
	{"2Gi", 2147483648},
	{"1Ti", 1099511627776},
	{"1Pi", 1125899906842624},
	{"1Ei", 1152921504606846976},
	{"15Ei", UINT64_C(17293822569102704640)},
	{"1k", 1000},
	{"1500M", 1500000000},
	{"1G", 1000000000},
	{"3T", 3000000000000},
	{"1P", 1000000000000000},
	{"1E", 1000000000000000000},
	{"18E", UINT64_C(18000000000000000000)},
	{"1.5Gi", 1610612736},
	{"0.5Ki", 512},
	{".5Ki", 512},
	{"1.Ki", 1024},
	{"1.000Gi", GiB},
	{"1.25Ei", UINT64_C(1441151880758558720)},
	{"2.5k", 2500},
	{"0.001G", 1000000},
	{"1e9", 1000000000},
	{"1E9", 1000000000},
	{"1e0", 1},
	{"1e+3", 1000},
	{"5000e-3", 5},
	{"18446744073709551615", UINT64_MAX},
	{"0.00Mi", 0},
};

static void test_qty_ok(void **state)
{
	const struct qty_ok *c = *state;
	struct mg_error err = {0};
	uint64_t bytes = 12345;

	if (mg_parse_quantity(c->text, &bytes, &err))
		failf("\"%s\" rejected: %s", c->text, err.msg);
	assert_int_equal(bytes, c->bytes);
}

/* ---- mg_parse_quantity: rejections, each with a piece of its message ---- */

struct qty_bad {
	const char *text;
	const char *msg;
};

static const struct qty_bad qty_bad[] = {
	{"", "not an empty string"},
	{" 5Mi", "no surrounding spaces"},
	{"5Mi ", "no surrounding spaces"},
	{"-5Mi", "(no sign)"},
	{"+5Mi", "(no sign)"},
	{"10MB", "unknown unit \"MB\"; did you mean \"10Mi\" (binary) or \"10M\" (decimal)?"},
	{"10mi", "did you mean \"10Mi\""},
	{"10KiB", "did you mean \"10Ki\""},
	{"10K", "did you mean \"10Ki\" (binary) or \"10k\" (decimal)?"},
	{"10xyz", "unknown unit \"xyz\" (expected one of Ki Mi Gi"},
	{"5 Mi", "unknown unit \" Mi\""},
	{"1.2.3", "unknown unit \".3\""},
	{"0x10", "unknown unit \"x10\""},
	{"512m",
	 "\"512m\" is 0.512 bytes in Kubernetes notation (m is milli); did you mean \"512Mi\"?"},
	{"1500m", "is 1.5 bytes"},
	{".5m", "is 0.0005 bytes"},
	{"0.5", "expected a whole number of bytes, not a fraction"},
	{"1.5", "expected a whole number of bytes, not a fraction"},
	{"1e-3", "expected a whole number of bytes, not a fraction"},
	{"0.3Ki", "expected a whole number of bytes, not a fraction"},
	{"18446744073709551616", "too large: expected at most 18446744073709551615 bytes"},
	{"16Ei", "too large"},
	{"99999999999999999999Ki", "too large"},
	{"20E", "too large"},
	{"1e20", "too large"},
	{"1e1000", "exponent"},
	{"1.2345678901234567890123Gi", "too many significant digits"},
	{"00000000000000000000000000000000000000000000000000000000000000001", "too many digits"},
	{"Mi", "expected a size such as 512Mi or 2Gi"},
	{".", "expected a size such as 512Mi or 2Gi"},
};

static void test_qty_bad(void **state)
{
	const struct qty_bad *c = *state;
	struct mg_error err = {0};
	uint64_t bytes = 12345;
	int ret;

	ret = mg_parse_quantity(c->text, &bytes, &err);
	if (ret == 0)
		failf("\"%s\" accepted as %llu", c->text, (unsigned long long)bytes);
	assert_true(ret < 0);
	assert_int_equal(-ret, err.code);
	assert_msg_has(err, c->msg);
	assert_null(strchr(err.msg, '\n'));
}

/* Control characters never reach a message: each stays one printable line (a fuzz find). */
static void test_qty_control_chars(void **state)
{
	static const char *const texts[] = {"1e\x14", "5\n12m", "1G\x7f", "1\tGi", "e!\xc7\x7f"};
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	json_object *ann;
	uint64_t bytes;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(mg_parse_quantity(texts[i], &bytes, &err), -EINVAL);
		assert_msg_has(err, "(no control characters)");
		for (const char *p = err.msg; *p; p++)
			assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
	}
	ann = json_tokener_parse("{\"memgate.io/pressure-gate\":\"1e\\u0014\"}");
	assert_non_null(ann);
	assert_int_equal(mg_policy_parse(ann, &spec, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "annotation memgate.io/pressure-gate=\"1e\\x14\": expected a "
			    "size such as 512Mi or 2Gi (no control characters)");
	json_object_put(ann);
}

/* ---- mg_parse_size ---- */

static void test_size_bytes(void **state)
{
	struct mg_error err = {0};
	struct mg_size s;

	assert_int_equal(mg_parse_size("4096", true, &s, &err), 0);
	assert_int_equal(s.kind, MG_SIZE_BYTES);
	assert_int_equal(s.bytes, 4096);
	assert_string_equal(s.text, "4096");
	assert_int_equal(mg_parse_size("1.5Gi", false, &s, &err), 0);
	assert_int_equal(s.bytes, 1610612736);
}

static void test_size_below_page(void **state)
{
	struct mg_error err = {0};
	struct mg_size s;

	assert_true(mg_parse_size("4095", true, &s, &err) < 0);
	assert_msg_has(err, "at least 4096 bytes (one page), got 4095 bytes");
	assert_true(mg_parse_size("0", true, &s, &err) < 0);
	assert_msg_has(err, "got 0 bytes");
	assert_true(mg_parse_size("4k", true, &s, &err) < 0);
	assert_msg_has(err, "got 4000 bytes");
}

static void test_size_percent(void **state)
{
	struct mg_error err = {0};
	struct mg_size s;

	assert_int_equal(mg_parse_size("80%", true, &s, &err), 0);
	assert_int_equal(s.kind, MG_SIZE_PERCENT);
	assert_int_equal(s.percent, 80);
	assert_string_equal(s.text, "80%");
	assert_int_equal(mg_parse_size("1%", true, &s, &err), 0);
	assert_int_equal(s.percent, 1);
	assert_int_equal(mg_parse_size("100%", true, &s, &err), 0);
	assert_int_equal(s.percent, 100);
}

static const struct qty_bad pct_bad[] = {
	{"0%", "from 1% to 100%"},
	{"101%", "from 1% to 100%"},
	{"1000000000000%", "from 1% to 100%"},
	{"12.5%", "whole percentage"},
	{"%", "with a number"},
	{"-5%", "no sign"},
	{"80 %", "whole percentage"},
};

static void test_pct_bad(void **state)
{
	const struct qty_bad *c = *state;
	struct mg_error err = {0};
	struct mg_size s;

	assert_true(mg_parse_size(c->text, true, &s, &err) < 0);
	assert_msg_has(err, c->msg);
	assert_int_equal(s.kind, MG_SIZE_UNSET);
}

static void test_size_percent_not_allowed(void **state)
{
	struct mg_error err = {0};
	struct mg_size s;

	assert_true(mg_parse_size("80%", false, &s, &err) < 0);
	assert_msg_has(err, "a percentage is not accepted here");
}

/* ---- mg_policy_parse ---- */

static json_object *ann(const char *json)
{
	json_object *obj = json_tokener_parse(json);

	assert_non_null(obj);
	return obj;
}

/* Parse annotations given as JSON; returns the mg_policy_parse() result. */
static int parse(const char *json, struct mg_policy_spec *spec, struct mg_error *err)
{
	json_object *obj = ann(json);
	int ret = mg_policy_parse(obj, spec, err);

	json_object_put(obj);
	return ret;
}

static void test_policy_null(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	memset(&spec, 0xff, sizeof(spec));
	assert_int_equal(mg_policy_parse(NULL, &spec, &err), 0);
	assert_false(spec.present);
	assert_int_equal(spec.mode, MG_MODE_ENFORCE);
	assert_int_equal(spec.commit_limit.kind, MG_SIZE_UNSET);
}

static void test_policy_unrelated(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	assert_int_equal(parse("{\"org.opencontainers.image.title\": \"x\", \"memgate.iox\": \"1\","
			       " \"example.com/memgate.io/mode\": \"bogus\"}",
			       &spec, &err),
			 0);
	assert_false(spec.present);
}

static void test_policy_all_knobs(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	assert_int_equal(parse("{\"memgate.io/commit-limit\": \"2Gi\","
			       " \"memgate.io/pressure-gate\": \"80%\","
			       " \"memgate.io/fork-gate\": \"1500M\","
			       " \"memgate.io/mode\": \"audit\","
			       " \"memgate.io/on-unsupported\": \"warn\"}",
			       &spec, &err),
			 0);
	assert_true(spec.present);
	assert_int_equal(spec.commit_limit.kind, MG_SIZE_BYTES);
	assert_int_equal(spec.commit_limit.bytes, 2 * GiB);
	assert_string_equal(spec.commit_limit.key, "memgate.io/commit-limit");
	assert_int_equal(spec.pressure_gate.kind, MG_SIZE_PERCENT);
	assert_int_equal(spec.pressure_gate.percent, 80);
	assert_int_equal(spec.fork_gate.kind, MG_SIZE_BYTES);
	assert_int_equal(spec.fork_gate.bytes, 1500000000);
	assert_int_equal(spec.mode, MG_MODE_AUDIT);
	assert_true(spec.warn_unsupported);
}

static void test_policy_defaults(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	assert_int_equal(parse("{\"memgate.io/commit-limit\": \"1Gi\"}", &spec, &err), 0);
	assert_true(spec.present);
	assert_int_equal(spec.mode, MG_MODE_ENFORCE);
	assert_false(spec.warn_unsupported);
	assert_int_equal(spec.pressure_gate.kind, MG_SIZE_UNSET);
	assert_int_equal(spec.fork_gate.kind, MG_SIZE_UNSET);

	/* Only a mode is still a policy for this container. */
	assert_int_equal(parse("{\"memgate.io/mode\": \"enforce\", \"memgate.io/on-unsupported\":"
			       " \"fail\"}",
			       &spec, &err),
			 0);
	assert_true(spec.present);
	assert_int_equal(spec.mode, MG_MODE_ENFORCE);
	assert_false(spec.warn_unsupported);
}

static void test_policy_negative_exact(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	int ret;

	ret = parse("{\"memgate.io/commit-limit\": \"-5Mi\"}", &spec, &err);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(err.msg, "annotation memgate.io/commit-limit=\"-5Mi\": expected a size "
				     "such as 512Mi or 2Gi (no sign)");
	assert_false(spec.present);
}

struct policy_bad {
	const char *json;
	const char *msg[3];
};

static const struct policy_bad policy_bad[] = {
	{"{\"memgate.io/commit-limit\": \"80%\"}",
	 {"annotation memgate.io/commit-limit=\"80%\": ", "percentage is not accepted"}},
	{"{\"memgate.io/commit-limit\": \"512m\"}",
	 {"annotation memgate.io/commit-limit=\"512m\": ", "did you mean \"512Mi\"?"}},
	{"{\"memgate.io/commit-limit\": \"10MB\"}",
	 {"annotation memgate.io/commit-limit=\"10MB\": ", "unknown unit \"MB\""}},
	{"{\"memgate.io/commit-limit\": \"16Ei\"}",
	 {"annotation memgate.io/commit-limit=\"16Ei\": ", "too large"}},
	{"{\"memgate.io/commit-limit\": \"\"}",
	 {"annotation memgate.io/commit-limit=\"\": ", "not an empty string"}},
	{"{\"memgate.io/commit-limit\": \"100\"}",
	 {"annotation memgate.io/commit-limit=\"100\": ", "one page"}},
	{"{\"memgate.io/pressure-gate\": \"101%\"}",
	 {"annotation memgate.io/pressure-gate=\"101%\": ", "from 1% to 100%"}},
	{"{\"memgate.io/fork-gate\": \"12.5%\"}",
	 {"annotation memgate.io/fork-gate=\"12.5%\": ", "whole percentage"}},
	{"{\"memgate.io/mode\": \"Audit\"}",
	 {"annotation memgate.io/mode=\"Audit\": ", "expected \"enforce\", \"audit\" or \"monitor\""}},
	{"{\"memgate.io/on-unsupported\": \"ignore\"}",
	 {"annotation memgate.io/on-unsupported=\"ignore\": ", "expected \"fail\" or \"warn\""}},
	{"{\"memgate.io/commit_limit\": \"1Gi\"}",
	 {"annotation memgate.io/commit_limit=\"1Gi\": ", "unknown knob \"commit_limit\"",
	  "(known: commit-limit, pressure-gate, fork-gate, mode, on-unsupported)"}},
	{"{\"memgate.io/\": \"1Gi\"}", {"annotation memgate.io/=\"1Gi\": ", "unknown knob \"\""}},
	{"{\"memgate.io/commit-limit\": 1073741824}",
	 {"annotation memgate.io/commit-limit=1073741824: ", "expected a JSON string"}},
	{"{\"memgate.io/mode\": null}", {"annotation memgate.io/mode=null: ", "JSON string"}},
	{"{\"memgate.io/mode.\": \"audit\"}",
	 {"annotation memgate.io/mode.=\"audit\": ", "expected a container name"}},
	{"{\"memgate.io/mode\": \"a\\\"b\\nc\"}", {"annotation memgate.io/mode=\"a\\\"b\\nc\": "}},
	/* Overrides for other containers are validated, knob and value. */
	{"{\"io.kubernetes.container.name\": \"app\", \"memgate.io/commit-limit.sidecar\": "
	 "\"lots\"}",
	 {"annotation memgate.io/commit-limit.sidecar=\"lots\": ", "a number, then"}},
	{"{\"io.kubernetes.container.name\": \"app\", \"memgate.io/commit-limit.sidecar\": \"9X\"}",
	 {"annotation memgate.io/commit-limit.sidecar=\"9X\": ", "unknown unit \"X\""}},
	{"{\"io.kubernetes.container.name\": \"app\", \"memgate.io/limit.app\": \"1Gi\"}",
	 {"annotation memgate.io/limit.app=\"1Gi\": ", "unknown knob \"limit\""}},
	{"{\"memgate.io/fork-gate.app\": \"-1%\"}",
	 {"annotation memgate.io/fork-gate.app=\"-1%\": ", "no sign"}},
};

static void test_policy_bad(void **state)
{
	const struct policy_bad *c = *state;
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	int ret, i;

	ret = parse(c->json, &spec, &err);
	if (ret == 0)
		failf("%s accepted", c->json);
	assert_true(ret < 0);
	/* The annotation comes first, so the message names its input. */
	assert_ptr_equal(strstr(err.msg, c->msg[0]), err.msg);
	for (i = 1; i < 3 && c->msg[i]; i++)
		assert_msg_has(err, c->msg[i]);
	assert_null(strchr(err.msg, '\n'));
	assert_false(spec.present);
}

static void test_policy_not_object(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	assert_true(parse("[\"memgate.io/mode\"]", &spec, &err) < 0);
	assert_msg_has(err, "expected a JSON object");
}

static void test_k8s_override(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	/* The override comes first in the object: order must not matter. */
	assert_int_equal(parse("{\"memgate.io/commit-limit.app\": \"2Gi\","
			       " \"io.kubernetes.container.name\": \"app\","
			       " \"memgate.io/commit-limit\": \"1Gi\","
			       " \"memgate.io/mode.app\": \"audit\","
			       " \"memgate.io/fork-gate\": \"50%\","
			       " \"memgate.io/fork-gate.sidecar\": \"70%\"}",
			       &spec, &err),
			 0);
	assert_true(spec.present);
	assert_int_equal(spec.commit_limit.bytes, 2 * GiB);
	assert_string_equal(spec.commit_limit.key, "memgate.io/commit-limit.app");
	assert_int_equal(spec.mode, MG_MODE_AUDIT);
	assert_int_equal(spec.fork_gate.percent, 50);
	assert_string_equal(spec.fork_gate.key, "memgate.io/fork-gate");
}

static void test_k8s_override_containerd(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	/* containerd names the container io.kubernetes.cri.container-name. */
	assert_int_equal(parse("{\"io.kubernetes.cri.container-name\": \"db\","
			       " \"memgate.io/commit-limit\": \"1Gi\","
			       " \"memgate.io/commit-limit.db\": \"3Gi\"}",
			       &spec, &err),
			 0);
	assert_int_equal(spec.commit_limit.bytes, 3 * GiB);
}

static void test_k8s_other_container(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	/* Only an override for someone else: no policy here. */
	assert_int_equal(parse("{\"io.kubernetes.container.name\": \"app\","
			       " \"memgate.io/commit-limit.sidecar\": \"1Gi\"}",
			       &spec, &err),
			 0);
	assert_false(spec.present);

	/* Not Kubernetes (no container name): overrides name nobody. */
	assert_int_equal(parse("{\"memgate.io/commit-limit.app\": \"1Gi\"}", &spec, &err), 0);
	assert_false(spec.present);

	/* The base value stays for a container the override does not name. */
	assert_int_equal(parse("{\"io.kubernetes.container.name\": \"app\","
			       " \"memgate.io/commit-limit\": \"1Gi\","
			       " \"memgate.io/commit-limit.sidecar\": \"3Gi\"}",
			       &spec, &err),
			 0);
	assert_true(spec.present);
	assert_int_equal(spec.commit_limit.bytes, GiB);
}

static void test_k8s_sandbox(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	/* Pod annotations on the pause container: no policy, and not validated. */
	assert_int_equal(parse("{\"io.kubernetes.cri-o.ContainerType\": \"sandbox\","
			       " \"memgate.io/commit-limit\": \"bogus\"}",
			       &spec, &err),
			 0);
	assert_false(spec.present);
	assert_int_equal(parse("{\"io.kubernetes.cri.container-type\": \"sandbox\","
			       " \"memgate.io/commit-limit\": \"1Gi\"}",
			       &spec, &err),
			 0);
	assert_false(spec.present);

	/* A workload container of the same pod does get it. */
	assert_int_equal(parse("{\"io.kubernetes.cri-o.ContainerType\": \"container\","
			       " \"memgate.io/commit-limit\": \"1Gi\"}",
			       &spec, &err),
			 0);
	assert_true(spec.present);
	assert_int_equal(spec.commit_limit.bytes, GiB);
}

static void test_k8s_podwide(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;

	/* A Kubernetes container: memgate.io/<knob> is pod-wide, an override is its own. */
	assert_int_equal(parse("{\"io.kubernetes.cri.container-name\": \"app\","
			       " \"memgate.io/commit-limit\": \"1Gi\","
			       " \"memgate.io/pressure-gate\": \"80%\","
			       " \"memgate.io/commit-limit.app\": \"2Gi\"}",
			       &spec, &err),
			 0);
	assert_int_equal(spec.podwide, MG_KNOB_BIT(MG_KNOB_PRESSURE_GATE));
	assert_int_equal(spec.commit_limit.bytes, 2 * GiB);

	/* Not Kubernetes (no container name): nothing is pod-wide. */
	assert_int_equal(parse("{\"memgate.io/pressure-gate\": \"80%\"}", &spec, &err), 0);
	assert_int_equal(spec.podwide, 0);
}

static void test_k8s_names(void **state)
{
	struct mg_kube_names k;
	json_object *obj;
	char long_name[400];

	/* containerd's keys. */
	obj = ann("{\"io.kubernetes.cri.container-name\": \"app\","
		  " \"io.kubernetes.cri.sandbox-name\": \"web\","
		  " \"io.kubernetes.cri.sandbox-namespace\": \"prod\"}");
	assert_true(mg_kube_names(obj, &k));
	assert_string_equal(k.container, "app");
	assert_string_equal(k.pod, "web");
	assert_string_equal(k.namespace, "prod");
	json_object_put(obj);

	/* CRI-O's, without a namespace. */
	obj = ann("{\"io.kubernetes.container.name\": \"db\", \"io.kubernetes.pod.name\": \"store\"}");
	assert_true(mg_kube_names(obj, &k));
	assert_string_equal(k.container, "db");
	assert_string_equal(k.pod, "store");
	assert_string_equal(k.namespace, "");
	json_object_put(obj);

	/* Not Kubernetes. */
	obj = ann("{\"io.kubernetes.cri.sandbox-name\": \"web\"}");
	assert_false(mg_kube_names(obj, &k));
	assert_string_equal(k.pod, "");
	json_object_put(obj);
	assert_false(mg_kube_names(NULL, &k));

	/* Longer than any Kubernetes name: cut to fit, NUL-terminated. */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	obj = json_object_new_object();
	json_object_object_add(obj, "io.kubernetes.container.name", json_object_new_string(long_name));
	assert_true(mg_kube_names(obj, &k));
	assert_int_equal(strlen(k.container), MG_KUBE_NAME_LEN - 1);
	json_object_put(obj);
}

/* ---- mg_policy_resolve ---- */

static void test_resolve_bytes(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;

	assert_int_equal(
		parse("{\"memgate.io/commit-limit\": \"8Gi\", \"memgate.io/pressure-gate\":"
		      " \"3Gi\", \"memgate.io/mode\": \"audit\"}",
		      &spec, &err),
		0);
	/* No memory limit is fine for byte sizes; commit may exceed memory.max. */
	assert_int_equal(mg_policy_resolve(&spec, 0, &b, &err), 0);
	assert_int_equal(b.commit_limit, 8 * GiB);
	assert_int_equal(b.pressure_gate, 3 * GiB);
	assert_int_equal(b.fork_gate, 0);
	assert_int_equal(b.mode, MG_MODE_AUDIT);
	assert_int_equal(mg_policy_resolve(&spec, 4 * GiB, &b, &err), 0);
	assert_int_equal(b.commit_limit, 8 * GiB);
}

static void test_resolve_percent(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;

	assert_int_equal(parse("{\"memgate.io/pressure-gate\": \"80%\", \"memgate.io/fork-gate\":"
			       " \"100%\"}",
			       &spec, &err),
			 0);
	assert_int_equal(mg_policy_resolve(&spec, 4 * GiB, &b, &err), 0);
	assert_int_equal(b.pressure_gate, 3435973836); /* floor(0.8 * 4Gi) */
	assert_int_equal(b.fork_gate, 4 * GiB);
	assert_int_equal(b.commit_limit, 0);
	assert_int_equal(b.mode, MG_MODE_ENFORCE);

	/* Near 2^64 the percentage must not overflow. */
	assert_int_equal(mg_policy_resolve(&spec, UINT64_MAX, &b, &err), 0);
	assert_int_equal(b.pressure_gate, UINT64_C(14757395258967641292));
	assert_int_equal(b.fork_gate, UINT64_MAX);
}

static void test_resolve_percent_no_limit(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;

	assert_int_equal(parse("{\"memgate.io/pressure-gate\": \"80%\"}", &spec, &err), 0);
	assert_int_equal(mg_policy_resolve(&spec, 0, &b, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "annotation memgate.io/pressure-gate=\"80%\": a percentage needs "
			    "a container memory limit (memory.max is \"max\")");
}

static void test_resolve_percent_override_key(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;

	assert_int_equal(parse("{\"io.kubernetes.container.name\": \"db\","
			       " \"memgate.io/fork-gate.db\": \"60%\"}",
			       &spec, &err),
			 0);
	assert_true(mg_policy_resolve(&spec, 0, &b, &err) < 0);
	assert_msg_has(err, "annotation memgate.io/fork-gate.db=\"60%\": a percentage needs");
}

static void test_resolve_percent_below_page(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;

	assert_int_equal(parse("{\"memgate.io/fork-gate\": \"1%\"}", &spec, &err), 0);
	assert_true(mg_policy_resolve(&spec, 100000, &b, &err) < 0);
	assert_msg_has(err, "annotation memgate.io/fork-gate=\"1%\": 1000 bytes");
	assert_msg_has(err, "one page");
}

static void test_resolve_gate_above_max(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;

	assert_int_equal(parse("{\"memgate.io/pressure-gate\": \"8Gi\"}", &spec, &err), 0);
	assert_true(mg_policy_resolve(&spec, 4 * GiB, &b, &err) < 0);
	assert_msg_has(err,
		       "annotation memgate.io/pressure-gate=\"8Gi\": 8589934592 bytes is above");
	assert_msg_has(err, "memory.max is 4294967296");
	assert_int_equal(b.pressure_gate, 0);

	/* Exactly memory.max is allowed. */
	assert_int_equal(mg_policy_resolve(&spec, 8 * GiB, &b, &err), 0);
	assert_int_equal(b.pressure_gate, 8 * GiB);
}

static void test_resolve_hand_built(void **state)
{
	struct mg_error err = {0};
	struct mg_policy_spec spec = {0};
	struct mg_policy_bytes b;

	/* A spec not from annotations still gets a named message. */
	spec.present = true;
	spec.pressure_gate.kind = MG_SIZE_PERCENT;
	spec.pressure_gate.percent = 50;
	assert_true(mg_policy_resolve(&spec, 0, &b, &err) < 0);
	assert_msg_has(err, "annotation memgate.io/pressure-gate=");
}

#define TABLE_LEN(t) (sizeof(t) / sizeof((t)[0]))

static void add_table(struct CMUnitTest *tests, size_t *n, const char *what, CMUnitTestFunction fn,
		      const void *table, size_t count, size_t elem,
		      const char *(*text)(const void *))
{
	size_t i;

	for (i = 0; i < count; i++) {
		const void *c = (const char *)table + i * elem;
		char *name;

		if (asprintf(&name, "%s \"%s\"", what, text(c)) < 0)
			abort();
		tests[*n] = (struct CMUnitTest){
			.name = name, .test_func = fn, .initial_state = (void *)c};
		(*n)++;
	}
}

static const char *qty_ok_text(const void *c)
{
	return ((const struct qty_ok *)c)->text;
}

static const char *qty_bad_text(const void *c)
{
	return ((const struct qty_bad *)c)->text;
}

static const char *policy_bad_text(const void *c)
{
	return ((const struct policy_bad *)c)->json;
}

#define NAMED(fn)                                                                                  \
	{                                                                                          \
#fn, fn, NULL, NULL, NULL                                                          \
	}

static const struct CMUnitTest named[] = {
	NAMED(test_qty_control_chars),
	NAMED(test_size_bytes),
	NAMED(test_size_below_page),
	NAMED(test_size_percent),
	NAMED(test_size_percent_not_allowed),
	NAMED(test_policy_null),
	NAMED(test_policy_unrelated),
	NAMED(test_policy_all_knobs),
	NAMED(test_policy_defaults),
	NAMED(test_policy_negative_exact),
	NAMED(test_policy_not_object),
	NAMED(test_k8s_override),
	NAMED(test_k8s_override_containerd),
	NAMED(test_k8s_other_container),
	NAMED(test_k8s_sandbox),
	NAMED(test_k8s_podwide),
	NAMED(test_k8s_names),
	NAMED(test_resolve_bytes),
	NAMED(test_resolve_percent),
	NAMED(test_resolve_percent_no_limit),
	NAMED(test_resolve_percent_override_key),
	NAMED(test_resolve_percent_below_page),
	NAMED(test_resolve_gate_above_max),
	NAMED(test_resolve_hand_built),
};

int main(void)
{
	size_t total = TABLE_LEN(qty_ok) + TABLE_LEN(qty_bad) + TABLE_LEN(pct_bad) +
		       TABLE_LEN(policy_bad) + TABLE_LEN(named);
	struct CMUnitTest *tests = calloc(total, sizeof(*tests));
	size_t n = 0, i;
	int failed;

	if (!tests)
		abort();
	add_table(tests, &n, "quantity ok", test_qty_ok, qty_ok, TABLE_LEN(qty_ok),
		  sizeof(qty_ok[0]), qty_ok_text);
	add_table(tests, &n, "quantity rejects", test_qty_bad, qty_bad, TABLE_LEN(qty_bad),
		  sizeof(qty_bad[0]), qty_bad_text);
	add_table(tests, &n, "percent rejects", test_pct_bad, pct_bad, TABLE_LEN(pct_bad),
		  sizeof(pct_bad[0]), qty_bad_text);
	add_table(tests, &n, "policy rejects", test_policy_bad, policy_bad, TABLE_LEN(policy_bad),
		  sizeof(policy_bad[0]), policy_bad_text);
	for (i = 0; i < TABLE_LEN(named); i++)
		tests[n++] = named[i];

	failed = _cmocka_run_group_tests("policy", tests, n, NULL, NULL);

	for (i = 0; i < n - TABLE_LEN(named); i++)
		free((char *)tests[i].name);
	free(tests);
	return failed;
}
