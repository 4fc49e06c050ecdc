/* sinks/exec.c — the escape hatch: run a program per notification (Telegram, ntfy, a script).
 *
 * posix_spawn() of `command` (an argv, never a shell) with the notification as one JSON line
 * on stdin, written through a non-blocking pipe from the event loop, and as GOVWATCH_*
 * environment variables. The child is reaped by an sd-event child source; a timeout kills its
 * process group. Exit 0 is accepted, 75 (EX_TEMPFAIL) is "try later", anything else rejected.
 * Owns the children it started and at most conf->concurrency of them run at once. It must never
 * pass a secret on (the environment is built from scratch: no VK token, no credentials path) and
 * never let VK text reach a shell or the command line. Its one key of its own, command, is the
 * table below, which the config reads through the registry.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink.h"

#define EXIT_TEMPFAIL       75 /* sysexits.h EX_TEMPFAIL */
#define DEFAULT_TIMEOUT     (30 * USEC_PER_SEC)
#define KILL_GRACE_USEC     (5 * USEC_PER_SEC) /* between SIGTERM and SIGKILL */
#define DEFAULT_CONCURRENCY 4
/* The full text is on stdin; the environment copy is for scripts that only want a line or two,
 * and keeps far below the kernel's 128 KiB limit for one variable. */
#define ENV_TEXT_MAX_BYTES 4096
#define ENV_BODY_MAX_BYTES 4096

/* Passed on from govwatchd's own environment: what a program needs to find things and to speak
 * the right language. Nothing else: the daemon's environment may hold GOVWATCH_VK_TOKEN or
 * CREDENTIALS_DIRECTORY. */
