// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's table of program variants (core/loader.c): it names every
 * program of the enforcement object, and for each kernel it picks the
 * programs the matrix written out by hand before it picked; and `memgate
 * probe` tries where it loads, the attach points the table marks.  Opens
 * the skeletons, loads nothing.
 */
#include <bpf/libbpf.h>

#include "unit.h"
#include "mg_loader.h"
#include "mg_probe.h"
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

/* The probe's attach points, or the test fails saying why there are none. */
static void targets_of(struct mg_probe_targets t[MG_PROBE_COUNT])
{
	int ret = mg_probe_targets(t);

	if (ret)
		failf("mg_probe_targets: %s: a row marks an attach type no mechanism tries, or a "
		      "mechanism has nowhere to attach, or more than MG_PROBE_TARGETS",
		      strerror(-ret));
}

/* The table's program whose section is type/target, or NULL. */
static const char *table_program(struct memgate_bpf *mg, const char *type, const char *target)
{
	char want[2 * MG_SECTION_LEN];

	snprintf(want, sizeof(want), "%s/%s", type, target);
	for (size_t i = 0; i < mg_variants_count; i++)
		for (int k = 0; k < 4; k++) {
			const char *name = mg_variants[i].prog[k / 2][k % 2];
			struct bpf_program *q = name ? bpf_object__find_program_by_name(mg->obj, name) : NULL;

			if (q && !strcmp(bpf_program__section_name(q), want))
				return name;
		}
	return NULL;
}

/*
 * `memgate probe` tries what the loader loads: each mechanism attaches
 * where a program of the table of its type does (fentry/security_inode_alloc,
 * lsm/mmap_file, ...), and at least once.  The tracepoint probe is
 * tracefs's, none of memgate's: it keeps its own target, of a type no
 * program of the table has.
 */
static void probe_tries_what_the_table_loads(void **state)
{
	struct mg_probe_targets t[MG_PROBE_COUNT];
	struct memgate_bpf *mg = memgate_bpf__open();

	assert_non_null(mg);
	targets_of(t);
	for (int m = 0; m < MG_PROBE_COUNT; m++) {
		const char *type = mg_probe_name(m);

		if (!t[m].n)
			failf("%s tries no attach point", type);
		for (size_t i = 0; i < t[m].n; i++) {
			bool in_table = table_program(mg, type, t[m].target[i]);

			if (in_table != (m != MG_PROBE_TRACEPOINT))
				failf("%s probes %s, %s", type, t[m].target[i],
				      in_table ? "a program of the loader's table (the tracepoint is tracefs's)"
					       : "which no program of the loader's table is");
		}
	}
	memgate_bpf__destroy(mg);
}

/*
 * What `memgate probe` tried when probe.bpf.c named its targets (7202fc1):
 * the table's marks give the same.  A row newly marked MG_VARIANT_PROBE*
 * adds its attach point here.
 */
static void probe_targets_as_before(void **state)
{
	static const char *const before[MG_PROBE_COUNT] = {
		[MG_PROBE_FMOD_RET] = "security_vm_enough_memory_mm",
		[MG_PROBE_FENTRY] = "security_inode_alloc",
		[MG_PROBE_LSM_CGROUP] = "task_alloc",
		[MG_PROBE_LSM] = "task_alloc,mmap_file,file_mprotect",
		[MG_PROBE_TP_BTF] = "sched_process_fork",
		[MG_PROBE_TRACEPOINT] = "sched/sched_process_fork",
	};
	struct mg_probe_targets t[MG_PROBE_COUNT];

	targets_of(t);
	for (int m = 0; m < MG_PROBE_COUNT; m++) {
		char got[MG_PROBE_TARGETS * MG_SECTION_LEN] = "";

		for (size_t i = 0; i < t[m].n; i++) {
			if (i)
				strcat(got, ",");
			strcat(got, t[m].target[i]);
		}
		if (strcmp(got, before[m]))
			failf("%s tries %s, before %s", mg_probe_name(m), got, before[m]);
	}
}

/*
 * probe.bpf.c has a program for each attach point a mechanism tries, of
 * the mechanism's type and without a target of its own (the table gives
 * it), but for the tracepoint's; and no program of another type.
 */
static void probe_has_a_program_per_target(void **state)
{
	struct mg_probe_targets t[MG_PROBE_COUNT];
	struct probe_bpf *probe = probe_bpf__open();
	size_t count[MG_PROBE_COUNT] = {};
	struct bpf_program *p;

	assert_non_null(probe);
	targets_of(t);
	bpf_object__for_each_program(p, probe->obj) {
		const char *section = bpf_program__section_name(p);
		int m = 0;

		while (m < MG_PROBE_COUNT && strcmp(section, mg_probe_name(m)) &&
		       !(m == MG_PROBE_TRACEPOINT && !strncmp(section, "tracepoint/", 11)))
			m++;
		if (m == MG_PROBE_COUNT)
			failf("%s: section %s is no mechanism's, or names a target the table should give",
			      bpf_program__name(p), section);
		count[m]++;
	}
	for (int m = 0; m < MG_PROBE_COUNT; m++)
		if (count[m] < t[m].n)
			failf("%s tries %zu attach points with %zu programs", mg_probe_name(m), t[m].n,
			      count[m]);
	probe_bpf__destroy(probe);
}

/*
 * Every attach type the loader loads is probed: a program of a type no
 * mechanism tries (a new backend's) needs a mechanism in core/probe.c.
 * fentry stands for fexit, the same trampoline on a plain function.
 */
static void every_attach_type_is_probed(void **state)
{
	struct mg_probe_targets t[MG_PROBE_COUNT];
	struct memgate_bpf *mg = memgate_bpf__open();
	struct bpf_program *p;

	assert_non_null(mg);
	targets_of(t);
	bpf_object__for_each_program(p, mg->obj) {
		const char *section = bpf_program__section_name(p);
		size_t len = strcspn(section, "/");
		bool probed = false;

		for (int m = 0; m < MG_PROBE_COUNT; m++) {
			const char *type = mg_probe_name(m);

			probed |= t[m].n && m != MG_PROBE_TRACEPOINT &&
				  ((strlen(type) == len && !strncmp(section, type, len)) ||
				   (m == MG_PROBE_FENTRY && !strncmp(section, "fexit/", 6)));
		}
		if (!probed)
			failf("%s: `memgate probe` tries no %.*s program", bpf_program__name(p), (int)len,
			      section);
	}
	memgate_bpf__destroy(mg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_program_has_a_row),
		cmocka_unit_test(table_picks_what_the_matrix_picked),
		cmocka_unit_test(each_row_one_program),
		cmocka_unit_test(probe_tries_what_the_table_loads),
		cmocka_unit_test(probe_targets_as_before),
		cmocka_unit_test(probe_has_a_program_per_target),
		cmocka_unit_test(every_attach_type_is_probed),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests_name("test_loader", tests, NULL, NULL);
}
