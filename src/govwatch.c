/* govwatch.c — building and tearing down the daemon's parts from one config snapshot, and
 * keeping what must outlive the process (the scheduler's learning and budget window, the request
 * window of VK requests) in the store.
 *
 * govwatch_prepare() is the one way from a file to parts: check-config, run, once and reload call
 * it, so a file check-config accepts is one the daemon starts and reloads with, and a refused one
 * reads the same everywhere. What needs the event loop, the store or the network (HTTP, the VK
 * source, sinks: govwatch_parts_new) comes after it and checks nothing about the file.
 *
 * It also owns the watch list's targets: govwatch_resolve() resolves the names (watchlist.c),
 * makes the targets and rebuilds the scheduler for them, before any sweep polls them. */
#include <inttypes.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "govwatch.h"
#include "log.h"
#include "metrics.h"
#include "model.h"
#include "outbox.h"
#include "tz_cache.h"

#define SCHEDULER_STATE_KEY "scheduler"

/* state_dir and its parents, as the store makes them: the model is cached there before the store
 * is opened. Failing is no error here; the store says so, the cache warns. */
static void state_dir_make(const char *dir)
{
        _cleanup_free_ char *p = strdup(dir);
        for (char *c = p ? p + 1 : NULL; c && *c; c++) {
                if (*c != '/')
                        continue;
                *c = '\0';
                (void)mkdir(p, 0700);
                *c = '/';
        }
        if (p)
                (void)mkdir(p, 0700);
}

/* The classifier conf asks for: rules, user categories and the model (trained on conf's example
 * files, cached in state_dir when cache is true). Logs what model it uses; on failure *ret_error
 * says why. */
static int classifier_new_for(const struct config *conf, bool cache, struct classifier **ret,
                              char **ret_error)
{
        struct classify_options opts = {
                .rules_file = conf->classifier.rules_file,
                .timezone = conf->timezone,
                .user = conf->classifier.user,
                .n_user = conf->classifier.n_user,
                .example_files = conf->classifier.examples,
                .cache_dir = cache ? conf->state_dir : NULL,
        };
        struct classifier *c = NULL;
        if (cache && conf->classifier.examples && conf->state_dir)
                state_dir_make(conf->state_dir);
        int r = classifier_new(&opts, &c, ret_error);
        if (r < 0)
                return r;

        const struct classify_model *m = classifier_model(c);
        int cache_error = 0;
        bool cached = classifier_model_cached(c, &cache_error);
        if (!m)
                log_warning("No classifier model found (model.bin); the rules decide alone.");
        else if (conf->classifier.examples && cached)
                log_info("Classifier model for %zu examples, yours included, loaded from "
                         "%s/model.bin.",
                         m->n_examples, conf->state_dir);
        else if (conf->classifier.examples)
                log_info("Classifier model trained on %zu examples, yours included.",
                         m->n_examples);
        if (cache_error < 0)
                log_warning_errno(cache_error,
                                  "Failed to save the trained model in %s, it will be trained "
                                  "again at the next start: %m",
                                  conf->state_dir);
        *ret = c;
        return 0;
}

int govwatch_read_token(const struct config *conf, bool required, char **ret)
{
        int r = config_read_token(conf, ret);
        if (r == -ENOKEY && required)
                return log_error_errno(r, "No VK token: set vk.token_file or $GOVWATCH_VK_TOKEN, "
                                          "or run as the service with its vk-token credential.");
        if (r == -ENOKEY)
                log_notice("No VK token visible here (no vk.token_file, no $GOVWATCH_VK_TOKEN, no "
                           "$CREDENTIALS_DIRECTORY/vk-token). That is right when the service "
                           "reads it from its vk-token credential (LoadCredential= in "
                           "govwatchd.service); `once`, `resolve` and `test-sink` run by hand "
                           "need one of the others.");
        else if (r < 0)
                log_error_errno(r, "Failed to read the VK token: %s",
                                r == -ENODATA   ? "the token is empty"
                                : r == -EBADMSG ? "the token has spaces or non-ASCII characters"
                                                : strerror(-r));
        return r;
}

void govwatch_prepared_done(struct govwatch_prepared *p)
{
        if (!p)
                return;
        scheduler_free(p->scheduler);
        classifier_free(p->classifier);
        config_free(p->conf);
        *p = (struct govwatch_prepared){0};
}

int govwatch_prepare(const char *path, unsigned flags, struct govwatch_prepared *ret,
                     struct config_errors *errors)
{
        struct config *conf = NULL;
        int r = config_load(path, &conf, errors);
        if (r < 0)
                return r;
        return govwatch_prepare_config(conf, flags, ret, errors);
}

