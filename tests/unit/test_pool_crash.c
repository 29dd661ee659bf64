/*
 * test_pool_crash.c - power loss at every write of a workload, and at
 * every sync, directory sync, rename and other metadata call (the power
 * fails as the call is made, so what it would have made durable is not):
 * after the "restart" the vault opens, its root is the last committed one
 * (or the one whose commit was in flight), every block that root names
 * reads back exactly, and the vault takes new commits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "os/fault.h"
#include "pool/pool.h"
#include "t.h"

#define ROUNDS 4
#define PER_ROUND 5
#define MAXDEV 6
#define SEEDS 3

static const char *devs[MAXDEV];
static char devbuf[MAXDEV][512];

static size_t blen(int r, int i) { return (size_t)((r * 7919 + i * 104729) % 300000) + 1; }

/* Root block: u32 round, then the bps of every data block so far. */
struct run {
	int committed;     /* rounds whose commit returned 0 */
	int in_flight;     /* round whose commit was started, or 0 */
};

static int workload(struct vg_os *os, struct run *run)
{
	struct vg_pool *p = NULL;
	struct vg_bp bps[ROUNDS * PER_ROUND];
	int n = 0, err;
	if ((err = vg_pool_open(os, devs[0], VG_POOL_RDWR, &p)))
		return err;
	for (int r = 1; r <= ROUNDS; r++) {
		for (int i = 0; i < PER_ROUND; i++) {
			size_t len = blen(r, i);
			uint8_t *b = malloc(len);
			t_fill(b, len, (uint64_t)(r * 100 + i));
			err = vg_pool_write(p, 1, b, len, 1, &bps[n++]);
			free(b);
			if (err)
				goto out;
		}
		size_t rl = 4 + (size_t)n * VG_BP_SIZE;
		uint8_t *root = calloc(1, rl);
		vg_put32(root, (uint32_t)r);
		for (int k = 0; k < n; k++)
			vg_bp_encode(&bps[k], root + 4 + (size_t)k * VG_BP_SIZE);
		struct vg_bp rbp;
		err = vg_pool_write(p, 2, root, rl, 2, &rbp);
		free(root);
		if (err)
			goto out;
		run->in_flight = r;
		if ((err = vg_pool_commit(p, &rbp)))
			goto out;
		run->committed = r;
		run->in_flight = 0;
	}
out:
	vg_pool_close(p);
	return err;
}

/* Opens with the real os and checks what survived.  Returns the round. */
static int check_vault(int *round_out)
{
	struct vg_pool *p;
	int err = vg_pool_open(vg_os_posix(), devs[0], VG_POOL_RDWR, &p);
	if (err)
		return err;
	struct vg_bp rbp;
	bool has;
	vg_pool_root(p, &rbp, &has);
	*round_out = 0;
	if (has) {
		uint8_t *root = malloc(rbp.psize);
		if ((err = vg_pool_read(p, &rbp, root))) {
			free(root);
			goto out;
		}
		int r = (int)vg_get32(root);
		int n = r * PER_ROUND;
		*round_out = r;
		for (int k = 0; k < n && !err; k++) {
			struct vg_bp bp;
			if ((err = vg_bp_decode(root + 4 + (size_t)k * VG_BP_SIZE, &bp)))
				break;
			int br = k / PER_ROUND + 1, bi = k % PER_ROUND;
			size_t len = blen(br, bi);
			uint8_t *want = malloc(len), *got = malloc(len);
			t_fill(want, len, (uint64_t)(br * 100 + bi));
			err = vg_pool_read(p, &bp, got);
			if (!err && (bp.psize != len || memcmp(want, got, len)))
				err = VG_ERR(VG_ECORRUPT, "block %d differs", k);
			free(want);
			free(got);
		}
		free(root);
	}
	/* the vault still takes a commit */
	if (!err) {
		uint8_t x[100] = {1};
		struct vg_bp bp;
		err = vg_pool_write(p, 1, x, sizeof x, 1, &bp);
		if (!err)
			err = vg_pool_commit(p, has ? &rbp : NULL);
	}
out:
	vg_pool_close(p);
	return err;
}

