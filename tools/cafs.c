/* SPDX-License-Identifier: MIT */
/*
 * `cafs`: the command line over the domain store, shaped like `aws codeartifact`: the same
 * subcommand and option names and the same JSON response shapes, with cafs' own commands
 * (configure-external-connection, audit) beside them. Each command opens the domain, calls one
 * store function, and prints the response; refusals print the CodeArtifact exception name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/package.h"
#include "store/store.h"
#include "tools/cli.h"

#define DOMAIN_OPTS                                                                    \
	{"--domain", CLI_STR, true, "NAME", "the domain"},                             \
	{                                                                              \
		"--domain-owner", CLI_STR, false, "ACCOUNT",                           \
			"12-digit account id of the domain owner (checked when given)" \
	}

/* Open the domain named by --domain, checking --domain-owner when given. */
static int open_domain(struct cli *c, struct store **ret, struct cafs_error *e)
{
	const char *owner = cli_str(c, "--domain-owner");
	struct store_domain d;
	int r;

	r = store_open(c->root, cli_str(c, "--domain"), ret, e);
	if (r < 0 || !owner)
		return r;
	r = cafs_validate_account_id(owner, e);
	if (r == 0)
		r = store_domain_describe(*ret, &d, e);
	if (r == 0 && strcmp(d.owner, owner) != 0)
		r = cafs_error_set(e, CAFS_NOT_FOUND, 0, "no domain '%s' owned by '%s'", d.name,
				   owner);
	if (r < 0) {
		store_close(*ret);
		*ret = NULL;
	}
	return r;
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

static int print_repository(struct cli *c, struct store *s, const struct store_repository *r)
{
	struct cafs_error e;
	struct store_domain d;

	if (domain_ids(s, &d, &e) < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o}", "repository", repository_json(r, d.name, d.owner)));
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

static int cmd_create_domain(struct cli *c)
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

static int cmd_describe_domain(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_domain d;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 || store_domain_describe(s, &d, &e) < 0)
		return cli_fail(&e);
	return cli_print(c, json_pack("{s:o}", "domain", domain_json(&d)));
}

static int cmd_delete_domain(struct cli *c)
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

/*
 * Paging shared by the list commands: items are sorted by @key; --next-token is the key of the
 * first item of the next page.
 */
static json_t *page(struct cli *c, json_t *items, const char *key, int *ret_exit)
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

static int cmd_list_domains(struct cli *c)
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

static int cmd_create_repository(struct cli *c)
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

static int cmd_describe_repository(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_repository repo;
	struct cafs_error e;

	if (open_domain(c, &s, &e) < 0 ||
	    store_repository_describe(s, cli_str(c, "--repository"), &repo, &e) < 0)
		return cli_fail(&e);
	return print_repository(c, s, &repo);
}

static int cmd_update_repository(struct cli *c)
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

static int cmd_delete_repository(struct cli *c)
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

static int cmd_list_repositories_in_domain(struct cli *c)
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

static int cmd_list_repositories(struct cli *c)
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

static int cmd_associate_external_connection(struct cli *c)
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

static int cmd_disassociate_external_connection(struct cli *c)
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

static int cmd_configure_external_connection(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_source src;
	struct cafs_error e;
	const char *url = cli_str(c, "--url");
	int r;

	if (url && cli_flag(c, "--remove"))
		return cli_usage(c, "--url and --remove exclude each other");
	r = open_domain(c, &s, &e);
	if (r == 0 && (url || cli_flag(c, "--remove")))
		r = store_source_configure(s, cli_str(c, "--name"), url ? url : "", &src, &e);
	else if (r == 0)
		r = store_source_get(s, cli_str(c, "--name"), &src, &e);
	if (r < 0)
		return cli_fail(&e);
	{
		json_t *o = json_pack("{s:s,s:s}", "externalConnectionName", src.name,
				      "packageFormat", cafs_format_name(src.format));

		json_object_set_new(o, "sourceUrl",
				    src.url[0] ? json_string(src.url) : json_null());
		if (src.updated_us)
			json_object_set_new(o, "updatedTime", cli_time(src.updated_us));
		return cli_print(c, json_pack("{s:o}", "externalConnection", o));
	}
}

static int cmd_list_tags_for_resource(struct cli *c)
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

static int cmd_audit(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct store_audit_row *rows = NULL;
	struct cafs_error e;
	size_t n = 0;
	json_t *arr;

	if (open_domain(c, &s, &e) < 0 ||
	    store_audit_list(s, (size_t)cli_int(c, "--max-results", 100), &rows, &n, &e) < 0)
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

static json_t *hashes_json(const struct store_blob_hashes *h)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "MD5", h->md5, "SHA-1", h->sha1, "SHA-256", h->sha256,
			 "SHA-512", h->sha512);
}

