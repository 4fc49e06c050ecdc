/* main.c — govwatchd's command line: parse options, pick the verb, hand over.
 *
 * Verbs and their exit codes are a contract (DESIGN.md): run, once [--dry-run], check-config,
 * test-sink NAME, resolve NAME..., status, healthcheck [--max-age D], classify. Logs go to
 * stderr; only --dry-run output, `resolve`, `status`, `healthcheck`'s one healthy line,
 * `classify` and the console sink write to stdout.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "classify_cli.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "tz_cache.h"
#include "watchlist.h"

static const char *arg_config = CONFIG_DEFAULT_PATH;
static bool arg_dry_run;
static bool arg_all;
static uint64_t arg_max_age_usec; /* healthcheck; 0: from the config */

/* ---- verbs and their help -------------------------------------------------------------- */

enum {
        OPT_DRY_RUN = 1 << 0, /* once */
        OPT_ALL = 1 << 1,     /* once --dry-run */
        OPT_MAX_AGE = 1 << 2, /* healthcheck */
};

struct verb {
        const char *name;
        const char *args;       /* synopsis after the verb */
        const char *summary;    /* one line for the overview */
        const char *help;       /* the verb's own page: what it does, its options, exit status */
        int min_args, max_args; /* positional arguments; max -1: any number */
        unsigned options;
        int (*run)(char **args, int n);
        bool own_options; /* parses everything after the verb itself (classify, train) */
};

static int run_run(char **args, int n);
static int run_once(char **args, int n);
static int run_check_config(char **args, int n);
static int run_test_sink(char **args, int n);
static int run_resolve(char **args, int n);
static int run_status(char **args, int n);
static int run_reload(char **args, int n);
static int run_healthcheck(char **args, int n);
static int run_help(char **args, int n);

