/* SPDX-License-Identifier: MIT */
/*
 * The query plans of the statements the store prepares. A representative workload runs through
 * the public API on a real domain (repositories with an upstream chain and external
 * connections to file:// mirrors, publishes of every format, listings, descriptions, the whole
 * client view walked, rendered and read, writes through the view, lifecycle batches, package
 * groups, the audit trail, deletions); then every statement left in the handle's statement
 * cache is given to EXPLAIN QUERY PLAN (parameters unbound, which EXPLAIN QUERY PLAN accepts;
 * the store never runs ANALYZE, so these are the plans it runs at any size). A plan that reads
 * a big table whole (a bare "SCAN t", not "SCAN t USING [COVERING] INDEX"), or nearly (a
 * SEARCH constrained only by few-valued columns such as format or status), fails the test
 * with the statement's SQL, unless the allow-list below says why. CAFS_PLANS_VERBOSE=1 prints
 * every statement with its plan. The big tables are the ones that grow with the number
 * of packages, versions and operations; the small ones (repositories, upstreams, package
 * groups, connection settings) are read whole by design.
 *
 * A second test checks that every foreign key of a big table is the leading column of an
 * index: SQLite checks and cascades foreign keys with lookups that EXPLAIN QUERY PLAN never
 * shows, and without an index each is a full scan of the child table.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/extract.h"
#include "store/group.h"
#include "store/internal.h"
#include "store/package.h"
#include "store/store.h"
#include "store/view.h"
#include "store/write.h"
#include "tests/unit/unit.h"

/* Tables that grow with the domain's contents or its history. */
static const char *const big_tables[] = {
	"packages",       "package_versions",   "assets",
	"blobs",          "dependencies",       "dist_tags",
	"audit",          "external_listings",  "external_versions",
	"external_files", "external_dist_tags",
};

/*
 * Full scans that are the statement's job. @sql is a fragment that identifies the statement
 * (matched with strstr), @table the big table it reads whole (@weak: nearly, by a SEARCH on
 * few-valued columns only, see few_values below), @why the reason.
 */
static const struct {
	const char *sql;
	const char *table;
	bool weak;
	const char *why;
} allowed_scans[] = {
	{"SELECT COALESCE(SUM(size), 0) FROM blobs WHERE EXISTS", "blobs", false,
	 "DescribeDomain's assetSizeBytes sums every blob that an asset references: each blob row "
	 "is read by definition (one index probe into assets each); a running total kept by "
	 "publish and release would make it O(1)"},
	{"FROM audit WHERE (?2 IS NULL OR resource = ?2", "audit", false,
	 "cafs audit: newest first by rowid (the primary key, read backwards) and stopped by "
	 "LIMIT; its filters are substrings of the resource ARN, which no index can serve"},
};

static bool allow_used[sizeof(allowed_scans) / sizeof(allowed_scans[0])];

struct fixture {
	char root[128];
	char mirror[192];
	struct store *s;
	size_t n_nodes; /* nodes the tree walk visited */
};

static struct fixture fx;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void write_file(const char *path, const char *content)
{
	char dir[512];
	FILE *fp;

	(void)snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(dir, 0755);
		*p = '/';
	}
	fp = fopen(path, "w");
	if (!fp)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	(void)fputs(content, fp);
	(void)fclose(fp);
}

static void make_repo(const char *name, const char *const *ups, size_t n)
{
	struct store_repository repo;
	struct cafs_error e;

	if (store_repository_create(fx.s, name, "plans", ups, n, NULL, 0, &repo, &e) != 0)
		fail_msg("create repository '%s': %s", name, e.msg);
}

static void connect_repo(const char *name, const char *conn, const char *url)
{
	struct store_repository repo;
	struct store_source src;
	struct cafs_error e;

	make_repo(name, NULL, 0);
	if (store_repository_associate_external(fx.s, name, conn, &repo, &e) != 0)
		fail_msg("associate %s: %s", conn, e.msg);
	if (store_source_configure(fx.s, conn, url, NULL, &src, &e) != 0)
		fail_msg("configure %s: %s", conn, e.msg);
}

