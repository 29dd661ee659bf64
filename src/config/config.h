/*
 * config.h - vigil's config file: sections of typed keys, and its secrets.
 *
 * The file is INI, read with inih (docs/CONFIG.md):
 *
 *   [alert]                    a plain section: kind "alert", no name
 *   timeout = 30s
 *   [alert "pager"]            a named section: kind "alert", name "pager"
 *   type = pagerduty
 *   routing-key = ...
 *
 * This layer knows no section's meaning: each module (alert/, later the
 * vault, health and backup settings) looks up its own sections and reads
 * its keys through the typed accessors below, which name the file, line,
 * section and key in every error ("vigil.conf:12: [alert \"pager\"]
 * timeout: '5 parsecs' is not a duration such as 30s, 5m, 24h").
 *
 * Invariants:
 *  - The whole file is read first (cap 1 MiB) and every line is checked to
 *    fit inih's line buffer, so inih never truncates a line silently.
 *  - A key given twice in one section is an error for the single-value
 *    accessors; vg_config_next() walks repeatable keys (e.g. "header").
 *  - Values of keys that hold secrets (token, password, user, routing-key,
 *    names ending in -token, -password, -key or -secret) are registered as
 *    secrets at load; modules add more (vg_config_secret_add()).
 *    vg_config_redact() masks every registered secret in a text: everything
 *    that may reach output goes through it.
 *  - A file holding secrets that others can read gives a warning
 *    (vg_config_warning()), never an error.
 *
 * Lifetime: strings returned point into the vg_config and live until
 * vg_config_free().
 */
#ifndef VG_CONFIG_CONFIG_H
#define VG_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct vg_config;
struct vg_config_section;

#define VG_CONFIG_MAX_BYTES (1u << 20)
#define VG_CONFIG_MAX_LINE 199   /* inih's line buffer is 200 bytes with the NUL */
#define VG_CONFIG_MAX_SECTION 49 /* and its section buffer 50 */

/* Reads and parses the config file.  path NULL: the default location
 * (vg_config_path(): --config, $VIGIL_CONFIG, /etc/vigil/vigil.conf ...);
 * a missing default file gives an empty config, a missing explicit one
 * VG_ENOENT.  Syntax errors give VG_EINVAL naming file and line. */
int vg_config_load(const char *path, struct vg_config **out);
/* Parses text (for tests and for tools that build a config); origin names
 * it in messages. */
int vg_config_parse(const char *text, const char *origin, struct vg_config **out);
void vg_config_free(struct vg_config *cfg);

/* The file the config came from ("" for an absent default file). */
const char *vg_config_origin(const struct vg_config *cfg);

/* Warnings found at load (e.g. secrets readable by others); NULL past the end. */
const char *vg_config_warning(const struct vg_config *cfg, size_t i);

/* Sections in file order; NULL past the end. */
const struct vg_config_section *vg_config_section_at(const struct vg_config *cfg, size_t i);
/* The section [kind] (name NULL) or [kind "name"]; NULL if absent. */
const struct vg_config_section *vg_config_find(const struct vg_config *cfg, const char *kind,
					      const char *name);
const char *vg_config_section_kind(const struct vg_config_section *sec);
const char *vg_config_section_name(const struct vg_config_section *sec); /* NULL if none */
int vg_config_section_line(const struct vg_config_section *sec);

/* Typed accessors.  All take sec == NULL as "section absent".  They return
 * 0 and set *out when the key is present and valid, VG_ENOENT (without a
 * message, *out untouched, so preset defaults stay) when absent, VG_EINVAL
 * with a message naming file:line, section and key when invalid. */
int vg_config_get_str(const struct vg_config_section *sec, const char *key, const char **out);
int vg_config_get_bool(const struct vg_config_section *sec, const char *key, bool *out);
int vg_config_get_int(const struct vg_config_section *sec, const char *key, long long min,
		      long long max, long long *out);
/* Durations: "500ms", "30s", "5m", "24h", "7d", or a bare number of
 * seconds; result in milliseconds, within [min_ms, max_ms]. */
int vg_config_get_duration(const struct vg_config_section *sec, const char *key, long long min_ms,
			   long long max_ms, long long *out_ms);
/* One of names[] (NULL-terminated); *out is its index. */
int vg_config_get_enum(const struct vg_config_section *sec, const char *key,
		       const char *const *names, int *out);
/* A comma-separated list of names[] entries, as a bit set (bit i = names[i]). */
int vg_config_get_set(const struct vg_config_section *sec, const char *key,
		      const char *const *names, unsigned *out);

/* Walks every value of a repeatable key: start with *iter = 0; returns 1
 * and sets *value (and *line) while there is one, 0 at the end. */
int vg_config_next(const struct vg_config_section *sec, const char *key, size_t *iter,
		   const char **value, int *line);

/* Rejects keys not in allowed[] (NULL-terminated), naming the unknown key
 * and its line, so a typo ("routing_key") is not silently ignored. */
int vg_config_check_keys(const struct vg_config_section *sec, const char *const *allowed);

/* Formats "file:line: [kind \"name\"] key: " into buf, for messages of
 * modules that validate values themselves. */
const char *vg_config_where(const struct vg_config_section *sec, const char *key, char *buf,
			    size_t len);

/* Registers one more secret (copied; strings shorter than 4 bytes are
 * ignored: masking them would garble ordinary text). */
int vg_config_secret_add(struct vg_config *cfg, const char *secret);
/* Copies in to out (size len, always NUL-terminated, truncated if need
 * be) with every registered secret replaced by "********". */
void vg_config_redact(const struct vg_config *cfg, const char *in, char *out, size_t len);
/* True if text contains a registered secret. */
bool vg_config_has_secret(const struct vg_config *cfg, const char *text);
/* True if values of this key name are secrets. */
bool vg_config_key_is_secret(const char *key);

#endif
