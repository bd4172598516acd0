// SPDX-License-Identifier: GPL-2.0-only
/*
 * mg_escape: every byte a tenant controls (process names, container ids,
 * annotation values) reaches a terminal, a log or a scraper escaped, and a
 * long value keeps its start, end and length.
 */
#include "unit.h"
#include "mg_policy.h"

static const struct {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *c, *prometheus;
} cases[] = {
	{"plain-id_1.2", 0, "plain-id_1.2", "plain-id_1.2"},
	{"", 0, "", ""},
	{"\x1b[2Jevil", 0, "\\e[2Jevil", "\\\\x1b[2Jevil"},
	{"a\nb\tc\rd", 0, "a\\nb\\tc\\rd", "a\\nb\\\\x09c\\\\x0dd"},
	{"q\"b\\", 0, "q\\\"b\\\\", "q\\\"b\\\\"},
	{"del\x7f", 0, "del\\x7f", "del\\\\x7f"},
	{"nul\0x", 5, "nul\\x00x", "nul\\\\x00x"},
	/* Valid UTF-8 stays; C1 controls (CSI is U+009B), bidi overrides and line separators do
	   not. */
	{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", 0,
	 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3"},
	{"\xc2\x9b"
	 "2J",
	 0, "\\xc2\\x9b2J", "\\\\xc2\\\\x9b2J"},
	{"a\xe2\x80\xae"
	 "b",
	 0, "a\\xe2\\x80\\xaeb", "a\\\\xe2\\\\x80\\\\xaeb"},
	{"\xe2\x80\xa8", 0, "\\xe2\\x80\\xa8", "\\\\xe2\\\\x80\\\\xa8"},
	/* Not UTF-8: a lone continuation, overlong, a surrogate, a cut sequence, beyond U+10FFFF.
	 */
	{"\x80", 0, "\\x80", "\\\\x80"},
	{"\xc0\xaf", 0, "\\xc0\\xaf", "\\\\xc0\\\\xaf"},
	{"\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "\\\\xed\\\\xa0\\\\x80"},
	{"ab\xe2\x82", 0, "ab\\xe2\\x82", "ab\\\\xe2\\\\x82"},
	{"\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80", "\\\\xf4\\\\x90\\\\x80\\\\x80"},
	{"\xff", 0, "\\xff", "\\\\xff"},
};

static void no_raw_bytes(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			failf("raw byte 0x%02x in \"%s\"", *p, s);
}

static void test_escape_cases(void **state)
{
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		size_t n;

		n = mg_escape(buf, sizeof(buf), cases[i].in, len, MG_ESCAPE_C);
		if (strcmp(buf, cases[i].c) || n != strlen(buf))
			failf("case %zu, C: got \"%s\" (%zu), expected \"%s\"", i, buf, n,
			      cases[i].c);
		n = mg_escape(buf, sizeof(buf), cases[i].in, len, MG_ESCAPE_PROMETHEUS);
		if (strcmp(buf, cases[i].prometheus) || n != strlen(buf))
			failf("case %zu, Prometheus: got \"%s\", expected \"%s\"", i, buf,
			      cases[i].prometheus);
	}
}

/* A whole message: its own quotes stay, what slipped through raw does not. */
static void test_escape_text(void **state)
{
	char buf[64];

	mg_escape(buf, sizeof(buf), "id \"a\\b\"\x1b\n", 10, MG_ESCAPE_TEXT);
	assert_string_equal(buf, "id \"a\\b\"\\e\\n");
}

/* JSON text from json-c: what it leaves raw inside strings, escaped; the layout kept. */
static void test_escape_json(void **state)
{
	static const char in[] = "{\n  \"comm\": \"a\x7f" "b\xc2\x9b" "c\xff" "d\xc3\xa9\\\"\"\n}";
	char buf[128];

	mg_escape(buf, sizeof(buf), in, strlen(in), MG_ESCAPE_JSON);
	assert_string_equal(buf, "{\n  \"comm\": \"a\\u007fb\\u009bc\\ufffdd\xc3\xa9\\\"\"\n}");
}

/* Every byte value, alone and after a lead byte: nothing raw ever comes out. */
static void test_escape_every_byte(void **state)
{
	char in[2], buf[64];

	for (int a = 0; a < 256; a++)
		for (int b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			mg_escape(buf, sizeof(buf), in, 2, MG_ESCAPE_C);
			no_raw_bytes(buf);
			mg_escape(buf, sizeof(buf), in, 2, MG_ESCAPE_JSON);
			for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
				if ((*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') ||
				    *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
				    *p == 0xc0 || *p == 0xc1 || *p > 0xf4)
					failf("JSON: raw byte 0x%02x from 0x%02x 0x%02x", *p, a, b);
			mg_escape(buf, sizeof(buf), in, 2, MG_ESCAPE_PROMETHEUS);
			no_raw_bytes(buf);
			/* A Prometheus label value: only \\, \" and \n escapes. */
			for (const char *p = buf; *p; p++)
				if (*p == '\\') {
					p++;
					if (*p != '\\' && *p != '"' && *p != 'n')
						failf("bad escape \\%c in \"%s\"", *p, buf);
				}
		}
}

/* Too long: head, "...(LEN bytes)...", tail; within size, no escape cut. */
static void test_escape_middle(void **state)
{
	char in[5000], buf[64];
	size_t n;

	memset(in, 'a', sizeof(in));
	memset(in + sizeof(in) / 2, 'z', sizeof(in) / 2);
	n = mg_escape(buf, sizeof(buf), in, sizeof(in), MG_ESCAPE_C);
	assert_int_equal(n, sizeof(in));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_non_null(strstr(buf, "...(5000 bytes)..."));
	assert_int_equal(buf[0], 'a');
	assert_int_equal(buf[sizeof(buf) - 2], 'z');

	/* Escapes are whole or absent, at any size. */
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = i % 3 ? '\x1b' : 'x';
	for (size_t size = 1; size < sizeof(buf); size++) {
		n = mg_escape(buf, size, in, 300, MG_ESCAPE_C);
		assert_true(n > size);
		assert_true(strlen(buf) < size);
		no_raw_bytes(buf);
		/* Below the mark's own size, a cut mark alone. */
		if (strstr(buf, "...(300 bytes)...")) {
			char *mark = strstr(buf, "...(300 bytes)...");

			/* Head and tail are x and \e units only. */
			for (char *p = buf; *p; p++) {
				if (p == mark) {
					p += strlen("...(300 bytes)...") - 1;
					continue;
				}
				if (*p == 'x')
					continue;
				if (p[0] != '\\' || p[1] != 'e')
					failf("size %zu: a cut escape in \"%s\"", size, buf);
				p++;
			}
		}
	}
	/* UTF-8 sequences are never cut either. */
	for (size_t i = 0; i + 2 < sizeof(in); i += 2) {
		in[i] = '\xc3';
		in[i + 1] = '\xa9';
	}
	mg_escape(buf, 40, in, 4000, MG_ESCAPE_C);
	assert_null(strstr(buf, "\\x"));
}

/*
 * An annotation value of any length leaves the reason and the closing quote
 * on the line, and says how long it was.
 */
static void test_long_value_keeps_reason(void **state)
{
	static const size_t lengths[] = {100, 400, 511, 4096, 65536};
	struct mg_policy_spec spec;
	struct mg_error err = {0};

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		json_object *ann = json_object_new_object();
		char *value = malloc(lengths[i] + 1), want[64];

		assert_non_null(value);
		memset(value, '\x1b', lengths[i]);
		memcpy(value, "bad", 3);
		memcpy(value + lengths[i] - 3, "END", 3);
		value[lengths[i]] = '\0';
		json_object_object_add(ann, "memgate.io/mode", json_object_new_string(value));
		assert_int_equal(mg_policy_parse(ann, &spec, &err), -EINVAL);
		print_message("# %s\n", err.msg);
		assert_true(strlen(err.msg) < sizeof(err.msg) - 1);
		assert_true(!strncmp(err.msg, "annotation memgate.io/mode=\"bad\\e", 33));
		assert_msg_has(err, "END\": expected \"enforce\", \"audit\" or \"monitor\"");
		snprintf(want, sizeof(want), "...(%zu bytes)...", lengths[i]);
		if (lengths[i] > 100)
			assert_msg_has(err, want);
		no_raw_bytes(err.msg);
		json_object_put(ann);
		free(value);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_cases),
		cmocka_unit_test(test_escape_text),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_escape_every_byte),
		cmocka_unit_test(test_escape_middle),
		cmocka_unit_test(test_long_value_keeps_reason),
	};

	return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
