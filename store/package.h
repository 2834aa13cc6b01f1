/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Packages, package versions and their assets (spec §3-§6). A version's assets point at blobs
 * of the domain's blob store, so the same bytes in many repositories are stored once.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy/names.h"
#include "store/blob.h"

struct store;
struct store_metadata;
struct cafs_error;

/* PackageVersionStatus values a version record can hold (spec §4.1). */
enum store_status {
	STORE_STATUS_PUBLISHED,
	STORE_STATUS_UNFINISHED,
	STORE_STATUS_UNLISTED,
	STORE_STATUS_ARCHIVED,
	STORE_STATUS_DISPOSED,
};

/* "Published", ...; static string. */
const char *store_status_name(enum store_status st);

/* Parse a status name (exact spelling); -1 when unknown. */
int store_status_parse(const char *s);

/* A package version's coordinate as the API takes it; strings borrowed. */
struct store_coord {
	enum cafs_format format;
	const char *namespace_; /* NULL or "" when the package has none */
	const char *package;
	const char *version;
};

/* AssetSummary (spec §5.1); plain value. */
struct store_asset {
	char name[4 * CAFS_ASSET_NAME_MAX + 1];
	uint64_t size;
	struct store_blob_hashes hashes;
};

/* PublishPackageVersion's input: one asset into one version. Strings borrowed. */
struct store_publish {
	const char *repository;
	struct store_coord coord;
	const char *asset_name;
	const char *asset_sha256; /* the caller's SHA-256 of the bytes, checked; NULL = none */
	bool unfinished;          /* keep the version Unfinished (generic, Maven) */
	const struct store_metadata *meta; /* what the package file says of itself; may be NULL */
	/*
	 * The response's hashes hold the SHA-256 only: MD5, SHA-1 and SHA-512 are left to their
	 * first request (a read of the whole blob), for callers that do not show them (the mount).
	 */
	bool sha256_only;
	/* @fd is the caller's to give up: the store may make its inode the blob
	 * (store_blob_adopt_fd()) */
	bool adopt;
};

