/* SPDX-License-Identifier: MIT */
/*
 * The batch commands on package versions (spec §4.2-§4.5): update-package-versions-status,
 * dispose-package-versions, delete-package-versions and copy-package-versions. Each prints
 * AWS's {"successfulVersions": {...}, "failedVersions": {...}}. As with aws, a batch in which
 * versions failed still exits 0 and lists them under failedVersions; a problem with the
 * request as a whole (a missing repository or package, a bad option value) exits 1.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/common.h"
#include "store/package.h"
#include "store/store.h"
#include "tools/cmd.h"

/* A batch command's request, with the storage its borrowed strings point into. */
struct batch_opts {
	struct store_batch req;
	struct store_version_ref *refs; /* owned */
	json_t *revisions;              /* owned: --version-revisions as {version: revision} */
};

static void batch_opts_done(struct batch_opts *o)
{
	free(o->refs);
	json_decref(o->revisions);
	*o = (struct batch_opts){0};
}

static int fail_validation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A ValidationException found before the store is called (exit 1, as the store's would). */
static int fail_validation(const char *fmt, ...)
{
	struct cafs_error e = {.kind = CAFS_VALIDATION};
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return cli_fail(&e);
}

/* Add VERSION -> REVISION to @map; false (with @why) when malformed or given twice. */
static bool add_revision(json_t *map, const char *version, json_t *rev, char *why, size_t whysz)
{
	if (!*version || !json_is_string(rev) || !*json_string_value(rev)) {
		(void)snprintf(why, whysz, "'%s' needs a version and a revision", version);
		json_decref(rev);
		return false;
	}
	if (json_object_get(map, version)) {
		(void)snprintf(why, whysz, "version '%s' is given twice", version);
		json_decref(rev);
		return false;
	}
	json_object_set_new(map, version, rev);
	return true;
}

/*
 * --version-revisions: each word is shorthand "1.0=REV,2.0=REV" (split at the first '=', as
 * revisions end in '=') or a JSON object {"1.0": "REV"}. Returns a new object, or NULL after
 * a usage error (*@ret_exit set).
 */
static json_t *parse_version_revisions(struct cli *c, int *ret_exit)
{
	size_t n;
	const char *const *words = cli_list(c, "--version-revisions", &n);
	json_t *map = json_object();
	char why[320] = "";

	for (size_t i = 0; i < n && !why[0]; i++) {
		if (words[i][0] == '{') {
			json_error_t je;
			json_t *obj = json_loads(words[i], JSON_REJECT_DUPLICATES, &je);
			const char *k;
			json_t *v;

			if (!json_is_object(obj)) {
				(void)snprintf(why, sizeof(why), "not a JSON object: %s",
					       obj ? "wrong type" : je.text);
				json_decref(obj);
				break;
			}
			json_object_foreach(obj, k, v)
			{
				if (!add_revision(map, k, json_incref(v), why, sizeof(why)))
					break;
			}
			json_decref(obj);
		} else {
			_cleanup_free_ char *copy = strdup(words[i]);
			char *save = NULL;

			if (!copy) {
				(void)snprintf(why, sizeof(why), "out of memory");
				break;
			}
			for (char *tok = strtok_r(copy, ",", &save); tok && !why[0];
			     tok = strtok_r(NULL, ",", &save)) {
				char *eq = strchr(tok, '=');

				if (!eq) {
					(void)snprintf(why, sizeof(why),
						       "'%s' is not VERSION=REVISION", tok);
					break;
				}
				*eq = '\0';
				(void)add_revision(map, tok, json_string(eq + 1), why, sizeof(why));
			}
		}
	}
	if (!why[0] && json_object_size(map) == 0)
		(void)snprintf(why, sizeof(why), "give VERSION=REVISION pairs or a JSON object");
	if (why[0]) {
		*ret_exit = cli_usage(c, "--version-revisions: %s", why);
		json_decref(map);
		return NULL;
	}
	return map;
}

/*
 * Fill @o from the options: the package, --versions and --version-revisions (@exactly_one: the
 * copy rule, one of the two; else every revision's version must be in --versions), and
 * --expected-status. Returns 0, or the exit code after printing why.
 */
static int batch_opts_init(struct cli *c, const char *repo_opt, bool exactly_one,
			   struct batch_opts *o)
{
	const char *fmt = cli_str(c, "--format");
	const char *expected = cli_str(c, "--expected-status");
	bool given_v = cli_given(c, "--versions");
	bool given_r = cli_given(c, "--version-revisions");
	size_t nv;
	const char *const *versions = cli_list(c, "--versions", &nv);
	const char *k;
	json_t *v;
	int ex = 0;

	*o = (struct batch_opts){.req = {.expected_status = -1}};
	o->req.repository = cli_str(c, repo_opt);
	o->req.coord.format = cafs_format_parse(fmt);
	if (o->req.coord.format == CAFS_FORMAT_NONE)
		return cli_usage(c,
				 "--format '%s' is not one of npm, pypi, maven, nuget, generic, "
				 "ruby, swift, cargo",
				 fmt);
	o->req.coord.namespace_ = cli_str(c, "--namespace");
	o->req.coord.package = cli_str(c, "--package");
	if (expected) {
		o->req.expected_status = store_status_parse(expected);
		if (o->req.expected_status < 0)
			return fail_validation("--expected-status '%s' is not one of Published, "
					       "Unfinished, Unlisted, Archived, Disposed",
					       expected);
	}
	if (exactly_one && given_v == given_r)
		return fail_validation("give exactly one of --versions and --version-revisions");
	if (given_r) {
		o->revisions = parse_version_revisions(c, &ex);
		if (!o->revisions)
			return ex;
	}
	if (!given_v) {
		/* copy with --version-revisions alone: its versions are the map's keys */
		o->refs = calloc(json_object_size(o->revisions) + 1, sizeof(*o->refs));
		if (!o->refs)
			return 1;
		json_object_foreach(o->revisions, k, v)
		{
			o->refs[o->req.n_versions].version = k;
			o->refs[o->req.n_versions++].revision = json_string_value(v);
		}
		o->req.versions = o->refs;
		return 0;
	}
	o->refs = calloc(nv + 1, sizeof(*o->refs));
	if (!o->refs)
		return 1;
	for (size_t i = 0; i < nv; i++) {
		o->refs[i].version = versions[i];
		o->refs[i].revision = json_string_value(json_object_get(o->revisions, versions[i]));
	}
	o->req.versions = o->refs;
	o->req.n_versions = nv;
	json_object_foreach(o->revisions, k, v)
	{
		bool listed = false;

		for (size_t i = 0; i < nv && !listed; i++)
			listed = strcmp(versions[i], k) == 0;
		if (!listed)
			return fail_validation("version '%s' of --version-revisions is not in "
					       "--versions",
					       k);
	}
	return 0;
}

/* {"successfulVersions": {...}, "failedVersions": {...}}; omitted copies are left out. */
static json_t *result_json(const struct store_batch_result *res)
{
	json_t *ok = json_object();
	json_t *failed = json_object();

	for (size_t i = 0; i < res->n; i++) {
		const struct store_batch_item *it = &res->items[i];

		if (it->error != STORE_VERSION_OK)
			json_object_set_new(failed, it->version,
					    json_pack("{s:s,s:s}", "errorCode",
						      store_version_error_name(it->error),
						      "errorMessage", it->message));
		else if (!it->omitted)
			json_object_set_new(ok, it->version,
					    json_pack("{s:s,s:s}", "revision", it->revision,
						      "status", it->status));
	}
	return json_pack("{s:o,s:o}", "successfulVersions", ok, "failedVersions", failed);
}

enum batch_op { OP_STATUS, OP_DISPOSE, OP_DELETE, OP_COPY };

static int run_batch(struct cli *c, enum batch_op op)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_batch_result res = {0};
	struct batch_opts o;
	struct cafs_error e;
	json_t *out;
	int target = -1;
	int r;

	r = batch_opts_init(c, op == OP_COPY ? "--source-repository" : "--repository",
			    op == OP_COPY, &o);
	if (r) {
		batch_opts_done(&o);
		return r;
	}
	if (op == OP_STATUS) {
		const char *t = cli_str(c, "--target-status");

		target = store_status_parse(t);
		if (target < 0) {
			batch_opts_done(&o);
			return fail_validation("--target-status '%s' is not one of Published, "
					       "Unlisted, Archived",
					       t);
		}
	}
	r = open_domain(c, &s, &e);
	if (r == 0) {
		switch (op) {
		case OP_STATUS:
			r = store_version_update_status(s, &o.req, (enum store_status)target, &res,
							&e);
			break;
		case OP_DISPOSE:
			r = store_version_dispose(s, &o.req, &res, &e);
			break;
		case OP_DELETE:
			r = store_version_delete(s, &o.req, &res, &e);
			break;
		case OP_COPY:
			r = store_version_copy(s, &o.req, cli_str(c, "--destination-repository"),
					       cli_flag(c, "--allow-overwrite"),
					       cli_flag(c, "--include-from-upstream"), &res, &e);
			break;
		}
	}
	batch_opts_done(&o);
	if (r < 0)
		return cli_fail(&e);
	out = result_json(&res);
	store_batch_result_done(&res);
	return cli_print(c, out);
}

int cmd_update_package_versions_status(struct cli *c)
{
	return run_batch(c, OP_STATUS);
}

int cmd_dispose_package_versions(struct cli *c)
{
	return run_batch(c, OP_DISPOSE);
}

int cmd_delete_package_versions(struct cli *c)
{
	return run_batch(c, OP_DELETE);
}

int cmd_copy_package_versions(struct cli *c)
{
	return run_batch(c, OP_COPY);
}
