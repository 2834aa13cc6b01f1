/* SPDX-License-Identifier: MIT */
/*
 * Repositories of a domain: creation with an ordered upstream list, updates that replace the
 * list, deletion, external connections and the per-domain source of each connection name.
 *
 * Invariants kept here (spec §1.3, §1.4 and decision 2): at most 10 direct upstreams, each an
 * existing repository of the domain, no repeats, no cycles in the upstream graph; a repository
 * has upstreams or an external connection, never both; a repository that is another's upstream
 * cannot be deleted. Every check runs inside the write transaction, so two processes changing
 * the graph at once cannot together build a cycle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"
#include "store/view.h"

int store_domain_owner(struct store *s, char buf[13], struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT owner FROM domain WHERE id = 1", e);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_sql_error(s, rc, "read domain owner", e);
	(void)snprintf(buf, 13, "%s", (const char *)sqlite3_column_text(st, 0));
	(void)sqlite3_reset(st);
	return 0;
}

static void repo_arn(struct store *s, const char *repository, char *buf, size_t bufsz)
{
	char owner[13] = "";

	(void)store_domain_owner(s, owner, NULL);
	store_repository_arn(owner, s->name, repository, buf, bufsz);
}

int store_repo_id(struct store *s, const char *name, int64_t *ret, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id FROM repositories WHERE name = ?", e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		(void)sqlite3_reset(st);
		return 0;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "look up repository", e);
	return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no repository '%s' in domain '%s'", name,
			      s->name);
}

static int load_repository(struct store *s, int64_t id, struct store_repository *ret,
			   struct cafs_error *e)
{
	struct store_repository r = {0};
	sqlite3_stmt *st;
	int rc;

	st = store_stmt(s,
			"SELECT name, description, administrator_account, created_us "
			"FROM repositories WHERE id = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_sql_error(s, rc, "read repository", e);
	(void)snprintf(r.name, sizeof(r.name), "%s", (const char *)sqlite3_column_text(st, 0));
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		(void)snprintf(r.description, sizeof(r.description), "%s",
			       (const char *)sqlite3_column_text(st, 1));
	(void)snprintf(r.administrator_account, sizeof(r.administrator_account), "%s",
		       (const char *)sqlite3_column_text(st, 2));
	r.created_us = sqlite3_column_int64(st, 3);
	(void)sqlite3_reset(st);

	st = store_stmt(
		s,
		"SELECT r.name FROM upstreams u JOIN repositories r ON r.id = u.upstream_id "
		"WHERE u.repository_id = ? ORDER BY u.position",
		e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r.n_upstreams < CAFS_MAX_UPSTREAMS)
		(void)snprintf(r.upstreams[r.n_upstreams++], sizeof(r.upstreams[0]), "%s",
			       (const char *)sqlite3_column_text(st, 0));
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sql_error(s, rc, "read upstreams", e);

	st = store_stmt(
		s, "SELECT name FROM repository_external_connections WHERE repository_id = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(r.external_connection, sizeof(r.external_connection), "%s",
			       (const char *)sqlite3_column_text(st, 0));
		r.external_format = cafs_external_connection_format(r.external_connection, NULL);
	} else if (rc != SQLITE_DONE) {
		(void)sqlite3_reset(st);
		return store_sql_error(s, rc, "read external connection", e);
	}
	(void)sqlite3_reset(st);
	*ret = r;
	return 0;
}

int store_repository_describe(struct store *s, const char *name, struct store_repository *ret,
			      struct cafs_error *e)
{
	int64_t id;
	int r = cafs_validate_repository_name(name, e);

	if (r == 0)
		r = store_repo_id(s, name, &id, e);
	if (r == 0)
		r = load_repository(s, id, ret, e);
	return r;
}

static bool has_external(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(
		s, "SELECT 1 FROM repository_external_connections WHERE repository_id = ?", NULL);
	bool found;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	found = sqlite3_step(st) == SQLITE_ROW;
	(void)sqlite3_reset(st);
	return found;
}

/*
 * Replace the upstream list of repository @id (named @name) with @upstreams, checking every
 * rule. Runs inside the caller's transaction.
 */
