/* child.h — programs a sink runs, one per notification, on the event loop (the exec and apprise
 * sinks).
 *
 * posix_spawn() of an argv (never a shell, argv[0] an absolute path) with an environment the
 * sink built from scratch, in the program's own process group with the usual signals back. Its
 * input is written to its stdin through a non-blocking pipe from the loop, then closed; its
 * output (stdout and stderr together) either goes to our stderr, the journal, or is captured up
 * to a bound for the sink to read. A timeout sends SIGTERM to the whole group, and SIGKILL a grace
 * period later; an sd-event child source reaps it. A runner owns the programs of one sink: at
 * most `limit` run at once, the others wait their turn; freeing it kills those still running
 * and answers every one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "util.h"

struct child_runner;

/* How a program ended, for the sink to judge. */
struct child_exit {
        const char *program; /* argv[0] */
        bool cancelled;      /* the runner was freed first: it was killed, or never started */
        int spawn_error;     /* it never ran: posix_spawn()'s (positive) errno, or pipe's */
        bool timed_out;      /* it ran past the timeout and was killed */
        uint64_t timeout_usec;
        bool exited; /* exit() ended it: status is its exit status; else signal is the one */
        int status;
        int signal;
        /* What it wrote to stdout and stderr, NUL-terminated (not necessarily text), when the
         * runner captures: at most capture_max bytes, output_cut when it wrote more. */
        const char *output;
        size_t output_len;
        bool output_cut;
};

/* Called once per child_run() that returned 0, never from inside child_run(). The runner may be
 * given new programs from here, and freed. */
typedef void (*child_done_fn)(const struct child_exit *x, void *userdata);

/* label: how log lines name the sink ("Exec sink hook"), copied. timeout_usec: per program.
 * capture_max: 0 joins the programs' output to our stderr; else up to that many bytes of it
 * are captured for the child_exit. */
int child_runner_new(sd_event *event, const char *label, unsigned limit, uint64_t timeout_usec,
                     size_t capture_max, struct child_runner **ret);
/* Kills the programs still running (their process groups, with SIGKILL), reaps them, and
 * answers them and the waiting ones with cancelled; accepts NULL. */
struct child_runner *child_runner_free(struct child_runner *r);

/* Runs argv with env (NULL-terminated "KEY=value" strings) and input (input_len bytes on its
 * stdin, then EOF; NULL for none) once a place is free. Takes argv, env and input whatever it
 * returns: 0 (done will be called), -EINVAL without argv[0], or -ENOMEM. */
int child_run(struct child_runner *r, char **argv, char **env, char *input, size_t input_len,
              child_done_fn done, void *userdata);

/* How x ended, in words, into detail: "PROGRAM exited 1", "PROGRAM timed out after 30 s and
 * was killed", "PROGRAM was killed by signal Segmentation fault", "cannot run PROGRAM: No such
 * file or directory", "the sink was shut down". Returns whether the program cannot run at all
 * (missing, not executable, …), so that trying it again cannot help. */
bool child_exit_describe(const struct child_exit *x, char *detail, size_t size);

/* Whether program is a program the service can run: 0, -EINVAL when the path is not absolute,
 * else why not (-ENOENT, -EACCES, -EISDIR, …). For a sink's check of its program. */
int child_check_program(const char *program);

/* Appends "key=value" to the environment *env of *n strings (kept NULL-terminated); value cut
 * at max_bytes on a character boundary (0: whole), NULL as "". 0 or -ENOMEM. */
int child_env_add(char ***env, size_t *n, const char *key, const char *value, size_t max_bytes);
