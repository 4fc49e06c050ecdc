/* parse-json.c — the CPU a bare jansson parse needs for a set of API answers: the yardstick the
 * 7000-community sweep bench compares the daemon with. Usage: bench-parse-json FILE... */
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

static double cpu_seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        char **data = calloc((size_t)argc, sizeof(char *));
        size_t *size = calloc((size_t)argc, sizeof(size_t));
        size_t total = 0;
        double best = -1;

        if (!data || !size)
                return 1;
        for (int i = 1; i < argc; i++) {
                int r = read_full_file(argv[i], 256 * 1024 * 1024, false, &data[i], &size[i]);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
                        return 1;
                }
                total += size[i];
        }
        /* best of three, so a noisy neighbour does not inflate the yardstick */
        for (int round = 0; round < 3; round++) {
                double start = cpu_seconds();
                for (int i = 1; i < argc; i++) {
                        json_error_t err;
                        json_t *j = json_loadb(data[i], size[i], 0, &err);
                        if (!j) {
                                fprintf(stderr, "%s: %s\n", argv[i], err.text);
                                return 1;
                        }
                        json_decref(j);
                }
                double t = cpu_seconds() - start;
                if (best < 0 || t < best)
                        best = t;
        }
        printf("files %d bytes %zu jansson_cpu_s %.3f\n", argc - 1, total, best);
        for (int i = 1; i < argc; i++)
                free(data[i]);
        free(data);
        free(size);
        return 0;
}
