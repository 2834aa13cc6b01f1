/* SPDX-License-Identifier: MIT */
/*
 * The errno boundary of the FUSE adapter: the only place where an error of store/ or policy/
 * turns into the errno a syscall sees, and where refusals are logged through fuse_log() so that
 * "Operation not permitted" from cp is never a mystery (DESIGN.md §5).
 */
#include "fs/fs.h"

#include <fuse_lowlevel.h>

#include "policy/common.h"

int fs_error_reply_errno(const char *op, const char *path, const struct cafs_error *e)
{
	int err = cafs_error_errno(e);

	fuse_log(e->kind == CAFS_NOT_FOUND ? FUSE_LOG_DEBUG : FUSE_LOG_ERR, "%s %s: %s: %s\n", op,
		 path ? path : "-", cafs_kind_exception(e->kind), e->msg);
	return err;
}
