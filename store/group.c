/* SPDX-License-Identifier: MIT */
/*
 * Package groups in the domain database (store/group.h): rows in `package_groups` (pattern in
 * canonical form, the three modes) and `package_group_allowed` (the allowed-repository lists);
 * the hierarchy, associations and decisions are computed by policy/group.c over a snapshot of
 * all the groups. A domain has few groups (tens, perhaps hundreds) and every decision needs
 * them all, so each store handle keeps its last snapshot and reloads it only when the
 * database changed (store_view_generation()).
 */
#include "store/group.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/common.h"
#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"
#include "store/view.h"

/* All groups of the domain, as policy/group.h takes them, with the rows' other fields. */
struct store_group_set {
	uint64_t gen;
	size_t n;
	struct cafs_group *g; /* g[i].text, g[i].allowed[a][k] point into the owned arrays below */
	char **text;
	char **description;
	char **contact;
	int64_t *created_us;
	char **allowed[CAFS_ACTION_N]; /* per group and type: a NULL-free array, owned */
};

void store_group_set_free(struct store_group_set *gs)
{
	if (!gs)
		return;
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->text[i]);
		free(gs->description[i]);
		free(gs->contact[i]);
		for (size_t a = 0; a < CAFS_ACTION_N; a++) {
			for (size_t k = 0; k < gs->g[i].n_allowed[a]; k++)
				free((char *)gs->g[i].allowed[a][k]);
			free((void *)gs->g[i].allowed[a]);
		}
	}
	free(gs->g);
	free(gs->text);
	free(gs->description);
	free(gs->contact);
	free(gs->created_us);
	free(gs);
}

static int oom(struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	return strdup(v ? v : "");
}

static int mode_col(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	int m = v ? cafs_group_mode_parse(v) : -1;

	return m < 0 ? CAFS_MODE_BLOCK : m; /* the CHECK constraint keeps this from happening */
}

static long find_text(const struct store_group_set *gs, const char *text)
{
	for (size_t i = 0; i < gs->n; i++)
		if (strcmp(gs->text[i], text) == 0)
			return (long)i;
	return -1;
}

