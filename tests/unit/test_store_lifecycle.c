/* SPDX-License-Identifier: MIT */
/*
 * The batch lifecycle operations on a real store (store/lifecycle.c): the status transition
 * table cell by cell, expectedStatus and versionRevisions, all-or-nothing with SKIPPED, the
 * 100-version limit, revisions across status changes, blobs freed by dispose and delete only
 * when nothing references them any more, and CopyPackageVersions: idempotence,
 * ALREADY_EXISTS, allowOverwrite, NOT_FOUND, includeFromUpstream, the destination's origin
 * defaults and publish=BLOCK, npm dist-tags and dependencies.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"
#include "tests/unit/unit.h"

struct fixture {
	char root[128];
	char blobs[192]; /* <root>/test/blobs */
	struct store *s;
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void make_repo(struct fixture *f, const char *name, const char *upstream)
{
	struct store_repository repo;
	struct cafs_error e;
	const char *ups[1] = {upstream};

	if (store_repository_create(f->s, name, NULL, upstream ? ups : NULL, upstream ? 1 : 0, NULL,
				    0, &repo, &e) != 0)
		fail_msg("create repository '%s': %s", name, e.msg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cafs_error e;

	assert_non_null(f);
	(void)snprintf(f->root, sizeof(f->root), "/tmp/cafs-test-lifecycle-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	(void)snprintf(f->blobs, sizeof(f->blobs), "%s/test/blobs", f->root);
	if (store_domain_create(f->root, "test", NULL, NULL, 0, &f->s, &e) != 0)
		fail_msg("create domain: %s", e.msg);
	make_repo(f, "ra", NULL);
	make_repo(f, "rb", NULL);
	make_repo(f, "up", NULL);
	make_repo(f, "down", "up");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	(void)nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct store_coord generic(const char *version)
{
	return (struct store_coord){CAFS_FORMAT_GENERIC, "ns", "pkg", version};
}

static struct store_coord npm(const char *version)
{
	return (struct store_coord){CAFS_FORMAT_NPM, NULL, "left-pad", version};
}

/* Publish @content as asset @asset of version @c in @repo. */
static void publish(struct fixture *f, const char *repo, struct store_coord c, const char *asset,
		    const char *content, bool unfinished)
{
	struct store_publish req = {
		.repository = repo, .coord = c, .asset_name = asset, .unfinished = unfinished};
	struct store_publish_result res;
	struct cafs_error e;
	int fd = memfd_create("asset", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (store_publish_fd(f->s, &req, fd, &res, &e) != 0)
		fail_msg("publish %s %s: %s", repo, c.version, e.msg);
	(void)close(fd);
}

/* The version's status, or -1 when it has no record; its revision into @rev when not NULL. */
static int status_of(struct fixture *f, const char *repo, struct store_coord c, char *rev)
{
	struct store_version_detail d;
	struct cafs_error e;
	int st;

	if (store_version_describe(f->s, repo, &c, &d, &e) != 0) {
		assert_int_equal(e.kind, CAFS_NOT_FOUND);
		return -1;
	}
	st = (int)d.v.status;
	if (rev)
		(void)snprintf(rev, 64, "%s", d.v.revision);
	store_version_detail_done(&d);
	return st;
}

static size_t n_assets(struct fixture *f, const char *repo, struct store_coord c)
{
	struct store_asset *a = NULL;
	struct cafs_error e;
	size_t n = 0;

	if (store_version_assets(f->s, repo, &c, &a, &n, NULL, &e) != 0)
		fail_msg("assets: %s", e.msg);
	free(a);
	return n;
}

static size_t files_counted;

static int count_file(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)p;
	(void)st;
	(void)ftw;
	files_counted += flag == FTW_F;
	return 0;
}

static size_t blob_files(struct fixture *f)
{
	files_counted = 0;
	assert_int_equal(nftw(f->blobs, count_file, 16, FTW_PHYS), 0);
	return files_counted;
}

static void sql(struct fixture *f, const char *stmt)
{
	char *msg = NULL;

	if (sqlite3_exec(f->s->db, stmt, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", stmt, msg);
}

/* A batch request on package generic ns/pkg (or @c's package) in @repo. */
static struct store_batch batch(const char *repo, struct store_coord c,
				const struct store_version_ref *refs, size_t n)
{
	return (struct store_batch){.repository = repo,
				    .coord = c,
				    .versions = refs,
				    .n_versions = n,
				    .expected_status = -1};
}

static int update(struct fixture *f, const char *repo, const char *version, int target,
		  struct store_batch_result *res, struct cafs_error *e)
{
	struct store_version_ref ref = {version, NULL};
	struct store_batch req = batch(repo, generic(NULL), &ref, 1);

	return store_version_update_status(f->s, &req, (enum store_status)target, res, e);
}

static void dispose1(struct fixture *f, const char *repo, struct store_coord c)
{
	struct store_version_ref ref = {c.version, NULL};
	struct store_batch req = batch(repo, c, &ref, 1);
	struct store_batch_result res;
	struct cafs_error e;

	if (store_version_dispose(f->s, &req, &res, &e) != 0)
		fail_msg("dispose: %s", e.msg);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
}

/* A version of generic ns/pkg in ra with status @from, named @name. */
static void make_version(struct fixture *f, const char *name, enum store_status from)
{
	struct store_batch_result res;
	struct cafs_error e;

	publish(f, "ra", generic(name), "a.txt", name, from == STORE_STATUS_UNFINISHED);
	if (from == STORE_STATUS_UNLISTED || from == STORE_STATUS_ARCHIVED) {
		assert_int_equal(update(f, "ra", name, (int)from, &res, &e), 0);
		assert_int_equal(res.n_failed, 0);
		store_batch_result_done(&res);
	}
	if (from == STORE_STATUS_DISPOSED)
		dispose1(f, "ra", generic(name));
	assert_int_equal(status_of(f, "ra", generic(name), NULL), (int)from);
}

/* Spec §4.2 with decision 6: every from-status against every target. */
static void test_transition_table(void **state)
{
	struct fixture *f = *state;

	for (int from = STORE_STATUS_PUBLISHED; from <= STORE_STATUS_DISPOSED; from++) {
		for (int to = STORE_STATUS_PUBLISHED; to <= STORE_STATUS_DISPOSED; to++) {
			struct store_batch_result res = {0};
			struct cafs_error e;
			char name[32], before[64], after[64];
			int r;

			(void)snprintf(name, sizeof(name), "%d.%d", from, to);
			make_version(f, name, (enum store_status)from);
			(void)status_of(f, "ra", generic(name), before);
			r = update(f, "ra", name, to, &res, &e);
			if (to == STORE_STATUS_UNFINISHED || to == STORE_STATUS_DISPOSED) {
				/* never a target of UpdatePackageVersionsStatus */
				assert_int_equal(r, -EINVAL);
				assert_int_equal(e.kind, CAFS_VALIDATION);
				assert_int_equal(status_of(f, "ra", generic(name), NULL), from);
				continue;
			}
			assert_int_equal(r, 0);
			assert_int_equal(res.n, 1);
			if (from == STORE_STATUS_DISPOSED) {
				assert_int_equal(res.items[0].error, STORE_VERSION_NOT_ALLOWED);
				assert_int_equal(res.n_failed, 1);
				assert_int_equal(status_of(f, "ra", generic(name), NULL), from);
			} else {
				assert_int_equal(res.items[0].error, STORE_VERSION_OK);
				assert_string_equal(res.items[0].status,
						    store_status_name((enum store_status)to));
				assert_int_equal(status_of(f, "ra", generic(name), after), to);
				/* decision 5: a status change keeps the revision */
				assert_string_equal(before, after);
				assert_string_equal(res.items[0].revision, before);
			}
			store_batch_result_done(&res);
		}
	}
}

static void test_target_names(void **state)
{
	struct fixture *f = *state;
	struct store_batch_result res = {0};
	struct cafs_error e;

	make_version(f, "1.0", STORE_STATUS_PUBLISHED);
	assert_int_equal(update(f, "ra", "1.0", 99, &res, &e), -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_string_equal(store_version_error_name(STORE_VERSION_SKIPPED), "SKIPPED");
	assert_string_equal(store_version_error_name(STORE_VERSION_MISMATCHED_REVISION),
			    "MISMATCHED_REVISION");
	assert_string_equal(store_version_error_name(STORE_VERSION_OK), "");
	/* the same status again is a success that changes nothing */
	assert_int_equal(update(f, "ra", "1.0", STORE_STATUS_PUBLISHED, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_OK);
	assert_string_equal(res.items[0].status, "Published");
	store_batch_result_done(&res);
	store_batch_result_done(NULL);
}

static void test_expected_status(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref refs[] = {{"1.0", NULL}, {"2.0", NULL}};
	struct store_batch req = batch("ra", generic(NULL), refs, 2);
	struct store_batch_result res;
	struct cafs_error e;

	make_version(f, "1.0", STORE_STATUS_PUBLISHED);
	make_version(f, "2.0", STORE_STATUS_ARCHIVED);
	req.expected_status = STORE_STATUS_PUBLISHED;
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_UNLISTED, &res, &e),
			 0);
	assert_int_equal(res.n_failed, 2);
	assert_int_equal(res.items[0].error, STORE_VERSION_SKIPPED);
	assert_int_equal(res.items[1].error, STORE_VERSION_MISMATCHED_STATUS);
	assert_non_null(strstr(res.items[1].message, "Archived"));
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), STORE_STATUS_PUBLISHED);

	req.n_versions = 1;
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_UNLISTED, &res, &e),
			 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), STORE_STATUS_UNLISTED);

	/* dispose and delete honour expectedStatus too */
	req.expected_status = STORE_STATUS_ARCHIVED;
	assert_int_equal(store_version_dispose(f->s, &req, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_MISMATCHED_STATUS);
	store_batch_result_done(&res);
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_MISMATCHED_STATUS);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), STORE_STATUS_UNLISTED);
}

