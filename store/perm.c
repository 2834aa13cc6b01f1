/* SPDX-License-Identifier: MIT */
/*
 * Resource policies (spec §8): documents parsed from JSON (hostile input: bounded, every
 * field checked), stored per domain or repository ARN with a revision, and the check of one
 * request by the calling local user (store_authorize()).
 *
 * Who may do what: the domain owner (the user whose account id the domain holds, its uid as
 * 12 digits) and root may do everything; anybody else needs an Allow in the domain's policy or
 * in the policy of the repository concerned, and no explicit Deny in either. A handle with no
 * caller set (store_set_caller()) acts as the owner: the CLI and the mount set one.
 *
 * Anti-lockout (spec §8.1): while a Put or Delete of a policy is checked, that very policy is
 * ignored, so a policy can never grant the right to change itself, and the owner can always
 * change it.
 */
#include "policy/perm.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/store.h"
#include "store/view.h"

#define MAX_STATEMENTS 100
#define MAX_LIST       100

static int bad(struct cafs_error *e, const char *what)
{
	return cafs_error_set(e, CAFS_VALIDATION, EINVAL, "invalid policy document: %s", what);
}

/* A string or a list of strings into an owned array. */
static int strings(json_t *v, const char *what, char ***ret, size_t *ret_n, struct cafs_error *e)
{
	json_t *one = json_is_string(v) ? v : NULL;
	size_t n = one ? 1 : json_array_size(v);
	char **out;
	char msg[96];

	(void)snprintf(msg, sizeof(msg), "%s must be a string or a list of 1 to %d strings", what,
		       MAX_LIST);
	if ((!one && !json_is_array(v)) || n == 0 || n > MAX_LIST)
		return bad(e, msg);
	out = calloc(n, sizeof(*out));
	if (!out)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *s = one ? one : json_array_get(v, i);

		if (!json_is_string(s) || json_string_length(s) == 0 ||
		    json_string_length(s) > 1024 || !(out[i] = strdup(json_string_value(s)))) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return json_is_string(s) && json_string_length(s) &&
					       json_string_length(s) <= 1024
				       ? cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory")
				       : bad(e, msg);
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

/* "user:alice", "uid:1001", "group:builders", "gid:1002". */
static int unix_principal(const char *v, struct cafs_principal *p, struct cafs_error *e)
{
	static const struct {
		const char *prefix;
		enum cafs_principal_kind kind;
	} kinds[] = {{"user:", CAFS_PRINCIPAL_USER},
		     {"uid:", CAFS_PRINCIPAL_UID},
		     {"group:", CAFS_PRINCIPAL_GROUP},
		     {"gid:", CAFS_PRINCIPAL_GID}};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t l = strlen(kinds[i].prefix);
		const char *rest = v + l;

		if (strncmp(v, kinds[i].prefix, l) != 0)
			continue;
		p->kind = kinds[i].kind;
		if (kinds[i].kind == CAFS_PRINCIPAL_UID || kinds[i].kind == CAFS_PRINCIPAL_GID) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(rest, &end, 10);
			if (!*rest || *end || errno || n > UINT32_MAX || *rest == '-')
				return bad(e, "a uid: or gid: principal needs a number");
			p->id = (uint32_t)n;
			return 0;
		}
		if (!*rest || strlen(rest) >= sizeof(p->name) || strpbrk(rest, ":/ \t\n"))
			return bad(e, "a user: or group: principal needs a name");
		(void)snprintf(p->name, sizeof(p->name), "%s", rest);
		return 0;
	}
	return bad(e, "a Unix principal is user:NAME, uid:N, group:NAME or gid:N");
}

