/*
 * test_repo_format.c - the repository's on-disk objects: trees, snapshots,
 * the root, packs, index blocks and runs, sealing.  Each round-trips, and
 * each decoder refuses truncated input at every length and the garbling
 * that matters (order, names, counts, versions) - never crashing.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "repo/key.h"
#include "repo/index.h"
#include "repo/obj.h"
#include "repo/pack.h"
#include "repo/root.h"
#include "repo/snapshot.h"
#include "repo/tree.h"
#include "t.h"

static struct vg_id idn(int n)
{
	struct vg_id id;
	t_fill(id.b, sizeof id.b, (uint64_t)n + 1000);
	return id;
}

static struct vg_bp bpn(int n)
{
	struct vg_bp bp = {.ndva = 1, .cksum_alg = VG_CKSUM_XXH3_128, .type = VG_BT_DATA_PACK,
			   .psize = 4096 * (uint32_t)(n + 1), .birth = 2};
	bp.dva[0].seg = (uint32_t)n;
	bp.dva[0].off = (uint32_t)n * 3;
	t_fill(bp.cksum, 16, (uint64_t)n);
	return bp;
}

/* A directory with every kind of entry and awkward names (sorted). */
static size_t sample_tree(struct vg_tree_entry *e, struct vg_id *chunks)
{
	static const char *names[] = {"\x01ctl", "a file", "dir", "fifo", "link", "new\nline", "\xff\xfe"};
	for (int i = 0; i < 3; i++)
		chunks[i] = idn(i);
	for (size_t i = 0; i < 7; i++) {
		memset(&e[i], 0, sizeof e[i]);
		e[i].name = names[i];
		e[i].name_len = strlen(names[i]);
		e[i].st = (struct vg_fs_stat){.type = VG_FT_FILE, .mode = 0644, .uid = 1000 + (uint32_t)i, .gid = 100,
					      .mtime_ns = 1700000000123456789 + (int64_t)i, .atime_ns = -5,
					      .ctime_ns = 42, .ino = 77 + i, .dev = 2049, .nlink = 1};
	}
	e[1].chunks = chunks;
	e[1].nchunks = 3;
	e[1].st.size = 3000000;
	e[2].st.type = VG_FT_DIR;
	e[2].st.mode = 01777;
	e[2].subtree = idn(9);
	e[3].st.type = VG_FT_FIFO;
	e[4].st.type = VG_FT_SYMLINK;
	e[4].target = "../../some where/\xff";
	e[6].st.type = VG_FT_CHR;
	e[6].st.rdev = 0x0501;
	return 7;
}

TEST(tree_round_trip)
{
	struct vg_tree_entry e[8];
	struct vg_id chunks[3];
	struct vg_buf b = {0};
	struct vg_tree t;
	size_t n = sample_tree(e, chunks);
	T_OK(vg_tree_encode(e, n, &b));
	T_EQ(vg_tree_kind(b.p, b.len), VG_TREE_KIND_ENTRIES);
	T_OK(vg_tree_decode(b.p, b.len, &t));
	T_EQ(t.n, n);
	for (size_t i = 0; i < n; i++) {
		T_CHECK(t.e[i].name_len == e[i].name_len && !memcmp(t.e[i].name, e[i].name, e[i].name_len));
		T_CHECK(!memcmp(&t.e[i].st, &e[i].st, sizeof e[i].st));
	}
	T_EQ(t.e[1].nchunks, 3);
	T_CHECK(vg_id_eq(&t.e[1].chunks[2], &chunks[2]));
	T_CHECK(vg_id_eq(&t.e[2].subtree, &e[2].subtree));
	T_CHECK(!strcmp(t.e[4].target, e[4].target));
	T_CHECK(vg_tree_find(&t, "new\nline", 8) == &t.e[5]);
	T_CHECK(vg_tree_find(&t, "nope", 4) == NULL);
	vg_tree_release(&t);
	for (size_t cut = 0; cut < b.len; cut++) {
		T_CHECKF(vg_tree_decode(b.p, cut, &t) < 0, "a tree cut at %zu bytes decoded", cut);
		vg_tree_release(&t);
	}
	vg_buf_release(&b);
}

