/* SPDX-License-Identifier: MIT */
/*
 * The lifecycle of package versions (spec §4.2-§4.5): the four batch operations
 * UpdatePackageVersionsStatus, DisposePackageVersions, DeletePackageVersions and
 * CopyPackageVersions, and the freeing of blobs that the last two leave unreferenced.
 *
 * Every batch call is one write transaction in two phases. First it judges each requested
 * version against the current rows and changes nothing; if any version fails, the transaction
 * is rolled back, every version that would have succeeded is reported SKIPPED (all or nothing,
 * spec §4.3) and one audit row with outcome "FAILED" names the failures. Only when all pass
 * does the second phase write, followed by one audit row "ok" in the same transaction.
 *
 * Freeing blobs: the rows of blobs no asset references any more are deleted in that same
 * transaction, and their files are unlinked after the commit, under a fresh write lock and
 * only while no row holds the address again. A crash in between leaves an orphan file (gc
 * frees it), never a row without its file.
 *
 * Workload: at most 100 versions per call, each a few indexed statements; a copy prepares its
 * three column-generic INSERT ... SELECT statements once per call.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/version.h"
#include "store/blob.h"
#include "store/group.h"
#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"

#define REVISION_MAX 50 /* PackageVersionRevision: 1-50 characters, no whitespace */

static const char *const error_names[] = {
	[STORE_VERSION_OK] = "",
	[STORE_VERSION_ALREADY_EXISTS] = "ALREADY_EXISTS",
	[STORE_VERSION_MISMATCHED_REVISION] = "MISMATCHED_REVISION",
	[STORE_VERSION_MISMATCHED_STATUS] = "MISMATCHED_STATUS",
	[STORE_VERSION_NOT_ALLOWED] = "NOT_ALLOWED",
	[STORE_VERSION_NOT_FOUND] = "NOT_FOUND",
	[STORE_VERSION_SKIPPED] = "SKIPPED",
};

const char *store_version_error_name(enum store_version_error code)
{
	return (size_t)code < ARRAY_SIZE(error_names) ? error_names[code] : "";
}

void store_batch_result_done(struct store_batch_result *r)
{
	if (!r)
		return;
	free(r->items);
	*r = (struct store_batch_result){0};
}

/* What a batch knows about one requested version between judging and writing. */
struct plan {
	const char *want_revision; /* borrowed from the request; NULL = any */
	int64_t ver;               /* the version row (copy: where it is copied from) */
	enum store_status status;  /* its status */
	int64_t src_pkg;           /* copy: the package holding @ver */
	char origin_type[10];      /* copy: its originType */
	int64_t dst_ver;           /* copy: the destination row it replaces, 0 = none */
};

struct batch {
	struct store *s;
	const char *action;        /* the API operation, for the audit row */
	const char *repository;    /* where the versions are (copy: the source) */
	struct store_pkg_coord pc; /* the package; version "" */
	char resource[2048];       /* the audited package resource */
	struct store_batch_item *items;
	struct plan *plans;
	size_t n;
	size_t n_failed;
	int64_t *blobs; /* blobs that may have lost their last reference */
	size_t n_blobs;
	struct store_blob *freed; /* blob rows deleted: files due after the commit */
	size_t n_freed;
};

static void batch_done(struct batch *b)
{
	free(b->items);
	free(b->plans);
	free(b->blobs);
	free(b->freed);
	b->items = NULL;
	b->plans = NULL;
	b->blobs = NULL;
	b->freed = NULL;
}

static void item_fail(struct store_batch_item *it, enum store_version_error code, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

static void item_fail(struct store_batch_item *it, enum store_version_error code, const char *fmt,
		      ...)
{
	va_list ap;

	it->error = code;
	it->status = NULL;
	va_start(ap, fmt);
	(void)vsnprintf(it->message, sizeof(it->message), fmt, ap);
	va_end(ap);
}

static int validate_revision(const char *rev, const char *version, struct cafs_error *e)
{
	size_t n = strlen(rev);

	if (n == 0 || n > REVISION_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "revision of version '%s' must have 1 to 50 characters",
				      version);
	for (size_t i = 0; i < n; i++)
		if (rev[i] == ' ' || (rev[i] >= '\t' && rev[i] <= '\r'))
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "revision '%s' of version '%s' contains whitespace",
					      rev, version);
	return 0;
}

/*
 * Check the request and fill @b: the package coordinate, the audited resource (the package in
 * @resource_repo) and one item per distinct version.
 */
static int batch_init(struct batch *b, struct store *s, const char *action,
		      const struct store_batch *req, const char *resource_repo,
		      struct cafs_error *e)
{
	struct store_coord pkg = req->coord;
	int r;