/* "arn:aws:iam::<12 digits>:root" or "<12 digits>": the account, a uid. */
static int aws_principal(const char *v, struct cafs_principal *p, struct cafs_error *e)
{
	size_t l = strlen(v);
	char digits[13];

	if (strcmp(v, "*") == 0) {
		p->kind = CAFS_PRINCIPAL_ANY;
		return 0;
	}
	if (l == 13 + 12 + 5 && memcmp(v, "arn:aws:iam::", 13) == 0 &&
	    memcmp(v + l - 5, ":root", 5) == 0)
		(void)snprintf(digits, sizeof(digits), "%.12s", v + 13);
	else if (l == 12)
		(void)snprintf(digits, sizeof(digits), "%s", v);
	else
		return bad(e, "an AWS principal is \"*\", an account id or arn:aws:iam::ID:root");
	if (strspn(digits, "0123456789") != 12)
		return bad(e, "an account id is 12 digits");
	p->kind = CAFS_PRINCIPAL_UID;
	p->id = (uint32_t)strtoul(digits, NULL, 10);
	return 0;
}

static int principals(json_t *v, struct cafs_perm_statement *st, struct cafs_error *e)
{
	const char *key;
	json_t *val;
	size_t cap = 0;

	if (json_is_string(v) && strcmp(json_string_value(v), "*") == 0) {
		st->principals = calloc(1, sizeof(*st->principals));
		if (!st->principals)
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		st->principals[0].kind = CAFS_PRINCIPAL_ANY;
		st->n_principals = 1;
		return 0;
	}
	if (!json_is_object(v) || json_object_size(v) == 0)
		return bad(e, "Principal must be \"*\" or an object of Unix and AWS principals");
	json_object_foreach(v, key, val)
	{
		bool is_unix = strcmp(key, "Unix") == 0;
		size_t n = json_is_string(val) ? 1 : json_array_size(val);

		if (!is_unix && strcmp(key, "AWS") != 0)
			return bad(e, "Principal keys are Unix and AWS");
		if ((!json_is_string(val) && !json_is_array(val)) || n == 0 || n > MAX_LIST ||
		    cap + n > MAX_LIST)
			return bad(e, "a principal list holds 1 to 100 strings");
		{
			struct cafs_principal *np =
				reallocarray(st->principals, cap + n, sizeof(*np));

			if (!np)
				return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
			st->principals = np;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_is_string(val) ? val : json_array_get(val, i);
			struct cafs_principal *p = &st->principals[cap];
			int r;

			*p = (struct cafs_principal){0};
			if (!json_is_string(s))
				return bad(e, "a principal is a string");
			r = is_unix ? unix_principal(json_string_value(s), p, e)
				    : aws_principal(json_string_value(s), p, e);
			if (r < 0)
				return r;
			cap++;
			st->n_principals = cap;
		}
	}
	return 0;
}

static int statement(json_t *o, struct cafs_perm_statement *st, struct cafs_error *e)
{
	const char *effect = json_string_value(json_object_get(o, "Effect"));
	json_t *sid = json_object_get(o, "Sid");
	json_t *res = json_object_get(o, "Resource");
	const char *key;
	json_t *val;
	int r;

	if (!json_is_object(o))
		return bad(e, "each Statement is an object");
	json_object_foreach(o, key, val)
	{
		if (strcmp(key, "Sid") && strcmp(key, "Effect") && strcmp(key, "Principal") &&
		    strcmp(key, "Action") && strcmp(key, "Resource"))
			return strcmp(key, "Condition") == 0
				       ? bad(e, "Condition is not supported")
				       : bad(e, "a Statement has Sid, Effect, Principal, Action "
						"and Resource only (NotAction, NotPrincipal and "
						"NotResource are not supported)");
	}
	if (!effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0))
		return bad(e, "Effect must be Allow or Deny");
	st->effect = strcmp(effect, "Deny") == 0 ? CAFS_PERM_DENY : CAFS_PERM_ALLOW;
	if (sid && (!json_is_string(sid) || json_string_length(sid) >= sizeof(st->sid)))
		return bad(e, "Sid must be a string of under 128 characters");
	if (sid)
		(void)snprintf(st->sid, sizeof(st->sid), "%s", json_string_value(sid));
	r = principals(json_object_get(o, "Principal"), st, e);
	if (r == 0)
		r = strings(json_object_get(o, "Action"), "Action", &st->actions, &st->n_actions,
			    e);
	for (size_t i = 0; r == 0 && i < st->n_actions; i++)
		if (!cafs_perm_action_valid(st->actions[i]))
			r = cafs_error_set(e, CAFS_VALIDATION, EINVAL,
					   "invalid policy document: unknown action '%.100s' "
					   "(codeartifact:<Action>, wildcards allowed)",
					   st->actions[i]);
	if (r == 0 && !res) {
		st->resources = calloc(1, sizeof(*st->resources));
		if (!st->resources || !(st->resources[0] = strdup("*")))
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		st->n_resources = 1;
	} else if (r == 0) {
		r = strings(res, "Resource", &st->resources, &st->n_resources, e);
	}
	return r;
}