TEST(tree_encoder_refuses_bad_input)
{
	struct vg_tree_entry e[8];
	struct vg_id chunks[3];
	struct vg_buf b = {0};
	size_t n = sample_tree(e, chunks);
	struct vg_tree_entry x = e[1];
	e[1] = e[2];
	e[2] = x; /* out of order */
	T_EQ(vg_tree_encode(e, n, &b), VG_EINVAL);
	sample_tree(e, chunks);
	e[0].name = "..";
	e[0].name_len = 2;
	T_EQ(vg_tree_encode(e, n, &b), VG_EINVAL);
	sample_tree(e, chunks);
	e[1].name = "a/b";
	e[1].name_len = 3;
	T_EQ(vg_tree_encode(e, n, &b), VG_EINVAL);
	vg_buf_release(&b);
}

/* One hand-made entry: name, type, then the fixed metadata of a file
 * without content - what a hostile vault could hold. */
static void raw_entry(struct vg_buf *b, const char *name, size_t len, uint8_t type, uint64_t mode)
{
	vg_buf_addvar(b, len);
	vg_buf_add(b, name, len);
	vg_buf_add8(b, type);
	vg_buf_addvar(b, mode);
	vg_buf_addvar(b, 0);
	vg_buf_addvar(b, 0);
	for (int i = 0; i < 3; i++)
		vg_buf_add64(b, 0);
	for (int i = 0; i < 4; i++)
		vg_buf_addvar(b, 0);
	if (type == VG_FT_FILE)
		vg_buf_addvar(b, 0);
	vg_buf_addvar(b, 0);
}

static int decode_raw(const char *n1, size_t l1, const char *n2, size_t l2, uint8_t type, uint64_t mode)
{
	struct vg_buf b = {0};
	struct vg_tree t;
	vg_buf_add8(&b, 1);
	vg_buf_add8(&b, 0);
	vg_buf_addvar(&b, n2 ? 2 : 1);
	raw_entry(&b, n1, l1, type, mode);
	if (n2)
		raw_entry(&b, n2, l2, VG_FT_FILE, 0644);
	int err = vg_tree_decode(b.p, b.len, &t);
	vg_tree_release(&t);
	vg_buf_release(&b);
	return err;
}

TEST(tree_decoder_refuses_hostile_entries)
{
	T_OK(decode_raw("ok", 2, NULL, 0, VG_FT_FILE, 0644));
	T_EQ(decode_raw("..", 2, NULL, 0, VG_FT_FILE, 0644), VG_ECORRUPT);
	T_EQ(decode_raw(".", 1, NULL, 0, VG_FT_FILE, 0644), VG_ECORRUPT);
	T_EQ(decode_raw("../../etc/passwd", 16, NULL, 0, VG_FT_FILE, 0644), VG_ECORRUPT);
	T_EQ(decode_raw("/etc", 4, NULL, 0, VG_FT_FILE, 0644), VG_ECORRUPT);
	T_EQ(decode_raw("a\0b", 3, NULL, 0, VG_FT_FILE, 0644), VG_ECORRUPT);
	T_EQ(decode_raw("", 0, NULL, 0, VG_FT_FILE, 0644), VG_ECORRUPT);
	T_EQ(decode_raw("b", 1, "a", 1, VG_FT_FILE, 0644), VG_ECORRUPT); /* unsorted */
	T_EQ(decode_raw("a", 1, "a", 1, VG_FT_FILE, 0644), VG_ECORRUPT); /* duplicate */
	T_EQ(decode_raw("a", 1, NULL, 0, 99, 0644), VG_ECORRUPT);        /* unknown type */
	T_EQ(decode_raw("a", 1, NULL, 0, VG_FT_FILE, 010000), VG_ECORRUPT);
}

