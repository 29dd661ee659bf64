/*
 * backup_int.h - the backup run's state, shared by backup*.c only.
 */
#ifndef VG_WORKFLOW_BACKUP_INT_H
#define VG_WORKFLOW_BACKUP_INT_H

#include "os/fs.h"
#include "workflow/backup.h"

/* Hardlinked files seen so far: (dev, ino) -> link set number. */
struct link_slot {
	uint64_t dev, ino, group; /* group 0: free slot */
};

struct bctx {
	struct vg_repo *r;
	const struct vg_backup_opts *o;
	struct vg_snapshot *snap;
	struct vg_backup_result *res; /* snap is res->snap */
	struct vg_backup_progress prog;
	size_t nproblems;
	struct vg_buf link, xat;
	struct vg_repo_counts base;
	uint64_t top_dev;
	char parent_hex[17];
	uint64_t reused, verified, rotten;
	struct link_slot *links;
	size_t nlinks, linkcap;
	uint64_t next_group;
};

/* A file's bytes as the chunker sees them: the whole file, or the
 * concatenation of its data extents (holes left out). */
struct src {
	struct vg_fs_file *f;
	uint64_t *ext; /* pairs; NULL: the whole file */
	size_t n, next;
	uint64_t left; /* bytes left in the current extent */
	uint64_t size; /* from the stat at open */
	uint64_t pos;  /* bytes read so far (whole files) */
};

/* Find the extents when the file looks sparse (fewer blocks than bytes). */
int src_open(struct src *s, const struct vg_fs_stat *st);
int src_read(struct src *s, void *buf, size_t len, size_t *got);
void src_close(struct src *s);

/* The link set of a file with several names (allocated on first sight). */
int link_group(struct bctx *c, const struct vg_fs_stat *st, uint64_t *group);
void links_release(struct bctx *c);

#endif
