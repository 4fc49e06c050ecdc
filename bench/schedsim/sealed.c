/* sealed.c — a fourth held-out set of trace families, written after heldout.c, fresh.c and blind.c,
 * apart from src/scheduler.c and without any of the scheduler's figures on any family.
 *
 * Four posting patterns of government walls, new instances of kinds the tuning families have
 * (self-excitation, regime changes, the week, off-hours walls with synchronised bursts), with
 * stories none of the other sets tells:
 *   - `threads`: posts that bring more posts, within a wall and across a district. An
 *     announcement brings its photo report and a correction within the hour; a post that stirs
 *     the comments (a new bus timetable, a tariff) brings clarifications over the next working
 *     day ("отвечаем на вопросы"); a district's newspaper and administration pick up what its
 *     schools, clinic or ЕДДС posted; and live events are covered post by post (a session of the
 *     district council, a tournament of the sports school, a town festival), each running post
 *     with follow-ups of its own. A multivariate Hawkes process, district by district;
 *   - `incidents`: walls that are quiet for weeks (the ЕДДС, the water utility, the grid's
 *     district branch, the heat and gas services, the road service, a village administration)
 *     switch to a busy regime for hours to two days during an incident (a water main burst, an
 *     outage, a snowfall, a flood): the first post, front-loaded updates, lists of streets, a
 *     morning summary, "восстановлено"; a power cut often drags the water and heat services in
 *     with it, and the district administration reposts the beginning and the end. The ordinary
 *     walls of the district post as usual around them;
 *   - `mayholidays`: the May holidays of 2024 laid on the span, so that the measured week is the
 *     Victory Day week (6–12 May) and the history holds the first stretch: a working Saturday,
 *     four days off around 1 May, two working days between the stretches when half the editors
 *     are on leave, a shortened eve, and Victory Day itself, the busiest day of the year for
 *     village and culture walls: greetings from the postponed queue at midnight and in the
 *     morning, ceremonies by the memorials, the minute of silence at 19:00, the salute at 22:00;
 *     a daily rubric of the memory campaign ("Лица Победы") from 1 to 9 May;
 *   - `sirens`: a border region where air-danger alerts ("беспилотная опасность", "отбой") come
 *     several times a day, many at night: the regional ЕДДС posts them, district ЕДДС, Telegram
 *     mirrors and administrations copy them within minutes, at night only those with someone on
 *     duty; the governor's late-evening address is reposted that night or the next morning;
 *     after a night alert, schools post distance learning before 08:00. Around them, walls with
 *     hours of their own: the bus depot from 05:00, the youth centre until after midnight, the
 *     culture house in the evening, the newspaper's digest at 06:00 or 07:00.
 * Their parameters were set only so that the traces look like a region's walls, from the CSV that
 * --write-trace gives (posts a day in all, the busiest wall's day, the share of posts from 00:00
 * to 06:00 Moscow time, walls silent for a week, how unequal the walls are, the size of threads
 * and incidents, how many walls post within minutes of an alert, the holiday days' volume); never
 * from the scheduler's figures on them. Never change them because of those figures: that would
 * make them a tuning set, and they would test nothing.
 *
 * Every family draws its walls from one stream of p->seed, their own posts from another and its
 * events (follow-ups, live events, incidents, alerts) from a third, generates whole local days
 * around [t_hist, t_end), and leaves trace_add() to drop what falls outside. None sets
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

/* VK shows a postponed post ("отложенная запись") a few seconds after the minute it was set for. */
#define POSTPONED_LATENESS_SEC 8.0

/* Walls nobody keeps any more: a fiftieth of their rate, a few posts a year. */
#define DORMANT_FACTOR 0.02

/* ---- days and hours ------------------------------------------------------------------------ */

static bool is_night(double t, double from, double to)
{
        double h = trace_local_hour(t);
        return h >= from || h < to;
}

/* A postponed post set for local hour `hour` of day `day`. */
static int add_postponed(struct trace *tr, size_t i, struct rng *r, int64_t day, double hour)
{
        double late = rng_between(r, 0, POSTPONED_LATENESS_SEC);
        return trace_add_at(tr, i, trace_day_start(day) + hour * HOUR + late);
}

/* Posting by local hour (relative weights). An office's working day: from 8, a dip at lunch, the
 * afternoon's reports, a thin evening from the editor's phone. */
static const double office_hours[24] = {
        0.02, 0.008, 0.004, 0.003, 0.003, 0.006, 0.03, 0.15,  /* 0–7 */
        0.6,  1.0,   1.0,   0.9,   0.7,   0.5,   0.85, 0.9,   /* 8–15 */
        0.8,  0.5,   0.25,  0.18,  0.14,  0.1,   0.06, 0.035, /* 16–23 */
};
/* An office's day off: whoever posts does it from home, later and spread out. */
static const double day_off_hours[24] = {
        0.03, 0.012, 0.006, 0.004, 0.004, 0.008, 0.02, 0.06, /* 0–7 */
        0.2,  0.5,   0.85,  1.0,   1.0,   0.9,   0.8,  0.75, /* 8–15 */
        0.65, 0.55,  0.5,   0.45,  0.4,   0.3,   0.15, 0.06, /* 16–23 */
};
/* The working day before a holiday (and a working Saturday): an hour shorter, over by four. */
static const double eve_hours[24] = {
        0.02, 0.008, 0.004, 0.003, 0.003, 0.006, 0.03, 0.18, /* 0–7 */
        0.7,  1.0,   1.0,   1.0,   0.85,  0.6,   0.8,  0.55, /* 8–15 */
        0.3,  0.15,  0.1,   0.08,  0.07,  0.05,  0.04, 0.03, /* 16–23 */
};
/* A school: the morning's announcements before classes, the day's news after them. */
static const double school_hours[24] = {
        0.01, 0.004, 0.002, 0.002, 0.002, 0.005, 0.05, 0.45, /* 0–7 */
        0.8,  0.7,   0.65,  0.7,   0.8,   0.95,  1.0,  0.85, /* 8–15 */
        0.6,  0.4,   0.25,  0.2,   0.2,   0.15,  0.07, 0.03, /* 16–23 */
};
/* Culture houses, libraries, sports schools: announcements by noon, reports in the evening. */
static const double evening_hours[24] = {
        0.04, 0.015, 0.006, 0.004, 0.004, 0.005, 0.01, 0.04, /* 0–7 */
        0.12, 0.3,   0.55,  0.75,  0.8,   0.75,  0.8,  0.9,  /* 8–15 */
        1.0,  1.0,   1.0,   0.95,  0.85,  0.6,   0.3,  0.1,  /* 16–23 */
};
/* A youth centre kept by volunteers and students: afternoons, evenings, after midnight. */
static const double late_hours[24] = {
        0.35, 0.2,  0.08, 0.03, 0.01, 0.01, 0.01, 0.03, /* 0–7 */
        0.06, 0.1,  0.2,  0.3,  0.4,  0.5,  0.6,  0.7,  /* 8–15 */
        0.8,  0.85, 0.95, 1.0,  1.0,  1.0,  0.9,  0.65, /* 16–23 */
};
/* A bus depot or transport dispatcher: the first buses, the morning's and the evening's rush. */
static const double early_hours[24] = {
        0.02, 0.01, 0.02, 0.05, 0.25, 0.8,  1.0,  0.9,  /* 0–7 */
        0.6,  0.4,  0.35, 0.3,  0.3,  0.3,  0.35, 0.45, /* 8–15 */
        0.6,  0.7,  0.6,  0.4,  0.25, 0.15, 0.08, 0.04, /* 16–23 */
};
/* A newsroom (the regional government, a municipal newspaper): from 7 to 23. */
static const double newsroom_hours[24] = {
        0.05, 0.02, 0.01, 0.01, 0.01, 0.03, 0.2, 0.6,  /* 0–7 */
        0.9,  1.0,  1.0,  1.0,  0.95, 0.9,  1.0, 1.0,  /* 8–15 */
        0.95, 0.9,  0.85, 0.8,  0.75, 0.6,  0.4, 0.15, /* 16–23 */
};
/* A service on duty round the clock: the night thinner, never empty. */
static const double duty_hours[24] = {
        0.3, 0.25, 0.22, 0.2,  0.2, 0.28, 0.5,  0.8, /* 0–7 */
        1.0, 1.0,  1.0,  0.95, 0.9, 0.9,  0.95, 1.0, /* 8–15 */
        1.0, 0.95, 0.9,  0.8,  0.7, 0.6,  0.5,  0.4, /* 16–23 */
};
/* A Telegram channel mirrored onto VK by a bot: the channel's editor's hours, 7 to 23, flat. */
static const double mirror_hours[24] = {
        0.08, 0.04, 0.02, 0.02, 0.02, 0.04, 0.3, 0.8,  /* 0–7 */
        1.0,  1.0,  1.0,  1.0,  1.0,  1.0,  1.0, 1.0,  /* 8–15 */
        1.0,  1.0,  1.0,  1.0,  1.0,  0.9,  0.6, 0.25, /* 16–23 */
};

/* ---- threads: posts that bring more posts -------------------------------------------------- */

