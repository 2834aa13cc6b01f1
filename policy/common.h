/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared vocabulary of every cafs module: the one error type, the mapping from error kinds to
 * CodeArtifact exception names and to errno, and the cleanup helpers. This is the leaf of the
 * dependency graph: libc only.
 */

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* CodeArtifact's API errors, plus raw I/O (spec §9.1). */
enum cafs_kind {
	CAFS_OK = 0,
	CAFS_NOT_FOUND = 1,  /* ResourceNotFoundException */
	CAFS_ACCESS_DENIED,  /* AccessDeniedException (permission policy) */
	CAFS_VALIDATION,     /* ValidationException */
	CAFS_CONFLICT,       /* ConflictException */
	CAFS_QUOTA_EXCEEDED, /* ServiceQuotaExceededException */
	CAFS_THROTTLED,      /* ThrottlingException (SQLITE_BUSY past the timeout) */
	CAFS_INTERNAL,       /* InternalServerException */
	CAFS_IO,             /* storage or source I/O; reported as InternalServerException */
};

/*
 * The error filled by every fallible function, only on failure. No allocation (cf. jansson's
 * json_error_t). sys_errno is the precise errno when one is known (a syscall's, or a
 * refinement such as ELOOP for an upstream cycle); 0 lets cafs_error_errno() use the table.
 */
struct cafs_error {
	enum cafs_kind kind;
	int sys_errno;
	char msg[512];
};

/*
 * Fill @e (which may be NULL) and return the negative errno that describes it, so that callers
 * write "return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no repository '%s'", name);".
 */
int cafs_error_set(struct cafs_error *e, enum cafs_kind kind, int sys_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reset @e to "no error". */
void cafs_error_clear(struct cafs_error *e);

/* The CodeArtifact exception name for @kind, e.g. "ResourceNotFoundException". Static string. */
const char *cafs_kind_exception(enum cafs_kind kind);

/* The errno for @kind alone (the single table of DESIGN.md §5). */
int cafs_kind_errno(enum cafs_kind kind);

/* The errno for @e: its sys_errno when set, else the table's value for its kind. */
int cafs_error_errno(const struct cafs_error *e);

static inline void cafs_freep(void *p)
{
	free(*(void **)p);
}

static inline void cafs_closep(const int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

/* Hand an owned pointer out of a _cleanup_ variable. */
static inline void *steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;

	*p = NULL;
	return v;
}

static inline int steal_fd(int *fd)
{
	int v = *fd;

	*fd = -1;
	return v;
}

#define _cleanup_(f)    __attribute__((cleanup(f)))
#define _cleanup_free_  _cleanup_(cafs_freep)
#define _cleanup_close_ _cleanup_(cafs_closep)
