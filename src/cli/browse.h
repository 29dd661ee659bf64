/*
 * browse.h - printing tree entries for `vigil ls` and `vigil diff`.
 */
#ifndef VG_CLI_BROWSE_H
#define VG_CLI_BROWSE_H

#include <jansson.h>

#include "repo/tree.h"

/* "-rw-r--r--  ann  staff  1.2 KiB  2024-05-01 13:45:07  path" */
void cli_entry_print(const char *path, const struct vg_tree_entry *e);
json_t *cli_entry_json(const char *path, const struct vg_tree_entry *e);

#endif
