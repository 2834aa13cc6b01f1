/* SPDX-License-Identifier: MIT */
/*
 * External connections as real sources (DESIGN.md §8, spec §1.4, §2.1-§2.2): where each
 * connection's source is, the cached answers of the source (one listing per package: its
 * versions, files and npm dist-tags), and the ingest of a file: fetched once, verified against
 * the digest the source publishes, stored in the blob store and recorded as an EXTERNAL version
 * in the repository owning the connection and in the requesting repository.
 *
 * Caching: a listing is fresh for the connection's ttl (10 minutes by default); a "no such
 * package" answer for its negative_ttl (1 minute). Past that the source is asked again; when it
 * cannot answer (unreachable, timeout, 5xx, a body that is not its format) the cached listing
 * is served for max_stale more with a logged warning, and after that, or with nothing cached,
 * the caller gets EIO with the reason: never an empty answer that looks like "no such
 * package". Inside a transaction only the cache answers (no network under a write lock).
 *
 * Concurrency: one fetch per listing and per file at a time, across threads and processes:
 * an flock on tmp/locks/<bucket>.lock (the bucket a hash of the URL); whoever waited looks at
 * the cache or the rows again before fetching.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/extract.h"
#include "store/fetch.h"
#include "store/group.h"
#include "store/internal.h"
#include "store/remote.h"
#include "store/store.h"

#define LOCK_BUCKETS 4096
#define CHECKSUM_MAX 4096
#define PYPI_ACCEPT                                                                        \
	"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, " \
	"text/html;q=0.1"

/* ---- where a connection's source is ---------------------------------------------------- */

/* The value of "key = value" in the INI file @path, section [global] or [install]. */
static bool ini_get(const char *path, const char *key, char *buf, size_t bufsz)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	bool in_section = false, found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		char *eq, *end;

		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '[') {
			in_section =
				strncmp(p, "[global]", 8) == 0 || strncmp(p, "[install]", 9) == 0;
			continue;
		}
		if (!in_section || *p == '#' || *p == ';')
			continue;
		eq = strchr(p, '=');
		if (!eq)
			continue;
		end = eq;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - p) != strlen(key) || strncmp(p, key, strlen(key)) != 0)
			continue;
		p = eq + 1 + strspn(eq + 1, " \t");
		(void)snprintf(buf, bufsz, "%s", p);
		found = true; /* the last one in the file wins, as in pip */
	}
	(void)fclose(f);
	return found && buf[0];
}

/* The value of "key=value" in the npmrc file @path. */
static bool npmrc_get(const char *path, const char *key, char *buf, size_t bufsz)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		size_t kl = strlen(key);

		p[strcspn(p, "\r\n")] = '\0';
		if (strncmp(p, key, kl) != 0)
			continue;
		p += kl;
		p += strspn(p, " \t");
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " \t");
		(void)snprintf(buf, bufsz, "%s", p);
		found = buf[0] != '\0';
	}
	(void)fclose(f);
	return found;
}

/*
 * The client tool's own setting for @format, in the tool's precedence: pip's index-url
 * (PIP_INDEX_URL, then PIP_CONFIG_FILE, the user's and the site's pip.conf), npm's registry
 * (npm_config_registry, then the user's and the global npmrc). Maven has no single setting:
 * its source must be configured.
 */
static bool client_default(enum cafs_format format, char *url, size_t urlsz, char *origin,
			   size_t originsz)
{
	const char *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char path[4096];
	const char *v;

	if (format == CAFS_FORMAT_PYPI) {
		const char *files[5] = {NULL};
		char user1[4096] = "", user2[4096] = "";
		size_t n = 0;

		if ((v = getenv("PIP_INDEX_URL")) && *v) {
			(void)snprintf(url, urlsz, "%s", v);
			(void)snprintf(origin, originsz, "PIP_INDEX_URL");
			return true;
		}
		/* highest precedence first */
		files[n++] = getenv("PIP_CONFIG_FILE");
		if (xdg && *xdg)
			(void)snprintf(user1, sizeof(user1), "%s/pip/pip.conf", xdg);
		else if (home)
			(void)snprintf(user1, sizeof(user1), "%s/.config/pip/pip.conf", home);
		if (home)
			(void)snprintf(user2, sizeof(user2), "%s/.pip/pip.conf", home);
		files[n++] = user1;
		files[n++] = user2;
		files[n++] = "/etc/pip.conf";
		files[n++] = "/etc/xdg/pip/pip.conf";
		for (size_t i = 0; i < n; i++)
			if (files[i] && files[i][0] && ini_get(files[i], "index-url", url, urlsz)) {
				(void)snprintf(origin, originsz, "pip's index-url in %s", files[i]);
				return true;
			}
		return false;
	}
	if (format == CAFS_FORMAT_NPM) {
		if (((v = getenv("npm_config_registry")) && *v) ||
		    ((v = getenv("NPM_CONFIG_REGISTRY")) && *v)) {
			(void)snprintf(url, urlsz, "%s", v);
			(void)snprintf(origin, originsz, "npm_config_registry");
			return true;
		}
		if (home) {
			(void)snprintf(path, sizeof(path), "%s/.npmrc", home);
			if (npmrc_get(path, "registry", url, urlsz)) {
				(void)snprintf(origin, originsz, "npm's registry in %.200s", path);
				return true;
			}
		}
		if (npmrc_get("/etc/npmrc", "registry", url, urlsz)) {
			(void)snprintf(origin, originsz, "npm's registry in /etc/npmrc");
			return true;
		}
		if (npmrc_get("/usr/etc/npmrc", "registry", url, urlsz)) {
			(void)snprintf(origin, originsz, "npm's registry in /usr/etc/npmrc");
			return true;
		}
	}
	return false;
}

