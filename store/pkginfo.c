/* SPDX-License-Identifier: MIT */
/*
 * PyPI core metadata (PKG-INFO of an sdist, METADATA of a wheel): RFC 822-style headers, then
 * an optional body holding the long description. Only the fields store/extract.h exposes are
 * kept; repeated single-valued fields keep their first value and setuptools' "UNKNOWN" means
 * absent. The text must be UTF-8 without NUL bytes (the input is hostile, and what is kept
 * ends up in SQLite and JSON). Description continuation lines lose the prefix the writers
 * add (7 spaces and '|' per the core metadata spec, 8 spaces for old setuptools); other
 * folded headers are unfolded to one line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/common.h"
#include "store/extract-internal.h"
#include "store/extract.h"

struct pkginfo {
	const char *path; /* for messages */
	struct store_metadata *m;
	char *license, *license_expr, *description, *homepage_url;
	char **classifier_licenses;
	size_t n_classifier_licenses;
};

static void pkginfo_done(struct pkginfo *pi)
{
	free(pi->license);
	free(pi->license_expr);
	free(pi->description);
	free(pi->homepage_url);
	for (size_t i = 0; i < pi->n_classifier_licenses; i++)
		free(pi->classifier_licenses[i]);
	free(pi->classifier_licenses);
}

/* Keep the first non-empty value of a single-valued field; "UNKNOWN" is setuptools' "none". */
static int set_once(char **field, const char *v)
{
	if (*field || !*v || strcmp(v, "UNKNOWN") == 0)
		return 0;
	*field = strdup(v);
	return *field ? 0 : -ENOMEM;
}

/* Project-URL labels, compared lower-case with punctuation and spaces removed (PEP 753). */
static void label_key(const char *label, size_t n, char *out, size_t outsz)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < outsz; i++)
		if (store_is_alnum(label[i]))
			out[k++] = (char)(label[i] | 0x20);
	out[k] = '\0';
}

static int project_url(struct pkginfo *pi, const char *v)
{
	static const char *const source[] = {"source", "sourcecode", "repository", "code",
					     "sourcerepository"};
	const char *comma = strchr(v, ',');
	_cleanup_free_ char *url = NULL;
	char key[32];

	if (!comma)
		return 0;
	url = store_trim_dup(comma + 1, strlen(comma + 1));
	if (!url)
		return 0;
	label_key(v, (size_t)(comma - v), key, sizeof(key));
	if (strcmp(key, "homepage") == 0)
		return set_once(&pi->homepage_url, url);
	for (size_t i = 0; i < ARRAY_SIZE(source); i++)
		if (strcmp(key, source[i]) == 0)
			return set_once(&pi->m->source_code_repository, url);
	return 0;
}

/* "License :: OSI Approved :: MIT License" names "MIT License"; the bare category nothing. */
static int license_classifier(struct pkginfo *pi, const char *v)
{
	const char *last = v + 7, *p;
	char *name, **arr = pi->classifier_licenses;

	if (strncmp(v, "License", 7) != 0)
		return 0;
	while (store_is_ws(*last))
		last++;
	if (strncmp(last, "::", 2) != 0)
		return 0;
	while ((p = strstr(last + 2, "::")))
		last = p;
	name = store_trim_dup(last + 2, strlen(last + 2));
	if (!name || strcmp(name, "OSI Approved") == 0 ||
	    pi->n_classifier_licenses >= STORE_EXTRACT_MAX_DEPS) {
		free(name);
		return 0;
	}
	if (store_array_reserve(&arr, pi->n_classifier_licenses, sizeof(*arr)) < 0) {
		free(name);
		return -ENOMEM;
	}
	arr[pi->n_classifier_licenses++] = name;
	pi->classifier_licenses = arr;
	return 0;
}

/*
 * "requests (>=2.0) ; extra == 'x'" → package "requests", requirement ">=2.0 ; extra == 'x'":
 * the PEP 508 name, then the rest as written, without the parentheses of the old
 * (PEP 345) form; extras stay in front ("[socks]>=2").
 */
