/* SPDX-License-Identifier: GPL-2.0-only */
/* Scope-bound cleanup, as crun and systemd do it. */
#ifndef MG_CLEANUP_H
#define MG_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void mg_freep(void *p)
{
	free(*(void **)p);
}

static inline void mg_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void mg_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void mg_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_ __attribute__((cleanup(mg_freep)))
#define _cleanup_close_ __attribute__((cleanup(mg_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(mg_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(mg_closedirp)))

/* Hand ownership out of a cleanup-scoped variable. */
#define mg_steal(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tmp = (p);                                                          \
		(p) = NULL;                                                                        \
		_tmp;                                                                              \
	})

#define mg_steal_fd(fd)                                                                            \
	({                                                                                         \
		int _tmp = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_tmp;                                                                              \
	})

#endif
