/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The enforcement object's programs (core/loader.c): one table of variants
 * from which loading, attaching, unpinning and `memgate probe` read.
 * Opening and loading the pin tree is mg_shared_open() (mg_shared.h).
 */
#ifndef MG_LOADER_H
#define MG_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#define MG_VARIANT_CGROUP 1 /* pinned as progs/<link>, attached per container */
/* `memgate probe` tries the row's attach point: of its plain variant, of its lsm/ one. */
#define MG_VARIANT_PROBE 2     /* prog[0][0] */
#define MG_VARIANT_PROBE_LSM 4 /* prog[0][1] */

struct mg_variants {
	const char *link;	   /* links/<link> (progs/<link> for MG_VARIANT_CGROUP) */
	const char *prog[2][2];	   /* program names, [memcg kfuncs][lsm/]; NULL: none */
	unsigned int flags;
};

extern const struct mg_variants mg_variants[];
extern const size_t mg_variants_count;

/*
 * The program of row that loads where the memcg kfuncs are (kfuncs), the
 * lsm_cgroup program loads (lsm_cgroup) and the BPF LSM is active (lsm);
 * NULL where the row has none.
 */
const char *mg_variant_chosen(const struct mg_variants *row, bool kfuncs, bool lsm_cgroup,
			      bool lsm);

/*
 * Autoload in obj the chosen variant of each row and no other program;
 * -ENOENT when obj has a program no row names (add its row).
 */
struct bpf_object;
int mg_variants_choose(struct bpf_object *obj, bool kfuncs, bool lsm_cgroup, bool lsm);

/*
 * The attach points `memgate probe` tries, in the table's order: the
 * section ("type/target", as its SEC() says) of each cell a row marks
 * MG_VARIANT_PROBE or MG_VARIANT_PROBE_LSM.  Opens the enforcement object,
 * loads nothing.  Their number, or -ENOENT (a marked cell names no
 * program), -E2BIG (more than max), -errno (the object does not open).
 */
#define MG_SECTION_LEN 64
int mg_variants_probed(char (*sections)[MG_SECTION_LEN], size_t max);

#endif
