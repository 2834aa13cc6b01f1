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
#include "tools/shapes.h"

json_t *hashes_json(const struct store_blob_hashes *h)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "MD5", h->md5, "SHA-1", h->sha1, "SHA-256", h->sha256,
			 "SHA-512", h->sha512);
}

json_t *asset_json(const struct store_asset *a)
{
	return json_pack("{s:s,s:I,s:o}", "name", a->name, "size", (json_int_t)a->size, "hashes",
			 hashes_json(&a->hashes));
}

/* --format, --namespace, --package, --package-version into a coordinate (borrowed). */
int coord_from_opts(struct cli *c, struct store_coord *ret)
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

json_t *coord_json(enum cafs_format f, const char *ns, const char *pkg, const char *ver)
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

/* --format, --namespace, --package (no version) into a coordinate (borrowed). */
static int package_from_opts(struct cli *c, struct store_coord *ret)
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
	ret->version = NULL;
	return 0;
}

static json_t *origin_configuration_json(const struct store_package *p)
{
	return json_pack("{s:{s:s,s:s}}", "restrictions", "publish", p->publish, "upstream",
			 p->upstream);
}

static json_t *package_json(const struct store_package *p, const char *name_key)
{
	json_t *o = json_pack("{s:s}", "format", cafs_format_name(p->format));

	if (p->namespace_[0])
		json_object_set_new(o, "namespace", json_string(p->namespace_));
	json_object_set_new(o, name_key, json_string(p->package));
	json_object_set_new(o, "originConfiguration", origin_configuration_json(p));
	return o;
}

int cmd_list_packages(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ struct store_package *list = NULL;
	struct store_package_filter f = {0};
	struct cafs_error e;
	json_t *items, *pg;
	size_t n = 0;
	int ex = 0;

	if (cli_str(c, "--format")) {
		f.format = cafs_format_parse(cli_str(c, "--format"));
		if (f.format == CAFS_FORMAT_NONE)
			return cli_usage(c, "--format '%s' is not a package format",
					 cli_str(c, "--format"));
	}
	f.namespace_prefix = cli_str(c, "--namespace");
	f.package_prefix = cli_str(c, "--package-prefix");
	f.publish = cli_str(c, "--publish");
	f.upstream = cli_str(c, "--upstream");
	if (open_domain(c, &s, &e) < 0 ||
	    store_package_list(s, cli_str(c, "--repository"), &f, &list, &n, &e) < 0)
		return cli_fail(&e);
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = package_json(&list[i], "package");
		char key[2048];

		/* the page key must sort like the list: format, namespace, name */
		(void)snprintf(key, sizeof(key), "%s\x01%s\x01%s", cafs_format_name(list[i].format),
			       list[i].namespace_, list[i].package);
		json_object_set_new(o, "__key", json_string(key));
		json_array_append_new(items, o);
	}
	pg = page(c, items, "__key", &ex);
	if (!pg)
		return ex;
	items = json_object_get(pg, "items");
	for (size_t i = 0; i < json_array_size(items); i++)
		json_object_del(json_array_get(items, i), "__key");
	json_object_set(pg, "packages", items);
	json_object_del(pg, "items");
	return cli_print(c, pg);
}

/* A command on one package: run @op, print the package under @key with its name as @name_key. */
static int package_command(struct cli *c,
			   int (*op)(struct store *, const char *, const struct store_coord *,
				     struct store_package *, struct cafs_error *),
			   const char *key, const char *name_key)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_package p;
	struct store_coord coord;
	struct cafs_error e;
	int r = package_from_opts(c, &coord);

	if (r)
		return r;
	if (open_domain(c, &s, &e) < 0 || op(s, cli_str(c, "--repository"), &coord, &p, &e) < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o}", key, package_json(&p, name_key)));
}

int cmd_describe_package(struct cli *c)
{
	return package_command(c, store_package_describe, "package", "name");
}

int cmd_delete_package(struct cli *c)
{
	return package_command(c, store_package_delete, "deletedPackage", "package");
}

int cmd_put_package_origin_configuration(struct cli *c)
{
	static const char *const keys[] = {"publish", "upstream", NULL};
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_package p;
	struct store_coord coord;
	struct cafs_error e;
	json_t *arr;
	const char *publish, *upstream;
	int ex = 0;
	int r = package_from_opts(c, &coord);

	if (r)
		return r;
	arr = cli_parse_structs(c, "--restrictions", keys, &ex);
	if (!arr)
		return ex;
	if (json_array_size(arr) != 1) {
		json_decref(arr);
		return cli_usage(c, "--restrictions takes one value: publish=ALLOW|BLOCK,"
				    "upstream=ALLOW|BLOCK");
	}
	publish = json_string_value(json_object_get(json_array_get(arr, 0), "publish"));
	upstream = json_string_value(json_object_get(json_array_get(arr, 0), "upstream"));
	if (!publish || !upstream) {
		json_decref(arr);
		return cli_usage(c, "--restrictions needs both publish= and upstream=");
	}
	r = open_domain(c, &s, &e);
	if (r == 0)
		r = store_package_origin_put(s, cli_str(c, "--repository"), &coord, publish,
					     upstream, &p, &e);
	json_decref(arr);
	if (r < 0)
		return cli_fail(&e);
	return cli_print(c,
			 json_pack("{s:o}", "originConfiguration", origin_configuration_json(&p)));
}

