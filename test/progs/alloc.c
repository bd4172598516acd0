// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workload the bats suites run inside containers.  Static, so it runs in
 * a busybox rootfs.  Prints one line of results; exits 0 unless told
 * otherwise below.
 *
 *   alloc steps MIB [MAX_MIB]     malloc+touch MIB at a time until NULL (or MAX); prints "got N MiB"
 *   alloc commit KIB FILE         mmap KIB KiB at a time, never touched (commits without using
 *                                 memory), until ENOMEM; prints "got N KiB, committed M KiB" (M is
 *                                 VmData + VmStk: the kernel's data_vm + stack_vm, what memgate
 *                                 sums), then waits until FILE exists and exits 0; exit 1 if
 *                                 1 GiB was committed without a refusal
 *   alloc brk KIB FILE            the same through glibc malloc of KIB at a time, in the main
 *                                 arena (brk), never written beyond malloc's own headers
 *   alloc mremap KIB FILE         the same by growing one private mapping KIB at a time with
 *                                 mremap(MREMAP_MAYMOVE)
 *   alloc brkonce KIB STEP        grow the heap with sbrk STEP KiB at a time up to KIB: "ok"
 *                                 (exit 0) or "ENOMEM" (exit 1)
 *   alloc forkat MIB              mmap MIB pieces of 1 MiB (never touched, one VMA each), fork:
 *                                 "fork ok" (exit 0) or "fork ENOMEM" (exit 1)
 *   alloc cycle MIB TIMES         malloc+touch+free MIB, TIMES times; exit 1 on a failure
 *   alloc hold MIB [SECS]         malloc+touch MIB, print "holding", sleep
 *   alloc once MIB                one mmap of MIB: "ok" (exit 0) or "ENOMEM" (exit 1)
 *   alloc lazy MIB COUNT [TRY]    mmap COUNT x MIB first, then touch all of it, print "holding";
 *                                 then mmap TRY MiB and exit 0 (ok) or 12 (ENOMEM), or sleep.
 *                                 An exit status, as above a pressure gate even writes to a
 *                                 tmpfs log would fail.
 *   alloc noreserve MIB           MAP_NORESERVE mmap+touch (uses memory without a commit), then hold
 *   alloc bench ROUNDS            mmap 1 MiB, touch one page, munmap, ROUNDS times; prints "ns_per_round N"
 *   alloc mmaploop|mprotectloop|sbrkloop|touchloop|forkloop|mallocmix|denyloop ROUNDS
 *                                 the other loops of bench() below
 *   alloc count LOOP ROUNDS       LOOP (any of the above) ROUNDS / 4 times, then ROUNDS times
 *                                 between two markers (xchg %bx,%bx) that make bench's TCG
 *                                 plugin counts instructions between; prints "counted LOOP ROUNDS"
 *   alloc threads N MIB           N threads each run "steps MIB"; prints "got N MiB"
 *   alloc fork                    fork once: "fork ok" (exit 0) or "fork EAGAIN" (exit 1)
 *   alloc forkafter MIB           fork, malloc+touch MIB, fork again: prints "before: fork ..." and
 *                                 "after: fork ..." (the shell could not fork above a fork gate)
 *   alloc settle MIB SECS         malloc+touch MIB, then commit one more page (memgate measures
 *                                 once more), print "holding" and sleep SECS
 *   alloc forked MIB              a forked child renames itself, starts a session and runs "steps MIB"
 *   alloc daemon MIB              the same in a grandchild whose parent exited (reparented)
 *   alloc vfork PROG ARGS...      vfork, exec PROG ARGS in the child, wait; exit with its status
 *   alloc procs N                 fork N children that each wait forever (N address spaces
 *                                 more, nothing exec'd), print "forked K" (K forks succeeded), wait
 *   alloc shared N KIB [stale] [pid] [hold]
 *                                 make N shared memory objects of KIB each, alternately a
 *                                 MAP_SHARED|MAP_ANONYMOUS mapping and a SysV segment (attached,
 *                                 removed at once: both go at exit), until one is refused;
 *                                 prints "shared K" (K made), then the refusal's errno
 *                                 ("ENOMEM"), "stale P" (stale: first, child P had a shared
 *                                 mmap decided that then failed, and exited) and "pid P" (pid:
 *                                 our own); then exits 0 if all N were made, else 1, or (hold)
 *                                 waits forever
 *   alloc join PROCS CMD ARGS...  write our pid to the cgroup.procs file PROCS, then run CMD ARGS
 *                                 (any command above, or "exec PROG ARGS..." to exec PROG)
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024)

