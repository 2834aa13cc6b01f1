/* SPDX-License-Identifier: MIT */
/*
 * The client view as a tree of paths (DESIGN.md §2): resolving a path to what it shows,
 * listing folders, and opening assets, which retains a version found upstream into the
 * requesting repository (spec §2.2). Synthesized files and extended attributes are in
 * store/render.c.
 *
 * Every answer is computed from the rows at the time of the call; nothing is cached here (the
 * kernel caches, and the mount invalidates on store_view_generation()). The search order is
 * the depth-first walk of store_search_order(); a version's first hit wins. Visible in the
 * client view: Published and Unlisted versions of any repository in the order, plus the
 * requesting repository's own Archived and Unfinished versions (their folder and xattrs, not
 * their bytes). Disposed versions, and other repositories' Archived and Unfinished ones, are
 * not visible. Generic packages are never served through
 * upstreams.
 */
#include "store/view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "store/group.h"
#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"

#define MAX_DEPTH 64

static const enum cafs_format tree_formats[] = {CAFS_FORMAT_GENERIC, CAFS_FORMAT_MAVEN,
						CAFS_FORMAT_NPM, CAFS_FORMAT_PYPI};

/*
 * The connections of the nodes (spec §2.1: a node's source is asked when its own contents
 * miss). With a package named, only where ingest is allowed: not from the requesting
 * repository whose record says upstream=BLOCK (@upstream), not into an owner whose record
 * says BLOCK or whose package group denies EXTERNAL_UPSTREAM (spec §7.8 scenario a: never
 * even asked).
 */
static int sources_ext(struct store *s, enum cafs_format format, const char *ns, const char *name,
		       struct view_sources *src, const char *upstream, struct cafs_error *e)
{
	for (size_t i = 0; i < src->n; i++) {
		if (!src->ext[i][0] || cafs_external_connection_format(src->ext[i], NULL) != format)
			src->ext[i][0] = '\0';
		if (!src->ext[i][0] || !name)
			continue;
		if (i == 0 && strcmp(upstream, "BLOCK") == 0) {
			src->ext[i][0] = '\0';
			continue;
		}
		{
			struct store_pkg_coord c = {.format = format};
			char up[8] = "";
			int64_t pkg;
			int r;

			(void)snprintf(c.namespace_, sizeof(c.namespace_), "%s", ns ? ns : "");
			(void)snprintf(c.package, sizeof(c.package), "%s", name);
			r = store_pkg_find(s, src->nodes[i].id, &c, &pkg, NULL, up, e);
			if (r < 0)
				return r;
			if (r > 0 && strcmp(up, "BLOCK") == 0) {
				src->ext[i][0] = '\0';
				continue;
			}
			r = store_group_allows(s, CAFS_ACTION_EXTERNAL_UPSTREAM, src->nodes[i].name,
					       format, c.namespace_, c.package, e);
			if (r < 0)
				return r;
			if (r == 0)
				src->ext[i][0] = '\0';
		}
	}
	return 0;
}

int view_sources(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
		 const char *name, struct view_sources *ret, struct cafs_error *e)
{
	char upstream[8] = "";
	size_t o = 0;
	int r;

	{
		const struct store_order *order;

		r = store_search_order_cached(s, repo, &order, e);
		if (r < 0)
			return r;
		ret->n = order->n;
		memcpy(ret->nodes, order->nodes, order->n * sizeof(order->nodes[0]));
		for (size_t i = 0; i < order->n; i++)
			memcpy(ret->ext[i], order->conn[i], sizeof(ret->ext[i]));
	}
	if (format == CAFS_FORMAT_GENERIC) {
		ret->n = 1;
	} else if (name) {
		struct store_pkg_coord c = {.format = format};
		int64_t pkg;

		(void)snprintf(c.namespace_, sizeof(c.namespace_), "%s", ns ? ns : "");
		(void)snprintf(c.package, sizeof(c.package), "%s", name);
		r = store_pkg_find(s, repo, &c, &pkg, NULL, upstream, e);
		if (r < 0)
			return r;
		if (r > 0 && strcmp(upstream, "BLOCK") == 0) {
			ret->n = 1;
		} else if (ret->n > 1) {
			/* what could not be retained is not shown (CodeArtifact answers 404) */
			r = store_group_allows(s, CAFS_ACTION_INTERNAL_UPSTREAM, ret->nodes[0].name,
					       format, c.namespace_, c.package, e);
			if (r < 0)
				return r;
			if (r == 0)
				ret->n = 1;
		}
	}
	r = sources_ext(s, format, ns, name, ret, upstream, e);
	if (r < 0)
		return r;
	ret->json_ids[o++] = '[';
	for (size_t i = 0; i < ret->n; i++)
		o += (size_t)snprintf(ret->json_ids + o, sizeof(ret->json_ids) - o, "%s%lld",
				      i ? "," : "", (long long)ret->nodes[i].id);
	(void)snprintf(ret->json_ids + o, sizeof(ret->json_ids) - o, "]");
	return 0;
}

/* Own Archived and Unfinished versions show as folders (to change their status, to see a
 * deploy in progress); their bytes are refused at open. */
static bool visible(int status, bool own)
{
	return status == STORE_STATUS_PUBLISHED || status == STORE_STATUS_UNLISTED ||
	       (own && (status == STORE_STATUS_ARCHIVED || status == STORE_STATUS_UNFINISHED));
}

/* Version @version as the source of node @i lists it: 1 (*@ret external), 0, or EIO. */
static int ext_version_at(struct store *s, const struct view_sources *src, size_t i, const char *ns,
			  const char *name, const char *version, struct view_version *ret,
			  struct cafs_error *e)
{
	struct ext_version ev;
	int64_t listing;
	int r = ext_listing(s, src->ext[i], ns ? ns : "", name, false, &listing, e);

	if (r <= 0)
		return r;
	r = ext_find_version(s, listing, version, &ev, e);
	if (r <= 0)
		return r;
	*ret = (struct view_version){
		.repo_id = src->nodes[i].id,
		.status = ev.yanked ? STORE_STATUS_UNLISTED : STORE_STATUS_PUBLISHED,
		.published_us = ev.published_us,
		.external = true,
		.ext = ev,
	};
	(void)snprintf(ret->repo, sizeof(ret->repo), "%s", src->nodes[i].name);
	(void)snprintf(ret->connection, sizeof(ret->connection), "%s", src->ext[i]);
	return 1;
}

static const char *const version_sql =
	"SELECT v.id, v.status, coalesce(v.published_us, v.created_us), "
	"coalesce(v.maven_snapshot_build, ''), coalesce(v.entry_external_connection, '') FROM "
	"packages p JOIN package_versions v ON "
	"v.package_id = p.id WHERE p.repository_id = ? AND p.format = ? AND p.namespace = ? AND "
	"p.name = ? AND v.version = ?";

