/* SPDX-License-Identifier: MIT */
/*
 * Repositories in a real domain database: creation, the ordered upstream list and its limits,
 * cycle refusal, the upstream/external-connection exclusivity, deletion rules, listing, source
 * configuration, and the audit row every change and every refusal leaves.
 */
#include <errno.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/store.h"
#include "tests/unit/unit.h"

struct fixture {
	char root[64];
	struct store *s;
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cafs_error e;

	(void)snprintf(f->root, sizeof(f->root), "/tmp/cafs-test-repo-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(store_domain_create(f->root, "acme", NULL, NULL, 0, &f->s, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	(void)nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void mk(struct store *s, const char *name, const char *const *ups, size_t n)
{
	struct store_repository r;
	struct cafs_error e;
	int rc = store_repository_create(s, name, NULL, ups, n, NULL, 0, &r, &e);

	if (rc != 0)
		fail_msg("create %s: %s", name, e.msg);
}

static int audit_count(struct store *s, const char *action, const char *outcome)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_prepare_v2(s->db,
					    "SELECT count(*) FROM audit WHERE action = ? AND "
					    "outcome = ?",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void create_and_describe(void **state)
{
	struct fixture *f = *state;
	struct store_repository r;
	struct cafs_error e;

	assert_int_equal(
		store_repository_create(f->s, "team", "our packages", NULL, 0, NULL, 0, &r, &e), 0);
	assert_string_equal(r.name, "team");
	assert_string_equal(r.description, "our packages");
	assert_int_equal(r.n_upstreams, 0);
	assert_string_equal(r.external_connection, "");
	assert_int_equal(strlen(r.administrator_account), 12);
	assert_int_equal(store_repository_create(f->s, "team", NULL, NULL, 0, NULL, 0, &r, &e),
			 -EEXIST);
	assert_int_equal(e.kind, CAFS_CONFLICT);
	assert_int_equal(store_repository_create(f->s, "x", NULL, NULL, 0, NULL, 0, &r, &e),
			 -EINVAL);
	assert_int_equal(store_repository_create(f->s, "ok", "bad\ndesc", NULL, 0, NULL, 0, &r, &e),
			 -EINVAL);
	assert_int_equal(store_repository_describe(f->s, "nope", &r, &e), -ENOENT);
	assert_int_equal(e.kind, CAFS_NOT_FOUND);
	assert_int_equal(audit_count(f->s, "CreateRepository", "ok"), 1);
	assert_int_equal(audit_count(f->s, "CreateRepository", "ConflictException"), 1);
	assert_int_equal(audit_count(f->s, "CreateRepository", "ValidationException"), 2);
}

static void upstream_order_and_limits(void **state)
{
	struct fixture *f = *state;
	const char *names[11] = {"u00", "u01", "u02", "u03", "u04", "u05",
				 "u06", "u07", "u08", "u09", "u10"};
	const char *rev[3] = {"u02", "u00", "u01"};
	struct store_repository r;
	struct cafs_error e;

	for (size_t i = 0; i < 11; i++)
		mk(f->s, names[i], NULL, 0);
	/* exactly 10 is allowed, in the order given */
	assert_int_equal(store_repository_create(f->s, "ten", NULL, names, 10, NULL, 0, &r, &e), 0);
	assert_int_equal(r.n_upstreams, 10);
	for (size_t i = 0; i < 10; i++)
		assert_string_equal(r.upstreams[i], names[i]);
	/* 11 is a quota refusal, and nothing is created */
	assert_int_equal(store_repository_create(f->s, "eleven", NULL, names, 11, NULL, 0, &r, &e),
			 -EDQUOT);
	assert_int_equal(e.kind, CAFS_QUOTA_EXCEEDED);
	assert_int_equal(store_repository_describe(f->s, "eleven", &r, &e), -ENOENT);
	/* update replaces the whole list and keeps the new order */
	assert_int_equal(store_repository_update(f->s, "ten", NULL, true, rev, 3, &r, &e), 0);
	assert_int_equal(r.n_upstreams, 3);
	assert_string_equal(r.upstreams[0], "u02");
	assert_string_equal(r.upstreams[1], "u00");
	assert_string_equal(r.upstreams[2], "u01");
	assert_int_equal(store_repository_describe(f->s, "ten", &r, &e), 0);
	assert_string_equal(r.upstreams[0], "u02");
	/* a refused update leaves the list as it was */
	assert_int_equal(store_repository_update(f->s, "ten", NULL, true, names, 11, &r, &e),
			 -EDQUOT);
	assert_int_equal(store_repository_describe(f->s, "ten", &r, &e), 0);
	assert_int_equal(r.n_upstreams, 3);
	/* description only: upstreams untouched */
	assert_int_equal(store_repository_update(f->s, "ten", "d", false, NULL, 0, &r, &e), 0);
	assert_int_equal(r.n_upstreams, 3);
	assert_string_equal(r.description, "d");
	/* empty list removes all */
	assert_int_equal(store_repository_update(f->s, "ten", NULL, true, NULL, 0, &r, &e), 0);
	assert_int_equal(r.n_upstreams, 0);
	assert_string_equal(r.description, "d");
	/* unknown and repeated upstreams */
	{
		const char *missing[] = {"u00", "ghost"};
		const char *twice[] = {"u00", "u00"};

		assert_int_equal(
			store_repository_update(f->s, "ten", NULL, true, missing, 2, &r, &e),
			-ENOENT);
		assert_non_null(strstr(e.msg, "'ghost'"));
		assert_int_equal(store_repository_update(f->s, "ten", NULL, true, twice, 2, &r, &e),
				 -EINVAL);
	}
}

static void cycles_are_refused(void **state)
{
	struct fixture *f = *state;
	const char *to_a[] = {"a1"}, *to_b[] = {"b1"}, *to_c[] = {"c1"}, *self[] = {"a1"};
	struct store_repository r;
	struct cafs_error e;

	mk(f->s, "c1", NULL, 0);
	mk(f->s, "b1", to_c, 1);
	mk(f->s, "a1", to_b, 1);
	/* a1 -> b1 -> c1; c1 -> a1 closes a cycle of three */
	assert_int_equal(store_repository_update(f->s, "c1", NULL, true, to_a, 1, &r, &e), -ELOOP);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	/* b1 -> a1 closes a cycle of two */
	assert_int_equal(store_repository_update(f->s, "c1", NULL, true, NULL, 0, &r, &e), 0);
	assert_int_equal(store_repository_update(f->s, "b1", NULL, true, to_a, 1, &r, &e), -ELOOP);
	/* self */
	assert_int_equal(store_repository_update(f->s, "a1", NULL, true, self, 1, &r, &e), -ELOOP);
	/* nothing changed by the refusals */
	assert_int_equal(store_repository_describe(f->s, "b1", &r, &e), 0);
	assert_int_equal(r.n_upstreams, 1);
	assert_string_equal(r.upstreams[0], "c1");
	assert_int_equal(store_repository_describe(f->s, "a1", &r, &e), 0);
	assert_int_equal(r.n_upstreams, 1);
}

static void cycle_refusal_keeps_state(void **state)
{
	struct fixture *f = *state;
	const char *to_b[] = {"b2"}, *to_a[] = {"a2"};
	struct store_repository r;
	struct cafs_error e;

	mk(f->s, "b2", NULL, 0);
	mk(f->s, "a2", to_b, 1);
	assert_int_equal(store_repository_update(f->s, "b2", NULL, true, to_a, 1, &r, &e), -ELOOP);
	assert_int_equal(store_repository_describe(f->s, "b2", &r, &e), 0);
	assert_int_equal(r.n_upstreams, 0);
	assert_int_equal(store_repository_describe(f->s, "a2", &r, &e), 0);
	assert_int_equal(r.n_upstreams, 1);
	assert_string_equal(r.upstreams[0], "b2");
	/* a diamond is not a cycle: d -> (e, f), e -> f */
	{
		const char *ef[] = {"e2", "f2"}, *f2[] = {"f2"};

		mk(f->s, "f2", NULL, 0);
		mk(f->s, "e2", f2, 1);
		assert_int_equal(store_repository_create(f->s, "d2", NULL, ef, 2, NULL, 0, &r, &e),
				 0);
	}
	assert_true(audit_count(f->s, "UpdateRepository", "ValidationException") >= 1);
}

static void upstreams_or_external_never_both(void **state)
{
	struct fixture *f = *state;
	const char *up[] = {"store-repo"};
	struct store_repository r;
	struct cafs_error e;

	mk(f->s, "store-repo", NULL, 0);
	mk(f->s, "team", up, 1);
	assert_int_equal(
		store_repository_associate_external(f->s, "store-repo", "public:pypi", &r, &e), 0);
	assert_string_equal(r.external_connection, "public:pypi");
	assert_int_equal(r.external_format, CAFS_FORMAT_PYPI);
	/* a second connection */
	assert_int_equal(
		store_repository_associate_external(f->s, "store-repo", "public:npmjs", &r, &e),
		-EEXIST);
	assert_int_equal(e.kind, CAFS_CONFLICT);
	/* a connection on a repository with upstreams */
	assert_int_equal(store_repository_associate_external(f->s, "team", "public:npmjs", &r, &e),
			 -EEXIST);
	/* upstreams on a repository with a connection */
	{
		const char *other[] = {"team"};

		mk(f->s, "other", NULL, 0);
		assert_int_equal(
			store_repository_update(f->s, "store-repo", NULL, true, other, 1, &r, &e),
			-EEXIST);
		assert_int_equal(e.kind, CAFS_CONFLICT);
	}
	/* unknown connection names */
	assert_int_equal(store_repository_associate_external(f->s, "other", "public:cpan", &r, &e),
			 -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	/* disassociate: wrong name, then right name, then upstreams are allowed */
	assert_int_equal(
		store_repository_disassociate_external(f->s, "store-repo", "public:npmjs", &r, &e),
		-ENOENT);
	assert_int_equal(
		store_repository_disassociate_external(f->s, "store-repo", "public:pypi", &r, &e),
		0);
	assert_string_equal(r.external_connection, "");
	assert_int_equal(audit_count(f->s, "AssociateExternalConnection", "ok"), 1);
	assert_int_equal(audit_count(f->s, "AssociateExternalConnection", "ConflictException"), 2);
}

static void delete_rules(void **state)
{
	struct fixture *f = *state;
	const char *up[] = {"base"};
	struct store_repository r, *list = NULL;
	struct store_domain d;
	struct cafs_error e;
	size_t n = 0;

	mk(f->s, "base", NULL, 0);
	mk(f->s, "app", up, 1);
	assert_int_equal(store_repository_delete(f->s, "base", &r, &e), -EBUSY);
	assert_int_equal(e.kind, CAFS_CONFLICT);
	assert_non_null(strstr(e.msg, "'app'"));
	assert_int_equal(store_repository_delete(f->s, "app", &r, &e), 0);
	assert_string_equal(r.name, "app");
	assert_int_equal(r.n_upstreams, 1);
	assert_int_equal(store_repository_delete(f->s, "base", &r, &e), 0);
	assert_int_equal(store_repository_delete(f->s, "base", &r, &e), -ENOENT);
	assert_int_equal(store_repository_list(f->s, NULL, NULL, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	free(list);
	/* the domain can go once it is empty, not before */
	mk(f->s, "last", NULL, 0);
	assert_int_equal(store_domain_delete(f->root, "acme", &d, &e), -ENOTEMPTY);
	assert_int_equal(e.kind, CAFS_CONFLICT);
	assert_int_equal(store_repository_delete(f->s, "last", &r, &e), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_domain_delete(f->root, "acme", &d, &e), 0);
	assert_string_equal(d.status, "Deleted");
	assert_int_equal(store_open(f->root, "acme", &f->s, &e), -ENOENT);
	f->s = NULL;
}

static void listing(void **state)
{
	struct fixture *f = *state;
	struct store_repository *list = NULL;
	struct store_domain *doms = NULL;
	struct cafs_error e;
	size_t n = 0;

	mk(f->s, "pypi-store", NULL, 0);
	mk(f->s, "npm-store", NULL, 0);
	mk(f->s, "pypi-team", NULL, 0);
	assert_int_equal(store_repository_list(f->s, "pypi", NULL, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "pypi-store");
	assert_string_equal(list[1].name, "pypi-team");
	free(list);
	assert_int_equal(store_repository_list(f->s, NULL, "999999999999", &list, &n, &e), 0);
	assert_int_equal(n, 0);
	free(list);
	assert_int_equal(store_domain_list(f->root, &doms, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, "acme");
	assert_int_equal(doms[0].repository_count, 3);
	free(doms);
}

static void sources(void **state)
{
	struct fixture *f = *state;
	struct store_source src;
	struct cafs_error e;

	assert_int_equal(store_source_get(f->s, "public:pypi", &src, &e), 0);
	assert_string_equal(src.url, "");
	assert_int_equal(store_source_configure(f->s, "public:pypi", "file:///srv/mirror/simple",
						NULL, &src, &e),
			 0);
	assert_string_equal(src.url, "file:///srv/mirror/simple");
	assert_int_equal(src.format, CAFS_FORMAT_PYPI);
	assert_int_equal(store_source_configure(f->s, "public:pypi", "ftp://x", NULL, &src, &e),
			 -EINVAL);
	assert_int_equal(
		store_source_configure(f->s, "public:pypi", "file://relative", NULL, &src, &e),
		-EINVAL);
	assert_int_equal(store_source_configure(f->s, "public:nope", "https://x", NULL, &src, &e),
			 -EINVAL);
	assert_int_equal(store_source_get(f->s, "public:pypi", &src, &e), 0);
	assert_string_equal(src.url, "file:///srv/mirror/simple");
	assert_int_equal(store_source_configure(f->s, "public:pypi", "", NULL, &src, &e), 0);
	assert_string_equal(src.url, "");
}

static void search_order(void **state)
{
	struct fixture *f = *state;
	const char *ab[] = {"ra", "rb"}, *cd[] = {"rc", "rd"}, *e_[] = {"re"}, *ca[] = {"rc"};
	struct store_search_node order[CAFS_MAX_SEARCHED_REPOS];
	const char *want[] = {"my-repo", "ra", "rc", "rd", "re", "rb"};
	struct cafs_error e;
	size_t n = 0;
	int64_t id;

	/* the reference's example: my-repo -> [A, B], A -> [C, D], D -> [E] */
	mk(f->s, "re", NULL, 0);
	mk(f->s, "rd", e_, 1);
	mk(f->s, "rc", NULL, 0);
	mk(f->s, "ra", cd, 2);
	mk(f->s, "rb", ca, 1); /* B also reaches C: searched once, where A's walk found it */
	mk(f->s, "my-repo", ab, 2);
	assert_int_equal(store_repo_id(f->s, "my-repo", &id, &e), 0);
	assert_int_equal(store_search_order(f->s, id, order, &n, &e), 0);
	assert_int_equal(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(order[i].name, want[i]);
}

static void search_order_caps_at_25(void **state)
{
	struct fixture *f = *state;
	struct store_search_node order[CAFS_MAX_SEARCHED_REPOS];
	struct cafs_error e;
	char name[16], prev[16];
	size_t n = 0;
	int64_t id;

	/* a chain of 30: r29 -> r28 -> ... -> r0 */
	for (int i = 0; i < 30; i++) {
		const char *up[] = {prev};

		(void)snprintf(name, sizeof(name), "r%d", i);
		mk(f->s, name, up, i ? 1 : 0);
		(void)snprintf(prev, sizeof(prev), "%s", name);
	}
	assert_int_equal(store_repo_id(f->s, "r29", &id, &e), 0);
	assert_int_equal(store_search_order(f->s, id, order, &n, &e), 0);
	assert_int_equal(n, 25);
	assert_string_equal(order[0].name, "r29");
	assert_string_equal(order[24].name, "r5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_and_describe, setup, teardown),
		cmocka_unit_test_setup_teardown(upstream_order_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(cycles_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(cycle_refusal_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(upstreams_or_external_never_both, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(listing, setup, teardown),
		cmocka_unit_test_setup_teardown(sources, setup, teardown),
		cmocka_unit_test_setup_teardown(search_order, setup, teardown),
		cmocka_unit_test_setup_teardown(search_order_caps_at_25, setup, teardown),
	};

	return cmocka_run_group_tests_name("store_repository", tests, NULL, NULL);
}
