// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate.io/ annotations -> policy.  Sizes use Kubernetes quantity notation
 * (resource.Quantity) so a pod spec's "512Mi" means the same thing here.
 * All arithmetic is on integers: a quantity is digits * 10^dec * 2^bin, and
 * it must come out a whole number of bytes below 2^64.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "memgate.h"
#include "mg_policy.h"

#define PAGE_BYTES 4096
#define EXAMPLE "expected a size such as 512Mi or 2Gi"
#define UNITS "Ki Mi Gi Ti Pi Ei, k M G T P E"

static const char binary_units[] = "KMGTPE";  /* Ki..Ei: 2^10..2^60 */
static const char decimal_units[] = "kMGTPE"; /* k..E: 10^3..10^18 */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* "512m" is milli-bytes to Kubernetes; say what it is and what was meant. */
static int fail_milli(const char *text, size_t num_len, const char *int_start, size_t int_len,
		      const char *frac_start, size_t frac_len, struct mg_error *err)
{
	char all[MG_QUANTITY_MAX_LEN * 2], out[MG_QUANTITY_MAX_LEN * 2];
	size_t n = 0, o = 0, i;
	long point;

	memcpy(all, int_start, int_len);
	memcpy(all + int_len, frac_start, frac_len);
	n = int_len + frac_len;
	point = (long)int_len - 3; /* the decimal point moves three places left */

	if (point <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < (size_t)-point; i++)
			out[o++] = '0';
		memcpy(out + o, all, n);
		o += n;
	} else {
		memcpy(out, all, (size_t)point);
		o = (size_t)point;
		out[o++] = '.';
		memcpy(out + o, all + point, n - (size_t)point);
		o += n - (size_t)point;
	}
	out[o] = '\0';
	/* Trim to a plain decimal: no trailing fraction zeros, no leading integer zeros. */
	while (o > 0 && out[o - 1] == '0')
		out[--o] = '\0';
	if (o > 0 && out[o - 1] == '.')
		out[--o] = '\0';
	for (i = 0; out[i] == '0' && is_digit(out[i + 1]); i++)
		;
	return mg_fail(
		err, EINVAL,
		"\"%s\" is %s bytes in Kubernetes notation (m is milli); did you mean \"%.*sMi\"?",
		text, o > i ? out + i : "0", (int)num_len, text);
}

/* Near-misses such as 10K, 10mi, 10MB, 10KiB: suggest the binary and decimal spellings. */
static int fail_unit(const char *text, const char *suffix, struct mg_error *err)
{
	size_t len = strlen(suffix), num_len = suffix - text;
	const char *letters = "kmgtpe";
	const char *hit = len ? strchr(letters, suffix[0] | 0x20) : NULL;
	size_t rest = 1;

	if (hit && suffix[0] && rest < len && (suffix[rest] == 'i' || suffix[rest] == 'I'))
		rest++;
	if (hit && rest < len && (suffix[rest] == 'b' || suffix[rest] == 'B'))
		rest++;
	if (hit && rest == len) {
		size_t idx = hit - letters;

		return mg_fail(err, EINVAL,
			       "unknown unit \"%s\"; did you mean \"%.*s%ci\" (binary) or "
			       "\"%.*s%c\" (decimal)?",
			       suffix, (int)num_len, text, binary_units[idx], (int)num_len, text,
			       decimal_units[idx]);
	}
	return mg_fail(err, EINVAL, "unknown unit \"%s\" (expected one of " UNITS ")", suffix);
}

static int fail_too_large(struct mg_error *err)
{
	return mg_fail(err, ERANGE, "too large: expected at most %" PRIu64 " bytes (16Ei - 1)",
		       UINT64_MAX);
}

static int fail_fraction(struct mg_error *err)
{
	return mg_fail(err, EINVAL, "expected a whole number of bytes, not a fraction");
}

