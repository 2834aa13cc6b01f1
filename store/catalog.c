/* SPDX-License-Identifier: MIT */
/*
 * The read and administration side of packages and versions: listing and describing packages
 * and versions, deleting a package, and setting a package's origin controls. Publishing and
 * the shared coordinate helpers are in store/package.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"

static void read_package_row(sqlite3_stmt *st, int col, struct store_package *p)
{
	memset(p, 0, sizeof(*p));
	p->format = cafs_format_parse((const char *)sqlite3_column_text(st, col));
	(void)snprintf(p->namespace_, sizeof(p->namespace_), "%s",
		       (const char *)sqlite3_column_text(st, col + 1));
	(void)snprintf(p->package, sizeof(p->package), "%s",
		       (const char *)sqlite3_column_text(st, col + 2));
	if (sqlite3_column_type(st, col + 3) != SQLITE_NULL)
		(void)snprintf(p->display_name, sizeof(p->display_name), "%s",
			       (const char *)sqlite3_column_text(st, col + 3));
	else
		(void)snprintf(p->display_name, sizeof(p->display_name), "%s", p->package);
	(void)snprintf(p->publish, sizeof(p->publish), "%s",
		       (const char *)sqlite3_column_text(st, col + 4));
	(void)snprintf(p->upstream, sizeof(p->upstream), "%s",
		       (const char *)sqlite3_column_text(st, col + 5));
}

static int validate_control(const char *v, const char *what, struct cafs_error *e)
{
	if (v && (strcmp(v, "ALLOW") == 0 || strcmp(v, "BLOCK") == 0))
		return 0;
	return cafs_error_set(e, CAFS_VALIDATION, 0, "%s must be ALLOW or BLOCK, not '%s'", what,
			      v ? v : "");
}

int store_package_list(struct store *s, const char *repository,
		       const struct store_package_filter *f, struct store_package **ret,
		       size_t *ret_n, struct cafs_error *e)
{
	struct store_package *list = NULL;
	sqlite3_stmt *st;
	int64_t repo;
	size_t n = 0;
	int rc;
	int r;

	if (f->publish && (r = validate_control(f->publish, "publish", e)) < 0)
		return r;
	if (f->upstream && (r = validate_control(f->upstream, "upstream", e)) < 0)
		return r;
	r = store_repo_id(s, repository, &repo, e);
	if (r < 0)
		return r;
	st = store_stmt(s,
			"SELECT format, namespace, name, display_name, origin_publish, "
			"origin_upstream FROM packages WHERE repository_id = ?1 "
			"AND (?2 IS NULL OR format = ?2) "
			"AND (?3 IS NULL OR substr(namespace, 1, length(?3)) = ?3) "
			"AND (?4 IS NULL OR substr(name, 1, length(?4)) = ?4) "
			"AND (?5 IS NULL OR origin_publish = ?5) "
			"AND (?6 IS NULL OR origin_upstream = ?6) "
			"ORDER BY format, namespace, name",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, repo);
	if (f->format != CAFS_FORMAT_NONE)
		sqlite3_bind_text(st, 2, cafs_format_name(f->format), -1, SQLITE_STATIC);
	if (f->namespace_prefix)
		sqlite3_bind_text(st, 3, f->namespace_prefix, -1, SQLITE_STATIC);
	if (f->package_prefix) {
		char norm[CAFS_PACKAGE_FIELD_MAX + 1];

		/* PyPI names are stored normalized; a prefix is compared the same way */
		if (f->format == CAFS_FORMAT_PYPI &&
		    cafs_pypi_normalize(f->package_prefix, norm, sizeof(norm)) == 0)
			sqlite3_bind_text(st, 4, norm, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_text(st, 4, f->package_prefix, -1, SQLITE_STATIC);
	}
	if (f->publish)
		sqlite3_bind_text(st, 5, f->publish, -1, SQLITE_STATIC);
	if (f->upstream)
		sqlite3_bind_text(st, 6, f->upstream, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_package *nl = reallocarray(list, n + 1, sizeof(*list));

		if (!nl) {
			(void)sqlite3_reset(st);
			free(list);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		list = nl;
		read_package_row(st, 0, &list[n++]);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return store_sql_error(s, rc, "list packages", e);
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* Look a package up by coordinate; NotFound with a message naming it. */
int store_pkg_load(struct store *s, const char *repository, const struct store_pkg_coord *c,
		   int64_t *ret_id, struct store_package *ret, struct cafs_error *e)
{
	sqlite3_stmt *st;
	int64_t repo, id;
	int r;

	r = store_repo_id(s, repository, &repo, e);
	if (r == 0)
		r = store_pkg_find(s, repo, c, &id, NULL, NULL, e);
	if (r == 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "no %s package '%s%s%s' in repository '%s'",
				      cafs_format_name(c->format), c->namespace_,
				      c->namespace_[0] ? "/" : "", c->package, repository);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = id;
	if (!ret)
		return 0;
	st = store_stmt(s,
			"SELECT format, namespace, name, display_name, origin_publish, "
			"origin_upstream FROM packages WHERE id = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		read_package_row(st, 0, ret);
	(void)sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : store_sql_error(s, r, "read package", e);
}

/* A coordinate without a version, for package-level calls. */
static int package_coord(const struct store_coord *in, struct store_pkg_coord *ret,
			 struct cafs_error *e)
{
	struct store_coord c = *in;

	c.version = NULL;
	return store_pkg_coord(&c, ret, e);
}

int store_package_describe(struct store *s, const char *repository, const struct store_coord *c,
			   struct store_package *ret, struct cafs_error *e)
{
	struct store_pkg_coord sc;
	int r = package_coord(c, &sc, e);

	if (r == 0)
		r = store_pkg_load(s, repository, &sc, NULL, ret, e);
	return r;
}

/* The blobs (assets and core metadata) of every version of package @pkg. Owned array. */
static int package_blobs(struct store *s, int64_t pkg, int64_t **ret, size_t *ret_n,
			 struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "SELECT a.blob_id FROM assets a JOIN package_versions v ON "
				      "v.id = a.version_id WHERE v.package_id = ?1 UNION SELECT "
				      "a.metadata_blob_id FROM assets a JOIN package_versions v ON "
				      "v.id = a.version_id WHERE v.package_id = ?1 AND "
				      "a.metadata_blob_id IS NOT NULL",
				      e);
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t *ni = reallocarray(ids, n + 1, sizeof(*ids));

		if (!ni) {
			(void)sqlite3_reset(st);
			free(ids);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		ids = ni;
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return store_sql_error(s, rc, "list package blobs", e);
	}
	*ret = ids;
	*ret_n = n;
	return 0;
}

int store_package_delete(struct store *s, const char *repository, const struct store_coord *c,
			 struct store_package *ret, struct cafs_error *e)
{
	_cleanup_free_ int64_t *ids = NULL;
	_cleanup_free_ struct store_blob *freed = NULL;
	struct store_package p;
	struct store_pkg_coord sc = {0};
	char resource[2048];
	size_t n_ids = 0, n_freed = 0;
	sqlite3_stmt *st;
	int64_t id = 0;
	int r;

	r = package_coord(c, &sc, e);
	store_pkg_resource(s, repository, &sc, resource, sizeof(resource));
	if (r == 0)
		r = store_authorize(s, "DeletePackage", repository, resource, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0)
		r = store_pkg_load(s, repository, &sc, &id, &p, e);
	if (r == 0)
		r = package_blobs(s, id, &ids, &n_ids, e);
	if (r == 0) {
		st = store_stmt(s, "DELETE FROM packages WHERE id = ?", e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, id);
			r = store_step_done(s, st, "delete package", e);
		}
	}
	/* the package's blobs that nothing else references go: rows now, files after commit */
	if (r == 0 && n_ids)
		r = store_blob_release(s, ids, n_ids, &freed, &n_freed, e);
	if (r == 0)
		r = store_audit(s, "DeletePackage", resource, "ok", NULL, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		store_audit_refusal(s, "DeletePackage", resource, e);
		return r;
	}
	if (n_freed)
		(void)store_blob_unlink(s, freed, n_freed);
	*ret = p;
	return 0;
}

int store_package_origin_put(struct store *s, const char *repository, const struct store_coord *c,
			     const char *publish, const char *upstream, struct store_package *ret,
			     struct cafs_error *e)
{
	struct store_pkg_coord sc = {0};
	char resource[2048];
	char reason[32];
	sqlite3_stmt *st;
	int64_t repo, id = 0;
	int r;

	r = package_coord(c, &sc, e);
	store_pkg_resource(s, repository, &sc, resource, sizeof(resource));
	if (r == 0)
		r = store_authorize(s, "PutPackageOriginConfiguration", repository, resource, e);
	if (r == 0)
		r = validate_control(publish, "publish", e);
	if (r == 0)
		r = validate_control(upstream, "upstream", e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0)
		r = store_repo_id(s, repository, &repo, e);
	if (r == 0) {
		r = store_pkg_find(s, repo, &sc, &id, NULL, NULL, e);
		if (r == 0)
			r = store_pkg_create(s, repo, &sc, false, &id, e);
		else if (r > 0)
			r = 0;
	}
	if (r == 0) {
		st = store_stmt(s,
				"UPDATE packages SET origin_publish = ?, origin_upstream = ? "
				"WHERE id = ?",
				e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_text(st, 1, publish, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, upstream, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, id);
			r = store_step_done(s, st, "set origin configuration", e);
		}
	}
	(void)snprintf(reason, sizeof(reason), "publish=%s upstream=%s", publish ? publish : "",
		       upstream ? upstream : "");
	if (r == 0)
		r = store_audit(s, "PutPackageOriginConfiguration", resource, "ok", reason, e);
	if (r == 0)
		r = store_pkg_load(s, repository, &sc, NULL, ret, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0)
		store_audit_refusal(s, "PutPackageOriginConfiguration", resource, e);
	return r;
}

static void read_version_row(sqlite3_stmt *st, struct store_version *v)
{
	memset(v, 0, sizeof(*v));
	(void)snprintf(v->version, sizeof(v->version), "%s",
		       (const char *)sqlite3_column_text(st, 0));
	(void)snprintf(v->revision, sizeof(v->revision), "%s",
		       (const char *)sqlite3_column_text(st, 1));
	v->status = (enum store_status)store_status_parse((const char *)sqlite3_column_text(st, 2));
	(void)snprintf(v->origin_type, sizeof(v->origin_type), "%s",
		       (const char *)sqlite3_column_text(st, 3));
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		(void)snprintf(v->entry_repository, sizeof(v->entry_repository), "%s",
			       (const char *)sqlite3_column_text(st, 4));
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		(void)snprintf(v->entry_external_connection, sizeof(v->entry_external_connection),
			       "%s", (const char *)sqlite3_column_text(st, 5));
	v->published_us = sqlite3_column_int64(st, 6);
}

#define VERSION_COLUMNS                                                                         \
	"version, revision, status, origin_type, entry_repository, entry_external_connection, " \
	"coalesce(published_us, created_us)"

int store_version_list(struct store *s, const char *repository, const struct store_coord *c,
		       const struct store_version_filter *f, struct store_version **ret,
		       size_t *ret_n, char *ret_default, struct cafs_error *e)
{
	struct store_version *list = NULL;
	struct store_pkg_coord sc;
	sqlite3_stmt *st;
	int64_t pkg;
	size_t n = 0;
	int rc;
	int r;

	r = package_coord(c, &sc, e);
	if (r == 0)
		r = store_pkg_load(s, repository, &sc, &pkg, NULL, e);
	if (r < 0)
		return r;
	st = store_stmt(s,
			"SELECT " VERSION_COLUMNS " FROM package_versions WHERE package_id = ?1 "
			"AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR origin_type = ?3) "
			"ORDER BY coalesce(published_us, created_us), id",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	if (f && f->status >= 0)
		sqlite3_bind_text(st, 2, store_status_name((enum store_status)f->status), -1,
				  SQLITE_STATIC);
	if (f && f->origin_type)
		sqlite3_bind_text(st, 3, f->origin_type, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_version *nl = reallocarray(list, n + 1, sizeof(*list));

		if (!nl) {
			(void)sqlite3_reset(st);
			free(list);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		list = nl;
		read_version_row(st, &list[n++]);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return store_sql_error(s, rc, "list package versions", e);
	}
	if (ret_default) {
		ret_default[0] = '\0';
		st = store_stmt(s,
				"SELECT coalesce((SELECT t.version FROM dist_tags t WHERE "
				"t.package_id = ?1 AND t.tag = 'latest'), (SELECT version FROM "
				"package_versions WHERE package_id = ?1 AND status = 'Published' "
				"ORDER BY published_us DESC, id DESC LIMIT 1))",
				e);
		if (st) {
			sqlite3_bind_int64(st, 1, pkg);
			if (sqlite3_step(st) == SQLITE_ROW &&
			    sqlite3_column_type(st, 0) != SQLITE_NULL)
				(void)snprintf(ret_default, 4 * CAFS_PACKAGE_FIELD_MAX + 1, "%s",
					       (const char *)sqlite3_column_text(st, 0));
			(void)sqlite3_reset(st);
		}
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

int store_version_describe(struct store *s, const char *repository, const struct store_coord *c,
			   struct store_version_detail *ret, struct cafs_error *e)
{
	struct store_version_detail d = {0};
	struct store_pkg_coord sc;
	sqlite3_stmt *st;
	int64_t pkg;
	int rc;
	int r;

	r = store_pkg_coord(c, &sc, e);
	if (r == 0)
		r = store_pkg_load(s, repository, &sc, &pkg, &d.package, e);
	if (r < 0)
		return r;
	st = store_stmt(s,
			"SELECT " VERSION_COLUMNS ", display_name, summary, home_page, "
			"source_code_repository, licenses, readme FROM package_versions "
			"WHERE package_id = ? AND version = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	sqlite3_bind_text(st, 2, sc.version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_sql_error(s, rc, "describe package version", e);
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "no version '%s' of package '%s' in repository '%s'",
				      sc.version, sc.display, repository);
	}
	read_version_row(st, &d.v);
	d.display_name = column_dup(st, 7);
	d.summary = column_dup(st, 8);
	d.home_page = column_dup(st, 9);
	d.source_code_repository = column_dup(st, 10);
	d.licenses = column_dup(st, 11);
	d.readme = column_dup(st, 12);
	(void)sqlite3_reset(st);
	*ret = d;
	return 0;
}

void store_version_detail_done(struct store_version_detail *d)
{
	if (!d)
		return;
	free(d->display_name);
	free(d->summary);
	free(d->home_page);
	free(d->source_code_repository);
	free(d->licenses);
	free(d->readme);
	memset(d, 0, sizeof(*d));
}

/* Row id, status and revision of a version, NotFound naming it when absent. */
static int load_version(struct store *s, const char *repository, const struct store_coord *c,
			struct store_pkg_coord *sc, int64_t *ret_id, enum store_status *ret_status,
			char *ret_revision, struct cafs_error *e)
{
	sqlite3_stmt *st;
	int64_t pkg;
	int rc;
	int r;

	r = store_pkg_coord(c, sc, e);
	if (r == 0)
		r = store_pkg_load(s, repository, sc, &pkg, NULL, e);
	if (r < 0)
		return r;
	st = store_stmt(s,
			"SELECT id, status, revision FROM package_versions WHERE package_id = ? "
			"AND version = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	sqlite3_bind_text(st, 2, sc->version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(st, 0);
		*ret_status = (enum store_status)store_status_parse(
			(const char *)sqlite3_column_text(st, 1));
		if (ret_revision)
			(void)snprintf(ret_revision, 64, "%s",
				       (const char *)sqlite3_column_text(st, 2));
	}
	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "look up package version", e);
	return cafs_error_set(e, CAFS_NOT_FOUND, 0,
			      "no version '%s' of package '%s' in repository '%s'", sc->version,
			      sc->display, repository);
}

int store_asset_open(struct store *s, const char *repository, const struct store_coord *c,
		     const char *asset, const char *expect_revision, char *ret_revision,
		     uint64_t *ret_size, struct cafs_error *e)
{
	struct store_pkg_coord sc;
	enum store_status status;
	struct store_blob blob;
	char revision[64] = "";
	sqlite3_stmt *st;
	int64_t ver, blob_id = 0;
	int rc;
	int r;

	r = load_version(s, repository, c, &sc, &ver, &status, revision, e);
	if (r < 0)
		return r;
	if (status == STORE_STATUS_ARCHIVED)
		return cafs_error_set(e, CAFS_CONFLICT, EACCES,
				      "version '%s' of package '%s' is Archived: its assets cannot "
				      "be downloaded until its status changes",
				      sc.version, sc.display);
	if (status == STORE_STATUS_DISPOSED)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "version '%s' of package '%s' is Disposed: it has no assets",
				      sc.version, sc.display);
	if (expect_revision && strcmp(expect_revision, revision) != 0)
		return cafs_error_set(e, CAFS_CONFLICT, 0,
				      "version '%s' of package '%s' is at revision '%s', not '%s'",
				      sc.version, sc.display, revision, expect_revision);
	st = store_stmt(s, "SELECT blob_id FROM assets WHERE version_id = ? AND name = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	sqlite3_bind_text(st, 2, asset ? asset : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		blob_id = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE
			       ? cafs_error_set(e, CAFS_NOT_FOUND, 0,
						"no asset '%s' in version '%s' of package '%s'",
						asset ? asset : "", sc.version, sc.display)
			       : store_sql_error(s, rc, "look up asset", e);
	r = store_blob_get(s, blob_id, &blob, e);
	if (r < 0)
		return r;
	if (ret_revision)
		(void)snprintf(ret_revision, 64, "%s", revision);
	if (ret_size)
		*ret_size = blob.size;
	return store_blob_open(s, &blob, e);
}

int store_version_dependencies(struct store *s, const char *repository, const struct store_coord *c,
			       struct store_dependency_row **ret, size_t *ret_n, char *ret_revision,
			       struct cafs_error *e)
{
	struct store_dependency_row *list = NULL;
	struct store_pkg_coord sc;
	enum store_status status;
	sqlite3_stmt *st;
	int64_t ver;
	size_t n = 0;
	int rc;
	int r;

	r = load_version(s, repository, c, &sc, &ver, &status, ret_revision, e);
	if (r < 0)
		return r;
	st = store_stmt(s,
			"SELECT namespace, package, coalesce(dependency_type, ''), "
			"coalesce(version_requirement, '') FROM dependencies WHERE version_id = ? "
			"ORDER BY position",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_dependency_row *nl = reallocarray(list, n + 1, sizeof(*list));

		if (!nl) {
			(void)sqlite3_reset(st);
			free(list);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		list = nl;
		(void)snprintf(list[n].namespace_, sizeof(list[n].namespace_), "%s",
			       (const char *)sqlite3_column_text(st, 0));
		(void)snprintf(list[n].package, sizeof(list[n].package), "%s",
			       (const char *)sqlite3_column_text(st, 1));
		(void)snprintf(list[n].dependency_type, sizeof(list[n].dependency_type), "%s",
			       (const char *)sqlite3_column_text(st, 2));
		(void)snprintf(list[n].version_requirement, sizeof(list[n].version_requirement),
			       "%s", (const char *)sqlite3_column_text(st, 3));
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return store_sql_error(s, rc, "list dependencies", e);
	}
	*ret = list;
	*ret_n = n;
	return 0;
}