/* Publish @content as asset @asset of @c into @repo, with metadata @m (may be NULL). */
static void publish(const char *repo, struct store_coord c, const char *asset, const char *content,
		    const struct store_metadata *m, bool unfinished)
{
	struct store_publish req = {.repository = repo,
				    .coord = c,
				    .asset_name = asset,
				    .unfinished = unfinished,
				    .meta = m};
	struct store_publish_result res;
	struct cafs_error e;
	int fd = memfd_create("asset", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (store_publish_fd(fx.s, &req, fd, &res, &e) != 0)
		fail_msg("publish %s %s %s: %s", repo, c.package, c.version, e.msg);
	(void)close(fd);
}

static void publish_pypi(const char *repo, const char *name, const char *version)
{
	char wheel[256], core[512];
	struct store_dependency deps[] = {
		{NULL, (char *)"requests", (char *)"Requires-Dist", (char *)">=2"},
	};
	struct store_license lic = {(char *)"MIT", NULL};
	struct store_metadata m = {
		.format = CAFS_FORMAT_PYPI,
		.name = (char *)name,
		.version = (char *)version,
		.summary = (char *)"a package",
		.home_page = (char *)"https://example.com",
		.requires_python = (char *)">=3.8",
		.licenses = &lic,
		.n_licenses = 1,
		.deps = deps,
		.n_deps = 1,
		.core_metadata = core,
	};

	(void)snprintf(wheel, sizeof(wheel), "%s-%s-py3-none-any.whl", name, version);
	for (char *p = wheel; *p && strncmp(p, version, strlen(version)) != 0; p++)
		*p = *p == '-' && strncmp(p + 1, version, strlen(version)) != 0 ? '_' : *p;
	(void)snprintf(core, sizeof(core),
		       "Metadata-Version: 2.1\nName: %s\nVersion: %s\nRequires-Dist: requests>=2\n",
		       name, version);
	m.core_metadata_len = strlen(core);
	publish(repo, (struct store_coord){CAFS_FORMAT_PYPI, NULL, name, version}, wheel, wheel, &m,
		false);
}

static void publish_npm(const char *repo, const char *scope, const char *name, const char *version)
{
	char body[256];
	struct store_dependency deps[] = {
		{NULL, (char *)"left-pad", (char *)"regular", (char *)"^1.0.0"},
		{(char *)"types", (char *)"node", (char *)"dev", (char *)"*"},
	};
	struct store_metadata m = {.format = CAFS_FORMAT_NPM,
				   .summary = (char *)"an npm package",
				   .readme = (char *)"# readme",
				   .deps = deps,
				   .n_deps = 2};

	(void)snprintf(body, sizeof(body), "npm %s/%s %s", scope ? scope : "", name, version);
	publish(repo, (struct store_coord){CAFS_FORMAT_NPM, scope, name, version}, "package.tgz",
		body, &m, false);
}

/* A jar (Unfinished) and then its POM, which finishes the version, as cafs publish does. */
static void publish_maven(const char *repo, const char *group, const char *artifact,
			  const char *version, const char *jar)
{
	char pom[256], body[256];
	struct store_dependency deps[] = {
		{(char *)"org.example", (char *)"dep", (char *)"compile", (char *)"1.0"},
	};
	struct store_metadata m = {.format = CAFS_FORMAT_MAVEN,
				   .summary = (char *)"a maven artifact",
				   .deps = deps,
				   .n_deps = 1};
	struct store_coord c = {CAFS_FORMAT_MAVEN, group, artifact, version};

	(void)snprintf(body, sizeof(body), "jar %s:%s:%s", group, artifact, version);
	publish(repo, c, jar, body, NULL, true);
	(void)snprintf(pom, sizeof(pom), "%s-%s.pom", artifact, version);
	(void)snprintf(body, sizeof(body), "<project>%s:%s:%s</project>", group, artifact, version);
	publish(repo, c, pom, body, &m, false);
}

static void publish_generic(const char *repo, const char *version)
{
	publish(repo, (struct store_coord){CAFS_FORMAT_GENERIC, "tools", "linter", version},
		"linter.tar.gz", version, NULL, false);
}

/* --- the client view: every folder listed, every node resolved, rendered, attributed ----- */

struct walk {
	const char *dir;
	char (*names)[512];
	struct store_node *nodes;
	size_t n, cap;
};

static int walk_cb(void *ctx, const char *name, const struct store_node *child)
{
	struct walk *w = ctx;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->names = realloc(w->names, w->cap * sizeof(*w->names));
		w->nodes = realloc(w->nodes, w->cap * sizeof(*w->nodes));
		assert_non_null(w->names);
		assert_non_null(w->nodes);
	}
	(void)snprintf(w->names[w->n], sizeof(w->names[0]), "%s", name);
	w->nodes[w->n++] = *child;
	return 0;
}

static void visit_node(const char *path, const struct store_node *n, bool open_assets)
{
	char buf[8192];
	struct cafs_error e;
	int len;

	fx.n_nodes++;
	len = store_view_xattr_list(fx.s, n, buf, sizeof(buf), &e);
	if (len < 0)
		fail_msg("xattr list %s: %s", path, e.msg);
	for (int o = 0; o < len; o += (int)strlen(buf + o) + 1) {
		char val[65536];

		if (store_view_xattr_get(fx.s, n, buf + o, val, sizeof(val), &e) < 0 &&
		    e.kind != CAFS_NOT_FOUND)
			fail_msg("xattr %s of %s: %s", buf + o, path, e.msg);
	}
	if (n->kind == STORE_NODE_SYNTH) {
		char *bytes = NULL;
		size_t blen = 0;

		if (store_view_render(fx.s, n, &bytes, &blen, &e) != 0)
			fail_msg("render %s: %s", path, e.msg);
		free(bytes);
	} else if (n->kind == STORE_NODE_ASSET && open_assets) {
		int fd = store_view_open(fx.s, n, &e);

		/* Archived: refused; a source's file that is no real package: refused */
		if (fd < 0 && e.kind != CAFS_ACCESS_DENIED && !n->external)
			fail_msg("open %s: %s", path, e.msg);
		if (fd >= 0)
			(void)close(fd);
	}
}

/* List @path and everything below it, resolving each entry by its path too. */
static void walk_tree(const char *path, bool open_assets)
{
	struct walk w = {.dir = path};
	struct store_node dir;
	struct cafs_error e;

	if (store_view_resolve(fx.s, path, &dir, &e) != 0)
		fail_msg("resolve %s: %s", path, e.msg);
	visit_node(path, &dir, open_assets);
	if (dir.kind == STORE_NODE_ASSET || dir.kind == STORE_NODE_SYNTH)
		return;
	if (store_view_readdir(fx.s, &dir, walk_cb, &w, &e) != 0)
		fail_msg("readdir %s: %s", path, e.msg);
	for (size_t i = 0; i < w.n; i++) {
		char child[1024];

		(void)snprintf(child, sizeof(child), "%s%s%s", path, strcmp(path, "/") ? "/" : "",
			       w.names[i]);
		if (w.nodes[i].kind == STORE_NODE_ASSET || w.nodes[i].kind == STORE_NODE_SYNTH) {
			struct store_node again;

			if (store_view_resolve(fx.s, child, &again, &e) != 0)
				fail_msg("resolve %s: %s", child, e.msg);
			visit_node(child, &again, open_assets);
		} else {
			walk_tree(child, open_assets);
		}
	}
	free(w.names);
	free(w.nodes);
}

