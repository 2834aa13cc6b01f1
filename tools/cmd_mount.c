/* SPDX-License-Identifier: MIT */
/*
 * `cafs mount --domain D MOUNTPOINT` and `cafs umount MOUNTPOINT`. mount checks the domain like
 * every other command (--domain-owner included) and hands over to fs_run(), which returns
 * only once the mount point works (detached) or after it is unmounted (--foreground). umount
 * runs `fusermount3 -u`, which unprivileged users may run on their own mounts.
 */
#include "tools/cmd_mount.h"

#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "fs/fs.h"
#include "policy/common.h"
#include "store/store.h"
#include "tools/cmd.h"

extern char **environ;

/* The single MOUNTPOINT word, or NULL after a usage error (*@ret_exit set). */
static const char *mountpoint(struct cli *c, int *ret_exit)
{
	if (c->n_args != 1) {
		*ret_exit =
			cli_usage(c, "'%s' takes one MOUNTPOINT, not %zu", c->cmd->name, c->n_args);
		return NULL;
	}
	return c->args[0];
}

int cmd_mount(struct cli *c)
{
	_cleanup_(store_closep) struct store *s = NULL;
	struct fs_options o = {
		.root = c->root,
		.domain = cli_str(c, "--domain"),
		.foreground = cli_flag(c, "--foreground"),
		.allow_other = cli_flag(c, "--allow-other"),
		.debug = cli_flag(c, "--debug"),
		.options = cli_str(c, "--options"),
	};
	struct cafs_error e;
	int rc = 0;

	o.mountpoint = mountpoint(c, &rc);
	if (!o.mountpoint)
		return rc;
	/* checks --domain-owner too; fs_run() opens the domain again by itself */
	if (open_domain(c, &s, &e) < 0)
		return cli_fail(&e);
	store_close(steal_ptr(&s));
	if (fs_run(&o, &e) < 0)
		return cli_fail(&e);
	return 0;
}

int cmd_umount(struct cli *c)
{
	struct cafs_error e;
	const char *mnt;
	char *argv[4];
	pid_t pid;
	int rc = 0, status, r;

	mnt = mountpoint(c, &rc);
	if (!mnt)
		return rc;
	argv[0] = "fusermount3";
	argv[1] = "-u";
	argv[2] = (char *)mnt;
	argv[3] = NULL;
	r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (r != 0) {
		(void)cafs_error_set(&e, CAFS_INTERNAL, r, "cannot run fusermount3: %s",
				     strerror(r));
		return cli_fail(&e);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			(void)cafs_error_set(&e, CAFS_INTERNAL, errno,
					     "waiting for fusermount3: %s", strerror(errno));
			return cli_fail(&e);
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		(void)cafs_error_set(&e, CAFS_INTERNAL, EIO, "fusermount3 -u '%s' failed (%s %d)",
				     mnt, WIFEXITED(status) ? "exit status" : "signal",
				     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return cli_fail(&e);
	}
	return 0;
}
