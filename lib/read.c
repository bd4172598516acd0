// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bounded reading: the one reader of every input, stdin, config.json, the
 * admin file, /proc and /sys files.  Its messages name the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "mg_cleanup.h"
#include "mg_read.h"

int mg_read_bounded(int fd, size_t max, const char *what, char **buf, size_t *len,
		    struct mg_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t cap = 0, used = 0;

	*buf = NULL;
	if (len)
		*len = 0;
	if (max >= SIZE_MAX - 1)
		return mg_fail(err, EINVAL, "%s: read limit %zu is too large", what, max);

	for (;;) {
		ssize_t n;

		if (used == cap) {
			/* Grow, but never past max + 1: one byte over is enough to know. */
			size_t ncap = cap ? cap * 2 : 4096;
			char *p;

			if (ncap > max + 1)
				ncap = max + 1;
			p = realloc(data, ncap + 1);
			if (!p)
				return mg_fail_errno(err, ENOMEM, "%s: reading %zu bytes", what,
						     ncap);
			data = p;
			cap = ncap;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mg_fail_errno(err, errno, "%s: read failed", what);
		}
		if (n == 0)
			break;
		used += n;
		if (used > max)
			return mg_fail(err, EFBIG, "%s exceeds %zu bytes", what, max);
	}
	if (used == 0)
		return mg_fail(err, ENODATA, "%s is empty", what);

	data[used] = '\0';
	*buf = mg_steal(data);
	if (len)
		*len = used;
	return 0;
}

int mg_read_file(const char *path, size_t max, char **buf, struct mg_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;

	if (fd < 0)
		return mg_fail_errno(err, errno, "cannot open %s", path);
	return mg_read_bounded(fd, max, path, buf, &len, err);
}
