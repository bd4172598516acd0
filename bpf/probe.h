/* SPDX-License-Identifier: GPL-2.0-only */
/* The mechanisms `memgate probe` tries, shared with probe.bpf.c. */
#ifndef MG_PROBE_BPF_H
#define MG_PROBE_BPF_H

enum mg_probe {
	MG_PROBE_FMOD_RET,
	MG_PROBE_FENTRY,
	MG_PROBE_LSM_CGROUP,
	MG_PROBE_LSM,
	MG_PROBE_TP_BTF,
	MG_PROBE_TRACEPOINT,
	MG_PROBE_COUNT,
};

/* The hooks MG_PROBE_LSM attaches to, all three: it fires when each does. */
enum mg_probe_lsm_hook {
	MG_PROBE_LSM_TASK_ALLOC,
	MG_PROBE_LSM_MMAP_FILE,
	MG_PROBE_LSM_FILE_MPROTECT,
	MG_PROBE_LSM_HOOKS,
};

#endif
