/*
 * test_chunker.c - content-defined chunking: sizes within bounds, the
 * input reassembled exactly, boundaries that survive an insertion (what
 * makes dedup work on edited files), a fixed vector (a changed algorithm
 * would silently stop deduplicating against old snapshots), and the
 * HMAC-SHA256 object ids against RFC 4231.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "repo/chunker.h"
#include "repo/id.h"
#include "t.h"

#define SMALL_MIN 4096u
#define SMALL_AVG 16384u
#define SMALL_MAX 65536u

static void small_params(struct vg_chunker_params *p, uint64_t seed)
{
	*p = (struct vg_chunker_params){.alg = VG_CHUNKER_FASTCDC, .min = SMALL_MIN, .avg = SMALL_AVG,
					.max = SMALL_MAX, .seed = seed};
}

/* Cut all of buf, feeding it the way a reader does (windows of at most
 * `window` bytes past the current position).  Returns the number of
 * chunks; cuts[] receives their lengths. */
static size_t cut_all(const struct vg_chunker *c, const uint8_t *buf, size_t len, size_t window, size_t *cuts,
		      size_t maxcuts)
{
	size_t pos = 0, n = 0;
	while (pos < len && n < maxcuts) {
		size_t avail = len - pos < window ? len - pos : window;
		bool eof = pos + avail == len;
		size_t cut = vg_chunker_cut(c, buf + pos, avail, eof);
		if (cut == 0)
			return 0; /* cannot happen with window >= max */
		cuts[n++] = cut;
		pos += cut;
	}
	return n;
}

TEST(params_are_validated)
{
	struct vg_chunker c;
	struct vg_chunker_params p;
	vg_chunker_defaults(&p, 1);
	T_OK(vg_chunker_init(&c, &p));
	T_EQ(p.min, 512u << 10);
	T_EQ(p.avg, 1u << 20);
	T_EQ(p.max, 8u << 20);
	p.avg = 3u << 19; /* not a power of two */
	T_EQ(vg_chunker_init(&c, &p), VG_EINVAL);
	vg_chunker_defaults(&p, 1);
	p.max = 64u << 20; /* would not fit a pool block */
	T_EQ(vg_chunker_init(&c, &p), VG_EINVAL);
	vg_chunker_defaults(&p, 1);
	p.min = p.avg;
	T_EQ(vg_chunker_init(&c, &p), VG_EINVAL);
	vg_chunker_defaults(&p, 1);
	p.alg = 9;
	T_EQ(vg_chunker_init(&c, &p), VG_EVERSION);
}

TEST(sizes_within_bounds_and_reassembles)
{
	size_t len = 8u << 20;
	uint8_t *buf = malloc(len);
	size_t *cuts = malloc(4096 * sizeof *cuts);
	struct vg_chunker c;
	struct vg_chunker_params p;
	small_params(&p, 7);
	T_OK(vg_chunker_init(&c, &p));
	t_fill(buf, len, 11);
	size_t n = cut_all(&c, buf, len, SMALL_MAX, cuts, 4096), total = 0;
	T_CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		T_CHECKF(cuts[i] <= SMALL_MAX, "chunk %zu is %zu bytes", i, cuts[i]);
		T_CHECKF(i == n - 1 || cuts[i] >= SMALL_MIN, "chunk %zu is %zu bytes", i, cuts[i]);
		total += cuts[i];
	}
	T_EQ(total, len);
	/* normalised chunking keeps the mean near avg */
	T_CHECKF(len / n > SMALL_AVG / 2 && len / n < SMALL_AVG * 2, "mean chunk %zu", len / n);
	/* a larger read window gives the same boundaries */
	size_t *cuts2 = malloc(4096 * sizeof *cuts2);
	T_EQ(cut_all(&c, buf, len, 5 * SMALL_MAX + 17, cuts2, 4096), n);
	T_CHECK(!memcmp(cuts, cuts2, n * sizeof *cuts));
	free(cuts2);
	free(cuts);
	free(buf);
}