TEST(tree_parts_round_trip)
{
	struct vg_id parts[3] = {idn(1), idn(2), idn(3)}, *got;
	struct vg_buf b = {0};
	size_t n;
	uint64_t total;
	T_OK(vg_tree_parts_encode(parts, 3, 2 * VG_TREE_PART_MAX + 5, &b));
	T_EQ(vg_tree_kind(b.p, b.len), VG_TREE_KIND_PARTS);
	T_OK(vg_tree_parts_decode(b.p, b.len, &got, &n, &total));
	T_EQ(n, 3);
	T_EQ(total, 2 * VG_TREE_PART_MAX + 5);
	T_CHECK(vg_id_eq(&got[2], &parts[2]));
	free(got);
	T_OK(vg_tree_parts_encode(parts, 3, VG_TREE_PART_MAX, &b)); /* total too small for 3 parts */
	T_EQ(vg_tree_parts_decode(b.p, b.len, &got, &n, &total), VG_ECORRUPT);
	T_EQ(vg_tree_parts_decode(b.p, b.len - 1, &got, &n, &total), VG_ECORRUPT);
	vg_buf_release(&b);
}

TEST(snapshot_round_trip_and_truncation)
{
	struct vg_snapshot s = {.time_ns = 1700000000000000001, .verdict = VG_VERDICT_INCOMPLETE,
				.has_parent = true, .reasons_dropped = 3};
	struct vg_snapshot d;
	struct vg_buf b = {0};
	s.host = "host\xff";
	T_OK(vg_snapshot_add_str(&s.tags, &s.ntags, "daily"));
	T_OK(vg_snapshot_add_str(&s.tags, &s.ntags, "db"));
	T_OK(vg_snapshot_add_str(&s.paths, &s.npaths, "/srv/a b"));
	T_OK(vg_snapshot_add_str(&s.reasons, &s.nreasons, "/srv/a b/x: cannot open: permission denied"));
	s.root = idn(5);
	s.parent = idn(6);
	s.stats = (struct vg_snap_stats){1, 2, 3, 4, 5, 6, 7, 8};
	T_OK(vg_snapshot_encode(&s, &b));
	T_OK(vg_snapshot_decode(b.p, b.len, &d));
	T_CHECK(d.time_ns == s.time_ns && !strcmp(d.host, s.host) && d.ntags == 2 && !strcmp(d.tags[1], "db"));
	T_CHECK(d.npaths == 1 && !strcmp(d.paths[0], "/srv/a b") && vg_id_eq(&d.root, &s.root));
	T_CHECK(d.has_parent && vg_id_eq(&d.parent, &s.parent) && d.verdict == VG_VERDICT_INCOMPLETE);
	T_CHECK(d.nreasons == 1 && d.reasons_dropped == 3 && !memcmp(&d.stats, &s.stats, sizeof s.stats));
	vg_snapshot_release(&d);
	for (size_t cut = 0; cut < b.len; cut++) {
		T_CHECKF(vg_snapshot_decode(b.p, cut, &d) < 0, "a snapshot cut at %zu bytes decoded", cut);
		vg_snapshot_release(&d);
	}
	b.p[0] = 2; /* a future version */
	T_EQ(vg_snapshot_decode(b.p, b.len, &d), VG_EVERSION);
	vg_buf_release(&b);
	s.host = NULL;
	vg_snapshot_release(&s);
}

static void sample_root(struct vg_root *r)
{
	memset(r, 0, sizeof *r);
	t_fill(r->cfg.repo_id, sizeof r->cfg.repo_id, 1);
	r->cfg.created_ns = 123;
	r->cfg.comp = VG_COMP_ZSTD;
	r->cfg.level = 3;
	vg_chunker_defaults(&r->cfg.chunker, 77);
	r->cfg.keylen = VG_ID_KEY_LEN;
	t_fill(r->cfg.key, VG_ID_KEY_LEN, 2);
	r->nsnaps = 2;
	r->snaps = calloc(2, sizeof *r->snaps);
	for (int i = 0; i < 2; i++)
		r->snaps[i] = (struct vg_snapref){idn(i), 1000 + i, bpn(i)};
	r->nruns = 1;
	r->runs = calloc(1, sizeof *r->runs);
	r->runs[0] = (struct vg_runref){12345, bpn(7)};
}

