/*
 * forget.c - remove snapshots from the repository root.
 *
 * The root lists the snapshots; a new root without some of them, written
 * and committed, is the whole operation.  The objects they alone used
 * stay until garbage collection (gc.c) removes them, so a crash at any
 * point leaves either the old list or the new one.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/gc.h"
#include "repo/obj.h"
#include "repo/reach.h"
#include "repo/root.h"

#define ROOT_COPIES 3 /* as the repository writes its root */

int vg_repo_publish_root(struct vg_pool *pool, const struct vg_root *root)
{
	struct vg_buf b;
	struct vg_bp bp;
	vg_buf_init(&b, VG_POOL_MAX_BLOCK);
	int err = vg_root_encode(root, &b);
	if (!err)
		err = vg_pool_write(pool, VG_BT_ROOT, b.p, b.len, ROOT_COPIES, &bp);
	if (!err)
		err = vg_pool_commit(pool, &bp);
	vg_buf_release(&b);
	return err;
}

int vg_repo_forget(struct vg_pool *pool, const struct vg_id *ids, size_t n)
{
	struct vg_root root;
	int err = vg_reach_root(pool, &root);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < root.nsnaps && !vg_id_eq(&root.snaps[j].id, &ids[i]))
			j++;
		if (j == root.nsnaps) {
			char hex[2 * VG_ID_LEN + 1];
			vg_id_hex(&ids[i], hex);
			err = VG_ERR(VG_ENOENT, "snapshot %s is not in the vault", hex);
			goto out;
		}
		memmove(&root.snaps[j], &root.snaps[j + 1], (root.nsnaps - j - 1) * sizeof root.snaps[0]);
		root.nsnaps--;
	}
	if (n)
		err = vg_repo_publish_root(pool, &root);
out:
	vg_root_release(&root);
	return err;
}
