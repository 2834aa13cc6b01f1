/* SPDX-License-Identifier: MIT */
/*
 * Changes to names (DESIGN.md §3): mkdir, rmdir, unlink and rename, each one store call or one
 * change of the staging table (fs/stage.c).
 *
 * mkdir at the root creates a repository; inside a format folder the store accepts a folder
 * as pending (Maven makes every level before it writes a file; a generic version folder is
 * made before its files), and the staging table remembers it until something published below
 * it makes it real, or rmdir forgets it. rmdir and unlink of what the store holds are
 * store_view_remove() (DeletePackageVersions, DeleteRepository, a new revision without the
 * asset, ...).
 *
 * Dot names are staging: a dot-named file or folder, and everything below a dot-named folder,
 * lives only in the staging table. Renaming a dot name to a plain name in the same folder
 * publishes it: a file as itself, a folder as all its files in one store call that also
 * finishes the version (`cp -r build .1.0 && mv .1.0 1.0`), atomically. Renames inside the
 * staging trees only move entries. Every other rename is EXDEV, so that mv falls back to copy
 * and delete. RENAME_NOREPLACE (what mv sends) is honoured; RENAME_EXCHANGE is not supported.
 *
 * The kernel holds the parents' locks until we reply, so the notifications that tell it what
 * else changed are sent after the reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/internal.h"
#include "policy/common.h"
#include "store/store.h"
#include "store/view.h"
#include "store/write.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* The path of @name in folder @parent (owned), and the folder's own path in @dir. */
static int name_path(struct fs_ctx *ctx, fuse_ino_t parent, const char *name,
		     struct fs_inode_info *dir, char **ret, struct cafs_error *e)
{
	int r = fs_get_inode(ctx, parent, dir, e);

	if (r < 0)
		return r;
	/* FUSE passes names up to 1024 bytes; no name in a repository is over 255 */
	if (strlen(name) > CAFS_ASSET_NAME_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG,
				      "a name of %zu bytes: at most %d are allowed", strlen(name),
				      CAFS_ASSET_NAME_MAX);
	*ret = fs_child_path(dir->path, name);
	return *ret ? 0 : fs_oom(e);
}

/* The error of a staging table call @r on @path. */
static int stage_errno(struct cafs_error *e, int r, const char *path)
{
	switch (r) {
	case -ENOMEM:
		return fs_oom(e);
	case -ENOENT:
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "nothing staged at '%s'", path);
	case -EEXIST:
		return cafs_error_set(e, CAFS_CONFLICT, EEXIST, "'%s' exists", path);
	case -ENOTEMPTY:
		return cafs_error_set(e, CAFS_CONFLICT, ENOTEMPTY, "'%s' is not empty", path);
	default:
		return cafs_error_set(e, CAFS_VALIDATION, -r, "'%s': %s", path, strerror(-r));
	}
}

/* Fail with EEXIST when @path shows anything; 0 when nothing. */
static int must_be_absent(struct fs_ctx *ctx, const char *path, struct cafs_error *e)
{
	struct fs_attr a;
	int r = fs_node_at(ctx, path, &a, NULL, e);

	if (r == 0)
		return cafs_error_set(e, CAFS_CONFLICT, EEXIST, "'%s' exists", path);
	return e->kind == CAFS_NOT_FOUND ? 0 : r;
}

static bool is_file(enum store_node_kind k)
{
	return k == STORE_NODE_ASSET || k == STORE_NODE_SYNTH;
}

/* --- mkdir --- */