int mg_parse_quantity(const char *text, uint64_t *bytes, struct mg_error *err)
{
	const char *p, *int_start, *frac_start = "", *suffix;
	size_t len, int_len, frac_len = 0, nd = 0, i;
	char digits[MG_QUANTITY_MAX_LEN];
	int dec = 0, bin = 0, s;
	uint64_t n = 0;

	*bytes = 0;
	if (!text || !text[0])
		return mg_fail(err, EINVAL, EXAMPLE ", not an empty string");
	len = strlen(text);
	if (is_space(text[0]) || is_space(text[len - 1]))
		return mg_fail(err, EINVAL, EXAMPLE " (no surrounding spaces)");
	if (text[0] == '-' || text[0] == '+')
		return mg_fail(err, EINVAL, EXAMPLE " (no sign)");
	if (len > MG_QUANTITY_MAX_LEN)
		return mg_fail(err, EINVAL, EXAMPLE " (too many digits: at most %d characters)",
			       MG_QUANTITY_MAX_LEN);
	/* Messages below quote the text: keep them one printable line (found by fuzzing). */
	for (p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return mg_fail(err, EINVAL, EXAMPLE " (no control characters)");

	/* Number: digits, optionally "." and more digits, as Kubernetes allows ("1.", ".5"). */
	p = int_start = text;
	while (is_digit(*p))
		p++;
	int_len = p - int_start;
	if (*p == '.') {
		frac_start = ++p;
		while (is_digit(*p))
			p++;
		frac_len = p - frac_start;
	}
	if (int_len + frac_len == 0)
		return mg_fail(err, EINVAL, EXAMPLE " (a number, then an optional unit " UNITS ")");
	suffix = p;

	/* Unit. */
	if (!suffix[0]) {
		/* plain bytes */
	} else if (suffix[1] == 'i' && !suffix[2] && suffix[0] && strchr(binary_units, suffix[0])) {
		bin = 10 * (int)(strchr(binary_units, suffix[0]) - binary_units + 1);
	} else if (!suffix[1] && strchr(decimal_units, suffix[0])) {
		dec = 3 * (int)(strchr(decimal_units, suffix[0]) - decimal_units + 1);
	} else if ((suffix[0] == 'e' || suffix[0] == 'E') &&
		   (is_digit(suffix[1]) ||
		    ((suffix[1] == '+' || suffix[1] == '-') && is_digit(suffix[2])))) {
		/* Decimal exponent, "1e9": "E" alone was exa, above. */
		const char *q = suffix + 1;
		bool neg = *q == '-';
		int exp = 0;

		if (*q == '+' || *q == '-')
			q++;
		for (; is_digit(*q); q++) {
			exp = exp * 10 + (*q - '0');
			if (exp > 999)
				return mg_fail(err, ERANGE, "exponent in \"%s\" is too large",
					       suffix);
		}
		if (*q)
			return fail_unit(text, suffix, err);
		dec = neg ? -exp : exp;
	} else if (suffix[0] == 'm' && !suffix[1]) {
		return fail_milli(text, suffix - text, int_start, int_len, frac_start, frac_len,
				  err);
	} else {
		return fail_unit(text, suffix, err);
	}

	/* Significant digits into n, with value = n * 10^dec * 2^bin. */
	memcpy(digits, int_start, int_len);
	memcpy(digits + int_len, frac_start, frac_len);
	nd = int_len + frac_len;
	dec -= (int)frac_len;
	while (nd > 0 && digits[nd - 1] == '0') {
		nd--;
		dec++;
	}
	for (i = 0; i < nd; i++) {
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(digits[i] - '0'), &n)) {
			/* At least 2^64 before scaling down: too large unless dec shrinks it. */
			if (dec + (int)(nd - i - 1) >= 0)
				return fail_too_large(err);
			return mg_fail(err, EINVAL, EXAMPLE " (too many significant digits)");
		}
	}
	if (n == 0)
		return 0;

	if (dec >= 0) {
		for (i = 0; i < (size_t)dec; i++)
			if (__builtin_mul_overflow(n, 10, &n))
				return fail_too_large(err);
		if (bin && n > (UINT64_MAX >> bin))
			return fail_too_large(err);
		*bytes = n << bin;
		return 0;
	}

	/* n * 2^bin / (5^s * 2^s) is whole iff 5^s divides n and 2^(s-bin) divides what is left. */
	s = -dec;
	for (i = 0; i < (size_t)s; i++) {
		if (n % 5)
			return fail_fraction(err);
		n /= 5;
	}
	if (bin >= s) {
		if (n > (UINT64_MAX >> (bin - s)))
			return fail_too_large(err);
		*bytes = n << (bin - s);
		return 0;
	}
	if (s - bin >= 64 || (n & ((UINT64_C(1) << (s - bin)) - 1)))
		return fail_fraction(err);
	*bytes = n >> (s - bin);
	return 0;
}

