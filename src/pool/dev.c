/*
 * dev.c - a device's open segment files and error counters.
 *
 * Each device keeps up to VG_SEG_CACHE segment files open.  A handle in use
 * (refs > 0) is never closed; an idle one is evicted least-recently-used,
 * after a sync if it holds unsynced writes (syncing early is always safe:
 * nothing commits until the uberblock is written).  All of this is under
 * p->lock; the I/O itself happens outside it, on handles pinned by refs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "pool/impl.h"

char *vg_seg_path(const char *dev, uint32_t seg)
{
	char name[32];
	snprintf(name, sizeof name, "seg-%08x", seg);
	return vg_path_join(dev, name);
}

bool vg_dev_usable(const struct vg_pool *p, int d)
{
	enum vg_dev_state s = p->dev[d].state;
	return s == VG_DEV_ONLINE || s == VG_DEV_DEGRADED;
}

void vg_dev_count(struct vg_pool *p, int d, int which)
{
	pthread_mutex_lock(&p->lock);
	struct vg_dev *dev = &p->dev[d];
	if (which == 'r')
		dev->read_errs++;
	else if (which == 'w')
		dev->write_errs++;
	else
		dev->cksum_errs++;
	p->stats_dirty = true;
	pthread_mutex_unlock(&p->lock);
}

/* Slots never move (other threads hold pointers to pinned ones); a free
 * slot has f == NULL.  Returns a free slot, evicting an idle one if needed. */
static int free_slot(struct vg_dev *dev, struct vg_seg_handle **out)
{
	int victim = -1;
	for (int i = 0; i < VG_SEG_CACHE; i++) {
		if (!dev->seg[i].f) {
			*out = &dev->seg[i];
			return 0;
		}
		if (dev->seg[i].refs == 0 && (victim < 0 || dev->seg[i].lru < dev->seg[victim].lru))
			victim = i;
	}
	if (victim < 0)
		return VG_ERR(VG_EBUSY, "too many segment files in use on '%s'", dev->path);
	struct vg_seg_handle *h = &dev->seg[victim];
	/* A failed early sync means writes may be lost: the next commit must
	 * know, so it is remembered on the device rather than returned here. */
	if (h->dirty && vg_os_sync(h->f))
		dev->lost_writes = true;
	vg_os_close(h->f);
	memset(h, 0, sizeof *h);
	*out = h;
	return 0;
}

int vg_dev_get(struct vg_pool *p, int d, uint32_t seg, bool create, struct vg_seg_handle **out)
{
	struct vg_dev *dev = &p->dev[d];
	int err = 0;
	char *path = NULL;
	struct vg_file *f = NULL;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < VG_SEG_CACHE; i++) {
		if (dev->seg[i].f && dev->seg[i].seg == seg) {
			dev->seg[i].refs++;
			dev->seg[i].lru = ++p->lru_clock;
			*out = &dev->seg[i];
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
	}
	struct vg_seg_handle *h = NULL;
	if ((err = free_slot(dev, &h)))
		goto out;
	path = vg_seg_path(dev->path, seg);
	if (!path) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	/* Opening under the lock keeps the cache consistent; opens are rare. */
	err = vg_os_open(p->os, path, create ? (VG_O_RDWR | VG_O_CREAT) : (p->writable ? VG_O_RDWR : 0), &f);
	if (err == VG_ENOENT && !create) {
		err = VG_ERR(VG_EIO, "segment file '%s' is missing", path);
		goto out;
	}
	if (err)
		goto out;
	h->seg = seg;
	h->f = f;
	h->refs = 1;
	h->dirty = false;
	h->lru = ++p->lru_clock;
	if (create)
		dev->new_files = true; /* conservatively: we may have created it */
	*out = h;
out:
	pthread_mutex_unlock(&p->lock);
	free(path);
	return err;
}

void vg_dev_put(struct vg_pool *p, struct vg_seg_handle *h, bool wrote)
{
	pthread_mutex_lock(&p->lock);
	h->refs--;
	if (wrote)
		h->dirty = true;
	pthread_mutex_unlock(&p->lock);
}

int vg_dev_sync(struct vg_pool *p, int d)
{
	struct vg_dev *dev = &p->dev[d];
	int err = 0;
	for (int i = 0; i < VG_SEG_CACHE; i++) {
		if (!dev->seg[i].f || !dev->seg[i].dirty)
			continue;
		err = vg_os_sync(dev->seg[i].f);
		if (err)
			return err;
		dev->seg[i].dirty = false;
	}
	if (dev->new_files) {
		err = vg_os_syncdir(p->os, dev->path);
		if (err)
			return err;
		dev->new_files = false;
	}
	return 0;
}

void vg_dev_close_all(struct vg_pool *p, int d)
{
	struct vg_dev *dev = &p->dev[d];
	(void)p;
	for (int i = 0; i < VG_SEG_CACHE; i++)
		vg_os_close(dev->seg[i].f);
	memset(dev->seg, 0, sizeof dev->seg);
	vg_os_close(dev->label);
	dev->label = NULL;
}
