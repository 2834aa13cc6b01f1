/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The client view of a domain as a file tree (DESIGN.md §2): what a package manager sees
 * through each repository, i.e. its own versions merged with everything reachable through its
 * upstreams in search order (spec §2.1), filtered by status and origin controls, plus the
 * synthesized files (PEP 503 pages, PEP 658 metadata, maven-metadata.xml, checksum files).
 *
 * Paths are relative to the mount root and start with '/': "/", "/team", "/team/pypi",
 * "/team/pypi/requests/2.31.0/requests-2.31.0-py3-none-any.whl", "/team/npm/@types/node",
 * "/team/maven/org/apache/commons/commons-lang3/maven-metadata.xml.sha1", ...
 *
 * Everything here reads; only store_view_open() may write (it retains a version found upstream
 * into the requesting repository, spec §2.2). Not thread-safe beyond struct store's rule: one
 * handle per thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/names.h"

struct store;
struct cafs_error;

enum store_node_kind {
	STORE_NODE_ROOT,    /* "/": the domain; lists repositories */
	STORE_NODE_REPO,    /* "/R": lists the format folders */
	STORE_NODE_FORMAT,  /* "/R/pypi": lists packages (and namespaces) */
	STORE_NODE_NSDIR,   /* an npm "@scope", a Maven groupId level, a generic namespace */
	STORE_NODE_PACKAGE, /* a package folder: lists versions (and synthesized files) */
	STORE_NODE_VERSION, /* a version folder: lists assets (and synthesized files) */
	STORE_NODE_ASSET,   /* an asset: bytes of a blob */
	STORE_NODE_SYNTH,   /* a synthesized file: bytes made on request */
};

enum store_synth_kind {
	STORE_SYNTH_NONE = 0,
	STORE_SYNTH_PYPI_ROOT_INDEX,    /* /R/pypi/index.html */
	STORE_SYNTH_PYPI_PROJECT_INDEX, /* /R/pypi/<name>/index.html */
	STORE_SYNTH_PYPI_CORE_METADATA, /* /R/pypi/<name>/<v>/<wheel>.metadata */
	STORE_SYNTH_MAVEN_METADATA,     /* artifact or SNAPSHOT version maven-metadata.xml */
	STORE_SYNTH_CHECKSUM,           /* <file>.md5 .sha1 .sha256 .sha512 (Maven tree) */
};

/* What a path shows. Plain value; strings are the stored (normalized) names. */
struct store_node {
	enum store_node_kind kind;
	enum store_synth_kind synth;
	char repository[CAFS_REPOSITORY_NAME_MAX + 1];
	enum cafs_format format;
	char namespace_[CAFS_PACKAGE_FIELD_MAX + 1];
	char package[CAFS_PACKAGE_FIELD_MAX + 1];
	char version[CAFS_PACKAGE_FIELD_MAX + 1];
	char file[4 * CAFS_ASSET_NAME_MAX + 1];        /* asset or synthesized file name */
	char checksum_of[4 * CAFS_ASSET_NAME_MAX + 1]; /* CHECKSUM: the file it sums */
	char checksum_algo[8];                         /* CHECKSUM: md5, sha1, sha256, sha512 */
	/* where the version comes from: the requesting repository, or an upstream */
	char source_repository[CAFS_REPOSITORY_NAME_MAX + 1];
	bool retained; /* the version is a record of the requesting repository itself */
	/* an asset only a source has so far: reading it fetches it (store_view_open) */
	bool external;
	bool unsized;  /* external, and the source does not say its size: size is 0 */
	int status;    /* enum store_status of the version, -1 above version level */
	uint64_t size; /* ASSET and SYNTH: exact size in bytes; 0 for folders */
	int64_t mtime_us;
	/*
	 * Identity for inode numbers: changes whenever what the node shows could change
	 * (an asset's blob, a version re-created after a delete). Folders: 0.
	 */
	uint64_t identity;
};

/*
 * Resolve @path to what it shows. ResourceNotFoundException when nothing is there (including
 * names hidden by status or origin controls). Archived versions resolve (their folder and
 * xattrs are visible) but their assets' status tells the opener to refuse.
 */
int store_view_resolve(struct store *s, const char *path, struct store_node *ret,
		       struct cafs_error *e);

/*
 * Call @cb for each entry of folder @dir (a node from store_view_resolve()), in a stable
 * order, with the entry's name and node. @cb returns 0 to go on, 1 to stop (not an error), or
 * a negative errno to fail. NotFound/Validation when @dir is no folder.
 */
int store_view_readdir(struct store *s, const struct store_node *dir,
		       int (*cb)(void *ctx, const char *name, const struct store_node *child),
		       void *ctx, struct cafs_error *e);

/*
 * The bytes of a synthesized file, made now. *@ret is owned (free()), *@ret_len its length
 * (equal to the node's size when the state behind it has not changed).
 */
int store_view_render(struct store *s, const struct store_node *n, char **ret, size_t *ret_len,
		      struct cafs_error *e);

/*
 * A 64-bit digest of rendered bytes (XXH3), for telling whether a synthesized file shows the
 * same bytes as before (the mount's page cache decisions). Not an identity: collisions are
 * possible, if astronomically rare.
 */
uint64_t store_view_digest(const char *data, size_t len);

/*
 * Open an asset for reading: refuses Archived (AccessDenied, EACCES) and Disposed (NotFound);
 * when the version comes from an upstream, retains it into the requesting repository first
 * (spec §2.2: the requesting repository only, origin kept, package created with ingest-style
 * controls). Returns an fd on the blob (owned: close() it).
 */
int store_view_open(struct store *s, const struct store_node *n, struct cafs_error *e);

/*
 * Extended attributes of DESIGN.md §4. store_view_xattr_list() writes the NUL-separated names
 * that apply to @n into @buf (like listxattr: with @bufsz 0 it returns the size needed).
 * store_view_xattr_get() writes the value into @buf the same way; NotFound with sys_errno
 * ENODATA for a name that does not apply.
 */
int store_view_xattr_list(struct store *s, const struct store_node *n, char *buf, size_t bufsz,
			  struct cafs_error *e);
int store_view_xattr_get(struct store *s, const struct store_node *n, const char *name, char *buf,
			 size_t bufsz, struct cafs_error *e);

/*
 * A number that changes whenever anything in the domain changes (any process): SQLite's
 * PRAGMA data_version combined with this handle's own commits. Cheap; for cache invalidation.
 */
int store_view_generation(struct store *s, uint64_t *ret, struct cafs_error *e);
