/* SPDX-License-Identifier: MIT */
/*
 * Parsers for what external sources serve (store/remote.h): PEP 503 HTML project pages (a small
 * hand-written tag scanner, no HTML library), PEP 691 JSON and npm packuments (jansson), and
 * maven-metadata.xml (expat, set up as store/pom.c: no DTD, no entities). Plus the helpers they
 * share: RFC 3986 reference resolution, ISO 8601 times and checksum files.
 *
 * Every body is hostile. It is bounded by REMOTE_BODY_MAX and its listing by REMOTE_ITEMS_MAX
 * files and versions (a hash map keeps the lookups linear). An entry that cannot be a file or
 * version name is skipped, as is a file whose URL does not resolve or would leave the web: only
 * http and https URLs are kept, and file URLs only from a file page, so that an upstream page
 * cannot point cafs at a local file. A later file of the same name is skipped too. A body that
 * is not the format at all is a ValidationException; the listing is written only on success.
 *
 * Workload: one call per fetched index page; pages of a few thousand files are common (PyPI's
 * largest have tens of thousands), and everything here is linear in the body's size.
 */
#include "store/remote.h"

#include <errno.h>
#include <expat.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/common.h"
#include "policy/names.h"

#define NAME_MAX_ 255  /* longest file or version name kept */
#define URL_MAX   8192 /* longest resolved URL kept */
#define XML_DEPTH 8    /* element depth tracked in maven-metadata.xml */

static const struct {
	const char *name;
	size_t bytes;
} hash_info[] = {
	[REMOTE_HASH_NONE] = {"", 0},          [REMOTE_HASH_MD5] = {"md5", 16},
	[REMOTE_HASH_SHA1] = {"sha1", 20},     [REMOTE_HASH_SHA256] = {"sha256", 32},
	[REMOTE_HASH_SHA512] = {"sha512", 64},
};

const char *remote_hash_name(enum remote_hash h)
{
	return (size_t)h < ARRAY_SIZE(hash_info) ? hash_info[h].name : "";
}

enum remote_hash remote_hash_parse(const char *name)
{
	for (size_t h = REMOTE_HASH_MD5; name && h < ARRAY_SIZE(hash_info); h++)
		if (!strcmp(name, hash_info[h].name))
			return (enum remote_hash)h;
	return REMOTE_HASH_NONE;
}

static int oom(struct cafs_error *e)
{
	return cafs_error_set(e, CAFS_INTERNAL, ENOMEM, "out of memory");
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether @s[0..@n) is exactly the hex digest of @h; copied lower-case into @hex if so. */
static bool take_hex(enum remote_hash h, const char *s, size_t n, char hex[129])
{
	if (h == REMOTE_HASH_NONE || n != 2 * hash_info[h].bytes)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hex_val(s[i]) < 0)
			return false;
	for (size_t i = 0; i < n; i++)
		hex[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
	hex[n] = '\0';
	return true;
}

/* Length of the valid UTF-8 sequence at @s (@n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0fu, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

/* Whether @s can be a file or version name (the header's hygiene rule). */
static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, k;

	if (n == 0 || n > NAME_MAX_ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return false;
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (!k)
			return false;
	}
	return true;
}

/* A scheme is "http" or "https", or "file" when the page itself is a file URL. */
static bool url_allowed(const char *page_url, const char *url)
{
	if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8))
		return true;
	return !strncasecmp(url, "file:", 5) && !strncasecmp(page_url, "file:", 5);
}

/*
 * A string → index map over strings owned elsewhere (the listing's), open addressing. It keeps
 * version and file name lookups O(1) on pages of REMOTE_ITEMS_MAX entries.
 */
struct strmap {
	struct strmap_slot {
		const char *key;
		size_t idx;
	} * slots;
	size_t cap, n; /* cap: 0 or a power of two */
};

static size_t str_hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return SIZE_MAX;
	for (size_t i = str_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].key)
			return SIZE_MAX;
		if (!strcmp(m->slots[i].key, key))
			return m->slots[i].idx;
	}
}

/* Add @key (not present yet; borrowed until the map is freed); 0 or -ENOMEM. */
static int strmap_put(struct strmap *m, const char *key, size_t idx)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap) {
		struct strmap bigger = {.cap = m->cap ? 2 * m->cap : 64, .n = m->n};

		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (!bigger.slots)
			return -ENOMEM;
		for (size_t j = 0; j < m->cap; j++) {
			if (!m->slots[j].key)
				continue;
			for (i = str_hash(m->slots[j].key) & (bigger.cap - 1); bigger.slots[i].key;
			     i = (i + 1) & (bigger.cap - 1))
				;
			bigger.slots[i] = m->slots[j];
		}
		free(m->slots);
		*m = bigger;
	}
	for (i = str_hash(key) & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1))
		;
	m->slots[i] = (struct strmap_slot){key, idx};
	m->n++;
	return 0;
}

/* A listing under construction. */
struct build {
	struct remote_listing l;
	size_t cap_versions, cap_files, cap_tags;
	struct strmap versions; /* version → index in l.versions */
	struct strmap names;    /* file name → index in l.files */
	char what[320];         /* "PEP 503 page of 'x'", for messages */
	bool unique_names;      /* PyPI: a file name is listed once (npm's are all the same) */
	struct cafs_error *e;
};

/* One file as a parser found it; strings borrowed. */
struct file_in {
	const char *version, *name, *url, *requires_python;
	enum remote_hash hash;
	const char *hex;
	int64_t size, time_us;
	bool yanked;
};

void remote_listing_free(struct remote_listing *l)
{
	for (size_t i = 0; i < l->n_versions; i++)
		free(l->versions[i].version);
	for (size_t i = 0; i < l->n_files; i++) {
		free(l->files[i].version);
		free(l->files[i].name);
		free(l->files[i].url);
		free(l->files[i].requires_python);
	}
	for (size_t i = 0; i < l->n_tags; i++) {
		free(l->tags[i].tag);
		free(l->tags[i].version);
	}
	free(l->versions);
	free(l->files);
	free(l->tags);
	*l = (struct remote_listing){0};
}

static void build_done(struct build *b)
{
	remote_listing_free(&b->l);
	free(b->versions.slots);
	free(b->names.slots);
	b->versions = b->names = (struct strmap){0};
}

