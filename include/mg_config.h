/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The admin configuration, /etc/memgate/memgate.json: defaults for containers
 * that do not set a knob, and ceilings on what annotations may ask for.
 * Keys and values are the annotations' own, parsed by mg_policy_set().
 *
 *   { "defaults": { "memgate.io/commit-limit": "1Gi" },
 *     "ceilings": { "memgate.io/commit-limit": "4Gi", "memgate.io/pressure-gate": "90%" },
 *     "lock-timeout": 10,
 *     "modes": [ "enforce", "audit" ] }
 */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mg_error.h"
#include "mg_policy.h"

#define MG_CONFIG_PATH "/etc/memgate/memgate.json"
#define MG_CONFIG_ENV "MEMGATE_CONFIG" /* overrides MG_CONFIG_PATH, for tests */
#define MG_CONFIG_MAX (64 * 1024)      /* bytes accepted */
#define MG_LOCK_TIMEOUT_MS 10000       /* "lock-timeout" when the file does not set it */
#define MG_LOCK_TIMEOUT_MAX_S 3600

struct mg_config {
	bool present; /* the file exists; otherwise no defaults and no ceilings */
	char path[4096];
	struct mg_policy_spec defaults;
	struct mg_policy_spec ceilings; /* size knobs only */
	unsigned int lock_timeout_ms;	/* how long a hook waits for memgate's lock */
	unsigned modes; /* MG_MODE_BIT()s a container may choose; 0: any */
};

#define MG_MODE_BIT(m) (1u << (m))

/* $MEMGATE_CONFIG when set and not empty, else MG_CONFIG_PATH. */
const char *mg_config_path(void);

/* Parse the file's text; messages start with "admin configuration PATH". */
int mg_config_parse(const char *buf, size_t len, const char *path, struct mg_config *cfg,
		    struct mg_error *err);

/* Read and parse path; a missing file is no configuration, not an error. */
int mg_config_load(const char *path, struct mg_config *cfg, struct mg_error *err);

/* The same reader for a file that must exist (memgate validate --admin-config). */
int mg_config_read(const char *path, struct mg_config *cfg, struct mg_error *err);

/* The lock-timeout of the admin configuration; the default when it is missing or broken. */
unsigned int mg_config_lock_timeout(void);

/* Fill every knob spec does not set from the defaults; sandboxes get none. */
void mg_config_defaults(const struct mg_config *cfg, struct mg_policy_spec *spec);

/*
 * mg_policy_resolve(), then the ceilings: an annotation above one fails,
 * naming the ceiling and the file.  A default that can not apply to this
 * container (a percentage without memory.max, a gate above memory.max, above
 * a ceiling) is left out instead: defaults never refuse a container.  So is
 * a pod-wide annotation that can not apply (spec->podwide), noted in
 * out->left_out; one above a ceiling still fails.
 * A mode the container chose that "modes" does not list fails.  A mode audit
 * or monitor the container chose is held to enforce when a knob of its policy
 * is under a ceiling or came from a default (out->mode_held says which), so
 * a tenant can neither lift a ceiling nor drop a default.  In monitor mode no
 * knob applies: out's sizes are 0.
 */
int mg_config_resolve(const struct mg_config *cfg, const struct mg_policy_spec *spec,
		      uint64_t memory_max, struct mg_policy_bytes *out, struct mg_error *err);

/*
 * The one line that says why out->mode_held kept the container's mode from
 * applying: "annotation memgate.io/mode=\"monitor\" does not apply: ...".
 */
void mg_config_mode_note(const struct mg_config *cfg, const struct mg_policy_spec *spec,
			 const struct mg_policy_bytes *out, char *buf, size_t size);

/*
 * Why mg_config_resolve() left out a pod-wide knob (out->left_out) for the
 * Kubernetes container named container: "annotation KEY=\"VALUE\": reason;
 * it is pod-wide, so container NAME starts without it".
 */
void mg_config_why_left_out(const struct mg_policy_spec *spec, enum mg_knob knob,
			    uint64_t memory_max, const char *container, struct mg_error *why);

#endif
