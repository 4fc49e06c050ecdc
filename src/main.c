/* main.c — govwatchd's command line: parse options, pick the verb, hand over.
 *
 * Verbs and their exit codes are a contract (DESIGN.md): run, once [--dry-run], check-config,
 * test-sink NAME, resolve NAME..., status, classify. Logs go to stderr; only --dry-run output,
 * `resolve`, `status`, `classify` and the console sink write to stdout.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "daemon.h"
#include "log.h"

static const char *arg_config = CONFIG_DEFAULT_PATH;
static bool arg_dry_run;

static void help(void)
{
        printf("govwatchd — watch Russian government communities on VK and notify residents\n\n"
               "Usage:\n"
               "  govwatchd [OPTIONS] [run]             the daemon (the default verb)\n"
               "  govwatchd [OPTIONS] once [--dry-run]  one sweep over the watch list, deliver, "
               "exit\n"
               "  govwatchd [OPTIONS] check-config      validate the config; errors as "
               "FILE:LINE:COL\n"
               "  govwatchd [OPTIONS] test-sink NAME    send one test notification through a sink\n"
               "  govwatchd [OPTIONS] resolve NAME|URL...  id, screen name and title of "
               "communities\n"
               "  govwatchd [OPTIONS] status            communities, last poll, errors, outbox\n"
               "  govwatchd [OPTIONS] reload PID        SIGHUP the daemon, wait for the new "
               "config\n"
               "  govwatchd classify [--rules FILE] [--explain]  VK posts (JSON lines) on stdin\n"
               "  govwatchd train --out FILE            the classifier's model from the corpus\n\n"
               "Options:\n"
               "  -c, --config FILE  configuration (default %s)\n"
               "  -n, --dry-run      with once: record nothing, print notifications as JSON\n"
               "  -v, --verbose      debug logging\n"
               "  -h, --help         this help\n"
               "      --version      print the version\n\n"
               "The VK token is read from vk.token_file, $GOVWATCH_VK_TOKEN or\n"
               "$CREDENTIALS_DIRECTORY/vk-token; never pass it on the command line.\n",
               CONFIG_DEFAULT_PATH);
}

static int load_config(struct config **ret)
{
        struct config_errors errors = {0};
        int r = config_load(arg_config, ret, &errors);
        if (r < 0) {
                config_errors_print(&errors, arg_config, stderr);
                config_errors_done(&errors);
                return r;
        }
        config_errors_done(&errors);
        return 0;
}

static int verb_check_config(void)
{
        _cleanup_config_free_ struct config *conf = NULL;
        if (load_config(&conf) < 0)
                return 1;
        fprintf(stderr, "%s: OK (%zu watch entries, %zu sinks)\n", arg_config, conf->n_watch,
                conf->n_sinks);
        return 0;
}

/* Builds the whole pipeline; conf is handed over to the govwatch object. */
static int setup(sd_event **ret_event, struct govwatch **ret_gw, bool dry_run)
{
        _cleanup_config_free_ struct config *conf = NULL;
        _cleanup_free_ char *token = NULL;
        struct govwatch *gw = NULL;
        sd_event *event = NULL;
        int r;

        r = load_config(&conf);
        if (r < 0)
                return r;
        r = config_read_token(conf, &token);
        if (r < 0)
                return log_error_errno(r, "Failed to read the VK token: %m");
        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");
        r = govwatch_new(event, conf, dry_run, &gw);
        if (r < 0) {
                sd_event_unref(event);
                return r;
        }
        TAKE_PTR(conf);
        r = source_new(event, gw->http, gw->conf, token, &gw->source);
        explicit_bzero(token, strlen(token));
        if (r >= 0 && gw->store) {
                /* a restart must not grant a fresh burst of requests */
                int k = source_load_bucket(gw->source, gw->store);
                if (k < 0)
                        log_warning_errno(k, "Failed to restore the request bucket, ignoring: %m");
        }
        if (r >= 0 && !dry_run)
                r = govwatch_create_sinks(gw);
        if (r < 0) {
                govwatch_free(gw);
                sd_event_unref(event);
                return log_error_errno(r, "Failed to set up: %m");
        }
        *ret_event = event;
        *ret_gw = gw;
        return 0;
}

