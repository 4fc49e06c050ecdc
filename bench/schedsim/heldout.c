/* heldout.c — trace families the scheduler is evaluated on but was never tuned on (issue 14).
 *
 * Three posting patterns of government walls that the tuning families (families.c) do not have:
 * the week and its public holidays (`weekly`), regional events that most walls repost within the
 * hour (`synchronised`), and a whole region's mix of walls, each class with its own habits
 * (`mixture`). They were designed from what such walls do, apart from src/scheduler.c, and their
 * parameters were set only so that the traces look like a region's walls (posts a day, the
 * busiest wall, the night's share, walls silent for a week). Never change them because of the
 * scheduler's figures on them: that would make them a tuning set, and issue 14 would have no test.
 *
 * Every family draws its walls from one stream of p->seed and their posts from another, and
 * generates whole local days around [t_hist, t_end); trace_add() drops what falls outside.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "util.h"

#define MINUTE 60.0
#define HOUR   3600.0
#define DAY    86400.0

/* Posts a day of the busiest walls: a regional news-like administration wall, a city's transport
 * operator announcing every delay. No government wall of a region posts much more. */
#define RATE_MAX 150.0

/* ---- random draws -------------------------------------------------------------------------- */

/* Log-logistic (Fisk) rates, truncated at cap by inversion so that no pile of walls sits at the
 * cap: F(x) = 1 / (1 + (median / x)^shape). */
static double draw_fisk(struct rng *r, double median, double shape, double cap)
{
        double u = rng_unit(r) / (1 + pow(median / cap, shape));
        return median * pow(u / (1 - u), 1 / shape);
}

/* Lomax (Pareto II) rates, truncated at cap by inversion: F(x) = 1 - (1 + x/scale)^-shape. */
static double draw_lomax(struct rng *r, double scale, double shape, double cap)
{
        double u = rng_unit(r) * (1 - pow(1 + cap / scale, -shape));
        return scale * (pow(1 - u, -1 / shape) - 1);
}

static double max_of(const double *x, size_t n)
{
        double m = x[0];
        for (size_t k = 1; k < n; k++)
                m = fmax(m, x[k]);
        return m;
}

/* ---- days and hours ------------------------------------------------------------------------ */

/* VK publishes a postponed post ("отложенная запись") on the minute it was set for, a few seconds
 * late: content scheduled for 08:00 shows the date 08:00:0x. */
static int add_postponed(struct trace *tr, size_t i, struct rng *r, int64_t day, double minute)
{
        return trace_add_at(tr, i, trace_day_start(day) + minute * MINUTE + rng_between(r, 0, 8));
}

/* The kind of the i-th of n walls, kinds in proportion to share[] (stratified, so that a region
 * of 300 walls has its shares exactly; the caller shuffles the walls afterwards). */
static unsigned stratified_kind(const double *share, unsigned n_kinds, size_t i, size_t n)
{
        double total = 0, below = 0;
        for (unsigned k = 0; k < n_kinds; k++)
                total += share[k];
        double x = ((double)i + 0.5) / (double)n * total;
        for (unsigned k = 0; k < n_kinds; k++) {
                below += share[k];
                if (x < below)
                        return k;
        }
        return n_kinds - 1;
}

static void shuffle(struct rng *r, void *base, size_t n, size_t size, void *scratch)
{
        char *b = base;
        for (size_t i = n; i > 1; i--) {
                size_t j = rng_below(r, i);
                if (j == i - 1)
                        continue; /* memcpy() of a region onto itself is undefined */
                memcpy(scratch, b + (i - 1) * size, size);
                memcpy(b + (i - 1) * size, b + j * size, size);
                memcpy(b + j * size, scratch, size);
        }
}

/* Posting by local hour (relative weights) of the kinds of wall `weekly` and `synchronised` know.
 * Offices: a working day from 8 or 9, a lunch dip at 13, a tail after 18 (someone finishing the
 * day's photo report), nearly nothing at night. */
static const double office_workday[24] = {
        0.01, 0.005, 0.005, 0.005, 0.005, 0.01, 0.03, 0.12, /* 0–7 */
        0.55, 1.0,   1.0,   1.0,   0.85,  0.5,  0.9,  0.95, /* 8–15 */
        0.8,  0.55,  0.25,  0.15,  0.12,  0.08, 0.04, 0.02, /* 16–23 */
};
/* The working day before a holiday is an hour shorter by law, and ends earlier in practice. */
static const double office_eve[24] = {
        0.01, 0.005, 0.005, 0.005, 0.005, 0.01, 0.03, 0.15, /* 0–7 */
        0.65, 1.0,   1.0,   1.0,   0.9,   0.6,  0.9,  0.7,  /* 8–15 */
        0.35, 0.15,  0.08,  0.06,  0.06,  0.05, 0.03, 0.02, /* 16–23 */
};
/* Offices on days off: whoever posts does it from home, later and spread over the day. */
static const double office_day_off[24] = {
        0.02, 0.01, 0.005, 0.005, 0.005, 0.01, 0.02, 0.05, /* 0–7 */
        0.15, 0.45, 0.8,   1.0,   1.0,   0.9,  0.8,  0.7,  /* 8–15 */
        0.6,  0.5,  0.45,  0.4,   0.35,  0.25, 0.1,  0.04, /* 16–23 */
};
/* Culture, sport and youth walls: announcements before noon, event reports in the evening. */
static const double leisure_hours[24] = {
        0.03, 0.01, 0.005, 0.005, 0.005, 0.005, 0.01, 0.03, /* 0–7 */
        0.1,  0.3,  0.6,   0.8,   0.9,   0.8,   0.9,  1.0,  /* 8–15 */
        1.0,  1.0,  0.9,   0.75,  0.6,   0.4,   0.2,  0.08, /* 16–23 */
};
/* Emergency services, transport operators, duty dispatchers: round the clock, thinner at night. */
static const double duty_hours[24] = {
        0.3, 0.25, 0.2, 0.2, 0.2, 0.3, 0.55, 0.85, /* 0–7 */
        1.0, 1.0,  1.0, 1.0, 1.0, 0.9, 0.95, 1.0,  /* 8–15 */
        1.0, 1.0,  0.9, 0.8, 0.7, 0.6, 0.5,  0.4,  /* 16–23 */
};

