/* SPDX-License-Identifier: MIT */
/*
 * The error type and the one table that maps error kinds to exception names and errno values.
 * fs/ answers syscalls with cafs_error_errno(); tools/ prints cafs_kind_exception().
 */
#include "policy/common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cafs_error_set(struct cafs_error *e, enum cafs_kind kind, int sys_errno, const char *fmt, ...)
{
	struct cafs_error tmp;
	va_list ap;

	if (!e)
		e = &tmp;
	e->kind = kind;
	e->sys_errno = sys_errno;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -cafs_error_errno(e);
}

void cafs_error_clear(struct cafs_error *e)
{
	if (!e)
		return;
	e->kind = CAFS_OK;
	e->sys_errno = 0;
	e->msg[0] = '\0';
}

static const struct {
	const char *exception;
	int err;
} kind_table[] = {
	[CAFS_OK] = {"OK", 0},
	[CAFS_NOT_FOUND] = {"ResourceNotFoundException", ENOENT},
	[CAFS_ACCESS_DENIED] = {"AccessDeniedException", EACCES},
	[CAFS_VALIDATION] = {"ValidationException", EINVAL},
	[CAFS_CONFLICT] = {"ConflictException", EEXIST},
	[CAFS_QUOTA_EXCEEDED] = {"ServiceQuotaExceededException", EDQUOT},
	[CAFS_THROTTLED] = {"ThrottlingException", EAGAIN},
	[CAFS_INTERNAL] = {"InternalServerException", EIO},
	[CAFS_IO] = {"InternalServerException", EIO},
};

const char *cafs_kind_exception(enum cafs_kind kind)
{
	if ((size_t)kind >= ARRAY_SIZE(kind_table))
		return "InternalServerException";
	return kind_table[kind].exception;
}

int cafs_kind_errno(enum cafs_kind kind)
{
	if ((size_t)kind >= ARRAY_SIZE(kind_table))
		return EIO;
	return kind_table[kind].err;
}

int cafs_error_errno(const struct cafs_error *e)
{
	if (e->sys_errno > 0)
		return e->sys_errno;
	return cafs_kind_errno(e->kind);
}
