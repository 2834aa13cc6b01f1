/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Declarations shared by the files of fs/: the mount's context, the inode table
 * (fs/inode.c), the per-thread store handles (fs/fs.c), the operation table and the helpers
 * every operation uses (fs/ops.c), open files (fs/file.c), changes to names (fs/names.c), the
 * staging table of the write side (fs/stage.c) and the cache invalidation thread
 * (fs/inval.c). Only fs/ sees this header, and only fs/ includes <fuse_lowlevel.h>.
 */

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "store/view.h"

struct store;
struct cafs_error;
struct fs_inode_table;
struct fs_stage;
struct fs_staged;

/* How long the kernel may trust what we told it (DESIGN.md §2: never staler than this). */
/*
 * Folders: the invalidation thread (fs/inval.c) drops every folder's name and attributes when
 * the store changes, so this is only a backstop; long, so that a walk of many paths stays warm.
 */
#define FS_TIMEOUT_FOLDER   60.0
#define FS_TIMEOUT_SYNTH    1.0    /* synthesized files: they change in place */
#define FS_TIMEOUT_ASSET    3600.0 /* assets: the inode number changes when the bytes could */
#define FS_TIMEOUT_NEGATIVE 1.0    /* a name that is not there */

/* How often the invalidation thread looks at store_view_generation(). */
#define FS_INVAL_PERIOD_MS 200
#define FS_LISTING_WAIT_MS 1000 /* an opendir waits at most this for stale listings to go */

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
	bool shared;      /* allow_other: every request is checked for its caller (spec §8.4) */
	struct fuse_session *se;
	struct fs_inode_table *inodes; /* has its own lock */
	pthread_key_t store_key;       /* struct store * of the calling worker thread */

	struct fs_stage *stage; /* has its own lock */

	pthread_t inval_thread;
	bool inval_running;         /* the thread was started (before any worker exists) */
	pthread_mutex_t inval_lock; /* protects the inval_ fields below; both conds wait on it */
	pthread_cond_t inval_cond;  /* CLOCK_MONOTONIC; wakes the thread */
	pthread_cond_t inval_done_cond; /* CLOCK_MONOTONIC; a poll has finished */
	bool inval_stop;                /* protected by inval_lock */
	bool inval_kick;                /* protected by inval_lock: poll now */
	uint64_t inval_started;         /* protected by inval_lock: polls begun */
	uint64_t inval_done;            /* protected by inval_lock: polls finished */
	bool inval_ok;                  /* protected by inval_lock: the last poll read the store */

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
	enum store_node_kind kind; /* a staged file is an ASSET, a staged folder an NSDIR */
	uint64_t identity;         /* store_node.identity, or a staged file's serial */
	uint64_t size;
	int64_t mtime_us;
	bool staged; /* held by this mount only (fs/stage.c), not (yet) by the store */
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
	bool staged;
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
 * An open of synthesized file @ino whose bytes have digest @digest: whether the kernel may keep
 * the pages it has cached (fi->keep_cache). Only when the latest open saw the same bytes and no
 * handle still holds older ones; fs_inode_synth_close() with the same digest at its release.
 */
bool fs_inode_synth_open(struct fs_inode_table *t, fuse_ino_t ino, uint64_t digest);
void fs_inode_synth_close(struct fs_inode_table *t, fuse_ino_t ino, uint64_t digest);

/*
 * The inode number (@path, @identity) has in the table, or would get if it were added now;
 * adds nothing (for the d_ino of plain readdir). Thread-safe.
 */
fuse_ino_t fs_inode_peek(struct fs_inode_table *t, const char *path, uint64_t identity);

/*
 * A rename: the inode showing (@from, @identity) shows (@to) from now on, as a child of
 * @new_parent, keeping its number (the kernel moved its dentry). With @tree, also every inode
 * below @from follows (a folder). -ENOMEM changes nothing. Thread-safe.
 */
int fs_inode_move(struct fs_inode_table *t, const char *from, uint64_t identity, const char *to,
		  fuse_ino_t new_parent, bool tree);

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
 * The store was changed through this mount: have the thread look at the generation now
 * instead of at its next period. With @wait_ms > 0, also wait (at most that long) until a
 * look that began after this call has finished, so the kernel's caches are dropped before the
 * caller replies. Only wait where the request holds no lock of the kernel's (flush does not;
 * a rename, unlink or setxattr does: reply first, then kick). Thread-safe. Returns whether
 * such a look has finished (false without waiting, or when the wait timed out).
 */
