/* sinks/apprise.c — the long tail of notification services (Gotify, Matrix, Discord, Pushover,
 * …) through the Debian `apprise` CLI, one run of it per notification.
 *
 * The services' URLs hold their tokens and passwords, so they stay in urls_file (apprise's own
 * config file: TEXT, one URL a line, or YAML), which apprise reads itself through --config=PATH;
 * they never reach its argv or environment. This file reads urls_file only to say clearly that it
 * is unreadable or empty, to tell apprise it is YAML, and to mask its contents out of what
 * apprise prints before that is logged (apprise echoes a line of its config it cannot parse). The
 * body (the text, then the action links, since apprise has no buttons) goes on apprise's stdin; the
 * title (community and categories: public and short, cut at TITLE_MAX_BYTES) goes on its command
 * line, where any local user can read it with ps. --input-format=text: no post text is read as
 * Markdown or HTML. The program runs through child.h with an environment of its own (PATH, HOME,
 * LANG) and its output captured, within a bound.
 *
 * apprise 1.2.0's exit status: 0 when every service took the notification; 1 when one failed
 * to (try later), and also when it loaded no URL at all, which it says with "You must specify at
 * least one server URL" (a bad urls_file: rejected); 2 for a usage error and 3 when no URL has
 * the tag (rejected).
 */
#include <ctype.h>
#include <stdio.h>
#include <syslog.h>

#include "child.h"
#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink.h"

#define DEFAULT_PROGRAM "/usr/bin/apprise"
#define DEFAULT_TIMEOUT (30 * USEC_PER_SEC)
#define DEFAULT_BODY    "{excerpt}" /* the links follow as actions */
#define TITLE_MAX_BYTES 200         /* on argv, visible in ps: public, and short */
#define OUTPUT_MAX      4096        /* of apprise's output, for the log */
#define DETAIL_MAX      400
/* apprise reads no config file larger than this (ConfigBase.max_buffer_size) */
#define URLS_FILE_MAX (128 * 1024)
/* A run of this many bytes of urls_file in apprise's output is masked. */
#define MASK_GRAM 4

#define EXIT_SEND_FAILED 1 /* also: no URL loaded */
#define EXIT_USAGE       2
#define EXIT_NO_TAG      3
#define NO_URLS_MESSAGE  "You must specify at least one server URL"

struct apprise_settings {
        char *program;
        char *urls_file;
        char **tags;
};

struct apprise_sink {
        struct sink sink;
        const struct sink_conf *conf;
        const struct apprise_settings *settings; /* conf's */
        struct child_runner *runner;
};

/* One send: whom to answer. */
struct apprise_request {
        struct apprise_sink *apprise;
        sink_done_fn done;
        void *userdata;
};

/* ---- what apprise is given ---------------------------------------------------------------- */

/* Tabs and line breaks as spaces (a title is one line), cut at TITLE_MAX_BYTES with "…". */
static void title_flatten(char *title)
{
        for (char *p = title; *p; p++)
                if (*p == '\n' || *p == '\t')
                        *p = ' ';
        if (strlen(title) > TITLE_MAX_BYTES)
                strcpy(title + utf8_prefix_len(title, TITLE_MAX_BYTES - strlen("…")), "…");
}

/* The body, then one line a link: "Задать вопрос: https://vk.com/wall-1_2". */
static int body_with_actions(const struct notification *n, char **body)
{
        struct notification_action actions[NOTIFICATION_ACTIONS_MAX];
        size_t k = notification_actions(n, actions);
        struct strbuf sb = {0};
        int r = strbuf_puts(&sb, *body);

        for (size_t i = 0; i < k && r >= 0; i++)
                r = strbuf_appendf(&sb, "%s%s: %s", i == 0 && sb.len > 0 ? "\n\n" : "\n",
                                   actions[i].label, actions[i].url);
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        free(*body);
        *body = sb.buf;
        return 0;
}

