/* vault.c — a fifth held-out set of trace families, written after heldout.c, fresh.c, blind.c and
 * sealed.c, apart from src/scheduler.c and without any of the scheduler's figures on any family.
 *
 * Four posting patterns of the government walls of a southern region (Krasnodar's, say), new
 * instances of the kinds the tuning families have (self-excitation, regime changes, the week and
 * its holidays, off-hours walls with synchronised bursts), with stories none of the other sets
 * tells:
 *   - `enrolment`: the week the first-grade enrolment opens (1 April) and the fortnight before it.
 *     Every post a school, a kindergarten or an education department makes about the enrolment
 *     stirs the parents (catchment addresses, documents, free places, "заявление отклонено"), and
 *     the wall answers in more posts: a correction within the hour, answers to the evening's
 *     comments the next morning, from home in the evening if the editor is a teacher. How much a
 *     post stirs depends on the wall (a popular city gymnasium against a village school) and fades
 *     as the week goes on; the ministry's posts are reposted by the departments and theirs by the
 *     schools, and a school's "мест нет" brings the department's and the regional management
 *     centre's answers. A self- and mutually exciting process, heaviest on the opening day;
 *   - `searchparty`: a missing person (a child not back from school, an elderly man with dementia,
 *     a mushroom picker in the foothills, a fisherman). A village administration's wall that posts
 *     once a week, or the district ЕДДС's, becomes the search's headquarters for hours to two days:
 *     the call with the description, updates that grow as the search widens, the evening's "сбор в
 *     07:00", the morning's gathering, night posts if the head is on the search, then "найден, жив"
 *     and the thanks the next day; the police and the ЕДДС post the call at once, the district's
 *     other walls (schools for a child, the youth centre's volunteers, the neighbouring villages)
 *     once it widens, and the end. Then the wall is quiet again;
 *   - `newyear`: the New Year holidays of 2024/25 laid on the span, so that the measured week is
 *     30 December to 5 January, every day of it off: December's rush in the history (year-end
 *     reports, school and kindergarten New Year parties, holiday work schedules), the working
 *     Saturday of 28 December, New Year's Eve with the governor's address before midnight and the
 *     greetings from the postponed queue at 00:00, a dead first of January, the break when offices
 *     fall silent (many editors for the whole break) while culture houses and sports schools run
 *     their holiday programmes, a daily holiday post from the queue, Christmas, and the return to
 *     work on 9 January;
 *   - `heatwave`: a July heat wave of a week or two. Walls whose hours are not the office's: the
 *     beaches' and the agriculture departments' early mornings and evenings, the grid branch's and
 *     the water utility's evenings and nights, the culture houses' open-air evenings moving later
 *     as it gets hotter, the youth centres' nights, the summer camps' mornings, the weather
 *     service's forecasts at fixed hours. And synchronised bursts at odd hours: when the grid
 *     cannot carry the load, the regional grid company publishes the next day's rolling outage
 *     schedule late in the evening (or brings one in at the evening peak, or revises it at dawn),
 *     and the covered districts' ЕДДС, grid branches, administrations, newspapers and villages
 *     repost it within minutes, before midnight or after it; the weather service's and the
 *     emergency ministry's heat and fire-danger warnings are reposted across the region.
 * Their parameters were set only so that the traces look like a region's walls, from the CSV that
 * --write-trace gives (posts a day in all and by day, the busiest wall's day, the share of posts
 * from 00:00 to 06:00 Moscow time, walls silent for a week, how unequal the walls are, the size of
 * answer threads and of a search's headquarters' day, how many walls post within minutes of a
 * schedule, the midnight of the New Year); never from the scheduler's figures on them. Never change
 * them because of those figures: that would make them a tuning set, and they would test nothing.
 *
 * Every family draws its walls from one stream of p->seed, their own posts from another and its
 * events (answers, searches, greetings, schedules and warnings) from a third, generates whole local
 * days around [t_hist, t_end), and leaves trace_add() to drop what falls outside. None sets
 * tr->true_rate: the simulator takes the walls' empirical hourly rates.
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

/* A post from the postponed queue ("отложенная запись") shows up seconds after its minute. */
#define QUEUE_LATENESS_SEC 8.0

/* A wall nobody keeps any more: a thirtieth of its rate, a post now and then. */
#define ABANDONED_FACTOR 0.03

/* ---- shared ---------------------------------------------------------------------------------- */

/* When a post set in the queue for local hour `hour` of day `day` appears. */
static double queued_time(struct rng *r, int64_t day, double hour)
{
        return trace_day_start(day) + hour * HOUR + rng_between(r, 0, QUEUE_LATENESS_SEC);
}

/* A local time of day `day` drawn uniformly between hours from and to. */
static double time_between(struct rng *r, int64_t day, double from, double to)
{
        return trace_day_start(day) + rng_between(r, from, to) * HOUR;
}

/* Where a post due at t lands when its editor sleeps from 23:30 to 06:30 (awake: at t): the
 * morning, between hours from and to. */
static double after_sleep(struct rng *r, double t, bool awake, double from, double to)
{
        double h = trace_local_hour(t);
        if (awake || (h >= 6.5 && h < 23.5))
                return t;
        return trace_next_morning(r, t, from, to);
}

/* Posting by local hour (relative weights). An office: from 8, lunch at 12–14, the afternoon's
 * reports, a thin evening from the editor's phone. */
static const double workday_hours[24] = {
        0.015, 0.006, 0.003, 0.002, 0.003, 0.008, 0.04, 0.2,  /* 0–7 */
        0.7,   1.0,   0.95,  0.85,  0.6,   0.55,  0.9,  0.85, /* 8–15 */
        0.7,   0.45,  0.22,  0.15,  0.12,  0.09,  0.05, 0.03, /* 16–23 */
};
/* An office's editor on a day off, from home: late and spread out. */
static const double home_hours[24] = {
        0.03, 0.01, 0.005, 0.004, 0.004, 0.006, 0.015, 0.05, /* 0–7 */
        0.18, 0.45, 0.8,   1.0,   0.95,  0.85,  0.8,   0.75, /* 8–15 */
        0.7,  0.6,  0.55,  0.5,   0.45,  0.35,  0.18,  0.07, /* 16–23 */
};
/* A working Saturday, or the day before a holiday: the morning, over by mid-afternoon. */
static const double short_day_hours[24] = {
        0.02, 0.008, 0.004, 0.003, 0.003, 0.006, 0.03, 0.15, /* 0–7 */
        0.75, 1.0,   1.0,   0.95,  0.7,   0.55,  0.45, 0.25, /* 8–15 */
        0.15, 0.12,  0.1,   0.08,  0.07,  0.05,  0.04, 0.02, /* 16–23 */
};
/* A school or kindergarten: announcements before classes, the day's news after them. */
static const double classroom_hours[24] = {
        0.008, 0.003, 0.002, 0.002, 0.002, 0.004, 0.04, 0.4,  /* 0–7 */
        0.75,  0.65,  0.6,   0.65,  0.75,  0.9,   1.0,  0.9,  /* 8–15 */
        0.65,  0.45,  0.3,   0.25,  0.22,  0.15,  0.06, 0.02, /* 16–23 */
};
/* A teacher who keeps the school's wall from home, after lessons and in the evening. */
static const double teacher_at_home_hours[24] = {
        0.02, 0.006, 0.003, 0.002, 0.002, 0.004, 0.03, 0.25, /* 0–7 */
        0.5,  0.4,   0.35,  0.35,  0.4,   0.5,   0.6,  0.65, /* 8–15 */
        0.7,  0.75,  0.85,  0.95,  1.0,   0.9,   0.55, 0.2,  /* 16–23 */
};
/* A culture house, a library, a sports school: announcements by noon, reports in the evening. */
static const double stage_hours[24] = {
        0.03, 0.01, 0.005, 0.003, 0.003, 0.004, 0.01, 0.05, /* 0–7 */
        0.15, 0.35, 0.6,   0.7,   0.75,  0.7,   0.75, 0.85, /* 8–15 */
        0.95, 1.0,  1.0,   0.9,   0.8,   0.55,  0.28, 0.09, /* 16–23 */
};
/* A newsroom (the regional government, a district newspaper): from 7 to 23. */
static const double newsdesk_hours[24] = {
        0.04, 0.015, 0.01, 0.008, 0.01, 0.03, 0.15, 0.55, /* 0–7 */
        0.85, 1.0,   1.0,  0.95,  0.9,  0.9,  0.95, 1.0,  /* 8–15 */
        0.95, 0.9,   0.8,  0.75,  0.7,  0.55, 0.35, 0.12, /* 16–23 */
};
/* A service on duty round the clock (ЕДДС, police, rescuers): thinner at night, never empty. */
static const double dispatch_hours[24] = {
        0.35, 0.28, 0.24, 0.22, 0.24, 0.3, 0.55, 0.85, /* 0–7 */
        1.0,  1.0,  0.95, 0.95, 0.9,  0.9, 0.95, 1.0,  /* 8–15 */
        0.95, 0.9,  0.85, 0.8,  0.7,  0.6, 0.5,  0.42, /* 16–23 */
};
/* A youth centre kept by students: afternoons, evenings, past midnight. */
static const double night_owl_hours[24] = {
        0.3,  0.15, 0.06, 0.02, 0.01, 0.01, 0.02, 0.04, /* 0–7 */
        0.08, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, /* 8–15 */
        0.85, 0.9,  1.0,  1.0,  0.95, 0.9,  0.8,  0.55, /* 16–23 */
};

/* ---- enrolment: answers that bring answers --------------------------------------------------- */

/* Model. The regional ministry of education (wall 0), the regional government (1) and the regional
 * management centre (ЦУР, 2: answers citizens' questions), then districts of ENROL_DISTRICT_WALLS
 * walls: the administration, the newspaper, the education department, the culture house, the sports
 * school, the MFC office, four settlement administrations, nine schools and three kindergartens;
 * three districts in ten are a city's, where parents crowd the popular schools. Each wall posts on
 * its own: a rate a working day (lognormal, the kind's median and σ, within ENROL_OWN_CAP), the
 * kind's weekend factor and hours shifted by N(0, 0.6 h), a day factor of σ 0.3; one district wall
 * in fourteen is abandoned. The enrolment opens on the Monday of t0's week (it plays 1 April).
 *
 * The campaign's own posts, on the walls that run it (all schools but one in seven, the
 * departments, the ministry, ЦУР; some kindergartens, MFC offices, administrations, newspapers):
 * Poisson announcements on the working days of the fortnight before (a school 0.1 a day, the
 * ministry 0.6); on the opening day the kind's chance of a post at its hours ("приём заявлений
 * открыт"), a school's at 00:00 from the queue or by hand one time in eight, else 07:30–11:00, the
 * ministry's at 00:00 three times in ten; then, for two weeks, Poisson posts a working day at the
 * kind's rate times 0.4 + 0.6 e^(−days / 3) (free places, documents, FAQs). A quarter of the
 * schools post the free places on four working days in five of the first two weeks at their hour
 * (13–17), six departments in ten a summary ("подано N заявлений") at 16:30–18:00 on most days of
 * the first week.
 *
 * Every post brings Poisson(n) answers on its own wall: a third within the hour (lognormal(15 min,
 * σ 0.8): the correction, the list, the second part), the rest when the parents' comments come,
 * lognormal(2 h, σ 1) later, and are answered then if the editor's hours allow it (a teacher's
 * evening at home for three editors in ten) or the next working morning (07:30–09:30). An ordinary
 * post's n is the kind's (0.05–0.2) times U(0.5, 1.5); a campaign post's is the kind's (a school
 * 0.3, a department 0.55) times the wall's attention (lognormal(1, σ 0.6) at schools and
 * kindergartens, ×1.4 in a city) times 0.35 + 0.65 e^(−days since the opening / 2.5) (0.5 before
 * it), within 0.65, so that every thread dies out. A campaign post also brings posts on other
 * walls: the ministry's are reposted by the departments (40%), ЦУР (30%), the government (15%) and
 * the administrations (10%) after lognormal(1 h, σ 0.9); a department's by the district's schools
 * (10%) and kindergartens (8%) after lognormal(90 min, σ 1); one school post in sixteen is a "мест
 * нет" that the department answers (60%) after lognormal(3 h, σ 0.8) and ЦУР (25%) after
 * lognormal(4 h). Generation starts three days before t_hist. The medians are those of such walls:
 * 300 walls post some 500 an ordinary working day and 200 a weekend day, 600 a working day of the
 * fortnight before, 800 on the opening day (a school twice its ordinary day, the busiest schools
 * 10–15 posts, a department 5 and up to 11), fading to 600 by the Friday; a tenth of the walls
 * silent for a week, a third of the posts in runs less than 30 min apart.
 */

