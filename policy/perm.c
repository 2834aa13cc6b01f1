/* SPDX-License-Identifier: MIT */
/*
 * Resource policy evaluation (policy/perm.h): explicit Deny beats Allow beats nothing, as IAM
 * evaluates resource policies.
 */
#include "policy/perm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/common.h"

/* The spec's actions (§8.2), API-named and permission-only. */
static const char *const actions[] = {
	"AssociateExternalConnection",
	"AssociateWithDownstreamRepository",
	"CopyPackageVersions",
	"CreateDomain",
	"CreatePackageGroup",
	"CreateRepository",
	"DeleteDomain",
	"DeleteDomainPermissionsPolicy",
	"DeletePackage",
	"DeletePackageGroup",
	"DeletePackageVersions",
	"DeleteRepository",
	"DeleteRepositoryPermissionsPolicy",
	"DescribeDomain",
	"DescribePackage",
	"DescribePackageGroup",
	"DescribePackageVersion",
	"DescribeRepository",
	"DisassociateExternalConnection",
	"DisposePackageVersions",
	"GetAssociatedPackageGroup",
	"GetAuthorizationToken",
	"GetDomainPermissionsPolicy",
	"GetPackageVersionAsset",
	"GetPackageVersionReadme",
	"GetRepositoryEndpoint",
	"GetRepositoryPermissionsPolicy",
	"ListAllowedRepositoriesForGroup",
	"ListAssociatedPackages",
	"ListDomains",
	"ListPackageGroups",
	"ListPackageVersionAssets",
	"ListPackageVersionDependencies",
	"ListPackageVersions",
	"ListPackages",
	"ListRepositories",
	"ListRepositoriesInDomain",
	"ListSubPackageGroups",
	"ListTagsForResource",
	"PublishPackageVersion",
	"PutDomainPermissionsPolicy",
	"PutPackageMetadata",
	"PutPackageOriginConfiguration",
	"PutRepositoryPermissionsPolicy",
	"ReadFromRepository",
	"TagResource",
	"UntagResource",
	"UpdatePackageGroup",
	"UpdatePackageGroupOriginConfiguration",
	"UpdatePackageVersionsStatus",
	"UpdateRepository",
};

void cafs_perm_policy_free(struct cafs_perm_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct cafs_perm_statement *st = &p->statements[i];

		for (size_t j = 0; j < st->n_actions; j++)
			free(st->actions[j]);
		for (size_t j = 0; j < st->n_resources; j++)
			free(st->resources[j]);
		free(st->actions);
		free(st->resources);
		free(st->principals);
	}
	free(p->statements);
	*p = (struct cafs_perm_policy){0};
}

bool cafs_perm_glob(const char *pattern, const char *s, bool fold)
{
	/* iterative glob with one backtrack point: linear in practice, never exponential */
	const char *star = NULL, *resume = NULL;

	while (*s) {
		char pc = *pattern, sc = *s;

		if (fold) {
			pc = (char)(pc >= 'A' && pc <= 'Z' ? pc - 'A' + 'a' : pc);
			sc = (char)(sc >= 'A' && sc <= 'Z' ? sc - 'A' + 'a' : sc);
		}
		if (*pattern == '*') {
			star = pattern++;
			resume = s;
		} else if (*pattern && (*pattern == '?' || pc == sc)) {
			pattern++;
			s++;
		} else if (star) {
			pattern = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

bool cafs_perm_action_valid(const char *action)
{
	const char *name;

	if (strcmp(action, "*") == 0)
		return true;
	if (strncasecmp(action, "codeartifact:", 13) != 0)
		return false;
	name = action + 13;
	if (strpbrk(name, "*?"))
		return *name != '\0';
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (strcasecmp(name, actions[i]) == 0)
			return true;
	return false;
}

bool cafs_principal_matches(const struct cafs_principal *p, const struct cafs_caller *c)
{
	switch (p->kind) {
	case CAFS_PRINCIPAL_ANY:
		return true;
	case CAFS_PRINCIPAL_USER:
		return c->user[0] && strcmp(p->name, c->user) == 0;
	case CAFS_PRINCIPAL_UID:
		return p->id == c->uid;
	case CAFS_PRINCIPAL_GROUP:
		for (size_t i = 0; i < c->n_groups; i++)
			if (c->groups[i][0] && strcmp(p->name, c->groups[i]) == 0)
				return true;
		return false;
	case CAFS_PRINCIPAL_GID:
		for (size_t i = 0; i < c->n_groups; i++)
			if (p->id == c->gids[i])
				return true;
		return false;
	}
	return false;
}

static bool any_glob(char *const *patterns, size_t n, const char *s, bool fold)
{
	for (size_t i = 0; i < n; i++)
		if (cafs_perm_glob(patterns[i], s, fold))
			return true;
	return false;
}

static bool statement_applies(const struct cafs_perm_statement *st, const struct cafs_caller *c,
			      const char *action, const char *resource)
{
	bool who = false;

	for (size_t i = 0; i < st->n_principals && !who; i++)
		who = cafs_principal_matches(&st->principals[i], c);
	return who && any_glob(st->actions, st->n_actions, action, true) &&
	       any_glob(st->resources, st->n_resources, resource, false);
}

enum cafs_perm_verdict cafs_perm_evaluate(const struct cafs_perm_policy *const *policies, size_t n,
					  const struct cafs_caller *c, const char *action,
					  const char *resource, char *why, size_t whysz)
{
	const struct cafs_perm_statement *allow = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct cafs_perm_policy *p = policies[i];

		for (size_t j = 0; p && j < p->n; j++) {
			const struct cafs_perm_statement *st = &p->statements[j];

			if (!statement_applies(st, c, action, resource))
				continue;
			if (st->effect == CAFS_PERM_DENY) {
				if (why)
					(void)snprintf(why, whysz, "denied by statement %s%s%s",
						       st->sid[0] ? "'" : "#",
						       st->sid[0] ? st->sid : "",
						       st->sid[0] ? "'" : "");
				if (why && !st->sid[0])
					(void)snprintf(why, whysz, "denied by statement #%zu",
						       j + 1);
				return CAFS_PERM_DENIED;
			}
			if (!allow)
				allow = st;
		}
	}
	if (why && allow)
		(void)snprintf(why, whysz, "allowed by statement '%s'",
			       allow->sid[0] ? allow->sid : "(no Sid)");
	else if (why)
		(void)snprintf(why, whysz, "no statement allows it");
	return allow ? CAFS_PERM_ALLOWED : CAFS_PERM_IMPLICIT_DENY;
}