static int parse_percent(const char *text, size_t len, unsigned *percent, struct mg_error *err)
{
	unsigned v = 0;
	size_t i;

	/* len excludes the trailing '%'. */
	if (len == 0)
		return mg_fail(err, EINVAL, "expected a percentage such as 80%%, with a number");
	if (text[0] == '-' || text[0] == '+')
		return mg_fail(err, EINVAL, "expected a percentage from 1%% to 100%% (no sign)");
	for (i = 0; i < len; i++) {
		if (!is_digit(text[i]))
			return mg_fail(
				err, EINVAL,
				"expected a whole percentage from 1%% to 100%%, such as 80%%");
		v = v * 10 + (text[i] - '0');
		if (v > 100)
			break;
	}
	if (v < 1 || v > 100)
		return mg_fail(err, ERANGE, "expected a percentage from 1%% to 100%%");
	*percent = v;
	return 0;
}

int mg_parse_size(const char *text, bool allow_percent, struct mg_size *out, struct mg_error *err)
{
	size_t len = text ? strlen(text) : 0;
	struct mg_size s = {0};
	int ret;

	memset(out, 0, sizeof(*out));
	if (len && text[len - 1] == '%') {
		if (!allow_percent)
			return mg_fail(err, EINVAL, EXAMPLE " (a percentage is not accepted here)");
		ret = parse_percent(text, len - 1, &s.percent, err);
		if (ret)
			return ret;
		s.kind = MG_SIZE_PERCENT;
	} else {
		ret = mg_parse_quantity(text, &s.bytes, err);
		if (ret)
			return ret;
		if (s.bytes < PAGE_BYTES)
			return mg_fail(err, ERANGE,
				       "expected at least 4096 bytes (one page), got %" PRIu64
				       " bytes",
				       s.bytes);
		s.kind = MG_SIZE_BYTES;
	}
	snprintf(s.text, sizeof(s.text), "%s", text);
	*out = s;
	return 0;
}

/* Same order as enum mg_knob. */
static const char *const knob_names[MG_KNOB_COUNT] = {
	"commit-limit", "pressure-gate", "fork-gate", "mode", "on-unsupported",
};

/* Same order as enum mg_mode; each mode's flags in maps/policies. */
static const struct {
	const char *name;
	uint32_t flags;
} modes[] = {
	[MG_MODE_ENFORCE] = { "enforce", 0 },
	[MG_MODE_AUDIT] = { "audit", MG_AUDIT },
	[MG_MODE_MONITOR] = { "monitor", MG_MONITOR },
};

const char *mg_mode_name(enum mg_mode mode)
{
	return modes[(unsigned)mode <= MG_MODE_MONITOR ? mode : MG_MODE_ENFORCE].name;
}

uint32_t mg_mode_flags(enum mg_mode mode)
{
	return modes[(unsigned)mode <= MG_MODE_MONITOR ? mode : MG_MODE_ENFORCE].flags;
}

