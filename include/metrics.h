/* metrics.h — what the daemon tells a monitoring system: a node_exporter textfile of counters and
 * gauges (`metrics_file:`), and `govwatchd healthcheck`, which judges the state the daemon keeps.
 *
 * Counters count since the process started (Prometheus' rate() handles the reset of a restart);
 * gauges of state (outbox, alerts, the last successful sweep, the token) are read from the store,
 * so that they say the same as `status` and survive a restart. Nothing here may fail or stall the
 * daemon: every hook is a no-op without a struct metrics, and a file that cannot be written is
 * warned about once.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sink.h"

struct govwatch;
struct config;
struct detect_result;
struct notification;
struct strbuf;
struct sweep_outcome;

/* The store's kv key of the last successful sweep (unix time): one in which VK answered for at
 * least one wall. The daemon and `once` write it; healthcheck and the metrics read it. */
#define METRICS_LAST_SWEEP_KEY "last_sweep_success"
/* In state_dir: the daemon holds an open file description lock on it while it runs, and writes
 * "PID START\n" into it, START its start in unix time. */
#define METRICS_LOCK_FILENAME "govwatchd.lock"

struct metrics;

int metrics_new(struct metrics **ret);
struct metrics *metrics_free(struct metrics *m);

/* ---- hooks: each is cheap, never fails and does nothing when gw->metrics is NULL ---------- */

/* A sweep is over: counts its polls and, outside a dry run, records a successful one in the
 * store (METRICS_LAST_SWEEP_KEY). */
void metrics_sweep_done(struct govwatch *gw, const struct sweep_outcome *o);
/* A VK error code in an answer (top level or one call of an execute). */
void metrics_vk_error(struct govwatch *gw, int code);
/* A wall's posts were committed: the ones recorded as seen for the first time count. */
void metrics_posts_recorded(struct govwatch *gw, const struct detect_result *d);
/* A sink answered for one notification. */
void metrics_notification(struct govwatch *gw, const char *sink, const struct notification *n,
                          enum sink_result result);
/* Writes the config's metrics_file now (nothing when it has none or in a dry run): after each
 * sweep and each delivery round. */
void metrics_write(struct govwatch *gw);

/* `run` is starting: takes the daemon's lock in state_dir (METRICS_LOCK_FILENAME), which
 * healthcheck looks for, and notes the start time. Failing is a warning, never an error. */
void metrics_daemon_started(struct govwatch *gw);

/* ---- pure parts, for the tests ---------------------------------------------------------------
 */

/* Appends s as a label value of the text exposition format: backslash, double quote and line
 * feed escaped. */
int metrics_append_label_value(struct strbuf *sb, const char *s);
/* --max-age's default: twice max_interval (every community is polled at least that often), at
 * least an hour. */
uint64_t healthcheck_default_max_age_usec(const struct config *conf);

/* ---- healthcheck ------------------------------------------------------------------------- */

/* Judges the daemon of conf from its state directory, read-only: running (its lock is held), a
 * successful sweep within max_age_usec (0: the default), the token not refused, no sink failing
 * past alert_after.sink. Returns 0 when healthy (a line on out says so), else 1 with one line per
 * problem logged as an error. */
int healthcheck(const struct config *conf, uint64_t max_age_usec, FILE *out);
