/* SPDX-License-Identifier: MIT */
/*
 * Package metadata from package files (store/extract.h): wheels and zip sdists (zip), tar.gz
 * sdists and npm tarballs (tar, gzip), read through libarchive; the metadata files found are
 * parsed by store/pkginfo.c (PyPI), store/package_json.c (npm), and POMs by store/pom.c. This
 * file also owns struct store_metadata and the small helpers those files share.
 *
 * Every file is hostile input. One pass visits every entry, so that the whole file is checked
 * (a path-traversal name anywhere refuses it, a truncated gzip is noticed at its end) and the
 * caps hold: at most STORE_EXTRACT_MAX_ENTRIES entries, at most STORE_EXTRACT_MAX_TOTAL_BYTES
 * uncompressed bytes read or skipped (an entry's declared size counts before it is skipped, so
 * a zip bomb is refused unread), and each file read into memory bounded by its own cap. Only
 * regular files are read; a link is never followed. The pass keeps the few files that can
 * carry metadata (<x>.dist-info/METADATA, <dir>/PKG-INFO, <dir>/package.json, <dir>/README*)
 * and, when the caller named no kind, decides it at the end. Nothing touches the database or
 * the blob store, and nothing is written to disk.
 *
 * Workload: one call per published or ingested file. A wheel read from a file or a buffer is
 * seekable, so libarchive reads its central directory and skips the compressed data it does
 * not need; a tarball is decompressed once in full.
 */
#include "store/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/extract-internal.h"

#define HEAD_BYTES   4096        /* sniffed before choosing POM or archive */
#define READ_CHUNK   (64 * 1024) /* bytes asked of the fd or of libarchive at a time */
#define MAX_NAME     4096        /* longest entry name accepted */
#define MAX_WARNINGS 64          /* ARCHIVE_WARN/RETRY tolerated in a row before giving up */
#define MIB(x)       ((unsigned)((x) >> 20))

int store_extract_oom(struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
}