enum mg_mode mg_mode_of_flags(uint32_t flags)
{
	if (flags & MG_MONITOR)
		return MG_MODE_MONITOR;
	return flags & MG_AUDIT ? MG_MODE_AUDIT : MG_MODE_ENFORCE;
}

const char *mg_knob_name(enum mg_knob knob)
{
	return (unsigned)knob < MG_KNOB_COUNT ? knob_names[knob] : NULL;
}

#define KNOWN_KNOBS "commit-limit, pressure-gate, fork-gate, mode, on-unsupported"

static struct mg_size *size_of(struct mg_policy_spec *spec, enum mg_knob knob)
{
	switch (knob) {
	case MG_KNOB_COMMIT_LIMIT:
		return &spec->commit_limit;
	case MG_KNOB_PRESSURE_GATE:
		return &spec->pressure_gate;
	case MG_KNOB_FORK_GATE:
		return &spec->fork_gate;
	default:
		return NULL;
	}
}

/*
 * Parse one knob's value, as the annotation key carries it, into spec and
 * mark the knob set there; spec is as it was on an error.
 */
static int parse_knob(struct mg_policy_spec *spec, enum mg_knob id, const char *key,
		      const char *text, struct mg_error *err)
{
	struct mg_size size;
	int ret, m;

	switch (id) {
	case MG_KNOB_COMMIT_LIMIT:
	case MG_KNOB_PRESSURE_GATE:
	case MG_KNOB_FORK_GATE:
		/* A percentage of memory.max measures memory in use: the gates only. */
		ret = mg_parse_size(text, id != MG_KNOB_COMMIT_LIMIT, &size, err);
		if (ret)
			return ret;
		snprintf(size.key, sizeof(size.key), "%s", key);
		*size_of(spec, id) = size;
		break;
	case MG_KNOB_MODE:
		for (m = MG_MODE_ENFORCE; m <= MG_MODE_MONITOR; m++)
			if (!strcmp(text, mg_mode_name(m)))
				break;
		if (m > MG_MODE_MONITOR)
			return mg_fail(err, EINVAL, "expected \"enforce\", \"audit\" or \"monitor\"");
		spec->mode = m;
		break;
	case MG_KNOB_ON_UNSUPPORTED:
		if (strcmp(text, "fail") && strcmp(text, "warn"))
			return mg_fail(err, EINVAL, "expected \"fail\" or \"warn\"");
		spec->warn_unsupported = !strcmp(text, "warn");
		break;
	case MG_KNOB_COUNT:
		return 0;
	}
	spec->present = true;
	spec->set |= MG_KNOB_BIT(id);
	return 0;
}

/*
 * Prefix err with `annotation KEY="VALUE"`, escaped.  Both are bounded, a long
 * one shortened in the middle with its length, so the reason after them
 * always fits on the line.
 */
static void name_annotation(struct mg_error *err, const char *key, json_object *val)
{
	char k[MG_ANNOTATION_SHOWN / 2], v[MG_ANNOTATION_SHOWN];
	const char *text;

	mg_escape(k, sizeof(k), key, strlen(key), MG_ESCAPE_C);
	if (json_object_is_type(val, json_type_string)) {
		mg_escape(v, sizeof(v), json_object_get_string(val),
			  (size_t)json_object_get_string_len(val), MG_ESCAPE_C);
		mg_error_prefix(err, "annotation %s=\"%s\"", k, v);
		return;
	}
	/* Not a string: its JSON text, escaped already but for DEL and non-UTF-8. */
	text = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
	mg_escape(v, sizeof(v), text, strlen(text), MG_ESCAPE_TEXT);
	mg_error_prefix(err, "annotation %s=%s", k, v);
}

static const char *string_annotation(json_object *annotations, const char *key)
{
	json_object *val;

	if (!json_object_object_get_ex(annotations, key, &val) ||
	    !json_object_is_type(val, json_type_string))
		return NULL;
	return json_object_get_string(val);
}

