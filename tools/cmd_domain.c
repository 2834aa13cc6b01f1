/* SPDX-License-Identifier: MIT */
/*
 * Domain, repository, external connection, tag and audit commands: each opens the domain,
 * calls one store function, and prints the AWS response shape.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/package.h"
#include "store/store.h"
#include "tools/cmd.h"

int open_domain_checked(struct cli *c, int r, struct store **ret, struct cafs_error *e)
{
	const char *owner = cli_str(c, "--domain-owner");
	struct store_domain d;

	/* the invoking user's right to this command (spec §8.4) */
	if (r == 0)
		r = cmd_check_caller(c, *ret, e);
	if (r == 0 && owner) {
		r = cafs_validate_account_id(owner, e);
		if (r == 0)
			r = store_domain_describe(*ret, &d, e);
		if (r == 0 && strcmp(d.owner, owner) != 0)
			r = cafs_error_set(e, CAFS_NOT_FOUND, 0, "no domain '%s' owned by '%s'",
					   d.name, owner);
	}
	if (r < 0 && *ret) {
		store_close(*ret);
		*ret = NULL;
	}
	return r;
}

int open_domain(struct cli *c, struct store **ret, struct cafs_error *e)
{
	return open_domain_checked(c, store_open(c->root, cli_str(c, "--domain"), ret, e), ret, e);
}

static json_t *domain_summary_json(const struct store_domain *d)
{
	char arn[256];
	json_t *o = json_object();

	store_domain_arn(d, arn, sizeof(arn));
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "owner", json_string(d->owner));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "status", json_string(d->status));
	json_object_set_new(o, "createdTime", cli_time(d->created_us));
	if (d->encryption_key[0])
		json_object_set_new(o, "encryptionKey", json_string(d->encryption_key));
	return o;
}

static json_t *domain_json(const struct store_domain *d)
{
	json_t *o = domain_summary_json(d);

	json_object_set_new(o, "repositoryCount", json_integer(d->repository_count));
	json_object_set_new(o, "assetSizeBytes", json_integer(d->asset_size_bytes));
	return o;
}

static json_t *repository_summary_json(const struct store_repository *r, const char *domain,
				       const char *owner)
{
	char arn[512];
	json_t *o = json_object();

	store_repository_arn(owner, domain, r->name, arn, sizeof(arn));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "administratorAccount", json_string(r->administrator_account));
	json_object_set_new(o, "domainName", json_string(domain));
	json_object_set_new(o, "domainOwner", json_string(owner));
	json_object_set_new(o, "arn", json_string(arn));
	if (r->description[0])
		json_object_set_new(o, "description", json_string(r->description));
	json_object_set_new(o, "createdTime", cli_time(r->created_us));
	return o;
}

static json_t *repository_json(const struct store_repository *r, const char *domain,
			       const char *owner)
{
	json_t *o = repository_summary_json(r, domain, owner);
	json_t *ups = json_array();
	json_t *ext = json_array();

	for (size_t i = 0; i < r->n_upstreams; i++)
		json_array_append_new(ups, json_pack("{s:s}", "repositoryName", r->upstreams[i]));
	if (r->external_connection[0])
		json_array_append_new(ext, json_pack("{s:s,s:s,s:s}", "externalConnectionName",
						     r->external_connection, "packageFormat",
						     cafs_format_name(r->external_format), "status",
						     "Available"));
	/* keep createdTime last, as the API model orders the fields */
	json_object_del(o, "createdTime");
	json_object_set_new(o, "upstreams", ups);
	json_object_set_new(o, "externalConnections", ext);
	json_object_set_new(o, "createdTime", cli_time(r->created_us));
	return o;
}

/* The domain's name and owner, for repository responses. */
static int domain_ids(struct store *s, struct store_domain *d, struct cafs_error *e)
{
	return store_domain_describe(s, d, e);
}

static json_t *source_json(const struct store_source *src);