/* Resolve @path; with @want_found, it must be there, else it must not. */
static void resolve(const char *path, bool want_found)
{
	struct store_node n;
	struct cafs_error e;
	int r = store_view_resolve(fx.s, path, &n, &e);

	if (want_found && r != 0)
		fail_msg("resolve %s: %s", path, e.msg);
	if (!want_found && r == 0)
		fail_msg("resolve %s: found, expected nothing", path);
	if (r == 0)
		visit_node(path, &n, true);
}

/* --- the workload ----------------------------------------------------------------------- */

static void make_mirrors(void)
{
	char p[512], url[300];

	/* public:maven-central: a Maven 2 tree with one artifact (no checksum: accepted) */
	(void)snprintf(p, sizeof(p), "%s/maven/com/example/extlib/maven-metadata.xml", fx.mirror);
	write_file(p, "<metadata><groupId>com.example</groupId><artifactId>extlib</artifactId>"
		      "<versioning><latest>1.0</latest><release>1.0</release><versions>"
		      "<version>1.0</version><version>2.0</version></versions></versioning>"
		      "</metadata>\n");
	(void)snprintf(p, sizeof(p), "%s/maven/com/example/extlib/1.0/extlib-1.0.pom", fx.mirror);
	write_file(p, "<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId>"
		      "<artifactId>extlib</artifactId><version>1.0</version></project>\n");
	/* public:pypi: a PEP 503 page (the file is never fetched) */
	(void)snprintf(p, sizeof(p), "%s/pypi/files/extpy-1.0-py3-none-any.whl", fx.mirror);
	write_file(p, "not fetched");
	(void)snprintf(p, sizeof(p), "%s/pypi/simple/extpy/index.html", fx.mirror);
	write_file(p, "<html><body><a href=\"../../files/extpy-1.0-py3-none-any.whl#sha256="
		      "0000000000000000000000000000000000000000000000000000000000000000\" "
		      "data-requires-python=\"&gt;=3.8\">extpy-1.0-py3-none-any.whl</a>"
		      "</body></html>\n");
	/* public:npmjs: a packument (the tarball is never fetched) */
	(void)snprintf(p, sizeof(p), "%s/npm/extnpm/index.json", fx.mirror);
	(void)snprintf(url, sizeof(url), "file://%s/npm/extnpm/-/extnpm-1.0.0.tgz", fx.mirror);
	{
		char json[1024];

		(void)snprintf(json, sizeof(json),
			       "{\"name\":\"extnpm\",\"dist-tags\":{\"latest\":\"1.0.0\","
			       "\"next\":\"2.0.0-rc.1\"},\"versions\":{"
			       "\"1.0.0\":{\"dist\":{\"tarball\":\"%s\",\"shasum\":"
			       "\"0000000000000000000000000000000000000000\"}},"
			       "\"2.0.0-rc.1\":{\"dist\":{\"tarball\":\"%s\"}}},"
			       "\"time\":{\"1.0.0\":\"2024-01-01T00:00:00.000Z\","
			       "\"2.0.0-rc.1\":\"2024-02-01T00:00:00.000Z\"}}\n",
			       url, url);
		write_file(p, json);
	}
}

static void repositories(void)
{
	const char *mid_up[] = {"base"};
	const char *leaf_up[] = {"mid"};
	const char *team_up[] = {"leaf", "mvnext", "pyext", "npmext"};
	struct store_repository *list = NULL, d;
	struct cafs_error e;
	size_t n = 0;
	char url[300];

	make_repo("base", NULL, 0);
	make_repo("mid", mid_up, 1);
	make_repo("leaf", leaf_up, 1);
	(void)snprintf(url, sizeof(url), "file://%s/maven", fx.mirror);
	connect_repo("mvnext", "public:maven-central", url);
	(void)snprintf(url, sizeof(url), "file://%s/pypi/simple", fx.mirror);
	connect_repo("pyext", "public:pypi", url);
	(void)snprintf(url, sizeof(url), "file://%s/npm", fx.mirror);
	connect_repo("npmext", "public:npmjs", url);
	make_repo("team", team_up, 4);
	make_repo("spare", NULL, 0);
	{
		struct store_tag tags[] = {{"team", "build"}};
		struct store_tag *got = NULL;
		char owner[13], arn[512];

		if (store_repository_create(fx.s, "tagged", NULL, NULL, 0, tags, 1, &d, &e) != 0)
			fail_msg("create tagged repository: %s", e.msg);
		assert_int_equal(store_domain_owner(fx.s, owner, &e), 0);
		store_repository_arn(owner, "plans", "tagged", arn, sizeof(arn));
		if (store_tags_list(fx.s, arn, &got, &n, &e) != 0)
			fail_msg("list tags: %s", e.msg);
		store_tags_free(got, n);
	}
	if (store_repository_list(fx.s, NULL, NULL, &list, &n, &e) != 0)
		fail_msg("list repositories: %s", e.msg);
	free(list);
	if (store_repository_describe(fx.s, "team", &d, &e) != 0)
		fail_msg("describe repository: %s", e.msg);
	if (store_repository_update(fx.s, "spare", "changed", false, NULL, 0, &d, &e) != 0)
		fail_msg("update repository: %s", e.msg);
}

