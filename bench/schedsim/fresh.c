/* fresh.c — a second held-out set of trace families, written after the first (heldout.c) had been
 * seen, apart from src/scheduler.c and without any of the scheduler's figures (issue 14).
 *
 * Four posting patterns of government walls that neither the tuning families (families.c:
 * lognormal, bursty, regime, offhours) nor the first held-out set (heldout.c: weekly,
 * synchronised, mixture) have:
 *   - `storm`: a storm of several days in one to three districts of a region. The regional
 *     emergency ministry's wall escalates its alerts round the clock; the affected districts'
 *     walls repost them after lags that depend on who is on duty (the ЕДДС in minutes, a village
 *     administration in hours or the next morning), the grid operator posts outages and their
 *     restoration updates, schools announce cancelled classes at dawn; the other districts hardly
 *     notice. Then the region goes back to normal;
 *   - `batches`: the working rhythm of institutions (schools, kindergartens, clinics, MFC offices,
 *     social services): a press secretary uploads three to eight posts within minutes, on working
 *     days in office hours; some walls are filled once a week in one batch, a school on a modular
 *     5+1 timetable falls quiet for its holiday week, the daily menu goes up before classes;
 *   - `longtail`: a region as heavy-tailed as it gets: a handful of regional walls post 40–90 a
 *     day almost round the clock, largely from a publishing queue on round minutes, with evening
 *     digests and live broadcasts announced days ahead (the governor's direct line, a weekly live
 *     address) with reminders in the last hours and a stream of quotes while on air; a band of
 *     district walls a few times a day; and most walls posting less than once a week;
 *   - `handover`: a third of the walls change editor once. The old editor's last post, a silence
 *     while the access is handed over, and for good a new rate, new hours and often a new habit:
 *     the regional management centre's content plan, published from the postponed queue on :00
 *     or :30; one handover in ten leaves the wall abandoned.
 * Their parameters were set only so that the traces look like a region's walls, from the CSV that
 * --write-trace gives (posts a day in all, the busiest wall's day, the share of posts from 00:00
 * to 06:00 Moscow time, walls silent for a week, batch sizes, repost lags); never from the
 * scheduler's figures on them. Never change them because of those figures: that would make them a
 * tuning set, and they would test nothing.
 *
 * Every family draws its walls from one stream of p->seed and their posts from another (and
 * events from a third where it has them), generates whole local days around [t_hist, t_end), and
 * leaves trace_add() to drop what falls outside. None sets tr->true_rate: the simulator takes the
 * walls' empirical hourly rates.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "trace.h"
#include "util.h"

#define MINUTE 60.0
#define HOUR   3600.0
#define DAY    86400.0

/* VK shows a postponed post ("отложенная запись") a few seconds after the minute it was set for. */
#define POSTPONED_LATENESS_SEC 8.0

/* ---- random draws -------------------------------------------------------------------------- */

/* ---- days and hours ------------------------------------------------------------------------ */

/* The next moment at or after t on a grid of `minutes` (dividing an hour, so that the grid is the
 * same in Moscow time), as VK publishes a postponed post set for it. */
static double on_grid(struct rng *r, double t, double minutes)
{
        double step = minutes * MINUTE;
        return ceil(t / step) * step + rng_between(r, 0, POSTPONED_LATENESS_SEC);
}

/* Posting by local hour (relative weights). Offices: 8 or 9 to 17 or 18, a lunch dip, a thin
 * evening tail, nearly nothing at night. */
static const double office_hours[24] = {
        0.01, 0.005, 0.005, 0.005, 0.005, 0.005, 0.02, 0.12,  /* 0–7 */
        0.6,  1.0,   1.0,   1.0,   0.8,   0.5,   0.95, 0.95,  /* 8–15 */
        0.8,  0.5,   0.22,  0.14,  0.1,   0.06,  0.03, 0.015, /* 16–23 */
};
/* Duty services (the ЕДДС, the emergency ministry, a grid's dispatch): round the clock, thinner at
 * night. */
static const double duty_hours[24] = {
        0.3, 0.25, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, /* 0–7 */
        1.0, 1.0,  1.0, 1.0, 1.0, 0.9, 1.0, 1.0, /* 8–15 */
        1.0, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, /* 16–23 */
};
/* Schools and kindergartens: the morning's news, most posts after lessons (12–16). */
static const double school_hours[24] = {
        0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.01, 0.15, /* 0–7 */
        0.45,  0.55,  0.6,   0.75,  0.95,  1.0,   1.0,  0.9,  /* 8–15 */
        0.65,  0.35,  0.18,  0.12,  0.1,   0.07,  0.03, 0.01, /* 16–23 */
};
/* Whoever runs the wall from home after work. */
static const double evening_hours[24] = {
        0.06, 0.02, 0.005, 0.005, 0.005, 0.005, 0.01, 0.05, /* 0–7 */
        0.1,  0.1,  0.1,   0.1,   0.15,  0.15,  0.15, 0.2,  /* 8–15 */
        0.3,  0.45, 0.7,   0.95,  1.0,   0.95,  0.6,  0.25, /* 16–23 */
};
/* A regional news-like wall: from 7 in the morning to 11 at night, the queue going on at night. */
static const double news_hours[24] = {
        0.1, 0.06, 0.04, 0.04, 0.04, 0.06, 0.25, 0.6, /* 0–7 */
        0.9, 1.0,  1.0,  1.0,  1.0,  0.95, 1.0,  1.0, /* 8–15 */
        1.0, 1.0,  0.95, 0.9,  0.85, 0.7,  0.45, 0.2, /* 16–23 */
};

/* ---- a wall's own posting, day by day ------------------------------------------------------ */

/* Day-to-day variation of a wall's own posts: some days have more to say. A regional news desk's
 * output is steadier (NEWS_DAY_FACTOR_SIGMA): it fills a day's plan. */
#define DAY_FACTOR_SIGMA      0.3
#define NEWS_DAY_FACTOR_SIGMA 0.12

struct daily {
        double per_day; /* posts on a working day */
        double weekend; /* times per_day on Saturday and Sunday */
        const double *hours;
        double shift_hours; /* the wall's own hours, earlier or later than the table */
        double grid;        /* minutes: publishes from the postponed queue on this grid; 0: live */
        double day_sigma;   /* of the lognormal factor of a day's posts: some days have more */
};

/* Wall i's own posts in [from, to): Poisson counts a local day around the day's rate, at the
 * wall's hours. Posts of the days around the edges that fall outside are dropped. */