static int print_repository(struct cli *c, struct store *s, const struct store_repository *r)
{
	struct cafs_error e;
	struct store_domain d;
	json_t *o;

	if (domain_ids(s, &d, &e) < 0)
		return cli_fail(&e);
	o = json_pack("{s:o}", "repository", repository_json(r, d.name, d.owner));
	/* where the connection fetches from, or how to say where (cafs' addition, beside the
	 * AWS shape) */
	if (r->external_connection[0]) {
		struct store_source src;

		if (store_source_get(s, r->external_connection, &src, &e) < 0) {
			json_decref(o);
			return cli_fail(&e);
		}
		json_object_set_new(o, "externalConnectionSources",
				    json_pack("[o]", source_json(&src)));
	}
	return cli_print(c, o);
}

/* --tags key=k,value=v ... into an array of store_tag borrowing from @arr. */
static int parse_tags(struct cli *c, json_t **ret_arr, struct store_tag **ret, size_t *ret_n)
{
	static const char *const keys[] = {"key", "value", NULL};
	int ex = 0;
	json_t *arr = cli_parse_structs(c, "--tags", keys, &ex);
	struct store_tag *tags;
	size_t i;
	json_t *it;

	if (!arr)
		return ex;
	tags = calloc(json_array_size(arr) + 1, sizeof(*tags));
	if (!tags) {
		json_decref(arr);
		return 1;
	}
	json_array_foreach(arr, i, it)
	{
		tags[i].key = json_string_value(json_object_get(it, "key"));
		tags[i].value = json_string_value(json_object_get(it, "value"));
		if (!tags[i].key) {
			free(tags);
			json_decref(arr);
			return cli_usage(c, "--tags: every tag needs a key");
		}
		if (!tags[i].value)
			tags[i].value = "";
	}
	*ret_arr = arr;
	*ret = tags;
	*ret_n = json_array_size(arr);
	return 0;
}

/* --upstreams repositoryName=a ... into a NULL-free array of names borrowing from @arr. */
static int parse_upstreams(struct cli *c, json_t **ret_arr, const char ***ret, size_t *ret_n)
{
	static const char *const keys[] = {"repositoryName", NULL};
	int ex = 0;
	json_t *arr = cli_parse_structs(c, "--upstreams", keys, &ex);
	const char **names;
	size_t i;
	json_t *it;

	if (!arr)
		return ex;
	names = calloc(json_array_size(arr) + 1, sizeof(*names));
	if (!names) {
		json_decref(arr);
		return 1;
	}
	json_array_foreach(arr, i, it)
	{
		names[i] = json_string_value(json_object_get(it, "repositoryName"));
		if (!names[i]) {
			free(names);
			json_decref(arr);
			return cli_usage(c, "--upstreams: every entry needs repositoryName=NAME");
		}
	}
	*ret_arr = arr;
	*ret = names;
	*ret_n = json_array_size(arr);
	return 0;
}

int cmd_create_domain(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_tag *tags = NULL;
	json_t *tag_arr = NULL;
	size_t n_tags = 0;
	struct store_domain d;
	struct cafs_error e;
	int r;

	r = parse_tags(c, &tag_arr, &tags, &n_tags);
	if (r)
		return r;
	r = store_domain_create(c->root, cli_str(c, "--domain"), cli_str(c, "--encryption-key"),
				tags, n_tags, &s, &e);
	free(tags);
	json_decref(tag_arr);
	if (r == 0)
		r = store_domain_describe(s, &d, &e);
	if (r < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o}", "domain", domain_json(&d)));
}

int cmd_describe_domain(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_domain d;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 || store_domain_describe(s, &d, &e) < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o}", "domain", domain_json(&d)));
}

int cmd_delete_domain(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_domain d;
	struct cafs_error e;

	/* open first so that --domain-owner is checked like everywhere else */
	if (open_domain(c, &s, &e) < 0)
		return cli_fail(&e);
	store_close(steal_ptr(&s));
	if (store_domain_delete(c->root, cli_str(c, "--domain"), &d, &e) < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o}", "domain", domain_json(&d)));
}

