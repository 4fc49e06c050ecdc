/* blind.c — a third held-out set of trace families, written after heldout.c and fresh.c, apart from
 * src/scheduler.c and without any of the scheduler's figures on any family.
 *
 * Four posting patterns of government walls that neither the tuning families (families.c:
 * lognormal, bursty, regime, offhours, regional) nor the earlier held-out sets (heldout.c: weekly,
 * synchronised, mixture; fresh.c: storm, batches, longtail, handover) have:
 *   - `heating`: the week the heating season starts. The head of the city signs the decree; each
 *     district connects its social facilities and then its housing over a week or so: the
 *     district administration and the heat supplier post connection schedules by microdistrict,
 *     a progress report at the same hour every day ("подключено 84% домов"), clarifications when
 *     complaints pile up in the cold mornings and evenings, and night pipe bursts in the pressure
 *     tests; management companies post house by house. Many walls' rates ramp up over two or three
 *     days and decay over the next week, district by district, a day or two apart;
 *   - `campaign`: a regional vote for improvement projects run by a content plan of the regional
 *     management centre (ЦУР): on the plan's days, not on others, most municipal walls publish the
 *     same material at the same clock times (10:00, 12:00, 15:00, 17:00), on the minute from the
 *     postponed queue or by hand a little later or hours late; a rush in the vote's last days, the
 *     results after it, and a weekly rubric on fixed weekdays;
 *   - `shifts`: services on duty round the clock (the ЕДДС, fire and rescue units, the police duty
 *     unit, the ambulance, utility dispatchers, road services) whose wall is kept by whoever is on
 *     shift: a posting pattern with a period of two to four days, not one, set by the duty
 *     rotation ("сутки через трое", "два через два"): one team posts a lot and at night, another
 *     only the morning summary, another nothing;
 *   - `cascade`: reposting down the administrative tree. The regional government's and ministries'
 *     posts marked for distribution go to district administrations and education departments,
 *     and from them to settlements, schools and clinics, each level with its own lag in its own
 *     working hours; a branch whose head does not repost stays silent below it, so the waves come
 *     down the tree hours and a working morning apart.
 * Their parameters were set only so that the traces look like a region's walls, from the CSV that
 * --write-trace gives (posts a day in all, the busiest wall's day, the share of posts from 00:00
 * to 06:00 Moscow time, walls silent for a week, the period of a duty wall's days, how many walls
 * post within a minute of a plan's slot, repost lags by level); never from the scheduler's figures
 * on them. Never change them because of those figures: that would make them a tuning set, and
 * they would test nothing.
 *
 * Every family draws its walls from one stream of p->seed, their own posts from another and its
 * events (decrees, plans, distributed posts) from a third, generates whole local days around
 * [t_hist, t_end), and leaves trace_add() to drop what falls outside. None sets tr->true_rate:
 * the simulator takes the walls' empirical hourly rates.
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

/* A wall's mean own posts on its busiest kind of day, at most: with the day-to-day spread and the
 * families' extra posts on top, no wall's day goes much past 150. */
#define OWN_RATE_CAP 80.0

/* Walls nobody keeps any more (a reorganised body, an editor who left): they post a fiftieth of
 * their rate, a few posts a year. */
#define DORMANT_FACTOR 0.02

/* ---- days and hours ------------------------------------------------------------------------ */

/* Posting by local hour (relative weights). An office: 8 to 18 with a lunch dip, a thin evening
 * from the editor's phone, a few posts after midnight, from an
 * editor finishing the day's work at home. */
static const double office_hours[24] = {
        0.03, 0.012, 0.006, 0.004, 0.004, 0.008, 0.04, 0.12, /* 0–7 */
        0.55, 1.0,   1.0,   0.95,  0.75,  0.55,  0.9,  0.95, /* 8–15 */
        0.85, 0.55,  0.3,   0.2,   0.16,  0.12,  0.08, 0.05, /* 16–23 */
};
/* A service on duty round the clock: the night thinner, never empty. */
static const double duty_hours[24] = {
        0.35, 0.3,  0.25, 0.22, 0.22, 0.3,  0.5,  0.8,  /* 0–7 */
        1.0,  1.0,  1.0,  0.95, 0.9,  0.9,  0.95, 1.0,  /* 8–15 */
        1.0,  0.95, 0.9,  0.85, 0.75, 0.65, 0.55, 0.45, /* 16–23 */
};
/* The regional government's and ministries' walls: a newsroom from 7 to 23. */
static const double newsroom_hours[24] = {
        0.06, 0.03, 0.02, 0.02, 0.02, 0.04, 0.2,  0.55, /* 0–7 */
        0.9,  1.0,  1.0,  1.0,  0.95, 0.9,  1.0,  1.0,  /* 8–15 */
        1.0,  0.95, 0.9,  0.85, 0.8,  0.6,  0.35, 0.15, /* 16–23 */
};

/* A wall's own posting on an office week: a rate a working day, a factor at weekends, the hours
 * shifted by the editor's habit, a day factor (lognormal σ) for the day's news. */
struct own {
        double per_day, weekend, shift_hours, day_sigma;
        const double *hours;
};

static int own_posts_on_day(struct trace *tr, size_t i, struct rng *r, const struct own *w,
                            int64_t day, double factor)
{
        double mean = w->per_day * factor * (trace_is_weekend_day(day) ? w->weekend : 1) *
                      rng_lognormal(r, 1, w->day_sigma);
        return trace_posts_on_day(tr, i, r, day, mean, w->hours, w->shift_hours);
}

/* ---- heating: the week the heating season starts ------------------------------------------- */

