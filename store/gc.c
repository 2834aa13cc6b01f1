/* SPDX-License-Identifier: MIT */
/*
 * cafs gc (store/fsck.h): freeing the blobs that no asset references, and the walk over the
 * blob folders that fsck shares (store/maint-internal.h).
 *
 * A blob row without a referencing asset arises when a publish is refused or killed after its
 * ingest, when a repository is deleted (its blobs stay until gc), and between the ingest and the
 * transaction of every publish (store/package.c and store/external.c ingest first, outside any
 * transaction, then reference the blob in one transaction). That last case is why only blobs
 * whose row is older than the grace period are candidates; the delete re-checks, inside its
 * write transaction, that the row is still unreferenced, still the same blob and still old. A
 * publish that found an old unreferenced blob as a dedup hit just before gc freed it sees the
 * row gone inside its transaction and fails with ThrottlingException (store/package.c).
 *
 * Order (store_blob_unlink()): rows are deleted in short transactions (one audit row each),
 * files are unlinked after the commit, under a fresh write lock and only while no row holds
 * the address again. A crash in between leaves files without rows, which the next gc (or
 * fsck --repair) removes once they are older than the grace period, by the same rule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/blob.h"
#include "store/fsck.h"
#include "store/internal.h"
#include "store/maint-internal.h"
#include "store/store.h"

#define GC_BATCH 200 /* blob rows deleted per transaction: keeps each write lock short */
#define SEQ_MAX  1000000

/* ---- the blob folders -------------------------------------------------------------------- */

void maint_relpath(const char *xxh128, int seq, char *buf, size_t bufsz)
{
	struct store_blob b = {.seq = seq};

	(void)snprintf(b.xxh128, sizeof(b.xxh128), "%s", xxh128);
	store_blob_relpath(&b, buf, bufsz);
}

static bool lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* "<30 hex>" or "<30 hex>.<seq>" (seq 1.., no leading zero): the seq, or -1 for other names. */
static int leaf_seq(const char *name)
{
	const char *p = name + 30;
	long v = 0;

	if (strlen(name) < 30 || !lower_hex(name, 30))
		return -1;
	if (*p == '\0')
		return 0;
	if (*p != '.' || p[1] < '1' || p[1] > '9')
		return -1;
	for (p++; *p; p++) {
		if (*p < '0' || *p > '9' || v > SEQ_MAX)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= SEQ_MAX ? (int)v : -1;
}

static int cmp_file(const void *a, const void *b)
{
	const struct maint_file *x = a, *y = b;
	int c = strcmp(x->xxh128, y->xxh128);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

struct file_list {
	struct maint_file *v;
	size_t n, cap;
};

static int list_fanout(struct store *s, DIR *top, const char *fan, struct file_list *l,
		       void (*stray)(void *ctx, const char *rel, const char *why), void *ctx,
		       struct cafs_error *e)
{
	int dfd = openat(dirfd(top), fan, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	char rel[320];
	DIR *d;

	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP) {
			(void)snprintf(rel, sizeof(rel), STORE_BLOBS_DIR "/%s", fan);
			if (stray)
				stray(ctx, rel, "not a fan-out folder");
			return 0;
		}
		return cafs_error_set(e, CAFS_IO, errno, "open '%s/" STORE_BLOBS_DIR "/%s': %s",
				      s->dir, fan, strerror(errno));
	}
	d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return cafs_error_set(e, CAFS_IO, errno, "open '%s/" STORE_BLOBS_DIR "/%s': %s",
				      s->dir, fan, strerror(errno));
	}
	while ((de = readdir(d))) {
		struct maint_file *mf;
		struct stat st;
		int seq;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(void)snprintf(rel, sizeof(rel), STORE_BLOBS_DIR "/%s/%s", fan, de->d_name);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed while we walk */
			(void)closedir(d);
			return cafs_error_set(e, CAFS_IO, errno, "stat '%s/%s': %s", s->dir, rel,
					      strerror(errno));
		}
		seq = leaf_seq(de->d_name);
		if (seq < 0 || !S_ISREG(st.st_mode)) {
			if (stray)
				stray(ctx, rel,
				      seq < 0 ? "not a blob file name" : "not a regular file");
			continue;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 1024;
			struct maint_file *nv = reallocarray(l->v, cap, sizeof(*nv));

			if (!nv) {
				(void)closedir(d);
				return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
			}
			l->v = nv;
			l->cap = cap;
		}
		mf = &l->v[l->n++];
		*mf = (struct maint_file){
			.seq = seq,
			.size = (uint64_t)st.st_size,
			.dev = (uint64_t)st.st_dev,
			.ino = (uint64_t)st.st_ino,
		};
		(void)snprintf(mf->xxh128, sizeof(mf->xxh128), "%s%.30s", fan, de->d_name);
		mf->changed_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
		if ((int64_t)st.st_ctim.tv_sec * 1000000 + st.st_ctim.tv_nsec / 1000 >
		    mf->changed_us)
			mf->changed_us =
				(int64_t)st.st_ctim.tv_sec * 1000000 + st.st_ctim.tv_nsec / 1000;
	}
	(void)closedir(d);
	return 0;
}

