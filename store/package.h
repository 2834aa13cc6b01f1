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
	bool unfinished;          /* keep the version Unfinished (generic) */
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
