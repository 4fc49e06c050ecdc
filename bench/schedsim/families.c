/* families.c — trace families the scheduler was designed and tuned on.
 *
 * Each family models the walls of Russian government VK communities in its own way: a district
 * administration posts dozens a day, a school weekly, an emergency service rarely and then in a
 * rush; the median wall posts about 1.5 times a day, with a heavy tail capped at DAILY_CAP. Times
 * are Moscow time (trace_local_hour()). Generators draw from their own struct rng seeded from
 * p->seed (and the family's name) only, so a seed gives the same trace everywhere.
 *
 * Held-out families live in heldout.c and fresh.c, written apart so that the scheduler is not tuned
 * on them; nothing here may be shared with them beyond trace.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "trace.h"
#include "util.h"

#define DAILY_CAP 150.0 /* posts a day: the busiest regional communities */

/* ---- what the families share ---------------------------------------------------------------- */

/* Posting by local hour as a floor plus a few Gaussian bumps (centre and width in hours), wrapped
 * around midnight. Not normalised. */
struct profile {
        double floor;
        size_t n_bumps;
        struct {
                double weight, centre, sd;
        } bump[3];
};

/* A government office: a late-morning peak, an afternoon one, a small evening one, a night lull. */
static const struct profile office = {
        .floor = 0.03,
        .n_bumps = 3,
        .bump = {{1.0, 11, 2.0}, {0.8, 16, 2.0}, {0.3, 20, 1.5}},
};

static double profile_at(const struct profile *p, double h)
{
        double v = p->floor;
        /* summed wrap by wrap, as lognormal's original generator did: the same rounding keeps
         * its traces bit for bit */
        for (int k = -1; k <= 1; k++) { /* wrap around midnight */
                double x = h + 24 * k, sum = 0;
                for (size_t b = 0; b < p->n_bumps; b++) {
                        double d = x - p->bump[b].centre;
                        sum += p->bump[b].weight *
                               exp(-d * d / (2 * p->bump[b].sd * p->bump[b].sd));
                }
                v += sum;
        }
        return v;
}

/* The profile's mean over a day, by the minute. */
static double profile_mean(const struct profile *p)
{
        double mean = 0;
        for (int m = 0; m < 24 * 60; m++)
                mean += profile_at(p, m / 60.0) / (24 * 60);
        return mean;
}

/* Adds wall i's posts from a Poisson process of rate rate(wall, t) (posts a second, never above
 * peak) over [from, to), by thinning a homogeneous one at the peak rate: exact, and the same draws
 * for the same seed. */
static int add_poisson(struct trace *tr, size_t i, struct rng *r, double from, double to,
                       double peak, double (*rate)(const void *wall, double t), const void *wall)
{
        for (double t = from;;) {
                t += rng_exp(r) / peak;
                if (t >= to)
                        return 0;
                if (rng_unit(r) * peak > rate(wall, t))
                        continue;
                int ret = trace_add(tr, i, (int64_t)ceil(t));
                if (ret < 0)
                        return ret;
        }
}

/* A wall posting daily × profile(local hour − phase) ÷ the profile's mean, × weekend at weekends.
 */
struct wall {
        const struct profile *profile;
        double daily;      /* mean posts a weekday */
        double phase;      /* hours */
        double weekend;    /* rate factor on Saturday and Sunday */
        double mean, peak; /* of the profile over a day */
};

static struct wall wall_make(const struct profile *profile, double daily, double phase,
                             double weekend)
{
        struct wall w = {
                .profile = profile,
                .daily = daily < DAILY_CAP ? daily : DAILY_CAP,
                .phase = phase,
                .weekend = weekend,
        };
        w.mean = profile_mean(profile);
        for (int m = 0; m < 24 * 60; m++) {
                double v = profile_at(profile, m / 60.0);
                w.peak = v > w.peak ? v : w.peak;
        }
        return w;
}

static bool is_weekend(double t)
{
        return ((trace_local_day(t) % 7) + 7) % 7 >= 5; /* day 0 is a Monday */
}