int ext_conn_load(struct store *s, const char *name, struct ext_conn *ret, struct cafs_error *e)
{
	struct ext_conn c = {.ttl_s = 600,
			     .negative_ttl_s = 60,
			     .max_stale_s = 86400,
			     .timeout_s = 30,
			     .retries = 2};
	sqlite3_stmt *st;
	int rc;

	c.format = cafs_external_connection_format(name, e);
	if (c.format == CAFS_FORMAT_NONE)
		return -EINVAL;
	(void)snprintf(c.name, sizeof(c.name), "%s", name);
	st = store_stmt(s,
			"SELECT url, ttl_s, negative_ttl_s, max_stale_s, timeout_s, retries FROM "
			"external_connection_sources WHERE name = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(c.url, sizeof(c.url), "%s",
			       (const char *)sqlite3_column_text(st, 0));
		c.ttl_s = sqlite3_column_int64(st, 1);
		c.negative_ttl_s = sqlite3_column_int64(st, 2);
		c.max_stale_s = sqlite3_column_int64(st, 3);
		c.timeout_s = sqlite3_column_int64(st, 4);
		c.retries = sqlite3_column_int(st, 5);
		c.configured = true;
		(void)snprintf(c.url_origin, sizeof(c.url_origin), "configured");
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "read source", e);
	if (!c.url[0] &&
	    client_default(c.format, c.url, sizeof(c.url), c.url_origin, sizeof(c.url_origin)) &&
	    strncmp(c.url, "https://", 8) != 0 && strncmp(c.url, "http://", 7) != 0 &&
	    strncmp(c.url, "file:///", 8) != 0)
		c.url[0] = '\0'; /* a setting we cannot use */
	if (!c.url[0])
		(void)snprintf(c.url_origin, sizeof(c.url_origin),
			       "not configured: set it with 'cafs configure-external-connection "
			       "--name %s --url URL'",
			       name);
	/* strip trailing slashes: URLs are built with one */
	for (size_t l = strlen(c.url); l > 8 && c.url[l - 1] == '/'; l--)
		c.url[l - 1] = '\0';
	*ret = c;
	return 0;
}

/* ---- logging and locks ------------------------------------------------------------------- */

/* An flock on the bucket of @key, across threads and processes; -1 when locks are unusable
 * (then fetches may happen twice, which costs time, never correctness). */
static int lock_key(struct store *s, const char *key)
{
	char name[64];
	int dfd, fd;

	if (mkdirat(s->tmp_fd, "locks", 0755) < 0 && errno != EEXIST)
		return -1;
	dfd = openat(s->tmp_fd, "locks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	(void)snprintf(name, sizeof(name), "%03x.lock",
		       (unsigned)(XXH3_64bits(key, strlen(key)) % LOCK_BUCKETS));
	fd = openat(dfd, name, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0644);
	(void)close(dfd);
	if (fd < 0)
		return -1;
	/*
	 * The wait and the fetch after it can be long, and the caller looks again once it holds
	 * the lock for what another reader committed meanwhile: a read snapshot would hide that
	 * (and hold back checkpoints for the whole fetch), so it ends here.
	 */
	store_read_end(s);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			(void)close(fd);
			return -1;
		}
	return fd;
}

static void unlock_key(int fd)
{
	if (fd >= 0)
		(void)close(fd); /* releases the flock */
}

static struct fetch_opts opts_of(struct store *s, const struct ext_conn *c, const char *accept)
{
	return (struct fetch_opts){.timeout_s = c->timeout_s > 0 ? c->timeout_s : 30,
				   .retries = c->retries,
				   .accept = accept,
				   .progress = s->progress,
				   .progress_ctx = s->progress_ctx};
}

/* ---- URLs ---------------------------------------------------------------------------------- */

static void maven_group_path(const char *group, char *buf, size_t bufsz)
{
	(void)snprintf(buf, bufsz, "%s", group);
	for (char *p = buf; *p; p++)
		if (*p == '.')
			*p = '/';
}

/* The URL of a package's listing at connection @c. */
static void listing_url(const struct ext_conn *c, const char *ns, const char *name, char *buf,
			size_t bufsz)
{
	bool file = fetch_url_is_file(c->url);
	char g[1024];

	switch (c->format) {
	case CAFS_FORMAT_PYPI:
		(void)snprintf(buf, bufsz, "%s/%s/%s", c->url, name, file ? "index.html" : "");
		break;
	case CAFS_FORMAT_NPM:
		if (file)
			(void)snprintf(buf, bufsz, "%s/%s%s%s%s/index.json", c->url,
				       ns[0] ? "@" : "", ns, ns[0] ? "/" : "", name);
		else
			(void)snprintf(buf, bufsz, "%s/%s%s%s%s", c->url, ns[0] ? "@" : "", ns,
				       ns[0] ? "%2f" : "", name);
		break;
	case CAFS_FORMAT_MAVEN:
		maven_group_path(ns, g, sizeof(g));
		(void)snprintf(buf, bufsz, "%s/%s/%s/maven-metadata.xml", c->url, g, name);
		break;
	case CAFS_FORMAT_NONE:
	case CAFS_FORMAT_GENERIC:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_SWIFT:
	case CAFS_FORMAT_CARGO:
		buf[0] = '\0';
		break;
	}
}

/*
 * May a source at @base hand out @url? An http(s) source only http(s) URLs: a page on a
 * registry must never make cafs read a local file. A file:// mirror may point anywhere.
 */
static bool url_allowed(const char *base, const char *url)
{
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "file:///", 8) != 0)
		return false;
	return fetch_url_is_file(base) || !fetch_url_is_file(url);
}

/* ---- listings ------------------------------------------------------------------------------ */

struct cached {
	int64_t id;
	bool found;
	int64_t fetched_us;
};

static int cached_get(struct store *s, const char *conn, const char *ns, const char *name,
		      struct cached *ret, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "SELECT id, found, fetched_us FROM external_listings WHERE "
				      "connection = ? AND namespace = ? AND name = ?",
				      e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, conn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->id = sqlite3_column_int64(st, 0);
		ret->found = sqlite3_column_int(st, 1) != 0;
		ret->fetched_us = sqlite3_column_int64(st, 2);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "read cached listing", e);
	return rc == SQLITE_ROW;
}

static bool fresh(const struct ext_conn *c, const struct cached *k, int64_t now)
{
	int64_t ttl = k->found ? c->ttl_s : c->negative_ttl_s;

	return now - k->fetched_us < ttl * 1000000;
}

static int exec_bind(struct store *s, const char *sql, int64_t id, const char *what,
		     struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s, sql, e);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(s, st, what, e);
}

/* Replace the cached answer for a package: @l NULL = "no such package". */
static int cache_put(struct store *s, const struct ext_conn *c, const char *ns, const char *name,
		     const char *url, const struct remote_listing *l, int64_t *ret_id,
		     struct cafs_error *e)
{
	sqlite3_stmt *st;
	int64_t id = 0, now = store_now_us();
	int r = store_txn_begin(s, e);