	*b = (struct batch){.s = s, .action = action, .repository = req->repository};
	pkg.version = NULL;
	r = store_pkg_coord(&pkg, &b->pc, e);
	if (r == 0)
		store_pkg_resource(s, resource_repo, &b->pc, b->resource, sizeof(b->resource));
	else
		(void)snprintf(b->resource, sizeof(b->resource), "package/%s/%s", s->name,
			       resource_repo ? resource_repo : "");
	if (r == 0)
		r = cafs_validate_repository_name(req->repository, e);
	/* the caller's right, on the package (spec §8.1); a copy also reads its source */
	if (r == 0)
		r = store_authorize(s, action, resource_repo, b->resource, e);
	if (r == 0 && resource_repo && strcmp(resource_repo, req->repository) != 0)
		r = store_authorize(s, "ReadFromRepository", req->repository, NULL, e);
	if (r < 0)
		return r;
	if (req->n_versions == 0 || !req->versions)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "no version given");
	if (req->n_versions > STORE_BATCH_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, E2BIG,
				      "%zu versions given; at most %d are allowed per call",
				      req->n_versions, STORE_BATCH_MAX);
	if (req->expected_status < -1 || req->expected_status > STORE_STATUS_DISPOSED)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "unknown expected status %d",
				      req->expected_status);
	b->items = calloc(req->n_versions, sizeof(*b->items));
	b->plans = calloc(req->n_versions, sizeof(*b->plans));
	if (!b->items || !b->plans)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; i < req->n_versions; i++) {
		const struct store_version_ref *ref = &req->versions[i];
		bool dup = false;

		r = cafs_validate_coord_part(ref->version, "version", e);
		if (r == 0 && ref->revision)
			r = validate_revision(ref->revision, ref->version, e);
		if (r < 0)
			return r;
		for (size_t j = 0; j < b->n && !dup; j++) {
			const char *other = b->plans[j].want_revision;

			if (strcmp(b->items[j].version, ref->version) != 0)
				continue;
			dup = true;
			if ((other == NULL) != (ref->revision == NULL) ||
			    (other && strcmp(other, ref->revision) != 0))
				return cafs_error_set(e, CAFS_VALIDATION, 0,
						      "version '%s' is given twice with different "
						      "revisions",
						      ref->version);
		}
		if (dup)
			continue;
		(void)snprintf(b->items[b->n].version, sizeof(b->items[b->n].version), "%s",
			       ref->version);
		b->plans[b->n].want_revision = ref->revision;
		b->n++;
	}
	return 0;
}

/* A version row as the batch operations read it. */
struct found {
	int64_t id;
	enum store_status status;
	char revision[64];
	char origin_type[10];
};

/* Version @version of package @pkg: 1 found (*@ret filled), 0 absent. */
static int find_version(struct store *s, int64_t pkg, const char *version, struct found *ret,
			struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(s,
			   "SELECT id, status, revision, origin_type FROM package_versions "
			   "WHERE package_id = ? AND version = ?",
			   e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->id = sqlite3_column_int64(st, 0);
		ret->status = (enum store_status)store_status_parse(
			(const char *)sqlite3_column_text(st, 1));
		(void)snprintf(ret->revision, sizeof(ret->revision), "%s",
			       (const char *)sqlite3_column_text(st, 2));
		(void)snprintf(ret->origin_type, sizeof(ret->origin_type), "%s",
			       (const char *)sqlite3_column_text(st, 3));
	}
	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "look up package version", e);
}

/*
 * The checks Update, Dispose and Delete share, in this order: the version exists, has the
 * expected status, has the expected revision. Fills each passing item's plan.
 */
static int judge_common(struct batch *b, int64_t pkg, int expected_status, struct cafs_error *e)
{
	for (size_t i = 0; i < b->n; i++) {
		struct store_batch_item *it = &b->items[i];
		struct plan *p = &b->plans[i];
		struct found f;
		int r = find_version(b->s, pkg, it->version, &f, e);

		if (r < 0)
			return r;
		if (r == 0) {
			item_fail(it, STORE_VERSION_NOT_FOUND,
				  "no version '%s' of package '%s' in repository '%s'", it->version,
				  b->pc.display, b->repository);
			continue;
		}
		p->ver = f.id;
		p->status = f.status;
		(void)snprintf(it->revision, sizeof(it->revision), "%s", f.revision);
		if (expected_status >= 0 && f.status != (enum store_status)expected_status) {
			item_fail(it, STORE_VERSION_MISMATCHED_STATUS,
				  "version '%s' is %s, not %s as expected", it->version,
				  store_status_name(f.status),
				  store_status_name((enum store_status)expected_status));
			continue;
		}
		if (p->want_revision && strcmp(p->want_revision, f.revision) != 0)
			item_fail(it, STORE_VERSION_MISMATCHED_REVISION,
				  "version '%s' has revision '%s', not '%s'", it->version,
				  f.revision, p->want_revision);
	}
	return 0;
}

