/* classify.h — Russian post classifier: post -> categories (+ planned start of a broadcast).
 *
 * Pure: no I/O after loading, no logging above debug. Categories are indices into the loaded
 * rule set; the six built-in ones (LABELS.md) always come first in this order, user-defined
 * categories follow. A result is a bit mask over those indices.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "post.h"

enum {
        CATEGORY_LIVE,
        CATEGORY_SERVICE,
        CATEGORY_SCHEDULE,
        CATEGORY_OUTAGE,
        CATEGORY_EMERGENCY,
        CATEGORY_CIVIC,
        _CATEGORY_BUILTIN_MAX,
        CATEGORY_MAX = 64, /* bits in a category mask */
};

extern const char *const category_builtin_names[_CATEGORY_BUILTIN_MAX];

/* The classifier reads at most this many bytes of a post's text, as many of its attachments'
 * titles and descriptions together, and the same again of its repost (cut at a character
 * boundary): what a post is about shows in its first paragraphs, and the work per post is the
 * text read times the rules, so the cap bounds it whatever the config's classifier holds. The
 * notification keeps the whole text. The labelled corpus's longest post is 2 KiB; 8 KiB is about
 * 4,000 Cyrillic letters, two printed pages. */
#define CLASSIFY_TEXT_MAX 8192

/* The work of matching one post, whatever the rules and the config ask: words looked at by the
 * phrase matcher (a post of the labelled corpus needs at most 300, the benchmark's hostile posts
 * with the shipped rules 7,500; a million take about 6 ms). Past it, a phrase does not match. */
#define CLASSIFY_PHRASE_STEPS 1000000

/* The same for the config's regexes, all of them over all texts of one post together: PCRE2 calls
 * the classifier before each pattern item it tries (PCRE2_AUTO_CALLOUT), and each call costs 1 +
 * how far the match moved in the text + the longest counted repeat (or, with a back-reference, the
 * reading budget) the regex holds. Past the budget the running regex and every later one do not
 * match, on any machine alike. PCRE2's own match limit counts from each start position afresh, so
 * it bounds one position, not a post: 100 regexes like "(\w+\s?)+\d$" took 4 s over a 2 KiB
 * post. Measured (Release, JIT): the worst step costs ~3-7 ns (a callout per character), a plain
 * regex 1-2 steps a character of the text it reads (32 KiB at most: text and titles of a post and
 * its repost), so the budget lets ~30 such regexes read everything and costs ~15 ms at worst.
 * CLASSIFY_REGEX_MATCH_LIMIT stays as PCRE2's per-position limit. */
#define CLASSIFY_REGEX_STEPS       2000000
#define CLASSIFY_REGEX_MATCH_LIMIT 10000

/* Index of a built-in category name, or -ENOENT. */
int category_builtin_from_name(const char *name);

/* What a user's config adds to the rules (classifier: section). */
struct classify_user_category {
        char *name;     /* an existing category (adds to it) or a new one */
        char **phrases; /* NULL-terminated; words, stemmed like the rules */
        char **regexes; /* NULL-terminated; PCRE2, UTF mode, caseless */
        char **exclude; /* NULL-terminated; phrases that veto this category */
};

struct classify_options {
        const char *rules_file; /* NULL: the installed default rules */
        const char *timezone;   /* IANA name for reading times in text; NULL: Europe/Moscow */
        const struct classify_user_category *user;
        size_t n_user;

        /* The learned model beside the rules (model.h). Without example files: model_file, or the
         * installed/built model, or none when there is none (rules alone). With example files
         * (an admin's labelled posts, corpus.h's format): a model trained on the shipped corpus
         * (corpus_file, NULL: the installed one) plus them, cached as cache_dir/model.bin and
         * reused while its inputs are the same. */
        bool no_model;
        const char *model_file;
        const char *corpus_file;
        char *const *example_files; /* NULL-terminated, or NULL */
        const char *cache_dir;      /* NULL: train every time, cache nothing */
};

struct classifier;

struct classify_result {
        uint64_t categories; /* bit i set: category i */
        int64_t starts_at;   /* planned start of a live broadcast (unix time), 0: unknown */
        int32_t starts_at_utc_offset; /* seconds east of UTC at starts_at, for ISO 8601 output */
        /* A live post that moves an announced broadcast ("эфир переносится на ..."): starts_at is
         * then the NEW start (0 when only cancelled/postponed without a date). The daemon should
         * move (or, with starts_at 0, drop) the pending reminder of the same community's upcoming
         * broadcast instead of adding a second one. Decided by the "reschedule:" rules. */
        bool reschedule;
};

/* Loads rules (and the model). On a rule-file error, -EINVAL and a message "FILE:LINE:COL: ..." in
 * *ret_error (newly allocated) when ret_error is not NULL. */
int classifier_new(const struct classify_options *opts, struct classifier **ret, char **ret_error);
struct classifier *classifier_free(struct classifier *c);