json_t *page(struct cli *c, json_t *items, const char *key, int *ret_exit)
{
	long long max = cli_int(c, "--max-results", 0);
	const char *token = cli_str(c, "--next-token");
	json_t *out = json_array();
	json_t *next = NULL;
	size_t i;
	json_t *it;

	if (cli_given(c, "--max-results") && (max < 1 || max > 1000)) {
		*ret_exit = cli_usage(c, "--max-results must be between 1 and 1000");
		json_decref(out);
		json_decref(items);
		return NULL;
	}
	json_array_foreach(items, i, it)
	{
		const char *k = json_string_value(json_object_get(it, key));

		if (token && strcmp(k, token) < 0)
			continue;
		if (max && (long long)json_array_size(out) == max) {
			next = json_string(k);
			break;
		}
		json_array_append(out, it);
	}
	json_decref(items);
	if (next) {
		json_t *w = json_pack("{s:o,s:o}", "items", out, "nextToken", next);

		return w;
	}
	return json_pack("{s:o}", "items", out);
}

int cmd_list_domains(struct cli *c)
{
	struct store_domain *list = NULL;
	struct cafs_error e;
	size_t n = 0;
	json_t *items = json_array();
	json_t *pg;
	int ex = 0;

	if (store_domain_list(c->root, &list, &n, &e) < 0) {
		json_decref(items);
		return cli_fail(&e);
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, domain_summary_json(&list[i]));
	free(list);
	pg = page(c, items, "name", &ex);
	if (!pg)
		return ex;
	json_object_set(pg, "domains", json_object_get(pg, "items"));
	json_object_del(pg, "items");
	return cli_print(c, pg);
}

int cmd_create_repository(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_repository repo;
	struct store_tag *tags = NULL;
	const char **ups = NULL;
	json_t *tag_arr = NULL, *up_arr = NULL;
	size_t n_tags = 0, n_ups = 0;
	struct cafs_error e;
	int r;

	r = parse_tags(c, &tag_arr, &tags, &n_tags);
	if (r)
		return r;
	r = parse_upstreams(c, &up_arr, &ups, &n_ups);
	if (r) {
		free(tags);
		json_decref(tag_arr);
		return r;
	}
	r = open_domain(c, &s, &e);
	if (r == 0)
		r = store_repository_create(s, cli_str(c, "--repository"),
					    cli_str(c, "--description"), ups, n_ups, tags, n_tags,
					    &repo, &e);
	free(tags);
	free(ups);
	json_decref(tag_arr);
	json_decref(up_arr);
	if (r < 0)
		return cli_fail(&e);
	return print_repository(c, s, &repo);
}

int cmd_describe_repository(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_repository repo;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_repository_describe(s, cli_str(c, "--repository"), &repo, &e) < 0)
		return cli_fail(&e);
	return print_repository(c, s, &repo);
}

int cmd_update_repository(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_repository repo;
	const char **ups = NULL;
	json_t *up_arr = NULL;
	size_t n_ups = 0;
	struct cafs_error e;
	int r;

	r = parse_upstreams(c, &up_arr, &ups, &n_ups);
	if (r)
		return r;
	r = open_domain(c, &s, &e);
	if (r == 0)
		r = store_repository_update(s, cli_str(c, "--repository"),
					    cli_str(c, "--description"),
					    cli_given(c, "--upstreams"), ups, n_ups, &repo, &e);
	free(ups);
	json_decref(up_arr);
	if (r < 0)
		return cli_fail(&e);
	return print_repository(c, s, &repo);
}

int cmd_delete_repository(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_repository repo;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_repository_delete(s, cli_str(c, "--repository"), &repo, &e) < 0)
		return cli_fail(&e);
	return print_repository(c, s, &repo);
}

/* Append the summaries of @s's repositories (filtered) to @items. */
static int collect_repositories(struct cli *c, struct store *s, json_t *items, struct cafs_error *e)
{
	struct store_repository *list = NULL;
	struct store_domain d;
	size_t n = 0;
	int r;

	r = store_domain_describe(s, &d, e);
	if (r == 0)
		r = store_repository_list(s, cli_str(c, "--repository-prefix"),
					  cli_str(c, "--administrator-account"), &list, &n, e);
	for (size_t i = 0; r == 0 && i < n; i++)
		json_array_append_new(items, repository_summary_json(&list[i], d.name, d.owner));
	free(list);
	return r;
}

