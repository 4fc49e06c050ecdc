/* outbox.c — delivery of queued notifications: from the store's outbox to the sinks.
 *
 * A row leaves the outbox only when its sink accepted it; "try later" reschedules it with
 * exponential backoff and jitter, "rejected" moves it to the dead letters that `status` shows.
 * Owns the bookkeeping of sends in flight; the rows themselves live in the store.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>

#include "govwatch.h"
#include "log.h"

#define OUTBOX_BATCH     64
#define BACKOFF_MIN_USEC (30 * USEC_PER_SEC)
#define BACKOFF_MAX_USEC USEC_PER_HOUR

struct delivery {
        struct outbox *outbox;
        struct outbox_entry entry;
        bool finished;
};

struct outbox {
        struct govwatch *gw;
        unsigned in_flight;
        outbox_done_fn done;
        void *userdata;
        sd_event_source *defer;
};

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
        *ret = o;
        return 0;
}

struct outbox *outbox_free(struct outbox *o)
{
        if (!o)
                return NULL;
        sd_event_source_disable_unref(o->defer);
        free(o);
        return NULL;
}

unsigned outbox_in_flight(const struct govwatch *gw)
{
        return gw->outbox ? gw->outbox->in_flight : 0;
}

static int on_all_done(sd_event_source *s, void *userdata)
{
        struct outbox *o = userdata;
        outbox_done_fn done = o->done;
        void *ud = o->userdata;

        o->defer = sd_event_source_disable_unref(o->defer);
        o->done = NULL;
        if (done)
                done(o->gw, ud);
        return 0;
}

static void maybe_done(struct outbox *o)
{
        if (o->in_flight > 0 || !o->done || o->defer)
                return;
        if (sd_event_add_defer(o->gw->event, &o->defer, on_all_done, o) < 0)
                on_all_done(NULL, o);
}

static void on_sent(struct sink *s, enum sink_result result, uint64_t retry_after_usec,
                    const char *detail, void *userdata)
{
        struct delivery *d = userdata;
        struct outbox *o = d->outbox;
        struct govwatch *gw = o->gw;
        struct outbox_entry *e = &d->entry;
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        int r = 0;

        switch (result) {
        case SINK_ACCEPTED:
                r = store_outbox_delivered(gw->store, e->notification->id, e->sink, now);
                log_debug("Delivered %s to %s.", e->notification->url, e->sink);
                break;
        case SINK_TRY_LATER: {
                if (s->conf->digest_usec > 0 && retry_after_usec > 0) {
                        /* held for the sink's digest: not a failure, so no attempt counted and
                         * no jitter that could split one digest into two */
                        r = store_outbox_defer(
                                gw->store, e->notification->id, e->sink,
                                now + (int64_t)((retry_after_usec + USEC_PER_SEC - 1) /
                                                USEC_PER_SEC),
                                "waiting for the digest");
                        break;
                }
                uint64_t v = 0;
                (void)getrandom(&v, sizeof(v), GRND_NONBLOCK);
                uint64_t delay = outbox_backoff_usec(e->attempts, v);
                if (retry_after_usec > delay)
                        delay = retry_after_usec;
                if (gw->conf->outbox_expire_usec > 0 &&
                    now - e->notification->created >
                            (int64_t)(gw->conf->outbox_expire_usec / USEC_PER_SEC)) {
                        log_warning("Giving up on %s for sink %s after %u attempts (%s): moved "
                                    "to dead letters.",
                                    e->notification->url, e->sink, e->attempts + 1,
                                    strempty(detail));
                        r = store_outbox_dead(gw->store, e->notification->id, e->sink, detail);
                        break;
                }
                log_info("Sink %s will retry %s in %" PRIu64 " s: %s", e->sink,
                         e->notification->url, delay / USEC_PER_SEC, strempty(detail));
                r = store_outbox_retry(gw->store, e->notification->id, e->sink,
                                       now + (int64_t)(delay / USEC_PER_SEC), detail);
                break;
        }
        case SINK_REJECTED:
                log_warning("Sink %s rejected %s for good (%s): moved to dead letters.", e->sink,
                            e->notification->url, strempty(detail));
                r = store_outbox_dead(gw->store, e->notification->id, e->sink, detail);
                break;
        }
        if (r < 0)
                log_error_errno(r, "Failed to record delivery of %s to %s: %s",
                                e->notification->url, e->sink, store_errmsg(gw->store));
        outbox_entry_done(e);
        free(d);
        o->in_flight--;
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

static struct sink *find_sink(struct govwatch *gw, const char *name)
{
        for (size_t i = 0; i < gw->conf->n_sinks; i++)
                if (gw->sinks && gw->sinks[i] && streq(gw->conf->sinks[i].name, name))
                        return gw->sinks[i];
        return NULL;
}

int outbox_deliver(struct govwatch *gw, outbox_done_fn done, void *userdata)
{
        struct outbox *o = gw->outbox;
        struct outbox_entry *entries = NULL;
        size_t n = 0;
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        int r;

        o->done = done;
        o->userdata = userdata;
        if (gw->dry_run) {
                maybe_done(o);
                return 0;
        }
        r = store_outbox_due(gw->store, now, OUTBOX_BATCH, &entries, &n);
        if (r < 0) {
                maybe_done(o);
                return log_error_errno(r, "Failed to read the outbox: %s", store_errmsg(gw->store));
        }
        for (size_t i = 0; i < n; i++) {
                struct sink *s = find_sink(gw, entries[i].sink);
                if (!s) {
                        /* the sink was renamed or removed in the config: keep the row, loudly */
                        log_warning("Notification %s is queued for sink '%s', which the config no "
                                    "longer has; keeping it.",
                                    entries[i].notification->url, entries[i].sink);
                        (void)store_outbox_retry(gw->store, entries[i].notification->id,
                                                 entries[i].sink, now + 3600,
                                                 "sink not configured");
                        outbox_entry_done(&entries[i]);
                        continue;
                }
                int64_t wait = quiet_wait(gw, s, entries[i].notification, now);
                if (wait > 0) {
                        /* deferred, never dropped: it goes when the window ends */
                        r = store_outbox_defer(gw->store, entries[i].notification->id,
                                               entries[i].sink, now + wait, "quiet hours");
                        if (r < 0)
                                log_warning_errno(r, "Failed to defer %s: %s",
                                                  entries[i].notification->url,
                                                  store_errmsg(gw->store));
                        outbox_entry_done(&entries[i]);
                        continue;
                }
                struct delivery *d = calloc(1, sizeof(*d));
                if (!d) {
                        outbox_entry_done(&entries[i]);
                        continue;
                }
                d->outbox = o;
                d->entry = entries[i];
                entries[i] = (struct outbox_entry){0};
                o->in_flight++;
                r = sink_send(s, d->entry.notification, on_sent, d);
                if (r < 0) {
                        log_warning_errno(r, "Sink %s failed to start sending: %m", s->name);
                        on_sent(s, SINK_TRY_LATER, 0, "could not start", d);
                }
        }
        free(entries);
        maybe_done(o);
        return 0;
}
