/*
 * pg_wal.c - WAL archive continuity check (pg_wal.h): list the archive,
 * read the timeline history, walk the segments backwards and classify the
 * missing ones as WAL-G does.
 *
 * Memory: one (timeline, segment) pair per archived segment, capped at
 * MAX_SEGMENTS; the walk itself keeps only collapsed ranges.
 */
#include "source/pg_wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "os/proc.h"
#include "source/pg_grow.h"

#define MAX_SEGMENTS ((size_t)10 * 1000 * 1000)
#define MAX_WALK ((uint64_t)1 << 28)
#define MAX_RANGES ((size_t)1 << 20)
#define MAX_HISTORY_BYTES ((size_t)1 << 20)
#define DEFAULT_SEGSIZE (16u << 20)
#define MAX_HISTORIES 100000

struct named {
	uint32_t tli, log, seg;
};

struct seg {
	uint32_t tli;
	uint64_t segno;
};

struct archive {
	const char *dir;
	struct named *names; /* segments as named; numbered once the size is known */
	size_t nnames, capnames;
	struct seg *segs;    /* sorted by (tli, segno) */
	size_t nsegs;
	uint32_t plain_size; /* size of an uncompressed segment file, 0 if none */
	bool sizes_differ;
	unsigned sized;      /* uncompressed segments measured (a few suffice) */
	struct hist *hists;  /* timeline history files */
	size_t nhists, caphists;
};

struct hist {
	uint32_t tli;
	bool compressed;
	char *path;
};

static void note(struct vg_pg_walreport *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct vg_pg_walreport *r, const char *fmt, ...)
{
	if (r->nnotes >= VG_PG_WAL_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&r->notes[r->nnotes], fmt, ap) >= 0)
		r->nnotes++;
	va_end(ap);
}

static int add_name(struct archive *a, const struct vg_pg_walname *n)
{
	if (a->nnames >= MAX_SEGMENTS)
		return VG_ERR(VG_EINVAL, "'%s': more than %zu WAL segments", a->dir, MAX_SEGMENTS);
	void *grown = vg_pg_grow(a->names, &a->capnames, a->nnames + 1, sizeof *a->names, MAX_SEGMENTS);
	if (!grown)
		return VG_ERR(VG_ENOMEM, "out of memory listing '%s'", a->dir);
	a->names = grown;
	a->names[a->nnames++] = (struct named){n->tli, n->log, n->seg};
	return 0;
}

static int add_hist(struct archive *a, const struct vg_pg_walname *n, const char *path)
{
	if (a->nhists >= MAX_HISTORIES)
		return VG_ERR(VG_EINVAL, "'%s': more than %d timeline history files", a->dir, MAX_HISTORIES);
	void *grown = vg_pg_grow(a->hists, &a->caphists, a->nhists + 1, sizeof *a->hists, MAX_HISTORIES);
	if (!grown)
		return VG_ERR(VG_ENOMEM, "out of memory listing '%s'", a->dir);
	a->hists = grown;
	char *dup = strdup(path);
	if (!dup)
		return VG_ERR(VG_ENOMEM, "out of memory listing '%s'", a->dir);
	a->hists[a->nhists++] = (struct hist){n->tli, n->compression[0] != '\0', dup};
	return 0;
}

static void note_size(struct archive *a, const char *path)
{
	struct stat st;
	if (a->sized >= 16)
		return;
	a->sized++;
	if (stat(path, &st) != 0 || st.st_size <= 0 || st.st_size > (1 << 30))
		return;
	uint32_t sz = (uint32_t)st.st_size;
	if ((sz & (sz - 1)) != 0 || sz < (1u << 20))
		return;
	if (!a->plain_size)
		a->plain_size = sz;
	else if (a->plain_size != sz)
		a->sizes_differ = true;
}

static bool is_log_dir(const char *name)
{
	if (strlen(name) != 16)
		return false;
	for (int i = 0; i < 16; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'A' && name[i] <= 'F')))
			return false;
	return true;
}

