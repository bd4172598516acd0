/* SPDX-License-Identifier: GPL-2.0-only */
/* The mechanisms `memgate probe` tries, shared with probe.bpf.c. */
#ifndef MG_PROBE_BPF_H
#define MG_PROBE_BPF_H

/* Each is an attach type; its name (core/probe.c) is the type's SEC() prefix. */
enum mg_probe {
	MG_PROBE_FMOD_RET,
	MG_PROBE_FENTRY,
	MG_PROBE_LSM_CGROUP,
	MG_PROBE_LSM,
	MG_PROBE_TP_BTF,
	MG_PROBE_TRACEPOINT,
	MG_PROBE_COUNT,
};

/*
 * The attach points one mechanism tries at once (lsm: task_alloc,
 * mmap_file, file_mprotect), each with a program of its own.
 */
#define MG_PROBE_TARGETS 4

#endif
