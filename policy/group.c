/* SPDX-License-Identifier: MIT */
/*
 * Package groups (spec §7): the pattern language, strong and weak matching, the hierarchy of
 * groups and the origin decision that combines a package's own controls with its group's.
 *
 * Everything here works on plain values handed in by the caller and keeps no state. Patterns
 * are parsed once when a group is created; matching, association and decisions run on every
 * publish and every upstream intake, over the few dozen groups a domain typically has, so the
 * code favours straight loops over indexes: association is a linear scan, a parent is found by
 * testing containment against every other group.
 *
 * Containment and specificity are both derived from the six shapes of spec §7.1, which makes
 * the hierarchy a tree: the groups that contain a pattern always form a chain, and the most
 * specific of them is its parent.
 */
#include "policy/group.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy/common.h"

/* Messages quote at most this many bytes of a pattern, so that long ones still fit. */
#define SHOWN_MAX 64
#define SHOWN_BUF (SHOWN_MAX + 4)

/* Length of the UTF-8 sequence at @s and its code point, or 0 when it is not well formed. */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret_cp)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		len = 2;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		len = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		len = 4;
	} else {
		return 0;
	}
	/* A NUL ends the loop too: it is not a continuation byte. */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

/* Unicode category Cc, and the characters with the White_Space property. */
static bool is_space_or_control(uint32_t cp)
{
	return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
	       cp == 0x205f || cp == 0x3000;
}

/*
 * The pattern as messages quote it: at most SHOWN_MAX bytes of whole characters, "..." when
 * cut, and '?' for every byte or character that would upset a terminal or a log line.
 */
static const char *shown(const char *text, char buf[SHOWN_BUF])
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	size_t o = 0;

	while (*s) {
		uint32_t cp = 0;
		size_t len = utf8_decode(s, &cp);

		if (o + (len ? len : 1) > SHOWN_MAX) {
			memcpy(buf + o, "...", 4);
			return buf;
		}
		if (len == 0 || is_space_or_control(cp)) {
			buf[o++] = '?';
			s += len ? len : 1;
			continue;
		}
		memcpy(buf + o, s, len);
		o += len;
		s += len;
	}
	buf[o] = '\0';
	return buf;
}

static int pattern_error(struct cafs_error *e, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A ValidationException that names the pattern, then what is wrong with it. */
static int pattern_error(struct cafs_error *e, const char *text, const char *fmt, ...)
{
	char why[224], show[SHOWN_BUF];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return cafs_error_set(e, CAFS_VALIDATION, 0, "package group pattern '%s': %s",
			      shown(text, show), why);
}

/*
 * A byte that belongs to a word. Spec §7.1 defines a word as [\p{L}\p{N}][\p{L}\p{N}\p{M}]*;
 * without Unicode tables every non-ASCII character counts as a letter, which keeps accented
 * and non-Latin names whole ("café" is one word) at the price of treating rare non-ASCII
 * punctuation as letters.
 */
static bool is_word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c >= 0x80;
}

static bool is_separator(unsigned char c)
{
	return c == '-' || c == '.' || c == '_';
}

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static void lower_into(char *dst, const char *src)
{
	for (; *src; src++, dst++)
		*dst = (*src >= 'A' && *src <= 'Z') ? (char)(*src - 'A' + 'a') : *src;
	*dst = '\0';
}

enum ns_rule {
	NS_NEVER,    /* the format has no namespaces: patterns use "//" */
	NS_OPTIONAL, /* npm: scoped or not */
	NS_REQUIRED, /* every package has one */
};

static enum ns_rule format_ns_rule(enum cafs_format f)
{
	switch (f) {
	case CAFS_FORMAT_PYPI:
	case CAFS_FORMAT_NUGET:
	case CAFS_FORMAT_RUBY:
	case CAFS_FORMAT_CARGO:
		return NS_NEVER;
	case CAFS_FORMAT_MAVEN:
	case CAFS_FORMAT_GENERIC:
	case CAFS_FORMAT_SWIFT:
		return NS_REQUIRED;
	case CAFS_FORMAT_NPM:
	case CAFS_FORMAT_NONE:
		break;
	}
	return NS_OPTIONAL;
}

/* The canonical text of @p for a suggestion in a message ("write '...'"). */
static const char *suggestion(const struct cafs_group_pattern *p, char show[SHOWN_BUF])
{
	char text[2 * CAFS_GROUP_PATTERN_MAX + 16];

	if (cafs_group_pattern_format(p, text, sizeof(text)) < 0)
		text[0] = '\0';
	return shown(text, show);
}

/*
 * The rules that depend on the format once the shape is known: where namespaces may or must
 * appear, and the formats whose stored names are normalized (spec §3: a pattern is matched
 * against stored coordinates, so it has to be written the way they are stored).
 */
static int check_format_rules(const char *text, const struct cafs_group_pattern *p,
			      struct cafs_error *e)
{
	const char *fname = cafs_format_name(p->format);
	bool names_package =
		p->shape == CAFS_GROUP_NAME_PREFIX || p->shape == CAFS_GROUP_NAME_EXACT;
	char show[SHOWN_BUF];
	char suffix = p->shape == CAFS_GROUP_NAME_EXACT ? '$' : '~';