static void test_revision_mismatch(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref ref = {"1.0", "bm90IHRoZSByZXZpc2lvbg=="};
	struct store_batch req = batch("ra", generic(NULL), &ref, 1);
	struct store_batch_result res;
	struct cafs_error e;
	char rev[64];

	make_version(f, "1.0", STORE_STATUS_PUBLISHED);
	(void)status_of(f, "ra", generic("1.0"), rev);
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_MISMATCHED_REVISION);
	store_batch_result_done(&res);
	assert_int_equal(store_version_dispose(f->s, &req, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_MISMATCHED_REVISION);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), STORE_STATUS_PUBLISHED);

	ref.revision = rev;
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), STORE_STATUS_ARCHIVED);

	/* a malformed revision is a bad request, not a mismatch */
	ref.revision = "has space";
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
}

static void test_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref refs[] = {
		{"1.0", NULL}, {"9.9", NULL}, {"2.0", NULL}, {"1.0", NULL}};
	struct store_batch req = batch("ra", generic(NULL), refs, 4);
	struct store_audit_row *rows = NULL;
	struct store_batch_result res;
	struct cafs_error e;
	size_t n = 0;

	make_version(f, "1.0", STORE_STATUS_PUBLISHED);
	make_version(f, "2.0", STORE_STATUS_PUBLISHED);
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 0);
	assert_int_equal(res.n, 3); /* 1.0 named twice counts once */
	assert_int_equal(res.n_failed, 3);
	assert_string_equal(res.items[0].version, "1.0");
	assert_int_equal(res.items[0].error, STORE_VERSION_SKIPPED);
	assert_int_equal(res.items[1].error, STORE_VERSION_NOT_FOUND);
	assert_int_equal(res.items[2].error, STORE_VERSION_SKIPPED);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), STORE_STATUS_PUBLISHED);
	assert_int_equal(status_of(f, "ra", generic("2.0"), NULL), STORE_STATUS_PUBLISHED);

	/* one audit row for the call, naming the failure */
	assert_int_equal(store_audit_list(f->s, NULL, 1, &rows, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].action, "UpdatePackageVersionsStatus");
	assert_string_equal(rows[0].outcome, "FAILED");
	assert_non_null(strstr(rows[0].reason, "9.9 NOT_FOUND"));
	assert_non_null(strstr(rows[0].resource, ":package/test/ra/generic/ns/pkg"));
	store_audit_free(rows, n);

	/* the same for dispose and delete: nothing goes */
	assert_int_equal(store_version_dispose(f->s, &req, &res, &e), 0);
	assert_int_equal(res.n_failed, 3);
	store_batch_result_done(&res);
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), 0);
	assert_int_equal(res.n_failed, 3);
	store_batch_result_done(&res);
	assert_int_equal(n_assets(f, "ra", generic("1.0")), 1);
	assert_int_equal(status_of(f, "ra", generic("2.0"), NULL), STORE_STATUS_PUBLISHED);

	/* the same version twice with different revisions is a bad request */
	refs[3].revision = "b3RoZXI=";
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 -EINVAL);

	/* whole-request problems are exceptions, audited as such */
	req = batch("ra", (struct store_coord){CAFS_FORMAT_GENERIC, "ns", "nope", NULL}, refs, 1);
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 -ENOENT);
	assert_int_equal(e.kind, CAFS_NOT_FOUND);
	req.repository = "ghost";
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), -ENOENT);
	assert_int_equal(store_audit_list(f->s, NULL, 1, &rows, &n, &e), 0);
	assert_string_equal(rows[0].action, "DeletePackageVersions");
	assert_string_equal(rows[0].outcome, "ResourceNotFoundException");
	store_audit_free(rows, n);
}

