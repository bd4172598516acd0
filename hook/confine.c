// SPDX-License-Identifier: GPL-2.0-only
/*
 * A deny-list, not an allow-list: what the hook must never do is short and
 * stable, while what it legitimately calls is whatever libbpf, libelf and
 * glibc of the day use to load BPF (bpf, mmap, perf_event_open, newfstatat
 * or statx, openat2, rseq...), which changes across their versions and would
 * turn a library upgrade into containers that fail to start.
 */
#include <errno.h>
#include <seccomp.h>

#include "mg_confine.h"

static void release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

int mg_confine(struct mg_error *err)
{
	static const struct {
		int nr;
		const char *name;
	} denied[] = {
		/* Running anything else. */
		{SCMP_SYS(execve), "execve"},
		{SCMP_SYS(execveat), "execveat"},
		/* Talking to anything: no new socket, and syslog's can not be re-aimed. */
		{SCMP_SYS(socket), "socket"},
		{SCMP_SYS(socketpair), "socketpair"},
		{SCMP_SYS(connect), "connect"},
		{SCMP_SYS(bind), "bind"},
		{SCMP_SYS(listen), "listen"},
		{SCMP_SYS(accept), "accept"},
		{SCMP_SYS(accept4), "accept4"},
		{SCMP_SYS(sendmsg), "sendmsg"},
		{SCMP_SYS(sendmmsg), "sendmmsg"},
		/* Other processes' memory and file descriptors. */
		{SCMP_SYS(ptrace), "ptrace"},
		{SCMP_SYS(process_vm_readv), "process_vm_readv"},
		{SCMP_SYS(process_vm_writev), "process_vm_writev"},
		{SCMP_SYS(pidfd_getfd), "pidfd_getfd"},
		/* io_uring opens and connects sockets without a system call seccomp sees. */
		{SCMP_SYS(io_uring_setup), "io_uring_setup"},
	};
	scmp_filter_ctx ctx __attribute__((cleanup(release))) = seccomp_init(SCMP_ACT_ALLOW);
	int ret;

	if (!ctx)
		return mg_fail(err, ENOMEM, "seccomp: cannot create a filter");
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i].nr, 0);
		if (ret < 0)
			return mg_fail_errno(err, -ret, "seccomp: cannot deny %s", denied[i].name);
	}
	/* syslog() sends with no address on its connected socket; an address would re-aim it. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(sendto), 1,
			       SCMP_A4(SCMP_CMP_NE, 0));
	if (ret < 0)
		return mg_fail_errno(err, -ret, "seccomp: cannot deny sendto with an address");
	ret = seccomp_load(ctx);
	if (ret < 0)
		return mg_fail_errno(err, -ret, "seccomp: cannot load the filter");
	return 0;
}
