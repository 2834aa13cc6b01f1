/* SPDX-License-Identifier: MIT */
/*
 * `cafs`: the command line over the domain store, shaped like `aws codeartifact`: the same
 * subcommand and option names and the same JSON response shapes, with cafs' own commands
 * (configure-external-connection, audit) beside them. This file holds the command table and
 * the option tables; tools/cmd_*.c hold the commands.
 */
#include <stddef.h>

#include "policy/common.h"
#include "tools/cmd.h"
#include "tools/cmd_mount.h"
#include "tools/cmd_publish.h"

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
	{"--remove", CLI_FLAG, false, NULL, "forget the configured source and its settings"},
	{"--ttl", CLI_INT, false, "SECONDS", "how long a version list is fresh (default 600)"},
	{"--negative-ttl", CLI_INT, false, "SECONDS",
	 "how long a \"no such package\" answer is kept (default 60)"},
	{"--max-stale", CLI_INT, false, "SECONDS",
	 "past the ttl, how long a list is still served while the source fails (default 86400)"},
	{"--timeout", CLI_INT, false, "SECONDS",
	 "connect timeout, and how long a transfer may stall (default 30)"},
	{"--retries", CLI_INT, false, "N", "extra attempts after a transient failure (default 2)"},
	{NULL},
};
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
static const struct cli_opt package_opts[] = {PACKAGE_OPTS, {NULL}};
static const struct cli_opt list_packages_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository"},
	{"--format", CLI_STR, false, "FORMAT", "only this format"},
	{"--namespace", CLI_STR, false, "PREFIX", "only namespaces starting with PREFIX"},
	{"--package-prefix", CLI_STR, false, "PREFIX", "only names starting with PREFIX"},
	{"--publish", CLI_STR, false, "ALLOW|BLOCK", "only this publish origin control"},
	{"--upstream", CLI_STR, false, "ALLOW|BLOCK", "only this upstream origin control"},
	{"--max-results", CLI_INT, false, "N", "page size (1-1000)"},
	{"--next-token", CLI_STR, false, "TOKEN", "continue a previous listing"},
	{NULL},
};
static const struct cli_opt origin_opts[] = {
	PACKAGE_OPTS,
	{"--restrictions", CLI_LIST, true, "publish=ALLOW|BLOCK,upstream=ALLOW|BLOCK",
	 "the package's origin controls in this repository"},
	{NULL},
};
static const struct cli_opt list_versions_opts[] = {
	PACKAGE_OPTS,
	{"--status", CLI_STR, false, "STATUS",
	 "only Published, Unfinished, Unlisted, Archived or Disposed versions"},
	{"--origin-type", CLI_STR, false, "TYPE", "only INTERNAL, EXTERNAL or UNKNOWN origins"},
	{"--sort-by", CLI_STR, false, "PUBLISHED_TIME", "sort key (the only one)"},
	{"--max-results", CLI_INT, false, "N", "page size (1-1000)"},
	{"--next-token", CLI_STR, false, "TOKEN", "continue a previous listing"},
	{NULL},
};
static const struct cli_opt cafs_publish_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository to publish into"},
	{"--pom", CLI_STR, false, "FILE",
	 "the POM of the Maven files given (default: <artifactId>-<version>.pom beside each)"},
	{"--unfinished", CLI_FLAG, false, NULL,
	 "leave Maven versions Unfinished; a maven-metadata.xml given later publishes them"},
	{"FILE", CLI_ARGS, true, NULL,
	 "package files: wheels, sdists (.tar.gz, .zip), npm tarballs, POMs, Maven artifacts"},
	{NULL},
};
static const struct cli_opt get_asset_opts[] = {
	VERSION_OPTS,
	{"--asset", CLI_STR, true, "NAME", "the asset to download"},
	{"--package-version-revision", CLI_STR, false, "REV",
	 "refuse unless the version is at this revision"},
	{"OUTFILE", CLI_ARGS, true, NULL, "where to write the bytes ('-' = standard output)"},
	{NULL},
};
static const struct cli_opt refresh_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "whose search order's sources are asked"},
	{"--format", CLI_STR, false, "FORMAT", "pypi, npm or maven (required with --package)"},
	{"--namespace", CLI_STR, false, "NS", "the package's namespace (npm scope, groupId)"},
	{"--package", CLI_STR, false, "NAME",
	 "one package; without it every package whose list is cached"},
	{NULL},
};
static const struct cli_opt fetch_opts[] = {
	VERSION_OPTS,
	{"--asset", CLI_STR, false, "NAME", "one file of the version (default: all of them)"},
	{"OUTFILE", CLI_ARGS, false, NULL,
	 "with --asset: where to write it ('-' = standard output)"},
	{NULL},
};
static const struct cli_opt domain_policy_opts[] = {
	DOMAIN_OPTS,
	{"--policy-document", CLI_STR, true, "JSON",
	 "the policy: JSON text, or file://PATH (Principal: \"*\", {\"Unix\": \"user:NAME\"}, "
	 "\"uid:N\", \"group:NAME\", \"gid:N\"; Action: codeartifact:...; Effect Allow|Deny)"},
	{"--policy-revision", CLI_STR, false, "REV", "refuse unless the current policy has it"},
	{NULL},
};
static const struct cli_opt domain_policy_rev_opts[] = {
	DOMAIN_OPTS,
	{"--policy-revision", CLI_STR, false, "REV", "refuse unless the current policy has it"},
	{NULL},
};
static const struct cli_opt repo_policy_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository"},
	{"--policy-document", CLI_STR, true, "JSON", "the policy: JSON text, or file://PATH"},
	{"--policy-revision", CLI_STR, false, "REV", "refuse unless the current policy has it"},
	{NULL},
};
static const struct cli_opt repo_policy_rev_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository"},
	{"--policy-revision", CLI_STR, false, "REV", "refuse unless the current policy has it"},
	{NULL},
};
static const struct cli_opt tags_opts[] = {
	{"--resource-arn", CLI_STR, true, "ARN", "a domain or repository ARN"},
	{NULL},
};
static const struct cli_opt mount_opts[] = {
	DOMAIN_OPTS,
	{"--foreground", CLI_FLAG, false, NULL,
	 "serve from this process until unmounted (default: detach once the mount works)"},
	{"--allow-other", CLI_FLAG, false, NULL,
	 "let other users use the mount (non-root users need user_allow_other in "
	 "/etc/fuse.conf)"},
	{"--debug", CLI_FLAG, false, NULL,
	 "log every FUSE request and every refusal to stderr; implies --foreground"},
	{"--options", CLI_STR, false, "OPTS", "more mount options, as for mount -o (\"a,b=c\")"},
	{"MOUNTPOINT", CLI_ARGS, true, NULL, "the folder to mount the domain on"},
	{NULL},
};
static const struct cli_opt umount_opts[] = {
	{"MOUNTPOINT", CLI_ARGS, true, NULL, "the mount point to unmount"},
	{NULL},
};
#define GROUP_OPT                                                                          \
	{                                                                                  \
		"--package-group", CLI_STR, true, "PATTERN", "the package group's pattern" \
	}
