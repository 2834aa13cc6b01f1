/* SPDX-License-Identifier: MIT */
/*
 * The bytes of the client view's synthesized files and the extended attributes of its nodes
 * (DESIGN.md §2, §4): PEP 503 pages with PEP 592 yanking and PEP 658 core metadata for pip,
 * maven-metadata.xml at artifact and SNAPSHOT-version level with checksum files for Maven, and
 * the user.cafs.* attributes. Made from the rows at each call, so they never go stale beyond
 * what the kernel caches.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/group.h"
#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"
#include "store/view.h"

/* A growing string; on allocation failure it stays failed and says so at the end. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	char *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sb_add(b, tmp, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	sb_add(b, big, (size_t)n);
	free(big);
}

/* Text escaped for HTML and XML content and attribute values. */
static void sb_esc(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sb_add(b, "&amp;", 5);
			break;
		case '<':
			sb_add(b, "&lt;", 4);
			break;
		case '>':
			sb_add(b, "&gt;", 4);
			break;
		case '"':
			sb_add(b, "&quot;", 6);
			break;
		case '\'':
			sb_add(b, "&#39;", 5);
			break;
		default:
			sb_add(b, s, 1);
		}
	}
}

/* A path segment for an href: percent-encode what is not unreserved. */
static void sb_url(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~!$'()*,;=:@+", c)) {
			sb_add(b, s, 1);
		} else {
			char enc[3] = {'%', hex[c >> 4], hex[c & 15]};

			sb_add(b, enc, 3);
		}
	}
}

static int sb_done(struct sbuf *b, char **ret, size_t *ret_len, struct cafs_error *e)
{
	if (b->oom) {
		free(b->p);
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	if (!b->p)
		sb_add(b, "", 0);
	*ret = b->p;
	*ret_len = b->len;
	return 0;
}

static int root_index_cb(void *ctx, const char *ns, const char *name)
{
	struct sbuf *b = ctx;

	(void)ns;
	sb_add(b, "    <a href=\"", 13);
	sb_url(b, name);
	sb_add(b, "/\">", 3);
	sb_esc(b, name);
	sb_add(b, "</a><br/>\n", 10);
	return 0;
}

static int render_pypi_root(struct store *s, int64_t repo, struct sbuf *b, struct cafs_error *e)
{
	sb_printf(b,
		  "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" "
		  "content=\"1.0\">\n    <title>Simple index</title>\n  </head>\n  <body>\n");
	{
		int r = view_visit_packages(s, repo, CAFS_FORMAT_PYPI, NULL, NULL, root_index_cb, b,
					    e);

		if (r < 0)
			return r;
	}
	sb_printf(b, "  </body>\n</html>\n");
	return 0;
}

/*
 * The links of version @v's files that only its source has so far, with the source's digest
 * (pip checks it), requires-python and yank marks: reading one fetches it.
 */
static int pypi_source_links(struct store *s, int64_t repo, const struct store_node *n,
			     const struct view_version *v, const char *version, struct sbuf *b,
			     struct cafs_error *e)
{
	struct store_search_node owner;
	struct ext_version ev;
	sqlite3_stmt *st;
	char conn[101];
	int rc;
	int r = view_version_source(s, repo, n->format, "", n->package, v, &ev, &owner, conn, e);

	if (r <= 0)
		return r;
	st = store_stmt(
		s,
		"SELECT file, coalesce(hash_algo, ''), coalesce(hash_hex, ''), "
		"coalesce(requires_python, ''), yanked FROM external_files WHERE "
		"listing_id = ?1 AND version = ?2 AND present <> 0 AND NOT EXISTS (SELECT 1 "
		"FROM assets WHERE version_id = ?3 AND name = file) ORDER BY file",
		e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ev.listing_id);
	sqlite3_bind_text(st, 2, ev.version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, v->external ? 0 : v->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *file = (const char *)sqlite3_column_text(st, 0);
		const char *algo = (const char *)sqlite3_column_text(st, 1);
		const char *rp = (const char *)sqlite3_column_text(st, 3);

		if (cafs_validate_asset_name(n->format, file, NULL) < 0)
			continue;
		sb_add(b, "    <a href=\"", 13);
		sb_url(b, version);
		sb_add(b, "/", 1);
		sb_url(b, file);
		if (*algo)
			sb_printf(b, "#%s=%s", algo, (const char *)sqlite3_column_text(st, 2));
		sb_add(b, "\"", 1);
		if (*rp) {
			sb_add(b, " data-requires-python=\"", 23);
			sb_esc(b, rp);
			sb_add(b, "\"", 1);
		}
		if (sqlite3_column_int(st, 4) || v->status == STORE_STATUS_UNLISTED)
			sb_add(b, " data-yanked=\"\"", 15);
		sb_add(b, ">", 1);
		sb_esc(b, file);
		sb_add(b, "</a><br/>\n", 10);
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc, "list source files", e);
}

static int render_pypi_project(struct store *s, int64_t repo, const struct store_node *n,
			       struct sbuf *b, struct cafs_error *e)
{
	struct view_version *vs = NULL;
	char(*vn)[CAFS_PACKAGE_FIELD_MAX + 1] = NULL;
	size_t nv = 0;
	int r;

	r = view_versions(s, repo, n->format, "", n->package, &vs, &vn, &nv, e);
	if (r < 0)
		return r;
	sb_printf(b,
		  "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" "
		  "content=\"1.0\">\n    <title>Links for ");
	sb_esc(b, n->package);
	sb_printf(b, "</title>\n  </head>\n  <body>\n    <h1>Links for ");
	sb_esc(b, n->package);
	sb_printf(b, "</h1>\n");
	for (size_t i = 0; r == 0 && i < nv; i++) {
		sqlite3_stmt *st;
		int rc;

		if (vs[i].status != STORE_STATUS_PUBLISHED && vs[i].status != STORE_STATUS_UNLISTED)
			continue;
		st = store_stmt(
			s,
			"SELECT a.name, b.sha256, m.sha256, coalesce(v.requires_python, '') "
			"FROM assets a JOIN blobs b ON b.id = a.blob_id JOIN "
			"package_versions v ON v.id = a.version_id LEFT JOIN blobs m ON "
			"m.id = a.metadata_blob_id WHERE a.version_id = ? ORDER BY a.name",
			e);
		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, vs[i].id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *file = (const char *)sqlite3_column_text(st, 0);
			const char *rp = (const char *)sqlite3_column_text(st, 3);

			sb_add(b, "    <a href=\"", 13);
			sb_url(b, vn[i]);
			sb_add(b, "/", 1);
			sb_url(b, file);
			sb_printf(b, "#sha256=%s\"", (const char *)sqlite3_column_text(st, 1));
			if (*rp) {
				sb_add(b, " data-requires-python=\"", 23);
				sb_esc(b, rp);
				sb_add(b, "\"", 1);
			}
			/* PEP 658 under both of its names: pip 23.0 reads the older one */
			if (sqlite3_column_type(st, 2) != SQLITE_NULL)
				sb_printf(b,
					  " data-dist-info-metadata=\"sha256=%s\" "
					  "data-core-metadata=\"sha256=%s\"",
					  (const char *)sqlite3_column_text(st, 2),
					  (const char *)sqlite3_column_text(st, 2));
			if (vs[i].status == STORE_STATUS_UNLISTED)
				sb_add(b, " data-yanked=\"\"", 15);
			sb_add(b, ">", 1);
			sb_esc(b, file);
			sb_add(b, "</a><br/>\n", 10);
		}
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			r = store_sql_error(s, rc, "list assets", e);
		if (r == 0)
			r = pypi_source_links(s, repo, n, &vs[i], vn[i], b, e);
	}
	free(vs);
	free(vn);
	if (r == 0)
		sb_printf(b, "  </body>\n</html>\n");
	return r;
}

