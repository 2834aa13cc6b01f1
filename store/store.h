/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The domain store: one folder per domain under the store root, holding domain.db (SQLite,
 * WAL) and blobs/ (store/blob.h). This header is the API every front end (the CLI, the mount)
 * calls; each mutating call runs in one transaction and writes an audit row, also when it is
 * refused.
 *
 * Handles are single-threaded: open one per thread. Several processes may open one domain at
 * once (SQLite WAL with a busy timeout; blob ingest is lock-free).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/names.h"

struct store;
struct cafs_error;

#define STORE_REGION "local" /* the region part of every ARN */

/* DomainDescription (spec §1.1); plain value. */
struct store_domain {
	char name[CAFS_DOMAIN_NAME_MAX + 1];
	char owner[CAFS_ACCOUNT_ID_LEN + 1];
	char encryption_key[1024]; /* opaque; "" when none */
	char status[8];            /* "Active" or "Deleted" */
	int64_t created_us;
	int64_t repository_count;
	int64_t asset_size_bytes; /* deduplicated bytes */
};

struct store_tag {
	const char *key;
	const char *value;
};

/* RepositoryDescription (spec §1.2); plain value. */
struct store_repository {
	char name[CAFS_REPOSITORY_NAME_MAX + 1];
	char description[4 * CAFS_DESCRIPTION_MAX + 1];
	char administrator_account[CAFS_ACCOUNT_ID_LEN + 1];
	int64_t created_us;
	size_t n_upstreams;
	char upstreams[CAFS_MAX_UPSTREAMS][CAFS_REPOSITORY_NAME_MAX + 1]; /* search order */
	char external_connection[101];                                    /* "" when none */
	enum cafs_format external_format;
};

/* A connection name's source in this domain (configure-external-connection). */
struct store_source {
	char name[101];
	enum cafs_format format;
	char url[4096]; /* as configured; "" when not */
	int64_t updated_us;
	/* what fetches use: the configured URL, else the client tool's own setting; "" none */
	char effective_url[4096];
	char url_origin[256];   /* "configured", "pip's index-url in ...", or how to set one */
	int64_t ttl_s;          /* a version list is fresh this long (default 600) */
	int64_t negative_ttl_s; /* a "no such package" answer, this long (default 60) */
	int64_t max_stale_s;    /* past ttl, served this long more while the source fails */
	int64_t timeout_s;      /* connect and stall timeout (default 30) */
	int64_t retries;        /* extra attempts after a transient failure (default 2) */
};

/* Settings for store_source_configure(); a negative value keeps the current one. */
struct store_source_settings {
	int64_t ttl_s, negative_ttl_s, max_stale_s, timeout_s, retries;
};

/*
 * The store root: @explicit_root if not NULL, else $CAFS_STORE, else $XDG_DATA_HOME/cafs, else
 * $HOME/.local/share/cafs. Owned string (free()); NULL on ENOMEM or when no home is known.
 */
char *store_default_root(const char *explicit_root);

/* The account id of the calling user: its uid as 12 digits. */
void store_local_account(char buf[CAFS_ACCOUNT_ID_LEN + 1]);

/*
 * Create domain @name under @root (created if missing) owned by the calling user, and open it.
 * ConflictException if it exists. On success *@ret is an open handle (free with store_close()).
 */
int store_domain_create(const char *root, const char *name, const char *encryption_key,
			const struct store_tag *tags, size_t n_tags, struct store **ret,
			struct cafs_error *e);

/*
 * Open domain @name under @root: migrates the schema, sweeps temp files left by a crash.
 * ResourceNotFoundException if there is no such domain.
 */
int store_open(const char *root, const char *name, struct store **ret, struct cafs_error *e);

/* Close a handle. NULL is a no-op. */
void store_close(struct store *s);

static inline void store_closep(struct store **s)
{
	store_close(*s);
}

/*
 * One read snapshot for several queries (a mount request resolving a path asks a handful):
 * store_read_begin() opens a deferred transaction, so that the queries until store_read_end()
 * share one read lock and one view of the domain instead of taking them one by one. Anything
 * that writes ends the snapshot first (the write and what follows see the latest state), and
 * inside a write transaction both are no-ops. store_read_begin() returns whether it opened the
 * snapshot; the caller that did ends it with store_read_end() (a caller inside someone else's
 * snapshot leaves it open), and a snapshot must not outlive the request (it holds back
 * checkpoints); an external fetch ends it before it waits for another reader's download.
 */
bool store_read_begin(struct store *s);
void store_read_end(struct store *s);

