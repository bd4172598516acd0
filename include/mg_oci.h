/* SPDX-License-Identifier: GPL-2.0-only */
/* The OCI runtime state a hook reads on stdin, and the bundle's config.json. */
#ifndef MG_OCI_H
#define MG_OCI_H

#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "mg_error.h"

#define MG_STATE_MAX (1024 * 1024)     /* bytes of state JSON accepted on stdin */
#define MG_SPEC_MAX (16 * 1024 * 1024) /* bytes of config.json accepted */
#define MG_JSON_DEPTH 64		/* nesting levels of either; runc's config.json uses < 10 */

static inline void mg_json_putp(json_object **obj)
{
	if (*obj)
		json_object_put(*obj);
}

#define _cleanup_json_ __attribute__((cleanup(mg_json_putp)))

struct mg_state {
	char *id;
	char *status;		  /* creating, created, running, stopped */
	pid_t pid;		  /* 0 when absent (normal at poststop) */
	char *bundle;		  /* may be NULL */
	json_object *annotations; /* owned reference, may be NULL */
};

/* Read the state from fd (mg_read_bounded(), named "OCI state on stdin"). */
int mg_state_read(int fd, size_t max, char **buf, size_t *len, struct mg_error *err);

/* Parse buf as exactly one JSON object; messages start with `what`. */
int mg_json_parse_object(const char *buf, size_t len, const char *what, json_object **obj,
			 struct mg_error *err);

/* NULL, or an object whose values are all strings; messages start with `what`. */
int mg_annotations_check(json_object *annotations, const char *what, struct mg_error *err);

int mg_state_parse(const char *buf, size_t len, struct mg_state *state, struct mg_error *err);
void mg_state_free(struct mg_state *state);

/* Annotations from <bundle>/config.json; *annotations is NULL when it has none. */
int mg_spec_annotations(const char *bundle, json_object **annotations, struct mg_error *err);

/* The same from config.json's text already read; messages start with `what`. */
int mg_spec_annotations_parse(const char *buf, size_t len, const char *what,
			      json_object **annotations, struct mg_error *err);

#endif