static int daily_posts(struct trace *tr, size_t i, const struct daily *w, struct rng *r,
                       double from, double to)
{
        if (w->per_day <= 0 || from >= to)
                return 0;
        for (int64_t d = trace_local_day(from) - 1; d <= trace_local_day(to); d++) {
                double mean = w->per_day * (trace_is_weekend_day(d) ? w->weekend : 1) *
                              rng_lognormal(r, 1, w->day_sigma);
                for (unsigned m = rng_poisson(r, mean); m > 0; m--) {
                        double t = trace_day_start(d) +
                                   (rng_hour(r, w->hours) + w->shift_hours) * HOUR;
                        if (w->grid > 0)
                                t = on_grid(r, t, w->grid);
                        if (t < from || t >= to)
                                continue;
                        int q = trace_add_at(tr, i, t);
                        if (q < 0)
                                return q;
                }
        }
        return 0;
}

/* ---- storm: a storm of several days in a few districts ------------------------------------- */

/* Model. The region's walls: the regional directorate of the emergency ministry (ГУ МЧС, wall 0)
 * and the regional government (wall 1), then districts of STORM_DISTRICT_WALLS walls each: the
 * district administration, its unified duty and dispatch service (ЕДДС), the branch of the grid
 * or heating operator, eight settlement administrations and fourteen institutions (schools,
 * clinics, culture houses). Each kind has its own rate on a working day (lognormal; settlements
 * and institutions low and widely spread, so many are silent for a week), its weekend factor and
 * hours; a wall shifts its hours by N(0, 0.5 h). No wall's own rate exceeds 50 a working day
 * (redrawn), so that a district administration's storm days stay under 150.
 *
 * Storms. One storm starts within the measured span (its warning in the first half of it, or half
 * a day before it) and, seven times in ten, an earlier one lies in the walls' history. A storm:
 *   - warning: the ГУ МЧС posts a storm warning ("штормовое предупреждение") at an afternoon or
 *     evening hour, and updates at 0.25 an hour until the storm hits 6–18 h later;
 *   - the storm lasts lognormal(36 h, σ 0.35), 18–96 h: a regime of emergency is declared as it
 *     hits, the level is raised once or twice in its first half, and the all-clear ("отбой")
 *     ends it; between them, routine alerts (roads closed, shelters, ice, the next forecast) at an
 *     intensity rising to 2 an hour at 40% of the storm and falling back, round the clock;
 *   - it hits one district (half the storms), two (30%) or three: those react. Their walls repost
 *     the escalations (warning, regime, level, all-clear) at the kind's chance, routine alerts at
 *     a third of it, after a lognormal delay (σ 0.9) around the wall's own median: the kind's
 *     (ЕДДС 8 min, administration 25, grid 40, settlement 90, institution 2 h) times lognormal(σ
 *     0.5) — who is on duty. A repost that would fall between 22:00 and 07:00 on a wall with
 *     nobody on duty at night waits, three times in four, for the morning (07:30–10:00). Walls of
 *     the other districts repost only the escalations, at a quarter of the chance. The regional
 *     government reposts the escalations (90%, 20 min);
 *   - outages in each hit district, 3 a day of storm, from the storm's start to 6 h after it: the
 *     grid branch posts the outage 20 min after it (lognormal σ 0.6), then 1–4 updates ("бригады
 *     работают", "восстановлено") lognormal(2 h, σ 0.5) apart; the district administration
 *     reposts the outage (60%) and the restoration (50%), a settlement of the district posts its
 *     own "нет света" (40%);
 *   - each morning of the storm, half the institutions of a hit district announce cancelled
 *     classes ("актированный день") between 06:00 and 07:45;
 *   - the district administration posts twice its rate from the storm's start to a day after it
 *     (the regime's decree, reports from the site, clean-up).
 * The rates were set so that 300 walls post 750–1000 a day (a storm week the most), and a storm's
 * busiest wall (the ГУ МЧС) stays under 150 a day.
 */

#define STORM_DISTRICT_WALLS  25
#define STORM_REGIONAL_WALLS  2
#define STORM_MAX_DISTRICTS   3
#define STORM_WARNING_RATE    0.25      /* updates an hour between the warning and the storm */
#define STORM_ALERT_PEAK      2.0       /* routine alerts an hour at the storm's height */
#define STORM_ALERT_FLOOR     0.3       /* and at its start and end */
#define STORM_PEAK_AT         0.4       /* of the storm's duration */
#define STORM_ROUTINE_JOIN    (1.0 / 3) /* times the kind's chance to repost an escalation */
#define STORM_ELSEWHERE_JOIN  0.25      /* the same, for walls of districts the storm missed */
#define STORM_LAG_SIGMA       0.9       /* of one repost's delay around the wall's median */
#define STORM_OUTAGES_PER_DAY 3.0       /* in each district hit */
#define STORM_HISTORY_CHANCE  0.7       /* of an earlier storm in the walls' history */
#define STORM_CLOSURE_CHANCE  0.5       /* of an institution announcing cancelled classes */
#define STORM_NIGHT_WAITS     0.75      /* chance that a night repost waits for the morning */
#define STORM_RATE_CAP        50.0      /* own posts a working day: doubled in a storm, under 150 */

enum storm_kind {
        STORM_MCHS,       /* the regional directorate of the emergency ministry */
        STORM_GOVERNMENT, /* the regional government */
        STORM_ADMIN,      /* a district administration */
        STORM_EDDS,       /* a district's duty and dispatch service */
        STORM_GRID,       /* a district's branch of the grid or heating operator */
        STORM_SETTLEMENT, /* a settlement administration */
        STORM_INSTITUTION,
        _STORM_KIND_MAX,
};

struct storm_kind_info {
        double median_per_day, sigma; /* own posts on a working day (lognormal) */
        double weekend;
        const double *hours;
        double join;        /* chance to repost an escalation in a district the storm hit */
        double lag_minutes; /* median delay of its reposts */
        bool night_staff;   /* someone on duty at night */
};

static const struct storm_kind_info storm_kinds[_STORM_KIND_MAX] = {
        [STORM_MCHS] = {14, 0.2, 0.9, duty_hours, 0, 0, true},
        [STORM_GOVERNMENT] = {35, 0.2, 0.5, news_hours, 0.9, 20, false},
        [STORM_ADMIN] = {12, 0.6, 0.3, office_hours, 0.75, 25, false},
        [STORM_EDDS] = {2, 0.6, 1.0, duty_hours, 0.95, 8, true},
        [STORM_GRID] = {0.8, 0.8, 0.7, duty_hours, 0.3, 40, true},
        [STORM_SETTLEMENT] = {0.5, 1.2, 0.3, office_hours, 0.4, 90, false},
        [STORM_INSTITUTION] = {2, 1.0, 0.15, school_hours, 0.08, 120, false},
};

struct storm_wall {
        enum storm_kind kind;
        size_t district; /* SIZE_MAX for the regional walls */
        struct daily daily;
        double lag; /* median delay of its reposts, seconds */
};

struct storm {
        double warning, hit, end;
        size_t district[STORM_MAX_DISTRICTS];
        size_t n_district;
};

struct alert {
        double t;
        bool escalation; /* warning, regime, level, all-clear: what every wall reposts */
};