#define ENROL_REGIONAL_WALLS  3
#define ENROL_DISTRICT_WALLS  22
#define ENROL_DORMANT         (1.0 / 14)
#define ENROL_OWN_CAP         40.0
#define ENROL_CITY_CHANCE     0.3
#define ENROL_CITY_ATTENTION  1.4
#define ENROL_BRANCH_CAP      0.65
#define ENROL_QUICK_SHARE     0.35
#define ENROL_QUICK_LAG       (15 * MINUTE)
#define ENROL_QUESTION_LAG    (2 * HOUR)
#define ENROL_FADE_DAYS       2.5 /* of the parents' stir */
#define ENROL_LEAD_DAYS       14
#define ENROL_CAMPAIGN_DAYS   14
#define ENROL_NO_PLACES       (1.0 / 16)
#define ENROL_MAX_GENERATIONS 40 /* a guard only: threads die out long before */
#define ENROL_WARM_UP_DAYS    3

enum enrol_kind {
        ENROL_MINISTRY,
        ENROL_GOVERNMENT,
        ENROL_CUR,
        ENROL_ADMIN,
        ENROL_NEWSPAPER,
        ENROL_EDUCATION,
        ENROL_CULTURE,
        ENROL_SPORT,
        ENROL_MFC,
        ENROL_SETTLEMENT,
        ENROL_SCHOOL,
        ENROL_KINDERGARTEN,
        _ENROL_KIND_MAX,
};

struct enrol_kind_info {
        double median_per_day, sigma, weekend;
        const double *hours;
        double branch;          /* answers an ordinary post brings */
        double campaign_branch; /* a campaign post on the opening day, attention 1 */
        double takes_part;      /* chance that the wall runs the campaign */
        double lead, during;    /* campaign posts a working day before the opening, after it */
        double opening;         /* chance of a post on the opening day */
        double midnight;        /* of which at midnight */
        double open_from, open_to;
        double evening; /* chance that the editor answers from home in the evening */
};

static const struct enrol_kind_info enrol_kinds[_ENROL_KIND_MAX] = {
        [ENROL_MINISTRY] = {6, 0.3, 0.4, workday_hours, 0.15, 0.5, 1, 0.6, 1.0, 1, 0.3, 7.5, 8.5,
                            0},
        [ENROL_GOVERNMENT] = {16, 0.3, 0.55, newsdesk_hours, 0.1, 0.2, 1, 0.05, 0.1, 0.6, 0, 9, 13,
                              0},
        [ENROL_CUR] = {4, 0.4, 0.6, newsdesk_hours, 0.1, 0.55, 1, 0.3, 0.5, 0.9, 0, 8, 10, 0.3},
        [ENROL_ADMIN] = {6, 0.6, 0.35, workday_hours, 0.15, 0.3, 0.5, 0.1, 0.1, 0.4, 0, 9, 14, 0.1},
        [ENROL_NEWSPAPER] = {3.5, 0.6, 0.5, newsdesk_hours, 0.1, 0.2, 0.5, 0.1, 0.15, 0.5, 0, 9, 13,
                             0.2},
        [ENROL_EDUCATION] = {2, 0.6, 0.1, workday_hours, 0.15, 0.55, 1, 0.35, 0.6, 0.9, 0, 8.5,
                             10.5, 0.2},
        [ENROL_CULTURE] = {1.2, 0.8, 1.3, stage_hours, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        [ENROL_SPORT] = {0.7, 0.8, 1.4, stage_hours, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        [ENROL_MFC] = {0.6, 0.7, 0.3, workday_hours, 0.05, 0.3, 0.4, 0.1, 0.15, 0.6, 0, 8, 10, 0},
        [ENROL_SETTLEMENT] = {0.5, 1.0, 0.3, workday_hours, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        [ENROL_SCHOOL] = {0.8, 0.9, 0.12, classroom_hours, 0.15, 0.3, 6.0 / 7, 0.1, 0.25, 0.75,
                          0.125, 7.5, 11, 0.3},
        [ENROL_KINDERGARTEN] = {0.5, 0.9, 0.08, classroom_hours, 0.1, 0.25, 0.45, 0.06, 0.12, 0.4,
                                0.05, 8, 11, 0.3},
};

static const enum enrol_kind enrol_district[ENROL_DISTRICT_WALLS] = {
        ENROL_ADMIN,        ENROL_NEWSPAPER,    ENROL_EDUCATION,  ENROL_CULTURE,
        ENROL_SPORT,        ENROL_MFC,          ENROL_SETTLEMENT, ENROL_SETTLEMENT,
        ENROL_SETTLEMENT,   ENROL_SETTLEMENT,   ENROL_SCHOOL,     ENROL_SCHOOL,
        ENROL_SCHOOL,       ENROL_SCHOOL,       ENROL_SCHOOL,     ENROL_SCHOOL,
        ENROL_SCHOOL,       ENROL_SCHOOL,       ENROL_SCHOOL,     ENROL_KINDERGARTEN,
        ENROL_KINDERGARTEN, ENROL_KINDERGARTEN,
};
#define ENROL_EDUCATION_SLOT 2 /* the department's place in its district */

struct enrol_wall {
        enum enrol_kind kind;
        size_t district; /* SIZE_MAX: a regional wall */
        double per_day, shift_hours;
        double attention, branch;
        double places_hour, summary_hour; /* < 0: none */
        bool campaign, evening, dormant;
};

struct enrol_post {
        double t;
        size_t wall;
        unsigned generation;
        bool campaign;
};

struct enrol_queue {
        struct enrol_post *post;
        size_t n, allocated;
};

static int enrol_push(struct enrol_queue *q, size_t wall, double t, unsigned generation,
                      bool campaign)
{
        if (!greedy_realloc((void **)&q->post, &q->allocated, q->n + 1, sizeof(*q->post)))
                return -ENOMEM;
        q->post[q->n++] = (struct enrol_post){t, wall, generation, campaign};
        return 0;
}

static void enrol_wall_draw(struct rng *r, size_t i, const bool *city, struct enrol_wall *ret)
{
        enum enrol_kind kind;
        size_t district = SIZE_MAX;
        if (i < ENROL_REGIONAL_WALLS) {
                kind = (enum enrol_kind)i;
        } else {
                kind = enrol_district[(i - ENROL_REGIONAL_WALLS) % ENROL_DISTRICT_WALLS];
                district = (i - ENROL_REGIONAL_WALLS) / ENROL_DISTRICT_WALLS;
        }
        const struct enrol_kind_info *k = &enrol_kinds[kind];
        bool pupils = kind == ENROL_SCHOOL || kind == ENROL_KINDERGARTEN;
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, ENROL_OWN_CAP);
        double shift = 0.6 * rng_normal(r);
        double attention = rng_lognormal(r, 1, pupils ? 0.6 : 0.3);
        if (pupils && district != SIZE_MAX && city[district])
                attention *= ENROL_CITY_ATTENTION;
        double branch = k->branch * rng_between(r, 0.5, 1.5);
        bool campaign = rng_chance(r, k->takes_part);
        bool evening = rng_chance(r, k->evening);
        bool places = kind == ENROL_SCHOOL && rng_chance(r, 0.25);
        double places_hour = rng_between(r, 13, 17);
        bool summary = kind == ENROL_EDUCATION && rng_chance(r, 0.6);
        double summary_hour = rng_between(r, 16.5, 18);
        bool dormant = district != SIZE_MAX && rng_chance(r, ENROL_DORMANT);
        *ret = (struct enrol_wall){
                .kind = kind,
                .district = district,
                .per_day = dormant ? per_day * ABANDONED_FACTOR : per_day,
                .shift_hours = shift,
                .attention = attention,
                .branch = branch,
                .places_hour = places && campaign && !dormant ? places_hour : -1,
                .summary_hour = summary && !dormant ? summary_hour : -1,
                .campaign = campaign && !dormant,
                .evening = evening,
                .dormant = dormant,
        };
}

/* Answers a post of wall w made at t brings, on average. */
static double enrol_branch(const struct enrol_wall *w, bool campaign, double t, double opening)
{
        if (!campaign)
                return w->branch;
        double phase =
                t < opening ? 0.5 : 0.35 + 0.65 * exp(-(t - opening) / (ENROL_FADE_DAYS * DAY));
        double n = enrol_kinds[w->kind].campaign_branch * w->attention * phase;
        return fmin(ENROL_BRANCH_CAP, fmax(w->branch, n));
}

/* When wall w's editor posts what is due at t: in the editor's hours, else the next working
 * morning (at weekends as seldom as the kind posts then). */
static double enrol_place(const struct enrol_wall *w, struct rng *r, double t)
{
        const struct enrol_kind_info *k = &enrol_kinds[w->kind];
        const double *hours = w->evening ? teacher_at_home_hours : k->hours;
        double weekend_keep = fmin(1, 3 * k->weekend);
        double accept = trace_hour_acceptance(hours, trace_local_hour(t) - w->shift_hours);
        if (trace_is_weekend_day(trace_local_day(t)))
                accept *= weekend_keep;
        if (rng_chance(r, accept))
                return t;
        for (int tries = 0; tries < 3; tries++) {
                t = trace_next_morning(r, t - w->shift_hours * HOUR, 7.5, 9.5) +
                    w->shift_hours * HOUR;
                if (!trace_is_weekend_day(trace_local_day(t)) || rng_chance(r, weekend_keep))
                        break;
        }
        return t;
}

/* Wall `to` reposts or answers a campaign post at t after lognormal(median, sigma). */
static int enrol_echo(struct enrol_queue *q, const struct enrol_wall *walls, size_t to, double t,
                      double median, double sigma, unsigned generation, struct rng *r)
{
        double due = t + rng_lognormal(r, median, sigma);
        return enrol_push(q, to, enrol_place(&walls[to], r, due), generation, true);
}

/* The posts that post k of the queue brings, appended to it. */
static int enrol_children(struct enrol_queue *q, size_t k, const struct enrol_wall *walls, size_t n,
                          double opening, struct rng *r)
{
        struct enrol_post parent = q->post[k];
        const struct enrol_wall *w = &walls[parent.wall];
        unsigned next = parent.generation + 1;
        int e = 0;

        for (unsigned m = rng_poisson(r, enrol_branch(w, parent.campaign, parent.t, opening));
             e >= 0 && m > 0; m--) {
                double lag = rng_chance(r, ENROL_QUICK_SHARE)
                                     ? rng_lognormal(r, ENROL_QUICK_LAG, 0.8)
                                     : rng_lognormal(r, ENROL_QUESTION_LAG, 1.0);
                e = enrol_push(q, parent.wall, enrol_place(w, r, parent.t + lag), next,
                               parent.campaign);
        }
        if (e < 0 || !parent.campaign)
                return e;

        if (w->kind == ENROL_MINISTRY) {
                for (size_t j = 1; e >= 0 && j < n; j++) {
                        double chance = walls[j].kind == ENROL_EDUCATION    ? 0.4
                                        : walls[j].kind == ENROL_CUR        ? 0.3
                                        : walls[j].kind == ENROL_GOVERNMENT ? 0.15
                                        : walls[j].kind == ENROL_ADMIN      ? 0.1
                                                                            : 0;
                        if (!walls[j].dormant && rng_chance(r, chance))
                                e = enrol_echo(q, walls, j, parent.t, HOUR, 0.9, next, r);
                }
        } else if (w->kind == ENROL_EDUCATION && w->district != SIZE_MAX) {
                size_t first = ENROL_REGIONAL_WALLS + w->district * ENROL_DISTRICT_WALLS;
                for (size_t j = first; e >= 0 && j < first + ENROL_DISTRICT_WALLS && j < n; j++) {
                        double chance = walls[j].kind == ENROL_SCHOOL         ? 0.1
                                        : walls[j].kind == ENROL_KINDERGARTEN ? 0.08
                                                                              : 0;
                        if (walls[j].campaign && rng_chance(r, chance))
                                e = enrol_echo(q, walls, j, parent.t, 90 * MINUTE, 1.0, next, r);
                }
        } else if (w->kind == ENROL_SCHOOL && w->district != SIZE_MAX &&
                   rng_chance(r, ENROL_NO_PLACES)) {
                size_t dep = ENROL_REGIONAL_WALLS + w->district * ENROL_DISTRICT_WALLS +
                             ENROL_EDUCATION_SLOT;
                if (dep < n && !walls[dep].dormant && rng_chance(r, 0.6))
                        e = enrol_echo(q, walls, dep, parent.t, 3 * HOUR, 0.8, next, r);
                if (e >= 0 && n > ENROL_CUR && rng_chance(r, 0.25))
                        e = enrol_echo(q, walls, ENROL_CUR, parent.t, 4 * HOUR, 0.8, next, r);
        }
        return e;
}

/* The campaign's own posts of wall i on day `day`, the opening being day `open`. */
static int enrol_campaign_day(struct enrol_queue *q, const struct enrol_wall *w, size_t i,
                              int64_t day, int64_t open, struct rng *r)
{
        const struct enrol_kind_info *k = &enrol_kinds[w->kind];
        int64_t u = day - open;
        bool working = !trace_is_weekend_day(day);
        double shift = w->shift_hours;
        double mean = 0;
        int e = 0;

        if (!w->campaign || u < -ENROL_LEAD_DAYS || u >= ENROL_CAMPAIGN_DAYS)
                return 0;
        if (u < 0)
                mean = working ? k->lead : 0;
        else
                mean = working ? k->during * (0.4 + 0.6 * exp(-(double)u / 3)) : 0;
        for (unsigned m = rng_poisson(r, mean); e >= 0 && m > 0; m--) {
                double h = rng_hour(r, k->hours) + shift;
                e = enrol_push(q, i, trace_day_start(day) + h * HOUR, 0, true);
        }
        if (e >= 0 && u == 0 && rng_chance(r, k->opening)) {
                double at;
                if (rng_chance(r, k->midnight))
                        at = rng_chance(r, 0.5) ? queued_time(r, day, 0)
                                                : time_between(r, day, 0, 40.0 / 60);
                else
                        at = time_between(r, day, k->open_from, k->open_to) + shift * HOUR;
                e = enrol_push(q, i, at, 0, true);
        }
        if (e >= 0 && working && u < 10 && w->places_hour >= 0 && rng_chance(r, 0.8))
                e = enrol_push(q, i, time_between(r, day, w->places_hour, w->places_hour + 0.5), 0,
                               true);
        if (e >= 0 && working && u < 5 && w->summary_hour >= 0 && rng_chance(r, 0.85))
                e = enrol_push(q, i, time_between(r, day, w->summary_hour, w->summary_hour + 0.3),
                               0, true);
        return e;
}

static int enrol_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x316b6c617373)};  /* "1класс" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x7a61706973)};    /* "запись" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x766f70726f73)}; /* "вопрос" */
        struct enrol_queue q = {};
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        int e = 0;
        if (n == 0)
                return 0;
        trace_span_days(p, ENROL_WARM_UP_DAYS, &first_day, &last_day);
        size_t n_districts = n > ENROL_REGIONAL_WALLS
                                     ? (n - ENROL_REGIONAL_WALLS + ENROL_DISTRICT_WALLS - 1) /
                                               ENROL_DISTRICT_WALLS
                                     : 0;
        _cleanup_free_ struct enrol_wall *walls = calloc(n, sizeof(*walls));
        _cleanup_free_ bool *city = calloc(n_districts + 1, sizeof(*city));
        if (!walls || !city)
                return -ENOMEM;
        for (size_t d = 0; d < n_districts; d++)
                city[d] = rng_chance(&wall_rng, ENROL_CITY_CHANCE);
        for (size_t i = 0; i < n; i++)
                enrol_wall_draw(&wall_rng, i, city, &walls[i]);
        int64_t d0 = trace_local_day((double)p->t0);
        int64_t open = d0 - trace_day_of_week(d0);
        double opening = trace_day_start(open);

        /* The walls' own posts and the campaign's start threads. */
        for (int64_t d = first_day; e >= 0 && d <= last_day; d++) {
                for (size_t i = 0; e >= 0 && i < n; i++) {
                        const struct enrol_wall *w = &walls[i];
                        const struct enrol_kind_info *k = &enrol_kinds[w->kind];
                        double factor = rng_lognormal(&post_rng, 1, 0.3);
                        double mean =
                                w->per_day * (trace_is_weekend_day(d) ? k->weekend : 1) * factor;
                        for (unsigned m = rng_poisson(&post_rng, mean); e >= 0 && m > 0; m--) {
                                double h = rng_hour(&post_rng, k->hours) + w->shift_hours;
                                e = enrol_push(&q, i, trace_day_start(d) + h * HOUR, 0, false);
                        }
                        if (e >= 0)
                                e = enrol_campaign_day(&q, w, i, d, open, &event_rng);
                }
        }
        /* Every post, in the order they were made, brings its answers. */
        for (size_t k = 0; e >= 0 && k < q.n; k++) {
                struct enrol_post post = q.post[k];
                e = trace_add_at(tr, post.wall, post.t);
                if (e >= 0 && post.t < (double)p->t_end && post.generation < ENROL_MAX_GENERATIONS)
                        e = enrol_children(&q, k, walls, n, opening, &event_rng);
        }
        free(q.post);
        if (e < 0)
                return e;
        trace_sort(tr);
        return 0;
}