int view_find_version(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
		      const char *name, const char *version, struct view_version *ret,
		      struct cafs_error *e)
{
	struct view_sources src;
	int r = view_sources(s, repo, format, ns, name, &src, e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < src.n; i++) {
		sqlite3_stmt *st = store_stmt(s, version_sql, e);
		int rc;

		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, src.nodes[i].id);
		sqlite3_bind_text(st, 2, cafs_format_name(format), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, ns ? ns : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, version, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int status = store_status_parse((const char *)sqlite3_column_text(st, 1));

			/* the repository's own record decides, visible or not: an upstream's
			 * copy of a version it holds (say, Disposed) never stands in for it */
			if (i == 0 && !visible(status, true)) {
				(void)sqlite3_reset(st);
				return 0;
			}
			if (visible(status, i == 0)) {
				*ret = (struct view_version){
					.id = sqlite3_column_int64(st, 0),
					.repo_id = src.nodes[i].id,
					.own = i == 0,
					.status = status,
					.published_us = sqlite3_column_int64(st, 2),
				};
				(void)snprintf(ret->repo, sizeof(ret->repo), "%s",
					       src.nodes[i].name);
				(void)snprintf(ret->snapshot_build, sizeof(ret->snapshot_build),
					       "%s", (const char *)sqlite3_column_text(st, 3));
				(void)snprintf(ret->entry_connection, sizeof(ret->entry_connection),
					       "%s", (const char *)sqlite3_column_text(st, 4));
				(void)sqlite3_reset(st);
				return 1;
			}
		}
		(void)sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sql_error(s, rc, "look up version", e);
		if (src.ext[i][0]) {
			r = ext_version_at(s, &src, i, ns, name, version, ret, e);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

int view_versions(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
		  const char *name, struct view_version **ret,
		  char (**ret_names)[CAFS_PACKAGE_FIELD_MAX + 1], size_t *ret_n,
		  struct cafs_error *e)
{
	struct view_version *list = NULL;
	char(*names)[CAFS_PACKAGE_FIELD_MAX + 1] = NULL;
	char(*hidden)[CAFS_PACKAGE_FIELD_MAX + 1] = NULL;
	struct view_sources src;
	size_t n = 0, n_hidden = 0;
	int r = view_sources(s, repo, format, ns, name, &src, e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < src.n; i++) {
		sqlite3_stmt *st = store_stmt(
			s,
			"SELECT v.version, v.id, v.status, coalesce(v.published_us, v.created_us), "
			"coalesce(v.maven_snapshot_build, ''), "
			"coalesce(v.entry_external_connection, '') FROM packages p JOIN "
			"package_versions "
			"v ON v.package_id = p.id WHERE p.repository_id = ? AND p.format = ? AND "
			"p.namespace = ? AND p.name = ? ORDER BY coalesce(v.published_us, "
			"v.created_us), v.id",
			e);
		int rc;

		if (!st) {
			free(list);
			free(names);
			free(hidden);
			return -EIO;
		}
		sqlite3_bind_int64(st, 1, src.nodes[i].id);
		sqlite3_bind_text(st, 2, cafs_format_name(format), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, ns ? ns : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(st, 0);
			int status = store_status_parse((const char *)sqlite3_column_text(st, 2));
			bool seen = false;
			void *nl, *nn;

			for (size_t j = 0; j < n && !seen; j++)
				seen = strcmp(names[j], v) == 0;
			for (size_t j = 0; j < n_hidden && !seen; j++)
				seen = strcmp(hidden[j], v) == 0;
			if (seen)
				continue;
			if (!visible(status, i == 0)) {
				/* the repository's own hidden record hides the upstreams' too */
				void *nh;

				if (i != 0)
					continue;
				nh = reallocarray(hidden, n_hidden + 1, sizeof(*hidden));
				if (!nh)
					continue;
				hidden = nh;
				(void)snprintf(hidden[n_hidden++], sizeof(hidden[0]), "%s", v);
				continue;
			}
			nl = reallocarray(list, n + 1, sizeof(*list));
			if (nl)
				list = nl;
			nn = reallocarray(names, n + 1, sizeof(*names));
			if (nn)
				names = nn;
			if (!nl || !nn) {
				(void)sqlite3_reset(st);
				free(list);
				free(names);
				free(hidden);
				return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
			}
			(void)snprintf(names[n], sizeof(names[n]), "%s", v);
			list[n] = (struct view_version){
				.id = sqlite3_column_int64(st, 1),
				.repo_id = src.nodes[i].id,
				.own = i == 0,
				.status = status,
				.published_us = sqlite3_column_int64(st, 3),
			};
			(void)snprintf(list[n].repo, sizeof(list[n].repo), "%s", src.nodes[i].name);
			(void)snprintf(list[n].snapshot_build, sizeof(list[n].snapshot_build), "%s",
				       (const char *)sqlite3_column_text(st, 4));
			(void)snprintf(list[n].entry_connection, sizeof(list[n].entry_connection),
				       "%s", (const char *)sqlite3_column_text(st, 5));
			n++;
		}
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			free(list);
			free(names);
			free(hidden);
			return store_sql_error(s, rc, "list versions", e);
		}
		if (src.ext[i][0]) {
			/* the source's versions, behind every record found before this node */
			struct ext_version *ev = NULL;
			size_t nev = 0;
			int64_t listing;

			r = ext_listing(s, src.ext[i], ns ? ns : "", name, false, &listing, e);
			if (r > 0)
				r = ext_list_versions(s, listing, &ev, &nev, e);
			for (size_t k = 0; r >= 0 && k < nev; k++) {
				bool seen = false;
				void *nl, *nn;

				for (size_t j = 0; j < n && !seen; j++)
					seen = strcmp(names[j], ev[k].version) == 0;
				for (size_t j = 0; j < n_hidden && !seen; j++)
					seen = strcmp(hidden[j], ev[k].version) == 0;
				if (seen)
					continue;
				nl = reallocarray(list, n + 1, sizeof(*list));
				if (nl)
					list = nl;
				nn = reallocarray(names, n + 1, sizeof(*names));
				if (nn)
					names = nn;
				if (!nl || !nn) {
					r = cafs_error_set(e, CAFS_INTERNAL, ENOMEM,
							   "out of memory");
					break;
				}
				(void)snprintf(names[n], sizeof(names[n]), "%s", ev[k].version);
				list[n] = (struct view_version){
					.repo_id = src.nodes[i].id,
					.status = ev[k].yanked ? STORE_STATUS_UNLISTED
							       : STORE_STATUS_PUBLISHED,
					.published_us = ev[k].published_us,
					.external = true,
					.ext = ev[k],
				};
				(void)snprintf(list[n].repo, sizeof(list[n].repo), "%s",
					       src.nodes[i].name);
				(void)snprintf(list[n].connection, sizeof(list[n].connection), "%s",
					       src.ext[i]);
				n++;
			}
			free(ev);
			if (r < 0) {
				free(list);
				free(names);
				free(hidden);
				return r;
			}
		}
	}
	/* one order for the merged list: oldest published first */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && list[j - 1].published_us > list[j].published_us; j--) {
			struct view_version t = list[j];
			char tn[CAFS_PACKAGE_FIELD_MAX + 1];

			list[j] = list[j - 1];
			list[j - 1] = t;
			memcpy(tn, names[j], sizeof(tn));
			memcpy(names[j], names[j - 1], sizeof(tn));
			memcpy(names[j - 1], tn, sizeof(tn));
		}
	free(hidden);
	*ret = list;
	*ret_names = names;
	*ret_n = n;
	return 0;
}

/* Split @path into components (in @buf); refuses "." and ".." and over-deep paths. */
static int split_path(const char *path, char *buf, size_t bufsz, char **parts, size_t *n,
		      struct cafs_error *e)
{
	char *save = NULL;

	if (!path || path[0] != '/' || strlen(path) >= bufsz)
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG, "bad path");
	(void)snprintf(buf, bufsz, "%s", path);
	*n = 0;
	for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0 || *n == MAX_DEPTH)
			return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no '%s'", path);
		parts[(*n)++] = t;
	}
	return 0;
}

static int not_found(const char *path, struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_NOT_FOUND, 0, "nothing at '%s'", path);
}

/*
 * Could @ns/@name be a package at a source at all? Names the format cannot have (PyPI names
 * that are not normalized, dot files, upper-case npm names) are never sent to a source.
 */
