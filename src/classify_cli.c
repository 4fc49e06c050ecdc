/* classify_cli.c — `govwatchd classify`: the classifier as a filter over JSON lines.
 *
 * stdin: VK post objects, one a line (a wall.get answer, {"items":[...]} or a bare array, on one
 * line, is accepted too). stdout: {"owner_id":..,"id":..,"categories":[..],"starts_at":..} a post.
 * A malformed line is reported on stderr as "stdin:LINE: reason" and skipped; the exit status is
 * then 1. --explain writes the rules that fired, with their scores, to stderr.
 * Input is held to the daemon's bounds: a line to the size of one VK answer (VK_ANSWER_MAX_BYTES,
 * longer ones are refused unread), a post's text to POST_TEXT_MAX (post.c cuts it; a note on
 * stderr says so, and the post is still classified).
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

#include "classify.h"
#include "classify_cli.h"
#include "corpus.h"
#include "model.h"
#include "timeparse.h"
#include "vk.h"

static void help(void)
{
        printf("Usage: govwatchd classify [--rules FILE] [--model FILE|--no-model] [--examples "
               "FILE]...\n"
               "                          [--timezone ZONE] [--explain]\n\n"
               "Reads VK post objects (JSON lines) on stdin and prints one line a post:\n"
               "  {\"owner_id\":..,\"id\":..,\"categories\":[..],\"starts_at\":\"ISO "
               "8601\"|null}\n\n"
               "  --rules FILE      rules instead of the installed rules.yaml\n"
               "  --model FILE      model instead of the installed model.bin\n"
               "  --no-model        the rules alone\n"
               "  --examples FILE   train on the shipped corpus plus these labelled posts\n"
               "  --timezone ZONE   IANA zone for times in the text (default " TIMEZONE_DEFAULT
               ")\n"
               "  --explain         write the rules that fired and their scores to stderr\n");
}

static int print_result(const struct classifier *c, const struct post *p,
                        const struct classify_result *res)
{
        json_t *o = json_object(), *cats = json_array();
        if (!o || !cats) {
                json_decref(o);
                json_decref(cats);
                return -ENOMEM;
        }
        json_object_set_new(o, "owner_id", json_integer(p->owner_id));
        json_object_set_new(o, "id", json_integer(p->id));
        for (unsigned i = 0; i < classifier_n_categories(c); i++)
                if (res->categories & (UINT64_C(1) << i))
                        json_array_append_new(cats, json_string(classifier_category_name(c, i)));
        json_object_set_new(o, "categories", cats);
        char buf[40];
        classify_result_starts_at(res, buf, sizeof(buf));
        json_object_set_new(o, "starts_at", buf[0] ? json_string(buf) : json_null());
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(o);
        if (!line)
                return -ENOMEM;
        puts(line);
        free(line);
        return 0;
}

static int classify_one(const struct classifier *c, const json_t *obj, bool explain, size_t lineno)
{
        _cleanup_post_free_ struct post *p = NULL;
        const char *reason = NULL;
        struct classify_result res;
        int r = post_from_json(obj, &p, &reason);
        if (r < 0) {
                fprintf(stderr, "stdin:%zu: not a post: %s\n", lineno,
                        reason ? reason : strerror(-r));
                return r;
        }
        if (p->text_truncated)
                fprintf(stderr,
                        "stdin:%zu: post %" PRId64 "_%" PRId64 ": text longer than %d bytes, "
                        "classifying its first %d bytes\n",
                        lineno, p->owner_id, p->id, POST_TEXT_MAX, POST_TEXT_MAX);
        r = explain ? classifier_explain(c, p, stderr, &res) : classifier_classify(c, p, &res);
        if (r < 0) {
                fprintf(stderr, "stdin:%zu: failed to classify: %s\n", lineno, strerror(-r));
                return r;
        }
        return print_result(c, p, &res);
}

static int classify_value(const struct classifier *c, const json_t *v, bool explain, size_t lineno)
{
        const json_t *items = v;
        if (json_is_object(v) && json_is_object(json_object_get(v, "response")))
                items = json_object_get(v, "response");
        if (json_is_object(items) && json_is_array(json_object_get(items, "items")))
                items = json_object_get(items, "items");
        if (!json_is_array(items))
                return classify_one(c, v, explain, lineno);
        int ret = 0;
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
                int r = classify_one(c, item, explain, lineno);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

/* One line of f without its newline into *buf (NUL-terminated): its length; -E2BIG when it is
 * longer than max (what lies past max is read and dropped, never stored); -ENODATA at the end. */
