/*
 * zpool_text.c - parse the text of `zpool status [-v] [-p]` into the model
 * of zfs.h, and the pool model's shared functions.
 *
 * The layout is the one openzfs cmd/zpool/zpool_main.c prints:
 * "  pool:", " state:", "status:", "action:", "   see:", "  scan:" (legacy
 * " scrub:"), "config:" with a NAME/STATE/READ/WRITE/CKSUM table whose
 * rows are indented two columns per level (TABs or spaces: docs and blog
 * copies expand them), and "errors:".  Output that does not follow it is
 * recorded as a parse error, never guessed at: a pool without a state,
 * without a config table or without its "errors:" line (the last thing zpool
 * prints for a pool, so its absence means truncated output) is unparsable.
 */
#include <stdlib.h>
#include <string.h>

#include "source/zfs.h"

void zfs_status_release(struct zfs_status *st)
{
	for (size_t i = 0; i < st->n; i++) {
		struct zfs_pool *p = &st->pools[i];
		for (size_t k = 0; k < p->nerrfiles; k++)
			free(p->errfiles[k]);
		free(p->errfiles);
		free(p->v);
	}
	free(st->pools);
	memset(st, 0, sizeof *st);
}

struct zfs_pool *zfs_pool_add(struct zfs_status *st)
{
	if (!vg_hl_grow((void **)&st->pools, &st->cap, st->n, sizeof *st->pools, ZFS_MAX_POOLS)) {
		st->oom |= st->n < ZFS_MAX_POOLS;
		return NULL;
	}
	struct zfs_pool *p = &st->pools[st->n++];
	memset(p, 0, sizeof *p);
	p->pct_done = -1;
	return p;
}

struct zfs_vdev *zfs_vdev_add(struct zfs_status *st, struct zfs_pool *p)
{
	if (!vg_hl_grow((void **)&p->v, &p->capv, p->nv, sizeof *p->v, ZFS_MAX_VDEVS)) {
		st->oom |= p->nv < ZFS_MAX_VDEVS;
		return NULL;
	}
	struct zfs_vdev *v = &p->v[p->nv++];
	memset(v, 0, sizeof *v);
	v->parent = -1;
	return v;
}

void zfs_errfile_add(struct zfs_status *st, struct zfs_pool *p, const char *s, size_t n)
{
	p->nerrfiles_total++;
	if (p->nerrfiles >= ZFS_MAX_ERRFILES)
		return;
	if (!p->errfiles && !(p->errfiles = calloc(ZFS_MAX_ERRFILES, sizeof *p->errfiles))) {
		st->oom = true;
		return;
	}
	char *c = malloc(n + 1);
	if (!c) {
		st->oom = true;
		return;
	}
	vg_hl_copy(c, n + 1, s, n);
	p->errfiles[p->nerrfiles++] = c;
}

void zfs_link_tree(struct zfs_pool *p)
{
	int stack[64], last = -1;
	for (size_t i = 0; i < p->nv; i++) {
		struct zfs_vdev *v = &p->v[i];
		/* Malformed input may jump levels (already a parse error): never
		 * index a level that was not set. */
		int d = v->depth > last + 1 ? last + 1 : v->depth;
		if (d > 63)
			d = 63;
		v->depth = d;
		last = d;
		stack[d] = (int)i;
		v->parent = (d > 0 && !v->header) ? stack[d - 1] : -1;
		if (v->parent >= 0)
			p->v[v->parent].nchild++;
	}
}

static void set_err(char *dst, size_t cap, char *line_dst, const char *why, const char *s,
		    size_t n)
{
	if (dst[0])
		return; /* keep the first problem: it explains the rest */
	vg_hl_copy(dst, cap, why, strlen(why));
	vg_hl_copy(line_dst, 200, s, n);
}
#define POOL_ERR(p, why, s, n) set_err((p)->parse_error, sizeof (p)->parse_error, (p)->bad_line, why, s, n)

static const char *find(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle));
}

/* "scrub repaired 0B in 06:58:02 with 0 errors on Sun Nov 12 07:22:03 2023" and
 * the other scan: variants of print_scan_scrub_resilver_status(). */