/* ---- searchparty: a missing person, a quiet wall's day as headquarters ----------------------- */

/* Model. The regional government (wall 0), the regional police (1), the regional rescue service (2:
 * "Кубань-СПАС") and the regional volunteers' centre (3), then districts of SEARCH_DISTRICT_WALLS
 * walls: the administration, the ЕДДС, the district police, the newspaper, the youth centre, the
 * culture house, the sports school, the clinic, eight settlement administrations and eight schools.
 * Each wall posts on its own: a rate a working day (lognormal, the kind's median and σ, within
 * SEARCH_OWN_CAP), the kind's weekend factor and hours shifted by N(0, 0.6 h), a day factor of
 * σ 0.35; one district wall in fifteen is abandoned. Whether someone posts at night is the wall's
 * own (by kind: the ЕДДС nearly always, a village administration one time in four).
 *
 * Searches come 0.45 a day over the region (one drawn in the first half of the measured span if
 * none started in it), reported at hours heaviest in the evening (not back from school, not back by
 * dark), in a district drawn uniformly: a child (35%), an elderly person (35%) or someone lost in
 * the forest, the mountains or on the water (30%, with the rescuers). The search lasts
 * lognormal(14 h, σ 0.9), from 1.5 h to 72 h, at an intensity lognormal(1, σ 0.4). Its
 * headquarters' wall is a settlement administration of the district (65%) or the ЕДДС (else, or
 * when the settlement's wall is abandoned): the call after lognormal(20 min, σ 0.7); updates at r0
 * (lognormal(0.5 an hour, σ 0.5) times the intensity, within 2.5) times min(1, 0.35 + hours since
 * the start / 5) — growing as the search widens — times 1.3 from 06:00 to 08:00 (the gathering),
 * 1.2 from 17:00 to 21:00, and at night (23:00–06:00) 0.3 if the wall has someone posting at night,
 * else 0.03; an evening's "сбор в 07:00" (80%) at 19:30–22:00 and a morning's post (85%) at
 * 06:00–07:30 when the search goes on through the night; "найден" after lognormal(8 min) at the
 * end, and the thanks (55%) the next morning to noon. The ЕДДС and the district police post the
 * call after their lag (lognormal, σ 0.8: 12 and 25 min), the ЕДДС also updates at 0.12 an hour.
 * After lognormal(4 h, σ 0.6), if still on, the search widens: the district's other walls post the
 * call at their chance (the administration 60%, the newspaper 55%, the youth centre 65%,
 * settlements 30%, schools 45% for a child and 5% else) after their lag (σ 0.9), the regional
 * police (35%, twice after a day), the volunteers (30%, 2.5 times after a day), the government for
 * a child after 30 h (60%); the rescuers post a terrain search after lognormal(90 min) and update
 * at 0.2 an hour. Whoever posted the call posts the end at the kind's chance. A post that falls at
 * night on a wall with no one posting at night waits for the morning (07:00–09:00). 300 walls post
 * some 400 a working day and 200 a weekend day, a sixth of the walls silent for a week; a
 * headquarters' wall that posts once or twice a week posts 3 to 50 over its search, some 10 in the
 * median one, and the measured week has one to six searches.
 */

#define SEARCH_REGIONAL_WALLS 4
#define SEARCH_DISTRICT_WALLS 24
#define SEARCH_DORMANT        (1.0 / 15)
#define SEARCH_OWN_CAP        40.0
#define SEARCH_PER_DAY        0.45
#define SEARCH_MEDIAN_HOURS   14.0
#define SEARCH_MIN_HOURS      1.5
#define SEARCH_MAX_HOURS      72.0
#define SEARCH_RAMP_HOURS     5.0
#define SEARCH_MAX_RATE       2.5 /* the headquarters' updates an hour */
#define SEARCH_WIDEN_HOURS    4.0
#define SEARCH_HQ_SETTLEMENT  0.65
#define SEARCH_CHILD          0.35
#define SEARCH_ELDERLY        0.35
#define SEARCH_LONG_HOURS     24.0
#define SEARCH_THANKS_CHANCE  0.55

enum search_kind {
        SEARCH_GOVERNMENT,
        SEARCH_REGIONAL_POLICE,
        SEARCH_RESCUE,
        SEARCH_VOLUNTEERS,
        SEARCH_ADMIN,
        SEARCH_EDDS,
        SEARCH_POLICE,
        SEARCH_NEWSPAPER,
        SEARCH_YOUTH,
        SEARCH_CULTURE,
        SEARCH_SPORT,
        SEARCH_CLINIC,
        SEARCH_SETTLEMENT,
        SEARCH_SCHOOL,
        _SEARCH_KIND_MAX,
};

enum search_subject {
        SEARCH_FOR_CHILD,
        SEARCH_FOR_ELDER,
        SEARCH_IN_TERRAIN,
};

struct search_kind_info {
        double median_per_day, sigma, weekend;
        const double *hours;
        double call;  /* chance to post the call once it reaches the wall */
        double found; /* chance to post the end, having posted the call */
        double lag;   /* median lag of its posts of the call and the end */
        double night; /* chance that the wall has someone posting at night */
};

