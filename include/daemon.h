/* daemon.h — the two ways to drive the pipeline: `run` (forever) and `once` (one sweep). */
#pragma once

#include "govwatch.h"

/* One sweep now, deliver, return: 0, or negative for an invalid token or a store failure. */
int daemon_once(struct govwatch *gw);

/* Blocks SIGTERM, SIGINT and SIGHUP, which daemon_run handles through the event loop. Call it
 * before any setup: a signal that comes while the config is loaded and the store opened then waits
 * for the loop instead of killing the daemon by its default action. */
void daemon_block_signals(void);

/* The long-running daemon: sweeps on a timer, delivers, reloads on SIGHUP, stops on
 * SIGTERM/SIGINT; speaks the sd_notify protocol. config_path is re-read on reload. */
int daemon_run(struct govwatch *gw, const char *config_path);
