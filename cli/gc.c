// SPDX-License-Identifier: GPL-2.0-only
/*
 * memgate gc [--all]: forget the containers whose cgroup is gone and what
 * killed hooks left, under the lock; --all removes every tree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "mg_cgroup.h"
#include "mg_cleanup.h"
#include "mg_config.h"
#include "mg_snapshot.h"
#include "cli.h"

int cmd_gc(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--all", NULL };
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	_cleanup_free_ struct mg_snapshot_entry *list = NULL;
	bool all = has_flag(argc, argv, "--all");
	size_t n = 0, removed = 0;
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	ret = mg_shared_lock(&s, mg_config_lock_timeout(), err);
	if (ret < 0)
		return ret;
	if (all) {
		ret = mg_shared_remove_all(err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			printf("memgate: nothing to collect\n");
		else
			printf("memgate: removed all of %s (%d tree%s, retired and stale included)\n",
			       MG_PIN_DIR, ret, ret == 1 ? "" : "s");
		return 0;
	}
	mg_shared_serve_retired(NULL);
	{
		struct mg_retired retired[MG_SNAPSHOT_RETIRED];

		print_retired(retired, mg_shared_list_retired(retired, MG_SNAPSHOT_RETIRED));
	}
	if (!mg_shared_exists()) {
		printf("memgate: nothing to collect\n");
		return 0;
	}
	ret = mg_shared_open(&s, false, err);
	if (ret < 0)
		return ret;
	ret = mg_snapshot_entries(&s, &list, &n);
	if (ret < 0)
		return mg_fail(err, -ret, "cannot read memgate's maps");
	for (size_t i = 0; i < n; i++) {
		ret = mg_cgroup_alive(list[i].cgroup_id, err);
		if (ret < 0)
			return ret;
		if (ret)
			continue;
		char id[ID_TEXT];

		printf("memgate: removing %s (cgroup %" PRIu64 " is gone)\n",
		       id_text(list[i].id, false, id), list[i].cgroup_id);
		ret = mg_shared_remove(&s, list[i].id, err);
		if (ret < 0)
			return ret;
		removed++;
	}
	/* What a start killed before its policy was in place left, and no container names. */
	ret = mg_shared_forget_dead(&s, err);
	if (ret < 0)
		return ret;
	n = ret;
	if (n)
		printf("memgate: removing the entries of %zu removed cgroup%s without a container\n", n,
		       n == 1 ? "" : "s");
	removed += n;
	printf("memgate: %zu entr%s removed\n", removed, removed == 1 ? "y" : "ies");
	return mg_shared_release_if_unused(&s, err);
}
