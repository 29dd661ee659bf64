/*
 * fault_int.h - internals shared by fault.c (the ops, rules and counters)
 * and fault_crash.c (the undo logs and the power loss).  Not for users:
 * they include fault.h.
 *
 * Every field below is guarded by twin.mu (recursive, so a listdir
 * callback may call back into the twin).
 */
#ifndef VG_OS_FAULT_INT_H
#define VG_OS_FAULT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/fault.h"

/* Names of files removed (or displaced by a rename) while the removal is
 * not durable; hidden from listdir.  vigil never makes such names. */
#define FAULT_TRASH ".vgfault-"

/* One unsynced pwrite or truncate of a file, with what it overwrote. */
struct undo {
	struct undo *next; /* oldest first */
	uint64_t seq;      /* decides its fate */
	bool is_trunc;
	uint64_t off;      /* write: first byte; truncate: the new size */
	uint64_t len;      /* write: bytes written; truncate: 0 */
	uint64_t old_size; /* file size before */
	size_t old_len;    /* old content of [off, off + old_len) follows */
	unsigned char old[];
};

/* A file (an inode) seen through the twin.  Lives while a handle or a
 * directory-log entry names it, or it has unsynced writes. */
struct node {
	struct node *next;
	char *path; /* current name (a trash name once removed) */
	int refs;
	uint64_t size;
	bool deleted; /* its name was really removed: nothing to revert */
	struct undo *undo, *undo_tail;
};

enum meta_kind { META_CREATE, META_MKDIR, META_UNLINK, META_RENAME };

/* One directory operation not yet made durable by a syncdir of dir. */
struct meta {
	struct meta *next; /* oldest first */
	enum meta_kind kind;
	uint64_t seq;
	char *dir;          /* parent of path */
	char *path;         /* the name created/removed, or the rename target */
	char *from;         /* rename: the old name */
	char *trash;        /* unlink: where the file waits; rename: the file
			       the target replaced (or NULL) */
	struct node *node;  /* create: the file created (a reference) */
};

struct counter {
	struct counter *next;
	struct vg_fault_counts c;
	char path[];
};

struct rule {
	struct rule *next;
	int id;
	struct vg_fault_rule r;
	char *prefix; /* normalised copy of r.prefix, or NULL */
	size_t plen;
	uint64_t calls, fired, written;
	bool gone;   /* a GONE rule that fired */
	bool firing; /* a FLIP rule firing on the current call */
};

struct twin {
	struct vg_os base;
	struct vg_os *in;
	pthread_mutex_t mu;
	struct rule *rules;
	int next_id;
	struct counter *counters;
	struct node *nodes;
	struct meta *meta, *meta_tail;
	uint64_t seq;       /* numbers undo and meta entries */
	unsigned crash_ops; /* the kinds of call counted to the crash point */
	uint64_t calls;     /* such calls since vg_fault_crash_at() */
	uint64_t crash_nth; /* 0: no crash armed */
	uint64_t seed;
	size_t undo_bytes;  /* saved old content, all files */
	bool crashed;
	bool powered_off;   /* vg_fault_powerloss() done */
};

/* Deterministic hash of (seed, a, b): fates and flipped bits come from it. */
uint64_t fault_rand(uint64_t seed, uint64_t a, uint64_t b);
/* "a/b/c" -> "a/b"; "c" -> "."; malloc'd, NULL on ENOMEM. */
char *fault_dirname(const char *path);
/* path is prefix or below it (prefix without trailing '/', length plen). */
bool fault_under(const char *path, const char *prefix, size_t plen);

/* fault_crash.c */
int fault_node_get(struct twin *t, const char *path, struct vg_file *in, struct node **out);
void fault_node_unref(struct twin *t, struct node *n);
int fault_log_write(struct twin *t, struct node *n, struct vg_file *in, uint64_t off, size_t len);
int fault_log_trunc(struct twin *t, struct node *n, struct vg_file *in, uint64_t size);
/* Forgets the newest entry: its op failed, nothing to revert. */
void fault_log_pop(struct twin *t, struct node *n);
void fault_synced(struct twin *t, struct node *n);
int fault_meta_add(struct twin *t, enum meta_kind kind, const char *path, const char *from,
		   const char *trash, struct node *node);
void fault_dir_synced(struct twin *t, const char *dir, bool below);
int fault_rename_nodes(struct twin *t, const char *from, const char *to);
int fault_do_powerloss(struct twin *t, struct vg_fault_report *rep);
void fault_forget_all(struct twin *t);

#endif