static const char *const inherited_env[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ"};

struct exec_sink;

struct exec_job {
        struct exec_job *next;
        struct exec_sink *exec;
        char **env;
        char *input; /* JSON + "\n" */
        size_t input_len, written;
        int input_fd;
        pid_t pid;
        sd_event_source *child_source, *io_source, *timer_source;
        bool timed_out;
        sink_done_fn done;
        void *userdata;
};

/* The keys of an exec sink beyond those every sink has: sink_conf.settings. */
struct exec_settings {
        char **command; /* NULL-terminated argv, no shell */
};

struct exec_sink {
        struct sink sink;
        const struct sink_conf *conf;
        char *const *command; /* conf's */
        sd_event *event;
        struct exec_job *queued;
        struct exec_job *running;
        unsigned n_running;
};

static void job_free(struct exec_job *j)
{
        if (!j)
                return;
        sd_event_source_disable_unref(j->child_source);
        sd_event_source_disable_unref(j->io_source);
        sd_event_source_disable_unref(j->timer_source);
        if (j->input_fd >= 0)
                close(j->input_fd);
        strv_free(j->env);
        free(j->input);
        free(j);
}

static const char *command_name(const struct exec_sink *e)
{
        return e->command && e->command[0] ? e->command[0] : "(none)";
}

static uint64_t timeout_usec(const struct exec_sink *e)
{
        return e->conf && e->conf->timeout_usec ? e->conf->timeout_usec : DEFAULT_TIMEOUT;
}

static void start_queued(struct exec_sink *e);

/* Frees the job, lets the next one start, and calls done last: it may send again. */
static void job_complete(struct exec_job *j, enum sink_result result, const char *detail)
{
        struct exec_sink *e = j->exec;
        sink_done_fn done = j->done;
        void *userdata = j->userdata;

        job_free(j);
        start_queued(e);
        done(&e->sink, result, 0, detail, userdata);
}

/* ---- the environment --------------------------------------------------------------------- */

static int env_add(char ***env, size_t *n, const char *key, const char *value, size_t max_bytes)
{
        size_t klen = strlen(key);
        size_t vlen =
                max_bytes ? utf8_prefix_len(strempty(value), max_bytes) : strlen(strempty(value));
        char **l = realloc(*env, (*n + 2) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        *env = l;
        char *kv = malloc(klen + 1 + vlen + 1);
        if (!kv)
                return -ENOMEM;
        memcpy(kv, key, klen);
        kv[klen] = '=';
        memcpy(kv + klen + 1, strempty(value), vlen);
        kv[klen + 1 + vlen] = '\0';
        l[(*n)++] = kv;
        l[*n] = NULL;
        return 0;
}

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
                        r = env_add(&env, &len, inherited_env[i], v, 0);
                else if (streq(inherited_env[i], "PATH"))
                        r = env_add(&env, &len, "PATH", "/usr/local/bin:/usr/bin:/bin", 0);
        }
        format_iso8601(n->starts_at, n->starts_at_utc_offset, starts, sizeof(starts));
        format_iso8601(n->date, n->date_utc_offset, date, sizeof(date));
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_KIND", n->kind, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_COMMUNITY", n->community, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_TOPIC", n->topic, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_URL", n->url, 0);
        snprintf(num, sizeof(num), "%" PRId64, n->owner_id);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_OWNER_ID", num, 0);
        snprintf(num, sizeof(num), "%" PRId64, n->post_id);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_POST_ID", num, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_CATEGORIES", cats, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_DATE", date, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_STARTS_AT", starts, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_TEXT", n->text, ENV_TEXT_MAX_BYTES);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_TITLE", title, 0);
        if (r >= 0)
                r = env_add(&env, &len, "GOVWATCH_BODY", body, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* ---- the child --------------------------------------------------------------------------- */

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct exec_job *j = userdata;
        struct exec_sink *e = j->exec;
        enum sink_result result;
        char detail[256];

        LIST_REMOVE(e->running, j);
        e->n_running--;
        if (j->timed_out) {
                result = SINK_TRY_LATER;
                snprintf(detail, sizeof(detail), "%s timed out after %" PRIu64 " s and was killed",
                         command_name(e), timeout_usec(e) / USEC_PER_SEC);
        } else if (si->si_code == CLD_EXITED && si->si_status == 0) {
                result = SINK_ACCEPTED;
                snprintf(detail, sizeof(detail), "%s exited 0", command_name(e));
        } else if (si->si_code == CLD_EXITED && si->si_status == EXIT_TEMPFAIL) {
                result = SINK_TRY_LATER;
                snprintf(detail, sizeof(detail), "%s exited 75 (temporary failure)",
                         command_name(e));
        } else if (si->si_code == CLD_EXITED) {
                result = SINK_REJECTED;
                snprintf(detail, sizeof(detail), "%s exited %d", command_name(e), si->si_status);
        } else {
                result = SINK_REJECTED;
                snprintf(detail, sizeof(detail), "%s was killed by signal %s", command_name(e),
                         strsignal(si->si_status));
        }
        if (result != SINK_ACCEPTED)
                log_debug("Exec sink %s: %s", e->sink.name, detail);
        job_complete(j, result, detail);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct exec_job *j = userdata;
        struct exec_sink *e = j->exec;

        if (!j->timed_out) {
                log_warning(
                        "Exec sink %s: %s (pid %d) ran longer than %" PRIu64 " s, terminating it.",
                        e->sink.name, command_name(e), (int)j->pid, timeout_usec(e) / USEC_PER_SEC);
                j->timed_out = true;
                /* the whole group: a script's own children (curl …) go too */
                (void)kill(-j->pid, SIGTERM);
                (void)sd_event_source_set_time_relative(s, KILL_GRACE_USEC);
                (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        (void)kill(-j->pid, SIGKILL);
        return 0;
}

static void input_close(struct exec_job *j)
{
        j->io_source = sd_event_source_disable_unref(j->io_source);
        if (j->input_fd >= 0)
                close(j->input_fd);
        j->input_fd = -1;
}

static int on_input_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct exec_job *j = userdata;

        while (j->written < j->input_len) {
                ssize_t n = write(fd, j->input + j->written, j->input_len - j->written);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0) {
                        /* EPIPE: the program did not want its stdin; its exit status decides */
                        log_debug_errno(errno, "Exec sink %s: stdin of %s closed early: %m",
                                        j->exec->sink.name, command_name(j->exec));
                        break;
                }
                j->written += (size_t)n;
        }
        input_close(j); /* EOF: the program knows the JSON is complete */
        return 0;
}

