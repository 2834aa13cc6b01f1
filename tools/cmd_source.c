/* SPDX-License-Identifier: MIT */
/*
 * The commands that talk to external sources (cafs' own, DESIGN.md §8): refresh (ask the
 * sources for version lists now) and fetch (get a version's files through a repository as a
 * package manager would, retaining them, spec §2.2: the way to fill a store before a build
 * runs offline). Both draw a progress bar on a terminal.
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
#include "store/view.h"
#include "tools/cli.h"
#include "tools/cmd.h"
#include "tools/shapes.h"

struct refresh_ctx {
	json_t *items;
	struct cli_progress bar;
};

static void refresh_cb(void *ctx, const struct store_refresh_item *it, size_t i, size_t n)
{
	struct refresh_ctx *r = ctx;
	json_t *o = json_pack("{s:s}", "externalConnection", it->connection);

	if (it->namespace_[0])
		json_object_set_new(o, "namespace", json_string(it->namespace_));
	json_object_set_new(o, "package", json_string(it->name));
	json_object_set_new(o, "outcome",
			    json_string(it->outcome > 0    ? "listed"
					: it->outcome == 0 ? "not found"
							   : "failed"));
	if (it->outcome > 0)
		json_object_set_new(o, "versions", json_integer((json_int_t)it->n_versions));
	if (it->outcome < 0)
		json_object_set_new(o, "message", json_string(it->message));
	json_array_append_new(r->items, o);
	cli_progress_update(&r->bar, (int64_t)i + 1, (int64_t)n);
}

int cmd_refresh(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct refresh_ctx r = {0};
	const char *fmt = cli_str(c, "--format");
	enum cafs_format f = fmt ? cafs_format_parse(fmt) : CAFS_FORMAT_NONE;
	struct cafs_error e;
	size_t failed = 0;

	if (fmt && f == CAFS_FORMAT_NONE)
		return cli_usage(c, "--format '%s' is not pypi, npm or maven", fmt);
	if (cli_str(c, "--package") && !fmt)
		return cli_usage(c, "--package needs --format");
	r.items = json_array();
	cli_progress_init(&r.bar, "refresh");
	if (open_domain(c, &s, &e) < 0 ||
	    store_refresh(s, cli_str(c, "--repository"), f, cli_str(c, "--namespace"),
			  cli_str(c, "--package"), refresh_cb, &r, &e) < 0) {
		cli_progress_done(&r.bar);
		json_decref(r.items);
		return cli_fail(&e);
	}
	cli_progress_done(&r.bar);
	for (size_t i = 0; i < json_array_size(r.items); i++)
		failed += strcmp(json_string_value(
					 json_object_get(json_array_get(r.items, i), "outcome")),
				 "failed") == 0;
	(void)cli_print(c, json_pack("{s:o}", "refreshed", r.items));
	return failed ? 1 : 0;
}

/* The path of a coordinate in the mount's tree: "/R/pypi/name/1.0" and the like. */
static void coord_path(const char *repo, const struct store_coord *k, char *buf, size_t bufsz)
{
	char ns[4 * CAFS_PACKAGE_FIELD_MAX + 1] = "";
	size_t o;

	if (k->namespace_ && *k->namespace_) {
		(void)snprintf(ns, sizeof(ns), "%s%s/", k->format == CAFS_FORMAT_NPM ? "@" : "",
			       k->namespace_);
		if (k->format == CAFS_FORMAT_MAVEN)
			for (char *p = ns; *p; p++)
				if (*p == '.')
					*p = '/';
	}
	o = (size_t)snprintf(buf, bufsz, "/%s/%s/%s%s/%s", repo, cafs_format_name(k->format), ns,
			     k->package, k->version);
	if (o >= bufsz)
		buf[bufsz - 1] = '\0';
}

struct names_ctx {
	json_t *names;
};

static int asset_names_cb(void *ctx, const char *name, const struct store_node *child)
{
	struct names_ctx *n = ctx;

	if (child->kind == STORE_NODE_ASSET)
		json_array_append_new(n->names, json_string(name));
	return 0;
}

int cmd_fetch(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct names_ctx nc = {.names = json_array()};
	const char *asset = cli_str(c, "--asset");
	const char *outfile = c->n_args ? c->args[0] : NULL;
	struct cli_progress bar;
	struct store_coord k;
	struct store_node dir;
	struct cafs_error e;
	json_t *done;
	char path[8192];
	int r = coord_from_opts(c, &k);

	if (r) {
		json_decref(nc.names);
		return r;
	}
	if (c->n_args > 1 || (outfile && !asset)) {
		json_decref(nc.names);
		return cli_usage(c, "an OUTFILE needs --asset (one file)");
	}
	coord_path(cli_str(c, "--repository"), &k, path, sizeof(path));
	if (open_domain(c, &s, &e) < 0 || store_view_resolve(s, path, &dir, &e) < 0 ||
	    (!asset && store_view_readdir(s, &dir, asset_names_cb, &nc, &e) < 0)) {
		json_decref(nc.names);
		return cli_fail(&e);
	}
	if (asset)
		json_array_append_new(nc.names, json_string(asset));
	cli_progress_init(&bar, "fetch");
	store_set_progress(s, cli_progress_update, &bar);
	done = json_array();
	for (size_t i = 0; i < json_array_size(nc.names); i++) {
		const char *name = json_string_value(json_array_get(nc.names, i));
		char fpath[8448];
		struct store_node n;
		int fd;

		(void)snprintf(bar.label, sizeof(bar.label), "%.60s", name);
		(void)snprintf(fpath, sizeof(fpath), "%s/%s", path, name);
		r = store_view_resolve(s, fpath, &n, &e);
		if (r == 0 && n.kind != STORE_NODE_ASSET)
			r = cafs_error_set(&e, CAFS_NOT_FOUND, 0, "'%s' is not an asset", name);
		fd = r < 0 ? r : store_view_open(s, &n, &e);
		cli_progress_done(&bar);
		if (fd < 0) {
			json_decref(done);
			json_decref(nc.names);
			return cli_fail(&e);
		}
		if (outfile) {
			int out = strcmp(outfile, "-") == 0
					  ? dup(STDOUT_FILENO)
					  : open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
						 0644);

			r = out < 0 ? -errno : cli_copy_fd(fd, out, &bar, -1);
			if (out >= 0)
				(void)close(out);
			if (r < 0) {
				(void)close(fd);
				json_decref(done);
				json_decref(nc.names);
				cafs_error_set(&e, CAFS_IO, -r, "cannot write '%s': %s", outfile,
					       strerror(-r));
				return cli_fail(&e);
			}
		}
		{
			off_t size = lseek(fd, 0, SEEK_END);

			json_array_append_new(done,
					      json_pack("{s:s,s:I,s:b}", "assetName", name, "size",
							(json_int_t)size, "fetched", n.external));
		}
		(void)close(fd);
	}
	json_decref(nc.names);
	store_set_progress(s, NULL, NULL);
	if (outfile && strcmp(outfile, "-") == 0) {
		json_decref(done);
		return 0;
	}
	{
		json_t *o = coord_json(k.format, k.namespace_, k.package, k.version);

		json_object_set_new(o, "repository", json_string(cli_str(c, "--repository")));
		json_object_set_new(o, "assets", done);
		return cli_print(c, o);
	}
}
