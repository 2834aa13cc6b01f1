/* SPDX-License-Identifier: MIT */
/*
 * Resource policies from the command line (spec §8.1): put-, get- and
 * delete-domain-permissions-policy and the repository ones; and the check every command
 * makes for the invoking user (cmd_check_caller(), called by open_domain()): the action each
 * command is, on its domain, repository or package.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/package.h"
#include "store/store.h"
#include "tools/cli.h"
#include "tools/cmd.h"

/* What resource a command acts on. */
enum scope { SCOPE_DOMAIN, SCOPE_REPOSITORY, SCOPE_PACKAGE };

static const struct {
	const char *command;
	const char *action; /* "Admin": cafs' own administration, the owner only */
	enum scope scope;
} checks[] = {
	{"describe-domain", "DescribeDomain", SCOPE_DOMAIN},
	{"delete-domain", "DeleteDomain", SCOPE_DOMAIN},
	{"create-repository", "CreateRepository", SCOPE_DOMAIN},
	{"describe-repository", "DescribeRepository", SCOPE_REPOSITORY},
	{"update-repository", "UpdateRepository", SCOPE_REPOSITORY},
	{"delete-repository", "DeleteRepository", SCOPE_REPOSITORY},
	{"list-repositories-in-domain", "ListRepositoriesInDomain", SCOPE_DOMAIN},
	{"list-repositories", "ListRepositories", SCOPE_DOMAIN},
	{"associate-external-connection", "AssociateExternalConnection", SCOPE_REPOSITORY},
	{"disassociate-external-connection", "DisassociateExternalConnection", SCOPE_REPOSITORY},
	{"list-packages", "ListPackages", SCOPE_REPOSITORY},
	{"describe-package", "DescribePackage", SCOPE_PACKAGE},
	{"delete-package", "DeletePackage", SCOPE_PACKAGE},
	{"put-package-origin-configuration", "PutPackageOriginConfiguration", SCOPE_PACKAGE},
	{"list-package-versions", "ListPackageVersions", SCOPE_PACKAGE},
	{"describe-package-version", "DescribePackageVersion", SCOPE_PACKAGE},
	{"list-package-version-assets", "ListPackageVersionAssets", SCOPE_PACKAGE},
	{"get-package-version-asset", "GetPackageVersionAsset", SCOPE_PACKAGE},
	{"get-package-version-readme", "GetPackageVersionReadme", SCOPE_PACKAGE},
	{"list-package-version-dependencies", "ListPackageVersionDependencies", SCOPE_PACKAGE},
	{"publish-package-version", "PublishPackageVersion", SCOPE_PACKAGE},
	{"create-package-group", "CreatePackageGroup", SCOPE_DOMAIN},
	{"describe-package-group", "DescribePackageGroup", SCOPE_DOMAIN},
	{"update-package-group", "UpdatePackageGroup", SCOPE_DOMAIN},
	{"update-package-group-origin-configuration", "UpdatePackageGroupOriginConfiguration",
	 SCOPE_DOMAIN},
	{"delete-package-group", "DeletePackageGroup", SCOPE_DOMAIN},
	{"list-package-groups", "ListPackageGroups", SCOPE_DOMAIN},
	{"list-sub-package-groups", "ListSubPackageGroups", SCOPE_DOMAIN},
	{"list-allowed-repositories-for-group", "ListAllowedRepositoriesForGroup", SCOPE_DOMAIN},
	{"get-associated-package-group", "GetAssociatedPackageGroup", SCOPE_DOMAIN},
	{"list-associated-packages", "ListAssociatedPackages", SCOPE_DOMAIN},
	{"fetch", "ReadFromRepository", SCOPE_REPOSITORY},
	{"explain", "DescribePackage", SCOPE_PACKAGE},
	{"configure-external-connection", "Admin", SCOPE_DOMAIN},
	{"refresh", "Admin", SCOPE_DOMAIN},
	{"audit", "Admin", SCOPE_DOMAIN},
	{"mount", "Admin", SCOPE_DOMAIN},
	{"fsck", "Admin", SCOPE_DOMAIN},
	{"gc", "Admin", SCOPE_DOMAIN},
	/* checked per version and package by the store: the action and the package it names */
	{"update-package-versions-status", NULL, SCOPE_PACKAGE},
	{"delete-package-versions", NULL, SCOPE_PACKAGE},
	{"dispose-package-versions", NULL, SCOPE_PACKAGE},
	{"copy-package-versions", NULL, SCOPE_PACKAGE},
	{"publish", NULL, SCOPE_PACKAGE},
};