	if (r < 0)
		return r;
	st = store_stmt(s,
			"INSERT INTO external_listings (connection, namespace, name, url, found, "
			"fetched_us) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (connection, namespace, "
			"name) DO UPDATE SET url = excluded.url, found = excluded.found, "
			"fetched_us = excluded.fetched_us RETURNING id",
			e);
	if (!st) {
		r = -EIO;
	} else {
		sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, url, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, l != NULL);
		sqlite3_bind_int64(st, 6, now);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		r = r == SQLITE_ROW ? 0 : store_sql_error(s, r, "cache listing", e);
		(void)sqlite3_reset(st);
	}
	if (r == 0)
		r = exec_bind(s, "DELETE FROM external_versions WHERE listing_id = ?", id,
			      "clear cached versions", e);
	if (r == 0)
		r = exec_bind(s, "DELETE FROM external_dist_tags WHERE listing_id = ?", id,
			      "clear cached tags", e);
	/* files the new answer lists again keep what was probed of them (their size) */
	if (r == 0)
		r = exec_bind(s, "UPDATE external_files SET present = -1 WHERE listing_id = ?", id,
			      "mark cached files", e);
	for (size_t i = 0; r == 0 && l && i < l->n_versions; i++) {
		st = store_stmt(s,
				"INSERT OR IGNORE INTO external_versions (listing_id, version, "
				"position, published_us, yanked) VALUES (?, ?, ?, ?, ?)",
				e);
		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, l->versions[i].version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)i);
		/* a source that gives no times (PEP 503, Maven): "first seen now", in its order */
		sqlite3_bind_int64(st, 4,
				   l->versions[i].published_us > 0
					   ? l->versions[i].published_us
					   : now - (int64_t)(l->n_versions - i));
		sqlite3_bind_int(st, 5, l->versions[i].yanked);
		r = store_step_done(s, st, "cache version", e);
	}
	for (size_t i = 0; r == 0 && l && i < l->n_files; i++) {
		const struct remote_file *f = &l->files[i];

		if (!url_allowed(c->url, f->url))
			continue;
		st = store_stmt(
			s,
			"INSERT INTO external_files (listing_id, version, file, url, present, "
			"hash_algo, hash_hex, size, requires_python, yanked, probed_us) VALUES "
			"(?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, 0) ON CONFLICT (listing_id, "
			"version, "
			"file) DO UPDATE SET size = CASE WHEN excluded.size >= 0 THEN "
			"excluded.size "
			"WHEN url = excluded.url AND coalesce(hash_hex, '') = "
			"coalesce(excluded.hash_hex, '') AND present <> 0 THEN size ELSE -1 END, "
			"url = excluded.url, present = 1, hash_algo = excluded.hash_algo, hash_hex "
			"= "
			"excluded.hash_hex, requires_python = excluded.requires_python, yanked = "
			"excluded.yanked",
			e);
		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, f->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, f->url, -1, SQLITE_STATIC);
		if (f->hash != REMOTE_HASH_NONE) {
			sqlite3_bind_text(st, 5, remote_hash_name(f->hash), -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, f->hash_hex, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int64(st, 7, f->size);
		if (f->requires_python)
			sqlite3_bind_text(st, 8, f->requires_python, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 9, f->yanked);
		r = store_step_done(s, st, "cache file", e);
	}
	/* Maven files are found by probing: keep the probes of versions still listed */
	if (r == 0)
		r = exec_bind(s,
			      c->format == CAFS_FORMAT_MAVEN
				      ? "DELETE FROM external_files WHERE listing_id = ?1 AND "
					"version NOT IN (SELECT version FROM external_versions "
					"WHERE listing_id = ?1)"
				      : "DELETE FROM external_files WHERE listing_id = ? AND "
					"present = -1",
			      id, "drop cached files", e);
	if (r == 0 && c->format == CAFS_FORMAT_MAVEN)
		r = exec_bind(s,
			      "UPDATE external_files SET present = 1 WHERE listing_id = ? AND "
			      "present = -1",
			      id, "keep probed files", e);
	for (size_t i = 0; r == 0 && l && i < l->n_tags; i++) {
		st = store_stmt(s,
				"INSERT OR REPLACE INTO external_dist_tags (listing_id, tag, "
				"version) VALUES (?, ?, ?)",
				e);
		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, l->tags[i].tag, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, l->tags[i].version, -1, SQLITE_STATIC);
		r = store_step_done(s, st, "cache tag", e);
	}
	if (r == 0)
		r = store_txn_commit(s, e);
	else
		store_txn_rollback(s);
	if (r == 0)
		*ret_id = id;
	return r;
}

/* Ask the source for a package's listing: 1 parsed into @l, 0 absent, or an IO error. */
static int fetch_listing(struct store *s, const struct ext_conn *c, const char *ns,
			 const char *name, const char *url, struct remote_listing *l,
			 struct cafs_error *e)
{
	struct fetch_opts o = opts_of(s, c, c->format == CAFS_FORMAT_PYPI ? PYPI_ACCEPT : NULL);
	struct fetch_info info = {0};
	_cleanup_free_ char *body = NULL;
	char full[CAFS_PACKAGE_FIELD_MAX * 2 + 3];
	size_t len = 0;
	int r;

	o.progress = NULL; /* a listing is small: progress is for files */
	r = fetch_mem(url, &o, REMOTE_BODY_MAX, &body, &len, &info, e);
	if (r == 0 && fetch_url_is_file(c->url)) {
		/* a mirror folder that is not there (an unmounted share) is no answer at all */
		struct stat st;
		const char *path = c->url + strlen("file://");

		if (!strchr(path, '%') && (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)))
			return cafs_error_set(e, CAFS_IO, EIO, "mirror folder %s is missing", path);
	}
	if (r <= 0)
		return r;
	switch (c->format) {
	case CAFS_FORMAT_PYPI:
		if (strstr(info.content_type, "application/vnd.pypi.simple.v1+json"))
			r = remote_parse_pypi_json(body, len, info.url, name, l, e);
		else
			r = remote_parse_pypi_html(body, len, info.url, name, l, e);
		break;
	case CAFS_FORMAT_NPM:
		(void)snprintf(full, sizeof(full), "%s%s%s%s", ns[0] ? "@" : "", ns,
			       ns[0] ? "/" : "", name);
		r = remote_parse_packument(body, len, info.url, full, l, e);
		break;
	case CAFS_FORMAT_MAVEN:
		r = remote_parse_maven_metadata(body, len, ns, name, l, e);
		break;
	case CAFS_FORMAT_NONE:
	case CAFS_FORMAT_GENERIC:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_SWIFT:
	case CAFS_FORMAT_CARGO:
		r = cafs_error_set(e, CAFS_VALIDATION, EINVAL, "no source format for %s", c->name);
		break;
	}
	if (r < 0) {
		/* a body that is not its format is the source's failure, not ours */
		struct cafs_error why = *e;

		remote_listing_free(l);
		return cafs_error_set(e, CAFS_IO, EIO, "%s: %s", url, why.msg);
	}
	return 1;
}