static int set_upstreams(struct store *s, int64_t id, const char *name,
			 const char *const *upstreams, size_t n, struct cafs_error *e)
{
	sqlite3_stmt *st;
	int rc;

	if (n > CAFS_MAX_UPSTREAMS)
		return cafs_error_set(e, CAFS_QUOTA_EXCEEDED, EDQUOT,
				      "%zu upstreams given for repository '%s'; at most 10 are "
				      "allowed",
				      n, name);
	if (n > 0 && has_external(s, id))
		return cafs_error_set(e, CAFS_CONFLICT, 0,
				      "repository '%s' has an external connection; a repository "
				      "has upstreams or an external connection, never both",
				      name);
	st = store_stmt(s, "DELETE FROM upstreams WHERE repository_id = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "clear upstreams", e);

	for (size_t i = 0; i < n; i++) {
		int64_t up;
		int r = cafs_validate_repository_name(upstreams[i], e);

		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(upstreams[i], upstreams[j]) == 0)
				return cafs_error_set(e, CAFS_VALIDATION, 0,
						      "upstream '%s' is listed twice",
						      upstreams[i]);
		if (strcmp(upstreams[i], name) == 0)
			return cafs_error_set(e, CAFS_VALIDATION, ELOOP,
					      "repository '%s' cannot be its own upstream", name);
		r = store_repo_id(s, upstreams[i], &up, e);
		if (r < 0)
			return cafs_error_set(e, CAFS_NOT_FOUND, 0,
					      "upstream repository '%s' does not exist in domain "
					      "'%s'",
					      upstreams[i], s->name);
		st = store_stmt(s,
				"INSERT INTO upstreams (repository_id, position, upstream_id) "
				"VALUES (?, ?, ?)",
				e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_int64(st, 3, up);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			return store_sql_error(s, rc, "add upstream", e);
	}

	/* cycle: is this repository reachable from its own upstreams? */
	st = store_stmt(s,
			"WITH RECURSIVE reach(id, via) AS ("
			"  SELECT upstream_id, upstream_id FROM upstreams WHERE repository_id = ?1"
			"  UNION"
			"  SELECT u.upstream_id, reach.via FROM upstreams u"
			"  JOIN reach ON u.repository_id = reach.id)"
			"SELECT r.name FROM reach JOIN repositories r ON r.id = reach.via"
			" WHERE reach.id = ?1 LIMIT 1",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		char via[CAFS_REPOSITORY_NAME_MAX + 1];

		(void)snprintf(via, sizeof(via), "%s", (const char *)sqlite3_column_text(st, 0));
		(void)sqlite3_reset(st);
		return cafs_error_set(e, CAFS_VALIDATION, ELOOP,
				      "upstream '%s' would make a cycle: '%s' already reaches "
				      "'%s' through its own upstreams",
				      via, via, name);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "check upstream cycle", e);
	return 0;
}

/* Finish a mutation: audit + commit on success, rollback + refusal audit on failure. */
static int finish(struct store *s, int r, const char *action, const char *arn, struct cafs_error *e)
{
	if (r == 0)
		r = store_audit(s, action, arn, "ok", NULL, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0)
		store_audit_refusal(s, action, arn, e);
	return r;
}

int store_repository_create(struct store *s, const char *name, const char *description,
			    const char *const *upstreams, size_t n_upstreams,
			    const struct store_tag *tags, size_t n_tags,
			    struct store_repository *ret, struct cafs_error *e)
{
	char arn[512];
	char account[13];
	sqlite3_stmt *st;
	int64_t id = 0;
	int r;

	repo_arn(s, name ? name : "", arn, sizeof(arn));
	r = cafs_validate_repository_name(name, e);
	if (r == 0)
		r = cafs_validate_description(description, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0) {
		store_audit_refusal(s, "CreateRepository", arn, e);
		return r;
	}
	st = store_stmt(s,
			"INSERT INTO repositories (name, description, administrator_account, "
			"created_us) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
			e);
	if (!st)
		return finish(s, -EIO, "CreateRepository", arn, e);
	store_local_account(account);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (description && *description)
		sqlite3_bind_text(st, 2, description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, store_now_us());
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		r = store_sql_error(s, r, "create repository", e);
	else if (sqlite3_changes(s->db) == 0)
		r = cafs_error_set(e, CAFS_CONFLICT, 0,
				   "repository '%s' already exists in domain '%s'", name, s->name);
	else
		r = 0;
	if (r == 0) {
		id = sqlite3_last_insert_rowid(s->db);
		r = set_upstreams(s, id, name, upstreams, n_upstreams, e);
	}
	if (r == 0)
		r = store_tags_add(s, arn, tags, n_tags, e);
	if (r == 0)
		r = load_repository(s, id, ret, e);
	return finish(s, r, "CreateRepository", arn, e);
}

int store_repository_update(struct store *s, const char *name, const char *description,
			    bool set_upstream_list, const char *const *upstreams,
			    size_t n_upstreams, struct store_repository *ret, struct cafs_error *e)
{
	char arn[512];
	int64_t id = 0;
	int r;

	repo_arn(s, name ? name : "", arn, sizeof(arn));
	r = cafs_validate_repository_name(name, e);
	if (r == 0)
		r = cafs_validate_description(description, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0) {
		store_audit_refusal(s, "UpdateRepository", arn, e);
		return r;
	}
	r = store_repo_id(s, name, &id, e);
	if (r == 0 && description) {
		sqlite3_stmt *st =
			store_stmt(s, "UPDATE repositories SET description = ? WHERE id = ?", e);

		if (!st) {
			r = -EIO;
		} else {
			if (*description)
				sqlite3_bind_text(st, 1, description, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, id);
			r = sqlite3_step(st);
			r = r == SQLITE_DONE ? 0 : store_sql_error(s, r, "update description", e);
		}
	}
	if (r == 0 && set_upstream_list)
		r = set_upstreams(s, id, name, upstreams, n_upstreams, e);
	if (r == 0)
		r = load_repository(s, id, ret, e);
	return finish(s, r, "UpdateRepository", arn, e);
}

int store_repository_delete(struct store *s, const char *name, struct store_repository *ret,
			    struct cafs_error *e)
{
	struct store_repository desc;
	sqlite3_stmt *st;
	char arn[512];
	int64_t id = 0;
	int r;

	repo_arn(s, name ? name : "", arn, sizeof(arn));
	r = cafs_validate_repository_name(name, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0) {
		store_audit_refusal(s, "DeleteRepository", arn, e);
		return r;
	}
	r = store_repo_id(s, name, &id, e);
	if (r == 0)
		r = load_repository(s, id, &desc, e);
	if (r == 0) {
		st = store_stmt(s,
				"SELECT r.name FROM upstreams u JOIN repositories r "
				"ON r.id = u.repository_id WHERE u.upstream_id = ? "
				"ORDER BY r.name LIMIT 1",
				e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) == SQLITE_ROW)
				r = cafs_error_set(e, CAFS_CONFLICT, EBUSY,
						   "repository '%s' is an upstream of '%s': remove "
						   "it from that repository's upstreams first",
						   name, (const char *)sqlite3_column_text(st, 0));
			(void)sqlite3_reset(st);
		}
	}
	if (r == 0) {
		st = store_stmt(s, "DELETE FROM repositories WHERE id = ?", e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, id);
			r = sqlite3_step(st);
			r = r == SQLITE_DONE ? 0 : store_sql_error(s, r, "delete repository", e);
		}
	}
	if (r == 0) {
		/* package groups' allowed lists name it: a new repository of that name must not
		 * inherit its rights */
		st = store_stmt(s, "DELETE FROM package_group_allowed WHERE repository = ?", e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
			r = sqlite3_step(st);
			(void)sqlite3_reset(st);
			r = r == SQLITE_DONE
				    ? 0
				    : store_sql_error(s, r, "forget allowed repository", e);
		}
	}
	if (r == 0) {
		st = store_stmt(s, "DELETE FROM resource_tags WHERE resource_arn = ?", e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
			r = sqlite3_step(st);
			r = r == SQLITE_DONE ? 0 : store_sql_error(s, r, "delete tags", e);
		}
	}
	r = finish(s, r, "DeleteRepository", arn, e);
	if (r == 0)
		*ret = desc;
	return r;
}

