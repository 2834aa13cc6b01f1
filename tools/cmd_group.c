/* SPDX-License-Identifier: MIT */
/*
 * Package group commands (spec §7; option spellings as in `aws codeartifact`) and
 * `cafs explain`, which shows the origin decision of spec §7.7 with its reason chain.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/common.h"
#include "policy/group.h"
#include "store/group.h"
#include "store/store.h"
#include "tools/cmd.h"

static json_t *ref_json(const char *arn, const char *pattern)
{
	return json_pack("{s:s,s:s}", "arn", arn, "pattern", pattern);
}

static json_t *group_json(const struct store_group *g)
{
	json_t *restrictions = json_object();
	json_t *o;

	for (int a = 0; a < CAFS_ACTION_N; a++) {
		const struct store_group_restriction *r = &g->r[a];
		json_t *x = json_pack("{s:s,s:s,s:I}", "mode", cafs_group_mode_name(r->mode),
				      "effectiveMode", cafs_group_mode_name(r->effective),
				      "repositoriesCount", (json_int_t)r->repositories_count);

		if (r->inherited_from[0])
			json_object_set_new(x, "inheritedFrom",
					    ref_json(r->inherited_from_arn, r->inherited_from));
		json_object_set_new(restrictions, cafs_origin_action_name(a), x);
	}
	o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:{s:o}}", "arn", g->arn, "pattern", g->pattern,
		      "domainName", g->domain, "domainOwner", g->owner, "createdTime",
		      cli_time(g->created_us), "contactInfo", g->contact_info, "description",
		      g->description, "originConfiguration", "restrictions", restrictions);
	if (g->parent[0])
		json_object_set_new(o, "parent", ref_json(g->parent_arn, g->parent));
	return o;
}

static int print_group(struct cli *c, const struct store_group *g)
{
	return cli_print(c, json_pack("{s:o}", "packageGroup", group_json(g)));
}

int cmd_create_package_group(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_group g;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_group_create(s, cli_str(c, "--package-group"), cli_str(c, "--description"),
			       cli_str(c, "--contact-info"), &g, &e) < 0)
		return cli_fail(&e);
	return print_group(c, &g);
}

int cmd_describe_package_group(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_group g;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_group_describe(s, cli_str(c, "--package-group"), &g, &e) < 0)
		return cli_fail(&e);
	return print_group(c, &g);
}

int cmd_update_package_group(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_group g;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_group_update(s, cli_str(c, "--package-group"), cli_str(c, "--description"),
			       cli_str(c, "--contact-info"), &g, &e) < 0)
		return cli_fail(&e);
	return print_group(c, &g);
}

int cmd_delete_package_group(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_group g;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_group_delete(s, cli_str(c, "--package-group"), &g, &e) < 0)
		return cli_fail(&e);
	return print_group(c, &g);
}

/* "originRestrictionType=T,repositoryName=R" items of @opt into *@ret (owned array). */
static int parse_changes(struct cli *c, const char *opt, json_t **ret_arr,
			 struct store_group_allowed_change **ret, size_t *ret_n)
{
	static const char *const keys[] = {"originRestrictionType", "repositoryName", NULL};
	struct store_group_allowed_change *out;
	json_t *arr;
	int ex = 0;

	*ret = NULL;
	*ret_n = 0;
	*ret_arr = NULL;
	if (!cli_given(c, opt))
		return 0;
	arr = cli_parse_structs(c, opt, keys, &ex);
	if (!arr)
		return ex;
	out = calloc(json_array_size(arr) + 1, sizeof(*out));
	if (!out) {
		json_decref(arr);
		return cli_usage(c, "out of memory");
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i);
		const char *t = json_string_value(json_object_get(o, "originRestrictionType"));
		const char *r = json_string_value(json_object_get(o, "repositoryName"));
		int type = t ? cafs_origin_action_parse(t) : -1;

		if (type < 0 || !r) {
			free(out);
			json_decref(arr);
			return cli_usage(c,
					 "%s takes originRestrictionType=PUBLISH|EXTERNAL_UPSTREAM|"
					 "INTERNAL_UPSTREAM,repositoryName=NAME items",
					 opt);
		}
		out[i].type = (enum cafs_origin_action)type;
		out[i].repository = r;
	}
	*ret = out;
	*ret_n = json_array_size(arr);
	*ret_arr = arr;
	return 0;
}