static bool view_name_valid(enum cafs_format format, const char *ns, const char *name)
{
	char norm[CAFS_PACKAGE_FIELD_MAX + 1];

	if (!name[0] || name[0] == '.' || cafs_validate_coord(format, ns, name, "0", NULL) < 0)
		return false;
	switch (format) {
	case CAFS_FORMAT_PYPI:
		return cafs_pypi_normalize(name, norm, sizeof(norm)) >= 0 &&
		       strcmp(norm, name) == 0;
	case CAFS_FORMAT_NPM:
		for (const char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				return false;
		return true;
	case CAFS_FORMAT_MAVEN: {
		/* not a version folder or a file taken for an artifactId while the path is split */
		static const char *const files[] = {".jar",    ".pom",    ".xml", ".md5",   ".sha1",
						    ".sha256", ".sha512", ".asc", ".module"};
		size_t l = strlen(name);

		for (size_t i = 0; i < ARRAY_SIZE(files); i++)
			if (l > strlen(files[i]) &&
			    strcmp(name + l - strlen(files[i]), files[i]) == 0)
				return false;
		return ns && ns[0] && !(name[0] >= '0' && name[0] <= '9');
	}
	case CAFS_FORMAT_NONE:
	case CAFS_FORMAT_GENERIC:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_SWIFT:
	case CAFS_FORMAT_CARGO:
		break;
	}
	return false;
}

/* Is there a visible package in the client view with this exact coordinate? */
static int package_visible(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
			   const char *name, struct cafs_error *e)
{
	struct view_sources src;
	sqlite3_stmt *st;
	int r = view_sources(s, repo, format, ns, name, &src, e);
	int rc;

	if (r < 0)
		return r;
	st = store_stmt(
		s,
		"SELECT 1 FROM packages p JOIN package_versions v ON v.package_id = p.id "
		"WHERE p.repository_id IN (SELECT value FROM json_each(?1)) AND p.format = "
		"?2 AND p.namespace = ?3 AND p.name = ?4 AND (v.status IN ('Published', "
		"'Unlisted') OR (p.repository_id = ?5 AND v.status IN ('Archived', 'Unfinished'))) "
		"LIMIT 1",
		e);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, src.json_ids, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cafs_format_name(format), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ns ? ns : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, repo);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "look up package", e);
	if (rc == SQLITE_ROW)
		return 1;
	/* a name only a source knows: looked up on demand (never enumerated) */
	for (size_t i = 0; i < src.n; i++) {
		int64_t listing;

		if (!src.ext[i][0] || !view_name_valid(format, ns, name))
			continue;
		r = ext_listing(s, src.ext[i], ns ? ns : "", name, false, &listing, e);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Bind the namespaces @ns_exact, or those starting with @ns_prefix, as an index range [lower,
 * upper). */
static void bind_ns_range(sqlite3_stmt *st, int lower_idx, int upper_idx, const char *ns_exact,
			  const char *ns_prefix)
{
	char lower[CAFS_PACKAGE_FIELD_MAX + 2], upper[CAFS_PACKAGE_FIELD_MAX + 3];
	const char *from = ns_exact ? ns_exact : ns_prefix ? ns_prefix : "";
	size_t l;

	(void)snprintf(lower, sizeof(lower), "%s", from);
	(void)snprintf(upper, sizeof(upper), "%s", from);
	l = strlen(upper);
	if (ns_exact)
		(void)snprintf(upper + l, sizeof(upper) - l, "\x01"); /* E and nothing after */
	else if (l > 0 && (unsigned char)upper[l - 1] < 0xff)
		upper[l - 1] = (char)((unsigned char)upper[l - 1] + 1);
	else
		(void)snprintf(upper + l, sizeof(upper) - l, "\xff"); /* above all UTF-8 */
	sqlite3_bind_text(st, lower_idx, lower, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, upper_idx, upper, -1, SQLITE_TRANSIENT);
}

/*
 * The visibility rule every package listing shares: a package of a repository in the search
 * order (?1: its id, or all their ids as JSON) with a version the client sees (any listable
 * status; in the repository itself, ?5, also Archived and Unfinished), and, seen upstream,
 * not blocked from upstream here. Its package groups are checked by the caller
 * (package_shown()).
 */
#define VISIBLE_VERSION                                                                    \
	"(v.status IN ('Published', 'Unlisted') OR (p.repository_id = ?5 AND v.status IN " \
	"('Archived', 'Unfinished')))"
#define VISIBLE_PACKAGE                                                                         \
	"p.format = ?2 AND (?3 IS NULL OR p.namespace = ?3) AND p.namespace >= ?4 AND "         \
	"p.namespace < ?6 AND (p.repository_id = ?5 OR NOT EXISTS (SELECT 1 FROM packages b "   \
	"WHERE b.repository_id = ?5 AND b.format = p.format AND b.namespace = p.namespace AND " \
	"b.name = p.name AND b.origin_upstream = 'BLOCK')) AND EXISTS (SELECT 1 FROM "          \
	"package_versions v WHERE v.package_id = p.id AND " VISIBLE_VERSION ")"

/* Bind the rule's parameters; @node is the one repository asked (?1), or, when negative, all. */
static void bind_visible(sqlite3_stmt *st, const struct view_sources *src, int64_t repo,
			 int64_t node, enum cafs_format format, const char *ns_exact,
			 const char *ns_prefix)
{
	if (node < 0)
		sqlite3_bind_text(st, 1, src->json_ids, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, node);
	sqlite3_bind_text(st, 2, cafs_format_name(format), -1, SQLITE_STATIC);
	if (ns_exact)
		sqlite3_bind_text(st, 3, ns_exact, -1, SQLITE_STATIC);
	bind_ns_range(st, 4, 6, ns_exact, ns_prefix);
	sqlite3_bind_int64(st, 5, repo);
}

/* Whether a package seen in the repository itself (@here) or upstream is shown there. */
static int package_shown(struct store *s, const struct view_sources *src, bool here,
			 enum cafs_format format, const char *ns, const char *name,
			 struct cafs_error *e)
{
	/* seen only upstream: shown unless its group refuses retention here */
	if (here || src->n <= 1)
		return 1;
	return store_group_allows(s, CAFS_ACTION_INTERNAL_UPSTREAM, src->nodes[0].name, format, ns,
				  name, e);
}

/* One repository's visible packages, in order, as "namespace\0name\0" pairs. */
struct pkg_rows {
	char *buf;
	size_t len, cap;
	size_t *off; /* where each pair starts */
	size_t n, ncap;
	size_t pos; /* the merge's next pair */
};

static bool pkg_rows_add(struct pkg_rows *l, const char *ns, const char *name)
{
	size_t nl = strlen(ns) + 1, ml = strlen(name) + 1;

	if (l->len + nl + ml > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		char *nb;

		while (cap < l->len + nl + ml)
			cap *= 2;
		nb = realloc(l->buf, cap);
		if (!nb)
			return false;
		l->buf = nb;
		l->cap = cap;
	}
	if (l->n == l->ncap) {
		size_t ncap = l->ncap ? l->ncap * 2 : 256;
		size_t *no = reallocarray(l->off, ncap, sizeof(*no));

		if (!no)
			return false;
		l->off = no;
		l->ncap = ncap;
	}
	l->off[l->n++] = l->len;
	memcpy(l->buf + l->len, ns, nl);
	memcpy(l->buf + l->len + nl, name, ml);
	l->len += nl + ml;
	return true;
}

/* The next pair of @l, or false when it is used up. */
static bool pkg_rows_peek(const struct pkg_rows *l, const char **ns, const char **name)
{
	if (l->pos >= l->n)
		return false;
	*ns = l->buf + l->off[l->pos];
	*name = *ns + strlen(*ns) + 1;
	return true;
}

/* The packages of search-order node @i that the client may see, in (namespace, name) order. */
static int list_node(struct store *s, const struct view_sources *src, size_t i, int64_t repo,
		     enum cafs_format format, const char *ns_exact, const char *ns_prefix,
		     struct pkg_rows *ret, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "SELECT p.namespace, p.name FROM packages p WHERE "
				      "p.repository_id = ?1 AND " VISIBLE_PACKAGE
				      " ORDER BY p.namespace, p.name",
				      e);
	int rc;

	if (!st)
		return -EIO;
	bind_visible(st, src, repo, src->nodes[i].id, format, ns_exact, ns_prefix);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!pkg_rows_add(ret, (const char *)sqlite3_column_text(st, 0),
				  (const char *)sqlite3_column_text(st, 1))) {
			(void)sqlite3_reset(st);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "list packages", e);
}

/*
 * Each node of the search order is listed on its own, in the order of its index on
 * (repository, format, namespace, name), and the lists are merged: a package several hold is
 * named once, and a repository's listing never reads another format's or another
 * repository's packages.
 */
int view_visit_packages(struct store *s, int64_t repo, enum cafs_format format,
			const char *ns_exact, const char *ns_prefix,
			int (*cb)(void *ctx, const char *ns, const char *name), void *ctx,
			struct cafs_error *e)
{
	struct pkg_rows rows[CAFS_MAX_SEARCHED_REPOS] = {0};
	struct view_sources src;
	int r = view_sources(s, repo, format, NULL, NULL, &src, e);

	for (size_t i = 0; r == 0 && i < src.n; i++)
		r = list_node(s, &src, i, repo, format, ns_exact, ns_prefix, &rows[i], e);
	/* every list is complete before the first callback, which may run other statements */
	while (r == 0) {
		const char *ns = NULL, *name = NULL, *n_ns, *n_name;
		bool here = false;

		for (size_t i = 0; i < src.n; i++)
			if (pkg_rows_peek(&rows[i], &n_ns, &n_name) &&
			    (!ns || strcmp(n_ns, ns) < 0 ||
			     (strcmp(n_ns, ns) == 0 && strcmp(n_name, name) < 0))) {
				ns = n_ns;
				name = n_name;
			}
		if (!ns)
			break;
		for (size_t i = 0; i < src.n; i++)
			if (pkg_rows_peek(&rows[i], &n_ns, &n_name) && strcmp(n_ns, ns) == 0 &&
			    strcmp(n_name, name) == 0) {
				here |= i == 0;
				rows[i].pos++;
			}
		r = package_shown(s, &src, here, format, ns, name, e);
		if (r > 0)
			r = cb(ctx, ns, name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		free(rows[i].buf);
		free(rows[i].off);
	}
	return r < 0 ? r : 0;
}

/*
 * Whether view_visit_packages() would name anything: the same rule, asked row by row and
 * stopped at the first package shown, with no grouping or sorting of the whole range (a Maven
 * group of many packages is answered by its first).
 */
static int packages_any(struct store *s, int64_t repo, enum cafs_format format,
			const char *ns_exact, const char *ns_prefix, struct cafs_error *e)
{
	struct view_sources src;
	sqlite3_stmt *st;
	int r = view_sources(s, repo, format, NULL, NULL, &src, e);
	int rc;

	if (r < 0)
		return r;
	st = store_stmt(s,
			"SELECT p.namespace, p.name, p.repository_id = ?5 FROM packages p WHERE "
			"p.repository_id IN (SELECT value FROM json_each(?1)) AND " VISIBLE_PACKAGE,
			e);
	if (!st)
		return -EIO;
	bind_visible(st, &src, repo, -1, format, ns_exact, ns_prefix);
	r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = package_shown(s, &src, sqlite3_column_int(st, 2), format,
				  (const char *)sqlite3_column_text(st, 0),
				  (const char *)sqlite3_column_text(st, 1), e);
	(void)sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "find a package", e);
	return r;
}

