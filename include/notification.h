/* notification.h — what a sink receives: one post (or reminder, test, alert) for one reader.
 *
 * Built by the router from a post and stored in the outbox; rendered by each sink in its own way.
 * All text is UTF-8 from VK and untrusted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct notification {
        int64_t id; /* outbox notification id; 0 before it is stored */
        char *kind; /* "post", "reminder", "test", "alert" */
        int64_t owner_id;
        int64_t post_id;
        char *community;         /* the community's name (or screen name, or id) */
        char *topic;             /* the watch entry's topic */
        char *url;               /* https://vk.com/wall<owner>_<id> */
        char *text;              /* the post's text (the reposted text for a repost) */
        char **categories;       /* NULL-terminated category names */
        int64_t date;            /* post date, unix time */
        int32_t date_utc_offset; /* seconds east of UTC in the configured zone at date */
        int64_t starts_at;       /* planned broadcast start, 0 if none */
        int32_t starts_at_utc_offset;
        int64_t created; /* when it was queued, unix time */
        char *watch_url; /* where the broadcast is watched (the live video, else the
                          * community's videos), for live posts and their reminders; NULL
                          * otherwise or in rows written before it existed */
        bool silent;     /* not stored: the outbox asks the sink to deliver it without a sound (its
                          * quiet hours, with quiet_mode: silent); only sinks whose sink_ops say
                          * can_silence are asked */
};

/* A button a sink that can show actions offers (desktop, ntfy, Telegram; e-mail as a link). */
struct notification_action {
        const char *key; /* "ask", "watch", "open": stable, for a medium's action ids */
        const char *label; /* Russian, short: "Задать вопрос", "Смотреть", "Открыть" */
        const char *url; /* borrowed from the notification */
};
#define NOTIFICATION_ACTIONS_MAX 2

/* The actions for n, most useful first, into out; returns how many (0 when n has no URL).
 * Residents send their questions before a broadcast: an announcement of a live broadcast
 * (category "live", kind "post") offers "Задать вопрос", opening the announcement, whose
 * comments take the questions, then "Смотреть" when it knows where the broadcast will be; the
 * reminder before the start offers "Смотреть" first; anything else "Открыть" the post. */
size_t notification_actions(const struct notification *n,
                            struct notification_action out[static NOTIFICATION_ACTIONS_MAX]);

struct notification *notification_free(struct notification *n);
static inline void notification_freep(struct notification **n)
{
        *n = notification_free(*n);
}
#define _cleanup_notification_free_ _cleanup_(notification_freep)

/* The notification as one JSON object (exec stdin, webhook body, --dry-run lines use parts). */
char *notification_to_json(const struct notification *n);
/* The same with "title" and "body" as a sink rendered them (exec stdin, webhook body). */
char *notification_to_json_rendered(const struct notification *n, const char *title,
                                    const char *body);

/* The journal fields of a notification, "KEY=value" (GOVWATCH_KIND, GOVWATCH_COMMUNITY,
 * GOVWATCH_OWNER_ID, GOVWATCH_POST (its URL), GOVWATCH_POST_ID, GOVWATCH_CATEGORIES,
 * GOVWATCH_TOPIC), NULL-terminated; strv_free() it. And the priority its entry deserves: an
 * emergency is a warning, anything else level. NULL on OOM. */
char **notification_journal_fields(const struct notification *n);
int notification_priority(const struct notification *n, int level);

/* "2026-11-28T18:00:00+03:00" into buf (at least 32 bytes); "" when t is 0. */
void format_iso8601(int64_t t, int32_t utc_offset, char *buf, size_t size);
