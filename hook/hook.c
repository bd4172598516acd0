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
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "mg_admission.h"
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

/* libbpf's diagnostics are for whoever debugs memgate, not for the runtime's stderr. */
static int libbpf_to_syslog(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	vsyslog(LOG_DEBUG, fmt, ap);
	return 0;
}

/* Admission's warnings: on stderr and in syslog, each one line. */
static void warn(const char *line, void *ctx)
{
	report(LOG_WARNING, line);
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
	/* Not root: this runtime's prestart could not have added anything. */
	if (stage == STAGE_STOP)
		return not_root.msg[0] ? 0 : mg_release(state.id, err);

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
		mg_admit_nothing(cfg.lock_timeout_ms);
		return 0;
	}
	if (ret < 0)
		return ret;
	mg_config_defaults(&cfg, &spec);
	if (!spec.present) {
		mg_admit_nothing(cfg.lock_timeout_ms);
		return 0;
	}
	/* A policy to apply, by a runtime that can not: say so, not "cannot open the lock". */
	if (not_root.msg[0]) {
		*err = not_root;
		return -EPERM;
	}
	return mg_admit(&(struct mg_admission){ .id = state.id, .pid = state.pid, .spec = &spec,
						.cfg = &cfg, .kube = &kube, .warn = warn },
			err);
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
