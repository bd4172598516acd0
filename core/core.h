/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What core/'s files share with one another and with no front-end: the pin
 * tree's paths and helpers (pin.c), which the loader (loader.c) uses and
 * never the other way; the names kept beside the registry (registry.c).
 */
#ifndef MG_CORE_H
#define MG_CORE_H

#include <stdint.h>

#include "mg_error.h"

#define BPFFS "/sys/fs/bpf"
#define STAGING_PREFIX BPFFS "/memgate-staging-"
/* links/fork-gate-<cgroup id>: a container's fork gate, in every layout. */
#define FORK_LINK_PREFIX "fork-gate-"

/* pin.c: bpffs mounted (mode=0700 when memgate mounts it). */
int mg_pin_ensure_bpffs(struct mg_error *err);
/* pin.c: remove one of memgate's trees, BPFFS/<name>; -1 with errno. */
int mg_pin_remove_tree(const char *path);
/* pin.c: the staging and dying trees killed hooks left; with the lock held. */
void mg_pin_remove_stale(void);

/* pin.c: open this layout's tree's maps, which must exist (mg_shared_open() loads first). */
struct mg_shared;
int mg_pin_open(struct mg_shared *s, struct mg_error *err);

/* registry.c: the Kubernetes names kept for status, one cgroup's or all. */
void mg_kube_forget(uint64_t cgroup_id);
void mg_kube_forget_all(void);

#endif
