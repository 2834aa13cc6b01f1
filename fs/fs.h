/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The FUSE adapter's public face: fs_run() mounts a domain and serves it (the tree of
 * DESIGN.md §2 with the xattrs of §4, and writing as publishing, §3 and §9), and
 * fs_error_reply_errno() is the boundary
 * every FUSE operation ends in: a store or policy error becomes one errno, and a refusal
 * becomes one log line. Callers (tools/) never see libfuse.
 */

#include <stdbool.h>

struct cafs_error;

/* What to mount and how. Plain value; the strings are borrowed for the call. */
struct fs_options {
	const char *root;       /* the store root (store_default_root()) */
	const char *domain;     /* the domain to mount */
	const char *mountpoint; /* an existing folder */
	bool foreground;        /* serve from the calling process instead of detaching */
	bool allow_other;       /* let other users in (non-root needs user_allow_other) */
	bool debug;             /* libfuse's request trace and debug-level lines; foreground */
	const char *options;    /* more mount options for -o ("a,b=c"), or NULL */
};

/*
 * Mount domain @o->domain of the store at @o->root on @o->mountpoint and serve it with a
 * thread pool until it is unmounted (`fusermount3 -u`, or SIGINT/SIGTERM/SIGHUP, after which
 * fs_run unmounts). The domain is opened once first, so a missing one is reported here
 * (ResourceNotFoundException), as are a missing mount point, bad -o options and a failed
 * mount. Log lines go to stderr, or to syslog once detached.
 *
 * Without @o->foreground (and @o->debug) the process detaches only after the mount is in
 * place: the *calling* process then exits with status 0 from inside this function
 * (fuse_daemonize()), and fs_run returns in the daemon when the mount ends. Returns 0, or a
 * negative errno with @e filled. Call it once per process, before any other thread exists.
 */
int fs_run(const struct fs_options *o, struct cafs_error *e);

/*
 * The errno a FUSE reply carries for @e (DESIGN.md §5, through cafs_error_errno()), after
 * logging one line "<op> <path>: <Exception>: <message>" (routine not-found at debug level).
 * Thread-safe.
 */
int fs_error_reply_errno(const char *op, const char *path, const struct cafs_error *e);
