// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hook's self-confinement, in three layers, all applied before the first
 * byte of a tenant's input is read (and by `memgate validate` before it
 * parses a file):
 *
 *  - capabilities: effective, permitted, inheritable, ambient and bounding
 *    sets cut to what loading memgate needs (MG_CONFINE_CAPS);
 *  - Landlock, where the kernel has it: no file written, created, removed or
 *    renamed outside the pin tree and /run/memgate, no TCP, and from ABI 6 no
 *    signal or abstract socket outside the hook;
 *  - seccomp: a deny-list of what a hook never does.
 *
 * seccomp is a deny-list, not an allow-list: what the hook must never do is
 * short and stable, while what it legitimately calls is whatever libbpf,
 * libelf and glibc of the day use to load BPF (bpf, mmap, perf_event_open,
 * newfstatat or statx, openat2, rseq...), which changes across their versions
 * and would turn a library upgrade into containers that fail to start.  The
 * capabilities and Landlock bound what an allowed call can reach.
 *
 * Everything is one-way, so the whole run is confined as tightly as its
 * tightest need, loading BPF: bpf() stays allowed and CAP_BPF kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "mg_cleanup.h"
#include "mg_confine.h"
#include "mg_shared.h"

/* Newer than some distributions' headers. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#define LL_FS_TRUNCATE (1ULL << 14)	   /* ABI 3 */
#define LL_NET_BIND_TCP (1ULL << 0)	   /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)	   /* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)	   /* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix. */
struct ll_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
	__u64 scoped;
};