static bool is_sandbox(json_object *annotations)
{
	const char *crio = string_annotation(annotations, "io.kubernetes.cri-o.ContainerType");
	const char *cri = string_annotation(annotations, "io.kubernetes.cri.container-type");

	return (crio && !strcmp(crio, "sandbox")) || (cri && !strcmp(cri, "sandbox"));
}

/* CRI-O names the container one way, containerd another. */
static const char *container_name(json_object *annotations)
{
	const char *name = string_annotation(annotations, "io.kubernetes.container.name");

	return name ? name : string_annotation(annotations, "io.kubernetes.cri.container-name");
}

bool mg_kube_names(json_object *annotations, struct mg_kube_names *out)
{
	static const char *const keys[][2] = {
		{ "io.kubernetes.pod.namespace", "io.kubernetes.cri.sandbox-namespace" },
		{ "io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name" },
	};
	char *dst[] = { out->namespace, out->pod };
	const char *name = annotations ? container_name(annotations) : NULL;

	memset(out, 0, sizeof(*out));
	if (!name)
		return false;
	snprintf(out->container, sizeof(out->container), "%s", name);
	for (size_t i = 0; i < 2; i++) {
		const char *v = string_annotation(annotations, keys[i][0]);

		if (!v)
			v = string_annotation(annotations, keys[i][1]);
		snprintf(dst[i], MG_KUBE_NAME_LEN, "%s", v ? v : "");
	}
	return true;
}

int mg_policy_parse(json_object *annotations, struct mg_policy_spec *spec, struct mg_error *err)
{
	const size_t plen = strlen(MG_ANNOTATION_PREFIX);
	/* The pod-wide knobs, this container's overrides, other containers'. */
	struct mg_policy_spec base = {0}, mine = {0}, other = {0};
	const char *container;
	struct mg_policy_spec s = {0};
	int id, ret;

	memset(spec, 0, sizeof(*spec));
	if (!annotations)
		return 0;
	if (!json_object_is_type(annotations, json_type_object))
		return mg_fail(err, EINVAL, "annotations: expected a JSON object");
	/* Pod annotations reach the pause container too; it gets no policy. */
	if (is_sandbox(annotations)) {
		spec->sandbox = true;
		return 0;
	}
	container = container_name(annotations);

	json_object_object_foreach(annotations, key, val)
	{
		const char *knob, *dot, *target;
		struct mg_policy_spec *into;
		size_t knob_len;

		if (strncmp(key, MG_ANNOTATION_PREFIX, plen))
			continue;
		knob = key + plen;
		dot = strchr(knob, '.');
		knob_len = dot ? (size_t)(dot - knob) : strlen(knob);
		target = dot ? dot + 1 : NULL;

		for (id = 0; id < MG_KNOB_COUNT; id++)
			if (strlen(knob_names[id]) == knob_len &&
			    !strncmp(knob, knob_names[id], knob_len))
				break;
		if (id == MG_KNOB_COUNT) {
			char k[MG_SIZE_KEY_LEN];

			mg_printable(k, sizeof(k), key);
			mg_fail(err, EINVAL, "unknown knob \"%.*s\" (known: " KNOWN_KNOBS ")",
				(int)(knob_len > 64 ? 64 : knob_len), k + plen);
			name_annotation(err, key, val);
			return -EINVAL;
		}
		if (target && !target[0]) {
			mg_fail(err, EINVAL, "expected a container name after \"%s.\"",
				knob_names[id]);
			name_annotation(err, key, val);
			return -EINVAL;
		}
		if (!json_object_is_type(val, json_type_string)) {
			mg_fail(err, EINVAL, "expected a JSON string value");
			name_annotation(err, key, val);
			return -EINVAL;
		}
		/* Validate every value, even an override for another container. */
		into = !target ? &base : container && !strcmp(target, container) ? &mine : &other;
		ret = parse_knob(into, id, key, json_object_get_string(val), err);
		if (ret) {
			name_annotation(err, key, val);
			return ret;
		}
	}

	/* memgate.io/<knob>.<container> wins over memgate.io/<knob>, whatever the key order. */
	for (id = 0; id < MG_KNOB_COUNT; id++) {
		const struct mg_policy_spec *from = mine.set & MG_KNOB_BIT(id) ? &mine : &base;

		if (!(from->set & MG_KNOB_BIT(id)))
			continue;
		mg_policy_copy_knob(&s, from, id);
		if (container && from == &base)
			s.podwide |= MG_KNOB_BIT(id);
	}
	*spec = s;
	return 0;
}

