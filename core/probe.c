// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_loader.h"
#include "mg_monitor.h"
#include "mg_probe.h"
#include "probe.skel.h"
#include "monitor.skel.h"

/*
 * Each mechanism: its attach type (the SEC() prefix of the loader's
 * programs it stands for), what memgate uses it for, and what it means
 * when it attaches but never fires.  Where it attaches is the loader's
 * table's (mg_probe_targets()).
 */
static const struct {
	const char *name, *used_for, *never_called;
} mechanisms[MG_PROBE_COUNT] = {
	[MG_PROBE_FMOD_RET] = { "fmod_ret",
				"commit-limit and pressure-gate: decides each commit before it is granted" },
	[MG_PROBE_FENTRY] = { "fentry",
			      "commit-limit: trampolines on plain functions, as the fexit programs "
			      "on munmap, brk, mremap, mprotect and exec use, and shared memory's "
			      "inode life without the BPF LSM" },
	[MG_PROBE_LSM_CGROUP] = { "lsm_cgroup", "fork-gate: one program per container's cgroup" },
	[MG_PROBE_LSM] = { "lsm",
			   "fork-gate, and fork, mmap and mprotect decided where they are never "
			   "skipped: the BPF LSM is active",
			   "attached but never called: the BPF LSM is not in lsm=" },
	[MG_PROBE_TP_BTF] = { "tp_btf", "commit-limit (fork and exec accounting) and monitor mode" },
	[MG_PROBE_TRACEPOINT] = { "tracepoint", "monitoring (tracefs)" },
};

const char *mg_probe_name(enum mg_probe which)
{
	return mechanisms[which].name;
}

/* The mechanism's i-th program, probe_<mechanism>[_<i>] (probe.bpf.c), or NULL. */
static struct bpf_program *probe_prog(struct probe_bpf *skel, enum mg_probe which, size_t i)
{
	char name[64];

	if (i)
		snprintf(name, sizeof(name), "probe_%s_%zu", mechanisms[which].name, i);
	else
		snprintf(name, sizeof(name), "probe_%s", mechanisms[which].name);
	return bpf_object__find_program_by_name(skel->obj, name);
}

/* The section's attach type and target: "fmod_ret/x" is "fmod_ret" and "x". */
static bool split_section(const char *section, const char *type, const char **target)
{
	size_t len = strlen(type);

	*target = section + len + 1;
	return !strncmp(section, type, len) && section[len] == '/';
}

