// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every road to committed memory, tried as a hostile tenant would, for
 * test/bats/roads.bats.  Static, for a busybox rootfs; meant to be the
 * container's only process, so the container's commit is this process's
 * own (VmData + VmStk) plus the shared objects it made.
 *
 *   roads LIMIT_KIB ROAD...
 *
 * For each ROAD (private, mremap, mremap-moved, mprotect, shared, devzero,
 * sysv, sysv-noreserve): one request of 512 MiB must be refused; then 16
 * pieces of 32 MiB are asked, then halving pieces down to one page, each
 * kept until refused; what was granted plus the baseline must end within a
 * page of LIMIT_KIB.  Then everything is released and the same is asked
 * again: the same amount must be granted (the sum leaked nothing).  For
 * sysv, a segment removed while still attached must stay counted until its
 * last detach.  The road "hold" prints "holding" and waits for a signal
 * (while the policy, and memgate, stay loaded).  Prints one line per road, "road R: granted G KiB, base B
 * KiB, limit L KiB"; exits 1 with "FAIL road R: ..." at the first failure.
 * Nothing here mallocs: at the limit, the program must not need memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define KIB 1024UL
#define MIB (1024 * KIB)
#define MAX_PIECES 64

static unsigned long page;

struct piece {
	char *addr;
	size_t len;
	int shmid; /* sysv: the segment; -1 otherwise */
};

/* The state of one road: its pieces, or for mremap one mapping that grows. */
struct road {
	const char *name;
	struct piece pieces[MAX_PIECES];
	int n;
	char *grow;	 /* mremap, mprotect: the mapping being grown */
	size_t grown;	 /* its current writable (committed) length */
	char *reserve;	 /* mprotect: the PROT_NONE reservation */
	size_t reserve_len;
	unsigned long granted;
};

static char line[512];

static void say(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n] = '\n';
	if (write(1, line, n + 1) < 0)
		_exit(2);
}

#include "committed.h"

