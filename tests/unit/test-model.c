/* test-model.c — the learned half of the classifier: what it reads of a post, that it learns
 * what it is shown, that the same examples give the same model bit for bit (the shipped model is
 * rebuilt from the corpus, never trusted as a blob), and that a damaged model file is refused
 * rather than misread. */
#include <math.h>
#include <unistd.h>

#include "model.h"
#include "rules.h"
#include "test-helpers.h"

static bool has_feature(const struct features *f, const char *name)
{
        for (size_t i = 0; i < f->n; i++)
                if (streq(features_name(f, i), name))
                        return true;
        return false;
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
        /* each feature once, however often it occurs */
        for (size_t i = 0; i < f.n; i++)
                for (size_t j = i + 1; j < f.n; j++)
                        assert_int_not_equal(f.idx[i], f.idx[j]);
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

        features_done(&f);
        tokens_done(&t);
        normalizer_free(nz);
}

/* Category 0 is "feature 5 present", category 1 "feature 77 present", noise around them. */
#define N_EXAMPLES 60
static struct features xs[N_EXAMPLES];
static uint32_t idx_space[N_EXAMPLES][8];
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
                xs[i] = (struct features){.idx = idx_space[i], .n = n};
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
        assert_memory_equal(m->w, again->w, (size_t)MODEL_DIMS * 3 * sizeof(float));
        assert_memory_equal(m->bias, again->bias, 3 * sizeof(float));
        model_free(again);
        model_free(m);
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
        assert_memory_equal(l->w, m->w, (size_t)MODEL_DIMS * 3 * sizeof(float));
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
                cmocka_unit_test(test_save_load),
                cmocka_unit_test(test_stack_is_monotone),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