size_t classifier_n_categories(const struct classifier *c);
/* The category names, classifier_n_categories() of them, built-ins first. */
char *const *classifier_category_names(const struct classifier *c);
const char *classifier_category_name(const struct classifier *c, unsigned idx);
/* How many needless notifications one missed post of the category is worth (rules' miss_cost). */
double classifier_category_miss_cost(const struct classifier *c, unsigned idx);
int classifier_category_index(const struct classifier *c, const char *name); /* or -ENOENT */

/* Not thread-safe: a classifier keeps scratch buffers (one classifier per thread). */
int classifier_classify(const struct classifier *c, const struct post *p,
                        struct classify_result *ret);

/* Same, reading times in the text in time zone tz (a community's own zone; from tz_load() of
 * timeparse.h) instead of the classifier's default. tz NULL: the default. */
struct tz;
int classifier_classify_tz(const struct classifier *c, const struct post *p, const struct tz *tz,
                           struct classify_result *ret);

/* starts_at as "2026-12-05T17:00:00+03:00" into buf (>= 32 bytes); "" when unknown. */
void classify_result_starts_at(const struct classify_result *r, char *buf, size_t size);

/* Like classifier_classify, and writes which rules fired and their scores to f. */
int classifier_explain(const struct classifier *c, const struct post *p, FILE *f,
                       struct classify_result *ret);

/* Where the default rules file is, first found of: $GOVWATCH_RULES, ../share/govwatch/rules.yaml
 * next to the executable, GOVWATCH_PKGDATADIR, the source tree's data/rules.yaml. */
int classifier_default_rules_path(char **ret);
/* Likewise for the model built from the corpus (model.bin; $GOVWATCH_MODEL, next to the executable
 * in a build tree) and for the corpus itself (corpus.jsonl; $GOVWATCH_CORPUS,
 * data/corpus/posts.jsonl in the source tree). -ENOENT when there is none. */
int classifier_default_model_path(char **ret);
int classifier_default_corpus_path(char **ret);

/* The model in use, NULL when the rules decide alone. */
struct classify_model;
const struct classify_model *classifier_model(const struct classifier *c);
/* Whether the model trained from example files came from the cache; *ret_cache_error: a negative
 * errno when it was trained now and could not be saved there, else 0. */
bool classifier_model_cached(const struct classifier *c, int *ret_cache_error);

/* For training (train.c): reads p as classify does, with the rules alone, and fills f with its
 * features. ret_scores (one per category): the rules' score over the category's threshold;
 * ret_rules: the categories the rules assign; ret_sure: those a sure rule assigns whatever the
 * model says; ret_vetoed: those a veto rule forbids.
 *
 * How rules and model combine (chosen by training, README): a category is assigned when no veto
 * rule matched and either the combined probability (model.h's stack: the category's model score,
 * the rules' score and the "some category" score) reaches the model's threshold, or a sure rule
 * matched (a live video; a phrase or regex of the admin's config). */
struct features;
int classifier_read_features(const struct classifier *c, const struct post *p, struct features *f,
                             double *ret_scores, uint64_t *ret_rules, uint64_t *ret_sure,
                             uint64_t *ret_vetoed);

/* Trains a model for c's categories on corpus's train and dev splits (train.c): how rules and
 * model combine and each category's threshold are chosen on out-of-fold scores; the model is
 * stored under classifier_training_key(). The test split is never read. report, when not NULL,
 * gets the out-of-fold figures. */
struct corpus;
struct train_options {
        double C;               /* inverse regularisation; 0: the default */
        double positive_weight; /* 0: the default */
        FILE *report;
};
int classifier_train(const struct classifier *c, const struct corpus *corpus,
                     const struct train_options *o, struct classify_model **ret);
/* The threshold training takes for a category (train.c) from n examples: p[i] the probability the
 * model and rules give (above 1 for a post the rules are sure of, below 0 for a vetoed one),
 * gold[i] the label. F* / (1 + miss_cost), F* the best F-beta (β² = miss_cost) any threshold
 * reaches on them, at least 0.03; 0.5 when none is a positive. */
double train_threshold(const double *p, const bool *gold, size_t n, double miss_cost);
/* The key a model trained by c on a corpus with corpus->key is stored under: the corpus, the
 * feature version and every rule (thresholds are chosen for rules and model together). */
uint64_t classifier_training_key(const struct classifier *c, uint64_t corpus_key);

/* corpus_read() with c's categories as the labels allowed. */
int classifier_read_corpus(const struct classifier *c, struct corpus *co, const char *path,
                           bool split_by_hash, char **ret_error);
/* What training reads: the corpus with its fixed split, then example_files (NULL-terminated,
 * may be NULL), every post of which is a training one. */
int classifier_read_training_set(const struct classifier *c, const char *corpus_path,
                                 char *const *example_files, struct corpus *co, char **ret_error);
