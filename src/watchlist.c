/* watchlist.c — the resolver of community references, and the targets of a resolved watch list
 * (watchlist.h).
 *
 * Names are kept once each, sorted by key, and asked in phases; a phase starts when every call
 * of the one before has come back, because each asks only about what the ones before left open:
 *
 *   cache   what the store knows (read_cache)
 *   groups  groups.getById: screen names and group ids, VK_GETBYID_MAX a call
 *   names   utils.resolveScreenName: the names groups.getById did not know, one a call
 *   users   users.get: the personal pages without a name, VK_USERS_GET_MAX a call
 *
 * A refused token (error 5) stops it: what is left open is NAME_LATER.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "log.h"
#include "scheduler.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "vk.h"
#include "watchlist.h"

enum phase {
        PHASE_CACHE,
        PHASE_GROUPS,
        PHASE_NAMES,
        PHASE_USERS,
        PHASE_DONE,
};

struct name_call {
        struct name_call *next, *prev; /* the resolver's calls in flight */
        struct resolver *resolver;
        size_t *names; /* indices into resolver->names */
        size_t n_names;
};

struct resolver {
        struct source *source;
        struct store *store;
        struct resolver_options opts;
        struct resolved_name *names;
        size_t n_names, allocated;
        bool started;
        enum phase phase;
        struct name_call *calls;
        unsigned in_flight;
        int token_code; /* non-zero: refused */
        char *token_msg;
        int result;
        bool advancing; /* in advance(): an answer given inside source_call only counts */
        resolver_done_fn done;
        void *userdata;
};