/* ---- weekly: the week and its public holidays ---------------------------------------------- */

/* Model. Every wall has a rate for an ordinary working day, Fisk (log-logistic) with median 2
 * and shape 0.65, truncated so that the busiest day of its week stays within RATE_MAX: half the
 * walls post less than twice a working day, one in ten is silent for a week, and the shape under
 * 1 gives the long tail of news-like walls. A kind sets how that rate moves over the week and
 * over holidays, and which hours it posts at:
 *   - offices (72%: administrations, schools, hospitals, MFC): Monday's catch-up a little above
 *     the week, Saturday a fifth, Sunday an eighth;
 *   - leisure (17%: culture centres, libraries, museums, sport): Monday low (museums close), the
 *     weekend busiest, evenings;
 *   - duty (11%: emergency, transport, dispatch): nearly the same every day, round the clock.
 * Each wall scales each weekday of its kind by its own lognormal factor (σ 0.25; the school
 * that posts the week's menu every Tuesday) and shifts its hours by N(0, 0.6 h); each day's
 * count is Poisson around the day's rate times a lognormal day factor (σ 0.35: some days have
 * more to say). One office or leisure wall in five posts a digest ("план на неделю", "итоги
 * недели") as a postponed post at a fixed minute on Monday (55%), Friday (30%) or both, between
 * 08:00 and 11:30.
 *
 * Holidays. Two long weekends: a holiday on the first Friday on or after t0's day, so one always
 * lies within [t0, t0 + 7 days), and one two weeks earlier. At the default t0 (Monday 4 March
 * 2024) they are the real calendar: Defender of the Fatherland Day, Friday 23 February, and
 * International Women's Day, Friday 8 March, each followed by the weekend. A holiday posts like
 * a Sunday times the kind's holiday factor (offices a twelfth of a working day, culture walls
 * more than a Saturday: concerts), plus greetings: most walls congratulate (those that hardly post
 * at all seldom do), a quarter of them on the eve's afternoon, the rest in the holiday's morning
 * between 09:00 and 10:30, half of those as a postponed post at 09:00 or 10:00 sharp; busy walls
 * repost the governor's greeting too. The working day before (shortened by an hour by law) has a
 * rush (offices 1.7×: the holiday work schedules, the eve's concerts at schools), the day before
 * it 1.25×; the first working day after the long weekend catches up (offices 1.3×).
 */

enum weekly_kind {
        WEEKLY_OFFICE,
        WEEKLY_LEISURE,
        WEEKLY_DUTY,
        _WEEKLY_KIND_MAX,
};

enum day_kind {
        DAY_ORDINARY,       /* a working day or a weekend, as the week says */
        DAY_HOLIDAY,        /* the holiday itself */
        DAY_LONG_WEEKEND,   /* the weekend days that follow it */
        DAY_EVE,            /* the working day before: shortened, and busy */
        DAY_BEFORE_EVE,     /* the working day before that */
        DAY_AFTER_HOLIDAYS, /* the first working day after */
        _DAY_KIND_MAX,
};

struct weekly_kind_info {
        double share;
        double week[7];               /* Monday..Sunday, an ordinary working day = 1 */
        double on_day[_DAY_KIND_MAX]; /* times week[] (a holiday counts as a Sunday) */
        const double *hours_working, *hours_eve, *hours_off;
        double congratulates; /* chance that a wall posts a holiday greeting */
        double digest;        /* chance that a wall posts a weekly digest */
};

static const struct weekly_kind_info weekly_kinds[_WEEKLY_KIND_MAX] = {
        [WEEKLY_OFFICE] =
                {
                        .share = 0.72,
                        .week = {1.15, 1.0, 1.0, 1.0, 0.95, 0.2, 0.12},
                        .on_day = {[DAY_ORDINARY] = 1,
                                   [DAY_HOLIDAY] = 0.7,
                                   [DAY_LONG_WEEKEND] = 0.8,
                                   [DAY_EVE] = 1.7,
                                   [DAY_BEFORE_EVE] = 1.25,
                                   [DAY_AFTER_HOLIDAYS] = 1.3},
                        .hours_working = office_workday,
                        .hours_eve = office_eve,
                        .hours_off = office_day_off,
                        .congratulates = 0.8,
                        .digest = 0.2,
                },
        [WEEKLY_LEISURE] =
                {
                        .share = 0.17,
                        .week = {0.55, 0.85, 0.9, 1.0, 1.25, 1.6, 1.35},
                        .on_day = {[DAY_ORDINARY] = 1,
                                   [DAY_HOLIDAY] = 1.25,
                                   [DAY_LONG_WEEKEND] = 1.0,
                                   [DAY_EVE] = 1.4,
                                   [DAY_BEFORE_EVE] = 1.2,
                                   [DAY_AFTER_HOLIDAYS] = 0.9},
                        .hours_working = leisure_hours,
                        .hours_eve = leisure_hours,
                        .hours_off = leisure_hours,
                        .congratulates = 0.7,
                        .digest = 0.2,
                },
        [WEEKLY_DUTY] =
                {
                        .share = 0.11,
                        .week = {1.0, 1.0, 1.0, 1.0, 1.05, 0.9, 0.85},
                        .on_day = {[DAY_ORDINARY] = 1,
                                   [DAY_HOLIDAY] = 1.0,
                                   [DAY_LONG_WEEKEND] = 1.0,
                                   [DAY_EVE] = 1.15,
                                   [DAY_BEFORE_EVE] = 1.05,
                                   [DAY_AFTER_HOLIDAYS] = 1.0},
                        .hours_working = duty_hours,
                        .hours_eve = duty_hours,
                        .hours_off = duty_hours,
                        .congratulates = 0.5,
                        .digest = 0,
                },
};

