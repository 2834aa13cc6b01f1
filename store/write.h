/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The write side of the client view (DESIGN.md §3): what writing, removing, creating folders
 * and setting attributes at a mount path mean as CodeArtifact operations. Paths are those of
 * store/view.h. Every call is one store operation with its rules and its audit row; a refusal
 * is a struct cafs_error whose errno is the one DESIGN.md §5 gives.
 */

#include <stdbool.h>
#include <stddef.h>

struct store;
struct cafs_error;

/*
 * One file written whole: its path in the mount and an fd on its bytes, borrowed: the store
 * seeks it and reads from offset 0. An fd open on one of the domain's own blobs publishes by
 * reference, without a byte read (store_blob_ingest_fd()).
 */
struct store_write_file {
	const char *path;
	int fd;
	/* @fd is a file the caller never writes again, which may become the blob: see
	 * store_blob_adopt_fd() */
	bool adopt;
};

/*
 * Publish the files @files written at their paths, all in one transaction (all or nothing):
 * - "/R/pypi/<file>" and "/R/npm/<file>": a wheel, sdist or npm tarball, placed by its own
 *   metadata; "/R/pypi/<name>/<version>/<file>" and "/R/npm/[@scope/]<name>/<version>/
 *   package.tgz": the metadata must name that package and version (ValidationException,
 *   EINVAL, otherwise);
 * - "/R/maven/<group path>/<artifact>/<version>/<file>": an asset of an Unfinished version
 *   (a POM's coordinates must agree with the path); "<file>.md5|.sha1|.sha256|.sha512" beside
 *   an asset is checked against it and not stored (mismatch: EINVAL; no such asset: ENOENT);
 *   "<artifact>/maven-metadata.xml" (or a SNAPSHOT version's) is checked and finishes the
 *   Unfinished versions it lists, not stored; checksum files of maven-metadata.xml are
 *   accepted and dropped;
 * - "/R/generic/<ns>/<name>/<version>/<file>": an asset of an Unfinished generic version, or,
 *   with @finish, of a version Published once all @files are in (the atomic staging rename);
 *   the files of one version must be consecutive in @files.
 * Anything else is a ValidationException (EINVAL); synthesized files are read-only (EROFS).
 * Returns the number of assets published or verified.
 */
int store_view_write(struct store *s, const struct store_write_file *files, size_t n, bool finish,
		     struct cafs_error *e);

/*
 * Remove what @path names: an asset of one of the repository's own versions (a new revision;
 * the version goes with its last asset; the blob is freed when nothing references it), a
 * version folder (DeletePackageVersions), a package folder with no versions left
 * (DeletePackage), or a repository (DeleteRepository; ENOTEMPTY while it holds packages,
 * EBUSY while it is another's upstream). @dir says rmdir (folders) or unlink (files). Versions
 * seen only through upstreams cannot be removed here (EROFS). Checksum files and Maven
 * metadata are not stored, so removing them succeeds and changes nothing.
 */
int store_view_remove(struct store *s, const char *path, bool dir, struct cafs_error *e);

/*
 * mkdir: "/<name>" creates a repository (CreateRepository). Inside a format folder a folder
 * becomes real when something is published under it, so this answers 1 ("accepted, pending")
 * when @path is a place where packages can go (Maven's mkdir of each level, generic versions),
 * else a ValidationException. Returns 0 for a repository created.
 */
int store_view_mkdir(struct store *s, const char *path, struct cafs_error *e);

/*
 * setxattr of user.cafs.* names: "user.cafs.status" on a version folder
 * (UpdatePackageVersionsStatus to Published, Unlisted or Archived; an illegal transition is
 * EPERM), "user.cafs.origin.publish" / "user.cafs.origin.upstream" on a package folder
 * (PutPackageOriginConfiguration, the other control kept), "user.cafs.description" on a
 * repository (UpdateRepository). Other user.cafs.* names are read-only: setting one to the
 * value it has succeeds and changes nothing (cp -a and rsync -X between two places of the
 * mount), any other value is EROFS.
 */
int store_view_setxattr(struct store *s, const char *path, const char *name, const char *value,
			size_t len, struct cafs_error *e);