/* After judging: count the failures; if there are any, every other version is SKIPPED. */
static size_t batch_count_failures(struct batch *b)
{
	size_t failed = 0;

	for (size_t i = 0; i < b->n; i++)
		failed += b->items[i].error != STORE_VERSION_OK;
	for (size_t i = 0; failed && i < b->n; i++)
		if (b->items[i].error == STORE_VERSION_OK)
			item_fail(&b->items[i], STORE_VERSION_SKIPPED,
				  "not processed: %zu other version%s of the request failed",
				  failed, failed == 1 ? "" : "s");
	b->n_failed = failed ? b->n : 0;
	return failed;
}

/* Append to a bounded audit reason, ending in "..." once it is full. */
static void reason_add(char *buf, size_t bufsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reason_add(char *buf, size_t bufsz, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	int w;

	if (len + 4 >= bufsz)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + len, bufsz - len - 3, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= bufsz - len - 3)
		(void)snprintf(buf + strlen(buf), bufsz - strlen(buf), "...");
}

/*
 * End a batch: on an exception (@r < 0) roll back and audit the refusal; when versions failed,
 * roll back and audit "FAILED" naming them; else audit "ok" (@what says what was done),
 * commit and unlink the freed blobs. On 0 the items move to *@ret.
 */
static int batch_finish(struct batch *b, int r, const char *what, struct store_batch_result *ret,
			struct cafs_error *e)
{
	char reason[1024] = "";

	if (r == 0 && b->n_failed) {
		size_t genuine = 0;

		for (size_t i = 0; i < b->n; i++)
			genuine += b->items[i].error != STORE_VERSION_SKIPPED;
		store_txn_rollback(b->s);
		reason_add(reason, sizeof(reason),
			   "%zu of %zu versions failed, nothing changed:", genuine, b->n);
		for (size_t i = 0; i < b->n; i++)
			if (b->items[i].error != STORE_VERSION_SKIPPED)
				reason_add(reason, sizeof(reason), " %s %s", b->items[i].version,
					   store_version_error_name(b->items[i].error));
		/* the refusal is the answer; a failure to audit it must not hide it */
		(void)store_audit(b->s, b->action, b->resource, "FAILED", reason, NULL);
	} else if (r == 0) {
		reason_add(reason, sizeof(reason), "%s:", what);
		for (size_t i = 0; i < b->n; i++)
			reason_add(reason, sizeof(reason), " %s%s", b->items[i].version,
				   b->items[i].omitted ? " (identical)" : "");
		r = store_audit(b->s, b->action, b->resource, "ok", reason, e);
		if (r == 0)
			r = store_txn_commit(b->s, e);
		if (r == 0)
			(void)store_blob_unlink(b->s, b->freed, b->n_freed);
	}
	if (r < 0) {
		store_audit_refusal(b->s, b->action, b->resource, e);
		batch_done(b);
		return r;
	}
	*ret = (struct store_batch_result){.items = b->items, .n = b->n, .n_failed = b->n_failed};
	b->items = NULL;
	batch_done(b);
	return 0;
}

/*
 * Remember the blobs of version @ver's assets (their bytes and a wheel's core metadata):
 * deleting the assets may free them.
 */
static int collect_blobs(struct batch *b, int64_t ver, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(b->s,
				      "SELECT blob_id FROM assets WHERE version_id = ?1 UNION "
				      "SELECT metadata_blob_id FROM assets WHERE version_id = ?1 "
				      "AND metadata_blob_id IS NOT NULL",
				      e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t *nb = reallocarray(b->blobs, b->n_blobs + 1, sizeof(*nb));

		if (!nb) {
			(void)sqlite3_reset(st);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		b->blobs = nb;
		b->blobs[b->n_blobs++] = sqlite3_column_int64(st, 0);
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(b->s, rc, "list blobs of assets", e);
}

static int exec_id(struct store *s, sqlite3_stmt *st, int64_t id, const char *what,
		   struct cafs_error *e)
{
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	r = store_step_done(s, st, what, e);
	(void)sqlite3_reset(st);
	return r;
}

int store_blob_release(struct store *s, const int64_t *ids, size_t n, struct store_blob **ret,
		       size_t *ret_n, struct cafs_error *e)
{
	struct store_blob *out = NULL;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st =
			store_stmt(s,
				   "DELETE FROM blobs WHERE id = ?1 AND NOT EXISTS "
				   "(SELECT 1 FROM assets WHERE blob_id = ?1) AND NOT EXISTS "
				   "(SELECT 1 FROM assets WHERE metadata_blob_id = ?1) "
				   "RETURNING id, size, xxh128, seq, sha256",
				   e);
		int rc;

		if (!st) {
			free(out);
			return -EIO;
		}
		sqlite3_bind_int64(st, 1, ids[i]);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_blob *nl = reallocarray(out, k + 1, sizeof(*out));

			if (!nl) {
				(void)sqlite3_reset(st);
				free(out);
				return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
			}
			out = nl;
			out[k] = (struct store_blob){.id = sqlite3_column_int64(st, 0),
						     .size = (uint64_t)sqlite3_column_int64(st, 1),
						     .seq = sqlite3_column_int(st, 3)};
			(void)snprintf(out[k].xxh128, sizeof(out[k].xxh128), "%s",
				       (const char *)sqlite3_column_text(st, 2));
			(void)snprintf(out[k].sha256, sizeof(out[k].sha256), "%s",
				       (const char *)sqlite3_column_text(st, 4));
			k++;
		}
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			free(out);
			return store_sql_error(s, rc, "free blob", e);
		}
	}
	*ret = out;
	*ret_n = k;
	return 0;
}