	switch (format_ns_rule(p->format)) {
	case NS_NEVER:
		if (p->shape == CAFS_GROUP_NS_PREFIX ||
		    ((p->shape == CAFS_GROUP_NS_EXACT || names_package) && p->namespace_[0])) {
			struct cafs_group_pattern s = *p;

			/* "/pypi/x~" most likely meant the name prefix "/pypi//x~" */
			if (p->shape == CAFS_GROUP_NS_PREFIX) {
				s.shape = CAFS_GROUP_NAME_PREFIX;
				memcpy(s.name, p->namespace_, sizeof(s.name));
			}
			s.namespace_[0] = '\0';
			return pattern_error(e, text, "%s has no namespaces: write '%s'", fname,
					     suggestion(&s, show));
		}
		break;
	case NS_REQUIRED:
		if (p->shape == CAFS_GROUP_NS_EXACT && !p->namespace_[0])
			return pattern_error(
				e, text, "%s needs a namespace: write '/%s/*' for every package",
				fname, fname);
		if (names_package && !p->namespace_[0])
			return pattern_error(e, text,
					     "%s needs a namespace before a package name: write "
					     "'/%s/<namespace>/%s%c'",
					     fname, fname, shown(p->name, show), suffix);
		break;
	case NS_OPTIONAL:
		break;
	}

	if (p->format == CAFS_FORMAT_PYPI && names_package) {
		struct cafs_group_pattern s = *p;

		if (cafs_pypi_normalize(p->name, s.name, sizeof(s.name)) == 0 &&
		    strcmp(s.name, p->name) != 0)
			return pattern_error(e, text,
					     "pypi names must be written normalized (PEP 503): "
					     "write '%s'",
					     suggestion(&s, show));
	}
	if (p->format == CAFS_FORMAT_NUGET && names_package && has_upper(p->name)) {
		struct cafs_group_pattern s = *p;

		lower_into(s.name, p->name);
		return pattern_error(
			e, text, "nuget names must be written normalized (lower case): write '%s'",
			suggestion(&s, show));
	}
	if (p->format == CAFS_FORMAT_SWIFT && (has_upper(p->namespace_) || has_upper(p->name))) {
		struct cafs_group_pattern s = *p;

		lower_into(s.namespace_, p->namespace_);
		lower_into(s.name, p->name);
		return pattern_error(e, text,
				     "swift namespaces and names must be written normalized (lower "
				     "case): write '%s'",
				     suggestion(&s, show));
	}
	return 0;
}

/* Length (spec: 2-520 characters), encoding and character rules that hold for the whole text. */
static int check_text(const char *text, size_t len, struct cafs_error *e)
{
	char show[SHOWN_BUF];
	size_t chars = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			chars++;
	if (chars < CAFS_GROUP_PATTERN_MIN)
		return cafs_error_set(e, CAFS_VALIDATION, 0,
				      "package group pattern '%s' is shorter than 2 characters",
				      shown(text, show));
	if (chars > CAFS_GROUP_PATTERN_MAX)
		return cafs_error_set(e, CAFS_VALIDATION, ENAMETOOLONG,
				      "package group pattern '%s' is longer than 520 characters",
				      shown(text, show));
	/*
	 * The API counts characters; the rest of cafs keeps a pattern in CAFS_GROUP_PATTERN_MAX
	 * bytes, so a non-ASCII pattern must also fit in that many bytes of UTF-8.
	 */
	if (len > CAFS_GROUP_PATTERN_MAX)
		return cafs_error_set(
			e, CAFS_VALIDATION, ENAMETOOLONG,
			"package group pattern '%s' is longer than 520 bytes of UTF-8",
			shown(text, show));
	for (const unsigned char *s = (const unsigned char *)text; *s;) {
		uint32_t cp;
		size_t n = utf8_decode(s, &cp);

		if (n == 0)
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "package group pattern '%s' is not valid UTF-8",
					      shown(text, show));
		if (is_space_or_control(cp))
			return cafs_error_set(e, CAFS_VALIDATION, 0,
					      "package group pattern '%s' contains a control or "
					      "white-space character",
					      shown(text, show));
		s += n;
	}
	return 0;
}