/* Whether any visible package has namespace @ns (exact) or, with @prefix, under "@ns.". */
static int namespace_visible(struct store *s, int64_t repo, enum cafs_format f, const char *ns,
			     bool dotted_children, struct cafs_error *e)
{
	char prefix[CAFS_PACKAGE_FIELD_MAX + 2];
	int r = packages_any(s, repo, f, ns, NULL, e);

	if (r != 0)
		return r;
	if (dotted_children) {
		(void)snprintf(prefix, sizeof(prefix), "%s.", ns);
		r = packages_any(s, repo, f, NULL, prefix, e);
		if (r != 0)
			return r;
	}
	/*
	 * A source is not enumerated, so a Maven group or an npm scope of a package only the
	 * source has must still be a folder the client can walk through: with a connection in
	 * the search order, every well-formed name is.
	 */
	if (ns[0] != '.' && cafs_validate_coord_part(ns, "namespace", NULL) == 0) {
		struct view_sources src;

		r = view_sources(s, repo, f, NULL, NULL, &src, e);
		if (r < 0)
			return r;
		for (size_t i = 0; i < src.n; i++)
			if (src.ext[i][0])
				return 1;
	}
	return 0;
}

static void join_dots(char *const *parts, size_t n, char *buf, size_t bufsz)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < bufsz; i++)
		o += (size_t)snprintf(buf + o, bufsz - o, "%s%s", i ? "." : "", parts[i]);
}

static const char *const checksum_algos[] = {"md5", "sha1", "sha256", "sha512"};

/* "x.sha1" → "x" and "sha1" when Maven checksum naming applies. */
static bool checksum_name(const char *file, char *base, size_t basesz, char *algo)
{
	const char *dot = strrchr(file, '.');

	if (!dot)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(checksum_algos); i++)
		if (strcmp(dot + 1, checksum_algos[i]) == 0 && dot > file) {
			(void)snprintf(base, basesz, "%.*s", (int)(dot - file), file);
			(void)snprintf(algo, 8, "%s", checksum_algos[i]);
			return true;
		}
	return false;
}

int view_version_source(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
			const char *name, const struct view_version *v, struct ext_version *ret,
			struct store_search_node *ret_owner, char *ret_conn, struct cafs_error *e)
{
	struct view_sources src;
	int r;

	if (v->external) {
		*ret = v->ext;
		ret_owner->id = v->repo_id;
		(void)snprintf(ret_owner->name, sizeof(ret_owner->name), "%s", v->repo);
		(void)snprintf(ret_conn, 101, "%s", v->connection);
		return 1;
	}
	if (!v->entry_connection[0])
		return 0;
	r = view_sources(s, repo, format, ns, name, &src, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < src.n; i++) {
		int64_t listing;

		if (strcmp(src.ext[i], v->entry_connection) != 0)
			continue;
		r = ext_listing(s, src.ext[i], ns ? ns : "", name, false, &listing, e);
		if (r > 0) {
			char version[CAFS_PACKAGE_FIELD_MAX + 1];
			sqlite3_stmt *st = store_stmt(
				s, "SELECT version FROM package_versions WHERE id = ?", e);

			if (!st)
				return -EIO;
			sqlite3_bind_int64(st, 1, v->id);
			version[0] = '\0';
			if (sqlite3_step(st) == SQLITE_ROW)
				(void)snprintf(version, sizeof(version), "%s",
					       (const char *)sqlite3_column_text(st, 0));
			(void)sqlite3_reset(st);
			r = ext_find_version(s, listing, version, ret, e);
		}
		if (r > 0) {
			*ret_owner = src.nodes[i];
			(void)snprintf(ret_conn, 101, "%s", src.ext[i]);
		}
		return r;
	}
	return 0;
}

/* Asset @file of @v as only the source has it: fills the node (size from the source). */
static int find_ext_asset(struct store *s, int64_t repo, const struct view_version *v,
			  const char *file, struct store_node *n, struct cafs_error *e)
{
	struct store_search_node owner;
	struct ext_version ev;
	struct ext_file f;
	char conn[101];
	int r = view_version_source(s, repo, n->format, n->namespace_, n->package, v, &ev, &owner,
				    conn, e);

	if (r <= 0)
		return r;
	r = ext_find_file(s, conn, n->namespace_, n->package, &ev, file, &f, e);
	if (r <= 0)
		return r;
	n->external = true;
	n->unsized = f.size < 0;
	n->size = f.size < 0 ? 0 : (uint64_t)f.size;
	n->mtime_us = v->published_us;
	n->identity = XXH3_64bits(f.url, strlen(f.url)) | 1ull << 63;
	return 1;
}

/* The asset @file of visible version @v: fills size, identity. 0 not there, 1 found. */
static int find_asset(struct store *s, const struct view_version *v, const char *file,
		      struct store_node *n, bool metadata, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(s,
			   "SELECT b.id, b.size, a.created_us, m.id, m.size FROM assets a "
			   "JOIN blobs b ON b.id = a.blob_id LEFT JOIN blobs m ON m.id = "
			   "a.metadata_blob_id WHERE a.version_id = ? AND a.name = ?",
			   e);
	int rc;

	if (!st)
		return -EIO;
	if (v->external)
		return 0;
	sqlite3_bind_int64(st, 1, v->id);
	sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (!metadata || sqlite3_column_type(st, 3) != SQLITE_NULL)) {
		int col = metadata ? 3 : 0;

		n->size = (uint64_t)sqlite3_column_int64(st, col + 1);
		n->mtime_us = sqlite3_column_int64(st, 2);
		/*
		 * The blob and the version's publish time: a retained copy keeps both (its
		 * inode does not change on first read), a deleted and re-published version
		 * gets a new time and so a new inode.
		 */
		n->identity = ((uint64_t)sqlite3_column_int64(st, col) << 40) ^
			      (uint64_t)v->published_us ^ (metadata ? 0x9e3779b97f4a7c15ull : 0);
		(void)sqlite3_reset(st);
		return 1;
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "look up asset", e);
	return 0;
}

static void set_version(struct store_node *n, const char *version, const struct view_version *v)
{
	(void)snprintf(n->version, sizeof(n->version), "%s", version);
	(void)snprintf(n->source_repository, sizeof(n->source_repository), "%s", v->repo);
	n->retained = v->own;
	n->status = v->status;
	n->mtime_us = v->published_us;
}

/* A synthesized file: its size is that of its bytes now. */
static int synth_node(struct store *s, struct store_node *n, enum store_synth_kind k,
		      const char *file, struct cafs_error *e)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	n->kind = STORE_NODE_SYNTH;
	n->synth = k;
	(void)snprintf(n->file, sizeof(n->file), "%s", file);
	r = store_view_render(s, n, &buf, &len, e);
	if (r < 0)
		return r;
	free(buf);
	n->size = len;
	return 0;
}

/* Resolve what is below a package folder: [version [file]] or a package-level file. */
static int resolve_in_package(struct store *s, int64_t repo, struct store_node *n,
			      char *const *rest, size_t nrest, const char *path,
			      struct cafs_error *e)
{
	struct view_version v;
	char base[sizeof(n->file)];
	char algo[8];
	int r;

