// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardware TX stamps (hwts.h): the PHC-to-system offset from bracketed readings, worked by hand
 * here, and an interface without hardware stamps (lo never has them) refused with its reason.
 */
#include <errno.h>
#include <string.h>

#include "txpace/hwts.h"
#include "unit.h"

int main(void)
{
	int64_t off = 0, win = 0;
	char why[200] = "";

	/* one reading: system 1000..1100 around PHC 400: midpoint 1050, offset 650, window 100 */
	{
		const int64_t s[1][3] = { { 1000, 400, 1100 } };

		CHECK_EQ(hwts_pick(s, 1, &off, &win), 0);
		CHECK_EQ(off, 650);
		CHECK_EQ(win, 100);
	}
	/* the narrowest window wins wherever it is; an equal one later does not replace it */
	{
		const int64_t s[4][3] = { { 0, 10, 300 },	/* window 300 */
					  { 500, 20, 540 },	/* window 40: offset 500 */
					  { 600, 30, 640 },	/* also 40: not taken */
					  { 700, 40, 800 } };

		CHECK_EQ(hwts_pick(s, 4, &off, &win), 0);
		CHECK_EQ(off, 500);
		CHECK_EQ(win, 40);
	}
	/* a reading whose "after" precedes its "before" (a clock step between them) is skipped */
	{
		const int64_t s[2][3] = { { 900, 0, 800 }, { 2000, 1000, 2010 } };

		CHECK_EQ(hwts_pick(s, 2, &off, &win), 0);
		CHECK_EQ(off, 1005);
		CHECK_EQ(win, 10);
	}
	/* nothing usable */
	{
		const int64_t s[1][3] = { { 900, 0, 800 } };

		CHECK_EQ(hwts_pick(s, 1, &off, &win), -EINVAL);
		CHECK_EQ(hwts_pick(s, 0, &off, &win), -EINVAL);
	}
	/* lo has no hardware stamps: NULL, with the reason, and nothing changed on it */
	CHECK(hwts_open("lo", why, sizeof(why)) == NULL);
	CHECK(strstr(why, "lo has no hardware TX stamps") != NULL);
	CHECK(hwts_open("txpace-no-such0", why, sizeof(why)) == NULL);
	CHECK(strstr(why, "no hardware TX stamps") != NULL);
	return unit_done("test_hwts");
}
