/* families.c — trace families the scheduler was designed and tuned on.
 *
 * Each family models the walls of Russian government VK communities in its own way: a district
 * administration posts dozens a day, a school weekly, an emergency service rarely and then in a
 * rush; the median wall posts about 1.5 times a day, with a heavy tail capped at DAILY_CAP. Times
 * are Moscow time (trace_local_hour()). Generators draw from their own struct rng seeded with
 * p->seed only, so a seed gives the same trace everywhere.
 *
 * Held-out families live in heldout.c, written apart so that the scheduler is not tuned on them;
 * nothing here may be shared with them beyond trace.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "trace.h"

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

/* Weekends are quieter; the learner must cope with that without modelling it. */
static double lognormal_weekday_factor(int64_t t)
{
        int64_t day = (t + SCHEDSIM_MOSCOW_OFFSET - SCHEDSIM_DEFAULT_T0) / 86400;
        int64_t dow = ((day % 7) + 7) % 7; /* 0 = Monday */
        return dow >= 5 ? 0.5 : 1.0;
}

static double lognormal_rate(const void *wall, double t)
{
        const struct lognormal_wall *w = wall;
        int64_t s = (int64_t)t; /* whole seconds, as the generator this family replaced */
        double lh = fmod((double)(s + SCHEDSIM_MOSCOW_OFFSET), 86400) / 3600;
        return w->daily / 86400 * lognormal_profile(w, lh) * lognormal_weekday_factor(s);
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

const struct family schedsim_tuning_families[] = {
        {
                .name = "lognormal",
                .summary = "independent Poisson walls on an office day, lognormal daily rates "
                           "(median 1.5, σ 2); --rates and --shape vary it",
                .generate = lognormal_generate,
        },
        {},
};
