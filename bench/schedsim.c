/* schedsim.c — replay simulation of the scheduler (issue 3, item 7).
 *
 * Generates (or reads) a trace of post times, then polls it with a simulated clock three ways at
 * the same daily quota: govwatch's own scheduler (src/scheduler.c, learning online from an empty
 * state), fixed-interval round robin, and the same scheduler told every community's true hourly
 * rate (an oracle, for reference). A post is detected by the first poll of its community at or
 * after its time. Prints mean / p95 post→detection latency, quota used, and the ratios to round
 * robin.
 *
 * Walls have a past: the simulated daemon starts with an empty store at a moment when every wall
 * already shows its recent posts, and its first sweep sees them as the real one does (a page of
 * COUNT_SMALL posts, handed to the scheduler as history, nothing notified). Those earlier posts
 * are generated (--history-days, 30 by default) or, for a trace file, are the trace's first
 * --history-days (1 by default); latency is measured for the posts after the start only, the same
 * posts for every poller. --history-days 0 starts from bare walls.
 *
 *   bench-schedsim [--seed N] [--communities N] [--days N] [--quota Q] [--history-days N]
 *                  [--rates lognormal|pareto|uniform] [--shape diurnal|flat|night|mixed]
 *                  [--trace FILE]   (CSV owner_id,unix_time per post; header optional)
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

struct result {
        double mean_min, p50_min, p95_min, max_min;
        size_t n_posts, undetected;
        unsigned max_day, max_rolling; /* polls in one sim day, in any 24 h window */
        size_t lost_small;             /* posts beyond COUNT_SMALL in one poll */
        size_t lost_lossless;
};

/* ---- accounting ---------------------------------------------------------------------------- */

