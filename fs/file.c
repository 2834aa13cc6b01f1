/* SPDX-License-Identifier: MIT */
/*
 * Open files: reading assets and synthesized files, and writing, which is publishing
 * (DESIGN.md §3, §9).
 *
 * A file opened for reading is an fd on its blob (read by splicing into /dev/fuse) or the
 * bytes of a synthesized file rendered at open. A file created (create, mknod: tar --xattrs
 * makes files with MKNOD) or opened for writing (O_WRONLY, O_RDWR, O_TRUNC, O_APPEND) is a
 * staged file (fs/stage.c): a private temp file in the domain's tmp/ folder, shared by every
 * handle open on its path, which starts empty (O_TRUNC, create) or with the bytes the path
 * shows. Nothing of it reaches readers of other names until it is published.
 *
 * Publishing happens at FLUSH, because only flush errors reach the writer (cp, rsync, tar,
 * Maven, shell redirections; release errors are lost): a flush of a file written since its
 * last publish hands it to store_view_write(), and the refusal, if any, is the errno of
 * close(). A flush with nothing new does nothing, so the early flush of a shell redirect
 * (still empty) publishes nothing, and repeated flushes are idempotent. Dot-named files are
 * never published at flush: they wait for a rename to a plain name (fs/names.c). At the last
 * release a published, refused or unwritten file leaves the staging table and the store's view
 * shows through again.
 *
 * setattr absorbs mode, owner and times (install and rsync chmod after close, cp and tar set
 * times) and truncates staged files; the bytes of a published file cannot change in place
 * (EROFS), only be written anew through O_TRUNC, where the publish rules decide (same bytes
 * succeed, other bytes EEXIST). copy_file_range (cp inside the mount) of a whole asset into an
 * empty file takes the blob by reference (fs_staged_reference()): no byte moves, and the
 * publish at flush hands the blob's own fd to the store, which recognizes it and reads
 * nothing. Other copies run in the kernel between the underlying files, without bytes passing
 * through FUSE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/internal.h"
#include "policy/common.h"
#include "store/store.h"
#include "store/view.h"
#include "store/write.h"

/* How long a flush that published waits for the kernel's caches to be dropped. */
#define FLUSH_INVAL_WAIT_MS 2000

/* An open file. */
struct fs_handle {
	int fd;     /* asset opened for reading: the blob, owned; else -1 */
	char *data; /* synthesized file: owned bytes, rendered at open */
	size_t len;
	struct fs_staged *st; /* staged file: one reference and one open; else NULL */
	bool writer;          /* st is open for writing through this handle (FS_STAGE_WRITER) */
	fuse_ino_t synth_ino; /* synthesized file counted by fs_inode_synth_open(); else 0 */
	uint64_t digest;      /* of data, when synth_ino is set */
};

static struct fs_handle *handle_new(void)
{
	struct fs_handle *h = calloc(1, sizeof(*h));

	if (h)
		h->fd = -1;
	return h;
}

/*
 * Close @h. When it was the last handle of a staged file that now leaves the staging table,
 * *@ret_dropped (may be NULL) is that file's path (owned).
 */
static void handle_free(struct fs_ctx *ctx, struct fs_handle *h, char **ret_dropped)
{
	char *dropped = NULL;

	if (!h)
		return;
	if (h->st && h->writer)
		fs_staged_end_write(ctx->stage, h->st);
	if (h->st)
		(void)fs_staged_close(ctx->stage, h->st, &dropped);
	if (ret_dropped)
		*ret_dropped = dropped;
	else
		free(dropped);
	if (h->synth_ino)
		fs_inode_synth_close(ctx->inodes, h->synth_ino, h->digest);
	if (h->fd >= 0)
		(void)close(h->fd);
	free(h->data);
	free(h);
}

static bool is_file(enum store_node_kind k)
{
	return k == STORE_NODE_ASSET || k == STORE_NODE_SYNTH;
}

static bool opens_for_writing(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND));
}

