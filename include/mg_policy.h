/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A container's memgate policy: what the annotations ask for (mg_policy_spec)
 * and what it resolves to once the container's memory.max is known.
 * The hook and `memgate validate` share this parser, so they can not disagree.
 */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "mg_error.h"

#define MG_ANNOTATION_PREFIX "memgate.io/"
/* Bytes of an escaped annotation value an error line shows (its key: half). */
#define MG_ANNOTATION_SHOWN 160

enum mg_size_kind {
	MG_SIZE_UNSET = 0,
	MG_SIZE_BYTES,
	MG_SIZE_PERCENT,
};

#define MG_QUANTITY_MAX_LEN 64 /* characters in a quantity we accept */
#define MG_SIZE_KEY_LEN 256

struct mg_size {
	enum mg_size_kind kind;
	uint64_t bytes;	  /* MG_SIZE_BYTES */
	unsigned percent; /* MG_SIZE_PERCENT: 1..100 of memory.max */
	/* Where it came from, so mg_policy_resolve() can name it in errors. */
	char key[MG_SIZE_KEY_LEN];	    /* annotation key, "" when not from one */
	char text[MG_QUANTITY_MAX_LEN + 1]; /* the value as written */
};

enum mg_mode {
	MG_MODE_ENFORCE = 0,
	MG_MODE_AUDIT = 1,
	MG_MODE_MONITOR = 2, /* no knob applies: OOM kills, reclaim and usage recorded only */
};

/* "enforce", "audit" or "monitor": the one table of modes (oci/policy.c). */
const char *mg_mode_name(enum mg_mode mode);
/* The mode's flags in struct mg_policy (MG_AUDIT, MG_MONITOR), and back. */
uint32_t mg_mode_flags(enum mg_mode mode);
enum mg_mode mg_mode_of_flags(uint32_t flags);

/* The knobs, in the order memgate.io/ names them. */
enum mg_knob {
	MG_KNOB_COMMIT_LIMIT,
	MG_KNOB_PRESSURE_GATE,
	MG_KNOB_FORK_GATE,
	MG_KNOB_MODE,
	MG_KNOB_ON_UNSUPPORTED,
	MG_KNOB_COUNT,
};

#define MG_KNOB_BIT(k) (1u << (k))
#define MG_KNOB_SIZES                                                                              \
	(MG_KNOB_BIT(MG_KNOB_COMMIT_LIMIT) | MG_KNOB_BIT(MG_KNOB_PRESSURE_GATE) |                  \
	 MG_KNOB_BIT(MG_KNOB_FORK_GATE))

/* "commit-limit", ...; NULL past MG_KNOB_COUNT. */
const char *mg_knob_name(enum mg_knob knob);

struct mg_policy_spec {
	bool present;	    /* at least one knob applies to this container */
	bool sandbox;	    /* a pod sandbox: no policy, not even admin defaults */
	unsigned set;	    /* MG_KNOB_BIT() of every knob that applies */
	unsigned defaulted; /* of those, the ones taken from the admin defaults */
	/*
	 * Of those, the ones a pod-wide memgate.io/<knob> set on a Kubernetes
	 * container (one with a container name): such a knob that can not apply
	 * to this container is left out for it (mg_config_resolve).
	 */
	unsigned podwide;
	struct mg_size commit_limit;
	struct mg_size pressure_gate;
	struct mg_size fork_gate;
	enum mg_mode mode;
	bool warn_unsupported; /* memgate.io/on-unsupported: warn */
};

/* Parse "512Mi", "2Gi", "1G", "1500M", "4096", "1.5Gi" (a Kubernetes quantity). */
int mg_parse_quantity(const char *text, uint64_t *bytes, struct mg_error *err);

/* Parse SIZE, or also PERCENT ("80%") when allow_percent. */
int mg_parse_size(const char *text, bool allow_percent, struct mg_size *out, struct mg_error *err);

/*
 * Turn an annotations object (string -> string) into a spec.  Handles
 * `memgate.io/<knob>.<container-name>` overrides keyed by
 * io.kubernetes.container.name, and leaves pod sandbox containers alone
 * (spec->present = false).  annotations may be NULL.
 */
int mg_policy_parse(json_object *annotations, struct mg_policy_spec *spec, struct mg_error *err);

/*
 * Set one knob from its value as an annotation would carry it ("512Mi",
 * "80%", "audit"): the same parser, for the admin configuration.
 */
int mg_policy_set(struct mg_policy_spec *spec, const char *knob, const char *value,
		  struct mg_error *err);

/* Copy knob from src to dst, or clear it in dst when src does not set it. */
void mg_policy_copy_knob(struct mg_policy_spec *dst, const struct mg_policy_spec *src,
			 enum mg_knob knob);

/* The size behind a size knob; NULL for mode and on-unsupported. */
const struct mg_size *mg_policy_size(const struct mg_policy_spec *spec, enum mg_knob knob);

/* A size in bytes; -EINVAL for a percentage when memory_max is 0 (no limit). */
int mg_size_bytes(const struct mg_size *size, uint64_t memory_max, uint64_t *bytes);

/* Bytes the way a user writes them: "64Mi", "1.5Gi", "1G", "4097". */
#define MG_SIZE_TEXT_LEN 32
const char *mg_format_size(uint64_t bytes, char buf[MG_SIZE_TEXT_LEN]);

/* A resolved policy: sizes in bytes, 0 meaning "not set". */
struct mg_policy_bytes {
	uint64_t commit_limit;
	uint64_t pressure_gate;
	uint64_t fork_gate;
	enum mg_mode mode;
	unsigned left_out; /* MG_KNOB_BIT() of pod-wide knobs that could not apply here */
	/*
	 * MG_KNOB_BIT()s of the knobs the admin bounds (a ceiling, or a
	 * default) that held the container's own audit or monitor mode to
	 * enforce; 0 when its mode applies (mg_config_resolve()).
	 */
	unsigned mode_held;
};

/* The bytes of a size knob; 0 for mode and on-unsupported. */
uint64_t mg_policy_knob_bytes(const struct mg_policy_bytes *b, enum mg_knob knob);

/* memory_max is the container's memory.max in bytes, 0 when it has none. */
int mg_policy_resolve(const struct mg_policy_spec *spec, uint64_t memory_max,
		      struct mg_policy_bytes *out, struct mg_error *err);

/* Who a Kubernetes container is, as its runtime's annotations say; "" when unsaid. */
#define MG_KUBE_NAME_LEN 254 /* a pod name is a DNS subdomain: at most 253 bytes */
struct mg_kube_names {
	char namespace[MG_KUBE_NAME_LEN];
	char pod[MG_KUBE_NAME_LEN];
	char container[MG_KUBE_NAME_LEN];
};

/*
 * CRI-O's io.kubernetes.{container.name,pod.name,pod.namespace} or
 * containerd's io.kubernetes.cri.{container-name,sandbox-name,
 * sandbox-namespace}, truncated to fit.  Tenant bytes: escape them before
 * printing.  False when no container name is given (not Kubernetes).
 */
bool mg_kube_names(json_object *annotations, struct mg_kube_names *out);

#endif
