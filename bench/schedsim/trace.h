/* trace.h — bench-schedsim's traces and the families that generate them.
 *
 * A trace is, for each community, the sorted unix times of its posts. A family is a generator of
 * traces with a posting pattern of its own (bench/schedsim/families.c holds the ones the scheduler
 * was tuned on; heldout.c, fresh.c, blind.c, sealed.c and vault.c, sets written apart from it, the
 * ones it is only evaluated on). Every family writes posts in [p->t_begin, p->t_end) for p->n_comm
 * communities, reproducibly from p->seed alone: the same parameters give the same trace on every
 * machine (no libc rand(), no clock).
 */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHEDSIM_MOSCOW_OFFSET (3 * 3600)
#define SCHEDSIM_DEFAULT_T0    INT64_C(1709499600) /* Monday 2024-03-04 00:00 Moscow */

struct trace {
        size_t n_comm;
        int64_t *owner; /* per community, distinct */
        int64_t **post; /* per community, sorted post times (unix seconds), history included */
        size_t *n_post;
        size_t *alloc_post;
        size_t *first;     /* per community: its first post at or after t0 (measured) */
        double *true_rate; /* per community × 24: posts an hour by local hour, for the oracle;
                            * NULL: the simulator takes each wall's empirical hourly rates */
        int64_t t_hist, t0, t_end; /* posts from t_hist; measured from t0 */
};

/* ---- random numbers: splitmix64, the same sequence everywhere ------------------------------ */

struct rng {
        uint64_t state;
};

