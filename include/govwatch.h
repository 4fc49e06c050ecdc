/* govwatch.h — the running daemon's parts, wired together: one of these per process.
 *
 * main.c builds it from a config snapshot; sweep.c polls and queues, outbox.c delivers,
 * daemon.c drives them on the event loop.
 */
#pragma once

#include <stdio.h>
#include <systemd/sd-event.h>

#include "classify.h"
#include "config.h"
#include "http.h"
#include "route.h"
#include "sink.h"
#include "source.h"
#include "store.h"

/* A watched wall after resolution, with the watch entries that name it. */
struct target {
        struct route_target route;
        char *name; /* community title or screen name, for humans */
        char *screen_name;
        unsigned backfill; /* max over its watch entries */
        /* per sweep */
        struct post **collected; /* posts gathered over the pages of this sweep */
        size_t n_collected;
        size_t allocated;
        unsigned pages;
        bool done;
};

struct sweep;
struct outbox;

struct govwatch {
        sd_event *event;
        struct config *conf;
        struct classifier *classifier;
        struct store *store; /* NULL only in tests of pure parts */
        struct http *http;
        struct source *source;
        struct sink **sinks; /* parallel to conf->sinks; NULL until created */
        struct sink_context sink_ctx;
        struct target *targets;
        size_t n_targets;
        bool targets_resolved;
        bool dry_run; /* once --dry-run: record nothing, print JSON */
        FILE *dry_run_out;
        bool ignore_quiet_hours; /* once: deliver now, whatever the hour */
        int fatal;               /* negative errno of an error that ends `once` */
        bool token_invalid;
        struct sweep *sweep; /* the sweep in progress, if any */
        struct outbox *outbox;
        /* figures of the last sweep, for the log and STATUS= */
        int64_t last_sweep_end;
        unsigned last_sweep_new;
        unsigned last_sweep_errors;
};

/* sweep.c */
typedef void (*sweep_done_fn)(struct govwatch *gw, int result, void *userdata);
int sweep_start(struct govwatch *gw, sweep_done_fn done, void *userdata);
bool sweep_running(const struct govwatch *gw);
void sweep_abort(struct govwatch *gw);
void targets_free(struct govwatch *gw);

/* Decides which posts of a wall page are new. Pure; exposed for tests.
 * last_post_id: highest id seen before (0 on first sight). Returns a mask per post in ret_new
 * (true: new). Pinned posts are new only if their id is above last_post_id. */
void sweep_mark_new(struct post *const *posts, size_t n, int64_t last_post_id, bool *ret_new);

/* outbox.c */
typedef void (*outbox_done_fn)(struct govwatch *gw, void *userdata);
int outbox_new(struct govwatch *gw, struct outbox **ret);
struct outbox *outbox_free(struct outbox *o);
/* Sends every due row; done (may be NULL) runs when all sends of this pass completed. */
int outbox_deliver(struct govwatch *gw, outbox_done_fn done, void *userdata);
unsigned outbox_in_flight(const struct govwatch *gw);
/* Backoff for the n-th failed attempt: 30 s doubling up to 1 h, with ±20% jitter. */
uint64_t outbox_backoff_usec(unsigned attempts, uint64_t random);

/* govwatch.c */
int govwatch_new(sd_event *event, struct config *conf, bool dry_run, struct govwatch **ret);
struct govwatch *govwatch_free(struct govwatch *gw);
int govwatch_create_sinks(struct govwatch *gw);
