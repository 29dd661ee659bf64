/*
 * t.h - the unit-test harness.
 *
 * A test program is a set of TEST(name) functions; t.c provides main().
 * Each test runs in a forked child (a crash, sanitizer report or leak fails
 * that test only) and prints one line:  "ok - prog/name" or
 * "not ok - prog/name: file:line: what".  tests/run counts these lines.
 *
 *   prog [-n] [FILTER]   -n: do not fork (for gdb); FILTER: substring of names
 *
 * T_CHECK(cond) fails the test and returns from it; T_EQ/T_OK print values.
 * t_tmpdir() gives a fresh directory (on /dev/shm when present) removed
 * after the test.
 */
#ifndef VG_TESTS_T_H
#define VG_TESTS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*t_fn)(void);
void t_register(const char *name, t_fn fn);
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool t_failed(void);

#define TEST(name)                                                                  \
	static void name(void);                                                     \
	__attribute__((constructor)) static void t_reg_##name(void) { t_register(#name, name); } \
	static void name(void)

#define T_CHECK(cond)                                                               \
	do {                                                                        \
		if (!(cond)) {                                                      \
			t_fail(__FILE__, __LINE__, "check failed: %s", #cond);      \
			return;                                                     \
		}                                                                   \
	} while (0)

#define T_CHECKF(cond, ...)                                                         \
	do {                                                                        \
		if (!(cond)) {                                                      \
			t_fail(__FILE__, __LINE__, __VA_ARGS__);                    \
			return;                                                     \
		}                                                                   \
	} while (0)

#define T_EQ(a, b)                                                                  \
	do {                                                                        \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);             \
		if (t_a_ != t_b_) {                                                 \
			t_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, t_a_, t_b_); \
			return;                                                     \
		}                                                                   \
	} while (0)

/* Expect a vg call to succeed; on failure print its code and message. */
#define T_OK(expr)                                                                  \
	do {                                                                        \
		int t_e_ = (expr);                                                  \
		if (t_e_ != 0) {                                                    \
			t_fail(__FILE__, __LINE__, "%s -> %d (%s)", #expr, t_e_, t_errmsg()); \
			return;                                                     \
		}                                                                   \
	} while (0)

const char *t_errmsg(void);

/* A fresh empty directory for this test; removed when the test ends. */
const char *t_tmpdir(void);
/* Path inside t_tmpdir(); returns a static buffer rotated among 8. */
const char *t_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command; returns its exit status (or -1). */
int t_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Crash campaigns: the vault directory v in t_tmpdir() put back as the
 * copy `template` holds it, and a fault twin over the real file system
 * whose power fails at the nth call of the kinds in ops (0: at the nth
 * pwrite), unsynced writes decided by seed (os/fault.h). */
struct vg_os;
void t_vault_from_template(void);
struct vg_os *t_crash_os(unsigned ops, uint64_t n, uint64_t seed);
/* Deterministic pseudo-random numbers for tests (xorshift). */
uint64_t t_rand(uint64_t *state);
void t_fill(void *buf, size_t len, uint64_t seed);
/* Write a file of len pseudo-random bytes. Returns 0 or -1. */
int t_write_file(const char *path, const void *data, size_t len);
/* Read a whole file into a malloc'd, NUL-terminated buffer; NULL on error. */
void *t_read_file(const char *path, size_t *len);

#endif