static json_t *asset_json(const struct store_asset *a)
{
	return json_pack("{s:s,s:I,s:o}", "name", a->name, "size", (json_int_t)a->size, "hashes",
			 hashes_json(&a->hashes));
}

/* --format, --namespace, --package, --package-version into a coordinate (borrowed). */
static int coord_from_opts(struct cli *c, struct store_coord *ret)
{
	const char *fmt = cli_str(c, "--format");

	ret->format = cafs_format_parse(fmt);
	if (ret->format == CAFS_FORMAT_NONE)
		return cli_usage(c,
				 "--format '%s' is not one of npm, pypi, maven, nuget, generic, "
				 "ruby, swift, cargo",
				 fmt);
	ret->namespace_ = cli_str(c, "--namespace");
	ret->package = cli_str(c, "--package");
	ret->version = cli_str(c, "--package-version");
	return 0;
}

static json_t *coord_json(enum cafs_format f, const char *ns, const char *pkg, const char *ver)
{
	json_t *o = json_pack("{s:s}", "format", cafs_format_name(f));

	if (ns && *ns)
		json_object_set_new(o, "namespace", json_string(ns));
	json_object_set_new(o, "package", json_string(pkg));
	json_object_set_new(o, "version", json_string(ver));
	return o;
}

static int cmd_publish_package_version(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_close_ int fd = -1;
	struct store_publish req = {0};
	struct store_publish_result res;
	struct cafs_error e;
	const char *content = cli_str(c, "--asset-content");
	json_t *out;
	int r;

	r = coord_from_opts(c, &req.coord);
	if (r)
		return r;
	if (req.coord.format != CAFS_FORMAT_GENERIC) {
		cafs_error_set(&e, CAFS_VALIDATION, 0,
			       "publish-package-version takes generic packages only; use "
			       "`cafs publish` for %s files",
			       cafs_format_name(req.coord.format));
		return cli_fail(&e);
	}
	req.repository = cli_str(c, "--repository");
	req.asset_name = cli_str(c, "--asset-name");
	req.asset_sha256 = cli_str(c, "--asset-sha256");
	req.unfinished = cli_flag(c, "--unfinished");
	fd = strcmp(content, "-") == 0 ? dup(STDIN_FILENO) : open(content, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cafs_error_set(&e, CAFS_VALIDATION, errno, "cannot read --asset-content '%s': %s",
			       content, strerror(errno));
		return cli_fail(&e);
	}
	if (open_domain(c, &s, &e) < 0 || store_publish_fd(s, &req, fd, &res, &e) < 0)
		return cli_fail(&e);
	out = coord_json(res.format, res.namespace_, res.package, res.version);
	json_object_set_new(out, "versionRevision", json_string(res.revision));
	json_object_set_new(out, "status", json_string(store_status_name(res.status)));
	json_object_set_new(out, "asset", asset_json(&res.asset));
	return cli_print(c, out);
}

