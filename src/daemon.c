/* daemon.c — the event loop's owner: timers for sweeps and deliveries, signals, sd_notify.
 *
 * Nothing here blocks: a sweep and a delivery pass are asynchronous and report back through
 * callbacks; the loop only decides when to start the next one and when to stop.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "daemon.h"
#include "log.h"

#define OUTBOX_CHECK_USEC (30 * USEC_PER_SEC)
#define STOP_TIMEOUT_USEC (10 * USEC_PER_SEC)

struct daemon {
        struct govwatch *gw;
        const char *config_path;
        sd_event_source *sweep_timer;
        sd_event_source *outbox_timer;
        sd_event_source *stop_timer;
        bool stopping;
        bool reload_pending;
        bool delivering;
        int exit_code;
};

/* ---- once ------------------------------------------------------------------------------- */

struct once_state {
        int result;
};

static void once_delivered(struct govwatch *gw, void *userdata)
{
        sd_event_exit(gw->event, 0);
}

static void once_swept(struct govwatch *gw, int result, void *userdata)
{
        struct once_state *st = userdata;

        st->result = result;
        log_info("Sweep done: %u new, %u errors.", gw->last_sweep_new, gw->last_sweep_errors);
        if (outbox_deliver(gw, once_delivered, NULL) < 0)
                sd_event_exit(gw->event, 0);
}

int daemon_once(struct govwatch *gw)
{
        struct once_state st = {0};
        int r;

        r = sweep_start(gw, once_swept, &st);
        if (r < 0)
                return log_error_errno(r, "Failed to start a sweep: %m");
        r = sd_event_loop(gw->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        if (gw->token_invalid)
                return -EACCES;
        return st.result < 0 ? st.result : 0;
}

/* ---- run -------------------------------------------------------------------------------- */

static void update_status(struct daemon *d)
{
        struct govwatch *gw = d->gw;
        unsigned pending = 0, dead = 0;
        char when[16] = "never";

        if (gw->store)
                (void)store_outbox_counts(gw->store, &pending, &dead);
        if (gw->last_sweep_end) {
                struct tm tm;
                time_t t = (time_t)gw->last_sweep_end;
                if (localtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%H:%M", &tm);
        }
        if (gw->token_invalid) {
                (void)sd_notify(false, "STATUS=VK token refused (error 5): polling stopped");
                return;
        }
        (void)sd_notifyf(false, "STATUS=%zu communities · last sweep %s, %u new · outbox %u%s",
                         gw->n_targets, when, gw->last_sweep_new, pending,
                         dead ? " · dead letters!" : "");
}

static void schedule_sweep(struct daemon *d, uint64_t delay)
{
        uint64_t now;
        sd_event_now(d->gw->event, CLOCK_MONOTONIC, &now);
        (void)sd_event_source_set_time(d->sweep_timer, now + delay);
        (void)sd_event_source_set_enabled(d->sweep_timer, SD_EVENT_ONESHOT);
}

static void try_stop(struct daemon *d)
{
        if (d->stopping && !sweep_running(d->gw) && outbox_in_flight(d->gw) == 0)
                sd_event_exit(d->gw->event, d->exit_code);
}

static void delivered(struct govwatch *gw, void *userdata)
{
        struct daemon *d = userdata;
        d->delivering = false;
        update_status(d);
        try_stop(d);
}

static void deliver(struct daemon *d)
{
        if (d->delivering || d->stopping)
                return;
        d->delivering = true;
        if (outbox_deliver(d->gw, delivered, d) < 0)
                d->delivering = false;
}

static void apply_reload(struct daemon *d);

static void swept(struct govwatch *gw, int result, void *userdata)
{
        struct daemon *d = userdata;
        uint64_t interval = gw->conf->poll_interval_usec, v = 0;

        if (result < 0 && result != -EACCES)
                log_warning_errno(result, "Sweep failed: %m");
        log_info("Sweep done: %zu communities, %u new, %u errors.", gw->n_targets,
                 gw->last_sweep_new, gw->last_sweep_errors);
        if (gw->token_invalid)
                interval = USEC_PER_HOUR; /* retry rarely: the admin has to fix the token */
        (void)getrandom(&v, sizeof(v), GRND_NONBLOCK);
        interval += v % (interval / 10 + 1); /* jitter */
        if (!d->stopping)
                schedule_sweep(d, interval);
        if (d->reload_pending)
                apply_reload(d);
        deliver(d);
        update_status(d);
        try_stop(d);
}

static int on_sweep_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        if (d->stopping || sweep_running(d->gw))
                return 0;
        if (d->gw->token_invalid)
                d->gw->token_invalid = false; /* give it another chance, rarely */
        int r = sweep_start(d->gw, swept, d);
        if (r < 0) {
                log_error_errno(r, "Failed to start a sweep: %m");
                schedule_sweep(d, d->gw->conf->poll_interval_usec);
        }
        return 0;
}

static int on_outbox_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        deliver(d);
        (void)sd_event_source_set_time(s, usec + OUTBOX_CHECK_USEC);
        (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        log_warning("Deliveries still in flight after %" PRIu64 " s; stopping anyway (they stay "
                    "queued).",
                    STOP_TIMEOUT_USEC / USEC_PER_SEC);
        sd_event_exit(d->gw->event, d->exit_code);
        return 0;
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct daemon *d = userdata;

        if (d->stopping)
                return 0;
        log_info("Received SIG%s, stopping.", sigabbrev_np((int)si->ssi_signo));
        (void)sd_notify(false, "STOPPING=1");
        d->stopping = true;
        (void)sd_event_source_set_enabled(d->sweep_timer, SD_EVENT_OFF);
        (void)sd_event_source_set_enabled(d->outbox_timer, SD_EVENT_OFF);
        (void)sd_event_add_time_relative(d->gw->event, &d->stop_timer, CLOCK_MONOTONIC,
                                         STOP_TIMEOUT_USEC, 0, on_stop_timeout, d);
        /* a sweep in progress is abandoned: whatever it committed is safe, the rest is seen
         * again next time */
        if (sweep_running(d->gw)) {
                d->gw->source = source_free(d->gw->source);
                sweep_abort(d->gw);
        }
        try_stop(d);
        return 0;
}

static void apply_reload(struct daemon *d)
{
        struct govwatch *gw = d->gw;
        struct config_errors errors = {0};
        struct config *conf = NULL;
        char buf[64];
        int r;

        d->reload_pending = false;
        snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_monotonic_usec());
        (void)sd_notify(false, buf);

        r = config_load(d->config_path, &conf, &errors);
        if (r < 0) {
                config_errors_print(&errors, d->config_path, stderr);
                log_error("Reload failed: %s has errors; keeping the running configuration.",
                          d->config_path);
                config_errors_done(&errors);
                (void)sd_notify(false, "READY=1");
                return;
        }
        config_errors_done(&errors);

        /* build the new parts before touching the old ones, so a failure changes nothing */
        struct classifier *classifier = NULL;
        struct classify_options opts = {.rules_file = conf->classifier.rules_file,
                                        .timezone = conf->timezone,
                                        .user = conf->classifier.user,
                                        .n_user = conf->classifier.n_user};
        _cleanup_free_ char *cerr = NULL;
        r = classifier_new(&opts, &classifier, &cerr);
        if (r < 0) {
                log_error("Reload failed: %s; keeping the running configuration.",
                          cerr ? cerr : strerror(-r));
                config_free(conf);
                (void)sd_notify(false, "READY=1");
                return;
        }
        for (size_t i = 0; i < gw->conf->n_sinks; i++)
                sink_free(gw->sinks[i]);
        free(gw->sinks);
        gw->sinks = NULL;
        classifier_free(gw->classifier);
        gw->classifier = classifier;
        targets_free(gw);
        config_free(gw->conf);
        gw->conf = conf;
        (void)govwatch_create_sinks(gw);
        log_info("Configuration reloaded from %s: %zu watch entries, %zu sinks.", d->config_path,
                 conf->n_watch, conf->n_sinks);
        (void)sd_notify(false, "READY=1");
        schedule_sweep(d, 0);
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct daemon *d = userdata;
        d->reload_pending = true;
        /* a sweep or deliveries hold pointers into the old config: reload when they are done */
        if (!sweep_running(d->gw) && outbox_in_flight(d->gw) == 0)
                apply_reload(d);
        return 0;
}

