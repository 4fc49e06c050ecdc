/* govwatch.c — building and tearing down the daemon's parts from one config snapshot. */
#include "govwatch.h"
#include "log.h"

static int classifier_from_config(const struct config *conf, struct classifier **ret)
{
        struct classify_options opts = {
                .rules_file = conf->classifier.rules_file,
                .timezone = conf->timezone,
                .user = conf->classifier.user,
                .n_user = conf->classifier.n_user,
        };
        _cleanup_free_ char *error = NULL;
        int r = classifier_new(&opts, ret, &error);
        if (r < 0)
                return log_error_errno(r, "Failed to load classification rules: %s",
                                       error ? error : strerror(-r));
        return 0;
}

int govwatch_create_sinks(struct govwatch *gw)
{
        gw->sinks = calloc(gw->conf->n_sinks + 1, sizeof(struct sink *));
        if (!gw->sinks)
                return log_oom();
        for (size_t i = 0; i < gw->conf->n_sinks; i++) {
                int r = sink_create(&gw->conf->sinks[i], &gw->sink_ctx, &gw->sinks[i]);
                if (r == -EOPNOTSUPP)
                        log_warning("Sink '%s' has type '%s', which this build cannot send to "
                                    "yet; its notifications stay queued.",
                                    gw->conf->sinks[i].name, gw->conf->sinks[i].type);
                else if (r < 0)
                        return log_error_errno(r, "Failed to set up sink '%s': %m",
                                               gw->conf->sinks[i].name);
        }
        return 0;
}

int govwatch_new(sd_event *event, struct config *conf, bool dry_run, struct govwatch **ret)
{
        struct govwatch *gw = calloc(1, sizeof(*gw));
        int r;

        if (!gw)
                return log_oom();
        gw->event = sd_event_ref(event);
        gw->conf = conf;
        gw->dry_run = dry_run;
        gw->dry_run_out = stdout;

        r = classifier_from_config(conf, &gw->classifier);
        if (r < 0)
                goto fail;
        r = store_open(conf->state_dir, &gw->store);
        if (r < 0) {
                log_error_errno(r, "Failed to open the store in %s: %m", conf->state_dir);
                goto fail;
        }
        r = http_new(event, &gw->http);
        if (r < 0) {
                log_error_errno(r, "Failed to set up HTTP: %m");
                goto fail;
        }
        r = outbox_new(gw, &gw->outbox);
        if (r < 0)
                goto fail;
        gw->sink_ctx = (struct sink_context){.event = event, .http = gw->http, .console = stdout};
        *ret = gw;
        return 0;
fail:
        gw->conf = NULL; /* the caller still owns conf on failure */
        govwatch_free(gw);
        return r;
}

struct govwatch *govwatch_free(struct govwatch *gw)
{
        if (!gw)
                return NULL;
        /* order: requests first (they point at sweep batches), then the sweep, then sinks */
        gw->source = source_free(gw->source);
        sweep_abort(gw);
        targets_free(gw);
        for (size_t i = 0; gw->sinks && gw->conf && i < gw->conf->n_sinks; i++)
                sink_free(gw->sinks[i]);
        free(gw->sinks);
        outbox_free(gw->outbox);
        http_free(gw->http);
        store_free(gw->store);
        classifier_free(gw->classifier);
        config_free(gw->conf);
        sd_event_unref(gw->event);
        free(gw);
        return NULL;
}