TEST(zeros_cut_at_max_and_short_input_waits)
{
	struct vg_chunker c;
	struct vg_chunker_params p;
	small_params(&p, 1);
	T_OK(vg_chunker_init(&c, &p));
	uint8_t *z = calloc(1, 3 * SMALL_MAX);
	T_EQ(vg_chunker_cut(&c, z, 3 * SMALL_MAX, false), SMALL_MAX);
	T_EQ(vg_chunker_cut(&c, z, 100, false), 0); /* needs more */
	T_EQ(vg_chunker_cut(&c, z, 100, true), 100);
	T_EQ(vg_chunker_cut(&c, z, 0, true), 0);
	free(z);
}

/* Boundaries as offsets in the stream. */
static size_t offsets(const size_t *cuts, size_t n, size_t *off)
{
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		off[i] = at += cuts[i];
	return n;
}

TEST(boundaries_survive_an_insertion)
{
	size_t len = 4u << 20, ins = 777;
	uint8_t *a = malloc(len), *b = malloc(len + ins);
	size_t *ca = malloc(2048 * sizeof *ca), *cb = malloc(2048 * sizeof *cb);
	size_t *oa = malloc(2048 * sizeof *oa), *ob = malloc(2048 * sizeof *ob);
	struct vg_chunker c;
	struct vg_chunker_params p;
	small_params(&p, 5);
	T_OK(vg_chunker_init(&c, &p));
	t_fill(a, len, 99);
	size_t at = 100000; /* insert near the start */
	memcpy(b, a, at);
	t_fill(b + at, ins, 1234);
	memcpy(b + at + ins, a + at, len - at);
	size_t na = offsets(ca, cut_all(&c, a, len, SMALL_MAX, ca, 2048), oa);
	size_t nb = offsets(cb, cut_all(&c, b, len + ins, SMALL_MAX, cb, 2048), ob);
	/* every boundary after the edit (plus one chunk) reappears, shifted */
	size_t shared = 0, after = 0;
	for (size_t i = 0; i < na; i++) {
		if (oa[i] < at + SMALL_MAX)
			continue;
		after++;
		for (size_t j = 0; j < nb; j++)
			if (ob[j] == oa[i] + ins) {
				shared++;
				break;
			}
	}
	T_CHECK(after > 100);
	T_CHECKF(shared + 1 >= after, "%zu of %zu boundaries survived", shared, after);
	free(a);
	free(b);
	free(ca);
	free(cb);
	free(oa);
	free(ob);
}

/* A reader that grows its buffer in small odd steps and resumes the scan
 * (vg_chunker_scan) must find exactly the boundaries of one call over a
 * full window, whatever the step: otherwise dedup against snapshots taken
 * with another read size would silently stop. */
TEST(resumed_scan_finds_the_same_boundaries)
{
	struct vg_chunker c;
	struct vg_chunker_params p;
	small_params(&p, 42);
	T_OK(vg_chunker_init(&c, &p));
	size_t len = 3u << 20;
	uint8_t *buf = malloc(len);
	T_CHECK(buf);
	t_fill(buf, len, 9);
	memset(buf + (1u << 20), 0, 200000); /* a run that only max can cut */
	static size_t want[4096], got[4096];
	size_t nw = cut_all(&c, buf, len, SMALL_MAX, want, 4096);
	T_CHECK(nw > 50);
	size_t steps[] = {1, 63, 64, 65, 4095, 12345, SMALL_MAX};
	for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
		size_t pos = 0, n = 0, have = 0, from = 0;
		while (pos < len && n < 4096) {
			bool eof = pos + have == len;
			size_t cut = vg_chunker_scan(&c, buf + pos, have, eof, &from);
			if (!cut) {
				have += len - pos - have < steps[k] ? len - pos - have : steps[k];
				continue;
			}
			got[n++] = cut;
			pos += cut;
			have = 0; /* the next chunk is fed from its start */
			from = 0;
		}
		T_CHECKF(n == nw && !memcmp(got, want, n * sizeof *got), "step %zu: %zu chunks, expected %zu", steps[k],
			 n, nw);
	}
	free(buf);
}

/* The definition of a boundary, one byte at a time: the chunker must
 * find exactly these, however it gets there. */
static size_t reference_cut(const struct vg_chunker *c, const uint8_t *p, size_t len)
{
	size_t n = len < c->p.max ? len : c->p.max, normal = c->p.avg < n ? c->p.avg : n;
	uint64_t h = 0;
	for (size_t i = c->p.min; i < n; i++) {
		h = (h << 1) + c->gear[p[i]];
		if (!(h & (i < normal ? c->mask_s : c->mask_l)))
			return i + 1;
	}
	return n;
}