int ext_listing(struct store *s, const char *conn, const char *ns, const char *name, bool force,
		int64_t *ret_listing, struct cafs_error *e)
{
	struct remote_listing l = {0};
	struct ext_conn c;
	struct cached k = {0};
	char url[8192];
	int64_t now = store_now_us();
	int have, lock, r;

	r = ext_conn_load(s, conn, &c, e);
	if (r < 0)
		return r;
	have = cached_get(s, conn, ns, name, &k, e);
	if (have < 0)
		return have;
	if (s->txn_depth > 0 || (have && !force && fresh(&c, &k, now))) {
		*ret_listing = k.id;
		return have && k.found;
	}
	if (!c.url[0])
		return cafs_error_set(e, CAFS_IO, EIO, "external connection %s has no source: %s",
				      conn, c.url_origin);
	listing_url(&c, ns, name, url, sizeof(url));
	lock = lock_key(s, url);
	/* someone may have fetched it while we waited */
	have = cached_get(s, conn, ns, name, &k, e);
	if (have > 0 && k.fetched_us >= now && !force) {
		unlock_key(lock);
		*ret_listing = k.id;
		return k.found;
	}
	r = have < 0 ? have : fetch_listing(s, &c, ns, name, url, &l, e);
	if (r >= 0) {
		int64_t id = 0;
		int w = cache_put(s, &c, ns, name, url, r > 0 ? &l : NULL, &id, e);

		remote_listing_free(&l);
		unlock_key(lock);
		if (w < 0)
			return w;
		*ret_listing = id;
		return r;
	}
	unlock_key(lock);
	/* a refresh asked for the source's answer: its failure is the answer (the cache stays) */
	if (!force && have > 0 && now - k.fetched_us < (c.ttl_s + c.max_stale_s) * 1000000) {
		store_log(STORE_LOG_WARNING,
			  "serving the cached list of %s%s%s from %s (%llds old): %s", ns,
			  ns[0] ? "/" : "", name, conn, (long long)((now - k.fetched_us) / 1000000),
			  e->msg);
		*ret_listing = k.id;
		return k.found;
	}
	{
		struct cafs_error why = *e;

		store_log(STORE_LOG_WARNING, "%s: no usable list of %s%s%s: %s", conn, ns,
			  ns[0] ? "/" : "", name, why.msg);
		return cafs_error_set(e, CAFS_IO, EIO, "source %s cannot list %s%s%s: %s", conn, ns,
				      ns[0] ? "/" : "", name, why.msg);
	}
}

static void version_from_row(sqlite3_stmt *st, int64_t listing, struct ext_version *v)
{
	*v = (struct ext_version){.listing_id = listing};
	(void)snprintf(v->version, sizeof(v->version), "%s",
		       (const char *)sqlite3_column_text(st, 0));
	v->published_us = sqlite3_column_int64(st, 1);
	v->yanked = sqlite3_column_int(st, 2) != 0;
}

int ext_find_version(struct store *s, int64_t listing, const char *version, struct ext_version *ret,
		     struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "SELECT version, published_us, yanked FROM external_versions "
				      "WHERE listing_id = ? AND version = ?",
				      e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, listing);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		version_from_row(st, listing, ret);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "read cached version", e);
	return rc == SQLITE_ROW;
}

int ext_list_versions(struct store *s, int64_t listing, struct ext_version **ret, size_t *ret_n,
		      struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "SELECT version, published_us, yanked FROM external_versions "
				      "WHERE listing_id = ? ORDER BY position",
				      e);
	struct ext_version *list = NULL;
	size_t n = 0;
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, listing);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ext_version *nl = reallocarray(list, n + 1, sizeof(*list));

		if (!nl) {
			(void)sqlite3_reset(st);
			free(list);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		list = nl;
		version_from_row(st, listing, &list[n++]);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return store_sql_error(s, rc, "list cached versions", e);
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

int ext_dist_tag(struct store *s, int64_t listing, const char *tag, char *ret, size_t retsz,
		 struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s, "SELECT version FROM external_dist_tags WHERE listing_id = ? AND tag = ?", e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, listing);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		(void)snprintf(ret, retsz, "%s", (const char *)sqlite3_column_text(st, 0));
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "read cached tag", e);
	return rc == SQLITE_ROW;
}

/* ---- files ---------------------------------------------------------------------------------- */

static int file_row(struct store *s, int64_t listing, const char *version, const char *file,
		    struct ext_file *ret, int *ret_present, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(s,
			   "SELECT url, present, coalesce(hash_algo, ''), "
			   "coalesce(hash_hex, ''), size, coalesce(requires_python, ''), "
			   "yanked, probed_us FROM external_files WHERE listing_id = ? "
			   "AND version = ? AND file = ?",
			   e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, listing);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, file, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = (struct ext_file){.size = sqlite3_column_int64(st, 4),
					 .yanked = sqlite3_column_int(st, 6) != 0,
					 .probed_us = sqlite3_column_int64(st, 7)};
		(void)snprintf(ret->name, sizeof(ret->name), "%s", file);
		(void)snprintf(ret->url, sizeof(ret->url), "%s",
			       (const char *)sqlite3_column_text(st, 0));
		*ret_present = sqlite3_column_int(st, 1);
		(void)snprintf(ret->hash_algo, sizeof(ret->hash_algo), "%s",
			       (const char *)sqlite3_column_text(st, 2));
		(void)snprintf(ret->hash_hex, sizeof(ret->hash_hex), "%s",
			       (const char *)sqlite3_column_text(st, 3));
		(void)snprintf(ret->requires_python, sizeof(ret->requires_python), "%s",
			       (const char *)sqlite3_column_text(st, 5));
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "read cached file", e);
	return rc == SQLITE_ROW;
}

