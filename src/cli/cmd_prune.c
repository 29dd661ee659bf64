/*
 * cmd_prune.c - `vigil prune`: apply a retention policy (if given), then
 * reclaim the space no remaining snapshot uses.  Options as `forget`
 * (cmd_forget.c); without a policy it only reclaims.
 */
#include <stdbool.h>

#include "cli/cli.h"
#include "cli/forget.h"

int cmd_prune(int argc, char **argv) { return cli_forget_main(argc, argv, true); }
