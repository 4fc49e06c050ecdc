/* store.h — durable state in one SQLite file: communities, seen posts, the outbox, quota.
 *
 * The promise "nothing lost" lives here: a new post is recorded as seen in the same transaction
 * that queues its notifications, and a notification leaves the outbox only when its sink
 * accepted it. WAL mode lets `status` read while the daemon writes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "notification.h"

#define STORE_SCHEMA_VERSION 6
#define STORE_FILENAME       "govwatch.db"

struct store;

/* Opens (creating dir and file when needed) and migrates to STORE_SCHEMA_VERSION. */
int store_open(const char *dir, struct store **ret);
/* Read-only, for `status`: never creates or migrates. */
int store_open_readonly(const char *dir, struct store **ret);
struct store *store_free(struct store *s);
static inline void store_freep(struct store **s)
{
        *s = store_free(*s);
}
#define _cleanup_store_free_ _cleanup_(store_freep)

const char *store_errmsg(struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

struct community_state {
        int64_t owner_id;
        char *name;
        char *screen_name;
        int64_t first_seen; /* unix time of first sight; 0 when never polled */
        int64_t last_poll;
        int64_t last_post_id; /* highest post id ever seen on this wall */
        int64_t last_post_date;
        int error_code; /* last VK error for this wall, 0 if none */
        char *error_msg;
};
void community_state_done(struct community_state *c);

/* 0 and fills ret when known, -ENOENT when never seen. */
int store_community_get(struct store *s, int64_t owner_id, struct community_state *ret);
/* Inserts or updates the whole row. */
int store_community_put(struct store *s, const struct community_state *c);
/* Records a per-community error (or clears it with code 0) without touching the rest. */
int store_community_set_error(struct store *s, int64_t owner_id, const char *name, int code,
                              const char *msg, int64_t now);

/* Seen posts. store_post_get gives -ENOENT when unseen, else the stored categories mask. */
int store_post_get(struct store *s, int64_t owner_id, int64_t id, uint64_t *ret_categories,
                   int64_t *ret_edited);
int store_post_put(struct store *s, int64_t owner_id, int64_t id, int64_t date, int64_t edited,
                   uint64_t categories, int64_t now);

/* Queues n for every sink in sinks (NULL-terminated) and sets n->id. Caller holds a
 * transaction when this must be atomic with store_post_put. */
int store_outbox_add(struct store *s, struct notification *n, char *const *sinks,
                     int64_t next_attempt);

struct outbox_entry {
        struct notification *notification;
        char *sink;
        unsigned attempts;
        int64_t next_attempt;
        char *last_error;
};
void outbox_entry_done(struct outbox_entry *e);

/* Pending rows due at or before now, oldest first, at most max. */
int store_outbox_due(struct store *s, int64_t now, size_t max, struct outbox_entry **ret,
                     size_t *ret_n);
int store_outbox_delivered(struct store *s, int64_t notification_id, const char *sink, int64_t now);
int store_outbox_retry(struct store *s, int64_t notification_id, const char *sink,
                       int64_t next_attempt, const char *error);
/* Postpones a row without counting an attempt (quiet hours, digests). */
int store_outbox_defer(struct store *s, int64_t notification_id, const char *sink,
                       int64_t next_attempt, const char *reason);
int store_outbox_dead(struct store *s, int64_t notification_id, const char *sink,
                      const char *error);
/* Counts of pending and dead rows. */
int store_outbox_counts(struct store *s, unsigned *ret_pending, unsigned *ret_dead);
/* Earliest next_attempt of a pending row; -ENOENT when none. */
int store_outbox_next_due(struct store *s, int64_t *ret);

/* The resolver's cache (watchlist.c): a name as the watch list writes it (a screen name, a group
 * id, id<N>) -> owner_id, title and screen name as VK spells it (the last two may be NULL).
 * ret_title and ret_screen_name may be NULL. */
int store_resolved_get(struct store *s, const char *name, int64_t *ret_owner_id, char **ret_title,
                       char **ret_screen_name);
int store_resolved_put(struct store *s, const char *name, int64_t owner_id, const char *title,
                       const char *screen_name, int64_t now);

/* A small key/value table for counters that must survive restarts (quota, buckets). */
int store_kv_get_int(struct store *s, const char *key, int64_t *ret);
int store_kv_put_int(struct store *s, const char *key, int64_t value);

/* ---- delivery: per-sink queues, history, dead letters, alerts (outbox.c, alerts.c, status) ----
 */

/* Like store_outbox_due, for one sink only (the per-sink concurrency limit picks from these). */
int store_outbox_due_for_sink(struct store *s, const char *sink, int64_t now, size_t max,
                              struct outbox_entry **ret, size_t *ret_n);
/* Names of the sinks that have pending rows due at or before now (NULL-terminated strv). */
int store_outbox_due_sinks(struct store *s, int64_t now, char ***ret);
/* Postpones every due pending row of sink without counting an attempt (a sink the config no
 * longer has). Returns the number of rows. */
int store_outbox_defer_sink(struct store *s, const char *sink, int64_t now, int64_t next_attempt,
                            const char *reason);
/* Deletes delivered rows older than before, then notifications left with no row and created
 * before it. Dead letters stay. Returns the number of outbox rows deleted. */
int store_outbox_prune(struct store *s, int64_t before);
/* Counts per state for one sink (status). */
int store_outbox_sink_counts(struct store *s, const char *sink, unsigned *ret_pending,
                             unsigned *ret_delivered, unsigned *ret_dead);

struct dead_letter {
        int64_t notification_id;
        char *url;
        char *community;
        char *sink;
        unsigned attempts;
        int64_t created;
        char *last_error;
};
void dead_letters_free(struct dead_letter *l, size_t n);
/* The newest max dead letters, newest first. */
int store_dead_letters(struct store *s, size_t max, struct dead_letter **ret, size_t *ret_n);

/* Consecutive-failure counters of the daemon's own alerts, by subject ("token",
 * "community:-123", "sink:mail"). */
struct alert_row {
        unsigned failures;
        bool alerted;
        int64_t since; /* unix time of the first failure of the current run, 0 when healthy */
        char *last_error;
};
/* 0 and fills ret; -ENOENT when the subject has no row (healthy, never failed). */
int store_alert_get(struct store *s, const char *subject, struct alert_row *ret);
int store_alert_put(struct store *s, const char *subject, const struct alert_row *a);
/* Subjects currently alerted (status). NULL-terminated strv. */
int store_alerts_active(struct store *s, char ***ret);
/* True while a transaction opened by store_begin() is open. */
bool store_in_transaction(struct store *s);

/* Text values that must survive restarts (what the scheduler learned, budget.h's window): 0 and
 * a string the caller frees, or -ENOENT. */
int store_kv_get_text(struct store *s, const char *key, char **ret);
int store_kv_put_text(struct store *s, const char *key, const char *value);

/* Pending reminders of a community's upcoming broadcasts (notifications of kind "reminder" with
 * starts_at after now): moved to a new start and reminder time, or, with starts_at 0, dropped.
 * Returns how many were changed. */
int store_reminders_move(struct store *s, int64_t owner_id, int64_t now, int64_t starts_at,
                         int32_t starts_at_utc_offset, int64_t remind_at);