size_t store_blob_unlink(struct store *s, const struct store_blob *blobs, size_t n)
{
	struct cafs_error e;
	size_t removed = 0;

	/*
	 * Inside an enclosing transaction (a call nested in store_view_write(), say) the rows
	 * are not gone until that transaction commits, and it may still roll back: leave the
	 * files as orphans for gc rather than remove bytes a row may yet point at.
	 */
	if (n == 0 || s->txn_depth > 0)
		return 0;
	/*
	 * Under the write lock, so that no ingest commits a row at an address between our check
	 * and our unlink. (An ingest that found the file before we unlink it and commits its row
	 * after is repaired by the next ingest of those bytes; see store_blob_ingest_fd().)
	 */
	if (store_txn_begin(s, &e) < 0)
		return 0; /* busy: the files stay as orphans for gc */
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st =
			store_stmt(s, "SELECT 1 FROM blobs WHERE xxh128 = ? AND seq = ?", &e);
		char rel[128];
		int rc;

		if (!st)
			break;
		sqlite3_bind_text(st, 1, blobs[i].xxh128, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, blobs[i].seq);
		rc = sqlite3_step(st);
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			continue; /* the address is taken again, or we cannot tell: keep it */
		store_blob_relpath(&blobs[i], rel, sizeof(rel));
		if (unlinkat(s->dir_fd, rel, 0) == 0)
			removed++;
	}
	store_txn_rollback(s); /* nothing was written */
	return removed;
}

/* --- UpdatePackageVersionsStatus ------------------------------------------------------------ */

static int apply_status(struct batch *b, enum store_status target, struct cafs_error *e)
{
	for (size_t i = 0; i < b->n; i++) {
		struct store_batch_item *it = &b->items[i];
		sqlite3_stmt *st;
		int r;

		it->status = store_status_name(target);
		if (b->plans[i].status == target)
			continue; /* already there: a success that changes nothing */
		/* the revision stays: status is not part of it (decision 5) */
		st = store_stmt(
			b->s,
			"UPDATE package_versions SET status = ?1, updated_us = ?2, "
			"published_us = CASE WHEN ?1 = 'Published' "
			"THEN coalesce(published_us, ?2) ELSE published_us END WHERE id = ?3",
			e);
		if (!st)
			return -EIO;
		sqlite3_bind_text(st, 1, store_status_name(target), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, store_now_us());
		sqlite3_bind_int64(st, 3, b->plans[i].ver);
		r = store_step_done(b->s, st, "set version status", e);
		(void)sqlite3_reset(st);
		if (r < 0)
			return r;
	}
	return 0;
}

int store_version_update_status(struct store *s, const struct store_batch *req,
				enum store_status target, struct store_batch_result *ret,
				struct cafs_error *e)
{
	char what[64];
	struct batch b;
	int64_t pkg = 0;
	int r;

	r = batch_init(&b, s, "UpdatePackageVersionsStatus", req, req->repository, e);
	if (r == 0 && target != STORE_STATUS_PUBLISHED && target != STORE_STATUS_UNLISTED &&
	    target != STORE_STATUS_ARCHIVED)
		r = cafs_error_set(e, CAFS_VALIDATION, 0,
				   "target status must be Published, Unlisted or Archived, not %s",
				   store_status_name(target));
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0)
		r = store_pkg_load(s, req->repository, &b.pc, &pkg, NULL, e);
	if (r == 0)
		r = judge_common(&b, pkg, req->expected_status, e);
	for (size_t i = 0; r == 0 && i < b.n; i++)
		if (b.items[i].error == STORE_VERSION_OK &&
		    b.plans[i].status == STORE_STATUS_DISPOSED)
			item_fail(&b.items[i], STORE_VERSION_NOT_ALLOWED,
				  "version '%s' is Disposed: it can only be deleted",
				  b.items[i].version);
	if (r == 0 && batch_count_failures(&b) == 0)
		r = apply_status(&b, target, e);
	(void)snprintf(what, sizeof(what), "status %s", store_status_name(target));
	return batch_finish(&b, r, what, ret, e);
}

