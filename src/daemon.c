/* daemon.c — the event loop's owner: timers for sweeps and deliveries, signals, sd_notify.
 *
 * When to poll is the scheduler's call (scheduler.h): the sweep timer is a CLOCK_REALTIME timer
 * at scheduler_next_wakeup(), and each wake-up polls what scheduler_due() hands out, in execute
 * batches. The sweep period of old (poll_interval) survives only as the longest sleep: a cheap
 * wake-up that asks the scheduler again, so that a watch list left partly unresolved by a
 * transient error is resolved again within that time. A start or a reload spends no call of its
 * own: the scheduler, whose state the store keeps across both, decides as always. Its first
 * wake-up resolves the watch list (govwatch_resolve: names the store has not cached cost
 * groups.getById, and users.get for personal pages, never wall.get), and only then asks the
 * scheduler what is due: communities never polled (an empty store, or new in the watch list
 * after a reload: first sight) and those whose time has come, and after a start the walls whose
 * poll a stop interrupted (sweep.c). Restarting or reloading a 7000-community daemon thus costs
 * no sweep of the daily budget; `once` alone polls every wall.
 *
 * Nothing here blocks: a sweep and a delivery pass are asynchronous and report back through
 * callbacks; the loop only decides when to start the next one and when to stop. It speaks the
 * sd_notify protocol: READY=1 once config and store are up, STATUS= kept current, WATCHDOG=1
 * from sd-event, RELOADING=1 + MONOTONIC_USEC= ... READY=1 around a reload (systemd 252 and 253
 * alike), STOPPING=1. A reload builds every new part first and swaps only when all succeeded.
 */
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "alerts.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "sweep.h"
#include "tz_cache.h"

#define OUTBOX_CHECK_USEC    (30 * USEC_PER_SEC) /* at least this often, even with nothing due */
#define OUTBOX_MIN_WAIT_USEC (1 * USEC_PER_SEC)  /* the store counts retries in whole seconds */
#define STOP_TIMEOUT_USEC    (10 * USEC_PER_SEC)
#define PRUNE_INTERVAL_USEC  USEC_PER_HOUR
#define MIN_WAKE_GAP_USEC    (100 * USEC_PER_MSEC) /* after a wake-up that found nothing due */

struct daemon {
        struct govwatch *gw;
        const char *config_path;
        sd_event_source *sweep_timer;
        sd_event_source *outbox_timer;
        sd_event_source *stop_timer;
        bool stopping;
        bool reload_pending;
        unsigned resolve_errors; /* of the resolution before the sweep in progress */
        uint64_t last_prune;
        bool idle_wake; /* the last wake-up found nothing due */
        int exit_code;
        int64_t due[SWEEP_MAX_DUE];
};

/* Feeds the alert counters with what a resolution and sweep (o; NULL when the resolution
 * failed) found about the token and the walls. */
static void sweep_alerts(struct govwatch *gw, const struct sweep_outcome *o)
{
        if (gw->token_invalid) {
                (void)alerts_token_result(gw, false, 5, "the token was refused");
                return;
        }
        if (o && o->result >= 0) {
                (void)alerts_token_result(gw, true, 0, NULL);
                alerts_after_sweep(gw, o);
        }
}

/* For shutdown: what is in flight is dropped, the source's requests first (they point into the
 * sweep and the resolution). */
static void abandon_work(struct govwatch *gw)
{
        if (!sweep_running(gw) && !govwatch_resolving(gw))
                return;
        gw->source = source_free(gw->source);
        sweep_abort(gw);
        govwatch_resolve_abort(gw);
}

/* ---- once ------------------------------------------------------------------------------- */

struct once_state {
        int result;
        unsigned resolve_errors;
};

static void once_delivered(struct govwatch *gw, void *userdata)
{
        sd_event_exit(gw->event, 0);
}

static void once_deliver(struct govwatch *gw)
{
        if (outbox_deliver(gw, once_delivered, NULL) < 0)
                sd_event_exit(gw->event, 0);
}

static void once_swept(struct govwatch *gw, const struct sweep_outcome *o, void *userdata)
{
        struct once_state *st = userdata;
        unsigned errors = o->errors + st->resolve_errors;

        st->result = o->result;
        log_info("Sweep done: %u new, %u %s.", o->new_posts, errors,
                 plural(errors, "error", "errors"));
        sweep_alerts(gw, o);
        metrics_sweep_done(gw, o);
        once_deliver(gw);
}