/* The name written into audit rows as "who" (default "uid:<n>(<user>)"); copied. */
void store_set_actor(struct store *s, const char *who);

/* The domain's folder (borrowed, valid while @s is open). */
const char *store_dir(const struct store *s);

/* DescribeDomain. */
int store_domain_describe(struct store *s, struct store_domain *ret, struct cafs_error *e);

/*
 * List the domains under @root, sorted by name. *@ret is an owned array (free()); an absent
 * root is an empty list.
 */
int store_domain_list(const char *root, struct store_domain **ret, size_t *ret_n,
		      struct cafs_error *e);

/*
 * DeleteDomain: refused with ConflictException (ENOTEMPTY) while it has repositories. *@ret is
 * the description with status "Deleted". The domain's folder is removed.
 */
int store_domain_delete(const char *root, const char *name, struct store_domain *ret,
			struct cafs_error *e);

/*
 * CreateRepository with an ordered upstream list (each must exist; at most 10; no duplicates).
 * ConflictException if the name is taken.
 */
int store_repository_create(struct store *s, const char *name, const char *description,
			    const char *const *upstreams, size_t n_upstreams,
			    const struct store_tag *tags, size_t n_tags,
			    struct store_repository *ret, struct cafs_error *e);

/* DescribeRepository. */
int store_repository_describe(struct store *s, const char *name, struct store_repository *ret,
			      struct cafs_error *e);

/*
 * UpdateRepository: @description NULL keeps it; @set_upstreams replaces the whole list (empty
 * removes all). A cycle is ValidationException with ELOOP; upstreams on a repository with an
 * external connection is ConflictException.
 */
int store_repository_update(struct store *s, const char *name, const char *description,
			    bool set_upstreams, const char *const *upstreams, size_t n_upstreams,
			    struct store_repository *ret, struct cafs_error *e);

/*
 * DeleteRepository: removes the repository and its package records. Refused with
 * ConflictException (EBUSY) while it is an upstream of another repository.
 */
int store_repository_delete(struct store *s, const char *name, struct store_repository *ret,
			    struct cafs_error *e);

/*
 * ListRepositoriesInDomain: repositories whose name starts with @prefix (NULL = all) and, when
 * @administrator is not NULL, administered by that account; sorted by name. Owned array.
 */
int store_repository_list(struct store *s, const char *prefix, const char *administrator,
			  struct store_repository **ret, size_t *ret_n, struct cafs_error *e);

/*
 * AssociateExternalConnection: at most one per repository, and never on a repository with
 * upstreams (ConflictException). The name must be one of the spec's (ValidationException).
 */
int store_repository_associate_external(struct store *s, const char *repository,
					const char *connection, struct store_repository *ret,
					struct cafs_error *e);

/* DisassociateExternalConnection: NotFound when the repository does not have @connection. */
int store_repository_disassociate_external(struct store *s, const char *repository,
					   const char *connection, struct store_repository *ret,
					   struct cafs_error *e);

/*
 * Set the source URL (https://, http:// or file://) of connection @name for this domain, and
 * with @set (may be NULL) its cache and network settings. @url "" removes the whole setting;
 * NULL keeps the URL.
 */
int store_source_configure(struct store *s, const char *name, const char *url,
			   const struct store_source_settings *set, struct store_source *ret,
			   struct cafs_error *e);

/* The source of connection @name (url "" when not configured). */
int store_source_get(struct store *s, const char *name, struct store_source *ret,
		     struct cafs_error *e);

/* The tags of a resource ARN, sorted by key. Owned array of owned strings: free with
 * store_tags_free(). */
int store_tags_list(struct store *s, const char *arn, struct store_tag **ret, size_t *ret_n,
		    struct cafs_error *e);
void store_tags_free(struct store_tag *tags, size_t n);

/* ARNs: arn:aws:codeartifact:local:<owner>:domain/<d> and …:repository/<d>/<r>. */
void store_domain_arn(const struct store_domain *d, char *buf, size_t bufsz);
void store_repository_arn(const char *owner, const char *domain, const char *repository, char *buf,
			  size_t bufsz);

/* One package's refreshed listing (store_refresh()). */
struct store_refresh_item {
	char connection[101];
	char namespace_[CAFS_PACKAGE_FIELD_MAX + 1];
	char name[CAFS_PACKAGE_FIELD_MAX + 1];
	int outcome;       /* 1 the source has it, 0 it has not, < 0 the errno of a failure */
	size_t n_versions; /* listed by the source */
	char message[512]; /* the failure's reason */
};