/* --- DisposePackageVersions and DeletePackageVersions --------------------------------------- */

static int apply_dispose(struct batch *b, struct cafs_error *e)
{
	for (size_t i = 0; i < b->n; i++) {
		struct store_batch_item *it = &b->items[i];
		int64_t ver = b->plans[i].ver;
		sqlite3_stmt *st;
		int r;

		it->status = store_status_name(STORE_STATUS_DISPOSED);
		if (b->plans[i].status == STORE_STATUS_DISPOSED)
			continue; /* nothing left to dispose */
		r = collect_blobs(b, ver, e);
		if (r == 0)
			r = exec_id(b->s,
				    store_stmt(b->s, "DELETE FROM assets WHERE version_id = ?", e),
				    ver, "delete assets", e);
		if (r < 0)
			return r;
		st = store_stmt(b->s,
				"UPDATE package_versions SET status = 'Disposed', updated_us = ? "
				"WHERE id = ?",
				e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, store_now_us());
		sqlite3_bind_int64(st, 2, ver);
		r = store_step_done(b->s, st, "dispose version", e);
		(void)sqlite3_reset(st);
		/* the revision names the version's assets, of which there are none now */
		if (r == 0)
			r = store_pkg_update_revision(b->s, ver, it->revision, e);
		if (r < 0)
			return r;
	}
	return store_blob_release(b->s, b->blobs, b->n_blobs, &b->freed, &b->n_freed, e);
}

/*
 * After a delete, an npm package whose "latest" dist-tag went with its version gets it back on
 * the highest remaining Published version (the rule publishing follows), if any.
 */
