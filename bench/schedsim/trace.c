/* trace.c — bench-schedsim's traces (trace.h): built by a family or read from a CSV file, written
 * back as CSV, and what the simulation measures of them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "trace.h"
#include "util.h"

int trace_init(struct trace *tr, size_t n_comm, int64_t t_hist, int64_t t0, int64_t t_end)
{
        *tr = (struct trace){.n_comm = n_comm, .t_hist = t_hist, .t0 = t0, .t_end = t_end};
        size_t n = n_comm ? n_comm : 1;
        tr->owner = calloc(n, sizeof(*tr->owner));
        tr->post = calloc(n, sizeof(*tr->post));
        tr->n_post = calloc(n, sizeof(*tr->n_post));
        tr->alloc_post = calloc(n, sizeof(*tr->alloc_post));
        if (!tr->owner || !tr->post || !tr->n_post || !tr->alloc_post)
                return -ENOMEM;
        for (size_t i = 0; i < n_comm; i++)
                tr->owner[i] = -(int64_t)(100000 + i * 7);
        return 0;
}

int trace_add(struct trace *tr, size_t i, int64_t t)
{
        if (i >= tr->n_comm || t < tr->t_hist || t >= tr->t_end)
                return 0;
        if (!greedy_realloc((void **)&tr->post[i], &tr->alloc_post[i], tr->n_post[i] + 1,
                            sizeof(int64_t)))
                return -ENOMEM;
        tr->post[i][tr->n_post[i]++] = t;
        return 0;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

void trace_sort(struct trace *tr)
{
        for (size_t i = 0; i < tr->n_comm; i++)
                if (tr->n_post[i] > 1)
                        qsort(tr->post[i], tr->n_post[i], sizeof(int64_t), cmp_i64);
}

void trace_done(struct trace *tr)
{
        for (size_t i = 0; tr->post && i < tr->n_comm; i++)
                free(tr->post[i]);
        free(tr->post);
        free(tr->n_post);
        free(tr->alloc_post);
        free(tr->first);
        free(tr->owner);
        free(tr->true_rate);
        *tr = (struct trace){};
}

double trace_local_hour(double t)
{
        double d = fmod(t + SCHEDSIM_MOSCOW_OFFSET, 86400);
        if (d < 0)
                d += 86400;
        return d / 3600;
}

int64_t trace_local_day(double t)
{
        return (int64_t)floor((t - (double)SCHEDSIM_DEFAULT_T0) / 86400);
}

/* ---- trace files ---------------------------------------------------------------------------- */

struct row {
        int64_t owner, t;
};

static int cmp_row(const void *a, const void *b)
{
        const struct row *x = a, *y = b;
        if (x->owner != y->owner)
                return (x->owner > y->owner) - (x->owner < y->owner);
        return (x->t > y->t) - (x->t < y->t);
}

static int read_rows(FILE *f, struct row **ret_rows, size_t *ret_n, size_t *ret_bad_line)
{
        _cleanup_free_ struct row *rows = NULL;
        size_t n = 0, allocated = 0, line_no = 0;
        char line[256];

        while (fgets(line, sizeof(line), f)) {
                long long o, t;
                line_no++;
                if (line[0] == '#' || line[0] == '\n')
                        continue;
                if (sscanf(line, "%lld , %lld", &o, &t) != 2) {
                        if (line_no == 1)
                                continue; /* header */
                        *ret_bad_line = line_no;
                        return -EBADMSG;
                }
                if (!greedy_realloc((void **)&rows, &allocated, n + 1, sizeof(*rows)))
                        return -ENOMEM;
                rows[n++] = (struct row){o, t};
        }
        if (n == 0)
                return -ENODATA;
        *ret_rows = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}

int trace_read_csv(struct trace *tr, const char *path, int64_t lead_sec, size_t *ret_bad_line)
{
        _cleanup_free_ struct row *rows = NULL;
        size_t n = 0, n_comm = 0;
        int r;

        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        r = read_rows(f, &rows, &n, ret_bad_line);
        fclose(f);
        if (r < 0)
                return r;
        qsort(rows, n, sizeof(*rows), cmp_row);

        int64_t tmin = INT64_MAX, tmax = INT64_MIN;
        for (size_t i = 0; i < n; i++) {
                n_comm += i == 0 || rows[i].owner != rows[i - 1].owner;
                tmin = rows[i].t < tmin ? rows[i].t : tmin;
                tmax = rows[i].t > tmax ? rows[i].t : tmax;
        }
        if (tmin - 1 + lead_sec >= tmax + 1)
                return -ERANGE;
        r = trace_init(tr, n_comm, tmin - 1, tmin - 1 + lead_sec, tmax + 1);
        for (size_t i = 0, k = SIZE_MAX; r >= 0 && i < n; i++) {
                if (i == 0 || rows[i].owner != rows[i - 1].owner) {
                        k = k == SIZE_MAX ? 0 : k + 1;
                        tr->owner[k] = rows[i].owner;
                }
                r = trace_add(tr, k, rows[i].t);
        }
        return r;
}

int trace_write_csv(const struct trace *tr, const char *path)
{
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs("owner_id,unix_time\n", f);
        for (size_t i = 0; i < tr->n_comm; i++)
                for (size_t j = 0; j < tr->n_post[i]; j++)
                        fprintf(f, "%" PRId64 ",%" PRId64 "\n", tr->owner[i], tr->post[i][j]);
        if (fclose(f) != 0)
                return -errno;
        return 0;
}

/* ---- what the simulation measures ----------------------------------------------------------- */

int trace_measure(struct trace *tr, size_t *ret_measured)
{
        size_t total = 0;

        free(tr->first);
        tr->first = calloc(tr->n_comm ? tr->n_comm : 1, sizeof(size_t));
        if (!tr->first)
                return -ENOMEM;
        for (size_t i = 0; i < tr->n_comm; i++) {
                size_t k = 0;
                while (k < tr->n_post[i] && tr->post[i][k] < tr->t0)
                        k++;
                tr->first[i] = k;
                total += tr->n_post[i] - k;
        }
        *ret_measured = total;
        return 0;
}

int trace_fill_empirical_rates(struct trace *tr)
{
        double exposure[24] = {0}; /* hours of the window at each local hour */

        if (tr->true_rate)
                return 0;
        tr->true_rate = calloc((tr->n_comm ? tr->n_comm : 1) * 24, sizeof(double));
        if (!tr->true_rate)
                return -ENOMEM;
        for (int64_t t = tr->t0; t < tr->t_end;) {
                double h = trace_local_hour((double)t);
                int64_t next = t + (int64_t)ceil((floor(h) + 1 - h) * 3600);
                next = next < tr->t_end ? next : tr->t_end;
                exposure[(size_t)h] += (double)(next - t) / 3600;
                t = next;
        }
        for (size_t i = 0; i < tr->n_comm; i++)
                for (size_t j = 0; j < tr->n_post[i]; j++) {
                        int64_t t = tr->post[i][j];
                        size_t h = (size_t)trace_local_hour((double)t);
                        if (t >= tr->t0 && t < tr->t_end && exposure[h] > 0)
                                tr->true_rate[i * 24 + h] += 1 / exposure[h];
                }
        return 0;
}