int cafs_group_pattern_parse(const char *text, struct cafs_group_pattern *ret, struct cafs_error *e)
{
	struct cafs_group_pattern p;
	const char *part[4];
	size_t part_len[4], len, nparts = 0, named;
	char suffix, before;
	const char *start;
	int r;

	len = text ? strlen(text) : 0;
	r = check_text(text, len, e);
	if (r < 0)
		return r;

	if (text[0] != '/')
		return pattern_error(e, text, "must start with '/'");
	suffix = text[len - 1];
	if (suffix != '$' && suffix != '~' && suffix != '*')
		return pattern_error(e, text, "must end with '$', '~' or '*'");
	for (size_t i = 0; i + 1 < len; i++)
		if (text[i] == '$' || text[i] == '~' || text[i] == '*')
			return pattern_error(e, text, "'%c' may only end the pattern", text[i]);

	memset(&p, 0, sizeof(p));
	if (len == 2 && suffix == '*') {
		p.shape = CAFS_GROUP_ALL;
		p.format = CAFS_FORMAT_NONE;
		*ret = p;
		return 0;
	}

	/* Split what lies between the leading '/' and the suffix at each '/'. */
	start = text + 1;
	for (const char *q = start;; q++) {
		if (q == text + len - 1 || *q == '/') {
			if (nparts < ARRAY_SIZE(part)) {
				part[nparts] = start;
				part_len[nparts] = (size_t)(q - start);
			}
			nparts++;
			if (q == text + len - 1)
				break;
			start = q + 1;
		}
	}
	before = text[len - 2];
	if (suffix == '*' && before != '/')
		return pattern_error(e, text,
				     "'*' must directly follow '/'; end a prefix with '~'");
	/* With '*' the last part is the empty one between the final '/' and the '*'. */
	named = suffix == '*' ? nparts - 1 : nparts;
	if (named > 3)
		return pattern_error(e, text,
				     "too many '/': a pattern names at most a format, a namespace "
				     "and a name");
	if (suffix == '*' && named == 3)
		return pattern_error(e, text,
				     "'*' cannot follow a package name; end it with '~' or '$'");

	if (part_len[0] == 0)
		return pattern_error(e, text, "the format is missing");
	{
		char fname[16] = "";

		if (part_len[0] < sizeof(fname))
			memcpy(fname, part[0], part_len[0]);
		p.format = cafs_format_parse(fname);
		if (p.format == CAFS_FORMAT_NONE)
			return pattern_error(e, text, "unknown format '%.*s'", (int)part_len[0],
					     part[0]);
	}

	if (suffix == '~') {
		if (before == '/')
			return pattern_error(
				e, text, "'~' must follow a letter or digit; use '*' after '/'");
		if (!is_word_byte((unsigned char)before))
			return pattern_error(e, text, "'~' must follow a letter or digit, not '%c'",
					     before);
		if (named == 1)
			return pattern_error(e, text, "'~' cannot follow a format; write '/%s/*'",
					     cafs_format_name(p.format));
		p.shape = named == 2 ? CAFS_GROUP_NS_PREFIX : CAFS_GROUP_NAME_PREFIX;
	} else if (suffix == '$') {
		if (before == '/')
			return pattern_error(e, text, "'$' must follow a package name");
		if (named == 1)
			return pattern_error(
				e, text,
				"'$' must follow a package name; write '/%s/*' for the "
				"whole format",
				cafs_format_name(p.format));
		if (named == 2)
			return pattern_error(
				e, text,
				"'$' must follow a package name; write '/%s/%.*s/*' for "
				"the whole namespace",
				cafs_format_name(p.format), (int)part_len[1], part[1]);
		p.shape = CAFS_GROUP_NAME_EXACT;
	} else {
		p.shape = named == 1 ? CAFS_GROUP_FORMAT : CAFS_GROUP_NS_EXACT;
	}
	/* A part is at most the pattern's 520 bytes less "/npm/" and the suffix: it fits. */
	if (named >= 2)
		memcpy(p.namespace_, part[1], part_len[1]);
	if (named == 3)
		memcpy(p.name, part[2], part_len[2]);

	r = check_format_rules(text, &p, e);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

int cafs_group_pattern_format(const struct cafs_group_pattern *p, char *buf, size_t bufsz)
{
	const char *f = cafs_format_name(p->format);
	int n;

	if (p->shape != CAFS_GROUP_ALL && !f)
		return -EINVAL;
	switch (p->shape) {
	case CAFS_GROUP_ALL:
		n = snprintf(buf, bufsz, "/*");
		break;
	case CAFS_GROUP_FORMAT:
		n = snprintf(buf, bufsz, "/%s/*", f);
		break;
	case CAFS_GROUP_NS_PREFIX:
		n = snprintf(buf, bufsz, "/%s/%s~", f, p->namespace_);
		break;
	case CAFS_GROUP_NS_EXACT:
		n = snprintf(buf, bufsz, "/%s/%s/*", f, p->namespace_);
		break;
	case CAFS_GROUP_NAME_PREFIX:
		n = snprintf(buf, bufsz, "/%s/%s/%s~", f, p->namespace_, p->name);
		break;
	case CAFS_GROUP_NAME_EXACT:
		n = snprintf(buf, bufsz, "/%s/%s/%s$", f, p->namespace_, p->name);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= bufsz)
		return -ENAMETOOLONG;
	return n;
}

const char *cafs_match_name(enum cafs_match m)
{
	switch (m) {
	case CAFS_MATCH_STRONG:
		return "STRONG";
	case CAFS_MATCH_WEAK:
		return "WEAK";
	case CAFS_MATCH_NONE:
		break;
	}
	return NULL;
}

/* @s starts with @prefix and the prefix ends on a word boundary of @s (spec §7.1). */
static bool word_prefix(const char *prefix, const char *s)
{
	size_t n = strlen(prefix);

	return strncmp(prefix, s, n) == 0 && (s[n] == '\0' || !is_word_byte((unsigned char)s[n]));
}

/*
 * Look-alike characters and the Latin letter they fold to for weak matching (spec §7.3). Case
 * folding comes first, so capital letters of other scripts map straight to lower-case Latin.
 * The capital Latin I folds to i by case and is deliberately not confused with l: doing so
 * would make "Ivy" a variant of "lvy" but not of "ivy".
 *
 *   digits:    0 -> o, 1 -> l (folded in fold_next(), as they are ASCII)
 *   Cyrillic:  а е о р с у х ѕ і ј һ ԁ ԛ ԝ -> a e o p c y x s i j h d q w
 *              Ѕ І Ј А В Е К М Н О Р С Т У Х -> s i j a b e k m h o p c t y x
 *   Greek:     α ε ι κ ν ο ρ τ υ χ -> a e i k v o p t u x
 *              Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ -> a b e z h i k m n o p t y x
 *   Latin:     ı (dotless i) -> i
 */
static const struct {
	const char utf8[3];
	char latin;
} confusables[] = {
	{"\xd0\xb0", 'a'}, /* U+0430 CYRILLIC SMALL LETTER A */
	{"\xd0\xb5", 'e'}, /* U+0435 CYRILLIC SMALL LETTER IE */
	{"\xd0\xbe", 'o'}, /* U+043E CYRILLIC SMALL LETTER O */
	{"\xd1\x80", 'p'}, /* U+0440 CYRILLIC SMALL LETTER ER */
	{"\xd1\x81", 'c'}, /* U+0441 CYRILLIC SMALL LETTER ES */
	{"\xd1\x83", 'y'}, /* U+0443 CYRILLIC SMALL LETTER U */
	{"\xd1\x85", 'x'}, /* U+0445 CYRILLIC SMALL LETTER HA */
	{"\xd1\x95", 's'}, /* U+0455 CYRILLIC SMALL LETTER DZE */
	{"\xd1\x96", 'i'}, /* U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I */
	{"\xd1\x98", 'j'}, /* U+0458 CYRILLIC SMALL LETTER JE */
	{"\xd2\xbb", 'h'}, /* U+04BB CYRILLIC SMALL LETTER SHHA */
	{"\xd4\x81", 'd'}, /* U+0501 CYRILLIC SMALL LETTER KOMI DE */
	{"\xd4\x9b", 'q'}, /* U+051B CYRILLIC SMALL LETTER QA */
	{"\xd4\x9d", 'w'}, /* U+051D CYRILLIC SMALL LETTER WE */
	{"\xd0\x85", 's'}, /* U+0405 CYRILLIC CAPITAL LETTER DZE */
	{"\xd0\x86", 'i'}, /* U+0406 CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I */
	{"\xd0\x88", 'j'}, /* U+0408 CYRILLIC CAPITAL LETTER JE */
	{"\xd0\x90", 'a'}, /* U+0410 CYRILLIC CAPITAL LETTER A */
	{"\xd0\x92", 'b'}, /* U+0412 CYRILLIC CAPITAL LETTER VE */
	{"\xd0\x95", 'e'}, /* U+0415 CYRILLIC CAPITAL LETTER IE */
	{"\xd0\x9a", 'k'}, /* U+041A CYRILLIC CAPITAL LETTER KA */
	{"\xd0\x9c", 'm'}, /* U+041C CYRILLIC CAPITAL LETTER EM */
	{"\xd0\x9d", 'h'}, /* U+041D CYRILLIC CAPITAL LETTER EN */
	{"\xd0\x9e", 'o'}, /* U+041E CYRILLIC CAPITAL LETTER O */
	{"\xd0\xa0", 'p'}, /* U+0420 CYRILLIC CAPITAL LETTER ER */
	{"\xd0\xa1", 'c'}, /* U+0421 CYRILLIC CAPITAL LETTER ES */
	{"\xd0\xa2", 't'}, /* U+0422 CYRILLIC CAPITAL LETTER TE */
	{"\xd0\xa3", 'y'}, /* U+0423 CYRILLIC CAPITAL LETTER U */
	{"\xd0\xa5", 'x'}, /* U+0425 CYRILLIC CAPITAL LETTER HA */
	{"\xce\xb1", 'a'}, /* U+03B1 GREEK SMALL LETTER ALPHA */
	{"\xce\xb5", 'e'}, /* U+03B5 GREEK SMALL LETTER EPSILON */
	{"\xce\xb9", 'i'}, /* U+03B9 GREEK SMALL LETTER IOTA */
	{"\xce\xba", 'k'}, /* U+03BA GREEK SMALL LETTER KAPPA */
	{"\xce\xbd", 'v'}, /* U+03BD GREEK SMALL LETTER NU */
	{"\xce\xbf", 'o'}, /* U+03BF GREEK SMALL LETTER OMICRON */
	{"\xcf\x81", 'p'}, /* U+03C1 GREEK SMALL LETTER RHO */
	{"\xcf\x84", 't'}, /* U+03C4 GREEK SMALL LETTER TAU */
	{"\xcf\x85", 'u'}, /* U+03C5 GREEK SMALL LETTER UPSILON */
	{"\xcf\x87", 'x'}, /* U+03C7 GREEK SMALL LETTER CHI */
	{"\xce\x91", 'a'}, /* U+0391 GREEK CAPITAL LETTER ALPHA */
	{"\xce\x92", 'b'}, /* U+0392 GREEK CAPITAL LETTER BETA */
	{"\xce\x95", 'e'}, /* U+0395 GREEK CAPITAL LETTER EPSILON */
	{"\xce\x96", 'z'}, /* U+0396 GREEK CAPITAL LETTER ZETA */
	{"\xce\x97", 'h'}, /* U+0397 GREEK CAPITAL LETTER ETA */
	{"\xce\x99", 'i'}, /* U+0399 GREEK CAPITAL LETTER IOTA */
	{"\xce\x9a", 'k'}, /* U+039A GREEK CAPITAL LETTER KAPPA */
	{"\xce\x9c", 'm'}, /* U+039C GREEK CAPITAL LETTER MU */
	{"\xce\x9d", 'n'}, /* U+039D GREEK CAPITAL LETTER NU */
	{"\xce\x9f", 'o'}, /* U+039F GREEK CAPITAL LETTER OMICRON */
	{"\xce\xa1", 'p'}, /* U+03A1 GREEK CAPITAL LETTER RHO */
	{"\xce\xa4", 't'}, /* U+03A4 GREEK CAPITAL LETTER TAU */
	{"\xce\xa5", 'y'}, /* U+03A5 GREEK CAPITAL LETTER UPSILON */
	{"\xce\xa7", 'x'}, /* U+03A7 GREEK CAPITAL LETTER CHI */
	{"\xc4\xb1", 'i'}, /* U+0131 LATIN SMALL LETTER DOTLESS I */
};

/*
 * The folded form of a string, produced byte by byte so that coordinates of any length fold
 * without a buffer. Characters outside the table come out as their own bytes; UTF-8 being
 * self-synchronizing, comparing folded bytes compares folded characters.
 */
struct fold {
	const unsigned char *p;
};

/* The next folded byte, '\0' at the end. */
static unsigned char fold_next(struct fold *f)
{
	unsigned char c = *f->p;

	if (c == '\0')
		return '\0';
	if (is_separator(c)) {
		while (is_separator(*f->p))
			f->p++;
		return '.';
	}
	if (c >= 0x80) {
		for (size_t i = 0; i < ARRAY_SIZE(confusables); i++) {
			size_t n = strlen(confusables[i].utf8);

			if (memcmp(f->p, confusables[i].utf8, n) == 0) {
				f->p += n;
				return (unsigned char)confusables[i].latin;
			}
		}
		f->p++;
		return c;
	}
	f->p++;
	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c - 'A' + 'a');
	if (c == '0')
		return 'o';
	if (c == '1')
		return 'l';
	return c;
}

