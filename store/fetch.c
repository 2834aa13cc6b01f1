/* SPDX-License-Identifier: MIT */
/*
 * libcurl transfers for external sources (store/fetch.h). One easy handle per call: sources
 * are contacted on cache misses only, so connection reuse would save little and shared handles
 * would need locks across the daemon's threads.
 */
#include "store/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policy/common.h"

#define MAX_REDIRECTS 5L

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool fetch_url_is_file(const char *url)
{
	return strncasecmp(url, "file:", 5) == 0;
}

/* One attempt's state: the sink, what was handed over, the headers seen. */
struct xfer {
	int (*sink)(void *ctx, const void *buf, size_t n, struct cafs_error *e);
	void *ctx;
	struct cafs_error *e;
	int sink_rc;    /* the sink's refusal, if any */
	int64_t handed; /* bytes given to the sink in this attempt */
	size_t max;     /* memory transfers: the body limit; 0 = none */
	bool too_big;
	const struct fetch_opts *o;
	int64_t total;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	if (x->max && (uint64_t)x->handed + len > x->max) {
		x->too_big = true;
		return 0;
	}
	x->sink_rc = x->sink(x->ctx, p, len, x->e);
	if (x->sink_rc < 0)
		return 0;
	x->handed += (int64_t)len;
	if (x->o->progress)
		x->o->progress(x->o->progress_ctx, x->handed, x->total);
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	/* the length announced, for progress and for the max check before any byte */
	if (len > 15 && strncasecmp(p, "content-length:", 15) == 0) {
		long long v = strtoll(p + 15, NULL, 10);

		x->total = v >= 0 ? v : -1;
		if (x->max && v > 0 && (uint64_t)v > x->max) {
			x->too_big = true;
			return 0;
		}
	}
	return len;
}