static void parse_scan(struct zfs_pool *p, const char *s, size_t n)
{
	vg_hl_copy(p->scan_line, sizeof p->scan_line, s, n);
	p->scan_state = ZS_UNPARSED;
	const char *end = s + n, *at;
	if (vg_hl_starts(s, n, "none requested")) {
		p->scan_state = ZS_NEVER;
		return;
	}
	if (vg_hl_starts(s, n, "scrub ") || vg_hl_starts(s, n, "thorough scrub "))
		p->scan_fn = ZS_SCRUB;
	else if (vg_hl_starts(s, n, "resilver"))
		p->scan_fn = ZS_RESILVER;
	else {
		p->scan_fn = ZS_OTHER; /* error scrub and future kinds: not a full scrub */
		if (!vg_hl_starts(s, n, "error scrub "))
			return;
	}
	if ((at = find(s, n, " in progress since "))) {
		at += strlen(" in progress since ");
		p->scan_start = vg_hl_ctime(at, (size_t)(end - at));
		p->scan_state = p->scan_start == (time_t)-1 ? ZS_UNPARSED : ZS_RUNNING;
	} else if ((at = find(s, n, " paused since "))) {
		at += strlen(" paused since ");
		p->scan_start = vg_hl_ctime(at, (size_t)(end - at));
		p->scan_state = p->scan_start == (time_t)-1 ? ZS_UNPARSED : ZS_PAUSED;
	} else if ((at = find(s, n, " canceled on "))) {
		at += strlen(" canceled on ");
		p->scan_end = vg_hl_ctime(at, (size_t)(end - at));
		p->scan_state = p->scan_end == (time_t)-1 ? ZS_UNPARSED : ZS_CANCELED;
	} else if ((at = find(s, n, " errors on ")) && find(s, n, " with ")) {
		const char *w = find(s, n, " with ") + strlen(" with ");
		const char *e = find(w, (size_t)(end - w), " errors on ");
		const char *rep = find(s, n, "repaired ");
		rep = rep ? rep + strlen("repaired ") : find(s, n, "resilvered ");
		if (rep && vg_hl_starts(rep, (size_t)(end - rep), "resilvered "))
			rep += strlen("resilvered ");
		if (rep && *rep == '(') { /* "resilvered (draid1:4d:11c:1s-0) 1.2T in ..." */
			const char *cl = memchr(rep, ')', (size_t)(end - rep));
			rep = cl ? cl + 2 : NULL;
		}
		if (rep && rep < end) {
			const char *sp = memchr(rep, ' ', (size_t)(end - rep));
			size_t rn = sp ? (size_t)(sp - rep) : (size_t)(end - rep);
			vg_hl_copy(p->scan_repaired, sizeof p->scan_repaired, rep, rn);
			uint64_t v = 0;
			p->repaired_nonzero = !(rn >= 1 && rep[0] == '0' &&
						(rn == 1 || rep[1] == 'B' || rep[1] == ' ')) &&
					      !(vg_hl_u64(rep, rn, &v) && v == 0);
		}
		at = e ? e + strlen(" errors on ") : NULL;
		if (!e || !vg_hl_u64(w, (size_t)(e - w), &p->scan_errors))
			return;
		p->scan_end = vg_hl_ctime(at, (size_t)(end - at));
		p->scan_state = p->scan_end == (time_t)-1 ? ZS_UNPARSED : ZS_FINISHED;
	}
}

static void parse_progress(struct zfs_pool *p, const char *s, size_t n)
{
	const char *pc = find(s, n, "% done");
	if (!pc)
		return;
	const char *b = pc;
	while (b > s && (b[-1] == '.' || (b[-1] >= '0' && b[-1] <= '9')))
		b--;
	char tmp[24];
	if (b == pc || (size_t)(pc - b) >= sizeof tmp)
		return;
	memcpy(tmp, b, (size_t)(pc - b));
	tmp[pc - b] = 0;
	p->pct_done = strtod(tmp, NULL);
}

static void parse_errors(struct zfs_status *st, struct zfs_pool *p, const char *s, size_t n)
{
	vg_hl_copy(p->errors_line, sizeof p->errors_line, s, n);
	const char *t;
	size_t tn;
	const char *r = s;
	size_t rn = n;
	if (vg_hl_starts(s, n, "No known data errors"))
		p->errors = ZE_NONE;
	else if (vg_hl_starts(s, n, "Permanent errors have been detected"))
		p->errors = ZE_LIST;
	else if (vg_hl_starts(s, n, "List of errors unavailable"))
		p->errors = ZE_UNAVAILABLE;
	else if (vg_hl_token(&r, &rn, &t, &tn) && vg_hl_u64(t, tn, &p->error_count) &&
		 vg_hl_starts(r, rn, " data error"))
		p->errors = ZE_COUNT;
	else
		p->errors = ZE_UNPARSED;
	(void)st;
}

