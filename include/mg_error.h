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

enum mg_escape_style {
	/* C-style: \\ \" \n \t \r \e, \xNN for other control bytes and non-UTF-8. */
	MG_ESCAPE_C,
	/*
	 * A Prometheus label value: \\ \" \n as the exposition format says, and
	 * any other byte C-style escapes as the four characters \xNN (its
	 * backslash escaped), since the format has no other escape.
	 */
	MG_ESCAPE_PROMETHEUS,
	/* C-style, but \\ and " kept: for a whole message whose quoted parts are escaped already. */
	MG_ESCAPE_TEXT,
	/*
	 * JSON text from json-c, which leaves DEL, C1 controls and bytes that
	 * are not UTF-8 raw inside strings: those as \\uXXXX (\\ufffd for a
	 * byte that is not UTF-8); the rest as it is.
	 */
	MG_ESCAPE_JSON,
};

/*
 * Every byte a tenant controls (process names, container ids, annotation
 * values) goes through this before a terminal, a log or a scraper: the len
 * bytes of src, escaped, into dst.  Valid UTF-8 is kept, except C1 controls
 * and bidi or line-separator code points.  When the escaped text does not fit
 * in size - 1 bytes, its middle is replaced with "...(LEN bytes)...", so the
 * start, the end and the length stay visible.  Returns the length of the
 * whole escaped text (as snprintf does): dst was shortened if it is >= size.
 */
size_t mg_escape(char *dst, size_t size, const void *src, size_t len, enum mg_escape_style style);

/* mg_escape() of a C string, C-style. */
void mg_printable(char *dst, size_t size, const char *src);

#endif
