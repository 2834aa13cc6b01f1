/* SPDX-License-Identifier: MIT */
/*
 * Domains: the store root holds one folder per domain, each with domain.db and blobs/. This
 * file opens and creates domains, runs the SQLite plumbing every other store file uses
 * (prepared-statement cache, transactions, error mapping) and keeps the audit trail.
 *
 * Invariants: a domain folder is only visible under its final name once its database holds the
 * domain row (create builds it under a dot name and renames it into place); every mutating
 * store call writes one audit row in its own transaction, or one refusal row after rolling
 * back. Workload: the CLI opens a handle per command; the mount keeps one per worker thread.
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/blob.h"
#include "store/internal.h"

#define BUSY_TIMEOUT_MS 30000

int64_t store_now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *store_default_root(const char *explicit_root)
{
	const char *v;
	char *p = NULL;

	if (explicit_root && *explicit_root)
		return strdup(explicit_root);
	v = getenv("CAFS_STORE");
	if (v && *v)
		return strdup(v);
	v = getenv("XDG_DATA_HOME");
	if (v && *v)
		return asprintf(&p, "%s/cafs", v) < 0 ? NULL : p;
	v = getenv("HOME");
	if (!v || !*v) {
		struct passwd *pw = getpwuid(geteuid());

		v = pw ? pw->pw_dir : NULL;
	}
	if (!v)
		return NULL;
	return asprintf(&p, "%s/.local/share/cafs", v) < 0 ? NULL : p;
}

void store_local_account(char buf[CAFS_ACCOUNT_ID_LEN + 1])
{
	(void)snprintf(buf, CAFS_ACCOUNT_ID_LEN + 1, "%012u", (unsigned int)geteuid());
}

int store_sql_error(struct store *s, int rc, const char *what, struct cafs_error *e)
{
	int primary = rc & 0xff;
	const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

	if (primary == SQLITE_CONSTRAINT)
		return cafs_error_set(e, CAFS_CONFLICT, 0, "%s: %s", what, msg);
	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		return cafs_error_set(e, CAFS_THROTTLED, 0, "%s: database is busy: %s", what, msg);
	if (primary == SQLITE_FULL)
		return cafs_error_set(e, CAFS_IO, ENOSPC, "%s: %s", what, msg);
	if (primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_CANTOPEN)
		return cafs_error_set(e, CAFS_IO, EIO, "%s: %s", what, msg);
	return cafs_error_set(e, CAFS_INTERNAL, 0, "%s: %s", what, msg);
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql, struct cafs_error *e)
{
	struct store_stmt_slot *free_slot = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
		struct store_stmt_slot *slot = &s->stmts[i];

		if (slot->sql == sql) {
			(void)sqlite3_reset(slot->stmt);
			(void)sqlite3_clear_bindings(slot->stmt);
			if (s->read_snap && !sqlite3_stmt_readonly(slot->stmt))
				store_read_end(s); /* a write sees, and leaves, the latest state */
			return slot->stmt;
		}
		if (!slot->sql && !free_slot)
			free_slot = slot;
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		(void)store_sql_error(s, rc, "prepare statement", e);
		return NULL;
	}
	if (!free_slot) {
		/* full: evict a statement nobody is stepping through; the cache is sized above
		 * the number of distinct statements in store/, so this is a safety net */
		for (size_t i = 0; i < STORE_STMT_CACHE && !free_slot; i++)
			if (!sqlite3_stmt_busy(s->stmts[i].stmt))
				free_slot = &s->stmts[i];
		if (!free_slot) {
			sqlite3_finalize(st);
			(void)cafs_error_set(e, CAFS_INTERNAL, 0, "statement cache exhausted");
			return NULL;
		}
		sqlite3_finalize(free_slot->stmt);
	}
	free_slot->sql = sql;
	free_slot->stmt = st;
	if (s->read_snap && !sqlite3_stmt_readonly(st))
		store_read_end(s);
	return st;
}

bool store_read_begin(struct store *s)
{
	if (s->txn_depth > 0 || s->read_snap || !sqlite3_get_autocommit(s->db))
		return false;
	s->read_snap = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	return s->read_snap;
}