static void publishes(void)
{
	publish_pypi("base", "Alpha_Pkg", "1.0");
	publish_pypi("base", "Alpha_Pkg", "1.1");
	publish_pypi("mid", "alpha-pkg", "2.0rc1");
	publish_pypi("leaf", "beta", "0.1");
	publish_pypi("mid", "gamma", "3.0");
	publish_npm("base", NULL, "left-pad", "1.0.0");
	publish_npm("base", NULL, "left-pad", "1.1.0");
	publish_npm("mid", "acme", "ui", "2.0.0");
	publish_npm("mid", "acme", "ui", "2.1.0-beta.1");
	publish_npm("leaf", "acme", "core", "0.1.0");
	publish_maven("base", "org.example", "lib", "1.0", "lib-1.0.jar");
	publish_maven("base", "org.example", "lib", "1.1", "lib-1.1.jar");
	publish_maven("mid", "org.example.sub", "tool", "2.0", "tool-2.0.jar");
	publish_maven("leaf", "com.acme", "app", "1.0-SNAPSHOT", "app-1.0-20240101.120000-1.jar");
	publish_maven("leaf", "com.acme", "app", "1.0-SNAPSHOT", "app-1.0-20240102.120000-2.jar");
	publish_generic("leaf", "1.0");
	publish_generic("leaf", "2.0");
	publish_generic("base", "1.0");
}

static void catalog(void)
{
	struct store_coord pypi = {CAFS_FORMAT_PYPI, NULL, "alpha-pkg", "1.0"};
	struct store_coord npm = {CAFS_FORMAT_NPM, "acme", "ui", "2.0.0"};
	struct store_coord mvn = {CAFS_FORMAT_MAVEN, "org.example", "lib", "1.1"};
	struct store_package_filter filters[] = {
		{.format = CAFS_FORMAT_NONE},
		{.format = CAFS_FORMAT_PYPI, .package_prefix = "Alpha"},
		{.format = CAFS_FORMAT_NPM, .namespace_prefix = "ac", .publish = "ALLOW"},
		{.format = CAFS_FORMAT_NONE, .upstream = "BLOCK"},
	};
	const char *repos[] = {"base", "mid", "leaf", "team"};
	struct store_dependency_row *deps = NULL;
	struct store_version_detail detail;
	struct store_version *versions = NULL;
	struct store_version_filter vf = {.status = -1};
	struct store_asset *assets = NULL;
	struct store_package pkg, *pkgs = NULL;
	struct store_domain dom;
	struct cafs_error e;
	char rev[64], def[4 * CAFS_PACKAGE_FIELD_MAX + 1];
	size_t n = 0;
	uint64_t size;
	int64_t bytes;
	int fd;

	for (size_t r = 0; r < ARRAY_SIZE(repos); r++)
		for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
			if (store_package_list(fx.s, repos[r], &filters[i], &pkgs, &n, &e) != 0)
				fail_msg("list packages: %s", e.msg);
			free(pkgs);
		}
	if (store_package_describe(fx.s, "base", &pypi, &pkg, &e) != 0)
		fail_msg("describe package: %s", e.msg);
	if (store_version_list(fx.s, "base", &pypi, &vf, &versions, &n, def, &e) != 0)
		fail_msg("list versions: %s", e.msg);
	free(versions);
	vf = (struct store_version_filter){.status = STORE_STATUS_PUBLISHED,
					   .origin_type = "INTERNAL"};
	if (store_version_list(fx.s, "mid", &npm, &vf, &versions, &n, def, &e) != 0)
		fail_msg("list versions: %s", e.msg);
	free(versions);
	if (store_version_describe(fx.s, "base", &mvn, &detail, &e) != 0)
		fail_msg("describe version: %s", e.msg);
	store_version_detail_done(&detail);
	if (store_version_assets(fx.s, "base", &mvn, &assets, &n, rev, &e) != 0)
		fail_msg("list assets: %s", e.msg);
	free(assets);
	if (store_version_dependencies(fx.s, "mid", &npm, &deps, &n, rev, &e) != 0)
		fail_msg("dependencies: %s", e.msg);
	free(deps);
	fd = store_asset_open(fx.s, "base", &mvn, "lib-1.1.jar", NULL, rev, &size, &e);
	if (fd < 0)
		fail_msg("asset open: %s", e.msg);
	(void)close(fd);
	if (store_package_origin_put(fx.s, "leaf",
				     &(struct store_coord){CAFS_FORMAT_PYPI, NULL, "beta", NULL},
				     "ALLOW", "ALLOW", &pkg, &e) != 0)
		fail_msg("origin put: %s", e.msg);
	if (store_domain_describe(fx.s, &dom, &e) != 0)
		fail_msg("describe domain: %s", e.msg);
	if (store_blob_referenced_bytes(fx.s, &bytes, &e) != 0)
		fail_msg("referenced bytes: %s", e.msg);
}

static void view(void)
{
	static const char *const paths[] = {
		"/leaf/pypi/alpha-pkg/index.html",
		"/leaf/pypi/alpha-pkg/1.0/Alpha_Pkg-1.0-py3-none-any.whl",
		"/leaf/pypi/alpha-pkg/1.0/Alpha_Pkg-1.0-py3-none-any.whl.metadata",
		"/leaf/maven/org/example/lib/maven-metadata.xml",
		"/leaf/maven/org/example/lib/maven-metadata.xml.sha1",
		"/leaf/maven/org/example/lib/1.1/lib-1.1.pom.sha256",
		"/leaf/maven/com/acme/app/1.0-SNAPSHOT/maven-metadata.xml",
		"/leaf/npm/@acme/ui/2.0.0/package.tgz",
		"/team/maven/com/example/extlib/maven-metadata.xml",
		"/team/maven/com/example/extlib/1.0/extlib-1.0.pom",
		"/team/pypi/extpy/index.html",
		"/team/pypi/extpy/1.0/extpy-1.0-py3-none-any.whl",
		"/team/npm/extnpm",
		"/team/npm/extnpm/1.0.0",
	};
	static const char *const missing[] = {
		"/leaf/pypi/nope",
		"/leaf/pypi/alpha-pkg/9.9",
		"/leaf/npm/@nope/x",
		"/leaf/maven/org/nope/lib",
		"/nope",
		"/leaf/pypi/Alpha_Pkg",
	};
	struct store_coord ext = {CAFS_FORMAT_MAVEN, "com.example", "extlib", "1.0"};
	struct store_version_detail d;
	struct cafs_error e;
	uint64_t gen;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		resolve(paths[i], true);
	for (size_t i = 0; i < ARRAY_SIZE(missing); i++)
		resolve(missing[i], false);
	/* the whole tree, twice: before and after reading retained everything into leaf/team */
	walk_tree("/", false);
	walk_tree("/leaf", true);
	walk_tree("/team", true);
	walk_tree("/", false);
	if (store_view_generation(fx.s, &gen, &e) != 0)
		fail_msg("generation: %s", e.msg);
	/* reading the POM only the source had fetched and retained it */
	if (store_version_describe(fx.s, "mvnext", &ext, &d, &e) != 0)
		fail_msg("the source's POM was not ingested: %s", e.msg);
	store_version_detail_done(&d);
}

