// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mg_error.h"

static int record(struct mg_error *err, int code, bool with_errno, const char *fmt, va_list ap)
{
	if (code < 0)
		code = -code;
	if (code == 0)
		code = EINVAL;
	if (err) {
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);

		if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
			snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(code));
		err->code = code;
	}
	return -code;
}

int mg_fail(struct mg_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = record(err, code, false, fmt, ap);
	va_end(ap);
	return ret;
}

int mg_fail_errno(struct mg_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = record(err, code, true, fmt, ap);
	va_end(ap);
	return ret;
}

void mg_error_prefix(struct mg_error *err, const char *fmt, ...)
{
	char ctx[MG_ERROR_LEN];
	char old[MG_ERROR_LEN];
	va_list ap;
	int n;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	n = snprintf(err->msg, sizeof(err->msg), "%s: ", ctx);
	if (n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, "%s", old);
}

void mg_printable(char *dst, size_t size, const char *src)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = '\0';
}