bool fs_inval_kick(struct fs_ctx *ctx, int wait_ms);

/*
 * Remember that the kernel now caches @name in @parent as absent, so that a change in the
 * store drops that negative entry too (a name published by the CLI appears at once, not
 * after FS_TIMEOUT_NEGATIVE). Best effort: the oldest are overwritten. Thread-safe.
 */
void fs_inval_note_negative(struct fs_ctx *ctx, fuse_ino_t parent, const char *name);

/*
 * @name in @parent was made through this mount (create, mknod, mkdir, rename): the kernel
 * holds it as present now, and dropping the "negative" entry would drop that.
 */
void fs_inval_forget_negative(struct fs_ctx *ctx, fuse_ino_t parent, const char *name);

/* --- helpers of every operation (fs/ops.c) --- */

static inline struct fs_ctx *fs_ctx_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* ENOMEM as an error. */
int fs_oom(struct cafs_error *e);

/* "@dir/@name", with "/" as the root. Owned; NULL on ENOMEM. */
char *fs_child_path(const char *dir, const char *name);

/* The last component of @path (borrowed from it). */
const char *fs_base_name(const char *path);

/* What the table knows of @ino (ESTALE when nothing); free with fs_inode_info_done(). */
int fs_get_inode(struct fs_ctx *ctx, fuse_ino_t ino, struct fs_inode_info *ret,
		 struct cafs_error *e);
void fs_inode_info_done(struct fs_inode_info *i);

/* The calling thread's store handle (borrowed), with the audit actor set to the caller. */
int fs_req_store(fuse_req_t req, struct store **ret, struct cafs_error *e);

/*
 * The request's caller may do @action (spec §8.4) on the repository @path is in (the
 * domain for "/"): 0, or AccessDenied (EACCES), audited. Sets the caller on the thread's store.
 */
int fs_authorize(fuse_req_t req, const char *path, const char *action, struct cafs_error *e);

/*
 * What @path shows through this mount, staging included: a staged file (which hides what the
 * store has at that path), else the store's node, else a staged folder. Dot paths never reach
 * the store. @ret_node (may be NULL) is filled for store nodes only (ret_attr->staged false).
 */
int fs_node_at(struct fs_ctx *ctx, const char *path, struct fs_attr *ret_attr,
	       struct store_node *ret_node, struct cafs_error *e);

/* The attributes of store node @n. */
void fs_attr_of_node(const struct store_node *n, struct fs_attr *ret);

/* The stat and the reply to lookup, mknod, mkdir and create for inode @ino showing @a. */
void fs_fill_stat(const struct fs_ctx *ctx, fuse_ino_t ino, const struct fs_attr *a,
		  struct stat *st);
void fs_fill_entry(const struct fs_ctx *ctx, fuse_ino_t ino, const struct fs_attr *a,
		   struct fuse_entry_param *ep);

/* How long the kernel may keep @a's attributes. */
double fs_attr_timeout(const struct fs_attr *a);

/*
 * getattr of @ino: what its path shows now (an asset inode answers from the table unless a
 * staged file hides it). @info is filled first (free it with fs_inode_info_done()).
 */
int fs_getattr_of(struct fs_ctx *ctx, fuse_ino_t ino, struct fs_inode_info *info, struct stat *st,
		  double *ret_timeout, struct cafs_error *e);

/* Reply @e's errno to @req, logging it once (fs_error_reply_errno()). */
void fs_reply_error(fuse_req_t req, const char *op, const char *path, const struct cafs_error *e);

/*
 * Tell the kernel that @name in @parent may show something else now, and that @parent's own
 * attributes changed; after the reply (a request that changed names holds the parent's lock).
 */
void fs_inval_name(struct fs_ctx *ctx, fuse_ino_t parent, const char *name);

/*
 * After a publish or a removal under @path: pending folders above it that the store now shows
 * are real, so the staging table forgets them.
 */
void fs_settle_pending(struct fs_ctx *ctx, struct store *s, const char *path);

/* --- open files (fs/file.c) and changes to names (fs/names.c) --- */

void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi);
void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void fs_op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
		     struct fuse_file_info *fi);
void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi);
void fs_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			   struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			   struct fuse_file_info *fi_out, size_t len, int flags);

void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags);
void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);

/* --- the staging table (fs/stage.c) --- */

/* A path is private (DESIGN.md §3: "dot names are staging") when a component starts with '.'. */
bool fs_path_private(const char *path);