int store_repository_list(struct store *s, const char *prefix, const char *administrator,
			  struct store_repository **ret, size_t *ret_n, struct cafs_error *e)
{
	struct store_repository *list = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	sqlite3_stmt *st;
	int rc;

	/* prefix match by range on the unique index: name >= prefix AND name < prefix+U+FFFF
	 * would need collation care; substr() keeps it exact and the table is small */
	st = store_stmt(s,
			"SELECT id FROM repositories WHERE (?1 IS NULL OR substr(name, 1, "
			"length(?1)) = ?1) AND (?2 IS NULL OR administrator_account = ?2) "
			"ORDER BY name",
			e);
	if (!st)
		return -EIO;
	if (prefix && *prefix)
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	if (administrator && *administrator)
		sqlite3_bind_text(st, 2, administrator, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t *ni = reallocarray(ids, n + 1, sizeof(*ids));

		if (!ni) {
			free(ids);
			(void)sqlite3_reset(st);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		ids = ni;
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return store_sql_error(s, rc, "list repositories", e);
	}
	list = n ? calloc(n, sizeof(*list)) : NULL;
	if (n && !list) {
		free(ids);
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		int r = load_repository(s, ids[i], &list[i], e);

		if (r < 0) {
			free(ids);
			free(list);
			return r;
		}
	}
	free(ids);
	*ret = list;
	*ret_n = n;
	return 0;
}

int store_repository_associate_external(struct store *s, const char *repository,
					const char *connection, struct store_repository *ret,
					struct cafs_error *e)
{
	enum cafs_format fmt = CAFS_FORMAT_NONE;
	sqlite3_stmt *st;
	char arn[512];
	int64_t id = 0;
	int r;