TEST(root_round_trip_and_rejections)
{
	struct vg_root r, d;
	struct vg_buf b = {0};
	sample_root(&r);
	T_OK(vg_root_encode(&r, &b));
	T_OK(vg_root_decode(b.p, b.len, &d));
	T_CHECK(!memcmp(&d.cfg, &r.cfg, sizeof r.cfg));
	T_CHECK(d.nsnaps == 2 && vg_id_eq(&d.snaps[1].id, &r.snaps[1].id) && d.snaps[1].bp.dva[0].off == 3);
	T_CHECK(d.nruns == 1 && d.runs[0].count == 12345);
	vg_root_release(&d);
	for (size_t cut = 0; cut < b.len; cut++)
		T_CHECKF(vg_root_decode(b.p, cut, &d) < 0, "a root cut at %zu bytes decoded", cut);
	b.p[4] = 2;
	T_EQ(vg_root_decode(b.p, b.len, &d), VG_EVERSION);
	b.p[4] = 1;
	b.p[0] = 'X';
	T_EQ(vg_root_decode(b.p, b.len, &d), VG_ECORRUPT);
	vg_root_release(&r);
	r.cfg.enc = 7; /* a vault this version cannot read */
	T_OK(vg_root_encode(&r, &b));
	T_EQ(vg_root_decode(b.p, b.len, &d), VG_EVERSION);
	vg_buf_release(&b);
}

TEST(pack_round_trip_and_rejections)
{
	struct vg_pack_builder pb;
	struct vg_buf out = {0};
	struct vg_pack_entry *e;
	uint32_t n;
	vg_pack_init(&pb);
	struct vg_id a = idn(1), c = idn(2);
	T_OK(vg_pack_add(&pb, &a, VG_OT_CHUNK, VG_COMP_NONE, VG_ENC_NONE, "hello", 5, 5));
	T_OK(vg_pack_add(&pb, &c, VG_OT_TREE, VG_COMP_ZSTD, VG_ENC_NONE, "xyz", 3, 40));
	T_OK(vg_pack_finish(&pb, NULL, &out));
	T_OK(vg_pack_decode(out.p, out.len, NULL, &e, &n));
	T_EQ(n, 2);
	T_CHECK(vg_id_eq(&e[1].id, &c) && e[1].otype == VG_OT_TREE && e[1].rlen == 40 && e[1].slen == 3);
	T_CHECK(!memcmp(out.p + e[0].off, "hello", 5) && !memcmp(out.p + e[1].off, "xyz", 3));
	free(e);
	for (size_t cut = 0; cut < out.len; cut++) {
		T_CHECKF(vg_pack_decode(out.p, cut, NULL, &e, &n) < 0, "a pack cut at %zu bytes decoded", cut);
		free(e);
	}
	/* the table ends the block; the second object claims to overlap the
	 * first, then to run into the table */
	uint32_t tab = vg_get32(out.p + 12);
	T_EQ(tab + 2 * VG_PACK_ENTRY, out.len);
	uint32_t off0 = vg_get32(out.p + tab + 36);
	vg_put32(out.p + tab + VG_PACK_ENTRY + 36, off0 + 2);
	T_EQ(vg_pack_decode(out.p, out.len, NULL, &e, &n), VG_ECORRUPT);
	vg_put32(out.p + tab + VG_PACK_ENTRY + 36, tab - 2);
	T_EQ(vg_pack_decode(out.p, out.len, NULL, &e, &n), VG_ECORRUPT);
	out.p[4] = 1; /* the first format, table first: no longer read */
	T_EQ(vg_pack_decode(out.p, out.len, NULL, &e, &n), VG_EVERSION);
	vg_pack_release(&pb);
	vg_buf_release(&out);
}

/* In an encrypted vault the pack table (ids, types, sizes) is sealed too:
 * it reads back with the key, not without it or with another. */
