/* SPDX-License-Identifier: GPL-2.0-only */
/* Subcommands: each takes argc/argv after the subcommand name and returns an exit code. */
#ifndef TXPACE_CMD_H
#define TXPACE_CMD_H

int cmd_send(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_relay(int argc, char **argv);

#endif