static int cmd_list_package_version_assets(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	_cleanup_free_ struct store_asset *assets = NULL;
	struct store_coord coord;
	struct cafs_error e;
	char revision[64] = "";
	size_t n = 0;
	json_t *out, *arr;
	int r;

	r = coord_from_opts(c, &coord);
	if (r)
		return r;
	if (open_domain(c, &s, &e) < 0 ||
	    store_version_assets(s, cli_str(c, "--repository"), &coord, &assets, &n, revision, &e) <
		    0)
		return cli_fail(&e);
	out = coord_json(coord.format, coord.namespace_, coord.package, coord.version);
	json_object_set_new(out, "versionRevision", json_string(revision));
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, asset_json(&assets[i]));
	json_object_set_new(out, "assets", arr);
	return cli_print(c, out);
}

static const struct cli_opt create_domain_opts[] = {
	{"--domain", CLI_STR, true, "NAME", "name of the new domain (2-50 of [a-z0-9-])"},
	{"--encryption-key", CLI_STR, false, "KEY", "opaque key identifier, stored and shown"},
	{"--tags", CLI_LIST, false, "key=K,value=V", "tags for the domain"},
	{NULL},
};
static const struct cli_opt domain_opts[] = {DOMAIN_OPTS, {NULL}};
static const struct cli_opt list_domains_opts[] = {
	{"--max-results", CLI_INT, false, "N", "page size (1-1000)"},
	{"--next-token", CLI_STR, false, "TOKEN", "continue a previous listing"},
	{NULL},
};
static const struct cli_opt create_repository_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "name of the new repository"},
	{"--description", CLI_STR, false, "TEXT", "description (at most 1000 characters)"},
	{"--upstreams", CLI_LIST, false, "repositoryName=R",
	 "upstream repositories, searched in the order given (at most 10)"},
	{"--tags", CLI_LIST, false, "key=K,value=V", "tags for the repository"},
	{NULL},
};
static const struct cli_opt repository_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository"},
	{NULL},
};
static const struct cli_opt update_repository_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository"},
	{"--description", CLI_STR, false, "TEXT", "new description (\"\" clears it)"},
	{"--upstreams", CLI_LIST, false, "repositoryName=R",
	 "replaces the whole upstream list, in search order; give it with no value to remove "
	 "all upstreams"},
	{NULL},
};
static const struct cli_opt list_repos_in_domain_opts[] = {
	DOMAIN_OPTS,
	{"--repository-prefix", CLI_STR, false, "PREFIX", "only names starting with PREFIX"},
	{"--administrator-account", CLI_STR, false, "ACCOUNT", "only repositories it administers"},
	{"--max-results", CLI_INT, false, "N", "page size (1-1000)"},
	{"--next-token", CLI_STR, false, "TOKEN", "continue a previous listing"},
	{NULL},
};
static const struct cli_opt list_repos_opts[] = {
	{"--repository-prefix", CLI_STR, false, "PREFIX", "only names starting with PREFIX"},
	{"--administrator-account", CLI_STR, false, "ACCOUNT", "only repositories it administers"},
	{"--max-results", CLI_INT, false, "N", "page size (1-1000)"},
	{"--next-token", CLI_STR, false, "TOKEN", "continue a previous listing"},
	{NULL},
};
static const struct cli_opt external_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository"},
	{"--external-connection", CLI_STR, true, "NAME",
	 "public:npmjs, public:pypi, public:maven-central, public:maven-googleandroid, "
	 "public:maven-gradleplugins, public:maven-commonsware, public:maven-clojars, "
	 "public:nuget-org, public:ruby-gems-org or public:crates-io"},
	{NULL},
};
static const struct cli_opt configure_external_opts[] = {
	DOMAIN_OPTS,
	{"--name", CLI_STR, true, "NAME", "the external connection, e.g. public:pypi"},
	{"--url", CLI_STR, false, "URL",
	 "where it fetches from in this domain: https://..., http://... or file:///folder"},
	{"--remove", CLI_FLAG, false, NULL, "forget the configured source"},
	{NULL},
};
#define VERSION_OPTS                                                                     \
	DOMAIN_OPTS, {"--repository", CLI_STR, true, "NAME", "the repository"},          \
		{"--format", CLI_STR, true, "FORMAT", "npm, pypi, maven, generic, ..."}, \
		{"--namespace", CLI_STR, false, "NS",                                    \
		 "namespace: npm scope without '@', Maven groupId, generic namespace"},  \
		{"--package", CLI_STR, true, "NAME", "the package"},                     \
	{                                                                                \
		"--package-version", CLI_STR, true, "VERSION", "the version"             \
	}

