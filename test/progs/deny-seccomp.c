// SPDX-License-Identifier: GPL-2.0-only
/*
 * deny-seccomp COMMAND [ARG]...: run COMMAND where seccomp() and prctl()
 * fail with EPERM, as under a runtime whose own filter forbids them, so a
 * test can see what the hook does when it can not confine itself.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (argc < 2 || !ctx ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(seccomp), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prctl), 0) < 0 ||
	    seccomp_load(ctx) < 0) {
		fprintf(stderr, "usage: deny-seccomp COMMAND [ARG]... (as root)\n");
		return 2;
	}
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
