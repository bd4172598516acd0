// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_monitor.h"
#include "mg_probe.h"
#include "probe.skel.h"
#include "monitor.skel.h"

static const struct {
	const char *name, *target, *used_for;
} mechanisms[MG_PROBE_COUNT] = {
	[MG_PROBE_FMOD_RET] = { "fmod_ret", "security_vm_enough_memory_mm",
				"commit-limit and pressure-gate: decides each commit before it is granted" },
	[MG_PROBE_FENTRY] = { "fentry", "security_inode_alloc",
			      "commit-limit: trampolines on plain functions, as the fexit programs "
			      "on munmap, brk, mremap, mprotect and exec use, and shared memory's "
			      "inode life without the BPF LSM" },
	[MG_PROBE_LSM_CGROUP] = { "lsm_cgroup", "task_alloc", "fork-gate: one program per container's cgroup" },
	[MG_PROBE_LSM] = { "lsm", "task_alloc,mmap_file,file_mprotect",
			   "fork-gate, and fork, mmap and mprotect decided where they are never "
			   "skipped: the BPF LSM is active" },
	[MG_PROBE_TP_BTF] = { "tp_btf", "sched_process_fork",
			      "commit-limit (fork and exec accounting) and monitor mode" },
	[MG_PROBE_TRACEPOINT] = { "tracepoint", "sched/sched_process_fork", "monitoring (tracefs)" },
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* memgate probe --verbose: libbpf's warnings (not its debug lines) for the probe running. */
static char *captured;
static size_t captured_len;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *grown;
	va_list copy;
	int n;

	if (level > LIBBPF_WARN || captured_len > (64 << 10))
		return 0;
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n <= 0)
		return 0;
	grown = realloc(captured, captured_len + n + 1);
	if (!grown)
		return 0;
	captured = grown;
	return vsnprintf(captured + captured_len, n + 1, fmt, ap) > 0 ? (captured_len += n, n) : 0;
}

/*
 * libbpf's reasons, short: its warnings as they are, but of a verifier log
 * only the last lines (the verdict), and not the 'ulimit -l' guess, which
 * is wrong on the kernels memgate supports (BPF memory is charged to memcg).
 */
static void take_captured(char *out, size_t size)
{
	const char *line = captured ? captured : "";
	char *tail[3] = {};
	size_t n = 0, kept = 0;
	bool in_log = false;

	out[0] = '\0';
	while (*line && kept < 8) {
		size_t len = strcspn(line, "\n");
		char *text = strndup(line, len);

		line += len + (line[len] == '\n');
		if (!text)
			break;
		if (strstr(text, "-- BEGIN PROG LOAD LOG --")) {
			in_log = true;
			free(text);
			continue;
		}
		if (in_log && strstr(text, "-- END PROG LOAD LOG --")) {
			in_log = false;
			for (int i = 0; i < 3; i++)
				if (tail[i]) {
					n += snprintf(out + n, n < size ? size - n : 0, "verifier: %s\n", tail[i]);
					kept++;
				}
			for (int i = 0; i < 3; i++) {
				free(tail[i]);
				tail[i] = NULL;
			}
			free(text);
			continue;
		}
		if (in_log) {
			if (text[0]) {
				free(tail[0]);
				memmove(tail, tail + 1, sizeof(tail[0]) * 2);
				tail[2] = text;
			} else {
				free(text);
			}
			continue;
		}
		if (!strstr(text, "ulimit -l") && text[0]) {
			n += snprintf(out + n, n < size ? size - n : 0, "%s\n", text);
			kept++;
		}
		free(text);
	}
	for (int i = 0; i < 3; i++)
		free(tail[i]);
	free(captured);
	captured = NULL;
	captured_len = 0;
	if (n >= size && size > 4)
		memcpy(out + size - 5, "...\n", 5);
}

#define TRACEFS "/sys/kernel/tracing"

/*
 * Tracepoint programs attach through tracefs: mount it where it is missing,
 * or say why it could not be, instead of "no such attach point".
 */
