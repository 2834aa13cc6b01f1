/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Declarations shared by the files of fs/: the mount's context, the inode table
 * (fs/inode.c), the per-thread store handles (fs/fs.c), the operation table (fs/ops.c) and the
 * cache invalidation thread (fs/inval.c). Only fs/ sees this header, and only fs/ includes
 * <fuse_lowlevel.h>.
 */

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/view.h"

struct store;
struct cafs_error;
struct fs_inode_table;

/* How long the kernel may trust what we told it (DESIGN.md §2: never staler than this). */
#define FS_TIMEOUT_FOLDER   1.0    /* folders and synthesized files: they change in place */
#define FS_TIMEOUT_ASSET    3600.0 /* assets: the inode number changes when the bytes could */
#define FS_TIMEOUT_NEGATIVE 1.0    /* a name that is not there */

/* How often the invalidation thread looks at store_view_generation(). */
#define FS_INVAL_PERIOD_MS 200

/* How many recent negative lookups the invalidation thread remembers (a ring). */
#define FS_NEGATIVE_MAX 256

/* A name the kernel caches as absent (see fs_inval_note_negative()). */
struct fs_negative {
	fuse_ino_t parent;
	char *name;         /* owned; NULL: free slot */
	int64_t expires_ms; /* CLOCK_MONOTONIC */
};

/*
 * One mount. Lives on fs_run()'s stack for the whole session; the FUSE ops reach it through
 * fuse_req_userdata(). Fields are set before the session starts and read-only afterwards,
 * except where a lock is named.
 */
struct fs_ctx {
	const char *root;   /* absolute store root */
	const char *domain; /* the mounted domain */
	uid_t uid;          /* owner shown on every node: the mounting user */
	gid_t gid;
	int64_t mount_us; /* when the mount began: the time of nodes that have none */
	struct fuse_session *se;
	struct fs_inode_table *inodes; /* has its own lock */
	pthread_key_t store_key;       /* struct store * of the calling worker thread */

	pthread_t inval_thread;
	bool inval_running;         /* the thread was started (main thread only) */
	pthread_mutex_t inval_lock; /* protects inval_stop; inval_cond waits on it */
	pthread_cond_t inval_cond;  /* CLOCK_MONOTONIC */
	bool inval_stop;            /* protected by inval_lock */

	pthread_mutex_t neg_lock;                /* protects neg and neg_next */
	struct fs_negative neg[FS_NEGATIVE_MAX]; /* recent negative lookups */
	size_t neg_next;                         /* the slot to overwrite next */
};

/*
 * The store handle of the calling thread, opened on first use (store_open() of ctx's root and
 * domain) and closed when the thread ends. Borrowed: valid for the rest of this request.
 */
int fs_thread_store(struct fs_ctx *ctx, struct store **ret, struct cafs_error *e);

/* The low-level operation table (fs/ops.c). */
extern const struct fuse_lowlevel_ops fs_ops;

/* --- the inode table (fs/inode.c) --- */

/* What the table keeps of a node: enough to answer getattr for an asset without the store. */
struct fs_attr {
	enum store_node_kind kind;
	uint64_t identity; /* store_node.identity: part of the inode number */
	uint64_t size;
	int64_t mtime_us;
};

/* One inode as fs_inode_get() reports it. */
struct fs_inode_info {
	fuse_ino_t parent;
	char *path; /* owned: free() */
	struct fs_attr attr;
};

/* One non-root inode as fs_inode_snapshot() reports it. */
struct fs_inode_snap {
	fuse_ino_t ino;
	fuse_ino_t parent;
	enum store_node_kind kind;
	char *name; /* owned; fs_inode_snapshot_free() frees it */
};

/* A table holding only the root ("/", FUSE_ROOT_ID). NULL on ENOMEM. Free with _free(). */
struct fs_inode_table *fs_inode_table_new(void);
void fs_inode_table_free(struct fs_inode_table *t);

/*
 * The inode of @path (a child of @parent) showing a node with @a: found when the table has
 * (@path, @a->identity), else added. Counts one kernel lookup. The attributes kept are
 * refreshed from @a. -ENOMEM. Thread-safe.
 */
int fs_inode_ref(struct fs_inode_table *t, const char *path, fuse_ino_t parent,
		 const struct fs_attr *a, fuse_ino_t *ret);

/* Copy out what the table knows of @ino; -ESTALE when it is not there, -ENOMEM. Thread-safe. */
int fs_inode_get(struct fs_inode_table *t, fuse_ino_t ino, struct fs_inode_info *ret);

/* The kernel forgets @nlookup lookups of @ino; the entry goes at zero. Thread-safe. */
void fs_inode_forget(struct fs_inode_table *t, fuse_ino_t ino, uint64_t nlookup);

/*
 * The inode number (@path, @identity) has in the table, or would get if it were added now;
 * adds nothing (for the d_ino of plain readdir). Thread-safe.
 */
fuse_ino_t fs_inode_peek(struct fs_inode_table *t, const char *path, uint64_t identity);

/* Every inode but the root, copied out under the lock. Owned array: fs_inode_snapshot_free(). */
int fs_inode_snapshot(struct fs_inode_table *t, struct fs_inode_snap **ret, size_t *ret_n);
void fs_inode_snapshot_free(struct fs_inode_snap *snap, size_t n);

/* --- cache invalidation (fs/inval.c) --- */

/*
 * Start the thread that polls store_view_generation() every FS_INVAL_PERIOD_MS and, when it
 * moves, tells the kernel to drop what it caches of folders, synthesized files and asset
 * names. ctx->se must be mounted. -errno when the thread cannot start.
 */
int fs_inval_start(struct fs_ctx *ctx);

/* Stop and join that thread (no-op when it never started); forgets the negative names. */
void fs_inval_stop(struct fs_ctx *ctx);

/*
 * Remember that the kernel now caches @name in @parent as absent, so that a change in the
 * store drops that negative entry too (a name published by the CLI appears at once, not
 * after FS_TIMEOUT_NEGATIVE). Best effort: the oldest are overwritten. Thread-safe.
 */
void fs_inval_note_negative(struct fs_ctx *ctx, fuse_ino_t parent, const char *name);