/* Model. The regional government (wall 0) and two ministries (1, 2), then districts of
 * THREAD_DISTRICT_WALLS walls: the administration, the council of deputies, the municipal
 * newspaper, the education department, the culture house, the sports school, the central clinic,
 * the MFC office, the ЕДДС, seven settlement administrations and nine schools and kindergartens.
 * Each wall has a rate of posts of its own a working day (lognormal, the kind's median and σ,
 * within THREAD_OWN_CAP), the kind's weekend factor and hours shifted by N(0, 0.6 h), a day factor
 * of σ 0.3; one wall in fourteen is dormant.
 *
 * Every post, of its own or brought by another, brings on its own wall Poisson(n) follow-ups, n
 * uniform in the kind's range (0.1–0.6: the ЕДДС's updates the most, the MFC's the fewest):
 * THREAD_FAST_SHARE of them within the hour (lognormal(12 min, σ 0.9): the photo report, the
 * correction, the second part), the others hours later (lognormal(5 h, σ 0.9): answers to the
 * comments, the next day's result). One post in twenty stirs the comments and brings three times
 * the slow follow-ups. A post also brings Poisson(the kind's cross rate, 0.05–0.3) posts on the
 * district's other walls (a regional wall's: on one district's), picked by how much each picks
 * up (the administration and the newspaper the most) after lognormal(90 min, σ 1). A follow-up
 * that falls in a wall's quiet hours is kept at the hour's relative weight, else posted the next
 * morning (08:00–10:00, shifted with the wall). No wall brings more than 0.8 posts a post on
 * average, so every thread dies out.
 *
 * Live events, Poisson(1.5 a week) a district: on working days a session of the council (60%;
 * from 10:00, for 1.5–3 h, a post every lognormal(15 min, σ 0.5)) or a school's open day or
 * olympiad (from 09:00–12:00, 1–2 h, every lognormal(12 min)); at weekends a tournament of the
 * sports school (10:00–12:00, 3–6 h, every lognormal(25 min)) or the culture house's festival
 * (11:00–13:00, 3–5 h, every lognormal(20 min)). The running posts bring follow-ups as any post.
 * Generation starts three days before t_hist so that threads are under way. The medians are those
 * of such walls; 300 of them post some 550 a working day and 330 a weekend day, the busiest wall
 * 25–40 a day, a tenth of the walls silent for a week.
 */

#define THREAD_REGIONAL_WALLS  3
#define THREAD_DISTRICT_WALLS  25
#define THREAD_DORMANT         (1.0 / 14)
#define THREAD_OWN_CAP         40.0
#define THREAD_FAST_SHARE      0.55
#define THREAD_FAST_LAG        (12 * MINUTE)
#define THREAD_SLOW_LAG        (5 * HOUR)
#define THREAD_CROSS_LAG       (90 * MINUTE)
#define THREAD_HOT_CHANCE      0.05 /* a post that stirs the comments */
#define THREAD_HOT_FACTOR      3.0  /* of its slow follow-ups */
#define THREAD_LIVE_PER_DAY    (1.5 / 7)
#define THREAD_MAX_GENERATIONS 60 /* a guard only: threads die out long before */
#define THREAD_WARM_UP_DAYS    3

enum thread_kind {
        THREAD_GOVERNMENT,
        THREAD_MINISTRY,
        THREAD_ADMIN,
        THREAD_COUNCIL,
        THREAD_NEWSPAPER,
        THREAD_EDUCATION,
        THREAD_CULTURE,
        THREAD_SPORT,
        THREAD_CLINIC,
        THREAD_MFC,
        THREAD_EDDS,
        THREAD_SETTLEMENT,
        THREAD_SCHOOL,
        _THREAD_KIND_MAX,
};

struct thread_kind_info {
        double median_per_day, sigma, weekend;
        double self_lo, self_hi; /* follow-ups a post brings on its own wall */
        double cross;            /* posts it brings on other walls */
        double pickup;           /* weight as the wall that picks up a neighbour's post */
        const double *hours;
};

static const struct thread_kind_info thread_kinds[_THREAD_KIND_MAX] = {
        [THREAD_GOVERNMENT] = {14, 0.3, 0.6, 0.25, 0.4, 0.3, 0, newsroom_hours},
        [THREAD_MINISTRY] = {3.5, 0.5, 0.3, 0.2, 0.35, 0.3, 0, office_hours},
        [THREAD_ADMIN] = {5, 0.6, 0.35, 0.3, 0.5, 0.15, 3, office_hours},
        [THREAD_COUNCIL] = {0.3, 0.8, 0.05, 0.2, 0.4, 0.2, 0.3, office_hours},
        [THREAD_NEWSPAPER] = {3, 0.6, 0.5, 0.25, 0.45, 0.1, 3, newsroom_hours},
        [THREAD_EDUCATION] = {1.2, 0.7, 0.1, 0.2, 0.4, 0.25, 1, office_hours},
        [THREAD_CULTURE] = {1.0, 0.8, 1.3, 0.3, 0.5, 0.1, 0.5, evening_hours},
        [THREAD_SPORT] = {0.7, 0.8, 1.4, 0.3, 0.5, 0.1, 0.5, evening_hours},
        [THREAD_CLINIC] = {0.8, 0.8, 0.2, 0.15, 0.4, 0.08, 0.5, office_hours},
        [THREAD_MFC] = {0.5, 0.7, 0.3, 0.1, 0.25, 0.05, 0.3, office_hours},
        [THREAD_EDDS] = {0.8, 0.9, 0.9, 0.35, 0.6, 0.15, 1.5, duty_hours},
        [THREAD_SETTLEMENT] = {0.3, 1.0, 0.3, 0.1, 0.3, 0.05, 0.6, office_hours},
        [THREAD_SCHOOL] = {0.4, 0.9, 0.08, 0.15, 0.4, 0.05, 0.4, school_hours},
};

/* The district's walls, in order; settlements and schools fill the rest. */
static const enum thread_kind thread_district_head[] = {
        THREAD_ADMIN, THREAD_COUNCIL, THREAD_NEWSPAPER, THREAD_EDUCATION, THREAD_CULTURE,
        THREAD_SPORT, THREAD_CLINIC,  THREAD_MFC,       THREAD_EDDS,
};
#define THREAD_SETTLEMENTS 7

struct thread_wall {
        enum thread_kind kind;
        size_t district; /* SIZE_MAX: a regional wall */
        double per_day, self, shift_hours;
        bool dormant;
};

struct thread_post {
        double t;
        size_t wall;
        unsigned generation;
};

struct thread_queue {
        struct thread_post *post;
        size_t n, allocated;
};

static int thread_push(struct thread_queue *q, size_t wall, double t, unsigned generation)
{
        if (!greedy_realloc((void **)&q->post, &q->allocated, q->n + 1, sizeof(*q->post)))
                return -ENOMEM;
        q->post[q->n++] = (struct thread_post){t, wall, generation};
        return 0;
}

static enum thread_kind thread_kind_of(size_t i, size_t *ret_district)
{
        static const enum thread_kind regional[THREAD_REGIONAL_WALLS] = {
                THREAD_GOVERNMENT, THREAD_MINISTRY, THREAD_MINISTRY};
        if (i < THREAD_REGIONAL_WALLS) {
                *ret_district = SIZE_MAX;
                return regional[i];
        }
        size_t j = (i - THREAD_REGIONAL_WALLS) % THREAD_DISTRICT_WALLS;
        *ret_district = (i - THREAD_REGIONAL_WALLS) / THREAD_DISTRICT_WALLS;
        if (j < ELEMENTSOF(thread_district_head))
                return thread_district_head[j];
        return j < ELEMENTSOF(thread_district_head) + THREAD_SETTLEMENTS ? THREAD_SETTLEMENT
                                                                         : THREAD_SCHOOL;
}

static void thread_wall_draw(struct rng *r, size_t i, struct thread_wall *ret)
{
        size_t district;
        enum thread_kind kind = thread_kind_of(i, &district);
        const struct thread_kind_info *k = &thread_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, THREAD_OWN_CAP);
        double self = rng_between(r, k->self_lo, k->self_hi);
        double shift = 0.6 * rng_normal(r);
        bool dormant = district != SIZE_MAX && rng_chance(r, THREAD_DORMANT);
        *ret = (struct thread_wall){
                .kind = kind,
                .district = district,
                .per_day = dormant ? per_day * DORMANT_FACTOR : per_day,
                .self = self,
                .shift_hours = shift,
                .dormant = dormant,
        };
}

/* When wall w's editor posts a follow-up due at t. */
static double thread_place(const struct thread_wall *w, struct rng *r, double t)
{
        const double *hours = thread_kinds[w->kind].hours;
        double accept = trace_hour_acceptance(hours, trace_local_hour(t) - w->shift_hours);
        if (rng_chance(r, accept))
                return t;
        return trace_next_morning(r, t - w->shift_hours * HOUR, 8, 10) + w->shift_hours * HOUR;
}

/* The wall of district d that picks up a post of wall `from` (SIZE_MAX: none). */
static size_t thread_pick(const struct thread_wall *walls, size_t n, size_t d, size_t from,
                          struct rng *r)
{
        size_t first = THREAD_REGIONAL_WALLS + d * THREAD_DISTRICT_WALLS;
        size_t end = first + THREAD_DISTRICT_WALLS < n ? first + THREAD_DISTRICT_WALLS : n;
        double total = 0;
        for (size_t i = first; i < end; i++)
                if (i != from && !walls[i].dormant)
                        total += thread_kinds[walls[i].kind].pickup;
        if (total <= 0)
                return SIZE_MAX;
        double x = rng_unit(r) * total;
        for (size_t i = first; i < end; i++) {
                if (i == from || walls[i].dormant)
                        continue;
                x -= thread_kinds[walls[i].kind].pickup;
                if (x < 0)
                        return i;
        }
        return SIZE_MAX;
}

