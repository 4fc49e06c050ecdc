/* budget.c — token bucket and rolling daily budget (see budget.h for why a rolling window).
 *
 * Owns only arithmetic on the structs it is given. Never reads a clock, never logs, never sleeps:
 * the caller passes the time, and the tests drive it with a fake one.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "budget.h"

int token_bucket_init(struct token_bucket *b, double per_second, uint64_t now_usec)
{
        if (!b || !(per_second > 0) || !isfinite(per_second))
                return -EINVAL;
        /* Fewer than one token a second still needs room for one request. */
        double cap = per_second < 1 ? 1 : per_second;
        *b = (struct token_bucket){
                .capacity = cap,
                .per_usec = per_second / (double)USEC_PER_SEC,
                .tokens = cap,
                .last_usec = now_usec,
        };
        return 0;
}

static void token_bucket_refill(struct token_bucket *b, uint64_t now_usec)
{
        /* A clock that went back refills nothing, and does not move last_usec back either. */
        if (now_usec <= b->last_usec)
                return;
        b->tokens += (double)(now_usec - b->last_usec) * b->per_usec;
        if (b->tokens > b->capacity)
                b->tokens = b->capacity;
        b->last_usec = now_usec;
}

uint64_t token_bucket_wait_usec(const struct token_bucket *b, uint64_t now_usec)
{
        struct token_bucket t = *b;
        token_bucket_refill(&t, now_usec);
        if (t.tokens >= 1)
                return 0;
        /* Round up: waking a microsecond early would find the bucket still short. */
        return (uint64_t)ceil((1 - t.tokens) / t.per_usec) +
               (now_usec < b->last_usec ? b->last_usec - now_usec : 0);
}

int token_bucket_take(struct token_bucket *b, uint64_t now_usec, uint64_t *ret_wait_usec)
{
        token_bucket_refill(b, now_usec);
        if (b->tokens >= 1) {
                b->tokens -= 1;
                if (ret_wait_usec)
                        *ret_wait_usec = 0;
                return 0;
        }
        if (ret_wait_usec)
                *ret_wait_usec = token_bucket_wait_usec(b, now_usec);
        return -EAGAIN;
}

void token_bucket_drain(struct token_bucket *b, uint64_t now_usec)
{
        token_bucket_refill(b, now_usec);
        b->tokens = 0;
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
