/* SPDX-License-Identifier: MIT */
/*
 * cafs fsck (store/fsck.h): the consistency check of a domain, and its safe repairs. This file
 * runs the checks and holds those of the rows, the database and tmp/; store/fsck_blobs.c
 * checks the blob files.
 *
 * A consistent domain, as the publish and lifecycle code leave it at every commit:
 *  - every blob row has its file at blobs/<2 hex>/<30 hex>[.<seq>], whose bytes have the row's
 *    size, XXH3-128 (the address) and SHA-256, and the MD5/SHA-1/SHA-512 the row stores;
 *  - every asset row points at existing blob rows (its bytes, and a wheel's core metadata);
 *  - every version has at least one asset, except a Disposed one, which has none, and every
 *    version has a revision (publish, retention, copy and ingest write a version together with
 *    its first asset in one transaction; dispose removes them all; the last asset's removal
 *    removes the version);
 *  - SQLite's own integrity and foreign-key checks pass.
 * What a crash may leave and is no inconsistency: a blob row no asset references (ingested
 * before the publish's transaction; gc frees it), a blob file without a row (linked before the
 * row is inserted, or left when a freed blob's unlink did not happen), and temp files in tmp/
 * (swept by every store_open()). A file without a row counts as a problem only once it is older
 * than the grace period: before that it may be a publish in progress.
 *
 * Concurrency: the check runs beside a mount that publishes. It reads the rows in short
 * statements and the files with no transaction open, and re-checks every finding against the
 * current rows before reporting it. Repairs take the write lock (BEGIN IMMEDIATE, nothing
 * written), re-check, act on the file system and let go, as store_blob_unlink() does; rows are
 * never deleted or changed. One audit row ("RepairDomain") records a run that repaired.
 */
#include "store/fsck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/maint-internal.h"
#include "store/store.h"

#define MSG_MAX 1024

void fsck_report(struct fsck *f, enum store_fsck_type type, enum store_fsck_state state,
		 const char *path, int64_t id, const char *subject, const char *const *assets,
		 size_t n_assets, const char *fmt, ...)
{
	char msg[MSG_MAX];
	struct store_fsck_finding fi = {
		.type = type,
		.state = state,
		.path = path,
		.id = id,
		.subject = subject,
		.message = msg,
		.assets = assets,
		.n_assets = n_assets,
	};
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (state == STORE_FSCK_PROBLEM)
		f->sum->problems++;
	else if (state == STORE_FSCK_REPAIRED)
		f->sum->repaired++;
	else
		f->sum->notes++;
	if (f->o->report)
		f->o->report(f->o->report_ctx, &fi);
}

/* ---- the temp files swept at open -------------------------------------------------------- */

