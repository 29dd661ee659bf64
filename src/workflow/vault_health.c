/*
 * vault_health.c - the vault health record (see vault_health.h).
 */
#include "workflow/vault_health.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void note(struct vg_vault_health *h, enum vg_health_level l, const char *what)
{
	size_t n = strlen(h->summary);
	if (l > h->level) { /* the worst problem comes first */
		char rest[sizeof h->summary];
		memcpy(rest, h->summary, sizeof rest);
		size_t w = strlen(what);
		if (w > sizeof h->summary - 1)
			w = sizeof h->summary - 1;
		memcpy(h->summary, what, w);
		h->summary[w] = 0;
		if (n && w + 2 < sizeof h->summary) {
			memcpy(h->summary + w, "; ", 3);
			strncat(h->summary, rest, sizeof h->summary - w - 3);
		}
		h->level = l;
	} else {
		snprintf(h->summary + n, sizeof h->summary - n, "%s%s", n ? "; " : "", what);
	}
}

void vg_vault_health(const struct vg_pool *p, uint64_t now_ns, struct vg_vault_health *h)
{
	struct vg_pool_status st;
	const struct vg_bp *list;
	char buf[160];
	memset(h, 0, sizeof *h);
	if (!now_ns) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	vg_pool_status(p, &st);
	vg_pool_errlog(p, &list, &h->permanent_errors);
	h->state = st.state;
	h->last_commit_ns = st.commit_time;
	for (int d = 0; d < st.ndevs; d++) {
		h->read_errs += st.dev[d].read_errs;
		h->write_errs += st.dev[d].write_errs;
		h->cksum_errs += st.dev[d].cksum_errs;
		h->devices_missing_writes += st.dev[d].resilver_needed;
		h->devices_unusable += st.dev[d].state != VG_DEV_ONLINE && st.dev[d].state != VG_DEV_DEGRADED;
	}
	h->redundancy_complete = !h->devices_missing_writes && !h->devices_unusable;
	h->scrub_state = st.scrub.state;
	if (st.scrub.state == VG_SCRUB_FINISHED || st.scrub.end)
		h->last_scrub_end_ns = st.scrub.end;
	h->scrub_repaired_bytes = st.scrub.repaired_bytes;
	h->scrub_errors = st.scrub.errors;
	h->scrub_unrecoverable = st.scrub.unrecoverable;

	if (st.state == VG_POOL_FAULTED)
		note(h, VG_HEALTH_CRIT, "vault FAULTED: more devices unavailable than its redundancy covers");
	if (h->permanent_errors) {
		snprintf(buf, sizeof buf, "%zu block%s damaged beyond repair (see 'vigil status -v')",
			 h->permanent_errors, h->permanent_errors == 1 ? "" : "s");
		note(h, VG_HEALTH_CRIT, buf);
	}
	if (st.state == VG_POOL_DEGRADED)
		note(h, VG_HEALTH_WARN, "vault DEGRADED: redundancy reduced");
	if (h->devices_missing_writes) {
		snprintf(buf, sizeof buf, "%d device%s missed writes: data written while DEGRADED lacks full "
			 "redundancy until a scrub or resilver completes", h->devices_missing_writes,
			 h->devices_missing_writes == 1 ? "" : "s");
		note(h, VG_HEALTH_WARN, buf);
	}
	if (h->read_errs + h->write_errs + h->cksum_errs) {
		snprintf(buf, sizeof buf, "device errors: %llu read, %llu write, %llu checksum",
			 (unsigned long long)h->read_errs, (unsigned long long)h->write_errs,
			 (unsigned long long)h->cksum_errs);
		note(h, VG_HEALTH_WARN, buf);
	}
	uint64_t stale = (uint64_t)VG_SCRUB_STALE_DAYS * 86400ull * 1000000000ull;
	if (!h->last_scrub_end_ns)
		note(h, VG_HEALTH_WARN, "never scrubbed");
	else if (now_ns > h->last_scrub_end_ns && now_ns - h->last_scrub_end_ns > stale) {
		snprintf(buf, sizeof buf, "last scrub more than %d days ago", VG_SCRUB_STALE_DAYS);
		note(h, VG_HEALTH_WARN, buf);
	}
	if (!h->summary[0])
		snprintf(h->summary, sizeof h->summary, "healthy");
}