/* Chunks long enough for the chunker's side-by-side lanes, with cuts
 * landing in every lane of a window and runs that only max can cut. */
TEST(boundaries_match_the_byte_at_a_time_definition)
{
	struct vg_chunker_params ps[3];
	small_params(&ps[0], 5);
	ps[1] = (struct vg_chunker_params){.alg = VG_CHUNKER_FASTCDC, .min = 16384, .avg = 65536, .max = 524288, .seed = 6};
	vg_chunker_defaults(&ps[2], 7);
	size_t len = 24u << 20;
	uint8_t *buf = malloc(len);
	T_CHECK(buf);
	for (int k = 0; k < 3; k++) {
		struct vg_chunker c;
		T_OK(vg_chunker_init(&c, &ps[k]));
		t_fill(buf, len, 100 + k);
		memset(buf + (5u << 20), 0, 9u << 20);
		size_t pos = 0, chunks = 0;
		while (pos < len) {
			size_t want = reference_cut(&c, buf + pos, len - pos);
			size_t got = vg_chunker_cut(&c, buf + pos, len - pos, true);
			T_CHECKF(got == want, "params %d, chunk at %zu: %zu bytes, the definition gives %zu", k, pos,
				 got, want);
			if (got != want)
				break;
			pos += got;
			chunks++;
		}
		T_CHECKF(chunks >= 10, "params %d: only %zu chunks", k, chunks);
	}
	free(buf);
}

TEST(fixed_vector)
{
	/* Recorded from this implementation: FastCDC, gear table from
	 * splitmix64(seed 42), 4K/16K/64K, t_fill(seed 2024) input.  If this
	 * fails, the chunker changed and old vaults stop deduplicating. */
	static const size_t want[] = {5707, 20778, 18994, 8953, 17904, 13135, 19520, 20058};
	size_t len = 1u << 20, cuts[64];
	uint8_t *buf = malloc(len);
	struct vg_chunker c;
	struct vg_chunker_params p;
	small_params(&p, 42);
	T_OK(vg_chunker_init(&c, &p));
	t_fill(buf, len, 2024);
	size_t n = cut_all(&c, buf, len, SMALL_MAX, cuts, 8);
	T_EQ(n, 8);
	for (size_t i = 0; i < 8; i++)
		T_CHECKF(cuts[i] == want[i], "chunk %zu: %zu, recorded %zu", i, cuts[i], want[i]);
	free(buf);
}

static void hex(const struct vg_id *id, char *out) { vg_id_hex(id, out); }

TEST(ids_are_hmac_sha256_rfc4231)
{
	struct vg_idkey k;
	struct vg_id id;
	char h[65];
	uint8_t key1[20];
	memset(key1, 0x0b, sizeof key1);
	T_OK(vg_idkey_init(&k, key1, sizeof key1));
	T_OK(vg_id_compute(&k, "Hi There", 8, &id));
	hex(&id, h);
	T_CHECK(!strcmp(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
	vg_idkey_release(&k);

	T_OK(vg_idkey_init(&k, (const uint8_t *)"Jefe", 4));
	T_OK(vg_id_compute(&k, "what do ya want for nothing?", 28, &id));
	hex(&id, h);
	T_CHECK(!strcmp(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
	/* the keyed state is reused: a second object gives the same answer */
	T_OK(vg_id_compute(&k, "what do ya want for nothing?", 28, &id));
	hex(&id, h);
	T_CHECK(!strcmp(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
	vg_idkey_release(&k);

	uint8_t key6[131];
	memset(key6, 0xaa, sizeof key6);
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	T_OK(vg_idkey_init(&k, key6, sizeof key6));
	T_OK(vg_id_compute(&k, m6, strlen(m6), &id));
	hex(&id, h);
	T_CHECK(!strcmp(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
	vg_idkey_release(&k);
}

TEST(id_hex_parse)
{
	struct vg_id a, b;
	char h[65];
	t_fill(a.b, sizeof a.b, 8);
	vg_id_hex(&a, h);
	T_OK(vg_id_parse(h, &b));
	T_CHECK(vg_id_eq(&a, &b));
	h[10] = 'g';
	T_EQ(vg_id_parse(h, &b), VG_EINVAL);
	T_EQ(vg_id_parse("abc", &b), VG_EINVAL);
}
