/*
 * repo.c - the repository handle: create, open (root + index), commit.
 *
 * Theory of the commit (each point is what makes a crash harmless):
 *  1. Objects, packs, snapshot blocks and index blocks are written to the
 *     pool as they come; none is reachable from the committed root, so a
 *     crash before step 3 leaves them as unreferenced space.
 *  2. vg_repo_commit() first drains the workers and writes the open packs,
 *     then one index run covering every id added since the last commit
 *     (so every reachable object is in the index of the state that
 *     references it), then the new root.
 *  3. vg_pool_commit() publishes that root atomically.  Until it returns,
 *     the previous root (and everything it references) is the vault.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/err.h"
#include "repo/impl.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct vg_repo *repo_alloc(struct vg_pool *pool)
{
	struct vg_repo *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->pool = pool;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->qlock, NULL);
	pthread_mutex_init(&r->rlock, NULL);
	pthread_cond_init(&r->qcond, NULL);
	pthread_cond_init(&r->qspace, NULL);
	pthread_cond_init(&r->qidle, NULL);
	pthread_cond_init(&r->qids, NULL);
	vg_index_init(&r->idx);
	vg_repo_packer_init(&r->data, VG_BT_DATA_PACK, 1, VG_DATA_PACK_TARGET, &r->wsealer);
	vg_repo_packer_init(&r->meta, VG_BT_META_PACK, VG_META_COPIES, VG_META_PACK_TARGET, &r->wsealer);
	return r;
}

void vg_repo_close(struct vg_repo *r)
{
	if (!r)
		return;
	vg_repo_workers_stop(r);
	vg_repo_cache_release(r);
	vg_sealer_release(&r->wsealer);
	vg_sealer_release(&r->rsealer);
	vg_idkey_release(&r->key);
	sodium_memzero(r->master, sizeof r->master);
	vg_root_release(&r->root);
	vg_index_release(&r->idx);
	vg_repo_packer_release(&r->data);
	vg_repo_packer_release(&r->meta);
	free(r->fresh);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->qlock);
	pthread_mutex_destroy(&r->rlock);
	pthread_cond_destroy(&r->qcond);
	pthread_cond_destroy(&r->qspace);
	pthread_cond_destroy(&r->qidle);
	pthread_cond_destroy(&r->qids);
	free(r);
}

/* The passphrase from the caller's callback into buf (NUL-terminated). */
static int ask_pass(vg_pass_fn fn, void *ctx, bool is_new, char *buf, size_t cap)
{
	if (!fn)
		return VG_ERR(VG_EKEY, "the vault is encrypted: its passphrase is needed (VIGIL_PASSWORD, "
				       "VIGIL_PASSWORD_FILE or a terminal)");
	buf[0] = 0;
	int err = fn(ctx, is_new, buf, cap);
	buf[cap - 1] = 0;
	return err;
}

/* The id key (and for repokey the master key) from the config. */
static int unlock(struct vg_repo *r, const struct vg_repo_opts *o)
{
	const struct vg_repo_config *c = &r->root.cfg;
	char pass[VG_PASS_MAX + 1];
	if (c->enc == VG_ENC_NONE)
		return vg_idkey_init(&r->key, c->key, c->keylen);
	int err = ask_pass(o ? o->pass : NULL, o ? o->pass_ctx : NULL, false, pass, sizeof pass);
	if (!err)
		err = vg_key_unwrap(c->key, c->keylen, pass, strlen(pass), c->repo_id, sizeof c->repo_id, r->master);
	sodium_memzero(pass, sizeof pass);
	return err ? err : vg_idkey_init(&r->key, r->master + VG_DATA_KEY_LEN, VG_ID_KEY_LEN);
}

