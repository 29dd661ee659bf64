/*
 * backup_src.c - reading a source file for the chunker (holes skipped)
 * and numbering hardlink sets (see backup_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "workflow/backup_int.h"

int src_open(struct src *s, const struct vg_fs_stat *st)
{
	s->ext = NULL;
	s->n = s->next = 0;
	s->left = s->pos = 0;
	s->size = st->size;
	if (st->blocks * 512 >= st->size) /* no room for a hole: skip the seeks */
		return 0;
	return vg_fs_file_extents(s->f, st->size, &s->ext, &s->n);
}

int src_read(struct src *s, void *buf, size_t len, size_t *got)
{
	size_t done = 0;
	if (!s->ext) { /* the caller stats the file after reading it */
		int err = vg_fs_file_read_sized(s->f, buf, len, s->pos <= s->size ? s->size - s->pos : UINT64_MAX, got);
		if (!err)
			s->pos += *got;
		return err;
	}
	while (done < len) {
		if (s->left == 0) {
			if (s->next == s->n)
				break;
			int err = vg_fs_file_seek(s->f, s->ext[2 * s->next]);
			if (err)
				return err;
			s->left = s->ext[2 * s->next + 1];
			s->next++;
		}
		size_t want = len - done < s->left ? len - done : (size_t)s->left, g;
		int err = vg_fs_file_read(s->f, (char *)buf + done, want, &g);
		if (err)
			return err;
		done += g;
		s->left -= g;
		if (g < want) { /* the file shrank: stop here */
			s->left = 0;
			s->next = s->n;
			break;
		}
	}
	*got = done;
	return 0;
}

void src_close(struct src *s)
{
	free(s->ext);
	s->ext = NULL;
}

static size_t slot_of(uint64_t dev, uint64_t ino, size_t cap)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) ^ dev) & (cap - 1);
}

static int links_grow(struct bctx *c)
{
	size_t nc = c->linkcap ? 2 * c->linkcap : 256;
	struct link_slot *ns = calloc(nc, sizeof *ns);
	if (!ns)
		return VG_ERR(VG_ENOMEM, "out of memory tracking hardlinks");
	for (size_t i = 0; i < c->linkcap; i++) {
		struct link_slot *o = &c->links[i];
		if (!o->group)
			continue;
		size_t j = slot_of(o->dev, o->ino, nc);
		while (ns[j].group)
			j = (j + 1) & (nc - 1);
		ns[j] = *o;
	}
	free(c->links);
	c->links = ns;
	c->linkcap = nc;
	return 0;
}

int link_group(struct bctx *c, const struct vg_fs_stat *st, uint64_t *group)
{
	int err;
	if (2 * (c->nlinks + 1) > c->linkcap && (err = links_grow(c)) < 0)
		return err;
	size_t j = slot_of(st->dev, st->ino, c->linkcap);
	for (; c->links[j].group; j = (j + 1) & (c->linkcap - 1))
		if (c->links[j].dev == st->dev && c->links[j].ino == st->ino) {
			*group = c->links[j].group;
			return 0;
		}
	c->links[j] = (struct link_slot){st->dev, st->ino, ++c->next_group};
	c->nlinks++;
	*group = c->next_group;
	return 0;
}

void links_release(struct bctx *c)
{
	free(c->links);
	c->links = NULL;
	c->nlinks = c->linkcap = 0;
}