struct weekly_wall {
        enum weekly_kind kind;
        double per_day; /* on an ordinary working day */
        double week[7];
        double shift_hours;
        bool digest_monday, digest_friday;
        double digest_minute; /* of the day */
        bool congratulates;
};

#define WEEKLY_N_HOLIDAYS 2

static void weekly_holidays(const struct family_params *p, int64_t ret_day[WEEKLY_N_HOLIDAYS])
{
        int64_t d0 = trace_local_day((double)p->t0);
        int64_t friday = d0 + (4 - trace_day_of_week(d0) + 7) % 7;
        ret_day[0] = friday;
        ret_day[1] = friday - 14;
}

static enum day_kind weekly_day_kind(const int64_t holiday[WEEKLY_N_HOLIDAYS], int64_t day)
{
        for (size_t k = 0; k < WEEKLY_N_HOLIDAYS; k++) {
                int64_t h = holiday[k];
                if (day == h)
                        return DAY_HOLIDAY;
                if (day > h && day <= h + 2 && trace_is_weekend_day(day))
                        return DAY_LONG_WEEKEND;
                if (day == h - 1)
                        return DAY_EVE;
                if (day == h - 2)
                        return DAY_BEFORE_EVE;
                if (day == h + 3)
                        return DAY_AFTER_HOLIDAYS;
        }
        return DAY_ORDINARY;
}

static void weekly_wall_draw(struct rng *r, enum weekly_kind kind, struct weekly_wall *ret)
{
        const struct weekly_kind_info *k = &weekly_kinds[kind];
        *ret = (struct weekly_wall){.kind = kind, .shift_hours = 0.6 * rng_normal(r)};
        for (int d = 0; d < 7; d++)
                ret->week[d] = k->week[d] * rng_lognormal(r, 1, 0.25);
        /* the busiest day of its ordinary week within RATE_MAX */
        ret->per_day = draw_fisk(r, 2.0, 0.65, RATE_MAX / max_of(ret->week, 7));
        /* a wall that has hardly posted for months does not wake up for a holiday */
        ret->congratulates = rng_chance(r, k->congratulates * ret->per_day / (ret->per_day + 0.2));
        if (rng_chance(r, k->digest)) {
                double u = rng_unit(r);
                ret->digest_monday = u < 0.55 || u >= 0.85;
                ret->digest_friday = u >= 0.55;
                /* 08:00–11:30 on the hour or the half hour, the hour three times likelier */
                ret->digest_minute =
                        60 * (8 + (double)rng_below(r, 4)) + (rng_chance(r, 0.25) ? 30 : 0);
        }
}

/* A holiday greeting: the eve's afternoon, or the holiday's morning. */
static int weekly_greeting(struct trace *tr, size_t i, const struct weekly_wall *w, struct rng *r,
                           int64_t holiday)
{
        int q;
        if (rng_chance(r, 0.25))
                q = trace_add_at(tr, i,
                                 trace_day_start(holiday - 1) + rng_between(r, 14, 17) * HOUR);
        else if (rng_chance(r, 0.5))
                q = add_postponed(tr, i, r, holiday, rng_chance(r, 0.6) ? 9 * 60 : 10 * 60);
        else
                q = trace_add_at(tr, i, trace_day_start(holiday) + rng_between(r, 9, 10.5) * HOUR);
        if (q < 0)
                return q;
        /* the governor's greeting, reposted by the walls that repost everything */
        if (w->per_day >= 15 && rng_chance(r, 0.6))
                return trace_add_at(tr, i,
                                    trace_day_start(holiday) + rng_between(r, 10, 13) * HOUR);
        return 0;
}

static int weekly_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x7765656b6c79)};
        struct rng post_rng = {p->seed ^ UINT64_C(0x686f6c6964617973)};
        size_t n = p->n_comm;
        _cleanup_free_ struct weekly_wall *walls = calloc(n ? n : 1, sizeof(*walls));
        if (!walls)
                return -ENOMEM;

        double shares[_WEEKLY_KIND_MAX];
        for (unsigned k = 0; k < _WEEKLY_KIND_MAX; k++)
                shares[k] = weekly_kinds[k].share;
        for (size_t i = 0; i < n; i++)
                weekly_wall_draw(&wall_rng, stratified_kind(shares, _WEEKLY_KIND_MAX, i, n),
                                 &walls[i]);
        struct weekly_wall scratch;
        shuffle(&wall_rng, walls, n, sizeof(*walls), &scratch);

        int64_t holiday[WEEKLY_N_HOLIDAYS], first, last;
        weekly_holidays(p, holiday);
        trace_span_days(p, 1, &first, &last); /* posts shifted past midnight into the span */

        for (size_t i = 0; i < n; i++) {
                const struct weekly_wall *w = &walls[i];
                const struct weekly_kind_info *k = &weekly_kinds[w->kind];
                /* one day more: the eve's greeting of a holiday just after the span */
                for (int64_t d = first; d <= last + 1; d++) {
                        enum day_kind dk = weekly_day_kind(holiday, d);
                        int dow = dk == DAY_HOLIDAY ? 6 : trace_day_of_week(d);
                        const double *hours = dk == DAY_EVE ? k->hours_eve
                                              : dk == DAY_HOLIDAY || dk == DAY_LONG_WEEKEND ||
                                                              trace_is_weekend_day(d)
                                                      ? k->hours_off
                                                      : k->hours_working;
                        double mean = w->per_day * w->week[dow] * k->on_day[dk] *
                                      rng_lognormal(&post_rng, 1, 0.35);
                        for (unsigned m = rng_poisson(&post_rng, mean); m > 0; m--) {
                                double h = rng_hour(&post_rng, hours) + w->shift_hours;
                                int q = trace_add_at(tr, i, trace_day_start(d) + h * HOUR);
                                if (q < 0)
                                        return q;
                        }

                        /* a digest scheduled weeks ahead still goes out on most holidays */
                        bool digest_day = (trace_day_of_week(d) == 0 && w->digest_monday) ||
                                          (trace_day_of_week(d) == 4 && w->digest_friday);
                        if (digest_day && !(dk == DAY_HOLIDAY && rng_chance(&post_rng, 0.3))) {
                                int q = add_postponed(tr, i, &post_rng, d, w->digest_minute);
                                if (q < 0)
                                        return q;
                        }

                        if (dk == DAY_HOLIDAY && w->congratulates) {
                                int q = weekly_greeting(tr, i, w, &post_rng, d);
                                if (q < 0)
                                        return q;
                        }
                }
        }
        trace_sort(tr);
        return 0;
}