static int io_error(struct cafs_error *e, int err, const char *what, const char *path)
{
	return cafs_error_set(e, CAFS_IO, err, "%s '%s': %s", what, path, strerror(err));
}

/* Fill the staging file @fd with the bytes @n shows now (an open without O_TRUNC). */
static int prefill(fuse_req_t req, const char *path, const struct store_node *n, int fd,
		   struct cafs_error *e)
{
	_cleanup_close_ int blob = -1;
	_cleanup_free_ char *data = NULL;
	struct store *s;
	size_t len = 0;
	off_t off = 0;
	ssize_t c;
	int r;

	r = fs_req_store(req, &s, e);
	if (r < 0)
		return r;
	if (n->kind == STORE_NODE_SYNTH) {
		r = store_view_render(s, n, &data, &len, e);
		if (r < 0)
			return r;
		r = fs_pwrite_all(fd, data, len, 0);
		return r < 0 ? io_error(e, -r, "copy the bytes of", path) : 0;
	}
	blob = store_view_open(s, n, e);
	if (blob < 0)
		return blob;
	while ((c = fs_copy_range(blob, off, fd, off, 1u << 30)) > 0)
		off += c;
	return c < 0 ? io_error(e, (int)-c, "copy the bytes of", path) : 0;
}

/* Errors of fs_stage_file_add() for @path. */
static int stage_error(struct cafs_error *e, int r, const char *path)
{
	switch (r) {
	case -ENOMEM:
		return fs_oom(e);
	case -EEXIST:
		return cafs_error_set(e, CAFS_CONFLICT, EEXIST, "'%s' exists", path);
	case -EISDIR:
		return cafs_error_set(e, CAFS_VALIDATION, EISDIR, "'%s' is a folder", path);
	case -EBUSY:
		/* a conflict with the publish under way there, as a conflicting publish is */
		return cafs_error_set(e, CAFS_CONFLICT, EEXIST,
				      "'%s' is being written by another open: one writer at a time",
				      path);
	case -ENOENT:
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "nothing staged at '%s'", path);
	default:
		return io_error(e, -r, "stage", path);
	}
}

/* A new staging file for @path in @h: empty, or with what @n shows when @n is not NULL. */
static int stage_new(fuse_req_t req, const char *path, const struct store_node *n, unsigned flags,
		     struct fs_handle *h, struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	int fd = fs_stage_tmpfile(ctx->stage);
	int r;

	if (fd < 0)
		return io_error(e, -fd, "create a staging file for", path);
	if (n) {
		r = prefill(req, path, n, fd, e);
		if (r < 0) {
			(void)close(fd);
			return r;
		}
	}
	r = fs_stage_file_add(ctx->stage, path, fd, flags | FS_STAGE_OPEN | FS_STAGE_WRITER,
			      &h->st);
	if (r < 0)
		return stage_error(e, r, path);
	h->writer = true;
	return 0;
}

/*
 * Direct I/O for a handle open only to write (cp, tar, rsync, pip and Maven downloads): each
 * write goes from the writer's buffer to the staging file without first filling pages of the
 * mount's own cache that nobody reads (the publish reads the staging file, later readers the
 * blob). A write-only fd cannot be mapped shared, so nothing that direct I/O rules out is lost;
 * a read-write handle keeps the page cache (and mmap).
 */
static bool write_only_direct(int flags)
{
	return (flags & O_ACCMODE) == O_WRONLY;
}