/* --restrictions PUBLISH=BLOCK,EXTERNAL_UPSTREAM=ALLOW,...: @modes[type], -1 = not given. */
static int parse_restrictions(struct cli *c, int modes[CAFS_ACTION_N])
{
	static const char *const keys[] = {"PUBLISH", "EXTERNAL_UPSTREAM", "INTERNAL_UPSTREAM",
					   NULL};
	json_t *arr;
	int ex = 0;

	for (int a = 0; a < CAFS_ACTION_N; a++)
		modes[a] = -1;
	if (!cli_given(c, "--restrictions"))
		return 0;
	arr = cli_parse_structs(c, "--restrictions", keys, &ex);
	if (!arr)
		return ex;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		for (int a = 0; a < CAFS_ACTION_N; a++) {
			const char *v = json_string_value(json_object_get(
				json_array_get(arr, i), cafs_origin_action_name(a)));

			if (!v)
				continue;
			modes[a] = cafs_group_mode_parse(v);
			if (modes[a] < 0) {
				json_decref(arr);
				return cli_usage(c,
						 "--restrictions: %s must be ALLOW, BLOCK, "
						 "ALLOW_SPECIFIC_REPOSITORIES or INHERIT, not '%s'",
						 cafs_origin_action_name(a), v);
			}
		}
	}
	json_decref(arr);
	return 0;
}

static json_t *updates_json(const struct store_group_allowed_updates *u)
{
	json_t *o = json_object();

	for (int a = 0; a < CAFS_ACTION_N; a++) {
		json_t *x = json_object(), *added = json_array(), *removed = json_array();

		for (size_t k = 0; k < u->n_added[a]; k++)
			json_array_append_new(added, json_string(u->added[a][k]));
		for (size_t k = 0; k < u->n_removed[a]; k++)
			json_array_append_new(removed, json_string(u->removed[a][k]));
		if (json_array_size(added))
			json_object_set(x, "ADDED", added);
		if (json_array_size(removed))
			json_object_set(x, "REMOVED", removed);
		json_decref(added);
		json_decref(removed);
		if (json_object_size(x))
			json_object_set(o, cafs_origin_action_name(a), x);
		json_decref(x);
	}
	return o;
}

int cmd_update_package_group_origin_configuration(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_group_allowed_change *add = NULL, *rm = NULL;
	struct store_group_allowed_updates u = {0};
	json_t *add_arr = NULL, *rm_arr = NULL;
	int modes[CAFS_ACTION_N];
	size_t n_add = 0, n_rm = 0;
	struct store_group g;
	struct cafs_error e;
	json_t *out;
	int r;

	r = parse_restrictions(c, modes);
	if (r == 0)
		r = parse_changes(c, "--add-allowed-repositories", &add_arr, &add, &n_add);
	if (r == 0)
		r = parse_changes(c, "--remove-allowed-repositories", &rm_arr, &rm, &n_rm);
	if (r == 0 && (open_domain(c, &s, &e) < 0 ||
		       store_group_origin_update(s, cli_str(c, "--package-group"), modes, add,
						 n_add, rm, n_rm, &g, &u, &e) < 0))
		r = cli_fail(&e);
	free(add);
	free(rm);
	json_decref(add_arr);
	json_decref(rm_arr);
	if (r)
		return r;
	out = json_pack("{s:o,s:o}", "packageGroup", group_json(&g), "allowedRepositoryUpdates",
			updates_json(&u));
	store_group_allowed_updates_free(&u);
	return cli_print(c, out);
}

/* list-package-groups and list-sub-package-groups */
static int list_groups(struct cli *c, const char *prefix, const char *children_of)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_group *list = NULL;
	struct cafs_error e;
	json_t *items, *pg;
	size_t n = 0;
	int ex = 0;

	if (open_domain(c, &s, &e) < 0 ||
	    store_group_list(s, prefix, children_of, &list, &n, &e) < 0)
		return cli_fail(&e);
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, group_json(&list[i]));
	free(list);
	pg = page(c, items, "pattern", &ex);
	if (!pg)
		return ex;
	json_object_set(pg, "packageGroups", json_object_get(pg, "items"));
	json_object_del(pg, "items");
	return cli_print(c, pg);
}

int cmd_list_package_groups(struct cli *c)
{
	return list_groups(c, cli_str(c, "--prefix"), NULL);
}

int cmd_list_sub_package_groups(struct cli *c)
{
	return list_groups(c, NULL, cli_str(c, "--package-group"));
}

int cmd_list_allowed_repositories_for_group(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	const char *t = cli_str(c, "--origin-restriction-type");
	int type = t ? cafs_origin_action_parse(t) : -1;
	struct cafs_error e;
	char **list = NULL;
	json_t *items, *pg;
	size_t n = 0;
	int ex = 0;

	if (type < 0)
		return cli_usage(c,
				 "--origin-restriction-type must be PUBLISH, EXTERNAL_UPSTREAM or "
				 "INTERNAL_UPSTREAM");
	if (open_domain(c, &s, &e) < 0 ||
	    store_group_allowed(s, cli_str(c, "--package-group"), (enum cafs_origin_action)type,
				&list, &n, &e) < 0)
		return cli_fail(&e);
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(items, json_pack("{s:s}", "name", list[i]));
		free(list[i]);
	}
	free(list);
	pg = page(c, items, "name", &ex);
	if (!pg)
		return ex;
	/* the API answers a list of names */
	items = json_array();
	for (size_t i = 0; i < json_array_size(json_object_get(pg, "items")); i++)
		json_array_append(
			items,
			json_object_get(json_array_get(json_object_get(pg, "items"), i), "name"));
	json_object_set_new(pg, "allowedRepositories", items);
	json_object_del(pg, "items");
	return cli_print(c, pg);
}