/* ---- synchronised: regional events that most walls repost within the hour ------------------ */

/* Model. Each wall posts on its own as in a quiet week: a rate a working day from a Lomax
 * (Pareto II) distribution with scale 1 and shape 0.65, truncated so that its busiest day stays
 * within RATE_MAX (median about 1.9 a day, and a power-law tail), Poisson counts a day around it
 * times a lognormal day factor (σ 0.3), at the hours of the wall's kind shifted by N(0, 0.7 h):
 * offices (68%; weekends 0.35×, later hours), leisure walls (17%; weekends 1.2×) and duty walls
 * (15%; weekends 0.9×).
 *
 * On top, regional events, a Poisson process of 0.3 a day over the whole span (and one drawn
 * within [t0, t0 + 7 days) if none fell there, so that every measured week has one):
 *   - a storm warning of the regional emergency ministry (40%): any hour, most in the afternoon
 *     and evening when forecasts are revised; 50–80% of walls repost it; 1–3 updates
 *     ("предупреждение продлено", "отбой"), on average 3 h apart;
 *   - an official announcement of the regional government (35%): 08:00–23:00, the governor's
 *     evening addresses the likeliest; 40–80% repost; 0–2 follow-ups 2 h apart;
 *   - a power or heating outage (25%): any hour, night as likely as day; 30–50% repost (the
 *     districts affected); 1–3 updates (crews at work, power restored) 1.5 h apart.
 * The source wall (the busiest duty wall for a storm or an outage, the busiest office wall for an
 * announcement) posts at the event's time and at each update. A fraction f of the others, drawn
 * uniformly in the event's range, reposts it, each wall as likely as its propensity says (duty
 * walls nearly always, leisure walls seldom, walls that hardly post at all seldom too), after a
 * lognormal delay of median 15 min and σ 1 (p95 about 80 min) times the wall's own speed
 * (lognormal, σ 0.4: the district's dispatch is always first). Each update is reposted by 30–70% of
 * those walls, delayed the same way. A repost that falls between 00:00 and 07:00 on an office or
 * leisure wall waits, six times in ten, for its editor's morning (07:30–09:30): such walls have
 * nobody on duty at night.
 */

enum sync_kind {
        SYNC_OFFICE,
        SYNC_LEISURE,
        SYNC_DUTY,
        _SYNC_KIND_MAX,
};

struct sync_kind_info {
        double share;
        double weekend; /* times a working day's rate */
        const double *hours_working, *hours_off;
        double propensity_lo, propensity_hi; /* to repost a regional event */
};

static const struct sync_kind_info sync_kinds[_SYNC_KIND_MAX] = {
        [SYNC_OFFICE] = {0.68, 0.35, office_workday, office_day_off, 0.3, 1.0},
        [SYNC_LEISURE] = {0.17, 1.2, leisure_hours, leisure_hours, 0.1, 0.6},
        [SYNC_DUTY] = {0.15, 0.9, duty_hours, duty_hours, 0.9, 1.0},
};

enum event_kind {
        EVENT_STORM,
        EVENT_ANNOUNCEMENT,
        EVENT_OUTAGE,
        _EVENT_KIND_MAX,
};

struct event_kind_info {
        double share;
        double hours[24]; /* when such events happen */
        double join_lo, join_hi;
        unsigned updates_lo, updates_hi;
        double update_gap_hours; /* mean */
};

static const struct event_kind_info event_kinds[_EVENT_KIND_MAX] = {
        [EVENT_STORM] =
                {
                        .share = 0.4,
                        .hours = {0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.6, 0.6, 0.6, 0.8, 0.8, 0.8,
                                  1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.2, 1.2, 1.2, 0.8, 0.8},
                        .join_lo = 0.5,
                        .join_hi = 0.8,
                        .updates_lo = 1,
                        .updates_hi = 3,
                        .update_gap_hours = 3,
                },
        [EVENT_ANNOUNCEMENT] =
                {
                        .share = 0.35,
                        .hours = {0,   0,   0,   0,   0,   0,   0,   0,   0.3, 1.0, 1.0, 1.0,
                                  1.0, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0, 1.3, 1.3, 1.3, 0.4, 0.1},
                        .join_lo = 0.4,
                        .join_hi = 0.8,
                        .updates_lo = 0,
                        .updates_hi = 2,
                        .update_gap_hours = 2,
                },
        [EVENT_OUTAGE] =
                {
                        .share = 0.25,
                        .hours = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                        .join_lo = 0.3,
                        .join_hi = 0.5,
                        .updates_lo = 1,
                        .updates_hi = 3,
                        .update_gap_hours = 1.5,
                },
};

#define EVENTS_PER_DAY 0.3

struct sync_wall {
        enum sync_kind kind;
        double per_day; /* on a working day */
        double shift_hours;
        double propensity; /* to repost a regional event */
        double speed;      /* times the typical delay */
};

