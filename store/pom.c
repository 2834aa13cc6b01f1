/* SPDX-License-Identifier: MIT */
/*
 * Maven POMs (store/extract.h, spec §5.4 and §5.6), parsed with expat as a stream of elements.
 * Only a fixed set of element paths is read: the project's coordinates (groupId and version
 * inherited from <parent> when absent), name, description, url, scm, licenses and the direct
 * children of project/dependencies (not dependencyManagement, not plugins), plus the parent
 * itself as a dependency of type "parent". Any other element is passed over. A path seen twice
 * is refused, as Maven refuses duplicated tags.
 *
 * A POM is hostile input: a DOCTYPE or entity declaration is refused outright (no entity
 * expansion, no external DTD), so a billion-laughs document stops at its prologue. Namespace
 * prefixes are ignored ("pom:project" is "project"). Property references are kept as written,
 * except a dependency's "${project.version}" (or "${version}", "${pom.version}") and
 * "${project.groupId}", which take the project's own values, as they do in Maven.
 */
#include <errno.h>
#include <expat.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/common.h"
#include "store/extract-internal.h"
#include "store/extract.h"

#define TRACK_DEPTH 4   /* the deepest path read: project/dependencies/dependency/groupId */
#define PATH_MAX_   160 /* TRACK_DEPTH parts of at most 32 bytes, their '/' and the NUL */
#define PART_MAX    32

enum field {
	F_GROUP,
	F_ARTIFACT,
	F_VERSION,
	F_NAME,
	F_DESCRIPTION,
	F_URL,
	F_PARENT_GROUP,
	F_PARENT_ARTIFACT,
	F_PARENT_VERSION,
	F_SCM_URL,
	F_SCM_CONNECTION,
	F_LICENSE_NAME, /* per <license>, from here on */
	F_LICENSE_URL,
	F_DEP_GROUP, /* per <dependency>, from here on */
	F_DEP_ARTIFACT,
	F_DEP_VERSION,
	F_DEP_SCOPE,
	F_DEP_OPTIONAL,
	N_FIELDS,
};

static const char *const field_path[N_FIELDS] = {
	[F_GROUP] = "project/groupId",
	[F_ARTIFACT] = "project/artifactId",
	[F_VERSION] = "project/version",
	[F_NAME] = "project/name",
	[F_DESCRIPTION] = "project/description",
	[F_URL] = "project/url",
	[F_PARENT_GROUP] = "project/parent/groupId",
	[F_PARENT_ARTIFACT] = "project/parent/artifactId",
	[F_PARENT_VERSION] = "project/parent/version",
	[F_SCM_URL] = "project/scm/url",
	[F_SCM_CONNECTION] = "project/scm/connection",
	[F_LICENSE_NAME] = "project/licenses/license/name",
	[F_LICENSE_URL] = "project/licenses/license/url",
	[F_DEP_GROUP] = "project/dependencies/dependency/groupId",
	[F_DEP_ARTIFACT] = "project/dependencies/dependency/artifactId",
	[F_DEP_VERSION] = "project/dependencies/dependency/version",
	[F_DEP_SCOPE] = "project/dependencies/dependency/scope",
	[F_DEP_OPTIONAL] = "project/dependencies/dependency/optional",
};

#define LICENSE_PATH    "project/licenses/license"
#define DEPENDENCY_PATH "project/dependencies/dependency"

struct pom {
	XML_Parser parser;
	struct store_metadata *m;
	struct cafs_error *e;
	int err; /* the first error (negative errno; @e filled), 0 while fine */
	int depth;
	char path[PATH_MAX_];
	size_t path_len[TRACK_DEPTH + 1]; /* length of path at each depth */
	int field;                        /* the field whose text is being read, or -1 */
	struct store_sbuf text;
	char *v[N_FIELDS];
	bool seen[N_FIELDS];
};

static void pom_fail(struct pom *p, int err)
{
	if (!p->err)
		p->err = err;
	(void)XML_StopParser(p->parser, XML_FALSE);
}

static void clear_fields(struct pom *p, enum field from, enum field to)
{
	for (int f = from; f <= (int)to; f++) {
		free(p->v[f]);
		p->v[f] = NULL;
		p->seen[f] = false;
	}
}

/* Maven's values are trimmed; the description also has its white space runs collapsed. */
static char *collapse_ws(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++)
		if (!store_is_ws(*s))
			*o++ = *s;
		else if (o > out && !store_is_ws(s[1]) && s[1])
			*o++ = ' ';
	*o = '\0';
	return out;
}

