// SPDX-License-Identifier: GPL-2.0-only
/* Finding the cgroup2 mount and a process's cgroup v2 path from their /proc texts. */
#include "unit.h"
#include "mg_cgroup.h"

static const char hybrid_mountinfo[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"25 22 0:22 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
	"26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
	"30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory\n";

static const char v2_mountinfo[] =
	"22 1 8:1 / / rw shared:1 - ext4 /dev/vda rw\n"
	"36 25 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:9 - cgroup2 cgroup2 rw\n";

static void mount_on_hybrid_host(void **state)
{
	struct mg_error err = {};
	char mount[256];

	assert_int_equal(mg_cgroup2_mount_parse(hybrid_mountinfo, mount, sizeof(mount), &err), 0);
	assert_string_equal(mount, "/sys/fs/cgroup/unified");
}

static void mount_on_v2_host(void **state)
{
	struct mg_error err = {};
	char mount[256];

	assert_int_equal(mg_cgroup2_mount_parse(v2_mountinfo, mount, sizeof(mount), &err), 0);
	assert_string_equal(mount, "/sys/fs/cgroup");
}

static void mount_missing(void **state)
{
	struct mg_error err = {};
	char mount[256];

	assert_int_equal(mg_cgroup2_mount_parse("30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n",
						mount, sizeof(mount), &err),
			 -ENOENT);
	assert_msg_has(err, "cgroup v2");
}

static void path_v2_line_among_v1(void **state)
{
	struct mg_error err = {};
	char path[256];

	assert_int_equal(mg_cgroup_path_parse("12:memory:/user.slice\n0::/mg/ctr1\n1:name=systemd:/x\n",
					      path, sizeof(path), &err),
			 0);
	assert_string_equal(path, "/mg/ctr1");
}

static void path_crun_subcgroup(void **state)
{
	struct mg_error err = {};
	char path[256];

	assert_int_equal(mg_cgroup_path_parse("0::/machine.slice/libpod-abc.scope/container\n", path,
					      sizeof(path), &err),
			 0);
	assert_string_equal(path, "/machine.slice/libpod-abc.scope/container");
}

static void path_missing_v2(void **state)
{
	struct mg_error err = {};
	char path[256];

	assert_int_equal(mg_cgroup_path_parse("4:memory:/a\n3:pids:/a\n", path, sizeof(path), &err),
			 -ENOENT);
	assert_msg_has(err, "0::");
}

static void path_malformed(void **state)
{
	struct mg_error err = {};
	char path[256];

	assert_true(mg_cgroup_path_parse("0::\n", path, sizeof(path), &err) < 0);
	assert_true(mg_cgroup_path_parse("0::relative\n", path, sizeof(path), &err) < 0);
}

static void path_too_long(void **state)
{
	struct mg_error err = {};
	char path[8];

	assert_int_equal(mg_cgroup_path_parse("0::/a/very/long/path\n", path, sizeof(path), &err),
			 -ENAMETOOLONG);
}

static void pid_zero_is_an_error(void **state)
{
	struct mg_error err = {};
	struct mg_cgroup cg;

	assert_int_equal(mg_cgroup_of_pid(0, &cg, &err), -EINVAL);
	assert_msg_has(err, "\"pid\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mount_on_hybrid_host), cmocka_unit_test(mount_on_v2_host),
		cmocka_unit_test(mount_missing),	cmocka_unit_test(path_v2_line_among_v1),
		cmocka_unit_test(path_crun_subcgroup),	cmocka_unit_test(path_missing_v2),
		cmocka_unit_test(path_malformed),	cmocka_unit_test(path_too_long),
		cmocka_unit_test(pid_zero_is_an_error),
	};

	return cmocka_run_group_tests_name("test_cgroup", tests, NULL, NULL);
}
