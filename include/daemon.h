/* daemon.h — the two ways to drive the pipeline: `run` (forever) and `once` (one sweep). */
#pragma once

#include "govwatch.h"

/* One sweep now, deliver, return: 0, or negative for an invalid token or a store failure. */
int daemon_once(struct govwatch *gw);

/* The long-running daemon: sweeps on a timer, delivers, reloads on SIGHUP, stops on
 * SIGTERM/SIGINT; speaks the sd_notify protocol. config_path is re-read on reload. */
int daemon_run(struct govwatch *gw, const char *config_path);
