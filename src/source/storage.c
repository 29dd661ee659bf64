/*
 * storage.c - mountinfo parsing and the sysfs walk from a block device to
 * md arrays and physical disks (storage.h).
 *
 * mountinfo lines (proc(5)):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw
 * fields: id, parent, major:minor, root, mount point, options, optional
 * fields up to "-", then fstype, source, super options.  Mount point and
 * source escape space, TAB, newline and backslash as \ooo.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "source/probe.h"
#include "source/storage.h"

#define MOUNTS_MAX 65536
#define WALK_DEPTH 16

static char *unescape(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			o[k++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = 0;
	return o;
}

void vg_mounts_release(struct vg_mounts *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].mnt);
		free(m->v[i].fstype);
		free(m->v[i].source);
	}
	free(m->v);
	memset(m, 0, sizeof *m);
}

static int add_mount(struct vg_mounts *m, const char *tok[], const size_t tn[], unsigned maj,
		     unsigned min)
{
	if (m->n >= MOUNTS_MAX)
		return 0;
	if (!vg_hl_grow((void **)&m->v, &m->cap, m->n, sizeof *m->v, MOUNTS_MAX))
		return VG_ERR(VG_ENOMEM, "out of memory reading mountinfo");
	struct vg_mount *x = &m->v[m->n];
	x->mnt = unescape(tok[0], tn[0]);
	x->fstype = unescape(tok[1], tn[1]);
	x->source = unescape(tok[2], tn[2]);
	x->maj = maj;
	x->min = min;
	if (!x->mnt || !x->fstype || !x->source) {
		free(x->mnt);
		free(x->fstype);
		free(x->source);
		return VG_ERR(VG_ENOMEM, "out of memory reading mountinfo");
	}
	m->n++;
	return 0;
}

int vg_mountinfo_parse(const char *buf, size_t len, struct vg_mounts *out)
{
	size_t pos = 0, n;
	const char *line;
	while (vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *s = line, *t[64];
		size_t sn = n, tn[64];
		int k = 0;
		while (k < 64 && vg_hl_token(&s, &sn, &t[k], &tn[k]))
			k++;
		int dash = -1;
		for (int i = 6; i < k; i++)
			if (tn[i] == 1 && t[i][0] == '-') {
				dash = i;
				break;
			}
		char mm[32];
		unsigned maj, min;
		char extra;
		if (k < 10 || dash < 0 || dash + 2 >= k || tn[2] >= sizeof mm)
			continue;
		memcpy(mm, t[2], tn[2]);
		mm[tn[2]] = 0;
		if (sscanf(mm, "%u:%u%c", &maj, &min, &extra) != 2 || t[4][0] != '/')
			continue;
		const char *f[3] = {t[4], t[dash + 1], t[dash + 2]};
		const size_t fn[3] = {tn[4], tn[dash + 1], tn[dash + 2]};
		int err = add_mount(out, f, fn, maj, min);
		if (err)
			return err;
	}
	if (!out->n)
		return VG_ERR(VG_EINVAL, "no mount could be read from mountinfo");
	return 0;
}

const struct vg_mount *vg_mounts_find(const struct vg_mounts *m, const char *path)
{
	const struct vg_mount *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < m->n; i++) {
		const char *mp = m->v[i].mnt;
		size_t l = strlen(mp);
		if (l == 1 && mp[0] == '/')
			l = 0; /* the root contains everything */
		else if (strncmp(path, mp, l) || (path[l] != 0 && path[l] != '/'))
			continue;
		if (!best || l >= best_len) { /* later mounts on the same point win */
			best = &m->v[i];
			best_len = l;
		}
	}
	return best;
}

/* ---- name sets ---- */

void vg_names_add(struct vg_names *s, const char *name)
{
	if (s->oom || vg_names_has(s, name) || s->n >= 4096)
		return;
	if (!vg_hl_grow((void **)&s->v, &s->cap, s->n, sizeof *s->v, 4096) ||
	    !(s->v[s->n] = strdup(name))) {
		s->oom = true;
		return;
	}
	s->n++;
}

