// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate validate: annotations and admin files through the hook's own
 * parsers and reader, under the hook's confinement; the policy that would
 * apply.  Needs no root and no BPF.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mg_cleanup.h"
#include "mg_config.h"
#include "mg_confine.h"
#include "mg_oci.h"
#include "mg_policy.h"
#include "mg_read.h"
#include "cli.h"

/* "commit-limit=1Gi mode=audit", the knobs spec sets, as written. */
static void describe(const struct mg_policy_spec *spec, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < MG_KNOB_COUNT && n < size; k++) {
		const struct mg_size *sz = mg_policy_size(spec, k);
		const char *v;

		if (!(spec->set & MG_KNOB_BIT(k)))
			continue;
		if (sz)
			v = sz->text;
		else if (k == MG_KNOB_MODE)
			v = mg_mode_name(spec->mode);
		else
			v = spec->warn_unsupported ? "warn" : "fail";
		n += snprintf(buf + n, size - n, "%s%s=%s", n ? " " : "", mg_knob_name(k), v);
	}
	if (!n)
		snprintf(buf, size, "none");
}

/* An admin file has defaults or ceilings; a bundle's config.json has neither. */
static bool is_admin_config(json_object *root)
{
	return !json_object_object_get_ex(root, "annotations", NULL) &&
	       !json_object_object_get_ex(root, "ociVersion", NULL) &&
	       (json_object_object_get_ex(root, "defaults", NULL) ||
		json_object_object_get_ex(root, "ceilings", NULL) ||
		json_object_object_get_ex(root, "modes", NULL));
}

/* --config FILE: a bundle's annotations into annotations, or the admin file into cfg. */
static int read_config(const char *path, bool force_admin, json_object *annotations,
		       struct mg_config *cfg, bool *admin, struct mg_error *err)
{
	_cleanup_json_ json_object *root = NULL, *found = NULL;
	_cleanup_free_ char *buf = NULL;
	char what[4200];
	int ret;

	/* An admin file, named as one: the hook's own reader and its messages. */
	if (force_admin) {
		*admin = true;
		return mg_config_read(path, cfg, err);
	}
	ret = mg_read_file(path, MG_SPEC_MAX, &buf, err);
	if (ret < 0)
		return ret;
	snprintf(what, sizeof(what), "OCI bundle config %s", path);
	ret = mg_json_parse_object(buf, strlen(buf), path, &root, err);
	if (ret < 0 && !force_admin)
		return ret;
	if (!force_admin && !is_admin_config(root)) {
		ret = mg_spec_annotations_parse(buf, strlen(buf), what, &found, err);
		if (ret < 0 || !found)
			return ret;
		json_object_object_foreach(found, k, v)
			json_object_object_add(annotations, k, json_object_get(v));
		return 0;
	}
	*admin = true;
	if (strlen(buf) > MG_CONFIG_MAX)
		return mg_fail(err, EFBIG, "admin configuration %s exceeds %d bytes", path,
			       MG_CONFIG_MAX);
	return mg_config_parse(buf, strlen(buf), path, cfg, err);
}

/* The knob a key names, whatever its case or prefix ("commit-limit", "MEMGATE.IO/mode.web"). */
static const char *knob_of(const char *key)
{
	const size_t plen = strlen(MG_ANNOTATION_PREFIX);
	const char *knob = strncasecmp(key, MG_ANNOTATION_PREFIX, plen) ? key : key + plen;
	size_t len = strcspn(knob, ".");

	for (int k = 0; k < MG_KNOB_COUNT; k++)
		if (strlen(mg_knob_name(k)) == len && !strncasecmp(knob, mg_knob_name(k), len))
			return mg_knob_name(k);
	return NULL;
}

/*
 * KEY=VALUE on the command line that the hook would ignore, but that was
 * surely meant for memgate: no prefix or a prefix in capitals.
 */
static int check_prefix(const char *arg, size_t key_len, struct mg_error *err)
{
	const size_t plen = strlen(MG_ANNOTATION_PREFIX);
	char *key = strndupa(arg, key_len);
	const char *knob = knob_of(key), *rest;

	if (!strncmp(key, MG_ANNOTATION_PREFIX, plen))
		return 0;
	if (!strncasecmp(key, MG_ANNOTATION_PREFIX, plen))
		return mg_fail(err, EINVAL,
			       "'%s': annotation keys are case-sensitive, and the hook ignores this "
			       "one; did you mean " MG_ANNOTATION_PREFIX "%s%s?",
			       arg, key + plen, arg + key_len);
	if (!knob || strchr(key, '/'))
		return 0;
	rest = key + strcspn(key, ".");
	return mg_fail(err, EINVAL,
		       "'%s': no " MG_ANNOTATION_PREFIX " prefix, so the hook would ignore it; did "
		       "you mean " MG_ANNOTATION_PREFIX "%s%s%s?",
		       arg, knob, rest, arg + key_len);
}

static bool has_percent(const struct mg_policy_spec *spec)
{
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		const struct mg_size *size = mg_policy_size(spec, k);

		if (size && size->kind == MG_SIZE_PERCENT)
			return true;
	}
	return false;
}

