// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's table of program variants (core/loader.c): it names every
 * program of the enforcement object, and for each kernel it picks the
 * programs the matrix written out by hand before it picked; and `memgate
 * probe` tries what it loads.  Opens the skeletons, loads nothing.
 */
#include <bpf/libbpf.h>

#include "unit.h"
#include "mg_loader.h"
#include "memgate.skel.h"
#include "probe.skel.h"

/* The loader's choice as it was written before the table: the oracle. */
static void old_choice(struct memgate_bpf *skel, bool memcg_kfuncs, bool with_lsm_cgroup,
		       bool lsm_deciders)
{
	/* Each decider in its variants: [memcg kfuncs][lsm/], NULL where there is none. */
	struct bpf_program *deciders[][2][2] = {
		{ { skel ? skel->progs.mg_vm_enough : NULL, NULL },
		  { skel ? skel->progs.mg_vm_enough_kfunc : NULL, NULL } },
		{ { skel ? skel->progs.mg_mmap_file : NULL, skel ? skel->progs.mg_mmap_file_lsm : NULL },
		  { skel ? skel->progs.mg_mmap_file_kfunc : NULL,
		    skel ? skel->progs.mg_mmap_file_lsm_kfunc : NULL } },
		{ { skel ? skel->progs.mg_mprotect : NULL, skel ? skel->progs.mg_mprotect_lsm : NULL },
		  { skel ? skel->progs.mg_mprotect_kfunc : NULL,
		    skel ? skel->progs.mg_mprotect_lsm_kfunc : NULL } },
		{ { skel ? skel->progs.mg_mmap_addr : NULL, skel ? skel->progs.mg_mmap_addr_lsm : NULL },
		  { skel ? skel->progs.mg_mmap_addr_kfunc : NULL,
		    skel ? skel->progs.mg_mmap_addr_lsm_kfunc : NULL } },
		{ { skel ? skel->progs.mg_shm_alloc : NULL, skel ? skel->progs.mg_shm_alloc_lsm : NULL },
		  { skel ? skel->progs.mg_shm_alloc_kfunc : NULL,
		    skel ? skel->progs.mg_shm_alloc_lsm_kfunc : NULL } },
		/* fork: lsm/ only, else mg_vm_enough decides copy_mm's charges. */
		{ { NULL, skel ? skel->progs.mg_fork_lsm : NULL },
		  { NULL, skel ? skel->progs.mg_fork_lsm_kfunc : NULL } },
	};

	/* One variant of each decider: the memcg measure and the hook type differ. */
	for (size_t i = 0; i < sizeof(deciders) / sizeof(deciders[0]); i++)
		for (int k = 0; k < 2; k++)
			for (int l = 0; l < 2; l++)
				if (deciders[i][k][l])
					bpf_program__set_autoload(
						deciders[i][k][l],
						k == memcg_kfuncs &&
							l == (lsm_deciders && deciders[i][k][1]));
	/* Shared memory's inode life: lsm/ where the BPF LSM is active, never skipped. */
	bpf_program__set_autoload(skel->progs.mg_inode_alloc, !lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_inode_alloc_lsm, lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_inode_free, !lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_inode_free_lsm, lsm_deciders);
	bpf_program__set_autoload(skel->progs.mg_task_alloc, with_lsm_cgroup && !memcg_kfuncs);
	bpf_program__set_autoload(skel->progs.mg_task_alloc_kfunc, with_lsm_cgroup && memcg_kfuncs);
}

/* The autoload flag of every program, as one string of 0s and 1s. */
static void flags_of(struct memgate_bpf *skel, char *out, size_t size)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, skel->obj)
		if (n + 1 < size)
			out[n++] = bpf_program__autoload(prog) ? '1' : '0';
	out[n] = '\0';
}