/* The follow-ups of post k of the queue, appended to it. */
static int thread_children(struct thread_queue *q, size_t k, const struct thread_wall *walls,
                           size_t n, size_t n_districts, struct rng *r)
{
        struct thread_post parent = q->post[k];
        const struct thread_wall *w = &walls[parent.wall];
        bool hot = rng_chance(r, THREAD_HOT_CHANCE);
        unsigned fast = rng_poisson(r, w->self * THREAD_FAST_SHARE);
        unsigned slow =
                rng_poisson(r, w->self * (1 - THREAD_FAST_SHARE) * (hot ? THREAD_HOT_FACTOR : 1));
        unsigned cross = rng_poisson(r, thread_kinds[w->kind].cross);
        unsigned generation = parent.generation + 1;
        int e = 0;

        for (unsigned m = 0; e >= 0 && m < fast + slow; m++) {
                double lag = rng_lognormal(r, m < fast ? THREAD_FAST_LAG : THREAD_SLOW_LAG, 0.9);
                double at = thread_place(w, r, parent.t + lag);
                e = thread_push(q, parent.wall, at, generation);
        }
        for (unsigned m = 0; e >= 0 && m < cross && n_districts > 0; m++) {
                size_t d = w->district;
                if (d == SIZE_MAX)
                        d = rng_below(r, n_districts);
                size_t to = thread_pick(walls, n, d, parent.wall, r);
                if (to == SIZE_MAX)
                        continue;
                double lag = rng_lognormal(r, THREAD_CROSS_LAG, 1.0);
                double at = thread_place(&walls[to], r, parent.t + lag);
                e = thread_push(q, to, at, generation);
        }
        return e;
}

/* A live event on wall `host` from local hour `from` of day `day`: running posts. */
static int thread_live(struct thread_queue *q, size_t host, int64_t day, double from,
                       double hours_long, double gap, struct rng *r)
{
        double start = trace_day_start(day) + from * HOUR;
        double end = start + hours_long * HOUR;
        int e = 0;
        for (double t = start + rng_lognormal(r, 5 * MINUTE, 0.6); e >= 0 && t < end;) {
                e = thread_push(q, host, t, 0);
                double step = rng_lognormal(r, gap, 0.5);
                t += step;
        }
        return e;
}

/* District d's live events on day `day`. */
static int thread_live_day(struct thread_queue *q, const struct thread_wall *walls, size_t n,
                           size_t d, int64_t day, struct rng *r)
{
        size_t base = THREAD_REGIONAL_WALLS + d * THREAD_DISTRICT_WALLS;
        int e = 0;
        for (unsigned m = rng_poisson(r, THREAD_LIVE_PER_DAY); e >= 0 && m > 0; m--) {
                size_t host;
                double from, hours_long, gap;
                double u = rng_unit(r);
                if (!trace_is_weekend_day(day) && u < 0.6) { /* the council's session */
                        host = base + 1;
                        from = 10;
                        hours_long = rng_between(r, 1.5, 3);
                        gap = 15 * MINUTE;
                } else if (!trace_is_weekend_day(day)) { /* a school's open day, an olympiad */
                        size_t school = rng_below(r, THREAD_DISTRICT_WALLS - 16);
                        host = base + 16 + school;
                        from = rng_between(r, 9, 12);
                        hours_long = rng_between(r, 1, 2);
                        gap = 12 * MINUTE;
                } else if (u < 0.5) { /* the sports school's tournament */
                        host = base + 5;
                        from = rng_between(r, 10, 12);
                        hours_long = rng_between(r, 3, 6);
                        gap = 25 * MINUTE;
                } else { /* the culture house's festival */
                        host = base + 4;
                        from = rng_between(r, 11, 13);
                        hours_long = rng_between(r, 3, 5);
                        gap = 20 * MINUTE;
                }
                if (host < n && !walls[host].dormant)
                        e = thread_live(q, host, day, from, hours_long, gap, r);
        }
        return e;
}

static int thread_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x7665746b61)};     /* "ветка" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x6b6f6d6d656e74)}; /* "коммент" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x6f7476657479)};  /* "ответы" */
        struct thread_queue q = {};
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        int e = 0;
        if (n == 0)
                return 0;
        trace_span_days(p, THREAD_WARM_UP_DAYS, &first_day, &last_day);
        _cleanup_free_ struct thread_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                thread_wall_draw(&wall_rng, i, &walls[i]);
        size_t n_districts = n > THREAD_REGIONAL_WALLS
                                     ? (n - THREAD_REGIONAL_WALLS + THREAD_DISTRICT_WALLS - 1) /
                                               THREAD_DISTRICT_WALLS
                                     : 0;

        /* The walls' own posts and the live events' running posts start threads. */
        for (int64_t d = first_day; e >= 0 && d <= last_day; d++) {
                for (size_t i = 0; e >= 0 && i < n; i++) {
                        const struct thread_wall *w = &walls[i];
                        const struct thread_kind_info *k = &thread_kinds[w->kind];
                        double factor = rng_lognormal(&post_rng, 1, 0.3);
                        double mean =
                                w->per_day * (trace_is_weekend_day(d) ? k->weekend : 1) * factor;
                        for (unsigned m = rng_poisson(&post_rng, mean); e >= 0 && m > 0; m--) {
                                double h = rng_hour(&post_rng, k->hours) + w->shift_hours;
                                e = thread_push(&q, i, trace_day_start(d) + h * HOUR, 0);
                        }
                }
                for (size_t dist = 0; e >= 0 && dist < n_districts; dist++)
                        e = thread_live_day(&q, walls, n, dist, d, &event_rng);
        }
        /* Every post, in the order they were made, brings its follow-ups. */
        for (size_t k = 0; e >= 0 && k < q.n; k++) {
                struct thread_post post = q.post[k];
                e = trace_add_at(tr, post.wall, post.t);
                if (e >= 0 && post.t < (double)p->t_end && post.generation < THREAD_MAX_GENERATIONS)
                        e = thread_children(&q, k, walls, n, n_districts, &event_rng);
        }
        free(q.post);
        if (e < 0)
                return e;
        trace_sort(tr);
        return 0;
}

/* ---- incidents: quiet walls busy for hours to two days ------------------------------------- */

/* Model. The regional government (wall 0), the regional emergency ministry (1) and the regional
 * grid company (2), then districts of INCIDENT_DISTRICT_WALLS walls: the administration, the
 * ЕДДС, the water utility, the grid's district branch (РЭС), the heat and gas service, the road
 * service, the police, the central clinic, seven settlement administrations, seven schools, the
 * culture house, the MFC office and the youth centre. Each wall posts on its own: a rate a working
 * day (lognormal, the kind's median and σ, within INCIDENT_OWN_CAP; the service walls' a few a
 * week: planned outages, tips), the kind's weekend factor and hours shifted by N(0, 0.6 h), a day
 * factor of σ 0.35; one wall in fifteen is dormant and has no incidents either.
 *
 * Incidents. A service wall (and a settlement, rarely: its own flood or fire) has incidents as a
 * Poisson process at its own rate (lognormal(the kind's median a week, σ 0.6)), starting at any
 * hour, a little more in the morning and the evening when pipes and lines are loaded. An incident
 * lasts lognormal(8 h, σ 0.8), from 1.5 h to 54 h. The wall posts the first message after
 * lognormal(25 min, σ 0.8), then updates at a rate r(u) = r0 · (0.5 + 1.5 e^(−u / 4 h)) an hour,
 * front-loaded, r0 the wall's busy rate (lognormal(the kind's median, σ 0.4)) times the incident's
 * severity (lognormal(1, σ 0.5)), within 3 an hour; one update in seven is a list of streets or a
 * water truck's stops in 2–4 posts 1–5 min apart. A wall with no one posting at night (by kind,
 * 15–90% have someone) posts a twentieth of its rate from 23:00 to 07:00 and the morning's
 * summary at 07:00–08:30; the last post ("восстановлено", "отбой") comes at the end, 85% of the
 * time. A district incident spreads (a power cut stops pumps and boilers: 45% for the grid, 25%
 * otherwise) to one or two other service walls of the district, after lognormal(40 min, σ 0.8)
 * and for half to all of the rest of it. The district administration reposts the first post
 * (70%), one update (30%) and the end (50%) after lognormal(50 min, σ 0.8), the next morning if
 * it is night and the administration has no one posting at night. 300 walls post some 350 a
 * working day (a region of many quiet walls), most service walls at most one post a day outside
 * incidents and 8–40 posts in a few hours within one.
 */

#define INCIDENT_REGIONAL_WALLS 3
#define INCIDENT_DISTRICT_WALLS 25
#define INCIDENT_DORMANT        (1.0 / 15)
#define INCIDENT_OWN_CAP        60.0
#define INCIDENT_MEDIAN_HOURS   8.0
#define INCIDENT_MIN_HOURS      1.5
#define INCIDENT_MAX_HOURS      54.0
#define INCIDENT_FRONT_HOURS    4.0 /* of the updates' front-loading */
#define INCIDENT_MAX_RATE       3.0 /* updates an hour */
#define INCIDENT_BATCH_CHANCE   (1.0 / 7)
#define INCIDENT_NIGHT_FACTOR   0.05
#define INCIDENT_LAST_CHANCE    0.85
#define INCIDENT_SPREAD_GRID    0.45
#define INCIDENT_SPREAD_OTHER   0.25

