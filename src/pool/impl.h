/*
 * impl.h - the pool's private structures, shared by the files of pool/.
 *
 *   layout.c  layouts and stripe geometry (which device holds which column)
 *   rs.c      Reed-Solomon parity (ISA-L)
 *   bp.c      block pointers and checksums
 *   label.c   device labels and uberblocks: encoding, decoding, checking
 *   dev.c     devices: segment file handles, counters
 *   pool.c    create, open (label discovery, uberblock choice), commit, close
 *   io.c      block write, and read with verification and self-healing
 */
#ifndef VG_POOL_IMPL_H
#define VG_POOL_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pool/pool.h"
#include "pool/rs.h"

#define VG_SECTOR 4096u
#define VG_SEG_ROWS 16384u /* rows per segment file: 64 MiB per device */
#define VG_LABEL_SIZE 16384u
#define VG_UB_SLOT 4096u
#define VG_UB_SLOTS 32u
#define VG_UB_RING_OFF (2u * VG_LABEL_SIZE)
#define VG_LABEL_FILE_SIZE (VG_UB_RING_OFF + VG_UB_SLOTS * VG_UB_SLOT)
#define VG_LABEL_NAME "label"
#define VG_READERS_NAME "readers.lock" /* shared-locked by read-only opens */
#define VG_MAX_PATH 4000u
#define VG_SEG_CACHE 64 /* open segment handles kept per device */
#define VG_BUF_CACHE 8  /* idle scratch buffers kept per pool */
#define VG_ERRLOG_MAX 10000
#define VG_BT_ERRLOG 0xffff /* block type of the pool's own error log */

/* ---- layout.c: geometry of one stripe (one DVA of a block) ---- */
struct vg_geom {
	int ndata;       /* data columns */
	int nparity;     /* parity (or mirror copy) columns */
	int ncols;       /* ndata + nparity */
	uint32_t rows;   /* sectors per column */
	size_t colsize;  /* rows * VG_SECTOR */
	int dev[VG_RS_MAX_COLS]; /* device index of each column */
};
void vg_geom_of(const struct vg_layout *l, uint32_t psize, const struct vg_dva *dva, struct vg_geom *g);
/* Rows a block of psize bytes occupies (same for every DVA). */
uint32_t vg_geom_rows(const struct vg_layout *l, uint32_t psize);
/* Devices that may be missing with the vault still whole. */
int vg_layout_tolerance(const struct vg_layout *l);

/* ---- bp.c ---- */
void vg_cksum(int alg, const void *data, size_t len, uint8_t out[VG_CKSUM_LEN]);

/* ---- label.c ---- */
struct vg_member {
	uint64_t guid;
	char path[VG_MAX_PATH + 1];
	/* The device this one replaced (0 / ""): while a replacement is not
	 * yet committed in an uberblock, the vault still uses this one. */
	uint64_t prev_guid;
	char prev_path[VG_MAX_PATH + 1];
};
struct vg_label {
	uint64_t gen;
	uint64_t vault_guid;
	uint64_t dev_guid;
	uint32_t dev_index;
	struct vg_layout layout;
	uint64_t created;
	struct vg_member member[VG_POOL_MAX_DEVS];
};
#define VG_UBDEV_OFFLINE 1u /* flag: taken offline by the administrator */
struct vg_ub_dev {
	uint64_t guid;
	uint64_t read_errs, write_errs, cksum_errs;
	uint32_t flags;
	/* Blocks born in [dtl_start, dtl_end) lack this device's columns: it
	 * was unavailable when they were written (ZFS's dirty time log).
	 * dtl_start == 0: none; dtl_end == 0: still missing. */
	uint64_t dtl_start, dtl_end;
};
struct vg_uber {
	uint64_t txg;
	uint64_t time;
	uint64_t vault_guid;
	uint32_t cursor_seg, cursor_off;
	bool has_root;
	struct vg_bp root;
	int ndevs;
	struct vg_ub_dev dev[VG_POOL_MAX_DEVS];
	struct vg_scrub_record scrub;
	bool has_errlog;
	struct vg_bp errlog;      /* list of unrecoverable blocks (pool.c) */
};
int vg_label_encode(const struct vg_label *l, uint8_t out[VG_LABEL_SIZE]);
int vg_label_decode(const uint8_t *in, size_t len, struct vg_label *l, const char *where);
void vg_uber_encode(const struct vg_uber *u, uint8_t out[VG_UB_SLOT]);
int vg_uber_decode(const uint8_t *in, size_t len, struct vg_uber *u);

