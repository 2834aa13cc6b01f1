/* SPDX-License-Identifier: MIT */
/*
 * `cafs publish FILE...` (publish package files with the metadata they carry) and the version
 * read commands: get-package-version-asset, get-package-version-readme and
 * list-package-version-dependencies.
 *
 * publish reads each file twice: once for its metadata (store/extract.h), once into the blob
 * store. A Maven version's files are published Unfinished and the last one finishes it, so a
 * reader never sees a jar without its POM.
 */
#include "tools/cmd_publish.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/extract.h"
#include "store/maven.h"
#include "store/package.h"
#include "store/store.h"
#include "tools/cmd.h"
#include "tools/shapes.h"

/* One file to publish, with what it says about itself. */
struct plan {
	const char *path;
	char *owned_path; /* a POM found beside an artifact; path points here */
	char asset[CAFS_ASSET_NAME_MAX + 1];
	struct store_metadata *meta; /* owned */
	enum cafs_format format;
	bool unfinished;
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Read the metadata of @path as @kind (UNKNOWN = detect). */
static int read_meta(const char *path, enum store_file_kind kind, struct store_metadata **ret,
		     enum store_file_kind *ret_kind, struct cafs_error *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char head[4096];
	ssize_t n;

	if (fd < 0)
		return cafs_error_set(e, CAFS_VALIDATION, errno, "cannot read '%s': %s", path,
				      strerror(errno));
	if (kind == STORE_FILE_UNKNOWN) {
		n = pread(fd, head, sizeof(head), 0);
		kind = store_extract_detect(base_name(path), head, n > 0 ? (size_t)n : 0);
	}
	if (ret_kind)
		*ret_kind = kind;
	if (kind == STORE_FILE_UNKNOWN)
		return 0;
	return store_extract_fd(fd, kind, ret, e);
}

/* The POM that describes Maven file @path: --pom, else "<a>-<v>.pom" beside it. */
static int find_pom(struct cli *c, const char *path, char *buf, size_t bufsz, struct cafs_error *e)
{
	const char *pom = cli_str(c, "--pom");
	_cleanup_free_ char *dir = strdup(path);
	char stem[PATH_MAX];
	char *dot;

	if (pom) {
		(void)snprintf(buf, bufsz, "%s", pom);
		return 0;
	}
	/* strip ".ext", then any "-classifier" the caller must name with --pom */
	(void)snprintf(stem, sizeof(stem), "%s", base_name(path));
	dot = strrchr(stem, '.');
	if (dot)
		*dot = '\0';
	if (snprintf(buf, bufsz, "%s/%s.pom", dir ? dirname(dir) : ".", stem) >= (int)bufsz)
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG, "path '%s' is too long",
				      path);
	if (access(buf, R_OK) == 0)
		return 0;
	return cafs_error_set(e, CAFS_VALIDATION, 0,
			      "cannot tell the format of '%s': it is no wheel, sdist or npm "
			      "tarball, and no POM '%s' is beside it (name one with --pom)",
			      path, buf);
}

/* Whether @path is one of the command's files or already planned. */
static bool planned(const struct cli *c, const char *path, const struct plan *plans, size_t n)
{
	char want[PATH_MAX], have[PATH_MAX];

	if (!realpath(path, want))
		return false;
	for (size_t i = 0; i < c->n_args; i++)
		if (realpath(c->args[i], have) && strcmp(want, have) == 0)
			return true;
	for (size_t i = 0; i < n; i++)
		if (realpath(plans[i].path, have) && strcmp(want, have) == 0)
			return true;
	return false;
}

/* The plan for one file; a Maven artifact brings its POM in too (once). */
static int plan_file(struct cli *c, const char *path, struct plan **plans, size_t *n,
		     struct cafs_error *e)
{
	struct store_metadata *meta = NULL;
	enum store_file_kind kind;
	char pom[PATH_MAX];
	struct plan p = {.path = path};
	struct plan *np;
	int r;