enum incident_kind {
        INCIDENT_GOVERNMENT,
        INCIDENT_EMERCOM, /* the regional emergency ministry */
        INCIDENT_REGIONAL_GRID,
        INCIDENT_ADMIN,
        INCIDENT_EDDS,
        INCIDENT_WATER,
        INCIDENT_GRID,
        INCIDENT_HEAT,
        INCIDENT_ROAD,
        INCIDENT_POLICE,
        INCIDENT_CLINIC,
        INCIDENT_SETTLEMENT,
        INCIDENT_SCHOOL,
        INCIDENT_CULTURE,
        INCIDENT_MFC,
        INCIDENT_YOUTH,
        _INCIDENT_KIND_MAX,
};

struct incident_kind_info {
        double median_per_day, sigma, weekend;
        const double *hours;
        double per_week;      /* incidents a week, the median wall of the kind */
        double busy_per_hour; /* updates an hour in an incident, the median wall */
        double night_chance;  /* that someone posts at night */
        bool service;         /* has district incidents spread to it */
};

static const struct incident_kind_info incident_kinds[_INCIDENT_KIND_MAX] = {
        [INCIDENT_GOVERNMENT] = {18, 0.3, 0.6, newsroom_hours, 0, 0, 0, false},
        [INCIDENT_EMERCOM] = {4, 0.5, 0.8, duty_hours, 0.4, 0.9, 0.9, false},
        [INCIDENT_REGIONAL_GRID] = {1.0, 0.6, 0.5, office_hours, 0.5, 0.6, 0.6, false},
        [INCIDENT_ADMIN] = {7, 0.6, 0.35, office_hours, 0, 0, 0.25, false},
        [INCIDENT_EDDS] = {0.5, 0.9, 0.8, duty_hours, 0.35, 0.7, 0.85, true},
        [INCIDENT_WATER] = {0.25, 1.0, 0.3, office_hours, 0.45, 0.5, 0.5, true},
        [INCIDENT_GRID] = {0.2, 1.0, 0.4, office_hours, 0.5, 0.6, 0.6, true},
        [INCIDENT_HEAT] = {0.2, 1.0, 0.3, office_hours, 0.25, 0.4, 0.4, true},
        [INCIDENT_ROAD] = {0.3, 1.0, 0.5, office_hours, 0.3, 0.5, 0.5, true},
        [INCIDENT_POLICE] = {1.0, 0.7, 0.7, duty_hours, 0, 0, 0, false},
        [INCIDENT_CLINIC] = {1.0, 0.8, 0.2, office_hours, 0, 0, 0, false},
        [INCIDENT_SETTLEMENT] = {0.3, 1.0, 0.3, office_hours, 0.04, 0.3, 0.15, false},
        [INCIDENT_SCHOOL] = {0.5, 0.9, 0.08, school_hours, 0, 0, 0, false},
        [INCIDENT_CULTURE] = {1.2, 0.8, 1.3, evening_hours, 0, 0, 0, false},
        [INCIDENT_MFC] = {0.6, 0.7, 0.3, office_hours, 0, 0, 0, false},
        [INCIDENT_YOUTH] = {0.8, 0.8, 1.2, late_hours, 0, 0, 0, false},
};

static const enum incident_kind incident_district[INCIDENT_DISTRICT_WALLS] = {
        INCIDENT_ADMIN,      INCIDENT_EDDS,       INCIDENT_WATER,      INCIDENT_GRID,
        INCIDENT_HEAT,       INCIDENT_ROAD,       INCIDENT_POLICE,     INCIDENT_CLINIC,
        INCIDENT_SETTLEMENT, INCIDENT_SETTLEMENT, INCIDENT_SETTLEMENT, INCIDENT_SETTLEMENT,
        INCIDENT_SETTLEMENT, INCIDENT_SETTLEMENT, INCIDENT_SETTLEMENT, INCIDENT_SCHOOL,
        INCIDENT_SCHOOL,     INCIDENT_SCHOOL,     INCIDENT_SCHOOL,     INCIDENT_SCHOOL,
        INCIDENT_SCHOOL,     INCIDENT_SCHOOL,     INCIDENT_CULTURE,    INCIDENT_MFC,
        INCIDENT_YOUTH,
};

/* When incidents start (relative weights by local hour). */
static const double incident_hours[24] = {
        0.6, 0.55, 0.5, 0.5,  0.55, 0.7,  0.9,  1.0,  /* 0–7 */
        1.0, 0.95, 0.9, 0.85, 0.8,  0.8,  0.8,  0.85, /* 8–15 */
        0.9, 1.0,  1.0, 1.0,  0.95, 0.85, 0.75, 0.65, /* 16–23 */
};

struct incident_wall {
        enum incident_kind kind;
        size_t admin; /* the district administration's wall; SIZE_MAX: none */
        size_t district_first, district_end;
        double per_day, shift_hours;
        double per_week, busy_per_hour;
        bool night; /* someone posts at night */
        bool dormant;
};

static void incident_wall_draw(struct rng *r, size_t i, size_t n, struct incident_wall *ret)
{
        enum incident_kind kind;
        size_t first = SIZE_MAX, end = SIZE_MAX;
        if (i < INCIDENT_REGIONAL_WALLS) {
                kind = (enum incident_kind)i;
        } else {
                size_t j = (i - INCIDENT_REGIONAL_WALLS) % INCIDENT_DISTRICT_WALLS;
                kind = incident_district[j];
                first = i - j;
                end = first + INCIDENT_DISTRICT_WALLS < n ? first + INCIDENT_DISTRICT_WALLS : n;
        }
        const struct incident_kind_info *k = &incident_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, INCIDENT_OWN_CAP);
        double shift = 0.6 * rng_normal(r);
        double per_week = k->per_week > 0 ? rng_lognormal(r, k->per_week, 0.6) : 0;
        double busy = k->busy_per_hour > 0 ? rng_lognormal(r, k->busy_per_hour, 0.4) : 0;
        bool night = rng_chance(r, k->night_chance);
        bool dormant = rng_chance(r, INCIDENT_DORMANT);
        *ret = (struct incident_wall){
                .kind = kind,
                .admin = first,
                .district_first = first,
                .district_end = end,
                .per_day = dormant ? per_day * DORMANT_FACTOR : per_day,
                .shift_hours = shift,
                .per_week = dormant ? 0 : per_week,
                .busy_per_hour = busy,
                .night = night,
                .dormant = dormant,
        };
}

/* The administration's repost of wall i's post at t. */
static int incident_repost(struct trace *tr, const struct incident_wall *walls, size_t i, double t,
                           double chance, struct rng *r)
{
        size_t admin = walls[i].admin;
        if (admin == SIZE_MAX || admin == i || walls[admin].dormant || !rng_chance(r, chance))
                return 0;
        double at = t + rng_lognormal(r, 50 * MINUTE, 0.8);
        if (!walls[admin].night && is_night(at, 23, 7))
                at = trace_next_morning(r, at, 8, 9.5);
        return trace_add_at(tr, admin, at);
}

/* Wall i's posts in an incident over [start, end), severity s; its administration's reposts. */
static int incident_run(struct trace *tr, const struct incident_wall *walls, size_t i, double start,
                        double end, double severity, struct rng *r)
{
        const struct incident_wall *w = &walls[i];
        double r0 = fmax(0.05, fmin(INCIDENT_MAX_RATE, w->busy_per_hour * severity));
        double first = start + rng_lognormal(r, 25 * MINUTE, 0.8);
        double middle = NAN;
        int q = trace_add_at(tr, i, first);
        if (q >= 0)
                q = incident_repost(tr, walls, i, first, 0.7, r);

        /* updates: thinning a Poisson process at twice r0 (the front-loading's top) */
        for (double t = first + rng_exp(r) * HOUR / (2 * r0); q >= 0 && t < end;) {
                double u = (t - start) / HOUR;
                double keep = (0.5 + 1.5 * exp(-u / INCIDENT_FRONT_HOURS)) / 2;
                if (!w->night && is_night(t, 23, 7))
                        keep *= INCIDENT_NIGHT_FACTOR;
                if (rng_chance(r, keep)) {
                        q = trace_add_at(tr, i, t);
                        if (isnan(middle) && u > (end - start) / HOUR / 2)
                                middle = t;
                        if (q >= 0 && rng_chance(r, INCIDENT_BATCH_CHANCE)) {
                                double at = t;
                                for (unsigned m = 1 + (unsigned)rng_below(r, 3); q >= 0 && m > 0;
                                     m--) {
                                        at += rng_between(r, 1, 5) * MINUTE;
                                        q = trace_add_at(tr, i, at);
                                }
                        }
                }
                double step = rng_exp(r) * HOUR / (2 * r0);
                t += step;
        }
        /* the morning's summary after a night nobody posted in (from 05:00 at the latest) */
        for (int64_t d = trace_local_day(start);
             !w->night && q >= 0 && trace_day_start(d) + 7 * HOUR < end; d++) {
                if (trace_day_start(d) + 5 * HOUR <= start)
                        continue;
                double at = trace_day_start(d) + rng_between(r, 7, 8.5) * HOUR;
                q = trace_add_at(tr, i, at);
        }
        if (q >= 0 && !isnan(middle))
                q = incident_repost(tr, walls, i, middle, 0.3, r);
        if (q >= 0 && rng_chance(r, INCIDENT_LAST_CHANCE)) {
                q = trace_add_at(tr, i, end);
                if (q >= 0)
                        q = incident_repost(tr, walls, i, end, 0.5, r);
        }
        return q;
}

