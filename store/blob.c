/* SPDX-License-Identifier: MIT */
/*
 * The content-addressed blob store of a domain (DESIGN.md §6, store/blob.h).
 *
 * Each ingest streams the bytes once: every chunk goes through XXH3-128 (the address) and
 * SHA-256 (the identity) and is written to a temp file, which is an O_TMPFILE in blobs/ or,
 * where the file system has no O_TMPFILE, a named file in tmp/ held with flock(LOCK_EX) for its
 * whole life so that store_blob_sweep() in another process never takes it for a crash leftover.
 * Once the SHA-256 is known, a row with that SHA-256 is a dedup hit and the temp file is
 * dropped unsynced. Otherwise the temp file is fsync'ed and linked with no-replace to
 * blobs/<2 hex>/<30 hex>[.<seq>]; the fan-out folder is fsync'ed and only then the row is
 * inserted. Invariants this relies on:
 *  - a file at a final address is complete and never changes (it is linked only after a full
 *    write and fsync, mode 0444), so an existing file can be hashed to learn what it holds;
 *  - an address owned by a row (xxh128, seq) is never reused for other bytes, even if the row's
 *    file went missing;
 *  - the rows are the truth: processes racing on one address agree through the link (exactly
 *    one wins a name) and INSERT ... ON CONFLICT(sha256) DO NOTHING.
 * The return value 1 ("dedup hit") means the content already had a row; 0 means this call
 * inserted it (new bytes on disk, or an orphan file from a crash that held the same bytes).
 *
 * Workload: package files from a few bytes to gigabytes. Ingest is bound by SHA-256, the copy
 * into the page cache and the disk, so it moves 1 MiB chunks, hashes each chunk while it is
 * still in cache, and starts the writeback of every 8 MiB as it goes.
 */
#include "store/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/internal.h"

#define CHUNK            (1024 * 1024)
#define WRITEBACK_WINDOW (8 * CHUNK)
#define SEQ_MAX          1000000 /* collision slots tried before giving up; never reached */
#define TMP_TRIES        100
#define HEX_LOWER        "0123456789abcdef"
#define REL_MAX          64 /* "blobs/" + 2 + "/" + 30 + "." + an int + NUL, see store/blob.h */

/* One ingest in progress. */
struct ingest {
	struct store *s;
	int fd;           /* the temp file, -1 before it is open */
	char name[64];    /* its name in tmp/, "" for an O_TMPFILE */
	bool adopt;       /* fd is the caller's file, hashed in place and linked as it is */
	bool link_failed; /* adopt: the caller's file could not be linked (no O_TMPFILE) */
	XXH3_state_t *xxh;
	EVP_MD_CTX *sha256;
	uint64_t size;         /* bytes written so far */
	uint64_t written_back; /* bytes whose writeback was started */
	char xxh128[33];
	char sha256_hex[65];
};

static void hex_encode(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Whether @p is exactly @n hex digits (lower-case only unless @upper_ok). */
static bool is_hex(const char *p, size_t n, bool upper_ok)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (upper_ok && c >= 'A' && c <= 'F')))
			return false;
	}
	return p[n] == '\0';
}

/* Fill @e for syscall @op failing with @err on <domain>/@rel. Returns the negative errno. */
static int sys_error(struct cafs_error *e, int err, const char *op, const struct store *s,
		     const char *rel)
{
	return cafs_error_set(e, CAFS_IO, err, "%s '%s/%s': %s", op, s->dir, rel, strerror(err));
}

/* The leaf name of an address inside its fan-out folder. */
static void leaf_name(const char *xxh128, int seq, char *buf, size_t bufsz)
{
	if (seq > 0)
		(void)snprintf(buf, bufsz, "%.30s.%d", xxh128 + 2, seq);
	else
		(void)snprintf(buf, bufsz, "%.30s", xxh128 + 2);
}

void store_blob_relpath(const struct store_blob *b, char *buf, size_t bufsz)
{
	char leaf[48];

	leaf_name(b->xxh128, b->seq, leaf, sizeof(leaf));
	(void)snprintf(buf, bufsz, STORE_BLOBS_DIR "/%.2s/%s", b->xxh128, leaf);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static EVP_MD_CTX *digest_new(const EVP_MD *md)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx && EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int digest_hex(EVP_MD_CTX *ctx, char *out, size_t outsz, struct cafs_error *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || 2 * (size_t)n + 1 > outsz)
		return cafs_error_set(e, CAFS_INTERNAL, 0, "finish digest: libcrypto failed");
	hex_encode(md, n, out);
	return 0;
}

/*
 * Feed everything readable from @fd to the @n digests. @rel names the file (relative to the
 * domain folder) in messages.
 */