	repo_arn(s, repository ? repository : "", arn, sizeof(arn));
	r = cafs_validate_repository_name(repository, e);
	if (r == 0) {
		fmt = cafs_external_connection_format(connection, e);
		if (fmt == CAFS_FORMAT_NONE)
			r = -EINVAL;
	}
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0) {
		store_audit_refusal(s, "AssociateExternalConnection", arn, e);
		return r;
	}
	r = store_repo_id(s, repository, &id, e);
	if (r == 0) {
		struct store_repository cur;

		r = load_repository(s, id, &cur, e);
		if (r == 0 && cur.n_upstreams > 0)
			r = cafs_error_set(e, CAFS_CONFLICT, 0,
					   "repository '%s' has upstreams; a repository has "
					   "upstreams or an external connection, never both",
					   repository);
		else if (r == 0 && cur.external_connection[0])
			r = cafs_error_set(e, CAFS_CONFLICT, 0,
					   "repository '%s' already has external connection '%s'; "
					   "a repository has at most one",
					   repository, cur.external_connection);
	}
	if (r == 0) {
		st = store_stmt(s,
				"INSERT INTO repository_external_connections (repository_id, name, "
				"format, created_us) VALUES (?, ?, ?, ?)",
				e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_text(st, 2, connection, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, cafs_format_name(fmt), -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, store_now_us());
			r = sqlite3_step(st);
			r = r == SQLITE_DONE ? 0
					     : store_sql_error(s, r, "add external connection", e);
		}
	}
	if (r == 0)
		r = load_repository(s, id, ret, e);
	return finish(s, r, "AssociateExternalConnection", arn, e);
}

int store_repository_disassociate_external(struct store *s, const char *repository,
					   const char *connection, struct store_repository *ret,
					   struct cafs_error *e)
{
	sqlite3_stmt *st;
	char arn[512];
	int64_t id = 0;
	int r;

	repo_arn(s, repository ? repository : "", arn, sizeof(arn));
	r = cafs_validate_repository_name(repository, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0) {
		store_audit_refusal(s, "DisassociateExternalConnection", arn, e);
		return r;
	}
	r = store_repo_id(s, repository, &id, e);
	if (r == 0) {
		st = store_stmt(s,
				"DELETE FROM repository_external_connections "
				"WHERE repository_id = ? AND name = ?",
				e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_text(st, 2, connection ? connection : "", -1, SQLITE_STATIC);
			r = sqlite3_step(st);
			if (r != SQLITE_DONE)
				r = store_sql_error(s, r, "remove external connection", e);
			else if (sqlite3_changes(s->db) == 0)
				r = cafs_error_set(e, CAFS_NOT_FOUND, 0,
						   "repository '%s' has no external connection "
						   "'%s'",
						   repository, connection ? connection : "");
			else
				r = 0;
		}
	}
	if (r == 0)
		r = load_repository(s, id, ret, e);
	return finish(s, r, "DisassociateExternalConnection", arn, e);
}