static void once_resolved(struct govwatch *gw, int result, void *userdata)
{
        struct once_state *st = userdata;

        st->resolve_errors = gw->resolve_errors;
        if (result >= 0)
                result = sweep_start(gw, NULL, 0, 0, once_swept, st);
        if (result >= 0)
                return;
        if (result != -EACCES)
                log_error_errno(result, "Failed to resolve the watch list: %m");
        st->result = result;
        sweep_alerts(gw, NULL);
        once_deliver(gw); /* what earlier runs queued goes all the same */
}

int daemon_once(struct govwatch *gw)
{
        struct once_state st = {0};
        int r;

        r = govwatch_resolve(gw, once_resolved, &st);
        if (r < 0)
                return log_error_errno(r, "Failed to resolve the watch list: %m");
        if (r > 0)
                once_resolved(gw, 0, &st);
        r = sd_event_loop(gw->event);
        govwatch_save_state(gw);
        metrics_write(gw);
        outbox_shutdown(gw);
        abandon_work(gw);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        if (gw->token_invalid)
                return -EACCES;
        return st.result < 0 ? st.result : 0;
}

/* ---- run -------------------------------------------------------------------------------- */

static size_t configured_communities(const struct config *conf)
{
        size_t n = 0;
        for (size_t i = 0; i < conf->n_watch; i++)
                n += conf->watch[i].n_communities;
        return n;
}

/* "58 communities · last sweep 12:04, 3 new · outbox 0 · quota 1234/5000": quota is the
 * wall.get calls of the last 24 h of the daily budget. */
static void update_status(struct daemon *d)
{
        struct govwatch *gw = d->gw;
        unsigned pending = 0, dead = 0;
        char when[16] = "never", dead_part[48] = "", quota_part[48] = "";
        size_t n = gw->targets_resolved ? gw->n_targets : configured_communities(gw->conf);

        if (gw->store)
                (void)store_outbox_counts(gw->store, &pending, &dead);
        if (gw->last_sweep_end) {
                struct tm tm;
                if (tz_localtime(NULL, gw->last_sweep_end, &tm) >= 0)
                        strftime(when, sizeof(when), "%H:%M", &tm);
        }
        if (dead)
                snprintf(dead_part, sizeof(dead_part), " · %u dead letters", dead);
        if (gw->scheduler) {
                struct scheduler_status ss;
                scheduler_status(gw->scheduler, now_realtime_usec(), &ss);
                snprintf(quota_part, sizeof(quota_part), " · quota %u/%u", ss.used, ss.limit);
        }
        if (gw->token_invalid) {
                (void)sd_notifyf(false,
                                 "STATUS=VK token refused (error 5): polling stopped · outbox %u%s",
                                 pending, dead_part);
                return;
        }
        (void)sd_notifyf(false, "STATUS=%zu %s · last sweep %s, %u new · outbox %u%s%s", n,
                         plural(n, "community", "communities"), when, gw->last_sweep_new, pending,
                         dead_part, quota_part);
}

/* A realtime timer: the scheduler plans in CLOCK_REALTIME (its state outlives the process). */
static void schedule_sweep_at(struct daemon *d, uint64_t at)
{
        (void)sd_event_source_set_time(d->sweep_timer, at);
        (void)sd_event_source_set_enabled(d->sweep_timer, SD_EVENT_ONESHOT);
}

static void schedule_sweep(struct daemon *d, uint64_t delay)
{
        schedule_sweep_at(d, now_realtime_usec() + delay);
}

/* The next wake-up: when the scheduler says, at most poll_interval from now (see the top). */
static void schedule_next_sweep(struct daemon *d)
{
        struct govwatch *gw = d->gw;
        uint64_t now = now_realtime_usec(), at = now;

        if (d->stopping)
                return;
        if (gw->token_invalid) {
                /* retry rarely: the admin has to fix the token */
                schedule_sweep(d, USEC_PER_HOUR + random_u64() % (USEC_PER_HOUR / 10));
                return;
        }
        if (gw->scheduler && gw->scheduler_has_targets)
                at = scheduler_next_wakeup(gw->scheduler, now);
        if (at > now + gw->conf->poll_interval_usec)
                at = now + gw->conf->poll_interval_usec;
        if (d->idle_wake && at < now + MIN_WAKE_GAP_USEC)
                at = now + MIN_WAKE_GAP_USEC;
        schedule_sweep_at(d, at);
}

