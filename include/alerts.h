/* alerts.h — alerts about the daemon itself: a community that keeps failing, a refused token, a
 * sink that keeps refusing. After N consecutive failures of one subject the sinks named in the
 * config's `alerts:` get one notification, and one more when the subject recovers.
 *
 * The decision is a pure function of a counter (alert_step), tested without I/O; the counters
 * live in the store (table alerts) so a restart neither forgets a failing run nor alerts twice.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct govwatch;

enum alert_kind {
        ALERT_COMMUNITY, /* one wall: VK errors 15/18/30/203/100/104/113 ... sweep after sweep */
        ALERT_TOKEN,     /* error 5: nothing can be polled */
        ALERT_SINK,      /* sends to one sink fail (try later or rejected) */
        _ALERT_KIND_MAX,
};

enum alert_action {
        ALERT_NONE,
        ALERT_RAISE,   /* the threshold was just reached: tell the admin */
        ALERT_RECOVER, /* it works again after an alert: tell the admin too */
};

struct alert_counter {
        unsigned failures; /* consecutive, saturating */
        bool alerted;      /* an ALERT_RAISE went out and no ALERT_RECOVER since */
        int64_t since;     /* unix time of the first failure of this run; 0 when healthy */
};

struct config;

/* Consecutive failures before an alert: the token at once (error 5 stops all polling); a wall and
 * a sink after the config's alert_after (by default 3 sweeps and 5 sends in a row; conf NULL: the
 * defaults). */
unsigned alert_threshold(const struct config *conf, enum alert_kind kind);

/* Feeds one result to the counter and says what to tell. Pure. A failure below the threshold, a
 * failure after the alert went out and a success without an alert all give ALERT_NONE. */
enum alert_action alert_step(struct alert_counter *c, bool ok, unsigned threshold, int64_t now);

/* The alert's text, e.g. "Стена «Администрация» (-100001) недоступна: VK error 15: …
 * (3 раза подряд)". Pure; caller frees *ret. detail may be NULL. */
int alert_format(enum alert_kind kind, const char *name, enum alert_action action,
                 unsigned failures, const char *detail, char **ret);

/* The store key of a subject: "token", "community:-123", "sink:NAME". Caller frees *ret. */
int alert_subject(enum alert_kind kind, int64_t owner_id, const char *sink, char **ret);

/* Results to feed the counters with (the shell: store + outbox). Each returns 1 when an alert
 * was queued, 0 when not, negative on a store failure. Nothing is recorded in a dry run. */
int alerts_community_result(struct govwatch *gw, int64_t owner_id, const char *name, bool ok,
                            int code, const char *msg);
int alerts_token_result(struct govwatch *gw, bool ok, int code, const char *msg);
int alerts_sink_result(struct govwatch *gw, const char *sink, bool ok, const char *detail);

/* Feeds the community counters with what a sweep found of each wall it polled (a wall it did
 * not get to is no evidence either way). Lets daemon.c drive them without hooks inside sweep.c. */
struct sweep_outcome;
void alerts_after_sweep(struct govwatch *gw, const struct sweep_outcome *o);
