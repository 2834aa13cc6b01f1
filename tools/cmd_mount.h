/* SPDX-License-Identifier: MIT */
#pragma once

/* `cafs mount` and `cafs umount` (tools/cmd_mount.c). */

struct cli;

int cmd_mount(struct cli *c);
int cmd_umount(struct cli *c);