static int digest_fd(const struct store *s, int fd, EVP_MD_CTX *const *ctx, size_t n,
		     uint64_t *ret_size, const char *rel, struct cafs_error *e)
{
	_cleanup_free_ unsigned char *buf = malloc(CHUNK);
	uint64_t size = 0;

	if (!buf)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	for (;;) {
		ssize_t got = read_some(fd, buf, CHUNK);

		if (got < 0)
			return sys_error(e, (int)-got, "read", s, rel);
		if (got == 0)
			break;
		for (size_t i = 0; i < n; i++)
			if (EVP_DigestUpdate(ctx[i], buf, (size_t)got) != 1)
				return cafs_error_set(e, CAFS_INTERNAL, 0,
						      "hash '%s': libcrypto failed", rel);
		size += (uint64_t)got;
	}
	*ret_size = size;
	return 0;
}

/* The SHA-256 of the file at @rel (relative to the domain folder). */
static int file_sha256(struct store *s, const char *rel, char out[65], struct cafs_error *e)
{
	_cleanup_close_ int fd = openat(s->dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint64_t size;
	EVP_MD_CTX *ctx;
	int r;

	if (fd < 0)
		return sys_error(e, errno, "open", s, rel);
	ctx = digest_new(EVP_sha256());
	if (!ctx)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "start sha256: libcrypto failed");
	r = digest_fd(s, fd, &ctx, 1, &size, rel, e);
	if (r == 0)
		r = digest_hex(ctx, out, 65, e);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Read the current row of @st (id, xxh128, seq, size, sha256) into @ret. */
static int blob_from_row(struct store *s, sqlite3_stmt *st, struct store_blob *ret,
			 struct cafs_error *e)
{
	const char *xxh = (const char *)sqlite3_column_text(st, 1);
	const char *sha = (const char *)sqlite3_column_text(st, 4);
	int64_t id = sqlite3_column_int64(st, 0);
	int seq = sqlite3_column_int(st, 2);
	int64_t size = sqlite3_column_int64(st, 3);

	/* the address becomes a path: never trust it blindly */
	if (!xxh || !is_hex(xxh, 32, false) || !sha || !is_hex(sha, 64, false) || seq < 0 ||
	    size < 0)
		return cafs_error_set(e, CAFS_INTERNAL, EUCLEAN,
				      "corrupt row %" PRId64 " in table 'blobs' of domain '%s'", id,
				      s->name);
	ret->id = id;
	ret->size = (uint64_t)size;
	memcpy(ret->xxh128, xxh, sizeof(ret->xxh128));
	ret->seq = seq;
	memcpy(ret->sha256, sha, sizeof(ret->sha256));
	return 0;
}

/* Step @st (a SELECT of one blob row): 1 and *@ret when found, 0 when not. Resets @st. */
static int step_blob(struct store *s, sqlite3_stmt *st, struct store_blob *ret,
		     struct cafs_error *e)
{
	int rc = sqlite3_step(st);
	int r;

	if (rc == SQLITE_ROW)
		r = blob_from_row(s, st, ret, e);
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = store_sql_error(s, rc, "read table 'blobs'", e);
	(void)sqlite3_reset(st); /* ends the implicit read transaction */
	return r < 0 ? r : rc == SQLITE_ROW;
}

static int find_sha256(struct store *s, const char *sha256, struct store_blob *ret,
		       struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s, "SELECT id, xxh128, seq, size, sha256 FROM blobs WHERE sha256 = ?", e);

	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	return step_blob(s, st, ret, e);
}

static int find_address(struct store *s, const char *xxh128, int seq, struct store_blob *ret,
			struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s, "SELECT id, xxh128, seq, size, sha256 FROM blobs WHERE xxh128 = ? AND seq = ?",
		e);

	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_text(st, 1, xxh128, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(st, 2, seq);
	return step_blob(s, st, ret, e);
}

int store_blob_get(struct store *s, int64_t id, struct store_blob *ret, struct cafs_error *e)
{
	struct cafs_error tmp;
	sqlite3_stmt *st;
	int r;

	if (!e)
		e = &tmp;
	st = store_stmt(s, "SELECT id, xxh128, seq, size, sha256 FROM blobs WHERE id = ?", e);
	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_int64(st, 1, id);
	r = step_blob(s, st, ret, e);
	if (r == 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no blob %" PRId64 " in domain '%s'",
				      id, s->name);
	return r < 0 ? r : 0;
}

int store_blob_find_sha256(struct store *s, const char *sha256, struct store_blob *ret,
			   struct cafs_error *e)
{
	struct cafs_error tmp;
	char lower[65];
	int r;

	if (!e)
		e = &tmp;
	if (!is_hex(sha256, 64, true))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "invalid sha256 '%.80s'", sha256);
	for (size_t i = 0; i < sizeof(lower); i++) {
		char c = sha256[i];

		lower[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
	}
	r = find_sha256(s, lower, ret, e);
	if (r == 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "no blob with sha256 '%s' in domain '%s'", lower, s->name);
	return r < 0 ? r : 0;
}

