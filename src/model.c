/* model.c — the classifier's learned half: hashed features, linear models, model files.
 *
 * A post is read once (classify.c, with normalize.c); its tokens become features hashed
 * into MODEL_DIMS buckets — stems, stem bigrams within a sentence, character 4-grams of the folded
 * words (they carry what the stemmer drops: "теплоснабжени", "электроэнерги"), the post's signals
 * and links to service sites — weighted tf-idf and scaled to unit length (out-of-fold micro-F1
 * 0.865 -> 0.877 over binary values: a word the post repeats, a rare word, say more). The idf
 * is learned with the weights. Each category is one linear SVM over them
 * (LIBLINEAR's L2-loss dual solver: on the corpus as good as logistic regression and three times
 * faster to train), whose score a small logistic regression per category turns, together with
 * the rules' score, into a probability (model_fit_stack). The dual solver's random order comes
 * from rand() seeded alike every time, so the same examples give the same model, bit for bit.
 * Weights are kept as bfloat16, bucket major with the bucket's idf at the end of its row, so
 * scoring a post touches one cache line per feature for all categories at once; the model is
 * trained with the rounded idf and its weights rounded as they are stored, so that what is
 * measured out of fold is what runs.
 */
#include <fcntl.h>
#include <linear.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "rules.h"

#define MODEL_MAGIC "GWMODEL\n"
#define NGRAM       4

uint64_t model_key(uint64_t key, const void *data, size_t size)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < size; i++) {
                key ^= p[i];
                key *= UINT64_C(0x100000001b3);
        }
        return key;
}

/* ---- features ---- */

#define FEATURES_MIN_SLOTS 1024

int features_init(struct features *f, bool names)
{
        *f = (struct features){.names = names, .n_slots = FEATURES_MIN_SLOTS};
        f->slot = calloc(f->n_slots, sizeof(uint32_t));
        return f->slot ? 0 : -ENOMEM;
}

void features_done(struct features *f)
{
        free(f->idx);
        free(f->tf);
        free(f->slot);
        free(f->name_off);
        strbuf_done(&f->name_text);
        *f = (struct features){0};
}

/* Where bucket h is in f->slot, or the empty slot where it would go. Buckets are well mixed
 * (bucket()): their low bits make a fine start. */
static size_t slot_of(const struct features *f, uint32_t h)
{
        size_t mask = f->n_slots - 1, s = h & mask;
        while (f->slot[s] != 0 && f->idx[f->slot[s] - 1] != h)
                s = (s + 1) & mask;
        return s;
}

/* Backwards: a bucket's probe passes only buckets inserted before it, still in place. */
static void features_clear(struct features *f)
{
        for (size_t i = f->n; i > 0; i--)
                f->slot[slot_of(f, f->idx[i - 1])] = 0;
        f->n = 0;
        f->name_text.len = 0;
}

/* Twice the slots, the buckets put in again in the order first seen. */
static int grow_slots(struct features *f)
{
        size_t n_slots = f->n_slots * 2;
        uint32_t *slot = calloc(n_slots, sizeof(uint32_t));
        if (!slot)
                return -ENOMEM;
        free(f->slot);
        f->slot = slot;
        f->n_slots = n_slots;
        for (size_t i = 0; i < f->n; i++)
                f->slot[slot_of(f, f->idx[i])] = (uint32_t)i + 1;
        return 0;
}

static uint32_t bucket(char kind, const char *a, size_t a_len, const char *b, size_t b_len)
{
        uint64_t h = model_key(MODEL_KEY_INIT, &kind, 1);
        h = model_key(h, a, a_len);
        if (b) {
                h = model_key(h, " ", 1);
                h = model_key(h, b, b_len);
        }
        h ^= h >> 29; /* FNV's low bits mix poorly on short keys */
        h *= UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 32;
        return (uint32_t)h & (MODEL_DIMS - 1);
}

