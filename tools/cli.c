/* SPDX-License-Identifier: MIT */
/*
 * Option parsing and output for the `cafs` command line. The option vocabulary follows
 * `aws codeartifact`: long options only, global `--output json|text` and `--store DIR` accepted
 * anywhere, list options that take the words up to the next option, and structured values in
 * shorthand or JSON. Nothing here knows a command's meaning.
 */
#include "tools/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/common.h"
#include "store/store.h"

/* The index of the command's CLI_ARGS entry, or -1 when it takes no plain words. */
static int args_index(const struct cli *c)
{
	for (int i = 0; c->cmd && c->cmd->opts[i].name; i++)
		if (c->cmd->opts[i].kind == CLI_ARGS)
			return i;
	return -1;
}

static int opt_index(const struct cli *c, const char *name)
{
	for (int i = 0; c->cmd && c->cmd->opts[i].name; i++)
		if (strcmp(c->cmd->opts[i].name, name) == 0)
			return i;
	return -1;
}

const char *cli_str(const struct cli *c, const char *name)
{
	int i = opt_index(c, name);

	return i >= 0 ? c->str[i] : NULL;
}

bool cli_flag(const struct cli *c, const char *name)
{
	int i = opt_index(c, name);

	return i >= 0 && c->flag[i];
}

bool cli_given(const struct cli *c, const char *name)
{
	int i = opt_index(c, name);

	return i >= 0 && c->given[i];
}

long long cli_int(const struct cli *c, const char *name, long long def)
{
	int i = opt_index(c, name);

	return i >= 0 && c->given[i] ? c->num[i] : def;
}

const char *const *cli_list(const struct cli *c, const char *name, size_t *ret_n)
{
	int i = opt_index(c, name);

	*ret_n = i >= 0 ? c->n_list[i] : 0;
	return i >= 0 ? (const char *const *)c->list[i] : NULL;
}

static void print_cmd_help(FILE *f, const struct cli_cmd *cmd)
{
	fprintf(f, "usage: cafs %s", cmd->name);
	for (int i = 0; cmd->opts[i].name; i++) {
		const struct cli_opt *o = &cmd->opts[i];
		const char *mv = o->metavar ? o->metavar : "VALUE";

		if (o->kind == CLI_ARGS)
			fprintf(f, o->required ? " %s..." : " [%s...]", o->name);
		else if (o->kind == CLI_FLAG)
			fprintf(f, o->required ? " %s" : " [%s]", o->name);
		else if (o->kind == CLI_LIST)
			fprintf(f, o->required ? " %s %s..." : " [%s %s...]", o->name, mv);
		else
			fprintf(f, o->required ? " %s %s" : " [%s %s]", o->name, mv);
	}
	fprintf(f, "\n\n%s\n", cmd->summary);
	if (cmd->description)
		fprintf(f, "\n%s\n", cmd->description);
	fprintf(f, "\noptions:\n");
	for (int i = 0; cmd->opts[i].name; i++) {
		const struct cli_opt *o = &cmd->opts[i];

		fprintf(f, "  %-28s %s%s\n", o->name, o->help, o->required ? " (required)" : "");
	}
	fprintf(f, "  %-28s %s\n", "--store DIR",
		"store root (default $CAFS_STORE, else $XDG_DATA_HOME/cafs, else "
		"~/.local/share/cafs)");
	fprintf(f, "  %-28s %s\n", "--output json|text", "output format (default json)");
	fprintf(f, "  %-28s %s\n", "--help", "show this help");
}

int cli_usage(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "usage error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c && c->cmd)
		fprintf(stderr, "\n(see: cafs %s --help)\n", c->cmd->name);
	else
		fprintf(stderr, "\n(see: cafs --help)\n");
	return 2;
}

int cli_fail(const struct cafs_error *e)
{
	fprintf(stderr, "error: %s: %s\n", cafs_kind_exception(e->kind), e->msg);
	return 1;
}

