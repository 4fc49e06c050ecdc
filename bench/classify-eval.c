/* classify-eval.c — scores the classifier on a labelled corpus and measures its speed.
 *
 *   bench-classify-eval [--rules FILE] [--timezone ZONE] [--errors] [--seconds S]
 *                       POSTS.jsonl LABELS.jsonl
 *
 * The corpus format is ../shared/corpus/LABELS.md's: posts and {"id","labels"} lines in the same
 * order. Prints per-category precision/recall/F1, micro-F1, for each category its false positives
 * (with the labels those posts really had) and false negatives (with what was predicted instead),
 * and throughput: posts a second on one core (thread CPU time), over repeated passes.
 * --errors lists every misclassified post.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "classify.h"
#include "util.h"

struct item {
        struct post *post;
        uint64_t gold;
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

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"rules", required_argument, NULL, 'r'}, {"timezone", required_argument, NULL, 't'},
                {"errors", no_argument, NULL, 'e'},      {"seconds", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},        {},
        };
        struct classify_options opts = {0};
        bool show_errors = false;
        double min_seconds = 1.0;
        int opt;

        while ((opt = getopt_long(argc, argv, "r:t:es:h", options, NULL)) >= 0) {
                switch (opt) {
                case 'r':
                        opts.rules_file = optarg;
                        break;
                case 't':
                        opts.timezone = optarg;
                        break;
                case 'e':
                        show_errors = true;
                        break;
                case 's':
                        min_seconds = atof(optarg);
                        break;
                default:
                        fprintf(stderr,
                                "usage: %s [--rules FILE] [--timezone ZONE] [--errors] "
                                "[--seconds S] POSTS.jsonl LABELS.jsonl\n",
                                argv[0]);
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (argc - optind != 2) {
                fprintf(stderr, "usage: %s [--rules FILE] POSTS.jsonl LABELS.jsonl\n", argv[0]);
                return 2;
        }

        struct classifier *c = NULL;
        char *error = NULL;
        int r = classifier_new(&opts, &c, &error);
        if (r < 0) {
                fprintf(stderr, "rules: %s\n", error ? error : strerror(-r));
                free(error);
                return 1;
        }

        json_t **posts_json = NULL, **labels_json = NULL;
        size_t n_posts = 0, n_labels = 0;
        if (read_lines(argv[optind], &posts_json, &n_posts) < 0 ||
            read_lines(argv[optind + 1], &labels_json, &n_labels) < 0)
                return 1;
        if (n_posts != n_labels) {
                fprintf(stderr, "%zu posts but %zu label lines\n", n_posts, n_labels);
                return 1;
        }

        size_t n_cat = classifier_n_categories(c);
        struct item *items = calloc(n_posts, sizeof(*items));
        if (!items)
                return 1;
        for (size_t i = 0; i < n_posts; i++) {
                const char *reason = NULL;
                r = post_from_json(posts_json[i], &items[i].post, &reason);
                if (r < 0) {
                        fprintf(stderr, "%s: post %zu: %s\n", argv[optind], i + 1,
                                reason ? reason : strerror(-r));
                        return 1;
                }
                json_t *l = json_object_get(labels_json[i], "labels");
                json_int_t id = json_integer_value(json_object_get(labels_json[i], "id"));
                if (id != items[i].post->id) {
                        fprintf(stderr,
                                "line %zu: labels for id %" JSON_INTEGER_FORMAT ", post id %" PRId64
                                "\n",
                                i + 1, id, items[i].post->id);
                        return 1;
                }
                size_t k;
                json_t *name;
                json_array_foreach(l, k, name)
                {
                        int idx = classifier_category_index(c, json_string_value(name));
                        if (idx < 0) {
                                fprintf(stderr, "line %zu: unknown category \"%s\"\n", i + 1,
                                        json_string_value(name));
                                return 1;
                        }
                        items[i].gold |= UINT64_C(1) << idx;
                }
        }

        /* quality */
        size_t tp[CATEGORY_MAX] = {0}, fp[CATEGORY_MAX] = {0}, fn[CATEGORY_MAX] = {0};
        size_t fp_with[CATEGORY_MAX][CATEGORY_MAX + 1] = {{0}},
                                                    fn_with[CATEGORY_MAX][CATEGORY_MAX + 1] = {{0}};
        size_t exact = 0;
        for (size_t i = 0; i < n_posts; i++) {
                struct classify_result res;
                r = classifier_classify(c, items[i].post, &res);
                if (r < 0) {
                        fprintf(stderr, "post %" PRId64 ": %s\n", items[i].post->id, strerror(-r));
                        return 1;
                }
                uint64_t g = items[i].gold, p = res.categories;
                exact += g == p;
                for (size_t k = 0; k < n_cat; k++) {
                        uint64_t bit = UINT64_C(1) << k;
                        if ((g & bit) && (p & bit))
                                tp[k]++;
                        else if (p & bit) {
                                fp[k]++;
                                if (!(g & ~bit))
                                        fp_with[k][CATEGORY_MAX]++;
                                for (size_t o = 0; o < n_cat; o++)
                                        if (o != k && (g & (UINT64_C(1) << o)))
                                                fp_with[k][o]++;
                        } else if (g & bit) {
                                fn[k]++;
                                if (!(p & ~bit))
                                        fn_with[k][CATEGORY_MAX]++;
                                for (size_t o = 0; o < n_cat; o++)
                                        if (o != k && (p & (UINT64_C(1) << o)))
                                                fn_with[k][o]++;
                        }
                }
                if (show_errors && g != p) {
                        char when[40];
                        classify_result_starts_at(&res, when, sizeof(when));
                        printf("MISS id=%" PRId64 " gold=", items[i].post->id);
                        print_mask(c, g, stdout);
                        printf(" predicted=");
                        print_mask(c, p, stdout);
                        printf("\n");
                }
        }

        printf("%-12s %5s %5s %5s %9s %7s %7s\n", "category", "TP", "FP", "FN", "precision",
               "recall", "F1");
        size_t stp = 0, sfp = 0, sfn = 0;
        for (size_t k = 0; k < n_cat; k++) {
                if (tp[k] + fp[k] + fn[k] == 0 && k >= _CATEGORY_BUILTIN_MAX)
                        continue;
                double p = tp[k] + fp[k] ? (double)tp[k] / (double)(tp[k] + fp[k]) : 1.0;
                double rc = tp[k] + fn[k] ? (double)tp[k] / (double)(tp[k] + fn[k]) : 1.0;
                printf("%-12s %5zu %5zu %5zu %9.3f %7.3f %7.3f\n", classifier_category_name(c, k),
                       tp[k], fp[k], fn[k], p, rc, f1(p, rc));
                stp += tp[k];
                sfp += fp[k];
                sfn += fn[k];
        }
        double mp = stp + sfp ? (double)stp / (double)(stp + sfp) : 1.0;
        double mr = stp + sfn ? (double)stp / (double)(stp + sfn) : 1.0;
        printf("%-12s %5zu %5zu %5zu %9.3f %7.3f %7.3f\n", "micro", stp, sfp, sfn, mp, mr,
               f1(mp, mr));
        printf("exact match: %zu/%zu posts\n\nconfusion (FP: the post's real labels; FN: what was "
               "predicted instead):\n",
               exact, n_posts);
        for (size_t k = 0; k < n_cat; k++) {
                if (fp[k] + fn[k] == 0)
                        continue;
                printf("  %-10s FP %zu", classifier_category_name(c, k), fp[k]);
                if (fp[k]) {
                        printf(" [");
                        if (fp_with[k][CATEGORY_MAX])
                                printf(" none:%zu", fp_with[k][CATEGORY_MAX]);
                        for (size_t o = 0; o < n_cat; o++)
                                if (fp_with[k][o])
                                        printf(" %s:%zu", classifier_category_name(c, o),
                                               fp_with[k][o]);
                        printf(" ]");
                }
                printf("  FN %zu", fn[k]);
                if (fn[k]) {
                        printf(" [");
                        if (fn_with[k][CATEGORY_MAX])
                                printf(" none:%zu", fn_with[k][CATEGORY_MAX]);
                        for (size_t o = 0; o < n_cat; o++)
                                if (fn_with[k][o])
                                        printf(" %s:%zu", classifier_category_name(c, o),
                                               fn_with[k][o]);
                        printf(" ]");
                }
                printf("\n");
        }

        /* speed: whole passes over the corpus until min_seconds of CPU time */
        size_t passes = 0, done = 0;
        double cpu0 = thread_cpu_seconds(), wall0 = wall_seconds(), cpu = 0;
        uint64_t sink = 0;
        while (n_posts > 0 && (passes < 3 || cpu < min_seconds)) {
                for (size_t i = 0; i < n_posts; i++) {
                        struct classify_result res;
                        (void)classifier_classify(c, items[i].post, &res);
                        sink += res.categories;
                }
                done += n_posts;
                passes++;
                cpu = thread_cpu_seconds() - cpu0;
        }
        double wall = wall_seconds() - wall0;
        printf("\nthroughput: %.0f posts/s on one core (%zu passes, %zu posts, %.2f s CPU, "
               "%.2f s wall)%s\n",
               cpu > 0 ? (double)done / cpu : 0.0, passes, done, cpu, wall,
               sink == UINT64_MAX ? " " : "");

        for (size_t i = 0; i < n_posts; i++) {
                post_free(items[i].post);
                json_decref(posts_json[i]);
                json_decref(labels_json[i]);
        }
        free(items);
        free(posts_json);
        free(labels_json);
        classifier_free(c);
        return 0;
}