	if (nrest == 0)
		return 0;
	if (nrest == 1) {
		if (n->format == CAFS_FORMAT_PYPI && strcmp(rest[0], "index.html") == 0)
			return synth_node(s, n, STORE_SYNTH_PYPI_PROJECT_INDEX, rest[0], e);
		if (n->format == CAFS_FORMAT_MAVEN && strcmp(rest[0], "maven-metadata.xml") == 0)
			return synth_node(s, n, STORE_SYNTH_MAVEN_METADATA, rest[0], e);
		if (n->format == CAFS_FORMAT_MAVEN &&
		    checksum_name(rest[0], base, sizeof(base), algo) &&
		    strcmp(base, "maven-metadata.xml") == 0) {
			(void)snprintf(n->checksum_of, sizeof(n->checksum_of), "%s", base);
			(void)snprintf(n->checksum_algo, sizeof(n->checksum_algo), "%s", algo);
			return synth_node(s, n, STORE_SYNTH_CHECKSUM, rest[0], e);
		}
	}
	r = view_find_version(s, repo, n->format, n->namespace_, n->package, rest[0], &v, e);
	if (r <= 0)
		return r < 0 ? r : not_found(path, e);
	n->kind = STORE_NODE_VERSION;
	set_version(n, rest[0], &v);
	if (nrest == 1)
		return 0;
	if (nrest > 2)
		return not_found(path, e);
	/* a file of the version */
	r = find_asset(s, &v, rest[1], n, false, e);
	if (r == 0)
		r = find_ext_asset(s, repo, &v, rest[1], n, e);
	if (r > 0) {
		n->kind = STORE_NODE_ASSET;
		(void)snprintf(n->file, sizeof(n->file), "%s", rest[1]);
		return 0;
	}
	if (r < 0)
		return r;
	if (n->format == CAFS_FORMAT_PYPI) {
		size_t len = strlen(rest[1]);

		if (len > 9 && strcmp(rest[1] + len - 9, ".metadata") == 0) {
			(void)snprintf(base, sizeof(base), "%.*s", (int)(len - 9), rest[1]);
			r = find_asset(s, &v, base, n, true, e);
			if (r > 0) {
				n->kind = STORE_NODE_SYNTH;
				n->synth = STORE_SYNTH_PYPI_CORE_METADATA;
				(void)snprintf(n->file, sizeof(n->file), "%s", rest[1]);
				(void)snprintf(n->checksum_of, sizeof(n->checksum_of), "%s", base);
				return 0;
			}
		}
	}
	if (n->format == CAFS_FORMAT_MAVEN) {
		bool snapshot_md = v.snapshot_build[0] != '\0';

		if (snapshot_md && strcmp(rest[1], "maven-metadata.xml") == 0)
			return synth_node(s, n, STORE_SYNTH_MAVEN_METADATA, rest[1], e);
		if (checksum_name(rest[1], base, sizeof(base), algo)) {
			if (snapshot_md && strcmp(base, "maven-metadata.xml") == 0) {
				(void)snprintf(n->checksum_of, sizeof(n->checksum_of), "%s", base);
				(void)snprintf(n->checksum_algo, sizeof(n->checksum_algo), "%s",
					       algo);
				return synth_node(s, n, STORE_SYNTH_CHECKSUM, rest[1], e);
			}
			r = find_asset(s, &v, base, n, false, e);
			if (r == 0)
				r = find_ext_asset(s, repo, &v, base, n, e);
			if (r > 0) {
				n->unsized = false;
				(void)snprintf(n->checksum_of, sizeof(n->checksum_of), "%s", base);
				(void)snprintf(n->checksum_algo, sizeof(n->checksum_algo), "%s",
					       algo);
				n->kind = STORE_NODE_SYNTH;
				n->synth = STORE_SYNTH_CHECKSUM;
				(void)snprintf(n->file, sizeof(n->file), "%s", rest[1]);
				n->size = strcmp(algo, "md5") == 0      ? 32
					  : strcmp(algo, "sha1") == 0   ? 40
					  : strcmp(algo, "sha256") == 0 ? 64
									: 128;
				return 0;
			}
			if (r < 0)
				return r;
		}
	}
	return not_found(path, e);
}

/* A package folder @name (namespace already in @n) and what is below it. */
static int resolve_package(struct store *s, int64_t repo, struct store_node *n, const char *name,
			   char *const *rest, size_t nrest, const char *path, struct cafs_error *e)
{
	int r;

	(void)snprintf(n->package, sizeof(n->package), "%s", name);
	/*
	 * A version found visible proves its package is (view_find_version() asks the same
	 * search order under the same statuses and controls), so a path below a version needs
	 * no separate check; the folder itself and its synthesized index do. So do names the
	 * format cannot have, which only package_visible() keeps from a source.
	 */
	if (nrest == 0 ||
	    (nrest == 1 && n->format == CAFS_FORMAT_PYPI && strcmp(rest[0], "index.html") == 0) ||
	    !view_name_valid(n->format, n->namespace_, n->package)) {
		r = package_visible(s, repo, n->format, n->namespace_, n->package, e);
		if (r <= 0)
			return r < 0 ? r : not_found(path, e);
	}
	n->kind = STORE_NODE_PACKAGE;
	return resolve_in_package(s, repo, n, rest, nrest, path, e);
}

/* A namespace folder (an npm scope, a generic namespace) and the packages below it. */
static int resolve_namespaced(struct store *s, int64_t repo, struct store_node *n, const char *ns,
			      char *const *rest, size_t nrest, const char *path,
			      struct cafs_error *e)
{
	int r;

	(void)snprintf(n->namespace_, sizeof(n->namespace_), "%s", ns);
	if (nrest == 0) {
		r = namespace_visible(s, repo, n->format, n->namespace_, false, e);
		if (r <= 0)
			return r < 0 ? r : not_found(path, e);
		n->kind = STORE_NODE_NSDIR;
		return 0;
	}
	return resolve_package(s, repo, n, rest[0], rest + 1, nrest - 1, path, e);
}

static int view_resolve_snap(struct store *s, const char *path, struct store_node *ret,
			     struct cafs_error *e)
{
	struct store_node n = {.status = -1};
	char buf[4096];
	char *parts[MAX_DEPTH];
	size_t np = 0;
	int64_t repo;
	int r;

	r = split_path(path, buf, sizeof(buf), parts, &np, e);
	if (r < 0)
		return r;
	if (np == 0) {
		n.kind = STORE_NODE_ROOT;
		*ret = n;
		return 0;
	}
	if (cafs_validate_repository_name(parts[0], NULL) < 0 ||
	    store_repo_id(s, parts[0], &repo, NULL) < 0)
		return not_found(path, e);
	(void)snprintf(n.repository, sizeof(n.repository), "%s", parts[0]);
	n.kind = STORE_NODE_REPO;
	if (np == 1)
		goto done;
	n.format = cafs_format_parse(parts[1]);
	{
		bool in_tree = false;

		for (size_t i = 0; i < ARRAY_SIZE(tree_formats); i++)
			in_tree = in_tree || n.format == tree_formats[i];
		if (!in_tree)
			return not_found(path, e);
	}
	n.kind = STORE_NODE_FORMAT;
	if (np == 2)
		goto done;

	switch (n.format) {
	case CAFS_FORMAT_PYPI:
		if (np == 3 && strcmp(parts[2], "index.html") == 0) {
			r = synth_node(s, &n, STORE_SYNTH_PYPI_ROOT_INDEX, parts[2], e);
			goto out;
		}
		r = resolve_package(s, repo, &n, parts[2], parts + 3, np - 3, path, e);
		goto out;
	case CAFS_FORMAT_NPM:
		if (parts[2][0] == '@') {
			r = resolve_namespaced(s, repo, &n, parts[2] + 1, parts + 3, np - 3, path,
					       e);
			goto out;
		}
		r = resolve_package(s, repo, &n, parts[2], parts + 3, np - 3, path, e);
		goto out;
	case CAFS_FORMAT_GENERIC:
		r = resolve_namespaced(s, repo, &n, parts[2], parts + 3, np - 3, path, e);
		goto out;
	case CAFS_FORMAT_MAVEN: {
		size_t nm = np - 2;
		char *const *m = parts + 2;
		char ns[CAFS_PACKAGE_FIELD_MAX + 1];

		/* the longest groupId whose next component is an artifact of it wins */
		for (size_t k = nm - 1; k >= 1 && nm >= 2; k--) {
			join_dots(m, k, ns, sizeof(ns));
			r = package_visible(s, repo, n.format, ns, m[k], e);
			if (r < 0)
				return r;
			if (r > 0) {
				(void)snprintf(n.namespace_, sizeof(n.namespace_), "%s", ns);
				(void)snprintf(n.package, sizeof(n.package), "%s", m[k]);
				n.kind = STORE_NODE_PACKAGE;
				r = resolve_in_package(s, repo, &n, m + k + 1, nm - k - 1, path, e);
				goto out;
			}
		}
		join_dots(m, nm, ns, sizeof(ns));
		r = namespace_visible(s, repo, n.format, ns, true, e);
		if (r <= 0)
			return r < 0 ? r : not_found(path, e);
		(void)snprintf(n.namespace_, sizeof(n.namespace_), "%s", ns);
		n.kind = STORE_NODE_NSDIR;
		goto done;
	}
	case CAFS_FORMAT_NONE:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_SWIFT:
	case CAFS_FORMAT_CARGO:
		break;
	}
	return not_found(path, e);
out:
	if (r < 0)
		return r;
done:
	*ret = n;
	return 0;
}