/* @arr grown to room for one more than @n items of @size bytes (capacity *@cap); NULL: ENOMEM. */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return arr;
	p = reallocarray(arr, c, size);
	if (p)
		*cap = c;
	return p;
}

static int too_many(struct build *b, const char *what)
{
	return cafs_error_set(b->e, CAFS_VALIDATION, 0, "%s lists more than %d %s", b->what,
			      REMOTE_ITEMS_MAX, what);
}

/* The index of version @v, added (with @time_us) when new. */
static int build_version(struct build *b, const char *v, int64_t time_us, size_t *ret_idx)
{
	size_t idx = strmap_get(&b->versions, v);
	struct remote_version *nv;

	if (idx != SIZE_MAX) {
		int64_t *t = &b->l.versions[idx].published_us;

		if (time_us > 0 && (*t == 0 || time_us < *t))
			*t = time_us;
		*ret_idx = idx;
		return 0;
	}
	if (b->l.n_versions >= REMOTE_ITEMS_MAX)
		return too_many(b, "versions");
	nv = grow(b->l.versions, b->l.n_versions, &b->cap_versions, sizeof(*nv));
	if (!nv)
		return oom(b->e);
	b->l.versions = nv;
	nv += b->l.n_versions;
	*nv = (struct remote_version){.version = strdup(v),
				      .published_us = time_us > 0 ? time_us : 0};
	if (!nv->version || strmap_put(&b->versions, nv->version, b->l.n_versions) < 0) {
		free(nv->version);
		return oom(b->e);
	}
	*ret_idx = b->l.n_versions++;
	return 0;
}

/* Append @in; a file whose name is listed already is skipped. */
static int build_file(struct build *b, const struct file_in *in)
{
	struct remote_file *f;
	size_t vi;
	int r;

	if (b->unique_names && strmap_get(&b->names, in->name) != SIZE_MAX)
		return 0;
	if (b->l.n_files >= REMOTE_ITEMS_MAX)
		return too_many(b, "files");
	r = build_version(b, in->version, in->time_us, &vi);
	if (r < 0)
		return r;
	f = grow(b->l.files, b->l.n_files, &b->cap_files, sizeof(*f));
	if (!f)
		return oom(b->e);
	b->l.files = f;
	f += b->l.n_files;
	*f = (struct remote_file){
		.version = strdup(in->version),
		.name = strdup(in->name),
		.url = strdup(in->url),
		.requires_python = in->requires_python ? strdup(in->requires_python) : NULL,
		.hash = in->hex ? in->hash : REMOTE_HASH_NONE,
		.size = in->size,
		.yanked = in->yanked,
	};
	b->l.n_files++; /* counted now, so that remote_listing_free() frees a half-made one */
	if (in->hex && f->hash != REMOTE_HASH_NONE)
		memcpy(f->hash_hex, in->hex, 2 * hash_info[f->hash].bytes + 1);
	if (!f->version || !f->name || !f->url || (in->requires_python && !f->requires_python) ||
	    (b->unique_names && strmap_put(&b->names, f->name, b->l.n_files - 1) < 0))
		return oom(b->e);
	return 0;
}

/* Mark the versions whose files are all yanked, and hand the listing over. */
static int build_finish(struct build *b, struct remote_listing *ret)
{
	size_t *files = calloc(b->l.n_versions + 1, sizeof(*files));
	size_t *yanked = calloc(b->l.n_versions + 1, sizeof(*yanked));

	if (!files || !yanked) {
		free(files);
		free(yanked);
		return oom(b->e);
	}
	for (size_t i = 0; i < b->l.n_files; i++) {
		size_t vi = strmap_get(&b->versions, b->l.files[i].version);

		files[vi]++;
		yanked[vi] += b->l.files[i].yanked;
	}
	for (size_t i = 0; i < b->l.n_versions; i++)
		b->l.versions[i].yanked = files[i] && files[i] == yanked[i];
	free(files);
	free(yanked);
	*ret = b->l;
	b->l = (struct remote_listing){0};
	build_done(b);
	return 0;
}

static int body_check(struct build *b, const char *body, size_t len)
{
	if (!body && len)
		return cafs_error_set(b->e, CAFS_VALIDATION, 0, "%s has no body", b->what);
	if (len > REMOTE_BODY_MAX)
		return cafs_error_set(b->e, CAFS_VALIDATION, 0,
				      "%s is %zu bytes (more than %u MiB)", b->what, len,
				      REMOTE_BODY_MAX >> 20);
	return 0;
}

/*
 * PyPI file names: the version of "<name>-<version>-<tags>.whl" or "<name>-<version>.tar.gz"
 * (.zip, .tar.bz2, .tgz) when <name> normalizes to @project; NULL for any other file.
 */
static const char *const sdist_ext[] = {".tar.gz", ".zip", ".tar.bz2", ".tgz"};

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !strncasecmp(s + n - k, suffix, k);
}

static bool prefix_is(const char *s, size_t n, const char *project)
{
	char part[NAME_MAX_ + 1], norm[NAME_MAX_ + 1];

	if (n > NAME_MAX_)
		return false;
	memcpy(part, s, n);
	part[n] = '\0';
	return cafs_pypi_normalize(part, norm, sizeof(norm)) == 0 && !strcmp(norm, project);
}

static bool pypi_version(const char *file, const char *project, char ver[NAME_MAX_ + 1])
{
	size_t n = strlen(file), fields = 1, stem = 0, dash;
	const char *d1, *d2;

	if (ends_with(file, n, ".whl")) {
		n -= 4;
		for (size_t i = 0; i < n; i++)
			fields += file[i] == '-';
		d1 = memchr(file, '-', n);
		if ((fields != 5 && fields != 6) || !prefix_is(file, (size_t)(d1 - file), project))
			return false;
		d2 = memchr(d1 + 1, '-', n - (size_t)(d1 + 1 - file));
		memcpy(ver, d1 + 1, (size_t)(d2 - d1 - 1));
		ver[d2 - d1 - 1] = '\0';
		return *ver != '\0';
	}
	for (size_t i = 0; !stem && i < ARRAY_SIZE(sdist_ext); i++)
		if (ends_with(file, n, sdist_ext[i]))
			stem = n - strlen(sdist_ext[i]);
	/* the longest "<name>-" prefix that names @project: names have dashes, versions too */
	for (dash = stem; dash-- > 0;) {
		if (file[dash] != '-' || !prefix_is(file, dash, project))
			continue;
		if (dash + 1 == stem)
			return false;
		memcpy(ver, file + dash + 1, stem - dash - 1);
		ver[stem - dash - 1] = '\0';
		return true;
	}
	return false;
}