/* The next delivery pass: when the earliest retry is due, at least every OUTBOX_CHECK_USEC. */
static void schedule_outbox(struct daemon *d)
{
        uint64_t now, wait = OUTBOX_CHECK_USEC;

        if (d->stopping)
                return;
        if (outbox_next_due_usec(d->gw, &wait) < 0 || wait > OUTBOX_CHECK_USEC)
                wait = OUTBOX_CHECK_USEC;
        if (wait < OUTBOX_MIN_WAIT_USEC)
                wait = OUTBOX_MIN_WAIT_USEC;
        sd_event_now(d->gw->event, CLOCK_MONOTONIC, &now);
        (void)sd_event_source_set_time(d->outbox_timer, now + wait);
        (void)sd_event_source_set_enabled(d->outbox_timer, SD_EVENT_ONESHOT);
}

static bool idle(struct daemon *d)
{
        return !sweep_running(d->gw) && !govwatch_resolving(d->gw) && outbox_in_flight(d->gw) == 0;
}

static void try_stop(struct daemon *d)
{
        if (d->stopping && idle(d))
                sd_event_exit(d->gw->event, d->exit_code);
}

static void apply_reload(struct daemon *d);
static void deliver(struct daemon *d);

/* A reload waits until no sweep and no send holds pointers into the old config. */
static void maybe_reload(struct daemon *d)
{
        if (d->reload_pending && !d->stopping && idle(d)) {
                apply_reload(d);
                deliver(d);
        }
}

static void maybe_prune(struct daemon *d)
{
        uint64_t now = now_monotonic_usec();
        uint64_t interval = d->gw->conf->history_keep_usec < PRUNE_INTERVAL_USEC
                                    ? d->gw->conf->history_keep_usec
                                    : PRUNE_INTERVAL_USEC;
        if (d->last_prune && now - d->last_prune < interval)
                return;
        d->last_prune = now;
        log_debug("Pruning delivery history.");
        (void)outbox_prune(d->gw);
}

static void delivered(struct govwatch *gw, void *userdata)
{
        struct daemon *d = userdata;
        maybe_prune(d);
        update_status(d);
        metrics_write(gw);
        maybe_reload(d);
        schedule_outbox(d);
        try_stop(d);
}

static void deliver(struct daemon *d)
{
        if (d->stopping || d->reload_pending)
                return;
        /* while a pass runs this only looks for more rows (new posts of the last sweep) */
        (void)outbox_deliver(d->gw, delivered, d);
}

/* After a sweep, or a resolution that failed: what comes next. */
static void sweep_over(struct daemon *d)
{
        govwatch_save_state(d->gw);
        metrics_write(d->gw);
        schedule_next_sweep(d);
        deliver(d);
        maybe_reload(d);
        update_status(d);
        try_stop(d);
}

static void swept(struct govwatch *gw, const struct sweep_outcome *o, void *userdata)
{
        struct daemon *d = userdata;
        unsigned errors = o->errors + d->resolve_errors;

        d->resolve_errors = 0;
        if (o->result < 0 && o->result != -EACCES)
                log_warning_errno(o->result, "Sweep failed: %m");
        /* scheduled sweeps come every few seconds to minutes: only news is worth a line */
        log_full_errno(o->new_posts || errors ? LOG_INFO : LOG_DEBUG, 0,
                       "Sweep done: %u of %zu %s polled, %u new, %u %s.", o->polled, gw->n_targets,
                       plural(gw->n_targets, "community", "communities"), o->new_posts, errors,
                       plural(errors, "error", "errors"));
        sweep_alerts(gw, o);
        metrics_sweep_done(gw, o);
        sweep_over(d);
}

/* Polls what the scheduler finds due; after a resolution, also the walls whose poll a stop
 * interrupted, so then even with nothing due. */
static void poll_due(struct daemon *d, unsigned flags)
{
        struct govwatch *gw = d->gw;
        size_t n = 0;
        int r;

        if (gw->scheduler && gw->scheduler_has_targets) {
                r = scheduler_due(gw->scheduler, now_realtime_usec(), d->due, ELEMENTSOF(d->due),
                                  &n);
                if (r < 0)
                        log_warning_errno(r, "Failed to ask the scheduler what is due: %m");
        }
        if (n == 0 && !(flags & SWEEP_TAKE_INTERRUPTED)) {
                d->idle_wake = true;
                schedule_next_sweep(d);
                return;
        }
        d->idle_wake = false;
        r = sweep_start(gw, d->due, n, flags, swept, d);
        if (r < 0) {
                log_error_errno(r, "Failed to start a sweep: %m");
                schedule_sweep(d, gw->conf->poll_interval_usec);
        }
}