static int requires_dist(struct pkginfo *pi, const char *v, struct cafs_error *e)
{
	_cleanup_free_ char *pkg = NULL, *req = NULL;
	struct store_sbuf b = {0};
	const char *p = v, *close;
	size_t n = 0;
	int r;

	while (store_is_alnum(v[n]) || v[n] == '.' || v[n] == '-' || v[n] == '_')
		n++;
	if (!n || !store_is_alnum(v[0]) || !store_is_alnum(v[n - 1]))
		return cafs_error_set(
			e, CAFS_VALIDATION, 0,
			"Requires-Dist '%.100s' in '%s' does not start with a package name", v,
			pi->path);
	pkg = strndup(v, n);
	if (!pkg)
		return store_extract_oom(e);
	p += n;
	while (store_is_ws(*p))
		p++;
	r = 0;
	if (*p == '[') {
		close = strchr(p, ']');
		n = close ? (size_t)(close - p) + 1 : strlen(p);
		r = store_sbuf_add(&b, p, n);
		for (p += n; store_is_ws(*p);)
			p++;
	}
	if (r == 0 && *p == '(' && (close = strchr(p, ')'))) {
		_cleanup_free_ char *inner = store_trim_dup(p + 1, (size_t)(close - p - 1));

		if (inner)
			r = store_sbuf_add(&b, inner, strlen(inner));
		p = close + 1;
	}
	if (r == 0)
		r = store_sbuf_add(&b, p, strlen(p));
	if (r < 0) {
		free(b.p);
		return store_extract_oom(e);
	}
	req = b.p ? store_trim_dup(b.p, b.len) : NULL;
	free(b.p);
	return store_metadata_add_dep(pi->m, NULL, pkg, "Requires-Dist", req, e);
}

static int pkginfo_header(struct pkginfo *pi, const char *name, size_t n, const char *v,
			  struct cafs_error *e)
{
	struct store_metadata *m = pi->m;
	int r = 0;

#define IS(h) (n == sizeof(h) - 1 && strncasecmp(name, h, n) == 0)
	if (IS("Name"))
		r = set_once(&m->name, v);
	else if (IS("Version"))
		r = set_once(&m->version, v);
	else if (IS("Summary"))
		r = set_once(&m->summary, v);
	else if (IS("Home-page"))
		r = set_once(&m->home_page, v);
	else if (IS("Requires-Python"))
		r = set_once(&m->requires_python, v);
	else if (IS("License"))
		r = set_once(&pi->license, v);
	else if (IS("License-Expression"))
		r = set_once(&pi->license_expr, v);
	else if (IS("Description"))
		r = set_once(&pi->description, v);
	else if (IS("Project-URL"))
		r = project_url(pi, v);
	else if (IS("Classifier"))
		r = license_classifier(pi, v);
	else if (IS("Requires-Dist") && *v)
		return requires_dist(pi, v, e);
#undef IS
	return r < 0 ? store_extract_oom(e) : 0;
}

/*
 * A folded line of a header value. Description lines carry their own indentation: the core
 * metadata spec prefixes them with 7 spaces and '|', old setuptools with 8 spaces, so that
 * prefix alone is removed; other headers are unfolded to one line.
 */
static int fold(struct store_sbuf *v, bool description, const char *p, size_t n)
{
	size_t skip = 0;

	if (!description) {
		while (skip < n && store_is_ws(p[skip]))
			skip++;
		return store_sbuf_add(v, " ", 1) < 0 ? -ENOMEM
						     : store_sbuf_add(v, p + skip, n - skip);
	}
	if (n >= 8 && strncmp(p, "       |", 8) == 0)
		skip = 8;
	else if (n >= 9 && strncmp(p, "        |", 9) == 0)
		skip = 9;
	else
		while (skip < n && skip < 8 && (p[skip] == ' ' || p[skip] == '\t'))
			skip++;
	return store_sbuf_add(v, "\n", 1) < 0 ? -ENOMEM : store_sbuf_add(v, p + skip, n - skip);
}

