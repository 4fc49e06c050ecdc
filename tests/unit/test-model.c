/* test-model.c — the learned half of the classifier: what it reads of a post, that it learns
 * what it is shown, that the same examples give the same model bit for bit (the shipped model is
 * rebuilt from the corpus, never trusted as a blob), and that a damaged model file is refused
 * rather than misread. */
#include <math.h>
#include <unistd.h>

#include "model.h"
#include "rules.h"
#include "test-helpers.h"

/* cmocka 1.1.5 (Debian 12) has no assert_double_equal */
#define assert_near(a, b, eps)                                                                     \
        do {                                                                                       \
                double a_ = (a), b_ = (b);                                                         \
                if (!(fabs(a_ - b_) <= (eps)))                                                     \
                        fail_msg("%s = %.9g, %s = %.9g", #a, a_, #b, b_);                          \
        } while (0)

/* How often the post has feature name: 0 for never. */
static uint32_t tf_of(const struct features *f, const char *name)
{
        for (size_t i = 0; i < f->n; i++)
                if (streq(features_name(f, i), name))
                        return f->tf[i];
        return 0;
}

static bool has_feature(const struct features *f, const char *name)
{
        return tf_of(f, name) > 0;
}

static void test_features(void **state)
{
        struct normalizer *nz = NULL;
        struct tokens t = {0};
        struct features f;
        assert_int_equal(normalizer_new(true, &nz), 0);
        assert_int_equal(features_init(&f, true), 0);

        const char *text = "Прямой эфир с главой! Прямой эфир завтра. Запись: gosuslugi.ru/600";
        assert_int_equal(normalizer_add(nz, text, strlen(text), &t), 0);
        struct post p = {.text = (char *)text};
        assert_int_equal(features_extract(&f, &t, 1u << SIGNAL_TIME_SOON, &p), 0);
        assert_true(has_feature(&f, "W:прям"));
        assert_true(has_feature(&f, "B:прям эфир"));
        assert_true(has_feature(&f, "C:<пря"));
        assert_true(has_feature(&f, "S:time_soon"));
        assert_true(has_feature(&f, "L:gosuslugi.ru"));
        /* a bigram does not cross a sentence */
        assert_false(has_feature(&f, "B:глав прям"));
        /* each feature once, with how often it occurs */
        for (size_t i = 0; i < f.n; i++)
                for (size_t j = i + 1; j < f.n; j++)
                        assert_int_not_equal(f.idx[i], f.idx[j]);
        assert_int_equal(tf_of(&f, "W:прям"), 2);
        assert_int_equal(tf_of(&f, "B:прям эфир"), 2);
        assert_int_equal(tf_of(&f, "W:глав"), 1);
        assert_int_equal(tf_of(&f, "S:time_soon"), 1);
        size_t n = f.n;
        assert_int_equal(features_add(&f, 'R', "live", "yes"), 0);
        assert_int_equal(f.n, n + 1);
        assert_true(has_feature(&f, "R:live yes"));

        /* the next post starts clean */
        tokens_reset(&t);
        assert_int_equal(normalizer_add(nz, "Отключение воды", 29, &t), 0);
        assert_int_equal(features_extract(&f, &t, 0, &p), 0);
        assert_false(has_feature(&f, "W:прям"));
        assert_true(has_feature(&f, "W:отключен"));
        assert_int_equal(tf_of(&f, "W:отключен"), 1);

        features_done(&f);
        tokens_done(&t);
        normalizer_free(nz);
}

/* Category 0 is "feature 5 present", category 1 "feature 77 present", noise around them. */
#define N_EXAMPLES 60
static struct features xs[N_EXAMPLES];
static uint32_t idx_space[N_EXAMPLES][8], tf_space[N_EXAMPLES][8];
static uint64_t labels[N_EXAMPLES];

static void make_problem(void)
{
        for (size_t i = 0; i < N_EXAMPLES; i++) {
                size_t n = 0;
                if (i % 2)
                        idx_space[i][n++] = 5;
                if (i % 3 == 0)
                        idx_space[i][n++] = 77;
                idx_space[i][n++] = 1000 + (uint32_t)(i % 7);
                idx_space[i][n++] = 2000 + (uint32_t)(i % 11);
                for (size_t j = 0; j < n; j++)
                        tf_space[i][j] = 1;
                xs[i] = (struct features){.idx = idx_space[i], .tf = tf_space[i], .n = n};
                labels[i] = (i % 2 ? 1 : 0) | (i % 3 == 0 ? 2 : 0);
        }
}

static struct classify_model *train_problem(void)
{
        static char *const names[] = {"outage", "civic", "none", NULL};
        const struct features *p[N_EXAMPLES];
        for (size_t i = 0; i < N_EXAMPLES; i++)
                p[i] = &xs[i];
        struct classify_model *m = NULL;
        assert_int_equal(model_train(names, 3, p, labels, N_EXAMPLES, 2.0, 2.0, &m), 0);
        return m;
}

static void test_learns_and_is_deterministic(void **state)
{
        make_problem();
        struct classify_model *m = train_problem(), *again = train_problem();
        for (size_t i = 0; i < N_EXAMPLES; i++) {
                double s0 = model_logit(m, &xs[i], 0), s1 = model_logit(m, &xs[i], 1);
                if ((s0 > 0) != (i % 2 == 1) || (s1 > 0) != (i % 3 == 0))
                        fail_msg("example %zu: score(outage) %.3f, score(civic) %.3f", i, s0, s1);
                /* a category nobody labelled never fires */
                assert_true(model_probability(model_logit(m, &xs[i], 2)) < 1e-6);
        }
        assert_int_equal(m->n_examples, N_EXAMPLES);
        assert_memory_equal(m->w, again->w, (size_t)MODEL_DIMS * 4 * sizeof(uint16_t));
        assert_memory_equal(m->bias, again->bias, 3 * sizeof(float));
        model_free(again);
        model_free(m);
}

/* Features are weighted as tf-idf: a bucket in fewer examples weighs more, a feature seen
 * often weighs more but not in proportion, nor without bound, one never seen in training not
 * at all, and the logit is the sum of what --explain shows. */
static void test_tf_idf(void **state)
{
        make_problem();
        struct classify_model *m = train_problem();
        /* smoothed: ln((1 + n) / (1 + df)) + 1; bucket 5 is in 30 of the 60 examples */
        /* (kept as bfloat16: to 1 part in 256) */
        assert_near(model_idf(m, 5), log(61.0 / 31.0) + 1, 0.01);
        assert_near(model_idf(m, 77), log(61.0 / 21.0) + 1, 0.01);
        /* a bucket no example has: its words are unknown, and must not dilute the known ones */
        assert_near(model_idf(m, 3), 0, 0);
        assert_true(model_idf(m, 1000) > model_idf(m, 5));

        uint32_t idx[] = {5, 1000, 2000}, once[] = {1, 1, 1}, often[] = {4, 1, 1};
        struct features f1 = {.idx = idx, .tf = once, .n = 3};
        struct features f4 = {.idx = idx, .tf = often, .n = 3};
        /* feature 5 is evidence for category 0 and against nothing else */
        assert_true(model_logit(m, &f4, 0) > model_logit(m, &f1, 0));
        double sc1 = model_scale(m, &f1), sc4 = model_scale(m, &f4);
        for (size_t k = 0; k < 3; k++) {
                double sum = m->bias[k];
                for (size_t i = 0; i < f4.n; i++)
                        sum += model_feature_weight(m, &f4, i, k, sc4);
                assert_near(sum, model_logit(m, &f4, k), 1e-9);
        }
        /* sublinear: four times feature 5 against once, the other two alike */
        double v5 =
                model_feature_weight(m, &f4, 0, 0, sc4) / model_feature_weight(m, &f1, 0, 0, sc1);
        double v1000 =
                model_feature_weight(m, &f4, 1, 0, sc4) / model_feature_weight(m, &f1, 1, 0, sc1);
        assert_near(v5 / v1000, 1 + log(4.0), 1e-6);
        /* and capped: a word repeated ten thousand times weighs what four times do */
        uint32_t spam[] = {10000, 1, 1};
        struct features fs = {.idx = idx, .tf = spam, .n = 3};
        for (size_t k = 0; k < 3; k++)
                assert_near(model_logit(m, &fs, k), model_logit(m, &f4, k), 1e-12);
        /* an unknown feature changes nothing */
        uint32_t idx_unknown[] = {5, 1000, 2000, 3}, tf_unknown[] = {4, 1, 1, 1};
        struct features fu = {.idx = idx_unknown, .tf = tf_unknown, .n = 4};
        for (size_t k = 0; k < 3; k++)
                assert_near(model_logit(m, &fu, k), model_logit(m, &f4, k), 1e-12);
        double logits[3];
        model_logits(m, &f4, logits);
        for (size_t k = 0; k < 3; k++)
                assert_near(logits[k], model_logit(m, &f4, k), 1e-9);
        model_free(m);
}

/* Weights are kept as bfloat16: rounded to the nearest, ties to even, within 1 part in 256. */
static void test_bf16(void **state)
{
        assert_int_equal(model_to_bf16(1.0f), 0x3f80);
        assert_int_equal(model_to_bf16(-2.0f), 0xc000);
        assert_int_equal(model_to_bf16(0.0f), 0);
        /* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to the even one, 1 */
        assert_int_equal(model_to_bf16(1.0f + 1.0f / 256), 0x3f80);
        /* 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to the even one */
        assert_int_equal(model_to_bf16(1.0f + 3.0f / 256), 0x3f82);
        assert_int_equal(model_to_bf16(1.0f + 1.0f / 256 + 1.0f / 4096), 0x3f81);
        assert_true(isnan(model_bf16(model_to_bf16(NAN))));
        for (float x = -40; x < 40; x += 0.37f) {
                float y = model_bf16(model_to_bf16(x));
                if (fabsf(y - x) > fabsf(x) / 256)
                        fail_msg("%g -> %g", (double)x, (double)y);
        }
}

static void test_save_load(void **state)
{
        make_problem();
        struct classify_model *m = train_problem();
        m->key = UINT64_C(0x1234567890abcdef);
        m->threshold[1] = 0.25f;
        m->stack[9] = 0.75f;
        char path[] = "/tmp/govwatch-test-model-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(model_save(m, path), 0);

        struct classify_model *l = NULL;
        char *error = NULL;
        assert_int_equal(model_load(path, &l, &error), 0);
        assert_null(error);
        assert_int_equal(l->key, m->key);
        assert_int_equal(l->n_categories, 3);
        assert_string_equal(l->names[1], "civic");
        assert_true(l->threshold[1] == 0.25f);
        assert_true(l->stack[9] == 0.75f);
        assert_true(l->stack[0] == 1.0f); /* the model alone until a stack is fitted */
        assert_memory_equal(l->w, m->w, (size_t)MODEL_DIMS * 4 * sizeof(uint16_t));
        assert_true(model_logit(l, &xs[1], 0) == model_logit(m, &xs[1], 0));
        model_free(l);

        /* damaged files are refused with a reason, never half read */
        size_t size = 0;
        _cleanup_free_ char *data = NULL;
        assert_int_equal(read_full_file(path, 64u << 20, false, &data, &size), 0);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size - 100, f), size - 100);
        fclose(f);
        assert_int_equal(model_load(path, &l, &error), -EBADMSG);
        assert_non_null(strstr(error, "truncated or corrupt"));
        free(error);
        error = NULL;

        data[0] = 'X';
        f = fopen(path, "we");
        fwrite(data, 1, size, f);
        fclose(f);
        assert_int_equal(model_load(path, &l, &error), -EBADMSG);
        assert_non_null(strstr(error, "not a govwatch model"));
        free(error);
        error = NULL;

        data[0] = 'G';
        data[8] ^= 0x7f; /* feature_version */
        f = fopen(path, "we");
        fwrite(data, 1, size, f);
        fclose(f);
        assert_int_equal(model_load(path, &l, &error), -ESTALE);
        free(error);
        error = NULL;

        /* every idf is checked */
        uint16_t idf = m->w[(size_t)1234 * 4 + 3];
        m->w[(size_t)1234 * 4 + 3] = model_to_bf16(NAN);
        assert_int_equal(model_save(m, path), 0);
        assert_int_equal(model_load(path, &l, &error), -EBADMSG);
        assert_non_null(strstr(error, "corrupt model values"));
        free(error);
        error = NULL;
        m->w[(size_t)1234 * 4 + 3] = idf;

        /* every input of the combination is checked, its constant too */
        m->stack[MODEL_STACK - 1] = NAN;
        assert_int_equal(model_save(m, path), 0);
        assert_int_equal(model_load(path, &l, &error), -EBADMSG);
        assert_non_null(strstr(error, "corrupt model values"));
        free(error);

        assert_int_equal(model_load("/nonexistent/model.bin", &l, NULL), -ENOENT);
        unlink(path);
        model_free(m);
}