/* List dir (and, at depth 0, its "0000000100000000"-style subdirectories:
 * pgBackRest and Barman keep segments there). */
static int list_dir(struct archive *a, struct vg_pg_walreport *r, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return VG_ERRNO(errno, "cannot list WAL archive '%s'", dir);
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		char path[4096];
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path)
			continue;
		struct vg_pg_walname n;
		vg_pg_walname_parse(de->d_name, &n);
		if (n.tli > r->highest_tli && n.kind != VG_PG_WAL_OTHER && n.kind != VG_PG_WAL_BACKUP)
			r->highest_tli = n.tli;
		switch (n.kind) {
		case VG_PG_WAL_SEGMENT:
			r->segments++;
			rc = add_name(a, &n);
			if (!n.compression[0])
				note_size(a, path);
			break;
		case VG_PG_WAL_PARTIAL: r->partials++; break;
		case VG_PG_WAL_HISTORY:
			r->histories++;
			rc = add_hist(a, &n, path);
			break;
		case VG_PG_WAL_BACKUP: break;
		case VG_PG_WAL_OTHER: {
			struct stat st;
			if (depth == 0 && is_log_dir(de->d_name) && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				rc = list_dir(a, r, path, depth + 1);
			else
				r->others++;
			break;
		}
		}
	}
	if (rc == 0 && errno != 0)
		rc = VG_ERRNO(errno, "cannot list WAL archive '%s'", dir);
	closedir(d);
	return rc;
}

static int seg_cmp(const void *x, const void *y)
{
	const struct seg *a = x, *b = y;
	if (a->tli != b->tli)
		return a->tli < b->tli ? -1 : 1;
	return a->segno < b->segno ? -1 : a->segno > b->segno;
}

/* Number the named segments for the segment size. */
static int number_segments(struct archive *a, uint32_t segsize)
{
	a->segs = malloc((a->nnames ? a->nnames : 1) * sizeof *a->segs);
	if (!a->segs)
		return VG_ERR(VG_ENOMEM, "out of memory");
	for (size_t i = 0; i < a->nnames; i++) {
		struct vg_pg_walname n = {.tli = a->names[i].tli, .log = a->names[i].log, .seg = a->names[i].seg};
		if (!vg_pg_walname_segno(&n, segsize, &a->segs[i].segno))
			return VG_ERR(VG_EINVAL,
				      "'%s': segment %08X%08X%08X does not exist with %u-byte WAL segments: "
				      "give the size with --wal-segsize",
				      a->dir, n.tli, n.log, n.seg, segsize);
		a->segs[i].tli = n.tli;
	}
	qsort(a->segs, a->nnames, sizeof *a->segs, seg_cmp);
	size_t w = 0;
	for (size_t i = 0; i < a->nnames; i++)
		if (w == 0 || seg_cmp(&a->segs[w - 1], &a->segs[i]) != 0)
			a->segs[w++] = a->segs[i];
	a->nsegs = w;
	return 0;
}

static bool have(const struct archive *a, uint32_t tli, uint64_t segno)
{
	struct seg key = {tli, segno};
	return bsearch(&key, a->segs, a->nsegs, sizeof key, seg_cmp) != NULL;
}

/* The decompressor for a compressed file name, "cat" for a plain one. */
static const char *decompressor(const char *path)
{
	static const struct {
		const char *ext, *tool;
	} tools[] = {{".gz", "gzip"}, {".zst", "zstd"}, {".zstd", "zstd"}, {".lz4", "lz4"}, {".br", "brotli"},
		     {".bz2", "bzip2"}, {".xz", "xz"},     {".lzma", "xz"},   {".lzo", "lzop"}};
	size_t len = strlen(path);
	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
		size_t n = strlen(tools[i].ext);
		if (len > n && !strcmp(path + len - n, tools[i].ext))
			return tools[i].tool;
	}
	return "cat";
}