static bool fold_equal(const char *a, const char *b)
{
	struct fold fa = {(const unsigned char *)a}, fb = {(const unsigned char *)b};

	for (;;) {
		unsigned char ca = fold_next(&fa), cb = fold_next(&fb);

		if (ca != cb)
			return false;
		if (ca == '\0')
			return true;
	}
}

/* word_prefix() on the folded forms of both sides. */
static bool fold_word_prefix(const char *prefix, const char *s)
{
	struct fold fp = {(const unsigned char *)prefix}, fs = {(const unsigned char *)s};
	unsigned char cp, cs;

	while ((cp = fold_next(&fp)) != '\0')
		if (fold_next(&fs) != cp)
			return false;
	cs = fold_next(&fs);
	return cs == '\0' || !is_word_byte(cs);
}

enum cafs_match cafs_group_pattern_match(const struct cafs_group_pattern *p,
					 enum cafs_format format, const char *namespace_,
					 const char *name)
{
	const char *ns = namespace_ ? namespace_ : "";
	bool strong = false, weak = false;

	if (!name)
		name = "";
	if (p->shape == CAFS_GROUP_ALL)
		return CAFS_MATCH_STRONG;
	if (format != p->format)
		return CAFS_MATCH_NONE;
	switch (p->shape) {
	case CAFS_GROUP_ALL:
	case CAFS_GROUP_FORMAT:
		return CAFS_MATCH_STRONG;
	case CAFS_GROUP_NS_PREFIX:
		strong = word_prefix(p->namespace_, ns);
		weak = strong || fold_word_prefix(p->namespace_, ns);
		break;
	case CAFS_GROUP_NS_EXACT:
		strong = strcmp(p->namespace_, ns) == 0;
		weak = strong || fold_equal(p->namespace_, ns);
		break;
	case CAFS_GROUP_NAME_PREFIX:
		strong = strcmp(p->namespace_, ns) == 0 && word_prefix(p->name, name);
		weak = strong || (fold_equal(p->namespace_, ns) && fold_word_prefix(p->name, name));
		break;
	case CAFS_GROUP_NAME_EXACT:
		strong = strcmp(p->namespace_, ns) == 0 && strcmp(p->name, name) == 0;
		weak = strong || (fold_equal(p->namespace_, ns) && fold_equal(p->name, name));
		break;
	}
	if (strong)
		return CAFS_MATCH_STRONG;
	return weak ? CAFS_MATCH_WEAK : CAFS_MATCH_NONE;
}

