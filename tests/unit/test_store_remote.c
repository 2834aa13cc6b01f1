/* SPDX-License-Identifier: MIT */
/*
 * Parsers of external source listings (store/remote.h): PEP 503 HTML pages (relative, absolute
 * and <base href> links, entities, yanked files, odd attribute quoting, upper-case tags, hash
 * fragments, file names of other projects and hostile names), PEP 691 JSON, npm packuments
 * (SRI lists, shasum, times, dist-tags), maven-metadata.xml (SNAPSHOTs, coordinates, entity
 * bombs), checksum files, RFC 3986 reference resolution (the §5.4 examples), ISO 8601 times,
 * and generated pages at and past the size caps. Everything is in memory: no files, no network.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/common.h"
#include "store/remote.h"
#include "tests/unit/unit.h"

#define HEX64  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX128 HEX64 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define MD5    "0123456789abcdef0123456789abcdef"
#define SHA1   "6465666768696a6b6c6d6e6f7071727374757677"

static void assert_str(const char *got, const char *want)
{
	if (!want) {
		assert_null(got);
	} else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

/* @r is a ValidationException whose message contains @needle. */
static void assert_refused(int r, const struct cafs_error *e, const char *needle)
{
	assert_true(r < 0);
	assert_int_equal(e->kind, CAFS_VALIDATION);
	if (!strstr(e->msg, needle))
		fail_msg("message '%s' does not contain '%s'", e->msg, needle);
}

static const struct remote_file *file_named(const struct remote_listing *l, const char *name)
{
	for (size_t i = 0; i < l->n_files; i++)
		if (!strcmp(l->files[i].name, name))
			return &l->files[i];
	fail_msg("no file '%s' among %zu", name, l->n_files);
	return NULL;
}

static void assert_file(const struct remote_listing *l, const char *name, const char *version,
			const char *url, enum remote_hash hash, const char *hex, bool yanked)
{
	const struct remote_file *f = file_named(l, name);

	assert_str(f->version, version);
	assert_str(f->url, url);
	assert_int_equal(f->hash, hash);
	assert_string_equal(f->hash_hex, hex);
	assert_int_equal(f->yanked, yanked);
}

/* The listing's versions, comma-separated, with '!' after the yanked ones. */
static const char *versions_of(const struct remote_listing *l)
{
	static char buf[4096];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n_versions && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s%s", i ? "," : "",
				      l->versions[i].version, l->versions[i].yanked ? "!" : "");
	return buf;
}

static int html(const char *body, const char *project, struct remote_listing *l,
		struct cafs_error *e)
{
	return remote_parse_pypi_html(body, strlen(body), "https://pypi.example/simple/my-pkg/",
				      project, l, e);
}

static void test_hash_names(void **state)
{
	static const char *const names[] = {"md5", "sha1", "sha256", "sha512"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_int_equal(remote_hash_parse(names[i]), REMOTE_HASH_MD5 + (int)i);
		assert_string_equal(remote_hash_name(remote_hash_parse(names[i])), names[i]);
	}
	assert_int_equal(remote_hash_parse("SHA256"), REMOTE_HASH_NONE);
	assert_int_equal(remote_hash_parse("sha384"), REMOTE_HASH_NONE);
	assert_int_equal(remote_hash_parse(""), REMOTE_HASH_NONE);
	assert_string_equal(remote_hash_name(REMOTE_HASH_NONE), "");
}

static void test_html_page(void **state)
{
	static const char page[] =
		"<!DOCTYPE html>\n<html><head><title>Links for my-pkg</title></head><body>\n"
		"<h1>Links for my-pkg</h1>\n"
		"<a href=\"../../packages/my_pkg-1.0.tar.gz#sha256=" HEX64
		"\">my_pkg-1.0.tar.gz</a><br/>\n"
		"<a "
		"href=\"/packages/"
		"my_pkg-1.0-py3-none-any.whl#md5=0123456789ABCDEF0123456789abcdef\""
		" data-requires-python=\"&gt;=3.7\">my_pkg-1.0-py3-none-any.whl</a><br/>\n"
		"<A HREF='https://files.example/my-pkg-2.0-rc1.tar.gz#sha1=" SHA1 "' DATA-YANKED>"
		"my-pkg-2.0-rc1.tar.gz</A>\n"
		"<a data-yanked=\"broken build\" "
		"href=https://files.example/My.Pkg-3.0.zip#sha512=" HEX128
		">  My.Pkg-3.0.zip\n </a>\n"
		"<a href=\"other-1.0.tar.gz\">other-1.0.tar.gz</a>\n"
		"<a href=\"setup.exe\">my_pkg-1.0.win32.exe</a>\n"
		"<a href=\"e.egg\">my_pkg-1.0-py2.7.egg</a>\n"
		"<a href=\"bad.whl\">my_pkg-1.0.whl</a>\n"
		"<a href=\"empty.tar.gz\">my_pkg-.tar.gz</a>\n"
		"<a href=\"z.tar.gz#sha384=" HEX64
		"0001020304050607080910111213141516171819202122232425262"
		"72829303132\">my_pkg-4.0.tar.gz</a>\n"
		"<a href=\"b.tar.bz2#blake2b_256=" HEX64 "\">my_pkg-5.0.tar.bz2</a>\n"
		"<a href=\"s.tgz#sha256=abc\">my-pkg-6.0.tgz</a>\n"
		"<a href=\"q?a=1&amp;b=2#sha256=" HEX64
		"\">my.pkg-7.0-1-cp311-cp311-linux_x86_64.whl</a>\n"
		"</body></html>\n";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_int_equal(html(page, "my-pkg", &l, &e), 0);
	assert_string_equal(versions_of(&l), "1.0,2.0-rc1!,3.0!,4.0,5.0,6.0,7.0");
	assert_int_equal(l.n_files, 8);
	assert_int_equal(l.n_tags, 0);
	assert_file(&l, "my_pkg-1.0.tar.gz", "1.0",
		    "https://pypi.example/packages/my_pkg-1.0.tar.gz", REMOTE_HASH_SHA256, HEX64,
		    false);
	assert_file(&l, "my_pkg-1.0-py3-none-any.whl", "1.0",
		    "https://pypi.example/packages/my_pkg-1.0-py3-none-any.whl", REMOTE_HASH_MD5,
		    MD5, false);
	assert_str(file_named(&l, "my_pkg-1.0-py3-none-any.whl")->requires_python, ">=3.7");
	assert_str(file_named(&l, "my_pkg-1.0.tar.gz")->requires_python, NULL);
	assert_file(&l, "my-pkg-2.0-rc1.tar.gz", "2.0-rc1",
		    "https://files.example/my-pkg-2.0-rc1.tar.gz", REMOTE_HASH_SHA1, SHA1, true);
	assert_file(&l, "My.Pkg-3.0.zip", "3.0", "https://files.example/My.Pkg-3.0.zip",
		    REMOTE_HASH_SHA512, HEX128, true);
	assert_file(&l, "my_pkg-4.0.tar.gz", "4.0", "https://pypi.example/simple/my-pkg/z.tar.gz",
		    REMOTE_HASH_NONE, "", false);
	assert_file(&l, "my_pkg-5.0.tar.bz2", "5.0", "https://pypi.example/simple/my-pkg/b.tar.bz2",
		    REMOTE_HASH_NONE, "", false);
	assert_file(&l, "my-pkg-6.0.tgz", "6.0", "https://pypi.example/simple/my-pkg/s.tgz",
		    REMOTE_HASH_NONE, "", false);
	assert_file(&l, "my.pkg-7.0-1-cp311-cp311-linux_x86_64.whl", "7.0",
		    "https://pypi.example/simple/my-pkg/q?a=1&b=2", REMOTE_HASH_SHA256, HEX64,
		    false);
	for (size_t i = 0; i < l.n_files; i++)
		assert_int_equal(l.files[i].size, -1);
	for (size_t i = 0; i < l.n_versions; i++)
		assert_int_equal(l.versions[i].published_us, 0);
	remote_listing_free(&l);
	assert_null(l.files);
	assert_int_equal(l.n_versions, 0);
	remote_listing_free(&l); /* a zeroed listing is a no-op */
}

