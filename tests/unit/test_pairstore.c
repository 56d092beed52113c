// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pairing store in a fresh directory: the identity created once (dir 0700, files 0600) and
 * the same on reload, peers stored, replaced, found and removed, bad keys refused, a damaged
 * identity file reported (not silently replaced).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txpace/pair.h"
#include "unit.h"

static int mode_of(const char *dir, const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s%s", dir, name ? "/" : "", name ? name : "");
	return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

int main(void)
{
	char tmpl[] = "/tmp/txpace-pairstore.XXXXXX", dir[600], err[300], p[700];
	struct pair_identity a, b;
	struct pair_peer x = { .id = "AA:BB:CC:DD:EE:01" }, y = { .id = "shairport-1" }, got;
	FILE *f;

	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(dir, sizeof(dir), "%s/store", tmpl);
	CHECK_EQ(pair_identity_load(dir, &a, err, sizeof(err)), 0);
	CHECK_EQ(mode_of(dir, NULL), 0700);
	CHECK_EQ(mode_of(dir, "identity"), 0600);
	CHECK_EQ(strlen(a.id), 36);
	CHECK_EQ(pair_identity_load(dir, &b, err, sizeof(err)), 0);
	CHECK(strcmp(a.id, b.id) == 0 && memcmp(a.pk, b.pk, 32) == 0 && memcmp(a.sk, b.sk, 64) == 0);

	memset(x.pk, 0xab, 32);
	memset(y.pk, 0x01, 32);
	CHECK_EQ(pair_find_peer(dir, "kitchen", &got, err, sizeof(err)), -ENOENT);
	CHECK_EQ(pair_store_peer(dir, "kitchen", &x, err, sizeof(err)), 0);
	CHECK_EQ(mode_of(dir, "peers"), 0600);
	CHECK_EQ(pair_store_peer(dir, "AA:00:11", &y, err, sizeof(err)), 0);
	CHECK_EQ(pair_find_peer(dir, "kitchen", &got, err, sizeof(err)), 0);
	CHECK(strcmp(got.id, x.id) == 0 && memcmp(got.pk, x.pk, 32) == 0);
	CHECK_EQ(pair_store_peer(dir, "kitchen", &y, err, sizeof(err)), 0);	/* replaced */
	CHECK_EQ(pair_find_peer(dir, "kitchen", &got, err, sizeof(err)), 0);
	CHECK(strcmp(got.id, y.id) == 0);
	CHECK_EQ(pair_remove_peer(dir, "kitchen", err, sizeof(err)), 0);
	CHECK_EQ(pair_remove_peer(dir, "kitchen", err, sizeof(err)), -ENOENT);
	CHECK_EQ(pair_find_peer(dir, "kitchen", &got, err, sizeof(err)), -ENOENT);
	CHECK_EQ(pair_find_peer(dir, "AA:00:11", &got, err, sizeof(err)), 0);
	CHECK_EQ(pair_store_peer(dir, "living room", &x, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "without spaces") != NULL);
	CHECK_EQ(pair_store_peer(dir, "", &x, err, sizeof(err)), -EINVAL);

	snprintf(p, sizeof(p), "%s/identity", dir);
	f = fopen(p, "w");
	fputs("id ABC\nseed 12\n", f);
	fclose(f);
	CHECK_EQ(pair_identity_load(dir, &b, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "damaged") != NULL);

	snprintf(p, sizeof(p), "rm -rf '%s'", tmpl);
	CHECK_EQ(system(p), 0);
	return unit_done("test_pairstore");
}
