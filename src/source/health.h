/*
 * health.h - the source health gate: is the storage under a path fit to be
 * backed up?
 *
 * vg_health_check() maps each source path to the storage it lives on
 * (mountinfo -> filesystem -> ZFS pool / btrfs devices / md array -> the
 * physical disks, through sysfs), runs only the probes that matter for it
 * (zpool status, btrfs device stats / filesystem show / scrub status /
 * filesystem usage, /proc/mdstat and md sysfs attributes, smartctl), all
 * tool calls concurrently and each with a timeout, and returns findings:
 * a level, the probe, the subject (pool, vdev, device), a specific message,
 * the action to take, and the figures behind it.
 *
 * Invariants (the laws this module keeps):
 *  1. Never a silent OK: output a parser does not understand, a tool that
 *     is missing, fails or hangs, and storage vigil cannot see all give a
 *     finding of level WARN (or worse) that says so.
 *  2. Every read of the system goes through opts->sysroot (mountinfo,
 *     /proc/mdstat, /sys, /dev/disk links), and every tool is found on PATH,
 *     so tests feed recorded files and fake tools.
 *  3. Parsers are pure (buffer in, findings out), bounded and fuzzable.
 *  4. Counters are remembered between runs (a JSON file in the state dir,
 *     written by rename), so a rising counter is reported as such and a
 *     cleared one is noted (INFO), not alarmed.
 *
 * Memory: everything inside a report or list is owned by it and released by
 * vg_health_report_release() / vg_health_list_release().
 */
#ifndef VG_SOURCE_HEALTH_H
#define VG_SOURCE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Ordered: the verdict is the highest level.  INFO is a note that does not
 * change the exit status (counts as OK). */
enum vg_health_level {
	VG_HEALTH_OK = 0,
	VG_HEALTH_INFO = 1,
	VG_HEALTH_WARN = 2,
	VG_HEALTH_CRIT = 3,
};

enum vg_health_probe {
	VG_PROBE_MOUNT = 0, /* path -> storage mapping, "not inspectable" */
	VG_PROBE_ZFS,
	VG_PROBE_BTRFS,
	VG_PROBE_MD,
	VG_PROBE_SMART,
	VG_PROBE_SCRUB_AGE,
	VG_PROBE_STATE, /* the gate's own memory between runs */
};

/* One figure behind a finding: a counter (is_num) or a short text. */
struct vg_health_fig {
	char *key;
	char *str; /* NULL when is_num */
	int64_t num;
	bool is_num;
};

struct vg_health_finding {
	enum vg_health_level level;
	enum vg_health_probe probe;
	char *subject; /* "tank", "tank/sdc", "sdb", "/srv" */
	char *message; /* one line, names pool, device and counters */
	char *action;  /* what to do; NULL when nothing */
	struct vg_health_fig *figs;
	size_t nfigs;
};

/* A counter the gate remembers between runs (see memory.c). */
struct vg_health_counter {
	enum vg_health_probe probe;
	char *key;     /* stable identity: "smart:WD-XYZ", "zfs:tank:sdc" */
	char *subject; /* the finding subject it belongs to: "sdb" */
	char *name;    /* "checksum errors", "reallocated sectors" */
	uint64_t value;
	enum vg_health_level rise_level; /* at least this when it rose */
};

struct vg_health_list {
	struct vg_health_finding *v;
	size_t n, cap;
	struct vg_health_counter *c;
	size_t nc, capc;
	bool oom; /* an allocation failed: the list is incomplete */
};

/* Storage named explicitly where detection cannot see it (containers,
 * tests): the config keys zfs-pool, btrfs-mount, md-device, disks. */
struct vg_health_hint {
	const char *zfs_pool;
	const char *btrfs_mount;
	const char *md_device;     /* "md0" or "/dev/md0" */
	const char *const *disks;  /* NULL-terminated "/dev/sda" ..., or NULL */
	bool allow_uninspectable;  /* this path may be on storage vigil cannot see */
};