static int verb_once(void)
{
        sd_event *event = NULL;
        struct govwatch *gw = NULL;
        int r = setup(&event, &gw, arg_dry_run);
        if (r < 0)
                return 1;
        gw->ignore_quiet_hours = true; /* DESIGN.md: once delivers now, whatever the hour */
        r = daemon_once(gw);
        govwatch_free(gw);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}

static int verb_run(void)
{
        sd_event *event = NULL;
        struct govwatch *gw = NULL;

        /* before setup: systemctl stop or govwatchd reload during start-up must not kill us */
        daemon_block_signals();
        int r = setup(&event, &gw, false);
        if (r < 0)
                return 1;
        r = daemon_run(gw, arg_config);
        govwatch_free(gw);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}

struct test_sink_state {
        enum sink_result result;
        char *detail;
        bool done;
        sd_event *event;
};

static void test_sink_done(struct sink *s, enum sink_result result, uint64_t retry_after_usec,
                           const char *detail, void *userdata)
{
        struct test_sink_state *st = userdata;
        st->result = result;
        st->detail = detail ? strdup(detail) : NULL;
        st->done = true;
        sd_event_exit(st->event, 0);
}

static int verb_test_sink(const char *name)
{
        sd_event *event = NULL;
        struct govwatch *gw = NULL;
        struct test_sink_state st = {0};
        char *cats[] = {"live", NULL};
        int r, ret = 1;

        r = setup(&event, &gw, false);
        if (r < 0)
                return 1;
        ssize_t idx = config_find_sink(gw->conf, name);
        if (idx < 0) {
                log_error("No sink named '%s' in %s.", name, arg_config);
                goto out;
        }
        if (!gw->sinks[idx]) {
                log_error("Sink '%s' (type %s) cannot be used by this build.", name,
                          gw->conf->sinks[idx].type);
                goto out;
        }
        struct notification n = {
                .kind = "test",
                .owner_id = -1,
                .post_id = 1,
                .community = "govwatch",
                .topic = "Проверка",
                .url = "https://vk.com/wall-1_1",
                .text = "Проверка уведомлений govwatch: если вы это читаете, канал работает.",
                .categories = cats,
                .date = (int64_t)time(NULL),
                .created = (int64_t)time(NULL),
        };
        st.event = event;
        r = sink_send(gw->sinks[idx], &n, test_sink_done, &st);
        if (r < 0) {
                log_error_errno(r, "Sink '%s' failed to send: %m", name);
                goto out;
        }
        if (!st.done)
                (void)sd_event_loop(event);
        printf("%s: %s%s%s\n", name, sink_result_name(st.result), st.detail ? ": " : "",
               strempty(st.detail));
        ret = st.result == SINK_ACCEPTED ? 0 : 1;
out:
        free(st.detail);
        govwatch_free(gw);
        sd_event_unref(event);
        return ret;
}

static const char *ago(int64_t t, char *buf, size_t size)
{
        struct tm tm;
        time_t tt = (time_t)t;
        if (t == 0 || !localtime_r(&tt, &tm))
                return "never";
        strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
        return buf;
}

/* printf's %-40s pads bytes; Cyrillic needs padding by characters. Cuts long names. */
static void put_padded(const char *s, size_t width)
{
        size_t chars = 0;
        const char *p = s;
        for (; *p && chars < width - 1; p++)
                if (((unsigned char)*p & 0xC0) != 0x80)
                        chars++;
        while (((unsigned char)*p & 0xC0) == 0x80) /* finish the last character */
                p++;
        fwrite(s, 1, (size_t)(p - s), stdout);
        for (; chars < width; chars++)
                putchar(' ');
}

#define STATUS_DEAD_LETTERS 10

/* The newest dead letters with why they died: what an admin must resend or fix by hand. */
static void print_dead_letters(struct store *store, size_t max)
{
        struct dead_letter *l = NULL;
        size_t n = 0;
        char b[32];

        if (store_dead_letters(store, max, &l, &n) < 0 || n == 0)
                return;
        printf("\ndead letters (newest %zu):\n", n);
        for (size_t i = 0; i < n; i++)
                printf("  %s  %-10s %s  after %u attempts: %s\n", ago(l[i].created, b, sizeof(b)),
                       strempty(l[i].sink), strempty(l[i].url), l[i].attempts,
                       l[i].last_error ? l[i].last_error : "-");
        dead_letters_free(l, n);
}