static int add(struct features *f, char kind, const char *a, size_t a_len, const char *b,
               size_t b_len)
{
        uint32_t h = bucket(kind, a, a_len, b, b_len);
        size_t s = slot_of(f, h);
        if (f->slot[s] != 0) {
                f->tf[f->slot[s] - 1]++;
                return 0;
        }
        if (2 * (f->n + 1) > f->n_slots) {
                int r = grow_slots(f);
                if (r < 0)
                        return r;
                s = slot_of(f, h);
        }
        if ((f->n + 1 > f->allocated || f->n + 1 > f->allocated_tf) &&
            (!greedy_realloc((void **)&f->idx, &f->allocated, f->n + 1, sizeof(uint32_t)) ||
             !greedy_realloc((void **)&f->tf, &f->allocated_tf, f->n + 1, sizeof(uint32_t))))
                return -ENOMEM;
        if (f->names) {
                if (!greedy_realloc((void **)&f->name_off, &f->allocated_names, f->n + 1,
                                    sizeof(uint32_t)))
                        return -ENOMEM;
                f->name_off[f->n] = (uint32_t)f->name_text.len;
                if (strbuf_appendf(&f->name_text, "%c:%.*s%s%.*s", kind, (int)a_len, a,
                                   b ? " " : "", b ? (int)b_len : 0, b ? b : "") < 0 ||
                    strbuf_append(&f->name_text, "", 1) < 0)
                        return -ENOMEM;
        }
        f->slot[s] = (uint32_t)f->n + 1;
        f->tf[f->n] = 1;
        f->idx[f->n++] = h;
        return 0;
}