static ssize_t read_line(FILE *f, size_t max, char **buf, size_t *allocated)
{
        size_t len = 0;
        bool too_long = false;
        int ch;

        while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
                if (len >= max) {
                        too_long = true;
                        continue;
                }
                if (len + 2 > *allocated && !greedy_realloc((void **)buf, allocated, len + 2, 1))
                        return -ENOMEM;
                (*buf)[len++] = (char)ch;
        }
        if (ch == EOF && ferror(f))
                return -EIO;
        if (ch == EOF && len == 0 && !too_long)
                return -ENODATA;
        if (too_long)
                return -E2BIG;
        if (!greedy_realloc((void **)buf, allocated, len + 1, 1))
                return -ENOMEM;
        (*buf)[len] = '\0';
        return (ssize_t)len;
}

/* One line of stdin, lineno, without its newline: its posts classified and printed. 0 also for a
 * blank line; a negative errno when something was reported on stderr (-ENOMEM: give up). */
static int classify_line(const struct classifier *c, const char *line, size_t len, size_t lineno,
                         bool explain)
{
        size_t start = 0;
        json_error_t err;
        json_t *v;
        int r;

        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
                len--;
        if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
                start = 3; /* a UTF-8 BOM */
        if (len <= start)
                return 0;
        /* jansson would stop at it and blame the end of the file */
        if (memchr(line + start, '\0', len - start)) {
                fprintf(stderr, "stdin:%zu: line contains a NUL byte, skipping it\n", lineno);
                return -EBADMSG;
        }
        v = json_loadb(line + start, len - start, 0, &err);
        if (!v) {
                fprintf(stderr, "stdin:%zu:%d: invalid JSON: %s\n", lineno, err.column, err.text);
                return -EBADMSG;
        }
        r = classify_value(c, v, explain, lineno);
        json_decref(v);
        return r;
}

/* Classifies stdin a line at a time, each line's results flushed as it is done: the exit status. */
static int classify_stdin(const struct classifier *c, bool explain)
{
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0, lineno = 0;
        ssize_t n;
        int status = 0, r;

        for (;;) {
                n = read_line(stdin, VK_ANSWER_MAX_BYTES, &line, &allocated);
                if (n == -ENODATA)
                        break;
                lineno++;
                if (n == -E2BIG) {
                        fprintf(stderr,
                                "stdin:%zu: line longer than %zu bytes (the largest VK answer "
                                "govwatch reads), skipping it\n",
                                lineno, VK_ANSWER_MAX_BYTES);
                        status = 1;
                        continue;
                }
                if (n < 0) {
                        fprintf(stderr, "classify: failed to read stdin: %s\n", strerror((int)-n));
                        status = 1;
                        break;
                }
                r = classify_line(c, line, (size_t)n, lineno, explain);
                if (r == -ENOMEM) {
                        fprintf(stderr, "classify: out of memory\n");
                        status = 1;
                        break;
                }
                if (r < 0)
                        status = 1;
                fflush(stdout); /* a no-op after a skipped line: it printed nothing */
        }
        return status;
}