static void test_html_sdist_names(void **state)
{
	static const char page[] = "<a href=a>my_pkg-1.0.tar.gz</a>"
				   "<a href=b>my-pkg-2.0-rc1.tar.gz</a>"
				   "<a href=c>MY--PKG-3.0.post1.zip</a>"
				   "<a href=d>my-pkg-2.0-rc1-py3-none-any.whl</a>"
				   "<a href=e>my-pkg-2-py3-none-any.whl</a>";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_int_equal(html(page, "my-pkg", &l, &e), 0);
	/* the wheel splits on '-': "my" is not the project, so it is skipped */
	assert_string_equal(versions_of(&l), "1.0,2.0-rc1,3.0.post1");
	remote_listing_free(&l);
	/* a project whose name looks like a version: the longest matching prefix wins */
	assert_int_equal(
		html("<a href=x>foo-2-2.0.tar.gz</a><a href=y>foo-2.1.tar.gz</a>", "foo-2", &l, &e),
		0);
	assert_string_equal(versions_of(&l), "2.0");
	remote_listing_free(&l);
	/* a non-normalized project argument is normalized */
	assert_int_equal(html("<a href=x>Foo_Bar-1.0.tar.gz</a>", "Foo.Bar", &l, &e), 0);
	assert_string_equal(versions_of(&l), "1.0");
	remote_listing_free(&l);
}

static void test_html_base_href(void **state)
{
	static const char page[] =
		"<html><head><BASE target=_top><base HREF=\"/mirror/files/\">"
		"<base href=\"https://ignored.example/\"></head><body>"
		"<a href=\"a/my_pkg-1.0.tar.gz\">my_pkg-1.0.tar.gz</a>"
		"<a href=\"../up/my_pkg-2.0.tar.gz\">my_pkg-2.0.tar.gz</a>"
		"<a href=\"//cdn.example/x/my_pkg-3.0.tar.gz\">my_pkg-3.0.tar.gz</a>"
		"</body></html>";
	static const char late[] = "<a href=f.tar.gz>my_pkg-1.0.tar.gz</a>"
				   "<base href='https://late.example/d/'>";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_int_equal(html(page, "my-pkg", &l, &e), 0);
	assert_int_equal(l.n_files, 3);
	assert_str(l.files[0].url, "https://pypi.example/mirror/files/a/my_pkg-1.0.tar.gz");
	assert_str(l.files[1].url, "https://pypi.example/mirror/up/my_pkg-2.0.tar.gz");
	assert_str(l.files[2].url, "https://cdn.example/x/my_pkg-3.0.tar.gz");
	remote_listing_free(&l);
	/* <base> applies to the whole document, also to links before it */
	assert_int_equal(html(late, "my-pkg", &l, &e), 0);
	assert_str(l.files[0].url, "https://late.example/d/f.tar.gz");
	remote_listing_free(&l);
}

static void test_html_entities(void **state)
{
	static const char page[] =
		"<a href=\"my_pkg&#x2D;1.1.tar.gz?x=&quot;1&quot;&amp;y=&apos;2&#39;\""
		" data-requires-python='&lt;4,&gt;=3.8,!=3.9.&#42;'>my_pkg&#x2d;1.1.tar.gz</a>"
		"<a href=x data-requires-python=\"caf&#233;&#x20AC;&#x1F600;&#0;&bogus;&amp\">"
		"my&#95;pkg-1.2.tar.gz</a>"
		"<a href=y data-requires-python=\"\">my_pkg-1.3.tar.gz</a>"
		"<a href=z><span class=\"n\">my_pkg</span>-1.4.tar.gz</a>";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_int_equal(html(page, "my-pkg", &l, &e), 0);
	assert_string_equal(versions_of(&l), "1.1,1.2,1.3,1.4");
	assert_str(l.files[0].name, "my_pkg-1.1.tar.gz");
	assert_str(l.files[0].url,
		   "https://pypi.example/simple/my-pkg/my_pkg-1.1.tar.gz?x=\"1\"&y='2'");
	assert_str(l.files[0].requires_python, "<4,>=3.8,!=3.9.*");
	assert_str(l.files[1].name, "my_pkg-1.2.tar.gz");
	assert_str(l.files[1].requires_python,
		   "caf\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd&bogus;&amp");
	assert_str(l.files[2].requires_python, NULL); /* empty means none */
	assert_str(l.files[3].name, "my_pkg-1.4.tar.gz");
	remote_listing_free(&l);
}

