/* SPDX-License-Identifier: MIT */
/*
 * The mount's lifetime and its boundaries: fs_run() validates the domain, sets up the staging
 * table of the write side (fs/stage.c) on the domain's tmp/ folder, creates the FUSE
 * low-level session with the ops of fs/ops.c, mounts, detaches once the mount is in place,
 * serves with libfuse's thread pool and unmounts at the end. Around it: the per-thread store
 * handles (a struct store is single-threaded, so each worker opens its own on first use and
 * the thread's end closes it), the log sink (stderr, syslog once detached; debug lines only
 * with --debug), and the errno boundary where refusals are logged so that "Operation not
 * permitted" from cp is never a mystery (DESIGN.md §5).
 */
#include "fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fs/internal.h"
#include "policy/common.h"
#include "store/store.h"

/* The log sink; set by fs_run() before any thread but the caller's exists. */
static enum fuse_log_level log_max = FUSE_LOG_INFO;
static bool log_to_syslog;

/* The store's warnings (a stale list served, a source that failed) go to the same sink. */
static void store_log_func(int level, const char *line)
{
	fuse_log((enum fuse_log_level)level, "cafs: %s\n", line);
}

__attribute__((format(printf, 2, 0))) static void log_func(enum fuse_log_level level,
							   const char *fmt, va_list ap)
{
	if (level > log_max)
		return;
	if (log_to_syslog)
		vsyslog((int)level, fmt, ap); /* FUSE_LOG_* are syslog's LOG_* values */
	else
		vfprintf(stderr, fmt, ap);
}

int fs_error_reply_errno(const char *op, const char *path, const struct cafs_error *e)
{
	int err = cafs_error_errno(e);

	fuse_log(e->kind == CAFS_NOT_FOUND ? FUSE_LOG_DEBUG : FUSE_LOG_ERR, "%s %s: %s: %s\n", op,
		 path ? path : "-", cafs_kind_exception(e->kind), e->msg);
	return err;
}

static void close_thread_store(void *s)
{
	store_close(s);
}

int fs_thread_store(struct fs_ctx *ctx, struct store **ret, struct cafs_error *e)
{
	struct store *s = pthread_getspecific(ctx->store_key);
	int r;

	if (!s) {
		r = store_open(ctx->root, ctx->domain, &s, e);
		if (r < 0)
			return r;
		r = pthread_setspecific(ctx->store_key, s);
		if (r != 0) {
			store_close(s);
			return cafs_error_set(e, CAFS_INTERNAL, r,
					      "cannot keep the thread's store handle: %s",
					      strerror(r));
		}
	}
	*ret = s;
	return 0;
}

/* The canonical form of @path, which must exist; owned. */
static int absolute(const char *what, const char *path, char **ret, struct cafs_error *e)
{
	*ret = realpath(path, NULL);
	if (!*ret)
		return cafs_error_set(e, errno == ENOENT ? CAFS_NOT_FOUND : CAFS_IO, errno,
				      "%s '%s': %s", what, path, strerror(errno));
	return 0;
}

/* An fd on the tmp/ folder of the domain @s opened (owned). */
static int open_tmp_dir(struct store *s, int *ret, struct cafs_error *e)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/tmp", store_dir(s)) < 0) {
		path = NULL;
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	*ret = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*ret < 0)
		return cafs_error_set(e, CAFS_IO, errno, "open '%s': %s", path, strerror(errno));
	return 0;
}

