/* SPDX-License-Identifier: MIT */
/*
 * The write side of the client view (DESIGN.md §3): a file written at a mount path is a
 * publish, a checksum check or a Maven metadata update; removing is deleting; mkdir at the top
 * is CreateRepository; user.cafs.* attributes set status and origin controls. The path says
 * which package and version is meant; the file's own metadata must agree where it has any.
 * Several files are published in one transaction when the mount renames a staging folder into
 * place, so a whole version appears at once or not at all.
 */
#include "store/write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/extract.h"
#include "store/internal.h"
#include "store/maven.h"
#include "store/package.h"
#include "store/store.h"
#include "store/view.h"

#define MAX_PARTS 64

/* A mount path taken apart: /repository/format/rest... */
struct wpath {
	char buf[4096];
	char *repo;
	enum cafs_format format;
	char *rest[MAX_PARTS];
	size_t n;
};

static int parse(const char *path, struct wpath *p, struct cafs_error *e)
{
	char *save = NULL;
	char *parts[MAX_PARTS + 2];
	size_t n = 0;

	if (!path || path[0] != '/' || strlen(path) >= sizeof(p->buf))
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG, "bad path");
	(void)snprintf(p->buf, sizeof(p->buf), "%s", path);
	for (char *t = strtok_r(p->buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == MAX_PARTS + 2 || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
			return cafs_error_set(e, CAFS_VALIDATION, EINVAL, "bad path '%s'", path);
		parts[n++] = t;
	}
	p->repo = n > 0 ? parts[0] : NULL;
	p->format = n > 1 ? cafs_format_parse(parts[1]) : CAFS_FORMAT_NONE;
	p->n = n > 2 ? n - 2 : 0;
	for (size_t i = 0; i < p->n; i++)
		p->rest[i] = parts[i + 2];
	return 0;
}

static void join_dots(char *const *parts, size_t n, char *buf, size_t bufsz)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < bufsz; i++)
		o += (size_t)snprintf(buf + o, bufsz - o, "%s%s", i ? "." : "", parts[i]);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *checksum_algo(const char *file)
{
	static const char *const algos[] = {".md5", ".sha1", ".sha256", ".sha512"};

	for (size_t i = 0; i < ARRAY_SIZE(algos); i++)
		if (ends_with(file, algos[i]) && strlen(file) > strlen(algos[i]))
			return algos[i] + 1;
	return NULL;
}

static int not_here(const char *path, const char *why, struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_VALIDATION, EINVAL, "cannot publish '%s': %s", path, why);
}

/* Read a small file (checksum, metadata) whole. */
static int slurp(int fd, size_t max, char **ret, size_t *ret_len, struct cafs_error *e)
{
	char *buf = malloc(max + 1);
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	while ((n = pread(fd, buf + len, max + 1 - len, (off_t)len)) > 0) {
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return cafs_error_set(e, CAFS_VALIDATION, EFBIG,
					      "file is larger than %zu bytes", max);
		}
	}
	if (n < 0) {
		free(buf);
		return cafs_error_set(e, CAFS_IO, errno, "read: %s", strerror(errno));
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/*
 * A Maven checksum file written beside an asset of repository @repo's own version: its hex
 * (optionally followed by a file name) must equal the asset's digest; it is not stored.
 */
static int verify_checksum(struct store *s, const char *repository, const char *group,
			   const char *artifact, const char *version, const char *file,
			   const char *algo, int fd, struct cafs_error *e)
{
	struct store_coord c = {CAFS_FORMAT_MAVEN, group, artifact, version};
	char target[4 * CAFS_ASSET_NAME_MAX + 1];
	_cleanup_free_ struct store_asset *assets = NULL;
	_cleanup_free_ char *text = NULL;
	size_t n = 0, len = 0;
	const char *want = NULL;
	char *hex;
	int r;

	(void)snprintf(target, sizeof(target), "%.*s", (int)(strlen(file) - strlen(algo) - 1),
		       file);
	r = slurp(fd, 4096, &text, &len, e);
	if (r < 0)
		return r;
	r = store_version_assets(s, repository, &c, &assets, &n, NULL, e);
	if (r < 0)
		return cafs_error_set(e, CAFS_NOT_FOUND, ENOENT,
				      "checksum '%s' for '%s', which was not published", file,
				      target);
	for (size_t i = 0; i < n; i++)
		if (strcmp(assets[i].name, target) == 0)
			want = strcmp(algo, "md5") == 0      ? assets[i].hashes.md5
			       : strcmp(algo, "sha1") == 0   ? assets[i].hashes.sha1
			       : strcmp(algo, "sha256") == 0 ? assets[i].hashes.sha256
							     : assets[i].hashes.sha512;
	if (!want)
		return cafs_error_set(e, CAFS_NOT_FOUND, ENOENT,
				      "checksum '%s' for '%s', which was not published", file,
				      target);
	hex = text + strspn(text, " \t\r\n");
	hex[strcspn(hex, " \t\r\n")] = '\0';
	/* CodeArtifact compares case-sensitively; its values are lower-case hex */
	if (strcmp(hex, want) != 0)
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL,
				      "checksum '%s' does not match the bytes of '%s' (%s is %s)",
				      file, target, algo, want);
	return 0;
}