static void resolved(struct govwatch *gw, int result, void *userdata)
{
        struct daemon *d = userdata;

        if (result < 0) {
                if (result != -EACCES)
                        log_warning_errno(result, "Failed to resolve the watch list: %m");
                sweep_alerts(gw, NULL);
                sweep_over(d);
                return;
        }
        d->resolve_errors = gw->resolve_errors;
        poll_due(d, SWEEP_TAKE_INTERRUPTED);
        update_status(d);
}

static int on_sweep_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        struct govwatch *gw = d->gw;
        int r;

        if (d->stopping || d->reload_pending || sweep_running(gw) || govwatch_resolving(gw))
                return 0;
        if (gw->token_invalid) {
                gw->token_invalid = false; /* give it another chance, rarely */
                gw->fatal = 0;
        }
        if (!govwatch_resolve_due(gw, now_realtime_usec())) {
                poll_due(d, 0);
                return 0;
        }
        /* the watch list first (a start, a reload, or a resolution left incomplete) */
        r = govwatch_resolve(gw, resolved, d);
        if (r < 0) {
                log_error_errno(r, "Failed to resolve the watch list: %m");
                schedule_sweep(d, gw->conf->poll_interval_usec);
        } else if (r > 0)
                resolved(gw, 0, d);
        return 0;
}

static int on_outbox_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        deliver(d);
        /* re-armed when the pass is done; until then, a safety net */
        (void)sd_event_source_set_time(s, usec + OUTBOX_CHECK_USEC);
        (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        log_warning("%u deliveries still in flight after %" PRIu64 " s; stopping anyway (they stay "
                    "queued).",
                    outbox_in_flight(d->gw), STOP_TIMEOUT_USEC / USEC_PER_SEC);
        sd_event_exit(d->gw->event, d->exit_code);
        return 0;
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct daemon *d = userdata;

        if (d->stopping)
                return 0;
        log_info("Received SIG%s, stopping%s.", sigabbrev_np((int)si->ssi_signo),
                 outbox_in_flight(d->gw) ? " when the deliveries in flight are done" : "");
        (void)sd_notify(false, "STOPPING=1");
        d->stopping = true;
        (void)sd_event_source_set_enabled(d->sweep_timer, SD_EVENT_OFF);
        (void)sd_event_source_set_enabled(d->outbox_timer, SD_EVENT_OFF);
        (void)sd_event_add_time_relative(d->gw->event, &d->stop_timer, CLOCK_MONOTONIC,
                                         STOP_TIMEOUT_USEC, 0, on_stop_timeout, d);
        /* sends in flight may finish; no new ones start */
        outbox_set_draining(d->gw, true);
        /* a sweep in progress is abandoned: whatever it committed is safe, the walls it was
         * polling are noted and polled at the next start */
        abandon_work(d->gw);
        try_stop(d);
        return 0;
}

/* `govwatchd reload` (the units' ExecReload=) waits for this count to move: systemd 252 does not
 * wait for READY=1 after a SIGHUP by itself. */
static void reload_record(struct govwatch *gw, bool ok)
{
        int64_t n = 0;
        (void)store_kv_get_int(gw->store, "reload_count", &n);
        if (store_kv_put_int(gw->store, "reload_ok", ok) < 0 ||
            store_kv_put_int(gw->store, "reload_count", n + 1) < 0)
                log_warning("Failed to record the reload in the store: %s",
                            store_errmsg(gw->store));
}

static void reload_failed(struct govwatch *gw, const char *why, const char *path)
{
        log_error("Reload failed: %s; keeping the running configuration from %s.", why, path);
        reload_record(gw, false);
        (void)sd_notify(false, "READY=1");
}

/* The new config is in place: say so everywhere, and resolve its watch list. */
static void reload_done(struct daemon *d)
{
        struct govwatch *gw = d->gw;

        log_info("Configuration reloaded from %s: %zu %s, %zu %s.", d->config_path,
                 gw->conf->n_watch, plural(gw->conf->n_watch, "watch entry", "watch entries"),
                 gw->conf->n_sinks, plural(gw->conf->n_sinks, "sink", "sinks"));
        reload_record(gw, true);
        (void)sd_notify(false, "READY=1");
        update_status(d);
        /* resolves the new watch list; the scheduler makes communities new to it due at once */
        schedule_sweep(d, 0);
}

