/* SPDX-License-Identifier: MIT */
/*
 * The FUSE low-level operations: a thin adapter in the manner of squashfuse's ll.c. Each op
 * turns an inode into a path (fs/inode.c), asks the client view (store/view.h) through the
 * calling thread's store handle, and replies once; every error reply goes through
 * fs_error_reply_errno(), which logs it and maps it to the errno of DESIGN.md §5. No SQL, no
 * JSON, no policy here.
 *
 * What the kernel is told: folders are 0555 directories, files 0444 regular files with their
 * exact size, everything owned by the mounting user. Folders and synthesized files are
 * trusted for FS_TIMEOUT_FOLDER; assets for FS_TIMEOUT_ASSET, which is safe because an
 * asset's inode number changes whenever its bytes could (fs/inode.c), and its page cache is
 * kept across opens for the same reason. Names that are not there are cached as negative
 * entries for FS_TIMEOUT_NEGATIVE.
 *
 * This is the read side. Writing is publishing (DESIGN.md §3) and comes later: until then
 * every operation that would change the tree answers EROFS, and setxattr absorbs foreign
 * user.* names so that cp -a and rsync -X do not fail on them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/internal.h"
#include "policy/common.h"
#include "store/store.h"
#include "store/view.h"

/* An open file: an fd on the asset's blob, or the bytes of a synthesized file. */
struct fs_handle {
	int fd;     /* asset: owned; -1 for a synthesized file */
	char *data; /* synthesized: owned bytes, rendered at open */
	size_t len;
};

/* One entry of an open folder. */
struct fs_dirent {
	char *name; /* owned */
	struct fs_attr attr;
	fuse_ino_t ino; /* "." and "..": known; 0: computed from the table when served */
};

/* An open folder: its listing, taken once at opendir and served by offset (index + 1). */
struct fs_dir {
	char *path; /* owned */
	fuse_ino_t ino;
	size_t n, cap;
	struct fs_dirent *ents; /* owned; [0] ".", [1] "..", then the listing in store order */
};

static struct fs_ctx *ctx_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static bool is_file(enum store_node_kind k)
{
	return k == STORE_NODE_ASSET || k == STORE_NODE_SYNTH;
}

static double timeout_of(enum store_node_kind k)
{
	return k == STORE_NODE_ASSET ? FS_TIMEOUT_ASSET : FS_TIMEOUT_FOLDER;
}

static void attr_of_node(const struct store_node *n, struct fs_attr *ret)
{
	ret->kind = n->kind;
	ret->identity = n->identity;
	ret->size = is_file(n->kind) ? n->size : 0;
	ret->mtime_us = n->mtime_us;
}

static void fill_stat(const struct fs_ctx *ctx, fuse_ino_t ino, const struct fs_attr *a,
		      struct stat *st)
{
	int64_t mtime_us;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (is_file(a->kind)) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)a->size;
		st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	} else {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	}
	st->st_uid = ctx->uid;
	st->st_gid = ctx->gid;
	st->st_blksize = 4096;
	/* folders above version level and most synthesized files carry no time of their own */
	mtime_us = a->mtime_us > 0 ? a->mtime_us : ctx->mount_us;
	st->st_mtim.tv_sec = (time_t)(mtime_us / 1000000);
	st->st_mtim.tv_nsec = (long)(mtime_us % 1000000) * 1000;
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

static void fill_entry(const struct fs_ctx *ctx, fuse_ino_t ino, const struct fs_attr *a,
		       struct fuse_entry_param *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->ino = ino;
	fill_stat(ctx, ino, a, &ep->attr);
	ep->attr_timeout = timeout_of(a->kind);
	ep->entry_timeout = timeout_of(a->kind);
}

static int oom(struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
}