/* Read every group and list now (in the caller's transaction when one is open). */
static int load(struct store *s, struct store_group_set **ret, struct cafs_error *e)
{
	struct store_group_set *gs = calloc(1, sizeof(*gs));
	size_t cap = 0;
	sqlite3_stmt *st;
	int rc, r = 0;

	if (!gs)
		return oom(e);
	st = store_stmt(s,
			"SELECT pattern, coalesce(description, ''), coalesce(contact_info, ''), "
			"publish, external_upstream, internal_upstream, created_us "
			"FROM package_groups ORDER BY pattern",
			e);
	if (!st) {
		store_group_set_free(gs);
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cafs_group *g;

		if (gs->n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			void *a = realloc(gs->g, nc * sizeof(*gs->g));

			if (a)
				gs->g = a;
			a = a ? realloc(gs->text, nc * sizeof(char *)) : NULL;
			if (a)
				gs->text = a;
			a = a ? realloc(gs->description, nc * sizeof(char *)) : NULL;
			if (a)
				gs->description = a;
			a = a ? realloc(gs->contact, nc * sizeof(char *)) : NULL;
			if (a)
				gs->contact = a;
			a = a ? realloc(gs->created_us, nc * sizeof(int64_t)) : NULL;
			if (a)
				gs->created_us = a;
			if (!a) {
				r = oom(e);
				break;
			}
			cap = nc;
		}
		g = &gs->g[gs->n];
		memset(g, 0, sizeof(*g));
		gs->text[gs->n] = dup_col(st, 0);
		gs->description[gs->n] = dup_col(st, 1);
		gs->contact[gs->n] = dup_col(st, 2);
		gs->created_us[gs->n] = sqlite3_column_int64(st, 6);
		gs->n++;
		if (!gs->text[gs->n - 1] || !gs->description[gs->n - 1] ||
		    !gs->contact[gs->n - 1]) {
			r = oom(e);
			break;
		}
		g->text = gs->text[gs->n - 1];
		for (int a = 0; a < CAFS_ACTION_N; a++)
			g->mode[a] = (enum cafs_group_mode)mode_col(st, 3 + a);
		if (cafs_group_pattern_parse(g->text, &g->pattern, e) < 0) {
			r = cafs_error_set(e, CAFS_INTERNAL, EIO,
					   "stored package group pattern '%.80s' does not parse",
					   g->text);
			break;
		}
	}
	(void)sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_error(s, rc, "read package groups", e);
	if (r < 0) {
		store_group_set_free(gs);
		return r;
	}
	st = store_stmt(
		s,
		"SELECT g.pattern, a.restriction, a.repository FROM package_group_allowed a "
		"JOIN package_groups g ON g.id = a.group_id ORDER BY a.repository",
		e);
	if (!st) {
		store_group_set_free(gs);
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long i = find_text(gs, (const char *)sqlite3_column_text(st, 0));
		int a = cafs_origin_action_parse((const char *)sqlite3_column_text(st, 1));
		const char **list;
		char *name;

		if (i < 0 || a < 0)
			continue;
		list = realloc((void *)gs->g[i].allowed[a],
			       (gs->g[i].n_allowed[a] + 1) * sizeof(*list));
		name = dup_col(st, 2);
		if (list)
			gs->g[i].allowed[a] = list;
		if (!list || !name) {
			free(name);
			r = oom(e);
			break;
		}
		list[gs->g[i].n_allowed[a]++] = name;
	}
	(void)sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_error(s, rc, "read allowed repositories", e);
	if (r < 0) {
		store_group_set_free(gs);
		return r;
	}
	*ret = gs;
	return 0;
}

/* The cached snapshot of @s, reloaded when the database changed. Borrowed. */
static int snapshot(struct store *s, struct store_group_set **ret, struct cafs_error *e)
{
	struct store_group_set *gs;
	uint64_t gen;
	int r;

	r = store_view_generation(s, &gen, e);
	if (r < 0)
		return r;
	if (s->groups && s->groups->gen == gen) {
		*ret = s->groups;
		return 0;
	}
	r = load(s, &gs, e);
	if (r < 0)
		return r;
	gs->gen = gen;
	store_group_set_free(s->groups);
	s->groups = gs;
	*ret = gs;
	return 0;
}

/* The ARN of a group: its pattern without the leading slash, URL-encoded (spec §7.4). */
static void group_arn(struct store *s, const char *pattern, char *buf, size_t bufsz)
{
	char owner[13] = "";
	size_t o;

	(void)store_domain_owner(s, owner, NULL);
	o = (size_t)snprintf(buf, bufsz,
			     "arn:aws:codeartifact:" STORE_REGION ":%s:package-group/%s/", owner,
			     s->name);
	for (const char *p = pattern + (pattern[0] == '/'); *p && o + 4 < bufsz; p++) {
		if (*p == '*' || *p == '$' || *p == '%')
			o += (size_t)snprintf(buf + o, bufsz - o, "%%%02x", (unsigned char)*p);
		else
			buf[o++] = *p;
	}
	buf[o < bufsz ? o : bufsz - 1] = '\0';
}

static void describe_from(struct store *s, const struct store_group_set *gs, size_t i,
			  struct store_group *ret)
{
	long parent = cafs_group_parent(gs->g, gs->n, i);

