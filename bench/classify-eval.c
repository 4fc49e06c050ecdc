/* classify-eval.c — scores the classifier on a labelled corpus and measures its speed.
 *
 *   bench-classify-eval [--rules FILE] [--model FILE] [--timezone ZONE] [--split SPLIT]
 *                       [--errors] [--seconds S] CORPUS.jsonl
 *   bench-classify-eval [...] POSTS.jsonl LABELS.jsonl
 *
 * CORPUS.jsonl is corpus.h's format (a post with its "labels" a line; data/corpus/posts.jsonl);
 * POSTS + LABELS is ../shared/corpus/LABELS.md's pair of files. --split train|dev|test|all picks
 * the shipped corpus's fixed split (default: all); --real keeps real texts only. For the rules
 * alone and for rules with the model it prints per-category precision/recall/F1, micro-F1 and the
 * exact-match rate; for the combination also the confusions (FP: the post's real labels; FN: what
 * was predicted instead), start times found for live posts whose text states one ("start_time"),
 * throughput (posts a second on one core, thread CPU time, over repeated passes) and peak RSS.
 * --errors lists every misclassified post.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "classify.h"
#include "corpus.h"
#include "model.h"
#include "util.h"

struct item {
        struct post *post;
        uint64_t gold;
        const char *start_time; /* "HH:MM" stated in the text, or NULL */
        int start_day;          /* day of month stated, 0: none */
        const char *source;
};

static double thread_cpu_seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
        struct rusage ru;
        return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static int read_lines(const char *path, json_t ***ret, size_t *ret_n)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -errno;
        }
        json_t **v = NULL;
        size_t n = 0, allocated = 0, lineno = 0, cap = 0;
        char *line = NULL;
        ssize_t len;
        int r = 0;
        while ((len = getline(&line, &cap, f)) >= 0) {
                lineno++;
                if (len <= 1)
                        continue;
                json_error_t err;
                json_t *j = json_loadb(line, (size_t)len, 0, &err);
                if (!j) {
                        fprintf(stderr, "%s:%zu:%d: %s\n", path, lineno, err.column, err.text);
                        r = -EBADMSG;
                        break;
                }
                if (!greedy_realloc((void **)&v, &allocated, n + 1, sizeof(json_t *))) {
                        json_decref(j);
                        r = -ENOMEM;
                        break;
                }
                v[n++] = j;
        }
        free(line);
        fclose(f);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        json_decref(v[i]);
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void print_mask(const struct classifier *c, uint64_t m, FILE *f)
{
        bool first = true;
        for (unsigned i = 0; i < classifier_n_categories(c); i++)
                if (m & (UINT64_C(1) << i)) {
                        fprintf(f, "%s%s", first ? "" : ",", classifier_category_name(c, i));
                        first = false;
                }
        if (first)
                fprintf(f, "-");
}

