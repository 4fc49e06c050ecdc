/* route.h — (community, categories) -> the sinks that should hear about a post.
 *
 * Pure. A community named by several watch entries gets the union of their sinks; each sink at
 * most once. Quiet hours and digests act later, in the outbox, so a deferred notification is
 * still durable.
 */
#pragma once

#include "config.h"

/* The watch entries that name one resolved community. */
struct route_target {
        int64_t owner_id;
        size_t *watch;            /* indices into config.watch */
        size_t n_watch;
};

/* Fills ret_sinks (NULL-terminated, names borrowed from conf) and the topic of the first
 * matching entry. Returns the number of sinks (0: nobody wants this post). */
int route_post(const struct config *conf, const struct route_target *t, uint64_t categories,
               const char ***ret_sinks, const char **ret_topic);