/* Character n-grams of "<word>" by code point: a word of fewer letters is one feature. */
static int add_ngrams(struct features *f, const char *word, size_t len)
{
        char buf[256];
        if (len + 2 > sizeof(buf))
                return 0;
        buf[0] = '<';
        memcpy(buf + 1, word, len);
        buf[len + 1] = '>';
        size_t n = len + 2;
        size_t starts[sizeof(buf) + 1], n_starts = 0;
        for (size_t i = 0; i < n; i++)
                if (((unsigned char)buf[i] & 0xc0) != 0x80)
                        starts[n_starts++] = i;
        starts[n_starts] = n;
        if (n_starts <= NGRAM)
                return add(f, 'C', buf, n, NULL, 0);
        for (size_t i = 0; i + NGRAM <= n_starts; i++) {
                int r = add(f, 'C', buf + starts[i], starts[i + NGRAM] - starts[i], NULL, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

int features_add(struct features *f, char kind, const char *a, const char *b)
{
        return add(f, kind, a, strlen(a), b, b ? strlen(b) : 0);
}

static const char *const service_links[] = {
        "gosuslugi.ru", /* Госуслуги, the feedback platform pos.gosuslugi.ru included */
        "vk.com/app",   /* VK mini apps: запись к врачу, ЖКХ, ... */
        "vk.com/video", "vkvideo.ru", "mos.ru", "nalog.gov.ru", "sfr.gov.ru",
};

static int add_links(struct features *f, const struct post *p)
{
        for (const struct post *q = p; q; q = q == p ? p->repost : NULL) {
                for (size_t i = 0; i < ELEMENTSOF(service_links); i++)
                        if (q->text && strstr(q->text, service_links[i])) {
                                int r = add(f, 'L', service_links[i], strlen(service_links[i]),
                                            NULL, 0);
                                if (r < 0)
                                        return r;
                        }
                for (size_t i = 0; i < q->n_attachments; i++) {
                        const char *type = q->attachments[i].type;
                        if (!type)
                                continue;
                        int r = add(f, 'A', type, strlen(type), NULL, 0);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int features_extract(struct features *f, const struct tokens *t, uint32_t signals,
                     const struct post *p)
{
        int r;
        features_clear(f);

        const char *prev = NULL;
        size_t prev_len = 0;
        uint32_t prev_sentence = UINT32_MAX;
        for (size_t i = 0; i < t->n; i++) {
                const struct token *k = &t->v[i];
                const char *unit;
                size_t unit_len;
                if (k->kind == TOKEN_PUNCT)
                        continue;
                if (k->kind == TOKEN_WORD) {
                        unit = token_stem(t, k);
                        unit_len = k->stem_len;
                        if ((r = add(f, 'W', unit, unit_len, NULL, 0)) < 0 ||
                            (r = add_ngrams(f, token_text(t, k), k->len)) < 0)
                                return r;
                } else {
                        unit = "#";
                        unit_len = 1;
                }
                if (prev && prev_sentence == k->sentence &&
                    (r = add(f, 'B', prev, prev_len, unit, unit_len)) < 0)
                        return r;
                prev = unit;
                prev_len = unit_len;
                prev_sentence = k->sentence;
        }
        for (unsigned s = 0; s < _SIGNAL_MAX; s++)
                if (signals & (1u << s)) {
                        const char *name = rule_signal_to_string(s);
                        if ((r = add(f, 'S', name, strlen(name), NULL, 0)) < 0)
                                return r;
                }
        return add_links(f, p);
}

/* ---- scoring ---- */

/* A feature's value before the post's vector is scaled to unit length: 1 + ln(tf), times the
 * bucket's idf. Sublinear, and no more than TF_MAX counts: a word said five times is not five
 * times the evidence, and a post that repeats a word ten thousand times ("вода вода вода ...")
 * must not drown what else it says. Out of fold, caps from 2 to 16 and none score alike. */
#define TF_MAX 4

static double tf_weight(uint32_t tf)
{
        static const double table[TF_MAX + 1] = {0, 1, 1.6931471805599454, 2.0986122886681098,
                                                 2.386294361119891};
        return table[tf < TF_MAX ? tf : TF_MAX];
}

uint16_t model_to_bf16(float x)
{
        union {
                float f;
                uint32_t u;
        } v = {.f = x};
        if (isnan(x))
                return 0x7fc0;
        /* round to nearest, ties to even */
        return (uint16_t)((v.u + 0x7fff + ((v.u >> 16) & 1)) >> 16);
}

/* Bucket h's row of m->w: the categories' weights, then its idf. */
static uint16_t *row(const struct classify_model *m, uint32_t h)
{
        return &m->w[(size_t)h * (m->n_categories + 1)];
}

static double value(const struct classify_model *m, const struct features *f, size_t i)
{
        return tf_weight(f->tf[i]) * model_idf(m, f->idx[i]);
}

static double scale(const struct classify_model *m, const struct features *f)
{
        double sum = 0;
        for (size_t i = 0; i < f->n; i++) {
                double v = value(m, f, i);
                sum += v * v;
        }
        return sum > 0 ? 1.0 / sqrt(sum) : 0.0;
}

double model_logit(const struct classify_model *m, const struct features *f, size_t k)
{
        double sum = 0;
        for (size_t i = 0; i < f->n; i++)
                sum += model_weight(m, f->idx[i], k) * value(m, f, i);
        return m->bias[k] + sum * scale(m, f);
}

void model_logits(const struct classify_model *m, const struct features *f, double *ret)
{
        size_t K = m->n_categories;
        double sum[MODEL_MAX_CATEGORIES] = {0}, norm = 0;
        /* one pass: a feature's row is one cache line, and the model is bigger than L2: ask
         * for the rows a few features ahead */
        for (size_t i = 0; i < f->n; i++) {
                if (i + 8 < f->n)
                        __builtin_prefetch(row(m, f->idx[i + 8]));
                const uint16_t *w = row(m, f->idx[i]);
                double v = tf_weight(f->tf[i]) * model_bf16(w[K]);
                norm += v * v;
                for (size_t k = 0; k < K; k++)
                        sum[k] += model_bf16(w[k]) * v;
        }
        double sc = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
        for (size_t k = 0; k < K; k++)
                ret[k] = m->bias[k] + sum[k] * sc;
}

double model_scale(const struct classify_model *m, const struct features *f)
{
        return scale(m, f);
}

double model_feature_weight(const struct classify_model *m, const struct features *f, size_t i,
                            size_t k, double scale)
{
        return model_weight(m, f->idx[i], k) * value(m, f, i) * scale;
}

/* The rules' score over their threshold as the combination takes it (model.h). */
static double clamp_rules(double rules)
{
        return rules < -3 ? -3 : rules > 3 ? 3 : rules;
}

double model_combine(const struct classify_model *m, size_t k, double logit, double rules,
                     double logit_any)
{
        const float *st = &m->stack[MODEL_STACK * k];
        rules = clamp_rules(rules);
        return model_probability(st[0] * logit + st[1] * rules + st[2] * (rules < 0 ? rules : 0) +
                                 st[3] * logit_any + st[4]);
}

struct classify_model *model_free(struct classify_model *m)
{
        if (!m)
                return NULL;
        strv_free(m->names);
        free(m->bias);
        free(m->threshold);
        free(m->stack);
        free(m->w);
        free(m);
        return NULL;
}

static int model_alloc(size_t n_categories, struct classify_model **ret)
{
        _cleanup_(model_freep) struct classify_model *m = calloc(1, sizeof(*m));
        if (!m || n_categories == 0 || n_categories > MODEL_MAX_CATEGORIES)
                return m ? -EINVAL : -ENOMEM;
        m->feature_version = MODEL_FEATURE_VERSION;
        m->hash_bits = MODEL_HASH_BITS;
        m->n_categories = n_categories;
        m->any = -1;
        m->names = calloc(n_categories + 1, sizeof(char *));
        m->bias = calloc(n_categories, sizeof(float));
        m->threshold = calloc(n_categories, sizeof(float));
        m->stack = calloc(MODEL_STACK * n_categories, sizeof(float));
        /* from a cache-line boundary: the shipped 6 categories and "some category" make rows of
         * 16 bytes, four to a line */
        size_t size = (size_t)MODEL_DIMS * (n_categories + 1) * sizeof(uint16_t);
        if (posix_memalign((void **)&m->w, 64, size) != 0)
                m->w = NULL;
        else
                memset(m->w, 0, size);
        if (!m->names || !m->bias || !m->threshold || !m->stack || !m->w)
                return -ENOMEM;
        *ret = TAKE_PTR(m);
        return 0;
}

static void find_any(struct classify_model *m)
{
        m->any = -1;
        for (size_t k = 0; k < m->n_categories; k++)
                if (streq(m->names[k], MODEL_ANY))
                        m->any = (int)k;
}

/* ---- training ---- */

static void quiet(const char *s)
{
        (void)s;
}

static int cmp_node(const void *a, const void *b)
{
        const struct feature_node *x = a, *y = b;
        return (x->index > y->index) - (x->index < y->index);
}

/* LIBLINEAR's solver works on dense vectors as long as the feature space: give it only the
 * buckets these examples use, numbered densely (*ret_column, from 1), and the bucket of each
 * column to scatter the weights back (*ret_bucket_of). *ret_total: the nodes of all rows. */
static int number_columns(const struct features *const *xs, size_t n, uint32_t **ret_column,
                          uint32_t **ret_bucket_of, size_t *ret_n_columns, size_t *ret_total)
{
        _cleanup_free_ uint32_t *column = calloc(MODEL_DIMS, sizeof(uint32_t));
        _cleanup_free_ uint32_t *bucket_of = NULL;
        size_t total = 0, n_columns = 0;

        if (!column)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                total += xs[i]->n + 2;
                for (size_t j = 0; j < xs[i]->n; j++)
                        column[xs[i]->idx[j]] = 1;
        }
        bucket_of = calloc(MODEL_DIMS, sizeof(uint32_t));
        if (!bucket_of)
                return -ENOMEM;
        for (uint32_t h = 0; h < MODEL_DIMS; h++)
                if (column[h]) {
                        bucket_of[n_columns] = h;
                        column[h] = (uint32_t)++n_columns; /* LIBLINEAR counts from 1 */
                }
        *ret_column = TAKE_PTR(column);
        *ret_bucket_of = TAKE_PTR(bucket_of);
        *ret_n_columns = n_columns;
        *ret_total = total;
        return 0;
}

/* Smoothed inverse document frequency of every bucket over the n examples xs, as scikit-learn
 * has it: ln((1 + n) / (1 + df)) + 1. A bucket no example has gets 0, not the highest: its
 * weights are 0, and at the highest idf the words the model has never seen (names, addresses,
 * a pasted command line) would dilute the ones it knows (out of fold: 0.875 -> 0.877). */
static int fill_idf(struct classify_model *m, const struct features *const *xs, size_t n)
{
        _cleanup_free_ uint32_t *df = calloc(MODEL_DIMS, sizeof(uint32_t));
        if (!df)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < xs[i]->n; j++)
                        df[xs[i]->idx[j]]++;
        for (uint32_t h = 0; h < MODEL_DIMS; h++)
                row(m, h)[m->n_categories] = model_to_bf16(
                        df[h] ? (float)(log((1.0 + (double)n) / (1.0 + (double)df[h])) + 1.0)
                              : 0.0f);
        return 0;
}

/* The problem's rows, x[i] for xs[i], in space: its nodes by column, a bias node, the end. */
static void fill_rows(const struct classify_model *m, const struct features *const *xs, size_t n,
                      const uint32_t *column, size_t n_columns, struct feature_node *space,
                      struct feature_node **x)
{
        struct feature_node *node = space;

        for (size_t i = 0; i < n; i++) {
                x[i] = node;
                double sc = scale(m, xs[i]);
                for (size_t j = 0; j < xs[i]->n; j++)
                        *node++ = (struct feature_node){(int)column[xs[i]->idx[j]],
                                                        value(m, xs[i], j) * sc};
                /* columns follow bucket order: rows sorted by bucket (train.c's) stay sorted */
                for (size_t j = 1; j < xs[i]->n; j++)
                        if (x[i][j - 1].index > x[i][j].index) {
                                qsort(x[i], xs[i]->n, sizeof(*node), cmp_node);
                                break;
                        }
                *node++ = (struct feature_node){(int)n_columns + 1, 1.0};
                *node++ = (struct feature_node){-1, 0};
        }
}

/* Category k's weights and bias in m, from one run of the solver on prob with k's labels. */
static int train_category(struct classify_model *m, size_t k, const struct problem *prob,
                          const struct parameter *param, const uint64_t *labels,
                          const uint32_t *bucket_of, size_t n_columns)
{
        size_t n = (size_t)prob->l, positives = 0;

        for (size_t i = 0; i < n; i++) {
                bool pos = labels[i] & (UINT64_C(1) << k);
                prob->y[i] = pos ? +1 : -1;
                positives += pos;
        }
        m->n_positives += positives;
        m->threshold[k] = 0.5f;
        m->stack[MODEL_STACK * k] = 1.0f; /* the model alone until model_fit_stack */
        if (positives == 0 || positives == n) {
                m->bias[k] = positives ? 30.0f : -30.0f;
                return 0;
        }
        const char *err = check_parameter(prob, param);
        if (err)
                return -EINVAL;
        /* the dual solver visits examples in a random order from rand(): the same seed before
         * every run makes the model a function of its examples alone (nothing else in govwatchd
         * draws from rand()) */
        srand(1);
        struct model *lm = train(prob, param);
        if (!lm)
                return -ENOMEM;
        /* w is for lm->label[0]; the first example's label decides which that is */
        double sign = lm->label[0] == +1 ? 1.0 : -1.0;
        for (size_t j = 0; j < n_columns; j++)
                row(m, bucket_of[j])[k] = model_to_bf16((float)(sign * lm->w[j]));
        m->bias[k] = (float)(sign * lm->w[n_columns] * prob->bias);
        free_and_destroy_model(&lm);
        return 0;
}

int model_train(char *const *names, size_t n_categories, const struct features *const *xs,
                const uint64_t *labels, size_t n, double C, double positive_weight,
                struct classify_model **ret)
{
        _cleanup_(model_freep) struct classify_model *m = NULL;
        _cleanup_free_ uint32_t *column = NULL, *bucket_of = NULL;
        size_t total, n_columns;
        int r = model_alloc(n_categories, &m);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n_categories; k++)
                if (!(m->names[k] = strdup(names[k])))
                        return -ENOMEM;
        find_any(m);
        if (n == 0 || n > INT32_MAX)
                return -EINVAL;
        r = number_columns(xs, n, &column, &bucket_of, &n_columns, &total);
        if (r < 0)
                return r;

        /* one problem, shared by every category: x rows with a bias node, y swapped per run */
        _cleanup_free_ struct feature_node *space = calloc(total, sizeof(*space));
        _cleanup_free_ struct feature_node **x = calloc(n, sizeof(*x));
        _cleanup_free_ double *y = calloc(n, sizeof(double));
        if (!space || !x || !y)
                return -ENOMEM;
        r = fill_idf(m, xs, n);
        if (r < 0)
                return r;
        fill_rows(m, xs, n, column, n_columns, space, x);
        struct problem prob = {.l = (int)n, .n = (int)n_columns + 1, .y = y, .x = x, .bias = 1.0};
        int weight_label[] = {+1};
        double weight[] = {positive_weight};
        struct parameter param = {
                .solver_type = L2R_L2LOSS_SVC_DUAL,
                .eps = 0.1, /* LIBLINEAR's default for its dual solvers */
                .C = C,
                .nr_weight = 1,
                .weight_label = weight_label,
                .weight = weight,
        };
        set_print_string_function(quiet);
        for (size_t k = 0; k < n_categories; k++) {
                r = train_category(m, k, &prob, &param, labels, bucket_of, n_columns);
                if (r < 0)
                        return r;
        }
        m->n_examples = n;
        *ret = TAKE_PTR(m);
        return 0;
}

/* One fit of stack[] for category k; against, any false: without the min(rules, 0) input, the
 * MODEL_ANY input. */
static int fit_stack(float *st, const double *logit, const double *rules, const double *logit_any,
                     const bool *gold, size_t n, bool against, bool any)
{
        _cleanup_free_ struct feature_node *space = calloc(6 * n, sizeof(*space));
        _cleanup_free_ struct feature_node **x = calloc(n, sizeof(*x));
        _cleanup_free_ double *y = calloc(n, sizeof(double));
        if (!space || !x || !y)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                double r = clamp_rules(rules[i]);
                x[i] = &space[6 * i];
                x[i][0] = (struct feature_node){1, logit[i]};
                x[i][1] = (struct feature_node){2, r};
                x[i][2] = (struct feature_node){3, against && r < 0 ? r : 0};
                x[i][3] = (struct feature_node){4, any && logit_any ? logit_any[i] : 0};
                x[i][4] = (struct feature_node){5, 1.0};
                x[i][5] = (struct feature_node){-1, 0};
                y[i] = gold[i] ? +1 : -1;
        }
        struct problem prob = {.l = (int)n, .n = 5, .y = y, .x = x, .bias = 1.0};
        struct parameter param = {.solver_type = L2R_LR, .eps = 0.001, .C = 10.0};
        set_print_string_function(quiet);
        if (check_parameter(&prob, &param))
                return -EINVAL;
        struct model *lm = train(&prob, &param);
        if (!lm)
                return -ENOMEM;
        double sign = lm->label[0] == +1 ? 1.0 : -1.0;
        for (size_t j = 0; j < MODEL_STACK; j++)
                st[j] = (float)(sign * lm->w[j]);
        free_and_destroy_model(&lm);
        return 0;
}

int model_fit_stack(struct classify_model *m, size_t k, const double *logit, const double *rules,
                    const double *logit_any, const bool *gold, size_t n)
{
        size_t positives = 0;
        for (size_t i = 0; i < n; i++)
                positives += gold[i];
        float *st = &m->stack[MODEL_STACK * k];
        if (positives == 0 || positives == n) {
                /* nothing to learn: the model alone, as trained */
                memset(st, 0, MODEL_STACK * sizeof(float));
                st[0] = 1;
                return 0;
        }
        /* Monotone, as evidence should be: the rules' evidence for a category never lowers its
         * probability, evidence against never raises it. A fit that says otherwise has learned
         * the labellers' noise; fit again without that input. */
        bool against = true, any = logit_any != NULL;
        int r = fit_stack(st, logit, rules, logit_any, gold, n, against, any);
        while (r >= 0 && ((against && st[2] < 0) || (any && st[3] < 0))) {
                against = against && st[2] >= 0;
                any = any && st[3] >= 0;
                r = fit_stack(st, logit, rules, logit_any, gold, n, against, any);
        }
        if (r >= 0 && st[1] < 0)
                st[1] = 0;
        return r;
}

/* ---- files ---- */

struct model_header {
        char magic[8];
        uint32_t feature_version;
        uint32_t hash_bits;
        uint64_t key;
        uint32_t n_categories;
        uint32_t names_size; /* NUL-terminated names, back to back */
        uint64_t n_examples;
        uint64_t n_positives;
};

int model_save(const struct classify_model *m, const char *path)
{
        struct model_header h = {
                .feature_version = m->feature_version,
                .hash_bits = m->hash_bits,
                .key = m->key,
                .n_categories = (uint32_t)m->n_categories,
                .n_examples = m->n_examples,
                .n_positives = m->n_positives,
        };
        memcpy(h.magic, MODEL_MAGIC, sizeof(h.magic));
        for (size_t k = 0; k < m->n_categories; k++)
                h.names_size += (uint32_t)strlen(m->names[k]) + 1;

        struct strbuf tmp = {0};
        if (strbuf_appendf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
                return -ENOMEM;
        int r = 0;
        FILE *f = fopen(tmp.buf, "we");
        if (!f) {
                r = -errno;
                goto out;
        }
        fwrite(&h, sizeof(h), 1, f);
        for (size_t k = 0; k < m->n_categories; k++)
                fwrite(m->names[k], strlen(m->names[k]) + 1, 1, f);
        fwrite(m->bias, sizeof(float), m->n_categories, f);
        fwrite(m->threshold, sizeof(float), m->n_categories, f);
        fwrite(m->stack, sizeof(float), MODEL_STACK * m->n_categories, f);
        fwrite(m->w, sizeof(uint16_t), (size_t)MODEL_DIMS * (m->n_categories + 1), f);
        if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0)
                r = -(errno ? errno : EIO);
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp.buf, path) < 0)
                r = -errno;
        if (r < 0)
                (void)unlink(tmp.buf);
out:
        strbuf_done(&tmp);
        return r;
}

