/* SPDX-License-Identifier: GPL-2.0-only */
/* Bounded reading of a descriptor or a file; messages name the input. */
#ifndef MG_READ_H
#define MG_READ_H

#include <stddef.h>

#include "mg_error.h"

/*
 * Read all of fd, failing when it holds more than max bytes or none; `what`
 * names the input in messages.  *buf is NUL-terminated; len may be NULL.
 */
int mg_read_bounded(int fd, size_t max, const char *what, char **buf, size_t *len,
		    struct mg_error *err);

/* Read a small file whole, NUL-terminated; messages name the path. */
int mg_read_file(const char *path, size_t max, char **buf, struct mg_error *err);

#endif
