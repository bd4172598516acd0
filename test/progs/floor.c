// SPDX-License-Identifier: GPL-2.0-only
/*
 * make bench's floor loader (in the VM):
 *
 *   floor OBJ DIR CGROUP NAME...
 *   floor OBJ --list
 *
 * loads the programs NAME... of OBJ (build/test/floor.bpf.o), attaches them
 * (task_alloc to CGROUP) and pins their links in DIR, a bpffs directory it
 * creates.  Removing DIR detaches them.  --list prints the names OBJ has.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>

static int fail(const char *what, const char *name, int err)
{
	fprintf(stderr, "floor: %s %s: %s\n", what, name, strerror(err < 0 ? -err : err));
	return 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	char path[512];
	int cgroup, err;

	if (argc < 5 && !(argc == 3 && !strcmp(argv[2], "--list"))) {
		fprintf(stderr, "usage: floor OBJ DIR CGROUP NAME... | floor OBJ --list\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return fail("cannot open", argv[1], errno);
	if (argc == 3) {
		bpf_object__for_each_program(prog, obj) printf("%s\n", bpf_program__name(prog));
		return 0;
	}
	bpf_object__for_each_program(prog, obj)
	{
		bool wanted = false;

		for (int i = 4; i < argc; i++)
			wanted |= !strcmp(bpf_program__name(prog), argv[i]);
		bpf_program__set_autoload(prog, wanted);
	}
	for (int i = 4; i < argc; i++)
		if (!bpf_object__find_program_by_name(obj, argv[i]))
			return fail("no program named", argv[i], ENOENT);
	err = bpf_object__load(obj);
	if (err)
		return fail("cannot load", argv[1], err);
	cgroup = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup < 0)
		return fail("cannot open cgroup", argv[3], errno);
	if (mkdir(argv[2], 0700) < 0 && errno != EEXIST)
		return fail("cannot create", argv[2], errno);
	for (int i = 4; i < argc; i++) {
		struct bpf_link *link;

		prog = bpf_object__find_program_by_name(obj, argv[i]);
		link = bpf_program__expected_attach_type(prog) == BPF_LSM_CGROUP
			       ? bpf_program__attach_cgroup(prog, cgroup)
			       : bpf_program__attach(prog);
		if (!link)
			return fail("cannot attach", argv[i], errno);
		snprintf(path, sizeof(path), "%s/%s", argv[2], argv[i]);
		err = bpf_link__pin(link, path);
		if (err)
			return fail("cannot pin", path, err);
	}
	return 0;
}