static void test_limit(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref refs[101];
	char names[101][8];
	struct store_batch req;
	struct store_batch_result res;
	struct cafs_error e;

	make_version(f, "1.0", STORE_STATUS_PUBLISHED);
	for (int i = 0; i < 101; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "v%d", i);
		refs[i] = (struct store_version_ref){names[i], NULL};
	}
	req = batch("ra", generic(NULL), refs, 101);
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 -E2BIG);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), -E2BIG);
	assert_int_equal(store_version_copy(f->s, &req, "rb", false, false, &res, &e), -E2BIG);
	req.n_versions = 100;
	assert_int_equal(store_version_update_status(f->s, &req, STORE_STATUS_ARCHIVED, &res, &e),
			 0);
	assert_int_equal(res.n, 100);
	assert_int_equal(res.items[99].error, STORE_VERSION_NOT_FOUND);
	store_batch_result_done(&res);
	req.n_versions = 0;
	assert_int_equal(store_version_dispose(f->s, &req, &res, &e), -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
}

static void test_revision_and_published_time(void **state)
{
	struct fixture *f = *state;
	struct store_batch_result res;
	struct cafs_error e;
	sqlite3_stmt *st;
	char r1[64], r2[64], r3[64];

	publish(f, "ra", generic("1.0"), "a.txt", "first", true);
	(void)status_of(f, "ra", generic("1.0"), r1);
	/* an asset added changes the revision */
	publish(f, "ra", generic("1.0"), "b.txt", "second", true);
	(void)status_of(f, "ra", generic("1.0"), r2);
	assert_string_not_equal(r1, r2);
	/* Unfinished -> Published by update: same revision, publishedTime set when unset */
	sql(f, "UPDATE package_versions SET published_us = NULL");
	assert_int_equal(update(f, "ra", "1.0", STORE_STATUS_PUBLISHED, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	assert_string_equal(res.items[0].revision, r2);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), r3), STORE_STATUS_PUBLISHED);
	assert_string_equal(r2, r3);
	assert_int_equal(sqlite3_prepare_v2(f->s->db, "SELECT published_us FROM package_versions",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(st, 0), SQLITE_INTEGER);
	assert_true(sqlite3_column_int64(st, 0) > 0);
	sqlite3_finalize(st);
}

