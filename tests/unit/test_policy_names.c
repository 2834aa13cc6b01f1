/* SPDX-License-Identifier: MIT */
/*
 * Name rules: every rule of spec §1.1, §1.2 and §1.4, at both edges of every length limit and
 * with each character class, plus the error kind and errno each refusal carries.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/common.h"
#include "policy/names.h"
#include "tests/unit/unit.h"

static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void domain_names(void **state)
{
	struct cafs_error e;
	char buf[128];

	(void)state;
	assert_int_equal(cafs_validate_domain_name("ab", &e), 0);
	assert_int_equal(cafs_validate_domain_name("a1", &e), 0);
	assert_int_equal(cafs_validate_domain_name("my-domain-2", &e), 0);
	assert_int_equal(cafs_validate_domain_name(repeat(buf, 'a', 50), &e), 0);

	assert_int_equal(cafs_validate_domain_name("a", &e), -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(cafs_validate_domain_name("", &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name(NULL, &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name(repeat(buf, 'a', 51), &e), -ENAMETOOLONG);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(cafs_validate_domain_name("1abc", &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name("-abc", &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name("Abc", &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name("abC", &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name("ab-", &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name("my_domain", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'my_domain'"));
	assert_int_equal(cafs_validate_domain_name("a.b", &e), -EINVAL);
	assert_int_equal(cafs_validate_domain_name("a b", &e), -EINVAL);
}

static void repository_names(void **state)
{
	struct cafs_error e;
	char buf[128];

	(void)state;
	assert_int_equal(cafs_validate_repository_name("ab", &e), 0);
	assert_int_equal(cafs_validate_repository_name("A.b_c-d", &e), 0);
	assert_int_equal(cafs_validate_repository_name("9z", &e), 0);
	assert_int_equal(cafs_validate_repository_name("a.", &e), 0);
	assert_int_equal(cafs_validate_repository_name(repeat(buf, 'R', 100), &e), 0);

	assert_int_equal(cafs_validate_repository_name("a", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name("", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name(repeat(buf, 'R', 101), &e), -ENAMETOOLONG);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(cafs_validate_repository_name(".ab", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name("_ab", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name("-ab", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name("a/b", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name("a b", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name("a:b", &e), -EINVAL);
	assert_int_equal(cafs_validate_repository_name("caf\xc3\xa9", &e), -EINVAL);
}

static void descriptions(void **state)
{
	struct cafs_error e;
	char buf[4100];

	(void)state;
	assert_int_equal(cafs_validate_description(NULL, &e), 0);
	assert_int_equal(cafs_validate_description("", &e), 0);
	assert_int_equal(cafs_validate_description(repeat(buf, 'x', 1000), &e), 0);
	assert_int_equal(cafs_validate_description(repeat(buf, 'x', 1001), &e), -EINVAL);
	/* 1000 two-byte characters are 1000 characters, not 2000 */
	for (int i = 0; i < 1000; i++)
		memcpy(buf + 2 * i, "\xc3\xa9", 2);
	buf[2000] = '\0';
	assert_int_equal(cafs_validate_description(buf, &e), 0);
	assert_int_equal(cafs_validate_description("line\nbreak", &e), -EINVAL);
	assert_int_equal(cafs_validate_description("tab\there", &e), -EINVAL);
	assert_int_equal(cafs_validate_description("del\x7f", &e), -EINVAL);
	assert_int_equal(cafs_validate_description("c1 \xc2\x85", &e), -EINVAL);
	assert_int_equal(cafs_validate_description("bad \xff utf8", &e), -EINVAL);
	assert_int_equal(cafs_validate_description("cut \xc3", &e), -EINVAL);
}

static void account_ids_and_tags(void **state)
{
	struct cafs_error e;
	char buf[300];

	(void)state;
	assert_int_equal(cafs_validate_account_id("000000001000", &e), 0);
	assert_int_equal(cafs_validate_account_id("00000000100", &e), -EINVAL);
	assert_int_equal(cafs_validate_account_id("0000000010000", &e), -EINVAL);
	assert_int_equal(cafs_validate_account_id("00000000100a", &e), -EINVAL);
	assert_int_equal(cafs_validate_tag("k", "", &e), 0);
	assert_int_equal(cafs_validate_tag(repeat(buf, 'k', 128), "v", &e), 0);
	assert_int_equal(cafs_validate_tag(repeat(buf, 'k', 129), "v", &e), -EINVAL);
	assert_int_equal(cafs_validate_tag("k", repeat(buf, 'v', 256), &e), 0);
	assert_int_equal(cafs_validate_tag("k", repeat(buf, 'v', 257), &e), -EINVAL);
	assert_int_equal(cafs_validate_tag("", "v", &e), -EINVAL);
}