static bool ensure_tracefs(char *why, size_t size)
{
	if (access(TRACEFS "/events", F_OK) == 0 || access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return true;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) == 0)
		return true;
	snprintf(why, size, "tracefs is not mounted at " TRACEFS " and mounting it failed: %s",
		 strerror(errno));
	return false;
}

static void why(struct mg_probe_result *r, const char *step, int code)
{
	const char *hint = "";

	if (code == EPERM)
		hint = " (refused: kernel lockdown, blocked trampolines or missing CAP_BPF)";
	else if (code == ENOENT)
		hint = " (no such attach point; for tracepoints, is tracefs mounted?)";
	else if (code == EBUSY)
		hint = " (the attach point is busy or not traceable)";
	snprintf(r->why_not, sizeof(r->why_not), "%s failed: %s%s", step, strerror(code), hint);
}

/* What each program waits for: an accounted mapping, an mprotect, an inode, a fork, an exit. */
static void trigger(void)
{
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fds[2];
	pid_t child;

	if (p != MAP_FAILED) {
		mprotect(p, 1 << 20, PROT_READ);
		munmap(p, 1 << 20);
	}
	if (pipe2(fds, O_CLOEXEC) == 0) {
		close(fds[0]);
		close(fds[1]);
	}
	child = fork();
	if (child == 0)
		_exit(0);
	if (child > 0)
		waitpid(child, NULL, 0);
}