static int load_error(char **ret_error, const char *path, const char *what)
{
        if (ret_error) {
                free(*ret_error);
                if (asprintf(ret_error, "%s: %s", path, what) < 0)
                        *ret_error = NULL;
        }
        return -EBADMSG;
}

/* The header of the model file f, checked: what it says must fit the file's size. */
static int read_header(FILE *f, const char *path, struct model_header *ret, char **ret_error)
{
        struct model_header h;
        struct stat st;

        if (fstat(fileno(f), &st) < 0 || fread(&h, sizeof(h), 1, f) != 1)
                return load_error(ret_error, path, "not a govwatch model (too short)");
        if (memcmp(h.magic, MODEL_MAGIC, sizeof(h.magic)) != 0)
                return load_error(ret_error, path, "not a govwatch model");
        if (h.feature_version != MODEL_FEATURE_VERSION || h.hash_bits != MODEL_HASH_BITS) {
                load_error(ret_error, path, "a model of another version of govwatch");
                return -ESTALE;
        }
        if (h.n_categories == 0 || h.n_categories > MODEL_MAX_CATEGORIES || h.names_size > 65536 ||
            (uint64_t)st.st_size !=
                    sizeof(h) + h.names_size + 2 * h.n_categories * sizeof(float) +
                            MODEL_STACK * h.n_categories * sizeof(float) +
                            (uint64_t)MODEL_DIMS * (h.n_categories + 1) * sizeof(uint16_t))
                return load_error(ret_error, path, "truncated or corrupt model");
        *ret = h;
        return 0;
}