TEST(encrypted_pack_table)
{
	static uint8_t key[VG_DATA_KEY_LEN] = {3, 1, 4}, other[VG_DATA_KEY_LEN] = {2, 7};
	struct vg_sealer s, t;
	struct vg_pack_builder pb;
	struct vg_buf out = {0};
	struct vg_pack_entry *e = NULL;
	uint32_t n;
	T_OK(vg_sealer_init(&s, 1, VG_ENC_REPOKEY, key));
	T_OK(vg_sealer_init(&t, 1, VG_ENC_REPOKEY, other));
	vg_pack_init(&pb);
	struct vg_id a = idn(0x51), c = idn(0x52);
	T_OK(vg_pack_add(&pb, &a, VG_OT_CHUNK, VG_COMP_NONE, VG_ENC_REPOKEY, "hello", 5, 5));
	T_OK(vg_pack_add(&pb, &c, VG_OT_TREE, VG_COMP_ZSTD, VG_ENC_REPOKEY, "xyz", 3, 40));
	T_OK(vg_pack_finish(&pb, &s, &out));
	T_EQ(out.p[5], VG_ENC_REPOKEY);
	T_CHECK(!memmem(out.p, out.len, a.b, VG_ID_LEN) && !memmem(out.p, out.len, c.b, VG_ID_LEN));
	T_OK(vg_pack_decode(out.p, out.len, &s, &e, &n));
	T_EQ(n, 2);
	T_CHECK(vg_id_eq(&e[0].id, &a) && vg_id_eq(&e[1].id, &c) && e[1].rlen == 40);
	free(e);
	T_EQ(vg_pack_decode(out.p, out.len, NULL, &e, &n), VG_EKEY);
	T_EQ(vg_pack_decode(out.p, out.len, &t, &e, &n), VG_ECORRUPT);
	out.p[out.len - 20] ^= 1;
	T_EQ(vg_pack_decode(out.p, out.len, &s, &e, &n), VG_ECORRUPT);
	for (size_t cut = 0; cut < out.len; cut++)
		T_CHECKF(vg_pack_decode(out.p, cut, &s, &e, &n) < 0, "a pack cut at %zu bytes decoded", cut);
	vg_pack_release(&pb);
	vg_buf_release(&out);
	vg_sealer_release(&s);
	vg_sealer_release(&t);
}

TEST(index_block_and_run_round_trip)
{
	struct vg_sealer s;
	struct vg_buf b = {0};
	struct vg_bp tab[2] = {bpn(0), bpn(2)};
	T_OK(vg_sealer_init(&s, 3, VG_ENC_NONE, NULL));
	struct vg_index_entry e[50];
	for (int i = 0; i < 50; i++)
		e[i] = (struct vg_index_entry){.id = idn(i), .pack = (uint32_t)(i % 2), .off = 64u * (uint32_t)i,
					       .slen = 10, .rlen = 20, .otype = VG_OT_CHUNK, .comp = VG_COMP_ZSTD};
	for (int i = 0; i < 50; i++) /* sort by id */
		for (int j = i + 1; j < 50; j++)
			if (vg_id_cmp(&e[j].id, &e[i].id) < 0) {
				struct vg_index_entry t = e[i];
				e[i] = e[j];
				e[j] = t;
			}
	T_OK(vg_index_block_encode(&s, tab, 2, e, 50, &b));
	struct vg_bp *packs;
	struct vg_index_entry *got;
	uint32_t np, n;
	T_OK(vg_index_block_decode(NULL, b.p, b.len, &packs, &np, &got, &n));
	T_EQ(np, 2);
	T_EQ(n, 50);
	for (uint32_t i = 0; i < n; i++) {
		T_CHECK(vg_id_eq(&got[i].id, &e[i].id) && got[i].off == e[i].off);
		T_CHECK(packs[got[i].pack].dva[0].seg == tab[e[i].pack].dva[0].seg);
	}
	free(packs);
	free(got);
	T_OK(vg_index_block_packs(b.p, b.len, &packs, &np)); /* the keyless view */
	T_EQ(np, 2);
	free(packs);
	for (size_t cut = 0; cut < b.len; cut++) {
		T_CHECKF(vg_index_block_decode(NULL, b.p, cut, &packs, &np, &got, &n) < 0, "cut at %zu decoded", cut);
		free(packs);
		free(got);
	}
	b.p[4] = 1; /* the version before filters: refused, not guessed */
	T_EQ(vg_index_block_decode(NULL, b.p, b.len, &packs, &np, &got, &n), VG_EVERSION);
	struct vg_index_entry sw = e[3];
	e[3] = e[4];
	e[4] = sw; /* out of order: the writer refuses it */
	T_EQ(vg_index_block_encode(&s, tab, 2, e, 50, &b), VG_EINVAL);

	struct vg_index_fence f[2] = {{idn(1), idn(1), 1, bpn(1)}, {idn(2), idn(2), 1, bpn(2)}};
	if (vg_id_cmp(&f[0].first, &f[1].first) > 0) {
		struct vg_index_fence t = f[0];
		f[0] = f[1];
		f[1] = t;
	}
	struct vg_bp fp = bpn(7);
	struct vg_index_run run = {.f = f, .nblocks = 2, .flines = 1, .fparts = &fp, .nfparts = 1}, gr;
	T_OK(vg_index_run_encode(&run, &b));
	T_OK(vg_index_run_decode(b.p, b.len, &gr));
	T_CHECK(gr.nblocks == 2 && gr.total == 2 && vg_id_eq(&gr.f[1].last, &f[1].last));
	T_CHECK(gr.flines == 1 && gr.nfparts == 1 && gr.fparts[0].dva[0].seg == fp.dva[0].seg);
	vg_index_run_release(&gr);
	for (size_t cut = 0; cut < b.len; cut++)
		T_CHECKF(vg_index_run_decode(b.p, cut, &gr) < 0, "a run cut at %zu decoded", cut);
	size_t fence0 = VG_INDEX_RUN_HDR + VG_BP_SIZE;
	vg_put32(b.p + fence0 + 64, 5); /* count disagrees with the total */
	T_EQ(vg_index_run_decode(b.p, b.len, &gr), VG_ECORRUPT);
	vg_put32(b.p + fence0 + 64, 1);
	vg_put32(b.p + 20, 70000); /* a filter that needs two blocks, one listed */
	T_EQ(vg_index_run_decode(b.p, b.len, &gr), VG_ECORRUPT);
	vg_put32(b.p + 20, 1);
	b.p[5] = 2; /* an unknown filter kind */
	T_EQ(vg_index_run_decode(b.p, b.len, &gr), VG_EVERSION);
	b.p[5] = 1;
	b.p[4] = 1;
	T_EQ(vg_index_run_decode(b.p, b.len, &gr), VG_EVERSION);
	vg_buf_release(&b);
	vg_sealer_release(&s);
}