int daemon_run(struct govwatch *gw, const char *config_path)
{
        struct daemon d = {.gw = gw, .config_path = config_path};
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        if ((r = sd_event_add_signal(gw->event, NULL, SIGTERM, on_stop_signal, &d)) < 0 ||
            (r = sd_event_add_signal(gw->event, NULL, SIGINT, on_stop_signal, &d)) < 0 ||
            (r = sd_event_add_signal(gw->event, NULL, SIGHUP, on_hup, &d)) < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        r = sd_event_set_watchdog(gw->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");

        r = sd_event_add_time_relative(gw->event, &d.sweep_timer, CLOCK_MONOTONIC, 0, 0,
                                       on_sweep_timer, &d);
        if (r >= 0)
                r = sd_event_add_time_relative(gw->event, &d.outbox_timer, CLOCK_MONOTONIC,
                                               OUTBOX_CHECK_USEC, 0, on_outbox_timer, &d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up timers: %m");

        log_info("govwatchd %s running: %zu watch entries, %zu sinks, sweep every %" PRIu64 " s.",
                 GOVWATCH_VERSION, gw->conf->n_watch, gw->conf->n_sinks,
                 gw->conf->poll_interval_usec / USEC_PER_SEC);
        (void)sd_notify(false, "READY=1");
        update_status(&d);

        r = sd_event_loop(gw->event);

        sd_event_source_disable_unref(d.sweep_timer);
        sd_event_source_disable_unref(d.outbox_timer);
        sd_event_source_disable_unref(d.stop_timer);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