static void sync_wall_draw(struct rng *r, enum sync_kind kind, struct sync_wall *ret)
{
        const struct sync_kind_info *k = &sync_kinds[kind];
        double per_day = draw_lomax(r, 1.0, 0.65, RATE_MAX / fmax(1, k->weekend));
        *ret = (struct sync_wall){
                .kind = kind,
                .per_day = per_day,
                .shift_hours = 0.7 * rng_normal(r),
                /* a wall that has hardly posted for months reposts little */
                .propensity = rng_between(r, k->propensity_lo, k->propensity_hi) * per_day /
                              (per_day + 0.2),
                .speed = rng_lognormal(r, 1, 0.4),
        };
}

/* The busiest wall of a kind (any wall if there is none): the region's own wall of that kind. */
static size_t sync_busiest(const struct sync_wall *walls, size_t n, enum sync_kind kind)
{
        size_t best = 0;
        bool found = false;
        for (size_t i = 0; i < n; i++)
                if (walls[i].kind == kind && (!found || walls[i].per_day > walls[best].per_day)) {
                        best = i;
                        found = true;
                }
        return best;
}

static int sync_own_posts(struct trace *tr, size_t i, const struct sync_wall *w, struct rng *r,
                          int64_t first, int64_t last)
{
        const struct sync_kind_info *k = &sync_kinds[w->kind];
        for (int64_t d = first; d <= last; d++) {
                bool weekend = trace_is_weekend_day(d);
                double mean = w->per_day * (weekend ? k->weekend : 1) * rng_lognormal(r, 1, 0.3);
                for (unsigned m = rng_poisson(r, mean); m > 0; m--) {
                        double h = rng_hour(r, weekend ? k->hours_off : k->hours_working);
                        int q = trace_add_at(tr, i,
                                             trace_day_start(d) + (h + w->shift_hours) * HOUR);
                        if (q < 0)
                                return q;
                }
        }
        return 0;
}

static double sync_repost_time(const struct sync_wall *w, struct rng *r, double t)
{
        double at = t + rng_lognormal(r, 15 * MINUTE, 1.0) * w->speed;
        if (w->kind != SYNC_DUTY && trace_local_hour(at) < 7 && rng_chance(r, 0.6))
                at = trace_day_start(trace_local_day(at)) + rng_between(r, 7.5, 9.5) * HOUR;
        return at;
}

static int sync_event(struct trace *tr, const struct sync_wall *walls, size_t n,
                      double mean_propensity, const size_t source[_EVENT_KIND_MAX],
                      enum event_kind kind, double t, struct rng *r, bool *joined)
{
        const struct event_kind_info *e = &event_kinds[kind];
        double join = rng_between(r, e->join_lo, e->join_hi);
        for (size_t i = 0; i < n; i++)
                joined[i] = i != source[kind] &&
                            rng_chance(r, join * walls[i].propensity / mean_propensity);

        unsigned updates =
                e->updates_lo + (unsigned)rng_below(r, e->updates_hi - e->updates_lo + 1);
        for (unsigned u = 0; u <= updates; u++) {
                double share = 1;
                if (u > 0) {
                        t += fmax(20 * MINUTE, rng_exp(r) * e->update_gap_hours * HOUR);
                        share = rng_between(r, 0.3, 0.7);
                }
                int q = trace_add_at(tr, source[kind], t + rng_between(r, 0, 60));
                if (q < 0)
                        return q;
                for (size_t i = 0; i < n; i++) {
                        if (!joined[i] || !rng_chance(r, share))
                                continue;
                        q = trace_add_at(tr, i, sync_repost_time(&walls[i], r, t));
                        if (q < 0)
                                return q;
                }
        }
        return 0;
}

static enum event_kind sync_event_kind(struct rng *r)
{
        double x = rng_unit(r);
        for (unsigned k = 0; k < _EVENT_KIND_MAX; k++) {
                if (x < event_kinds[k].share)
                        return k;
                x -= event_kinds[k].share;
        }
        return _EVENT_KIND_MAX - 1;
}