void store_read_end(struct store *s)
{
	if (!s->read_snap)
		return;
	s->read_snap = false;
	if (s->txn_depth == 0 && !sqlite3_get_autocommit(s->db) &&
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_exec(struct store *s, const char *sql, struct cafs_error *e)
{
	int rc;

	store_read_end(s); /* a write, or a transaction of its own */
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sql_error(s, rc, sql, e);
	return 0;
}

int store_txn_begin(struct store *s, struct cafs_error *e)
{
	int r;

	if (s->txn_depth > 0) {
		s->txn_depth++;
		return 0;
	}
	r = store_exec(s, "BEGIN IMMEDIATE", e);
	if (r < 0)
		return r;
	s->txn_depth = 1;
	return 0;
}

int store_txn_commit(struct store *s, struct cafs_error *e)
{
	int r;

	if (s->txn_depth > 1) {
		s->txn_depth--;
		return 0;
	}
	r = store_exec(s, "COMMIT", e);
	if (r < 0) {
		store_txn_rollback(s);
		return r;
	}
	s->txn_depth = 0;
	s->commits++;
	return 0;
}

void store_txn_rollback(struct store *s)
{
	if (s->txn_depth == 0)
		return;
	/* a nested failure aborts the whole transaction: the outer caller sees the error */
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->txn_depth = 0;
}

int store_audit(struct store *s, const char *action, const char *resource, const char *outcome,
		const char *reason, struct cafs_error *e)
{
	sqlite3_stmt *st = store_stmt(s,
				      "INSERT INTO audit (time_us, who, action, resource, outcome, "
				      "reason) VALUES (?, ?, ?, ?, ?, ?)",
				      e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_now_us());
	sqlite3_bind_text(st, 2, s->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, outcome, -1, SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sql_error(s, rc, "write audit row", e);
	return 0;
}

void store_audit_refusal(struct store *s, const char *action, const char *resource,
			 const struct cafs_error *err)
{
	/* outside any transaction (the refused one was rolled back); a failure to audit a
	 * refusal must not hide the refusal itself, so it is ignored */
	store_txn_rollback(s);
	(void)store_audit(s, action, resource, cafs_kind_exception(err->kind), err->msg, NULL);
}

static void default_actor(struct store *s)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw)
		(void)snprintf(s->actor, sizeof(s->actor), "uid:%u(%s)", (unsigned int)geteuid(),
			       pw->pw_name);
	else
		(void)snprintf(s->actor, sizeof(s->actor), "uid:%u", (unsigned int)geteuid());
}

void store_set_actor(struct store *s, const char *who)
{
	(void)snprintf(s->actor, sizeof(s->actor), "%s", who);
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_group_set_free(s->groups);
	store_orders_free(s);
	store_perms_free(s);
	for (size_t i = 0; i < STORE_ROOT_INDEX_CACHE; i++)
		free(s->root_index[i].data);
	for (size_t i = 0; i < STORE_STMT_CACHE; i++)
		sqlite3_finalize(s->stmts[i].stmt);
	if (s->db)
		(void)sqlite3_close(s->db);
	if (s->tmp_fd >= 0)
		(void)close(s->tmp_fd);
	if (s->blobs_fd >= 0)
		(void)close(s->blobs_fd);
	if (s->dir_fd >= 0)
		(void)close(s->dir_fd);
	free(s->root);
	free(s->dir);
	free(s->name);
	free(s);
}

static struct store *store_alloc(const char *root, const char *name)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->dir_fd = s->blobs_fd = s->tmp_fd = -1;
	s->root = strdup(root);
	s->name = strdup(name);
	if (!s->root || !s->name || asprintf(&s->dir, "%s/%s", root, name) < 0) {
		s->dir = NULL;
		store_close(s);
		return NULL;
	}
	default_actor(s);
	return s;
}

/*
 * Once per process, before the first connection: no allocation statistics, which SQLite
 * would otherwise keep under one process-wide mutex taken at every allocation of every
 * connection (each FUSE worker has its own; nothing here reads the statistics). A process
 * that set SQLite up before us keeps its own settings.
 */
static void sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	(void)sqlite3_initialize();
}

/* Open the database at @dir and bring it to the newest schema. */
static int db_open(struct store *s, const char *dir, bool create, struct cafs_error *e)
{
	_cleanup_free_ char *path = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int rc;

	(void)pthread_once(&once, sqlite_setup);
	if (asprintf(&path, "%s/" STORE_DB_NAME, dir) < 0)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK)
		return cafs_error_set(e, CAFS_IO, EIO, "open database '%s': %s", path,
				      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	(void)sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	(void)sqlite3_extended_result_codes(s->db, 1);
	rc = store_exec(s, "PRAGMA journal_mode = WAL", e);
	if (rc == 0)
		rc = store_exec(s, "PRAGMA synchronous = NORMAL", e);
	if (rc == 0)
		rc = store_exec(s, "PRAGMA foreign_keys = ON", e);
	if (rc < 0)
		return rc;
	return store_schema_migrate(s->db, 0, e);
}

