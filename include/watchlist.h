/* watchlist.h — names to walls: the one resolver of watch-list entries and `resolve` arguments,
 * and the targets (the walls to poll) a resolved watch list makes.
 *
 * A community reference (config.h) names a wall by id, by screen name or by address. The
 * resolver turns a set of them into owner ids with their names, asking VK as little as it can:
 * the store's cache first (names resolved before, with their titles), then groups.getById for
 * screen names and group ids (VK_GETBYID_MAX a call), utils.resolveScreenName for the names that
 * are no community (they may be personal pages), and users.get for the personal pages still
 * without a name (VK_USERS_GET_MAX a call). What VK answers goes into the cache, but for a wall
 * that is gone: a reload or a restart asks again. Every call goes through the source's limiter.
 *
 * The resolver logs nothing: the daemon (watchlist_targets) and the `resolve` verb each tell the
 * outcome their way.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "route.h"

struct source;
struct store;
struct resolver;

enum name_state {
        NAME_PENDING,  /* not asked yet (only inside the resolver) */
        NAME_RESOLVED, /* owner_id known; title NULL when VK would not name it (why says) */
        NAME_GONE,     /* a deleted community, a deleted or banned page, no such group id */
        NAME_UNKNOWN,  /* VK knows no community or page of that name */
        NAME_LATER,    /* a transient error (or the token refused): ask again later */
};

struct resolved_name {
        char *key; /* what it is looked up and cached under: "sevadm", "100001", "id5000001" */
        enum community_ref_kind kind;
        int64_t owner_id;  /* 0 while unknown; a group id or user id is known from the start */
        char *screen_name; /* as VK spells it, when it said */
        char *title;       /* a community's title or a person's name */
        enum name_state state;
        char *why; /* GONE: "is deleted", "is banned", "does not exist"; UNKNOWN, LATER and a
                    * page VK did not name: a few words */
};

/* A wall to poll: known, and neither gone nor unknown (a group id is polled without its title
 * while VK cannot be asked). */
static inline bool resolved_name_pollable(const struct resolved_name *n)
{
        return n->owner_id != 0 && (n->state == NAME_RESOLVED || n->state == NAME_LATER);
}

struct resolver_options {
        bool read_cache;  /* answer from the store's cache what it knows */
        bool write_cache; /* keep what VK answered there */
};

typedef void (*resolver_done_fn)(struct resolver *r, void *userdata);

/* store may be NULL (no cache). */
int resolver_new(struct source *source, struct store *store, const struct resolver_options *o,
                 struct resolver **ret);
/* Frees r. Calls still in flight must have been dropped by the source first (source_free). */
struct resolver *resolver_free(struct resolver *r);
static inline void resolver_freep(struct resolver **r)
{
        *r = resolver_free(*r);
}

/* Adds ref to what start() resolves; the same name twice is asked once. */
int resolver_add(struct resolver *r, const struct community_ref *ref);
/* Answers from the cache, then asks VK. Returns 1 when nothing was left to ask (done is not
 * called), 0 when done() will be, once every answer is in; a negative errno on failure. */
int resolver_start(struct resolver *r, resolver_done_fn done, void *userdata);

/* What ref resolved to; NULL when it was not added. */
const struct resolved_name *resolver_get(const struct resolver *r, const struct community_ref *ref);
/* Every name, each once, sorted by key. */
const struct resolved_name *resolver_names(const struct resolver *r, size_t *ret_n);
/* VK refused the token (error 5) on one of the calls: its code and message. */
bool resolver_token_refused(const struct resolver *r, int *ret_code, const char **ret_msg);
/* A negative errno when the resolver itself failed (out of memory). */
int resolver_result(const struct resolver *r);

/* ---- the watch list's targets ------------------------------------------------------------ */

/* A watched wall after resolution, with the watch entries that name it. */
struct target {
        struct route_target route;
        char *name; /* community title or screen name, for humans */
        char *screen_name;
        unsigned backfill;          /* max over its watch entries */
        unsigned priority;          /* max over its watch entries, 1..SCHEDULER_PRIORITY_MAX */
        uint64_t max_interval_usec; /* min over its watch entries that set one; 0: none does */
};

/* A resolver holding every community of conf's watch list, not started. write_cache: keep what
 * VK answers in store (not in a dry run). */
int watchlist_resolver(const struct config *conf, struct source *source, struct store *store,
                       bool write_cache, struct resolver **ret);

struct watchlist_outcome {
        unsigned errors; /* names gone or unknown: not polled */
        bool incomplete; /* some names wait for a later resolution (a transient error) */
};

/* The targets conf's watch list makes with what res found, one per wall, in the order of the
 * watch list. Says at each entry's FILE:LINE:COL why a wall is not polled (gone, unknown), and
 * once what waits for later. */
int watchlist_targets(const struct config *conf, const struct resolver *res, struct target **ret,
                      size_t *ret_n, struct watchlist_outcome *ret_outcome);
void targets_free(struct target *targets, size_t n);