static void release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int cap_drop(struct mg_confine_report *rep, struct mg_error *err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	__u64 keep = MG_CONFINE_CAPS, have;
	int cap;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return mg_fail_errno(err, errno, "capabilities: cannot read them");
	have = data[0].permitted | (__u64)data[1].permitted << 32;
	/* The bounding set first: dropping from it needs CAP_SETPCAP, dropped below. */
	for (cap = 0; cap < 64; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (in < 0 && errno == EINVAL) /* past the kernel's last capability */
			break;
		if (in < 0)
			return mg_fail_errno(err, errno,
					     "capabilities: cannot read the bounding set");
		if (!in || keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			/* Without CAP_SETPCAP (not root), no_new_privs keeps the bound. */
			if (errno == EPERM && !(have & (1ULL << CAP_SETPCAP)))
				break;
			return mg_fail_errno(err, errno,
					     "capabilities: cannot drop %d from the bounding set",
					     cap);
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return mg_fail_errno(err, errno, "capabilities: cannot clear the ambient set");
	have &= keep;
	data[0].effective = data[0].permitted = (__u32)have;
	data[1].effective = data[1].permitted = (__u32)(have >> 32);
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return mg_fail_errno(err, errno, "capabilities: cannot drop them");
	rep->caps = true;
	return 0;
}

static int add_path_rule(int ruleset, const char *path, __u64 access, struct mg_error *err)
{
	struct landlock_path_beneath_attr rule = {.allowed_access = access};
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);

	/* A missing tree stays unwritable: whoever needs it fails later, with its own message. */
	if (fd < 0)
		return 0;
	rule.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
		return mg_fail_errno(err, errno, "landlock: cannot allow writes under %s", path);
	return 0;
}

static int landlock(const char *const *writable, struct mg_confine_report *rep,
		    struct mg_error *err)
{
	struct ll_ruleset_attr attr = {};
	_cleanup_close_ int ruleset = -1;
	size_t size = sizeof(attr.handled_access_fs);
	int abi;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		/* Not built in, or not in the kernel's LSM list: nothing to apply. */
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			return 0;
		return mg_fail_errno(err, errno, "landlock: cannot read its ABI version");
	}
	/* Every way to change a file; reading stays free (the hook reads cgroups, /proc, BTF). */
	attr.handled_access_fs = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
				 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
				 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
				 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
				 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM |
				 LANDLOCK_ACCESS_FS_EXECUTE;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return mg_fail_errno(err, errno, "landlock: cannot create a ruleset (ABI %d)", abi);
	for (; writable && *writable; writable++) {
		int ret = add_path_rule(ruleset, *writable,
					attr.handled_access_fs & ~LANDLOCK_ACCESS_FS_EXECUTE, err);

		if (ret < 0)
			return ret;
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return mg_fail_errno(err, errno, "landlock: cannot restrict the hook");
	rep->landlock_abi = abi;
	return 0;
}

/* What a hook never does; unknown to this libseccomp or kernel: skipped. */
static const char *const denied[] = {
	/* Running anything else. */
	"execve",
	"execveat",
	/* Talking to anything: no new socket, and syslog's can not be re-aimed. */
	"socket",
	"socketpair",
	"connect",
	"bind",
	"listen",
	"accept",
	"accept4",
	"sendmsg",
	"sendmmsg",
	/* Other processes: their memory, file descriptors and signals. */
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"process_madvise",
	"pidfd_getfd",
	"pidfd_send_signal",
	"tkill",
	"kcmp",
	/* io_uring opens and connects sockets without a system call seccomp sees. */
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	/* Mounts and namespaces. */
	"mount",
	"umount2",
	"move_mount",
	"open_tree",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	"pivot_root",
	"chroot",
	"setns",
	"unshare",
	"clone3",
	/* The kernel itself: modules, kexec, reboot, swap, time, names, ports, keys, log. */
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"swapon",
	"swapoff",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"sethostname",
	"setdomainname",
	"iopl",
	"ioperm",
	"keyctl",
	"add_key",
	"request_key",
	"syslog",
	"acct",
	"quotactl",
	"quotactl_fd",
	"vhangup",
	"uselib",
	"userfaultfd",
	"fanotify_init",
	"lookup_dcookie",
	"nfsservctl",
	"perfctr",
	"vm86",
	"vm86old",
	/* Files: what Landlock does not cover on every kernel (mode, owner, times, xattrs,
	   truncate). */
	"chmod",
	"fchmod",
	"fchmodat",
	"fchmodat2",
	"chown",
	"fchown",
	"lchown",
	"fchownat",
	"truncate",
	"mknod",
	"mknodat",
	"utime",
	"utimes",
	"futimesat",
	"utimensat",
	"setxattr",
	"lsetxattr",
	"fsetxattr",
	"removexattr",
	"lremovexattr",
	"fremovexattr",
	"setxattrat",
	"removexattrat",
	"link",
	"linkat",
	"symlink",
	"symlinkat",
	/* Identities. */
	"setuid",
	"setgid",
	"setreuid",
	"setregid",
	"setresuid",
	"setresgid",
	"setfsuid",
	"setfsgid",
	"setgroups",
};

static int seccomp_filter(struct mg_confine_report *rep, struct mg_error *err)
{
	static const unsigned long clone_new[] = {
		CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
		CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
	};
	scmp_filter_ctx ctx __attribute__((cleanup(release))) = seccomp_init(SCMP_ACT_ALLOW);
	pid_t self = getpid();
	int ret, nr;

	if (!ctx)
		return mg_fail(err, ENOMEM, "seccomp: cannot create a filter");
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		/* clone3: ENOSYS, so that glibc falls back to clone, whose flags are seen below. */
		ret = seccomp_rule_add(
			ctx, SCMP_ACT_ERRNO(strcmp(denied[i], "clone3") ? EPERM : ENOSYS), nr, 0);
		if (ret < 0 && ret != -EOPNOTSUPP && ret != -EDOM)
			return mg_fail_errno(err, -ret, "seccomp: cannot deny %s", denied[i]);
	}
	/* syslog() sends with no address on its connected socket; an address would re-aim it. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(sendto), 1,
			       SCMP_A4(SCMP_CMP_NE, 0));
	/* No new namespace. */
	for (size_t i = 0; ret >= 0 && i < sizeof(clone_new) / sizeof(clone_new[0]); i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, clone_new[i], clone_new[i]));
	/* Signals to itself only (abort() and raise() still work). */
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
				       SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self));
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tgkill), 1,
				       SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self));
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(rt_sigqueueinfo), 1,
				       SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self));
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(rt_tgsigqueueinfo), 1,
				       SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self));
	/* No keystrokes pushed into the terminal the runtime gave the hook. */
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, TIOCSTI));
	if (ret >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, TIOCLINUX));
	if (ret < 0)
		return mg_fail_errno(err, -ret, "seccomp: cannot add the argument rules");
	ret = seccomp_load(ctx);
	if (ret < 0)
		return mg_fail_errno(err, -ret, "seccomp: cannot load the filter");
	rep->seccomp = true;
	return 0;
}

int mg_confine(const char *const *writable, struct mg_confine_report *rep, struct mg_error *err)
{
	struct mg_confine_report ignored;
	struct mg_error e;
	int first = 0, ret;

	if (!rep)
		rep = &ignored;
	*rep = (struct mg_confine_report){};
	/* Each layer on its own: one that fails leaves the others, and the message says which. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		first = mg_fail_errno(err, errno, "no_new_privs: cannot set it");
	ret = landlock(writable, rep, first ? &e : err);
	first = first ?: ret;
	ret = cap_drop(rep, first ? &e : err);
	first = first ?: ret;
	ret = seccomp_filter(rep, first ? &e : err);
	return first ?: ret;
}

const char *const mg_confine_writable[] = {MG_BPFFS, MG_LOCK_DIR, NULL};

int mg_confine_hook(struct mg_confine_report *rep, struct mg_error *err)
{
	struct statfs fs;

	/*
	 * What needs a mount or a new directory outside the writable trees comes
	 * first, since confined the hook can do neither, and Landlock's rules
	 * hold the trees that exist when they are made: a bpffs mounted later
	 * would not be writable.  Failures are left to the step that needs them.
	 */
	if (statfs(MG_BPFFS, &fs) < 0 || fs.f_type != BPF_FS_MAGIC)
		mount("bpf", MG_BPFFS, "bpf", 0, "mode=0700");
	mkdir(MG_LOCK_DIR, 0700);
	return mg_confine(mg_confine_writable, rep, err);
}