static const struct search_kind_info search_kinds[_SEARCH_KIND_MAX] = {
        [SEARCH_GOVERNMENT] = {16, 0.3, 0.55, newsdesk_hours, 0.6, 0.5, 40 * MINUTE, 0.6},
        [SEARCH_REGIONAL_POLICE] = {4, 0.4, 0.8, dispatch_hours, 0.35, 0.8, 30 * MINUTE, 0.9},
        [SEARCH_RESCUE] = {1.5, 0.6, 0.9, dispatch_hours, 1, 0.9, 20 * MINUTE, 0.85},
        [SEARCH_VOLUNTEERS] = {2, 0.5, 1.0, stage_hours, 0.3, 0.6, 40 * MINUTE, 0.5},
        [SEARCH_ADMIN] = {6, 0.6, 0.35, workday_hours, 0.6, 0.6, 35 * MINUTE, 0.3},
        [SEARCH_EDDS] = {0.6, 0.9, 0.9, dispatch_hours, 0.9, 0.9, 12 * MINUTE, 0.9},
        [SEARCH_POLICE] = {1.0, 0.7, 0.7, dispatch_hours, 0.85, 0.85, 25 * MINUTE, 0.8},
        [SEARCH_NEWSPAPER] = {3, 0.6, 0.5, newsdesk_hours, 0.55, 0.55, 30 * MINUTE, 0.3},
        [SEARCH_YOUTH] = {0.9, 0.8, 1.2, night_owl_hours, 0.65, 0.6, 30 * MINUTE, 0.7},
        [SEARCH_CULTURE] = {1.2, 0.8, 1.3, stage_hours, 0.15, 0.3, 60 * MINUTE, 0.1},
        [SEARCH_SPORT] = {0.7, 0.8, 1.4, stage_hours, 0.15, 0.3, 60 * MINUTE, 0.1},
        [SEARCH_CLINIC] = {0.8, 0.8, 0.2, workday_hours, 0.1, 0.2, 90 * MINUTE, 0},
        [SEARCH_SETTLEMENT] = {0.5, 1.0, 0.3, workday_hours, 0.3, 0.5, 45 * MINUTE, 0.25},
        [SEARCH_SCHOOL] = {0.5, 0.9, 0.1, classroom_hours, 0.45, 0.4, 90 * MINUTE, 0.05},
};

static const enum search_kind search_district[SEARCH_DISTRICT_WALLS] = {
        SEARCH_ADMIN,      SEARCH_EDDS,       SEARCH_POLICE,     SEARCH_NEWSPAPER,
        SEARCH_YOUTH,      SEARCH_CULTURE,    SEARCH_SPORT,      SEARCH_CLINIC,
        SEARCH_SETTLEMENT, SEARCH_SETTLEMENT, SEARCH_SETTLEMENT, SEARCH_SETTLEMENT,
        SEARCH_SETTLEMENT, SEARCH_SETTLEMENT, SEARCH_SETTLEMENT, SEARCH_SETTLEMENT,
        SEARCH_SCHOOL,     SEARCH_SCHOOL,     SEARCH_SCHOOL,     SEARCH_SCHOOL,
        SEARCH_SCHOOL,     SEARCH_SCHOOL,     SEARCH_SCHOOL,     SEARCH_SCHOOL,
};
#define SEARCH_EDDS_SLOT   1
#define SEARCH_POLICE_SLOT 2

/* When a missing person is reported (relative weights by local hour). */
static const double search_report_hours[24] = {
        0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.5, /* 0–7 */
        0.7, 0.8, 0.8,  0.8, 0.8, 0.8,  0.9, 1.0, /* 8–15 */
        1.2, 1.4, 1.5,  1.5, 1.4, 1.2,  0.9, 0.6, /* 16–23 */
};

struct search_wall {
        enum search_kind kind;
        size_t district; /* SIZE_MAX: a regional wall */
        double per_day, shift_hours;
        bool night, dormant;
};

struct search {
        double start, end, intensity;
        size_t district, hq;
        enum search_subject subject;
};

static void search_wall_draw(struct rng *r, size_t i, struct search_wall *ret)
{
        enum search_kind kind;
        size_t district = SIZE_MAX;
        if (i < SEARCH_REGIONAL_WALLS) {
                kind = (enum search_kind)i;
        } else {
                kind = search_district[(i - SEARCH_REGIONAL_WALLS) % SEARCH_DISTRICT_WALLS];
                district = (i - SEARCH_REGIONAL_WALLS) / SEARCH_DISTRICT_WALLS;
        }
        const struct search_kind_info *k = &search_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, SEARCH_OWN_CAP);
        double shift = 0.6 * rng_normal(r);
        bool night = rng_chance(r, k->night);
        bool dormant = district != SIZE_MAX && rng_chance(r, SEARCH_DORMANT);
        *ret = (struct search_wall){
                .kind = kind,
                .district = district,
                .per_day = dormant ? per_day * ABANDONED_FACTOR : per_day,
                .shift_hours = shift,
                .night = night,
                .dormant = dormant,
        };
}

/* Wall j's post of the call (or the end) due at t: after its lag, in its waking hours. */
static int search_relay(struct trace *tr, const struct search_wall *walls, size_t j, double t,
                        double sigma, struct rng *r)
{
        const struct search_wall *w = &walls[j];
        double due = t + rng_lognormal(r, search_kinds[w->kind].lag, sigma);
        return trace_add_at(tr, j, after_sleep(r, due, w->night, 7, 9));
}

/* The headquarters' posts over the search. */
static int search_headquarters(struct trace *tr, const struct search_wall *walls,
                               const struct search *s, struct rng *r)
{
        const struct search_wall *w = &walls[s->hq];
        double r0 = fmax(0.1, fmin(SEARCH_MAX_RATE, rng_lognormal(r, 0.5, 0.5) * s->intensity));
        double top = 1.3 * r0; /* the updates' rate at most, an hour */
        double first = s->start + rng_lognormal(r, 20 * MINUTE, 0.7);
        int q = trace_add_at(tr, s->hq, first);

        for (double t = first + rng_exp(r) * HOUR / top; q >= 0 && t < s->end;) {
                double u = (t - s->start) / HOUR;
                double h = trace_local_hour(t);
                double factor = h >= 23 || h < 6    ? (w->night ? 0.3 : 0.03)
                                : h < 8             ? 1.3
                                : h >= 17 && h < 21 ? 1.2
                                                    : 1.0;
                if (rng_chance(r, fmin(1, 0.35 + u / SEARCH_RAMP_HOURS) * factor / 1.3))
                        q = trace_add_at(tr, s->hq, t);
                double step = rng_exp(r) * HOUR / top;
                t += step;
        }
        /* the evening's call to gather and the morning's gathering, while the search goes on */
        for (int64_t d = trace_local_day(s->start); q >= 0 && d <= trace_local_day(s->end); d++) {
                double evening = time_between(r, d, 19.5, 22);
                double morning = time_between(r, d, 6, 7.5);
                if (evening > first && trace_day_start(d + 1) + 7 * HOUR < s->end &&
                    rng_chance(r, 0.8))
                        q = trace_add_at(tr, s->hq, evening);
                if (q >= 0 && morning > first && morning < s->end && rng_chance(r, 0.85))
                        q = trace_add_at(tr, s->hq, morning);
        }
        if (q >= 0)
                q = trace_add_at(tr, s->hq, s->end + rng_lognormal(r, 8 * MINUTE, 0.6));
        if (q >= 0 && rng_chance(r, SEARCH_THANKS_CHANCE))
                q = trace_add_at(tr, s->hq, trace_next_morning(r, s->end + HOUR, 9, 12));
        return q;
}

/* The district's and the region's posts of search s; called[] (n walls) is scratch. */
static int search_spread(struct trace *tr, const struct search_wall *walls, size_t n,
                         const struct search *s, bool *called, struct rng *r)
{
        size_t first = SEARCH_REGIONAL_WALLS + s->district * SEARCH_DISTRICT_WALLS;
        size_t end = first + SEARCH_DISTRICT_WALLS < n ? first + SEARCH_DISTRICT_WALLS : n;
        double hours_long = (s->end - s->start) / HOUR;
        bool long_search = hours_long > SEARCH_LONG_HOURS;
        int q = 0;

        for (size_t j = 0; j < n; j++)
                called[j] = false;
        /* at once: the ЕДДС and the police */
        size_t early[] = {first + SEARCH_EDDS_SLOT, first + SEARCH_POLICE_SLOT};
        for (size_t m = 0; q >= 0 && m < ELEMENTSOF(early); m++) {
                size_t j = early[m];
                if (j >= end || j == s->hq || walls[j].dormant ||
                    !rng_chance(r, search_kinds[walls[j].kind].call))
                        continue;
                called[j] = true;
                q = search_relay(tr, walls, j, s->start, 0.8, r);
        }
        size_t edds = first + SEARCH_EDDS_SLOT;
        if (q >= 0 && edds < end && edds != s->hq && called[edds])
                for (double t = s->start + rng_exp(r) * HOUR / 0.12; q >= 0 && t < s->end;) {
                        q = trace_add_at(tr, edds, after_sleep(r, t, walls[edds].night, 7, 9));
                        double step = rng_exp(r) * HOUR / 0.12;
                        t += step;
                }
        /* the rescuers, in the forest, the mountains or on the water */
        if (q >= 0 && s->subject == SEARCH_IN_TERRAIN && n > SEARCH_RESCUE) {
                double t = s->start + rng_lognormal(r, 90 * MINUTE, 0.6);
                if (t < s->end) {
                        called[SEARCH_RESCUE] = true;
                        q = trace_add_at(tr, SEARCH_RESCUE, t);
                }
                for (t += rng_exp(r) * HOUR / 0.2; q >= 0 && t < s->end;) {
                        q = trace_add_at(tr, SEARCH_RESCUE, t);
                        double step = rng_exp(r) * HOUR / 0.2;
                        t += step;
                }
        }
        /* the search widens */
        double widen = s->start + rng_lognormal(r, SEARCH_WIDEN_HOURS * HOUR, 0.6);
        for (size_t j = 0; q >= 0 && widen < s->end && j < n; j++) {
                const struct search_wall *w = &walls[j];
                double chance = search_kinds[w->kind].call;
                if (called[j] || j == s->hq || w->dormant)
                        continue;
                if (j >= SEARCH_REGIONAL_WALLS && (j < first || j >= end))
                        continue;
                if (w->kind == SEARCH_SCHOOL && s->subject != SEARCH_FOR_CHILD)
                        chance = 0.05;
                else if (w->kind == SEARCH_REGIONAL_POLICE && long_search)
                        chance *= 2;
                else if (w->kind == SEARCH_VOLUNTEERS && long_search)
                        chance *= 2.5;
                else if (w->kind == SEARCH_GOVERNMENT)
                        chance = s->subject == SEARCH_FOR_CHILD && hours_long > 30 ? chance : 0;
                else if (w->kind == SEARCH_RESCUE)
                        chance = 0;
                if (!rng_chance(r, chance))
                        continue;
                called[j] = true;
                q = search_relay(tr, walls, j, widen, 0.9, r);
                /* the volunteers' second call, for the next gathering */
                double again = widen + rng_lognormal(r, 3 * HOUR, 0.6);
                if (q >= 0 && w->kind == SEARCH_YOUTH && again < s->end && rng_chance(r, 0.5))
                        q = trace_add_at(tr, j, after_sleep(r, again, w->night, 7, 9));
        }
        /* the end */
        for (size_t j = 0; q >= 0 && j < n; j++)
                if (called[j] && rng_chance(r, search_kinds[walls[j].kind].found))
                        q = search_relay(tr, walls, j, s->end, 0.9, r);
        return q;
}

/* Search s's headquarters: a settlement of the district, else its ЕДДС, else its administration
 * (SIZE_MAX: none that is kept). */