int store_perm_parse(const char *doc, size_t len, struct cafs_perm_policy *ret,
		     struct cafs_error *e)
{
	struct cafs_perm_policy p = {0};
	json_error_t je;
	json_t *root, *sts;
	int r = 0;

	if (len > CAFS_POLICY_MAX_CHARS)
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL,
				      "policy document of %zu characters: at most %d are allowed",
				      len, CAFS_POLICY_MAX_CHARS);
	root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL,
				      "invalid policy document: not JSON: %s (line %d)", je.text,
				      je.line);
	sts = json_object_get(root, "Statement");
	if (!json_is_object(root))
		r = bad(e, "the document is an object");
	else if (json_object_get(root, "Version") &&
		 !json_is_string(json_object_get(root, "Version")))
		r = bad(e, "Version is a string");
	else if (json_is_object(sts) ? false
				     : (!json_is_array(sts) || json_array_size(sts) == 0 ||
					json_array_size(sts) > MAX_STATEMENTS))
		r = bad(e, "Statement is an object or a list of 1 to 100 objects");
	if (r == 0) {
		size_t n = json_is_object(sts) ? 1 : json_array_size(sts);

		p.statements = calloc(n, sizeof(*p.statements));
		if (!p.statements)
			r = cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		for (size_t i = 0; r == 0 && i < n; i++) {
			p.n = i + 1;
			r = statement(json_is_object(sts) ? sts : json_array_get(sts, i),
				      &p.statements[i], e);
		}
	}
	json_decref(root);
	if (r < 0) {
		cafs_perm_policy_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- the caller -------------------------------------------------------------------------------
 */

int store_set_caller(struct store *s, uint32_t uid, uint32_t gid, struct cafs_error *e)
{
	struct cafs_caller c = {.uid = uid};
	gid_t groups[CAFS_CALLER_MAX_GROUPS];
	int ng = CAFS_CALLER_MAX_GROUPS;
	struct passwd pw, *pwp = NULL;
	char buf[16384];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
		(void)snprintf(c.user, sizeof(c.user), "%s", pw.pw_name);
		if (getgrouplist(pw.pw_name, gid, groups, &ng) < 0)
			ng = CAFS_CALLER_MAX_GROUPS; /* the first ones */
	} else {
		groups[0] = gid;
		ng = 1;
	}
	for (int i = 0; i < ng && c.n_groups < CAFS_CALLER_MAX_GROUPS; i++) {
		struct group gr, *grp = NULL;

		c.gids[c.n_groups] = groups[i];
		if (getgrgid_r(groups[i], &gr, buf, sizeof(buf), &grp) == 0 && grp)
			(void)snprintf(c.groups[c.n_groups], sizeof(c.groups[0]), "%s", gr.gr_name);
		c.n_groups++;
	}
	s->caller = c;
	s->has_caller = true;
	(void)e;
	return 0;
}

void store_set_caller_of(struct store *s, const struct cafs_caller *c)
{
	if (c) {
		s->caller = *c;
		s->has_caller = true;
	} else {
		s->has_caller = false;
	}
}

const struct cafs_caller *store_caller(const struct store *s)
{
	return s->has_caller ? &s->caller : NULL;
}

/* ---- storage -----------------------------------------------------------------------------------
 */

static void domain_arn_of(struct store *s, char *buf, size_t bufsz)
{
	struct store_domain d = {0};

	(void)store_domain_owner(s, d.owner, NULL);
	(void)snprintf(d.name, sizeof(d.name), "%s", s->name);
	store_domain_arn(&d, buf, bufsz);
}