static int validate_url(const char *url, struct cafs_error *e)
{
	static const char *const schemes[] = {"https://", "http://", "file:///"};

	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++) {
		size_t n = strlen(schemes[i]);

		if (strncmp(url, schemes[i], n) == 0 && strlen(url) > n - (i == 2 ? 1 : 0) &&
		    strlen(url) < 4096 && !strpbrk(url, " \t\r\n"))
			return 0;
	}
	return cafs_error_set(e, CAFS_VALIDATION, 0,
			      "source url '%s' must start with https://, http:// or file:/// "
			      "(an absolute path) and contain no spaces",
			      url);
}

int store_source_get(struct store *s, const char *name, struct store_source *ret,
		     struct cafs_error *e)
{
	struct store_source src = {0};
	struct ext_conn c;
	sqlite3_stmt *st;
	int rc;
	int r = ext_conn_load(s, name, &c, e);

	if (r < 0)
		return r;
	src.format = c.format;
	(void)snprintf(src.name, sizeof(src.name), "%s", name);
	st = store_stmt(s, "SELECT url, updated_us FROM external_connection_sources WHERE name = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(src.url, sizeof(src.url), "%s",
			       (const char *)sqlite3_column_text(st, 0));
		src.updated_us = sqlite3_column_int64(st, 1);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "read source", e);
	(void)snprintf(src.effective_url, sizeof(src.effective_url), "%s", c.url);
	(void)snprintf(src.url_origin, sizeof(src.url_origin), "%s", c.url_origin);
	src.ttl_s = c.ttl_s;
	src.negative_ttl_s = c.negative_ttl_s;
	src.max_stale_s = c.max_stale_s;
	src.timeout_s = c.timeout_s;
	src.retries = c.retries;
	*ret = src;
	return 0;
}

static int check_settings(const struct store_source_settings *set, struct cafs_error *e)
{
	if (!set)
		return 0;
	if (set->timeout_s == 0 || set->timeout_s > 3600)
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL,
				      "timeout must be 1 to 3600 seconds");
	if (set->retries > 10)
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL, "retries must be 0 to 10");
	if (set->ttl_s > 30 * 86400 || set->negative_ttl_s > 30 * 86400 ||
	    set->max_stale_s > 365 * 86400)
		return cafs_error_set(
			e, CAFS_VALIDATION, EINVAL,
			"ttl and negative ttl are at most 30 days, max stale 365 days");
	return 0;
}

int store_source_configure(struct store *s, const char *name, const char *url,
			   const struct store_source_settings *set, struct store_source *ret,
			   struct cafs_error *e)
{
	static const char *const cols[] = {"ttl_s", "negative_ttl_s", "max_stale_s", "timeout_s",
					   "retries"};
	char resource[256];
	sqlite3_stmt *st;
	int r = 0;

	(void)snprintf(resource, sizeof(resource), "external-connection/%s/%s", s->name,
		       name ? name : "");
	if (cafs_external_connection_format(name, e) == CAFS_FORMAT_NONE)
		r = -EINVAL;
	if (r == 0 && url && *url)
		r = validate_url(url, e);
	if (r == 0)
		r = check_settings(set, e);
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r < 0) {
		store_audit_refusal(s, "ConfigureExternalConnection", resource, e);
		return r;
	}
	if (url && !*url) {
		st = store_stmt(s, "DELETE FROM external_connection_sources WHERE name = ?", e);
		if (st)
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	} else {
		st = store_stmt(
			s,
			"INSERT INTO external_connection_sources (name, url, updated_us) "
			"VALUES (?1, coalesce(?2, ''), ?3) ON CONFLICT (name) DO UPDATE SET url = "
			"coalesce(?2, url), updated_us = excluded.updated_us",
			e);
		if (st) {
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			if (url)
				sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, store_now_us());
		}
	}
	r = st ? store_step_done(s, st, "configure source", e) : -EIO;
	for (size_t i = 0; r == 0 && set && (!url || *url) && i < ARRAY_SIZE(cols); i++) {
		const int64_t v[] = {set->ttl_s, set->negative_ttl_s, set->max_stale_s,
				     set->timeout_s, set->retries};
		char sql[128];

		if (v[i] < 0)
			continue;
		(void)snprintf(sql, sizeof(sql),
			       "UPDATE external_connection_sources SET %s = ? WHERE name = ?",
			       cols[i]);
		/* one statement per column: prepared once each, not cached (rarely run) */
		{
			sqlite3_stmt *u = NULL;
			int rc = sqlite3_prepare_v2(s->db, sql, -1, &u, NULL);

			if (rc == SQLITE_OK) {
				sqlite3_bind_int64(u, 1, v[i]);
				sqlite3_bind_text(u, 2, name, -1, SQLITE_STATIC);
				rc = sqlite3_step(u);
			}
			sqlite3_finalize(u);
			if (rc != SQLITE_DONE)
				r = store_sql_error(s, rc, "configure source", e);
		}
	}
	if (r == 0)
		r = store_source_get(s, name, ret, e);
	return finish(s, r, "ConfigureExternalConnection", resource, e);
}