static double f1(double p, double r)
{
        return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

struct counts {
        size_t tp[CATEGORY_MAX], fp[CATEGORY_MAX], fn[CATEGORY_MAX];
        size_t fp_with[CATEGORY_MAX][CATEGORY_MAX + 1], fn_with[CATEGORY_MAX][CATEGORY_MAX + 1];
        size_t exact, n;
        size_t starts_stated, starts_found, starts_right;
        size_t starts_classified; /* stated ones classified live: only those get a start */
};

static void count(struct counts *k, size_t n_cat, uint64_t g, uint64_t p)
{
        k->n++;
        k->exact += g == p;
        for (size_t c = 0; c < n_cat; c++) {
                uint64_t bit = UINT64_C(1) << c;
                if ((g & bit) && (p & bit))
                        k->tp[c]++;
                else if (p & bit) {
                        k->fp[c]++;
                        if (!(g & ~bit))
                                k->fp_with[c][CATEGORY_MAX]++;
                        for (size_t o = 0; o < n_cat; o++)
                                if (o != c && (g & (UINT64_C(1) << o)))
                                        k->fp_with[c][o]++;
                } else if (g & bit) {
                        k->fn[c]++;
                        if (!(p & ~bit))
                                k->fn_with[c][CATEGORY_MAX]++;
                        for (size_t o = 0; o < n_cat; o++)
                                if (o != c && (p & (UINT64_C(1) << o)))
                                        k->fn_with[c][o]++;
                }
        }
}

static void print_table(const struct classifier *c, const struct counts *k, const char *title)
{
        size_t n_cat = classifier_n_categories(c);
        printf("%s\n%-12s %5s %5s %5s %9s %7s %7s\n", title, "category", "TP", "FP", "FN",
               "precision", "recall", "F1");
        size_t stp = 0, sfp = 0, sfn = 0;
        for (size_t i = 0; i < n_cat; i++) {
                if (k->tp[i] + k->fp[i] + k->fn[i] == 0 && i >= _CATEGORY_BUILTIN_MAX)
                        continue;
                double p = k->tp[i] + k->fp[i] ? (double)k->tp[i] / (double)(k->tp[i] + k->fp[i])
                                               : 1.0;
                double rc = k->tp[i] + k->fn[i] ? (double)k->tp[i] / (double)(k->tp[i] + k->fn[i])
                                                : 1.0;
                printf("%-12s %5zu %5zu %5zu %9.3f %7.3f %7.3f\n",
                       classifier_category_name(c, (unsigned)i), k->tp[i], k->fp[i], k->fn[i], p,
                       rc, f1(p, rc));
                stp += k->tp[i];
                sfp += k->fp[i];
                sfn += k->fn[i];
        }
        double mp = stp + sfp ? (double)stp / (double)(stp + sfp) : 1.0;
        double mr = stp + sfn ? (double)stp / (double)(stp + sfn) : 1.0;
        printf("%-12s %5zu %5zu %5zu %9.3f %7.3f %7.3f\n", "micro", stp, sfp, sfn, mp, mr,
               f1(mp, mr));
        printf("exact match: %zu/%zu posts (%.3f)\n", k->exact, k->n,
               k->n ? (double)k->exact / (double)k->n : 0.0);
}

/* " FP 3 [ none:2 civic:1 ]": how many, and with which other labels */
static void print_errors(const struct classifier *c, const char *what, size_t count,
                         const size_t with[CATEGORY_MAX + 1])
{
        printf("%s %zu", what, count);
        if (!count)
                return;
        printf(" [");
        if (with[CATEGORY_MAX])
                printf(" none:%zu", with[CATEGORY_MAX]);
        for (size_t o = 0; o < classifier_n_categories(c); o++)
                if (with[o])
                        printf(" %s:%zu", classifier_category_name(c, (unsigned)o), with[o]);
        printf(" ]");
}

static void print_confusions(const struct classifier *c, const struct counts *k)
{
        printf("confusion (FP: the post's real labels; FN: what was predicted instead):\n");
        for (size_t i = 0; i < classifier_n_categories(c); i++) {
                if (k->fp[i] + k->fn[i] == 0)
                        continue;
                printf("  %-10s", classifier_category_name(c, (unsigned)i));
                print_errors(c, " FP", k->fp[i], k->fp_with[i]);
                print_errors(c, "  FN", k->fn[i], k->fn_with[i]);
                printf("\n");
        }
}

/* Whether the start found is the one the text states: same local hour and minute, same day of
 * the month when the text names one. */
static bool start_right(const struct classify_result *res, const struct item *it,
                        struct tm *ret_local)
{
        if (res->starts_at == 0)
                return false;
        time_t local = (time_t)(res->starts_at + res->starts_at_utc_offset);
        gmtime_r(&local, ret_local);
        char hm[8];
        snprintf(hm, sizeof(hm), "%02d:%02d", ret_local->tm_hour, ret_local->tm_min);
        return streq(hm, it->start_time) &&
               (it->start_day == 0 || it->start_day == ret_local->tm_mday);
}

/* splitmix64: a fixed sequence, so the intervals are the same on every run */
static uint64_t next_random(uint64_t *s)
{
        uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* F1 of category c (all of them for c < 0) over gold[i], pred[i] */
static double f1_of_sample(const uint64_t *gold, const uint64_t *pred, const size_t *pick, size_t n,
                           int c)
{
        size_t tp = 0, fp = 0, fn = 0;
        uint64_t mask = c < 0 ? ~UINT64_C(0) : UINT64_C(1) << c;
        for (size_t i = 0; i < n; i++) {
                uint64_t g = gold[pick[i]] & mask, p = pred[pick[i]] & mask;
                tp += (size_t)__builtin_popcountll(g & p);
                fp += (size_t)__builtin_popcountll(p & ~g);
                fn += (size_t)__builtin_popcountll(g & ~p);
        }
        return tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
}

/* 95% bootstrap intervals of micro-F1 and each category's F1: how much the figures could move
 * on another sample of as many posts from the same sources */
static int print_intervals(const struct classifier *c, const uint64_t *gold, const uint64_t *pred,
                           size_t n)
{
        enum { ROUNDS = 1000 };
        size_t n_cat = classifier_n_categories(c);
        _cleanup_free_ size_t *pick = calloc(n + 1, sizeof(size_t));
        _cleanup_free_ double *f = calloc(ROUNDS, sizeof(double));
        if (!pick || !f)
                return -ENOMEM;
        printf("95%% bootstrap intervals (%d resamples of the %zu posts):", ROUNDS, n);
        for (int cat = -1; cat < (int)n_cat; cat++) {
                uint64_t any = 0;
                for (size_t i = 0; cat >= 0 && i < n; i++)
                        any |= (gold[i] | pred[i]) & (UINT64_C(1) << cat);
                if (cat >= 0 && !any)
                        continue;
                uint64_t seed = 1;
                for (int b = 0; b < ROUNDS; b++) {
                        for (size_t i = 0; i < n; i++)
                                pick[i] = (size_t)(next_random(&seed) % n);
                        f[b] = f1_of_sample(gold, pred, pick, n, cat);
                }
                qsort(f, ROUNDS, sizeof(double), cmp_double);
                printf(" %s %.3f-%.3f",
                       cat < 0 ? "micro" : classifier_category_name(c, (unsigned)cat),
                       f[ROUNDS / 40], f[ROUNDS - 1 - ROUNDS / 40]);
        }
        printf("\n");
        return 0;
}

static int evaluate(const struct classifier *c, const struct item *items, size_t n, bool errors,
                    struct counts *k, uint64_t *ret_pred)
{
        size_t n_cat = classifier_n_categories(c);
        *k = (struct counts){0};
        for (size_t i = 0; i < n; i++) {
                struct classify_result res;
                int r = classifier_classify(c, items[i].post, &res);
                if (r < 0) {
                        fprintf(stderr, "post %" PRId64 ": %s\n", items[i].post->id, strerror(-r));
                        return r;
                }
                uint64_t g = items[i].gold, p = res.categories;
                if (ret_pred)
                        ret_pred[i] = p;
                count(k, n_cat, g, p);
                if ((g & (UINT64_C(1) << CATEGORY_LIVE)) && items[i].start_time) {
                        k->starts_stated++;
                        k->starts_classified += (p >> CATEGORY_LIVE) & 1;
                        k->starts_found += res.starts_at != 0;
                        struct tm local;
                        bool right = start_right(&res, &items[i], &local);
                        k->starts_right += right;
                        if (errors && !right) {
                                char found[32] = "-";
                                if (res.starts_at)
                                        strftime(found, sizeof(found), "%d %H:%M", &local);
                                printf("START id=%" PRId64 " stated=%d %s found=%s %s\n",
                                       items[i].post->id, items[i].start_day, items[i].start_time,
                                       found, items[i].source ? items[i].source : "");
                        }
                }
                if (errors && g != p) {
                        printf("MISS id=%" PRId64 " gold=", items[i].post->id);
                        print_mask(c, g, stdout);
                        printf(" predicted=");
                        print_mask(c, p, stdout);
                        printf(" %s\n", items[i].source ? items[i].source : "");
                }
        }
        return 0;
}

static int load_items(const struct classifier *c, int argc, char **argv, const char *split,
                      bool real_only, struct item **ret, size_t *ret_n, json_t ***ret_json,
                      size_t *ret_n_json)
{
        json_t **posts_json = NULL, **labels_json = NULL;
        size_t n_posts = 0, n_labels = 0;
        bool pair = argc == 2;
        if (read_lines(argv[0], &posts_json, &n_posts) < 0 ||
            (pair && read_lines(argv[1], &labels_json, &n_labels) < 0))
                return -EINVAL;
        if (pair && n_posts != n_labels) {
                fprintf(stderr, "%zu posts but %zu label lines\n", n_posts, n_labels);
                return -EINVAL;
        }
        struct item *items = calloc(n_posts + 1, sizeof(*items));
        size_t n = 0;
        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < n_posts; i++) {
                json_t *o = posts_json[i];
                const json_t *lab = pair ? labels_json[i] : o;
                const char *text = json_string_value(json_object_get(o, "text"));
                if (!pair) {
                        if (strcmp(split, "all") != 0 &&
                            !streq(corpus_split_names[corpus_split_of(text ? text : "")], split))
                                continue;
                        if (real_only &&
                            streq_ptr(json_string_value(json_object_get(o, "origin")), "synthetic"))
                                continue;
                        if (!json_is_integer(json_object_get(o, "owner_id")))
                                json_object_set_new(o, "owner_id", json_integer(0));
                }
                struct item *it = &items[n];
                const char *reason = NULL;
                int r = post_from_json(o, &it->post, &reason);
                if (r < 0) {
                        fprintf(stderr, "%s: post %zu: %s\n", argv[0], i + 1,
                                reason ? reason : strerror(-r));
                        return r;
                }
                json_int_t id = json_integer_value(json_object_get(lab, "id"));
                if (pair && id != it->post->id) {
                        fprintf(stderr,
                                "line %zu: labels for id %" JSON_INTEGER_FORMAT ", post id %" PRId64
                                "\n",
                                i + 1, id, it->post->id);
                        return -EINVAL;
                }
                size_t k;
                json_t *name;
                json_array_foreach(json_object_get(lab, "labels"), k, name)
                {
                        int idx = classifier_category_index(c, json_string_value(name));
                        if (idx < 0) {
                                fprintf(stderr, "line %zu: unknown category \"%s\"\n", i + 1,
                                        json_string_value(name));
                                return -EINVAL;
                        }
                        it->gold |= UINT64_C(1) << idx;
                }
                it->start_time = json_string_value(json_object_get(o, "start_time"));
                it->start_day = (int)json_integer_value(json_object_get(o, "start_day"));
                it->source = json_string_value(json_object_get(o, "source"));
                n++;
        }
        for (size_t i = 0; i < n_labels; i++)
                json_decref(labels_json[i]);
        free(labels_json);
        *ret = items;
        *ret_n = n;
        *ret_json = posts_json;
        *ret_n_json = n_posts;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"rules", required_argument, NULL, 'r'},
                {"model", required_argument, NULL, 'm'},
                {"timezone", required_argument, NULL, 't'},
                {"split", required_argument, NULL, 'S'},
                {"real", no_argument, NULL, 'R'},
                {"errors", no_argument, NULL, 'e'},
                {"no-model", no_argument, NULL, 'M'},
                {"seconds", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct classify_options opts = {0};
        const char *split = "all";
        bool show_errors = false, real_only = false;
        double min_seconds = 1.0;
        int opt;

        while ((opt = getopt_long(argc, argv, "r:m:t:S:RMes:h", options, NULL)) >= 0) {
                switch (opt) {
                case 'r':
                        opts.rules_file = optarg;
                        break;
                case 'm':
                        opts.model_file = optarg;
                        break;
                case 't':
                        opts.timezone = optarg;
                        break;
                case 'S':
                        split = optarg;
                        break;
                case 'R':
                        real_only = true;
                        break;
                case 'M':
                        opts.no_model = true;
                        break;
                case 'e':
                        show_errors = true;
                        break;
                case 's':
                        min_seconds = atof(optarg);
                        break;
                default:
                        fprintf(stderr,
                                "usage: %s [--rules FILE] [--model FILE|--no-model] [--timezone "
                                "ZONE] "
                                "[--split train|dev|test|all] [--real] [--errors] [--seconds S] "
                                "CORPUS.jsonl | POSTS.jsonl LABELS.jsonl\n",
                                argv[0]);
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (argc - optind != 1 && argc - optind != 2) {
                fprintf(stderr, "usage: %s [OPTIONS] CORPUS.jsonl | POSTS.jsonl LABELS.jsonl\n",
                        argv[0]);
                return 2;
        }

        struct classifier *rules = NULL, *c = NULL;
        char *error = NULL;
        struct classify_options rules_opts = opts;
        rules_opts.no_model = true;
        int r = classifier_new(&rules_opts, &rules, &error);
        if (r < 0) {
                fprintf(stderr, "rules: %s\n", error ? error : strerror(-r));
                free(error);
                return 1;
        }
        struct item *items = NULL;
        json_t **json = NULL;
        size_t n = 0, n_json = 0;
        if (load_items(rules, argc - optind, argv + optind, split, real_only, &items, &n, &json,
                       &n_json) < 0)
                return 1;
        long rss_rules = peak_rss_kib();
        r = classifier_new(&opts, &c, &error);
        if (r < 0) {
                fprintf(stderr, "model: %s\n", error ? error : strerror(-r));
                free(error);
                return 1;
        }
        if (!classifier_model(c))
                printf("(no model found: both tables are the rules alone)\n");

        size_t bytes = 0;
        for (size_t i = 0; i < n; i++)
                bytes += strlen(items[i].post->text);
        printf("%zu posts (split %s%s), %.0f bytes of text on average\n\n", n, split,
               real_only ? ", real texts" : "", n ? (double)bytes / (double)n : 0.0);

        struct counts k_rules, k;
        _cleanup_free_ uint64_t *gold = calloc(n + 1, sizeof(uint64_t));
        _cleanup_free_ uint64_t *pred = calloc(n + 1, sizeof(uint64_t));
        if (!gold || !pred)
                return 1;
        for (size_t i = 0; i < n; i++)
                gold[i] = items[i].gold;
        if (evaluate(rules, items, n, false, &k_rules, NULL) < 0 ||
            evaluate(c, items, n, show_errors, &k, pred) < 0)
                return 1;
        print_table(rules, &k_rules, "rules alone:");
        printf("\n");
        print_table(c, &k, "rules + model:");
        if (n > 0 && print_intervals(c, gold, pred, n) < 0)
                return 1;
        print_confusions(c, &k);
        printf("start times: %zu of %zu live posts that state one found, %zu of them the stated "
               "time; %zu of the %zu classified live\n",
               k.starts_found, k.starts_stated, k.starts_right, k.starts_classified,
               k.starts_stated);

        /* speed: whole passes over the corpus until min_seconds of CPU time, rules alone (the
         * classifier before the model) and rules with the model */
        printf("\n");
        for (int with_model = 0; with_model < 2; with_model++) {
                const struct classifier *cl = with_model ? c : rules;
                size_t passes = 0, done = 0;
                double cpu0 = thread_cpu_seconds(), wall0 = wall_seconds(), cpu = 0;
                uint64_t sink = 0;
                while (n > 0 && (passes < 3 || cpu < min_seconds)) {
                        for (size_t i = 0; i < n; i++) {
                                struct classify_result res;
                                (void)classifier_classify(cl, items[i].post, &res);
                                sink += res.categories;
                        }
                        done += n;
                        passes++;
                        cpu = thread_cpu_seconds() - cpu0;
                }
                double wall = wall_seconds() - wall0;
                printf("throughput, %s: %.0f posts/s on one core (%zu passes, %zu posts, %.2f s "
                       "CPU, %.2f s wall)%s\n",
                       with_model ? "rules + model" : "rules alone  ",
                       cpu > 0 ? (double)done / cpu : 0.0, passes, done, cpu, wall,
                       sink == UINT64_MAX ? " " : "");
        }
        long rss = peak_rss_kib();
        printf("peak RSS: %.1f MB (%ld KiB); %.1f MB with the rules alone, before the model "
               "was loaded\n",
               (double)rss * 1024 / 1e6, rss, (double)rss_rules * 1024 / 1e6);

        if (argc - optind == 1) {
                /* training as the build and the daemon do it, on the same file */
                struct corpus co = {0};
                if (classifier_read_corpus(rules, &co, argv[optind], true, &error) < 0) {
                        fprintf(stderr, "%s\n", error ? error : "out of memory");
                        return 1;
                }
                size_t used = 0;
                for (size_t i = 0; i < co.n; i++)
                        used += co.v[i].split != SPLIT_TEST;
                struct classify_model *m = NULL;
                double t0 = thread_cpu_seconds();
                r = classifier_train(rules, &co, NULL, &m);
                double t = thread_cpu_seconds() - t0;
                if (r < 0) {
                        fprintf(stderr, "training failed: %s\n", strerror(-r));
                        return 1;
                }
                printf("training: %.2f s CPU for %zu examples (train + dev; 3 folds and the "
                       "final model)\n",
                       t, used);
                m = model_free(m);
                /* and on the first 1000 of them: the yardstick */
                size_t kept = 0;
                for (size_t i = 0; i < co.n; i++)
                        if (co.v[i].split != SPLIT_TEST && ++kept > 1000)
                                co.v[i].split = SPLIT_TEST;
                if (used > 1000) {
                        t0 = thread_cpu_seconds();
                        r = classifier_train(rules, &co, NULL, &m);
                        t = thread_cpu_seconds() - t0;
                        if (r < 0) {
                                fprintf(stderr, "training failed: %s\n", strerror(-r));
                                return 1;
                        }
                        printf("training: %.2f s CPU for the first 1000 of them\n", t);
                        model_free(m);
                }
                corpus_done(&co);
        }
        for (size_t i = 0; i < n; i++)
                post_free(items[i].post);
        for (size_t i = 0; i < n_json; i++)
                json_decref(json[i]);
        free(items);
        free(json);
        classifier_free(rules);
        classifier_free(c);
        return 0;
}
