/* SPDX-License-Identifier: MIT */
/*
 * Name rules for domains, repositories, descriptions, tags and external connections. Each rule
 * is written out as the API model states it (spec §1, §3) so that both edges of every length
 * and character rule are checked in one place; the unit tests walk those edges.
 */
#include "policy/names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/common.h"

static const char *const format_names[] = {
	[CAFS_FORMAT_NPM] = "npm",         [CAFS_FORMAT_PYPI] = "pypi",
	[CAFS_FORMAT_MAVEN] = "maven",     [CAFS_FORMAT_NUGET] = "nuget",
	[CAFS_FORMAT_GENERIC] = "generic", [CAFS_FORMAT_RUBY] = "ruby",
	[CAFS_FORMAT_SWIFT] = "swift",     [CAFS_FORMAT_CARGO] = "cargo",
};

const char *cafs_format_name(enum cafs_format f)
{
	if (f <= CAFS_FORMAT_NONE || (size_t)f >= ARRAY_SIZE(format_names))
		return NULL;
	return format_names[f];
}

enum cafs_format cafs_format_parse(const char *s)
{
	for (size_t i = 1; s && i < ARRAY_SIZE(format_names); i++)
		if (strcmp(s, format_names[i]) == 0)
			return (enum cafs_format)i;
	return CAFS_FORMAT_NONE;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

int cafs_validate_domain_name(const char *name, struct cafs_error *e)
{
	size_t n = name ? strlen(name) : 0;

	if (n < CAFS_DOMAIN_NAME_MIN)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "domain name '%s' is too short: it needs 2 to 50 characters",
				      name ? name : "");
	if (n > CAFS_DOMAIN_NAME_MAX)
		return cafs_error_set(
			e, CAFS_VALIDATION, ENAMETOOLONG,
			"domain name '%.60s...' is too long: it needs 2 to 50 characters", name);
	if (!(name[0] >= 'a' && name[0] <= 'z'))
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "domain name '%s' must start with a lower-case letter", name);
	for (size_t i = 1; i < n; i++)
		if (!is_lower_alnum(name[i]) && name[i] != '-')
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "domain name '%s' has '%c' at position %zu: only "
					      "lower-case letters, digits and '-' are allowed",
					      name, name[i], i + 1);
	if (name[n - 1] == '-')
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "domain name '%s' must not end with '-'", name);
	return 0;
}

int cafs_validate_repository_name(const char *name, struct cafs_error *e)
{
	size_t n = name ? strlen(name) : 0;

	if (n < CAFS_REPOSITORY_NAME_MIN)
		return cafs_error_set(
			e, CAFS_VALIDATION, 0,
			"repository name '%s' is too short: it needs 2 to 100 characters",
			name ? name : "");
	if (n > CAFS_REPOSITORY_NAME_MAX)
		return cafs_error_set(
			e, CAFS_VALIDATION, ENAMETOOLONG,
			"repository name '%.60s...' is too long: it needs 2 to 100 characters",
			name);
	if (!is_alnum(name[0]))
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "repository name '%s' must start with a letter or a digit",
				      name);
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return cafs_error_set(
				e, CAFS_VALIDATION, 0,
				"repository name '%s' has a character not allowed at "
				"position %zu: only letters, digits, '.', '_' and '-'",
				name, i + 1);
	return 0;
}

/*
 * Count the code points of a UTF-8 string and check that none is a control character (Unicode
 * category Cc: U+0000-U+001F, U+007F-U+009F) and that the encoding is well formed.
 */
static int utf8_check(const char *s, size_t *ret_count, const char *what, struct cafs_error *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0;

	while (*p) {
		unsigned int cp;
		int len;

		if (*p < 0x80) {
			cp = *p;
			len = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			len = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			len = 3;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			len = 4;
		} else {
			return cafs_error_set(e, CAFS_VALIDATION, 0, "%s is not valid UTF-8", what);
		}
		for (int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return cafs_error_set(e, CAFS_VALIDATION, 0,
						      "%s is not valid UTF-8", what);
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "%s has a control character at position %zu", what,
					      count + 1);
		p += len;
		count++;
	}
	*ret_count = count;
	return 0;
}