/* m's category names from names (size bytes and a NUL): non-empty, NUL-terminated, back to back.
 * *ret_left: the bytes after the last one, which a sound file does not have. */
static int read_names(struct classify_model *m, const char *names, size_t size, const char *path,
                      char **ret_error, size_t *ret_left)
{
        const char *p = names, *end = names + size;

        for (size_t k = 0; k < m->n_categories; k++) {
                const char *nul = memchr(p, '\0', (size_t)(end - p));
                if (!nul || nul == p)
                        return load_error(ret_error, path, "corrupt category names");
                if (!(m->names[k] = strdup(p)))
                        return -ENOMEM;
                p = nul + 1;
        }
        *ret_left = (size_t)(end - p);
        return 0;
}

/* Whether the biases, thresholds, stacking weights and idf are sane; the hashed weights are
 * not checked. */
static bool values_valid(const struct classify_model *m)
{
        bool finite = true;

        for (uint32_t h = 0; h < MODEL_DIMS; h++)
                finite = finite && isfinite(model_idf(m, h)) && model_idf(m, h) >= 0;

        for (size_t k = 0; k < m->n_categories; k++)
                finite = finite && isfinite(m->bias[k]) && m->threshold[k] > 0 &&
                         m->threshold[k] <= 1;
        for (size_t j = 0; j < MODEL_STACK * m->n_categories; j++)
                finite = finite && isfinite(m->stack[j]);
        return finite;
}

