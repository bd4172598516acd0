// SPDX-License-Identifier: GPL-2.0-only
/*
 * The admin configuration.  Its keys and values are annotations, so
 * mg_policy_set() parses them and they mean exactly what they mean on a
 * container; this file only adds where they may appear and how they combine.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_cleanup.h"
#include "mg_config.h"
#include "mg_oci.h"
#include "mg_read.h"

#define WHAT "admin configuration %s"
#define SIZE_KNOBS "commit-limit, pressure-gate, fork-gate"

const char *mg_config_path(void)
{
	const char *env = getenv(MG_CONFIG_ENV);

	return env && env[0] ? env : MG_CONFIG_PATH;
}

static int parse_section(const char *path, const char *name, json_object *obj, bool sizes_only,
			 struct mg_policy_spec *spec, struct mg_error *err)
{
	const size_t plen = strlen(MG_ANNOTATION_PREFIX);
	int ret;

	if (!json_object_is_type(obj, json_type_object))
		return mg_fail(err, EINVAL,
			       WHAT ": \"%s\": expected an object such as "
				    "{\"memgate.io/commit-limit\": \"1Gi\"}",
			       path, name);
	json_object_object_foreach(obj, key, val)
	{
		const char *knob = key + plen;
		char k[65], v[65];

		/* Keys and values are input: one printable line (a fuzz find). */
		mg_printable(k, sizeof(k), key);

		/* Per-container keys only make sense on a pod: the file speaks for all. */
		if (strncmp(key, MG_ANNOTATION_PREFIX, plen) || strchr(knob, '.'))
			return mg_fail(err, EINVAL,
				       WHAT ": \"%s\": unknown key \"%s\" (expected "
					    "memgate.io/ and a knob: " SIZE_KNOBS "%s)",
				       path, name, k, sizes_only ? "" : ", mode, on-unsupported");
		if (!json_object_is_type(val, json_type_string))
			return mg_fail(err, EINVAL,
				       WHAT ": \"%s\": %s: expected a JSON string such as \"1Gi\"",
				       path, name, k);
		ret = mg_policy_set(spec, knob, json_object_get_string(val), err);
		if (ret < 0) {
			mg_printable(v, sizeof(v), json_object_get_string(val));
			mg_error_prefix(err, WHAT ": \"%s\": %s=\"%s\"", path, name, k, v);
			return ret;
		}
		if (sizes_only && (spec->set & ~MG_KNOB_SIZES))
			return mg_fail(err, EINVAL,
				       WHAT ": \"%s\": %s has no ceiling (only " SIZE_KNOBS " do)",
				       path, name, k);
	}
	return 0;
}

/* Seconds a hook waits for memgate's lock, as a JSON number: 10 or 2.5. */
static int parse_lock_timeout(const char *path, json_object *val, struct mg_config *cfg,
			      struct mg_error *err)
{
	double seconds;

	if (!json_object_is_type(val, json_type_int) && !json_object_is_type(val, json_type_double))
		return mg_fail(err, EINVAL,
			       WHAT ": \"lock-timeout\": expected a number of seconds such as 10",
			       path);
	seconds = json_object_get_double(val);
	if (!(seconds >= 0.001 && seconds <= MG_LOCK_TIMEOUT_MAX_S))
		return mg_fail(err, ERANGE,
			       WHAT ": \"lock-timeout\": expected 0.001 to %d seconds, got %g", path,
			       MG_LOCK_TIMEOUT_MAX_S, seconds);
	cfg->lock_timeout_ms = (unsigned int)(seconds * 1000 + 0.5);
	return 0;
}

/* "modes": the modes a container may choose; enforce is always one of them. */
static int parse_modes(const char *path, json_object *val, unsigned *modes, struct mg_error *err)
{
	size_t n;

	if (!json_object_is_type(val, json_type_array) || !(n = json_object_array_length(val)))
		return mg_fail(err, EINVAL,
			       WHAT ": \"modes\": expected a list of modes a container may choose, "
				    "such as [\"enforce\", \"audit\"]",
			       path);
	*modes = MG_MODE_BIT(MG_MODE_ENFORCE);
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(val, i);
		const char *name = json_object_is_type(m, json_type_string) ?
					   json_object_get_string(m) : NULL;
		enum mg_mode mode;
		char v[65];

		for (mode = MG_MODE_ENFORCE; mode <= MG_MODE_MONITOR; mode++)
			if (name && !strcmp(name, mg_mode_name(mode)))
				break;
		if (mode > MG_MODE_MONITOR) {
			const char *text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);

			/* JSON text, quoted and escaped already but for DEL and non-UTF-8. */
			mg_escape(v, sizeof(v), text, strlen(text), MG_ESCAPE_TEXT);
			return mg_fail(err, EINVAL,
				       WHAT ": \"modes\": %s: expected \"enforce\", \"audit\" or "
					    "\"monitor\"",
				       path, v);
		}
		*modes |= MG_MODE_BIT(mode);
	}
	return 0;
}