static void repo_arn_of(struct store *s, const char *repository, char *buf, size_t bufsz)
{
	char owner[13] = "";

	(void)store_domain_owner(s, owner, NULL);
	store_repository_arn(owner, s->name, repository, buf, bufsz);
}

/* The stored policy of @arn: 1 (owned strings), 0 when none. */
static int policy_row(struct store *s, const char *arn, char **ret_doc, char *ret_rev,
		      struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s, "SELECT document, revision FROM permission_policies WHERE resource_arn = ?", e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (ret_doc)
			*ret_doc = strdup((const char *)sqlite3_column_text(st, 0));
		if (ret_rev)
			(void)snprintf(ret_rev, 101, "%s",
				       (const char *)sqlite3_column_text(st, 1));
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "read policy", e);
	if (rc == SQLITE_ROW && ret_doc && !*ret_doc)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	return rc == SQLITE_ROW;
}

/* A parsed policy from the per-handle cache (valid while the generation stays). */
struct perm_cache {
	char arn[512];
	uint64_t generation;
	bool present;
	struct cafs_perm_policy policy;
};

#define PERM_CACHE 8

void store_perms_free(struct store *s)
{
	struct perm_cache *c = s->perms;

	for (size_t i = 0; c && i < PERM_CACHE; i++)
		cafs_perm_policy_free(&c[i].policy);
	free(c);
	s->perms = NULL;
}

static int policy_get(struct store *s, const char *arn, const struct cafs_perm_policy **ret,
		      struct cafs_error *e)
{
	struct perm_cache *c;
	uint64_t gen = 0;
	size_t slot = 0;
	char *doc = NULL;
	int r;

	if (!s->perms && !(s->perms = calloc(PERM_CACHE, sizeof(struct perm_cache))))
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	c = s->perms;
	r = store_view_generation(s, &gen, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < PERM_CACHE; i++) {
		if (c[i].generation == gen && s->txn_depth == 0 && strcmp(c[i].arn, arn) == 0) {
			*ret = c[i].present ? &c[i].policy : NULL;
			return 0;
		}
		if (c[i].generation < c[slot].generation)
			slot = i;
	}
	cafs_perm_policy_free(&c[slot].policy);
	c[slot].generation = 0;
	r = policy_row(s, arn, &doc, NULL, e);
	if (r > 0)
		r = store_perm_parse(doc, strlen(doc), &c[slot].policy, e);
	free(doc);
	if (r < 0)
		return r;
	(void)snprintf(c[slot].arn, sizeof(c[slot].arn), "%s", arn);
	c[slot].present = r > 0 || c[slot].policy.n > 0;
	c[slot].generation = s->txn_depth == 0 ? gen : 0;
	*ret = c[slot].present ? &c[slot].policy : NULL;
	return 0;
}

/* ---- the check
 * ------------------------------------------------------------------------------------ */

static bool is_owner(struct store *s, uint32_t uid)
{
	char owner[13] = "";

	if (uid == 0)
		return true;
	if (store_domain_owner(s, owner, NULL) < 0)
		return false;
	return strtoull(owner, NULL, 10) == uid;
}

static int authorize(struct store *s, const char *action, const char *repository,
		     const char *resource, bool audit, struct cafs_error *e);

int store_authorize(struct store *s, const char *action, const char *repository,
		    const char *resource, struct cafs_error *e)
{
	return authorize(s, action, repository, resource, true, e);
}

bool store_may(struct store *s, const char *action, const char *repository, const char *resource)
{
	struct cafs_error ignored;

	return authorize(s, action, repository, resource, false, &ignored) == 0;
}

