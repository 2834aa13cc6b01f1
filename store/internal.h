/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private declarations shared by the files of store/. Nothing outside store/ (and its unit
 * tests) includes this header.
 */

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/common.h"
#include "policy/names.h"
#include "policy/perm.h"
#include "store/package.h"

struct store_tag;

#define STORE_DB_NAME    "domain.db"
#define STORE_BLOBS_DIR  "blobs"
#define STORE_TMP_DIR    "tmp"
#define STORE_STMT_CACHE 256

struct store_stmt_slot {
	const char *sql; /* identity: callers pass string literals */
	sqlite3_stmt *stmt;
};

/* An open domain. Single-threaded: one handle per thread (STYLE.md B5). */
#define STORE_ROOT_INDEX_CACHE 4

struct store {
	char *root;   /* the store root ($CAFS_STORE), owned */
	char *dir;    /* <root>/<domain>, owned */
	char *name;   /* the domain name, owned */
	int dir_fd;   /* O_PATH|O_DIRECTORY of dir */
	int blobs_fd; /* O_DIRECTORY of dir/blobs */
	int tmp_fd;   /* O_DIRECTORY of dir/tmp */
	sqlite3 *db;
	int txn_depth;  /* nesting of store_txn_begin() */
	bool read_snap; /* inside store_read_begin() (a deferred BEGIN) */
	/* rendered pypi root indexes, kept while the generation stays (store/render.c) */
	struct store_root_index {
		int64_t repo;
		uint64_t generation; /* 0: empty */
		char *data;          /* owned */
		size_t len;
	} root_index[STORE_ROOT_INDEX_CACHE];
	uint64_t commits;               /* transactions committed through this handle */
	char actor[128];                /* who is written into the audit table */
	bool no_tmpfile;                /* O_TMPFILE unsupported here: use named temp files */
	const char *test_force_xxh128;  /* tests only: pretend every ingest hashes to this */
	struct store_group_set *groups; /* the last snapshot of the package groups (group.c) */
	struct store_order *orders;     /* recent search orders (repository.c) */
	struct cafs_caller caller;      /* who asks (store_set_caller()), when has_caller */
	bool has_caller;
	struct perm_cache *perms; /* parsed resource policies (perm.c) */
	/* downloads from external sources report here (store_set_progress) */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
	struct store_stmt_slot stmts[STORE_STMT_CACHE];
};

struct store_group_set;
void store_group_set_free(struct store_group_set *gs);

/*
 * The package groups' verdict alone (no package record) on @action into @repository for
 * package @format/@namespace_/@name (stored form): 1 allowed, 0 denied, -errno. For listings,
 * where the package's own record was looked at already.
 */
int store_group_allows(struct store *s, int action, const char *repository, enum cafs_format format,
		       const char *namespace_, const char *name, struct cafs_error *e);

/* Current time in microseconds since the epoch (CLOCK_REALTIME). */
int64_t store_now_us(void);

/*
 * A prepared statement for @sql, cached on @s for its lifetime and reset and cleared on each
 * call. @sql must be a string literal (its address is the cache key). Borrowed; NULL with @e
 * filled on a prepare error.
 */
sqlite3_stmt *store_stmt(struct store *s, const char *sql, struct cafs_error *e);

/* Fill @e from the database's last error (CONSTRAINT→CONFLICT, BUSY→THROTTLED, else INTERNAL).
 * Returns the negative errno. */
int store_sql_error(struct store *s, int rc, const char *what, struct cafs_error *e);

/* Run one statement without results (schema, pragmas). */
int store_exec(struct store *s, const char *sql, struct cafs_error *e);

/* Transactions: begin is BEGIN IMMEDIATE at depth 0 and a savepoint-free no-op when nested. */
int store_txn_begin(struct store *s, struct cafs_error *e);
int store_txn_commit(struct store *s, struct cafs_error *e);
void store_txn_rollback(struct store *s);

/*
 * Schema: bring @db to @target_version by running the migrations in order (target 0 = newest).
 * Refuses a database newer than this build knows (ValidationException).
 */
int store_schema_migrate(sqlite3 *db, int target_version, struct cafs_error *e);

/* The newest schema version this build writes. */
int store_schema_version(void);

/*
 * Append an audit row (who = s->actor). Runs in the current transaction if one is open,
 * else on its own. @outcome is "ok" or the exception name; @reason may be NULL.
 */
int store_audit(struct store *s, const char *action, const char *resource, const char *outcome,
		const char *reason, struct cafs_error *e);

