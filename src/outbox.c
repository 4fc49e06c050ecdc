/* outbox.c — delivery of queued notifications: from the store's outbox to the sinks.
 *
 * A row leaves the outbox only when its sink accepted it; "held" (the sink's own hold, a digest)
 * puts it back until the time the sink named, as no failure; "try later" is a failure, whatever
 * the sink's settings: it counts an attempt and towards the sink's alert, and reschedules the row
 * with exponential backoff and jitter; "rejected" or a failure of a notification older than
 * `expire` moves it to the dead letters that `status` shows. What an answer does is decided by
 * outbox_decide(), from data alone. Delivered rows stay as history for `history`, then are
 * pruned. Owns the sends in flight: at most `concurrency` per sink, refilled as each comes back,
 * each row tried at most once a pass. The rows themselves live in the store; a crash between a
 * sink accepting and the store recording it sends that one again (at least once, never lost).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "alerts.h"
#include "govwatch.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "tz_cache.h"

#define BACKOFF_MIN_USEC (30 * USEC_PER_SEC)
#define BACKOFF_MAX_USEC USEC_PER_HOUR
#define ORPHAN_RETRY_SEC 3600 /* rows of a sink the config no longer has: look again hourly */

struct delivery {
        struct outbox *outbox;
        struct outbox_entry entry;
};

/* A row tried in this pass: not again before the next one, whatever its next_attempt says. */
struct tried {
        int64_t notification_id;
        char *sink;
        bool in_flight;
};

struct outbox {
        struct govwatch *gw;
        unsigned in_flight;
        bool passing;  /* a pass is in progress: refill as sends come back */
        bool draining; /* no new sends (reload, stop) */
        bool shutdown;
        outbox_done_fn done;
        void *userdata;
        sd_event_source *defer;  /* the pass' done callback */
        sd_event_source *refill; /* a send came back: look for more */
        struct tried *tried;
        size_t n_tried, tried_allocated;
        double backoff_scale;
        int64_t last_prune;
};

double outbox_backoff_scale(void)
{
        const char *e = getenv("GOVWATCH_TEST_BACKOFF_SCALE");
        char *end;
        double v;

        if (!e)
                return 1.0;
        v = strtod(e, &end);
        if (end == e || *end || !(v > 0.0) || v > 1.0)
                return 1.0;
        return v;
}

uint64_t outbox_backoff_usec(unsigned attempts, uint64_t random)
{
        uint64_t d = BACKOFF_MIN_USEC;
        for (unsigned i = 0; i < attempts && d < BACKOFF_MAX_USEC; i++)
                d *= 2;
        if (d > BACKOFF_MAX_USEC)
                d = BACKOFF_MAX_USEC;
        /* ±20 % so that sinks coming back are not hit by every row in the same second */
        uint64_t span = d / 5;
        return d - span + random % (2 * span + 1);
}

int outbox_new(struct govwatch *gw, struct outbox **ret)
{
        struct outbox *o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->gw = gw;
        o->backoff_scale = outbox_backoff_scale();
        if (o->backoff_scale < 1.0)
                log_debug("Test mode: retry delays scaled by %g.", o->backoff_scale);
        *ret = o;
        return 0;
}

static void tried_clear(struct outbox *o)
{
        for (size_t i = 0; i < o->n_tried; i++)
                free(o->tried[i].sink);
        o->n_tried = 0;
}

struct outbox *outbox_free(struct outbox *o)
{
        if (!o)
                return NULL;
        sd_event_source_disable_unref(o->defer);
        sd_event_source_disable_unref(o->refill);
        tried_clear(o);
        free(o->tried);
        free(o);
        return NULL;
}

unsigned outbox_in_flight(const struct govwatch *gw)
{
        return gw->outbox ? gw->outbox->in_flight : 0;
}

static struct tried *tried_find(struct outbox *o, int64_t id, const char *sink)
{
        for (size_t i = 0; i < o->n_tried; i++)
                if (o->tried[i].notification_id == id && streq(o->tried[i].sink, sink))
                        return &o->tried[i];
        return NULL;
}

static unsigned sink_in_flight(struct outbox *o, const char *sink, unsigned *ret_tried)
{
        unsigned n = 0, t = 0;
        for (size_t i = 0; i < o->n_tried; i++)
                if (streq(o->tried[i].sink, sink)) {
                        t++;
                        n += o->tried[i].in_flight;
                }
        *ret_tried = t;
        return n;
}

