// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
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

/*
 * One unit of src at *i: how many bytes it takes in src (*in) and what it
 * becomes in the output (out, returned length).  Printable ASCII and valid
 * UTF-8 are kept; control bytes, DEL, C1 controls, bidi overrides, line
 * separators and bytes that are not UTF-8 are escaped.
 */
static size_t escape_unit(const unsigned char *src, size_t len, size_t i,
			  enum mg_escape_style style, size_t *in, char out[24])
{
	static const char hex[] = "0123456789abcdef";
	const char *bs = style == MG_ESCAPE_PROMETHEUS ? "\\\\" : "\\";
	unsigned char c = src[i];
	uint32_t cp;
	size_t n, k, o;

	*in = 1;
	if ((c == '\\' || c == '"') && style != MG_ESCAPE_TEXT && style != MG_ESCAPE_JSON) {
		out[0] = '\\';
		out[1] = c;
		return 2;
	}
	if (c == '\n' && style == MG_ESCAPE_PROMETHEUS)
		return (size_t)sprintf(out, "\\n");
	if (c >= 0x20 && c < 0x7f) {
		out[0] = c;
		return 1;
	}
	/* JSON: json-c escapes these inside strings; raw, they are the layout. */
	if (style == MG_ESCAPE_JSON && (c == '\n' || c == '\t' || c == '\r')) {
		out[0] = c;
		return 1;
	}
	if (c < 0x80 && style == MG_ESCAPE_JSON)
		return (size_t)sprintf(out, "\\u%04x", c);
	if (c < 0x80 && style != MG_ESCAPE_PROMETHEUS) {
		static const char named[][3] = {
			['\n'] = "n", ['\t'] = "t", ['\r'] = "r", [0x1b] = "e"};

		if (c < sizeof(named) / sizeof(named[0]) && named[c][0])
			return (size_t)sprintf(out, "\\%s", named[c]);
	}
	/* Multi-byte UTF-8: the whole sequence, if it is one and harmless. */
	n = c >= 0xc2 && c <= 0xdf   ? 2
	    : c >= 0xe0 && c <= 0xef ? 3
	    : c >= 0xf0 && c <= 0xf4 ? 4
				     : 0;
	if (n && i + n <= len) {
		cp = c & (0xff >> (n + 1));
		for (k = 1; k < n && (src[i + k] & 0xc0) == 0x80; k++)
			cp = cp << 6 | (src[i + k] & 0x3f);
		if (k == n && !(n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) &&
		    !(n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
			/* Valid; C1 controls and text-direction or line controls are escaped byte
			 * by byte. */
			bool harmful = cp <= 0x9f || (cp >= 0x2028 && cp <= 0x202e) ||
				       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
				       cp == 0x200f || cp == 0x061c;

			if (!harmful) {
				memcpy(out, src + i, n);
				*in = n;
				return n;
			}
			*in = n;
			if (style == MG_ESCAPE_JSON)
				return (size_t)sprintf(out, "\\u%04x", (unsigned)cp);
			for (k = 0, o = 0; k < n; k++)
				o += sprintf(out + o, "%sx%c%c", bs, hex[src[i + k] >> 4],
					     hex[src[i + k] & 15]);
			return o;
		}
	}
	/* Not UTF-8: in JSON, the replacement character, as a decoder would show it. */
	if (style == MG_ESCAPE_JSON)
		return (size_t)sprintf(out, "\\ufffd");
	return (size_t)sprintf(out, "%sx%c%c", bs, hex[c >> 4], hex[c & 15]);
}

size_t mg_escape(char *dst, size_t size, const void *src, size_t len, enum mg_escape_style style)
{
	const unsigned char *s = src;
	char unit[24], mark[48];
	size_t total = 0, in, n, i, o = 0, head, tail, done;

	for (i = 0; i < len; i += in)
		total += escape_unit(s, len, i, style, &in, unit);
	if (!size)
		return total;
	if (total < size) {
		for (i = 0; i < len; i += in) {
			n = escape_unit(s, len, i, style, &in, unit);
			memcpy(dst + o, unit, n);
			o += n;
		}
		dst[o] = '\0';
		return total;
	}
	/* Too long: the head and the tail, and the length of the whole in the middle. */
	n = (size_t)snprintf(mark, sizeof(mark), "...(%zu bytes)...", len);
	if (n + 1 >= size) {
		snprintf(dst, size, "%s", mark);
		return total;
	}
	head = (size - 1 - n) / 2;
	tail = size - 1 - n - head;
	for (i = 0; i < len; i += in) {
		n = escape_unit(s, len, i, style, &in, unit);
		if (o + n > head)
			break;
		memcpy(dst + o, unit, n);
		o += n;
	}
	memcpy(dst + o, mark, strlen(mark));
	done = o;
	o += strlen(mark);
	/* The tail starts at the first unit after which at most tail bytes remain. */
	for (; i < len && total - done > tail; i += in)
		done += escape_unit(s, len, i, style, &in, unit);
	for (; i < len; i += in) {
		n = escape_unit(s, len, i, style, &in, unit);
		memcpy(dst + o, unit, n);
		o += n;
	}
	dst[o] = '\0';
	return total;
}

void mg_printable(char *dst, size_t size, const char *src)
{
	mg_escape(dst, size, src, strlen(src), MG_ESCAPE_C);
}