/* Returns 1 when the store changed (a repository was created). */
static int do_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		    struct fuse_entry_param *ep, char **ret_path, struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_(fs_inode_info_done) struct fs_inode_info dir = {0};
	bool created = false;
	struct store *s;
	struct fs_attr a;
	fuse_ino_t ino;
	int r;

	r = name_path(ctx, parent, name, &dir, ret_path, e);
	if (r < 0)
		return r;
	r = must_be_absent(ctx, *ret_path, e);
	if (r < 0)
		return r;
	if (fs_path_private(*ret_path)) {
		r = fs_stage_mkdir(ctx->stage, *ret_path);
		if (r < 0)
			return stage_errno(e, r, *ret_path);
	} else {
		r = fs_req_store(req, &s, e);
		if (r < 0)
			return r;
		r = store_view_mkdir(s, *ret_path, e);
		if (r < 0)
			return r;
		created = r == 0;
		if (r == 1) {
			r = fs_stage_mkdir(ctx->stage, *ret_path); /* pending */
			if (r < 0 && r != -EEXIST)
				return stage_errno(e, r, *ret_path);
		}
	}
	r = fs_node_at(ctx, *ret_path, &a, NULL, e);
	if (r < 0)
		return r;
	if (fs_inode_ref(ctx->inodes, *ret_path, parent, &a, &ino) < 0)
		return fs_oom(e);
	fs_fill_entry(ctx, ino, &a, ep);
	fs_inval_forget_negative(ctx, parent, name);
	return created ? 1 : 0;
}

void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ char *path = NULL;
	struct fuse_entry_param ep;
	struct cafs_error e;
	int r;

	r = do_mkdir(req, parent, name, &ep, &path, &e);
	if (r < 0) {
		fs_reply_error(req, "mkdir", path ? path : name, &e);
		return;
	}
	if (fuse_reply_entry(req, &ep) != 0) {
		fs_inode_forget(ctx->inodes, ep.ino, 1);
		return;
	}
	fs_inval_name(ctx, parent, NULL);
	if (r > 0)
		fs_inval_kick(ctx, 0);
}

/* --- unlink and rmdir --- */

/* Returns 1 when the store changed. */
static int do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name, char **ret_path,
		     struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_(fs_inode_info_done) struct fs_inode_info dir = {0};
	_cleanup_free_ struct store_node *n = malloc(sizeof(*n));
	struct store *s;
	bool staged;
	int r;

	if (!n)
		return fs_oom(e);
	r = name_path(ctx, parent, name, &dir, ret_path, e);
	if (r < 0)
		return r;
	r = fs_stage_unlink(ctx->stage, *ret_path);
	if (r < 0 && r != -ENOENT)
		return stage_errno(e, r, *ret_path);
	staged = r == 0;
	if (fs_path_private(*ret_path))
		return staged ? 0 : stage_errno(e, -ENOENT, *ret_path);
	r = fs_req_store(req, &s, e);
	if (r < 0)
		return r;
	if (staged) {
		/*
		 * A file being written (or refused, and not yet released: Maven deletes what
		 * failed) is gone now; what it hid goes too, when the store has a file there.
		 */
		if (store_view_resolve(s, *ret_path, n, e) < 0 || !is_file(n->kind))
			return 0;
	}
	r = store_view_remove(s, *ret_path, false, e);
	if (r < 0)
		return r;
	/*
	 * The folder stays, as a folder does when its last file goes: a version that lost its
	 * last asset is gone from the store, but `mv` from another file system unlinks the
	 * destination and then creates it in that very folder. So do the folders above it that
	 * went with it (a package whose last version that was): the invalidation thread may
	 * make the kernel look them up again before the create comes.
	 */
	{
		_cleanup_free_ char *p = strdup(dir.path);
		struct cafs_error gone;
		char *slash;

		while (p && strcmp(p, "/") != 0 && store_view_resolve(s, p, n, &gone) < 0) {
			(void)fs_stage_mkdir(ctx->stage, p);
			slash = strrchr(p, '/');
			if (!slash || slash == p)
				break;
			*slash = '\0';
		}
	}
	return 1;
}

void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ char *path = NULL;
	struct cafs_error e;
	int r;

	r = do_unlink(req, parent, name, &path, &e);
	if (r < 0) {
		fs_reply_error(req, "unlink", path ? path : name, &e);
		return;
	}
	fuse_reply_err(req, 0);
	fs_inval_name(ctx, parent, NULL);
	if (r > 0)
		fs_inval_kick(ctx, 0);
}