static inline uint64_t rng_u64(struct rng *r)
{
        uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static inline double rng_unit(struct rng *r)
{
        return ((double)(rng_u64(r) >> 11) + 0.5) / (double)(UINT64_C(1) << 53);
}

static inline double rng_normal(struct rng *r)
{
        return sqrt(-2 * log(rng_unit(r))) * cos(2 * M_PI * rng_unit(r));
}

/* Exponential with mean 1. */
static inline double rng_exp(struct rng *r)
{
        return -log(rng_unit(r));
}

static inline double rng_between(struct rng *r, double lo, double hi)
{
        return lo + (hi - lo) * rng_unit(r);
}

static inline bool rng_chance(struct rng *r, double p)
{
        return rng_unit(r) < p;
}

/* Uniform in {0, ..., n - 1}. */
static inline size_t rng_below(struct rng *r, size_t n)
{
        size_t k = (size_t)(rng_unit(r) * (double)n);
        return k < n ? k : n - 1;
}

static inline double rng_lognormal(struct rng *r, double median, double sigma)
{
        return median * exp(sigma * rng_normal(r));
}

/* Lognormal, redrawn until at most cap, so that no pile of walls sits at the cap. */
static inline double rng_lognormal_capped(struct rng *r, double median, double sigma, double cap)
{
        double x;
        do
                x = rng_lognormal(r, median, sigma);
        while (x > cap);
        return x;
}

/* Log-uniform in [lo, hi]. */
static inline double rng_log_between(struct rng *r, double lo, double hi)
{
        return lo * pow(hi / lo, rng_unit(r));
}

/* Arrivals of a unit-rate Poisson process in [0, mean): exact for any mean, O(mean). */
static inline unsigned rng_poisson(struct rng *r, double mean)
{
        unsigned k = 0;
        for (double s = rng_exp(r); s < mean; s += rng_exp(r))
                k++;
        return k;
}

/* A fractional local hour drawn from weights by hour (any scale). */
static inline double rng_hour(struct rng *r, const double weight[24])
{
        double total = 0;
        for (int h = 0; h < 24; h++)
                total += weight[h];
        double x = rng_unit(r) * total;
        int h = 0;
        while (h < 23 && x >= weight[h]) {
                x -= weight[h];
                h++;
        }
        return h + rng_unit(r);
}

/* ---- building a trace ---------------------------------------------------------------------- */

/* Allocates n communities with no posts, owners -(100000 + 7i), times [t_hist, t_end) and
 * measurement from t0. -ENOMEM. */
int trace_init(struct trace *tr, size_t n_comm, int64_t t_hist, int64_t t0, int64_t t_end);
/* Adds a post of community i at unix time t (any order; t outside [t_hist, t_end) is dropped).
 * -ENOMEM. */
int trace_add(struct trace *tr, size_t i, int64_t t);
/* Sorts every community's posts; call once after the last trace_add(). */
void trace_sort(struct trace *tr);
void trace_done(struct trace *tr);

/* Reads a CSV of owner_id,unix_time per post (a header line, blank lines and # comments allowed):
 * t_hist just before the first post, t0 lead_sec after it, t_end just after the last post, owners
 * ascending. -EBADMSG with *ret_bad_line set for a line that is not owner_id,unix_time, -ENODATA
 * for no posts, -ERANGE when the trace ends before t0, -ENOMEM, or fopen()'s error. */
int trace_read_csv(struct trace *tr, const char *path, int64_t lead_sec, size_t *ret_bad_line);
/* Writes the trace as that CSV, with a header line and every post (history included). */
int trace_write_csv(const struct trace *tr, const char *path);

/* Sets tr->first (each community's first post at or after t0) and *ret_measured to the number of
 * posts in [t0, t_end). -ENOMEM. */
int trace_measure(struct trace *tr, size_t *ret_measured);
/* Fills tr->true_rate, if the family left it NULL, with each community's empirical rate by local
 * hour over the measured window [t0, t_end): the trace's own hourly rates. 0 or -ENOMEM. */
int trace_fill_empirical_rates(struct trace *tr);

/* Local hour of day (fractional, 0 ≤ h < 24) and day number since SCHEDSIM_DEFAULT_T0's Monday
 * (0 = Monday 2024-03-04) of a unix time, in Moscow time. */
double trace_local_hour(double t);
int64_t trace_local_day(double t);

/* Moscow midnight that starts local day `day` (trace_local_day()'s numbering). */
static inline double trace_day_start(int64_t day)
{
        return (double)SCHEDSIM_DEFAULT_T0 + (double)day * 86400.0;
}

/* 0 = Monday. */
static inline int trace_day_of_week(int64_t day)
{
        return (int)(((day % 7) + 7) % 7);
}

static inline bool trace_is_weekend_day(int64_t day)
{
        return trace_day_of_week(day) >= 5;
}

/* Weight of the hour holding local hour h (any real h), relative to the busiest hour: the chance
 * that a post a process proposes at that hour is actually written. */
static inline double trace_hour_acceptance(const double weight[24], double h)
{
        double peak = 0;
        for (int k = 0; k < 24; k++)
                peak = fmax(peak, weight[k]);
        int k = (int)floor(fmod(fmod(h, 24) + 24, 24));
        return peak > 0 ? weight[k < 24 ? k : 23] / peak : 0;
}

/* trace_add() at a fractional unix time, rounded down. */
static inline int trace_add_at(struct trace *tr, size_t i, double t)
{
        return trace_add(tr, i, (int64_t)floor(t));
}

/* Poisson(mean) posts of community i on local day `day`, at hours drawn from weights, shifted by
 * shift_hours. 0 or -ENOMEM. */
static inline int trace_posts_on_day(struct trace *tr, size_t i, struct rng *r, int64_t day,
                                     double mean, const double hours[24], double shift_hours)
{
        for (unsigned m = rng_poisson(r, mean); m > 0; m--) {
                double h = rng_hour(r, hours) + shift_hours;
                int q = trace_add_at(tr, i, trace_day_start(day) + h * 3600.0);
                if (q < 0)
                        return q;
        }
        return 0;
}

/* Between from and to local hours of t's own day if t is before `from`, else of the next day:
 * when an editor without a night shift gets to what came in after hours. */
static inline double trace_next_morning(struct rng *r, double t, double from, double to)
{
        int64_t day = trace_local_day(t);
        if (trace_local_hour(t) >= from)
                day++;
        return trace_day_start(day) + rng_between(r, from, to) * 3600.0;
}

/* ---- families ------------------------------------------------------------------------------ */

/* The lognormal family's variants (--rates, --shape); the other families ignore them. */
enum family_rates { FAMILY_RATES_LOGNORMAL, FAMILY_RATES_PARETO, FAMILY_RATES_UNIFORM };
enum family_shape {
        FAMILY_SHAPE_DIURNAL,
        FAMILY_SHAPE_FLAT,
        FAMILY_SHAPE_NIGHT,
        FAMILY_SHAPE_MIXED
};

struct family_params {
        size_t n_comm;
        int64_t t_hist; /* posts from here (the walls' past, and warm-up) */
        int64_t t0;     /* measurement starts here */
        int64_t t_end;  /* and ends here */
        uint64_t seed;
        enum family_rates rates; /* 0 (lognormal, diurnal) unless --rates, --shape say */
        enum family_shape shape;
};

struct family {
        const char *name;    /* for --family */
        const char *summary; /* one line for --list-families and the README */
        bool held_out;       /* evaluated only: the scheduler was not tuned on it */
        /* Fills tr (already trace_init()ed for p) with posts; 0 or a negative errno. */
        int (*generate)(const struct family_params *p, struct trace *tr);
};

/* The local days a family generates: from warm_up_days before the one holding t_hist (posts
 * spilling over midnight, follow-ups reaching into the span) to the one holding t_end - 1. */
static inline void trace_span_days(const struct family_params *p, int64_t warm_up_days,
                                   int64_t *ret_first, int64_t *ret_last)
{
        *ret_first = trace_local_day((double)p->t_hist) - warm_up_days;
        *ret_last = trace_local_day((double)(p->t_end - 1));
}

/* NULL-name-terminated arrays. */
extern const struct family schedsim_tuning_families[];
extern const struct family schedsim_heldout_families[];
extern const struct family schedsim_fresh_families[];
extern const struct family schedsim_blind_families[];
extern const struct family schedsim_sealed_families[];
extern const struct family schedsim_vault_families[];