/*
 * cafs refresh: ask the sources behind @repository's search order again, now, whatever their
 * cache says: for one package (@name, with @ns; @format required), or for every package whose
 * listing is cached for those sources (@name NULL; @format CAFS_FORMAT_NONE = all formats).
 * @cb sees each package as it is done (@i of @n). A source's failure is reported per package,
 * not as an error.
 */
int store_refresh(struct store *s, const char *repository, enum cafs_format format, const char *ns,
		  const char *name,
		  void (*cb)(void *ctx, const struct store_refresh_item *it, size_t i, size_t n),
		  void *ctx, struct cafs_error *e);

/*
 * Resource policies and the check of a request (spec §8; store/perm.c). The caller is a local
 * user: its uid, primary gid, and the supplementary groups its account has (resolved here).
 * Without a caller set a handle acts as the domain owner. The owner and root may do
 * everything; anybody else needs an Allow in the domain's or the repository's policy and no
 * explicit Deny.
 */
struct cafs_caller;
int store_set_caller(struct store *s, uint32_t uid, uint32_t gid, struct cafs_error *e);
/* Set (a copy of) @c as the caller, or none with NULL. */
void store_set_caller_of(struct store *s, const struct cafs_caller *c);
/* The caller set, or NULL. */
const struct cafs_caller *store_caller(const struct store *s);

/*
 * May the caller do @action ("ReadFromRepository", spec §8.2 names without the prefix) on
 * @resource (an ARN; NULL = the repository's, or the domain's when @repository is NULL)?
 * 0, or AccessDeniedException (EACCES) naming the deciding statement, audited.
 */
int store_authorize(struct store *s, const char *action, const char *repository,
		    const char *resource, struct cafs_error *e);
/* The same as a question: no error, no audit row (for mode bits). */
bool store_may(struct store *s, const char *action, const char *repository, const char *resource);
/* store_may() on the package ARN of @repository followed by @rest ("pypi/name", "npm/"): what
 * a folder of the mount stands for. */
bool store_may_under(struct store *s, const char *action, const char *repository, const char *rest);

/* The ARN of the package of @c (its version ignored) in @repository. */
struct store_coord;
void store_package_arn(struct store *s, const char *repository, const struct store_coord *c,
		       char *buf, size_t bufsz);

/* ResourcePolicy (spec §8.1); document owned (store_policy_done()). */
struct store_policy {
	char resource_arn[512];
	char revision[101];
	char *document;
};

/* Get / Put / Delete the policy of @repository, or of the domain with NULL. Put and Delete take
 * the revision the current policy must have (NULL: any); Put validates the document. */
int store_policy_get(struct store *s, const char *repository, struct store_policy *ret,
		     struct cafs_error *e);
int store_policy_put(struct store *s, const char *repository, const char *document,
		     const char *expect_revision, struct store_policy *ret, struct cafs_error *e);
int store_policy_delete(struct store *s, const char *repository, const char *expect_revision,
			struct store_policy *ret, struct cafs_error *e);
void store_policy_done(struct store_policy *p);

/*
 * Where the store reports warnings that are nobody's error (a stale list served while a source
 * is down, a file whose metadata could not be read): @fn gets syslog's level and one line.
 * Process-wide; by default lines go to stderr prefixed "cafs: ".
 */
void store_set_log(void (*fn)(int level, const char *line));

/* Downloads from external sources through @s report progress to @fn (NULL: none). */
void store_set_progress(struct store *s, void (*fn)(void *ctx, int64_t done, int64_t total),
			void *ctx);

/* One audit row (newest first from store_audit_list()). Owned strings inside the array. */
struct store_audit_row {
	int64_t id;
	int64_t time_us;
	char *who;
	char *action;
	char *resource;
	char *outcome;
	char *reason;
};

/* Which audit rows to list; every field optional (NULL / 0). */
struct store_audit_filter {
	const char *repository; /* rows about this repository or its packages */
	const char *package;    /* rows about packages of this name (any repository) */
	const char *outcome;    /* "ok", an exception name, or "refused" (anything but ok) */
	int64_t since_us;       /* rows at or after this time */
};

/*
 * The last @limit audit rows (0 = all) that pass @f (may be NULL), newest first. Free with
 * store_audit_free().
 */
int store_audit_list(struct store *s, const struct store_audit_filter *f, size_t limit,
		     struct store_audit_row **ret, size_t *ret_n, struct cafs_error *e);
void store_audit_free(struct store_audit_row *rows, size_t n);