/* Everything derived from the config: key state, chunker, sealers. */
static int setup(struct vg_repo *r, const struct vg_repo_opts *o)
{
	const struct vg_repo_config *c = &r->root.cfg;
	int level = c->comp == VG_COMP_NONE ? 0 : c->level;
	int err;
	if ((err = unlock(r, o)) < 0 || (err = vg_chunker_init(&r->chunker, &c->chunker)) < 0 ||
	    (err = vg_sealer_init(&r->wsealer, level, c->enc, r->master)) < 0 ||
	    (err = vg_sealer_init(&r->rsealer, level, c->enc, r->master)) < 0)
		return err;
	return vg_repo_workers_start(r, o ? o->workers : 0);
}

static int write_root(struct vg_repo *r)
{
	struct vg_buf b;
	struct vg_bp bp;
	vg_buf_init(&b, VG_POOL_MAX_BLOCK);
	int err = vg_root_encode(&r->root, &b);
	if (!err)
		err = vg_pool_write(r->pool, VG_BT_ROOT, b.p, b.len, VG_ROOT_COPIES, &bp);
	if (!err)
		err = vg_pool_commit(r->pool, &bp);
	vg_buf_release(&b);
	return err;
}

/* Wrap r->master under a new passphrase into the config. */
static int wrap(struct vg_repo *r, vg_pass_fn fn, void *ctx, const struct vg_kdf_params *kdf)
{
	struct vg_repo_config *c = &r->root.cfg;
	char pass[VG_PASS_MAX + 1];
	int err = ask_pass(fn, ctx, true, pass, sizeof pass);
	if (!err)
		err = vg_key_wrap(r->master, pass, strlen(pass), kdf, c->repo_id, sizeof c->repo_id, c->key);
	sodium_memzero(pass, sizeof pass);
	if (!err)
		c->keylen = VG_KEYBLOB_LEN;
	return err;
}