/* An incident of wall i starting at `start`, spreading to the district's other services. */
static int incident_start(struct trace *tr, const struct incident_wall *walls, size_t i,
                          double start, struct rng *r)
{
        const struct incident_wall *w = &walls[i];
        double hours_long = rng_lognormal(r, INCIDENT_MEDIAN_HOURS, 0.8);
        hours_long = fmin(INCIDENT_MAX_HOURS, fmax(INCIDENT_MIN_HOURS, hours_long));
        double severity = rng_lognormal(r, 1, 0.5);
        double end = start + hours_long * HOUR;
        int q = incident_run(tr, walls, i, start, end, severity, r);
        if (q < 0 || !incident_kinds[w->kind].service)
                return q;

        double spread = w->kind == INCIDENT_GRID ? INCIDENT_SPREAD_GRID : INCIDENT_SPREAD_OTHER;
        if (!rng_chance(r, spread))
                return 0;
        size_t services[INCIDENT_DISTRICT_WALLS], n_services = 0;
        for (size_t j = w->district_first; j < w->district_end; j++)
                if (j != i && incident_kinds[walls[j].kind].service && !walls[j].dormant)
                        services[n_services++] = j;
        for (unsigned m = 1 + (unsigned)rng_below(r, 2); q >= 0 && m > 0 && n_services > 0; m--) {
                size_t pick = rng_below(r, n_services);
                size_t j = services[pick];
                services[pick] = services[--n_services]; /* not twice */
                double at = start + rng_lognormal(r, 40 * MINUTE, 0.8);
                double share = rng_between(r, 0.5, 1);
                if (at < end)
                        q = incident_run(tr, walls, j, at, at + (end - at) * share, severity, r);
        }
        return q;
}

static int incident_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x6176617269796121)}; /* "авария!" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x706c616e6f76)};     /* "планов" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x6f746b6c)};        /* "откл" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        _cleanup_free_ struct incident_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                incident_wall_draw(&wall_rng, i, n, &walls[i]);

        for (size_t i = 0; i < n; i++) {
                const struct incident_wall *w = &walls[i];
                const struct incident_kind_info *k = &incident_kinds[w->kind];
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
        /* Incidents, wall by wall, from the first day's midnight to the span's end. */
        double begin = trace_day_start(first_day), stop = (double)p->t_end;
        for (size_t i = 0; i < n; i++) {
                double per_day = walls[i].per_week / 7;
                if (per_day <= 0)
                        continue;
                for (double at = begin + rng_exp(&event_rng) * DAY / per_day; at < stop;) {
                        int64_t day = trace_local_day(at);
                        double h = rng_hour(&event_rng, incident_hours);
                        int q = incident_start(tr, walls, i, trace_day_start(day) + h * HOUR,
                                               &event_rng);
                        if (q < 0)
                                return q;
                        double step = rng_exp(&event_rng) * DAY / per_day;
                        at += step;
                }
        }
        trace_sort(tr);
        return 0;
}

/* ---- mayholidays: the May holidays, Victory Day in the measured week ----------------------- */

/* Model. The calendar of late April and May 2024 is laid on the span from the Monday of t0's
 * week, which plays Monday 6 May: Saturday 27 April a shortened working day; 28 April to 1 May
 * days off (29 and 30 April moved from the Saturdays); 2 and 3 May working days between the
 * stretches; a weekend; 6 and 7 May working days; 8 May shortened, the eve; 9 May Victory Day,
 * 10 May moved off, a weekend; 13 May the first working day after. Outside it the week is
 * ordinary. At the default t0 the measured week is the Victory Day week, the history holds the
 * first stretch.
 *
 * Walls, in shares stratified and shuffled: the regional government and ministries (2%),
 * district administrations (8%), settlement administrations (22%), schools and kindergartens
 * (30%), culture houses, libraries and museums (14%), sport and youth (6%), clinics (6%), MFC
 * and social services (6%), duty services (ЕДДС, police, transport; 6%). A wall's rate of an
 * ordinary working day is lognormal with the kind's median and σ, capped so that its busiest day
 * stays within 150; hours as the kind has them, shifted by N(0, 0.6 h); each day Poisson around
 * the rate times the day kind's factor (the table: a village's Victory Day four times its
 * working day, a school's days off a twentieth, a culture house's holidays above its weekdays)
 * times a day factor of σ 0.35; one wall in fifteen is dormant.
 *   - Leave: one office or school editor in five is on leave from 2 to 8 May: a sixth of the posts,
 *     the postponed ones still going out.
 *   - The memory campaign, 1 to 9 May: offices' rates 1.15× (the St George ribbon, the "Окна
 *     Победы" and "Сад памяти" actions); a daily rubric ("Лица Победы") on the walls that run it
 *     (administrations 60%, culture 60%, schools 35%, settlements 30%), a postponed post at the
 *     wall's hour (09:00–16:00) nine days in ten, weekends and days off too.
 *   - Greetings. On 9 May most walls that post at all greet (the kind's chance): from the queue
 *     at 00:00 (15%), 07:00 (15%), 08:00 (30%), 09:00 (25%) or 10:00 (15%), or by hand at
 *     08:00–11:00 two times in five; on 1 May three in five of them, at 08:00, 09:00 or 10:00.
 *   - Victory Day's own hours (ceremonies at the memorials in the morning, concerts, the minute
 *     of silence, the salute): a post at 18:55 from the queue or by hand at 18:30–19:05 (the
 *     kind's chance), the salute's photos at 22:05–23:30 (administrations and culture, 40%).
 * 300 walls post some 550 an ordinary working day, 300 on a day off and more than twice a working
 * day on Victory Day, schools near silent on the days off, a tenth of the walls silent for a week.
 */

#define MAY_DORMANT        (1.0 / 15)
#define MAY_LEAVE_CHANCE   0.2
#define MAY_LEAVE_FACTOR   (1.0 / 6)
#define MAY_CAMPAIGN_BOOST 1.15
#define MAY_RUBRIC_DAYS    0.9 /* share of the campaign's days with the rubric's post */
#define MAY_SALUTE_CHANCE  0.4

enum may_day {
        MAY_WORKDAY,
        MAY_WEEKEND,
        MAY_WORKING_SATURDAY,
        MAY_BRIDGE,          /* a day off moved from a Saturday */
        MAY_STRETCH_WEEKEND, /* a weekend within a stretch of days off */
        MAY_LABOUR_DAY,
        MAY_BETWEEN, /* a working day between the stretches */
        MAY_EVE,
        MAY_VICTORY,
        MAY_AFTER,
        _MAY_DAY_MAX,
};

enum may_kind {
        MAY_REGIONAL,
        MAY_ADMIN,
        MAY_SETTLEMENT,
        MAY_SCHOOL,
        MAY_CULTURE,
        MAY_SPORT,
        MAY_CLINIC,
        MAY_SOCIAL,
        MAY_DUTY,
        _MAY_KIND_MAX,
};

struct may_kind_info {
        double share, median_per_day, sigma;
        double on_day[_MAY_DAY_MAX]; /* times an ordinary working day's rate */
        const double *hours;         /* on its working days */
        bool office;                 /* working days' hours, leave, the campaign's boost */
        double greets, rubric, silence;
};

static const struct may_kind_info may_kinds[_MAY_KIND_MAX] = {
        /*                             work wknd wsat bridge strw  may1 betw eve  vict  after */
        [MAY_REGIONAL] = {0.02,
                          12,
                          0.5,
                          {1, 0.55, 0.9, 0.6, 0.55, 0.8, 0.9, 1.3, 2.0, 1.1},
                          newsroom_hours,
                          false,
                          1.0,
                          0.8,
                          0.9},
        [MAY_ADMIN] = {0.08,
                       6,
                       0.6,
                       {1, 0.3, 0.85, 0.25, 0.25, 0.6, 0.75, 1.5, 2.2, 1.25},
                       office_hours,
                       true,
                       0.95,
                       0.6,
                       0.6},
        [MAY_SETTLEMENT] = {0.22,
                            0.35,
                            1.0,
                            {1, 0.3, 0.7, 0.2, 0.25, 0.6, 0.7, 1.6, 4.0, 1.1},
                            office_hours,
                            true,
                            0.8,
                            0.3,
                            0.3},
        [MAY_SCHOOL] = {0.30,
                        0.5,
                        0.9,
                        {1, 0.08, 0.9, 0.05, 0.05, 0.2, 0.8, 1.8, 0.8, 0.9},
                        school_hours,
                        true,
                        0.7,
                        0.35,
                        0.15},
        [MAY_CULTURE] = {0.14,
                         1.2,
                         0.8,
                         {1, 1.3, 1.0, 1.2, 1.3, 1.6, 1.0, 1.7, 3.5, 0.8},
                         evening_hours,
                         false,
                         0.9,
                         0.6,
                         0.4},
        [MAY_SPORT] = {0.06,
                       0.8,
                       0.8,
                       {1, 1.4, 0.9, 1.2, 1.2, 1.3, 1.0, 1.2, 1.5, 0.9},
                       evening_hours,
                       false,
                       0.6,
                       0.1,
                       0.1},
        [MAY_CLINIC] = {0.06,
                        0.8,
                        0.8,
                        {1, 0.15, 0.8, 0.15, 0.15, 0.3, 0.9, 1.1, 0.5, 1.3},
                        office_hours,
                        true,
                        0.6,
                        0.05,
                        0.1},
        [MAY_SOCIAL] = {0.06,
                        0.6,
                        0.7,
                        {1, 0.15, 0.8, 0.1, 0.1, 0.3, 0.9, 1.2, 0.7, 1.3},
                        office_hours,
                        true,
                        0.6,
                        0.1,
                        0.15},
        [MAY_DUTY] = {0.06,
                      2.0,
                      0.9,
                      {1, 0.9, 1.0, 1.1, 1.0, 1.2, 1.0, 1.1, 1.5, 1.0},
                      duty_hours,
                      false,
                      0.5,
                      0.05,
                      0.2},
};

