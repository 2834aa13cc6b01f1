/* SPDX-License-Identifier: MIT */
/*
 * The FUSE low-level operations: a thin adapter in the manner of squashfuse's ll.c. Each op
 * turns an inode into a path (fs/inode.c), asks the client view (store/view.h, store/write.h)
 * through the calling thread's store handle, and replies once; every error reply goes through
 * fs_error_reply_errno(), which logs it and maps it to the errno of DESIGN.md §5. No SQL, no
 * JSON, no policy here. This file has the helpers every op uses, names and attributes,
 * folders, extended attributes and the operation table; open files are in fs/file.c and
 * changes to names in fs/names.c.
 *
 * What the kernel is told: folders are 0755 directories, published files 0444 regular files
 * with their exact size, files being written 0644, everything owned by the mounting user.
 * Folders and synthesized files are trusted for FS_TIMEOUT_FOLDER; assets for
 * FS_TIMEOUT_ASSET, which is safe because an asset's inode number changes whenever its bytes
 * could (fs/inode.c), and its page cache is kept across opens for the same reason. Names that
 * are not there are cached as negative entries for FS_TIMEOUT_NEGATIVE.
 *
 * Writing is publishing (DESIGN.md §3): what this mount holds and the store does not yet (files
 * being written, dot-named work in progress, folders mkdir accepted) is in the staging table
 * (fs/stage.c), and every lookup, getattr and listing shows it merged over the store's view: a
 * staged file hides what the store has at its path, a staged folder shows where the store has
 * nothing. Dot paths never reach the store.
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
#include "store/write.h"

/* One entry of an open folder. */
struct fs_dirent {
	char *name; /* owned */
	struct fs_attr attr;
	fuse_ino_t ino; /* "." and "..": known; 0: computed from the table when served */
};

/*
 * An open folder: its listing, taken at the first READDIR(PLUS) of the handle and served by
 * offset (index + 1). Not at opendir: the kernel keeps listings it was given (cache_readdir)
 * and asks for none while its copy is good, so an opendir costs no listing then.
 */
struct fs_dir {
	char *path; /* owned */
	fuse_ino_t ino;
	struct store_node *node; /* owned: what the folder is in the store; NULL once listed */
	bool staged;             /* the folder is staged only: nothing of it in the store */
	bool listed;             /* ents holds the listing */
	size_t n, cap;
	struct fs_dirent *ents; /* owned; [0] ".", [1] "..", the store's listing, staged names */
};

static bool is_file(enum store_node_kind k)
{
	return k == STORE_NODE_ASSET || k == STORE_NODE_SYNTH;
}

/* The timeout of what is neither a stored asset nor staged: folders and synthesized files. */
static double other_timeout(const struct fs_attr *a)
{
	return a->kind == STORE_NODE_SYNTH ? FS_TIMEOUT_SYNTH : FS_TIMEOUT_FOLDER;
}

double fs_attr_timeout(const struct fs_attr *a)
{
	if (a->staged)
		/* its size moves with every write: ask each time */
		return a->kind == STORE_NODE_ASSET ? 0.0 : FS_TIMEOUT_SYNTH;
	return a->kind == STORE_NODE_ASSET ? FS_TIMEOUT_ASSET : other_timeout(a);
}

static double entry_timeout(const struct fs_attr *a)
{
	if (a->staged)
		return FS_TIMEOUT_SYNTH;
	return a->kind == STORE_NODE_ASSET ? FS_TIMEOUT_ASSET : other_timeout(a);
}

void fs_attr_of_node(const struct store_node *n, struct fs_attr *ret)
{
	ret->kind = n->kind;
	ret->identity = n->identity;
	ret->size = is_file(n->kind) ? n->size : 0;
	ret->mtime_us = n->mtime_us;
	ret->staged = false;
}