/* one read snapshot for all its queries (store_read_begin()) */
int store_view_resolve(struct store *s, const char *path, struct store_node *ret,
		       struct cafs_error *e)
{
	bool mine = store_read_begin(s);
	int r = view_resolve_snap(s, path, ret, e);

	if (mine)
		store_read_end(s);
	return r;
}

/* The path of a folder node, for resolving its children. */
static void node_path(const struct store_node *n, char *buf, size_t bufsz)
{
	char ns[CAFS_PACKAGE_FIELD_MAX + 1];
	const char *fmt = cafs_format_name(n->format);
	size_t o = 0;

	buf[0] = '\0';
	if (n->kind == STORE_NODE_ROOT)
		return;
	o += (size_t)snprintf(buf + o, bufsz - o, "/%s", n->repository);
	if (n->kind == STORE_NODE_REPO || o >= bufsz)
		return;
	o += (size_t)snprintf(buf + o, bufsz - o, "/%s", fmt);
	if (n->kind == STORE_NODE_FORMAT || o >= bufsz)
		return;
	(void)snprintf(ns, sizeof(ns), "%s", n->namespace_);
	if (n->format == CAFS_FORMAT_MAVEN)
		for (char *p = ns; *p; p++)
			if (*p == '.')
				*p = '/';
	if (ns[0])
		o += (size_t)snprintf(buf + o, bufsz - o,
				      n->format == CAFS_FORMAT_NPM ? "/@%s" : "/%s", ns);
	if (n->kind == STORE_NODE_NSDIR || o >= bufsz)
		return;
	o += (size_t)snprintf(buf + o, bufsz - o, "/%s", n->package);
	if (n->kind == STORE_NODE_PACKAGE || o >= bufsz)
		return;
	(void)snprintf(buf + o, bufsz - o, "/%s", n->version);
}

/* A growable list of distinct names (a folder's entries): an array and a hash set over it. */
struct names {
	char **v;
	unsigned char *kind; /* per name: an enum store_node_kind + 1 when known, else 0 */
	size_t n, cap;
	uint32_t *slots; /* open addressing: index + 1; 0 = empty */
	size_t nslots;   /* a power of two, at least twice n */
	bool oom;
};

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->kind);
	free(l->slots);
	*l = (struct names){0};
}

/* The slot of @name: where it is, or the empty slot where it would go. */
static size_t names_slot(const struct names *l, const char *name)
{
	size_t mask = l->nslots - 1;
	size_t i = (size_t)XXH3_64bits(name, strlen(name)) & mask;

	while (l->slots[i] && strcmp(l->v[l->slots[i] - 1], name) != 0)
		i = (i + 1) & mask;
	return i;
}

static bool names_grow(struct names *l)
{
	if (l->n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **nv = reallocarray(l->v, cap, sizeof(*nv));
		unsigned char *nk;

		if (!nv)
			return false;
		l->v = nv;
		nk = realloc(l->kind, cap);
		if (!nk)
			return false;
		l->kind = nk;
		l->cap = cap;
	}
	if (2 * (l->n + 1) > l->nslots) {
		size_t ns = l->nslots ? l->nslots * 2 : 128;
		uint32_t *old = l->slots;
		size_t old_n = l->nslots;

		l->slots = calloc(ns, sizeof(*l->slots));
		if (!l->slots) {
			l->slots = old;
			return false;
		}
		l->nslots = ns;
		for (size_t i = 0; i < old_n; i++)
			if (old[i])
				l->slots[names_slot(l, l->v[old[i] - 1])] = old[i];
		free(old);
	}
	return true;
}

/* Add @name, whose node kind the caller knows (@kind + 1), or not (0). */
static void names_add_kind(struct names *l, const char *name, unsigned char kind);

static void names_add(struct names *l, const char *name)
{
	names_add_kind(l, name, 0);
}

static void names_add_kind(struct names *l, const char *name, unsigned char kind)
{
	char *copy;
	size_t slot;

	if (l->oom)
		return;
	if (l->nslots && l->slots[names_slot(l, name)])
		return;
	if (l->n >= UINT32_MAX - 1 || !names_grow(l) || !(copy = strdup(name))) {
		l->oom = true;
		return;
	}
	slot = names_slot(l, name);
	l->kind[l->n] = kind;
	l->v[l->n++] = copy;
	l->slots[slot] = (uint32_t)l->n;
}

struct list_ctx {
	struct names *names;
	enum cafs_format format;
	const char *prefix; /* maven: the group being listed, "" at the top */
	bool scoped;        /* npm at the top: scopes become "@scope" */
};

static int list_cb(void *ctx, const char *ns, const char *name)
{
	struct list_ctx *c = ctx;
	char buf[CAFS_PACKAGE_FIELD_MAX + 2];

	/* what a listed package or namespace is, so the listing need not resolve it again */
	switch (c->format) {
	case CAFS_FORMAT_PYPI:
		names_add_kind(c->names, name, STORE_NODE_PACKAGE + 1);
		break;
	case CAFS_FORMAT_NPM:
		if (c->scoped && ns[0]) {
			(void)snprintf(buf, sizeof(buf), "@%s", ns);
			names_add_kind(c->names, buf, STORE_NODE_NSDIR + 1);
		} else {
			names_add_kind(c->names, name, STORE_NODE_PACKAGE + 1);
		}
		break;
	case CAFS_FORMAT_GENERIC:
		names_add_kind(c->names, c->prefix ? name : ns,
			       c->prefix ? STORE_NODE_PACKAGE + 1 : STORE_NODE_NSDIR + 1);
		break;
	case CAFS_FORMAT_MAVEN: {
		size_t pl = strlen(c->prefix);

		if (strcmp(ns, c->prefix) == 0) {
			names_add(c->names, name);
		} else {
			const char *rest = ns + pl + (pl ? 1 : 0);

			(void)snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(rest, "."), rest);
			names_add(c->names, buf);
		}
		break;
	}
	case CAFS_FORMAT_NONE:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_SWIFT:
	case CAFS_FORMAT_CARGO:
		break;
	}
	return c->names->oom ? -ENOMEM : 0;
}

struct ext_names_ctx {
	struct names *l;
	bool maven;
};

static int ext_name_cb(void *ctx, const char *file)
{
	struct ext_names_ctx *c = ctx;

	names_add(c->l, file);
	for (size_t i = 0; c->maven && i < ARRAY_SIZE(checksum_algos); i++) {
		char buf[4 * CAFS_ASSET_NAME_MAX + 16];

		(void)snprintf(buf, sizeof(buf), "%s.%s", file, checksum_algos[i]);
		names_add(c->l, buf);
	}
	return c->l->oom ? -ENOMEM : 0;
}

/* The files of version @v that its source has (and that a read would fetch). */
static int version_source_names(struct store *s, int64_t repo, const struct store_node *dir,
				const struct view_version *v, struct names *l, struct cafs_error *e)
{
	struct ext_names_ctx c = {l, dir->format == CAFS_FORMAT_MAVEN};
	struct store_search_node owner;
	struct ext_version ev;
	char conn[101];
	int r = view_version_source(s, repo, dir->format, dir->namespace_, dir->package, v, &ev,
				    &owner, conn, e);

	if (r <= 0)
		return r;
	if (dir->format == CAFS_FORMAT_MAVEN) {
		/* Maven has no file list: the two files every release has are asked for */
		static const char *const exts[] = {"pom", "jar"};

		for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
			char file[4 * CAFS_ASSET_NAME_MAX + 1];
			struct ext_file f;

			(void)snprintf(file, sizeof(file), "%.255s-%.255s.%s", dir->package,
				       dir->version, exts[i]);
			r = ext_find_file(s, conn, dir->namespace_, dir->package, &ev, file, &f, e);
			if (r < 0)
				return r;
		}
	}
	return ext_list_files(s, &ev, ext_name_cb, &c, e);
}