static int npm_restore_latest(struct batch *b, int64_t pkg, struct cafs_error *e)
{
	char best[CAFS_PACKAGE_FIELD_MAX + 1] = "";
	sqlite3_stmt *st;
	int rc;

	if (b->pc.format != CAFS_FORMAT_NPM)
		return 0;
	st = store_stmt(b->s, "SELECT 1 FROM dist_tags WHERE package_id = ? AND tag = 'latest'", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW ? 0 : store_sql_error(b->s, rc, "read dist-tags", e);
	st = store_stmt(b->s,
			"SELECT version FROM package_versions WHERE package_id = ? AND "
			"status = 'Published'",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		bool take;

		if (!best[0])
			take = true;
		else if (cafs_semver_prerelease(v) != cafs_semver_prerelease(best))
			take = !cafs_semver_prerelease(v);
		else
			take = cafs_semver_cmp(v, best) > 0;
		if (take)
			(void)snprintf(best, sizeof(best), "%s", v);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(b->s, rc, "list versions", e);
	if (!best[0])
		return 0;
	st = store_stmt(b->s,
			"INSERT INTO dist_tags (package_id, tag, version) VALUES (?, 'latest', ?)",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	sqlite3_bind_text(st, 2, best, -1, SQLITE_STATIC);
	rc = store_step_done(b->s, st, "set dist-tag latest", e);
	(void)sqlite3_reset(st);
	return rc;
}

static int apply_delete(struct batch *b, int64_t pkg, struct cafs_error *e)
{
	int r;

	for (size_t i = 0; i < b->n; i++) {
		struct store_batch_item *it = &b->items[i];
		sqlite3_stmt *st;

		it->status = "Deleted";
		r = collect_blobs(b, b->plans[i].ver, e);
		/* assets and dependencies go by ON DELETE CASCADE */
		if (r == 0)
			r = exec_id(
				b->s,
				store_stmt(b->s, "DELETE FROM package_versions WHERE id = ?", e),
				b->plans[i].ver, "delete version", e);
		if (r < 0)
			return r;
		/* a dist-tag naming a version that is gone would dangle */
		st = store_stmt(b->s, "DELETE FROM dist_tags WHERE package_id = ? AND version = ?",
				e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, pkg);
		sqlite3_bind_text(st, 2, it->version, -1, SQLITE_STATIC);
		r = store_step_done(b->s, st, "delete dist-tags", e);
		(void)sqlite3_reset(st);
		if (r < 0)
			return r;
	}
	r = npm_restore_latest(b, pkg, e);
	if (r < 0)
		return r;
	return store_blob_release(b->s, b->blobs, b->n_blobs, &b->freed, &b->n_freed, e);
}

int store_version_dispose(struct store *s, const struct store_batch *req,
			  struct store_batch_result *ret, struct cafs_error *e)
{
	struct batch b;
	int64_t pkg = 0;
	int r;

	r = batch_init(&b, s, "DisposePackageVersions", req, req->repository, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0)
		r = store_pkg_load(s, req->repository, &b.pc, &pkg, NULL, e);
	if (r == 0)
		r = judge_common(&b, pkg, req->expected_status, e);
	if (r == 0 && batch_count_failures(&b) == 0)
		r = apply_dispose(&b, e);
	return batch_finish(&b, r, "disposed", ret, e);
}

int store_version_delete(struct store *s, const struct store_batch *req,
			 struct store_batch_result *ret, struct cafs_error *e)
{
	struct batch b;
	int64_t pkg = 0;
	int r;

	r = batch_init(&b, s, "DeletePackageVersions", req, req->repository, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0)
		r = store_pkg_load(s, req->repository, &b.pc, &pkg, NULL, e);
	if (r == 0)
		r = judge_common(&b, pkg, req->expected_status, e);
	if (r == 0 && batch_count_failures(&b) == 0)
		r = apply_delete(&b, pkg, e);
	return batch_finish(&b, r, "deleted", ret, e);
}

/* --- CopyPackageVersions -------------------------------------------------------------------- */

/*
 * The copy statements, built from the schema itself (every column but the row's identity and
 * owner), so that metadata columns added by later migrations are copied without a change here.
 */
struct copy_sql {
	sqlite3_stmt *version; /* ?1 package, ?2 now, ?3 source version */
	sqlite3_stmt *assets;  /* ?1 new version, ?2 source version */
	sqlite3_stmt *deps;    /* ?1 new version, ?2 source version */
};

static void copy_sql_done(struct copy_sql *c)
{
	sqlite3_finalize(c->version);
	sqlite3_finalize(c->assets);
	sqlite3_finalize(c->deps);
	*c = (struct copy_sql){0};
}

/* "\"a\", \"b\"": the columns of @table but those in @skip (NULL-terminated). Owned. */
static char *column_list(struct store *s, const char *table, const char *const *skip,
			 struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT name FROM pragma_table_info(?) ORDER BY cid", e);
	char *list = NULL;
	size_t len = 0;
	int rc;

	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(st, 0);
		size_t need = strlen(col) + 5;
		bool skipped = false;
		char *nl;

		for (size_t i = 0; skip[i]; i++)
			skipped = skipped || strcmp(skip[i], col) == 0;
		if (skipped)
			continue;
		nl = realloc(list, len + need);
		if (!nl) {
			(void)sqlite3_reset(st);
			free(list);
			(void)cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
			return NULL;
		}
		list = nl;
		len += (size_t)sprintf(list + len, "%s\"%s\"", len ? ", " : "", col);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE || !list) {
		free(list);
		if (rc != SQLITE_DONE)
			(void)store_sql_error(s, rc, "read table columns", e);
		else
			(void)cafs_error_set(e, CAFS_INTERNAL, 0, "table '%s' has no columns",
					     table);
		return NULL;
	}
	return list;
}

/*
 * INSERT INTO @table (@fixed_cols<columns>) SELECT @fixed_vals<columns> FROM @table WHERE
 * @where, with <columns> every column of @table but those in @skip.
 */
static int prepare_copy(struct store *s, const char *table, const char *fixed_cols,
			const char *fixed_vals, const char *where, const char *const *skip,
			sqlite3_stmt **ret, struct cafs_error *e)
{
	_cleanup_free_ char *cols = column_list(s, table, skip, e);
	_cleanup_free_ char *sql = NULL;
	int rc;

	if (!cols)
		return -EIO;
	if (asprintf(&sql, "INSERT INTO %s (%s%s) SELECT %s%s FROM %s WHERE %s", table, fixed_cols,
		     cols, fixed_vals, cols, table, where) < 0) {
		sql = NULL;
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
	return rc == SQLITE_OK ? 0 : store_sql_error(s, rc, "prepare copy", e);
}

static int copy_sql_init(struct store *s, struct copy_sql *c, struct cafs_error *e)
{
	static const char *const skip_version[] = {"id", "package_id", "created_us", "updated_us",
						   NULL};
	static const char *const skip_asset[] = {"id", "version_id", NULL};
	static const char *const skip_dep[] = {"version_id", NULL};
	int r;

	r = prepare_copy(s, "package_versions", "package_id, created_us, updated_us, ",
			 "?1, ?2, ?2, ", "id = ?3", skip_version, &c->version, e);
	if (r == 0)
		r = prepare_copy(s, "assets", "version_id, ", "?1, ", "version_id = ?2", skip_asset,
				 &c->assets, e);
	if (r == 0)
		r = prepare_copy(s, "dependencies", "version_id, ", "?1, ", "version_id = ?2",
				 skip_dep, &c->deps, e);
	return r;
}

static int run_copy(struct store *s, sqlite3_stmt *st, int64_t to, int64_t from, const char *what,
		    struct cafs_error *e)
{
	int r;

	(void)sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, to);
	sqlite3_bind_int64(st, 2, from);
	r = store_step_done(s, st, what, e);
	(void)sqlite3_reset(st);
	return r;
}

/* The repositories a copy looks in, and the package's row in each (0 = absent there). */
struct copy_source {
	struct store_search_node nodes[CAFS_MAX_SEARCHED_REPOS];
	int64_t pkgs[CAFS_MAX_SEARCHED_REPOS];
	size_t n;
	bool upstream;
};

static int copy_source_init(struct store *s, const struct batch *b, int64_t repo,
			    bool include_from_upstream, struct copy_source *src,
			    struct cafs_error *e)
{
	int r;

	src->upstream = include_from_upstream;
	if (!include_from_upstream) {
		/* the package must exist in the source itself: ResourceNotFound otherwise */
		r = store_pkg_load(s, b->repository, &b->pc, &src->pkgs[0], NULL, e);
		src->n = 1;
		return r;
	}
	r = store_search_order(s, repo, src->nodes, &src->n, e);
	for (size_t i = 0; r == 0 && i < src->n; i++) {
		r = store_pkg_find(s, src->nodes[i].id, &b->pc, &src->pkgs[i], NULL, NULL, e);
		if (r == 0)
			src->pkgs[i] = 0;
		r = r < 0 ? r : 0;
	}
	return r;
}

/* The destination package: its row (0 = not yet) and publish control. */
struct copy_dest {
	const char *name;
	int64_t repo;
	int64_t pkg;
	char publish[8];
};

static int judge_copy(struct batch *b, const struct copy_source *src, const struct copy_dest *dst,
		      bool allow_overwrite, struct cafs_error *e)
{
	struct store_origin_verdict v;

	for (size_t i = 0; i < b->n; i++) {
		struct store_batch_item *it = &b->items[i];
		struct plan *p = &b->plans[i];
		struct found f;
		int r = 0;

		for (size_t j = 0; r == 0 && j < src->n; j++) {
			if (!src->pkgs[j])
				continue;
			r = find_version(b->s, src->pkgs[j], it->version, &f, e);
			if (r > 0)
				p->src_pkg = src->pkgs[j];
		}
		if (r < 0)
			return r;
		if (r == 0) {
			item_fail(it, STORE_VERSION_NOT_FOUND,
				  "no version '%s' of package '%s' in repository '%s'%s",
				  it->version, b->pc.display, b->repository,
				  src->upstream ? " or its upstreams" : "");
			continue;
		}
		p->ver = f.id;
		p->status = f.status;
		(void)snprintf(p->origin_type, sizeof(p->origin_type), "%s", f.origin_type);
		(void)snprintf(it->revision, sizeof(it->revision), "%s", f.revision);
		it->status = store_status_name(f.status);
		if (p->want_revision && strcmp(p->want_revision, f.revision) != 0) {
			item_fail(it, STORE_VERSION_MISMATCHED_REVISION,
				  "version '%s' has revision '%s', not '%s'", it->version,
				  f.revision, p->want_revision);
			continue;
		}
		if (f.status == STORE_STATUS_DISPOSED) {
			item_fail(it, STORE_VERSION_NOT_ALLOWED,
				  "version '%s' is Disposed: it has no assets to copy",
				  it->version);
			continue;
		}
		/*
		 * decision 4: the destination's PUBLISH origin controls (the package's and its
		 * group's, spec §7.7) gate a copy
		 */
		r = store_origin_decide(b->s, CAFS_ACTION_PUBLISH, dst->name, b->pc.format,
					b->pc.namespace_, b->pc.package, &v, e);
		if (r < 0)
			return r;
		if (r == 0) {
			item_fail(it, STORE_VERSION_NOT_ALLOWED, "%s", v.explain);
			continue;
		}
		if (!dst->pkg)
			continue;
		r = find_version(b->s, dst->pkg, it->version, &f, e);
		if (r < 0)
			return r;
		if (r == 0 || f.id == p->ver)
			it->omitted = r > 0; /* found in the destination itself (an upstream) */
		else if (strcmp(f.revision, it->revision) == 0)
			it->omitted = true;
		else if (allow_overwrite)
			p->dst_ver = f.id;
		else
			item_fail(it, STORE_VERSION_ALREADY_EXISTS,
				  "version '%s' already exists in repository '%s' with other "
				  "content (revision '%s')",
				  it->version, dst->name, f.revision);
	}
	return 0;
}

/* The destination package, created on first copy with the origin controls of decision 3. */
static int copy_dest_create(struct batch *b, struct copy_dest *dst, struct cafs_error *e)
{
	const char *origin = "INTERNAL";

	for (size_t i = 0; i < b->n; i++)
		if (!b->items[i].omitted) {
			origin = b->plans[i].origin_type;
			break;
		}
	/* INTERNAL (and UNKNOWN): as a publish; EXTERNAL: as an ingest */
	return store_pkg_create(b->s, dst->repo, &b->pc, strcmp(origin, "EXTERNAL") == 0, &dst->pkg,
				e);
}

static int copy_dist_tags(struct batch *b, int64_t from_pkg, int64_t to_pkg, const char *version,
			  struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		b->s,
		"INSERT INTO dist_tags (package_id, tag, version) "
		"SELECT ?1, tag, version FROM dist_tags WHERE package_id = ?2 AND version = ?3 "
		"ON CONFLICT (package_id, tag) DO UPDATE SET version = excluded.version",
		e);
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, to_pkg);
	sqlite3_bind_int64(st, 2, from_pkg);
	sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
	r = store_step_done(b->s, st, "copy dist-tags", e);
	(void)sqlite3_reset(st);
	return r;
}

