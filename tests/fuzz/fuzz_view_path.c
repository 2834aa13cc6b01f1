/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "view_path": the mount's path parser, store_view_resolve() (store/view.h), on a
 * small real domain made once per process in a mkdtemp() folder and removed at exit:
 *
 *   up     pypi demo-pkg 1.0 (wheel) and 1.1 (sdist), npm @acme/widget 1.0.0 and left-pad
 *          1.3.0, maven com.example:lib:1.0 (pom, jar), generic acme/tool 1.0
 *   team   upstream up; pypi other-pkg 2.0 and demo-pkg 1.2 (Archived), npm left-pad with
 *          upstream=BLOCK, a generic version left Unfinished
 *   edge   upstream team
 *   group  /npm/acme/\* blocking INTERNAL_UPSTREAM
 *
 * (a C comment cannot hold the pattern's slash-star, hence the backslash). The input is a
 * path. What resolves is checked: terminated fields, a synthesized file renders to its size,
 * a folder lists (store_view_readdir()) and each listed name resolves again as the kind the
 * listing said, and extended attributes list. Nothing here writes: store_view_open() (which
 * may retain a version) is not called, so one input behaves the same in every run.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/common.h"
#include "policy/group.h"
#include "store/group.h"
#include "store/package.h"
#include "store/store.h"
#include "store/view.h"
#include "store/write.h"
#include "tests/fuzz/fuzz.h"

#define MAX_PATH      4096
#define MAX_CHILDREN  16 /* listed entries resolved again per input */
#define ARCHIVE_BYTES (64 * 1024)

static struct store *dom;
static char root[64];
static bool debug; /* $FUZZ_DEBUG: say what each path resolves to */

static const char *const kind_names[] = {"root",    "repository", "format", "namespace",
					 "package", "version",    "asset",  "synthesized"};

/* Set-up failures are not findings: say what failed and stop. */
static void die(const char *what, const struct cafs_error *e)
{
	(void)fprintf(stderr, "fuzz_view_path: set-up: %s: %s\n", what, e ? e->msg : "");
	exit(1);
}

static void quiet_log(int level, const char *line)
{
	(void)level;
	(void)line;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void teardown(void)
{
	store_close(dom);
	dom = NULL;
	if (root[0])
		(void)nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct entry {
	const char *name;
	const char *data;
};

/* A zip (@zip) or a gzip'd ustar tarball of @entries, into a memfd (owned fd). */
static int archive_fd(bool zip, const struct entry *entries, size_t n)
{
	static char buf[ARCHIVE_BYTES];
	struct archive *a = archive_write_new();
	size_t used = 0;
	int fd;

	if (!a)
		die("archive_write_new", NULL);
	if (zip ? archive_write_set_format_zip(a) != ARCHIVE_OK
		: (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
		   archive_write_add_filter_gzip(a) != ARCHIVE_OK))
		die(archive_error_string(a), NULL);
	if (archive_write_open_memory(a, buf, sizeof(buf), &used) != ARCHIVE_OK)
		die(archive_error_string(a), NULL);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t len = strlen(entries[i].data);

		archive_entry_set_pathname(ae, entries[i].name);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)len);
		archive_entry_set_mtime(ae, 1672531200, 0);
		if (archive_write_header(a, ae) != ARCHIVE_OK ||
		    archive_write_data(a, entries[i].data, len) != (la_ssize_t)len)
			die(archive_error_string(a), NULL);
		archive_entry_free(ae);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die(archive_error_string(a), NULL);
	archive_write_free(a);
	fd = memfd_create("fuzz-view", MFD_CLOEXEC);
	if (fd < 0 || write(fd, buf, used) != (ssize_t)used)
		die("memfd", NULL);
	return fd;
}

static int text_fd(const char *text)
{
	int fd = memfd_create("fuzz-view", MFD_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		die("memfd", NULL);
	return fd;
}

/* Publish the file on @fd (closed here) at mount path @path, as a write through the mount. */
static void put(const char *path, int fd, bool finish)
{
	struct store_write_file f = {.path = path, .fd = fd};
	struct cafs_error e = {0};

	if (store_view_write(dom, &f, 1, finish, &e) < 0)
		die(path, &e);
	(void)close(fd);
}

static void put_wheel(const char *repo, const char *name, const char *dist, const char *version)
{
	char path[256], meta_name[128], meta[256], init[128];
	struct entry ents[2] = {{init, "print(1)\n"}, {meta_name, meta}};

	(void)snprintf(path, sizeof(path), "/%s/pypi/%s-%s-py3-none-any.whl", repo, dist, version);
	(void)snprintf(meta_name, sizeof(meta_name), "%s-%s.dist-info/METADATA", dist, version);
	(void)snprintf(init, sizeof(init), "%s/__init__.py", dist);
	(void)snprintf(meta, sizeof(meta),
		       "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: fuzz\n"
		       "Requires-Dist: requests (>=2)\n\nReadme.\n",
		       name, version);
	put(path, archive_fd(true, ents, 2), false);
}

static const char pom_10[] =
	"<?xml version=\"1.0\"?>\n<project><modelVersion>4.0.0</modelVersion>"
	"<groupId>com.example</groupId><artifactId>lib</artifactId><version>1.0</version>"
	"<dependencies><dependency><groupId>org.dep</groupId><artifactId>dep</artifactId>"
	"<version>2</version></dependency></dependencies></project>\n";

static const char metadata_10[] =
	"<?xml version=\"1.0\"?>\n<metadata><groupId>com.example</groupId>"
	"<artifactId>lib</artifactId><versioning><release>1.0</release><versions>"
	"<version>1.0</version></versions></versioning></metadata>\n";

static void make_domain(void)
{
	const char *up[] = {"up"}, *team[] = {"team"};
	struct store_repository repo;
	struct store_package pkg;
	struct store_group g;
	struct cafs_error e = {0};
	const struct store_coord leftpad = {CAFS_FORMAT_NPM, NULL, "left-pad", NULL};
	int modes[CAFS_ACTION_N] = {-1, -1, CAFS_MODE_BLOCK};

	debug = getenv("FUZZ_DEBUG") != NULL;
	store_set_log(quiet_log);
	(void)snprintf(root, sizeof(root), "/tmp/cafs-fuzz-view-XXXXXX");
	if (!mkdtemp(root))
		die("mkdtemp", NULL);
	if (atexit(teardown) != 0)
		die("atexit", NULL);
	if (store_domain_create(root, "fz", NULL, NULL, 0, &dom, &e) < 0)
		die("create domain", &e);
	if (store_repository_create(dom, "up", NULL, NULL, 0, NULL, 0, &repo, &e) < 0 ||
	    store_repository_create(dom, "team", NULL, up, 1, NULL, 0, &repo, &e) < 0 ||
	    store_repository_create(dom, "edge", NULL, team, 1, NULL, 0, &repo, &e) < 0)
		die("create repositories", &e);

	put_wheel("up", "demo-pkg", "demo_pkg", "1.0");
	{
		const struct entry sdist[] = {{"demo-pkg-1.1/PKG-INFO",
					       "Metadata-Version: 2.1\nName: demo-pkg\n"
					       "Version: 1.1\n"},
					      {"demo-pkg-1.1/setup.py", "# setup\n"}};

		put("/up/pypi/demo-pkg-1.1.tar.gz", archive_fd(false, sdist, 2), false);
	}
	{
		const struct entry scoped[] = {
			{"package/package.json",
			 "{\"name\": \"@acme/widget\", \"version\": \"1.0.0\", "
			 "\"dependencies\": {\"left-pad\": \"^1.3.0\"}}"},
			{"package/README.md", "# widget\n"}};
		const struct entry plain[] = {{"package/package.json",
					       "{\"name\": \"left-pad\", \"version\": \"1.3.0\"}"}};

		put("/up/npm/acme-widget-1.0.0.tgz", archive_fd(false, scoped, 2), false);
		put("/up/npm/left-pad-1.3.0.tgz", archive_fd(false, plain, 1), false);
	}
	{
		const struct entry jar[] = {{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"}};

		put("/up/maven/com/example/lib/1.0/lib-1.0.pom", text_fd(pom_10), false);
		put("/up/maven/com/example/lib/1.0/lib-1.0.jar", archive_fd(true, jar, 1), false);
		put("/up/maven/com/example/lib/maven-metadata.xml", text_fd(metadata_10), false);
	}
	put("/up/generic/acme/tool/1.0/tool.bin", text_fd("tool bytes\n"), true);

	put_wheel("team", "other-pkg", "other_pkg", "2.0");
	put_wheel("team", "demo-pkg", "demo_pkg", "1.2");
	if (store_view_setxattr(dom, "/team/pypi/demo-pkg/1.2", "user.cafs.status", "Archived", 8,
				&e) < 0)
		die("archive demo-pkg 1.2", &e);
	if (store_package_origin_put(dom, "team", &leftpad, "ALLOW", "BLOCK", &pkg, &e) < 0)
		die("left-pad upstream=BLOCK", &e);
	put("/team/generic/acme/wip/0.1/notes.txt", text_fd("unfinished\n"), false);

	if (store_group_create(dom, "/npm/acme/*", "fuzz", NULL, &g, &e) < 0 ||
	    store_group_origin_update(dom, "/npm/acme/*", modes, NULL, 0, NULL, 0, &g, NULL, &e) <
		    0)
		die("package group", &e);
}

struct listing {
	const char *dir_path;
	size_t n;
};

static const int folder_kinds[] = {STORE_NODE_ROOT,  STORE_NODE_REPO,    STORE_NODE_FORMAT,
				   STORE_NODE_NSDIR, STORE_NODE_PACKAGE, STORE_NODE_VERSION};

static bool is_folder(const struct store_node *n)
{
	for (size_t i = 0; i < ARRAY_SIZE(folder_kinds); i++)
		if ((int)n->kind == folder_kinds[i])
			return true;
	return false;
}

static void check_node(const struct store_node *n)
{
	FUZZ_CHECK(fuzz_terminated(n->repository, sizeof(n->repository)));
	FUZZ_CHECK(fuzz_terminated(n->namespace_, sizeof(n->namespace_)));
	FUZZ_CHECK(fuzz_terminated(n->package, sizeof(n->package)));
	FUZZ_CHECK(fuzz_terminated(n->version, sizeof(n->version)));
	FUZZ_CHECK(fuzz_terminated(n->file, sizeof(n->file)));
	FUZZ_CHECK(fuzz_terminated(n->checksum_of, sizeof(n->checksum_of)));
	FUZZ_CHECK(fuzz_terminated(n->checksum_algo, sizeof(n->checksum_algo)));
	FUZZ_CHECK(fuzz_terminated(n->source_repository, sizeof(n->source_repository)));
	FUZZ_CHECK(n->kind >= STORE_NODE_ROOT && n->kind <= STORE_NODE_SYNTH);
	FUZZ_CHECK((n->kind == STORE_NODE_SYNTH) == (n->synth != STORE_SYNTH_NONE));
	if (is_folder(n))
		FUZZ_CHECK(n->size == 0);
}

/* The extended attributes of @n: the list, and each value. */
static void check_xattrs(const struct store_node *n)
{
	struct cafs_error e = {0};
	char names[4096], value[8192];
	int len = store_view_xattr_list(dom, n, names, sizeof(names), &e);

	if (len <= 0)
		return;
	FUZZ_CHECK((size_t)len <= sizeof(names) && names[len - 1] == '\0');
	for (const char *p = names; p < names + len; p += strlen(p) + 1)
		(void)store_view_xattr_get(dom, n, p, value, sizeof(value), &e);
}

static int list_cb(void *ctx, const char *name, const struct store_node *child)
{
	struct listing *l = ctx;
	char path[MAX_PATH];
	struct store_node again;
	struct cafs_error e = {0};
	int r;

	FUZZ_CHECK(name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 &&
		   strcmp(name, "..") != 0);
	check_node(child);
	if (l->n++ >= MAX_CHILDREN)
		return 0;
	if (snprintf(path, sizeof(path), "%s%s%s", l->dir_path,
		     l->dir_path[strlen(l->dir_path) - 1] == '/' ? "" : "/",
		     name) >= (int)sizeof(path))
		return 0;
	/* what a folder lists, a lookup finds (the kernel looks up every name readdir gives) */
	r = store_view_resolve(dom, path, &again, &e);
	if (r < 0)
		(void)fprintf(stderr, "listed '%s' does not resolve: %s\n", path, e.msg);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(again.kind == child->kind);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_node n;
	struct cafs_error e = {0};
	char *path;
	int r;

	if (!dom)
		make_domain();
	if (size >= MAX_PATH + 16)
		return 0;
	path = fuzz_strndup(data, size);
	r = store_view_resolve(dom, path, &n, &e);
	if (debug)
		(void)fprintf(stderr, "'%s': %s\n", path, r < 0 ? e.msg : kind_names[n.kind]);
	if (r < 0) {
		FUZZ_CHECK(e.kind == CAFS_NOT_FOUND || e.kind == CAFS_VALIDATION);
		FUZZ_CHECK(fuzz_terminated(e.msg, sizeof(e.msg)));
		free(path);
		return 0;
	}
	check_node(&n);
	if (n.kind == STORE_NODE_SYNTH) {
		char *buf = NULL;
		size_t len = 0;

		r = store_view_render(dom, &n, &buf, &len, &e);
		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(len == n.size); /* nothing changed since the resolve */
		free(buf);
	} else if (is_folder(&n)) {
		struct listing l = {path, 0};

		r = store_view_readdir(dom, &n, list_cb, &l, &e);
		if (r < 0)
			(void)fprintf(stderr, "readdir '%s': %s\n", path, e.msg);
		FUZZ_CHECK(r == 0);
	}
	check_xattrs(&n);
	free(path);
	return 0;
}