TEST(index_table_finds_and_grows)
{
	struct vg_index x;
	vg_index_init(&x);
	for (int i = 0; i < 5000; i++) {
		struct vg_index_entry e = {.id = idn(i), .otype = VG_OT_CHUNK, .off = (uint32_t)i};
		T_OK(vg_index_insert(&x, &e, NULL));
	}
	struct vg_index_entry dup = {.id = idn(17), .otype = VG_OT_CHUNK};
	T_EQ(vg_index_insert(&x, &dup, NULL), VG_EEXIST);
	for (int i = 0; i < 5000; i++) {
		struct vg_id id = idn(i);
		const struct vg_index_entry *e = vg_index_find(&x, &id);
		T_CHECK(e && e->off == (uint32_t)i);
	}
	struct vg_id missing = idn(6000);
	T_CHECK(!vg_index_find(&x, &missing));
	vg_index_release(&x);
}

TEST(sealing_compresses_or_stores_raw)
{
	struct vg_sealer s;
	struct vg_buf st = {0}, back = {0};
	uint8_t comp;
	T_OK(vg_sealer_init(&s, 3, VG_ENC_NONE, NULL));
	char text[10000];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = "abcdefgh "[i % 9];
	T_OK(vg_seal(&s, text, sizeof text, true, &st, &comp));
	T_EQ(comp, VG_COMP_ZSTD);
	T_CHECK(st.len < sizeof text / 10);
	T_OK(vg_unseal(&s, comp, VG_ENC_NONE, st.p, st.len, sizeof text, &back, "test"));
	T_CHECK(back.len == sizeof text && !memcmp(back.p, text, sizeof text));
	vg_buf_reset(&back);
	T_EQ(vg_unseal(&s, comp, VG_ENC_NONE, st.p, st.len, sizeof text + 1, &back, "test"), VG_ECORRUPT);
	vg_buf_reset(&back);
	T_EQ(vg_unseal(&s, comp, VG_ENC_NONE, st.p, st.len / 2, sizeof text, &back, "test"), VG_ECORRUPT);
	vg_buf_reset(&back);
	T_EQ(vg_unseal(&s, 7, VG_ENC_NONE, st.p, st.len, sizeof text, &back, "test"), VG_EVERSION);
	vg_buf_reset(&back);
	T_EQ(vg_unseal(&s, comp, 9, st.p, st.len, sizeof text, &back, "test"), VG_EVERSION);
	vg_buf_reset(&back);
	T_EQ(vg_unseal(&s, comp, VG_ENC_REPOKEY, st.p, st.len, sizeof text, &back, "test"), VG_EKEY);
	struct vg_buf empty = {0}; /* nothing allocated yet */
	T_EQ(vg_unseal(&s, VG_COMP_ZSTD, VG_ENC_NONE, st.p, st.len, 0, &empty, "test"), VG_ECORRUPT);
	vg_buf_release(&empty);
	uint8_t rnd[4096];
	t_fill(rnd, sizeof rnd, 5);
	vg_buf_reset(&st);
	T_OK(vg_seal(&s, rnd, sizeof rnd, true, &st, &comp));
	T_EQ(comp, VG_COMP_NONE); /* incompressible: stored raw, never larger */
	T_EQ(st.len, sizeof rnd);
	vg_buf_reset(&st);
	T_OK(vg_frame_encode(&s, VG_OT_SNAPSHOT, text, sizeof text, true, &st));
	vg_buf_reset(&back);
	T_OK(vg_frame_decode(&s, VG_OT_SNAPSHOT, st.p, st.len, &back, "frame"));
	T_EQ(back.len, sizeof text);
	vg_buf_reset(&back);
	T_EQ(vg_frame_decode(&s, VG_OT_TREE, st.p, st.len, &back, "frame"), VG_ECORRUPT);
	vg_buf_release(&st);
	vg_buf_release(&back);
	vg_sealer_release(&s);
}