#define PAGE_OPTS                                                                      \
	{"--max-results", CLI_INT, false, "N", "page size (1-1000)"},                  \
	{                                                                              \
		"--next-token", CLI_STR, false, "TOKEN", "continue a previous listing" \
	}
static const struct cli_opt group_opts[] = {DOMAIN_OPTS, GROUP_OPT, {NULL}};
static const struct cli_opt group_edit_opts[] = {
	DOMAIN_OPTS,
	GROUP_OPT,
	{"--contact-info", CLI_STR, false, "TEXT", "how to reach the group's owners"},
	{"--description", CLI_STR, false, "TEXT", "what the group is for"},
	{NULL},
};
static const struct cli_opt group_origin_opts[] = {
	DOMAIN_OPTS,
	GROUP_OPT,
	{"--restrictions", CLI_LIST, false,
	 "PUBLISH=MODE,EXTERNAL_UPSTREAM=MODE,INTERNAL_UPSTREAM=MODE",
	 "modes: ALLOW, BLOCK, ALLOW_SPECIFIC_REPOSITORIES or INHERIT (those not named are kept)"},
	{"--add-allowed-repositories", CLI_LIST, false,
	 "originRestrictionType=TYPE,repositoryName=NAME",
	 "add repositories to a restriction's allowed list"},
	{"--remove-allowed-repositories", CLI_LIST, false,
	 "originRestrictionType=TYPE,repositoryName=NAME",
	 "remove repositories from a restriction's allowed list"},
	{NULL},
};
static const struct cli_opt list_groups_opts[] = {
	DOMAIN_OPTS,
	{"--prefix", CLI_STR, false, "PREFIX", "only patterns starting with PREFIX"},
	PAGE_OPTS,
	{NULL},
};
static const struct cli_opt list_sub_groups_opts[] = {DOMAIN_OPTS, GROUP_OPT, PAGE_OPTS, {NULL}};
static const struct cli_opt allowed_repos_opts[] = {
	DOMAIN_OPTS,
	GROUP_OPT,
	{"--origin-restriction-type", CLI_STR, true, "TYPE",
	 "PUBLISH, EXTERNAL_UPSTREAM or INTERNAL_UPSTREAM"},
	PAGE_OPTS,
	{NULL},
};
static const struct cli_opt associated_group_opts[] = {
	DOMAIN_OPTS,
	{"--format", CLI_STR, true, "FORMAT", "npm, pypi, maven, generic, ..."},
	{"--namespace", CLI_STR, false, "NS",
	 "namespace: npm scope without '@', Maven groupId, generic namespace"},
	{"--package", CLI_STR, true, "NAME", "the package (it need not exist)"},
	{NULL},
};
static const struct cli_opt associated_packages_opts[] = {
	DOMAIN_OPTS,
	GROUP_OPT,
	{"--preview", CLI_FLAG, false, NULL,
	 "answer as if the group existed (it may not yet): what creating it would take over"},
	PAGE_OPTS,
	{NULL},
};
static const struct cli_opt explain_opts[] = {
	DOMAIN_OPTS,
	{"--repository", CLI_STR, true, "NAME", "the repository a version would enter"},
	{"--format", CLI_STR, true, "FORMAT", "npm, pypi, maven, generic, ..."},
	{"--namespace", CLI_STR, false, "NS",
	 "namespace: npm scope without '@', Maven groupId, generic namespace"},
	{"--package", CLI_STR, true, "NAME", "the package (it need not exist)"},
	{"--action", CLI_STR, true, "ACTION",
	 "PUBLISH, EXTERNAL_UPSTREAM (ingest through the repository's external connection) or "
	 "INTERNAL_UPSTREAM (retain from an upstream repository)"},
	{NULL},
};

