/* SPDX-License-Identifier: MIT */
#pragma once

/* The publish and version-read commands (tools/cmd_publish.c). */

struct cli;

int cmd_publish(struct cli *c);
int cmd_get_package_version_asset(struct cli *c);
int cmd_get_package_version_readme(struct cli *c);
int cmd_list_package_version_dependencies(struct cli *c);
