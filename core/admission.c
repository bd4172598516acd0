// SPDX-License-Identifier: GPL-2.0-only
/*
 * Admission: from a container's parsed policy (annotations with the admin's
 * defaults) to the policy applied in the pinned maps, or a refusal; and its
 * release when the container stops.  Any front-end calls these: the OCI
 * hook today.  Warnings go through the caller's warn(), one line each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mg_admission.h"
#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_shared.h"

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
		{ &policy->commit_limit, support->commit, mg_knob_name(MG_KNOB_COMMIT_LIMIT),
		  support->why_not_commit },
		{ &policy->pressure_gate, support->commit, mg_knob_name(MG_KNOB_PRESSURE_GATE),
		  support->why_not_commit },
		{ &policy->fork_gate, support->fork_gate, mg_knob_name(MG_KNOB_FORK_GATE),
		  support->why_not_fork },
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
void mg_admit_nothing(unsigned int lock_timeout_ms)
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
static void warn_dropped(const struct mg_admission *req, const struct dropped *dropped,
			 const struct mg_policy *policy, const char *monitor_why)
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
	req->warn(msg, req->ctx);
}

/* One warning line per pod-wide knob that can not apply to this container. */
static void warn_left_out(const struct mg_admission *req, const struct mg_policy_bytes *bytes,
			  uint64_t memory_max)
{
	struct mg_error why;

	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		if (!(bytes->left_out & MG_KNOB_BIT(k)))
			continue;
		mg_config_why_left_out(req->spec, k, memory_max, req->kube->container, &why);
		req->warn(why.msg, req->ctx);
	}
}

int mg_admit(const struct mg_admission *req, struct mg_error *err)
{
	const struct mg_policy_spec *spec = req->spec;
	const struct mg_config *cfg = req->cfg;
	const struct mg_kube_names *kube = req->kube;
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

	ret = mg_cgroup_of_pid(req->pid, &cg, err);
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
	warn_left_out(req, &bytes, memory_max);
	/* Monitor mode records only (no knob applies, the sizes are 0): no trampoline. */
	policy = (struct mg_policy){
		.commit_limit = bytes.commit_limit,
		.pressure_gate = bytes.pressure_gate,
		.fork_gate = bytes.fork_gate,
		.flags = mg_mode_flags(bytes.mode),
		.level = cg.level,
	};
	if (bytes.mode_held) {
		char note[MG_ERROR_LEN];

		mg_config_mode_note(cfg, spec, &bytes, note, sizeof(note));
		req->warn(note, req->ctx);
	}
	/* Nothing to enforce (mode or on-unsupported alone, or all refused): no BPF to touch. */
	mg_shared_support(&support, NULL);
	ret = check_support(&policy, spec, &support, &dropped, err);
	if (ret == 0 && dropped.n && knobs_empty(&policy))
		policy.flags |= MG_MONITOR; /* on-unsupported: warn falls back to monitoring */
	if (ret < 0 || policy_empty(&policy)) {
		mg_admit_nothing(cfg->lock_timeout_ms);
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
			warn_dropped(req, &dropped, &policy, err->msg);
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
	ret = mg_shared_add(&shared, req->id, cg.id, cgroup_fd, &policy, err);
	if (ret == 0)
		warn_dropped(req, &dropped, &policy, NULL);
	/* For memgate status; a policy without its names still holds. */
	if (ret == 0 && kube->container[0]) {
		struct mg_error why;

		if (mg_shared_set_kube(cg.id, kube, &why) < 0)
			req->warn(why.msg, req->ctx);
	}
release:
	/* Nothing half-done: no pins without a policy behind them. */
	{
		struct mg_error ignored;

		mg_shared_release_if_unused(&shared, &ignored);
	}
	return ret;
}

int mg_release(const char *id, struct mg_error *err)
{
	struct mg_shared shared __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	int ret;

	if (!mg_shared_exists() && !mg_shared_retired_exist())
		return 0;
	ret = mg_shared_lock(&shared, mg_config_lock_timeout(), err);
	if (ret < 0)
		return ret;
	mg_shared_serve_retired(id);
	if (!mg_shared_exists())
		return 0;
	ret = mg_shared_open(&shared, false, err);
	if (ret == -EPROTO) /* a newer memgate's tree: this container is not in it */
		return 0;
	if (ret < 0)
		return ret;
	mg_shared_prune(&shared);
	ret = mg_shared_remove(&shared, id, err);
	if (ret < 0)
		return ret;
	return mg_shared_release_if_unused(&shared, err);
}