/* Starts one job; on failure completes it (rejected when the command cannot run at all). */
/* posix_spawn()s the command with the pipe's read end as its stdin: its own process group, the
 * usual signals back, stdout joined to stderr. Returns 0 or a positive errno, as posix_spawn. */
static int job_spawn(struct exec_job *j, int stdin_fd)
{
        struct exec_sink *e = j->exec;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, defaults;
        int r;

        sigemptyset(&none);
        sigemptyset(&defaults);
        /* ignored signals stay ignored across exec: give the program the usual ones back */
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGCHLD);
        sigaddset(&defaults, SIGTERM);
        sigaddset(&defaults, SIGINT);
        sigaddset(&defaults, SIGHUP);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setsigmask(&attr, &none); /* ours blocks SIGCHLD, SIGTERM, … */
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setpgroup(&attr, 0); /* its own process group, killed whole on timeout */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETPGROUP);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, stdin_fd, STDIN_FILENO);
        /* stdout joins stderr: the program's output lands in our log (the journal), never in
         * our stdout, where the console sink and test-sink print */
        posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
        posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        r = posix_spawn(&j->pid, e->command[0], &fa, &attr, e->command, j->env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r;
}

/* The child runs: reap it, time it out, feed it. false when it cannot be watched (it is killed
 * and the job completed). */