/* Model. A city's or region's districts of HEAT_DISTRICT_WALLS walls each: the district
 * administration, the heat supplier's branch, seven management companies (УК), seven settlement
 * administrations, ten schools and kindergartens, four clinics, MFC offices and libraries. Each
 * wall posts on its own as the kind does (a rate a working day, lognormal with the kind's median
 * and σ, within OWN_RATE_CAP ÷ 6, room for the campaign's ×6; the kind's weekend factor; office
 * hours shifted by N(0, 0.6 h); a day factor of σ 0.35); one wall in twelve is dormant.
 *
 * The season. The decree on the start of the heating season comes out on a day uniform from two
 * days before t0 to three days after it, at 10:00–13:00 (the regional government's, reposted by
 * every district administration within lognormal(40 min, σ 0.8), by the heat supplier at 70% and
 * by each management company at 40%, after lognormal(2 h, σ 0.8)). Each district starts
 * connecting 0–2 days later (social facilities first, then housing); its campaign intensity g
 * rises linearly to 1 on its third day and decays as exp(−days/2.5) after, and is zero from the
 * 14th day. In a district:
 *   - every wall's own rate is multiplied by 1 + amplitude × g, the kind's amplitude (management
 *     companies and the heat supplier ×5 at the peak: house by house, street by street);
 *   - on its first two days the administration and the heat supplier each post the connection
 *     schedule by microdistrict: a batch of 2–6 posts, 2–6 min apart, at 09:00–11:00;
 *   - progress reports: 80% of administrations and 70% of heat suppliers post one every day,
 *     weekends too, from the start for 7–10 days, at their own hour (12, 17, 18 or 19) a
 *     lognormal(10 min, σ 0.8) late — typed by hand after the headquarters' call;
 *   - complaint waves: Poisson(2.5 g) a day, in the cold morning (07–10) or evening (19–22); the
 *     administration answers each with a clarification after lognormal(1.5 h, σ 0.6), the heat
 *     supplier at 50%, each management company at 20% (lognormal(2 h, σ 0.8));
 *   - pipe bursts in the pressure tests: Poisson(0.6 g) a day at any hour; the heat supplier
 *     posts within lognormal(30 min, σ 0.6) and 1–2 updates 2–4 h apart, the administration
 *     reposts the first at 50%.
 * Set so that 300 walls post some 700 a working day before the season and up to 1700 at its
 * peak, with the busiest wall's day under 150, and a handful of walls (dormant management
 * companies, quiet schools) silent for the week.
 */

#define HEAT_DISTRICT_WALLS  30
#define HEAT_DORMANT         (1.0 / 12)
#define HEAT_DECAY_DAYS      2.5 /* of the campaign's intensity after its peak */
#define HEAT_RISE_DAYS       2   /* from the district's start to its peak */
#define HEAT_CAMPAIGN_DAYS   14  /* after which the district is back to normal */
#define HEAT_WAVES_PER_DAY   2.5 /* complaint waves a day at the peak */
#define HEAT_BURSTS_PER_DAY  0.6 /* pipe bursts a day at the peak */
#define HEAT_MANAGER_ANSWERS 0.2 /* chance that a management company answers a wave */
#define HEAT_MANAGER_REPOSTS 0.4 /* chance that it reposts the decree */

enum heat_kind {
        HEAT_ADMIN,    /* the district administration */
        HEAT_SUPPLIER, /* the heat supplier's district branch */
        HEAT_MANAGER,  /* a management company (УК) */
        HEAT_SETTLEMENT,
        HEAT_SCHOOL,
        HEAT_OTHER, /* clinics, MFC offices, libraries */
        _HEAT_KIND_MAX,
};

struct heat_kind_info {
        double median_per_day, sigma, weekend;
        double amplitude;     /* of the own rate at the campaign's peak */
        double report_chance; /* of a daily progress report */
};

static const struct heat_kind_info heat_kinds[_HEAT_KIND_MAX] = {
        [HEAT_ADMIN] = {12, 0.5, 0.35, 1.5, 0.8}, [HEAT_SUPPLIER] = {2.5, 0.8, 0.5, 5, 0.7},
        [HEAT_MANAGER] = {0.8, 1.1, 0.3, 5, 0},   [HEAT_SETTLEMENT] = {1.3, 1.0, 0.2, 2, 0},
        [HEAT_SCHOOL] = {1.8, 0.9, 0.05, 0.3, 0}, [HEAT_OTHER] = {1.8, 0.9, 0.2, 0.2, 0},
};

struct heat_wall {
        enum heat_kind kind;
        struct own own;
        double report_hour; /* 0: no daily report */
        int64_t report_days;
};

/* Walls by their place in the district's block: which kind sits where. */
static enum heat_kind heat_kind_of(size_t i)
{
        size_t j = i % HEAT_DISTRICT_WALLS;
        return j == 0   ? HEAT_ADMIN
               : j == 1 ? HEAT_SUPPLIER
               : j < 9  ? HEAT_MANAGER
               : j < 16 ? HEAT_SETTLEMENT
               : j < 26 ? HEAT_SCHOOL
                        : HEAT_OTHER;
}

static void heat_wall_draw(struct rng *r, size_t i, struct heat_wall *ret)
{
        const struct heat_kind_info *k = &heat_kinds[heat_kind_of(i)];
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, OWN_RATE_CAP / 6);
        if (rng_chance(r, HEAT_DORMANT))
                per_day *= DORMANT_FACTOR;
        double shift = 0.6 * rng_normal(r);
        *ret = (struct heat_wall){
                .kind = heat_kind_of(i),
                .own = {per_day, k->weekend, shift, 0.35, office_hours},
        };
        if (rng_chance(r, k->report_chance)) {
                static const double report_hours[] = {12, 17, 18, 19};
                ret->report_hour = report_hours[rng_below(r, ELEMENTSOF(report_hours))];
                ret->report_days = 7 + (int64_t)rng_below(r, 4);
        }
}

/* The district's campaign intensity on local day `day`, its start on day `start`. */
static double heat_intensity(int64_t start, int64_t day)
{
        int64_t k = day - start;
        if (k < 0 || k >= HEAT_CAMPAIGN_DAYS)
                return 0;
        if (k < HEAT_RISE_DAYS)
                return (double)(k + 1) / (HEAT_RISE_DAYS + 1);
        return exp(-(double)(k - HEAT_RISE_DAYS) / HEAT_DECAY_DAYS);
}

/* The walls of the district holding wall i: [*ret_first, *ret_end). */
static void heat_district(size_t i, size_t n, size_t *ret_first, size_t *ret_end)
{
        *ret_first = i - i % HEAT_DISTRICT_WALLS;
        *ret_end = *ret_first + HEAT_DISTRICT_WALLS < n ? *ret_first + HEAT_DISTRICT_WALLS : n;
}

