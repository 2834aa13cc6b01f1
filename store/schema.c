/* SPDX-License-Identifier: MIT */
/*
 * The domain database schema and its migrations. PRAGMA user_version is the schema version;
 * each migration runs in one transaction with the version bump, so a crash leaves the database
 * at the old version or the new one. Migrations are only ever appended: a released one never
 * changes.
 *
 * The data model is CodeArtifact's (spec §1-§6): one domain row, repositories, ordered
 * upstreams, the external connection of a repository and the per-domain source URL of each
 * connection name, packages with their origin configuration, package versions with status,
 * revision, origin and extracted metadata, their assets pointing at deduplicated blobs, their
 * dependencies, npm dist-tags, resource tags, and the audit trail. Package groups arrive in a
 * later migration; nothing here depends on them (a package's group is computed, not stored).
 */
#include <stddef.h>
#include <stdio.h>

#include "store/internal.h"

static const char *const migrations[] = {
	/* 1: the data model */
	"CREATE TABLE domain ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  name TEXT NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  encryption_key TEXT,"
	"  status TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Deleted')),"
	"  created_us INTEGER NOT NULL);"
	"CREATE TABLE repositories ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  description TEXT,"
	"  administrator_account TEXT NOT NULL,"
	"  created_us INTEGER NOT NULL);"
	/* Ordered upstreams: position 0 is searched first. */
	"CREATE TABLE upstreams ("
	"  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL CHECK (position >= 0 AND position < 10),"
	"  upstream_id INTEGER NOT NULL REFERENCES repositories(id),"
	"  PRIMARY KEY (repository_id, position),"
	"  UNIQUE (repository_id, upstream_id),"
	"  CHECK (repository_id <> upstream_id)) WITHOUT ROWID;"
	"CREATE INDEX upstreams_by_upstream ON upstreams(upstream_id);"
	/* At most one external connection per repository (spec §1.4). */
	"CREATE TABLE repository_external_connections ("
	"  repository_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  format TEXT NOT NULL,"
	"  created_us INTEGER NOT NULL);"
	/* Where each connection name fetches from in this domain (DESIGN.md §8). */
	"CREATE TABLE external_connection_sources ("
	"  name TEXT PRIMARY KEY,"
	"  url TEXT NOT NULL,"
	"  updated_us INTEGER NOT NULL) WITHOUT ROWID;"
	/* Content-addressed bytes; identity is sha256, address is (xxh128, seq). */
	"CREATE TABLE blobs ("
	"  id INTEGER PRIMARY KEY,"
	"  xxh128 TEXT NOT NULL,"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL UNIQUE,"
	"  md5 TEXT,"
	"  sha1 TEXT,"
	"  sha512 TEXT,"
	"  created_us INTEGER NOT NULL,"
	"  UNIQUE (xxh128, seq));"
	"CREATE TABLE packages ("
	"  id INTEGER PRIMARY KEY,"
	"  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
	"  format TEXT NOT NULL,"
	"  namespace TEXT NOT NULL DEFAULT '',"
	"  name TEXT NOT NULL,"
	"  display_name TEXT,"
	"  origin_publish TEXT NOT NULL CHECK (origin_publish IN ('ALLOW', 'BLOCK')),"
	"  origin_upstream TEXT NOT NULL CHECK (origin_upstream IN ('ALLOW', 'BLOCK')),"
	"  created_us INTEGER NOT NULL,"
	"  UNIQUE (repository_id, format, namespace, name));"
	"CREATE INDEX packages_by_name ON packages(format, namespace, name);"
	"CREATE TABLE package_versions ("
	"  id INTEGER PRIMARY KEY,"
	"  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,"
	"  version TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('Published', 'Unfinished', 'Unlisted', 'Archived', 'Disposed')),"
	"  revision TEXT NOT NULL,"
	"  origin_type TEXT NOT NULL CHECK (origin_type IN ('INTERNAL', 'EXTERNAL', 'UNKNOWN')),"
	"  entry_repository TEXT,"
	"  entry_external_connection TEXT,"
	"  published_us INTEGER,"
	"  display_name TEXT,"
	"  summary TEXT,"
	"  home_page TEXT,"
	"  source_code_repository TEXT,"
	"  licenses TEXT," /* JSON list of {name, url} */
	"  readme TEXT,"
	"  requires_python TEXT,"
	"  maven_snapshot_build TEXT," /* timestamp-buildNumber of a SNAPSHOT build */
	"  created_us INTEGER NOT NULL,"
	"  updated_us INTEGER NOT NULL,"
	"  UNIQUE (package_id, version),"
	"  CHECK ((entry_repository IS NULL) <> (entry_external_connection IS NULL)"
	"         OR origin_type = 'UNKNOWN'));"
	"CREATE INDEX package_versions_by_published ON package_versions(package_id, published_us);"
	"CREATE TABLE assets ("
	"  id INTEGER PRIMARY KEY,"
	"  version_id INTEGER NOT NULL REFERENCES package_versions(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  blob_id INTEGER NOT NULL REFERENCES blobs(id),"
	"  created_us INTEGER NOT NULL,"
	"  UNIQUE (version_id, name));"
	"CREATE INDEX assets_by_blob ON assets(blob_id);"
	"CREATE TABLE dependencies ("
	"  version_id INTEGER NOT NULL REFERENCES package_versions(id) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL,"
	"  namespace TEXT NOT NULL DEFAULT '',"
	"  package TEXT NOT NULL,"
	"  dependency_type TEXT,"
	"  version_requirement TEXT,"
	"  PRIMARY KEY (version_id, position)) WITHOUT ROWID;"
	/* npm dist-tags of a package in a repository. */
	"CREATE TABLE dist_tags ("
	"  package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,"
	"  tag TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  PRIMARY KEY (package_id, tag)) WITHOUT ROWID;"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  time_us INTEGER NOT NULL,"
	"  who TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  resource TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  reason TEXT);",

	/* 2: resource tags (TagResource) keyed by ARN, and the audit trail by time */
	"CREATE TABLE resource_tags ("
	"  resource_arn TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (resource_arn, key)) WITHOUT ROWID;"
	"CREATE INDEX audit_by_time ON audit(time_us);",

	/* 3: a wheel's core metadata file (PEP 658), stored as a blob beside the asset */
	"ALTER TABLE assets ADD COLUMN metadata_blob_id INTEGER REFERENCES blobs(id);"
	"CREATE INDEX assets_by_metadata_blob ON assets(metadata_blob_id)"
	" WHERE metadata_blob_id IS NOT NULL;",

	/* 4: package groups (spec §7): patterns in canonical form, and the root group, which
	   matches everything */
	"CREATE TABLE package_groups ("
	"  id INTEGER PRIMARY KEY,"
	"  pattern TEXT NOT NULL UNIQUE,"
	"  description TEXT,"
	"  contact_info TEXT,"
	"  publish TEXT NOT NULL CHECK (publish IN"
	"    ('INHERIT', 'ALLOW', 'ALLOW_SPECIFIC_REPOSITORIES', 'BLOCK')),"
	"  external_upstream TEXT NOT NULL CHECK (external_upstream IN"
	"    ('INHERIT', 'ALLOW', 'ALLOW_SPECIFIC_REPOSITORIES', 'BLOCK')),"
	"  internal_upstream TEXT NOT NULL CHECK (internal_upstream IN"
	"    ('INHERIT', 'ALLOW', 'ALLOW_SPECIFIC_REPOSITORIES', 'BLOCK')),"
	"  created_us INTEGER NOT NULL);"
	"CREATE TABLE package_group_allowed ("
	"  group_id INTEGER NOT NULL REFERENCES package_groups(id) ON DELETE CASCADE,"
	"  restriction TEXT NOT NULL CHECK (restriction IN"
	"    ('PUBLISH', 'EXTERNAL_UPSTREAM', 'INTERNAL_UPSTREAM')),"
	"  repository TEXT NOT NULL,"
	"  PRIMARY KEY (group_id, restriction, repository)) WITHOUT ROWID;"
	"INSERT INTO package_groups (pattern, publish, external_upstream, internal_upstream,"
	"  created_us) VALUES ('/*', 'ALLOW', 'ALLOW', 'ALLOW',"
	"  CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));",

	/* 5: external sources (DESIGN.md §8): per-connection cache and network settings, and the
	   cached answers of each source: one listing per package, its versions, files and npm
	   dist-tags. found = 0 is a cached "no such package". */
	"ALTER TABLE external_connection_sources ADD COLUMN ttl_s INTEGER NOT NULL DEFAULT 600;"
	"ALTER TABLE external_connection_sources ADD COLUMN negative_ttl_s INTEGER NOT NULL"
	"  DEFAULT 60;"
	"ALTER TABLE external_connection_sources ADD COLUMN max_stale_s INTEGER NOT NULL"
	"  DEFAULT 86400;"
	"ALTER TABLE external_connection_sources ADD COLUMN timeout_s INTEGER NOT NULL DEFAULT 30;"
	"ALTER TABLE external_connection_sources ADD COLUMN retries INTEGER NOT NULL DEFAULT 2;"
	"CREATE TABLE external_listings ("
	"  id INTEGER PRIMARY KEY,"
	"  connection TEXT NOT NULL,"
	"  namespace TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  url TEXT NOT NULL,"
	"  found INTEGER NOT NULL,"
	"  fetched_us INTEGER NOT NULL,"
	"  UNIQUE (connection, namespace, name));"
	"CREATE TABLE external_versions ("
	"  listing_id INTEGER NOT NULL REFERENCES external_listings(id) ON DELETE CASCADE,"
	"  version TEXT NOT NULL,"
	"  position INTEGER NOT NULL,"
	"  published_us INTEGER NOT NULL,"
	"  yanked INTEGER NOT NULL,"
	"  PRIMARY KEY (listing_id, version)) WITHOUT ROWID;"
	"CREATE TABLE external_files ("
	"  listing_id INTEGER NOT NULL REFERENCES external_listings(id) ON DELETE CASCADE,"
	"  version TEXT NOT NULL,"
	"  file TEXT NOT NULL,"
	"  url TEXT NOT NULL,"
	"  present INTEGER NOT NULL,"
	"  hash_algo TEXT,"
	"  hash_hex TEXT,"
	"  size INTEGER NOT NULL,"
	"  requires_python TEXT,"
	"  yanked INTEGER NOT NULL,"
	"  probed_us INTEGER NOT NULL,"
	"  PRIMARY KEY (listing_id, version, file)) WITHOUT ROWID;"
	"CREATE TABLE external_dist_tags ("
	"  listing_id INTEGER NOT NULL REFERENCES external_listings(id) ON DELETE CASCADE,"
	"  tag TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  PRIMARY KEY (listing_id, tag)) WITHOUT ROWID;",

	/* 6: resource policies (spec §8.1): one document per domain or repository ARN, with the
	   revision a Put or Delete must name */
	"CREATE TABLE permission_policies ("
	"  resource_arn TEXT PRIMARY KEY,"
	"  revision TEXT NOT NULL,"
	"  document TEXT NOT NULL,"
	"  updated_us INTEGER NOT NULL) WITHOUT ROWID;",

	/* 7: a package's versions by publish time with their status, so that whether a package
	   has a version a client sees is answered from the index alone (a listing asks it once
	   per package) */
	"DROP INDEX package_versions_by_published;"
	"CREATE INDEX package_versions_by_published_status ON package_versions(package_id,"
	"  published_us, status);",
};

