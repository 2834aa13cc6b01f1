/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Version strings: Semantic Versioning 2.0 precedence for npm's dist-tags. Pure functions.
 */

#include <stdbool.h>

/*
 * Compare two SemVer 2.0 versions by precedence (build metadata ignored): <0, 0, >0. A string
 * that is not SemVer sorts below every SemVer one and, among themselves, by strcmp().
 */
int cafs_semver_cmp(const char *a, const char *b);

/* Whether @v is a valid SemVer 2.0 version. */
bool cafs_semver_valid(const char *v);

/* Whether @v is SemVer with a pre-release part ("1.0.0-rc.1"). */
bool cafs_semver_prerelease(const char *v);
