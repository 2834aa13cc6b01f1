/* SPDX-License-Identifier: MIT */
/*
 * Schema creation and migration: a new domain is at the newest user_version with every table;
 * a database left at version 1 by an older cafs is migrated on open with its rows kept; a
 * database from a newer cafs is refused, not damaged.
 */
#include <errno.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/store.h"
#include "tests/unit/unit.h"

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
	char *root = strdup("/tmp/cafs-test-schema-XXXXXX");

	assert_non_null(mkdtemp(root));
	*state = root;
	return 0;
}

static int teardown(void **state)
{
	(void)nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(*state);
	return 0;
}

static int query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void new_domain_is_newest(void **state)
{
	const char *root = *state;
	struct store *s = NULL;
	struct cafs_error e;
	static const char *const tables[] = {
		"domain",
		"repositories",
		"upstreams",
		"repository_external_connections",
		"blobs",
		"packages",
		"package_versions",
		"assets",
		"dependencies",
		"dist_tags",
		"audit",
		"resource_tags",
		"external_connection_sources",
	};

	assert_int_equal(store_domain_create(root, "fresh", NULL, NULL, 0, &s, &e), 0);
	assert_int_equal(query_int(s->db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(query_int(s->db, "PRAGMA foreign_keys"), 1);
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		char sql[256];

		(void)snprintf(
			sql, sizeof(sql),
			"SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
			tables[i]);
		assert_int_equal(query_int(s->db, sql), 1);
	}
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
	}
	/* the creation is audited */
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM audit WHERE action='CreateDomain'"),
			 1);
	store_close(s);
	/* a second create of the same name is a conflict */
	assert_true(store_domain_create(root, "fresh", NULL, NULL, 0, &s, &e) < 0);
	assert_int_equal(e.kind, CAFS_CONFLICT);
}

/* Make a domain folder whose database was written by a cafs that knew only @version. */
static void make_old_domain(const char *root, const char *name, int version)
{
	char path[512];
	sqlite3 *db;
	struct cafs_error e;

	(void)snprintf(path, sizeof(path), "%s/%s", root, name);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/%s/blobs", root, name);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/%s/tmp", root, name);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/%s/domain.db", root, name);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(store_schema_migrate(db, version, &e), 0);
	assert_int_equal(query_int(db, "PRAGMA user_version"), version);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO domain (id, name, owner, created_us) VALUES "
				      "(1, 'old', '000000000000', 1);"
				      "INSERT INTO repositories (name, administrator_account, "
				      "created_us) VALUES ('kept', '000000000000', 2);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
}

static void migrates_from_version_1(void **state)
{
	const char *root = *state;
	struct store *s = NULL;
	struct store_repository repo;
	struct store_tag tag = {"team", "core"};
	struct cafs_error e;

	make_old_domain(root, "old", 1);
	assert_int_equal(store_open(root, "old", &s, &e), 0);
	assert_int_equal(query_int(s->db, "PRAGMA user_version"), store_schema_version());
	assert_true(store_schema_version() >= 2);
	/* rows of the old version are kept */
	assert_int_equal(store_repository_describe(s, "kept", &repo, &e), 0);
	assert_int_equal(repo.created_us, 2);
	/* what version 2 added works */
	assert_int_equal(store_repository_create(s, "tagged", NULL, NULL, 0, &tag, 1, &repo, &e),
			 0);
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM resource_tags"), 1);
	assert_int_equal(
		query_int(s->db, "SELECT count(*) FROM sqlite_master WHERE name='audit_by_time'"),
		1);
	store_close(s);
	/* opening again is a no-op */
	assert_int_equal(store_open(root, "old", &s, &e), 0);
	assert_int_equal(query_int(s->db, "PRAGMA user_version"), store_schema_version());
	store_close(s);
}

static void refuses_newer_database(void **state)
{
	const char *root = *state;
	struct store *s = NULL;
	struct cafs_error e;
	char path[512];
	sqlite3 *db;

	make_old_domain(root, "future", 1);
	(void)snprintf(path, sizeof(path), "%s/future/domain.db", root);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_true(store_open(root, "future", &s, &e) < 0);
	assert_null(s);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_non_null(strstr(e.msg, "999"));
	/* and left it as it was */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 999);
	sqlite3_close(db);
}

static void missing_domain_is_not_found(void **state)
{
	struct store *s = NULL;
	struct cafs_error e;

	assert_int_equal(store_open(*state, "nowhere", &s, &e), -ENOENT);
	assert_int_equal(e.kind, CAFS_NOT_FOUND);
	assert_int_equal(store_open(*state, "Bad_Name", &s, &e), -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(new_domain_is_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(migrates_from_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_newer_database, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_domain_is_not_found, setup, teardown),
	};

	return cmocka_run_group_tests_name("store_schema", tests, NULL, NULL);
}