static const struct cli_opt fsck_opts[] = {
	DOMAIN_OPTS,
	{"--repair", CLI_FLAG, false, NULL,
	 "fix what is safe: remove files without rows older than the grace period, put back a "
	 "blob's bytes from an identical file without a row, move corrupt blob files to "
	 "lost+found/, sweep temp files (without it nothing is changed)"},
	{"--verify-bytes", CLI_FLAG, false, NULL,
	 "hash every blob file (the default); --no-verify-bytes checks only presence and size"},
	{"--grace", CLI_INT, false, "SECONDS",
	 "files without rows younger than this are no problem: a publish may be in progress "
	 "(default 3600)"},
	{NULL},
};
static const struct cli_opt gc_opts[] = {
	DOMAIN_OPTS,
	{"--grace", CLI_INT, false, "SECONDS",
	 "free only blobs (and files without rows) older than this: a publish stores its bytes "
	 "before it references them (default 3600)"},
	{"--dry-run", CLI_FLAG, false, NULL, "report what would be freed; change nothing"},
	{NULL},
};

static const struct cli_opt audit_opts[] = {
	DOMAIN_OPTS,
	{"--max-results", CLI_INT, false, "N", "newest N events (default 100, 0 = all)"},
	{"--repository", CLI_STR, false, "NAME",
	 "only events about this repository or its packages"},
	{"--package", CLI_STR, false, "NAME", "only events about packages of this name"},
	{"--outcome", CLI_STR, false, "OUTCOME",
	 "only this outcome: ok, an exception name (AccessDeniedException, ...) or refused (all "
	 "but ok)"},
	{"--since", CLI_STR, false, "WHEN", "only events since 30s, 10m, 2h, 7d ago or a UTC time"},
	{NULL},
};

