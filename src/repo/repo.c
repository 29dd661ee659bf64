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
 *     references it), merged with the newest runs (index_disk.h), then
 *     the new root listing it in place of those runs.
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
	r->no_index = true; /* until the runs are loaded */
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
	vg_dindex_release(&r->dx);
	vg_repo_packer_release(&r->data);
	vg_repo_packer_release(&r->meta);
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
	r->index_block = o ? o->index_block : 0;
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

static const uint8_t *data_key(const struct vg_repo *r) { return r->root.cfg.enc ? r->master : NULL; }

/* Only what is small: each run's header and filter (index_disk.h). */
static int load_index(struct vg_repo *r, const struct vg_repo_opts *o)
{
	int err = vg_dindex_open(&r->dx, r->pool, data_key(r), r->root.runs, r->root.nruns, o ? o->index_cache : 0);
	if (!err)
		r->no_index = false;
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
	if ((err = setup(r, o)) < 0 || (err = load_index(r, o)) < 0 || (err = write_root(r)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	vg_repo_close(r);
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
	    (!(o && o->no_index) && (err = load_index(r, o)) < 0))
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

static int by_id(const void *a, const void *b)
{
	const struct vg_index_entry *x = a, *y = b;
	return vg_id_cmp(&x->id, &y->id);
}

/* Copy the new entries, sorted, and its pack list (r->lock held). */
static int new_entries(struct vg_repo *r, struct vg_index_entry **e, size_t *n, struct vg_bp **packs)
{
	*n = 0;
	*e = malloc((r->idx.n ? r->idx.n : 1) * sizeof **e);
	*packs = malloc((r->idx.npacks ? r->idx.npacks : 1) * sizeof **packs);
	if (!*e || !*packs)
		return VG_ERR(VG_ENOMEM, "out of memory writing the index");
	if (r->idx.npacks)
		memcpy(*packs, r->idx.packs, r->idx.npacks * sizeof **packs);
	for (size_t i = 0; i < r->idx.cap; i++) {
		const struct vg_index_entry *x = &r->idx.slot[i];
		if (!x->otype)
			continue;
		if (x->pack >= r->idx.npacks)
			return VG_ERR(VG_EINVAL, "an object was never written; not committing");
		(*e)[(*n)++] = *x;
	}
	qsort(*e, *n, sizeof **e, by_id);
	return 0;
}

/* The new entries merged with the k newest runs into one new run
 * (written, not yet referenced by any root). */
static int write_index(struct vg_repo *r, struct vg_drun *merged, size_t *k)
{
	struct vg_index_entry *e = NULL, x;
	struct vg_bp *packs = NULL, pack;
	struct vg_imerge m;
	struct vg_run_writer w;
	size_t n = 0;
	memset(&w, 0, sizeof w);
	pthread_mutex_lock(&r->lock);
	int err = new_entries(r, &e, &n, &packs);
	pthread_mutex_unlock(&r->lock);
	*k = vg_dindex_merge_count(r->root.runs, r->root.nruns, n);
	uint64_t max = n;
	vg_imerge_init(&m, r->pool, data_key(r));
	for (size_t i = r->root.nruns - *k; i < r->root.nruns && !err; i++) {
		max += r->root.runs[i].count;
		err = vg_imerge_add_run(&m, &r->dx.run[i].h);
	}
	if (!err)
		err = vg_imerge_add_array(&m, e, n, packs); /* newest */
	int got = 0;
	if (!err && !(err = vg_run_writer_init(&w, r->pool, &r->wsealer, max, r->index_block))) {
		while ((got = vg_imerge_next(&m, &x, &pack)) > 0 && !(err = vg_run_writer_add(&w, &x, &pack)))
			;
		if (got < 0)
			err = got;
		if (!err)
			err = vg_run_writer_finish(&w, merged);
	}
	vg_run_writer_release(&w);
	vg_imerge_release(&m);
	free(e);
	free(packs);
	return err;
}

/* The root's run list with the k newest replaced by merged. */
static int merged_runs(const struct vg_root *root, size_t k, const struct vg_drun *merged, struct vg_runref **out,
		       size_t *n)
{
	size_t keep = root->nruns - k;
	*n = keep + (merged->ref.count ? 1 : 0);
	if (!(*out = malloc((*n ? *n : 1) * sizeof **out)))
		return VG_ERR(VG_ENOMEM, "out of memory");
	if (keep)
		memcpy(*out, root->runs, keep * sizeof **out);
	if (merged->ref.count)
		(*out)[keep] = merged->ref;
	return 0;
}

int vg_repo_commit(struct vg_repo *r)
{
	struct vg_drun merged;
	struct vg_runref *old = r->root.runs, *runs = NULL;
	size_t oldn = r->root.nruns, nruns = 0, k = 0;
	if (r->sticky)
		return VG_ERR(VG_EREADONLY, "an earlier write to this repository failed; nothing is committed");
	memset(&merged, 0, sizeof merged);
	int err = vg_repo_flush(r);
	bool index = !err && r->idx.n;
	if (index && r->no_index)
		err = VG_ERR(VG_EINVAL, "the repository was opened without its index; not committing new objects");
	else if (index && !(err = write_index(r, &merged, &k)) && !(err = merged_runs(&r->root, k, &merged, &runs, &nruns))) {
		r->root.runs = runs;
		r->root.nruns = nruns;
	}
	if (!err)
		err = write_root(r);
	if (index && !err) { /* committed: the vault has the merged run, so must memory */
		free(old);
		pthread_mutex_lock(&r->lock);
		vg_index_release(&r->idx);
		pthread_mutex_unlock(&r->lock);
		err = vg_dindex_replace(&r->dx, k, &merged);
	} else if (index) {
		free(runs);
		r->root.runs = old;
		r->root.nruns = oldn;
	}
	vg_drun_release(&merged);
	if (err && !r->sticky)
		r->sticky = err;
	return err;
}

const uint8_t *vg_repo_master(const struct vg_repo *r) { return r && r->root.cfg.enc ? r->master : NULL; }