static int open_dirs(struct store *s, struct cafs_error *e)
{
	s->dir_fd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0)
		return cafs_error_set(e, CAFS_IO, errno, "open domain folder '%s': %s", s->dir,
				      strerror(errno));
	s->blobs_fd = openat(s->dir_fd, STORE_BLOBS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->blobs_fd < 0)
		return cafs_error_set(e, CAFS_IO, errno, "open '%s/" STORE_BLOBS_DIR "': %s",
				      s->dir, strerror(errno));
	s->tmp_fd = openat(s->dir_fd, STORE_TMP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->tmp_fd < 0)
		return cafs_error_set(e, CAFS_IO, errno, "open '%s/" STORE_TMP_DIR "': %s", s->dir,
				      strerror(errno));
	return 0;
}

int store_open(const char *root, const char *name, struct store **ret, struct cafs_error *e)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ char *dbpath = NULL;
	int r;

	r = cafs_validate_domain_name(name, e);
	if (r < 0)
		return r;
	s = store_alloc(root, name);
	if (!s)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	if (asprintf(&dbpath, "%s/" STORE_DB_NAME, s->dir) < 0)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	if (access(dbpath, F_OK) < 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, 0, "no domain '%s' in store '%s'", name,
				      root);
	r = open_dirs(s, e);
	if (r < 0)
		return r;
	r = db_open(s, s->dir, false, e);
	if (r < 0)
		return r;
	r = store_blob_sweep(s, e);
	if (r < 0)
		return r;
	*ret = steal_ptr(&s);
	return 0;
}

static int mkdir_p(const char *path, struct cafs_error *e)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return cafs_error_set(e, CAFS_IO, errno, "create folder '%s': %s", p,
					      strerror(errno));
		*c = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return cafs_error_set(e, CAFS_IO, errno, "create folder '%s': %s", p,
				      strerror(errno));
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

static int rm_rf(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int insert_tags(struct store *s, const char *arn, const struct store_tag *tags, size_t n,
		       struct cafs_error *e)
{
	if (n > CAFS_MAX_TAGS)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "%zu tags given; at most 200 are allowed", n);
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st;
		int r = cafs_validate_tag(tags[i].key, tags[i].value, e);

		if (r < 0)
			return r;
		st = store_stmt(
			s,
			"INSERT INTO resource_tags (resource_arn, key, value) VALUES (?, ?, ?) "
			"ON CONFLICT DO UPDATE SET value = excluded.value",
			e);
		if (!st)
			return -EIO;
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, tags[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, tags[i].value ? tags[i].value : "", -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		if (r != SQLITE_DONE)
			return store_sql_error(s, r, "store tag", e);
	}
	return 0;
}

int store_tags_add(struct store *s, const char *arn, const struct store_tag *tags, size_t n,
		   struct cafs_error *e)
{
	return insert_tags(s, arn, tags, n, e);
}

void store_domain_arn(const struct store_domain *d, char *buf, size_t bufsz)
{
	(void)snprintf(buf, bufsz, "arn:aws:codeartifact:" STORE_REGION ":%s:domain/%s", d->owner,
		       d->name);
}

void store_repository_arn(const char *owner, const char *domain, const char *repository, char *buf,
			  size_t bufsz)
{
	(void)snprintf(buf, bufsz, "arn:aws:codeartifact:" STORE_REGION ":%s:repository/%s/%s",
		       owner, domain, repository);
}