static enum storm_kind storm_kind_of(size_t i, size_t *ret_district)
{
        if (i < STORM_REGIONAL_WALLS) {
                *ret_district = SIZE_MAX;
                return i == 0 ? STORM_MCHS : STORM_GOVERNMENT;
        }
        size_t j = (i - STORM_REGIONAL_WALLS) % STORM_DISTRICT_WALLS;
        *ret_district = (i - STORM_REGIONAL_WALLS) / STORM_DISTRICT_WALLS;
        return j == 0    ? STORM_ADMIN
               : j == 1  ? STORM_EDDS
               : j == 2  ? STORM_GRID
               : j <= 10 ? STORM_SETTLEMENT
                         : STORM_INSTITUTION;
}

static void storm_wall_draw(struct rng *r, size_t i, struct storm_wall *ret)
{
        size_t district;
        enum storm_kind kind = storm_kind_of(i, &district);
        const struct storm_kind_info *k = &storm_kinds[kind];
        /* one draw a statement: the order of an initializer list's evaluations is unspecified */
        double per_day;
        do
                per_day = rng_lognormal(r, k->median_per_day, k->sigma);
        while (per_day > STORM_RATE_CAP);
        double shift = 0.5 * rng_normal(r);
        double lag = k->lag_minutes * MINUTE * rng_lognormal(r, 1, 0.5);
        *ret = (struct storm_wall){
                .kind = kind,
                .district = district,
                .daily = {per_day, k->weekend, k->hours, shift, 0, DAY_FACTOR_SIGMA},
                .lag = lag,
        };
}

static size_t storm_n_districts(size_t n)
{
        return n <= STORM_REGIONAL_WALLS ? 0
                                         : (n - STORM_REGIONAL_WALLS + STORM_DISTRICT_WALLS - 1) /
                                                   STORM_DISTRICT_WALLS;
}

static bool storm_hits(const struct storm *s, size_t district)
{
        for (size_t k = 0; k < s->n_district; k++)
                if (s->district[k] == district)
                        return true;
        return false;
}

/* A storm whose warning is at `warning`'s day, at an afternoon or evening hour. */
static void storm_draw(struct rng *r, double warning, size_t n_districts, struct storm *ret)
{
        static const double warning_hours[24] = {
                0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 0.6, 0.6, 0.7, 0.8, 0.9,
                1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.5, 0.3,
        };
        *ret = (struct storm){};
        ret->warning =
                trace_day_start(trace_local_day(warning)) + rng_hour(r, warning_hours) * HOUR;
        ret->hit = ret->warning + rng_between(r, 6, 18) * HOUR;
        double hours = fmin(96, fmax(18, rng_lognormal(r, 36, 0.35)));
        ret->end = ret->hit + hours * HOUR;

        double u = rng_unit(r);
        size_t want = u < 0.5 ? 1 : u < 0.8 ? 2 : 3;
        while (ret->n_district < want && ret->n_district < n_districts) {
                size_t d = rng_below(r, n_districts);
                if (!storm_hits(ret, d))
                        ret->district[ret->n_district++] = d;
        }
}

static int storm_push_alert(struct alert **a, size_t *n, size_t *allocated, double t,
                            bool escalation)
{
        if (!greedy_realloc((void **)a, allocated, *n + 1, sizeof(**a)))
                return -ENOMEM;
        (*a)[(*n)++] = (struct alert){t, escalation};
        return 0;
}

/* Routine alerts an hour at time t of a storm: a floor, rising to the peak and back. */
static double storm_alert_rate(const struct storm *s, double t)
{
        double x = (t - s->hit) / (s->end - s->hit);
        double rise = x < STORM_PEAK_AT ? x / STORM_PEAK_AT : (1 - x) / (1 - STORM_PEAK_AT);
        return STORM_ALERT_FLOOR + (STORM_ALERT_PEAK - STORM_ALERT_FLOOR) * fmax(0, rise);
}

/* The ГУ МЧС's alerts of a storm, unsorted. */
static int storm_alerts(const struct storm *s, struct rng *r, struct alert **a, size_t *n,
                        size_t *allocated)
{
        int q = storm_push_alert(a, n, allocated, s->warning, true);
        for (double t = s->warning + rng_exp(r) * HOUR / STORM_WARNING_RATE; q >= 0 && t < s->hit;
             t += rng_exp(r) * HOUR / STORM_WARNING_RATE)
                q = storm_push_alert(a, n, allocated, t, false);
        if (q >= 0)
                q = storm_push_alert(a, n, allocated, s->hit, true);
        for (unsigned k = 1 + (unsigned)rng_below(r, 2); q >= 0 && k > 0; k--)
                q = storm_push_alert(a, n, allocated,
                                     s->hit + rng_between(r, 0.1, 0.5) * (s->end - s->hit), true);
        /* routine alerts by thinning at the peak rate */
        for (double t = s->hit + rng_exp(r) * HOUR / STORM_ALERT_PEAK; q >= 0 && t < s->end;
             t += rng_exp(r) * HOUR / STORM_ALERT_PEAK)
                if (rng_chance(r, storm_alert_rate(s, t) / STORM_ALERT_PEAK))
                        q = storm_push_alert(a, n, allocated, t, false);
        if (q >= 0)
                q = storm_push_alert(a, n, allocated, s->end, true);
        return q;
}

/* When wall w reposts what came out at t. */
static double storm_repost_time(const struct storm_wall *w, struct rng *r, double t)
{
        double at = t + rng_lognormal(r, w->lag, STORM_LAG_SIGMA);
        double h = trace_local_hour(at);
        if (!storm_kinds[w->kind].night_staff && (h >= 22 || h < 7) &&
            rng_chance(r, STORM_NIGHT_WAITS))
                at = trace_next_morning(r, at, 7.5, 10);
        return at;
}

static int storm_repost_alerts(struct trace *tr, const struct storm_wall *walls, size_t n,
                               const struct storm *s, const struct alert *a, size_t n_alert,
                               struct rng *r)
{
        for (size_t k = 0; k < n_alert; k++)
                for (size_t i = 1; i < n; i++) {
                        const struct storm_wall *w = &walls[i];
                        double join = storm_kinds[w->kind].join;
                        if (w->district != SIZE_MAX && !storm_hits(s, w->district))
                                join *= a[k].escalation ? STORM_ELSEWHERE_JOIN : 0;
                        else if (!a[k].escalation)
                                join *= w->district == SIZE_MAX ? 0 : STORM_ROUTINE_JOIN;
                        if (!rng_chance(r, join))
                                continue;
                        int q = trace_add_at(tr, i, storm_repost_time(w, r, a[k].t));
                        if (q < 0)
                                return q;
                }
        return 0;
}

/* The first wall of a kind in a district, or SIZE_MAX if the district is too small to have one.
 */
