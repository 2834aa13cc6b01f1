/* SPDX-License-Identifier: MIT */
/*
 * Package groups and the origin decision (spec §6, §7, seed 004): every pattern shape valid
 * and invalid with its exact message, word-boundary and weak matching, specificity,
 * containment and parents, INHERIT chains, allowed lists, the decision table of spec §7.7 row
 * by row, the two seed scenarios, the explanation text, and a naive reference model written
 * independently (matching on the package path as a string, parents by containment over sample
 * packages, the decision by the pseudo-code) compared on generated cases with a fixed seed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy/common.h"
#include "policy/group.h"
#include "policy/names.h"
#include "tests/unit/unit.h"

#define ALLOW   CAFS_MODE_ALLOW
#define ASR     CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES
#define BLOCK   CAFS_MODE_BLOCK
#define INHERIT CAFS_MODE_INHERIT

static struct cafs_group_pattern parse_ok(const char *text)
{
	struct cafs_group_pattern p;
	struct cafs_error e = {0};
	int r = cafs_group_pattern_parse(text, &p, &e);

	if (r != 0)
		print_error("unexpected refusal of '%s': %s\n", text, e.msg);
	assert_int_equal(r, 0);
	return p;
}

/* A group with its three modes; allowed lists are set by the caller. */
static void group_set(struct cafs_group *g, const char *text, enum cafs_group_mode publish,
		      enum cafs_group_mode ext, enum cafs_group_mode in)
{
	memset(g, 0, sizeof(*g));
	g->text = text;
	g->pattern = parse_ok(text);
	g->mode[CAFS_ACTION_PUBLISH] = publish;
	g->mode[CAFS_ACTION_EXTERNAL_UPSTREAM] = ext;
	g->mode[CAFS_ACTION_INTERNAL_UPSTREAM] = in;
}

static void group_list(struct cafs_group *g, enum cafs_origin_action a, const char *const *repos,
		       size_t n)
{
	g->allowed[a] = repos;
	g->n_allowed[a] = n;
}

/* ---- pattern syntax ---------------------------------------------------------------------- */

