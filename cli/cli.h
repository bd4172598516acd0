/* SPDX-License-Identifier: GPL-2.0-only */
/* What the CLI's files share: the command table, options, the renderers' helpers. */
#ifndef MG_CLI_H
#define MG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "memgate.h"
#include "mg_error.h"
#include "mg_policy.h"
#include "mg_shared.h"

/* One file each: cli/<name>.c. */
int cmd_status(int argc, char **argv, struct mg_error *err);
int cmd_events(int argc, char **argv, struct mg_error *err);
int cmd_probe(int argc, char **argv, struct mg_error *err);
int cmd_gc(int argc, char **argv, struct mg_error *err);
int cmd_validate(int argc, char **argv, struct mg_error *err);
int cmd_preload(int argc, char **argv, struct mg_error *err);
int cmd_help(int argc, char **argv, struct mg_error *err);

struct command {
	const char *name;
	int (*fn)(int, char **, struct mg_error *);
	bool root; /* reads or changes memgate's state, or loads BPF */
	const char *synopsis;
	const char *help;
};

/* main.c: the table; help.c: what is printed of it. */
extern const struct command commands[];
extern const size_t n_commands;
const struct command *find_command(const char *name);
void usage(FILE *f);
void command_help(const struct command *c);

/* main.c: options after the command, argv[2] on. */
bool has_flag(int argc, char **argv, const char *flag);
int check_flags(int argc, char **argv, const char *const *known, struct mg_error *err);

/* status.c: a snapshot as a table, one JSON document or Prometheus text (test_status.c). */
struct mg_snapshot;
void render_table(const struct mg_snapshot *snap);
void render_json(const struct mg_snapshot *snap);
void render_prometheus(const struct mg_snapshot *snap);

/* render.c */
const char *kind_name(__u32 kind);
const char *mode_name(const struct mg_policy *policy);
/* JSON text on stdout, with nothing raw that a terminal would act on. */
void put_json(const char *text);
/* put_json() of obj, pretty, then obj is put. */
void print_json(json_object *obj);
json_object *u64(uint64_t v);
json_object *denial_json(const struct mg_denial *d);
json_object *oom_kill_json(const struct mg_denial *d);

/* A process name from the kernel, as a tenant set it: escaped (comm need not end in NUL). */
#define COMM_LEN sizeof(((struct mg_denial *)0)->comm)
#define COMM_TEXT (COMM_LEN * 5 + 1)
const char *comm_text(const char *comm, char buf[COMM_TEXT]);
/* A container id, escaped for a terminal or, prometheus, for a label value. */
#define ID_TEXT (MG_ID_LEN * 5 + 1)
const char *id_text(const char *id, bool prometheus, char buf[ID_TEXT]);

/* Older layouts' trees, still serving their containers after an upgrade (the first few). */
void print_retired(const struct mg_retired *retired, size_t n);

#endif
