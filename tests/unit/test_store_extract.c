/* SPDX-License-Identifier: MIT */
/*
 * Package metadata extraction (store/extract.h) on real package files: wheels, sdists (tar.gz
 * and zip), npm tarballs (scoped, unscoped, another top folder), POMs, built at test time by a
 * Python script (zipfile, tarfile) in a mkdtemp() folder, plus the Debian wheels in
 * /usr/share/python-wheels and POMs in /usr/share/maven-repo when installed. Hostile files: a
 * zip bomb, a 50 MB METADATA, a 3 GiB tar entry, 100001 entries, path traversal, a truncated
 * gzip, links named like metadata, non-JSON, a DOCTYPE entity bomb, non-UTF-8, an empty file and
 * random bytes; each must give ValidationException with a clear message.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/common.h"
#include "policy/names.h"
#include "store/extract.h"
#include "tests/unit/unit.h"

/* Python lines that write every test package into the folder named by argv[1]. */
static const char *const gen_py[] = {
	"import gzip, io, os, sys, tarfile, zipfile\n",
	"\n",
	"D = sys.argv[1]\n",
	"\n",
	"def put(name, data):\n",
	"    with open(os.path.join(D, name), 'wb') as f:\n",
	"        f.write(data)\n",
	"\n",
	"def zipped(name, files):\n",
	"    buf = io.BytesIO()\n",
	"    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:\n",
	"        for n, data in files:\n",
	"            z.writestr(n, data)\n",
	"    put(name, buf.getvalue())\n",
	"    return buf.getvalue()\n",
	"\n",
	"def tgz(name, files):\n",
	"    buf = io.BytesIO()\n",
	"    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:\n",
	"        for n, data in files:\n",
	"            ti = n if isinstance(n, tarfile.TarInfo) else tarfile.TarInfo(n)\n",
	"            ti.size = len(data or b'')\n",
	"            t.addfile(ti, io.BytesIO(data) if data else None)\n",
	"    out = gzip.compress(buf.getvalue(), mtime=0)\n",
	"    put(name, out)\n",
	"    return out\n",
	"\n",
	"def pkginfo(name, ver):\n",
	"    return ('Name: %s\\nVersion: %s\\n' % (name, ver)).encode()\n",
	"\n",
	"META = b'''Metadata-Version: 2.1\n",
	"Name: Demo.Pkg\n",
	"Version: 1.2.3\n",
	"Summary: A demo\n",
	" package for tests\n",
	"Home-page: https://example.org/demo\n",
	"Project-URL: Documentation, https://docs.example.org\n",
	"Project-URL: Source Code, https://github.com/example/demo\n",
	"License: MIT\n",
	"Requires-Python: >=3.8\n",
	"Requires-Dist: requests (>=2.0) ; extra == \"x\"\n",
	"Requires-Dist: idna>=2.5,<4\n",
	"Requires-Dist: urllib3[socks] (<3,>=1.21.1)\n",
	"Requires-Dist: certifi\n",
	"Classifier: License :: OSI Approved :: MIT License\n",
	"\n",
	"# Demo\n",
	"\n",
	"Body with **markdown**.\n",
	"'''\n",
	"put('demo.METADATA', META)\n",
	"zipped('demo-1.2.3-py3-none-any.whl', [\n",
	"    ('demo/__init__.py', b'print(1)\\n'),\n",
	"    ('demo-1.2.3.dist-info/METADATA', META),\n",
	"    ('demo-1.2.3.dist-info/WHEEL', b'Wheel-Version: 1.0\\n'),\n",
	"    ('demo-1.2.3.dist-info/RECORD', b'')])\n",
	"\n",
	"OLD = b'''Metadata-Version: 1.2\n",
	"Name: oldpkg\n",
	"Version: 0.1\n",
	"Summary: UNKNOWN\n",
	"Home-page: UNKNOWN\n",
	"License: UNKNOWN\n",
	"Description: First line\n",
	"        second line\n",
	"                indented\n",
	"        \n",
	"       |after pipe\n",
	"Classifier: License :: OSI Approved :: BSD License\n",
	"Project-URL: Homepage, https://old.example\n",
	"'''\n",
	"zipped('oldpkg-0.1-py2-none-any.whl', [('oldpkg-0.1.dist-info/METADATA', OLD)])\n",
	"\n",
	"PKGINFO = b'''Metadata-Version: 2.4\n",
	"Name: demo-sdist\n",
	"Version: 2.0\n",
	"License-Expression: Apache-2.0\n",
	"Project-URL: Repository, https://git.example/sdist\n",
	"Requires-Dist: six\n",
	"\n",
	"Sdist readme.\n",
	"'''\n",
	"SDIST = [('demo_sdist-2.0/setup.py', b'# setup\\n'),\n",
	"         ('demo_sdist-2.0/PKG-INFO', PKGINFO),\n",
	"         ('demo_sdist-2.0/demo_sdist.egg-info/PKG-INFO', pkginfo('wrong', '9'))]\n",
	"tgz('demo_sdist-2.0.tar.gz', SDIST)\n",
	"zipped('demo_sdist-2.0.zip', SDIST)\n",
	"\n",
	"PJ = b'''{\"name\": \"@acme/widget\", \"version\": \"1.0.0-beta.1\",\n",
	" \"description\": \"A widget\", \"homepage\": \"https://acme.example/widget\",\n",
	" \"repository\": {\"type\": \"git\",\n",
	"                \"url\": \"git+https://github.com/acme/widget.git\"},\n",
	" \"license\": {\"type\": \"MIT\", \"url\": \"https://opensource.org/licenses/MIT\"},\n",
	" \"dependencies\": {\"lodash\": \"^4.17.21\", \"@acme/core\": \"~2.0.0\"},\n",
	" \"devDependencies\": {\"jest\": \"29.x\"},\n",
	" \"peerDependencies\": {\"react\": \">=17\"},\n",
	" \"optionalDependencies\": {\"fsevents\": \"*\"}}'''\n",
	"SCOPED = tgz('scoped.tgz', [\n",
	"    ('package/readme.txt', b'plain text'),\n",
	"    ('package/package.json', PJ),\n",
	"    ('package/lib/index.js', b'module.exports = 1;\\n' * 2000),\n",
	"    ('package/README.md', b'# Widget\\n')])\n",
	"put('truncated.tgz', SCOPED[:len(SCOPED) // 2])\n",
	"\n",
	"PJ2 = b'''{\"name\": \"left-pad\", \"version\": \"1.3.0\",\n",
	" \"repository\": \"github:stevemao/left-pad\",\n",
	" \"licenses\": [{\"type\": \"MIT\", \"url\": \"http://x.example/mit\"}, \"ISC\"]}'''\n",
	"tgz('unscoped.tgz', [('node/package.json', PJ2), ('node/README', b'plain readme')])\n",
	"\n",
	"# hostile files\n",
	"NPM_OK = ('package/package.json', b'{\"name\": \"x\", \"version\": \"1\"}')\n",
	"big = pkginfo('big', '1') + b'\\n' + b'A' * (50 << 20)\n",
	"zipped('big-1-py3-none-any.whl', [('big-1.dist-info/METADATA', big)])\n",
	"\n",
	"# a zip whose zeros.bin declares 4 GiB in both its headers\n",
	"zb = bytearray(zipped('bomb.whl', [('bomb-1.dist-info/METADATA', pkginfo('bomb', '1')),\n",
	"                                   ('bomb/zeros.bin', b'\\0' * 4096)]))\n",
	"for sig, size_at, name_at in ((b'PK\\3\\4', 22, 30), (b'PK\\1\\2', 24, 46)):\n",
	"    i = zb.find(sig)\n",
	"    while i >= 0:\n",
	"        if zb[i + name_at:].startswith(b'bomb/zeros.bin'):\n",
	"            zb[i + size_at:i + size_at + 4] = (0xFFFFFFF0).to_bytes(4, 'little')\n",
	"        i = zb.find(sig, i + 4)\n",
	"put('bomb-1-py3-none-any.whl', zb)\n",
	"\n",
	"# a tar header that declares 3 GiB, followed by a few bytes\n",
	"hdr = tarfile.TarInfo('package/huge.bin')\n",
	"hdr.size = 3 << 30\n",
	"put('huge.tgz', gzip.compress(hdr.tobuf(format=tarfile.USTAR_FORMAT) + bytes(4096)))\n",
	"\n",
	"tgz('dotdot.tgz', [NPM_OK, ('../evil', b'x')])\n",
	"tgz('dotdot2.tgz', [NPM_OK, ('package/a/../../evil', b'x')])\n",
	"zipped('abs-1-py3-none-any.whl', [('abs-1.dist-info/METADATA', pkginfo('abs', '1')),\n",
	"                                  ('/etc/evil', b'x')])\n",
	"zipped('bs-1-py3-none-any.whl', [('bs-1.dist-info/METADATA', pkginfo('bs', '1')),\n",
	"                                 ('..\\\\evil', b'x')])\n",
	"tgz('notjson.tgz', [('package/package.json', b'{\"name\": \"x\", \"version\": ')])\n",
	"tgz('nover.tgz', [('package/package.json', b'{\"name\": \"x\"}')])\n",
	"zipped('nover-1-py3-none-any.whl', [('nover-1.dist-info/METADATA', b'Name: nover\\n')])\n",
	"zipped('latin-1-py3-none-any.whl', [('latin-1.dist-info/METADATA',\n",
	"                                     b'Name: caf\\xe9\\nVersion: 1\\n')])\n",
	"zipped('two-1-py3-none-any.whl', [('a-1.dist-info/METADATA', pkginfo('a', '1')),\n",
	"                                  ('b-1.dist-info/METADATA', pkginfo('b', '1'))])\n",
	"link = zipfile.ZipInfo('link-1.dist-info/METADATA')\n",
	"link.create_system = 3\n",
	"link.external_attr = 0o120777 << 16\n",
	"zipped('link-1-py3-none-any.whl', [(link, b'/etc/passwd')])\n",
	"sym = tarfile.TarInfo('package/package.json')\n",
	"sym.type = tarfile.SYMTYPE\n",
	"sym.linkname = '/etc/passwd'\n",
	"tgz('symlink.tgz', [(sym, None)])\n",
	"tgz('bigreadme.tgz', [NPM_OK, ('package/README.md', b'r' * (5 << 20))])\n",
	"CRLF = b'Name: crlf\\r\\nVersion: 1\\r\\nSummary: s\\r\\n\\r\\nbody\\r\\n'\n",
	"zipped('crlf-1-py3-none-any.whl', [('crlf-1.dist-info/METADATA', CRLF)])\n",
	"BAD = pkginfo('baddep', '1') + b'Requires-Dist: >=1\\n'\n",
	"zipped('baddep-1-py3-none-any.whl', [('baddep-1.dist-info/METADATA', BAD)])\n",
};