/* The combination of model and rules is monotone: whatever the data, evidence for a category
 * never lowers its probability and evidence against never raises it. */
static void test_stack_is_monotone(void **state)
{
        make_problem();
        struct classify_model *m = train_problem();
        enum { N = 300 };
        double logit[N], rules[N], any[N];
        bool gold[N];
        for (size_t i = 0; i < N; i++) {
                logit[i] = (double)((int)(i % 21) - 10) / 4; /* -2.5 .. 2.5 */
                gold[i] = logit[i] + (double)((int)(i * 7 % 5) - 2) / 2 > 0;
                /* rules that point the wrong way: high when the label is no */
                rules[i] = gold[i] ? -1.5 : 1.5;
                any[i] = logit[i];
        }
        assert_int_equal(model_fit_stack(m, 0, logit, rules, any, gold, N), 0);
        const float *st = &m->stack[0];
        assert_true(st[0] > 0);  /* the model's score counts for */
        assert_true(st[1] >= 0); /* the rules' evidence for never lowers the probability */
        assert_true(st[2] >= 0); /* evidence against never raises it */
        assert_true(st[3] >= 0);
        for (double r = -3; r < 3; r += 0.5)
                assert_true(model_combine(m, 0, 0.5, r + 0.5, 0.5) >=
                            model_combine(m, 0, 0.5, r, 0.5));

        /* rules that agree with the labels get weight */
        for (size_t i = 0; i < N; i++)
                rules[i] = gold[i] ? 1.5 : -1.5;
        assert_int_equal(model_fit_stack(m, 1, logit, rules, any, gold, N), 0);
        assert_true(m->stack[MODEL_STACK + 1] + m->stack[MODEL_STACK + 2] > 0.5);
        assert_true(model_combine(m, 1, 0, 1.5, 0) > 0.5);
        assert_true(model_combine(m, 1, 0, -1.5, 0) < 0.5);
        model_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_features),
                cmocka_unit_test(test_learns_and_is_deterministic),
                cmocka_unit_test(test_tf_idf),
                cmocka_unit_test(test_bf16),
                cmocka_unit_test(test_save_load),
                cmocka_unit_test(test_stack_is_monotone),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
