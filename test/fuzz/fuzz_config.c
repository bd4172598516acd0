// SPDX-License-Identifier: GPL-2.0-only
/*
 * The admin configuration: mg_config_parse(), then its defaults and ceilings
 * applied to a few containers.  Besides the error convention it checks what
 * include/mg_config.h promises: defaults never refuse a container, and
 * nothing resolves above a ceiling in bytes.
 */
#include "fuzz.h"
#include "mg_config.h"
#include "mg_oci.h"

static const char *const containers[] = {
	"{}",
	"{\"memgate.io/commit-limit\":\"1Gi\"}",
	"{\"memgate.io/pressure-gate\":\"95%\",\"memgate.io/mode\":\"audit\"}",
	"{\"memgate.io/fork-gate\":\"256Mi\",\"memgate.io/on-unsupported\":\"warn\"}",
	"{\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"}",
};

static void check_container(const struct mg_config *cfg, const char *json, uint64_t memory_max)
{
	struct mg_error err = FUZZ_ERROR_INIT;
	json_object *ann = json_tokener_parse(json);
	struct mg_policy_spec spec;
	struct mg_policy_bytes b;
	int ret;

	fuzz_assert(ann && mg_policy_parse(ann, &spec, &err) == 0);
	json_object_put(ann);
	mg_config_defaults(cfg, &spec);
	ret = mg_config_resolve(cfg, &spec, memory_max, &b, &err);
	fuzz_check_result(ret, &err);
	/* Only an annotation can be refused, never a default. */
	if (!(spec.set & ~spec.defaulted))
		fuzz_assert(ret == 0);
	if (ret)
		return;
	for (int k = MG_KNOB_COMMIT_LIMIT; k <= MG_KNOB_FORK_GATE; k++) {
		const struct mg_size *c = mg_policy_size(&cfg->ceilings, k);
		uint64_t v = mg_policy_knob_bytes(&b, k);

		if ((cfg->ceilings.set & MG_KNOB_BIT(k)) && c && c->kind == MG_SIZE_BYTES)
			fuzz_assert(v <= c->bytes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t memory_max[] = {0, 1ULL << 30};
	struct mg_error err = FUZZ_ERROR_INIT;
	static struct mg_config cfg; /* 4 KiB of path: keep it off the stack */
	int ret;

	if (size > MG_CONFIG_MAX)
		return 0;
	ret = mg_config_parse((const char *)data, size, "/etc/memgate/memgate.json", &cfg, &err);
	fuzz_check_result(ret, &err);
	if (ret)
		return 0;
	fuzz_assert(cfg.present);
	for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
		for (size_t j = 0; j < sizeof(memory_max) / sizeof(memory_max[0]); j++)
			check_container(&cfg, containers[i], memory_max[j]);
	return 0;
}
