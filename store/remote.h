/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What an external source serves, parsed (DESIGN.md §8): PEP 503 simple project pages (HTML),
 * PEP 691 simple JSON, npm packuments, and Maven maven-metadata.xml. Pure functions: no I/O, no
 * database. Every body is hostile input: sizes and counts are bounded, entries that cannot be
 * a file or version name (empty, over 255 bytes, '/', '\\', control characters, "." or "..")
 * are skipped, and a body that is not the format at all is a ValidationException naming what
 * is wrong (never an empty listing that looks like "no versions").
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cafs_error;

#define REMOTE_BODY_MAX  (64u << 20) /* an index body larger than this is refused */
#define REMOTE_ITEMS_MAX 200000      /* files (or versions) in one listing */

/* The digest a source publishes for a file. */
enum remote_hash {
	REMOTE_HASH_NONE = 0,
	REMOTE_HASH_MD5,
	REMOTE_HASH_SHA1,
	REMOTE_HASH_SHA256,
	REMOTE_HASH_SHA512,
};

/* "md5", "sha1", "sha256", "sha512"; "" for NONE. Static string. */
const char *remote_hash_name(enum remote_hash h);

/* The inverse, exact lower-case spelling; REMOTE_HASH_NONE when unknown. */
enum remote_hash remote_hash_parse(const char *name);

/* One downloadable file of one version. Strings owned by the listing. */
struct remote_file {
	char *version;         /* the version it belongs to */
	char *name;            /* file name as served (npm: always "package.tgz") */
	char *url;             /* absolute URL (resolved against the page's URL) */
	enum remote_hash hash; /* strongest digest published; NONE when none */
	char hash_hex[129];    /* lower-case hex of that digest, "" when none */
	int64_t size;          /* bytes, -1 when the source does not say */
	bool yanked;           /* PEP 592 data-yanked / PEP 691 "yanked" */
	char *requires_python; /* PEP 503 data-requires-python, entities decoded; may be NULL */
};

/* One version, in the source's order. */
struct remote_version {
	char *version;
	int64_t published_us; /* upload time in µs since the epoch; 0 when unknown */
	bool yanked;          /* every file of the version is yanked (PyPI) */
};

/* npm dist-tag. */
struct remote_tag {
	char *tag;
	char *version;
};

struct remote_listing {
	struct remote_version *versions;
	size_t n_versions;
	struct remote_file *files;
	size_t n_files;
	struct remote_tag *tags;
	size_t n_tags;
};

/* Free everything @l owns and zero it (a zeroed listing is a no-op). */
void remote_listing_free(struct remote_listing *l);

/*
 * PEP 503 project page of @project (the normalized name) at @page_url. Each <a href> is a
 * file: its text is the file name, its href resolved against @page_url (or a <base href>)
 * with the fragment "#<algo>=<hex>" taken as the hash (md5, sha1, sha256, sha512; other
 * algorithms are ignored) and removed from the URL; data-requires-python and data-yanked
 * (present = yanked) are read with HTML entities decoded. The version comes from the file name
 * (wheel "<name>-<version>-...", sdist "<name>-<version>.tar.gz|.zip|.tar.bz2|.tgz"), whose
 * name part must normalize to @project; other files are skipped. Versions are listed in
 * order of first appearance; a version is yanked when all its files are.
 */
int remote_parse_pypi_html(const char *body, size_t len, const char *page_url, const char *project,
			   struct remote_listing *ret, struct cafs_error *e);

/*
 * PEP 691 project JSON ("application/vnd.pypi.simple.v1+json") of @project at @page_url: files
 * with filename, url, hashes (strongest of sha512, sha256, sha1, md5), requires-python, yanked
 * (true or a reason string), size and upload-time (PEP 700) when present. Versions from the
 * file names as above (the "versions" key of PEP 700, when present, only orders them).
 */
int remote_parse_pypi_json(const char *body, size_t len, const char *page_url, const char *project,
			   struct remote_listing *ret, struct cafs_error *e);

/*
 * npm packument of @name ("lodash", "@types/node") at @page_url: every entry of "versions"
 * (in document order) with dist.tarball (resolved against @page_url) as the one file
 * "package.tgz", dist.integrity (the strongest sha512/sha256/sha1 of its SRI list, base64
 * decoded to hex) or else dist.shasum (sha1 hex); published time from "time"; dist-tags. The
 * packument's "name" must be @name.
 */
int remote_parse_packument(const char *body, size_t len, const char *page_url, const char *name,
			   struct remote_listing *ret, struct cafs_error *e);

/*
 * Maven maven-metadata.xml of @group_id:@artifact_id: the versions of <versioning><versions>
 * in document order, SNAPSHOT versions left out (never ingested, spec §1.4), no files (Maven
 * files are found by name). <groupId>/<artifactId> must match when present. No DTD or entity
 * expansion.
 */
int remote_parse_maven_metadata(const char *body, size_t len, const char *group_id,
				const char *artifact_id, struct remote_listing *ret,
				struct cafs_error *e);

/*
 * The first hex digest in a Maven checksum file body ("<hex>" or "<hex>  <file name>"), of
 * length 2 * the digest size of @h, lower-cased into @hex. 0 on success, -EINVAL otherwise.
 */
int remote_parse_checksum_file(const char *body, size_t len, enum remote_hash h, char hex[129]);

/*
 * Resolve @ref against @base (RFC 3986 §5.2; http, https and file URLs) into @buf. A @ref
 * with a scheme is taken as is. Returns 0, or -ENAMETOOLONG / -EINVAL.
 */
int remote_url_resolve(const char *base, const char *ref, char *buf, size_t bufsz);

/* ISO 8601 UTC "2021-02-20T15:42:16.891Z" (fraction and 'Z' optional, "+00:00" accepted) to
 * µs since the epoch; -1 when malformed. */
int64_t remote_parse_time(const char *iso);
