/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Resource policies (spec §8.1, §8.4): what a parsed policy document is, whom a principal
 * names, and the evaluation of one request. Pure: the document's JSON is parsed in
 * store/perm.c, names of users and groups are resolved by the caller.
 *
 * Principals (cafs' mapping of IAM onto local users, spec §8.4): "*" (any local user),
 * {"Unix": "user:alice"}, {"Unix": "uid:1001"}, {"Unix": "group:builders"}, {"Unix":
 * "gid:1002"}, and {"AWS": "arn:aws:iam::<12 digits>:root"} or {"AWS": "<12 digits>"}, the
 * account whose id is a uid as 12 digits (store_local_account()). Actions and resources may
 * use the wildcards '*' and '?'; actions compare without regard to case.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAFS_POLICY_MAX_CHARS  7168 /* a document's size limit (spec §8.1) */
#define CAFS_CALLER_MAX_GROUPS 64

enum cafs_perm_effect {
	CAFS_PERM_ALLOW,
	CAFS_PERM_DENY,
};

enum cafs_principal_kind {
	CAFS_PRINCIPAL_ANY,   /* "*" */
	CAFS_PRINCIPAL_USER,  /* user:<name> */
	CAFS_PRINCIPAL_UID,   /* uid:<n>, or an account id */
	CAFS_PRINCIPAL_GROUP, /* group:<name> */
	CAFS_PRINCIPAL_GID,   /* gid:<n> */
};

struct cafs_principal {
	enum cafs_principal_kind kind;
	char name[64]; /* USER, GROUP */
	uint32_t id;   /* UID, GID */
};

/* One statement; arrays owned (cafs_perm_policy_free()). */
struct cafs_perm_statement {
	enum cafs_perm_effect effect;
	char sid[128];
	struct cafs_principal *principals;
	size_t n_principals;
	char **actions; /* "codeartifact:ReadFromRepository", "codeartifact:*", "*" */
	size_t n_actions;
	char **resources; /* ARNs with wildcards; "*" */
	size_t n_resources;
};

struct cafs_perm_policy {
	struct cafs_perm_statement *statements;
	size_t n;
};

void cafs_perm_policy_free(struct cafs_perm_policy *p);

/* Who asks: a local user with its primary and supplementary groups. */
struct cafs_caller {
	uint32_t uid;
	char user[64]; /* "" when the uid has no name */
	size_t n_groups;
	uint32_t gids[CAFS_CALLER_MAX_GROUPS];
	char groups[CAFS_CALLER_MAX_GROUPS][64];
};

/* Is @action one of the spec's (§8.2) with its "codeartifact:" prefix, or a pattern? */
bool cafs_perm_action_valid(const char *action);

/* '*' and '?' glob match; @fold: without regard to ASCII case. */
bool cafs_perm_glob(const char *pattern, const char *s, bool fold);

/* Does @p name @c? */
bool cafs_principal_matches(const struct cafs_principal *p, const struct cafs_caller *c);

/* The outcome of one request against a set of policies. */
enum cafs_perm_verdict {
	CAFS_PERM_IMPLICIT_DENY, /* no statement allows it */
	CAFS_PERM_ALLOWED,
	CAFS_PERM_DENIED, /* an explicit Deny: wins over every Allow */
};

/*
 * Evaluate @action ("codeartifact:PublishPackageVersion") on @resource (an ARN) for @c over
 * @policies (NULL entries are skipped). @why (may be NULL) receives the deciding statement in
 * words.
 */
enum cafs_perm_verdict cafs_perm_evaluate(const struct cafs_perm_policy *const *policies, size_t n,
					  const struct cafs_caller *c, const char *action,
					  const char *resource, char *why, size_t whysz);
