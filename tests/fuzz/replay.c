/* SPDX-License-Identifier: MIT */
/*
 * The replay driver: a main() for a fuzz target built without libFuzzer (systemd's
 * fuzz-main.c), so that the normal test suite runs every target over its committed corpus on
 * every build, gcc or clang, with or without sanitizers.
 *
 *     replay_<target> [PATH...]
 *
 * runs LLVMFuzzerTestOneInput() first over a few built-in edge inputs (the empty input, single
 * bytes, long runs of one byte), then over each PATH: a file is one input, a folder is every
 * regular file in it (not recursive, dot files skipped), in name order so that a run is
 * repeatable. Each input is handed over in a buffer of exactly its size, so that AddressSanitizer
 * sees a read past its end. Arguments starting with '-' are ignored (libFuzzer options). A
 * failing property aborts, which fails the test; the last input named on stderr is the culprit.
 * Exit status: 0 when every input ran, 1 when a path could not be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/fuzz/fuzz.h"

#define MAX_INPUT_BYTES (64u << 20) /* a corpus file larger than this is a mistake */

static size_t n_run;
static bool verbose;

/* Run the target on a copy of @data of exactly @size bytes. */
static void run_one(const char *what, const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		(void)fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	if (size)
		memcpy(copy, data, size);
	if (verbose)
		(void)fprintf(stderr, "replay: %s (%zu bytes)\n", what, size);
	(void)LLVMFuzzerTestOneInput(copy, size);
	free(copy);
	n_run++;
}

static void run_builtin(void)
{
	static uint8_t buf[65536];
	static const uint8_t fills[] = {0x00, 0xff, '/', 'A', '<', '{', '\n'};
	static const size_t lens[] = {2, 32, 512, 8192, sizeof(buf)};
	char what[64];

	run_one("builtin: empty input", buf, 0);
	for (unsigned b = 0; b < 256; b++) {
		uint8_t one = (uint8_t)b;

		(void)snprintf(what, sizeof(what), "builtin: byte 0x%02x", b);
		run_one(what, &one, 1);
	}
	for (size_t i = 0; i < sizeof(fills); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			memset(buf, fills[i], lens[j]);
			(void)snprintf(what, sizeof(what), "builtin: %zu bytes of 0x%02x", lens[j],
				       fills[i]);
			run_one(what, buf, lens[j]);
		}
	}
}

/* Read @path whole; 0, or -errno with a message printed. */
static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	if (!fp) {
		r = -errno;
		(void)fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
		return r;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *p;

			cap = cap ? 2 * cap : 4096;
			if (cap > MAX_INPUT_BYTES) {
				(void)fprintf(stderr, "replay: '%s' is larger than %u bytes\n",
					      path, MAX_INPUT_BYTES);
				r = -EFBIG;
				break;
			}
			p = realloc(buf, cap);
			if (!p) {
				r = -ENOMEM;
				break;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0) {
			if (ferror(fp)) {
				r = -EIO;
				(void)fprintf(stderr, "replay: cannot read '%s'\n", path);
			}
			break;
		}
	}
	(void)fclose(fp);
	if (r == 0)
		run_one(path, buf, len);
	free(buf);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in @dir, in name order. */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;

	if (!d) {
		r = -errno;
		(void)fprintf(stderr, "replay: cannot open '%s': %s\n", dir, strerror(errno));
		return r;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p;

			cap = cap ? 2 * cap : 64;
			p = realloc(names, cap * sizeof(*names));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			names = p;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	(void)closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (r == 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			int q = run_file(path);

			if (q < 0)
				r = q;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	size_t n_paths = 0;
	int status = 0;

	verbose = getenv("FUZZ_REPLAY_VERBOSE") != NULL;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	run_builtin();
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int r;

		if (argv[i][0] == '-')
			continue;
		n_paths++;
		if (stat(argv[i], &st) < 0) {
			(void)fprintf(stderr, "replay: cannot stat '%s': %s\n", argv[i],
				      strerror(errno));
			status = 1;
			continue;
		}
		r = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
		if (r < 0)
			status = 1;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	(void)printf("replayed %zu inputs (built-in and %zu paths) in %.2f s\n", n_run, n_paths,
		     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return status;
}