/* Add the file @in named by a link to @href (fragment removed) when it is one of @project's. */
static int add_pypi_file(struct build *b, const char *project, const char *page_url,
			 const char *base, struct file_in *in, const char *href)
{
	char ver[NAME_MAX_ + 1], url[URL_MAX];

	if (!name_ok(in->name) || !pypi_version(in->name, project, ver) || !name_ok(ver))
		return 0;
	if (remote_url_resolve(base, href, url, sizeof(url)) < 0 || !url_allowed(page_url, url))
		return 0;
	in->version = ver;
	in->url = url;
	return build_file(b, in);
}

/* A "<algo>=<hex>" URL fragment of PEP 503 into @in (unknown algorithms are ignored). */
static void take_fragment(struct file_in *in, const char *frag, char hex[129])
{
	const char *eq = strchr(frag, '=');
	char algo[8];

	if (!eq || (size_t)(eq - frag) >= sizeof(algo))
		return;
	memcpy(algo, frag, (size_t)(eq - frag));
	algo[eq - frag] = '\0';
	in->hash = remote_hash_parse(algo);
	if (take_hex(in->hash, eq + 1, strlen(eq + 1), hex))
		in->hex = hex;
	else
		in->hash = REMOTE_HASH_NONE;
}

/* ------------------------------------------------------------------------------------------- */
/* PEP 503 HTML                                                                                */

struct span {
	const char *p;
	size_t n;
};

struct anchor {
	struct span href, rp, text;
	bool has_href, has_rp, yanked;
};

struct scan {
	const char *s;
	size_t len;
	struct anchor *a;
	size_t n, cap;
	struct span base;
	bool has_base;
};

static bool span_is(struct span s, const char *lit)
{
	return s.n == strlen(lit) && !strncasecmp(s.p, lit, s.n);
}

/* One character reference at @s (@n bytes) written to *@o; the bytes read, 0 if none. */
static size_t decode_entity(const char *s, size_t n, char **o)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	unsigned long cp = 0;
	size_t i = 2, ndig = 0;
	bool hex;
	char *p = *o;

	if (n < 3 || s[1] != '#') {
		for (size_t k = 0; k < ARRAY_SIZE(named); k++) {
			size_t len = strlen(named[k].name);

			if (n > len && !memcmp(s + 1, named[k].name, len)) {
				*(*o)++ = named[k].c;
				return len + 1;
			}
		}
		return 0;
	}
	hex = s[2] == 'x' || s[2] == 'X';
	for (i += hex; i < n && (hex ? hex_val(s[i]) >= 0 : is_digit(s[i])); i++, ndig++)
		cp = cp > 0x10ffff ? cp : cp * (hex ? 16 : 10) + (unsigned long)hex_val(s[i]);
	if (!ndig || i >= n || s[i] != ';')
		return 0;
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		*p++ = (char)cp;
	} else if (cp < 0x800) {
		*p++ = (char)(0xc0 | cp >> 6);
		*p++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*p++ = (char)(0xe0 | cp >> 12);
		*p++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*p++ = (char)(0xf0 | cp >> 18);
		*p++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*p++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = p;
	return i + 1;
}

/*
 * @s with character references decoded (and tags dropped when @text), white space trimmed.
 * A reference is never shorter than what it decodes to, so @n + 1 bytes are enough. Owned.
 */
static char *html_decode(struct span s, bool text)
{
	char *out = malloc(s.n + 1), *o = out, *start = out;
	size_t i = 0, k;

	if (!out)
		return NULL;
	while (i < s.n) {
		char c = s.p[i], next = i + 1 < s.n ? s.p[i + 1] : '\0';

		if (text && c == '<' && (is_alpha(next) || next == '/' || next == '!')) {
			const char *gt = memchr(s.p + i, '>', s.n - i);

			i = gt ? (size_t)(gt - s.p) + 1 : s.n;
		} else if (c == '&' && (k = decode_entity(s.p + i, s.n - i, &o))) {
			i += k;
		} else {
			*o++ = s.p[i++];
		}
	}
	while (o > start && is_space(o[-1]))
		o--;
	*o = '\0';
	while (is_space(*start))
		start++;
	memmove(out, start, strlen(start) + 1);
	return out;
}

