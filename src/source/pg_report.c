/*
 * pg_report.c - collecting the results of many files (pg_page.h) and
 * turning them into words: the level a health gate shows, one line per
 * finding, and the advice when data checksums are disabled.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "source/pg_grow.h"
#include "source/pg_page.h"

static void stats_add(struct vg_pg_stats *a, const struct vg_pg_stats *b)
{
	a->files += b->files;
	a->blocks += b->blocks;
	a->bytes += b->bytes;
	a->new_pages += b->new_pages;
	a->bad += b->bad;
	a->inflight += b->inflight;
	a->reread_ok += b->reread_ok;
	a->patched += b->patched;
	a->partial_files += b->partial_files;
	a->problems += b->problems;
}

int vg_pg_report_add(struct vg_pg_report *r, struct vg_pg_filecheck *fc)
{
	size_t keep = fc->nfindings;
	if (keep > VG_PG_MAX_FINDINGS - r->nfindings)
		keep = VG_PG_MAX_FINDINGS - r->nfindings;
	void *grown = vg_pg_grow(r->findings, &r->capfindings, r->nfindings + keep, sizeof *r->findings,
				 VG_PG_MAX_FINDINGS);
	if (!grown)
		return VG_ERR(VG_ENOMEM, "out of memory collecting bad pages");
	r->findings = grown;
	if (keep)
		memcpy(r->findings + r->nfindings, fc->findings, keep * sizeof *fc->findings);
	r->nfindings += keep;
	/* The moved findings now belong to r; those beyond the cap are freed. */
	for (size_t i = keep; i < fc->nfindings; i++) {
		free(fc->findings[i].relpath);
		free(fc->findings[i].detail);
	}
	free(fc->findings);
	fc->findings = NULL;
	fc->nfindings = fc->capfindings = 0;
	stats_add(&r->st, &fc->st);
	memset(&fc->st, 0, sizeof fc->st);
	return 0;
}

uint64_t vg_pg_report_corrupt(const struct vg_pg_report *r)
{
	uint64_t n = 0;
	for (size_t i = 0; i < r->nfindings; i++)
		n += vg_pg_problem_is_corrupt(r->findings[i].kind);
	/* Findings beyond the cap were not kept: count them as corrupt too. */
	return n + (r->st.problems - r->nfindings);
}

void vg_pg_report_release(struct vg_pg_report *r)
{
	if (!r)
		return;
	vg_pg_findings_free(r->findings, r->nfindings);
	memset(r, 0, sizeof *r);
}

enum vg_pg_level vg_pg_report_level(const struct vg_pg_report *r, const struct vg_pg_cluster *cl)
{
	if (vg_pg_report_corrupt(r))
		return VG_PG_LEVEL_CRIT;
	if (!cl->ctl.data_checksum_version || r->st.problems)
		return VG_PG_LEVEL_WARN;
	return VG_PG_LEVEL_OK;
}

void vg_pg_disabled_advice(const char *pgdata, char *buf, size_t len)
{
	snprintf(buf, len,
		 "data checksums are DISABLED in this cluster: corruption of table and index pages "
		 "cannot be detected (only page headers were checked). Enable them: stop the server "
		 "and run 'pg_checksums --enable -D %s', or create the cluster with 'initdb "
		 "--data-checksums' (-k)",
		 pgdata);
}

void vg_pg_finding_str(const struct vg_pg_finding *f, const struct vg_pg_cluster *cl, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s: block %u (%s fork, relation block %u): %s", f->relpath, f->block,
			 vg_pg_fork_name(f->fork), f->rel_block, vg_pg_problem_name(f->kind));
	if (n < 0 || (size_t)n >= len)
		return;
	buf += n;
	len -= (size_t)n;
	switch (f->kind) {
	case VG_PG_BAD_CHECKSUM:
	case VG_PG_BAD_NEWPAGE:
	case VG_PG_BAD_HEADER:
	case VG_PG_BAD_COPY:
		if (cl->ctl.data_checksum_version) {
			n = snprintf(buf, len, ": calculated checksum %X but block contains %X", f->expected, f->found);
			if (n < 0 || (size_t)n >= len)
				return;
			buf += n;
			len -= (size_t)n;
		}
		snprintf(buf, len, " (page LSN %X/%X)", (unsigned)(f->lsn >> 32), (unsigned)f->lsn);
		break;
	case VG_PG_PARTIAL_PAGE:
		snprintf(buf, len,
			 ": file size %" PRIu64 " is not a multiple of the page size %u; its last %" PRIu64
			 " bytes are a partial page",
			 f->size, cl->ctl.blcksz, f->size % cl->ctl.blcksz);
		break;
	default:
		snprintf(buf, len, "%s%s", f->detail ? ": " : "", f->detail ? f->detail : "");
	}
}