/* Victory Day's hours: greetings in the night and morning, ceremonies, concerts, 19:00, 22:00. */
static const double victory_hours[24] = {
        0.25, 0.05, 0.02, 0.01, 0.01, 0.02, 0.1, 0.4, /* 0–7 */
        0.75, 1.0,  1.0,  1.0,  0.9,  0.8,  0.7, 0.6, /* 8–15 */
        0.5,  0.45, 0.5,  0.6,  0.45, 0.4,  0.6, 0.3, /* 16–23 */
};

struct may_wall {
        enum may_kind kind;
        double per_day, shift_hours;
        bool leave, greets, rubric, silence, salute;
        double rubric_hour;
};

/* Day kind of local day `day`, the Monday of t0's week playing 6 May. */
static enum may_day may_day_of(int64_t monday, int64_t day)
{
        switch (day - monday) {
        case -9:
                return MAY_WORKING_SATURDAY;
        case -8:
        case 5:
        case 6:
                return MAY_STRETCH_WEEKEND;
        case -7:
        case -6:
        case 4:
                return MAY_BRIDGE;
        case -5:
                return MAY_LABOUR_DAY;
        case -4:
        case -3:
                return MAY_BETWEEN;
        case 2:
                return MAY_EVE;
        case 3:
                return MAY_VICTORY;
        case 7:
                return MAY_AFTER;
        default:
                return trace_is_weekend_day(day) ? MAY_WEEKEND : MAY_WORKDAY;
        }
}

static const double *may_hours(const struct may_wall *w, enum may_day dk)
{
        const struct may_kind_info *k = &may_kinds[w->kind];
        if (w->kind == MAY_DUTY)
                return duty_hours;
        switch (dk) {
        case MAY_WORKDAY:
        case MAY_BETWEEN:
        case MAY_AFTER:
                return k->hours;
        case MAY_EVE:
        case MAY_WORKING_SATURDAY:
                return k->office ? eve_hours : k->hours;
        case MAY_VICTORY:
                return victory_hours;
        default:
                return k->office ? day_off_hours : k->hours;
        }
}

static enum may_kind may_kind_of(size_t i, size_t n)
{
        double x = ((double)i + 0.5) / (double)n;
        for (unsigned k = 0; k < _MAY_KIND_MAX - 1; k++) {
                if (x < may_kinds[k].share)
                        return k;
                x -= may_kinds[k].share;
        }
        return _MAY_KIND_MAX - 1;
}

static void may_wall_draw(struct rng *r, enum may_kind kind, struct may_wall *ret)
{
        const struct may_kind_info *k = &may_kinds[kind];
        double busiest = 1;
        for (unsigned d = 0; d < _MAY_DAY_MAX; d++)
                busiest = fmax(busiest, k->on_day[d]);
        double per_day =
                rng_lognormal_capped(r, k->median_per_day, k->sigma, 150 / (busiest * 1.5));
        double shift = 0.6 * rng_normal(r);
        bool dormant = rng_chance(r, MAY_DORMANT);
        bool leave = k->office && rng_chance(r, MAY_LEAVE_CHANCE);
        /* a wall that hardly posts seldom greets or runs a rubric */
        double active = dormant ? 0 : per_day / (per_day + 0.15);
        bool greets = rng_chance(r, k->greets * active);
        bool rubric = rng_chance(r, k->rubric * active);
        bool silence = rng_chance(r, k->silence * active);
        bool salute = (kind == MAY_ADMIN || kind == MAY_CULTURE) &&
                      rng_chance(r, MAY_SALUTE_CHANCE * active);
        double rubric_hour = 9 + (double)rng_below(r, 8);
        *ret = (struct may_wall){
                .kind = kind,
                .per_day = dormant ? per_day * DORMANT_FACTOR : per_day,
                .shift_hours = shift,
                .leave = leave,
                .greets = greets,
                .rubric = rubric,
                .silence = silence,
                .salute = salute,
                .rubric_hour = rubric_hour,
        };
}

/* A holiday greeting: from the queue at one of the hours (chances in `chance`), or by hand. */
static int may_greeting(struct trace *tr, size_t i, int64_t day, const double *hour,
                        const double *chance, size_t n_hours, double by_hand, struct rng *r)
{
        if (rng_chance(r, by_hand)) {
                double at = trace_day_start(day) + rng_between(r, 8, 11) * HOUR;
                return trace_add_at(tr, i, at);
        }
        double x = rng_unit(r);
        size_t k = 0;
        while (k + 1 < n_hours && x >= chance[k]) {
                x -= chance[k];
                k++;
        }
        return add_postponed(tr, i, r, day, hour[k]);
}

/* Wall i's posts of day `day` beyond its own: greetings, the rubric, 19:00, the salute. */
static int may_extras(struct trace *tr, size_t i, const struct may_wall *w, int64_t monday,
                      int64_t day, struct rng *r)
{
        static const double victory_hour[] = {0, 7, 8, 9, 10};
        static const double victory_chance[] = {0.15, 0.15, 0.3, 0.25, 0.15};
        static const double labour_hour[] = {8, 9, 10};
        static const double labour_chance[] = {0.35, 0.4, 0.25};
        enum may_day dk = may_day_of(monday, day);
        int q = 0;

        if (w->rubric && day >= monday - 5 && day <= monday + 3 && rng_chance(r, MAY_RUBRIC_DAYS))
                q = add_postponed(tr, i, r, day, w->rubric_hour);
        if (q >= 0 && w->greets && dk == MAY_VICTORY)
                q = may_greeting(tr, i, day, victory_hour, victory_chance, ELEMENTSOF(victory_hour),
                                 0.4, r);
        if (q >= 0 && w->greets && dk == MAY_LABOUR_DAY && rng_chance(r, 0.6))
                q = may_greeting(tr, i, day, labour_hour, labour_chance, ELEMENTSOF(labour_hour),
                                 0.3, r);
        if (q >= 0 && w->silence && dk == MAY_VICTORY) {
                if (rng_chance(r, 0.5))
                        q = add_postponed(tr, i, r, day, 18 + 55.0 / 60);
                else
                        q = trace_add_at(tr, i,
                                         trace_day_start(day) + rng_between(r, 18.5, 19.1) * HOUR);
        }
        if (q >= 0 && w->salute && dk == MAY_VICTORY) {
                double at = trace_day_start(day) + rng_between(r, 22 + 5.0 / 60, 23.5) * HOUR;
                q = trace_add_at(tr, i, at);
        }
        return q;
}

static int may_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x706f62656461)}; /* "победа" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x6d61796b61)};   /* "маёвка" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x73616c7574)};  /* "салют" */
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        _cleanup_free_ struct may_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                may_wall_draw(&wall_rng, may_kind_of(i, n), &walls[i]);
        for (size_t i = n; i > 1; i--) { /* shuffled: kinds not in blocks of owner ids */
                size_t j = rng_below(&wall_rng, i);
                struct may_wall t = walls[i - 1];
                walls[i - 1] = walls[j];
                walls[j] = t;
        }
        int64_t d0 = trace_local_day((double)p->t0);
        int64_t monday = d0 - trace_day_of_week(d0);

        for (size_t i = 0; i < n; i++) {
                const struct may_wall *w = &walls[i];
                const struct may_kind_info *k = &may_kinds[w->kind];
                for (int64_t d = first_day; d <= last_day; d++) {
                        enum may_day dk = may_day_of(monday, d);
                        double factor = rng_lognormal(&post_rng, 1, 0.35);
                        double mean = w->per_day * k->on_day[dk] * factor;
                        if (k->office && d >= monday - 5 && d <= monday + 3)
                                mean *= MAY_CAMPAIGN_BOOST;
                        if (w->leave && d >= monday - 4 && d <= monday + 2)
                                mean *= MAY_LEAVE_FACTOR;
                        int q = trace_posts_on_day(tr, i, &post_rng, d, mean, may_hours(w, dk),
                                                   w->shift_hours);
                        if (q >= 0)
                                q = may_extras(tr, i, w, monday, d, &event_rng);
                        if (q < 0)
                                return q;
                }
        }
        trace_sort(tr);
        return 0;
}

/* ---- sirens: alerts copied within minutes, walls with hours of their own ------------------- */

