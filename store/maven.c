/* SPDX-License-Identifier: MIT */
/*
 * Maven specifics of publishing: SNAPSHOT builds and the maven-metadata.xml that finishes a
 * deploy. A SNAPSHOT version ("1.0-SNAPSHOT") always holds its newest build's files; when the
 * first file of a new build arrives, the files of the previous build move to a version named
 * by that build ("1.0-20260101.120000-1"), Unlisted, so `mvn` keeps resolving the newest and
 * a pinned build stays reachable (CodeArtifact's build versions). The maven-metadata.xml that
 * mvn writes last is parsed (expat, no DOCTYPE) only to learn which versions it announces.
 */
#include "store/maven.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"

bool store_maven_snapshot_build(const char *artifact, const char *version, const char *file,
				char *buf, size_t bufsz)
{
	size_t al = strlen(artifact), bl;
	const char *p;
	const char *ts;
	size_t n;

	if (!artifact || !version || !file)
		return false;
	bl = strlen(version);
	if (bl < 9 || strcmp(version + bl - 9, "-SNAPSHOT") != 0)
		return false;
	bl -= 9; /* the base version, "1.0" */
	if (strncmp(file, artifact, al) != 0 || file[al] != '-' ||
	    strncmp(file + al + 1, version, bl) != 0 || file[al + 1 + bl] != '-')
		return false;
	ts = p = file + al + 1 + bl + 1;
	/* yyyymmdd.hhmmss-N */
	for (int i = 0; i < 15; i++, p++)
		if (i == 8 ? *p != '.' : !(*p >= '0' && *p <= '9'))
			return false;
	if (*p++ != '-' || !(*p >= '1' && *p <= '9'))
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p != '.' && *p != '-')
		return false;
	n = (size_t)(p - ts);
	if (n + 1 > bufsz)
		return false;
	memcpy(buf, ts, n);
	buf[n] = '\0';
	return true;
}

/* maven-metadata.xml: the few elements that say what it announces. */
struct md_parse {
	XML_Parser parser;
	int depth;
	char path[256]; /* "/metadata/versioning/versions/version" */
	char text[1024];
	size_t text_len;
	char group[256];
	char artifact[256];
	char version[256];
	char **versions;
	size_t n_versions;
	bool refused;
	bool oom;
};

static void XMLCALL md_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct md_parse *p = ud;
	size_t len = strlen(p->path);

	(void)attrs;
	p->depth++;
	if (len + strlen(name) + 2 < sizeof(p->path)) {
		p->path[len] = '/';
		(void)snprintf(p->path + len + 1, sizeof(p->path) - len - 1, "%s", name);
	}
	p->text_len = 0;
	p->text[0] = '\0';
}

static void XMLCALL md_text(void *ud, const XML_Char *s, int len)
{
	struct md_parse *p = ud;

	for (int i = 0; i < len && p->text_len + 1 < sizeof(p->text); i++)
		p->text[p->text_len++] = s[i];
	p->text[p->text_len] = '\0';
}

static char *trimmed(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void XMLCALL md_end(void *ud, const XML_Char *name)
{
	struct md_parse *p = ud;
	char *t = trimmed(p->text);
	char *slash;

	(void)name;
	if (strcmp(p->path, "/metadata/groupId") == 0)
		(void)snprintf(p->group, sizeof(p->group), "%s", t);
	else if (strcmp(p->path, "/metadata/artifactId") == 0)
		(void)snprintf(p->artifact, sizeof(p->artifact), "%s", t);
	else if (strcmp(p->path, "/metadata/version") == 0)
		(void)snprintf(p->version, sizeof(p->version), "%s", t);
	else if (strcmp(p->path, "/metadata/versioning/versions/version") == 0 && *t) {
		char **nv = reallocarray(p->versions, p->n_versions + 1, sizeof(*nv));

		if (!nv || !(nv[p->n_versions] = strdup(t))) {
			if (nv)
				p->versions = nv;
			p->oom = true;
			XML_StopParser(p->parser, XML_FALSE);
			return;
		}
		p->versions = nv;
		p->n_versions++;
	}
	slash = strrchr(p->path, '/');
	if (slash)
		*slash = '\0';
	p->depth--;
	p->text_len = 0;
	p->text[0] = '\0';
}

static void XMLCALL md_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	struct md_parse *p = ud;

	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	p->refused = true;
	XML_StopParser(p->parser, XML_FALSE);
}

