/* sweep.c — one pass over the watch list: resolve names, fetch walls, find new posts, queue.
 *
 * Owns the per-sweep state (jobs, pages collected per community). Writes to the store only in
 * one transaction per community: its new posts recorded as seen together with their outbox rows,
 * so a crash between the two can't happen. Never sends anything itself: the outbox does.
 *
 * "New" is decided by post id: VK numbers the posts of a wall in increasing order, so a post is
 * new when its id is above the highest id seen before. That keeps an old post that was pinned,
 * a deleted one, or an edited one from ever looking new.
 *
 * Which walls a sweep polls is the scheduler's choice (daemon.c asks it); the sweep tells it what
 * went out (scheduler_record_poll when a batch is sent, record_extra for paging) and what came
 * back (scheduler_observe with the new posts' dates), and never sends a wall.get the daily budget
 * has no room for: error 29 is VK's verdict, never our doing.
 *
 * An answer comes in as it was read (source.c, a step at a time), and its walls are handled one
 * an event-loop iteration (process_wall): what one iteration costs is one wall's new posts
 * classified and stored, not a batch's 25.
 *
 * A stop abandons a sweep in progress. The walls whose poll had gone out count as polled for the
 * scheduler, yet nothing of their answer was recorded: sweep_abort notes them in the store, and
 * the first sweep of the next start polls them whether due or not (take_interrupted).
 */
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>

#include "govwatch.h"
#include "log.h"
#include "tz_cache.h"
#include "vk.h"

#define SWEEP_MAX_PAGES     5 /* a burst of more than 5 pages in one interval is a flood */
#define SWEEP_MAX_ATTEMPTS  4 /* per batch, for transient errors */
#define SWEEP_MAX_IN_FLIGHT 2 /* execute requests at once; the limiter paces them anyway */
#define INTERRUPTED_KEY     "sweep.interrupted" /* kv_text: "walls" then " <owner_id>"... */
#define INTERRUPTED_NONE    "walls"

struct job {
        size_t target;
        unsigned offset;
        bool counted; /* a paging call already counted by scheduler_record_extra */
};

struct batch {
        struct batch *next, *prev; /* the sweep's live batches, so an abort can free them */
        struct sweep *sweep;
        struct job jobs[VK_EXECUTE_MAX_CALLS];
        size_t n_jobs;
        unsigned attempts;
        sd_event_source *retry_timer;
        /* the answer, read while it is parsed (on_wall_json): posts, not JSON trees */
        struct wall *walls[VK_EXECUTE_MAX_CALLS];
        int wall_result[VK_EXECUTE_MAX_CALLS];
        const char *wall_reason[VK_EXECUTE_MAX_CALLS];
        /* then what each call answered, and the walls handled one an iteration */
        int call_error[VK_EXECUTE_MAX_CALLS];
        char *call_msg[VK_EXECUTE_MAX_CALLS];
        size_t next_wall;
        sd_event_source *processing;
};

struct sweep {
        struct govwatch *gw;
        sweep_done_fn done;
        void *userdata;
        struct batch *batches;
        struct resolve_call *resolve_calls; /* in flight, so an abort can free them */
        struct job *queue;
        size_t n_queue, queue_start, queue_allocated;
        unsigned in_flight;  /* requests outstanding (resolve or wall batches) */
        unsigned retrying;   /* batches waiting on a retry timer */
        unsigned processing; /* batches whose walls are being handled (on_processing) */
        bool quota_exhausted;
        bool polling;            /* the resolve phase is over */
        bool resolving;          /* this sweep (re)resolves the watch list */
        bool resolve_incomplete; /* a transient error kept some names unresolved */
        bool users_asked;        /* users.get went out for the unnamed personal pages */
        bool poll_all;           /* no list given: every watched wall (`once`) */
        int64_t *owner_ids;      /* else these */
        size_t n_owner_ids;
        unsigned over_budget; /* walls skipped: the daily budget had no room */
        unsigned polled;      /* walls whose first page went out */
        unsigned new_posts;
        unsigned errors;
        int result;
        sd_event_source *defer;
};

static void sweep_finish(struct sweep *sw);
static void dispatch(struct sweep *sw);

/* ---- pure helpers ------------------------------------------------------------------------ */

void sweep_mark_new(struct post *const *posts, size_t n, int64_t last_post_id, bool *ret_new)
{
        for (size_t i = 0; i < n; i++)
                ret_new[i] = posts[i]->id > last_post_id;
}

static void token_refused(struct govwatch *gw, const struct vk_result *res)
{
        if (!gw->token_invalid)
                log_error("The VK token was refused (error %d: %s). Polling stops; put a valid "
                          "token in place.",
                          res->error_code, strempty(res->error_msg));
        gw->token_invalid = true;
        gw->fatal = -EACCES;
}

/* ---- targets ----------------------------------------------------------------------------- */

static void target_done(struct target *t)
{
        free(t->route.watch);
        free(t->name);
        free(t->screen_name);
        for (size_t j = 0; j < t->n_collected; j++)
                post_free(t->collected[j]);
        free(t->collected);
}

void targets_free(struct govwatch *gw)
{
        for (size_t i = 0; i < gw->n_targets; i++)
                target_done(&gw->targets[i]);
        free(gw->targets);
        gw->targets = NULL;
        gw->n_targets = 0;
        gw->targets_resolved = false;
}

