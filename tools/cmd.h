/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The commands of `cafs` and the helpers they share: opening the domain named on the command
 * line, paging, and the option groups that many commands take.
 */

#include <jansson.h>

#include "tools/cli.h"

struct store;
struct store_coord;
struct cafs_error;

#define DOMAIN_OPTS                                                                    \
	{"--domain", CLI_STR, true, "NAME", "the domain"},                             \
	{                                                                              \
		"--domain-owner", CLI_STR, false, "ACCOUNT",                           \
			"12-digit account id of the domain owner (checked when given)" \
	}

#define VERSION_OPTS                                                                     \
	DOMAIN_OPTS, {"--repository", CLI_STR, true, "NAME", "the repository"},          \
		{"--format", CLI_STR, true, "FORMAT", "npm, pypi, maven, generic, ..."}, \
		{"--namespace", CLI_STR, false, "NS",                                    \
		 "namespace: npm scope without '@', Maven groupId, generic namespace"},  \
		{"--package", CLI_STR, true, "NAME", "the package"},                     \
	{                                                                                \
		"--package-version", CLI_STR, true, "VERSION", "the version"             \
	}

#define PACKAGE_OPTS                                                                     \
	DOMAIN_OPTS, {"--repository", CLI_STR, true, "NAME", "the repository"},          \
		{"--format", CLI_STR, true, "FORMAT", "npm, pypi, maven, generic, ..."}, \
		{"--namespace", CLI_STR, false, "NS",                                    \
		 "namespace: npm scope without '@', Maven groupId, generic namespace"},  \
	{                                                                                \
		"--package", CLI_STR, true, "NAME", "the package"                        \
	}

/* Open the domain named by --domain, checking --domain-owner when given. */
int open_domain(struct cli *c, struct store **ret, struct cafs_error *e);

/*
 * The checks of open_domain() on a handle opened some other way (@r its open's result, *@ret
 * the handle): the caller's right to the command and --domain-owner. On failure *@ret is
 * closed and NULL.
 */
int open_domain_checked(struct cli *c, int r, struct store **ret, struct cafs_error *e);

/*
 * Paging shared by the list commands: @items (stolen) are sorted by @key; --next-token is the
 * key of the first item of the next page. Returns {"items": [...], "nextToken"?} or NULL after
 * a usage error (*@ret_exit set).
 */
json_t *page(struct cli *c, json_t *items, const char *key, int *ret_exit);

int cmd_create_domain(struct cli *c);
int cmd_create_package_group(struct cli *c);
int cmd_describe_package_group(struct cli *c);
int cmd_update_package_group(struct cli *c);
int cmd_update_package_group_origin_configuration(struct cli *c);
int cmd_delete_package_group(struct cli *c);
int cmd_list_package_groups(struct cli *c);
int cmd_list_sub_package_groups(struct cli *c);
int cmd_list_allowed_repositories_for_group(struct cli *c);
int cmd_get_associated_package_group(struct cli *c);
int cmd_list_associated_packages(struct cli *c);
int cmd_explain(struct cli *c);
int cmd_describe_domain(struct cli *c);
int cmd_delete_domain(struct cli *c);
int cmd_list_domains(struct cli *c);
int cmd_create_repository(struct cli *c);
int cmd_describe_repository(struct cli *c);
int cmd_update_repository(struct cli *c);
int cmd_delete_repository(struct cli *c);
int cmd_list_repositories_in_domain(struct cli *c);
int cmd_list_repositories(struct cli *c);
int cmd_associate_external_connection(struct cli *c);
int cmd_disassociate_external_connection(struct cli *c);
int cmd_configure_external_connection(struct cli *c);
int cmd_refresh(struct cli *c);

/* Resource policies and the invoking user's right to each command (tools/cmd_perm.c). */
int cmd_check_caller(struct cli *c, struct store *s, struct cafs_error *e);
int cmd_put_domain_permissions_policy(struct cli *c);
int cmd_get_domain_permissions_policy(struct cli *c);
int cmd_delete_domain_permissions_policy(struct cli *c);
int cmd_put_repository_permissions_policy(struct cli *c);
int cmd_get_repository_permissions_policy(struct cli *c);
int cmd_delete_repository_permissions_policy(struct cli *c);
int cmd_fetch(struct cli *c);
int cmd_list_tags_for_resource(struct cli *c);
int cmd_audit(struct cli *c);
int cmd_publish_package_version(struct cli *c);
int cmd_list_package_version_assets(struct cli *c);
int cmd_list_packages(struct cli *c);
int cmd_describe_package(struct cli *c);
int cmd_delete_package(struct cli *c);
int cmd_put_package_origin_configuration(struct cli *c);
int cmd_list_package_versions(struct cli *c);
int cmd_describe_package_version(struct cli *c);

/* The batch commands on package versions (tools/cmd_lifecycle.c). */
int cmd_update_package_versions_status(struct cli *c);
int cmd_dispose_package_versions(struct cli *c);
int cmd_delete_package_versions(struct cli *c);
int cmd_copy_package_versions(struct cli *c);

/* The maintenance commands (tools/cmd_maint.c). */
int cmd_fsck(struct cli *c);
int cmd_gc(struct cli *c);
