/*
 * zpool_json.c - parse `zpool status -j` (OpenZFS 2.3+) into the model of
 * zfs.h.
 *
 * Two shapes are accepted (openzfs cmd/zpool/zpool_main.c, zpool-status(8)):
 *  - the shipped code (status_callback_json): "pool_guid", vdev states from
 *    vdev_state_str[] (ONLINE, DEGRADED, FAULTED, OFFLINE, REMOVED,
 *    CANT_OPEN, ...), "status"/"action"/"msgid" only when there is a
 *    problem, "scan_stats" with FUNCTION/STATE names, numbers as strings
 *    (humanized, or exact with -p) or as integers with --json-int;
 *  - the zpool-status(8) example, which predates it: "guid", vdev state
 *    "HEALTHY", "status": "OK", humanized numbers and no "scan_stats".
 * Numbers may be JSON integers or strings in either form; times may be
 * epoch seconds (-p) or a ctime()-like date.  Nesting is bounded (vdev
 * trees deeper than 16 levels are refused), and the input is parsed by
 * jansson with a size cap.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/zfs.h"

#define JSON_MAX (16u << 20)
#define DEPTH_MAX 16

static void perr(struct zfs_pool *p, const char *why)
{
	if (!p->parse_error[0])
		vg_hl_copy(p->parse_error, sizeof p->parse_error, why, strlen(why));
}

/* A number that may be a JSON number, "123", or humanized "1.88K".
 * Numbers are decoded as reals (--json-int prints 64-bit GUIDs that do not
 * fit jansson's signed integers); counters and times fit a double. */
static bool jnum(json_t *j, uint64_t *v)
{
	if (json_is_number(j)) {
		double d = json_number_value(j);
		if (!(d >= 0 && d < 1.8e19))
			return false;
		*v = (uint64_t)d;
		return true;
	}
	if (json_is_string(j))
		return vg_hl_nicenum(json_string_value(j), json_string_length(j), v);
	return false;
}

static time_t jtime(json_t *j)
{
	uint64_t v;
	if (json_is_number(j) || (json_is_string(j) && vg_hl_u64(json_string_value(j),
								 json_string_length(j), &v)))
		return jnum(j, &v) && v < (uint64_t)1 << 40 ? (time_t)v : (time_t)-1;
	if (json_is_string(j)) /* humanized: "Wed Jan  7 02:35:05 AM PST 2026" may not parse */
		return vg_hl_ctime(json_string_value(j), json_string_length(j));
	return (time_t)-1;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *j = json_object_get(o, key);
	return json_is_string(j) ? json_string_value(j) : NULL;
}