/* Read the history file of timeline tli (decompressing with the matching
 * tool; an uncompressed copy is preferred).  A missing or unreadable one is
 * a note, not an error: the walk then stays on tli, and what lies before
 * the switch shows up as missing. */
static int read_history(struct archive *a, struct vg_pg_walreport *r, uint32_t tli,
			struct vg_pg_tlhist **h, size_t *nh)
{
	*h = NULL;
	*nh = 0;
	if (tli <= 1)
		return 0;
	const struct hist *best = NULL;
	for (size_t i = 0; i < a->nhists; i++)
		if (a->hists[i].tli == tli && (!best || !a->hists[i].compressed))
			best = &a->hists[i];
	if (!best) {
		note(r, "timeline history file %08X.history is not in the archive: the switch to "
			"timeline %u cannot be followed",
		     tli, tli);
		return 0;
	}
	const char *tool = decompressor(best->path);
	const char *argv[] = {tool, !strcmp(tool, "cat") ? "--" : "-dc", best->path, NULL};
	struct vg_proc_opts po = {.argv = argv, .max_out = MAX_HISTORY_BYTES, .timeout_ms = 30000};
	struct vg_proc_result pr;
	int rc = vg_proc_run(&po, &pr);
	if (rc < 0 || pr.status != 0 || pr.out_truncated) {
		note(r, "cannot read timeline history '%s'%s%s: the switch to timeline %u cannot be followed",
		     best->path, rc < 0 ? ": " : "", rc < 0 ? vg_errmsg() : "", tli);
		vg_proc_result_release(&pr);
		return 0;
	}
	rc = vg_pg_history_parse(pr.out, pr.out_len, best->path, h, nh);
	vg_proc_result_release(&pr);
	return rc;
}

struct walk {
	const struct archive *a;
	const struct vg_pg_tlhist *h;
	size_t nh;
	uint32_t end_tli;
	uint32_t segsize;
	struct vg_pg_walreport *r;
	size_t caprange;
};

/* The timeline of segment n - 1 when segment n is on tli: follow each
 * switch into tli that happened in segment n (WAL-G's rule, including its
 * guard: a switch is ignored when tli itself has segment n - 1). */
static uint32_t step(const struct walk *w, uint32_t tli, uint64_t n)
{
	for (size_t guard = 0; guard <= w->nh; guard++) {
		size_t i = 0;
		for (; i < w->nh; i++) {
			uint32_t child = i + 1 < w->nh ? w->h[i + 1].tli : w->end_tli;
			if (child == tli && w->h[i].switch_lsn / w->segsize == n)
				break;
		}
		if (i == w->nh || have(w->a, tli, n - 1))
			break;
		tli = w->h[i].tli;
	}
	return tli;
}

static int add_range(struct walk *w, uint32_t tli, uint64_t n, enum vg_pg_segstatus st)
{
	struct vg_pg_walreport *r = w->r;
	r->count[st]++;
	if (r->nranges) {
		struct vg_pg_walrange *last = &r->ranges[r->nranges - 1];
		if (last->tli == tli && last->status == st && last->first == n + 1) {
			last->first = n;
			return 0;
		}
	}
	if (r->nranges >= MAX_RANGES)
		return VG_ERR(VG_EINVAL, "more than %zu separate gaps in the WAL archive", MAX_RANGES);
	void *grown = vg_pg_grow(r->ranges, &w->caprange, r->nranges + 1, sizeof *r->ranges, MAX_RANGES);
	if (!grown)
		return VG_ERR(VG_ENOMEM, "out of memory");
	r->ranges = grown;
	r->ranges[r->nranges++] = (struct vg_pg_walrange){tli, n, n, st};
	return 0;
}

