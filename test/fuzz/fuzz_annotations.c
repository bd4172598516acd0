// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bundle's config.json: mg_spec_annotations_parse(), then the policy the
 * hook would build from its annotations for a container with and without a
 * memory limit.
 */
#include "fuzz.h"
#include "mg_oci.h"
#include "mg_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t memory_max[] = {0, 512ULL << 20};
	struct mg_error err = FUZZ_ERROR_INIT;
	struct mg_policy_spec spec;
	json_object *ann = NULL;
	int ret;

	ret = mg_spec_annotations_parse((const char *)data, size, "config.json", &ann, &err);
	fuzz_check_result(ret, &err);
	if (ret) {
		fuzz_assert(!ann);
		return 0;
	}
	fuzz_assert(!ann || json_object_is_type(ann, json_type_object));

	err = (struct mg_error)FUZZ_ERROR_INIT;
	ret = mg_policy_parse(ann, &spec, &err);
	fuzz_check_result(ret, &err);
	if (ret == 0) {
		/* Sizes that parsed are whole pages' worth or a percentage of 1 to 100. */
		const struct mg_size *sizes[] = {&spec.commit_limit, &spec.pressure_gate,
						 &spec.fork_gate};

		fuzz_assert(spec.commit_limit.kind != MG_SIZE_PERCENT);
		for (size_t i = 0; i < 3; i++) {
			if (sizes[i]->kind == MG_SIZE_BYTES)
				fuzz_assert(sizes[i]->bytes >= 4096);
			if (sizes[i]->kind == MG_SIZE_PERCENT)
				fuzz_assert(sizes[i]->percent >= 1 && sizes[i]->percent <= 100);
			fuzz_assert(memchr(sizes[i]->key, 0, sizeof(sizes[i]->key)));
			fuzz_assert(memchr(sizes[i]->text, 0, sizeof(sizes[i]->text)));
		}
		for (size_t i = 0; i < sizeof(memory_max) / sizeof(memory_max[0]); i++) {
			struct mg_error rerr = FUZZ_ERROR_INIT;
			struct mg_policy_bytes bytes;

			ret = mg_policy_resolve(&spec, memory_max[i], &bytes, &rerr);
			fuzz_check_result(ret, &rerr);
		}
	}
	json_object_put(ann);
	return 0;
}
