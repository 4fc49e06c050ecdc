/* sweep.c — one pass over walls of the watch list: fetch them, decide what is new, record, queue.
 *
 * A sweep polls targets govwatch.c resolved already: the walls daemon.c found due, or every one
 * for `once`. What it holds of each wall it polls (pages, posts, the community's row, read once)
 * is its own (struct wall_poll), and its done callback gets what became of each (sweep.h). It
 * writes to the store only in one transaction per wall: the wall's new posts recorded as seen
 * together with their outbox rows, so a crash between the two can't happen. It never sends
 * anything itself: the outbox does. What is new is detect.c's decision; this file reads the
 * store for it and applies it.
 *
 * The scheduler hears what went out (scheduler_record_poll when a batch is sent, record_extra
 * for paging back through a burst) and what came back (scheduler_observe with the new posts'
 * dates); a sweep never sends a wall.get the daily budget has no room for: error 29 is VK's
 * verdict, never our doing.
 *
 * An answer comes in as it is read (source.c, a step at a time, a wall at a time), and its walls
 * are handled one an event-loop iteration (process_wall): what one iteration costs is one wall's
 * new posts classified and stored, not a batch's 25.
 *
 * A stop abandons a sweep in progress. The walls whose poll had gone out count as polled for the
 * scheduler, yet nothing of their answer was recorded: sweep_abort notes them in the store, and
 * the first sweep after the next start's resolution polls them whether due or not
 * (SWEEP_TAKE_INTERRUPTED, take_interrupted).
 */
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>

#include "detect.h"
#include "govwatch.h"
#include "log.h"
#include "metrics.h"
#include "sweep.h"
#include "tz_cache.h"
#include "vk.h"

#define SWEEP_MAX_PAGES     5 /* a burst of more than 5 pages in one interval is a flood */
#define SWEEP_MAX_ATTEMPTS  4 /* per batch, for transient errors */
#define SWEEP_MAX_IN_FLIGHT 2 /* execute requests at once; the limiter paces them anyway */
#define INTERRUPTED_KEY     "sweep.interrupted" /* kv_text: "walls" then " <owner_id>"... */
#define INTERRUPTED_NONE    "walls"

/* What this sweep holds of one wall it polls. */
struct wall_poll {
        const struct target *target; /* in gw->targets, which stay put while a sweep runs */
        uint64_t poll_usec;          /* realtime when its first page went out; 0: not yet */
        struct post **collected;     /* posts gathered over the pages of this sweep */
        size_t n_collected, allocated;
        unsigned pages;
        bool done;
        bool have_state, state_found;
        struct community_state state; /* its row in the store, read once (poll_state) */
        struct sweep_wall outcome;
        char *error_msg; /* outcome.error_msg's */
};

struct job {
        size_t poll; /* in sweep->polls */
        unsigned offset;
        bool counted; /* a paging call already counted by scheduler_record_extra */
};

struct batch {
        struct batch *next, *prev; /* the sweep's live batches, so an abort can free them */
        struct sweep *sweep;
        struct job jobs[VK_EXECUTE_MAX_CALLS];
        size_t n_jobs;
        unsigned attempts;
        sd_event_source *retry_timer;
        /* the answer, read while it is parsed (on_wall): posts, not JSON trees */
        struct wall *walls[VK_EXECUTE_MAX_CALLS];
        int wall_result[VK_EXECUTE_MAX_CALLS];
        const char *wall_reason[VK_EXECUTE_MAX_CALLS];
        /* then what each call answered, and the walls handled one an iteration */
        int call_error[VK_EXECUTE_MAX_CALLS];
        char *call_msg[VK_EXECUTE_MAX_CALLS];
        size_t next_wall;
        sd_event_source *processing;
};

struct sweep {
        struct govwatch *gw;
        sweep_done_fn done;
        void *userdata;
        struct batch *batches;
        struct wall_poll *polls; /* the walls this sweep polls */
        size_t n_polls;
        struct job *queue;
        size_t n_queue, queue_start, queue_allocated;
        unsigned in_flight;  /* wall batches outstanding */
        unsigned retrying;   /* batches waiting on a retry timer */
        unsigned processing; /* batches whose walls are being handled (on_processing) */
        bool quota_exhausted;
        bool polling;       /* its first pages are queued */
        unsigned flags;     /* SWEEP_* */
        bool poll_all;      /* no list given: every watched wall (`once`) */
        int64_t *owner_ids; /* else these */
        size_t n_owner_ids;
        unsigned over_budget; /* walls skipped: the daily budget had no room */
        unsigned polled;      /* walls whose first page went out */
        unsigned new_posts;
        unsigned errors;
        int result;
        sd_event_source *defer;
};

static void sweep_finish(struct sweep *sw);
static void dispatch(struct sweep *sw);

/* ---- new posts --------------------------------------------------------------------------- */

static int collect(struct wall_poll *wp, struct wall *w)
{
        if (!greedy_realloc((void **)&wp->collected, &wp->allocated, wp->n_collected + w->n_posts,
                            sizeof(struct post *)))
                return -ENOMEM;
        for (size_t i = 0; i < w->n_posts; i++) {
                wp->collected[wp->n_collected++] = w->posts[i];
                w->posts[i] = NULL;
        }
        w->n_posts = 0;
        return 0;
}

/* The wall is done with, for this sweep: what it collected and its row go (a sweep of 7000
 * walls would otherwise hold them all to its end). */
static void poll_done(struct wall_poll *wp)
{
        for (size_t j = 0; j < wp->n_collected; j++)
                post_free(wp->collected[j]);
        free(wp->collected);
        wp->collected = NULL;
        wp->n_collected = wp->allocated = 0;
        community_state_done(&wp->state);
        wp->done = true;
}

/* Its row in the store, read at most once a sweep: -ENOENT when there is none. */
static int poll_state(struct govwatch *gw, struct wall_poll *wp)
{
        int r;

        if (wp->have_state)
                return wp->state_found ? 0 : -ENOENT;
        r = gw->store ? store_community_get(gw->store, wp->target->route.owner_id, &wp->state)
                      : -ENOENT;
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == -ENOENT)
                wp->state = (struct community_state){0};
        wp->have_state = true;
        wp->state_found = r == 0;
        return r;
}

static const char *target_name(const struct target *t, const char *fallback)
{
        return t->name ?: t->screen_name ?: fallback;
}

