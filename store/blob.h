/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The domain's content-addressed blob store (DESIGN.md §6). Every asset's bytes live once per
 * domain in <domain>/blobs/<2 hex>/<30 hex>[.<seq>], named by the XXH3-128 of the content.
 * Identity is the SHA-256: the XXH3 address alone never decides that two contents are equal,
 * and a collision (two contents, one XXH3) stores the second under the next free <seq>.
 *
 * Ingest order (crash safe at every instant): bytes into an O_TMPFILE (or a flock'ed named
 * temp file in <domain>/tmp/), hashing XXH3-128 and SHA-256 in one pass; fsync; link into
 * place with no-replace (EEXIST = dedup hit once the SHA-256 is confirmed); fsync the folder;
 * only then the row in the `blobs` table. A crash leaves at worst an unreferenced blob (freed
 * by gc) or a temp file (swept by store_open()).
 */

#include <stddef.h>
#include <stdint.h>

struct store;
struct cafs_error;

#define STORE_BLOB_SIZE_MAX (5ull * 1000 * 1000 * 1000) /* 5 GB asset size quota (spec §11) */

/* A blob as stored: plain value. */
struct store_blob {
	int64_t id;      /* row id in `blobs` */
	uint64_t size;   /* bytes */
	char xxh128[33]; /* lower-case hex address */
	int seq;         /* 0, or the collision slot */
	char sha256[65]; /* lower-case hex identity */
};

/* The four hashes CodeArtifact reports for every asset (spec §5.1), lower-case hex. */
struct store_blob_hashes {
	char md5[33];
	char sha1[41];
	char sha256[65];
	char sha512[129];
};

/*
 * Ingest everything readable from @fd (read to EOF; @fd is not closed) into the blob store.
 * If @expect_sha256 is not NULL the content must hash to it, else nothing is stored and a
 * ValidationException is returned. Content over STORE_BLOB_SIZE_MAX: ServiceQuotaExceeded
 * (sys_errno EFBIG). On success *@ret describes the blob (new or a dedup hit) and the row exists
 * (in the caller's transaction when one is open). Returns 1 for a dedup hit, 0 for new bytes.
 * An @fd open on one of this domain's own blob files (an asset read from the mount and written
 * back into it) is recognized by its inode and is a dedup hit without a byte read.
 */
int store_blob_ingest_fd(struct store *s, int fd, const char *expect_sha256, struct store_blob *ret,
			 struct cafs_error *e);

/*
 * The same, for @fd a file the caller gives up: an O_TMPFILE on the domain's file system that
 * nothing writes from this call on (the mount's staging file of a finished write). Its bytes
 * are hashed in place and, when they are new, the file itself becomes the blob (mode 0444,
 * fsync'ed, linked at its address) instead of being copied; a file that cannot be linked is
 * copied as store_blob_ingest_fd() does. Whatever this returns, the caller must treat @fd as
 * read-only from now on: its inode may be a blob.
 */
int store_blob_adopt_fd(struct store *s, int fd, const char *expect_sha256, struct store_blob *ret,
			struct cafs_error *e);

/* The same for a buffer in memory. */
int store_blob_ingest_mem(struct store *s, const void *buf, size_t len, const char *expect_sha256,
			  struct store_blob *ret, struct cafs_error *e);

/*
 * The same, for bytes that arrive piece by piece (a download): store_blob_writer_open(), any
 * number of store_blob_writer_write(), then store_blob_writer_commit() (which frees the
 * writer) or store_blob_writer_abort() (nothing stored).
 */
struct store_blob_writer;
int store_blob_writer_open(struct store *s, struct store_blob_writer **ret, struct cafs_error *e);
int store_blob_writer_write(struct store_blob_writer *w, const void *buf, size_t len,
			    struct cafs_error *e);
/* Bytes written so far. */
uint64_t store_blob_writer_size(const struct store_blob_writer *w);
int store_blob_writer_commit(struct store_blob_writer *w, const char *expect_sha256,
			     struct store_blob *ret, struct cafs_error *e);
void store_blob_writer_abort(struct store_blob_writer *w);

/* Look a blob up by row id or by SHA-256 hex. NotFound when absent. */
int store_blob_get(struct store *s, int64_t id, struct store_blob *ret, struct cafs_error *e);
int store_blob_find_sha256(struct store *s, const char *sha256, struct store_blob *ret,
			   struct cafs_error *e);

/*
 * Open the blob's bytes read-only. Returns the fd (owned by the caller: close() it) or a
 * negative errno. The file's size is checked against the row (IO error on mismatch).
 */
int store_blob_open(struct store *s, const struct store_blob *b, struct cafs_error *e);

/*
 * The path of the blob relative to the domain folder, e.g. "blobs/ab/cdef…" into @buf (at least
 * 64 bytes).
 */
void store_blob_relpath(const struct store_blob *b, char *buf, size_t bufsz);

/*
 * All four hashes of blob @id. MD5, SHA-1 and SHA-512 are computed on first request by reading
 * the blob once (verifying its SHA-256 in the same pass: IO error with EIO if the bytes on
 * disk disagree) and stored, so later calls are a row read.
 */
int store_blob_hashes(struct store *s, int64_t id, struct store_blob_hashes *ret,
		      struct cafs_error *e);

/* Deduplicated bytes of all blobs referenced by at least one asset (DescribeDomain
 * assetSizeBytes). */
int store_blob_referenced_bytes(struct store *s, int64_t *ret, struct cafs_error *e);