json_t *cli_time(long long us)
{
	char buf[64];
	struct tm tm;
	time_t t = (time_t)(us / 1000000);

	(void)gmtime_r(&t, &tm);
	(void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%06lld+00:00", us % 1000000);
	return json_string(buf);
}

/* --output text, shaped like the aws CLI's: one line per object, named by its key in upper
 * case, with the object's scalar values in key order separated by tabs; nested objects and
 * lists of objects follow on their own lines. */
static void text_scalar(FILE *f, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), f);
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(f, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("True", f);
		break;
	case JSON_FALSE:
		fputs("False", f);
		break;
	case JSON_NULL:
		fputs("None", f);
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		break;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void text_object(FILE *f, const char *label, json_t *obj);

static void text_value(FILE *f, const char *key, json_t *v)
{
	if (json_is_object(v)) {
		text_object(f, key, v);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *it;
		bool scalars = true;

		json_array_foreach(v, i, it)
		{
			if (json_is_object(it) || json_is_array(it))
				scalars = false;
		}
		if (scalars && json_array_size(v) > 0) {
			char up[128];
			size_t k;

			for (k = 0; key[k] && k < sizeof(up) - 1; k++)
				up[k] = (char)((key[k] >= 'a' && key[k] <= 'z') ? key[k] - 32
										: key[k]);
			up[k] = '\0';
			fputs(up, f);
			json_array_foreach(v, i, it)
			{
				fputc('\t', f);
				text_scalar(f, it);
			}
			fputc('\n', f);
		} else {
			json_array_foreach(v, i, it)
			{
				text_value(f, key, it);
			}
		}
	}
}

static void text_object(FILE *f, const char *label, json_t *obj)
{
	const char *keys[256];
	size_t n = 0;
	const char *k;
	json_t *v;
	bool any = false;

	json_object_foreach(obj, k, v)
	{
		if (n < ARRAY_SIZE(keys))
			keys[n++] = k;
	}
	qsort(keys, n, sizeof(keys[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(obj, keys[i]);
		if (json_is_object(v) || json_is_array(v))
			continue;
		if (!any && label) {
			for (const char *p = label; *p; p++)
				fputc((*p >= 'a' && *p <= 'z') ? *p - 32 : *p, f);
			fputc('\t', f);
		} else if (any) {
			fputc('\t', f);
		}
		text_scalar(f, v);
		any = true;
	}
	if (any)
		fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(obj, keys[i]);
		if (json_is_object(v) || json_is_array(v))
			text_value(f, keys[i], v);
	}
}

int cli_print(const struct cli *c, json_t *out)
{
	if (c->output == CLI_OUT_TEXT) {
		text_object(stdout, NULL, out);
	} else {
		char *s = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

		if (s) {
			puts(s);
			free(s);
		}
	}
	json_decref(out);
	return fflush(stdout) == 0 ? 0 : 1;
}

static json_t *parse_shorthand(const char *word, const char *const *keys, char *why, size_t whysz)
{
	json_t *obj = json_object();
	_cleanup_free_ char *copy = strdup(word);
	char *save = NULL;

	if (!obj || !copy) {
		json_decref(obj);
		(void)snprintf(why, whysz, "out of memory");
		return NULL;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		bool known = false;

		if (!eq) {
			(void)snprintf(why, whysz, "'%s' is not key=value", tok);
			json_decref(obj);
			return NULL;
		}
		*eq = '\0';
		for (size_t i = 0; keys[i]; i++)
			known = known || strcmp(keys[i], tok) == 0;
		if (!known) {
			(void)snprintf(why, whysz, "unknown key '%s'", tok);
			json_decref(obj);
			return NULL;
		}
		json_object_set_new(obj, tok, json_string(eq + 1));
	}
	return obj;
}

static bool check_keys(json_t *obj, const char *const *keys, char *why, size_t whysz)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj)) {
		(void)snprintf(why, whysz, "expected a JSON object");
		return false;
	}
	json_object_foreach(obj, k, v)
	{
		bool known = false;

		for (size_t i = 0; keys[i]; i++)
			known = known || strcmp(keys[i], k) == 0;
		if (!known || !json_is_string(v)) {
			(void)snprintf(
				why, whysz,
				known ? "value of '%s' must be a string" : "unknown key '%s'", k);
			return false;
		}
	}
	return true;
}