/* The next attribute of the tag at *@pos; false (*@pos past the '>') at the tag's end. */
static bool next_attr(const struct scan *sc, size_t *pos, struct span *name, struct span *value)
{
	const char *s = sc->s;
	size_t i = *pos, len = sc->len, start;

	while (i < len && (is_space(s[i]) || s[i] == '/'))
		i++;
	if (i >= len || s[i] == '>') {
		*pos = i < len ? i + 1 : len;
		return false;
	}
	start = i++; /* the first character may be anything, even '=' (HTML §13.2.5.32) */
	while (i < len && !is_space(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=')
		i++;
	*name = (struct span){s + start, i - start};
	*value = (struct span){NULL, 0};
	while (i < len && is_space(s[i]))
		i++;
	if (i < len && s[i] == '=') {
		for (i++; i < len && is_space(s[i]); i++)
			;
		if (i < len && (s[i] == '"' || s[i] == '\'')) {
			char q = s[i++];

			for (start = i; i < len && s[i] != q; i++)
				;
			*value = (struct span){s + start, i - start};
			i += i < len;
		} else {
			for (start = i; i < len && !is_space(s[i]) && s[i] != '>'; i++)
				;
			*value = (struct span){s + start, i - start};
		}
	}
	*pos = i;
	return true;
}

/* Position of the case-insensitive @lit in @s from @from, or @len. */
static size_t find_ci(const struct scan *sc, size_t from, const char *lit)
{
	size_t k = strlen(lit);

	for (size_t i = from; i + k <= sc->len; i++) {
		const char *lt = memchr(sc->s + i, lit[0], sc->len - i);

		if (!lt || (size_t)(lt - sc->s) + k > sc->len)
			break;
		i = (size_t)(lt - sc->s);
		if (!strncasecmp(lt, lit, k))
			return i;
	}
	return sc->len;
}

static int open_anchor(struct scan *sc, size_t *pos, struct cafs_error *e, const char *what)
{
	struct anchor *a;
	struct span name, value;

	if (sc->n >= REMOTE_ITEMS_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s lists more than %d files", what,
				      REMOTE_ITEMS_MAX);
	a = grow(sc->a, sc->n, &sc->cap, sizeof(*a));
	if (!a)
		return oom(e);
	sc->a = a;
	a += sc->n++;
	*a = (struct anchor){0};
	while (next_attr(sc, pos, &name, &value)) { /* the first of duplicated attributes counts */
		if (span_is(name, "href") && !a->has_href && value.p)
			a->href = value, a->has_href = true;
		else if (span_is(name, "data-requires-python") && !a->has_rp)
			a->rp = value, a->has_rp = value.p != NULL;
		else if (span_is(name, "data-yanked"))
			a->yanked = true;
	}
	a->text.p = sc->s + *pos;
	return 0;
}

/* Collect the <a> elements and the first <base href> of an HTML page. */
static int html_scan(struct scan *sc, struct cafs_error *e, const char *what)
{
	const char *s = sc->s;
	size_t i = 0, len = sc->len, end;
	bool in_a = false;
	struct span name, value;
	int r;

	while (i < len) {
		const char *lt = memchr(s + i, '<', len - i);
		char c;

		if (!lt || (size_t)(lt - s) + 1 >= len)
			break;
		i = (size_t)(lt - s);
		c = s[i + 1];
		if (len - i >= 4 && !memcmp(s + i, "<!--", 4)) {
			const char *stop = memmem(s + i + 4, len - i - 4, "-->", 3);

			i = stop ? (size_t)(stop - s) + 3 : len;
			continue;
		}
		if (c == '!' || c == '?' || c == '/') {
			end = i + 2;
			while (end < len && !is_space(s[end]) && s[end] != '>' && s[end] != '/')
				end++;
			name = (struct span){s + i + 2, end - i - 2};
			if (c == '/' && in_a && span_is(name, "a")) {
				sc->a[sc->n - 1].text.n = (size_t)(s + i - sc->a[sc->n - 1].text.p);
				in_a = false;
			}
			lt = memchr(s + i, '>', len - i);
			i = lt ? (size_t)(lt - s) + 1 : len;
			continue;
		}
		if (!is_alpha(c)) { /* a '<' that starts no tag is text */
			i++;
			continue;
		}
		for (end = i + 1; end < len && !is_space(s[end]) && s[end] != '>' && s[end] != '/';)
			end++;
		name = (struct span){s + i + 1, end - i - 1};
		if (span_is(name, "a")) {
			if (in_a)
				sc->a[sc->n - 1].text.n = (size_t)(s + i - sc->a[sc->n - 1].text.p);
			r = open_anchor(sc, &end, e, what);
			if (r < 0)
				return r;
			in_a = true;
		} else {
			struct span tag = name;

			while (next_attr(sc, &end, &name, &value))
				if (span_is(tag, "base") && span_is(name, "href") && value.p &&
				    !sc->has_base)
					sc->base = value, sc->has_base = true;
			if (span_is(tag, "script") || span_is(tag, "style")) /* raw text */
				end = find_ci(sc, end,
					      span_is(tag, "script") ? "</script" : "</style");
		}
		i = end;
	}
	if (in_a)
		sc->a[sc->n - 1].text.n = (size_t)(s + len - sc->a[sc->n - 1].text.p);
	return 0;
}

/* Whether the body has markup at all: a '<' that opens a tag, a comment or a declaration. */
static bool has_markup(const char *s, size_t len)
{
	for (const char *lt = s; (lt = memchr(lt, '<', len - (size_t)(lt - s))); lt++)
		if ((size_t)(lt - s) + 1 < len &&
		    (is_alpha(lt[1]) || lt[1] == '!' || lt[1] == '/' || lt[1] == '?'))
			return true;
	return false;
}

static int html_anchor(struct build *b, const struct anchor *a, const char *page_url,
		       const char *base, const char *project)
{
	_cleanup_free_ char *name = NULL, *href = NULL, *rp = NULL;
	struct file_in in = {.size = -1, .yanked = a->yanked};
	char hex[129], *hash;

	if (!a->has_href)
		return 0;
	name = html_decode(a->text, true);
	href = html_decode(a->href, false);
	rp = a->has_rp ? html_decode(a->rp, false) : NULL;
	if (!name || !href || (a->has_rp && !rp))
		return oom(b->e);
	if (!*href)
		return 0;
	hash = strchr(href, '#');
	if (hash) {
		*hash = '\0';
		take_fragment(&in, hash + 1, hex);
	}
	in.name = name;
	in.requires_python = rp && *rp ? rp : NULL;
	return add_pypi_file(b, project, page_url, base, &in, href);
}

int remote_parse_pypi_html(const char *body, size_t len, const char *page_url, const char *project,
			   struct remote_listing *ret, struct cafs_error *e)
{
	struct build b = {.e = e, .unique_names = true};
	struct scan sc = {.s = body, .len = len};
	char proj[NAME_MAX_ + 1], base[URL_MAX];
	_cleanup_free_ char *base_href = NULL;
	int r;

	(void)snprintf(b.what, sizeof(b.what), "PEP 503 page of '%.255s'", project);
	r = body_check(&b, body, len);
	if (r < 0)
		return r;
	if (cafs_pypi_normalize(project, proj, sizeof(proj)) < 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "invalid project name '%.255s'",
				      project);
	if (!len || !has_markup(body, len))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "not a PEP 503 page: no HTML markup");
	if (memchr(body, '\0', len))
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "not a PEP 503 page: NUL byte at offset %zu",
				      (size_t)((const char *)memchr(body, '\0', len) - body));
	r = html_scan(&sc, e, b.what);
	if (r < 0)
		goto out;
	/* <base href> (the first one, relative to the page) applies to every link of the page */
	if (sc.has_base && !(base_href = html_decode(sc.base, false))) {
		r = oom(e);
		goto out;
	}
	if (!base_href || remote_url_resolve(page_url, base_href, base, sizeof(base)) < 0)
		(void)snprintf(base, sizeof(base), "%s", page_url);
	for (size_t i = 0; r == 0 && i < sc.n; i++)
		r = html_anchor(&b, &sc.a[i], page_url, base, proj);
	if (r == 0)
		r = build_finish(&b, ret);
out:
	free(sc.a);
	build_done(&b);
	return r;
}

