/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The FUSE adapter's public face. The mount itself (fs_run) arrives with the read side of the
 * tree; what is here now is the boundary every FUSE operation ends in: a store or policy error
 * becomes one errno, and a refusal becomes one log line.
 */

struct cafs_error;

/*
 * The errno a FUSE reply carries for @e (DESIGN.md §5, through cafs_error_errno()), after
 * logging one line "<op> <path>: <Exception>: <message>" (routine not-found at debug level).
 * Thread-safe.
 */
int fs_error_reply_errno(const char *op, const char *path, const struct cafs_error *e);