int cmd_validate(int argc, char **argv, struct mg_error *err)
{
	const char *name = NULL;
	_cleanup_json_ json_object *annotations = NULL;
	struct mg_policy_bytes bytes;
	struct mg_policy_spec spec;
	struct mg_config cfg = {};
	char line[MG_ERROR_LEN], line2[MG_ERROR_LEN];
	uint64_t memory_max = 0;
	bool admin = false, container = false;
	int ret;

	/* The files and values it reads are as untrusted as the hook's: the same confinement. */
	if (mg_confine(mg_confine_writable, NULL, err) < 0) {
		fprintf(stderr, "memgate validate: warning: running unconfined: %s\n", err->msg);
		*err = (struct mg_error){};
	}
	annotations = json_object_new_object();
	for (int i = 2; i < argc; i++) {
		char *eq;

		if (!strcmp(argv[i], "--memory-max") && i + 1 < argc) {
			ret = mg_parse_quantity(argv[++i], &memory_max, err);
			if (ret < 0) {
				mg_error_prefix(err, "--memory-max");
				return ret;
			}
		} else if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "--admin-config")) &&
			   i + 1 < argc) {
			bool force = !strcmp(argv[i], "--admin-config"), got_admin = false;

			if (admin && force)
				return mg_fail(err, EINVAL, "more than one admin configuration");
			ret = read_config(argv[i + 1], force, annotations, &cfg, &got_admin, err);
			if (ret < 0)
				return ret;
			admin |= got_admin;
			container |= !got_admin;
			i++;
		} else if (!strcmp(argv[i], "--container-name") && i + 1 < argc) {
			name = argv[++i];
		} else if ((eq = strchr(argv[i], '=')) && eq != argv[i]) {
			ret = check_prefix(argv[i], eq - argv[i], err);
			if (ret < 0)
				return ret;
			json_object_object_add(annotations, strndupa(argv[i], eq - argv[i]),
					       json_object_new_string(eq + 1));
			container = true;
		} else {
			return mg_fail(err, EINVAL,
				       "unexpected '%s' (expected KEY=VALUE, --config FILE, "
				       "--admin-config FILE, --memory-max SIZE or --container-name "
				       "NAME)",
				       argv[i]);
		}
	}
	/* The name CRI-O and Kubernetes give; it picks memgate.io/KNOB.NAME overrides. */
	if (name) {
		json_object_object_add(annotations, "io.kubernetes.container.name",
				       json_object_new_string(name));
		json_object_object_del(annotations, "io.kubernetes.cri.container-name");
	}
	/* Without an admin file named, check what the hook would read. */
	if (!admin) {
		ret = mg_config_load(mg_config_path(), &cfg, err);
		if (ret < 0)
			return ret;
	}
	/* A file that only sets lock-timeout says nothing about containers. */
	if (cfg.present && (admin || cfg.defaults.set || cfg.ceilings.set || cfg.modes)) {
		describe(&cfg.defaults, line, sizeof(line));
		describe(&cfg.ceilings, line2, sizeof(line2));
		printf("admin configuration %s: defaults %s; ceilings %s", cfg.path, line, line2);
		if (cfg.modes) {
			printf("; modes");
			for (int m = MG_MODE_ENFORCE; m <= MG_MODE_MONITOR; m++)
				if (cfg.modes & MG_MODE_BIT(m))
					printf("%s%s", m ? ", " : " ", mg_mode_name(m));
		}
		printf("\n");
		if (admin && !container)
			return 0;
	}
	ret = mg_policy_parse(annotations, &spec, err);
	if (ret < 0)
		return ret;
	mg_config_defaults(&cfg, &spec);
	if (!spec.present) {
		printf("no memgate policy: the hook will do nothing for this container\n");
		return 0;
	}
	ret = mg_config_resolve(&cfg, &spec, memory_max, &bytes, err);
	if (ret == -EINVAL && !memory_max && has_percent(&spec)) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n,
			 "; give the container's limit with --memory-max SIZE");
	}
	if (ret < 0)
		return ret;
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		struct mg_kube_names kube;
		struct mg_error why;

		if (!(bytes.left_out & MG_KNOB_BIT(k)))
			continue;
		mg_kube_names(annotations, &kube);
		mg_config_why_left_out(&spec, k, memory_max, kube.container, &why);
		printf("warning: %s\n", why.msg);
	}
	/* The policy that will apply: a mode the admin's bounds hold, monitor's sizes of 0. */
	mg_config_mode_note(&cfg, &spec, &bytes, line, sizeof(line));
	if (line[0])
		printf("%s\n", line);
	line[0] = '\0';
	for (int k = 0, n = 0; k < MG_KNOB_COUNT; k++)
		if (spec.defaulted & MG_KNOB_BIT(k))
			n += snprintf(line + n, sizeof(line) - n, "%s%s", n ? "," : " (defaults: ",
				      mg_knob_name(k));
	printf("valid: mode=%s commit-limit=%" PRIu64 " pressure-gate=%" PRIu64 " fork-gate=%" PRIu64 "%s%s%s\n",
	       mg_mode_name(bytes.mode), bytes.commit_limit, bytes.pressure_gate,
	       bytes.fork_gate, spec.warn_unsupported ? " on-unsupported=warn" : "", line,
	       line[0] ? ")" : "");
	return 0;
}