static void maven_time(int64_t us, char *buf, size_t bufsz, bool dotted)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)strftime(buf, bufsz, dotted ? "%Y%m%d.%H%M%S" : "%Y%m%d%H%M%S", &tm);
}

static bool is_snapshot(const char *v)
{
	size_t n = strlen(v);

	return n > 9 && strcmp(v + n - 9, "-SNAPSHOT") == 0;
}

static int render_maven_artifact(struct store *s, int64_t repo, const struct store_node *n,
				 struct sbuf *b, struct cafs_error *e)
{
	struct view_version *vs = NULL;
	char(*vn)[CAFS_PACKAGE_FIELD_MAX + 1] = NULL;
	const char *latest = NULL, *release = NULL;
	int64_t updated = 0;
	size_t nv = 0;
	int r;

	r = view_versions(s, repo, n->format, n->namespace_, n->package, &vs, &vn, &nv, e);
	if (r < 0)
		return r;
	/* Unlisted versions (and SNAPSHOT builds, which are Unlisted) stay out */
	for (size_t i = 0; i < nv; i++) {
		if (vs[i].status != STORE_STATUS_PUBLISHED)
			continue;
		latest = vn[i];
		if (!is_snapshot(vn[i]))
			release = vn[i];
		if (vs[i].published_us > updated)
			updated = vs[i].published_us;
	}
	sb_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n  <groupId>");
	sb_esc(b, n->namespace_);
	sb_printf(b, "</groupId>\n  <artifactId>");
	sb_esc(b, n->package);
	sb_printf(b, "</artifactId>\n  <versioning>\n");
	if (latest) {
		sb_printf(b, "    <latest>");
		sb_esc(b, latest);
		sb_printf(b, "</latest>\n");
	}
	if (release) {
		sb_printf(b, "    <release>");
		sb_esc(b, release);
		sb_printf(b, "</release>\n");
	}
	sb_printf(b, "    <versions>\n");
	for (size_t i = 0; i < nv; i++) {
		if (vs[i].status != STORE_STATUS_PUBLISHED)
			continue;
		sb_printf(b, "      <version>");
		sb_esc(b, vn[i]);
		sb_printf(b, "</version>\n");
	}
	sb_printf(b, "    </versions>\n");
	if (updated) {
		char t[32];

		maven_time(updated, t, sizeof(t), false);
		sb_printf(b, "    <lastUpdated>%s</lastUpdated>\n", t);
	}
	sb_printf(b, "  </versioning>\n</metadata>\n");
	free(vs);
	free(vn);
	return 0;
}