int maint_list_files(struct store *s, struct maint_file **ret, size_t *ret_n,
		     void (*stray)(void *ctx, const char *rel, const char *why), void *ctx,
		     struct cafs_error *e)
{
	/* a fresh open file description, so that readdir() has its own offset */
	int dfd = openat(s->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct file_list l = {0};
	struct dirent *de;
	int r = 0;
	DIR *d;

	if (dfd < 0)
		return cafs_error_set(e, CAFS_IO, errno, "open '%s/" STORE_BLOBS_DIR "': %s",
				      s->dir, strerror(errno));
	d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return cafs_error_set(e, CAFS_IO, errno, "open '%s/" STORE_BLOBS_DIR "': %s",
				      s->dir, strerror(errno));
	}
	while (r == 0 && (de = readdir(d))) {
		char rel[320];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strlen(de->d_name) == 2 && lower_hex(de->d_name, 2)) {
			r = list_fanout(s, d, de->d_name, &l, stray, ctx, e);
			continue;
		}
		(void)snprintf(rel, sizeof(rel), STORE_BLOBS_DIR "/%s", de->d_name);
		if (stray)
			stray(ctx, rel, "not a fan-out folder");
	}
	(void)closedir(d);
	if (r < 0) {
		free(l.v);
		return r;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_file);
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

struct maint_file *maint_find_file(struct maint_file *files, size_t n, const char *xxh128, int seq)
{
	struct maint_file key = {.seq = seq};

	if (!n)
		return NULL;
	(void)snprintf(key.xxh128, sizeof(key.xxh128), "%s", xxh128);
	return bsearch(&key, files, n, sizeof(*files), cmp_file);
}

int maint_address_taken(struct store *s, const char *xxh128, int seq, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM blobs WHERE xxh128 = ? AND seq = ?", e);
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_text(st, 1, xxh128, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(st, 2, seq);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "read table 'blobs'", e);
}