#define BATCH_VERSIONS_HELP "the versions, by exact version string (at most 100)"
#define BATCH_REVISIONS_HELP                                                            \
	"act only while each listed version has this revision: VERSION=REVISION pairs " \
	"(split at the first '=') or a JSON object {\"VERSION\": \"REVISION\"}"
#define BATCH_EXPECTED_HELP                                                                    \
	"act only on versions currently in STATUS (Published, Unfinished, Unlisted, Archived " \
	"or Disposed); others fail with MISMATCHED_STATUS"

static const struct cli_opt update_status_opts[] = {
	PACKAGE_OPTS,
	{"--versions", CLI_LIST, true, "VERSION", BATCH_VERSIONS_HELP},
	{"--version-revisions", CLI_LIST, false, "VERSION=REVISION",
	 BATCH_REVISIONS_HELP "; each version must also be in --versions"},
	{"--expected-status", CLI_STR, false, "STATUS", BATCH_EXPECTED_HELP},
	{"--target-status", CLI_STR, true, "STATUS",
	 "the new status: Published, Unlisted or Archived"},
	{NULL},
};
static const struct cli_opt dispose_opts[] = {
	PACKAGE_OPTS,
	{"--versions", CLI_LIST, true, "VERSION", BATCH_VERSIONS_HELP},
	{"--version-revisions", CLI_LIST, false, "VERSION=REVISION",
	 BATCH_REVISIONS_HELP "; each version must also be in --versions"},
	{"--expected-status", CLI_STR, false, "STATUS", BATCH_EXPECTED_HELP},
	{NULL},
};
static const struct cli_opt delete_versions_opts[] = {
	PACKAGE_OPTS,
	{"--versions", CLI_LIST, true, "VERSION", BATCH_VERSIONS_HELP},
	{"--expected-status", CLI_STR, false, "STATUS", BATCH_EXPECTED_HELP},
	{NULL},
};
static const struct cli_opt copy_opts[] = {
	DOMAIN_OPTS,
	{"--source-repository", CLI_STR, true, "NAME", "the repository to copy from"},
	{"--destination-repository", CLI_STR, true, "NAME",
	 "the repository to copy into (same domain)"},
	{"--format", CLI_STR, true, "FORMAT", "npm, pypi, maven, generic, ..."},
	{"--namespace", CLI_STR, false, "NS",
	 "namespace: npm scope without '@', Maven groupId, generic namespace"},
	{"--package", CLI_STR, true, "NAME", "the package"},
	{"--versions", CLI_LIST, false, "VERSION",
	 BATCH_VERSIONS_HELP "; give this or --version-revisions"},
	{"--version-revisions", CLI_LIST, false, "VERSION=REVISION",
	 BATCH_REVISIONS_HELP "; names the versions to copy instead of --versions"},
	{"--allow-overwrite", CLI_FLAG, false, NULL,
	 "replace a version the destination holds with other content (--no-allow-overwrite, "
	 "the default, reports it as ALREADY_EXISTS)"},
	{"--include-from-upstream", CLI_FLAG, false, NULL,
	 "look each version up through the source's upstreams in search order "
	 "(--no-include-from-upstream, the default, looks in the source only)"},
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
	{"copy-package-versions", "copy versions of a package into another repository",
	 "Copies the version records, their assets (the same blobs), dependencies, status and "
	 "origin, and for npm the dist-tags naming them. A version the destination already "
	 "holds identically succeeds and is left out of the response. All or nothing: if a "
	 "version fails, nothing is copied and the others are reported SKIPPED; the command "
	 "still exits 0.",
	 copy_opts, cmd_copy_package_versions},
	{"create-package-group", "create a package group (all its restrictions INHERIT)",
	 "The pattern is /FORMAT/NAMESPACE/NAME with $ (exact), ~ (prefix on a word boundary) "
	 "or * (everything below); /* is the root group every domain has.",
	 group_edit_opts, cmd_create_package_group},
	{"create-domain", "create a domain", "The domain is a folder of the store root.",
	 create_domain_opts, cmd_create_domain},
	{"create-repository", "create a repository, optionally with ordered upstreams", NULL,
	 create_repository_opts, cmd_create_repository},
	{"delete-domain", "delete a domain that has no repositories", NULL, domain_opts,
	 cmd_delete_domain},
	{"delete-package-group", "delete a package group; its sub-groups attach to its parent",
	 "Packages are never deleted with it; they belong to the next most specific group. The "
	 "root group /* cannot be deleted.",
	 group_opts, cmd_delete_package_group},
	{"delete-package", "delete a package with all its versions and origin configuration", NULL,
	 package_opts, cmd_delete_package},
	{"delete-package-versions", "delete versions with their assets",
	 "The records go; the version strings can be published again. Blobs no repository "
	 "references any more are removed from disk. All or nothing: if a version fails, "
	 "nothing is deleted and the others are reported SKIPPED; the command still exits 0.",
	 delete_versions_opts, cmd_delete_package_versions},
	{"delete-domain-permissions-policy", "delete the domain's resource policy", NULL,
	 domain_policy_rev_opts, cmd_delete_domain_permissions_policy},
	{"delete-repository", "delete a repository and its package records",
	 "Refused while the repository is an upstream of another repository.", repository_opts,
	 cmd_delete_repository},
	{"delete-repository-permissions-policy", "delete a repository's resource policy", NULL,
	 repo_policy_rev_opts, cmd_delete_repository_permissions_policy},
	{"describe-domain", "show a domain, with its deduplicated asset bytes", NULL, domain_opts,
	 cmd_describe_domain},
	{"describe-package-group",
	 "show a package group: its parent and, per restriction, mode, effective mode and where "
	 "it is inherited from",
	 NULL, group_opts, cmd_describe_package_group},
	{"describe-package", "show a package and its origin configuration", NULL, package_opts,
	 cmd_describe_package},
	{"describe-package-version", "show a version's metadata, revision, status and origin", NULL,
	 version_opts, cmd_describe_package_version},
	{"describe-repository", "show a repository with its upstreams and external connection",
	 NULL, repository_opts, cmd_describe_repository},
	{"disassociate-external-connection", "remove a repository's external connection", NULL,
	 external_opts, cmd_disassociate_external_connection},
	{"dispose-package-versions", "delete versions' assets and keep them as Disposed records",
	 "A Disposed version keeps its record (and its version string) but has no assets; it can "
	 "only be deleted afterwards. Blobs no repository references any more are removed from "
	 "disk. All or nothing: if a version fails, nothing is disposed and the others are "
	 "reported SKIPPED; the command still exits 0.",
	 dispose_opts, cmd_dispose_package_versions},
	{"explain", "why a version may or may not enter a repository a given way (cafs)",
	 "Shows the package's own origin controls, the package group it belongs to and why that "
	 "one (strong or weak match, most specific), the group's mode and where an inherited "
	 "mode comes from, the allowed-repository list, and the verdict.",
	 explain_opts, cmd_explain},
	{"fetch", "get a version's files through a repository as a package manager would (cafs)",
	 "Resolves the version in the repository's search order (its own records, its upstreams, "
	 "the sources of their external connections), fetches what only a source has, verifies "
	 "it against the source's digest and retains it as the spec says: into this repository, "
	 "and, for a source, into the repository owning the connection. Use it to fill a store "
	 "before builds run offline. A progress bar is drawn on a terminal.",
	 fetch_opts, cmd_fetch},
	{"fsck", "verify a domain's blobs and rows; repair what is safe with --repair (cafs)",
	 "Hashes every blob file against its row (size, SHA-256, the stored MD5, SHA-1 and "
	 "SHA-512), checks every asset row against its blob, looks for half-published versions, "
	 "files without rows, temp files left in tmp/, and runs SQLite's integrity and "
	 "foreign-key checks. Read-only unless --repair; safe while the domain is mounted. Exit "
	 "0 when clean, 1 when problems remain. A progress bar is drawn on a terminal.",
	 fsck_opts, cmd_fsck},
	{"gc", "free the blobs no asset references (cafs)",
	 "Deletes the rows, then the files, of blobs that no asset of any repository references "
	 "and that are older than the grace period, and files without rows past it. Safe while "
	 "the domain is mounted and publishing.",
	 gc_opts, cmd_gc},
	{"get-associated-package-group", "show the package group a package belongs to",
	 "Works for packages that exist nowhere yet. associationType is STRONG, or WEAK when "
	 "the name matches only up to case, separators or look-alike characters (a weakly "
	 "associated package can take no new versions at all).",
	 associated_group_opts, cmd_get_associated_package_group},
	{"list-allowed-repositories-for-group",
	 "list the repositories on a package group's allowed list for one restriction", NULL,
	 allowed_repos_opts, cmd_list_allowed_repositories_for_group},
	{"list-associated-packages", "list the packages that belong to a package group", NULL,
	 associated_packages_opts, cmd_list_associated_packages},
	{"list-package-groups", "list the package groups of a domain", NULL, list_groups_opts,
	 cmd_list_package_groups},
	{"list-sub-package-groups", "list the direct children of a package group", NULL,
	 list_sub_groups_opts, cmd_list_sub_package_groups},
	{"list-domains", "list the domains of the store", NULL, list_domains_opts,
	 cmd_list_domains},
	{"list-repositories", "list the repositories of every domain of the store", NULL,
	 list_repos_opts, cmd_list_repositories},
	{"list-repositories-in-domain", "list the repositories of a domain", NULL,
	 list_repos_in_domain_opts, cmd_list_repositories_in_domain},
	{"get-domain-permissions-policy", "show the domain's resource policy", NULL, domain_opts,
	 cmd_get_domain_permissions_policy},
	{"get-package-version-asset", "download one asset of a version to a file", NULL,
	 get_asset_opts, cmd_get_package_version_asset},
	{"get-package-version-readme", "show a version's readme (or its description)", NULL,
	 version_opts, cmd_get_package_version_readme},
	{"get-repository-permissions-policy", "show a repository's resource policy", NULL,
	 repository_opts, cmd_get_repository_permissions_policy},
	{"list-packages", "list the packages of a repository", NULL, list_packages_opts,
	 cmd_list_packages},
	{"list-package-versions", "list the versions of a package, oldest published first", NULL,
	 list_versions_opts, cmd_list_package_versions},
	{"list-package-version-dependencies", "list the direct dependencies a version declares",
	 NULL, version_opts, cmd_list_package_version_dependencies},
	{"list-package-version-assets", "list a version's assets with size and hashes", NULL,
	 version_opts, cmd_list_package_version_assets},
	{"list-tags-for-resource", "list the tags of a domain or repository", NULL, tags_opts,
	 cmd_list_tags_for_resource},
	{"mount", "mount a domain as a file tree (cafs)",
	 "Shows the domain's repositories, packages, versions and assets as folders and files, "
	 "with pip indexes, Maven metadata and checksums synthesized and extended attributes "
	 "(user.cafs.*) for status and metadata. Without --foreground the command returns once "
	 "the mount works and a daemon serves it; `cafs umount` ends it.",
	 mount_opts, cmd_mount},
	{"publish", "publish package files with the metadata they carry (cafs)",
	 "The format, name and version come from each file itself: a wheel's METADATA, an "
	 "sdist's PKG-INFO, an npm tarball's package.json, a POM. A Maven artifact is published "
	 "with its POM; a Maven version is Published once its last file is in, or, with "
	 "--unfinished, when a maven-metadata.xml that lists it is published.",
	 cafs_publish_opts, cmd_publish},
	{"publish-package-version", "publish one asset of a generic package version",
	 "Each call adds one asset; the version stays Unfinished while --unfinished is given and "
	 "is Published by the first call without it.",
	 publish_opts, cmd_publish_package_version},
	{"put-domain-permissions-policy", "set the domain's resource policy",
	 "Who besides the domain's owner may do what in the domain (spec 8): statements with "
	 "Effect Allow or Deny (an explicit Deny wins), Principal (local users and groups), "
	 "Action (codeartifact:..., wildcards) and Resource (ARNs, wildcards). The policy being "
	 "replaced does not count while this is checked, so nobody can lock the owner out.",
	 domain_policy_opts, cmd_put_domain_permissions_policy},
	{"put-package-origin-configuration",
	 "set a package's publish and upstream origin controls in a repository",
	 "Creates the package record with no versions when it does not exist yet, so that a name "
	 "can be blocked before anything arrives.",
	 origin_opts, cmd_put_package_origin_configuration},
	{"put-repository-permissions-policy", "set a repository's resource policy",
	 "As put-domain-permissions-policy, for the repository and its packages: "
	 "codeartifact:ReadFromRepository to read it (the mount's folders and files), "
	 "PublishPackageVersion on its packages to publish.",
	 repo_policy_opts, cmd_put_repository_permissions_policy},
	{"refresh", "ask the sources behind a repository for version lists now (cafs)",
	 "Version lists from external sources are cached (configure-external-connection --ttl). "
	 "This asks again now, for one package or for every package whose list is cached, and "
	 "reports each: listed (with its version count), not found, or failed with the reason. "
	 "Exit 1 when any failed.",
	 refresh_opts, cmd_refresh},
	{"umount", "unmount a mounted domain (cafs)", "Runs `fusermount3 -u MOUNTPOINT`.",
	 umount_opts, cmd_umount},
	{"update-package-versions-status", "set versions to Published, Unlisted or Archived",
	 "Unfinished versions may move to any of the three; Disposed ones never. Setting the "
	 "status a version already has succeeds and changes nothing; the revision never changes. "
	 "All or nothing: if a version fails, nothing changes and the others are reported "
	 "SKIPPED; the command still exits 0.",
	 update_status_opts, cmd_update_package_versions_status},
	{"update-package-group", "change a package group's description or contact info", NULL,
	 group_edit_opts, cmd_update_package_group},
	{"update-package-group-origin-configuration",
	 "set a package group's origin restrictions and allowed-repository lists",
	 "At most 100 allowed-repository additions and removals per call. The response lists "
	 "what was added and removed.",
	 group_origin_opts, cmd_update_package_group_origin_configuration},
	{"update-repository", "change a repository's description or replace its upstream list",
	 NULL, update_repository_opts, cmd_update_repository},
};

int main(int argc, char **argv)
{
	return cli_main(argc, argv, commands, ARRAY_SIZE(commands));
}
