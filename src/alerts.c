/* alerts.c — alerts about the daemon itself: counting consecutive failures per subject (a wall,
 * the token, a sink) and queueing one notification to the `alerts:` sinks when a run of failures
 * reaches its threshold, and one more when it ends.
 *
 * The decision (alert_step) and the text (alert_format) are pure; the rest keeps the counters in
 * the store and queues through the outbox, so an alert is as durable as any notification. Must
 * never alert twice for one run of failures, nor queue an alert to the sink it is about.
 */
#include <inttypes.h>
#include <stdio.h>

#include "alerts.h"
#include "govwatch.h"
#include "log.h"
#include "sweep.h"
#include "tz_cache.h"

unsigned alert_threshold(const struct config *conf, enum alert_kind kind)
{
        switch (kind) {
        case ALERT_COMMUNITY:
                return conf && conf->alert_after.community ? conf->alert_after.community : 3;
        case ALERT_TOKEN:
                return 1;
        case ALERT_SINK:
                return conf && conf->alert_after.sink ? conf->alert_after.sink : 5;
        default:
                return 3;
        }
}

enum alert_action alert_step(struct alert_counter *c, bool ok, unsigned threshold, int64_t now)
{
        if (threshold == 0)
                threshold = 1;
        if (ok) {
                bool was_alerted = c->alerted;
                *c = (struct alert_counter){0};
                return was_alerted ? ALERT_RECOVER : ALERT_NONE;
        }
        if (c->failures == 0)
                c->since = now;
        if (c->failures < UINT32_MAX)
                c->failures++;
        if (!c->alerted && c->failures >= threshold) {
                c->alerted = true;
                return ALERT_RAISE;
        }
        return ALERT_NONE;
}