/* Model. A border region: the governor's own wall (0), the regional government (1), the
 * regional ЕДДС (2), the ministry of education (3) and the regional transport dispatcher (4),
 * then districts of SIREN_DISTRICT_WALLS walls: the administration, the ЕДДС, the municipal
 * newspaper, the bus depot, the culture house, the youth centre, the sports school, the central
 * clinic, six settlement administrations, eight schools, the police, and the district's Telegram
 * channel mirrored onto VK by a bot. Two districts in five are on the border. Each wall posts on
 * its own at a rate a working day (lognormal, the kind's median and σ, within SIREN_OWN_CAP), the
 * kind's weekend factor, the kind's hours (the bus depot from 05:00, the youth centre until after
 * midnight, the culture house and the sports school in the evening, the newspaper and the
 * government as a newsroom, the ЕДДС and the police round the clock) shifted by
 * N(0, 0.8 h), a day factor of σ 0.35; one wall in fifteen is dormant. Six newspapers in ten post
 * a morning digest from the queue at 06:00 or 07:00 every day.
 *
 * Alerts. Each day has lognormal(3, σ 0.9) alerts on average, within 24 (some days quiet, some a
 * night of waves), Poisson, at hours heavier at night and in the early morning. An alert covers
 * the whole region (35%) or each border district at 70% and each other at 10% (at least one
 * district), and lasts lognormal(30 min, σ 0.6), 6 min to 4 h. The regional ЕДДС posts it and
 * its all-clear within 45 s. In the districts covered, walls copy both, each with its own chance
 * by day and by night (23:00–07:00): the ЕДДС nearly always after lognormal(90 s, σ 0.6), the
 * mirror bot after lognormal(45 s, σ 0.5), the administration (0.5–1 by day, a fraction of that by
 * night) after lognormal(4 min, σ 0.8), the newspaper (0.2–0.7) after lognormal(6 min, σ 0.9),
 * the bus depot by day (0.3, "движение приостановлено"), settlements by day only (0–0.6) after
 * lognormal(15 min, σ 1), the regional government (0.5, night 0.2) after lognormal(3 min). The
 * all-clear goes out at 85% of those that copied the alert (70% at night).
 *
 * The governor's address, nine evenings in ten at 19:30–22:30 on his wall: administrations repost
 * it at 55% after lognormal(35 min, σ 1), the next morning (08:00–09:30) if that is after 23:30
 * and nobody is on duty, newspapers at 40%, mirrors at 90% after lognormal(10 min). School
 * mornings: on a working day after an alert from 00:00 to 06:30 in a district, the ministry of
 * education posts at 06:00–06:40 and 70% of the district's schools post distance learning at
 * 06:30–07:50, the administration at 40%. 300 walls post some 650 a day, 7% of them between
 * 00:00 and 06:00, with minutes in which twenty walls post.
 */

#define SIREN_REGIONAL_WALLS  5
#define SIREN_DISTRICT_WALLS  24
#define SIREN_DORMANT         (1.0 / 15)
#define SIREN_OWN_CAP         50.0
#define SIREN_BORDER_CHANCE   0.4
#define SIREN_ALERTS_MEDIAN   3.0 /* a day */
#define SIREN_ALERTS_CAP      24.0
#define SIREN_WIDE_CHANCE     0.35
#define SIREN_BORDER_COVERED  0.7
#define SIREN_INLAND_COVERED  0.1
#define SIREN_ALL_CLEAR_DAY   0.85
#define SIREN_ALL_CLEAR_NIGHT 0.7
#define SIREN_DIGEST_CHANCE   0.6
#define SIREN_MAX_DISTRICTS   64 /* at most this many districts take part in alerts */

enum siren_kind {
        SIREN_GOVERNOR,
        SIREN_GOVERNMENT,
        SIREN_REGIONAL_EDDS,
        SIREN_MIN_EDUCATION,
        SIREN_REGIONAL_TRANSPORT,
        SIREN_ADMIN,
        SIREN_EDDS,
        SIREN_NEWSPAPER,
        SIREN_DEPOT,
        SIREN_CULTURE,
        SIREN_YOUTH,
        SIREN_SPORT,
        SIREN_CLINIC,
        SIREN_SETTLEMENT,
        SIREN_SCHOOL,
        SIREN_POLICE,
        SIREN_MIRROR,
        _SIREN_KIND_MAX,
};

struct siren_kind_info {
        double median_per_day, sigma, weekend;
        const double *hours;
        double copy_lo, copy_hi;   /* chance to copy an alert by day */
        double night_lo, night_hi; /* by night, times the day's chance */
        double lag, lag_sigma;
};

static const struct siren_kind_info siren_kinds[_SIREN_KIND_MAX] = {
        [SIREN_GOVERNOR] = {5, 0.4, 0.8, newsroom_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_GOVERNMENT] = {18, 0.3, 0.6, newsroom_hours, 0.5, 0.5, 0.4, 0.4, 3 * MINUTE, 0.7},
        [SIREN_REGIONAL_EDDS] = {5, 0.5, 0.9, duty_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_MIN_EDUCATION] = {3, 0.5, 0.2, office_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_REGIONAL_TRANSPORT] = {4, 0.6, 0.7, early_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_ADMIN] = {6, 0.6, 0.4, office_hours, 0.5, 1, 0.1, 0.9, 4 * MINUTE, 0.8},
        [SIREN_EDDS] = {1.5, 0.8, 0.9, duty_hours, 0.9, 1, 0.9, 1, 90, 0.6},
        [SIREN_NEWSPAPER] = {4, 0.6, 0.5, newsroom_hours, 0.2, 0.7, 0.1, 0.3, 6 * MINUTE, 0.9},
        [SIREN_DEPOT] = {1.5, 0.8, 0.7, early_hours, 0.3, 0.3, 0, 0, 5 * MINUTE, 0.8},
        [SIREN_CULTURE] = {1.3, 0.8, 1.3, evening_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_YOUTH] = {1.0, 0.9, 1.2, late_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_SPORT] = {0.7, 0.8, 1.5, evening_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_CLINIC] = {1.0, 0.8, 0.2, office_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_SETTLEMENT] = {0.35, 1.0, 0.3, office_hours, 0, 0.6, 0, 0, 15 * MINUTE, 1.0},
        [SIREN_SCHOOL] = {0.5, 0.9, 0.1, school_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_POLICE] = {1.2, 0.7, 0.7, duty_hours, 0, 0, 0, 0, 0, 0},
        [SIREN_MIRROR] = {5, 0.6, 0.8, mirror_hours, 0.9, 0.95, 0.9, 1, 45, 0.5},
};

static const enum siren_kind siren_district[SIREN_DISTRICT_WALLS] = {
        SIREN_ADMIN,      SIREN_EDDS,       SIREN_NEWSPAPER,  SIREN_DEPOT,      SIREN_CULTURE,
        SIREN_YOUTH,      SIREN_SPORT,      SIREN_CLINIC,     SIREN_SETTLEMENT, SIREN_SETTLEMENT,
        SIREN_SETTLEMENT, SIREN_SETTLEMENT, SIREN_SETTLEMENT, SIREN_SETTLEMENT, SIREN_SCHOOL,
        SIREN_SCHOOL,     SIREN_SCHOOL,     SIREN_SCHOOL,     SIREN_SCHOOL,     SIREN_SCHOOL,
        SIREN_SCHOOL,     SIREN_SCHOOL,     SIREN_POLICE,     SIREN_MIRROR,
};

/* When alerts come (relative weights by local hour): nights and early mornings the most. */
static const double alert_hours[24] = {
        1.4,  1.5, 1.5,  1.5, 1.4, 1.3, 1.1, 1.0, /* 0–7 */
        0.8,  0.7, 0.7,  0.7, 0.7, 0.7, 0.7, 0.7, /* 8–15 */
        0.75, 0.8, 0.85, 0.9, 1.0, 1.1, 1.2, 1.3, /* 16–23 */
};

struct siren_wall {
        enum siren_kind kind;
        size_t district; /* SIZE_MAX: a regional wall */
        double per_day, shift_hours;
        double copy_day, copy_night;
        bool digest;
        double digest_hour;
        bool dormant;
};

static void siren_wall_draw(struct rng *r, size_t i, struct siren_wall *ret)
{
        enum siren_kind kind;
        size_t district = SIZE_MAX;
        if (i < SIREN_REGIONAL_WALLS) {
                kind = (enum siren_kind)i;
        } else {
                kind = siren_district[(i - SIREN_REGIONAL_WALLS) % SIREN_DISTRICT_WALLS];
                district = (i - SIREN_REGIONAL_WALLS) / SIREN_DISTRICT_WALLS;
        }
        const struct siren_kind_info *k = &siren_kinds[kind];
        double per_day = rng_lognormal_capped(r, k->median_per_day, k->sigma, SIREN_OWN_CAP);
        double shift = 0.8 * rng_normal(r);
        double copy_day = rng_between(r, k->copy_lo, k->copy_hi);
        double night = rng_between(r, k->night_lo, k->night_hi);
        bool digest = kind == SIREN_NEWSPAPER && rng_chance(r, SIREN_DIGEST_CHANCE);
        double digest_hour = rng_chance(r, 0.5) ? 6 : 7;
        bool dormant = district != SIZE_MAX && rng_chance(r, SIREN_DORMANT);
        *ret = (struct siren_wall){
                .kind = kind,
                .district = district,
                .per_day = dormant ? per_day * DORMANT_FACTOR : per_day,
                .shift_hours = shift,
                .copy_day = dormant ? 0 : copy_day,
                .copy_night = dormant ? 0 : copy_day * night,
                .digest = digest && !dormant,
                .digest_hour = digest_hour,
                .dormant = dormant,
        };
}