static void test_html_markup(void **state)
{
	static const char page[] =
		"<!-- a > b <a href=c>my_pkg-9.0.tar.gz</a> -->"
		"<script>var s = '<a href=s>my_pkg-8.0.tar.gz</a>';</script>"
		"<style>a::before{content:'<a href=t>my_pkg-7.0.tar.gz</a>'}</style>"
		"<abbr>x</abbr><ab href=q>my_pkg-6.1.tar.gz</ab>"
		"<p>1 < 2 <a href=lt>my_pkg-0.5.tar.gz</a> &amp; 3 > 2</p>"
		"<a\nhref\n=\n\"one\"\n>my_pkg-1.0.tar.gz</a > (12 kB)<br>"
		"<a href=two>my_pkg-2.0.tar.gz<a href=three>my_pkg-3.0.tar.gz</a>"
		"<a/href=six/>my_pkg-6.0.tar.gz</a>"
		"<a name=anchor-only>my_pkg-4.0.tar.gz</a>"
		"<a href=\"\">my_pkg-4.1.tar.gz</a>"
		"<a href=five href=ignored>my_pkg-5.0.tar.gz";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_int_equal(html(page, "my-pkg", &l, &e), 0);
	assert_string_equal(versions_of(&l), "0.5,1.0,2.0,3.0,6.0,5.0");
	assert_str(l.files[1].url, "https://pypi.example/simple/my-pkg/one");
	assert_str(l.files[2].url, "https://pypi.example/simple/my-pkg/two");
	assert_str(l.files[4].url,
		   "https://pypi.example/simple/my-pkg/six/"); /* unquoted: '/' kept */
	assert_str(l.files[5].url, "https://pypi.example/simple/my-pkg/five");
	remote_listing_free(&l);
}

static void test_html_hygiene(void **state)
{
	char page[2048], long_name[300];
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	memset(long_name, 'a', 280);
	memcpy(long_name, "my_pkg-", 7);
	memcpy(long_name + 280 - 7, ".tar.gz", 8);
	(void)snprintf(page, sizeof(page),
		       "<a href=a>..</a><a href=b>.</a><a href=c>my_pkg-1.0/x.tar.gz</a>"
		       "<a href=d>my_pkg-1.0\\x.tar.gz</a><a href=e>my_pkg-1.0&#10;.tar.gz</a>"
		       "<a href=f>my_pkg-\x01.tar.gz</a><a href=g>%s</a><a href=h></a>"
		       "<a href=i>my_pkg-..tar.gz</a><a href=j>my_pkg-1.0\xff.tar.gz</a>"
		       "<a href=\"file:///etc/passwd\">my_pkg-2.0.tar.gz</a>"
		       "<a href=\"javascript:alert(1)\">my_pkg-2.1.tar.gz</a>"
		       "<a href=\"ftp://x/y\">my_pkg-2.2.tar.gz</a>"
		       "<a href=\"k&#10;l\">my_pkg-2.3.tar.gz</a>"
		       "<a href=ok>my_pkg-3.0.tar.gz</a><a href=dup>my_pkg-3.0.tar.gz</a>",
		       long_name);
	assert_int_equal(html(page, "my-pkg", &l, &e), 0);
	assert_string_equal(versions_of(&l), "3.0");
	assert_int_equal(l.n_files, 1);
	assert_str(l.files[0].url, "https://pypi.example/simple/my-pkg/ok"); /* the first one */
	remote_listing_free(&l);

	/* a file page may point at files (a local mirror) */
	(void)snprintf(page, sizeof(page),
		       "<a href='../../files/my_pkg-1.0.tar.gz'>my_pkg-1.0.tar.gz</a>");
	assert_int_equal(remote_parse_pypi_html(page, strlen(page), "file:///srv/simple/my-pkg/",
						"my-pkg", &l, &e),
			 0);
	assert_int_equal(l.n_files, 1);
	assert_str(l.files[0].url, "file:///srv/files/my_pkg-1.0.tar.gz");
	remote_listing_free(&l);
}

static void test_html_refused(void **state)
{
	static const char nul[] = "<a href=x>my_pkg-1.0.tar.gz</a>"; /* its NUL counts too */
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_refused(html("{\"broken", "my-pkg", &l, &e), &e,
		       "not a PEP 503 page: no HTML markup");
	assert_refused(html("", "my-pkg", &l, &e), &e, "not a PEP 503 page");
	assert_refused(html("my_pkg-1.0.tar.gz 1 < 2", "my-pkg", &l, &e), &e, "no HTML markup");
	assert_refused(
		remote_parse_pypi_html(nul, sizeof(nul), "https://p.example/", "my-pkg", &l, &e),
		&e, "NUL byte at offset 31");
	assert_refused(remote_parse_pypi_html("<html>", REMOTE_BODY_MAX + 1u, "https://p.example/",
					      "my-pkg", &l, &e),
		       &e, "more than 64 MiB");
	assert_null(l.versions);
	/* valid pages without files are an empty listing */
	assert_int_equal(
		html("<!DOCTYPE html><html><body><h1>Links</h1></body></html>", "my-pkg", &l, &e),
		0);
	assert_int_equal(l.n_versions, 0);
	assert_int_equal(l.n_files, 0);
	remote_listing_free(&l);
}

