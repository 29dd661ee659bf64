/*
 * fs_int.h - the handles of fs.h, shared by fs.c and fs_meta.c only.
 */
#ifndef VG_OS_FS_INT_H
#define VG_OS_FS_INT_H

#include "os/fs.h"

struct vg_fs_dir {
	int fd;
	char *path; /* for messages only */
};

struct vg_fs_file {
	int fd;
	char *path; /* for messages only */
	struct vg_fs_stat opened; /* fstat when opened for reading */
};

#endif