static int on_all_done(sd_event_source *s, void *userdata)
{
        struct outbox *o = userdata;
        outbox_done_fn done = o->done;
        void *ud = o->userdata;

        o->defer = sd_event_source_disable_unref(o->defer);
        /* more sends may have started between scheduling this and now (a sweep asked for a
         * pass): then the pass goes on, and so does the record of what it has in flight, or a
         * new pass would send those rows a second time */
        if (o->in_flight > 0 || o->refill)
                return 0;
        o->done = NULL;
        o->passing = false;
        tried_clear(o);
        if (done)
                done(o->gw, ud);
        return 0;
}

/* The pass is over when nothing is in flight and no refill is due. */
static void maybe_done(struct outbox *o)
{
        if (!o->passing || o->in_flight > 0 || o->refill || o->defer)
                return;
        if (sd_event_add_defer(o->gw->event, &o->defer, on_all_done, o) < 0)
                on_all_done(NULL, o);
}

static int fill(struct outbox *o);

static int on_refill(sd_event_source *s, void *userdata)
{
        struct outbox *o = userdata;
        o->refill = sd_event_source_disable_unref(o->refill);
        (void)fill(o);
        maybe_done(o);
        return 0;
}

static void schedule_refill(struct outbox *o)
{
        if (!o->passing || o->draining || o->refill)
                return;
        /* from a defer source: a sink may answer inside sink_send(), and fill() must not recurse */
        if (sd_event_add_defer(o->gw->event, &o->refill, on_refill, o) < 0)
                o->refill = NULL;
}

