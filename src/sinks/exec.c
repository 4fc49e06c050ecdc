/* sinks/exec.c — the escape hatch: run a program per notification (Telegram, ntfy, a script).
 *
 * `command` (an argv, never a shell) runs through child.h, with the notification as one JSON
 * line on stdin and as GOVWATCH_* environment variables, its output joined to our log; a
 * timeout kills its process group. Exit 0 is accepted, 75 (EX_TEMPFAIL) is "try later",
 * anything else rejected. Owns its runner, which runs at most conf->concurrency programs at
 * once. It must never pass a secret on (the environment is built from scratch: no VK token, no
 * credentials path) and never let VK text reach a shell or the command line. Its one key of its
 * own, command, is the table below, which the config reads through the registry.
 */
#include <inttypes.h>
#include <stdio.h>

#include "child.h"
#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink.h"

#define EXIT_TEMPFAIL   75 /* sysexits.h EX_TEMPFAIL */
#define DEFAULT_TIMEOUT (30 * USEC_PER_SEC)
/* The full text is on stdin; the environment copy is for scripts that only want a line or two,
 * and keeps far below the kernel's 128 KiB limit for one variable. */
#define ENV_TEXT_MAX_BYTES 4096
#define ENV_BODY_MAX_BYTES 4096

/* Passed on from govwatchd's own environment: what a program needs to find things and to speak
 * the right language. Nothing else: the daemon's environment may hold GOVWATCH_VK_TOKEN or
 * CREDENTIALS_DIRECTORY. */
