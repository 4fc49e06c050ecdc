/* scheduler.h — which community to poll when, inside the daily wall.get budget.
 *
 * A pure module: the caller passes the clock (CLOCK_REALTIME µs) to every call, nothing sleeps,
 * logs above debug, or does I/O. The daemon's loop is
 *
 *     t = scheduler_next_wakeup(s, now)             -> arm an sd-event timer for t
 *     scheduler_due(s, now, ids, 25, &n)            -> one execute batch of n wall.get
 *     scheduler_record_poll(s, id, now)             -> for each, when the batch is sent
 *     scheduler_observe(s, id, poll_time, dates, k) -> for each answer, the new posts' dates
 *     scheduler_record_extra(s, now, pages)         -> paging calls (may use the reserve)
 *     scheduler_quota_exhausted(s, now)             -> VK said error 29
 *
 * and scheduler_save() / scheduler_load() keep what it learned in the store across restarts.
 *
 * How it decides: it learns each community's posting rate by hour of day (local time, utc_offset)
 * from the dates of the posts it sees, shrunk towards a pooled mean rate and a mixture of daily
 * rhythms walls share, so that it works from an empty store, and lifts it for a while when a wall
 * bursts (more posts in the last hours than its rates expected). It polls a community when the
 * expected total latency of its not yet seen posts, ∫ λ(u)·(t-u) du since the last poll, reaches
 * θ/priority; for a constant rate this is the square-root allocation (polls ∝ √(rate·priority)),
 * and it follows the day: often at noon, rarely at 4 am. Waiting past a soft deadline (a fraction
 * of round robin's interval) costs more, so that the quieter walls do not make a long tail. θ is
 * solved so the expected polls fill the budget (less the reserve) hour by hour, within
 * [min_interval, floor] per community, with ± jitter on every interval. A community's floor is
 * the bound on its wait: its watch's own max_interval (scheduler_set_max_interval()), else 1.75 ×
 * round robin's interval at this budget / √priority, never beyond max_interval (stretched alike
 * when they would cost more than 60 % of the budget). A wall that posts from VK's postponed
 * queue, seconds after a quarter of the hour, is polled just after its quarters. The budget is a
 * hard limit on top: due() never hands out more polls than the rolling 24 h window has left, and
 * hands a community at its floor out first, from the reserve when the rest is spent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"

#define SCHEDULER_HOURS        24
#define SCHEDULER_PRIORITY_MAX 10

struct scheduler_params {
        unsigned daily_budget;      /* wall.get calls in any 24 h (vk.daily_wall_get), ≥ 1 */
        unsigned reserve;           /* of those, for paging bursts and walls at their floor */
        uint64_t min_interval_usec; /* one community at most this often (> 0) */
        uint64_t max_interval_usec; /* and at least this often (≥ min) */
        double jitter;              /* each interval × (1 ± jitter), 0 ≤ jitter ≤ 0.5 */
        int32_t utc_offset_sec;     /* local hour of day for the diurnal model: +3 h is Moscow */
        double half_life_days;      /* old observations count half after this long (> 0) */
        uint64_t seed;              /* jitter's random sequence */
};

/* daily_budget 5000, reserve 2 %, 2 min .. 6 h, jitter 0.1, Moscow, half-life 14 days, seed 0. */
void scheduler_params_default(struct scheduler_params *ret);

struct scheduler;

/* -EINVAL for parameters outside the ranges above. */
int scheduler_new(const struct scheduler_params *p, struct scheduler **ret);
struct scheduler *scheduler_free(struct scheduler *s);
static inline void scheduler_freep(struct scheduler **s)
{
        scheduler_free(*s);
}
#define _cleanup_scheduler_ _cleanup_(scheduler_freep)

/* Watches a community (priority 1..10, a watch entry's `priority`). Adding one already watched
 * changes its priority and keeps what was learned (config reload). A new community is due at once:
 * first sight. -EINVAL for owner_id 0 or a priority outside 1..10. */
int scheduler_add(struct scheduler *s, int64_t owner_id, unsigned priority);
/* A watch entry's own max_interval for owner_id (0: none, the bound below applies): it is polled
 * at least this often, as long as the budget allows all such promises. -ENOENT, -EINVAL when
 * shorter than min_interval. */
int scheduler_set_max_interval(struct scheduler *s, int64_t owner_id, uint64_t max_interval_usec);
/* -ENOENT when not watched. */
int scheduler_remove(struct scheduler *s, int64_t owner_id);
size_t scheduler_size(const struct scheduler *s);

