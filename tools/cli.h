/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The command-line frame of `cafs`: option tables, parsing in the style of `aws` (long options,
 * `--name value` or `--name=value`, list options that take every following word up to the next
 * option, shorthand `key=value,key=value` or JSON for structured values), output in JSON or
 * text, and the error and usage conventions (exit 1 with "error: <Exception>: <message>", exit 2
 * for usage).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cafs_error;

enum cli_opt_kind {
	CLI_STR,  /* --x VALUE */
	CLI_LIST, /* --x V1 V2 ... */
	CLI_FLAG, /* --x (and --no-x) */
	CLI_INT,  /* --x N */
	CLI_ARGS, /* the words that are not options; .name is their metavar ("FILE") */
};

struct cli_opt {
	const char *name; /* "--domain" */
	enum cli_opt_kind kind;
	bool required;
	const char *metavar;
	const char *help;
};

#define CLI_MAX_OPTS 24

struct cli;

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *description;    /* paragraph for `cafs <sub> --help` */
	const struct cli_opt *opts; /* terminated by {NULL} */
	int (*run)(struct cli *c);
};

enum cli_output { CLI_OUT_JSON, CLI_OUT_TEXT };

struct cli {
	const struct cli_cmd *cmd;
	char *root; /* store root, owned */
	enum cli_output output;
	const char *str[CLI_MAX_OPTS];
	const char **list[CLI_MAX_OPTS];
	size_t n_list[CLI_MAX_OPTS];
	bool given[CLI_MAX_OPTS];
	bool flag[CLI_MAX_OPTS];
	long long num[CLI_MAX_OPTS];
	const char **args; /* the words that are not options, in order */
	size_t n_args;
};

/* Option values by name; NULL / false / @def when not given. */
const char *cli_str(const struct cli *c, const char *name);
bool cli_flag(const struct cli *c, const char *name);
bool cli_given(const struct cli *c, const char *name);
long long cli_int(const struct cli *c, const char *name, long long def);
const char *const *cli_list(const struct cli *c, const char *name, size_t *ret_n);

/* Print "usage error" text for @c's command and return exit code 2. */
int cli_usage(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "error: <Exception>: <msg>" and return exit code 1. */
int cli_fail(const struct cafs_error *e);

/* Print @out (stolen) in the chosen output format and return 0. */
int cli_print(const struct cli *c, json_t *out);

/*
 * Parse the words of a structured list option: each word is either shorthand
 * "k1=v1,k2=v2" or a JSON object or array of objects. Every object's keys must be in @keys
 * (NULL-terminated). Returns a new JSON array of objects (string values), or NULL after
 * printing a usage error (then *@ret_exit is 2).
 */
json_t *cli_parse_structs(const struct cli *c, const char *opt, const char *const *keys,
			  int *ret_exit);

/* ISO 8601 UTC with microseconds, e.g. "2026-11-21T20:21:00.123456+00:00". New JSON string. */
json_t *cli_time(long long us);

/* Run the command line; returns the process exit code. */
int cli_main(int argc, char **argv, const struct cli_cmd *cmds, size_t n_cmds);

/*
 * A progress bar on standard error, drawn only when it is a terminal (at most ten times a
 * second): "<label> [#####     ] 12.3 MiB / 32.0 MiB". cli_progress_update() has the shape of
 * store_set_progress()'s callback; cli_progress_done() clears the line.
 */
struct cli_progress {
	char label[64];
	bool tty;
	bool drawn;
	long long last_us;
};
void cli_progress_init(struct cli_progress *p, const char *label);
void cli_progress_update(void *ctx, int64_t done, int64_t total);
void cli_progress_done(struct cli_progress *p);

/* Copy @in to @out from their offsets to EOF (copy_file_range when it can), moving @bar. 0 or
 * -errno. */
int cli_copy_fd(int in, int out, struct cli_progress *bar, int64_t total);