static const struct verb verbs[] = {
        {"run", "", "the daemon (the default verb)",
         "Polls the watch list on the scheduler's timers and delivers new posts through the\n"
         "outbox until SIGTERM or SIGINT. SIGHUP (systemctl reload) re-reads the configuration "
         "and\n"
         "keeps the running one when the new file is refused. Talks to systemd with sd_notify\n"
         "(READY, RELOADING, STATUS, WATCHDOG) when $NOTIFY_SOCKET is set.\n",
         0, 0, 0, run_run, false},
        {"once", "[--dry-run [--all]]", "one sweep over the watch list, deliver, exit",
         "Polls every watched community now (ignoring saved schedules and quiet hours), queues\n"
         "and delivers what is new, and exits 0 once the sweep is complete, even when some\n"
         "communities were unavailable (reported on stderr). Exit 1 for a configuration error,\n"
         "a refused token or a store failure.\n\n"
         "  -n, --dry-run  record nothing and send nothing: print each notification a real run\n"
         "                 would send as one JSON line on stdout (owner_id, id, url, community,\n"
         "                 topic, categories, starts_at, sinks, and title and body as each sink\n"
         "                 would render them)\n"
         "      --all      with --dry-run: a preview of the walls' current posts, as if every\n"
         "                 one of them were new (what a new watch list would produce)\n",
         0, 0, OPT_DRY_RUN | OPT_ALL, run_once, false},
        {"check-config", "", "validate the config; errors as FILE:LINE:COL",
         "Loads the configuration as the daemon would and exits 0, or prints every error as\n"
         "FILE:LINE:COL: message on stderr and exits 1. Says where the VK token would come\n"
         "from; a token kept only in the service's credential is noted, not an error.\n",
         0, 0, 0, run_check_config, false},
        {"test-sink", "NAME", "send one test notification through a sink",
         "Sends one test notification through the sink NAME of the configuration, now and\n"
         "outside the outbox, and prints what the sink answered. Exit 0 when it accepted.\n",
         1, 1, 0, run_test_sink, false},
        {"resolve", "NAME|URL|ID...", "id, screen name and title of communities and pages",
         "Asks VK about each argument and prints one line per argument, in the order given:\n"
         "OWNER_ID<TAB>SCREEN_NAME<TAB>TITLE. Accepts what the watch list accepts: addresses\n"
         "(https://vk.com/name), screen names, club123/public123/event123, id123, -123 and 123.\n"
         "Exit 1 when any of them could not be resolved (the reason is on stderr).\n",
         1, -1, 0, run_resolve, false},
        {"status", "", "communities, last poll, errors, outbox, quota",
         "Reads the store (without disturbing a running daemon) and prints every watched\n"
         "community with its last poll and error, the outbox, dead letters, active alerts and\n"
         "the daily wall.get quota.\n",
         0, 0, 0, run_status, false},
        {"reload", "PID", "SIGHUP the daemon and wait for its new config",
         "Sends SIGHUP to the daemon PID and waits until it has counted the reload in its store.\n"
         "Exit 0 when the new configuration is in place, 1 when the daemon refused it (it keeps\n"
         "the running one). The unit's ExecReload= uses it.\n",
         1, 1, 0, run_reload, false},
        {"healthcheck", "[--max-age DURATION]", "exit 0 when the daemon is healthy, else 1",
         "Reads the state directory (without disturbing a running daemon) and exits 0 when the\n"
         "daemon is healthy, printing one line on stdout; else 1, with one line per problem on\n"
         "stderr: the daemon is not running (it holds a lock in its state directory while it\n"
         "runs), its last successful sweep is older than --max-age, VK refused its token, or a\n"
         "sink has failed alert_after.sink sends in a row. For a container's HEALTHCHECK or a\n"
         "monitoring check; run it as root or as the daemon's user.\n\n"
         "      --max-age DURATION  the oldest a successful sweep may be (e.g. 30m, 2h); default\n"
         "                          twice max_interval, at least 1 h\n",
         0, 0, OPT_MAX_AGE, run_healthcheck, false},
        {"classify", "[--rules FILE] [--explain] ...",
         "VK posts (JSON lines) on stdin, categories out", NULL, 0, -1, 0, NULL, true},
        {"train", "--out FILE [--corpus FILE]...", "the classifier's model from the corpus", NULL,
         0, -1, 0, NULL, true},
        {"help", "[VERB]", "this overview, or one verb's help",
         "Prints the overview of all verbs, or the help of VERB (as VERB --help does).\n", 0, 1, 0,
         run_help, false},
};

static const struct verb *verb_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static void help_overview(void)
{
        printf("govwatchd — watch Russian government communities on VK and notify residents\n\n"
               "Usage: govwatchd [OPTIONS] [VERB [ARGS...]]\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[64];
                snprintf(left, sizeof(left), "%s %s", verbs[i].name, verbs[i].args);
                printf("  %-36s %s\n", left, verbs[i].summary);
        }
        printf("\nOptions:\n"
               "  -c, --config FILE  configuration (default %s)\n"
               "  -v, --verbose      debug logging\n"
               "  -h, --help         this help; VERB --help or help VERB: that verb's\n"
               "      --version      print the version\n\n"
               "The VK token is read from vk.token_file, $GOVWATCH_VK_TOKEN or\n"
               "$CREDENTIALS_DIRECTORY/vk-token; never pass it on the command line.\n"
               "See govwatchd(8) and govwatch.yaml(5).\n",
               CONFIG_DEFAULT_PATH);
}

static int help_verb(const struct verb *v)
{
        if (v->own_options) {
                char *argv[] = {(char *)v->name, (char *)"--help", NULL};
                return streq(v->name, "classify") ? verb_classify(2, argv) : verb_train(2, argv);
        }
        printf("Usage: govwatchd [--config FILE] %s%s%s\n\n%s — %s.\n\n%s", v->name,
               v->args[0] ? " " : "", v->args, v->name, v->summary, v->help);
        return 0;
}

/* "Unknown verb 'onse'; did you mean 'once'?" */
static void unknown_verb(const char *name)
{
        const char *names[ELEMENTSOF(verbs) + 1];
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                names[i] = verbs[i].name;
        names[ELEMENTSOF(verbs)] = NULL;
        const char *near = closest_name(name, names);
        if (near)
                log_error("Unknown verb '%s'; did you mean '%s'? See govwatchd help.", name, near);
        else
                log_error("Unknown verb '%s'; see govwatchd help.", name);
}

