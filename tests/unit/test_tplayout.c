// SPDX-License-Identifier: GPL-2.0-only
/*
 * The record layout of net:net_dev_start_xmit (kpace_tp_layout), which picks the classic
 * tracepoint program that reads it: the format files of real kernels, a 64-bit one (x86-64,
 * 6.18, the same offsets as Debian's 6.1) and a 32-bit one (Debian's 6.1 armmp, read in the
 * armhf guest), say 8- and 4-byte pointers; a record that is neither layout is refused with the
 * field that differs from the closer one; a missing field or file is refused too.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "../../user/kernel/kpace_int.h"
#include "unit.h"

#define HEAD                                                                                      \
	"name: net_dev_start_xmit\nID: 1287\nformat:\n"                                           \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"                     \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"                     \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"             \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"                               \
	"\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n"                         \
	"\tfield:u16 queue_mapping;\toffset:12;\tsize:2;\tsigned:0;\n"
#define TAIL                                                                                      \
	"\nprint fmt: \"dev=%s queue_mapping=%u skbaddr=%p len=%u network_offset=%d "            \
	"transport_offset_valid=%d transport_offset=%d\", __get_str(name), REC->queue_mapping, "  \
	"REC->skbaddr, REC->len, REC->network_offset, REC->transport_offset_valid, "              \
	"REC->transport_offset\n"

/* a 64-bit kernel's (this machine's 6.18; Debian's 6.1 amd64 and arm64 have the same offsets) */
static const char fmt64[] = HEAD
	"\tfield:const void * skbaddr;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:bool vlan_tagged;\toffset:24;\tsize:1;\tsigned:0;\n"
	"\tfield:u16 vlan_proto;\toffset:26;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 vlan_tci;\toffset:28;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 protocol;\toffset:30;\tsize:2;\tsigned:0;\n"
	"\tfield:u8 ip_summed;\toffset:32;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned int len;\toffset:36;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned int data_len;\toffset:40;\tsize:4;\tsigned:0;\n"
	"\tfield:int network_offset;\toffset:44;\tsize:4;\tsigned:1;\n"
	"\tfield:bool transport_offset_valid;\toffset:48;\tsize:1;\tsigned:0;\n"
	"\tfield:int transport_offset;\toffset:52;\tsize:4;\tsigned:1;\n"
	"\tfield:u8 tx_flags;\toffset:56;\tsize:1;\tsigned:0;\n"
	"\tfield:u16 gso_size;\toffset:58;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 gso_segs;\toffset:60;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 gso_type;\toffset:62;\tsize:2;\tsigned:0;\n" TAIL;

/* Debian's 6.1.0-57-armmp (32-bit ARM), as its tracefs has it */
static const char fmt32[] = HEAD
	"\tfield:const void * skbaddr;\toffset:16;\tsize:4;\tsigned:0;\n"
	"\tfield:bool vlan_tagged;\toffset:20;\tsize:1;\tsigned:0;\n"
	"\tfield:u16 vlan_proto;\toffset:22;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 vlan_tci;\toffset:24;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 protocol;\toffset:26;\tsize:2;\tsigned:0;\n"
	"\tfield:u8 ip_summed;\toffset:28;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned int len;\toffset:32;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned int data_len;\toffset:36;\tsize:4;\tsigned:0;\n"
	"\tfield:int network_offset;\toffset:40;\tsize:4;\tsigned:1;\n"
	"\tfield:bool transport_offset_valid;\toffset:44;\tsize:1;\tsigned:0;\n"
	"\tfield:int transport_offset;\toffset:48;\tsize:4;\tsigned:1;\n"
	"\tfield:u8 tx_flags;\toffset:52;\tsize:1;\tsigned:0;\n"
	"\tfield:u16 gso_size;\toffset:54;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 gso_segs;\toffset:56;\tsize:2;\tsigned:0;\n"
	"\tfield:u16 gso_type;\toffset:58;\tsize:2;\tsigned:0;\n" TAIL;

static char path[64];

/* Write @text with @from replaced by @to (NULL: as it is) into the test's format file. */
static const char *format(const char *text, const char *from, const char *to)
{
	const char *at = from ? strstr(text, from) : NULL;
	FILE *f = fopen(path, "w");

	if (!f) {
		return path;
	}
	if (at) {
		fwrite(text, 1, (size_t)(at - text), f);
		fputs(to, f);
		fputs(at + strlen(from), f);
	} else {
		fputs(text, f);
	}
	fclose(f);
	return path;
}

int main(void)
{
	char why[200] = "";
	int fd;

	snprintf(path, sizeof(path), "/tmp/txpace-tplayout.XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0) {
		return unit_done("test_tplayout");
	}
	close(fd);

	/* the structs the two programs read are the two layouts */
	CHECK_EQ(offsetof(struct txp_tp_start_xmit, skbaddr), 16);
	CHECK_EQ(offsetof(struct txp_tp_start_xmit, transport_offset), 52);
	CHECK_EQ(offsetof(struct txp_tp_start_xmit32, skbaddr), 16);
	CHECK_EQ(offsetof(struct txp_tp_start_xmit32, protocol), 26);
	CHECK_EQ(offsetof(struct txp_tp_start_xmit32, network_offset), 40);
	CHECK_EQ(offsetof(struct txp_tp_start_xmit32, transport_offset_valid), 44);
	CHECK_EQ(offsetof(struct txp_tp_start_xmit32, transport_offset), 48);

	CHECK_EQ(kpace_tp_layout(format(fmt64, NULL, NULL), why, sizeof(why)), 8);
	CHECK_EQ(kpace_tp_layout(format(fmt32, NULL, NULL), why, sizeof(why)), 4);

	/* only skbaddr shrunk, everything after it where a 64-bit kernel has it: neither */
	CHECK_EQ(kpace_tp_layout(format(fmt64, "offset:16;\tsize:8;", "offset:16;\tsize:4;"), why,
				 sizeof(why)), -EPROTO);
	CHECK(strstr(why, "records skbaddr at offset 16 (4 bytes) here, txpace reads it at 16 "
			  "(8 bytes)") != NULL);
	/* a 32-bit record with protocol elsewhere: named against the 32-bit layout */
	CHECK_EQ(kpace_tp_layout(format(fmt32, "protocol;\toffset:26;", "protocol;\toffset:28;"),
				 why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "records protocol at offset 28 (2 bytes) here, txpace reads it at 26 "
			  "(2 bytes)") != NULL);
	/* transport_offset_valid is not transport_offset: each is found by its own name */
	CHECK_EQ(kpace_tp_layout(format(fmt32, "int transport_offset;", "int transport_off;"), why,
				 sizeof(why)), -EPROTO);
	CHECK(strstr(why, "has no field transport_offset here") != NULL);

	/* TXPACE_TP_FORMAT stands in for tracefs's file */
	format(fmt32, NULL, NULL);
	setenv("TXPACE_TP_FORMAT", path, 1);
	CHECK_EQ(kpace_tp_layout(NULL, why, sizeof(why)), 4);
	unsetenv("TXPACE_TP_FORMAT");

	unlink(path);
	CHECK_EQ(kpace_tp_layout(path, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "no format file") != NULL);
	return unit_done("test_tplayout");
}
