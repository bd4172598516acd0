// SPDX-License-Identifier: GPL-2.0-only
/* memgate help [COMMAND], memgate --help, memgate COMMAND --help. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "version.h"

void usage(FILE *f)
{
	fprintf(f, "memgate %s: per-container memory policy, enforced by BPF\n\n", MG_VERSION);
	for (size_t i = 0; i < n_commands; i++)
		fprintf(f, "%s memgate %s %s\n", i ? "      " : "usage:", commands[i].name,
			commands[i].synopsis);
	fprintf(f, "       memgate --version\n\n"
		   "Every command but validate and help needs root. memgate COMMAND --help, or\n"
		   "memgate(8), says more. Exit status: 0 done, 1 failed (a bad option included),\n"
		   "2 no command or an unknown one.\n");
}

void command_help(const struct command *c)
{
	printf("usage: memgate %s %s\n\n%s", c->name, c->synopsis, c->help);
	if (c->root)
		printf("Needs root.\n");
}

const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < n_commands; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

int cmd_help(int argc, char **argv, struct mg_error *err)
{
	const struct command *c;

	if (argc < 3) {
		usage(stdout);
		return 0;
	}
	c = find_command(!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h") ? "help" : argv[2]);
	if (!c || argc > 3)
		return mg_fail(err, EINVAL, "unknown command '%s' (expected status, events, probe, "
					    "gc, preload, validate or help)",
			       argv[2]);
	command_help(c);
	return 0;
}