static void attr_of_stage(const struct fs_stage_stat *ss, struct fs_attr *ret)
{
	bool file = ss->type == FS_STAGE_FILE;

	ret->kind = file ? STORE_NODE_ASSET : STORE_NODE_NSDIR;
	ret->identity = file ? ss->serial : 0; /* a pending folder keeps its number once real */
	ret->size = file ? ss->size : 0;
	ret->mtime_us = ss->mtime_us;
	ret->staged = true;
}

void fs_fill_stat(const struct fs_ctx *ctx, fuse_ino_t ino, const struct fs_attr *a,
		  struct stat *st)
{
	int64_t mtime_us;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (is_file(a->kind)) {
		st->st_mode = S_IFREG | (a->staged ? 0644 : 0444);
		st->st_nlink = 1;
		st->st_size = (off_t)a->size;
		st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	} else {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	}
	st->st_uid = ctx->uid;
	st->st_gid = ctx->gid;
	/*
	 * The preferred I/O size: one FUSE request's worth (libfuse's 1 MiB max_write), so that
	 * cp, stdio and Python read and write a file in a few requests instead of one per 128 KiB.
	 */
	st->st_blksize = is_file(a->kind) ? FS_IO_BLKSIZE : 4096;
	/* folders above version level and most synthesized files carry no time of their own */
	mtime_us = a->mtime_us > 0 ? a->mtime_us : ctx->mount_us;
	st->st_mtim.tv_sec = (time_t)(mtime_us / 1000000);
	st->st_mtim.tv_nsec = (long)(mtime_us % 1000000) * 1000;
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

void fs_fill_entry(const struct fs_ctx *ctx, fuse_ino_t ino, const struct fs_attr *a,
		   struct fuse_entry_param *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->ino = ino;
	fs_fill_stat(ctx, ino, a, &ep->attr);
	/* shared mounts: attributes follow the caller, so the kernel must ask each time */
	ep->attr_timeout = ctx->shared ? 0.0 : fs_attr_timeout(a);
	ep->entry_timeout = entry_timeout(a);
}

int fs_oom(struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
}

char *fs_child_path(const char *dir, const char *name)
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

const char *fs_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void fs_inode_info_done(struct fs_inode_info *i)
{
	free(i->path);
	i->path = NULL;
}

int fs_get_inode(struct fs_ctx *ctx, fuse_ino_t ino, struct fs_inode_info *ret,
		 struct cafs_error *e)
{
	int r = fs_inode_get(ctx->inodes, ino, ret);

	if (r == -ENOMEM)
		return fs_oom(e);
	if (r < 0)
		return cafs_error_set(e, CAFS_INTERNAL, ESTALE, "unknown inode %" PRIu64,
				      (uint64_t)ino);
	return 0;
}

/* Resolve @path with the calling thread's store. */
static int resolve(struct fs_ctx *ctx, const char *path, struct store_node *ret,
		   struct cafs_error *e)
{
	struct store *s;
	int r = fs_thread_store(ctx, &s, e);

	if (r < 0)
		return r;
	return store_view_resolve(s, path, ret, e);
}

/* The caller last set on this thread's store handle (NSS lookups only when it changes). */
static _Thread_local uint32_t thread_uid = UINT32_MAX, thread_gid = UINT32_MAX;

int fs_req_store(fuse_req_t req, struct store **ret, struct cafs_error *e)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	char who[32];
	int r = fs_thread_store(fs_ctx_of(req), ret, e);

	if (r < 0)
		return r;
	/* audit rows written on behalf of a request name its caller; the store checks its
	 * rights (a publish, a status change, a delete) */
	(void)snprintf(who, sizeof(who), "uid:%u", (unsigned)fc->uid);
	store_set_actor(*ret, who);
	if (!store_caller(*ret) || thread_uid != fc->uid || thread_gid != fc->gid) {
		r = store_set_caller(*ret, fc->uid, fc->gid, e);
		if (r < 0)
			return r;
		thread_uid = fc->uid;
		thread_gid = fc->gid;
	}
	return 0;
}

