// SPDX-License-Identifier: GPL-2.0-only
/*
 * The OCI state on stdin: mg_state_parse(), then what the hook does with its
 * annotations (mg_policy_parse() and mg_policy_resolve()).
 */
#include "fuzz.h"
#include "mg_oci.h"
#include "mg_policy.h"

static void check_policy(json_object *annotations)
{
	static const uint64_t memory_max[] = {0, 4096, 1ULL << 30, UINT64_MAX};
	struct mg_error err = FUZZ_ERROR_INIT;
	struct mg_policy_spec spec;
	struct mg_policy_bytes bytes;
	int ret;

	ret = mg_policy_parse(annotations, &spec, &err);
	fuzz_check_result(ret, &err);
	if (ret)
		return;
	for (size_t i = 0; i < sizeof(memory_max) / sizeof(memory_max[0]); i++) {
		struct mg_error rerr = FUZZ_ERROR_INIT;

		ret = mg_policy_resolve(&spec, memory_max[i], &bytes, &rerr);
		fuzz_check_result(ret, &rerr);
		if (ret)
			continue;
		/* A limit is a page or more; a gate never lies above memory.max. */
		fuzz_assert(!bytes.commit_limit || bytes.commit_limit >= 4096);
		fuzz_assert(!bytes.pressure_gate || bytes.pressure_gate >= 4096);
		fuzz_assert(!bytes.fork_gate || bytes.fork_gate >= 4096);
		if (memory_max[i]) {
			fuzz_assert(bytes.pressure_gate <= memory_max[i]);
			fuzz_assert(bytes.fork_gate <= memory_max[i]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_error err = FUZZ_ERROR_INIT;
	struct mg_state state;
	int ret;

	ret = mg_state_parse((const char *)data, size, &state, &err);
	fuzz_check_result(ret, &err);
	if (ret) {
		/* Nothing half-filled is handed back. */
		fuzz_assert(!state.id && !state.status && !state.bundle && !state.annotations);
		return 0;
	}
	fuzz_assert(state.id && state.id[0] && state.status);
	fuzz_assert(state.pid >= 0);
	check_policy(state.annotations);
	mg_state_free(&state);
	return 0;
}
