/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private declarations shared by the files behind store/extract.h: extract.c (archives, the
 * metadata object, shared helpers), pkginfo.c (PyPI core metadata), package_json.c (npm) and
 * pom.c (Maven). Nothing outside store/ (and its unit tests) includes this header.
 */

#include <stdbool.h>
#include <stddef.h>

struct cafs_error;
struct store_metadata;

/* Declared dependencies (and licenses) accepted from one package file. */
#define STORE_EXTRACT_MAX_DEPS 10000

/* A growing NUL-terminated buffer; {0} is empty; free .p with free(). */
struct store_sbuf {
	char *p;
	size_t len, cap;
};

/* Room for @n more bytes and the NUL; 0 or -ENOMEM. */
int store_sbuf_reserve(struct store_sbuf *b, size_t n);

/* Append @n bytes of @s; 0 or -ENOMEM. */
int store_sbuf_add(struct store_sbuf *b, const void *s, size_t n);

static inline bool store_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline bool store_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* An owned copy of @s[0..@n) without surrounding white space; NULL if empty or on ENOMEM. */
char *store_trim_dup(const char *s, size_t n);

/* strdup() that keeps NULL; sets *@fail on ENOMEM. */
char *store_dup_opt(const char *s, bool *fail);

/* Make room in the array *@arrp of @size-byte items holding @n for one more; 0 or -ENOMEM. */
int store_array_reserve(void *arrp, size_t n, size_t size);

/* 0 if @buf is UTF-8 without NUL bytes; else ValidationException naming @what. */
int store_text_check(const char *what, const char *buf, size_t len, struct cafs_error *e);

/* Fill @e with the out-of-memory error and return its negative errno. */
int store_extract_oom(struct cafs_error *e);

/*
 * Append a copy of the dependency to @m (each string may be NULL but @package). Refuses with
 * ValidationException past STORE_EXTRACT_MAX_DEPS; InternalServerException on ENOMEM.
 */
int store_metadata_add_dep(struct store_metadata *m, const char *namespace_, const char *package,
			   const char *type, const char *requirement, struct cafs_error *e);

/* Append a copy of the license (@name and @url may be NULL). */
int store_metadata_add_license(struct store_metadata *m, const char *name, const char *url,
			       struct cafs_error *e);

/*
 * The parsers fill @m (zeroed by the caller, who frees it also on failure) from one metadata
 * file of @len bytes, at most STORE_EXTRACT_MAX_META_BYTES; @path names it in messages. Each
 * returns ValidationException for malformed input or a missing name or version.
 */

/* PKG-INFO or a wheel's METADATA (RFC 822 headers, then the description). */
int store_pkginfo_parse(const char *path, const char *buf, size_t len, struct store_metadata *m,
			struct cafs_error *e);

/* npm's package.json (@m->readme, when set, is kept over its "readme" field). */
int store_package_json_parse(const char *path, const char *buf, size_t len,
			     struct store_metadata *m, struct cafs_error *e);

/* A Maven POM; a DOCTYPE or entity declaration is refused. */
int store_pom_parse(const char *buf, size_t len, struct store_metadata *m, struct cafs_error *e);