/* Open the fan-out folder of @xxh128 for linking and fsync, creating it on demand. */
static int fanout_open(struct store *s, const char *xxh128, struct cafs_error *e)
{
	char dir[sizeof(STORE_BLOBS_DIR) + 3];
	int fd;

	(void)snprintf(dir, sizeof(dir), STORE_BLOBS_DIR "/%.2s", xxh128);
	fd = openat(s->dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		_cleanup_close_ int pfd = -1;

		if (mkdirat(s->dir_fd, dir, 0755) < 0 && errno != EEXIST)
			return sys_error(e, errno, "create folder", s, dir);
		/* the new folder's entry must be durable before a blob in it is */
		pfd = openat(s->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0 || fsync(pfd) < 0)
			return sys_error(e, errno, "fsync", s, STORE_BLOBS_DIR);
		fd = openat(s->dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return sys_error(e, errno, "open folder", s, dir);
	return fd;
}

/*
 * A named temp file in tmp/, locked for its whole life. store_blob_sweep() in another process
 * may open and lock a fresh file between our open() and our flock(), and unlink it: a file
 * found unlinked once we hold the lock is dropped and another name is tried.
 */
static int tmp_open_named(struct ingest *in, struct cafs_error *e)
{
	struct store *s = in->s;
	char rel[sizeof(STORE_TMP_DIR) + sizeof(in->name)];

	for (int i = 0; i < TMP_TRIES; i++) {
		struct stat st;
		uint64_t rnd;
		int fd;

		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (uint64_t)store_now_us() * 0x9e3779b97f4a7c15ull + (uint64_t)i;
		(void)snprintf(in->name, sizeof(in->name), "ingest.%ld.%016" PRIx64, (long)getpid(),
			       rnd);
		(void)snprintf(rel, sizeof(rel), STORE_TMP_DIR "/%s", in->name);
		fd = openat(s->tmp_fd, in->name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW,
			    0444);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0) {
			in->name[0] = '\0';
			return sys_error(e, errno, "create temp file", s, rel);
		}
		if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
			int r = sys_error(e, errno, "lock temp file", s, rel);

			(void)unlinkat(s->tmp_fd, in->name, 0);
			(void)close(fd);
			in->name[0] = '\0';
			return r;
		}
		if (st.st_nlink == 0) {
			(void)close(fd); /* swept under our feet */
			continue;
		}
		in->fd = fd;
		return 0;
	}
	in->name[0] = '\0';
	return sys_error(e, EEXIST, "find a free temp file name in", s, STORE_TMP_DIR);
}

static void ingest_done(struct ingest *in)
{
	if (in->fd >= 0) {
		/* unlink while the lock is still held, so that no sweeper races us */
		if (in->name[0])
			(void)unlinkat(in->s->tmp_fd, in->name, 0);
		(void)close(in->fd);
	}
	in->fd = -1;
	in->name[0] = '\0';
	XXH3_freeState(in->xxh);
	in->xxh = NULL;
	EVP_MD_CTX_free(in->sha256);
	in->sha256 = NULL;
}

/*
 * Start an ingest into a new temp file, or with @adopt_fd >= 0 one that hashes that file in
 * place and may link it (store_blob_adopt_fd()); ingest_done() is due whatever this returns.
 */
