/* budget.c — the sliding window of requests a second and the rolling daily budget (budget.h says
 * why windows and not buckets).
 *
 * Owns only arithmetic on the structs it is given. Never reads a clock, never logs, never sleeps:
 * the caller passes the time, and the tests drive it with a fake one.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"

/* ---- requests a second ---------------------------------------------------------------------- */

int rate_window_init(struct rate_window *w, double per_second)
{
        if (!w || !(per_second > 0) || !isfinite(per_second))
                return -EINVAL;
        /* the epsilon keeps a rate written as 3 from becoming 2.999… and then 2 */
        double whole = floor(per_second + 1e-9);
        *w = (struct rate_window){.margin_usec = RATE_WINDOW_MARGIN_USEC};
        if (whole >= 1) {
                w->limit = whole > RATE_WINDOW_MAX ? RATE_WINDOW_MAX : (unsigned)whole;
                w->window_usec = USEC_PER_SEC;
        } else {
                double usec = ceil((double)USEC_PER_SEC / per_second);
                w->limit = 1;
                w->window_usec = usec > (double)USEC_PER_DAY ? USEC_PER_DAY : (uint64_t)usec;
        }
        return 0;
}

/* A departure recorded "after" now means the clock went back: it counts as now, so that it holds
 * the window for one window from here rather than for as long as the clock was set back. The log
 * stays sorted: only its newest entries can be after now. */
static void settle(struct rate_window *w, uint64_t now_usec)
{
        for (unsigned i = w->n; i > 0 && w->log[i - 1] > now_usec; i--)
                w->log[i - 1] = now_usec;
}

uint64_t rate_window_next(const struct rate_window *w, uint64_t now_usec)
{
        if (w->unsent >= w->limit)
                return UINT64_MAX;
        /* With the new one, no more than limit may be inside the window: the unsent, and the
         * newest log entries; so the k-th newest must have left it. */
        unsigned k = w->limit - w->unsent;
        if (w->n < k)
                return now_usec;
        uint64_t oldest = w->log[w->n - k];
        if (oldest > now_usec)
                oldest = now_usec;
        uint64_t at = oldest + w->window_usec + w->margin_usec;
        return at > now_usec ? at : now_usec;
}

int rate_window_take(struct rate_window *w, uint64_t now_usec, uint64_t *ret_at)
{
        settle(w, now_usec);
        uint64_t at = rate_window_next(w, now_usec);
        if (at > now_usec) {
                if (ret_at)
                        *ret_at = at;
                return -EAGAIN;
        }
        w->unsent++;
        if (ret_at)
                *ret_at = now_usec;
        return 0;
}

/* Appends a departure, as the newest: one stamped before the newest (a clock that went back)
 * counts as that, later being the safe side. Only the newest limit are kept: older ones can no
 * longer hold back anything. */
static void record(struct rate_window *w, uint64_t at_usec)
{
        if (w->n > 0 && at_usec < w->log[w->n - 1])
                at_usec = w->log[w->n - 1];
        if (w->n == w->limit) {
                memmove(w->log, w->log + 1, (w->n - 1) * sizeof(w->log[0]));
                w->n--;
        }
        w->log[w->n++] = at_usec;
}

void rate_window_sent(struct rate_window *w, uint64_t at_usec)
{
        if (w->unsent > 0)
                w->unsent--;
        record(w, at_usec);
}

void rate_window_record(struct rate_window *w, uint64_t at_usec)
{
        record(w, at_usec);
}

void rate_window_slow_down(struct rate_window *w, uint64_t now_usec)
{
        settle(w, now_usec);
        for (unsigned i = 0; i < w->limit; i++)
                record(w, now_usec);
}