static void print_alerts(struct store *store)
{
        _cleanup_strv_free_ char **subjects = NULL;
        if (store_alerts_active(store, &subjects) < 0 || !subjects[0])
                return;
        printf("\nalerts:\n");
        for (char **s = subjects; *s; s++) {
                struct alert_row a = {0};
                char b[32];
                if (store_alert_get(store, *s, &a) < 0)
                        continue;
                printf("  %-24s failing since %s, %u in a row: %s\n", *s,
                       ago(a.since, b, sizeof(b)), a.failures, a.last_error ? a.last_error : "-");
                free(a.last_error);
        }
}

struct watched {
        int64_t owner_id;
        unsigned priority;
};

static int watched_cmp(const void *a, const void *b)
{
        const struct watched *x = a, *y = b;
        if (x->owner_id != y->owner_id)
                return x->owner_id < y->owner_id ? -1 : 1;
        return x->priority > y->priority ? -1 : x->priority < y->priority;
}

/* The daily wall.get budget as the daemon last saved it, and whether it covers the watch list
 * (the communities the store can name) at max_interval. */
static void print_quota(const struct config *conf, struct store *store)
{
        _cleanup_scheduler_ struct scheduler *s = NULL;
        _cleanup_free_ struct watched *w = NULL;
        struct scheduler_status ss;
        size_t n = 0, total = 0;
        unsigned needed = 0;
        bool ok = true;
        char b[32], every[FORMAT_DURATION_MAX];

        for (size_t i = 0; i < conf->n_watch; i++)
                total += conf->watch[i].n_communities;
        w = calloc(total + 1, sizeof(*w));
        if (!w || govwatch_scheduler_new(conf, &s) < 0)
                return;
        for (size_t i = 0; i < conf->n_watch; i++)
                for (size_t c = 0; c < conf->watch[i].n_communities; c++) {
                        const struct community_ref *ref = &conf->watch[i].communities[c];
                        int64_t owner_id = ref->owner_id;
                        int p = conf->watch[i].priority;
                        if (ref->kind == COMMUNITY_REF_SCREEN_NAME &&
                            store_resolved_get(store, ref->screen_name, &owner_id, NULL) < 0)
                                continue;
                        if (owner_id == 0)
                                continue;
                        w[n++] = (struct watched){
                                .owner_id = owner_id,
                                .priority = p < 1                        ? 1
                                            : p > SCHEDULER_PRIORITY_MAX ? SCHEDULER_PRIORITY_MAX
                                                                         : (unsigned)p,
                        };
                }
        /* a community in several watch entries is polled for the most urgent of them */
        qsort(w, n, sizeof(*w), watched_cmp);
        for (size_t i = 0; i < n; i++)
                if (i == 0 || w[i].owner_id != w[i - 1].owner_id)
                        (void)scheduler_add(s, w[i].owner_id, w[i].priority);
        (void)govwatch_scheduler_load(s, store);

        scheduler_status(s, now_realtime_usec(), &ss);
        printf("\nquota: %u of %u wall.get calls spent in the last 24 h, %u available now", ss.used,
               ss.limit, ss.available);
        if (ss.available == 0 && ss.budget_next_free != UINT64_MAX)
                printf(" (next at %s)",
                       ago((int64_t)(ss.budget_next_free / USEC_PER_SEC), b, sizeof(b)));
        printf("\n");
        scheduler_coverage(s, &ok, &needed);
        format_duration(every, sizeof(every), conf->max_interval_usec);
        if (ok)
                printf("coverage: OK, %zu communities at least every %s need about %u calls a "
                       "day\n",
                       scheduler_size(s), every, needed);
        else
                printf("coverage: NOT ENOUGH, %zu communities at least every %s (max_interval) "
                       "need about %u calls a day, more than the budget of %u less %u for "
                       "bursts: they are polled less often\n",
                       scheduler_size(s), every, needed, conf->vk.daily_wall_get,
                       conf->vk.daily_wall_get / 50);
}