int alert_format(enum alert_kind kind, const char *name, enum alert_action action,
                 unsigned failures, const char *detail, char **ret)
{
        const char *d = detail && *detail ? detail : "ошибка";
        const char *n = name ? name : "?";
        bool raise = action == ALERT_RAISE;
        char *s = NULL;
        int k;

        if (action == ALERT_NONE)
                return -EINVAL;
        switch (kind) {
        case ALERT_COMMUNITY:
                k = raise ? asprintf(&s, "govwatch: не читается стена «%s»: %s (неудач подряд: %u)",
                                     n, d, failures)
                          : asprintf(&s, "govwatch: стена «%s» снова читается", n);
                break;
        case ALERT_TOKEN:
                k = raise ? asprintf(&s,
                                     "govwatch: VK отверг токен: %s. Опрос остановлен, нужен "
                                     "действующий токен.",
                                     d)
                          : asprintf(&s, "govwatch: токен VK снова принят, опрос идёт");
                break;
        case ALERT_SINK:
                k = raise ? asprintf(&s,
                                     "govwatch: канал «%s» не принимает уведомления: %s (неудач "
                                     "подряд: %u; "
                                     "уведомления ждут в очереди)",
                                     n, d, failures)
                          : asprintf(&s, "govwatch: канал «%s» снова работает", n);
                break;
        default:
                return -EINVAL;
        }
        if (k < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int alert_subject(enum alert_kind kind, int64_t owner_id, const char *sink, char **ret)
{
        int k;
        switch (kind) {
        case ALERT_COMMUNITY:
                k = asprintf(ret, "community:%" PRId64, owner_id);
                break;
        case ALERT_TOKEN:
                *ret = strdup("token");
                k = *ret ? 0 : -1;
                break;
        case ALERT_SINK:
                k = asprintf(ret, "sink:%s", sink ? sink : "");
                break;
        default:
                return -EINVAL;
        }
        return k < 0 ? -ENOMEM : 0;
}

/* The alert sinks, minus the one the alert is about (it would wait behind its own failure). */
static char **recipients(const struct govwatch *gw, const char *exclude)
{
        size_t n = strv_length(gw->conf->alerts), k = 0;
        char **l = calloc(n + 1, sizeof(char *));
        if (!l)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!streq_ptr(gw->conf->alerts[i], exclude))
                        l[k++] = gw->conf->alerts[i]; /* borrowed */
        return l;
}

/* The alert's notification, queued to its recipients (to) in the caller's transaction. */
static int queue_alert(struct govwatch *gw, enum alert_kind kind, int64_t owner_id,
                       enum alert_action action, char *text, char **to, int64_t now)
{
        _cleanup_free_ char *url = NULL;
        char *no_categories[] = {NULL};

        if (kind == ALERT_COMMUNITY &&
            asprintf(&url, "https://vk.com/%s%" PRId64, owner_id < 0 ? "club" : "id",
                     owner_id < 0 ? -owner_id : owner_id) < 0)
                url = NULL;
        struct notification n = {
                .kind = (char *)"alert",
                .owner_id = kind == ALERT_COMMUNITY ? owner_id : 0,
                .community = (char *)"govwatch",
                .topic = (char *)(action == ALERT_RAISE ? "Сбой govwatch"
                                                        : "govwatch: восстановлено"),
                .url = url ? url : (char *)"",
                .text = text,
                .categories = no_categories,
                .date = now,
                .created = now,
        };
        if (tz_utc_offset(gw->conf->timezone, now, &n.date_utc_offset) < 0)
                n.date_utc_offset = 0;
        return store_outbox_add(gw->store, &n, to, now);
}

static int record(struct govwatch *gw, enum alert_kind kind, int64_t owner_id, const char *name,
                  bool ok, const char *detail)
{
        _cleanup_free_ char *subject = NULL, *text = NULL;
        _cleanup_free_ char **to = NULL;
        struct alert_row row = {0};
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        bool own_tx = false;
        int r;

        if (!gw->store || gw->dry_run)
                return 0;
        r = alert_subject(kind, owner_id, name, &subject);
        if (r < 0)
                return r;
        r = store_alert_get(gw->store, subject, &row);
        if (r < 0 && r != -ENOENT)
                return r;
        if (ok && row.failures == 0 && !row.alerted) {
                free(row.last_error);
                return 0; /* healthy and still healthy: nothing to write */
        }
        struct alert_counter c = {
                .failures = row.failures, .alerted = row.alerted, .since = row.since};
        enum alert_action action = alert_step(&c, ok, alert_threshold(gw->conf, kind), now);
        if (!ok) {
                free(row.last_error);
                row.last_error = detail ? strdup(detail) : NULL;
        } else {
                free(row.last_error);
                row.last_error = NULL;
        }
        row.failures = c.failures;
        row.alerted = c.alerted;
        row.since = c.since;

        if (action != ALERT_NONE) {
                r = alert_format(kind, name, action, c.failures, detail, &text);
                if (r < 0)
                        goto out;
                if (action == ALERT_RAISE)
                        log_warning("Alert: %s", text);
                else
                        log_notice("Alert: %s", text);
                to = recipients(gw, kind == ALERT_SINK && action == ALERT_RAISE ? name : NULL);
                if (!to) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        if (!store_in_transaction(gw->store)) {
                r = store_begin(gw->store);
                if (r < 0)
                        goto out;
                own_tx = true;
        }
        r = store_alert_put(gw->store, subject, &row);
        if (r >= 0 && to && to[0])
                r = queue_alert(gw, kind, owner_id, action, text, to, now);
        if (own_tx) {
                if (r >= 0)
                        r = store_commit(gw->store);
                if (r < 0)
                        store_rollback(gw->store);
        }
        if (r >= 0)
                r = to && to[0] ? 1 : 0;
out:
        if (r < 0)
                log_warning_errno(r, "Failed to record the state of %s for alerts, ignoring: %s",
                                  subject, store_errmsg(gw->store));
        free(row.last_error);
        return r;
}

int alerts_community_result(struct govwatch *gw, int64_t owner_id, const char *name, bool ok,
                            int code, const char *msg)
{
        char detail[256], label[64];
        if (!name) {
                snprintf(label, sizeof(label), "%" PRId64, owner_id);
                name = label;
        }
        snprintf(detail, sizeof(detail), "VK error %d: %s", code, strempty(msg));
        return record(gw, ALERT_COMMUNITY, owner_id, name, ok, ok ? NULL : detail);
}

int alerts_token_result(struct govwatch *gw, bool ok, int code, const char *msg)
{
        char detail[256];
        snprintf(detail, sizeof(detail), "VK error %d: %s", code, strempty(msg));
        return record(gw, ALERT_TOKEN, 0, NULL, ok, ok ? NULL : detail);
}

int alerts_sink_result(struct govwatch *gw, const char *sink, bool ok, const char *detail)
{
        return record(gw, ALERT_SINK, 0, sink, ok, ok ? NULL : (detail ? detail : "ошибка"));
}

void alerts_after_sweep(struct govwatch *gw, const struct sweep_outcome *o)
{
        if (!gw->store || gw->dry_run)
                return;
        for (size_t i = 0; i < o->n_walls; i++) {
                const struct sweep_wall *w = &o->walls[i];
                if (w->result != SWEEP_WALL_NOT_POLLED)
                        (void)alerts_community_result(gw, w->owner_id, w->name,
                                                      w->result == SWEEP_WALL_READ, w->error_code,
                                                      w->error_msg);
        }
}