static void parse_valid(void **state)
{
	static const struct {
		const char *text;
		enum cafs_group_shape shape;
		enum cafs_format format;
		const char *ns, *name;
	} rows[] = {
		{"/*", CAFS_GROUP_ALL, CAFS_FORMAT_NONE, "", ""},
		{"/npm/*", CAFS_GROUP_FORMAT, CAFS_FORMAT_NPM, "", ""},
		{"/pypi/*", CAFS_GROUP_FORMAT, CAFS_FORMAT_PYPI, "", ""},
		{"/cargo/*", CAFS_GROUP_FORMAT, CAFS_FORMAT_CARGO, "", ""},
		{"/maven/com.anycompany~", CAFS_GROUP_NS_PREFIX, CAFS_FORMAT_MAVEN,
		 "com.anycompany", ""},
		{"/generic/x~", CAFS_GROUP_NS_PREFIX, CAFS_FORMAT_GENERIC, "x", ""},
		{"/npm/space/*", CAFS_GROUP_NS_EXACT, CAFS_FORMAT_NPM, "space", ""},
		{"/npm//*", CAFS_GROUP_NS_EXACT, CAFS_FORMAT_NPM, "", ""},
		{"/pypi//*", CAFS_GROUP_NS_EXACT, CAFS_FORMAT_PYPI, "", ""},
		{"/npm/space/anycompany-ui~", CAFS_GROUP_NAME_PREFIX, CAFS_FORMAT_NPM, "space",
		 "anycompany-ui"},
		{"/nuget//alpha~", CAFS_GROUP_NAME_PREFIX, CAFS_FORMAT_NUGET, "", "alpha"},
		{"/ruby//rails~", CAFS_GROUP_NAME_PREFIX, CAFS_FORMAT_RUBY, "", "rails"},
		{"/maven/org.apache.logging.log4j/log4j-core$", CAFS_GROUP_NAME_EXACT,
		 CAFS_FORMAT_MAVEN, "org.apache.logging.log4j", "log4j-core"},
		{"/npm//react$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_NPM, "", "react"},
		{"/pypi//requests$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_PYPI, "", "requests"},
		{"/pypi//pigeon-cli~", CAFS_GROUP_NAME_PREFIX, CAFS_FORMAT_PYPI, "", "pigeon-cli"},
		{"/cargo//serde$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_CARGO, "", "serde"},
		{"/swift/apple/swift-nio$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_SWIFT, "apple",
		 "swift-nio"},
		{"/generic/My-NS/Tool~", CAFS_GROUP_NAME_PREFIX, CAFS_FORMAT_GENERIC, "My-NS",
		 "Tool"},
		/* definitions are case-sensitive: three distinct groups */
		{"/npm//AsyncStorage$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_NPM, "", "AsyncStorage"},
		{"/npm//asyncStorage$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_NPM, "", "asyncStorage"},
		{"/npm//asyncstorage$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_NPM, "", "asyncstorage"},
		/* '$' follows any name, '~' any letter, a non-ASCII one included */
		{"/npm//foo-$", CAFS_GROUP_NAME_EXACT, CAFS_FORMAT_NPM, "", "foo-"},
		{"/npm/space/caf\xc3\xa9~", CAFS_GROUP_NAME_PREFIX, CAFS_FORMAT_NPM, "space",
		 "caf\xc3\xa9"},
		{"/npm/x9~", CAFS_GROUP_NS_PREFIX, CAFS_FORMAT_NPM, "x9", ""},
	};
	char buf[CAFS_GROUP_PATTERN_MAX + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct cafs_group_pattern p = parse_ok(rows[i].text);

		assert_int_equal(p.shape, rows[i].shape);
		assert_int_equal(p.format, rows[i].format);
		assert_string_equal(p.namespace_, rows[i].ns);
		assert_string_equal(p.name, rows[i].name);
		assert_int_equal(cafs_group_pattern_format(&p, buf, sizeof(buf)),
				 (int)strlen(rows[i].text));
		assert_string_equal(buf, rows[i].text);
	}
}

static void parse_invalid(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} rows[] = {
		{"", "package group pattern '' is shorter than 2 characters"},
		{"/", "package group pattern '/' is shorter than 2 characters"},
		{"npm/*", "package group pattern 'npm/*': must start with '/'"},
		{"/npm", "package group pattern '/npm': must end with '$', '~' or '*'"},
		{"/npm/x", "package group pattern '/npm/x': must end with '$', '~' or '*'"},
		{"/npm/space/",
		 "package group pattern '/npm/space/': must end with '$', '~' or '*'"},
		{"/**", "package group pattern '/**': '*' may only end the pattern"},
		{"/npm/*/x$", "package group pattern '/npm/*/x$': '*' may only end the pattern"},
		{"/npm/a~/b$", "package group pattern '/npm/a~/b$': '~' may only end the pattern"},
		{"/npm/a$/b$", "package group pattern '/npm/a$/b$': '$' may only end the pattern"},
		{"/npm*",
		 "package group pattern '/npm*': '*' must directly follow '/'; end a prefix "
		 "with '~'"},
		{"/npm/space/foo*", "package group pattern '/npm/space/foo*': '*' must directly "
				    "follow '/'; end a prefix with '~'"},
		{"/npm/a/b/c$", "package group pattern '/npm/a/b/c$': too many '/': a pattern "
				"names at most a format, a namespace and a name"},
		{"/npm/a/b/c/*", "package group pattern '/npm/a/b/c/*': too many '/': a pattern "
				 "names at most a format, a namespace and a name"},
		{"/npm/a/b/*", "package group pattern '/npm/a/b/*': '*' cannot follow a package "
			       "name; end it with '~' or '$'"},
		{"//*", "package group pattern '//*': the format is missing"},
		{"//x$", "package group pattern '//x$': the format is missing"},
		{"/foo/*", "package group pattern '/foo/*': unknown format 'foo'"},
		{"/NPM/*", "package group pattern '/NPM/*': unknown format 'NPM'"},
		{"/python//requests$",
		 "package group pattern '/python//requests$': unknown format 'python'"},
		{"/npm/~", "package group pattern '/npm/~': '~' must follow a letter or digit; use "
			   "'*' after '/'"},
		{"/npm//~", "package group pattern '/npm//~': '~' must follow a letter or digit; "
			    "use '*' after '/'"},
		{"/npm/space/~",
		 "package group pattern '/npm/space/~': '~' must follow a letter or "
		 "digit; use '*' after '/'"},
		{"/npm/space/foo-~", "package group pattern '/npm/space/foo-~': '~' must follow a "
				     "letter or digit, not '-'"},
		{"/maven/com.~", "package group pattern '/maven/com.~': '~' must follow a letter "
				 "or digit, not '.'"},
		{"/npm~", "package group pattern '/npm~': '~' cannot follow a format; write "
			  "'/npm/*'"},
		{"/npm/$", "package group pattern '/npm/$': '$' must follow a package name"},
		{"/npm/space/$",
		 "package group pattern '/npm/space/$': '$' must follow a package name"},
		{"/npm$", "package group pattern '/npm$': '$' must follow a package name; write "
			  "'/npm/*' for the whole format"},
		{"/npm/space$", "package group pattern '/npm/space$': '$' must follow a package "
				"name; write '/npm/space/*' for the whole namespace"},
		{"/pypi/x~", "package group pattern '/pypi/x~': pypi has no namespaces: write "
			     "'/pypi//x~'"},
		{"/pypi/x/*", "package group pattern '/pypi/x/*': pypi has no namespaces: write "
			      "'/pypi//*'"},
		{"/pypi/acme/requests$", "package group pattern '/pypi/acme/requests$': pypi has "
					 "no namespaces: write '/pypi//requests$'"},
		{"/nuget/x/y~", "package group pattern '/nuget/x/y~': nuget has no namespaces: "
				"write '/nuget//y~'"},
		{"/ruby/x/*",
		 "package group pattern '/ruby/x/*': ruby has no namespaces: write '/ruby//*'"},
		{"/cargo/serde~", "package group pattern '/cargo/serde~': cargo has no namespaces: "
				  "write '/cargo//serde~'"},
		{"/maven//x$", "package group pattern '/maven//x$': maven needs a namespace before "
			       "a package name: write '/maven/<namespace>/x$'"},
		{"/generic//tool~", "package group pattern '/generic//tool~': generic needs a "
				    "namespace before a package name: write "
				    "'/generic/<namespace>/tool~'"},
		{"/maven//*", "package group pattern '/maven//*': maven needs a namespace: write "
			      "'/maven/*' for every package"},
		{"/swift//*", "package group pattern '/swift//*': swift needs a namespace: write "
			      "'/swift/*' for every package"},
		{"/pypi//Requests$", "package group pattern '/pypi//Requests$': pypi names must be "
				     "written normalized (PEP 503): write '/pypi//requests$'"},
		{"/pypi//foo_bar~", "package group pattern '/pypi//foo_bar~': pypi names must be "
				    "written normalized (PEP 503): write '/pypi//foo-bar~'"},
		{"/pypi//foo.bar$", "package group pattern '/pypi//foo.bar$': pypi names must be "
				    "written normalized (PEP 503): write '/pypi//foo-bar$'"},
		{"/pypi//foo--bar$", "package group pattern '/pypi//foo--bar$': pypi names must be "
				     "written normalized (PEP 503): write '/pypi//foo-bar$'"},
		{"/nuget//Newtonsoft.Json$",
		 "package group pattern '/nuget//Newtonsoft.Json$': nuget names must be written "
		 "normalized (lower case): write '/nuget//newtonsoft.json$'"},
		{"/swift/Apple/*", "package group pattern '/swift/Apple/*': swift namespaces and "
				   "names must be written normalized (lower case): write "
				   "'/swift/apple/*'"},
		{"/swift/Apple~", "package group pattern '/swift/Apple~': swift namespaces and "
				  "names must be written normalized (lower case): write "
				  "'/swift/apple~'"},
		{"/swift/apple/Nio$", "package group pattern '/swift/apple/Nio$': swift namespaces "
				      "and names must be written normalized (lower case): write "
				      "'/swift/apple/nio$'"},
		/* control and white-space characters are shown as '?' */
		{"/npm/a b/*",
		 "package group pattern '/npm/a?b/*' contains a control or white-space "
		 "character"},
		{"/npm/a\tb/*", "package group pattern '/npm/a?b/*' contains a control or "
				"white-space character"},
		{"/npm//x$\n",
		 "package group pattern '/npm//x$?' contains a control or white-space "
		 "character"},
		{"/npm/a\x7f/*", "package group pattern '/npm/a?/*' contains a control or "
				 "white-space character"},
		{"/npm/a\xc2\x85/*", "package group pattern '/npm/a?/*' contains a control or "
				     "white-space character"},
		{"/npm/a\xc2\xa0\x62/*", "package group pattern '/npm/a?b/*' contains a control or "
					 "white-space character"},
		{"/npm/a\xe3\x80\x80\x62/*", "package group pattern '/npm/a?b/*' contains a "
					     "control or white-space character"},
		{"/npm/a\xe2\x80\xa8/*", "package group pattern '/npm/a?/*' contains a control or "
					 "white-space character"},
		/* malformed UTF-8: stray, cut, overlong, surrogate */
		{"/npm/\xff/*", "package group pattern '/npm/?/*' is not valid UTF-8"},
		{"/npm/\xc3/*", "package group pattern '/npm/?/*' is not valid UTF-8"},
		{"/npm/\xc0\xaf/*", "package group pattern '/npm/?\?/*' is not valid UTF-8"},
		{"/npm/\xed\xa0\x80/*", "package group pattern '/npm/?\?\?/*' is not valid UTF-8"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct cafs_group_pattern p;
		struct cafs_error e = {0};

		memset(&p, 0x5a, sizeof(p));
		assert_int_equal(cafs_group_pattern_parse(rows[i].text, &p, &e), -EINVAL);
		assert_int_equal(e.kind, CAFS_VALIDATION);
		assert_string_equal(e.msg, rows[i].msg);
		/* the out-parameter is written only on success */
		assert_int_equal(p.shape, 0x5a5a5a5a);
	}
}

static void parse_lengths(void **state)
{
	struct cafs_group_pattern p;
	struct cafs_error e = {0};
	char text[4 * CAFS_GROUP_PATTERN_MAX + 16], want[256];

	(void)state;
	assert_int_equal(cafs_group_pattern_parse(NULL, &p, &e), -EINVAL);
	assert_string_equal(e.msg, "package group pattern '' is shorter than 2 characters");

	/* 520 characters pass, 521 do not */
	memcpy(text, "/npm/", 5);
	memset(text + 5, 'a', 514);
	memcpy(text + 519, "~", 2);
	assert_int_equal(strlen(text), 520);
	assert_int_equal(cafs_group_pattern_parse(text, &p, &e), 0);
	assert_int_equal(strlen(p.namespace_), 514);
	memset(text + 5, 'a', 515);
	memcpy(text + 520, "~", 2);
	assert_int_equal(cafs_group_pattern_parse(text, &p, &e), -ENAMETOOLONG);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	(void)snprintf(want, sizeof(want),
		       "package group pattern '/npm/%.59s...' is longer than 520 characters",
		       text + 5);
	assert_string_equal(e.msg, want);

	/* non-ASCII: 520 bytes of UTF-8 at most as well, and messages cut between characters */
	memcpy(text, "/npm/", 5);
	for (size_t i = 0; i < 257; i++)
		memcpy(text + 5 + 2 * i, "\xc3\xa9", 2);
	memcpy(text + 5 + 2 * 257, "~", 2);
	assert_int_equal(strlen(text), 520);
	assert_int_equal(cafs_group_pattern_parse(text, &p, &e), 0);
	assert_int_equal(p.shape, CAFS_GROUP_NS_PREFIX);
	assert_int_equal(strlen(p.namespace_), 514);
	memcpy(text + 5 + 2 * 257, "\xc3\xa9~", 4);
	assert_int_equal(cafs_group_pattern_parse(text, &p, &e), -ENAMETOOLONG);
	(void)snprintf(want, sizeof(want),
		       "package group pattern '/npm/%.58s...' is longer than 520 bytes of UTF-8",
		       text + 5);
	assert_string_equal(e.msg, want);
	for (size_t i = 0; i < 515; i++)
		memcpy(text + 5 + 2 * i, "\xc3\xa9", 2);
	memcpy(text + 5 + 2 * 515, "~", 2);
	assert_int_equal(cafs_group_pattern_parse(text, &p, &e), -ENAMETOOLONG);
	(void)snprintf(want, sizeof(want),
		       "package group pattern '/npm/%.58s...' is longer than 520 characters",
		       text + 5);
	assert_string_equal(e.msg, want);

	/* a long suggestion or quote never overflows the message */
	memcpy(text, "/pypi/", 6);
	memset(text + 6, 'X', 500);
	memcpy(text + 506, "/*", 3);
	assert_int_equal(cafs_group_pattern_parse(text, &p, &e), -EINVAL);
	assert_true(strlen(e.msg) < sizeof(e.msg));
	assert_non_null(strstr(e.msg, "pypi has no namespaces: write '/pypi//*'"));

	/* a NULL error is allowed */
	assert_int_equal(cafs_group_pattern_parse("/npm", &p, NULL), -EINVAL);
}

static void format_buffers(void **state)
{
	struct cafs_group_pattern p = parse_ok("/npm/space/*");
	char buf[16];

	(void)state;
	assert_int_equal(cafs_group_pattern_format(&p, buf, 13), 12);
	assert_string_equal(buf, "/npm/space/*");
	assert_int_equal(cafs_group_pattern_format(&p, buf, 12), -ENAMETOOLONG);
	assert_int_equal(cafs_group_pattern_format(&p, NULL, 0), -ENAMETOOLONG);
	p.format = CAFS_FORMAT_NONE;
	assert_int_equal(cafs_group_pattern_format(&p, buf, sizeof(buf)), -EINVAL);
	p = parse_ok("/*");
	assert_int_equal(cafs_group_pattern_format(&p, buf, 3), 2);
	assert_string_equal(buf, "/*");
}

/* ---- matching ---------------------------------------------------------------------------- */

struct match_row {
	const char *pattern;
	enum cafs_format format;
	const char *ns, *name;
	enum cafs_match want;
};

static void check_match_rows(const struct match_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cafs_group_pattern p = parse_ok(rows[i].pattern);
		enum cafs_match m =
			cafs_group_pattern_match(&p, rows[i].format, rows[i].ns, rows[i].name);

		if (m != rows[i].want)
			print_error("'%s' against %s/%s/%s\n", rows[i].pattern,
				    cafs_format_name(rows[i].format),
				    rows[i].ns ? rows[i].ns : "(null)", rows[i].name);
		assert_int_equal(m, rows[i].want);
	}
}

#define S   CAFS_MATCH_STRONG
#define W   CAFS_MATCH_WEAK
#define N   CAFS_MATCH_NONE
#define NPM CAFS_FORMAT_NPM

static void match_shapes_and_boundaries(void **state)
{
	static const struct match_row rows[] = {
		{"/*", CAFS_FORMAT_CARGO, "", "serde", S},
		{"/*", NPM, "Any", "Thing", S},
		{"/npm/*", NPM, "space", "x", S},
		{"/npm/*", NPM, NULL, "x", S},
		{"/npm/*", CAFS_FORMAT_PYPI, "", "x", N},
		/* '~' is a prefix on a word boundary */
		{"/npm/space/foo~", NPM, "space", "foo", S},
		{"/npm/space/foo~", NPM, "space", "foo-bar", S},
		{"/npm/space/foo~", NPM, "space", "foo.bar", S},
		{"/npm/space/foo~", NPM, "space", "foo_bar", S},
		{"/npm/space/foo~", NPM, "space", "foo+x", S},
		{"/npm/space/foo~", NPM, "space", "food", N},
		{"/npm/space/foo~", NPM, "space", "foot", N},
		{"/npm/space/foo~", NPM, "space", "foo9", N},
		{"/npm/space/foo~", NPM, "space", "fooBar", N}, /* camel case is one word */
		{"/npm/space/foo~", NPM, "space", "fo", N},
		{"/npm/space/foo~", NPM, "other", "foo", N},
		{"/npm/space/foo~", NPM, "", "foo", N},
		{"/npm/space/foo~", CAFS_FORMAT_GENERIC, "space", "foo", N},
		{"/npm/space/anycompany-ui~", NPM, "space", "anycompany-ui-button", S},
		{"/npm/space/anycompany-ui~", NPM, "space", "anycompany-uix", N},
		{"/npm/space/anycompany-ui~", NPM, "space", "anycompany", N},
		/* non-ASCII letters belong to words */
		{"/npm//caf~", NPM, "", "caf\xc3\xa9", N},
		{"/npm//caf\xc3\xa9~", NPM, "", "caf\xc3\xa9", S},
		{"/npm//caf\xc3\xa9~", NPM, "", "caf\xc3\xa9-au-lait", S},
		{"/npm//caf\xc3\xa9~", NPM, "", "caf\xc3\xa9s", N},
		/* namespace prefixes */
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "com.anycompany", "x", S},
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "com.anycompany.foo", "x", S},
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "com.anycompany-x", "x", S},
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "com.anycompanyx", "x", N},
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "com", "x", N},
		{"/maven/com.anycompany~", NPM, "com.anycompany", "x", N},
		/* exact namespaces; the empty one */
		{"/npm/space/*", NPM, "space", "anything", S},
		{"/npm/space/*", NPM, "spacex", "anything", N},
		{"/npm/space/*", NPM, "", "anything", N},
		{"/npm//*", NPM, "", "react", S},
		{"/npm//*", NPM, NULL, "react", S},
		{"/npm//*", NPM, "space", "react", N},
		{"/pypi//*", CAFS_FORMAT_PYPI, NULL, "requests", S},
		/* exact names */
		{"/maven/org.apache.logging.log4j/log4j-core$", CAFS_FORMAT_MAVEN,
		 "org.apache.logging.log4j", "log4j-core", S},
		{"/maven/org.apache.logging.log4j/log4j-core$", CAFS_FORMAT_MAVEN,
		 "org.apache.logging.log4j", "log4j-core-x", N},
		{"/npm//react$", NPM, "", "react", S},
		{"/npm//react$", NPM, "", "reactx", N},
		{"/npm//react$", NPM, "", "reac", N},
		{"/npm//react$", NPM, "x", "react", N},
	};

	(void)state;
	check_match_rows(rows, ARRAY_SIZE(rows));
	assert_string_equal(cafs_match_name(CAFS_MATCH_STRONG), "STRONG");
	assert_string_equal(cafs_match_name(CAFS_MATCH_WEAK), "WEAK");
	assert_null(cafs_match_name(CAFS_MATCH_NONE));
}