static int verb_status(void)
{
        _cleanup_config_free_ struct config *conf = NULL;
        _cleanup_store_free_ struct store *store = NULL;
        unsigned pending = 0, dead = 0;
        int r;

        if (load_config(&conf) < 0)
                return 1;
        r = store_open_readonly(conf->state_dir, &store);
        if (r < 0) {
                log_error_errno(r, "Failed to open the store in %s: %m", conf->state_dir);
                return 1;
        }
        printf("%-12s %-40s %-16s %-12s %s\n", "OWNER_ID", "NAME", "LAST POLL", "LAST POST",
               "ERROR");
        /* communities of the watch list, as the store knows them */
        for (size_t w = 0; w < conf->n_watch; w++)
                for (size_t c = 0; c < conf->watch[w].n_communities; c++) {
                        const struct community_ref *ref = &conf->watch[w].communities[c];
                        int64_t owner_id = ref->owner_id;
                        struct community_state st = {0};
                        char b1[32];

                        if (ref->kind == COMMUNITY_REF_SCREEN_NAME &&
                            store_resolved_get(store, ref->screen_name, &owner_id, NULL) < 0) {
                                printf("%-12s ", "?");
                                put_padded(ref->raw, 40);
                                printf(" %-16s %-12s %s\n", "never", "-", "not resolved yet");
                                continue;
                        }
                        if (store_community_get(store, owner_id, &st) < 0) {
                                printf("%-12" PRId64 " ", owner_id);
                                put_padded(ref->raw, 40);
                                printf(" %-16s %-12s\n", "never", "-");
                                continue;
                        }
                        char err[160] = "";
                        if (st.error_code)
                                snprintf(err, sizeof(err), "VK error %d: %s", st.error_code,
                                         strempty(st.error_msg));
                        printf("%-12" PRId64 " ", owner_id);
                        put_padded(st.name ? st.name : ref->raw, 40);
                        printf(" %-16s %-12" PRId64 " %s\n", ago(st.last_poll, b1, sizeof(b1)),
                               st.last_post_id, err);
                        community_state_done(&st);
                }
        (void)store_outbox_counts(store, &pending, &dead);
        printf("\noutbox: %u pending, %u dead letters\n", pending, dead);
        for (size_t i = 0; i < conf->n_sinks; i++) {
                unsigned p = 0, delivered = 0, d = 0;
                if (store_outbox_sink_counts(store, conf->sinks[i].name, &p, &delivered, &d) >= 0 &&
                    p + delivered + d > 0)
                        printf("  %-16s %u pending, %u delivered (kept as history), %u dead\n",
                               conf->sinks[i].name, p, delivered, d);
        }
        print_dead_letters(store, STATUS_DEAD_LETTERS);
        print_alerts(store);
        print_quota(conf, store);
        return 0;
}

/* A personal page, named by users.get once every other call has come back. */
struct resolve_page {
        int64_t id;
        char *name; /* as asked for: a screen name or id<N> */
};

struct resolve_state {
        sd_event *event;
        struct source *source;
        char **screen_names; /* asked for by screen name: may turn out to be personal pages */
        struct resolve_page *pages;
        size_t n_pages;
        bool pages_asked;
        int pending;
        int failed;
};

struct resolve_user {
        struct resolve_state *st;
        char *name;
};

struct resolve_users_call {
        struct resolve_state *st;
        size_t start, n; /* of st->pages */
};