/* Record a refusal: the audit row for an operation that failed with @err. Never fails. */
void store_audit_refusal(struct store *s, const char *action, const char *resource,
			 const struct cafs_error *err);

/* Blob store internals (store/blob.c). */
int store_blob_sweep(struct store *s, struct cafs_error *e);

/* Add or overwrite tags on a resource ARN (in the caller's transaction). */
int store_tags_add(struct store *s, const char *arn, const struct store_tag *tags, size_t n,
		   struct cafs_error *e);

/* The domain owner's account id (from the domain row). */
int store_domain_owner(struct store *s, char buf[13], struct cafs_error *e);

/* Row id of repository @name in this domain, or ResourceNotFoundException. */
int store_repo_id(struct store *s, const char *name, int64_t *ret, struct cafs_error *e);

/* The stored form of a package coordinate: PyPI names normalized (spec §3). */
struct store_pkg_coord {
	enum cafs_format format;
	char namespace_[CAFS_PACKAGE_FIELD_MAX + 1];
	char package[CAFS_PACKAGE_FIELD_MAX + 1];
	char display[CAFS_PACKAGE_FIELD_MAX + 2 + CAFS_PACKAGE_FIELD_MAX + 1];
	char version[CAFS_PACKAGE_FIELD_MAX + 1];
};

struct store_coord;
struct store_package;

/* Validate @c and fill its stored form. */
int store_pkg_coord(const struct store_coord *c, struct store_pkg_coord *ret, struct cafs_error *e);

/* Find a package of repository @repo: 1 found (id and origin controls, 8 bytes each, filled
 * when not NULL), 0 absent. */
int store_pkg_find(struct store *s, int64_t repo, const struct store_pkg_coord *c, int64_t *ret_id,
		   char *ret_publish, char *ret_upstream, struct cafs_error *e);

/* Create a package record with the origin defaults of its first arrival (spec §6.2): by
 * publish publish=ALLOW upstream=BLOCK; @ingested (from a source, or a copy of an EXTERNAL
 * version) publish=BLOCK upstream=ALLOW. */
int store_pkg_create(struct store *s, int64_t repo, const struct store_pkg_coord *c, bool ingested,
		     int64_t *ret_id, struct cafs_error *e);

/* Find a version: 1 found, 0 absent. */
int store_pkg_find_version(struct store *s, int64_t pkg, const char *version, int64_t *ret_id,
			   enum store_status *ret_status, struct cafs_error *e);

/* Recompute and store a version's revision into @ret (64 bytes). */
int store_pkg_update_revision(struct store *s, int64_t ver, char *ret, struct cafs_error *e);

/* Step a bound statement that returns no row. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what, struct cafs_error *e);

/* The ARN-style resource name of a package (version) for audit rows. */
void store_pkg_resource(struct store *s, const char *repository, const struct store_pkg_coord *c,
			char *buf, size_t bufsz);

/* A package of @repository by coordinate, NotFound naming it when absent. */
int store_pkg_load(struct store *s, const char *repository, const struct store_pkg_coord *c,
		   int64_t *ret_id, struct store_package *ret, struct cafs_error *e);

/*
 * Record what a package file says about version row @ver: empty fields are filled, and the
 * dependencies written when the version has none yet (store/package.c).
 */
int store_version_apply_metadata(struct store *s, int64_t ver, const struct store_metadata *m,
				 struct cafs_error *e);

/* One repository in a resolution's search order. */
struct store_search_node {
	int64_t id;
	char name[CAFS_REPOSITORY_NAME_MAX + 1];
};

/*
 * The search order from repository @repo (spec §2.1): @repo first, then each upstream in list
 * order, each searched depth-first before the next sibling, every repository once, at most
 * CAFS_MAX_SEARCHED_REPOS in all. @ret holds CAFS_MAX_SEARCHED_REPOS entries.
 */
int store_search_order(struct store *s, int64_t repo, struct store_search_node *ret, size_t *ret_n,
		       struct cafs_error *e);

/* A repository's search order with each node's external connection ("" when none). */
struct store_order {
	int64_t repo;
	uint64_t generation;
	size_t n;
	struct store_search_node nodes[CAFS_MAX_SEARCHED_REPOS];
	char conn[CAFS_MAX_SEARCHED_REPOS][101];
};

/*
 * store_search_order() with the connections, from a small per-handle cache that is valid
 * while store_view_generation() stays (bypassed inside a transaction, whose own changes do
 * not move it). *@ret points into the cache: valid until the next call on @s.
 */
int store_search_order_cached(struct store *s, int64_t repo, const struct store_order **ret,
			      struct cafs_error *e);