/* Version-level maven-metadata.xml of a SNAPSHOT: its build and each file's value. */
static int render_maven_snapshot(struct store *s, int64_t repo, const struct store_node *n,
				 struct sbuf *b, struct cafs_error *e)
{
	struct view_version v;
	const char *build;
	const char *dash;
	char base[CAFS_PACKAGE_FIELD_MAX + 1];
	char t[32];
	sqlite3_stmt *st;
	int rc;
	int r = view_find_version(s, repo, n->format, n->namespace_, n->package, n->version, &v, e);

	if (r <= 0)
		return r < 0 ? r : cafs_error_set(e, CAFS_NOT_FOUND, 0, "version gone");
	build = v.snapshot_build;
	dash = strrchr(build, '-');
	if (!dash)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no SNAPSHOT build");
	(void)snprintf(base, sizeof(base), "%.*s", (int)(strlen(n->version) - 9), n->version);
	maven_time(v.published_us, t, sizeof(t), false);
	sb_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata modelVersion=\"1.1.0\">"
		     "\n  <groupId>");
	sb_esc(b, n->namespace_);
	sb_printf(b, "</groupId>\n  <artifactId>");
	sb_esc(b, n->package);
	sb_printf(b, "</artifactId>\n  <version>");
	sb_esc(b, n->version);
	sb_printf(b,
		  "</version>\n  <versioning>\n    <snapshot>\n      <timestamp>%.*s</timestamp>\n"
		  "      <buildNumber>%s</buildNumber>\n    </snapshot>\n    <lastUpdated>%s"
		  "</lastUpdated>\n    <snapshotVersions>\n",
		  (int)(dash - build), build, dash + 1, t);
	st = store_stmt(s, "SELECT name FROM assets WHERE version_id = ? ORDER BY name", e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, v.id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* <artifact>-<base>-<build>[-<classifier>].<extension> */
		const char *file = (const char *)sqlite3_column_text(st, 0);
		size_t skip = strlen(n->package) + 1 + strlen(base) + 1 + strlen(build);
		const char *rest, *dot;

		if (strlen(file) <= skip ||
		    strncmp(file + skip - strlen(build), build, strlen(build)) != 0)
			continue;
		rest = file + skip;
		dot = strchr(rest, '.');
		if (!dot)
			continue;
		sb_printf(b, "      <snapshotVersion>\n");
		if (*rest == '-' && dot > rest + 1) {
			char cls[4 * CAFS_ASSET_NAME_MAX + 1];

			(void)snprintf(cls, sizeof(cls), "%.*s", (int)(dot - rest - 1), rest + 1);
			sb_printf(b, "        <classifier>");
			sb_esc(b, cls);
			sb_printf(b, "</classifier>\n");
		}
		sb_printf(b, "        <extension>");
		sb_esc(b, dot + 1);
		sb_printf(b, "</extension>\n        <value>");
		sb_esc(b, base);
		sb_printf(b,
			  "-%s</value>\n        <updated>%s</updated>\n      </snapshotVersion>\n",
			  build, t);
	}
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "list assets", e);
	sb_printf(b, "    </snapshotVersions>\n  </versioning>\n</metadata>\n");
	return 0;
}

/* The bytes of blob @id (small files only: core metadata). */
static int blob_bytes(struct store *s, int64_t id, struct sbuf *b, struct cafs_error *e)
{
	struct store_blob blob;
	char buf[65536];
	int fd;
	ssize_t n;
	int r = store_blob_get(s, id, &blob, e);

	if (r < 0)
		return r;
	fd = store_blob_open(s, &blob, e);
	if (fd < 0)
		return fd;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_add(b, buf, (size_t)n);
	(void)close(fd);
	return n < 0 ? cafs_error_set(e, CAFS_IO, errno, "read blob: %s", strerror(errno)) : 0;
}

/* The hex digest @algo of an asset's blob, or of synthesized bytes. */
static int checksum(struct store *s, int64_t repo, const struct store_node *n, struct sbuf *b,
		    struct cafs_error *e)
{
	struct store_node target = *n;
	struct view_version v;
	sqlite3_stmt *st;
	int64_t blob_id = 0;
	int rc;
	int r;