static size_t storm_wall_of(const struct storm_wall *walls, size_t n, size_t district,
                            enum storm_kind kind)
{
        size_t base = STORM_REGIONAL_WALLS + district * STORM_DISTRICT_WALLS;
        for (size_t i = base; i < n && i < base + STORM_DISTRICT_WALLS; i++)
                if (walls[i].kind == kind)
                        return i;
        return SIZE_MAX;
}

/* A random settlement of a district, or SIZE_MAX. */
static size_t storm_settlement_of(const struct storm_wall *walls, size_t n, size_t district,
                                  struct rng *r)
{
        size_t first = storm_wall_of(walls, n, district, STORM_SETTLEMENT);
        if (first == SIZE_MAX)
                return SIZE_MAX;
        size_t k = first + rng_below(r, STORM_DISTRICT_WALLS);
        return k < n && walls[k].kind == STORM_SETTLEMENT ? k : first;
}

static int storm_maybe_repost(struct trace *tr, const struct storm_wall *walls, size_t i,
                              struct rng *r, double chance, double t)
{
        if (i == SIZE_MAX || !rng_chance(r, chance))
                return 0;
        return trace_add_at(tr, i, storm_repost_time(&walls[i], r, t));
}

/* One outage in a district: the grid's posts, the administration's and a settlement's. */
static int storm_outage(struct trace *tr, const struct storm_wall *walls, size_t n, size_t district,
                        double t, struct rng *r)
{
        size_t grid = storm_wall_of(walls, n, district, STORM_GRID);
        size_t admin = storm_wall_of(walls, n, district, STORM_ADMIN);
        size_t settlement = storm_settlement_of(walls, n, district, r);
        if (grid == SIZE_MAX)
                return 0;

        double at = t + rng_lognormal(r, 20 * MINUTE, 0.6);
        int q = trace_add_at(tr, grid, at);
        if (q >= 0)
                q = storm_maybe_repost(tr, walls, admin, r, 0.6, at);
        if (q >= 0)
                q = storm_maybe_repost(tr, walls, settlement, r, 0.4, t);
        for (unsigned u = 1 + (unsigned)rng_below(r, 4); q >= 0 && u > 0; u--) {
                at += rng_lognormal(r, 2 * HOUR, 0.5);
                q = trace_add_at(tr, grid, at);
                if (q >= 0 && u == 1) /* the restoration */
                        q = storm_maybe_repost(tr, walls, admin, r, 0.5, at);
        }
        return q;
}

/* A hit district: its outages, its schools' mornings, its administration's extra posts. */
static int storm_district(struct trace *tr, const struct storm_wall *walls, size_t n,
                          const struct storm *s, size_t district, struct rng *r)
{
        double from = s->hit, to = s->end + 6 * HOUR;
        int q = 0;
        for (unsigned k = rng_poisson(r, STORM_OUTAGES_PER_DAY * (to - from) / DAY);
             q >= 0 && k > 0; k--)
                q = storm_outage(tr, walls, n, district, rng_between(r, from, to), r);

        size_t base = STORM_REGIONAL_WALLS + district * STORM_DISTRICT_WALLS;
        for (size_t i = base; q >= 0 && i < n && i < base + STORM_DISTRICT_WALLS; i++) {
                if (walls[i].kind == STORM_ADMIN) {
                        q = daily_posts(tr, i, &walls[i].daily, r, s->hit, s->end + DAY);
                        continue;
                }
                if (walls[i].kind != STORM_INSTITUTION)
                        continue;
                for (int64_t d = trace_local_day(s->hit); q >= 0 && d <= trace_local_day(s->end);
                     d++) {
                        double t = trace_day_start(d) + rng_between(r, 6, 7.75) * HOUR;
                        if (t >= s->hit && t < s->end && rng_chance(r, STORM_CLOSURE_CHANCE))
                                q = trace_add_at(tr, i, t);
                }
        }
        return q;
}

static int storm_episode(struct trace *tr, const struct storm_wall *walls, size_t n,
                         const struct storm *s, struct rng *r)
{
        _cleanup_free_ struct alert *a = NULL;
        size_t n_alert = 0, allocated = 0;
        int q = storm_alerts(s, r, &a, &n_alert, &allocated);
        for (size_t k = 0; q >= 0 && k < n_alert; k++)
                q = trace_add_at(tr, 0, a[k].t + rng_between(r, 0, MINUTE));
        if (q >= 0)
                q = storm_repost_alerts(tr, walls, n, s, a, n_alert, r);
        for (size_t k = 0; q >= 0 && k < s->n_district; k++)
                q = storm_district(tr, walls, n, s, s->district[k], r);
        return q;
}