static int file_put(struct store *s, int64_t listing, const char *version, const struct ext_file *f,
		    int present, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s,
		"INSERT OR REPLACE INTO external_files (listing_id, version, file, url, present, "
		"hash_algo, hash_hex, size, requires_python, yanked, probed_us) VALUES (?, ?, ?, "
		"?, ?, nullif(?, ''), nullif(?, ''), ?, nullif(?, ''), ?, ?)",
		e);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, listing);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->url, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, present);
	sqlite3_bind_text(st, 6, f->hash_algo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, f->hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, f->size);
	sqlite3_bind_text(st, 9, f->requires_python, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, f->yanked);
	sqlite3_bind_int64(st, 11, store_now_us());
	return store_step_done(s, st, "cache file", e);
}

/* Is @file "<artifact>-<version>[-classifier].<ext>"? */
static bool maven_file_of(const char *artifact, const char *version, const char *file)
{
	size_t al = strlen(artifact), vl = strlen(version);
	const char *p = file;

	if (strncmp(p, artifact, al) != 0 || p[al] != '-')
		return false;
	p += al + 1;
	if (strncmp(p, version, vl) != 0)
		return false;
	p += vl;
	return (*p == '.' || *p == '-') && p[1] && !strchr(p, '/');
}

/* Probe a Maven file: HEAD for its size, then its .sha1 (else .md5) for the digest. */
static int maven_probe(struct store *s, const struct ext_conn *c, const char *ns, const char *name,
		       const struct ext_version *v, const char *file, struct ext_file *ret,
		       struct cafs_error *e)
{
	static const enum remote_hash algos[] = {REMOTE_HASH_SHA1, REMOTE_HASH_MD5};
	struct fetch_opts o = opts_of(s, c, NULL);
	struct ext_file f = {.size = -1};
	char g[1024];
	int r;

	o.progress = NULL;
	maven_group_path(ns, g, sizeof(g));
	(void)snprintf(f.name, sizeof(f.name), "%s", file);
	(void)snprintf(f.url, sizeof(f.url), "%.2000s/%.500s/%.255s/%.255s/%.1000s", c->url, g,
		       name, v->version, file);
	r = fetch_head(f.url, &o, &f.size, e);
	if (r < 0)
		return r;
	if (r == 0) {
		(void)file_put(s, v->listing_id, v->version, &f, 0, e);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(algos) && !f.hash_hex[0]; i++) {
		_cleanup_free_ char *body = NULL;
		char url[sizeof(f.url) + 8];
		size_t len = 0;

		(void)snprintf(url, sizeof(url), "%s.%s", f.url, remote_hash_name(algos[i]));
		r = fetch_mem(url, &o, CHECKSUM_MAX, &body, &len, NULL, e);
		if (r < 0)
			return r;
		if (r > 0 && remote_parse_checksum_file(body, len, algos[i], f.hash_hex) == 0)
			(void)snprintf(f.hash_algo, sizeof(f.hash_algo), "%s",
				       remote_hash_name(algos[i]));
		else
			f.hash_hex[0] = '\0';
	}
	r = file_put(s, v->listing_id, v->version, &f, 1, e);
	if (r < 0)
		return r;
	*ret = f;
	return 1;
}

int ext_find_file(struct store *s, const char *conn, const char *ns, const char *name,
		  const struct ext_version *v, const char *file, struct ext_file *ret,
		  struct cafs_error *e)
{
	struct ext_conn c;
	int present = 0;
	int r = file_row(s, v->listing_id, v->version, file, ret, &present, e);

	if (r < 0)
		return r;
	if (s->txn_depth > 0)
		return r > 0 && present != 0;
	r = ext_conn_load(s, conn, &c, e) < 0 ? -EIO : r;
	if (r < 0)
		return r;
	if (c.format == CAFS_FORMAT_MAVEN) {
		if (r > 0 && present == 0 &&
		    store_now_us() - ret->probed_us < c.negative_ttl_s * 1000000)
			return 0;
		if (r > 0 && present != 0)
			return 1;
		if (!maven_file_of(name, v->version, file) || !c.url[0])
			return 0;
		return maven_probe(s, &c, ns, name, v, file, ret, e);
	}
	if (r == 0 || present == 0)
		return 0;
	if (ret->size < 0 && c.url[0]) {
		/* the index does not say: ask for the size once, so stat is exact */
		struct fetch_opts o = opts_of(s, &c, NULL);
		struct cafs_error ignored;
		int64_t size = -1;

		o.progress = NULL;
		r = fetch_head(ret->url, &o, &size, &ignored);
		if (r > 0 && size >= 0) {
			sqlite3_stmt *st = store_stmt(s,
						      "UPDATE external_files SET size = ? WHERE "
						      "listing_id = ? AND version = ? AND file = ?",
						      e);

			ret->size = size;
			if (st) {
				sqlite3_bind_int64(st, 1, size);
				sqlite3_bind_int64(st, 2, v->listing_id);
				sqlite3_bind_text(st, 3, v->version, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 4, file, -1, SQLITE_STATIC);
				(void)store_step_done(s, st, "cache file size", &ignored);
			}
		}
	}
	return 1;
}

