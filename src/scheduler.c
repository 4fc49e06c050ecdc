/* scheduler.c — quota-aware adaptive polling (the model is described in scheduler.h).
 *
 * Owns: per-community posting-rate estimates by local hour of day, the pooled diurnal prior and the
 * shared rhythms, each community's short-term level, the latency threshold θ that spends the
 * budget, each community's floor and next due time, and the rolling daily budget. Must never: read
 * a clock, sleep, do I/O, log above debug, or hand out a poll the budget has no room for.
 *
 * Learning. For community i and local hour h we keep decayed counts n_i[h] (posts) and e_i[h]
 * (hours observed). Pooled over all communities they give a mean rate r̄ and a diurnal shape g[h]
 * (mean 1), shrunk towards a daytime hump until each hour has been watched (an hour not yet seen
 * is expected as much busier or quieter than the hours seen as the hump says, so a start at night
 * does not make the whole day look like a night). A community's level is r_i = (Σn + α) /
 * (Σ e·s_i + α/r̄): a gamma-Poisson posterior measured against the hours in which it was watched,
 * where α, how alike communities are, is itself fitted (fit_dispersion(): government walls differ
 * by orders of magnitude, so α is small and a wall's own few posts soon count). Its prior shape
 * s_i is a mixture of MIX_SHAPES rhythms walls share, fitted by EM over all walls (fit_mixture()),
 * weighted by how well each explains its posts: a few posts at dawn make a dawn wall. Its hourly
 * rate is λ_i[h] = (ñ[h] + κ) / (ẽ[h] + κ/(r_i s_i[h])), ñ, ẽ smoothed over neighbouring hours,
 * until it has posted enough for its own rhythm. Old observations decay with a half-life of
 * weeks, so a changed rhythm is relearnt.
 *
 * Bursts. Weeks of history make a wall slow to follow a day that is not like the others: the
 * emergency service that posts twice a month and then ten times in an afternoon. So each wall also
 * has a short-term level (burst_level()): its posts of the last hours against what its rates
 * expected of them, read as the posterior mean of two states, as usual or bursting. Two or three
 * posts where a tenth was expected say "bursting"; a busy wall's few posts more than expected do
 * not. The factor lifts its rates and fades with a half-life of hours; it never lowers them.
 *
 * Deciding. Polling at t a community last polled at l finds its unseen posts, which waited in total
 * L(t) = ∫_l^t λ(u)(t-u) du. Poll when L reaches θ/priority: with a constant rate this is the
 * interval √(2θ/(λ·priority)), the square-root law that minimises mean latency for a fixed number
 * of polls, and with an hourly λ it polls often at busy hours and rarely at quiet ones. The square
 * root alone starves the middle: a wall posting twice a day waits hours so that a busy one is
 * polled every few minutes, and those posts make the long tail. So a post that has waited past a
 * soft deadline X costs LATE_WEIGHT times more for every further minute: the cost is
 * L(t) + β·L(t - X), where L(t - X) is exactly the waiting beyond X. X is DEADLINE_FACTOR of round
 * robin's interval at the same budget, the wait every post would see without us. θ is solved by
 * bisection so that the expected polls of the next 24 hours fill the planned budget and, hour by
 * hour, fit what the rolling window will have room for.
 *
 * The bound, and its trade-off. Rates are estimates, and a wall that has been silent for weeks is
 * exactly the one whose post matters when it comes. So every wall has a floor, an interval it is
 * never left longer than (set_floors()): its watch entry's max_interval, else BOUND_FACTOR × round
 * robin's interval / √priority, at most the global max_interval. Floors cost at most FLOOR_SHARE
 * of the budget (stretched alike when priorities ask for more), and they cost most where the
 * square-root law would poll least: against the same scheduler without them (bench-schedsim, the
 * seven families of the time, cold start), the mean stays, p95 gives up about 0.02 of round
 * robin's, and the worst wait falls from about 4× round robin's interval (max_interval, 6 h) to
 * 1.8×. The plan fills the 24 h window up to its paging reserve, so a floor can come due when
 * the window has nothing left until calls age out of it: a wall at its floor may then take the
 * reserve (at_floor(), available_for()), unless the floors are stretched and every wall is at
 * its floor. Without it such a wall waited for the next call the window freed, up to 1.97× round
 * robin's interval on a first start (every wall polled in the first minute, the quiet ones
 * reaching their floors together); with it no wait past 1.82× was seen.
 *
 * Postponed posts. Editors who write ahead let VK publish from the postponed queue at a round
 * time, and a post comes seconds after its minute. Each wall counts its posts that came within a
 * minute after each quarter of the hour; a quarter that holds a quarter of its posts (and at least
 * three) is one of its slots, and a poll that would fall within half an interval of one is moved
 * to just after it (snap_to_slot()): the posts set for it are found at once rather than half an
 * interval late, for the same number of polls. Posts by hand come a minute after a quarter by
 * chance one time in fifteen, so walls without a queue are left alone.
 *
 * What it can win. Only what the walls' differences leave: where a few walls post most of the
 * posts (a district administration dozens a day, its schools weekly) it halves round robin's mean
 * wait, but where walls post alike (a region's settlements reposting the same campaign) even
 * knowing every wall's exact rate leaves 0.8× of it (bench/schedsim-bound.py), and learning the
 * hours besides wins a little more. A cold start costs its first day: a wall nothing is known of
 * is found posting only by polling it; from the second day on it is about as good as warm. A
 * first start on walls that have posted before is not cold: each wall's first page (its last
 * posts, observed as history) gives its level and hours at once, about as well as a week of
 * watching.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "log.h"
#include "scheduler.h"

#define H                          SCHEDULER_HOURS
#define REFIT_USEC                 (10 * USEC_PER_MINUTE) /* θ and pooled model are refitted this often */
#define PRIOR_RATE                 (2.0 / 24) /* posts an hour of a community nothing is known of */
#define PRIOR_PEAK_HOUR            13.0 /* the prior diurnal shape: a hump at this local hour, */
#define PRIOR_PEAK_WIDTH           3.5  /* this wide (σ, hours), */
#define PRIOR_NIGHT                0.25 /* above a floor of this much of its height */
#define PRIOR_RATE_HOURS           24.0 /* pooled mean rate: pseudo-exposure in community-hours */
#define PRIOR_SHAPE_HOURS          48.0 /* pooled diurnal shape: pseudo-exposure per hour bin */
#define LEVEL_ALPHA                0.5  /* a community's level: pseudo-posts at the pooled mean */
#define LEVEL_ALPHA_MIN            0.02 /* (fitted between these once enough walls were watched) */
#define LEVEL_ALPHA_MAX            50.0
#define DISPERSION_MIN_COMMUNITIES 10
#define MIX_SHAPES                 4 /* rhythms shared by walls (fit_mixture()) */
#define MIX_ITERATIONS             2 /* EM steps at each refit, from the last refit's shapes */
#define MIX_ITERATIONS_FIRST       10
#define MIX_PRIOR_POSTS            5.0  /* pseudo-posts an hour keeping a shape near where it was */
#define MIX_MIN_SHAPE              0.05 /* no hour is thought more than 20× quieter than the mean */
#define SHAPE_KAPPA                2.0  /* a community's own rhythm: pseudo-posts per hour bin */
#define PACE_HOURS                 0.5 /* until each hour of the day was watched this long a wall, */
#define PACE_SLACK                 1.25 /* no hour spends more than this much of its even share */
#define BUDGET_FILL                0.98 /* plan a little under the cap: estimates are estimates */
#define SEC_PER_HOUR               3600.0
/* The soft deadline: X as a fraction of round robin's interval, and β, what a minute past X costs
 * on top of the minute itself. β = 0 would be the pure square-root law, which minimises the mean
 * alone; this gives up a little of the mean for a much shorter tail (bench-schedsim, seed 1: mean
 * 0.36× → 0.40× of round robin's, p95 0.63× → 0.55×): a resident minds the post found hours late
 * more than the one found a minute sooner. */
#define DEADLINE_FACTOR 0.3
#define LATE_WEIGHT     10.0
/* The bound: a wall of priority p waits at most BOUND_FACTOR × round robin's interval / √p (or
 * its watch's own max_interval). Polling every wall this often costs at most 1/BOUND_FACTOR of the
 * budget, and only for the walls that post too rarely to be polled more often anyway. */