	memset(ret, 0, sizeof(*ret));
	(void)snprintf(ret->domain, sizeof(ret->domain), "%s", s->name);
	(void)store_domain_owner(s, ret->owner, NULL);
	(void)snprintf(ret->pattern, sizeof(ret->pattern), "%s", gs->text[i]);
	group_arn(s, gs->text[i], ret->arn, sizeof(ret->arn));
	(void)snprintf(ret->description, sizeof(ret->description), "%s", gs->description[i]);
	(void)snprintf(ret->contact_info, sizeof(ret->contact_info), "%s", gs->contact[i]);
	ret->created_us = gs->created_us[i];
	if (parent >= 0) {
		(void)snprintf(ret->parent, sizeof(ret->parent), "%s", gs->text[parent]);
		group_arn(s, gs->text[parent], ret->parent_arn, sizeof(ret->parent_arn));
	}
	for (int a = 0; a < CAFS_ACTION_N; a++) {
		struct store_group_restriction *r = &ret->r[a];
		long from = -1;

		r->mode = gs->g[i].mode[a];
		r->effective = cafs_group_effective_mode(gs->g, gs->n, i, a, &from);
		if (from >= 0 && (size_t)from != i) {
			(void)snprintf(r->inherited_from, sizeof(r->inherited_from), "%s",
				       gs->text[from]);
			group_arn(s, gs->text[from], r->inherited_from_arn,
				  sizeof(r->inherited_from_arn));
		}
		r->repositories_count = from >= 0 ? (int64_t)gs->g[from].n_allowed[a] : 0;
	}
}

/* The canonical form of @pattern into @buf; ValidationException when it does not parse. */
static int canonical(const char *pattern, char *buf, size_t bufsz, struct cafs_error *e)
{
	struct cafs_group_pattern p;
	int r;

	if (!pattern)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "a package group pattern is required");
	r = cafs_group_pattern_parse(pattern, &p, e);
	if (r < 0)
		return r;
	if (cafs_group_pattern_format(&p, buf, bufsz) < 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "package group pattern is too long");
	return 0;
}

/* Describe @text from a fresh snapshot (inside the caller's transaction). */
static int describe_fresh(struct store *s, const char *text, struct store_group *ret,
			  struct cafs_error *e)
{
	struct store_group_set *gs;
	long i;
	int r;

	r = load(s, &gs, e);
	if (r < 0)
		return r;
	i = find_text(gs, text);
	if (i < 0)
		r = cafs_error_set(e, CAFS_NOT_FOUND, 0,
				   "package group '%s' does not exist in domain '%s'", text,
				   s->name);
	else if (ret)
		describe_from(s, gs, (size_t)i, ret);
	store_group_set_free(gs);
	return r;
}

static int group_id(struct store *s, const char *text, int64_t *ret, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id FROM package_groups WHERE pattern = ?", e);
	int rc;

	if (!st)
		return -EIO;
	(void)sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "package group '%s' does not exist in domain '%s'", text,
				      s->name);
	return store_sql_error(s, rc, "find package group", e);
}

static int validate_text(const char *v, const char *what, struct cafs_error *e)
{
	if (v && strlen(v) > CAFS_DESCRIPTION_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s is longer than %d characters",
				      what, CAFS_DESCRIPTION_MAX);
	return 0;
}

/*
 * A change of the groups begins: the cached snapshot may not outlive it. (Inside the change's
 * transaction the generation does not move yet, and the change may still roll back, so only
 * dropping the snapshot keeps a later decision from seeing uncommitted or stale rows. Nothing
 * decides while a group change is under way: the writers read with load().)
 */
static int begin_change(struct store *s, struct cafs_error *e)
{
	store_group_set_free(s->groups);
	s->groups = NULL;
	return store_txn_begin(s, e);
}

/* End a change: audit and commit, or roll back and audit the refusal. */
static int finish(struct store *s, int r, const char *action, const char *text, const char *detail,
		  struct cafs_error *e)
{
	char arn[sizeof(((struct store_group *)0)->arn)];

	group_arn(s, text ? text : "", arn, sizeof(arn));
	if (r == 0)
		r = store_audit(s, action, arn, "ok", detail, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0)
		store_audit_refusal(s, action, arn, e);
	return r;
}