static bool job_watch(struct exec_job *j)
{
        struct exec_sink *e = j->exec;
        int r;

        r = sd_event_add_child(e->event, &j->child_source, j->pid, WEXITED, on_child_exit, j);
        if (r < 0) {
                /* cannot reap it: do not leave it running unwatched */
                log_error_errno(r, "Exec sink %s: cannot watch pid %d: %m", e->sink.name,
                                (int)j->pid);
                (void)kill(-j->pid, SIGKILL);
                (void)waitpid(j->pid, NULL, 0);
                LIST_REMOVE(e->running, j);
                e->n_running--;
                job_complete(j, SINK_TRY_LATER, "cannot watch the child process");
                return false;
        }
        r = sd_event_add_time_relative(e->event, &j->timer_source, CLOCK_MONOTONIC, timeout_usec(e),
                                       0, on_timeout, j);
        if (r < 0)
                log_warning_errno(r, "Exec sink %s: no timeout for pid %d, ignoring: %m",
                                  e->sink.name, (int)j->pid);
        r = fcntl(j->input_fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_io(e->event, &j->io_source, j->input_fd, EPOLLOUT,
                                    on_input_writable, j);
        if (r < 0) {
                log_warning_errno(r, "Exec sink %s: cannot feed stdin of pid %d, closing it: %m",
                                  e->sink.name, (int)j->pid);
                input_close(j);
        }
        return true;
}

static void job_start(struct exec_job *j)
{
        struct exec_sink *e = j->exec;
        char detail[512];
        int pipefd[2] = {-1, -1};
        int r;

        if (!e->command || !e->command[0]) {
                job_complete(j, SINK_REJECTED, "no command configured");
                return;
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                snprintf(detail, sizeof(detail), "cannot make a pipe: %s", strerror(errno));
                job_complete(j, SINK_TRY_LATER, detail);
                return;
        }
        r = job_spawn(j, pipefd[0]);
        close(pipefd[0]);
        j->input_fd = pipefd[1];
        if (r != 0) {
                bool permanent = r == ENOENT || r == EACCES || r == ENOEXEC || r == ENOTDIR ||
                                 r == ELOOP || r == EISDIR;
                snprintf(detail, sizeof(detail), "cannot run %s: %s", e->command[0], strerror(r));
                log_error("Exec sink %s: %s", e->sink.name, detail);
                job_complete(j, permanent ? SINK_REJECTED : SINK_TRY_LATER, detail);
                return;
        }
        log_debug("Exec sink %s: started %s (pid %d).", e->sink.name, e->command[0], (int)j->pid);
        LIST_APPEND(e->running, j);
        e->n_running++;
        (void)job_watch(j);
}

static void start_queued(struct exec_sink *e)
{
        unsigned limit =
                e->conf && e->conf->concurrency ? e->conf->concurrency : DEFAULT_CONCURRENCY;
        while (e->queued && e->n_running < limit) {
                struct exec_job *j = e->queued;
                e->queued = j->next;
                j->next = NULL;
                job_start(j);
        }
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
        struct stat st;

        if (!program)
                return;
        if (program[0] != '/') {
                setting_error_at_value(e, "command",
                                       "the command must start with an absolute path (no shell, "
                                       "no $PATH search), got '%s'",
                                       SETTING_QUOTE(program));
                return;
        }
        /* as the service will see it: a program that is not there fails every send */
        int r = stat(program, &st) < 0      ? -errno
                : S_ISDIR(st.st_mode)       ? -EISDIR
                : access(program, X_OK) < 0 ? -errno
                                            : 0;
        if (r < 0)
                setting_error_at_value(e, "command", "cannot run '%s': %s", SETTING_QUOTE(program),
                                       strerror(-r));
}

/* ---- the sink ---------------------------------------------------------------------------- */

static int exec_create(const struct sink_conf *conf, const struct sink_context *ctx,
                       struct sink **ret)
{
        sigset_t chld;
        struct sigaction sa;

        if (!ctx || !ctx->event)
                return -EINVAL;
        /* sd_event_add_child() needs SIGCHLD blocked in every thread (govwatchd has one) */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
                return -errno;
        /* a program that exits without reading its stdin must give us EPIPE, not kill us */
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
                (void)signal(SIGPIPE, SIG_IGN);

        struct exec_sink *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->conf = conf;
        e->command =
                conf->settings ? ((const struct exec_settings *)conf->settings)->command : NULL;
        e->event = sd_event_ref(ctx->event);
        *ret = &e->sink;
        return 0;
}

static int exec_send(struct sink *s, const struct notification *n, sink_done_fn done,
                     void *userdata)
{
        struct exec_sink *e = (struct exec_sink *)s;
        struct exec_job *j = calloc(1, sizeof(*j));
        _cleanup_free_ char *json = NULL, *title = NULL, *body = NULL;
        int r;

        if (!j)
                return -ENOMEM;
        j->exec = e;
        j->input_fd = -1;
        j->done = done;
        j->userdata = userdata;
        r = exec_render(e->conf, n, &title, &body);
        if (r >= 0) {
                json = notification_to_json_rendered(n, title, body);
                r = json ? build_env(n, title, body, &j->env) : -ENOMEM;
        }
        if (r >= 0) {
                j->input_len = strlen(json) + 1;
                j->input = malloc(j->input_len + 1);
                if (!j->input)
                        r = -ENOMEM;
        }
        if (r < 0) {
                job_free(j);
                return r;
        }
        memcpy(j->input, json, j->input_len - 1);
        j->input[j->input_len - 1] = '\n';
        j->input[j->input_len] = '\0';

        LIST_APPEND(e->queued, j);
        start_queued(e);
        return 0;
}

static void exec_free(struct sink *s)
{
        struct exec_sink *e = (struct exec_sink *)s;
        if (!e)
                return;
        /* shutting down with programs still running: stop them (a retry will come), reap them
         * here since the loop will not, and answer every send */
        while (e->running) {
                struct exec_job *j = e->running;
                e->running = j->next;
                e->n_running--;
                (void)kill(-j->pid, SIGKILL);
                j->child_source = sd_event_source_disable_unref(j->child_source);
                (void)waitpid(j->pid, NULL, 0);
                sink_done_fn done = j->done;
                void *userdata = j->userdata;
                job_free(j);
                done(s, SINK_TRY_LATER, 0, "the exec sink was shut down", userdata);
        }
        while (e->queued) {
                struct exec_job *j = e->queued;
                e->queued = j->next;
                sink_done_fn done = j->done;
                void *userdata = j->userdata;
                job_free(j);
                done(s, SINK_TRY_LATER, 0, "the exec sink was shut down", userdata);
        }
        sd_event_unref(e->event);
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