bool vg_names_has(const struct vg_names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

void vg_names_release(struct vg_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* ---- sysfs ---- */

static bool join(char *out, size_t cap, const char *root, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s%s%s", root, a, b ? b : "");
	return n > 0 && (size_t)n < cap;
}

long vg_sys_read(const char *sysroot, const char *path, char *buf, size_t cap)
{
	char p[4096];
	if (!cap || !join(p, sizeof p, sysroot, path, NULL)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = 0;
	return (long)n;
}

static bool exists(const char *sysroot, const char *a, const char *b)
{
	char p[4096];
	return join(p, sizeof p, sysroot, a, b) && access(p, F_OK) == 0;
}

/* A kernel name is a plain file name: no slash, not "." or "..". */
static bool kname_ok(const char *s)
{
	return s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && strlen(s) < 64;
}

/* The last path component of a symlink's target, if p is a symlink. */
static bool link_base(const char *p, char *out, size_t cap)
{
	char t[4096];
	ssize_t n = readlink(p, t, sizeof t - 1);
	if (n <= 0)
		return false;
	t[n] = 0;
	const char *b = strrchr(t, '/');
	b = b ? b + 1 : t;
	if (!kname_ok(b) || strlen(b) >= cap)
		return false;
	strcpy(out, b);
	return true;
}

static bool is_block(const char *sysroot, const char *kname)
{
	return kname_ok(kname) && exists(sysroot, "/sys/class/block/", kname);
}

bool vg_blk_from_majmin(const char *sysroot, unsigned maj, unsigned min, char *out, size_t cap)
{
	char rel[64], p[4096];
	snprintf(rel, sizeof rel, "/sys/dev/block/%u:%u", maj, min);
	if (!join(p, sizeof p, sysroot, rel, NULL) || !link_base(p, out, cap))
		return false;
	return is_block(sysroot, out);
}

/* Call match(entry) for the entries of a sysfs directory until it returns
 * true; true if one did. */
static bool scan_dir(const char *sysroot, const char *dir,
		     bool (*match)(const char *sysroot, const char *entry, void *ctx), void *ctx)
{
	char p[4096];
	DIR *d = join(p, sizeof p, sysroot, dir, NULL) ? opendir(p) : NULL;
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)))
		if (e->d_name[0] != '.' && strlen(e->d_name) <= 64)
			found = match(sysroot, e->d_name, ctx);
	closedir(d);
	return found;
}

struct dm_find {
	const char *name;
	char *out;
	size_t cap;
};

static bool dm_match(const char *sysroot, const char *entry, void *ctx)
{
	struct dm_find *f = ctx;
	char rel[512], nm[256];
	if (strncmp(entry, "dm-", 3))
		return false;
	snprintf(rel, sizeof rel, "/sys/class/block/%s/dm/name", entry);
	if (vg_sys_read(sysroot, rel, nm, sizeof nm) <= 0 || strcmp(nm, f->name) ||
	    strlen(entry) >= f->cap)
		return false;
	strcpy(f->out, entry);
	return true;
}

/* device-mapper names ("vg-root") live in /sys/class/block/dm-N/dm/name. */
static bool dm_by_name(const char *sysroot, const char *name, char *out, size_t cap)
{
	struct dm_find f = {name, out, cap};
	return scan_dir(sysroot, "/sys/class/block", dm_match, &f);
}

bool vg_blk_from_path(const char *sysroot, const char *dev, char *out, size_t cap)
{
	char p[4096];
	if (strncmp(dev, "/dev/", 5))
		return false;
	if (join(p, sizeof p, sysroot, dev, NULL) && link_base(p, out, cap) &&
	    is_block(sysroot, out))
		return true;
	const char *b = strrchr(dev, '/') + 1;
	if (!strncmp(dev, "/dev/mapper/", 12))
		return dm_by_name(sysroot, b, out, cap);
	if (strlen(b) >= cap || !is_block(sysroot, b))
		return false;
	strcpy(out, b);
	return true;
}

bool vg_blk_from_zfs_name(const char *sysroot, const char *name, char *out, size_t cap)
{
	if (name[0] == '/')
		return vg_blk_from_path(sysroot, name, out, cap);
	static const char *const dirs[] = {"/dev/disk/by-id/", "/dev/disk/by-partuuid/",
					   "/dev/disk/by-path/", "/dev/disk/by-vdev/",
					   "/dev/mapper/", "/dev/"};
	if (!kname_ok(name))
		return false;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char dev[512];
		snprintf(dev, sizeof dev, "%s%s", dirs[i], name);
		if (vg_blk_from_path(sysroot, dev, out, cap))
			return true;
	}
	return false;
}