json_t *cli_parse_structs(const struct cli *c, const char *opt, const char *const *keys,
			  int *ret_exit)
{
	size_t n;
	const char *const *words = cli_list(c, opt, &n);
	json_t *arr = json_array();
	char why[256];

	for (size_t i = 0; i < n; i++) {
		const char *w = words[i];

		if (w[0] == '[' || w[0] == '{') {
			json_error_t je;
			json_t *v = json_loads(w, JSON_REJECT_DUPLICATES, &je);
			size_t j;
			json_t *it;

			if (!v) {
				*ret_exit = cli_usage(c, "%s: invalid JSON: %s", opt, je.text);
				json_decref(arr);
				return NULL;
			}
			if (json_is_object(v)) {
				json_t *a = json_array();

				json_array_append_new(a, v);
				v = a;
			}
			json_array_foreach(v, j, it)
			{
				if (!check_keys(it, keys, why, sizeof(why))) {
					*ret_exit = cli_usage(c, "%s: %s", opt, why);
					json_decref(v);
					json_decref(arr);
					return NULL;
				}
				json_array_append(arr, it);
			}
			json_decref(v);
		} else {
			json_t *o = parse_shorthand(w, keys, why, sizeof(why));

			if (!o) {
				*ret_exit = cli_usage(c, "%s: %s", opt, why);
				json_decref(arr);
				return NULL;
			}
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

static void print_main_help(FILE *f, const struct cli_cmd *cmds, size_t n)
{
	fprintf(f, "usage: cafs [--store DIR] [--output json|text] <command> [options]\n\n"
		   "cafs serves package repositories with AWS CodeArtifact's semantics from a "
		   "local store.\nCommands are named and optioned like `aws codeartifact`.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-36s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
		"\nglobal options:\n"
		"  --store DIR         store root (default $CAFS_STORE, else $XDG_DATA_HOME/cafs,"
		" else ~/.local/share/cafs)\n"
		"  --output json|text  output format (default json)\n"
		"  --help              this help; `cafs <command> --help` describes a command\n"
		"  --version           print the version\n\n"
		"exit status: 0 success, 1 refused or failed (error: <Exception>: <message>), "
		"2 usage error\n");
}

/* Take a global option at argv[*i] if it is one; returns 1 taken, 0 not, -1 usage error. */
static int global_opt(struct cli *c, int argc, char **argv, int *i, const char **store_arg)
{
	const char *a = argv[*i];
	const char *val = NULL;
	bool is_store = strncmp(a, "--store", 7) == 0 && (a[7] == '\0' || a[7] == '=');
	bool is_output = strncmp(a, "--output", 8) == 0 && (a[8] == '\0' || a[8] == '=');

	if (!is_store && !is_output)
		return 0;
	val = strchr(a, '=');
	if (val) {
		val++;
	} else {
		if (*i + 1 >= argc)
			return -1;
		val = argv[++*i];
	}
	if (is_store) {
		*store_arg = val;
	} else if (strcmp(val, "json") == 0) {
		c->output = CLI_OUT_JSON;
	} else if (strcmp(val, "text") == 0) {
		c->output = CLI_OUT_TEXT;
	} else {
		return -1;
	}
	return 1;
}

static int parse_int(const char *s, long long *ret)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || !end || *end || end == s)
		return -1;
	*ret = v;
	return 0;
}

/*
 * Parse the options after the command word into @c. Returns -1 to go on and run the command,
 * or the exit code to stop with (0 after --help, 2 for a usage error).
 */
static int parse_cmd_opts(struct cli *cp, int argc, char **argv, int cmd_at, const char **store_arg)
{
	for (int i = cmd_at + 1; i < argc; i++) {
		const char *a = argv[i];
		_cleanup_free_ char *name = NULL;
		const char *val = NULL;
		int idx;
		int g;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_cmd_help(stdout, cp->cmd);
			return 0;
		}
		g = global_opt(cp, argc, argv, &i, store_arg);
		if (g < 0)
			return cli_usage(cp, "%s needs a value (json|text for --output)", a);
		if (g > 0)
			continue;
		if (strncmp(a, "--", 2) != 0) {
			const char **na;

			if (args_index(cp) < 0)
				return cli_usage(cp, "unexpected argument '%s'", a);
			na = reallocarray(cp->args, cp->n_args + 1, sizeof(*na));
			if (!na)
				return 1;
			cp->args = na;
			cp->args[cp->n_args++] = a;
			continue;
		}
		name = strdup(a);
		if (!name)
			return 1;
		if (strchr(name, '=')) {
			*strchr(name, '=') = '\0';
			val = strchr(a, '=') + 1;
		}
		idx = opt_index(cp, name);
		if (idx < 0 && strncmp(name, "--no-", 5) == 0) {
			char pos[128];

			(void)snprintf(pos, sizeof(pos), "--%s", name + 5);
			idx = opt_index(cp, pos);
			if (idx >= 0 && cp->cmd->opts[idx].kind == CLI_FLAG) {
				cp->given[idx] = true;
				cp->flag[idx] = false;
				continue;
			}
			idx = -1;
		}
		if (idx < 0)
			return cli_usage(cp, "unknown option '%s' for '%s'", name, cp->cmd->name);
		if (cp->given[idx] && cp->cmd->opts[idx].kind != CLI_LIST)
			return cli_usage(cp, "option '%s' given twice", name);
		cp->given[idx] = true;
		switch (cp->cmd->opts[idx].kind) {
		case CLI_ARGS:
			return cli_usage(cp, "unknown option '%s' for '%s'", name, cp->cmd->name);
		case CLI_FLAG:
			if (val)
				return cli_usage(cp, "option '%s' takes no value", name);
			cp->flag[idx] = true;
			break;
		case CLI_STR:
		case CLI_INT:
			if (!val) {
				if (i + 1 >= argc)
					return cli_usage(cp, "option '%s' needs a value", name);
				val = argv[++i];
			}
			cp->str[idx] = val;
			if (cp->cmd->opts[idx].kind == CLI_INT && parse_int(val, &cp->num[idx]) < 0)
				return cli_usage(cp, "option '%s' needs a whole number, not '%s'",
						 name, val);
			break;
		case CLI_LIST: {
			const char **l = cp->list[idx];
			size_t n = cp->n_list[idx];

			if (val) {
				l = reallocarray(l, n + 1, sizeof(*l));
				if (!l)
					return 1;
				cp->list[idx] = l;
				l[n++] = val;
			}
			while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
				l = reallocarray(l, n + 1, sizeof(*l));
				if (!l)
					return 1;
				cp->list[idx] = l;
				l[n++] = argv[++i];
			}
			cp->list[idx] = l;
			cp->n_list[idx] = n;
			break;
		}
		}
	}
	if (args_index(cp) >= 0) {
		int i = args_index(cp);

		cp->given[i] = cp->n_args > 0;
		if (cp->cmd->opts[i].required && cp->n_args == 0)
			return cli_usage(cp, "'%s' needs %s...", cp->cmd->name,
					 cp->cmd->opts[i].name);
	}
	for (int i = 0; cp->cmd->opts[i].name; i++)
		if (cp->cmd->opts[i].required && !cp->given[i])
			return cli_usage(cp, "option '%s' is required for '%s'",
					 cp->cmd->opts[i].name, cp->cmd->name);

	return -1;
}