struct vg_health_opts {
	const char *sysroot;    /* prefix for /proc, /sys, /dev; NULL: $VIGIL_SYSROOT or none */
	const char *state_file; /* NULL: state dir "health/counters.json"; "" : no memory */
	time_t now;             /* 0: time(NULL); tests fix it */
	int timeout_ms;         /* per tool call; 0: 15000 */
	int scrub_warn_days;    /* 0: 35 */
	int scrub_crit_days;    /* 0: twice scrub_warn_days */
	bool allow_uninspectable;  /* "not inspectable" is INFO instead of WARN */
	bool no_smart;          /* skip SMART (e.g. USB bridges that hang) */
	const struct vg_health_hint *hints; /* NULL or one per path */
};

struct vg_health_source {
	char *path;       /* as given */
	char *fstype;     /* "zfs", "ext4", ... or NULL when unknown */
	char *device;     /* mount source: "tank/home", "/dev/md0" */
	char *mountpoint;
	char *storage;    /* human: "zfs pool tank", "md0 on sda, sdb" */
	struct vg_health_list findings;
	enum vg_health_level verdict;
};

struct vg_health_report {
	struct vg_health_source *sources;
	size_t nsources;
	enum vg_health_level verdict;
	long elapsed_ms;
};

/* Check the storage under each path (NULL-terminated).  Returns 0 whenever
 * a report was produced (whatever its verdict); VG_EINVAL for bad options,
 * VG_ENOMEM.  Problems with tools, parsing or the state file are findings,
 * not errors. */
int vg_health_check(const char *const *paths, const struct vg_health_opts *opts,
		    struct vg_health_report *out);
void vg_health_report_release(struct vg_health_report *r);

/* "OK", "INFO", "WARN", "CRIT" / "zfs", "btrfs", ... */
const char *vg_health_level_name(enum vg_health_level l);
const char *vg_health_probe_name(enum vg_health_probe p);

/* For the backup workflow: the verdict, and (into buf) one paragraph naming
 * the worst findings (pool, device, counters) and what to do, e.g.
 * "CRIT: /srv on zfs pool tank: sdc FAULTED with 8 read, 126 write errors;
 * ...".  Returns the verdict. */
enum vg_health_level vg_health_summary(const struct vg_health_report *r, char *buf, size_t len);

/* The report as JSON text (malloc'd, NUL-terminated); NULL on ENOMEM. */
char *vg_health_report_json(const struct vg_health_report *r);

/* Scrub age, reusable for the vault's own scrub: adds one finding for
 * subject (probe VG_PROBE_SCRUB_AGE) given the end time of the last
 * completed scrub (0: never).  WARN past warn_days, CRIT past crit_days
 * (0: the defaults 35 / 2x). */
int vg_health_scrub_age(struct vg_health_list *out, const char *subject, time_t last_scrub,
			time_t now, int warn_days, int crit_days, const char *action);

/* Finding lists (used by probes and tests). */
void vg_health_list_release(struct vg_health_list *l);
/* Worst level in the list (OK when empty). */
enum vg_health_level vg_health_list_level(const struct vg_health_list *l);

/* Pure parsers, buffer -> findings, for tests and fuzzing.  subject filters
 * to one pool (zpool) and names the device in messages; NULL for all / a
 * generic name.  now and the scrub thresholds come from opts (NULL:
 * defaults).  They return 0 or VG_ENOMEM: an input they do not understand is
 * a WARN finding "cannot parse ...", never an error and never an OK. */
int vg_zpool_parse_text(const char *buf, size_t len, const char *pool,
			const struct vg_health_opts *opts, struct vg_health_list *out);
int vg_zpool_parse_json(const char *buf, size_t len, const char *pool,
			const struct vg_health_opts *opts, struct vg_health_list *out);
int vg_smart_parse_json(const char *buf, size_t len, const char *dev,
			const struct vg_health_opts *opts, struct vg_health_list *out);
int vg_mdstat_parse(const char *buf, size_t len, const char *md,
		    const struct vg_health_opts *opts, struct vg_health_list *out);

/* btrfs: the four tool outputs of one filesystem, each may be NULL (not
 * run or failed: the caller reports that). */
struct vg_btrfs_outputs {
	const char *stats, *show, *scrub, *usage;
	size_t stats_len, show_len, scrub_len, usage_len;
};
int vg_btrfs_parse(const struct vg_btrfs_outputs *in, const char *mount,
		   const struct vg_health_opts *opts, struct vg_health_list *out);

#endif