static size_t count_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * The specificity of a pattern as a tuple compared left to right (spec §7.2 PROPOSAL): format
 * given; namespace none < prefix < exact, with the prefix's length; name every < prefix <
 * exact, with the prefix's length. Equal ranks mean the same shape and prefix lengths.
 */
static void rank_of(const struct cafs_group_pattern *p, size_t rank[5])
{
	memset(rank, 0, 5 * sizeof(rank[0]));
	switch (p->shape) {
	case CAFS_GROUP_ALL:
		break;
	case CAFS_GROUP_FORMAT:
		rank[0] = 1;
		break;
	case CAFS_GROUP_NS_PREFIX:
		rank[0] = 1;
		rank[1] = 1;
		rank[2] = count_chars(p->namespace_);
		break;
	case CAFS_GROUP_NS_EXACT:
		rank[0] = 1;
		rank[1] = 2;
		break;
	case CAFS_GROUP_NAME_PREFIX:
		rank[0] = 1;
		rank[1] = 2;
		rank[3] = 1;
		rank[4] = count_chars(p->name);
		break;
	case CAFS_GROUP_NAME_EXACT:
		rank[0] = 1;
		rank[1] = 2;
		rank[3] = 2;
		break;
	}
}

static int rank_compare(const struct cafs_group_pattern *a, const struct cafs_group_pattern *b)
{
	size_t ra[5], rb[5];

	rank_of(a, ra);
	rank_of(b, rb);
	for (size_t i = 0; i < 5; i++)
		if (ra[i] != rb[i])
			return ra[i] > rb[i] ? 1 : -1;
	return 0;
}

