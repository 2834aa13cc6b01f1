/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Checking and collecting a domain's storage: `cafs fsck` and `cafs gc` (DESIGN.md §6).
 *
 * store_fsck() verifies every blob file against its row (size, XXH3-128 address, SHA-256 and
 * the stored MD5/SHA-1/SHA-512), every asset row against its blob row, the versions against
 * the states a publish can leave (no half-published version), the blob folders against the
 * rows (files without rows), tmp/ for leftover temp files, and SQLite's own integrity and
 * foreign-key checks. It only reads unless asked to repair, and then fixes only what is safe,
 * each repair in its own short write transaction, never deleting bytes a row references.
 *
 * store_gc() frees the blobs that no asset references (rows first, files second), sparing those
 * younger than a grace period, since a publish ingests its blob before the transaction that
 * references it.
 *
 * Both are safe while the domain is mounted and publishing: they hold no transaction while
 * they read files and re-check every decision under the write lock before acting.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct cafs_error;

/* Default grace period: unreferenced blobs and files younger than this are left alone. */
#define STORE_GRACE_DEFAULT_S 3600

enum store_fsck_type {
	STORE_FSCK_BLOB_CORRUPT, /* a blob file (or row) whose bytes disagree with its row */
	STORE_FSCK_BLOB_MISSING, /* a blob row without its file */
	STORE_FSCK_ORPHAN,       /* a blob file without a row */
	STORE_FSCK_STRAY,        /* an entry of blobs/ that is no blob file */
	STORE_FSCK_TEMP,         /* a temp file left in tmp/ */
	STORE_FSCK_ASSET,        /* an asset row whose blob row is missing */
	STORE_FSCK_VERSION,      /* a half-published version */
	STORE_FSCK_DATABASE,     /* a complaint of PRAGMA integrity_check */
	STORE_FSCK_FOREIGN_KEY,  /* a row of PRAGMA foreign_key_check */
};

enum store_fsck_state {
	STORE_FSCK_PROBLEM,  /* wrong, and still so */
	STORE_FSCK_REPAIRED, /* was wrong; repaired (or swept when the domain was opened) */
	STORE_FSCK_NOTE,     /* not a problem: younger than the grace period, or in use */
};

/* One finding. Every pointer is borrowed: valid during the report callback only. */
struct store_fsck_finding {
	enum store_fsck_type type;
	enum store_fsck_state state;
	const char *path;    /* relative to the domain folder ("blobs/ab/cd…"); NULL if none */
	int64_t id;          /* the row (blob, asset or version id) or 0 */
	const char *subject; /* "repository/format/[namespace/]package/version"; NULL if none */
	const char *message; /* what is wrong, and what a repair did or why it could not */
	const char *const *assets; /* assets whose bytes this is ("repo/format/…/asset") */
	size_t n_assets;
};

struct store_fsck_options {
	bool repair;       /* fix what is safe; otherwise change nothing */
	bool verify_bytes; /* hash every blob file (else only its presence and size) */
	int64_t grace_s;   /* orphan files younger than this are a note, never removed */
	/* called for every finding, in the order found */
	void (*report)(void *ctx, const struct store_fsck_finding *f);
	void *report_ctx;
	/* bytes of blobs checked so far, of the total */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
};

struct store_fsck_summary {
	int64_t blobs, blob_bytes;                /* blob rows and their bytes */
	int64_t files;                            /* files in the blob folders */
	int64_t bytes_verified;                   /* bytes hashed */
	int64_t assets, versions;                 /* rows checked */
	int64_t unreferenced, unreferenced_bytes; /* blobs no asset references (gc frees them) */
	size_t problems, repaired, notes;         /* findings by state */
};

/*
 * Open domain @name of store @root for checking: as store_open(), which removes the temp
 * files of tmp/ that no live process holds; each one it removed is reported through @o (as
 * STORE_FSCK_TEMP, repaired). *@ret as store_open().
 */
int store_fsck_open(const char *root, const char *name, const struct store_fsck_options *o,
		    struct store **ret, struct cafs_error *e);

/*
 * Check the domain open in @s as @o says, reporting each finding through @o->report, and
 * fill *@ret. Returns 0 when the check ran (whatever it found: see @ret->problems), or a
 * negative errno when it could not run (an I/O error on the folders, the database failing).
 */
int store_fsck(struct store *s, const struct store_fsck_options *o, struct store_fsck_summary *ret,
	       struct cafs_error *e);

struct store_gc_options {
	int64_t grace_s; /* only blobs (and orphan files) older than this are freed */
	bool dry_run;    /* count what would be freed; change nothing */
};

struct store_gc_result {
	int64_t freed, freed_bytes;    /* unreferenced blobs freed (rows deleted) */
	int64_t files_removed;         /* their files unlinked (the rest are left for next time) */
	int64_t young, young_bytes;    /* unreferenced blobs within the grace period: kept */
	int64_t orphans, orphan_bytes; /* files without rows, older than the grace: removed */
	int64_t young_orphans;         /* files without rows within the grace period: kept */
};

/*
 * Free the blobs of @s that no asset references (its bytes or a wheel's core metadata) and
 * that are older than @o->grace_s, in short transactions that re-check every reference, then
 * their files; and remove files without rows older than the grace period. Audited
 * ("GarbageCollect"). With @o->dry_run nothing changes and *@ret says what would be freed.
 */
int store_gc(struct store *s, const struct store_gc_options *o, struct store_gc_result *ret,
	     struct cafs_error *e);