static unsigned long arg(char **argv, int i, int argc, unsigned long fallback)
{
	return i < argc ? strtoul(argv[i], NULL, 10) : fallback;
}

static unsigned long steps(unsigned long step, unsigned long max)
{
	unsigned long got = 0;

	while (!max || got < max) {
		char *p = malloc(step * MIB);

		if (!p)
			break;
		memset(p, 1, step * MIB);
		got += step;
	}
	return got;
}

#include "committed.h"

static unsigned long thread_step;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long thread_total;

static void *thread_main(void *unused)
{
	unsigned long got = steps(thread_step, 0);

	pthread_mutex_lock(&lock);
	thread_total += got;
	pthread_mutex_unlock(&lock);
	return NULL;
}

static bool try_fork(const char *label)
{
	pid_t child = fork();

	if (child < 0) {
		printf("%sfork %s\n", label,
		       errno == EAGAIN ? "EAGAIN" : errno == ENOMEM ? "ENOMEM" : strerror(errno));
		return false;
	}
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	printf("%sfork ok\n", label);
	return true;
}

/* A child that tries to look like something else, then allocates. */
/* One shared memory object of kib KiB: 0, or the errno of its refusal. */
static int shared_object(unsigned long i, unsigned long kib)
{
	void *p;
	int id;

	if (i % 2 == 0) {
		p = mmap(NULL, kib * 1024, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? errno : 0;
	}
	id = shmget(IPC_PRIVATE, kib * 1024, IPC_CREAT | 0600);
	if (id < 0)
		return errno;
	p = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	return p == (void *)-1 ? errno : 0;
}

/*
 * A child has a one-page shared mmap decided, which then fails before its
 * object is made (MAP_FIXED_NOREPLACE over a mapping it has), and exits:
 * whatever memgate kept for it must go with it.  Its pid, or -1.
 */
static pid_t stale_shared(void)
{
	long page = sysconf(_SC_PAGESIZE);
	pid_t child = fork();
	int status;

	if (child == 0) {
		void *own = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *p;

		if (own == MAP_FAILED)
			_exit(2);
		p = mmap(own, page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		_exit(p == MAP_FAILED && errno == EEXIST ? 0 : 1);
	}
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	return child;
}

static bool has_word(int argc, char **argv, int from, const char *word)
{
	for (int i = from; i < argc; i++)
		if (!strcmp(argv[i], word))
			return true;
	return false;
}

static void renamed_steps(unsigned long mib)
{
	prctl(PR_SET_NAME, "renamed");
	setsid();
	printf("got %lu MiB\n", steps(mib, 0));
}

/*
 * The benchmark loops, each ROUNDS times:
 *   bench      mmap 1 MiB, touch a page, munmap (the page fault dominates)
 *   mmaploop   mmap 64 KiB private writable, munmap: every round charges overcommit
 *   mprotectloop  64 KiB private, read-only: mprotect it writable, then read-only again
 *   sbrkloop   sbrk +64 KiB, then -64 KiB
 *   touchloop  mmap 1 MiB, touch every page, munmap
 *   forkloop   fork, the child exits, wait
 *   mallocmix  malloc or free one of 1024 slots, sizes 16 B to 256 KiB
 *   denyloop   mmap 1 GiB, which the container's limit must refuse
 */
static int bench(const char *cmd, unsigned long rounds)
{
	static char *slots[1024];
	unsigned long seed = 1;

	for (unsigned long i = 0; i < rounds; i++) {
		if (!strcmp(cmd, "bench") || !strcmp(cmd, "mmaploop") || !strcmp(cmd, "touchloop")) {
			size_t len = !strcmp(cmd, "mmaploop") ? 64 * 1024 : MIB;
			char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED)
				return 1;
			if (len == MIB)
				p[0] = 1;
			for (size_t off = 4096; !strcmp(cmd, "touchloop") && off < len; off += 4096)
				p[off] = 1;
			munmap(p, len);
		} else if (!strcmp(cmd, "mprotectloop")) {
			static char *ro;

			if (!ro)
				ro = mmap(NULL, 64 * 1024, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (ro == MAP_FAILED || mprotect(ro, 64 * 1024, PROT_READ | PROT_WRITE) ||
			    mprotect(ro, 64 * 1024, PROT_READ))
				return 1;
		} else if (!strcmp(cmd, "sbrkloop")) {
			if (sbrk(64 * 1024) == (void *)-1 || sbrk(-64 * 1024) == (void *)-1)
				return 1;
		} else if (!strcmp(cmd, "forkloop")) {
			pid_t child = fork();

			if (child < 0)
				return 1;
			if (child == 0)
				_exit(0);
			waitpid(child, NULL, 0);
		} else if (!strcmp(cmd, "mallocmix")) {
			unsigned slot;
			size_t size;

			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			slot = (seed >> 33) % 1024;
			/* Mostly small, some medium: 16 B .. 4 KiB, one in eight up to 256 KiB. */
			size = 16 + (seed >> 20) % ((seed >> 61) ? 4096 : 256 * 1024);
			if (slots[slot]) {
				free(slots[slot]);
				slots[slot] = NULL;
			} else {
				slots[slot] = malloc(size);
				if (!slots[slot])
					return 1;
				slots[slot][0] = 1;
			}
		} else if (!strcmp(cmd, "denyloop")) {
			void *p = mmap(NULL, 1024 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);

			if (p != MAP_FAILED) {
				printf("denyloop: 1 GiB was not refused\n");
				return 1;
			}
		}
	}
	return 0;
}

static bool is_loop(const char *cmd)
{
	static const char *const loops[] = { "bench",	  "mmaploop", "mprotectloop", "sbrkloop",
					     "touchloop", "forkloop", "mallocmix",    "denyloop",
					     NULL };

	for (int i = 0; loops[i]; i++)
		if (!strcmp(cmd, loops[i]))
			return true;
	return false;
}

/* xchg %bx,%bx: a no-op no compiler emits, which test/vm/icount.c counts between. */
static void marker(void)
{
	__asm__ volatile(".byte 0x66, 0x87, 0xdb" ::: "memory");
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
	return dispatch(argc, argv);
}

static int dispatch(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	unsigned long mib = arg(argv, 2, argc, 1);

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(cmd, "join") && argc > 3) {
		FILE *procs = fopen(argv[2], "w");

		if (!procs || fprintf(procs, "%d\n", getpid()) < 0 || fclose(procs)) {
			printf("join %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		return dispatch(argc - 2, argv + 2);
	}
	if (!strcmp(cmd, "exec") && argc > 2) {
		execv(argv[2], argv + 2);
		printf("exec %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	if (!strcmp(cmd, "vfork") && argc > 2) {
		int status;
		pid_t child = vfork();

		if (child == 0) {
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (child < 0 || waitpid(child, &status, 0) < 0)
			return 2;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
	}
	if (!strcmp(cmd, "forkat")) {
		/* A page unmapped below each piece keeps the pieces apart: one VMA each. */
		for (unsigned long i = 0; i < mib; i++) {
			char *p = mmap(NULL, MIB + 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED || munmap(p, 4096) < 0) {
				printf("mmap: %s\n", strerror(errno));
				return 2;
			}
		}
		return try_fork("") ? 0 : 1;
	}
	if (!strcmp(cmd, "brkonce")) {
		unsigned long step = arg(argv, 3, argc, 64) * 1024;

		for (unsigned long done = 0; done + step <= mib * 1024; done += step)
			if (sbrk(step) == (void *)-1) {
				printf("ENOMEM\n");
				return 1;
			}
		printf("ok\n");
		return 0;
	}
	if (!strcmp(cmd, "shared")) {
		unsigned long made = 0, kib = arg(argv, 3, argc, 4);
		pid_t stale = 0;
		int e = 0;

		if (has_word(argc, argv, 4, "stale") && (stale = stale_shared()) < 0) {
			printf("FAIL stale: the child's shared mmap did not fail with EEXIST\n");
			return 2;
		}
		while (made < mib && !(e = shared_object(made, kib)))
			made++;
		printf("shared %lu", made);
		if (e)
			printf(" %s", e == ENOMEM ? "ENOMEM" : strerror(e));
		if (stale)
			printf(" stale %d", (int)stale);
		if (has_word(argc, argv, 4, "pid"))
			printf(" pid %d", (int)getpid());
		printf("\n");
		if (has_word(argc, argv, 4, "hold"))
			for (;;)
				pause();
		return made == mib ? 0 : 1;
	}
	if (!strcmp(cmd, "procs")) {
		unsigned long forked = 0;

		for (unsigned long i = 0; i < mib; i++) {
			pid_t child = fork();

			if (child == 0)
				for (;;)
					pause();
			if (child > 0)
				forked++;
		}
		printf("forked %lu\n", forked);
		for (;;)
			pause();
	}
	if (!strcmp(cmd, "forked") || !strcmp(cmd, "daemon")) {
		int done[2], status;
		pid_t child;
		char c;

		if (pipe(done) < 0)
			return 2;
		child = fork();
		if (child == 0) {
			if (!strcmp(cmd, "daemon") && fork() != 0)
				_exit(0); /* the grandchild is reparented */
			close(done[0]);
			renamed_steps(mib);
			_exit(0);
		}
		close(done[1]);
		while (read(done[0], &c, 1) > 0) /* EOF: the allocating process is done */
			;
		waitpid(child, &status, 0);
		return 0;
	}
	if (!strcmp(cmd, "settle")) {
		char *p = malloc(mib * MIB);

		if (!p)
			return 1;
		memset(p, 1, mib * MIB);
		if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			return 1;
		printf("holding\n");
		sleep(arg(argv, 3, argc, 600));
		return 0;
	}
	if ((!strcmp(cmd, "commit") || !strcmp(cmd, "brk") || !strcmp(cmd, "mremap")) && argc > 3) {
		size_t step = arg(argv, 2, argc, 64) * 1024, size = 4096;
		struct timespec poll = { .tv_nsec = 200 * 1000 * 1000 };
		char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned long got = 0;

		errno = 0;
		while (map != MAP_FAILED) {
			void *p;

			if (!strcmp(cmd, "brk")) {
				p = malloc(step);
			} else if (!strcmp(cmd, "mremap")) {
				p = mremap(map, size, size + step, MREMAP_MAYMOVE);
				if (p != MAP_FAILED) {
					map = p;
					size += step;
				}
			} else {
				p = mmap(NULL, step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			}
			if (!p || p == MAP_FAILED)
				break;
			got += step / 1024;
			if (got >= 1024 * 1024) {
				printf("%s: 1 GiB committed and nothing refused\n", cmd);
				return 1;
			}
		}
		if (errno != ENOMEM) {
			printf("%s: %s\n", cmd, strerror(errno));
			return 1;
		}
		printf("got %lu KiB, committed %lu KiB\n", got, committed_kib());
		while (access(argv[3], F_OK) < 0)
			nanosleep(&poll, NULL);
		return 0;
	}
	if (!strcmp(cmd, "steps")) {
		printf("got %lu MiB\n", steps(mib, arg(argv, 3, argc, 0)));
		return 0;
	}
	if (!strcmp(cmd, "cycle")) {
		unsigned long times = arg(argv, 3, argc, 1);

		for (unsigned long i = 0; i < times; i++) {
			char *p = malloc(mib * MIB);

			if (!p) {
				printf("failed at round %lu\n", i + 1);
				return 1;
			}
			memset(p, 1, mib * MIB);
			free(p);
		}
		printf("cycled %lu times\n", times);
		return 0;
	}
	if (!strcmp(cmd, "hold") || !strcmp(cmd, "noreserve")) {
		int flags = MAP_PRIVATE | MAP_ANONYMOUS | (!strcmp(cmd, "noreserve") ? MAP_NORESERVE : 0);
		char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, flags, -1, 0);

		if (p == MAP_FAILED) {
			printf("hold failed: %s\n", strerror(errno));
			return 1;
		}
		memset(p, 1, mib * MIB);
		printf("holding %lu MiB\n", mib);
		sleep(arg(argv, 3, argc, 3600));
		return 0;
	}
	if (!strcmp(cmd, "lazy")) {
		unsigned long count = arg(argv, 3, argc, 1);
		char *chunks[64];

		if (count > 64)
			count = 64;
		/* Commit while little is in use; use the memory only afterwards. */
		for (unsigned long i = 0; i < count; i++) {
			chunks[i] = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (chunks[i] == MAP_FAILED) {
				printf("lazy failed: %s\n", strerror(errno));
				return 1;
			}
		}
		for (unsigned long i = 0; i < count; i++)
			memset(chunks[i], 1, mib * MIB);
		printf("holding %lu MiB\n", mib * count);
		if (argc > 4) {
			unsigned long try = arg(argv, 4, argc, 1);
			char *p = mmap(NULL, try * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			return p != MAP_FAILED ? 0 : errno == ENOMEM ? 12 : 1;
		}
		sleep(3600);
		return 0;
	}
	if (!strcmp(cmd, "once")) {
		char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			printf("%s\n", errno == ENOMEM ? "ENOMEM" : strerror(errno));
			return 1;
		}
		printf("ok\n");
		return 0;
	}
	if (!strcmp(cmd, "count")) {
		unsigned long rounds = arg(argv, 3, argc, 0);

		if (argc < 4 || !is_loop(argv[2]) || !rounds) {
			fprintf(stderr, "alloc count: expected a loop (mmaploop, mprotectloop, "
					"sbrkloop, touchloop, forkloop, mallocmix, bench) and a number of rounds\n");
			return 2;
		}

		/* Warm: the first rounds fault in the program's own pages and the heap. */
		if (bench(argv[2], rounds / 4 + 1))
			return 1;
		marker();
		if (bench(argv[2], rounds))
			return 1;
		marker();
		printf("counted %s %lu\n", argv[2], rounds);
		return 0;
	}
	if (is_loop(cmd)) {
		unsigned long rounds = mib;
		struct timespec a, b;
		int ret;

		clock_gettime(CLOCK_MONOTONIC, &a);
		ret = bench(cmd, rounds);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (ret)
			return ret;
		printf("ns_per_round %lu\n",
		       ((b.tv_sec - a.tv_sec) * 1000000000UL + b.tv_nsec - a.tv_nsec) / rounds);
		return 0;
	}
	if (!strcmp(cmd, "threads")) {
		unsigned long n = mib;
		pthread_t tids[64];

		thread_step = arg(argv, 3, argc, 1);
		if (n > 64)
			n = 64;
		for (unsigned long i = 0; i < n; i++)
			pthread_create(&tids[i], NULL, thread_main, NULL);
		for (unsigned long i = 0; i < n; i++)
			pthread_join(tids[i], NULL);
		printf("got %lu MiB\n", thread_total);
		return 0;
	}
	if (!strcmp(cmd, "fork"))
		return try_fork("") ? 0 : 1;
	if (!strcmp(cmd, "forkafter")) {
		char *p;

		try_fork("before: ");
		p = malloc(mib * MIB);
		if (!p) {
			printf("malloc failed\n");
			return 1;
		}
		memset(p, 1, mib * MIB);
		return try_fork("after: ") ? 0 : 1;
	}
	fprintf(stderr, "alloc: unknown command '%s'\n", cmd);
	return 2;
}