int cafs_group_pattern_compare(const struct cafs_group_pattern *a,
			       const struct cafs_group_pattern *b)
{
	int c = rank_compare(a, b);

	if (c)
		return c;
	/*
	 * Same shape and lengths: no pattern contains the other, so any fixed order will do;
	 * the earlier format and the earlier bytes count as more specific.
	 */
	if (a->format != b->format)
		return a->format < b->format ? 1 : -1;
	c = strcmp(a->namespace_, b->namespace_);
	if (c == 0)
		c = strcmp(a->name, b->name);
	return c < 0 ? 1 : c > 0 ? -1 : 0;
}

bool cafs_group_pattern_contains(const struct cafs_group_pattern *a,
				 const struct cafs_group_pattern *b)
{
	bool b_names_package =
		b->shape == CAFS_GROUP_NAME_PREFIX || b->shape == CAFS_GROUP_NAME_EXACT;

	if (cafs_group_pattern_compare(a, b) == 0)
		return false;
	if (a->shape == CAFS_GROUP_ALL)
		return true;
	if (b->shape == CAFS_GROUP_ALL || a->format != b->format)
		return false;
	switch (a->shape) {
	case CAFS_GROUP_ALL:
		return true;
	case CAFS_GROUP_FORMAT:
		return b->shape != CAFS_GROUP_FORMAT;
	case CAFS_GROUP_NS_PREFIX:
		/*
		 * Every namespace @b selects starts with its own namespace (or prefix), then
		 * a boundary; if that one extends ours on a boundary, so do they.
		 */
		return b->shape != CAFS_GROUP_FORMAT && word_prefix(a->namespace_, b->namespace_);
	case CAFS_GROUP_NS_EXACT:
		return b_names_package && strcmp(a->namespace_, b->namespace_) == 0;
	case CAFS_GROUP_NAME_PREFIX:
		return b_names_package && strcmp(a->namespace_, b->namespace_) == 0 &&
		       word_prefix(a->name, b->name);
	case CAFS_GROUP_NAME_EXACT:
		return false;
	}
	return false;
}

static const char *const action_names[CAFS_ACTION_N] = {
	[CAFS_ACTION_PUBLISH] = "PUBLISH",
	[CAFS_ACTION_EXTERNAL_UPSTREAM] = "EXTERNAL_UPSTREAM",
	[CAFS_ACTION_INTERNAL_UPSTREAM] = "INTERNAL_UPSTREAM",
};

const char *cafs_origin_action_name(enum cafs_origin_action a)
{
	if ((unsigned)a >= CAFS_ACTION_N)
		return NULL;
	return action_names[a];
}