static int heat_decree(struct trace *tr, const struct heat_wall *walls, size_t n, int64_t day,
                       struct rng *r)
{
        double t = trace_day_start(day) + rng_between(r, 10, 13) * HOUR;
        for (size_t i = 0; i < n; i++) {
                double chance = walls[i].kind == HEAT_ADMIN      ? 1
                                : walls[i].kind == HEAT_SUPPLIER ? 0.7
                                : walls[i].kind == HEAT_MANAGER  ? HEAT_MANAGER_REPOSTS
                                                                 : 0;
                if (!rng_chance(r, chance))
                        continue;
                double lag = walls[i].kind == HEAT_ADMIN ? rng_lognormal(r, 40 * MINUTE, 0.8)
                                                         : rng_lognormal(r, 2 * HOUR, 0.8);
                int q = trace_add_at(tr, i, t + lag);
                if (q < 0)
                        return q;
        }
        return 0;
}

/* The connection schedule: a batch of posts by microdistrict. */
static int heat_schedule(struct trace *tr, size_t i, int64_t day, struct rng *r)
{
        double t = trace_day_start(day) + rng_between(r, 9, 11) * HOUR;
        for (unsigned m = 2 + (unsigned)rng_below(r, 5); m > 0; m--) {
                int q = trace_add_at(tr, i, t);
                if (q < 0)
                        return q;
                t += rng_between(r, 2, 6) * MINUTE;
        }
        return 0;
}

/* A complaint wave at t: the district's answers. */
static int heat_wave(struct trace *tr, const struct heat_wall *walls, size_t first, size_t end,
                     double t, struct rng *r)
{
        for (size_t i = first; i < end; i++) {
                double chance = walls[i].kind == HEAT_ADMIN      ? 1
                                : walls[i].kind == HEAT_SUPPLIER ? 0.5
                                : walls[i].kind == HEAT_MANAGER  ? HEAT_MANAGER_ANSWERS
                                                                 : 0;
                if (!rng_chance(r, chance))
                        continue;
                double lag = walls[i].kind == HEAT_MANAGER ? rng_lognormal(r, 2 * HOUR, 0.8)
                                                           : rng_lognormal(r, 1.5 * HOUR, 0.6);
                int q = trace_add_at(tr, i, t + lag);
                if (q < 0)
                        return q;
        }
        return 0;
}

/* A pipe burst at t: the supplier's posts, the administration's repost. */
static int heat_burst(struct trace *tr, size_t admin, size_t supplier, double t, struct rng *r)
{
        double at = t + rng_lognormal(r, 30 * MINUTE, 0.6);
        int q = trace_add_at(tr, supplier, at);
        if (q >= 0 && rng_chance(r, 0.5))
                q = trace_add_at(tr, admin, at + rng_lognormal(r, 45 * MINUTE, 0.8));
        for (unsigned u = 1 + (unsigned)rng_below(r, 2); q >= 0 && u > 0; u--) {
                at += rng_between(r, 2, 4) * HOUR;
                q = trace_add_at(tr, supplier, at);
        }
        return q;
}

/* One district's campaign day: schedules, waves, bursts. */
static int heat_district_day(struct trace *tr, const struct heat_wall *walls, size_t first,
                             size_t end, int64_t start, int64_t day, struct rng *r)
{
        double g = heat_intensity(start, day);
        size_t admin = first, supplier = first + 1;
        int q = 0;
        if (g <= 0)
                return 0;
        if (day - start < 2) {
                q = heat_schedule(tr, admin, day, r);
                if (q >= 0 && supplier < end)
                        q = heat_schedule(tr, supplier, day, r);
        }
        for (unsigned k = rng_poisson(r, HEAT_WAVES_PER_DAY * g); q >= 0 && k > 0; k--) {
                double h = rng_chance(r, 0.5) ? rng_between(r, 7, 10) : rng_between(r, 19, 22);
                q = heat_wave(tr, walls, first, end, trace_day_start(day) + h * HOUR, r);
        }
        for (unsigned k = rng_poisson(r, HEAT_BURSTS_PER_DAY * g);
             q >= 0 && supplier < end && k > 0; k--)
                q = heat_burst(tr, admin, supplier, trace_day_start(day) + rng_between(r, 0, DAY),
                               r);
        return q;
}

/* Wall i's own posts and daily reports over [first_day, last_day]. */
static int heat_wall_posts(struct trace *tr, size_t i, const struct heat_wall *w, int64_t start,
                           int64_t first_day, int64_t last_day, struct rng *r)
{
        double amplitude = heat_kinds[w->kind].amplitude;
        for (int64_t d = first_day; d <= last_day; d++) {
                int q = own_posts_on_day(tr, i, r, &w->own, d,
                                         1 + amplitude * heat_intensity(start, d));
                if (q >= 0 && w->report_hour > 0 && d >= start && d < start + w->report_days)
                        q = trace_add_at(tr, i,
                                         trace_day_start(d) + w->report_hour * HOUR +
                                                 rng_lognormal(r, 10 * MINUTE, 0.8));
                if (q < 0)
                        return q;
        }
        return 0;
}

static int heat_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x6f746f706c)};        /* "отопл" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x6261746172656a61)};  /* "батарея" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x676f7a6170726f73)}; /* "опрессовка" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        _cleanup_free_ struct heat_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                heat_wall_draw(&wall_rng, i, &walls[i]);

        int64_t decree = trace_local_day((double)p->t0) - 2 + (int64_t)rng_below(&event_rng, 6);
        int q = heat_decree(tr, walls, n, decree, &event_rng);
        for (size_t first = 0; q >= 0 && first < n; first += HEAT_DISTRICT_WALLS) {
                size_t f, end;
                heat_district(first, n, &f, &end);
                int64_t start = decree + (int64_t)rng_below(&event_rng, 3);
                for (size_t i = f; q >= 0 && i < end; i++)
                        q = heat_wall_posts(tr, i, &walls[i], start, first_day, last_day,
                                            &post_rng);
                for (int64_t d = start; q >= 0 && d < start + HEAT_CAMPAIGN_DAYS; d++)
                        q = heat_district_day(tr, walls, f, end, start, d, &event_rng);
        }
        if (q < 0)
                return q;
        trace_sort(tr);
        return 0;
}

/* ---- campaign: a regional vote run by a content plan --------------------------------------- */

