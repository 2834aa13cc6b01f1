/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Package groups of a domain (spec §7) and the one origin decision every way into a repository
 * goes through (spec §7.7): the groups live in the domain database; the rules are policy/group.h.
 * The root group (the pattern that matches everything) exists in every domain, with ALLOW for
 * all three restrictions; it cannot be deleted or set to INHERIT.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/group.h"
#include "policy/names.h"

struct store;
struct cafs_error;
struct store_pkg_coord;

/* One restriction of PackageGroupOriginConfiguration (spec §7.4). Plain value. */
struct store_group_restriction {
	enum cafs_group_mode mode;
	enum cafs_group_mode effective;
	char inherited_from[CAFS_GROUP_PATTERN_MAX + 1]; /* "" when not inherited */
	char inherited_from_arn[3 * CAFS_GROUP_PATTERN_MAX + 128];
	int64_t repositories_count; /* the allowed list of the group the effective mode is from */
};

/* PackageGroupDescription. Plain value. */
struct store_group {
	char domain[CAFS_DOMAIN_NAME_MAX + 1];
	char owner[CAFS_ACCOUNT_ID_LEN + 1];
	char pattern[CAFS_GROUP_PATTERN_MAX + 1];
	char arn[3 * CAFS_GROUP_PATTERN_MAX + 128];
	char description[CAFS_DESCRIPTION_MAX + 1];
	char contact_info[CAFS_DESCRIPTION_MAX + 1];
	int64_t created_us;
	char parent[CAFS_GROUP_PATTERN_MAX + 1]; /* "" for the root */
	char parent_arn[3 * CAFS_GROUP_PATTERN_MAX + 128];
	struct store_group_restriction r[CAFS_ACTION_N];
};

/* CreatePackageGroup: ConflictException when the pattern exists (its canonical form). */
int store_group_create(struct store *s, const char *pattern, const char *description,
		       const char *contact_info, struct store_group *ret, struct cafs_error *e);

/* DescribePackageGroup: ResourceNotFound when absent. */
int store_group_describe(struct store *s, const char *pattern, struct store_group *ret,
			 struct cafs_error *e);

/* UpdatePackageGroup: description and contact info only (NULL = keep). */
int store_group_update(struct store *s, const char *pattern, const char *description,
		       const char *contact_info, struct store_group *ret, struct cafs_error *e);

/* One allowed-repository change of UpdatePackageGroupOriginConfiguration. */
struct store_group_allowed_change {
	enum cafs_origin_action type;
	const char *repository;
};

/* What an origin update changed: per restriction type, the repositories added and removed. */
struct store_group_allowed_updates {
	char **added[CAFS_ACTION_N];
	size_t n_added[CAFS_ACTION_N];
	char **removed[CAFS_ACTION_N];
	size_t n_removed[CAFS_ACTION_N];
};
void store_group_allowed_updates_free(struct store_group_allowed_updates *u);

/*
 * UpdatePackageGroupOriginConfiguration: @modes[type] (-1 = keep) and the allowed-list
 * changes (at most CAFS_GROUP_ALLOWED_CHANGES_MAX together; repositories must exist). The root
 * cannot be set to INHERIT. *@ret_updates (may be NULL) lists what changed.
 */
int store_group_origin_update(struct store *s, const char *pattern, const int modes[CAFS_ACTION_N],
			      const struct store_group_allowed_change *add, size_t n_add,
			      const struct store_group_allowed_change *remove, size_t n_remove,
			      struct store_group *ret,
			      struct store_group_allowed_updates *ret_updates,
			      struct cafs_error *e);

/* DeletePackageGroup: its children re-attach to its parent; the root cannot be deleted. */
int store_group_delete(struct store *s, const char *pattern, struct store_group *ret,
		       struct cafs_error *e);

/*
 * ListPackageGroups (patterns starting with @prefix, NULL = all) or, with @children_of,
 * ListSubPackageGroups (the direct children of that group). Sorted by pattern. Owned array.
 */
int store_group_list(struct store *s, const char *prefix, const char *children_of,
		     struct store_group **ret, size_t *ret_n, struct cafs_error *e);

/* ListAllowedRepositoriesForGroup: the group's own list for @type, sorted. Owned. */
int store_group_allowed(struct store *s, const char *pattern, enum cafs_origin_action type,
			char ***ret, size_t *ret_n, struct cafs_error *e);

/*
 * GetAssociatedPackageGroup: the group package @format/@namespace_/@name belongs to (it need
 * not exist anywhere) and how it matched.
 */
int store_group_associated(struct store *s, enum cafs_format format, const char *namespace_,
			   const char *name, struct store_group *ret, enum cafs_match *ret_match,
			   struct cafs_error *e);

/* A package of ListAssociatedPackages. */
struct store_group_package {
	enum cafs_format format;
	char namespace_[CAFS_PACKAGE_FIELD_MAX + 1];
	char package[CAFS_PACKAGE_FIELD_MAX + 1];
	enum cafs_match match;
};

/*
 * ListAssociatedPackages: the packages of the domain (any repository, each once) associated
 * with group @pattern; with @preview, as if that group existed already (it may not).
 */
int store_group_packages(struct store *s, const char *pattern, bool preview,
			 struct store_group_package **ret, size_t *ret_n, struct cafs_error *e);

/* An origin decision with the names behind its indexes, and its reason chain in words. */
struct store_origin_verdict {
	struct cafs_origin_decision d;
	char group[CAFS_GROUP_PATTERN_MAX + 1];          /* associated group; "" none */
	char inherited_from[CAFS_GROUP_PATTERN_MAX + 1]; /* where the effective mode comes from */
	char explain[2048];
};

/*
 * allowed(@action, @repository, package) of spec §7.7: the package's own controls in
 * @repository (its record, when it has one) and the groups. *@ret (may be NULL) gets the
 * verdict. Returns 1 allowed, 0 denied, or a negative errno on a store error.
 */
int store_origin_decide(struct store *s, enum cafs_origin_action action, const char *repository,
			enum cafs_format format, const char *namespace_, const char *name,
			struct store_origin_verdict *ret, struct cafs_error *e);

/*
 * The same, as a gate: 0 when allowed; when denied an AccessDeniedException (EPERM) whose
 * message is the reason chain.
 */
int store_origin_require(struct store *s, enum cafs_origin_action action, const char *repository,
			 enum cafs_format format, const char *namespace_, const char *name,
			 struct cafs_error *e);
