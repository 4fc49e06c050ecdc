/* budget.h — the two VK limits as arithmetic: a token bucket for requests a second and a rolling
 * 24-hour budget of wall.get calls. Pure: every function takes the clock as an argument, nothing
 * here sleeps, logs or reads a clock.
 *
 * Why a rolling 24 h window and not "VK's day": VK does not document when its daily counter resets
 * (midnight Moscow, midnight UTC, or a sliding window all appear in the wild). Never spending more
 * than the limit in ANY 24 h interval is the one rule that keeps us under the limit whichever of
 * them VK uses: every calendar day is such an interval. It costs nothing in steady state, because a
 * scheduler that repeats a daily pattern frees each call exactly when it wants to spend it again.
 *
 * Times are CLOCK_REALTIME microseconds so the state survives a restart (the store keeps it).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* ---- requests a second -------------------------------------------------------------------- */

/* N tokens, refilled continuously at N a second (config vk.requests_per_second). */
struct token_bucket {
        double capacity;
        double per_usec; /* refill rate */
        double tokens;   /* available now (at last_usec) */
        uint64_t last_usec;
};

/* per_second > 0; the bucket starts full. -EINVAL otherwise. */
int token_bucket_init(struct token_bucket *b, double per_second, uint64_t now_usec);
/* Takes one token: 0, or -EAGAIN and *ret_wait_usec = how long until one is there (may be NULL). */
int token_bucket_take(struct token_bucket *b, uint64_t now_usec, uint64_t *ret_wait_usec);
/* How long until a token is available; 0 when one is now. */
uint64_t token_bucket_wait_usec(const struct token_bucket *b, uint64_t now_usec);
/* VK said error 6 or 9 anyway: empty the bucket so the next request waits a full token. */
void token_bucket_drain(struct token_bucket *b, uint64_t now_usec);

/* ---- wall.get calls a day ------------------------------------------------------------------ */

#define DAILY_BUDGET_SLOT_USEC USEC_PER_MINUTE
/* One-minute slots. A call is counted in its slot until the whole slot is more than 24 h old, so
 * the count is never below the true count of any 24 h window (conservative by at most a minute). */
#define DAILY_BUDGET_SLOTS (1440 + 1)

struct daily_budget {
        unsigned limit; /* wall.get calls in any 24 h (config vk.daily_wall_get) */
        unsigned
                reserve; /* of those, kept for paging bursts: planned polls stop at limit-reserve */
        uint64_t head;   /* absolute slot index (realtime / slot) of the newest slot; 0: empty */
        unsigned used;   /* sum of count[] */
        uint32_t count[DAILY_BUDGET_SLOTS]; /* ring indexed by absolute slot % DAILY_BUDGET_SLOTS */
};

/* limit ≥ 1, reserve < limit; -EINVAL otherwise. */
int daily_budget_init(struct daily_budget *b, unsigned limit, unsigned reserve);
/* Calls counted in the last 24 h as of now. */
unsigned daily_budget_used(struct daily_budget *b, uint64_t now_usec);
/* Calls that may still be made now: of the planned share (limit - reserve), or of the whole limit
 * when use_reserve (paging back through a burst). */
unsigned daily_budget_available(struct daily_budget *b, uint64_t now_usec, bool use_reserve);
/* Counts n calls if they fit: 0, or -EDQUOT and nothing counted. */
int daily_budget_spend(struct daily_budget *b, uint64_t now_usec, unsigned n, bool use_reserve);
/* Counts n calls that were made whatever the budget said (a `once` sweep, a retried batch). */
void daily_budget_force(struct daily_budget *b, uint64_t now_usec, unsigned n);
/* VK answered error 29: it counts more than we do (another client on the token, a lost state).
 * Fills the window so nothing is spent until calls age out. */
void daily_budget_exhausted(struct daily_budget *b, uint64_t now_usec);
/* The earliest time ≥ now at which n calls are available (UINT64_MAX when n can never fit). */
uint64_t daily_budget_next_free(struct daily_budget *b, uint64_t now_usec, unsigned n,
                                bool use_reserve);

/* Calls counted now that will have left the window by until_usec (all of them 24 h from now). */
unsigned daily_budget_freed_by(struct daily_budget *b, uint64_t now_usec, uint64_t until_usec);

/* One line of text ("budget 1 LIMIT RESERVE SLOT:COUNT ..."), locale-independent, for the store.
 * Caller frees *ret. */
int daily_budget_save(const struct daily_budget *b, char **ret);
/* Restores what _save wrote (limit and reserve stay as configured now: the config may have changed
 * since). -EBADMSG on malformed text, and then *b is unchanged. */
int daily_budget_load(struct daily_budget *b, const char *text);
