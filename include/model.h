/* model.h — the classifier's learned half: hashed features of a post as the classifier read it,
 * one linear SVM per category trained with LIBLINEAR, combined with the rules' score by a small
 * logistic regression per category, and a threshold per category.
 *
 * Pure: no I/O but model_save()/model_load(), no logging. Features are what normalize.c already
 * produced (stems, stem bigrams, character n-grams of the folded words), plus the post's signals
 * (live video, poll, a time ahead) and links to public-service sites, hashed into 2^MODEL_HASH_BITS
 * buckets, weighted tf-idf (1 + ln of the count, times the bucket's idf over the examples the
 * model was trained on) and scaled to unit length. A model file is a cache or a build product,
 * never kept in the source tree: the corpus is the data, `govwatchd train` makes the model from it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "normalize.h"
#include "post.h"

/* Bump when features change: a model of another version is retrained, never misread. */
#define MODEL_FEATURE_VERSION 3
#define MODEL_HASH_BITS       17
#define MODEL_DIMS            (UINT32_C(1) << MODEL_HASH_BITS)
#define MODEL_MAX_CATEGORIES  64
#define MODEL_STACK           5
/* The model's extra category: "the post belongs to some category", learned from every labelled
 * post, which tells an announcement from a report better than each category's own examples
 * can. Not a name a config can give a category. */
#define MODEL_ANY "*any"

struct features {
        uint32_t *idx; /* distinct buckets, in the order first seen */
        uint32_t *tf;  /* how often each was seen, parallel to idx */
        size_t n, allocated, allocated_tf;
        /* the buckets seen, open addressing: a slot holds an index into idx + 1, or 0; at most
         * half full, emptied after each post by walking idx backwards */
        uint32_t *slot;
        size_t n_slots;
        /* with names: the text of each feature (parallel to idx), for --explain */
        bool names;
        struct strbuf name_text;
        uint32_t *name_off;
        size_t allocated_names;
};

int features_init(struct features *f, bool names);
void features_done(struct features *f);

/* The features of one read post: tokens from normalizer_add(), signal bits (rules.h's
 * enum rule_signal), and the post itself for its links (repost included). Replaces f's content. */
int features_extract(struct features *f, const struct tokens *t, uint32_t signals,
                     const struct post *p);
/* One more feature, kind and text ("R", "live", "yes": what the rules made of category live). */
int features_add(struct features *f, char kind, const char *a, const char *b);
static inline const char *features_name(const struct features *f, size_t i)
{
        return f->names ? f->name_text.buf + f->name_off[i] : "";
}

struct classify_model {
        uint32_t feature_version;
        uint32_t hash_bits;
        uint64_t key; /* what it was trained from (model_key of its inputs); 0: unknown */
        size_t n_categories;
        char **names;     /* category names, n_categories */
        float *bias;      /* n_categories */
        float *threshold; /* probability at or above which a category is assigned */
        /* how the model and the rules combine, per category: the probability compared with the
         * threshold is sigmoid(s[0] * model logit + s[1] * rules + s[2] * min(rules, 0) +
         * s[3] * the MODEL_ANY logit + s[4]), rules being the rules' score over their threshold,
         * clamped to [-3, 3]: evidence against (a recap, a drill) may weigh more than evidence
         * for */
        float *stack; /* MODEL_STACK per category */
        /* a row of n_categories + 1 per bucket: the categories' weights, then the bucket's
         * inverse document frequency, so that scoring a feature reads one cache line; each a
         * bfloat16 (the high half of a float: 8 bits of precision, half the memory of floats,
         * and a shift to read) */
        uint16_t *w;
        int any;            /* index of MODEL_ANY, -1: none */
        size_t n_positives; /* of the examples it was trained on (for `status` and tests) */
        size_t n_examples;
};

/* A bfloat16 as a float, and a float rounded to the nearest bfloat16. */
static inline float model_bf16(uint16_t h)
{
        union {
                uint32_t u;
                float f;
        } v = {.u = (uint32_t)h << 16};
        return v.f;
}
uint16_t model_to_bf16(float x);

/* Bucket h's weight for category k, and its idf. */
static inline float model_weight(const struct classify_model *m, uint32_t h, size_t k)
{
        return model_bf16(m->w[(size_t)h * (m->n_categories + 1) + k]);
}
static inline float model_idf(const struct classify_model *m, uint32_t h)
{
        return model_weight(m, h, m->n_categories);
}

struct classify_model *model_free(struct classify_model *m);
static inline void model_freep(struct classify_model **m)
{
        *m = model_free(*m);
}

/* The score of category k for features f, by the words alone (an SVM margin: > 0 leans yes;
 * model_probability() of it is only a rough probability, model_combine calibrates it). */
double model_logit(const struct classify_model *m, const struct features *f, size_t k);
/* model_logit() of every category at once, into ret[n_categories]: one pass over f. */
void model_logits(const struct classify_model *m, const struct features *f, double *ret);
/* The combined probability of category k: the model's logit and the rules' score over their
 * threshold (model.h's stack). */
double model_combine(const struct classify_model *m, size_t k, double logit, double rules,
                     double logit_any);
static inline double model_probability(double logit)
{
        return logit >= 0 ? 1.0 / (1.0 + __builtin_exp(-logit))
                          : __builtin_exp(logit) / (1.0 + __builtin_exp(logit));
}
/* What scales f's vector to unit length, once for all its features (for --explain). */
double model_scale(const struct classify_model *m, const struct features *f);
/* The weight of feature i of f towards category k, scale being model_scale(m, f): what it adds
 * to model_logit() (for --explain). */
double model_feature_weight(const struct classify_model *m, const struct features *f, size_t i,
                            size_t k, double scale);

/* Trains one L2-regularised linear SVM (L2 loss, LIBLINEAR's dual solver) per category over
 * examples xs[0..n) with label masks labels[] (bit k: category k). C is the inverse
 * regularisation, positive_weight the cost of a missed positive relative to a false one.
 * Thresholds start at 0.5 and the combination with the rules at "the model alone". A category
 * without positive examples gets a model that never fires. Deterministic. */
int model_train(char *const *names, size_t n_categories, const struct features *const *xs,
                const uint64_t *labels, size_t n, double C, double positive_weight,
                struct classify_model **ret);

/* Fits stack[] of category k: a logistic regression of gold[i] on logit[i] (out-of-fold model
 * scores) and rules[i], monotone in both (evidence for never lowers the probability)
 * (LIBLINEAR, lightly regularised), over out-of-fold logits. */
int model_fit_stack(struct classify_model *m, size_t k, const double *logit, const double *rules,
                    const double *logit_any, const bool *gold, size_t n);

/* Binary file, host byte order, with a magic, the feature version and the key: a cache or a
 * build product. model_load fails with -EBADMSG (and *ret_error) on a file it can't trust, with
 * -ESTALE when its feature version is another one. model_save writes atomically (temp + rename). */
int model_save(const struct classify_model *m, const char *path);
int model_load(const char *path, struct classify_model **ret, char **ret_error);

/* FNV-1a 64 of bytes, chained: key = model_key(key, data, size). Start from MODEL_KEY_INIT. */
#define MODEL_KEY_INIT UINT64_C(0xcbf29ce484222325)
uint64_t model_key(uint64_t key, const void *data, size_t size);