static void match_weak_variants(void **state)
{
	static const struct match_row rows[] = {
		/* spec §7.3's example */
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompany-spicy-client", S},
		{"/npm//anycompany-spicy-client$", NPM, "", "AnyCompany-Spicy-Client", W},
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompany_spicy_client", W},
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompany.spicy.client", W},
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompany--spicy..client", W},
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompany-_.spicy-client", W},
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompanyspicyclient", N},
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompany-spicy-clientx", N},
		{"/npm//anycompany-spicy-client$", NPM, "", "anycompany-spicy-client-", N},
		/* confusables: Cyrillic а, digits 0 and 1 */
		{"/npm//anycompany-spicy-client$", NPM, "", "\xd0\xb0nycompany-spicy-client", W},
		{"/npm//anycompany-spicy-client$", NPM, "", "anyc0mpany-spicy-c1ient", W},
		{"/npm//lodash$", NPM, "", "l0dash", W},
		{"/npm//lodash$", NPM, "", "1odash", W},
		{"/npm//lodash$", NPM, "", "LODASH", W},
		{"/npm//lodash$", NPM, "",
		 "l\xd0\xbe"
		 "d\xd0\xb0sh",
		 W}, /* Cyrillic о, а */
		{"/npm//lodash$", NPM, "",
		 "l\xce\xbf"
		 "d\xce\xb1sh",
		 W},                                            /* Greek ο, α */
		{"/npm//lodash$", NPM, "", "Iodash", N},        /* I folds to i, not l */
		{"/npm//lodash$", NPM, "", "\xce\xb9odash", N}, /* Greek ι is an i */
		{"/npm//lodash$", NPM, "",
		 "l\xc3\xb6"
		 "dash",
		 N}, /* ö is no o */
		{"/npm//vector$", NPM, "",
		 "\xce\xbd"
		 "ect\xce\xbfr",
		 W},                                                    /* Greek ν, ο */
		{"/npm//tex$", NPM, "", "\xd0\xa2\xd0\x95\xd0\xa5", W}, /* Cyrillic Т Е Х */
		{"/npm//pcyx$", NPM, "", "\xd1\x80\xd1\x81\xd1\x83\xd1\x85", W}, /* р с у х */
		{"/npm//isj$", NPM, "", "\xd1\x96\xd1\x95\xd1\x98", W},          /* і ѕ ј */
		{"/npm//eta$", NPM, "", "\xd0\xb5\xcf\x84\xce\xb1", W},          /* е τ α */
		{"/npm//oper$", NPM, "", "0\xcf\x81\xce\xb5r", W},               /* 0 ρ ε */
		/* the pattern folds too */
		{"/npm//Foo_Bar$", NPM, "", "foo-bar", W},
		{"/npm//Foo_Bar$", NPM, "", "Foo_Bar", S},
		{"/npm//foo.bar$", NPM, "", "foo-bar", W},
		{"/npm//foo.bar$", NPM, "", "foobar", N},
		/* prefixes keep their word boundary after folding */
		{"/npm//foo-bar~", NPM, "", "FOO_BAR_baz", W},
		{"/npm//foo-bar~", NPM, "", "foo.barbaz", N},
		{"/npm/space/foo~", NPM, "space", "Foo", W},
		{"/npm/space/foo~", NPM, "space", "FOO-bar", W},
		{"/npm/space/foo~", NPM, "space", "f00", W},
		{"/npm/space/foo~", NPM, "space", "f00d", N},
		{"/npm/space/foo~", NPM, "Space", "foo", W},
		{"/npm/space/foo~", NPM, "Space", "food", N},
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "Com.AnyCompany.foo", "x", W},
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "com_anycompany", "x", W},
		{"/maven/com.anycompany~", CAFS_FORMAT_MAVEN, "com.anycompanyx", "x", N},
		{"/npm/space/*", NPM, "SPACE", "x", W},
		{"/npm/space/*", NPM,
		 "sp\xd0\xb0"
		 "ce",
		 "x", W},
		/* strong is never reported as weak */
		{"/npm//Foo$", NPM, "", "Foo", S},
		{"/npm//foo$", NPM, "", "Foo", W},
	};

	(void)state;
	check_match_rows(rows, ARRAY_SIZE(rows));
}

#undef S
#undef W
#undef N

/* ---- specificity, containment, parents --------------------------------------------------- */

static const char *const vocabulary[] = {
	"/*",
	"/npm/*",
	"/pypi/*",
	"/maven/*",
	"/npm/com~",
	"/npm/com.acme~",
	"/npm/comx~",
	"/maven/com~",
	"/maven/com.acme~",
	"/maven/com.acme.foo~",
	"/maven/com.acmex~",
	"/npm/space/*",
	"/npm//*",
	"/pypi//*",
	"/maven/com/*",
	"/maven/com.acme/*",
	"/npm/space/foo~",
	"/npm/space/foo-bar~",
	"/npm/space/fo~",
	"/npm/Space/foo~",
	"/npm//foo~",
	"/npm/space/foo$",
	"/npm/space/foo-bar$",
	"/npm/space/food$",
	"/npm/space/Foo$",
	"/npm//foo$",
	"/npm//Foo$",
	"/pypi//foo$",
	"/maven/com/x$",
	"/maven/com.acme/x~",
};

static void specificity_order(void **state)
{
	/* strictly increasing specificity */
	static const char *const order[] = {
		"/*",
		"/npm/*",
		"/npm/com~",
		"/npm/com.acme~",
		"/npm/com.acme.foo.bar~",
		"/npm/space/*",
		"/npm/space/f~",
		"/npm/space/foo~",
		"/npm/space/foo-bar~",
		"/npm/space/foo-bar-baz$",
	};
	size_t nv = ARRAY_SIZE(vocabulary);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		struct cafs_group_pattern a = parse_ok(order[i]);

		for (size_t j = 0; j < ARRAY_SIZE(order); j++) {
			struct cafs_group_pattern b = parse_ok(order[j]);
			int c = cafs_group_pattern_compare(&a, &b);

			if (i > j)
				assert_true(c > 0);
			else if (i < j)
				assert_true(c < 0);
			else
				assert_int_equal(c, 0);
		}
	}

	/* a total order on the vocabulary: antisymmetric, transitive, 0 only for itself */
	for (size_t i = 0; i < nv; i++) {
		struct cafs_group_pattern a = parse_ok(vocabulary[i]);

		for (size_t j = 0; j < nv; j++) {
			struct cafs_group_pattern b = parse_ok(vocabulary[j]);
			int ab = cafs_group_pattern_compare(&a, &b);
			int ba = cafs_group_pattern_compare(&b, &a);

			assert_int_equal(ab == 0, i == j);
			assert_int_equal(ab > 0, ba < 0);
			for (size_t k = 0; k < nv; k++) {
				struct cafs_group_pattern c = parse_ok(vocabulary[k]);

				if (ab > 0 && cafs_group_pattern_compare(&b, &c) > 0)
					assert_true(cafs_group_pattern_compare(&a, &c) > 0);
			}
		}
	}
}

static void containment(void **state)
{
	static const struct {
		const char *a, *b;
		bool want;
	} rows[] = {
		{"/*", "/npm/*", true},
		{"/*", "/npm/space/foo$", true},
		{"/npm/*", "/*", false},
		{"/*", "/*", false},
		{"/npm/*", "/npm/space/*", true},
		{"/npm/*", "/npm/com~", true},
		{"/npm/*", "/npm//react$", true},
		{"/npm/*", "/pypi//*", false},
		{"/npm/*", "/npm/*", false},
		{"/maven/com~", "/maven/com.acme~", true},
		{"/maven/com~", "/maven/com.acme/*", true},
		{"/maven/com~", "/maven/com/x$", true},
		{"/maven/com~", "/maven/com/*", true},
		{"/maven/com~", "/maven/com-x/y~", true},
		{"/maven/com~", "/maven/comx/*", false},
		{"/maven/com~", "/maven/comx~", false},
		{"/maven/com~", "/maven/*", false},
		{"/maven/com~", "/generic/com/*", false},
		{"/maven/com.acme~", "/maven/com~", false},
		{"/maven/com/*", "/maven/com~", false},
		{"/maven/com/*", "/maven/com/x~", true},
		{"/maven/com/*", "/maven/com.acme/x$", false},
		{"/npm/space/foo~", "/npm/space/foo-bar~", true},
		{"/npm/space/foo~", "/npm/space/foo-bar$", true},
		{"/npm/space/foo~", "/npm/space/foo$", true},
		{"/npm/space/foo~", "/npm/space/food$", false},
		{"/npm/space/foo~", "/npm/space/food~", false},
		{"/npm/space/foo~", "/npm/other/foo$", false},
		{"/npm/space/foo~", "/npm/space/*", false},
		{"/npm/space/foo~", "/npm/space/Foo$", false}, /* containment is strong only */
		{"/npm/space/foo-bar~", "/npm/space/foo~", false},
		{"/npm/space/foo$", "/npm/space/foo$", false},
		{"/npm/space/foo$", "/npm/space/foo-bar$", false},
		{"/pypi/*", "/pypi//*", true},
		{"/pypi//*", "/pypi/*", false},
		{"/npm//*", "/npm//react$", true},
		{"/npm/space/*", "/npm//react$", false},
	};
	size_t nv = ARRAY_SIZE(vocabulary);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct cafs_group_pattern a = parse_ok(rows[i].a), b = parse_ok(rows[i].b);

		if (cafs_group_pattern_contains(&a, &b) != rows[i].want)
			print_error("'%s' contains '%s'?\n", rows[i].a, rows[i].b);
		assert_int_equal(cafs_group_pattern_contains(&a, &b), rows[i].want);
	}
	/* containment implies specificity, and never goes both ways */
	for (size_t i = 0; i < nv; i++) {
		struct cafs_group_pattern a = parse_ok(vocabulary[i]);

		for (size_t j = 0; j < nv; j++) {
			struct cafs_group_pattern b = parse_ok(vocabulary[j]);

			if (!cafs_group_pattern_contains(&a, &b))
				continue;
			assert_true(cafs_group_pattern_compare(&b, &a) > 0);
			assert_false(cafs_group_pattern_contains(&b, &a));
		}
	}
}

static void parents_tree(void **state)
{
	static const char *const texts[] = {
		"/*",                           /* 0 */
		"/npm/*",                       /* 1 */
		"/npm/space/*",                 /* 2 */
		"/npm/space/anycompany~",       /* 3 */
		"/npm/space/anycompany-ui~",    /* 4 */
		"/npm/space/anycompany-ui$",    /* 5 */
		"/maven/com~",                  /* 6 */
		"/maven/com.acme~",             /* 7 */
		"/maven/com.acme/*",            /* 8 */
		"/pypi//*",                     /* 9 */
		"/pypi/*",                      /* 10 */
		"/npm/space/anycompany-uikit$", /* 11 */
		"/maven/com.acme/lib$",         /* 12 */
	};
	static const long want[] = {-1, 0, 1, 2, 3, 4, 0, 6, 7, 10, 0, 3, 8};
	struct cafs_group g[ARRAY_SIZE(texts)], sub[ARRAY_SIZE(texts)];
	size_t n = ARRAY_SIZE(texts), m = 0;

	(void)state;
	for (size_t i = 0; i < n; i++)
		group_set(&g[i], texts[i], INHERIT, INHERIT, INHERIT);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cafs_group_parent(g, n, i), want[i]);
	assert_int_equal(cafs_group_parent(g, n, n), -1);

	/* deleting a group re-attaches its children to its parent */
	for (size_t i = 0; i < n; i++)
		if (i != 2 && i != 7)
			sub[m++] = g[i];
	/*
	 * sub holds: 0 root, 1 npm, 2 anycompany~, 3 anycompany-ui~, 4 anycompany-ui$,
	 * 5 com~, 6 com.acme exact, 7 pypi empty namespace, 8 pypi, 9 anycompany-uikit$, 10 lib$
	 */
	assert_int_equal(cafs_group_parent(sub, m, 2), 1);
	assert_int_equal(cafs_group_parent(sub, m, 6), 5);
	assert_int_equal(cafs_group_parent(sub, m, 10), 6);
	assert_int_equal(cafs_group_parent(sub, m, 9), 2);
	/* without the root, top groups have no parent */
	assert_int_equal(cafs_group_parent(g + 1, n - 1, 0), -1);
}

