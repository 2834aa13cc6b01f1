/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Name rules of the CodeArtifact data model (spec §1.2, §1.4, §3). Pure functions: each
 * validator returns 0 or a negative errno with @e filled (ValidationException), never allocates.
 */

#include <stdbool.h>
#include <stddef.h>

struct cafs_error;

#define CAFS_DOMAIN_NAME_MIN     2
#define CAFS_DOMAIN_NAME_MAX     50
#define CAFS_REPOSITORY_NAME_MIN 2
#define CAFS_REPOSITORY_NAME_MAX 100
#define CAFS_DESCRIPTION_MAX     1000
#define CAFS_MAX_UPSTREAMS       10
#define CAFS_MAX_SEARCHED_REPOS  25
#define CAFS_TAG_KEY_MAX         128
#define CAFS_TAG_VALUE_MAX       256
#define CAFS_MAX_TAGS            200
#define CAFS_ACCOUNT_ID_LEN      12

/* The package formats of spec §3, in the API's spelling. */
enum cafs_format {
	CAFS_FORMAT_NONE = 0,
	CAFS_FORMAT_NPM,
	CAFS_FORMAT_PYPI,
	CAFS_FORMAT_MAVEN,
	CAFS_FORMAT_NUGET,
	CAFS_FORMAT_GENERIC,
	CAFS_FORMAT_RUBY,
	CAFS_FORMAT_SWIFT,
	CAFS_FORMAT_CARGO,
};

/* "npm", "pypi", ...; NULL for CAFS_FORMAT_NONE or out of range. Static string. */
const char *cafs_format_name(enum cafs_format f);

/* Parse an API format name (exact, lower case); CAFS_FORMAT_NONE when unknown. */
enum cafs_format cafs_format_parse(const char *s);

/*
 * Domain name: 2-50 characters of [a-z0-9-], starting with a letter and not ending with '-'
 * (spec §1.1). @what names the parameter in the message ("domain").
 */
int cafs_validate_domain_name(const char *name, struct cafs_error *e);

/*
 * Repository name: 2-100 characters of [A-Za-z0-9._-], the first alphanumeric (spec §1.2).
 * Too long gives sys_errno ENAMETOOLONG.
 */
int cafs_validate_repository_name(const char *name, struct cafs_error *e);

/* Description: at most 1000 characters, no control characters (spec §1.2). UTF-8 counted by
 * code point. */
int cafs_validate_description(const char *text, struct cafs_error *e);

/* Account id (domain owner): exactly 12 decimal digits. */
int cafs_validate_account_id(const char *id, struct cafs_error *e);

/* Tag key (1-128) and value (0-256), no control characters. */
int cafs_validate_tag(const char *key, const char *value, struct cafs_error *e);

/*
 * The spec's external connections (§1.4): returns the package format a connection name serves,
 * or CAFS_FORMAT_NONE (and fills @e with a ValidationException) when the name is not one of them.
 */
enum cafs_format cafs_external_connection_format(const char *name, struct cafs_error *e);

/* The @i-th known external connection name (for help texts), NULL past the end. */
const char *cafs_external_connection_name(size_t i);

#define CAFS_PACKAGE_FIELD_MAX 255 /* namespace, name, version (spec §3) */
#define CAFS_ASSET_NAME_MAX    255
#define CAFS_MAX_ASSETS        150 /* assets per package version (spec §11) */

/*
 * A package coordinate's parts: 1-255 characters, none of '#', '/' or whitespace (spec §3), and
 * not "." or ".." (each is a folder of the mount).
 * @what is "namespace", "package" or "version" for the message.
 */
int cafs_validate_coord_part(const char *value, const char *what, struct cafs_error *e);

/*
 * A whole coordinate for @format: namespace required for maven, generic and swift, refused for
 * pypi, nuget, ruby and cargo; npm's is optional. Name and version must be valid parts.
 */
int cafs_validate_coord(enum cafs_format format, const char *namespace_, const char *name,
			const char *version, struct cafs_error *e);

/*
 * An asset name: 1-255 characters without control characters; for generic the stricter rules
 * of spec §5.2 (letters, digits and ~!@^&()-_+[]{};,. and single inner spaces; not "." or "..");
 * npm's only asset is "package.tgz".
 */
int cafs_validate_asset_name(enum cafs_format format, const char *name, struct cafs_error *e);

/*
 * PEP 503 normalization (lower case, runs of '-', '_', '.' become one '-') of @name into @buf.
 * Returns 0, or -ENAMETOOLONG when @buf is too small.
 */
int cafs_pypi_normalize(const char *name, char *buf, size_t bufsz);

/*
 * Whether a PyPI file name names @name @version, as pip reads it: a wheel is
 * "{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl", an sdist "{name}-{version}.tar.gz"
 * or ".zip"; names compare PEP 503-normalized, versions exactly.
 */
bool cafs_pypi_filename_matches(const char *file, const char *name, const char *version);
