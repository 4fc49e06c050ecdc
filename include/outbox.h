/* outbox.h — what the daemon's lifecycle needs from the outbox beyond govwatch.h's pass API:
 * pausing new sends (reload, stop), the shutdown mode, history pruning, the retry clock, and the
 * pure decision of what a sink's answer does to its row.
 *
 * (The pass API — outbox_new/free/deliver/in_flight/backoff — is declared in govwatch.h.)
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sink.h"

struct govwatch;
struct outbox;

typedef void (*outbox_done_fn)(struct govwatch *gw, void *userdata);
int outbox_new(struct govwatch *gw, struct outbox **ret);
struct outbox *outbox_free(struct outbox *o);
/* Sends every due row; done (may be NULL) runs when all sends of this pass completed. */
int outbox_deliver(struct govwatch *gw, outbox_done_fn done, void *userdata);
unsigned outbox_in_flight(const struct govwatch *gw);
/* Backoff for the n-th failed attempt: 30 s doubling up to 1 h, with ±20% jitter. */
uint64_t outbox_backoff_usec(unsigned attempts, uint64_t random);

enum outbox_action {
        OUTBOX_DELIVERED, /* done; kept as history */
        OUTBOX_DEFER,     /* due again at next_attempt, no attempt counted: a hold, a shutdown */
        OUTBOX_RETRY,     /* a failed attempt, counted; due again at next_attempt */
        OUTBOX_DEAD,      /* moved to the dead letters */
};

struct outbox_decision {
        enum outbox_action action;
        int64_t next_attempt; /* DEFER and RETRY: seconds since the epoch */
        bool alert; /* the answer counts for the sink's alert: a success when DELIVERED, else a
                     * failure; false: it says nothing about the sink's health */
};

/* The row's age and the outbox's clock when a sink answered. */
struct outbox_clock {
        int64_t now;          /* seconds since the epoch */
        uint64_t expire_usec; /* the config's `expire`; 0: never */
        double backoff_scale; /* outbox_backoff_scale() */
        uint64_t random;      /* the backoff's jitter */
        bool shutdown;        /* outbox_shutdown() was called */
};

/* What the answer result (with retry_after_usec) to a row tried attempts times before, its
 * notification created at created (seconds), does to the row. The sink's settings are no input
 * on purpose: only SINK_HELD is a hold; SINK_TRY_LATER is a failure whatever the sink's config
 * (a webhook's 429 with a Retry-After is not a digest), so it counts, alerts and expires. */
struct outbox_decision outbox_decide(enum sink_result result, uint64_t retry_after_usec,
                                     unsigned attempts, int64_t created,
                                     const struct outbox_clock *clock);

/* true: start no new sends (a reload or a stop waits for the ones in flight); the pass in progress
 * ends when they have come back. false: back to normal. */
void outbox_set_draining(struct govwatch *gw, bool draining);

/* The process is going away: a send answered "try later" from here on (a sink shut down under
 * it) is put back as due now, without counting an attempt or a sink failure. */
void outbox_shutdown(struct govwatch *gw);

/* Deletes delivered rows older than the config's `history` (dead letters stay until an admin
 * acts). Returns the number of rows deleted. */
int outbox_prune(struct govwatch *gw);

/* Microseconds until the earliest pending row is due (0: now), or -ENOENT when none is. */
int outbox_next_due_usec(struct govwatch *gw, uint64_t *ret);

/* Test-only: $GOVWATCH_TEST_BACKOFF_SCALE (a factor in (0, 1]) shortens every retry delay so
 * that the crash harness can retry within seconds. Not a config key on purpose; 1 when unset. */
double outbox_backoff_scale(void);