int vg_repo_key_change(struct vg_repo *r, vg_pass_fn pass, void *ctx, const struct vg_kdf_params *kdf)
{
	struct vg_repo_config *c = &r->root.cfg;
	uint8_t keep[VG_KEYBLOB_MAX];
	uint16_t keeplen = c->keylen;
	if (c->enc != VG_ENC_REPOKEY)
		return VG_ERR(VG_EINVAL, "this vault is not encrypted: it has no passphrase to change");
	if (r->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this repository failed; nothing is committed");
	memcpy(keep, c->key, keeplen);
	int err = wrap(r, pass, ctx, kdf);
	if (!err)
		err = vg_repo_commit(r);
	if (err) { /* the committed root still holds the old wrapping */
		memcpy(c->key, keep, keeplen);
		c->keylen = keeplen;
	}
	return err;
}

int vg_repo_create(struct vg_pool *pool, const struct vg_repo_opts *o, struct vg_repo **out)
{
	struct vg_bp bp;
	bool has;
	int err;
	*out = NULL;
	vg_pool_root(pool, &bp, &has);
	if (has)
		return VG_ERR(VG_EEXIST, "the vault already holds a repository");
	struct vg_repo *r = repo_alloc(pool);
	if (!r)
		return VG_ERR(VG_ENOMEM, "out of memory");
	struct vg_repo_config *c = &r->root.cfg;
	uint64_t seed;
	c->created_ns = now_ns();
	c->enc = (uint8_t)(o ? o->enc : VG_ENC_NONE);
	int level = o && o->comp_set ? o->comp_level : VG_COMP_LEVEL_DEFAULT;
	if (level < -128 || level > 127) {
		err = VG_ERR(VG_EINVAL, "compression level %d is out of range", level);
		goto fail;
	}
	c->comp = level ? VG_COMP_ZSTD : VG_COMP_NONE;
	c->level = (int8_t)level;
	if (c->enc != VG_ENC_NONE && c->enc != VG_ENC_REPOKEY) {
		err = VG_ERR(VG_EINVAL, "unknown encryption mode %d", c->enc);
		goto fail;
	}
	c->keylen = VG_ID_KEY_LEN;
	if ((err = vg_random(c->repo_id, sizeof c->repo_id)) < 0 || (err = vg_random(c->key, c->keylen)) < 0 ||
	    (err = vg_random(&seed, sizeof seed)) < 0)
		goto fail;
	if (c->enc == VG_ENC_REPOKEY && ((err = vg_random(r->master, sizeof r->master)) < 0 ||
					 (err = wrap(r, o->pass, o->pass_ctx, &o->kdf)) < 0))
		goto fail;
	if (o && o->chunker)
		c->chunker = *o->chunker;
	else
		vg_chunker_defaults(&c->chunker, seed);
	if ((err = setup(r, o)) < 0 || (err = write_root(r)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	vg_repo_close(r);
	return err;
}

/* Load one index block into memory, checking it against its fence. */
static int load_block(struct vg_repo *r, const struct vg_index_fence *f, struct vg_buf *raw)
{
	struct vg_bp *packs = NULL;
	struct vg_index_entry *e = NULL;
	uint32_t np = 0, n = 0;
	int err;
	if ((err = vg_buf_reserve(raw, f->bp.psize)) < 0 || (err = vg_pool_read(r->pool, &f->bp, raw->p)) < 0)
		return vg_err_prefix(err, "reading the index");
	if ((err = vg_index_block_decode(&r->rsealer, raw->p, f->bp.psize, &packs, &np, &e, &n)) < 0)
		return err;
	if (n != f->count || !vg_id_eq(&e[0].id, &f->first) || !vg_id_eq(&e[n - 1].id, &f->last)) {
		err = VG_ERR(VG_ECORRUPT, "index block does not match its run header");
		goto out;
	}
	uint32_t base = r->idx.npacks, no;
	for (uint32_t i = 0; i < np && !err; i++)
		err = vg_index_add_pack(&r->idx, &packs[i], &no);
	for (uint32_t i = 0; i < n && !err; i++) {
		e[i].pack += base;
		err = vg_index_insert(&r->idx, &e[i], NULL);
		if (err == VG_EEXIST) /* listed by two runs: the first wins */
			err = 0;
	}
out:
	free(packs);
	free(e);
	return err;
}

static int load_index(struct vg_repo *r)
{
	struct vg_buf raw;
	int err = 0;
	vg_buf_init(&raw, VG_POOL_MAX_BLOCK);
	for (size_t i = 0; i < r->root.nruns && !err; i++) {
		const struct vg_bp *bp = &r->root.runs[i].bp;
		struct vg_index_fence *f = NULL;
		uint32_t nb = 0;
		uint64_t total = 0;
		if ((err = vg_buf_reserve(&raw, bp->psize)) < 0 || (err = vg_pool_read(r->pool, bp, raw.p)) < 0) {
			vg_err_prefix(err, "reading the index");
			break;
		}
		if (!(err = vg_index_run_decode(raw.p, bp->psize, &f, &nb, &total)) && total != r->root.runs[i].count)
			err = VG_ERR(VG_ECORRUPT, "index run %zu holds %llu entries, the root says %llu", i,
				     (unsigned long long)total, (unsigned long long)r->root.runs[i].count);
		for (uint32_t b = 0; b < nb && !err; b++)
			err = load_block(r, &f[b], &raw);
		free(f);
	}
	vg_buf_release(&raw);
	return err;
}

int vg_repo_open(struct vg_pool *pool, const struct vg_repo_opts *o, struct vg_repo **out)
{
	struct vg_bp bp;
	bool has;
	uint8_t *buf = NULL;
	int err;
	*out = NULL;
	vg_pool_root(pool, &bp, &has);
	if (!has)
		return VG_ERR(VG_ENOENT, "the vault holds no repository yet (did 'vigil init' finish?)");
	if (bp.type != VG_BT_ROOT)
		return VG_ERR(VG_ECORRUPT, "the vault's root block has type %u, not a repository root", bp.type);
	struct vg_repo *r = repo_alloc(pool);
	if (!r || !(buf = malloc(bp.psize))) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto fail;
	}
	if ((err = vg_pool_read(pool, &bp, buf)) < 0) {
		vg_err_prefix(err, "reading the repository root");
		goto fail;
	}
	if ((err = vg_root_decode(buf, bp.psize, &r->root)) < 0 || (err = setup(r, o)) < 0 ||
	    (!(o && o->no_index) && (err = load_index(r)) < 0))
		goto fail;
	free(buf);
	*out = r;
	return 0;
fail:
	free(buf);
	vg_repo_close(r);
	return err;
}

const struct vg_repo_config *vg_repo_config(const struct vg_repo *r) { return &r->root.cfg; }
const struct vg_chunker *vg_repo_chunker(const struct vg_repo *r) { return &r->chunker; }
const struct vg_idkey *vg_repo_idkey(const struct vg_repo *r) { return &r->key; }

void vg_repo_counts(struct vg_repo *r, struct vg_repo_counts *c)
{
	pthread_mutex_lock(&r->lock);
	*c = r->counts;
	pthread_mutex_unlock(&r->lock);
}

static int cmp_id(const void *a, const void *b) { return vg_id_cmp(a, b); }

/* Write index blocks and one run header for the fresh ids (r->lock held). */
static int write_run(struct vg_repo *r)
{
	size_t n = r->nfresh, nb = (n + VG_INDEX_BLOCK_MAX - 1) / VG_INDEX_BLOCK_MAX;
	struct vg_index_entry *e = malloc(n * sizeof *e);
	struct vg_index_fence *f = calloc(nb, sizeof *f);
	struct vg_buf framed;
	struct vg_bp bp;
	int err = 0;
	vg_buf_init(&framed, VG_POOL_MAX_BLOCK);
	if (!e || !f) {
		err = VG_ERR(VG_ENOMEM, "out of memory writing the index");
		goto out;
	}
	qsort(r->fresh, n, sizeof *r->fresh, cmp_id);
	for (size_t i = 0; i < n; i++) {
		const struct vg_index_entry *x = vg_index_find(&r->idx, &r->fresh[i]);
		if (!x || x->pack == VG_INDEX_PENDING) {
			err = VG_ERR(VG_EINVAL, "an object was never written; not committing");
			goto out;
		}
		e[i] = *x;
	}
	for (size_t b = 0; b < nb && !err; b++) {
		size_t lo = b * VG_INDEX_BLOCK_MAX, cnt = n - lo < VG_INDEX_BLOCK_MAX ? n - lo : VG_INDEX_BLOCK_MAX;
		if ((err = vg_index_block_encode(&r->wsealer, &r->idx, e + lo, cnt, &framed)) < 0 ||
		    (err = vg_pool_write(r->pool, VG_BT_INDEX_BLOCK, framed.p, framed.len, VG_META_COPIES, &f[b].bp)) < 0)
			break;
		f[b].first = e[lo].id;
		f[b].last = e[lo + cnt - 1].id;
		f[b].count = (uint32_t)cnt;
	}
	if (err || (err = vg_index_run_encode(f, (uint32_t)nb, &framed)) < 0 ||
	    (err = vg_pool_write(r->pool, VG_BT_INDEX_RUN, framed.p, framed.len, VG_META_COPIES, &bp)) < 0)
		goto out;
	struct vg_runref *nr = realloc(r->root.runs, (r->root.nruns + 1) * sizeof *nr);
	if (!nr) {
		err = VG_ERR(VG_ENOMEM, "out of memory");
		goto out;
	}
	r->root.runs = nr;
	nr[r->root.nruns].count = n;
	nr[r->root.nruns].bp = bp;
	r->root.nruns++;
out:
	free(e);
	free(f);
	vg_buf_release(&framed);
	return err;
}

int vg_repo_commit(struct vg_repo *r)
{
	if (r->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this repository failed; nothing is committed");
	int err = vg_repo_flush(r);
	if (err)
		return err;
	pthread_mutex_lock(&r->lock);
	if (r->nfresh && (err = write_run(r)) == 0)
		r->nfresh = 0;
	pthread_mutex_unlock(&r->lock);
	if (!err)
		err = write_root(r);
	if (err && !r->sticky)
		r->sticky = err;
	return err;
}

const uint8_t *vg_repo_master(const struct vg_repo *r) { return r && r->root.cfg.enc ? r->master : NULL; }