static int do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		   struct fs_inode_info *info, struct fs_handle *h, struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ struct store_node *n = malloc(sizeof(*n));
	unsigned trunc = (fi->flags & O_TRUNC) ? FS_STAGE_TRUNC : 0;
	struct store *s;
	int r;

	if (!n)
		return fs_oom(e);
	r = fs_get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	fi->keep_cache = 0;
	fi->direct_io = 0; /* sizes in stat are exact, so page-cache reads are right */

	/* a file staged at this path: every opener shares it, one writer at a time */
	{
		unsigned w = opens_for_writing(fi->flags) ? FS_STAGE_WRITER : 0;

		r = fs_stage_file_add(ctx->stage, info->path, -1, FS_STAGE_OPEN | trunc | w,
				      &h->st);
		if (r >= 0)
			h->writer = w != 0;
		if (r != -ENOENT)
			return r < 0 ? stage_error(e, r, info->path) : 0;
	}
	if (fs_path_private(info->path))
		return stage_error(e, -ENOENT, info->path);

	r = fs_req_store(req, &s, e);
	if (r < 0)
		return r;
	r = store_view_resolve(s, info->path, n, e);
	if (r < 0)
		return r;
	if (!is_file(n->kind))
		return cafs_error_set(e, CAFS_VALIDATION, EISDIR, "'%s' is a folder", info->path);
	if (n->identity != info->attr.identity)
		/*
		 * The name shows other bytes than this inode stands for. ESTALE makes the
		 * kernel look the name up again and retry the open on the new inode.
		 */
		return cafs_error_set(e, CAFS_NOT_FOUND, ESTALE,
				      "'%s' changed since it was looked up", info->path);
	r = fs_authorize(req, info->path, "ReadFromRepository", e);
	if (r < 0)
		return r;
	if (opens_for_writing(fi->flags))
		/* O_TRUNC starts empty (Maven, and mv from elsewhere, write over existing paths) */
		return stage_new(req, info->path, trunc ? NULL : n, trunc ? trunc : FS_STAGE_COPY,
				 h, e);
	if (n->kind == STORE_NODE_ASSET) {
		r = store_view_open(s, n, e);
		if (r < 0)
			return r;
		h->fd = r;
		/*
		 * The inode's bytes never change. An asset fetched from a source by this open
		 * was sized by the source's word (or not at all): read it past the page cache;
		 * the next lookup finds the stored asset with its exact size.
		 */
		fi->keep_cache = !n->external;
		fi->direct_io = n->external;
		return 0;
	}
	/* made anew at every open; the kernel's cached pages are kept while the bytes are the same
	 */
	r = store_view_render(s, n, &h->data, &h->len, e);
	if (r < 0)
		return r;
	h->digest = store_view_digest(h->data, h->len);
	h->synth_ino = ino;
	fi->keep_cache = fs_inode_synth_open(ctx->inodes, ino, h->digest);
	return 0;
}

void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct fs_handle *h = handle_new();
	struct cafs_error e;

	if (!h) {
		(void)fs_oom(&e);
		fs_reply_error(req, "open", NULL, &e);
		return;
	}
	if (do_open(req, ino, fi, &info, h, &e) < 0) {
		handle_free(ctx, h, NULL);
		fs_reply_error(req, "open", info.path, &e);
		return;
	}
	if (h->st)
		fi->direct_io = write_only_direct(fi->flags);
	else
		fi->noflush = 1; /* nothing to publish: close() need not wait for a FLUSH */
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) != 0)
		handle_free(ctx, h, NULL); /* no release will come */
}

/* A new staged file @name in @parent; for create, @h gets it open. */
static int do_create(fuse_req_t req, fuse_ino_t parent, const char *name, int flags,
		     struct fs_handle *h, struct fuse_entry_param *ep, char **ret_path,
		     struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_(fs_inode_info_done) struct fs_inode_info dir = {0};
	unsigned sflags = FS_STAGE_EXCL;
	struct fs_attr a;
	fuse_ino_t ino;
	int r;

	r = fs_get_inode(ctx, parent, &dir, e);
	if (r < 0)
		return r;
	if (strlen(name) > CAFS_ASSET_NAME_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG,
				      "a name of %zu bytes: at most %d are allowed", strlen(name),
				      CAFS_ASSET_NAME_MAX);
	*ret_path = fs_child_path(dir.path, name);
	if (!*ret_path)
		return fs_oom(e);
	if (h && !(flags & O_EXCL))
		/* the kernel thought the name absent; if it is staged by now, share that file */
		sflags = (flags & O_TRUNC) ? FS_STAGE_TRUNC : 0;
	if (sflags & FS_STAGE_EXCL) {
		r = fs_node_at(ctx, *ret_path, &a, NULL, e);
		if (r == 0)
			return cafs_error_set(e, CAFS_CONFLICT, EEXIST, "'%s' exists", *ret_path);
		if (e->kind != CAFS_NOT_FOUND)
			return r;
	}
	if (h) {
		r = stage_new(req, *ret_path, NULL, sflags, h, e);
	} else {
		int fd = fs_stage_tmpfile(ctx->stage);

		if (fd < 0)
			return io_error(e, -fd, "create a staging file for", *ret_path);
		r = fs_stage_file_add(ctx->stage, *ret_path, fd, sflags, NULL);
		if (r < 0)
			r = stage_error(e, r, *ret_path);
	}
	if (r < 0)
		return r;
	r = fs_node_at(ctx, *ret_path, &a, NULL, e);
	if (r < 0)
		return r;
	if (fs_inode_ref(ctx->inodes, *ret_path, parent, &a, &ino) < 0)
		return fs_oom(e);
	fs_fill_entry(ctx, ino, &a, ep);
	fs_inval_forget_negative(ctx, parent, name);
	return 0;
}