#define BOUND_FACTOR 1.75
#define FLOOR_SHARE  0.6
/* The short-term level (burst_level()): recent posts and the posts the long-term rates expected
 * of the same hours, both decayed with this half-life, tell whether a wall is bursting (a storm, a
 * quiet wall's busy day); the factor it gives its rates fades with the same half-life into the
 * future. A quiet wall that turns busy is followed within two or three of its posts, and a burst's
 * next posts are looked for sooner. Only upwards: fewer posts than expected over a few hours is
 * mostly chance, and a quiet weekend or spell is the long-term rates' to learn (allowing it cost
 * 8 % of the mean on quiet days, bench-schedsim lognormal). */
#define BURST_HALF_LIFE_H 3.0
#define BURST_SHARE       0.02
#define BURST_MEAN        20.0
#define BURST_MAX         200.0
/* Postponed posts (snap_to_slot()): the quarters of the hour (SLOTS of SLOT_SEC), a post counting
 * for one when it came within SLOT_LATE_SEC after it; a slot holds SLOT_SHARE of a wall's posts
 * (shrunk towards chance by SLOT_PRIOR pseudo-posts) and at least SLOT_MIN_POSTS; a poll within
 * SLOT_REACH of its interval from one is moved to SLOT_DELAY_SEC after it. */
#define SLOTS          4
#define SLOT_SEC       900
#define SLOT_LATE_SEC  60
#define SLOT_DELAY_SEC 40
#define SLOT_SHARE     0.25
#define SLOT_PRIOR     2.0
#define SLOT_MIN_POSTS 3.0
#define SLOT_REACH     0.5

struct community {
        int64_t owner_id;
        unsigned priority;
        bool fixed;                 /* rates set from outside (oracle): not learnt */
        uint64_t max_interval_usec; /* its watch's own; 0: the bound */
        double floor_h;             /* its longest interval now (hours) */
        uint64_t last_poll;         /* 0: never polled */
        uint64_t complete_until;    /* posts are known up to here; 0: never observed */
        uint64_t decayed_at;
        double jitter_u;        /* this interval's draw in [-1, 1] */
        double n[H], e[H];      /* decayed posts and hours watched, by local hour */
        double rate[H];         /* estimated posts an hour */
        float resp[MIX_SHAPES]; /* how likely each shared rhythm is its own */
        double burst_n;         /* recent posts, decayed with BURST_HALF_LIFE_H */
        double burst_x;         /* and what rate[] expected of the same hours, decayed alike */
        uint64_t burst_at;      /* when both were last decayed: complete_until */
        double burst;           /* the short-term factor on rate[] at burst_at */
        double burst_now;       /* and as it was when θ was last solved */
        double slot[SLOTS + 1]; /* decayed posts just after each quarter of the hour, and all */
        uint64_t due;           /* next poll; 0: now */
};

struct scheduler {
        struct scheduler_params p;
        struct daily_budget budget;
        struct community *c; /* sorted by owner_id */
        size_t n, allocated;
        double gn[H], ge[H]; /* pooled posts and community-hours, decayed */
        uint64_t g_decayed_at;
        double prior_shape[H];     /* what shape[] is before anything is known */
        double shape[H];           /* pooled diurnal shape, mean 1 */
        double mix[MIX_SHAPES][H]; /* the rhythms walls share, each of mean 1 */
        double mix_weight[MIX_SHAPES];
        bool mix_fitted;    /* fit_mixture() ran since mix_init() */
        double mean_rate;   /* pooled posts an hour of one community */
        double level_alpha; /* how alike communities' levels are: pseudo-posts at mean_rate */
        double theta;       /* waiting cost per priority unit; INFINITY: max_interval */
        double deadline_h;  /* X: a post waiting longer costs LATE_WEIGHT more a minute */
        bool stretched;     /* the floors do not fit the budget: every wall at its floor */
        uint64_t fitted_at; /* 0: refit at the next chance */
        uint64_t rng;
};

void scheduler_params_default(struct scheduler_params *ret)
{
        *ret = (struct scheduler_params){
                .daily_budget = 5000,
                .reserve = 100,
                .min_interval_usec = 2 * USEC_PER_MINUTE,
                .max_interval_usec = 6 * USEC_PER_HOUR,
                .jitter = 0.1,
                .utc_offset_sec = 3 * 3600,
                .half_life_days = 14,
                .seed = 0,
        };
}

/* The prior diurnal shape (mean 1): people post by day. A broad hump around 13:00 local time,
 * at night a quarter of its height; the pooled data replaces it within a day of watching. */
static void prior_shape_init(double ret[H])
{
        double sum = 0;
        for (size_t h = 0; h < H; h++) {
                double x = (double)h + 0.5 - PRIOR_PEAK_HOUR;
                ret[h] = PRIOR_NIGHT + exp(-x * x / (2 * PRIOR_PEAK_WIDTH * PRIOR_PEAK_WIDTH));
                sum += ret[h];
        }
        for (size_t h = 0; h < H; h++)
                ret[h] *= H / sum;
}