int cli_main(int argc, char **argv, const struct cli_cmd *cmds, size_t n_cmds)
{
	struct cli c = {0};
	const char *store_arg = NULL;
	int cmd_at = -1;
	int rc;

	c.output = CLI_OUT_JSON;
	for (int i = 1; i < argc; i++) {
		int g = global_opt(&c, argc, argv, &i, &store_arg);

		if (g < 0)
			return cli_usage(NULL, "%s needs a value (json|text for --output)",
					 argv[i]);
		if (g > 0)
			continue;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "help") == 0) {
			print_main_help(stdout, cmds, n_cmds);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("cafs " CAFS_VERSION "\n");
			return 0;
		}
		if (argv[i][0] == '-')
			return cli_usage(NULL, "unknown option '%s' before the command", argv[i]);
		cmd_at = i;
		break;
	}
	if (cmd_at < 0) {
		print_main_help(stderr, cmds, n_cmds);
		return 2;
	}
	for (size_t k = 0; k < n_cmds; k++)
		if (strcmp(cmds[k].name, argv[cmd_at]) == 0)
			c.cmd = &cmds[k];
	if (!c.cmd)
		return cli_usage(NULL, "unknown command '%s'", argv[cmd_at]);

	rc = parse_cmd_opts(&c, argc, argv, cmd_at, &store_arg);
	if (rc < 0) {
		c.root = store_default_root(store_arg);
		if (!c.root) {
			fprintf(stderr, "error: cannot tell where the store is: set --store or "
					"CAFS_STORE\n");
			rc = 2;
		} else {
			rc = c.cmd->run(&c);
		}
	}
	for (int i = 0; i < CLI_MAX_OPTS; i++)
		free(c.list[i]);
	free(c.args);
	free(c.root);
	return rc;
}