static int storm_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x6d6574656c6c)};  /* "метель" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x7265706f7374)};  /* "repost" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x6f746b6c6a75)}; /* "отключение" */
        size_t n = p->n_comm;
        if (n == 0)
                return 0;
        _cleanup_free_ struct storm_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                storm_wall_draw(&wall_rng, i, &walls[i]);

        for (size_t i = 0; i < n; i++) {
                int q = daily_posts(tr, i, &walls[i].daily, &post_rng, (double)p->t_hist,
                                    (double)p->t_end);
                if (q < 0)
                        return q;
        }

        size_t n_districts = storm_n_districts(n);
        double t0 = (double)p->t0, span = (double)(p->t_end - p->t0);
        struct storm s;
        storm_draw(&event_rng, rng_between(&event_rng, t0 - DAY / 2, t0 + span / 2), n_districts,
                   &s);
        int q = storm_episode(tr, walls, n, &s, &event_rng);
        if (q < 0)
                return q;
        /* an earlier storm the walls' history remembers, ending well before t0 */
        double past_from = (double)p->t_hist + DAY, past_to = t0 - 6 * DAY;
        if (past_to > past_from && rng_chance(&event_rng, STORM_HISTORY_CHANCE)) {
                storm_draw(&event_rng, rng_between(&event_rng, past_from, past_to), n_districts,
                           &s);
                q = storm_episode(tr, walls, n, &s, &event_rng);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

/* ---- batches: institutions' working rhythm ------------------------------------------------- */

/* Model. The walls of a region's institutions: schools (40%), kindergartens (22%), clinics (12%),
 * MFC offices (6%) and social services, libraries and culture houses (20%). Whoever runs such a
 * wall does it between other duties, in sittings: a sitting uploads a batch of 1 + Poisson(b − 1)
 * posts, b drawn per wall in the kind's range (a school's photo reports, three to eight at a time;
 * an MFC office's one notice), lognormal(70 s, σ 0.7) apart — the time to paste the next text
 * and attach its photos. Sittings are Poisson on working days around the wall's rate (lognormal,
 * the kind's median a week, σ 0.9), a kind's small share of it on weekends (MFC offices open on
 * Saturday), at the kind's hours shifted by N(0, 0.5 h); one wall in eight is run from home in
 * the evening instead. And:
 *   - weekly walls: a quarter of the schools, kindergartens and social walls are filled once a
 *     week in one batch of 1 + Poisson(w − 1), w uniform in 4–10 ("итоги недели"), on Friday
 *     (60%), Monday (20%) or Wednesday, at 13:00–17:00; one week in ten they skip;
 *   - the daily menu: 15% of schools and kindergartens post it every working day around their
 *     own time between 07:30 and 08:30 (σ 10 min);
 *   - holidays: 40% of schools follow a modular 5+1 timetable, five weeks of lessons and a week of
 *     holidays, the region's municipalities in two phases three weeks apart: in the holiday week
 *     a school holds a tenth of its sittings and posts no menu;
 *   - sick leave or vacation: one wall in 25 falls silent for 5–14 days at a random moment.
 * Set so that 300 walls post some 1200 a working day (900 a day over the week), nearly nothing at
 * night, and a few walls nothing for a week.
 */

#define BATCH_GAP_MEDIAN     (70 * 1.0) /* seconds between the posts of a batch */
#define BATCH_GAP_SIGMA      0.7
#define BATCH_EVENING_EDITOR 0.125      /* walls run from home in the evening */
#define BATCH_MODULAR_CYCLE  6          /* weeks: five of lessons and one of holidays */
#define BATCH_HOLIDAY_FACTOR 0.1        /* of the sittings in a holiday week */
#define BATCH_WEEKLY_SKIP    0.1        /* chance that a weekly wall skips a week */
#define BATCH_SPELL_CHANCE   (1.0 / 25) /* of a wall's sick leave or vacation in the span */

enum batch_kind {
        BATCH_SCHOOL,
        BATCH_KINDERGARTEN,
        BATCH_CLINIC,
        BATCH_MFC,
        BATCH_SOCIAL,
        _BATCH_KIND_MAX,
};

struct batch_kind_info {
        double share;
        double sittings_per_week;  /* median of the walls' working-week sittings */
        double weekend;            /* times a working day's sittings, per weekend day */
        double batch_lo, batch_hi; /* a wall's mean batch size lies in between */
        const double *hours;
        double weekly;  /* share of walls filled once a week */
        double menu;    /* share of walls posting the daily menu */
        double modular; /* share of walls on a 5+1 timetable */
};

static const struct batch_kind_info batch_kinds[_BATCH_KIND_MAX] = {
        [BATCH_SCHOOL] = {0.40, 6, 0.05, 2.5, 6, school_hours, 0.25, 0.15, 0.4},
        [BATCH_KINDERGARTEN] = {0.22, 4, 0.02, 2, 5, school_hours, 0.25, 0.15, 0},
        [BATCH_CLINIC] = {0.12, 4, 0.05, 1.2, 2.5, office_hours, 0, 0, 0},
        [BATCH_MFC] = {0.06, 10, 0.3, 1, 1.3, office_hours, 0, 0, 0},
        [BATCH_SOCIAL] = {0.20, 4, 0.15, 1.5, 4, office_hours, 0.25, 0, 0},
};

struct batch_wall {
        enum batch_kind kind;
        double sittings_per_day; /* on a working day */
        double batch_mean;
        const double *hours;
        double shift_hours;
        int weekly_day;      /* -1: not a weekly wall */
        double weekly_batch; /* its mean batch */
        double menu_hour;    /* local hour of the daily menu, or 0: none */
        int modular_phase;   /* -1: not on a 5+1 timetable */
        double spell_begin, spell_end;
};

static enum batch_kind batch_kind_draw(struct rng *r)
{
        double x = rng_unit(r);
        for (unsigned k = 0; k < _BATCH_KIND_MAX - 1; k++) {
                if (x < batch_kinds[k].share)
                        return k;
                x -= batch_kinds[k].share;
        }
        return _BATCH_KIND_MAX - 1;
}

static int batch_weekly_day(struct rng *r)
{
        double u = rng_unit(r);
        return u < 0.6 ? 4 : u < 0.8 ? 0 : 2;
}

static void batch_wall_draw(struct rng *r, const struct family_params *p, struct batch_wall *ret)
{
        enum batch_kind kind = batch_kind_draw(r);
        const struct batch_kind_info *k = &batch_kinds[kind];
        /* one draw a statement: the order of an initializer list's evaluations is unspecified */
        double sittings = rng_lognormal(r, k->sittings_per_week, 0.9) / 5;
        double batch_mean = rng_between(r, k->batch_lo, k->batch_hi);
        const double *hours = rng_chance(r, BATCH_EVENING_EDITOR) ? evening_hours : k->hours;
        double shift = 0.5 * rng_normal(r);
        *ret = (struct batch_wall){
                .kind = kind,
                .sittings_per_day = sittings,
                .batch_mean = batch_mean,
                .hours = hours,
                .shift_hours = shift,
                .weekly_day = -1,
                .modular_phase = -1,
                .spell_begin = INFINITY,
                .spell_end = INFINITY,
        };
        if (rng_chance(r, k->weekly)) {
                ret->weekly_day = batch_weekly_day(r);
                ret->weekly_batch = rng_between(r, 4, 10);
        }
        if (rng_chance(r, k->menu))
                ret->menu_hour = rng_between(r, 7.5, 8.5);
        if (rng_chance(r, k->modular))
                ret->modular_phase = rng_chance(r, 0.5) ? 0 : 3;
        if (rng_chance(r, BATCH_SPELL_CHANCE)) {
                ret->spell_begin = rng_between(r, (double)p->t_hist, (double)p->t_end);
                ret->spell_end = ret->spell_begin + rng_between(r, 5, 14) * DAY;
        }
}

static bool batch_holiday_week(const struct batch_wall *w, int64_t day)
{
        if (w->modular_phase < 0)
                return false;
        int64_t week = (day - (((day % 7) + 7) % 7)) / 7;
        int64_t k = ((week + w->modular_phase) % BATCH_MODULAR_CYCLE + BATCH_MODULAR_CYCLE) %
                    BATCH_MODULAR_CYCLE;
        return k == BATCH_MODULAR_CYCLE - 1;
}

/* A batch of 1 + Poisson(mean − 1) posts from t on. */
static int batch_upload(struct trace *tr, size_t i, const struct batch_wall *w, struct rng *r,
                        double t, double mean)
{
        for (unsigned m = 1 + rng_poisson(r, mean - 1); m > 0; m--) {
                if (t >= w->spell_begin && t < w->spell_end)
                        return 0;
                int q = trace_add_at(tr, i, t);
                if (q < 0)
                        return q;
                t += rng_lognormal(r, BATCH_GAP_MEDIAN, BATCH_GAP_SIGMA);
        }
        return 0;
}

static int batch_day(struct trace *tr, size_t i, const struct batch_wall *w, struct rng *r,
                     int64_t d)
{
        bool weekend = trace_is_weekend_day(d), holiday = batch_holiday_week(w, d);
        int q = 0;
        if (w->weekly_day >= 0) {
                if (trace_day_of_week(d) == w->weekly_day && !holiday &&
                    !rng_chance(r, BATCH_WEEKLY_SKIP))
                        q = batch_upload(tr, i, w, r,
                                         trace_day_start(d) + rng_between(r, 13, 17) * HOUR,
                                         w->weekly_batch);
                return q;
        }
        if (w->menu_hour > 0 && !weekend && !holiday)
                q = batch_upload(tr, i, w, r,
                                 trace_day_start(d) + (w->menu_hour + rng_normal(r) / 6) * HOUR, 1);

        double mean = w->sittings_per_day * (weekend ? batch_kinds[w->kind].weekend : 1) *
                      (holiday ? BATCH_HOLIDAY_FACTOR : 1) * rng_lognormal(r, 1, DAY_FACTOR_SIGMA);
        for (unsigned m = rng_poisson(r, mean); q >= 0 && m > 0; m--) {
                double h = rng_hour(r, w->hours) + w->shift_hours;
                q = batch_upload(tr, i, w, r, trace_day_start(d) + h * HOUR, w->batch_mean);
        }
        return q;
}

static int batch_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x736b6f6c61)};   /* "школа" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x7061636b6574)}; /* "packet" */
        size_t n = p->n_comm;
        int64_t first = trace_local_day((double)p->t_hist) - 1;
        int64_t last = trace_local_day((double)(p->t_end - 1));
        for (size_t i = 0; i < n; i++) {
                struct batch_wall w;
                batch_wall_draw(&wall_rng, p, &w);
                for (int64_t d = first; d <= last; d++) {
                        int q = batch_day(tr, i, &w, &post_rng, d);
                        if (q < 0)
                                return q;
                }
        }
        trace_sort(tr);
        return 0;
}