/* Posts a second at unix time t. */
static double wall_rate(const void *wall, double t)
{
        const struct wall *w = wall;
        double h = trace_local_hour(t - w->phase * 3600);
        return w->daily / 86400 * profile_at(w->profile, h) / w->mean *
               (is_weekend(t) ? w->weekend : 1);
}

/* An upper bound of wall_rate() (the minute grid may miss the very top by a hair). */
static double wall_peak_rate(const struct wall *w)
{
        return w->daily / 86400 * w->peak / w->mean * (w->weekend > 1 ? w->weekend : 1) * 1.01;
}

/* Posts an hour by local hour, averaged over the hour and the week: the oracle's. */
static void wall_true_rates(const struct wall *w, double ret_rates[24])
{
        for (int h = 0; h < 24; h++) {
                double sum = 0;
                for (int m = 0; m < 60; m++)
                        sum += profile_at(w->profile, fmod(h + m / 60.0 - w->phase + 48, 24));
                ret_rates[h] = w->daily / 24 * sum / 60 / w->mean * (5 + 2 * w->weekend) / 7;
        }
}

/* Log-uniform in [lo, hi]. */
static double rng_log_uniform(struct rng *r, double lo, double hi)
{
        return lo * exp(rng_unit(r) * log(hi / lo));
}

/* Poisson with mean mu (small: Knuth's product of uniforms). */
static unsigned rng_poisson_small(struct rng *r, double mu)
{
        double limit = exp(-mu), prod = rng_unit(r);
        unsigned k = 0;
        while (prod > limit) {
                prod *= rng_unit(r);
                k++;
        }
        return k;
}

/* Each family's own random sequence for a seed, so that two families never share draws. */
static struct rng family_rng(const struct family_params *p, const char *family)
{
        uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
        for (const char *c = family; *c; c++)
                h = (h ^ (unsigned char)*c) * UINT64_C(1099511628211);
        return (struct rng){p->seed ^ h};
}

/* ---- lognormal: independent Poisson walls on an office day ---------------------------------- */

/* The family the scheduler was first designed on (issue 3). Each wall posts as a Poisson process
 * at daily × office profile(local hour − phase) × (½ at weekends), phase ~ N(0, 1 h). Daily rates:
 * lognormal with median 1.5 and σ 2 (a school weekly, a district administration dozens a day),
 * or with --rates pareto (x_m 1, α 1.2) or uniform (5 a day); capped at DAILY_CAP. --shape flat
 * drops the profile, night turns it by 12 h, mixed does that for every other wall. The oracle
 * gets the true rate averaged over each hour and the week. */

struct lognormal_wall {
        double daily; /* mean posts a weekday */
        double phase; /* hours */
        bool flat, night;
        double norm; /* so that the profile averages 1 over a day */
};

static double lognormal_profile(const struct lognormal_wall *w, double local_hour)
{
        if (w->flat)
                return 1;
        double h = local_hour - w->phase + (w->night ? 12 : 0);
        h = fmod(h, 24);
        if (h < 0)
                h += 24;
        return profile_at(&office, h) / w->norm;
}

static double lognormal_rate(const void *wall, double t)
{
        const struct lognormal_wall *w = wall;
        int64_t s = (int64_t)t; /* whole seconds, as the generator this family replaced */
        double lh = fmod((double)(s + SCHEDSIM_MOSCOW_OFFSET), 86400) / 3600;
        /* weekends are quieter; the learner must cope with that without modelling it */
        return w->daily / 86400 * lognormal_profile(w, lh) * (is_weekend((double)s) ? 0.5 : 1);
}