static int category_names(const struct govwatch *gw, uint64_t mask, char ***ret)
{
        size_t n = classifier_n_categories(gw->classifier);
        char **l = calloc(n + 1, sizeof(char *));
        size_t k = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n && i < CATEGORY_MAX; i++) {
                if (!(mask & (UINT64_C(1) << i)))
                        continue;
                if (!(l[k++] = strdup(classifier_category_name(gw->classifier, (unsigned)i)))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

/* One JSON line a notification: where it would go, and how each of its sinks would show it
 * ("title"/"body" of the first sink at the top, every sink's under "rendered"). */
static void print_dry_run(struct govwatch *gw, const struct notification *n, const char **sinks)
{
        json_t *o = json_object(), *cats = json_array(), *sk = json_array(),
               *rendered = json_object();
        char starts[40];

        for (char **c = n->categories; c && *c; c++)
                json_array_append_new(cats, json_string(*c));
        for (const char **s = sinks; s && *s; s++) {
                ssize_t i = config_find_sink(gw->conf, *s);
                _cleanup_free_ char *title = NULL, *body = NULL;
                json_array_append_new(sk, json_string(*s));
                if (i < 0 || sink_render(&gw->conf->sinks[i], n, &title, &body) < 0)
                        continue;
                json_object_set_new(rendered, *s,
                                    json_pack("{s:s, s:s}", "title", title, "body", body));
        }
        format_iso8601(n->starts_at, n->starts_at_utc_offset, starts, sizeof(starts));
        json_object_set_new(o, "owner_id", json_integer(n->owner_id));
        json_object_set_new(o, "id", json_integer(n->post_id));
        json_object_set_new(o, "url", json_string(n->url));
        json_object_set_new(o, "community", json_string(n->community));
        json_object_set_new(o, "topic", json_string(n->topic));
        json_object_set_new(o, "categories", cats);
        json_object_set_new(o, "starts_at", n->starts_at ? json_string(starts) : json_null());
        json_object_set_new(o, "sinks", sk);
        json_t *first = sinks && sinks[0] ? json_object_get(rendered, sinks[0]) : NULL;
        if (first) {
                json_object_set(o, "title", json_object_get(first, "title"));
                json_object_set(o, "body", json_object_get(first, "body"));
        }
        json_object_set_new(o, "rendered", rendered);
        char *line = json_dumps(o, JSON_COMPACT);
        if (line) {
                fprintf(gw->dry_run_out, "%s\n", line);
                fflush(gw->dry_run_out);
        }
        free(line);
        json_decref(o);
}

/* A live post with a planned start gets a second notification, a reminder remind_before the
 * start, queued now in the outbox with that time as its first attempt: durable like any other
 * notification. A postponement ("эфир переносится") moves the pending reminder instead. */
static int schedule_reminder(struct govwatch *gw, const struct notification *n, const char **sinks,
                             const struct classify_result *cr, int64_t now)
{
        int64_t before = (int64_t)(gw->conf->remind_before_usec / USEC_PER_SEC);
        int64_t remind_at = cr->starts_at - before;
        char when[40];
        int r;

        if (before <= 0)
                return 0;
        if (cr->reschedule) {
                r = store_reminders_move(gw->store, n->owner_id, now, cr->starts_at,
                                         cr->starts_at_utc_offset,
                                         remind_at > now ? remind_at : now);
                if (r < 0)
                        return r;
                if (r > 0) {
                        format_iso8601(cr->starts_at, cr->starts_at_utc_offset, when, sizeof(when));
                        if (cr->starts_at)
                                log_info("Broadcast of %s moved to %s: reminder moved.",
                                         n->community, when);
                        else
                                log_info("Broadcast of %s postponed without a date: reminder "
                                         "dropped.",
                                         n->community);
                        return 0;
                }
        }
        if (cr->starts_at == 0 || remind_at <= now)
                return 0; /* no start, or too close: the announcement is the reminder */

        _cleanup_notification_free_ struct notification *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        *m = (struct notification){
                .kind = strdup("reminder"),
                .owner_id = n->owner_id,
                .post_id = n->post_id,
                .community = strdup(n->community),
                .topic = strdup(n->topic),
                .url = strdup(n->url),
                .watch_url = n->watch_url ? strdup(n->watch_url) : NULL,
                .categories = strv_copy(n->categories),
                .date = n->date,
                .date_utc_offset = n->date_utc_offset,
                .starts_at = cr->starts_at,
                .starts_at_utc_offset = cr->starts_at_utc_offset,
                .created = remind_at, /* expiry counts from when it is due, not from now */
        };
        /* "через" takes the accusative: 1 минуту, 2 минуты, 5 минут */
        if (asprintf(&m->text, "Через %" PRId64 " %s начнётся прямой эфир.\n\n%s", before / 60,
                     plural_ru((unsigned long long)(before / 60), "минуту", "минуты", "минут"),
                     n->text) < 0)
                m->text = NULL;
        if (!m->kind || !m->community || !m->topic || !m->url || !m->categories || !m->text ||
            (n->watch_url && !m->watch_url))
                return -ENOMEM;
        return store_outbox_add(gw->store, m, (char *const *)sinks, remind_at);
}

/* One journal entry a new post, with fields to find it by (journalctl GOVWATCH_OWNER_ID=-123);
 * an emergency at warning priority. */
static void log_queued(const struct notification *n, int n_sinks)
{
        _cleanup_strv_free_ char **fields = notification_journal_fields(n);
        _cleanup_free_ char *cats = strv_join(n->categories, ", ");
        log_struct(notification_priority(n, LOG_INFO), (const char *const *)fields,
                   "New post %s of %s [%s] queued for %d %s.", n->url, n->community, strempty(cats),
                   n_sinks, plural((unsigned)n_sinks, "sink", "sinks"));
}

/* Routes p, classified as cr, and queues (or, in dry-run, prints) its notification. Returns 1
 * when it went to a sink, 0 when no watch entry routes it. */
static int notify_post(struct govwatch *gw, const struct target *t, const struct post *p,
                       const struct classify_result *cr, int64_t now)
{
        _cleanup_notification_free_ struct notification *n = NULL;
        _cleanup_free_ const char **sinks = NULL;
        const char *topic;
        char url[96];
        int r, n_sinks;

        n_sinks = route_post(gw->conf, &t->route, cr->categories, &sinks, &topic);
        if (n_sinks <= 0)
                return n_sinks;

        post_url(p->owner_id, p->id, url, sizeof(url));
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->kind = strdup("post");
        n->owner_id = p->owner_id;
        n->post_id = p->id;
        if (t->name || t->screen_name)
                n->community = strdup(t->name ?: t->screen_name);
        else if (asprintf(&n->community, "%s%" PRId64, p->owner_id < 0 ? "club" : "id",
                          p->owner_id < 0 ? -p->owner_id : p->owner_id) < 0)
                n->community = NULL;
        n->topic = strdup(strempty(topic));
        n->url = strdup(url);
        /* a repost: the comment, then the reposted text and where it came from */
        n->text = post_notification_text(p);
        n->date = p->date;
        if (tz_utc_offset(gw->conf->timezone, p->date, &n->date_utc_offset) < 0)
                n->date_utc_offset = 0; /* the zone was checked on load: not reached */
        n->starts_at = cr->starts_at;
        n->starts_at_utc_offset = cr->starts_at_utc_offset;
        n->created = now;
        if (!n->kind || !n->community || !n->topic || !n->url || !n->text)
                return -ENOMEM;
        r = category_names(gw, cr->categories, &n->categories);
        if (r < 0)
                return r;
        if (cr->categories & (UINT64_C(1) << CATEGORY_LIVE)) {
                char watch[96];
                post_watch_url(p, watch, sizeof(watch));
                if (!(n->watch_url = strdup(watch)))
                        return -ENOMEM;
        }

        if (gw->dry_run) {
                print_dry_run(gw, n, sinks);
                return 1;
        }
        r = store_outbox_add(gw->store, n, (char *const *)sinks, now);
        if (r < 0)
                return r;
        log_queued(n, n_sinks);
        if (cr->categories & (UINT64_C(1) << CATEGORY_LIVE)) {
                r = schedule_reminder(gw, n, sinks, cr, now);
                if (r < 0)
                        return r;
        }
        return 1;
}

static int classify_post(const struct post *p, struct classify_result *ret, void *userdata)
{
        const struct govwatch *gw = userdata;
        return classifier_classify(gw->classifier, p, ret);
}

/* Tells the scheduler what a poll of t found (detect.h: dates, history_since). */
static void observe(struct govwatch *gw, const struct wall_poll *wp, const struct detect_result *d)
{
        int64_t owner_id = wp->target->route.owner_id;

        if (!gw->scheduler)
                return;
        uint64_t poll = wp->poll_usec ?: now_realtime_usec();
        int r = scheduler_observe(gw->scheduler, owner_id, poll, d->dates, d->n_dates,
                                  d->history_since);
        if (r < 0) /* a post dated in the future (VK's clock or ours): learn nothing from it */
                log_debug("Scheduler did not take the posts of %" PRId64 ": %s", owner_id,
                          strerror(-r));
}

/* What the store knows of t and of the posts detect wants a row of; the decision. */
static int decide(struct govwatch *gw, struct wall_poll *wp, struct detect_result *ret)
{
        const struct target *t = wp->target;
        struct community_state *st = &wp->state;
        const struct config *conf = gw->conf;
        struct detect_options o = {
                .backfill = t->backfill,
                .resend_on_category_change = conf->resend_on_category_change,
                .skip_ads = conf->skip_ads,
                .skip_donut = conf->skip_donut,
                .preview_all = gw->preview_all,
        };
        _cleanup_free_ bool *wanted = calloc(wp->n_collected + 1, sizeof(bool));
        _cleanup_free_ struct detect_row *rows = calloc(wp->n_collected + 1, sizeof(*rows));
        struct detect_wall w;
        int r;

        if (!wanted || !rows)
                return -ENOMEM;
        r = poll_state(gw, wp);
        if (r < 0 && r != -ENOENT)
                return r;
        w = (struct detect_wall){
                .first_sight = r == -ENOENT || st->first_seen == 0,
                .last_post_id = st->last_post_id,
                .last_post_date = st->last_post_date,
        };
        st->owner_id = t->route.owner_id;
        detect_rows_wanted(&w, &o, wp->collected, wp->n_collected, wanted);
        for (size_t i = 0; i < wp->n_collected; i++) {
                const struct post *p = wp->collected[i];
                if (!wanted[i])
                        continue;
                r = store_post_get(gw->store, p->owner_id, p->id, &rows[i].categories,
                                   &rows[i].edited);
                if (r < 0 && r != -ENOENT)
                        return r;
                rows[i].seen = r == 0;
        }
        return detect_decide(&w, &o, wp->collected, wp->n_collected, rows, classify_post, gw, ret);
}

/* The community's row after a poll that read its wall. */
static int community_polled(struct govwatch *gw, struct wall_poll *wp,
                            const struct detect_result *d, int64_t now)
{
        const struct target *t = wp->target;
        struct community_state *st = &wp->state;

        if (st->first_seen == 0) {
                st->first_seen = now;
                log_info("First sight of %s: %zu current posts taken as seen, nothing sent%s.",
                         target_name(t, "a community"), wp->n_collected,
                         t->backfill ? " (but the backfill)" : "");
        }
        if (st->error_code != 0)
                log_info("%s is readable again.", t->name ?: t->screen_name ?: "Wall");
        free(st->name);
        st->name = t->name ? strdup(t->name) : NULL;
        free(st->screen_name);
        st->screen_name = t->screen_name ? strdup(t->screen_name) : NULL;
        st->last_poll = now;
        st->last_post_id = d->last_post_id;
        st->last_post_date = d->last_post_date;
        st->error_code = 0;
        free(st->error_msg);
        st->error_msg = NULL;
        return store_community_put(gw->store, st);
}

/* Sends and records what detect decided; the caller holds the transaction (none in a dry run). */
struct post_order {
        int64_t date, id;
        size_t index;
};

static int post_order_cmp(const void *a, const void *b)
{
        const struct post_order *x = a, *y = b;
        if (x->date != y->date)
                return x->date < y->date ? -1 : 1;
        return x->id < y->id ? -1 : x->id > y->id;
}

/* The wall's posts oldest first: VK lists them newest first (after the pinned one), and a chat
 * or a feed should read in the order the community wrote them. NULL on OOM. */
static struct post_order *oldest_first(const struct wall_poll *wp, size_t n)
{
        struct post_order *o = calloc(n ? n : 1, sizeof(*o));
        for (size_t i = 0; o && i < n; i++)
                o[i] = (struct post_order){wp->collected[i]->date, wp->collected[i]->id, i};
        if (o)
                qsort(o, n, sizeof(*o), post_order_cmp);
        return o;
}

static int apply(struct sweep *sw, const struct wall_poll *wp, const struct detect_result *d,
                 int64_t now)
{
        struct govwatch *gw = sw->gw;
        _cleanup_free_ struct post_order *order = oldest_first(wp, d->n_posts);
        int r;

        if (!order)
                return -ENOMEM;
        for (size_t k = 0; k < d->n_posts; k++) {
                size_t i = order[k].index;
                const struct post *p = wp->collected[i];
                const struct detect_post *dp = &d->posts[i];

                if (dp->verdict == DETECT_OLD)
                        continue;
                log_debug("Post %" PRId64 "_%" PRId64 ": %s (%s).", p->owner_id, p->id,
                          detect_verdict_to_string(dp->verdict), dp->why);
                if (dp->verdict == DETECT_NEW || dp->verdict == DETECT_RESEND) {
                        r = notify_post(gw, wp->target, p, &dp->cr, now);
                        if (r < 0)
                                return r;
                        if (r > 0 && dp->verdict == DETECT_NEW)
                                sw->new_posts++;
                }
                if (gw->dry_run)
                        continue;
                r = store_post_put(gw->store, p->owner_id, p->id, p->date, p->edited,
                                   dp->record_categories, now);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* All pages of t are in: decide what is new, then record and queue it in one transaction. */
static int process_poll(struct sweep *sw, struct wall_poll *wp)
{
        struct govwatch *gw = sw->gw;
        struct detect_result d = {0};
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        bool in_tx = false;
        int r;

        if (!gw->dry_run) {
                r = store_begin(gw->store);
                if (r < 0)
                        goto out;
                in_tx = true;
        }
        r = decide(gw, wp, &d);
        if (r < 0)
                goto out;
        r = apply(sw, wp, &d, now);
        if (r < 0)
                goto out;
        if (!gw->dry_run) {
                r = community_polled(gw, wp, &d, now);
                if (r >= 0)
                        r = store_commit(gw->store);
                if (r < 0)
                        goto out;
                in_tx = false;
                metrics_posts_recorded(gw, &d);
        }
        observe(gw, wp, &d);
        wp->outcome.result = SWEEP_WALL_READ;
out:
        if (in_tx)
                store_rollback(gw->store);
        if (r < 0)
                log_error_errno(r, "Failed to record posts of %" PRId64 ": %s",
                                wp->target->route.owner_id,
                                r == -ENOMEM ? "out of memory" : store_errmsg(gw->store));
        detect_result_done(&d);
        return r < 0 ? r : 0;
}

/* ---- polling ----------------------------------------------------------------------------- */

static int queue_job(struct sweep *sw, size_t poll, unsigned offset, bool counted)
{
        if (!greedy_realloc((void **)&sw->queue, &sw->queue_allocated, sw->n_queue + 1,
                            sizeof(struct job)))
                return -ENOMEM;
        sw->queue[sw->n_queue++] = (struct job){.poll = poll, .offset = offset, .counted = counted};
        return 0;
}

static struct daily_budget *budget_of(struct govwatch *gw)
{
        return gw->scheduler ? scheduler_budget(gw->scheduler) : NULL;
}

/* Calls the budget lets this job make now: a first page from the planned share, a page back
 * through a burst from the reserve too. */
static bool job_fits(struct govwatch *gw, const struct job *j, unsigned *room_planned,
                     unsigned *room_all)
{
        if (j->counted)
                return true;
        unsigned *room = j->offset == 0 ? room_planned : room_all;
        if (*room == 0)
                return false;
        (*room_planned) -= *room_planned > 0;
        (*room_all) -= *room_all > 0;
        return true;
}

static void community_failed(struct sweep *sw, struct wall_poll *wp, int code, const char *msg)
{
        struct govwatch *gw = sw->gw;
        const struct target *t = wp->target;
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        bool known = poll_state(gw, wp) >= 0;
        const char *name = target_name(t, "community");

        /* warn once per change of error, not every sweep */
        if (!known || wp->state.error_code != code) {
                if (vk_error_class_of(code) == VK_ERROR_CONFIG)
                        log_warning("%s (%" PRId64 "): VK error %d: %s; check this entry of the "
                                    "watch list",
                                    name, t->route.owner_id, code, msg);
                else
                        log_warning("%s (%" PRId64 ") is not readable: VK error %d: %s", name,
                                    t->route.owner_id, code, msg);
        }
        sw->errors++;
        wp->outcome.result = SWEEP_WALL_FAILED;
        wp->outcome.error_code = code;
        free(wp->error_msg);
        wp->outcome.error_msg = wp->error_msg = strdup(msg);
        if (!gw->dry_run) {
                int r = store_community_set_error(gw->store, t->route.owner_id, t->name, code, msg,
                                                  now);
                if (r < 0)
                        log_warning_errno(r, "Failed to record error of %" PRId64 ": %s",
                                          t->route.owner_id, store_errmsg(gw->store));
        }
        poll_done(wp);
}

static struct batch *batch_new(struct sweep *sw)
{
        struct batch *b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->sweep = sw;
        b->next = sw->batches;
        if (sw->batches)
                sw->batches->prev = b;
        sw->batches = b;
        return b;
}

static void batch_drop_walls(struct batch *b)
{
        for (size_t i = 0; i < VK_EXECUTE_MAX_CALLS; i++) {
                b->walls[i] = wall_free(b->walls[i]);
                b->wall_result[i] = 0;
                b->wall_reason[i] = NULL;
        }
}

static void batch_free(struct batch *b)
{
        if (b->prev)
                b->prev->next = b->next;
        else
                b->sweep->batches = b->next;
        if (b->next)
                b->next->prev = b->prev;
        sd_event_source_disable_unref(b->retry_timer);
        sd_event_source_disable_unref(b->processing);
        batch_drop_walls(b);
        for (size_t i = 0; i < VK_EXECUTE_MAX_CALLS; i++)
                free(b->call_msg[i]);
        free(b);
}

static int send_batch(struct batch *b);

/* A resent batch costs its calls again: only if the whole budget still has them. Otherwise its
 * walls wait for the next sweep and the batch is freed (true). */
static bool batch_over_budget(struct batch *b)
{
        struct sweep *sw = b->sweep;
        struct daily_budget *budget = budget_of(sw->gw);

        if (!budget || daily_budget_available(budget, now_realtime_usec(), true) >= b->n_jobs)
                return false;
        log_warning("A batch of %zu %s is not resent: the daily wall.get budget has no room; "
                    "they wait for the next sweep.",
                    b->n_jobs, plural(b->n_jobs, "wall", "walls"));
        for (size_t i = 0; i < b->n_jobs; i++)
                poll_done(&sw->polls[b->jobs[i].poll]);
        sw->over_budget += (unsigned)b->n_jobs;
        batch_free(b);
        return true;
}

static void resend_batch(struct batch *b)
{
        int r = send_batch(b);
        if (r < 0) {
                log_error_errno(r, "Failed to resend a batch: %m");
                b->sweep->result = r;
                batch_free(b);
        }
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct batch *b = userdata;
        struct sweep *sw = b->sweep;

        b->retry_timer = sd_event_source_disable_unref(b->retry_timer);
        sw->retrying--;
        if (!batch_over_budget(b))
                resend_batch(b);
        dispatch(sw);
        return 0;
}

/* An answer too large to read (over VK_ANSWER_MAX_BYTES, or a post over VK_PIECE_MAX) is not
 * retried as it was: it would be as large again. The batch goes out again as two halves, each on
 * its own (one over SWEEP_MAX_IN_FLIGHT for a moment), until the wall that makes it too large is
 * alone: that one waits for the next sweep, and the other walls are read. At most five halvings
 * of 25 walls, each call counted in the budget as a resent batch's are. */
static void split_batch(struct batch *b, const char *why)
{
        struct sweep *sw = b->sweep;

        if (b->n_jobs == 1) {
                struct wall_poll *wp = &sw->polls[b->jobs[0].poll];
                log_warning("The answer for %s (%" PRId64 ") cannot be read (%s); it waits for "
                            "the next sweep.",
                            target_name(wp->target, "a community"), wp->target->route.owner_id,
                            why);
                sw->errors++;
                poll_done(wp);
                batch_free(b);
                return;
        }
        if (batch_over_budget(b))
                return;
        struct batch *half = batch_new(sw);
        if (!half) {
                sw->result = -ENOMEM;
                batch_free(b);
                return;
        }
        size_t keep = b->n_jobs / 2;
        half->n_jobs = b->n_jobs - keep;
        memcpy(half->jobs, b->jobs + keep, half->n_jobs * sizeof(struct job));
        b->n_jobs = keep;
        log_info("The answer for %zu walls is too large to read (%s); asking again in two "
                 "halves.",
                 keep + half->n_jobs, why);
        resend_batch(b);
        resend_batch(half);
}

static void retry_batch(struct batch *b, const char *why)
{
        struct sweep *sw = b->sweep;
        uint64_t delay;

        b->attempts++;
        if (b->attempts >= SWEEP_MAX_ATTEMPTS) {
                log_warning("A batch of %zu %s failed %u times (%s); they wait for the next "
                            "sweep.",
                            b->n_jobs, plural(b->n_jobs, "wall", "walls"), b->attempts, why);
                for (size_t i = 0; i < b->n_jobs; i++)
                        poll_done(&sw->polls[b->jobs[i].poll]);
                sw->errors++;
                batch_free(b);
                return;
        }
        /* 1 s, 2 s, 4 s ... with jitter so that many daemons don't retry in lockstep */
        delay = USEC_PER_SEC << (b->attempts - 1);
        delay += random_u64() % (delay / 2 + 1);
        log_info("VK request failed (%s); retrying in %.1f s.", why, (double)delay / USEC_PER_SEC);
        int r = sd_event_add_time_relative(sw->gw->event, &b->retry_timer, CLOCK_MONOTONIC, delay,
                                           0, on_retry, b);
        if (r < 0) {
                log_error_errno(r, "Failed to arm a retry timer: %m");
                sw->result = r;
                batch_free(b);
                return;
        }
        sw->retrying++;
}

/* One wall's answer, while the batch's answer is parsed: only its posts are kept, so that a
 * batch never holds the JSON tree of 25 walls at once. Whether they count is process_wall's to
 * decide, once the whole answer has been read. */
static void on_wall(size_t i, struct wall *w, int result, const char *reason, void *userdata)
{
        struct batch *b = userdata;

        wall_free(b->walls[i]);
        b->walls[i] = w;
        b->wall_result[i] = result;
        b->wall_reason[i] = reason;
}

/* Call i of b failed inside execute: the wall's own error, the quota, or a pause. */
static void call_failed(struct batch *b, size_t i, struct wall_poll *wp)
{
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;
        enum vk_error_class cls = vk_error_class_of(b->call_error[i]);

        if (cls == VK_ERROR_COMMUNITY || cls == VK_ERROR_CONFIG || cls == VK_ERROR_OTHER)
                community_failed(sw, wp, b->call_error[i], strempty(b->call_msg[i]));
        else if (cls == VK_ERROR_QUOTA) {
                if (!sw->quota_exhausted && gw->scheduler)
                        scheduler_quota_exhausted(gw->scheduler, now_realtime_usec());
                sw->quota_exhausted = true;
                poll_done(wp);
        } else if (queue_job(sw, b->jobs[i].poll, b->jobs[i].offset, false) < 0)
                sw->result = -ENOMEM; /* transient inside execute: that wall alone goes again */
}

/* The wall of call i, or NULL when its answer could not be read (logged, counted). */
static struct wall *take_wall(struct batch *b, size_t i, const struct target *t)
{
        struct wall *w = TAKE_PTR(b->walls[i]);
        const char *reason = b->wall_reason[i];
        int r = b->wall_result[i];

        if (r >= 0 && !w) {
                r = -EBADMSG;
                reason = "no answer for this call";
        }
        if (r < 0) {
                log_warning("Answer for %" PRId64 " is malformed (%s), skipping it.",
                            t->route.owner_id, reason ? reason : strerror(-r));
                b->sweep->errors++;
                wall_free(w);
                return NULL;
        }
        if (w->n_skipped > 0)
                log_debug("%zu malformed %s skipped on %" PRId64 " (first: %s)", w->n_skipped,
                          plural(w->n_skipped, "post", "posts"), t->route.owner_id,
                          strempty(w->skip_reason));
        for (size_t k = 0; k < w->n_posts; k++)
                if (w->posts[k]->text_truncated)
                        log_debug("Post %" PRId64 "_%" PRId64
                                  ": text cut to its first %d bytes (POST_TEXT_MAX)",
                                  w->posts[k]->owner_id, w->posts[k]->id, POST_TEXT_MAX);
        return w;
}

/* w is a burst (detect_burst): queues its next page. false when the wall is done. */
static bool page_back(struct batch *b, size_t i, struct wall_poll *wp, const struct wall *w)
{
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;
        unsigned next_offset = b->jobs[i].offset + (unsigned)w->n_posts;
        int r;

        if (wp->pages >= SWEEP_MAX_PAGES || poll_state(gw, wp) < 0)
                return false;
        struct detect_wall dw = {
                .first_sight = wp->state.first_seen == 0,
                .last_post_id = wp->state.last_post_id,
        };
        if (!detect_burst(&dw, w->posts, w->n_posts, gw->conf->vk.wall_count, next_offset,
                          w->count))
                return false;
        r = gw->scheduler ? scheduler_record_extra(gw->scheduler, now_realtime_usec(), 1) : 0;
        if (r < 0) { /* -EDQUOT: even the reserve is spent; keep what this page has */
                log_warning("%s (%" PRId64 ") has more new posts than one page, but the daily "
                            "budget has no room to page back; older ones of this burst are not "
                            "seen.",
                            target_name(wp->target, "A community"), wp->target->route.owner_id);
                return false;
        }
        if (queue_job(sw, b->jobs[i].poll, next_offset, true) < 0)
                sw->result = -ENOMEM;
        return true;
}

/* The answer for call i of b: an error, a page to keep and maybe page back from, or the wall's
 * last page, when its posts are decided on (process_poll). */
static void process_wall(struct batch *b, size_t i)
{
        struct sweep *sw = b->sweep;
        struct wall_poll *wp = &sw->polls[b->jobs[i].poll];
        _cleanup_(wall_freep) struct wall *w = NULL;
        bool more;
        int r;

        if (b->call_error[i] != 0) {
                call_failed(b, i, wp);
                return;
        }
        w = take_wall(b, i, wp->target);
        if (!w) {
                poll_done(wp);
                return;
        }
        wp->pages++;
        more = page_back(b, i, wp, w);
        r = collect(wp, w);
        if (r < 0) {
                sw->result = r;
                return;
        }
        if (more)
                return;
        r = process_poll(sw, wp);
        if (r < 0)
                sw->result = r;
        poll_done(wp);
}

static int on_processing(sd_event_source *s, void *userdata)
{
        struct batch *b = userdata;
        struct sweep *sw = b->sweep;

        process_wall(b, b->next_wall++);
        if (b->next_wall < b->n_jobs)
                return 0;
        sw->processing--;
        batch_free(b);
        dispatch(sw);
        return 0;
}

static void on_wall_batch(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct batch *b = userdata;
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;
        bool retry = false, split = false;
        char why[256] = "";

        sw->in_flight--;
        if (!res) {
                snprintf(why, sizeof(why), "%s", msg);
                split = error_code == VK_ERROR_CODE_TOO_LARGE;
                retry = !split;
                goto done;
        }
        if (res->error_code != 0) {
                metrics_vk_error(gw, res->error_code);
                switch (vk_error_class_of(res->error_code)) {
                case VK_ERROR_TOKEN:
                        govwatch_token_refused(gw, res->error_code, res->error_msg);
                        break;
                case VK_ERROR_QUOTA:
                        log_warning("VK's daily wall.get limit is spent (error 29); the rest "
                                    "waits.");
                        sw->quota_exhausted = true;
                        if (gw->scheduler)
                                scheduler_quota_exhausted(gw->scheduler, now_realtime_usec());
                        break;
                case VK_ERROR_RATE:
                        /* too fast for VK after all (another client on the token?): every
                         * request waits a full window from now, and this batch backs off */
                        if (gw->source)
                                source_slow_down(gw->source);
                        snprintf(why, sizeof(why), "VK error %d: %s", res->error_code,
                                 res->error_msg);
                        retry = true;
                        break;
                default:
                        snprintf(why, sizeof(why), "VK error %d: %s", res->error_code,
                                 res->error_msg);
                        retry = true;
                }
                goto done;
        }

        /* the walls one an event-loop iteration (on_processing): 25 walls of 100 new posts would
         * otherwise be classified and stored in one go. What each call answered is kept, as the
         * answer itself goes when this returns. */
        for (size_t i = 0; i < b->n_jobs; i++) {
                b->call_error[i] = res->calls[i].error_code;
                metrics_vk_error(gw, res->calls[i].error_code);
                if (res->calls[i].error_msg && !(b->call_msg[i] = strdup(res->calls[i].error_msg)))
                        sw->result = -ENOMEM;
        }
        int r = sd_event_add_defer(gw->event, &b->processing, on_processing, b);
        if (r >= 0)
                r = sd_event_source_set_enabled(b->processing, SD_EVENT_ON);
        if (r < 0) {
                log_error_errno(r, "Failed to schedule the walls of a batch: %m");
                sw->result = r;
                goto done;
        }
        (void)sd_event_source_set_description(b->processing, "sweep-walls");
        sw->processing++;
        return;

done:
        batch_drop_walls(b);
        if (split)
                split_batch(b, why);
        else if (retry)
                retry_batch(b, why);
        else
                batch_free(b);
        dispatch(sw);
}

static int send_batch(struct batch *b)
{
        struct vk_wall_request reqs[VK_EXECUTE_MAX_CALLS];
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;

        for (size_t i = 0; i < b->n_jobs; i++)
                reqs[i] = (struct vk_wall_request){
                        .owner_id = sw->polls[b->jobs[i].poll].target->route.owner_id,
                        .count = gw->conf->vk.wall_count,
                        .offset = b->jobs[i].offset,
                };
        batch_drop_walls(b);
        int r = source_wall_get(gw->source, reqs, b->n_jobs, on_wall, on_wall_batch, b);
        if (r < 0)
                return r;
        sw->in_flight++;

        /* every inner call counts, whatever VK answers; a resent batch counts again */
        uint64_t now = now_realtime_usec();
        for (size_t i = 0; i < b->n_jobs && gw->scheduler; i++) {
                struct job *j = &b->jobs[i];
                struct wall_poll *wp = &sw->polls[j->poll];
                if (j->offset == 0) {
                        (void)scheduler_record_poll(gw->scheduler, wp->target->route.owner_id, now);
                        sw->polled += wp->poll_usec == 0;
                        wp->poll_usec = now;
                } else if (j->counted)
                        j->counted = false; /* record_extra counted this first send */
                else
                        daily_budget_force(scheduler_budget(gw->scheduler), now, 1);
        }
        return 0;
}

static bool is_target(const struct govwatch *gw, int64_t owner_id)
{
        for (size_t i = 0; i < gw->n_targets; i++)
                if (gw->targets[i].route.owner_id == owner_id)
                        return true;
        return false;
}

static bool owner_ids_contain(const int64_t *ids, size_t n, int64_t owner_id)
{
        for (size_t i = 0; i < n; i++)
                if (ids[i] == owner_id)
                        return true;
        return false;
}

static bool has_interrupted_prefix(const char *text)
{
        return strncmp(text, INTERRUPTED_NONE, strlen(INTERRUPTED_NONE)) == 0;
}

/* The walls a stop interrupted (sweep_abort) go first into this sweep's list, still watched
 * ones once each; the note is cleared. `once` polls every wall anyway. */
static int take_interrupted(struct sweep *sw)
{
        struct govwatch *gw = sw->gw;
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0;
        int r;

        if (!gw->store || gw->dry_run)
                return 0;
        r = store_kv_get_text(gw->store, INTERRUPTED_KEY, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_warning("Failed to read which polls the last stop interrupted: %s, ignoring",
                            store_errmsg(gw->store));
                return 0;
        }
        if (streq(text, INTERRUPTED_NONE))
                return 0;
        if (!sw->poll_all) {
                ids = calloc(strlen(text) / 2 + sw->n_owner_ids + 1, sizeof(int64_t));
                if (!ids)
                        return -ENOMEM;
                const char *p =
                        has_interrupted_prefix(text) ? text + strlen(INTERRUPTED_NONE) : NULL;
                while (p && *p == ' ') {
                        char *end;
                        errno = 0;
                        long long id = strtoll(p + 1, &end, 10);
                        if (end == p + 1 || errno != 0) {
                                log_debug("Malformed note of interrupted polls: '%s'", text);
                                break;
                        }
                        p = end;
                        if (is_target(gw, id) && !owner_ids_contain(ids, n, id))
                                ids[n++] = id;
                }
                if (n > 0)
                        log_info("Polling %zu %s again whose poll the last stop interrupted.", n,
                                 plural(n, "community", "communities"));
                for (size_t i = 0; i < sw->n_owner_ids; i++)
                        if (!owner_ids_contain(ids, n, sw->owner_ids[i]))
                                ids[n++] = sw->owner_ids[i];
                free(sw->owner_ids);
                sw->owner_ids = TAKE_PTR(ids);
                sw->n_owner_ids = n;
        }
        r = store_kv_put_text(gw->store, INTERRUPTED_KEY, INTERRUPTED_NONE);
        if (r < 0)
                log_warning("Failed to clear the note of interrupted polls: %s, ignoring",
                            store_errmsg(gw->store));
        return 0;
}

static int poll_add(struct sweep *sw, const struct target *t)
{
        for (size_t i = 0; !sw->poll_all && i < sw->n_polls; i++)
                if (sw->polls[i].target == t)
                        return 0;
        sw->polls[sw->n_polls++] = (struct wall_poll){
                .target = t,
                .outcome = {.owner_id = t->route.owner_id, .name = target_name(t, NULL)},
        };
        return queue_job(sw, sw->n_polls - 1, 0, false);
}

/* The walls this sweep polls, each once, with the first page of each queued. */
static int queue_polls(struct sweep *sw)
{
        struct govwatch *gw = sw->gw;
        int r;

        if (sw->flags & SWEEP_TAKE_INTERRUPTED) {
                r = take_interrupted(sw);
                if (r < 0)
                        return r;
        }
        sw->polls =
                calloc((sw->poll_all ? gw->n_targets : sw->n_owner_ids) + 1, sizeof(*sw->polls));
        if (!sw->polls)
                return -ENOMEM;
        for (size_t i = 0; sw->poll_all && i < gw->n_targets; i++)
                if (poll_add(sw, &gw->targets[i]) < 0)
                        return -ENOMEM;
        for (size_t k = 0; !sw->poll_all && k < sw->n_owner_ids; k++)
                for (size_t i = 0; i < gw->n_targets; i++)
                        if (gw->targets[i].route.owner_id == sw->owner_ids[k]) {
                                if (poll_add(sw, &gw->targets[i]) < 0)
                                        return -ENOMEM;
                                break;
                        }
        return 0;
}

/* The budget has no room for the job at the head of the queue: drop every job it has no room
 * for (their walls wait for a later sweep), keep the paging calls already counted. */
static void drop_over_budget(struct sweep *sw, unsigned *room_planned, unsigned *room_all)
{
        size_t kept = sw->queue_start;
        for (size_t i = sw->queue_start; i < sw->n_queue; i++) {
                struct job j = sw->queue[i];
                if (job_fits(sw->gw, &j, room_planned, room_all)) {
                        /* give the room back: dispatch takes it when it sends the job */
                        if (!j.counted) {
                                (*room_planned)++;
                                (*room_all)++;
                        }
                        sw->queue[kept++] = j;
                        continue;
                }
                poll_done(&sw->polls[j.poll]);
                sw->over_budget++;
        }
        sw->n_queue = kept;
}

static void dispatch(struct sweep *sw)
{
        struct govwatch *gw = sw->gw;
        struct daily_budget *budget;
        unsigned room_planned = UINT_MAX, room_all = UINT_MAX;

        if (sw->result < 0 || gw->fatal < 0 || gw->token_invalid) {
                /* stop sending; finish once what is in flight has come back */
                sw->n_queue = sw->queue_start = 0;
        }
        if (!sw->polling && sw->result >= 0 && !gw->token_invalid) {
                sw->polling = true;
                int r = queue_polls(sw);
                if (r < 0)
                        sw->result = r;
        }
        if (sw->quota_exhausted)
                sw->n_queue = sw->queue_start = 0;

        budget = budget_of(gw);
        if (budget) {
                uint64_t now = now_realtime_usec();
                room_planned = daily_budget_available(budget, now, false);
                room_all = daily_budget_available(budget, now, true);
        }
        while (sw->polling && sw->queue_start < sw->n_queue &&
               sw->in_flight < SWEEP_MAX_IN_FLIGHT) {
                struct batch *b = batch_new(sw);
                if (!b) {
                        sw->result = -ENOMEM;
                        break;
                }
                while (b->n_jobs < VK_EXECUTE_MAX_CALLS && sw->queue_start < sw->n_queue &&
                       job_fits(gw, &sw->queue[sw->queue_start], &room_planned, &room_all))
                        b->jobs[b->n_jobs++] = sw->queue[sw->queue_start++];
                if (b->n_jobs == 0) {
                        batch_free(b);
                        drop_over_budget(sw, &room_planned, &room_all);
                        continue;
                }
                int r = send_batch(b);
                if (r < 0) {
                        sw->result = r;
                        batch_free(b);
                        break;
                }
        }
        if (sw->queue_start == sw->n_queue)
                sw->queue_start = sw->n_queue = 0;

        if (sw->in_flight == 0 && sw->retrying == 0 && sw->processing == 0 && sw->n_queue == 0 &&
            (sw->polling || sw->result < 0 || gw->token_invalid))
                sweep_finish(sw);
}

static void polls_free(struct wall_poll *polls, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                poll_done(&polls[i]);
                free(polls[i].error_msg);
        }
        free(polls);
}

static int on_defer_finish(sd_event_source *s, void *userdata)
{
        struct sweep *sw = userdata;
        struct govwatch *gw = sw->gw;
        sweep_done_fn done = sw->done;
        void *ud = sw->userdata;
        struct wall_poll *polls = TAKE_PTR(sw->polls);
        size_t n_polls = sw->n_polls;
        _cleanup_free_ struct sweep_wall *walls = calloc(n_polls + 1, sizeof(*walls));
        struct sweep_outcome o = {
                .result = sw->result,
                .polled = sw->polled,
                .new_posts = sw->new_posts,
                .errors = sw->errors,
                .walls = walls,
                .n_walls = walls ? n_polls : 0,
        };

        if (o.result >= 0 && gw->token_invalid)
                o.result = -EACCES;
        for (size_t i = 0; walls && i < n_polls; i++)
                walls[i] = polls[i].outcome;
        if (sw->over_budget > 0 && gw->scheduler) {
                struct scheduler_status ss;
                scheduler_status(gw->scheduler, now_realtime_usec(), &ss);
                log_warning("The daily wall.get budget has no room: %u %s not polled this time "
                            "(%u of %u calls spent in the last 24 h); polled when calls free up.",
                            sw->over_budget, plural(sw->over_budget, "community", "communities"),
                            ss.used, ss.limit);
        }
        gw->last_sweep_end = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        gw->last_sweep_polled = sw->polled;
        gw->last_sweep_new = sw->new_posts;
        gw->last_sweep_errors = sw->errors;
        sd_event_source_disable_unref(sw->defer);
        free(sw->owner_ids);
        free(sw->queue);
        free(sw);
        gw->sweep = NULL;
#ifdef __GLIBC__
        /* the answers the sweep read are free now, in holes glibc keeps: give them back, so that
         * the daemon idles small and what comes next (saving the scheduler's megabytes of state)
         * is not added on top of them */
        malloc_trim(0);
#endif
        if (done)
                done(gw, &o, ud);
        polls_free(polls, n_polls);
        return 0;
}

/* Finishing from a defer source keeps callbacks from running inside the caller's stack. */
static void sweep_finish(struct sweep *sw)
{
        if (sw->defer)
                return;
        if (sd_event_add_defer(sw->gw->event, &sw->defer, on_defer_finish, sw) < 0)
                on_defer_finish(NULL, sw);
}

int sweep_start(struct govwatch *gw, const int64_t *owner_ids, size_t n_ids, unsigned flags,
                sweep_done_fn done, void *userdata)
{
        struct sweep *sw;

        if (gw->sweep)
                return -EBUSY;
        sw = calloc(1, sizeof(*sw));
        if (!sw)
                return -ENOMEM;
        sw->gw = gw;
        sw->done = done;
        sw->userdata = userdata;
        sw->flags = flags;
        sw->poll_all = !owner_ids;
        if (owner_ids && n_ids > 0) {
                sw->owner_ids = malloc(n_ids * sizeof(int64_t));
                if (!sw->owner_ids) {
                        free(sw);
                        return -ENOMEM;
                }
                memcpy(sw->owner_ids, owner_ids, n_ids * sizeof(int64_t));
                sw->n_owner_ids = n_ids;
        }
        gw->sweep = sw;
        dispatch(sw);
        return 0;
}

/* Notes the walls whose poll went out in the sweep being abandoned and did not finish, added to
 * what the note holds already (a start that was stopped before it took it). */
static void save_interrupted(struct govwatch *gw)
{
        _cleanup_free_ char *old = NULL;
        struct strbuf sb = {0};
        size_t n = 0;
        int r;

        if (!gw->store || gw->dry_run)
                return;
        r = store_kv_get_text(gw->store, INTERRUPTED_KEY, &old);
        r = strbuf_puts(&sb, r >= 0 && has_interrupted_prefix(old) ? old : INTERRUPTED_NONE);
        for (size_t i = 0; r >= 0 && i < gw->sweep->n_polls; i++) {
                const struct wall_poll *wp = &gw->sweep->polls[i];
                if (wp->poll_usec == 0 || wp->done)
                        continue;
                r = strbuf_appendf(&sb, " %" PRId64, wp->target->route.owner_id);
                n++;
        }
        if (r >= 0 && n > 0)
                r = store_kv_put_text(gw->store, INTERRUPTED_KEY, sb.buf);
        if (r < 0)
                log_warning("Failed to note %zu interrupted polls: %s; they are polled when due.",
                            n, r == -ENOMEM ? "out of memory" : store_errmsg(gw->store));
        else if (n > 0)
                log_debug("%zu polls interrupted, polled again at the next start.", n);
        strbuf_done(&sb);
}

/* Drops a sweep in progress without calling its callback: for shutdown. The source must be
 * freed first so that no request still points at a batch. Walls half collected are forgotten;
 * nothing was recorded for them, and the next start polls them again (save_interrupted). */
void sweep_abort(struct govwatch *gw)
{
        struct sweep *sw = gw->sweep;
        if (!sw)
                return;
        if (sw->polling)
                save_interrupted(gw);
        while (sw->batches)
                batch_free(sw->batches);
        sd_event_source_disable_unref(sw->defer);
        polls_free(sw->polls, sw->n_polls);
        free(sw->owner_ids);
        free(sw->queue);
        free(sw);
        gw->sweep = NULL;
}

bool sweep_running(const struct govwatch *gw)
{
        return gw->sweep != NULL;
}