void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ char *path = NULL;
	struct fs_handle *h = handle_new();
	struct fuse_entry_param ep;
	struct cafs_error e;

	if (!h) {
		(void)fs_oom(&e);
		fs_reply_error(req, "create", name, &e);
		return;
	}
	if (do_create(req, parent, name, fi->flags, h, &ep, &path, &e) < 0) {
		handle_free(ctx, h, NULL);
		fs_reply_error(req, "create", path ? path : name, &e);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->keep_cache = 0;
	fi->direct_io = write_only_direct(fi->flags);
	if (fuse_reply_create(req, &ep, fi) != 0) {
		/* interrupted: no release will come, and the kernel did not take the entry */
		handle_free(ctx, h, NULL);
		fs_inode_forget(ctx->inodes, ep.ino, 1);
		return;
	}
	fs_inval_name(ctx, parent, NULL);
}

void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ char *path = NULL;
	struct fuse_entry_param ep;
	struct cafs_error e;

	if (!S_ISREG(mode)) {
		(void)cafs_error_set(&e, CAFS_VALIDATION, EPERM,
				     "only regular files can be made here ('%s')", name);
		fs_reply_error(req, "mknod", name, &e);
		return;
	}
	if (do_create(req, parent, name, O_EXCL, NULL, &ep, &path, &e) < 0) {
		fs_reply_error(req, "mknod", path ? path : name, &e);
		return;
	}
	if (fuse_reply_entry(req, &ep) != 0) {
		fs_inode_forget(ctx->inodes, ep.ino, 1);
		return;
	}
	fs_inval_name(ctx, parent, NULL);
}

void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	const struct fs_handle *h = (const struct fs_handle *)(uintptr_t)fi->fh;
	struct fs_stage *stage = fs_ctx_of(req)->stage;
	_cleanup_free_ char *copy = NULL;
	struct cafs_error e;

	if (h->st) {
		struct fs_staged *st = h->st; /* h may go with the reply; st stays till io_end */
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fs_staged_read_begin(stage, st);
		bv.buf[0].pos = off;
		(void)fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		fs_staged_io_end(stage, st);
		return;
	}
	if (h->fd >= 0) {
		/*
		 * Straight from the blob or the staging file: libfuse splices the fd into
		 * /dev/fuse where it can and reads into a buffer where it cannot; a failed read is
		 * answered by libfuse itself with the read's errno.
		 */
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = h->fd;
		bv.buf[0].pos = off;
		(void)fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	if (off < 0 || (size_t)off >= h->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > h->len - (size_t)off)
		size = h->len - (size_t)off;
	/*
	 * Reply from a copy: the kernel may send RELEASE (which frees h) as soon as it has the
	 * reply, before fuse_reply_buf() returns here, and ASan's writev interceptor reads the
	 * iovec after the syscall. Synthesized files are small.
	 */
	copy = malloc(size);
	if (!copy) {
		(void)fs_oom(&e);
		fs_reply_error(req, "read", NULL, &e);
		return;
	}
	memcpy(copy, h->data + off, size);
	fuse_reply_buf(req, copy, size);
}

