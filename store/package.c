/* SPDX-License-Identifier: MIT */
/*
 * Packages, versions and assets: publishing one asset into a version and reading a version's
 * assets back. A publish is two steps: the bytes go into the blob store (store/blob.c) outside
 * any transaction, then one write transaction checks every rule against the current rows and
 * records the package, the version and the asset together, so a refusal or a crash leaves no
 * row behind (an unreferenced blob is what gc frees).
 *
 * The revision of a version is base64(SHA-256) over its sorted (asset name, SHA-256) pairs and
 * its canonical metadata; status is not part of it (spec decision 5).
 */
#include "store/package.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/version.h"
#include "store/extract.h"
#include "store/group.h"
#include "store/internal.h"
#include "store/maven.h"
#include "store/store.h"

static const char *const status_names[] = {
	[STORE_STATUS_PUBLISHED] = "Published", [STORE_STATUS_UNFINISHED] = "Unfinished",
	[STORE_STATUS_UNLISTED] = "Unlisted",   [STORE_STATUS_ARCHIVED] = "Archived",
	[STORE_STATUS_DISPOSED] = "Disposed",
};

const char *store_status_name(enum store_status st)
{
	return (size_t)st < ARRAY_SIZE(status_names) ? status_names[st] : "Unknown";
}

int store_status_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(status_names); i++)
		if (strcmp(s, status_names[i]) == 0)
			return (int)i;
	return -1;
}

/* The stored form of a coordinate: PyPI names normalized (spec §3), others as given. */
int store_pkg_coord(const struct store_coord *c, struct store_pkg_coord *ret, struct cafs_error *e)
{
	int r = cafs_validate_coord(c->format, c->namespace_, c->package, c->version, e);

	if (r < 0)
		return r;
	*ret = (struct store_pkg_coord){.format = c->format};
	(void)snprintf(ret->namespace_, sizeof(ret->namespace_), "%s",
		       c->namespace_ ? c->namespace_ : "");
	if (c->format == CAFS_FORMAT_PYPI)
		(void)cafs_pypi_normalize(c->package, ret->package, sizeof(ret->package));
	else
		(void)snprintf(ret->package, sizeof(ret->package), "%s", c->package);
	if (c->format == CAFS_FORMAT_NPM && ret->namespace_[0])
		(void)snprintf(ret->display, sizeof(ret->display), "@%s/%s", ret->namespace_,
			       c->package);
	else
		(void)snprintf(ret->display, sizeof(ret->display), "%s", c->package);
	(void)snprintf(ret->version, sizeof(ret->version), "%s", c->version ? c->version : "");
	return 0;
}

int store_pkg_find(struct store *s, int64_t repo, const struct store_pkg_coord *c, int64_t *ret_id,
		   char *ret_publish, char *ret_upstream, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(s,
			   "SELECT id, origin_publish, origin_upstream FROM packages "
			   "WHERE repository_id = ? AND format = ? AND namespace = ? AND "
			   "name = ?",
			   e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, cafs_format_name(c->format), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->namespace_, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->package, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(st, 0);
		if (ret_publish)
			(void)snprintf(ret_publish, 8, "%s",
				       (const char *)sqlite3_column_text(st, 1));
		if (ret_upstream)
			(void)snprintf(ret_upstream, 8, "%s",
				       (const char *)sqlite3_column_text(st, 2));
		(void)sqlite3_reset(st);
		return 1;
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "look up package", e);
}

/* First arrival (spec §6.2): by publish publish=ALLOW upstream=BLOCK, by ingest the reverse. */
int store_pkg_create(struct store *s, int64_t repo, const struct store_pkg_coord *c, bool ingested,
		     int64_t *ret_id, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(s,
			   "INSERT INTO packages (repository_id, format, namespace, name, "
			   "display_name, origin_publish, origin_upstream, created_us) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, iif(?7, 'BLOCK', 'ALLOW'), "
			   "iif(?7, 'ALLOW', 'BLOCK'), ?6)",
			   e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, cafs_format_name(c->format), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->namespace_, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->package, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->display, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, store_now_us());
	sqlite3_bind_int(st, 7, ingested);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "create package", e);
	*ret_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_pkg_find_version(struct store *s, int64_t pkg, const char *version, int64_t *ret_id,
			   enum store_status *ret_status, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s, "SELECT id, status FROM package_versions WHERE package_id = ? AND version = ?",
		e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(st, 0);
		*ret_status = (enum store_status)store_status_parse(
			(const char *)sqlite3_column_text(st, 1));
		(void)sqlite3_reset(st);
		return 1;
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "look up package version", e);
}

