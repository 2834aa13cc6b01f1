/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "extract": package metadata extraction (store/extract.h) on hostile package
 * files. The first input byte picks the kind (byte % 6: 0 detect from the content, 1 wheel,
 * 2 sdist tar.gz, 3 sdist zip, 4 npm tarball, 5 POM); the rest is the file, handed to
 * store_extract_mem() and, with a file name that fits the kind, to store_extract_detect().
 * When (byte / 6) is odd the file is also read through store_extract_fd() from a memfd, which
 * must come to the same answer.
 * That reaches libarchive's zip, tar and gzip readers through store/extract.c, the PKG-INFO
 * and METADATA parser (store/pkginfo.c), package.json (store/package_json.c) and the POM
 * reader (store/pom.c).
 *
 * Properties: a success has a name and a version and well-formed dependencies and licenses;
 * a failure is a known error kind with a terminated message and leaves the result unset;
 * nothing leaks (LeakSanitizer) and nothing reads out of bounds (AddressSanitizer).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/extract.h"
#include "tests/fuzz/fuzz.h"

static const struct {
	enum store_file_kind kind;
	const char *filename; /* for store_extract_detect() */
} kinds[] = {
	{STORE_FILE_UNKNOWN, "package"},           {STORE_FILE_WHEEL, "demo-1.0-py3-none-any.whl"},
	{STORE_FILE_SDIST_TGZ, "demo-1.0.tar.gz"}, {STORE_FILE_SDIST_ZIP, "demo-1.0.zip"},
	{STORE_FILE_NPM_TGZ, "package.tgz"},       {STORE_FILE_POM, "demo-1.0.pom"},
};

/* Touch every byte of @s, so that a dangling or unterminated string is seen. */
static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static void check_metadata(const struct store_metadata *m)
{
	size_t sum = 0;

	FUZZ_CHECK(m->name && m->name[0]);
	FUZZ_CHECK(m->version && m->version[0]);
	sum += touch(m->namespace_) + touch(m->summary) + touch(m->home_page);
	sum += touch(m->source_code_repository) + touch(m->requires_python) + touch(m->readme);
	FUZZ_CHECK(!m->core_metadata_len || m->core_metadata);
	if (m->core_metadata)
		FUZZ_CHECK(m->core_metadata[m->core_metadata_len] == '\0');
	FUZZ_CHECK(!m->n_licenses || m->licenses);
	for (size_t i = 0; i < m->n_licenses; i++)
		sum += touch(m->licenses[i].name) + touch(m->licenses[i].url);
	FUZZ_CHECK(!m->n_deps || m->deps);
	for (size_t i = 0; i < m->n_deps; i++) {
		const struct store_dependency *d = &m->deps[i];

		FUZZ_CHECK(d->package && d->dependency_type);
		sum += touch(d->namespace_) + touch(d->package) + touch(d->dependency_type) +
		       touch(d->version_requirement);
	}
	(void)sum;
}

static void check_outcome(int r, const struct store_metadata *m, const struct cafs_error *e)
{
	if (r == 0) {
		FUZZ_CHECK(m != NULL);
		check_metadata(m);
		return;
	}
	FUZZ_CHECK(r < 0);
	FUZZ_CHECK(m == NULL);
	FUZZ_CHECK(fuzz_terminated(e->msg, sizeof(e->msg)));
	/* a hostile file is the sender's error, not ours (out of memory aside) */
	FUZZ_CHECK(e->kind == CAFS_VALIDATION || e->sys_errno == ENOMEM);
}

/* The same file through an fd (a memfd: seekable, as a published file is). */
static void extract_fd(const uint8_t *data, size_t size, enum store_file_kind kind,
		       const struct store_metadata *want, int want_r)
{
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	int fd = memfd_create("fuzz-extract", MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		(void)close(fd);
		return;
	}
	(void)lseek(fd, 0, SEEK_SET);
	r = store_extract_fd(fd, kind, &m, &e);
	(void)close(fd);
	check_outcome(r, m, &e);
	FUZZ_CHECK(r == want_r);
	if (r == 0) {
		FUZZ_CHECK(strcmp(m->name, want->name) == 0);
		FUZZ_CHECK(strcmp(m->version, want->version) == 0);
		FUZZ_CHECK(m->n_deps == want->n_deps);
	}
	store_metadata_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	bool also_fd;
	size_t k;
	int r;

	if (size < 1)
		return 0;
	k = data[0] % ARRAY_SIZE(kinds);
	also_fd = (data[0] / ARRAY_SIZE(kinds)) % 2 == 1;
	data++;
	size--;

	(void)store_extract_detect(kinds[k].filename, data, size);
	r = store_extract_mem(data, size, kinds[k].kind, &m, &e);
	check_outcome(r, m, &e);
	if (also_fd)
		extract_fd(data, size, kinds[k].kind, m, r);
	store_metadata_free(m);
	return 0;
}