/* The handle's staged file, or EBADF: the kernel writes only through handles open to write. */
static struct fs_staged *staged_of(struct fuse_file_info *fi, struct cafs_error *e)
{
	struct fs_handle *h = fi ? (struct fs_handle *)(uintptr_t)fi->fh : NULL;

	if (!h || !h->st) {
		(void)cafs_error_set(e, CAFS_VALIDATION, EBADF, "not open for writing");
		return NULL;
	}
	return h->st;
}

void fs_op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
		     struct fuse_file_info *fi)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(bufv));
	struct fs_staged *st;
	struct cafs_error e;
	ssize_t n;

	st = staged_of(fi, &e);
	if (!st) {
		fs_reply_error(req, "write", NULL, &e);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = fs_staged_write_begin(ctx->stage, st);
	out.buf[0].pos = off;
	if (out.buf[0].fd < 0) {
		n = out.buf[0].fd;
	} else {
		n = fuse_buf_copy(&out, bufv, 0);
		fs_staged_io_end(ctx->stage, st);
	}
	if (n < 0) {
		(void)cafs_error_set(&e, CAFS_IO, (int)-n, "write to a staging file: %s",
				     strerror((int)-n));
		fs_reply_error(req, "write", NULL, &e);
		return;
	}
	fs_staged_changed(ctx->stage, st);
	fuse_reply_write(req, (size_t)n);
}

/* What the publish callback of a flush needs, and what it leaves. */
struct publish_arg {
	fuse_req_t req;
	struct cafs_error *e;
	struct store *s; /* set once called */
	char *path;      /* owned: the path published */
};

static int publish_one(void *arg, const char *path, int fd, bool adopt)
{
	struct publish_arg *p = arg;
	struct store_write_file f = {.path = path, .fd = fd, .adopt = adopt};
	int r;

	r = fs_req_store(p->req, &p->s, p->e);
	if (r < 0)
		return r;
	p->path = strdup(path);
	if (!p->path)
		return fs_oom(p->e);
	return store_view_write(p->s, &f, 1, false, p->e);
}

void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	struct cafs_error e;
	struct publish_arg p = {.req = req, .e = &e};
	int r;

	if (!h || !h->st) {
		fuse_reply_err(req, 0);
		return;
	}
	r = fs_staged_flush(ctx->stage, h->st, publish_one, &p);
	if (r == -ENOMEM && !p.s)
		(void)fs_oom(&e); /* before the callback, which fills @e itself */
	if (r != 0)
		/*
		 * Written bytes sit in the page cache of this inode: drop them, so that what is
		 * read next is what the store has (the old bytes after a refusal). Safe before
		 * the reply: a flush holds no lock of the kernel's.
		 */
		(void)fuse_lowlevel_notify_inval_inode(ctx->se, ino, 0, 0);
	if (r > 0) {
		fs_settle_pending(ctx, p.s, p.path);
		/* index pages, listings and names elsewhere show the new version at once */
		fs_inval_kick(ctx, FLUSH_INVAL_WAIT_MS);
	}
	if (r < 0)
		fs_reply_error(req, "publish", p.path, &e);
	else
		fuse_reply_err(req, 0);
	free(p.path);
}

void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	_cleanup_free_ struct store_node *n = NULL;
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ char *dropped = NULL;
	struct cafs_error e;
	struct store *s;

	handle_free(ctx, (struct fs_handle *)(uintptr_t)fi->fh, &dropped);
	fuse_reply_err(req, 0);
	if (!dropped || fs_get_inode(ctx, ino, &info, &e) < 0 || strcmp(info.path, dropped) != 0)
		return;
	/*
	 * The staged file left; when the store shows a file at its path now (published in
	 * place), that is another inode: the kernel must look the name up again. When it shows
	 * nothing (published elsewhere, refused), the name lives out its short entry timeout,
	 * so that a chmod right after close (install) still finds it.
	 */
	n = malloc(sizeof(*n));
	if (!n || fs_thread_store(ctx, &s, &e) < 0)
		return;
	if (store_view_resolve(s, dropped, n, &e) == 0)
		fs_inval_name(ctx, info.parent, fs_base_name(dropped));
	else
		/* gone from the listing: a listing the kernel keeps must be taken again */
		(void)fuse_lowlevel_notify_inval_inode(ctx->se, info.parent, 0, 0);
	/* pending folders above it could not settle while it was staged below them */
	fs_settle_pending(ctx, s, dropped);
}