/* The names of the non-folder entries of @dir (owned, NULL-terminated). */
static int list_names(const char *dir, char ***ret, size_t *ret_n, struct cafs_error *e)
{
	char **names = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d) {
		*ret = NULL;
		*ret_n = 0;
		return errno == ENOENT ? 0
				       : cafs_error_set(e, CAFS_IO, errno, "open '%s': %s", dir,
							strerror(errno));
	}
	while ((de = readdir(d))) {
		struct stat st;
		char **nn;

		if (de->d_type == DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			continue;
		nn = reallocarray(names, n + 2, sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n] = strdup(de->d_name);
		if (!names[n])
			break;
		names[++n] = NULL;
	}
	(void)closedir(d);
	*ret = names;
	*ret_n = n;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* 1 when a live process holds the temp file @name of folder @dfd locked (an ingest), else 0. */
static int tmp_in_use(int dfd, const char *name)
{
	_cleanup_close_ int fd =
		openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return 0;
	return flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int store_fsck_open(const char *root, const char *name, const struct store_fsck_options *o,
		    struct store **ret, struct cafs_error *e)
{
	struct store_fsck_summary sum = {0};
	struct fsck f = {.o = o, .sum = &sum};
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int tfd = -1;
	char **before = NULL;
	size_t n = 0;
	int r;

	r = cafs_validate_domain_name(name, e);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s/%s/" STORE_TMP_DIR, root, name) < 0) {
		tmp = NULL;
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	r = list_names(tmp, &before, &n, e);
	if (r < 0)
		return r;
	/* what a live process holds is not left over: its owner removes it */
	tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; tfd >= 0 && i < n; i++)
		if (tmp_in_use(tfd, before[i]))
			before[i][0] = '\0';
	r = store_open(root, name, ret, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct stat st;
		char rel[512];

		if (!before[i][0])
			continue;
		(void)snprintf(rel, sizeof(rel), STORE_TMP_DIR "/%s", before[i]);
		if (fstatat((*ret)->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			fsck_report(
				&f, STORE_FSCK_TEMP, STORE_FSCK_REPAIRED, rel, 0, NULL, NULL, 0,
				"temp file left by a process that ended: removed when the domain "
				"was opened");
	}
	free_names(before, n);
	return r;
}

/* ---- rows ---------------------------------------------------------------------------------- */

static void coord_subject(sqlite3_stmt *st, int col, char *buf, size_t bufsz)
{
	const char *repo = (const char *)sqlite3_column_text(st, col);
	const char *format = (const char *)sqlite3_column_text(st, col + 1);
	const char *ns = (const char *)sqlite3_column_text(st, col + 2);
	const char *name = (const char *)sqlite3_column_text(st, col + 3);
	const char *version = (const char *)sqlite3_column_text(st, col + 4);

	(void)snprintf(buf, bufsz, "%s/%s/%s%s%s/%s", repo ? repo : "?", format ? format : "?",
		       ns ? ns : "", ns && *ns ? "/" : "", name ? name : "?",
		       version ? version : "?");
}

static int check_assets(struct fsck *f, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(f->s,
			   "SELECT a.id, r.name, p.format, p.namespace, p.name, v.version, a.name, "
			   "NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = a.blob_id) "
			   "FROM assets a LEFT JOIN package_versions v ON v.id = a.version_id "
			   "LEFT JOIN packages p ON p.id = v.package_id "
			   "LEFT JOIN repositories r ON r.id = p.repository_id "
			   "WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = a.blob_id) OR "
			   "(a.metadata_blob_id IS NOT NULL AND "
			   "NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = a.metadata_blob_id))",
			   e);
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char subject[1024];

		coord_subject(st, 1, subject, sizeof(subject));
		fsck_report(f, STORE_FSCK_ASSET, STORE_FSCK_PROBLEM, NULL,
			    sqlite3_column_int64(st, 0), subject, NULL, 0,
			    "asset '%s' points at a blob row that does not exist (%s)",
			    sqlite3_column_text(st, 6),
			    sqlite3_column_int(st, 7) ? "its bytes" : "its core metadata");
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(f->s, rc, "check table 'assets'", e);
	st = store_stmt(f->s,
			"SELECT (SELECT count(*) FROM assets), (SELECT count(*) FROM "
			"package_versions)",
			e);
	if (!st)
		return -cafs_error_errno(e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		f->sum->assets = sqlite3_column_int64(st, 0);
		f->sum->versions = sqlite3_column_int64(st, 1);
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : store_sql_error(f->s, rc, "count assets", e);
}

static int check_versions(struct fsck *f, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		f->s,
		"SELECT v.id, r.name, p.format, p.namespace, p.name, v.version, v.status, "
		"v.revision, (SELECT count(*) FROM assets a WHERE a.version_id = v.id) AS n "
		"FROM package_versions v LEFT JOIN packages p ON p.id = v.package_id "
		"LEFT JOIN repositories r ON r.id = p.repository_id "
		"WHERE (v.status <> 'Disposed' AND n = 0) OR (v.status = 'Disposed' AND n > 0) "
		"OR v.revision IS NULL OR v.revision = ''",
		e);
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 6);
		const char *revision = (const char *)sqlite3_column_text(st, 7);
		int64_t n = sqlite3_column_int64(st, 8);
		char subject[1024];

		coord_subject(st, 1, subject, sizeof(subject));
		if (n == 0 && strcmp(status, "Disposed") != 0)
			fsck_report(f, STORE_FSCK_VERSION, STORE_FSCK_PROBLEM, NULL,
				    sqlite3_column_int64(st, 0), subject, NULL, 0,
				    "half-published version: %s with no assets (only a Disposed "
				    "version has none); delete-package-versions removes it",
				    status);
		else if (n > 0 && strcmp(status, "Disposed") == 0)
			fsck_report(f, STORE_FSCK_VERSION, STORE_FSCK_PROBLEM, NULL,
				    sqlite3_column_int64(st, 0), subject, NULL, 0,
				    "Disposed version that still has %" PRId64 " assets", n);
		else
			fsck_report(f, STORE_FSCK_VERSION, STORE_FSCK_PROBLEM, NULL,
				    sqlite3_column_int64(st, 0), subject, NULL, 0,
				    "half-published version: %s with no revision%s", status,
				    revision ? "" : " (NULL)");
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(f->s, rc, "check package versions", e);
}

static int check_database(struct fsck *f, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(f->s, "PRAGMA integrity_check(100)", e);
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);

		if (msg && strcmp(msg, "ok") != 0)
			fsck_report(f, STORE_FSCK_DATABASE, STORE_FSCK_PROBLEM, STORE_DB_NAME, 0,
				    NULL, NULL, 0, "integrity_check: %s", msg);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(f->s, rc, "integrity_check", e);
	st = store_stmt(f->s, "PRAGMA foreign_key_check", e);
	if (!st)
		return -cafs_error_errno(e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fsck_report(f, STORE_FSCK_FOREIGN_KEY, STORE_FSCK_PROBLEM, STORE_DB_NAME,
			    sqlite3_column_int64(st, 1), NULL, NULL, 0,
			    "row %" PRId64 " of table '%s' points at a missing row of table '%s'",
			    (int64_t)sqlite3_column_int64(st, 1), sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 2));
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(f->s, rc, "foreign_key_check", e);
}

/* ---- tmp/ -------------------------------------------------------------------------------- */

static int check_tmp(struct fsck *f, struct cafs_error *e)
{
	_cleanup_free_ char *dir = NULL;
	char **names = NULL;
	size_t n = 0;
	bool swept = false;
	int r;

	if (asprintf(&dir, "%s/" STORE_TMP_DIR, f->s->dir) < 0) {
		dir = NULL;
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	r = list_names(dir, &names, &n, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char rel[512];
		struct stat st;

		(void)snprintf(rel, sizeof(rel), STORE_TMP_DIR "/%s", names[i]);
		if (tmp_in_use(f->s->tmp_fd, names[i])) {
			fsck_report(f, STORE_FSCK_TEMP, STORE_FSCK_NOTE, rel, 0, NULL, NULL, 0,
				    "temp file in use by a live process (an ingest in progress)");
			continue;
		}
		if (f->o->repair && !swept) {
			r = store_blob_sweep(f->s, e);
			if (r < 0) {
				free_names(names, n);
				return r;
			}
			swept = true;
		}
		if (fstatat(f->s->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			fsck_report(f, STORE_FSCK_TEMP, STORE_FSCK_REPAIRED, rel, 0, NULL, NULL, 0,
				    "temp file left by a process that ended: removed");
		else
			fsck_report(f, STORE_FSCK_TEMP, STORE_FSCK_PROBLEM, rel, 0, NULL, NULL, 0,
				    "temp file left by a process that ended%s",
				    f->o->repair ? ": could not be removed"
						 : ": --repair removes it");
	}
	free_names(names, n);
	return 0;
}

int store_fsck(struct store *s, const struct store_fsck_options *o, struct store_fsck_summary *ret,
	       struct cafs_error *e)
{
	struct store_fsck_summary sum = {0};
	struct fsck f = {.s = s, .o = o, .sum = &sum};
	int r;

	r = check_database(&f, e);
	if (r == 0)
		r = fsck_check_blobs(&f, e);
	if (r == 0)
		r = check_assets(&f, e);
	if (r == 0)
		r = check_versions(&f, e);
	if (r == 0)
		r = check_tmp(&f, e);
	if (r == 0 && o->repair && sum.repaired) {
		char reason[128];
		char owner[13] = "";
		struct store_domain d = {0};
		char arn[256];

		(void)store_domain_owner(s, owner, NULL);
		(void)snprintf(d.name, sizeof(d.name), "%s", s->name);
		(void)snprintf(d.owner, sizeof(d.owner), "%s", owner);
		store_domain_arn(&d, arn, sizeof(arn));
		(void)snprintf(reason, sizeof(reason), "%zu repaired, %zu problems left",
			       sum.repaired, sum.problems);
		/* the repairs are done: a failure to audit them must not hide the report */
		(void)store_audit(s, "RepairDomain", arn, "ok", reason, NULL);
	}
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}
