/*
 * test_base.c - the error convention, the capped buffer and the bounded reader.
 */
#include <string.h>

#include "base/buf.h"
#include "base/bytes.h"
#include "base/err.h"
#include "t.h"

TEST(err_message_and_prefix)
{
	int e = VG_ERR(VG_ECORRUPT, "device '%s' offset %d", "a", 7);
	T_EQ(e, VG_ECORRUPT);
	T_CHECK(!strcmp(vg_errmsg(), "device 'a' offset 7"));
	vg_err_prefix(e, "reading snapshot %s", "abc");
	T_CHECK(!strcmp(vg_errmsg(), "reading snapshot abc: device 'a' offset 7"));
	T_CHECK(strstr(vg_errwhere(), "test_base.c") != NULL);
}

TEST(buf_cap_is_enforced)
{
	struct vg_buf b;
	vg_buf_init(&b, 100);
	char x[60] = {0};
	T_OK(vg_buf_add(&b, x, 60));
	T_EQ(vg_buf_add(&b, x, 60), VG_EINVAL);
	T_EQ(b.len, 60);
	vg_buf_release(&b);
	vg_buf_release(&b);
}

TEST(varint_roundtrip_and_truncation)
{
	struct vg_buf b = {0};
	uint64_t vals[] = {0, 1, 127, 128, 300, 1ull << 35, UINT64_MAX};
	for (size_t i = 0; i < 7; i++)
		T_OK(vg_buf_addvar(&b, vals[i]));
	struct vg_rd r;
	vg_rd_init(&r, b.p, b.len);
	for (size_t i = 0; i < 7; i++)
		T_CHECK(vg_rdvar(&r) == vals[i]);
	T_CHECK(!r.bad && vg_rd_left(&r) == 0);
	vg_rd_init(&r, b.p, b.len - 1); /* cut the last varint short */
	for (size_t i = 0; i < 7; i++)
		vg_rdvar(&r);
	T_CHECK(r.bad);
	T_EQ(vg_rd32(&r), 0);
	vg_buf_release(&b);
}