/* Returns 1 when the store changed. */
static int do_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name, char **ret_path,
		    struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_(fs_inode_info_done) struct fs_inode_info dir = {0};
	_cleanup_free_ struct store_node *n = malloc(sizeof(*n));
	struct fs_stage_stat ss;
	enum fs_stage_type type;
	struct store *s;
	int r;

	if (!n)
		return fs_oom(e);
	r = name_path(ctx, parent, name, &dir, ret_path, e);
	if (r < 0)
		return r;
	if (fs_path_private(*ret_path)) {
		r = fs_stage_rmdir(ctx->stage, *ret_path);
		return r < 0 ? stage_errno(e, r, *ret_path) : 0;
	}
	type = fs_stage_stat(ctx->stage, *ret_path, &ss);
	if (type == FS_STAGE_FILE)
		return stage_errno(e, -ENOTDIR, *ret_path);
	if (fs_stage_has_children(ctx->stage, *ret_path))
		/* files being written, or dot-named work in progress */
		return stage_errno(e, -ENOTEMPTY, *ret_path);
	r = fs_req_store(req, &s, e);
	if (r < 0)
		return r;
	if (type == FS_STAGE_DIR) {
		r = store_view_resolve(s, *ret_path, n, e);
		if (r < 0 && e->kind == CAFS_NOT_FOUND) {
			/* pending: nothing was published below it */
			(void)fs_stage_rmdir(ctx->stage, *ret_path);
			return 0;
		}
		if (r < 0)
			return r;
	}
	r = store_view_remove(s, *ret_path, true, e);
	if (r < 0)
		return r;
	if (type == FS_STAGE_DIR)
		(void)fs_stage_rmdir(ctx->stage, *ret_path);
	return 1;
}

void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ char *path = NULL;
	struct cafs_error e;
	int r;

	r = do_rmdir(req, parent, name, &path, &e);
	if (r < 0) {
		fs_reply_error(req, "rmdir", path ? path : name, &e);
		return;
	}
	fuse_reply_err(req, 0);
	fs_inval_name(ctx, parent, NULL);
	if (r > 0)
		fs_inval_kick(ctx, 0);
}

/* --- rename --- */

/* Publish staged file @from as @to. */
static int publish_file(struct fs_ctx *ctx, struct store *s, const char *from, const char *to,
			struct cafs_error *e)
{
	struct fs_staged *st;
	struct store_write_file f = {.path = to};
	int r;

	r = fs_stage_file_add(ctx->stage, from, -1, 0, &st);
	if (r < 0)
		return stage_errno(e, r, from);
	f.fd = fs_staged_give_begin(ctx->stage, st, &f.adopt);
	r = store_view_write(s, &f, 1, false, e);
	fs_staged_give_end(ctx->stage, st);
	if (r >= 0)
		(void)fs_stage_unlink(ctx->stage, from);
	fs_staged_unref(ctx->stage, st);
	return r;
}

/*
 * Publish staged folder @from as @to: every file below it in one call that finishes the
 * version (all or nothing). An empty folder becomes what mkdir of @to would make.
 */
static int publish_folder(struct fs_ctx *ctx, struct store *s, const char *from, const char *to,
			  struct cafs_error *e)
{
	struct fs_stage_item *items = NULL;
	struct store_write_file *files = NULL;
	size_t n = 0;
	int r;

	r = fs_stage_collect(ctx->stage, from, &items, &n);
	if (r < 0)
		return fs_oom(e);
	if (n == 0) {
		r = store_view_mkdir(s, to, e);
		if (r == 1 && fs_stage_mkdir(ctx->stage, to) == -ENOMEM)
			r = fs_oom(e);
		goto out;
	}
	files = calloc(n, sizeof(*files));
	if (!files) {
		r = fs_oom(e);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		files[i].path = fs_child_path(to, items[i].rel);
		if (!files[i].path) {
			r = fs_oom(e);
			goto out;
		}
	}
	/*
	 * Read, not given: holding several files exclusively could wait in a cycle with a copy
	 * between two of them, so these are copied into the blob store.
	 */
	for (size_t i = 0; i < n; i++) {
		files[i].fd = fs_staged_read_begin(ctx->stage, items[i].st);
		(void)lseek(files[i].fd, 0, SEEK_SET); /* only the store uses the offset */
	}
	r = store_view_write(s, files, n, true, e);
	for (size_t i = 0; i < n; i++)
		fs_staged_io_end(ctx->stage, items[i].st);
	if (r >= 0)
		fs_settle_pending(ctx, s, files[0].path);
out:
	if (r >= 0)
		fs_stage_remove_tree(ctx->stage, from);
	for (size_t i = 0; files && i < n; i++)
		free((char *)files[i].path);
	free(files);
	fs_stage_items_free(ctx->stage, items, n);
	return r;
}