static size_t search_pick_hq(const struct search_wall *walls, size_t n, size_t district,
                             struct rng *r)
{
        size_t first = SEARCH_REGIONAL_WALLS + district * SEARCH_DISTRICT_WALLS;
        size_t end = first + SEARCH_DISTRICT_WALLS < n ? first + SEARCH_DISTRICT_WALLS : n;
        size_t villages[SEARCH_DISTRICT_WALLS], n_villages = 0;
        for (size_t j = first; j < end; j++)
                if (walls[j].kind == SEARCH_SETTLEMENT && !walls[j].dormant)
                        villages[n_villages++] = j;
        bool village = rng_chance(r, SEARCH_HQ_SETTLEMENT);
        size_t pick = rng_below(r, n_villages ? n_villages : 1);
        if (village && n_villages > 0)
                return villages[pick];
        for (size_t slot = SEARCH_EDDS_SLOT;; slot = 0) {
                if (first + slot < end && !walls[first + slot].dormant)
                        return first + slot;
                if (slot == 0)
                        return n_villages > 0 ? villages[pick] : SIZE_MAX;
        }
}

/* A search reported at `start` in a district drawn from r. */
static int search_run(struct trace *tr, const struct search_wall *walls, size_t n,
                      size_t n_districts, double start, bool *called, struct rng *r)
{
        struct search s = {.start = start};
        double u = rng_unit(r);
        s.subject = u < SEARCH_CHILD                    ? SEARCH_FOR_CHILD
                    : u < SEARCH_CHILD + SEARCH_ELDERLY ? SEARCH_FOR_ELDER
                                                        : SEARCH_IN_TERRAIN;
        double hours_long = rng_lognormal(r, SEARCH_MEDIAN_HOURS, 0.9);
        hours_long = fmin(SEARCH_MAX_HOURS, fmax(SEARCH_MIN_HOURS, hours_long));
        s.end = start + hours_long * HOUR;
        s.intensity = rng_lognormal(r, 1, 0.4);
        s.district = rng_below(r, n_districts);
        s.hq = search_pick_hq(walls, n, s.district, r);
        if (s.hq == SIZE_MAX)
                return 0;
        int q = search_headquarters(tr, walls, &s, r);
        if (q >= 0)
                q = search_spread(tr, walls, n, &s, called, r);
        return q;
}

static int search_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x706f69736b)};    /* "поиск" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x73626f72)};      /* "сбор" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x6e617964656e)}; /* "найден" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 2, &first_day, &last_day);
        _cleanup_free_ struct search_wall *walls = calloc(n, sizeof(*walls));
        _cleanup_free_ bool *called = calloc(n, sizeof(*called));
        if (!walls || !called)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                search_wall_draw(&wall_rng, i, &walls[i]);
        size_t n_districts = n > SEARCH_REGIONAL_WALLS
                                     ? (n - SEARCH_REGIONAL_WALLS + SEARCH_DISTRICT_WALLS - 1) /
                                               SEARCH_DISTRICT_WALLS
                                     : 0;

        for (size_t i = 0; i < n; i++) {
                const struct search_wall *w = &walls[i];
                const struct search_kind_info *k = &search_kinds[w->kind];
                for (int64_t d = first_day; d <= last_day; d++) {
                        double factor = rng_lognormal(&post_rng, 1, 0.35);
                        double mean =
                                w->per_day * (trace_is_weekend_day(d) ? k->weekend : 1) * factor;
                        int q = trace_posts_on_day(tr, i, &post_rng, d, mean, k->hours,
                                                   w->shift_hours);
                        if (q < 0)
                                return q;
                }
        }
        if (n_districts == 0) {
                trace_sort(tr);
                return 0;
        }
        /* Searches over the whole span, and one in the first half of the measured span if none
         * started there. */
        double begin = trace_day_start(first_day), stop = (double)p->t_end;
        double from = (double)p->t0, until = from + (stop - from) / 2;
        bool measured = false;
        for (double at = begin + rng_exp(&event_rng) * DAY / SEARCH_PER_DAY; at < stop;) {
                int64_t day = trace_local_day(at);
                double h = rng_hour(&event_rng, search_report_hours);
                double start = trace_day_start(day) + h * HOUR;
                measured = measured || (start >= from && start < until);
                int q = search_run(tr, walls, n, n_districts, start, called, &event_rng);
                if (q < 0)
                        return q;
                double step = rng_exp(&event_rng) * DAY / SEARCH_PER_DAY;
                at += step;
        }
        if (!measured && until > from) {
                int64_t day0 = trace_local_day(from);
                int64_t days = trace_local_day(until - 1) - day0 + 1;
                int64_t day = day0 + (int64_t)rng_below(&event_rng, (size_t)days);
                double h = rng_hour(&event_rng, search_report_hours);
                double start = trace_day_start(day) + h * HOUR;
                if (start < from || start >= until)
                        start = from + rng_unit(&event_rng) * (until - from);
                int q = search_run(tr, walls, n, n_districts, start, called, &event_rng);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

/* ---- newyear: the New Year holidays, every measured day off ---------------------------------- */

/* Model. The calendar of December 2024 and January 2025 is laid on the span from the Monday of t0's
 * week, which plays Monday 30 December: the working days of 16–20 December a little busier than
 * usual, 23–27 December the year's end (reports, "итоги года", New Year parties at schools and
 * kindergartens, holiday work schedules), Saturday 28 December a working day cut short, 29 December
 * to 8 January off (30 and 31 December moved from Saturdays, New Year's Eve, the first of January,
 * the break, Christmas on 7 January), 9 January the first working day. Outside it the week is
 * ordinary. At the default t0 the measured week is 30 December to 5 January.
 *
 * Walls: the regional government and three ministries (0–3), then districts of NY_DISTRICT_WALLS
 * walls: the administration, the newspaper, three duty walls (the ЕДДС, the police, the utilities'
 * dispatcher), the MFC office, two clinics and social services, four culture houses and libraries,
 * two sports schools, six settlement administrations, seven schools and three kindergartens. A
 * wall's rate of an ordinary working day is lognormal with the kind's median and σ, within
 * NY_OWN_CAP; its hours the kind's (an office's at home on days off, a short day's on the working
 * Saturday, New Year's Eve's and the first of January's their own), shifted by N(0, 0.6 h); each
 * day Poisson around the rate times the day kind's factor (the table) times a day factor of σ 0.3;
 * one district wall in fifteen is abandoned.
 *   - Switched off: by kind, 5–55% of the walls' editors post nothing of their own from 29 December
 *     to 8 January (a thirtieth of their rate): what they left in the queue still goes.
 *   - Holiday schedules: before the break, on a working day of 23–28 December, most clinics, MFC
 *     offices and culture houses and many administrations post their hours for the holidays.
 *   - Greetings: most walls that post at all greet the New Year (the kind's chance): on the last
 *     working day's afternoon (schools and kindergartens mostly), on New Year's Eve by hand
 *     (11:00–18:00) or just before midnight (the head's video address), from the queue at 00:00 on
 *     the first, by hand just after midnight, from the queue at 10:00 or 12:00 or by hand in the
 *     afternoon of the first; the governor's address at 23:40–23:58 on New Year's Eve, reposted by
 *     a fifth of the administrations within minutes and by a third the next day; Christmas
 *     greetings (the kind's chance) from the queue at 00:00, 09:00 or 10:00, or by hand in the
 *     morning.
 *   - The holiday queue: some administrations, culture houses, sports schools and the regional
 *     walls set a daily post for the break ("куда сходить на каникулах") at a fixed hour (10:00,
 *     11:00, 12:00 or 14:00), nine days in ten.
 *   - The duty walls' morning after: "новогодняя ночь прошла спокойно" at 07:00–10:00 on the first
 *     (60%) and after Christmas night (30%); schools' "с 9 января занятия" on 8 January afternoon.
 * 300 walls post some 450 an ordinary working day and 250 a weekend day, 600–770 a day at the
 * year's end, 420 on the working Saturday, 230–250 on 29 and 30 December, 280 on New Year's Eve,
 * 320 on the first of January with 45–55 walls in the five minutes after midnight, 220–250 on the
 * break's days; a third of the walls (most schools, kindergartens, MFC offices and village
 * administrations) silent over the measured week.
 */

#define NY_REGIONAL_WALLS 4
#define NY_DISTRICT_WALLS 30
#define NY_DORMANT        (1.0 / 15)
#define NY_OWN_CAP        50.0
#define NY_SWITCHED_OFF   (1.0 / 30)
#define NY_QUEUE_DAYS     0.9 /* share of the break's days with the holiday queue's post */

enum ny_day {
        NY_WORKDAY,
        NY_WEEKEND,
        NY_RUSH,     /* 16–20 December */
        NY_YEAR_END, /* 23–27 December */
        NY_WORKING_SATURDAY,
        NY_BREAK,
        NY_EVE,
        NY_NEW_YEAR,
        NY_CHRISTMAS,
        NY_BACK, /* 9 January */
        _NY_DAY_MAX,
};

enum ny_kind {
        NY_REGIONAL,
        NY_ADMIN,
        NY_NEWS,
        NY_DUTY,
        NY_MFC,
        NY_HEALTH,
        NY_CULTURE,
        NY_SPORT,
        NY_SETTLEMENT,
        NY_SCHOOL,
        NY_KINDERGARTEN,
        _NY_KIND_MAX,
};

struct ny_kind_info {
        double median_per_day, sigma;
        const double *hours; /* of an ordinary working day */
        bool office;         /* home hours on days off, a short working Saturday */
        double switch_off;   /* that the editor posts nothing of their own over the break */
        double schedule;     /* that the wall posts its holiday hours */
        double greets, christmas;
        double holiday_queue; /* that the wall keeps a daily post in the queue over the break */
        double last_workday;  /* share of the greetings on the last working day */
};

static const struct ny_kind_info ny_kinds[_NY_KIND_MAX] = {
        [NY_REGIONAL] = {12, 0.5, newsdesk_hours, false, 0, 0, 1, 0.9, 0.6, 0},
        [NY_ADMIN] = {6, 0.6, workday_hours, true, 0.15, 0.5, 0.95, 0.6, 0.25, 0.1},
        [NY_NEWS] = {3.5, 0.6, newsdesk_hours, false, 0.2, 0, 0.85, 0.5, 0.2, 0},
        [NY_DUTY] = {1.5, 0.9, dispatch_hours, false, 0.05, 0.3, 0.5, 0.2, 0, 0},
        [NY_MFC] = {0.6, 0.7, workday_hours, true, 0.5, 0.85, 0.6, 0.2, 0, 0.3},
        [NY_HEALTH] = {0.8, 0.8, workday_hours, true, 0.3, 0.8, 0.6, 0.2, 0, 0.3},
        [NY_CULTURE] = {1.2, 0.8, stage_hours, false, 0.1, 0.7, 0.9, 0.6, 0.4, 0.1},
        [NY_SPORT] = {0.7, 0.8, stage_hours, false, 0.2, 0.4, 0.75, 0.2, 0.25, 0.2},
        [NY_SETTLEMENT] = {0.5, 1.0, workday_hours, true, 0.45, 0.4, 0.8, 0.5, 0.1, 0.1},
        [NY_SCHOOL] = {0.6, 0.9, classroom_hours, true, 0.5, 0.1, 0.75, 0.1, 0, 0.45},
        [NY_KINDERGARTEN] = {0.45, 0.9, classroom_hours, true, 0.55, 0.1, 0.7, 0.1, 0, 0.5},
};

/* A kind's rate on each kind of day, times its ordinary working day's. */
static const double ny_on_day[_NY_KIND_MAX][_NY_DAY_MAX] = {
        /* working day, weekend, 16–20 Dec, 23–27 Dec, 28 Dec, the break, 31 Dec, 1 Jan, 7 Jan,
         * 9 Jan */
        [NY_REGIONAL] = {1, 0.55, 1.1, 1.3, 0.9, 0.5, 0.9, 0.55, 0.6, 1.2},
        [NY_ADMIN] = {1, 0.3, 1.15, 1.5, 0.8, 0.22, 0.8, 0.35, 0.35, 1.45},
        [NY_NEWS] = {1, 0.5, 1.1, 1.3, 0.8, 0.35, 0.8, 0.3, 0.4, 1.3},
        [NY_DUTY] = {1, 0.9, 1.05, 1.15, 1.0, 0.95, 1.2, 1.3, 1.1, 1.05},
        [NY_MFC] = {1, 0.35, 1.1, 1.5, 0.8, 0.1, 0.1, 0.03, 0.05, 1.5},
        [NY_HEALTH] = {1, 0.2, 1.1, 1.4, 0.7, 0.2, 0.3, 0.2, 0.2, 1.4},
        [NY_CULTURE] = {1, 1.3, 1.3, 1.7, 1.5, 1.3, 1.0, 0.5, 1.6, 0.8},
        [NY_SPORT] = {1, 1.4, 1.2, 1.4, 1.2, 0.9, 0.3, 0.2, 0.8, 1.0},
        [NY_SETTLEMENT] = {1, 0.3, 1.1, 1.5, 0.6, 0.12, 0.6, 0.3, 0.25, 1.3},
        [NY_SCHOOL] = {1, 0.1, 1.2, 1.9, 0.35, 0.08, 0.1, 0.06, 0.08, 1.3},
        [NY_KINDERGARTEN] = {1, 0.06, 1.2, 1.8, 0.3, 0.06, 0.08, 0.04, 0.06, 1.1},
};

static const enum ny_kind ny_district[NY_DISTRICT_WALLS] = {
        NY_ADMIN,      NY_NEWS,       NY_DUTY,         NY_DUTY,         NY_DUTY,
        NY_MFC,        NY_HEALTH,     NY_HEALTH,       NY_CULTURE,      NY_CULTURE,
        NY_CULTURE,    NY_CULTURE,    NY_SPORT,        NY_SPORT,        NY_SETTLEMENT,
        NY_SETTLEMENT, NY_SETTLEMENT, NY_SETTLEMENT,   NY_SETTLEMENT,   NY_SETTLEMENT,
        NY_SCHOOL,     NY_SCHOOL,     NY_SCHOOL,       NY_SCHOOL,       NY_SCHOOL,
        NY_SCHOOL,     NY_SCHOOL,     NY_KINDERGARTEN, NY_KINDERGARTEN, NY_KINDERGARTEN,
};

/* New Year's Eve: the morning's last errands, greetings all afternoon, the evening to midnight. */
static const double eve_hours[24] = {
        0.04, 0.02, 0.01, 0.005, 0.005, 0.01, 0.03, 0.1,  /* 0–7 */
        0.35, 0.6,  0.8,  0.9,   0.95,  1.0,  1.0,  0.95, /* 8–15 */
        0.85, 0.7,  0.55, 0.4,   0.35,  0.35, 0.45, 0.6,  /* 16–23 */
};
/* The first of January: just after midnight, then nothing until the late morning. */
static const double first_of_january_hours[24] = {
        0.35, 0.3,  0.12, 0.04, 0.015, 0.01, 0.01, 0.02, /* 0–7 */
        0.05, 0.1,  0.22, 0.4,  0.55,  0.6,  0.65, 0.65, /* 8–15 */
        0.6,  0.55, 0.5,  0.45, 0.4,   0.3,  0.18, 0.08, /* 16–23 */
};

/* When a wall greets the New Year: a day (from the Monday playing 30 December), an hour, and
 * whether from the queue. */
struct ny_greeting {
        int64_t day;
        double hour;
        bool queued;
};

struct ny_wall {
        enum ny_kind kind;
        double per_day, shift_hours;
        bool switched_off, dormant;
        int64_t schedule_day; /* INT64_MIN: none */
        struct ny_greeting greeting, christmas;
        double queue_hour; /* the holiday queue's; < 0: none */
};

/* Day kind of local day `day`, the Monday of t0's week playing 30 December. */
static enum ny_day ny_day_of(int64_t monday, int64_t day)
{
        int64_t u = day - monday;
        if (u >= -14 && u <= -10)
                return NY_RUSH;
        if (u >= -7 && u <= -3)
                return NY_YEAR_END;
        switch (u) {
        case -2:
                return NY_WORKING_SATURDAY;
        case 1:
                return NY_EVE;
        case 2:
                return NY_NEW_YEAR;
        case 8:
                return NY_CHRISTMAS;
        case 10:
                return NY_BACK;
        default:
                if (u >= -1 && u <= 9)
                        return NY_BREAK;
                return trace_is_weekend_day(day) ? NY_WEEKEND : NY_WORKDAY;
        }
}

static bool ny_in_break(int64_t monday, int64_t day)
{
        return day - monday >= -1 && day - monday <= 9;
}

static const double *ny_hours(const struct ny_wall *w, enum ny_day dk)
{
        const struct ny_kind_info *k = &ny_kinds[w->kind];
        if (w->kind == NY_DUTY)
                return k->hours;
        switch (dk) {
        case NY_EVE:
                return eve_hours;
        case NY_NEW_YEAR:
                return first_of_january_hours;
        case NY_WORKING_SATURDAY:
                return k->office ? short_day_hours : k->hours;
        case NY_WEEKEND:
        case NY_BREAK:
        case NY_CHRISTMAS:
                return k->office ? home_hours : k->hours;
        default:
                return k->hours;
        }
}

static enum ny_kind ny_kind_of(size_t i)
{
        if (i < NY_REGIONAL_WALLS)
                return NY_REGIONAL;
        return ny_district[(i - NY_REGIONAL_WALLS) % NY_DISTRICT_WALLS];
}

/* The New Year greeting's time, relative to the Monday playing 30 December. */
static struct ny_greeting ny_draw_greeting(struct rng *r, const struct ny_kind_info *k)
{
        static const double morning_queue[] = {10, 12};
        double u = rng_unit(r);
        if (rng_chance(r, k->last_workday)) /* Friday 27 December, after the party */
                return (struct ny_greeting){-3, rng_between(r, 13, 17.5), false};
        if (u < 0.4) /* New Year's Eve, by hand */
                return (struct ny_greeting){1, rng_between(r, 11, 18), false};
        if (u < 0.45) /* the head's video address just before midnight */
                return (struct ny_greeting){1, rng_between(r, 23, 24), false};
        if (u < 0.7)
                return (struct ny_greeting){2, 0, true};
        if (u < 0.8)
                return (struct ny_greeting){2, rng_between(r, 0, 0.75), false};
        if (u < 0.92)
                return (struct ny_greeting){2, morning_queue[rng_below(r, 2)], true};
        return (struct ny_greeting){2, rng_between(r, 11, 16), false};
}

static struct ny_greeting ny_draw_christmas(struct rng *r)
{
        double u = rng_unit(r);
        if (u < 0.15)
                return (struct ny_greeting){8, 0, true};
        if (u < 0.5)
                return (struct ny_greeting){8, 9, true};
        if (u < 0.8)
                return (struct ny_greeting){8, 10, true};
        return (struct ny_greeting){8, rng_between(r, 9, 13), false};
}

static void ny_wall_draw(struct rng *r, size_t i, struct ny_wall *ret)
{
        static const double queue_hours[] = {10, 11, 12, 14};
        enum ny_kind kind = ny_kind_of(i);
        const struct ny_kind_info *k = &ny_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, NY_OWN_CAP);
        double shift = 0.6 * rng_normal(r);
        bool dormant = i >= NY_REGIONAL_WALLS && rng_chance(r, NY_DORMANT);
        /* a wall that hardly posts seldom greets or keeps a queue */
        double active = dormant ? 0 : per_day / (per_day + 0.15);
        bool schedule = rng_chance(r, k->schedule * active);
        int64_t schedule_day = -7 + (int64_t)rng_below(r, 6);
        bool greets = rng_chance(r, k->greets * active);
        struct ny_greeting greeting = ny_draw_greeting(r, k);
        bool christmas = greets && rng_chance(r, k->christmas);
        struct ny_greeting christmas_greeting = ny_draw_christmas(r);
        bool queue = rng_chance(r, k->holiday_queue * active);
        double queue_hour = queue_hours[rng_below(r, ELEMENTSOF(queue_hours))];
        bool switched_off = rng_chance(r, k->switch_off);
        /* an editor away for the break leaves the greetings in the queue */
        if (switched_off && greeting.day >= -1 && !greeting.queued)
                greeting = (struct ny_greeting){2, rng_chance(r, 0.5) ? 0 : 10, true};
        if (switched_off && !christmas_greeting.queued)
                christmas_greeting = (struct ny_greeting){8, rng_chance(r, 0.5) ? 9 : 10, true};
        *ret = (struct ny_wall){
                .kind = kind,
                .per_day = dormant ? per_day * ABANDONED_FACTOR : per_day,
                .shift_hours = shift,
                .switched_off = switched_off,
                .dormant = dormant,
                .schedule_day = schedule ? schedule_day : INT64_MIN,
                .greeting = greets ? greeting : (struct ny_greeting){INT64_MIN, 0, false},
                .christmas =
                        christmas ? christmas_greeting : (struct ny_greeting){INT64_MIN, 0, false},
                .queue_hour = queue ? queue_hour : -1,
        };
}