int maint_remove_orphan(struct store *s, const struct maint_file *f, struct cafs_error *e)
{
	struct stat st;
	char rel[64];
	int r;

	maint_relpath(f->xxh128, f->seq, rel, sizeof(rel));
	/* under the write lock, so that no ingest commits a row at this address meanwhile */
	r = store_txn_begin(s, e);
	if (r < 0)
		return r;
	r = maint_address_taken(s, f->xxh128, f->seq, e);
	if (r == 0) {
		if (fstatat(s->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino)
			r = 0; /* gone, or another file now: not the one judged */
		else if (unlinkat(s->dir_fd, rel, 0) == 0)
			r = 1;
		else if (errno != ENOENT)
			r = cafs_error_set(e, CAFS_IO, errno, "remove '%s/%s': %s", s->dir, rel,
					   strerror(errno));
	} else if (r > 0) {
		r = 0;
	}
	store_txn_rollback(s); /* nothing was written: only the lock was wanted */
	return r;
}

/* ---- gc -------------------------------------------------------------------------------------- */

struct candidate {
	int64_t id;
	char sha256[65];
};

/* The unreferenced blobs: those older than @cutoff_us into *@ret, the younger ones counted. */
static int candidates(struct store *s, int64_t cutoff_us, struct candidate **ret, size_t *ret_n,
		      struct store_gc_result *res, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s,
		"SELECT id, sha256, size, created_us FROM blobs "
		"WHERE NOT EXISTS (SELECT 1 FROM assets WHERE blob_id = blobs.id) "
		"AND NOT EXISTS (SELECT 1 FROM assets WHERE metadata_blob_id = blobs.id) "
		"ORDER BY id",
		e);
	struct candidate *v = NULL;
	size_t n = 0;
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(st, 1);
		int64_t size = sqlite3_column_int64(st, 2);
		struct candidate *nv;

		if (sqlite3_column_int64(st, 3) >= cutoff_us) {
			res->young++;
			res->young_bytes += size;
			continue;
		}
		res->freed++; /* as far as this read can tell; the delete decides */
		res->freed_bytes += size;
		nv = reallocarray(v, n + 1, sizeof(*nv));
		if (!nv) {
			(void)sqlite3_reset(st);
			free(v);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		v = nv;
		v[n].id = sqlite3_column_int64(st, 0);
		(void)snprintf(v[n].sha256, sizeof(v[n].sha256), "%s", sha ? sha : "");
		n++;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_sql_error(s, rc, "read table 'blobs'", e);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void domain_arn(struct store *s, char *buf, size_t bufsz)
{
	struct store_domain d = {0};

	(void)store_domain_owner(s, d.owner, NULL);
	(void)snprintf(d.name, sizeof(d.name), "%s", s->name);
	store_domain_arn(&d, buf, bufsz);
}

/*
 * Delete the rows of @c[0..@n) that are, inside this transaction, still the same blob, still
 * older than @cutoff_us and still unreferenced; then, after the commit, their files.
 */
static int free_batch(struct store *s, const struct candidate *c, size_t n, int64_t cutoff_us,
		      struct store_gc_result *res, struct cafs_error *e)
{
	_cleanup_free_ struct store_blob *freed = NULL;
	size_t n_freed = 0;
	int64_t bytes = 0;
	char reason[128];
	char arn[256];
	int r;

	r = store_txn_begin(s, e);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++) {
		sqlite3_stmt *st = store_stmt(
			s,
			"DELETE FROM blobs WHERE id = ?1 AND sha256 = ?2 AND created_us < ?3 "
			"AND NOT EXISTS (SELECT 1 FROM assets WHERE blob_id = ?1) "
			"AND NOT EXISTS (SELECT 1 FROM assets WHERE metadata_blob_id = ?1) "
			"RETURNING id, size, xxh128, seq, sha256",
			e);
		int rc;

		if (!st) {
			r = -cafs_error_errno(e);
			break;
		}
		(void)sqlite3_bind_int64(st, 1, c[i].id);
		(void)sqlite3_bind_text(st, 2, c[i].sha256, -1, SQLITE_STATIC);
		(void)sqlite3_bind_int64(st, 3, cutoff_us);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_blob *nf = reallocarray(freed, n_freed + 1, sizeof(*nf));

			if (!nf) {
				rc = SQLITE_NOMEM;
				break;
			}
			freed = nf;
			nf = &freed[n_freed++];
			*nf = (struct store_blob){.id = sqlite3_column_int64(st, 0),
						  .size = (uint64_t)sqlite3_column_int64(st, 1),
						  .seq = sqlite3_column_int(st, 3)};
			(void)snprintf(nf->xxh128, sizeof(nf->xxh128), "%s",
				       (const char *)sqlite3_column_text(st, 2));
			(void)snprintf(nf->sha256, sizeof(nf->sha256), "%s",
				       (const char *)sqlite3_column_text(st, 4));
			bytes += (int64_t)nf->size;
		}
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			r = rc == SQLITE_NOMEM
				    ? cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory")
				    : store_sql_error(s, rc, "free blob", e);
	}
	if (r == 0 && n_freed) {
		domain_arn(s, arn, sizeof(arn));
		(void)snprintf(reason, sizeof(reason),
			       "freed %zu unreferenced blobs, %" PRId64 " bytes", n_freed, bytes);
		r = store_audit(s, "GarbageCollect", arn, "ok", reason, e);
	}
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		store_txn_rollback(s);
		return r;
	}
	res->freed += (int64_t)n_freed;
	res->freed_bytes += bytes;
	res->files_removed += (int64_t)store_blob_unlink(s, freed, n_freed);
	return 0;
}

static int gc_orphans(struct store *s, const struct store_gc_options *o, int64_t cutoff_us,
		      struct store_gc_result *res, struct cafs_error *e)
{
	_cleanup_free_ struct maint_file *files = NULL;
	size_t n = 0;
	int r;

	r = maint_list_files(s, &files, &n, NULL, NULL, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int taken = maint_address_taken(s, files[i].xxh128, files[i].seq, e);
		int removed = 1;

		if (taken < 0)
			return taken;
		if (taken)
			continue;
		if (files[i].changed_us >= cutoff_us) {
			res->young_orphans++;
			continue;
		}
		if (!o->dry_run)
			removed = maint_remove_orphan(s, &files[i], e);
		if (removed < 0)
			return removed;
		if (removed) {
			res->orphans++;
			res->orphan_bytes += (int64_t)files[i].size;
		}
	}
	return r;
}

int store_gc(struct store *s, const struct store_gc_options *o, struct store_gc_result *ret,
	     struct cafs_error *e)
{
	_cleanup_free_ struct candidate *c = NULL;
	struct store_gc_result res = {0};
	int64_t cutoff_us = store_now_us() - maint_grace_us(o->grace_s);
	size_t n = 0;
	int r;

	r = candidates(s, cutoff_us, &c, &n, &res, e);
	if (r < 0)
		return r;
	if (!o->dry_run) {
		res.freed = res.freed_bytes = 0; /* counted again by what the deletes take */
		for (size_t i = 0; i < n; i += GC_BATCH) {
			r = free_batch(s, c + i, n - i < GC_BATCH ? n - i : GC_BATCH, cutoff_us,
				       &res, e);
			if (r < 0)
				return r;
		}
	}
	r = gc_orphans(s, o, cutoff_us, &res, e);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}
