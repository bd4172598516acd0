/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monitor object (bpf/monitor.bpf.c): loaded wherever tp_btf programs
 * load, it owns the shared maps; the variant of each program is chosen from
 * the running kernel's BTF.
 */
#ifndef MG_MONITOR_H
#define MG_MONITOR_H

#include <stddef.h>

struct monitor_bpf;
struct bpf_program;

#define MG_MONITOR_PROGS 5

struct mg_monitor_prog {
	struct bpf_program *prog;
	const char *name; /* its link's name under MG_PIN_DIR/links */
};

/* Open, choose the variants this kernel's tracepoints need, load; NULL with -errno in *load_err. */
struct monitor_bpf *mg_monitor_load(int *load_err);

/* The programs that loaded, with their link names; returns how many. */
size_t mg_monitor_progs(struct monitor_bpf *skel, struct mg_monitor_prog out[MG_MONITOR_PROGS]);

void mg_monitor_destroy(struct monitor_bpf *skel);

#endif
