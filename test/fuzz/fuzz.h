/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every fuzz target checks besides memory safety: the error convention
 * of include/mg_error.h.  A failure returns -errno, records the same errno,
 * and leaves one printable line; anything else aborts, so libFuzzer keeps it.
 */
#ifndef MG_FUZZ_H
#define MG_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_error.h"

#define fuzz_assert(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__,  \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static inline void fuzz_check_result(int ret, const struct mg_error *err)
{
	size_t i, len;

	fuzz_assert(ret <= 0);
	if (ret == 0)
		return;
	fuzz_assert(err->code == -ret);
	len = strnlen(err->msg, sizeof(err->msg));
	fuzz_assert(len > 0 && len < sizeof(err->msg));
	for (i = 0; i < len; i++) {
		unsigned char c = err->msg[i];

		if (c < 0x20 || c == 0x7f) {
			fprintf(stderr, "error message has byte 0x%02x at %zu: %s\n", c, i,
				err->msg);
			abort();
		}
	}
}

/* A fresh error with a marker, so a failure that records nothing shows. */
#define FUZZ_ERROR_INIT                                                                            \
	{                                                                                          \
		.code = -1, .msg = "unset"                                                         \
	}

#endif