static void copy_state(char *dst, size_t cap, const char *s)
{
	static const char *const map[][2] = {
		{"HEALTHY", "ONLINE"}, {"CANT_OPEN", "UNAVAIL"}, {"CLOSED", "UNAVAIL"},
		{"UNKNOWN", "UNAVAIL"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(s, map[i][0]))
			s = map[i][1];
	vg_hl_copy(dst, cap, s, strlen(s));
}

static void copy_aux(struct zfs_vdev *v, json_t *o)
{
	static const char *const map[][2] = {
		{"OPEN_FAILED", "cannot open"},       {"NO_REPLICAS", "insufficient replicas"},
		{"ERR_EXCEEDED", "too many errors"},  {"IO_FAILURE", "experienced I/O failures"},
		{"EXTERNAL", "external device fault"}, {"CORRUPT_DATA", "corrupted data"},
		{"BAD_LABEL", "invalid label"},        {"BAD_LOG", "bad intent log"},
	};
	const char *was = jstr(o, "was"), *aux = jstr(o, "aux");
	char buf[sizeof v->aux];
	if (was) {
		snprintf(buf, sizeof buf, "was %s", was);
	} else if (aux) {
		const char *t = aux;
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
			if (!strcmp(aux, map[i][0]))
				t = map[i][1];
		snprintf(buf, sizeof buf, "%s", t);
	} else {
		return;
	}
	vg_hl_copy(v->aux, sizeof v->aux, buf, strlen(buf));
}

static void add_vdevs(struct zfs_status *st, struct zfs_pool *p, json_t *map, int depth,
		      int parent, enum zfs_class cls);

static void add_vdev(struct zfs_status *st, struct zfs_pool *p, const char *key, json_t *o,
		     int depth, int parent, enum zfs_class cls)
{
	if (!json_is_object(o)) {
		perr(p, "a vdev is not an object");
		return;
	}
	if (depth > DEPTH_MAX) {
		perr(p, "vdev tree nested too deep");
		return;
	}
	struct zfs_vdev *v = zfs_vdev_add(st, p);
	if (!v) {
		perr(p, "too many vdevs");
		return;
	}
	int idx = (int)(v - p->v);
	const char *name = jstr(o, "name");
	if (!name)
		name = key;
	vg_hl_copy(v->name, sizeof v->name, name, strlen(name));
	v->depth = depth;
	v->parent = parent;
	v->cls = cls;
	if (parent >= 0)
		p->v[parent].nchild++;
	const char *state = jstr(o, "state");
	if (state)
		copy_state(v->state, sizeof v->state, state);
	else if (depth == 0)
		memcpy(v->state, p->state, sizeof v->state); /* the man page's root vdev */
	else
		perr(p, "a vdev has no state");
	static const char *const ctr[3] = {"read_errors", "write_errors", "checksum_errors"};
	for (int k = 0; k < 3; k++) {
		json_t *j = json_object_get(o, ctr[k]);
		if (j && !jnum(j, &v->err[k]))
			perr(p, "a vdev error counter is not a number");
	}
	copy_aux(v, o);
	json_t *kids = json_object_get(o, "vdevs");
	if (kids)
		add_vdevs(st, p, kids, depth + 1, idx, cls);
}

static void add_vdevs(struct zfs_status *st, struct zfs_pool *p, json_t *map, int depth,
		      int parent, enum zfs_class cls)
{
	if (!json_is_object(map)) {
		perr(p, "\"vdevs\" is not an object");
		return;
	}
	const char *key;
	json_t *val;
	json_object_foreach(map, key, val) add_vdev(st, p, key, val, depth, parent, cls);
}

static void parse_scan(struct zfs_pool *p, json_t *s)
{
	p->scan_state = ZS_UNPARSED;
	const char *fn = jstr(s, "function"), *state = jstr(s, "state");
	if (!fn || !state)
		return;
	snprintf(p->scan_line, sizeof p->scan_line, "function %.40s state %.40s", fn, state);
	p->scan_fn = !strcmp(fn, "SCRUB")      ? ZS_SCRUB
		     : !strcmp(fn, "RESILVER") ? ZS_RESILVER
		     : !strcmp(fn, "NONE")     ? ZS_NONE
					       : ZS_OTHER;
	p->scan_start = jtime(json_object_get(s, "start_time"));
	p->scan_end = jtime(json_object_get(s, "end_time"));
	uint64_t pause = 0, errors = 0, processed = 0, examine = 0, issued = 0;
	jnum(json_object_get(s, "scrub_pause"), &pause);
	bool have_err = jnum(json_object_get(s, "errors"), &errors);
	if (jnum(json_object_get(s, "processed"), &processed)) {
		p->repaired_nonzero = processed > 0;
		json_t *pj = json_object_get(s, "processed");
		if (json_is_string(pj))
			vg_hl_copy(p->scan_repaired, sizeof p->scan_repaired,
				   json_string_value(pj), json_string_length(pj));
		else
			snprintf(p->scan_repaired, sizeof p->scan_repaired, "%lluB",
				 (unsigned long long)processed);
	}
	if (jnum(json_object_get(s, "to_examine"), &examine) && examine &&
	    (jnum(json_object_get(s, "issued"), &issued) ||
	     jnum(json_object_get(s, "examined"), &issued)))
		p->pct_done = 100.0 * (double)issued / (double)examine;
	p->scan_errors = errors;
	if (!strcmp(state, "NONE") || p->scan_fn == ZS_NONE) {
		p->scan_state = ZS_NEVER;
	} else if (!strcmp(state, "SCANNING")) {
		p->scan_state = pause ? ZS_PAUSED : ZS_RUNNING;
	} else if (!strcmp(state, "FINISHED")) {
		if (have_err && p->scan_end != (time_t)-1)
			p->scan_state = ZS_FINISHED;
	} else if (!strcmp(state, "CANCELED")) {
		p->scan_state = ZS_CANCELED;
	}
}

static void parse_pool(struct zfs_status *st, const char *key, json_t *o)
{
	struct zfs_pool *p = zfs_pool_add(st);
	if (!p)
		return;
	if (!json_is_object(o)) {
		vg_hl_copy(p->name, sizeof p->name, key, strlen(key));
		perr(p, "a pool is not an object");
		return;
	}
	const char *name = jstr(o, "name");
	if (!name)
		name = key;
	vg_hl_copy(p->name, sizeof p->name, name, strlen(name));
	const char *state = jstr(o, "state");
	if (state) {
		copy_state(p->state, sizeof p->state, state);
		p->have_state = true;
	} else {
		perr(p, "a pool has no \"state\"");
	}
	const char *msgid = jstr(o, "msgid");
	if (msgid)
		vg_hl_copy(p->msgid, sizeof p->msgid, msgid, strlen(msgid));
	json_t *scan = json_object_get(o, "scan_stats");
	if (json_is_object(scan))
		parse_scan(p, scan);
	else
		p->scan_state = ZS_NEVER;
	json_t *vdevs = json_object_get(o, "vdevs");
	if (!json_is_object(vdevs) || !json_object_size(vdevs)) {
		perr(p, "a pool has no \"vdevs\"");
		return;
	}
	p->have_config = true;
	add_vdevs(st, p, vdevs, 0, -1, ZC_NORMAL);
	static const struct {
		const char *key, *header;
		enum zfs_class cls;
	} classes[] = {{"logs", "logs", ZC_LOGS},       {"l2cache", "cache", ZC_CACHE},
		       {"spares", "spares", ZC_SPARES}, {"special", "special", ZC_SPECIAL},
		       {"dedup", "dedup", ZC_DEDUP}};
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
		json_t *m = json_object_get(o, classes[i].key);
		if (!m)
			continue;
		struct zfs_vdev *h = zfs_vdev_add(st, p);
		if (!h)
			return;
		snprintf(h->name, sizeof h->name, "%s", classes[i].header);
		h->header = true;
		h->cls = classes[i].cls;
		add_vdevs(st, p, m, 1, (int)(h - p->v), classes[i].cls);
	}
	uint64_t ec = 0;
	json_t *errlist = json_object_get(o, "errlist");
	if (!jnum(json_object_get(o, "error_count"), &ec)) {
		perr(p, "a pool has no \"error_count\"");
	} else if (ec == 0) {
		p->errors = ZE_NONE;
	} else if (json_is_array(errlist) && json_array_size(errlist)) {
		p->errors = ZE_LIST;
		size_t i;
		json_t *f;
		json_array_foreach(errlist, i, f) if (json_is_string(f))
			zfs_errfile_add(st, p, json_string_value(f), json_string_length(f));
	} else {
		p->errors = ZE_COUNT;
	}
	p->error_count = ec;
}

void zfs_parse_json(const char *buf, size_t len, struct zfs_status *st)
{
	json_error_t jerr;
	json_t *root = len <= JSON_MAX ? json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr) : NULL;
	json_t *pools = json_object_get(root, "pools");
	if (!root) {
		snprintf(st->parse_error, sizeof st->parse_error, "invalid JSON (%.100s)",
			 len > JSON_MAX ? "too large" : jerr.text);
	} else if (!json_is_object(pools)) {
		snprintf(st->parse_error, sizeof st->parse_error, "no \"pools\" object");
	} else {
		const char *key;
		json_t *val;
		json_object_foreach(pools, key, val) parse_pool(st, key, val);
	}
	json_decref(root);
}
