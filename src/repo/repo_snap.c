/*
 * repo_snap.c - writing, listing, loading and finding snapshots.
 *
 * A snapshot is one framed pool block (2 copies) named in the root's
 * snapshot table; loading it checks the block against its bp (pool) and
 * the plaintext against its id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/impl.h"

int vg_repo_snapshot_add(struct vg_repo *r, const struct vg_snapshot *s, struct vg_id *id)
{
	struct vg_buf plain, framed;
	struct vg_bp bp;
	if (r->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this repository failed; nothing more is stored");
	vg_buf_init(&plain, VG_OBJ_MAX);
	vg_buf_init(&framed, VG_POOL_MAX_BLOCK);
	int err = vg_snapshot_encode(s, &plain);
	if (!err)
		err = vg_id_compute(&r->key, plain.p, plain.len, id);
	if (!err)
		err = vg_frame_encode(&r->wsealer, VG_OT_SNAPSHOT, plain.p, plain.len, true, &framed);
	if (!err)
		err = vg_pool_write(r->pool, VG_BT_SNAPSHOT, framed.p, framed.len, VG_META_COPIES, &bp);
	if (!err) {
		struct vg_snapref *ns = realloc(r->root.snaps, (r->root.nsnaps + 1) * sizeof *ns);
		if (!ns) {
			err = VG_ERR(VG_ENOMEM, "out of memory");
		} else {
			r->root.snaps = ns;
			ns[r->root.nsnaps].id = *id;
			ns[r->root.nsnaps].time_ns = s->time_ns;
			ns[r->root.nsnaps].bp = bp;
			r->root.nsnaps++;
		}
	}
	vg_buf_release(&plain);
	vg_buf_release(&framed);
	return err;
}

size_t vg_repo_snapshot_count(const struct vg_repo *r) { return r->root.nsnaps; }

const struct vg_snapref *vg_repo_snapshot_ref(const struct vg_repo *r, size_t i)
{
	return i < r->root.nsnaps ? &r->root.snaps[i] : NULL;
}

int vg_repo_snapshot_load(struct vg_repo *r, const struct vg_id *id, struct vg_snapshot *out)
{
	const struct vg_snapref *ref = NULL;
	char hex[2 * VG_ID_LEN + 1], what[64];
	memset(out, 0, sizeof *out);
	vg_id_hex(id, hex);
	snprintf(what, sizeof what, "snapshot %.16s", hex);
	for (size_t i = 0; i < r->root.nsnaps && !ref; i++)
		if (vg_id_eq(&r->root.snaps[i].id, id))
			ref = &r->root.snaps[i];
	if (!ref)
		return VG_ERR(VG_ENOENT, "%s is not in the vault", what);
	struct vg_buf plain;
	struct vg_id got;
	uint8_t *raw = malloc(ref->bp.psize);
	vg_buf_init(&plain, VG_OBJ_MAX);
	int err = raw ? vg_pool_read(r->pool, &ref->bp, raw) : VG_ERR(VG_ENOMEM, "out of memory");
	if (err) {
		vg_err_prefix(err, "reading %s", what);
		goto out;
	}
	pthread_mutex_lock(&r->rlock);
	err = vg_frame_decode(&r->rsealer, VG_OT_SNAPSHOT, raw, ref->bp.psize, &plain, what);
	pthread_mutex_unlock(&r->rlock);
	if (err || (err = vg_id_compute(&r->key, plain.p, plain.len, &got)) < 0)
		goto out;
	if (!vg_id_eq(&got, id)) {
		err = VG_ERR(VG_ECORRUPT, "%s does not match its id", what);
		goto out;
	}
	if ((err = vg_snapshot_decode(plain.p, plain.len, out)) < 0)
		vg_err_prefix(err, "%s", what);
out:
	free(raw);
	vg_buf_release(&plain);
	return err;
}

static bool hex_prefix(const char *s, size_t *len)
{
	size_t n = strlen(s);
	if (n == 0 || n > 2 * VG_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	*len = n;
	return true;
}

int vg_repo_snapshot_find(const struct vg_repo *r, const char *spec, struct vg_id *out)
{
	size_t n, hits = 0;
	char cand[512] = "", hex[2 * VG_ID_LEN + 1], lower[2 * VG_ID_LEN + 1];
	if (!strcmp(spec, "latest")) {
		const struct vg_snapref *best = NULL;
		for (size_t i = 0; i < r->root.nsnaps; i++)
			if (!best || r->root.snaps[i].time_ns >= best->time_ns)
				best = &r->root.snaps[i];
		if (!best)
			return VG_ERR(VG_ENOENT, "the vault holds no snapshots yet");
		*out = best->id;
		return 0;
	}
	if (!hex_prefix(spec, &n))
		return VG_ERR(VG_EINVAL, "'%s' is not a snapshot id (use hex digits of an id, or 'latest')", spec);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)(spec[i] >= 'A' && spec[i] <= 'F' ? spec[i] - 'A' + 'a' : spec[i]);
	for (size_t i = 0; i < r->root.nsnaps; i++) {
		vg_id_hex(&r->root.snaps[i].id, hex);
		if (strncmp(hex, lower, n))
			continue;
		if (hits++ == 0)
			*out = r->root.snaps[i].id;
		size_t at = strlen(cand);
		if (hits <= 5)
			snprintf(cand + at, sizeof cand - at, "%s%.16s", hits > 1 ? ", " : "", hex);
	}
	if (hits == 0)
		return VG_ERR(VG_ENOENT, "no snapshot id starts with '%s' (see 'vigil snapshots')", spec);
	if (hits > 1)
		return VG_ERR(VG_EINVAL, "'%s' is ambiguous: %zu snapshots match (%s%s); give more digits", spec,
			      hits, cand, hits > 5 ? ", ..." : "");
	return 0;
}
