// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the running kernel offers, read cheaply from BTF and kallsyms: the
 * hook's checks.  Probing by loading programs is core/probe.c, the CLI's
 * only, so the hook carries no probe object.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/btf.h>

#include "mg_cleanup.h"
#include "mg_read.h"
#include "mg_probe.h"

static bool kallsyms_has(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], sym[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %255s", sym) == 1 && !strcmp(sym, name))
			return true;
	return false;
}

bool mg_probe_memcg_kfuncs(void)
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

enum mg_memcg_source mg_probe_memcg_source(void)
{
	if (mg_probe_memcg_kfuncs())
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

