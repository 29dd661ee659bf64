/*
 * health_config.h - the health gate's part of the config file (INI, read
 * with inih; docs/HEALTH.md "Configuration").
 *
 *   [health]                       thresholds and defaults
 *   scrub-warn-days = 35           scrub age that warns (critical: scrub-crit-days,
 *   scrub-crit-days = 70           default twice the warning age)
 *   timeout = 15                   seconds per tool call
 *   allow-uninspectable = no       NFS/tmpfs/overlay sources: note instead of warning
 *   smart = yes                    run smartctl
 *   state-file = PATH              counters memory (default: the state dir)
 *
 *   [source "NAME"]                one per backup source
 *   path = /srv/data
 *   zfs-pool = tank                storage named where detection cannot see it
 *   btrfs-mount = /mnt/pool
 *   md-device = md0
 *   disks = /dev/sda /dev/sdb
 *   allow-uninspectable = yes
 *   on-critical = refuse | suspect (read by the backup workflow; default refuse)
 *
 * Sections other than these belong to other modules and are skipped; keys
 * of [source] sections this module does not know are left to the others,
 * unknown keys of [health] are an error (a typo must not silently disable
 * a check).  Values are bounded; at most VG_HEALTH_MAX_SOURCES sources.
 */
#ifndef VG_SOURCE_HEALTH_CONFIG_H
#define VG_SOURCE_HEALTH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "source/health.h"

#define VG_HEALTH_MAX_SOURCES 256
#define VG_HEALTH_MAX_DISKS 32

enum vg_on_critical { VG_ON_CRITICAL_REFUSE = 0, VG_ON_CRITICAL_SUSPECT };

struct vg_health_config_source {
	char *name, *path;
	char *zfs_pool, *btrfs_mount, *md_device;
	char *disks[VG_HEALTH_MAX_DISKS + 1]; /* NULL-terminated */
	enum vg_on_critical on_critical;
	struct vg_health_hint hint; /* points into the strings above */
};

struct vg_health_config {
	int scrub_warn_days, scrub_crit_days, timeout_s; /* 0: not set */
	int allow_uninspectable, smart;                  /* -1: not set, else 0/1 */
	char *state_file;
	struct vg_health_config_source *sources;
	size_t nsources;
	char *file; /* the file read, or NULL when none */
};

/* Read the config (explicit path, else $VIGIL_CONFIG, else the default
 * location; a missing default file is an empty config).  VG_ENOENT when an
 * explicit file is missing, VG_EINVAL with "file:line: what" for bad
 * content, VG_ENOMEM. */
int vg_health_config_load(const char *explicit_path, struct vg_health_config *cfg);
void vg_health_config_release(struct vg_health_config *cfg);
/* Fill the options the config sets and opts leaves at 0 / false. */
void vg_health_config_apply(const struct vg_health_config *cfg, struct vg_health_opts *opts);
/* The hint of the source whose path holds path (longest match), or an
 * empty hint. */
struct vg_health_hint vg_health_config_hint(const struct vg_health_config *cfg, const char *path);
/* The source holding path, or NULL. */
const struct vg_health_config_source *vg_health_config_source(const struct vg_health_config *cfg,
							      const char *path);

#endif