static int authorize(struct store *s, const char *action, const char *repository,
		     const char *resource, bool audit, struct cafs_error *e)
{
	const struct cafs_perm_policy *pol[2] = {NULL, NULL};
	char darn[256], rarn[512], full[64], why[256];
	enum cafs_perm_verdict v;
	bool self_policy = strstr(action, "PermissionsPolicy") != NULL &&
			   (strncmp(action, "Put", 3) == 0 || strncmp(action, "Delete", 6) == 0);
	int r;

	if (!s->has_caller || is_owner(s, s->caller.uid))
		return 0;
	domain_arn_of(s, darn, sizeof(darn));
	/* anti-lockout: a policy change is never decided by the policy it changes */
	if (!(self_policy && !repository)) {
		r = policy_get(s, darn, &pol[0], e);
		if (r < 0)
			return r;
	}
	if (repository && !(self_policy && repository)) {
		repo_arn_of(s, repository, rarn, sizeof(rarn));
		r = policy_get(s, rarn, &pol[1], e);
		if (r < 0)
			return r;
	}
	if (!resource) {
		if (repository)
			repo_arn_of(s, repository, rarn, sizeof(rarn));
		resource = repository ? rarn : darn;
	}
	(void)snprintf(full, sizeof(full), "codeartifact:%s", action);
	/* cafs' own administration (an action of no policy's vocabulary): the owner only */
	if (!cafs_perm_action_valid(full) || strpbrk(action, "*?"))
		(void)snprintf(why, sizeof(why), "only the domain owner may");
	v = !cafs_perm_action_valid(full) || strpbrk(action, "*?")
		    ? CAFS_PERM_IMPLICIT_DENY
		    : cafs_perm_evaluate(pol, 2, &s->caller, full, resource, why, sizeof(why));
	if (v == CAFS_PERM_ALLOWED)
		return 0;
	r = cafs_error_set(e, CAFS_ACCESS_DENIED, EACCES, "%s%s (uid %u) may not %s on %s: %s",
			   s->caller.user[0] ? "user " : "", s->caller.user, s->caller.uid, action,
			   resource, why);
	if (audit)
		store_audit_refusal(s, action, resource, e);
	return r;
}

/* ---- the API
 * ------------------------------------------------------------------------------------- */

static int arn_for(struct store *s, const char *repository, char *buf, size_t bufsz,
		   struct cafs_error *e)
{
	if (!repository) {
		domain_arn_of(s, buf, bufsz);
		return 0;
	}
	{
		int64_t id;
		int r = store_repo_id(s, repository, &id, e);

		if (r < 0)
			return r;
	}
	repo_arn_of(s, repository, buf, bufsz);
	return 0;
}

int store_policy_get(struct store *s, const char *repository, struct store_policy *ret,
		     struct cafs_error *e)
{
	char *doc = NULL;
	int r = store_authorize(
		s, repository ? "GetRepositoryPermissionsPolicy" : "GetDomainPermissionsPolicy",
		repository, NULL, e);

	*ret = (struct store_policy){0};
	if (r == 0)
		r = arn_for(s, repository, ret->resource_arn, sizeof(ret->resource_arn), e);
	if (r == 0)
		r = policy_row(s, ret->resource_arn, &doc, ret->revision, e);
	if (r == 0)
		r = cafs_error_set(e, CAFS_NOT_FOUND, ENOENT, "no permissions policy on %s",
				   ret->resource_arn);
	if (r < 0) {
		free(doc);
		return r;
	}
	ret->document = doc;
	return 0;
}