static int search_visit(struct store *s, int64_t id, struct store_search_node *out, size_t *n,
			struct cafs_error *e)
{
	int64_t ups[CAFS_MAX_UPSTREAMS];
	size_t n_ups = 0;
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < *n; i++)
		if (out[i].id == id)
			return 0;
	if (*n == CAFS_MAX_SEARCHED_REPOS)
		return 0;
	st = store_stmt(s, "SELECT name FROM repositories WHERE id = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		(void)snprintf(out[*n].name, sizeof(out[*n].name), "%s",
			       (const char *)sqlite3_column_text(st, 0));
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_sql_error(s, rc, "read repository", e);
	out[(*n)++].id = id;
	/* read the list first: the statement is reused by the recursion */
	st = store_stmt(s,
			"SELECT upstream_id FROM upstreams WHERE repository_id = ? "
			"ORDER BY position",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n_ups < CAFS_MAX_UPSTREAMS)
		ups[n_ups++] = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	for (size_t i = 0; i < n_ups; i++) {
		int r = search_visit(s, ups[i], out, n, e);

		if (r < 0)
			return r;
	}
	return 0;
}

int store_search_order(struct store *s, int64_t repo, struct store_search_node *ret, size_t *ret_n,
		       struct cafs_error *e)
{
	*ret_n = 0;
	return search_visit(s, repo, ret, ret_n, e);
}

#define ORDER_CACHE 8

void store_orders_free(struct store *s)
{
	free(s->orders);
	s->orders = NULL;
}

int store_search_order_cached(struct store *s, int64_t repo, const struct store_order **ret,
			      struct cafs_error *e)
{
	struct store_order *o;
	uint64_t gen = 0;
	size_t slot = 0;
	int r;

	if (!s->orders) {
		s->orders = calloc(ORDER_CACHE, sizeof(*s->orders));
		if (!s->orders)
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	if (s->txn_depth == 0) {
		r = store_view_generation(s, &gen, e);
		if (r < 0)
			return r;
		for (size_t i = 0; i < ORDER_CACHE; i++) {
			o = &s->orders[i];
			if (o->repo == repo && o->generation == gen && o->n > 0) {
				*ret = o;
				return 0;
			}
			/* the slot to refill: the stalest */
			if (o->generation < s->orders[slot].generation)
				slot = i;
		}
	}
	o = &s->orders[slot];
	o->repo = 0;
	o->n = 0;
	r = search_visit(s, repo, o->nodes, &o->n, e);
	for (size_t i = 0; r == 0 && i < o->n; i++) {
		sqlite3_stmt *st = store_stmt(
			s,
			"SELECT name FROM repository_external_connections WHERE repository_id = ?",
			e);
		int rc;

		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, o->nodes[i].id);
		rc = sqlite3_step(st);
		(void)snprintf(o->conn[i], sizeof(o->conn[i]), "%s",
			       rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "");
		(void)sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			r = store_sql_error(s, rc, "read external connection", e);
	}
	if (r < 0) {
		o->n = 0;
		return r;
	}
	/* inside a transaction the entry is not trusted later: generation 0 never matches */
	o->repo = repo;
	o->generation = s->txn_depth == 0 ? gen : 0;
	*ret = o;
	return 0;
}