/*
 * Recompute and store the revision of version @ver: SHA-256 over "name\0sha256\n" for each
 * asset in name order, then the canonical metadata fields, base64-encoded.
 */
int store_pkg_update_revision(struct store *s, int64_t ver, char *ret, struct cafs_error *e)
{
	static const char *const meta_sql =
		"SELECT coalesce(display_name, ''), coalesce(summary, ''), coalesce(home_page, "
		"''), "
		"coalesce(source_code_repository, ''), coalesce(licenses, ''), "
		"coalesce(requires_python, '') FROM package_versions WHERE id = ?";
	unsigned char md[32];
	unsigned char b64[48];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	sqlite3_stmt *st;
	int rc;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "cannot start SHA-256");
	}
	st = store_stmt(s,
			"SELECT a.name, b.sha256 FROM assets a JOIN blobs b ON b.id = a.blob_id "
			"WHERE a.version_id = ? ORDER BY a.name",
			e);
	if (!st) {
		EVP_MD_CTX_free(ctx);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, ver);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		(void)EVP_DigestUpdate(ctx, sqlite3_column_text(st, 0),
				       (size_t)sqlite3_column_bytes(st, 0) + 1);
		(void)EVP_DigestUpdate(ctx, sqlite3_column_text(st, 1),
				       (size_t)sqlite3_column_bytes(st, 1));
		(void)EVP_DigestUpdate(ctx, "\n", 1);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		EVP_MD_CTX_free(ctx);
		return store_sql_error(s, rc, "read assets", e);
	}
	st = store_stmt(s, meta_sql, e);
	if (!st) {
		EVP_MD_CTX_free(ctx);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, ver);
	if (sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(st); i++)
			(void)EVP_DigestUpdate(ctx, sqlite3_column_text(st, i),
					       (size_t)sqlite3_column_bytes(st, i) + 1);
	(void)sqlite3_reset(st);
	(void)EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	(void)EVP_EncodeBlock(b64, md, sizeof(md));
	(void)snprintf(ret, 64, "%s", (const char *)b64);

	st = store_stmt(s, "UPDATE package_versions SET revision = ?, updated_us = ? WHERE id = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, ret, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_now_us());
	sqlite3_bind_int64(st, 3, ver);
	rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "store revision", e);
}

int store_step_done(struct store *s, sqlite3_stmt *st, const char *what, struct cafs_error *e)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, what, e);
}

/* The rules and rows of a publish, inside the write transaction. */
void store_pkg_resource(struct store *s, const char *repository, const struct store_pkg_coord *c,
			char *buf, size_t bufsz)
{
	char owner[13] = "";

	(void)store_domain_owner(s, owner, NULL);
	(void)snprintf(buf, bufsz,
		       "arn:aws:codeartifact:" STORE_REGION ":%s:package/%s/%s/%s/%s/%s%s%s", owner,
		       s->name, repository ? repository : "", cafs_format_name(c->format),
		       c->namespace_, c->package, c->version[0] ? "/" : "", c->version);
}

/*
 * Spec §2.6: a version that a repository can already reach through its upstreams cannot be
 * published into it (as long as the package's upstream control there is not BLOCK). Generic
 * packages are never served through upstreams, so they are exempt.
 */
static int upstream_conflict(struct store *s, int64_t repo, const char *repository,
			     const struct store_pkg_coord *c, struct cafs_error *e)
{
	struct store_search_node order[CAFS_MAX_SEARCHED_REPOS];
	size_t n = 0;
	int r = store_search_order(s, repo, order, &n, e);

	if (r < 0)
		return r;
	for (size_t i = 1; i < n; i++) {
		sqlite3_stmt *st = store_stmt(
			s,
			"SELECT 1 FROM packages p JOIN package_versions v ON v.package_id = p.id "
			"WHERE p.repository_id = ? AND p.format = ? AND p.namespace = ? AND "
			"p.name = ? AND v.version = ?",
			e);
		bool hit;

		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, order[i].id);
		sqlite3_bind_text(st, 2, cafs_format_name(c->format), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->namespace_, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, c->package, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, c->version, -1, SQLITE_STATIC);
		hit = sqlite3_step(st) == SQLITE_ROW;
		(void)sqlite3_reset(st);
		if (hit)
			return cafs_error_set(
				e, CAFS_CONFLICT, EEXIST,
				"version '%s' of package '%s' is already available to "
				"repository '%s' through its upstream '%s': publish it "
				"where no upstream has it, or set the package's upstream "
				"origin control to BLOCK",
				c->version, c->display, repository, order[i].name);
	}
	return 0;
}