static int published_error(struct cafs_error *e, const char *path)
{
	return cafs_error_set(e, CAFS_VALIDATION, EROFS,
			      "'%s' is published: its bytes cannot change in place (write it anew "
			      "with O_TRUNC)",
			      path);
}

/*
 * Truncate what @ino shows to @size: a staged file only, and not one that began as a copy of
 * a published file (truncate(1) opens without O_TRUNC, then truncates).
 */
static int truncate_to(struct fs_ctx *ctx, fuse_ino_t ino, struct fuse_file_info *fi, off_t size,
		       struct cafs_error *e)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	struct fs_handle *h = fi ? (struct fs_handle *)(uintptr_t)fi->fh : NULL;
	struct fs_staged *st = h ? h->st : NULL;
	bool taken = !st, writer = false;
	struct fs_attr a;
	int r;

	r = fs_get_inode(ctx, ino, &info, e);
	if (r < 0)
		return r;
	if (taken) {
		/*
		 * As a writer while it truncates, so that an O_TRUNC open cannot truncate the file
		 * under the copy of its bytes below; when a handle writes there already, that
		 * open is refused anyway.
		 */
		r = fs_stage_file_add(ctx->stage, info.path, -1, FS_STAGE_WRITER, &st);
		writer = r >= 0;
		if (r == -EBUSY)
			r = fs_stage_file_add(ctx->stage, info.path, -1, 0, &st);
		if (r == -ENOENT) {
			r = fs_node_at(ctx, info.path, &a, NULL, e);
			if (r < 0)
				return r;
			if (!is_file(a.kind))
				return cafs_error_set(e, CAFS_VALIDATION, EISDIR,
						      "'%s' is a folder", info.path);
			return published_error(e, info.path);
		}
		if (r < 0)
			return stage_error(e, r, info.path);
	}
	if (fs_staged_copy(ctx->stage, st))
		r = published_error(e, info.path);
	else if ((r = fs_staged_write_begin(ctx->stage, st)) < 0)
		r = io_error(e, -r, "copy the bytes of", info.path);
	else {
		r = ftruncate(r, size) < 0 ? io_error(e, errno, "truncate", info.path) : 0;
		fs_staged_io_end(ctx->stage, st);
	}
	if (r == 0)
		fs_staged_changed(ctx->stage, st);
	if (writer)
		fs_staged_end_write(ctx->stage, st);
	if (taken)
		fs_staged_unref(ctx->stage, st);
	return r;
}

/* A staged file keeps the modification time set on it (rsync -a, tar, cp -p); others do not. */
static void set_mtime(struct fs_ctx *ctx, fuse_ino_t ino, struct fuse_file_info *fi,
		      const struct stat *attr, int to_set)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	struct fs_handle *h = fi ? (struct fs_handle *)(uintptr_t)fi->fh : NULL;
	struct fs_staged *st = h ? h->st : NULL;
	struct timespec now;
	int64_t us;

	if (!st && (fs_inode_get(ctx->inodes, ino, &info) < 0 ||
		    fs_stage_file_add(ctx->stage, info.path, -1, 0, &st) < 0))
		return;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		(void)clock_gettime(CLOCK_REALTIME, &now);
		us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	} else {
		us = (int64_t)attr->st_mtim.tv_sec * 1000000 + attr->st_mtim.tv_nsec / 1000;
	}
	fs_staged_set_mtime(ctx->stage, st, us);
	if (!h || !h->st)
		fs_staged_unref(ctx->stage, st);
}