enum fs_stage_type {
	FS_STAGE_NONE = 0,
	FS_STAGE_FILE,
	FS_STAGE_DIR,
};

/* What the table holds at a path. Plain value. */
struct fs_stage_stat {
	enum fs_stage_type type;
	uint64_t serial; /* file: the identity of its inode */
	uint64_t size;   /* file: its current size */
	int64_t mtime_us;
	bool private_;
	bool settled; /* file: a publish was tried and nothing was written since */
	bool copy;    /* file: began as a copy of a published file (FS_STAGE_COPY) */
};

/*
 * An empty table whose temp files go to the folder @tmp_fd (stolen: closed by _free(), or
 * here on ENOMEM). NULL on ENOMEM. Free with fs_stage_free() once no handle is open.
 */
struct fs_stage *fs_stage_new(int tmp_fd);
void fs_stage_free(struct fs_stage *t);

/* A new private temp file (O_TMPFILE, else a named file unlinked at once): owned fd, -errno. */
int fs_stage_tmpfile(struct fs_stage *t);

/* What the table holds at @path (FS_STAGE_NONE: nothing; then @ret is untouched). */
enum fs_stage_type fs_stage_stat(struct fs_stage *t, const char *path, struct fs_stage_stat *ret);

/* Something is staged below folder @dir. */
bool fs_stage_has_children(struct fs_stage *t, const char *dir);

/*
 * Call @cb for every entry that is a direct child of @dir, under the table's lock (@cb must
 * not call back into the table). @cb returns 0 to go on, 1 to stop, or -errno to fail.
 */
int fs_stage_list(struct fs_stage *t, const char *dir,
		  int (*cb)(void *arg, const char *name, const struct fs_stage_stat *st),
		  void *arg);

#define FS_STAGE_EXCL  (1u << 0) /* fail with -EEXIST when @path is staged already */
#define FS_STAGE_TRUNC (1u << 1) /* truncate a file staged already */
#define FS_STAGE_OPEN  (1u << 2) /* the reference in *ret is an open handle */
#define FS_STAGE_COPY  (1u << 3) /* a new entry holds a published file's bytes (no O_TRUNC) */
/* the open handle writes: -EBUSY while another handle writes the file (two writers would mix
 * their bytes into one publish); give it back with fs_staged_end_write() */
#define FS_STAGE_WRITER (1u << 4)

/*
 * Stage a file at @path with the bytes of @fd (stolen; closed when an entry exists already,
 * which is then taken instead). @fd -1: take an existing entry only (-ENOENT when none).
 * Returns 1 for a new entry, 0 for an existing one, -EEXIST, -EISDIR (a folder is staged
 * there) or -ENOMEM. FS_STAGE_TRUNC also ends FS_STAGE_COPY. With @ret not NULL, *@ret is the file
 * with one reference, to give back with fs_staged_close() when FS_STAGE_OPEN counted it as an open
 * handle, else with fs_staged_unref().
 */
int fs_stage_file_add(struct fs_stage *t, const char *path, int fd, unsigned flags,
		      struct fs_staged **ret);

/*
 * @st began as a copy of a published file and was not truncated at an open since: its size
 * cannot change by truncation (the bytes of a published file change only by writing anew).
 */
bool fs_staged_copy(struct fs_stage *t, struct fs_staged *st);

/* A writing handle (FS_STAGE_WRITER) of @st is done writing: another may open it to write. */
void fs_staged_end_write(struct fs_stage *t, struct fs_staged *st);

/* Give back a reference taken without FS_STAGE_OPEN. */
void fs_staged_unref(struct fs_stage *t, struct fs_staged *st);

/*
 * The fd holding the file's bytes now, to read (borrowed; positional I/O only): its temp file,
 * or the blob it was copied from by reference. Holds a reference and the file's io lock shared
 * until fs_staged_io_end(), which keeps the fd open and a publish from taking the file meanwhile.
 */
int fs_staged_read_begin(struct fs_stage *t, struct fs_staged *st);

/*
 * The file's temp file, to change its bytes (borrowed, as above, with fs_staged_io_end() due):
 * a file held by reference first gets the blob's bytes copied in. -errno when that copy fails
 * (and nothing is due).
 */
int fs_staged_write_begin(struct fs_stage *t, struct fs_staged *st);
void fs_staged_io_end(struct fs_stage *t, struct fs_staged *st);

/* st_blksize of files in the mount */
#define FS_IO_BLKSIZE (1024 * 1024)

/* Temp files at least this big are given to the store to become the blob (store_blob_adopt_fd()).
 */