/* The rules file's errors (one a line, each FILE:LINE:COL: ...), each its own config error. */
static int classifier_errors_add(struct config_errors *errors, const char *text)
{
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                int k = config_errors_add(errors, (struct conf_mark){0, 0},
                                          "the classifier does not load: %.*s", (int)len, line);
                if (k < 0)
                        return k;
                line += len + (line[len] == '\n');
        }
        return 0;
}

int govwatch_prepare_config(struct config *conf, unsigned flags, struct govwatch_prepared *ret,
                            struct config_errors *errors)
{
        _cleanup_free_ char *error = NULL;
        struct govwatch_prepared p = {.conf = conf};
        int r;

        /* a model trained on the admin's examples is cached in state_dir, except by a check */
        r = classifier_new_for(p.conf, !(flags & GOVWATCH_PREPARE_CHECK), &p.classifier, &error);
        if (r < 0) {
                int k = classifier_errors_add(errors, error ? error : strerror(-r));
                govwatch_prepared_done(&p);
                return k < 0 ? k : r;
        }
        r = govwatch_scheduler_new(p.conf, &p.scheduler);
        if (r < 0) {
                int k = config_errors_add(errors, (struct conf_mark){0, 0},
                                          "the scheduler cannot work with these settings: %s",
                                          strerror(-r));
                govwatch_prepared_done(&p);
                return k < 0 ? k : r;
        }
        *ret = p;
        return 0;
}

void govwatch_parts_done(struct govwatch_parts *p)
{
        source_free(p->source);
        for (size_t i = 0; p->sinks && i < p->n_sinks; i++)
                sink_free(p->sinks[i]);
        free(p->sinks);
        *p = (struct govwatch_parts){0};
}

static int sinks_new(const struct config *conf, const struct sink_context *ctx,
                     struct govwatch_parts *p)
{
        p->sinks = calloc(conf->n_sinks + 1, sizeof(struct sink *));
        if (!p->sinks)
                return log_oom();
        p->n_sinks = conf->n_sinks;
        for (size_t i = 0; i < conf->n_sinks; i++) {
                int r = sink_create(&conf->sinks[i], ctx, &p->sinks[i]);
                if (r == -EOPNOTSUPP)
                        log_warning("Sink '%s' has type '%s', which this build cannot send to "
                                    "yet; its notifications stay queued.",
                                    conf->sinks[i].name, conf->sinks[i].type);
                else if (r < 0)
                        return log_error_errno(r, "Failed to set up sink '%s': %m",
                                               conf->sinks[i].name);
        }
        return 0;
}

