/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The transport to external sources (DESIGN.md §8): libcurl for https://, http:// and file://
 * URLs. Bounded in every direction: a connect timeout, a stall timeout (no byte for that long
 * fails the transfer; a slow but moving download goes on), a total timeout for index bodies,
 * a body size limit, at most five redirects and only to http(s), and a bounded number of
 * retries on transient failures (timeouts, 5xx, a connection that broke) before any byte was
 * handed over. Every failure is an IO error (EIO) whose message names the URL and the reason.
 * Thread-safe: each call uses its own curl handle.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cafs_error;

struct fetch_opts {
	long timeout_s;     /* connect and stall timeout; index bodies get 4x in total */
	int retries;        /* extra attempts after a transient failure */
	const char *accept; /* Accept header, NULL = none */
	/* called as bytes arrive (total = -1 when unknown); may be NULL */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
};

/* What the source answered besides the body. */
struct fetch_info {
	long status;            /* HTTP status; 200 for file:// */
	char content_type[128]; /* "" when none (file://) */
	int64_t length;         /* Content-Length, -1 when unknown */
	char url[4096];         /* the final URL after redirects */
};

/*
 * GET @url into memory (owned, NUL-terminated beyond *@ret_len), at most @max bytes. Returns 1
 * with the body, 0 when the source says there is nothing at @url (HTTP 404 or 410, a missing
 * file), or an IO error.
 */
int fetch_mem(const char *url, const struct fetch_opts *o, size_t max, char **ret, size_t *ret_len,
	      struct fetch_info *info, struct cafs_error *e);

/* HEAD @url: 1 with *@ret_size (-1 when the source does not say), 0 when absent, or IO error. */
int fetch_head(const char *url, const struct fetch_opts *o, int64_t *ret_size,
	       struct cafs_error *e);

/*
 * GET @url and hand the body to @sink piece by piece (@sink returns 0, or a negative errno
 * to stop with its own error in @e). A transfer that ends short of its Content-Length is an
 * IO error. Retries happen only while no byte has reached @sink. 1 done, 0 absent, <0 error.
 */
int fetch_stream(const char *url, const struct fetch_opts *o,
		 int (*sink)(void *ctx, const void *buf, size_t n, struct cafs_error *e), void *ctx,
		 struct fetch_info *info, struct cafs_error *e);

/* "https", "http" or "file" URL: true. */
bool fetch_url_is_file(const char *url);
