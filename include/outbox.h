/* outbox.h — what the daemon's lifecycle needs from the outbox beyond govwatch.h's pass API:
 * pausing new sends (reload, stop), the shutdown mode, history pruning, and the retry clock.
 *
 * (The pass API — outbox_new/free/deliver/in_flight/backoff — is declared in govwatch.h.)
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct govwatch;

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