/*
 * Spec §2.6 with a source: a version the source behind a connection in the search order lists
 * cannot be published while the package's upstream control is ALLOW (view_sources() leaves
 * out what that control or the package groups keep out). Inside a transaction only the cached
 * listing answers; before it, the source is asked, and when it cannot answer the publish goes
 * on with a warning (spec: during an outage the check may be incomplete).
 */
static int source_conflict(struct store *s, int64_t repo, const char *repository,
			   const struct store_pkg_coord *c, struct cafs_error *e)
{
	struct view_sources src;
	int r;

	if (c->format == CAFS_FORMAT_GENERIC)
		return 0;
	r = view_sources(s, repo, c->format, c->namespace_, c->package, &src, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < src.n; i++) {
		struct ext_version ev;
		struct cafs_error why;
		int64_t listing;

		if (!src.ext[i][0])
			continue;
		r = ext_listing(s, src.ext[i], c->namespace_, c->package, false, &listing, &why);
		if (r < 0) {
			store_log(STORE_LOG_WARNING,
				  "publishing %s %s into %s unchecked against %s: %s", c->display,
				  c->version, repository, src.ext[i], why.msg);
			continue;
		}
		if (r > 0)
			r = ext_find_version(s, listing, c->version, &ev, e);
		if (r < 0)
			return r;
		if (r > 0)
			return cafs_error_set(
				e, CAFS_CONFLICT, EEXIST,
				"version '%s' of package '%s' is already available to repository "
				"'%s' from %s through '%s': publish it where no source has it, or "
				"set the package's upstream origin control to BLOCK",
				c->version, c->display, repository, src.ext[i], src.nodes[i].name);
	}
	return 0;
}

/* JSON array of {name, url} for the licenses column; NULL when there are none. */
static char *licenses_json(const struct store_metadata *m)
{
	json_t *arr;
	char *out;

	if (!m->n_licenses)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < m->n_licenses; i++) {
		json_t *o = json_object();

		if (m->licenses[i].name)
			json_object_set_new(o, "name", json_string(m->licenses[i].name));
		if (m->licenses[i].url)
			json_object_set_new(o, "url", json_string(m->licenses[i].url));
		json_array_append_new(arr, o);
	}
	out = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(arr);
	return out;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/*
 * Record what a package file says about its version: fields still empty are filled (the
 * first file of a version that carries metadata speaks for it), and the dependencies are
 * written when the version has none yet.
 */
int store_version_apply_metadata(struct store *s, int64_t ver, const struct store_metadata *m,
				 struct cafs_error *e)
{
	_cleanup_free_ char *lic = licenses_json(m);
	sqlite3_stmt *st;
	int has_deps;
	int r;

