/* budget.h — the two VK limits as arithmetic: a sliding window of requests a second and a rolling
 * 24-hour budget of wall.get calls. Pure: every function takes the clock as an argument, nothing
 * here sleeps, logs or reads a clock.
 *
 * Why a rolling 24 h window and not "VK's day": VK does not document when its daily counter resets
 * (midnight Moscow, midnight UTC, or a sliding window all appear in the wild). Never spending more
 * than the limit in ANY 24 h interval is the one rule that keeps us under the limit whichever of
 * them VK uses: every calendar day is such an interval. It costs nothing in steady state, because a
 * scheduler that repeats a daily pattern frees each call exactly when it wants to spend it again.
 *
 * The daily budget's times are CLOCK_REALTIME microseconds so that it survives a restart (the store
 * keeps it); the rate window's are the caller's clock, converted when saved and loaded.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* ---- requests a second ------------------------------------------------------------------- */

/* A sliding window log: the times of the last N departures. One more request may leave when, with
 * it, no window of window_usec holds more than N: at the N-th newest departure + window_usec +
 * margin_usec. A token bucket cannot promise that: full at N and refilled at N a second, it lets
 * 2N requests start within one second, and VK's "3 requests a second" is only safe read as "in
 * any second".
 *
 * Rates that are not whole (config vk.requests_per_second):
 *   rate ≥ 1: N = floor(rate) in any 1 s. 2.5 acts as 2: VK counts whole requests, and three in
 *             one second would be more than 2.5.
 *   rate < 1: one request in any 1/rate seconds. 0.5 is one every 2 s; below one a day acts as
 *             one a day.
 * Rates above RATE_WINDOW_MAX act as RATE_WINDOW_MAX (no VK token is allowed that many).
 *
 * The margin (RATE_WINDOW_MARGIN_USEC): the caller stamps a departure when the request is written
 * to an established connection, but VK counts arrivals. Two requests N apart may cross the network
 * with different delays (other connections, queues on the way): a few ms on a quiet line, tens on
 * a busy one. 50 ms absorbs that for 5 % of the throughput at 3 a second (3 every 1.05 s).
 *
 * A request the caller has handed over but not yet seen leave (connecting, TLS handshake) is
 * "unsent": it counts as leaving now or later, so while unsent requests alone fill the window the
 * next one waits for one of them to leave (rate_window_next says UINT64_MAX).
 *
 * Times are any one clock's microseconds (the source uses CLOCK_MONOTONIC); only save and load
 * convert to CLOCK_REALTIME, so that the store carries the window to the next process. A clock
 * that went back never shortens a wait: departures "in the future" count as just now.
 */
#define RATE_WINDOW_MAX         100
#define RATE_WINDOW_MARGIN_USEC (50 * USEC_PER_MSEC)

struct rate_window {
        unsigned limit;       /* N: departures allowed in any window */
        uint64_t window_usec; /* 1 s, longer for rates below one a second */
        uint64_t margin_usec;
        unsigned unsent;               /* taken, departure not yet seen */
        unsigned n;                    /* departures in log[], at most limit */
        uint64_t log[RATE_WINDOW_MAX]; /* the newest n departures, oldest first */
};

/* per_second > 0 and finite; -EINVAL otherwise. The window starts empty. */
int rate_window_init(struct rate_window *w, double per_second);
/* The earliest time ≥ now at which one more request may leave; UINT64_MAX while unsent requests
 * fill the window. */
uint64_t rate_window_next(const struct rate_window *w, uint64_t now_usec);
/* Takes a departure now, as unsent: 0, or -EAGAIN and *ret_at = rate_window_next() (may be NULL).
 */
int rate_window_take(struct rate_window *w, uint64_t now_usec, uint64_t *ret_at);
/* A request taken before left at at_usec: it is no longer unsent. */
void rate_window_sent(struct rate_window *w, uint64_t at_usec);
/* A request left at at_usec that was not taken (the HTTP library sent one again). */
void rate_window_record(struct rate_window *w, uint64_t at_usec);
/* VK said error 6 or 9 anyway: as if N requests had just left, so the next waits a whole window. */
void rate_window_slow_down(struct rate_window *w, uint64_t now_usec);

/* One line of text ("window 1 REALTIME_USEC ..."), the departures still inside the window as of
 * now (unsent ones as now), in CLOCK_REALTIME. Caller frees *ret. */
int rate_window_save(const struct rate_window *w, uint64_t now_usec, uint64_t now_realtime_usec,
                     char **ret);
/* Adds what _save wrote (in another process, maybe with another rate) to the window, in this
 * clock; a time after now_realtime (the clock went back since) counts as now. -EBADMSG on
 * malformed text, and then *w is unchanged. */
int rate_window_load(struct rate_window *w, const char *text, uint64_t now_usec,
                     uint64_t now_realtime_usec);

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