/* Publish one file written at @p (one of the cases of store_view_write()). */
static int write_one(struct store *s, const char *path, struct wpath *p, int fd, bool adopt,
		     bool staged_dir, struct cafs_error *e)
{
	struct store_metadata *meta = NULL;
	struct store_publish req = {.repository = p->repo,
				    .coord = {.format = p->format},
				    .sha256_only = true,
				    .adopt = adopt};
	struct store_publish_result res;
	enum store_file_kind kind = STORE_FILE_UNKNOWN;
	char ns[CAFS_PACKAGE_FIELD_MAX + 1] = "";
	char norm_a[CAFS_PACKAGE_FIELD_MAX + 1], norm_b[CAFS_PACKAGE_FIELD_MAX + 1];
	const char *file;
	int r = 0;

	if (p->n == 0)
		return not_here(path, "files go inside a format folder", e);
	file = p->rest[p->n - 1];
	switch (p->format) {
	case CAFS_FORMAT_PYPI:
		if (p->n != 1 && p->n != 3)
			return not_here(path,
					"write a wheel or sdist into pypi/ or into "
					"pypi/<name>/<version>/",
					e);
		kind = ends_with(file, ".whl")      ? STORE_FILE_WHEEL
		       : ends_with(file, ".zip")    ? STORE_FILE_SDIST_ZIP
		       : ends_with(file, ".tar.gz") ? STORE_FILE_SDIST_TGZ
						    : STORE_FILE_UNKNOWN;
		if (kind == STORE_FILE_UNKNOWN)
			return not_here(path, "a PyPI file is a *.whl, *.tar.gz or *.zip", e);
		break;
	case CAFS_FORMAT_NPM:
		if (p->n == 1 || ((p->n == 3 || (p->n == 4 && p->rest[0][0] == '@')) &&
				  strcmp(file, "package.tgz") == 0))
			kind = STORE_FILE_NPM_TGZ;
		else
			return not_here(path,
					"write an npm tarball into npm/ or as "
					"npm/[@scope/]<name>/<version>/package.tgz",
					e);
		break;
	case CAFS_FORMAT_MAVEN: {
		const char *algo = checksum_algo(file);
		bool md = strcmp(file, "maven-metadata.xml") == 0 ||
			  (algo && strncmp(file, "maven-metadata.xml.", 19) == 0);

		if (md) {
			/* <group...>/<artifact>/[<X-SNAPSHOT>/]maven-metadata.xml */
			size_t a =
				ends_with(p->n >= 2 ? p->rest[p->n - 2] : "", "-SNAPSHOT") ? 3 : 2;
			_cleanup_free_ char *xml = NULL;
			size_t len = 0;

			if (p->n < a + 1)
				return not_here(path,
						"maven-metadata.xml belongs in an artifact "
						"folder",
						e);
			if (algo)
				return 0; /* checksums of what is not stored: accepted, dropped */
			join_dots(p->rest, p->n - a, ns, sizeof(ns));
			r = slurp(fd, 1u << 20, &xml, &len, e);
			if (r == 0)
				r = store_maven_metadata_put(s, p->repo, ns, p->rest[p->n - a], xml,
							     len, e);
			return r < 0 ? r : 0;
		}
		if (p->n < 4)
			return not_here(path,
					"Maven files go in <group path>/<artifact>/<version>/", e);
		join_dots(p->rest, p->n - 3, ns, sizeof(ns));
		if (algo)
			return verify_checksum(s, p->repo, ns, p->rest[p->n - 3], p->rest[p->n - 2],
					       file, algo, fd, e);
		req.coord.namespace_ = ns;
		req.coord.package = p->rest[p->n - 3];
		req.coord.version = p->rest[p->n - 2];
		req.unfinished = true; /* until maven-metadata.xml (spec §3) */
		if (ends_with(file, ".pom"))
			kind = STORE_FILE_POM;
		break;
	}
	case CAFS_FORMAT_GENERIC:
		if (p->n != 4)
			return not_here(path, "generic files go in <namespace>/<name>/<version>/",
					e);
		req.coord.namespace_ = p->rest[0];
		req.coord.package = p->rest[1];
		req.coord.version = p->rest[2];
		req.unfinished = true; /* Published by setting its status, or by a staging rename */
		break;
	case CAFS_FORMAT_NONE:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_SWIFT:
	case CAFS_FORMAT_CARGO:
		return not_here(path, "not a format folder of the mount", e);
	}
	(void)staged_dir;
	if (kind != STORE_FILE_UNKNOWN) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			return cafs_error_set(e, CAFS_IO, errno, "seek: %s", strerror(errno));
		r = store_extract_fd(fd, kind, &meta, e);
		if (r < 0)
			return r;
	}
	if (meta && p->format != CAFS_FORMAT_MAVEN) {
		/* placed by its own metadata; inside a version folder the two must agree */
		const char *want_name = NULL, *want_version = NULL, *want_ns = NULL;

		if (p->format == CAFS_FORMAT_PYPI && p->n == 3) {
			want_name = p->rest[0];
			want_version = p->rest[1];
		} else if (p->format == CAFS_FORMAT_NPM && p->n >= 3) {
			want_ns = p->n == 4 ? p->rest[0] + 1 : "";
			want_name = p->rest[p->n - 3];
			want_version = p->rest[p->n - 2];
		}
		if (p->format == CAFS_FORMAT_PYPI && want_name) {
			(void)cafs_pypi_normalize(want_name, norm_a, sizeof(norm_a));
			(void)cafs_pypi_normalize(meta->name, norm_b, sizeof(norm_b));
		} else if (want_name) {
			(void)snprintf(norm_a, sizeof(norm_a), "%s", want_name);
			(void)snprintf(norm_b, sizeof(norm_b), "%s", meta->name);
		}
		if (want_name &&
		    (strcmp(norm_a, norm_b) != 0 || strcmp(want_version, meta->version) != 0 ||
		     (want_ns && strcmp(want_ns, meta->namespace_ ? meta->namespace_ : "") != 0))) {
			r = cafs_error_set(
				e, CAFS_VALIDATION, EINVAL,
				"'%s' is %s %s by its own metadata, not what its path says", path,
				meta->name, meta->version);
			store_metadata_free(meta);
			return r;
		}
		req.coord.namespace_ = meta->namespace_;
		req.coord.package = meta->name;
		req.coord.version = meta->version;
	}
	if (meta && p->format == CAFS_FORMAT_MAVEN &&
	    (strcmp(meta->namespace_ ? meta->namespace_ : "", ns) != 0 ||
	     strcmp(meta->name, req.coord.package) != 0 ||
	     strcmp(meta->version, req.coord.version) != 0)) {
		r = cafs_error_set(
			e, CAFS_VALIDATION, EINVAL, "POM '%s' is %s:%s:%s, not what its path says",
			path, meta->namespace_ ? meta->namespace_ : "", meta->name, meta->version);
		store_metadata_free(meta);
		return r;
	}
	req.asset_name = p->format == CAFS_FORMAT_NPM ? "package.tgz" : file;
	req.meta = meta;
	if (lseek(fd, 0, SEEK_SET) < 0)
		r = cafs_error_set(e, CAFS_IO, errno, "seek: %s", strerror(errno));
	if (r == 0)
		r = store_publish_fd(s, &req, fd, &res, e);
	store_metadata_free(meta);
	return r;
}