/* Model. The municipal walls of a region: district and city administrations (10%), settlement
 * administrations (25%), schools and kindergartens (35%), culture, youth and sport (15%), clinics,
 * MFC offices and social services (15%), kinds assigned in stratified order. Each posts on its own
 * (a rate a working day, lognormal with the kind's median, σ 0.9, within OWN_RATE_CAP ÷ 4; the
 * kind's weekend factor; office hours shifted by N(0, 0.6 h); day factor σ 0.3); one in fifteen
 * walls is dormant and takes no part in anything.
 *
 * The campaign. An online vote for the improvement projects of next year (the ЦУР's content plan
 * for it came weeks before the span) ends on a day uniform from t0's third day to the span's last.
 * The plan: before the vote's last three days, a working day is a plan day at 45% (a weekend day at
 * 15%), with one slot (60%), two (30%) or three of 10:00, 12:00, 15:00 and 17:00; each of the last
 * two days before the final one has two or three slots; the final day has all four and 19:00. The
 * results come out two days after the final at 12:00. A weekly rubric of the plan ("Госуслуги —
 * это просто") goes out every Tuesday and Thursday at 11:00.
 *
 * Walls take part as the kind does (administrations 95%, others 40–70%); a participant publishes a
 * slot's material with its own compliance (uniform in 0.4–0.95; × 1.2 in the final three days;
 * half for the rubric; a third for the results, administrations keeping theirs) and in its own way:
 * from the postponed queue on the minute (administrations 60%, others 30%), by hand
 * lognormal(15 min, σ 0.9) after the slot, or one in six hours late (lognormal(3 h, σ 0.5)). In the
 * final three days administrations post half as much again of their own (reminders, counts of the
 * votes). Set so that 300 walls post about 1000 a day, up to some fifty walls
 * publishing a slot on the minute and as many within the hour, nearly nothing at night.
 */

#define CAMPAIGN_DORMANT       (1.0 / 15)
#define CAMPAIGN_PLAN_WORKDAY  0.45 /* chance that a working day is a plan day */
#define CAMPAIGN_PLAN_WEEKEND  0.15
#define CAMPAIGN_FINAL_DAYS    3   /* the rush: the final day and the two before it */
#define CAMPAIGN_FINAL_BOOST   1.2 /* of compliance in the rush */
#define CAMPAIGN_LATE_CHANCE   (1.0 / 6)
#define CAMPAIGN_RUBRIC_HOUR   11.0
#define CAMPAIGN_RESULTS_HOUR  12.0
#define CAMPAIGN_RESULTS_AFTER 2 /* days after the final */
#define CAMPAIGN_MAX_SLOTS     5

enum campaign_kind {
        CAMPAIGN_ADMIN,
        CAMPAIGN_SETTLEMENT,
        CAMPAIGN_SCHOOL,
        CAMPAIGN_CULTURE,
        CAMPAIGN_SOCIAL,
        _CAMPAIGN_KIND_MAX,
};

struct campaign_kind_info {
        double share, median_per_day, weekend;
        double participates; /* share of the kind's walls in the plan */
        double postponed;    /* share of participants using the postponed queue */
};

static const struct campaign_kind_info campaign_kinds[_CAMPAIGN_KIND_MAX] = {
        [CAMPAIGN_ADMIN] = {0.10, 9, 0.35, 0.95, 0.6},
        [CAMPAIGN_SETTLEMENT] = {0.25, 1.3, 0.25, 0.7, 0.3},
        [CAMPAIGN_SCHOOL] = {0.35, 1.5, 0.08, 0.6, 0.3},
        [CAMPAIGN_CULTURE] = {0.15, 2.2, 0.9, 0.6, 0.3},
        [CAMPAIGN_SOCIAL] = {0.15, 1.5, 0.2, 0.4, 0.3},
};

enum campaign_way {
        CAMPAIGN_ON_THE_MINUTE,
        CAMPAIGN_BY_HAND,
        CAMPAIGN_LATE,
};

struct campaign_wall {
        enum campaign_kind kind;
        struct own own;
        bool participates;
        double compliance;
        enum campaign_way way;
};

/* A day's slots of the plan (local hours), *ret_n of them. */
struct plan_day {
        double slot[CAMPAIGN_MAX_SLOTS];
        size_t n;
        double compliance; /* factor */
};

/* The kind of the i-th of n walls, kinds in their shares (stratified: a region has them all). */
static enum campaign_kind campaign_kind_of(size_t i, size_t n)
{
        double x = ((double)i + 0.5) / (double)n;
        for (unsigned k = 0; k < _CAMPAIGN_KIND_MAX - 1; k++) {
                if (x < campaign_kinds[k].share)
                        return k;
                x -= campaign_kinds[k].share;
        }
        return _CAMPAIGN_KIND_MAX - 1;
}

static void campaign_wall_draw(struct rng *r, size_t i, size_t n, struct campaign_wall *ret)
{
        enum campaign_kind kind = campaign_kind_of(i, n);
        const struct campaign_kind_info *k = &campaign_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, 0.9, OWN_RATE_CAP / 4);
        bool dormant = rng_chance(r, CAMPAIGN_DORMANT);
        double shift = 0.6 * rng_normal(r);
        bool participates = !dormant && rng_chance(r, k->participates);
        double compliance = rng_between(r, 0.4, 0.95);
        enum campaign_way way = rng_chance(r, k->postponed) ? CAMPAIGN_ON_THE_MINUTE
                                : rng_chance(r, CAMPAIGN_LATE_CHANCE / (1 - k->postponed))
                                        ? CAMPAIGN_LATE
                                        : CAMPAIGN_BY_HAND;
        *ret = (struct campaign_wall){
                .kind = kind,
                .own = {dormant ? per_day * DORMANT_FACTOR : per_day, k->weekend, shift, 0.3,
                        office_hours},
                .participates = participates,
                .compliance = compliance,
                .way = way,
        };
}

