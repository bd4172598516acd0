// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

#include "mg_config.h"
#include "mg_shared.h"
#include "cli.h"

/*
 * Keep memgate loaded from boot with no policy (deploy/systemd), so the first
 * container's start costs what a warm one does; --release undoes it.
 */
int cmd_preload(int argc, char **argv, struct mg_error *err)
{
	static const char *const known[] = { "--release", NULL };
	struct mg_shared s __attribute__((cleanup(mg_shared_close))) = MG_SHARED_INIT;
	bool release = has_flag(argc, argv, "--release");
	int ret;

	ret = check_flags(argc, argv, known, err);
	if (ret < 0)
		return ret;
	ret = mg_shared_lock(&s, mg_config_lock_timeout(), err);
	if (ret < 0)
		return ret;
	mg_shared_serve_retired(NULL);
	if (release && !mg_shared_exists()) {
		printf("memgate: not loaded\n");
		return 0;
	}
	ret = mg_shared_open(&s, !release, err);
	if (ret < 0)
		return ret;
	ret = mg_shared_keep(&s, !release, err);
	if (ret < 0)
		return ret;
	if (!release)
		printf("memgate: loaded at %s and kept with no policy\n", MG_PIN_DIR);
	else if (mg_shared_exists())
		printf("memgate: no longer kept; it goes when its last container under policy stops\n");
	else
		printf("memgate: released (no container was under policy)\n");
	return 0;
}
