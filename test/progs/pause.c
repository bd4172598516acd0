// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pod sandbox's process in the test pause image (test/cri): as
 * Kubernetes' pause, it holds the pod's namespaces, reaps the orphans it
 * inherits as PID 1, and exits on SIGINT or SIGTERM.  Static, so the image
 * needs nothing else.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig)
{
	_exit(0);
}

static void reap(int sig)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction stop = { .sa_handler = quit }, child = { .sa_handler = reap };

	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGCHLD, &child, NULL);
	for (;;)
		pause();
}
