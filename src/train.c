/* train.c — makes the classifier's model from labelled posts, deterministically.
 *
 * The procedure, every time (build, `govwatchd train`, the daemon with an admin's examples):
 *   1. read every example as the classifier reads a post: the rules' verdict and the features;
 *   2. the model, trained on train + dev;
 *   3. out-of-fold scores for the train and dev splits: TRAIN_FOLDS models, each trained without
 *      one fold (folds by a hash of the text, so they never change with the order);
 *   4. for each category, on those out-of-fold logits, how rules and model combine: a logistic
 *      regression of the label on the model's logit, the rules' score (so a recap the rules see
 *      through can outvote the words) and the logit of MODEL_ANY, the model of "some category"
 *      trained on every labelled post (it tells an announcement from a report better than one
 *      category's examples can: on dev 0.879 -> 0.887 micro-F1), then the probability
 *      threshold, F* / (1 + β²) for the best F-beta F* (F1 for a category without a miss_cost):
 *      where the best is, for calibrated probabilities, without balancing on a few posts.
 * The test split is never read: it is what the figures in the README are measured on.
 * Everything is a pure function of the examples, in their order (model.c seeds LIBLINEAR's
 * random order alike every time), so the same inputs give the same model, bit for bit.
 */
#include <stdio.h>

#include "classify.h"
#include "corpus.h"
#include "model.h"

#define TRAIN_C               2.0
#define TRAIN_POSITIVE_WEIGHT 2.0
#define TRAIN_FOLDS           3 /* 5 were no better on dev (0.874 both), and 30 % slower */
#define THRESHOLD_MIN         0.03
#define THRESHOLD_STEP        0.01
#define THRESHOLD_STEPS       95 /* 0.03 .. 0.97 */

struct read_example {
        struct features f; /* idx, tf and n only */
        double *score;     /* the rules' score over the threshold, per category */
        double *logit;     /* out-of-fold, per category */
        uint64_t rules, sure, vetoed;
        unsigned fold;
        bool used; /* train or dev split */
};

/* F-beta with beta^2 = miss_cost: a missed post weighs as much as miss_cost needless ones. */
static double fbeta_of(size_t tp, size_t fp, size_t fn, double miss_cost)
{
        double w = (1.0 + miss_cost) * (double)tp;
        return tp ? w / (w + miss_cost * (double)fn + (double)fp) : 0.0;
}