static const struct cli_opt publish_opts[] = {
	VERSION_OPTS,
	{"--asset-content", CLI_STR, true, "FILE", "file holding the asset's bytes ('-' = stdin)"},
	{"--asset-name", CLI_STR, true, "NAME", "name of the asset within the version"},
	{"--asset-sha256", CLI_STR, true, "HEX",
	 "SHA-256 of the bytes; the publish is refused when they differ"},
	{"--unfinished", CLI_FLAG, false, NULL,
	 "keep the version Unfinished so that more assets can follow"},
	{NULL},
};
static const struct cli_opt version_opts[] = {VERSION_OPTS, {NULL}};
static const struct cli_opt tags_opts[] = {
	{"--resource-arn", CLI_STR, true, "ARN", "a domain or repository ARN"},
	{NULL},
};
static const struct cli_opt audit_opts[] = {
	DOMAIN_OPTS,
	{"--max-results", CLI_INT, false, "N", "newest N events (default 100, 0 = all)"},
	{NULL},
};

static const struct cli_cmd commands[] = {
	{"associate-external-connection", "attach a public-registry connection to a repository",
	 "A repository has at most one external connection, and never together with upstream "
	 "repositories.",
	 external_opts, cmd_associate_external_connection},
	{"audit", "show the domain's audit trail, newest first (cafs)",
	 "Every change and every refusal is recorded with who, when, what, outcome and reason.",
	 audit_opts, cmd_audit},
	{"configure-external-connection",
	 "show or set where an external connection fetches from in this domain (cafs)",
	 "Without --url or --remove the current setting is shown.", configure_external_opts,
	 cmd_configure_external_connection},
	{"create-domain", "create a domain", "The domain is a folder of the store root.",
	 create_domain_opts, cmd_create_domain},
	{"create-repository", "create a repository, optionally with ordered upstreams", NULL,
	 create_repository_opts, cmd_create_repository},
	{"delete-domain", "delete a domain that has no repositories", NULL, domain_opts,
	 cmd_delete_domain},
	{"delete-repository", "delete a repository and its package records",
	 "Refused while the repository is an upstream of another repository.", repository_opts,
	 cmd_delete_repository},
	{"describe-domain", "show a domain, with its deduplicated asset bytes", NULL, domain_opts,
	 cmd_describe_domain},
	{"describe-repository", "show a repository with its upstreams and external connection",
	 NULL, repository_opts, cmd_describe_repository},
	{"disassociate-external-connection", "remove a repository's external connection", NULL,
	 external_opts, cmd_disassociate_external_connection},
	{"list-domains", "list the domains of the store", NULL, list_domains_opts,
	 cmd_list_domains},
	{"list-repositories", "list the repositories of every domain of the store", NULL,
	 list_repos_opts, cmd_list_repositories},
	{"list-repositories-in-domain", "list the repositories of a domain", NULL,
	 list_repos_in_domain_opts, cmd_list_repositories_in_domain},
	{"list-package-version-assets", "list a version's assets with size and hashes", NULL,
	 version_opts, cmd_list_package_version_assets},
	{"list-tags-for-resource", "list the tags of a domain or repository", NULL, tags_opts,
	 cmd_list_tags_for_resource},
	{"publish-package-version", "publish one asset of a generic package version",
	 "Each call adds one asset; the version stays Unfinished while --unfinished is given and "
	 "is Published by the first call without it.",
	 publish_opts, cmd_publish_package_version},
	{"update-repository", "change a repository's description or replace its upstream list",
	 NULL, update_repository_opts, cmd_update_repository},
};

int main(int argc, char **argv)
{
	return cli_main(argc, argv, commands, ARRAY_SIZE(commands));
}