static int target_add(struct govwatch *gw, int64_t owner_id, size_t watch_idx, const char *name,
                      const char *screen_name)
{
        struct target *t = NULL;
        for (size_t i = 0; i < gw->n_targets; i++)
                if (gw->targets[i].route.owner_id == owner_id)
                        t = &gw->targets[i];
        if (!t) {
                struct target *n = realloc(gw->targets, (gw->n_targets + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                gw->targets = n;
                t = &gw->targets[gw->n_targets++];
                *t = (struct target){.route.owner_id = owner_id};
        }
        if (!t->name && name && name[0] && !(t->name = strdup(name)))
                return -ENOMEM;
        if (!t->screen_name && screen_name && !(t->screen_name = strdup(screen_name)))
                return -ENOMEM;
        for (size_t i = 0; i < t->route.n_watch; i++)
                if (t->route.watch[i] == watch_idx)
                        return 0;
        size_t *w = realloc(t->route.watch, (t->route.n_watch + 1) * sizeof(size_t));
        if (!w)
                return -ENOMEM;
        t->route.watch = w;
        t->route.watch[t->route.n_watch++] = watch_idx;
        if (gw->conf->watch[watch_idx].backfill > t->backfill)
                t->backfill = gw->conf->watch[watch_idx].backfill;
        int priority = gw->conf->watch[watch_idx].priority;
        priority = priority < 1                        ? 1
                   : priority > SCHEDULER_PRIORITY_MAX ? SCHEDULER_PRIORITY_MAX
                                                       : priority;
        if ((unsigned)priority > t->priority)
                t->priority = (unsigned)priority;
        return 0;
}

/* Resolution, first step: everything that needs no API call. Returns the screen names still
 * unknown (NULL-terminated, may be empty). */
/* The name a watch-list entry is looked up and cached under: the screen name, or the group's
 * decimal id (groups.getById gives its title). Personal pages given by id have none. */
static int ref_lookup_key(const struct community_ref *ref, char **ret)
{
        *ret = NULL;
        if (ref->kind == COMMUNITY_REF_SCREEN_NAME)
                *ret = strdup(ref->screen_name);
        else if (ref->kind == COMMUNITY_REF_ID && ref->owner_id < 0) {
                if (asprintf(ret, "%" PRId64, -ref->owner_id) < 0)
                        *ret = NULL;
        } else
                return 0;
        return *ret ? 0 : -ENOMEM;
}

static bool key_is_group_id(const char *key)
{
        return key[0] >= '0' && key[0] <= '9';
}

static int strv_add_unique(char ***l, size_t *n, const char *s)
{
        for (size_t i = 0; i < *n; i++)
                if (streq((*l)[i], s))
                        return 0;
        char **nl = realloc(*l, (*n + 2) * sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        if (!(nl[*n] = strdup(s)))
                return -ENOMEM;
        nl[++*n] = NULL;
        return 0;
}

/* The key a personal page's name is cached under, whatever the watch list calls it. */
static int user_key(int64_t owner_id, char **ret)
{
        return asprintf(ret, "id%" PRId64, owner_id) < 0 ? -ENOMEM : 0;
}

static int user_name_cached(struct govwatch *gw, int64_t owner_id, char **ret_name)
{
        _cleanup_free_ char *key = NULL;
        int64_t cached_id = 0;
        int r = user_key(owner_id, &key);
        if (r < 0)
                return r;
        r = store_resolved_get(gw->store, key, &cached_id, ret_name);
        if (r >= 0 && (cached_id != owner_id || !*ret_name)) {
                free(*ret_name);
                *ret_name = NULL;
                return -ENOENT;
        }
        return r;
}

/* Resolution, first step: everything the cache knows. Returns the names still to look up
 * (NULL-terminated, may be empty): screen names, and group ids whose title is unknown. Personal
 * pages whose name the cache does not know become targets without one: name_users asks. */
static int targets_from_config(struct govwatch *gw, char ***ret_unresolved)
{
        _cleanup_strv_free_ char **unresolved = calloc(1, sizeof(char *));
        size_t n_unresolved = 0;
        int r;

        if (!unresolved)
                return -ENOMEM;
        for (size_t w = 0; w < gw->conf->n_watch; w++) {
                const struct watch_conf *wc = &gw->conf->watch[w];
                for (size_t c = 0; c < wc->n_communities; c++) {
                        const struct community_ref *ref = &wc->communities[c];
                        int64_t owner_id = ref->owner_id;
                        _cleanup_free_ char *title = NULL, *key = NULL;

                        r = ref_lookup_key(ref, &key);
                        if (r < 0)
                                return r;
                        if (key) {
                                r = gw->store
                                            ? store_resolved_get(gw->store, key, &owner_id, &title)
                                            : -ENOENT;
                                if (r < 0 && r != -ENOENT)
                                        return r;
                                if (r == -ENOENT) {
                                        r = strv_add_unique(&unresolved, &n_unresolved, key);
                                        if (r < 0)
                                                return r;
                                        /* a group id is pollable without its title */
                                        if (ref->kind == COMMUNITY_REF_SCREEN_NAME)
                                                continue;
                                        owner_id = ref->owner_id;
                                }
                        }
                        /* a personal page's name is cached under id<N> (name_users) */
                        if (owner_id > 0 && !title && gw->store) {
                                r = user_name_cached(gw, owner_id, &title);
                                if (r < 0 && r != -ENOENT)
                                        return r;
                        }
                        r = target_add(gw, owner_id, w, title,
                                       ref->kind == COMMUNITY_REF_SCREEN_NAME ? ref->screen_name
                                                                              : NULL);
                        if (r < 0)
                                return r;
                }
        }
        *ret_unresolved = TAKE_PTR(unresolved);
        return 0;
}

/* key (a screen name or a group id) is now known as owner_id with title: add the targets of the
 * watch entries that name it, or give their target its title, and cache it. */
static int targets_add_resolved(struct govwatch *gw, const char *key, int64_t owner_id,
                                const char *title)
{
        for (size_t w = 0; w < gw->conf->n_watch; w++) {
                const struct watch_conf *wc = &gw->conf->watch[w];
                for (size_t c = 0; c < wc->n_communities; c++) {
                        const struct community_ref *ref = &wc->communities[c];
                        int r;
                        if (ref->kind == COMMUNITY_REF_SCREEN_NAME && streq(ref->screen_name, key))
                                r = target_add(gw, owner_id, w, title, key);
                        else if (ref->kind == COMMUNITY_REF_ID && ref->owner_id == owner_id)
                                r = target_add(gw, owner_id, w, title, NULL);
                        else
                                continue;
                        if (r < 0)
                                return r;
                }
        }
        if (gw->store && !gw->dry_run) {
                int r = store_resolved_put(gw->store, key, owner_id, title,
                                           (int64_t)(now_realtime_usec() / USEC_PER_SEC));
                if (r < 0)
                        log_warning_errno(r, "Failed to cache resolution of '%s': %s, ignoring",
                                          key, store_errmsg(gw->store));
        }
        return 0;
}

static void report_unresolvable(struct govwatch *gw, const char *screen_name, const char *why)
{
        for (size_t w = 0; w < gw->conf->n_watch; w++) {
                const struct watch_conf *wc = &gw->conf->watch[w];
                for (size_t c = 0; c < wc->n_communities; c++) {
                        const struct community_ref *ref = &wc->communities[c];
                        if (ref->kind == COMMUNITY_REF_SCREEN_NAME &&
                            streq(ref->screen_name, screen_name))
                                log_warning("%s:%u:%u: cannot resolve community '%s': %s, "
                                            "skipping it",
                                            gw->conf->path, ref->mark.line, ref->mark.column,
                                            ref->raw, why);
                }
        }
}

struct resolve_call {
        struct resolve_call *next, *prev; /* the sweep's calls in flight (resolve_call_send) */
        struct sweep *sweep;
        char *screen_name; /* for utils.resolveScreenName; NULL for groups.getById */
        char **names;      /* for groups.getById */
        int64_t *user_ids; /* for users.get */
        size_t n_user_ids;
};

static void resolve_call_free(struct resolve_call *rc)
{
        if (rc->prev)
                rc->prev->next = rc->next;
        else if (rc->sweep && rc->sweep->resolve_calls == rc)
                rc->sweep->resolve_calls = rc->next;
        if (rc->next)
                rc->next->prev = rc->prev;
        free(rc->screen_name);
        strv_free(rc->names);
        free(rc->user_ids);
        free(rc);
}

/* Sends method(key=value) for rc->sweep, which counts the call and keeps rc until done() frees
 * it, or until sweep_abort, which frees what the source's requests still point at. Both before
 * source_call: a request that cannot start is answered inside it. On failure rc is the caller's
 * to free. */
static int resolve_call_send(struct resolve_call *rc, const char *method, const char *key,
                             const char *value, source_done_fn done)
{
        struct sweep *sw = rc->sweep;
        const char *k[] = {key};
        const char *v[] = {value};

        rc->prev = NULL;
        rc->next = sw->resolve_calls;
        if (rc->next)
                rc->next->prev = rc;
        sw->resolve_calls = rc;
        sw->in_flight++;
        int r = source_call(sw->gw->source, method, k, v, 1, 0, done, rc);
        if (r < 0)
                sw->in_flight--;
        return r;
}

static void on_resolve_one(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct resolve_call *rc = userdata;
        struct sweep *sw = rc->sweep;
        int64_t owner_id = 0;
        int r = -ENOENT;

        sw->in_flight--;
        if (res && res->calls[0].error_code == 0)
                r = vk_resolve_parse(res->calls[0].response, &owner_id);
        if (r >= 0) {
                r = targets_add_resolved(sw->gw, rc->screen_name, owner_id, NULL);
                if (r < 0)
                        sw->result = r;
        } else if (res && res->error_code == 5) {
                token_refused(sw->gw, res);
        } else if (!res || vk_error_class_of(res->calls[0].error_code) == VK_ERROR_TRANSIENT ||
                   vk_error_class_of(res->calls[0].error_code) == VK_ERROR_RATE) {
                log_warning("Failed to resolve '%s' (%s); will retry next sweep.", rc->screen_name,
                            res ? res->calls[0].error_msg : msg);
                sw->resolve_incomplete = true;
        } else {
                report_unresolvable(sw->gw, rc->screen_name,
                                    res ? (res->calls[0].error_msg ?: "no such community or user")
                                        : msg);
                sw->errors++;
        }
        resolve_call_free(rc);
        dispatch(sw);
}

static int resolve_one(struct sweep *sw, const char *screen_name)
{
        struct resolve_call *rc = calloc(1, sizeof(*rc));
        if (!rc || !(rc->screen_name = strdup(screen_name))) {
                free(rc);
                return -ENOMEM;
        }
        rc->sweep = sw;
        int r = resolve_call_send(rc, "utils.resolveScreenName", "screen_name", screen_name,
                                  on_resolve_one);
        if (r < 0)
                resolve_call_free(rc);
        return r;
}

static struct target *target_of(struct govwatch *gw, int64_t owner_id);
static void target_drop(struct govwatch *gw, struct target *t);

/* groups.getById says the community a watch-list entry names is gone, or does not know its id
 * (a mistyped one): said once for each entry that names it, and not polled, since VK would only
 * answer its wall.get with error 15 ("wall is disabled") and spend the daily budget on it. Its
 * name is not cached, so a reload or a restart asks again. */
static void community_gone(struct sweep *sw, const char *key, int64_t group_id, const char *state)
{
        struct govwatch *gw = sw->gw;

        for (size_t w = 0; w < gw->conf->n_watch; w++) {
                const struct watch_conf *wc = &gw->conf->watch[w];
                for (size_t c = 0; c < wc->n_communities; c++) {
                        const struct community_ref *ref = &wc->communities[c];
                        if ((ref->kind == COMMUNITY_REF_ID && ref->owner_id == -group_id) ||
                            (ref->kind == COMMUNITY_REF_SCREEN_NAME &&
                             streq(ref->screen_name, key)))
                                log_warning("%s:%u:%u: community '%s' (id %" PRId64 ") %s on VK, "
                                            "skipping it",
                                            gw->conf->path, ref->mark.line, ref->mark.column,
                                            ref->raw, group_id, state);
                }
        }
        sw->errors++;
        struct target *t = target_of(gw, -group_id);
        if (t)
                target_drop(gw, t);
}

static void on_groups(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct resolve_call *rc = userdata;
        struct sweep *sw = rc->sweep;
        struct vk_group *groups = NULL;
        size_t n_groups = 0;
        int r;

        sw->in_flight--;
        if (res && res->error_code == 5) {
                token_refused(sw->gw, res);
                goto out;
        }
        bool parsed = false;
        if (res && res->calls[0].error_code == 0) {
                parsed = vk_groups_parse(res->calls[0].response, &groups, &n_groups) >= 0;
                if (!parsed)
                        log_warning("groups.getById answered in an unexpected shape, ignoring");
        }
        if (!res || (res->calls[0].error_code != 0 &&
                     vk_error_class_of(res->calls[0].error_code) != VK_ERROR_CONFIG)) {
                log_warning("Failed to resolve community names (%s); will retry next sweep.",
                            res ? res->calls[0].error_msg : msg);
                sw->resolve_incomplete = true;
        }
        /* VK answered for every id asked: those it left out do not exist (none known: error 100) */
        bool answered =
                res && (res->calls[0].error_code == 0
                                ? parsed
                                : vk_error_class_of(res->calls[0].error_code) == VK_ERROR_CONFIG);

        /* a name VK did not return as a group may be a personal page: ask resolveScreenName */
        for (char **name = rc->names; *name; name++) {
                const struct vk_group *g = NULL;
                bool by_id = key_is_group_id(*name);
                for (size_t i = 0; i < n_groups && !g; i++)
                        if (by_id ? groups[i].id == strtoll(*name, NULL, 10)
                                  : strcasecmp(groups[i].screen_name, *name) == 0)
                                g = &groups[i];
                /* only a deletion is for good: a banned community may come back, and is
                 * polled (and its error 18 reported) like any unreadable wall */
                const char *gone = g && streq_ptr(g->deactivated, "deleted") ? "is deleted" : NULL;
                if (gone)
                        community_gone(sw, *name, g->id, gone);
                else if (g) {
                        r = targets_add_resolved(sw->gw, *name, -g->id, g->name);
                        if (r < 0)
                                sw->result = r;
                } else if (by_id && answered)
                        community_gone(sw, *name, strtoll(*name, NULL, 10), "does not exist");
                else if (res && !by_id) {
                        r = resolve_one(sw, *name);
                        if (r < 0)
                                sw->result = r;
                }
        }
out:
        vk_groups_free(groups, n_groups);
        resolve_call_free(rc);
        dispatch(sw);
}

static int resolve_names(struct sweep *sw, char **names)
{
        size_t n = strv_length(names);
        for (size_t start = 0; start < n; start += VK_GETBYID_MAX) {
                size_t end = start + VK_GETBYID_MAX < n ? start + VK_GETBYID_MAX : n;
                struct strbuf ids = {0};
                struct resolve_call *rc = calloc(1, sizeof(*rc));
                int r = rc ? 0 : -ENOMEM;

                if (r >= 0 && !(rc->names = calloc(end - start + 1, sizeof(char *))))
                        r = -ENOMEM;
                for (size_t i = start; r >= 0 && i < end; i++) {
                        r = strbuf_appendf(&ids, "%s%s", i > start ? "," : "", names[i]);
                        if (r >= 0 && !(rc->names[i - start] = strdup(names[i])))
                                r = -ENOMEM;
                }
                if (r >= 0) {
                        rc->sweep = sw;
                        r = resolve_call_send(rc, "groups.getById", "group_ids", ids.buf,
                                              on_groups);
                }
                strbuf_done(&ids);
                if (r < 0) {
                        if (rc)
                                resolve_call_free(rc);
                        return r;
                }
        }
        return 0;
}

/* Personal pages are named by users.get, once every other resolution call has come back: by
 * then every page is a target, whichever way the watch list wrote it. */

/* Before polling starts only: jobs refer to targets by index. */
static void target_drop(struct govwatch *gw, struct target *t)
{
        target_done(t);
        size_t i = (size_t)(t - gw->targets);
        memmove(t, t + 1, (gw->n_targets - i - 1) * sizeof(*t));
        gw->n_targets--;
}

static struct target *target_of(struct govwatch *gw, int64_t owner_id)
{
        for (size_t i = 0; i < gw->n_targets; i++)
                if (gw->targets[i].route.owner_id == owner_id)
                        return &gw->targets[i];
        return NULL;
}

/* A page VK says is deleted or banned: said once for each watch-list entry that names it, and
 * not polled, since its wall.get would only spend the daily budget on error 18. A reload or a
 * restart asks again. */
static void user_deactivated(struct sweep *sw, struct target *t, const char *state)
{
        struct govwatch *gw = sw->gw;
        int64_t owner_id = t->route.owner_id;

        for (size_t w = 0; w < gw->conf->n_watch; w++) {
                const struct watch_conf *wc = &gw->conf->watch[w];
                for (size_t c = 0; c < wc->n_communities; c++) {
                        const struct community_ref *ref = &wc->communities[c];
                        if ((ref->kind == COMMUNITY_REF_USER_ID && ref->owner_id == owner_id) ||
                            (ref->kind == COMMUNITY_REF_SCREEN_NAME && t->screen_name &&
                             streq(ref->screen_name, t->screen_name)))
                                log_warning("%s:%u:%u: personal page '%s' (id %" PRId64 ") is %s "
                                            "on VK, skipping it",
                                            gw->conf->path, ref->mark.line, ref->mark.column,
                                            ref->raw, owner_id, state);
                }
        }
        sw->errors++;
        target_drop(gw, t);
}

static int user_named(struct govwatch *gw, struct target *t, const char *name)
{
        char *n = strdup(name);
        if (!n)
                return -ENOMEM;
        free(t->name);
        t->name = n;
        if (!gw->store || gw->dry_run)
                return 0;

        /* under id<N>, and under the screen name like a group's title */
        _cleanup_free_ char *key = NULL;
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        int r = user_key(t->route.owner_id, &key);
        if (r < 0)
                return r;
        r = store_resolved_put(gw->store, key, t->route.owner_id, name, now);
        if (r >= 0 && t->screen_name)
                r = store_resolved_put(gw->store, t->screen_name, t->route.owner_id, name, now);
        if (r < 0)
                log_warning_errno(
                        r, "Failed to cache the name of personal page %" PRId64 ": %s, ignoring",
                        t->route.owner_id, store_errmsg(gw->store));
        return 0;
}

static void on_users(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct resolve_call *rc = userdata;
        struct sweep *sw = rc->sweep;
        struct govwatch *gw = sw->gw;
        struct vk_user *users = NULL;
        size_t n_users = 0;
        int code = res ? res->calls[0].error_code : error_code;

        sw->in_flight--;
        if (res && res->error_code == 5) {
                token_refused(gw, res);
                goto out;
        }
        if (!res || vk_error_class_of(code) == VK_ERROR_TRANSIENT ||
            vk_error_class_of(code) == VK_ERROR_RATE) {
                log_warning("Failed to get the names of %zu personal pages (%s); will retry next "
                            "sweep.",
                            rc->n_user_ids, res ? strempty(res->calls[0].error_msg) : msg);
                sw->resolve_incomplete = true;
                goto out;
        }
        if (code != 0) {
                log_warning("VK refused to name %zu personal pages (error %d: %s); they are "
                            "polled without their names.",
                            rc->n_user_ids, code, strempty(res->calls[0].error_msg));
                goto out;
        }
        if (vk_users_parse(res->calls[0].response, &users, &n_users) < 0) {
                log_warning("users.get answered in an unexpected shape, ignoring");
                goto out;
        }
        for (size_t k = 0; k < rc->n_user_ids; k++) {
                struct target *t = target_of(gw, rc->user_ids[k]);
                const struct vk_user *u = NULL;
                for (size_t i = 0; i < n_users && !u; i++)
                        if (users[i].id == rc->user_ids[k])
                                u = &users[i];
                if (!t)
                        continue;
                if (!u)
                        log_debug("users.get did not name personal page %" PRId64 ", ignoring",
                                  rc->user_ids[k]);
                else if (u->deactivated)
                        user_deactivated(sw, t, u->deactivated);
                else {
                        int r = user_named(gw, t, u->name);
                        if (r < 0)
                                sw->result = r;
                }
        }
out:
        vk_users_free(users, n_users);
        resolve_call_free(rc);
        dispatch(sw);
}

/* users.get for every personal page still without a name, VK_USERS_GET_MAX a call. */
static int name_users(struct sweep *sw)
{
        struct govwatch *gw = sw->gw;
        size_t i = 0;

        while (i < gw->n_targets) {
                struct strbuf ids = {0};
                struct resolve_call *rc = calloc(1, sizeof(*rc));
                int r = rc ? 0 : -ENOMEM;

                if (r >= 0 && !(rc->user_ids = calloc(VK_USERS_GET_MAX, sizeof(int64_t))))
                        r = -ENOMEM;
                for (; r >= 0 && i < gw->n_targets && rc->n_user_ids < VK_USERS_GET_MAX; i++) {
                        const struct target *t = &gw->targets[i];
                        if (t->route.owner_id <= 0 || t->name)
                                continue;
                        r = strbuf_appendf(&ids, "%s%" PRId64, ids.len ? "," : "",
                                           t->route.owner_id);
                        rc->user_ids[rc->n_user_ids++] = t->route.owner_id;
                }
                if (r >= 0 && rc->n_user_ids > 0) {
                        rc->sweep = sw;
                        r = resolve_call_send(rc, "users.get", "user_ids", ids.buf, on_users);
                }
                strbuf_done(&ids);
                if (r < 0 || !rc->n_user_ids) {
                        if (rc)
                                resolve_call_free(rc);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* ---- new posts --------------------------------------------------------------------------- */

static int collect(struct target *t, struct wall *w)
{
        if (!greedy_realloc((void **)&t->collected, &t->allocated, t->n_collected + w->n_posts,
                            sizeof(struct post *)))
                return -ENOMEM;
        for (size_t i = 0; i < w->n_posts; i++) {
                t->collected[t->n_collected++] = w->posts[i];
                w->posts[i] = NULL;
        }
        w->n_posts = 0;
        return 0;
}

static int category_names(const struct govwatch *gw, uint64_t mask, char ***ret)
{
        size_t n = classifier_n_categories(gw->classifier);
        char **l = calloc(n + 1, sizeof(char *));
        size_t k = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n && i < CATEGORY_MAX; i++) {
                if (!(mask & (UINT64_C(1) << i)))
                        continue;
                if (!(l[k++] = strdup(classifier_category_name(gw->classifier, (unsigned)i)))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

/* One JSON line a notification: where it would go, and how each of its sinks would show it
 * ("title"/"body" of the first sink at the top, every sink's under "rendered"). */
static void print_dry_run(struct govwatch *gw, const struct notification *n, const char **sinks)
{
        json_t *o = json_object(), *cats = json_array(), *sk = json_array(),
               *rendered = json_object();
        char starts[40];

        for (char **c = n->categories; c && *c; c++)
                json_array_append_new(cats, json_string(*c));
        for (const char **s = sinks; s && *s; s++) {
                ssize_t i = config_find_sink(gw->conf, *s);
                _cleanup_free_ char *title = NULL, *body = NULL;
                json_array_append_new(sk, json_string(*s));
                if (i < 0 || sink_render(&gw->conf->sinks[i], n, &title, &body) < 0)
                        continue;
                json_object_set_new(rendered, *s,
                                    json_pack("{s:s, s:s}", "title", title, "body", body));
        }
        format_iso8601(n->starts_at, n->starts_at_utc_offset, starts, sizeof(starts));
        json_object_set_new(o, "owner_id", json_integer(n->owner_id));
        json_object_set_new(o, "id", json_integer(n->post_id));
        json_object_set_new(o, "url", json_string(n->url));
        json_object_set_new(o, "community", json_string(n->community));
        json_object_set_new(o, "topic", json_string(n->topic));
        json_object_set_new(o, "categories", cats);
        json_object_set_new(o, "starts_at", n->starts_at ? json_string(starts) : json_null());
        json_object_set_new(o, "sinks", sk);
        json_t *first = sinks && sinks[0] ? json_object_get(rendered, sinks[0]) : NULL;
        if (first) {
                json_object_set(o, "title", json_object_get(first, "title"));
                json_object_set(o, "body", json_object_get(first, "body"));
        }
        json_object_set_new(o, "rendered", rendered);
        char *line = json_dumps(o, JSON_COMPACT);
        if (line) {
                fprintf(gw->dry_run_out, "%s\n", line);
                fflush(gw->dry_run_out);
        }
        free(line);
        json_decref(o);
}

/* A live post with a planned start gets a second notification, a reminder remind_before the
 * start, queued now in the outbox with that time as its first attempt: durable like any other
 * notification. A postponement ("эфир переносится") moves the pending reminder instead. */
static int schedule_reminder(struct govwatch *gw, const struct notification *n, const char **sinks,
                             const struct classify_result *cr, int64_t now)
{
        int64_t before = (int64_t)(gw->conf->remind_before_usec / USEC_PER_SEC);
        int64_t remind_at = cr->starts_at - before;
        char when[40];
        int r;

        if (before <= 0)
                return 0;
        if (cr->reschedule) {
                r = store_reminders_move(gw->store, n->owner_id, now, cr->starts_at,
                                         cr->starts_at_utc_offset,
                                         remind_at > now ? remind_at : now);
                if (r < 0)
                        return r;
                if (r > 0) {
                        format_iso8601(cr->starts_at, cr->starts_at_utc_offset, when, sizeof(when));
                        if (cr->starts_at)
                                log_info("Broadcast of %s moved to %s: reminder moved.",
                                         n->community, when);
                        else
                                log_info("Broadcast of %s postponed without a date: reminder "
                                         "dropped.",
                                         n->community);
                        return 0;
                }
        }
        if (cr->starts_at == 0 || remind_at <= now)
                return 0; /* no start, or too close: the announcement is the reminder */

        _cleanup_notification_free_ struct notification *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        *m = (struct notification){
                .kind = strdup("reminder"),
                .owner_id = n->owner_id,
                .post_id = n->post_id,
                .community = strdup(n->community),
                .topic = strdup(n->topic),
                .url = strdup(n->url),
                .categories = strv_copy(n->categories),
                .date = n->date,
                .date_utc_offset = n->date_utc_offset,
                .starts_at = cr->starts_at,
                .starts_at_utc_offset = cr->starts_at_utc_offset,
                .created = remind_at, /* expiry counts from when it is due, not from now */
        };
        /* "через" takes the accusative: 1 минуту, 2 минуты, 5 минут */
        if (asprintf(&m->text, "Через %" PRId64 " %s начнётся прямой эфир.\n\n%s", before / 60,
                     plural_ru((unsigned long long)(before / 60), "минуту", "минуты", "минут"),
                     n->text) < 0)
                m->text = NULL;
        if (!m->kind || !m->community || !m->topic || !m->url || !m->categories || !m->text)
                return -ENOMEM;
        return store_outbox_add(gw->store, m, (char *const *)sinks, remind_at);
}

/* One journal entry a new post, with fields to find it by (journalctl GOVWATCH_OWNER_ID=-123);
 * an emergency at warning priority. */
static void log_queued(const struct notification *n, int n_sinks)
{
        _cleanup_strv_free_ char **fields = notification_journal_fields(n);
        _cleanup_free_ char *cats = strv_join(n->categories, ", ");
        log_struct(notification_priority(n, LOG_INFO), (const char *const *)fields,
                   "New post %s of %s [%s] queued for %d %s.", n->url, n->community, strempty(cats),
                   n_sinks, plural((unsigned)n_sinks, "sink", "sinks"));
}

/* Classifies p, routes it, and queues (or, in dry-run, prints) its notification. */
static int notify_post(struct govwatch *gw, struct target *t, const struct post *p,
                       uint64_t *ret_categories, int64_t now)
{
        _cleanup_notification_free_ struct notification *n = NULL;
        _cleanup_free_ const char **sinks = NULL;
        struct classify_result cr;
        const char *topic;
        char url[96];
        int r, n_sinks;

        r = classifier_classify(gw->classifier, p, &cr);
        if (r < 0)
                return r;
        *ret_categories = cr.categories;

        n_sinks = route_post(gw->conf, &t->route, cr.categories, &sinks, &topic);
        if (n_sinks < 0)
                return n_sinks;
        if (n_sinks == 0)
                return 0;

        post_url(p->owner_id, p->id, url, sizeof(url));
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->kind = strdup("post");
        n->owner_id = p->owner_id;
        n->post_id = p->id;
        n->community = strdup(t->name ? t->name : t->screen_name ? t->screen_name : "");
        n->topic = strdup(strempty(topic));
        n->url = strdup(url);
        /* a repost: the comment, then the reposted text and where it came from */
        n->text = post_notification_text(p);
        n->date = p->date;
        if (tz_utc_offset(gw->conf->timezone, p->date, &n->date_utc_offset) < 0)
                n->date_utc_offset = 0; /* the zone was checked on load: not reached */
        n->starts_at = cr.starts_at;
        n->starts_at_utc_offset = cr.starts_at_utc_offset;
        n->created = now;
        if (!n->kind || !n->community || !n->topic || !n->url || !n->text)
                return -ENOMEM;
        if (!t->name && !t->screen_name) {
                free(n->community);
                if (asprintf(&n->community, "%s%" PRId64, p->owner_id < 0 ? "club" : "id",
                             p->owner_id < 0 ? -p->owner_id : p->owner_id) < 0) {
                        n->community = NULL;
                        return -ENOMEM;
                }
        }
        r = category_names(gw, cr.categories, &n->categories);
        if (r < 0)
                return r;

        if (gw->dry_run) {
                print_dry_run(gw, n, sinks);
                return 1;
        }
        r = store_outbox_add(gw->store, n, (char *const *)sinks, now);
        if (r < 0)
                return r;
        log_queued(n, n_sinks);
        if (cr.categories & (UINT64_C(1) << CATEGORY_LIVE)) {
                r = schedule_reminder(gw, n, sinks, &cr, now);
                if (r < 0)
                        return r;
        }
        return 1;
}

static bool post_skipped(const struct govwatch *gw, const struct post *p)
{
        return (gw->conf->skip_ads && p->marked_as_ads) || (gw->conf->skip_donut && p->donut);
}

/* Tells the scheduler what a poll of t found: the dates of the posts new to us; on first sight
 * the page's history (an old pinned post, out of the page's time range, left out). */
static void observe(struct govwatch *gw, const struct target *t, bool first_sight,
                    const bool *is_new, const bool *was_seen)
{
        _cleanup_free_ int64_t *dates = calloc(t->n_collected + 1, sizeof(int64_t));
        int64_t oldest = INT64_MAX;
        size_t n = 0;

        if (!gw->scheduler || !dates)
                return;
        if (first_sight)
                for (size_t i = 0; i < t->n_collected; i++)
                        if (!t->collected[i]->is_pinned && t->collected[i]->date < oldest)
                                oldest = t->collected[i]->date;
        for (size_t i = 0; i < t->n_collected; i++) {
                const struct post *p = t->collected[i];
                if (first_sight ? oldest != INT64_MAX && p->date >= oldest
                                : is_new[i] && !was_seen[i])
                        dates[n++] = p->date;
        }
        uint64_t poll = t->poll_usec ?: now_realtime_usec();
        int r = scheduler_observe(gw->scheduler, t->route.owner_id, poll, dates, n,
                                  first_sight && n > 0 ? oldest : 0);
        if (r < 0) /* a post dated in the future (VK's clock or ours): learn nothing from it */
                log_debug("Scheduler did not take the posts of %" PRId64 ": %s", t->route.owner_id,
                          strerror(-r));
}

/* All pages of t are in: decide what is new, record and queue in one transaction. */
static int process_target(struct sweep *sw, struct target *t)
{
        struct govwatch *gw = sw->gw;
        struct community_state st = {0};
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        bool first_sight, in_tx = false;
        _cleanup_free_ bool *is_new = NULL, *was_seen = NULL;
        unsigned backfill_left;
        int r;

        r = store_community_get(gw->store, t->route.owner_id, &st);
        if (r < 0 && r != -ENOENT)
                return r;
        first_sight = r == -ENOENT || st.first_seen == 0;
        st.owner_id = t->route.owner_id;

        is_new = calloc(t->n_collected + 1, sizeof(bool));
        was_seen = calloc(t->n_collected + 1, sizeof(bool));
        if (!is_new || !was_seen) {
                r = -ENOMEM;
                goto out;
        }
        sweep_mark_new(t->collected, t->n_collected, first_sight ? 0 : st.last_post_id, is_new);

        /* newest first, so backfill takes the newest non-pinned posts */
        backfill_left = first_sight ? t->backfill : 0;

        if (!gw->dry_run) {
                r = store_begin(gw->store);
                if (r < 0)
                        goto out;
                in_tx = true;
        }

        int64_t max_id = st.last_post_id, max_date = st.last_post_date;
        for (size_t i = 0; i < t->n_collected; i++) {
                const struct post *p = t->collected[i];
                uint64_t cats = 0, old_cats = 0;
                int64_t old_edited = 0;
                bool seen;

                if (p->id > max_id) {
                        max_id = p->id;
                        max_date = p->date;
                }
                /* Below the highest id seen, a post is old by construction: no row is needed
                 * unless an edit might change its categories. On first sight only the
                 * backfilled posts get a row; the community's last_post_id covers the rest.
                 * This keeps a 7000-community first sweep from writing 140 000 rows. */
                if (gw->preview_all) {
                        /* a preview of what the walls hold now: seen or not, first sight or
                         * not (dry-run only, so nothing is recorded either way) */
                        if (post_skipped(gw, p))
                                continue;
                        r = notify_post(gw, t, p, &cats, now);
                        if (r < 0)
                                goto out;
                        if (r > 0)
                                sw->new_posts++;
                        continue;
                }
                bool maybe_edit = gw->conf->resend_on_category_change && p->edited > 0;
                if (first_sight ? !(backfill_left > 0 && !p->is_pinned)
                                : !is_new[i] && !maybe_edit) {
                        was_seen[i] = !first_sight;
                        continue;
                }
                r = store_post_get(gw->store, p->owner_id, p->id, &old_cats, &old_edited);
                if (r < 0 && r != -ENOENT)
                        goto out;
                seen = r == 0;
                was_seen[i] = seen;

                if (seen) {
                        /* an edited post is not new; it is sent again only when asked and when
                         * its categories grew */
                        if (!gw->conf->resend_on_category_change || p->edited <= old_edited ||
                            post_skipped(gw, p))
                                continue;
                        struct classify_result cr;
                        r = classifier_classify(gw->classifier, p, &cr);
                        if (r < 0)
                                goto out;
                        if ((cr.categories & ~old_cats) == 0)
                                continue;
                        r = notify_post(gw, t, p, &cats, now);
                        if (r < 0)
                                goto out;
                        if (!gw->dry_run) {
                                r = store_post_put(gw->store, p->owner_id, p->id, p->date,
                                                   p->edited, cats | old_cats, now);
                                if (r < 0)
                                        goto out;
                        }
                        continue;
                }

                bool notify = false;
                if (first_sight) {
                        if (backfill_left > 0 && !p->is_pinned) {
                                backfill_left--;
                                notify = true;
                        }
                } else
                        notify = is_new[i];
                if (notify && post_skipped(gw, p))
                        notify = false;

                if (notify) {
                        r = notify_post(gw, t, p, &cats, now);
                        if (r < 0)
                                goto out;
                        if (r > 0)
                                sw->new_posts++;
                }
                if (!gw->dry_run) {
                        r = store_post_put(gw->store, p->owner_id, p->id, p->date, p->edited, cats,
                                           now);
                        if (r < 0)
                                goto out;
                }
        }

        if (!gw->dry_run) {
                if (first_sight) {
                        st.first_seen = now;
                        log_info("First sight of %s: %zu current posts taken as seen, "
                                 "nothing sent%s.",
                                 t->name ?: t->screen_name ?: "a community", t->n_collected,
                                 t->backfill ? " (but the backfill)" : "");
                }
                if (st.error_code != 0)
                        log_info("%s is readable again.", t->name ?: t->screen_name ?: "Wall");
                free(st.name);
                st.name = t->name ? strdup(t->name) : NULL;
                free(st.screen_name);
                st.screen_name = t->screen_name ? strdup(t->screen_name) : NULL;
                st.last_poll = now;
                st.last_post_id = max_id;
                st.last_post_date = max_date;
                st.error_code = 0;
                free(st.error_msg);
                st.error_msg = NULL;
                r = store_community_put(gw->store, &st);
                if (r < 0)
                        goto out;
                r = store_commit(gw->store);
                if (r < 0)
                        goto out;
                in_tx = false;
        }
        observe(gw, t, first_sight, is_new, was_seen);
        r = 0;
out:
        if (in_tx)
                store_rollback(gw->store);
        if (r < 0)
                log_error_errno(r, "Failed to record posts of %" PRId64 ": %s", t->route.owner_id,
                                r == -ENOMEM ? "out of memory" : store_errmsg(gw->store));
        community_state_done(&st);
        return r;
}

static void target_reset(struct target *t)
{
        for (size_t j = 0; j < t->n_collected; j++)
                post_free(t->collected[j]);
        /* the array too: kept for 7000 walls between sweeps it would be megabytes of nothing */
        free(t->collected);
        t->collected = NULL;
        t->n_collected = t->allocated = 0;
        t->pages = 0;
        t->done = false;
}

/* ---- polling ----------------------------------------------------------------------------- */

static int queue_job(struct sweep *sw, size_t target, unsigned offset, bool counted)
{
        if (!greedy_realloc((void **)&sw->queue, &sw->queue_allocated, sw->n_queue + 1,
                            sizeof(struct job)))
                return -ENOMEM;
        sw->queue[sw->n_queue++] =
                (struct job){.target = target, .offset = offset, .counted = counted};
        return 0;
}

static struct daily_budget *budget_of(struct govwatch *gw)
{
        return gw->scheduler ? scheduler_budget(gw->scheduler) : NULL;
}

/* Calls the budget lets this job make now: a first page from the planned share, a page back
 * through a burst from the reserve too. */
static bool job_fits(struct govwatch *gw, const struct job *j, unsigned *room_planned,
                     unsigned *room_all)
{
        if (j->counted)
                return true;
        unsigned *room = j->offset == 0 ? room_planned : room_all;
        if (*room == 0)
                return false;
        (*room_planned) -= *room_planned > 0;
        (*room_all) -= *room_all > 0;
        return true;
}

static void community_failed(struct sweep *sw, struct target *t, int code, const char *msg)
{
        struct govwatch *gw = sw->gw;
        struct community_state st = {0};
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        bool known = store_community_get(gw->store, t->route.owner_id, &st) >= 0;
        const char *name = t->name ?: t->screen_name ?: "community";

        /* warn once per change of error, not every sweep */
        if (!known || st.error_code != code) {
                if (vk_error_class_of(code) == VK_ERROR_CONFIG)
                        log_warning("%s (%" PRId64 "): VK error %d: %s; check this entry of the "
                                    "watch list",
                                    name, t->route.owner_id, code, msg);
                else
                        log_warning("%s (%" PRId64 ") is not readable: VK error %d: %s", name,
                                    t->route.owner_id, code, msg);
        }
        community_state_done(&st);
        sw->errors++;
        if (!gw->dry_run) {
                int r = store_community_set_error(gw->store, t->route.owner_id, t->name, code, msg,
                                                  now);
                if (r < 0)
                        log_warning_errno(r, "Failed to record error of %" PRId64 ": %s",
                                          t->route.owner_id, store_errmsg(gw->store));
        }
        target_reset(t);
        t->done = true;
}

static struct batch *batch_new(struct sweep *sw)
{
        struct batch *b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->sweep = sw;
        b->next = sw->batches;
        if (sw->batches)
                sw->batches->prev = b;
        sw->batches = b;
        return b;
}

static void batch_drop_walls(struct batch *b)
{
        for (size_t i = 0; i < VK_EXECUTE_MAX_CALLS; i++) {
                b->walls[i] = wall_free(b->walls[i]);
                b->wall_result[i] = 0;
                b->wall_reason[i] = NULL;
        }
}

static void batch_free(struct batch *b)
{
        if (b->prev)
                b->prev->next = b->next;
        else
                b->sweep->batches = b->next;
        if (b->next)
                b->next->prev = b->prev;
        sd_event_source_disable_unref(b->retry_timer);
        sd_event_source_disable_unref(b->processing);
        batch_drop_walls(b);
        for (size_t i = 0; i < VK_EXECUTE_MAX_CALLS; i++)
                free(b->call_msg[i]);
        free(b);
}

static int send_batch(struct batch *b);

/* A resent batch costs its calls again: only if the whole budget still has them. Otherwise its
 * walls wait for the next sweep and the batch is freed (true). */
static bool batch_over_budget(struct batch *b)
{
        struct sweep *sw = b->sweep;
        struct daily_budget *budget = budget_of(sw->gw);

        if (!budget || daily_budget_available(budget, now_realtime_usec(), true) >= b->n_jobs)
                return false;
        log_warning("A batch of %zu %s is not resent: the daily wall.get budget has no room; "
                    "they wait for the next sweep.",
                    b->n_jobs, plural(b->n_jobs, "wall", "walls"));
        for (size_t i = 0; i < b->n_jobs; i++) {
                target_reset(&sw->gw->targets[b->jobs[i].target]);
                sw->gw->targets[b->jobs[i].target].done = true;
        }
        sw->over_budget += (unsigned)b->n_jobs;
        batch_free(b);
        return true;
}

static void resend_batch(struct batch *b)
{
        int r = send_batch(b);
        if (r < 0) {
                log_error_errno(r, "Failed to resend a batch: %m");
                b->sweep->result = r;
                batch_free(b);
        }
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct batch *b = userdata;
        struct sweep *sw = b->sweep;

        b->retry_timer = sd_event_source_disable_unref(b->retry_timer);
        sw->retrying--;
        if (!batch_over_budget(b))
                resend_batch(b);
        dispatch(sw);
        return 0;
}

/* An answer too large to read (over VK_ANSWER_MAX_BYTES, or a post over VK_PIECE_MAX) is not
 * retried as it was: it would be as large again. The batch goes out again as two halves, each on
 * its own (one over SWEEP_MAX_IN_FLIGHT for a moment), until the wall that makes it too large is
 * alone: that one waits for the next sweep, and the other walls are read. At most five halvings
 * of 25 walls, each call counted in the budget as a resent batch's are. */
static void split_batch(struct batch *b, const char *why)
{
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;

        if (b->n_jobs == 1) {
                struct target *t = &gw->targets[b->jobs[0].target];
                log_warning("The answer for %s (%" PRId64 ") cannot be read (%s); it waits for "
                            "the next sweep.",
                            t->name ?: t->screen_name ?: "a community", t->route.owner_id, why);
                sw->errors++;
                target_reset(t);
                t->done = true;
                batch_free(b);
                return;
        }
        if (batch_over_budget(b))
                return;
        struct batch *half = batch_new(sw);
        if (!half) {
                sw->result = -ENOMEM;
                batch_free(b);
                return;
        }
        size_t keep = b->n_jobs / 2;
        half->n_jobs = b->n_jobs - keep;
        memcpy(half->jobs, b->jobs + keep, half->n_jobs * sizeof(struct job));
        b->n_jobs = keep;
        log_info("The answer for %zu walls is too large to read (%s); asking again in two "
                 "halves.",
                 keep + half->n_jobs, why);
        resend_batch(b);
        resend_batch(half);
}

static void retry_batch(struct batch *b, const char *why)
{
        struct sweep *sw = b->sweep;
        uint64_t delay;

        b->attempts++;
        if (b->attempts >= SWEEP_MAX_ATTEMPTS) {
                log_warning("A batch of %zu %s failed %u times (%s); they wait for the next "
                            "sweep.",
                            b->n_jobs, plural(b->n_jobs, "wall", "walls"), b->attempts, why);
                for (size_t i = 0; i < b->n_jobs; i++) {
                        target_reset(&sw->gw->targets[b->jobs[i].target]);
                        sw->gw->targets[b->jobs[i].target].done = true;
                }
                sw->errors++;
                batch_free(b);
                return;
        }
        /* 1 s, 2 s, 4 s ... with jitter so that many daemons don't retry in lockstep */
        delay = USEC_PER_SEC << (b->attempts - 1);
        delay += random_u64() % (delay / 2 + 1);
        log_info("VK request failed (%s); retrying in %.1f s.", why, (double)delay / USEC_PER_SEC);
        int r = sd_event_add_time_relative(sw->gw->event, &b->retry_timer, CLOCK_MONOTONIC, delay,
                                           0, on_retry, b);
        if (r < 0) {
                log_error_errno(r, "Failed to arm a retry timer: %m");
                sw->result = r;
                batch_free(b);
                return;
        }
        sw->retrying++;
}

/* One wall's answer, while the batch's answer is parsed: only its posts are kept, so that a
 * batch never holds the JSON tree of 25 walls at once. Whether they count is process_wall's to
 * decide, once the whole answer has been read. */
static int on_wall_json(size_t i, const json_t *response, void *userdata)
{
        struct batch *b = userdata;

        if (i >= b->n_jobs)
                return -EBADMSG;
        b->walls[i] = wall_free(b->walls[i]);
        b->wall_reason[i] = NULL;
        b->wall_result[i] = wall_from_json(response, &b->walls[i], &b->wall_reason[i]);
        return 0;
}

/* One wall of a batch whose answer was read: a failed call recorded, or its posts collected,
 * paged back through a burst, and decided on (process_target). */
static void process_wall(struct batch *b, size_t i)
{
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;
        struct target *t = &gw->targets[b->jobs[i].target];
        struct wall *w = NULL;
        const char *reason = NULL;
        int r;

        if (b->call_error[i] != 0) {
                enum vk_error_class cls = vk_error_class_of(b->call_error[i]);
                if (cls == VK_ERROR_COMMUNITY || cls == VK_ERROR_CONFIG || cls == VK_ERROR_OTHER)
                        community_failed(sw, t, b->call_error[i], strempty(b->call_msg[i]));
                else if (cls == VK_ERROR_QUOTA) {
                        if (!sw->quota_exhausted && gw->scheduler)
                                scheduler_quota_exhausted(gw->scheduler, now_realtime_usec());
                        sw->quota_exhausted = true;
                        target_reset(t);
                        t->done = true;
                } else {
                        /* transient inside execute: that wall alone goes around again */
                        if (queue_job(sw, b->jobs[i].target, b->jobs[i].offset, false) < 0)
                                sw->result = -ENOMEM;
                }
                return;
        }
        w = TAKE_PTR(b->walls[i]);
        r = b->wall_result[i];
        reason = b->wall_reason[i];
        if (r >= 0 && !w) {
                r = -EBADMSG;
                reason = "no answer for this call";
        }
        if (r < 0) {
                log_warning("Answer for %" PRId64 " is malformed (%s), skipping it.",
                            t->route.owner_id, reason ? reason : strerror(-r));
                sw->errors++;
                target_reset(t);
                t->done = true;
                return;
        }
        if (w->n_skipped > 0)
                log_debug("%zu malformed %s skipped on %" PRId64 " (first: %s)", w->n_skipped,
                          plural(w->n_skipped, "post", "posts"), t->route.owner_id,
                          strempty(w->skip_reason));
        for (size_t k = 0; k < w->n_posts; k++)
                if (w->posts[k]->text_truncated)
                        log_debug("Post %" PRId64 "_%" PRId64
                                  ": text cut to its first %d bytes (POST_TEXT_MAX)",
                                  w->posts[k]->owner_id, w->posts[k]->id, POST_TEXT_MAX);
        size_t page_posts = w->n_posts;
        int64_t wall_count = w->count;
        int64_t oldest = INT64_MAX;
        for (size_t k = 0; k < w->n_posts; k++)
                if (!w->posts[k]->is_pinned && w->posts[k]->id < oldest)
                        oldest = w->posts[k]->id;
        r = collect(t, w);
        wall_free(w);
        if (r < 0) {
                sw->result = r;
                return;
        }
        t->pages++;

        /* a burst: every post of this page is new and the wall has more. Page back with
         * offset to the last seen post (bounded), so a burst loses nothing. */
        struct community_state st = {0};
        bool known = gw->store && store_community_get(gw->store, t->route.owner_id, &st) >= 0 &&
                     st.first_seen != 0;
        int64_t last = st.last_post_id;
        community_state_done(&st);
        unsigned next_offset = b->jobs[i].offset + (unsigned)page_posts;
        if (known && page_posts > 0 && oldest != INT64_MAX && oldest > last &&
            (int64_t)next_offset < wall_count && t->pages < SWEEP_MAX_PAGES &&
            page_posts >= gw->conf->vk.wall_count) {
                r = gw->scheduler ? scheduler_record_extra(gw->scheduler, now_realtime_usec(), 1)
                                  : 0;
                if (r >= 0) {
                        if (queue_job(sw, b->jobs[i].target, next_offset, true) < 0)
                                sw->result = -ENOMEM;
                        return;
                }
                /* -EDQUOT: even the reserve is spent; keep what this page has */
                log_warning("%s (%" PRId64 ") has more new posts than one page, but "
                            "the daily budget has no room to page back; older ones of "
                            "this burst are not seen.",
                            t->name ?: t->screen_name ?: "A community",
                            t->route.owner_id);
        }
        r = process_target(sw, t);
        if (r < 0)
                sw->result = r;
        target_reset(t);
        t->done = true;
}

static int on_processing(sd_event_source *s, void *userdata)
{
        struct batch *b = userdata;
        struct sweep *sw = b->sweep;

        process_wall(b, b->next_wall++);
        if (b->next_wall < b->n_jobs)
                return 0;
        sw->processing--;
        batch_free(b);
        dispatch(sw);
        return 0;
}

static void on_wall_batch(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct batch *b = userdata;
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;
        bool retry = false, split = false;
        char why[256] = "";

        sw->in_flight--;
        if (!res) {
                snprintf(why, sizeof(why), "%s", msg);
                split = error_code == VK_ERROR_CODE_TOO_LARGE;
                retry = !split;
                goto done;
        }
        if (res->error_code != 0) {
                switch (vk_error_class_of(res->error_code)) {
                case VK_ERROR_TOKEN:
                        token_refused(gw, res);
                        break;
                case VK_ERROR_QUOTA:
                        log_warning("VK's daily wall.get limit is spent (error 29); the rest "
                                    "waits.");
                        sw->quota_exhausted = true;
                        if (gw->scheduler)
                                scheduler_quota_exhausted(gw->scheduler, now_realtime_usec());
                        break;
                case VK_ERROR_RATE:
                        /* too fast for VK after all (another client on the token?): every
                         * request waits a full window from now, and this batch backs off */
                        if (gw->source)
                                source_slow_down(gw->source);
                        snprintf(why, sizeof(why), "VK error %d: %s", res->error_code,
                                 res->error_msg);
                        retry = true;
                        break;
                default:
                        snprintf(why, sizeof(why), "VK error %d: %s", res->error_code,
                                 res->error_msg);
                        retry = true;
                }
                goto done;
        }

        /* the walls one an event-loop iteration (on_processing): 25 walls of 100 new posts would
         * otherwise be classified and stored in one go. What each call answered is kept, as the
         * answer itself goes when this returns. */
        for (size_t i = 0; i < b->n_jobs; i++) {
                b->call_error[i] = res->calls[i].error_code;
                if (res->calls[i].error_msg && !(b->call_msg[i] = strdup(res->calls[i].error_msg)))
                        sw->result = -ENOMEM;
        }
        int r = sd_event_add_defer(gw->event, &b->processing, on_processing, b);
        if (r >= 0)
                r = sd_event_source_set_enabled(b->processing, SD_EVENT_ON);
        if (r < 0) {
                log_error_errno(r, "Failed to schedule the walls of a batch: %m");
                sw->result = r;
                goto done;
        }
        (void)sd_event_source_set_description(b->processing, "sweep-walls");
        sw->processing++;
        return;

done:
        batch_drop_walls(b);
        if (split)
                split_batch(b, why);
        else if (retry)
                retry_batch(b, why);
        else
                batch_free(b);
        dispatch(sw);
}

static int send_batch(struct batch *b)
{
        struct vk_wall_request reqs[VK_EXECUTE_MAX_CALLS];
        struct sweep *sw = b->sweep;
        struct govwatch *gw = sw->gw;

        for (size_t i = 0; i < b->n_jobs; i++)
                reqs[i] = (struct vk_wall_request){
                        .owner_id = gw->targets[b->jobs[i].target].route.owner_id,
                        .count = gw->conf->vk.wall_count,
                        .offset = b->jobs[i].offset,
                };
        batch_drop_walls(b);
        int r = source_wall_get(gw->source, reqs, b->n_jobs, on_wall_json, on_wall_batch, b);
        if (r < 0)
                return r;
        sw->in_flight++;

        /* every inner call counts, whatever VK answers; a resent batch counts again */
        uint64_t now = now_realtime_usec();
        for (size_t i = 0; i < b->n_jobs && gw->scheduler; i++) {
                struct job *j = &b->jobs[i];
                struct target *t = &gw->targets[j->target];
                if (j->offset == 0) {
                        (void)scheduler_record_poll(gw->scheduler, t->route.owner_id, now);
                        sw->polled += t->poll_usec == 0;
                        t->poll_usec = now;
                } else if (j->counted)
                        j->counted = false; /* record_extra counted this first send */
                else
                        daily_budget_force(scheduler_budget(gw->scheduler), now, 1);
        }
        return 0;
}

static bool is_target(const struct govwatch *gw, int64_t owner_id)
{
        for (size_t i = 0; i < gw->n_targets; i++)
                if (gw->targets[i].route.owner_id == owner_id)
                        return true;
        return false;
}

static bool owner_ids_contain(const int64_t *ids, size_t n, int64_t owner_id)
{
        for (size_t i = 0; i < n; i++)
                if (ids[i] == owner_id)
                        return true;
        return false;
}

static bool has_interrupted_prefix(const char *text)
{
        return strncmp(text, INTERRUPTED_NONE, strlen(INTERRUPTED_NONE)) == 0;
}

/* The walls a stop interrupted (sweep_abort) go first into this sweep's list, still watched
 * ones once each; the note is cleared. `once` polls every wall anyway. */
static int take_interrupted(struct sweep *sw)
{
        struct govwatch *gw = sw->gw;
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0;
        int r;

        if (!gw->store || gw->dry_run)
                return 0;
        r = store_kv_get_text(gw->store, INTERRUPTED_KEY, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_warning("Failed to read which polls the last stop interrupted: %s, ignoring",
                            store_errmsg(gw->store));
                return 0;
        }
        if (streq(text, INTERRUPTED_NONE))
                return 0;
        if (!sw->poll_all) {
                ids = calloc(strlen(text) / 2 + sw->n_owner_ids + 1, sizeof(int64_t));
                if (!ids)
                        return -ENOMEM;
                const char *p =
                        has_interrupted_prefix(text) ? text + strlen(INTERRUPTED_NONE) : NULL;
                while (p && *p == ' ') {
                        char *end;
                        errno = 0;
                        long long id = strtoll(p + 1, &end, 10);
                        if (end == p + 1 || errno != 0) {
                                log_debug("Malformed note of interrupted polls: '%s'", text);
                                break;
                        }
                        p = end;
                        if (is_target(gw, id) && !owner_ids_contain(ids, n, id))
                                ids[n++] = id;
                }
                if (n > 0)
                        log_info("Polling %zu %s again whose poll the last stop interrupted.", n,
                                 plural(n, "community", "communities"));
                for (size_t i = 0; i < sw->n_owner_ids; i++)
                        if (!owner_ids_contain(ids, n, sw->owner_ids[i]))
                                ids[n++] = sw->owner_ids[i];
                free(sw->owner_ids);
                sw->owner_ids = TAKE_PTR(ids);
                sw->n_owner_ids = n;
        }
        r = store_kv_put_text(gw->store, INTERRUPTED_KEY, INTERRUPTED_NONE);
        if (r < 0)
                log_warning("Failed to clear the note of interrupted polls: %s, ignoring",
                            store_errmsg(gw->store));
        return 0;
}

/* Resolution is done: queue the first page of every wall this sweep polls. */
static int queue_polls(struct sweep *sw)
{
        struct govwatch *gw = sw->gw;
        int r;

        if (sw->resolving) {
                r = govwatch_scheduler_rebuild(gw);
                if (r < 0)
                        return r;
                if (!sw->poll_all) {
                        /* the list was chosen before the watch list was known */
                        free(sw->owner_ids);
                        sw->n_owner_ids = 0;
                        sw->owner_ids = calloc(SWEEP_MAX_DUE, sizeof(int64_t));
                        if (!sw->owner_ids)
                                return -ENOMEM;
                        r = scheduler_due(gw->scheduler, now_realtime_usec(), sw->owner_ids,
                                          SWEEP_MAX_DUE, &sw->n_owner_ids);
                        if (r < 0)
                                return r;
                }
                r = take_interrupted(sw);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < gw->n_targets; i++) {
                target_reset(&gw->targets[i]);
                gw->targets[i].poll_usec = 0;
        }
        if (sw->poll_all) {
                for (size_t i = 0; i < gw->n_targets; i++)
                        if (queue_job(sw, i, 0, false) < 0)
                                return -ENOMEM;
                return 0;
        }
        for (size_t k = 0; k < sw->n_owner_ids; k++)
                for (size_t i = 0; i < gw->n_targets; i++)
                        if (gw->targets[i].route.owner_id == sw->owner_ids[k]) {
                                if (queue_job(sw, i, 0, false) < 0)
                                        return -ENOMEM;
                                break;
                        }
        return 0;
}

/* The budget has no room for the job at the head of the queue: drop every job it has no room
 * for (their walls wait for a later sweep), keep the paging calls already counted. */
static void drop_over_budget(struct sweep *sw, unsigned *room_planned, unsigned *room_all)
{
        size_t kept = sw->queue_start;
        for (size_t i = sw->queue_start; i < sw->n_queue; i++) {
                struct job j = sw->queue[i];
                if (job_fits(sw->gw, &j, room_planned, room_all)) {
                        /* give the room back: dispatch takes it when it sends the job */
                        if (!j.counted) {
                                (*room_planned)++;
                                (*room_all)++;
                        }
                        sw->queue[kept++] = j;
                        continue;
                }
                target_reset(&sw->gw->targets[j.target]);
                sw->gw->targets[j.target].done = true;
                sw->over_budget++;
        }
        sw->n_queue = kept;
}

static void dispatch(struct sweep *sw)
{
        struct govwatch *gw = sw->gw;
        struct daily_budget *budget;
        unsigned room_planned = UINT_MAX, room_all = UINT_MAX;

        if (sw->result < 0 || gw->fatal < 0 || gw->token_invalid) {
                /* stop sending; finish once what is in flight has come back */
                sw->n_queue = sw->queue_start = 0;
        }
        if (!sw->polling && sw->in_flight == 0 && sw->result >= 0 && !gw->token_invalid &&
            sw->resolving && !sw->users_asked) {
                sw->users_asked = true;
                int r = name_users(sw);
                if (r < 0)
                        sw->result = r;
        }
        if (!sw->polling && sw->in_flight == 0 && sw->result >= 0 && !gw->token_invalid) {
                sw->polling = true;
                if (sw->resolving)
                        gw->targets_resolved = !sw->resolve_incomplete;
                int r = queue_polls(sw);
                if (r < 0)
                        sw->result = r;
        }
        if (sw->quota_exhausted)
                sw->n_queue = sw->queue_start = 0;

        budget = budget_of(gw); /* after queue_polls: a rebuild replaces the scheduler */
        if (budget) {
                uint64_t now = now_realtime_usec();
                room_planned = daily_budget_available(budget, now, false);
                room_all = daily_budget_available(budget, now, true);
        }
        while (sw->polling && sw->queue_start < sw->n_queue &&
               sw->in_flight < SWEEP_MAX_IN_FLIGHT) {
                struct batch *b = batch_new(sw);
                if (!b) {
                        sw->result = -ENOMEM;
                        break;
                }
                while (b->n_jobs < VK_EXECUTE_MAX_CALLS && sw->queue_start < sw->n_queue &&
                       job_fits(gw, &sw->queue[sw->queue_start], &room_planned, &room_all))
                        b->jobs[b->n_jobs++] = sw->queue[sw->queue_start++];
                if (b->n_jobs == 0) {
                        batch_free(b);
                        drop_over_budget(sw, &room_planned, &room_all);
                        continue;
                }
                int r = send_batch(b);
                if (r < 0) {
                        sw->result = r;
                        batch_free(b);
                        break;
                }
        }
        if (sw->queue_start == sw->n_queue)
                sw->queue_start = sw->n_queue = 0;

        if (sw->in_flight == 0 && sw->retrying == 0 && sw->processing == 0 && sw->n_queue == 0 &&
            (sw->polling || sw->result < 0 || gw->token_invalid))
                sweep_finish(sw);
}

static int on_defer_finish(sd_event_source *s, void *userdata)
{
        struct sweep *sw = userdata;
        struct govwatch *gw = sw->gw;
        sweep_done_fn done = sw->done;
        void *ud = sw->userdata;
        int result = sw->result;

        if (result >= 0 && gw->token_invalid)
                result = -EACCES;
        if (sw->over_budget > 0 && gw->scheduler) {
                struct scheduler_status ss;
                scheduler_status(gw->scheduler, now_realtime_usec(), &ss);
                log_warning("The daily wall.get budget has no room: %u %s not polled this time "
                            "(%u of %u calls spent in the last 24 h); polled when calls free up.",
                            sw->over_budget, plural(sw->over_budget, "community", "communities"),
                            ss.used, ss.limit);
        }
        gw->last_sweep_end = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        gw->last_sweep_polled = sw->polled;
        gw->last_sweep_new = sw->new_posts;
        gw->last_sweep_errors = sw->errors;
        sd_event_source_disable_unref(sw->defer);
        free(sw->owner_ids);
        free(sw->queue);
        free(sw);
        gw->sweep = NULL;
#ifdef __GLIBC__
        /* the answers the sweep read are free now, in holes glibc keeps: give them back, so that
         * the daemon idles small and what comes next (saving the scheduler's megabytes of state)
         * is not added on top of them */
        malloc_trim(0);
#endif
        if (done)
                done(gw, result, ud);
        return 0;
}

/* Finishing from a defer source keeps callbacks from running inside the caller's stack. */
static void sweep_finish(struct sweep *sw)
{
        if (sw->defer)
                return;
        if (sd_event_add_defer(sw->gw->event, &sw->defer, on_defer_finish, sw) < 0)
                on_defer_finish(NULL, sw);
}

int sweep_start(struct govwatch *gw, const int64_t *owner_ids, size_t n_ids, sweep_done_fn done,
                void *userdata)
{
        _cleanup_strv_free_ char **unresolved = NULL;
        uint64_t now = now_realtime_usec();
        struct sweep *sw;
        int r;

        if (gw->sweep)
                return -EBUSY;
        sw = calloc(1, sizeof(*sw));
        if (!sw)
                return -ENOMEM;
        sw->gw = gw;
        sw->done = done;
        sw->userdata = userdata;
        sw->poll_all = !owner_ids;
        if (owner_ids && n_ids > 0) {
                sw->owner_ids = malloc(n_ids * sizeof(int64_t));
                if (!sw->owner_ids) {
                        free(sw);
                        return -ENOMEM;
                }
                memcpy(sw->owner_ids, owner_ids, n_ids * sizeof(int64_t));
                sw->n_owner_ids = n_ids;
        }
        gw->sweep = sw;

        /* a resolution that a transient error left incomplete is tried again, but not every
         * scheduled sweep: those may come every few seconds */
        sw->resolving = !gw->targets_resolved &&
                        (gw->n_targets == 0 || !gw->scheduler_has_targets ||
                         now >= gw->resolve_attempted_usec + gw->conf->poll_interval_usec);
        if (sw->resolving) {
                gw->resolve_attempted_usec = now;
                targets_free(gw);
                r = targets_from_config(gw, &unresolved);
                if (r >= 0 && unresolved[0])
                        r = resolve_names(sw, unresolved);
                if (r < 0)
                        sw->result = r;
        }
        dispatch(sw);
        return 0;
}

/* Notes the walls whose poll went out in the sweep being abandoned and did not finish, added to
 * what the note holds already (a start that was stopped before it took it). */
static void save_interrupted(struct govwatch *gw)
{
        _cleanup_free_ char *old = NULL;
        struct strbuf sb = {0};
        size_t n = 0;
        int r;

        if (!gw->store || gw->dry_run)
                return;
        r = store_kv_get_text(gw->store, INTERRUPTED_KEY, &old);
        r = strbuf_puts(&sb, r >= 0 && has_interrupted_prefix(old) ? old : INTERRUPTED_NONE);
        for (size_t i = 0; r >= 0 && i < gw->n_targets; i++) {
                const struct target *t = &gw->targets[i];
                if (t->poll_usec == 0 || t->done)
                        continue;
                r = strbuf_appendf(&sb, " %" PRId64, t->route.owner_id);
                n++;
        }
        if (r >= 0 && n > 0)
                r = store_kv_put_text(gw->store, INTERRUPTED_KEY, sb.buf);
        if (r < 0)
                log_warning("Failed to note %zu interrupted polls: %s; they are polled when due.",
                            n, r == -ENOMEM ? "out of memory" : store_errmsg(gw->store));
        else if (n > 0)
                log_debug("%zu polls interrupted, polled again at the next start.", n);
        strbuf_done(&sb);
}

/* Drops a sweep in progress without calling its callback: for shutdown. The source must be
 * freed first so that no request still points at a batch. Walls half collected are forgotten;
 * nothing was recorded for them, and the next start polls them again (save_interrupted). */
void sweep_abort(struct govwatch *gw)
{
        struct sweep *sw = gw->sweep;
        if (!sw)
                return;
        if (sw->polling)
                save_interrupted(gw);
        while (sw->batches)
                batch_free(sw->batches);
        /* the source freed its requests, not what they pointed at */
        while (sw->resolve_calls)
                resolve_call_free(sw->resolve_calls);
        sd_event_source_disable_unref(sw->defer);
        free(sw->owner_ids);
        free(sw->queue);
        free(sw);
        gw->sweep = NULL;
}

bool sweep_running(const struct govwatch *gw)
{
        return gw->sweep != NULL;
}