/* A default above its own ceiling is a mistake the admin should hear about now. */
static int check_defaults(const struct mg_config *cfg, struct mg_error *err)
{
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		const struct mg_size *d = mg_policy_size(&cfg->defaults, k);
		const struct mg_size *c = mg_policy_size(&cfg->ceilings, k);
		unsigned bit = MG_KNOB_BIT(k);

		if (!d || !(cfg->defaults.set & cfg->ceilings.set & bit) || d->kind != c->kind)
			continue;
		if (d->kind == MG_SIZE_BYTES ? d->bytes > c->bytes : d->percent > c->percent)
			return mg_fail(err, ERANGE,
				       WHAT ": default %s=\"%s\" is above its ceiling \"%s\"",
				       cfg->path, d->key, d->text, c->text);
	}
	return 0;
}

int mg_config_parse(const char *buf, size_t len, const char *path, struct mg_config *cfg,
		    struct mg_error *err)
{
	_cleanup_json_ json_object *root = NULL;
	_cleanup_free_ char *what = NULL;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->lock_timeout_ms = MG_LOCK_TIMEOUT_MS;
	if (asprintf(&what, WHAT, path) < 0) {
		what = NULL;
		return mg_fail_errno(err, ENOMEM, WHAT, path);
	}
	ret = mg_json_parse_object(buf, len, what, &root, err);
	if (ret < 0)
		return ret;
	json_object_object_foreach(root, key, val)
	{
		if (!strcmp(key, "lock-timeout"))
			ret = parse_lock_timeout(path, val, cfg, err);
		else if (!strcmp(key, "defaults"))
			ret = parse_section(path, key, val, false, &cfg->defaults, err);
		else if (!strcmp(key, "ceilings"))
			ret = parse_section(path, key, val, true, &cfg->ceilings, err);
		else if (!strcmp(key, "modes"))
			ret = parse_modes(path, val, &cfg->modes, err);
		else {
			char k[65];

			mg_printable(k, sizeof(k), key);
			ret = mg_fail(err, EINVAL,
				      WHAT ": unknown key \"%s\" (expected \"defaults\", "
					   "\"ceilings\", \"modes\" or \"lock-timeout\")",
				      path, k);
		}
		if (ret < 0)
			return ret;
	}
	ret = check_defaults(cfg, err);
	if (ret < 0)
		return ret;
	cfg->present = true;
	return 0;
}

static int load(const char *path, bool missing_ok, struct mg_config *cfg, struct mg_error *err)
{
	_cleanup_free_ char *what = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->lock_timeout_ms = MG_LOCK_TIMEOUT_MS;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT && missing_ok)
		return 0;
	if (fd < 0)
		return mg_fail_errno(err, errno, WHAT ": cannot open", path);
	if (asprintf(&what, WHAT, path) < 0) {
		what = NULL;
		return mg_fail_errno(err, ENOMEM, WHAT, path);
	}
	ret = mg_read_bounded(fd, MG_CONFIG_MAX, what, &buf, &len, err);
	if (ret < 0)
		return ret;
	return mg_config_parse(buf, len, path, cfg, err);
}

int mg_config_load(const char *path, struct mg_config *cfg, struct mg_error *err)
{
	return load(path, true, cfg, err);
}

int mg_config_read(const char *path, struct mg_config *cfg, struct mg_error *err)
{
	return load(path, false, cfg, err);
}

unsigned int mg_config_lock_timeout(void)
{
	struct mg_config cfg;
	struct mg_error ignored;

	/* A broken file refuses starts that ask for something, never a stop or a prune. */
	if (mg_config_load(mg_config_path(), &cfg, &ignored) < 0)
		return MG_LOCK_TIMEOUT_MS;
	return cfg.lock_timeout_ms;
}

