/*
 * paths.h - where vigil keeps its own files on the host.
 *
 * State that must survive between runs but is not part of any vault (the
 * health gate's last-seen counters, alert dedup state and the alert spool)
 * lives under one state directory:
 *   $VIGIL_STATE_DIR if set, else /var/lib/vigil for root, else
 *   $XDG_STATE_HOME/vigil, else $HOME/.local/state/vigil.
 * The config file is --config FILE, else $VIGIL_CONFIG, else
 * /etc/vigil/vigil.conf for root, else $XDG_CONFIG_HOME/vigil/vigil.conf
 * (else $HOME/.config/vigil/vigil.conf); a missing default file is not an error.
 */
#ifndef VG_BASE_PATHS_H
#define VG_BASE_PATHS_H

#include <stddef.h>

/* Writes the state directory into buf and creates it (mode 0700) with its
 * parents if missing.  VG_EINVAL if it does not fit, VG_EPERM etc. if it
 * cannot be created (message names it). */
int vg_state_dir(char *buf, size_t len);
/* A file inside the state directory ("health/counters.json" creates the
 * "health" subdirectory). */
int vg_state_path(const char *rel, char *buf, size_t len);
/* The config file path (explicit wins); *is_default tells whether it may be
 * absent. */
int vg_config_path(const char *explicit_path, char *buf, size_t len, int *is_default);

#endif