/* ops 0: crash points are the pwrites; else the calls of those kinds. */
static void power_loss(const char *layout, int ndev, unsigned ops)
{
	struct vg_layout l;
	struct vg_pool *p;
	for (int d = 0; d < ndev; d++) {
		snprintf(devbuf[d], sizeof devbuf[d], "%s", t_path("v/dev%d", d));
		devs[d] = devbuf[d];
	}
	T_EQ(t_sh("mkdir -p '%s/v'", t_tmpdir()), 0);
	T_OK(vg_layout_parse(layout, ndev, &l));
	T_OK(vg_pool_create(vg_os_posix(), &l, devs, &p));
	T_OK(vg_pool_close(p));
	T_EQ(t_sh("cp -a '%s/v' '%s/template'", t_tmpdir(), t_tmpdir()), 0);

	/* count the writes of a clean run */
	struct vg_os *os = vg_os_fault_new(vg_os_posix());
	struct run run = {0};
	T_OK(workload(os, &run));
	struct vg_fault_counts c;
	vg_fault_counts(os, NULL, &c);
	vg_os_destroy(os);
	T_EQ(run.committed, ROUNDS);
	uint64_t total = c.writes;
	T_CHECK(total > 20);
	if (ops) /* the twin does not count every kind: sweep until a run ends uncut */
		total = UINT64_MAX;

	uint64_t step = !ops && total > 300 ? total / 300 : 1;
	int seen_rounds[ROUNDS + 1] = {0};
	uint64_t lost = 0, points = 0;
	for (uint64_t k = 0; !t_failed(); k++) {
		uint64_t n = 1 + (k / SEEDS) * step, seed = k * 2654435761u + 1;
		if (n > total)
			break;
		t_vault_from_template();
		os = t_crash_os(ops, n, seed);
		memset(&run, 0, sizeof run);
		int err = workload(os, &run);
		if (ops && !vg_fault_crashed(os)) { /* past the last call of those kinds */
			T_OK(vg_fault_powerloss(os, NULL));
			vg_os_destroy(os);
			break;
		}
		points++;
		/* a crash at the last uberblock writes may still let the final
		 * commit succeed on enough devices */
		T_CHECKF(vg_fault_crashed(os) && (err != 0 || run.committed == ROUNDS),
			 "crash at write %llu: workload returned %d (%s)", (unsigned long long)n, err, vg_errmsg());
		struct vg_fault_report rep;
		T_OK(vg_fault_powerloss(os, &rep));
		lost += rep.dropped + rep.torn + rep.creates_undone;
		vg_os_destroy(os);
		int round = -1;
		err = check_vault(&round);
		T_CHECKF(err == 0, "crash at write %llu seed %llu: %s", (unsigned long long)n,
			 (unsigned long long)seed, vg_errmsg());
		T_CHECKF(round == run.committed || (run.in_flight && round == run.in_flight),
			 "crash at write %llu: vault holds round %d, committed %d, in flight %d",
			 (unsigned long long)n, round, run.committed, run.in_flight);
		seen_rounds[round]++;
	}
	/* the sweep really crossed every commit, and really lost writes */
	for (int r = 0; r < ROUNDS; r++)
		T_CHECKF(seen_rounds[r] > 0, "no crash point left the vault at round %d", r);
	T_CHECK(lost > 0);
	if (ops)
		fprintf(stderr, "  %llu crash points at syncs and metadata calls\n", (unsigned long long)points);
}

TEST(power_loss_raidz1) { power_loss("raidz1", 4, 0); }
TEST(power_loss_raidz2) { power_loss("raidz2", 6, 0); }
TEST(power_loss_mirror) { power_loss("mirror", 2, 0); }
TEST(power_loss_single) { power_loss("single", 1, 0); }
TEST(power_loss_at_syncs_and_renames_raidz1) { power_loss("raidz1", 4, VG_FAULT_SYNC | VG_FAULT_META); }
TEST(power_loss_at_syncs_and_renames_mirror) { power_loss("mirror", 2, VG_FAULT_SYNC | VG_FAULT_META); }