/* "@dir/@name", with "/" as the root. Owned; NULL on ENOMEM. */
static char *child_path(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	bool root = a == 1 && dir[0] == '/';
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	if (root) {
		p[0] = '/';
		memcpy(p + 1, name, b + 1);
	} else {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

static void inode_info_done(struct fs_inode_info *i)
{
	free(i->path);
	i->path = NULL;
}

static int get_inode(struct fs_ctx *ctx, fuse_ino_t ino, struct fs_inode_info *ret,
		     struct cafs_error *e)
{
	int r = fs_inode_get(ctx->inodes, ino, ret);

	if (r == -ENOMEM)
		return oom(e);
	if (r < 0)
		return cafs_error_set(e, CAFS_INTERNAL, ESTALE, "unknown inode %" PRIu64,
				      (uint64_t)ino);
	return 0;
}

/* Resolve @path with the calling thread's store; *@ret_s is that (borrowed) handle. */
static int resolve(struct fs_ctx *ctx, const char *path, struct store **ret_s,
		   struct store_node *ret, struct cafs_error *e)
{
	int r = fs_thread_store(ctx, ret_s, e);

	if (r < 0)
		return r;
	return store_view_resolve(*ret_s, path, ret, e);
}

/* Audit rows written on behalf of a request name its caller. */
static void set_actor(fuse_req_t req, struct store *s)
{
	char who[32];

	(void)snprintf(who, sizeof(who), "uid:%u", (unsigned)fuse_req_ctx(req)->uid);
	store_set_actor(s, who);
}

static void reply_error(fuse_req_t req, const char *op, const char *path,
			const struct cafs_error *e)
{
	fuse_reply_err(req, fs_error_reply_errno(op, path, e));
}

/* --- session --- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* asset reads splice from the blob's fd straight into /dev/fuse */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/* no lookup of "." and ".." by inode: the table only knows what the kernel holds */
	conn->want &= ~FUSE_CAP_EXPORT_SUPPORT;
}

/* --- names and attributes --- */

static int do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name,
		     struct fuse_entry_param *ep, char **ret_path, struct cafs_error *e)
{
	struct fs_ctx *ctx = ctx_of(req);
	_cleanup_(inode_info_done) struct fs_inode_info dir = {0};
	struct store *s;
	struct store_node n;
	struct fs_attr a;
	fuse_ino_t ino;
	int r;

	r = get_inode(ctx, parent, &dir, e);
	if (r < 0)
		return r;
	*ret_path = child_path(dir.path, name);
	if (!*ret_path)
		return oom(e);
	r = resolve(ctx, *ret_path, &s, &n, e);
	if (r < 0)
		return r;
	attr_of_node(&n, &a);
	if (fs_inode_ref(ctx->inodes, *ret_path, parent, &a, &ino) < 0)
		return oom(e);
	fill_entry(ctx, ino, &a, ep);
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	_cleanup_free_ char *path = NULL;
	struct fuse_entry_param ep;
	struct cafs_error e;
	int err;