/* argv for fuse_session_new(): "cafs -o <ours> [-o <theirs>] [-d]". */
static int session_args(const struct fs_options *o, struct fuse_args *args, char **ret_opts,
			struct cafs_error *e)
{
	if (asprintf(ret_opts, "fsname=cafs:%s,subtype=cafs%s", o->domain,
		     o->allow_other ? ",allow_other" : "") < 0) {
		*ret_opts = NULL;
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	if (fuse_opt_add_arg(args, "cafs") != 0 || fuse_opt_add_arg(args, "-o") != 0 ||
	    fuse_opt_add_arg(args, *ret_opts) != 0 ||
	    (o->options && o->options[0] &&
	     (fuse_opt_add_arg(args, "-o") != 0 || fuse_opt_add_arg(args, o->options) != 0)) ||
	    (o->debug && fuse_opt_add_arg(args, "-d") != 0))
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	return 0;
}

/* Mounted: detach if asked, then serve until the mount ends. */
static int serve(struct fs_ctx *ctx, bool foreground, struct cafs_error *e)
{
	struct fuse_loop_config *cfg;
	int r;

	/*
	 * After the mount, so that `cafs mount` returns only once the mount point works
	 * (requests that come before the loop runs wait in the kernel).
	 */
	if (fuse_daemonize(foreground) != 0)
		return cafs_error_set(e, CAFS_INTERNAL, ECHILD, "cannot detach from the terminal");
	if (!foreground) {
		openlog("cafs", LOG_PID, LOG_DAEMON);
		log_to_syslog = true;
	}
	r = fs_inval_start(ctx);
	if (r < 0)
		return cafs_error_set(e, CAFS_INTERNAL, -r,
				      "cannot start the invalidation thread: %s", strerror(-r));
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	r = fuse_session_loop_mt(ctx->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	/* > 0 is the signal that ended it: a normal stop */
	if (r < 0)
		return cafs_error_set(e, CAFS_IO, -r, "the FUSE session failed: %s", strerror(-r));
	return 0;
}

int fs_run(const struct fs_options *o, struct cafs_error *e)
{
	struct fs_ctx ctx = {
		.domain = o->domain,
		.uid = getuid(),
		.shared = o->allow_other,
		.gid = getgid(),
		.neg_lock = PTHREAD_MUTEX_INITIALIZER,
	};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	_cleanup_free_ char *root = NULL;
	_cleanup_free_ char *mnt = NULL;
	_cleanup_free_ char *opts = NULL;
	bool foreground = o->foreground || o->debug;
	bool have_key = false, have_handlers = false, mounted = false;
	struct store *s = NULL;
	int tmp_fd = -1;
	struct timespec now;
	struct stat st;
	int r;

	r = store_open(o->root, o->domain, &s, e);
	if (r < 0)
		return r;
	/* the staging files of the write side live beside the blobs (same file system) */
	r = open_tmp_dir(s, &tmp_fd, e);
	store_close(s); /* workers open their own, after the fork */
	if (r < 0)
		return r;
	ctx.stage = fs_stage_new(tmp_fd);
	if (!ctx.stage)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	/* absolute paths: the daemon (and libfuse in the foreground too) changes to "/" */
	r = absolute("store root", o->root, &root, e);
	if (r < 0)
		goto out;
	r = absolute("no mount point", o->mountpoint, &mnt, e);
	if (r < 0)
		goto out;
	if (stat(mnt, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = cafs_error_set(e, CAFS_VALIDATION, ENOTDIR, "mount point '%s' is no folder",
				   o->mountpoint);
		goto out;
	}
	ctx.root = root;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	ctx.mount_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;

	log_max = o->debug ? FUSE_LOG_DEBUG : FUSE_LOG_INFO;
	log_to_syslog = false;
	fuse_set_log_func(log_func);
	store_set_log(store_log_func);

	r = session_args(o, &args, &opts, e);
	if (r < 0)
		goto out;
	ctx.inodes = fs_inode_table_new();
	if (!ctx.inodes) {
		r = cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	r = pthread_key_create(&ctx.store_key, close_thread_store);
	if (r != 0) {
		r = cafs_error_set(e, CAFS_INTERNAL, r, "pthread_key_create: %s", strerror(r));
		goto out;
	}
	have_key = true;
	ctx.se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &ctx);
	if (!ctx.se) {
		r = cafs_error_set(e, CAFS_VALIDATION, EINVAL,
				   "cannot set up the FUSE session (mount options '%s%s%s')", opts,
				   o->options && o->options[0] ? "," : "",
				   o->options ? o->options : "");
		goto out;
	}
	if (fuse_set_signal_handlers(ctx.se) != 0) {
		r = cafs_error_set(e, CAFS_INTERNAL, EIO, "cannot set signal handlers");
		goto out;
	}
	have_handlers = true;
	if (fuse_session_mount(ctx.se, mnt) != 0) {
		r = cafs_error_set(e, CAFS_IO, EIO, "cannot mount domain '%s' on '%s'", o->domain,
				   mnt);
		goto out;
	}
	mounted = true;
	r = serve(&ctx, foreground, e);
	if (r < 0)
		fuse_log(FUSE_LOG_ERR, "%s: %s\n", cafs_kind_exception(e->kind), e->msg);
out:
	fs_inval_stop(&ctx);
	if (mounted)
		fuse_session_unmount(ctx.se);
	if (have_handlers)
		fuse_remove_signal_handlers(ctx.se);
	if (ctx.se)
		fuse_session_destroy(ctx.se);
	if (have_key) {
		/* the workers' handles went with their threads; this thread may hold one too */
		store_close(pthread_getspecific(ctx.store_key));
		(void)pthread_setspecific(ctx.store_key, NULL);
		(void)pthread_key_delete(ctx.store_key);
	}
	fs_inode_table_free(ctx.inodes);
	fs_stage_free(ctx.stage);
	fuse_opt_free_args(&args);
	if (log_to_syslog)
		closelog();
	log_to_syslog = false;
	store_set_log(NULL);
	fuse_set_log_func(NULL);
	return r;
}
