/* SPDX-License-Identifier: MIT */
/*
 * cafs-bench-ingest: time store_blob_ingest_fd() on one file, for tools/bench-ingest. It
 * creates (or opens) domain "bench" under a store root, ingests FILE once (new bytes: hash,
 * write, fsync, link, insert) and once more (a dedup hit: hash and drop), and prints the
 * elapsed CLOCK_MONOTONIC seconds of each as "new <s>" and "dedup <s>" lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/blob.h"
#include "store/store.h"

static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ingest @path once; *@ret_s is the elapsed time. Returns 0 (new) or 1 (hit), or -errno. */
static int timed_ingest(struct store *s, const char *path, double *ret_s, struct store_blob *b,
			struct cafs_error *e)
{
	double t0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return cafs_error_set(e, CAFS_IO, errno, "open '%s': %s", path, strerror(errno));
	t0 = now_s();
	r = store_blob_ingest_fd(s, fd, NULL, b, e);
	*ret_s = now_s() - t0;
	(void)close(fd);
	return r;
}

int main(int argc, char **argv)
{
	struct store *s = NULL;
	struct store_blob b;
	struct cafs_error e;
	double t_new;
	double t_dedup;
	int r;

	if (argc != 3) {
		(void)fprintf(stderr, "usage: %s FILE STORE_ROOT\n", argv[0]);
		return 2;
	}
	r = store_domain_create(argv[2], "bench", NULL, NULL, 0, &s, &e);
	if (r < 0 && e.kind == CAFS_CONFLICT)
		r = store_open(argv[2], "bench", &s, &e);
	if (r < 0)
		goto fail;
	r = timed_ingest(s, argv[1], &t_new, &b, &e);
	if (r < 0)
		goto fail;
	if (r != 0)
		(void)fprintf(stderr, "warning: '%s' was already in the store\n", argv[1]);
	r = timed_ingest(s, argv[1], &t_dedup, &b, &e);
	if (r < 0)
		goto fail;
	(void)printf("new %.3f\ndedup %.3f\nsha256 %s\nbytes %llu\n", t_new, t_dedup, b.sha256,
		     (unsigned long long)b.size);
	store_close(s);
	return 0;
fail:
	(void)fprintf(stderr, "error: %s\n", e.msg);
	store_close(s);
	return 1;
}
