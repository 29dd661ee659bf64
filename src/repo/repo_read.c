/*
 * repo_read.c - reading objects back: index lookup, pack cache, unsealing,
 * and verification of every object against its id.
 *
 * The pool reads whole blocks, so a pack read for one chunk serves the
 * next ones too: a small LRU cache of packs makes a restore that walks
 * files in backup order read each pack once.  Verifying the keyed hash
 * after unsealing is the end-to-end check: it catches anything the block
 * checksums cannot (a wrong index entry, a bug) before a byte is restored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/impl.h"

static bool same_block(const struct vg_bp *a, const struct vg_bp *b)
{
	return a->psize == b->psize && a->dva[0].seg == b->dva[0].seg && a->dva[0].off == b->dva[0].off &&
	       !memcmp(a->cksum, b->cksum, VG_CKSUM_LEN);
}

/* The pack's bytes, from the cache or the pool (r->rlock held). */
static int pack_bytes(struct vg_repo *r, const struct vg_bp *bp, const uint8_t **out)
{
	struct cached_pack *victim = &r->cache[0];
	for (int i = 0; i < VG_READ_CACHE; i++) {
		struct cached_pack *c = &r->cache[i];
		if (c->data && same_block(&c->bp, bp)) {
			c->tick = ++r->tick;
			*out = c->data;
			return 0;
		}
		if (!c->data || (victim->data && c->tick < victim->tick))
			victim = c;
	}
	/* the victim's memory is reused: a fresh 4 MiB each time would be
	 * mapped and faulted in anew for every pack */
	uint8_t *buf = victim->data;
	if (victim->cap < bp->psize) {
		if (!(buf = realloc(victim->data, bp->psize)))
			return VG_ERR(VG_ENOMEM, "out of memory reading a %u-byte pack", bp->psize);
		victim->data = buf;
		victim->cap = bp->psize;
	}
	victim->bp = (struct vg_bp){0}; /* matches nothing until the read succeeds */
	int err = vg_pool_read(r->pool, bp, buf);
	if (err)
		return err;
	victim->bp = *bp;
	victim->tick = ++r->tick;
	*out = buf;
	return 0;
}

void vg_repo_cache_release(struct vg_repo *r)
{
	for (int i = 0; i < VG_READ_CACHE; i++) {
		free(r->cache[i].data);
		r->cache[i].data = NULL;
		r->cache[i].cap = 0;
	}
}

int vg_repo_index_lookup(struct vg_repo *r, const struct vg_id *id, struct vg_index_entry *e, struct vg_bp *bp)
{
	pthread_mutex_lock(&r->lock);
	const struct vg_index_entry *f = vg_index_find(&r->idx, id);
	if (f) {
		*e = *f;
		if (f->pack != VG_INDEX_PENDING)
			*bp = r->idx.packs[f->pack];
	}
	pthread_mutex_unlock(&r->lock);
	if (f)
		return 0;
	if (r->no_index)
		return VG_ERR(VG_EINVAL, "the repository was opened without its index");
	return vg_dindex_find(&r->dx, id, e, bp);
}

void vg_repo_index_stats(struct vg_repo *r, struct vg_dindex_stats *out) { vg_dindex_stats(&r->dx, out); }

static int lookup(struct vg_repo *r, const struct vg_id *id, struct vg_index_entry *e, struct vg_bp *bp)
{
	for (int pass = 0; pass < 2; pass++) {
		int err = vg_repo_index_lookup(r, id, e, bp);
		if (err || e->pack != VG_INDEX_PENDING)
			return err;
		if ((err = vg_repo_flush(r)) < 0) /* read-your-writes within one handle */
			return err;
	}
	return VG_ERR(VG_EINVAL, "object is still pending after a flush");
}

int vg_repo_reader_init(struct vg_repo *r, struct vg_sealer *s)
{
	return vg_sealer_init(s, 0, r->root.cfg.enc, r->root.cfg.enc == VG_ENC_NONE ? NULL : r->master);
}

/* With s == NULL the shared read sealer unseals under r->rlock; with a
 * caller's own sealer the stored bytes are copied out of the cache under
 * the lock and unsealed without it, so several threads decrypt and
 * decompress at once. */