static int run_help(char **args, int n)
{
        if (n == 0) {
                help_overview();
                return 0;
        }
        const struct verb *v = verb_find(args[0]);
        if (!v) {
                unknown_verb(args[0]);
                return 2;
        }
        return help_verb(v);
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

/* govwatch_prepare() for arg_config, its errors on stderr. */
static int prepare(unsigned flags, struct govwatch_prepared *ret)
{
        struct config_errors errors = {0};
        int r = govwatch_prepare(arg_config, flags, ret, &errors);
        config_errors_print(&errors, arg_config, stderr);
        config_errors_done(&errors);
        return r;
}

static int run_check_config(char **args, int n)
{
        struct govwatch_prepared p = {0};
        _cleanup_free_ char *token = NULL;
        int r;

        /* everything run and reload build from the file, built and thrown away */
        if (prepare(GOVWATCH_PREPARE_CHECK, &p) < 0)
                return 1;
        /* where the token comes from is part of the setup, but a token kept in the service's
         * credential is out of sight here: a note, not an error */
        r = govwatch_read_token(p.conf, false, &token);
        if (token)
                explicit_bzero(token, strlen(token));
        if (r >= 0 || r == -ENOKEY)
                fprintf(stderr, "%s: OK (%zu %s, %zu %s)\n", arg_config, p.conf->n_watch,
                        plural(p.conf->n_watch, "watch entry", "watch entries"), p.conf->n_sinks,
                        plural(p.conf->n_sinks, "sink", "sinks"));
        govwatch_prepared_done(&p);
        return r >= 0 || r == -ENOKEY ? 0 : 1;
}

/* Builds the whole pipeline; conf is handed over to the govwatch object. Without vk (test-sink)
 * there is no VK source, and no token is needed. */
static int setup(sd_event **ret_event, struct govwatch **ret_gw, bool dry_run, bool vk)
{
        struct govwatch_prepared p = {0};
        _cleanup_free_ char *token = NULL;
        struct govwatch *gw = NULL;
        sd_event *event = NULL;
        int r;

        r = prepare(0, &p);
        if (r < 0)
                return r;
        r = vk ? govwatch_read_token(p.conf, true, &token) : 0;
        if (r >= 0) {
                r = sd_event_default(&event);
                if (r < 0)
                        log_error_errno(r, "Failed to create the event loop: %m");
        }
        if (r < 0) {
                govwatch_prepared_done(&p);
                return r;
        }
        r = govwatch_new(event, &p, dry_run, &gw); /* takes p over */
        if (r < 0) {
                sd_event_unref(event);
                return r;
        }
        struct govwatch_parts parts;
        r = govwatch_parts_new(gw, gw->conf, token, !dry_run, &parts);
        if (token)
                explicit_bzero(token, strlen(token));
        if (r >= 0)
                govwatch_parts_install(gw, &parts);
        if (r < 0) {
                govwatch_free(gw);
                sd_event_unref(event);
                return log_error_errno(r, "Failed to set up: %m");
        }
        *ret_event = event;
        *ret_gw = gw;
        return 0;
}

static int run_once(char **args, int n)
{
        sd_event *event = NULL;
        struct govwatch *gw = NULL;
        int r = setup(&event, &gw, arg_dry_run, true);
        if (r < 0)
                return 1;
        gw->ignore_quiet_hours = true; /* DESIGN.md: once delivers now, whatever the hour */
        gw->preview_all = arg_all;
        r = daemon_once(gw);
        govwatch_free(gw);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}

static int run_run(char **args, int n)
{
        sd_event *event = NULL;
        struct govwatch *gw = NULL;

        /* before setup: systemctl stop or govwatchd reload during start-up must not kill us */
        daemon_block_signals();
        int r = setup(&event, &gw, false, true);
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

        r = setup(&event, &gw, false, false); /* a sink test asks VK nothing */
        if (r < 0)
                return 1;
        ssize_t idx = config_find_sink(gw->conf, name);
        if (idx < 0) {
                struct suggest sg = SUGGEST_INIT(name);
                for (size_t i = 0; i < gw->conf->n_sinks; i++)
                        suggest_consider(&sg, gw->conf->sinks[i].name);
                if (sg.best)
                        log_error("No sink named '%s' in %s; did you mean '%s'?", name, arg_config,
                                  sg.best);
                else
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
        /* shown in the configured zone, as every post is */
        if (tz_utc_offset(gw->conf->timezone, n.date, &n.date_utc_offset) < 0)
                n.date_utc_offset = 0;
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
        if (t == 0 || tz_localtime(NULL, t, &tm) < 0)
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
                printf("  %s  %-10s %s  after %u %s: %s\n", ago(l[i].created, b, sizeof(b)),
                       strempty(l[i].sink), strempty(l[i].url), l[i].attempts,
                       plural(l[i].attempts, "attempt", "attempts"),
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
        uint64_t max_interval_usec;
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
                            store_resolved_get(store, ref->screen_name, &owner_id, NULL, NULL) < 0)
                                continue;
                        if (owner_id == 0)
                                continue;
                        w[n++] = (struct watched){
                                .owner_id = owner_id,
                                .priority = p < 1                        ? 1
                                            : p > SCHEDULER_PRIORITY_MAX ? SCHEDULER_PRIORITY_MAX
                                                                         : (unsigned)p,
                                .max_interval_usec = conf->watch[i].max_interval_usec,
                        };
                }
        /* a community in several watch entries is polled for the most urgent of them */
        qsort(w, n, sizeof(*w), watched_cmp);
        for (size_t i = 0, j; i < n; i = j) {
                uint64_t max_iv = 0;
                for (j = i; j < n && w[j].owner_id == w[i].owner_id; j++)
                        if (w[j].max_interval_usec > 0 &&
                            (max_iv == 0 || w[j].max_interval_usec < max_iv))
                                max_iv = w[j].max_interval_usec;
                (void)scheduler_add(s, w[i].owner_id, w[i].priority);
                if (max_iv > 0)
                        (void)scheduler_set_max_interval(s, w[i].owner_id, max_iv);
        }
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

static int run_status(char **args, int n)
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
                            store_resolved_get(store, ref->screen_name, &owner_id, NULL, NULL) <
                                    0) {
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

/* ---- resolve ------------------------------------------------------------------------------
 *
 * Every input gets one answer line, in the order given: ids (-1, club1, public1, id1, 1),
 * addresses and screen names alike, resolved by the daemon's resolver (watchlist.c): from the
 * store's cache what the daemon resolved before, the rest from VK. It writes nothing to the
 * cache: the store is the daemon's, which may be running.
 */
static void on_resolved(struct resolver *res, void *userdata)
{
        sd_event_exit(userdata, 0);
}

/* One input's answer: its line on stdout, or why not on stderr. Returns 0 or 1 (failed). */
static int print_resolved(const char *input, const struct community_ref *ref,
                          const struct resolved_name *n)
{
        char id[32];

        if (!n || n->state == NAME_PENDING) {
                log_error("'%s': not asked", input);
                return 1;
        }
        if (n->state == NAME_GONE) {
                log_error("'%s': %s %" PRId64 " %s on VK", input,
                          n->owner_id > 0 ? "personal page" : "community",
                          n->owner_id > 0 ? n->owner_id : -n->owner_id, strempty(n->why));
                return 1;
        }
        if (n->state != NAME_RESOLVED || (n->owner_id > 0 && !n->title)) {
                log_error("'%s': %s", input, strempty(n->why));
                return 1;
        }
        snprintf(id, sizeof(id), "id%" PRId64, n->owner_id);
        printf("%" PRId64 "\t%s\t%s\n", n->owner_id,
               n->screen_name                           ? n->screen_name
               : ref->kind == COMMUNITY_REF_USER_ID     ? id
               : ref->kind == COMMUNITY_REF_SCREEN_NAME ? ref->screen_name
                                                        : input,
               strempty(n->title));
        return 0;
}

static int verb_resolve(char **names, int n)
{
        sd_event *event = NULL;
        struct govwatch *gw = NULL;
        _cleanup_(resolver_freep) struct resolver *res = NULL;
        struct resolver_options o = {.read_cache = true};
        _cleanup_free_ struct community_ref *refs = NULL;
        _cleanup_free_ const char **unparsed = NULL; /* why, for what is no reference */
        int failed = 0, r;

        if (setup(&event, &gw, true, true) < 0)
                return 1;
        refs = calloc((size_t)n, sizeof(*refs));
        unparsed = calloc((size_t)n, sizeof(char *));
        r = refs && unparsed ? resolver_new(gw->source, gw->store, &o, &res) : -ENOMEM;
        for (int i = 0; r >= 0 && i < n; i++)
                if (community_ref_parse(names[i], &refs[i], &unparsed[i]) >= 0) {
                        unparsed[i] = NULL;
                        r = resolver_add(res, &refs[i]);
                } else if (!unparsed[i])
                        unparsed[i] = "not understood";
        if (r >= 0)
                r = resolver_start(res, on_resolved, event);
        if (r == 0)
                r = sd_event_loop(event);
        if (r >= 0)
                r = resolver_result(res);
        if (r < 0) {
                log_error_errno(r, "Failed to resolve: %m");
                failed = 1;
        }
        for (int i = 0; r >= 0 && i < n; i++) {
                if (unparsed[i]) {
                        log_error("'%s': not a community reference: %s", names[i], unparsed[i]);
                        failed = 1;
                } else
                        failed |= print_resolved(names[i], &refs[i], resolver_get(res, &refs[i]));
        }
        fflush(stdout);
        for (int i = 0; refs && i < n; i++)
                community_ref_done(&refs[i]);
        /* the source first: a request it still holds points into the resolver */
        gw->source = source_free(gw->source);
        res = resolver_free(res);
        govwatch_free(gw);
        sd_event_unref(event);
        return failed;
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

static int run_healthcheck(char **args, int n)
{
        _cleanup_config_free_ struct config *conf = NULL;

        if (load_config(&conf) < 0)
                return 1;
        return healthcheck(conf, arg_max_age_usec, stdout);
}

static int run_test_sink(char **args, int n)
{
        return verb_test_sink(args[0]);
}

static int run_resolve(char **args, int n)
{
        return verb_resolve(args, n);
}

static int run_reload(char **args, int n)
{
        return verb_reload(args[0]);
}

/* A negative number after `resolve` is a community id, not an option. */
static bool is_number(const char *s)
{
        if (*s == '-')
                s++;
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* The process before any verb: signals as the event loop wants them, and glibc's allocator. */
static void process_setup(void)
{
        sigset_t mask;

        /* SIGCHLD is blocked so that sd-event can reap exec sinks' children; SIGPIPE ignored so
         * that a hook which exits without reading its stdin is an error code, not our death. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* No fastbins: glibc keeps small freed chunks there unmerged and merges them all at the
         * next large malloc or free, which after an answer of millions of small values (freed a
         * step at a time, vk_graveyard_release) is a stall of a quarter of a second on the event
         * loop. Without them each free merges its own chunk, a little at a time. */
        (void)mallopt(M_MXFAST, 0);
}

/* Options before the verb; "+" stops at the verb, whose arguments are its own. Returns -1 to go
 * on, else the exit code. */
static int parse_global_options(int argc, char **argv)
{
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {"dry-run", no_argument, NULL, 'n'},
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "+c:vhn", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help_overview();
                        return 0;
                case 'n': /* "govwatchd --dry-run once" reads as well as "once --dry-run" */
                        arg_dry_run = true;
                        break;
                case ARG_VERSION:
                        printf("govwatchd %s\n", GOVWATCH_VERSION);
                        return 0;
                default:
                        log_error("See govwatchd --help.");
                        return 2;
                }
        }
        return -1;
}

static int parse_max_age(const char *v)
{
        if (parse_duration_usec(v, &arg_max_age_usec) < 0 || arg_max_age_usec == 0) {
                log_error("--max-age needs a duration such as 30m or 2h, not '%s'.", v);
                return -EINVAL;
        }
        return 0;
}

/* The verb's options and arguments (argv[optind..]), in any order; "--" ends the options. The
 * arguments go to args. Returns -1 to go on, else the exit code. */
static int parse_verb_args(const struct verb *verb, int argc, char **argv, char **args, int *n_args)
{
        bool options_end = false;

        for (int i = optind; i < argc; i++) {
                const char *a = argv[i];
                if (options_end || a[0] != '-' || a[1] == '\0' ||
                    (streq(verb->name, "resolve") && is_number(a))) {
                        args[(*n_args)++] = argv[i];
                        continue;
                }
                if (streq(a, "--"))
                        options_end = true;
                else if (streq(a, "--help") || streq(a, "-h"))
                        return help_verb(verb);
                else if (streq(a, "--verbose") || streq(a, "-v"))
                        log_set_max_level(LOG_DEBUG);
                else if ((streq(a, "--config") || streq(a, "-c")) && i + 1 < argc)
                        arg_config = argv[++i];
                else if (startswith(a, "--config="))
                        arg_config = a + strlen("--config=");
                else if ((verb->options & OPT_DRY_RUN) && (streq(a, "--dry-run") || streq(a, "-n")))
                        arg_dry_run = true;
                else if ((verb->options & OPT_ALL) && streq(a, "--all"))
                        arg_all = true;
                else if ((verb->options & OPT_MAX_AGE) &&
                         (streq(a, "--max-age") || startswith(a, "--max-age="))) {
                        if (parse_max_age(startswith(a, "--max-age=")
                                                  ?: (i + 1 < argc ? argv[++i] : "")) < 0)
                                return 2;
                } else {
                        log_error("Unknown option '%s' for %s; see govwatchd %s --help.", a,
                                  verb->name, verb->name);
                        return 2;
                }
        }
        return -1;
}

/* Whether the options and the number of arguments fit the verb; says why not. */
static bool verb_args_ok(const struct verb *verb, int n_args)
{
        if (arg_dry_run && !(verb->options & OPT_DRY_RUN))
                log_error("--dry-run only applies to once.");
        else if (arg_all && !arg_dry_run)
                log_error("--all needs --dry-run: it previews every current post and sends "
                          "nothing.");
        else if (n_args < verb->min_args)
                log_error("%s needs %s; see govwatchd %s --help.", verb->name, verb->args,
                          verb->name);
        else if (verb->max_args >= 0 && n_args > verb->max_args)
                log_error("%s takes %s%s; see govwatchd %s --help.", verb->name,
                          verb->max_args ? "only " : "no arguments", verb->args, verb->name);
        else
                return true;
        return false;
}

int main(int argc, char **argv)
{
        const struct verb *verb;
        int r, n_args = 0;

        log_setup();
        process_setup();
        r = parse_global_options(argc, argv);
        if (r >= 0)
                return r;
        const char *name = optind < argc ? argv[optind++] : "run";
        verb = verb_find(name);
        if (!verb) {
                unknown_verb(name);
                return 2;
        }
        if (verb->own_options)
                return streq(verb->name, "classify")
                               ? verb_classify(argc - optind + 1, argv + optind - 1)
                               : verb_train(argc - optind + 1, argv + optind - 1);

        _cleanup_free_ char **args = calloc((size_t)argc + 1, sizeof(char *));
        if (!args)
                return log_oom(), 1;
        r = parse_verb_args(verb, argc, argv, args, &n_args);
        if (r >= 0)
                return r;
        if (!verb_args_ok(verb, n_args))
                return 2;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        r = verb->run(args, n_args);
        curl_global_cleanup();
        tz_cache_clear();
        return r;
}