/* Draws `want` distinct slots of the four into d. */
static void plan_pick_slots(struct rng *r, size_t want, struct plan_day *d)
{
        static const double slots[] = {10, 12, 15, 17};
        bool taken[ELEMENTSOF(slots)] = {false};
        d->n = 0;
        while (d->n < want && d->n < ELEMENTSOF(slots)) {
                size_t k = rng_below(r, ELEMENTSOF(slots));
                if (taken[k])
                        continue;
                taken[k] = true;
                d->slot[d->n++] = slots[k];
        }
}

/* The plan's slots on local day `day`, the vote ending on `final`. */
static void plan_draw(struct rng *r, int64_t day, int64_t final, struct plan_day *ret)
{
        *ret = (struct plan_day){.compliance = 1};
        if (day > final) {
                if (day == final + CAMPAIGN_RESULTS_AFTER)
                        *ret = (struct plan_day){{CAMPAIGN_RESULTS_HOUR}, 1, 1.0 / 3};
                return;
        }
        if (day == final) {
                *ret = (struct plan_day){{10, 12, 15, 17, 19}, 5, CAMPAIGN_FINAL_BOOST};
                return;
        }
        if (day > final - CAMPAIGN_FINAL_DAYS) {
                plan_pick_slots(r, 2 + rng_below(r, 2), ret);
                ret->compliance = CAMPAIGN_FINAL_BOOST;
                return;
        }
        if (!rng_chance(r,
                        trace_is_weekend_day(day) ? CAMPAIGN_PLAN_WEEKEND : CAMPAIGN_PLAN_WORKDAY))
                return;
        double u = rng_unit(r);
        plan_pick_slots(r, u < 0.6 ? 1 : u < 0.9 ? 2 : 3, ret);
}

/* When wall w publishes a slot's material set for local hour `hour` of day `day`. */
static double campaign_publish_time(const struct campaign_wall *w, struct rng *r, int64_t day,
                                    double hour)
{
        double t = trace_day_start(day) + hour * HOUR;
        switch (w->way) {
        case CAMPAIGN_ON_THE_MINUTE:
                return t + rng_between(r, 0, POSTPONED_LATENESS_SEC);
        case CAMPAIGN_BY_HAND:
                return t + rng_lognormal(r, 15 * MINUTE, 0.9);
        case CAMPAIGN_LATE:
                break;
        }
        return t + rng_lognormal(r, 3 * HOUR, 0.5);
}

/* Every participant's take on one slot. */
static int campaign_slot(struct trace *tr, const struct campaign_wall *walls, size_t n, int64_t day,
                         double hour, double compliance, bool results, struct rng *r)
{
        for (size_t i = 0; i < n; i++) {
                const struct campaign_wall *w = &walls[i];
                double c = fmin(1, w->compliance * compliance);
                if (results && w->kind == CAMPAIGN_ADMIN)
                        c = w->compliance;
                if (!w->participates || !rng_chance(r, c))
                        continue;
                int q = trace_add_at(tr, i, campaign_publish_time(w, r, day, hour));
                if (q < 0)
                        return q;
        }
        return 0;
}

static int campaign_day(struct trace *tr, const struct campaign_wall *walls, size_t n, int64_t day,
                        int64_t final, struct rng *r)
{
        struct plan_day plan;
        plan_draw(r, day, final, &plan);
        bool results = day == final + CAMPAIGN_RESULTS_AFTER;
        int q = 0;
        for (size_t k = 0; q >= 0 && k < plan.n; k++)
                q = campaign_slot(tr, walls, n, day, plan.slot[k], plan.compliance, results, r);
        int dow = trace_day_of_week(day);
        if (q >= 0 && (dow == 1 || dow == 3))
                q = campaign_slot(tr, walls, n, day, CAMPAIGN_RUBRIC_HOUR, 0.5, false, r);
        return q;
}

static int campaign_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x6b6f6e74656e74)}; /* "контент" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x676f6c6f73)};     /* "голос" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x706c616e)};      /* "план" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        _cleanup_free_ struct campaign_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                campaign_wall_draw(&wall_rng, i, n, &walls[i]);

        int64_t from = trace_local_day((double)p->t0) + 2;
        int64_t final =
                from + (int64_t)rng_below(&event_rng,
                                          (size_t)(last_day >= from ? last_day - from + 1 : 1));
        for (int64_t d = first_day; d <= last_day; d++) {
                int q = campaign_day(tr, walls, n, d, final, &event_rng);
                for (size_t i = 0; q >= 0 && i < n; i++) {
                        bool rush = walls[i].kind == CAMPAIGN_ADMIN && d <= final &&
                                    d > final - CAMPAIGN_FINAL_DAYS;
                        q = own_posts_on_day(tr, i, &post_rng, &walls[i].own, d, rush ? 1.5 : 1);
                }
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

/* ---- shifts: walls kept by whoever is on duty ---------------------------------------------- */

/* Model. Half the walls belong to services on duty round the clock, the other half to offices
 * (own posting as in `campaign`: lognormal rates, median 2 a working day, σ 1, a third at weekends,
 * office hours shifted by N(0, 0.6 h); one in fifteen dormant). A duty wall is kept by whoever is
 * on shift, and its services rotate:
 *   - the ЕДДС, fire and rescue units, the police duty unit, the ambulance station: 24-hour shifts
 *     from 08:00 (the police's from 09:00), four teams in turn ("сутки через трое");
 *   - utility dispatchers: 24-hour shifts from 08:00, three teams ("сутки через двое");
 *   - road services: 12-hour day shifts from 08:00, two teams two days each ("два через два"),
 *     nights left to the dispatcher who hardly posts (a tenth of the day's rate).
 * Each wall has a rate a shift (lognormal, median 4, σ 0.9, within OWN_RATE_CAP ÷ 8), each team a
 * factor on it: three in ten teams hardly post (0.05), the others lognormal(1, σ 0.9) within 8; and
 * a night factor of its own (lognormal(1, σ 0.8)) on the duty hours' night weights — the team that
 * posts after every night call, the team that leaves it for the morning. Half the teams write the
 * summary of their shift ("оперативная сводка за сутки") 0–40 min before it ends, nine shifts in
 * ten. A shift's posts are Poisson around its mean times a day factor of σ 0.3. Set so that 300
 * walls post about 1100 a day, each duty wall with a visible period of its rotation, some posts at
 * night, and the busiest wall's day under 150.
 */