static int apprise_render(const struct sink_conf *conf, const struct notification *n,
                          char **ret_title, char **ret_body)
{
        _cleanup_free_ char *title = NULL, *body = NULL;
        int r = sink_render_templates(conf, n, RENDER_DEFAULT_TITLE, DEFAULT_BODY, conf->max_length,
                                      &title, &body);
        if (r >= 0)
                r = body_with_actions(n, &body);
        if (r < 0)
                return r;
        title_flatten(title);
        *ret_title = TAKE_PTR(title);
        *ret_body = TAKE_PTR(body);
        return 0;
}

/* apprise 1.2.0 reads a config file as TEXT unless its name ends in .yml or .yaml (it detects
 * YAML by content only for config that is not a file): a credential has no such name. Its own
 * test, on the first line that is not blank or a comment: "key:" is YAML, a URL is TEXT. */
static bool urls_file_is_yaml(const char *content)
{
        for (const char *p = content; *p;) {
                size_t len = strcspn(p, "\n"), lead = strspn(p, " \t\r");
                const char *w = p + lead;
                if (lead < len && *w != '#' && *w != ';') {
                        size_t word = strspn(w, "abcdefghijklmnopqrstuvwxyz"
                                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
                        return word > 0 && w[word] == ':' && strncmp(w + word, "://", 3) != 0;
                }
                p += len + (p[len] == '\n');
        }
        return false;
}

/* --config=PATH; for YAML, a file:// URL that says so, the path percent-encoded. */
static int config_argument(const char *path, bool yaml, char **ret)
{
        struct strbuf sb = {0};
        int r = strbuf_puts(&sb, yaml ? "--config=file://" : "--config=");

        for (const unsigned char *p = (const unsigned char *)path; *p && r >= 0; p++)
                r = !yaml || strchr("/-._~", *p) || (*p < 0x80 && isalnum(*p))
                            ? strbuf_append(&sb, (const char *)p, 1)
                            : strbuf_appendf(&sb, "%%%02X", *p);
        if (r >= 0 && yaml)
                r = strbuf_puts(&sb, "?format=yaml");
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

static int build_argv(const struct apprise_settings *set, const struct notification *n,
                      const char *title, bool yaml, char ***ret)
{
        size_t n_tags = strv_length(set->tags), k = 0;
        char **argv = calloc(7 + n_tags, sizeof(char *));
        bool warning = notification_priority(n, LOG_INFO) <= LOG_WARNING;
        int r = argv ? 0 : -ENOMEM;

        if (r >= 0 &&
            (!(argv[k++] = strdup(set->program)) || !(argv[k++] = strdup("--input-format=text")) ||
             !(argv[k++] = strdup(warning ? "--notification-type=warning"
                                          : "--notification-type=info")) ||
             !(argv[k++] = strdup("--verbose")) || /* its warnings say what failed */
             config_argument(set->urls_file, yaml, &argv[k++]) < 0 ||
             asprintf(&argv[k++], "--title=%s", title) < 0))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n_tags; i++)
                if (asprintf(&argv[k++], "--tag=%s", set->tags[i]) < 0)
                        r = -ENOMEM;
        if (r < 0) {
                /* asprintf() leaves its pointer undefined on failure */
                if (argv)
                        argv[k - 1] = NULL;
                strv_free(argv);
                return r;
        }
        *ret = argv;
        return 0;
}

/* What apprise needs and nothing of ours: the daemon's environment may hold GOVWATCH_VK_TOKEN
 * or CREDENTIALS_DIRECTORY. HOME is where apprise finds plugins of the user's own; LANG makes
 * Python read its stdin and argv as UTF-8. */
static int build_env(char ***ret)
{
        _cleanup_strv_free_ char **env = NULL;
        const char *path = getenv("PATH"), *home = getenv("HOME");
        size_t len = 0;
        int r = child_env_add(&env, &len, "PATH", path ? path : "/usr/bin:/bin", 0);

        if (r >= 0 && home)
                r = child_env_add(&env, &len, "HOME", home, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "LANG", "C.UTF-8", 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* ---- urls_file ---------------------------------------------------------------------------- */

/* The file's contents, to be wiped and freed; detail says why not. */
static int urls_file_read(const struct apprise_settings *set, char **ret, size_t *ret_size,
                          char *detail, size_t size)
{
        int r = read_full_file(set->urls_file, URLS_FILE_MAX, false, ret, ret_size);
        if (r < 0) {
                snprintf(detail, size, "cannot read urls_file %s: %s", set->urls_file,
                         strerror(-r));
                return r;
        }
        if ((*ret)[strspn(*ret, " \t\r\n")] == '\0') {
                /* the unit's fallback for a missing credential is an empty one */
                snprintf(detail, size,
                         "urls_file %s is empty (a service credential is empty when its file is "
                         "missing)",
                         set->urls_file);
                explicit_bzero(*ret, *ret_size);
                free(*ret);
                *ret = NULL;
                return -ENODATA;
        }
        return 0;
}

static int gram_compare(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static uint32_t gram_at(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* out with every run of MASK_GRAM or more bytes that also occurs in secret replaced by "***":
 * whatever apprise echoes of its config, no URL, token or password of it reaches the log. A
 * run shorter than that is left (and so is a URL of an included file apprise reads itself). */
static char *mask_secret(const char *out, size_t len, const char *secret, size_t secret_len)
{
        size_t n_grams = secret_len >= MASK_GRAM ? secret_len - MASK_GRAM + 1 : 0;
        _cleanup_free_ uint32_t *grams = calloc(n_grams + 1, sizeof(uint32_t));
        _cleanup_free_ bool *masked = calloc(len + 1, sizeof(bool));
        struct strbuf sb = {0};
        int r = grams && masked ? strbuf_append(&sb, "", 0) : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n_grams; i++)
                grams[i] = gram_at(secret + i);
        if (r >= 0)
                qsort(grams, n_grams, sizeof(uint32_t), gram_compare);
        for (size_t i = 0; r >= 0 && i + MASK_GRAM <= len; i++) {
                uint32_t g = gram_at(out + i);
                if (bsearch(&g, grams, n_grams, sizeof(uint32_t), gram_compare))
                        memset(masked + i, true, MASK_GRAM);
        }
        for (size_t i = 0; r >= 0 && i < len; i++)
                if (!masked[i])
                        r = strbuf_append(&sb, out + i, 1);
                else if (i == 0 || !masked[i - 1])
                        r = strbuf_puts(&sb, "***");
        if (grams)
                explicit_bzero(grams, n_grams * sizeof(uint32_t));
        if (r < 0) {
                strbuf_done(&sb);
                return NULL;
        }
        return sb.buf;
}

/* ---- what apprise said -------------------------------------------------------------------- */

/* "2026-12-06 19:58:30,578 - WARNING - Failed to send …": the message, and whether it is a
 * warning or an error, which say what went wrong (the rest is usage text or a traceback). */
static const char *log_line_message(const char *line, size_t len, size_t *ret_len)
{
        static const char *const levels[] = {" - ERROR - ", " - WARNING - "};
        for (size_t i = 0; i < ELEMENTSOF(levels); i++) {
                const char *m = memmem(line, len, levels[i], strlen(levels[i]));
                if (m) {
                        m += strlen(levels[i]);
                        *ret_len = len - (size_t)(m - line);
                        return m;
                }
        }
        return NULL;
}

/* apprise's errors and warnings, "; "-joined, else its last line (a traceback's exception),
 * printable, within DETAIL_MAX bytes. */
static void output_summary(const char *out, char *buf, size_t size)
{
        const char *last = NULL;
        size_t last_len = 0, o = 0;

        buf[0] = '\0';
        for (const char *p = out; *p;) {
                size_t len = strcspn(p, "\n"), mlen;
                const char *m = log_line_message(p, len, &mlen);
                if (m && o + 3 < size)
                        o += (size_t)snprintf(buf + o, size - o, "%s%.*s", o ? "; " : "", (int)mlen,
                                              m);
                if (strspn(p, " \t\r") < len) {
                        last = p;
                        last_len = len;
                }
                p += len + (p[len] == '\n');
        }
        if (o == 0 && last)
                snprintf(buf, size, "%.*s", (int)last_len, last);
        buf[utf8_prefix_len(buf, size - 1)] = '\0';
        for (char *p = buf; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7F)
                        *p = ' ';
}

/* apprise's output, masked, into summary; and at debug level into the log. */
static void output_read(struct apprise_sink *a, const struct child_exit *x, char *summary,
                        size_t size)
{
        _cleanup_free_ char *secret = NULL, *masked = NULL;
        size_t secret_size = 0;
        char why[256];

        summary[0] = '\0';
        if (x->output_len == 0)
                return;
        if (urls_file_read(a->settings, &secret, &secret_size, why, sizeof(why)) < 0) {
                /* it was there a moment ago: say nothing rather than what might hold a secret */
                snprintf(summary, size, "(apprise's output is not shown: %s)", why);
                return;
        }
        masked = mask_secret(x->output, x->output_len, secret, secret_size);
        explicit_bzero(secret, secret_size);
        if (!masked) {
                snprintf(summary, size, "(apprise's output is not shown: out of memory)");
                return;
        }
        log_debug("Apprise sink %s: apprise said%s:\n%s", a->sink.name,
                  x->output_cut ? " (cut)" : "", masked);
        output_summary(masked, summary, size);
}

static enum sink_result judge(const struct child_exit *x, const char *said,
                              const struct apprise_settings *set, char *detail, size_t size)
{
        bool permanent = child_exit_describe(x, detail, size);
        const char *sep = said[0] ? ": " : "";

        if (x->cancelled || x->timed_out || (x->spawn_error && !permanent) || x->signal)
                return SINK_TRY_LATER;
        if (x->spawn_error)
                return SINK_REJECTED;
        if (x->status == 0)
                return SINK_ACCEPTED;
        if (x->status == EXIT_SEND_FAILED && strstr(said, NO_URLS_MESSAGE)) {
                snprintf(detail, size, "apprise loaded no notification URL from urls_file %s%s%s",
                         set->urls_file, sep, said);
                return SINK_REJECTED;
        }
        if (x->status == EXIT_SEND_FAILED) {
                snprintf(detail, size, "apprise could not deliver it (exit 1)%s%s", sep, said);
                return SINK_TRY_LATER;
        }
        if (x->status == EXIT_NO_TAG)
                snprintf(detail, size, "no URL of urls_file %s has the sink's tag (apprise exit 3)",
                         set->urls_file);
        else
                snprintf(detail, size, "apprise exited %d%s%s%s", x->status,
                         x->status == EXIT_USAGE ? " (usage error)" : "", sep, said);
        return SINK_REJECTED;
}

static void on_exit_status(const struct child_exit *x, void *userdata)
{
        struct apprise_request *q = userdata;
        struct apprise_sink *a = q->apprise;
        sink_done_fn done = q->done;
        void *done_userdata = q->userdata;
        char said[DETAIL_MAX], detail[DETAIL_MAX + 256];

        output_read(a, x, said, sizeof(said));
        enum sink_result result = judge(x, said, a->settings, detail, sizeof(detail));
        if (result == SINK_ACCEPTED && said[0])
                /* a URL of the file it could not use, say, while the others took it */
                log_warning("Apprise sink %s: delivered, but apprise said: %s", a->sink.name, said);
        else if (result != SINK_ACCEPTED)
                log_debug("Apprise sink %s: %s", a->sink.name, detail);
        free(q);
        done(&a->sink, result, 0, detail, done_userdata);
}

/* ---- the sink ----------------------------------------------------------------------------- */

static int apprise_send(struct sink *s, const struct notification *n, sink_done_fn done,
                        void *userdata)
{
        struct apprise_sink *a = (struct apprise_sink *)s;
        _cleanup_free_ char *title = NULL, *body = NULL, *secret = NULL;
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        struct apprise_request *q = NULL;
        size_t secret_size = 0;
        char detail[512];
        int r;

        /* a missing or empty file is said so here, not in apprise's words */
        if (urls_file_read(a->settings, &secret, &secret_size, detail, sizeof(detail)) < 0) {
                log_warning("Apprise sink %s: %s", s->name, detail);
                done(s, SINK_TRY_LATER, 0, detail, userdata);
                return 0;
        }
        bool yaml = urls_file_is_yaml(secret);
        explicit_bzero(secret, secret_size);
        r = apprise_render(a->conf, n, &title, &body);
        if (r >= 0)
                r = build_argv(a->settings, n, title, yaml, &argv);
        if (r >= 0)
                r = build_env(&env);
        if (r >= 0 && !(q = malloc(sizeof(*q))))
                r = -ENOMEM;
        if (r < 0)
                return r;
        *q = (struct apprise_request){.apprise = a, .done = done, .userdata = userdata};
        size_t len = strlen(body);
        r = child_run(a->runner, TAKE_PTR(argv), TAKE_PTR(env), TAKE_PTR(body), len, on_exit_status,
                      q);
        if (r < 0)
                free(q);
        return r;
}

static int apprise_create(const struct sink_conf *conf, const struct sink_context *ctx,
                          struct sink **ret)
{
        const struct apprise_settings *set = conf->settings;
        char label[128];
        int r;

        if (!ctx || !ctx->event || !set || !set->program || !set->urls_file)
                return -EINVAL;
        struct apprise_sink *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->conf = conf;
        a->settings = set;
        snprintf(label, sizeof(label), "Apprise sink %s", conf->name);
        r = child_runner_new(ctx->event, label, sink_concurrency(conf, NULL),
                             conf->timeout_usec ? conf->timeout_usec : DEFAULT_TIMEOUT, OUTPUT_MAX,
                             &a->runner);
        if (r < 0) {
                free(a);
                return r;
        }
        *ret = &a->sink;
        return 0;
}

static void apprise_free(struct sink *s)
{
        struct apprise_sink *a = (struct apprise_sink *)s;
        if (!a)
                return;
        /* the runs still going are killed and answered: "try later" */
        child_runner_free(a->runner);
        free(a);
}

/* ---- settings ----------------------------------------------------------------------------- */

#define OFF(f) offsetof(struct apprise_settings, f)
static const struct setting apprise_table[] = {
        {S("apprise", SETTING_STRING, OFF(program), DEFAULT_PROGRAM,
           "the apprise program (absolute path)")},
        {S("urls_file", SETTING_PATH, OFF(urls_file), NULL,
           "apprise config file (TEXT: one URL a line, or YAML) with the services' URLs: a "
           "secret, e.g. a credential"),
         .required = true},
        {S("tag", SETTING_STRV, OFF(tags), NULL,
           "only the URLs of urls_file with one of these tags (\"a,b\": with both)")},
};

static void apprise_check(const struct sink_conf *conf, struct setting_errors *e)
{
        const struct apprise_settings *set = conf->settings;
        int r = set->program ? child_check_program(set->program) : 0;

        if (r == -EINVAL)
                setting_error_at_value(e, "apprise",
                                       "the apprise program must be an absolute "
                                       "path, got '%s'",
                                       SETTING_QUOTE(set->program));
        else if (r < 0)
                setting_error_at_value(e, "apprise", "cannot run '%s': %s%s",
                                       SETTING_QUOTE(set->program), strerror(-r),
                                       r == -ENOENT ? " (is the apprise package installed?)" : "");
}

const struct sink_ops sink_apprise_ops = {
        .type = "apprise",
        SINK_SETTINGS(apprise_table, struct apprise_settings),
        .check = apprise_check,
        .create = apprise_create,
        .send = apprise_send,
        .free = apprise_free,
        .render = apprise_render,
};
