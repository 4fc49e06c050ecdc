/* fuzz-main.c — runs saved inputs through a fuzz target without libFuzzer (gcc builds).
 *
 * Usage: fuzz-NAME [--slow-ms N] FILE|DIR...
 * Every file named, and every regular file of every directory named (sorted, dot files
 * skipped), goes once through LLVMFuzzerTestOneInput, as systemd's fuzz-main.c does: the ASan
 * build replays the seed corpus and the regression inputs as an ordinary test, and a crash, a
 * sanitizer report or a failed check ends the run as it would under libFuzzer.
 *
 * --slow-ms N is the work bound check of a Release build (scripts/fuzz.sh): each input runs in a
 * forked child, which measures its own CPU time (CLOCK_PROCESS_CPUTIME_ID, so a loaded machine
 * does not count) around the one call; inputs over N ms are listed and fail the run, and so do
 * inputs that crash, without hiding the timing of the ones after them. The last line is a
 * summary that scripts read: "replayed N inputs, slowest MS ms (FILE), K over N ms, C crashed".
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define INPUT_MAX_SIZE (64 * 1024 * 1024)

struct replay {
        long slow_ms; /* -1: no timing, run in process */
        size_t n_inputs, n_slow, n_crashed;
        double slowest_ms;
        char *slowest;
};

static int read_input(const char *path, uint8_t **ret, size_t *ret_size)
{
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r = read_full_file(path, INPUT_MAX_SIZE, false, &data, &size);
        if (r < 0)
                return r;
        /* an allocation of exactly the input's size: a read one byte past it is an ASan report,
         * as it is under libFuzzer */
        uint8_t *copy = malloc(size ? size : 1);
        if (!copy)
                return -ENOMEM;
        if (size > 0)
                memcpy(copy, data, size);
        *ret = copy;
        *ret_size = size;
        return 0;
}

static double cpu_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs one input in a child; its CPU time in ms, or < 0 when the child did not finish cleanly. */
static double run_timed(const uint8_t *data, size_t size, int *ret_status)
{
        int fds[2];
        double ms = -1;
        pid_t pid;

        if (pipe(fds) < 0)
                return -1;
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return -1;
        }
        if (pid == 0) {
                close(fds[0]);
                double start = cpu_ms();
                LLVMFuzzerTestOneInput(data, size);
                double took = cpu_ms() - start;
                _exit(write(fds[1], &took, sizeof(took)) == sizeof(took) ? 0 : 1);
        }
        close(fds[1]);
        if (read(fds[0], &ms, sizeof(ms)) != sizeof(ms))
                ms = -1;
        close(fds[0]);
        while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(*ret_status) && WEXITSTATUS(*ret_status) == 0 ? ms : -1;
}

static int replay_file(struct replay *rp, const char *path)
{
        _cleanup_free_ uint8_t *data = NULL;
        size_t size = 0;
        int r = read_input(path, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        rp->n_inputs++;
        if (rp->slow_ms < 0) {
                fprintf(stderr, "%s (%zu bytes)\n", path, size);
                LLVMFuzzerTestOneInput(data, size);
                return 0;
        }

        int status = 0;
        double ms = run_timed(data, size, &status);
        if (ms < 0) {
                rp->n_crashed++;
                if (WIFSIGNALED(status))
                        printf("CRASHED %s: signal %d\n", path, WTERMSIG(status));
                else
                        printf("CRASHED %s: exit status %d\n", path, WEXITSTATUS(status));
                return 0;
        }
        if (ms > rp->slowest_ms || !rp->slowest) {
                free(rp->slowest);
                rp->slowest = strdup(path);
                rp->slowest_ms = ms;
        }
        if (ms > rp->slow_ms) {
                rp->n_slow++;
                printf("SLOW %s: %.1f ms of CPU (%zu bytes)\n", path, ms, size);
        }
        return 0;
}

static int replay_path(struct replay *rp, const char *path)
{
        struct stat st;
        struct dirent **names = NULL;
        int n, r = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        if (!S_ISDIR(st.st_mode))
                return replay_file(rp, path);
        n = scandir(path, &names, NULL, alphasort);
        if (n < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;
                struct stat est;
                if (names[i]->d_name[0] != '.' &&
                    asprintf(&p, "%s/%s", path, names[i]->d_name) >= 0 && stat(p, &est) == 0 &&
                    S_ISREG(est.st_mode)) {
                        int k = replay_file(rp, p);
                        if (k < 0 && r == 0)
                                r = k;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv)
{
        struct replay rp = {.slow_ms = -1};
        int r = 0, first = 1;

        if (argc > 2 && streq(argv[1], "--slow-ms")) {
                char *end = NULL;
                rp.slow_ms = strtol(argv[2], &end, 10);
                if (!end || *end || rp.slow_ms < 0) {
                        fprintf(stderr, "--slow-ms needs a number of milliseconds\n");
                        return 2;
                }
                first = 3;
        }
        if (first >= argc) {
                fprintf(stderr, "Usage: %s [--slow-ms N] FILE|DIR...\n", argv[0]);
                return 2;
        }
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);
        for (int i = first; i < argc; i++) {
                int k = replay_path(&rp, argv[i]);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (rp.slow_ms < 0)
                printf("replayed %zu inputs\n", rp.n_inputs);
        else
                printf("replayed %zu inputs, slowest %.1f ms (%s), %zu over %ld ms, %zu crashed\n",
                       rp.n_inputs, rp.slowest_ms, rp.slowest ? rp.slowest : "-", rp.n_slow,
                       rp.slow_ms, rp.n_crashed);
        free(rp.slowest);
        return r < 0 || rp.n_slow > 0 || rp.n_crashed > 0 ? 1 : 0;
}