int store_sbuf_reserve(struct store_sbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->len + n + 1 <= b->cap)
		return 0;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int store_sbuf_add(struct store_sbuf *b, const void *s, size_t n)
{
	if (store_sbuf_reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

char *store_trim_dup(const char *s, size_t n)
{
	while (n && store_is_ws(*s)) {
		s++;
		n--;
	}
	while (n && store_is_ws(s[n - 1]))
		n--;
	return n ? strndup(s, n) : NULL;
}

char *store_dup_opt(const char *s, bool *fail)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*fail = true;
	return d;
}

int store_array_reserve(void *arrp, size_t n, size_t size)
{
	void **arr = arrp;
	void *p;

	if (n != 0 && (n < 4 || (n & (n - 1)))) /* capacity: 4, then the next power of two */
		return 0;
	p = realloc(*arr, (n ? 2 * n : 4) * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Length of the valid UTF-8 sequence at @s (@n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int store_text_check(const char *what, const char *buf, size_t len, struct cafs_error *e)
{
	const unsigned char *p = (const unsigned char *)buf;

	for (size_t i = 0, k; i < len; i += k) {
		k = p[i] ? utf8_seq(p + i, len - i) : 0;
		if (!k)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "'%s' is not valid UTF-8 text (byte %zu)", what, i);
	}
	return 0;
}

/* A README as text: invalid UTF-8 and NUL bytes become U+FFFD. Owned, NULL on ENOMEM. */
static char *text_dup_lossy(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	struct store_sbuf b = {0};

	if (store_sbuf_reserve(&b, len) < 0)
		return NULL;
	for (size_t i = 0, k; i < len; i += k) {
		k = p[i] ? utf8_seq(p + i, len - i) : 0;
		if (store_sbuf_add(&b, k ? buf + i : "\xef\xbf\xbd", k ? k : 3) < 0) {
			free(b.p);
			return NULL;
		}
		if (!k)
			k = 1;
	}
	return b.p;
}

/* -- the metadata object -------------------------------------------------------------------- */

void store_metadata_free(struct store_metadata *m)
{
	if (!m)
		return;
	free(m->namespace_);
	free(m->name);
	free(m->version);
	free(m->summary);
	free(m->home_page);
	free(m->source_code_repository);
	free(m->requires_python);
	free(m->readme);
	free(m->core_metadata);
	for (size_t i = 0; i < m->n_licenses; i++) {
		free(m->licenses[i].name);
		free(m->licenses[i].url);
	}
	free(m->licenses);
	for (size_t i = 0; i < m->n_deps; i++) {
		free(m->deps[i].namespace_);
		free(m->deps[i].package);
		free(m->deps[i].dependency_type);
		free(m->deps[i].version_requirement);
	}
	free(m->deps);
	free(m);
}

int store_metadata_add_dep(struct store_metadata *m, const char *namespace_, const char *package,
			   const char *type, const char *requirement, struct cafs_error *e)
{
	struct store_dependency d;
	bool fail = false;

	if (m->n_deps >= STORE_EXTRACT_MAX_DEPS)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "more than %d dependencies",
				      STORE_EXTRACT_MAX_DEPS);
	if (store_array_reserve(&m->deps, m->n_deps, sizeof(*m->deps)) < 0)
		return store_extract_oom(e);
	d.namespace_ = store_dup_opt(namespace_, &fail);
	d.package = store_dup_opt(package, &fail);
	d.dependency_type = store_dup_opt(type, &fail);
	d.version_requirement = store_dup_opt(requirement, &fail);
	if (fail) {
		free(d.namespace_);
		free(d.package);
		free(d.dependency_type);
		free(d.version_requirement);
		return store_extract_oom(e);
	}
	m->deps[m->n_deps++] = d;
	return 0;
}

int store_metadata_add_license(struct store_metadata *m, const char *name, const char *url,
			       struct cafs_error *e)
{
	struct store_license l;
	bool fail = false;

	if (m->n_licenses >= STORE_EXTRACT_MAX_DEPS)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "more than %d licenses",
				      STORE_EXTRACT_MAX_DEPS);
	if (store_array_reserve(&m->licenses, m->n_licenses, sizeof(*m->licenses)) < 0)
		return store_extract_oom(e);
	l.name = store_dup_opt(name, &fail);
	l.url = store_dup_opt(url, &fail);
	if (fail) {
		free(l.name);
		free(l.url);
		return store_extract_oom(e);
	}
	m->licenses[m->n_licenses++] = l;
	return 0;
}

/* -- the archive pass ----------------------------------------------------------------------- */

/* A file kept from the archive: its normalized path and its bytes, NUL-terminated. */
struct member {
	char *path;
	char *data;
	size_t len;
	char *dup; /* the path of a second candidate: refused if this member is used */
};

struct scan {
	enum store_file_kind kind; /* as asked; STORE_FILE_UNKNOWN: decided after the pass */
	bool is_zip;
	size_t n_entries;
	uint64_t total; /* uncompressed bytes read or skipped */
	char *first_top;
	char *distinfo;  /* the first top-level *.dist-info folder */
	char *distinfo2; /* another one (refused in a wheel) */
	struct member meta, pkginfo, pkgjson, readme;
	int readme_rank;
};

static void member_done(struct member *mb)
{
	free(mb->path);
	free(mb->data);
	free(mb->dup);
}

static void scan_done(struct scan *s)
{
	free(s->first_top);
	free(s->distinfo);
	free(s->distinfo2);
	member_done(&s->meta);
	member_done(&s->pkginfo);
	member_done(&s->pkgjson);
	member_done(&s->readme);
}

static int archive_fail(struct archive *a, struct cafs_error *e)
{
	const char *msg = archive_error_string(a);
	int err = archive_errno(a);

	if (err == ENOMEM)
		return store_extract_oom(e);
	return cafs_error_set(e, CAFS_VALIDATION, 0, "invalid package archive: %s",
			      msg ? msg : "unknown libarchive error");
}

/*
 * @raw as "a/b/c" (no empty, "." parts; '\' counts as a separator) into @out, its part
 * count in *@ret_depth. An absolute name, a ".." part or a control character (which would end
 * up in messages and logs) refuses the whole archive.
 */
static int entry_path(const char *raw, char *out, size_t *ret_depth, struct cafs_error *e)
{
	size_t len = 0, depth = 0;

	if (!raw || !*raw)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "archive entry with no name");
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "archive entry name with a control character");
	if (strlen(raw) >= MAX_NAME)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "archive entry name '%.64s...' too long", raw);
	if (raw[0] == '/' || raw[0] == '\\' ||
	    (store_is_alnum(raw[0]) && raw[1] == ':' && (raw[2] == '/' || raw[2] == '\\')))
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "archive entry '%.200s' has an absolute path", raw);
	for (const char *p = raw; *p;) {
		size_t n = strcspn(p, "/\\");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "archive entry '%.200s' escapes its folder (\"..\")",
					      raw);
		if (n && !(n == 1 && p[0] == '.')) {
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			depth++;
		}
		p += n;
		if (*p)
			p++;
	}
	out[len] = '\0';
	*ret_depth = depth;
	return 0;
}

