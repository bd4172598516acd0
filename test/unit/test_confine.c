// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hook's confinement, in a child so the test runner stays free: what it
 * must deny fails, what the hook needs still works.
 */
#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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

static int child_checks(int report, int early_sock, const char *allowed, const char *other)
{
	char *const argv[] = {"/bin/true", NULL};
	struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/tmp/x"};
	const char *const writable[] = {allowed, NULL};
	char tmp[256], path[4096], buf[8] = "x";
	struct iovec local = {buf, 1}, remote = {buf, 1};
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct caps[2];
	struct mg_confine_report rep;
	struct mg_error err = {0};
	int bad = 0, fd, abi;
	char buf2[4200];

#define CHECK(what, ok)                                                                            \
	do {                                                                                       \
		if (!(ok)) {                                                                       \
			dprintf(report, "# %s: errno %d\n", what, errno);                          \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (mg_confine(writable, &rep, &err) < 0) {
		dprintf(report, "# mg_confine: %s\n", err.msg);
		return 100;
	}
	dprintf(report, "# landlock ABI %d (kernel: %d), caps %d, seccomp %d\n", rep.landlock_abi, abi,
		rep.caps, rep.seccomp);
	CHECK("seccomp applied", rep.seccomp);
	CHECK("capabilities dropped", rep.caps);
	CHECK("landlock applied where the kernel has it", abi <= 0 || rep.landlock_abi == abi);
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

	CHECK("mount", !denied(mount("none", allowed, "tmpfs", 0, NULL)));
	CHECK("umount2", !denied(umount2("/", MNT_DETACH)));
	CHECK("init_module", !denied(syscall(SYS_init_module, buf, 1, "")));
	CHECK("finit_module", !denied(syscall(SYS_finit_module, 0, "", 0)));
	CHECK("delete_module", !denied(syscall(SYS_delete_module, "loop", 0)));
	CHECK("kexec_load", !denied(syscall(SYS_kexec_load, 0, 0, NULL, 0)));
	CHECK("kexec_file_load", !denied(syscall(SYS_kexec_file_load, 0, 0, 0, "", 0)));
	CHECK("unshare", !denied(unshare(CLONE_NEWUSER)));
	CHECK("setns", !denied(setns(0, 0)));
	CHECK("chmod", !denied(chmod(allowed, 0777)));
	CHECK("truncate", !denied(truncate(other, 0)));
	CHECK("setuid", !denied(setuid(1)));
	CHECK("kill another process", !denied(kill(getppid(), 0)));
	CHECK("reboot", !denied(syscall(SYS_reboot, 0, 0, 0, NULL)));
	/* Another process's memory through /proc, whatever layer refuses it. */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)getppid());
	CHECK("open /proc/PPID/mem for writing", open(path, O_RDWR) < 0);
	CHECK("capabilities: only MG_CONFINE_CAPS left",
	      syscall(SYS_capget, &hdr, caps) == 0 &&
		      !((caps[0].permitted | (uint64_t)caps[1].permitted << 32) & ~MG_CONFINE_CAPS) &&
		      !((caps[0].effective | (uint64_t)caps[1].effective << 32) & ~MG_CONFINE_CAPS) &&
		      !caps[0].inheritable && !caps[1].inheritable);
	CHECK("CAP_SYS_MODULE out of the bounding set",
	      getuid() != 0 || prctl(PR_CAPBSET_READ, CAP_SYS_MODULE, 0, 0, 0) == 0);
	/* Landlock: no file written outside the allowed tree. */
	snprintf(path, sizeof(path), "%s/file", other);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK("create a file outside the allowed tree", abi <= 0 || (fd < 0 && errno == EACCES));
	if (fd >= 0)
		close(fd);
	CHECK("mkdir outside the allowed tree",
	      abi <= 0 || (mkdir(path, 0700) < 0 && errno == EACCES));

	/* What the hook does need. */
	CHECK("send on a socket opened before", send(early_sock, buf, 1, 0) == 1);
	snprintf(tmp, sizeof(tmp), "%s/sub-XXXXXX", allowed);
	CHECK("mkdtemp in the allowed tree", mkdtemp(tmp) != NULL);
	snprintf(path, sizeof(path), "%s/file", tmp);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK("create a file in the allowed tree", fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	CHECK("rename in the allowed tree", rename(path, strcat(strcpy(buf2, tmp), "/moved")) == 0);
	CHECK("unlink in the allowed tree", unlink(buf2) == 0);
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
	char allowed[] = "/tmp/memgate-confine-XXXXXX", other[] = "/tmp/memgate-other-XXXXXX";
	int sv[2], out[2], status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	/* A connected datagram pair stands for syslog's socket, opened before confinement. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(pipe(out), 0);
	assert_non_null(mkdtemp(allowed));
	assert_non_null(mkdtemp(other));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		/* _exit: no atexit handlers (LeakSanitizer would need ptrace). */
		_exit(child_checks(out[1], sv[0], allowed, other));
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
	/* The child's mkdtemp'd directory, and nothing was made in the other. */
	snprintf(buf, sizeof(buf), "rm -rf '%s'", allowed);
	assert_int_equal(system(buf), 0);
	assert_int_equal(rmdir(other), 0);
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