static double f1_of(size_t tp, size_t fp, size_t fn)
{
        return fbeta_of(tp, fp, fn, 1.0);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

static unsigned fold_of(const struct post *p)
{
        uint64_t h = model_key(MODEL_KEY_INIT, p->text, strlen(p->text));
        return (unsigned)((h / 100) % TRAIN_FOLDS); /* h % 100 is the split */
}

/* Trains on the used examples outside fold `without` (TRAIN_FOLDS: all of them). */
static int train_without(const struct classifier *c, const struct read_example *rx,
                         const struct corpus *co, unsigned without, const struct train_options *o,
                         struct classify_model **ret)
{
        size_t K = classifier_n_categories(c), n = 0;
        _cleanup_free_ const struct features **xs = calloc(co->n + 1, sizeof(*xs));
        _cleanup_free_ uint64_t *labels = calloc(co->n + 1, sizeof(uint64_t));
        _cleanup_free_ char **names = calloc(K + 2, sizeof(char *));
        if (!xs || !labels || !names)
                return -ENOMEM;
        /* the classifier's categories, and MODEL_ANY: "some category" */
        memcpy(names, classifier_category_names(c), K * sizeof(char *));
        names[K] = (char *)MODEL_ANY;
        for (size_t i = 0; i < co->n; i++)
                if (rx[i].used && rx[i].fold != without) {
                        xs[n] = &rx[i].f;
                        labels[n] = co->v[i].labels;
                        if (labels[n])
                                labels[n] |= UINT64_C(1) << K;
                        n++;
                }
        if (n == 0)
                return -ENODATA;
        return model_train(names, K + 1, xs, labels, n, o->C > 0 ? o->C : TRAIN_C,
                           o->positive_weight > 0 ? o->positive_weight : TRAIN_POSITIVE_WEIGHT,
                           ret);
}

struct tally {
        size_t tp, fp, fn;
};

static void tally_add(struct tally *t, bool gold, bool yes)
{
        t->tp += gold && yes;
        t->fp += !gold && yes;
        t->fn += gold && !yes;
}

/* The threshold is F* / (1 + β²), F* the best F-beta any threshold reaches on the out-of-fold
 * scores (β² the category's miss cost; F1 for 1), and not the threshold where that best is reached.
 * With F = (1 + β²)·TP / (β²·positives + flagged), flagging one more post of probability p raises
 * the expected F exactly when p > F / (1 + β²); the combined score is a probability fitted to these
 * very scores (a logistic regression), so at the optimum that is the threshold (for F1, F* / 2:
 * Lipton et al., 2014). Where the best is reached is fragile: F-beta is flat over a wide range of
 * thresholds, and leaving out a tenth of the examples moved that peak by up to 0.24 (sd 0.03–0.08
 * a category, ten draws), so an admin's few examples could change how many posts are flagged. F*
 * moves by about 0.01, and the threshold by half that. Thresholds taken so on one random half of
 * the out-of-fold scores did as well on the other half as the peak's (micro-F1 +0.002 ± 0.0004 over
 * 100 halves). */
double train_threshold(const double *p, const bool *gold, size_t n, double miss_cost)
{
        struct tally t[THRESHOLD_STEPS] = {{0}};
        size_t positives = 0;
        for (size_t i = 0; i < n; i++) {
                positives += gold[i];
                for (size_t s = 0; s < THRESHOLD_STEPS; s++)
                        tally_add(&t[s], gold[i],
                                  p[i] >= THRESHOLD_MIN + THRESHOLD_STEP * (double)s);
        }
        if (positives == 0)
                return 0.5;
        double best = 0;
        for (size_t s = 0; s < THRESHOLD_STEPS; s++) {
                double f = fbeta_of(t[s].tp, t[s].fp, t[s].fn, miss_cost);
                best = f > best ? f : best;
        }
        double threshold = best / (1.0 + miss_cost);
        return threshold > THRESHOLD_MIN ? threshold : THRESHOLD_MIN;
}

/* Step 4 for category k: how rules and model combine, then the threshold (train_threshold());
 * micro[] sums the chosen decisions' counts for the report. */
static int pick(struct classify_model *m, size_t k, struct read_example *rx,
                const struct corpus *co, FILE *report, const char *name, double miss_cost,
                struct tally *micro)
{
        struct tally rules = {0}, chosen = {0};
        uint64_t bit = UINT64_C(1) << k;
        size_t positives = 0, n = 0;
        _cleanup_free_ double *logit = calloc(co->n + 1, sizeof(double));
        _cleanup_free_ double *score = calloc(co->n + 1, sizeof(double));
        _cleanup_free_ double *any = calloc(co->n + 1, sizeof(double));
        _cleanup_free_ double *prob = calloc(co->n + 1, sizeof(double));
        _cleanup_free_ bool *gold = calloc(co->n + 1, sizeof(bool));
        if (!logit || !score || !any || !prob || !gold)
                return -ENOMEM;
        for (size_t i = 0; i < co->n; i++)
                if (rx[i].used) {
                        logit[n] = rx[i].logit[k];
                        score[n] = rx[i].score[k];
                        any[n] = rx[i].logit[m->any];
                        gold[n++] = co->v[i].labels & bit;
                }
        int r = model_fit_stack(m, k, logit, score, any, gold, n);
        if (r < 0)
                return r;

        /* as classify.c decides: a vetoed post never is of the category, one the rules are sure
         * of always is, whatever the threshold */
        for (size_t i = 0, j = 0; i < co->n; i++)
                if (rx[i].used) {
                        bool veto = rx[i].vetoed & bit;
                        if (veto)
                                prob[j] = -1.0;
                        else if (rx[i].sure & bit)
                                prob[j] = 2.0;
                        else
                                prob[j] = model_combine(m, k, logit[j], score[j], any[j]);
                        positives += gold[j];
                        tally_add(&rules, gold[j], (rx[i].rules & bit) && !veto);
                        j++;
                }
        m->threshold[k] = (float)train_threshold(prob, gold, n, miss_cost);
        if (positives == 0)
                return 0;
        for (size_t j = 0; j < n; j++)
                tally_add(&chosen, gold[j], prob[j] >= m->threshold[k]);
        micro->tp += chosen.tp;
        micro->fp += chosen.fp;
        micro->fn += chosen.fn;
        if (report)
                fprintf(report,
                        "  %-10s %4zu positives  rules alone F1 %.3f  combined F1 %.3f (P %zu/%zu, "
                        "R %zu/%zu) at %.2f%s; %.2f x model %+.2f x rules %+.2f x against\n",
                        name, positives, f1_of(rules.tp, rules.fp, rules.fn),
                        f1_of(chosen.tp, chosen.fp, chosen.fn), chosen.tp, chosen.tp + chosen.fp,
                        chosen.tp, positives, (double)m->threshold[k],
                        miss_cost != 1.0 ? " (a miss costs more)" : "",
                        (double)m->stack[MODEL_STACK * k], (double)m->stack[MODEL_STACK * k + 1],
                        (double)m->stack[MODEL_STACK * k + 2]);
        return 0;
}

/* What the classifier makes of post, kept in x for every fold: the rules' scores and masks, and
 * the model's features, sorted once here rather than per fold. scratch is where they are read. */
static int read_example(const struct classifier *c, const struct post *post, size_t K,
                        struct features *scratch, struct read_example *x)
{
        int r;

        x->score = calloc(K, sizeof(double));
        x->logit = calloc(K + 1, sizeof(double)); /* and MODEL_ANY's */
        if (!x->score || !x->logit)
                return -ENOMEM;
        r = classifier_read_features(c, post, scratch, x->score, &x->rules, &x->sure, &x->vetoed);
        if (r < 0)
                return r;
        /* sorted by bucket, as LIBLINEAR wants its rows, each with its count */
        _cleanup_free_ uint64_t *pairs = malloc(scratch->n * sizeof(uint64_t) + 1);
        x->f.idx = malloc(scratch->n * sizeof(uint32_t) + 1);
        x->f.tf = malloc(scratch->n * sizeof(uint32_t) + 1);
        if (!pairs || !x->f.idx || !x->f.tf)
                return -ENOMEM;
        for (size_t i = 0; i < scratch->n; i++)
                pairs[i] = (uint64_t)scratch->idx[i] << 32 | scratch->tf[i];
        qsort(pairs, scratch->n, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0; i < scratch->n; i++) {
                x->f.idx[i] = (uint32_t)(pairs[i] >> 32);
                x->f.tf[i] = (uint32_t)pairs[i];
        }
        x->f.n = scratch->n;
        x->fold = fold_of(post);
        x->used = true;
        return 0;
}

/* Each used example's logits from a model that has not seen its fold. Each fold's model is
 * trained from zero: one started from the final model, which has seen the fold, leaks it into
 * the out-of-fold scores (measured: +0.012 micro-F1). */
static int predict_out_of_fold(const struct classifier *c, struct read_example *rx,
                               const struct corpus *co, const struct train_options *o)
{
        struct classify_model *m = NULL;
        int r;

        for (unsigned fold = 0; fold < TRAIN_FOLDS; fold++) {
                r = train_without(c, rx, co, fold, o, &m);
                if (r == -ENODATA)
                        continue; /* every example is in this fold: it predicts nothing */
                if (r < 0)
                        return r;
                for (size_t i = 0; i < co->n; i++)
                        if (rx[i].used && rx[i].fold == fold)
                                model_logits(m, &rx[i].f, rx[i].logit);
                m = model_free(m);
        }
        return 0;
}

int classifier_train(const struct classifier *c, const struct corpus *co,
                     const struct train_options *o, struct classify_model **ret)
{
        static const struct train_options defaults = {0};
        struct features scratch;
        struct read_example *rx = NULL;
        struct classify_model *final = NULL;
        size_t K = classifier_n_categories(c);
        int r;

        if (!o)
                o = &defaults;
        r = features_init(&scratch, false);
        if (r < 0)
                return r;
        rx = calloc(co->n + 1, sizeof(*rx));
        if (!rx) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < co->n; i++) {
                if (co->v[i].split == SPLIT_TEST)
                        continue;
                r = read_example(c, co->v[i].post, K, &scratch, &rx[i]);
                if (r < 0)
                        goto out;
        }

        r = train_without(c, rx, co, TRAIN_FOLDS, o, &final);
        if (r < 0)
                goto out;
        r = predict_out_of_fold(c, rx, co, o);
        if (r < 0)
                goto out;

        struct tally micro = {0};
        if (o->report)
                fprintf(o->report, "train + dev, %u-fold out-of-fold predictions:\n", TRAIN_FOLDS);
        for (size_t k = 0; k < K && r >= 0; k++)
                r = pick(final, k, rx, co, o->report, classifier_category_name(c, (unsigned)k),
                         classifier_category_miss_cost(c, (unsigned)k), &micro);
        if (r < 0)
                goto out;
        if (o->report)
                fprintf(o->report, "  micro F1 %.3f (C %g, positive weight %g)\n",
                        f1_of(micro.tp, micro.fp, micro.fn), o->C > 0 ? o->C : TRAIN_C,
                        o->positive_weight > 0 ? o->positive_weight : TRAIN_POSITIVE_WEIGHT);
        final->key = classifier_training_key(c, co->key);
        *ret = TAKE_PTR(final);
out:
        for (size_t i = 0; rx && i < co->n; i++) {
                free(rx[i].f.idx);
                free(rx[i].f.tf);
                free(rx[i].score);
                free(rx[i].logit);
        }
        free(rx);
        model_free(final);
        features_done(&scratch);
        return r;
}