#define SHIFT_DUTY_SHARE     0.5
#define SHIFT_DORMANT        (1.0 / 15)
#define SHIFT_QUIET_TEAM     0.3 /* chance that a team hardly posts */
#define SHIFT_QUIET_FACTOR   0.05
#define SHIFT_SUMMARY_TEAM   0.5 /* chance that a team writes a summary of its shift */
#define SHIFT_SUMMARY_CHANCE 0.9 /* of the summary on one of its shifts */
#define SHIFT_NIGHT_DISPATCH 0.1 /* road services' nights, of the day shift's rate */
#define SHIFT_MAX_TEAMS      4

enum shift_kind {
        SHIFT_OFFICE,
        SHIFT_EDDS,
        SHIFT_FIRE,
        SHIFT_POLICE,
        SHIFT_AMBULANCE,
        SHIFT_UTILITY,
        SHIFT_ROAD,
        _SHIFT_KIND_MAX,
};

struct shift_kind_info {
        double share; /* of the duty walls */
        double change_hour;
        double hours_long;               /* a shift */
        size_t period;                   /* days of the rotation */
        size_t team_of[SHIFT_MAX_TEAMS]; /* the team on each day of the rotation */
};

static const struct shift_kind_info shift_kinds[_SHIFT_KIND_MAX] = {
        [SHIFT_OFFICE] = {0, 0, 0, 1, {0}},
        [SHIFT_EDDS] = {0.25, 8, 24, 4, {0, 1, 2, 3}},
        [SHIFT_FIRE] = {0.2, 8, 24, 4, {0, 1, 2, 3}},
        [SHIFT_POLICE] = {0.15, 9, 24, 4, {0, 1, 2, 3}},
        [SHIFT_AMBULANCE] = {0.1, 8, 24, 4, {0, 1, 2, 3}},
        [SHIFT_UTILITY] = {0.15, 8, 24, 3, {0, 1, 2}},
        [SHIFT_ROAD] = {0.15, 8, 12, 4, {0, 0, 1, 1}},
};

struct shift_team {
        double factor;
        double hours[24];
        bool summary;
};

struct shift_wall {
        enum shift_kind kind;
        struct own own; /* offices */
        double per_shift;
        size_t phase; /* the rotation's day on local day 0 */
        struct shift_team team[SHIFT_MAX_TEAMS];
};

static enum shift_kind shift_kind_draw(struct rng *r)
{
        if (!rng_chance(r, SHIFT_DUTY_SHARE))
                return SHIFT_OFFICE;
        double x = rng_unit(r);
        for (unsigned k = SHIFT_EDDS; k < _SHIFT_KIND_MAX - 1; k++) {
                if (x < shift_kinds[k].share)
                        return k;
                x -= shift_kinds[k].share;
        }
        return _SHIFT_KIND_MAX - 1;
}

static void shift_team_draw(struct rng *r, struct shift_team *ret)
{
        ret->factor =
                rng_chance(r, SHIFT_QUIET_TEAM) ? SHIFT_QUIET_FACTOR : rng_lognormal(r, 1, 0.9);
        double night = rng_lognormal(r, 1, 0.8);
        for (int h = 0; h < 24; h++)
                ret->hours[h] = duty_hours[h] * (h < 7 || h >= 22 ? night : 1);
        ret->summary = rng_chance(r, SHIFT_SUMMARY_TEAM);
}

static void shift_wall_draw(struct rng *r, struct shift_wall *ret)
{
        *ret = (struct shift_wall){.kind = shift_kind_draw(r)};
        bool dormant = rng_chance(r, SHIFT_DORMANT);
        if (ret->kind == SHIFT_OFFICE) {
                double per_day = rng_lognormal_capped(r, 2, 1.0, OWN_RATE_CAP);
                double shift = 0.6 * rng_normal(r);
                ret->own = (struct own){dormant ? per_day * DORMANT_FACTOR : per_day, 1.0 / 3,
                                        shift, 0.3, office_hours};
                return;
        }
        /* with a team's factor within 8 (shift_posts()), the busiest shift stays under 150 */
        ret->per_shift = rng_lognormal_capped(r, 4, 0.9, OWN_RATE_CAP / 8);
        if (dormant)
                ret->per_shift *= DORMANT_FACTOR;
        ret->phase = rng_below(r, shift_kinds[ret->kind].period);
        for (size_t k = 0; k < SHIFT_MAX_TEAMS; k++)
                shift_team_draw(r, &ret->team[k]);
}

/* Posts of one shift of team `t`, [start, start + hours_long). */
static int shift_posts(struct trace *tr, size_t i, const struct shift_wall *w,
                       const struct shift_team *t, double start, struct rng *r)
{
        const struct shift_kind_info *k = &shift_kinds[w->kind];
        double end = start + k->hours_long * HOUR;
        double mean =
                w->per_shift * fmin(t->factor, 8) * rng_lognormal(r, 1, 0.3) * k->hours_long / 24;
        for (unsigned m = rng_poisson(r, mean); m > 0; m--) {
                double at;
                do /* an hour by the team's weights, within the shift */
                        at = trace_day_start(trace_local_day(start)) + rng_hour(r, t->hours) * HOUR;
                while (k->hours_long < 24 && (at < start || at >= end));
                if (at < start)
                        at += DAY;
                int q = trace_add_at(tr, i, at);
                if (q < 0)
                        return q;
        }
        if (t->summary && rng_chance(r, SHIFT_SUMMARY_CHANCE))
                return trace_add_at(tr, i, end - rng_between(r, 0, 40) * MINUTE);
        return 0;
}

