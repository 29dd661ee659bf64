/*
 * pool.c - creating, opening, committing and closing a vault.
 *
 * Theory of the commit (the invariants every change here keeps):
 *  1. Committed state is exactly what the newest valid uberblock names: its
 *     root bp, its allocation cursor, its counters.  Nothing else on disk
 *     is trusted.
 *  2. vg_pool_write() only writes rows at or beyond the cursor of the last
 *     commit, so no committed block is ever overwritten (self-heal repairs
 *     rewrite a block's own bytes, which changes nothing a reader sees).
 *  3. A commit makes every segment write durable (fdatasync, and the
 *     directory when files were added) BEFORE any uberblock is written, then
 *     writes the uberblock for txg T+1 into slot (T+1) mod 32 of every
 *     device's ring and flushes it.  A device failing that write is
 *     FAULTED; the commit stands while the vault is not FAULTED.  A crash before the first uberblock
 *     write is durable leaves T; after it, T+1 - both complete states.
 *  4. Opening reads the ring of every reachable device, and takes the
 *     newest uberblock (highest txg) that is intact AND whose root block
 *     reads and verifies; older ones are the fallback.  Torn or rotten
 *     slots are skipped, never half-believed.  Each candidate's root is
 *     read from the devices that candidate names (the labels may already
 *     list a replacement it never committed), and a device index rebound
 *     to another device keeps nothing of the previous one (open segment
 *     files, counters, dirty time log).
 *  5. A commit that fails after writing anything leaves memory and disk out
 *     of step: the handle turns read-only (p->sticky) until reopened.
 *  6. Opening never writes unless the vault opened whole enough to use
 *     (not FAULTED) and the caller asked for a writable handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/bytes.h"
#include "base/err.h"
#include "pool/impl.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int random_u64(uint64_t *out)
{
	uint64_t v = 0;
	while (v == 0)
		if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
			return VG_ERRNO(errno, "cannot get random numbers");
	*out = v;
	return 0;
}

const char *vg_dev_state_name(enum vg_dev_state s)
{
	switch (s) {
	case VG_DEV_ONLINE: return "ONLINE";
	case VG_DEV_DEGRADED: return "DEGRADED";
	case VG_DEV_FAULTED: return "FAULTED";
	case VG_DEV_UNAVAIL: return "UNAVAIL";
	case VG_DEV_OFFLINE: return "OFFLINE";
	}
	return "?";
}

const char *vg_pool_state_name(enum vg_pool_state s)
{
	switch (s) {
	case VG_POOL_ONLINE: return "ONLINE";
	case VG_POOL_DEGRADED: return "DEGRADED";
	case VG_POOL_FAULTED: return "FAULTED";
	}
	return "?";
}

struct vg_os *vg_pool_os(const struct vg_pool *p) { return p->os; }

/* Read and decode the better of the two label copies in an open label file. */
static int read_label(struct vg_file *f, const char *dev, struct vg_label *out)
{
	uint8_t *buf = malloc(2 * VG_LABEL_SIZE);
	size_t got = 0;
	int err;
	if (!buf)
		return VG_ERR(VG_ENOMEM, "out of memory");
	if ((err = vg_os_pread(f, buf, 2 * VG_LABEL_SIZE, 0, &got)))
		goto out;
	struct vg_label l[2];
	int e0 = vg_label_decode(buf, got, &l[0], dev);
	char msg0[256];
	snprintf(msg0, sizeof msg0, "%s", vg_errmsg());
	int e1 = got > VG_LABEL_SIZE ? vg_label_decode(buf + VG_LABEL_SIZE, got - VG_LABEL_SIZE, &l[1], dev)
				     : VG_ECORRUPT;
	if (!e0 && (e1 || l[0].gen >= l[1].gen))
		*out = l[0];
	else if (!e1)
		*out = l[1];
	else
		err = VG_ERR(e0 == VG_ENOENT && got < 8 ? VG_ENOENT : e0, "%s", msg0);
out:
	free(buf);
	return err;
}

static int open_label(struct vg_os *os, const char *dev, bool rw, struct vg_file **f, struct vg_label *l)
{
	struct vg_os_stat st;
	int err = vg_os_stat(os, dev, &st);
	if (err)
		return err;
	if (!st.exists)
		return VG_ERR(VG_ENOENT, "no vault device at '%s': the directory does not exist", dev);
	if (!st.is_dir)
		return VG_ERR(VG_EINVAL, "'%s' is not a directory", dev);
	char *lp = vg_path_join(dev, VG_LABEL_NAME);
	if (!lp)
		return VG_ERR(VG_ENOMEM, "out of memory");
	err = vg_os_open(os, lp, rw ? VG_O_RDWR : VG_O_RDONLY, f);
	free(lp);
	if (err == VG_ENOENT)
		return VG_ERR(VG_ENOENT, "'%s' is not a vigil vault device (no label file)", dev);
	if (err)
		return err;
	err = read_label(*f, dev, l);
	if (err) {
		vg_os_close(*f);
		*f = NULL;
	}
	return err;
}