/* Generic versions written through a staging folder are Published once all files are in. */
static int finish_generic(struct store *s, const struct wpath *p, struct cafs_error *e)
{
	struct store_version_ref ref = {p->rest[2], NULL};
	struct store_batch b = {
		.repository = p->repo,
		.coord = {CAFS_FORMAT_GENERIC, p->rest[0], p->rest[1], NULL},
		.versions = &ref,
		.n_versions = 1,
		.expected_status = -1,
	};
	struct store_batch_result res = {0};
	int r = store_version_update_status(s, &b, STORE_STATUS_PUBLISHED, &res, e);

	if (r == 0 && res.n_failed)
		r = cafs_error_set(e, CAFS_CONFLICT, EPERM, "cannot publish version '%s': %s",
				   p->rest[2], res.n ? res.items[0].message : "refused");
	store_batch_result_done(&res);
	return r;
}

int store_view_write(struct store *s, const struct store_write_file *files, size_t n, bool finish,
		     struct cafs_error *e)
{
	struct store_node node;
	int r;

	r = store_txn_begin(s, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct wpath p;
		struct cafs_error ignored;

		/* synthesized files are made, not written */
		if (store_view_resolve(s, files[i].path, &node, &ignored) == 0 &&
		    node.kind == STORE_NODE_SYNTH && node.synth != STORE_SYNTH_CHECKSUM &&
		    strcmp(node.file, "maven-metadata.xml") != 0) {
			r = cafs_error_set(e, CAFS_VALIDATION, EROFS,
					   "'%s' is made by cafs and cannot be written",
					   files[i].path);
			break;
		}
		r = parse(files[i].path, &p, e);
		if (r == 0)
			r = write_one(s, files[i].path, &p, files[i].fd, files[i].adopt, finish, e);
		if (r == 0 && finish && p.format == CAFS_FORMAT_GENERIC && p.n == 4 &&
		    (i + 1 == n || strncmp(files[i + 1].path, files[i].path,
					   strrchr(files[i].path, '/') - files[i].path) != 0))
			r = finish_generic(s, &p, e);
	}
	if (r == 0)
		return store_txn_commit(s, e) < 0 ? -cafs_error_errno(e) : (int)n;
	/* the mount's view of the refusal (the store operation may have recorded its own) */
	store_audit_refusal(s, "WriteFile", n ? files[0].path : "", e);
	return r;
}