static void association(void **state)
{
	static const char *const texts[] = {
		"/*",                        /* 0 */
		"/npm/*",                    /* 1 */
		"/npm/space/*",              /* 2 */
		"/npm/space/anycompany~",    /* 3 */
		"/npm/space/anycompany-ui~", /* 4 */
		"/npm/space/anycompany-ui$", /* 5 */
		"/pypi//*",                  /* 6 */
		"/pypi/*",                   /* 7 */
	};
	static const struct {
		enum cafs_format f;
		const char *ns, *name;
		long group;
		enum cafs_match m;
	} rows[] = {
		{NPM, "space", "anycompany-ui-button", 4, CAFS_MATCH_STRONG},
		{NPM, "space", "anycompany-ui", 5, CAFS_MATCH_STRONG},
		{NPM, "space", "AnyCompany-UI", 5, CAFS_MATCH_WEAK},
		/* a weak match at a more specific group beats a strong one above it */
		{NPM, "space", "anycompany_ui", 5, CAFS_MATCH_WEAK},
		{NPM, "space", "anycompany-api", 3, CAFS_MATCH_STRONG},
		{NPM, "space", "anycompanyx", 2, CAFS_MATCH_STRONG},
		{NPM, "Space", "anycompanyx", 2, CAFS_MATCH_WEAK},
		{NPM, "", "react", 1, CAFS_MATCH_STRONG},
		{NPM, NULL, "react", 1, CAFS_MATCH_STRONG},
		{CAFS_FORMAT_PYPI, "", "requests", 6, CAFS_MATCH_STRONG},
		{CAFS_FORMAT_CARGO, "", "serde", 0, CAFS_MATCH_STRONG},
	};
	struct cafs_group g[ARRAY_SIZE(texts)], v[4];
	enum cafs_match m;
	long k;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
		group_set(&g[i], texts[i], INHERIT, INHERIT, INHERIT);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		m = CAFS_MATCH_NONE;
		k = cafs_group_associate(g, ARRAY_SIZE(g), rows[i].f, rows[i].ns, rows[i].name, &m);
		assert_int_equal(k, rows[i].group);
		assert_int_equal(m, rows[i].m);
	}
	/* no root: nothing for cargo */
	m = CAFS_MATCH_STRONG;
	assert_int_equal(
		cafs_group_associate(g + 1, ARRAY_SIZE(g) - 1, CAFS_FORMAT_CARGO, "", "serde", &m),
		-1);
	assert_int_equal(m, CAFS_MATCH_NONE);
	assert_int_equal(cafs_group_associate(g, 0, NPM, "", "x", NULL), -1);
	assert_int_equal(cafs_group_associate(g, ARRAY_SIZE(g), NPM, "", "x", NULL), 1);

	/* case variants as separate groups: each spelling takes its own group, in any order */
	for (int rot = 0; rot < 4; rot++) {
		static const char *const variants[] = {"/*", "/npm//foo$", "/npm//Foo$",
						       "/npm//FOO$"};

		for (int i = 0; i < 4; i++)
			group_set(&v[(i + rot) % 4], variants[i], ALLOW, ALLOW, ALLOW);
		for (int i = 1; i < 4; i++) {
			const char *name = variants[i] + 6;
			char exact[8];

			memcpy(exact, name, 3);
			exact[3] = '\0';
			k = cafs_group_associate(v, 4, NPM, "", exact, &m);
			assert_int_equal(k, (i + rot) % 4);
			assert_int_equal(m, CAFS_MATCH_STRONG);
		}
		k = cafs_group_associate(v, 4, NPM, "", "fOO", &m);
		assert_int_equal(m, CAFS_MATCH_WEAK);
		assert_true(k != rot % 4);
		assert_int_equal(v[k].pattern.shape, CAFS_GROUP_NAME_EXACT);
	}
}

/* ---- modes and decisions ----------------------------------------------------------------- */

static void names_and_parsers(void **state)
{
	(void)state;
	assert_string_equal(cafs_origin_action_name(CAFS_ACTION_PUBLISH), "PUBLISH");
	assert_string_equal(cafs_origin_action_name(CAFS_ACTION_EXTERNAL_UPSTREAM),
			    "EXTERNAL_UPSTREAM");
	assert_string_equal(cafs_origin_action_name(CAFS_ACTION_INTERNAL_UPSTREAM),
			    "INTERNAL_UPSTREAM");
	assert_null(cafs_origin_action_name(CAFS_ACTION_N));
	assert_int_equal(cafs_origin_action_parse("PUBLISH"), CAFS_ACTION_PUBLISH);
	assert_int_equal(cafs_origin_action_parse("EXTERNAL_UPSTREAM"),
			 CAFS_ACTION_EXTERNAL_UPSTREAM);
	assert_int_equal(cafs_origin_action_parse("INTERNAL_UPSTREAM"),
			 CAFS_ACTION_INTERNAL_UPSTREAM);
	assert_int_equal(cafs_origin_action_parse("publish"), -1);
	assert_int_equal(cafs_origin_action_parse("UPSTREAM"), -1);
	assert_int_equal(cafs_origin_action_parse(NULL), -1);

	assert_string_equal(cafs_group_mode_name(INHERIT), "INHERIT");
	assert_string_equal(cafs_group_mode_name(ALLOW), "ALLOW");
	assert_string_equal(cafs_group_mode_name(ASR), "ALLOW_SPECIFIC_REPOSITORIES");
	assert_string_equal(cafs_group_mode_name(BLOCK), "BLOCK");
	assert_null(cafs_group_mode_name((enum cafs_group_mode)4));
	for (int m = 0; m < 4; m++)
		assert_int_equal(cafs_group_mode_parse(cafs_group_mode_name(m)), m);
	assert_int_equal(cafs_group_mode_parse("Allow"), -1);
	assert_int_equal(cafs_group_mode_parse(""), -1);
	assert_int_equal(cafs_group_mode_parse(NULL), -1);
}

static void inherit_chains(void **state)
{
	static const char *const team[] = {"team"};
	struct cafs_group g[6];
	long from = 99;

	(void)state;
	group_set(&g[0], "/*", BLOCK, ALLOW, ALLOW);
	group_set(&g[1], "/npm/*", ASR, INHERIT, BLOCK);
	group_list(&g[1], CAFS_ACTION_PUBLISH, team, 1);
	group_set(&g[2], "/npm/space/*", INHERIT, INHERIT, INHERIT);
	group_set(&g[3], "/npm/space/anycompany~", INHERIT, INHERIT, INHERIT);
	group_set(&g[4], "/npm/space/anycompany-ui$", INHERIT, ALLOW, INHERIT);
	group_set(&g[5], "/pypi/*", INHERIT, BLOCK, INHERIT);

	/* three INHERIT steps up to the npm format group */
	assert_int_equal(cafs_group_effective_mode(g, 6, 4, CAFS_ACTION_PUBLISH, &from), ASR);
	assert_int_equal(from, 1);
	assert_int_equal(cafs_group_effective_mode(g, 6, 3, CAFS_ACTION_PUBLISH, &from), ASR);
	assert_int_equal(from, 1);
	assert_int_equal(cafs_group_effective_mode(g, 6, 4, CAFS_ACTION_EXTERNAL_UPSTREAM, &from),
			 ALLOW);
	assert_int_equal(from, 4);
	assert_int_equal(cafs_group_effective_mode(g, 6, 4, CAFS_ACTION_INTERNAL_UPSTREAM, &from),
			 BLOCK);
	assert_int_equal(from, 1);
	/* four steps up to the root */
	assert_int_equal(cafs_group_effective_mode(g, 6, 3, CAFS_ACTION_EXTERNAL_UPSTREAM, &from),
			 ALLOW);
	assert_int_equal(from, 0);
	assert_int_equal(cafs_group_effective_mode(g, 6, 5, CAFS_ACTION_PUBLISH, &from), BLOCK);
	assert_int_equal(from, 0);
	assert_int_equal(cafs_group_effective_mode(g, 6, 0, CAFS_ACTION_PUBLISH, NULL), BLOCK);

	/* a chain that never sets a mode answers BLOCK from nowhere */
	g[0].mode[CAFS_ACTION_EXTERNAL_UPSTREAM] = INHERIT;
	assert_int_equal(cafs_group_effective_mode(g, 6, 3, CAFS_ACTION_EXTERNAL_UPSTREAM, &from),
			 BLOCK);
	assert_int_equal(from, -1);
	assert_int_equal(cafs_group_effective_mode(g + 2, 2, 1, CAFS_ACTION_PUBLISH, &from), BLOCK);
	assert_int_equal(from, -1);
	from = 99;
	assert_int_equal(cafs_group_effective_mode(g, 6, 6, CAFS_ACTION_PUBLISH, &from), BLOCK);
	assert_int_equal(from, -1);
}

static void allowed_list_inherited(void **state)
{
	static const char *const team[] = {"team", "web"};
	static const char *const other[] = {"other"};
	static const char *const repo_b[] = {"repoB"};
	struct cafs_package_controls none = {0};
	struct cafs_origin_decision d;
	struct cafs_group g[4];

	(void)state;
	group_set(&g[0], "/*", ALLOW, ALLOW, ALLOW);
	group_set(&g[1], "/npm/*", ASR, ASR, ALLOW);
	group_list(&g[1], CAFS_ACTION_PUBLISH, team, 2);
	group_list(&g[1], CAFS_ACTION_EXTERNAL_UPSTREAM, repo_b, 1);
	group_set(&g[2], "/npm/space/*", INHERIT, INHERIT, INHERIT);
	/* its own list is not used while its mode is INHERIT */
	group_set(&g[3], "/npm/space/anycompany~", INHERIT, INHERIT, INHERIT);
	group_list(&g[3], CAFS_ACTION_PUBLISH, other, 1);

	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, "web", &none, NPM, "space", "anycompany-x",
			   &d);
	assert_true(d.allowed);
	assert_int_equal(d.rule, CAFS_RULE_ALLOWED);
	assert_int_equal(d.group, 3);
	assert_int_equal(d.mode, INHERIT);
	assert_int_equal(d.effective, ASR);
	assert_int_equal(d.inherited_from, 1);
	assert_true(d.on_list);

	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, "other", &none, NPM, "space", "anycompany-x",
			   &d);
	assert_false(d.allowed);
	assert_int_equal(d.rule, CAFS_RULE_NOT_ON_LIST);
	assert_false(d.on_list);

	/* lists are per restriction type */
	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, "repoB", &none, NPM, "space", "anycompany-x",
			   &d);
	assert_int_equal(d.rule, CAFS_RULE_NOT_ON_LIST);
	cafs_origin_decide(g, 4, CAFS_ACTION_EXTERNAL_UPSTREAM, "repoB", &none, NPM, "space",
			   "anycompany-x", &d);
	assert_int_equal(d.rule, CAFS_RULE_ALLOWED);
	cafs_origin_decide(g, 4, CAFS_ACTION_EXTERNAL_UPSTREAM, "team", &none, NPM, "space",
			   "anycompany-x", &d);
	assert_int_equal(d.rule, CAFS_RULE_NOT_ON_LIST);

	/* once the group sets its own mode, its own list counts */
	g[3].mode[CAFS_ACTION_PUBLISH] = ASR;
	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, "other", &none, NPM, "space", "anycompany-x",
			   &d);
	assert_int_equal(d.rule, CAFS_RULE_ALLOWED);
	assert_int_equal(d.inherited_from, 3);
	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, "web", &none, NPM, "space", "anycompany-x",
			   &d);
	assert_int_equal(d.rule, CAFS_RULE_NOT_ON_LIST);
	/* no repository is on no list */
	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, NULL, NULL, NPM, "space", "anycompany-x", &d);
	assert_int_equal(d.rule, CAFS_RULE_NOT_ON_LIST);
	assert_false(d.package.present);
}