	if (do_lookup(req, parent, name, &ep, &path, &e) == 0) {
		if (fuse_reply_entry(req, &ep) != 0)
			fs_inode_forget(ctx_of(req)->inodes, ep.ino,
					1); /* the kernel did not take it */
		return;
	}
	err = fs_error_reply_errno("lookup", path ? path : name, &e);
	if (err == ENOENT) {
		/* a negative entry: the kernel need not ask again for a while */
		memset(&ep, 0, sizeof(ep));
		ep.entry_timeout = FS_TIMEOUT_NEGATIVE;
		fs_inval_note_negative(ctx_of(req), parent, name);
		fuse_reply_entry(req, &ep);
		return;
	}
	fuse_reply_err(req, err);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_inode_forget(ctx_of(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs_ctx *ctx = ctx_of(req);

	for (size_t i = 0; i < count; i++)
		fs_inode_forget(ctx->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static int do_getattr(fuse_req_t req, fuse_ino_t ino, struct fs_inode_info *info, struct stat *st,
		      double *ret_timeout, struct cafs_error *e)
{
	struct fs_ctx *ctx = ctx_of(req);
	struct store *s;
	struct store_node n;
	struct fs_attr a;
	int r;

	r = get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	if (info->attr.kind == STORE_NODE_ASSET) {
		/*
		 * An asset inode stands for fixed bytes; what the table kept is the truth even
		 * when the path shows other bytes by now (like an unlinked, still open file).
		 */
		a = info->attr;
	} else {
		r = resolve(ctx, info->path, &s, &n, e);
		if (r < 0)
			return r;
		attr_of_node(&n, &a);
	}
	fill_stat(ctx, ino, &a, st);
	*ret_timeout = timeout_of(a.kind);
	return 0;
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_(inode_info_done) struct fs_inode_info info = {0};
	struct cafs_error e;
	struct stat st;
	double timeout;

	if (do_getattr(req, ino, &info, &st, &timeout, &e) < 0)
		reply_error(req, "getattr", info.path, &e);
	else
		fuse_reply_attr(req, &st, timeout);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st = {
		.f_bsize = 4096,
		.f_frsize = 4096,
		.f_namemax = 255,
	};

	fuse_reply_statfs(req, &st);
}

/* --- folders --- */

static void dir_free(struct fs_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	free(d->path);
	free(d);
}

static void dir_freep(struct fs_dir **d)
{
	dir_free(*d);
}

static int dir_add(struct fs_dir *d, const char *name, const struct fs_attr *a, fuse_ino_t ino)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct fs_dirent *ents = reallocarray(d->ents, cap, sizeof(*ents));

		if (!ents)
			return -ENOMEM;
		d->ents = ents;
		d->cap = cap;
	}
	d->ents[d->n].name = strdup(name);
	if (!d->ents[d->n].name)
		return -ENOMEM;
	d->ents[d->n].attr = *a;
	d->ents[d->n].ino = ino;
	d->n++;
	return 0;
}

static int collect_entry(void *ctx, const char *name, const struct store_node *child)
{
	struct fs_attr a;

	attr_of_node(child, &a);
	return dir_add(ctx, name, &a, 0);
}

static int do_opendir(fuse_req_t req, fuse_ino_t ino, struct fs_inode_info *info,
		      struct fs_dir **ret, struct cafs_error *e)
{
	struct fs_ctx *ctx = ctx_of(req);
	_cleanup_(dir_freep) struct fs_dir *d = NULL;
	struct fs_attr self, up = {.kind = STORE_NODE_ROOT};
	struct store *s;
	struct store_node n;
	int r;

	r = get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	r = resolve(ctx, info->path, &s, &n, e);
	if (r < 0)
		return r;
	if (is_file(n.kind))
		return cafs_error_set(e, CAFS_VALIDATION, ENOTDIR, "'%s' is no folder", info->path);
	d = calloc(1, sizeof(*d));
	if (!d)
		return oom(e);
	d->path = strdup(info->path);
	if (!d->path)
		return oom(e);
	d->ino = ino;
	attr_of_node(&n, &self);
	if (dir_add(d, ".", &self, ino) < 0 || dir_add(d, "..", &up, info->parent) < 0)
		return oom(e);
	r = store_view_readdir(s, &n, collect_entry, d, e);
	if (r == -ENOMEM)
		return oom(e); /* from collect_entry, which leaves @e alone */
	if (r < 0)
		return r;
	*ret = steal_ptr(&d);
	return 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_(inode_info_done) struct fs_inode_info info = {0};
	struct fs_dir *d = NULL;
	struct cafs_error e;

	if (do_opendir(req, ino, &info, &d, &e) < 0) {
		reply_error(req, "opendir", info.path, &e);
		return;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0)
		dir_free(d); /* interrupted: no releasedir will come */
}

/* The inode number a plain readdir reports for entry @i (the one a lookup would give). */
static fuse_ino_t dirent_ino(struct fs_ctx *ctx, const struct fs_dir *d, size_t i)
{
	_cleanup_free_ char *path = NULL;

	if (d->ents[i].ino)
		return d->ents[i].ino;
	path = child_path(d->path, d->ents[i].name);
	return path ? fs_inode_peek(ctx->inodes, path, d->ents[i].attr.identity) : 0;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct fs_ctx *ctx = ctx_of(req);
	const struct fs_dir *d = (const struct fs_dir *)(uintptr_t)fi->fh;
	_cleanup_free_ char *buf = malloc(size);
	struct cafs_error e;
	size_t pos = 0;

	if (!buf) {
		oom(&e);
		reply_error(req, "readdir", d->path, &e);
		return;
	}
	for (size_t i = off > 0 ? (size_t)off : 0; i < d->n; i++) {
		struct stat st = {
			.st_ino = dirent_ino(ctx, d, i),
			.st_mode = is_file(d->ents[i].attr.kind) ? S_IFREG : S_IFDIR,
		};
		size_t need = fuse_add_direntry(req, buf + pos, size - pos, d->ents[i].name, &st,
						(off_t)(i + 1));

		if (need > size - pos)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
}

/* Take back the lookups counted for entries [@start, @end) of @d. */
static void uncount(struct fs_ctx *ctx, const struct fs_dir *d, size_t start, size_t end)
{
	for (size_t i = start; i < end; i++) {
		_cleanup_free_ char *path = NULL;

		if (d->ents[i].ino)
			continue; /* "." and "..": never counted */
		path = child_path(d->path, d->ents[i].name);
		if (path)
			fs_inode_forget(ctx->inodes,
					fs_inode_peek(ctx->inodes, path, d->ents[i].attr.identity),
					1);
	}
}

/*
 * Like readdir, with each entry's attributes and a lookup counted for it, as a lookup of the
 * name would (the kernel forgets it later). "." and ".." carry no lookup: the kernel ignores
 * their attributes and would never forget them.
 */
static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	struct fs_ctx *ctx = ctx_of(req);
	const struct fs_dir *d = (const struct fs_dir *)(uintptr_t)fi->fh;
	_cleanup_free_ char *buf = malloc(size);
	size_t start = off > 0 ? (size_t)off : 0, end = start;
	struct cafs_error e;
	size_t pos = 0;

	if (!buf) {
		oom(&e);
		reply_error(req, "readdirplus", d->path, &e);
		return;
	}
	for (size_t i = start; i < d->n; i++) {
		const struct fs_dirent *de = &d->ents[i];
		size_t need = fuse_add_direntry_plus(req, NULL, 0, de->name, NULL, 0);
		struct fuse_entry_param ep;

		/* checked before the lookup is counted: none may be counted for an entry not sent
		 */
		if (need > size - pos)
			break;
		if (de->ino) {
			memset(&ep, 0, sizeof(ep));
			fill_stat(ctx, de->ino, &de->attr, &ep.attr);
		} else {
			_cleanup_free_ char *path = child_path(d->path, de->name);
			fuse_ino_t child;

			if (!path ||
			    fs_inode_ref(ctx->inodes, path, d->ino, &de->attr, &child) < 0) {
				if (pos > 0)
					break; /* send what we have; the kernel asks again */
				oom(&e);
				reply_error(req, "readdirplus", d->path, &e);
				return;
			}
			fill_entry(ctx, child, &de->attr, &ep);
			/*
			 * The listing was taken at opendir: trust the name for a short while only,
			 * so a name whose bytes changed since is looked up again soon.
			 */
			ep.entry_timeout = FS_TIMEOUT_FOLDER;
		}
		(void)fuse_add_direntry_plus(req, buf + pos, size - pos, de->name, &ep,
					     (off_t)(i + 1));
		pos += need;
		end = i + 1;
	}
	if (fuse_reply_buf(req, buf, pos) != 0)
		uncount(ctx, d, start, end); /* the kernel did not take them */
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dir_free((struct fs_dir *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* --- files --- */

static void handle_free(struct fs_handle *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		(void)close(h->fd);
	free(h->data);
	free(h);
}

static int do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		   struct fs_inode_info *info, struct cafs_error *e)
{
	struct fs_ctx *ctx = ctx_of(req);
	struct fs_handle *h;
	struct store *s;
	struct store_node n;
	int r;

	r = get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	/* The write side (publishing on close, DESIGN.md §3) is not built yet. */
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
		return cafs_error_set(e, CAFS_ACCESS_DENIED, EROFS,
				      "'%s' cannot be written: the mount is read-only for now",
				      info->path);
	r = resolve(ctx, info->path, &s, &n, e);
	if (r < 0)
		return r;
	if (!is_file(n.kind))
		return cafs_error_set(e, CAFS_VALIDATION, EISDIR, "'%s' is a folder", info->path);
	if (n.identity != info->attr.identity)
		/*
		 * The name shows other bytes than this inode stands for. ESTALE makes the
		 * kernel look the name up again and retry the open on the new inode.
		 */
		return cafs_error_set(e, CAFS_NOT_FOUND, ESTALE,
				      "'%s' changed since it was looked up", info->path);
	h = calloc(1, sizeof(*h));
	if (!h)
		return oom(e);
	h->fd = -1;
	if (n.kind == STORE_NODE_ASSET) {
		set_actor(req, s);
		r = store_view_open(s, &n, e);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		h->fd = r;
		fi->keep_cache = 1; /* the inode's bytes never change */
	} else {
		r = store_view_render(s, &n, &h->data, &h->len, e);
		if (r < 0) {
			handle_free(h);
			return r;
		}
		fi->keep_cache = 0; /* made anew at every open */
		fi->direct_io = 0;  /* the size in stat is exact, so page-cache reads are right */
	}
	fi->fh = (uintptr_t)h;
	return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_(inode_info_done) struct fs_inode_info info = {0};
	struct cafs_error e;

	if (do_open(req, ino, fi, &info, &e) < 0) {
		reply_error(req, "open", info.path, &e);
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		handle_free((struct fs_handle *)(uintptr_t)fi->fh); /* no release will come */
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	const struct fs_handle *h = (const struct fs_handle *)(uintptr_t)fi->fh;
	_cleanup_free_ char *copy = NULL;
	struct cafs_error e;

	if (h->fd >= 0) {
		/*
		 * Straight from the blob: libfuse splices the fd into /dev/fuse where it can and
		 * reads into a buffer where it cannot; a failed read is answered by libfuse
		 * itself with the read's errno.
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
		(void)oom(&e);
		reply_error(req, "read", NULL, &e);
		return;
	}
	memcpy(copy, h->data + off, size);
	fuse_reply_buf(req, copy, size);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	handle_free((struct fs_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* --- extended attributes (DESIGN.md §4) --- */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Both xattr reads: with @size 0 the kernel asks for the length only. Never ENOSYS: the kernel
 * would turn extended attributes off for the whole mount.
 */
static int do_xattr_read(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size,
			 struct fs_inode_info *info, char **ret_buf, struct cafs_error *e)
{
	struct fs_ctx *ctx = ctx_of(req);
	struct store *s;
	struct store_node n;
	int r;

	r = get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	if (name && has_prefix(name, "system.posix_acl_"))
		/* routine (ls -l asks): NotFound keeps the log line at debug level */
		return cafs_error_set(e, CAFS_NOT_FOUND, EOPNOTSUPP, "no POSIX ACLs ('%s')", name);
	r = resolve(ctx, info->path, &s, &n, e);
	if (r < 0)
		return r;
	if (size > 0) {
		*ret_buf = malloc(size);
		if (!*ret_buf)
			return oom(e);
	}
	if (name)
		return store_view_xattr_get(s, &n, name, *ret_buf, size, e);
	return store_view_xattr_list(s, &n, *ret_buf, size, e);
}

static void reply_xattr_read(fuse_req_t req, const char *op, fuse_ino_t ino, const char *name,
			     size_t size)
{
	_cleanup_(inode_info_done) struct fs_inode_info info = {0};
	_cleanup_free_ char *buf = NULL;
	struct cafs_error e;
	int r;

	r = do_xattr_read(req, ino, name, size, &info, &buf, &e);
	if (r < 0)
		reply_error(req, op, info.path, &e);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	reply_xattr_read(req, "getxattr", ino, name, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr_read(req, "listxattr", ino, NULL, size);
}

/*
 * setxattr and removexattr: POSIX ACLs are refused with EOPNOTSUPP (EPERM would break cp -a);
 * cafs' own names are read-only until the write side exists (user.cafs.status and the origin
 * controls will be settable); other user.* names, copied in by cp -a and rsync -X, are
 * accepted and dropped; other namespaces are not supported.
 */
static int do_xattr_write(fuse_req_t req, const char *op, fuse_ino_t ino, const char *name,
			  struct fs_inode_info *info, struct cafs_error *e)
{
	int r;

	if (has_prefix(name, "user.") && !has_prefix(name, "user.cafs."))
		return 0;
	r = get_inode(ctx_of(req), ino, info, e);
	if (r < 0)
		return r;
	if (has_prefix(name, "system.posix_acl_"))
		return cafs_error_set(e, CAFS_VALIDATION, EOPNOTSUPP, "no POSIX ACLs ('%s')", name);
	if (has_prefix(name, "user.cafs."))
		return cafs_error_set(e, CAFS_ACCESS_DENIED, EROFS,
				      "%s '%s': the mount is read-only for now", op, name);
	return cafs_error_set(e, CAFS_VALIDATION, EOPNOTSUPP, "%s '%s': unsupported namespace", op,
			      name);
}

static void reply_xattr_write(fuse_req_t req, const char *op, fuse_ino_t ino, const char *name)
{
	_cleanup_(inode_info_done) struct fs_inode_info info = {0};
	struct cafs_error e;

	if (do_xattr_write(req, op, ino, name, &info, &e) < 0)
		reply_error(req, op, info.path, &e);
	else
		fuse_reply_err(req, 0);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	reply_xattr_write(req, "setxattr", ino, name);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	reply_xattr_write(req, "removexattr", ino, name);
}

/* --- the write side: EROFS until publishing through the mount exists --- */

static void refuse_write(fuse_req_t req, const char *op, fuse_ino_t ino, const char *name)
{
	_cleanup_(inode_info_done) struct fs_inode_info info = {0};
	_cleanup_free_ char *path = NULL;
	struct cafs_error e;

	if (get_inode(ctx_of(req), ino, &info, &e) == 0) {
		path = name ? child_path(info.path, name) : NULL;
		(void)cafs_error_set(&e, CAFS_ACCESS_DENIED, EROFS,
				     "the mount is read-only for now");
	}
	reply_error(req, op, path ? path : info.path, &e);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	refuse_write(req, "setattr", ino, NULL);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	refuse_write(req, "mknod", parent, name);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	refuse_write(req, "mkdir", parent, name);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	refuse_write(req, "unlink", parent, name);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	refuse_write(req, "rmdir", parent, name);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	refuse_write(req, "symlink", parent, name);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	refuse_write(req, "rename", parent, name);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	refuse_write(req, "link", newparent, newname);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	refuse_write(req, "create", parent, name);
}

/*
 * Left unset on purpose, because the kernel copes with ENOSYS: flush, fsync, fsyncdir and
 * access (it stops asking), lseek and copy_file_range (it falls back), getlk/setlk/flock
 * (without them it keeps locks locally), bmap, ioctl, poll, fallocate and write (no file is
 * open for writing).
 */
const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = op_create,
};