/* now plus delay, in the store's whole seconds: rounded up, so a retry never comes early */
static int64_t after(int64_t now, uint64_t delay_usec)
{
        return now + (int64_t)((delay_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

struct outbox_decision outbox_decide(enum sink_result result, uint64_t retry_after_usec,
                                     unsigned attempts, int64_t created,
                                     const struct outbox_clock *clock)
{
        int64_t now = clock->now;

        switch (result) {
        case SINK_ACCEPTED:
                return (struct outbox_decision){.action = OUTBOX_DELIVERED,
                                                .alert = !clock->shutdown};
        case SINK_HELD:
                /* the sink's own hold: no attempt counted, no jitter that could split one digest
                 * into two, no scaling, no alert, no expiry (the sink bounds its hold); a sink
                 * that names no time gets the shortest backoff rather than a busy loop */
                return (struct outbox_decision){
                        .action = OUTBOX_DEFER,
                        .next_attempt = after(now, retry_after_usec > 0 ? retry_after_usec
                                                                        : BACKOFF_MIN_USEC),
                };
        case SINK_TRY_LATER:
                if (clock->shutdown)
                        /* not the sink's fault: we stopped it; due again at the next start */
                        return (struct outbox_decision){.action = OUTBOX_DEFER,
                                                        .next_attempt = now};
                if (clock->expire_usec > 0 &&
                    now - created >= (int64_t)(clock->expire_usec / USEC_PER_SEC))
                        return (struct outbox_decision){.action = OUTBOX_DEAD, .alert = true};
                uint64_t delay = outbox_backoff_usec(attempts, clock->random);
                if (retry_after_usec > delay)
                        delay = retry_after_usec;
                delay = (uint64_t)((double)delay * clock->backoff_scale);
                return (struct outbox_decision){
                        .action = OUTBOX_RETRY,
                        .next_attempt = after(now, delay),
                        .alert = true,
                };
        case SINK_REJECTED:
                return (struct outbox_decision){.action = OUTBOX_DEAD, .alert = !clock->shutdown};
        }
        /* an answer this outbox does not know: a failure, never a silent hold */
        return outbox_decide(SINK_TRY_LATER, retry_after_usec, attempts, created, clock);
}

static void on_sent(struct sink *s, enum sink_result result, uint64_t retry_after_usec,
                    const char *detail, void *userdata)
{
        struct delivery *d = userdata;
        struct outbox *o = d->outbox;
        struct govwatch *gw = o->gw;
        struct outbox_entry *e = &d->entry;
        struct outbox_clock clock = {
                .now = (int64_t)(now_realtime_usec() / USEC_PER_SEC),
                .expire_usec = gw->conf->outbox_expire_usec,
                .backoff_scale = o->backoff_scale,
                .random = random_u64(),
                .shutdown = o->shutdown,
        };
        struct outbox_decision dec = outbox_decide(result, retry_after_usec, e->attempts,
                                                   e->notification->created, &clock);
        int64_t now = clock.now;
        int r = 0;

        switch (dec.action) {
        case OUTBOX_DELIVERED:
                r = store_outbox_delivered(gw->store, e->notification->id, e->sink, now);
                log_debug("Delivered %s to %s.", e->notification->url, e->sink);
                break;
        case OUTBOX_DEFER:
                if (result == SINK_HELD)
                        log_info("Sink %s holds %s for %" PRId64 " s: %s", e->sink,
                                 e->notification->url, dec.next_attempt - now, strempty(detail));
                r = store_outbox_defer(gw->store, e->notification->id, e->sink, dec.next_attempt,
                                       result != SINK_HELD ? "interrupted by shutdown"
                                       : detail            ? detail
                                                           : "held by the sink");
                break;
        case OUTBOX_RETRY:
                log_info("Sink %s will retry %s in %" PRId64 " s: %s", e->sink,
                         e->notification->url, dec.next_attempt - now, strempty(detail));
                r = store_outbox_retry(gw->store, e->notification->id, e->sink, dec.next_attempt,
                                       detail);
                break;
        case OUTBOX_DEAD:
                if (result == SINK_REJECTED)
                        log_warning("Sink %s rejected %s for good (%s): moved to dead letters.",
                                    e->sink, e->notification->url, strempty(detail));
                else
                        log_warning("Giving up on %s for sink %s after %u %s (%s): moved to "
                                    "dead letters.",
                                    e->notification->url, e->sink, e->attempts + 1,
                                    plural(e->attempts + 1, "attempt", "attempts"),
                                    strempty(detail));
                r = store_outbox_dead(gw->store, e->notification->id, e->sink, detail);
                break;
        }
        if (r < 0)
                log_error_errno(r, "Failed to record delivery of %s to %s: %s",
                                e->notification->url, e->sink, store_errmsg(gw->store));
        if (dec.alert)
                (void)alerts_sink_result(gw, e->sink, dec.action == OUTBOX_DELIVERED, detail);
        metrics_notification(gw, e->sink, e->notification, result);

        struct tried *t = tried_find(o, e->notification->id, e->sink);
        if (t)
                t->in_flight = false;
        outbox_entry_done(e);
        free(d);
        o->in_flight--;
        schedule_refill(o);
        maybe_done(o);
}

/* Quiet hours of the sink at now, in the configured time zone: how many seconds are left,
 * or 0 when this notification may go now. */
static int64_t quiet_wait(struct govwatch *gw, const struct sink *s, const struct notification *n,
                          int64_t now)
{
        const struct sink_conf *sc = s->conf;
        int32_t offset = 0;

        if (gw->ignore_quiet_hours || sc->quiet_start_min < 0 ||
            quiet_hours_bypass(sc, n->categories))
                return 0;
        if (tz_utc_offset(gw->conf->timezone, now, &offset) < 0)
                offset = 0;
        int64_t local = now + offset;
        int64_t second_of_day = ((local % 86400) + 86400) % 86400;
        return quiet_hours_remaining(sc->quiet_start_min, sc->quiet_end_min, second_of_day);
}

static int tried_add(struct outbox *o, int64_t id, const char *sink, bool in_flight)
{
        char *copy = strdup(sink);
        if (!copy || !greedy_realloc((void **)&o->tried, &o->tried_allocated, o->n_tried + 1,
                                     sizeof(*o->tried))) {
                free(copy);
                return -ENOMEM;
        }
        o->tried[o->n_tried++] =
                (struct tried){.notification_id = id, .sink = copy, .in_flight = in_flight};
        return 0;
}

/* Starts sends for one sink up to its concurrency limit. */
static int fill_sink(struct outbox *o, struct sink *s, int64_t now)
{
        struct govwatch *gw = o->gw;
        struct outbox_entry *entries = NULL;
        unsigned limit = sink_concurrency(s->conf, s->ops);
        unsigned n_tried, busy = sink_in_flight(o, s->name, &n_tried);
        size_t n = 0;
        int r;

        if (busy >= limit)
                return 0;
        /* rows tried in this pass may still be due (a retry rounded to now): read past them */
        r = store_outbox_due_for_sink(gw->store, s->name, now, (size_t)(limit - busy) + n_tried,
                                      &entries, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read the outbox of %s: %s", s->name,
                                       store_errmsg(gw->store));
        for (size_t i = 0; i < n; i++) {
                struct outbox_entry *e = &entries[i];
                if (busy >= limit || tried_find(o, e->notification->id, e->sink)) {
                        outbox_entry_done(e);
                        continue;
                }
                int64_t wait = quiet_wait(gw, s, e->notification, now);
                if (wait > 0 && s->conf->quiet_mode == QUIET_SILENT && s->ops->can_silence) {
                        e->notification->silent = true; /* now, without a sound */
                        wait = 0;
                }
                if (wait > 0) {
                        /* deferred, never dropped: it goes when the window ends */
                        r = store_outbox_defer(gw->store, e->notification->id, e->sink, now + wait,
                                               "quiet hours");
                        if (r < 0)
                                log_warning_errno(r, "Failed to defer %s: %s", e->notification->url,
                                                  store_errmsg(gw->store));
                        (void)tried_add(o, e->notification->id, e->sink, false);
                        outbox_entry_done(e);
                        continue;
                }
                struct delivery *d = calloc(1, sizeof(*d));
                if (!d || tried_add(o, e->notification->id, e->sink, true) < 0) {
                        free(d);
                        outbox_entry_done(e);
                        continue;
                }
                d->outbox = o;
                d->entry = *e;
                *e = (struct outbox_entry){0};
                o->in_flight++;
                busy++;
                log_debug("Sending %s to %s (attempt %u).", d->entry.notification->url, s->name,
                          d->entry.attempts + 1);
                r = sink_send(s, d->entry.notification, on_sent, d);
                if (r < 0) {
                        log_warning_errno(r, "Sink %s failed to start sending: %m", s->name);
                        on_sent(s, SINK_TRY_LATER, 0, "could not start", d);
                }
        }
        free(entries);
        return 0;
}

static ssize_t sink_index(struct govwatch *gw, const char *name)
{
        for (size_t i = 0; i < gw->conf->n_sinks; i++)
                if (streq(gw->conf->sinks[i].name, name))
                        return (ssize_t)i;
        return -1;
}

/* Rows queued for a sink that is not in the config (renamed, removed) or cannot be used by this
 * build: kept, loudly, and looked at again later. */
static void park_orphans(struct outbox *o, int64_t now)
{
        struct govwatch *gw = o->gw;
        _cleanup_strv_free_ char **due = NULL;

        if (store_outbox_due_sinks(gw->store, now, &due) < 0)
                return;
        for (char **name = due; *name; name++) {
                ssize_t i = sink_index(gw, *name);
                if (i >= 0 && gw->sinks && gw->sinks[i])
                        continue;
                const char *why = i < 0 ? "sink not configured" : "sink type not available";
                int n = store_outbox_defer_sink(gw->store, *name, now, now + ORPHAN_RETRY_SEC, why);
                if (n > 0)
                        log_warning("%d %s queued for sink '%s' (%s); keeping %s.", n,
                                    plural((unsigned)n, "notification is", "notifications are"),
                                    *name, why, plural((unsigned)n, "it", "them"));
        }
}

static int fill(struct outbox *o)
{
        struct govwatch *gw = o->gw;
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);

        if (o->draining || gw->dry_run || !gw->store || !gw->sinks)
                return 0;
        for (size_t i = 0; i < gw->conf->n_sinks; i++)
                if (gw->sinks[i])
                        (void)fill_sink(o, gw->sinks[i], now);
        park_orphans(o, now);
        return 0;
}

int outbox_deliver(struct govwatch *gw, outbox_done_fn done, void *userdata)
{
        struct outbox *o = gw->outbox;

        o->done = done;
        o->userdata = userdata;
        if (!o->passing) {
                o->passing = true;
                tried_clear(o);
        }
        (void)fill(o);
        maybe_done(o);
        return 0;
}

void outbox_set_draining(struct govwatch *gw, bool draining)
{
        struct outbox *o = gw->outbox;
        if (!o)
                return;
        o->draining = draining;
        if (draining)
                o->refill = sd_event_source_disable_unref(o->refill);
        maybe_done(o);
}

void outbox_shutdown(struct govwatch *gw)
{
        if (gw->outbox) {
                outbox_set_draining(gw, true);
                gw->outbox->shutdown = true;
        }
}

int outbox_prune(struct govwatch *gw)
{
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        int64_t keep = (int64_t)(gw->conf->history_keep_usec / USEC_PER_SEC);
        int r;

        if (!gw->store || gw->dry_run || keep <= 0)
                return 0;
        r = store_outbox_prune(gw->store, now - keep);
        if (r < 0)
                return log_warning_errno(r, "Failed to prune delivery history, ignoring: %s",
                                         store_errmsg(gw->store));
        if (r > 0)
                log_info("Pruned %d delivered notifications older than %" PRId64 " s.", r, keep);
        if (gw->outbox)
                gw->outbox->last_prune = now;
        return r;
}

int outbox_next_due_usec(struct govwatch *gw, uint64_t *ret)
{
        int64_t next, now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        int r;

        if (!gw->store)
                return -ENOENT;
        r = store_outbox_next_due(gw->store, &next);
        if (r < 0)
                return r;
        *ret = next <= now ? 0 : (uint64_t)(next - now) * USEC_PER_SEC;
        return 0;
}