int ext_list_files(struct store *s, const struct ext_version *v,
		   int (*cb)(void *ctx, const char *file), void *ctx, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "SELECT file FROM external_files WHERE listing_id = ? AND "
				      "version = ? AND present <> 0 ORDER BY file",
				      e);
	char(*names)[4 * CAFS_ASSET_NAME_MAX + 1] = NULL;
	size_t n = 0;
	int rc, r = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, v->listing_id);
	sqlite3_bind_text(st, 2, v->version, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *nn = reallocarray(names, n + 1, sizeof(*names));

		if (!nn) {
			(void)sqlite3_reset(st);
			free(names);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		names = nn;
		(void)snprintf(names[n++], sizeof(names[0]), "%s",
			       (const char *)sqlite3_column_text(st, 0));
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(names);
		return store_sql_error(s, rc, "list cached files", e);
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = cb(ctx, names[i]);
	free(names);
	return r < 0 ? r : 0;
}

/* ---- ingest -----------------------------------------------------------------------------------
 */

/* The download's sink: into the blob writer, hashing with the source's algorithm too. */
struct sink {
	struct store_blob_writer *w;
	EVP_MD_CTX *md; /* NULL when the source's digest is SHA-256 (the writer's own) or none */
};

static int sink_write(void *ctx, const void *buf, size_t n, struct cafs_error *e)
{
	struct sink *k = ctx;

	if (k->md && EVP_DigestUpdate(k->md, buf, n) != 1)
		return cafs_error_set(e, CAFS_INTERNAL, EIO, "hash download: hash library failed");
	return store_blob_writer_write(k->w, buf, n, e);
}

static const EVP_MD *md_of(const char *algo)
{
	if (strcmp(algo, "md5") == 0)
		return EVP_md5();
	if (strcmp(algo, "sha1") == 0)
		return EVP_sha1();
	if (strcmp(algo, "sha512") == 0)
		return EVP_sha512();
	return NULL;
}

static void hex_of(const unsigned char *d, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		(void)sprintf(out + 2 * i, "%02x", d[i]);
}

/*
 * Download @f into the blob store, verified against the digest the source publishes. Nothing
 * is stored when the bytes disagree (EIO naming both digests) or the transfer breaks.
 */
static int download(struct store *s, const struct ext_conn *c, const struct ext_file *f,
		    struct store_blob *ret, struct cafs_error *e)
{
	struct fetch_opts o = opts_of(s, c, NULL);
	struct sink k = {0};
	bool sha256 = strcmp(f->hash_algo, "sha256") == 0;
	const EVP_MD *md = md_of(f->hash_algo);
	int r;

	if (!url_allowed(c->url, f->url))
		return cafs_error_set(e, CAFS_IO, EIO, "%s: not a URL source %s may hand out",
				      f->url, c->name);
	r = store_blob_writer_open(s, &k.w, e);
	if (r < 0)
		return r;
	if (md) {
		k.md = EVP_MD_CTX_new();
		if (!k.md || EVP_DigestInit_ex(k.md, md, NULL) != 1) {
			EVP_MD_CTX_free(k.md);
			store_blob_writer_abort(k.w);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM,
					      "start hash: out of memory");
		}
	}
	r = fetch_stream(f->url, &o, sink_write, &k, NULL, e);
	if (r == 0)
		r = cafs_error_set(e, CAFS_IO, EIO, "%s: the source no longer has it", f->url);
	if (r > 0 && md) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned dl = 0;
		char got[129];

		if (EVP_DigestFinal_ex(k.md, d, &dl) != 1) {
			r = cafs_error_set(e, CAFS_INTERNAL, EIO, "hash download: failed");
		} else {
			hex_of(d, dl, got);
			if (strcasecmp(got, f->hash_hex) != 0)
				r = cafs_error_set(e, CAFS_IO, EIO,
						   "%s: the bytes have %s %s, the source "
						   "publishes %s: nothing stored",
						   f->url, f->hash_algo, got, f->hash_hex);
		}
	}
	EVP_MD_CTX_free(k.md);
	if (r <= 0) {
		store_blob_writer_abort(k.w);
		return r;
	}
	r = store_blob_writer_commit(k.w, sha256 ? f->hash_hex : NULL, ret, e);
	if (r < 0 && sha256 && e->kind == CAFS_VALIDATION) {
		struct cafs_error why = *e;

		return cafs_error_set(e, CAFS_IO, EIO,
				      "%s: %s (the source's digest): nothing stored", f->url,
				      why.msg);
	}
	return r < 0 ? r : 0;
}

/* What a fetched file says of its version; NULL when nothing (a jar, a broken archive). */
static struct store_metadata *metadata_of(struct store *s, enum cafs_format format,
					  const char *file, const struct store_blob *b)
{
	enum store_file_kind kind = STORE_FILE_UNKNOWN;
	struct store_metadata *m = NULL;
	struct cafs_error e;
	size_t l = strlen(file);
	int fd;

	if (format == CAFS_FORMAT_PYPI && l > 4 && strcmp(file + l - 4, ".whl") == 0)
		kind = STORE_FILE_WHEEL;
	else if (format == CAFS_FORMAT_PYPI && l > 7 && strcmp(file + l - 7, ".tar.gz") == 0)
		kind = STORE_FILE_SDIST_TGZ;
	else if (format == CAFS_FORMAT_PYPI && l > 4 && strcmp(file + l - 4, ".zip") == 0)
		kind = STORE_FILE_SDIST_ZIP;
	else if (format == CAFS_FORMAT_NPM)
		kind = STORE_FILE_NPM_TGZ;
	else if (format == CAFS_FORMAT_MAVEN && l > 4 && strcmp(file + l - 4, ".pom") == 0)
		kind = STORE_FILE_POM;
	if (kind == STORE_FILE_UNKNOWN)
		return NULL;
	fd = store_blob_open(s, b, &e);
	if (fd < 0)
		return NULL;
	if (store_extract_fd(fd, kind, &m, &e) < 0) {
		store_log(STORE_LOG_WARNING, "no metadata from %s: %s", file, e.msg);
		m = NULL;
	}
	(void)close(fd);
	return m;
}