int mg_probe_targets(struct mg_probe_targets out[MG_PROBE_COUNT])
{
	char sections[MG_PROBE_COUNT * MG_PROBE_TARGETS][MG_SECTION_LEN];
	struct probe_bpf *skel;
	const char *target;
	int n, ret = 0;

	memset(out, 0, sizeof(*out) * MG_PROBE_COUNT);
	n = mg_variants_probed(sections, MG_PROBE_COUNT * MG_PROBE_TARGETS);
	if (n < 0)
		return n;
	for (int s = 0; s < n; s++) {
		int which = 0;

		while (which < MG_PROBE_COUNT &&
		       !split_section(sections[s], mechanisms[which].name, &target))
			which++;
		if (which == MG_PROBE_COUNT)
			return -ENOENT; /* an attach type no mechanism tries: add one */
		if (out[which].n == MG_PROBE_TARGETS)
			return -E2BIG;
		snprintf(out[which].target[out[which].n++], MG_SECTION_LEN, "%s", target);
	}
	/* A mechanism none of the table's programs uses: its probe program's own target. */
	skel = probe_bpf__open();
	if (!skel)
		return -errno;
	for (int which = 0; which < MG_PROBE_COUNT && !ret; which++) {
		struct bpf_program *prog = probe_prog(skel, which, 0);

		if (out[which].n)
			continue;
		if (prog &&
		    split_section(bpf_program__section_name(prog), mechanisms[which].name, &target))
			snprintf(out[which].target[out[which].n++], MG_SECTION_LEN, "%s", target);
		else
			ret = -ENOENT;
	}
	probe_bpf__destroy(skel);
	return ret;
}

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

	if (mg_cgroup_of_self(&cg, &ignored) < 0)
		return -1;
	return open(cg.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * Attach the mechanism's program to each of its targets, trigger once:
 * fires when each of them fired.
 */
static void probe_one(enum mg_probe which, const struct mg_probe_targets *t,
		      struct mg_probe_result *r)
{
	struct bpf_link *links[MG_PROBE_TARGETS] = {};
	struct bpf_program *progs[MG_PROBE_TARGETS];
	_cleanup_close_ int cgroup_fd = -1;
	struct bpf_program *prog;
	struct probe_bpf *skel;
	size_t i, fired = 0, silent = t->n;
	struct stat pidns;
	const char *own;
	char step[96];
	int ret;

	if (which == MG_PROBE_TRACEPOINT && !ensure_tracefs(r->why_not, sizeof(r->why_not)))
		return;
	skel = probe_bpf__open();
	if (!skel) {
		why(r, "open", errno);
		return;
	}
	/* Our pid and PID namespace, where the programs compare: hostPID or not. */
	if (stat("/proc/self/ns/pid", &pidns) < 0) {
		why(r, "stat /proc/self/ns/pid", errno);
		goto out;
	}
	skel->rodata->target_tgid = getpid();
	skel->rodata->target_ns_dev = (__u64)major(pidns.st_dev) << 20 | minor(pidns.st_dev);
	skel->rodata->target_ns_ino = pidns.st_ino;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	for (i = 0; i < t->n; i++) {
		progs[i] = probe_prog(skel, which, i);
		if (!progs[i]) {
			why(r, "open", ENOENT);
			goto out;
		}
		bpf_program__set_autoload(progs[i], true);
		/* Where the table says, unless its SEC() names a target (the tracepoint). */
		if (!split_section(bpf_program__section_name(progs[i]), mechanisms[which].name,
				   &own)) {
			ret = bpf_program__set_attach_target(progs[i], 0, t->target[i]);
			if (ret) {
				why(r, "load", -ret);
				goto out;
			}
		}
	}
	ret = probe_bpf__load(skel);
	if (ret) {
		why(r, "load", -ret);
		goto out;
	}
	r->loads = true;
	for (i = 0; i < t->n; i++) {
		if (bpf_program__expected_attach_type(progs[i]) == BPF_LSM_CGROUP) {
			if (cgroup_fd < 0)
				cgroup_fd = own_cgroup_fd();
			links[i] = bpf_program__attach_cgroup(progs[i], cgroup_fd);
		} else {
			links[i] = bpf_program__attach(progs[i]);
		}
		if (!links[i]) {
			if (t->n > 1)
				snprintf(step, sizeof(step), "attach to %s", t->target[i]);
			why(r, t->n > 1 ? step : "attach", errno);
			break;
		}
	}
	r->attaches = i == t->n;
	if (r->attaches)
		trigger();
	for (i = 0; i < t->n; i++)
		bpf_link__destroy(links[i]);
	if (!r->attaches)
		goto out;
	for (i = 0; i < t->n; i++) {
		if (skel->bss->fired[which][i])
			fired++;
		else if (silent == t->n)
			silent = i;
	}
	r->fires = fired == t->n;
	if (!fired)
		snprintf(r->why_not, sizeof(r->why_not), "%s",
			 mechanisms[which].never_called ? mechanisms[which].never_called
							: "attached but never called");
	else if (!r->fires)
		snprintf(r->why_not, sizeof(r->why_not), "attached to %s but never called there",
			 t->target[silent]);
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
	struct mg_probe_targets targets[MG_PROBE_COUNT];
	int ret = mg_probe_targets(targets);

	for (int i = 0; i < MG_PROBE_COUNT; i++) {
		size_t n = 0;

		memset(&results[i], 0, sizeof(results[i]));
		results[i].name = mechanisms[i].name;
		results[i].used_for = mechanisms[i].used_for;
		for (size_t k = 0; k < targets[i].n && !ret; k++)
			n += snprintf(results[i].target + n, n < sizeof(results[i].target) ?
							       sizeof(results[i].target) - n : 0,
				      "%s%s", k ? "," : "", targets[i].target[k]);
		if (ret < 0) /* make unit's test_loader fails first */
			snprintf(results[i].why_not, sizeof(results[i].why_not),
				 "the loader's table gives no attach points: %s", strerror(-ret));
		else
			probe_one(i, &targets[i], &results[i]);
		if (!results[i].fires)
			take_captured(results[i].libbpf, sizeof(results[i].libbpf));
		free(captured);
		captured = NULL;
		captured_len = 0;
	}
	libbpf_set_print(old);
}
