/* SPDX-License-Identifier: MIT */
/*
 * Package, version and asset commands, printing the AWS response shapes (spec §5).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/package.h"
#include "store/store.h"
#include "tools/cmd.h"

static json_t *hashes_json(const struct store_blob_hashes *h)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "MD5", h->md5, "SHA-1", h->sha1, "SHA-256", h->sha256,
			 "SHA-512", h->sha512);
}

static json_t *asset_json(const struct store_asset *a)
{
	return json_pack("{s:s,s:I,s:o}", "name", a->name, "size", (json_int_t)a->size, "hashes",
			 hashes_json(&a->hashes));
}

/* --format, --namespace, --package, --package-version into a coordinate (borrowed). */
static int coord_from_opts(struct cli *c, struct store_coord *ret)
{
	const char *fmt = cli_str(c, "--format");

	ret->format = cafs_format_parse(fmt);
	if (ret->format == CAFS_FORMAT_NONE)
		return cli_usage(c,
				 "--format '%s' is not one of npm, pypi, maven, nuget, generic, "
				 "ruby, swift, cargo",
				 fmt);
	ret->namespace_ = cli_str(c, "--namespace");
	ret->package = cli_str(c, "--package");
	ret->version = cli_str(c, "--package-version");
	return 0;
}

static json_t *coord_json(enum cafs_format f, const char *ns, const char *pkg, const char *ver)
{
	json_t *o = json_pack("{s:s}", "format", cafs_format_name(f));

	if (ns && *ns)
		json_object_set_new(o, "namespace", json_string(ns));
	json_object_set_new(o, "package", json_string(pkg));
	json_object_set_new(o, "version", json_string(ver));
	return o;
}

int cmd_publish_package_version(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_close_ int fd = -1;
	struct store_publish req = {0};
	struct store_publish_result res;
	struct cafs_error e;
	const char *content = cli_str(c, "--asset-content");
	json_t *out;
	int r;

	r = coord_from_opts(c, &req.coord);
	if (r)
		return r;
	if (req.coord.format != CAFS_FORMAT_GENERIC) {
		cafs_error_set(&e, CAFS_VALIDATION, 0,
			       "publish-package-version takes generic packages only; use "
			       "`cafs publish` for %s files",
			       cafs_format_name(req.coord.format));
		return cli_fail(&e);
	}
	req.repository = cli_str(c, "--repository");
	req.asset_name = cli_str(c, "--asset-name");
	req.asset_sha256 = cli_str(c, "--asset-sha256");
	req.unfinished = cli_flag(c, "--unfinished");
	fd = strcmp(content, "-") == 0 ? dup(STDIN_FILENO) : open(content, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cafs_error_set(&e, CAFS_VALIDATION, errno, "cannot read --asset-content '%s': %s",
			       content, strerror(errno));
		return cli_fail(&e);
	}
	if (open_domain(c, &s, &e) < 0 || store_publish_fd(s, &req, fd, &res, &e) < 0)
		return cli_fail(&e);
	out = coord_json(res.format, res.namespace_, res.package, res.version);
	json_object_set_new(out, "versionRevision", json_string(res.revision));
	json_object_set_new(out, "status", json_string(store_status_name(res.status)));
	json_object_set_new(out, "asset", asset_json(&res.asset));
	return cli_print(c, out);
}

int cmd_list_package_version_assets(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ struct store_asset *assets = NULL;
	struct store_coord coord;
	struct cafs_error e;
	char revision[64] = "";
	size_t n = 0;
	json_t *out, *arr;
	int r;

	r = coord_from_opts(c, &coord);
	if (r)
		return r;
	if (open_domain(c, &s, &e) < 0 ||
	    store_version_assets(s, cli_str(c, "--repository"), &coord, &assets, &n, revision, &e) <
		    0)
		return cli_fail(&e);
	out = coord_json(coord.format, coord.namespace_, coord.package, coord.version);
	json_object_set_new(out, "versionRevision", json_string(revision));
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, asset_json(&assets[i]));
	json_object_set_new(out, "assets", arr);
	return cli_print(c, out);
}