int verb_classify(int argc, char **argv)
{
        static const struct option options[] = {
                {"rules", required_argument, NULL, 'r'},
                {"model", required_argument, NULL, 'm'},
                {"no-model", no_argument, NULL, 'M'},
                {"examples", required_argument, NULL, 'x'},
                {"timezone", required_argument, NULL, 't'},
                {"explain", no_argument, NULL, 'e'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct classify_options opts = {0};
        _cleanup_free_ char **examples = calloc(argc + 1, sizeof(char *));
        size_t n_examples = 0;
        bool explain = false;
        int opt;

        if (!examples)
                return 1;
        opts.example_files = examples;
        optind = 0; /* restart getopt: main() may have used it on the global options */
        while ((opt = getopt_long(argc, argv, "+r:m:Mx:t:eh", options, NULL)) >= 0) {
                switch (opt) {
                case 'r':
                        opts.rules_file = optarg;
                        break;
                case 'm':
                        opts.model_file = optarg;
                        break;
                case 'M':
                        opts.no_model = true;
                        break;
                case 'x':
                        examples[n_examples++] = optarg;
                        break;
                case 't':
                        opts.timezone = optarg;
                        break;
                case 'e':
                        explain = true;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "classify: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        struct classifier *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r = classifier_new(&opts, &c, &error);
        if (r < 0) {
                fprintf(stderr, "classify: %s\n", error ? error : strerror(-r));
                return 1;
        }
        int status = classify_stdin(c, explain);
        classifier_free(c);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "classify: failed to write to stdout\n");
                return 1;
        }
        return status;
}

static void train_help(void)
{
        printf("Usage: govwatchd train [--rules FILE] [--corpus FILE] [--examples FILE]... --out "
               "FILE\n\n"
               "Trains the classifier's model on the corpus's train and dev splits (default: the\n"
               "shipped corpus) plus the examples; how rules and model combine, and the\n"
               "thresholds, are chosen on out-of-fold scores. The test split is never read.\n"
               "Deterministic: the same inputs give the same file.\n\n"
               "  --rules FILE      rules instead of the installed rules.yaml\n"
               "  --corpus FILE     labelled posts with the fixed split (data/corpus/posts.jsonl)\n"
               "  --examples FILE   more labelled posts, all for training\n"
               "  --out FILE        where to write the model\n"
               "  --report          print the out-of-fold figures on stderr\n"
               "  --C N, --positive-weight N   the SVM's regularisation and positive cost\n");
}

/* Trains on the corpus (its train and dev splits) and the examples, and writes the model to out:
 * the exit status. */
static int train_and_save(const struct classify_options *opts, const char *corpus_path,
                          char **examples, const struct train_options *to, const char *out)
{
        _cleanup_free_ char *error = NULL;
        struct classifier *c = NULL;
        struct corpus corpus = {0};
        struct classify_model *m = NULL;
        int status = 1, r;

        r = classifier_new(opts, &c, &error);
        if (r < 0) {
                fprintf(stderr, "train: %s\n", error ? error : strerror(-r));
                return 1;
        }
        r = classifier_read_training_set(c, corpus_path, examples, &corpus, &error);
        if (r < 0) {
                fprintf(stderr, "train: %s\n", error ? error : strerror(-r));
                goto out;
        }
        r = classifier_train(c, &corpus, to, &m);
        if (r < 0) {
                fprintf(stderr, "train: %s\n", strerror(-r));
                goto out;
        }
        r = model_save(m, out);
        if (r < 0) {
                fprintf(stderr, "train: failed to write %s: %s\n", out, strerror(-r));
                goto out;
        }
        status = 0;
out:
        model_free(m);
        corpus_done(&corpus);
        classifier_free(c);
        return status;
}

int verb_train(int argc, char **argv)
{
        static const struct option options[] = {
                {"rules", required_argument, NULL, 'r'},
                {"corpus", required_argument, NULL, 'c'},
                {"examples", required_argument, NULL, 'x'},
                {"out", required_argument, NULL, 'o'},
                {"report", no_argument, NULL, 'R'},
                {"help", no_argument, NULL, 'h'},
                {"C", required_argument, NULL, 'C'},
                {"positive-weight", required_argument, NULL, 'P'},
                {},
        };
        struct classify_options opts = {.no_model = true};
        _cleanup_free_ char **examples = calloc(argc + 1, sizeof(char *));
        _cleanup_free_ char *corpus_path = NULL;
        const char *out = NULL;
        size_t n_examples = 0;
        bool report = false;
        struct train_options to = {0};
        int opt, r;

        if (!examples)
                return 1;
        optind = 0;
        while ((opt = getopt_long(argc, argv, "+r:c:x:o:RhC:P:", options, NULL)) >= 0) {
                switch (opt) {
                case 'C':
                        to.C = atof(optarg);
                        break;
                case 'P':
                        to.positive_weight = atof(optarg);
                        break;
                case 'r':
                        opts.rules_file = optarg;
                        break;
                case 'c':
                        free(corpus_path);
                        if (!(corpus_path = strdup(optarg)))
                                return 1;
                        break;
                case 'x':
                        examples[n_examples++] = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'R':
                        report = true;
                        break;
                case 'h':
                        train_help();
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind < argc || !out) {
                fprintf(stderr,
                        optind < argc ? "train: unexpected argument '%s'\n"
                                      : "train: --out FILE is needed%s\n",
                        optind < argc ? argv[optind] : "");
                return 2;
        }
        if (!corpus_path && (r = classifier_default_corpus_path(&corpus_path)) < 0) {
                fprintf(stderr, "train: the shipped corpus is not found; name it with --corpus\n");
                return 1;
        }

        to.report = report ? stderr : NULL;
        return train_and_save(&opts, corpus_path, examples, &to, out);
}