static int apply_copy(struct batch *b, struct copy_dest *dst, struct cafs_error *e)
{
	struct copy_sql sql = {0};
	int r = 0;

	if (!dst->pkg)
		r = copy_dest_create(b, dst, e);
	if (r == 0)
		r = copy_sql_init(b->s, &sql, e);
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		const struct plan *p = &b->plans[i];
		int64_t ver;

		if (b->items[i].omitted)
			continue;
		if (p->dst_ver) {
			/* --allow-overwrite: the old record goes with its assets */
			r = collect_blobs(b, p->dst_ver, e);
			if (r == 0)
				r = exec_id(b->s,
					    store_stmt(b->s,
						       "DELETE FROM package_versions WHERE id = ?",
						       e),
					    p->dst_ver, "replace version", e);
			if (r < 0)
				break;
		}
		sqlite3_bind_int64(sql.version, 1, dst->pkg);
		sqlite3_bind_int64(sql.version, 2, store_now_us());
		sqlite3_bind_int64(sql.version, 3, p->ver);
		r = store_step_done(b->s, sql.version, "copy version", e);
		(void)sqlite3_reset(sql.version);
		if (r < 0)
			break;
		ver = sqlite3_last_insert_rowid(b->s->db);
		r = run_copy(b->s, sql.assets, ver, p->ver, "copy assets", e);
		if (r == 0)
			r = run_copy(b->s, sql.deps, ver, p->ver, "copy dependencies", e);
		if (r == 0 && b->pc.format == CAFS_FORMAT_NPM)
			r = copy_dist_tags(b, p->src_pkg, dst->pkg, b->items[i].version, e);
	}
	copy_sql_done(&sql);
	if (r == 0)
		r = store_blob_release(b->s, b->blobs, b->n_blobs, &b->freed, &b->n_freed, e);
	return r;
}

