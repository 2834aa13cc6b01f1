/* SPDX-License-Identifier: MIT */
/*
 * Cache invalidation: how a change made elsewhere (a `cafs` command, another mount, a publish
 * through this one) reaches the kernel's caches sooner than the timeouts would.
 *
 * A thread with its own store handle polls store_view_generation() every FS_INVAL_PERIOD_MS,
 * and at once when a write through this mount kicks it (fs_inval_kick()). When the number
 * moves, it copies the inode table (under its lock) and then, without any lock held, tells
 * the kernel:
 *   - folders and synthesized files: drop attributes and cached pages
 *     (fuse_lowlevel_notify_inval_inode), so sizes, listings and index pages are fetched anew;
 *   - every name (fuse_lowlevel_notify_inval_entry), so the next access looks it up again and
 *     meets the new inode number if an asset's bytes changed, or ENOENT if it went; folders
 *     too, which is what lets their timeout be long. An asset's own cached pages stay valid:
 *     its inode number is tied to its bytes. Staged files (fs/stage.c) are left to the write
 *     side;
 *   - names recently answered as absent (negative entries): drop them, so that what was just
 *     published appears at once.
 * Notifications may block on kernel locks held by requests in flight, which only the worker
 * threads answer; this thread holds nothing they need. Errors (typically ENOENT: the kernel
 * has already dropped it) are of no consequence.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/internal.h"
#include "policy/common.h"
#include "store/store.h"
#include "store/view.h"

static bool is_folder(enum store_node_kind k)
{
	return k != STORE_NODE_ASSET && k != STORE_NODE_SYNTH;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fs_inval_note_negative(struct fs_ctx *ctx, fuse_ino_t parent, const char *name)
{
	char *copy = strdup(name);
	struct fs_negative *slot;

	if (!copy)
		return; /* the entry then lives out its timeout */
	pthread_mutex_lock(&ctx->neg_lock);
	slot = &ctx->neg[ctx->neg_next];
	ctx->neg_next = (ctx->neg_next + 1) % FS_NEGATIVE_MAX;
	free(slot->name);
	slot->parent = parent;
	slot->name = copy;
	/* a little past the kernel's own expiry, which counts in jiffies */
	slot->expires_ms = now_ms() + (int64_t)(FS_TIMEOUT_NEGATIVE * 1000) + 100;
	pthread_mutex_unlock(&ctx->neg_lock);
}

void fs_inval_forget_negative(struct fs_ctx *ctx, fuse_ino_t parent, const char *name)
{
	pthread_mutex_lock(&ctx->neg_lock);
	for (size_t i = 0; i < FS_NEGATIVE_MAX; i++) {
		struct fs_negative *x = &ctx->neg[i];

		if (x->name && x->parent == parent && strcmp(x->name, name) == 0) {
			free(x->name);
			x->name = NULL;
		}
	}
	pthread_mutex_unlock(&ctx->neg_lock);
}

/* Take the negative names still cached (emptying the ring); *@ret is owned, as its names. */
static size_t take_negatives(struct fs_ctx *ctx, struct fs_negative *ret)
{
	int64_t now = now_ms();
	size_t n = 0;

	pthread_mutex_lock(&ctx->neg_lock);
	for (size_t i = 0; i < FS_NEGATIVE_MAX; i++) {
		struct fs_negative *x = &ctx->neg[i];

		if (x->name && x->expires_ms > now)
			ret[n++] = *x;
		else
			free(x->name);
		x->name = NULL;
	}
	ctx->neg_next = 0;
	pthread_mutex_unlock(&ctx->neg_lock);
	return n;
}

static void invalidate_all(struct fs_ctx *ctx)
{
	struct fs_negative neg[FS_NEGATIVE_MAX];
	struct fs_inode_snap *snap = NULL;
	size_t n = 0, n_neg;

	n_neg = take_negatives(ctx, neg);
	for (size_t i = 0; i < n_neg; i++) {
		(void)fuse_lowlevel_notify_inval_entry(ctx->se, neg[i].parent, neg[i].name,
						       strlen(neg[i].name));
		free(neg[i].name);
	}

	if (fs_inode_snapshot(ctx->inodes, &snap, &n) < 0) {
		fuse_log(FUSE_LOG_ERR, "invalidate: out of memory\n");
		return;
	}
	(void)fuse_lowlevel_notify_inval_inode(ctx->se, FUSE_ROOT_ID, 0, 0);
	for (size_t i = 0; i < n; i++) {
		if (is_folder(snap[i].kind) || snap[i].kind == STORE_NODE_SYNTH)
			(void)fuse_lowlevel_notify_inval_inode(ctx->se, snap[i].ino, 0, 0);
		/*
		 * Every name but staged files' (this mount's own: the write side tells the kernel
		 * when their names change; a file published under another path keeps its name for
		 * its short entry timeout, so that a chmod right after close (install) still finds
		 * it): a folder or an asset may be gone, or show other bytes. Folders are trusted
		 * for a long FS_TIMEOUT_FOLDER only because this drops them.
		 */
		if (!snap[i].staged && snap[i].ino != FUSE_ROOT_ID)
			(void)fuse_lowlevel_notify_inval_entry(ctx->se, snap[i].parent,
							       snap[i].name, strlen(snap[i].name));
	}
	fs_inode_snapshot_free(snap, n);
}