/* Read straight into the model's arrays: a whole-file buffer beside them would double the
 * classifier's peak memory for nothing. */
int model_load(const char *path, struct classify_model **ret, char **ret_error)
{
        _cleanup_(model_freep) struct classify_model *m = NULL;
        _cleanup_free_ char *names = NULL;
        struct model_header h;
        size_t left;
        int r;

        FILE *f = fopen(path, "re");
        if (!f) {
                r = -errno;
                if (ret_error && asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = read_header(f, path, &h, ret_error);
        if (r < 0)
                goto out;
        r = model_alloc(h.n_categories, &m);
        names = malloc(h.names_size + 1);
        if (r < 0 || !names) {
                r = r < 0 ? r : -ENOMEM;
                goto out;
        }
        m->key = h.key;
        m->n_examples = h.n_examples;
        m->n_positives = h.n_positives;
        if (fread(names, 1, h.names_size, f) != h.names_size ||
            fread(m->bias, sizeof(float), h.n_categories, f) != h.n_categories ||
            fread(m->threshold, sizeof(float), h.n_categories, f) != h.n_categories ||
            fread(m->stack, sizeof(float), MODEL_STACK * h.n_categories, f) !=
                    MODEL_STACK * h.n_categories ||
            fread(m->w, sizeof(uint16_t), (size_t)MODEL_DIMS * (h.n_categories + 1), f) !=
                    (size_t)MODEL_DIMS * (h.n_categories + 1)) {
                r = load_error(ret_error, path, "truncated model");
                goto out;
        }
        names[h.names_size] = '\0';
        r = read_names(m, names, h.names_size, path, ret_error, &left);
        if (r < 0)
                goto out;
        find_any(m);
        if (left > 0 || !values_valid(m)) {
                r = load_error(ret_error, path, "corrupt model values");
                goto out;
        }
        *ret = TAKE_PTR(m);
        r = 0;
out:
        fclose(f);
        return r;
}
