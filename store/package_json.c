/* SPDX-License-Identifier: MIT */
/*
 * npm's package.json as found in a published tarball: the name (a scope becomes the
 * namespace, without '@'), version, description, homepage, repository, license and the four
 * dependency maps (regular, dev, peer, optional; spec §5.6). jansson parses the bytes, which
 * store/extract.c has already bounded to STORE_EXTRACT_MAX_META_BYTES; values of the wrong
 * JSON type are ignored as npm ignores them, except the name and version, which are required.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "policy/common.h"
#include "store/extract-internal.h"
#include "store/extract.h"

/* "@scope/name" → "scope", "name"; "name" → NULL, "name". False when malformed. */
static bool npm_split(const char *full, char **ret_ns, char **ret_name, bool *fail)
{
	const char *slash = strchr(full, '/');

	*ret_ns = *ret_name = NULL;
	if (full[0] != '@') {
		if (slash || !*full)
			return false;
		*ret_name = store_dup_opt(full, fail);
		return true;
	}
	if (!slash || slash == full + 1 || !slash[1] || strchr(slash + 1, '/'))
		return false;
	*ret_ns = strndup(full + 1, (size_t)(slash - full - 1));
	*ret_name = store_dup_opt(slash + 1, fail);
	if (!*ret_ns)
		*fail = true;
	return true;
}

/* A non-empty string value, else NULL. */
static const char *str(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && *s ? s : NULL;
}

static const char *json_str(const json_t *obj, const char *key)
{
	return str(json_object_get(obj, key));
}

static int npm_license(struct store_metadata *m, const json_t *l, struct cafs_error *e)
{
	const char *name = str(l), *url = NULL;

	if (json_is_object(l)) {
		name = json_str(l, "type");
		url = json_str(l, "url");
	}
	if (!name && !url)
		return 0;
	return store_metadata_add_license(m, name, url, e);
}

static int npm_deps(struct store_metadata *m, const json_t *root, struct cafs_error *e)
{
	static const char *const keys[][2] = {
		{"dependencies", "regular"},
		{"devDependencies", "dev"},
		{"peerDependencies", "peer"},
		{"optionalDependencies", "optional"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_t *deps = json_object_get(root, keys[i][0]);

		if (!json_is_object(deps))
			continue;
		for (void *it = json_object_iter(deps); it; it = json_object_iter_next(deps, it)) {
			const char *key = json_object_iter_key(it);
			_cleanup_free_ char *ns = NULL, *name = NULL;
			bool fail = false;
			int r;

			if (!npm_split(key, &ns, &name, &fail)) {
				free(ns);
				ns = NULL;
				free(name);
				name = store_dup_opt(key, &fail);
			}
			if (fail)
				return store_extract_oom(e);
			if (!name)
				continue;
			r = store_metadata_add_dep(m, ns, name, keys[i][1],
						   str(json_object_iter_value(it)), e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int store_package_json_parse(const char *path, const char *buf, size_t len,
			     struct store_metadata *m, struct cafs_error *e)
{
	json_auto_t *root = NULL;
	const json_t *repo, *lic;
	json_error_t jerr;
	bool fail = false;
	const char *full;
	int r = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) /* npm strips a BOM */
		buf += 3, len -= 3;
	root = json_loadb(buf, len, 0, &jerr);
	if (!root)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s' is not valid JSON: %s (line %d)",
				      path, jerr.text, jerr.line);
	if (!json_is_object(root))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s' is not a JSON object", path);
	full = json_str(root, "name");
	if (!full)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s' has no name field", path);
	if (!npm_split(full, &m->namespace_, &m->name, &fail))
		return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s': invalid package name '%.255s'",
				      path, full);
	m->version = store_dup_opt(json_str(root, "version"), &fail);
	m->summary = store_dup_opt(json_str(root, "description"), &fail);
	m->home_page = store_dup_opt(json_str(root, "homepage"), &fail);
	repo = json_object_get(root, "repository");
	m->source_code_repository =
		store_dup_opt(json_is_object(repo) ? json_str(repo, "url") : str(repo), &fail);
	if (!m->readme)
		m->readme = store_dup_opt(json_str(root, "readme"), &fail);
	if (fail)
		return store_extract_oom(e);
	if (!m->version)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "'%s' has no version field", path);

	lic = json_object_get(root, "license");
	if (!lic)
		lic = json_object_get(root, "licenses"); /* the legacy form, an array */
	if (json_is_array(lic)) {
		for (size_t i = 0; r == 0 && i < json_array_size(lic); i++)
			r = npm_license(m, json_array_get(lic, i), e);
	} else if (lic) {
		r = npm_license(m, lic, e);
	}
	return r < 0 ? r : npm_deps(m, root, e);
}