/* npm's choice among README files: Markdown first, then a bare README, then any other. */
static int readme_rank(const char *base)
{
	const char *ext, *md = "markdown";

	if (strncasecmp(base, "README", 6) != 0 || (base[6] && base[6] != '.'))
		return 0;
	if (!base[6])
		return 2;
	ext = base + 7;
	if (!*ext)
		return 1;
	for (; *ext; ext++) { /* npm: /\.m?a?r?k?d?o?w?n?$/i */
		while (*md && (*md | 0x20) != (*ext | 0x20))
			md++;
		if (!*md)
			return 1;
		md++;
	}
	return 3;
}

static int too_large(const char *path, uint64_t cap, struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s' in the archive is larger than %u MiB",
			      path, MIB(cap));
}

static int count_total(struct scan *s, uint64_t n, struct cafs_error *e)
{
	s->total += n;
	if (s->total > STORE_EXTRACT_MAX_TOTAL_BYTES)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "archive expands to more than %u MiB (zip bomb?)",
				      MIB(STORE_EXTRACT_MAX_TOTAL_BYTES));
	return 0;
}

/* Read the current entry into @mb (replacing what it held), refusing more than @cap bytes. */
static int read_member(struct archive *a, struct archive_entry *ent, const char *path, uint64_t cap,
		       struct scan *s, struct member *mb, struct cafs_error *e)
{
	struct store_sbuf b = {0};
	char *copy;
	int warnings = 0, r = 0;

	if (archive_entry_size_is_set(ent) && (uint64_t)archive_entry_size(ent) > cap)
		return too_large(path, cap, e);
	for (;;) {
		la_ssize_t n;

		if (store_sbuf_reserve(&b, READ_CHUNK) < 0) {
			r = store_extract_oom(e);
			break;
		}
		n = archive_read_data(a, b.p + b.len, READ_CHUNK);
		if (n == 0)
			break;
		if ((n == ARCHIVE_WARN || n == ARCHIVE_RETRY) && ++warnings <= MAX_WARNINGS)
			continue;
		if (n < 0) {
			r = archive_fail(a, e);
			break;
		}
		warnings = 0;
		b.len += (size_t)n;
		b.p[b.len] = '\0';
		r = count_total(s, (uint64_t)n, e);
		if (r == 0 && b.len > cap)
			r = too_large(path, cap, e);
		if (r < 0)
			break;
	}
	copy = r == 0 ? strdup(path) : NULL;
	if (r == 0 && !copy)
		r = store_extract_oom(e);
	if (r < 0) {
		free(b.p);
		return r;
	}
	free(mb->path);
	free(mb->data);
	mb->path = copy;
	mb->data = b.p;
	mb->len = b.len;
	return 0;
}