/* Which rename this is. */
enum rename_kind {
	RENAME_MOVE,    /* inside the staging trees */
	RENAME_PUBLISH, /* a dot name to a plain name in one plain folder */
};

/* Returns 1 when something was published. */
static int do_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags, char **ret_from, char **ret_to,
		     struct cafs_error *e)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_(fs_inode_info_done) struct fs_inode_info dir = {0};
	_cleanup_(fs_inode_info_done) struct fs_inode_info newdir = {0};
	bool noreplace = flags & RENAME_NOREPLACE;
	struct fs_stage_stat ss;
	enum fs_stage_type type;
	enum rename_kind kind;
	struct store *s;
	int r;

	r = name_path(ctx, parent, name, &dir, ret_from, e);
	if (r < 0)
		return r;
	r = name_path(ctx, newparent, newname, &newdir, ret_to, e);
	if (r < 0)
		return r;
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL,
				      "rename '%s': only RENAME_NOREPLACE is supported", *ret_from);
	if (fs_path_private(*ret_from) && fs_path_private(*ret_to))
		kind = RENAME_MOVE;
	else if (parent == newparent && name[0] == '.' && newname[0] != '.' &&
		 !fs_path_private(dir.path))
		kind = RENAME_PUBLISH;
	else
		return cafs_error_set(
			e, CAFS_VALIDATION, EXDEV,
			"rename '%s' to '%s': only a dot name renamed to a plain name "
			"in its folder publishes",
			*ret_from, *ret_to);
	type = fs_stage_stat(ctx->stage, *ret_from, &ss);
	if (type == FS_STAGE_NONE)
		return stage_errno(e, -ENOENT, *ret_from);

	if (kind == RENAME_MOVE) {
		r = fs_stage_move(ctx->stage, *ret_from, *ret_to, noreplace);
		if (r < 0)
			return stage_errno(e, r, *ret_to);
	} else {
		if (noreplace) {
			r = must_be_absent(ctx, *ret_to, e);
			if (r < 0)
				return r;
		}
		r = fs_req_store(req, &s, e);
		if (r < 0)
			return r;
		if (type == FS_STAGE_FILE)
			r = publish_file(ctx, s, *ret_from, *ret_to, e);
		else
			r = publish_folder(ctx, s, *ret_from, *ret_to, e);
		if (r < 0)
			return r;
		fs_settle_pending(ctx, s, *ret_to);
	}
	fs_inval_forget_negative(ctx, newparent, newname);
	/* the kernel moved its dentry: the inode keeps its number under the new name */
	(void)fs_inode_move(ctx->inodes, *ret_from, type == FS_STAGE_FILE ? ss.serial : 0, *ret_to,
			    newparent, type == FS_STAGE_DIR);
	return kind == RENAME_PUBLISH ? 1 : 0;
}

void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags)
{
	struct fs_ctx *ctx = fs_ctx_of(req);
	_cleanup_free_ char *from = NULL;
	_cleanup_free_ char *to = NULL;
	struct cafs_error e;
	int r;

	r = do_rename(req, parent, name, newparent, newname, flags, &from, &to, &e);
	if (r < 0) {
		fs_reply_error(req, "rename", from ? from : name, &e);
		return;
	}
	fuse_reply_err(req, 0);
	fs_inval_name(ctx, parent, NULL);
	if (newparent != parent)
		fs_inval_name(ctx, newparent, NULL);
	if (r > 0) {
		/* the new name shows the published node, another inode than the staged one */
		fs_inval_name(ctx, newparent, newname);
		fs_inval_kick(ctx, 0);
	}
}

/* --- what the tree does not have --- */

static void refuse(fuse_req_t req, const char *op, fuse_ino_t parent, const char *name)
{
	struct cafs_error e;

	(void)cafs_error_set(&e, CAFS_VALIDATION, EPERM, "%s '%s': no links in this tree", op,
			     name);
	fs_reply_error(req, op, name, &e);
}

void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	refuse(req, "symlink", parent, name);
}

void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	refuse(req, "link", newparent, newname);
}
