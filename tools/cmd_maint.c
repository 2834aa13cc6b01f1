/* SPDX-License-Identifier: MIT */
/*
 * The maintenance commands (cafs' own, DESIGN.md §6): fsck (verify every blob against its
 * hashes and every row against its blob; repair what is safe with --repair) and gc (free the
 * blobs no asset references, past a grace period). Both are safe while the domain is mounted
 * and publishing (store/fsck.h). fsck draws a progress bar on a terminal and exits 1 when
 * problems remain, printing its report either way (as `cafs refresh` does for failures).
 */
#include <stdio.h>
#include <string.h>

#include "policy/common.h"
#include "store/fsck.h"
#include "store/store.h"
#include "tools/cli.h"
#include "tools/cmd.h"

static const char *const type_names[] = {
	[STORE_FSCK_BLOB_CORRUPT] = "BLOB_CORRUPT",
	[STORE_FSCK_BLOB_MISSING] = "BLOB_MISSING",
	[STORE_FSCK_ORPHAN] = "ORPHAN_FILE",
	[STORE_FSCK_STRAY] = "STRAY_FILE",
	[STORE_FSCK_TEMP] = "TEMP_FILE",
	[STORE_FSCK_ASSET] = "ASSET_WITHOUT_BLOB",
	[STORE_FSCK_VERSION] = "HALF_PUBLISHED_VERSION",
	[STORE_FSCK_DATABASE] = "DATABASE_INTEGRITY",
	[STORE_FSCK_FOREIGN_KEY] = "FOREIGN_KEY",
};

static const char *const state_names[] = {
	[STORE_FSCK_PROBLEM] = "PROBLEM",
	[STORE_FSCK_REPAIRED] = "REPAIRED",
	[STORE_FSCK_NOTE] = "NOTE",
};

struct fsck_ctx {
	json_t *findings;
	size_t count[3]; /* by enum store_fsck_state */
	struct cli_progress bar;
};

static void fsck_report(void *ctx, const struct store_fsck_finding *f)
{
	struct fsck_ctx *x = ctx;
	json_t *o =
		json_pack("{s:s,s:s}", "type", type_names[f->type], "state", state_names[f->state]);

	if (f->path)
		json_object_set_new(o, "path", json_string(f->path));
	if (f->id)
		json_object_set_new(o, "id", json_integer((json_int_t)f->id));
	if (f->subject)
		json_object_set_new(o, "packageVersion", json_string(f->subject));
	json_object_set_new(o, "message", json_string(f->message));
	if (f->n_assets) {
		json_t *a = json_array();

		for (size_t i = 0; i < f->n_assets; i++)
			json_array_append_new(a, json_string(f->assets[i]));
		json_object_set_new(o, "assets", a);
	}
	json_array_append_new(x->findings, o);
	x->count[f->state]++;
}

/* --grace SECONDS (default STORE_GRACE_DEFAULT_S): 0 or the exit code of a usage error. */
static int grace_opt(struct cli *c, int64_t *ret)
{
	long long v = cli_int(c, "--grace", STORE_GRACE_DEFAULT_S);

	if (v < 0)
		return cli_usage(c, "--grace needs a number of seconds (0 or more), not %lld", v);
	*ret = (int64_t)v;
	return 0;
}

/*
 * As open_domain() (the caller's right to the command, --domain-owner), through
 * store_fsck_open(), which reports the temp files its open sweeps.
 */
static int open_for_fsck(struct cli *c, const struct store_fsck_options *o, struct store **ret,
			 struct cafs_error *e)
{
	return open_domain_checked(c, store_fsck_open(c->root, cli_str(c, "--domain"), o, ret, e),
				   ret, e);
}

int cmd_fsck(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct fsck_ctx x = {.findings = json_array()};
	struct store_fsck_options o = {
		.repair = cli_flag(c, "--repair"),
		.verify_bytes = !cli_given(c, "--verify-bytes") || cli_flag(c, "--verify-bytes"),
		.report = fsck_report,
		.report_ctx = &x,
		.progress = cli_progress_update,
		.progress_ctx = &x.bar,
	};
	struct store_fsck_summary sum;
	struct cafs_error e;
	json_t *out;
	int rc = grace_opt(c, &o.grace_s);

	if (rc) {
		json_decref(x.findings);
		return rc;
	}
	cli_progress_init(&x.bar, "fsck");
	if (open_for_fsck(c, &o, &s, &e) < 0 || store_fsck(s, &o, &sum, &e) < 0) {
		cli_progress_done(&x.bar);
		json_decref(x.findings);
		return cli_fail(&e);
	}
	cli_progress_done(&x.bar);
	out = json_pack(
		"{s:s,s:b,s:b,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I},s:I,s:I,s:I,s:b,s:o}",
		"domain", cli_str(c, "--domain"), "repair", o.repair, "verifyBytes", o.verify_bytes,
		"graceSeconds", (json_int_t)o.grace_s, "checked", "blobs", (json_int_t)sum.blobs,
		"blobBytes", (json_int_t)sum.blob_bytes, "blobFiles", (json_int_t)sum.files,
		"bytesVerified", (json_int_t)sum.bytes_verified, "assets", (json_int_t)sum.assets,
		"versions", (json_int_t)sum.versions, "unreferencedBlobs", "count",
		(json_int_t)sum.unreferenced, "bytes", (json_int_t)sum.unreferenced_bytes,
		"problems", (json_int_t)x.count[STORE_FSCK_PROBLEM], "repaired",
		(json_int_t)x.count[STORE_FSCK_REPAIRED], "notes",
		(json_int_t)x.count[STORE_FSCK_NOTE], "clean", x.count[STORE_FSCK_PROBLEM] == 0,
		"findings", x.findings);
	rc = cli_print(c, out);
	return rc ? rc : x.count[STORE_FSCK_PROBLEM] ? 1 : 0;
}

int cmd_gc(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_gc_options o = {.dry_run = cli_flag(c, "--dry-run")};
	struct store_gc_result res;
	struct cafs_error e;
	int rc = grace_opt(c, &o.grace_s);

	if (rc)
		return rc;
	if (open_domain(c, &s, &e) < 0 || store_gc(s, &o, &res, &e) < 0)
		return cli_fail(&e);
	return cli_print(
		c, json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "domain",
			     cli_str(c, "--domain"), "dryRun", o.dry_run, "graceSeconds",
			     (json_int_t)o.grace_s, "freedBlobs", (json_int_t)res.freed,
			     "freedBytes", (json_int_t)res.freed_bytes, "removedFiles",
			     (json_int_t)res.files_removed, "keptYoungBlobs", (json_int_t)res.young,
			     "keptYoungBytes", (json_int_t)res.young_bytes, "orphanFilesRemoved",
			     (json_int_t)res.orphans, "orphanBytes", (json_int_t)res.orphan_bytes,
			     "keptYoungOrphanFiles", (json_int_t)res.young_orphans));
}