/* A one-version batch on the package of @n (its own record). */
static int one_version(struct store *s, const struct store_node *n, int status, bool del,
		       struct cafs_error *e)
{
	struct store_version_ref ref = {n->version, NULL};
	struct store_batch b = {
		.repository = n->repository,
		.coord = {n->format, n->namespace_, n->package, NULL},
		.versions = &ref,
		.n_versions = 1,
		.expected_status = -1,
	};
	struct store_batch_result res = {0};
	int r = del ? store_version_delete(s, &b, &res, e)
		    : store_version_update_status(s, &b, (enum store_status)status, &res, e);

	if (r == 0 && res.n_failed)
		r = cafs_error_set(e, CAFS_ACCESS_DENIED, EPERM, "version '%s': %s", n->version,
				   res.n ? res.items[0].message : "refused");
	store_batch_result_done(&res);
	return r;
}

/*
 * Remove asset @file from the repository's own version of @n (any status, Unfinished
 * included: Maven removes a partial file after a failure): a new revision, or the version
 * itself when it was the last asset.
 */
static int remove_asset(struct store *s, const struct store_node *n, const char *file,
			struct cafs_error *e)
{
	struct store_coord c = {n->format, n->namespace_, n->package, n->version};
	_cleanup_free_ struct store_asset *assets = NULL;
	_cleanup_free_ struct store_blob *freed = NULL;
	struct store_pkg_coord pc;
	enum store_status status;
	char resource[2048];
	char revision[64];
	size_t na = 0, n_freed = 0;
	int64_t repo, pkg, ver, blob = 0;
	sqlite3_stmt *st;
	int r;