void cli_progress_init(struct cli_progress *p, const char *label)
{
	*p = (struct cli_progress){.tty = isatty(STDERR_FILENO) == 1};
	(void)snprintf(p->label, sizeof(p->label), "%s", label);
}

static long long now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cli_progress_update(void *ctx, int64_t done, int64_t total)
{
	struct cli_progress *p = ctx;
	char bar[31];
	long long t = now_us();
	int fill = 0;

	if (!p->tty || (p->drawn && t - p->last_us < 100000 && done != total))
		return;
	p->last_us = t;
	if (total > 0)
		fill = (int)(done * 30 / total);
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : (total > 0 ? ' ' : (i == (t / 100000) % 30 ? '#' : ' '));
	bar[30] = '\0';
	if (total > 0)
		(void)fprintf(stderr, "\r%s [%s] %.1f / %.1f MiB ", p->label, bar,
			      (double)done / 1048576.0, (double)total / 1048576.0);
	else
		(void)fprintf(stderr, "\r%s [%s] %.1f MiB ", p->label, bar,
			      (double)done / 1048576.0);
	p->drawn = true;
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->tty && p->drawn)
		(void)fprintf(stderr, "\r\033[K");
	p->drawn = false;
}

int cli_copy_fd(int in, int out, struct cli_progress *bar, int64_t total)
{
	char buf[1 << 16];
	int64_t done = 0;

	for (;;) {
		/* 64 MiB steps: the kernel copies, the bar moves */
		ssize_t n = copy_file_range(in, NULL, out, NULL, 64 << 20, 0);

		if (n == 0)
			return 0;
		if (n > 0) {
			done += n;
			cli_progress_update(bar, done, total);
			continue;
		}
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
		break;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n == 0)
			return 0;
		if (n < 0)
			return -errno;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0)
				return -errno;
			off += w;
		}
		done += n;
		cli_progress_update(bar, done, total);
	}
}
