/* schedsim.c — replay simulation of the scheduler (issues 3 and 14).
 *
 * Polls a trace of post times (bench/schedsim/trace.h: made by a family, or read from a file) with
 * a simulated clock four ways at the same daily quota: govwatch's own scheduler (src/scheduler.c,
 * learning online from an empty store), fixed-interval round robin, and for reference the same
 * scheduler told every wall's hourly rates (the oracle: the family's true rates when it knows them,
 * else the trace's own rates by local hour over the measured window) or only each wall's mean
 * rate over the day (the flat oracle). The trace's own hourly rates see a little of the future: a
 * wall posting a few times a week is "known" to post at the very hours it did, so where the oracle
 * had to take them it flatters; the flat oracle hardly does. A post is detected by the
 * first poll of its wall at or after its time. Prints mean / p95 / max post→detection latency,
 * the quota used, and the ratios to round robin; --table does it for every family of a set, cold,
 * first and warm, as one Markdown table.
 *
 * Time runs t_hist ≤ past ≤ start ≤ t0 < t_end:
 *   [past, start)   the walls' past (--history-days): the daemon's first sweep sees a page of
 *                   COUNT_SMALL posts and hands it to the scheduler as history, as the real one
 *                   does; nothing is notified. 0 starts from bare walls.
 *   [start, t0)     warm-up (--warmup-days): the daemon polls, learns and spends quota, and
 *                   nothing is measured. Round robin starts here too.
 *   [t0, t_end)     measured (--days): the latency of these posts, the same for every poller.
 * A cold start is --history-days 0 --warmup-days 0 (an empty store and bare walls: the issue's
 * "no history"); a first start, --history-days 7 (an empty store, as when the daemon is first
 * installed, on walls that have posted before); warm, --history-days 0 --warmup-days 7.
 * A generated trace begins at least MIN_LEAD_DAYS before t0 (t_hist); what it holds before the
 * walls' past is hidden, as if they had been created then. So a cold and a warm run, or any two
 * with history + warm-up within that week, replay the very same trace and measure the same posts,
 * and walls that excite themselves or change regime are in their stride at t0.
 *
 * This file decides nothing about the scheduler: the targets it checks are issue 14's.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "scheduler.h"
#include "trace.h"
#include "util.h"

#define BATCH          25  /* wall.get per execute */
#define COUNT_LOSSLESS 100 /* posts per wall.get assumed by the simulation */
#define COUNT_SMALL    20  /* and the daemon's default, to report what paging must recover */

#define MIN_LEAD_DAYS     7 /* a generated trace's days before t0, at least */
#define TABLE_WARMUP_DAYS 7

/* Issue 14's targets for a cold start, as ratios to round robin (max: to its interval). Held-out
 * families may miss them by HELDOUT_SLACK. */
#define TARGET_MEAN   0.5
#define TARGET_P95    0.65
#define TARGET_MAX    2.0
#define HELDOUT_SLACK 0.05

/* One simulation: a trace with its measured posts counted (trace_measure()), and when the daemon
 * starts. */
struct sim {
        const struct trace *tr;
        int64_t past;  /* the walls show posts from here on: t_hist ≤ past ≤ start */
        int64_t start; /* the daemon starts from an empty store: start ≤ t0 */
        unsigned quota;
        uint64_t seed;
        size_t measured; /* posts in [t0, t_end) */
};

struct result {
        double mean_min, p50_min, p95_min, max_min;
        double mean2_min, p95_2_min; /* the posts from the second measured day on */
        size_t n_posts2;
        size_t n_posts, undetected;
        size_t n_polls;                /* wall.get from the daemon's start to t_end */
        unsigned max_day, max_rolling; /* polls in one sim day, in any 24 h window */
        size_t lost_small;             /* posts beyond COUNT_SMALL in one poll */
        size_t lost_lossless;
        double cpu_sec; /* the scheduler's, from start to the last detection; 0 for round robin */
};

/* The four pollers on one trace. */
struct outcome {
        struct result rr, gw, orc;
        struct result flat;     /* the scheduler told each wall's mean rate, not its hours */
        double sim_days;        /* from the daemon's start to t_end */
        double rr_interval_min; /* n_comm × 1440 / quota */
};

/* ---- accounting ---------------------------------------------------------------------------- */

/* A list of latencies, seconds. */
struct lats {
        double *v;
        size_t n, alloc;
};

static int lats_add(struct lats *l, double sec)
{
        if (!greedy_realloc((void **)&l->v, &l->alloc, l->n + 1, sizeof(double)))
                return -ENOMEM;
        l->v[l->n++] = sec;
        return 0;
}

struct acct {
        struct lats lat;  /* per measured post */
        struct lats lat2; /* per measured post from t0 + 1 day: how a start settles */
        uint64_t *polls;  /* poll times, usec */
        size_t n_polls, alloc_polls;
        size_t lost_small, lost_lossless;
};

static int acct_poll(struct acct *a, uint64_t t)
{
        if (!greedy_realloc((void **)&a->polls, &a->alloc_polls, a->n_polls + 1, sizeof(uint64_t)))
                return -ENOMEM;
        a->polls[a->n_polls++] = t;
        return 0;
}

