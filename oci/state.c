// SPDX-License-Identifier: GPL-2.0-only
/*
 * The OCI runtime state a hook receives on stdin (runtime-spec runtime.md,
 * "State").  The runtime is trusted but may be buggy, so every field is
 * checked and every failure names the field and what was expected.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_cleanup.h"
#include "mg_oci.h"
#include "mg_read.h"

static const char state_what[] = "OCI state";

/* The state as the hook reads it; messages name "OCI state on stdin". */
int mg_state_read(int fd, size_t max, char **buf, size_t *len, struct mg_error *err)
{
	return mg_read_bounded(fd, max, "OCI state on stdin", buf, len, err);
}

static const char *type_name(json_object *obj)
{
	switch (json_object_get_type(obj)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
		return "number";
	case json_type_int:
		return "integer";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	}
	return "unknown";
}

int mg_json_parse_object(const char *buf, size_t len, const char *what, json_object **obj,
			 struct mg_error *err)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *root;
	size_t end;

	*obj = NULL;
	if (len > INT_MAX)
		return mg_fail(err, EFBIG, "%s: %zu bytes is too large to parse", what, len);
	/* One tokener frame per level: the depth bounds its memory and json-c's recursive free. */
	tok = json_tokener_new_ex(MG_JSON_DEPTH);
	if (!tok)
		return mg_fail_errno(err, ENOMEM, "%s: creating JSON parser", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);

	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* A NUL tells the tokener the input ended: truncated input then fails here. */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	json_tokener_free(tok);

	if (jerr == json_tokener_error_depth) {
		json_object_put(root);
		return mg_fail(err, E2BIG, "%s: JSON nested deeper than %d levels at byte %zu",
			       what, MG_JSON_DEPTH, end);
	}
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		return mg_fail(err, EINVAL, "%s: invalid JSON: %s at byte %zu", what,
			       json_tokener_error_desc(jerr), end);
	}
	/* Strict mode already rejects trailing data; this guards against a tokener change. */
	for (; end < len; end++) {
		char c = buf[end];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			json_object_put(root);
			return mg_fail(err, EINVAL, "%s: invalid JSON: trailing data at byte %zu",
				       what, end);
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		const char *type = type_name(root);

		json_object_put(root);
		return mg_fail(err, EINVAL, "%s: expected a JSON object, got %s", what, type);
	}
	*obj = root;
	return 0;
}

int mg_annotations_check(json_object *annotations, const char *what, struct mg_error *err)
{
	if (!annotations)
		return 0;
	if (!json_object_is_type(annotations, json_type_object))
		return mg_fail(err, EINVAL, "%s: \"annotations\": expected object, got %s", what,
			       type_name(annotations));
	json_object_object_foreach(annotations, key, val)
	{
		char k[256];

		if (json_object_is_type(val, json_type_string))
			continue;
		/* The key is input: one printable line (a fuzz find). */
		mg_printable(k, sizeof(k), key);
		return mg_fail(err, EINVAL, "%s: \"annotations\".\"%s\": expected string, got %s",
			       what, k, type_name(val));
	}
	return 0;
}

/* Look up an optional field; JSON null counts as absent. */
static json_object *field(json_object *obj, const char *name)
{
	json_object *val = NULL;

	if (!json_object_object_get_ex(obj, name, &val) || json_object_is_type(val, json_type_null))
		return NULL;
	return val;
}

static int dup_string(json_object *root, const char *name, bool required, char **out,
		      struct mg_error *err)
{
	json_object *val = field(root, name);

	*out = NULL;
	if (!val) {
		if (required)
			return mg_fail(err, EINVAL, "%s: \"%s\" is missing (expected string)",
				       state_what, name);
		return 0;
	}
	if (!json_object_is_type(val, json_type_string))
		return mg_fail(err, EINVAL, "%s: \"%s\": expected string, got %s", state_what, name,
			       type_name(val));
	*out = strdup(json_object_get_string(val));
	if (!*out)
		return mg_fail_errno(err, ENOMEM, "%s: copying \"%s\"", state_what, name);
	return 0;
}

static int get_pid(json_object *root, pid_t *pid, struct mg_error *err)
{
	json_object *val = field(root, "pid");
	int64_t v;

	*pid = 0;
	if (!val)
		return 0;
	if (!json_object_is_type(val, json_type_int))
		return mg_fail(err, EINVAL, "%s: \"pid\": expected integer, got %s", state_what,
			       type_name(val));
	v = json_object_get_int64(val);
	if (v < 0 || v > INT_MAX)
		return mg_fail(err, ERANGE, "%s: \"pid\": expected integer from 0 to %d, got %s",
			       state_what, INT_MAX, json_object_get_string(val));
	*pid = (pid_t)v;
	return 0;
}

int mg_state_parse(const char *buf, size_t len, struct mg_state *state, struct mg_error *err)
{
	_cleanup_json_ json_object *root = NULL;
	struct mg_state s = {0};
	json_object *ann;
	int ret;

	memset(state, 0, sizeof(*state));
	if (len == 0)
		return mg_fail(err, ENODATA, "%s is empty", state_what);
	ret = mg_json_parse_object(buf, len, state_what, &root, err);
	if (ret)
		return ret;

	ret = dup_string(root, "id", true, &s.id, err);
	if (!ret && !s.id[0])
		ret = mg_fail(err, EINVAL, "%s: \"id\": expected non-empty string", state_what);
	if (!ret)
		ret = dup_string(root, "status", true, &s.status, err);
	if (!ret)
		ret = get_pid(root, &s.pid, err);
	if (!ret)
		ret = dup_string(root, "bundle", false, &s.bundle, err);
	ann = field(root, "annotations");
	if (!ret)
		ret = mg_annotations_check(ann, state_what, err);
	if (ret) {
		mg_state_free(&s);
		return ret;
	}
	s.annotations = ann ? json_object_get(ann) : NULL;
	*state = s;
	return 0;
}

void mg_state_free(struct mg_state *state)
{
	if (!state)
		return;
	free(state->id);
	free(state->status);
	free(state->bundle);
	json_object_put(state->annotations);
	memset(state, 0, sizeof(*state));
}