	if (strcmp(n->checksum_of, "maven-metadata.xml") == 0) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		const EVP_MD *alg = strcmp(n->checksum_algo, "md5") == 0      ? EVP_md5()
				    : strcmp(n->checksum_algo, "sha1") == 0   ? EVP_sha1()
				    : strcmp(n->checksum_algo, "sha256") == 0 ? EVP_sha256()
									      : EVP_sha512();
		char *bytes = NULL;
		size_t len = 0;

		target.synth = STORE_SYNTH_MAVEN_METADATA;
		r = store_view_render(s, &target, &bytes, &len, e);
		if (r < 0)
			return r;
		if (EVP_Digest(bytes, len, md, &mdlen, alg, NULL) != 1) {
			free(bytes);
			return cafs_error_set(e, CAFS_INTERNAL, 0, "digest failed");
		}
		free(bytes);
		for (unsigned int i = 0; i < mdlen; i++)
			sb_printf(b, "%02x", md[i]);
		return 0;
	}
	for (int pass = 0;; pass++) {
		r = view_find_version(s, repo, n->format, n->namespace_, n->package, n->version, &v,
				      e);
		if (r <= 0)
			return r < 0 ? r : cafs_error_set(e, CAFS_NOT_FOUND, 0, "version gone");
		rc = SQLITE_DONE;
		if (!v.external) {
			st = store_stmt(
				s, "SELECT blob_id FROM assets WHERE version_id = ? AND name = ?",
				e);
			if (!st)
				return -EIO;
			sqlite3_bind_int64(st, 1, v.id);
			sqlite3_bind_text(st, 2, n->checksum_of, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				blob_id = sqlite3_column_int64(st, 0);
			(void)sqlite3_reset(st);
		}
		if (rc == SQLITE_ROW)
			break;
		if (!n->external || pass > 0)
			return cafs_error_set(e, CAFS_NOT_FOUND, 0, "asset gone");
		/* the file only a source has: fetch it (and retain it) first, as a read would */
		{
			struct store_node a = *n;
			int fd;

			a.kind = STORE_NODE_ASSET;
			a.synth = STORE_SYNTH_NONE;
			(void)snprintf(a.file, sizeof(a.file), "%s", n->checksum_of);
			fd = store_view_open(s, &a, e);
			if (fd < 0)
				return fd;
			(void)close(fd);
		}
	}
	{
		struct store_blob_hashes h;

		r = store_blob_hashes(s, blob_id, &h, e);
		if (r < 0)
			return r;
		sb_printf(b, "%s",
			  strcmp(n->checksum_algo, "md5") == 0      ? h.md5
			  : strcmp(n->checksum_algo, "sha1") == 0   ? h.sha1
			  : strcmp(n->checksum_algo, "sha256") == 0 ? h.sha256
								    : h.sha512);
	}
	return 0;
}

/*
 * The root index lists every package of the folder: big in a big domain, and rendered to size
 * it at every listing and lookup of the folder. A handle keeps the last few while its domain
 * does not change (store_view_generation(); never inside a write transaction, whose changes
 * the generation does not count yet). It never names a package only a source has, so no
 * source listing goes stale behind it.
 */
static int render_pypi_root_cached(struct store *s, int64_t repo, struct sbuf *b,
				   struct cafs_error *e)
{
	struct store_root_index *slot = &s->root_index[0];
	struct cafs_error ignored;
	bool own = false; /* slot holds this repository's older page */
	uint64_t gen = 0;
	int r;

	if (s->txn_depth == 0 && store_view_generation(s, &gen, &ignored) < 0)
		gen = 0;
	for (size_t i = 0; gen && i < STORE_ROOT_INDEX_CACHE; i++) {
		struct store_root_index *c = &s->root_index[i];

		if (c->generation == gen && c->repo == repo) {
			sb_add(b, c->data, c->len);
			return 0;
		}
		if (c->repo == repo) {
			slot = c; /* this repository's old page, else the oldest */
			own = true;
		} else if (!own && c->generation < slot->generation) {
			slot = c;
		}
	}
	r = render_pypi_root(s, repo, b, e);
	if (r < 0 || !gen || b->oom)
		return r;
	free(slot->data);
	slot->data = malloc(b->len ? b->len : 1);
	slot->generation = slot->data ? gen : 0;
	slot->repo = repo;
	slot->len = b->len;
	if (slot->data)
		memcpy(slot->data, b->p, b->len);
	return 0;
}