/* Write @content at @path through the view, as the mount does at close. */
static void write_fd_file(const char *path, const char *content)
{
	struct store_write_file file = {.path = path, .fd = memfd_create("w", MFD_CLOEXEC)};
	struct cafs_error e;

	assert_true(file.fd >= 0);
	assert_int_equal(write(file.fd, content, strlen(content)), (ssize_t)strlen(content));
	if (store_view_write(fx.s, &file, 1, false, &e) < 0)
		fail_msg("view write %s: %s", path, e.msg);
	(void)close(file.fd);
}

static void writes(void)
{
	struct cafs_error e;
	struct store_write_file files[2];
	int fd[2];

	fd[0] = memfd_create("a", MFD_CLOEXEC);
	fd[1] = memfd_create("b", MFD_CLOEXEC);
	assert_true(fd[0] >= 0 && fd[1] >= 0);
	assert_int_equal(write(fd[0], "one", 3), 3);
	assert_int_equal(write(fd[1], "two", 3), 3);
	files[0] = (struct store_write_file){.path = "/leaf/generic/tools/wpkg/1.0/a.txt",
					     .fd = fd[0]};
	files[1] = (struct store_write_file){.path = "/leaf/generic/tools/wpkg/1.0/b.txt",
					     .fd = fd[1]};
	if (store_view_write(fx.s, files, 2, true, &e) < 0)
		fail_msg("view write: %s", e.msg);
	(void)close(fd[0]);
	(void)close(fd[1]);
	write_fd_file("/leaf/maven/org/example/wlib/1.0/wlib-1.0.pom",
		      "<project><modelVersion>4.0.0</modelVersion><groupId>org.example</groupId>"
		      "<artifactId>wlib</artifactId><version>1.0</version></project>\n");
	write_fd_file("/leaf/maven/org/example/wlib/maven-metadata.xml",
		      "<metadata><groupId>org.example</groupId><artifactId>wlib</artifactId>"
		      "<versioning><release>1.0</release><versions><version>1.0</version>"
		      "</versions></versioning></metadata>\n");
	if (store_view_mkdir(fx.s, "/newrepo", &e) != 0)
		fail_msg("mkdir: %s", e.msg);
	if (store_view_mkdir(fx.s, "/leaf/maven/org/new", &e) < 0)
		fail_msg("mkdir pending: %s", e.msg);
	if (store_view_setxattr(fx.s, "/leaf/pypi/beta/0.1", "user.cafs.status", "Unlisted", 8,
				&e) != 0)
		fail_msg("setxattr status: %s", e.msg);
	if (store_view_setxattr(fx.s, "/leaf/pypi/beta", "user.cafs.origin.upstream", "BLOCK", 5,
				&e) != 0)
		fail_msg("setxattr origin: %s", e.msg);
	if (store_view_remove(fx.s, "/leaf/generic/tools/wpkg/1.0/b.txt", false, &e) != 0)
		fail_msg("remove asset: %s", e.msg);
	/* the last asset takes its version with it */
	if (store_view_remove(fx.s, "/leaf/generic/tools/wpkg/1.0/a.txt", false, &e) != 0)
		fail_msg("remove last asset: %s", e.msg);
	if (store_view_remove(fx.s, "/newrepo", true, &e) != 0)
		fail_msg("remove repository: %s", e.msg);
}

static void lifecycle(void)
{
	struct store_version_ref one[] = {{"1.0", NULL}};
	struct store_version_ref npm1[] = {{"1.0.0", NULL}};
	struct store_batch gen = {.repository = "leaf",
				  .coord = {CAFS_FORMAT_GENERIC, "tools", "linter", NULL},
				  .versions = one,
				  .n_versions = 1,
				  .expected_status = -1};
	struct store_batch np = {.repository = "base",
				 .coord = {CAFS_FORMAT_NPM, NULL, "left-pad", NULL},
				 .versions = npm1,
				 .n_versions = 1,
				 .expected_status = -1};
	struct store_batch up = {.repository = "leaf",
				 .coord = {CAFS_FORMAT_PYPI, NULL, "gamma", NULL},
				 .versions = (struct store_version_ref[]){{"3.0", NULL}},
				 .n_versions = 1,
				 .expected_status = -1};
	struct store_batch ext = {.repository = "mvnext",
				  .coord = {CAFS_FORMAT_MAVEN, "com.example", "extlib", NULL},
				  .versions = one,
				  .n_versions = 1,
				  .expected_status = -1};
	struct store_batch_result res;
	struct cafs_error e;

	if (store_version_update_status(fx.s, &gen, STORE_STATUS_ARCHIVED, &res, &e) != 0)
		fail_msg("update status: %s", e.msg);
	store_batch_result_done(&res);
	if (store_version_copy(fx.s, &np, "spare", false, false, &res, &e) != 0)
		fail_msg("copy: %s", e.msg);
	store_batch_result_done(&res);
	if (store_version_copy(fx.s, &up, "spare", false, true, &res, &e) != 0)
		fail_msg("copy from upstream: %s", e.msg);
	store_batch_result_done(&res);
	if (store_version_copy(fx.s, &np, "spare", true, false, &res, &e) != 0)
		fail_msg("copy overwrite: %s", e.msg);
	store_batch_result_done(&res);
	if (store_version_copy(fx.s, &ext, "spare", false, false, &res, &e) != 0)
		fail_msg("copy external: %s", e.msg);
	store_batch_result_done(&res);
	np.repository = "spare";
	if (store_version_dispose(fx.s, &np, &res, &e) != 0)
		fail_msg("dispose: %s", e.msg);
	store_batch_result_done(&res);
	if (store_version_delete(fx.s, &np, &res, &e) != 0)
		fail_msg("delete: %s", e.msg);
	store_batch_result_done(&res);
	if (store_version_delete(fx.s, &gen, &res, &e) != 0)
		fail_msg("delete generic: %s", e.msg);
	store_batch_result_done(&res);
}