TEST(encrypted_sealing_round_trip_and_tamper)
{
	static uint8_t key[VG_DATA_KEY_LEN] = {1, 2, 3}, other[VG_DATA_KEY_LEN] = {9};
	struct vg_sealer s, t;
	struct vg_buf st = {0}, back = {0};
	char text[4000];
	uint8_t comp;
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (char)('a' + i % 7);
	T_OK(vg_sealer_init(&s, 3, VG_ENC_REPOKEY, key));
	T_OK(vg_sealer_init(&t, 3, VG_ENC_REPOKEY, other));
	T_OK(vg_seal(&s, text, sizeof text, true, &st, &comp));
	T_EQ(comp, VG_COMP_ZSTD);
	T_CHECK(!memmem(st.p, st.len, "abcdefgabcdefg", 14));
	T_OK(vg_unseal(&s, comp, VG_ENC_REPOKEY, st.p, st.len, sizeof text, &back, "test"));
	T_CHECK(back.len == sizeof text && !memcmp(back.p, text, sizeof text));
	vg_buf_reset(&back);
	T_EQ(vg_unseal(&t, comp, VG_ENC_REPOKEY, st.p, st.len, sizeof text, &back, "test"), VG_ECORRUPT);
	st.p[st.len / 2] ^= 1;
	T_EQ(vg_unseal(&s, comp, VG_ENC_REPOKEY, st.p, st.len, sizeof text, &back, "test"), VG_ECORRUPT);
	T_EQ(vg_unseal(&s, comp, VG_ENC_REPOKEY, st.p, 10, sizeof text, &back, "test"), VG_ECORRUPT);
	vg_sealer_release(&s);
	vg_sealer_release(&t);
	vg_buf_release(&st);
	vg_buf_release(&back);
}

/* Nonces never repeat under a key: sealing the same bytes again, by the
 * same sealer or by another one (another thread or run), never gives the
 * same nonce - a repeat would leak the XOR of two plaintexts. */
TEST(nonces_never_repeat)
{
	static uint8_t key[VG_DATA_KEY_LEN] = {4, 5, 6};
	enum { SEALERS = 3, EACH = 500 };
	static uint8_t seen[SEALERS * EACH][VG_SEAL_NONCE];
	struct vg_buf st = {0};
	uint8_t comp, plain[32] = {0};
	size_t n = 0;
	for (int k = 0; k < SEALERS; k++) {
		struct vg_sealer s;
		T_OK(vg_sealer_init(&s, 1, VG_ENC_REPOKEY, key));
		for (int i = 0; i < EACH; i++) {
			vg_buf_reset(&st);
			T_OK(vg_seal(&s, plain, sizeof plain, false, &st, &comp));
			memcpy(seen[n++], st.p, VG_SEAL_NONCE);
		}
		vg_sealer_release(&s);
	}
	size_t repeats = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			repeats += !memcmp(seen[i], seen[j], VG_SEAL_NONCE);
	T_EQ(repeats, 0);
	vg_buf_release(&st);
}

