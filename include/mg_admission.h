/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Admission (core/admission.c): a container's parsed policy in, the policy
 * applied in the pinned maps out, or one line saying why not.  The front-end
 * parses (oci/) and reports; this decides and applies.
 */
#ifndef MG_ADMISSION_H
#define MG_ADMISSION_H

#include <sys/types.h>

#include "mg_config.h"
#include "mg_error.h"
#include "mg_policy.h"

struct mg_admission {
	const char *id;	 /* the container's id: its entry in maps/containers */
	pid_t pid;	 /* a process of the container: its cgroup v2 is governed */
	const struct mg_policy_spec *spec; /* annotations, the admin's defaults applied */
	const struct mg_config *cfg;	   /* the admin's bounds and lock-timeout */
	const struct mg_kube_names *kube;  /* container "" when not Kubernetes' */
	/* Each warning, one line, not escaped: a knob dropped, a mode held, ... */
	void (*warn)(const char *line, void *ctx);
	void *ctx;
};

/*
 * Apply req's policy: resolved against the container's memory.max and the
 * admin's bounds, checked against what this kernel enforces (refused, or
 * dropped with one warning under on-unsupported: warn), registered under the
 * lock, loading memgate first when needed.  Nothing half-done on failure.
 */
int mg_admit(const struct mg_admission *req, struct mg_error *err);

/* A container that stops: forget its policy, unload memgate after the last. */
int mg_release(const char *id, struct mg_error *err);

/* A run that applies nothing still prunes what failed starts left; never fails. */
void mg_admit_nothing(unsigned int lock_timeout_ms);

#endif