/* Up to max communities to poll now, most urgent first (never-polled ones first, then those at
 * their floor), no more than the planned budget has left (those at their floor: with the reserve).
 * Sets *ret_n (0 is fine). A community stays due until record_poll. */
int scheduler_due(struct scheduler *s, uint64_t now_usec, int64_t *ret_ids, size_t max,
                  size_t *ret_n);
/* When the next community falls due, or when the budget next frees a call for it if it is spent
 * (≥ now; now when something can be polled already; UINT64_MAX when nothing is watched). */
uint64_t scheduler_next_wakeup(struct scheduler *s, uint64_t now_usec);

/* One wall.get was sent for owner_id (count it when the request leaves, whatever the answer): it
 * is counted in the budget even when it did not fit (a `once` sweep), and the community's next
 * poll is planned from now. -ENOENT for an unwatched id (the call is still counted). */
int scheduler_record_poll(struct scheduler *s, int64_t owner_id, uint64_t now_usec);
/* n extra wall.get calls (paging back through a burst): 0, or -EDQUOT when even the reserve has
 * no room, and then nothing is counted and the caller should not make them. */
int scheduler_record_extra(struct scheduler *s, uint64_t now_usec, unsigned n);
/* VK answered error 29: spend nothing until calls age out of the window. */
void scheduler_quota_exhausted(struct scheduler *s, uint64_t now_usec);

/* What a poll of owner_id sent at poll_usec found: the dates (unix seconds) of the posts it saw for
 * the first time, any order; pinned posts that are not new must be left out. The rate is learned
 * from posts over the time since the previous observed poll.
 *
 * history_since: 0 normally. On first sight a community has history: pass the dates of every post
 * on the first page (not an old pinned one) and history_since = the oldest of those dates; the
 * scheduler then learns from day one. Ignored for a community already observed. -ENOENT for an
 * unwatched id, -EINVAL for a history_since after poll_usec. */
int scheduler_observe(struct scheduler *s, int64_t owner_id, uint64_t poll_usec,
                      const int64_t *post_dates, size_t n_dates, int64_t history_since);

/* Whether the budget (less the reserve) can poll every community at least every max_interval, and
 * how many calls a day that needs. When it cannot, communities are still polled, most overdue
 * first, but less often than max_interval: the daemon says so at start-up and in `status`. */
void scheduler_coverage(const struct scheduler *s, bool *ret_ok, unsigned *ret_needed_per_day);

struct scheduler_status {
        unsigned limit;            /* daily budget */
        unsigned used;             /* calls in the last 24 h */
        unsigned available;        /* for planned polls now (reserve excluded) */
        uint64_t budget_next_free; /* when a planned poll fits again (now when it fits now) */
        size_t n_communities;
        size_t n_never_polled;
        double posts_per_day; /* estimated over all watched communities */
};
void scheduler_status(struct scheduler *s, uint64_t now_usec, struct scheduler_status *ret);

/* The daily budget itself, e.g. to show or to check before an unscheduled sweep. */
struct daily_budget *scheduler_budget(struct scheduler *s);

/* Expected posts not yet seen in owner_id at now (to choose wall.get's count); -ENOENT. */
int scheduler_expected_unseen(struct scheduler *s, int64_t owner_id, uint64_t now_usec,
                              double *ret);
/* Current planned interval for owner_id if polled now (jitter excluded), for `status`; -ENOENT. */
int scheduler_interval(struct scheduler *s, int64_t owner_id, uint64_t now_usec, uint64_t *ret);

/* Fixes owner_id's rate by local hour of day (posts an hour) and stops learning it: for benchmarks
 * (an oracle that knows the true rates) and tests. -ENOENT, -EINVAL for negative rates. */
int scheduler_set_rates(struct scheduler *s, int64_t owner_id,
                        const double rates_per_hour[SCHEDULER_HOURS]);
/* The current estimate (posts an hour by local hour of day) for owner_id; -ENOENT. */
int scheduler_get_rates(struct scheduler *s, int64_t owner_id, uint64_t now_usec,
                        double ret_rates_per_hour[SCHEDULER_HOURS]);

/* Everything learned (per community: decayed post counts and exposure by hour, last poll; the
 * pooled model; the budget window) as locale-independent text, for one store row. Caller frees. */
int scheduler_save(struct scheduler *s, char **ret);
/* Restores what _save wrote into a scheduler already holding the watch list: communities no longer
 * watched are skipped, new ones stay never-polled. -EBADMSG on malformed text, then nothing is
 * changed. */
int scheduler_load(struct scheduler *s, const char *text);