struct decision_row {
	const char *what;
	bool present, publish_allow, upstream_allow;
	enum cafs_group_mode mode[CAFS_ACTION_N];
	const char *name; /* package in scope "space" */
	enum cafs_origin_rule want[CAFS_ACTION_N];
};

#define OK   CAFS_RULE_ALLOWED
#define PPB  CAFS_RULE_PACKAGE_PUBLISH_BLOCK
#define PUB  CAFS_RULE_PACKAGE_UPSTREAM_BLOCK
#define WEAK CAFS_RULE_WEAK_MATCH
#define GB   CAFS_RULE_GROUP_BLOCK
#define NOL  CAFS_RULE_NOT_ON_LIST

/*
 * Spec §7.7's table, row by row, for a package of group /npm/space/anycompany~ (the root allows
 * everything). Each row gives the rule for PUBLISH, EXTERNAL_UPSTREAM, INTERNAL_UPSTREAM into
 * repository "repoA"; ALLOW_SPECIFIC_REPOSITORIES lists hold "repoA" for PUBLISH and INTERNAL
 * and "repoB" for EXTERNAL.
 */
static void decision_table(void **state)
{
	static const struct decision_row rows[] = {
		{"publish ALLOW, upstream ALLOW; all ALLOW",
		 true,
		 true,
		 true,
		 {ALLOW, ALLOW, ALLOW},
		 "anycompany-ui",
		 {OK, OK, OK}},
		{"publish BLOCK, upstream ALLOW; all ALLOW",
		 true,
		 false,
		 true,
		 {ALLOW, ALLOW, ALLOW},
		 "anycompany-ui",
		 {PPB, OK, OK}},
		{"publish ALLOW, upstream ALLOW; EXT BLOCK",
		 true,
		 true,
		 true,
		 {ALLOW, BLOCK, ALLOW},
		 "anycompany-ui",
		 {OK, GB, OK}},
		{"publish ALLOW, upstream BLOCK; all ALLOW",
		 true,
		 true,
		 false,
		 {ALLOW, ALLOW, ALLOW},
		 "anycompany-ui",
		 {OK, PUB, PUB}},
		{"publish ALLOW, upstream BLOCK; PUBLISH BLOCK",
		 true,
		 true,
		 false,
		 {BLOCK, ALLOW, ALLOW},
		 "anycompany-ui",
		 {GB, PUB, PUB}},
		{"publish ALLOW, upstream BLOCK; ASR",
		 true,
		 true,
		 false,
		 {ASR, ASR, ASR},
		 "anycompany-ui",
		 {OK, PUB, PUB}},
		{"publish BLOCK, upstream BLOCK; all BLOCK",
		 true,
		 false,
		 false,
		 {BLOCK, BLOCK, BLOCK},
		 "anycompany-ui",
		 {PPB, PUB, PUB}},
		{"any; PUBLISH BLOCK",
		 true,
		 true,
		 true,
		 {BLOCK, ALLOW, ALLOW},
		 "anycompany-ui",
		 {GB, OK, OK}},
		{"no record; PUBLISH BLOCK",
		 false,
		 false,
		 false,
		 {BLOCK, ALLOW, ALLOW},
		 "anycompany-ui",
		 {GB, OK, OK}},
		{"publish ALLOW; PUBLISH ASR (repoA listed)",
		 true,
		 true,
		 true,
		 {ASR, ALLOW, ALLOW},
		 "anycompany-ui",
		 {OK, OK, OK}},
		{"upstream ALLOW; EXT ASR (repoB only), INT ASR (repoA)",
		 true,
		 true,
		 true,
		 {ALLOW, ASR, ASR},
		 "anycompany-ui",
		 {OK, NOL, OK}},
		{"weak association; all ALLOW",
		 true,
		 true,
		 true,
		 {ALLOW, ALLOW, ALLOW},
		 "AnyCompany-UI",
		 {WEAK, WEAK, WEAK}},
		{"weak association; no record",
		 false,
		 false,
		 false,
		 {ALLOW, ALLOW, ALLOW},
		 "anyc0mpany_ui",
		 {WEAK, WEAK, WEAK}},
		{"weak association; package blocks first",
		 true,
		 false,
		 false,
		 {ALLOW, ALLOW, ALLOW},
		 "AnyCompany",
		 {PPB, PUB, PUB}},
		{"no record; group decides alone",
		 false,
		 false,
		 false,
		 {ALLOW, ALLOW, ALLOW},
		 "anycompany-ui",
		 {OK, OK, OK}},
		{"no record; EXT BLOCK",
		 false,
		 false,
		 false,
		 {ALLOW, BLOCK, ALLOW},
		 "anycompany-ui",
		 {OK, GB, OK}},
		{"no record; everything INHERITs from the root",
		 false,
		 false,
		 false,
		 {INHERIT, INHERIT, INHERIT},
		 "anycompany",
		 {OK, OK, OK}},
	};
	static const char *const repo_a[] = {"repoA"};
	static const char *const repo_b[] = {"repoB"};
	struct cafs_group g[2];

	(void)state;
	group_set(&g[0], "/*", ALLOW, ALLOW, ALLOW);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct cafs_package_controls pkg = {rows[i].present, rows[i].publish_allow,
						    rows[i].upstream_allow};

		group_set(&g[1], "/npm/space/anycompany~", rows[i].mode[0], rows[i].mode[1],
			  rows[i].mode[2]);
		group_list(&g[1], CAFS_ACTION_PUBLISH, repo_a, 1);
		group_list(&g[1], CAFS_ACTION_EXTERNAL_UPSTREAM, repo_b, 1);
		group_list(&g[1], CAFS_ACTION_INTERNAL_UPSTREAM, repo_a, 1);
		for (int a = 0; a < CAFS_ACTION_N; a++) {
			struct cafs_origin_decision d;

			cafs_origin_decide(g, 2, a, "repoA", &pkg, NPM, "space", rows[i].name, &d);
			if (d.rule != rows[i].want[a])
				print_error("row '%s', %s\n", rows[i].what,
					    cafs_origin_action_name(a));
			assert_int_equal(d.rule, rows[i].want[a]);
			assert_int_equal(d.allowed, rows[i].want[a] == OK);
			assert_int_equal(d.action, a);
			assert_int_equal(d.group, 1);
			assert_int_equal(d.package.present, rows[i].present);
		}
	}

	/* no group at all: BLOCK, after the package's own settings */
	{
		struct cafs_package_controls pkg = {true, false, true};
		struct cafs_origin_decision d;

		cafs_origin_decide(g + 1, 1, CAFS_ACTION_EXTERNAL_UPSTREAM, "repoA", &pkg, NPM, "",
				   "react", &d);
		assert_false(d.allowed);
		assert_int_equal(d.rule, CAFS_RULE_NO_GROUP);
		assert_int_equal(d.group, -1);
		assert_int_equal(d.match, CAFS_MATCH_NONE);
		assert_int_equal(d.inherited_from, -1);
		assert_int_equal(d.effective, BLOCK);
		cafs_origin_decide(g + 1, 1, CAFS_ACTION_PUBLISH, "repoA", &pkg, NPM, "", "react",
				   &d);
		assert_int_equal(d.rule, CAFS_RULE_PACKAGE_PUBLISH_BLOCK);
		cafs_origin_decide(NULL, 0, CAFS_ACTION_PUBLISH, "repoA", NULL, NPM, "", "react",
				   &d);
		assert_int_equal(d.rule, CAFS_RULE_NO_GROUP);
	}
}

#undef PPB
#undef PUB
#undef WEAK
#undef GB
#undef NOL

static enum cafs_origin_rule rule_of(const struct cafs_group *g, size_t n,
				     enum cafs_origin_action a, const char *repo,
				     const struct cafs_package_controls *pkg, const char *ns,
				     const char *name)
{
	struct cafs_origin_decision d;

	cafs_origin_decide(g, n, a, repo, pkg, NPM, ns, name, &d);
	assert_int_equal(d.allowed, d.rule == CAFS_RULE_ALLOWED);
	return d.rule;
}

/* Spec §7.5 (seed 004): private names publishable anywhere, never ingested. */
static void seed_private_names(void **state)
{
	struct cafs_package_controls none = {0};
	struct cafs_package_controls published = {true, true, false}; /* §6.2 publish defaults */
	struct cafs_group g[2];
	const enum cafs_origin_action pub = CAFS_ACTION_PUBLISH;
	const enum cafs_origin_action ext = CAFS_ACTION_EXTERNAL_UPSTREAM;
	const enum cafs_origin_action in = CAFS_ACTION_INTERNAL_UPSTREAM;

	(void)state;
	/* the root is ingest-only; the private names are the opposite */
	group_set(&g[0], "/*", BLOCK, ALLOW, ALLOW);
	group_set(&g[1], "/npm/space/anycompany~", ALLOW, BLOCK, ALLOW);

	assert_int_equal(rule_of(g, 2, pub, "team", &none, "space", "anycompany-ui"), OK);
	assert_int_equal(rule_of(g, 2, pub, "other", &none, "space", "anycompany"), OK);
	assert_int_equal(rule_of(g, 2, ext, "team", &none, "space", "anycompany-ui"),
			 CAFS_RULE_GROUP_BLOCK);
	assert_int_equal(rule_of(g, 2, in, "team", &none, "space", "anycompany-ui"), OK);
	/* after the first publish the package's own defaults agree */
	assert_int_equal(rule_of(g, 2, pub, "team", &published, "space", "anycompany-ui"), OK);
	assert_int_equal(rule_of(g, 2, ext, "team", &published, "space", "anycompany-ui"),
			 CAFS_RULE_PACKAGE_UPSTREAM_BLOCK);
	/* other names follow the root */
	assert_int_equal(rule_of(g, 2, pub, "team", &none, "space", "anycompanyx"),
			 CAFS_RULE_GROUP_BLOCK);
	assert_int_equal(rule_of(g, 2, ext, "team", &none, "space", "anycompanyx"), OK);
	assert_int_equal(rule_of(g, 2, ext, "team", &none, "", "react"), OK);
	/* a look-alike never falls through to the root's ingest */
	assert_int_equal(rule_of(g, 2, ext, "team", &none, "space", "AnyCompany-ui"),
			 CAFS_RULE_WEAK_MATCH);
	assert_int_equal(rule_of(g, 2, pub, "team", &none, "space", "anyc0mpany"),
			 CAFS_RULE_WEAK_MATCH);
}

