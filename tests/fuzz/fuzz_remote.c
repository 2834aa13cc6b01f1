/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "remote": the parsers of what external sources serve (store/remote.h). The first
 * input byte picks the parser (byte % 8) and a variant (byte / 8); the rest is the body, passed
 * with its length and no terminating NUL (as a download arrives):
 *
 *   0 PEP 503 HTML page      1 PEP 691 JSON        2 npm packument     3 maven-metadata.xml
 *   4 checksum file          5 URL resolution      6 ISO 8601 time     7 hash names
 *
 * The variant chooses an https or a file:// page URL and, for packuments, a scoped or a plain
 * name; for checksum files the digest (md5, sha1, sha256, sha512). For URL resolution the body
 * is "<base>\n<reference>" (no newline: the reference against a fixed page URL).
 *
 * Properties: a listing holds only names that pass the header's hygiene rule, absolute URLs,
 * digests of the right length in lower-case hex, and versions that its files refer to; a
 * failure is a ValidationException with a message; a resolved URL is terminated, fits, and
 * resolves to itself again; a time formats back to the same microsecond.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policy/common.h"
#include "store/remote.h"
#include "tests/fuzz/fuzz.h"

static const char *const page_urls[] = {
	"https://pypi.example/simple/demo-pkg/",
	"file:///srv/mirror/simple/demo-pkg/index.html",
};

static const char *const npm_urls[] = {
	"https://registry.example/left-pad",
	"https://registry.example/@acme%2fwidget",
};

static size_t digest_hex_len(enum remote_hash h)
{
	switch (h) {
	case REMOTE_HASH_NONE:
		return 0;
	case REMOTE_HASH_MD5:
		return 32;
	case REMOTE_HASH_SHA1:
		return 40;
	case REMOTE_HASH_SHA256:
		return 64;
	case REMOTE_HASH_SHA512:
		return 128;
	}
	return 0;
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

/* The header's hygiene rule for file and version names (without the UTF-8 part). */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' || s[i] == '\\')
			return false;
	return true;
}

static void check_listing(int r, const struct remote_listing *l, const char *page_url,
			  const struct cafs_error *e)
{
	if (r < 0) {
		FUZZ_CHECK(e->kind == CAFS_VALIDATION || e->sys_errno == ENOMEM);
		FUZZ_CHECK(fuzz_terminated(e->msg, sizeof(e->msg)) && e->msg[0]);
		return;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(l->n_versions <= REMOTE_ITEMS_MAX && l->n_files <= REMOTE_ITEMS_MAX);
	for (size_t i = 0; i < l->n_versions; i++) {
		FUZZ_CHECK(l->versions[i].version && name_ok(l->versions[i].version));
		FUZZ_CHECK(l->versions[i].published_us >= 0);
	}
	for (size_t i = 0; i < l->n_files; i++) {
		const struct remote_file *f = &l->files[i];
		bool listed = false;

		FUZZ_CHECK(f->version && f->name && f->url);
		FUZZ_CHECK(name_ok(f->name));
		/* http(s), or file: from a file: page (any case, as schemes are) */
		FUZZ_CHECK(
			!strncasecmp(f->url, "http://", 7) || !strncasecmp(f->url, "https://", 8) ||
			(!strncasecmp(f->url, "file:", 5) && !strncasecmp(page_url, "file:", 5)));
		FUZZ_CHECK(fuzz_terminated(f->hash_hex, sizeof(f->hash_hex)));
		FUZZ_CHECK(strlen(f->hash_hex) == digest_hex_len(f->hash));
		FUZZ_CHECK(lower_hex(f->hash_hex, strlen(f->hash_hex)));
		FUZZ_CHECK(f->size >= -1);
		if (f->requires_python)
			(void)strlen(f->requires_python);
		for (size_t j = 0; j < l->n_versions && !listed; j++)
			listed = strcmp(l->versions[j].version, f->version) == 0;
		FUZZ_CHECK(listed);
	}
	for (size_t i = 0; i < l->n_tags; i++)
		FUZZ_CHECK(l->tags[i].tag && l->tags[i].version);
}

static void url_resolve(const char *body, size_t len)
{
	char *text = fuzz_strndup((const uint8_t *)body, len);
	char *nl = strchr(text, '\n');
	const char *base = page_urls[0], *ref = text;
	char out[4096], again[4096];
	int r;

	if (nl) {
		*nl = '\0';
		base = text;
		ref = nl + 1;
	}
	r = remote_url_resolve(base, ref, out, sizeof(out));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENAMETOOLONG);
	if (r == 0) {
		FUZZ_CHECK(strlen(out) < sizeof(out));
		/* the result has a scheme, so it is taken as is */
		FUZZ_CHECK(remote_url_resolve(base, out, again, sizeof(again)) == 0);
		FUZZ_CHECK(strcmp(out, again) == 0);
		/* a buffer one byte short is refused, never overrun */
		if (out[0])
			FUZZ_CHECK(remote_url_resolve(base, ref, again, strlen(out)) ==
				   -ENAMETOOLONG);
	}
	free(text);
}

