// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the CLI's renderers share: names of kinds and modes, JSON on stdout
 * with nothing raw, tenant bytes escaped for a terminal or a label, the
 * retired trees' lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_cleanup.h"
#include "mg_snapshot.h"
#include "cli.h"

const char *kind_name(__u32 kind)
{
	switch (kind) {
	case MG_KIND_COMMIT: return mg_knob_name(MG_KNOB_COMMIT_LIMIT);
	case MG_KIND_PRESSURE: return mg_knob_name(MG_KNOB_PRESSURE_GATE);
	case MG_KIND_FORK: return mg_knob_name(MG_KNOB_FORK_GATE);
	case MG_KIND_OOM_KILL: return "oom-kill";
	default: return "none";
	}
}

const char *mode_name(const struct mg_policy *policy)
{
	return mg_mode_name(mg_mode_of_flags(policy->flags));
}

/* JSON text on stdout, with nothing raw that a terminal would act on. */
void put_json(const char *text)
{
	size_t len = strlen(text), n = mg_escape(NULL, 0, text, len, MG_ESCAPE_JSON);
	_cleanup_free_ char *out = malloc(n + 1);

	if (!out) {
		fprintf(stderr, "memgate: out of memory\n");
		exit(1);
	}
	mg_escape(out, n + 1, text, len, MG_ESCAPE_JSON);
	puts(out);
}

void print_json(json_object *obj)
{
	put_json(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

json_object *denial_json(const struct mg_denial *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(kind_name(d->kind)));
	json_object_object_add(o, "pid", u64(d->pid));
	json_object_object_add(o, "comm", json_object_new_string_len(d->comm, strnlen(d->comm, sizeof(d->comm))));
	json_object_object_add(o, "requested_bytes", u64(d->requested));
	json_object_object_add(o, "measured_bytes", u64(d->measured));
	json_object_object_add(o, "limit_bytes", u64(d->limit));
	json_object_object_add(o, "timestamp_ns", u64(d->timestamp_ns));
	return o;
}

/* The victim of an OOM kill: pid, comm and when. */
json_object *oom_kill_json(const struct mg_denial *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", u64(d->pid));
	json_object_object_add(o, "comm", json_object_new_string_len(d->comm, strnlen(d->comm, sizeof(d->comm))));
	json_object_object_add(o, "timestamp_ns", u64(d->timestamp_ns));
	return o;
}

/* A process name from the kernel, as a tenant set it: escaped (comm need not end in NUL). */
const char *comm_text(const char *comm, char buf[COMM_TEXT])
{
	mg_escape(buf, COMM_TEXT, comm, strnlen(comm, COMM_LEN), MG_ESCAPE_C);
	return buf;
}

/* A container id, escaped for a terminal or, prometheus, for a label value. */
const char *id_text(const char *id, bool prometheus, char buf[ID_TEXT])
{
	mg_escape(buf, ID_TEXT, id, strnlen(id, MG_ID_LEN),
		  prometheus ? MG_ESCAPE_PROMETHEUS : MG_ESCAPE_C);
	return buf;
}

/* Older layouts' trees, still serving their containers after an upgrade. */
void print_retired(const struct mg_retired *retired, size_t n)
{
	if (n > MG_SNAPSHOT_RETIRED)
		printf("%zu older layouts' trees are served; the first %d:\n", n, MG_SNAPSHOT_RETIRED);
	for (size_t i = 0; i < n && i < MG_SNAPSHOT_RETIRED; i++)
		printf("layout %" PRIu64 " state at %s: %u container%s under its policy, "
		       "served until %s\n",
		       retired[i].layout, retired[i].path, retired[i].containers,
		       retired[i].containers == 1 ? "" : "s",
		       retired[i].containers == 1 ? "it stops" : "they stop");
}
