/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "policy": the resource-policy document parser (store_perm_parse(), spec §8.1)
 * and the evaluation of what it parsed (policy/perm.c). A document that parses must have a
 * statement and evaluate, for two callers, three actions and three resources, to one of the
 * three verdicts; a document that does not parse must say why.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/common.h"
#include "policy/perm.h"
#include "store/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = {"codeartifact:ReadFromRepository",
					      "codeartifact:PublishPackageVersion",
					      "codeartifact:PutRepositoryPermissionsPolicy"};
	static const char *const resources[] = {
		"arn:aws:codeartifact:local:000000001000:repository/d/r",
		"arn:aws:codeartifact:local:000000001000:package/d/r/pypi//x", "*"};
	struct cafs_perm_policy p = {0};
	struct cafs_caller callers[2] = {{.uid = 1000,
					  .user = "alice",
					  .n_groups = 1,
					  .gids = {100},
					  .groups = {"builders"}},
					 {.uid = 4242}};
	const struct cafs_perm_policy *set[1] = {&p};
	struct cafs_error e;
	char *doc = malloc(size + 1);

	if (!doc)
		return 0;
	memcpy(doc, data, size);
	doc[size] = '\0';
	if (store_perm_parse(doc, size, &p, &e) == 0) {
		FUZZ_CHECK(p.n >= 1);
		for (size_t c = 0; c < ARRAY_SIZE(callers); c++)
			for (size_t a = 0; a < ARRAY_SIZE(actions); a++)
				for (size_t r = 0; r < ARRAY_SIZE(resources); r++) {
					char why[256];
					enum cafs_perm_verdict v =
						cafs_perm_evaluate(set, 1, &callers[c], actions[a],
								   resources[r], why, sizeof(why));

					FUZZ_CHECK(v == CAFS_PERM_ALLOWED ||
						   v == CAFS_PERM_DENIED ||
						   v == CAFS_PERM_IMPLICIT_DENY);
				}
		cafs_perm_policy_free(&p);
	} else {
		FUZZ_CHECK(e.msg[0] != '\0');
	}
	free(doc);
	return 0;
}