static void groups(void)
{
	int modes[CAFS_ACTION_N];
	struct store_group_allowed_change add[] = {{CAFS_ACTION_PUBLISH, "leaf"},
						   {CAFS_ACTION_INTERNAL_UPSTREAM, "team"}};
	struct store_group_allowed_updates upd;
	struct store_group_package *pkgs = NULL;
	struct store_group g, *list = NULL;
	struct store_origin_verdict v;
	enum cafs_match match;
	struct cafs_error e;
	char **names = NULL;
	size_t n = 0;

	if (store_group_create(fx.s, "/npm/acme/*", "acme", "ops@example.com", &g, &e) != 0)
		fail_msg("create group: %s", e.msg);
	if (store_group_create(fx.s, "/pypi//alpha~", NULL, NULL, &g, &e) != 0)
		fail_msg("create group: %s", e.msg);
	for (int i = 0; i < CAFS_ACTION_N; i++)
		modes[i] = -1;
	modes[CAFS_ACTION_PUBLISH] = CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES;
	modes[CAFS_ACTION_INTERNAL_UPSTREAM] = CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES;
	if (store_group_origin_update(fx.s, "/npm/acme/*", modes, add, 2, NULL, 0, &g, &upd, &e) !=
	    0)
		fail_msg("group origin: %s", e.msg);
	store_group_allowed_updates_free(&upd);
	modes[CAFS_ACTION_PUBLISH] = -1;
	modes[CAFS_ACTION_INTERNAL_UPSTREAM] = -1;
	modes[CAFS_ACTION_EXTERNAL_UPSTREAM] = CAFS_MODE_BLOCK;
	if (store_group_origin_update(fx.s, "/npm/acme/*", modes, NULL, 0, add, 1, &g, &upd, &e) !=
	    0)
		fail_msg("group origin remove: %s", e.msg);
	store_group_allowed_updates_free(&upd);
	if (store_group_update(fx.s, "/npm/acme/*", "changed", NULL, &g, &e) != 0)
		fail_msg("update group: %s", e.msg);
	if (store_group_describe(fx.s, "/npm/acme/*", &g, &e) != 0)
		fail_msg("describe group: %s", e.msg);
	if (store_group_list(fx.s, NULL, NULL, &list, &n, &e) != 0)
		fail_msg("list groups: %s", e.msg);
	free(list);
	if (store_group_list(fx.s, NULL, "/*", &list, &n, &e) != 0)
		fail_msg("list sub groups: %s", e.msg);
	free(list);
	if (store_group_allowed(fx.s, "/npm/acme/*", CAFS_ACTION_PUBLISH, &names, &n, &e) != 0)
		fail_msg("allowed: %s", e.msg);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (store_group_associated(fx.s, CAFS_FORMAT_NPM, "acme", "ui", &g, &match, &e) != 0)
		fail_msg("associated: %s", e.msg);
	if (store_group_packages(fx.s, "/npm/acme/*", false, &pkgs, &n, &e) != 0)
		fail_msg("packages: %s", e.msg);
	free(pkgs);
	if (store_group_packages(fx.s, "/pypi//gam~", true, &pkgs, &n, &e) != 0)
		fail_msg("packages preview: %s", e.msg);
	free(pkgs);
	if (store_origin_decide(fx.s, CAFS_ACTION_INTERNAL_UPSTREAM, "team", CAFS_FORMAT_NPM,
				"acme", "ui", &v, &e) < 0)
		fail_msg("decide: %s", e.msg);
	/* the view again, now that groups decide what team may see */
	walk_tree("/team/npm", false);
	if (store_group_delete(fx.s, "/pypi//alpha~", &g, &e) != 0)
		fail_msg("delete group: %s", e.msg);
}

static void refresh_cb(void *ctx, const struct store_refresh_item *it, size_t i, size_t n)
{
	(void)ctx;
	(void)it;
	(void)i;
}