static void test_dispose_frees_blobs(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref ref = {"1.0", NULL};
	struct store_batch req = batch("ra", generic(NULL), &ref, 1);
	struct store_batch_result res;
	struct store_blob meta;
	struct cafs_error e;
	char rev[64], empty_rev[64];

	/* shared.txt is in both repositories; own.txt and a core-metadata blob only in ra */
	publish(f, "ra", generic("1.0"), "shared.txt", "shared bytes", true);
	publish(f, "ra", generic("1.0"), "own.txt", "only in ra", false);
	publish(f, "rb", generic("1.0"), "shared.txt", "shared bytes", false);
	assert_int_equal(
		store_blob_ingest_mem(f->s, "Metadata-Version: 2.1\n", 22, NULL, &meta, &e), 0);
	sql(f, "UPDATE assets SET metadata_blob_id = (SELECT max(id) FROM blobs) WHERE name = "
	       "'own.txt'");
	assert_int_equal(blob_files(f), 3);
	(void)status_of(f, "ra", generic("1.0"), rev);

	assert_int_equal(store_version_dispose(f->s, &req, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	assert_string_equal(res.items[0].status, "Disposed");
	assert_string_not_equal(res.items[0].revision, rev); /* the revision of no assets */
	(void)snprintf(empty_rev, sizeof(empty_rev), "%s", res.items[0].revision);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), rev), STORE_STATUS_DISPOSED);
	assert_string_equal(rev, empty_rev);
	assert_int_equal(n_assets(f, "ra", generic("1.0")), 0);
	/* rb still references the shared blob: its file stays */
	assert_int_equal(blob_files(f), 1);
	assert_int_equal(n_assets(f, "rb", generic("1.0")), 1);

	/* disposing again is a success that changes nothing */
	assert_int_equal(store_version_dispose(f->s, &req, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);

	/* the last reference goes: so does the file, and the row */
	req.repository = "rb";
	assert_int_equal(store_version_dispose(f->s, &req, &res, &e), 0);
	store_batch_result_done(&res);
	assert_int_equal(blob_files(f), 0);
	assert_int_equal(store_blob_find_sha256(f->s, meta.sha256, &meta, &e), -ENOENT);

	/* a Disposed version can still be deleted, and then published again */
	req.repository = "ra";
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	assert_string_equal(res.items[0].status, "Deleted");
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), -1);
	publish(f, "ra", generic("1.0"), "shared.txt", "shared bytes", false);
	assert_int_equal(blob_files(f), 1);
}