	st = store_stmt(
		s,
		"UPDATE package_versions SET summary = coalesce(summary, ?), "
		"home_page = coalesce(home_page, ?), source_code_repository = "
		"coalesce(source_code_repository, ?), licenses = coalesce(licenses, ?), "
		"readme = coalesce(readme, ?), requires_python = coalesce(requires_python, ?) "
		"WHERE id = ?",
		e);
	if (!st)
		return -EIO;
	bind_opt(st, 1, m->summary);
	bind_opt(st, 2, m->home_page);
	bind_opt(st, 3, m->source_code_repository);
	bind_opt(st, 4, lic);
	bind_opt(st, 5, m->readme);
	bind_opt(st, 6, m->requires_python);
	sqlite3_bind_int64(st, 7, ver);
	r = store_step_done(s, st, "record version metadata", e);
	if (r < 0 || m->n_deps == 0)
		return r;
	st = store_stmt(s, "SELECT count(*) FROM dependencies WHERE version_id = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	has_deps = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	(void)sqlite3_reset(st);
	for (size_t i = 0; !has_deps && i < m->n_deps; i++) {
		st = store_stmt(
			s,
			"INSERT INTO dependencies (version_id, position, namespace, package, "
			"dependency_type, version_requirement) VALUES (?, ?, ?, ?, ?, ?)",
			e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, ver);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, m->deps[i].namespace_ ? m->deps[i].namespace_ : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 4, m->deps[i].package ? m->deps[i].package : "", -1,
				  SQLITE_STATIC);
		bind_opt(st, 5, m->deps[i].dependency_type);
		bind_opt(st, 6, m->deps[i].version_requirement);
		r = store_step_done(s, st, "record dependency", e);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * npm's "latest" dist-tag follows the highest Published version: a release beats every
 * pre-release, and among equals SemVer precedence decides.
 */
static int npm_follow_latest(struct store *s, int64_t pkg, const char *version,
			     struct cafs_error *e)
{
	char cur[4 * CAFS_PACKAGE_FIELD_MAX + 1] = "";
	bool take;
	sqlite3_stmt *st;

	st = store_stmt(s, "SELECT version FROM dist_tags WHERE package_id = ? AND tag = 'latest'",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	if (sqlite3_step(st) == SQLITE_ROW)
		(void)snprintf(cur, sizeof(cur), "%s", (const char *)sqlite3_column_text(st, 0));
	(void)sqlite3_reset(st);
	if (!cur[0])
		take = true;
	else if (cafs_semver_prerelease(version) != cafs_semver_prerelease(cur))
		take = !cafs_semver_prerelease(version);
	else
		take = cafs_semver_cmp(version, cur) > 0;
	if (!take)
		return 0;
	st = store_stmt(s,
			"INSERT INTO dist_tags (package_id, tag, version) VALUES (?, 'latest', ?) "
			"ON CONFLICT (package_id, tag) DO UPDATE SET version = excluded.version",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	return store_step_done(s, st, "set dist-tag latest", e);
}

static int set_status(struct store *s, int64_t ver, enum store_status st_, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE package_versions SET status = ? WHERE id = ?", e);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, store_status_name(st_), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ver);
	return store_step_done(s, st, "set status", e);
}

static int publish_rows(struct store *s, const struct store_publish *req,
			const struct store_pkg_coord *c, const struct store_blob *blob,
			int64_t metadata_blob, struct store_publish_result *res,
			struct cafs_error *e)
{
	char publish[8] = "", upstream[8] = "ALLOW";
	enum store_status status = STORE_STATUS_PUBLISHED;
	int64_t repo, pkg, ver = 0;
	sqlite3_stmt *st;
	int found;
	int r;

	r = store_repo_id(s, req->repository, &repo, e);
	if (r < 0)
		return r;
	/* spec §7.7: the package's publish control and its package group's PUBLISH restriction */
	r = store_origin_require(s, CAFS_ACTION_PUBLISH, req->repository, c->format, c->namespace_,
				 c->package, e);
	if (r < 0)
		return r;
	found = store_pkg_find(s, repo, c, &pkg, publish, upstream, e);
	if (found < 0)
		return found;
	if (!found) {
		r = store_pkg_create(s, repo, c, false, &pkg, e);
		if (r < 0)
			return r;
	}
	found = store_pkg_find_version(s, pkg, c->version, &ver, &status, e);
	if (found < 0)
		return found;
	if (found && (status == STORE_STATUS_ARCHIVED || status == STORE_STATUS_DISPOSED))
		return cafs_error_set(e, CAFS_CONFLICT, EROFS,
				      "version '%s' of package '%s' is %s: it takes no assets",
				      c->version, c->display, store_status_name(status));
	/* spec §2.6 concerns what the repository can reach: not what its group keeps out */
	if (!found && c->format != CAFS_FORMAT_GENERIC && strcmp(upstream, "BLOCK") != 0)
		r = store_group_allows(s, CAFS_ACTION_INTERNAL_UPSTREAM, req->repository, c->format,
				       c->namespace_, c->package, e);
	else
		r = 0;
	if (r < 0)
		return r;
	if (r > 0) {
		r = upstream_conflict(s, repo, req->repository, c, e);
		if (r < 0)
			return r;
	}
	if (!found) {
		r = source_conflict(s, repo, req->repository, c, e);
		if (r < 0)
			return r;
	}
	if (!found) {
		status = req->unfinished ? STORE_STATUS_UNFINISHED : STORE_STATUS_PUBLISHED;
		st = store_stmt(
			s,
			"INSERT INTO package_versions (package_id, version, status, revision, "
			"origin_type, entry_repository, published_us, display_name, "
			"created_us, updated_us) VALUES (?, ?, ?, '', 'INTERNAL', ?, ?, ?, "
			"?, ?)",
			e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, pkg);
		sqlite3_bind_text(st, 2, c->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, store_status_name(status), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, req->repository, -1, SQLITE_STATIC);
		if (status == STORE_STATUS_PUBLISHED)
			sqlite3_bind_int64(st, 5, store_now_us());
		sqlite3_bind_text(st, 6, c->display, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, store_now_us());
		sqlite3_bind_int64(st, 8, store_now_us());
		r = store_step_done(s, st, "create package version", e);
		if (r < 0)
			return r;
		ver = sqlite3_last_insert_rowid(s->db);
	}

	if (c->format == CAFS_FORMAT_MAVEN) {
		char build[32];

		if (store_maven_snapshot_build(c->package, c->version, req->asset_name, build,
					       sizeof(build))) {
			r = store_maven_rotate_snapshot(s, pkg, ver, c, build, e);
			if (r < 0)
				return r;
			if (found && r == 1 && req->unfinished &&
			    status != STORE_STATUS_UNFINISHED) {
				/* a new build is being deployed: Unfinished until its
				 * maven-metadata.xml, the previous build stays readable */
				r = set_status(s, ver, STORE_STATUS_UNFINISHED, e);
				if (r < 0)
					return r;
				status = STORE_STATUS_UNFINISHED;
			}
		}
	}

	/* the blob was ingested before the transaction: make sure nobody freed it since */
	st = store_stmt(s, "SELECT 1 FROM blobs WHERE id = ? AND sha256 = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, blob->id);
	sqlite3_bind_text(st, 2, blob->sha256, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (r != SQLITE_ROW)
		return cafs_error_set(
			e, CAFS_THROTTLED, EAGAIN,
			"the stored bytes of '%s' were freed while publishing: try again",
			req->asset_name);

	/* the asset: same name and bytes is a no-op, other bytes a conflict */
	st = store_stmt(s,
			"SELECT b.sha256, (SELECT count(*) FROM assets WHERE version_id = ?1) "
			"FROM assets a JOIN blobs b ON b.id = a.blob_id "
			"WHERE a.version_id = ?1 AND a.name = ?2",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	sqlite3_bind_text(st, 2, req->asset_name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		bool same = strcmp((const char *)sqlite3_column_text(st, 0), blob->sha256) == 0;

		(void)sqlite3_reset(st);
		if (!same)
			return cafs_error_set(e, CAFS_CONFLICT, EEXIST,
					      "asset '%s' of version '%s' of package '%s' already "
					      "exists with other content",
					      req->asset_name, c->version, c->display);
		res->changed = false;
	} else if (r == SQLITE_DONE) {
		sqlite3_stmt *cnt;

		(void)sqlite3_reset(st);
		if (found && c->format == CAFS_FORMAT_GENERIC && status != STORE_STATUS_UNFINISHED)
			return cafs_error_set(e, CAFS_CONFLICT, EROFS,
					      "version '%s' of generic package '%s' is %s: generic "
					      "versions take new assets only while Unfinished",
					      c->version, c->display, store_status_name(status));
		cnt = store_stmt(s, "SELECT count(*) FROM assets WHERE version_id = ?", e);
		if (!cnt)
			return -EIO;
		sqlite3_bind_int64(cnt, 1, ver);
		r = sqlite3_step(cnt) == SQLITE_ROW ? sqlite3_column_int(cnt, 0) : 0;
		(void)sqlite3_reset(cnt);
		if (r >= CAFS_MAX_ASSETS)
			return cafs_error_set(e, CAFS_QUOTA_EXCEEDED, EDQUOT,
					      "version '%s' of package '%s' already has %d assets; "
					      "at most 150 are allowed",
					      c->version, c->display, r);
		st = store_stmt(s,
				"INSERT INTO assets (version_id, name, blob_id, created_us, "
				"metadata_blob_id) VALUES (?, ?, ?, ?, ?)",
				e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, ver);
		sqlite3_bind_text(st, 2, req->asset_name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, blob->id);
		sqlite3_bind_int64(st, 4, store_now_us());
		if (metadata_blob > 0)
			sqlite3_bind_int64(st, 5, metadata_blob);
		r = store_step_done(s, st, "add asset", e);
		if (r < 0)
			return r;
		res->changed = true;
	} else {
		(void)sqlite3_reset(st);
		return store_sql_error(s, r, "look up asset", e);
	}

	if (req->meta && res->changed) {
		r = store_version_apply_metadata(s, ver, req->meta, e);
		if (r < 0)
			return r;
	}

	/* a publish without the unfinished flag finishes an Unfinished version */
	if (status == STORE_STATUS_UNFINISHED && !req->unfinished) {
		status = STORE_STATUS_PUBLISHED;
		st = store_stmt(
			s,
			"UPDATE package_versions SET status = 'Published', published_us = ? "
			"WHERE id = ?",
			e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, store_now_us());
		sqlite3_bind_int64(st, 2, ver);
		r = store_step_done(s, st, "finish version", e);
		if (r < 0)
			return r;
		res->changed = true;
	}
	res->status = status;
	if (c->format == CAFS_FORMAT_NPM && status == STORE_STATUS_PUBLISHED) {
		r = npm_follow_latest(s, pkg, c->version, e);
		if (r < 0)
			return r;
	}
	if (res->changed)
		return store_pkg_update_revision(s, ver, res->revision, e);
	st = store_stmt(s, "SELECT revision FROM package_versions WHERE id = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	if (sqlite3_step(st) == SQLITE_ROW)
		(void)snprintf(res->revision, sizeof(res->revision), "%s",
			       (const char *)sqlite3_column_text(st, 0));
	(void)sqlite3_reset(st);
	return 0;
}

/* The source check before any byte is stored (and the source asked, outside a transaction). */
static int source_check_early(struct store *s, const char *repository,
			      const struct store_pkg_coord *c, struct cafs_error *e)
{
	enum store_status status;
	int64_t repo, pkg, ver;
	int r = store_repo_id(s, repository, &repo, e);

	if (r < 0)
		return r;
	r = store_pkg_find(s, repo, c, &pkg, NULL, NULL, e);
	if (r > 0)
		r = store_pkg_find_version(s, pkg, c->version, &ver, &status, e);
	if (r != 0)
		return r < 0 ? r : 0; /* a version already here takes more files */
	return source_conflict(s, repo, repository, c, e);
}

int store_publish_fd(struct store *s, const struct store_publish *req, int fd,
		     struct store_publish_result *ret, struct cafs_error *e)
{
	struct store_publish_result res = {0};
	struct store_pkg_coord c = {0};
	struct store_blob blob;
	int64_t metadata_blob = 0;
	char resource[2048];
	int r;

	r = store_pkg_coord(&req->coord, &c, e);
	if (r == 0)
		r = cafs_validate_repository_name(req->repository, e);
	if (r == 0)
		r = cafs_validate_asset_name(c.format, req->asset_name, e);
	/* pip takes name and version from the file name: it must agree with the metadata */
	if (r == 0 && c.format == CAFS_FORMAT_PYPI &&
	    !cafs_pypi_filename_matches(req->asset_name, req->coord.package, c.version))
		r = cafs_error_set(
			e, CAFS_VALIDATION, EINVAL,
			"file name '%s' does not name %s %s, which its metadata says it is "
			"(pip reads the name)",
			req->asset_name, req->coord.package, c.version);
	store_pkg_resource(s, req->repository, &c, resource, sizeof(resource));
	/* the caller's right (spec §8.1: checked on the package), then origin controls: before a
	 * byte is stored (the controls are asked again in the transaction) */
	if (r == 0) {
		char pkg_arn[2048];
		struct store_pkg_coord nv = c;

		nv.version[0] = '\0';
		store_pkg_resource(s, req->repository, &nv, pkg_arn, sizeof(pkg_arn));
		r = store_authorize(s, "PublishPackageVersion", req->repository, pkg_arn, e);
		if (r < 0)
			return r; /* audited */
	}
	if (r == 0)
		r = store_origin_require(s, CAFS_ACTION_PUBLISH, req->repository, c.format,
					 c.namespace_, c.package, e);
	if (r == 0)
		r = source_check_early(s, req->repository, &c, e);
	if (r == 0)
		r = req->adopt ? store_blob_adopt_fd(s, fd, req->asset_sha256, &blob, e)
			       : store_blob_ingest_fd(s, fd, req->asset_sha256, &blob, e);
	if (r >= 0 && req->meta && req->meta->core_metadata) {
		struct store_blob mb;

		r = store_blob_ingest_mem(s, req->meta->core_metadata, req->meta->core_metadata_len,
					  NULL, &mb, e);
		metadata_blob = mb.id;
	}
	if (r >= 0)
		r = store_txn_begin(s, e);
	if (r >= 0)
		r = publish_rows(s, req, &c, &blob, metadata_blob, &res, e);
	if (r == 0)
		r = store_audit(s, "PublishPackageVersion", resource, "ok",
				res.changed ? req->asset_name : "unchanged", e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		store_audit_refusal(s, "PublishPackageVersion", resource, e);
		return r;
	}
	res.format = c.format;
	(void)snprintf(res.namespace_, sizeof(res.namespace_), "%s", c.namespace_);
	(void)snprintf(res.package, sizeof(res.package), "%s", c.package);
	(void)snprintf(res.version, sizeof(res.version), "%s", c.version);
	(void)snprintf(res.asset.name, sizeof(res.asset.name), "%s", req->asset_name);
	res.asset.size = blob.size;
	if (req->sha256_only)
		memcpy(res.asset.hashes.sha256, blob.sha256, sizeof(blob.sha256));
	else if ((r = store_blob_hashes(s, blob.id, &res.asset.hashes, e)) < 0)
		return r;
	*ret = res;
	return 0;
}

int store_version_assets(struct store *s, const char *repository, const struct store_coord *coord,
			 struct store_asset **ret, size_t *ret_n, char *ret_revision,
			 struct cafs_error *e)
{
	struct store_asset *list = NULL;
	int64_t *blob_ids = NULL;
	struct store_pkg_coord c;
	int64_t repo, pkg, ver;
	enum store_status status;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;
	int r;

	r = store_pkg_coord(coord, &c, e);
	if (r == 0)
		r = store_repo_id(s, repository, &repo, e);
	if (r < 0)
		return r;
	r = store_pkg_find(s, repo, &c, &pkg, NULL, NULL, e);
	if (r == 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no package '%s' in repository '%s'",
				      c.display, repository);
	if (r < 0)
		return r;
	r = store_pkg_find_version(s, pkg, c.version, &ver, &status, e);
	if (r == 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "no version '%s' of package '%s' in repository '%s'",
				      c.version, c.display, repository);
	if (r < 0)
		return r;
	if (ret_revision) {
		/* from the version row: a version with no assets (Disposed) has one too */
		st = store_stmt(s, "SELECT revision FROM package_versions WHERE id = ?", e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, ver);
		if (sqlite3_step(st) == SQLITE_ROW)
			(void)snprintf(ret_revision, 64, "%s",
				       (const char *)sqlite3_column_text(st, 0));
		(void)sqlite3_reset(st);
	}
	st = store_stmt(s,
			"SELECT a.name, a.blob_id, v.revision FROM assets a "
			"JOIN package_versions v ON v.id = a.version_id "
			"WHERE a.version_id = ? ORDER BY a.name",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_asset *nl = reallocarray(list, n + 1, sizeof(*list));
		int64_t *nb = reallocarray(blob_ids, n + 1, sizeof(*blob_ids));

		if (nl)
			list = nl;
		if (nb)
			blob_ids = nb;
		if (!nl || !nb) {
			(void)sqlite3_reset(st);
			free(list);
			free(blob_ids);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		memset(&list[n], 0, sizeof(list[n]));
		(void)snprintf(list[n].name, sizeof(list[n].name), "%s",
			       (const char *)sqlite3_column_text(st, 0));
		blob_ids[n] = sqlite3_column_int64(st, 1);
		if (ret_revision)
			(void)snprintf(ret_revision, 64, "%s",
				       (const char *)sqlite3_column_text(st, 2));
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		free(blob_ids);
		return store_sql_error(s, rc, "list assets", e);
	}
	for (size_t i = 0; i < n; i++) {
		struct store_blob b;

		r = store_blob_get(s, blob_ids[i], &b, e);
		if (r == 0)
			r = store_blob_hashes(s, blob_ids[i], &list[i].hashes, e);
		if (r < 0) {
			free(list);
			free(blob_ids);
			return r;
		}
		list[i].size = b.size;
	}
	free(blob_ids);
	*ret = list;
	*ret_n = n;
	return 0;
}