static void external_connections(void **state)
{
	struct cafs_error e;
	size_t n = 0;

	(void)state;
	assert_int_equal(cafs_external_connection_format("public:pypi", &e), CAFS_FORMAT_PYPI);
	assert_int_equal(cafs_external_connection_format("public:npmjs", &e), CAFS_FORMAT_NPM);
	assert_int_equal(cafs_external_connection_format("public:maven-central", &e),
			 CAFS_FORMAT_MAVEN);
	assert_int_equal(cafs_external_connection_format("public:crates-io", &e),
			 CAFS_FORMAT_CARGO);
	assert_int_equal(cafs_external_connection_format("public:PyPI", &e), CAFS_FORMAT_NONE);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(cafs_external_connection_format("pypi", &e), CAFS_FORMAT_NONE);
	while (cafs_external_connection_name(n))
		n++;
	assert_int_equal(n, 10);
	assert_string_equal(cafs_format_name(cafs_format_parse("generic")), "generic");
	assert_int_equal(cafs_format_parse("PyPI"), CAFS_FORMAT_NONE);
	assert_null(cafs_format_name(CAFS_FORMAT_NONE));
}

static void pypi_file_names(void **state)
{
	(void)state;
	assert_true(cafs_pypi_filename_matches("pip-23.0.1-py3-none-any.whl", "pip", "23.0.1"));
	assert_true(cafs_pypi_filename_matches("Demo_Pkg-1.0-py3-none-any.whl", "demo-pkg", "1.0"));
	assert_true(
		cafs_pypi_filename_matches("demo_pkg-1.0-1-py3-none-any.whl", "Demo.Pkg", "1.0"));
	assert_true(cafs_pypi_filename_matches("demo-pkg-1.0.tar.gz", "demo_pkg", "1.0"));
	assert_true(cafs_pypi_filename_matches("demo-1.0rc1.zip", "demo", "1.0rc1"));
	assert_false(cafs_pypi_filename_matches("other-9.9-py3-none-any.whl", "demo", "1.0"));
	assert_false(cafs_pypi_filename_matches("demo-1.1-py3-none-any.whl", "demo", "1.0"));
	assert_false(cafs_pypi_filename_matches("demo.whl", "demo", "1.0"));
	assert_false(cafs_pypi_filename_matches("demo-1.0.tar.bz2", "demo", "1.0"));
	assert_false(cafs_pypi_filename_matches("demo-1.0.tar.gz", "demo", "1.0.0"));
}

static void coord_parts(void **state)
{
	static const char *const good[] = {"1.0", "a", "...", ".x", "x..", "2.0-rc1+build"};
	static const char *const bad[] = {"", ".", "..", "a/b", "a#b", "a b", "a\tb"};
	char long_part[300];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(cafs_validate_coord_part(good[i], "version", NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_true(cafs_validate_coord_part(bad[i], "version", NULL) < 0);
	memset(long_part, 'v', sizeof(long_part) - 1);
	long_part[sizeof(long_part) - 1] = '\0';
	assert_true(cafs_validate_coord_part(long_part, "version", NULL) < 0);
}

static void error_table(void **state)
{
	struct cafs_error e;

	(void)state;
	assert_int_equal(cafs_error_set(&e, CAFS_NOT_FOUND, 0, "x"), -ENOENT);
	assert_int_equal(cafs_error_set(&e, CAFS_CONFLICT, 0, "x"), -EEXIST);
	assert_int_equal(cafs_error_set(&e, CAFS_CONFLICT, EBUSY, "x"), -EBUSY);
	assert_int_equal(cafs_error_set(&e, CAFS_VALIDATION, ELOOP, "x"), -ELOOP);
	assert_int_equal(cafs_error_set(&e, CAFS_ACCESS_DENIED, 0, "x"), -EACCES);
	assert_int_equal(cafs_error_set(&e, CAFS_QUOTA_EXCEEDED, 0, "x"), -EDQUOT);
	assert_int_equal(cafs_error_set(NULL, CAFS_IO, ENOSPC, "x"), -ENOSPC);
	assert_string_equal(cafs_kind_exception(CAFS_QUOTA_EXCEEDED),
			    "ServiceQuotaExceededException");
	assert_string_equal(cafs_kind_exception(CAFS_NOT_FOUND), "ResourceNotFoundException");
	cafs_error_set(&e, CAFS_VALIDATION, 0, "%s %d", "n", 7);
	assert_string_equal(e.msg, "n 7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(domain_names),         cmocka_unit_test(repository_names),
		cmocka_unit_test(descriptions),         cmocka_unit_test(account_ids_and_tags),
		cmocka_unit_test(external_connections), cmocka_unit_test(error_table),
		cmocka_unit_test(pypi_file_names),      cmocka_unit_test(coord_parts),
	};

	return cmocka_run_group_tests_name("policy_names", tests, NULL, NULL);
}