static int print_repository_page(struct cli *c, json_t *items, const char *key)
{
	int ex = 0;
	json_t *pg = page(c, items, key, &ex);

	if (!pg)
		return ex;
	json_object_set(pg, "repositories", json_object_get(pg, "items"));
	json_object_del(pg, "items");
	return cli_print(c, pg);
}

int cmd_list_repositories_in_domain(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct cafs_error e;
	json_t *items = json_array();

	if (open_domain(c, &s, &e) < 0 || collect_repositories(c, s, items, &e) < 0) {
		json_decref(items);
		return cli_fail(&e);
	}
	return print_repository_page(c, items, "name");
}

int cmd_list_repositories(struct cli *c)
{
	struct store_domain *doms = NULL;
	struct cafs_error e;
	json_t *items = json_array();
	size_t n = 0;
	size_t i;
	json_t *it;

	if (store_domain_list(c->root, &doms, &n, &e) < 0) {
		json_decref(items);
		return cli_fail(&e);
	}
	for (i = 0; i < n; i++) {
		struct store *s = NULL;
		int r = store_open(c->root, doms[i].name, &s, &e);

		if (r == 0)
			r = collect_repositories(c, s, items, &e);
		store_close(s);
		if (r < 0) {
			free(doms);
			json_decref(items);
			return cli_fail(&e);
		}
	}
	free(doms);
	/* the page key must be unique across domains: domain/name */
	json_array_foreach(items, i, it)
	{
		char key[256];

		(void)snprintf(key, sizeof(key), "%s/%s",
			       json_string_value(json_object_get(it, "domainName")),
			       json_string_value(json_object_get(it, "name")));
		json_object_set_new(it, "__key", json_string(key));
	}
	{
		int ex = 0;
		json_t *pg = page(c, items, "__key", &ex);
		json_t *list;

		if (!pg)
			return ex;
		list = json_object_get(pg, "items");
		json_array_foreach(list, i, it)
		{
			json_object_del(it, "__key");
		}
		json_object_set(pg, "repositories", list);
		json_object_del(pg, "items");
		return cli_print(c, pg);
	}
}

int cmd_associate_external_connection(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_repository repo;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_repository_associate_external(s, cli_str(c, "--repository"),
						cli_str(c, "--external-connection"), &repo, &e) < 0)
		return cli_fail(&e);
	return print_repository(c, s, &repo);
}

int cmd_disassociate_external_connection(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_repository repo;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_repository_disassociate_external(s, cli_str(c, "--repository"),
						   cli_str(c, "--external-connection"), &repo,
						   &e) < 0)
		return cli_fail(&e);
	return print_repository(c, s, &repo);
}

/* A source as JSON (configure-external-connection, describe-repository). */
static json_t *source_json(const struct store_source *src)
{
	json_t *o = json_pack("{s:s,s:s}", "externalConnectionName", src->name, "packageFormat",
			      cafs_format_name(src->format));

	json_object_set_new(o, "sourceUrl",
			    src->effective_url[0] ? json_string(src->effective_url) : json_null());
	json_object_set_new(o, "sourceOrigin", json_string(src->url_origin));
	json_object_set_new(o, "ttlSeconds", json_integer(src->ttl_s));
	json_object_set_new(o, "negativeTtlSeconds", json_integer(src->negative_ttl_s));
	json_object_set_new(o, "maxStaleSeconds", json_integer(src->max_stale_s));
	json_object_set_new(o, "timeoutSeconds", json_integer(src->timeout_s));
	json_object_set_new(o, "retries", json_integer(src->retries));
	if (src->updated_us)
		json_object_set_new(o, "updatedTime", cli_time(src->updated_us));
	return o;
}