int store_version_copy(struct store *s, const struct store_batch *req, const char *destination,
		       bool allow_overwrite, bool include_from_upstream,
		       struct store_batch_result *ret, struct cafs_error *e)
{
	struct copy_source src = {0};
	struct copy_dest dst = {.name = destination};
	char what[160];
	struct batch b;
	int64_t src_repo = 0;
	int r;

	r = batch_init(&b, s, "CopyPackageVersions", req, destination, e);
	if (r == 0)
		r = cafs_validate_repository_name(destination, e);
	if (r == 0 && strcmp(req->repository, destination) == 0)
		r = cafs_error_set(e, CAFS_VALIDATION, 0,
				   "source and destination are both repository '%s'", destination);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0)
		r = store_repo_id(s, req->repository, &src_repo, e);
	if (r == 0)
		r = store_repo_id(s, destination, &dst.repo, e);
	if (r == 0)
		r = copy_source_init(s, &b, src_repo, include_from_upstream, &src, e);
	if (r == 0) {
		r = store_pkg_find(s, dst.repo, &b.pc, &dst.pkg, dst.publish, NULL, e);
		if (r == 0)
			dst.pkg = 0;
		r = r < 0 ? r : 0;
	}
	if (r == 0)
		r = judge_copy(&b, &src, &dst, allow_overwrite, e);
	if (r == 0 && batch_count_failures(&b) == 0)
		r = apply_copy(&b, &dst, e);
	(void)snprintf(what, sizeof(what), "copied from '%s'", req->repository);
	return batch_finish(&b, r, what, ret, e);
}