/* fs_authorize() without an audit row or an error: for showing mode bits. */
static int fs_authorize_quiet(fuse_req_t req, const char *path, const char *action);

int fs_authorize(fuse_req_t req, const char *path, const char *action, struct cafs_error *e)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct fs_ctx *ctx = fs_ctx_of(req);
	char repo[CAFS_REPOSITORY_NAME_MAX + 2];
	struct store *s;
	size_t l;
	int r;

	/* only the mounting user can reach a mount without allow_other (the kernel sees to it) */
	if (!ctx->shared || fc->uid == ctx->uid)
		return 0;
	r = fs_req_store(req, &s, e);
	if (r < 0)
		return r;
	path += strspn(path, "/");
	l = strcspn(path, "/");
	if (l == 0)
		return store_authorize(s, action, NULL, NULL, e);
	if (l >= sizeof(repo))
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no such repository");
	memcpy(repo, path, l);
	repo[l] = '\0';
	/* a name that is not a repository is not there, whoever asks */
	if (cafs_validate_repository_name(repo, NULL) < 0)
		return 0;
	return store_authorize(s, action, repo, NULL, e);
}

static int fs_authorize_quiet(fuse_req_t req, const char *path, const char *action)
{
	char repo[CAFS_REPOSITORY_NAME_MAX + 2];
	struct cafs_error ignored;
	struct store *s;
	size_t l;

	if (fuse_req_ctx(req)->uid == fs_ctx_of(req)->uid)
		return 0;
	if (fs_req_store(req, &s, &ignored) < 0)
		return -EACCES;
	path += strspn(path, "/");
	l = strcspn(path, "/");
	if (l == 0 || l >= sizeof(repo))
		return -EACCES;
	memcpy(repo, path, l);
	repo[l] = '\0';
	return store_may_under(s, action, repo, path[l] ? path + l + 1 : "") ? 0 : -EACCES;
}

int fs_node_at(struct fs_ctx *ctx, const char *path, struct fs_attr *ret_attr,
	       struct store_node *ret_node, struct cafs_error *e)
{
	struct fs_stage_stat ss;
	enum fs_stage_type type = fs_stage_stat(ctx->stage, path, &ss);
	struct store_node *n = ret_node;
	int r;

	if (type == FS_STAGE_FILE || (type == FS_STAGE_DIR && ss.private_)) {
		attr_of_stage(&ss, ret_attr);
		return 0;
	}
	if (fs_path_private(path))
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "nothing staged at '%s'", path);
	if (!n) {
		n = malloc(sizeof(*n)); /* a few KiB: not on a worker's stack */
		if (!n)
			return fs_oom(e);
	}
	r = resolve(ctx, path, n, e);
	if (r == 0)
		fs_attr_of_node(n, ret_attr);
	if (n != ret_node)
		free(n);
	if (r < 0 && type == FS_STAGE_DIR) {
		/* a pending folder: nothing published below it yet */
		attr_of_stage(&ss, ret_attr);
		return 0;
	}
	return r;
}

void fs_reply_error(fuse_req_t req, const char *op, const char *path, const struct cafs_error *e)
{
	fuse_reply_err(req, fs_error_reply_errno(op, path, e));
}

void fs_inval_name(struct fs_ctx *ctx, fuse_ino_t parent, const char *name)
{
	if (name)
		(void)fuse_lowlevel_notify_inval_entry(ctx->se, parent, name, strlen(name));
	(void)fuse_lowlevel_notify_inval_inode(ctx->se, parent, 0, 0);
}