int cafs_validate_description(const char *text, struct cafs_error *e)
{
	size_t count;
	int r;

	if (!text)
		return 0;
	r = utf8_check(text, &count, "description", e);
	if (r < 0)
		return r;
	if (count > CAFS_DESCRIPTION_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "description has %zu characters; at most 1000 are allowed",
				      count);
	return 0;
}

int cafs_validate_account_id(const char *id, struct cafs_error *e)
{
	size_t n = id ? strlen(id) : 0;

	if (n != CAFS_ACCOUNT_ID_LEN || strspn(id, "0123456789") != n)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "domain owner '%s' is not a 12-digit account id",
				      id ? id : "");
	return 0;
}

int cafs_validate_tag(const char *key, const char *value, struct cafs_error *e)
{
	size_t count;
	int r;

	if (!key || !*key)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "tag key must not be empty");
	r = utf8_check(key, &count, "tag key", e);
	if (r < 0)
		return r;
	if (count > CAFS_TAG_KEY_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "tag key '%.40s...' is longer than 128 characters", key);
	r = utf8_check(value ? value : "", &count, "tag value", e);
	if (r < 0)
		return r;
	if (count > CAFS_TAG_VALUE_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "tag value for '%s' is longer than 256 characters", key);
	return 0;
}

static const struct {
	const char *name;
	enum cafs_format format;
} connections[] = {
	{"public:npmjs", CAFS_FORMAT_NPM},
	{"public:pypi", CAFS_FORMAT_PYPI},
	{"public:maven-central", CAFS_FORMAT_MAVEN},
	{"public:maven-googleandroid", CAFS_FORMAT_MAVEN},
	{"public:maven-gradleplugins", CAFS_FORMAT_MAVEN},
	{"public:maven-commonsware", CAFS_FORMAT_MAVEN},
	{"public:maven-clojars", CAFS_FORMAT_MAVEN},
	{"public:nuget-org", CAFS_FORMAT_NUGET},
	{"public:ruby-gems-org", CAFS_FORMAT_RUBY},
	{"public:crates-io", CAFS_FORMAT_CARGO},
};

enum cafs_format cafs_external_connection_format(const char *name, struct cafs_error *e)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(connections); i++)
		if (strcmp(name, connections[i].name) == 0)
			return connections[i].format;
	(void)cafs_error_set(
		e, CAFS_VALIDATION, 0,
		"'%s' is not an external connection: use one of public:npmjs, "
		"public:pypi, public:maven-central, ... (cafs associate-external-connection "
		"--help lists them)",
		name ? name : "");
	return CAFS_FORMAT_NONE;
}

const char *cafs_external_connection_name(size_t i)
{
	return i < ARRAY_SIZE(connections) ? connections[i].name : NULL;
}

int cafs_validate_coord_part(const char *value, const char *what, struct cafs_error *e)
{
	size_t n = value ? strlen(value) : 0;

	if (n == 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s must not be empty", what);
	if (n > CAFS_PACKAGE_FIELD_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG,
				      "%s '%.40s...' is longer than 255 characters", what, value);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '#' || c == '/' || c == ' ' || (c >= '\t' && c <= '\r') || c < 0x20 ||
		    c == 0x7f)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "%s '%s' must not contain '#', '/', whitespace or "
					      "control characters",
					      what, value);
	}
	/* every part is a folder of the mount, where "." and ".." mean something else */
	if (strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "%s must not be '%s'", what, value);
	return 0;
}

int cafs_validate_coord(enum cafs_format format, const char *namespace_, const char *name,
			const char *version, struct cafs_error *e)
{
	bool has_ns = namespace_ && *namespace_;
	int r;

	if (!cafs_format_name(format))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "unknown package format");
	switch (format) {
	case CAFS_FORMAT_MAVEN:
	case CAFS_FORMAT_GENERIC:
	case CAFS_FORMAT_SWIFT:
		if (!has_ns)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "a %s package needs a namespace%s",
					      cafs_format_name(format),
					      format == CAFS_FORMAT_MAVEN ? " (its groupId)" : "");
		break;
	case CAFS_FORMAT_PYPI:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_CARGO:
		if (has_ns)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "a %s package has no namespace, but '%s' was given",
					      cafs_format_name(format), namespace_);
		break;
	case CAFS_FORMAT_NPM:
	case CAFS_FORMAT_NONE:
		break;
	}
	if (has_ns) {
		r = cafs_validate_coord_part(namespace_, "namespace", e);
		if (r < 0)
			return r;
	}
	r = cafs_validate_coord_part(name, "package", e);
	if (r == 0 && version)
		r = cafs_validate_coord_part(version, "version", e);
	return r;
}