static int view_render_snap(struct store *s, const struct store_node *n, char **ret,
			    size_t *ret_len, struct cafs_error *e)
{
	struct sbuf b = {0};
	int64_t repo;
	int r = store_repo_id(s, n->repository, &repo, e);

	if (r < 0)
		return r;
	switch (n->synth) {
	case STORE_SYNTH_PYPI_ROOT_INDEX:
		r = render_pypi_root_cached(s, repo, &b, e);
		break;
	case STORE_SYNTH_PYPI_PROJECT_INDEX:
		r = render_pypi_project(s, repo, n, &b, e);
		break;
	case STORE_SYNTH_PYPI_CORE_METADATA: {
		struct view_version v;
		sqlite3_stmt *st;
		int64_t id = 0;

		r = view_find_version(s, repo, n->format, "", n->package, n->version, &v, e);
		if (r <= 0) {
			r = r < 0 ? r : cafs_error_set(e, CAFS_NOT_FOUND, 0, "version gone");
			break;
		}
		st = store_stmt(s,
				"SELECT metadata_blob_id FROM assets WHERE version_id = ? AND name "
				"= ? AND metadata_blob_id IS NOT NULL",
				e);
		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, v.id);
		sqlite3_bind_text(st, 2, n->checksum_of, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		(void)sqlite3_reset(st);
		r = id ? blob_bytes(s, id, &b, e)
		       : cafs_error_set(e, CAFS_NOT_FOUND, 0, "no core metadata");
		break;
	}
	case STORE_SYNTH_MAVEN_METADATA:
		r = n->version[0] ? render_maven_snapshot(s, repo, n, &b, e)
				  : render_maven_artifact(s, repo, n, &b, e);
		break;
	case STORE_SYNTH_CHECKSUM:
		r = checksum(s, repo, n, &b, e);
		break;
	case STORE_SYNTH_NONE:
		r = cafs_error_set(e, CAFS_VALIDATION, EINVAL, "not a synthesized file");
		break;
	}
	if (r < 0) {
		free(b.p);
		return r;
	}
	return sb_done(&b, ret, ret_len, e);
}

/* one read snapshot for all its queries (store_read_begin()) */
int store_view_render(struct store *s, const struct store_node *n, char **ret, size_t *ret_len,
		      struct cafs_error *e)
{
	bool mine = store_read_begin(s);
	int r = view_render_snap(s, n, ret, ret_len, e);

	if (mine)
		store_read_end(s);
	return r;
}

static void iso_time(int64_t us, char *buf, size_t bufsz)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	size_t o;

	(void)gmtime_r(&t, &tm);
	o = strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf + o, bufsz - o, ".%06lld+00:00", (long long)(us % 1000000));
}

static void sb_json(struct sbuf *b, json_t *j)
{
	char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (txt)
		sb_add(b, txt, strlen(txt));
	else
		b->oom = true;
	free(txt);
	json_decref(j);
}

static int domain_xattr(struct store *s, struct sbuf *b, struct cafs_error *e)
{
	struct store_domain d;
	char arn[256], t[64];
	json_t *o;
	int r = store_domain_describe(s, &d, e);

	if (r < 0)
		return r;
	store_domain_arn(&d, arn, sizeof(arn));
	iso_time(d.created_us, t, sizeof(t));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "name", d.name, "owner", d.owner, "arn", arn,
		      "status", d.status, "createdTime", t, "repositoryCount",
		      (json_int_t)d.repository_count, "assetSizeBytes",
		      (json_int_t)d.asset_size_bytes);
	sb_json(b, o);
	return 0;
}

/*
 * user.cafs.explain: for each of the three ways a version can enter this repository, the
 * decision of spec §7.7 (the package's own controls, its package group, inheritance, allowed
 * lists) with its reason chain, as `cafs explain` shows it.
 */
static int explain(struct store *s, int64_t repo, const struct store_node *n, struct sbuf *b,
		   struct cafs_error *e)
{
	struct store_origin_verdict *v = malloc(sizeof(*v));
	json_t *o = json_object();
	int r = 0;

	(void)repo;
	if (!v || !o) {
		free(v);
		json_decref(o);
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	for (int a = 0; r >= 0 && a < CAFS_ACTION_N; a++) {
		r = store_origin_decide(s, (enum cafs_origin_action)a, n->repository, n->format,
					n->namespace_, n->package, v, e);
		if (r >= 0)
			json_object_set_new(o, cafs_origin_action_name(a),
					    json_pack("{s:s,s:s}", "decision",
						      r > 0 ? "ALLOW" : "DENY", "reason",
						      v->explain));
	}
	free(v);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	sb_json(b, o);
	return 0;
}

/* Add @tag -> @version to @o unless a tag of that name is there already. */
static void tag_once(json_t *o, const char *tag, const char *version)
{
	if (!json_object_get(o, tag))
		json_object_set_new(o, tag, json_string(version));
}

/*
 * npm dist-tags as a client sees them through @repo (spec §2.5): the tags of every repository
 * of the search order that has the package and of the sources behind them, where an upstream's
 * (the first in search order) beats the repository's own.
 */
static int dist_tags(struct store *s, int64_t repo, const struct store_node *n, struct sbuf *b,
		     struct cafs_error *e)
{
	struct view_sources src;
	json_t *up = json_object(), *own = json_object();
	int r = view_sources(s, repo, n->format, n->namespace_, n->package, &src, e);