static void parse_time(const char *body, size_t len)
{
	char *text = fuzz_strndup((const uint8_t *)body, len);
	int64_t t = remote_parse_time(text);

	FUZZ_CHECK(t >= -1);
	if (t >= 0) {
		time_t secs = (time_t)(t / 1000000);
		struct tm tm;
		char iso[64];

		FUZZ_CHECK(gmtime_r(&secs, &tm));
		if (tm.tm_year + 1900 <= 9999) {
			(void)snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
				       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				       tm.tm_min, tm.tm_sec, (int)(t % 1000000));
			FUZZ_CHECK(remote_parse_time(iso) == t);
		}
	}
	free(text);
}

static void hash_names(const char *body, size_t len)
{
	char *text = fuzz_strndup((const uint8_t *)body, len);
	enum remote_hash h = remote_hash_parse(text);
	const char *name = remote_hash_name(h);

	FUZZ_CHECK(name != NULL);
	if (h != REMOTE_HASH_NONE)
		FUZZ_CHECK(strcmp(name, text) == 0);
	FUZZ_CHECK(remote_hash_parse(name) == h);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote_listing l = {0};
	struct cafs_error e = {0};
	const char *body;
	unsigned op, variant;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	op = data[0] % 8;
	variant = data[0] / 8;
	body = (const char *)data + 1;
	len = size - 1;
	switch (op) {
	case 0:
		r = remote_parse_pypi_html(body, len, page_urls[variant % 2], "demo-pkg", &l, &e);
		check_listing(r, &l, page_urls[variant % 2], &e);
		break;
	case 1:
		r = remote_parse_pypi_json(body, len, page_urls[variant % 2], "demo-pkg", &l, &e);
		check_listing(r, &l, page_urls[variant % 2], &e);
		break;
	case 2:
		r = remote_parse_packument(body, len, npm_urls[variant % 2],
					   variant % 2 ? "@acme/widget" : "left-pad", &l, &e);
		check_listing(r, &l, npm_urls[variant % 2], &e);
		break;
	case 3:
		r = remote_parse_maven_metadata(body, len, "com.example", "lib", &l, &e);
		check_listing(r, &l, "", &e);
		FUZZ_CHECK(l.n_files == 0);
		break;
	case 4: {
		enum remote_hash h = (enum remote_hash)(REMOTE_HASH_MD5 + variant % 4);
		char hex[129];

		r = remote_parse_checksum_file(body, len, h, hex);
		FUZZ_CHECK(r == 0 || r == -EINVAL);
		if (r == 0)
			FUZZ_CHECK(strlen(hex) == digest_hex_len(h) &&
				   lower_hex(hex, digest_hex_len(h)));
		break;
	}
	case 5:
		url_resolve(body, len);
		break;
	case 6:
		parse_time(body, len);
		break;
	case 7:
		hash_names(body, len);
		break;
	default:
		break;
	}
	remote_listing_free(&l);
	FUZZ_CHECK(l.n_versions == 0 && l.n_files == 0 && l.versions == NULL);
	return 0;
}