static void table_picks_what_the_matrix_picked(void **state)
{
	for (int combo = 0; combo < 8; combo++) {
		bool kfuncs = combo & 1, lsm_cgroup = combo & 2, lsm = combo & 4;
		struct memgate_bpf *a = memgate_bpf__open(), *b = memgate_bpf__open();
		char want[64], got[64];

		assert_non_null(a);
		assert_non_null(b);
		old_choice(a, kfuncs, lsm_cgroup, lsm);
		assert_int_equal(mg_variants_choose(b->obj, kfuncs, lsm_cgroup, lsm), 0);
		flags_of(a, want, sizeof(want));
		flags_of(b, got, sizeof(got));
		if (strcmp(want, got))
			failf("kfuncs %d lsm_cgroup %d lsm %d: autoload %s, the matrix gave %s", kfuncs,
			      lsm_cgroup, lsm, got, want);
		memgate_bpf__destroy(a);
		memgate_bpf__destroy(b);
	}
}

/* Each program of the object is in a row (else the load is refused: add the row). */
static void every_program_has_a_row(void **state)
{
	struct memgate_bpf *skel = memgate_bpf__open();
	struct bpf_program *p;

	assert_non_null(skel);
	bpf_object__for_each_program(p, skel->obj) {
		bool listed = false;

		for (size_t i = 0; i < mg_variants_count; i++)
			for (int k = 0; k < 4; k++)
				listed |= mg_variants[i].prog[k / 2][k % 2] &&
					  !strcmp(mg_variants[i].prog[k / 2][k % 2], bpf_program__name(p));
		if (!listed)
			failf("%s is in no row of mg_variants (core/loader.c): add its row",
			      bpf_program__name(p));
	}
	memgate_bpf__destroy(skel);
}

/* Each row: one program or none per kernel, and only fork_commit may have none. */
static void each_row_one_program(void **state)
{
	for (size_t i = 0; i < mg_variants_count; i++)
		for (int combo = 0; combo < 8; combo++) {
			bool kfuncs = combo & 1, lsm_cgroup = combo & 2, lsm = combo & 4;
			const char *p = mg_variant_chosen(&mg_variants[i], kfuncs, lsm_cgroup, lsm);
			bool may_lack = !strcmp(mg_variants[i].link, "fork_commit") ? !lsm :
					!strcmp(mg_variants[i].link, "task_alloc") ? !lsm_cgroup : false;

			if (!p != may_lack)
				failf("row %s: %s with kfuncs %d lsm_cgroup %d lsm %d", mg_variants[i].link,
				      p ? p : "nothing", kfuncs, lsm_cgroup, lsm);
		}
}

/*
 * `memgate probe` tries what the loader loads: each probe program's section
 * (fentry/security_inode_alloc, lsm/mmap_file, ...) is the section of a
 * program in the table.  The tracepoint probe is tracefs's, none of memgate's.
 */
static void probe_tries_what_the_table_loads(void **state)
{
	struct memgate_bpf *mg = memgate_bpf__open();
	struct probe_bpf *probe = probe_bpf__open();
	struct bpf_program *p;

	assert_non_null(mg);
	assert_non_null(probe);
	bpf_object__for_each_program(p, probe->obj) {
		const char *want = bpf_program__section_name(p);
		bool found = false;

		if (!strcmp(bpf_program__name(p), "probe_tracepoint"))
			continue;
		for (size_t i = 0; i < mg_variants_count && !found; i++)
			for (int k = 0; k < 4 && !found; k++) {
				const char *name = mg_variants[i].prog[k / 2][k % 2];
				struct bpf_program *q =
					name ? bpf_object__find_program_by_name(mg->obj, name) : NULL;

				found = q && !strcmp(bpf_program__section_name(q), want);
			}
		if (!found)
			failf("%s probes %s, which no program of the loader's table is", bpf_program__name(p),
			      want);
	}
	probe_bpf__destroy(probe);
	memgate_bpf__destroy(mg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_program_has_a_row),
		cmocka_unit_test(table_picks_what_the_matrix_picked),
		cmocka_unit_test(each_row_one_program),
		cmocka_unit_test(probe_tries_what_the_table_loads),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests_name("test_loader", tests, NULL, NULL);
}