static bool transient(CURLcode rc, long status)
{
	if (rc == CURLE_OK)
		return status >= 500 || status == 429 || status == 408;
	return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/*
 * Run a transfer of @url with up to o->retries retries. @head: HEAD only. Returns 1 when the
 * source answered 2xx, 0 for absent (404, 410, missing file), or an IO error.
 */
static int perform(const char *url, const struct fetch_opts *o, bool head, struct xfer *x,
		   long total_timeout_s, struct fetch_info *info, struct cafs_error *e)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL;
	char accept[512];
	int attempts = 1 + (o->retries > 0 ? o->retries : 0);
	int r = 0;

	(void)pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return cafs_error_set(e, CAFS_INTERNAL, EIO, "libcurl failed to start: %s",
				      curl_easy_strerror(global_rc));
	if (o->accept) {
		(void)snprintf(accept, sizeof(accept), "Accept: %s", o->accept);
		hdrs = curl_slist_append(NULL, accept);
	}
	for (int a = 0; a < attempts; a++) {
		CURL *c = curl_easy_init();
		CURLcode rc;
		long status = 0;
		char *ct = NULL, *eff = NULL;
		curl_off_t cl = -1;

		if (!c) {
			r = cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "libcurl: out of memory");
			break;
		}
		errbuf[0] = '\0';
		x->handed = 0;
		x->total = -1;
		x->too_big = false;
		x->sink_rc = 0;
		(void)curl_easy_setopt(c, CURLOPT_URL, url);
		(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
		(void)curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		(void)curl_easy_setopt(c, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
		(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "cafs/0.1");
		(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->timeout_s);
		/* a stall (under 1 byte/s for the timeout) fails; a slow transfer goes on */
		(void)curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		(void)curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->timeout_s);
		if (total_timeout_s > 0)
			(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, total_timeout_s);
		if (hdrs)
			(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		if (head) {
			(void)curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		} else {
			(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
			(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
		}
		(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
		rc = curl_easy_perform(c);
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		(void)curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		(void)curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		(void)curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
		if (fetch_url_is_file(url) && rc == CURLE_OK)
			status = 200;
		if (info) {
			info->status = status;
			(void)snprintf(info->content_type, sizeof(info->content_type), "%s",
				       ct ? ct : "");
			info->length = cl >= 0 ? (int64_t)cl : -1;
			(void)snprintf(info->url, sizeof(info->url), "%s", eff ? eff : url);
		}
		curl_easy_cleanup(c);

		if (x->sink_rc < 0) {
			r = x->sink_rc; /* the sink's own error is in @e */
			break;
		}
		if (x->too_big) {
			r = cafs_error_set(e, CAFS_IO, EIO, "%s: larger than the %zu-byte limit",
					   url, x->max);
			break;
		}
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			r = 1;
			break;
		}
		if ((rc == CURLE_OK && (status == 404 || status == 410)) ||
		    rc == CURLE_FILE_COULDNT_READ_FILE || rc == CURLE_REMOTE_FILE_NOT_FOUND) {
			r = 0;
			break;
		}
		if (rc == CURLE_OK)
			r = cafs_error_set(e, CAFS_IO, EIO, "%s: the source answered HTTP %ld", url,
					   status);
		else
			r = cafs_error_set(e, CAFS_IO, EIO, "%s: %s", url,
					   errbuf[0] ? errbuf : curl_easy_strerror(rc));
		/* retry only what may pass, and only before the sink has seen a byte */
		if (!transient(rc, status) || x->handed > 0)
			break;
		if (a + 1 < attempts)
			sleep_ms(200L << a);
	}
	curl_slist_free_all(hdrs);
	return r;
}

/* A growing memory body. */
struct membuf {
	char *p;
	size_t len, cap;
};

static int mem_sink(void *ctx, const void *buf, size_t n, struct cafs_error *e)
{
	struct membuf *m = ctx;

	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 16384;
		char *np;

		while (cap < m->len + n + 1)
			cap *= 2;
		np = realloc(m->p, cap);
		if (!np)
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		m->p = np;
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	m->p[m->len] = '\0';
	return 0;
}

int fetch_mem(const char *url, const struct fetch_opts *o, size_t max, char **ret, size_t *ret_len,
	      struct fetch_info *info, struct cafs_error *e)
{
	struct membuf m = {0};
	struct xfer x = {.sink = mem_sink, .ctx = &m, .e = e, .max = max, .o = o};
	int r = perform(url, o, false, &x, 4 * o->timeout_s, info, e);

	if (r <= 0) {
		free(m.p);
		return r;
	}
	if (!m.p) {
		m.p = calloc(1, 1);
		if (!m.p)
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	*ret = m.p;
	*ret_len = m.len;
	return 1;
}

static int null_sink(void *ctx, const void *buf, size_t n, struct cafs_error *e)
{
	(void)ctx;
	(void)buf;
	(void)n;
	(void)e;
	return 0;
}

int fetch_head(const char *url, const struct fetch_opts *o, int64_t *ret_size, struct cafs_error *e)
{
	struct fetch_info info;
	struct xfer x = {.sink = null_sink, .e = e, .o = o};
	int r = perform(url, o, true, &x, 4 * o->timeout_s, &info, e);

	if (r > 0)
		*ret_size = info.length;
	return r;
}

int fetch_stream(const char *url, const struct fetch_opts *o,
		 int (*sink)(void *ctx, const void *buf, size_t n, struct cafs_error *e), void *ctx,
		 struct fetch_info *info, struct cafs_error *e)
{
	struct xfer x = {.sink = sink, .ctx = ctx, .e = e, .o = o};
	struct fetch_info local;
	int r = perform(url, o, false, &x, 0, info ? info : &local, e);

	if (r > 0 && (info ? info : &local)->length >= 0 &&
	    x.handed != (info ? info : &local)->length)
		return cafs_error_set(e, CAFS_IO, EIO, "%s: got %lld of %lld bytes", url,
				      (long long)x.handed,
				      (long long)(info ? info : &local)->length);
	return r;
}