struct fixture {
	char dir[64];
	bool have_files; /* python3 ran the generator */
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[128];
	FILE *py;

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cafs-test-extract-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(cmd, sizeof(cmd), "python3 - '%s'", f->dir);
	py = popen(cmd, "w");
	if (py) {
		bool written = true;
		int status;

		for (size_t i = 0; i < ARRAY_SIZE(gen_py); i++)
			written = written && fputs(gen_py[i], py) >= 0;
		status = pclose(py);
		f->have_files = written && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* The path of a generated file; valid until the fourth call after this one. */
static const char *fixture_path(void **state, const char *name)
{
	static char paths[4][256];
	static unsigned next;
	struct fixture *f = *state;
	char *path = paths[next++ % ARRAY_SIZE(paths)];

	if (!f->have_files)
		skip(); /* no python3 to build the packages */
	(void)snprintf(path, sizeof(paths[0]), "%s/%s", f->dir, name);
	return path;
}

static char *read_all(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	(void)fclose(fp);
	*ret_len = (size_t)n;
	return buf;
}

/* The metadata of the file at @path read through an fd; fails the test on error. */
static struct store_metadata *extract_path(const char *path, enum store_file_kind kind)
{
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	assert_true(fd >= 0);
	r = store_extract_fd(fd, kind, &m, &e);
	(void)close(fd);
	if (r != 0)
		fail_msg("extract '%s': %s", path, e.msg);
	return m;
}

/* The same through a buffer. */
static struct store_metadata *extract_buffer(const char *path, enum store_file_kind kind)
{
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	size_t len;
	char *buf = read_all(path, &len);
	int r = store_extract_mem(buf, len, kind, &m, &e);

	free(buf);
	if (r != 0)
		fail_msg("extract '%s' from memory: %s", path, e.msg);
	return m;
}

/* The same through a pipe (no seeking), fed by a child process. */
static struct store_metadata *extract_pipe(const char *path, enum store_file_kind kind)
{
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	size_t len;
	char *buf = read_all(path, &len);
	int fds[2], status, r;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t off = 0;

		(void)close(fds[0]);
		while (off < len) {
			ssize_t n = write(fds[1], buf + off, len - off);

			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		_exit(0);
	}
	(void)close(fds[1]);
	free(buf);
	r = store_extract_fd(fds[0], kind, &m, &e);
	(void)close(fds[0]); /* a writer still blocked gets EPIPE */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (r != 0)
		fail_msg("extract '%s' from a pipe: %s", path, e.msg);
	return m;
}

/* @buf must be refused (ValidationException) with a message containing @needle. */
static void expect_invalid_mem(const void *buf, size_t len, enum store_file_kind kind,
			       const char *needle)
{
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	int r = store_extract_mem(buf, len, kind, &m, &e);

	if (r == 0) {
		store_metadata_free(m);
		fail_msg("accepted, expected an error with '%s'", needle);
	}
	assert_int_equal(r, -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_null(m);
	if (!strstr(e.msg, needle))
		fail_msg("message '%s' does not contain '%s'", e.msg, needle);
}

/* The file @name must be refused, both from an fd and from memory. */
static void expect_invalid(void **state, const char *name, enum store_file_kind kind,
			   const char *needle)
{
	const char *path = fixture_path(state, name);
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;
	char *buf;
	int r;

	assert_true(fd >= 0);
	r = store_extract_fd(fd, kind, &m, &e);
	(void)close(fd);
	if (r == 0) {
		store_metadata_free(m);
		fail_msg("'%s' accepted, expected an error with '%s'", name, needle);
	}
	assert_int_equal(r, -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	if (!strstr(e.msg, needle))
		fail_msg("'%s': message '%s' does not contain '%s'", name, e.msg, needle);
	buf = read_all(path, &len);
	expect_invalid_mem(buf, len, kind, needle);
	free(buf);
}

static void assert_str(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else if (!got)
		fail_msg("NULL, expected '%s'", want);
	else
		assert_string_equal(got, want);
}

static void assert_dep(const struct store_metadata *m, const char *ns, const char *pkg,
		       const char *type, const char *req)
{
	for (size_t i = 0; i < m->n_deps; i++) {
		const struct store_dependency *d = &m->deps[i];

		if (strcmp(d->package, pkg) != 0 || strcmp(d->dependency_type, type) != 0)
			continue;
		assert_str(d->namespace_, ns);
		assert_str(d->version_requirement, req);
		return;
	}
	fail_msg("no dependency '%s' of type '%s'", pkg, type);
}

/* -- wheels, sdists ------------------------------------------------------------------------- */

static void check_demo_wheel(struct store_metadata *m, const char *meta, size_t meta_len)
{
	assert_int_equal(m->format, CAFS_FORMAT_PYPI);
	assert_null(m->namespace_);
	assert_str(m->name, "Demo.Pkg");
	assert_str(m->version, "1.2.3");
	assert_str(m->summary, "A demo package for tests");
	assert_str(m->home_page, "https://example.org/demo");
	assert_str(m->source_code_repository, "https://github.com/example/demo");
	assert_str(m->requires_python, ">=3.8");
	assert_str(m->readme, "# Demo\n\nBody with **markdown**.");
	assert_int_equal(m->n_licenses, 1);
	assert_str(m->licenses[0].name, "MIT");
	assert_null(m->licenses[0].url);
	assert_int_equal(m->n_deps, 4);
	assert_dep(m, NULL, "requests", "Requires-Dist", ">=2.0 ; extra == \"x\"");
	assert_dep(m, NULL, "idna", "Requires-Dist", ">=2.5,<4");
	assert_dep(m, NULL, "urllib3", "Requires-Dist", "[socks]<3,>=1.21.1");
	assert_dep(m, NULL, "certifi", "Requires-Dist", NULL);
	assert_int_equal(m->core_metadata_len, meta_len);
	assert_memory_equal(m->core_metadata, meta, meta_len);
	assert_int_equal(m->core_metadata[meta_len], '\0');
}

static void test_wheel(void **state)
{
	const char *path = fixture_path(state, "demo-1.2.3-py3-none-any.whl");
	struct store_metadata *m;
	size_t meta_len;
	char *meta = read_all(fixture_path(state, "demo.METADATA"), &meta_len);

	m = extract_path(path, STORE_FILE_WHEEL);
	check_demo_wheel(m, meta, meta_len);
	store_metadata_free(m);
	m = extract_path(path, STORE_FILE_UNKNOWN);
	check_demo_wheel(m, meta, meta_len);
	store_metadata_free(m);
	m = extract_buffer(path, STORE_FILE_UNKNOWN);
	check_demo_wheel(m, meta, meta_len);
	store_metadata_free(m);
	free(meta);
}

/* A wheel read from an fd whose offset is not 0: zip's seeks are relative to that offset. */
static void test_wheel_fd_offset(void **state)
{
	struct store_metadata *m = NULL;
	struct cafs_error e;
	size_t len;
	char *buf = read_all(fixture_path(state, "demo-1.2.3-py3-none-any.whl"), &len);
	int fd = open(fixture_path(state, "offset.bin"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk before the wheel", 21), 21);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 21, SEEK_SET), 21);
	assert_int_equal(store_extract_fd(fd, STORE_FILE_UNKNOWN, &m, &e), 0);
	assert_str(m->name, "Demo.Pkg");
	assert_int_equal(m->n_deps, 4);
	store_metadata_free(m);
	(void)close(fd);
	free(buf);
}

static void test_wheel_old_description(void **state)
{
	struct store_metadata *m =
		extract_path(fixture_path(state, "oldpkg-0.1-py2-none-any.whl"), STORE_FILE_WHEEL);

	assert_str(m->name, "oldpkg");
	assert_str(m->version, "0.1");
	assert_null(m->summary); /* "UNKNOWN" */
	assert_str(m->home_page, "https://old.example");
	assert_str(m->readme, "First line\nsecond line\n        indented\n\nafter pipe");
	assert_int_equal(m->n_licenses, 1);
	assert_str(m->licenses[0].name, "BSD License");
	assert_int_equal(m->n_deps, 0);
	store_metadata_free(m);
}

static void test_wheel_crlf(void **state)
{
	struct store_metadata *m =
		extract_path(fixture_path(state, "crlf-1-py3-none-any.whl"), STORE_FILE_WHEEL);

	assert_str(m->name, "crlf");
	assert_str(m->version, "1");
	assert_str(m->summary, "s");
	assert_str(m->readme, "body");
	store_metadata_free(m);
}

static void check_sdist(struct store_metadata *m)
{
	assert_int_equal(m->format, CAFS_FORMAT_PYPI);
	assert_str(m->name, "demo-sdist"); /* not the nested egg-info's "wrong" */
	assert_str(m->version, "2.0");
	assert_str(m->source_code_repository, "https://git.example/sdist");
	assert_str(m->readme, "Sdist readme.");
	assert_int_equal(m->n_licenses, 1);
	assert_str(m->licenses[0].name, "Apache-2.0");
	assert_int_equal(m->n_deps, 1);
	assert_dep(m, NULL, "six", "Requires-Dist", NULL);
	assert_null(m->core_metadata);
	assert_int_equal(m->core_metadata_len, 0);
	store_metadata_free(m);
}

static void test_sdist(void **state)
{
	const char *tgz = fixture_path(state, "demo_sdist-2.0.tar.gz");

	check_sdist(extract_path(tgz, STORE_FILE_SDIST_TGZ));
	check_sdist(extract_path(tgz, STORE_FILE_UNKNOWN));
	check_sdist(extract_pipe(tgz, STORE_FILE_UNKNOWN));
	check_sdist(extract_path(fixture_path(state, "demo_sdist-2.0.zip"), STORE_FILE_SDIST_ZIP));
	check_sdist(extract_buffer(fixture_path(state, "demo_sdist-2.0.zip"), STORE_FILE_UNKNOWN));
}

/* -- npm ------------------------------------------------------------------------------------ */

static void check_scoped(struct store_metadata *m)
{
	assert_int_equal(m->format, CAFS_FORMAT_NPM);
	assert_str(m->namespace_, "acme");
	assert_str(m->name, "widget");
	assert_str(m->version, "1.0.0-beta.1");
	assert_str(m->summary, "A widget");
	assert_str(m->home_page, "https://acme.example/widget");
	assert_str(m->source_code_repository, "git+https://github.com/acme/widget.git");
	assert_str(m->readme, "# Widget\n"); /* README.md over readme.txt */
	assert_null(m->requires_python);
	assert_null(m->core_metadata);
	assert_int_equal(m->n_licenses, 1);
	assert_str(m->licenses[0].name, "MIT");
	assert_str(m->licenses[0].url, "https://opensource.org/licenses/MIT");
	assert_int_equal(m->n_deps, 5);
	assert_dep(m, NULL, "lodash", "regular", "^4.17.21");
	assert_dep(m, "acme", "core", "regular", "~2.0.0");
	assert_dep(m, NULL, "jest", "dev", "29.x");
	assert_dep(m, NULL, "react", "peer", ">=17");
	assert_dep(m, NULL, "fsevents", "optional", "*");
	store_metadata_free(m);
}

static void test_npm_scoped(void **state)
{
	const char *path = fixture_path(state, "scoped.tgz");

	check_scoped(extract_path(path, STORE_FILE_NPM_TGZ));
	check_scoped(extract_path(path, STORE_FILE_UNKNOWN));
	check_scoped(extract_buffer(path, STORE_FILE_UNKNOWN));
	check_scoped(extract_pipe(path, STORE_FILE_UNKNOWN));
	check_scoped(extract_pipe(path, STORE_FILE_NPM_TGZ));
}

static void test_npm_unscoped(void **state)
{
	const char *path = fixture_path(state, "unscoped.tgz"); /* top folder "node/" */

	for (int i = 0; i < 2; i++) {
		struct store_metadata *m =
			extract_path(path, i ? STORE_FILE_UNKNOWN : STORE_FILE_NPM_TGZ);

		assert_int_equal(m->format, CAFS_FORMAT_NPM);
		assert_null(m->namespace_);
		assert_str(m->name, "left-pad");
		assert_str(m->version, "1.3.0");
		assert_null(m->summary);
		assert_str(m->source_code_repository, "github:stevemao/left-pad");
		assert_str(m->readme, "plain readme");
		assert_int_equal(m->n_licenses, 2);
		assert_str(m->licenses[0].name, "MIT");
		assert_str(m->licenses[0].url, "http://x.example/mit");
		assert_str(m->licenses[1].name, "ISC");
		assert_null(m->licenses[1].url);
		assert_int_equal(m->n_deps, 0);
		store_metadata_free(m);
	}
}

/* -- POM ------------------------------------------------------------------------------------ */

static const char pom_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!-- a comment before the root -->\n"
	"<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n"
	"  <modelVersion>4.0.0</modelVersion>\n"
	"  <parent>\n"
	"    <groupId>com.example</groupId>\n"
	"    <artifactId>example-parent</artifactId>\n"
	"    <version>7</version>\n"
	"  </parent>\n"
	"  <artifactId>demo-lib</artifactId>\n"
	"  <name>Demo Library</name>\n"
	"  <description>\n"
	"     A demo\n"
	"     library.\n"
	"  </description>\n"
	"  <url> https://example.com/demo-lib </url>\n"
	"  <licenses>\n"
	"    <license><name>Apache-2.0</name>\n"
	"      <url>https://www.apache.org/licenses/LICENSE-2.0</url></license>\n"
	"    <license><name>MIT</name></license>\n"
	"  </licenses>\n"
	"  <scm>\n"
	"    <connection>scm:git:https://github.com/example/demo-lib.git</connection>\n"
	"  </scm>\n"
	"  <dependencyManagement><dependencies>\n"
	"    <dependency><groupId>managed</groupId><artifactId>ignored</artifactId>\n"
	"      <version>1</version></dependency>\n"
	"  </dependencies></dependencyManagement>\n"
	"  <dependencies>\n"
	"    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>\n"
	"      <version>2.0.9</version></dependency>\n"
	"    <dependency><groupId>junit</groupId><artifactId>junit</artifactId>\n"
	"      <version>4.13.2</version><scope>test</scope></dependency>\n"
	"    <dependency><groupId>com.example</groupId><artifactId>demo-extra</artifactId>\n"
	"      <version>${project.version}</version><optional>true</optional></dependency>\n"
	"    <dependency><groupId>${project.groupId}</groupId><artifactId>demo-core</artifactId>\n"
	"      <scope>runtime</scope></dependency>\n"
	"  </dependencies>\n"
	"  <build><plugins><plugin>\n"
	"    <artifactId>maven-jar-plugin</artifactId>\n"
	"    <dependencies><dependency><groupId>p</groupId><artifactId>plugin-dep</artifactId>\n"
	"    </dependency></dependencies>\n"
	"  </plugin></plugins></build>\n"
	"</project>\n";

static void check_pom(struct store_metadata *m)
{
	assert_int_equal(m->format, CAFS_FORMAT_MAVEN);
	assert_str(m->namespace_, "com.example"); /* from <parent> */
	assert_str(m->name, "demo-lib");
	assert_str(m->version, "7"); /* from <parent> */
	assert_str(m->summary, "A demo library.");
	assert_str(m->home_page, "https://example.com/demo-lib");
	assert_str(m->source_code_repository, "https://github.com/example/demo-lib.git");
	assert_null(m->readme);
	assert_int_equal(m->n_licenses, 2);
	assert_str(m->licenses[0].name, "Apache-2.0");
	assert_str(m->licenses[0].url, "https://www.apache.org/licenses/LICENSE-2.0");
	assert_str(m->licenses[1].name, "MIT");
	assert_null(m->licenses[1].url);
	assert_int_equal(m->n_deps, 5);
	assert_dep(m, "org.slf4j", "slf4j-api", "compile", "2.0.9");
	assert_dep(m, "junit", "junit", "test", "4.13.2");
	assert_dep(m, "com.example", "demo-extra", "optional", "7");
	assert_dep(m, "com.example", "demo-core", "runtime", NULL);
	assert_dep(m, "com.example", "example-parent", "parent", "7");
	store_metadata_free(m);
}

static void test_pom(void **state)
{
	struct fixture *f = *state;
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};
	char path[256];
	FILE *fp;

	assert_int_equal(store_extract_mem(pom_xml, strlen(pom_xml), STORE_FILE_POM, &m, &e), 0);
	check_pom(m);
	assert_int_equal(store_extract_mem(pom_xml, strlen(pom_xml), STORE_FILE_UNKNOWN, &m, &e),
			 0);
	check_pom(m);
	(void)snprintf(path, sizeof(path), "%s/demo-lib-7.pom", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(pom_xml, fp) >= 0, 1);
	(void)fclose(fp);
	check_pom(extract_path(path, STORE_FILE_UNKNOWN));
	check_pom(extract_pipe(path, STORE_FILE_UNKNOWN));
}

/* Another encoding, a namespace prefix, scm/url over scm/connection, optional false. */
static void test_pom_variants(void **state)
{
	static const char latin1[] =
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
		"<pom:project xmlns:pom=\"http://maven.apache.org/POM/4.0.0\">\n"
		"<pom:groupId>org.caf\xe9</pom:groupId><pom:artifactId>a</pom:artifactId>\n"
		"<pom:version>1.0</pom:version><pom:name>Caf\xe9 lib</pom:name>\n"
		"<pom:scm><pom:connection>scm:svn:http://svn.example/x</pom:connection>\n"
		"<pom:url>https://web.example/x</pom:url></pom:scm>\n"
		"<pom:dependencies><pom:dependency><pom:groupId>g</pom:groupId>\n"
		"<pom:artifactId>d</pom:artifactId><pom:optional>false</pom:optional>\n"
		"<pom:scope>provided</pom:scope></pom:dependency></pom:dependencies>\n"
		"</pom:project>\n";
	static const char conn[] = "<project><groupId>g</groupId><artifactId>a</artifactId>"
				   "<version>2</version><scm><connection>scm:git:git@host:x/y.git"
				   "</connection></scm></project>";
	struct store_metadata *m = NULL;
	struct cafs_error e = {0};

	(void)state;
	assert_int_equal(store_extract_mem(latin1, strlen(latin1), STORE_FILE_UNKNOWN, &m, &e), 0);
	assert_str(m->namespace_, "org.caf\xc3\xa9"); /* converted to UTF-8 */
	assert_str(m->summary, "Caf\xc3\xa9 lib");
	assert_str(m->source_code_repository, "https://web.example/x");
	assert_int_equal(m->n_deps, 1);
	assert_dep(m, "g", "d", "provided", NULL);
	store_metadata_free(m);
	assert_int_equal(store_extract_mem(conn, strlen(conn), STORE_FILE_POM, &m, &e), 0);
	assert_str(m->source_code_repository, "git@host:x/y.git");
	assert_null(m->summary);
	assert_int_equal(m->n_deps, 0);
	store_metadata_free(m);
}

static void test_pom_invalid(void **state)
{
	static const char bomb[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE lolz [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		"]>\n"
		"<project><groupId>g</groupId><artifactId>a</artifactId>\n"
		"<version>&lol3;</version></project>\n";
	static const char no_version[] = "<project><groupId>g</groupId><artifactId>a</artifactId>"
					 "</project>";
	static const char no_group[] = "<project><artifactId>a</artifactId><version>1</version>"
				       "</project>";
	static const char two_versions[] = "<project><groupId>g</groupId><artifactId>a</artifactId>"
					   "<version>1</version><version>2</version></project>";
	static const char not_pom[] = "<settings><groupId>g</groupId></settings>";
	static const char broken[] = "<project><groupId>g</groupId><artifactId>a</project>";
	static const char dep_no_artifact[] =
		"<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version>"
		"<dependencies><dependency><groupId>x</groupId></dependency></dependencies>"
		"</project>";

	(void)state;
	expect_invalid_mem(bomb, strlen(bomb), STORE_FILE_POM, "DOCTYPE");
	expect_invalid_mem(bomb, strlen(bomb), STORE_FILE_UNKNOWN, "DOCTYPE");
	expect_invalid_mem(no_version, strlen(no_version), STORE_FILE_POM, "no version");
	expect_invalid_mem(no_group, strlen(no_group), STORE_FILE_POM, "no groupId");
	expect_invalid_mem(two_versions, strlen(two_versions), STORE_FILE_POM,
			   "two <project/version>");
	expect_invalid_mem(not_pom, strlen(not_pom), STORE_FILE_UNKNOWN, "not a Maven POM");
	expect_invalid_mem(broken, strlen(broken), STORE_FILE_POM, "invalid POM: mismatched tag");
	expect_invalid_mem(dep_no_artifact, strlen(dep_no_artifact), STORE_FILE_POM,
			   "no artifactId");
}

/* -- hostile files -------------------------------------------------------------------------- */

static void test_zip_bomb(void **state)
{
	/* an entry that declares 4 GiB: refused before a byte of it is inflated */
	expect_invalid(state, "bomb-1-py3-none-any.whl", STORE_FILE_WHEEL, "more than 2048 MiB");
	expect_invalid(state, "bomb-1-py3-none-any.whl", STORE_FILE_UNKNOWN, "more than 2048 MiB");
	/* a 50 MB METADATA that compresses to 50 KB */
	expect_invalid(state, "big-1-py3-none-any.whl", STORE_FILE_WHEEL, "larger than 8 MiB");
	/* a tar entry that declares 3 GiB */
	expect_invalid(state, "huge.tgz", STORE_FILE_NPM_TGZ, "more than 2048 MiB");
	expect_invalid(state, "bigreadme.tgz", STORE_FILE_NPM_TGZ, "larger than 4 MiB");
}

/* Raw ustar headers, built here: 100001 empty files is one too many. */
static void test_too_many_entries(void **state)
{
	size_t n = STORE_EXTRACT_MAX_ENTRIES + 1, len = (n + 2) * 512;
	unsigned char *tar = calloc(1, len);

	(void)state;
	assert_non_null(tar);
	for (size_t i = 0; i < n; i++) {
		unsigned char *h = tar + i * 512;
		unsigned sum = 0;

		(void)snprintf((char *)h, 100, "package/f%zu", i);
		memcpy(h + 100, "0000644", 8);
		memcpy(h + 108, "0000000", 8);
		memcpy(h + 116, "0000000", 8);
		memcpy(h + 124, "00000000000", 12);
		memcpy(h + 136, "00000000000", 12);
		h[156] = '0';
		memcpy(h + 257, "ustar", 6);
		memcpy(h + 263, "00", 2);
		memset(h + 148, ' ', 8);
		for (int k = 0; k < 512; k++)
			sum += h[k];
		(void)snprintf((char *)h + 148, 8, "%06o", sum);
	}
	expect_invalid_mem(tar, len, STORE_FILE_NPM_TGZ, "more than 100000 entries");
	expect_invalid_mem(tar, len, STORE_FILE_UNKNOWN, "more than 100000 entries");
	free(tar);
}

static void test_path_traversal(void **state)
{
	expect_invalid(state, "dotdot.tgz", STORE_FILE_NPM_TGZ, "'../evil' escapes its folder");
	expect_invalid(state, "dotdot2.tgz", STORE_FILE_UNKNOWN, "escapes its folder");
	expect_invalid(state, "abs-1-py3-none-any.whl", STORE_FILE_WHEEL,
		       "'/etc/evil' has an absolute path");
	expect_invalid(state, "bs-1-py3-none-any.whl", STORE_FILE_WHEEL, "escapes its folder");
}

static void test_truncated(void **state)
{
	expect_invalid(state, "truncated.tgz", STORE_FILE_NPM_TGZ, "invalid package archive");
	expect_invalid(state, "truncated.tgz", STORE_FILE_UNKNOWN, "invalid package archive");
}

static void test_links_not_followed(void **state)
{
	expect_invalid(state, "link-1-py3-none-any.whl", STORE_FILE_WHEEL, "not a regular file");
	expect_invalid(state, "symlink.tgz", STORE_FILE_NPM_TGZ, "not a regular file");
}

static void test_bad_metadata(void **state)
{
	expect_invalid(state, "notjson.tgz", STORE_FILE_NPM_TGZ, "is not valid JSON");
	expect_invalid(state, "nover.tgz", STORE_FILE_NPM_TGZ, "has no version field");
	expect_invalid(state, "nover-1-py3-none-any.whl", STORE_FILE_WHEEL, "has no Version field");
	expect_invalid(state, "latin-1-py3-none-any.whl", STORE_FILE_WHEEL, "not valid UTF-8");
	expect_invalid(state, "baddep-1-py3-none-any.whl", STORE_FILE_WHEEL,
		       "Requires-Dist '>=1' in 'baddep-1.dist-info/METADATA' does not start");
	expect_invalid(state, "two-1-py3-none-any.whl", STORE_FILE_WHEEL, "two .dist-info folders");
	/* an archive of the wrong kind */
	expect_invalid(state, "demo_sdist-2.0.zip", STORE_FILE_WHEEL, "no top-level .dist-info");
	expect_invalid(state, "scoped.tgz", STORE_FILE_WHEEL, "invalid package archive");
	expect_invalid(state, "demo-1.2.3-py3-none-any.whl", STORE_FILE_NPM_TGZ,
		       "invalid package archive");
}

static void test_empty_and_random(void **state)
{
	static const enum store_file_kind kinds[] = {
		STORE_FILE_UNKNOWN,   STORE_FILE_WHEEL,   STORE_FILE_SDIST_TGZ,
		STORE_FILE_SDIST_ZIP, STORE_FILE_NPM_TGZ, STORE_FILE_POM,
	};
	static const unsigned char gzip_head[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	unsigned char buf[65536];
	uint64_t x = 0x9e3779b97f4a7c15u;
	struct store_metadata *m = NULL;
	struct cafs_error e;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		buf[i] = (unsigned char)(x >> 56);
	}
	buf[0] = 'Z'; /* not '<': random bytes, not XML */
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		expect_invalid_mem("", 0, kinds[k], "empty");
		expect_invalid_mem(buf, sizeof(buf), kinds[k], "");
	}
	memcpy(buf, gzip_head, sizeof(gzip_head)); /* a gzip header, then garbage */
	expect_invalid_mem(buf, sizeof(buf), STORE_FILE_UNKNOWN, "invalid package archive");
	expect_invalid_mem(buf, sizeof(buf), STORE_FILE_NPM_TGZ, "invalid package archive");

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(store_extract_fd(fd, STORE_FILE_UNKNOWN, &m, &e), -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_non_null(strstr(e.msg, "empty"));
	(void)close(fd);
	assert_null(m);
}

static void test_detect(void **state)
{
	static const char zip_head[] = "PK\3\4....demo-1.0.dist-info/METADATA";
	size_t len;
	char *buf;

	assert_int_equal(store_extract_detect("x-1.0-py3-none-any.whl", NULL, 0), STORE_FILE_WHEEL);
	assert_int_equal(store_extract_detect("x-1.0.pom", NULL, 0), STORE_FILE_POM);
	assert_int_equal(store_extract_detect("x-1.0.tgz", NULL, 0), STORE_FILE_NPM_TGZ);
	assert_int_equal(store_extract_detect("x-1.0.tar.gz", NULL, 0), STORE_FILE_SDIST_TGZ);
	assert_int_equal(store_extract_detect("x-1.0.zip", NULL, 0), STORE_FILE_SDIST_ZIP);
	assert_int_equal(store_extract_detect("x-1.0.exe", NULL, 0), STORE_FILE_UNKNOWN);
	assert_int_equal(store_extract_detect(NULL, NULL, 0), STORE_FILE_UNKNOWN);
	assert_int_equal(store_extract_detect(NULL, pom_xml, 200), STORE_FILE_POM);
	assert_int_equal(store_extract_detect(NULL, zip_head, sizeof(zip_head)), STORE_FILE_WHEEL);
	assert_int_equal(store_extract_detect(NULL, "random", 6), STORE_FILE_UNKNOWN);

	buf = read_all(fixture_path(state, "scoped.tgz"), &len);
	assert_int_equal(store_extract_detect(NULL, buf, len), STORE_FILE_NPM_TGZ);
	assert_int_equal(store_extract_detect("scoped.tar.gz", buf, len > 4096 ? 4096 : len),
			 STORE_FILE_NPM_TGZ);
	assert_int_equal(store_extract_detect("x.tgz", buf, 12), STORE_FILE_NPM_TGZ);
	free(buf);
	buf = read_all(fixture_path(state, "demo_sdist-2.0.tar.gz"), &len);
	assert_int_equal(store_extract_detect("x.tgz", buf, len), STORE_FILE_SDIST_TGZ);
	free(buf);
	buf = read_all(fixture_path(state, "demo_sdist-2.0.zip"), &len);
	assert_int_equal(store_extract_detect(NULL, buf, len), STORE_FILE_SDIST_ZIP);
	free(buf);
}

/* -- real packages from Debian -------------------------------------------------------------- */

static void test_debian_wheels(void **state)
{
	glob_t g;
	bool pip = false;

	(void)state;
	if (glob("/usr/share/python-wheels/*.whl", 0, NULL, &g) != 0)
		skip(); /* python3-pip-whl / python3-setuptools-whl not installed */
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		const char *dash = strchr(base, '-'), *dash2 = dash ? strchr(dash + 1, '-') : NULL;
		char name[128], norm_file[128], norm_meta[128];
		struct store_metadata *m;

		assert_non_null(dash2);
		(void)snprintf(name, sizeof(name), "%.*s", (int)(dash - base), base);
		m = extract_path(g.gl_pathv[i], STORE_FILE_UNKNOWN);
		assert_int_equal(m->format, CAFS_FORMAT_PYPI);
		assert_int_equal(cafs_pypi_normalize(name, norm_file, sizeof(norm_file)), 0);
		assert_int_equal(cafs_pypi_normalize(m->name, norm_meta, sizeof(norm_meta)), 0);
		assert_string_equal(norm_meta, norm_file);
		assert_int_equal(strlen(m->version), (size_t)(dash2 - dash - 1));
		assert_memory_equal(m->version, dash + 1, strlen(m->version));
		assert_non_null(m->summary);
		assert_non_null(m->readme);
		assert_true(m->core_metadata_len > 0);
		assert_int_equal(strlen(m->core_metadata), m->core_metadata_len);
		if (!strcmp(m->name, "pip")) {
			pip = true;
			assert_non_null(m->requires_python);
		}
		store_metadata_free(m);
	}
	globfree(&g);
	if (!pip)
		print_message("# no pip wheel in /usr/share/python-wheels\n");
}

static void test_debian_pom(void **state)
{
	glob_t g;

	(void)state;
	if (glob("/usr/share/maven-repo/org/apache/commons/commons-lang3/*/commons-lang3-*.pom", 0,
		 NULL, &g) != 0)
		skip(); /* libcommons-lang3-java not installed */
	for (size_t i = 0; i < g.gl_pathc; i++) {
		/* .../org/apache/commons/commons-lang3/<version>/commons-lang3-<version>.pom */
		char *path = g.gl_pathv[i], *slash = strrchr(path, '/'), *vdir = slash - 1;
		struct store_metadata *m = extract_path(path, STORE_FILE_UNKNOWN);

		while (vdir[-1] != '/')
			vdir--;
		assert_int_equal(m->format, CAFS_FORMAT_MAVEN);
		assert_str(m->namespace_, "org.apache.commons");
		assert_str(m->name, "commons-lang3");
		assert_int_equal(strlen(m->version), (size_t)(slash - vdir));
		assert_memory_equal(m->version, vdir, strlen(m->version));
		store_metadata_free(m);
	}
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wheel),
		cmocka_unit_test(test_wheel_fd_offset),
		cmocka_unit_test(test_wheel_old_description),
		cmocka_unit_test(test_wheel_crlf),
		cmocka_unit_test(test_sdist),
		cmocka_unit_test(test_npm_scoped),
		cmocka_unit_test(test_npm_unscoped),
		cmocka_unit_test(test_pom),
		cmocka_unit_test(test_pom_variants),
		cmocka_unit_test(test_pom_invalid),
		cmocka_unit_test(test_zip_bomb),
		cmocka_unit_test(test_too_many_entries),
		cmocka_unit_test(test_path_traversal),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_links_not_followed),
		cmocka_unit_test(test_bad_metadata),
		cmocka_unit_test(test_empty_and_random),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_debian_wheels),
		cmocka_unit_test(test_debian_pom),
	};

	return cmocka_run_group_tests_name("store_extract", tests, group_setup, group_teardown);
}