static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_html_stress(void **state)
{
	const size_t n = 1000;
	char *page = malloc(n * 200 + 64), *p = page;
	struct remote_listing l = {0};
	struct cafs_error e = {0};
	double t0;

	assert_non_null(page);
	p += sprintf(p, "<html><body>\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(
			p,
			"<a href=\"../../packages/%02zx/my_pkg-1.%zu.tar.gz#sha256=" HEX64
			"\" data-requires-python=\"&gt;=3.%zu\">my_pkg-1.%zu.tar.gz</a><br/>\n",
			i % 256, i, i % 13, i);
	t0 = now_s();
	assert_int_equal(html(page, "my-pkg", &l, &e), 0);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(l.n_files, n);
	assert_int_equal(l.n_versions, n);
	assert_str(l.versions[999].version, "1.999");
	assert_str(l.files[500].url, "https://pypi.example/packages/f4/my_pkg-1.500.tar.gz");
	assert_str(l.files[500].requires_python, ">=3.6");
	remote_listing_free(&l);
	free(page);

	/* more links than REMOTE_ITEMS_MAX */
	page = malloc((size_t)(REMOTE_ITEMS_MAX + 1) * 16 + 1);
	assert_non_null(page);
	p = page;
	for (size_t i = 0; i <= REMOTE_ITEMS_MAX; i++)
		p = memcpy(p, "<a href=x>y</a>\n", 16), p += 16;
	*p = '\0';
	assert_refused(html(page, "my-pkg", &l, &e), &e, "more than 200000");
	free(page);
}

static int pep691(const char *body, struct remote_listing *l, struct cafs_error *e)
{
	return remote_parse_pypi_json(body, strlen(body), "https://pypi.example/simple/my-pkg/",
				      "my-pkg", l, e);
}

static void test_pep691(void **state)
{
	static const char doc[] =
		"{\"meta\": {\"api-version\": \"1.1\"}, \"name\": \"My.Pkg\", \"files\": ["
		"{\"filename\": \"my_pkg-1.0.tar.gz\", \"url\": \"../../f/my_pkg-1.0.tar.gz\","
		" \"hashes\": {\"md5\": \"" MD5 "\", \"sha256\": \"" HEX64 "\"},"
		" \"requires-python\": \">=3.8\", \"size\": 1234,"
		" \"upload-time\": \"2021-02-20T15:42:16.891Z\"},"
		"{\"filename\": \"my_pkg-1.0-py3-none-any.whl\", \"url\": "
		"\"https://f.example/w.whl\","
		" \"hashes\": {\"md5\": \"" MD5 "\", \"blake2b_256\": \"" HEX64 "\"},"
		" \"yanked\": false, \"upload-time\": \"2010-01-01T00:00:00Z\"},"
		"{\"filename\": \"my_pkg-2.0.tar.gz\", \"url\": \"/f/2.tar.gz\", \"hashes\": {},"
		" \"yanked\": \"security issue\", \"size\": -5, \"upload-time\": \"garbage\"},"
		"{\"filename\": \"my_pkg-3.0.tar.gz\", \"url\": \"3.tar.gz\", \"yanked\": true,"
		" \"hashes\": {\"sha512\": \"" HEX128
		"\", \"sha256\": \"nothex\"}, \"size\": \"12\"},"
		"{\"filename\": \"my_pkg-3.0-py3-none-any.whl\", \"url\": \"3.whl\", \"hashes\": "
		"{},"
		" \"yanked\": false},"
		"{\"filename\": \"my_pkg-4.0.tar.gz\", \"url\": \"4.tar.gz\", \"hashes\": "
		"{\"sha256\":"
		" \"" HEX64 "\", \"sha1\": \"" SHA1 "\"}},"
		"{\"filename\": \"other-1.0.tar.gz\", \"url\": \"o.tar.gz\", \"hashes\": {}},"
		"{\"filename\": \"../my_pkg-5.0.tar.gz\", \"url\": \"5.tar.gz\", \"hashes\": {}},"
		"{\"url\": \"no-name.tar.gz\", \"hashes\": {}}, 17, null],"
		"\"versions\": [\"3.0\", \"9.9\", \"1.0\", \"2.0\", 5]}";
	struct remote_listing l = {0};
	struct cafs_error e = {0};
	const struct remote_file *f;

	assert_int_equal(pep691(doc, &l, &e), 0);
	assert_string_equal(versions_of(&l), "3.0,1.0,2.0!,4.0");
	assert_int_equal(l.n_files, 6);
	f = file_named(&l, "my_pkg-1.0.tar.gz");
	assert_str(f->url, "https://pypi.example/f/my_pkg-1.0.tar.gz");
	assert_int_equal(f->hash, REMOTE_HASH_SHA256);
	assert_string_equal(f->hash_hex, HEX64);
	assert_str(f->requires_python, ">=3.8");
	assert_int_equal(f->size, 1234);
	assert_false(f->yanked);
	f = file_named(&l, "my_pkg-1.0-py3-none-any.whl");
	assert_int_equal(f->hash, REMOTE_HASH_MD5);
	assert_int_equal(f->size, -1);
	f = file_named(&l, "my_pkg-2.0.tar.gz");
	assert_str(f->url, "https://pypi.example/f/2.tar.gz");
	assert_int_equal(f->hash, REMOTE_HASH_NONE);
	assert_true(f->yanked);
	assert_int_equal(f->size, -1);
	f = file_named(&l, "my_pkg-3.0.tar.gz");
	assert_int_equal(f->hash, REMOTE_HASH_SHA512);
	assert_true(f->yanked);
	assert_int_equal(f->size, -1);
	assert_false(file_named(&l, "my_pkg-3.0-py3-none-any.whl")->yanked);
	assert_int_equal(file_named(&l, "my_pkg-4.0.tar.gz")->hash, REMOTE_HASH_SHA256);
	/* published: the earliest upload of the version's files */
	assert_int_equal(l.versions[1].published_us, INT64_C(1262304000000000));
	assert_int_equal(l.versions[0].published_us, 0);
	assert_int_equal(l.versions[2].published_us, 0);
	assert_false(l.versions[0].yanked); /* one of 3.0's files is not yanked */
	remote_listing_free(&l);

	/* without "versions", the order of appearance */
	assert_int_equal(pep691("{\"name\": \"my-pkg\", \"files\": ["
				"{\"filename\": \"my_pkg-2.0.tar.gz\", \"url\": \"a\"},"
				"{\"filename\": \"my_pkg-1.0.tar.gz\", \"url\": \"b\","
				" \"upload-time\": \"2021-02-20T15:42:16.891+00:00\"}]}",
				&l, &e),
			 0);
	assert_string_equal(versions_of(&l), "2.0,1.0");
	assert_int_equal(l.versions[1].published_us, INT64_C(1613835736891000));
	remote_listing_free(&l);
	assert_int_equal(pep691("{\"meta\": {\"api-version\": \"1.0\"}, \"name\": \"my-pkg\","
				" \"files\": []}",
				&l, &e),
			 0);
	assert_int_equal(l.n_versions, 0);
	remote_listing_free(&l);
}