void store_orders_free(struct store *s);
struct perm_cache;
void store_perms_free(struct store *s);

/* A policy document parsed (store/perm.c; a fuzz target). ValidationException when invalid. */
int store_perm_parse(const char *doc, size_t len, struct cafs_perm_policy *ret,
		     struct cafs_error *e);

/*
 * Delete the rows of the blobs among @ids that no asset references any more, in the caller's
 * transaction. *@ret (owned, free()) lists the deleted ones, whose files are due for
 * store_blob_unlink() once that transaction has committed (store/lifecycle.c).
 */
int store_blob_release(struct store *s, const int64_t *ids, size_t n, struct store_blob **ret,
		       size_t *ret_n, struct cafs_error *e);

/*
 * Remove the files of blobs whose rows store_blob_release() deleted in a committed transaction:
 * rows first, files second, so a crash in between leaves an orphan file for gc and never a
 * row without its file. A file whose address a row holds again is kept. Call outside any
 * transaction. Best effort (failures leave orphans); returns the number of files removed.
 */
size_t store_blob_unlink(struct store *s, const struct store_blob *blobs, size_t n);

/*
 * A file of SNAPSHOT build @build arrives for version @ver: when the version holds another
 * build, that build's files move to an Unlisted version named by it; then @build is recorded.
 * An older build than the current one is a ConflictException. Returns 1 when a previous build
 * was moved aside, else 0. Inside the caller's transaction (store/maven.c).
 */
int store_maven_rotate_snapshot(struct store *s, int64_t pkg, int64_t ver,
				const struct store_pkg_coord *c, const char *build,
				struct cafs_error *e);

/*
 * External sources (store/external.c, DESIGN.md §8).
 */

/* A connection name's source and settings in this domain. */
struct ext_conn {
	char name[101];
	enum cafs_format format;
	char url[4096];       /* base URL without a trailing '/'; "" when none is known */
	char url_origin[256]; /* "configured", "pip's index-url in ...", or how to set one */
	bool configured;      /* set with configure-external-connection */
	int64_t ttl_s, negative_ttl_s, max_stale_s, timeout_s;
	int retries;
};

/* The source of connection @name: configured, else the client tool's own setting. */
int ext_conn_load(struct store *s, const char *name, struct ext_conn *ret, struct cafs_error *e);

/* A version a source lists. */
struct ext_version {
	int64_t listing_id;
	char version[CAFS_PACKAGE_FIELD_MAX + 1];
	int64_t published_us; /* 0 when the source does not say */
	bool yanked;
};

/* A file of a source's version. */
struct ext_file {
	char name[4 * CAFS_ASSET_NAME_MAX + 1];
	char url[4096];
	char hash_algo[8]; /* md5, sha1, sha256, sha512; "" when the source publishes none */
	char hash_hex[129];
	int64_t size; /* -1 when unknown */
	bool yanked;
	char requires_python[256];
	int64_t probed_us;
};

/*
 * The listing of package @ns/@name (stored form) at connection @conn, from the cache while
 * fresh, else from the source (@force: from the source whatever its age). 1 when the source
 * has the package (*@ret_listing set), 0 when it has not, or EIO with the reason. Inside a
 * transaction only the cache answers.
 */
int ext_listing(struct store *s, const char *conn, const char *ns, const char *name, bool force,
		int64_t *ret_listing, struct cafs_error *e);

/* A version of a listing: 1 found, 0 not listed. */
int ext_find_version(struct store *s, int64_t listing, const char *version, struct ext_version *ret,
		     struct cafs_error *e);

/* Every version of a listing in the source's order (owned array). */
int ext_list_versions(struct store *s, int64_t listing, struct ext_version **ret, size_t *ret_n,
		      struct cafs_error *e);

/* npm dist-tag @tag of a listing: 1 with the version in @ret, 0 when the source has none. */
int ext_dist_tag(struct store *s, int64_t listing, const char *tag, char *ret, size_t retsz,
		 struct cafs_error *e);

/*
 * File @file of source version @v of package @ns/@name: 1 found (its size asked of the source
 * when the index does not say; Maven files are probed by name, with their .sha1), 0 absent.
 */
int ext_find_file(struct store *s, const char *conn, const char *ns, const char *name,
		  const struct ext_version *v, const char *file, struct ext_file *ret,
		  struct cafs_error *e);

/* Each known file of @v, sorted; @cb returns 0 to go on or a negative errno. */
int ext_list_files(struct store *s, const struct ext_version *v,
		   int (*cb)(void *ctx, const char *file), void *ctx, struct cafs_error *e);