	r = read_meta(path, STORE_FILE_UNKNOWN, &meta, &kind, e);
	if (r < 0)
		return r;
	if (kind == STORE_FILE_UNKNOWN) {
		r = find_pom(c, path, pom, sizeof(pom), e);
		if (r == 0)
			r = read_meta(pom, STORE_FILE_POM, &meta, NULL, e);
		if (r < 0)
			return r;
		kind = STORE_FILE_POM;
		p.unfinished = true;
	}
	p.meta = meta;
	if (p.unfinished && !planned(c, pom, *plans, *n)) {
		/* the artifact's POM is one of the version's files too */
		char build[32];
		struct plan *np2 = reallocarray(*plans, *n + 1, sizeof(**plans));
		struct plan pp = {.format = CAFS_FORMAT_MAVEN, .unfinished = true};

		if (!np2) {
			store_metadata_free(meta);
			return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		}
		*plans = np2;
		pp.owned_path = strdup(pom);
		pp.path = pp.owned_path;
		r = pp.owned_path ? read_meta(pom, STORE_FILE_POM, &pp.meta, NULL, e)
				  : cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
		if (r < 0) {
			free(pp.owned_path);
			store_metadata_free(meta);
			return r;
		}
		if (store_maven_snapshot_build(pp.meta->name, pp.meta->version, base_name(pom),
					       build, sizeof(build)))
			(void)snprintf(pp.asset, sizeof(pp.asset), "%.255s", base_name(pom));
		else if (snprintf(pp.asset, sizeof(pp.asset), "%s-%s.pom", pp.meta->name,
				  pp.meta->version) >= (int)sizeof(pp.asset)) {
			store_metadata_free(pp.meta);
			free(pp.owned_path);
			store_metadata_free(meta);
			return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG,
					      "Maven file names of '%s' are too long", pom);
		}
		(*plans)[(*n)++] = pp;
	}
	switch (kind) {
	case STORE_FILE_WHEEL:
	case STORE_FILE_SDIST_TGZ:
	case STORE_FILE_SDIST_ZIP:
		p.format = CAFS_FORMAT_PYPI;
		(void)snprintf(p.asset, sizeof(p.asset), "%s", base_name(path));
		/* pip tells wheels from sdists by the file name, so the name must say it */
		if (kind == STORE_FILE_WHEEL
			    ? !ends_with(p.asset, ".whl")
			    : !(ends_with(p.asset, ".tar.gz") || ends_with(p.asset, ".zip"))) {
			store_metadata_free(meta);
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "'%s' holds a Python %s but is not named *%s",
					      p.asset, kind == STORE_FILE_WHEEL ? "wheel" : "sdist",
					      kind == STORE_FILE_WHEEL ? ".whl"
								       : ".tar.gz or *.zip");
		}
		break;
	case STORE_FILE_NPM_TGZ:
		p.format = CAFS_FORMAT_NPM;
		(void)snprintf(p.asset, sizeof(p.asset), "package.tgz");
		break;
	case STORE_FILE_POM: {
		char stem[2 * CAFS_PACKAGE_FIELD_MAX + 2];
		const char *b = base_name(path);
		char build[32];

		p.format = CAFS_FORMAT_MAVEN;
		(void)snprintf(stem, sizeof(stem), "%s-%s", meta->name, meta->version);
		if (strlen(stem) + 4 > CAFS_ASSET_NAME_MAX) {
			store_metadata_free(meta);
			return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG,
					      "Maven file names of '%s' are too long", stem);
		}
		if (store_maven_snapshot_build(meta->name, meta->version, b, build,
					       sizeof(build))) {
			/* a unique SNAPSHOT build's file keeps its timestamped name */
			(void)snprintf(p.asset, sizeof(p.asset), "%.255s", b);
		} else if (ends_with(path, ".pom") || ends_with(path, ".xml")) {
			/* the POM itself is stored under the name Maven looks for */
			(void)snprintf(p.asset, sizeof(p.asset), "%.250s.pom", stem);
		} else if (strncmp(b, stem, strlen(stem)) == 0 &&
			   (b[strlen(stem)] == '.' || b[strlen(stem)] == '-')) {
			(void)snprintf(p.asset, sizeof(p.asset), "%.255s", b);
		} else {
			store_metadata_free(meta);
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "'%s' is not named like a file of Maven version "
					      "%s:%s:%s (%s[-classifier].ext)",
					      b, meta->namespace_ ? meta->namespace_ : "",
					      meta->name, meta->version, stem);
		}
		break;
	}
	case STORE_FILE_UNKNOWN:
		break;
	}
	np = reallocarray(*plans, *n + 1, sizeof(**plans));
	if (!np) {
		store_metadata_free(meta);
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	}
	*plans = np;
	(*plans)[(*n)++] = p;
	return 0;
}