int store_schema_version(void)
{
	return (int)ARRAY_SIZE(migrations);
}

static int exec(sqlite3 *db, const char *sql, const char *what, struct cafs_error *e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int r = cafs_error_set(e, rc == SQLITE_BUSY ? CAFS_THROTTLED : CAFS_INTERNAL, 0,
				       "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

static int user_version(sqlite3 *db, int *ret, struct cafs_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		*ret = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	return cafs_error_set(e, CAFS_INTERNAL, 0, "read schema version: %s", sqlite3_errmsg(db));
}

int store_schema_migrate(sqlite3 *db, int target_version, struct cafs_error *e)
{
	int newest = store_schema_version();
	int cur;
	int r;

	if (target_version <= 0 || target_version > newest)
		target_version = newest;
	r = user_version(db, &cur, e);
	if (r < 0)
		return r;
	if (cur > newest)
		return cafs_error_set(
			e, CAFS_VALIDATION, 0,
			"domain database has schema version %d; this cafs knows up to "
			"%d: upgrade cafs",
			cur, newest);
	while (cur < target_version) {
		char bump[64];

		/* IMMEDIATE: a second process migrating at once waits, then sees the new version */
		r = exec(db, "BEGIN IMMEDIATE", "begin migration", e);
		if (r < 0)
			return r;
		r = user_version(db, &cur, e);
		if (r < 0 || cur >= target_version) {
			(void)sqlite3_exec(db, r < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
			return r;
		}
		(void)snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", cur + 1);
		r = exec(db, migrations[cur], "migrate schema", e);
		if (r == 0)
			r = exec(db, bump, "migrate schema", e);
		if (r == 0)
			r = exec(db, "COMMIT", "commit migration", e);
		if (r < 0) {
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
		cur++;
	}
	return 0;
}
