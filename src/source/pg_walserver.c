/*
 * pg_walserver.c - a running server's WAL position, through psql
 * (pg_wal.h, vg_pg_server_position).  psql is run without a shell; the
 * connection string goes in argv (-d) and never into a message, since it
 * may hold a password.  Output is one line "f|0/3000060|000000010000000000000003|1|16777216"
 * and is parsed strictly.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "os/proc.h"
#include "source/pg_wal.h"

/* On a primary pg_walfile_name() gives the timeline; a standby cannot call
 * it, and reports its replay position and the timeline of its latest
 * restartpoint instead. */
static const char QUERY[] =
	"SELECT pg_is_in_recovery(), "
	"CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, "
	"CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_walfile_name(pg_current_wal_lsn()) END, "
	"(SELECT timeline_id FROM pg_control_checkpoint()), "
	"(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size')";

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int parse_reply(char *line, struct vg_pg_serverpos *out)
{
	char *f[6];
	size_t n = 0;
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	for (char *p = line; n < 6; n++) {
		f[n] = p;
		char *bar = strchr(p, '|');
		if (!bar) {
			n++;
			break;
		}
		*bar = '\0';
		p = bar + 1;
	}
	uint32_t cp_tli = 0;
	if (n != 5 || (strcmp(f[0], "t") && strcmp(f[0], "f")) || vg_pg_lsn_parse(f[1], &out->lsn) < 0 ||
	    !parse_u32(f[3], &cp_tli) || !parse_u32(f[4], &out->segsize))
		return VG_ERR(VG_EEXTERNAL, "unexpected answer from psql: '%.80s'", line);
	out->in_recovery = f[0][0] == 't';
	out->tli = cp_tli;
	if (!out->in_recovery) {
		struct vg_pg_walname wn;
		vg_pg_walname_parse(f[2], &wn);
		if (wn.kind != VG_PG_WAL_SEGMENT)
			return VG_ERR(VG_EEXTERNAL, "unexpected WAL file name from psql: '%.40s'", f[2]);
		out->tli = wn.tli;
	}
	if (out->segsize < (1u << 20) || out->segsize > (1u << 30) || (out->segsize & (out->segsize - 1)))
		return VG_ERR(VG_EEXTERNAL, "server reports an impossible WAL segment size %u", out->segsize);
	if (out->tli == 0)
		return VG_ERR(VG_EEXTERNAL, "server reports timeline 0");
	return 0;
}

int vg_pg_server_position(const char *connstr, struct vg_pg_serverpos *out)
{
	memset(out, 0, sizeof *out);
	const char *argv[] = {"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
			      "-d", connstr, "-c", QUERY, NULL};
	const char *env[] = {"PGCONNECT_TIMEOUT=10", NULL};
	struct vg_proc_opts po = {.argv = argv, .env = env, .timeout_ms = 30000, .max_out = 4096};
	struct vg_proc_result pr;
	int rc = vg_proc_run(&po, &pr);
	if (rc == VG_ENOENT)
		rc = VG_ERR(VG_ENOENT, "psql not found: install the PostgreSQL client (postgresql-client)");
	else if (rc == 0 && pr.timed_out)
		rc = VG_ERR(VG_ETIMEDOUT, "psql did not answer within 30 s");
	else if (rc == 0 && pr.status != 0) {
		char *nl = strchr(pr.err, '\n');
		if (nl)
			*nl = '\0';
		rc = VG_ERR(VG_EEXTERNAL, "psql failed (exit %d): %.200s", pr.status, pr.err);
	} else if (rc == 0) {
		rc = parse_reply(pr.out, out);
	}
	vg_proc_result_release(&pr);
	return rc;
}