/* The names of a version folder: assets, and per format the files made beside them. */
static int version_names(struct store *s, int64_t repo, const struct store_node *dir,
			 struct names *l, struct cafs_error *e)
{
	struct view_version v;
	sqlite3_stmt *st;
	int rc;
	int r = view_find_version(s, repo, dir->format, dir->namespace_, dir->package, dir->version,
				  &v, e);

	if (r <= 0)
		return r < 0 ? r : cafs_error_set(e, CAFS_NOT_FOUND, 0, "version gone");
	r = version_source_names(s, repo, dir, &v, l, e);
	if (r < 0)
		return r;
	st = store_stmt(
		s,
		"SELECT name, metadata_blob_id IS NOT NULL FROM assets WHERE version_id = ? "
		"ORDER BY name",
		e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, v.external ? 0 : v.id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		char buf[4 * CAFS_ASSET_NAME_MAX + 16];

		names_add(l, name);
		if (dir->format == CAFS_FORMAT_PYPI && sqlite3_column_int(st, 1)) {
			(void)snprintf(buf, sizeof(buf), "%s.metadata", name);
			names_add(l, buf);
		}
		for (size_t i = 0;
		     dir->format == CAFS_FORMAT_MAVEN && i < ARRAY_SIZE(checksum_algos); i++) {
			(void)snprintf(buf, sizeof(buf), "%s.%s", name, checksum_algos[i]);
			names_add(l, buf);
		}
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "list assets", e);
	if (dir->format == CAFS_FORMAT_MAVEN && v.snapshot_build[0]) {
		names_add(l, "maven-metadata.xml");
		for (size_t i = 0; i < ARRAY_SIZE(checksum_algos); i++) {
			char buf[32];

			(void)snprintf(buf, sizeof(buf), "maven-metadata.xml.%s",
				       checksum_algos[i]);
			names_add(l, buf);
		}
	}
	return l->oom ? cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory") : 0;
}

/* The node of child @name of folder @dir, a package or namespace folder found by a listing. */
static void known_child(const struct store_node *dir, const char *name, enum store_node_kind kind,
			struct store_node *ret)
{
	struct store_node n = {.kind = kind, .format = dir->format, .status = -1};

	(void)snprintf(n.repository, sizeof(n.repository), "%s", dir->repository);
	if (kind == STORE_NODE_NSDIR)
		(void)snprintf(n.namespace_, sizeof(n.namespace_), "%s",
			       name[0] == '@' ? name + 1 : name);
	else {
		(void)snprintf(n.namespace_, sizeof(n.namespace_), "%s",
			       dir->kind == STORE_NODE_NSDIR ? dir->namespace_ : "");
		(void)snprintf(n.package, sizeof(n.package), "%s", name);
	}
	*ret = n;
}

static int view_readdir_snap(struct store *s, const struct store_node *dir,
			     int (*cb)(void *ctx, const char *name, const struct store_node *child),
			     void *ctx, struct cafs_error *e)
{
	struct names l = {0};
	char path[4096];
	int64_t repo = 0;
	int r = 0;

	if (dir->kind != STORE_NODE_ROOT && store_repo_id(s, dir->repository, &repo, e) < 0)
		return -ENOENT;
	switch (dir->kind) {
	case STORE_NODE_ROOT: {
		struct store_repository *repos = NULL;
		size_t n = 0;

		r = store_repository_list(s, NULL, NULL, &repos, &n, e);
		for (size_t i = 0; r == 0 && i < n; i++)
			names_add(&l, repos[i].name);
		free(repos);
		break;
	}
	case STORE_NODE_REPO:
		for (size_t i = 0; i < ARRAY_SIZE(tree_formats); i++)
			names_add(&l, cafs_format_name(tree_formats[i]));
		break;
	case STORE_NODE_FORMAT: {
		struct list_ctx c = {&l, dir->format, "", dir->format == CAFS_FORMAT_NPM};

		if (dir->format == CAFS_FORMAT_PYPI)
			names_add(&l, "index.html");
		if (dir->format == CAFS_FORMAT_GENERIC)
			c.prefix = NULL;
		r = view_visit_packages(s, repo, dir->format,
					dir->format == CAFS_FORMAT_NPM ? NULL : NULL, NULL, list_cb,
					&c, e);
		break;
	}
	case STORE_NODE_NSDIR: {
		struct list_ctx c = {&l, dir->format, dir->namespace_, false};
		char prefix[CAFS_PACKAGE_FIELD_MAX + 2];

		r = view_visit_packages(s, repo, dir->format, dir->namespace_, NULL, list_cb, &c,
					e);
		if (r == 0 && dir->format == CAFS_FORMAT_MAVEN) {
			(void)snprintf(prefix, sizeof(prefix), "%s.", dir->namespace_);
			r = view_visit_packages(s, repo, dir->format, NULL, prefix, list_cb, &c, e);
		}
		break;
	}
	case STORE_NODE_PACKAGE: {
		struct view_version *vs = NULL;
		char(*vn)[CAFS_PACKAGE_FIELD_MAX + 1] = NULL;
		size_t n = 0;

		if (dir->format == CAFS_FORMAT_PYPI)
			names_add(&l, "index.html");
		if (dir->format == CAFS_FORMAT_MAVEN) {
			names_add(&l, "maven-metadata.xml");
			for (size_t i = 0; i < ARRAY_SIZE(checksum_algos); i++) {
				char buf[32];

				(void)snprintf(buf, sizeof(buf), "maven-metadata.xml.%s",
					       checksum_algos[i]);
				names_add(&l, buf);
			}
		}
		r = view_versions(s, repo, dir->format, dir->namespace_, dir->package, &vs, &vn, &n,
				  e);
		for (size_t i = 0; r == 0 && i < n; i++)
			names_add(&l, vn[i]);
		free(vs);
		free(vn);
		break;
	}
	case STORE_NODE_VERSION:
		r = version_names(s, repo, dir, &l, e);
		break;
	case STORE_NODE_ASSET:
	case STORE_NODE_SYNTH:
		names_free(&l);
		return cafs_error_set(e, CAFS_VALIDATION, ENOTDIR, "not a folder");
	}
	if (r == 0 && l.oom)
		r = cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	node_path(dir, path, sizeof(path));
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		struct store_node child;
		char cpath[8192];
		struct cafs_error ignored;

		if (l.kind && l.kind[i]) {
			/* a package or namespace the listing found visible: no second lookup */
			known_child(dir, l.v[i], (enum store_node_kind)(l.kind[i] - 1), &child);
		} else {
			(void)snprintf(cpath, sizeof(cpath), "%s/%s", path, l.v[i]);
			/* a name that stopped resolving in between is simply left out */
			if (store_view_resolve(s, cpath, &child, &ignored) < 0)
				continue;
		}
		r = cb(ctx, l.v[i], &child);
		if (r > 0) {
			r = 0;
			break;
		}
	}
	names_free(&l);
	return r;
}

/* one read snapshot for all its queries (store_read_begin()) */
int store_view_readdir(struct store *s, const struct store_node *dir,
		       int (*cb)(void *ctx, const char *name, const struct store_node *child),
		       void *ctx, struct cafs_error *e)
{
	bool mine = store_read_begin(s);
	int r = view_readdir_snap(s, dir, cb, ctx, e);

	if (mine)
		store_read_end(s);
	return r;
}

/*
 * Retain version row @src (found upstream) into repository @repo (spec §2.2): the package is
 * created on first arrival with ingest-style controls (publish=BLOCK, upstream=ALLOW, spec
 * decision 3), the version keeps status, revision, origin and metadata, and its assets point
 * at the same blobs. Returns the retained row's id.
 */
