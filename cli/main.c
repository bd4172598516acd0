// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate: read what the hook and the programs share under /sys/fs/bpf/memgate.
 *
 *   memgate status [--json | --prometheus]
 *   memgate events [--follow] [--json]
 *   memgate probe [--json] [--verbose]
 *   memgate gc [--all]
 *   memgate validate [--memory-max SIZE] [--container-name NAME] [--config FILE]
 *                    [--admin-config FILE] [KEY=VALUE...]
 *   memgate help [COMMAND], memgate COMMAND --help, memgate --version
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mg_shared.h"
#include "cli.h"
#include "version.h"

/* One row a command: cli/<name>.c has it. */
const struct command commands[] = {
	{ "status", cmd_status, true, "[--json | --prometheus]",
	  "Every container under policy: mode, committed memory, commit limit, decisions,\n"
	  "the last denial, peak memory, OOM kills and reclaim.\n"
	  "  --json        the same as one JSON document (schema in memgate(8))\n"
	  "  --prometheus  the same as Prometheus text metrics\n" },
	{ "events", cmd_events, true, "[--follow] [--json]",
	  "Denials, audited decisions and OOM kills from memgate's ring buffer.\n"
	  "  --follow  keep reading until SIGINT or SIGTERM; waits while memgate is not\n"
	  "            loaded, so it can run as a service from boot\n"
	  "  --json    one JSON object a line\n" },
	{ "probe", cmd_probe, true, "[--json] [--verbose]",
	  "What this kernel lets memgate do: first one verdict per knob and mode, then\n"
	  "each mechanism (loads, attaches, fires) and what it is for.\n"
	  "  --json     the same as one JSON document\n"
	  "  --verbose  libbpf's and the verifier's reasons for what failed\n" },
	{ "gc", cmd_gc, true, "[--all]",
	  "Remove the policy of containers whose cgroup is gone (a poststop that never\n"
	  "ran), and unload memgate when no container is left.\n"
	  "  --all  remove everything under /sys/fs/bpf/memgate, running containers' policy\n"
	  "         included\n" },
	{ "validate", cmd_validate, false,
	  "[--memory-max SIZE] [--container-name NAME] [--config FILE]\n"
	  "                        [--admin-config FILE] [KEY=VALUE...]",
	  "Check annotations with the hook's own parser, and print the policy that will\n"
	  "apply, the admin configuration included. Needs no root and no BPF.\n"
	  "  KEY=VALUE             an annotation, e.g. memgate.io/commit-limit=1Gi\n"
	  "  --memory-max SIZE     the container's memory limit, for percentages\n"
	  "  --container-name NAME the container's name in its pod, for\n"
	  "                        memgate.io/KNOB.NAME overrides\n"
	  "  --config FILE         a bundle's config.json, or an admin configuration\n"
	  "  --admin-config FILE   the admin configuration to use instead of\n"
	  "                        /etc/memgate/memgate.json ($MEMGATE_CONFIG)\n" },
	{ "preload", cmd_preload, true, "[--release]",
	  "Keep memgate loaded from boot with no container under policy (deploy/systemd),\n"
	  "so the first container starts as fast as the next.\n"
	  "  --release  stop keeping it: it goes when its last container stops\n" },
	{ "help", cmd_help, false, "[COMMAND]", "This help, or one command's.\n" },
};

const size_t n_commands = sizeof(commands) / sizeof(commands[0]);

bool has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return true;
	return false;
}

int check_flags(int argc, char **argv, const char *const *known, struct mg_error *err)
{
	for (int i = 2; i < argc; i++) {
		bool ok = false;

		for (const char *const *k = known; *k; k++)
			ok |= !strcmp(argv[i], *k);
		if (!ok)
			return mg_fail(err, EINVAL, "%s: unknown option '%s'", argv[1], argv[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;
	struct mg_error err = {};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("memgate %s\n", MG_VERSION);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "memgate: unknown command '%s' (expected status, events, probe, gc, "
				"preload, validate or help; memgate --help lists them)\n",
			argv[1]);
		return 2;
	}
	for (int i = 2; i < argc && c->fn != cmd_help; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			command_help(c);
			return 0;
		}
	if ((c->root && mg_need_root(&err) < 0) || c->fn(argc, argv, &err) < 0) {
		char msg[MG_ERROR_LEN];

		/* Nothing raw: the message may quote a tenant's annotation or id. */
		mg_escape(msg, sizeof(msg), err.msg, strlen(err.msg), MG_ESCAPE_TEXT);
		fprintf(stderr, "memgate %s: %s\n", argv[1], msg);
		return c->fn == cmd_help ? 2 : 1;
	}
	return 0;
}