/* The stored bytes are libsodium's XChaCha20-Poly1305 (IETF) exactly,
 * whichever library did the work: both directions, raw and compressed,
 * empty and large objects. */
TEST(encrypted_objects_are_libsodiums_xchacha20poly1305)
{
	static uint8_t key[VG_DATA_KEY_LEN] = {7, 1, 2, 3, 200};
	static uint8_t plain[300000], sealed[sizeof plain + VG_SEAL_OVERHEAD];
	struct vg_sealer s;
	struct vg_buf st = {0}, back = {0};
	uint8_t comp;
	T_CHECK(sodium_init() >= 0);
	T_OK(vg_sealer_init(&s, 1, VG_ENC_REPOKEY, key));
	size_t sizes[] = {0, 1, 63, 64, 65, 4096, sizeof plain};
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		size_t n = sizes[k];
		t_fill(plain, n, k + 1);
		vg_buf_reset(&st);
		T_OK(vg_seal(&s, plain, n, false, &st, &comp));
		T_EQ(comp, VG_COMP_NONE);
		T_EQ(st.len, n + VG_SEAL_OVERHEAD);
		unsigned long long mlen = 0;
		uint8_t *m = malloc(n + 1);
		T_CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, NULL, st.p + VG_SEAL_NONCE,
								   st.len - VG_SEAL_NONCE, NULL, 0, st.p, key) == 0);
		T_CHECKF(mlen == n && !memcmp(m, plain, n), "libsodium reads vigil's %zu-byte object", n);
		free(m);
		/* and the other way round */
		randombytes_buf(sealed, VG_SEAL_NONCE);
		crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + VG_SEAL_NONCE, NULL, plain, n, NULL, 0, NULL, sealed,
							   key);
		vg_buf_reset(&back);
		T_OK(vg_unseal(&s, VG_COMP_NONE, VG_ENC_REPOKEY, sealed, n + VG_SEAL_OVERHEAD, n, &back, "test"));
		T_CHECKF(back.len == n && (!n || !memcmp(back.p, plain, n)), "vigil reads libsodium's %zu-byte object", n);
		sealed[VG_SEAL_NONCE + n] ^= 0x80; /* the tag */
		vg_buf_reset(&back);
		T_EQ(vg_unseal(&s, VG_COMP_NONE, VG_ENC_REPOKEY, sealed, n + VG_SEAL_OVERHEAD, n, &back, "test"),
		     VG_ECORRUPT);
	}
	vg_sealer_release(&s);
	vg_buf_release(&st);
	vg_buf_release(&back);
}

TEST(key_wrap_unwrap_wrong_passphrase)
{
	uint8_t master[VG_MASTER_LEN], got[VG_MASTER_LEN], blob[VG_KEYBLOB_LEN], id[16] = {5};
	struct vg_kdf_params kp = {.ops = 1, .mem_kib = 64};
	for (int i = 0; i < VG_MASTER_LEN; i++)
		master[i] = (uint8_t)i;
	T_OK(vg_key_wrap(master, "pw", 2, &kp, id, sizeof id, blob));
	T_OK(vg_key_unwrap(blob, sizeof blob, "pw", 2, id, sizeof id, got));
	T_CHECK(!memcmp(master, got, sizeof got));
	T_EQ(vg_key_unwrap(blob, sizeof blob, "pX", 2, id, sizeof id, got), VG_EKEY);
	id[0] ^= 1; /* a blob copied into another vault */
	T_EQ(vg_key_unwrap(blob, sizeof blob, "pw", 2, id, sizeof id, got), VG_EKEY);
	T_EQ(vg_key_unwrap(blob, sizeof blob - 1, "pw", 2, id, sizeof id, got), VG_ECORRUPT);
	blob[0] = 9;
	T_EQ(vg_key_blob_check(blob, sizeof blob), VG_EVERSION);
	T_EQ(vg_key_wrap(master, "", 0, &kp, id, sizeof id, blob), VG_EINVAL);
}