/* ------------------------------------------------------------------------------------------- */
/* JSON: PEP 691 and npm                                                                       */

static const char *json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The JSON object of @body into *@ret (owned). */
static int load_json(struct build *b, const char *body, size_t len, json_t **ret)
{
	json_error_t jerr;
	json_t *root;
	int r = body_check(b, body, len);

	if (r < 0)
		return r;
	if (len >= 3 && !memcmp(body, "\xef\xbb\xbf", 3)) /* a BOM, as npm tolerates */
		body += 3, len -= 3;
	root = json_loadb(body ? body : "", len, 0, &jerr);
	if (!root)
		return cafs_error_set(b->e, CAFS_VALIDATION, 0,
				      "%s is not valid JSON: %s (line %d)", b->what, jerr.text,
				      jerr.line);
	if (!json_is_object(root)) {
		json_decref(root);
		return cafs_error_set(b->e, CAFS_VALIDATION, 0, "%s is not a JSON object", b->what);
	}
	*ret = root;
	return 0;
}

/* A version's rank in PEP 700 "versions" (then its first appearance), for the sort. */
struct ranked {
	size_t rank, idx;
};

static int ranked_cmp(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Order the versions as PEP 700 "versions" lists them; the others keep their order after. */
static int order_versions(struct build *b, const json_t *order)
{
	size_t n = b->l.n_versions, k = json_array_size(order);
	struct ranked *rk;
	struct remote_version *v;

	/* no versions (b->l.versions NULL): nothing to order, and memcpy() must not see NULL */
	if (n == 0)
		return 0;
	rk = calloc(n + 1, sizeof(*rk));
	v = calloc(n + 1, sizeof(*v));
	if (!rk || !v) {
		free(rk);
		free(v);
		return oom(b->e);
	}
	for (size_t i = 0; i < n; i++)
		rk[i] = (struct ranked){SIZE_MAX, i};
	for (size_t j = 0; j < k; j++) {
		const char *s = json_string_value(json_array_get(order, j));
		size_t i = s ? strmap_get(&b->versions, s) : SIZE_MAX;

		if (i != SIZE_MAX && rk[i].rank == SIZE_MAX)
			rk[i].rank = j;
	}
	qsort(rk, n, sizeof(*rk), ranked_cmp);
	for (size_t i = 0; i < n; i++)
		v[i] = b->l.versions[rk[i].idx];
	memcpy(b->l.versions, v, n * sizeof(*v));
	free(rk);
	free(v);
	free(b->versions.slots); /* the map follows the new order */
	b->versions = (struct strmap){0};
	for (size_t i = 0; i < n; i++)
		if (strmap_put(&b->versions, b->l.versions[i].version, i) < 0)
			return oom(b->e);
	return 0;
}

static int pep691_file(struct build *b, const json_t *f, const char *page_url, const char *project)
{
	static const enum remote_hash strongest[] = {REMOTE_HASH_SHA512, REMOTE_HASH_SHA256,
						     REMOTE_HASH_SHA1, REMOTE_HASH_MD5};
	const json_t *hashes = json_object_get(f, "hashes"), *y = json_object_get(f, "yanked");
	const json_t *size = json_object_get(f, "size");
	const char *url = json_str(f, "url"), *t = json_str(f, "upload-time");
	struct file_in in = {
		.name = json_str(f, "filename"),
		.requires_python = json_str(f, "requires-python"),
		.yanked = json_is_true(y) || json_is_string(y),
		.size = json_is_integer(size) && json_integer_value(size) >= 0
				? (int64_t)json_integer_value(size)
				: -1,
		.time_us = t ? remote_parse_time(t) : 0,
	};
	_cleanup_free_ char *href = NULL;
	char hex[129];

	for (size_t i = 0; json_is_object(hashes) && i < ARRAY_SIZE(strongest); i++) {
		const char *h = json_str(hashes, hash_info[strongest[i]].name);

		if (h && take_hex(strongest[i], h, strlen(h), hex)) {
			in.hash = strongest[i], in.hex = hex;
			break;
		}
	}
	if (in.requires_python && !*in.requires_python)
		in.requires_python = NULL;
	if (!url || !in.name)
		return 0;
	href = strdup(url);
	if (!href)
		return oom(b->e);
	return add_pypi_file(b, project, page_url, page_url, &in, href);
}

int remote_parse_pypi_json(const char *body, size_t len, const char *page_url, const char *project,
			   struct remote_listing *ret, struct cafs_error *e)
{
	struct build b = {.e = e, .unique_names = true};
	json_auto_t *root = NULL;
	const json_t *files, *meta, *order;
	const char *api, *name;
	char proj[NAME_MAX_ + 1], got[NAME_MAX_ + 1];
	int r;

	(void)snprintf(b.what, sizeof(b.what), "PEP 691 page of '%.255s'", project);
	if (cafs_pypi_normalize(project, proj, sizeof(proj)) < 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "invalid project name '%.255s'",
				      project);
	r = load_json(&b, body, len, &root);
	if (r < 0)
		return r;
	meta = json_object_get(root, "meta");
	api = json_str(meta, "api-version");
	if (api && strncmp(api, "1.", 2) != 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s has api-version '%.32s', not 1.x",
				      b.what, api);
	name = json_str(root, "name");
	if (name && (cafs_pypi_normalize(name, got, sizeof(got)) < 0 || strcmp(got, proj) != 0))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s names '%.255s', expected '%s'",
				      b.what, name, proj);
	files = json_object_get(root, "files");
	if (!json_is_array(files))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s has no \"files\" array", b.what);
	if (json_array_size(files) > REMOTE_ITEMS_MAX)
		return too_many(&b, "files");
	for (size_t i = 0; r == 0 && i < json_array_size(files); i++)
		if (json_is_object(json_array_get(files, i)))
			r = pep691_file(&b, json_array_get(files, i), page_url, proj);
	order = json_object_get(root, "versions");
	if (r == 0 && json_is_array(order))
		r = order_versions(&b, order);
	if (r == 0)
		return build_finish(&b, ret);
	build_done(&b);
	return r;
}