static int ref_key(const struct community_ref *ref, char **ret)
{
        int k;

        switch (ref->kind) {
        case COMMUNITY_REF_SCREEN_NAME:
                *ret = strdup(ref->screen_name);
                return *ret ? 0 : -ENOMEM;
        case COMMUNITY_REF_ID:
                k = asprintf(ret, "%" PRId64, -ref->owner_id);
                break;
        default:
                k = asprintf(ret, "id%" PRId64, ref->owner_id);
                break;
        }
        if (k < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

int resolver_new(struct source *source, struct store *store, const struct resolver_options *o,
                 struct resolver **ret)
{
        struct resolver *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        r->source = source;
        r->store = store;
        r->opts = *o;
        *ret = r;
        return 0;
}

static void name_call_free(struct name_call *c)
{
        struct resolver *r = c->resolver;

        if (c->prev)
                c->prev->next = c->next;
        else if (r->calls == c)
                r->calls = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c->names);
        free(c);
}

struct resolver *resolver_free(struct resolver *r)
{
        if (!r)
                return NULL;
        while (r->calls)
                name_call_free(r->calls);
        for (size_t i = 0; i < r->n_names; i++) {
                free(r->names[i].key);
                free(r->names[i].screen_name);
                free(r->names[i].title);
                free(r->names[i].why);
        }
        free(r->names);
        free(r->token_msg);
        free(r);
        return NULL;
}

int resolver_add(struct resolver *r, const struct community_ref *ref)
{
        char *key = NULL;
        int k;

        if (r->started)
                return -EBUSY;
        k = ref_key(ref, &key);
        if (k < 0)
                return k;
        if (!greedy_realloc((void **)&r->names, &r->allocated, r->n_names + 1, sizeof(*r->names))) {
                free(key);
                return -ENOMEM;
        }
        r->names[r->n_names++] = (struct resolved_name){
                .key = key,
                .kind = ref->kind,
                .owner_id = ref->kind == COMMUNITY_REF_SCREEN_NAME ? 0 : ref->owner_id,
        };
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(((const struct resolved_name *)a)->key,
                      ((const struct resolved_name *)b)->key);
}

/* Sorted by key, each once: what resolver_get() searches. */
static void names_unique(struct resolver *r)
{
        size_t k = 0;

        qsort(r->names, r->n_names, sizeof(*r->names), name_cmp);
        for (size_t i = 0; i < r->n_names; i++) {
                if (k > 0 && streq(r->names[k - 1].key, r->names[i].key)) {
                        free(r->names[i].key);
                        continue;
                }
                r->names[k++] = r->names[i];
        }
        r->n_names = k;
}

const struct resolved_name *resolver_get(const struct resolver *r, const struct community_ref *ref)
{
        _cleanup_free_ char *key = NULL;

        if (ref_key(ref, &key) < 0)
                return NULL;
        struct resolved_name probe = {.key = key};
        return bsearch(&probe, r->names, r->n_names, sizeof(*r->names), name_cmp);
}

const struct resolved_name *resolver_names(const struct resolver *r, size_t *ret_n)
{
        *ret_n = r->n_names;
        return r->names;
}

bool resolver_token_refused(const struct resolver *r, int *ret_code, const char **ret_msg)
{
        if (ret_code)
                *ret_code = r->token_code;
        if (ret_msg)
                *ret_msg = strempty(r->token_msg);
        return r->token_code != 0;
}

int resolver_result(const struct resolver *r)
{
        return r->result;
}

/* ---- outcomes ----------------------------------------------------------------------------- */

static int set_str(char **field, const char *value)
{
        char *s = NULL;

        if (value && !(s = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static void settle(struct resolver *r, struct resolved_name *n, enum name_state state,
                   const char *why)
{
        n->state = state;
        if (set_str(&n->why, why) < 0)
                r->result = -ENOMEM;
}

static void cache_put(struct resolver *r, const char *key, int64_t owner_id, const char *title,
                      const char *screen_name)
{
        if (!r->store || !r->opts.write_cache)
                return;
        int k = store_resolved_put(r->store, key, owner_id, title, screen_name,
                                   (int64_t)(now_realtime_usec() / USEC_PER_SEC));
        if (k < 0)
                log_warning_errno(k, "Failed to cache the resolution of '%s': %s, ignoring", key,
                                  store_errmsg(r->store));
}

/* The error of a plain method's answer: VK's code (0: none) and message. */
static int answer_error(const struct vk_result *res, int error_code, const char *msg,
                        const char **ret_msg)
{
        if (!res) {
                *ret_msg = strempty(msg);
                return error_code ?: -1;
        }
        if (res->error_code != 0) {
                *ret_msg = strempty(res->error_msg);
                return res->error_code;
        }
        *ret_msg = strempty(res->calls[0].error_msg);
        return res->calls[0].error_code;
}

/* A call failed as a whole: its names wait for later, and a refused token stops the rest. */
static void call_failed(struct resolver *r, const struct name_call *c, int code, const char *why)
{
        if (vk_error_class_of(code) == VK_ERROR_TOKEN && !r->token_code) {
                r->token_code = code;
                if (set_str(&r->token_msg, why) < 0)
                        r->result = -ENOMEM;
        }
        for (size_t i = 0; i < c->n_names; i++)
                settle(r, &r->names[c->names[i]], NAME_LATER, why);
}

static bool advance(struct resolver *r);

/* A call came back and was handled: the next phase starts when it was the last. */
static void call_done(struct resolver *r, struct name_call *c)
{
        name_call_free(c);
        r->in_flight--;
        if (r->in_flight == 0 && !r->advancing && advance(r) && r->done)
                r->done(r, r->userdata);
}

static bool transient(int code)
{
        enum vk_error_class cls = vk_error_class_of(code);
        return code < 0 || cls == VK_ERROR_TRANSIENT || cls == VK_ERROR_RATE ||
               cls == VK_ERROR_TOKEN;
}

/* ---- groups.getById ------------------------------------------------------------------------ */

static const struct vk_group *group_of(const struct resolved_name *n, const struct vk_group *g,
                                       size_t n_groups)
{
        for (size_t i = 0; i < n_groups; i++)
                if (n->kind == COMMUNITY_REF_ID
                            ? -n->owner_id == g[i].id
                            : strcasecmp(strempty(g[i].screen_name), n->key) == 0)
                        return &g[i];
        return NULL;
}

static void group_answered(struct resolver *r, struct resolved_name *n, const struct vk_group *g)
{
        /* only a deletion is for good: a banned community may come back, and is polled (and
         * its error 18 reported) like any unreadable wall */
        if (streq_ptr(g->deactivated, "deleted")) {
                n->owner_id = -g->id;
                settle(r, n, NAME_GONE, "is deleted");
                return;
        }
        n->owner_id = -g->id;
        if (set_str(&n->screen_name, g->screen_name) < 0 || set_str(&n->title, g->name) < 0)
                r->result = -ENOMEM;
        settle(r, n, NAME_RESOLVED, NULL);
        cache_put(r, n->key, n->owner_id, n->title, n->screen_name);
}

static void on_groups(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct name_call *c = userdata;
        struct resolver *r = c->resolver;
        struct vk_group *groups = NULL;
        size_t n_groups = 0;
        const char *why;
        int code = answer_error(res, error_code, msg, &why);

        /* error 100 (a config error): none of them is a group; they may be personal pages */
        bool answered = res && (code == 0 || vk_error_class_of(code) == VK_ERROR_CONFIG);
        if (answered && code == 0 &&
            vk_groups_parse(res->calls[0].response, &groups, &n_groups) < 0) {
                answered = false;
                why = "groups.getById answered in an unexpected shape";
        }
        if (!answered) {
                call_failed(r, c, code, why);
                goto out;
        }
        for (size_t i = 0; i < c->n_names; i++) {
                struct resolved_name *n = &r->names[c->names[i]];
                const struct vk_group *g = group_of(n, groups, n_groups);
                if (g)
                        group_answered(r, n, g);
                else if (n->kind == COMMUNITY_REF_ID)
                        settle(r, n, NAME_GONE, "does not exist");
                /* else a name: utils.resolveScreenName asks next */
        }
out:
        vk_groups_free(groups, n_groups);
        call_done(r, c);
}

/* ---- utils.resolveScreenName --------------------------------------------------------------- */

static void on_screen_name(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct name_call *c = userdata;
        struct resolver *r = c->resolver;
        struct resolved_name *n = &r->names[c->names[0]];
        const char *why;
        int code = answer_error(res, error_code, msg, &why);
        int64_t owner_id = 0;
        int k;

        if (!res || transient(code)) {
                call_failed(r, c, code, why);
                goto out;
        }
        k = code == 0 ? vk_resolve_parse(res->calls[0].response, &owner_id) : -EIO;
        if (k == -ENOENT)
                settle(r, n, NAME_UNKNOWN, "no such community or user");
        else if (k < 0)
                settle(r, n, NAME_UNKNOWN,
                       code ? why : "utils.resolveScreenName answered in an unexpected shape");
        else {
                n->owner_id = owner_id;
                if (set_str(&n->screen_name, n->key) < 0)
                        r->result = -ENOMEM;
                cache_put(r, n->key, owner_id, NULL, n->screen_name);
                /* a personal page stays open: users.get names it */
                if (owner_id < 0)
                        settle(r, n, NAME_RESOLVED, NULL);
        }
out:
        call_done(r, c);
}

/* ---- users.get ------------------------------------------------------------------------------ */

static void user_answered(struct resolver *r, struct resolved_name *n, const struct vk_user *u)
{
        char key[32];

        if (!u) {
                settle(r, n, NAME_RESOLVED, "VK did not name this personal page");
                return;
        }
        if (u->deactivated) {
                char why[64];
                snprintf(why, sizeof(why), "is %s", u->deactivated);
                settle(r, n, NAME_GONE, why);
                return;
        }
        if (set_str(&n->title, u->name) < 0)
                r->result = -ENOMEM;
        settle(r, n, NAME_RESOLVED, NULL);
        /* under id<N>, and under the screen name like a group's title */
        snprintf(key, sizeof(key), "id%" PRId64, n->owner_id);
        cache_put(r, key, n->owner_id, n->title, NULL);
        if (n->kind == COMMUNITY_REF_SCREEN_NAME)
                cache_put(r, n->key, n->owner_id, n->title, n->screen_name);
}

static void on_users(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct name_call *c = userdata;
        struct resolver *r = c->resolver;
        struct vk_user *users = NULL;
        size_t n_users = 0;
        const char *msg_vk;
        int code = answer_error(res, error_code, msg, &msg_vk);
        char why[160];

        if (!res || transient(code)) {
                call_failed(r, c, code, msg_vk);
                goto out;
        }
        if (code != 0 || vk_users_parse(res->calls[0].response, &users, &n_users) < 0) {
                /* polled all the same, without their names */
                if (code != 0)
                        snprintf(why, sizeof(why), "VK refused to name it (error %d: %s)", code,
                                 msg_vk);
                else
                        snprintf(why, sizeof(why), "users.get answered in an unexpected shape");
                for (size_t i = 0; i < c->n_names; i++)
                        settle(r, &r->names[c->names[i]], NAME_RESOLVED, why);
                goto out;
        }
        for (size_t i = 0; i < c->n_names; i++) {
                struct resolved_name *n = &r->names[c->names[i]];
                const struct vk_user *u = NULL;
                for (size_t k = 0; k < n_users && !u; k++)
                        if (users[k].id == n->owner_id)
                                u = &users[k];
                user_answered(r, n, u);
        }
out:
        vk_users_free(users, n_users);
        call_done(r, c);
}

/* ---- phases ---------------------------------------------------------------------------------- */

static bool wanted(const struct resolved_name *n, enum phase phase)
{
        if (n->state != NAME_PENDING)
                return false;
        switch (phase) {
        case PHASE_GROUPS:
                return n->kind != COMMUNITY_REF_USER_ID && !(n->owner_id > 0);
        case PHASE_NAMES:
                return n->kind == COMMUNITY_REF_SCREEN_NAME && n->owner_id == 0;
        case PHASE_USERS:
                return n->owner_id > 0;
        default:
                return false;
        }
}

/* A personal page's name under id<N>; a screen name or group id under itself. A group id cached
 * without its screen name (a row older than the column) is asked again. */
static void from_cache(struct resolver *r, struct resolved_name *n)
{
        _cleanup_free_ char *title = NULL, *screen_name = NULL;
        int64_t owner_id = 0;
        char key[32];
        int k;

        if (n->kind != COMMUNITY_REF_USER_ID) {
                k = store_resolved_get(r->store, n->key, &owner_id, &title, &screen_name);
                if (k < 0 || (n->kind == COMMUNITY_REF_ID && !screen_name))
                        return;
                n->owner_id = owner_id;
                n->screen_name = TAKE_PTR(screen_name);
                if (owner_id < 0 || title) {
                        n->title = TAKE_PTR(title);
                        settle(r, n, NAME_RESOLVED, NULL);
                        return;
                }
        }
        snprintf(key, sizeof(key), "id%" PRId64, n->owner_id);
        k = store_resolved_get(r->store, key, &owner_id, &title, NULL);
        if (k >= 0 && owner_id == n->owner_id && title) {
                n->title = TAKE_PTR(title);
                settle(r, n, NAME_RESOLVED, NULL);
        }
}

static int call_send(struct resolver *r, struct name_call *c, const char *method, const char *key,
                     const char *value, source_done_fn done)
{
        const char *k[] = {key};
        const char *v[] = {value};
        int e;

        c->resolver = r;
        c->next = r->calls;
        if (c->next)
                c->next->prev = c;
        r->calls = c;
        r->in_flight++;
        /* a request that cannot start is answered inside source_call */
        e = source_call(r->source, method, k, v, 1, 0, done, c);
        if (e < 0) {
                r->in_flight--;
                name_call_free(c);
        }
        return e;
}

/* Sends the calls of phase for the names from *i on, up to max names a call. */
static int send_chunk(struct resolver *r, enum phase phase, size_t *i, size_t max)
{
        static const struct {
                const char *method, *key;
                source_done_fn done;
        } calls[] = {
                [PHASE_GROUPS] = {"groups.getById", "group_ids", on_groups},
                [PHASE_NAMES] = {"utils.resolveScreenName", "screen_name", on_screen_name},
                [PHASE_USERS] = {"users.get", "user_ids", on_users},
        };
        struct strbuf list = {0};
        struct name_call *c = calloc(1, sizeof(*c));
        int k = 0;

        if (!c || !(c->names = calloc(max, sizeof(size_t)))) {
                free(c);
                return -ENOMEM;
        }
        for (; *i < r->n_names && c->n_names < max && k >= 0; (*i)++) {
                const struct resolved_name *n = &r->names[*i];
                if (!wanted(n, phase))
                        continue;
                if (phase == PHASE_USERS)
                        k = strbuf_appendf(&list, "%s%" PRId64, list.len ? "," : "", n->owner_id);
                else
                        k = strbuf_appendf(&list, "%s%s", list.len ? "," : "", n->key);
                c->names[c->n_names++] = *i;
        }
        if (k >= 0 && c->n_names > 0)
                k = call_send(r, c, calls[phase].method, calls[phase].key, list.buf,
                              calls[phase].done);
        else {
                free(c->names);
                free(c);
        }
        strbuf_done(&list);
        return k;
}

static size_t chunk_max(enum phase phase)
{
        return phase == PHASE_GROUPS ? VK_GETBYID_MAX : phase == PHASE_USERS ? VK_USERS_GET_MAX : 1;
}

/* Runs the phases while no call is in flight. true when every phase is done. */
static bool advance(struct resolver *r)
{
        int k;

        r->advancing = true;
        while (r->in_flight == 0 && r->phase < PHASE_DONE) {
                enum phase phase = r->phase++;
                if (phase == PHASE_CACHE) {
                        for (size_t i = 0; r->store && r->opts.read_cache && i < r->n_names; i++)
                                from_cache(r, &r->names[i]);
                        continue;
                }
                for (size_t i = 0; i < r->n_names && !r->token_code && r->result >= 0;) {
                        k = send_chunk(r, phase, &i, chunk_max(phase));
                        if (k < 0)
                                r->result = k;
                }
        }
        r->advancing = false;
        if (r->in_flight > 0)
                return false;
        /* what no phase settled (the token was refused, or memory ran out) waits for later */
        for (size_t i = 0; i < r->n_names; i++)
                if (r->names[i].state == NAME_PENDING)
                        settle(r, &r->names[i], NAME_LATER,
                               r->token_code ? strempty(r->token_msg) : "not asked");
        return true;
}

int resolver_start(struct resolver *r, resolver_done_fn done, void *userdata)
{
        if (r->started)
                return -EBUSY;
        r->started = true;
        names_unique(r);
        r->done = done;
        r->userdata = userdata;
        return advance(r) ? 1 : 0;
}

/* ---- the watch list's targets -------------------------------------------------------------- */

int watchlist_resolver(const struct config *conf, struct source *source, struct store *store,
                       bool write_cache, struct resolver **ret)
{
        struct resolver_options o = {.read_cache = true, .write_cache = write_cache};
        _cleanup_(resolver_freep) struct resolver *res = NULL;
        int r;

        r = resolver_new(source, store, &o, &res);
        for (size_t w = 0; r >= 0 && w < conf->n_watch; w++)
                for (size_t c = 0; r >= 0 && c < conf->watch[w].n_communities; c++)
                        r = resolver_add(res, &conf->watch[w].communities[c]);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(res);
        return 0;
}

static void target_done(struct target *t)
{
        free(t->route.watch);
        free(t->name);
        free(t->screen_name);
}

void targets_free(struct target *targets, size_t n)
{
        for (size_t i = 0; i < n; i++)
                target_done(&targets[i]);
        free(targets);
}

struct target_list {
        struct target *t;
        size_t n, allocated;
};

/* The target of owner_id, new or not, named by watch entry watch_idx of conf. */
static int target_add(struct target_list *l, const struct config *conf, int64_t owner_id,
                      size_t watch_idx, const char *name, const char *screen_name)
{
        const struct watch_conf *wc = &conf->watch[watch_idx];
        struct target *t = NULL;

        for (size_t i = 0; i < l->n && !t; i++)
                if (l->t[i].route.owner_id == owner_id)
                        t = &l->t[i];
        if (!t) {
                if (!greedy_realloc((void **)&l->t, &l->allocated, l->n + 1, sizeof(*l->t)))
                        return -ENOMEM;
                t = &l->t[l->n++];
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
        if (wc->backfill > t->backfill)
                t->backfill = wc->backfill;
        unsigned priority = wc->priority < 1                        ? 1
                            : wc->priority > SCHEDULER_PRIORITY_MAX ? SCHEDULER_PRIORITY_MAX
                                                                    : (unsigned)wc->priority;
        if (priority > t->priority)
                t->priority = priority;
        if (wc->max_interval_usec > 0 &&
            (t->max_interval_usec == 0 || wc->max_interval_usec < t->max_interval_usec))
                t->max_interval_usec = wc->max_interval_usec;
        return 0;
}

/* Says, at the watch-list entry ref, why its wall is not polled. */
static void report_unpolled(const struct config *conf, const struct community_ref *ref,
                            const struct resolved_name *n)
{
        if (n->state == NAME_GONE)
                log_warning("%s:%u:%u: %s '%s' (id %" PRId64 ") %s on VK, skipping it", conf->path,
                            ref->mark.line, ref->mark.column,
                            n->owner_id > 0 ? "personal page" : "community", ref->raw,
                            n->owner_id > 0 ? n->owner_id : -n->owner_id, strempty(n->why));
        else if (n->state == NAME_UNKNOWN)
                log_warning("%s:%u:%u: cannot resolve community '%s': %s, skipping it", conf->path,
                            ref->mark.line, ref->mark.column, ref->raw, strempty(n->why));
}

/* What the resolver left open, once a name: errors, or names asked again later. */
static void count_unresolved(const struct resolver *res, struct watchlist_outcome *o)
{
        const struct resolved_name *names;
        size_t n = 0, later = 0, unnamed = 0;
        const char *later_why = NULL, *unnamed_why = NULL;

        names = resolver_names(res, &n);
        for (size_t i = 0; i < n; i++) {
                const struct resolved_name *x = &names[i];
                if (x->state == NAME_GONE || x->state == NAME_UNKNOWN)
                        o->errors++;
                else if (x->state == NAME_LATER && later++ == 0)
                        later_why = x->why;
                else if (x->state == NAME_RESOLVED && x->owner_id > 0 && !x->title &&
                         unnamed++ == 0)
                        unnamed_why = x->why;
        }
        if (later > 0) {
                log_warning("Failed to resolve %zu %s of the watch list (%s); will retry next "
                            "sweep.",
                            later, plural(later, "name", "names"), strempty(later_why));
                o->incomplete = true;
        }
        if (unnamed > 0)
                log_warning("%zu personal %s polled without a name: %s.", unnamed,
                            plural(unnamed, "page is", "pages are"), strempty(unnamed_why));
}

int watchlist_targets(const struct config *conf, const struct resolver *res, struct target **ret,
                      size_t *ret_n, struct watchlist_outcome *ret_outcome)
{
        struct target_list l = {0};
        struct watchlist_outcome o = {0};
        int r = resolver_result(res);

        for (size_t w = 0; r >= 0 && w < conf->n_watch; w++) {
                const struct watch_conf *wc = &conf->watch[w];
                for (size_t c = 0; r >= 0 && c < wc->n_communities; c++) {
                        const struct community_ref *ref = &wc->communities[c];
                        const struct resolved_name *n = resolver_get(res, ref);
                        if (!n)
                                r = -ENOENT; /* not added to res */
                        else if (!resolved_name_pollable(n))
                                report_unpolled(conf, ref, n);
                        else
                                r = target_add(&l, conf, n->owner_id, w, n->title,
                                               ref->kind == COMMUNITY_REF_SCREEN_NAME
                                                       ? ref->screen_name
                                                       : NULL);
                }
        }
        if (r < 0) {
                targets_free(l.t, l.n);
                return r;
        }
        count_unresolved(res, &o);
        *ret = l.t;
        *ret_n = l.n;
        *ret_outcome = o;
        return 0;
}
