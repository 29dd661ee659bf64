/*
 * forget.h - `forget` and `prune` share one implementation (cmd_forget.c):
 * prune is forget that always reclaims space and needs no policy.
 */
#ifndef VG_CLI_FORGET_H
#define VG_CLI_FORGET_H

#include <stdbool.h>

int cli_forget_main(int argc, char **argv, bool prune);

#endif
