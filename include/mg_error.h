/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One error convention for all of memgate: a function that can fail returns
 * 0 or a negative errno, and fills a struct mg_error with one line that names
 * the input and what was expected.  Callers add context with mg_error_prefix().
 */
#ifndef MG_ERROR_H
#define MG_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define MG_ERROR_LEN 512

struct mg_error {
	int code; /* positive errno */
	char msg[MG_ERROR_LEN];
};

/* Record a message; returns -code (EINVAL when code is 0). */
int mg_fail(struct mg_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like mg_fail(), with ": strerror(code)" appended. */
int mg_fail_errno(struct mg_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend context to a message already recorded: "ctx: msg". */
void mg_error_prefix(struct mg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Copy src for quoting in a message, control characters as '?', so input
 * bytes can not split the one line.  Truncates to size - 1 bytes.
 */
void mg_printable(char *dst, size_t size, const char *src);

#endif