static int ingest_init(struct ingest *in, struct store *s, int adopt_fd, struct cafs_error *e)
{
	*in = (struct ingest){.s = s, .fd = -1, .adopt = adopt_fd >= 0};
	in->xxh = XXH3_createState();
	in->sha256 = digest_new(EVP_sha256());
	if (!in->xxh || !in->sha256 || XXH3_128bits_reset(in->xxh) != XXH_OK)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "start hashes: out of memory");
	if (in->adopt) {
		in->fd = fcntl(adopt_fd, F_DUPFD_CLOEXEC, 0);
		return in->fd < 0 ? cafs_error_set(e, CAFS_IO, errno, "dup: %s", strerror(errno))
				  : 0;
	}
	if (!s->no_tmpfile) {
		in->fd = openat(s->blobs_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
		if (in->fd >= 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return sys_error(e, errno, "create temp file in", s, STORE_BLOBS_DIR);
		s->no_tmpfile = true; /* the file system has no O_TMPFILE (some FUSE, old NFS) */
	}
	return tmp_open_named(in, e);
}

static int ingest_write(struct ingest *in, const void *buf, size_t len, struct cafs_error *e)
{
	int r;

	if (len > STORE_BLOB_SIZE_MAX - in->size)
		return cafs_error_set(e, CAFS_QUOTA_EXCEEDED, EFBIG,
				      "asset is larger than the %llu-byte quota",
				      STORE_BLOB_SIZE_MAX);
	if (XXH3_128bits_update(in->xxh, buf, len) != XXH_OK ||
	    EVP_DigestUpdate(in->sha256, buf, len) != 1)
		return cafs_error_set(e, CAFS_INTERNAL, 0, "hash asset: hash library failed");
	r = in->adopt ? 0 : write_all(in->fd, buf, len);
	if (r < 0)
		return sys_error(e, -r, "write temp file in", in->s,
				 in->name[0] ? STORE_TMP_DIR : STORE_BLOBS_DIR);
	in->size += len;
	/*
	 * Start writeback of each finished window now (git's core.fsyncMethod=batch does the
	 * same), so that the disk works while we hash and the final fsync has little left: 25%
	 * faster on a 1 GiB ingest here. A dedup hit pays the wasted writes.
	 */
	if (in->size - in->written_back >= WRITEBACK_WINDOW) {
		(void)sync_file_range(in->fd, (off_t)in->written_back,
				      (off_t)(in->size - in->written_back), SYNC_FILE_RANGE_WRITE);
		in->written_back = in->size;
	}
	return 0;
}

/* The caller's file cannot be linked (a named temp file, another file system): copy it. */
static int adopt_failed(struct ingest *in, int err)
{
	in->link_failed = true;
	return -err;
}

/* Link the temp file to @leaf in the fan-out folder @dfd, never replacing a file. */
static int ingest_link(struct ingest *in, int dfd, const char *leaf)
{
	char proc[64];

	if (in->name[0])
		return linkat(in->s->tmp_fd, in->name, dfd, leaf, 0) < 0 ? -errno : 0;
	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", in->fd);
	if (linkat(AT_FDCWD, proc, dfd, leaf, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return in->adopt && errno != EEXIST ? adopt_failed(in, errno) : -errno;
	/* no /proc mounted: AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, so it may fail too */
	if (linkat(in->fd, "", dfd, leaf, AT_EMPTY_PATH) == 0)
		return 0;
	if (in->adopt)
		return errno == EEXIST ? -EEXIST : adopt_failed(in, errno); /* not an O_TMPFILE */
	in->s->no_tmpfile = true; /* later ingests use named temp files instead */
	return -errno;
}

/*
 * Find the address for the hashed, fsync'ed temp file and put it there. Returns 1 with *@ret
 * when the content turned out to have a row already, 0 when the file is in place (linked by us,
 * or an orphan with the same bytes) and *@ret_seq is its slot.
 */
static int ingest_place(struct ingest *in, int dfd, int *ret_seq, struct store_blob *ret,
			struct cafs_error *e)
{
	struct store *s = in->s;

	for (int seq = 0; seq < SEQ_MAX; seq++) {
		struct store_blob row;
		char rel[REL_MAX];
		char leaf[48];
		char other[65];
		int r;

		/* an address a row owns is never reused, even if its file went missing */
		r = find_address(s, in->xxh128, seq, &row, e);
		if (r < 0)
			return r;
		if (r > 0 && strcmp(row.sha256, in->sha256_hex) == 0) {
			*ret = row; /* committed by a concurrent ingest since our lookup */
			return 1;
		}
		if (r > 0)
			continue;
		leaf_name(in->xxh128, seq, leaf, sizeof(leaf));
		r = ingest_link(in, dfd, leaf);
		if (r == 0) {
			*ret_seq = seq;
			return 0;
		}
		(void)snprintf(rel, sizeof(rel), STORE_BLOBS_DIR "/%.2s/%s", in->xxh128, leaf);
		if (r != -EEXIST)
			return sys_error(e, -r, "link blob", s, rel);
		/*
		 * A file without a row: a crash orphan, or a concurrent ingest that has not
		 * committed yet. Either way it is complete (linked only after fsync), so its
		 * bytes decide.
		 */
		r = file_sha256(s, rel, other, e);
		if (r < 0)
			return r;
		if (strcmp(other, in->sha256_hex) == 0) {
			*ret_seq = seq;
			return 0;
		}
	}
	return cafs_error_set(e, CAFS_INTERNAL, EOVERFLOW, "no free collision slot for blob '%s'",
			      in->xxh128);
}

/* Insert the row for the file now at (xxh128, seq), or find the one a concurrent ingest made. */
static int ingest_insert(struct ingest *in, int seq, struct store_blob *ret, struct cafs_error *e)
{
	struct store *s = in->s;
	sqlite3_stmt *st;
	int changes;
	int rc;
	int r;

	st = store_stmt(s,
			"INSERT INTO blobs (xxh128, seq, size, sha256, created_us) "
			"VALUES (?, ?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING",
			e);
	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_text(st, 1, in->xxh128, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(st, 2, seq);
	(void)sqlite3_bind_int64(st, 3, (int64_t)in->size);
	(void)sqlite3_bind_text(st, 4, in->sha256_hex, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(st, 5, store_now_us());
	rc = sqlite3_step(st);
	changes = sqlite3_changes(s->db);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "insert into table 'blobs'", e);
	r = find_sha256(s, in->sha256_hex, ret, e);
	if (r < 0)
		return r;
	if (r == 0)
		return cafs_error_set(e, CAFS_INTERNAL, 0, "blob '%s' vanished after insert",
				      in->sha256_hex);
	return changes > 0 ? 0 : 1;
}

/* Put the bytes back at the address of @row, whose file went missing (fsck reports it). */
static int ingest_repair(struct ingest *in, const struct store_blob *row, struct cafs_error *e)
{
	struct store *s = in->s;
	_cleanup_close_ int dfd = -1;
	char rel[REL_MAX];
	char leaf[48];
	int r;

	store_blob_relpath(row, rel, sizeof(rel));
	if (in->adopt && fchmod(in->fd, 0444) < 0)
		return sys_error(e, errno, "make read-only the file for", s, rel);
	if (fsync(in->fd) < 0)
		return sys_error(e, errno, "fsync temp file for", s, rel);
	dfd = fanout_open(s, row->xxh128, e);
	if (dfd < 0)
		return dfd;
	leaf_name(row->xxh128, row->seq, leaf, sizeof(leaf));
	r = ingest_link(in, dfd, leaf);
	if (r < 0 && r != -EEXIST)
		return sys_error(e, -r, "link blob", s, rel);
	if (fsync(dfd) < 0)
		return sys_error(e, errno, "fsync folder of", s, rel);
	return 0;
}

static int ingest_finish(struct ingest *in, const char *expect_sha256, struct store_blob *ret,
			 struct cafs_error *e)
{
	struct store *s = in->s;
	XXH128_hash_t h = XXH3_128bits_digest(in->xxh);
	_cleanup_close_ int dfd = -1;
	struct store_blob row;
	char rel[REL_MAX];
	struct stat st;
	int seq = 0;
	int r;

	(void)snprintf(in->xxh128, sizeof(in->xxh128), "%016" PRIx64 "%016" PRIx64,
		       (uint64_t)h.high64, (uint64_t)h.low64);
	if (s->test_force_xxh128) {
		if (!is_hex(s->test_force_xxh128, 32, false))
			return cafs_error_set(e, CAFS_INTERNAL, EINVAL,
					      "test_force_xxh128 '%.40s' is not 32 hex digits",
					      s->test_force_xxh128);
		memcpy(in->xxh128, s->test_force_xxh128, sizeof(in->xxh128));
	}
	r = digest_hex(in->sha256, in->sha256_hex, sizeof(in->sha256_hex), e);
	if (r < 0)
		return r;
	if (expect_sha256 && strcasecmp(expect_sha256, in->sha256_hex) != 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "asset content has sha256 '%s', expected '%s'",
				      in->sha256_hex, expect_sha256);

	/* known content (a re-published or re-fetched asset): no fsync, no link */
	r = find_sha256(s, in->sha256_hex, &row, e);
	if (r < 0)
		return r;
	if (r > 0) {
		store_blob_relpath(&row, rel, sizeof(rel));
		if (fstatat(s->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return sys_error(e, errno, "stat", s, rel);
			r = ingest_repair(in, &row, e);
			if (r < 0)
				return r;
		}
		*ret = row;
		return 1;
	}

	(void)snprintf(rel, sizeof(rel), STORE_BLOBS_DIR "/%.2s/%.30s", in->xxh128, in->xxh128 + 2);
	if (in->adopt && fchmod(in->fd, 0444) < 0)
		return sys_error(e, errno, "make read-only the file for", s, rel);
	if (fsync(in->fd) < 0)
		return sys_error(e, errno, "fsync temp file for", s, rel);
	dfd = fanout_open(s, in->xxh128, e);
	if (dfd < 0)
		return dfd;
	r = ingest_place(in, dfd, &seq, ret, e);
	if (r != 0)
		return r;
	/* the link (ours, or a concurrent ingester's that may not be synced yet) is durable */
	if (fsync(dfd) < 0)
		return sys_error(e, errno, "fsync folder of", s, rel);
	r = ingest_insert(in, seq, ret, e);
	if (r != 0)
		return r;
	/*
	 * The file at the address may have been removed since it was linked or hashed: an orphan
	 * (a crash's leftover with these very bytes, reused above) is fair game for gc, fsck
	 * --repair and store_blob_unlink() until a row owns its address. They remove only under
	 * the write lock and only while no row holds the address, so with our row in, a file
	 * that is there now stays; one that is gone is put back from our temp file.
	 */
	store_blob_relpath(ret, rel, sizeof(rel));
	if (fstatat(s->dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return sys_error(e, errno, "stat", s, rel);
	r = ingest_repair(in, ret, e);
	return r < 0 ? r : 0;
}

/* A malformed expected digest is refused before any byte is read. */
static int check_expect(const char *expect_sha256, struct cafs_error *e)
{
	if (expect_sha256 && !is_hex(expect_sha256, 64, true))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "invalid sha256 '%.80s'",
				      expect_sha256);
	return 0;
}

/*
 * Is @fd open on one of this domain's own blobs? (cp inside the mount hands over the blob it
 * read from, so that a copy publishes by reference.) The path /proc gives for @fd is only a
 * hint to the address; the proof is that the file at that address in this domain is the very
 * inode @fd is open on, with the row's size, and blob files never change once linked. Returns 1
 * with *@ret filled, 0 when @fd is not one of ours (or nothing tells), or a negative errno.
 */
static int own_blob(struct store *s, int fd, const struct stat *fst, struct store_blob *ret,
		    struct cafs_error *e)
{
	char link[PATH_MAX], proc[32], xxh128[33], rel[REL_MAX];
	const char *leaf, *p;
	struct store_blob row;
	struct stat bst;
	ssize_t n;
	int seq = 0;
	int r;

	if (!S_ISREG(fst->st_mode))
		return 0;
	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	/* ".../blobs/<2 hex>/<30 hex>[.<seq>]" */
	leaf = strrchr(link, '/');
	if (!leaf || leaf - link < 3 + (ptrdiff_t)strlen("/" STORE_BLOBS_DIR) || leaf[-3] != '/' ||
	    strncmp(leaf - 3 - strlen("/" STORE_BLOBS_DIR), "/" STORE_BLOBS_DIR,
		    strlen("/" STORE_BLOBS_DIR)) != 0)
		return 0;
	leaf++;
	if (strspn(leaf - 3, HEX_LOWER) != 2 || strspn(leaf, HEX_LOWER) != 30)
		return 0;
	p = leaf + 30;
	if (*p == '.') {
		char *end;
		long v;

		errno = 0;
		v = strtol(p + 1, &end, 10);
		if (errno || *end || end == p + 1 || v < 1 || v > SEQ_MAX)
			return 0;
		seq = (int)v;
	} else if (*p) {
		return 0;
	}
	memcpy(xxh128, leaf - 3, 2);
	memcpy(xxh128 + 2, leaf, 30);
	xxh128[32] = '\0';
	r = find_address(s, xxh128, seq, &row, e);
	if (r <= 0)
		return r;
	store_blob_relpath(&row, rel, sizeof(rel));
	if (fstatat(s->dir_fd, rel, &bst, AT_SYMLINK_NOFOLLOW) < 0 || bst.st_dev != fst->st_dev ||
	    bst.st_ino != fst->st_ino || (uint64_t)fst->st_size != row.size)
		return 0;
	*ret = row;
	return 1;
}

/*
 * store_blob_ingest_fd(), and with @adopt store_blob_adopt_fd(). Returns -ENOTSUP (nothing
 * set in @e) when @adopt and the file could not be linked: the caller copies it instead.
 */
static int ingest_fd(struct store *s, int fd, const char *expect_sha256, bool adopt,
		     struct store_blob *ret, struct cafs_error *e)
{
	_cleanup_free_ unsigned char *buf = NULL;
	struct ingest in;
	struct stat st;
	int r;

	r = check_expect(expect_sha256, e);
	if (r < 0)
		return r;
	if (fstat(fd, &st) == 0) {
		/* refuse a known-too-big regular file before copying gigabytes */
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > STORE_BLOB_SIZE_MAX)
			return cafs_error_set(
				e, CAFS_QUOTA_EXCEEDED, EFBIG,
				"asset of %jd bytes is larger than the %llu-byte quota",
				(intmax_t)st.st_size, STORE_BLOB_SIZE_MAX);
		/* one of our own blobs: a dedup hit without reading a byte */
		r = own_blob(s, fd, &st, ret, e);
		if (r < 0)
			return r;
		if (r > 0 && (!expect_sha256 || strcasecmp(expect_sha256, ret->sha256) == 0))
			return 1;
	} else if (adopt) {
		return -ENOTSUP;
	}
	if (adopt && (!S_ISREG(st.st_mode) || st.st_nlink != 0))
		return -ENOTSUP; /* only a file nobody else can name becomes a blob */
	if (adopt) {
		struct stat dir;

		/* a file that cannot be linked there is copied, without being hashed twice */
		if (s->no_tmpfile || fstat(s->blobs_fd, &dir) < 0 || dir.st_dev != st.st_dev)
			return -ENOTSUP;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	buf = malloc(CHUNK);
	if (!buf)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	r = ingest_init(&in, s, adopt ? fd : -1, e);
	while (r == 0) {
		ssize_t n = read_some(fd, buf, CHUNK);

		if (n == 0)
			break;
		if (n < 0)
			r = cafs_error_set(e, CAFS_IO, (int)-n, "read asset content: %s",
					   strerror((int)-n));
		else
			r = ingest_write(&in, buf, (size_t)n, e);
	}
	if (r == 0)
		r = ingest_finish(&in, expect_sha256, ret, e);
	if (r < 0 && in.link_failed)
		r = -ENOTSUP;
	ingest_done(&in);
	return r;
}

int store_blob_ingest_fd(struct store *s, int fd, const char *expect_sha256, struct store_blob *ret,
			 struct cafs_error *e)
{
	struct cafs_error tmp;

	return ingest_fd(s, fd, expect_sha256, false, ret, e ? e : &tmp);
}

int store_blob_adopt_fd(struct store *s, int fd, const char *expect_sha256, struct store_blob *ret,
			struct cafs_error *e)
{
	struct cafs_error tmp, first;
	int r;

	if (!e)
		e = &tmp;
	/* the whole file is hashed and linked, wherever its offset was */
	if (lseek(fd, 0, SEEK_SET) < 0)
		return cafs_error_set(e, CAFS_IO, errno, "seek: %s", strerror(errno));
	r = ingest_fd(s, fd, expect_sha256, true, ret, &first);
	if (r != -ENOTSUP) {
		if (r < 0)
			*e = first;
		return r;
	}
	/* a failed link filled @first; the copy's outcome is the answer */
	if (lseek(fd, 0, SEEK_SET) < 0)
		return cafs_error_set(e, CAFS_IO, errno, "seek: %s", strerror(errno));
	return ingest_fd(s, fd, expect_sha256, false, ret, e);
}

int store_blob_ingest_mem(struct store *s, const void *buf, size_t len, const char *expect_sha256,
			  struct store_blob *ret, struct cafs_error *e)
{
	const unsigned char *p = buf;
	struct cafs_error tmp;
	struct ingest in;
	int r;

	if (!e)
		e = &tmp;
	r = check_expect(expect_sha256, e);
	if (r < 0)
		return r;
	if (len > STORE_BLOB_SIZE_MAX)
		return cafs_error_set(e, CAFS_QUOTA_EXCEEDED, EFBIG,
				      "asset of %zu bytes is larger than the %llu-byte quota", len,
				      STORE_BLOB_SIZE_MAX);
	r = ingest_init(&in, s, -1, e);
	/* chunked, so that each piece is hashed and copied while it is in cache */
	for (size_t off = 0; r == 0 && off < len; off += CHUNK)
		r = ingest_write(&in, p + off, len - off < CHUNK ? len - off : CHUNK, e);
	if (r == 0)
		r = ingest_finish(&in, expect_sha256, ret, e);
	ingest_done(&in);
	return r;
}

struct store_blob_writer {
	struct ingest in;
};

int store_blob_writer_open(struct store *s, struct store_blob_writer **ret, struct cafs_error *e)
{
	struct store_blob_writer *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	r = ingest_init(&w->in, s, -1, e);
	if (r < 0) {
		ingest_done(&w->in);
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

int store_blob_writer_write(struct store_blob_writer *w, const void *buf, size_t len,
			    struct cafs_error *e)
{
	const unsigned char *p = buf;
	int r = 0;

	for (size_t off = 0; r == 0 && off < len; off += CHUNK)
		r = ingest_write(&w->in, p + off, len - off < CHUNK ? len - off : CHUNK, e);
	return r;
}

uint64_t store_blob_writer_size(const struct store_blob_writer *w)
{
	return w->in.size;
}

int store_blob_writer_commit(struct store_blob_writer *w, const char *expect_sha256,
			     struct store_blob *ret, struct cafs_error *e)
{
	int r = check_expect(expect_sha256, e);

	if (r == 0)
		r = ingest_finish(&w->in, expect_sha256, ret, e);
	store_blob_writer_abort(w);
	return r;
}

void store_blob_writer_abort(struct store_blob_writer *w)
{
	if (!w)
		return;
	ingest_done(&w->in);
	free(w);
}

int store_blob_open(struct store *s, const struct store_blob *b, struct cafs_error *e)
{
	char rel[REL_MAX];
	struct stat st;
	int fd;
	int r;

	store_blob_relpath(b, rel, sizeof(rel));
	fd = openat(s->dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sys_error(e, errno, "open blob", s, rel);
	if (fstat(fd, &st) < 0)
		r = sys_error(e, errno, "stat blob", s, rel);
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != b->size)
		r = cafs_error_set(e, CAFS_IO, EIO,
				   "blob '%s/%s' is corrupt: %jd bytes on disk, %" PRIu64
				   " expected",
				   s->dir, rel, (intmax_t)st.st_size, b->size);
	else
		return fd;
	(void)close(fd);
	return r;
}

/* Copy hex column @col into @dst (exactly @dstsz - 1 digits); false when NULL or malformed. */
static bool copy_hex_col(sqlite3_stmt *st, int col, char *dst, size_t dstsz)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	if (!v || !is_hex(v, dstsz - 1, false))
		return false;
	memcpy(dst, v, dstsz);
	return true;
}

/* Compute the four hashes of blob @b in one read, checking its SHA-256 against the row. */
static int compute_hashes(struct store *s, const struct store_blob *b, struct store_blob_hashes *h,
			  struct cafs_error *e)
{
	const EVP_MD *mds[4] = {EVP_md5(), EVP_sha1(), EVP_sha256(), EVP_sha512()};
	char *outs[4] = {h->md5, h->sha1, h->sha256, h->sha512};
	size_t outsz[4] = {sizeof(h->md5), sizeof(h->sha1), sizeof(h->sha256), sizeof(h->sha512)};
	EVP_MD_CTX *ctx[4] = {NULL, NULL, NULL, NULL};
	char rel[REL_MAX];
	uint64_t size = 0;
	int fd = -1;
	int r = 0;

	store_blob_relpath(b, rel, sizeof(rel));
	for (size_t i = 0; i < ARRAY_SIZE(ctx); i++) {
		ctx[i] = digest_new(mds[i]);
		if (!ctx[i]) {
			r = cafs_error_set(e, CAFS_INTERNAL, ENOMEM,
					   "start hashes: libcrypto failed");
			goto out;
		}
	}
	fd = store_blob_open(s, b, e);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = digest_fd(s, fd, ctx, ARRAY_SIZE(ctx), &size, rel, e);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(ctx); i++)
		r = digest_hex(ctx[i], outs[i], outsz[i], e);
	if (r == 0 && (size != b->size || strcmp(h->sha256, b->sha256) != 0))
		r = cafs_error_set(e, CAFS_IO, EIO,
				   "blob '%s/%s' is corrupt: its bytes do not match sha256 '%s'",
				   s->dir, rel, b->sha256);
out:
	if (fd >= 0)
		(void)close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(ctx); i++)
		EVP_MD_CTX_free(ctx[i]);
	return r;
}

int store_blob_hashes(struct store *s, int64_t id, struct store_blob_hashes *ret,
		      struct cafs_error *e)
{
	struct store_blob_hashes h;
	struct cafs_error tmp;
	struct store_blob b;
	bool known = false;
	sqlite3_stmt *st;
	int rc;
	int r;

	if (!e)
		e = &tmp;
	st = store_stmt(s,
			"SELECT id, xxh128, seq, size, sha256, md5, sha1, sha512 FROM blobs "
			"WHERE id = ?",
			e);
	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = blob_from_row(s, st, &b, e);
		known = copy_hex_col(st, 5, h.md5, sizeof(h.md5)) &&
			copy_hex_col(st, 6, h.sha1, sizeof(h.sha1)) &&
			copy_hex_col(st, 7, h.sha512, sizeof(h.sha512));
	} else if (rc == SQLITE_DONE) {
		r = cafs_error_set(e, CAFS_NOT_FOUND, 0, "no blob %" PRId64 " in domain '%s'", id,
				   s->name);
	} else {
		r = store_sql_error(s, rc, "read table 'blobs'", e);
	}
	(void)sqlite3_reset(st);
	if (r < 0)
		return r;
	if (known) {
		memcpy(h.sha256, b.sha256, sizeof(h.sha256));
		*ret = h;
		return 0;
	}

	r = compute_hashes(s, &b, &h, e);
	if (r < 0)
		return r;
	st = store_stmt(s, "UPDATE blobs SET md5 = ?, sha1 = ?, sha512 = ? WHERE id = ?", e);
	if (!st)
		return -cafs_error_errno(e);
	(void)sqlite3_bind_text(st, 1, h.md5, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 2, h.sha1, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 3, h.sha512, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(st, 4, id);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "update table 'blobs'", e);
	*ret = h;
	return 0;
}

int store_blob_referenced_bytes(struct store *s, int64_t *ret, struct cafs_error *e)
{
	struct cafs_error tmp;
	sqlite3_stmt *st;
	int64_t sum = 0;
	int rc;

	if (!e)
		e = &tmp;
	st = store_stmt(s,
			"SELECT COALESCE(SUM(size), 0) FROM blobs "
			"WHERE EXISTS (SELECT 1 FROM assets WHERE assets.blob_id = blobs.id) "
			"OR EXISTS (SELECT 1 FROM assets WHERE assets.metadata_blob_id = blobs.id)",
			e);
	if (!st)
		return -cafs_error_errno(e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sum = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_sql_error(s, rc, "sum table 'blobs'", e);
	*ret = sum;
	return 0;
}

static int sweep_unlink(struct store *s, const char *name, const char *rel, struct cafs_error *e)
{
	if (unlinkat(s->tmp_fd, name, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : sys_error(e, errno, "remove", s, rel);
}

/*
 * Remove the temp file @name of tmp/ unless a live process holds its lock. Returns 1 when
 * removed, 0 when kept or gone already.
 */
static int sweep_one(struct store *s, const char *name, struct cafs_error *e)
{
	_cleanup_free_ char *rel = NULL;
	_cleanup_close_ int fd = -1;
	struct stat now;
	struct stat st;

	if (asprintf(&rel, STORE_TMP_DIR "/%s", name) < 0) {
		rel = NULL;
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	fd = openat(s->tmp_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ELOOP)
		return sweep_unlink(s, name, rel, e); /* a symlink: nothing to lock */
	if (fd < 0)
		return errno == ENOENT ? 0 : sys_error(e, errno, "open", s, rel);
	if (fstat(fd, &st) < 0)
		return sys_error(e, errno, "stat", s, rel);
	if (S_ISDIR(st.st_mode))
		return 0; /* not ours: leave it */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 0 : sys_error(e, errno, "lock", s, rel);
	/* the name may have been reused since we opened it: remove only what we locked */
	if (fstatat(s->tmp_fd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != st.st_ino ||
	    now.st_dev != st.st_dev)
		return 0;
	return sweep_unlink(s, name, rel, e);
}

int store_blob_sweep(struct store *s, struct cafs_error *e)
{
	/* a fresh open file description, so that readdir() has its own offset */
	int dfd = openat(s->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	int removed = 0;
	int r = 0;
	DIR *d;

	if (dfd < 0)
		return sys_error(e, errno, "open", s, STORE_TMP_DIR);
	d = fdopendir(dfd);
	if (!d) {
		r = sys_error(e, errno, "open", s, STORE_TMP_DIR);
		(void)close(dfd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0)
				r = sys_error(e, errno, "read", s, STORE_TMP_DIR);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = sweep_one(s, de->d_name, e);
		if (r < 0)
			break;
		removed += r;
		r = 0;
	}
	(void)closedir(d);
	return r < 0 ? r : removed;
}