/* Spec §7.6 (seed 004): repoA -> repoB -> npmjs; ingest only through repoB, never publish. */
static void seed_one_repository(void **state)
{
	static const char *const repo_a[] = {"repoA"};
	static const char *const repo_b[] = {"repoB"};
	struct cafs_package_controls none = {0};
	struct cafs_package_controls ingested = {true, false, true}; /* §6.2 ingest defaults */
	struct cafs_package_controls open_pkg = {true, true, true};
	struct cafs_origin_decision d;
	struct cafs_group g[2];
	const enum cafs_origin_action pub = CAFS_ACTION_PUBLISH;
	const enum cafs_origin_action ext = CAFS_ACTION_EXTERNAL_UPSTREAM;
	const enum cafs_origin_action in = CAFS_ACTION_INTERNAL_UPSTREAM;
	const char *const name = "anycompany-ui";

	(void)state;
	group_set(&g[0], "/*", ALLOW, ALLOW, ALLOW);
	group_set(&g[1], "/npm/space/anycompany~", BLOCK, ASR, ASR);
	group_list(&g[1], in, repo_a, 1);
	group_list(&g[1], ext, repo_b, 1);

	/* a fetch through repoA: ingest into repoB (owner of the connection), retain into repoA */
	assert_int_equal(rule_of(g, 2, ext, "repoB", &none, "space", name), OK);
	assert_int_equal(rule_of(g, 2, in, "repoA", &none, "space", name), OK);
	/* and with the records the first versions leave behind */
	assert_int_equal(rule_of(g, 2, ext, "repoB", &ingested, "space", name), OK);
	assert_int_equal(rule_of(g, 2, in, "repoA", &ingested, "space", name), OK);
	/* nowhere else */
	assert_int_equal(rule_of(g, 2, ext, "repoA", &none, "space", name), CAFS_RULE_NOT_ON_LIST);
	assert_int_equal(rule_of(g, 2, ext, "repoC", &none, "space", name), CAFS_RULE_NOT_ON_LIST);
	assert_int_equal(rule_of(g, 2, in, "repoB", &none, "space", name), CAFS_RULE_NOT_ON_LIST);
	assert_int_equal(rule_of(g, 2, in, "repoC", &none, "space", name), CAFS_RULE_NOT_ON_LIST);
	/* never published, even where the package itself would allow it */
	assert_int_equal(rule_of(g, 2, pub, "repoA", &open_pkg, "space", name),
			 CAFS_RULE_GROUP_BLOCK);
	assert_int_equal(rule_of(g, 2, pub, "repoB", &none, "space", name), CAFS_RULE_GROUP_BLOCK);

	cafs_origin_decide(g, 2, ext, "repoB", &none, NPM, "space", name, &d);
	assert_int_equal(d.group, 1);
	assert_int_equal(d.match, CAFS_MATCH_STRONG);
	assert_int_equal(d.mode, ASR);
	assert_int_equal(d.effective, ASR);
	assert_int_equal(d.inherited_from, 1);
	assert_true(d.on_list);
	/* other packages are untouched */
	assert_int_equal(rule_of(g, 2, ext, "repoA", &none, "", "react"), OK);
}

static void explanations(void **state)
{
	static const char *const other[] = {"other"};
	struct cafs_package_controls pkg = {true, true, false};
	struct cafs_origin_decision d;
	struct cafs_group g[4];
	char buf[1024];
	size_t n;

	(void)state;
	group_set(&g[0], "/*", ALLOW, ALLOW, ALLOW);
	group_set(&g[1], "/npm/*", ASR, INHERIT, INHERIT);
	group_list(&g[1], CAFS_ACTION_PUBLISH, other, 1);
	group_set(&g[2], "/npm/space/*", INHERIT, INHERIT, BLOCK);
	group_set(&g[3], "/npm/space/anycompany~", INHERIT, ALLOW, INHERIT);

	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, "team", &pkg, NPM, "space", "anycompany-ui",
			   &d);
	n = cafs_origin_explain(g, 4, &d, "team", NPM, "space", "anycompany-ui", buf, sizeof(buf));
	assert_string_equal(buf, "PUBLISH into 'team' of npm package @space/anycompany-ui: "
				 "package controls publish=ALLOW upstream=BLOCK; group "
				 "/npm/space/anycompany~ (STRONG match, most specific of 4 "
				 "matching); its PUBLISH mode INHERIT, effective "
				 "ALLOW_SPECIFIC_REPOSITORIES inherited from /npm/*; 'team' is "
				 "not on the PUBLISH list of /npm/*; verdict: BLOCKED ('team' is "
				 "not on the allowed PUBLISH list)");
	assert_int_equal(n, strlen(buf));

	/* cut to the buffer, always terminated */
	assert_int_equal(
		cafs_origin_explain(g, 4, &d, "team", NPM, "space", "anycompany-ui", buf, 20), 19);
	assert_string_equal(buf, "PUBLISH into 'team'");
	assert_int_equal(
		cafs_origin_explain(g, 4, &d, "team", NPM, "space", "anycompany-ui", buf, 0), 0);

	cafs_origin_decide(g, 4, CAFS_ACTION_PUBLISH, "other", NULL, NPM, "space", "anycompany-ui",
			   &d);
	cafs_origin_explain(g, 4, &d, "other", NPM, "space", "anycompany-ui", buf, sizeof(buf));
	assert_string_equal(buf, "PUBLISH into 'other' of npm package @space/anycompany-ui: no "
				 "package controls in 'other', the group decides alone; group "
				 "/npm/space/anycompany~ (STRONG match, most specific of 4 "
				 "matching); its PUBLISH mode INHERIT, effective "
				 "ALLOW_SPECIFIC_REPOSITORIES inherited from /npm/*; 'other' is on "
				 "the PUBLISH list of /npm/*; verdict: ALLOWED");

	cafs_origin_decide(g, 4, CAFS_ACTION_EXTERNAL_UPSTREAM, "team", &pkg, NPM, "space",
			   "anycompany-ui", &d);
	cafs_origin_explain(g, 4, &d, "team", NPM, "space", "anycompany-ui", buf, sizeof(buf));
	assert_string_equal(buf, "EXTERNAL_UPSTREAM into 'team' of npm package "
				 "@space/anycompany-ui: package controls publish=ALLOW "
				 "upstream=BLOCK; group /npm/space/anycompany~ (STRONG match, most "
				 "specific of 4 matching); its EXTERNAL_UPSTREAM mode ALLOW; "
				 "verdict: BLOCKED (the package's own upstream=BLOCK)");

	cafs_origin_decide(g, 4, CAFS_ACTION_INTERNAL_UPSTREAM, "team", NULL, NPM, "space",
			   "AnyCompany", &d);
	cafs_origin_explain(g, 4, &d, "team", NPM, "space", "AnyCompany", buf, sizeof(buf));
	assert_string_equal(buf, "INTERNAL_UPSTREAM into 'team' of npm package @space/AnyCompany: "
				 "no package controls in 'team', the group decides alone; group "
				 "/npm/space/anycompany~ (WEAK match, most specific of 4 "
				 "matching); its INTERNAL_UPSTREAM mode INHERIT, effective BLOCK "
				 "inherited from /npm/space/*; verdict: BLOCKED (a weak match "
				 "blocks every new version)");

	cafs_origin_decide(g, 4, CAFS_ACTION_INTERNAL_UPSTREAM, "team", NULL, NPM, "space", "other",
			   &d);
	cafs_origin_explain(g, 4, &d, "team", NPM, "space", "other", buf, sizeof(buf));
	assert_string_equal(buf, "INTERNAL_UPSTREAM into 'team' of npm package @space/other: no "
				 "package controls in 'team', the group decides alone; group "
				 "/npm/space/* (STRONG match, most specific of 3 matching); its "
				 "INTERNAL_UPSTREAM mode BLOCK; verdict: BLOCKED (the effective "
				 "INTERNAL_UPSTREAM mode is BLOCK)");

	pkg.publish_allow = false;
	cafs_origin_decide(g + 1, 3, CAFS_ACTION_PUBLISH, "team", &pkg, CAFS_FORMAT_MAVEN,
			   "org.example", "lib", &d);
	cafs_origin_explain(g + 1, 3, &d, "team", CAFS_FORMAT_MAVEN, "org.example", "lib", buf,
			    sizeof(buf));
	assert_string_equal(buf, "PUBLISH into 'team' of maven package org.example:lib: package "
				 "controls publish=BLOCK upstream=BLOCK; no package group matches; "
				 "verdict: BLOCKED (the package's own publish=BLOCK)");
	pkg.publish_allow = true;
	cafs_origin_decide(g + 1, 3, CAFS_ACTION_PUBLISH, "team", &pkg, CAFS_FORMAT_PYPI, "",
			   "requests", &d);
	cafs_origin_explain(g + 1, 3, &d, "team", CAFS_FORMAT_PYPI, "", "requests", buf,
			    sizeof(buf));
	assert_string_equal(buf, "PUBLISH into 'team' of pypi package requests: package controls "
				 "publish=ALLOW upstream=BLOCK; no package group matches; verdict: "
				 "BLOCKED (no package group matches)");

	/* a root that INHERITs (never valid, but handled) and a group without its text */
	g[0].mode[CAFS_ACTION_PUBLISH] = INHERIT;
	g[0].text = NULL;
	cafs_origin_decide(g, 1, CAFS_ACTION_PUBLISH, "team", NULL, CAFS_FORMAT_GENERIC, "ns",
			   "tool", &d);
	assert_int_equal(d.rule, CAFS_RULE_GROUP_BLOCK);
	assert_int_equal(d.inherited_from, -1);
	cafs_origin_explain(g, 1, &d, "team", CAFS_FORMAT_GENERIC, "ns", "tool", buf, sizeof(buf));
	assert_string_equal(buf, "PUBLISH into 'team' of generic package ns/tool: no package "
				 "controls in 'team', the group decides alone; group /* (STRONG "
				 "match, most specific of 1 matching); its PUBLISH mode INHERIT, "
				 "effective BLOCK (no ancestor sets a mode); verdict: BLOCKED (the "
				 "effective PUBLISH mode is BLOCK)");
}

/* ---- the reference model ----------------------------------------------------------------- */

/*
 * Written apart from policy/group.c: patterns are taken as text and matched against the
 * package path "/<format>/<namespace>/<name>" as a string; folding is done by whole-string
 * passes; the hierarchy comes from which sample packages each pattern matches; specificity is
 * read off the text; the decision follows the pseudo-code of spec §7.7 line by line.
 */

