/* SPDX-License-Identifier: MIT */
/*
 * SemVer precedence: the ordered chain of semver.org §11, validity edges, build metadata that
 * does not count, and the total order every pair of a sample keeps (antisymmetry and
 * transitivity checked against the chain's indexes).
 */
#include <stddef.h>
#include <string.h>

#include "policy/common.h"
#include "policy/version.h"
#include "tests/unit/unit.h"

static const char *const chain[] = {
	"not-semver", "0.0.1",        "0.9.9",         "1.0.0-0",       "1.0.0-1",
	"1.0.0-2",    "1.0.0-10",     "1.0.0-alpha",   "1.0.0-alpha.1", "1.0.0-alpha.beta",
	"1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",    "1.0.0",
	"1.0.1",      "1.2.0",        "1.10.0",        "2.0.0",         "10.0.0",
};

static void precedence_chain(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(chain); i++)
		for (size_t j = 0; j < ARRAY_SIZE(chain); j++) {
			int c = cafs_semver_cmp(chain[i], chain[j]);
			int want = i < j ? -1 : (i > j ? 1 : 0);

			if ((c < 0 ? -1 : (c > 0 ? 1 : 0)) != want)
				fail_msg("cmp(%s, %s) = %d, want %d", chain[i], chain[j], c, want);
		}
}

static void build_metadata_ignored(void **state)
{
	(void)state;
	assert_int_equal(cafs_semver_cmp("1.0.0+build.1", "1.0.0+build.2"), 0);
	assert_int_equal(cafs_semver_cmp("1.0.0-rc.1+x", "1.0.0-rc.1"), 0);
	assert_true(cafs_semver_cmp("1.0.0+zzz", "1.0.1") < 0);
	assert_int_equal(cafs_semver_cmp("v1.2.3", "1.2.3"), 0);
}

static void validity(void **state)
{
	static const char *const good[] = {"0.0.0",     "1.2.3",         "1.2.3-rc.1",
					   "1.2.3+b.5", "1.2.3-0.a-b.c", "v1.0.0"};
	static const char *const bad[] = {"",       "1",      "1.2",      "1.2.3.4", "01.2.3",
					  "1.02.3", "1.2.3-", "1.2.3-01", "1.2.3+",  "1.2.3-a..b",
					  "a.b.c",  "1.2.3 ", "1.2.3-é"};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!cafs_semver_valid(good[i]))
			fail_msg("'%s' should be valid", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (cafs_semver_valid(bad[i]))
			fail_msg("'%s' should be invalid", bad[i]);
	assert_false(cafs_semver_valid(NULL));
	assert_true(cafs_semver_prerelease("1.0.0-rc.1"));
	assert_false(cafs_semver_prerelease("1.0.0+rc.1"));
	assert_false(cafs_semver_prerelease("1.0.0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(precedence_chain),
		cmocka_unit_test(build_metadata_ignored),
		cmocka_unit_test(validity),
	};

	return cmocka_run_group_tests_name("policy_version", tests, NULL, NULL);
}