/* ---- longtail: a few news-like regional walls, and hundreds that hardly post --------------- */

/* Model. Three bands of walls, by position (wall 0 first):
 *   - the head, 3% of the walls (at least one): the regional government, the governor's press
 *     service, the regional news-like management centre. Each posts log-uniform 40–90 a working
 *     day, three quarters of it at weekends, at a news desk's hours (07:00–23:00, a thin queue at
 *     night), its day's count steadier than other walls' (σ 0.12: it fills a plan); a share of its
 *     posts (uniform 30–80%) goes out from the postponed queue on a grid of 15 or 30 min, the rest
 *     live. Nine evenings in ten it posts a digest ("главное за день"), 3–6 posts a minute or
 *     three apart from 20:00 or 21:00;
 *   - the middle, 20%: district administrations and city services, lognormal(4 a working day,
 *     σ 0.8), office hours, a third of that at weekends;
 *   - the tail, the rest: village administrations, small schools and libraries, lognormal(0.08 a
 *     day, σ 1.1): the median wall posts once a fortnight, most walls are silent for a week.
 * Live broadcasts, hosted by wall 0 (with wall 1 quoting too, if there is one):
 *   - the governor's direct line ("прямая линия"), once, on a day within the measured span at
 *     12:00 or 15:00, 90–180 min long: announced 4–7 days ahead (10:00–12:00), reminded every
 *     morning since (70%), then 3 h, 1 h and 10 min before from the queue; "мы в эфире" at the
 *     start, quotes on both walls at one every 5 min each while on air, a summary an hour after
 *     (lognormal, σ 0.5), and 1–3 posts on the governor's instructions the next morning;
 *   - the governor's weekly live address, on the same weekday every week (Tuesday, Wednesday or
 *     Thursday) at 19:00 or 20:00, 30–50 min: announced the day before (12:00–15:00), reminded an
 *     hour before, "в эфире" at the start, quotes at one every 6 min on wall 0, a summary after.
 * The middle reposts the direct line's announcement (50%), its last morning reminder (30%) and its
 * start (20%), the weekly address's announcement (15%), after lognormal(90 min, σ 1) and in office
 * hours (a repost due outside 08:00–19:00 waits, four times in five, for 09:00–11:00); the tail
 * reposts the direct line's announcement (5%). Set so that 300 walls post 800–950 a day,
 * the busiest wall under 150 on the direct line's day, and over half the walls nothing in a week.
 */

#define LONGTAIL_HEAD_SHARE    0.03
#define LONGTAIL_MIDDLE_SHARE  0.20
#define LONGTAIL_HEAD_LO       40.0 /* posts a working day of the head walls, log-uniform */
#define LONGTAIL_HEAD_HI       90.0
#define LONGTAIL_DIGEST_CHANCE 0.9 /* of an evening's digest */
#define LONGTAIL_REPOST_LAG    (90 * MINUTE)

enum longtail_band {
        LONGTAIL_HEAD,
        LONGTAIL_MIDDLE,
        LONGTAIL_TAIL,
};

struct longtail_wall {
        enum longtail_band band;
        struct daily live, queued; /* the head's posts split between the two; others all live */
        double digest_hour;        /* 0: no digest */
};

/* What a broadcast's posts are reposted by: the middle's and the tail's chances. */
struct repost_chance {
        double middle, tail;
};

struct broadcast {
        double at, minutes;
        double lead_days;       /* announced this many days ahead */
        bool morning_reminders; /* every morning from the announcement on */
        double quote_minutes;   /* one quote this often on each host while on air */
        unsigned n_hosts;       /* walls 0 and, if 2, 1 */
        bool instructions;      /* posts on the governor's instructions the next morning */
        struct repost_chance announced, last_reminder, on_air;
};

static enum longtail_band longtail_band_of(size_t i, size_t n)
{
        size_t head = (size_t)fmax(1, round(LONGTAIL_HEAD_SHARE * (double)n));
        size_t middle = (size_t)round(LONGTAIL_MIDDLE_SHARE * (double)n);
        return i < head ? LONGTAIL_HEAD : i < head + middle ? LONGTAIL_MIDDLE : LONGTAIL_TAIL;
}

static void longtail_wall_draw(struct rng *r, enum longtail_band band, struct longtail_wall *ret)
{
        double shift = 0.5 * rng_normal(r);
        *ret = (struct longtail_wall){
                .band = band,
                .live = {.hours = office_hours,
                         .shift_hours = shift,
                         .day_sigma = DAY_FACTOR_SIGMA},
        };
        switch (band) {
        case LONGTAIL_HEAD: {
                double per_day = rng_log_between(r, LONGTAIL_HEAD_LO, LONGTAIL_HEAD_HI);
                double queued = rng_between(r, 0.3, 0.8);
                shift = 0.3 * rng_normal(r);
                ret->live = (struct daily){per_day * (1 - queued), 0.75, news_hours, shift, 0,
                                           NEWS_DAY_FACTOR_SIGMA};
                ret->queued = ret->live;
                ret->queued.per_day = per_day * queued;
                ret->queued.grid = rng_chance(r, 0.5) ? 15 : 30;
                ret->digest_hour = rng_chance(r, 0.5) ? 20 : 21;
                break;
        }
        case LONGTAIL_MIDDLE:
                ret->live.per_day = rng_lognormal(r, 4, 0.8);
                ret->live.weekend = 1.0 / 3;
                break;
        case LONGTAIL_TAIL:
                ret->live.per_day = rng_lognormal(r, 0.08, 1.1);
                ret->live.weekend = 0.2;
                break;
        }
}