/* The poll at t_usec of a wall whose posts before *next were detected before: detects those up to
 * t_usec, measures the ones at or after t0, and hands their dates (up to COUNT_LOSSLESS) out.
 * Returns how many measured posts it found, or -ENOMEM. */
static int acct_detect(struct acct *a, int64_t t0, const int64_t *posts, size_t n_posts,
                       size_t *next, uint64_t t_usec, int64_t *ret_dates, size_t *ret_n)
{
        size_t k = 0;
        int measured = 0;
        while (*next < n_posts && (uint64_t)posts[*next] * USEC_PER_SEC <= t_usec) {
                if (posts[*next] >= t0) {
                        double sec = ((double)t_usec - (double)posts[*next] * USEC_PER_SEC) /
                                     USEC_PER_SEC;
                        if (lats_add(&a->lat, sec) < 0 ||
                            (posts[*next] >= t0 + 86400 && lats_add(&a->lat2, sec) < 0))
                                return -ENOMEM;
                        measured++;
                }
                if (ret_dates && k < COUNT_LOSSLESS)
                        ret_dates[k] = posts[*next];
                k++;
                (*next)++;
        }
        if (t_usec >= (uint64_t)t0 * USEC_PER_SEC) {
                if (k > COUNT_SMALL)
                        a->lost_small += k - COUNT_SMALL;
                if (k > COUNT_LOSSLESS)
                        a->lost_lossless += k - COUNT_LOSSLESS;
        }
        if (ret_n)
                *ret_n = k < COUNT_LOSSLESS ? k : COUNT_LOSSLESS;
        return measured;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

static void lats_sort(struct lats *l)
{
        if (l->n > 1) /* qsort(NULL, 0) is undefined */
                qsort(l->v, l->n, sizeof(double), cmp_double);
}

/* The mean latency in minutes (0 with no posts). */
static double lats_mean_min(const struct lats *l)
{
        double sum = 0;
        for (size_t i = 0; i < l->n; i++)
                sum += l->v[i];
        return l->n > 0 ? sum / (double)l->n / 60 : 0;
}

/* The latency in minutes below which a fraction q of the posts were found, of a sorted list (0
 * with no posts). */
static double lats_quantile_min(const struct lats *l, double q)
{
        if (l->n == 0)
                return 0;
        size_t k = (size_t)ceil(q * (double)l->n);
        return l->v[k > 0 ? k - 1 : 0] / 60;
}

static void acct_result(struct acct *a, const struct sim *sim, struct result *ret)
{
        struct result r = {.n_posts = a->lat.n,
                           .undetected = sim->measured - a->lat.n,
                           .n_polls = a->n_polls,
                           .lost_small = a->lost_small,
                           .lost_lossless = a->lost_lossless};
        lats_sort(&a->lat);
        lats_sort(&a->lat2);
        r.mean_min = lats_mean_min(&a->lat);
        r.p50_min = lats_quantile_min(&a->lat, 0.5);
        r.p95_min = lats_quantile_min(&a->lat, 0.95);
        r.max_min = lats_quantile_min(&a->lat, 1);
        r.n_posts2 = a->lat2.n;
        r.mean2_min = lats_mean_min(&a->lat2);
        r.p95_2_min = lats_quantile_min(&a->lat2, 0.95);
        if (a->n_polls > 1)
                qsort(a->polls, a->n_polls, sizeof(uint64_t), cmp_u64);
        uint64_t start = (uint64_t)sim->start * USEC_PER_SEC;
        size_t days = (size_t)((sim->tr->t_end - sim->start + 86399) / 86400);
        for (size_t d = 0, i = 0; d < days; d++) {
                unsigned n = 0;
                while (i < a->n_polls && a->polls[i] < start + (d + 1) * USEC_PER_DAY) {
                        n++;
                        i++;
                }
                r.max_day = n > r.max_day ? n : r.max_day;
        }
        /* any half-open 24 h window (t - 24 h, t] */
        for (size_t i = 0, j = 0; i < a->n_polls; i++) {
                while (a->polls[j] + USEC_PER_DAY <= a->polls[i])
                        j++;
                unsigned n = (unsigned)(i - j + 1);
                r.max_rolling = n > r.max_rolling ? n : r.max_rolling;
        }
        *ret = r;
}

static void acct_done(struct acct *a)
{
        free(a->lat.v);
        free(a->lat2.v);
        free(a->polls);
}

/* ---- the two pollers ----------------------------------------------------------------------- */

static size_t find_comm(const struct trace *tr, int64_t owner)
{
        size_t lo = 0, hi = tr->n_comm; /* owners are sorted: ascending or (generated) descending */
        bool asc = tr->n_comm < 2 || tr->owner[0] < tr->owner[1];
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (tr->owner[mid] == owner)
                        return mid;
                if ((tr->owner[mid] < owner) == asc)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return SIZE_MAX;
}

/* Wall i's first post at or after t. */
static size_t first_post_from(const struct trace *tr, size_t i, int64_t t)
{
        size_t lo = 0, hi = tr->n_post[i];
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (tr->post[i][mid] < t)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* What the scheduler is told of the walls' rates: nothing (it learns), their hourly rates, or
 * only each wall's mean over the day. */
enum knowledge { KNOW_NOTHING, KNOW_HOURLY, KNOW_MEAN };

static int run_scheduler(const struct sim *sim, enum knowledge know, struct result *ret)
{
        const struct trace *tr = sim->tr;
        struct scheduler_params p;
        _cleanup_scheduler_ struct scheduler *s = NULL;
        struct acct a = {0};
        int r;

        scheduler_params_default(&p);
        p.daily_budget = sim->quota;
        p.reserve = sim->quota / 50;
        p.seed = sim->seed;
        r = scheduler_new(&p, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < tr->n_comm; i++) {
                r = scheduler_add(s, tr->owner[i], 1);
                if (r < 0)
                        return r;
                if (know != KNOW_NOTHING) {
                        double rates[24], mean = 0;
                        for (size_t h = 0; h < 24; h++)
                                mean += tr->true_rate[i * 24 + h] / 24;
                        for (size_t h = 0; h < 24; h++)
                                rates[h] = know == KNOW_HOURLY ? tr->true_rate[i * 24 + h] : mean;
                        r = scheduler_set_rates(s, tr->owner[i], rates);
                        if (r < 0)
                                return r;
                }
        }
        bool ok;
        unsigned needed;
        scheduler_coverage(s, &ok, &needed);
        if (!ok && know == KNOW_NOTHING)
                fprintf(stderr, "coverage: %u wall.get a day needed at max_interval, budget %u\n",
                        needed, sim->quota - p.reserve);

        _cleanup_free_ size_t *next = calloc(tr->n_comm, sizeof(size_t));
        _cleanup_free_ bool *seen = calloc(tr->n_comm, sizeof(bool));
        _cleanup_free_ int64_t *dates = calloc(COUNT_LOSSLESS, sizeof(int64_t));
        if (!next || !seen || !dates)
                return -ENOMEM;
        for (size_t i = 0; i < tr->n_comm; i++)
                next[i] = first_post_from(tr, i, sim->start);
        clock_t c0 = clock();
        uint64_t t = (uint64_t)sim->start * USEC_PER_SEC;
        uint64_t t_end = (uint64_t)tr->t_end * USEC_PER_SEC;
        /* Go on past the end until every post is found, but not for ever. */
        uint64_t end = t_end + p.max_interval_usec * 2 + USEC_PER_DAY;
        size_t detected = 0;
        while (detected < sim->measured) {
                uint64_t w = scheduler_next_wakeup(s, t);
                t = w > t ? w : t + USEC_PER_SEC;
                if (t > end)
                        break;
                for (;;) {
                        int64_t ids[BATCH];
                        size_t n;
                        r = scheduler_due(s, t, ids, BATCH, &n);
                        if (r < 0)
                                return r;
                        if (n == 0)
                                break;
                        for (size_t k = 0; k < n; k++) {
                                size_t i = find_comm(tr, ids[k]);
                                size_t nd = 0;
                                if (i == SIZE_MAX)
                                        return -ESRCH;
                                r = scheduler_record_poll(s, ids[k], t);
                                if (r >= 0 && t < t_end)
                                        r = acct_poll(&a, t);
                                if (r >= 0)
                                        r = acct_detect(&a, tr->t0, tr->post[i], tr->n_post[i],
                                                        &next[i], t, dates, &nd);
                                if (r >= 0)
                                        detected += (size_t)r;
                                int64_t since = 0;
                                if (r >= 0 && !seen[i]) {
                                        /* first sight: the page is history, as sweep.c's
                                         * observe() passes it */
                                        size_t shown = next[i] - first_post_from(tr, i, sim->past);
                                        nd = shown < COUNT_SMALL ? shown : COUNT_SMALL;
                                        for (size_t j = 0; j < nd; j++)
                                                dates[j] = tr->post[i][next[i] - nd + j];
                                        /* a short page is the whole wall: it was there from
                                         * the walls' past on */
                                        since = nd == COUNT_SMALL ? dates[0]
                                                : nd > 0          ? sim->past
                                                                  : 0;
                                        seen[i] = true;
                                }
                                if (r >= 0)
                                        r = scheduler_observe(s, ids[k], t, dates, nd, since);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
        acct_result(&a, sim, ret);
        ret->cpu_sec = cpu;
        acct_done(&a);
        return 0;
}

/* Every wall once per interval, evenly staggered from the daemon's start, the interval chosen so
 * that any 24 h holds at most quota polls. */
static int run_round_robin(const struct sim *sim, struct result *ret)
{
        const struct trace *tr = sim->tr;
        struct acct a = {0};
        uint64_t start = (uint64_t)sim->start * USEC_PER_SEC;
        uint64_t t_end = (uint64_t)tr->t_end * USEC_PER_SEC;
        uint64_t interval = (tr->n_comm * USEC_PER_DAY + sim->quota - 1) / sim->quota;
        int r = 0;

        for (size_t i = 0; i < tr->n_comm && r >= 0; i++) {
                size_t next = first_post_from(tr, i, sim->start);
                for (uint64_t t = start + interval * i / tr->n_comm;
                     r >= 0 && (t < t_end || next < tr->n_post[i]); t += interval) {
                        if (t < t_end)
                                r = acct_poll(&a, t);
                        if (r >= 0)
                                r = acct_detect(&a, tr->t0, tr->post[i], tr->n_post[i], &next, t,
                                                NULL, NULL);
                }
        }
        if (r < 0)
                return r;
        acct_result(&a, sim, ret);
        acct_done(&a);
        return 0;
}

static int simulate(const struct sim *sim, struct outcome *ret)
{
        struct outcome o = {
                .sim_days = (double)(sim->tr->t_end - sim->start) / 86400,
                .rr_interval_min = (double)sim->tr->n_comm * 1440 / sim->quota,
        };
        int r = run_round_robin(sim, &o.rr);
        if (r >= 0)
                r = run_scheduler(sim, KNOW_NOTHING, &o.gw);
        if (r >= 0)
                r = run_scheduler(sim, KNOW_HOURLY, &o.orc);
        if (r >= 0)
                r = run_scheduler(sim, KNOW_MEAN, &o.flat);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

/* ---- traces -------------------------------------------------------------------------------- */

struct options {
        const struct family *family;
        enum family_rates rates;
        enum family_shape shape;
        const char *rates_name, *shape_name;
        uint64_t seed;
        unsigned long n_comm, days, quota, history_days, warmup_days;
        const char *trace_file, *write_file;
        const char *table; /* NULL, or a set of family_sets[], or "all" */
        bool list_families;
        bool variant_given; /* --rates or --shape */
        bool history_given, warmup_given;
};

struct family_set {
        const char *name; /* for --table and in the table */
        const struct family *families;
        double slack; /* how far its cold rows may miss the targets */
};

static const struct family_set family_sets[] = {
        {"tuning", schedsim_tuning_families, 0},
        {"heldout", schedsim_heldout_families, HELDOUT_SLACK},
        {"fresh", schedsim_fresh_families, HELDOUT_SLACK},
        {"blind", schedsim_blind_families, HELDOUT_SLACK},
        {"sealed", schedsim_sealed_families, HELDOUT_SLACK},
        {"vault", schedsim_vault_families, HELDOUT_SLACK},
};

static const struct family_set *family_set_find(const char *name)
{
        for (size_t s = 0; s < ELEMENTSOF(family_sets); s++)
                if (streq(family_sets[s].name, name))
                        return &family_sets[s];
        return NULL;
}

static const struct family *family_find(const char *name)
{
        for (size_t s = 0; s < ELEMENTSOF(family_sets); s++)
                for (const struct family *f = family_sets[s].families; f->name; f++)
                        if (streq(f->name, name))
                                return f;
        return NULL;
}

/* How long before t0 a generated trace begins, for the walls' past and the warm-up. */
static unsigned days_before_t0(unsigned long history_and_warmup_days)
{
        return (unsigned)(history_and_warmup_days > MIN_LEAD_DAYS ? history_and_warmup_days
                                                                  : MIN_LEAD_DAYS);
}

/* Family f's trace for the options' walls, seed and days, from lead_days before t0, its measured
 * posts counted and the oracle's rates filled in: the family's true rates (*ret_true_rates), else
 * the trace's own. */
static int generate_trace(const struct options *o, const struct family *f, unsigned lead_days,
                          struct trace *tr, size_t *ret_measured, bool *ret_true_rates)
{
        struct family_params p = {
                .n_comm = o->n_comm,
                .t_hist = SCHEDSIM_DEFAULT_T0 - (int64_t)lead_days * 86400,
                .t0 = SCHEDSIM_DEFAULT_T0,
                .t_end = SCHEDSIM_DEFAULT_T0 + (int64_t)o->days * 86400,
                .seed = o->seed,
                .rates = o->rates,
                .shape = o->shape,
        };
        int r = trace_init(tr, p.n_comm, p.t_hist, p.t0, p.t_end);
        if (r >= 0)
                r = f->generate(&p, tr);
        if (r < 0)
                return r;
        trace_sort(tr);
        *ret_true_rates = tr->true_rate != NULL;
        r = trace_measure(tr, ret_measured);
        if (r >= 0)
                r = trace_fill_empirical_rates(tr);
        return r;
}

/* --trace FILE: its first history + warm-up days before t0. Says what failed on stderr. */
static int load_trace(const struct options *o, struct trace *tr, size_t *ret_measured)
{
        size_t bad_line = 0;
        unsigned long lead_days = o->history_days + o->warmup_days;
        int r = trace_read_csv(tr, o->trace_file, (int64_t)lead_days * 86400, &bad_line);
        if (r == -EBADMSG)
                fprintf(stderr, "%s:%zu: expected owner_id,unix_time\n", o->trace_file, bad_line);
        else if (r == -ERANGE)
                fprintf(stderr, "%s: the trace spans no more than --history-days %lu%s\n",
                        o->trace_file, o->history_days, o->warmup_days ? " and --warmup-days" : "");
        else if (r < 0)
                fprintf(stderr, "cannot read trace %s: %s\n", o->trace_file, strerror(-r));
        if (r < 0)
                return r;
        r = trace_measure(tr, ret_measured);
        if (r >= 0)
                r = trace_fill_empirical_rates(tr);
        if (r < 0)
                fprintf(stderr, "cannot read trace %s: %s\n", o->trace_file, strerror(-r));
        return r;
}

/* ---- one run ------------------------------------------------------------------------------- */

static bool targets_met(const struct outcome *o, unsigned quota, double slack)
{
        return o->gw.max_rolling <= quota && o->gw.undetected == 0 &&
               o->gw.mean_min <= (TARGET_MEAN + slack) * o->rr.mean_min &&
               o->gw.p95_min <= (TARGET_P95 + slack) * o->rr.p95_min &&
               o->gw.max_min <= (TARGET_MAX + slack) * o->rr_interval_min;
}

static void print_row(const char *name, const struct result *r, const struct outcome *o,
                      unsigned quota)
{
        const struct result *rr = &o->rr;
        printf("%-22s %8.1f %8.1f %8.1f %8.1f %8u %8u %s  %6.3f %6.3f %6zu %4zu %8.2f", name,
               r->mean_min, r->p50_min, r->p95_min, r->max_min, r->max_day, r->max_rolling,
               r->max_rolling <= quota ? "ok  " : "OVER", r->mean_min / rr->mean_min,
               r->p95_min / rr->p95_min, r->lost_small, r->undetected,
               r->max_min / o->rr_interval_min);
        if (r == rr)
                printf(" %7s\n", "-");
        else
                printf(" %7.3f\n", r->cpu_sec / o->sim_days);
}

static int run_one(const struct options *o)
{
        struct trace tr = {0};
        size_t measured = 0, busiest = 0;
        bool true_rates = false;
        int r;

        if (o->trace_file)
                r = load_trace(o, &tr, &measured);
        else {
                r = generate_trace(o, o->family, days_before_t0(o->history_days + o->warmup_days),
                                   &tr, &measured, &true_rates);
                if (r < 0)
                        fprintf(stderr, "cannot generate trace %s: %s\n", o->family->name,
                                strerror(-r));
        }
        if (r >= 0 && o->write_file) {
                r = trace_write_csv(&tr, o->write_file);
                if (r < 0)
                        fprintf(stderr, "cannot write %s: %s\n", o->write_file, strerror(-r));
        }
        if (r < 0) {
                trace_done(&tr);
                return 1;
        }

        for (size_t i = 0; i < tr.n_comm; i++) {
                size_t n = tr.n_post[i] - tr.first[i];
                busiest = n > busiest ? n : busiest;
        }
        double span = (double)(tr.t_end - tr.t0) / 86400;
        if (o->trace_file)
                printf("trace %s: %zu communities, %zu posts over %.2f days after %lu days of "
                       "history and %lu of warm-up\n",
                       o->trace_file, tr.n_comm, measured, span, o->history_days, o->warmup_days);
        else {
                printf("generated: family %s", o->family->name);
                if (o->variant_given)
                        printf(" (rates %s, shape %s)", o->rates_name, o->shape_name);
                printf(", seed %" PRIu64 ", %zu communities from %.0f days before t0, %lu days "
                       "after %lu days of history and %lu of warm-up: %zu posts\n",
                       o->seed, tr.n_comm, (double)(tr.t0 - tr.t_hist) / 86400, o->days,
                       o->history_days, o->warmup_days, measured);
        }
        printf("%.1f posts a day; busiest community %.1f a day; quota %lu wall.get a day, "
               "round robin every %.1f min\n",
               measured / span, busiest / span, o->quota, (double)tr.n_comm * 1440 / o->quota);

        struct sim sim = {
                .tr = &tr,
                .past = tr.t0 - (int64_t)(o->warmup_days + o->history_days) * 86400,
                .start = tr.t0 - (int64_t)o->warmup_days * 86400,
                .quota = (unsigned)o->quota,
                .seed = o->seed,
                .measured = measured,
        };
        struct outcome out;
        r = simulate(&sim, &out);
        if (r < 0) {
                fprintf(stderr, "simulation failed: %s\n", strerror(-r));
                trace_done(&tr);
                return 1;
        }

        printf("\n%-22s %8s %8s %8s %8s %8s %8s %s  %6s %6s %6s %4s %8s %7s\n", "latency, minutes",
               "mean", "p50", "p95", "max", "max/day", "max/24h", "quota", "mean/RR", "p95/RR",
               "lost20", "miss", "max/RRiv", "cpu/day");
        print_row("round robin", &out.rr, &out, sim.quota);
        print_row("govwatch (online)", &out.gw, &out, sim.quota);
        print_row(true_rates ? "oracle (true rates)" : "oracle (trace rates)", &out.orc, &out,
                  sim.quota);
        print_row("flat oracle (mean rates)", &out.flat, &out, sim.quota);
        printf("\nlost20: posts beyond the first %d of one poll (to be paged for, count=%d loses "
               "none: %zu); max/RRiv: max latency ÷ round robin's interval; cpu/day: the "
               "scheduler's CPU seconds per simulated day\n",
               COUNT_SMALL, COUNT_LOSSLESS, out.gw.lost_lossless);
        printf("wall.get over %.1f simulated days: %zu round robin, %zu online, %zu oracle\n",
               out.sim_days, out.rr.n_polls, out.gw.n_polls, out.orc.n_polls);
        printf("scheduler CPU: %.2f s online, %.2f s oracle, for %.1f simulated days\n",
               out.gw.cpu_sec, out.orc.cpu_sec, out.sim_days);
        printf("from the second measured day on, %zu posts: mean %.1f / %.1f / %.1f min, p95 "
               "%.1f / %.1f / %.1f min (round robin / online / oracle)\n",
               out.rr.n_posts2, out.rr.mean2_min, out.gw.mean2_min, out.orc.mean2_min,
               out.rr.p95_2_min, out.gw.p95_2_min, out.orc.p95_2_min);
        printf("targets (cold start: mean ≤ %.2f×, p95 ≤ %.2f× round robin, max ≤ %.1f× its "
               "interval, quota never exceeded): %s%s\n",
               TARGET_MEAN, TARGET_P95, TARGET_MAX,
               targets_met(&out, sim.quota, 0) ? "met" : "NOT met",
               o->history_days || o->warmup_days ? " (this run is not a cold start)" : "");
        trace_done(&tr);
        return 0;
}

/* ---- --table: every family of a set, cold and warm ------------------------------------------ */

/* Why a cold row misses the targets, appended to sb ("" when it meets them). */
static int explain_miss(const char *family, const struct outcome *o, unsigned quota, double slack,
                        struct strbuf *sb)
{
        int r = 0;
        if (targets_met(o, quota, slack))
                return 0;
        r = strbuf_appendf(sb, "%s%s:", sb->len ? "; " : "", family);
        if (r >= 0 && o->gw.mean_min > (TARGET_MEAN + slack) * o->rr.mean_min)
                r = strbuf_appendf(sb, " mean %.3f", o->gw.mean_min / o->rr.mean_min);
        if (r >= 0 && o->gw.p95_min > (TARGET_P95 + slack) * o->rr.p95_min)
                r = strbuf_appendf(sb, " p95 %.3f", o->gw.p95_min / o->rr.p95_min);
        if (r >= 0 && o->gw.max_min > (TARGET_MAX + slack) * o->rr_interval_min)
                r = strbuf_appendf(sb, " max %.2f", o->gw.max_min / o->rr_interval_min);
        if (r >= 0 && o->gw.max_rolling > quota)
                r = strbuf_appendf(sb, " %u polls in 24 h", o->gw.max_rolling);
        if (r >= 0 && o->gw.undetected > 0)
                r = strbuf_appendf(sb, " %zu posts missed", o->gw.undetected);
        return r;
}

static unsigned table_warmup_days(const struct options *o)
{
        return o->warmup_given ? (unsigned)o->warmup_days : TABLE_WARMUP_DAYS;
}

/* How a table row's daemon starts, each on the same trace of lead days before t0 (--warmup-days):
 * cold, from an empty store with bare walls (nothing before t0 on them: the first page shows no
 * past); first, from an empty store on walls with a past (the first page of each wall shows its
 * last posts, as on a real first start); warm, after running through the lead days on bare walls.
 */
enum table_start { TABLE_COLD, TABLE_FIRST, TABLE_WARM, _TABLE_START_MAX };

static const char *const table_start_name[_TABLE_START_MAX] = {
        [TABLE_COLD] = "cold",
        [TABLE_FIRST] = "first",
        [TABLE_WARM] = "warm",
};

/* One row: family f's trace tr (measured posts from t0 on) from the start `start` names, the
 * lead_days before t0 its past or warm-up. */
static int table_row(const struct options *o, const struct family_set *set, const struct family *f,
                     const struct trace *tr, size_t measured, enum table_start start,
                     unsigned lead_days, struct outcome *ret)
{
        int64_t lead = (int64_t)lead_days * 86400;
        struct sim sim = {
                .tr = tr,
                .past = start == TABLE_COLD ? tr->t0 : tr->t0 - lead,
                .start = start == TABLE_WARM ? tr->t0 - lead : tr->t0,
                .quota = (unsigned)o->quota,
                .seed = o->seed,
                .measured = measured,
        };
        int r = simulate(&sim, ret);
        if (r < 0) {
                fprintf(stderr, "%s (%s): %s\n", f->name, table_start_name[start], strerror(-r));
                return r;
        }
        const struct outcome *out = ret;
        char busiest[32], settled[32] = "-";
        snprintf(busiest, sizeof(busiest), "%u%s", out->gw.max_rolling,
                 out->gw.max_rolling > o->quota ? " OVER" : "");
        if (out->rr.n_posts2 > 0)
                snprintf(settled, sizeof(settled), "%.3f / %.3f",
                         out->gw.mean2_min / out->rr.mean2_min,
                         out->gw.p95_2_min / out->rr.p95_2_min);
        printf("| %s | %s | %s | %.3f | %.3f | %.2f | %s | %.3f / %.3f | %.3f / %.3f / %.2f | %s | "
               "%.0f |\n",
               f->name, set->name, table_start_name[start], out->gw.mean_min / out->rr.mean_min,
               out->gw.p95_min / out->rr.p95_min, out->gw.max_min / out->rr_interval_min, settled,
               out->flat.mean_min / out->rr.mean_min, out->flat.p95_min / out->rr.p95_min,
               out->orc.mean_min / out->rr.mean_min, out->orc.p95_min / out->rr.p95_min,
               out->orc.max_min / out->rr_interval_min, busiest,
               (double)measured / (double)o->days);
        fflush(stdout);
        return 0;
}

static int run_table(const struct options *o)
{
        unsigned warmup_days = table_warmup_days(o);
        struct strbuf verdicts = {0};
        double cpu_max = 0;
        const char *cpu_where = NULL, *cpu_start = NULL;
        clock_t c0 = clock();
        int r = 0;

        printf("bench-schedsim --table %s: seed %" PRIu64 ", %lu communities, %lu days measured, "
               "quota %lu wall.get a day, round robin every %.1f min\n",
               o->table, o->seed, o->n_comm, o->days, o->quota,
               (double)o->n_comm * 1440 / o->quota);
        printf("cold: --history-days 0; first: --history-days %u (an empty store, the walls' past "
               "on their first page); warm: --history-days 0 --warmup-days %u (the same trace, "
               "from %u days before t0)\n\n",
               warmup_days, warmup_days, days_before_t0(warmup_days));
        printf("| family | set | start | mean × RR | p95 × RR | max ÷ RR interval | "
               "from day 2: mean / p95 × RR | flat oracle mean / p95 | oracle mean / p95 / max | "
               "busiest 24 h | "
               "posts a day |\n");
        printf("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for (size_t s = 0; s < ELEMENTSOF(family_sets) && r >= 0; s++) {
                const struct family_set *set = &family_sets[s];
                struct strbuf misses = {0};
                size_t n = 0;
                if (!streq(o->table, "all") && !streq(o->table, set->name))
                        continue;
                for (const struct family *f = set->families; f->name && r >= 0; f++, n++) {
                        /* one trace for every start of the family */
                        struct trace tr = {0};
                        size_t measured = 0;
                        bool true_rates;
                        r = generate_trace(o, f, days_before_t0(warmup_days), &tr, &measured,
                                           &true_rates);
                        if (r < 0)
                                fprintf(stderr, "%s: %s\n", f->name, strerror(-r));
                        for (enum table_start st = 0; st < _TABLE_START_MAX && r >= 0; st++) {
                                struct outcome out;
                                r = table_row(o, set, f, &tr, measured, st, warmup_days, &out);
                                if (r >= 0 && st == TABLE_COLD)
                                        r = explain_miss(f->name, &out, (unsigned)o->quota,
                                                         set->slack, &misses);
                                double cpu_day = r >= 0 ? out.gw.cpu_sec / out.sim_days : 0;
                                if (cpu_day > cpu_max) {
                                        cpu_max = cpu_day;
                                        cpu_where = f->name;
                                        cpu_start = table_start_name[st];
                                }
                        }
                        trace_done(&tr);
                }
                if (r >= 0 && n == 0)
                        r = strbuf_appendf(&verdicts, "%s, seed %" PRIu64 ": no families\n",
                                           set->name, o->seed);
                else if (r >= 0)
                        r = strbuf_appendf(
                                &verdicts,
                                "%s, seed %" PRIu64 ": targets (cold rows: mean ≤ %.2f×, "
                                "p95 ≤ %.2f× round robin, max ≤ %.2f× its interval, quota never "
                                "exceeded, no post missed) %s%s%s\n",
                                set->name, o->seed, TARGET_MEAN + set->slack,
                                TARGET_P95 + set->slack, TARGET_MAX + set->slack,
                                misses.len ? "NOT met: " : "met on all ",
                                misses.len ? misses.buf : "", misses.len ? "" : "families");
                strbuf_done(&misses);
        }
        if (r >= 0) {
                printf("\n%s", verdicts.buf ? verdicts.buf : "");
                if (cpu_where)
                        printf("scheduler CPU: at most %.3f s per simulated day (%s, %s)\n",
                               cpu_max, cpu_where, cpu_start);
                printf("(%.0f s of CPU for the table)\n", (double)(clock() - c0) / CLOCKS_PER_SEC);
        }
        strbuf_done(&verdicts);
        return r < 0 ? 1 : 0;
}

static void list_families(void)
{
        for (size_t s = 0; s < ELEMENTSOF(family_sets); s++)
                for (const struct family *f = family_sets[s].families; f->name; f++)
                        printf("%-12s %-8s %s\n", f->name, family_sets[s].name, f->summary);
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
        fprintf(f,
                "usage: bench-schedsim [--family NAME] [--seed N] [--communities N] [--days N]\n"
                "                      [--quota Q] [--history-days N] [--warmup-days N]\n"
                "                      [--write-trace FILE]  (the generated trace as CSV)\n"
                "       bench-schedsim --trace FILE [--quota Q] [--history-days N] "
                "[--warmup-days N]\n"
                "       bench-schedsim --table tuning|heldout|fresh|blind|sealed|vault|all\n"
                "                      [--seed N] [--communities N]\n"
                "                      [--days N] [--quota Q] [--warmup-days N (7)]\n"
                "       bench-schedsim --list-families\n"
                "  --family lognormal also takes [--rates lognormal|pareto|uniform]\n"
                "                                [--shape diurnal|flat|night|mixed]\n"
                "  --history-days: the walls' past before the daemon starts (30 generated, 1 of a\n"
                "                  trace file; 0 for bare walls)\n"
                "  --warmup-days:  days the daemon runs before latency is measured (0)\n"
                "  --trace FILE:   CSV owner_id,unix_time per post; header optional\n");
}

/* 0 when the options make sense together, else says why on stderr and returns 2. */
static int options_check(struct options *o)
{
        if (o->n_comm == 0 || o->days == 0 || o->quota < 2 || o->n_comm > 1000000 ||
            o->days > 365 || (o->history_days != ULONG_MAX && o->history_days > 365) ||
            o->warmup_days > 365) {
                usage(stderr);
                return 2;
        }
        if (o->table && !streq(o->table, "all") && !family_set_find(o->table)) {
                fprintf(stderr,
                        "--table takes tuning, heldout, fresh, blind, sealed, vault or all, not "
                        "%s\n",
                        o->table);
                return 2;
        }
        if (o->table &&
            (o->trace_file || o->write_file || o->history_given || o->variant_given || o->family)) {
                fprintf(stderr, "--table sets the family and the start itself: no --family, "
                                "--trace, --write-trace, --history-days, --rates or --shape\n");
                return 2;
        }
        if (o->table && o->warmup_given && o->warmup_days == 0) {
                fprintf(stderr, "--table's warm rows need --warmup-days above 0\n");
                return 2;
        }
        if (o->trace_file && (o->family || o->write_file || o->variant_given)) {
                fprintf(stderr, "--trace replays a file: no --family, --write-trace, --rates or "
                                "--shape\n");
                return 2;
        }
        if (!o->family)
                o->family = family_find("lognormal");
        if (o->variant_given && !streq(o->family->name, "lognormal")) {
                fprintf(stderr, "--rates and --shape vary the family lognormal only, not %s\n",
                        o->family->name);
                return 2;
        }
        if (o->history_days == ULONG_MAX)
                o->history_days = o->trace_file ? 1 : 30;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"family", required_argument, NULL, 'f'},
                {"list-families", no_argument, NULL, 'L'},
                {"table", required_argument, NULL, 'T'},
                {"seed", required_argument, NULL, 's'},
                {"communities", required_argument, NULL, 'n'},
                {"days", required_argument, NULL, 'd'},
                {"quota", required_argument, NULL, 'q'},
                {"rates", required_argument, NULL, 'r'},
                {"shape", required_argument, NULL, 'p'},
                {"trace", required_argument, NULL, 't'},
                {"history-days", required_argument, NULL, 'H'},
                {"warmup-days", required_argument, NULL, 'W'},
                {"write-trace", required_argument, NULL, 'w'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct options o = {
                .rates_name = "lognormal",
                .shape_name = "diurnal",
                .seed = 1,
                .n_comm = 300,
                .days = 7,
                .quota = 5000,
                .history_days = ULONG_MAX,
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                char *end = NULL;
                switch (c) {
                case 'f':
                        o.family = family_find(optarg);
                        if (!o.family) {
                                fprintf(stderr,
                                        "unknown family %s (bench-schedsim --list-families)\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 'L':
                        o.list_families = true;
                        break;
                case 'T':
                        o.table = optarg;
                        break;
                case 's':
                        o.seed = strtoull(optarg, &end, 10);
                        break;
                case 'n':
                        o.n_comm = strtoul(optarg, &end, 10);
                        break;
                case 'd':
                        o.days = strtoul(optarg, &end, 10);
                        break;
                case 'q':
                        o.quota = strtoul(optarg, &end, 10);
                        break;
                case 'r':
                        o.rates_name = optarg;
                        o.variant_given = true;
                        if (streq(optarg, "lognormal"))
                                o.rates = FAMILY_RATES_LOGNORMAL;
                        else if (streq(optarg, "pareto"))
                                o.rates = FAMILY_RATES_PARETO;
                        else if (streq(optarg, "uniform"))
                                o.rates = FAMILY_RATES_UNIFORM;
                        else
                                return usage(stderr), 2;
                        break;
                case 'p':
                        o.shape_name = optarg;
                        o.variant_given = true;
                        if (streq(optarg, "diurnal"))
                                o.shape = FAMILY_SHAPE_DIURNAL;
                        else if (streq(optarg, "flat"))
                                o.shape = FAMILY_SHAPE_FLAT;
                        else if (streq(optarg, "night"))
                                o.shape = FAMILY_SHAPE_NIGHT;
                        else if (streq(optarg, "mixed"))
                                o.shape = FAMILY_SHAPE_MIXED;
                        else
                                return usage(stderr), 2;
                        break;
                case 't':
                        o.trace_file = optarg;
                        break;
                case 'w':
                        o.write_file = optarg;
                        break;
                case 'H':
                        o.history_days = strtoul(optarg, &end, 10);
                        o.history_given = true;
                        break;
                case 'W':
                        o.warmup_days = strtoul(optarg, &end, 10);
                        o.warmup_given = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
                if (end && (*end || end == optarg)) {
                        fprintf(stderr, "bad number: %s\n", optarg);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
                return 2;
        }
        if (o.list_families) {
                list_families();
                return 0;
        }
        int r = options_check(&o);
        if (r != 0)
                return r;
        if (getenv("SCHEDSIM_DEBUG"))
                log_set_max_level(LOG_DEBUG); /* the scheduler's refits on stderr */
        return o.table ? run_table(&o) : run_one(&o);
}
