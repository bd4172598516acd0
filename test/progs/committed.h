/* SPDX-License-Identifier: GPL-2.0-only */
/* The test programs' one reading of their own commit. */
#ifndef MG_TEST_COMMITTED_H
#define MG_TEST_COMMITTED_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * data_vm + stack_vm of this address space in KiB, from /proc/self/status.
 * Read into static memory: at the limit, nothing here may commit more.
 */
static unsigned long committed_kib(void)
{
	static char buf[4096];
	unsigned long kib = 0;
	ssize_t n = 0, got;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while (n < (ssize_t)sizeof(buf) - 1 && (got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += got;
	close(fd);
	buf[n] = '\0';
	for (const char *key = "\nVmData:\0\nVmStk:\0"; *key; key += strlen(key) + 1) {
		const char *line = strstr(buf, key);

		if (line)
			kib += strtoul(line + strlen(key), NULL, 10);
	}
	return kib;
}

#endif
