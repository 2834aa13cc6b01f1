/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Maven's publishing protocol on top of the package store (spec §3 notes): a version's files
 * arrive first and the version is Unfinished until the artifact's maven-metadata.xml is
 * written; SNAPSHOT versions keep their newest build as the version itself and every earlier
 * build as an Unlisted version of its own, named by its timestamp.
 */

#include <stdbool.h>
#include <stddef.h>

struct store;
struct cafs_error;

/*
 * The build of a unique SNAPSHOT file: for version "1.0-SNAPSHOT" of artifact "app", the file
 * "app-1.0-20260101.120000-3.jar" (or "...-3-sources.jar") is build "20260101.120000-3".
 * Writes it into @buf (at least 32 bytes) and returns true; false for any other name.
 */
bool store_maven_snapshot_build(const char *artifact, const char *version, const char *file,
				char *buf, size_t bufsz);

/*
 * A maven-metadata.xml written for artifact @group:@artifact in @repository (the written file
 * is checked, not stored: the served one is always made from the versions). It must be
 * well-formed XML naming the same groupId and artifactId (ValidationException otherwise);
 * @group and @artifact NULL take them from the file.
 * Every Unfinished version of the artifact that it lists (<version>, <versions>, or, for a
 * SNAPSHOT's version-level file, that version) becomes Published. Returns the number of
 * versions it finished.
 */
int store_maven_metadata_put(struct store *s, const char *repository, const char *group,
			     const char *artifact, const void *xml, size_t len,
			     struct cafs_error *e);
