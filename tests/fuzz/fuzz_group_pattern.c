/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "group_pattern": the package-group pattern language (policy/group.h). The input
 * is a list of lines. Each line is parsed with cafs_group_pattern_parse(); a pattern that
 * parses must format back to exactly its text, and that text must parse to the same pattern
 * (parse -> format -> parse is stable). Every pattern must match its own coordinates strongly
 * (a name exact or prefix pattern its name, a namespace pattern its namespace).
 *
 * Up to MAX_GROUPS parsed lines then form a set of groups (modes and allowed lists drawn from
 * the line number), on which the hierarchy and the decision run: compare() must be
 * antisymmetric and zero only for the same pattern, contains() must imply "less specific" and
 * never hold both ways, a group's parent must contain it, and the decision and its explanation
 * must come out for every pattern's coordinates and for lines "=<format> <ns> <name>".
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "policy/common.h"
#include "policy/group.h"
#include "tests/fuzz/fuzz.h"

#define MAX_GROUPS 8
#define MAX_COORDS 8
#define MAX_TEXT   8192 /* longer inputs add nothing: a pattern has at most 520 bytes */

struct coord {
	enum cafs_format format;
	const char *ns;
	const char *name;
};

static bool same(const struct cafs_group_pattern *a, const struct cafs_group_pattern *b)
{
	return a->shape == b->shape && a->format == b->format &&
	       strcmp(a->namespace_, b->namespace_) == 0 && strcmp(a->name, b->name) == 0;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* Parse @text; on success check the round trip and self-matching, fill *@ret, return true. */
static bool parse_one(const char *text, struct cafs_group_pattern *ret)
{
	struct cafs_group_pattern p, q;
	struct cafs_error e = {0};
	char buf[2 * CAFS_GROUP_PATTERN_MAX + 16], again[sizeof(buf)];
	int n, r;

	r = cafs_group_pattern_parse(text, &p, &e);
	if (r < 0) {
		FUZZ_CHECK(e.kind == CAFS_VALIDATION);
		FUZZ_CHECK(fuzz_terminated(e.msg, sizeof(e.msg)) && e.msg[0]);
		return false;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(fuzz_terminated(p.namespace_, sizeof(p.namespace_)));
	FUZZ_CHECK(fuzz_terminated(p.name, sizeof(p.name)));

	n = cafs_group_pattern_format(&p, buf, sizeof(buf));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(buf));
	FUZZ_CHECK(strcmp(buf, text) == 0); /* the canonical text is the text as parsed */
	r = cafs_group_pattern_parse(buf, &q, &e);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(same(&p, &q));
	FUZZ_CHECK(cafs_group_pattern_format(&q, again, sizeof(again)) == n);
	FUZZ_CHECK(strcmp(again, buf) == 0);
	/* a buffer one byte short is refused, never overrun */
	FUZZ_CHECK(cafs_group_pattern_format(&p, again, (size_t)n) == -ENAMETOOLONG);

	FUZZ_CHECK(cafs_group_pattern_compare(&p, &q) == 0);
	FUZZ_CHECK(!cafs_group_pattern_contains(&p, &q));
	switch (p.shape) {
	case CAFS_GROUP_ALL:
	case CAFS_GROUP_FORMAT:
		FUZZ_CHECK(cafs_group_pattern_match(&p, p.format, "x", "y") == CAFS_MATCH_STRONG);
		break;
	case CAFS_GROUP_NS_PREFIX:
	case CAFS_GROUP_NS_EXACT:
		FUZZ_CHECK(cafs_group_pattern_match(&p, p.format, p.namespace_, "y") ==
			   CAFS_MATCH_STRONG);
		break;
	case CAFS_GROUP_NAME_PREFIX:
	case CAFS_GROUP_NAME_EXACT:
		FUZZ_CHECK(cafs_group_pattern_match(&p, p.format, p.namespace_, p.name) ==
			   CAFS_MATCH_STRONG);
		break;
	}
	*ret = p;
	return true;
}

/* "=<format> <ns> <name>" (ns "-" for none): a coordinate to decide on. */
static bool parse_coord(char *line, struct coord *ret)
{
	char *save = NULL, *f, *ns, *name;

	if (line[0] != '=')
		return false;
	f = strtok_r(line + 1, " ", &save);
	ns = f ? strtok_r(NULL, " ", &save) : NULL;
	name = ns ? strtok_r(NULL, " ", &save) : NULL;
	if (!name)
		return false;
	ret->format = cafs_format_parse(f);
	ret->ns = strcmp(ns, "-") == 0 ? NULL : ns;
	ret->name = name;
	return true;
}

static void check_pair(const struct cafs_group_pattern *a, const struct cafs_group_pattern *b)
{
	int ab = cafs_group_pattern_compare(a, b);
	int ba = cafs_group_pattern_compare(b, a);

	FUZZ_CHECK(sign(ab) == -sign(ba));
	FUZZ_CHECK((ab == 0) == same(a, b));
	if (cafs_group_pattern_contains(a, b)) {
		FUZZ_CHECK(!cafs_group_pattern_contains(b, a));
		FUZZ_CHECK(ab < 0); /* an ancestor is less specific */
	}
}

static void decide_all(const struct cafs_group *groups, size_t n, const struct coord *c)
{
	static const char *const repos[] = {"team", "upstream", "other"};
	char why[2048];

	for (int a = 0; a < CAFS_ACTION_N; a++) {
		for (size_t r = 0; r < ARRAY_SIZE(repos); r++) {
			struct cafs_package_controls pkg = {.present = r == 1,
							    .publish_allow = a == 0,
							    .upstream_allow = false};
			struct cafs_origin_decision d;
			size_t len;

			cafs_origin_decide(groups, n, (enum cafs_origin_action)a, repos[r], &pkg,
					   c->format, c->ns, c->name, &d);
			FUZZ_CHECK(d.group >= -1 && d.group < (long)n);
			FUZZ_CHECK(d.inherited_from >= -1 && d.inherited_from < (long)n);
			FUZZ_CHECK(d.allowed == (d.rule == CAFS_RULE_ALLOWED));
			len = cafs_origin_explain(groups, n, &d, repos[r], c->format, c->ns,
						  c->name, why, sizeof(why));
			FUZZ_CHECK(len < sizeof(why) && strlen(why) == len);
			/* a short buffer is cut, terminated */
			len = cafs_origin_explain(groups, n, &d, repos[r], c->format, c->ns,
						  c->name, why, 16);
			FUZZ_CHECK(strlen(why) < 16);
			(void)len;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const lists[] = {"team", "upstream"};
	struct cafs_group groups[MAX_GROUPS];
	struct coord coords[MAX_COORDS + MAX_GROUPS];
	size_t n = 0, nc = 0;
	char *text, *save = NULL;

	if (size > MAX_TEXT)
		return 0;
	text = fuzz_strndup(data, size);
	/* the whole input as one pattern first: newlines are among the characters refused */
	{
		struct cafs_group_pattern p;

		(void)parse_one(text, &p);
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cafs_group *g = &groups[n];

		if (nc < MAX_COORDS && parse_coord(line, &coords[nc])) {
			nc++;
			continue;
		}
		if (n == MAX_GROUPS || !parse_one(line, &g->pattern))
			continue;
		g->text = line;
		for (int a = 0; a < CAFS_ACTION_N; a++) {
			/* the root must not inherit; the others take all four modes */
			g->mode[a] = (enum cafs_group_mode)((n + (size_t)a) % 4);
			if (g->pattern.shape == CAFS_GROUP_ALL && g->mode[a] == CAFS_MODE_INHERIT)
				g->mode[a] = CAFS_MODE_ALLOW;
			g->allowed[a] = lists;
			g->n_allowed[a] = (n + (size_t)a) % 3;
		}
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		long parent = cafs_group_parent(groups, n, i);

		FUZZ_CHECK(parent >= -1 && parent < (long)n && parent != (long)i);
		if (parent >= 0)
			FUZZ_CHECK(cafs_group_pattern_contains(&groups[parent].pattern,
							       &groups[i].pattern));
		for (size_t j = 0; j < n; j++)
			check_pair(&groups[i].pattern, &groups[j].pattern);
		for (int a = 0; a < CAFS_ACTION_N; a++) {
			long from = -2;
			enum cafs_group_mode m = cafs_group_effective_mode(
				groups, n, i, (enum cafs_origin_action)a, &from);

			FUZZ_CHECK(from >= -1 && from < (long)n);
			FUZZ_CHECK(m != CAFS_MODE_INHERIT);
		}
		coords[nc++] = (struct coord){groups[i].pattern.format,
					      groups[i].pattern.namespace_, groups[i].pattern.name};
	}
	for (size_t i = 0; i < nc; i++) {
		enum cafs_match match;
		long g = cafs_group_associate(groups, n, coords[i].format, coords[i].ns,
					      coords[i].name, &match);

		FUZZ_CHECK(g >= -1 && g < (long)n);
		FUZZ_CHECK((g == -1) == (match == CAFS_MATCH_NONE));
		decide_all(groups, n, &coords[i]);
	}
	free(text);
	return 0;
}
