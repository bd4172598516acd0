// SPDX-License-Identifier: GPL-2.0-only
/*
 * SIZE and PERCENT: mg_parse_quantity() and mg_parse_size(), with plain
 * numbers and binary units checked against an independent computation.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "mg_policy.h"

/* digits with an optional Ki..Ei suffix: the value, or false when it does not fit. */
static bool reference(const char *text, bool *applies, uint64_t *value)
{
	static const char units[] = "KMGTPE";
	unsigned __int128 v = 0;
	const char *p = text;
	unsigned shift = 0;

	*applies = false;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT64_MAX)
			v = (unsigned __int128)UINT64_MAX + 1; /* saturate: too large */
	}
	if (*p) {
		const char *u = strchr(units, *p);

		if (!u || !*u || p[1] != 'i' || p[2])
			return false;
		shift = 10 * (unsigned)(u - units + 1);
	}
	if (p - text > 64) /* longer is refused before any arithmetic */
		return false;
	*applies = true;
	v <<= shift;
	if (v > UINT64_MAX)
		return false;
	*value = (uint64_t)v;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_error err = FUZZ_ERROR_INIT;
	struct mg_size s;
	char text[256];
	uint64_t bytes, want = 0;
	bool applies, fits;
	int ret;

	/* Annotation values are C strings once json-c has them. */
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	ret = mg_parse_quantity(text, &bytes, &err);
	fuzz_check_result(ret, &err);
	if (ret)
		fuzz_assert(bytes == 0);
	fits = reference(text, &applies, &want);
	if (applies && strlen(text) <= MG_QUANTITY_MAX_LEN) {
		if (fits)
			fuzz_assert(ret == 0 && bytes == want);
		else
			fuzz_assert(ret == -ERANGE);
	}

	for (int pct = 0; pct < 2; pct++) {
		err = (struct mg_error)FUZZ_ERROR_INIT;
		ret = mg_parse_size(text, pct, &s, &err);
		fuzz_check_result(ret, &err);
		if (ret) {
			fuzz_assert(s.kind == MG_SIZE_UNSET);
			continue;
		}
		fuzz_assert(memchr(s.text, 0, sizeof(s.text)));
		if (s.kind == MG_SIZE_PERCENT) {
			fuzz_assert(pct && s.percent >= 1 && s.percent <= 100);
		} else {
			fuzz_assert(s.kind == MG_SIZE_BYTES && s.bytes >= 4096);
			/* The same text as a quantity gives the same bytes. */
			fuzz_assert(mg_parse_quantity(text, &bytes, NULL) == 0 && bytes == s.bytes);
		}
	}
	return 0;
}
