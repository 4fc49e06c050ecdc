/* govwatch.h — the running daemon's parts, wired together: one of these per process.
 *
 * main.c builds it from a config snapshot; govwatch.c owns the watch list's targets and the
 * scheduler; sweep.c polls and queues, outbox.c delivers, daemon.c drives them on the event loop.
 */
#pragma once

#include <stdio.h>
#include <systemd/sd-event.h>

#include "classify.h"
#include "config.h"
#include "http.h"
#include "route.h"
#include "scheduler.h"
#include "sink.h"
#include "source.h"
#include "store.h"
#include "watchlist.h"

struct sweep;
struct outbox;
struct metrics;

struct govwatch {
        sd_event *event;
        struct config *conf;
        struct classifier *classifier;
        struct store *store; /* NULL only in tests of pure parts */
        struct http *http;
        struct source *source;
        struct sink **sinks; /* parallel to conf->sinks; NULL until created */
        struct sink_context sink_ctx;
        struct target *targets; /* the watch list's walls (govwatch_resolve); a sweep or a
                                 * reload never changes them while the other runs */
        size_t n_targets;
        bool targets_resolved;
        uint64_t resolve_attempted_usec; /* realtime; an incomplete resolution is retried after
                                          * poll_interval, not every sweep */
        struct resolver *resolver;       /* while the watch list is resolved */
        void (*resolve_done)(struct govwatch *gw, int result, void *userdata);
        void *resolve_userdata;
        unsigned resolve_errors;     /* names the last resolution found gone or unknown */
        struct scheduler *scheduler; /* which wall when, and the daily wall.get budget */
        bool scheduler_has_targets;  /* holds the watch list (else only the budget window) */
        bool dry_run;                /* once --dry-run: record nothing, print JSON */
        FILE *dry_run_out;
        bool preview_all;        /* once --dry-run --all: every current post as if new */
        bool ignore_quiet_hours; /* once: deliver now, whatever the hour */
        int fatal;               /* negative errno of an error that ends `once` */
        bool token_invalid;
        struct sweep *sweep; /* the sweep in progress, if any */
        struct outbox *outbox;
        struct metrics *metrics; /* counters for metrics_file (metrics.h); NULL: none kept */
        /* figures of the last sweep, for the log and STATUS= */
        int64_t last_sweep_end;
        unsigned last_sweep_polled;
        unsigned last_sweep_new;
        unsigned last_sweep_errors;
};

/* govwatch.c */

/* What a config file becomes before the daemon goes live with it. check-config, run, once and
 * reload all get there through govwatch_prepare(), so that they accept and refuse the same files
 * with the same messages: by construction, not by keeping two validators in step. */
struct govwatch_prepared {
        struct config *conf;
        struct classifier *classifier; /* rules file, the config's categories, the model */
        struct scheduler *scheduler;   /* conf's budget and intervals, watching nothing yet */
};

enum {
        /* check-config: build everything, but leave no trace (no model cached in state_dir) */
        GOVWATCH_PREPARE_CHECK = 1 << 0,
};

/* Loads path and builds from it every part run and reload build before they swap anything in.
 * On failure returns a negative errno and every problem is in *errors, as config_errors_print()
 * prints them (which the caller must config_errors_done() either way). */
int govwatch_prepare(const char *path, unsigned flags, struct govwatch_prepared *ret,
                     struct config_errors *errors);
/* The same, on a config already loaded (the fuzzer's, from memory): takes conf over. */
int govwatch_prepare_config(struct config *conf, unsigned flags, struct govwatch_prepared *ret,
                            struct config_errors *errors);
void govwatch_prepared_done(struct govwatch_prepared *p);
/* Reads conf's VK token, saying what is wrong in the same words for every verb. Without one
 * (-ENOKEY) it logs an error when required, a note otherwise (check-config cannot see the
 * service's credential). */
int govwatch_read_token(const struct config *conf, bool required, char **ret);

/* Takes over p's parts (all of them, also on failure) and adds the store, HTTP and the outbox. */
int govwatch_new(sd_event *event, struct govwatch_prepared *p, bool dry_run, struct govwatch **ret);
struct govwatch *govwatch_free(struct govwatch *gw);

/* The parts that talk to the world, for one config: the VK source (when there is a token; it
 * takes up the request window the store kept) and the sinks (when sinks is true). Start, `once`,
 * the verbs and a reload all build them here; a reload builds them whole before it swaps. */
struct govwatch_parts {
        struct source *source;
        struct sink **sinks; /* parallel to conf->sinks; NULL where the type cannot send yet */
        size_t n_sinks;
};
int govwatch_parts_new(struct govwatch *gw, const struct config *conf, const char *token,
                       bool sinks, struct govwatch_parts *ret);
void govwatch_parts_done(struct govwatch_parts *p);
/* Puts p's parts in place of gw's, and frees the old ones (gw->conf must still be the config the
 * old sinks were built for). */
void govwatch_parts_install(struct govwatch *gw, struct govwatch_parts *p);
/* A scheduler with conf's budget, intervals and time zone, watching nothing yet. */
int govwatch_scheduler_new(const struct config *conf, struct scheduler **ret);
/* Restores what the store kept into s (which should hold the watch list already): 0 also when
 * nothing was saved; a malformed row is warned about and ignored. */
int govwatch_scheduler_load(struct scheduler *s, struct store *store);
/* Resolves the watch list (watchlist.c) into gw->targets, and rebuilds the scheduler for them,
 * keeping what the previous one and the store learned (it warns when the budget cannot cover
 * them). done runs when it is over, with a negative errno when it failed; returns 1 when it was
 * over at once (done is then not called), 0 when done will be, or a negative errno. */
typedef void (*govwatch_done_fn)(struct govwatch *gw, int result, void *userdata);
int govwatch_resolve(struct govwatch *gw, govwatch_done_fn done, void *userdata);
/* A resolution is due: the watch list was never resolved, or a transient error left it
 * incomplete poll_interval ago. */
bool govwatch_resolve_due(const struct govwatch *gw, uint64_t now);
bool govwatch_resolving(const struct govwatch *gw);
/* Drops a resolution in progress without calling done: for shutdown, after source_free(). */
void govwatch_resolve_abort(struct govwatch *gw);
/* VK refused the token (error code, msg): said once, and polling stops until a reload or the
 * hourly retry (daemon.c). */
void govwatch_token_refused(struct govwatch *gw, int code, const char *msg);
/* Forgets the targets: the next sweep resolves the (new) watch list first. */
void govwatch_targets_free(struct govwatch *gw);
/* Keeps the scheduler and the VK request window in the store: after a sweep, at reload and exit.
 * Nothing in a dry run. */
void govwatch_save_state(struct govwatch *gw);
