/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hook's self-confinement.  The hook runs as root on every container
 * start and parses input that whoever creates a pod controls; it never needs
 * to exec, open a socket, mount, load a module, touch another process or
 * write outside memgate's own trees, so once confined a bug in it can not be
 * turned into any of those.  RELIABILITY.md lists what holds on which kernel.
 */
#ifndef MG_CONFINE_H
#define MG_CONFINE_H

#include <stdbool.h>

#include "mg_error.h"

#define MG_BPFFS "/sys/fs/bpf"

/*
 * The capabilities kept, found by tracing a real load on 6.1 and 7.3:
 * CAP_BPF and CAP_PERFMON to load and attach tracing, LSM and lsm_cgroup
 * programs; CAP_SYSLOG for the addresses in /proc/kallsyms, which libbpf
 * reads to resolve a __ksym (perf_event_paranoid above 1 hides them);
 * CAP_SYS_ADMIN for BPF_BTF_GET_NEXT_ID, with which libbpf 1.1 looks for
 * the weak memcg kfuncs in module BTF on kernels without them (6.1, 6.12);
 * CAP_DAC_READ_SEARCH for open_by_handle_at() (a cgroup by its id).
 */
#define MG_CAP_BIT(cap) (1ULL << (cap))
#define MG_CONFINE_CAPS                                                                            \
	(MG_CAP_BIT(39) /* CAP_BPF */ | MG_CAP_BIT(38) /* CAP_PERFMON */ |                       \
	 MG_CAP_BIT(34) /* CAP_SYSLOG */ | MG_CAP_BIT(21) /* CAP_SYS_ADMIN */ |                  \
	 MG_CAP_BIT(2) /* CAP_DAC_READ_SEARCH */)

struct mg_confine_report {
	bool caps;	  /* capability sets cut to MG_CONFINE_CAPS */
	int landlock_abi; /* 0: no Landlock applied */
	bool seccomp;	  /* the filter is loaded */
};

/* The trees the hook writes: the pin tree and its lock's directory. */
extern const char *const mg_confine_writable[];

/*
 * From now on, in this process and its children: no_new_privs; capabilities
 * cut to MG_CONFINE_CAPS; with Landlock, no file changed outside the
 * directories in writable (NULL-terminated), no TCP, and from Landlock ABI 6
 * no signal or abstract unix socket outside; seccomp denies exec, new
 * sockets, ptrace and other processes' memory, mounts and namespaces, module
 * loading, kexec and the rest of confine.c's list.  A socket opened before
 * (syslog's) keeps working.  Every layer is tried; the first failure is
 * returned, and rep says what holds.  No Landlock in the kernel is no failure.
 */
int mg_confine(const char *const *writable, struct mg_confine_report *rep, struct mg_error *err);

/*
 * The hook's confinement: mount bpffs and create /run/memgate when missing
 * (confined, it could not), then mg_confine(mg_confine_writable, ...).
 */
int mg_confine_hook(struct mg_confine_report *rep, struct mg_error *err);

#endif
