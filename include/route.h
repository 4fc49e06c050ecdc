/* route.h — (community, categories) -> the sinks that should hear about a post.
 *
 * Pure. A community named by several watch entries gets the union of the sinks of those that want
 * the post's categories (a post with none: those with `uncategorized: true`); each sink at most
 * once. Nothing here defers: quiet hours are applied by the outbox (outbox.c, with the helpers
 * below) and digests by the email sink, which answers SINK_HELD until its window ends; either
 * way the notification waits in the durable outbox.
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

/* Fills ret_sinks (a NULL-terminated array the caller frees, of names borrowed from conf) and
 * the topic of the first entry that wants the post (NULL when none does). Returns the number of
 * sinks (0: nobody wants this post), or -ENOMEM. */
int route_post(const struct config *conf, const struct route_target *t, uint64_t categories,
               const char ***ret_sinks, const char **ret_topic);

/* Quiet hours are minutes of the day [start, end), wrapping midnight when start > end
 * ("23:00-07:00"). start == end or either < 0 means no quiet hours. */
bool quiet_hours_contains(int start_min, int end_min, int minute_of_day);
/* Seconds from second_of_day until the window that contains it ends; 0 when outside. */
int64_t quiet_hours_remaining(int start_min, int end_min, int64_t second_of_day);
/* Whether a notification with these categories passes through quiet hours: an emergency does,
 * unless the sink says `quiet_emergency: true`. */
bool quiet_hours_bypass(const struct sink_conf *sink, char *const *categories);