static void history_and_deletes(void)
{
	struct store_audit_filter filters[] = {
		{0},
		{.repository = "leaf"},
		{.package = "alpha-pkg"},
		{.outcome = "refused"},
		{.since_us = 1},
	};
	struct store_audit_row *rows = NULL;
	struct store_coord pkg = {CAFS_FORMAT_PYPI, NULL, "beta", NULL};
	struct store_package gone;
	struct store_repository r;
	struct cafs_error e;
	size_t n = 0;

	if (store_refresh(fx.s, "team", CAFS_FORMAT_NONE, NULL, NULL, refresh_cb, NULL, &e) != 0)
		fail_msg("refresh: %s", e.msg);
	if (store_refresh(fx.s, "team", CAFS_FORMAT_PYPI, NULL, "extpy", refresh_cb, NULL, &e) != 0)
		fail_msg("refresh one: %s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		if (store_audit_list(fx.s, &filters[i], i == 0 ? 0 : 10, &rows, &n, &e) != 0)
			fail_msg("audit: %s", e.msg);
		store_audit_free(rows, n);
	}
	if (store_package_delete(fx.s, "leaf", &pkg, &gone, &e) != 0)
		fail_msg("delete package: %s", e.msg);
	if (store_repository_delete(fx.s, "spare", &r, &e) != 0)
		fail_msg("delete repository: %s", e.msg);
	{
		struct store_source_settings set = {30, 10, -1, -1, 1};
		struct store_source src;

		if (store_source_configure(fx.s, "public:pypi", NULL, &set, &src, &e) != 0)
			fail_msg("source settings: %s", e.msg);
		if (store_repository_disassociate_external(fx.s, "npmext", "public:npmjs", &r,
							   &e) != 0)
			fail_msg("disassociate: %s", e.msg);
		if (store_source_configure(fx.s, "public:npmjs", "", NULL, &src, &e) != 0)
			fail_msg("source removal: %s", e.msg);
	}
}

static int setup(void **state)
{
	struct cafs_error e;

	(void)snprintf(fx.root, sizeof(fx.root), "/tmp/cafs-test-plans-XXXXXX");
	assert_non_null(mkdtemp(fx.root));
	(void)snprintf(fx.mirror, sizeof(fx.mirror), "%s/mirror", fx.root);
	if (store_domain_create(fx.root, "plans", NULL, NULL, 0, &fx.s, &e) != 0)
		fail_msg("create domain: %s", e.msg);
	make_mirrors();
	repositories();
	publishes();
	catalog();
	view();
	writes();
	lifecycle();
	groups();
	history_and_deletes();
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_close(fx.s);
	(void)nftw(fx.root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* --- the checks ------------------------------------------------------------------------- */

/* The big_tables[] entry named @name (a static string), or NULL. */
static const char *big(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(big_tables); i++)
		if (strcmp(name, big_tables[i]) == 0)
			return big_tables[i];
	return NULL;
}

/* The SQL's tokens: identifiers (lower-cased) and single punctuation characters. */
struct tokens {
	char (*t)[64];
	size_t n;
};

static void tokenize(const char *sql, struct tokens *ret)
{
	size_t cap = strlen(sql) + 1;

	ret->t = calloc(cap, sizeof(*ret->t));
	ret->n = 0;
	assert_non_null(ret->t);
	for (const char *p = sql; *p;) {
		if (*p == '\'') { /* a string literal: skipped */
			for (p++; *p && !(*p == '\'' && p[1] != '\''); p += *p == '\'' ? 2 : 1)
				;
			p += *p ? 1 : 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_') {
			size_t k = 0;

			while (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				(*p >= '0' && *p <= '9') || *p == '_')) {
				if (k + 1 < sizeof(ret->t[0]))
					ret->t[ret->n][k++] =
						(char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a'
									      : *p);
				p++;
			}
			ret->t[ret->n++][k] = '\0';
		} else if (*p == ' ' || *p == '\n' || *p == '\t') {
			p++;
		} else {
			ret->t[ret->n][0] = *p++;
			ret->t[ret->n++][1] = '\0';
		}
	}
}

static bool keyword(const char *t)
{
	static const char *const kw[] = {
		"where",   "join",   "on",        "set",       "left",    "inner",   "cross",
		"natural", "using",  "group",     "order",     "limit",   "values",  "select",
		"union",   "except", "intersect", "returning", "default", "indexed", "not",
		"as",      "from",   "and",       "or",
	};

	for (size_t i = 0; i < ARRAY_SIZE(kw); i++)
		if (strcmp(t, kw[i]) == 0)
			return true;
	return !((t[0] >= 'a' && t[0] <= 'z') || t[0] == '_');
}

/* The big table (a big_tables[] entry) that @name, a table or an alias in @sql, is; or NULL. */
static const char *big_table_of(const struct tokens *tk, const char *name)
{
	if (big(name))
		return big(name);
	for (size_t i = 0; i + 1 < tk->n; i++) {
		size_t j = i + 1;

		if (!big(tk->t[i]))
			continue;
		if (strcmp(tk->t[j], "as") == 0 && j + 1 < tk->n)
			j++;
		if (!keyword(tk->t[j]) && strcmp(tk->t[j], name) == 0)
			return big(tk->t[i]);
	}
	return NULL;
}

/*
 * Columns with a handful of values: a SEARCH constrained by these alone reads a large part of
 * its table (every package of a format, every Published version), a scan in all but name.
 */
static const char *const few_values[] = {
	"format",  "status", "origin_type", "origin_publish", "origin_upstream",
	"present", "yanked", "found",       "outcome",        "action",
};

/* Whether every constraint of "(a=? AND b>?)" at @p is on a few-valued column. */
static bool weak_constraints(const char *p)
{
	char col[64];
	int n = 0;

	if (*p != '(')
		return false;
	for (p++; *p && *p != ')';) {
		size_t k = 0;
		bool few = false;

		while (*p == ' ' || strncmp(p, "AND ", 4) == 0)
			p += *p == ' ' ? 1 : 4;
		while (*p && *p != '=' && *p != '<' && *p != '>' && *p != ' ' && *p != ')' &&
		       k + 1 < sizeof(col))
			col[k++] = *p++;
		col[k] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(few_values); i++)
			few = few || strcmp(col, few_values[i]) == 0;
		if (!few)
			return false;
		n++;
		while (*p && *p != ' ' && *p != ')')
			p++;
	}
	return n > 0;
}

