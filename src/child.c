/* child.c — programs a sink runs, one per notification, on the event loop (child.h).
 *
 * Owns each program from its spawn to its reaping: the pipes to its stdin and from its output,
 * its timer, its child source. It must never block the loop (every pipe is non-blocking and
 * served by the loop), never leave a program unwatched (one that cannot be watched is killed),
 * and never answer a program twice or not at all. What a program's end means is its sink's to
 * say; this file only reports it.
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

#include "child.h"
#include "log.h"
#include "render.h"

#define KILL_GRACE_USEC (5 * USEC_PER_SEC) /* between SIGTERM and SIGKILL */
#define READ_CHUNK      4096

struct child_job {
        struct child_job *next;
        struct child_runner *runner;
        char **argv, **env;
        char *input;
        size_t input_len, written;
        int input_fd, output_fd;
        char *output; /* capture_max + 1 bytes when the runner captures */
        size_t output_len;
        bool output_cut;
        pid_t pid;
        sd_event_source *child_source, *input_source, *output_source, *timer_source;
        bool timed_out;
        child_done_fn done;
        void *userdata;
};

struct child_runner {
        sd_event *event;
        char *label;
        unsigned limit;
        uint64_t timeout_usec;
        size_t capture_max;
        struct child_job *queued, *running;
        unsigned n_running;
        bool freeing; /* child_runner_free() is answering them: start nothing */
};

static void fd_close(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void job_free(struct child_job *j)
{
        if (!j)
                return;
        sd_event_source_disable_unref(j->child_source);
        sd_event_source_disable_unref(j->input_source);
        sd_event_source_disable_unref(j->output_source);
        sd_event_source_disable_unref(j->timer_source);
        fd_close(&j->input_fd);
        fd_close(&j->output_fd);
        strv_free(j->argv);
        strv_free(j->env);
        free(j->input);
        free(j->output);
        free(j);
}

static void start_queued(struct child_runner *r);

/* Frees the job, lets the next one start, and answers last: done may run programs again. */
static void job_finish(struct child_job *j, struct child_exit *x)
{
        struct child_runner *r = j->runner;
        child_done_fn done = j->done;
        void *userdata = j->userdata;
        _cleanup_strv_free_ char **argv = TAKE_PTR(j->argv);
        _cleanup_free_ char *output = TAKE_PTR(j->output);

        x->program = argv[0];
        x->timeout_usec = r->timeout_usec;
        x->output = output ? output : "";
        x->output_len = output ? j->output_len : 0;
        x->output_cut = j->output_cut;
        job_free(j);
        start_queued(r);
        done(x, userdata);
}

/* ---- its input and output ----------------------------------------------------------------- */

static void input_close(struct child_job *j)
{
        j->input_source = sd_event_source_disable_unref(j->input_source);
        fd_close(&j->input_fd);
}

static int on_input_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct child_job *j = userdata;

        while (j->written < j->input_len) {
                ssize_t n = write(fd, j->input + j->written, j->input_len - j->written);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0) {
                        /* EPIPE: the program did not want its stdin; its exit status decides */
                        log_debug_errno(errno, "%s: stdin of %s closed early: %m", j->runner->label,
                                        j->argv[0]);
                        break;
                }
                j->written += (size_t)n;
        }
        input_close(j); /* EOF: the program knows its input is complete */
        return 0;
}

/* Reads what the program wrote so far, keeping the first capture_max bytes; true at its end. */
static bool output_read(struct child_job *j)
{
        size_t max = j->runner->capture_max;
        char buf[READ_CHUNK];

        for (;;) {
                ssize_t n = read(j->output_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return false;
                if (n <= 0)
                        return true;
                size_t take = (size_t)n < max - j->output_len ? (size_t)n : max - j->output_len;
                memcpy(j->output + j->output_len, buf, take);
                j->output_len += take;
                j->output[j->output_len] = '\0';
                j->output_cut = j->output_cut || take < (size_t)n;
        }
}

static int on_output_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct child_job *j = userdata;

        if (output_read(j)) {
                j->output_source = sd_event_source_disable_unref(j->output_source);
                fd_close(&j->output_fd);
        }
        return 0;
}