static uint64_t splitmix64(uint64_t *state)
{
        uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

/* Uniform in [-1, 1]. */
static double draw_jitter(struct scheduler *s)
{
        return (double)(splitmix64(&s->rng) >> 11) / (double)(UINT64_C(1) << 53) * 2 - 1;
}

static void mix_init(struct scheduler *s);

int scheduler_new(const struct scheduler_params *p, struct scheduler **ret)
{
        if (!p || !ret || p->daily_budget == 0 || p->reserve >= p->daily_budget ||
            p->min_interval_usec == 0 || p->max_interval_usec < p->min_interval_usec ||
            !(p->jitter >= 0 && p->jitter <= 0.5) || !(p->half_life_days > 0) ||
            p->utc_offset_sec < -14 * 3600 || p->utc_offset_sec > 14 * 3600)
                return -EINVAL;

        struct scheduler *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->p = *p;
        s->rng = p->seed;
        s->deadline_h = DEADLINE_FACTOR * (double)p->max_interval_usec / USEC_PER_HOUR;
        (void)daily_budget_init(&s->budget, p->daily_budget, p->reserve);
        prior_shape_init(s->prior_shape);
        memcpy(s->shape, s->prior_shape, sizeof(s->shape));
        mix_init(s);
        s->mean_rate = PRIOR_RATE;
        s->level_alpha = LEVEL_ALPHA;
        *ret = s;
        return 0;
}

struct scheduler *scheduler_free(struct scheduler *s)
{
        if (!s)
                return NULL;
        free(s->c);
        free(s);
        return NULL;
}

size_t scheduler_size(const struct scheduler *s)
{
        return s->n;
}

static struct community *find(struct scheduler *s, int64_t owner_id, size_t *ret_pos)
{
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (s->c[mid].owner_id < owner_id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (ret_pos)
                *ret_pos = lo;
        return lo < s->n && s->c[lo].owner_id == owner_id ? &s->c[lo] : NULL;
}

/* ---- time ---------------------------------------------------------------------------------- */

static double tau_hours(const struct scheduler *s)
{
        return s->p.half_life_days * 24 / M_LN2;
}

/* Local seconds since the epoch, as a double (post dates and poll times alike). */
static double local_sec(const struct scheduler *s, double unix_sec)
{
        return unix_sec + s->p.utc_offset_sec;
}

static size_t hour_of_local(double lsec)
{
        double d = fmod(lsec, 86400);
        if (d < 0)
                d += 86400;
        size_t h = (size_t)(d / SEC_PER_HOUR);
        return h < H ? h : H - 1;
}

static double usec_to_sec(uint64_t usec)
{
        return (double)usec / USEC_PER_SEC;
}

/* Adds the hours of [a, b] (unix seconds) to e[] by local hour, each scaled by w. */
static void add_exposure(const struct scheduler *s, double *e, double a, double b, double w)
{
        if (!(b > a))
                return;
        double la = local_sec(s, a), lb = local_sec(s, b);
        double days = floor((lb - la) / 86400);
        if (days > 0) {
                for (size_t h = 0; h < H; h++)
                        e[h] += days * w;
                la += days * 86400;
        }
        while (la < lb) {
                double next = (floor(la / SEC_PER_HOUR) + 1) * SEC_PER_HOUR;
                double end = next < lb ? next : lb;
                e[hour_of_local(la)] += (end - la) / SEC_PER_HOUR * w;
                la = end;
        }
}

/* Decays n[] and e[] from *at to now; returns the factor, for what decays with them. */
static double decay(const struct scheduler *s, double *n, double *e, uint64_t *at, uint64_t now)
{
        if (*at == 0 || now <= *at) {
                if (*at == 0)
                        *at = now;
                return 1;
        }
        double f = exp(-usec_to_sec(now - *at) / SEC_PER_HOUR / tau_hours(s));
        for (size_t h = 0; h < H; h++) {
                n[h] *= f;
                e[h] *= f;
        }
        *at = now;
        return f;
}

/* ---- model --------------------------------------------------------------------------------- */

/* The pooled rate of each local hour, each shrunk by PRIOR_SHAPE_HOURS of pseudo-exposure towards
 * the prior shape scaled to the hours watched so far (itself shrunk towards PRIOR_RATE); their mean
 * is the pooled mean rate, and their ratio to it the diurnal shape. An hour not yet watched is
 * expected to be as much busier or quieter than those watched as the prior shape says, so a start
 * at night does not make the whole day look like a night. */
static void fit_pooled(struct scheduler *s)
{
        double tn = 0, te = 0;
        for (size_t h = 0; h < H; h++) {
                tn += s->gn[h];
                te += s->ge[h] * s->prior_shape[h];
        }
        double level = (tn + PRIOR_RATE_HOURS * PRIOR_RATE) / (te + PRIOR_RATE_HOURS);

        double g[H], sum = 0;
        for (size_t h = 0; h < H; h++) {
                g[h] = (s->gn[h] + PRIOR_SHAPE_HOURS * level * s->prior_shape[h]) /
                       (s->ge[h] + PRIOR_SHAPE_HOURS);
                sum += g[h];
        }
        s->mean_rate = sum / H;
        for (size_t h = 0; h < H; h++)
                s->shape[h] = sum > 0 ? g[h] * H / sum : 1;
}

/* How much communities' levels differ, from their posts and hours watched (the method of moments
 * for a gamma prior): the level of each has a gamma prior of shape α and mean r̄, and α = r̄²/σ²
 * where σ² is the variance between communities' rates beyond the Poisson noise. Government walls
 * differ by orders of magnitude (a school weekly, a district dozens a day), so α is small and a
 * community's own few posts soon outweigh the pooled mean; for walls all alike it is large. */
/* A learning community's posts and hours watched (weighted by the pooled shape); false for one
 * whose rates are fixed or that was watched less than an hour's worth. */
static bool dispersion_totals(const struct scheduler *s, const struct community *c, double *ret_n,
                              double *ret_e)
{
        double n = 0, e = 0;
        if (c->fixed)
                return false;
        for (size_t h = 0; h < H; h++) {
                n += c->n[h];
                e += c->e[h] * s->shape[h];
        }
        *ret_n = n;
        *ret_e = e;
        return e >= 1;
}

static void fit_dispersion(struct scheduler *s)
{
        double sn = 0, se = 0, se2 = 0, dev = 0, n, e;
        size_t k = 0;

        for (size_t i = 0; i < s->n; i++)
                if (dispersion_totals(s, &s->c[i], &n, &e)) {
                        sn += n;
                        se += e;
                        se2 += e * e;
                        k++;
                }
        if (k < DISPERSION_MIN_COMMUNITIES || !(sn > 0)) {
                s->level_alpha = LEVEL_ALPHA;
                return;
        }
        double r = sn / se;
        for (size_t i = 0; i < s->n; i++)
                if (dispersion_totals(s, &s->c[i], &n, &e))
                        dev += (n - r * e) * (n - r * e) - r * e;
        double var = dev / se2;
        double a = var > 0 ? r * r / var : LEVEL_ALPHA_MAX;
        s->level_alpha = a < LEVEL_ALPHA_MIN   ? LEVEL_ALPHA_MIN
                         : a > LEVEL_ALPHA_MAX ? LEVEL_ALPHA_MAX
                                               : a;
}

/* The daily rhythms walls share. Walls do not all keep office hours (a transport operator posts at
 * dawn, a culture house in the evening, a duty service at night), and a wall posting a few times a
 * day shows its own rhythm only after weeks. So the pooled rhythm is a mixture of MIX_SHAPES
 * shapes, fitted by EM over every wall's posts and hours watched: each wall's prior shape is the
 * mixture weighted by how well each shape explains its posts so far, and a few posts at dawn are
 * enough to take the dawn shape. */
static void mix_init(struct scheduler *s)
{
        /* start apart: the prior hump, one 5 h earlier, one 6 h later, and flat */
        static const int shift[] = {0, -5, 6};
        for (size_t k = 0; k < MIX_SHAPES; k++) {
                for (size_t h = 0; h < H; h++) {
                        size_t from = (h + H - (size_t)(shift[k % 3] + (int)H) % H) % H;
                        s->mix[k][h] = k % 4 == 3 ? 1 : s->prior_shape[from];
                }
                s->mix_weight[k] = 1.0 / MIX_SHAPES;
        }
}

/* c's responsibilities: the posterior probability of each shape given its posts by hour (with its
 * level profiled out: Σ n_h log G_h - N log Σ e_h G_h). */
static void mix_responsibility(const struct scheduler *s, struct community *c)
{
        double tn = 0, ll[MIX_SHAPES], best = -INFINITY;
        for (size_t h = 0; h < H; h++)
                tn += c->n[h];
        for (size_t k = 0; k < MIX_SHAPES; k++) {
                double te = 0, l = 0;
                for (size_t h = 0; h < H; h++) {
                        te += c->e[h] * s->mix[k][h];
                        if (c->n[h] > 0)
                                l += c->n[h] * log(s->mix[k][h]);
                }
                ll[k] = log(s->mix_weight[k]) + (tn > 0 && te > 0 ? l - tn * log(te) : 0);
                best = ll[k] > best ? ll[k] : best;
        }
        double sum = 0;
        for (size_t k = 0; k < MIX_SHAPES; k++)
                sum += ll[k] = exp(ll[k] - best);
        for (size_t k = 0; k < MIX_SHAPES; k++)
                c->resp[k] = (float)(ll[k] / sum);
}

/* EM steps for the shared rhythms, each wall's level profiled out by the shape it is weighed
 * against; MIX_PRIOR_POSTS pseudo-posts an hour keep a shape nobody takes near where it was. */
static void fit_mixture(struct scheduler *s)
{
        /* the first fit of a process starts from mix_init()'s shapes: what a restart knew of the
         * walls' posts is in their counts, and a few more steps recover the shapes from them */
        unsigned iterations = s->mix_fitted ? MIX_ITERATIONS : MIX_ITERATIONS_FIRST;
        s->mix_fitted = true;
        for (unsigned it = 0; it < iterations; it++) {
                double num[MIX_SHAPES][H] = {}, den[MIX_SHAPES][H] = {}, w[MIX_SHAPES] = {};
                for (size_t i = 0; i < s->n; i++) {
                        struct community *c = &s->c[i];
                        double tn = 0;
                        if (c->fixed)
                                continue;
                        mix_responsibility(s, c);
                        for (size_t h = 0; h < H; h++)
                                tn += c->n[h];
                        for (size_t k = 0; k < MIX_SHAPES; k++) {
                                double te = 0, r = c->resp[k];
                                w[k] += r;
                                if (tn <= 0 || r < 1e-6)
                                        continue;
                                for (size_t h = 0; h < H; h++)
                                        te += c->e[h] * s->mix[k][h];
                                double level = te > 0 ? tn / te : 0;
                                for (size_t h = 0; h < H; h++) {
                                        num[k][h] += r * c->n[h];
                                        den[k][h] += r * level * c->e[h];
                                }
                        }
                }
                double total = 0;
                for (size_t k = 0; k < MIX_SHAPES; k++)
                        total += w[k] + 1;
                for (size_t k = 0; k < MIX_SHAPES; k++) {
                        double g[H], sum = 0;
                        for (size_t h = 0; h < H; h++) {
                                g[h] = (num[k][h] + MIX_PRIOR_POSTS * s->mix[k][h]) /
                                       (den[k][h] + MIX_PRIOR_POSTS);
                                sum += g[h];
                        }
                        for (size_t h = 0; h < H; h++)
                                s->mix[k][h] = sum > 0 ? g[h] * H / sum : 1;
                        s->mix_weight[k] = (w[k] + 1) / total;
                }
        }
        for (size_t i = 0; i < s->n; i++)
                if (!s->c[i].fixed)
                        mix_responsibility(s, &s->c[i]);
}

/* c's prior shape: the mixture by its responsibilities, floored so that no hour is ever thought
 * silent. */
static void community_shape(const struct scheduler *s, const struct community *c, double ret[H])
{
        for (size_t h = 0; h < H; h++) {
                double g = 0;
                for (size_t k = 0; k < MIX_SHAPES; k++)
                        g += c->resp[k] * s->mix[k][h];
                ret[h] = g > MIX_MIN_SHAPE ? g : MIX_MIN_SHAPE;
        }
}

static void fit_community(const struct scheduler *s, struct community *c)
{
        if (c->fixed)
                return;
        double tn = 0, te = 0, shape[H];
        community_shape(s, c, shape);
        for (size_t h = 0; h < H; h++) {
                tn += c->n[h];
                te += c->e[h] * shape[h];
        }
        double level = (tn + s->level_alpha) / (te + s->level_alpha / s->mean_rate);
        for (size_t h = 0; h < H; h++) {
                size_t prev = (h + H - 1) % H, next = (h + 1) % H;
                double n = 0.25 * c->n[prev] + 0.5 * c->n[h] + 0.25 * c->n[next];
                double e = 0.25 * c->e[prev] + 0.5 * c->e[h] + 0.25 * c->e[next];
                double prior = level * shape[h];
                c->rate[h] = (n + SHAPE_KAPPA) / (e + SHAPE_KAPPA / prior);
        }
}

static double burst_tau_h(void)
{
        return BURST_HALF_LIFE_H / M_LN2;
}

/* The short-term factor at unix time t_sec: c->burst at burst_at, fading towards 1. */
static double burst_factor(const struct community *c, double t_sec)
{
        if (c->burst == 1 || c->burst_at == 0)
                return 1;
        double dt = (t_sec - usec_to_sec(c->burst_at)) / SEC_PER_HOUR;
        if (dt <= 0)
                return c->burst;
        return 1 + (c->burst - 1) * exp(-dt / burst_tau_h());
}

/* L: the total waiting (post-hours) of the posts of the dur hours after last_sec, at their end. */
static double waiting(const struct scheduler *s, const struct community *c, double last_sec,
                      double dur)
{
        double lt = local_sec(s, last_sec), elapsed = 0, posts = 0, total = 0;
        while (elapsed < dur) {
                double boundary = (floor(lt / SEC_PER_HOUR) + 1) * SEC_PER_HOUR;
                double seg = (boundary - lt) / SEC_PER_HOUR;
                if (seg > dur - elapsed)
                        seg = dur - elapsed;
                double mid = last_sec + (elapsed + seg / 2) * SEC_PER_HOUR;
                double lambda = c->rate[hour_of_local(lt)] * burst_factor(c, mid);
                total += posts * seg + lambda * seg * seg / 2;
                posts += lambda * seg;
                elapsed += seg;
                lt = boundary;
        }
        return total;
}

/* The cost of polling tau hours after last_sec: L(τ) + β·L(τ - X). */
static double cost(const struct scheduler *s, const struct community *c, double last_sec,
                   double tau)
{
        double v = waiting(s, c, last_sec, tau);
        if (tau > s->deadline_h)
                v += LATE_WEIGHT * waiting(s, c, last_sec, tau - s->deadline_h);
        return v;
}

/* Interval (hours) after which a community polled at last_sec has run up θ/priority of cost, at
 * most its floor. The cost grows with τ, so bisection finds it (to a second). */
static double threshold_interval(const struct scheduler *s, const struct community *c,
                                 double last_sec)
{
        double limit = c->floor_h;
        if (isinf(s->theta))
                return limit;
        double target = s->theta / c->priority;
        if (cost(s, c, last_sec, limit) < target)
                return limit;
        double lo = 0, hi = limit;
        while (hi - lo > 1 / SEC_PER_HOUR) {
                double mid = (lo + hi) / 2;
                if (cost(s, c, last_sec, mid) >= target)
                        hi = mid;
                else
                        lo = mid;
        }
        return hi;
}

/* The interval of a constant rate λ (posts an hour) for cost target k, in closed form (it runs
 * for every community and hour at every step of solving θ): λτ²/2 = k while τ ≤ X, else
 * λ(τ² + β(τ - X)²)/2 = k, the larger root. */
static double constant_interval(const struct scheduler *s, double lambda, double k)
{
        if (!(lambda > 0))
                return INFINITY;
        double x = s->deadline_h, b = LATE_WEIGHT, q = 2 * k / lambda;
        if (q <= x * x)
                return sqrt(q);
        return (b * x + sqrt((1 + b) * q - b * x * x)) / (1 + b);
}

static uint64_t hours_to_usec(double h)
{
        return (uint64_t)llround(h * USEC_PER_HOUR);
}

/* Whether quarter k of the hour (of unix time: every time zone VK's walls are in keeps the
 * quarters) is one of c's slots. */
static bool is_slot(const struct community *c, size_t k)
{
        double chance = SLOT_LATE_SEC / SEC_PER_HOUR;
        return c->slot[k] >= SLOT_MIN_POSTS &&
               (c->slot[k] + SLOT_PRIOR * chance) / (c->slot[SLOTS] + SLOT_PRIOR) >= SLOT_SHARE;
}

/* due moved to SLOT_DELAY_SEC after the nearest of c's slots within reach of it, and within
 * [lo, hi] (all usec); due itself when there is none. */
static uint64_t snap_to_slot(const struct community *c, uint64_t due, uint64_t reach, uint64_t lo,
                             uint64_t hi)
{
        const uint64_t q = SLOT_SEC * USEC_PER_SEC, delay = SLOT_DELAY_SEC * USEC_PER_SEC;
        uint64_t best = due, best_d = UINT64_MAX;

        /* the quarters from an hour before the one holding due to an hour after it */
        uint64_t first = due / q > SLOTS ? (due / q - SLOTS) * q : 0;
        for (uint64_t g = first; g <= due + SLOTS * q; g += q) {
                uint64_t t = g + delay, d = t > due ? t - due : due - t;
                if (t < lo || t > hi || d > reach || d >= best_d || !is_slot(c, g / q % SLOTS))
                        continue;
                best = t;
                best_d = d;
        }
        return best;
}

static void plan(const struct scheduler *s, struct community *c)
{
        if (c->last_poll == 0) {
                c->due = 0;
                return;
        }
        double tau = threshold_interval(s, c, usec_to_sec(c->last_poll));
        tau *= 1 + s->p.jitter * c->jitter_u;
        uint64_t iv = hours_to_usec(tau);
        uint64_t floor_iv = hours_to_usec(c->floor_h);
        if (iv < s->p.min_interval_usec)
                iv = s->p.min_interval_usec;
        /* Jitter may shorten the longest interval but never stretch it past the promise. */
        if (iv > floor_iv)
                iv = floor_iv;
        c->due = snap_to_slot(c, c->last_poll + iv, iv < floor_iv ? (uint64_t)(iv * SLOT_REACH) : 0,
                              c->last_poll + s->p.min_interval_usec, c->last_poll + floor_iv);
}

/* The calls the plan may make in the next 1..24 hours without running into the rolling window:
 * what is left now plus what ages out by then, less the polls already due. */
struct headroom {
        double hour_frac; /* of the current local hour still ahead */
        size_t hour;      /* current local hour */
        double room[H];   /* room[x]: calls allowed in the next x+1 hours (x+hour_frac, exactly) */
        double fade[H];   /* fade[x]: what is left of a short-term factor in the hour x from now */
};

/* Expected polls in each local hour of the next 24 for a given θ, each community's short-term
 * factor fading over them as it will. */
static void polls_by_hour(const struct scheduler *s, const struct headroom *hr, double theta,
                          double ret[H])
{
        double fmax = (double)USEC_PER_HOUR / s->p.min_interval_usec;
        for (size_t h = 0; h < H; h++)
                ret[h] = 0;
        for (size_t i = 0; i < s->n; i++) {
                const struct community *c = &s->c[i];
                double fmin = 1 / c->floor_h, k = theta / c->priority;
                for (size_t x = 0; x < H; x++) {
                        size_t h = (hr->hour + x) % H;
                        double b = 1 + (c->burst_now - 1) * hr->fade[x];
                        double f = 1 / constant_interval(s, c->rate[h] * b, k);
                        ret[h] += f < fmin ? fmin : f > fmax ? fmax : f;
                }
        }
}

static double planned_per_day(const struct scheduler *s)
{
        return (s->p.daily_budget - s->p.reserve) * BUDGET_FILL;
}

static void headroom_get(struct scheduler *s, uint64_t now, struct headroom *ret)
{
        double lnow = local_sec(s, usec_to_sec(now));
        double into = fmod(lnow, SEC_PER_HOUR);
        if (into < 0)
                into += SEC_PER_HOUR;
        ret->hour = hour_of_local(lnow);
        ret->hour_frac = 1 - into / SEC_PER_HOUR;
        for (size_t x = 0; x < H; x++)
                ret->fade[x] = exp(-((double)x + ret->hour_frac / 2) / burst_tau_h());
        for (size_t i = 0; i < s->n; i++)
                s->c[i].burst_now = burst_factor(&s->c[i], usec_to_sec(now));
        /* the hard cap, not the plan: a little slack so θ does not swing with every poll */
        double cap = s->p.daily_budget - s->p.reserve;
        double used = daily_budget_used(&s->budget, now);
        size_t backlog = 0;
        for (size_t i = 0; i < s->n; i++)
                backlog += s->c[i].due <= now;
        for (size_t x = 0; x < H; x++) {
                uint64_t until = now + (uint64_t)((x + ret->hour_frac) * USEC_PER_HOUR);
                ret->room[x] = cap - used - (double)backlog +
                               daily_budget_freed_by(&s->budget, now, until);
        }
}

/* Whether θ keeps within the daily target and, hour by hour, within the window's room. */
static bool theta_fits(const struct scheduler *s, const struct headroom *hr, double theta)
{
        double per_hour[H], total = 0, cum = 0;
        polls_by_hour(s, hr, theta, per_hour);
        for (size_t h = 0; h < H; h++)
                total += per_hour[h];
        if (total > planned_per_day(s))
                return false;
        for (size_t x = 0; x < H; x++) {
                size_t h = (hr->hour + x) % H;
                /* an hour of the day not yet watched gets no more than its share */
                if (s->ge[h] < PACE_HOURS * (double)s->n &&
                    per_hour[h] > PACE_SLACK * planned_per_day(s) / H)
                        return false;
                cum += per_hour[h] * (x == 0 ? hr->hour_frac : 1);
                if (cum > hr->room[x])
                        return false;
        }
        return true;
}

/* Each wall's floor, its longest interval: its watch's max_interval, else the bound,
 * BOUND_FACTOR × round robin's interval / √priority, or max_interval when that is shorter. When
 * priorities make the bounds cost more than FLOOR_SHARE of the budget, the bounds (not the
 * watches' own max_interval) are stretched alike until they fit. When even that cannot fit
 * the budget, every floor is stretched alike (round robin when they were equal) and true is
 * returned: every wall is then polled at its floor. */
static bool set_floors(struct scheduler *s, double target)
{
        double max_h = (double)s->p.max_interval_usec / USEC_PER_HOUR;
        double min_h = (double)s->p.min_interval_usec / USEC_PER_HOUR;
        double rr_h = s->n * 24 / target, own = 0, bound = 0, bound_max = 0;

        for (size_t i = 0; i < s->n; i++) {
                struct community *c = &s->c[i];
                double f = BOUND_FACTOR * rr_h / sqrt(c->priority);
                if (c->max_interval_usec > 0)
                        f = (double)c->max_interval_usec / USEC_PER_HOUR;
                c->floor_h = f > min_h ? f : min_h;
                if (c->max_interval_usec > 0)
                        own += 24 / c->floor_h;
                else if (c->floor_h < max_h)
                        bound += 24 / c->floor_h;
                else
                        bound_max += 24 / max_h;
        }
        /* stretch the bounds shorter than max_interval so all of them cost FLOOR_SHARE at most */
        double room = FLOOR_SHARE * target - own - bound_max;
        double stretch = bound > 0 && room > 0 && bound > room ? bound / room : 1;
        double needed = own;
        for (size_t i = 0; i < s->n; i++) {
                struct community *c = &s->c[i];
                if (c->max_interval_usec == 0) {
                        c->floor_h *= stretch;
                        if (c->floor_h > max_h)
                                c->floor_h = max_h;
                        needed += 24 / c->floor_h;
                }
        }
        if (needed <= target)
                return false;
        for (size_t i = 0; i < s->n; i++)
                s->c[i].floor_h *= needed / target;
        return true;
}

static void solve_theta(struct scheduler *s, uint64_t now)
{
        double target = planned_per_day(s);
        struct headroom hr;

        if (s->n == 0) {
                s->theta = INFINITY;
                return;
        }
        /* Not even the floors fit: every wall at its floor, as often as the budget allows. */
        s->stretched = set_floors(s, target);
        if (s->stretched) {
                s->theta = INFINITY;
                return;
        }
        /* D: round robin's interval at this budget, the wait every post would see without us */
        s->deadline_h = DEADLINE_FACTOR * s->n * 24 / target;
        headroom_get(s, now, &hr);
        /* The smallest θ (most polls) that fits; θ → ∞ is every community at max_interval.
         * Start from the last θ: it rarely moves by more than a factor of two. */
        double start = isfinite(s->theta) && s->theta > 0 ? s->theta : 1;
        double lo = start / 2, hi = start;
        while (theta_fits(s, &hr, lo) && lo > 1e-12) {
                hi = lo;
                lo /= 4;
        }
        while (!theta_fits(s, &hr, hi)) {
                if (hi > 1e12) {
                        s->theta = INFINITY;
                        return;
                }
                lo = hi;
                hi *= 4;
        }
        for (unsigned it = 0; it < 14; it++) { /* a bracket of 4× to within 0.02 % */
                double mid = sqrt(lo * hi);
                if (theta_fits(s, &hr, mid))
                        hi = mid;
                else
                        lo = mid;
        }
        s->theta = hi;
}

static void refit(struct scheduler *s, uint64_t now)
{
        if (s->fitted_at != 0 && now >= s->fitted_at && now - s->fitted_at < REFIT_USEC)
                return;
        fit_pooled(s);
        fit_mixture(s);
        fit_dispersion(s);
        for (size_t i = 0; i < s->n; i++)
                fit_community(s, &s->c[i]);
        /* plan with the old θ first: the backlog counted by solve_theta is what is due now */
        for (size_t i = 0; i < s->n; i++)
                plan(s, &s->c[i]);
        solve_theta(s, now);
        for (size_t i = 0; i < s->n; i++)
                plan(s, &s->c[i]);
        s->fitted_at = now ? now : 1;
        log_debug("scheduler: refit %zu communities, θ=%g, %.0f polls a day planned%s, used %u",
                  s->n, s->theta, planned_per_day(s), s->stretched ? " (floors stretched)" : "",
                  s->budget.used);
}

/* ---- watch list ---------------------------------------------------------------------------- */

int scheduler_add(struct scheduler *s, int64_t owner_id, unsigned priority)
{
        size_t pos;
        if (owner_id == 0 || priority < 1 || priority > SCHEDULER_PRIORITY_MAX)
                return -EINVAL;
        struct community *c = find(s, owner_id, &pos);
        if (c) {
                c->priority = priority;
                s->fitted_at = 0;
                return 0;
        }
        if (!greedy_realloc((void **)&s->c, &s->allocated, s->n + 1, sizeof(*s->c)))
                return -ENOMEM;
        memmove(&s->c[pos + 1], &s->c[pos], (s->n - pos) * sizeof(*s->c));
        s->c[pos] = (struct community){
                .owner_id = owner_id,
                .priority = priority,
                .floor_h = (double)s->p.max_interval_usec / USEC_PER_HOUR,
                .burst = 1,
        };
        for (size_t k = 0; k < MIX_SHAPES; k++)
                s->c[pos].resp[k] = (float)s->mix_weight[k];
        fit_community(s, &s->c[pos]);
        s->n++;
        s->fitted_at = 0;
        return 0;
}

int scheduler_set_max_interval(struct scheduler *s, int64_t owner_id, uint64_t max_interval_usec)
{
        struct community *c = find(s, owner_id, NULL);
        if (!c)
                return -ENOENT;
        if (max_interval_usec != 0 && max_interval_usec < s->p.min_interval_usec)
                return -EINVAL;
        c->max_interval_usec = max_interval_usec;
        s->fitted_at = 0;
        return 0;
}

int scheduler_remove(struct scheduler *s, int64_t owner_id)
{
        size_t pos;
        if (!find(s, owner_id, &pos))
                return -ENOENT;
        memmove(&s->c[pos], &s->c[pos + 1], (s->n - pos - 1) * sizeof(*s->c));
        s->n--;
        s->fitted_at = 0;
        return 0;
}

/* ---- polling ------------------------------------------------------------------------------- */

#define URGENT_FLOOR 1e6 /* above any ratio of waited to planned interval */

struct candidate {
        double urgency;
        int64_t owner_id;
        bool floor;
};

static int candidate_cmp(const void *a, const void *b)
{
        const struct candidate *x = a, *y = b;
        if (x->urgency != y->urgency)
                return x->urgency > y->urgency ? -1 : 1;
        return x->owner_id < y->owner_id ? -1 : x->owner_id > y->owner_id;
}

/* Whether c has waited its floor: its poll is the bound's, and may take the reserve. */
static bool at_floor(const struct community *c, uint64_t now_usec)
{
        return c->last_poll != 0 && now_usec - c->last_poll >= hours_to_usec(c->floor_h);
}

/* The calls the window has for c now: a wall at its floor may take the paging reserve too (so
 * that a window the plan has filled never holds the bound up), unless the floors are stretched
 * and every wall is at its floor. */
static size_t available_for(struct scheduler *s, bool floor, uint64_t now_usec)
{
        return daily_budget_available(&s->budget, now_usec, floor && !s->stretched);
}

int scheduler_due(struct scheduler *s, uint64_t now_usec, int64_t *ret_ids, size_t max,
                  size_t *ret_n)
{
        refit(s, now_usec);
        size_t avail = available_for(s, false, now_usec);
        size_t avail_floor = available_for(s, true, now_usec);
        if (max > avail_floor)
                max = avail_floor;

        _cleanup_free_ struct candidate *cand = NULL;
        size_t n_cand = 0;
        if (max > 0) {
                cand = calloc(s->n ? s->n : 1, sizeof(*cand));
                if (!cand)
                        return -ENOMEM;
        }
        for (size_t i = 0; max > 0 && i < s->n; i++) {
                const struct community *c = &s->c[i];
                if (c->due > now_usec)
                        continue;
                /* Waited intervals: a budget-starved queue is served fairly, new ones first, then
                 * the ones at their floor (the bound), then the rest. */
                double waited = (double)(now_usec - c->last_poll);
                bool floor = at_floor(c, now_usec);
                double urgency =
                        c->last_poll == 0 ? INFINITY
                        : floor           ? URGENT_FLOOR + waited / (c->floor_h * USEC_PER_HOUR)
                                : waited / (double)(c->due > c->last_poll ? c->due - c->last_poll
                                                                          : 1);
                cand[n_cand++] = (struct candidate){urgency, c->owner_id, floor};
        }
        if (n_cand > 1)
                qsort(cand, n_cand, sizeof(*cand), candidate_cmp);
        /* the walls at their floor come right after the new ones: the reserve is theirs alone */
        size_t n = 0;
        for (size_t i = 0; i < n_cand && n < max; i++)
                if (n < (cand[i].floor ? avail_floor : avail))
                        ret_ids[n++] = cand[i].owner_id;
        *ret_n = n;
        return 0;
}

uint64_t scheduler_next_wakeup(struct scheduler *s, uint64_t now_usec)
{
        if (s->n == 0)
                return UINT64_MAX;
        refit(s, now_usec);
        /* the next due, and the next at its floor (which may take the reserve) */
        uint64_t m = UINT64_MAX, m_floor = UINT64_MAX;
        for (size_t i = 0; i < s->n; i++) {
                const struct community *c = &s->c[i];
                if (c->due < m)
                        m = c->due;
                if (c->last_poll != 0) {
                        uint64_t f = c->last_poll + hours_to_usec(c->floor_h);
                        f = f > c->due ? f : c->due;
                        m_floor = f < m_floor ? f : m_floor;
                }
        }
        if (m < now_usec)
                m = now_usec;
        if (m_floor < now_usec)
                m_floor = now_usec;
        uint64_t free_at = daily_budget_next_free(&s->budget, now_usec, 1, false);
        uint64_t free_floor =
                s->stretched ? free_at : daily_budget_next_free(&s->budget, now_usec, 1, true);
        uint64_t a = m > free_at ? m : free_at, b = m_floor > free_floor ? m_floor : free_floor;
        return a < b ? a : b;
}

int scheduler_record_poll(struct scheduler *s, int64_t owner_id, uint64_t now_usec)
{
        daily_budget_force(&s->budget, now_usec, 1);
        struct community *c = find(s, owner_id, NULL);
        if (!c)
                return -ENOENT;
        c->last_poll = now_usec ? now_usec : 1;
        c->jitter_u = draw_jitter(s);
        plan(s, c);
        return 0;
}

int scheduler_record_extra(struct scheduler *s, uint64_t now_usec, unsigned n)
{
        return daily_budget_spend(&s->budget, now_usec, n, true);
}

void scheduler_quota_exhausted(struct scheduler *s, uint64_t now_usec)
{
        daily_budget_exhausted(&s->budget, now_usec);
}

struct daily_budget *scheduler_budget(struct scheduler *s)
{
        return &s->budget;
}

/* The short-term factor at burst_at: how much busier the wall is now than its rates say, from its
 * recent posts n against the x its rates expected of the same hours (both decayed). Two states: as
 * usual (factor 1), or, a BURST_SHARE of the time, bursting with a factor b ~ exponential of mean
 * BURST_MEAN. The factor is the posterior mean over both: 1 · (1 - w) + w · (n + 1) / (x + 1/M),
 * w the posterior probability of a burst. A quiet wall's two posts in an afternoon say "burst"
 * (w ≈ 1, the factor near n/x); a busy wall's few posts more than expected say nothing. */
static double burst_level(const struct community *c)
{
        double n = c->burst_n, x = c->burst_x, m = BURST_MEAN;
        /* log P(n | burst) / P(n | usual): negative binomial over Poisson, Γ(n + 1) cancelled */
        double log_lr = lgamma(n + 1) - log1p(m * x) + n * (log(m) - log1p(m * x)) + x;
        double odds = BURST_SHARE / (1 - BURST_SHARE) * exp(log_lr > 700 ? 700 : log_lr);
        double w = odds / (1 + odds);
        double b = (1 - w) + w * (n + 1) / (x + 1 / m);
        return b > BURST_MAX ? BURST_MAX : b < 1 ? 1 : b;
}

/* What c's rates expected of [a, b] (unix seconds), each moment weighted by how much of it is left
 * at b with the short-term half-life. */
static double expected_recent(const struct scheduler *s, const struct community *c, double a,
                              double b)
{
        double tau = burst_tau_h() * SEC_PER_HOUR, total = 0;
        if (a < b - 10 * tau)
                a = b - 10 * tau; /* what is older weighs less than e^-10 */
        while (a < b) {
                double la = local_sec(s, a);
                double end = a + ((floor(la / SEC_PER_HOUR) + 1) * SEC_PER_HOUR - la);
                if (end > b)
                        end = b;
                total += c->rate[hour_of_local(la)] / SEC_PER_HOUR * tau *
                         (exp(-(b - end) / tau) - exp(-(b - a) / tau));
                a = end;
        }
        return total;
}

/* The short-term level after a poll at poll (unix seconds) that completed [start, poll] and found
 * the posts of dates[] there: how much busier (or quieter) the wall is now than its rates say. */
static void observe_burst(const struct scheduler *s, struct community *c, double start, double poll,
                          const int64_t *dates, size_t n_dates)
{
        double tau = burst_tau_h() * SEC_PER_HOUR;
        if (c->burst_at != 0 && poll > usec_to_sec(c->burst_at)) {
                double f = exp(-(poll - usec_to_sec(c->burst_at)) / tau);
                c->burst_n *= f;
                c->burst_x *= f;
        }
        c->burst_x += expected_recent(s, c, start, poll);
        for (size_t i = 0; i < n_dates; i++) {
                double age = poll - (double)dates[i];
                c->burst_n += age > 0 ? exp(-age / tau) : 1;
        }
        c->burst_at = (uint64_t)(poll * USEC_PER_SEC);
        c->burst = burst_level(c);
}

int scheduler_observe(struct scheduler *s, int64_t owner_id, uint64_t poll_usec,
                      const int64_t *post_dates, size_t n_dates, int64_t history_since)
{
        struct community *c = find(s, owner_id, NULL);
        if (!c)
                return -ENOENT;
        double poll = usec_to_sec(poll_usec), tau_sec = tau_hours(s) * SEC_PER_HOUR;
        bool history = c->complete_until == 0 && history_since > 0;
        if (history && (double)history_since > poll)
                return -EINVAL;

        double start;
        if (c->complete_until != 0)
                start = usec_to_sec(c->complete_until);
        else if (history)
                start = (double)history_since;
        else
                start = poll; /* first sight without history: learning starts now */

        /* the short-term level first: what the rates expected before they learn of these posts
         * (a first page is history, the long-term rates' lesson, not a burst) */
        if (!history && !c->fixed && start < poll)
                observe_burst(s, c, start, poll, post_dates, n_dates);
        double f = decay(s, c->n, c->e, &c->decayed_at, poll_usec);
        for (size_t k = 0; k <= SLOTS; k++)
                c->slot[k] *= f;
        decay(s, s->gn, s->ge, &s->g_decayed_at, poll_usec);

        if (start < poll) {
                /* A long interval counts as much as its decayed weight, spread evenly over it. */
                double len = poll - start;
                double w = len > 1 ? tau_sec * -expm1(-len / tau_sec) / len : 1;
                add_exposure(s, c->e, start, poll, w);
                add_exposure(s, s->ge, start, poll, w);
        }
        for (size_t i = 0; i < n_dates; i++) {
                double d = (double)post_dates[i];
                /* The oldest post of a history page only marks where the history begins. */
                if (history && d <= (double)history_since)
                        continue;
                double age = poll - d;
                double w = age > 0 ? exp(-age / tau_sec) : 1;
                size_t h = hour_of_local(local_sec(s, d));
                c->n[h] += w;
                c->slot[SLOTS] += w;
                if (post_dates[i] >= 0 && post_dates[i] % SLOT_SEC < SLOT_LATE_SEC)
                        c->slot[post_dates[i] / SLOT_SEC % SLOTS] += w;
                s->gn[h] += w;
        }
        if (poll_usec > c->complete_until)
                c->complete_until = poll_usec;
        fit_community(s, c);
        plan(s, c);
        /* A first page tells more than hours of polling: θ, fitted to what was known before,
         * would leave the budget idle (or overspend it) until the next periodic refit. */
        if (history)
                s->fitted_at = 0;
        return 0;
}

/* ---- reporting ----------------------------------------------------------------------------- */

void scheduler_coverage(const struct scheduler *s, bool *ret_ok, unsigned *ret_needed_per_day)
{
        double needed = 0;
        for (size_t i = 0; i < s->n; i++) {
                uint64_t m = s->c[i].max_interval_usec ? s->c[i].max_interval_usec
                                                       : s->p.max_interval_usec;
                needed += (double)USEC_PER_DAY / (double)m;
        }
        needed = ceil(needed - 1e-9);
        if (ret_ok)
                *ret_ok = needed <= s->p.daily_budget - s->p.reserve;
        if (ret_needed_per_day)
                *ret_needed_per_day = needed > UINT_MAX ? UINT_MAX : (unsigned)needed;
}

void scheduler_status(struct scheduler *s, uint64_t now_usec, struct scheduler_status *ret)
{
        refit(s, now_usec);
        struct scheduler_status st = {
                .limit = s->p.daily_budget,
                .used = daily_budget_used(&s->budget, now_usec),
                .available = daily_budget_available(&s->budget, now_usec, false),
                .budget_next_free = daily_budget_next_free(&s->budget, now_usec, 1, false),
                .n_communities = s->n,
        };
        for (size_t i = 0; i < s->n; i++) {
                st.n_never_polled += s->c[i].last_poll == 0;
                for (size_t h = 0; h < H; h++)
                        st.posts_per_day += s->c[i].rate[h];
        }
        *ret = st;
}

int scheduler_expected_unseen(struct scheduler *s, int64_t owner_id, uint64_t now_usec, double *ret)
{
        struct community *c = find(s, owner_id, NULL);
        if (!c)
                return -ENOENT;
        refit(s, now_usec);
        uint64_t from = c->complete_until ? c->complete_until : c->last_poll;
        double total = 0;
        if (from == 0) {
                for (size_t h = 0; h < H; h++)
                        total += c->rate[h]; /* never seen: about a day's worth */
        } else if (now_usec > from) {
                double e[H] = {};
                add_exposure(s, e, usec_to_sec(from), usec_to_sec(now_usec), 1);
                for (size_t h = 0; h < H; h++)
                        total += e[h] * c->rate[h];
                total *= burst_factor(c, usec_to_sec(now_usec));
        }
        *ret = total;
        return 0;
}

int scheduler_interval(struct scheduler *s, int64_t owner_id, uint64_t now_usec, uint64_t *ret)
{
        struct community *c = find(s, owner_id, NULL);
        if (!c)
                return -ENOENT;
        refit(s, now_usec);
        uint64_t iv = hours_to_usec(threshold_interval(s, c, usec_to_sec(now_usec)));
        if (iv < s->p.min_interval_usec)
                iv = s->p.min_interval_usec;
        *ret = iv;
        return 0;
}

int scheduler_set_rates(struct scheduler *s, int64_t owner_id,
                        const double rates_per_hour[SCHEDULER_HOURS])
{
        struct community *c = find(s, owner_id, NULL);
        if (!c)
                return -ENOENT;
        for (size_t h = 0; h < H; h++)
                if (!(rates_per_hour[h] >= 0) || !isfinite(rates_per_hour[h]))
                        return -EINVAL;
        for (size_t h = 0; h < H; h++)
                /* A zero rate would never be polled before max_interval: keep a trickle. */
                c->rate[h] = rates_per_hour[h] > 1e-6 ? rates_per_hour[h] : 1e-6;
        c->fixed = true;
        s->fitted_at = 0;
        return 0;
}

int scheduler_get_rates(struct scheduler *s, int64_t owner_id, uint64_t now_usec,
                        double ret_rates_per_hour[SCHEDULER_HOURS])
{
        struct community *c = find(s, owner_id, NULL);
        if (!c)
                return -ENOENT;
        refit(s, now_usec);
        memcpy(ret_rates_per_hour, c->rate, sizeof(c->rate));
        return 0;
}

/* ---- state --------------------------------------------------------------------------------- */

/* Fixed-point thousandths keep the text independent of LC_NUMERIC. */
static int append_milli(struct strbuf *sb, const double *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = strbuf_appendf(sb, " %lld", (long long)llround(v[i] * 1000));
                if (r < 0)
                        return r;
        }
        return 0;
}

int scheduler_save(struct scheduler *s, char **ret)
{
        _cleanup_free_ char *budget = NULL;
        struct strbuf sb = {};
        int r = daily_budget_save(&s->budget, &budget);
        if (r < 0)
                return r;
        r = strbuf_appendf(&sb, "scheduler 1\n%s\nglobal %" PRIu64, budget, s->g_decayed_at);
        if (r >= 0)
                r = append_milli(&sb, s->gn, H);
        if (r >= 0)
                r = append_milli(&sb, s->ge, H);
        if (r >= 0)
                r = strbuf_puts(&sb, "\nmix");
        if (r >= 0)
                r = append_milli(&sb, s->mix_weight, MIX_SHAPES);
        for (size_t k = 0; r >= 0 && k < MIX_SHAPES; k++)
                r = append_milli(&sb, s->mix[k], H);
        if (r >= 0)
                r = strbuf_puts(&sb, "\n");
        for (size_t i = 0; r >= 0 && i < s->n; i++) {
                const struct community *c = &s->c[i];
                if (c->fixed)
                        continue;
                r = strbuf_appendf(&sb, "c %" PRId64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
                                   c->owner_id, c->last_poll, c->complete_until, c->decayed_at);
                if (r >= 0)
                        r = append_milli(&sb, c->n, H);
                if (r >= 0)
                        r = append_milli(&sb, c->e, H);
                if (r >= 0)
                        r = strbuf_appendf(&sb, " %" PRIu64, c->burst_at);
                if (r >= 0)
                        r = append_milli(&sb, (const double[]){c->burst_n, c->burst_x}, 2);
                if (r >= 0)
                        r = append_milli(&sb, c->slot, SLOTS + 1);
                if (r >= 0)
                        r = strbuf_puts(&sb, "\n");
        }
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

/* Parses n integers separated by single spaces from *p, advancing it. */
static int parse_ints(const char **p, long long *v, size_t n, long long min)
{
        for (size_t i = 0; i < n; i++) {
                if (**p != ' ')
                        return -EBADMSG;
                (*p)++;
                char *end;
                errno = 0;
                v[i] = strtoll(*p, &end, 10);
                if (end == *p || errno != 0 || v[i] < min)
                        return -EBADMSG;
                *p = end;
        }
        return 0;
}

struct loaded_community {
        int64_t owner_id;
        uint64_t last_poll, complete_until, decayed_at, burst_at;
        double n[H], e[H], burst_n, burst_x, slot[SLOTS + 1];
};

static int parse_line_end(const char **p)
{
        if (**p == '\n') {
                (*p)++;
                return 0;
        }
        return **p == '\0' ? 0 : -EBADMSG;
}

/* The first two lines: the format's, and the daily budget's (daily_budget_load()) into *budget.
 * *ret_rest: the text after them. */
static int load_budget(const char *text, struct daily_budget *budget, const char **ret_rest)
{
        const char *p, *eol;
        int r;

        if (!text || strncmp(text, "scheduler 1\n", 12) != 0)
                return -EBADMSG;
        p = text + 12;
        eol = strchr(p, '\n');
        if (!eol)
                return -EBADMSG;
        _cleanup_free_ char *bline = strndup(p, (size_t)(eol - p));
        if (!bline)
                return -ENOMEM;
        r = daily_budget_load(budget, bline);
        if (r < 0)
                return r;
        *ret_rest = eol + 1;
        return 0;
}

/* The "global" line at *p: when the global rates were last decayed, and the rates by hour. */
static int load_global(const char **p, uint64_t *ret_at, double gn[H], double ge[H])
{
        long long v[1 + 2 * H];
        int r;

        if (strncmp(*p, "global", 6) != 0)
                return -EBADMSG;
        *p += 6;
        r = parse_ints(p, v, 1 + 2 * H, 0);
        if (r < 0)
                return r;
        *ret_at = (uint64_t)v[0];
        for (size_t h = 0; h < H; h++) {
                gn[h] = v[1 + h] / 1000.0;
                ge[h] = v[1 + H + h] / 1000.0;
        }
        return parse_line_end(p);
}

/* The "mix" line at *p, if there is one (an older version wrote none): the shared rhythms. Sets
 * *ret_found. */
static int load_mix(const char **p, double weight[MIX_SHAPES], double mix[MIX_SHAPES][H],
                    bool *ret_found)
{
        long long v[MIX_SHAPES * (1 + H)];
        int r;

        *ret_found = false;
        if (strncmp(*p, "mix ", 4) != 0)
                return 0;
        *p += 3;
        r = parse_ints(p, v, ELEMENTSOF(v), 0);
        if (r < 0)
                return r;
        for (size_t k = 0; k < MIX_SHAPES; k++) {
                weight[k] = v[k] / 1000.0;
                for (size_t h = 0; h < H; h++)
                        /* thousandths: what rounded to nothing is kept just above it */
                        mix[k][h] = fmax(v[MIX_SHAPES + k * H + h] / 1000.0, 1e-3);
                if (!(weight[k] > 0))
                        weight[k] = 1e-3;
        }
        *ret_found = true;
        return parse_line_end(p);
}

/* A "c" line at *p: one community's poll times and rates, and its short-term level (absent from
 * what an older version saved: then it starts neutral). */
static int load_community(const char **p, struct loaded_community *l)
{
        long long id, v[3 + 2 * H], b[3] = {}, q[SLOTS + 1] = {};
        int r;

        if (strncmp(*p, "c", 1) != 0)
                return -EBADMSG;
        *p += 1;
        r = parse_ints(p, &id, 1, LLONG_MIN);
        if (r < 0)
                return r;
        r = parse_ints(p, v, 3 + 2 * H, 0);
        if (r < 0)
                return r;
        if (**p == ' ') {
                r = parse_ints(p, b, 3, 0);
                if (r < 0)
                        return r;
        }
        if (**p == ' ') {
                r = parse_ints(p, q, SLOTS + 1, 0);
                if (r < 0)
                        return r;
        }
        r = parse_line_end(p);
        if (r < 0)
                return r;
        l->owner_id = id;
        l->burst_at = (uint64_t)b[0];
        l->burst_n = b[1] / 1000.0;
        l->burst_x = b[2] / 1000.0;
        for (size_t k = 0; k <= SLOTS; k++)
                l->slot[k] = q[k] / 1000.0;
        l->last_poll = (uint64_t)v[0];
        l->complete_until = (uint64_t)v[1];
        l->decayed_at = (uint64_t)v[2];
        for (size_t h = 0; h < H; h++) {
                l->n[h] = v[3 + h] / 1000.0;
                l->e[h] = v[3 + H + h] / 1000.0;
        }
        return 0;
}

int scheduler_load(struct scheduler *s, const char *text)
{
        struct daily_budget budget = s->budget;
        _cleanup_free_ struct loaded_community *lc = NULL;
        size_t n_lc = 0, allocated = 0;
        double gn[H], ge[H], mix[MIX_SHAPES][H], mix_weight[MIX_SHAPES];
        bool mix_found;
        const char *p;
        uint64_t g_at;
        int r;

        r = load_budget(text, &budget, &p);
        if (r < 0)
                return r;
        r = load_global(&p, &g_at, gn, ge);
        if (r < 0)
                return r;
        r = load_mix(&p, mix_weight, mix, &mix_found);
        if (r < 0)
                return r;
        while (*p) {
                struct loaded_community l;
                r = load_community(&p, &l);
                if (r < 0)
                        return r;
                if (!greedy_realloc((void **)&lc, &allocated, n_lc + 1, sizeof(*lc)))
                        return -ENOMEM;
                lc[n_lc++] = l;
        }

        /* Everything parsed: now change the scheduler. */
        s->budget = budget;
        memcpy(s->gn, gn, sizeof(gn));
        memcpy(s->ge, ge, sizeof(ge));
        s->g_decayed_at = g_at;
        if (mix_found) {
                memcpy(s->mix, mix, sizeof(mix));
                memcpy(s->mix_weight, mix_weight, sizeof(mix_weight));
                s->mix_fitted = true;
        }
        for (size_t i = 0; i < n_lc; i++) {
                struct community *c = find(s, lc[i].owner_id, NULL);
                if (!c || c->fixed)
                        continue;
                c->last_poll = lc[i].last_poll;
                c->complete_until = lc[i].complete_until;
                c->decayed_at = lc[i].decayed_at;
                memcpy(c->n, lc[i].n, sizeof(c->n));
                memcpy(c->e, lc[i].e, sizeof(c->e));
                c->burst_at = lc[i].burst_at;
                c->burst_n = lc[i].burst_n;
                c->burst_x = lc[i].burst_x;
                memcpy(c->slot, lc[i].slot, sizeof(c->slot));
                c->burst = burst_level(c);
                c->jitter_u = draw_jitter(s);
        }
        s->fitted_at = 0;
        return 0;
}