static void test_pep691_refused(void **state)
{
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_refused(pep691("{\"name\": \"other\", \"files\": []}", &l, &e), &e,
		       "names 'other', expected 'my-pkg'");
	assert_refused(pep691("{\"name\": \"my-pkg\"}", &l, &e), &e, "has no \"files\" array");
	assert_refused(pep691("{\"name\": \"my-pkg\", \"files\": {}}", &l, &e), &e,
		       "has no \"files\" array");
	assert_refused(pep691("{\"meta\": {\"api-version\": \"2.0\"}, \"files\": []}", &l, &e), &e,
		       "api-version '2.0'");
	assert_refused(pep691("<html><a href=x>my_pkg-1.0.tar.gz</a></html>", &l, &e), &e,
		       "not valid JSON");
	assert_refused(pep691("[1, 2]", &l, &e), &e, "is not a JSON object");
	assert_refused(pep691("", &l, &e), &e, "not valid JSON");
	assert_null(l.versions);
}

static int packument(const char *body, const char *name, struct remote_listing *l,
		     struct cafs_error *e)
{
	return remote_parse_packument(body, strlen(body), "https://registry.example/@scope%2fpkg",
				      name, l, e);
}

static void test_packument(void **state)
{
	static const char doc[] =
		"{\"_id\": \"@scope/pkg\", \"name\": \"@scope/pkg\","
		" \"dist-tags\": {\"latest\": \"1.1.0\", \"next\": \"2.0.0-beta.1\","
		"  \"gone\": \"3.0.0\", \"bogus\": \"9.9.9\", \"bad/tag\": \"1.0.0\", \"num\": 1},"
		" \"versions\": {"
		"  \"1.0.0\": {\"dist\": {\"tarball\": \"https://registry.example/@scope/pkg/-/"
		"pkg-1.0.0.tgz\", \"shasum\": \"" SHA1
		"\", \"integrity\": \"sha1-ZGVmZ2hpamtsbW5vcHFy"
		"c3R1dnc= "
		"sha512-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1"
		"Njc4OTo7PD0+Pw==\", \"unpackedSize\": 999}},"
		"  \"1.1.0\": {\"dist\": {\"tarball\": \"https://registry.example/p-1.1.0.tgz\","
		"   \"shasum\": \"6465666768696A6B6C6D6E6F7071727374757677\"}},"
		"  \"2.0.0-beta.1\": {\"dist\": {\"tarball\": "
		"\"/@scope/pkg/-/pkg-2.0.0-beta.1.tgz\","
		"   \"integrity\": \"sha256-yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc=?foo "
		"sha1-ZGVmZ2hpamtsbW5vcHFyc3R1dnc= sha384-AAAA sha512-notbase64!!\"}},"
		"  \"3.0.0\": {\"dist\": {\"shasum\": \"" SHA1 "\"}},"
		"  \"0.9.0\": {\"dist\": {\"tarball\": \"https://registry.example/p-0.9.0.tgz\","
		"   \"integrity\": \"sha512-AAEC\", \"shasum\": \"short\"}},"
		"  \"../x\": {\"dist\": {\"tarball\": \"https://registry.example/x.tgz\"}},"
		"  \"0.8.0\": {\"dist\": {\"tarball\": \"file:///etc/passwd\"}}"
		" },"
		" \"time\": {\"created\": \"2019-01-01T00:00:00.000Z\","
		"  \"1.0.0\": \"2020-02-29T23:59:59.123456Z\", \"1.1.0\": \"not a time\","
		"  \"2.0.0-beta.1\": \"2038-01-19T03:14:08Z\"}}";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_int_equal(packument(doc, "@scope/pkg", &l, &e), 0);
	assert_string_equal(versions_of(&l), "1.0.0,1.1.0,2.0.0-beta.1,0.9.0");
	assert_int_equal(l.n_files, 4);
	for (size_t i = 0; i < l.n_files; i++) {
		assert_str(l.files[i].name, "package.tgz");
		assert_str(l.files[i].version, l.versions[i].version);
		assert_int_equal(l.files[i].size, -1);
		assert_false(l.files[i].yanked);
		assert_null(l.files[i].requires_python);
	}
	assert_str(l.files[0].url, "https://registry.example/@scope/pkg/-/pkg-1.0.0.tgz");
	assert_int_equal(l.files[0].hash, REMOTE_HASH_SHA512);
	assert_string_equal(l.files[0].hash_hex, HEX128);
	assert_int_equal(l.files[1].hash, REMOTE_HASH_SHA1);
	assert_string_equal(l.files[1].hash_hex, SHA1);
	assert_str(l.files[2].url, "https://registry.example/@scope/pkg/-/pkg-2.0.0-beta.1.tgz");
	assert_int_equal(l.files[2].hash, REMOTE_HASH_SHA256);
	assert_string_equal(l.files[2].hash_hex,
			    "c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7");
	assert_int_equal(l.files[3].hash, REMOTE_HASH_NONE); /* wrong length, bad shasum */
	assert_string_equal(l.files[3].hash_hex, "");
	assert_int_equal(l.versions[0].published_us, INT64_C(1583020799123456));
	assert_int_equal(l.versions[1].published_us, 0);
	assert_int_equal(l.versions[2].published_us, INT64_C(2147483648000000));
	assert_int_equal(l.n_tags, 2);
	assert_str(l.tags[0].tag, "latest");
	assert_str(l.tags[0].version, "1.1.0");
	assert_str(l.tags[1].tag, "next");
	assert_str(l.tags[1].version, "2.0.0-beta.1");
	remote_listing_free(&l);
	assert_null(l.tags);

	assert_int_equal(packument("{\"name\": \"lodash\", \"versions\": {}}", "lodash", &l, &e),
			 0);
	assert_int_equal(l.n_versions, 0);
	remote_listing_free(&l);
}