/* Base64 (RFC 4648, padding optional) of at most @outsz bytes; the length, or -1. */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t outsz)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned bits = 0, nbits = 0;
	size_t o = 0;

	if (n % 4 == 0)
		for (int pad = 0; pad < 2 && n && s[n - 1] == '='; pad++)
			n--;
	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *c = s[i] ? strchr(alphabet, s[i]) : NULL;

		if (!c)
			return -1;
		bits = (bits << 6 | (unsigned)(c - alphabet)) & 0xffffff;
		nbits += 6;
		if (nbits >= 8) {
			if (o >= outsz)
				return -1;
			nbits -= 8;
			out[o++] = (unsigned char)(bits >> nbits);
		}
	}
	return (int)o;
}

/* The strongest sha512/sha256/sha1 of an SRI list ("sha512-<b64> sha1-<b64>?opt"). */
static void sri_take(const char *sri, struct file_in *in, char hex[129])
{
	while (*sri) {
		size_t n = strcspn(sri, " \t\r\n"), alen = strcspn(sri, "-");
		size_t blen = strcspn(sri, "? \t\r\n");
		unsigned char raw[64];
		char algo[8];
		enum remote_hash h = REMOTE_HASH_NONE;
		int k;

		if (alen < blen && alen < sizeof(algo)) {
			memcpy(algo, sri, alen);
			algo[alen] = '\0';
			h = remote_hash_parse(algo);
		}
		if (h > in->hash && h != REMOTE_HASH_MD5 &&
		    (k = b64_decode(sri + alen + 1, blen - alen - 1, raw, sizeof(raw))) >= 0 &&
		    (size_t)k == hash_info[h].bytes) {
			for (int i = 0; i < k; i++)
				(void)snprintf(hex + 2 * i, 3, "%02x", raw[i]);
			in->hash = h, in->hex = hex;
		}
		sri += n;
		sri += strspn(sri, " \t\r\n");
	}
}

static int npm_version(struct build *b, const char *ver, const json_t *v, const json_t *times,
		       const char *page_url)
{
	const json_t *dist = json_object_get(v, "dist");
	const char *tarball = json_str(dist, "tarball"), *sri = json_str(dist, "integrity");
	const char *sha1 = json_str(dist, "shasum"), *t = json_str(times, ver);
	struct file_in in = {.version = ver, .name = "package.tgz", .size = -1};
	char hex[129], url[URL_MAX];

	if (!name_ok(ver) || !tarball ||
	    remote_url_resolve(page_url, tarball, url, sizeof(url)) < 0 ||
	    !url_allowed(page_url, url))
		return 0;
	if (sri)
		sri_take(sri, &in, hex);
	if (!in.hex && sha1 && take_hex(REMOTE_HASH_SHA1, sha1, strlen(sha1), hex))
		in.hash = REMOTE_HASH_SHA1, in.hex = hex;
	in.time_us = t ? remote_parse_time(t) : 0;
	in.url = url;
	return build_file(b, &in); /* jansson keeps one of duplicated keys: versions are unique */
}

int remote_parse_packument(const char *body, size_t len, const char *page_url, const char *name,
			   struct remote_listing *ret, struct cafs_error *e)
{
	struct build b = {.e = e};
	json_auto_t *root = NULL;
	json_t *versions, *times, *tags;
	const char *got;
	int r;

	(void)snprintf(b.what, sizeof(b.what), "packument of '%.255s'", name);
	r = load_json(&b, body, len, &root);
	if (r < 0)
		return r;
	got = json_str(root, "name");
	if (!got)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s has no name", b.what);
	if (strcmp(got, name) != 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "packument names '%.255s', expected '%s'", got, name);
	versions = json_object_get(root, "versions");
	if (!json_is_object(versions))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s has no \"versions\" object",
				      b.what);
	if (json_object_size(versions) > REMOTE_ITEMS_MAX)
		return too_many(&b, "versions");
	times = json_object_get(root, "time");
	for (void *it = json_object_iter(versions); it; it = json_object_iter_next(versions, it)) {
		r = npm_version(&b, json_object_iter_key(it), json_object_iter_value(it), times,
				page_url);
		if (r < 0)
			goto fail;
	}
	tags = json_object_get(root, "dist-tags");
	for (void *it = json_object_iter(tags); it; it = json_object_iter_next(tags, it)) {
		const char *key = json_object_iter_key(it);
		const char *target = json_string_value(json_object_iter_value(it));
		struct remote_tag *t;

		if (!name_ok(key) || !target || strmap_get(&b.versions, target) == SIZE_MAX)
			continue;
		if (b.l.n_tags >= REMOTE_ITEMS_MAX) {
			r = too_many(&b, "dist-tags");
			goto fail;
		}
		t = grow(b.l.tags, b.l.n_tags, &b.cap_tags, sizeof(*t));
		if (!t)
			goto fail_oom;
		b.l.tags = t;
		t += b.l.n_tags++;
		*t = (struct remote_tag){strdup(key), strdup(target)};
		if (!t->tag || !t->version)
			goto fail_oom;
	}
	return build_finish(&b, ret);
fail_oom:
	r = oom(e);
fail:
	build_done(&b);
	return r;
}

/* ------------------------------------------------------------------------------------------- */
/* maven-metadata.xml                                                                          */

enum xml_node { X_OTHER, X_METADATA, X_GROUP, X_ARTIFACT, X_VERSIONING, X_VERSIONS, X_VERSION };

struct mmeta {
	XML_Parser parser;
	struct build *b;
	const char *group_id, *artifact_id;
	int err, depth;
	enum xml_node node[XML_DEPTH + 1]; /* node[depth]; X_OTHER below XML_DEPTH */
	char *text;
	size_t text_len, text_cap;
};

static void mm_fail(struct mmeta *m, int err)
{
	if (!m->err)
		m->err = err;
	(void)XML_StopParser(m->parser, XML_FALSE);
}

static enum xml_node mm_child(enum xml_node parent, const char *local, int depth)
{
	static const struct {
		enum xml_node parent, child;
		const char *name;
	} tree[] = {
		{X_METADATA, X_GROUP, "groupId"},         {X_METADATA, X_ARTIFACT, "artifactId"},
		{X_METADATA, X_VERSIONING, "versioning"}, {X_VERSIONING, X_VERSIONS, "versions"},
		{X_VERSIONS, X_VERSION, "version"},
	};