/* Pass over an entry not kept: its declared size counts; with none, read it through. */
static int skip_entry(struct archive *a, struct archive_entry *ent, struct scan *s,
		      struct cafs_error *e)
{
	int warnings = 0;

	if (archive_entry_size_is_set(ent))
		return count_total(s, (uint64_t)archive_entry_size(ent), e);
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &n, &off);

		if (r == ARCHIVE_EOF)
			return 0;
		if ((r == ARCHIVE_WARN || r == ARCHIVE_RETRY) && ++warnings <= MAX_WARNINGS)
			continue;
		if (r < ARCHIVE_WARN)
			return archive_fail(a, e);
		r = count_total(s, n, e);
		if (r < 0)
			return r;
	}
}

static bool wants(const struct scan *s, enum store_file_kind k)
{
	return s->kind == k || s->kind == STORE_FILE_UNKNOWN;
}

/* Note the top-level *.dist-info folder @top (of @len bytes). */
static int note_distinfo(struct scan *s, const char *top, size_t len, struct cafs_error *e)
{
	char **slot = !s->distinfo ? &s->distinfo : &s->distinfo2;

	if ((s->distinfo && strlen(s->distinfo) == len && !strncmp(s->distinfo, top, len)) ||
	    s->distinfo2)
		return 0;
	*slot = strndup(top, len);
	return *slot ? 0 : store_extract_oom(e);
}

/* Which kept file the entry at @path (@depth parts) would be, or NULL. */
static struct member *role(struct scan *s, const char *path, size_t depth, bool regular,
			   int *ret_rank)
{
	size_t toplen = strcspn(path, "/");
	const char *base = path + toplen + 1;
	bool distinfo = toplen > 10 && !strncasecmp(path + toplen - 10, ".dist-info", 10);

	if (depth != 2)
		return NULL;
	if (s->is_zip && distinfo && wants(s, STORE_FILE_WHEEL) && !strcmp(base, "METADATA"))
		return &s->meta;
	if (!strcmp(base, "PKG-INFO") &&
	    wants(s, s->is_zip ? STORE_FILE_SDIST_ZIP : STORE_FILE_SDIST_TGZ))
		return &s->pkginfo;
	if (s->is_zip || !wants(s, STORE_FILE_NPM_TGZ))
		return NULL;
	if (!strcmp(base, "package.json"))
		return &s->pkgjson;
	*ret_rank = regular ? readme_rank(base) : 0;
	return *ret_rank > s->readme_rank ? &s->readme : NULL;
}

static int visit(struct archive *a, struct archive_entry *ent, struct scan *s, struct cafs_error *e)
{
	char path[MAX_NAME], target[MAX_NAME];
	const char *raw = archive_entry_pathname(ent), *link = archive_entry_hardlink(ent);
	bool regular = archive_entry_filetype(ent) == AE_IFREG && !link;
	struct member *mb;
	size_t depth, toplen, tdepth;
	int r, rank = 0;

	if (!raw)
		raw = archive_entry_pathname_utf8(ent);
	r = entry_path(raw, path, &depth, e);
	if (r == 0 && link) /* a hard link names another entry: the same rules apply */
		r = entry_path(link, target, &tdepth, e);
	if (r < 0)
		return r;
	toplen = strcspn(path, "/");
	if (s->n_entries == 1) {
		s->is_zip = (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
		s->first_top = strndup(path, toplen);
		if (!s->first_top)
			return store_extract_oom(e);
	}
	if (s->is_zip && wants(s, STORE_FILE_WHEEL) && toplen > 10 &&
	    !strncasecmp(path + toplen - 10, ".dist-info", 10) &&
	    (depth >= 2 || archive_entry_filetype(ent) == AE_IFDIR)) {
		r = note_distinfo(s, path, toplen, e);
		if (r < 0)
			return r;
	}

	mb = role(s, path, depth, regular, &rank);
	if (!mb)
		return skip_entry(a, ent, s, e);
	if (mb == &s->readme) {
		r = read_member(a, ent, path, STORE_EXTRACT_MAX_README_BYTES, s, mb, e);
		if (r == 0)
			s->readme_rank = rank;
		return r;
	}
	if (!regular)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "'%s' in the archive is not a regular file", path);
	if (mb->path) { /* a second candidate: an error only if this member is used */
		if (!mb->dup && !(mb->dup = strdup(path)))
			return store_extract_oom(e);
		return skip_entry(a, ent, s, e);
	}
	return read_member(a, ent, path, STORE_EXTRACT_MAX_META_BYTES, s, mb, e);
}