/* Walk from (tli, n) down to start, in WAL-G's three phases. */
static int walk(struct walk *w, const struct vg_pg_walverify_opts *o, uint32_t tli, uint64_t n,
		uint64_t start)
{
	int phase = 1;
	unsigned left = o->max_delayed;
	if (left == 0) {
		phase = 2;
		left = o->upload_concurrency;
	}
	if (phase == 2 && left == 0)
		phase = 3;
	for (;;) {
		bool found = have(w->a, tli, n);
		enum vg_pg_segstatus st = found       ? VG_PG_SEG_FOUND
					  : phase == 1 ? VG_PG_SEG_MISSING_DELAYED
					  : phase == 2 ? VG_PG_SEG_MISSING_UPLOADING
						       : VG_PG_SEG_MISSING_LOST;
		int rc = add_range(w, tli, n, st);
		if (rc < 0)
			return rc;
		if (phase == 1 && (found || --left == 0)) {
			phase = 2;
			left = o->upload_concurrency;
			if (left == 0)
				phase = 3;
		} else if (phase == 2 && --left == 0) {
			phase = 3;
		}
		if (n <= start)
			break;
		w->r->start_tli = tli = step(w, tli, n);
		n--;
	}
	/* Oldest first, as WAL-G prints them. */
	for (size_t i = 0, j = w->r->nranges; i + 1 < j; i++, j--) {
		struct vg_pg_walrange t = w->r->ranges[i];
		w->r->ranges[i] = w->r->ranges[j - 1];
		w->r->ranges[j - 1] = t;
	}
	return 0;
}

static int parse_segment_opt(const char *what, const char *s, uint32_t segsize, uint32_t *tli,
			     uint64_t *segno)
{
	struct vg_pg_walname n;
	vg_pg_walname_parse(s, &n);
	if (n.kind != VG_PG_WAL_SEGMENT || n.compression[0] || strlen(s) != 24)
		return VG_ERR(VG_EINVAL, "%s '%s' is not a WAL segment name (24 hex digits)", what, s);
	if (!vg_pg_walname_segno(&n, segsize, segno))
		return VG_ERR(VG_EINVAL, "%s '%s' does not exist with %u-byte WAL segments", what, s, segsize);
	*tli = n.tli;
	return 0;
}

static void finish_verdicts(struct vg_pg_walreport *r)
{
	r->integrity = r->count[VG_PG_SEG_MISSING_LOST]            ? VG_PG_FAILURE
		       : r->count[VG_PG_SEG_MISSING_DELAYED] ||
				 r->count[VG_PG_SEG_MISSING_UPLOADING] ? VG_PG_WARNING
								       : VG_PG_OK;
	/* WAL-G's timeline check. */
	r->timeline = r->highest_tli == 0                ? VG_PG_WARNING
		      : r->highest_tli == r->current_tli ? VG_PG_OK
							 : VG_PG_FAILURE;
	r->verdict = r->integrity > r->timeline ? r->integrity : r->timeline;
}

/* The segment size: the server's, the one given, or the files'. */
static uint32_t pick_segsize(const struct vg_pg_walverify_opts *o, struct archive *a,
			     struct vg_pg_walreport *r)
{
	if (o->segsize)
		return o->segsize;
	if (a->plain_size) {
		if (a->sizes_differ)
			note(r, "uncompressed segments of different sizes in the archive; assuming %u bytes",
			     a->plain_size);
		return a->plain_size;
	}
	r->segsize_assumed = true;
	return DEFAULT_SEGSIZE;
}

/* The timeline the cluster is on: the server's, --end's, or the newest
 * timeline with segments in the archive. */
static int end_timeline(const struct vg_pg_walverify_opts *o, const struct archive *a, uint32_t *tli)
{
	if (o->have_server) {
		*tli = o->server_tli;
		return 0;
	}
	if (o->end) {
		struct vg_pg_walname n;
		vg_pg_walname_parse(o->end, &n);
		*tli = n.tli;
		return 0;
	}
	if (a->nsegs == 0)
		return VG_ERR(VG_ENOENT, "no WAL segments in '%s'", o->archive);
	*tli = a->segs[a->nsegs - 1].tli;
	return 0;
}