	if (depth == 1)
		return X_METADATA;
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++)
		if (tree[i].parent == parent && !strcmp(local, tree[i].name))
			return tree[i].child;
	return X_OTHER;
}

static void XMLCALL mm_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct mmeta *m = data;
	const char *local = strrchr(name, ':');

	local = local ? local + 1 : name;
	if (m->err || ++m->depth > XML_DEPTH)
		return;
	if (m->depth == 1 && strcmp(local, "metadata") != 0) {
		mm_fail(m, cafs_error_set(m->b->e, CAFS_VALIDATION, 0,
					  "maven-metadata.xml: the root element is <%.64s>, not "
					  "<metadata>",
					  local));
		return;
	}
	m->node[m->depth] = mm_child(m->node[m->depth - 1], local, m->depth);
	if (m->node[m->depth] == X_GROUP || m->node[m->depth] == X_ARTIFACT ||
	    m->node[m->depth] == X_VERSION)
		m->text_len = 0;
}

static void mm_value(struct mmeta *m, enum xml_node node, const char *v)
{
	const char *want = node == X_GROUP ? m->group_id : m->artifact_id;
	size_t idx;
	int r = 0;

	if (node == X_VERSION) {
		size_t n = strlen(v);

		if (name_ok(v) && !(n >= 9 && !strcmp(v + n - 9, "-SNAPSHOT")))
			r = build_version(m->b, v, 0, &idx);
	} else if (want && strcmp(v, want) != 0) {
		r = cafs_error_set(m->b->e, CAFS_VALIDATION, 0,
				   "maven-metadata.xml names %s '%.255s', expected '%s'",
				   node == X_GROUP ? "groupId" : "artifactId", v, want);
	}
	if (r < 0)
		mm_fail(m, r);
}

static void XMLCALL mm_end(void *data, const XML_Char *name)
{
	struct mmeta *m = data;
	enum xml_node node = m->depth <= XML_DEPTH ? m->node[m->depth] : X_OTHER;

	m->depth--;
	if (m->err || (node != X_GROUP && node != X_ARTIFACT && node != X_VERSION))
		return;
	while (m->text_len && is_space(m->text[m->text_len - 1]))
		m->text_len--;
	if (m->text)
		m->text[m->text_len] = '\0';
	mm_value(m, node, m->text ? m->text + strspn(m->text, " \t\r\n") : "");
}

static void XMLCALL mm_text(void *data, const XML_Char *s, int len)
{
	struct mmeta *m = data;
	enum xml_node node = m->depth <= XML_DEPTH ? m->node[m->depth] : X_OTHER;

	if (m->err || (node != X_GROUP && node != X_ARTIFACT && node != X_VERSION))
		return;
	if (m->text_len + (size_t)len + 1 > m->text_cap) {
		size_t cap = 2 * (m->text_len + (size_t)len + 1);
		char *p = realloc(m->text, cap);

		if (!p) {
			mm_fail(m, oom(m->b->e));
			return;
		}
		m->text = p, m->text_cap = cap;
	}
	memcpy(m->text + m->text_len, s, (size_t)len);
	m->text_len += (size_t)len;
}

static void XMLCALL mm_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	struct mmeta *m = data;

	mm_fail(m, cafs_error_set(m->b->e, CAFS_VALIDATION, 0,
				  "maven-metadata.xml has a DOCTYPE declaration (refused: no DTDs "
				  "or entities)"));
}

static void XMLCALL mm_entity(void *data, const XML_Char *name, int is_param, const XML_Char *value,
			      int value_len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	struct mmeta *m = data;

	mm_fail(m,
		cafs_error_set(m->b->e, CAFS_VALIDATION, 0,
			       "maven-metadata.xml declares the entity '%.64s' (refused)", name));
}

int remote_parse_maven_metadata(const char *body, size_t len, const char *group_id,
				const char *artifact_id, struct remote_listing *ret,
				struct cafs_error *e)
{
	struct build b = {.e = e};
	struct mmeta m = {.b = &b, .group_id = group_id, .artifact_id = artifact_id};
	int r;

	(void)snprintf(b.what, sizeof(b.what), "maven-metadata.xml of '%.120s:%.120s'",
		       group_id ? group_id : "", artifact_id ? artifact_id : "");
	r = body_check(&b, body, len);
	if (r < 0)
		return r;
	m.parser = XML_ParserCreate(NULL);
	if (!m.parser)
		return oom(e);
	XML_SetUserData(m.parser, &m);
	XML_SetElementHandler(m.parser, mm_start, mm_end);
	XML_SetCharacterDataHandler(m.parser, mm_text);
	XML_SetStartDoctypeDeclHandler(m.parser, mm_doctype);
	XML_SetEntityDeclHandler(m.parser, mm_entity);
	(void)XML_SetParamEntityParsing(m.parser, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(m.parser, body ? body : "", (int)len, XML_TRUE) == XML_STATUS_ERROR && !m.err)
		m.err = cafs_error_set(e, CAFS_VALIDATION, 0,
				       "maven-metadata.xml: not well-formed at line %lu: %s",
				       (unsigned long)XML_GetCurrentLineNumber(m.parser),
				       XML_ErrorString(XML_GetErrorCode(m.parser)));
	XML_ParserFree(m.parser);
	free(m.text);
	if (m.err) {
		build_done(&b);
		return m.err;
	}
	return build_finish(&b, ret);
}

/* ------------------------------------------------------------------------------------------- */
/* Checksums, URLs, times                                                                      */

int remote_parse_checksum_file(const char *body, size_t len, enum remote_hash h, char hex[129])
{
	size_t i = 0, start;

	if (!body || len > REMOTE_BODY_MAX || h == REMOTE_HASH_NONE ||
	    (size_t)h >= ARRAY_SIZE(hash_info))
		return -EINVAL;
	while (i < len && is_space(body[i]))
		i++;
	for (start = i; i < len && !is_space(body[i]);)
		i++;
	return take_hex(h, body + start, i - start, hex) ? 0 : -EINVAL;
}

/* The five parts of a URI reference (RFC 3986 appendix B); a part's .p is NULL when absent. */
struct uri {
	struct span scheme, authority, path, query, fragment;
};