static int lognormal_generate(const struct family_params *p, struct trace *tr)
{
        struct rng r = {p->seed};

        tr->true_rate = calloc(p->n_comm * 24, sizeof(double));
        if (!tr->true_rate)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_comm; i++) {
                struct lognormal_wall w = {0};
                switch (p->rates) {
                case FAMILY_RATES_LOGNORMAL:
                        /* On this family an oracle reaches about 0.35× round robin's mean
                         * latency, the figure issue 3 quotes. */
                        w.daily = 1.5 * exp(2.0 * rng_normal(&r));
                        break;
                case FAMILY_RATES_PARETO:
                        w.daily = pow(rng_unit(&r), -1 / 1.2);
                        break;
                case FAMILY_RATES_UNIFORM:
                        w.daily = 5;
                        break;
                }
                if (w.daily > DAILY_CAP)
                        w.daily = DAILY_CAP;
                w.phase = 1.0 * rng_normal(&r);
                w.flat = p->shape == FAMILY_SHAPE_FLAT;
                w.night =
                        p->shape == FAMILY_SHAPE_NIGHT || (p->shape == FAMILY_SHAPE_MIXED && i % 2);
                w.norm = profile_mean(&office);

                for (int h = 0; h < 24; h++) {
                        double sum = 0;
                        for (int m = 0; m < 60; m++)
                                sum += lognormal_profile(&w, h + m / 60.0);
                        tr->true_rate[i * 24 + h] = w.daily / 24 * sum / 60 * (5 + 2 * 0.5) / 7;
                }

                double peak = 0;
                for (int m = 0; m < 24 * 60; m++) {
                        double v = lognormal_profile(&w, m / 60.0);
                        peak = v > peak ? v : peak;
                }
                int ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                      w.daily / 86400 * peak * 1.01, lognormal_rate, &w);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

/* ---- bursty: self-exciting walls ------------------------------------------------------------ */

/* Each wall is a Hawkes process: immigrant posts at a rate following the office day (phase ~ N(0,
 * 1 h), ½ at weekends), and every post, immigrant or not, raises the rate by n/τ·e^(−s/τ) for the s
 * seconds after it: n more posts on average, most within τ (follow-ups, corrections, a thread of
 * updates on a burst main). Per wall: branching ratio n ~ U(0.3, 0.8), decay τ log-uniform in
 * [20 min, 3 h], mean daily posts D ~ Lomax(α 0.8, scale 1.09) (median 1.5) capped at DAILY_CAP,
 * D·(1 − n) of them immigrants. Built exactly by the cluster construction: each post has
 * Poisson(n) children at exponential(τ) delays. The oracle gets the trace's own hourly rates. */
static int bursty_generate(const struct family_params *p, struct trace *tr)
{
        struct rng r = family_rng(p, "bursty");

        for (size_t i = 0; i < p->n_comm; i++) {
                double daily = 1.09 * (pow(rng_unit(&r), -1 / 0.8) - 1);
                double branching = 0.3 + 0.5 * rng_unit(&r);
                double decay = rng_log_uniform(&r, 20 * 60, 3 * 3600);
                daily = daily < DAILY_CAP ? daily : DAILY_CAP;
                struct wall w = wall_make(&office, daily * (1 - branching), rng_normal(&r), 0.5);

                int ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                      wall_peak_rate(&w), wall_rate, &w);
                /* The wall's posts are the queue: children are appended behind their parents,
                 * and those past t_end are dropped, with their own children. */
                for (size_t k = 0; ret >= 0 && k < tr->n_post[i]; k++)
                        for (unsigned c = rng_poisson_small(&r, branching); ret >= 0 && c > 0; c--)
                                ret = trace_add(
                                        tr, i, tr->post[i][k] + (int64_t)ceil(decay * rng_exp(&r)));
                if (ret < 0)
                        return ret;
        }
        return 0;
}

/* ---- regime: quiet walls that turn busy ----------------------------------------------------- */

/* Round the clock, heavier by day: a wall in an emergency. */
static const struct profile emergency = {
        .floor = 0.4,
        .n_bumps = 1,
        .bump = {{1.0, 13, 4.0}},
};

/* Most walls post steadily on the office day (phase ~ N(0, 1 h), ½ at weekends), daily rates
 * log-logistic (median 1.5, shape 0.8) capped at DAILY_CAP. 15 % are quiet walls, an emergency
 * service or a village, posting between once a fortnight and once a day (log-uniform, every day
 * alike), that once in the trace turn busy at ×20–×100 their rate (log-uniform), round the clock
 * more than by office hours (a storm, a flood, a water main), for 12–48 h (log-uniform: about a
 * day) starting uniformly over [t_hist, t_end), and then go quiet again. The oracle gets the
 * trace's own hourly rates. */