	r = store_version_assets(s, n->repository, &c, &assets, &na, NULL, e);
	if (r < 0)
		return r;
	if (na == 1 && strcmp(assets[0].name, file) == 0)
		return one_version(s, n, -1, true, e);
	r = store_pkg_coord(&c, &pc, e);
	if (r == 0)
		r = store_repo_id(s, n->repository, &repo, e);
	if (r < 0)
		return r;
	store_pkg_resource(s, n->repository, &pc, resource, sizeof(resource));
	r = store_txn_begin(s, e);
	if (r == 0) {
		r = store_pkg_find(s, repo, &pc, &pkg, NULL, NULL, e);
		r = r > 0 ? store_pkg_find_version(s, pkg, pc.version, &ver, &status, e) : r;
		if (r == 0)
			r = cafs_error_set(e, CAFS_NOT_FOUND, 0, "no version '%s' here",
					   pc.version);
		else if (r > 0)
			r = 0;
	}
	if (r == 0 && (status == STORE_STATUS_ARCHIVED || status == STORE_STATUS_DISPOSED))
		r = cafs_error_set(e, CAFS_CONFLICT, EROFS, "version '%s' is %s", pc.version,
				   store_status_name(status));
	if (r == 0) {
		st = store_stmt(s,
				"DELETE FROM assets WHERE version_id = ? AND name = ? "
				"RETURNING blob_id",
				e);
		if (!st) {
			r = -EIO;
		} else {
			sqlite3_bind_int64(st, 1, ver);
			sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				blob = sqlite3_column_int64(st, 0);
			(void)sqlite3_reset(st);
			if (!blob)
				r = cafs_error_set(e, CAFS_NOT_FOUND, 0, "no asset '%s'", file);
		}
	}
	if (r == 0)
		r = store_pkg_update_revision(s, ver, revision, e);
	if (r == 0)
		r = store_blob_release(s, &blob, 1, &freed, &n_freed, e);
	if (r == 0)
		r = store_audit(s, "DeletePackageVersionAsset", resource, "ok", file, e);
	if (r == 0)
		r = store_txn_commit(s, e);
	if (r < 0) {
		store_audit_refusal(s, "DeletePackageVersionAsset", resource, e);
		return r;
	}
	if (n_freed)
		(void)store_blob_unlink(s, freed, n_freed);
	return 0;
}

