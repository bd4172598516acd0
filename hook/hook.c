// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate-hook: the OCI hook.  Run at prestart or createRuntime it turns the
 * container's memgate.io/ annotations into a policy in the shared pinned
 * maps; run at poststop it removes it, and when no container is left under
 * policy it unpins everything so the kernel unloads memgate.
 *
 *   memgate-hook [prestart|createRuntime|poststop] < OCI state
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_config.h"
#include "mg_confine.h"
#include "mg_oci.h"
#include "mg_policy.h"
#include "mg_shared.h"

/* Root on the host, or why not: found before confinement, which may hide /proc. */
static struct mg_error not_root;

enum stage {
	STAGE_START,
	STAGE_STOP,
};

static int stage_from(int argc, char **argv, const struct mg_state *state, enum stage *stage,
		      struct mg_error *err)
{
	static const char *const start[] = { "prestart", "createRuntime", "creating", "created" };
	const char *name = argc > 1 ? argv[1] : state->status;

	for (size_t i = 0; i < sizeof(start) / sizeof(start[0]); i++)
		if (!strcmp(name, start[i])) {
			*stage = STAGE_START;
			return 0;
		}
	if (!strcmp(name, "poststop") || !strcmp(name, "stopped")) {
		*stage = STAGE_STOP;
		return 0;
	}
	if (argc > 1)
		return mg_fail(err, EINVAL,
			       "unknown stage \"%s\": expected prestart, createRuntime or poststop", name);
	return mg_fail(err, EINVAL,
		       "OCI state: \"status\" is \"%s\"; expected creating, created or stopped "
		       "(or pass the stage as the first argument)",
		       name);
}

static void report(int priority, const char *text)
{
	char msg[MG_ERROR_LEN];

	/*
	 * One line, nothing raw, whatever the state held: a container id, status
	 * or bundle path may hold a newline or a terminal escape.
	 */
	mg_escape(msg, sizeof(msg), text, strlen(text), MG_ESCAPE_TEXT);
	/* crun drops hook stderr unless asked: syslog keeps the reason too (opened in main). */
	fprintf(stderr, "memgate-hook: %s%s\n", priority == LOG_WARNING ? "warning: " : "", msg);
	syslog(priority, "%s", msg);
}

/* The knobs on-unsupported: warn dropped, and why: the hook's one warning line. */
struct dropped {
	int n;
	const char *knob[3];
	char why[3][256];
};

/*
 * A knob the kernel can not enforce fails the container, or with
 * memgate.io/on-unsupported: warn, is dropped and noted in *dropped.
 */
static int check_support(struct mg_policy *policy, const struct mg_policy_spec *spec,
			 const struct mg_support *support, struct dropped *dropped,
			 struct mg_error *err)
{
	struct {
		__u64 *value;
		bool supported;
		const char *knob, *why;
	} knobs[] = {
		{ &policy->commit_limit, support->commit, "commit-limit", support->why_not_commit },
		{ &policy->pressure_gate, support->commit, "pressure-gate", support->why_not_commit },
		{ &policy->fork_gate, support->fork_gate, "fork-gate", support->why_not_fork },
	};

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if (!*knobs[i].value || knobs[i].supported)
			continue;
		if (!spec->warn_unsupported)
			return mg_fail(err, EOPNOTSUPP,
				       "annotation " MG_ANNOTATION_PREFIX "%s can not be enforced on "
				       "this kernel: %s (set " MG_ANNOTATION_PREFIX
				       "on-unsupported=warn to start anyway)",
				       knobs[i].knob, knobs[i].why);
		if (dropped->n < 3) {
			dropped->knob[dropped->n] = knobs[i].knob;
			snprintf(dropped->why[dropped->n], sizeof(dropped->why[0]), "%s", knobs[i].why);
			dropped->n++;
		}
		*knobs[i].value = 0;
	}
	return 0;
}

