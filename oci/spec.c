// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bundle's config.json.  Some runtimes leave annotations out of the state
 * they pass to hooks, so the hook falls back to the spec they came from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "mg_cleanup.h"
#include "mg_oci.h"
#include "mg_read.h"

int mg_spec_annotations(const char *bundle, json_object **annotations, struct mg_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *what = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int ret;

	*annotations = NULL;
	if (!bundle || !bundle[0])
		return mg_fail(
			err, EINVAL,
			"OCI bundle path is empty; expected the directory holding config.json");
	if (asprintf(&path, "%s/config.json", bundle) < 0) {
		path = NULL;
		return mg_fail_errno(err, ENOMEM, "OCI bundle %s: config.json path", bundle);
	}
	if (asprintf(&what, "OCI bundle config %s", path) < 0) {
		what = NULL;
		return mg_fail_errno(err, ENOMEM, "OCI bundle config %s", path);
	}

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return mg_fail_errno(err, errno, "%s: cannot open", what);
	ret = mg_read_bounded(fd, MG_SPEC_MAX, what, &buf, &len, err);
	if (ret)
		return ret;
	return mg_spec_annotations_parse(buf, len, what, annotations, err);
}

int mg_spec_annotations_parse(const char *buf, size_t len, const char *what,
			      json_object **annotations, struct mg_error *err)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *ann = NULL;
	int ret;

	*annotations = NULL;
	ret = mg_json_parse_object(buf, len, what, &root, err);
	if (ret)
		return ret;

	if (!json_object_object_get_ex(root, "annotations", &ann) ||
	    json_object_is_type(ann, json_type_null))
		return 0;
	ret = mg_annotations_check(ann, what, err);
	if (ret)
		return ret;
	*annotations = json_object_get(ann);
	return 0;
}