int store_view_remove(struct store *s, const char *path, bool dir, struct cafs_error *e)
{
	struct store_node n;
	struct wpath p;
	int r;

	r = store_view_resolve(s, path, &n, e);
	if (r < 0) {
		/* a folder whose last version just went with its last file: rm -r removes
		 * the files first, then the folder that no longer exists */
		if (dir && e->kind == CAFS_NOT_FOUND && parse(path, &p, NULL) == 0 && p.n > 0 &&
		    p.format != CAFS_FORMAT_NONE)
			return 0;
		return r;
	}
	switch (n.kind) {
	case STORE_NODE_ROOT:
		return cafs_error_set(e, CAFS_CONFLICT, EBUSY, "the domain root cannot be removed");
	case STORE_NODE_REPO: {
		struct store_package_filter f = {0};
		struct store_package *pk = NULL;
		struct store_repository gone;
		size_t np = 0;

		if (!dir)
			return cafs_error_set(e, CAFS_VALIDATION, EISDIR, "a folder");
		r = store_package_list(s, n.repository, &f, &pk, &np, e);
		free(pk);
		if (r == 0 && np)
			return cafs_error_set(e, CAFS_CONFLICT, ENOTEMPTY,
					      "repository '%s' still holds %zu packages",
					      n.repository, np);
		return r < 0 ? r : store_repository_delete(s, n.repository, &gone, e);
	}
	case STORE_NODE_FORMAT:
	case STORE_NODE_NSDIR:
		return cafs_error_set(e, CAFS_CONFLICT, ENOTEMPTY, "'%s' is not empty", path);
	case STORE_NODE_PACKAGE: {
		struct store_version_filter vf = {.status = -1};
		struct store_coord c = {n.format, n.namespace_, n.package, NULL};
		struct store_version *vs = NULL;
		struct store_package gone;
		size_t nv = 0;

		if (!dir)
			return cafs_error_set(e, CAFS_VALIDATION, EISDIR, "a folder");
		r = store_version_list(s, n.repository, &c, &vf, &vs, &nv, NULL, e);
		free(vs);
		if (r < 0)
			return e->kind == CAFS_NOT_FOUND
				       ? cafs_error_set(e, CAFS_CONFLICT, EROFS,
							"'%s' comes from an upstream", path)
				       : r;
		if (nv)
			return cafs_error_set(e, CAFS_CONFLICT, ENOTEMPTY,
					      "package '%s' still has %zu versions", n.package, nv);
		return store_package_delete(s, n.repository, &c, &gone, e);
	}
	case STORE_NODE_VERSION: {
		struct store_coord c = {n.format, n.namespace_, n.package, n.version};
		_cleanup_free_ struct store_asset *assets = NULL;
		size_t na = 0;

		if (!dir)
			return cafs_error_set(e, CAFS_VALIDATION, EISDIR, "a folder");
		if (!n.retained)
			return cafs_error_set(e, CAFS_CONFLICT, EROFS,
					      "version '%s' comes from upstream '%s'", n.version,
					      n.source_repository);
		r = store_version_assets(s, n.repository, &c, &assets, &na, NULL, e);
		if (r == 0 && na)
			return cafs_error_set(e, CAFS_CONFLICT, ENOTEMPTY,
					      "version '%s' still has %zu files", n.version, na);
		return r < 0 ? r : one_version(s, &n, -1, true, e);
	}
	case STORE_NODE_ASSET:
		if (dir)
			return cafs_error_set(e, CAFS_VALIDATION, ENOTDIR, "not a folder");
		if (!n.retained)
			return cafs_error_set(e, CAFS_CONFLICT, EROFS,
					      "'%s' comes from upstream '%s'", path,
					      n.source_repository);
		return remove_asset(s, &n, n.file, e);
	case STORE_NODE_SYNTH:
		if (n.synth == STORE_SYNTH_CHECKSUM || n.synth == STORE_SYNTH_MAVEN_METADATA)
			return 0; /* not stored: nothing to remove */
		return cafs_error_set(e, CAFS_VALIDATION, EROFS, "'%s' is made by cafs", path);
	}
	return cafs_error_set(e, CAFS_INTERNAL, EIO, "unknown node");
}