/* PublishPackageVersion's response; plain value. */
struct store_publish_result {
	enum cafs_format format;
	char namespace_[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char package[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char version[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char revision[64];
	enum store_status status;
	struct store_asset asset;
	bool changed; /* false when the same bytes were already there under that name */
};

/*
 * Publish the bytes readable from @fd as one asset of a version (PublishPackageVersion). The
 * package record is created on first arrival with publish=ALLOW, upstream=BLOCK (spec §6.2);
 * a package whose publish control is BLOCK refuses (AccessDenied, EPERM). The same asset name
 * with the same bytes succeeds with nothing changed; with other bytes it is a
 * ConflictException. A generic version takes new assets only while Unfinished; Archived and
 * Disposed versions take none (ConflictException, EROFS). More than 150 assets:
 * ServiceQuotaExceeded. Bytes go into the blob store before the one transaction that records
 * them, so a crash leaves either nothing or the whole publish.
 */
int store_publish_fd(struct store *s, const struct store_publish *req, int fd,
		     struct store_publish_result *ret, struct cafs_error *e);

/*
 * ListPackageVersionAssets: the assets of a version in @repository, sorted by name, with all
 * four hashes. *@ret is owned (free()). @ret_revision (64 bytes) receives the revision.
 */
int store_version_assets(struct store *s, const char *repository, const struct store_coord *c,
			 struct store_asset **ret, size_t *ret_n, char *ret_revision,
			 struct cafs_error *e);

/* PackageSummary / PackageDescription (spec §5.8); plain value. */
struct store_package {
	enum cafs_format format;
	char namespace_[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char package[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char display_name[4 * CAFS_PACKAGE_FIELD_MAX + 3];
	char publish[6];  /* origin control: "ALLOW" or "BLOCK" */
	char upstream[6]; /* origin control: "ALLOW" or "BLOCK" */
};

/* ListPackages filters; NULL / CAFS_FORMAT_NONE = no filter. Strings borrowed. */
struct store_package_filter {
	enum cafs_format format;
	const char *namespace_prefix;
	const char *package_prefix;
	const char *publish;
	const char *upstream;
};

/* ListPackages: the packages of @repository, sorted by format, namespace, name. Owned array. */
int store_package_list(struct store *s, const char *repository,
		       const struct store_package_filter *f, struct store_package **ret,
		       size_t *ret_n, struct cafs_error *e);

/* DescribePackage (@c->version is ignored). */
int store_package_describe(struct store *s, const char *repository, const struct store_coord *c,
			   struct store_package *ret, struct cafs_error *e);

/*
 * DeletePackage: the package with all its versions, assets and origin configuration. Blobs
 * stay until no asset references them (gc frees them). *@ret describes what was deleted.
 */
int store_package_delete(struct store *s, const char *repository, const struct store_coord *c,
			 struct store_package *ret, struct cafs_error *e);

/*
 * PutPackageOriginConfiguration: set both controls ("ALLOW"/"BLOCK"); creates the package with
 * no versions when it does not exist (spec §6.3).
 */
int store_package_origin_put(struct store *s, const char *repository, const struct store_coord *c,
			     const char *publish, const char *upstream, struct store_package *ret,
			     struct cafs_error *e);

/* PackageVersionSummary (spec §5.8) plus the origin (§5.5); plain value. */
struct store_version {
	char version[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char revision[64];
	enum store_status status;
	char origin_type[10];                /* INTERNAL, EXTERNAL or UNKNOWN */
	char entry_repository[101];          /* "" unless the entry point is a repository */
	char entry_external_connection[101]; /* "" unless it is an external connection */
	int64_t published_us;
};

/* ListPackageVersions filters: @status -1 = all; @origin_type NULL = all. */
struct store_version_filter {
	int status;
	const char *origin_type;
};

/*
 * ListPackageVersions: versions of a package in @repository, oldest published first.
 * @ret_default (CAFS_PACKAGE_FIELD_MAX*4+1 bytes, may be NULL) receives defaultDisplayVersion
 * (spec §2.5: npm's `latest` tag, else the most recently published Published version; "" when
 * none). Owned array.
 */
int store_version_list(struct store *s, const char *repository, const struct store_coord *c,
		       const struct store_version_filter *f, struct store_version **ret,
		       size_t *ret_n, char *ret_default, struct cafs_error *e);

/* PackageVersionDescription (spec §5.4): the summary plus owned metadata strings (NULL when
 * absent). Free the strings with store_version_detail_done(). */
struct store_version_detail {
	struct store_version v;
	struct store_package package;
	char *display_name;
	char *summary;
	char *home_page;
	char *source_code_repository;
	char *licenses; /* JSON array of {name, url} */
	char *readme;
};

/* DescribePackageVersion. */
int store_version_describe(struct store *s, const char *repository, const struct store_coord *c,
			   struct store_version_detail *ret, struct cafs_error *e);
void store_version_detail_done(struct store_version_detail *d);

/*
 * GetPackageVersionAsset: open asset @asset of a version for reading. Returns the fd (owned:
 * close() it). Archived versions refuse (ConflictException with EACCES), Disposed ones have no
 * assets (NotFound); Unfinished ones are readable here (spec decision 6). When
 * @expect_revision is not NULL it must be the version's revision (ConflictException).
 * @ret_revision (64 bytes) and @ret_size may be NULL.
 */
int store_asset_open(struct store *s, const char *repository, const struct store_coord *c,
		     const char *asset, const char *expect_revision, char *ret_revision,
		     uint64_t *ret_size, struct cafs_error *e);

/* A declared dependency as stored (spec §5.6); plain value. */
struct store_dependency_row {
	char namespace_[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char package[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	char dependency_type[32];
	char version_requirement[1024];
};

/* ListPackageVersionDependencies: in declaration order. Owned array. */
int store_version_dependencies(struct store *s, const char *repository, const struct store_coord *c,
			       struct store_dependency_row **ret, size_t *ret_n, char *ret_revision,
			       struct cafs_error *e);

/*
 * Batch operations on the versions of one package (spec §4.3-§4.5): UpdatePackageVersionsStatus,
 * DisposePackageVersions, DeletePackageVersions and CopyPackageVersions.
 */

/* PackageVersionErrorCode (spec §4.3); STORE_VERSION_OK marks a success. */
enum store_version_error {
	STORE_VERSION_OK,
	STORE_VERSION_ALREADY_EXISTS,
	STORE_VERSION_MISMATCHED_REVISION,
	STORE_VERSION_MISMATCHED_STATUS,
	STORE_VERSION_NOT_ALLOWED,
	STORE_VERSION_NOT_FOUND,
	STORE_VERSION_SKIPPED,
};

/* "ALREADY_EXISTS", ...; "" for STORE_VERSION_OK. Static string. */
const char *store_version_error_name(enum store_version_error code);

/* One version named by a batch request; strings borrowed. */
struct store_version_ref {
	const char *version;
	const char *revision; /* versionRevisions: the revision it must have; NULL = any */
};

#define STORE_BATCH_MAX 100 /* versions per batch call (spec §4.3) */

/* A batch request on versions of one package; strings borrowed. */
struct store_batch {
	const char *repository;   /* copy: the source repository */
	struct store_coord coord; /* the package; .version is ignored */
	const struct store_version_ref *versions;
	size_t n_versions;   /* 1 to STORE_BATCH_MAX; a version named twice counts once */
	int expected_status; /* expectedStatus as an enum store_status, or -1 = any */
};

/* One version's outcome; plain value. */
struct store_batch_item {
	char version[CAFS_PACKAGE_FIELD_MAX + 1];
	enum store_version_error error; /* STORE_VERSION_OK on success */
	bool omitted;       /* copy: already in the destination, identical: left out of responses */
	char revision[64];  /* on success: the version's revision */
	const char *status; /* on success: "Published", ..., "Disposed" or "Deleted"; static */
	char message[1024]; /* on failure: why */
};

/* A batch's outcome: one item per distinct requested version, in request order. */
struct store_batch_result {
	struct store_batch_item *items; /* owned: free with store_batch_result_done() */
	size_t n;
	size_t n_failed; /* items with an error, SKIPPED included; 0 = the batch was applied */
};

/* Free the items of @r (NULL is a no-op) and zero it. */
void store_batch_result_done(struct store_batch_result *r);

/*
 * UpdatePackageVersionsStatus to @target (Published, Unlisted or Archived, else
 * ValidationException). All or nothing: when a version fails (NOT_FOUND, MISMATCHED_STATUS,
 * MISMATCHED_REVISION, NOT_ALLOWED for a Disposed one) nothing changes and the others are
 * SKIPPED; the call still returns 0 with *@ret filled (owned). The revision never changes;
 * Published sets publishedTime when unset. Exceptions (<0): bad request, missing package.
 */
int store_version_update_status(struct store *s, const struct store_batch *req,
				enum store_status target, struct store_batch_result *ret,
				struct cafs_error *e);

/*
 * DisposePackageVersions: the versions' assets are deleted and they stay as Disposed records
 * with the revision of no assets. Blobs no asset references any more are freed (rows in the
 * transaction, files after it). All or nothing as store_version_update_status().
 */
int store_version_dispose(struct store *s, const struct store_batch *req,
			  struct store_batch_result *ret, struct cafs_error *e);

/*
 * DeletePackageVersions: the version records go with their assets, dependencies and the npm
 * dist-tags naming them; reported status "Deleted". Blobs are freed as by dispose. All or
 * nothing as store_version_update_status().
 */
int store_version_delete(struct store *s, const struct store_batch *req,
			 struct store_batch_result *ret, struct cafs_error *e);

/*
 * CopyPackageVersions from @req->repository to @destination: metadata, assets (same blobs),
 * dependencies, status and origin; for npm the source's dist-tags naming a copied version.
 * @include_from_upstream finds each version in the source's search order. An identical version
 * already there is a success with .omitted; a different one ALREADY_EXISTS unless
 * @allow_overwrite. A new destination package takes origin controls from the first copied
 * version's originType. @req->expected_status is ignored. All or nothing as above.
 */
int store_version_copy(struct store *s, const struct store_batch *req, const char *destination,
		       bool allow_overwrite, bool include_from_upstream,
		       struct store_batch_result *ret, struct cafs_error *e);
