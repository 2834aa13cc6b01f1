/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What every fuzz target shares: the libFuzzer entry point (declared here, as the project
 * builds with -Wmissing-prototypes) and the few helpers the targets use. A target is one
 * tests/fuzz/fuzz_<target>.c defining LLVMFuzzerTestOneInput(); it is linked either with
 * libFuzzer (-Dfuzz=true, clang) or with tests/fuzz/replay.c, whose main() runs it over a
 * corpus (the "fuzz" test suite). See docs/fuzzing.md.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run the code under test on one input. Returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A property of the code under test does not hold: say which, and abort, so that libFuzzer
 * (and the replay) report the input. Not assert(): it must hold with NDEBUG too.
 */
#define FUZZ_CHECK(cond)                                                                       \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			(void)fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				      #cond);                                                  \
			abort();                                                               \
		}                                                                              \
	} while (0)

/* @data as a NUL-terminated string (owned: free()); cut at its first NUL byte. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* @s is terminated within its @n bytes (a fixed-size field of a result). */
static inline int fuzz_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}