static void push_license(struct pom *p)
{
	int r = 0;

	if (p->v[F_LICENSE_NAME] || p->v[F_LICENSE_URL])
		r = store_metadata_add_license(p->m, p->v[F_LICENSE_NAME], p->v[F_LICENSE_URL],
					       p->e);
	if (r < 0)
		pom_fail(p, r);
}

static void push_dependency(struct pom *p)
{
	const char *opt = p->v[F_DEP_OPTIONAL], *scope = p->v[F_DEP_SCOPE];
	int r;

	if (!p->v[F_DEP_GROUP] || !p->v[F_DEP_ARTIFACT]) {
		pom_fail(p, cafs_error_set(p->e, CAFS_VALIDATION, 0, "POM dependency %zu has no %s",
					   p->m->n_deps + 1,
					   p->v[F_DEP_GROUP] ? "artifactId" : "groupId"));
		return;
	}
	r = store_metadata_add_dep(p->m, p->v[F_DEP_GROUP], p->v[F_DEP_ARTIFACT],
				   opt && !strcmp(opt, "true") ? "optional"
				   : scope                     ? scope
							       : "compile",
				   p->v[F_DEP_VERSION], p->e);
	if (r < 0)
		pom_fail(p, r);
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct pom *p = data;
	const char *local = strrchr(name, ':');
	size_t n, len;

	local = local ? local + 1 : name;
	if (p->err || ++p->depth > TRACK_DEPTH)
		return;
	if (p->depth == 1 && strcmp(local, "project") != 0) {
		pom_fail(p, cafs_error_set(p->e, CAFS_VALIDATION, 0,
					   "not a Maven POM: the root element is <%.64s>", local));
		return;
	}
	len = p->path_len[p->depth - 1];
	n = strlen(local);
	if (n > PART_MAX) /* longer than any name read: make it match nothing */
		local = "~", n = 1;
	if (len)
		p->path[len++] = '/';
	memcpy(p->path + len, local, n + 1);
	p->path_len[p->depth] = len + n;

	if (!strcmp(p->path, LICENSE_PATH))
		clear_fields(p, F_LICENSE_NAME, F_LICENSE_URL);
	if (!strcmp(p->path, DEPENDENCY_PATH))
		clear_fields(p, F_DEP_GROUP, F_DEP_OPTIONAL);
	for (int f = 0; f < N_FIELDS; f++) {
		if (!strcmp(p->path, field_path[f])) {
			p->field = f;
			p->text.len = 0;
			break;
		}
	}
}

static void end_field(struct pom *p)
{
	const char *t = p->text.p ? p->text.p : "";
	int f = p->field;

	p->field = -1;
	if (p->seen[f]) {
		pom_fail(p, cafs_error_set(p->e, CAFS_VALIDATION, 0, "POM has two <%s>",
					   field_path[f]));
		return;
	}
	p->seen[f] = true;
	while (store_is_ws(*t))
		t++;
	if (!*t)
		return;
	p->v[f] = f == F_DESCRIPTION ? collapse_ws(t) : store_trim_dup(t, strlen(t));
	if (!p->v[f])
		pom_fail(p, store_extract_oom(p->e));
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	struct pom *p = data;

	if (!p->err && p->depth <= TRACK_DEPTH) {
		if (p->field >= 0 && !strcmp(p->path, field_path[p->field]))
			end_field(p);
		else if (!strcmp(p->path, LICENSE_PATH))
			push_license(p);
		else if (!strcmp(p->path, DEPENDENCY_PATH))
			push_dependency(p);
		p->path[p->path_len[p->depth - 1]] = '\0';
	}
	p->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
	struct pom *p = data;

	if (!p->err && p->field >= 0 && store_sbuf_add(&p->text, s, (size_t)len) < 0)
		pom_fail(p, store_extract_oom(p->e));
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	struct pom *p = data;

	pom_fail(p, cafs_error_set(p->e, CAFS_VALIDATION, 0,
				   "POM has a DOCTYPE declaration (refused: no DTDs or entities)"));
}

static void XMLCALL on_entity(void *data, const XML_Char *name, int is_param, const XML_Char *value,
			      int value_len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	struct pom *p = data;

	pom_fail(p, cafs_error_set(p->e, CAFS_VALIDATION, 0,
				   "POM declares the entity '%.64s' (refused)", name));
}