static int longtail_digests(struct trace *tr, size_t i, const struct longtail_wall *w,
                            struct rng *r, int64_t first, int64_t last)
{
        for (int64_t d = first; d <= last; d++) {
                if (!rng_chance(r, LONGTAIL_DIGEST_CHANCE))
                        continue;
                double t = trace_day_start(d) + w->digest_hour * HOUR + rng_between(r, 0, 8);
                for (unsigned m = 3 + (unsigned)rng_below(r, 4); m > 0; m--) {
                        int q = trace_add_at(tr, i, t);
                        if (q < 0)
                                return q;
                        t += rng_between(r, 1, 3) * MINUTE;
                }
        }
        return 0;
}

/* A wall of the middle or the tail reposting, in office hours, what came out at t. */
static int longtail_repost(struct trace *tr, const struct longtail_wall *walls, size_t n,
                           const struct repost_chance *c, double t, struct rng *r)
{
        for (size_t i = 0; i < n; i++) {
                double chance = walls[i].band == LONGTAIL_MIDDLE ? c->middle
                                : walls[i].band == LONGTAIL_TAIL ? c->tail
                                                                 : 0;
                if (!rng_chance(r, chance))
                        continue;
                double at = t + rng_lognormal(r, LONGTAIL_REPOST_LAG, 1.0);
                double h = trace_local_hour(at);
                if ((h < 8 || h >= 19) && rng_chance(r, 0.8))
                        at = trace_next_morning(r, at, 9, 11);
                int q = trace_add_at(tr, i, at);
                if (q < 0)
                        return q;
        }
        return 0;
}

/* The host's posts before the broadcast: the announcement, the mornings', the last hours'. */
static int broadcast_reminders(struct trace *tr, const struct longtail_wall *walls, size_t n,
                               const struct broadcast *b, struct rng *r)
{
        int64_t day = trace_local_day(b->at);
        double announced =
                trace_day_start(day - (int64_t)b->lead_days) + rng_between(r, 10, 12) * HOUR;
        if (b->lead_days < 4) /* the day before: after lunch */
                announced = trace_day_start(day - 1) + rng_between(r, 12, 15) * HOUR;
        int q = trace_add_at(tr, 0, announced);
        if (q >= 0)
                q = longtail_repost(tr, walls, n, &b->announced, announced, r);
        for (int64_t d = trace_local_day(announced) + 1; q >= 0 && b->morning_reminders && d < day;
             d++) {
                if (!rng_chance(r, 0.7))
                        continue;
                double t = on_grid(r, trace_day_start(d) + rng_between(r, 9, 11) * HOUR, 30);
                q = trace_add_at(tr, 0, t);
                if (q >= 0 && d == day - 1)
                        q = longtail_repost(tr, walls, n, &b->last_reminder, t, r);
        }
        static const double before_minutes[] = {180, 60, 10};
        for (size_t k = 0; q >= 0 && k < ELEMENTSOF(before_minutes); k++) {
                if (!b->morning_reminders && before_minutes[k] != 60)
                        continue; /* the weekly address is reminded an hour before only */
                q = trace_add_at(tr, 0, b->at - before_minutes[k] * MINUTE + rng_between(r, 0, 8));
        }
        return q;
}

/* The broadcast itself and what follows it. */
static int broadcast_on_air(struct trace *tr, const struct longtail_wall *walls, size_t n,
                            const struct broadcast *b, struct rng *r)
{
        double end = b->at + b->minutes * MINUTE;
        int q = trace_add_at(tr, 0, b->at + rng_between(r, 0, 20));
        if (q >= 0)
                q = longtail_repost(tr, walls, n, &b->on_air, b->at, r);
        for (size_t host = 0; q >= 0 && host < b->n_hosts && host < n; host++)
                for (double t = b->at + rng_exp(r) * b->quote_minutes * MINUTE; q >= 0 && t < end;
                     t += rng_exp(r) * b->quote_minutes * MINUTE)
                        q = trace_add_at(tr, host, t);
        if (q >= 0)
                q = trace_add_at(tr, 0, end + rng_lognormal(r, HOUR, 0.5));
        int64_t next = trace_local_day(end) + 1;
        for (unsigned m = b->instructions ? 1 + (unsigned)rng_below(r, 3) : 0; q >= 0 && m > 0; m--)
                q = trace_add_at(tr, 0, trace_day_start(next) + rng_between(r, 9, 12) * HOUR);
        return q;
}

static int longtail_broadcast(struct trace *tr, const struct longtail_wall *walls, size_t n,
                              const struct broadcast *b, struct rng *r)
{
        int q = broadcast_reminders(tr, walls, n, b, r);
        return q < 0 ? q : broadcast_on_air(tr, walls, n, b, r);
}

static int longtail_direct_line(struct trace *tr, const struct longtail_wall *walls, size_t n,
                                const struct family_params *p, struct rng *r)
{
        int64_t span_days = (int64_t)fmax(1, floor((double)(p->t_end - p->t0) / DAY));
        int64_t day = trace_local_day((double)p->t0) + (int64_t)rng_below(r, (size_t)span_days);
        /* one draw a statement: the order of an initializer list's evaluations is unspecified */
        double hour = rng_chance(r, 0.6) ? 12 : 15;
        double minutes = rng_between(r, 90, 180);
        double lead_days = (double)(4 + rng_below(r, 4));
        struct broadcast b = {
                .at = trace_day_start(day) + hour * HOUR,
                .minutes = minutes,
                .lead_days = lead_days,
                .morning_reminders = true,
                .quote_minutes = 5,
                .n_hosts = 2,
                .instructions = true,
                .announced = {0.5, 0.05},
                .last_reminder = {0.3, 0},
                .on_air = {0.2, 0},
        };
        return longtail_broadcast(tr, walls, n, &b, r);
}

static int longtail_weekly_addresses(struct trace *tr, const struct longtail_wall *walls, size_t n,
                                     const struct family_params *p, struct rng *r)
{
        int weekday = 1 + (int)rng_below(r, 3);
        double hour = rng_chance(r, 0.5) ? 19 : 20;
        int64_t last = trace_local_day((double)(p->t_end - 1));
        for (int64_t d = trace_local_day((double)p->t_hist); d <= last + 1; d++) {
                if (trace_day_of_week(d) != weekday)
                        continue;
                struct broadcast b = {
                        .at = trace_day_start(d) + hour * HOUR,
                        .minutes = rng_between(r, 30, 50),
                        .lead_days = 1,
                        .quote_minutes = 6,
                        .n_hosts = 1,
                        .announced = {0.15, 0},
                };
                int q = longtail_broadcast(tr, walls, n, &b, r);
                if (q < 0)
                        return q;
        }
        return 0;
}

