/* trace.c — building bench-schedsim's traces (trace.h). */
#include <errno.h>
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