/* Build a complete domain (folders, database, domain row, tags, audit) in @s->dir. */
static int build_domain(struct store *s, const char *name, const char *encryption_key,
			const struct store_tag *tags, size_t n_tags, struct cafs_error *e)
{
	struct store_domain d = {0};
	char arn[256];
	sqlite3_stmt *st;
	int r;

	if (mkdir(s->dir, 0755) < 0)
		return cafs_error_set(e, CAFS_IO, errno, "create folder '%s': %s", s->dir,
				      strerror(errno));
	s->dir_fd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0 || mkdirat(s->dir_fd, STORE_BLOBS_DIR, 0755) < 0 ||
	    mkdirat(s->dir_fd, STORE_TMP_DIR, 0700) < 0)
		return cafs_error_set(e, CAFS_IO, errno, "create folders in '%s': %s", s->dir,
				      strerror(errno));
	r = db_open(s, s->dir, true, e);
	if (r < 0)
		return r;
	(void)snprintf(d.name, sizeof(d.name), "%s", name);
	store_local_account(d.owner);
	store_domain_arn(&d, arn, sizeof(arn));
	r = store_txn_begin(s, e);
	if (r < 0)
		return r;
	st = store_stmt(s,
			"INSERT INTO domain (id, name, owner, encryption_key, created_us) "
			"VALUES (1, ?, ?, ?, ?)",
			e);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d.owner, -1, SQLITE_STATIC);
	if (encryption_key && *encryption_key)
		sqlite3_bind_text(st, 3, encryption_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, store_now_us());
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		return store_sql_error(s, r, "create domain", e);
	r = insert_tags(s, arn, tags, n_tags, e);
	if (r == 0)
		r = store_audit(s, "CreateDomain", arn, "ok", NULL, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	return r;
}

int store_domain_create(const char *root, const char *name, const char *encryption_key,
			const struct store_tag *tags, size_t n_tags, struct store **ret,
			struct cafs_error *e)
{
	_cleanup_free_ char *final = NULL;
	_cleanup_free_ char *tmpdir = NULL;
	struct store *s;
	char tmpname[96];
	int r;

	r = cafs_validate_domain_name(name, e);
	if (r < 0)
		return r;
	if (encryption_key && strlen(encryption_key) > 1011)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "encryption key is longer than 1011 characters");
	r = mkdir_p(root, e);
	if (r < 0)
		return r;
	if (asprintf(&final, "%s/%s", root, name) < 0)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	if (access(final, F_OK) == 0)
		return cafs_error_set(e, CAFS_CONFLICT, 0, "domain '%s' already exists", name);

	/* Build the domain under a private dot name and rename it into place: a crash leaves
	 * no half-made domain under the real name, and two creators race on the rename. The
	 * handle is closed before the rename so that SQLite has folded its WAL back into
	 * domain.db and no file of the old path stays open. */
	(void)snprintf(tmpname, sizeof(tmpname), ".new-%s-%d-%lld", name, (int)getpid(),
		       (long long)store_now_us());
	s = store_alloc(root, tmpname);
	if (!s)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	tmpdir = strdup(s->dir);
	r = tmpdir ? build_domain(s, name, encryption_key, tags, n_tags, e)
		   : cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	store_close(s);
	if (r == 0 && renameat2(AT_FDCWD, tmpdir, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			r = cafs_error_set(e, CAFS_CONFLICT, 0, "domain '%s' already exists", name);
		else
			r = cafs_error_set(e, CAFS_IO, errno, "rename '%s' to '%s': %s", tmpdir,
					   final, strerror(errno));
	}
	if (r < 0) {
		if (tmpdir)
			(void)rm_rf(tmpdir);
		return r;
	}
	return store_open(root, name, ret, e);
}

int store_domain_describe(struct store *s, struct store_domain *ret, struct cafs_error *e)
{
	struct store_domain d = {0};
	sqlite3_stmt *st;
	int r;

	st = store_stmt(s,
			"SELECT name, owner, encryption_key, status, created_us, "
			"(SELECT count(*) FROM repositories) FROM domain WHERE id = 1",
			e);
	if (!st)
		return -EIO;
	r = sqlite3_step(st);
	if (r != SQLITE_ROW)
		return r == SQLITE_DONE ? cafs_error_set(e, CAFS_IO, EIO,
							 "domain '%s' has no domain row", s->name)
					: store_sql_error(s, r, "describe domain", e);
	(void)snprintf(d.name, sizeof(d.name), "%s", (const char *)sqlite3_column_text(st, 0));
	(void)snprintf(d.owner, sizeof(d.owner), "%s", (const char *)sqlite3_column_text(st, 1));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		(void)snprintf(d.encryption_key, sizeof(d.encryption_key), "%s",
			       (const char *)sqlite3_column_text(st, 2));
	(void)snprintf(d.status, sizeof(d.status), "%s", (const char *)sqlite3_column_text(st, 3));
	d.created_us = sqlite3_column_int64(st, 4);
	d.repository_count = sqlite3_column_int64(st, 5);
	(void)sqlite3_reset(st);
	r = store_blob_referenced_bytes(s, &d.asset_size_bytes, e);
	if (r < 0)
		return r;
	*ret = d;
	return 0;
}

static int cmp_domain(const void *a, const void *b)
{
	return strcmp(((const struct store_domain *)a)->name,
		      ((const struct store_domain *)b)->name);
}