/* ---- dev.c ---- */
struct vg_seg_handle {
	uint32_t seg;
	struct vg_file *f;
	int refs;
	bool dirty;      /* written since the last sync */
	uint64_t lru;
};
struct vg_dev {
	char path[VG_MAX_PATH + 1];
	uint64_t guid;
	enum vg_dev_state state;
	char reason[256];
	struct vg_file *label;        /* label file, locked when writable */
	struct vg_seg_handle seg[VG_SEG_CACHE]; /* free when f == NULL */
	bool new_files;               /* segment files created since last syncdir */
	bool lost_writes;             /* an early sync failed: fault at commit */
	uint64_t read_errs, write_errs, cksum_errs;
	uint64_t dtl_start, dtl_end;  /* see struct vg_ub_dev */
	/* The device being replaced, read only where no other good copy
	 * exists ("" when none). */
	char old_path[VG_MAX_PATH + 1];
};

struct vg_pool {
	struct vg_os *os;
	bool writable;
	struct vg_file *readers;      /* a read-only open's shared lock (space.c) */
	int sticky;                   /* != 0: refuse writes with VG_EREADONLY */
	struct vg_label label;
	struct vg_label disk_label; /* as read at open: label may point to moved devices */        /* of the device we opened through */
	struct vg_layout layout;
	uint64_t vault_guid;
	struct vg_uber ub;            /* last committed (or loaded) uberblock */
	uint32_t cursor_seg, cursor_off; /* next free row */
	bool stats_dirty;
	uint64_t lru_clock;
	pthread_mutex_t lock;         /* cursor, handles, counters, bufs */
	struct {
		void *p;
		size_t size;
	} bufs[VG_BUF_CACHE];         /* idle scratch buffers (io.c) */
	int nbufs;
	struct vg_bp *errs;           /* unrecoverable blocks met (error log) */
	size_t nerrs;
	bool errs_dirty;
	int ndevs;
	struct vg_dev dev[VG_POOL_MAX_DEVS];
};

/* Get an open handle for segment seg of device d (creating the file when
 * create is set); put it back with vg_dev_put().  Under p->lock inside. */
int vg_dev_get(struct vg_pool *p, int d, uint32_t seg, bool create, struct vg_seg_handle **out);
void vg_dev_put(struct vg_pool *p, struct vg_seg_handle *h, bool wrote);
/* Flush every dirty segment file (and the directory if files were added). */
int vg_dev_sync(struct vg_pool *p, int d);
void vg_dev_close_all(struct vg_pool *p, int d);
void vg_dev_count(struct vg_pool *p, int d, int which /* 'r','w','c' */);
bool vg_dev_usable(const struct vg_pool *p, int d);
char *vg_seg_path(const char *dev, uint32_t seg); /* malloc'd */
void vg_pool_bufs_free(struct vg_pool *p);
/* Remember an unrecoverable block in the error log (io.c calls it). */
void vg_pool_errlog_add(struct vg_pool *p, const struct vg_bp *bp);

/* space.c: the shared lock of a read-only open on dev's readers.lock
 * (p->readers), taken by vg_pool_open before it chooses a state. */
void vg_pool_reader_lock(struct vg_pool *p, const char *dev);

#endif