static int scan_archive(struct archive *a, struct scan *s, struct cafs_error *e)
{
	struct archive_entry *ent;
	int warnings = 0;

	for (;;) {
		int r = archive_read_next_header(a, &ent);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r == ARCHIVE_RETRY && ++warnings <= MAX_WARNINGS)
			continue;
		if (r < ARCHIVE_WARN || r == ARCHIVE_RETRY)
			return archive_fail(a, e);
		warnings = 0;
		if (++s->n_entries > STORE_EXTRACT_MAX_ENTRIES)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "archive has more than %d entries",
					      STORE_EXTRACT_MAX_ENTRIES);
		r = visit(a, ent, s, e);
		if (r < 0)
			return r;
	}
}

/* @mb, found once only, or an error naming @what. */
static int need(const struct member *mb, const char *what, struct cafs_error *e)
{
	if (!mb->path)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s", what);
	if (mb->dup)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "archive has two metadata files: '%s' and '%s'", mb->path,
				      mb->dup);
	return 0;
}

/* The kind, the metadata file and its parse, once the whole archive has been seen. */
static int scan_finish(struct scan *s, struct store_metadata *m, struct cafs_error *e)
{
	enum store_file_kind k = s->kind;
	int r;

	if (!s->n_entries)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "package archive is empty");
	if (k == STORE_FILE_UNKNOWN && s->is_zip) {
		k = s->distinfo ? STORE_FILE_WHEEL : STORE_FILE_SDIST_ZIP;
	} else if (k == STORE_FILE_UNKNOWN) {
		if (!s->pkginfo.path && !s->pkgjson.path)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "archive has neither '<folder>/PKG-INFO' (sdist) "
					      "nor 'package/package.json' (npm)");
		k = s->pkgjson.path && (!strcmp(s->first_top, "package") || !s->pkginfo.path)
			    ? STORE_FILE_NPM_TGZ
			    : STORE_FILE_SDIST_TGZ;
	}

	switch (k) {
	case STORE_FILE_WHEEL:
		if (!s->distinfo)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "wheel has no top-level .dist-info folder");
		if (s->distinfo2)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "wheel has two .dist-info folders: '%s' and '%s'",
					      s->distinfo, s->distinfo2);
		r = need(&s->meta, "wheel has no '<name>.dist-info/METADATA'", e);
		if (r < 0)
			return r;
		m->format = CAFS_FORMAT_PYPI;
		r = store_pkginfo_parse(s->meta.path, s->meta.data, s->meta.len, m, e);
		if (r < 0)
			return r;
		m->core_metadata = steal_ptr(&s->meta.data);
		m->core_metadata_len = s->meta.len;
		return 0;
	case STORE_FILE_SDIST_TGZ:
	case STORE_FILE_SDIST_ZIP:
		r = need(&s->pkginfo, "sdist has no '<folder>/PKG-INFO'", e);
		if (r < 0)
			return r;
		m->format = CAFS_FORMAT_PYPI;
		return store_pkginfo_parse(s->pkginfo.path, s->pkginfo.data, s->pkginfo.len, m, e);
	case STORE_FILE_NPM_TGZ:
		r = need(&s->pkgjson, "npm tarball has no 'package/package.json'", e);
		if (r < 0)
			return r;
		m->format = CAFS_FORMAT_NPM;
		if (s->readme.path && !(m->readme = text_dup_lossy(s->readme.data, s->readme.len)))
			return store_extract_oom(e);
		return store_package_json_parse(s->pkgjson.path, s->pkgjson.data, s->pkgjson.len, m,
						e);
	case STORE_FILE_UNKNOWN:
	case STORE_FILE_POM:
		break;
	}
	return cafs_error_set(e, CAFS_INTERNAL, 0, "no archive kind decided");
}

