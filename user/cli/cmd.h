/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Subcommands: each takes argc/argv after the subcommand name and returns an exit code. Each
 * exports its option table and synopsis for the registry in main.c (dispatch, --help, the man
 * page and the completion walk it).
 */
#ifndef TXPACE_CMD_H
#define TXPACE_CMD_H

#include "cli.h"

int cmd_send(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_pair(int argc, char **argv);

extern const struct cli_opt cmd_send_opts[], cmd_measure_opts[], cmd_demo_opts[],
	cmd_probe_opts[], cmd_cleanup_opts[], cmd_list_opts[], cmd_relay_opts[], cmd_pair_opts[];
extern const char cmd_send_synopsis[], cmd_measure_synopsis[], cmd_demo_synopsis[],
	cmd_probe_synopsis[], cmd_cleanup_synopsis[], cmd_list_synopsis[], cmd_relay_synopsis[],
	cmd_pair_synopsis[];

#endif