static int regime_generate(const struct family_params *p, struct trace *tr)
{
        struct rng r = family_rng(p, "regime");
        int ret = 0;

        for (size_t i = 0; i < p->n_comm && ret >= 0; i++) {
                if (rng_unit(&r) >= 0.15) {
                        double u = rng_unit(&r);
                        struct wall w = wall_make(&office, 1.5 * pow(u / (1 - u), 1 / 0.8),
                                                  rng_normal(&r), 0.5);
                        ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                          wall_peak_rate(&w), wall_rate, &w);
                        continue;
                }
                double quiet = rng_log_uniform(&r, 1 / 14.0, 1);
                struct wall w = wall_make(&office, quiet, rng_normal(&r), 1);
                double boost = rng_log_uniform(&r, 20, 100);
                double hours = rng_log_uniform(&r, 12, 48);
                double from = (double)p->t_hist + rng_unit(&r) * (double)(p->t_end - p->t_hist);
                /* the busy spell on top of the quiet wall: a second Poisson process */
                struct wall busy = wall_make(&emergency, quiet * (boost - 1), 0, 1);
                ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                  wall_peak_rate(&w), wall_rate, &w);
                if (ret >= 0)
                        ret = add_poisson(tr, i, &r, from, from + hours * 3600,
                                          wall_peak_rate(&busy), wall_rate, &busy);
        }
        return ret;
}

/* ---- offhours: walls that keep their own hours ---------------------------------------------- */

/* Hours other than an office's. */
static const struct profile early_and_rush = {
        /* a transport operator */
        .floor = 0.02,
        .n_bumps = 2,
        .bump = {{1.0, 6.5, 1.0}, {0.5, 17.5, 1.5}},
};
static const struct profile evenings = {
        /* a culture house */
        .floor = 0.02,
        .n_bumps = 2,
        .bump = {{0.3, 12, 2.0}, {1.0, 19, 1.5}},
};
static const struct profile night_shift = {
        /* a hospital or a duty service, and its handover */
        .floor = 0.10,
        .n_bumps = 2,
        .bump = {{1.0, 2, 3.0}, {0.3, 9, 1.5}},
};
static const struct profile lunch_hour = {
        .floor = 0.01,
        .n_bumps = 1,
        .bump = {{1.0, 12.75, 0.6}},
};
static const struct profile before_and_after_work = {
        .floor = 0.02,
        .n_bumps = 2,
        .bump = {{1.0, 8.5, 1.0}, {1.0, 18.5, 1.0}},
};
static const struct profile round_the_clock = {.floor = 1.0}; /* a repost feed */

/* Kinds of walls by their hours: their share of the walls and their weekend factor. */
static const struct kind {
        const struct profile *profile;
        double share, weekend;
} offhours_kinds[] = {
        {&office, 0.20, 0.5},
        {&early_and_rush, 0.15, 0.7},
        {&evenings, 0.15, 1.3}, /* more at weekends */
        {&night_shift, 0.10, 1.0},
        {&lunch_hour, 0.15, 0.3},
        {&before_and_after_work, 0.15, 0.6},
        {&round_the_clock, 0.10, 1.0},
};

/* Each wall draws a kind of its own (offhours_kinds[]: an office for one in five, else early,
 * evening, night, lunch-hour, two-peak or flat hours), with that kind's weekend factor and a phase
 * ~ N(0, 30 min), so that a pooled diurnal shape is wrong for most walls. Daily rates Pareto (x_m
 * 0.5, α 0.65; median 1.5) capped at DAILY_CAP. The oracle gets the true rates averaged over each
 * hour and the week. */