static int archive_for(enum store_file_kind kind, struct archive **ret, struct cafs_error *e)
{
	bool zip = kind == STORE_FILE_WHEEL || kind == STORE_FILE_SDIST_ZIP ||
		   kind == STORE_FILE_UNKNOWN;
	bool tar = kind == STORE_FILE_SDIST_TGZ || kind == STORE_FILE_NPM_TGZ ||
		   kind == STORE_FILE_UNKNOWN;
	struct archive *a = archive_read_new();
	int r;

	if (!a)
		return store_extract_oom(e);
	/* gzip must be built in (ARCHIVE_OK): ARCHIVE_WARN would mean running an external gzip */
	if ((zip && archive_read_support_format_zip(a) != ARCHIVE_OK) ||
	    (tar && (archive_read_support_format_tar(a) != ARCHIVE_OK ||
		     archive_read_support_filter_gzip(a) != ARCHIVE_OK))) {
		r = cafs_error_set(e, CAFS_INTERNAL, 0, "libarchive: %s", archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

/* Scan the archive @a, opened; frees it. */
static int extract_archive(struct archive *a, enum store_file_kind kind,
			   struct store_metadata **ret, struct cafs_error *e)
{
	struct scan s = {.kind = kind};
	struct store_metadata *m = calloc(1, sizeof(*m));
	int r;

	r = m ? scan_archive(a, &s, e) : store_extract_oom(e);
	if (r == 0)
		r = scan_finish(&s, m, e);
	scan_done(&s);
	archive_read_free(a);
	if (r < 0) {
		store_metadata_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

static int extract_pom(const char *buf, size_t len, struct store_metadata **ret,
		       struct cafs_error *e)
{
	struct store_metadata *m;
	int r;

	if (len > STORE_EXTRACT_MAX_META_BYTES)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "POM is larger than %u MiB",
				      MIB(STORE_EXTRACT_MAX_META_BYTES));
	m = calloc(1, sizeof(*m));
	if (!m)
		return store_extract_oom(e);
	m->format = CAFS_FORMAT_MAVEN;
	r = store_pom_parse(buf, len, m, e);
	if (r < 0) {
		store_metadata_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

/* Whether @buf starts like an XML document (after a BOM and white space). */
static bool looks_like_xml(const char *buf, size_t n)
{
	size_t i = n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	char c;

	while (i < n && store_is_ws(buf[i]))
		i++;
	if (i + 1 >= n || buf[i] != '<')
		return false;
	c = (char)(buf[i + 1] | 0x20);
	return buf[i + 1] == '?' || buf[i + 1] == '!' || (c >= 'a' && c <= 'z');
}

/* -- public entry points -------------------------------------------------------------------- */

/* Whether the first entry of the (gzip'd) tar in @head is under "package/"; -1: unreadable. */
static int tar_first_is_package(const void *head, size_t n)
{
	struct archive_entry *ent;
	struct archive *a = NULL;
	int ret = -1;

	if (archive_for(STORE_FILE_NPM_TGZ, &a, NULL) < 0)
		return -1;
	if (archive_read_open_memory(a, head, n) == ARCHIVE_OK &&
	    archive_read_next_header(a, &ent) >= ARCHIVE_WARN) {
		const char *p = archive_entry_pathname(ent);

		while (p && p[0] == '.' && p[1] == '/')
			p += 2;
		if (p)
			ret = strncmp(p, "package/", 8) == 0;
	}
	archive_read_free(a);
	return ret;
}

enum store_file_kind store_extract_detect(const char *filename, const void *head, size_t n)
{
	const unsigned char *h = head;
	const char *f = filename ? filename : "";
	int package;

	if (ends_with(f, ".whl"))
		return STORE_FILE_WHEEL;
	if (ends_with(f, ".pom") || ends_with(f, "/pom.xml") || !strcmp(f, "pom.xml"))
		return STORE_FILE_POM;
	if (!h)
		n = 0;
	if (n && looks_like_xml(head, n) && memmem(head, n, "<project", 8))
		return STORE_FILE_POM;
	if (n >= 4 && !memcmp(h, "PK\3\4", 4)) {
		if (ends_with(f, ".zip"))
			return STORE_FILE_SDIST_ZIP;
		if (memmem(head, n, ".dist-info/", 11))
			return STORE_FILE_WHEEL;
		return memmem(head, n, "/PKG-INFO", 9) ? STORE_FILE_SDIST_ZIP : STORE_FILE_UNKNOWN;
	}
	if ((n >= 2 && h[0] == 0x1f && h[1] == 0x8b) ||
	    (n >= 262 && !memcmp(h + 257, "ustar", 5))) {
		package = tar_first_is_package(head, n);
		if (package >= 0)
			return package ? STORE_FILE_NPM_TGZ : STORE_FILE_SDIST_TGZ;
		return ends_with(f, ".tgz") ? STORE_FILE_NPM_TGZ : STORE_FILE_SDIST_TGZ;
	}
	if (n)
		return STORE_FILE_UNKNOWN;
	if (ends_with(f, ".tgz"))
		return STORE_FILE_NPM_TGZ;
	if (ends_with(f, ".tar.gz"))
		return STORE_FILE_SDIST_TGZ;
	return ends_with(f, ".zip") ? STORE_FILE_SDIST_ZIP : STORE_FILE_UNKNOWN;
}

int store_extract_mem(const void *buf, size_t len, enum store_file_kind kind,
		      struct store_metadata **ret, struct cafs_error *e)
{
	struct archive *a = NULL;
	int r;

	if (!len)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "package file is empty");
	if (kind == STORE_FILE_POM || (kind == STORE_FILE_UNKNOWN && looks_like_xml(buf, len)))
		return extract_pom(buf, len, ret, e);
	r = archive_for(kind, &a, e);
	if (r < 0)
		return r;
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		r = archive_fail(a, e);
		archive_read_free(a);
		return r;
	}
	return extract_archive(a, kind, ret, e);
}

/*
 * The fd as libarchive's client: a regular file is read with pread() from its starting
 * offset, so that zip's seeks work wherever the file starts; anything else (a pipe) is read
 * in order after the sniffed head.
 */
struct fd_src {
	int fd;
	int err; /* errno of a failed read */
	bool seekable;
	int64_t base, size, pos; /* seekable: start offset, bytes after it, position */
	unsigned char head[HEAD_BYTES];
	size_t head_len, head_off; /* not seekable: the sniffed bytes, served first */
	unsigned char buf[READ_CHUNK];
};

static ssize_t src_read(struct fd_src *s, void *buf, size_t n)
{
	ssize_t r;

	do {
		r = s->seekable ? pread(s->fd, buf, n, s->base + s->pos) : read(s->fd, buf, n);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		s->err = errno;
	else
		s->pos += r;
	return r;
}

/* The next bytes: what is left of the head, then the fd. */
static ssize_t src_next(struct fd_src *s, const void **buf)
{
	size_t n = s->head_len - s->head_off;

	*buf = s->head + s->head_off;
	s->head_off = s->head_len;
	if (n)
		return (ssize_t)n;
	*buf = s->buf;
	return src_read(s, s->buf, sizeof(s->buf));
}

static la_ssize_t src_archive_read(struct archive *a, void *data, const void **buf)
{
	struct fd_src *s = data;
	ssize_t n = src_next(s, buf);

	if (n < 0)
		archive_set_error(a, s->err, "read: %s", strerror(s->err));
	return n;
}

static la_int64_t src_archive_seek(struct archive *a, void *data, la_int64_t off, int whence)
{
	struct fd_src *s = data;
	int64_t from = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->size;

	if ((off > 0 && from > INT64_MAX - off) || from + off < 0) {
		archive_set_error(a, EINVAL, "seek out of range");
		return ARCHIVE_FATAL;
	}
	s->pos = from + off;
	return s->pos;
}

static int src_io_error(const struct fd_src *s, struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_IO, s->err, "read package file: %s", strerror(s->err));
}

/* The whole file (a POM), refusing more than STORE_EXTRACT_MAX_META_BYTES. */
static int src_extract_pom(struct fd_src *s, struct store_metadata **ret, struct cafs_error *e)
{
	struct store_sbuf b = {0};
	int r = 0;

	for (;;) {
		const void *p;
		ssize_t n = src_next(s, &p);

		if (n <= 0) {
			r = n < 0 ? src_io_error(s, e) : 0;
			break;
		}
		if (b.len + (size_t)n > STORE_EXTRACT_MAX_META_BYTES) {
			r = cafs_error_set(e, CAFS_VALIDATION, 0, "POM is larger than %u MiB",
					   MIB(STORE_EXTRACT_MAX_META_BYTES));
			break;
		}
		if (store_sbuf_add(&b, p, (size_t)n) < 0) {
			r = store_extract_oom(e);
			break;
		}
	}
	if (r == 0 && !b.len) /* shrunk since it was sniffed */
		r = cafs_error_set(e, CAFS_VALIDATION, 0, "package file is empty");
	if (r == 0)
		r = extract_pom(b.p, b.len, ret, e);
	free(b.p);
	return r;
}

int store_extract_fd(int fd, enum store_file_kind kind, struct store_metadata **ret,
		     struct cafs_error *e)
{
	_cleanup_free_ struct fd_src *s = calloc(1, sizeof(*s));
	struct archive *a = NULL;
	struct stat st;
	off_t off;
	int r;

	if (!s)
		return store_extract_oom(e);
	if (fstat(fd, &st) < 0)
		return cafs_error_set(e, CAFS_IO, errno, "fstat package file: %s", strerror(errno));
	s->fd = fd;
	off = S_ISREG(st.st_mode) ? lseek(fd, 0, SEEK_CUR) : -1;
	s->seekable = off >= 0;
	if (s->seekable) {
		s->base = off;
		s->size = st.st_size > off ? st.st_size - off : 0;
	}
	while (s->head_len < sizeof(s->head)) { /* the head, to sniff */
		ssize_t n = src_read(s, s->head + s->head_len, sizeof(s->head) - s->head_len);

		if (n < 0)
			return src_io_error(s, e);
		if (n == 0)
			break;
		s->head_len += (size_t)n;
	}
	if (!s->head_len)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "package file is empty");
	if (kind == STORE_FILE_UNKNOWN && looks_like_xml((const char *)s->head, s->head_len))
		kind = STORE_FILE_POM;
	if (s->seekable) /* read it again through pread() from the start */
		s->pos = 0, s->head_len = 0;
	if (kind == STORE_FILE_POM)
		return src_extract_pom(s, ret, e);

	r = archive_for(kind, &a, e);
	if (r < 0)
		return r;
	if (archive_read_set_read_callback(a, src_archive_read) != ARCHIVE_OK ||
	    (s->seekable && archive_read_set_seek_callback(a, src_archive_seek) != ARCHIVE_OK) ||
	    archive_read_set_callback_data(a, s) != ARCHIVE_OK ||
	    archive_read_open1(a) != ARCHIVE_OK) {
		r = s->err ? src_io_error(s, e) : archive_fail(a, e);
		archive_read_free(a);
		return r;
	}
	r = extract_archive(a, kind, ret, e);
	if (r < 0 && s->err)
		r = src_io_error(s, e);
	return r;
}
