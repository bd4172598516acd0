/* SPDX-License-Identifier: GPL-2.0-only */
/* What every cmocka unit test here includes. */
#ifndef MG_UNIT_H
#define MG_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mg_error.h"

/* Explain a failure on stdout, in order with cmocka's TAP lines. */
#define failf(fmt, ...)                                                                            \
	do {                                                                                       \
		print_message("# " fmt "\n", ##__VA_ARGS__);                                       \
		fail();                                                                            \
	} while (0)

#define assert_msg_has(err, want)                                                                  \
	do {                                                                                       \
		if (!strstr((err).msg, (want)))                                                    \
			failf("message \"%s\" lacks \"%s\"", (err).msg, (want));                   \
	} while (0)

#endif
