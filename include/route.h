/* route.h — (community, categories) -> the sinks that should hear about a post.
 *
 * Pure. A community named by several watch entries gets the union of their sinks; each sink at
 * most once. Quiet hours and digests act later, in the outbox, so a deferred notification is
 * still durable.
 */
#pragma once

#include <stdbool.h>

#include "config.h"

/* The watch entries that name one resolved community. */
struct route_target {
        int64_t owner_id;
        size_t *watch; /* indices into config.watch */
        size_t n_watch;
};

/* Fills ret_sinks (NULL-terminated, names borrowed from conf) and the topic of the first
 * matching entry. Returns the number of sinks (0: nobody wants this post). */
int route_post(const struct config *conf, const struct route_target *t, uint64_t categories,
               const char ***ret_sinks, const char **ret_topic);

/* Quiet hours are minutes of the day [start, end), wrapping midnight when start > end
 * ("23:00-07:00"). start == end or start < 0 means no quiet hours. */
bool quiet_hours_contains(int start_min, int end_min, int minute_of_day);
/* Seconds from second_of_day until the window that contains it ends; 0 when outside. */
int64_t quiet_hours_remaining(int start_min, int end_min, int64_t second_of_day);
/* Whether a notification with these categories passes through quiet hours. */
bool quiet_hours_bypass(const struct sink_conf *sink, char *const *categories);