int store_view_mkdir(struct store *s, const char *path, struct cafs_error *e)
{
	struct store_repository repo;
	struct store_node n;
	struct cafs_error ignored;
	struct wpath p;
	int r = parse(path, &p, e);

	if (r < 0)
		return r;
	if (store_view_resolve(s, path, &n, &ignored) == 0)
		return cafs_error_set(e, CAFS_CONFLICT, EEXIST, "'%s' exists", path);
	if (p.repo && p.format == CAFS_FORMAT_NONE && p.n == 0 && !strchr(path + 1, '/'))
		return store_repository_create(s, p.repo, NULL, NULL, 0, NULL, 0, &repo, e);
	if (p.n > 0 &&
	    (p.format == CAFS_FORMAT_MAVEN || p.format == CAFS_FORMAT_GENERIC ||
	     p.format == CAFS_FORMAT_PYPI || p.format == CAFS_FORMAT_NPM) &&
	    store_repo_id(s, p.repo, &(int64_t){0}, NULL) == 0) {
		for (size_t i = 0; i < p.n; i++) {
			r = cafs_validate_coord_part(
				p.rest[i][0] == '@' ? p.rest[i] + 1 : p.rest[i], "folder name", e);
			if (r < 0)
				return r;
		}
		/* a project folder pip could never find, an npm name the registry refuses */
		if (p.format == CAFS_FORMAT_PYPI) {
			char norm[CAFS_PACKAGE_FIELD_MAX + 1];

			if (cafs_pypi_normalize(p.rest[0], norm, sizeof(norm)) < 0 ||
			    strcmp(norm, p.rest[0]) != 0)
				return cafs_error_set(
					e, CAFS_VALIDATION, EINVAL,
					"'%s' is not a normalized PyPI name (PEP 503): "
					"'%s'",
					p.rest[0], norm);
		}
		for (size_t i = 0; p.format == CAFS_FORMAT_NPM && i < p.n && i < 2; i++)
			if (strpbrk(p.rest[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
				return cafs_error_set(e, CAFS_VALIDATION, EINVAL,
						      "'%s': npm names are lower case", p.rest[i]);
		return 1;
	}
	return cafs_error_set(e, CAFS_VALIDATION, EPERM,
			      "'%s': folders are made by publishing; mkdir makes repositories at "
			      "the top and package folders inside a format folder",
			      path);
}

int store_view_setxattr(struct store *s, const char *path, const char *name, const char *value,
			size_t len, struct cafs_error *e)
{
	char v[4096], cur[4096];
	struct store_node n;
	int r;

	if (len >= sizeof(v))
		return cafs_error_set(e, CAFS_VALIDATION, EINVAL, "value too long");
	memcpy(v, value, len);
	v[len] = '\0';
	v[strcspn(v, "\n")] = '\0';
	r = store_view_resolve(s, path, &n, e);
	if (r < 0)
		return r;
	if (strcmp(name, "user.cafs.status") == 0 && n.kind == STORE_NODE_VERSION) {
		int st = store_status_parse(v);

		if (st == STORE_STATUS_UNFINISHED || st == STORE_STATUS_DISPOSED)
			/* statuses, but never the target of a status change (spec §4.2) */
			return cafs_error_set(e, CAFS_CONFLICT, EPERM,
					      "a version cannot be set to %s: set Published, "
					      "Unlisted or Archived",
					      v);
		if (st != STORE_STATUS_PUBLISHED && st != STORE_STATUS_UNLISTED &&
		    st != STORE_STATUS_ARCHIVED)
			return cafs_error_set(e, CAFS_VALIDATION, EINVAL,
					      "status '%s': set Published, Unlisted or Archived",
					      v);
		if (!n.retained)
			return cafs_error_set(e, CAFS_CONFLICT, EROFS,
					      "version '%s' comes from upstream '%s'", n.version,
					      n.source_repository);
		return one_version(s, &n, st, false, e);
	}
	if ((strcmp(name, "user.cafs.origin.publish") == 0 ||
	     strcmp(name, "user.cafs.origin.upstream") == 0) &&
	    n.kind == STORE_NODE_PACKAGE) {
		struct store_coord c = {n.format, n.namespace_, n.package, NULL};
		struct store_package pkg;
		bool publish = strcmp(name, "user.cafs.origin.publish") == 0;

		if (store_package_describe(s, n.repository, &c, &pkg, NULL) < 0) {
			/* no record yet: the other control keeps its publish-arrival default */
			(void)snprintf(pkg.publish, sizeof(pkg.publish), "ALLOW");
			(void)snprintf(pkg.upstream, sizeof(pkg.upstream), "ALLOW");
		}
		return store_package_origin_put(s, n.repository, &c, publish ? v : pkg.publish,
						publish ? pkg.upstream : v, &pkg, e);
	}
	if (strcmp(name, "user.cafs.description") == 0 && n.kind == STORE_NODE_REPO) {
		struct store_repository repo;

		return store_repository_update(s, n.repository, v, false, NULL, 0, &repo, e);
	}
	/* what it is already: a copy between two places of the mount (cp -a, rsync -X) */
	r = store_view_xattr_get(s, &n, name, cur, sizeof(cur), e);
	if (r >= 0 && (size_t)r == len && memcmp(cur, value, len) == 0)
		return 0;
	return cafs_error_set(e, CAFS_VALIDATION, EROFS, "attribute '%s' of '%s' is read-only",
			      name, path);
}