#define FS_ADOPT_MIN (256 * 1024)

/*
 * A publish of @st's bytes: the fd to hand to the store, at offset 0, with the io lock held
 * exclusively until fs_staged_give_end(). *@ret_adopt says the store may take the file as the
 * blob (a temp file of at least FS_ADOPT_MIN bytes); fs_staged_give_end() then puts a fresh
 * temp file in its place and keeps the given one as the file's read-only reference.
 */
int fs_staged_give_begin(struct fs_stage *t, struct fs_staged *st, bool *ret_adopt);
void fs_staged_give_end(struct fs_stage *t, struct fs_staged *st);

/*
 * cp inside the mount: @st, still empty, takes the bytes of the blob open at @blob_fd by
 * reference (a dup of it) instead of a copy. Returns 1, 0 when @st is not empty or has held a
 * reference before (copy the bytes instead), or -errno.
 */
int fs_staged_reference(struct fs_stage *t, struct fs_staged *st, int blob_fd);

/* Write all of @buf to @fd at @off: 0 or -errno. */
int fs_pwrite_all(int fd, const char *buf, size_t len, off_t off);

#define FS_COPY_CHUNK (1u << 20) /* the most fs_copy_range() moves through a buffer at once */

/*
 * Copy up to @len bytes of @in at @off_in to @out at @off_out: in the kernel when it can (a
 * reflink where the file system shares extents), else through a buffer. Returns the number of
 * bytes copied, 0 at the end of @in, or -errno.
 */
ssize_t fs_copy_range(int in, off_t off_in, int out, off_t off_out, size_t len);
uint64_t fs_staged_serial(const struct fs_staged *st);

/* Its bytes changed (a write, a truncate, a copy): the next flush publishes. */
void fs_staged_changed(struct fs_stage *t, struct fs_staged *st);
void fs_staged_set_mtime(struct fs_stage *t, struct fs_staged *st, int64_t mtime_us);

/*
 * An open handle of @st closes. When it was the last and the file is not private, the file
 * leaves the table (published, refused or never written: the store tells from now on) and
 * *@ret_dropped is its path (owned), returning 1. Returns 0, or -ENOMEM (dropped, no path).
 */
int fs_staged_close(struct fs_stage *t, struct fs_staged *st, char **ret_dropped);

/*
 * Flush: when @st is not private and changed since its last successful publish, call
 * @publish(@arg, path, fd, adopt) with its current path and the fd of fs_staged_give_begin();
 * serialized per file.
 * Returns 1 (published), 0 (nothing to do) or @publish's negative errno (a refusal, which
 * leaves the file due, so that the next flush reports it again).
 */
int fs_staged_flush(struct fs_stage *t, struct fs_staged *st,
		    int (*publish)(void *arg, const char *path, int fd, bool adopt), void *arg);

/* Unstage the file at @path (open handles keep their bytes): 0, -ENOENT, -EISDIR. */
int fs_stage_unlink(struct fs_stage *t, const char *path);

/* Stage folder @path: 0, -EEXIST (anything staged there), -ENOMEM. */
int fs_stage_mkdir(struct fs_stage *t, const char *path);

/* Unstage folder @path: 0, -ENOENT, -ENOTDIR, -ENOTEMPTY (something staged below). */
int fs_stage_rmdir(struct fs_stage *t, const char *path);

/*
 * Rename staged @from (a file, or a folder with everything below) to @to, replacing a staged
 * file, or an empty staged folder, there unless @noreplace (-EEXIST). -ENOENT, -EISDIR,
 * -ENOTDIR, -ENOTEMPTY, -EINVAL (a folder into itself), -ENOMEM (nothing changed).
 */
int fs_stage_move(struct fs_stage *t, const char *from, const char *to, bool noreplace);

/* One file of a staged tree: its path relative to the tree and one reference to it. */
struct fs_stage_item {
	char *rel;
	struct fs_staged *st;
};

/*
 * The files staged below folder @dir, dot names inside it left out (they stay private), by
 * folder and then name, so that each folder's files are consecutive. Owned array:
 * fs_stage_items_free().
 */
int fs_stage_collect(struct fs_stage *t, const char *dir, struct fs_stage_item **ret,
		     size_t *ret_n);
void fs_stage_items_free(struct fs_stage *t, struct fs_stage_item *items, size_t n);

/* Unstage @dir and everything below it. */
void fs_stage_remove_tree(struct fs_stage *t, const char *dir);