	for (size_t i = 0; r >= 0 && i < src.n; i++) {
		json_t *into = i == 0 ? own : up;
		sqlite3_stmt *st = store_stmt(
			s,
			"SELECT t.tag, t.version FROM dist_tags t JOIN packages p ON p.id = "
			"t.package_id WHERE p.repository_id = ? AND p.format = 'npm' AND "
			"p.namespace = ? AND p.name = ? ORDER BY t.tag",
			e);
		int64_t listing;
		int rc;

		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, src.nodes[i].id);
		sqlite3_bind_text(st, 2, n->namespace_, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, n->package, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			tag_once(into, (const char *)sqlite3_column_text(st, 0),
				 (const char *)sqlite3_column_text(st, 1));
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			r = store_sql_error(s, rc, "read dist-tags", e);
			break;
		}
		if (!src.ext[i][0])
			continue;
		r = ext_listing(s, src.ext[i], n->namespace_, n->package, false, &listing, e);
		if (r <= 0)
			continue;
		st = store_stmt(s,
				"SELECT tag, version FROM external_dist_tags WHERE listing_id = ? "
				"ORDER BY tag",
				e);
		if (!st) {
			r = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, listing);
		while (sqlite3_step(st) == SQLITE_ROW)
			tag_once(i == 0 ? own : up, (const char *)sqlite3_column_text(st, 0),
				 (const char *)sqlite3_column_text(st, 1));
		(void)sqlite3_reset(st);
	}
	if (r >= 0) {
		const char *k;
		json_t *v;

		json_object_foreach(own, k, v) tag_once(up, k, json_string_value(v));
		sb_json(b, json_incref(up));
	}
	json_decref(up);
	json_decref(own);
	return r < 0 ? r : 0;
}

/* The value of attribute @name (without "user.cafs.") of @n; NotFound/ENODATA when none. */
static int xattr_value(struct store *s, const struct store_node *n, const char *name,
		       struct sbuf *b, struct cafs_error *e)
{
	int64_t repo = 0;
	int r;