static int format_opt(struct cli *c, enum cafs_format *ret)
{
	*ret = cafs_format_parse(cli_str(c, "--format") ? cli_str(c, "--format") : "");
	if (*ret == CAFS_FORMAT_NONE)
		return cli_usage(c,
				 "--format must be one of npm, pypi, maven, nuget, generic, ruby, "
				 "swift, cargo");
	return 0;
}

int cmd_get_associated_package_group(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	enum cafs_format f;
	enum cafs_match m;
	struct store_group g;
	struct cafs_error e;
	int r = format_opt(c, &f);

	if (r)
		return r;
	if (open_domain(c, &s, &e) < 0 ||
	    store_group_associated(s, f, cli_str(c, "--namespace"), cli_str(c, "--package"), &g, &m,
				   &e) < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o,s:s}", "packageGroup", group_json(&g),
				      "associationType", cafs_match_name(m)));
}

int cmd_list_associated_packages(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_group_package *list = NULL;
	struct cafs_error e;
	json_t *items, *pg;
	size_t n = 0;
	int ex = 0;

	if (open_domain(c, &s, &e) < 0 ||
	    store_group_packages(s, cli_str(c, "--package-group"), cli_flag(c, "--preview"), &list,
				 &n, &e) < 0)
		return cli_fail(&e);
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		char key[3 * 260];
		json_t *o = json_pack("{s:s,s:s,s:s}", "format", cafs_format_name(list[i].format),
				      "package", list[i].package, "associationType",
				      cafs_match_name(list[i].match));

		if (list[i].namespace_[0])
			json_object_set_new(o, "namespace", json_string(list[i].namespace_));
		/* the paging key: one entry per coordinate */
		(void)snprintf(key, sizeof(key), "%s/%s/%s", cafs_format_name(list[i].format),
			       list[i].namespace_, list[i].package);
		json_object_set_new(o, "key", json_string(key));
		json_array_append_new(items, o);
	}
	free(list);
	pg = page(c, items, "key", &ex);
	if (!pg)
		return ex;
	for (size_t i = 0; i < json_array_size(json_object_get(pg, "items")); i++)
		json_object_del(json_array_get(json_object_get(pg, "items"), i), "key");
	json_object_set(pg, "packages", json_object_get(pg, "items"));
	json_object_del(pg, "items");
	return cli_print(c, pg);
}

int cmd_explain(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ struct store_origin_verdict *v = malloc(sizeof(*v));
	const char *act = cli_str(c, "--action");
	int action = act ? cafs_origin_action_parse(act) : -1;
	const struct cafs_origin_decision *d = &v->d;
	struct cafs_error e;
	enum cafs_format f;
	json_t *o;
	int r = format_opt(c, &f);

	if (r)
		return r;
	if (!v)
		return cli_usage(c, "out of memory");
	if (action < 0)
		return cli_usage(
			c, "--action must be PUBLISH, EXTERNAL_UPSTREAM or INTERNAL_UPSTREAM");
	if (open_domain(c, &s, &e) < 0 ||
	    store_origin_decide(s, (enum cafs_origin_action)action, cli_str(c, "--repository"), f,
				cli_str(c, "--namespace"), cli_str(c, "--package"), v, &e) < 0)
		return cli_fail(&e);
	o = json_pack("{s:s,s:s,s:s}", "verdict", d->allowed ? "ALLOWED" : "BLOCKED", "action",
		      cafs_origin_action_name(d->action), "explanation", v->explain);
	if (d->package.present)
		json_object_set_new(o, "packageOriginRestrictions",
				    json_pack("{s:s,s:s}", "publish",
					      d->package.publish_allow ? "ALLOW" : "BLOCK",
					      "upstream",
					      d->package.upstream_allow ? "ALLOW" : "BLOCK"));
	if (v->group[0]) {
		json_t *g =
			json_pack("{s:s,s:s,s:s,s:s}", "pattern", v->group, "associationType",
				  cafs_match_name(d->match), "mode", cafs_group_mode_name(d->mode),
				  "effectiveMode", cafs_group_mode_name(d->effective));

		if (v->inherited_from[0] && strcmp(v->inherited_from, v->group) != 0)
			json_object_set_new(g, "inheritedFrom", json_string(v->inherited_from));
		if (d->effective == CAFS_MODE_ALLOW_SPECIFIC_REPOSITORIES)
			json_object_set_new(g, "repositoryAllowed", json_boolean(d->on_list));
		json_object_set_new(o, "packageGroup", g);
	}
	return cli_print(c, o);
}