static void test_delete_frees_blobs(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref refs[] = {{"1.0", NULL}, {"2.0", NULL}};
	struct store_batch req = batch("ra", generic(NULL), refs, 2);
	struct store_batch_result res;
	struct cafs_error e;
	char rev[64];

	publish(f, "ra", generic("1.0"), "x.txt", "x bytes", false);
	publish(f, "ra", generic("2.0"), "x.txt", "x bytes", false);
	publish(f, "ra", generic("3.0"), "x.txt", "x bytes", true);
	publish(f, "ra", generic("3.0"), "y.txt", "y bytes", false);
	assert_int_equal(blob_files(f), 2);
	(void)status_of(f, "ra", generic("1.0"), rev);

	assert_int_equal(store_version_delete(f->s, &req, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	assert_string_equal(res.items[0].status, "Deleted");
	assert_string_equal(res.items[0].revision, rev);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "ra", generic("1.0"), NULL), -1);
	assert_int_equal(status_of(f, "ra", generic("2.0"), NULL), -1);
	assert_int_equal(blob_files(f), 2); /* 3.0 still holds x */

	refs[0].version = "3.0";
	req.n_versions = 1;
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), 0);
	store_batch_result_done(&res);
	assert_int_equal(blob_files(f), 0);

	/* deleting what is gone is NOT_FOUND; the package record stays */
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_NOT_FOUND);
	store_batch_result_done(&res);
}