int cmd_check_caller(struct cli *c, struct store *s, struct cafs_error *e)
{
	const char *repo = cli_str(c, "--repository");
	char arn[2048];
	int r = store_set_caller(s, (uint32_t)getuid(), (uint32_t)getgid(), e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		const char *fmt = cli_str(c, "--format");
		const char *ns = cli_str(c, "--namespace");
		const char *pkg = cli_str(c, "--package");

		if (strcmp(c->cmd->name, checks[i].command) != 0 || !checks[i].action)
			continue;
		if (checks[i].scope == SCOPE_DOMAIN || !repo)
			return store_authorize(s, checks[i].action, NULL, NULL, e);
		if (checks[i].scope == SCOPE_REPOSITORY || !fmt || !pkg)
			return store_authorize(s, checks[i].action, repo, NULL, e);
		{
			struct store_coord k = {
				.format = cafs_format_parse(fmt), .namespace_ = ns, .package = pkg};

			store_package_arn(s, repo, &k, arn, sizeof(arn));
		}
		return store_authorize(s, checks[i].action, repo, arn, e);
	}
	return 0;
}

static int print_policy(struct cli *c, struct store_policy *p)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "resourceArn", p->resource_arn, "revision",
			      p->revision, "document", p->document ? p->document : "");

	store_policy_done(p);
	return cli_print(c, json_pack("{s:o}", "policy", o));
}

/* The document from --policy-document: the text itself, or file://PATH. */
static char *document_of(struct cli *c, const char *v, int *ret_exit)
{
	FILE *f;
	char *buf;
	size_t n;

	if (strncmp(v, "file://", 7) != 0)
		return strdup(v);
	f = fopen(v + 7, "re");
	if (!f) {
		*ret_exit = cli_usage(c, "cannot read '%s': %s", v + 7, strerror(errno));
		return NULL;
	}
	buf = calloc(1, 65536 + 1);
	n = buf ? fread(buf, 1, 65536, f) : 0;
	(void)fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int put_policy(struct cli *c, const char *repository)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_policy p;
	struct cafs_error e;
	int ex = 1;
	_cleanup_free_ char *doc = document_of(c, cli_str(c, "--policy-document"), &ex);

	if (!doc)
		return ex;
	if (open_domain(c, &s, &e) < 0 ||
	    store_policy_put(s, repository, doc, cli_str(c, "--policy-revision"), &p, &e) < 0)
		return cli_fail(&e);
	return print_policy(c, &p);
}

int cmd_put_domain_permissions_policy(struct cli *c)
{
	return put_policy(c, NULL);
}

int cmd_put_repository_permissions_policy(struct cli *c)
{
	return put_policy(c, cli_str(c, "--repository"));
}

static int get_policy(struct cli *c, const char *repository)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_policy p;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 || store_policy_get(s, repository, &p, &e) < 0)
		return cli_fail(&e);
	return print_policy(c, &p);
}

int cmd_get_domain_permissions_policy(struct cli *c)
{
	return get_policy(c, NULL);
}

int cmd_get_repository_permissions_policy(struct cli *c)
{
	return get_policy(c, cli_str(c, "--repository"));
}

static int delete_policy(struct cli *c, const char *repository)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_policy p;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_policy_delete(s, repository, cli_str(c, "--policy-revision"), &p, &e) < 0)
		return cli_fail(&e);
	return print_policy(c, &p);
}

int cmd_delete_domain_permissions_policy(struct cli *c)
{
	return delete_policy(c, NULL);
}

int cmd_delete_repository_permissions_policy(struct cli *c)
{
	return delete_policy(c, cli_str(c, "--repository"));
}