/* "annotations memgate.io/a and memgate.io/b are not enforced on this kernel: why; ..." */
static size_t format_dropped(const struct dropped *d, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < d->n; i++) {
		int same = 0, first = i;

		/* Knobs that share a reason share a clause, written at its first knob. */
		for (int j = 0; j < i; j++)
			if (!strcmp(d->why[j], d->why[i])) {
				first = j;
				break;
			}
		if (first != i)
			continue;
		for (int j = i; j < d->n; j++)
			same += !strcmp(d->why[j], d->why[i]);
		n += snprintf(buf + n, n < size ? size - n : 0, "%sannotation%s ", n ? "; " : "",
			      same > 1 ? "s" : "");
		for (int j = i, k = 0; j < d->n; j++) {
			if (strcmp(d->why[j], d->why[i]))
				continue;
			n += snprintf(buf + n, n < size ? size - n : 0, "%s" MG_ANNOTATION_PREFIX "%s",
				      k == 0 ? "" : k + 1 == same ? " and " : ", ", d->knob[j]);
			k++;
		}
		n += snprintf(buf + n, n < size ? size - n : 0,
			      " %s not enforced on this kernel: %s", same > 1 ? "are" : "is", d->why[i]);
	}
	return n;
}

static bool policy_empty(const struct mg_policy *policy)
{
	return !(policy->commit_limit || policy->pressure_gate || policy->fork_gate ||
		 (policy->flags & MG_MONITOR));
}

static bool knobs_empty(const struct mg_policy *policy)
{
	return !(policy->commit_limit || policy->pressure_gate || policy->fork_gate);
}

/*
 * Every hook run prunes what failed starts and lost poststops left behind.
 * This one is for runs that touch no policy: it never fails a start.
 */
static void prune_quietly(unsigned int lock_timeout_ms)
{
	struct mg_shared shared __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	struct mg_error ignored;

	if ((!mg_shared_exists() && !mg_shared_retired_exist()) ||
	    mg_shared_lock(&shared, lock_timeout_ms, &ignored) < 0)
		return;
	mg_shared_serve_retired(NULL);
	if (!mg_shared_exists() || mg_shared_open(&shared, false, &ignored) < 0)
		return;
	mg_shared_prune(&shared);
	mg_shared_release_if_unused(&shared, &ignored);
}

/* The one warning line of a start under on-unsupported: warn. */
static void warn_dropped(const struct dropped *dropped, const struct mg_policy *policy,
			 const char *monitor_why)
{
	char msg[MG_ERROR_LEN];
	size_t n;

	if (!dropped->n && !monitor_why)
		return;
	n = format_dropped(dropped, msg, sizeof(msg));
	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (monitor_why)
		snprintf(msg + n, sizeof(msg) - n, "%smemgate can not run on this kernel (%s): the "
			 "container starts unmonitored", n ? "; " : "", monitor_why);
	else if (knobs_empty(policy))
		snprintf(msg + n, sizeof(msg) - n, "; the container is monitored only");
	report(LOG_WARNING, msg);
}

/* One warning line per pod-wide knob that can not apply to this container. */
static void warn_left_out(const struct mg_policy_spec *spec, const struct mg_policy_bytes *bytes,
			  uint64_t memory_max, const struct mg_kube_names *kube)
{
	struct mg_error why;

	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		if (!(bytes->left_out & MG_KNOB_BIT(k)))
			continue;
		mg_config_why_left_out(spec, k, memory_max, kube->container, &why);
		report(LOG_WARNING, why.msg);
	}
}

static int start(const struct mg_state *state, const struct mg_policy_spec *spec,
		 const struct mg_config *cfg, const struct mg_kube_names *kube,
		 struct mg_error *err)
{
	struct mg_shared shared __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	_cleanup_close_ int cgroup_fd = -1;
	struct mg_policy_bytes bytes;
	struct mg_support support;
	struct mg_policy policy;
	struct mg_cgroup cg;
	struct dropped dropped = {};
	struct mg_policy_spec s = *spec;
	uint64_t memory_max = 0;
	int ret;