static void pool_free(struct vg_pool *p)
{
	if (!p)
		return;
	for (int d = 0; d < p->ndevs; d++)
		vg_dev_close_all(p, d);
	vg_os_close(p->readers);
	vg_pool_bufs_free(p);
	free(p->errs);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static struct vg_pool *pool_alloc(struct vg_os *os)
{
	struct vg_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->os = os;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void set_path(char dst[VG_MAX_PATH + 1], const char *src)
{
	size_t n = strlen(src);
	if (n > VG_MAX_PATH)
		n = VG_MAX_PATH;
	memmove(dst, src, n);
	dst[n] = 0;
}

/* Forget the device bound at index d: its label and segment handles, its
 * counters and dirty time log.  A handle kept across a rebind would send
 * the next device's reads and repairs to the previous device's files. */
static void unbind_dev(struct vg_pool *p, int d, uint64_t guid, const char *path)
{
	struct vg_dev *dev = &p->dev[d];
	char keep[VG_MAX_PATH + 1];
	set_path(keep, path); /* path may be dev->path itself */
	vg_dev_close_all(p, d);
	memset(dev, 0, sizeof *dev);
	set_path(dev->path, keep);
	dev->guid = guid;
	dev->state = VG_DEV_ONLINE;
}

/* Bind index d to the device with the given guid at path: open its label
 * and check it is that device of this vault.  Leaves UNAVAIL and a reason
 * on failure. */
static void bind_dev(struct vg_pool *p, int d, uint64_t guid, const char *path, bool rw)
{
	struct vg_dev *dev = &p->dev[d];
	struct vg_label l;
	unbind_dev(p, d, guid, path);
	int err = open_label(p->os, dev->path, rw, &dev->label, &l);
	if (!err && (l.vault_guid != p->vault_guid || l.dev_guid != guid)) {
		err = VG_ERR(VG_EINVAL, "%s", l.vault_guid != p->vault_guid ? "holds a device of another vault"
									    : "holds another device of this vault");
		vg_os_close(dev->label);
		dev->label = NULL;
	}
	if (err) {
		dev->state = VG_DEV_UNAVAIL;
		snprintf(dev->reason, sizeof dev->reason, "%s", vg_errmsg());
	}
}

/* Member d, missing at its recorded path, among the candidates the user
 * named: the first whose label is that device of this vault is bound,
 * and the in-memory label points there (later rebinds, and
 * vg_pool_save_paths(), use it).  Else the recorded path and its reason
 * stand. */
static void bind_candidate(struct vg_pool *p, int d, struct vg_member *m, const char *const *cands, int ncands,
			   bool rw)
{
	char why[sizeof p->dev[d].reason];
	snprintf(why, sizeof why, "%s", p->dev[d].reason);
	for (int i = 0; i < ncands; i++) {
		if (strlen(cands[i]) > VG_MAX_PATH || !strcmp(cands[i], m->path))
			continue;
		bind_dev(p, d, m->guid, cands[i], rw);
		if (vg_dev_usable(p, d)) {
			set_path(m->path, cands[i]);
			return;
		}
	}
	bind_dev(p, d, m->guid, m->path, rw);
	snprintf(p->dev[d].reason, sizeof p->dev[d].reason, "%s", why);
}

/* The members are the devices the uberblock p->ub names: a replacement
 * whose uberblock never committed falls back to the device it was
 * replacing, and a device the uberblock no longer names is not used.
 * Called for every candidate uberblock before its root is read, so that
 * the read (and what it repairs) goes to that state's devices; a device
 * newly bound on a writable handle is locked first (VG_EBUSY if held). */
static int bind_to_uber(struct vg_pool *p)
{
	for (int d = 0; d < p->ndevs; d++) {
		uint64_t want = p->ub.dev[d].guid;
		const struct vg_member *m = &p->label.member[d];
		if (p->dev[d].guid == want)
			continue;
		if (m->guid == want || m->prev_guid == want) {
			bind_dev(p, d, want, m->guid == want ? m->path : m->prev_path, p->writable);
			int err = p->writable && vg_dev_usable(p, d) ? vg_os_lock(p->dev[d].label) : 0;
			if (err)
				return err;
			continue;
		}
		unbind_dev(p, d, want, p->dev[d].path);
		p->dev[d].state = VG_DEV_UNAVAIL;
		snprintf(p->dev[d].reason, sizeof p->dev[d].reason,
			 "the vault expects device %016llx here; open the vault through a current member",
			 (unsigned long long)want);
	}
	return 0;
}

/* Devices the uberblock says were taken offline are not used (p->ub is
 * the candidate being considered). */
static void apply_offline(struct vg_pool *p)
{
	for (int d = 0; d < p->ndevs; d++) {
		if (p->dev[d].state == VG_DEV_OFFLINE) {
			p->dev[d].state = VG_DEV_ONLINE;
			p->dev[d].reason[0] = 0;
		}
		for (int k = 0; k < p->ub.ndevs; k++)
			if (p->ub.dev[k].guid == p->dev[d].guid && (p->ub.dev[k].flags & VG_UBDEV_OFFLINE) &&
			    vg_dev_usable(p, d)) {
				p->dev[d].state = VG_DEV_OFFLINE;
				snprintf(p->dev[d].reason, sizeof p->dev[d].reason,
					 "taken offline; bring it back with 'vigil online'");
			}
	}
}

/* Try the candidate uberblocks newest first; keep the first whose root
 * verifies. */
static int choose_uber(struct vg_pool *p, struct vg_uber *cand, int ncand)
{
	/* insertion sort by txg, descending (ncand <= 12 * 32) */
	for (int i = 1; i < ncand; i++) {
		struct vg_uber t = cand[i];
		int j = i - 1;
		while (j >= 0 && cand[j].txg < t.txg) {
			cand[j + 1] = cand[j];
			j--;
		}
		cand[j + 1] = t;
	}
	int last_err = VG_ERR(VG_ECORRUPT, "no intact uberblock on any device");
	uint64_t tried = UINT64_MAX;
	bool root_failed = false;
	for (int i = 0; i < ncand; i++) {
		if (cand[i].txg == tried)
			continue;
		tried = cand[i].txg;
		p->ub = cand[i];
		p->cursor_seg = cand[i].cursor_seg;
		p->cursor_off = cand[i].cursor_off;
		int err = bind_to_uber(p);
		if (err)
			return err;
		apply_offline(p);
		for (int d = 0; d < p->ndevs; d++) {
			for (int k = 0; k < cand[i].ndevs; k++) {
				if (cand[i].dev[k].guid != p->dev[d].guid)
					continue;
				p->dev[d].read_errs = cand[i].dev[k].read_errs;
				p->dev[d].write_errs = cand[i].dev[k].write_errs;
				p->dev[d].cksum_errs = cand[i].dev[k].cksum_errs;
				p->dev[d].dtl_start = cand[i].dev[k].dtl_start;
				p->dev[d].dtl_end = cand[i].dev[k].dtl_end;
				/* Back again: everything from the next txg on is
				 * written to it, so its gap ends there. */
				if (p->dev[d].dtl_start && !p->dev[d].dtl_end && vg_dev_usable(p, d))
					p->dev[d].dtl_end = cand[i].txg + 1;
			}
			/* A replacement still being rebuilt: the device it replaced
			 * stays the source of last resort across restarts. */
			const struct vg_member *m = &p->label.member[d];
			bool rebuilding = p->dev[d].dtl_start && m->prev_guid && m->guid == p->dev[d].guid;
			set_path(p->dev[d].old_path, rebuilding ? m->prev_path : "");
		}
		/* An older state with no root at all is the empty vault of txg 1:
		 * never a fallback for a newer one whose root is unreadable (that
		 * would show a damaged vault as empty). */
		if (!cand[i].has_root)
			return root_failed ? vg_err_prefix(last_err, "the vault's newest state is unreadable") : 0;
		root_failed = true; /* until its read below succeeds */
		uint8_t *buf = malloc(cand[i].root.psize);
		if (!buf)
			return VG_ERR(VG_ENOMEM, "out of memory");
		last_err = vg_pool_read(p, &cand[i].root, buf);
		free(buf);
		if (!last_err)
			return 0;
	}
	return vg_err_prefix(last_err, "cannot find a usable uberblock");
}

/* Load the error log the chosen uberblock names.  An unreadable log (it
 * has three copies) is not fatal: the vault works, the list starts empty. */
static void load_errlog(struct vg_pool *p)
{
	/* damage met while choosing the uberblock belongs to states not taken */
	free(p->errs);
	p->errs = NULL;
	p->nerrs = 0;
	p->errs_dirty = false;
	if (!p->ub.has_errlog)
		return;
	uint8_t *buf = malloc(p->ub.errlog.psize);
	if (buf && !vg_pool_read(p, &p->ub.errlog, buf) && p->ub.errlog.psize >= 4) {
		uint32_t n = vg_get32(buf);
		if (n <= VG_ERRLOG_MAX && 4 + (size_t)n * VG_BP_SIZE == p->ub.errlog.psize &&
		    (p->errs = calloc(n ? n : 1, sizeof *p->errs))) {
			for (uint32_t i = 0; i < n; i++)
				if (!vg_bp_decode(buf + 4 + (size_t)i * VG_BP_SIZE, &p->errs[p->nerrs]))
					p->nerrs++;
		}
	}
	free(buf);
}

void vg_pool_errlog_add(struct vg_pool *p, const struct vg_bp *bp)
{
	pthread_mutex_lock(&p->lock);
	bool known = false;
	for (size_t i = 0; i < p->nerrs && !known; i++)
		known = !memcmp(&p->errs[i], bp, sizeof *bp);
	if (!known && p->nerrs < VG_ERRLOG_MAX) {
		struct vg_bp *n = realloc(p->errs, (p->nerrs + 1) * sizeof *n);
		if (n) {
			p->errs = n;
			p->errs[p->nerrs++] = *bp;
			p->errs_dirty = p->stats_dirty = true;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

void vg_pool_errlog(const struct vg_pool *p, const struct vg_bp **list, size_t *n)
{
	*list = p->errs;
	*n = p->nerrs;
}

int vg_pool_errlog_set(struct vg_pool *p, const struct vg_bp *list, size_t n)
{
	struct vg_bp *copy = NULL;
	if (n > VG_ERRLOG_MAX)
		n = VG_ERRLOG_MAX;
	if (n && !(copy = malloc(n * sizeof *copy)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	if (n)
		memcpy(copy, list, n * sizeof *copy);
	free(p->errs);
	p->errs = copy;
	p->nerrs = n;
	p->errs_dirty = true;
	return vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
}

/* Write the changed error log as a new block (three copies). */
static int save_errlog(struct vg_pool *p, struct vg_uber *u)
{
	u->has_errlog = p->nerrs > 0;
	if (!p->nerrs)
		return 0;
	size_t len = 4 + p->nerrs * VG_BP_SIZE;
	uint8_t *buf = malloc(len);
	if (!buf)
		return VG_ERR(VG_ENOMEM, "out of memory");
	vg_put32(buf, (uint32_t)p->nerrs);
	for (size_t i = 0; i < p->nerrs; i++)
		vg_bp_encode(&p->errs[i], buf + 4 + i * VG_BP_SIZE);
	int err = vg_pool_write(p, VG_BT_ERRLOG, buf, len, 3, &u->errlog);
	free(buf);
	return err;
}

static int load_ubers(struct vg_pool *p)
{
	struct vg_uber *cand = calloc((size_t)p->ndevs * VG_UB_SLOTS, sizeof *cand);
	uint8_t *ring = malloc((size_t)VG_UB_SLOTS * VG_UB_SLOT);
	int ncand = 0, err = 0;
	if (!cand || !ring) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	for (int d = 0; d < p->ndevs; d++) {
		if (!vg_dev_usable(p, d))
			continue;
		size_t got = 0;
		if (vg_os_pread(p->dev[d].label, ring, (size_t)VG_UB_SLOTS * VG_UB_SLOT, VG_UB_RING_OFF, &got)) {
			vg_dev_count(p, d, 'r');
			continue;
		}
		for (size_t s = 0; s + VG_UB_SLOT <= got; s += VG_UB_SLOT) {
			struct vg_uber u;
			if (vg_uber_decode(ring + s, VG_UB_SLOT, &u) == 0 && u.vault_guid == p->vault_guid &&
			    u.ndevs == p->ndevs)
				cand[ncand++] = u;
		}
	}
	err = choose_uber(p, cand, ncand);
	if (!err)
		load_errlog(p);
out:
	free(cand);
	free(ring);
	return err;
}

static int tolerance_check(struct vg_pool *p)
{
	int missing = 0, tol = vg_layout_tolerance(&p->layout);
	char list[2048] = "";
	size_t n = 0;
	for (int d = 0; d < p->ndevs; d++) {
		if (vg_dev_usable(p, d))
			continue;
		missing++;
		int w = snprintf(list + n, sizeof list - n, "%s'%s' (%s)", n ? ", " : "", p->dev[d].path,
				 p->dev[d].reason);
		if (w > 0 && (size_t)w < sizeof list - n)
			n += (size_t)w;
	}
	if (missing <= tol)
		return 0;
	char lb[16];
	return VG_ERR(VG_EFAULTED,
		      "vault is FAULTED: %d of %d devices unavailable, %s tolerates %d: %s; "
		      "reconnect the missing devices and retry (if they moved: 'vigil import' naming where they are now)",
		      missing, p->ndevs, vg_layout_name(&p->layout, lb), tol, list);
}

int vg_pool_open(struct vg_os *os, const char *path, int flags, struct vg_pool **out)
{
	return vg_pool_open_with(os, path, flags, NULL, 0, out);
}

int vg_pool_open_with(struct vg_os *os, const char *path, int flags, const char *const *cands, int ncands,
		      struct vg_pool **out)
{
	struct vg_pool *p = pool_alloc(os);
	struct vg_file *f0 = NULL;
	bool rw = flags & VG_POOL_RDWR;
	int err;
	*out = NULL;
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	if (flags & VG_POOL_PROBE)
		rw = false;
	if (strlen(path) > VG_MAX_PATH) {
		err = VG_ERR(VG_EINVAL, "device path too long: '%.60s...'", path);
		goto fail;
	}
	if ((err = open_label(os, path, rw, &f0, &p->label)))
		goto fail;
	p->disk_label = p->label;
	p->layout = p->label.layout;
	p->ndevs = p->layout.ndevs;
	p->vault_guid = p->label.vault_guid;
	p->writable = rw;
	for (int d = 0; d < p->ndevs; d++) {
		struct vg_member *m = &p->label.member[d];
		if ((uint32_t)d == p->label.dev_index) {
			/* the device we came in through, under the name we were given */
			set_path(p->dev[d].path, path);
			p->dev[d].guid = m->guid;
			p->dev[d].label = f0;
			f0 = NULL;
			continue;
		}
		bind_dev(p, d, m->guid, m->path, rw);
		if (!vg_dev_usable(p, d) && m->prev_guid) {
			char why[256];
			snprintf(why, sizeof why, "%s", p->dev[d].reason);
			bind_dev(p, d, m->prev_guid, m->prev_path, rw);
			if (!vg_dev_usable(p, d)) {
				bind_dev(p, d, m->guid, m->path, rw);
				snprintf(p->dev[d].reason, sizeof p->dev[d].reason, "%s", why);
			}
		}
		if (!vg_dev_usable(p, d) && ncands)
			bind_candidate(p, d, m, cands, ncands, rw);
	}
	if ((err = tolerance_check(p))) {
		if (!(flags & VG_POOL_PROBE))
			goto fail;
		p->writable = false;
		*out = p;
		return err;
	}
	/* Lock before anything may be written (reading the root can repair);
	 * devices bound while the uberblock is chosen are locked then. */
	for (int d = 0; rw && d < p->ndevs; d++)
		if (vg_dev_usable(p, d) && (err = vg_os_lock(p->dev[d].label)))
			goto fail;
	/* A reader takes its shared lock before it picks a state, so a prune
	 * never deletes a segment that state may name (space.c). */
	if (!rw && !(flags & VG_POOL_PROBE))
		vg_pool_reader_lock(p, path);
	if ((err = load_ubers(p)) || (err = tolerance_check(p)))
		goto fail;
	*out = p;
	return 0;
fail:
	vg_os_close(f0);
	pool_free(p);
	return err;
}

static int write_label_file(struct vg_os *os, const char *dev, const struct vg_label *l)
{
	uint8_t *buf = calloc(1, VG_LABEL_FILE_SIZE);
	char *lp = vg_path_join(dev, VG_LABEL_NAME);
	struct vg_file *f = NULL;
	int err = 0;
	if (!buf || !lp) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = vg_label_encode(l, buf)))
		goto out;
	memcpy(buf + VG_LABEL_SIZE, buf, VG_LABEL_SIZE);
	if ((err = vg_os_open(os, lp, VG_O_RDWR | VG_O_CREAT | VG_O_EXCL, &f)))
		goto out;
	if ((err = vg_os_pwrite(f, buf, VG_LABEL_FILE_SIZE, 0)) || (err = vg_os_sync(f)))
		goto out;
	err = vg_os_syncdir(os, dev);
out:
	vg_os_close(f);
	free(lp);
	free(buf);
	return err;
}

static int prepare_dir(struct vg_os *os, const char *dev)
{
	struct vg_os_stat st;
	int err = vg_os_stat(os, dev, &st);
	if (err)
		return err;
	if (st.exists && !st.is_dir)
		return VG_ERR(VG_EINVAL, "'%s' exists and is not a directory", dev);
	if (st.exists) {
		char *lp = vg_path_join(dev, VG_LABEL_NAME);
		if (!lp)
			return VG_ERR(VG_ENOMEM, "out of memory");
		err = vg_os_stat(os, lp, &st);
		free(lp);
		if (err)
			return err;
		if (st.exists)
			return VG_ERR(VG_EEXIST, "'%s' already holds a vigil vault device; use an empty directory",
				      dev);
	} else if ((err = vg_os_mkdir(os, dev))) {
		return err;
	}
	return vg_os_writable(os, dev);
}

int vg_pool_create(struct vg_os *os, const struct vg_layout *layout, const char *const *paths,
		   struct vg_pool **out)
{
	struct vg_label l;
	int err;
	*out = NULL;
	memset(&l, 0, sizeof l);
	l.layout = *layout;
	l.created = now_ns();
	l.gen = 1;
	if ((err = random_u64(&l.vault_guid)))
		return err;
	for (int d = 0; d < layout->ndevs; d++) {
		if (strlen(paths[d]) > VG_MAX_PATH)
			return VG_ERR(VG_EINVAL, "device path too long: '%.60s...'", paths[d]);
		for (int e = 0; e < d; e++)
			if (!strcmp(paths[d], paths[e]))
				return VG_ERR(VG_EINVAL, "device '%s' is listed twice", paths[d]);
		snprintf(l.member[d].path, sizeof l.member[d].path, "%s", paths[d]);
		if ((err = random_u64(&l.member[d].guid)))
			return err;
	}
	/* Check every directory before writing any label: a bad path leaves
	 * nothing behind. */
	for (int d = 0; d < layout->ndevs; d++)
		if ((err = prepare_dir(os, paths[d])))
			return err;
	for (int d = 0; d < layout->ndevs; d++) {
		l.dev_index = (uint32_t)d;
		l.dev_guid = l.member[d].guid;
		if ((err = write_label_file(os, paths[d], &l)))
			return err;
	}
	/* txg 1: an empty vault, committed like any other state. */
	struct vg_pool *p = pool_alloc(os);
	if (!p)
		return VG_ERR(VG_ENOMEM, "out of memory");
	p->label = l;
	p->label.dev_index = 0;
	p->label.dev_guid = l.member[0].guid;
	p->layout = *layout;
	p->ndevs = layout->ndevs;
	p->vault_guid = l.vault_guid;
	p->writable = true;
	for (int d = 0; d < p->ndevs; d++) {
		snprintf(p->dev[d].path, sizeof p->dev[d].path, "%s", paths[d]);
		p->dev[d].guid = l.member[d].guid;
		struct vg_label tmp;
		if ((err = open_label(os, paths[d], true, &p->dev[d].label, &tmp)) ||
		    (err = vg_os_lock(p->dev[d].label)))
			goto fail;
	}
	if ((err = vg_pool_commit(p, NULL)))
		goto fail;
	*out = p;
	return 0;
fail:
	pool_free(p);
	return err;
}

static void fault_dev(struct vg_pool *p, int d, const char *why)
{
	p->dev[d].state = VG_DEV_FAULTED;
	snprintf(p->dev[d].reason, sizeof p->dev[d].reason, "%s", why);
	p->dev[d].write_errs++;
}

int vg_pool_commit(struct vg_pool *p, const struct vg_bp *root)
{
	if (!p->writable)
		return VG_ERR(VG_EINVAL, "vault opened read-only");
	if (p->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this vault failed; reopen it to continue");

	struct vg_uber u;
	memset(&u, 0, sizeof u);
	u.has_errlog = p->ub.has_errlog;
	u.errlog = p->ub.errlog;
	if (p->errs_dirty) {
		int e = save_errlog(p, &u);
		if (e)
			return vg_err_prefix(e, "cannot save the error log");
	}

	/* 1. Everything written so far becomes durable, device by device. */
	for (int d = 0; d < p->ndevs; d++) {
		if (!vg_dev_usable(p, d))
			continue;
		if (p->dev[d].lost_writes)
			fault_dev(p, d, "a flush to stable storage failed");
		else if (vg_dev_sync(p, d))
			fault_dev(p, d, vg_errmsg());
	}
	int err = tolerance_check(p);
	if (err) {
		p->sticky = err;
		return vg_err_prefix(err, "cannot commit");
	}

	/* 2. The new uberblock, on every device. */
	u.txg = p->ub.txg + 1;
	u.time = now_ns();
	u.vault_guid = p->vault_guid;
	u.cursor_seg = p->cursor_seg;
	u.cursor_off = p->cursor_off;
	if (root) {
		u.has_root = true;
		u.root = *root;
	}
	u.ndevs = p->ndevs;
	u.scrub = p->ub.scrub;
	for (int d = 0; d < p->ndevs; d++) {
		u.dev[d].guid = p->dev[d].guid;
		u.dev[d].read_errs = p->dev[d].read_errs;
		u.dev[d].write_errs = p->dev[d].write_errs;
		u.dev[d].cksum_errs = p->dev[d].cksum_errs;
		if (!vg_dev_usable(p, d)) {
			/* It misses this txg: open (or reopen) its gap. */
			if (!p->dev[d].dtl_start)
				p->dev[d].dtl_start = u.txg;
			p->dev[d].dtl_end = 0;
		}
		u.dev[d].flags = p->dev[d].state == VG_DEV_OFFLINE ? VG_UBDEV_OFFLINE : 0;
		u.dev[d].dtl_start = p->dev[d].dtl_start;
		u.dev[d].dtl_end = p->dev[d].dtl_end;
	}
	uint8_t slot[VG_UB_SLOT];
	vg_uber_encode(&u, slot);
	uint64_t off = VG_UB_RING_OFF + (u.txg % VG_UB_SLOTS) * VG_UB_SLOT;
	int written = 0;
	for (int d = 0; d < p->ndevs; d++) {
		if (!vg_dev_usable(p, d))
			continue;
		if (vg_os_pwrite(p->dev[d].label, slot, sizeof slot, off) || vg_os_sync(p->dev[d].label))
			fault_dev(p, d, vg_errmsg());
		else
			written++;
	}
	/* A device that failed the uberblock write is FAULTED; the commit
	 * stands if the vault is still whole enough (as for data writes),
	 * and every device still in use holds it. */
	if (!written || (err = tolerance_check(p))) {
		p->sticky = err ? err : VG_EIO;
		return vg_err_prefix(err ? err : VG_ERR(VG_EIO, "the uberblock could not be written to any device"),
				     "cannot commit");
	}
	p->ub = u;
	p->stats_dirty = false;
	p->errs_dirty = false;
	return 0;
}

void vg_pool_root(const struct vg_pool *p, struct vg_bp *root, bool *has_root)
{
	*has_root = p->ub.has_root;
	if (p->ub.has_root)
		*root = p->ub.root;
	else
		memset(root, 0, sizeof *root);
}

void vg_pool_status(const struct vg_pool *p, struct vg_pool_status *st)
{
	memset(st, 0, sizeof *st);
	st->layout = p->layout;
	st->vault_guid = p->vault_guid;
	st->txg = p->ub.txg;
	st->commit_time = p->ub.time;
	st->created = p->label.created;
	st->alloc_bytes = ((uint64_t)p->cursor_seg * VG_SEG_ROWS + p->cursor_off) * VG_SECTOR * (uint64_t)p->ndevs;
	st->ndevs = p->ndevs;
	st->scrub = p->ub.scrub;
	int bad = 0;
	for (int d = 0; d < p->ndevs; d++) {
		const struct vg_dev *dev = &p->dev[d];
		struct vg_dev_status *s = &st->dev[d];
		snprintf(s->path, sizeof s->path, "%s", dev->path);
		snprintf(s->reason, sizeof s->reason, "%s", dev->reason);
		s->guid = dev->guid;
		s->state = dev->state;
		s->read_errs = dev->read_errs;
		s->write_errs = dev->write_errs;
		s->cksum_errs = dev->cksum_errs;
		s->resilver_needed = dev->dtl_start != 0;
		if (!vg_dev_usable(p, d))
			bad++;
	}
	st->state = bad == 0 ? VG_POOL_ONLINE
		  : bad <= vg_layout_tolerance(&p->layout) ? VG_POOL_DEGRADED : VG_POOL_FAULTED;
}

int vg_pool_clear(struct vg_pool *p)
{
	for (int d = 0; d < p->ndevs; d++)
		p->dev[d].read_errs = p->dev[d].write_errs = p->dev[d].cksum_errs = 0;
	free(p->errs);
	p->errs = NULL;
	p->nerrs = 0;
	p->errs_dirty = true;
	return vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
}

int vg_pool_close(struct vg_pool *p)
{
	int err = 0;
	if (!p)
		return 0;
	if (p->writable && !p->sticky && p->stats_dirty)
		err = vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
	pool_free(p);
	return err;
}

/* Rewrite both label copies of an open device in place, one after the
 * other, each flushed: a crash leaves at least one intact copy, and the
 * higher generation wins on open. */
static int rewrite_label(struct vg_pool *p, int d, const struct vg_label *l)
{
	uint8_t *buf = malloc(VG_LABEL_SIZE);
	int err;
	if (!buf)
		return VG_ERR(VG_ENOMEM, "out of memory");
	if (!(err = vg_label_encode(l, buf)))
		for (int copy = 0; copy < 2 && !err; copy++)
			if (!(err = vg_os_pwrite(p->dev[d].label, buf, VG_LABEL_SIZE, (uint64_t)copy * VG_LABEL_SIZE)))
				err = vg_os_sync(p->dev[d].label);
	free(buf);
	return err;
}

int vg_pool_save_paths(struct vg_pool *p, int *moved)
{
	struct vg_label l = p->label;
	int err = 0;
	*moved = 0;
	if (!p->writable)
		return VG_ERR(VG_EINVAL, "vault opened read-only");
	for (int e = 0; e < p->ndevs; e++) {
		if (!vg_dev_usable(p, e))
			continue;
		if (strcmp(p->disk_label.member[e].path, p->dev[e].path))
			(*moved)++;
		set_path(l.member[e].path, p->dev[e].path);
	}
	if (!*moved)
		return 0;
	l.gen++;
	for (int e = 0; e < p->ndevs && !err; e++) {
		if (!vg_dev_usable(p, e))
			continue;
		struct vg_label el = l;
		el.dev_index = (uint32_t)e;
		el.dev_guid = p->dev[e].guid;
		err = rewrite_label(p, e, &el);
	}
	if (!err)
		p->label = p->disk_label = l;
	return err;
}

int vg_pool_find_dev(const struct vg_pool *p, const char *name)
{
	for (int d = 0; d < p->ndevs; d++)
		if (!strcmp(p->dev[d].path, name) || !strcmp(p->label.member[d].path, name))
			return d;
	char hex[32];
	for (int d = 0; d < p->ndevs; d++) {
		snprintf(hex, sizeof hex, "%016llx", (unsigned long long)p->dev[d].guid);
		if (!strcmp(hex, name))
			return d;
	}
	return VG_ERR(VG_ENOENT, "'%s' is not a device of this vault (see 'vigil status')", name);
}

/*
 * Replacement: the new device takes index d.  Order of durable steps:
 *  1. the new device's label (listing the old one as prev),
 *  2. every other reachable member's label (generation + 1, same lists),
 *  3. the uberblock naming the new guid at d, with a dirty time log that
 *     covers every txg so far (nothing is on the new device yet).
 * Before 3 is durable the vault opens with the old device (the labels list
 * it as prev); after it, with the new one, and its columns are rebuilt by
 * reads and by the resilver scrub the caller runs next.
 */
struct emptying {
	struct vg_pool *p;
	const char *dir;
	int err;
};

static int empty_entry(void *ctx, const char *name)
{
	struct emptying *c = ctx;
	if (strcmp(name, VG_LABEL_NAME) && strcmp(name, VG_READERS_NAME) && strncmp(name, "seg-", 4))
		return 0; /* not ours: left alone */
	char *path = vg_path_join(c->dir, name);
	int err = path ? vg_os_unlink(c->p->os, path) : VG_ERR(VG_ENOMEM, "out of memory");
	free(path);
	if (err && !c->err)
		c->err = err;
	return 0;
}

/*
 * A replace cut by a crash before its uberblock leaves NEW holding a label
 * of this vault for a device no committed state names (the vault went on
 * with the old device).  Running the same replace again may reuse it:
 * its files are removed so that prepare_dir() sees an empty directory.
 * A label of another vault, or of a device this state does name, is left
 * for prepare_dir() to refuse.
 */
static int reuse_uncommitted(struct vg_pool *p, const char *dir)
{
	struct vg_file *f = NULL;
	struct vg_label l;
	if (open_label(p->os, dir, false, &f, &l) < 0) {
		vg_err_clear();
		return 0;
	}
	vg_os_close(f);
	if (l.vault_guid != p->vault_guid)
		return 0;
	for (int e = 0; e < p->ndevs; e++)
		if (p->dev[e].guid == l.dev_guid)
			return 0;
	struct emptying c = {p, dir, 0};
	int err = vg_os_listdir(p->os, dir, empty_entry, &c);
	if (!err)
		err = c.err;
	return err ? err : vg_os_syncdir(p->os, dir);
}

int vg_pool_replace(struct vg_pool *p, int d, const char *new_path)
{
	struct vg_label l = p->label;
	int err;
	if (!p->writable)
		return VG_ERR(VG_EINVAL, "vault opened read-only");
	if (p->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this vault failed; reopen it to continue");
	if (d < 0 || d >= p->ndevs)
		return VG_ERR(VG_EINVAL, "no device %d", d);
	if (strlen(new_path) > VG_MAX_PATH)
		return VG_ERR(VG_EINVAL, "device path too long: '%.60s...'", new_path);
	for (int e = 0; e < p->ndevs; e++)
		if (!strcmp(p->dev[e].path, new_path))
			return VG_ERR(VG_EINVAL, "'%s' is already a device of this vault", new_path);
	if ((err = reuse_uncommitted(p, new_path)) || (err = prepare_dir(p->os, new_path)))
		return err;
	uint64_t guid;
	if ((err = random_u64(&guid)))
		return err;
	struct vg_member *m = &l.member[d];
	m->prev_guid = p->dev[d].guid;
	set_path(m->prev_path, p->dev[d].path);
	m->guid = guid;
	set_path(m->path, new_path);
	for (int e = 0; e < p->ndevs; e++)
		if (e != d)
			set_path(l.member[e].path, p->dev[e].path);
	l.gen++;

	struct vg_label nl = l;
	nl.dev_index = (uint32_t)d;
	nl.dev_guid = guid;
	if ((err = write_label_file(p->os, new_path, &nl)))
		return err;
	p->sticky = VG_EIO; /* until the uberblock names the new device */
	for (int e = 0; e < p->ndevs; e++) {
		if (e == d || !vg_dev_usable(p, e))
			continue;
		struct vg_label el = l;
		el.dev_index = (uint32_t)e;
		el.dev_guid = p->dev[e].guid;
		if (rewrite_label(p, e, &el))
			fault_dev(p, e, vg_errmsg());
	}

	struct vg_dev *dev = &p->dev[d];
	char old[VG_MAX_PATH + 1];
	set_path(old, dev->path);
	vg_dev_close_all(p, d);
	memset(dev, 0, sizeof *dev);
	set_path(dev->path, new_path);
	set_path(dev->old_path, old);
	dev->guid = guid;
	dev->dtl_start = 1;
	dev->dtl_end = p->ub.txg + 1;
	struct vg_label tmp;
	if ((err = open_label(p->os, new_path, true, &dev->label, &tmp)) || (err = vg_os_lock(dev->label))) {
		dev->state = VG_DEV_UNAVAIL;
		snprintf(dev->reason, sizeof dev->reason, "%s", vg_errmsg());
		return err;
	}
	p->label = l;
	p->sticky = 0;
	return vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
}

int vg_pool_resilver_done(struct vg_pool *p, uint64_t scanned_txg)
{
	bool any = false;
	for (int d = 0; d < p->ndevs; d++) {
		struct vg_dev *dev = &p->dev[d];
		if (dev->dtl_start && dev->dtl_end && dev->dtl_end <= scanned_txg + 1) {
			dev->dtl_start = dev->dtl_end = 0;
			dev->old_path[0] = 0;
			any = true;
		}
	}
	if (!any)
		return 0;
	return vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
}

uint64_t vg_pool_txg(const struct vg_pool *p) { return p->ub.txg; }

void vg_pool_scrub_get(const struct vg_pool *p, struct vg_scrub_record *r) { *r = p->ub.scrub; }

int vg_pool_scrub_put(struct vg_pool *p, const struct vg_scrub_record *r)
{
	struct vg_scrub_record old = p->ub.scrub;
	p->ub.scrub = *r;
	int err = vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
	if (err)
		p->ub.scrub = old;
	return err;
}

int vg_pool_offline(struct vg_pool *p, int d)
{
	if (d < 0 || d >= p->ndevs)
		return VG_ERR(VG_EINVAL, "no device %d", d);
	if (p->dev[d].state == VG_DEV_OFFLINE)
		return 0;
	enum vg_dev_state was = p->dev[d].state;
	char why[256];
	snprintf(why, sizeof why, "%s", p->dev[d].reason);
	p->dev[d].state = VG_DEV_OFFLINE;
	int err = tolerance_check(p);
	if (err) {
		p->dev[d].state = was;
		snprintf(p->dev[d].reason, sizeof p->dev[d].reason, "%s", why);
		return VG_ERR(VG_EFAULTED, "cannot take '%s' offline: the vault would lose more devices than "
					   "its redundancy covers", p->dev[d].path);
	}
	snprintf(p->dev[d].reason, sizeof p->dev[d].reason, "taken offline; bring it back with 'vigil online'");
	vg_dev_close_all(p, d);
	return vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
}

int vg_pool_online(struct vg_pool *p, int d)
{
	if (d < 0 || d >= p->ndevs)
		return VG_ERR(VG_EINVAL, "no device %d", d);
	if (p->dev[d].state != VG_DEV_OFFLINE && p->dev[d].state != VG_DEV_FAULTED)
		return 0;
	struct vg_dev *dev = &p->dev[d];
	struct vg_label l;
	vg_dev_close_all(p, d);
	int err = open_label(p->os, dev->path, p->writable, &dev->label, &l);
	if (!err && (l.vault_guid != p->vault_guid || l.dev_guid != dev->guid)) {
		vg_os_close(dev->label);
		dev->label = NULL;
		err = VG_ERR(VG_EINVAL, "'%s' no longer holds this vault's device", dev->path);
	}
	if (!err && p->writable)
		err = vg_os_lock(dev->label);
	if (err)
		return err;
	dev->state = VG_DEV_ONLINE;
	dev->reason[0] = 0;
	if (dev->dtl_start && !dev->dtl_end)
		dev->dtl_end = p->ub.txg + 1;
	return vg_pool_commit(p, p->ub.has_root ? &p->ub.root : NULL);
}
