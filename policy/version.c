/* SPDX-License-Identifier: MIT */
/*
 * SemVer 2.0 parsing and precedence (semver.org §9-§11): MAJOR.MINOR.PATCH, an optional
 * pre-release of dot-separated identifiers (numeric ones compare as numbers and below
 * alphanumeric ones; a version with a pre-release is below the same version without), and
 * build metadata after '+' that does not count. npm's "latest" tag follows this order.
 */
#include "policy/version.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct semver {
	uint64_t core[3];
	const char *pre; /* points into the string; NULL when none */
	size_t pre_len;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* A numeric part without leading zeros; advances *p. */
static bool parse_num(const char **p, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!is_digit(*s) || (s[0] == '0' && is_digit(s[1])))
		return false;
	while (is_digit(*s)) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	*p = s;
	*ret = v;
	return true;
}

/* Dot-separated non-empty identifiers up to '+' or the end; numeric ones without leading
 * zeros when @strict_numbers. */
static bool parse_idents(const char **p, bool strict_numbers)
{
	const char *s = *p;

	for (;;) {
		const char *start = s;
		bool numeric = true;

		while (ident_char(*s)) {
			numeric = numeric && is_digit(*s);
			s++;
		}
		if (s == start)
			return false;
		if (strict_numbers && numeric && start[0] == '0' && s - start > 1)
			return false;
		if (*s != '.')
			break;
		s++;
	}
	*p = s;
	return true;
}

static bool parse(const char *v, struct semver *ret)
{
	const char *p = v;

	if (!v)
		return false;
	if (*p == 'v' || *p == '=')
		p++; /* npm accepts a leading v or = */
	for (int i = 0; i < 3; i++) {
		if (!parse_num(&p, &ret->core[i]))
			return false;
		if (i < 2 && *p++ != '.')
			return false;
	}
	ret->pre = NULL;
	ret->pre_len = 0;
	if (*p == '-') {
		const char *start = ++p;

		if (!parse_idents(&p, true))
			return false;
		ret->pre = start;
		ret->pre_len = (size_t)(p - start);
	}
	if (*p == '+') {
		p++;
		if (!parse_idents(&p, false))
			return false;
	}
	return *p == '\0';
}

bool cafs_semver_valid(const char *v)
{
	struct semver s;

	return parse(v, &s);
}

bool cafs_semver_prerelease(const char *v)
{
	struct semver s;

	return parse(v, &s) && s.pre;
}

/* Compare one pre-release identifier of length @an with one of length @bn. */
static int cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
	bool anum = true, bnum = true;

	for (size_t i = 0; i < an; i++)
		anum = anum && is_digit(a[i]);
	for (size_t i = 0; i < bn; i++)
		bnum = bnum && is_digit(b[i]);
	if (anum && bnum) {
		if (an != bn)
			return an < bn ? -1 : 1; /* no leading zeros: longer is larger */
		return memcmp(a, b, an);
	}
	if (anum != bnum)
		return anum ? -1 : 1;
	{
		int c = memcmp(a, b, an < bn ? an : bn);

		if (c)
			return c;
		return an == bn ? 0 : (an < bn ? -1 : 1);
	}
}

int cafs_semver_cmp(const char *a, const char *b)
{
	struct semver x, y;
	bool vx = parse(a, &x), vy = parse(b, &y);
	const char *p, *q, *pe, *qe;

	if (!vx || !vy) {
		if (vx != vy)
			return vx ? 1 : -1;
		return strcmp(a ? a : "", b ? b : "");
	}
	for (int i = 0; i < 3; i++)
		if (x.core[i] != y.core[i])
			return x.core[i] < y.core[i] ? -1 : 1;
	if (!x.pre || !y.pre)
		return x.pre ? -1 : (y.pre ? 1 : 0);
	p = x.pre;
	pe = x.pre + x.pre_len;
	q = y.pre;
	qe = y.pre + y.pre_len;
	while (p < pe && q < qe) {
		const char *pd = memchr(p, '.', (size_t)(pe - p));
		const char *qd = memchr(q, '.', (size_t)(qe - q));
		size_t pn = (size_t)((pd ? pd : pe) - p), qn = (size_t)((qd ? qd : qe) - q);
		int c = cmp_ident(p, pn, q, qn);

		if (c)
			return c < 0 ? -1 : 1;
		p += pn + (pd ? 1 : 0);
		q += qn + (qd ? 1 : 0);
		if (!pd || !qd) {
			if (pd || qd)
				return pd ? 1 : -1; /* more identifiers is larger */
			return 0;
		}
	}
	return 0;
}