	if (n->kind != STORE_NODE_ROOT) {
		r = store_repo_id(s, n->repository, &repo, e);
		if (r < 0)
			return r;
	}
	switch (n->kind) {
	case STORE_NODE_ROOT:
		if (strcmp(name, "domain") == 0)
			return domain_xattr(s, b, e);
		break;
	case STORE_NODE_REPO: {
		struct store_repository rp;

		r = store_repository_describe(s, n->repository, &rp, e);
		if (r < 0)
			return r;
		if (strcmp(name, "upstreams") == 0) {
			for (size_t i = 0; i < rp.n_upstreams; i++)
				sb_printf(b, "%s%s", i ? "\n" : "", rp.upstreams[i]);
			return 0;
		}
		if (strcmp(name, "external-connection") == 0 && rp.external_connection[0]) {
			sb_printf(b, "%s", rp.external_connection);
			return 0;
		}
		if (strcmp(name, "description") == 0 && rp.description[0]) {
			sb_printf(b, "%s", rp.description);
			return 0;
		}
		break;
	}
	case STORE_NODE_PACKAGE: {
		struct store_pkg_coord c = {.format = n->format};
		char publish[8], upstream[8];
		int64_t pkg;

		if (strcmp(name, "explain") == 0)
			return explain(s, repo, n, b, e);
		if (strcmp(name, "dist-tags") == 0 && n->format == CAFS_FORMAT_NPM)
			return dist_tags(s, repo, n, b, e);
		if (strcmp(name, "package-group") == 0) {
			struct store_group *g = malloc(sizeof(*g));
			enum cafs_match m;

			if (!g)
				return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
			r = store_group_associated(s, n->format, n->namespace_, n->package, g, &m,
						   e);
			if (r == 0)
				sb_printf(b, "%s", g->pattern);
			free(g);
			return r < 0 ? r : 0;
		}
		(void)snprintf(c.namespace_, sizeof(c.namespace_), "%s", n->namespace_);
		(void)snprintf(c.package, sizeof(c.package), "%s", n->package);
		r = store_pkg_find(s, repo, &c, &pkg, publish, upstream, e);
		if (r < 0)
			return r;
		if (r > 0 && strcmp(name, "origin.publish") == 0) {
			sb_printf(b, "%s", publish);
			return 0;
		}
		if (r > 0 && strcmp(name, "origin.upstream") == 0) {
			sb_printf(b, "%s", upstream);
			return 0;
		}
		break;
	}
	case STORE_NODE_VERSION: {
		struct view_version v;
		sqlite3_stmt *st;
		static const char *const cols[] = {"revision",  "summary",
						   "home-page", "source-code-repository",
						   "licenses",  NULL};
		int col = -1;

		r = view_find_version(s, repo, n->format, n->namespace_, n->package, n->version, &v,
				      e);
		if (r <= 0)
			return r < 0 ? r : cafs_error_set(e, CAFS_NOT_FOUND, 0, "version gone");
		if (strcmp(name, "status") == 0) {
			sb_printf(b, "%s", store_status_name((enum store_status)v.status));
			return 0;
		}
		if (strcmp(name, "explain") == 0)
			return explain(s, repo, n, b, e);
		if (strcmp(name, "retained") == 0) {
			sb_printf(b, "%s", v.own ? "yes" : v.repo);
			return 0;
		}
		if (v.external && strcmp(name, "origin") == 0) {
			/* what it will be once read: ingested through the connection */
			sb_json(b, json_pack("{s:s,s:{s:s}}", "originType", "EXTERNAL",
					     "domainEntryPoint", "externalConnectionName",
					     v.connection));
			return 0;
		}
		if (strcmp(name, "published-time") == 0) {
			char t[64];

			iso_time(v.published_us, t, sizeof(t));
			sb_printf(b, "%s", t);
			return 0;
		}
		for (int i = 0; cols[i]; i++)
			if (strcmp(name, cols[i]) == 0)
				col = i;
		if (col >= 0 || strcmp(name, "origin") == 0) {
			st = store_stmt(s,
					"SELECT revision, summary, home_page, "
					"source_code_repository, licenses, origin_type, "
					"entry_repository, entry_external_connection FROM "
					"package_versions WHERE id = ?",
					e);
			if (!st)
				return -EIO;
			sqlite3_bind_int64(st, 1, v.id);
			r = sqlite3_step(st);
			if (r == SQLITE_ROW && col >= 0 &&
			    sqlite3_column_type(st, col) != SQLITE_NULL)
				sb_printf(b, "%s", (const char *)sqlite3_column_text(st, col));
			else if (r == SQLITE_ROW && col < 0) {
				json_t *ep = json_object();

				if (sqlite3_column_type(st, 6) != SQLITE_NULL)
					json_object_set_new(
						ep, "repositoryName",
						json_string(
							(const char *)sqlite3_column_text(st, 6)));
				if (sqlite3_column_type(st, 7) != SQLITE_NULL)
					json_object_set_new(
						ep, "externalConnectionName",
						json_string(
							(const char *)sqlite3_column_text(st, 7)));
				sb_json(b, json_pack("{s:s,s:o}", "originType",
						     (const char *)sqlite3_column_text(st, 5),
						     "domainEntryPoint", ep));
			} else {
				(void)sqlite3_reset(st);
				break;
			}
			(void)sqlite3_reset(st);
			return 0;
		}
		if (strcmp(name, "dependencies") == 0) {
			json_t *arr = json_array();
			int rc;

			st = store_stmt(
				s,
				"SELECT namespace, package, dependency_type, "
				"version_requirement FROM dependencies WHERE version_id = ? "
				"ORDER BY position",
				e);
			if (!st) {
				json_decref(arr);
				return -EIO;
			}
			sqlite3_bind_int64(st, 1, v.id);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				json_t *d = json_object();

				if (*(const char *)sqlite3_column_text(st, 0))
					json_object_set_new(
						d, "namespace",
						json_string(
							(const char *)sqlite3_column_text(st, 0)));
				json_object_set_new(
					d, "package",
					json_string((const char *)sqlite3_column_text(st, 1)));
				if (sqlite3_column_type(st, 2) != SQLITE_NULL)
					json_object_set_new(
						d, "dependencyType",
						json_string(
							(const char *)sqlite3_column_text(st, 2)));
				if (sqlite3_column_type(st, 3) != SQLITE_NULL)
					json_object_set_new(
						d, "versionRequirement",
						json_string(
							(const char *)sqlite3_column_text(st, 3)));
				json_array_append_new(arr, d);
			}
			(void)sqlite3_reset(st);
			sb_json(b, arr);
			return 0;
		}
		break;
	}
	case STORE_NODE_ASSET: {
		struct view_version v;
		struct store_blob_hashes h;
		sqlite3_stmt *st;
		int64_t blob_id = 0;
		int rc;

		if (strcmp(name, "size") == 0) {
			sb_printf(b, "%llu", (unsigned long long)n->size);
			return 0;
		}
		if (strncmp(name, "hash.", 5) != 0)
			break;
		r = view_find_version(s, repo, n->format, n->namespace_, n->package, n->version, &v,
				      e);
		if (r <= 0)
			return r < 0 ? r : cafs_error_set(e, CAFS_NOT_FOUND, 0, "version gone");
		st = store_stmt(s, "SELECT blob_id FROM assets WHERE version_id = ? AND name = ?",
				e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, v.id);
		sqlite3_bind_text(st, 2, n->file, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			blob_id = sqlite3_column_int64(st, 0);
		(void)sqlite3_reset(st);
		if (!blob_id && n->external) {
			/* not fetched yet: the digest the source publishes, and no other */
			struct store_search_node owner;
			struct ext_version ev;
			struct ext_file f;
			char conn[101];

			r = view_version_source(s, repo, n->format, n->namespace_, n->package, &v,
						&ev, &owner, conn, e);
			if (r > 0)
				r = ext_find_file(s, conn, n->namespace_, n->package, &ev, n->file,
						  &f, e);
			if (r < 0)
				return r;
			if (r > 0 && f.hash_algo[0] && strcmp(name + 5, f.hash_algo) == 0) {
				sb_printf(b, "%s", f.hash_hex);
				return 0;
			}
			break;
		}
		if (!blob_id)
			return cafs_error_set(e, CAFS_NOT_FOUND, 0, "asset gone");
		r = store_blob_hashes(s, blob_id, &h, e);
		if (r < 0)
			return r;
		if (strcmp(name + 5, "md5") == 0)
			sb_printf(b, "%s", h.md5);
		else if (strcmp(name + 5, "sha1") == 0)
			sb_printf(b, "%s", h.sha1);
		else if (strcmp(name + 5, "sha256") == 0)
			sb_printf(b, "%s", h.sha256);
		else if (strcmp(name + 5, "sha512") == 0)
			sb_printf(b, "%s", h.sha512);
		else
			break;
		return 0;
	}
	case STORE_NODE_FORMAT:
	case STORE_NODE_NSDIR:
	case STORE_NODE_SYNTH:
		break;
	}
	return cafs_error_set(e, CAFS_NOT_FOUND, ENODATA, "no attribute 'user.cafs.%s'", name);
}

