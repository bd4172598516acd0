// SPDX-License-Identifier: GPL-2.0-only
/*
 * confined: run the hook's own confinement (mg_confine_hook(), what
 * memgate-hook's main() runs before it reads its input), then try what a
 * hijacked hook would: write another process's memory through /proc/PID/mem,
 * write to /etc, mount, load a module, kexec, ptrace.  And what the hook needs:
 * bpf(), writes under /sys/fs/bpf and /run/memgate.  One line per check,
 * "ok NAME" or "FAIL NAME: why"; exits with the number of failures.
 *
 *   confined ETC_FILE   (ETC_FILE: an existing file under /etc to try to overwrite)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "mg_confine.h"

static int failures;

static void check(const char *name, int ok, int code)
{
	if (ok)
		printf("ok %s\n", name);
	else
		printf("FAIL %s: %s\n", name, code ? strerror(code) : "it worked");
	if (!ok)
		failures++;
}

/* A call that must fail: ok when it returned -1. */
#define REFUSED(name, call) check(name, (call) < 0, 0)
/* A call that must work. */
#define WORKS(name, call) check(name, (call) >= 0, errno)

int main(int argc, char **argv)
{
	struct mg_confine_report rep;
	struct mg_error err = {};
	static volatile char secret[64] = "untouched";
	char path[64], line[256];
	unsigned long addr = (unsigned long)secret;
	union bpf_attr attr = {};
	int pipefd[2], fd;
	pid_t victim;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: confined ETC_FILE\n");
		return 100;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/*
	 * The victim: a child forked before confinement, so outside Landlock's
	 * domain, with no capability at all, so the capability check alone would
	 * let a parent with some write its memory.  It reports its secret at exit.
	 */
	if (pipe(pipefd) < 0)
		return 100;
	victim = fork();
	if (victim == 0) {
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct none[2] = {};
		char c;

		close(pipefd[1]);
		syscall(SYS_capset, &hdr, none);
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		read(pipefd[0], &c, 1); /* until the parent is done */
		_exit(strcmp((const char *)secret, "untouched") ? 1 : 0);
	}
	close(pipefd[0]);

	if (mg_confine_hook(&rep, &err) < 0) {
		printf("FAIL confinement: %s\n", err.msg);
		failures++;
	}
	printf("# landlock ABI %d, capabilities %s, seccomp %s\n", rep.landlock_abi,
	       rep.caps ? "dropped" : "kept", rep.seccomp ? "loaded" : "not loaded");
	check("landlock applied", rep.landlock_abi > 0, 0);

	/* Another process's memory. */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)victim);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		check("write another process's memory through /proc/PID/mem",
		      pwrite(fd, "OVERWRITTEN", 12, (off_t)addr) < 0, 0);
		close(fd);
	} else {
		check("open /proc/PID/mem of another process for writing", 1, 0);
	}
	REFUSED("process_vm_writev", syscall(SYS_process_vm_writev, victim, NULL, 0, NULL, 0, 0));
	REFUSED("ptrace attach", ptrace(PTRACE_ATTACH, victim, NULL, NULL));

	/* Files outside memgate's trees. */
	fd = open(argv[1], O_WRONLY | O_TRUNC | O_CLOEXEC);
	check("overwrite a file in /etc", fd < 0, 0);
	if (fd >= 0)
		close(fd);
	fd = open("/etc/memgate-confined-new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	check("create a file in /etc", fd < 0, 0);
	if (fd >= 0)
		close(fd);
	REFUSED("rename in /etc", rename(argv[1], "/etc/memgate-confined-renamed"));
	REFUSED("chmod in /etc", chmod(argv[1], 0666));
	REFUSED("truncate in /etc", truncate(argv[1], 0));

	/* The kernel. */
	REFUSED("mount", mount("none", "/mnt", "tmpfs", 0, NULL));
	REFUSED("mount bpffs again", mount("bpf", "/mnt", "bpf", 0, NULL));
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	REFUSED("finit_module", syscall(SYS_finit_module, fd, "", 0));
	close(fd);
	REFUSED("init_module", syscall(SYS_init_module, line, sizeof(line), ""));
	REFUSED("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	REFUSED("unshare a user namespace", syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */));
	REFUSED("execve", execl("/bin/true", "true", (char *)NULL));
	REFUSED("kill another process", kill(getppid(), 0));

	/* What the hook needs. */
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 8;
	attr.max_entries = 1;
	fd = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	WORKS("bpf() creates a map", fd);
	if (fd >= 0) {
		union bpf_attr pin = {.pathname = (unsigned long)MG_BPFFS "/mg-confined-test",
				      .bpf_fd = fd};

		WORKS("pin it in bpffs", syscall(SYS_bpf, BPF_OBJ_PIN, &pin, sizeof(pin)));
		WORKS("unpin it", unlink(MG_BPFFS "/mg-confined-test"));
		close(fd);
	}
	WORKS("mkdir in bpffs", mkdir(MG_BPFFS "/mg-confined-dir", 0700));
	WORKS("rmdir in bpffs", rmdir(MG_BPFFS "/mg-confined-dir"));
	fd = open("/run/memgate/confined-test", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	WORKS("create a file in /run/memgate", fd);
	if (fd >= 0)
		close(fd);
	WORKS("remove it", unlink("/run/memgate/confined-test"));
	f = fopen("/proc/self/cgroup", "r");
	WORKS("read /proc/self/cgroup", f ? 0 : -1);
	if (f)
		fclose(f);

	/* The victim's memory is as it was. */
	{
		int status = -1;

		close(pipefd[1]);
		waitpid(victim, &status, 0);
		check("the victim's memory is untouched",
		      WIFEXITED(status) && WEXITSTATUS(status) == 0, 0);
	}
	return failures;
}