int cmd_configure_external_connection(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_source_settings set = {
		.ttl_s = cli_int(c, "--ttl", -1),
		.negative_ttl_s = cli_int(c, "--negative-ttl", -1),
		.max_stale_s = cli_int(c, "--max-stale", -1),
		.timeout_s = cli_int(c, "--timeout", -1),
		.retries = cli_int(c, "--retries", -1),
	};
	bool settings = cli_given(c, "--ttl") || cli_given(c, "--negative-ttl") ||
			cli_given(c, "--max-stale") || cli_given(c, "--timeout") ||
			cli_given(c, "--retries");
	struct store_source src;
	struct cafs_error e;
	const char *url = cli_str(c, "--url");
	int r;

	if ((url || settings) && cli_flag(c, "--remove"))
		return cli_usage(c, "--remove takes no other setting");
	r = open_domain(c, &s, &e);
	if (r == 0 && (url || settings || cli_flag(c, "--remove")))
		r = store_source_configure(s, cli_str(c, "--name"),
					   url ? url : (settings ? NULL : ""),
					   settings ? &set : NULL, &src, &e);
	else if (r == 0)
		r = store_source_get(s, cli_str(c, "--name"), &src, &e);
	if (r < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o}", "externalConnection", source_json(&src)));
}

int cmd_list_tags_for_resource(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	const char *arn = cli_str(c, "--resource-arn");
	char domain[CAFS_DOMAIN_NAME_MAX + 2] = "";
	struct store_tag *tags = NULL;
	struct cafs_error e;
	const char *p;
	size_t n = 0;
	json_t *arr;

	/* arn:aws:codeartifact:<region>:<owner>:<type>/<domain>[/...] */
	p = strchr(arn, '/');
	if (strncmp(arn, "arn:aws:codeartifact:", 21) != 0 || !p) {
		cafs_error_set(&e, CAFS_VALIDATION, 0, "'%s' is not a CodeArtifact resource ARN",
			       arn);
		return cli_fail(&e);
	}
	(void)snprintf(domain, sizeof(domain), "%.*s", (int)strcspn(p + 1, "/"), p + 1);
	if (store_open(c->root, domain, &s, &e) < 0 || store_tags_list(s, arn, &tags, &n, &e) < 0)
		return cli_fail(&e);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			arr, json_pack("{s:s,s:s}", "key", tags[i].key, "value", tags[i].value));
	store_tags_free(tags, n);
	return cli_print(c, json_pack("{s:o}", "tags", arr));
}

/*
 * --since: "30s", "10m", "2h", "7d" ago, or a UTC time "2026-11-21", "2026-11-21T10:00" or
 * "2026-11-21T10:00:00". Microseconds since the epoch, or -1.
 */
static long long parse_since(const char *v)
{
	static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!errno && end != v && n >= 0 && end[0] && !end[1]) {
		long long unit = end[0] == 's'   ? 1
				 : end[0] == 'm' ? 60
				 : end[0] == 'h' ? 3600
				 : end[0] == 'd' ? 86400
						 : 0;

		if (unit && n <= (long long)time(NULL) / unit)
			return (long long)time(NULL) * 1000000 - n * unit * 1000000;
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct tm tm = {0};
		const char *rest = strptime(v, forms[i], &tm);

		if (rest && (!*rest || strcmp(rest, "Z") == 0))
			return (long long)timegm(&tm) * 1000000;
	}
	return -1;
}

int cmd_audit(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_audit_row *rows = NULL;
	struct store_audit_filter f = {
		.repository = cli_str(c, "--repository"),
		.package = cli_str(c, "--package"),
		.outcome = cli_str(c, "--outcome"),
	};
	struct cafs_error e;
	size_t n = 0;
	json_t *arr;

	if (cli_given(c, "--since")) {
		long long since = parse_since(cli_str(c, "--since"));

		if (since < 0)
			return cli_usage(c, "--since takes 30s, 10m, 2h, 7d or a UTC time such as "
					    "2026-11-21T10:00:00");
		f.since_us = since;
	}
	if (open_domain(c, &s, &e) < 0 ||
	    store_audit_list(s, &f, (size_t)cli_int(c, "--max-results", 100), &rows, &n, &e) < 0)
		return cli_fail(&e);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:I,s:o,s:s,s:s,s:s,s:s}", "id", (json_int_t)rows[i].id,
				      "time", cli_time(rows[i].time_us), "who", rows[i].who,
				      "action", rows[i].action, "resource", rows[i].resource,
				      "outcome", rows[i].outcome);

		if (rows[i].reason)
			json_object_set_new(o, "reason", json_string(rows[i].reason));
		json_array_append_new(arr, o);
	}
	store_audit_free(rows, n);
	return cli_print(c, json_pack("{s:o}", "events", arr));
}