/*
 * Whether plan line @detail of @sql reads a big table whole (a bare SCAN), or nearly (a SEARCH
 * on few-valued columns only: *@weak); the table's name into @table.
 */
static bool full_scan(const char *sql, const char *detail, const char **table, bool *weak)
{
	char name[128];
	struct tokens tk;
	const char *lower, *cons;

	*weak = false;
	if (strncmp(detail, "SCAN ", 5) == 0) {
		if (strstr(detail, " USING INDEX ") || strstr(detail, " USING COVERING INDEX "))
			return false;
	} else if (strncmp(detail, "SEARCH ", 7) == 0) {
		cons = strchr(detail, '(');
		if (!cons || !weak_constraints(cons))
			return false;
		*weak = true;
	} else {
		return false;
	}
	if (sscanf(detail + (*weak ? 7 : 5), "%127s", name) != 1)
		return false;
	for (char *p = name; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	tokenize(sql, &tk);
	lower = big_table_of(&tk, name);
	free(tk.t);
	*table = lower;
	return lower != NULL;
}

static bool allowed(const char *sql, const char *table, bool weak)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed_scans); i++)
		if (strstr(sql, allowed_scans[i].sql) &&
		    strcmp(table, allowed_scans[i].table) == 0 && weak == allowed_scans[i].weak) {
			allow_used[i] = true;
			return true;
		}
	return false;
}

/* Append to the failure report, bounded. */
static void report(char *buf, size_t bufsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(char *buf, size_t bufsz, const char *fmt, ...)
{
	size_t o = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	if (o + 1 < bufsz)
		(void)vsnprintf(buf + o, bufsz - o, fmt, ap);
	va_end(ap);
}

static void test_no_unexplained_full_scans(void **state)
{
	struct fixture *f = *state;
	static char offenders[65536];
	size_t n_stmts = 0, n_bad = 0;
	bool verbose;

	offenders[0] = '\0';
	verbose = getenv("CAFS_PLANS_VERBOSE") != NULL;
	for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
		const char *sql = f->s->stmts[i].sql;
		char *eqp = NULL;
		sqlite3_stmt *st = NULL;
		int rc;

		if (!sql)
			continue;
		n_stmts++;
		assert_true(asprintf(&eqp, "EXPLAIN QUERY PLAN %s", sql) > 0);
		rc = sqlite3_prepare_v2(f->s->db, eqp, -1, &st, NULL);
		if (rc != SQLITE_OK)
			fail_msg("EXPLAIN QUERY PLAN of %s: %s", sql, sqlite3_errmsg(f->s->db));
		if (verbose)
			print_message("# %s\n", sql);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *detail = (const char *)sqlite3_column_text(st, 3);
			const char *table = NULL;
			bool weak;

			if (verbose)
				print_message("#   %s\n", detail);
			if (!full_scan(sql, detail, &table, &weak) || allowed(sql, table, weak))
				continue;
			n_bad++;
			report(offenders, sizeof(offenders), "\n  [%s%s] %s\n    %s", table,
			       weak ? ", few-valued columns only" : "", detail, sql);
		}
		assert_int_equal(rc, SQLITE_DONE);
		sqlite3_finalize(st);
		free(eqp);
	}
	print_message("# %zu cached statements explained, %zu tree nodes visited\n", n_stmts,
		      f->n_nodes);
	/* the workload reaches most of the store: a much smaller cache means it broke */
	assert_true(n_stmts >= 130);
	if (n_bad)
		fail_msg("%zu plan steps read a big table whole or nearly (add an index in a new "
			 "migration in store/schema.c, or an allow-list entry saying why):%s",
			 n_bad, offenders);
	for (size_t i = 0; i < ARRAY_SIZE(allowed_scans); i++)
		if (!allow_used[i])
			fail_msg("allow-list entry no longer needed (or its statement not run): "
				 "[%s] %s",
				 allowed_scans[i].table, allowed_scans[i].sql);
}

/* Every foreign key of a big table leads an index (or the primary key) of its table. */
static void test_foreign_keys_indexed(void **state)
{
	struct fixture *f = *state;
	static char missing[8192];
	size_t n_bad = 0;

	missing[0] = '\0';
	for (size_t t = 0; t < ARRAY_SIZE(big_tables); t++) {
		char *sql = NULL;
		sqlite3_stmt *fk = NULL;

		assert_true(
			asprintf(
				&sql,
				"SELECT f.\"from\", f.\"table\" FROM pragma_foreign_key_list('%s') "
				"f "
				"WHERE NOT EXISTS (SELECT 1 FROM pragma_index_list('%s') il, "
				"pragma_index_info(il.name) ii WHERE ii.seqno = 0 AND ii.name = "
				"f.\"from\") AND NOT EXISTS (SELECT 1 FROM pragma_table_info('%s') "
				"ti WHERE ti.pk = 1 AND ti.name = f.\"from\")",
				big_tables[t], big_tables[t], big_tables[t]) > 0);
		assert_int_equal(sqlite3_prepare_v2(f->s->db, sql, -1, &fk, NULL), SQLITE_OK);
		while (sqlite3_step(fk) == SQLITE_ROW) {
			n_bad++;
			report(missing, sizeof(missing), "\n  %s.%s references %s", big_tables[t],
			       (const char *)sqlite3_column_text(fk, 0),
			       (const char *)sqlite3_column_text(fk, 1));
		}
		sqlite3_finalize(fk);
		free(sql);
	}
	if (n_bad)
		fail_msg("foreign keys without an index (each check or cascade scans):%s", missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_unexplained_full_scans),
		cmocka_unit_test(test_foreign_keys_indexed),
	};

	return cmocka_run_group_tests_name("store_plans", tests, setup, teardown);
}
