/* notification.h — what a sink receives: one post (or reminder, test, alert) for one reader.
 *
 * Built by the router from a post and stored in the outbox; rendered by each sink in its own way.
 * All text is UTF-8 from VK and untrusted.
 */
#pragma once

#include <stdint.h>

#include "util.h"

struct notification {
        int64_t id; /* outbox notification id; 0 before it is stored */
        char *kind; /* "post", "reminder", "test", "alert" */
        int64_t owner_id;
        int64_t post_id;
        char *community;   /* the community's name (or screen name, or id) */
        char *topic;       /* the watch entry's topic */
        char *url;         /* https://vk.com/wall<owner>_<id> */
        char *text;        /* the post's text (the reposted text for a repost) */
        char **categories; /* NULL-terminated category names */
        int64_t date;      /* post date, unix time */
        int64_t starts_at; /* planned broadcast start, 0 if none */
        int32_t starts_at_utc_offset;
        int64_t created; /* when it was queued, unix time */
};

struct notification *notification_free(struct notification *n);
static inline void notification_freep(struct notification **n)
{
        *n = notification_free(*n);
}
#define _cleanup_notification_free_ _cleanup_(notification_freep)

/* The notification as one JSON object (exec stdin, webhook body, --dry-run lines use parts). */
char *notification_to_json(const struct notification *n);

/* "2026-11-28T18:00:00+03:00" into buf (at least 32 bytes); "" when t is 0. */
void format_iso8601(int64_t t, int32_t utc_offset, char *buf, size_t size);