void mg_config_defaults(const struct mg_config *cfg, struct mg_policy_spec *spec)
{
	if (!cfg->present || spec->sandbox)
		return;
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		unsigned bit = MG_KNOB_BIT(k);

		if (!(cfg->defaults.set & bit) || (spec->set & bit))
			continue;
		mg_policy_copy_knob(spec, &cfg->defaults, k);
		spec->defaulted |= bit;
	}
}

static int check_ceiling(const struct mg_config *cfg, enum mg_knob knob,
			 const struct mg_size *asked, uint64_t bytes, uint64_t memory_max,
			 struct mg_error *err)
{
	const struct mg_size *c = mg_policy_size(&cfg->ceilings, knob);
	char got[MG_SIZE_TEXT_LEN], lim[MG_SIZE_TEXT_LEN], max[MG_SIZE_TEXT_LEN];
	uint64_t limit;

	/* A percentage ceiling bounds nothing on a container without memory.max. */
	if (!cfg->present || !(cfg->ceilings.set & MG_KNOB_BIT(knob)) ||
	    mg_size_bytes(c, memory_max, &limit) < 0 || bytes <= limit)
		return 0;
	mg_format_size(bytes, got);
	mg_format_size(limit, lim);
	if (c->kind == MG_SIZE_PERCENT)
		return mg_fail(err, ERANGE,
			       "annotation %s=\"%s\" (%s) is above the ceiling %s=\"%s\" (%s of "
			       "memory.max %s) in the admin configuration %s",
			       asked->key, asked->text, got, c->key, c->text, lim,
			       mg_format_size(memory_max, max), cfg->path);
	if (asked->kind == MG_SIZE_PERCENT)
		return mg_fail(err, ERANGE,
			       "annotation %s=\"%s\" (%s) is above the ceiling %s=\"%s\" in the "
			       "admin configuration %s",
			       asked->key, asked->text, got, c->key, c->text, cfg->path);
	return mg_fail(
		err, ERANGE,
		"annotation %s=\"%s\" is above the ceiling %s=\"%s\" in the admin configuration %s",
		asked->key, asked->text, c->key, c->text, cfg->path);
}

/* The container chose its mode itself: an annotation, not the admin's default. */
static bool own_mode(const struct mg_policy_spec *spec)
{
	return (spec->set & ~spec->defaulted) & MG_KNOB_BIT(MG_KNOB_MODE);
}

static void mode_list(unsigned modes, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (enum mg_mode m = MG_MODE_ENFORCE; m <= MG_MODE_MONITOR; m++)
		if (modes & MG_MODE_BIT(m))
			n += snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? ", " : "",
				      mg_mode_name(m));
}

static int check_mode(const struct mg_config *cfg, const struct mg_policy_spec *spec,
		      struct mg_error *err)
{
	char allowed[64];

	if (!cfg->present || !cfg->modes || !own_mode(spec) ||
	    (cfg->modes & MG_MODE_BIT(spec->mode)))
		return 0;
	mode_list(cfg->modes, allowed, sizeof(allowed));
	return mg_fail(err, EPERM,
		       "annotation " MG_ANNOTATION_PREFIX "mode=\"%s\" is not allowed by the admin "
		       "configuration %s (modes a container may choose: %s)",
		       mg_mode_name(spec->mode), cfg->path, allowed);
}

/* Knobs of the resolved policy the admin bounds: under a ceiling, or from a default. */
static unsigned admin_bound(const struct mg_config *cfg, const struct mg_policy_spec *s,
			    const struct mg_policy_bytes *b)
{
	unsigned bound = 0;

	if (!cfg->present)
		return 0;
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		unsigned bit = MG_KNOB_BIT(k);

		if (mg_policy_knob_bytes(b, k) && ((cfg->ceilings.set | s->defaulted) & bit))
			bound |= bit;
	}
	return bound;
}