static int get(struct vg_repo *r, struct vg_sealer *s, struct vg_buf *stored, int otype, const struct vg_id *id,
	       struct vg_buf *out)
{
	struct vg_index_entry e;
	struct vg_bp bp;
	char hex[2 * VG_ID_LEN + 1], what[128];
	const uint8_t *pack = NULL;
	vg_id_hex(id, hex);
	snprintf(what, sizeof what, "%s %.16s", vg_otype_name(otype), hex);
	int err = lookup(r, id, &e, &bp);
	if (err == VG_ENOENT)
		return VG_ERR(VG_ENOENT, "%s is not in the vault's index", what);
	if (err)
		return err;
	if (e.otype != otype)
		return VG_ERR(VG_ECORRUPT, "%s is indexed as a %s", what, vg_otype_name(e.otype));
	vg_buf_reset(out);
	pthread_mutex_lock(&r->rlock);
	err = pack_bytes(r, &bp, &pack);
	if (err)
		vg_err_prefix(err, "reading %s", what);
	else if ((uint64_t)e.off + e.slen > bp.psize)
		err = VG_ERR(VG_ECORRUPT, "%s lies outside its pack", what);
	else if (!s)
		err = vg_unseal(&r->rsealer, e.comp, e.enc, pack + e.off, e.slen, e.rlen, out, what);
	else if (!(err = vg_buf_reserve(stored, e.slen ? e.slen : 1)))
		memcpy(stored->p, pack + e.off, e.slen);
	pthread_mutex_unlock(&r->rlock);
	if (!err && s)
		err = vg_unseal(s, e.comp, e.enc, stored->p, e.slen, e.rlen, out, what);
	if (err)
		return err;
	struct vg_id got;
	if ((err = vg_id_compute(&r->key, out->p, out->len, &got)) < 0)
		return err;
	if (!vg_id_eq(&got, id))
		return VG_ERR(VG_ECORRUPT, "%s does not match its id: the vault holds wrong data for it", what);
	return 0;
}

int vg_repo_get(struct vg_repo *r, int otype, const struct vg_id *id, struct vg_buf *out)
{
	return get(r, NULL, NULL, otype, id, out);
}

int vg_repo_get_with(struct vg_repo *r, struct vg_sealer *s, struct vg_buf *tmp, int otype, const struct vg_id *id,
		     struct vg_buf *out)
{
	return get(r, s, tmp, otype, id, out);
}

/* --- trees --- */

int vg_repo_put_tree(struct vg_repo *r, const struct vg_tree_entry *e, size_t n, struct vg_id *id,
		     bool *added)
{
	struct vg_buf enc, list;
	struct vg_id *parts = NULL;
	/* the entries' chunk ids may still be on their way from workers */
	int werr = vg_repo_wait_ids(r);
	if (werr)
		return werr;
	vg_buf_init(&enc, VG_TREE_MAX);
	vg_buf_init(&list, VG_OBJ_MAX);
	int err = vg_tree_encode(e, n, &enc);
	if (err)
		goto out;
	if (enc.len <= VG_TREE_PART_MAX) {
		err = vg_repo_put(r, VG_OT_TREE, enc.p, enc.len, id, added);
		goto out;
	}
	size_t np = (enc.len + VG_TREE_PART_MAX - 1) / VG_TREE_PART_MAX;
	if (!(parts = malloc(np * sizeof *parts))) {
		err = VG_ERR(VG_ENOMEM, "out of memory storing a large directory");
		goto out;
	}
	for (size_t i = 0; i < np && !err; i++) {
		size_t off = i * VG_TREE_PART_MAX, len = enc.len - off;
		bool a;
		err = vg_repo_put(r, VG_OT_TREE_PART, enc.p + off, len < VG_TREE_PART_MAX ? len : VG_TREE_PART_MAX,
				  &parts[i], &a);
	}
	if (!err && !(err = vg_tree_parts_encode(parts, np, enc.len, &list)))
		err = vg_repo_put(r, VG_OT_TREE, list.p, list.len, id, added);
out:
	free(parts);
	vg_buf_release(&enc);
	vg_buf_release(&list);
	return err;
}

static int join_parts(struct vg_repo *r, const struct vg_buf *list, struct vg_buf *whole)
{
	struct vg_id *parts;
	size_t np;
	uint64_t total;
	struct vg_buf part;
	int err = vg_tree_parts_decode(list->p, list->len, &parts, &np, &total);
	if (err)
		return err;
	vg_buf_init(&part, VG_OBJ_MAX);
	vg_buf_init(whole, total);
	for (size_t i = 0; i < np && !err; i++)
		if (!(err = vg_repo_get(r, VG_OT_TREE_PART, &parts[i], &part)))
			err = vg_buf_add(whole, part.p, part.len);
	if (!err && whole->len != total)
		err = VG_ERR(VG_ECORRUPT, "a large directory's parts add up to %zu bytes, not %llu", whole->len,
			     (unsigned long long)total);
	free(parts);
	vg_buf_release(&part);
	return err;
}

int vg_repo_get_tree(struct vg_repo *r, const struct vg_id *id, struct vg_tree *out)
{
	struct vg_buf b, whole;
	vg_buf_init(&b, VG_OBJ_MAX);
	vg_buf_init(&whole, 0);
	memset(out, 0, sizeof *out);
	int err = vg_repo_get(r, VG_OT_TREE, id, &b);
	int kind = err ? err : vg_tree_kind(b.p, b.len);
	if (kind < 0)
		err = kind;
	else if (kind == VG_TREE_KIND_ENTRIES)
		err = vg_tree_decode(b.p, b.len, out);
	else if (!(err = join_parts(r, &b, &whole)))
		err = vg_tree_decode(whole.p, whole.len, out);
	vg_buf_release(&b);
	vg_buf_release(&whole);
	return err;
}