int mg_policy_set(struct mg_policy_spec *spec, const char *knob, const char *value,
		  struct mg_error *err)
{
	char k[MG_SIZE_KEY_LEN];
	enum mg_knob id;

	for (id = 0; id < MG_KNOB_COUNT; id++)
		if (!strcmp(knob, knob_names[id]))
			break;
	if (id == MG_KNOB_COUNT) {
		mg_printable(k, sizeof(k), knob);
		return mg_fail(err, EINVAL, "unknown knob \"%.64s\" (known: " KNOWN_KNOBS ")", k);
	}
	snprintf(k, sizeof(k), MG_ANNOTATION_PREFIX "%s", knob);
	return parse_knob(spec, id, k, value, err);
}


const struct mg_size *mg_policy_size(const struct mg_policy_spec *spec, enum mg_knob knob)
{
	return size_of((struct mg_policy_spec *)spec, knob);
}

void mg_policy_copy_knob(struct mg_policy_spec *dst, const struct mg_policy_spec *src,
			 enum mg_knob knob)
{
	struct mg_size *size = size_of(dst, knob);
	unsigned bit = MG_KNOB_BIT(knob);

	if (size)
		*size = *mg_policy_size(src, knob);
	else if (knob == MG_KNOB_MODE)
		dst->mode = src->mode;
	else if (knob == MG_KNOB_ON_UNSUPPORTED)
		dst->warn_unsupported = src->warn_unsupported;
	dst->set = (dst->set & ~bit) | (src->set & bit);
	dst->podwide = (dst->podwide & ~bit) | (src->podwide & bit);
	dst->defaulted &= dst->set;
	dst->podwide &= dst->set;
	dst->present = dst->set != 0;
}

int mg_size_bytes(const struct mg_size *size, uint64_t memory_max, uint64_t *bytes)
{
	*bytes = 0;
	if (size->kind == MG_SIZE_BYTES) {
		*bytes = size->bytes;
	} else if (size->kind == MG_SIZE_PERCENT) {
		if (!memory_max)
			return -EINVAL;
		/* Split to avoid overflow: max/100*p + (max%100)*p/100 == floor(max*p/100). */
		*bytes = memory_max / 100 * size->percent + memory_max % 100 * size->percent / 100;
	}
	return 0;
}

/* value as a multiple of unit with at most two decimals, when that is exact. */
static bool format_in(uint64_t value, uint64_t unit, const char *name, char *out, size_t size)
{
	uint64_t whole = value / unit, rem = value % unit;
	unsigned __int128 scaled = (unsigned __int128)rem * 100;
	unsigned frac;

	if (!whole || scaled % unit)
		return false;
	frac = (unsigned)(scaled / unit);
	if (!frac)
		snprintf(out, size, "%" PRIu64 "%s", whole, name);
	else if (frac % 10 == 0)
		snprintf(out, size, "%" PRIu64 ".%u%s", whole, frac / 10, name);
	else
		snprintf(out, size, "%" PRIu64 ".%02u%s", whole, frac, name);
	return true;
}

