// SPDX-License-Identifier: GPL-2.0-only
/* Finding the cgroup2 mount and a process's cgroup v2 path from their /proc texts. */
#include <unistd.h>

#include "unit.h"
#include "mg_cgroup.h"
#include "mg_read.h"

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

/* 5000 mounts make a mountinfo over 1 MiB: it is read a line at a time, not refused. */
static void mount_after_a_large_mountinfo(void **state)
{
	struct mg_error err = {};
	char mount[256], line[300];
	FILE *f = tmpfile();

	assert_non_null(f);
	for (int i = 0; i < 6000; i++) {
		snprintf(line, sizeof(line),
			 "%d 22 0:%d / /var/lib/kubelet/pods/%064d/volumes/kubernetes.io~empty-dir/v "
			 "rw,relatime shared:%d - tmpfs tmpfs rw,size=65536k\n",
			 100 + i, 100 + i, i, i);
		fputs(line, f);
	}
	assert_true(ftell(f) > (1 << 20));
	fputs(v2_mountinfo, f);
	rewind(f);
	assert_int_equal(mg_cgroup2_mount_find(f, mount, sizeof(mount), &err), 0);
	assert_string_equal(mount, "/sys/fs/cgroup");
	rewind(f);
	assert_int_equal(mg_cgroup2_mount_find(f, mount, 8, &err), -ENAMETOOLONG);
	assert_msg_has(err, "/proc/self/mountinfo");
	fclose(f);

	f = tmpfile();
	fputs(hybrid_mountinfo, f);
	rewind(f);
	assert_int_equal(mg_cgroup2_mount_find(f, mount, sizeof(mount), &err), 0);
	assert_string_equal(mount, "/sys/fs/cgroup/unified");
	fclose(f);

	f = tmpfile();
	fputs("30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n", f);
	rewind(f);
	assert_int_equal(mg_cgroup2_mount_find(f, mount, sizeof(mount), &err), -ENOENT);
	assert_msg_has(err, "/proc/self/mountinfo: no cgroup2");
	fclose(f);
}

/* A file over its bound is named, not taken for the OCI state on stdin. */
static void read_file_names_the_file(void **state)
{
	struct mg_error err = {};
	char path[] = "/tmp/memgate-big-XXXXXX", *buf = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(mg_read_file(path, 4, &buf, &err), -EFBIG);
	assert_msg_has(err, path);
	assert_msg_has(err, "exceeds 4 bytes");
	assert_null(strstr(err.msg, "OCI state"));
	unlink(path);
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
		cmocka_unit_test(pid_zero_is_an_error),	cmocka_unit_test(mount_after_a_large_mountinfo),
		cmocka_unit_test(read_file_names_the_file),
	};

	return cmocka_run_group_tests_name("test_cgroup", tests, NULL, NULL);
}