/* The disk a partition belongs to: sysfs puts a partition's directory
 * inside its disk's ("block/sda/sda1"); recorded trees without links fall
 * back to the name ("sda1" -> "sda", "nvme0n1p2" -> "nvme0n1"). */
static bool parent_disk(const char *sysroot, const char *kname, char *out, size_t cap)
{
	char p[4096], t[4096];
	if (join(p, sizeof p, sysroot, "/sys/class/block/", kname)) {
		ssize_t n = readlink(p, t, sizeof t - 1);
		if (n > 0) {
			t[n] = 0;
			char *last = strrchr(t, '/');
			if (last) {
				*last = 0;
				char *prev = strrchr(t, '/');
				prev = prev ? prev + 1 : t;
				if (kname_ok(prev) && strlen(prev) < cap && is_block(sysroot, prev)) {
					strcpy(out, prev);
					return true;
				}
			}
		}
	}
	size_t l = strlen(kname);
	if (l >= cap)
		return false;
	memcpy(out, kname, l + 1);
	while (l && out[l - 1] >= '0' && out[l - 1] <= '9')
		out[--l] = 0;
	if (l > 1 && out[l - 1] == 'p' && out[l - 2] >= '0' && out[l - 2] <= '9')
		out[--l] = 0; /* nvme0n1p2, mmcblk0p1 */
	return l && is_block(sysroot, out);
}

/* Disks whose health is not theirs to report: virtual (virtio, Xen),
 * memory, loop and network block devices, optical drives, zvols. */
static bool virtual_disk(const char *k)
{
	static const char *const pre[] = {"loop", "ram", "zram", "nbd", "vd", "xvd", "sr", "zd"};
	for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
		if (!strncmp(k, pre[i], strlen(pre[i])))
			return true;
	return false;
}

static void walk(const char *sysroot, const char *kname, struct vg_names *disks,
		 struct vg_names *mds, struct vg_names *virt, int depth)
{
	if (depth > WALK_DEPTH || !is_block(sysroot, kname))
		return;
	char rel[512];
	snprintf(rel, sizeof rel, "/sys/class/block/%s/md", kname);
	if (exists(sysroot, rel, NULL))
		vg_names_add(mds, kname);
	char p[4096];
	snprintf(rel, sizeof rel, "/sys/class/block/%s/slaves", kname);
	int nslaves = 0;
	DIR *d = join(p, sizeof p, sysroot, rel, NULL) ? opendir(p) : NULL;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' || !kname_ok(e->d_name))
				continue;
			nslaves++;
			walk(sysroot, e->d_name, disks, mds, virt, depth + 1);
		}
		closedir(d);
	}
	if (nslaves)
		return;
	snprintf(rel, sizeof rel, "/sys/class/block/%s/partition", kname);
	char parent[64];
	if (exists(sysroot, rel, NULL)) {
		if (parent_disk(sysroot, kname, parent, sizeof parent))
			walk(sysroot, parent, disks, mds, virt, depth + 1);
		return;
	}
	if (!virtual_disk(kname))
		vg_names_add(disks, kname);
	else if (virt)
		vg_names_add(virt, kname);
}

void vg_blk_walk(const char *sysroot, const char *kname, struct vg_names *disks,
		 struct vg_names *mds, struct vg_names *virt)
{
	walk(sysroot, kname, disks, mds, virt, 0);
}

struct btrfs_find {
	const char *kname;
	struct vg_names *members;
};

static bool member_add(const char *sysroot, const char *entry, void *ctx)
{
	(void)sysroot;
	if (kname_ok(entry))
		vg_names_add(ctx, entry);
	return false;
}

static bool btrfs_match(const char *sysroot, const char *fsid, void *ctx)
{
	struct btrfs_find *f = ctx;
	char rel[512];
	snprintf(rel, sizeof rel, "/sys/fs/btrfs/%s/devices/%s", fsid, f->kname);
	if (!exists(sysroot, rel, NULL))
		return false;
	snprintf(rel, sizeof rel, "/sys/fs/btrfs/%s/devices", fsid);
	scan_dir(sysroot, rel, member_add, f->members);
	return true;
}

bool vg_btrfs_members(const char *sysroot, const char *kname, struct vg_names *members)
{
	struct btrfs_find f = {kname, members};
	return kname_ok(kname) && scan_dir(sysroot, "/sys/fs/btrfs", btrfs_match, &f);
}