static int sync_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x73796e636872)};
        struct rng post_rng = {p->seed ^ UINT64_C(0x726567696f6e)};
        struct rng event_rng = {p->seed ^ UINT64_C(0x73746f726d)};
        size_t n = p->n_comm;
        if (n == 0)
                return 0;
        _cleanup_free_ struct sync_wall *walls = calloc(n, sizeof(*walls));
        _cleanup_free_ bool *joined = calloc(n, sizeof(*joined));
        if (!walls || !joined)
                return -ENOMEM;

        double shares[_SYNC_KIND_MAX], mean_propensity = 0;
        for (unsigned k = 0; k < _SYNC_KIND_MAX; k++)
                shares[k] = sync_kinds[k].share;
        for (size_t i = 0; i < n; i++) {
                sync_wall_draw(&wall_rng, stratified_kind(shares, _SYNC_KIND_MAX, i, n), &walls[i]);
                mean_propensity += walls[i].propensity / (double)n;
        }
        struct sync_wall scratch;
        shuffle(&wall_rng, walls, n, sizeof(*walls), &scratch);
        size_t source[_EVENT_KIND_MAX] = {
                [EVENT_STORM] = sync_busiest(walls, n, SYNC_DUTY),
                [EVENT_ANNOUNCEMENT] = sync_busiest(walls, n, SYNC_OFFICE),
                [EVENT_OUTAGE] = sync_busiest(walls, n, SYNC_DUTY),
        };

        int64_t first, last;
        trace_span_days(p, 1, &first, &last);
        for (size_t i = 0; i < n; i++) {
                int q = sync_own_posts(tr, i, &walls[i], &post_rng, first, last);
                if (q < 0)
                        return q;
        }

        /* Events from a day before the span (their reposts and updates reach into it). */
        double week_begin = (double)p->t0, week_end = fmin((double)p->t_end, week_begin + 7 * DAY);
        bool in_week = false;
        for (double at = trace_day_start(first) + rng_exp(&event_rng) * DAY / EVENTS_PER_DAY;
             at < (double)p->t_end; at += rng_exp(&event_rng) * DAY / EVENTS_PER_DAY) {
                enum event_kind kind = sync_event_kind(&event_rng);
                double t = trace_day_start(trace_local_day(at)) +
                           rng_hour(&event_rng, event_kinds[kind].hours) * HOUR;
                in_week = in_week || (t >= week_begin && t < week_end);
                int q = sync_event(tr, walls, n, mean_propensity, source, kind, t, &event_rng,
                                   joined);
                if (q < 0)
                        return q;
        }
        if (!in_week && week_end > week_begin) {
                enum event_kind kind = sync_event_kind(&event_rng);
                double t = rng_between(&event_rng, week_begin, week_end);
                double at_hour = trace_day_start(trace_local_day(t)) +
                                 rng_hour(&event_rng, event_kinds[kind].hours) * HOUR;
                if (at_hour >= week_begin && at_hour < week_end)
                        t = at_hour;
                int q = sync_event(tr, walls, n, mean_propensity, source, kind, t, &event_rng,
                                   joined);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

/* ---- mixture: a region's walls, class by class --------------------------------------------- */

/* Model. The walls of one administrative region, in the shares a region's list of government
 * communities has them (the table below): administrations, schools and kindergartens, hospitals
 * and polyclinics, MFC offices, transport operators, emergency services, culture, youth policy
 * and sport. Each class has its own rates (lognormal, the class's median and σ, so that the
 * region as a whole has the long tail of a few busy administrations and transport operators over
 * hundreds of quiet schools; truncated so that own posts and follow-ups on the wall's busiest
 * weekday stay within RATE_MAX with room for half a σ of drift), its week, its hours (a
 * wall shifts them by N(0, 0.6 h)) and its habits:
 *   - scheduled content: some walls publish a postponed post at an exact time every day (or
 *     every working day): the administration's 08:00 "доброе утро, район", the transport
 *     operator's 06:00 line-up, the emergency service's 08:00 and 20:00 operational summaries;
 *     one day in thirty the post is skipped;
 *   - slow drift: a wall's log rate follows an Ornstein–Uhlenbeck process over days (σ 0.4,
 *     correlation time 21 days, mean kept): a department that gets a new press officer, a
 *     school that stops after its autumn enthusiasm;
 *   - silent spells: vacations of the one person who runs the wall, at the class's rate a year,
 *     lasting lognormal(median 8 days, σ 0.6); and one wall in seventy abandoned for good at a
 *     random moment (a reorganisation, a new wall elsewhere). A silent wall posts nothing;
 *   - follow-ups: every post has Poisson(class branching, 0.1–0.45) follow-ups (the photo report
 *     after the announcement, the correction, the second part), each after a delay with a
 *     power-law tail: Lomax, τ = 5 min · (U^(-1/0.6) − 1), median 11 min, p90 3.8 h, p99 a
 *     week, so that a topic keeps coming back; a follow-up that would fall in the wall's quiet
 *     hours is kept only with the hour's relative weight, and none falls in a silent spell.
 * Each day's own posts are Poisson around the rate times a lognormal day factor (σ 0.25). The
 * generation starts two weeks before t_hist so that the follow-ups and drift are settled.
 */

struct wall_class {
        const char *name;
        double share;
        double median_per_day, sigma; /* of own posts on a working day (lognormal) */
        double branching;             /* follow-ups per post */
        double week[7];
        double hours[24];
        double scheduled;           /* share of walls that post scheduled content */
        double scheduled_minute[2]; /* the two times such walls choose from */
        bool scheduled_twice;       /* at both times */
        bool scheduled_weekends;
        double spells_per_year; /* vacations */
};

static const struct wall_class wall_classes[] = {
        {
                .name = "administration",
                .share = 0.12,
                .median_per_day = 14,
                .sigma = 1.2,
                .branching = 0.35,
                .week = {1.1, 1.0, 1.0, 1.0, 0.95, 0.3, 0.2},
                .hours = {0.01, 0.005, 0.005, 0.005, 0.005, 0.01, 0.04, 0.2,
                          0.7,  1.0,   1.0,   1.0,   0.9,   0.6,  0.9,  1.0,
                          0.9,  0.7,   0.45,  0.3,   0.25,  0.15, 0.06, 0.03},
                .scheduled = 0.3,
                .scheduled_minute = {8 * 60, 9 * 60},
                .scheduled_weekends = true,
                .spells_per_year = 1,
        },
        {
                .name = "school",
                .share = 0.33,
                .median_per_day = 0.9,
                .sigma = 1.0,
                .branching = 0.2,
                .week = {1.0, 1.0, 1.0, 1.0, 0.9, 0.12, 0.05},
                .hours = {0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.01, 0.15,
                          0.6,   0.8,   0.9,   0.9,   1.0,   1.0,   1.0,  0.9,
                          0.7,   0.45,  0.3,   0.25,  0.2,   0.12,  0.05, 0.02},
                .scheduled = 0.03,
                .scheduled_minute = {8 * 60, 8 * 60},
                .spells_per_year = 3,
        },
        {
                .name = "hospital",
                .share = 0.11,
                .median_per_day = 0.8,
                .sigma = 1.0,
                .branching = 0.15,
                .week = {1.0, 1.0, 1.0, 1.0, 0.9, 0.15, 0.08},
                .hours = {0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.02, 0.2,
                          0.7,   1.0,   1.0,   1.0,   0.9,   0.7,   0.9,  0.8,
                          0.5,   0.25,  0.1,   0.06,  0.05,  0.03,  0.01, 0.005},
                .scheduled = 0.05,
                .scheduled_minute = {9 * 60, 9 * 60},
                .spells_per_year = 2,
        },
        {
                .name = "mfc",
                .share = 0.07,
                .median_per_day = 3,
                .sigma = 0.7,
                .branching = 0.1,
                .week = {1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.1},
                .hours = {0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.01, 0.05,
                          0.4,   0.9,   1.0,   1.0,   1.0,   0.8,   1.0,  1.0,
                          0.9,   0.8,   0.6,   0.35,  0.15,  0.05,  0.02, 0.01},
                .scheduled = 0.25,
                .scheduled_minute = {10 * 60, 10 * 60 + 30},
                .spells_per_year = 0.5,
        },
        {
                .name = "transport",
                .share = 0.05,
                .median_per_day = 25,
                .sigma = 1.1,
                .branching = 0.45,
                .week = {1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.8},
                .hours = {0.1, 0.05, 0.03, 0.03, 0.1, 0.5, 1.0, 1.0, 0.9,  0.7,  0.6,  0.6,
                          0.6, 0.6,  0.65, 0.75, 0.9, 1.0, 0.9, 0.6, 0.45, 0.35, 0.25, 0.15},
                .scheduled = 0.4,
                .scheduled_minute = {6 * 60, 7 * 60},
                .scheduled_weekends = true,
                .spells_per_year = 0.3,
        },
        {
                .name = "emergency",
                .share = 0.06,
                .median_per_day = 12,
                .sigma = 1.0,
                .branching = 0.4,
                .week = {1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95},
                .hours = {0.35, 0.3,  0.25, 0.25, 0.25, 0.3, 0.5,  0.8, 1.0,  1.0,  0.9,  0.9,
                          0.9,  0.85, 0.9,  0.9,  0.9,  0.9, 0.85, 0.8, 0.75, 0.65, 0.55, 0.45},
                .scheduled = 0.6,
                .scheduled_minute = {8 * 60, 20 * 60},
                .scheduled_twice = true,
                .scheduled_weekends = true,
                .spells_per_year = 0.2,
        },
        {
                .name = "culture",
                .share = 0.17,
                .median_per_day = 2,
                .sigma = 0.9,
                .branching = 0.3,
                .week = {0.5, 0.9, 0.9, 1.0, 1.2, 1.5, 1.3},
                .hours = {0.03, 0.01, 0.005, 0.005, 0.005, 0.005, 0.01, 0.03, 0.1, 0.3, 0.6, 0.8,
                          0.9,  0.8,  0.9,   1.0,   1.0,   1.0,   0.9,  0.75, 0.6, 0.4, 0.2, 0.08},
                .scheduled = 0.1,
                .scheduled_minute = {12 * 60, 12 * 60},
                .scheduled_weekends = true,
                .spells_per_year = 2,
        },
        {
                .name = "youth",
                .share = 0.09,
                .median_per_day = 1.5,
                .sigma = 1.1,
                .branching = 0.35,
                .week = {0.8, 1.0, 1.0, 1.0, 1.1, 1.2, 1.0},
                .hours = {0.08, 0.03, 0.01, 0.005, 0.005, 0.005, 0.01, 0.03, 0.05, 0.1, 0.3,  0.5,
                          0.7,  0.8,  0.9,  1.0,   1.0,   1.0,   1.0,  0.95, 0.85, 0.7, 0.45, 0.2},
                .scheduled = 0.05,
                .scheduled_minute = {18 * 60, 19 * 60},
                .scheduled_weekends = true,
                .spells_per_year = 3,
        },
};

#define MIXTURE_WARM_UP_DAYS 14
#define MIXTURE_DRIFT_SIGMA  0.4
#define MIXTURE_DRIFT_DAYS   21.0
#define MIXTURE_KERNEL_SCALE (5 * MINUTE)
#define MIXTURE_KERNEL_THETA 0.6
#define MIXTURE_ABANDONED    (1.0 / 70)

struct mixture_wall {
        const struct wall_class *class;
        double per_day; /* own posts on a working day */
        double week[7];
        double shift_hours;
        bool scheduled;
        double scheduled_minute;
        double abandoned_at; /* unix time, or INFINITY */
};

struct spell {
        double begin, end;
};

/* Scratch space of one wall's generation, reused from wall to wall. */
struct mixture_scratch {
        double *post;
        size_t n_post, alloc_post;
        struct spell *spell;
        size_t n_spell, alloc_spell;
};

static void mixture_wall_draw(struct rng *r, const struct wall_class *c,
                              const struct family_params *p, struct mixture_wall *ret)
{
        *ret = (struct mixture_wall){
                .class = c,
                .shift_hours = 0.6 * rng_normal(r),
                .scheduled = rng_chance(r, c->scheduled),
                .scheduled_minute = c->scheduled_minute[rng_below(r, 2)],
                .abandoned_at = INFINITY,
        };
        for (int d = 0; d < 7; d++)
                ret->week[d] = c->week[d] * rng_lognormal(r, 1, 0.2);
        /* Own posts and their follow-ups on the busiest day of the week, half a σ of drift up,
         * within RATE_MAX (by rejection: no pile at the cap, and few retries). */
        double cap =
                RATE_MAX * (1 - c->branching) / max_of(ret->week, 7) / exp(MIXTURE_DRIFT_SIGMA / 2);
        do
                ret->per_day = rng_lognormal(r, c->median_per_day, c->sigma);
        while (ret->per_day > cap);
        if (rng_chance(r, MIXTURE_ABANDONED))
                ret->abandoned_at = rng_between(r, (double)p->t_hist, (double)p->t_end);
}

static bool mixture_silent(const struct mixture_wall *w, const struct mixture_scratch *s, double t)
{
        if (t >= w->abandoned_at)
                return true;
        for (size_t k = 0; k < s->n_spell; k++)
                if (t >= s->spell[k].begin && t < s->spell[k].end)
                        return true;
        return false;
}

static int mixture_push(struct mixture_scratch *s, double t)
{
        if (!greedy_realloc((void **)&s->post, &s->alloc_post, s->n_post + 1, sizeof(*s->post)))
                return -ENOMEM;
        s->post[s->n_post++] = t;
        return 0;
}

static int mixture_spells(const struct mixture_wall *w, struct rng *r, int64_t first, int64_t last,
                          struct mixture_scratch *s)
{
        s->n_spell = 0;
        double free_from = trace_day_start(first);
        for (int64_t d = first; d <= last; d++) {
                if (trace_day_start(d) < free_from ||
                    !rng_chance(r, w->class->spells_per_year / 365.25))
                        continue;
                if (!greedy_realloc((void **)&s->spell, &s->alloc_spell, s->n_spell + 1,
                                    sizeof(*s->spell)))
                        return -ENOMEM;
                double begin = trace_day_start(d) + rng_unit(r) * DAY;
                double end = begin + rng_lognormal(r, 8, 0.6) * DAY;
                s->spell[s->n_spell++] = (struct spell){begin, end};
                free_from = end;
        }
        return 0;
}

/* Own posts, day by day, with the drift of the wall's rate. */
static int mixture_own_posts(const struct mixture_wall *w, struct rng *r, int64_t first,
                             int64_t last, struct mixture_scratch *s)
{
        const double sigma = MIXTURE_DRIFT_SIGMA;
        const double rho = exp(-1 / MIXTURE_DRIFT_DAYS);
        double drift = sigma * rng_normal(r);
        for (int64_t d = first; d <= last; d++) {
                double mean = w->per_day * w->week[trace_day_of_week(d)] *
                              exp(drift - sigma * sigma / 2) * rng_lognormal(r, 1, 0.25);
                for (unsigned m = rng_poisson(r, mean); m > 0; m--) {
                        double h = rng_hour(r, w->class->hours) + w->shift_hours;
                        double t = trace_day_start(d) + h * HOUR;
                        if (mixture_silent(w, s, t))
                                continue;
                        int q = mixture_push(s, t);
                        if (q < 0)
                                return q;
                }
                drift = rho * drift + sqrt(1 - rho * rho) * sigma * rng_normal(r);
        }
        return 0;
}

/* Follow-ups of every post, and theirs in turn (the cluster form of a Hawkes process). */
static int mixture_follow_ups(const struct mixture_wall *w, struct rng *r, double t_end,
                              struct mixture_scratch *s)
{
        for (size_t k = 0; k < s->n_post; k++) {
                double parent = s->post[k];
                for (unsigned m = rng_poisson(r, w->class->branching); m > 0; m--) {
                        double u = rng_unit(r);
                        double t = parent +
                                   MIXTURE_KERNEL_SCALE * (pow(u, -1 / MIXTURE_KERNEL_THETA) - 1);
                        if (t >= t_end || mixture_silent(w, s, t))
                                continue;
                        double h = trace_local_hour(t) - w->shift_hours;
                        if (!rng_chance(r, trace_hour_acceptance(w->class->hours, h)))
                                continue;
                        int q = mixture_push(s, t);
                        if (q < 0)
                                return q;
                }
        }
        return 0;
}

static int mixture_scheduled(struct trace *tr, size_t i, const struct mixture_wall *w,
                             struct rng *r, int64_t first, int64_t last,
                             const struct mixture_scratch *s)
{
        const struct wall_class *c = w->class;
        for (int64_t d = first; d <= last; d++) {
                if (trace_is_weekend_day(d) && !c->scheduled_weekends)
                        continue;
                for (int k = 0; k < (c->scheduled_twice ? 2 : 1); k++) {
                        double minute =
                                c->scheduled_twice ? c->scheduled_minute[k] : w->scheduled_minute;
                        if (mixture_silent(w, s, trace_day_start(d) + minute * MINUTE) ||
                            rng_chance(r, 1.0 / 30))
                                continue;
                        int q = add_postponed(tr, i, r, d, minute);
                        if (q < 0)
                                return q;
                }
        }
        return 0;
}

static int mixture_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x6d6978747572)};
        struct rng post_rng = {p->seed ^ UINT64_C(0x6f626c617374)};
        size_t n = p->n_comm;
        _cleanup_free_ struct mixture_wall *walls = calloc(n ? n : 1, sizeof(*walls));
        if (!walls)
                return -ENOMEM;

        double shares[ELEMENTSOF(wall_classes)];
        for (size_t k = 0; k < ELEMENTSOF(wall_classes); k++)
                shares[k] = wall_classes[k].share;
        for (size_t i = 0; i < n; i++) {
                unsigned k = stratified_kind(shares, ELEMENTSOF(wall_classes), i, n);
                mixture_wall_draw(&wall_rng, &wall_classes[k], p, &walls[i]);
        }
        struct mixture_wall scratch_wall;
        shuffle(&wall_rng, walls, n, sizeof(*walls), &scratch_wall);

        int64_t first, last;
        trace_span_days(p, MIXTURE_WARM_UP_DAYS, &first, &last);
        struct mixture_scratch s = {};
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                const struct mixture_wall *w = &walls[i];
                s.n_post = 0;
                r = mixture_spells(w, &post_rng, first, last, &s);
                if (r >= 0)
                        r = mixture_own_posts(w, &post_rng, first, last, &s);
                if (r >= 0)
                        r = mixture_follow_ups(w, &post_rng, (double)p->t_end, &s);
                for (size_t k = 0; r >= 0 && k < s.n_post; k++)
                        r = trace_add_at(tr, i, s.post[k]);
                if (r >= 0 && w->scheduled)
                        r = mixture_scheduled(tr, i, w, &post_rng, first, last, &s);
        }
        free(s.post);
        free(s.spell);
        if (r < 0)
                return r;
        trace_sort(tr);
        return 0;
}

const struct family schedsim_heldout_families[] = {
        {
                .name = "weekly",
                .summary = "weekday profiles, Monday/Friday digests, a long holiday weekend "
                           "with greetings and a pre-holiday rush",
                .held_out = true,
                .generate = weekly_generate,
        },
        {
                .name = "synchronised",
                .summary = "own diurnal posting plus regional storms, announcements and outages "
                           "that 30-80% of walls repost within the hour",
                .held_out = true,
                .generate = sync_generate,
        },
        {
                .name = "mixture",
                .summary = "a region's classes of wall: exact-time scheduled posts, drift, "
                           "vacations, power-law follow-ups",
                .held_out = true,
                .generate = mixture_generate,
        },
        {},
};
