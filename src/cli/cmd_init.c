/*
 * cmd_init.c - `vigil init`: create a vault over device directories.
 *
 *   vigil init --layout L [--encryption repokey|none] [--compression N]
 *              [--kdf-ops N] [--kdf-memory KIB] [--json] DEV...
 *
 * repokey (the default) asks for a passphrase (cli_passphrase) and wraps a
 * random master key with it.
 * Each DEV is a directory, created when missing (its parent must exist).
 * Paths are stored absolute, so any member can name the vault later.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/vault.h"

/* Absolute path of a device directory that may not exist yet. */
static int abs_dev(const char *path, char *out)
{
	char tmp[PATH_MAX], parent[PATH_MAX];
	if (realpath(path, out))
		return 0;
	if (errno != ENOENT || strlen(path) >= sizeof tmp)
		return VG_ERRNO(errno, "cannot use device directory '%s'", path);
	snprintf(tmp, sizeof tmp, "%s", path);
	size_t n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = 0;
	char *slash = strrchr(tmp, '/');
	const char *base = slash ? slash + 1 : tmp;
	const char *dir = slash ? (slash == tmp ? "/" : tmp) : ".";
	if (slash && slash != tmp)
		*slash = 0;
	if (!realpath(dir, parent))
		return VG_ERRNO(errno, "cannot create device directory '%s' (its parent '%s' must exist)", path, dir);
	int k = snprintf(out, PATH_MAX, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", base);
	if (k < 0 || k >= PATH_MAX)
		return VG_ERR(VG_EINVAL, "device path '%s' is too long", path);
	return 0;
}

static void print_result(bool json, const struct vg_layout *l, char **devs, int n,
			 const struct vg_repo_config *cfg, const struct vg_pool_status *st)
{
	char lb[16], id[40];
	snprintf(id, sizeof id, "%016llx", (unsigned long long)st->vault_guid);
	if (json) {
		json_t *d = json_array();
		for (int i = 0; i < n; i++)
			json_array_append_new(d, cli_json_safe(devs[i]));
		json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:i}", "vault", id, "layout", vg_layout_name(l, lb),
				      "devices", d, "encryption", cfg->enc ? "repokey" : "none", "compression",
				      cfg->comp ? "zstd" : "none", "compression_level", cfg->level);
		cli_print_json(o);
		return;
	}
	printf("created vault %s: %s over %d device%s\n", id, vg_layout_name(l, lb), n, n > 1 ? "s" : "");
	for (int i = 0; i < n; i++)
		printf("  %s\n", cli_safe(devs[i]));
	printf("encryption: %s; compression: %s (level %d)\n",
	       cfg->enc ? "repokey (XChaCha20-Poly1305, Argon2id-wrapped key)" : "none", cfg->comp ? "zstd" : "none",
	       cfg->level);
	if (cfg->enc)
		printf("keep the passphrase safe: without it nothing in this vault can be restored\n");
}

/* The passphrase asked before anything is created, handed to the library. */
static int given_pass(void *ctx, bool is_new, char *buf, size_t cap)
{
	(void)is_new;
	snprintf(buf, cap, "%s", (const char *)ctx);
	return 0;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"layout", required_argument, NULL, 'l'}, {"encryption", required_argument, NULL, 'e'},
		{"compression", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
		{"kdf-ops", required_argument, NULL, 'O'}, {"kdf-memory", required_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
	const char *layout = NULL;
	struct vg_repo_opts ro = {.enc = VG_ENC_REPOKEY};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:e:c:O:M:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': layout = optarg; break;
		case 'e':
			if (!strcmp(optarg, "none"))
				ro.enc = VG_ENC_NONE;
			else if (strcmp(optarg, "repokey"))
				return cli_usage("init", "unknown encryption '%s' (use repokey or none)", optarg);
			break;
		case 'O':
		case 'M':
			if (!cli_kdf_opt(optarg, c == 'O', &ro.kdf))
				return cli_usage("init", "--kdf-ops and --kdf-memory take a positive number");
			break;
		case 'c': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < -7 || v > 22)
				return cli_usage("init", "--compression takes a zstd level from -7 to 22 (0: none)");
			ro.comp_level = (int)v;
			ro.comp_set = true;
			break;
		}
		case 'j': json = true; break;
		case 'h':
			printf("usage: vigil init --layout single|mirror|raidz1|raidz2|raidz3 [--encryption repokey|none]\n"
			       "                  [--compression LEVEL] [--kdf-ops N] [--kdf-memory KIB] [--json] DEV...\n");
			return 0;
		default: return cli_usage("init", "unknown option");
		}
	}
	int n = argc - optind;
	if (!layout)
		return cli_usage("init", "--layout is required (single, mirror, raidz1, raidz2, raidz3)");
	if (n < 1)
		return cli_usage("init", "give the device directories");
	if (n > VG_POOL_MAX_DEVS)
		return cli_usage("init", "at most %d devices", VG_POOL_MAX_DEVS);
	struct vg_layout l;
	if (vg_layout_parse(layout, n, &l) < 0)
		return cli_usage("init", "%s", vg_errmsg());
	char store[VG_POOL_MAX_DEVS][PATH_MAX];
	char *devs[VG_POOL_MAX_DEVS];
	int err = 0;
	for (int i = 0; i < n && !err; i++) {
		devs[i] = store[i];
		err = abs_dev(argv[optind + i], store[i]);
	}
	if (err)
		return cli_fail(err);
	struct vg_pool *p = NULL;
	struct vg_repo *r = NULL;
	struct vg_pool_status st;
	static char pass[VG_PASS_MAX + 1];
	if (ro.enc == VG_ENC_REPOKEY) {
		if ((err = cli_kdf_params(&ro.kdf)) < 0)
			return cli_fail(err);
		if ((err = cli_passphrase(NULL, true, pass, sizeof pass)) < 0)
			return cli_fail(err);
		if (!pass[0])
			return cli_usage("init", "the passphrase is empty (or use --encryption none)");
		ro.pass = given_pass;
		ro.pass_ctx = pass;
	}
	if ((err = vg_pool_create(vg_os_posix(), &l, (const char *const *)devs, &p)) < 0)
		return cli_fail(err);
	err = vg_repo_create(p, &ro, &r);
	memset(pass, 0, sizeof pass);
	if (err < 0) {
		vg_pool_close(p);
		return cli_fail(err);
	}
	vg_pool_status(p, &st);
	print_result(json, &l, devs, n, vg_repo_config(r), &st);
	return (err = cli_repo_close(p, r)) ? cli_fail(err) : CLI_OK;
}
