/*
 * test_proc.c - running external tools: output capture, caps, timeouts,
 * missing programs, stdin feeding.
 */
#include <string.h>

#include "base/err.h"
#include "os/proc.h"
#include "t.h"

TEST(captures_stdout_stderr_and_status)
{
	const char *argv[] = {"sh", "-c", "echo hello; echo oops >&2; exit 3", NULL};
	struct vg_proc_opts o = {.argv = argv};
	struct vg_proc_result r;
	T_OK(vg_proc_run(&o, &r));
	T_EQ(r.status, 3);
	T_CHECK(!strcmp(r.out, "hello\n"));
	T_CHECK(!strcmp(r.err, "oops\n"));
	vg_proc_result_release(&r);
}

TEST(missing_program_is_named)
{
	const char *argv[] = {"vigil-no-such-tool", NULL};
	struct vg_proc_opts o = {.argv = argv};
	struct vg_proc_result r;
	T_EQ(vg_proc_run(&o, &r), VG_ENOENT);
	T_CHECK(r.not_found);
	T_CHECK(strstr(vg_errmsg(), "vigil-no-such-tool") != NULL);
	vg_proc_result_release(&r);
}

TEST(timeout_kills_a_hanging_tool)
{
	const char *argv[] = {"sleep", "10", NULL};
	struct vg_proc_opts o = {.argv = argv, .timeout_ms = 200};
	struct vg_proc_result r;
	T_OK(vg_proc_run(&o, &r));
	T_CHECK(r.timed_out);
	T_CHECK(r.status != 0);
	vg_proc_result_release(&r);
}

TEST(output_cap_truncates)
{
	const char *argv[] = {"sh", "-c", "head -c 100000 /dev/zero", NULL};
	struct vg_proc_opts o = {.argv = argv, .max_out = 1000};
	struct vg_proc_result r;
	T_OK(vg_proc_run(&o, &r));
	T_EQ(r.out_len, 1000);
	T_CHECK(r.out_truncated);
	T_EQ(r.status, 0);
	vg_proc_result_release(&r);
}

TEST(stdin_and_env_reach_the_child)
{
	const char *argv[] = {"sh", "-c", "cat; echo \"$VG_T\"", NULL};
	const char *env[] = {"VG_T=xyz", NULL};
	struct vg_proc_opts o = {.argv = argv, .env = env, .stdin_data = "abc\n", .stdin_len = 4};
	struct vg_proc_result r;
	T_OK(vg_proc_run(&o, &r));
	T_CHECK(!strcmp(r.out, "abc\nxyz\n"));
	vg_proc_result_release(&r);
}

TEST(a_child_that_ignores_stdin_does_not_kill_us)
{
	static char big[1 << 20];
	const char *argv[] = {"true", NULL};
	struct vg_proc_opts o = {.argv = argv, .stdin_data = big, .stdin_len = sizeof big};
	struct vg_proc_result r;
	T_OK(vg_proc_run(&o, &r));
	T_EQ(r.status, 0);
	vg_proc_result_release(&r);
}
