// SPDX-License-Identifier: GPL-2.0-only
/* mg_format_size: bytes written the way annotations write them, and read back the same. */

#include "unit.h"
#include "mg_policy.h"

static const struct {
	uint64_t bytes;
	const char *text;
} cases[] = {
	{0, "0"},
	{1, "1"},
	{4097, "4097"},
	{1000, "1k"},
	{1024, "1Ki"},
	{512 * 1024, "512Ki"},
	{64 << 20, "64Mi"},
	{65536 * 1024, "64Mi"}, /* what status used to print as 65536K */
	{UINT64_C(1536) << 20, "1.5Gi"},
	{UINT64_C(1280) << 20, "1.25Gi"},
	{UINT64_C(1000) << 20, "1000Mi"},
	{1025 * 1024, "1025Ki"},
	{1500000000, "1.5G"},
	{1000000000, "1G"},
	{UINT64_C(1) << 60, "1Ei"},
	{UINT64_MAX, "18446744073709551615"},
	{5054464, "4936Ki"},
};

static void test_format(void **state)
{
	char buf[MG_SIZE_TEXT_LEN];
	struct mg_error err = {0};
	uint64_t back;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = mg_format_size(cases[i].bytes, buf);

		if (strcmp(got, cases[i].text))
			failf("%" PRIu64 ": got \"%s\", expected \"%s\"", cases[i].bytes, got,
			      cases[i].text);
		/* What status prints, validate and the hook read as the same bytes. */
		if (mg_parse_quantity(got, &back, &err) < 0 || back != cases[i].bytes)
			failf("\"%s\" reads back as %" PRIu64 " (%s)", got, back, err.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