int store_domain_list(const char *root, struct store_domain **ret, size_t *ret_n,
		      struct cafs_error *e)
{
	_cleanup_free_ struct store_domain *list = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(root);
	struct dirent *de;

	if (!d) {
		if (errno != ENOENT)
			return cafs_error_set(e, CAFS_IO, errno, "open store '%s': %s", root,
					      strerror(errno));
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		struct store *s = NULL;
		struct cafs_error ignored;

		/* dot names are domains being created or deleted; other names are skipped
		 * unless they hold a domain database */
		if (de->d_name[0] == '.' || cafs_validate_domain_name(de->d_name, NULL) < 0)
			continue;
		if (store_open(root, de->d_name, &s, &ignored) < 0)
			continue;
		if (n == cap) {
			struct store_domain *nl;

			cap = cap ? cap * 2 : 8;
			nl = reallocarray(list, cap, sizeof(*list));
			if (!nl) {
				store_close(s);
				(void)closedir(d);
				return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
			}
			list = nl;
		}
		if (store_domain_describe(s, &list[n], &ignored) == 0)
			n++;
		store_close(s);
	}
	(void)closedir(d);
	if (n)
		qsort(list, n, sizeof(*list), cmp_domain);
	*ret = steal_ptr(&list);
	*ret_n = n;
	return 0;
}

int store_domain_delete(const char *root, const char *name, struct store_domain *ret,
			struct cafs_error *e)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ char *gone = NULL;
	struct store_domain d;
	char arn[256];
	int r;

	r = store_open(root, name, &s, e);
	if (r < 0)
		return r;
	r = store_txn_begin(s, e);
	if (r < 0)
		return r;
	r = store_domain_describe(s, &d, e);
	if (r < 0)
		return r;
	store_domain_arn(&d, arn, sizeof(arn));
	if (d.repository_count > 0) {
		r = cafs_error_set(e, CAFS_CONFLICT, ENOTEMPTY,
				   "domain '%s' still has %lld repositories: delete them first",
				   name, (long long)d.repository_count);
		store_audit_refusal(s, "DeleteDomain", arn, e);
		return r;
	}
	r = store_exec(s, "UPDATE domain SET status = 'Deleted'", e);
	if (r == 0)
		r = store_audit(s, "DeleteDomain", arn, "ok", NULL, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		store_txn_rollback(s);
		return r;
	}
	store_close(steal_ptr(&s));
	/* rename away first so the name is free at once and a crash mid-removal leaves only a
	 * dot folder that no listing shows */
	if (asprintf(&gone, "%s/.deleted-%s-%d-%lld", root, name, (int)getpid(),
		     (long long)store_now_us()) < 0)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	{
		_cleanup_free_ char *dir = NULL;

		if (asprintf(&dir, "%s/%s", root, name) < 0)
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		if (rename(dir, gone) < 0)
			return cafs_error_set(e, CAFS_IO, errno, "rename '%s': %s", dir,
					      strerror(errno));
	}
	if (rm_rf(gone) < 0)
		return cafs_error_set(e, CAFS_IO, errno, "remove '%s': %s", gone, strerror(errno));
	(void)snprintf(d.status, sizeof(d.status), "Deleted");
	*ret = d;
	return 0;
}

int store_tags_list(struct store *s, const char *arn, struct store_tag **ret, size_t *ret_n,
		    struct cafs_error *e)
{
	struct store_tag *tags = NULL;
	size_t n = 0;
	sqlite3_stmt *st = store_stmt(
		s, "SELECT key, value FROM resource_tags WHERE resource_arn = ? ORDER BY key", e);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_tag *nt = reallocarray(tags, n + 1, sizeof(*tags));