static json_t *origin_json(const struct store_version *v)
{
	json_t *entry = json_object();

	if (v->entry_repository[0])
		json_object_set_new(entry, "repositoryName", json_string(v->entry_repository));
	if (v->entry_external_connection[0])
		json_object_set_new(entry, "externalConnectionName",
				    json_string(v->entry_external_connection));
	return json_pack("{s:o,s:s}", "domainEntryPoint", entry, "originType", v->origin_type);
}

int cmd_list_package_versions(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ struct store_version *list = NULL;
	struct store_version_filter f = {.status = -1};
	char def[4 * CAFS_PACKAGE_FIELD_MAX + 1] = "";
	struct store_coord coord;
	struct cafs_error e;
	const char *status = cli_str(c, "--status");
	const char *origin = cli_str(c, "--origin-type");
	const char *sort = cli_str(c, "--sort-by");
	json_t *items, *pg, *out;
	size_t n = 0;
	int ex = 0;
	int r = package_from_opts(c, &coord);

	if (r)
		return r;
	if (status) {
		f.status = store_status_parse(status);
		if (f.status < 0)
			return cli_usage(c,
					 "--status '%s' is not one of Published, Unfinished, "
					 "Unlisted, Archived, Disposed",
					 status);
	}
	if (origin && strcmp(origin, "INTERNAL") != 0 && strcmp(origin, "EXTERNAL") != 0 &&
	    strcmp(origin, "UNKNOWN") != 0)
		return cli_usage(c, "--origin-type must be INTERNAL, EXTERNAL or UNKNOWN");
	f.origin_type = origin;
	if (sort && strcmp(sort, "PUBLISHED_TIME") != 0)
		return cli_usage(c, "--sort-by takes PUBLISHED_TIME only");
	if (open_domain(c, &s, &e) < 0 ||
	    store_version_list(s, cli_str(c, "--repository"), &coord, &f, &list, &n, def, &e) < 0)
		return cli_fail(&e);
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		char key[64];

		/* versions come in published order; the page key keeps that order */
		(void)snprintf(key, sizeof(key), "%020zu", i);
		json_array_append_new(items,
				      json_pack("{s:s,s:s,s:s,s:o,s:s}", "version", list[i].version,
						"revision", list[i].revision, "status",
						store_status_name(list[i].status), "origin",
						origin_json(&list[i]), "__key", key));
	}
	pg = page(c, items, "__key", &ex);
	if (!pg)
		return ex;
	out = json_object();
	if (def[0])
		json_object_set_new(out, "defaultDisplayVersion", json_string(def));
	json_object_set_new(out, "format", json_string(cafs_format_name(coord.format)));
	if (coord.namespace_ && *coord.namespace_)
		json_object_set_new(out, "namespace", json_string(coord.namespace_));
	json_object_set_new(out, "package", json_string(coord.package));
	items = json_object_get(pg, "items");
	for (size_t i = 0; i < json_array_size(items); i++)
		json_object_del(json_array_get(items, i), "__key");
	json_object_set(out, "versions", items);
	if (json_object_get(pg, "nextToken"))
		json_object_set(out, "nextToken", json_object_get(pg, "nextToken"));
	json_decref(pg);
	return cli_print(c, out);
}

int cmd_describe_package_version(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_version_detail d;
	struct store_coord coord;
	struct cafs_error e;
	json_t *o, *lic;
	int r = coord_from_opts(c, &coord);

	if (r)
		return r;
	if (open_domain(c, &s, &e) < 0 ||
	    store_version_describe(s, cli_str(c, "--repository"), &coord, &d, &e) < 0)
		return cli_fail(&e);
	o = json_pack("{s:s}", "format", cafs_format_name(d.package.format));
	if (d.package.namespace_[0])
		json_object_set_new(o, "namespace", json_string(d.package.namespace_));
	json_object_set_new(o, "packageName", json_string(d.package.package));
	json_object_set_new(o, "displayName",
			    json_string(d.display_name ? d.display_name : d.package.display_name));
	json_object_set_new(o, "version", json_string(d.v.version));
	if (d.summary)
		json_object_set_new(o, "summary", json_string(d.summary));
	if (d.home_page)
		json_object_set_new(o, "homePage", json_string(d.home_page));
	if (d.source_code_repository)
		json_object_set_new(o, "sourceCodeRepository",
				    json_string(d.source_code_repository));
	json_object_set_new(o, "publishedTime", cli_time(d.v.published_us));
	lic = d.licenses ? json_loads(d.licenses, 0, NULL) : NULL;
	json_object_set_new(o, "licenses", lic ? lic : json_array());
	json_object_set_new(o, "revision", json_string(d.v.revision));
	json_object_set_new(o, "status", json_string(store_status_name(d.v.status)));
	json_object_set_new(o, "origin", origin_json(&d.v));
	store_version_detail_done(&d);
	return cli_print(c, json_pack("{s:o}", "packageVersion", o));
}