/*
 * Begin a change of group @pattern (its canonical form into @text): the pattern parses, the
 * texts fit, and the transaction is open. A refusal here is audited like any other.
 */
static int start(struct store *s, const char *action, const char *pattern, const char *description,
		 const char *contact_info, char text[CAFS_GROUP_PATTERN_MAX + 1],
		 struct cafs_error *e)
{
	char arn[sizeof(((struct store_group *)0)->arn)];
	int r;

	r = canonical(pattern, text, CAFS_GROUP_PATTERN_MAX + 1, e);
	if (r == 0)
		r = validate_text(description, "description", e);
	if (r == 0)
		r = validate_text(contact_info, "contact info", e);
	if (r == 0)
		r = begin_change(s, e);
	if (r < 0) {
		group_arn(s, pattern ? pattern : "", arn, sizeof(arn));
		store_audit_refusal(s, action, arn, e);
	}
	return r;
}

int store_group_create(struct store *s, const char *pattern, const char *description,
		       const char *contact_info, struct store_group *ret, struct cafs_error *e)
{
	char text[CAFS_GROUP_PATTERN_MAX + 1] = "";
	sqlite3_stmt *st;
	int rc, r;

	r = start(s, "CreatePackageGroup", pattern, description, contact_info, text, e);
	if (r < 0)
		return r;
	st = store_stmt(s,
			"INSERT INTO package_groups (pattern, description, contact_info, publish, "
			"external_upstream, internal_upstream, created_us) VALUES (?, ?, ?, "
			"'INHERIT', 'INHERIT', 'INHERIT', ?) ON CONFLICT (pattern) DO NOTHING",
			e);
	if (!st) {
		r = -EIO;
	} else {
		(void)sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
		(void)sqlite3_bind_text(st, 2, description, -1, SQLITE_TRANSIENT);
		(void)sqlite3_bind_text(st, 3, contact_info, -1, SQLITE_TRANSIENT);
		(void)sqlite3_bind_int64(st, 4, store_now_us());
		rc = sqlite3_step(st);
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			r = store_sql_error(s, rc, "create package group", e);
		else if (sqlite3_changes(s->db) == 0)
			r = cafs_error_set(e, CAFS_CONFLICT, EEXIST,
					   "package group '%s' already exists in domain '%s'", text,
					   s->name);
	}
	if (r == 0)
		r = describe_fresh(s, text, ret, e);
	return finish(s, r, "CreatePackageGroup", text, NULL, e);
}

int store_group_describe(struct store *s, const char *pattern, struct store_group *ret,
			 struct cafs_error *e)
{
	char text[CAFS_GROUP_PATTERN_MAX + 1];
	struct store_group_set *gs;
	long i;
	int r;

	r = canonical(pattern, text, sizeof(text), e);
	if (r == 0)
		r = snapshot(s, &gs, e);
	if (r < 0)
		return r;
	i = find_text(gs, text);
	if (i < 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "package group '%s' does not exist in domain '%s'", text,
				      s->name);
	describe_from(s, gs, (size_t)i, ret);
	return 0;
}

int store_group_update(struct store *s, const char *pattern, const char *description,
		       const char *contact_info, struct store_group *ret, struct cafs_error *e)
{
	char text[CAFS_GROUP_PATTERN_MAX + 1] = "";
	sqlite3_stmt *st;
	int64_t id;
	int rc, r;

	r = start(s, "UpdatePackageGroup", pattern, description, contact_info, text, e);
	if (r < 0)
		return r;
	r = group_id(s, text, &id, e);
	if (r == 0) {
		st = store_stmt(s,
				"UPDATE package_groups SET description = coalesce(?, description), "
				"contact_info = coalesce(?, contact_info) WHERE id = ?",
				e);
		if (!st) {
			r = -EIO;
		} else {
			(void)sqlite3_bind_text(st, 1, description, -1, SQLITE_TRANSIENT);
			(void)sqlite3_bind_text(st, 2, contact_info, -1, SQLITE_TRANSIENT);
			(void)sqlite3_bind_int64(st, 3, id);
			rc = sqlite3_step(st);
			(void)sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				r = store_sql_error(s, rc, "update package group", e);
		}
	}
	if (r == 0)
		r = describe_fresh(s, text, ret, e);
	return finish(s, r, "UpdatePackageGroup", text, NULL, e);
}

