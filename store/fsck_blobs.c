/* SPDX-License-Identifier: MIT */
/*
 * cafs fsck, the blob half (store/fsck.h, store/fsck.c): every blob row against its file, the
 * blob folders against the rows, and the safe repairs of blob files.
 *
 * The rows are read in one short statement (address, size, SHA-256; the other hashes one row at
 * a time), the folders listed, then each file is opened and hashed with no transaction open
 * (XXH3-128 for its address, SHA-256, and MD5/SHA-1/SHA-512 where the row stores them). A row
 * whose file is missing or disagrees is re-read before it is reported: a blob freed meanwhile
 * (its row deleted, then its file) is no finding. A file no row owned in the snapshot is looked
 * up again by address: a publish that committed meanwhile owns it.
 *
 * Repairs, each under the write lock (BEGIN IMMEDIATE, nothing written) after a re-check that
 * the row is still there and the file still the one judged: a missing or corrupt blob gets the
 * bytes of a file without a row with the same SHA-256 and XXH3-128 (renamed into place, since a
 * file never changes once linked); a corrupt file with no such twin moves to lost+found/ (kept,
 * never deleted), so that reads fail instead of serving wrong bytes and the next ingest of the
 * right bytes puts them back (store_blob_ingest_fd() re-links a missing file); a file without a
 * row older than the grace period is removed (maint_remove_orphan()), unless it holds the bytes
 * of a damaged blob.
 *
 * Workload: one pass over all blob bytes, bound by the disk and SHA-256.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/blob.h"
#include "store/fsck.h"
#include "store/internal.h"
#include "store/maint-internal.h"

#define CHUNK        (1024 * 1024)
#define ASSETS_SHOWN 20 /* assets named per damaged blob */
#define LOST_DIR     "lost+found"

enum row_state { ROW_OK, ROW_MISSING, ROW_CORRUPT, ROW_GONE };

/* A blob row as snapshot at the start. */
struct row {
	int64_t id;
	char xxh128[33];
	int seq;
	int64_t size;
	char sha256[65];
	enum row_state state;
	char why[256];           /* ROW_CORRUPT: what disagrees */
	uint64_t dev, ino;       /* ROW_CORRUPT: the file that was hashed */
	struct maint_file *twin; /* an orphan with the row's bytes, when one was found */
};

/* The blob check of one fsck run. */
struct blobs {
	struct fsck *fk; /* where findings go */
	struct store *s;
	const struct store_fsck_options *o;
	struct store_fsck_summary *sum;
	struct row *rows;
	size_t n_rows;
	struct maint_file *files;
	size_t n_files;
	unsigned char *buf; /* CHUNK bytes */
	int64_t done, total;
};

/* Hashes of one file. */
struct hashes {
	uint64_t size;
	char xxh128[33];
	char sha256[65];
	char md5[33];
	char sha1[41];
	char sha512[129];
};

static void progress(struct blobs *f, int64_t step)
{
	f->done += step;
	if (f->o->progress)
		f->o->progress(f->o->progress_ctx, f->done, f->total);
}

static bool is_lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return p[n] == '\0';
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* ---- blob rows and their files ----------------------------------------------------------- */

