/*
 * browse.c - printing tree entries (see browse.h).
 */
#include "cli/browse.h"

#include <stdio.h>

#include "cli/vault.h"

static char type_char(int t)
{
	static const char c[] = "?-dlhpcbs";
	return t >= 0 && t <= VG_FT_SOCK ? c[t] : '?';
}

static void mode_str(const struct vg_tree_entry *e, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	uint32_t m = e->st.mode;
	out[0] = type_char(e->st.type);
	for (int i = 0; i < 9; i++)
		out[1 + i] = m & (0400u >> i) ? rwx[i] : '-';
	if (m & 04000)
		out[3] = m & 0100 ? 's' : 'S';
	if (m & 02000)
		out[6] = m & 010 ? 's' : 'S';
	if (m & 01000)
		out[9] = m & 01 ? 't' : 'T';
	out[10] = 0;
}

void cli_entry_print(const char *path, const struct vg_tree_entry *e)
{
	char mode[11], uid[16], gid[16];
	mode_str(e, mode);
	snprintf(uid, sizeof uid, "%u", e->st.uid);
	snprintf(gid, sizeof gid, "%u", e->st.gid);
	printf("%s  %-8s %-8s %10s  %s  %s", mode, cli_safe(e->user ? e->user : uid),
	       cli_safe(e->group ? e->group : gid), e->st.type == VG_FT_FILE ? cli_bytes(e->st.size) : "-",
	       cli_time(e->st.mtime_ns), cli_safe(path));
	if (e->st.type == VG_FT_SYMLINK && e->target)
		printf(" -> %s", cli_safe(e->target));
	putchar('\n');
}

json_t *cli_entry_json(const char *path, const struct vg_tree_entry *e)
{
	char mode[11];
	mode_str(e, mode);
	json_t *o = json_pack("{s:o, s:s, s:i, s:I, s:I, s:I, s:I, s:I}", "path", cli_json_safe(path), "mode_string",
			      mode, "mode", (int)e->st.mode, "uid", (json_int_t)e->st.uid, "gid",
			      (json_int_t)e->st.gid, "size", (json_int_t)e->st.size, "mtime_ns",
			      (json_int_t)e->st.mtime_ns, "nchunks", (json_int_t)e->nchunks);
	if (o && e->user)
		json_object_set_new(o, "user", cli_json_safe(e->user));
	if (o && e->group)
		json_object_set_new(o, "group", cli_json_safe(e->group));
	if (o && e->target)
		json_object_set_new(o, "target", cli_json_safe(e->target));
	if (o && e->link_group)
		json_object_set_new(o, "hardlink_set", json_integer((json_int_t)e->link_group));
	return o;
}