static int retain(struct store *s, int64_t repo, const struct store_node *n, int64_t src,
		  int64_t *ret_id, struct cafs_error *e)
{
	struct store_pkg_coord c = {.format = n->format};
	char resource[2048];
	char reason[256];
	sqlite3_stmt *st;
	int64_t pkg = 0, ver = 0;
	int r;

	(void)snprintf(c.namespace_, sizeof(c.namespace_), "%s", n->namespace_);
	(void)snprintf(c.package, sizeof(c.package), "%s", n->package);
	(void)snprintf(c.display, sizeof(c.display), "%s", n->package);
	(void)snprintf(c.version, sizeof(c.version), "%s", n->version);
	store_pkg_resource(s, n->repository, &c, resource, sizeof(resource));
	(void)snprintf(reason, sizeof(reason), "retained from upstream '%s'", n->source_repository);
	r = store_txn_begin(s, e);
	if (r == 0) {
		r = store_pkg_find(s, repo, &c, &pkg, NULL, NULL, e);
		if (r == 0) {
			st = store_stmt(
				s,
				"INSERT INTO packages (repository_id, format, namespace, "
				"name, display_name, origin_publish, origin_upstream, "
				"created_us) SELECT ?, format, namespace, name, display_name, "
				"'BLOCK', 'ALLOW', ? FROM packages WHERE id = (SELECT "
				"package_id FROM package_versions WHERE id = ?)",
				e);
			if (!st) {
				r = -EIO;
			} else {
				sqlite3_bind_int64(st, 1, repo);
				sqlite3_bind_int64(st, 2, store_now_us());
				sqlite3_bind_int64(st, 3, src);
				r = store_step_done(s, st, "create package", e);
				if (r == 0 && sqlite3_changes(s->db) == 0)
					r = cafs_error_set(e, CAFS_NOT_FOUND, 0,
							   "version '%s' is gone upstream",
							   n->version);
				pkg = sqlite3_last_insert_rowid(s->db);
			}
		} else if (r > 0) {
			r = 0;
		}
	}
	if (r == 0) {
		st = store_stmt(
			s,
			"INSERT INTO package_versions (package_id, version, status, revision, "
			"origin_type, entry_repository, entry_external_connection, "
			"published_us, display_name, summary, home_page, "
			"source_code_repository, licenses, readme, requires_python, "
			"maven_snapshot_build, created_us, updated_us) SELECT ?1, version, "
			"status, revision, origin_type, entry_repository, "
			"entry_external_connection, published_us, display_name, summary, "
			"home_page, source_code_repository, licenses, readme, "
			"requires_python, maven_snapshot_build, ?2, ?2 FROM package_versions "
			"WHERE id = ?3 ON CONFLICT (package_id, version) DO NOTHING",
			e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, pkg);
			sqlite3_bind_int64(st, 2, store_now_us());
			sqlite3_bind_int64(st, 3, src);
			r = store_step_done(s, st, "retain version", e);
		}
	}
	if (r == 0 && sqlite3_changes(s->db) == 1) {
		ver = sqlite3_last_insert_rowid(s->db);
		st = store_stmt(
			s,
			"INSERT INTO assets (version_id, name, blob_id, created_us, "
			"metadata_blob_id) SELECT ?, name, blob_id, ?, metadata_blob_id FROM "
			"assets WHERE version_id = ?",
			e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, ver);
			sqlite3_bind_int64(st, 2, store_now_us());
			sqlite3_bind_int64(st, 3, src);
			r = store_step_done(s, st, "retain assets", e);
		}
		if (r == 0) {
			st = store_stmt(s,
					"INSERT INTO dependencies SELECT ?, position, namespace, "
					"package, dependency_type, version_requirement FROM "
					"dependencies WHERE version_id = ?",
					e);
			if (!st) {
				r = -EIO;
			} else {
				sqlite3_bind_int64(st, 1, ver);
				sqlite3_bind_int64(st, 2, src);
				r = store_step_done(s, st, "retain dependencies", e);
			}
		}
		if (r == 0)
			r = store_audit(s, "RetainPackageVersion", resource, "ok", reason, e);
	} else if (r == 0) {
		/* retained meanwhile by another reader, or the source changed since it was
		 * found: only a Published or Unlisted record may be served */
		enum store_status status;

		r = store_pkg_find_version(s, pkg, n->version, &ver, &status, e);
		if (r > 0 && (status == STORE_STATUS_PUBLISHED || status == STORE_STATUS_UNLISTED))
			r = 0;
		else if (r >= 0)
			r = cafs_error_set(e, CAFS_NOT_FOUND, 0,
					   "version '%s' is no longer available", n->version);
	}
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		store_audit_refusal(s, "RetainPackageVersion", resource, e);
		return r;
	}
	*ret_id = ver;
	return 0;
}

static bool local_asset(struct store *s, int64_t ver, const char *file)
{
	sqlite3_stmt *st =
		store_stmt(s, "SELECT 1 FROM assets WHERE version_id = ? AND name = ?", NULL);
	bool hit;

	if (!st)
		return true; /* the normal path reports the error */
	sqlite3_bind_int64(st, 1, ver);
	sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
	hit = sqlite3_step(st) == SQLITE_ROW;
	(void)sqlite3_reset(st);
	return hit;
}

/* An asset only a source has: fetch, verify, store and retain it (spec §2.2), then open it. */
static int open_external(struct store *s, int64_t repo, const struct store_node *n,
			 const struct view_version *v, struct cafs_error *e)
{
	struct store_search_node owner, req = {.id = repo};
	struct store_pkg_coord c = {.format = n->format};
	struct store_blob blob;
	struct ext_version ev;
	struct ext_file f;
	char conn[101];
	int r = view_version_source(s, repo, n->format, n->namespace_, n->package, v, &ev, &owner,
				    conn, e);

	if (r == 0 || (r > 0 && (r = ext_find_file(s, conn, n->namespace_, n->package, &ev, n->file,
						   &f, e)) == 0))
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "asset '%s' of '%s' %s is gone",
				      n->file, n->package, n->version);
	if (r < 0)
		return r;
	(void)snprintf(req.name, sizeof(req.name), "%s", n->repository);
	(void)snprintf(c.namespace_, sizeof(c.namespace_), "%s", n->namespace_);
	(void)snprintf(c.package, sizeof(c.package), "%s", n->package);
	if (n->format == CAFS_FORMAT_NPM && n->namespace_[0])
		(void)snprintf(c.display, sizeof(c.display), "@%s/%s", n->namespace_, n->package);
	else
		(void)snprintf(c.display, sizeof(c.display), "%s", n->package);
	r = ext_ingest(s, &req, &owner, conn, &c, &ev, &f, &blob, e);
	if (r < 0)
		return r;
	if (r > 0) {
		/* fetched by another reader meanwhile: the owner's record is found now */
		struct view_version now;

		r = view_find_version(s, repo, n->format, n->namespace_, n->package, n->version,
				      &now, e);
		if (r <= 0 || now.external || now.own)
			return r < 0 ? r
				     : cafs_error_set(e, CAFS_NOT_FOUND, 0,
						      "version '%s' of '%s' moved while fetched",
						      n->version, n->package);
		return store_view_open(s, n, e);
	}
	return store_blob_open(s, &blob, e);
}

int store_view_open(struct store *s, const struct store_node *n, struct cafs_error *e)
{
	struct view_version v;
	struct store_blob blob;
	sqlite3_stmt *st;
	int64_t repo, ver, blob_id = 0;
	int rc;
	int r;

	if (n->kind != STORE_NODE_ASSET)
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL, "'%s' is not an asset", n->file);
	r = store_repo_id(s, n->repository, &repo, e);
	if (r < 0)
		return r;
	r = view_find_version(s, repo, n->format, n->namespace_, n->package, n->version, &v, e);
	if (r <= 0)
		return r < 0 ? r
			     : cafs_error_set(e, CAFS_NOT_FOUND, 0, "version '%s' of '%s' is gone",
					      n->version, n->package);
	if (v.status == STORE_STATUS_ARCHIVED || v.status == STORE_STATUS_UNFINISHED)
		return cafs_error_set(e, CAFS_ACCESS_DENIED, EACCES,
				      "version '%s' of '%s' is %s: its assets cannot be read",
				      n->version, n->package,
				      store_status_name((enum store_status)v.status));
	if (v.external || !local_asset(s, v.id, n->file))
		return open_external(s, repo, n, &v, e);
	ver = v.id;
	if (!v.own) {
		struct store_node src = *n;

		(void)snprintf(src.source_repository, sizeof(src.source_repository), "%s", v.repo);
		r = retain(s, repo, &src, v.id, &ver, e);
		if (r < 0)
			return r;
	}
	st = store_stmt(s, "SELECT blob_id FROM assets WHERE version_id = ? AND name = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	sqlite3_bind_text(st, 2, n->file, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		blob_id = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE
			       ? cafs_error_set(e, CAFS_NOT_FOUND, 0, "asset '%s' is gone", n->file)
			       : store_sql_error(s, rc, "look up asset", e);
	r = store_blob_get(s, blob_id, &blob, e);
	if (r < 0)
		return r;
	return store_blob_open(s, &blob, e);
}

int store_view_generation(struct store *s, uint64_t *ret, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, "PRAGMA data_version", e);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		(void)sqlite3_reset(st);
		return store_sql_error(s, rc, "read data_version", e);
	}
	*ret = ((uint64_t)sqlite3_column_int64(st, 0) << 32) + s->commits;
	(void)sqlite3_reset(st);
	return 0;
}
