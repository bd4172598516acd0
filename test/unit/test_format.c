// SPDX-License-Identifier: GPL-2.0-only
/*
 * mg_format_size: bytes written the way annotations write them, and read
 * back the same; and pages to bytes and back.
 */

#include "unit.h"
#include "memgate.h"
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

/* The one pages<->bytes conversion, its sign and rounding as the programs and status need. */
static void test_pages(void **state)
{
	assert_int_equal(mg_pages_to_bytes(3, 12), 12288);
	assert_int_equal(mg_pages_to_bytes(0, 12), 0);
	/* A commit below 0 stays below 0; a denial's bytes are its bits unsigned. */
	assert_int_equal(mg_pages_to_bytes(-3, 12), -12288);
	assert_true((__u64)mg_pages_to_bytes(-3, 12) == (__u64)-3 << 12);
	assert_int_equal(mg_pages_to_bytes(5, 16), 5 << 16);
	/* A limit's pages: whole pages, rounded down. */
	assert_int_equal(mg_bytes_to_pages(4095, 12), 0);
	assert_int_equal(mg_bytes_to_pages(8191, 12), 1);
	assert_int_equal(mg_bytes_to_pages(UINT64_C(1) << 30, 12), 1 << 18);
	assert_true(mg_bytes_to_pages(UINT64_MAX, 12) == (__s64)(UINT64_MAX >> 12));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_pages),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