/* One alert at t for `hours_long` over the districts covered[]: the source and the copies. */
static int siren_alert(struct trace *tr, const struct siren_wall *walls, size_t n, double t,
                       double end, const bool *covered, struct rng *r)
{
        bool night = is_night(t, 23, 7);
        double source_late = rng_between(r, 0, 45);
        int q = 0;
        if (n > SIREN_REGIONAL_EDDS) {
                double clear_late = rng_between(r, 0, 45);
                q = trace_add_at(tr, SIREN_REGIONAL_EDDS, t + source_late);
                if (q >= 0)
                        q = trace_add_at(tr, SIREN_REGIONAL_EDDS, end + clear_late);
        }
        for (size_t i = 0; q >= 0 && i < n; i++) {
                const struct siren_wall *w = &walls[i];
                const struct siren_kind_info *k = &siren_kinds[w->kind];
                if (w->district != SIZE_MAX && !covered[w->district % SIREN_MAX_DISTRICTS])
                        continue;
                if (!rng_chance(r, night ? w->copy_night : w->copy_day))
                        continue;
                double lag = rng_lognormal(r, k->lag, k->lag_sigma);
                q = trace_add_at(tr, i, t + source_late + lag);
                if (q < 0)
                        break;
                bool clear_night = is_night(end, 23, 7);
                if (!rng_chance(r, clear_night ? SIREN_ALL_CLEAR_NIGHT : SIREN_ALL_CLEAR_DAY))
                        continue;
                double clear_lag = rng_lognormal(r, k->lag, k->lag_sigma);
                q = trace_add_at(tr, i, end + clear_lag);
        }
        return q;
}

/* The districts an alert covers, into covered[] (at least one). */
static void siren_cover(struct rng *r, const bool *border, size_t n_districts, bool *covered)
{
        bool wide = rng_chance(r, SIREN_WIDE_CHANCE), any = false;
        for (size_t d = 0; d < n_districts; d++) {
                covered[d] = wide ||
                             rng_chance(r, border[d] ? SIREN_BORDER_COVERED : SIREN_INLAND_COVERED);
                any = any || covered[d];
        }
        if (!any && n_districts > 0) {
                size_t d = rng_below(r, n_districts);
                covered[d] = true;
        }
}

/* The governor's evening address on day `day` and its reposts. */
static int siren_address(struct trace *tr, const struct siren_wall *walls, size_t n, int64_t day,
                         struct rng *r)
{
        if (!rng_chance(r, 0.9))
                return 0;
        double t = trace_day_start(day) + rng_between(r, 19.5, 22.5) * HOUR;
        int q = trace_add_at(tr, SIREN_GOVERNOR, t);
        for (size_t i = SIREN_REGIONAL_WALLS; q >= 0 && i < n; i++) {
                const struct siren_wall *w = &walls[i];
                double chance = w->kind == SIREN_ADMIN       ? 0.55
                                : w->kind == SIREN_NEWSPAPER ? 0.4
                                : w->kind == SIREN_MIRROR    ? 0.9
                                                             : 0;
                if (w->dormant || !rng_chance(r, chance))
                        continue;
                double median = w->kind == SIREN_MIRROR ? 10 * MINUTE : 35 * MINUTE;
                double at = t + rng_lognormal(r, median, w->kind == SIREN_MIRROR ? 0.8 : 1.0);
                if (w->kind != SIREN_MIRROR && w->copy_night < 0.4 && is_night(at, 23.5, 7))
                        at = trace_next_morning(r, at, 8, 9.5);
                q = trace_add_at(tr, i, at);
        }
        return q;
}

/* Distance learning on the working day `day` in the districts night[] marks. */
static int siren_school_morning(struct trace *tr, const struct siren_wall *walls, size_t n,
                                int64_t day, const bool *night, struct rng *r)
{
        double start = trace_day_start(day);
        double ministry = rng_between(r, 6, 6 + 40.0 / 60);
        int q = 0;
        if (n > SIREN_MIN_EDUCATION)
                q = trace_add_at(tr, SIREN_MIN_EDUCATION, start + ministry * HOUR);
        for (size_t i = SIREN_REGIONAL_WALLS; q >= 0 && i < n; i++) {
                const struct siren_wall *w = &walls[i];
                if (w->dormant || !night[w->district % SIREN_MAX_DISTRICTS])
                        continue;
                double chance = w->kind == SIREN_SCHOOL ? 0.7 : w->kind == SIREN_ADMIN ? 0.4 : 0;
                if (!rng_chance(r, chance))
                        continue;
                double h = rng_between(r, 6.5, 7 + 50.0 / 60);
                q = trace_add_at(tr, i, start + h * HOUR);
        }
        return q;
}

static int siren_generate(const struct family_params *p, struct trace *tr)
{
        struct rng wall_rng = {p->seed ^ UINT64_C(0x6772616e69636121)}; /* "граница!" */
        struct rng post_rng = {p->seed ^ UINT64_C(0x6175746f627573)};   /* "автобус" */
        struct rng event_rng = {p->seed ^ UINT64_C(0x6f7462696a)};      /* "отбой" */
        bool border[SIREN_MAX_DISTRICTS], covered[SIREN_MAX_DISTRICTS];
        bool night_alert[SIREN_MAX_DISTRICTS];
        size_t n = p->n_comm;
        int64_t first_day, last_day;
        if (n == 0)
                return 0;
        trace_span_days(p, 1, &first_day, &last_day);
        _cleanup_free_ struct siren_wall *walls = calloc(n, sizeof(*walls));
        if (!walls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                siren_wall_draw(&wall_rng, i, &walls[i]);
        size_t n_districts = n > SIREN_REGIONAL_WALLS
                                     ? (n - SIREN_REGIONAL_WALLS + SIREN_DISTRICT_WALLS - 1) /
                                               SIREN_DISTRICT_WALLS
                                     : 0;
        /* more districts than that share the alerts of the first SIREN_MAX_DISTRICTS */
        n_districts = n_districts < SIREN_MAX_DISTRICTS ? n_districts : SIREN_MAX_DISTRICTS;
        for (size_t d = 0; d < n_districts; d++)
                border[d] = rng_chance(&wall_rng, SIREN_BORDER_CHANCE);

        for (size_t i = 0; i < n; i++) {
                const struct siren_wall *w = &walls[i];
                const struct siren_kind_info *k = &siren_kinds[w->kind];
                for (int64_t d = first_day; d <= last_day; d++) {
                        double factor = rng_lognormal(&post_rng, 1, 0.35);
                        double mean =
                                w->per_day * (trace_is_weekend_day(d) ? k->weekend : 1) * factor;
                        int q = trace_posts_on_day(tr, i, &post_rng, d, mean, k->hours,
                                                   w->shift_hours);
                        if (q >= 0 && w->digest)
                                q = add_postponed(tr, i, &post_rng, d, w->digest_hour);
                        if (q < 0)
                                return q;
                }
        }

        for (int64_t d = first_day; d <= last_day; d++) {
                int q = 0;
                for (size_t k = 0; k < n_districts; k++)
                        night_alert[k] = false;
                double mean = rng_lognormal(&event_rng, SIREN_ALERTS_MEDIAN, 0.9);
                for (unsigned m = rng_poisson(&event_rng, fmin(mean, SIREN_ALERTS_CAP));
                     q >= 0 && m > 0; m--) {
                        double h = rng_hour(&event_rng, alert_hours);
                        double t = trace_day_start(d) + h * HOUR;
                        double minutes = rng_lognormal(&event_rng, 30, 0.6);
                        minutes = fmin(240, fmax(6, minutes));
                        siren_cover(&event_rng, border, n_districts, covered);
                        q = siren_alert(tr, walls, n, t, t + minutes * MINUTE, covered, &event_rng);
                        for (size_t k = 0; h < 6.5 && k < n_districts; k++)
                                night_alert[k] = night_alert[k] || covered[k];
                }
                bool any = false;
                for (size_t k = 0; k < n_districts; k++)
                        any = any || night_alert[k];
                if (q >= 0 && any && !trace_is_weekend_day(d))
                        q = siren_school_morning(tr, walls, n, d, night_alert, &event_rng);
                if (q >= 0)
                        q = siren_address(tr, walls, n, d, &event_rng);
                if (q < 0)
                        return q;
        }
        trace_sort(tr);
        return 0;
}

const struct family schedsim_sealed_families[] = {
        {
                .name = "threads",
                .summary = "self- and mutually exciting district walls: follow-ups, comment-driven "
                           "answers, pickups, live events",
                .held_out = true,
                .generate = thread_generate,
        },
        {
                .name = "incidents",
                .summary = "quiet service walls busy for hours to two days in an incident, "
                           "spreading in a district; ordinary walls around",
                .held_out = true,
                .generate = incident_generate,
        },
        {
                .name = "mayholidays",
                .summary = "the May holidays: working Saturday, two stretches off, leave, the "
                           "Victory Day eve, greetings and 19:00",
                .held_out = true,
                .generate = may_generate,
        },
        {
                .name = "sirens",
                .summary = "a border region's alerts copied within minutes, often at night; walls "
                           "with early, late and evening hours",
                .held_out = true,
                .generate = siren_generate,
        },
        {},
};