static void uri_split(const char *s, struct uri *u)
{
	const char *p = s, *q = s;

	memset(u, 0, sizeof(*u));
	if (is_alpha(*q)) {
		while (is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-' || *q == '.')
			q++;
		if (*q == ':') {
			u->scheme = (struct span){p, (size_t)(q - p)};
			p = q + 1;
		}
	}
	if (p[0] == '/' && p[1] == '/') {
		q = p + 2 + strcspn(p + 2, "/?#");
		u->authority = (struct span){p + 2, (size_t)(q - p - 2)};
		p = q;
	}
	q = p + strcspn(p, "?#");
	u->path = (struct span){p, (size_t)(q - p)};
	p = q;
	if (*p == '?') {
		q = p + 1 + strcspn(p + 1, "#");
		u->query = (struct span){p + 1, (size_t)(q - p - 1)};
		p = q;
	}
	if (*p == '#')
		u->fragment = (struct span){p + 1, strlen(p + 1)};
}

struct writer {
	char *buf;
	size_t sz, n;
	bool full;
};

static void put(struct writer *w, const char *s, size_t n)
{
	if (w->n + n >= w->sz) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->n, s, n);
	w->n += n;
}

/* Drop the last segment and its '/' from @p[0..@o). */
static size_t pop_segment(const char *p, size_t o)
{
	while (o > 0 && p[o - 1] != '/')
		o--;
	return o > 0 ? o - 1 : 0;
}

/*
 * RFC 3986 §5.2.4 remove_dot_segments, in place on @p[0..@n): the output never outgrows the
 * input read so far, so both live in one buffer. Returns the new length.
 */
static size_t remove_dots(char *p, size_t n)
{
	size_t i = 0, o = 0, k;

	while (i < n) {
		const char *in = p + i;
		size_t left = n - i;

		if (left >= 3 && !memcmp(in, "../", 3)) {
			i += 3;
		} else if (left >= 2 && !memcmp(in, "./", 2)) {
			i += 2;
		} else if (left >= 3 && !memcmp(in, "/./", 3)) {
			i += 2;
		} else if (left == 2 && !memcmp(in, "/.", 2)) {
			p[++i] = '/';
		} else if (left >= 4 && !memcmp(in, "/../", 4)) {
			i += 3;
			o = pop_segment(p, o);
		} else if (left == 3 && !memcmp(in, "/..", 3)) {
			i += 2;
			p[i] = '/';
			o = pop_segment(p, o);
		} else if ((left == 1 && in[0] == '.') || (left == 2 && !memcmp(in, "..", 2))) {
			i = n;
		} else {
			for (k = 1; i + k < n && p[i + k] != '/'; k++)
				;
			memmove(p + o, p + i, k);
			o += k;
			i += k;
		}
	}
	return o;
}

/* No control characters or spaces: they would end up in HTTP requests. */
static bool url_chars_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

int remote_url_resolve(const char *base, const char *ref, char *buf, size_t bufsz)
{
	struct writer w = {.buf = buf, .sz = bufsz};
	struct uri b, r;
	struct span query;
	size_t path_at;

	if (!base || !ref || !buf || !bufsz || !url_chars_ok(base) || !url_chars_ok(ref))
		return -EINVAL;
	uri_split(ref, &r);
	if (r.scheme.p) { /* absolute: taken as is */
		put(&w, ref, strlen(ref));
		goto done;
	}
	uri_split(base, &b);
	if (!b.scheme.p)
		return -EINVAL;
	put(&w, b.scheme.p, b.scheme.n + 1); /* with its ':' */
	query = r.query;
	if (r.authority.p) {
		put(&w, "//", 2);
		put(&w, r.authority.p, r.authority.n);
	} else if (b.authority.p) {
		put(&w, "//", 2);
		put(&w, b.authority.p, b.authority.n);
	}
	path_at = w.n;
	if (r.authority.p || (r.path.n && r.path.p[0] == '/')) {
		put(&w, r.path.p, r.path.n);
	} else if (!r.path.n) {
		put(&w, b.path.p, b.path.n);
		if (!r.query.p)
			query = b.query;
	} else {
		const char *slash = memrchr(b.path.p, '/', b.path.n);

		if (b.authority.p && !b.path.n)
			put(&w, "/", 1);
		else if (slash)
			put(&w, b.path.p, (size_t)(slash - b.path.p) + 1);
		put(&w, r.path.p, r.path.n);
	}
	if (w.full)
		return -ENAMETOOLONG;
	if (r.authority.p || r.path.n)
		w.n = path_at + remove_dots(buf + path_at, w.n - path_at);
	if (query.p) {
		put(&w, "?", 1);
		put(&w, query.p, query.n);
	}
	if (r.fragment.p) {
		put(&w, "#", 1);
		put(&w, r.fragment.p, r.fragment.n);
	}
done:
	if (w.full)
		return -ENAMETOOLONG;
	buf[w.n] = '\0';
	return 0;
}

/* Exactly @n digits at *@s, advanced; -1 when not. */
static int digits(const char **s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (!is_digit(**s))
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

/* Days from 1970-01-01 to @y-@m-@d, proleptic Gregorian (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t remote_parse_time(const char *iso)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *s = iso;
	int y, mo, d, h, mi, sec, leap;
	int64_t us = 0, scale = 100000;

	if (!s)
		return -1;
	y = digits(&s, 4);
	if (y < 0 || *s++ != '-' || (mo = digits(&s, 2)) < 0 || *s++ != '-' ||
	    (d = digits(&s, 2)) < 0 || *s++ != 'T' || (h = digits(&s, 2)) < 0 || *s++ != ':' ||
	    (mi = digits(&s, 2)) < 0 || *s++ != ':' || (sec = digits(&s, 2)) < 0)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	/* before 1970 is no upload time (and would collide with -1); 60 is a leap second */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	if (*s == '.') {
		if (!is_digit(*++s))
			return -1;
		for (; is_digit(*s); s++, scale /= 10)
			us += (*s - '0') * scale;
	}
	if (*s == 'Z')
		s++;
	else if (!strcmp(s, "+00:00"))
		s += 6;
	if (*s)
		return -1;
	return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 * 1000000 +
	       (int64_t)sec * 1000000 + us;
}
