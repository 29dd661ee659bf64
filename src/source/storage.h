/*
 * storage.h - from a path to the storage under it (not public).
 *
 * mountinfo gives the filesystem of a path (the longest mount point that
 * contains it; the last of several mounts on one point wins, as the kernel
 * shows the top one).  sysfs gives what a block device is made of: md
 * arrays (md/), device-mapper and md members (slaves/), partitions
 * (partition, parent directory) down to whole disks.  Every read goes
 * through the sysroot prefix, so tests use recorded trees.
 */
#ifndef VG_SOURCE_STORAGE_H
#define VG_SOURCE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

struct vg_mount {
	char *mnt, *fstype, *source;
	unsigned maj, min;
};

struct vg_mounts {
	struct vg_mount *v;
	size_t n, cap;
};

/* Parse /proc/self/mountinfo text.  0, VG_ENOMEM, or VG_EINVAL when no line
 * could be parsed (message set).  Malformed lines are skipped. */
int vg_mountinfo_parse(const char *buf, size_t len, struct vg_mounts *out);
void vg_mounts_release(struct vg_mounts *m);
/* The mount holding an absolute, normalized path; NULL if none. */
const struct vg_mount *vg_mounts_find(const struct vg_mounts *m, const char *path);

/* A set of short names ("sda", "md0"), kept unique and in insertion order. */
struct vg_names {
	char **v;
	size_t n, cap;
	bool oom;
};
void vg_names_add(struct vg_names *s, const char *name);
bool vg_names_has(const struct vg_names *s, const char *name);
void vg_names_release(struct vg_names *s);

/* Read a small file under sysroot into buf (NUL-terminated, trailing
 * whitespace removed).  Length, or -1 (errno set). */
long vg_sys_read(const char *sysroot, const char *path, char *buf, size_t cap);

/* Kernel block-device name of a device path ("/dev/mapper/vg-root" ->
 * "dm-0", "/dev/sda1" -> "sda1"), of a major:minor, or of a ZFS vdev name
 * ("ata-WDC_...", a by-partuuid id, "/dev/disk/by-id/...").  False when it
 * cannot be found in the (sysroot's) sysfs. */
bool vg_blk_from_path(const char *sysroot, const char *dev, char *out, size_t cap);
bool vg_blk_from_majmin(const char *sysroot, unsigned maj, unsigned min, char *out, size_t cap);
bool vg_blk_from_zfs_name(const char *sysroot, const char *name, char *out, size_t cap);

/* Walk a block device down to what it is built on: md arrays go to mds,
 * whole physical disks to disks, virtual ones (virtio, Xen, loop, ram,
 * nbd, zvol) to virt (may be NULL). */
void vg_blk_walk(const char *sysroot, const char *kname, struct vg_names *disks,
		 struct vg_names *mds, struct vg_names *virt);

/* Kernel names of the members of the btrfs filesystem that has kname as
 * one of its devices (/sys/fs/btrfs/<fsid>/devices/); false if not found. */
bool vg_btrfs_members(const char *sysroot, const char *kname, struct vg_names *members);

#endif