static int ny_greet(struct trace *tr, size_t i, const struct ny_greeting *g, int64_t monday,
                    struct rng *r)
{
        int64_t day = monday + g->day;
        double at =
                g->queued ? queued_time(r, day, g->hour) : trace_day_start(day) + g->hour * HOUR;
        return trace_add_at(tr, i, at);
}

/* Wall i's posts of day `day` beyond its own: the schedule, greetings, the queue, the mornings
 * after. */
static int ny_extras(struct trace *tr, size_t i, const struct ny_wall *w, int64_t monday,
                     int64_t day, struct rng *r)
{
        enum ny_day dk = ny_day_of(monday, day);
        int64_t u = day - monday;
        int q = 0;

        if (w->schedule_day == u) {
                const double *hours = ny_hours(w, dk);
                double h = rng_hour(r, hours) + w->shift_hours;
                q = trace_add_at(tr, i, trace_day_start(day) + h * HOUR);
        }
        if (q >= 0 && w->greeting.day == u)
                q = ny_greet(tr, i, &w->greeting, monday, r);
        if (q >= 0 && w->christmas.day == u)
                q = ny_greet(tr, i, &w->christmas, monday, r);
        if (q >= 0 && w->queue_hour >= 0 && (dk == NY_BREAK || dk == NY_NEW_YEAR) &&
            rng_chance(r, NY_QUEUE_DAYS))
                q = trace_add_at(tr, i, queued_time(r, day, w->queue_hour));
        if (q >= 0 && w->kind == NY_DUTY && !w->dormant &&
            ((dk == NY_NEW_YEAR && rng_chance(r, 0.6)) ||
             (dk == NY_CHRISTMAS && rng_chance(r, 0.3))))
                q = trace_add_at(tr, i, time_between(r, day, 7, 10));
        if (q >= 0 && u == 9 && !w->dormant &&
            ((w->kind == NY_SCHOOL && rng_chance(r, 0.5)) ||
             (w->kind == NY_KINDERGARTEN && rng_chance(r, 0.3))))
                q = trace_add_at(tr, i, time_between(r, day, 15, 21));
        return q;
}