struct acct {
        double *lat; /* seconds, per detected post */
        size_t n_lat, alloc_lat;
        uint64_t *polls; /* poll times, usec */
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

/* The poll at t_usec of a community whose posts up to *next were detected before. */
static int acct_detect(struct acct *a, const int64_t *posts, size_t n_posts, size_t *next,
                       uint64_t t_usec, int64_t *ret_dates, size_t *ret_n)
{
        size_t k = 0;
        while (*next < n_posts && (uint64_t)posts[*next] * USEC_PER_SEC <= t_usec) {
                if (!greedy_realloc((void **)&a->lat, &a->alloc_lat, a->n_lat + 1, sizeof(double)))
                        return -ENOMEM;
                a->lat[a->n_lat++] =
                        ((double)t_usec - (double)posts[*next] * USEC_PER_SEC) / USEC_PER_SEC;
                if (ret_dates && k < COUNT_LOSSLESS)
                        ret_dates[k] = posts[*next];
                k++;
                (*next)++;
        }
        if (k > COUNT_SMALL)
                a->lost_small += k - COUNT_SMALL;
        if (k > COUNT_LOSSLESS)
                a->lost_lossless += k - COUNT_LOSSLESS;
        if (ret_n)
                *ret_n = k < COUNT_LOSSLESS ? k : COUNT_LOSSLESS;
        return 0;
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

static void acct_result(struct acct *a, const struct trace *tr, size_t total_posts,
                        struct result *ret)
{
        struct result r = {.n_posts = a->n_lat,
                           .undetected = total_posts - a->n_lat,
                           .lost_small = a->lost_small,
                           .lost_lossless = a->lost_lossless};
        qsort(a->lat, a->n_lat, sizeof(double), cmp_double);
        double sum = 0;
        for (size_t i = 0; i < a->n_lat; i++)
                sum += a->lat[i];
        if (a->n_lat > 0) {
                r.mean_min = sum / a->n_lat / 60;
                r.p50_min = a->lat[(a->n_lat - 1) / 2] / 60;
                r.p95_min = a->lat[(size_t)ceil(0.95 * a->n_lat) - 1] / 60;
                r.max_min = a->lat[a->n_lat - 1] / 60;
        }
        qsort(a->polls, a->n_polls, sizeof(uint64_t), cmp_u64);
        uint64_t t0 = (uint64_t)tr->t0 * USEC_PER_SEC;
        size_t days = (size_t)((tr->t_end - tr->t0 + 86399) / 86400);
        for (size_t d = 0, i = 0; d < days; d++) {
                unsigned n = 0;
                while (i < a->n_polls && a->polls[i] < t0 + (d + 1) * USEC_PER_DAY) {
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
        free(a->lat);
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

static int run_scheduler(const struct trace *tr, unsigned quota, uint64_t seed, bool oracle,
                         struct result *ret, double *ret_cpu)
{
        struct scheduler_params p;
        _cleanup_scheduler_ struct scheduler *s = NULL;
        struct acct a = {0};
        size_t total = 0;
        int r;

        scheduler_params_default(&p);
        p.daily_budget = quota;
        p.reserve = quota / 50;
        p.seed = seed;
        r = scheduler_new(&p, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < tr->n_comm; i++) {
                r = scheduler_add(s, tr->owner[i], 1);
                if (r < 0)
                        return r;
                if (oracle) {
                        r = scheduler_set_rates(s, tr->owner[i], &tr->true_rate[i * 24]);
                        if (r < 0)
                                return r;
                }
                total += tr->n_post[i] - tr->first[i];
        }
        bool ok;
        unsigned needed;
        scheduler_coverage(s, &ok, &needed);
        if (!ok && !oracle)
                fprintf(stderr, "coverage: %u wall.get a day needed at max_interval, budget %u\n",
                        needed, quota - p.reserve);

        _cleanup_free_ size_t *next = calloc(tr->n_comm, sizeof(size_t));
        _cleanup_free_ bool *seen = calloc(tr->n_comm, sizeof(bool));
        _cleanup_free_ int64_t *dates = calloc(COUNT_LOSSLESS, sizeof(int64_t));
        if (!next || !seen || !dates)
                return -ENOMEM;
        memcpy(next, tr->first, tr->n_comm * sizeof(size_t));
        clock_t c0 = clock();
        uint64_t t = (uint64_t)tr->t0 * USEC_PER_SEC;
        /* Go on past the end until every post is found, but not for ever. */
        uint64_t end = (uint64_t)tr->t_end * USEC_PER_SEC + p.max_interval_usec * 2 + USEC_PER_DAY;
        size_t detected = 0;
        while (detected < total) {
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
                                size_t nd = 0, before = a.n_lat;
                                if (i == SIZE_MAX)
                                        return -ESRCH;
                                r = scheduler_record_poll(s, ids[k], t);
                                if (r >= 0 && t < (uint64_t)tr->t_end * USEC_PER_SEC)
                                        r = acct_poll(&a, t);
                                if (r >= 0)
                                        r = acct_detect(&a, tr->post[i], tr->n_post[i], &next[i], t,
                                                        dates, &nd);
                                int64_t since = 0;
                                if (r >= 0 && !seen[i]) {
                                        /* first sight: the page is history, as sweep.c's
                                         * observe() passes it */
                                        nd = next[i] < COUNT_SMALL ? next[i] : COUNT_SMALL;
                                        for (size_t j = 0; j < nd; j++)
                                                dates[j] = tr->post[i][next[i] - nd + j];
                                        /* a short page is the whole wall as far as the
                                         * trace knows: it was there from t_hist on */
                                        since = nd == COUNT_SMALL ? dates[0]
                                                : nd > 0          ? tr->t_hist
                                                                  : 0;
                                        seen[i] = true;
                                }
                                if (r >= 0)
                                        r = scheduler_observe(s, ids[k], t, dates, nd, since);
                                if (r < 0)
                                        return r;
                                detected += a.n_lat - before;
                        }
                }
        }
        *ret_cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
        acct_result(&a, tr, total, ret);
        acct_done(&a);
        return 0;
}

/* Every community once per interval, evenly staggered, the interval chosen so that any 24 h holds
 * at most quota polls. */
static int run_round_robin(const struct trace *tr, unsigned quota, struct result *ret)
{
        struct acct a = {0};
        size_t total = 0;
        uint64_t t0 = (uint64_t)tr->t0 * USEC_PER_SEC, t_end = (uint64_t)tr->t_end * USEC_PER_SEC;
        uint64_t interval = (tr->n_comm * USEC_PER_DAY + quota - 1) / quota;
        int r = 0;

        for (size_t i = 0; i < tr->n_comm && r >= 0; i++) {
                size_t next = tr->first[i];
                total += tr->n_post[i] - next;
                for (uint64_t t = t0 + interval * i / tr->n_comm;
                     r >= 0 && (t < t_end || next < tr->n_post[i]); t += interval) {
                        if (t < t_end)
                                r = acct_poll(&a, t);
                        if (r >= 0)
                                r = acct_detect(&a, tr->post[i], tr->n_post[i], &next, t, NULL,
                                                NULL);
                }
        }
        if (r < 0)
                return r;
        acct_result(&a, tr, total, ret);
        acct_done(&a);
        return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void print_row(const char *name, const struct result *r, const struct result *rr,
                      unsigned quota)
{
        printf("%-22s %8.1f %8.1f %8.1f %8.1f %8u %8u %s  %6.3f %6.3f %6zu %4zu\n", name,
               r->mean_min, r->p50_min, r->p95_min, r->max_min, r->max_day, r->max_rolling,
               r->max_rolling <= quota ? "ok  " : "OVER", r->mean_min / rr->mean_min,
               r->p95_min / rr->p95_min, r->lost_small, r->undetected);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: bench-schedsim [--seed N] [--communities N] [--days N] [--quota Q]\n"
                   "                      [--rates lognormal|pareto|uniform]\n"
                   "                      [--shape diurnal|flat|night|mixed] [--trace FILE]\n"
                   "                      [--write-trace FILE]  (the generated trace as CSV)\n"
                   "                      [--history-days N]  (walls' past before the start:\n"
                   "                       30 generated, 1 of a trace; 0 for bare walls)\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"seed", required_argument, NULL, 's'},
                {"communities", required_argument, NULL, 'n'},
                {"days", required_argument, NULL, 'd'},
                {"quota", required_argument, NULL, 'q'},
                {"rates", required_argument, NULL, 'r'},
                {"shape", required_argument, NULL, 'p'},
                {"trace", required_argument, NULL, 't'},
                {"history-days", required_argument, NULL, 'H'},
                {"write-trace", required_argument, NULL, 'w'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        uint64_t seed = 1;
        unsigned long n_comm = 300, days = 7, quota = 5000, history_days = ULONG_MAX;
        enum family_rates rates = FAMILY_RATES_LOGNORMAL;
        enum family_shape shape = FAMILY_SHAPE_DIURNAL;
        const char *trace_file = NULL, *write_file = NULL, *rates_s = "lognormal",
                   *shape_s = "diurnal";
        int c;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                char *end = NULL;
                switch (c) {
                case 's':
                        seed = strtoull(optarg, &end, 10);
                        break;
                case 'n':
                        n_comm = strtoul(optarg, &end, 10);
                        break;
                case 'd':
                        days = strtoul(optarg, &end, 10);
                        break;
                case 'q':
                        quota = strtoul(optarg, &end, 10);
                        break;
                case 'r':
                        rates_s = optarg;
                        if (streq(optarg, "lognormal"))
                                rates = FAMILY_RATES_LOGNORMAL;
                        else if (streq(optarg, "pareto"))
                                rates = FAMILY_RATES_PARETO;
                        else if (streq(optarg, "uniform"))
                                rates = FAMILY_RATES_UNIFORM;
                        else
                                return usage(stderr), 2;
                        break;
                case 'p':
                        shape_s = optarg;
                        if (streq(optarg, "diurnal"))
                                shape = FAMILY_SHAPE_DIURNAL;
                        else if (streq(optarg, "flat"))
                                shape = FAMILY_SHAPE_FLAT;
                        else if (streq(optarg, "night"))
                                shape = FAMILY_SHAPE_NIGHT;
                        else if (streq(optarg, "mixed"))
                                shape = FAMILY_SHAPE_MIXED;
                        else
                                return usage(stderr), 2;
                        break;
                case 't':
                        trace_file = optarg;
                        break;
                case 'w':
                        write_file = optarg;
                        break;
                case 'H':
                        history_days = strtoul(optarg, &end, 10);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
                if (end && *end) {
                        fprintf(stderr, "bad number: %s\n", optarg);
                        return 2;
                }
        }
        if (history_days == ULONG_MAX)
                history_days = trace_file ? 1 : 30;
        if (n_comm == 0 || days == 0 || quota < 2 || n_comm > 1000000 || days > 365 ||
            history_days > 365) {
                usage(stderr);
                return 2;
        }

        struct trace tr = {0};
        int r;
        if (getenv("SCHEDSIM_DEBUG"))
                log_set_max_level(LOG_DEBUG); /* the scheduler's refits on stderr */
        if (trace_file) {
                size_t bad_line = 0;
                r = trace_read_csv(&tr, trace_file, (int64_t)history_days * 86400, &bad_line);
                if (r == -EBADMSG)
                        fprintf(stderr, "%s:%zu: expected owner_id,unix_time\n", trace_file,
                                bad_line);
                else if (r == -ERANGE)
                        fprintf(stderr, "%s: the trace spans no more than --history-days %lu\n",
                                trace_file, history_days);
                else if (r < 0)
                        fprintf(stderr, "cannot read trace %s: %s\n", trace_file, strerror(-r));
        } else {
                const struct family *f = &schedsim_tuning_families[0];
                struct family_params p = {
                        .n_comm = n_comm,
                        .t_hist = SCHEDSIM_DEFAULT_T0 - (int64_t)history_days * 86400,
                        .t0 = SCHEDSIM_DEFAULT_T0,
                        .t_end = SCHEDSIM_DEFAULT_T0 + (int64_t)days * 86400,
                        .seed = seed,
                        .rates = rates,
                        .shape = shape,
                };
                r = trace_init(&tr, p.n_comm, p.t_hist, p.t0, p.t_end);
                if (r >= 0)
                        r = f->generate(&p, &tr);
                if (r >= 0)
                        trace_sort(&tr);
                if (r < 0)
                        fprintf(stderr, "cannot generate trace: %s\n", strerror(-r));
        }
        if (r < 0) {
                trace_done(&tr);
                return 1;
        }
        r = trace_fill_empirical_rates(&tr);
        if (r < 0) {
                fprintf(stderr, "cannot count the trace's hourly rates: %s\n", strerror(-r));
                trace_done(&tr);
                return 1;
        }
        if (write_file) {
                r = trace_write_csv(&tr, write_file);
                if (r < 0) {
                        fprintf(stderr, "cannot write %s: %s\n", write_file, strerror(-r));
                        trace_done(&tr);
                        return 1;
                }
        }
        size_t total = 0, busiest = 0;
        r = trace_measure(&tr, &total);
        if (r < 0) {
                fprintf(stderr, "cannot split the trace: %s\n", strerror(-r));
                trace_done(&tr);
                return 1;
        }
        for (size_t i = 0; i < tr.n_comm; i++) {
                size_t n = tr.n_post[i] - tr.first[i];
                busiest = n > busiest ? n : busiest;
        }
        double span = (double)(tr.t_end - tr.t0) / 86400;
        if (trace_file)
                printf("trace %s: %zu communities, %zu posts over %.2f days after %lu days of "
                       "history\n",
                       trace_file, tr.n_comm, total, span, history_days);
        else
                printf("generated: seed %" PRIu64 ", %zu communities, %lu days after %lu days of "
                       "history, rates %s, shape %s: %zu posts\n",
                       seed, tr.n_comm, days, history_days, rates_s, shape_s, total);
        printf("%.1f posts a day; busiest community %.1f a day; quota %lu wall.get a day, "
               "round robin every %.1f min\n",
               total / span, busiest / span, quota, (double)tr.n_comm * 1440 / quota);

        struct result rr, gw, orc;
        double cpu_gw = 0, cpu_orc = 0;
        r = run_round_robin(&tr, (unsigned)quota, &rr);
        if (r >= 0)
                r = run_scheduler(&tr, (unsigned)quota, seed, false, &gw, &cpu_gw);
        if (r >= 0)
                r = run_scheduler(&tr, (unsigned)quota, seed, true, &orc, &cpu_orc);
        if (r < 0) {
                fprintf(stderr, "simulation failed: %s\n", strerror(-r));
                trace_done(&tr);
                return 1;
        }

        printf("\n%-22s %8s %8s %8s %8s %8s %8s %s  %6s %6s %6s %4s\n", "latency, minutes", "mean",
               "p50", "p95", "max", "max/day", "max/24h", "quota", "mean/RR", "p95/RR", "lost20",
               "miss");
        print_row("round robin", &rr, &rr, (unsigned)quota);
        print_row("govwatch (online)", &gw, &rr, (unsigned)quota);
        print_row(trace_file ? "oracle (trace rates)" : "oracle (true rates)", &orc, &rr,
                  (unsigned)quota);
        printf("\nlost20: posts beyond the first %d of one poll (to be paged for, count=%d loses "
               "none: %zu)\n",
               COUNT_SMALL, COUNT_LOSSLESS, gw.lost_lossless);
        printf("scheduler CPU: %.2f s online, %.2f s oracle, for %.1f simulated days\n", cpu_gw,
               cpu_orc, span);
        bool pass = gw.max_rolling <= quota && gw.mean_min <= 0.55 * rr.mean_min &&
                    gw.p95_min <= 0.7 * rr.p95_min;
        printf("targets (mean ≤ 0.55×, p95 ≤ 0.7× round robin, quota never exceeded): %s\n",
               pass ? "met" : "NOT met");
        trace_done(&tr);
        return 0;
}