/* Generic asset names: Unicode letters and digits, or one of these (spec §5.2). */
static bool generic_asset_char(unsigned int cp)
{
	if (cp >= 0x80)
		return true; /* non-ASCII: letters/digits of other scripts; controls refused below
			      */
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
		return true;
	return cp != 0 && strchr("~!@^&()-_+[]{};,. ", (int)cp) != NULL;
}

int cafs_validate_asset_name(enum cafs_format format, const char *name, struct cafs_error *e)
{
	size_t count = 0;
	size_t n = name ? strlen(name) : 0;
	int r;

	if (n == 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "asset name must not be empty");
	r = utf8_check(name, &count, "asset name", e);
	if (r < 0)
		return r;
	if (count > CAFS_ASSET_NAME_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG,
				      "asset name '%.40s...' is longer than 255 characters", name);
	if (strchr(name, '/'))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "asset name '%s' must not contain '/'",
				      name);
	if (format == CAFS_FORMAT_NPM && strcmp(name, "package.tgz") != 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "an npm package version has one asset, named 'package.tgz', "
				      "not '%s'",
				      name);
	if (format != CAFS_FORMAT_GENERIC)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "asset name '%s' is not allowed",
				      name);
	if (name[0] == ' ' || name[n - 1] == ' ' || strstr(name, "  "))
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "asset name '%s' must not start or end with a space or hold "
				      "two spaces in a row",
				      name);
	for (size_t i = 0; i < n; i++)
		if (!generic_asset_char((unsigned char)name[i]))
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "asset name '%s' has '%c': generic asset names take "
					      "letters, digits, spaces and ~!@^&()-_+[]{};,. only",
					      name, name[i]);
	return 0;
}

int cafs_pypi_normalize(const char *name, char *buf, size_t bufsz)
{
	size_t o = 0;

	for (const char *p = name; *p; p++) {
		char c = *p;

		if (c == '-' || c == '_' || c == '.') {
			while (p[1] == '-' || p[1] == '_' || p[1] == '.')
				p++;
			c = '-';
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (o + 1 >= bufsz)
			return -ENAMETOOLONG;
		buf[o++] = c;
	}
	if (bufsz == 0)
		return -ENAMETOOLONG;
	buf[o] = '\0';
	return 0;
}

bool cafs_pypi_filename_matches(const char *file, const char *name, const char *version)
{
	char stem[512], want[CAFS_PACKAGE_FIELD_MAX + 1], got[512];
	size_t n = strlen(file);
	const char *ver;
	char *dash;

	if (n >= sizeof(stem) || !name || !version)
		return false;
	if (n > 4 && strcmp(file + n - 4, ".whl") == 0) {
		const char *d1 = strchr(file, '-');
		const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;

		if (!d1 || !d2)
			return false;
		(void)snprintf(stem, sizeof(stem), "%.*s", (int)(d1 - file), file);
		ver = d1 + 1;
		if ((size_t)(d2 - ver) != strlen(version) || strncmp(ver, version, strlen(version)))
			return false;
	} else {
		size_t ext = n > 7 && strcmp(file + n - 7, ".tar.gz") == 0 ? 7
			     : n > 4 && strcmp(file + n - 4, ".zip") == 0  ? 4
									   : 0;

		if (!ext)
			return false;
		(void)snprintf(stem, sizeof(stem), "%.*s", (int)(n - ext), file);
		dash = strrchr(stem, '-');
		if (!dash || strcmp(dash + 1, version) != 0)
			return false;
		*dash = '\0';
	}
	return cafs_pypi_normalize(stem, got, sizeof(got)) == 0 &&
	       cafs_pypi_normalize(name, want, sizeof(want)) == 0 && strcmp(got, want) == 0;
}