static int longtail_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x68766f7374)};    /* "хвост" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x6c656e7461)};    /* "лента" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x7072616d6179)}; /* "прямая" */
        size_t n = p->n_comm;
        if (n == 0)
                return 0;
        _cleanup_free_ struct longtail_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                longtail_wall_draw(&wall_rng, longtail_band_of(i, n), &walls[i]);

        double from = (double)p->t_hist, to = (double)p->t_end;
        for (size_t i = 0; i < n; i++) {
                const struct longtail_wall *w = &walls[i];
                int q = daily_posts(tr, i, &w->live, &post_rng, from, to);
                if (q >= 0)
                        q = daily_posts(tr, i, &w->queued, &post_rng, from, to);
                if (q >= 0 && w->digest_hour > 0)
                        q = longtail_digests(tr, i, w, &post_rng, trace_local_day(from),
                                             trace_local_day(to - 1));
                if (q < 0)
                        return q;
        }
        int q = longtail_direct_line(tr, walls, n, p, &event_rng);
        if (q >= 0)
                q = longtail_weekly_addresses(tr, walls, n, p, &event_rng);
        if (q < 0)
                return q;
        trace_sort(tr);
        return 0;
}

/* ---- handover: a wall changes editor, for good --------------------------------------------- */

/* Model. Every wall posts as its editor does: a rate a working day (lognormal, median 2.5, σ 1.1,
 * at most 60), a third of it at weekends, at office hours shifted by N(0, 0.7 h); one editor in
 * five publishes from the postponed queue on a grid (60 min half the time, else 30 or 15). 35% of
 * the walls change editor once, at a moment uniform from a week before t0 to the span's end (the
 * press officer leaves, the wall passes to the regional management centre's SMM team): the old
 * editor's posts stop there, the wall is silent while the access is handed over (lognormal(2 days,
 * σ 0.8)), and the new editor posts from then on at the old rate times lognormal(1, σ 0.9) (at
 * most 100), at office hours (70%) or from home in the evening, shifted by N(0, 1 h), and half the
 * time from the queue on :00 or :30 (the management centre's content plan: a 60 or 30 min grid).
 * One handover in ten leaves the wall abandoned. Set so that 300 walls post about a thousand a
 * day, the busiest wall's day under 150, and a few walls nothing in a week.
 */

#define HANDOVER_CHANCE         0.35
#define HANDOVER_ABANDONED      0.1
#define HANDOVER_RATE_MEDIAN    2.5
#define HANDOVER_RATE_SIGMA     1.1
#define HANDOVER_RATE_CAP       60.0  /* the old editor's posts a working day, at most */
#define HANDOVER_NEW_RATE_CAP   100.0 /* the new editor's: a busy day stays under 150 */
#define HANDOVER_NEW_RATE_SIGMA 0.9
#define HANDOVER_GAP_DAYS       2.0 /* median silence while the access is handed over */

struct handover_wall {
        struct daily before, after;
        double handover_at, resumes_at; /* INFINITY: no handover */
};

static double handover_grid(struct rng *r, double queue_chance)
{
        if (!rng_chance(r, queue_chance))
                return 0;
        double u = rng_unit(r);
        return u < 0.5 ? 60 : u < 0.85 ? 30 : 15;
}

/* The new editor's rate: the old one's times lognormal(1, σ), within HANDOVER_NEW_RATE_CAP by
 * rejection (no pile of walls at the cap). */
static double handover_new_rate(struct rng *r, double per_day)
{
        double x;
        do
                x = per_day * rng_lognormal(r, 1, HANDOVER_NEW_RATE_SIGMA);
        while (x > HANDOVER_NEW_RATE_CAP);
        return x;
}

static void handover_wall_draw(struct rng *r, const struct family_params *p,
                               struct handover_wall *ret)
{
        double per_day;
        do
                per_day = rng_lognormal(r, HANDOVER_RATE_MEDIAN, HANDOVER_RATE_SIGMA);
        while (per_day > HANDOVER_RATE_CAP);
        /* one draw a statement: the order of an initializer list's evaluations is unspecified */
        double shift = 0.7 * rng_normal(r);
        double grid = handover_grid(r, 0.2);
        *ret = (struct handover_wall){
                .before = {per_day, 1.0 / 3, office_hours, shift, grid, DAY_FACTOR_SIGMA},
                .handover_at = INFINITY,
                .resumes_at = INFINITY,
        };
        if (!rng_chance(r, HANDOVER_CHANCE))
                return;
        ret->handover_at = rng_between(r, (double)p->t0 - 7 * DAY, (double)p->t_end);
        ret->resumes_at = ret->handover_at + rng_lognormal(r, HANDOVER_GAP_DAYS, 0.8) * DAY;
        double new_rate = rng_chance(r, HANDOVER_ABANDONED) ? 0 : handover_new_rate(r, per_day);
        const double *hours = rng_chance(r, 0.7) ? office_hours : evening_hours;
        shift = rng_normal(r);
        grid = rng_chance(r, 0.5) ? (rng_chance(r, 0.5) ? 60 : 30) : 0;
        ret->after = (struct daily){new_rate, 1.0 / 3, hours, shift, grid, DAY_FACTOR_SIGMA};
}

static int handover_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x7265646b746f72)}; /* "редактор" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x706572656461)};   /* "передача" */
        double from = (double)p->t_hist, to = (double)p->t_end;
        for (size_t i = 0; i < p->n_comm; i++) {
                struct handover_wall w;
                handover_wall_draw(&wall_rng, p, &w);
                int q = daily_posts(tr, i, &w.before, &post_rng, from, fmin(to, w.handover_at));
                if (q >= 0 && w.resumes_at < to)
                        q = daily_posts(tr, i, &w.after, &post_rng, w.resumes_at, to);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

const struct family schedsim_fresh_families[] = {
        {
                .name = "storm",
                .summary = "a storm of 1-4 days in 1-3 districts: escalating alerts, reposts "
                           "lagged by who is on duty, outages",
                .held_out = true,
                .generate = storm_generate,
        },
        {
                .name = "batches",
                .summary = "institutions posting 3-8 at a sitting on working days, weekly "
                           "uploads, 5+1 school holidays, daily menus",
                .held_out = true,
                .generate = batch_generate,
        },
        {
                .name = "longtail",
                .summary = "a few walls at 40-90 a day round the clock with digests and live "
                           "broadcasts; most walls under weekly",
                .held_out = true,
                .generate = longtail_generate,
        },
        {
                .name = "handover",
                .summary = "a third of walls change editor: a silence, then a new rate, new "
                           "hours, often posts on :00 or :30",
                .held_out = true,
                .generate = handover_generate,
        },
        {},
};
