// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the running kernel offers, read cheaply from BTF, kallsyms and
 * securityfs, once per run; and what the pinned tree says can be enforced.
 * Probing by loading programs is core/probe.c, the CLI's only, so the hook
 * carries no probe object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <linux/btf.h>
#include <bpf/bpf.h>

#include "mg_cleanup.h"
#include "mg_read.h"
#include "mg_kernel.h"
#include "mg_shared.h"

static bool lsm_active(const char *name)
{
	_cleanup_free_ char *list = NULL;
	struct mg_error ignored;
	size_t len = strlen(name);

	if (access("/sys/kernel/security/lsm", F_OK) < 0)
		mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	if (mg_read_file("/sys/kernel/security/lsm", 4096, &list, &ignored) < 0)
		return false;
	for (char *p = list; (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\n' || !p[len]))
			return true;
	return false;
}

static bool kallsyms_has(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], sym[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %255s", sym) == 1 && !strcmp(sym, name))
			return true;
	return false;
}

static bool memcg_kfuncs(void)
{
	static const char *const kfuncs[] = { "bpf_get_mem_cgroup", "bpf_put_mem_cgroup",
					      "bpf_mem_cgroup_usage", "bpf_mem_cgroup_page_state",
					      "bpf_cgroup_ancestor", "bpf_cgroup_release" };
	_cleanup_free_ char *raw = NULL;
	const struct btf_header *hdr;
	struct mg_error ignored;
	const char *strings;
	char needle[64];
	size_t len;

	/*
	 * Only the string section is searched: parsing all of vmlinux BTF
	 * again (libbpf does it once to load) would double the cold start's
	 * cost.  Should a name be there but not its kfunc, the load falls back.
	 */
	_cleanup_close_ int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || mg_read_bounded(fd, 64 << 20, "vmlinux BTF", &raw, &len, &ignored) < 0)
		return false;
	hdr = (const struct btf_header *)raw;
	if (len < sizeof(*hdr) || hdr->magic != BTF_MAGIC ||
	    (size_t)hdr->hdr_len + hdr->str_off + hdr->str_len > len)
		return false;
	strings = raw + hdr->hdr_len + hdr->str_off;
	for (size_t i = 0; i < sizeof(kfuncs) / sizeof(kfuncs[0]); i++) {
		int n = snprintf(needle, sizeof(needle), "%c%s", '\0', kfuncs[i]);

		if (!memmem(strings, hdr->str_len, needle, n + 1))
			return false;
	}
	return true;
}

/* Computed once per run: the loader and support() may each ask. */
bool mg_kernel_memcg_kfuncs(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = memcg_kfuncs();
	return cached;
}

bool mg_kernel_bpf_lsm(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = lsm_active("bpf");
	return cached;
}

unsigned int mg_kernel_page_shift(void)
{
	static unsigned int cached;

	if (!cached)
		cached = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	return cached;
}

enum mg_memcg_source mg_kernel_memcg_source(void)
{
	if (mg_kernel_memcg_kfuncs())
		return MG_MEMCG_KFUNCS;
	return kallsyms_has("mem_cgroup_stats_index") ? MG_MEMCG_CORE_COMPACT : MG_MEMCG_CORE_ITEM;
}

const char *mg_memcg_source_name(enum mg_memcg_source source)
{
	switch (source) {
	case MG_MEMCG_KFUNCS: return "memcg kfuncs (bpf_mem_cgroup_usage, bpf_mem_cgroup_page_state)";
	case MG_MEMCG_CORE_COMPACT: return "CO-RE reads of struct mem_cgroup, stats through mem_cgroup_stats_index (6.11+)";
	default: return "CO-RE reads of struct mem_cgroup, stats indexed by item";
	}
}

const char *mg_memcg_source_id(enum mg_memcg_source source)
{
	switch (source) {
	case MG_MEMCG_KFUNCS: return "kfuncs";
	case MG_MEMCG_CORE_COMPACT: return "co-re-indexed";
	default: return "co-re-item";
	}
}

void mg_shared_support(struct mg_support *support, const struct mg_shared *s)
{
	struct mg_globals g = {};
	bool loaded = s && s->globals >= 0;
	__u32 zero = 0;

	memset(support, 0, sizeof(*support));
	if (loaded)
		bpf_map_lookup_elem(s->globals, &zero, &g);
	support->monitor = !loaded || access(MG_PIN_DIR "/links/cgroup_rmdir", F_OK) == 0;
	support->commit = !loaded || access(MG_PIN_DIR "/links/vm_enough", F_OK) == 0;
	if (!support->commit)
		snprintf(support->why_not_commit, sizeof(support->why_not_commit),
			 "memgate's enforcement programs (fmod_ret, fentry) can not run here: %s "
			 "(see `memgate probe`)",
			 strerror(g.enforce_error ? (int)-g.enforce_error : ENOENT));
	if (loaded && !support->commit)
		snprintf(support->why_not_fork, sizeof(support->why_not_fork), "%s",
			 support->why_not_commit);
	else if (loaded && access(MG_PIN_DIR "/progs/task_alloc", F_OK) < 0)
		snprintf(support->why_not_fork, sizeof(support->why_not_fork),
			 "this kernel does not load lsm_cgroup programs");
	else if (!mg_kernel_bpf_lsm())
		snprintf(support->why_not_fork, sizeof(support->why_not_fork),
			 "the BPF LSM is not active (add \"bpf\" to the kernel's lsm= list)");
	else
		support->fork_gate = true;
}