static bool same_version(const struct plan *a, const struct plan *b)
{
	return a->format == b->format && strcmp(a->meta->name, b->meta->name) == 0 &&
	       strcmp(a->meta->version, b->meta->version) == 0 &&
	       strcmp(a->meta->namespace_ ? a->meta->namespace_ : "",
		      b->meta->namespace_ ? b->meta->namespace_ : "") == 0;
}

static bool is_maven_metadata(const char *path)
{
	return strcmp(base_name(path), "maven-metadata.xml") == 0;
}

/* Hand a maven-metadata.xml to the store; it finishes the Unfinished versions it lists. */
static int put_maven_metadata(struct cli *c, struct store *s, const char *path, json_t *out,
			      struct cafs_error *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0)
		return cafs_error_set(e, CAFS_VALIDATION, errno, "cannot read '%s': %s", path,
				      strerror(errno));
	if (st.st_size > (1 << 20))
		return cafs_error_set(e, CAFS_VALIDATION, EFBIG, "'%s' is larger than 1 MiB", path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
	if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		return cafs_error_set(e, CAFS_IO, errno, "short read of '%s'", path);
	r = store_maven_metadata_put(s, cli_str(c, "--repository"), NULL, NULL, buf,
				     (size_t)st.st_size, e);
	if (r < 0)
		return r;
	json_array_append_new(out, json_pack("{s:s,s:i}", "file", path, "versionsPublished", r));
	return 0;
}

int cmd_publish(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct plan *plans = NULL;
	struct cafs_error e;
	size_t n = 0;
	json_t *out = json_array();
	json_t *metadata = json_array();
	int r = 0;

	for (size_t i = 0; r == 0 && i < c->n_args; i++)
		if (!is_maven_metadata(c->args[i]))
			r = plan_file(c, c->args[i], &plans, &n, &e);
	/* every Maven file is published Unfinished, and the last file of each version finishes
	 * it; a POM named beside an artifact is published too unless it is in the list */
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool last = true;

		if (plans[i].format != CAFS_FORMAT_MAVEN)
			continue;
		for (size_t j = i + 1; j < n; j++)
			last = last && !same_version(&plans[i], &plans[j]);
		plans[i].unfinished = !last || cli_flag(c, "--unfinished");
	}
	if (r == 0)
		r = open_domain(c, &s, &e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_close_ int fd = open(plans[i].path, O_RDONLY | O_CLOEXEC);
		struct store_publish req = {
			.repository = cli_str(c, "--repository"),
			.coord = {plans[i].format, plans[i].meta->namespace_, plans[i].meta->name,
				  plans[i].meta->version},
			.asset_name = plans[i].asset,
			.unfinished = plans[i].unfinished,
			.meta = plans[i].meta,
		};
		struct store_publish_result res;
		json_t *o;

		if (fd < 0) {
			r = cafs_error_set(&e, CAFS_VALIDATION, errno, "cannot read '%s': %s",
					   plans[i].path, strerror(errno));
			break;
		}
		r = store_publish_fd(s, &req, fd, &res, &e);
		if (r < 0)
			break;
		o = coord_json(res.format, res.namespace_, res.package, res.version);
		json_object_set_new(o, "versionRevision", json_string(res.revision));
		json_object_set_new(o, "status", json_string(store_status_name(res.status)));
		json_object_set_new(o, "asset", asset_json(&res.asset));
		json_array_append_new(out, o);
	}
	/* maven-metadata.xml comes last, as mvn writes it: it finishes what it announces */
	for (size_t i = 0; r == 0 && i < c->n_args; i++)
		if (is_maven_metadata(c->args[i]))
			r = put_maven_metadata(c, s, c->args[i], metadata, &e);
	for (size_t i = 0; i < n; i++) {
		store_metadata_free(plans[i].meta);
		free(plans[i].owned_path);
	}
	free(plans);
	if (r < 0) {
		if (json_array_size(out) > 0)
			fprintf(stderr, "warning: %zu file(s) were published before the error\n",
				json_array_size(out));
		json_decref(out);
		json_decref(metadata);
		return cli_fail(&e);
	}
	if (json_array_size(metadata) == 0) {
		json_decref(metadata);
		return cli_print(c, json_pack("{s:o}", "published", out));
	}
	return cli_print(c, json_pack("{s:o,s:o}", "published", out, "mavenMetadata", metadata));
}