/* Set version @ver Published (with its published time) if it is Unfinished; 1 if it was. */
static int finish_version(struct store *s, int64_t pkg, const char *version, struct cafs_error *e)
{
	sqlite3_stmt *st =
		store_stmt(s,
			   "UPDATE package_versions SET status = 'Published', "
			   "published_us = ?, updated_us = ? "
			   "WHERE package_id = ? AND version = ? AND status = 'Unfinished'",
			   e);
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_now_us());
	sqlite3_bind_int64(st, 2, store_now_us());
	sqlite3_bind_int64(st, 3, pkg);
	sqlite3_bind_text(st, 4, version, -1, SQLITE_STATIC);
	r = store_step_done(s, st, "finish version", e);
	return r < 0 ? r : sqlite3_changes(s->db);
}

/* Parse @xml into @p; ValidationException when it is not a maven-metadata.xml. */
static int md_parse_xml(struct md_parse *p, const void *xml, size_t len, struct cafs_error *e)
{
	int r = 0;

	if (len > (1u << 20))
		return cafs_error_set(e, CAFS_VALIDATION, EFBIG,
				      "maven-metadata.xml of %zu bytes is larger than 1 MiB", len);
	p->parser = XML_ParserCreate(NULL);
	if (!p->parser)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	XML_SetUserData(p->parser, p);
	XML_SetElementHandler(p->parser, md_start, md_end);
	XML_SetCharacterDataHandler(p->parser, md_text);
	XML_SetDoctypeDeclHandler(p->parser, md_doctype, NULL);
	if (XML_Parse(p->parser, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR || p->refused ||
	    p->oom)
		r = cafs_error_set(e, p->oom ? CAFS_INTERNAL : CAFS_VALIDATION, 0,
				   "maven-metadata.xml is not valid: %s",
				   p->refused ? "a DOCTYPE is not allowed"
					      : XML_ErrorString(XML_GetErrorCode(p->parser)));
	XML_ParserFree(p->parser);
	p->parser = NULL;
	if (r == 0 && (!p->group[0] || !p->artifact[0]))
		r = cafs_error_set(e, CAFS_VALIDATION, 0,
				   "maven-metadata.xml names no groupId or no artifactId");
	return r;
}

int store_maven_metadata_put(struct store *s, const char *repository, const char *group,
			     const char *artifact, const void *xml, size_t len,
			     struct cafs_error *e)
{
	struct md_parse p = {0};
	struct store_coord coord = {CAFS_FORMAT_MAVEN, NULL, NULL, NULL};
	struct store_pkg_coord sc = {0};
	char resource[2048] = "";
	int64_t pkg = 0;
	int finished = 0;
	int r;

	r = md_parse_xml(&p, xml, len, e);
	if (r == 0 && group && artifact &&
	    (strcmp(p.group, group) != 0 || strcmp(p.artifact, artifact) != 0))
		r = cafs_error_set(e, CAFS_VALIDATION, 0,
				   "maven-metadata.xml names %s:%s but was written for %s:%s",
				   p.group, p.artifact, group, artifact);
	coord.namespace_ = p.group;
	coord.package = p.artifact;
	if (r == 0)
		r = store_pkg_coord(&coord, &sc, e);
	if (r == 0)
		store_pkg_resource(s, repository, &sc, resource, sizeof(resource));
	if (r == 0)
		r = store_txn_begin(s, e);
	if (r == 0)
		r = store_pkg_load(s, repository, &sc, &pkg, NULL, e);
	if (r == 0 && p.version[0]) {
		r = finish_version(s, pkg, p.version, e);
		finished += r > 0 ? r : 0;
	}
	for (size_t i = 0; r >= 0 && i < p.n_versions; i++) {
		r = finish_version(s, pkg, p.versions[i], e);
		finished += r > 0 ? r : 0;
	}
	if (r >= 0)
		r = store_audit(s, "PutPackageMetadata", resource, "ok",
				finished ? "finished Unfinished versions" : "no change", e);
	if (r >= 0)
		r = store_txn_commit(s, e);
	for (size_t i = 0; i < p.n_versions; i++)
		free(p.versions[i]);
	free(p.versions);
	if (r < 0) {
		store_audit_refusal(s, "PutPackageMetadata", resource[0] ? resource : "maven", e);
		return r;
	}
	return finished;
}

int store_maven_rotate_snapshot(struct store *s, int64_t pkg, int64_t ver,
				const struct store_pkg_coord *c, const char *build,
				struct cafs_error *e)
{
	char cur[32] = "";
	char build_version[CAFS_PACKAGE_FIELD_MAX + 1];
	char revision[64];
	sqlite3_stmt *st;
	int64_t old;
	int r;

	st = store_stmt(s,
			"SELECT coalesce(maven_snapshot_build, '') FROM package_versions "
			"WHERE id = ?",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, ver);
	if (sqlite3_step(st) == SQLITE_ROW)
		(void)snprintf(cur, sizeof(cur), "%s", (const char *)sqlite3_column_text(st, 0));
	(void)sqlite3_reset(st);
	if (strcmp(cur, build) == 0)
		return 0;
	/* builds only move forward: "yyyymmdd.hhmmss-N", timestamp then build number */
	if (cur[0] && (strncmp(build, cur, 15) < 0 ||
		       (strncmp(build, cur, 15) == 0 && atol(build + 16) < atol(cur + 16))))
		return cafs_error_set(
			e, CAFS_CONFLICT, EEXIST,
			"SNAPSHOT build %s of '%s' is older than the current build %s", build,
			c->display, cur);
	if (cur[0]) {
		/* "1.0-SNAPSHOT" + "20260101.120000-1" → "1.0-20260101.120000-1" */
		(void)snprintf(build_version, sizeof(build_version), "%.*s-%s",
			       (int)(strlen(c->version) - 9), c->version, cur);
		st = store_stmt(
			s,
			"INSERT INTO package_versions (package_id, version, status, "
			"revision, origin_type, entry_repository, entry_external_connection, "
			"published_us, display_name, summary, home_page, "
			"source_code_repository, licenses, readme, maven_snapshot_build, "
			"created_us, updated_us) SELECT package_id, ?, 'Unlisted', revision, "
			"origin_type, entry_repository, entry_external_connection, "
			"published_us, display_name, summary, home_page, "
			"source_code_repository, licenses, readme, NULL, "
			"created_us, ? FROM package_versions WHERE id = ? "
			"ON CONFLICT (package_id, version) DO NOTHING",
			e);
		if (!st)
			return -EIO;
		sqlite3_bind_text(st, 1, build_version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, store_now_us());
		sqlite3_bind_int64(st, 3, ver);
		r = store_step_done(s, st, "keep the previous SNAPSHOT build", e);
		if (r < 0)
			return r;
		if (sqlite3_changes(s->db) == 0)
			return cafs_error_set(e, CAFS_CONFLICT, EEXIST,
					      "SNAPSHOT build version '%s' of '%s' already exists",
					      build_version, c->display);
		old = sqlite3_last_insert_rowid(s->db);
		st = store_stmt(s, "UPDATE assets SET version_id = ? WHERE version_id = ?", e);
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, old);
		sqlite3_bind_int64(st, 2, ver);
		r = store_step_done(s, st, "move the previous build's files", e);
		if (r == 0) {
			st = store_stmt(s,
					"INSERT INTO dependencies SELECT ?, position, namespace, "
					"package, dependency_type, version_requirement FROM "
					"dependencies WHERE version_id = ?",
					e);
			if (!st)
				return -EIO;
			sqlite3_bind_int64(st, 1, old);
			sqlite3_bind_int64(st, 2, ver);
			r = store_step_done(s, st, "keep the previous build's dependencies", e);
		}
		if (r == 0)
			r = store_pkg_update_revision(s, old, revision, e);
		if (r < 0)
			return r;
	}
	st = store_stmt(s, "UPDATE package_versions SET maven_snapshot_build = ? WHERE id = ?", e);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, build, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ver);
	(void)pkg;
	r = store_step_done(s, st, "record the SNAPSHOT build", e);
	return r < 0 ? r : (cur[0] ? 1 : 0);
}