static int shift_wall_posts(struct trace *tr, size_t i, const struct shift_wall *w,
                            int64_t first_day, int64_t last_day, struct rng *r)
{
        const struct shift_kind_info *k = &shift_kinds[w->kind];
        for (int64_t d = first_day; d <= last_day; d++) {
                int q;
                if (w->kind == SHIFT_OFFICE) {
                        q = own_posts_on_day(tr, i, r, &w->own, d, 1);
                } else {
                        size_t slot = (size_t)((d + (int64_t)w->phase) % (int64_t)k->period +
                                               (int64_t)k->period) %
                                      k->period;
                        const struct shift_team *t = &w->team[k->team_of[slot]];
                        q = shift_posts(tr, i, w, t, trace_day_start(d) + k->change_hour * HOUR, r);
                        if (q >= 0 && k->hours_long < 24) { /* the night's dispatcher */
                                double start = trace_day_start(d) +
                                               (k->change_hour + k->hours_long) * HOUR;
                                double mean = w->per_shift * SHIFT_NIGHT_DISPATCH;
                                for (unsigned m = rng_poisson(r, mean); q >= 0 && m > 0; m--)
                                        q = trace_add_at(
                                                tr, i,
                                                start + rng_between(r, 0, 24 - k->hours_long) *
                                                                HOUR);
                        }
                }
                if (q < 0)
                        return q;
        }
        return 0;
}

static int shift_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x646a756a7374766f)}; /* "дежурство" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x736d656e61)};       /* "смена" */
        int64_t first_day, last_day;
        trace_span_days(p, 1, &first_day, &last_day);
        for (size_t i = 0; i < p->n_comm; i++) {
                struct shift_wall w;
                shift_wall_draw(&wall_rng, &w);
                int q = shift_wall_posts(tr, i, &w, first_day, last_day, &post_rng);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

/* ---- cascade: reposting down the administrative tree --------------------------------------- */

/* Model. The tree of a region: the regional government (wall 0), the ministry of education (1)
 * and the ministry of health (2); then districts of CASCADE_DISTRICT_WALLS walls: the district
 * administration (a child of the government), its education department (of the ministry of
 * education), eight settlement administrations (of the district administration), twelve schools
 * and kindergartens (of the education department) and three clinics (of the ministry of health).
 * Every wall posts on its own at its kind's rate (lognormal, σ 0.8, within OWN_RATE_CAP ÷ 1.6, room
 * for reposts; the regional walls a newsroom's day, the others an office's, shifted by N(0, 0.6
 * h)); one wall of a district in fifteen is dormant and reposts nothing either.
 *
 * A regional post is marked for distribution ("в рассылку") by the ЦУР at the wall's chance
 * (government 12%, ministries 25%). A marked post goes down the tree: a wall whose parent has
 * posted or reposted it at t reposts it with its own propensity (uniform in its kind's range: a
 * district administration 0.6–0.95, a settlement 0.2–0.7, a school 0.3–0.8), after its kind's
 * lag (lognormal, σ 0.9: the administration 40 min, the education department 1.5 h, a settlement
 * 3 h, a school 4 h, a clinic 2 h) counted in its working time: a repost that would fall outside
 * 08:30–18:00 or on a weekend goes out at 08:30–10:30 of the next working day, four times in five
 * (the fifth from home in the evening, as it falls). A wall whose parent did not repost takes the
 * post from the region directly only at a twentieth of its propensity. Set so that 300 walls post
 * some 1100 a working day (800 a day over the week), and a handful of walls silent for the week.
 */

#define CASCADE_REGIONAL_WALLS 3
#define CASCADE_DISTRICT_WALLS 25
#define CASCADE_DORMANT        (1.0 / 15)
#define CASCADE_LAG_SIGMA      0.9
#define CASCADE_WAITS_MORNING  0.8  /* chance that an out-of-hours repost waits for the morning */
#define CASCADE_DIRECT         0.05 /* of the propensity, without the parent's repost */
#define CASCADE_WORK_FROM      8.5  /* local hours of a district wall's working day */
#define CASCADE_WORK_TO        18.0

enum cascade_kind {
        CASCADE_GOVERNMENT,
        CASCADE_MIN_EDUCATION,
        CASCADE_MIN_HEALTH,
        CASCADE_ADMIN,
        CASCADE_EDUCATION, /* a district's education department */
        CASCADE_SETTLEMENT,
        CASCADE_SCHOOL,
        CASCADE_CLINIC,
        _CASCADE_KIND_MAX,
};

struct cascade_kind_info {
        double median_per_day, weekend;
        double distributed;      /* regional walls: share of posts marked for distribution */
        double join_lo, join_hi; /* others: the range of their propensity */
        double lag;              /* median lag of a repost */
};

static const struct cascade_kind_info cascade_kinds[_CASCADE_KIND_MAX] = {
        [CASCADE_GOVERNMENT] = {30, 0.6, 0.12, 0, 0, 0},
        [CASCADE_MIN_EDUCATION] = {8, 0.3, 0.25, 0, 0, 0},
        [CASCADE_MIN_HEALTH] = {7, 0.4, 0.25, 0, 0, 0},
        [CASCADE_ADMIN] = {9, 0.35, 0, 0.6, 0.95, 40 * MINUTE},
        [CASCADE_EDUCATION] = {2.5, 0.1, 0, 0.5, 0.9, 1.5 * HOUR},
        [CASCADE_SETTLEMENT] = {1.0, 0.3, 0, 0.2, 0.7, 3 * HOUR},
        [CASCADE_SCHOOL] = {1.2, 0.15, 0, 0.3, 0.8, 4 * HOUR},
        [CASCADE_CLINIC] = {1.5, 0.2, 0, 0.2, 0.6, 2 * HOUR},
};

struct cascade_wall {
        enum cascade_kind kind;
        size_t parent; /* SIZE_MAX: a regional wall */
        struct own own;
        double join;
};

/* Kind and parent of wall i: the regional walls, then districts laid out as in the model. */
static enum cascade_kind cascade_kind_of(size_t i, size_t *ret_parent)
{
        if (i < CASCADE_REGIONAL_WALLS) {
                *ret_parent = SIZE_MAX;
                return (enum cascade_kind)i;
        }
        size_t base = i - (i - CASCADE_REGIONAL_WALLS) % CASCADE_DISTRICT_WALLS;
        size_t j = i - base;
        if (j == 0) {
                *ret_parent = CASCADE_GOVERNMENT;
                return CASCADE_ADMIN;
        }
        if (j == 1) {
                *ret_parent = CASCADE_MIN_EDUCATION;
                return CASCADE_EDUCATION;
        }
        if (j < 10) {
                *ret_parent = base;
                return CASCADE_SETTLEMENT;
        }
        if (j < 22) {
                *ret_parent = base + 1;
                return CASCADE_SCHOOL;
        }
        *ret_parent = CASCADE_MIN_HEALTH;
        return CASCADE_CLINIC;
}

static void cascade_wall_draw(struct rng *r, size_t i, struct cascade_wall *ret)
{
        size_t parent;
        enum cascade_kind kind = cascade_kind_of(i, &parent);
        const struct cascade_kind_info *k = &cascade_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, 0.8, OWN_RATE_CAP / 1.6);
        bool dormant = parent != SIZE_MAX && rng_chance(r, CASCADE_DORMANT);
        double shift = 0.6 * rng_normal(r);
        double join = rng_between(r, k->join_lo, k->join_hi);
        *ret = (struct cascade_wall){
                .kind = kind,
                .parent = parent,
                .own = {dormant ? per_day * DORMANT_FACTOR : per_day, k->weekend, shift, 0.3,
                        parent == SIZE_MAX ? newsroom_hours : office_hours},
                .join = dormant ? 0 : join,
        };
}