/* The rows of one ingested file in repository @repo: package, EXTERNAL version, asset. */
static int ingest_rows(struct store *s, int64_t repo, const struct store_pkg_coord *c,
		       const char *conn, const struct ext_version *v, const char *file,
		       const struct store_blob *blob, int64_t metadata_blob,
		       const struct store_metadata *m, int64_t *ret_pkg, struct cafs_error *e)
{
	enum store_status status = STORE_STATUS_PUBLISHED;
	int64_t pkg = 0, ver = 0;
	sqlite3_stmt *st;
	int found, r;

	r = store_pkg_find(s, repo, c, &pkg, NULL, NULL, e);
	if (r == 0)
		r = store_pkg_create(s, repo, c, true, &pkg, e);
	if (r < 0)
		return r;
	*ret_pkg = pkg;
	found = store_pkg_find_version(s, pkg, v->version, &ver, &status, e);
	if (found < 0)
		return found;
	if (found && status != STORE_STATUS_PUBLISHED && status != STORE_STATUS_UNLISTED)
		return cafs_error_set(
			e, CAFS_CONFLICT, EEXIST,
			"version '%s' of '%s' is %s here: nothing is ingested into it", v->version,
			c->display, store_status_name(status));
	if (!found) {
		st = store_stmt(s,
				"INSERT INTO package_versions (package_id, version, status, "
				"revision, origin_type, entry_external_connection, published_us, "
				"display_name, created_us, updated_us) VALUES (?, ?, ?, '', "
				"'EXTERNAL', ?, ?, ?, ?, ?)",
				e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, pkg);
		sqlite3_bind_text(st, 2, v->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v->yanked ? "Unlisted" : "Published", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, conn, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, v->published_us > 0 ? v->published_us : store_now_us());
		sqlite3_bind_text(st, 6, c->display, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, store_now_us());
		sqlite3_bind_int64(st, 8, store_now_us());
		r = store_step_done(s, st, "create package version", e);
		if (r < 0)
			return r;
		ver = sqlite3_last_insert_rowid(s->db);
	}
	st = store_stmt(s,
			"SELECT a.blob_id, (SELECT count(*) FROM assets WHERE version_id = ?1) "
			"FROM assets a WHERE a.version_id = ?1 AND a.name = ?2",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		bool same = sqlite3_column_int64(st, 0) == blob->id;

		(void)sqlite3_reset(st);
		return same ? 0
			    : cafs_error_set(e, CAFS_CONFLICT, EEXIST,
					     "asset '%s' of version '%s' of '%s' exists here with "
					     "other content",
					     file, v->version, c->display);
	}
	(void)sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_sql_error(s, r, "look up asset", e);
	st = store_stmt(s,
			"INSERT INTO assets (version_id, name, blob_id, created_us, "
			"metadata_blob_id) SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM "
			"assets WHERE version_id = ?1) < ?6",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, blob->id);
	sqlite3_bind_int64(st, 4, store_now_us());
	if (metadata_blob > 0)
		sqlite3_bind_int64(st, 5, metadata_blob);
	sqlite3_bind_int(st, 6, CAFS_MAX_ASSETS);
	r = store_step_done(s, st, "add asset", e);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		return cafs_error_set(e, CAFS_QUOTA_EXCEEDED, EDQUOT,
				      "version '%s' of '%s' already has %d assets", v->version,
				      c->display, CAFS_MAX_ASSETS);
	if (r == 0 && m)
		r = store_version_apply_metadata(s, ver, m, e);
	if (r == 0) {
		char revision[64];

		r = store_pkg_update_revision(s, ver, revision, e);
	}
	return r;
}

/* The source's dist-tags naming @version become the owner's (the source wins, spec §2.5). */
static int ingest_tags(struct store *s, int64_t pkg, int64_t listing, const char *version,
		       struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "INSERT INTO dist_tags (package_id, tag, version) SELECT ?1, "
				      "tag, version FROM external_dist_tags WHERE listing_id = ?2 "
				      "AND version = ?3 ON CONFLICT (package_id, tag) DO UPDATE "
				      "SET version = excluded.version",
				      e);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pkg);
	sqlite3_bind_int64(st, 2, listing);
	sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
	return store_step_done(s, st, "set dist-tags", e);
}

/* The blob of asset @file of @version in repository @repo, if it is there: 1, else 0. */
static int asset_blob(struct store *s, int64_t repo, const struct store_pkg_coord *c,
		      const char *version, const char *file, int64_t *ret, int64_t *ret_metadata,
		      struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(
		s,
		"SELECT a.blob_id, coalesce(a.metadata_blob_id, 0) FROM packages p JOIN "
		"package_versions v ON v.package_id = p.id JOIN assets a ON a.version_id = v.id "
		"WHERE p.repository_id = ? AND p.format = ? AND p.namespace = ? AND p.name = ? AND "
		"v.version = ? AND a.name = ?",
		e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, cafs_format_name(c->format), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->namespace_, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->package, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, file, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		*ret_metadata = sqlite3_column_int64(st, 1);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(s, rc, "look up asset", e);
	return rc == SQLITE_ROW;
}

/* Does repository @repo hold a record of @version? */
static int has_version(struct store *s, int64_t repo, const struct store_pkg_coord *c,
		       const char *version, struct cafs_error *e)
{
	enum store_status status;
	int64_t pkg, ver;
	int r = store_pkg_find(s, repo, c, &pkg, NULL, NULL, e);

	return r > 0 ? store_pkg_find_version(s, pkg, version, &ver, &status, e) : r;
}

int ext_ingest(struct store *s, const struct store_search_node *requester,
	       const struct store_search_node *owner, const char *conn,
	       const struct store_pkg_coord *c, const struct ext_version *v,
	       const struct ext_file *f, struct store_blob *ret, struct cafs_error *e)
{
	struct store_metadata *m = NULL;
	struct store_blob blob = {0};
	struct ext_conn cn;
	char resource[2048], reason[4096 + 256];
	int64_t blob_id = 0, metadata_blob = 0, pkg = 0;
	bool fetched = false;
	int lock = -1;
	int r;

	{
		struct store_pkg_coord vc = *c;

		(void)snprintf(vc.version, sizeof(vc.version), "%s", v->version);
		store_pkg_resource(s, owner->name, &vc, resource, sizeof(resource));
	}
	r = cafs_validate_asset_name(c->format, f->name, e);
	if (r == 0 && c->format == CAFS_FORMAT_PYPI &&
	    !cafs_pypi_filename_matches(f->name, c->package, v->version))
		r = cafs_error_set(e, CAFS_VALIDATION, EINVAL, "'%s' does not name %s %s", f->name,
				   c->package, v->version);
	if (r < 0) {
		struct cafs_error why = *e;

		r = cafs_error_set(e, CAFS_IO, EIO, "the source's file '%s': %s", f->name, why.msg);
	}
	/* spec §7.7: ingest into the owner, retention into the requester */
	if (r == 0)
		r = store_origin_require(s, CAFS_ACTION_EXTERNAL_UPSTREAM, owner->name, c->format,
					 c->namespace_, c->package, e);
	if (r == 0 && requester->id != owner->id)
		r = store_origin_require(s, CAFS_ACTION_INTERNAL_UPSTREAM, requester->name,
					 c->format, c->namespace_, c->package, e);
	if (r == 0)
		r = ext_conn_load(s, conn, &cn, e);
	if (r < 0) {
		store_audit_refusal(s, "IngestPackageVersion", resource, e);
		return r;
	}
	lock = lock_key(s, f->url);
	/* fetched meanwhile by another reader (this process or another)? */
	r = asset_blob(s, owner->id, c, v->version, f->name, &blob_id, &metadata_blob, e);
	if (r > 0 && requester->id != owner->id) {
		/* the owner has it now: retaining the owner's record is what is left (spec
		 * §2.2), with its metadata, unless the requester holds the version already */
		r = has_version(s, requester->id, c, v->version, e);
		if (r == 0) {
			unlock_key(lock);
			return 1;
		}
		r = r < 0 ? r : 1;
	}
	if (r > 0) {
		r = store_blob_get(s, blob_id, &blob, e);
	} else if (r == 0) {
		r = download(s, &cn, f, &blob, e);
		fetched = r == 0;
		if (r == 0)
			m = metadata_of(s, c->format, f->name, &blob);
		if (r == 0 && m && m->core_metadata) {
			struct store_blob mb;

			r = store_blob_ingest_mem(s, m->core_metadata, m->core_metadata_len, NULL,
						  &mb, e);
			metadata_blob = r >= 0 ? mb.id : 0;
			r = r < 0 ? r : 0;
		}
	}
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0 && fetched) {
		r = ingest_rows(s, owner->id, c, conn, v, f->name, &blob, metadata_blob, m, &pkg,
				e);
		if (r == 0 && c->format == CAFS_FORMAT_NPM)
			r = ingest_tags(s, pkg, v->listing_id, v->version, e);
		(void)snprintf(reason, sizeof(reason), "%.255s from %.3800s%s", f->name, f->url,
			       f->hash_hex[0] ? "" : " (the source publishes no digest)");
		if (r == 0)
			r = store_audit(s, "IngestPackageVersion", resource, "ok", reason, e);
	}
	if (r == 0 && requester->id != owner->id) {
		char rres[2048];
		struct store_pkg_coord vc = *c;

		(void)snprintf(vc.version, sizeof(vc.version), "%s", v->version);
		store_pkg_resource(s, requester->name, &vc, rres, sizeof(rres));
		r = ingest_rows(s, requester->id, c, conn, v, f->name, &blob, metadata_blob, m,
				&pkg, e);
		(void)snprintf(reason, sizeof(reason), "%s ingested through '%s' from %s", f->name,
			       owner->name, conn);
		if (r == 0)
			r = store_audit(s, "RetainPackageVersion", rres, "ok", reason, e);
	}
	if (r == 0)
		r = store_txn_commit(s, e);
	unlock_key(lock);
	store_metadata_free(m);
	if (r < 0) {
		store_audit_refusal(s, "IngestPackageVersion", resource, e);
		return r;
	}
	*ret = blob;
	return 0;
}