static int offhours_generate(const struct family_params *p, struct trace *tr)
{
        struct rng r = family_rng(p, "offhours");

        tr->true_rate = calloc(p->n_comm * 24, sizeof(double));
        if (!tr->true_rate)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_comm; i++) {
                const struct kind *k = &offhours_kinds[0];
                double u = rng_unit(&r);
                for (size_t j = 0; j < ELEMENTSOF(offhours_kinds); j++) {
                        k = &offhours_kinds[j];
                        if (u < k->share)
                                break;
                        u -= k->share;
                }
                double daily = 0.5 * pow(rng_unit(&r), -1 / 0.65);
                struct wall w = wall_make(k->profile, daily, 0.5 * rng_normal(&r), k->weekend);
                wall_true_rates(&w, &tr->true_rate[i * 24]);
                int ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                      wall_peak_rate(&w), wall_rate, &w);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

/* ---- regional: events that many walls repost ------------------------------------------------ */

/* A region's walls post on their own (office day, phase ~ N(0, 1 h), ½ at weekends, daily rates
 * lognormal with median 1 and σ 1.5) and besides repost the region's events: a storm warning, a
 * governor's decree, a water main (about four a day, by office hours). An event reaches a share of
 * the walls, U(0.2, 0.7) of them weighted by how eager each wall is to repost (U(0, 1), drawn once
 * per wall), each after a lag log-normal around 20 min (σ 1: minutes for a press office on duty,
 * hours for a village), and a third of those who repost add an update 1–4 h later. So many walls
 * post within the same hour for a common cause, and a wall's post says little about its own next
 * one and much about its neighbours'. The oracle gets the trace's own hourly rates. */
#define REGIONAL_EVENTS_A_DAY 4.0

static int regional_generate(const struct family_params *p, struct trace *tr)
{
        struct rng r = family_rng(p, "regional");
        _cleanup_free_ double *eager = calloc(p->n_comm, sizeof(double));
        int ret = 0;

        if (!eager)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_comm && ret >= 0; i++) {
                /* one draw a statement: the order of a call's arguments is unspecified */
                double phase = rng_normal(&r);
                double daily = exp(1.5 * rng_normal(&r));
                struct wall w = wall_make(&office, daily, phase, 0.5);
                eager[i] = rng_unit(&r);
                ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                  wall_peak_rate(&w), wall_rate, &w);
        }
        /* the events: a Poisson process on the office day, over the whole trace */
        struct wall region = wall_make(&office, REGIONAL_EVENTS_A_DAY, 0, 1);
        double t = (double)p->t_hist;
        while (ret >= 0) {
                t += rng_exp(&r) / wall_peak_rate(&region);
                if (t >= (double)p->t_end)
                        break;
                if (rng_unit(&r) * wall_peak_rate(&region) > wall_rate(&region, t))
                        continue;
                double reach = 0.2 + 0.5 * rng_unit(&r);
                for (size_t i = 0; i < p->n_comm && ret >= 0; i++) {
                        if (rng_unit(&r) >= 2 * reach * eager[i])
                                continue;
                        double at = t + 1200 * exp(rng_normal(&r));
                        ret = trace_add(tr, i, (int64_t)ceil(at));
                        if (ret >= 0 && rng_unit(&r) < 1 / 3.0)
                                ret = trace_add(tr, i,
                                                (int64_t)ceil(at + 3600 * (1 + 3 * rng_unit(&r))));
                }
        }
        return ret;
}

/* ---- sittings: walls filled a few posts at a time ------------------------------------------- */

/* A school's or a clinic's press officer sits down once or twice a day and puts up a few posts
 * at once: sittings a Poisson process on the office day (phase ~ N(0, 1 h), ¼ at weekends) at a
 * daily rate lognormal with median 1 and σ 1.2, each sitting 1 + Poisson(2) posts, each 30 s to
 * 3 min after the one before. A sitting tells that this wall's officer was at work, not that more
 * is coming. The oracle gets the trace's own hourly rates. */