static const char *const inherited_env[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ"};

/* The keys of an exec sink beyond those every sink has: sink_conf.settings. */
struct exec_settings {
        char **command; /* NULL-terminated argv, no shell */
};

struct exec_sink {
        struct sink sink;
        const struct sink_conf *conf;
        char *const *command; /* conf's */
        struct child_runner *runner;
};

/* One send: whom to answer. */
struct exec_request {
        struct exec_sink *exec;
        sink_done_fn done;
        void *userdata;
};

/* ---- the environment --------------------------------------------------------------------- */

static int exec_render(const struct sink_conf *conf, const struct notification *n, char **ret_title,
                       char **ret_body)
{
        return sink_render_templates(conf, n, RENDER_DEFAULT_TITLE, RENDER_DEFAULT_BODY,
                                     ENV_BODY_MAX_BYTES, ret_title, ret_body);
}

static int build_env(const struct notification *n, const char *title, const char *body, char ***ret)
{
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *cats = strv_join(n->categories, ",");
        char num[32], starts[40], date[40];
        size_t len = 0;
        int r = cats ? 0 : -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(inherited_env) && r >= 0; i++) {
                const char *v = getenv(inherited_env[i]);
                if (v)
                        r = child_env_add(&env, &len, inherited_env[i], v, 0);
                else if (streq(inherited_env[i], "PATH"))
                        r = child_env_add(&env, &len, "PATH", "/usr/local/bin:/usr/bin:/bin", 0);
        }
        format_iso8601(n->starts_at, n->starts_at_utc_offset, starts, sizeof(starts));
        format_iso8601(n->date, n->date_utc_offset, date, sizeof(date));
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_KIND", n->kind, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_COMMUNITY", n->community, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_TOPIC", n->topic, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_URL", n->url, 0);
        snprintf(num, sizeof(num), "%" PRId64, n->owner_id);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_OWNER_ID", num, 0);
        snprintf(num, sizeof(num), "%" PRId64, n->post_id);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_POST_ID", num, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_CATEGORIES", cats, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_DATE", date, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_STARTS_AT", starts, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_TEXT", n->text, ENV_TEXT_MAX_BYTES);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_TITLE", title, 0);
        if (r >= 0)
                r = child_env_add(&env, &len, "GOVWATCH_BODY", body, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* ---- the program's end ------------------------------------------------------------------ */

static void on_exit_status(const struct child_exit *x, void *userdata)
{
        struct exec_request *q = userdata;
        struct exec_sink *e = q->exec;
        sink_done_fn done = q->done;
        void *done_userdata = q->userdata;
        enum sink_result result;
        char detail[256];

        bool permanent = child_exit_describe(x, detail, sizeof(detail));
        if (x->cancelled || x->timed_out || (x->spawn_error && !permanent))
                result = SINK_TRY_LATER;
        else if (x->spawn_error || !x->exited)
                result = SINK_REJECTED;
        else if (x->status == 0)
                result = SINK_ACCEPTED;
        else if (x->status == EXIT_TEMPFAIL) {
                result = SINK_TRY_LATER;
                snprintf(detail, sizeof(detail), "%s exited 75 (temporary failure)", x->program);
        } else
                result = SINK_REJECTED;
        if (result != SINK_ACCEPTED)
                log_debug("Exec sink %s: %s", e->sink.name, detail);
        free(q);
        done(&e->sink, result, 0, detail, done_userdata);
}

/* ---- settings ---------------------------------------------------------------------------- */

static const struct setting exec_table[] = {
        {S("command", SETTING_STRV, offsetof(struct exec_settings, command), NULL,
           "argv, no shell; argv[0] absolute"),
         .required = true},
};

static void exec_check(const struct sink_conf *conf, struct setting_errors *e)
{
        const struct exec_settings *set = conf->settings;
        const char *program = set->command ? set->command[0] : NULL;
        int r = program ? child_check_program(program) : 0;

        if (r == -EINVAL)
                setting_error_at_value(e, "command",
                                       "the command must start with an absolute path (no shell, "
                                       "no $PATH search), got '%s'",
                                       SETTING_QUOTE(program));
        else if (r < 0)
                setting_error_at_value(e, "command", "cannot run '%s': %s", SETTING_QUOTE(program),
                                       strerror(-r));
}

/* ---- the sink ---------------------------------------------------------------------------- */

static int exec_create(const struct sink_conf *conf, const struct sink_context *ctx,
                       struct sink **ret)
{
        char label[128];
        int r;

        if (!ctx || !ctx->event)
                return -EINVAL;
        struct exec_sink *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->conf = conf;
        e->command =
                conf->settings ? ((const struct exec_settings *)conf->settings)->command : NULL;
        snprintf(label, sizeof(label), "Exec sink %s", conf->name);
        r = child_runner_new(ctx->event, label, sink_concurrency(conf, NULL),
                             conf->timeout_usec ? conf->timeout_usec : DEFAULT_TIMEOUT, 0,
                             &e->runner);
        if (r < 0) {
                free(e);
                return r;
        }
        *ret = &e->sink;
        return 0;
}

static int exec_send(struct sink *s, const struct notification *n, sink_done_fn done,
                     void *userdata)
{
        struct exec_sink *e = (struct exec_sink *)s;
        _cleanup_free_ char *json = NULL, *title = NULL, *body = NULL, *input = NULL;
        _cleanup_strv_free_ char **env = NULL, **argv = NULL;
        struct exec_request *q = NULL;
        int r;

        if (!e->command || !e->command[0]) {
                done(s, SINK_REJECTED, 0, "no command configured", userdata);
                return 0;
        }
        r = exec_render(e->conf, n, &title, &body);
        if (r >= 0) {
                json = notification_to_json_rendered(n, title, body);
                r = json ? build_env(n, title, body, &env) : -ENOMEM;
        }
        if (r >= 0 && (asprintf(&input, "%s\n", json) < 0 || !(argv = strv_copy(e->command)))) {
                input = NULL;
                r = -ENOMEM;
        }
        if (r >= 0 && !(q = malloc(sizeof(*q))))
                r = -ENOMEM;
        if (r < 0)
                return r;
        *q = (struct exec_request){.exec = e, .done = done, .userdata = userdata};
        size_t len = strlen(input);
        r = child_run(e->runner, TAKE_PTR(argv), TAKE_PTR(env), TAKE_PTR(input), len,
                      on_exit_status, q);
        if (r < 0)
                free(q);
        return r;
}

static void exec_free(struct sink *s)
{
        struct exec_sink *e = (struct exec_sink *)s;
        if (!e)
                return;
        /* the programs still running are killed and answered: "try later" */
        child_runner_free(e->runner);
        free(e);
}

const struct sink_ops sink_exec_ops = {
        .type = "exec",
        SINK_SETTINGS(exec_table, struct exec_settings),
        .check = exec_check,
        .create = exec_create,
        .send = exec_send,
        .free = exec_free,
        .render = exec_render,
};
