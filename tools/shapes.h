/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * JSON response pieces shared by the package commands (AWS shapes, spec §5), and the
 * coordinate options they share.
 */

#include <jansson.h>

#include "policy/names.h"

struct cli;
struct store_asset;
struct store_blob_hashes;
struct store_coord;

/* {"MD5": ..., "SHA-1": ..., "SHA-256": ..., "SHA-512": ...}; new reference. */
json_t *hashes_json(const struct store_blob_hashes *h);

/* AssetSummary {name, size, hashes}; new reference. */
json_t *asset_json(const struct store_asset *a);

/* {format, namespace?, package, version}; new reference. */
json_t *coord_json(enum cafs_format f, const char *ns, const char *pkg, const char *ver);

/* --format, --namespace, --package, --package-version into @ret (borrowed strings). Returns 0,
 * or the exit code of a usage error. */
int coord_from_opts(struct cli *c, struct store_coord *ret);