static int load_rows(struct blobs *f, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(f->s,
			   "SELECT id, xxh128, seq, size, sha256, "
			   "EXISTS (SELECT 1 FROM assets WHERE blob_id = blobs.id) OR "
			   "EXISTS (SELECT 1 FROM assets WHERE metadata_blob_id = blobs.id) "
			   "FROM blobs ORDER BY xxh128, seq",
			   e);
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *xxh = (const char *)sqlite3_column_text(st, 1);
		const char *sha = (const char *)sqlite3_column_text(st, 4);
		int64_t id = sqlite3_column_int64(st, 0);
		int64_t size = sqlite3_column_int64(st, 3);
		int seq = sqlite3_column_int(st, 2);
		struct row *nr;

		f->sum->blobs++;
		/* the address becomes a path: a malformed row is reported, never followed */
		if (!xxh || !is_lower_hex(xxh, 32) || !sha || !is_lower_hex(sha, 64) || seq < 0 ||
		    size < 0) {
			fsck_report(f->fk, STORE_FSCK_BLOB_CORRUPT, STORE_FSCK_PROBLEM, NULL, id,
				    NULL, NULL, 0,
				    "row %" PRId64
				    " of table 'blobs' is malformed (address, sha256, "
				    "seq or size)",
				    id);
			continue;
		}
		f->sum->blob_bytes += size;
		if (!sqlite3_column_int(st, 5)) {
			f->sum->unreferenced++;
			f->sum->unreferenced_bytes += size;
		}
		nr = reallocarray(f->rows, f->n_rows + 1, sizeof(*nr));
		if (!nr) {
			(void)sqlite3_reset(st);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		f->rows = nr;
		nr = &f->rows[f->n_rows++];
		*nr = (struct row){.id = id, .seq = seq, .size = size};
		memcpy(nr->xxh128, xxh, sizeof(nr->xxh128));
		memcpy(nr->sha256, sha, sizeof(nr->sha256));
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(f->s, rc, "read table 'blobs'", e);
	return 0;
}

/* Whether row @r still exists as it was read (a blob freed meanwhile is no finding). */
static int row_current(struct blobs *f, const struct row *r, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(f->s, "SELECT 1 FROM blobs WHERE id = ? AND sha256 = ? AND seq = ?", e);
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_int64(st, 1, r->id);
	(void)sqlite3_bind_text(st, 2, r->sha256, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(st, 3, r->seq);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_error(f->s, rc, "read table 'blobs'", e);
}

/*
 * Hash @fd to EOF: XXH3-128 and SHA-256 always, MD5, SHA-1 and SHA-512 when @all. Moves the
 * progress when @count. Returns 0, or a negative errno when reading failed.
 */
static int hash_fd(struct blobs *f, int fd, bool all, bool count, struct hashes *h)
{
	const EVP_MD *mds[4] = {EVP_sha256(), EVP_md5(), EVP_sha1(), EVP_sha512()};
	char *outs[4] = {h->sha256, h->md5, h->sha1, h->sha512};
	EVP_MD_CTX *ctx[4] = {NULL, NULL, NULL, NULL};
	size_t n_md = all ? 4 : 1;
	XXH3_state_t *xxh = XXH3_createState();
	int r = 0;

	*h = (struct hashes){0};
	if (!xxh || XXH3_128bits_reset(xxh) != XXH_OK)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n_md; i++) {
		ctx[i] = EVP_MD_CTX_new();
		if (!ctx[i] || EVP_DigestInit_ex(ctx[i], mds[i], NULL) != 1)
			r = -ENOMEM;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (r == 0) {
		ssize_t got = read(fd, f->buf, CHUNK);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		(void)XXH3_128bits_update(xxh, f->buf, (size_t)got);
		for (size_t i = 0; i < n_md; i++)
			if (EVP_DigestUpdate(ctx[i], f->buf, (size_t)got) != 1)
				r = -EIO;
		h->size += (uint64_t)got;
		f->sum->bytes_verified += got;
		if (count)
			progress(f, got);
	}
	if (r == 0) {
		XXH128_hash_t x = XXH3_128bits_digest(xxh);

		(void)snprintf(h->xxh128, sizeof(h->xxh128), "%016" PRIx64 "%016" PRIx64,
			       (uint64_t)x.high64, (uint64_t)x.low64);
		for (size_t i = 0; i < n_md; i++) {
			unsigned char md[EVP_MAX_MD_SIZE];
			unsigned int len = 0;

			if (EVP_DigestFinal_ex(ctx[i], md, &len) != 1) {
				r = -EIO;
				break;
			}
			hex(md, len, outs[i]);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctx); i++)
		EVP_MD_CTX_free(ctx[i]);
	XXH3_freeState(xxh);
	return r;
}

/* The MD5, SHA-1 and SHA-512 row @id stores ("" for each it does not). */
static int stored_hashes(struct blobs *f, int64_t id, struct hashes *ret, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(f->s, "SELECT md5, sha1, sha512 FROM blobs WHERE id = ?", e);
	char *outs[3] = {ret->md5, ret->sha1, ret->sha512};
	size_t sizes[3] = {sizeof(ret->md5), sizeof(ret->sha1), sizeof(ret->sha512)};
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	*ret = (struct hashes){0};
	(void)sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	for (int i = 0; rc == SQLITE_ROW && i < 3; i++) {
		const char *v = (const char *)sqlite3_column_text(st, i);

		(void)snprintf(outs[i], sizes[i], "%s", v ? v : "");
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(f->s, rc, "read table 'blobs'", e);
	return 0;
}

static void corrupt(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void corrupt(struct row *r, const char *fmt, ...)
{
	va_list ap;

	r->state = ROW_CORRUPT;
	va_start(ap, fmt);
	(void)vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* Check row @r against its file; sets r->state. */
static int check_row(struct blobs *f, struct row *r, struct cafs_error *e)
{
	_cleanup_close_ int fd = -1;
	int64_t done0 = f->done;
	int64_t step = r->size;
	struct maint_file *mf;
	struct hashes want, got;
	struct stat st;
	char rel[64];
	int rr;

	maint_relpath(r->xxh128, r->seq, rel, sizeof(rel));
	mf = maint_find_file(f->files, f->n_files, r->xxh128, r->seq);
	if (mf)
		mf->claimed = true;
	fd = openat(f->s->dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		r->state = ROW_MISSING;
	else if (fd < 0)
		corrupt(r, "cannot open it: %s", strerror(errno));
	else if (fstat(fd, &st) < 0)
		corrupt(r, "cannot stat it: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		corrupt(r, "it is not a regular file");
	else if ((int64_t)st.st_size != r->size)
		corrupt(r, "%jd bytes on disk, %" PRId64 " in its row", (intmax_t)st.st_size,
			r->size);
	if (r->state == ROW_OK && f->o->verify_bytes) {
		rr = stored_hashes(f, r->id, &want, e);
		if (rr < 0)
			return rr;
		rr = hash_fd(f, fd, want.md5[0] || want.sha1[0] || want.sha512[0], true, &got);
		if (rr < 0)
			corrupt(r, "reading it failed: %s", strerror(-rr));
		else if (got.size != (uint64_t)r->size)
			corrupt(r, "%" PRIu64 " bytes read, %" PRId64 " in its row", got.size,
				r->size);
		else if (strcmp(got.sha256, r->sha256) != 0)
			corrupt(r, "its bytes have sha256 %s, its row says %s", got.sha256,
				r->sha256);
		else if (strcmp(got.xxh128, r->xxh128) != 0)
			corrupt(r, "its bytes have XXH3-128 %s, not its address", got.xxh128);
		else if (want.md5[0] && strcmp(got.md5, want.md5) != 0)
			corrupt(r, "its bytes have md5 %s, its row says %s", got.md5, want.md5);
		else if (want.sha1[0] && strcmp(got.sha1, want.sha1) != 0)
			corrupt(r, "its bytes have sha1 %s, its row says %s", got.sha1, want.sha1);
		else if (want.sha512[0] && strcmp(got.sha512, want.sha512) != 0)
			corrupt(r, "its bytes have sha512 %.32s..., its row says %.32s...",
				got.sha512, want.sha512);
	}
	if (r->state == ROW_CORRUPT && fd >= 0 && fstat(fd, &st) == 0) {
		r->dev = (uint64_t)st.st_dev;
		r->ino = (uint64_t)st.st_ino;
	}
	/* whatever was read, the bar moves by the blob's whole share */
	if (f->done - done0 < step)
		progress(f, step - (f->done - done0));
	if (r->state != ROW_OK) {
		rr = row_current(f, r, e);
		if (rr < 0)
			return rr;
		if (rr == 0)
			r->state = ROW_GONE; /* freed while we looked */
	}
	return 0;
}

/* The assets whose bytes (or core metadata) are blob @id, as "repo/format/[ns/]pkg/ver/asset". */
static int blob_assets(struct blobs *f, int64_t id, char ***ret, size_t *ret_n,
		       struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		f->s,
		"SELECT r.name, p.format, p.namespace, p.name, v.version, a.name, "
		"a.blob_id <> ?1 FROM assets a JOIN package_versions v ON v.id = a.version_id "
		"JOIN packages p ON p.id = v.package_id JOIN repositories r ON r.id = "
		"p.repository_id WHERE a.blob_id = ?1 OR a.metadata_blob_id = ?1 "
		"ORDER BY 1, 2, 3, 4, 5, 6 LIMIT 20",
		e);
	char **out = NULL;
	size_t n = 0;
	int rc;

	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < ASSETS_SHOWN) {
		const char *ns = (const char *)sqlite3_column_text(st, 2);
		char **nl = reallocarray(out, n + 1, sizeof(*out));

		if (!nl)
			break;
		out = nl;
		if (asprintf(&out[n], "%s/%s/%s%s%s/%s/%s%s", sqlite3_column_text(st, 0),
			     sqlite3_column_text(st, 1), ns ? ns : "", ns && *ns ? "/" : "",
			     sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
			     sqlite3_column_text(st, 5),
			     sqlite3_column_int(st, 6) ? ".metadata" : "") < 0)
			break;
		n++;
	}
	(void)sqlite3_reset(st);
	*ret = out;
	*ret_n = n;
	return 0;
}

/* fsync the folder of domain-relative path @rel. */
static void sync_parent(struct store *s, const char *rel)
{
	char dir[128];
	char *slash;
	int fd;

	(void)snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	fd = openat(s->dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		(void)close(fd);
	}
}

/*
 * Under the write lock: check that row @r is still there and that the file at its address is
 * still the one found (@want_missing: no file at all; else the corrupt file hashed), then move
 * a corrupt file to lost+found/ and put @r->twin (when set) in its place. *@ret_lost gets the
 * lost+found path ("" when nothing moved). 1 when the row has its right bytes now, 0 when not.
 */
static int repair_row(struct blobs *f, struct row *r, char *ret_lost, size_t lostsz,
		      struct cafs_error *e)
{
	struct store *s = f->s;
	char rel[64], twin[64], fan[16];
	struct stat st;
	int r2;

	ret_lost[0] = '\0';
	maint_relpath(r->xxh128, r->seq, rel, sizeof(rel));
	r2 = store_txn_begin(s, e);
	if (r2 < 0)
		return r2;
	r2 = row_current(f, r, e);
	if (r2 <= 0)
		goto out;
	if (fstatat(s->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (r->state == ROW_MISSING || (uint64_t)st.st_dev != r->dev ||
		    (uint64_t)st.st_ino != r->ino) {
			r2 = 0; /* someone put a file there meanwhile (an ingest repairs too) */
			goto out;
		}
		if (mkdirat(s->dir_fd, LOST_DIR, 0700) < 0 && errno != EEXIST) {
			r2 = cafs_error_set(e, CAFS_IO, errno, "create '%s/" LOST_DIR "': %s",
					    s->dir, strerror(errno));
			goto out;
		}
		(void)snprintf(ret_lost, lostsz, LOST_DIR "/%.2s%s.%" PRId64, r->xxh128,
			       rel + strlen(STORE_BLOBS_DIR "/xx/"), store_now_us() / 1000000);
		if (renameat2(s->dir_fd, rel, s->dir_fd, ret_lost, RENAME_NOREPLACE) < 0) {
			r2 = cafs_error_set(e, CAFS_IO, errno, "move '%s' to '%s': %s", rel,
					    ret_lost, strerror(errno));
			ret_lost[0] = '\0';
			goto out;
		}
		sync_parent(s, ret_lost);
	} else if (errno != ENOENT) {
		r2 = cafs_error_set(e, CAFS_IO, errno, "stat '%s/%s': %s", s->dir, rel,
				    strerror(errno));
		goto out;
	}
	r2 = 0;
	if (!r->twin)
		goto out;
	maint_relpath(r->twin->xxh128, r->twin->seq, twin, sizeof(twin));
	/* the twin must still be an orphan, and the very file that was hashed */
	r2 = maint_address_taken(s, r->twin->xxh128, r->twin->seq, e);
	if (r2 != 0) {
		r2 = r2 < 0 ? r2 : 0;
		goto out;
	}
	if (fstatat(s->dir_fd, twin, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (uint64_t)st.st_dev != r->twin->dev || (uint64_t)st.st_ino != r->twin->ino)
		goto out;
	(void)snprintf(fan, sizeof(fan), STORE_BLOBS_DIR "/%.2s", r->xxh128);
	if (mkdirat(s->dir_fd, fan, 0755) < 0 && errno != EEXIST) {
		r2 = cafs_error_set(e, CAFS_IO, errno, "create '%s/%s': %s", s->dir, fan,
				    strerror(errno));
		goto out;
	}
	if (renameat2(s->dir_fd, twin, s->dir_fd, rel, RENAME_NOREPLACE) < 0) {
		r2 = cafs_error_set(e, CAFS_IO, errno, "move '%s' to '%s': %s", twin, rel,
				    strerror(errno));
		goto out;
	}
	sync_parent(s, rel);
	sync_parent(s, twin);
	r2 = 1;
out:
	store_txn_rollback(s); /* nothing was written: only the lock was wanted */
	return r2;
}

/* Look for orphans holding the bytes of damaged rows (same size, then same SHA-256). */
static int find_twins(struct blobs *f, struct maint_file **orphans, size_t n_orphans)
{
	size_t wanted = 0;

	for (size_t i = 0; i < f->n_rows; i++)
		wanted += f->rows[i].state == ROW_MISSING || f->rows[i].state == ROW_CORRUPT;
	for (size_t j = 0; wanted && j < n_orphans; j++) {
		struct maint_file *o = orphans[j];
		_cleanup_close_ int fd = -1;
		bool sized = false;
		struct hashes h;
		char rel[64];

		for (size_t i = 0; i < f->n_rows && !sized; i++)
			sized = (f->rows[i].state == ROW_MISSING ||
				 f->rows[i].state == ROW_CORRUPT) &&
				!f->rows[i].twin && (uint64_t)f->rows[i].size == o->size;
		if (!sized)
			continue;
		maint_relpath(o->xxh128, o->seq, rel, sizeof(rel));
		fd = openat(f->s->dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0 || hash_fd(f, fd, false, false, &h) < 0 || h.size != o->size)
			continue;
		for (size_t i = 0; i < f->n_rows; i++) {
			struct row *r = &f->rows[i];

			if ((r->state == ROW_MISSING || r->state == ROW_CORRUPT) && !r->twin &&
			    strcmp(r->sha256, h.sha256) == 0 && strcmp(r->xxh128, h.xxh128) == 0) {
				r->twin = o;
				o->claimed = true;
				wanted--;
				break;
			}
		}
	}
	return 0;
}

/* Report (and repair) the damaged rows. */
static int settle_rows(struct blobs *f, struct cafs_error *e)
{
	for (size_t i = 0; i < f->n_rows; i++) {
		struct row *r = &f->rows[i];
		enum store_fsck_type type =
			r->state == ROW_MISSING ? STORE_FSCK_BLOB_MISSING : STORE_FSCK_BLOB_CORRUPT;
		char rel[64], lost[128] = "", twin[64] = "", what[512];
		char **assets = NULL;
		size_t n_assets = 0;
		int fixed = 0;
		int rr;

		if (r->state == ROW_OK || r->state == ROW_GONE)
			continue;
		maint_relpath(r->xxh128, r->seq, rel, sizeof(rel));
		if (r->twin)
			maint_relpath(r->twin->xxh128, r->twin->seq, twin, sizeof(twin));
		if (r->state == ROW_MISSING)
			(void)snprintf(what, sizeof(what),
				       "the blob's file is missing (sha256 %s, %" PRId64 " bytes)",
				       r->sha256, r->size);
		else
			(void)snprintf(what, sizeof(what), "the blob's file is corrupt: %s",
				       r->why);
		rr = blob_assets(f, r->id, &assets, &n_assets, e);
		if (rr < 0)
			return rr;
		if (f->o->repair && (r->twin || r->state == ROW_CORRUPT))
			fixed = repair_row(f, r, lost, sizeof(lost), e);
		if (fixed < 0)
			/* a failed repair is reported; the check goes on */
			fsck_report(f->fk, type, STORE_FSCK_PROBLEM, rel, r->id, NULL,
				    (const char *const *)assets, n_assets, "%s; repair failed: %s",
				    what, e->msg);
		else if (fixed)
			fsck_report(f->fk, type, STORE_FSCK_REPAIRED, rel, r->id, NULL,
				    (const char *const *)assets, n_assets,
				    "%s; put back from '%s', a file without a row with the same "
				    "bytes%s%s",
				    what, twin, lost[0] ? "; the corrupt file is kept as " : "",
				    lost);
		else if (lost[0])
			fsck_report(f->fk, type, STORE_FSCK_PROBLEM, rel, r->id, NULL,
				    (const char *const *)assets, n_assets,
				    "%s; moved to '%s' so that reads fail instead of serving wrong "
				    "bytes; "
				    "publishing or fetching the same bytes again puts them back",
				    what, lost);
		else if (r->state == ROW_MISSING)
			fsck_report(
				f->fk, type, STORE_FSCK_PROBLEM, rel, r->id, NULL,
				(const char *const *)assets, n_assets, "%s; %s", what,
				r->twin ? "--repair puts back the file without a row that has its "
					  "bytes"
					: "publishing or fetching the same bytes again puts it "
					  "back");
		else
			fsck_report(f->fk, type, STORE_FSCK_PROBLEM, rel, r->id, NULL,
				    (const char *const *)assets, n_assets, "%s%s", what,
				    f->o->repair ? ""
				    : r->twin    ? "; --repair puts back the file without a "
						   "row that has its bytes"
						 : "; --repair moves it to " LOST_DIR "/");
		for (size_t k = 0; k < n_assets; k++)
			free(assets[k]);
		free(assets);
	}
	return 0;
}

static void stray_cb(void *ctx, const char *rel, const char *why)
{
	struct blobs *f = ctx;

	fsck_report(f->fk, STORE_FSCK_STRAY, STORE_FSCK_NOTE, rel, 0, NULL, NULL, 0,
		    "%s: left alone", why);
}

static int check_blobs(struct blobs *f, struct cafs_error *e)
{
	_cleanup_free_ struct maint_file **orphans = NULL;
	int64_t grace_us = maint_grace_us(f->o->grace_s);
	int64_t now = store_now_us();
	size_t n_orphans = 0;
	int r;

	r = load_rows(f, e);
	if (r == 0)
		r = maint_list_files(f->s, &f->files, &f->n_files, stray_cb, f, e);
	if (r < 0)
		return r;
	f->sum->files = (int64_t)f->n_files;
	f->total = 0;
	for (size_t i = 0; i < f->n_rows; i++)
		f->total += f->rows[i].size;
	for (size_t i = 0; i < f->n_rows; i++) {
		r = check_row(f, &f->rows[i], e);
		if (r < 0)
			return r;
	}

	/* files no row owns; a row committed since the snapshot owns its file after all */
	for (size_t i = 0; i < f->n_files; i++) {
		struct maint_file *mf = &f->files[i];
		struct maint_file **no;

		if (mf->claimed)
			continue;
		r = maint_address_taken(f->s, mf->xxh128, mf->seq, e);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		no = reallocarray(orphans, n_orphans + 1, sizeof(*no));
		if (!no)
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		orphans = no;
		orphans[n_orphans++] = mf;
	}
	r = find_twins(f, orphans, n_orphans);
	if (r == 0)
		r = settle_rows(f, e);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n_orphans; i++) {
		struct maint_file *o = orphans[i];
		int64_t age_s = (now - o->changed_us) / 1000000;
		char rel[64];

		maint_relpath(o->xxh128, o->seq, rel, sizeof(rel));
		if (o->claimed) {
			/* the twin of a damaged blob: never removed while it may be needed */
			struct stat st;

			if (fstatat(f->s->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* a repair moved it into place */
			fsck_report(f->fk, STORE_FSCK_ORPHAN, STORE_FSCK_PROBLEM, rel, 0, NULL,
				    NULL, 0,
				    "file without a row, %" PRIu64 " bytes, holding the bytes of a "
				    "damaged blob: kept",
				    o->size);
			continue;
		}
		if (now - o->changed_us < grace_us) {
			fsck_report(
				f->fk, STORE_FSCK_ORPHAN, STORE_FSCK_NOTE, rel, 0, NULL, NULL, 0,
				"file without a row, %" PRIu64 " bytes, %" PRId64
				" s old: within the grace period (perhaps a publish in progress)",
				o->size, age_s);
			continue;
		}
		if (!f->o->repair) {
			fsck_report(f->fk, STORE_FSCK_ORPHAN, STORE_FSCK_PROBLEM, rel, 0, NULL,
				    NULL, 0,
				    "file without a row, %" PRIu64 " bytes, %" PRId64
				    " s old: --repair removes it",
				    o->size, age_s);
			continue;
		}
		r = maint_remove_orphan(f->s, o, e);
		if (r < 0)
			return r;
		/* 0: a row owns it by now, or it is gone: no orphan any more */
		if (r > 0)
			fsck_report(f->fk, STORE_FSCK_ORPHAN, STORE_FSCK_REPAIRED, rel, 0, NULL,
				    NULL, 0,
				    "file without a row, %" PRIu64 " bytes, %" PRId64
				    " s old: removed",
				    o->size, age_s);
	}
	return 0;
}

int fsck_check_blobs(struct fsck *fk, struct cafs_error *e)
{
	struct blobs f = {.fk = fk, .s = fk->s, .o = fk->o, .sum = fk->sum};
	int r;

	f.buf = malloc(CHUNK);
	if (!f.buf)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	r = check_blobs(&f, e);
	free(f.buf);
	free(f.rows);
	free(f.files);
	return r;
}