/*
 * Fetch file @f of version @v once (concurrent callers wait for the first), verify it against
 * the source's digest, store it, and record it (spec §2.2) as an EXTERNAL version with entry
 * point @conn in @owner (the repository owning the connection: EXTERNAL_UPSTREAM is asked)
 * and in @requester (INTERNAL_UPSTREAM is asked when it is another repository). *@ret is the
 * blob; 0. Returns 1 when the owner holds the file already (another reader fetched it) and
 * the requester has no record of the version: retain the owner's record instead. A digest
 * mismatch or a broken transfer: nothing stored, EIO, audited.
 */
int ext_ingest(struct store *s, const struct store_search_node *requester,
	       const struct store_search_node *owner, const char *conn,
	       const struct store_pkg_coord *c, const struct ext_version *v,
	       const struct ext_file *f, struct store_blob *ret, struct cafs_error *e);

/* Ask the source for the listing now (cafs refresh): as ext_listing() with @force. */
int ext_refresh(struct store *s, const char *conn, const char *ns, const char *name,
		struct cafs_error *e);

/*
 * The client view's shared helpers (store/view.c), used by store/render.c.
 */
struct view_sources {
	struct store_search_node nodes[CAFS_MAX_SEARCHED_REPOS];
	size_t n;
	char json_ids[CAFS_MAX_SEARCHED_REPOS * 21 + 3]; /* "[1,2,3]" for json_each() */
	/*
	 * Per node: the external connection it owns for this format, consulted when its own
	 * contents miss (spec §2.1); "" when none, and when a package was named and ingest into
	 * that node is not allowed for it (EXTERNAL_UPSTREAM, its upstream control).
	 */
	char ext[CAFS_MAX_SEARCHED_REPOS][101];
};

/* The repositories a package of @repo is looked up in, in order (spec §2.1): @repo alone for
 * generic packages, else the search order, minus upstreams when @repo's own record of the
 * package says upstream=BLOCK. */
int view_sources(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
		 const char *name, struct view_sources *ret, struct cafs_error *e);

/* The visible record of one version (first hit in search order). */
struct view_version {
	int64_t id;      /* package_versions row */
	int64_t repo_id; /* the repository holding it */
	char repo[CAFS_REPOSITORY_NAME_MAX + 1];
	bool own;   /* held by the requesting repository itself */
	int status; /* enum store_status */
	int64_t published_us;
	char snapshot_build[32];
	char entry_connection[101]; /* a local record ingested from a source: its connection */
	/* not a record anywhere yet: what a source lists (repo/repo_id: the connection owner) */
	bool external;
	char connection[101];
	struct ext_version ext;
};

/* Find version @version of a package in the client view of @repo; 0 when hidden or absent
 * (NotFound), 1 when found. */
int view_find_version(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
		      const char *name, const char *version, struct view_version *ret,
		      struct cafs_error *e);

/*
 * The source listing behind visible version @v of a package in @repo's view: @v itself when
 * it is external, or, for a record ingested from a source, that source's entry (its other
 * files are still there to fetch). 1 with *@ret and @ret_owner, 0 when none.
 */
int view_version_source(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
			const char *name, const struct view_version *v, struct ext_version *ret,
			struct store_search_node *ret_owner, char *ret_conn, struct cafs_error *e);

/* Each visible version of a package (Published or Unlisted anywhere, plus the requesting
 * repository's own Archived), first hit per version, oldest published first. */
int view_versions(struct store *s, int64_t repo, enum cafs_format format, const char *ns,
		  const char *name, struct view_version **ret,
		  char (**ret_names)[CAFS_PACKAGE_FIELD_MAX + 1], size_t *ret_n,
		  struct cafs_error *e);

/*
 * Visit the visible packages of @format in the client view of @repo, sorted, whose namespace
 * is @ns_exact (NULL = any) and starts with @ns_prefix (NULL = any). @cb gets (namespace,
 * name) and returns 0 to go on, 1 to stop, or a negative errno.
 */
int view_visit_packages(struct store *s, int64_t repo, enum cafs_format format,
			const char *ns_exact, const char *ns_prefix,
			int (*cb)(void *ctx, const char *ns, const char *name), void *ctx,
			struct cafs_error *e);

/* Warnings that are no error of the caller's (a stale list served): store_set_log()'s sink. */
#define STORE_LOG_WARNING 4 /* syslog's LOG_WARNING */
#define STORE_LOG_INFO    6
void store_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