static const struct {
	const char *glyph;
	char latin;
} ref_confusables[] = {
	{"а", 'a'}, {"е", 'e'}, {"о", 'o'}, {"р", 'p'}, {"с", 'c'}, {"у", 'y'}, {"х", 'x'},
	{"ѕ", 's'}, {"і", 'i'}, {"ј", 'j'}, {"һ", 'h'}, {"ԁ", 'd'}, {"ԛ", 'q'}, {"ԝ", 'w'},
	{"Ѕ", 's'}, {"І", 'i'}, {"Ј", 'j'}, {"А", 'a'}, {"В", 'b'}, {"Е", 'e'}, {"К", 'k'},
	{"М", 'm'}, {"Н", 'h'}, {"О", 'o'}, {"Р", 'p'}, {"С", 'c'}, {"Т", 't'}, {"У", 'y'},
	{"Х", 'x'}, {"α", 'a'}, {"ε", 'e'}, {"ι", 'i'}, {"κ", 'k'}, {"ν", 'v'}, {"ο", 'o'},
	{"ρ", 'p'}, {"τ", 't'}, {"υ", 'u'}, {"χ", 'x'}, {"Α", 'a'}, {"Β", 'b'}, {"Ε", 'e'},
	{"Ζ", 'z'}, {"Η", 'h'}, {"Ι", 'i'}, {"Κ", 'k'}, {"Μ", 'm'}, {"Ν", 'n'}, {"Ο", 'o'},
	{"Ρ", 'p'}, {"Τ", 't'}, {"Υ", 'y'}, {"Χ", 'x'}, {"ı", 'i'},
};

#define REF_MAX 1024

static void replace_all(char *s, const char *from, char to)
{
	size_t n = strlen(from);
	char *hit;

	while ((hit = strstr(s, from)) != NULL) {
		*hit = to;
		memmove(hit + 1, hit + n, strlen(hit + n) + 1);
	}
}

static void ref_fold(const char *in, char *out)
{
	char tmp[REF_MAX];
	size_t o = 0;

	(void)snprintf(tmp, sizeof(tmp), "%s", in);
	for (size_t i = 0; i < ARRAY_SIZE(ref_confusables); i++)
		replace_all(tmp, ref_confusables[i].glyph, ref_confusables[i].latin);
	for (char *p = tmp; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
		else if (*p == '0')
			*p = 'o';
		else if (*p == '1')
			*p = 'l';
	}
	for (const char *p = tmp; *p; p++) {
		bool sep = *p == '-' || *p == '.' || *p == '_';

		if (sep && o > 0 && out[o - 1] == '.' &&
		    (p[-1] == '-' || p[-1] == '.' || p[-1] == '_'))
			continue;
		out[o++] = sep ? '.' : *p;
	}
	out[o] = '\0';
}

static bool ref_word(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* Whether @path matches, as written, the pattern made of @core and its last character @suffix. */
static bool ref_path_match(const char *core, char suffix, const char *path)
{
	size_t k = strlen(core);

	if (strcmp(core, "/") == 0 && suffix == '*')
		return true;
	if (strncmp(path, core, k) != 0)
		return false;
	if (suffix == '$')
		return path[k] == '\0';
	if (suffix == '*')
		return true;
	return path[k] == '\0' || !ref_word((unsigned char)path[k]);
}

static enum cafs_match ref_match(const char *pat, const char *format, const char *ns,
				 const char *name)
{
	char path[REF_MAX], core[REF_MAX], fpath[REF_MAX], fcore[REF_MAX];
	size_t n = strlen(pat);

	(void)snprintf(path, sizeof(path), "/%s/%s/%s", format, ns, name);
	(void)snprintf(core, sizeof(core), "%.*s", (int)(n - 1), pat);
	if (ref_path_match(core, pat[n - 1], path))
		return CAFS_MATCH_STRONG;
	ref_fold(path, fpath);
	ref_fold(core, fcore);
	return ref_path_match(fcore, pat[n - 1], fpath) ? CAFS_MATCH_WEAK : CAFS_MATCH_NONE;
}

static size_t ref_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Specificity read off the text: (format?, namespace kind, its length, name kind, length). */
static void ref_rank(const char *pat, size_t r[5])
{
	size_t n = strlen(pat), slashes = 0;
	const char *last = strrchr(pat, '/');

	memset(r, 0, 5 * sizeof(r[0]));
	for (size_t i = 0; i < n; i++)
		slashes += pat[i] == '/';
	if (strcmp(pat, "/*") == 0)
		return;
	r[0] = 1;
	if (slashes == 2 && pat[n - 1] == '*')
		return;
	if (slashes == 2) {
		r[1] = 1;
		r[2] = ref_chars(last + 1, strlen(last + 1) - 1);
		return;
	}
	r[1] = 2;
	if (pat[n - 1] == '~') {
		r[3] = 1;
		r[4] = ref_chars(last + 1, strlen(last + 1) - 1);
	} else if (pat[n - 1] == '$') {
		r[3] = 2;
	}
}

static int ref_rank_cmp(const char *a, const char *b)
{
	size_t ra[5], rb[5];

	ref_rank(a, ra);
	ref_rank(b, rb);
	for (int i = 0; i < 5; i++)
		if (ra[i] != rb[i])
			return ra[i] > rb[i] ? 1 : -1;
	return 0;
}

/* A tiny deterministic generator (xorshift64*), so that every run sees the same cases. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static const char *const v_formats[] = {"npm", "pypi", "maven", "generic", "nuget", "swift"};
static const char *const v_pat_ns[] = {"",     "space", "com", "com.acme", "com.acme.foo",
				       "acme", "Space", "c0m", "acme-x",   "comx"};
static const char *const v_pat_names[] = {
	"anycompany", "anycompany-ui", "anycompany-ui-kit",
	"foo",        "foo-bar",       "food",
	"Foo",        "foo_bar",       "fооd",
	"lodash",     "l0dash",        "a",
	"ab",         "foo-bar-baz",
};
static const char *const v_pkg_ns[] = {"",          "space", "com",    "com.acme", "com.acme.foo",
				       "com.acmex", "acme",  "acme-x", "zz"};
static const char *const v_pkg_names[] = {
	"anycompany",
	"anycompany-ui",
	"anycompany-ui-kit",
	"foo",
	"foo-bar",
	"food",
	"Foo",
	"foo_bar",
	"lodash",
	"a",
	"ab",
	"foo-bar-baz",
	"anycompany-ui-button",
	"anycompanyx",
	"foobar",
	"react",
	"l0dash",
	"f00",
};
static const char *const v_repos[] = {"repoA", "repoB", "team", "web"};
static const char *const v_separators[] = {"-", ".", "_", "--", "._", "-_-"};

/* A spelling variant of @in: case, separators, look-alikes, each sometimes. */
static void variant(const char *in, char *out)
{
	bool flip = rnd(10) < 3, seps = rnd(10) < 3, glyphs = rnd(10) < 2, digits = rnd(10) < 1;
	size_t o = 0;

	for (const char *p = in; *p; p++) {
		char c = *p;

		if (seps && (c == '-' || c == '.' || c == '_')) {
			const char *s = v_separators[rnd(ARRAY_SIZE(v_separators))];

			memcpy(out + o, s, strlen(s));
			o += strlen(s);
			continue;
		}
		if (glyphs && c >= 'a' && c <= 'z' && rnd(3) == 0) {
			size_t hits[8], nh = 0;

			for (size_t i = 0; i < ARRAY_SIZE(ref_confusables) && nh < 8; i++)
				if (ref_confusables[i].latin == c)
					hits[nh++] = i;
			if (nh) {
				const char *gl = ref_confusables[hits[rnd((uint32_t)nh)]].glyph;

				memcpy(out + o, gl, strlen(gl));
				o += strlen(gl);
				continue;
			}
		}
		if (digits && (c == 'o' || c == 'l') && rnd(2) == 0)
			c = c == 'o' ? '0' : '1';
		if (flip && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && rnd(3) == 0)
			c = (char)(c ^ 0x20);
		out[o++] = c;
	}
	out[o] = '\0';
}

#define MAX_GROUPS  12
#define MAX_SAMPLES 160

struct scenario {
	size_t n;
	char text[MAX_GROUPS][128];
	const char *list[MAX_GROUPS][CAFS_ACTION_N][ARRAY_SIZE(v_repos)];
	struct cafs_group g[MAX_GROUPS];
	long ref_parent[MAX_GROUPS];
	size_t ns;
	char s_format[MAX_SAMPLES][16], s_ns[MAX_SAMPLES][64], s_name[MAX_SAMPLES][64];
};

static void random_pattern(char *buf, size_t size)
{
	const char *f = v_formats[rnd(ARRAY_SIZE(v_formats))];
	const char *ns = v_pat_ns[rnd(ARRAY_SIZE(v_pat_ns))];
	const char *name = v_pat_names[rnd(ARRAY_SIZE(v_pat_names))];

	switch (rnd(6)) {
	case 0:
		(void)snprintf(buf, size, "/%s/*", f);
		break;
	case 1:
		(void)snprintf(buf, size, "/%s/%s~", f, ns);
		break;
	case 2:
		(void)snprintf(buf, size, "/%s/%s/*", f, ns);
		break;
	case 3:
		(void)snprintf(buf, size, "/%s/%s/%s~", f, ns, name);
		break;
	default:
		(void)snprintf(buf, size, "/%s/%s/%s$", f, ns, name);
		break;
	}
}

static void add_sample(struct scenario *s, const char *f, const char *ns, const char *name)
{
	assert_true(s->ns < MAX_SAMPLES);
	(void)snprintf(s->s_format[s->ns], sizeof(s->s_format[0]), "%s", f);
	(void)snprintf(s->s_ns[s->ns], sizeof(s->s_ns[0]), "%s", ns);
	(void)snprintf(s->s_name[s->ns], sizeof(s->s_name[0]), "%s", name);
	s->ns++;
}

/*
 * Packages a pattern selects and their near misses, from its text alone: enough that the
 * samples tell apart any two patterns of the vocabulary that are not nested.
 */
static void add_witnesses(struct scenario *s, const char *pat)
{
	char f[16], ns[64], name[64], x[80];
	size_t n = strlen(pat);

	if (strcmp(pat, "/*") == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(v_formats); i++) {
			add_sample(s, v_formats[i], "", "q9q");
			add_sample(s, v_formats[i], "zz", "q9q");
		}
		return;
	}
	f[0] = ns[0] = name[0] = '\0';
	(void)sscanf(pat, "/%15[^/]/%63[^/~*$]/%63[^/~*$]", f, ns, name);
	if (pat[strlen(f) + 2] == '/') /* empty namespace: "/f//..." */
		(void)sscanf(pat, "/%15[^/]//%63[^/~*$]", f, name);
	if (n == strlen(f) + 3) { /* one format */
		add_sample(s, f, "", "q9q");
		add_sample(s, f, "zz", "q9q");
		return;
	}
	if (!name[0] && pat[n - 1] == '~') { /* "/f/ns~" */
		add_sample(s, f, ns, "q9q");
		(void)snprintf(x, sizeof(x), "%s-q", ns);
		add_sample(s, f, x, "q9q");
		return;
	}
	if (!name[0]) { /* one exact namespace */
		add_sample(s, f, ns, "q9q");
		add_sample(s, f, ns, "w7w");
		return;
	}
	add_sample(s, f, ns, name);
	if (pat[n - 1] == '~') {
		(void)snprintf(x, sizeof(x), "%s-q9q", name);
		add_sample(s, f, ns, x);
	}
}