void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct cafs_error e;
	struct stat st;
	double timeout;

	if ((to_set & FUSE_SET_ATTR_SIZE) && truncate_to(ctx, ino, fi, attr->st_size, &e) < 0) {
		(void)fs_inode_get(ctx->inodes, ino, &info);
		fs_reply_error(req, "truncate", info.path, &e);
		return;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))
		set_mtime(ctx, ino, fi, attr, to_set);
	/*
	 * Mode, owner and times are absorbed (DESIGN.md §9): published files have the store's.
	 * The reply is what the inode shows now, or, when its name went since (a file published
	 * under another path), what it showed last: the change is accepted either way.
	 */
	if (fs_getattr_of(ctx, ino, &info, &st, &timeout, &e) < 0) {
		if (!info.path || e.kind != CAFS_NOT_FOUND) {
			fs_reply_error(req, "setattr", info.path, &e);
			return;
		}
		fs_fill_stat(ctx, ino, &info.attr, &st);
		timeout = 0;
	}
	fuse_reply_attr(req, &st, timeout);
}

/*
 * The bytes copy_file_range moves from @in at @off_in to @st at @off_out: a whole published
 * asset into an empty file is taken by reference (no byte moves, and the publish at flush
 * finds the blob without reading it); otherwise a copy in the kernel between the blob or
 * staging file and the staging file, or from a synthesized file's bytes.
 */
static ssize_t copy_into(struct fs_ctx *ctx, const struct fs_handle *in, off_t off_in,
			 struct fs_staged *st, off_t off_out, size_t len)
{
	struct stat sb;
	ssize_t n;
	int out, r;

	if (in->fd >= 0) {
		if (fstat(in->fd, &sb) < 0)
			return -errno;
		if (off_in >= sb.st_size)
			return 0;
		if (off_in == 0 && off_out == 0 && len >= (size_t)sb.st_size) {
			r = fs_staged_reference(ctx->stage, st, in->fd);
			if (r != 0)
				return r < 0 ? r : sb.st_size;
		}
	}
	out = fs_staged_write_begin(ctx->stage, st);
	if (out < 0)
		return out;
	if (in->st) {
		/* shared twice when in->st == st: the default rwlock lets readers in again */
		n = fs_copy_range(fs_staged_read_begin(ctx->stage, in->st), off_in, out, off_out,
				  len);
		fs_staged_io_end(ctx->stage, in->st);
	} else if (in->fd >= 0) {
		n = fs_copy_range(in->fd, off_in, out, off_out, len);
	} else if (off_in < 0 || (size_t)off_in >= in->len) {
		n = 0;
	} else {
		n = (ssize_t)(in->len - (size_t)off_in < len ? in->len - (size_t)off_in : len);
		r = fs_pwrite_all(out, in->data + off_in, (size_t)n, off_out);
		if (r < 0)
			n = r;
	}
	fs_staged_io_end(ctx->stage, st);
	return n;
}

void fs_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			   struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			   struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	const struct fs_handle *in = (const struct fs_handle *)(uintptr_t)fi_in->fh;
	struct fs_staged *st;
	struct cafs_error e;
	ssize_t n;

	st = staged_of(fi_out, &e);
	if (!st) {
		fs_reply_error(req, "copy_file_range", NULL, &e);
		return;
	}
	if (flags != 0) {
		(void)cafs_error_set(&e, CAFS_VALIDATION, EINVAL, "copy_file_range flags %#x",
				     (unsigned)flags);
		fs_reply_error(req, "copy_file_range", NULL, &e);
		return;
	}
	n = copy_into(ctx, in, off_in, st, off_out, len);
	if (n < 0) {
		(void)cafs_error_set(&e, CAFS_IO, (int)-n, "copy into a staging file: %s",
				     strerror((int)-n));
		fs_reply_error(req, "copy_file_range", NULL, &e);
		return;
	}
	if (n > 0)
		fs_staged_changed(ctx->stage, st);
	fuse_reply_write(req, (size_t)n);
}