/* t moved into a district wall's working time, as its editor gets to it. */
static double cascade_working_time(struct rng *r, double t)
{
        double h = trace_local_hour(t);
        int64_t day = trace_local_day(t);
        if (!trace_is_weekend_day(day) && h >= CASCADE_WORK_FROM && h < CASCADE_WORK_TO)
                return t;
        if (!rng_chance(r, CASCADE_WAITS_MORNING))
                return t;
        if (h >= CASCADE_WORK_FROM)
                day++;
        while (trace_is_weekend_day(day))
                day++;
        return trace_day_start(day) +
               rng_between(r, CASCADE_WORK_FROM, CASCADE_WORK_FROM + 2) * HOUR;
}

/* One marked post of wall `root` at t, down the tree; at[] is scratch of n. */
static int cascade_post(struct trace *tr, const struct cascade_wall *walls, size_t n, size_t root,
                        double t, double *at, struct rng *r)
{
        for (size_t i = 0; i < n; i++)
                at[i] = i == root ? t : NAN;
        for (size_t i = CASCADE_REGIONAL_WALLS; i < n; i++) {
                const struct cascade_wall *w = &walls[i];
                size_t origin = w->parent;
                double chance = w->join;
                while (walls[origin].parent != SIZE_MAX) /* the region above the parent */
                        origin = walls[origin].parent;
                if (origin != root)
                        continue;
                if (isnan(at[w->parent])) {
                        chance *= CASCADE_DIRECT;
                        if (!rng_chance(r, chance))
                                continue;
                        at[i] = cascade_working_time(
                                r, t + rng_lognormal(r, cascade_kinds[w->kind].lag,
                                                     CASCADE_LAG_SIGMA));
                } else {
                        if (!rng_chance(r, chance))
                                continue;
                        at[i] = cascade_working_time(
                                r, at[w->parent] + rng_lognormal(r, cascade_kinds[w->kind].lag,
                                                                 CASCADE_LAG_SIGMA));
                }
                int q = trace_add_at(tr, i, at[i]);
                if (q < 0)
                        return q;
        }
        return 0;
}

/* A regional wall's posts on day `day`, each marked for distribution at the kind's chance. */
static int cascade_regional_day(struct trace *tr, const struct cascade_wall *walls, size_t n,
                                size_t root, int64_t day, double *at, struct rng *r)
{
        const struct cascade_wall *w = &walls[root];
        double mean = w->own.per_day * (trace_is_weekend_day(day) ? w->own.weekend : 1) *
                      rng_lognormal(r, 1, w->own.day_sigma);
        for (unsigned m = rng_poisson(r, mean); m > 0; m--) {
                double t = trace_day_start(day) +
                           (rng_hour(r, w->own.hours) + w->own.shift_hours) * HOUR;
                int q = trace_add_at(tr, root, t);
                if (q >= 0 && rng_chance(r, cascade_kinds[w->kind].distributed))
                        q = cascade_post(tr, walls, n, root, t, at, r);
                if (q < 0)
                        return q;
        }
        return 0;
}

static int cascade_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x6965726172686961)};  /* "иерархия" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x7a617069736b61)};    /* "записка" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x7261737379736b61)}; /* "рассылка" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        _cleanup_free_ struct cascade_wall *walls = calloc(n, sizeof(*walls));
        _cleanup_free_ double *at = calloc(n, sizeof(*at));
        if (!walls || !at)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                cascade_wall_draw(&wall_rng, i, &walls[i]);

        for (int64_t d = first_day; d <= last_day; d++)
                for (size_t i = 0; i < n; i++) {
                        int q = walls[i].parent == SIZE_MAX
                                        ? cascade_regional_day(tr, walls, n, i, d, at, &event_rng)
                                        : own_posts_on_day(tr, i, &post_rng, &walls[i].own, d, 1);
                        if (q < 0)
                                return q;
                }
        trace_sort(tr);
        return 0;
}

const struct family schedsim_blind_families[] = {
        {
                .name = "heating",
                .summary = "heating season start: district by district a ramp and decay, "
                           "schedules, daily reports, complaint waves",
                .held_out = true,
                .generate = heat_generate,
        },
        {
                .name = "campaign",
                .summary = "a regional vote's content plan: many walls post at 10, 12, 15, 17 on "
                           "plan days only; final-day rush",
                .held_out = true,
                .generate = campaign_generate,
        },
        {
                .name = "shifts",
                .summary = "duty walls kept by whoever is on shift: 2-4 day rotations of prolific, "
                           "quiet and night-posting teams",
                .held_out = true,
                .generate = shift_generate,
        },
        {
                .name = "cascade",
                .summary = "regional posts reposted down the tree (district, settlement, school), "
                           "each level lagged in working hours",
                .held_out = true,
                .generate = cascade_generate,
        },
        {},
};
