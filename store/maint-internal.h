/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private declarations shared by store/fsck.c, store/fsck_blobs.c and store/gc.c
 * (store/fsck.h): one fsck run and its findings, the walk over the blob folders and the removal
 * of a file that no row owns. Nothing outside store/ includes this header.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/fsck.h"

struct store;
struct cafs_error;

/* One fsck run. */
struct fsck {
	struct store *s;
	const struct store_fsck_options *o;
	struct store_fsck_summary *sum; /* counts by state, filled by fsck_report() */
};

/* Report a finding (the message formatted from @fmt) through @f->o and count it. */
void fsck_report(struct fsck *f, enum store_fsck_type type, enum store_fsck_state state,
		 const char *path, int64_t id, const char *subject, const char *const *assets,
		 size_t n_assets, const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/* The blob files against their rows and the folders against the rows (store/fsck_blobs.c). */
int fsck_check_blobs(struct fsck *f, struct cafs_error *e);

/* @grace_s in microseconds, clamped to 0 .. INT64_MAX. */
static inline int64_t maint_grace_us(int64_t grace_s)
{
	if (grace_s <= 0)
		return 0;
	return grace_s > INT64_MAX / 1000000 ? INT64_MAX : grace_s * 1000000;
}

/* A file found in a blob folder under a blob file name; plain value. */
struct maint_file {
	char xxh128[33]; /* the address it is named by */
	int seq;
	uint64_t size;
	uint64_t dev, ino;
	int64_t changed_us; /* the later of its mtime and ctime (a link sets the ctime) */
	bool claimed;       /* fsck: a row owns it, or a repair used it */
};

/* The path of address (@xxh128, @seq) relative to the domain folder into @buf (64 bytes). */
void maint_relpath(const char *xxh128, int seq, char *buf, size_t bufsz);

/*
 * Every file in blobs/<2 hex>/ named like a blob, into *@ret (owned: free()), sorted by
 * address. Each other entry of blobs/ and its fan-out folders goes to @stray (may be NULL)
 * with its path relative to the domain folder and why it is no blob file. A file removed
 * while the walk runs is skipped.
 */
int maint_list_files(struct store *s, struct maint_file **ret, size_t *ret_n,
		     void (*stray)(void *ctx, const char *rel, const char *why), void *ctx,
		     struct cafs_error *e);

/* The file of @files (sorted, @n of them) at address (@xxh128, @seq), or NULL. */
struct maint_file *maint_find_file(struct maint_file *files, size_t n, const char *xxh128, int seq);

/* Whether a row owns address (@xxh128, @seq): 1 yes, 0 no, or a negative errno. */
int maint_address_taken(struct store *s, const char *xxh128, int seq, struct cafs_error *e);

/*
 * Remove file @f if, under the write lock, no row owns its address and the file there is still
 * the one listed (same inode). 1 removed, 0 kept, or a negative errno. Call outside any
 * transaction.
 */
int maint_remove_orphan(struct store *s, const struct maint_file *f, struct cafs_error *e);