static int own_cgroup_fd(void)
{
	struct mg_error ignored;
	struct mg_cgroup cg;

	if (mg_cgroup_of_pid(getpid(), &cg, &ignored) < 0)
		return -1;
	return open(cg.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static const char *const lsm_hooks[MG_PROBE_LSM_HOOKS] = { "task_alloc", "mmap_file",
								  "file_mprotect" };

/* Attach to every hook, trigger once: fires when each of them fired. */
static void probe_lsm_hooks(struct probe_bpf *skel, struct bpf_program *const *progs,
			    struct bpf_link **links, struct mg_probe_result *r)
{
	char step[64];
	int i;

	for (i = 0; i < MG_PROBE_LSM_HOOKS; i++) {
		links[i] = bpf_program__attach(progs[i]);
		if (!links[i]) {
			snprintf(step, sizeof(step), "attach to %s", lsm_hooks[i]);
			why(r, step, errno);
			break;
		}
	}
	r->attaches = i == MG_PROBE_LSM_HOOKS;
	if (r->attaches)
		trigger();
	for (i = 0; i < MG_PROBE_LSM_HOOKS; i++)
		bpf_link__destroy(links[i]);
	if (!r->attaches)
		return;
	r->fires = true;
	for (i = 0; i < MG_PROBE_LSM_HOOKS && r->fires; i++)
		r->fires = skel->bss->lsm_fired[i] > 0;
	if (r->fires)
		return;
	if (!skel->bss->lsm_fired[0] && !skel->bss->lsm_fired[1] && !skel->bss->lsm_fired[2])
		snprintf(r->why_not, sizeof(r->why_not),
			 "attached but never called: the BPF LSM is not in lsm=");
	else
		snprintf(r->why_not, sizeof(r->why_not), "attached to %s but never called there",
			 lsm_hooks[i - 1]);
}

static void probe_one(enum mg_probe which, struct mg_probe_result *r)
{
	_cleanup_close_ int cgroup_fd = -1;
	struct bpf_program *chosen;
	struct bpf_link *link;
	struct probe_bpf *skel;
	int ret;

	if (which == MG_PROBE_TRACEPOINT && !ensure_tracefs(r->why_not, sizeof(r->why_not)))
		return;
	skel = probe_bpf__open();
	if (!skel) {
		why(r, "open", errno);
		return;
	}
	struct bpf_program *progs[MG_PROBE_COUNT] = {
		[MG_PROBE_FMOD_RET] = skel->progs.probe_fmod_ret,
		[MG_PROBE_FENTRY] = skel->progs.probe_fentry,
		[MG_PROBE_LSM_CGROUP] = skel->progs.probe_lsm_cgroup,
		[MG_PROBE_LSM] = skel->progs.probe_lsm,
		[MG_PROBE_TP_BTF] = skel->progs.probe_tp_btf,
		[MG_PROBE_TRACEPOINT] = skel->progs.probe_tracepoint,
	};

	/* lsm: every hook memgate decides on, each attached and each to fire. */
	struct bpf_program *lsm[MG_PROBE_LSM_HOOKS] = {
		[MG_PROBE_LSM_TASK_ALLOC] = skel->progs.probe_lsm,
		[MG_PROBE_LSM_MMAP_FILE] = skel->progs.probe_lsm_mmap_file,
		[MG_PROBE_LSM_FILE_MPROTECT] = skel->progs.probe_lsm_file_mprotect,
	};
	struct bpf_link *lsm_links[MG_PROBE_LSM_HOOKS] = {};

	skel->rodata->target_tgid = getpid();
	for (int i = 0; i < MG_PROBE_COUNT; i++)
		bpf_program__set_autoload(progs[i], i == (int)which);
	for (int i = 0; i < MG_PROBE_LSM_HOOKS; i++)
		bpf_program__set_autoload(lsm[i], which == MG_PROBE_LSM);
	chosen = progs[which];
	ret = probe_bpf__load(skel);
	if (ret) {
		why(r, "load", -ret);
		goto out;
	}
	r->loads = true;
	if (which == MG_PROBE_LSM) {
		probe_lsm_hooks(skel, lsm, lsm_links, r);
		goto out;
	}
	if (which == MG_PROBE_LSM_CGROUP) {
		cgroup_fd = own_cgroup_fd();
		link = bpf_program__attach_cgroup(chosen, cgroup_fd);
	} else {
		link = bpf_program__attach(chosen);
	}
	if (!link) {
		why(r, "attach", errno);
		goto out;
	}
	r->attaches = true;
	trigger();
	bpf_link__destroy(link);
	r->fires = skel->bss->fired[which] > 0;
	if (!r->fires)
		snprintf(r->why_not, sizeof(r->why_not),
			 which == MG_PROBE_LSM ? "attached but never called: the BPF LSM is not in lsm="
					       : "attached but never called");
out:
	probe_bpf__destroy(skel);
}

void mg_probe_monitor(struct mg_probe_monitor *m, bool verbose)
{
	libbpf_print_fn_t old = libbpf_set_print(verbose ? capture : quiet);
	struct mg_monitor_prog progs[MG_MONITOR_PROGS];
	struct monitor_bpf *skel;
	size_t n, i;
	int ret;

	memset(m, 0, sizeof(*m));
	skel = mg_monitor_load(&ret);
	if (!skel) {
		snprintf(m->why_not, sizeof(m->why_not), "memgate's monitor programs do not load: %s",
			 strerror(-ret));
		goto out;
	}
	n = mg_monitor_progs(skel, progs);
	for (i = 0; i < n; i++) {
		struct bpf_link *link = bpf_program__attach(progs[i].prog);

		if (!link) {
			snprintf(m->why_not, sizeof(m->why_not), "%s does not attach: %s",
				 bpf_program__name(progs[i].prog), strerror(errno));
			break;
		}
		bpf_link__destroy(link);
		m->oom |= !strcmp(progs[i].name, "oom_victim");
		m->reclaim |= !strcmp(progs[i].name, "reclaim_end");
	}
	m->available = i == n;
	mg_monitor_destroy(skel);
out:
	if (!m->available)
		take_captured(m->libbpf, sizeof(m->libbpf));
	free(captured);
	captured = NULL;
	captured_len = 0;
	libbpf_set_print(old);
}

void mg_probe_all(struct mg_probe_result results[MG_PROBE_COUNT], bool verbose)
{
	libbpf_print_fn_t old = libbpf_set_print(verbose ? capture : quiet);

	for (int i = 0; i < MG_PROBE_COUNT; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].name = mechanisms[i].name;
		results[i].target = mechanisms[i].target;
		results[i].used_for = mechanisms[i].used_for;
		probe_one(i, &results[i]);
		if (!results[i].fires)
			take_captured(results[i].libbpf, sizeof(results[i].libbpf));
		free(captured);
		captured = NULL;
		captured_len = 0;
	}
	libbpf_set_print(old);
}
