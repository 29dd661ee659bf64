/*
 * config_int.h - the config structures shared by config.c and
 * config_get.c; not for use outside src/config/.
 */
#ifndef VG_CONFIG_CONFIG_INT_H
#define VG_CONFIG_CONFIG_INT_H

#include "config/config.h"

struct vg_config_entry {
	char *key;
	char *value;
	int line;
};

struct vg_config_section {
	struct vg_config *cfg;
	char *kind;
	char *name; /* NULL for [kind] */
	int line;
	struct vg_config_entry *ents;
	size_t nents, ents_cap;
};

struct vg_config {
	char *origin;
	struct vg_config_section **secs;
	size_t nsecs, secs_cap;
	char **secrets;
	size_t nsecrets, secrets_cap;
	char **warnings; /* NULL-terminated */
	size_t nwarnings, warnings_cap;
	char *cur_header; /* parser state: the section string inih last reported */
	bool has_secrets;
};

#endif