static int resolve_page_add(struct resolve_state *st, int64_t id, const char *name)
{
        struct resolve_page *p = realloc(st->pages, (st->n_pages + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        st->pages = p;
        if (!(p[st->n_pages].name = strdup(name)))
                return -ENOMEM;
        p[st->n_pages++].id = id;
        return 0;
}

static void print_users(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct resolve_users_call *c = userdata;
        struct resolve_state *st = c->st;
        struct vk_user *u = NULL;
        size_t n = 0;

        if (!res || res->calls[0].error_code != 0) {
                log_error("users.get failed: %s", res ? res->calls[0].error_msg : strempty(msg));
                st->failed = 1;
        } else if (vk_users_parse(res->calls[0].response, &u, &n) < 0) {
                log_error("users.get answered in an unexpected shape");
                st->failed = 1;
        } else
                for (size_t k = c->start; k < c->start + c->n; k++) {
                        const struct resolve_page *p = &st->pages[k];
                        const struct vk_user *user = NULL;
                        for (size_t i = 0; i < n && !user; i++)
                                if (u[i].id == p->id)
                                        user = &u[i];
                        if (user && !user->deactivated) {
                                printf("%" PRId64 "\t%s\t%s\n", p->id, p->name, user->name);
                                continue;
                        }
                        if (user)
                                log_error("'%s': personal page %" PRId64 " is %s on VK", p->name,
                                          p->id, user->deactivated);
                        else
                                log_error("'%s': VK did not name personal page %" PRId64, p->name,
                                          p->id);
                        st->failed = 1;
                }
        vk_users_free(u, n);
        vk_result_free(res);
        free(c);
        if (--st->pending == 0)
                sd_event_exit(st->event, 0);
}

/* users.get for the personal pages met so far, VK_USERS_GET_MAX a call. */
static void ask_users(struct resolve_state *st)
{
        st->pages_asked = true;
        for (size_t start = 0; start < st->n_pages; start += VK_USERS_GET_MAX) {
                size_t n = st->n_pages - start < VK_USERS_GET_MAX ? st->n_pages - start
                                                                  : VK_USERS_GET_MAX;
                struct resolve_users_call *c = calloc(1, sizeof(*c));
                struct strbuf ids = {0};
                int r = c ? 0 : -ENOMEM;
                for (size_t k = start; r >= 0 && k < start + n; k++)
                        r = strbuf_appendf(&ids, "%s%" PRId64, k > start ? "," : "",
                                           st->pages[k].id);
                if (r >= 0) {
                        *c = (struct resolve_users_call){.st = st, .start = start, .n = n};
                        const char *k[] = {"user_ids"};
                        const char *v[] = {ids.buf};
                        r = source_call(st->source, "users.get", k, v, 1, 0, print_users, c);
                }
                strbuf_done(&ids);
                if (r < 0) {
                        log_error_errno(r, "Failed to ask VK for the names of personal pages: %m");
                        free(c);
                        st->failed = 1;
                        continue;
                }
                st->pending++;
        }
}

static void resolve_done_one(struct resolve_state *st)
{
        if (--st->pending > 0)
                return;
        if (!st->pages_asked && st->n_pages > 0)
                ask_users(st);
        if (st->pending == 0)
                sd_event_exit(st->event, 0);
}

static void print_user(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct resolve_user *u = userdata;
        int64_t owner_id = 0;
        int r = -EIO;

        if (res && res->calls[0].error_code == 0)
                r = vk_resolve_parse(res->calls[0].response, &owner_id);
        if (r >= 0 && owner_id > 0) {
                if (resolve_page_add(u->st, owner_id, u->name) < 0) {
                        log_oom();
                        u->st->failed = 1;
                }
        } else if (r >= 0)
                printf("%" PRId64 "\t%s\t\n", owner_id, u->name);
        else {
                log_error("'%s': %s", u->name,
                          r == -ENOENT ? "no such community or user"
                          : res        ? strempty(res->calls[0].error_msg)
                                       : strempty(msg));
                u->st->failed = 1;
        }
        vk_result_free(res);
        struct resolve_state *st = u->st;
        free(u->name);
        free(u);
        resolve_done_one(st);
}

static void print_groups(struct vk_result *res, int error_code, const char *msg, void *userdata)
{
        struct resolve_state *st = userdata;
        struct vk_group *g = NULL;
        size_t n = 0;

        /* error 100 means none of the names is a group: they may all be personal pages */
        if (!res || (res->calls[0].error_code != 0 && res->calls[0].error_code != 100)) {
                log_error("groups.getById failed: %s",
                          res ? res->calls[0].error_msg : strempty(msg));
                st->failed = 1;
        } else {
                if (res->calls[0].error_code == 0 &&
                    vk_groups_parse(res->calls[0].response, &g, &n) >= 0)
                        for (size_t i = 0; i < n; i++)
                                printf("%" PRId64 "\t%s\t%s\n", -g[i].id, g[i].screen_name,
                                       g[i].name);
                for (char **name = st->screen_names; name && *name; name++) {
                        bool found = false;
                        for (size_t i = 0; i < n && !found; i++)
                                found = strcasecmp(g[i].screen_name, *name) == 0;
                        if (found)
                                continue;
                        struct resolve_user *u = calloc(1, sizeof(*u));
                        if (!u || !(u->name = strdup(*name))) {
                                free(u);
                                st->failed = 1;
                                continue;
                        }
                        u->st = st;
                        const char *k[] = {"screen_name"};
                        const char *v[] = {*name};
                        if (source_call(st->source, "utils.resolveScreenName", k, v, 1, 0,
                                        print_user, u) < 0) {
                                free(u->name);
                                free(u);
                                st->failed = 1;
                                continue;
                        }
                        st->pending++;
                }
        }
        vk_groups_free(g, n);
        vk_result_free(res);
        resolve_done_one(st);
}

static int verb_resolve(char **names, int n)
{
        sd_event *event = NULL;
        struct govwatch *gw = NULL;
        struct strbuf ids = {0};
        struct resolve_state st = {0};
        int r;

        r = setup(&event, &gw, true);
        if (r < 0)
                return 1;
        for (int i = 0; i < n; i++) {
                struct community_ref ref;
                const char *reason;
                if (community_ref_parse(names[i], &ref, &reason) < 0) {
                        log_error("'%s' is not a community reference: %s", names[i], reason);
                        st.failed = 1;
                        continue;
                }
                if (ref.kind == COMMUNITY_REF_ID)
                        (void)strbuf_appendf(&ids, "%s%" PRId64, ids.len ? "," : "", -ref.owner_id);
                else if (ref.kind == COMMUNITY_REF_SCREEN_NAME) {
                        (void)strbuf_appendf(&ids, "%s%s", ids.len ? "," : "", ref.screen_name);
                        size_t k = strv_length(st.screen_names);
                        char **l = realloc(st.screen_names, (k + 2) * sizeof(char *));
                        if (l) {
                                st.screen_names = l;
                                l[k] = strdup(ref.screen_name);
                                l[k + 1] = NULL;
                        }
                } else {
                        char name[32];
                        snprintf(name, sizeof(name), "id%" PRId64, ref.owner_id);
                        if (resolve_page_add(&st, ref.owner_id, name) < 0) {
                                log_oom();
                                st.failed = 1;
                        }
                }
                free(ref.screen_name);
                free(ref.raw);
        }
        st.event = event;
        st.source = gw->source;
        st.pending = 1; /* this function's own, dropped once the first calls are out */
        if (ids.len > 0) {
                const char *k[] = {"group_ids"};
                const char *v[] = {ids.buf};
                r = source_call(gw->source, "groups.getById", k, v, 1, 0, print_groups, &st);
                if (r >= 0)
                        st.pending++;
                else
                        st.failed = 1;
        }
        resolve_done_one(&st);
        if (st.pending > 0)
                (void)sd_event_loop(event);
        strbuf_done(&ids);
        strv_free(st.screen_names);
        for (size_t i = 0; i < st.n_pages; i++)
                free(st.pages[i].name);
        free(st.pages);
        govwatch_free(gw);
        sd_event_unref(event);
        return st.failed;
}

/* ExecReload= helper: SIGHUP the daemon and wait until it has re-read its config (it counts
 * reloads in the store), so `systemctl reload` returns when the new config is in place and fails
 * when the file was refused. systemd 252 has no Type=notify-reload to do this for us. */
static int verb_reload(const char *pid_arg)
{
        _cleanup_config_free_ struct config *conf = NULL;
        _cleanup_store_free_ struct store *store = NULL;
        int64_t before = 0, after = 0, ok = 0;
        char *end;
        int r;

        errno = 0;
        long pid = strtol(pid_arg, &end, 10);
        if (errno != 0 || *end || pid <= 1) {
                log_error("'%s' is not a process id.", pid_arg);
                return 2;
        }
        if (load_config(&conf) < 0)
                return 1; /* the daemon would refuse it too, and keep running as it is */
        r = store_open_readonly(conf->state_dir, &store);
        if (r < 0) {
                log_error_errno(r, "Failed to open the store in %s: %m", conf->state_dir);
                return 1;
        }
        (void)store_kv_get_int(store, "reload_count", &before);
        if (kill((pid_t)pid, SIGHUP) < 0) {
                log_error_errno(errno, "Failed to signal process %ld: %m", pid);
                return 1;
        }
        for (unsigned i = 0; i < 900; i++) { /* 90 s */
                struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
                if (store_kv_get_int(store, "reload_count", &after) >= 0 && after != before) {
                        (void)store_kv_get_int(store, "reload_ok", &ok);
                        if (!ok)
                                log_error("govwatchd refused the new configuration and keeps the "
                                          "running one; see its log.");
                        return ok ? 0 : 1;
                }
                nanosleep(&ts, NULL);
        }
        log_error("govwatchd did not confirm the reload within 90 s.");
        return 1;
}

int main(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},    {"dry-run", no_argument, NULL, 'n'},
                {"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION}, {},
        };
        const char *verb;
        int c, r;

        log_setup();
        /* SIGCHLD is blocked so that sd-event can reap exec sinks' children; SIGPIPE ignored so
         * that a hook which exits without reading its stdin is an error code, not our death. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* "classify" has its own options; hand it everything after the verb */
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "classify"))
                        return verb_classify(argc - i, argv + i);
                if (streq(argv[i], "train"))
                        return verb_train(argc - i, argv + i);
                if (argv[i][0] != '-')
                        break;
                if ((streq(argv[i], "-c") || streq(argv[i], "--config")) && i + 1 < argc)
                        i++;
        }

        /* "+" stops at the verb so that its own arguments (resolve NAME...) are left alone,
         * except --dry-run which may follow "once" */
        while ((c = getopt_long(argc, argv, "+c:nvh", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 'n':
                        arg_dry_run = true;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("govwatchd %s\n", GOVWATCH_VERSION);
                        return 0;
                default:
                        return 2;
                }
        }
        verb = optind < argc ? argv[optind++] : "run";
        /* options after the verb: once --dry-run, -v */
        for (int i = optind; i < argc; i++) {
                if (streq(argv[i], "--dry-run") || streq(argv[i], "-n"))
                        arg_dry_run = true;
                else if (streq(argv[i], "--verbose") || streq(argv[i], "-v"))
                        log_set_max_level(LOG_DEBUG);
                else if (!streq(verb, "resolve") && !streq(verb, "test-sink") &&
                         !streq(verb, "reload")) {
                        log_error("Unexpected argument '%s' for %s.", argv[i], verb);
                        return 2;
                }
        }
        if (arg_dry_run && !streq(verb, "once")) {
                log_error("--dry-run only applies to once.");
                return 2;
        }

        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (streq(verb, "run"))
                r = verb_run();
        else if (streq(verb, "once"))
                r = verb_once();
        else if (streq(verb, "check-config"))
                r = verb_check_config();
        else if (streq(verb, "status"))
                r = verb_status();
        else if (streq(verb, "test-sink")) {
                if (optind >= argc) {
                        log_error("test-sink needs a sink name.");
                        r = 2;
                } else
                        r = verb_test_sink(argv[optind]);
        } else if (streq(verb, "reload")) {
                if (optind >= argc) {
                        log_error("reload needs the daemon's process id.");
                        r = 2;
                } else
                        r = verb_reload(argv[optind]);
        } else if (streq(verb, "resolve")) {
                int n = 0;
                char *names[argc];
                for (int i = optind; i < argc; i++)
                        if (argv[i][0] != '-')
                                names[n++] = argv[i];
                if (n == 0) {
                        log_error("resolve needs at least one name or URL.");
                        r = 2;
                } else
                        r = verb_resolve(names, n);
        } else {
                log_error("Unknown verb '%s'; see --help.", verb);
                r = 2;
        }
        curl_global_cleanup();
        return r;
}