static int finish_value(struct pkginfo *pi, const char *name, size_t n, struct store_sbuf *v,
			struct cafs_error *e)
{
	while (v->len && store_is_ws(v->p[v->len - 1]))
		v->p[--v->len] = '\0';
	return pkginfo_header(pi, name, n, v->p ? v->p : "", e);
}

static int pkginfo_licenses(struct pkginfo *pi, struct cafs_error *e)
{
	const char *l = pi->license;
	bool name_like = l && !strchr(l, '\n') && strlen(l) <= 200;
	int r = 0;

	if (name_like)
		return store_metadata_add_license(pi->m, l, NULL, e);
	if (pi->license_expr)
		return store_metadata_add_license(pi->m, pi->license_expr, NULL, e);
	for (size_t i = 0; r == 0 && i < pi->n_classifier_licenses; i++)
		r = store_metadata_add_license(pi->m, pi->classifier_licenses[i], NULL, e);
	if (r == 0 && l && !pi->n_classifier_licenses)
		r = store_metadata_add_license(pi->m, l, NULL, e);
	return r;
}

static int parse_pkginfo_in(struct pkginfo *pi, const char *buf, size_t len, struct cafs_error *e)
{
	const char *p = buf, *end = buf + len, *hname = NULL;
	struct store_metadata *m = pi->m;
	struct store_sbuf v = {0};
	size_t hlen = 0;
	int r = 0;

	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t n = (size_t)((nl ? nl : end) - p);
		const char *colon;

		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0) { /* the blank line: the body (the description) follows */
			p = next;
			break;
		}
		if (p[0] == ' ' || p[0] == '\t') {
			if (!hname) {
				r = cafs_error_set(e, CAFS_VALIDATION, 0,
						   "'%s' starts with a continuation line",
						   pi->path);
				break;
			}
			if (fold(&v, hlen == 11 && strncasecmp(hname, "Description", 11) == 0, p,
				 n) < 0)
				r = store_extract_oom(e);
			p = next;
			continue;
		}
		/* a line that is not a header starts the body, as in Python's email parser */
		colon = memchr(p, ':', n);
		if (!colon)
			break;
		if (hname)
			r = finish_value(pi, hname, hlen, &v, e);
		hname = p;
		for (hlen = (size_t)(colon - p); hlen && store_is_ws(hname[hlen - 1]);)
			hlen--;
		v.len = 0;
		for (colon++; colon < p + n && store_is_ws(*colon);)
			colon++;
		if (r == 0 && store_sbuf_add(&v, colon, (size_t)(p + n - colon)) < 0)
			r = store_extract_oom(e);
		p = next;
	}
	if (r == 0 && hname)
		r = finish_value(pi, hname, hlen, &v, e);
	free(v.p);
	if (r < 0)
		return r;

	while (p < end && (*p == '\n' || *p == '\r'))
		p++;
	while (end > p && store_is_ws(end[-1]))
		end--;
	if (end > p)
		m->readme = strndup(p, (size_t)(end - p));
	else if (pi->description)
		m->readme = strdup(pi->description);
	if ((end > p || pi->description) && !m->readme)
		return store_extract_oom(e);
	if (!m->home_page && pi->homepage_url && !(m->home_page = strdup(pi->homepage_url)))
		return store_extract_oom(e);
	if (!m->name)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s' has no Name field", pi->path);
	if (!m->version)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s' has no Version field", pi->path);
	return pkginfo_licenses(pi, e);
}

int store_pkginfo_parse(const char *path, const char *buf, size_t len, struct store_metadata *m,
			struct cafs_error *e)
{
	struct pkginfo pi = {.path = path, .m = m};
	int r;

	r = store_text_check(path, buf, len, e);
	if (r < 0)
		return r;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		buf += 3, len -= 3;
	r = parse_pkginfo_in(&pi, buf, len, e);
	pkginfo_done(&pi);
	return r;
}