/* The governor's address before midnight on New Year's Eve, and the administrations' reposts. */
static int ny_address(struct trace *tr, const struct ny_wall *walls, size_t n, int64_t monday,
                      struct rng *r)
{
        double t = time_between(r, monday + 1, 23 + 40.0 / 60, 23 + 58.0 / 60);
        int q = trace_add_at(tr, 0, t);
        for (size_t i = 1; q >= 0 && i < n; i++) {
                if (walls[i].kind != NY_ADMIN || walls[i].dormant)
                        continue;
                double u = rng_unit(r);
                if (u < 0.2)
                        q = trace_add_at(tr, i, t + rng_lognormal(r, 12 * MINUTE, 0.5));
                else if (u < 0.5)
                        q = trace_add_at(tr, i, time_between(r, monday + 2, 10, 14));
        }
        return q;
}

static int ny_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x796f6c6b61)};       /* "ёлка" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x6b616e696b756c79)}; /* "каникулы" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x6b7572616e7479)};  /* "куранты" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        _cleanup_free_ struct ny_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                ny_wall_draw(&wall_rng, i, &walls[i]);
        int64_t d0 = trace_local_day((double)p->t0);
        int64_t monday = d0 - trace_day_of_week(d0);

        for (size_t i = 0; i < n; i++) {
                const struct ny_wall *w = &walls[i];
                for (int64_t d = first_day; d <= last_day; d++) {
                        enum ny_day dk = ny_day_of(monday, d);
                        double factor = rng_lognormal(&post_rng, 1, 0.3);
                        double mean = w->per_day * ny_on_day[w->kind][dk] * factor;
                        if (w->switched_off && ny_in_break(monday, d))
                                mean *= NY_SWITCHED_OFF;
                        int q = trace_posts_on_day(tr, i, &post_rng, d, mean, ny_hours(w, dk),
                                                   w->shift_hours);
                        if (q >= 0)
                                q = ny_extras(tr, i, w, monday, d, &event_rng);
                        if (q < 0)
                                return q;
                }
        }
        if (monday + 1 >= first_day && monday + 1 <= last_day) {
                int q = ny_address(tr, walls, n, monday, &event_rng);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

/* ---- heatwave: walls of their own hours, rolling outage schedules at night ------------------- */

/* Model. The regional government (wall 0), the regional directorate of the emergency ministry (1),
 * the regional grid company (2), the weather service (3: the ЦГМС), the ministry of resorts (4) and
 * the ministry of health (5), then districts of HEAT_DISTRICT_WALLS walls: the administration, the
 * ЕДДС, the newspaper, the grid branch (РЭС), the water utility, the culture house or park, the
 * sports school, the youth centre, the beaches' department in a coastal district (35%) or the
 * agriculture department inland, the clinic, the MFC office, seven settlement administrations and
 * six schools' summer camps. Each wall posts on its own: a rate a working day (lognormal, the
 * kind's median and σ, within HEAT_OWN_CAP) times 1 + the kind's heat factor times the day's heat
 * (the grid branch 2.5: "отключение", the water utility 1.5: watering hours and pressure), the
 * kind's weekend factor, the kind's hours — the beaches', agriculture's and sports' early mornings
 * and evenings, the grid branch's evenings and nights, the water utility's dawn and evening, the
 * culture houses' evenings (later by up to an hour as it gets hotter), the youth centres' nights,
 * the camps' mornings — shifted by N(0, 0.6 h), a day factor of σ 0.3; one district wall in fifteen
 * is abandoned. The weather service posts its forecasts from the queue at 06:00, 11:00, 16:00 and
 * 20:00, each 85% of days.
 *
 * The heat wave starts two to five days before the Monday of t0's week and lasts 8–13 days: its
 * heat rises from 0.45 by 0.2 a day to 1 and falls in its last two days (an ordinary July day is
 * 0.15–0.25), times U(0.9, 1.05). Warnings: Poisson(1.2 × heat) a day on days of heat 0.5 or more,
 * at hours heaviest at dawn and in the afternoon: the weather service posts, the emergency ministry
 * after lognormal(12 min, σ 0.6), and the region's walls repost at their own chance (the ЕДДС
 * 85–100%, the administration 40–80%, the beaches 50–90%) after their lag. Schedules: on a day of
 * heat h the grid imposes rolling outages with chance 2.2 (h − 0.5), within 0.95; the schedule for
 * it goes out at 21:00–01:30 the evening before, covering each district at U(0.4, 0.9); three times
 * in ten it is revised at 06:00–07:30 (each covered district 60%), and with chance 0.35 h one is
 * brought in at the evening peak (17:30–20:30, U(0.2, 0.6) of the districts). The grid posts each;
 * in the covered districts the grid branch (85–100%, after lognormal(4 min, σ 0.7)), the ЕДДС
 * (80–100%, 5 min), the administration (50–95%, 12 min), the newspaper (30–80%, 15 min), the
 * settlements (10–60%, 25 min, σ 1) and the water utility (20–50%) repost it, and the regional
 * government (30%). A repost due between 23:30 and 06:30 on a wall with no one posting at night
 * waits for 06:30–08:30. 300 walls post some 440 an ordinary working day and 600–700 a working day
 * of the heat, 4–5% of them between 00:00 and 06:00; a late-evening schedule is posted by 11–16
 * walls within 5 min and by 25–65 within the hour.
 */

#define HEAT_REGIONAL_WALLS   6
#define HEAT_DISTRICT_WALLS   24
#define HEAT_DORMANT          (1.0 / 15)
#define HEAT_OWN_CAP          45.0
#define HEAT_COASTAL_CHANCE   0.35
#define HEAT_WARNINGS         1.2 /* a day at heat 1 */
#define HEAT_FORECAST_CHANCE  0.85
#define HEAT_REVISION_CHANCE  0.3
#define HEAT_IMMEDIATE_CHANCE 0.35 /* times the day's heat */
#define HEAT_SCHEDULE_FROM    0.5  /* heat at which schedules begin */

enum heat_kind {
        HEAT_GOVERNMENT,
        HEAT_MCHS,
        HEAT_GRID,
        HEAT_WEATHER,
        HEAT_RESORTS,
        HEAT_HEALTH,
        HEAT_ADMIN,
        HEAT_EDDS,
        HEAT_NEWSPAPER,
        HEAT_RES,
        HEAT_WATER,
        HEAT_CULTURE,
        HEAT_SPORT,
        HEAT_YOUTH,
        HEAT_COAST,
        HEAT_AGRO,
        HEAT_CLINIC,
        HEAT_MFC,
        HEAT_SETTLEMENT,
        HEAT_CAMP,
        _HEAT_KIND_MAX,
};

struct heat_kind_info {
        double median_per_day, sigma, weekend;
        const double *hours;
        double heat_rate;             /* the rate times 1 + this times the heat */
        double heat_shift;            /* hours later at heat 1 */
        double sched_lo, sched_hi;    /* chance to repost a schedule */
        double warn_lo, warn_hi;      /* chance to repost a warning */
        double lag, lag_sigma, night; /* chance of someone posting at night */
};

/* The beaches, agriculture, sport in the heat: before it and after it. */
static const double dawn_dusk_hours[24] = {
        0.02, 0.01, 0.01, 0.02, 0.1,  0.5,  0.95, 1.0,  /* 0–7 */
        0.8,  0.5,  0.3,  0.2,  0.15, 0.15, 0.15, 0.2,  /* 8–15 */
        0.3,  0.5,  0.75, 0.9,  0.8,  0.5,  0.2,  0.06, /* 16–23 */
};
/* A grid branch's dispatcher in a heat wave: the evening peak and the night's repairs. */
static const double grid_hours[24] = {
        0.6,  0.5,  0.4, 0.3, 0.3,  0.35, 0.5,  0.65, /* 0–7 */
        0.7,  0.65, 0.6, 0.6, 0.65, 0.7,  0.75, 0.85, /* 8–15 */
        0.95, 1.0,  1.0, 1.0, 1.0,  0.95, 0.85, 0.7,  /* 16–23 */
};
/* A water utility: the day's supply schedule at dawn, the evening's watering and pressure. */
static const double waterworks_hours[24] = {
        0.05, 0.03, 0.02, 0.03, 0.15, 0.55, 0.9,  1.0,  /* 0–7 */
        0.85, 0.65, 0.55, 0.5,  0.45, 0.45, 0.5,  0.55, /* 8–15 */
        0.6,  0.65, 0.7,  0.75, 0.7,  0.5,  0.25, 0.1,  /* 16–23 */
};
/* A school's summer camp: the morning's programme, photos before lunch. */
static const double camp_hours[24] = {
        0.005, 0.002, 0.002, 0.002, 0.002, 0.004, 0.02, 0.2,  /* 0–7 */
        0.7,   1.0,   1.0,   0.9,   0.85,  0.6,   0.35, 0.2,  /* 8–15 */
        0.15,  0.12,  0.1,   0.1,   0.08,  0.05,  0.02, 0.01, /* 16–23 */
};
/* When the weather service and the emergency ministry put out a warning. */
static const double warning_hours[24] = {
        0.15, 0.1, 0.1, 0.15, 0.4,  0.8, 1.0,  0.9, /* 0–7 */
        0.6,  0.5, 0.5, 0.55, 0.6,  0.7, 0.8,  0.9, /* 8–15 */
        0.9,  0.8, 0.6, 0.45, 0.35, 0.3, 0.25, 0.2, /* 16–23 */
};