const char *mg_format_size(uint64_t bytes, char buf[MG_SIZE_TEXT_LEN])
{
	static const char *const bin[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	static const char *const dec[] = { "k", "M", "G", "T", "P", "E" };
	char cand[MG_SIZE_TEXT_LEN];
	uint64_t b = 1, d = 1;

	/* The shortest spelling wins; binary first, so 1Ki beats 1024 and ties go to Ki. */
	snprintf(buf, MG_SIZE_TEXT_LEN, "%" PRIu64, bytes);
	for (int i = 0; i < 6; i++) {
		b <<= 10;
		if (format_in(bytes, b, bin[i], cand, sizeof(cand)) && strlen(cand) <= strlen(buf))
			memcpy(buf, cand, sizeof(cand));
	}
	for (int i = 0; i < 6; i++) {
		d *= 1000;
		if (format_in(bytes, d, dec[i], cand, sizeof(cand)) && strlen(cand) < strlen(buf))
			memcpy(buf, cand, sizeof(cand));
	}
	return buf;
}

static int resolve_size(const struct mg_size *size, const char *knob, uint64_t memory_max,
			bool is_gate, uint64_t *out, struct mg_error *err)
{
	char key[MG_SIZE_KEY_LEN];
	uint64_t bytes;

	*out = 0;
	if (size->kind == MG_SIZE_UNSET)
		return 0;
	if (size->key[0])
		mg_printable(key, sizeof(key), size->key);
	else
		snprintf(key, sizeof(key), MG_ANNOTATION_PREFIX "%s", knob);

	if (mg_size_bytes(size, memory_max, &bytes) < 0)
		return mg_fail(err, EINVAL,
			       "annotation %s=\"%s\": a percentage needs a container "
			       "memory limit (memory.max is \"max\")",
			       key, size->text);
	if (size->kind == MG_SIZE_PERCENT && bytes < PAGE_BYTES)
		return mg_fail(err, ERANGE,
			       "annotation %s=\"%s\": %" PRIu64 " bytes of memory.max %" PRIu64
			       " is less than 4096 bytes (one page)",
			       key, size->text, bytes, memory_max);

	/* memory.current never passes memory.max, so such a gate would never close. */
	if (is_gate && memory_max && bytes > memory_max)
		return mg_fail(err, ERANGE,
			       "annotation %s=\"%s\": %" PRIu64
			       " bytes is above the container memory limit (memory.max is %" PRIu64
			       "), so the gate would never apply",
			       key, size->text, bytes, memory_max);
	*out = bytes;
	return 0;
}

uint64_t mg_policy_knob_bytes(const struct mg_policy_bytes *b, enum mg_knob knob)
{
	switch (knob) {
	case MG_KNOB_COMMIT_LIMIT:
		return b->commit_limit;
	case MG_KNOB_PRESSURE_GATE:
		return b->pressure_gate;
	case MG_KNOB_FORK_GATE:
		return b->fork_gate;
	default:
		return 0;
	}
}

int mg_policy_resolve(const struct mg_policy_spec *spec, uint64_t memory_max,
		      struct mg_policy_bytes *out, struct mg_error *err)
{
	struct mg_policy_bytes b = {0};
	int ret;

	memset(out, 0, sizeof(*out));
	ret = resolve_size(&spec->commit_limit, mg_knob_name(MG_KNOB_COMMIT_LIMIT), memory_max,
			   false, &b.commit_limit, err);
	if (!ret)
		ret = resolve_size(&spec->pressure_gate, mg_knob_name(MG_KNOB_PRESSURE_GATE),
				   memory_max, true, &b.pressure_gate, err);
	if (!ret)
		ret = resolve_size(&spec->fork_gate, mg_knob_name(MG_KNOB_FORK_GATE), memory_max, true,
				   &b.fork_gate, err);
	if (ret)
		return ret;
	b.mode = spec->mode;
	*out = b;
	return 0;
}
