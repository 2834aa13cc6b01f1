/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Package groups and the origin decision (spec §6, §7; seed 004): pure rules, no I/O, no clock.
 * (A C comment cannot hold a slash followed by a star, so the comments here write the '*' of a
 * pattern as '\*': "/npm/\*" stands for the pattern /npm/ followed by '*'.)
 *
 * - The pattern language of spec §7.1: "/\*", "/<format>/\*", "/<format>/<ns>~",
 *   "/<format>/<ns>/\*", "/<format>/<ns>/<name>~", "/<format>/<ns>/<name>$"; an empty
 *   namespace is written "//" (formats without namespaces: pypi, nuget, ruby, cargo; npm
 *   packages without a scope).
 * - Matching (spec §7.3): STRONG when the coordinates match the pattern as written; WEAK when they
 *   match only after folding both sides (case, runs of '-', '.', '_' to one '.', confusable
 *   characters to one skeleton). '~' is a prefix on a word boundary.
 * - The hierarchy (spec §7.2): a group's parent is the most specific other group whose match set
 *   contains its own; a package belongs to the most specific group it matches, strongly or weakly.
 * - The decision (spec §7.7): allowed(action, repository, package), BLOCK beats ALLOW, the
 *   package's own upstream control covers both intake kinds, a WEAK association blocks all,
 *   INHERIT follows ancestors to the first non-INHERIT mode and uses that group's allowed list.
 *
 * Everything is plain data handed in by the caller (the store loads the domain's groups).
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/names.h"

struct cafs_error;

#define CAFS_GROUP_PATTERN_MIN         2
#define CAFS_GROUP_PATTERN_MAX         520 /* characters, and bytes of UTF-8: both are checked */
#define CAFS_GROUP_ALLOWED_CHANGES_MAX 100 /* add + remove items per update call (decision 9) */

/* The six shapes of spec §7.1. */
enum cafs_group_shape {
	CAFS_GROUP_ALL,         /* "/\*" (the root group) */
	CAFS_GROUP_FORMAT,      /* "/npm/\*" */
	CAFS_GROUP_NS_PREFIX,   /* "/maven/com.anycompany~" */
	CAFS_GROUP_NS_EXACT,    /* "/npm/space/\*", "/pypi//\*" */
	CAFS_GROUP_NAME_PREFIX, /* "/npm/space/anycompany-ui~" */
	CAFS_GROUP_NAME_EXACT,  /* "/maven/org.apache.logging.log4j/log4j-core$" */
};

/* A parsed pattern. Plain value. */
struct cafs_group_pattern {
	enum cafs_group_shape shape;
	enum cafs_format format;                 /* CAFS_FORMAT_NONE for CAFS_GROUP_ALL */
	char namespace_[CAFS_GROUP_PATTERN_MAX]; /* namespace or its prefix; "" = empty namespace */
	char name[CAFS_GROUP_PATTERN_MAX];       /* name, or its prefix; "" above name level */
};

/*
 * Parse @text (spec §7.1): length 2-520, no control or white-space characters, a known format,
 * one of the six shapes, '~' only right after a word character, '*' only right after '/', '$'
 * only after a name, an empty namespace for formats without namespaces and a namespace for
 * those with one once a name is given, and pypi/nuget/swift names written normalized.
 * ValidationException with a message naming what is wrong.
 */
int cafs_group_pattern_parse(const char *text, struct cafs_group_pattern *ret,
			     struct cafs_error *e);

/* The canonical text of @p into @buf (as parsed). Returns the length, or -ENAMETOOLONG. */
int cafs_group_pattern_format(const struct cafs_group_pattern *p, char *buf, size_t bufsz);

enum cafs_match {
	CAFS_MATCH_NONE = 0,
	CAFS_MATCH_WEAK,
	CAFS_MATCH_STRONG,
};

/* "STRONG", "WEAK" (the API's associationType); NULL for none. */
const char *cafs_match_name(enum cafs_match m);

/*
 * How package @format/@namespace_/@name (stored coordinates: normalized where the format
 * normalizes; @namespace_ "" or NULL for none) matches @p.
 */
enum cafs_match cafs_group_pattern_match(const struct cafs_group_pattern *p,
					 enum cafs_format format, const char *namespace_,
					 const char *name);

/*
 * Specificity (spec §7.2 and its PROPOSAL): > 0 when @a is more specific than @b, < 0 when less,
 * 0 when equal (the same pattern). A total order on valid patterns: format given > not;
 * namespace exact > namespace prefix (more characters first) > none; then name exact > name
 * prefix (more characters first) > every name. Patterns of equal rank (same shape and prefix
 * lengths) are ordered by format and bytes, only to make the order total.
 */
int cafs_group_pattern_compare(const struct cafs_group_pattern *a,
			       const struct cafs_group_pattern *b);

/*
 * Every package @b matches strongly, @a matches strongly too, and @a != @b (@a is an ancestor).
 * Decided from the shapes over all coordinate strings, so "/pypi/\*" contains "/pypi//\*" even
 * though pypi packages never have a namespace.
 */
bool cafs_group_pattern_contains(const struct cafs_group_pattern *a,
				 const struct cafs_group_pattern *b);

/* The three restriction types of spec §7.4, in the API's order. */
enum cafs_origin_action {
	CAFS_ACTION_PUBLISH = 0,
	CAFS_ACTION_EXTERNAL_UPSTREAM,
	CAFS_ACTION_INTERNAL_UPSTREAM,
	CAFS_ACTION_N,
};

/* "PUBLISH", ... ; parse answers -1 when unknown. */
const char *cafs_origin_action_name(enum cafs_origin_action a);
int cafs_origin_action_parse(const char *s);

enum cafs_group_mode {
	CAFS_MODE_INHERIT = 0,
	CAFS_MODE_ALLOW,
	CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES,
	CAFS_MODE_BLOCK,
};

/* "INHERIT", "ALLOW", "ALLOW_SPECIFIC_REPOSITORIES", "BLOCK"; parse answers -1 when unknown. */
const char *cafs_group_mode_name(enum cafs_group_mode m);
int cafs_group_mode_parse(const char *s);

/* One group as the decision needs it. Borrowed strings. */
struct cafs_group {
	const char *text; /* the pattern as defined (its identity) */
	struct cafs_group_pattern pattern;
	enum cafs_group_mode mode[CAFS_ACTION_N];
	const char *const *allowed[CAFS_ACTION_N]; /* repository names per restriction type */
	size_t n_allowed[CAFS_ACTION_N];
};

/*
 * The parent of @groups[@i] among @groups (n of them): the most specific other group whose
 * pattern contains it. -1 for the root "/\*" (or when none contains it).
 */
long cafs_group_parent(const struct cafs_group *groups, size_t n, size_t i);

/*
 * The group package @format/@namespace_/@name belongs to: the most specific group it matches,
 * strongly or weakly; its index, and *@ret_match. Among equally specific patterns (variants of
 * one another, such as "/npm//foo$" and "/npm//Foo$") a strong match wins, so a group naming a
 * variant exactly takes that variant. -1 (and CAFS_MATCH_NONE) when none matches (no root group
 * in @groups).
 */
long cafs_group_associate(const struct cafs_group *groups, size_t n, enum cafs_format format,
			  const char *namespace_, const char *name, enum cafs_match *ret_match);

/*
 * The effective mode of restriction @a for @groups[@i]: its own unless INHERIT, else that of the
 * nearest ancestor whose mode is not INHERIT; *@ret_from is the index of the group it comes from
 * (@i itself when not inherited). A chain ending without a mode answers BLOCK with *@ret_from -1.
 */
enum cafs_group_mode cafs_group_effective_mode(const struct cafs_group *groups, size_t n, size_t i,
					       enum cafs_origin_action a, long *ret_from);

/* The package's own origin controls in the repository (spec §6.1), when it has a record. */
struct cafs_package_controls {
	bool present;
	bool publish_allow;  /* publish=ALLOW */
	bool upstream_allow; /* upstream=ALLOW */
};

/* Why a decision came out as it did: the first rule that denied, or ALLOWED. */
enum cafs_origin_rule {
	CAFS_RULE_ALLOWED = 0,
	CAFS_RULE_PACKAGE_PUBLISH_BLOCK,  /* the package's publish=BLOCK */
	CAFS_RULE_PACKAGE_UPSTREAM_BLOCK, /* the package's upstream=BLOCK */
	CAFS_RULE_WEAK_MATCH,             /* associated by a weak match: everything blocked */
	CAFS_RULE_GROUP_BLOCK,            /* the group's effective mode is BLOCK */
	CAFS_RULE_NOT_ON_LIST,            /* ALLOW_SPECIFIC_REPOSITORIES, repository not listed */
	CAFS_RULE_NO_GROUP,               /* no group at all matched (no root): BLOCK */
};

/* The decision and its full reason chain. Plain value; indexes into the caller's groups. */
struct cafs_origin_decision {
	bool allowed;
	enum cafs_origin_rule rule;
	enum cafs_origin_action action;
	struct cafs_package_controls package;
	long group;                     /* associated group, -1 if none */
	enum cafs_match match;          /* how the package matched it */
	enum cafs_group_mode mode;      /* the group's own mode for the action */
	enum cafs_group_mode effective; /* after INHERIT */
	long inherited_from;            /* group the effective mode comes from (== group if own) */
	bool on_list;                   /* ALLOW_SPECIFIC_REPOSITORIES: the repository is listed */
};

/*
 * allowed(@a, @repository, package) of spec §7.7, for package @format/@namespace_/@name
 * with its own controls @pkg in @repository, under @groups. Never fails.
 */
void cafs_origin_decide(const struct cafs_group *groups, size_t n, enum cafs_origin_action a,
			const char *repository, const struct cafs_package_controls *pkg,
			enum cafs_format format, const char *namespace_, const char *name,
			struct cafs_origin_decision *ret);

/*
 * The reason chain of @d in words, one clause per step, into @buf (always terminated, cut at
 * @bufsz): e.g. "PUBLISH into 'team' of npm package @space/anycompany-ui: package controls
 * publish=ALLOW upstream=BLOCK; group /npm/space/anycompany~ (STRONG match, most specific of 3
 * matching); its PUBLISH mode INHERIT, effective ALLOW_SPECIFIC_REPOSITORIES inherited from
 * /npm/\*; 'team' is not on its PUBLISH list; verdict: BLOCKED". Returns the length written.
 */
size_t cafs_origin_explain(const struct cafs_group *groups, size_t n,
			   const struct cafs_origin_decision *d, const char *repository,
			   enum cafs_format format, const char *namespace_, const char *name,
			   char *buf, size_t bufsz);