/* A 4 KiB MAP_NORESERVE mapping with free address space after it. */
static char *noreserve_seed(size_t room)
{
	char *r = mmap(NULL, room, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (r == MAP_FAILED)
		return NULL;
	munmap(r + page, room - page);
	munmap(r, page);
	r = mmap(r, page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	return r == MAP_FAILED ? NULL : r;
}

/* Ask the road for len more bytes; 0 when granted, else the errno. */
static int ask(struct road *r, size_t len)
{
	const char *name = r->name;
	struct piece *p;
	void *a;

	if (!strcmp(name, "mremap") || !strcmp(name, "mremap-moved")) {
		int flags = 0;

		if (!strcmp(name, "mremap-moved")) {
			/* A page right after it: it cannot grow in place, it must move. */
			mmap(r->grow + r->grown, page, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
			flags = MREMAP_MAYMOVE;
		}
		a = mremap(r->grow, r->grown, r->grown + len, flags);
		if (a == MAP_FAILED)
			return errno;
		if (flags && a == r->grow) {
			say("FAIL road %s: mremap grew in place, not moved", name);
			_exit(1);
		}
		r->grow = a;
		r->grown += len;
		return 0;
	}
	if (!strcmp(name, "mprotect")) {
		if (r->grown + len > r->reserve_len)
			return E2BIG;
		if (mprotect(r->reserve + r->grown, len, PROT_READ | PROT_WRITE))
			return errno;
		r->grown += len;
		return 0;
	}
	if (r->n >= MAX_PIECES)
		return E2BIG;
	p = &r->pieces[r->n];
	p->shmid = -1;
	p->len = len;
	if (!strcmp(name, "private")) {
		a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else if (!strcmp(name, "shared")) {
		a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	} else if (!strcmp(name, "shared-noreserve")) {
		a = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	} else if (!strcmp(name, "devzero")) {
		int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);

		if (fd < 0)
			return errno;
		a = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
	} else if (!strcmp(name, "sysv") || !strcmp(name, "sysv-noreserve")) {
		int flags = IPC_CREAT | 0600 | (strcmp(name, "sysv") ? SHM_NORESERVE : 0);

		p->shmid = shmget(IPC_PRIVATE, len, flags);
		if (p->shmid < 0)
			return errno;
		/* Kept attached, as the tenant did. */
		a = shmat(p->shmid, NULL, 0);
		if (a == (void *)-1) {
			int e = errno;

			shmctl(p->shmid, IPC_RMID, NULL);
			return e;
		}
	} else {
		say("FAIL road %s: no such road", name);
		_exit(2);
	}
	if (a == MAP_FAILED)
		return errno;
	p->addr = a;
	r->n++;
	return 0;
}

/*
 * Before the baseline is read: the one-page MAP_NORESERVE seed that mremap
 * grows (one page of VmData), the PROT_NONE reservation mprotect opens.
 */
static void prepare(struct road *r)
{
	if (!strncmp(r->name, "mremap", 6)) {
		r->grow = noreserve_seed(768 * MIB);
		r->grown = page;
	} else if (!strcmp(r->name, "mprotect")) {
		r->reserve_len = 768 * MIB;
		r->reserve = mmap(NULL, r->reserve_len, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r->reserve == MAP_FAILED)
			r->reserve = NULL;
	} else {
		return;
	}
	if (!r->grow && !r->reserve) {
		say("FAIL road %s: cannot prepare: %s", r->name, strerror(errno));
		_exit(1);
	}
}

static void release(struct road *r)
{
	for (int i = 0; i < r->n; i++) {
		if (r->pieces[i].shmid >= 0) {
			shmctl(r->pieces[i].shmid, IPC_RMID, NULL);
			shmdt(r->pieces[i].addr);
		} else {
			munmap(r->pieces[i].addr, r->pieces[i].len);
		}
	}
	r->n = 0;
	if (r->grow)
		munmap(r->grow, r->grown);
	if (r->reserve)
		munmap(r->reserve, r->reserve_len);
	r->grow = r->reserve = NULL;
	r->grown = 0;
}

/*
 * One round: the big request refused, then 16 x 32 MiB and halving pieces
 * down to a page, each kept.  Returns KiB granted.
 */
static unsigned long fill(struct road *r)
{
	unsigned long granted = 0;
	int e;

	e = ask(r, 512 * MIB);
	if (!e) {
		say("FAIL road %s: one request of 512 MiB was granted", r->name);
		_exit(1);
	}
	if (e != ENOMEM) {
		say("FAIL road %s: 512 MiB refused with %s, expected ENOMEM", r->name, strerror(e));
		_exit(1);
	}
	for (int i = 0; i < 16; i++) {
		if (ask(r, 32 * MIB))
			break;
		granted += 32 * MIB / KIB;
	}
	for (size_t len = 16 * MIB; len >= page; len /= 2) {
		e = ask(r, len);
		if (!e)
			granted += len / KIB;
		else if (e != ENOMEM) {
			say("FAIL road %s: %zu KiB refused with %s, expected ENOMEM", r->name,
			    len / KIB, strerror(e));
			_exit(1);
		}
	}
	return granted;
}

int main(int argc, char **argv)
{
	static struct road r;
	unsigned long limit, base, first, again, end;
	bool private_road;

	page = sysconf(_SC_PAGESIZE);
	if (argc < 3) {
		say("usage: roads LIMIT_KIB ROAD...");
		return 2;
	}
	limit = strtoul(argv[1], NULL, 10);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "hold")) {
			say("holding");
			pause();
		}
		memset(&r, 0, sizeof(r));
		r.name = argv[i];
		private_road = strcmp(r.name, "shared") && strcmp(r.name, "shared-noreserve") &&
			       strcmp(r.name, "devzero") && strncmp(r.name, "sysv", 4);
		prepare(&r);
		base = committed_kib();
		first = fill(&r);
		/* Private roads are in VmData; shared ones are not, and count beside it. */
		end = committed_kib() + (private_road ? 0 : first);
		if (end != base + first) {
			say("FAIL road %s: granted %lu KiB, but VmData+VmStk went %lu -> %lu KiB",
			    r.name, first, base, end - (private_road ? 0 : first));
			return 1;
		}
		if (end > limit || limit - end >= page / KIB) {
			say("FAIL road %s: granted %lu KiB over a base of %lu KiB: %lu KiB, not within a page under the limit of %lu KiB",
			    r.name, first, base, end, limit);
			return 1;
		}
		if (!strncmp(r.name, "sysv", 4)) {
			/* Removed but still attached: still counted. */
			for (int k = 0; k < r.n; k++)
				shmctl(r.pieces[k].shmid, IPC_RMID, NULL);
			if (!ask(&r, 16 * page)) {
				say("FAIL road %s: removed segments still attached were no longer counted",
				    r.name);
				return 1;
			}
		}
		release(&r);
		prepare(&r);
		again = fill(&r);
		if (again != first) {
			say("FAIL road %s: granted %lu KiB, after release %lu KiB", r.name, first,
			    again);
			return 1;
		}
		release(&r);
		say("road %s: granted %lu KiB, base %lu KiB, limit %lu KiB", r.name, first, base,
		    limit);
	}
	return 0;
}