		if (!nt) {
			store_tags_free(tags, n);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		tags = nt;
		tags[n].key = strdup((const char *)sqlite3_column_text(st, 0));
		tags[n].value = strdup((const char *)sqlite3_column_text(st, 1));
		n++;
		if (!tags[n - 1].key || !tags[n - 1].value) {
			store_tags_free(tags, n);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
	}
	if (rc != SQLITE_DONE) {
		store_tags_free(tags, n);
		return store_sql_error(s, rc, "list tags", e);
	}
	*ret = tags;
	*ret_n = n;
	return 0;
}

void store_tags_free(struct store_tag *tags, size_t n)
{
	for (size_t i = 0; tags && i < n; i++) {
		free((char *)tags[i].key);
		free((char *)tags[i].value);
	}
	free(tags);
}

/* The package name component of a package ARN "...:package/D/R/FORMAT/NS/NAME[/VERSION]". */
static bool audit_names_package(const char *resource, const char *package)
{
	const char *p = strstr(resource, ":package/");
	size_t len = strlen(package);

	if (!p)
		return false;
	p += strlen(":package/");
	for (int i = 0; i < 4; i++) { /* domain, repository, format, namespace */
		p = strchr(p, '/');
		if (!p)
			return false;
		p++;
	}
	return strncmp(p, package, len) == 0 && (p[len] == '\0' || p[len] == '/');
}

int store_audit_list(struct store *s, const struct store_audit_filter *f, size_t limit,
		     struct store_audit_row **ret, size_t *ret_n, struct cafs_error *e)
{
	static const struct store_audit_filter all = {0};
	struct store_audit_row *rows = NULL;
	char repo_arn[512] = "", pkg_prefix[512] = "", owner[13] = "";
	size_t n = 0;
	sqlite3_stmt *st = store_stmt(
		s,
		"SELECT id, time_us, who, action, resource, outcome, reason FROM audit "
		"WHERE (?2 IS NULL OR resource = ?2 OR substr(resource, 1, length(?3)) = ?3) "
		"AND (?4 IS NULL OR (instr(resource, ':package/') > 0 AND "
		"instr(resource || '/', '/' || ?4 || '/') > 0)) "
		"AND (?5 IS NULL OR outcome = ?5 OR (?5 = 'refused' AND outcome <> 'ok')) "
		"AND time_us >= ?6 ORDER BY id DESC LIMIT ?1",
		e);
	int rc = SQLITE_DONE;

	if (!st)
		return -EIO;
	if (!f)
		f = &all;
	/* the package filter is exact in C below, so the SQL one is a superset: no LIMIT there */
	sqlite3_bind_int64(st, 1, limit && !f->package ? (sqlite3_int64)limit : -1);
	if (f->repository) {
		(void)store_domain_owner(s, owner, NULL);
		store_repository_arn(owner, s->name, f->repository, repo_arn, sizeof(repo_arn));
		(void)snprintf(pkg_prefix, sizeof(pkg_prefix),
			       "arn:aws:codeartifact:" STORE_REGION ":%s:package/%s/%s/", owner,
			       s->name, f->repository);
		sqlite3_bind_text(st, 2, repo_arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, pkg_prefix, -1, SQLITE_STATIC);
	}
	if (f->package)
		sqlite3_bind_text(st, 4, f->package, -1, SQLITE_STATIC);
	if (f->outcome)
		sqlite3_bind_text(st, 5, f->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, f->since_us);
	while ((!limit || n < limit) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit_row *nr;
		const unsigned char *reason;

		if (f->package &&
		    !audit_names_package((const char *)sqlite3_column_text(st, 4), f->package))
			continue;
		nr = reallocarray(rows, n + 1, sizeof(*rows));

		if (!nr) {
			store_audit_free(rows, n);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		rows = nr;
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].time_us = sqlite3_column_int64(st, 1);
		rows[n].who = strdup((const char *)sqlite3_column_text(st, 2));
		rows[n].action = strdup((const char *)sqlite3_column_text(st, 3));
		rows[n].resource = strdup((const char *)sqlite3_column_text(st, 4));
		rows[n].outcome = strdup((const char *)sqlite3_column_text(st, 5));
		reason = sqlite3_column_text(st, 6);
		rows[n].reason = reason ? strdup((const char *)reason) : NULL;
		n++;
	}
	(void)sqlite3_reset(st); /* a listing cut at @limit must not keep its read open */
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_audit_free(rows, n);
		return store_sql_error(s, rc, "list audit rows", e);
	}
	*ret = rows;
	*ret_n = n;
	return 0;
}

void store_audit_free(struct store_audit_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].who);
		free(rows[i].action);
		free(rows[i].resource);
		free(rows[i].outcome);
		free(rows[i].reason);
	}
	free(rows);
}

static void (*log_sink)(int level, const char *line);

void store_set_log(void (*fn)(int level, const char *line))
{
	log_sink = fn;
}

void store_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_sink)
		log_sink(level, line);
	else
		(void)fprintf(stderr, "cafs: %s\n", line);
}

void store_set_progress(struct store *s, void (*fn)(void *ctx, int64_t done, int64_t total),
			void *ctx)
{
	s->progress = fn;
	s->progress_ctx = ctx;
}