/* The revision of a document: a digest of its bytes, short and stable. */
static void revision_of(const char *doc, char *buf, size_t bufsz)
{
	uint64_t h = 1469598103934665603ull;

	for (const unsigned char *p = (const unsigned char *)doc; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	(void)snprintf(buf, bufsz, "%016llx", (unsigned long long)h);
}

int store_policy_put(struct store *s, const char *repository, const char *document,
		     const char *expect_revision, struct store_policy *ret, struct cafs_error *e)
{
	const char *action =
		repository ? "PutRepositoryPermissionsPolicy" : "PutDomainPermissionsPolicy";
	struct cafs_perm_policy parsed = {0};
	char arn[512], cur[101] = "";
	sqlite3_stmt *st;
	int r = store_authorize(s, action, repository, NULL, e);

	if (r == 0)
		r = store_perm_parse(document, strlen(document), &parsed, e);
	cafs_perm_policy_free(&parsed);
	if (r == 0)
		r = arn_for(s, repository, arn, sizeof(arn), e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0) {
		store_audit_refusal(s, action, repository ? repository : s->name, e);
		return r;
	}
	r = policy_row(s, arn, NULL, cur, e);
	if (r >= 0 && expect_revision && (r == 0 || strcmp(cur, expect_revision) != 0))
		r = cafs_error_set(e, CAFS_CONFLICT, EAGAIN,
				   "the policy on %s is at revision '%s', not '%s'", arn,
				   r ? cur : "(none)", expect_revision);
	if (r >= 0) {
		*ret = (struct store_policy){0};
		(void)snprintf(ret->resource_arn, sizeof(ret->resource_arn), "%s", arn);
		revision_of(document, ret->revision, sizeof(ret->revision));
		st = store_stmt(
			s,
			"INSERT INTO permission_policies (resource_arn, revision, document, "
			"updated_us) VALUES (?, ?, ?, ?) ON CONFLICT (resource_arn) DO "
			"UPDATE SET revision = excluded.revision, document = "
			"excluded.document, updated_us = excluded.updated_us",
			e);
		r = st ? 0 : -EIO;
		if (st) {
			sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, ret->revision, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, document, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, store_now_us());
			r = store_step_done(s, st, "store policy", e);
		}
	}
	if (r == 0)
		r = store_audit(s, action, arn, "ok", ret->revision, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		store_audit_refusal(s, action, arn, e);
		return r;
	}
	ret->document = strdup(document);
	return ret->document ? 0 : cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
}

int store_policy_delete(struct store *s, const char *repository, const char *expect_revision,
			struct store_policy *ret, struct cafs_error *e)
{
	const char *action =
		repository ? "DeleteRepositoryPermissionsPolicy" : "DeleteDomainPermissionsPolicy";
	char arn[512], *doc = NULL;
	sqlite3_stmt *st;
	int r = store_authorize(s, action, repository, NULL, e);

	*ret = (struct store_policy){0};
	if (r == 0)
		r = arn_for(s, repository, arn, sizeof(arn), e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0)
		return r;
	r = policy_row(s, arn, &doc, ret->revision, e);
	if (r == 0)
		r = cafs_error_set(e, CAFS_NOT_FOUND, ENOENT, "no permissions policy on %s", arn);
	else if (r > 0 && expect_revision && strcmp(ret->revision, expect_revision) != 0)
		r = cafs_error_set(e, CAFS_CONFLICT, EAGAIN,
				   "the policy on %s is at revision '%s', not '%s'", arn,
				   ret->revision, expect_revision);
	else if (r > 0)
		r = 0;
	if (r == 0) {
		st = store_stmt(s, "DELETE FROM permission_policies WHERE resource_arn = ?", e);
		r = st ? 0 : -EIO;
		if (st) {
			sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
			r = store_step_done(s, st, "delete policy", e);
		}
	}
	if (r == 0)
		r = store_audit(s, action, arn, "ok", ret->revision, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		free(doc);
		store_audit_refusal(s, action, arn, e);
		return r;
	}
	(void)snprintf(ret->resource_arn, sizeof(ret->resource_arn), "%s", arn);
	ret->document = doc;
	return 0;
}

void store_policy_done(struct store_policy *p)
{
	free(p->document);
	p->document = NULL;
}

void store_package_arn(struct store *s, const char *repository, const struct store_coord *c,
		       char *buf, size_t bufsz)
{
	struct store_coord k = *c;
	struct store_pkg_coord pc;

	k.version = NULL;
	if (store_pkg_coord(&k, &pc, NULL) < 0) {
		(void)snprintf(buf, bufsz, "(invalid package)");
		return;
	}
	store_pkg_resource(s, repository, &pc, buf, bufsz);
}

bool store_may_under(struct store *s, const char *action, const char *repository, const char *rest)
{
	char owner[13] = "", arn[2048];

	(void)store_domain_owner(s, owner, NULL);
	(void)snprintf(arn, sizeof(arn),
		       "arn:aws:codeartifact:" STORE_REGION ":%s:package/%s/%s/%s", owner, s->name,
		       repository, rest);
	return store_may(s, action, repository, arn);
}
