/*
 * tvault.c - vault helpers for tests (see tvault.h).
 */
#include "tvault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/walk.h"
#include "t.h"
#include "workflow/backup.h"
#include "workflow/restore.h"
#include "workflow/scrub.h"

const char *tv_create(const char *dir, const char *layout, int ndevs)
{
	static char store[VG_POOL_MAX_DEVS][512];
	const char *paths[VG_POOL_MAX_DEVS];
	struct vg_layout l;
	struct vg_pool *p = NULL;
	struct vg_repo *r = NULL;
	t_sh("mkdir -p '%s/%s'", t_tmpdir(), dir);
	for (int i = 0; i < ndevs; i++) {
		snprintf(store[i], sizeof store[i], "%s/%s/d%d", t_tmpdir(), dir, i);
		paths[i] = store[i];
	}
	if (vg_layout_parse(layout, ndevs, &l) || vg_pool_create(vg_os_posix(), &l, paths, &p) ||
	    vg_repo_create(p, NULL, &r))
		t_fail(__FILE__, __LINE__, "cannot create a %s vault: %s", layout, vg_errmsg());
	vg_repo_close(r);
	vg_pool_close(p);
	return store[0];
}

int tv_open(const char *dev0, struct vg_pool **p, struct vg_repo **r)
{
	*r = NULL;
	int err = vg_pool_open(vg_os_posix(), dev0, VG_POOL_RDWR, p);
	if (!err && (err = vg_repo_open(*p, NULL, r))) {
		vg_pool_close(*p);
		*p = NULL;
	}
	return err;
}

void tv_close(struct vg_pool *p, struct vg_repo *r)
{
	vg_repo_close(r);
	vg_pool_close(p);
}

int tv_backup(struct vg_repo *r, const char *src, const char *host, struct vg_id *id)
{
	const char *paths[] = {src};
	struct vg_backup_opts o = {.paths = paths, .npaths = 1, .host = host};
	struct vg_backup_result res;
	memset(&res, 0, sizeof res);
	int err = vg_backup_run(r, &o, &res);
	if (!err && id)
		*id = res.id;
	vg_backup_result_release(&res);
	return err;
}

int tv_restore_same(struct vg_repo *r, const struct vg_id *id, const char *src)
{
	const char *target = t_path("restore.tmp");
	const char *base = strrchr(src, '/');
	struct vg_restore_opts ro = {.target = target};
	struct vg_restore_result rr;
	t_sh("rm -rf '%s'", target);
	int err = vg_restore_run(r, id, &ro, &rr);
	if (err)
		return err;
	size_t nerr = rr.nerrors;
	vg_restore_result_release(&rr);
	if (nerr)
		return VG_EIO;
	return t_sh("diff -r --no-dereference '%s' '%s%s' >/dev/null 2>&1", src, target, base ? base : "") ? 1 : 0;
}

uint64_t tv_disk_use(const char *dir)
{
	char cmd[1200];
	unsigned long long kb = 0;
	snprintf(cmd, sizeof cmd, "du -sk '%s'", dir);
	FILE *f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%llu", &kb) != 1)
			kb = 0;
		pclose(f);
	}
	return (uint64_t)kb * 1024;
}

int64_t tv_scrub(struct vg_pool *p)
{
	struct vg_scrub_result res;
	int err = vg_scrub_run(p, NULL, &res);
	vg_scrub_result_release(&res);
	if (err)
		return err;
	return (int64_t)(res.rec.errors + res.rec.unrecoverable);
}

int tv_smash(const char *dev, const struct vg_bp *bp, int dva)
{
	char path[1024], junk[64];
	snprintf(path, sizeof path, "%s/seg-%08x", dev, bp->dva[dva].seg);
	FILE *f = fopen(path, "r+b");
	if (!f)
		return VG_ENOENT;
	memset(junk, 0xa5, sizeof junk);
	int err = fseek(f, (long)bp->dva[dva].off * 4096, SEEK_SET) || fwrite(junk, 1, sizeof junk, f) != sizeof junk;
	return fclose(f) || err ? VG_EIO : 0;
}

struct blist {
	struct vg_bp *v;
	size_t n;
};

static int add_block(void *ctx, const struct vg_bp *bp, const char *what)
{
	struct blist *b = ctx;
	(void)what;
	struct vg_bp *nv = realloc(b->v, (b->n + 1) * sizeof *nv);
	if (!nv)
		return VG_ENOMEM;
	b->v = nv;
	b->v[b->n++] = *bp;
	return 0;
}

int tv_blocks(struct vg_pool *p, struct vg_bp **list, size_t *n)
{
	struct blist b = {0};
	int err = vg_repo_walk_blocks(p, add_block, &b);
	*list = b.v;
	*n = b.n;
	return err;
}