	/* A policy to apply, by a runtime that can not: say so, not "cannot open the lock". */
	if (not_root.msg[0]) {
		*err = not_root;
		return -EPERM;
	}
	ret = mg_cgroup_of_pid(state->pid, &cg, err);
	if (ret < 0)
		return ret;
	if (cg.level > MG_MAX_CGROUP_LEVEL)
		return mg_fail(err, EINVAL,
			       "the container's cgroup %s is %u levels deep; memgate finds policies "
			       "down to level %d",
			       cg.path, cg.level, MG_MAX_CGROUP_LEVEL);
	/* Monitor mode needs no memory.max, unless the admin's bounds hold it to enforce. */
	if (spec->pressure_gate.kind || spec->fork_gate.kind) {
		ret = mg_cgroup_memory_max(&cg, &memory_max, err);
		if (ret < 0 && spec->mode == MG_MODE_MONITOR) {
			*err = (struct mg_error){};
		} else if (ret < 0 && spec->warn_unsupported) {
			/* No memory controller (a cgroup v1 memory hierarchy): the gates can not measure. */
			static const struct mg_policy_spec none;
			static const enum mg_knob gates[] = { MG_KNOB_PRESSURE_GATE, MG_KNOB_FORK_GATE };

			for (size_t i = 0; i < 2; i++) {
				if (!(s.set & MG_KNOB_BIT(gates[i])))
					continue;
				mg_policy_copy_knob(&s, &none, gates[i]);
				dropped.knob[dropped.n] = mg_knob_name(gates[i]);
				snprintf(dropped.why[dropped.n++], sizeof(dropped.why[0]),
					 "the container's cgroup has no memory controller (%.200s)", err->msg);
			}
			*err = (struct mg_error){};
		} else if (ret < 0) {
			mg_error_prefix(err, "the memory controller is not enabled for the container's cgroup");
			return ret;
		}
	}
	ret = mg_config_resolve(cfg, &s, memory_max, &bytes, err);
	if (ret < 0)
		return ret;
	warn_left_out(spec, &bytes, memory_max, kube);
	/* Monitor mode records only (no knob applies, the sizes are 0): no trampoline. */
	policy = (struct mg_policy){
		.commit_limit = bytes.commit_limit,
		.pressure_gate = bytes.pressure_gate,
		.fork_gate = bytes.fork_gate,
		.flags = bytes.mode == MG_MODE_AUDIT	 ? MG_AUDIT :
			 bytes.mode == MG_MODE_MONITOR ? MG_MONITOR :
							 0,
		.level = cg.level,
	};
	if (bytes.mode_held) {
		char note[MG_ERROR_LEN];

		mg_config_mode_note(cfg, spec, &bytes, note, sizeof(note));
		report(LOG_WARNING, note);
	}
	/* Nothing to enforce (mode or on-unsupported alone, or all refused): no BPF to touch. */
	mg_shared_support(&support, NULL);
	ret = check_support(&policy, spec, &support, &dropped, err);
	if (ret == 0 && dropped.n && knobs_empty(&policy))
		policy.flags |= MG_MONITOR; /* on-unsupported: warn falls back to monitoring */
	if (ret < 0 || policy_empty(&policy)) {
		prune_quietly(cfg->lock_timeout_ms);
		return ret;
	}
	cgroup_fd = open(cg.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0)
		return mg_fail_errno(err, errno, "cannot open cgroup %s", cg.path);

	ret = mg_shared_lock(&shared, cfg->lock_timeout_ms, err);
	if (ret < 0)
		return ret;
	mg_shared_serve_retired(NULL);
	ret = mg_shared_open(&shared, true, err);
	if (ret < 0) {
		/* warn keeps its promise even when nothing of memgate loads. */
		if (spec->warn_unsupported && ret != -EPROTO) {
			warn_dropped(&dropped, &policy, err->msg);
			*err = (struct mg_error){};
			ret = 0;
		}
		goto release;
	}
	mg_shared_prune(&shared);
	mg_shared_support(&support, &shared);
	ret = check_support(&policy, spec, &support, &dropped, err);
	if (ret < 0)
		goto release;
	if (dropped.n && knobs_empty(&policy))
		policy.flags |= MG_MONITOR;
	ret = mg_shared_add(&shared, state->id, cg.id, cgroup_fd, &policy, err);
	if (ret == 0)
		warn_dropped(&dropped, &policy, NULL);
	/* For memgate status; a policy without its names still holds. */
	if (ret == 0 && kube->container[0]) {
		struct mg_error why;

		if (mg_shared_set_kube(cg.id, kube, &why) < 0)
			report(LOG_WARNING, why.msg);
	}
release:
	/* Nothing half-done: no pins without a policy behind them. */
	{
		struct mg_error ignored;

		mg_shared_release_if_unused(&shared, &ignored);
	}
	return ret;
}