static void test_packument_refused(void **state)
{
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_refused(packument("{\"name\": \"other\", \"versions\": {}}", "@scope/pkg", &l, &e),
		       &e, "packument names 'other', expected '@scope/pkg'");
	assert_refused(packument("{\"name\": \"@scope/pkg\"}", "@scope/pkg", &l, &e), &e,
		       "has no \"versions\" object");
	assert_refused(
		packument("{\"name\": \"@scope/pkg\", \"versions\": []}", "@scope/pkg", &l, &e), &e,
		"has no \"versions\" object");
	assert_refused(packument("{\"versions\": {}}", "@scope/pkg", &l, &e), &e, "has no name");
	assert_refused(
		packument("{\"name\": \"@scope/pkg\", \"versions\": {", "@scope/pkg", &l, &e), &e,
		"packument of '@scope/pkg' is not valid JSON");
	assert_refused(packument("[]", "@scope/pkg", &l, &e), &e, "not a JSON object");
	assert_null(l.versions);
}

/* A packument of @n versions, each with a tarball. */
static char *big_packument(size_t n)
{
	char *doc = malloc(n * 80 + 64), *p = doc;

	if (!doc)
		return NULL;
	p += sprintf(p, "{\"name\": \"big\", \"versions\": {");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s\"1.0.%zu\":{\"dist\":{\"tarball\":\"/big/-/big-1.0.%zu.tgz\"}}",
			     i ? "," : "", i, i);
	p += sprintf(p, "}, \"dist-tags\": {\"latest\": \"1.0.%zu\"}}", n - 1);
	return doc;
}

static void test_packument_stress(void **state)
{
	struct remote_listing l = {0};
	struct cafs_error e = {0};
	char *doc = big_packument(REMOTE_ITEMS_MAX + 1);

	assert_non_null(doc);
	assert_refused(packument(doc, "big", &l, &e), &e, "more than 200000 versions");
	free(doc);
	doc = big_packument(REMOTE_ITEMS_MAX);
	assert_non_null(doc);
	assert_int_equal(packument(doc, "big", &l, &e), 0);
	assert_int_equal(l.n_versions, REMOTE_ITEMS_MAX);
	assert_str(l.files[REMOTE_ITEMS_MAX - 1].url,
		   "https://registry.example/big/-/big-1.0.199999.tgz");
	assert_str(l.tags[0].version, "1.0.199999");
	remote_listing_free(&l);
	free(doc);
}

static int maven(const char *body, const char *g, const char *a, struct remote_listing *l,
		 struct cafs_error *e)
{
	return remote_parse_maven_metadata(body, strlen(body), g, a, l, e);
}