static void tag(struct fixture *f, const char *repo, const char *name, const char *version)
{
	char buf[512];

	(void)snprintf(buf, sizeof(buf),
		       "INSERT INTO dist_tags (package_id, tag, version) SELECT p.id, '%s', '%s' "
		       "FROM packages p JOIN repositories r ON r.id = p.repository_id WHERE "
		       "r.name = '%s' AND p.name = 'left-pad' ON CONFLICT (package_id, tag) DO "
		       "UPDATE SET version = excluded.version",
		       name, version, repo);
	sql(f, buf);
}

/* The version a dist-tag names in @repo, "" when there is none. */
static void tag_of(struct fixture *f, const char *repo, const char *name, char *buf)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(f->s->db,
					    "SELECT t.version FROM dist_tags t JOIN packages p ON "
					    "p.id = t.package_id JOIN repositories r ON r.id = "
					    "p.repository_id WHERE r.name = ? AND t.tag = ?",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	buf[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW)
		(void)snprintf(buf, 64, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void test_delete_npm_tags(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref ref = {"2.0.0", NULL};
	struct store_batch req = batch("ra", npm(NULL), &ref, 1);
	struct store_batch_result res;
	struct cafs_error e;
	char v[64];

	publish(f, "ra", npm("1.0.0"), "package.tgz", "one", false);
	publish(f, "ra", npm("2.0.0"), "package.tgz", "two", false);
	tag(f, "ra", "beta", "2.0.0");
	tag_of(f, "ra", "latest", v);
	assert_string_equal(v, "2.0.0");
	assert_int_equal(store_version_delete(f->s, &req, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
	tag_of(f, "ra", "beta", v);
	assert_string_equal(v, "");
	tag_of(f, "ra", "latest", v);
	assert_string_equal(v, "1.0.0");
}

static int copy(struct fixture *f, const char *from, const char *to, struct store_coord c,
		const struct store_version_ref *refs, size_t n, bool overwrite, bool upstream,
		struct store_batch_result *res, struct cafs_error *e)
{
	struct store_batch req = batch(from, c, refs, n);

	return store_version_copy(f->s, &req, to, overwrite, upstream, res, e);
}

static void test_copy(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref ref = {"1.0", NULL};
	struct store_coord pkg = generic(NULL), v10 = generic("1.0");
	struct store_coord none = {CAFS_FORMAT_GENERIC, "ns", "none", NULL};
	struct store_version_detail d;
	struct store_batch_result res;
	struct store_package p;
	struct cafs_error e;
	char rev[64], got[64];

	publish(f, "ra", generic("1.0"), "a.txt", "a bytes", true);
	publish(f, "ra", generic("1.0"), "b.txt", "b bytes", true);
	assert_int_equal(update(f, "ra", "1.0", STORE_STATUS_UNLISTED, &res, &e), 0);
	store_batch_result_done(&res);
	sql(f, "INSERT INTO dependencies (version_id, position, namespace, package, "
	       "dependency_type, version_requirement) SELECT id, 0, '', 'dep', 'regular', '^1' "
	       "FROM package_versions");
	(void)status_of(f, "ra", generic("1.0"), rev);
	assert_int_equal(blob_files(f), 2);

	assert_int_equal(copy(f, "ra", "rb", generic(NULL), &ref, 1, false, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	assert_false(res.items[0].omitted);
	assert_string_equal(res.items[0].revision, rev);
	assert_string_equal(res.items[0].status, "Unlisted");
	store_batch_result_done(&res);
	/* status, revision, origin and assets as in the source; no new bytes */
	assert_int_equal(status_of(f, "rb", generic("1.0"), got), STORE_STATUS_UNLISTED);
	assert_string_equal(got, rev);
	assert_int_equal(store_version_describe(f->s, "rb", &v10, &d, &e), 0);
	assert_string_equal(d.v.origin_type, "INTERNAL");
	assert_string_equal(d.v.entry_repository, "ra");
	store_version_detail_done(&d);
	assert_int_equal(n_assets(f, "rb", generic("1.0")), 2);
	assert_int_equal(blob_files(f), 2);
	{
		struct store_dependency_row *deps = NULL;
		size_t nd = 0;

		assert_int_equal(store_version_dependencies(f->s, "rb", &v10, &deps, &nd, NULL, &e),
				 0);
		assert_int_equal(nd, 1);
		assert_string_equal(deps[0].package, "dep");
		free(deps);
	}
	/* decision 3: an INTERNAL version makes a publish-style package */
	assert_int_equal(store_package_describe(f->s, "rb", &pkg, &p, &e), 0);
	assert_string_equal(p.publish, "ALLOW");
	assert_string_equal(p.upstream, "BLOCK");

	/* the identical copy again: a success, omitted from the response */
	assert_int_equal(copy(f, "ra", "rb", generic(NULL), &ref, 1, false, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	assert_true(res.items[0].omitted);
	store_batch_result_done(&res);

	/* versionRevisions: the source's revision must match */
	ref.revision = "d3Jvbmc=";
	assert_int_equal(copy(f, "ra", "rb", generic(NULL), &ref, 1, false, false, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_MISMATCHED_REVISION);
	store_batch_result_done(&res);
	ref.revision = rev;
	assert_int_equal(copy(f, "ra", "rb", generic(NULL), &ref, 1, false, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);

	/* whole-request problems */
	assert_int_equal(copy(f, "ra", "ra", generic(NULL), &ref, 1, false, false, &res, &e),
			 -EINVAL);
	assert_int_equal(copy(f, "ra", "ghost", generic(NULL), &ref, 1, false, false, &res, &e),
			 -ENOENT);
	assert_int_equal(copy(f, "ra", "rb", none, &ref, 1, false, false, &res, &e), -ENOENT);
}

static void test_copy_conflicts(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref refs[] = {{"2.0", NULL}, {"1.0", NULL}};
	struct store_batch_result res;
	struct cafs_error e;
	char rev[64], got[64];

	publish(f, "ra", generic("1.0"), "a.txt", "a bytes", false);
	publish(f, "ra", generic("2.0"), "a.txt", "source bytes", false);
	publish(f, "rb", generic("2.0"), "a.txt", "destination bytes", false);
	(void)status_of(f, "ra", generic("2.0"), rev);
	assert_int_equal(blob_files(f), 3);

	/* different content already there: ALREADY_EXISTS, the other SKIPPED, nothing copied */
	assert_int_equal(copy(f, "ra", "rb", generic(NULL), refs, 2, false, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 2);
	assert_int_equal(res.items[0].error, STORE_VERSION_ALREADY_EXISTS);
	assert_int_equal(res.items[1].error, STORE_VERSION_SKIPPED);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "rb", generic("1.0"), NULL), -1);

	/* allowOverwrite replaces it; the destination's old bytes are freed */
	assert_int_equal(copy(f, "ra", "rb", generic(NULL), refs, 2, true, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
	(void)status_of(f, "rb", generic("2.0"), got);
	assert_string_equal(got, rev);
	assert_int_equal(blob_files(f), 2);

	/* missing in the source: NOT_FOUND, the rest SKIPPED */
	refs[0].version = "9.9";
	assert_int_equal(copy(f, "ra", "rb", generic(NULL), refs, 2, false, false, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_NOT_FOUND);
	assert_int_equal(res.items[1].error, STORE_VERSION_SKIPPED);
	store_batch_result_done(&res);

	/* a Disposed version has nothing to copy */
	dispose1(f, "ra", generic("1.0"));
	refs[0].version = "1.0";
	assert_int_equal(copy(f, "ra", "up", generic(NULL), refs, 1, false, false, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_NOT_ALLOWED);
	store_batch_result_done(&res);
}

static void test_copy_not_found_creates_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref refs[] = {{"1.0", NULL}, {"9.9", NULL}};
	struct store_batch_result res;
	struct store_package p;
	struct cafs_error e;
	struct store_coord c = generic(NULL);

	publish(f, "ra", generic("1.0"), "a.txt", "a bytes", false);
	assert_int_equal(copy(f, "ra", "rb", c, refs, 2, false, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 2);
	store_batch_result_done(&res);
	assert_int_equal(store_package_describe(f->s, "rb", &c, &p, &e), -ENOENT);
}

static void test_copy_from_upstream(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref ref = {"1.0", NULL};
	struct store_version_detail d;
	struct store_batch_result res;
	struct cafs_error e;
	struct store_coord c = generic("1.0");

	publish(f, "up", generic("1.0"), "a.txt", "a bytes", false);
	/* without includeFromUpstream the package is not in the source */
	assert_int_equal(copy(f, "down", "rb", generic(NULL), &ref, 1, false, false, &res, &e),
			 -ENOENT);
	assert_int_equal(copy(f, "down", "rb", generic(NULL), &ref, 1, false, true, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
	assert_int_equal(store_version_describe(f->s, "rb", &c, &d, &e), 0);
	assert_string_equal(d.v.entry_repository, "up"); /* the entry point never changes */
	store_version_detail_done(&d);
	ref.version = "2.0";
	assert_int_equal(copy(f, "down", "rb", generic(NULL), &ref, 1, false, true, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_NOT_FOUND);
	assert_non_null(strstr(res.items[0].message, "upstreams"));
	store_batch_result_done(&res);
}

static void test_copy_origin(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref ref = {"1.0", NULL};
	struct store_batch_result res;
	struct store_package p;
	struct cafs_error e;
	struct store_coord c = generic(NULL);

	publish(f, "ra", generic("1.0"), "a.txt", "a bytes", false);
	sql(f, "UPDATE package_versions SET origin_type = 'EXTERNAL', entry_repository = NULL, "
	       "entry_external_connection = 'public:npmjs'");
	/* decision 3: an EXTERNAL version makes an ingest-style package */
	assert_int_equal(copy(f, "ra", "rb", c, &ref, 1, false, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
	assert_int_equal(store_package_describe(f->s, "rb", &c, &p, &e), 0);
	assert_string_equal(p.publish, "BLOCK");
	assert_string_equal(p.upstream, "ALLOW");

	/* decision 4: a destination with publish=BLOCK refuses: NOT_ALLOWED */
	assert_int_equal(store_package_origin_put(f->s, "up", &c, "BLOCK", "ALLOW", &p, &e), 0);
	assert_int_equal(copy(f, "ra", "up", c, &ref, 1, false, false, &res, &e), 0);
	assert_int_equal(res.items[0].error, STORE_VERSION_NOT_ALLOWED);
	store_batch_result_done(&res);
	assert_int_equal(status_of(f, "up", generic("1.0"), NULL), -1);
}

static void test_copy_npm_tags(void **state)
{
	struct fixture *f = *state;
	struct store_version_ref ref = {"1.0.0", NULL};
	struct store_batch_result res;
	struct cafs_error e;
	char v[64];

	publish(f, "ra", npm("1.0.0"), "package.tgz", "one", false);
	publish(f, "ra", npm("2.0.0"), "package.tgz", "two", false);
	tag(f, "ra", "beta", "1.0.0");
	tag(f, "ra", "stable", "1.0.0");
	publish(f, "rb", npm("0.9.0"), "package.tgz", "old", false);
	tag(f, "rb", "beta", "0.9.0");
	assert_int_equal(copy(f, "ra", "rb", npm(NULL), &ref, 1, false, false, &res, &e), 0);
	assert_int_equal(res.n_failed, 0);
	store_batch_result_done(&res);
	tag_of(f, "rb", "beta", v);
	assert_string_equal(v, "1.0.0"); /* overwritten */
	tag_of(f, "rb", "stable", v);
	assert_string_equal(v, "1.0.0"); /* added */
	tag_of(f, "rb", "latest", v);
	assert_string_equal(v, "0.9.0"); /* names 2.0.0 in the source, which was not copied */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transition_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expected_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revision_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revision_and_published_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispose_frees_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_frees_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_npm_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_not_found_creates_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copy_from_upstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_npm_tags, setup, teardown),
	};

	return cmocka_run_group_tests_name("store_lifecycle", tests, NULL, NULL);
}