static void build_scenario(struct scenario *s)
{
	bool root = rnd(10) != 0;
	size_t want = 1 + rnd(9), root_at;

	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < want; k++) {
		struct cafs_group_pattern p;
		char text[128];
		bool dup = false;

		random_pattern(text, sizeof(text));
		if (cafs_group_pattern_parse(text, &p, NULL) < 0)
			continue;
		for (size_t i = 0; i < s->n; i++)
			dup |= strcmp(s->text[i], text) == 0;
		if (dup)
			continue;
		memcpy(s->text[s->n], text, sizeof(text));
		s->n++;
	}
	if (root) {
		root_at = rnd((uint32_t)s->n + 1);
		memmove(s->text[root_at + 1], s->text[root_at],
			(s->n - root_at) * sizeof(s->text[0]));
		(void)snprintf(s->text[root_at], sizeof(s->text[0]), "/*");
		s->n++;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct cafs_group *g = &s->g[i];
		bool is_root = strcmp(s->text[i], "/*") == 0;

		g->text = s->text[i];
		assert_int_equal(cafs_group_pattern_parse(g->text, &g->pattern, NULL), 0);
		for (int a = 0; a < CAFS_ACTION_N; a++) {
			size_t m = 0;

			if (is_root)
				g->mode[a] =
					rnd(20) == 0 ? INHERIT : (enum cafs_group_mode)(1 + rnd(3));
			else
				g->mode[a] = rnd(2) ? INHERIT : (enum cafs_group_mode)(1 + rnd(3));
			for (size_t r = 0; r < ARRAY_SIZE(v_repos); r++)
				if (rnd(2))
					s->list[i][a][m++] = v_repos[r];
			g->allowed[a] = rnd(8) ? s->list[i][a] : NULL;
			g->n_allowed[a] = g->allowed[a] ? m : 0;
		}
	}

	/* the hierarchy from sample packages: A contains B when A matches all B matches */
	for (size_t i = 0; i < s->n; i++)
		add_witnesses(s, s->text[i]);
	add_sample(s, "npm", "space", "anycompany-ui");
	add_sample(s, "maven", "com.acme", "x");
	for (size_t b = 0; b < s->n; b++) {
		size_t best_count = SIZE_MAX, ties = 0;

		s->ref_parent[b] = -1;
		for (size_t a = 0; a < s->n; a++) {
			size_t count = 0, b_count = 0;
			bool contains = true;

			if (a == b)
				continue;
			for (size_t k = 0; k < s->ns; k++) {
				bool in_a = ref_match(s->text[a], s->s_format[k], s->s_ns[k],
						      s->s_name[k]) == CAFS_MATCH_STRONG;
				bool in_b = ref_match(s->text[b], s->s_format[k], s->s_ns[k],
						      s->s_name[k]) == CAFS_MATCH_STRONG;

				count += in_a;
				b_count += in_b;
				if (in_b && !in_a)
					contains = false;
			}
			assert_true(b_count > 0);
			if (!contains)
				continue;
			if (count < best_count) {
				best_count = count;
				s->ref_parent[b] = (long)a;
				ties = 0;
			} else if (count == best_count) {
				ties++;
			}
		}
		if (ties)
			print_error("samples do not separate the containers of '%s'\n", s->text[b]);
		assert_int_equal(ties, 0);
	}
}

static enum cafs_group_mode ref_effective(const struct scenario *s, long g,
					  enum cafs_origin_action a, long *from)
{
	for (size_t steps = 0; g >= 0 && steps <= s->n; steps++) {
		if (s->g[g].mode[a] != INHERIT) {
			*from = g;
			return s->g[g].mode[a];
		}
		g = s->ref_parent[g];
	}
	*from = -1;
	return BLOCK;
}

static bool ref_listed(const struct cafs_group *g, enum cafs_origin_action a, const char *repo)
{
	for (size_t k = 0; g->allowed[a] && k < g->n_allowed[a]; k++)
		if (strcmp(g->allowed[a][k], repo) == 0)
			return true;
	return false;
}

static void reference_model(void **state)
{
	static const char *const repos[] = {"repoA", "repoB", "team", "web", "other"};
	size_t decisions = 0, parents = 0, modes = 0, rules[CAFS_RULE_NO_GROUP + 1] = {0};
	size_t weak = 0, strong_specific = 0;
	struct scenario *s = test_malloc(sizeof(*s));

	(void)state;
	for (int round = 0; round < 3000; round++) {
		build_scenario(s);
		for (size_t i = 0; i < s->n; i++) {
			assert_int_equal(cafs_group_parent(s->g, s->n, i), s->ref_parent[i]);
			parents++;
			for (int a = 0; a < CAFS_ACTION_N; a++) {
				long from = -2, ref_from = -3;
				enum cafs_group_mode m =
					cafs_group_effective_mode(s->g, s->n, i, a, &from);

				assert_int_equal(m, ref_effective(s, (long)i, a, &ref_from));
				assert_int_equal(from, ref_from);
				modes++;
			}
		}

		for (int k = 0; k < 4; k++) {
			struct cafs_package_controls pkg = {rnd(10) < 6, rnd(2), rnd(2)};
			enum cafs_origin_action a = (enum cafs_origin_action)rnd(CAFS_ACTION_N);
			const char *repo = repos[rnd(ARRAY_SIZE(repos))];
			const char *f = v_formats[rnd(ARRAY_SIZE(v_formats))];
			char base_ns[CAFS_GROUP_PATTERN_MAX + 8],
				base_name[CAFS_GROUP_PATTERN_MAX + 8];
			char ns[2 * CAFS_GROUP_PATTERN_MAX], name[2 * CAFS_GROUP_PATTERN_MAX],
				why[1024];
			enum cafs_origin_rule want;
			struct cafs_origin_decision d;
			enum cafs_match best_m = CAFS_MATCH_NONE;
			long best = -1;

			/* half the packages start from a group's own coordinates */
			(void)snprintf(base_ns, sizeof(base_ns), "%s",
				       v_pkg_ns[rnd(ARRAY_SIZE(v_pkg_ns))]);
			(void)snprintf(base_name, sizeof(base_name), "%s",
				       v_pkg_names[rnd(ARRAY_SIZE(v_pkg_names))]);
			if (s->n > 0 && rnd(2)) {
				const struct cafs_group_pattern *p =
					&s->g[rnd((uint32_t)s->n)].pattern;

				if (p->format != CAFS_FORMAT_NONE)
					f = cafs_format_name(p->format);
				if (p->shape >= CAFS_GROUP_NS_PREFIX)
					(void)snprintf(
						base_ns, sizeof(base_ns), "%s%s", p->namespace_,
						p->shape == CAFS_GROUP_NS_PREFIX && rnd(2) ? "-x"
											   : "");
				if (p->shape >= CAFS_GROUP_NAME_PREFIX)
					(void)snprintf(
						base_name, sizeof(base_name), "%s%s", p->name,
						p->shape == CAFS_GROUP_NAME_PREFIX && rnd(2) ? "-x"
											     : "");
			}
			variant(base_ns, ns);
			variant(base_name, name);

			/* most_specific_group(): brute force over all groups */
			for (size_t i = 0; i < s->n; i++) {
				enum cafs_match m = ref_match(s->text[i], f, ns, name);
				int c;

				assert_int_equal(cafs_group_pattern_match(&s->g[i].pattern,
									  cafs_format_parse(f), ns,
									  name),
						 m);
				if (m == CAFS_MATCH_NONE)
					continue;
				c = best < 0 ? 1 : ref_rank_cmp(s->text[i], s->text[best]);
				if (c > 0 || (c == 0 && m > best_m)) {
					best = (long)i;
					best_m = m;
				}
			}

			cafs_origin_decide(s->g, s->n, a, repo, &pkg, cafs_format_parse(f), ns,
					   name, &d);
			assert_int_equal(d.match, best_m);
			if (best >= 0) {
				/* equally specific weak candidates are interchangeable */
				assert_true(d.group >= 0);
				assert_int_equal(ref_rank_cmp(s->text[d.group], s->text[best]), 0);
			} else {
				assert_int_equal(d.group, -1);
			}

			/* allowed(action, repository, package) of spec §7.7 */
			if (pkg.present && a == CAFS_ACTION_PUBLISH && !pkg.publish_allow) {
				want = CAFS_RULE_PACKAGE_PUBLISH_BLOCK;
			} else if (pkg.present && a != CAFS_ACTION_PUBLISH && !pkg.upstream_allow) {
				want = CAFS_RULE_PACKAGE_UPSTREAM_BLOCK;
			} else if (best < 0) {
				want = CAFS_RULE_NO_GROUP;
			} else if (best_m == CAFS_MATCH_WEAK) {
				want = CAFS_RULE_WEAK_MATCH;
			} else {
				long src;
				enum cafs_group_mode mode = ref_effective(s, best, a, &src);

				if (mode == BLOCK)
					want = CAFS_RULE_GROUP_BLOCK;
				else if (mode == ASR && !ref_listed(&s->g[src], a, repo))
					want = CAFS_RULE_NOT_ON_LIST;
				else
					want = CAFS_RULE_ALLOWED;
			}
			if (d.rule != want)
				print_error("case %zu: %s into %s of %s/%s/%s: rule %d, want %d\n",
					    decisions, cafs_origin_action_name(a), repo, f, ns,
					    name, d.rule, want);
			assert_int_equal(d.rule, want);
			assert_int_equal(d.allowed, want == CAFS_RULE_ALLOWED);
			if (d.group >= 0) {
				long src;
				enum cafs_group_mode mode = ref_effective(s, d.group, a, &src);

				assert_int_equal(d.mode, s->g[d.group].mode[a]);
				assert_int_equal(d.effective, mode);
				assert_int_equal(d.inherited_from, src);
				assert_int_equal(d.on_list,
						 mode == ASR && ref_listed(&s->g[src], a, repo));
			}
			cafs_origin_explain(s->g, s->n, &d, repo, cafs_format_parse(f), ns, name,
					    why, sizeof(why));
			assert_int_equal(strstr(why, "verdict: ALLOWED") != NULL, d.allowed);
			rules[d.rule]++;
			weak += d.match == CAFS_MATCH_WEAK;
			strong_specific += d.match == CAFS_MATCH_STRONG &&
					   s->g[d.group].pattern.shape >= CAFS_GROUP_NAME_PREFIX;
			decisions++;
		}
	}
	test_free(s);

	/* the generator reaches every rule and both kinds of match */
	for (size_t r = 0; r < ARRAY_SIZE(rules); r++)
		assert_true(rules[r] > 50);
	assert_true(weak > 500);
	assert_true(strong_specific > 500);
	assert_true(decisions >= 10000);
	printf("# reference model agreed on %zu cases\n", decisions);
	printf("# (and on %zu parents and %zu effective modes)\n", parents, modes);
	(void)fflush(stdout);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_valid),
		cmocka_unit_test(parse_invalid),
		cmocka_unit_test(parse_lengths),
		cmocka_unit_test(format_buffers),
		cmocka_unit_test(match_shapes_and_boundaries),
		cmocka_unit_test(match_weak_variants),
		cmocka_unit_test(specificity_order),
		cmocka_unit_test(containment),
		cmocka_unit_test(parents_tree),
		cmocka_unit_test(association),
		cmocka_unit_test(names_and_parsers),
		cmocka_unit_test(inherit_chains),
		cmocka_unit_test(allowed_list_inherited),
		cmocka_unit_test(decision_table),
		cmocka_unit_test(seed_private_names),
		cmocka_unit_test(seed_one_repository),
		cmocka_unit_test(explanations),
		cmocka_unit_test(reference_model),
	};

	return cmocka_run_group_tests_name("policy_group", tests, NULL, NULL);
}
