/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Package metadata from the bytes of a package file (wheel, sdist, npm tarball, Maven POM),
 * read as hostile input: every archive is bounded in entry count, entry size and total
 * uncompressed size, and anything malformed is a ValidationException with a clear message.
 * Nothing here touches the database or the blob store.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/names.h"

struct cafs_error;

/* Limits on hostile input (bytes, entries). */
#define STORE_EXTRACT_MAX_ENTRIES      100000
#define STORE_EXTRACT_MAX_META_BYTES   (8u << 20)   /* METADATA, PKG-INFO, package.json, pom */
#define STORE_EXTRACT_MAX_README_BYTES (4u << 20)   /* longer readmes are refused */
#define STORE_EXTRACT_MAX_TOTAL_BYTES  (2ull << 30) /* all entries read or skipped, uncompressed */

enum store_file_kind {
	STORE_FILE_UNKNOWN = 0,
	STORE_FILE_WHEEL,     /* *.whl: zip with <name>.dist-info/METADATA */
	STORE_FILE_SDIST_TGZ, /* *.tar.gz / *.tgz sdist with <dir>/PKG-INFO */
	STORE_FILE_SDIST_ZIP, /* *.zip sdist with <dir>/PKG-INFO */
	STORE_FILE_NPM_TGZ,   /* npm tarball with package/package.json */
	STORE_FILE_POM,       /* Maven pom.xml */
};

/* One declared dependency (spec §5.6). Owned strings; namespace_ may be NULL. */
struct store_dependency {
	char *namespace_;
	char *package;
	char *dependency_type;     /* "Requires-Dist", "regular", "dev", "compile", "parent", ... */
	char *version_requirement; /* raw range text, may be NULL */
};

struct store_license {
	char *name; /* may be NULL */
	char *url;  /* may be NULL */
};

/* What one package file says about itself. Every string is owned and may be NULL. */
struct store_metadata {
	enum cafs_format format;
	char *namespace_; /* npm scope without '@'; Maven groupId (from <parent> when absent) */
	char *name;       /* as written in the file (PyPI: not normalized; the caller does that) */
	char *version;
	char *summary;
	char *home_page;
	char *source_code_repository;
	char *requires_python;
	char *readme;        /* long description / README text */
	char *core_metadata; /* wheel: the METADATA file itself (PEP 658), NUL-terminated */
	size_t core_metadata_len;
	struct store_license *licenses;
	size_t n_licenses;
	struct store_dependency *deps;
	size_t n_deps;
};

/*
 * Guess the kind of a package file from its name and first bytes (@head, @n may be 0):
 * ".whl" → wheel; ".pom" or XML with <project> → POM; a gzip'd tar is an npm tarball when its
 * first entry is under "package/", else an sdist (the caller may pass @kind explicitly to
 * store_extract_fd() instead).
 */
enum store_file_kind store_extract_detect(const char *filename, const void *head, size_t n);

/*
 * Read the metadata of the package file open on @fd (read from the current offset; @fd is not
 * closed, and may be a pipe for tar formats). @kind STORE_FILE_UNKNOWN detects from the
 * content. On success *@ret is owned (free with store_metadata_free()). ValidationException
 * for anything malformed, too large, or missing the name or version.
 */
int store_extract_fd(int fd, enum store_file_kind kind, struct store_metadata **ret,
		     struct cafs_error *e);

/* The same for a buffer. */
int store_extract_mem(const void *buf, size_t len, enum store_file_kind kind,
		      struct store_metadata **ret, struct cafs_error *e);

/* Free @m and everything it owns. NULL is a no-op. */
void store_metadata_free(struct store_metadata *m);