int ext_refresh(struct store *s, const char *conn, const char *ns, const char *name,
		struct cafs_error *e)
{
	int64_t id;

	return ext_listing(s, conn, ns, name, true, &id, e);
}

/* A package to refresh. */
struct refresh_target {
	char conn[101];
	char ns[CAFS_PACKAGE_FIELD_MAX + 1];
	char name[CAFS_PACKAGE_FIELD_MAX + 1];
};

static int add_target(struct refresh_target **list, size_t *n, const char *conn, const char *ns,
		      const char *name, struct cafs_error *e)
{
	struct refresh_target *nl = reallocarray(*list, *n + 1, sizeof(**list));

	if (!nl)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	*list = nl;
	(void)snprintf(nl[*n].conn, sizeof(nl[*n].conn), "%s", conn);
	(void)snprintf(nl[*n].ns, sizeof(nl[*n].ns), "%s", ns);
	(void)snprintf(nl[*n].name, sizeof(nl[*n].name), "%s", name);
	(*n)++;
	return 0;
}

/* Every package whose listing from @conn is cached. */
static int cached_targets(struct store *s, const char *conn, struct refresh_target **list,
			  size_t *n, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "SELECT namespace, name FROM external_listings WHERE "
				      "connection = ? ORDER BY namespace, name",
				      e);
	int rc, r = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, conn, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = add_target(list, n, conn, (const char *)sqlite3_column_text(st, 0),
			       (const char *)sqlite3_column_text(st, 1), e);
	(void)sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_error(s, rc, "list cached listings", e);
	return r;
}

int store_refresh(struct store *s, const char *repository, enum cafs_format format, const char *ns,
		  const char *name,
		  void (*cb)(void *ctx, const struct store_refresh_item *it, size_t i, size_t n),
		  void *ctx, struct cafs_error *e)
{
	static const enum cafs_format formats[] = {CAFS_FORMAT_PYPI, CAFS_FORMAT_NPM,
						   CAFS_FORMAT_MAVEN};
	struct refresh_target *list = NULL;
	size_t n = 0;
	int64_t repo;
	int r = store_repo_id(s, repository, &repo, e);

	if (r == 0 && name && format == CAFS_FORMAT_NONE)
		r = cafs_error_set(e, CAFS_VALIDATION, EINVAL, "a package needs its format");
	for (size_t f = 0; r == 0 && f < ARRAY_SIZE(formats); f++) {
		struct view_sources src;

		if (format != CAFS_FORMAT_NONE && format != formats[f])
			continue;
		r = view_sources(s, repo, formats[f], name ? (ns ? ns : "") : NULL, name, &src, e);
		for (size_t i = 0; r == 0 && i < src.n; i++) {
			bool dup = false;

			if (!src.ext[i][0])
				continue;
			for (size_t j = 0; j < n && !dup; j++)
				dup = strcmp(list[j].conn, src.ext[i]) == 0 && !name;
			if (dup)
				continue;
			r = name ? add_target(&list, &n, src.ext[i], ns ? ns : "", name, e)
				 : cached_targets(s, src.ext[i], &list, &n, e);
		}
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct store_refresh_item it = {0};
		struct cafs_error why;
		int64_t listing = 0;

		(void)snprintf(it.connection, sizeof(it.connection), "%s", list[i].conn);
		(void)snprintf(it.namespace_, sizeof(it.namespace_), "%s", list[i].ns);
		(void)snprintf(it.name, sizeof(it.name), "%s", list[i].name);
		it.outcome = ext_listing(s, list[i].conn, list[i].ns, list[i].name, true, &listing,
					 &why);
		if (it.outcome < 0) {
			(void)snprintf(it.message, sizeof(it.message), "%s", why.msg);
		} else if (it.outcome > 0) {
			struct ext_version *v = NULL;

			if (ext_list_versions(s, listing, &v, &it.n_versions, &why) < 0)
				it.n_versions = 0;
			free(v);
		}
		if (cb)
			cb(ctx, &it, i, n);
	}
	free(list);
	return r;
}