static void apply_reload(struct daemon *d)
{
        struct govwatch *gw = d->gw;
        struct config_errors errors = {0};
        struct govwatch_prepared p = {0};
        struct govwatch_parts parts = {0};
        _cleanup_free_ char *token = NULL;
        int r;

        d->reload_pending = false;
        outbox_set_draining(gw, false);

        /* build every new part before touching the old ones, so a failure changes nothing; the
         * file is judged as check-config and a start judge it (govwatch_prepare) */
        r = govwatch_prepare(d->config_path, 0, &p, &errors);
        config_errors_print(&errors, d->config_path, stderr);
        config_errors_done(&errors);
        if (r < 0) {
                reload_failed(gw, "the file has errors", d->config_path);
                return;
        }
        /* the running scheduler keeps what it learned; it is rebuilt for the new watch list
         * once that is resolved (govwatch_resolve) */
        p.scheduler = scheduler_free(p.scheduler);
        r = govwatch_read_token(p.conf, true, &token);
        if (r < 0) {
                govwatch_prepared_done(&p);
                reload_failed(gw, "the VK token cannot be read", d->config_path);
                return;
        }
        /* what the scheduler learned and the VK request window carry over through the store */
        govwatch_save_state(gw);
        r = govwatch_parts_new(gw, p.conf, token, true, &parts);
        explicit_bzero(token, strlen(token));
        if (r < 0) {
                govwatch_prepared_done(&p);
                reload_failed(gw, "a part could not be set up", d->config_path);
                return;
        }

        /* swap, all at once */
        govwatch_parts_install(gw, &parts);
        classifier_free(gw->classifier);
        gw->classifier = TAKE_PTR(p.classifier);
        govwatch_targets_free(gw); /* the new watch list is resolved at the next sweep */
        config_free(gw->conf);
        gw->conf = TAKE_PTR(p.conf);
        gw->token_invalid = false; /* the admin may have put a new token in place */
        gw->fatal = 0;
        reload_done(d);
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct daemon *d = userdata;
        char buf[64];

        if (d->stopping || d->reload_pending)
                return 0;
        log_info("Received SIGHUP, reloading %s.", d->config_path);
        snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_monotonic_usec());
        (void)sd_notify(false, buf);
        d->reload_pending = true;
        /* a sweep or sends in flight hold pointers into the old config: let them finish, start
         * nothing new, and swap when they are done */
        outbox_set_draining(d->gw, true);
        maybe_reload(d);
        return 0;
}

void daemon_block_signals(void)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
}

int daemon_run(struct govwatch *gw, const char *config_path)
{
        struct daemon d = {.gw = gw, .config_path = config_path};
        int r;

        daemon_block_signals(); /* already, when main did it before setup */

        if ((r = sd_event_add_signal(gw->event, NULL, SIGTERM, on_stop_signal, &d)) < 0 ||
            (r = sd_event_add_signal(gw->event, NULL, SIGINT, on_stop_signal, &d)) < 0 ||
            (r = sd_event_add_signal(gw->event, NULL, SIGHUP, on_hup, &d)) < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        r = sd_event_set_watchdog(gw->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");
        else if (r > 0)
                log_debug("Watchdog enabled.");

        r = sd_event_add_time_relative(gw->event, &d.sweep_timer, CLOCK_REALTIME, 0, 0,
                                       on_sweep_timer, &d);
        if (r >= 0)
                r = sd_event_add_time_relative(gw->event, &d.outbox_timer, CLOCK_MONOTONIC,
                                               OUTBOX_CHECK_USEC, 0, on_outbox_timer, &d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up timers: %m");

        char min[FORMAT_DURATION_MAX], max[FORMAT_DURATION_MAX];
        log_info("govwatchd %s running: %zu %s, %zu %s, %u wall.get calls a day, "
                 "each community every %s .. %s.",
                 GOVWATCH_VERSION, gw->conf->n_watch,
                 plural(gw->conf->n_watch, "watch entry", "watch entries"), gw->conf->n_sinks,
                 plural(gw->conf->n_sinks, "sink", "sinks"), gw->conf->vk.daily_wall_get,
                 format_duration(min, sizeof(min), gw->conf->min_interval_usec),
                 format_duration(max, sizeof(max), gw->conf->max_interval_usec));
        metrics_daemon_started(gw);
        (void)sd_notify(false, "READY=1");
        update_status(&d);
        /* what a previous run left queued goes now, not after the first sweep */
        deliver(&d);

        r = sd_event_loop(gw->event);

        govwatch_save_state(gw);
        outbox_shutdown(gw);
        abandon_work(gw);
        sd_event_source_disable_unref(d.sweep_timer);
        sd_event_source_disable_unref(d.outbox_timer);
        sd_event_source_disable_unref(d.stop_timer);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        log_info("Stopped.");
        return r;
}