int govwatch_parts_new(struct govwatch *gw, const struct config *conf, const char *token,
                       bool sinks, struct govwatch_parts *ret)
{
        struct govwatch_parts p = {0};
        int r = 0;

        if (token) {
                r = source_new(gw->event, gw->http, conf, token, &p.source);
                if (r < 0)
                        log_error_errno(r, "Failed to set up the VK source: %m");
        }
        if (r >= 0 && p.source && gw->store) {
                /* a restart or a reload must not grant a fresh burst of requests */
                int k = source_load_pace(p.source, gw->store);
                if (k < 0)
                        log_warning_errno(k,
                                          "Failed to restore the VK request window, ignoring: %m");
        }
        if (r >= 0 && sinks)
                r = sinks_new(conf, &gw->sink_ctx, &p);
        if (r < 0) {
                govwatch_parts_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void govwatch_parts_install(struct govwatch *gw, struct govwatch_parts *p)
{
        struct govwatch_parts old = {
                .source = gw->source,
                .sinks = gw->sinks,
                .n_sinks = gw->sinks && gw->conf ? gw->conf->n_sinks : 0,
        };

        gw->source = TAKE_PTR(p->source);
        gw->sinks = TAKE_PTR(p->sinks);
        *p = (struct govwatch_parts){0};
        govwatch_parts_done(&old);
}

int govwatch_scheduler_new(const struct config *conf, struct scheduler **ret)
{
        struct scheduler_params p;
        int32_t offset = 0;
        int r;

        scheduler_params_default(&p);
        p.daily_budget = conf->vk.daily_wall_get;
        /* 2 % for paging back through bursts, as the module's default (100 of 5000) */
        p.reserve = conf->vk.daily_wall_get / 50;
        p.min_interval_usec = conf->min_interval_usec;
        p.max_interval_usec = conf->max_interval_usec;
        r = tz_utc_offset(conf->timezone, (int64_t)(now_realtime_usec() / USEC_PER_SEC), &offset);
        if (r < 0)
                log_warning_errno(r, "Failed to find the UTC offset of %s, assuming +3 h: %m",
                                  strempty(conf->timezone));
        else
                p.utc_offset_sec = offset;
        if (getrandom(&p.seed, sizeof(p.seed), GRND_NONBLOCK) != sizeof(p.seed))
                p.seed = now_monotonic_usec();
        r = scheduler_new(&p, ret);
        if (r < 0) {
                char min[FORMAT_DURATION_MAX], max[FORMAT_DURATION_MAX];
                return log_error_errno(r,
                                       "Failed to set up the scheduler (budget %u, intervals "
                                       "%s .. %s): %m",
                                       p.daily_budget,
                                       format_duration(min, sizeof(min), p.min_interval_usec),
                                       format_duration(max, sizeof(max), p.max_interval_usec));
        }
        return 0;
}

int govwatch_scheduler_load(struct scheduler *s, struct store *store)
{
        _cleanup_free_ char *text = NULL;
        int r = store_kv_get_text(store, SCHEDULER_STATE_KEY, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_warning_errno(r, "Failed to read the scheduler's state: %s, ignoring",
                                  store_errmsg(store));
                return 0;
        }
        r = scheduler_load(s, text);
        if (r == -EBADMSG) {
                log_warning("The scheduler's saved state is malformed, ignoring it: the daily "
                            "budget and posting rates start afresh.");
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to restore the scheduler's state: %m");
        return 0;
}

static void coverage_check(struct govwatch *gw)
{
        bool ok = true;
        unsigned needed = 0;
        char every[FORMAT_DURATION_MAX];

        scheduler_coverage(gw->scheduler, &ok, &needed);
        if (ok)
                return;
        log_warning("The daily budget of %u wall.get calls (vk.daily_wall_get, less %u kept for "
                    "bursts) cannot poll %zu communities every %s (max_interval): that needs "
                    "about %u calls a day. They are polled less often, most overdue first.",
                    gw->conf->vk.daily_wall_get, gw->conf->vk.daily_wall_get / 50,
                    scheduler_size(gw->scheduler),
                    format_duration(every, sizeof(every), gw->conf->max_interval_usec), needed);
}

/* The watch list was (re)resolved: a scheduler watching exactly gw->targets. */
static int scheduler_rebuild(struct govwatch *gw)
{
        _cleanup_scheduler_ struct scheduler *s = NULL;
        int r;

        /* what the old one learned goes through the store, the one format both understand */
        if (gw->scheduler_has_targets)
                govwatch_save_state(gw);
        r = govwatch_scheduler_new(gw->conf, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < gw->n_targets; i++) {
                const struct target *t = &gw->targets[i];
                r = scheduler_add(s, t->route.owner_id, t->priority);
                if (r >= 0 && t->max_interval_usec > 0)
                        r = scheduler_set_max_interval(s, t->route.owner_id, t->max_interval_usec);
                if (r < 0)
                        return log_error_errno(r, "Failed to schedule %" PRId64 ": %m",
                                               gw->targets[i].route.owner_id);
        }
        if (gw->store) {
                r = govwatch_scheduler_load(s, gw->store);
                if (r < 0)
                        return r;
        }
        scheduler_free(gw->scheduler);
        gw->scheduler = TAKE_PTR(s);
        gw->scheduler_has_targets = true;
        coverage_check(gw);
        return 0;
}

void govwatch_save_state(struct govwatch *gw)
{
        _cleanup_free_ char *text = NULL;
        int r;

        if (!gw->store || gw->dry_run)
                return;
        /* without the watch list the text would forget every community's rates */
        if (gw->scheduler && gw->scheduler_has_targets) {
                r = scheduler_save(gw->scheduler, &text);
                if (r >= 0)
                        r = store_kv_put_text(gw->store, SCHEDULER_STATE_KEY, text);
                if (r < 0)
                        log_warning_errno(r, "Failed to save the scheduler's state: %s, ignoring",
                                          r == -ENOMEM ? "out of memory" : store_errmsg(gw->store));
        }
        if (gw->source) {
                r = source_save_pace(gw->source, gw->store);
                if (r < 0)
                        log_warning_errno(r, "Failed to save the VK request window: %s, ignoring",
                                          store_errmsg(gw->store));
        }
}

void govwatch_token_refused(struct govwatch *gw, int code, const char *msg)
{
        if (!gw->token_invalid)
                log_error("The VK token was refused (error %d: %s). Polling stops; put a valid "
                          "token in place.",
                          code, strempty(msg));
        gw->token_invalid = true;
        gw->fatal = -EACCES;
}

/* ---- resolving the watch list ------------------------------------------------------------ */

bool govwatch_resolve_due(const struct govwatch *gw, uint64_t now)
{
        /* a resolution that a transient error left incomplete is tried again, but not every
         * scheduled sweep: those may come every few seconds */
        return !gw->targets_resolved &&
               (gw->n_targets == 0 || !gw->scheduler_has_targets ||
                now >= gw->resolve_attempted_usec + gw->conf->poll_interval_usec);
}

bool govwatch_resolving(const struct govwatch *gw)
{
        return gw->resolver != NULL;
}

void govwatch_resolve_abort(struct govwatch *gw)
{
        gw->resolver = resolver_free(gw->resolver);
}

void govwatch_targets_free(struct govwatch *gw)
{
        targets_free(gw->targets, gw->n_targets);
        gw->targets = NULL;
        gw->n_targets = 0;
        gw->targets_resolved = false;
}

/* The resolver is done: its targets replace the old ones, and the scheduler watches them. */
static int resolved(struct govwatch *gw)
{
        struct watchlist_outcome o;
        struct target *targets;
        size_t n;
        const char *msg;
        int code, r;

        if (resolver_token_refused(gw->resolver, &code, &msg)) {
                metrics_vk_error(gw, code);
                govwatch_token_refused(gw, code, msg);
        }
        r = watchlist_targets(gw->conf, gw->resolver, &targets, &n, &o);
        gw->resolver = resolver_free(gw->resolver);
        if (r < 0)
                return r;
        govwatch_targets_free(gw);
        gw->targets = targets;
        gw->n_targets = n;
        gw->targets_resolved = !o.incomplete && !gw->token_invalid;
        gw->resolve_errors = o.errors;
        return gw->token_invalid ? -EACCES : scheduler_rebuild(gw);
}

static void on_resolved(struct resolver *res, void *userdata)
{
        struct govwatch *gw = userdata;
        int r = resolved(gw);

        if (gw->resolve_done)
                gw->resolve_done(gw, r, gw->resolve_userdata);
}

int govwatch_resolve(struct govwatch *gw, govwatch_done_fn done, void *userdata)
{
        int r;

        if (gw->resolver)
                return -EBUSY;
        gw->resolve_attempted_usec = now_realtime_usec();
        gw->resolve_done = done;
        gw->resolve_userdata = userdata;
        r = watchlist_resolver(gw->conf, gw->source, gw->store, !gw->dry_run, &gw->resolver);
        if (r < 0)
                return r;
        r = resolver_start(gw->resolver, on_resolved, gw);
        if (r < 0) {
                gw->resolver = resolver_free(gw->resolver);
                return r;
        }
        if (r == 0)
                return 0;
        r = resolved(gw); /* nothing to ask VK */
        return r < 0 ? r : 1;
}

/* ---- the parts ------------------------------------------------------------------------------ */

int govwatch_new(sd_event *event, struct govwatch_prepared *p, bool dry_run, struct govwatch **ret)
{
        struct govwatch *gw = calloc(1, sizeof(*gw));
        int r;

        if (!gw) {
                govwatch_prepared_done(p);
                return log_oom();
        }
        gw->event = sd_event_ref(event);
        gw->conf = TAKE_PTR(p->conf);
        gw->classifier = TAKE_PTR(p->classifier);
        /* the budget window before the watch list is known: `status` and the timer need it */
        gw->scheduler = TAKE_PTR(p->scheduler);
        gw->dry_run = dry_run;
        gw->dry_run_out = stdout;

        r = store_open(gw->conf->state_dir, &gw->store);
        if (r < 0) {
                log_error_errno(r, "Failed to open the store in %s: %m", gw->conf->state_dir);
                goto fail;
        }
        r = govwatch_scheduler_load(gw->scheduler, gw->store);
        if (r < 0)
                goto fail;
        r = http_new(event, &gw->http);
        if (r < 0) {
                log_error_errno(r, "Failed to set up HTTP: %m");
                goto fail;
        }
        r = outbox_new(gw, &gw->outbox);
        if (r < 0)
                goto fail;
        if (metrics_new(&gw->metrics) < 0)
                log_warning("Out of memory for the metrics' counters, ignoring: none are kept.");
        gw->sink_ctx = (struct sink_context){.event = event, .http = gw->http, .console = stdout};
        *ret = gw;
        return 0;
fail:
        govwatch_free(gw);
        return r;
}

struct govwatch *govwatch_free(struct govwatch *gw)
{
        if (!gw)
                return NULL;
        /* order: requests first (they point into a resolution), then what they point at; a sweep
         * is the daemon's to abort (daemon.c) before this */
        gw->source = source_free(gw->source);
        govwatch_resolve_abort(gw);
        govwatch_targets_free(gw);
        for (size_t i = 0; gw->sinks && gw->conf && i < gw->conf->n_sinks; i++)
                sink_free(gw->sinks[i]);
        free(gw->sinks);
        outbox_free(gw->outbox);
        metrics_free(gw->metrics);
        scheduler_free(gw->scheduler);
        http_free(gw->http);
        store_free(gw->store);
        classifier_free(gw->classifier);
        config_free(gw->conf);
        sd_event_unref(gw->event);
        free(gw);
        return NULL;
}