void store_group_allowed_updates_free(struct store_group_allowed_updates *u)
{
	if (!u)
		return;
	for (int a = 0; a < CAFS_ACTION_N; a++) {
		for (size_t k = 0; k < u->n_added[a]; k++)
			free(u->added[a][k]);
		for (size_t k = 0; k < u->n_removed[a]; k++)
			free(u->removed[a][k]);
		free(u->added[a]);
		free(u->removed[a]);
	}
	memset(u, 0, sizeof(*u));
}

static int push_name(char ***list, size_t *n, const char *name)
{
	char **l = realloc(*list, (*n + 1) * sizeof(*l));

	if (!l)
		return -ENOMEM;
	*list = l;
	l[*n] = strdup(name);
	if (!l[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Add (@add) or remove one allowed repository; 1 when the list changed. */
static int change_allowed(struct store *s, int64_t id, const struct store_group_allowed_change *c,
			  bool add, struct cafs_error *e)
{
	sqlite3_stmt *st;
	int64_t repo;
	int rc, r;

	if ((int)c->type < 0 || c->type >= CAFS_ACTION_N)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "unknown origin restriction type");
	if (!c->repository || !*c->repository)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "a repository name is required");
	if (add) {
		r = store_repo_id(s, c->repository, &repo, e);
		if (r < 0)
			return r;
		st = store_stmt(
			s,
			"INSERT INTO package_group_allowed (group_id, restriction, repository) "
			"VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			e);
	} else {
		st = store_stmt(s,
				"DELETE FROM package_group_allowed WHERE group_id = ? AND "
				"restriction = ? AND repository = ?",
				e);
	}
	if (!st)
		return -EIO;
	(void)sqlite3_bind_int64(st, 1, id);
	(void)sqlite3_bind_text(st, 2, cafs_origin_action_name(c->type), -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(st, 3, c->repository, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "change allowed repositories", e);
	return sqlite3_changes(s->db) > 0;
}

int store_group_origin_update(struct store *s, const char *pattern, const int modes[CAFS_ACTION_N],
			      const struct store_group_allowed_change *add, size_t n_add,
			      const struct store_group_allowed_change *remove, size_t n_remove,
			      struct store_group *ret,
			      struct store_group_allowed_updates *ret_updates, struct cafs_error *e)
{
	static const char *const set_sql[CAFS_ACTION_N] = {
		"UPDATE package_groups SET publish = ? WHERE id = ?",
		"UPDATE package_groups SET external_upstream = ? WHERE id = ?",
		"UPDATE package_groups SET internal_upstream = ? WHERE id = ?",
	};
	struct store_group_allowed_updates u = {0};
	char text[CAFS_GROUP_PATTERN_MAX + 1] = "";
	int64_t id = 0;
	int r;

	r = start(s, "UpdatePackageGroupOriginConfiguration", pattern, NULL, NULL, text, e);
	if (r < 0)
		return r;
	if (n_add + n_remove > CAFS_GROUP_ALLOWED_CHANGES_MAX)
		r = cafs_error_set(e, CAFS_VALIDATION, 0,
				   "at most %d allowed-repository changes per call, not %zu",
				   CAFS_GROUP_ALLOWED_CHANGES_MAX, n_add + n_remove);
	for (int a = 0; r == 0 && a < CAFS_ACTION_N; a++)
		if (modes[a] > CAFS_MODE_BLOCK)
			r = cafs_error_set(e, CAFS_VALIDATION, 0,
					   "unknown origin restriction mode");
		else if (modes[a] >= 0 && strcmp(text, "/*") == 0 && modes[a] == CAFS_MODE_INHERIT)
			r = cafs_error_set(e, CAFS_VALIDATION, 0,
					   "the root package group '/*' has no parent to inherit "
					   "%s from",
					   cafs_origin_action_name(a));
	if (r == 0)
		r = group_id(s, text, &id, e);
	for (int a = 0; r == 0 && a < CAFS_ACTION_N; a++) {
		sqlite3_stmt *st;
		int rc;

		if (modes[a] < 0)
			continue;
		st = store_stmt(s, set_sql[a], e);
		if (!st) {
			r = -EIO;
			break;
		}
		(void)sqlite3_bind_text(st, 1, cafs_group_mode_name(modes[a]), -1, SQLITE_STATIC);
		(void)sqlite3_bind_int64(st, 2, id);
		rc = sqlite3_step(st);
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			r = store_sql_error(s, rc, "set origin restriction", e);
	}
	for (size_t k = 0; r == 0 && k < n_add; k++) {
		r = change_allowed(s, id, &add[k], true, e);
		if (r > 0)
			r = push_name(&u.added[add[k].type], &u.n_added[add[k].type],
				      add[k].repository) < 0
				    ? oom(e)
				    : 0;
	}
	for (size_t k = 0; r == 0 && k < n_remove; k++) {
		r = change_allowed(s, id, &remove[k], false, e);
		if (r > 0)
			r = push_name(&u.removed[remove[k].type], &u.n_removed[remove[k].type],
				      remove[k].repository) < 0
				    ? oom(e)
				    : 0;
	}
	if (r == 0)
		r = describe_fresh(s, text, ret, e);
	r = finish(s, r, "UpdatePackageGroupOriginConfiguration", text, NULL, e);
	if (r == 0 && ret_updates)
		*ret_updates = u;
	else
		store_group_allowed_updates_free(&u);
	return r;
}

int store_group_delete(struct store *s, const char *pattern, struct store_group *ret,
		       struct cafs_error *e)
{
	char text[CAFS_GROUP_PATTERN_MAX + 1] = "";
	sqlite3_stmt *st;
	int64_t id;
	int rc, r;

	r = start(s, "DeletePackageGroup", pattern, NULL, NULL, text, e);
	if (r < 0)
		return r;
	if (strcmp(text, "/*") == 0)
		r = cafs_error_set(e, CAFS_VALIDATION, 0,
				   "the root package group '/*' cannot be deleted");
	if (r == 0)
		r = describe_fresh(s, text, ret, e);
	if (r == 0)
		r = group_id(s, text, &id, e);
	if (r == 0) {
		/* children find their new parent by themselves: parents are computed, not stored */
		st = store_stmt(s, "DELETE FROM package_groups WHERE id = ?", e);
		if (!st) {
			r = -EIO;
		} else {
			(void)sqlite3_bind_int64(st, 1, id);
			rc = sqlite3_step(st);
			(void)sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				r = store_sql_error(s, rc, "delete package group", e);
		}
	}
	return finish(s, r, "DeletePackageGroup", text, NULL, e);
}

int store_group_list(struct store *s, const char *prefix, const char *children_of,
		     struct store_group **ret, size_t *ret_n, struct cafs_error *e)
{
	char parent_text[CAFS_GROUP_PATTERN_MAX + 1] = "";
	struct store_group_set *gs;
	struct store_group *out;
	long parent = -1;
	size_t n = 0;
	int r;

	if (children_of) {
		r = canonical(children_of, parent_text, sizeof(parent_text), e);
		if (r < 0)
			return r;
	}
	r = snapshot(s, &gs, e);
	if (r < 0)
		return r;
	if (children_of) {
		parent = find_text(gs, parent_text);
		if (parent < 0)
			return cafs_error_set(e, CAFS_NOT_FOUND, 0,
					      "package group '%s' does not exist in domain '%s'",
					      parent_text, s->name);
	}
	out = calloc(gs->n ? gs->n : 1, sizeof(*out));
	if (!out)
		return oom(e);
	for (size_t i = 0; i < gs->n; i++) {
		if (prefix && strncmp(gs->text[i], prefix, strlen(prefix)) != 0)
			continue;
		if (children_of && cafs_group_parent(gs->g, gs->n, i) != parent)
			continue;
		describe_from(s, gs, i, &out[n++]);
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int store_group_allowed(struct store *s, const char *pattern, enum cafs_origin_action type,
			char ***ret, size_t *ret_n, struct cafs_error *e)
{
	char text[CAFS_GROUP_PATTERN_MAX + 1] = "";
	struct store_group_set *gs;
	char **out = NULL;
	size_t n = 0;
	long i;
	int r;

	r = canonical(pattern, text, sizeof(text), e);
	if (r == 0 && ((int)type < 0 || type >= CAFS_ACTION_N))
		r = cafs_error_set(e, CAFS_VALIDATION, 0, "unknown origin restriction type");
	if (r == 0)
		r = snapshot(s, &gs, e);
	if (r < 0)
		return r;
	i = find_text(gs, text);
	if (i < 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "package group '%s' does not exist in domain '%s'", text,
				      s->name);
	for (size_t k = 0; k < gs->g[i].n_allowed[type]; k++) {
		if (push_name(&out, &n, gs->g[i].allowed[type][k]) < 0) {
			for (size_t j = 0; j < n; j++)
				free(out[j]);
			free(out);
			return oom(e);
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int store_group_associated(struct store *s, enum cafs_format format, const char *namespace_,
			   const char *name, struct store_group *ret, enum cafs_match *ret_match,
			   struct cafs_error *e)
{
	struct store_coord coord = {format, namespace_, name, NULL};
	struct store_group_set *gs;
	struct store_pkg_coord c;
	long i;
	int r;

	if (format == CAFS_FORMAT_NONE || !name || !*name)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "a format and a package are required");
	r = store_pkg_coord(&coord, &c, e); /* it need not exist: its stored form is enough */
	if (r == 0)
		r = snapshot(s, &gs, e);
	if (r < 0)
		return r;
	i = cafs_group_associate(gs->g, gs->n, format, c.namespace_, c.package, ret_match);
	if (i < 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no package group matches");
	describe_from(s, gs, (size_t)i, ret);
	return 0;
}

int store_group_packages(struct store *s, const char *pattern, bool preview,
			 struct store_group_package **ret, size_t *ret_n, struct cafs_error *e)
{
	char text[CAFS_GROUP_PATTERN_MAX + 1] = "";
	struct store_group_package *out = NULL;
	struct store_group_set *gs;
	struct cafs_group *g = NULL;
	size_t n = 0, cap = 0, ng;
	sqlite3_stmt *st;
	long target;
	int rc, r;

	r = canonical(pattern, text, sizeof(text), e);
	if (r == 0)
		r = snapshot(s, &gs, e);
	if (r < 0)
		return r;
	target = find_text(gs, text);
	if (target < 0 && !preview)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0,
				      "package group '%s' does not exist in domain '%s'", text,
				      s->name);
	/* the groups as they are, plus the previewed one when it does not exist yet */
	ng = gs->n + (target < 0);
	g = calloc(ng, sizeof(*g));
	if (!g)
		return oom(e);
	memcpy(g, gs->g, gs->n * sizeof(*g));
	if (target < 0) {
		target = (long)gs->n;
		g[target].text = text;
		(void)cafs_group_pattern_parse(text, &g[target].pattern, NULL);
	}
	st = store_stmt(s,
			"SELECT DISTINCT format, namespace, name FROM packages "
			"ORDER BY format || '/' || namespace || '/' || name",
			e);
	if (!st) {
		free(g);
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum cafs_format f = cafs_format_parse((const char *)sqlite3_column_text(st, 0));
		const char *ns = (const char *)sqlite3_column_text(st, 1);
		const char *nm = (const char *)sqlite3_column_text(st, 2);
		enum cafs_match m;

		if (cafs_group_associate(g, ng, f, ns ? ns : "", nm ? nm : "", &m) != target)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 32;
			struct store_group_package *a = realloc(out, nc * sizeof(*out));

			if (!a) {
				r = oom(e);
				break;
			}
			out = a;
			cap = nc;
		}
		out[n].format = f;
		(void)snprintf(out[n].namespace_, sizeof(out[n].namespace_), "%s", ns ? ns : "");
		(void)snprintf(out[n].package, sizeof(out[n].package), "%s", nm ? nm : "");
		out[n].match = m;
		n++;
	}
	(void)sqlite3_reset(st);
	free(g);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_error(s, rc, "list packages", e);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int store_origin_decide(struct store *s, enum cafs_origin_action action, const char *repository,
			enum cafs_format format, const char *namespace_, const char *name,
			struct store_origin_verdict *ret, struct cafs_error *e)
{
	struct store_coord coord = {format, namespace_, name, NULL};
	struct cafs_package_controls pkg = {0};
	struct store_pkg_coord c;
	char publish[8] = "", upstream[8] = "";
	struct cafs_origin_decision d;
	struct store_group_set *gs;
	int64_t repo, id;
	int r;

	r = store_pkg_coord(&coord, &c, e); /* stored form: a pypi name normalized */
	if (r == 0)
		r = store_repo_id(s, repository, &repo, e);
	if (r < 0)
		return r;
	r = store_pkg_find(s, repo, &c, &id, publish, upstream, e);
	if (r < 0)
		return r;
	pkg.present = r > 0;
	pkg.publish_allow = strcmp(publish, "BLOCK") != 0;
	pkg.upstream_allow = strcmp(upstream, "BLOCK") != 0;
	r = snapshot(s, &gs, e);
	if (r < 0)
		return r;
	cafs_origin_decide(gs->g, gs->n, action, repository, &pkg, format, c.namespace_, c.package,
			   &d);
	if (ret) {
		memset(ret, 0, sizeof(*ret));
		ret->d = d;
		if (d.group >= 0)
			(void)snprintf(ret->group, sizeof(ret->group), "%s", gs->text[d.group]);
		if (d.inherited_from >= 0)
			(void)snprintf(ret->inherited_from, sizeof(ret->inherited_from), "%s",
				       gs->text[d.inherited_from]);
		(void)cafs_origin_explain(gs->g, gs->n, &d, repository, format, c.namespace_,
					  c.package, ret->explain, sizeof(ret->explain));
	}
	return d.allowed ? 1 : 0;
}

int store_group_allows(struct store *s, int action, const char *repository, enum cafs_format format,
		       const char *namespace_, const char *name, struct cafs_error *e)
{
	struct cafs_package_controls none = {0};
	struct cafs_origin_decision d;
	struct store_group_set *gs;
	int r = snapshot(s, &gs, e);

	if (r < 0)
		return r;
	cafs_origin_decide(gs->g, gs->n, (enum cafs_origin_action)action, repository, &none, format,
			   namespace_ ? namespace_ : "", name, &d);
	return d.allowed ? 1 : 0;
}

int store_origin_require(struct store *s, enum cafs_origin_action action, const char *repository,
			 enum cafs_format format, const char *namespace_, const char *name,
			 struct cafs_error *e)
{
	struct store_origin_verdict *v = malloc(sizeof(*v));
	int r;

	if (!v)
		return oom(e);
	r = store_origin_decide(s, action, repository, format, namespace_, name, v, e);
	if (r == 0)
		r = cafs_error_set(e, CAFS_ACCESS_DENIED, EPERM, "%s", v->explain);
	free(v);
	return r < 0 ? r : 0;
}