/* ---- its end ------------------------------------------------------------------------------ */

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct child_job *j = userdata;
        struct child_runner *r = j->runner;
        struct child_exit x = {
                .timed_out = j->timed_out,
                .exited = si->si_code == CLD_EXITED,
        };

        if (x.exited)
                x.status = si->si_status;
        else
                x.signal = si->si_status;
        /* all it wrote is in the pipe by now; a child of its own that keeps the pipe open must
         * not keep us waiting for an EOF */
        if (j->output_fd >= 0)
                (void)output_read(j);
        LIST_REMOVE(r->running, j);
        r->n_running--;
        job_finish(j, &x);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct child_job *j = userdata;
        struct child_runner *r = j->runner;

        if (!j->timed_out) {
                log_warning("%s: %s (pid %d) ran longer than %" PRIu64 " s, terminating it.",
                            r->label, j->argv[0], (int)j->pid, r->timeout_usec / USEC_PER_SEC);
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

/* ---- its start ---------------------------------------------------------------------------- */

/* posix_spawn()s argv with in_fd as its stdin and out_fd as its stdout and stderr (-1: our
 * stderr for both): its own process group, the usual signals back. 0 or a positive errno. */
static int job_spawn(struct child_job *j, int in_fd, int out_fd)
{
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
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
        if (out_fd >= 0) {
                posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
                posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
        } else
                /* its output lands in our log (the journal), never in our stdout, where the
                 * console sink and test-sink print */
                posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
        posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        r = posix_spawn(&j->pid, j->argv[0], &fa, &attr, j->argv, j->env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r;
}

/* Makes fd non-blocking and calls handler when it is ready for events; a failure is logged and
 * leaves *source NULL. */
static int job_watch_fd(struct child_job *j, int fd, uint32_t events, sd_event_io_handler_t handler,
                        sd_event_source **source)
{
        int r = fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_io(j->runner->event, source, fd, events, handler, j);
        if (r < 0)
                log_warning_errno(r, "%s: cannot serve a pipe of pid %d, closing it: %m",
                                  j->runner->label, (int)j->pid);
        return r;
}

/* The program runs: reap it, time it out, feed it, read it. When it cannot be reaped it is
 * killed and answered. */
static void job_watch(struct child_job *j)
{
        struct child_runner *r = j->runner;
        int k;

        k = sd_event_add_child(r->event, &j->child_source, j->pid, WEXITED, on_child_exit, j);
        if (k < 0) {
                /* cannot reap it: do not leave it running unwatched */
                log_error_errno(k, "%s: cannot watch pid %d: %m", r->label, (int)j->pid);
                (void)kill(-j->pid, SIGKILL);
                (void)waitpid(j->pid, NULL, 0);
                LIST_REMOVE(r->running, j);
                r->n_running--;
                job_finish(j, &(struct child_exit){.spawn_error = -k});
                return;
        }
        k = sd_event_add_time_relative(r->event, &j->timer_source, CLOCK_MONOTONIC, r->timeout_usec,
                                       0, on_timeout, j);
        if (k < 0)
                log_warning_errno(k, "%s: no timeout for pid %d, ignoring: %m", r->label,
                                  (int)j->pid);
        if (j->input_len == 0 ||
            job_watch_fd(j, j->input_fd, EPOLLOUT, on_input_writable, &j->input_source) < 0)
                input_close(j);
        if (j->output_fd >= 0 &&
            job_watch_fd(j, j->output_fd, EPOLLIN, on_output_readable, &j->output_source) < 0)
                fd_close(&j->output_fd);
}

static void job_start(struct child_job *j)
{
        struct child_runner *r = j->runner;
        int in[2] = {-1, -1}, out[2] = {-1, -1};
        int k = 0;

        if (r->capture_max > 0 && !(j->output = malloc(r->capture_max + 1)))
                k = ENOMEM;
        else if (j->output)
                j->output[0] = '\0';
        if (k == 0 && (pipe2(in, O_CLOEXEC) < 0 || (j->output && pipe2(out, O_CLOEXEC) < 0)))
                k = errno;
        if (k == 0)
                k = job_spawn(j, in[0], out[1]);
        fd_close(&in[0]);
        fd_close(&out[1]);
        j->input_fd = in[1];
        j->output_fd = out[0];
        if (k != 0) {
                log_error("%s: cannot run %s: %s", r->label, j->argv[0], strerror(k));
                job_finish(j, &(struct child_exit){.spawn_error = k});
                return;
        }
        log_debug("%s: started %s (pid %d).", r->label, j->argv[0], (int)j->pid);
        LIST_APPEND(r->running, j);
        r->n_running++;
        job_watch(j);
}

static void start_queued(struct child_runner *r)
{
        while (!r->freeing && r->queued && r->n_running < r->limit) {
                struct child_job *j = r->queued;
                r->queued = j->next;
                j->next = NULL;
                job_start(j);
        }
}

/* ---- the runner --------------------------------------------------------------------------- */

int child_run(struct child_runner *r, char **argv, char **env, char *input, size_t input_len,
              child_done_fn done, void *userdata)
{
        struct child_job *j = argv && argv[0] ? calloc(1, sizeof(*j)) : NULL;
        if (!j) {
                bool no_program = !argv || !argv[0];
                strv_free(argv);
                strv_free(env);
                free(input);
                return no_program ? -EINVAL : -ENOMEM;
        }
        *j = (struct child_job){
                .runner = r,
                .argv = argv,
                .env = env,
                .input = input,
                .input_len = input ? input_len : 0,
                .input_fd = -1,
                .output_fd = -1,
                .done = done,
                .userdata = userdata,
        };
        LIST_APPEND(r->queued, j);
        start_queued(r);
        return 0;
}

int child_runner_new(sd_event *event, const char *label, unsigned limit, uint64_t timeout_usec,
                     size_t capture_max, struct child_runner **ret)
{
        sigset_t chld;
        struct sigaction sa;

        if (!event || limit == 0)
                return -EINVAL;
        /* sd_event_add_child() needs SIGCHLD blocked in every thread (govwatchd has one) */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
                return -errno;
        /* a program that exits without reading its stdin must give us EPIPE, not kill us */
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
                (void)signal(SIGPIPE, SIG_IGN);

        struct child_runner *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->label = strdup(label);
        if (!r->label) {
                free(r);
                return -ENOMEM;
        }
        r->event = sd_event_ref(event);
        r->limit = limit;
        r->timeout_usec = timeout_usec;
        r->capture_max = capture_max;
        *ret = r;
        return 0;
}

struct child_runner *child_runner_free(struct child_runner *r)
{
        if (!r)
                return NULL;
        /* shutting down with programs still running: stop them (a retry will come), reap them
         * here since the loop will not, and answer every one */
        r->freeing = true;
        while (r->running) {
                struct child_job *j = r->running;
                r->running = j->next;
                r->n_running--;
                (void)kill(-j->pid, SIGKILL);
                j->child_source = sd_event_source_disable_unref(j->child_source);
                (void)waitpid(j->pid, NULL, 0);
                job_finish(j, &(struct child_exit){.cancelled = true});
        }
        while (r->queued) {
                struct child_job *j = r->queued;
                r->queued = j->next;
                job_finish(j, &(struct child_exit){.cancelled = true});
        }
        sd_event_unref(r->event);
        free(r->label);
        free(r);
        return NULL;
}

bool child_exit_describe(const struct child_exit *x, char *detail, size_t size)
{
        int e = x->spawn_error;

        if (x->cancelled)
                snprintf(detail, size, "the sink was shut down");
        else if (e)
                snprintf(detail, size, "cannot run %s: %s", x->program, strerror(e));
        else if (x->timed_out)
                snprintf(detail, size, "%s timed out after %" PRIu64 " s and was killed",
                         x->program, x->timeout_usec / USEC_PER_SEC);
        else if (x->exited)
                snprintf(detail, size, "%s exited %d", x->program, x->status);
        else
                snprintf(detail, size, "%s was killed by signal %s", x->program,
                         strsignal(x->signal));
        return !x->cancelled && (e == ENOENT || e == EACCES || e == ENOEXEC || e == ENOTDIR ||
                                 e == ELOOP || e == EISDIR);
}

int child_check_program(const char *program)
{
        struct stat st;

        if (program[0] != '/')
                return -EINVAL;
        /* as the service will see it: a program that is not there fails every send */
        return stat(program, &st) < 0      ? -errno
               : S_ISDIR(st.st_mode)       ? -EISDIR
               : access(program, X_OK) < 0 ? -errno
                                           : 0;
}

int child_env_add(char ***env, size_t *n, const char *key, const char *value, size_t max_bytes)
{
        size_t klen = strlen(key);
        size_t vlen =
                max_bytes ? utf8_prefix_len(strempty(value), max_bytes) : strlen(strempty(value));
        char **l = realloc(*env, (*n + 2) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        *env = l;
        l[*n] = NULL; /* still a list should the copy below fail */
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