int cafs_origin_action_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(action_names); i++)
		if (strcmp(s, action_names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *const mode_names[] = {
	[CAFS_MODE_INHERIT] = "INHERIT",
	[CAFS_MODE_ALLOW] = "ALLOW",
	[CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES] = "ALLOW_SPECIFIC_REPOSITORIES",
	[CAFS_MODE_BLOCK] = "BLOCK",
};

const char *cafs_group_mode_name(enum cafs_group_mode m)
{
	if ((unsigned)m >= ARRAY_SIZE(mode_names))
		return NULL;
	return mode_names[m];
}

int cafs_group_mode_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(mode_names); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

long cafs_group_parent(const struct cafs_group *groups, size_t n, size_t i)
{
	long best = -1;

	if (i >= n)
		return -1;
	for (size_t j = 0; j < n; j++) {
		if (j == i || !cafs_group_pattern_contains(&groups[j].pattern, &groups[i].pattern))
			continue;
		if (best < 0 ||
		    cafs_group_pattern_compare(&groups[j].pattern, &groups[best].pattern) > 0)
			best = (long)j;
	}
	return best;
}

long cafs_group_associate(const struct cafs_group *groups, size_t n, enum cafs_format format,
			  const char *namespace_, const char *name, enum cafs_match *ret_match)
{
	enum cafs_match best_match = CAFS_MATCH_NONE;
	long best = -1;

	for (size_t i = 0; i < n; i++) {
		const struct cafs_group_pattern *p = &groups[i].pattern;
		enum cafs_match m = cafs_group_pattern_match(p, format, namespace_, name);
		int c;

		if (m == CAFS_MATCH_NONE)
			continue;
		if (best >= 0) {
			c = rank_compare(p, &groups[best].pattern);
			if (c == 0 && m != best_match)
				c = m > best_match ? 1 : -1;
			if (c == 0)
				c = cafs_group_pattern_compare(p, &groups[best].pattern);
			if (c <= 0)
				continue;
		}
		best = (long)i;
		best_match = m;
	}
	if (ret_match)
		*ret_match = best_match;
	return best;
}

enum cafs_group_mode cafs_group_effective_mode(const struct cafs_group *groups, size_t n, size_t i,
					       enum cafs_origin_action a, long *ret_from)
{
	long cur = i < n ? (long)i : -1;

	assert((unsigned)a < CAFS_ACTION_N);
	/* Parents are strictly less specific, so the walk ends; the bound is only a guard. */
	for (size_t steps = 0; cur >= 0 && steps <= n && (unsigned)a < CAFS_ACTION_N; steps++) {
		enum cafs_group_mode m = groups[cur].mode[a];

		if (m != CAFS_MODE_INHERIT) {
			if (ret_from)
				*ret_from = cur;
			return m;
		}
		cur = cafs_group_parent(groups, n, (size_t)cur);
	}
	if (ret_from)
		*ret_from = -1;
	return CAFS_MODE_BLOCK;
}

static bool on_list(const struct cafs_group *g, enum cafs_origin_action a, const char *repository)
{
	if (!repository || !g->allowed[a])
		return false;
	for (size_t k = 0; k < g->n_allowed[a]; k++)
		if (g->allowed[a][k] && strcmp(g->allowed[a][k], repository) == 0)
			return true;
	return false;
}

void cafs_origin_decide(const struct cafs_group *groups, size_t n, enum cafs_origin_action a,
			const char *repository, const struct cafs_package_controls *pkg,
			enum cafs_format format, const char *namespace_, const char *name,
			struct cafs_origin_decision *ret)
{
	struct cafs_origin_decision d = {
		.action = a,
		.group = -1,
		.match = CAFS_MATCH_NONE,
		.mode = CAFS_MODE_INHERIT,
		.effective = CAFS_MODE_BLOCK,
		.inherited_from = -1,
	};

	assert((unsigned)a < CAFS_ACTION_N);
	if (pkg)
		d.package = *pkg;
	if ((unsigned)a >= CAFS_ACTION_N) {
		/* Not a restriction type at all: nothing can be allowed under it. */
		d.rule = CAFS_RULE_GROUP_BLOCK;
		*ret = d;
		return;
	}

	/*
	 * The whole chain is filled in even when the package's own setting decides, so that
	 * an explanation can show every layer.
	 */
	d.group = cafs_group_associate(groups, n, format, namespace_, name, &d.match);
	if (d.group >= 0) {
		d.mode = groups[d.group].mode[a];
		d.effective =
			cafs_group_effective_mode(groups, n, (size_t)d.group, a, &d.inherited_from);
		if (d.effective == CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES && d.inherited_from >= 0)
			d.on_list = on_list(&groups[d.inherited_from], a, repository);
	}

	/* The order of spec §7.7's allowed(): the package first, then its group. */
	if (d.package.present && a == CAFS_ACTION_PUBLISH && !d.package.publish_allow)
		d.rule = CAFS_RULE_PACKAGE_PUBLISH_BLOCK;
	else if (d.package.present && a != CAFS_ACTION_PUBLISH && !d.package.upstream_allow)
		d.rule = CAFS_RULE_PACKAGE_UPSTREAM_BLOCK;
	else if (d.group < 0)
		d.rule = CAFS_RULE_NO_GROUP;
	else if (d.match == CAFS_MATCH_WEAK)
		d.rule = CAFS_RULE_WEAK_MATCH;
	else if (d.effective == CAFS_MODE_BLOCK)
		d.rule = CAFS_RULE_GROUP_BLOCK;
	else if (d.effective == CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES && !d.on_list)
		d.rule = CAFS_RULE_NOT_ON_LIST;
	else
		d.rule = CAFS_RULE_ALLOWED;
	d.allowed = d.rule == CAFS_RULE_ALLOWED;
	*ret = d;
}

/* A bounded string builder: appends until the buffer is full, always terminated. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n;
	if (o->len >= o->size)
		o->len = o->size - 1;
}

/* A group as explanations name it: the text it was defined with, else its canonical text. */
static void out_group(struct out *o, const struct cafs_group *g)
{
	char text[2 * CAFS_GROUP_PATTERN_MAX + 16];

	if (g->text) {
		out_add(o, "%s", g->text);
		return;
	}
	if (cafs_group_pattern_format(&g->pattern, text, sizeof(text)) < 0)
		(void)snprintf(text, sizeof(text), "(invalid pattern)");
	out_add(o, "%s", text);
}

size_t cafs_origin_explain(const struct cafs_group *groups, size_t n,
			   const struct cafs_origin_decision *d, const char *repository,
			   enum cafs_format format, const char *namespace_, const char *name,
			   char *buf, size_t bufsz)
{
	struct out o = {buf, bufsz, 0};
	const char *action = cafs_origin_action_name(d->action);
	const char *fname = cafs_format_name(format);
	const char *repo = repository ? repository : "";
	const char *ns = namespace_ ? namespace_ : "";

	if (bufsz == 0)
		return 0;
	buf[0] = '\0';
	if (!action)
		action = "(unknown action)";
	if (!fname)
		fname = "(unknown format)";

	out_add(&o, "%s into '%s' of %s package ", action, repo, fname);
	if (!*ns)
		out_add(&o, "%s", name ? name : "");
	else if (format == CAFS_FORMAT_NPM)
		out_add(&o, "@%s/%s", ns, name ? name : "");
	else if (format == CAFS_FORMAT_MAVEN)
		out_add(&o, "%s:%s", ns, name ? name : "");
	else
		out_add(&o, "%s/%s", ns, name ? name : "");

	if (d->package.present)
		out_add(&o, ": package controls publish=%s upstream=%s",
			d->package.publish_allow ? "ALLOW" : "BLOCK",
			d->package.upstream_allow ? "ALLOW" : "BLOCK");
	else
		out_add(&o, ": no package controls in '%s', the group decides alone", repo);

	if (d->group < 0 || (size_t)d->group >= n) {
		out_add(&o, "; no package group matches");
	} else {
		const struct cafs_group *g = &groups[d->group];
		size_t matching = 0;

		for (size_t i = 0; i < n; i++)
			if (cafs_group_pattern_match(&groups[i].pattern, format, namespace_,
						     name) != CAFS_MATCH_NONE)
				matching++;
		out_add(&o, "; group ");
		out_group(&o, g);
		out_add(&o, " (%s match, most specific of %zu matching)",
			d->match == CAFS_MATCH_WEAK ? "WEAK" : "STRONG", matching);
		out_add(&o, "; its %s mode %s", action,
			cafs_group_mode_name(d->mode) ? cafs_group_mode_name(d->mode) : "?");
		if (d->inherited_from < 0) {
			out_add(&o, ", effective BLOCK (no ancestor sets a mode)");
		} else if (d->inherited_from != d->group && (size_t)d->inherited_from < n) {
			out_add(&o, ", effective %s inherited from ",
				cafs_group_mode_name(d->effective));
			out_group(&o, &groups[d->inherited_from]);
		}
		if (d->effective == CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES &&
		    d->inherited_from >= 0 && (size_t)d->inherited_from < n) {
			out_add(&o, "; '%s' is %son ", repo, d->on_list ? "" : "not ");
			if (d->inherited_from == d->group) {
				out_add(&o, "its %s list", action);
			} else {
				out_add(&o, "the %s list of ", action);
				out_group(&o, &groups[d->inherited_from]);
			}
		}
	}

	switch (d->rule) {
	case CAFS_RULE_ALLOWED:
		out_add(&o, "; verdict: ALLOWED");
		break;
	case CAFS_RULE_PACKAGE_PUBLISH_BLOCK:
		out_add(&o, "; verdict: BLOCKED (the package's own publish=BLOCK)");
		break;
	case CAFS_RULE_PACKAGE_UPSTREAM_BLOCK:
		out_add(&o, "; verdict: BLOCKED (the package's own upstream=BLOCK)");
		break;
	case CAFS_RULE_WEAK_MATCH:
		out_add(&o, "; verdict: BLOCKED (a weak match blocks every new version)");
		break;
	case CAFS_RULE_GROUP_BLOCK:
		out_add(&o, "; verdict: BLOCKED (the effective %s mode is BLOCK)", action);
		break;
	case CAFS_RULE_NOT_ON_LIST:
		out_add(&o, "; verdict: BLOCKED ('%s' is not on the allowed %s list)", repo,
			action);
		break;
	case CAFS_RULE_NO_GROUP:
		out_add(&o, "; verdict: BLOCKED (no package group matches)");
		break;
	}
	return o.len;
}