static bool is_state(const char *s)
{
	static const char *const ok[] = {"ONLINE",  "DEGRADED", "FAULTED", "OFFLINE", "REMOVED",
					 "UNAVAIL", "AVAIL",    "INUSE",   "SUSPENDED", NULL};
	for (int i = 0; ok[i]; i++)
		if (!strcmp(s, ok[i]))
			return true;
	return false;
}

static int class_of(const char *name)
{
	static const char *const names[] = {"logs", "cache", "spares", "special", "dedup"};
	static const enum zfs_class cls[] = {ZC_LOGS, ZC_CACHE, ZC_SPARES, ZC_SPECIAL, ZC_DEDUP};
	for (int i = 0; i < 5; i++)
		if (!strcmp(name, names[i]))
			return (int)cls[i];
	return -1;
}

/* Display column of the first non-blank (TAB stops every 8). */
static int indent_col(const char *s, size_t n)
{
	int col = 0;
	for (size_t i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		col = s[i] == '\t' ? (col / 8 + 1) * 8 : col + 1;
	return col;
}

struct cfg {
	int base;      /* column of NAME; -1 before the header */
	int last_depth;
	enum zfs_class cls;
};

static void parse_row(struct zfs_status *st, struct zfs_pool *p, struct cfg *c, const char *line,
		      size_t len)
{
	const char *s = line, *t;
	size_t n = len, tn;
	int col = indent_col(s, n);
	if (!vg_hl_token(&s, &n, &t, &tn))
		return;
	if (c->base < 0) {
		if (tn == 4 && !memcmp(t, "NAME", 4))
			c->base = col;
		else
			POOL_ERR(p, "config row before the NAME header", line, len);
		return;
	}
	struct zfs_vdev *v = zfs_vdev_add(st, p);
	if (!v) {
		POOL_ERR(p, "too many vdev rows", line, len);
		return;
	}
	vg_hl_copy(v->name, sizeof v->name, t, tn);
	v->depth = col > c->base ? (col - c->base) / 2 : 0;
	int cls = v->depth == 0 ? class_of(v->name) : -1;
	if (cls >= 0) {
		v->header = true;
		c->cls = (enum zfs_class)cls;
	} else if (v->depth == 0 && p->nv > 1) {
		/* A depth-0 row that is neither the root nor a class header:
		 * docs sometimes mis-indent spare rows; keep them in their class. */
		v->depth = c->cls == ZC_NORMAL ? 0 : 1;
	}
	if (p->nv == 1 && (v->depth != 0 || strcmp(v->name, p->name)))
		POOL_ERR(p, "the first config row is not the pool", line, len);
	if (v->depth > c->last_depth + 1)
		POOL_ERR(p, "config indentation jumps more than one level", line, len);
	c->last_depth = v->depth;
	v->cls = c->cls;
	if (!vg_hl_token(&s, &n, &t, &tn)) {
		if (!v->header)
			POOL_ERR(p, "config row without a state", line, len);
		return;
	}
	vg_hl_copy(v->state, sizeof v->state, t, tn);
	if (!is_state(v->state)) {
		POOL_ERR(p, "unknown vdev state", line, len);
		return;
	}
	bool spare_state = !strcmp(v->state, "AVAIL") || !strcmp(v->state, "INUSE");
	const char *save = s;
	size_t save_n = n;
	int k = 0;
	for (; k < 3 && vg_hl_token(&s, &n, &t, &tn); k++)
		if (!vg_hl_nicenum(t, tn, &v->err[k]))
			break;
	if (k < 3) {
		if (!spare_state)
			POOL_ERR(p, "config row without READ/WRITE/CKSUM counters", line, len);
		memset(v->err, 0, sizeof v->err);
		s = save;
		n = save_n;
	}
	vg_hl_ltrim(&s, &n);
	vg_hl_rtrim(s, &n);
	vg_hl_copy(v->aux, sizeof v->aux, s, n);
}

enum mode { M_HDR, M_CONFIG, M_ERRLIST };

static bool key_is(const char *t, size_t tn, const char *key)
{
	return tn == strlen(key) && !memcmp(t, key, tn);
}

void zfs_parse_text(const char *buf, size_t len, struct zfs_status *st)
{
	size_t pos = 0, n;
	const char *line;
	struct zfs_pool *p = NULL;
	enum mode mode = M_HDR;
	bool in_scan = false;
	struct cfg c = {-1, 0, ZC_NORMAL};
	while (vg_hl_line(buf, len, &pos, &line, &n)) {
		const char *s = line, *t;
		size_t sn = n, tn;
		if (memchr(line, 0, n)) {
			set_err(st->parse_error, sizeof st->parse_error, st->bad_line,
				"binary data in the output", line, n);
			return;
		}
		bool lead_ws = n && (line[0] == ' ' || line[0] == '\t');
		if (!vg_hl_token(&s, &sn, &t, &tn)) {
			in_scan = false;
			continue; /* blank line */
		}
		bool key = tn > 1 && t[tn - 1] == ':' && tn < 16;
		vg_hl_ltrim(&s, &sn);
		vg_hl_rtrim(s, &sn);
		if (key && key_is(t, tn, "pool:")) {
			if (!(p = zfs_pool_add(st))) {
				set_err(st->parse_error, sizeof st->parse_error, st->bad_line,
					"too many pools", line, n);
				return;
			}
			vg_hl_copy(p->name, sizeof p->name, s, sn);
			mode = M_HDR;
			in_scan = false;
			continue;
		}
		if (!p) {
			set_err(st->parse_error, sizeof st->parse_error, st->bad_line,
				"expected a 'pool:' line", line, n);
			return;
		}
		if (key && (key_is(t, tn, "errors:") || key_is(t, tn, "state:") ||
			    (mode == M_HDR &&
			     (key_is(t, tn, "scan:") || key_is(t, tn, "scrub:") ||
			      key_is(t, tn, "status:") || key_is(t, tn, "action:") ||
			      key_is(t, tn, "see:") || key_is(t, tn, "config:"))))) {
			in_scan = false;
			mode = M_HDR;
			if (key_is(t, tn, "state:")) {
				vg_hl_copy(p->state, sizeof p->state, s, sn);
				p->have_state = is_state(p->state);
				if (!p->have_state)
					POOL_ERR(p, "unknown pool state", line, n);
			} else if (key_is(t, tn, "see:")) {
				const char *slash = memrchr(s, '/', sn);
				const char *id = slash ? slash + 1 : s;
				vg_hl_copy(p->msgid, sizeof p->msgid, id, (size_t)(s + sn - id));
			} else if (key_is(t, tn, "scan:") || key_is(t, tn, "scrub:")) {
				parse_scan(p, s, sn);
				in_scan = true;
			} else if (key_is(t, tn, "config:")) {
				mode = M_CONFIG;
				p->have_config = true;
				c = (struct cfg){-1, 0, ZC_NORMAL};
			} else if (key_is(t, tn, "errors:")) {
				parse_errors(st, p, s, sn);
				if (p->errors == ZE_LIST)
					mode = M_ERRLIST;
			}
			continue;
		}
		if (mode == M_CONFIG) {
			parse_row(st, p, &c, line, n);
		} else if (mode == M_ERRLIST && lead_ws) {
			const char *f = line;
			size_t fn = n;
			vg_hl_ltrim(&f, &fn);
			vg_hl_rtrim(f, &fn);
			zfs_errfile_add(st, p, f, fn);
		} else if (in_scan && lead_ws) {
			parse_progress(p, line, n);
		} else if (!lead_ws && !key) {
			POOL_ERR(p, "unexpected line", line, n);
		}
		/* Other indented lines continue status:/action: texts or are the
		 * remove:/checkpoint:/expand: blocks: display only. */
	}
	if (!st->n && !st->parse_error[0])
		set_err(st->parse_error, sizeof st->parse_error, st->bad_line,
			"no 'pool:' line in the output", NULL, 0);
	for (size_t i = 0; i < st->n; i++) {
		struct zfs_pool *q = &st->pools[i];
		if (!q->have_state)
			POOL_ERR(q, "no 'state:' line", NULL, 0);
		else if (!q->have_config || !q->nv)
			POOL_ERR(q, "no config table", NULL, 0);
		else if (q->errors == ZE_MISSING)
			POOL_ERR(q, "the output ends before the pool's 'errors:' line (truncated?)",
				 NULL, 0);
		zfs_link_tree(q);
	}
}