/* Where the walk begins: (tli, segno) of the newest segment expected. */
static int pick_end(const struct vg_pg_walverify_opts *o, struct walk *w, uint32_t *tli, uint64_t *n)
{
	if (o->have_server) {
		/* The segment holding LSN - 1 is being written (WAL-G). */
		uint64_t cur = o->server_lsn ? (o->server_lsn - 1) / w->segsize : 0;
		if (cur == 0)
			return VG_ERR(VG_EINVAL, "the server has not finished its first WAL segment yet");
		*tli = step(w, o->server_tli, cur);
		*n = cur - 1;
		return 0;
	}
	if (o->end)
		return parse_segment_opt("--end", o->end, w->segsize, tli, n);
	const struct seg *last = &w->a->segs[w->a->nsegs - 1];
	*tli = last->tli;
	*n = last->segno;
	return 0;
}

static uint64_t oldest_segment(const struct archive *a, uint32_t max_tli, uint64_t dflt)
{
	uint64_t best = UINT64_MAX;
	for (size_t i = 0; i < a->nsegs; i++)
		if (a->segs[i].tli <= max_tli && a->segs[i].segno < best)
			best = a->segs[i].segno;
	return best == UINT64_MAX ? dflt : best;
}

static int pick_start(const struct vg_pg_walverify_opts *o, const struct walk *w, uint32_t tli,
		      uint64_t end, uint64_t *start)
{
	if (o->start) {
		uint32_t stli;
		int rc = parse_segment_opt("--start", o->start, w->segsize, &stli, start);
		if (rc < 0)
			return rc;
	} else {
		*start = oldest_segment(w->a, w->end_tli, end);
	}
	if (*start > end) {
		char s[25], e[25];
		vg_pg_walname_format(tli, *start, w->segsize, s);
		vg_pg_walname_format(tli, end, w->segsize, e);
		return VG_ERR(VG_EINVAL, "start segment %s is after the end segment %s", s, e);
	}
	if (end - *start >= MAX_WALK)
		return VG_ERR(VG_EINVAL, "%llu segments to check: give a later --start",
			      (unsigned long long)(end - *start + 1));
	return 0;
}

static void archive_release(struct archive *a)
{
	for (size_t i = 0; i < a->nhists; i++)
		free(a->hists[i].path);
	free(a->hists);
	free(a->names);
	free(a->segs);
}

int vg_pg_walverify(const struct vg_pg_walverify_opts *o, struct vg_pg_walreport *out)
{
	memset(out, 0, sizeof *out);
	struct archive a = {.dir = o->archive};
	struct vg_pg_tlhist *h = NULL;
	size_t nh = 0;
	struct walk w = {.a = &a, .r = out};
	uint32_t tli;
	uint64_t n, start;
	int rc = list_dir(&a, out, o->archive, 0);
	if (rc < 0)
		goto out;
	w.segsize = out->segsize = pick_segsize(o, &a, out);
	if ((rc = number_segments(&a, w.segsize)) < 0 || (rc = end_timeline(o, &a, &w.end_tli)) < 0 ||
	    (rc = read_history(&a, out, w.end_tli, &h, &nh)) < 0)
		goto out;
	w.h = h;
	w.nh = nh;
	if ((rc = pick_end(o, &w, &tli, &n)) < 0 || (rc = pick_start(o, &w, tli, n, &start)) < 0)
		goto out;
	out->start_segno = start;
	out->end_segno = n;
	out->end_tli = out->start_tli = tli;
	out->current_tli = w.end_tli;
	if ((rc = walk(&w, o, tli, n, start)) < 0)
		goto out;
	if (out->segsize_assumed)
		note(out, "WAL segment size assumed to be 16 MiB (no uncompressed segment to measure); "
			  "give --wal-segsize if it differs");
	finish_verdicts(out);
out:
	free(h);
	archive_release(&a);
	return rc;
}

void vg_pg_walreport_release(struct vg_pg_walreport *r)
{
	if (!r)
		return;
	free(r->ranges);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	memset(r, 0, sizeof *r);
}