static int sittings_generate(const struct family_params *p, struct trace *tr)
{
        struct rng r = family_rng(p, "sittings");
        int ret = 0;

        for (size_t i = 0; i < p->n_comm && ret >= 0; i++) {
                double phase = rng_normal(&r); /* one draw a statement, as regional's */
                double daily = exp(1.2 * rng_normal(&r));
                struct wall w = wall_make(&office, daily, phase, 0.25);
                ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                  wall_peak_rate(&w), wall_rate, &w);
                /* each sitting's first post is there: its others follow it */
                size_t starts = tr->n_post[i];
                for (size_t k = 0; ret >= 0 && k < starts; k++) {
                        double t = (double)tr->post[i][k];
                        for (unsigned more = rng_poisson_small(&r, 2); ret >= 0 && more > 0;
                             more--) {
                                t += 30 + 150 * rng_unit(&r);
                                ret = trace_add(tr, i, (int64_t)ceil(t));
                        }
                }
        }
        return ret;
}

/* ---- postponed: content plans published on the minute -------------------------------------- */

/* Many editors write ahead and let VK publish from the postponed queue ("отложенные записи") at a
 * round time; VK shows such a post a few seconds after its minute. Walls post on the office day
 * (phase ~ N(0, 1 h), ½ at weekends, daily rates lognormal with median 1.5 and σ 1.5); 40 % of
 * them publish everything by hand, the others a share U(0.3, 1) of their posts from the queue, on
 * the hour or, for two in five of them, on the hour and the half hour: the queued post is set for
 * the last such time before the moment it would have been written, and appears 1–10 s after it. */
static int postponed_generate(const struct family_params *p, struct trace *tr)
{
        struct rng r = family_rng(p, "postponed");
        int ret = 0;

        for (size_t i = 0; i < p->n_comm && ret >= 0; i++) {
                double phase = rng_normal(&r); /* one draw a statement, as regional's */
                double daily = 1.5 * exp(1.5 * rng_normal(&r));
                double planned = rng_unit(&r) < 0.4 ? 0 : 0.3 + 0.7 * rng_unit(&r);
                double grid = rng_unit(&r) < 0.4 ? 1800 : 3600;
                struct wall w = wall_make(&office, daily, phase, 0.5);
                size_t from = tr->n_post[i];
                ret = add_poisson(tr, i, &r, (double)p->t_hist, (double)p->t_end,
                                  wall_peak_rate(&w), wall_rate, &w);
                for (size_t k = from; ret >= 0 && k < tr->n_post[i]; k++) {
                        if (rng_unit(&r) >= planned)
                                continue;
                        int64_t t = tr->post[i][k];
                        /* down to the grid: never before the trace (t_hist is on the minute) */
                        int64_t slot = t - (int64_t)fmod((double)t, grid);
                        if (slot < p->t_hist)
                                continue;
                        tr->post[i][k] = slot + 1 + (int64_t)(9 * rng_unit(&r));
                }
        }
        return ret;
}

const struct family schedsim_tuning_families[] = {
        {
                .name = "lognormal",
                .summary = "independent Poisson walls on an office day, lognormal daily rates "
                           "(median 1.5, σ 2); --rates and --shape vary it",
                .generate = lognormal_generate,
        },
        {
                .name = "bursty",
                .summary = "self-exciting (Hawkes) walls: each post brings n ~ U(0.3, 0.8) more "
                           "within 20 min–3 h, on an office day; Lomax daily rates",
                .generate = bursty_generate,
        },
        {
                .name = "regime",
                .summary = "steady office walls, and 15 % quiet ones (emergency, village) busy "
                           "×20–×100 for about a day once; log-logistic daily rates",
                .generate = regime_generate,
        },
        {
                .name = "offhours",
                .summary = "each wall its own hours: early transport, evening culture house, "
                           "night shift, lunch hour, two peaks, flat; Pareto daily rates",
                .generate = offhours_generate,
        },
        {
                .name = "regional",
                .summary = "walls of their own, and about four regional events a day that "
                           "20–70 % of them repost, minutes to hours apart",
                .generate = regional_generate,
        },
        {
                .name = "sittings",
                .summary = "walls filled a few posts at a time: sittings on the office day, 1 + "
                           "Poisson(2) posts each, minutes apart",
                .generate = sittings_generate,
        },
        {
                .name = "postponed",
                .summary = "office walls publishing a share of their posts from the postponed "
                           "queue, on the hour or the half hour, seconds after the minute",
                .generate = postponed_generate,
        },
        {},
};