static int stop(const struct mg_state *state, struct mg_error *err)
{
	struct mg_shared shared __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	int ret;

	/* Not root: this runtime's prestart could not have added anything. */
	if (not_root.msg[0] || (!mg_shared_exists() && !mg_shared_retired_exist()))
		return 0;
	ret = mg_shared_lock(&shared, mg_config_lock_timeout(), err);
	if (ret < 0)
		return ret;
	mg_shared_serve_retired(state->id);
	if (!mg_shared_exists())
		return 0;
	ret = mg_shared_open(&shared, false, err);
	if (ret == -EPROTO) /* a newer memgate's tree: this container is not in it */
		return 0;
	if (ret < 0)
		return ret;
	mg_shared_prune(&shared);
	ret = mg_shared_remove(&shared, state->id, err);
	if (ret < 0)
		return ret;
	return mg_shared_release_if_unused(&shared, err);
}

/* libbpf's diagnostics are for whoever debugs memgate, not for the runtime's stderr. */
static int libbpf_to_syslog(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	vsyslog(LOG_DEBUG, fmt, ap);
	return 0;
}

static int run(int argc, char **argv, struct mg_error *err)
{
	struct mg_state state __attribute__((cleanup(mg_state_free))) = {};
	_cleanup_free_ char *input = NULL;
	json_object *annotations = NULL;
	struct mg_kube_names kube;
	struct mg_policy_spec spec;
	struct mg_config cfg;
	enum stage stage;
	size_t len;
	int ret;

	ret = mg_state_read(STDIN_FILENO, MG_STATE_MAX, &input, &len, err);
	if (ret < 0)
		return ret;
	ret = mg_state_parse(input, len, &state, err);
	if (ret < 0)
		return ret;
	ret = stage_from(argc, argv, &state, &stage, err);
	if (ret < 0)
		return ret;
	if (stage == STAGE_STOP)
		return stop(&state, err);

	if (state.annotations) {
		annotations = json_object_get(state.annotations);
	} else if (state.bundle) {
		ret = mg_spec_annotations(state.bundle, &annotations, err);
		if (ret < 0)
			return ret;
	}
	ret = mg_policy_parse(annotations, &spec, err);
	mg_kube_names(annotations, &kube);
	json_object_put(annotations);
	if (ret < 0)
		return ret;
	/* A broken admin file refuses only the containers that ask for something. */
	ret = mg_config_load(mg_config_path(), &cfg, err);
	if (ret < 0 && !spec.present) {
		mg_error_prefix(err, "container %s sets no knob, so this is ignored", state.id);
		report(LOG_WARNING, err->msg);
		prune_quietly(cfg.lock_timeout_ms);
		return 0;
	}
	if (ret < 0)
		return ret;
	mg_config_defaults(&cfg, &spec);
	if (!spec.present) {
		prune_quietly(cfg.lock_timeout_ms);
		return 0;
	}
	return start(&state, &spec, &cfg, &kube, err);
}

int main(int argc, char **argv)
{
	struct mg_error err = {};
	int ret;

	/* Connect to syslog now: once confined, the hook can not open a socket. */
	openlog("memgate-hook", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	libbpf_set_print(libbpf_to_syslog);
	mg_need_root(&not_root);
	/*
	 * Before any input is read, so all parsing runs confined.  Confinement is
	 * defence in depth: failing it must not block a container (a kernel
	 * without seccomp, or a runtime's own filter refusing seccomp()), so warn.
	 */
	if (mg_confine_hook(NULL, &err) < 0) {
		mg_error_prefix(&err, "running unconfined");
		report(LOG_WARNING, err.msg);
		err = (struct mg_error){};
	}
	ret = run(argc, argv, &err);
	if (ret < 0) {
		report(LOG_ERR, err.msg);
		return 1;
	}
	return 0;
}