static const struct heat_kind_info heat_kinds[_HEAT_KIND_MAX] = {
        [HEAT_GOVERNMENT] = {16, 0.3, 0.6, newsdesk_hours, 0.2, 0, 0.3, 0.3, 0.6, 0.6, 10 * MINUTE,
                             0.6, 0.6},
        [HEAT_MCHS] = {5, 0.4, 0.9, dispatch_hours, 0.6, 0, 0, 0, 0, 0, 0, 0, 1},
        [HEAT_GRID] = {3, 0.5, 0.8, grid_hours, 1.0, 0, 0, 0, 0, 0, 0, 0, 1},
        [HEAT_WEATHER] = {0.6, 0.5, 1.0, newsdesk_hours, 0.5, 0, 0, 0, 0, 0, 0, 0, 1},
        [HEAT_RESORTS] = {3, 0.5, 1.0, stage_hours, 0.3, 0.5, 0, 0, 0.3, 0.3, 30 * MINUTE, 0.8,
                          0.2},
        [HEAT_HEALTH] = {3, 0.5, 0.4, workday_hours, 0.5, 0, 0, 0, 0.5, 0.5, 40 * MINUTE, 0.8, 0.1},
        [HEAT_ADMIN] = {6, 0.6, 0.4, workday_hours, 0.3, 0, 0.5, 0.95, 0.4, 0.8, 12 * MINUTE, 0.9,
                        0.5},
        [HEAT_EDDS] = {1.2, 0.8, 0.9, dispatch_hours, 0.6, 0, 0.8, 1, 0.85, 1, 5 * MINUTE, 0.7,
                       0.95},
        [HEAT_NEWSPAPER] = {3.5, 0.6, 0.5, newsdesk_hours, 0.2, 0, 0.3, 0.8, 0.2, 0.6, 15 * MINUTE,
                            0.9, 0.4},
        [HEAT_RES] = {0.5, 0.8, 0.8, grid_hours, 2.5, 0, 0.85, 1, 0, 0, 4 * MINUTE, 0.7, 0.9},
        [HEAT_WATER] = {0.5, 0.9, 0.7, waterworks_hours, 1.5, 0, 0.2, 0.5, 0, 0, 25 * MINUTE, 1.0,
                        0.3},
        [HEAT_CULTURE] = {1.2, 0.8, 1.3, stage_hours, 0, 1.0, 0, 0, 0, 0, 0, 0, 0},
        [HEAT_SPORT] = {0.7, 0.8, 1.3, dawn_dusk_hours, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        [HEAT_YOUTH] = {1.0, 0.9, 1.2, night_owl_hours, 0, 0.5, 0, 0, 0, 0, 0, 0, 0},
        [HEAT_COAST] = {1.5, 0.7, 1.3, dawn_dusk_hours, 0.5, 0, 0, 0, 0.5, 0.9, 20 * MINUTE, 0.9,
                        0.05},
        [HEAT_AGRO] = {1.0, 0.8, 0.9, dawn_dusk_hours, 0, 0, 0, 0, 0.3, 0.6, 30 * MINUTE, 0.9,
                       0.05},
        [HEAT_CLINIC] = {0.8, 0.8, 0.2, workday_hours, 0.3, 0, 0, 0, 0.1, 0.3, 60 * MINUTE, 0.9, 0},
        [HEAT_MFC] = {0.6, 0.7, 0.4, workday_hours, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        [HEAT_SETTLEMENT] = {0.5, 1.0, 0.3, workday_hours, 0.2, 0, 0.1, 0.6, 0.1, 0.5, 25 * MINUTE,
                             1.0, 0.3},
        [HEAT_CAMP] = {0.4, 0.9, 0.05, camp_hours, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};

static const enum heat_kind heat_district[HEAT_DISTRICT_WALLS] = {
        HEAT_ADMIN,      HEAT_EDDS,       HEAT_NEWSPAPER,  HEAT_RES,        HEAT_WATER,
        HEAT_CULTURE,    HEAT_SPORT,      HEAT_YOUTH,      HEAT_COAST,      HEAT_CLINIC,
        HEAT_MFC,        HEAT_SETTLEMENT, HEAT_SETTLEMENT, HEAT_SETTLEMENT, HEAT_SETTLEMENT,
        HEAT_SETTLEMENT, HEAT_SETTLEMENT, HEAT_SETTLEMENT, HEAT_CAMP,       HEAT_CAMP,
        HEAT_CAMP,       HEAT_CAMP,       HEAT_CAMP,       HEAT_CAMP,
};

struct heat_wall {
        enum heat_kind kind;
        size_t district; /* SIZE_MAX: a regional wall */
        double per_day, shift_hours;
        double sched, warn; /* chances to repost */
        bool night, dormant;
};

static void heat_wall_draw(struct rng *r, size_t i, const bool *coastal, struct heat_wall *ret)
{
        enum heat_kind kind;
        size_t district = SIZE_MAX;
        if (i < HEAT_REGIONAL_WALLS) {
                kind = (enum heat_kind)i;
        } else {
                kind = heat_district[(i - HEAT_REGIONAL_WALLS) % HEAT_DISTRICT_WALLS];
                district = (i - HEAT_REGIONAL_WALLS) / HEAT_DISTRICT_WALLS;
                if (kind == HEAT_COAST && !coastal[district])
                        kind = HEAT_AGRO;
        }
        const struct heat_kind_info *k = &heat_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, HEAT_OWN_CAP);
        double shift = 0.6 * rng_normal(r);
        double sched = rng_between(r, k->sched_lo, k->sched_hi);
        double warn = rng_between(r, k->warn_lo, k->warn_hi);
        bool night = rng_chance(r, k->night);
        bool dormant = district != SIZE_MAX && rng_chance(r, HEAT_DORMANT);
        *ret = (struct heat_wall){
                .kind = kind,
                .district = district,
                .per_day = dormant ? per_day * ABANDONED_FACTOR : per_day,
                .shift_hours = shift,
                .sched = dormant ? 0 : sched,
                .warn = dormant ? 0 : warn,
                .night = night,
                .dormant = dormant,
        };
}

/* The heat of each day from first_day, into heat[]. */
static void heat_draw_days(struct rng *r, int64_t first_day, size_t n_days, int64_t monday,
                           double *heat)
{
        int64_t start = monday - 2 - (int64_t)rng_below(r, 4);
        int64_t length = 8 + (int64_t)rng_below(r, 6);
        for (size_t k = 0; k < n_days; k++) {
                int64_t d = first_day + (int64_t)k;
                double level = rng_between(r, 0.15, 0.25);
                if (d >= start && d < start + length) {
                        double u = (double)(d - start), left = (double)(start + length - 1 - d);
                        level = fmin(1, 0.45 + 0.2 * u);
                        if (left < 2)
                                level = fmin(level, 0.5 + 0.2 * left);
                        level *= rng_between(r, 0.9, 1.05);
                }
                heat[k] = fmin(1, level);
        }
}

/* One publication at t of the grid's schedule (or a warning, `warning`) and its reposts on the
 * walls of the districts covered[] (a warning: all). */
static int heat_publish(struct trace *tr, const struct heat_wall *walls, size_t n, double t,
                        const bool *covered, bool warning, struct rng *r)
{
        int q = 0;
        for (size_t i = 0; q >= 0 && i < n; i++) {
                const struct heat_wall *w = &walls[i];
                const struct heat_kind_info *k = &heat_kinds[w->kind];
                if (w->district != SIZE_MAX && !warning && !covered[w->district])
                        continue;
                if (!rng_chance(r, warning ? w->warn : w->sched))
                        continue;
                double due = t + rng_lognormal(r, k->lag, k->lag_sigma);
                q = trace_add_at(tr, i, after_sleep(r, due, w->night, 6.5, 8.5));
        }
        return q;
}

/* The schedules for day `day` of heat h: the evening before, a revision, one at the peak. */
static int heat_schedules(struct trace *tr, const struct heat_wall *walls, size_t n,
                          size_t n_districts, int64_t day, double h, bool *covered, struct rng *r)
{
        double p_day = fmin(0.95, fmax(0, 2.2 * (h - HEAT_SCHEDULE_FROM)));
        int q = 0;
        if (!rng_chance(r, p_day))
                return 0;
        double share = rng_between(r, 0.4, 0.9);
        for (size_t d = 0; d < n_districts; d++)
                covered[d] = rng_chance(r, share);
        double t = time_between(r, day - 1, 21, 25.5);
        if (n > HEAT_GRID)
                q = trace_add_at(tr, HEAT_GRID, t);
        if (q >= 0)
                q = heat_publish(tr, walls, n, t, covered, false, r);
        if (q >= 0 && rng_chance(r, HEAT_REVISION_CHANCE)) {
                for (size_t d = 0; d < n_districts; d++)
                        covered[d] = covered[d] && rng_chance(r, 0.6);
                t = time_between(r, day, 6, 7.5);
                if (n > HEAT_GRID)
                        q = trace_add_at(tr, HEAT_GRID, t);
                if (q >= 0)
                        q = heat_publish(tr, walls, n, t, covered, false, r);
        }
        if (q >= 0 && rng_chance(r, HEAT_IMMEDIATE_CHANCE * h)) {
                share = rng_between(r, 0.2, 0.6);
                for (size_t d = 0; d < n_districts; d++)
                        covered[d] = rng_chance(r, share);
                t = time_between(r, day, 17.5, 20.5);
                if (n > HEAT_GRID)
                        q = trace_add_at(tr, HEAT_GRID, t);
                if (q >= 0)
                        q = heat_publish(tr, walls, n, t, covered, false, r);
        }
        return q;
}

/* The day's warnings at heat h: the weather service, the emergency ministry, the reposts. */
static int heat_warnings(struct trace *tr, const struct heat_wall *walls, size_t n, int64_t day,
                         double h, struct rng *r)
{
        int q = 0;
        if (h < 0.5)
                return 0;
        for (unsigned m = rng_poisson(r, HEAT_WARNINGS * h); q >= 0 && m > 0; m--) {
                double t = trace_day_start(day) + rng_hour(r, warning_hours) * HOUR;
                double mchs = t + rng_lognormal(r, 12 * MINUTE, 0.6);
                if (n > HEAT_WEATHER)
                        q = trace_add_at(tr, HEAT_WEATHER, t);
                if (q >= 0 && n > HEAT_MCHS)
                        q = trace_add_at(tr, HEAT_MCHS, mchs);
                if (q >= 0)
                        q = heat_publish(tr, walls, n, mchs, NULL, true, r);
        }
        return q;
}

static int heat_generate(const struct family_params *p, struct trace *tr)
{
        static const double forecast_hours[] = {6, 11, 16, 20};
        struct rng wall_rng = {p->seed ^ UINT64_C(0x706c79617a68)};  /* "пляж" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x7a68617261)};    /* "жара" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x67726166696b)}; /* "график" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        size_t n_days = (size_t)(last_day - first_day + 1);
        size_t n_districts =
                n > HEAT_REGIONAL_WALLS
                        ? (n - HEAT_REGIONAL_WALLS + HEAT_DISTRICT_WALLS - 1) / HEAT_DISTRICT_WALLS
                        : 0;
        _cleanup_free_ struct heat_wall *walls = calloc(n, sizeof(*walls));
        _cleanup_free_ bool *coastal = calloc(n_districts + 1, sizeof(*coastal));
        _cleanup_free_ bool *covered = calloc(n_districts + 1, sizeof(*covered));
        _cleanup_free_ double *heat = calloc(n_days, sizeof(*heat));
        if (!walls || !coastal || !covered || !heat)
                return -ENOMEM;
        for (size_t d = 0; d < n_districts; d++)
                coastal[d] = rng_chance(&wall_rng, HEAT_COASTAL_CHANCE);
        for (size_t i = 0; i < n; i++)
                heat_wall_draw(&wall_rng, i, coastal, &walls[i]);
        int64_t d0 = trace_local_day((double)p->t0);
        heat_draw_days(&event_rng, first_day, n_days, d0 - trace_day_of_week(d0), heat);

        for (size_t i = 0; i < n; i++) {
                const struct heat_wall *w = &walls[i];
                const struct heat_kind_info *k = &heat_kinds[w->kind];
                for (int64_t d = first_day; d <= last_day; d++) {
                        double h = heat[d - first_day];
                        double factor = rng_lognormal(&post_rng, 1, 0.3);
                        double mean = w->per_day * (trace_is_weekend_day(d) ? k->weekend : 1) *
                                      (1 + k->heat_rate * h) * factor;
                        int q = trace_posts_on_day(tr, i, &post_rng, d, mean, k->hours,
                                                   w->shift_hours + k->heat_shift * h);
                        for (size_t f = 0;
                             q >= 0 && w->kind == HEAT_WEATHER && f < ELEMENTSOF(forecast_hours);
                             f++)
                                if (rng_chance(&post_rng, HEAT_FORECAST_CHANCE))
                                        q = trace_add_at(
                                                tr, i,
                                                queued_time(&post_rng, d, forecast_hours[f]));
                        if (q < 0)
                                return q;
                }
        }
        for (int64_t d = first_day; d <= last_day; d++) {
                double h = heat[d - first_day];
                int q = heat_warnings(tr, walls, n, d, h, &event_rng);
                if (q >= 0 && d < last_day) /* the schedule for tomorrow */
                        q = heat_schedules(tr, walls, n, n_districts, d + 1,
                                           heat[d + 1 - first_day], covered, &event_rng);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

const struct family schedsim_vault_families[] = {
        {
                .name = "enrolment",
                .summary = "first-grade enrolment opening: answers to parents that bring answers, "
                           "reposted down from the ministry; fading over the week",
                .held_out = true,
                .generate = enrol_generate,
        },
        {
                .name = "searchparty",
                .summary = "a missing person: a quiet village or duty-service wall as the search's "
                           "headquarters for hours to two days, widening to the district",
                .held_out = true,
                .generate = search_generate,
        },
        {
                .name = "newyear",
                .summary = "the New Year break: December's rush, 00:00 greetings from the queue, "
                           "offices silent, culture busy, the queue's holiday posts",
                .held_out = true,
                .generate = ny_generate,
        },
        {
                .name = "heatwave",
                .summary = "a July heat wave: dawn, dusk and night walls; rolling outage "
                           "schedules reposted within minutes near midnight",
                .held_out = true,
                .generate = heat_generate,
        },
        {},
};