void mg_config_mode_note(const struct mg_config *cfg, const struct mg_policy_spec *spec,
			 const struct mg_policy_bytes *out, char *buf, size_t size)
{
	size_t n;

	buf[0] = '\0';
	if (!out->mode_held)
		return;
	n = snprintf(buf, size,
		     "annotation " MG_ANNOTATION_PREFIX "mode=\"%s\" does not apply: the admin "
		     "configuration %s bounds",
		     mg_mode_name(spec->mode), cfg->path);
	for (int k = 0, i = 0; k < MG_KNOB_COUNT; k++) {
		unsigned bit = MG_KNOB_BIT(k);
		char dflt[MG_QUANTITY_MAX_LEN + 16] = "", ceil[MG_QUANTITY_MAX_LEN + 16] = "";

		if (!(out->mode_held & bit))
			continue;
		if (spec->defaulted & bit)
			snprintf(dflt, sizeof(dflt), "default %s", mg_policy_size(spec, k)->text);
		if (cfg->ceilings.set & bit)
			snprintf(ceil, sizeof(ceil), "ceiling %s",
				 mg_policy_size(&cfg->ceilings, k)->text);
		n += snprintf(buf + n, n < size ? size - n : 0, "%s %s (%s%s%s)", i++ ? "," : "",
			      mg_knob_name(k), dflt, dflt[0] && ceil[0] ? ", " : "", ceil);
	}
	if (n < size)
		snprintf(buf + n, size - n, ", so the container is enforced");
}

int mg_config_resolve(const struct mg_config *cfg, const struct mg_policy_spec *spec,
		      uint64_t memory_max, struct mg_policy_bytes *out, struct mg_error *err)
{
	const struct mg_policy_spec none = {0};
	struct mg_policy_spec s = *spec;
	struct mg_policy_bytes b;
	int ret;

	unsigned left_out = 0;

	memset(out, 0, sizeof(*out));
	ret = check_mode(cfg, spec, err);
	if (ret < 0)
		return ret;

	/*
	 * Try each default alone; one that can not apply here is dropped, not
	 * fatal.  So is a pod-wide annotation that can not apply to this
	 * container of the pod (a percentage without memory.max, a gate above
	 * it): the pod's sidecars need not all have limits.  A ceiling still
	 * refuses a pod-wide annotation above it.
	 */
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		struct mg_policy_spec one = {0};
		struct mg_error ignored;
		unsigned bit = MG_KNOB_BIT(k);

		if (!((s.defaulted | s.podwide) & bit) || !mg_policy_size(&s, k))
			continue;
		mg_policy_copy_knob(&one, &s, k);
		if (mg_policy_resolve(&one, memory_max, &b, &ignored) < 0) {
			left_out |= s.podwide & bit;
			mg_policy_copy_knob(&s, &none, k);
		} else if ((s.defaulted & bit) &&
			   check_ceiling(cfg, k, mg_policy_size(&one, k), mg_policy_knob_bytes(&b, k), memory_max,
					 &ignored) < 0) {
			mg_policy_copy_knob(&s, &none, k);
		}
	}
	ret = mg_policy_resolve(&s, memory_max, &b, err);
	if (ret < 0)
		return ret;
	for (int k = 0; k < MG_KNOB_COUNT; k++) {
		const struct mg_size *size = mg_policy_size(&s, k);

		if (!size || size->kind == MG_SIZE_UNSET)
			continue;
		ret = check_ceiling(cfg, k, size, mg_policy_knob_bytes(&b, k), memory_max, err);
		if (ret < 0)
			return ret;
	}
	/* A tenant's own audit or monitor would lift the admin's bounds: enforce. */
	if (own_mode(&s) && b.mode != MG_MODE_ENFORCE) {
		b.mode_held = admin_bound(cfg, &s, &b);
		if (b.mode_held)
			b.mode = MG_MODE_ENFORCE;
	}
	/* Monitor mode applies no knob: say so in the policy itself. */
	if (b.mode == MG_MODE_MONITOR)
		b.commit_limit = b.pressure_gate = b.fork_gate = 0;
	/* Monitor mode applies no knob: nothing was left out either. */
	b.left_out = b.mode == MG_MODE_MONITOR ? 0 : left_out;
	*out = b;
	return 0;
}

void mg_config_why_left_out(const struct mg_policy_spec *spec, enum mg_knob knob,
			    uint64_t memory_max, const char *container, struct mg_error *why)
{
	struct mg_policy_spec one = {0};
	struct mg_policy_bytes b;
	char name[MG_SIZE_KEY_LEN];
	size_t n;

	*why = (struct mg_error){};
	mg_policy_copy_knob(&one, spec, knob);
	if (mg_policy_resolve(&one, memory_max, &b, why) == 0)
		return;
	mg_printable(name, sizeof(name), container);
	n = strlen(why->msg);
	snprintf(why->msg + n, sizeof(why->msg) - n,
		 "; it is pod-wide, so container %s starts without it", name);
}
