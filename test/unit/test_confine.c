// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hook's seccomp filter, in a child so the test runner stays free:
 * what it must deny fails with EPERM, what the hook needs still works.
 */
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "mg_confine.h"

/* Each check: 0 when the call behaved as confinement requires. */
static int denied(long ret)
{
	return ret == -1 && errno == EPERM ? 0 : 1;
}

static int child_checks(int report, int early_sock)
{
	char *const argv[] = {"/bin/true", NULL};
	struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/tmp/x"};
	char tmp[] = "/tmp/memgate-confine-XXXXXX", buf[8] = "x";
	struct iovec local = {buf, 1}, remote = {buf, 1};
	struct mg_error err = {0};
	int bad = 0, fd;

#define CHECK(what, ok)                                                                            \
	do {                                                                                       \
		if (!(ok)) {                                                                       \
			dprintf(report, "# %s: errno %d\n", what, errno);                          \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)

	if (mg_confine(&err) < 0) {
		dprintf(report, "# mg_confine: %s\n", err.msg);
		return 100;
	}
	CHECK("execve", !denied(execve(argv[0], argv, NULL)));
	CHECK("execveat", !denied(syscall(SYS_execveat, AT_FDCWD, argv[0], argv, NULL, 0)));
	CHECK("socket", !denied(socket(AF_UNIX, SOCK_DGRAM, 0)));
	CHECK("socket AF_INET", !denied(socket(AF_INET, SOCK_STREAM, 0)));
	{
		int sv[2];

		CHECK("socketpair", !denied(socketpair(AF_UNIX, SOCK_STREAM, 0, sv)));
	}
	CHECK("connect", !denied(connect(early_sock, (struct sockaddr *)&addr, sizeof(addr))));
	CHECK("sendto with an address",
	      !denied(sendto(early_sock, buf, 1, 0, (struct sockaddr *)&addr, sizeof(addr))));
	CHECK("ptrace", !denied(ptrace(PTRACE_TRACEME, 0, NULL, NULL)));
	CHECK("process_vm_readv",
	      !denied(syscall(SYS_process_vm_readv, getppid(), &local, 1, &remote, 1, 0)));
	CHECK("process_vm_writev",
	      !denied(syscall(SYS_process_vm_writev, getppid(), &local, 1, &remote, 1, 0)));
	CHECK("pidfd_getfd", !denied(syscall(SYS_pidfd_getfd, 0, 0, 0)));
	CHECK("io_uring_setup", !denied(syscall(SYS_io_uring_setup, 1, buf)));

	/* What the hook does need. */
	CHECK("send on a socket opened before", send(early_sock, buf, 1, 0) == 1);
	CHECK("mkdtemp", mkdtemp(tmp) != NULL);
	fd = open(tmp, O_RDONLY | O_DIRECTORY);
	CHECK("open", fd >= 0);
	close(fd);
	CHECK("rmdir", rmdir(tmp) == 0);
	/* bpf() is not filtered: a bad command fails with EINVAL, not EPERM. */
	CHECK("bpf not denied", syscall(SYS_bpf, -1, NULL, 0) == -1 && errno != EPERM);
	CHECK("getpid", getpid() > 0);
	return bad;
#undef CHECK
}

static void test_confine(void **state)
{
	int sv[2], out[2], status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	/* A connected datagram pair stands for syslog's socket, opened before confinement. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		/* _exit: no atexit handlers (LeakSanitizer would need ptrace). */
		_exit(child_checks(out[1], sv[0]));
	}
	close(out[1]);
	while ((n = read(out[0], buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		print_message("%s", buf);
	}
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The datagram the child sent arrived. */
	assert_int_equal(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 1);
	close(sv[0]);
	close(sv[1]);
}

static void test_unconfined_parent(void **state)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	/* The filter stayed in the child: this process can still open a socket. */
	assert_true(fd >= 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confine),
		cmocka_unit_test(test_unconfined_parent),
	};

	return cmocka_run_group_tests_name("confine", tests, NULL, NULL);
}