static void test_maven_metadata(void **state)
{
	static const char doc[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				  "<metadata modelVersion=\"1.1.0\">\n"
				  "  <groupId> org.example </groupId>\n"
				  "  <artifactId>demo</artifactId>\n"
				  "  <version>1.0</version>\n" /* not under versioning/versions */
				  "  <versioning>\n"
				  "    <latest>2.1-SNAPSHOT</latest>\n"
				  "    <release>2.0</release>\n"
				  "    <versions>\n"
				  "      <version>1.0</version>\n"
				  "      <version>\n 1.1 \n</version>\n"
				  "      <version>2.0-SNAPSHOT</version>\n"
				  "      <version>2.0</version>\n"
				  "      <version>1.1</version>\n"
				  "      <version></version>\n"
				  "      <version>../x</version>\n"
				  "      <version>2.1-SNAPSHOT</version>\n"
				  "      <version>3.0&amp;b</version>\n"
				  "    </versions>\n"
				  "    <lastUpdated>20240101000000</lastUpdated>\n"
				  "  </versioning>\n"
				  "</metadata>\n";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_int_equal(maven(doc, "org.example", "demo", &l, &e), 0);
	assert_string_equal(versions_of(&l), "1.0,1.1,2.0,3.0&b");
	assert_int_equal(l.n_files, 0);
	assert_int_equal(l.n_tags, 0);
	remote_listing_free(&l);
	assert_int_equal(maven("<metadata><versioning><versions><version>1</version></versions>"
			       "</versioning></metadata>",
			       "org.example", "demo", &l, &e),
			 0);
	assert_string_equal(versions_of(&l), "1");
	remote_listing_free(&l);
	assert_int_equal(maven("<metadata><groupId>g</groupId></metadata>", NULL, NULL, &l, &e), 0);
	assert_int_equal(l.n_versions, 0);
	remote_listing_free(&l);
}

static void test_maven_refused(void **state)
{
	static const char bomb[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE lolz [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		"]>\n"
		"<metadata><versioning><versions><version>&lol3;</version>"
		"</versions></versioning></metadata>\n";
	static const char xxe[] = "<?xml version=\"1.0\"?>\n"
				  "<!DOCTYPE m [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
				  "<metadata><groupId>&x;</groupId></metadata>";
	struct remote_listing l = {0};
	struct cafs_error e = {0};

	assert_refused(maven("<metadata><groupId>org.other</groupId></metadata>", "org.example",
			     "demo", &l, &e),
		       &e, "groupId 'org.other', expected 'org.example'");
	assert_refused(maven("<metadata><groupId>org.example</groupId><artifactId>x</artifactId>"
			     "</metadata>",
			     "org.example", "demo", &l, &e),
		       &e, "artifactId 'x', expected 'demo'");
	assert_refused(maven(bomb, "g", "a", &l, &e), &e, "DOCTYPE");
	assert_refused(maven(xxe, "g", "a", &l, &e), &e, "DOCTYPE");
	assert_refused(maven("<metadata>\n<versioning>\n<versions><version>1</versions>\n", "g",
			     "a", &l, &e),
		       &e, "maven-metadata.xml: not well-formed at line 3: ");
	assert_refused(maven("<html><body>Not Found</body></html>", "g", "a", &l, &e), &e,
		       "root element is <html>");
	assert_refused(maven("", "g", "a", &l, &e), &e, "maven-metadata.xml: not well-formed");
	assert_refused(maven("{\"versions\": []}", "g", "a", &l, &e), &e,
		       "not well-formed at line 1");
	assert_null(l.versions);
}

static void test_checksum_file(void **state)
{
	char hex[129];

	assert_int_equal(
		remote_parse_checksum_file(SHA1 "  demo-1.0.jar\n", 55, REMOTE_HASH_SHA1, hex), 0);
	assert_string_equal(hex, SHA1);
	assert_int_equal(
		remote_parse_checksum_file("\n \t6465666768696A6B6C6D6E6F7071727374757677\r\n", 45,
					   REMOTE_HASH_SHA1, hex),
		0);
	assert_string_equal(hex, SHA1);
	assert_int_equal(remote_parse_checksum_file(MD5, 32, REMOTE_HASH_MD5, hex), 0);
	assert_string_equal(hex, MD5);
	assert_int_equal(remote_parse_checksum_file(HEX64, 64, REMOTE_HASH_SHA256, hex), 0);
	assert_string_equal(hex, HEX64);
	assert_int_equal(remote_parse_checksum_file(HEX128 " x", 130, REMOTE_HASH_SHA512, hex), 0);
	assert_string_equal(hex, HEX128);
	/* the length must be the algorithm's */
	assert_int_equal(remote_parse_checksum_file(SHA1, 40, REMOTE_HASH_MD5, hex), -EINVAL);
	assert_int_equal(remote_parse_checksum_file(MD5, 32, REMOTE_HASH_SHA1, hex), -EINVAL);
	assert_int_equal(remote_parse_checksum_file(SHA1 "0", 41, REMOTE_HASH_SHA1, hex), -EINVAL);
	assert_int_equal(
		remote_parse_checksum_file("abc123  demo.jar " SHA1, 57, REMOTE_HASH_SHA1, hex),
		-EINVAL);
	assert_int_equal(remote_parse_checksum_file("g465666768696a6b6c6d6e6f7071727374757677", 40,
						    REMOTE_HASH_SHA1, hex),
			 -EINVAL);
	assert_int_equal(remote_parse_checksum_file("", 0, REMOTE_HASH_SHA1, hex), -EINVAL);
	assert_int_equal(remote_parse_checksum_file(" \n", 2, REMOTE_HASH_SHA1, hex), -EINVAL);
	assert_int_equal(remote_parse_checksum_file(MD5, 32, REMOTE_HASH_NONE, hex), -EINVAL);
	/* only @len bytes count */
	assert_int_equal(remote_parse_checksum_file(SHA1, 39, REMOTE_HASH_SHA1, hex), -EINVAL);
}

static void test_url_resolve(void **state)
{
	static const struct {
		const char *base, *ref, *want;
	} cases[] = {
		/* RFC 3986 §5.4.1, normal examples */
		{"http://a/b/c/d;p?q", "g:h", "g:h"},
		{"http://a/b/c/d;p?q", "g", "http://a/b/c/g"},
		{"http://a/b/c/d;p?q", "./g", "http://a/b/c/g"},
		{"http://a/b/c/d;p?q", "g/", "http://a/b/c/g/"},
		{"http://a/b/c/d;p?q", "/g", "http://a/g"},
		{"http://a/b/c/d;p?q", "//g", "http://g"},
		{"http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y"},
		{"http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y"},
		{"http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s"},
		{"http://a/b/c/d;p?q", "g#s", "http://a/b/c/g#s"},
		{"http://a/b/c/d;p?q", "g?y#s", "http://a/b/c/g?y#s"},
		{"http://a/b/c/d;p?q", ";x", "http://a/b/c/;x"},
		{"http://a/b/c/d;p?q", "g;x", "http://a/b/c/g;x"},
		{"http://a/b/c/d;p?q", "g;x?y#s", "http://a/b/c/g;x?y#s"},
		{"http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q"},
		{"http://a/b/c/d;p?q", ".", "http://a/b/c/"},
		{"http://a/b/c/d;p?q", "./", "http://a/b/c/"},
		{"http://a/b/c/d;p?q", "..", "http://a/b/"},
		{"http://a/b/c/d;p?q", "../", "http://a/b/"},
		{"http://a/b/c/d;p?q", "../g", "http://a/b/g"},
		{"http://a/b/c/d;p?q", "../..", "http://a/"},
		{"http://a/b/c/d;p?q", "../../", "http://a/"},
		{"http://a/b/c/d;p?q", "../../g", "http://a/g"},
		/* §5.4.2, abnormal examples */
		{"http://a/b/c/d;p?q", "../../../g", "http://a/g"},
		{"http://a/b/c/d;p?q", "../../../../g", "http://a/g"},
		{"http://a/b/c/d;p?q", "/./g", "http://a/g"},
		{"http://a/b/c/d;p?q", "/../g", "http://a/g"},
		{"http://a/b/c/d;p?q", "g.", "http://a/b/c/g."},
		{"http://a/b/c/d;p?q", ".g", "http://a/b/c/.g"},
		{"http://a/b/c/d;p?q", "g..", "http://a/b/c/g.."},
		{"http://a/b/c/d;p?q", "..g", "http://a/b/c/..g"},
		{"http://a/b/c/d;p?q", "./../g", "http://a/b/g"},
		{"http://a/b/c/d;p?q", "./g/.", "http://a/b/c/g/"},
		{"http://a/b/c/d;p?q", "g/./h", "http://a/b/c/g/h"},
		{"http://a/b/c/d;p?q", "g/../h", "http://a/b/c/h"},
		{"http://a/b/c/d;p?q", "g;x=1/./y", "http://a/b/c/g;x=1/y"},
		{"http://a/b/c/d;p?q", "g;x=1/../y", "http://a/b/c/y"},
		{"http://a/b/c/d;p?q", "g?y/./x", "http://a/b/c/g?y/./x"},
		{"http://a/b/c/d;p?q", "g#s/../x", "http://a/b/c/g#s/../x"},
		{"http://a/b/c/d;p?q", "http:g", "http:g"},
		/* the bases cafs meets */
		{"https://pypi.org/simple/requests/", "../../packages/ab/cd/r-1.0.tar.gz#sha256=00",
		 "https://pypi.org/packages/ab/cd/r-1.0.tar.gz#sha256=00"},
		{"https://pypi.org/simple/requests/", "/packages/x.whl",
		 "https://pypi.org/packages/x.whl"},
		{"https://pypi.org/simple/requests/", "//files.example/x.whl",
		 "https://files.example/x.whl"},
		{"https://pypi.org/simple/requests/", "HTTPS://Other.example/a",
		 "HTTPS://Other.example/a"},
		{"https://pypi.org", "x", "https://pypi.org/x"},
		{"https://pypi.org", "?q=1", "https://pypi.org?q=1"},
		{"https://u:p@host:8443/a/b?x#frag", "c", "https://u:p@host:8443/a/c"},
		{"https://host/a/b?x#frag", "#f2", "https://host/a/b?x#f2"},
		{"https://registry.npmjs.org/@types%2fnode", "/@types/node/-/node-1.0.0.tgz",
		 "https://registry.npmjs.org/@types/node/-/node-1.0.0.tgz"},
		{"file:///srv/simple/demo/", "../../files/demo-1.0.tar.gz",
		 "file:///srv/files/demo-1.0.tar.gz"},
		{"file:///srv/simple/demo/index.html", "demo-1.0.tar.gz",
		 "file:///srv/simple/demo/demo-1.0.tar.gz"},
		{"file:///srv/simple/demo/", "/other/x.tgz", "file:///other/x.tgz"},
		{"file:///srv/simple/demo/", "../../../../../../x", "file:///x"},
		{"file:///a/b", "", "file:///a/b"},
	};
	char buf[512];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = remote_url_resolve(cases[i].base, cases[i].ref, buf, sizeof(buf));

		if (r != 0 || strcmp(buf, cases[i].want) != 0)
			fail_msg("'%s' against '%s': %d '%s', expected '%s'", cases[i].ref,
				 cases[i].base, r, r ? "" : buf, cases[i].want);
	}
	assert_int_equal(remote_url_resolve("/relative/base", "x", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(remote_url_resolve("https://a/", "x\ny", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(remote_url_resolve("https://a/", "x y", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(remote_url_resolve("https://a/b/", "c", buf, 13), -ENAMETOOLONG);
	assert_int_equal(remote_url_resolve("https://a/b/", "c", buf, 14), 0);
	assert_string_equal(buf, "https://a/b/c");
	assert_int_equal(remote_url_resolve("https://a/b/", "https://x/y", buf, 11), -ENAMETOOLONG);
	assert_int_equal(remote_url_resolve("https://a/b/", "c?q", buf, 14), -ENAMETOOLONG);
}

static void test_time(void **state)
{
	static const struct {
		const char *iso;
		int64_t us;
	} ok[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"1970-01-01T00:00:01", 1000000},
		{"2021-02-20T15:42:16.891Z", INT64_C(1613835736891000)},
		{"2021-02-20T15:42:16.891+00:00", INT64_C(1613835736891000)},
		{"2021-02-20T15:42:16.8910009Z", INT64_C(1613835736891000)},
		{"2020-02-29T23:59:59.123456Z", INT64_C(1583020799123456)},
		{"2038-01-19T03:14:08Z", INT64_C(2147483648000000)},
		{"2100-03-01T12:00:00Z", INT64_C(4107585600000000)},
	};
	static const char *const bad[] = {
		"",
		"2021-13-01T00:00:00Z",
		"2021-00-01T00:00:00Z",
		"2021-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z",
		"2021-04-31T00:00:00Z",
		"2021-02-20 15:42:16Z",
		"2021-02-20t15:42:16Z",
		"2021-02-20T24:00:00Z",
		"2021-02-20T15:60:00Z",
		"2021-02-20T15:42Z",
		"2021-02-20",
		"2021-02-20T15:42:16.Z",
		"2021-02-20T15:42:16ZZ",
		"2021-02-20T15:42:16+01:00",
		"2021-02-20T15:42:16.891Z garbage",
		"21-02-20T15:42:16Z",
		"1969-12-31T23:59:59Z",
		"garbage",
		"not a time",
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (remote_parse_time(ok[i].iso) != ok[i].us)
			fail_msg("'%s' gave %lld", ok[i].iso,
				 (long long)remote_parse_time(ok[i].iso));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (remote_parse_time(bad[i]) != -1)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(remote_parse_time(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_names),
		cmocka_unit_test(test_html_page),
		cmocka_unit_test(test_html_sdist_names),
		cmocka_unit_test(test_html_base_href),
		cmocka_unit_test(test_html_entities),
		cmocka_unit_test(test_html_markup),
		cmocka_unit_test(test_html_hygiene),
		cmocka_unit_test(test_html_refused),
		cmocka_unit_test(test_html_stress),
		cmocka_unit_test(test_pep691),
		cmocka_unit_test(test_pep691_refused),
		cmocka_unit_test(test_packument),
		cmocka_unit_test(test_packument_refused),
		cmocka_unit_test(test_packument_stress),
		cmocka_unit_test(test_maven_metadata),
		cmocka_unit_test(test_maven_refused),
		cmocka_unit_test(test_checksum_file),
		cmocka_unit_test(test_url_resolve),
		cmocka_unit_test(test_time),
	};

	return cmocka_run_group_tests_name("store_remote", tests, NULL, NULL);
}