/* One look at the generation; *@s is opened on first use and kept. */
static void poll_once(struct fs_ctx *ctx, struct store **s, uint64_t *last, bool *have_last,
		      bool *failing)
{
	struct cafs_error e;
	uint64_t g;

	if ((!*s && store_open(ctx->root, ctx->domain, s, &e) < 0) ||
	    store_view_generation(*s, &g, &e) < 0) {
		if (!*failing)
			fuse_log(FUSE_LOG_ERR, "invalidate: %s: %s\n", cafs_kind_exception(e.kind),
				 e.msg);
		*failing = true;
		return;
	}
	*failing = false;
	if (*have_last && g != *last)
		invalidate_all(ctx);
	*last = g;
	*have_last = true;
}

/* CLOCK_MONOTONIC now + @ms. */
static void deadline(struct timespec *ts, long ms)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

static void *inval_main(void *arg)
{
	struct fs_ctx *ctx = arg;
	struct store *s = NULL;
	uint64_t last = 0;
	bool have_last = false, failing = false;

	pthread_mutex_lock(&ctx->inval_lock);
	while (!ctx->inval_stop) {
		struct timespec ts;

		ctx->inval_kick = false;
		ctx->inval_started++;
		pthread_mutex_unlock(&ctx->inval_lock);
		poll_once(ctx, &s, &last, &have_last, &failing);
		pthread_mutex_lock(&ctx->inval_lock);
		ctx->inval_done++;
		ctx->inval_ok = !failing;
		pthread_cond_broadcast(&ctx->inval_done_cond);

		deadline(&ts, FS_INVAL_PERIOD_MS);
		while (!ctx->inval_stop && !ctx->inval_kick &&
		       pthread_cond_timedwait(&ctx->inval_cond, &ctx->inval_lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&ctx->inval_lock);
	store_close(s);
	return NULL;
}

int fs_inval_start(struct fs_ctx *ctx)
{
	pthread_condattr_t ca;
	sigset_t block, old;
	int r;

	ctx->inval_stop = false;
	ctx->inval_kick = false;
	ctx->inval_started = ctx->inval_done = 0;
	r = pthread_mutex_init(&ctx->inval_lock, NULL);
	if (r != 0)
		return -r;
	r = pthread_condattr_init(&ca);
	if (r == 0) {
		r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (r == 0)
			r = pthread_cond_init(&ctx->inval_cond, &ca);
		if (r == 0) {
			r = pthread_cond_init(&ctx->inval_done_cond, &ca);
			if (r != 0)
				(void)pthread_cond_destroy(&ctx->inval_cond);
		}
		(void)pthread_condattr_destroy(&ca);
	}
	if (r != 0) {
		(void)pthread_mutex_destroy(&ctx->inval_lock);
		return -r;
	}
	/*
	 * The thread must not take the signals fuse_set_signal_handlers() catches: the main
	 * thread has to, to leave its wait (libfuse blocks them in its workers the same way).
	 */
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGHUP);
	(void)sigaddset(&block, SIGQUIT);
	(void)pthread_sigmask(SIG_BLOCK, &block, &old);
	r = pthread_create(&ctx->inval_thread, NULL, inval_main, ctx);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		(void)pthread_cond_destroy(&ctx->inval_done_cond);
		(void)pthread_cond_destroy(&ctx->inval_cond);
		(void)pthread_mutex_destroy(&ctx->inval_lock);
		return -r;
	}
	ctx->inval_running = true;
	return 0;
}

void fs_inval_stop(struct fs_ctx *ctx)
{
	if (!ctx->inval_running)
		return;
	pthread_mutex_lock(&ctx->inval_lock);
	ctx->inval_stop = true;
	pthread_cond_signal(&ctx->inval_cond);
	pthread_cond_broadcast(&ctx->inval_done_cond);
	pthread_mutex_unlock(&ctx->inval_lock);
	(void)pthread_join(ctx->inval_thread, NULL);
	(void)pthread_cond_destroy(&ctx->inval_done_cond);
	(void)pthread_cond_destroy(&ctx->inval_cond);
	(void)pthread_mutex_destroy(&ctx->inval_lock);
	ctx->inval_running = false;
	for (size_t i = 0; i < FS_NEGATIVE_MAX; i++) {
		free(ctx->neg[i].name);
		ctx->neg[i].name = NULL;
	}
}

bool fs_inval_kick(struct fs_ctx *ctx, int wait_ms)
{
	struct timespec ts;
	uint64_t want;
	bool done;

	if (!ctx->inval_running)
		return false;
	deadline(&ts, wait_ms);
	pthread_mutex_lock(&ctx->inval_lock);
	/* a look already under way may have read the generation before our change */
	want = ctx->inval_started + 1;
	ctx->inval_kick = true;
	pthread_cond_signal(&ctx->inval_cond);
	while (wait_ms > 0 && !ctx->inval_stop && ctx->inval_done < want)
		if (pthread_cond_timedwait(&ctx->inval_done_cond, &ctx->inval_lock, &ts) ==
		    ETIMEDOUT)
			break;
	done = ctx->inval_done >= want && ctx->inval_ok;
	pthread_mutex_unlock(&ctx->inval_lock);
	return done;
}