int rate_window_save(const struct rate_window *w, uint64_t now_usec, uint64_t now_realtime_usec,
                     char **ret)
{
        struct strbuf sb = {};
        int r = strbuf_appendf(&sb, "window 1");

        for (unsigned i = 0; r >= 0 && i < w->n; i++) {
                uint64_t t = w->log[i] < now_usec ? w->log[i] : now_usec;
                uint64_t age = now_usec - t;
                if (t + w->window_usec + w->margin_usec <= now_usec)
                        continue; /* out of the window: holds nothing back any more */
                r = strbuf_appendf(&sb, " %" PRIu64,
                                   age < now_realtime_usec ? now_realtime_usec - age : 0);
        }
        /* requests on their way: they may leave any moment now */
        for (unsigned i = 0; r >= 0 && i < w->unsent; i++)
                r = strbuf_appendf(&sb, " %" PRIu64, now_realtime_usec);
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

int rate_window_load(struct rate_window *w, const char *text, uint64_t now_usec,
                     uint64_t now_realtime_usec)
{
        /* what a window of RATE_WINDOW_MAX plus as many unsent can have written, then our own */
        uint64_t times[3 * RATE_WINDOW_MAX];
        unsigned version, n = 0;
        int consumed = 0;

        if (!text || sscanf(text, "window %u%n", &version, &consumed) != 1 || version != 1)
                return -EBADMSG;
        for (const char *p = text + consumed; *p;) {
                uint64_t t;
                int used = 0;
                if (*p != ' ')
                        return -EBADMSG;
                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                if (*p < '0' || *p > '9' || sscanf(p, "%" SCNu64 "%n", &t, &used) != 1 ||
                    used <= 0 || n == 2 * RATE_WINDOW_MAX)
                        return -EBADMSG;
                times[n++] = t;
                p += used;
        }

        struct rate_window merged = *w;
        for (unsigned i = 0; i < n; i++) {
                /* into this clock; later than now only if the clock went back since: now */
                uint64_t age = times[i] < now_realtime_usec ? now_realtime_usec - times[i] : 0;
                times[i] = age < now_usec ? now_usec - age : 0;
        }
        for (unsigned i = 0; i < w->n; i++)
                times[n++] = w->log[i];
        qsort(times, n, sizeof(times[0]), cmp_u64);
        merged.n = 0;
        for (unsigned i = n > w->limit ? n - w->limit : 0; i < n; i++)
                merged.log[merged.n++] = times[i];
        *w = merged;
        return 0;
}

/* ---- daily budget --------------------------------------------------------------------------- */

int daily_budget_init(struct daily_budget *b, unsigned limit, unsigned reserve)
{
        if (!b || limit == 0 || reserve >= limit)
                return -EINVAL;
        *b = (struct daily_budget){.limit = limit, .reserve = reserve};
        return 0;
}

static uint64_t slot_of(uint64_t usec)
{
        return usec / DAILY_BUDGET_SLOT_USEC;
}

/* Moves the window so that its newest slot is now's; slots more than 24 h old are dropped. A clock
 * that went back keeps counting into the newest slot: forgetting calls would be the unsafe way. */
static void advance(struct daily_budget *b, uint64_t now_usec)
{
        uint64_t c = slot_of(now_usec);
        if (c <= b->head)
                return;
        if (b->head == 0 || c - b->head >= DAILY_BUDGET_SLOTS) {
                memset(b->count, 0, sizeof(b->count));
                b->used = 0;
        } else
                for (uint64_t k = b->head + 1; k <= c; k++) {
                        uint32_t *slot = &b->count[k % DAILY_BUDGET_SLOTS];
                        b->used -= *slot;
                        *slot = 0;
                }
        b->head = c;
}

static uint64_t oldest_slot(const struct daily_budget *b)
{
        return b->head + 1 >= DAILY_BUDGET_SLOTS ? b->head + 1 - DAILY_BUDGET_SLOTS : 0;
}

static unsigned cap_of(const struct daily_budget *b, bool use_reserve)
{
        return use_reserve ? b->limit : b->limit - b->reserve;
}

unsigned daily_budget_used(struct daily_budget *b, uint64_t now_usec)
{
        advance(b, now_usec);
        return b->used;
}

unsigned daily_budget_available(struct daily_budget *b, uint64_t now_usec, bool use_reserve)
{
        unsigned cap = cap_of(b, use_reserve);
        unsigned used = daily_budget_used(b, now_usec);
        return used >= cap ? 0 : cap - used;
}

void daily_budget_force(struct daily_budget *b, uint64_t now_usec, unsigned n)
{
        advance(b, now_usec);
        uint32_t *slot = &b->count[b->head % DAILY_BUDGET_SLOTS];
        if (n > UINT32_MAX - *slot || n > UINT_MAX - b->used)
                n = 0; /* cannot happen with real limits; refuse to wrap */
        *slot += n;
        b->used += n;
}

int daily_budget_spend(struct daily_budget *b, uint64_t now_usec, unsigned n, bool use_reserve)
{
        if (daily_budget_available(b, now_usec, use_reserve) < n)
                return -EDQUOT;
        daily_budget_force(b, now_usec, n);
        return 0;
}

void daily_budget_exhausted(struct daily_budget *b, uint64_t now_usec)
{
        unsigned used = daily_budget_used(b, now_usec);
        if (used < b->limit)
                daily_budget_force(b, now_usec, b->limit - used);
}

uint64_t daily_budget_next_free(struct daily_budget *b, uint64_t now_usec, unsigned n,
                                bool use_reserve)
{
        unsigned cap = cap_of(b, use_reserve);
        if (n > cap)
                return UINT64_MAX;
        advance(b, now_usec);
        if (b->used + n <= cap)
                return now_usec;
        /* Slot k leaves the window when slot k + DAILY_BUDGET_SLOTS begins. */
        unsigned freed = 0;
        for (uint64_t k = oldest_slot(b); k <= b->head; k++) {
                freed += b->count[k % DAILY_BUDGET_SLOTS];
                if (b->used - freed + n <= cap) {
                        uint64_t t = (k + DAILY_BUDGET_SLOTS) * DAILY_BUDGET_SLOT_USEC;
                        return t > now_usec ? t : now_usec;
                }
        }
        return UINT64_MAX; /* unreachable: freeing everything fits n ≤ cap */
}

unsigned daily_budget_freed_by(struct daily_budget *b, uint64_t now_usec, uint64_t until_usec)
{
        advance(b, now_usec);
        unsigned freed = 0;
        for (uint64_t k = oldest_slot(b); k <= b->head; k++) {
                if ((k + DAILY_BUDGET_SLOTS) * DAILY_BUDGET_SLOT_USEC > until_usec)
                        break;
                freed += b->count[k % DAILY_BUDGET_SLOTS];
        }
        return freed;
}

int daily_budget_save(const struct daily_budget *b, char **ret)
{
        struct strbuf sb = {};
        int r = strbuf_appendf(&sb, "budget 1 %" PRIu64, b->head);
        for (uint64_t i = 0; r >= 0 && b->head > 0 && i < DAILY_BUDGET_SLOTS; i++) {
                uint64_t k = b->head - i;
                if (b->count[k % DAILY_BUDGET_SLOTS] > 0)
                        r = strbuf_appendf(&sb, " %" PRIu64 ":%" PRIu32, k,
                                           b->count[k % DAILY_BUDGET_SLOTS]);
        }
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

int daily_budget_load(struct daily_budget *b, const char *text)
{
        struct daily_budget t = {.limit = b->limit, .reserve = b->reserve};
        unsigned version;
        uint64_t head;
        int consumed = 0;

        if (!text || sscanf(text, "budget %u %" SCNu64 "%n", &version, &head, &consumed) != 2 ||
            version != 1)
                return -EBADMSG;
        t.head = head;
        for (const char *p = text + consumed; *p;) {
                uint64_t k;
                uint32_t n;
                int used = 0;
                while (*p == ' ')
                        p++;
                if (!*p || *p == '\n')
                        break;
                if (sscanf(p, "%" SCNu64 ":%" SCNu32 "%n", &k, &n, &used) != 2 || used <= 0)
                        return -EBADMSG;
                if (head == 0 || k > head || head - k >= DAILY_BUDGET_SLOTS ||
                    t.count[k % DAILY_BUDGET_SLOTS] != 0 || n > UINT32_MAX - t.used)
                        return -EBADMSG;
                t.count[k % DAILY_BUDGET_SLOTS] = n;
                t.used += n;
                p += used;
        }
        *b = t;
        return 0;
}