int cmd_get_package_version_asset(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_close_ int in = -1;
	_cleanup_close_ int out = -1;
	struct store_coord coord;
	struct cli_progress bar;
	struct cafs_error e;
	char revision[64];
	uint64_t size = 0;
	const char *outfile;
	int r = coord_from_opts(c, &coord);

	if (r)
		return r;
	if (c->n_args != 1)
		return cli_usage(c, "get-package-version-asset takes one OUTFILE");
	outfile = c->args[0];
	if (open_domain(c, &s, &e) < 0)
		return cli_fail(&e);
	in = store_asset_open(s, cli_str(c, "--repository"), &coord, cli_str(c, "--asset"),
			      cli_str(c, "--package-version-revision"), revision, &size, &e);
	if (in < 0)
		return cli_fail(&e);
	out = strcmp(outfile, "-") == 0
		      ? dup(STDOUT_FILENO)
		      : open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cli_progress_init(&bar, cli_str(c, "--asset"));
	r = out < 0 ? 0 : cli_copy_fd(in, out, &bar, (int64_t)size);
	cli_progress_done(&bar);
	if (out < 0 || r < 0) {
		cafs_error_set(&e, CAFS_IO, out < 0 ? errno : -r, "cannot write '%s': %s", outfile,
			       strerror(out < 0 ? errno : -r));
		return cli_fail(&e);
	}
	if (strcmp(outfile, "-") == 0)
		return 0;
	return cli_print(c, json_pack("{s:s,s:s,s:s}", "assetName", cli_str(c, "--asset"),
				      "packageVersion", coord.version, "packageVersionRevision",
				      revision));
}

int cmd_get_package_version_readme(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_version_detail d;
	struct store_coord coord;
	struct cafs_error e;
	json_t *o;
	int r = coord_from_opts(c, &coord);

	if (r)
		return r;
	if (open_domain(c, &s, &e) < 0 ||
	    store_version_describe(s, cli_str(c, "--repository"), &coord, &d, &e) < 0)
		return cli_fail(&e);
	o = coord_json(d.package.format, d.package.namespace_, d.package.package, d.v.version);
	json_object_set_new(o, "versionRevision", json_string(d.v.revision));
	/* no readme file: the description from the metadata stands in (spec §5.7) */
	json_object_set_new(o, "readme",
			    json_string(d.readme ? d.readme : (d.summary ? d.summary : "")));
	store_version_detail_done(&d);
	return cli_print(c, o);
}

int cmd_list_package_version_dependencies(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ struct store_dependency_row *deps = NULL;
	struct store_coord coord;
	struct cafs_error e;
	char revision[64] = "";
	size_t n = 0;
	json_t *o, *arr;
	int r = coord_from_opts(c, &coord);

	if (r)
		return r;
	if (open_domain(c, &s, &e) < 0 ||
	    store_version_dependencies(s, cli_str(c, "--repository"), &coord, &deps, &n, revision,
				       &e) < 0)
		return cli_fail(&e);
	o = coord_json(coord.format, coord.namespace_, coord.package, coord.version);
	json_object_set_new(o, "versionRevision", json_string(revision));
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_object();

		if (deps[i].namespace_[0])
			json_object_set_new(d, "namespace", json_string(deps[i].namespace_));
		json_object_set_new(d, "package", json_string(deps[i].package));
		if (deps[i].dependency_type[0])
			json_object_set_new(d, "dependencyType",
					    json_string(deps[i].dependency_type));
		if (deps[i].version_requirement[0])
			json_object_set_new(d, "versionRequirement",
					    json_string(deps[i].version_requirement));
		json_array_append_new(arr, d);
	}
	json_object_set_new(o, "dependencies", arr);
	return cli_print(c, o);
}