static const char *const *xattr_names(enum store_node_kind k)
{
	static const char *const root[] = {"domain", NULL};
	static const char *const repo[] = {"upstreams", "external-connection", "description", NULL};
	static const char *const pkg[] = {"origin.publish", "origin.upstream", "package-group",
					  "explain",        "dist-tags",       NULL};
	static const char *const ver[] = {"status",
					  "revision",
					  "origin",
					  "published-time",
					  "summary",
					  "home-page",
					  "source-code-repository",
					  "licenses",
					  "dependencies",
					  "retained",
					  "explain",
					  NULL};
	static const char *const asset[] = {"size",        "hash.md5",    "hash.sha1",
					    "hash.sha256", "hash.sha512", NULL};
	static const char *const none[] = {NULL};

	switch (k) {
	case STORE_NODE_ROOT:
		return root;
	case STORE_NODE_REPO:
		return repo;
	case STORE_NODE_PACKAGE:
		return pkg;
	case STORE_NODE_VERSION:
		return ver;
	case STORE_NODE_ASSET:
		return asset;
	case STORE_NODE_FORMAT:
	case STORE_NODE_NSDIR:
	case STORE_NODE_SYNTH:
		break;
	}
	return none;
}

/* listxattr/getxattr buffer rules: @bufsz 0 asks the size; too small is ERANGE. */
static int copy_out(const char *v, size_t len, char *buf, size_t bufsz, struct cafs_error *e)
{
	if (bufsz == 0)
		return (int)len;
	if (len > bufsz)
		return cafs_error_set(e, CAFS_VALIDATION, ERANGE, "attribute buffer too small");
	memcpy(buf, v, len);
	return (int)len;
}

int store_view_xattr_list(struct store *s, const struct store_node *n, char *buf, size_t bufsz,
			  struct cafs_error *e)
{
	const char *const *names = xattr_names(n->kind);
	struct sbuf out = {0};
	int r;

	for (size_t i = 0; names[i]; i++) {
		struct sbuf v = {0};
		struct cafs_error ignored;

		/* an asset has every attribute; computing hashes just to list names could read
		 * the whole blob */
		if (n->kind == STORE_NODE_ASSET || xattr_value(s, n, names[i], &v, &ignored) == 0) {
			sb_printf(&out, "user.cafs.%s", names[i]);
			sb_add(&out, "", 1); /* the NUL between names */
		}
		free(v.p);
	}
	if (out.oom) {
		free(out.p);
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	r = copy_out(out.p ? out.p : "", out.len, buf, bufsz, e);
	free(out.p);
	return r;
}

int store_view_xattr_get(struct store *s, const struct store_node *n, const char *name, char *buf,
			 size_t bufsz, struct cafs_error *e)
{
	struct sbuf v = {0};
	int r;

	if (strncmp(name, "user.cafs.", 10) != 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, ENODATA, "no attribute '%s'", name);
	r = xattr_value(s, n, name + 10, &v, e);
	if (r == 0 && v.oom)
		r = cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	if (r == 0)
		r = copy_out(v.p ? v.p : "", v.len, buf, bufsz, e);
	free(v.p);
	return r;
}

uint64_t store_view_digest(const char *data, size_t len)
{
	return XXH3_64bits(data, len);
}