/* Replace *@field by a copy of @value when it is one of the @n property references @refs. */
static int substitute(char **field, const char *const *refs, size_t n, const char *value)
{
	char *copy;

	for (size_t i = 0; *field && i < n; i++) {
		if (strcmp(*field, refs[i]) != 0)
			continue;
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
		free(*field);
		*field = copy;
		break;
	}
	return 0;
}

/* A dependency's "${project.version}" and "${project.groupId}" take the project's values. */
static int substitute_all(struct store_metadata *m, struct cafs_error *e)
{
	static const char *const versions[] = {"${project.version}", "${version}",
					       "${pom.version}"};
	static const char *const groups[] = {"${project.groupId}", "${groupId}", "${pom.groupId}"};

	for (size_t i = 0; i < m->n_deps; i++) {
		struct store_dependency *d = &m->deps[i];

		if (substitute(&d->version_requirement, versions, ARRAY_SIZE(versions),
			       m->version) < 0 ||
		    substitute(&d->namespace_, groups, ARRAY_SIZE(groups), m->namespace_) < 0)
			return store_extract_oom(e);
	}
	return 0;
}

/* The POM's coordinates, summary, links and the parent dependency, after the parse. */
static int finish(struct pom *p)
{
	struct store_metadata *m = p->m;
	const char *scm = p->v[F_SCM_URL], *conn = p->v[F_SCM_CONNECTION], *colon;
	int r;

	if (!scm && conn && !strncmp(conn, "scm:", 4) && (colon = strchr(conn + 4, ':')))
		scm = colon + 1; /* "scm:git:https://..." → "https://..." */
	else if (!scm)
		scm = conn;
	m->namespace_ = steal_ptr(p->v[F_GROUP] ? &p->v[F_GROUP] : &p->v[F_PARENT_GROUP]);
	m->name = steal_ptr(&p->v[F_ARTIFACT]);
	m->version = steal_ptr(p->v[F_VERSION] ? &p->v[F_VERSION] : &p->v[F_PARENT_VERSION]);
	if (!m->namespace_)
		return cafs_error_set(p->e, CAFS_VALIDATION, 0, "POM has no groupId");
	if (!m->name)
		return cafs_error_set(p->e, CAFS_VALIDATION, 0, "POM has no artifactId");
	if (!m->version)
		return cafs_error_set(p->e, CAFS_VALIDATION, 0, "POM has no version");
	m->summary = steal_ptr(p->v[F_DESCRIPTION] ? &p->v[F_DESCRIPTION] : &p->v[F_NAME]);
	m->home_page = steal_ptr(&p->v[F_URL]);
	if (scm && !(m->source_code_repository = strdup(scm)))
		return store_extract_oom(p->e);
	if (p->v[F_PARENT_ARTIFACT]) {
		r = store_metadata_add_dep(
			m, p->v[F_PARENT_GROUP] ? p->v[F_PARENT_GROUP] : m->namespace_,
			p->v[F_PARENT_ARTIFACT], "parent",
			p->v[F_PARENT_VERSION] ? p->v[F_PARENT_VERSION] : m->version, p->e);
		if (r < 0)
			return r;
	}
	return substitute_all(m, p->e);
}

int store_pom_parse(const char *buf, size_t len, struct store_metadata *m, struct cafs_error *e)
{
	struct pom p = {.m = m, .e = e, .field = -1};
	int r;

	if (len > STORE_EXTRACT_MAX_META_BYTES)
		return cafs_error_set(e, CAFS_VALIDATION, 0, "POM is larger than %u MiB",
				      STORE_EXTRACT_MAX_META_BYTES >> 20);
	p.parser = XML_ParserCreate(NULL);
	if (!p.parser)
		return store_extract_oom(e);
	XML_SetUserData(p.parser, &p);
	XML_SetElementHandler(p.parser, on_start, on_end);
	XML_SetCharacterDataHandler(p.parser, on_text);
	XML_SetStartDoctypeDeclHandler(p.parser, on_doctype);
	XML_SetEntityDeclHandler(p.parser, on_entity);
	(void)XML_SetParamEntityParsing(p.parser, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(p.parser, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR && !p.err)
		p.err = cafs_error_set(e, CAFS_VALIDATION, 0, "invalid POM: %s (line %lu)",
				       XML_ErrorString(XML_GetErrorCode(p.parser)),
				       (unsigned long)XML_GetCurrentLineNumber(p.parser));
	r = p.err ? p.err : finish(&p);
	XML_ParserFree(p.parser);
	clear_fields(&p, 0, N_FIELDS - 1);
	free(p.text.p);
	return r;
}