void fs_settle_pending(struct fs_ctx *ctx, struct store *s, const char *path)
{
	_cleanup_free_ char *p = strdup(path);
	_cleanup_free_ struct store_node *n = malloc(sizeof(*n));
	struct fs_stage_stat ss;
	struct cafs_error e;
	char *slash;

	if (!p || !n)
		return; /* they stay pending: the store's folder shows first anyway */
	while ((slash = strrchr(p, '/')) && slash != p) {
		*slash = '\0';
		if (fs_stage_stat(ctx->stage, p, &ss) != FS_STAGE_DIR || ss.private_)
			continue;
		if (store_view_resolve(s, p, n, &e) == 0)
			(void)fs_stage_rmdir(ctx->stage, p); /* fails while more is staged below */
	}
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
	/* O_TRUNC arrives with the open (it starts a staging file) instead of as a setattr */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* writes reach us as they happen: no kernel write-back cache to flush at close */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* no lookup of "." and ".." by inode: the table only knows what the kernel holds */
	conn->want &= ~FUSE_CAP_EXPORT_SUPPORT;
}

/* --- names and attributes --- */

static int do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name,
		     struct fuse_entry_param *ep, char **ret_path, struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_(fs_inode_info_done) struct fs_inode_info dir = {0};
	struct fs_attr a;
	fuse_ino_t ino;
	int r;

	r = fs_get_inode(ctx, parent, &dir, e);
	if (r < 0)
		return r;
	*ret_path = fs_child_path(dir.path, name);
	if (!*ret_path)
		return fs_oom(e);
	r = fs_authorize(req, *ret_path, "ReadFromRepository", e);
	if (r < 0)
		return r;
	r = fs_node_at(ctx, *ret_path, &a, NULL, e);
	if (r < 0)
		return r;
	if (fs_inode_ref(ctx->inodes, *ret_path, parent, &a, &ino) < 0)
		return fs_oom(e);
	fs_fill_entry(ctx, ino, &a, ep);
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
			fs_inode_forget(fs_ctx_of(req)->inodes, ep.ino,
					1); /* the kernel did not take it */
		return;
	}
	err = fs_error_reply_errno("lookup", path ? path : name, &e);
	if (err == ENOENT) {
		/* a negative entry: the kernel need not ask again for a while */
		memset(&ep, 0, sizeof(ep));
		ep.entry_timeout = FS_TIMEOUT_NEGATIVE;
		fs_inval_note_negative(fs_ctx_of(req), parent, name);
		fuse_reply_entry(req, &ep);
		return;
	}
	fuse_reply_err(req, err);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_inode_forget(fs_ctx_of(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs_ctx *ctx = fs_ctx_of(req);

	for (size_t i = 0; i < count; i++)
		fs_inode_forget(ctx->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

int fs_getattr_of(struct fs_ctx *ctx, fuse_ino_t ino, struct fs_inode_info *info, struct stat *st,
		  double *ret_timeout, struct cafs_error *e)
{
	struct fs_stage_stat ss;
	struct fs_attr a;
	int r;

	r = fs_get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	if (info->attr.kind == STORE_NODE_ASSET && !info->attr.staged &&
	    fs_stage_stat(ctx->stage, info->path, &ss) != FS_STAGE_FILE) {
		/*
		 * An asset inode stands for fixed bytes; what the table kept is the truth even
		 * when the path shows other bytes by now (like an unlinked, still open file).
		 * Only a file being written over it right now (O_TRUNC) shows instead.
		 */
		a = info->attr;
	} else {
		r = fs_node_at(ctx, info->path, &a, NULL, e);
		if (r < 0)
			return r;
	}
	fs_fill_stat(ctx, ino, &a, st);
	*ret_timeout = fs_attr_timeout(&a);
	return 0;
}

/*
 * On a shared mount, mode bits follow the caller's rights (spec §8.4): the write bits only
 * where it may publish. The kernel keeps attributes per inode, not per user: they are then
 * never cached (returns true). The authoritative check is in each handler.
 */
static bool shared_attrs(fuse_req_t req, const char *path, struct stat *st)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct cafs_error ignored;
	struct store *s;

	if (!ctx->shared)
		return false;
	if (fuse_req_ctx(req)->uid == ctx->uid)
		return true;
	if (fs_req_store(req, &s, &ignored) < 0 || strcmp(path, "/") == 0 ||
	    fs_authorize_quiet(req, path, "PublishPackageVersion") < 0)
		st->st_mode &= ~(mode_t)0222;
	return true;
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	struct cafs_error e;
	struct stat st;
	double timeout;

	if (fs_getattr_of(fs_ctx_of(req), ino, &info, &st, &timeout, &e) < 0 ||
	    (strcmp(info.path, "/") != 0 &&
	     fs_authorize(req, info.path, "ReadFromRepository", &e) < 0))
		fs_reply_error(req, "getattr", info.path, &e);
	else
		fuse_reply_attr(req, &st, shared_attrs(req, info.path, &st) ? 0.0 : timeout);
}

/* The store's file system: what is free there is what a publish can use. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;

	if (statvfs(fs_ctx_of(req)->root, &st) < 0)
		memset(&st, 0, sizeof(st));
	st.f_namemax = 255;
	st.f_flag = 0;
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
	free(d->node);
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

	fs_attr_of_node(child, &a);
	return dir_add(ctx, name, &a, 0);
}

/* A staged name joins the listing; a staged file hides the store's file of that name. */
static int merge_staged(void *arg, const char *name, const struct fs_stage_stat *ss)
{
	struct fs_dir *d = arg;
	struct fs_attr a;

	if (ss->type == FS_STAGE_FILE && !ss->private_ && ss->settled)
		return 0; /* published or refused, only waiting for its release */
	attr_of_stage(ss, &a);
	for (size_t i = 2; i < d->n; i++) {
		if (strcmp(d->ents[i].name, name) == 0) {
			if (ss->type == FS_STAGE_FILE)
				d->ents[i].attr = a;
			return 0;
		}
	}
	return dir_add(d, name, &a, 0);
}

static int do_opendir(fuse_req_t req, fuse_ino_t ino, struct fs_inode_info *info,
		      struct fs_dir **ret, struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_(dir_freep) struct fs_dir *d = NULL;
	_cleanup_free_ struct store_node *n = malloc(sizeof(*n));
	struct fs_attr self, up = {.kind = STORE_NODE_ROOT};
	int r;

	if (!n)
		return fs_oom(e);
	r = fs_get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	r = fs_authorize(req, info->path,
			 strcmp(info->path, "/") == 0 ? "ListRepositoriesInDomain"
						      : "ReadFromRepository",
			 e);
	if (r < 0)
		return r;
	r = fs_node_at(ctx, info->path, &self, n, e);
	if (r < 0)
		return r;
	if (is_file(self.kind))
		return cafs_error_set(e, CAFS_VALIDATION, ENOTDIR, "'%s' is no folder", info->path);
	d = calloc(1, sizeof(*d));
	if (!d)
		return fs_oom(e);
	d->path = strdup(info->path);
	if (!d->path)
		return fs_oom(e);
	d->ino = ino;
	if (dir_add(d, ".", &self, ino) < 0 || dir_add(d, "..", &up, info->parent) < 0)
		return fs_oom(e);
	d->staged = self.staged;
	d->node = steal_ptr(&n);
	*ret = steal_ptr(&d);
	return 0;
}

/* Back to "." and ".." only. */
static void dir_unlist(struct fs_dir *d)
{
	while (d->n > 2)
		free(d->ents[--d->n].name);
}

/*
 * The listing of @d, taken at its first READDIR(PLUS); *@ret_gen is the store generation seen
 * before it was taken (0: unknown), when this call took it.
 */
static int dir_list(struct fs_ctx *ctx, struct fs_dir *d, uint64_t *ret_gen, struct cafs_error *e)
{
	struct store *s = NULL;
	int r;

	*ret_gen = 0;
	if (d->listed)
		return 0;
	if (!d->staged) {
		r = fs_thread_store(ctx, &s, e);
		if (r < 0)
			return r;
		if (store_view_generation(s, ret_gen, e) < 0)
			*ret_gen = 0;
		r = store_view_readdir(s, d->node, collect_entry, d, e);
		if (r == -ENOMEM)
			r = fs_oom(e); /* from collect_entry, which leaves @e alone */
		if (r < 0) {
			dir_unlist(d); /* the next READDIR lists anew */
			return r;
		}
	}
	if (fs_stage_list(ctx->stage, d->path, merge_staged, d) < 0) {
		dir_unlist(d);
		return fs_oom(e);
	}
	free(d->node);
	d->node = NULL;
	d->listed = true;
	return 0;
}

/*
 * After the reply carrying a listing of folder @ino taken at generation @gen: when the store
 * changed since, the invalidation thread may have dropped the kernel's copy before the kernel
 * took this one, which would then stay; drop it again. (Not given the fs_dir: once the reply
 * is out, a RELEASEDIR may free it.)
 */
static void dir_listed(struct fs_ctx *ctx, fuse_ino_t ino, uint64_t gen)
{
	struct cafs_error e;
	struct store *s;
	uint64_t now;

	if (ctx->shared)
		return;
	if (gen == 0 || fs_thread_store(ctx, &s, &e) < 0 ||
	    store_view_generation(s, &now, &e) < 0 || now != gen)
		(void)fuse_lowlevel_notify_inval_inode(ctx->se, ino, 0, 0);
}

/* The store generation this worker last saw with the kernel's listings brought up to date. */
static _Thread_local uint64_t thread_listings_gen;

/*
 * May an opendir keep the listing the kernel has (keep_cache)? The kernel drops a kept
 * listing itself when the folder changes through the mount, the invalidation thread drops
 * them all when the store changes, and the release of a staged file that leaves unpublished
 * drops its parent's. What the thread has not seen yet (a `cafs` command a moment ago) is
 * caught here: when this worker's view of the store moved since it last checked, it has the
 * thread look now and waits for it, so an ls right after a change shows the change. Never on a
 * shared mount, where a listing is the caller's.
 */
static bool listings_fresh(fuse_req_t req)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct cafs_error e;
	struct store *s;
	uint64_t gen;

	if (ctx->shared || fs_thread_store(ctx, &s, &e) < 0 ||
	    store_view_generation(s, &gen, &e) < 0)
		return false;
	if (gen == thread_listings_gen)
		return true;
	/* an opendir holds no lock of the kernel's: it may wait */
	if (!fs_inval_kick(ctx, FS_LISTING_WAIT_MS))
		return false;
	thread_listings_gen = gen;
	return true;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	struct fs_dir *d = NULL;
	struct cafs_error e;

	if (do_opendir(req, ino, &info, &d, &e) < 0) {
		fs_reply_error(req, "opendir", info.path, &e);
		return;
	}
	fi->fh = (uintptr_t)d;
	fi->cache_readdir = !fs_ctx_of(req)->shared;
	fi->keep_cache = listings_fresh(req);
	if (fuse_reply_open(req, fi) != 0)
		dir_free(d); /* interrupted: no releasedir will come */
}

/* The inode number a plain readdir reports for entry @i (the one a lookup would give). */
static fuse_ino_t dirent_ino(struct fs_ctx *ctx, const struct fs_dir *d, size_t i)
{
	_cleanup_free_ char *path = NULL;

	if (d->ents[i].ino)
		return d->ents[i].ino;
	path = fs_child_path(d->path, d->ents[i].name);
	return path ? fs_inode_peek(ctx->inodes, path, d->ents[i].attr.identity) : 0;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	_cleanup_free_ char *buf = malloc(size);
	struct cafs_error e;
	bool listed_now = !d->listed && !d->staged;
	fuse_ino_t dir_ino = d->ino;
	uint64_t gen;
	size_t pos = 0;

	if (!buf)
		(void)fs_oom(&e);
	if (!buf || dir_list(ctx, d, &gen, &e) < 0) {
		fs_reply_error(req, "readdir", d->path, &e);
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
	if (listed_now)
		dir_listed(ctx, dir_ino, gen);
}

/* Take back the lookups counted for entries [@start, @end) of @d. */
static void uncount(struct fs_ctx *ctx, const struct fs_dir *d, size_t start, size_t end)
{
	for (size_t i = start; i < end; i++) {
		_cleanup_free_ char *path = NULL;

		if (d->ents[i].ino)
			continue; /* "." and "..": never counted */
		path = fs_child_path(d->path, d->ents[i].name);
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
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	_cleanup_free_ char *buf = malloc(size);
	size_t start = off > 0 ? (size_t)off : 0, end = start;
	struct cafs_error e;
	bool listed_now = !d->listed && !d->staged;
	fuse_ino_t dir_ino = d->ino;
	uint64_t gen;
	size_t pos = 0;

	if (!buf)
		(void)fs_oom(&e);
	if (!buf || dir_list(ctx, d, &gen, &e) < 0) {
		fs_reply_error(req, "readdirplus", d->path, &e);
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
			fs_fill_stat(ctx, de->ino, &de->attr, &ep.attr);
		} else {
			_cleanup_free_ char *path = fs_child_path(d->path, de->name);
			fuse_ino_t child;

			if (!path ||
			    fs_inode_ref(ctx->inodes, path, d->ino, &de->attr, &child) < 0) {
				if (pos > 0)
					break; /* send what we have; the kernel asks again */
				fs_oom(&e);
				fs_reply_error(req, "readdirplus", d->path, &e);
				return;
			}
			fs_fill_entry(ctx, child, &de->attr, &ep);
			/*
			 * The listing was taken at opendir: trust a file's name for a short while
			 * only, so a name whose bytes changed since is looked up again soon. Folder
			 * names are dropped by the invalidation thread when anything changes.
			 */
			ep.entry_timeout =
				is_file(de->attr.kind) ? FS_TIMEOUT_SYNTH : FS_TIMEOUT_FOLDER;
		}
		(void)fuse_add_direntry_plus(req, buf + pos, size - pos, de->name, &ep,
					     (off_t)(i + 1));
		pos += need;
		end = i + 1;
	}
	if (fuse_reply_buf(req, buf, pos) != 0)
		uncount(ctx, d, start, end); /* the kernel did not take them */
	if (listed_now)
		dir_listed(ctx, dir_ino, gen);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dir_free((struct fs_dir *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* --- extended attributes (DESIGN.md §4) --- */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Both xattr reads: with @size 0 the kernel asks for the length only. Never ENOSYS: the kernel
 * would turn extended attributes off for the whole mount. What is staged has none.
 */
static int do_xattr_read(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size,
			 struct fs_inode_info *info, char **ret_buf, struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ struct store_node *n = malloc(sizeof(*n));
	struct fs_attr a;
	struct store *s;
	int r;

	if (!n)
		return fs_oom(e);
	r = fs_get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	r = fs_authorize(req, info->path, "ReadFromRepository", e);
	if (r < 0)
		return r;
	if (name && !has_prefix(name, "user."))
		/*
		 * security.selinux, system.posix_acl_*, trusted.*: routine (ls -l asks for every
		 * entry). EOPNOTSUPP is cached by ls for the whole file system, where ENODATA would
		 * be asked again per file; answered before the store is touched. NotFound keeps
		 * the log line at debug level.
		 */
		return cafs_error_set(e, CAFS_NOT_FOUND, EOPNOTSUPP,
				      "no attributes outside user.* ('%s')", name);
	r = fs_node_at(ctx, info->path, &a, n, e);
	if (r < 0)
		return r;
	if (a.staged)
		return name ? cafs_error_set(e, CAFS_NOT_FOUND, ENODATA, "no attribute '%s'", name)
			    : 0;
	r = fs_thread_store(ctx, &s, e);
	if (r < 0)
		return r;
	if (size > 0) {
		*ret_buf = malloc(size);
		if (!*ret_buf)
			return fs_oom(e);
	}
	if (name)
		return store_view_xattr_get(s, n, name, *ret_buf, size, e);
	return store_view_xattr_list(s, n, *ret_buf, size, e);
}

static void reply_xattr_read(fuse_req_t req, const char *op, fuse_ino_t ino, const char *name,
			     size_t size)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	_cleanup_free_ char *buf = NULL;
	struct cafs_error e;
	int r;

	r = do_xattr_read(req, ino, name, size, &info, &buf, &e);
	if (r < 0)
		fs_reply_error(req, op, info.path, &e);
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
 * setxattr: POSIX ACLs are refused with EOPNOTSUPP (EPERM would break cp -a); user.cafs.*
 * names go to the store (user.cafs.status is UpdatePackageVersionsStatus, the origin controls
 * PutPackageOriginConfiguration; the rest are read-only there), except on what is staged,
 * where a copy's attributes are absorbed; other user.* names, copied in by cp -a and
 * rsync -X, are accepted and dropped; other namespaces are not supported. Returns 1 when the
 * store changed.
 */
static int do_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		       size_t size, struct fs_inode_info *info, struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct fs_stage_stat ss;
	struct store *s;
	int r;

	if (has_prefix(name, "user.") && !has_prefix(name, "user.cafs."))
		return 0;
	r = fs_get_inode(ctx, ino, info, e);
	if (r < 0)
		return r;
	if (has_prefix(name, "system.posix_acl_"))
		/* routine (install, cp -a try, then chmod): NotFound keeps the log at debug level
		 */
		return cafs_error_set(e, CAFS_NOT_FOUND, EOPNOTSUPP, "no POSIX ACLs ('%s')", name);
	if (!has_prefix(name, "user.cafs."))
		return cafs_error_set(e, CAFS_VALIDATION, EOPNOTSUPP,
				      "setxattr '%s': unsupported namespace", name);
	if (fs_path_private(info->path) ||
	    fs_stage_stat(ctx->stage, info->path, &ss) == FS_STAGE_FILE)
		return 0;
	r = fs_req_store(req, &s, e);
	if (r < 0)
		return r;
	r = store_view_setxattr(s, info->path, name, value, size, e);
	return r < 0 ? r : 1;
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	_cleanup_(fs_inode_info_done) struct fs_inode_info info = {0};
	struct fs_ctx *ctx = fs_ctx_of(req);
	struct cafs_error e;
	int r;

	r = do_setxattr(req, ino, name, value, size, &info, &e);
	if (r < 0) {
		fs_reply_error(req, "setxattr", info.path, &e);
		return;
	}
	fuse_reply_err(req, 0);
	if (r > 0) {
		/* a status or a control changed: listings and index pages follow */
		(void)fuse_lowlevel_notify_inval_inode(ctx->se, ino, 0, 0);
		fs_inval_kick(ctx, 0);
	}
}

/*
 * removexattr: accepted and ignored, whatever the name: rsync -X removes the attributes its
 * source lacks, which for a folder of the mount are cafs' own, and those are not removable.
 */
static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, 0);
}

/*
 * Left unset on purpose, because the kernel copes with ENOSYS: fsync, fsyncdir and access
 * (it stops asking; fsync then succeeds: publishing makes the bytes durable), lseek (it falls
 * back), getlk/setlk/flock (without them it keeps locks locally), bmap, ioctl, poll and
 * fallocate (EOPNOTSUPP to the caller).
 */
const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = fs_op_setattr,
	.mknod = fs_op_mknod,
	.mkdir = fs_op_mkdir,
	.unlink = fs_op_unlink,
	.rmdir = fs_op_rmdir,
	.symlink = fs_op_symlink,
	.rename = fs_op_rename,
	.link = fs_op_link,
	.open = fs_op_open,
	.read = fs_op_read,
	.write_buf = fs_op_write_buf,
	.flush = fs_op_flush,
	.release = fs_op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = fs_op_create,
	.copy_file_range = fs_op_copy_file_range,
};
