// SPDX-License-Identifier: GPL-2.0-only
/*
 * prog-calls PREFIX: for each loaded BPF program whose name starts with
 * PREFIX, one line "prog ID NAME: CALLEE..." naming what its instructions,
 * as the verifier rewrote them, call: a helper or kfunc by its kernel
 * symbol, a map helper by the map type's own function, "pc" for a call of
 * one of the program's own functions, "unknown" for an address no symbol
 * has.  The names bpftool's "prog dump xlated" prints, found the same way
 * (__bpf_call_base + imm in /proc/kallsyms), but with kallsyms read once
 * for all programs: under TCG bpftool took seconds per program reading it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

struct sym {
	unsigned long addr;
	char name[128];
};

static struct sym *syms;
static size_t nr_syms;

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int load_kallsyms(unsigned long *call_base)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	size_t cap = 0;
	char line[512];

	if (!f) {
		fprintf(stderr, "prog-calls: /proc/kallsyms: %s\n", strerror(errno));
		return -1;
	}
	*call_base = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long addr;
		char type, name[128];

		if (sscanf(line, "%lx %c %127s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, "__bpf_call_base"))
			*call_base = addr;
		if (nr_syms == cap) {
			cap = cap ? cap * 2 : 65536;
			syms = realloc(syms, cap * sizeof(*syms));
			if (!syms) {
				fclose(f);
				fprintf(stderr, "prog-calls: out of memory\n");
				return -1;
			}
		}
		syms[nr_syms].addr = addr;
		memcpy(syms[nr_syms].name, name, sizeof(name));
		nr_syms++;
	}
	fclose(f);
	if (!*call_base) {
		fprintf(stderr, "prog-calls: /proc/kallsyms has no __bpf_call_base (expected root, kptr_restrict 0 or 1)\n");
		return -1;
	}
	qsort(syms, nr_syms, sizeof(*syms), by_addr);
	return 0;
}

static const char *sym_at(unsigned long addr)
{
	struct sym key = { .addr = addr };
	struct sym *s = bsearch(&key, syms, nr_syms, sizeof(*syms), by_addr);

	return s ? s->name : "unknown";
}

static int print_calls(__u32 id, const char *prefix, unsigned long call_base)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), n, i;
	struct bpf_insn *insns;
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* gone meanwhile */
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err || strncmp(info.name, prefix, strlen(prefix))) {
		close(fd);
		return err;
	}
	n = info.xlated_prog_len / sizeof(*insns);
	insns = calloc(n ? n : 1, sizeof(*insns));
	if (!insns) {
		close(fd);
		return -ENOMEM;
	}
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = n * sizeof(*insns);
	info.xlated_prog_insns = (__u64)(unsigned long)insns;
	len = sizeof(info);
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err) {
		free(insns);
		return err;
	}
	printf("prog %u %s:", id, info.name);
	for (i = 0; i < n; i++) {
		if (insns[i].code != (BPF_JMP | BPF_CALL))
			continue;
		if (insns[i].src_reg == BPF_PSEUDO_CALL)
			printf(" pc");
		else
			printf(" %s", sym_at(call_base + (long)insns[i].imm));
	}
	printf("\n");
	free(insns);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long call_base;
	__u32 id = 0;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: prog-calls PREFIX (the programs' name prefix, e.g. mg_)\n");
		return 2;
	}
	if (load_kallsyms(&call_base))
		return 1;
	while (!bpf_prog_get_next_id(id, &id)) {
		err = print_calls(id, argv[1], call_base);
		if (err) {
			fprintf(stderr, "prog-calls: program %u: %s\n", id, strerror(-err));
			return 1;
		}
	}
	return 0;
}
