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

#endif
