/* classify.c — Russian post classifier: post -> categories (+ planned start of a broadcast).
 *
 * Reads a post the way a resident does: its own text, the reposted post (copy_history[0]) and the
 * titles of attachments, normalised and stemmed (normalize.c). Rules are data (rules.c,
 * data/rules.yaml): every rule that matches adds its weight to its category once; a category is
 * assigned when its score reaches its threshold and no veto matched. Live posts get a start time
 * from the video's live_start_time or the text (timeparse.c).
 * Pure after classifier_new(): no I/O, no logging; scratch buffers are reused between posts, so a
 * classifier must not be shared between threads.
 */
#define _GNU_SOURCE           1 /* vasprintf */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <inttypes.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "classify.h"
#include "corpus.h"
#include "model.h"
#include "notification.h"
#include "rules.h"
#include "timeparse.h"

const char *const category_builtin_names[_CATEGORY_BUILTIN_MAX] = {
        [CATEGORY_LIVE] = "live",           [CATEGORY_SERVICE] = "service",
        [CATEGORY_SCHEDULE] = "schedule",   [CATEGORY_OUTAGE] = "outage",
        [CATEGORY_EMERGENCY] = "emergency", [CATEGORY_CIVIC] = "civic",
};

#define MAX_TIMES 16

/* What the regexes read: the post's and its repost's text and attachments' titles, as far as the
 * reading budget goes (CLASSIFY_TEXT_MAX). */
struct subject {
        const char *text;
        size_t len;
};

/* A regex's item that can do more work than its callout shows (regex_item_weight()). */
struct regex_weight {
        size_t position; /* in the pattern */
        uint32_t weight;
};

struct hit {
        uint32_t first, last; /* tokens of the first match; UINT32_MAX for signals/regexes */
};

struct scratch {
        struct normalizer *nz;
        struct tokens t;
        uint32_t *atoms; /* atoms of all tokens */
        size_t n_atoms, allocated_atoms;
        uint32_t *atom_off; /* token i's atoms: atoms[atom_off[i] .. atom_off[i+1]) */
        size_t allocated_atom_off;
        uint32_t *words_before; /* token i: how many tokens before it are not punctuation */
        size_t allocated_words_before;
        uint32_t *reach[2], *reach_origin[2]; /* match_phrase(): an item's positions, where from */
        size_t allocated_reach[4];
        uint32_t *phrase_stamp; /* per phrase: == stamp when the post holds its first word */
        uint32_t *phrase_count; /* per such phrase: its start positions, then where they go */
        uint32_t stamp;
        size_t phrase_steps; /* words match_phrase() looked at for this post */
        uint32_t *cand;      /* those phrases */
        size_t allocated_cand;
        uint32_t *starts; /* their start positions, phrase after phrase */
        size_t allocated_starts;
        struct subject *subjects; /* what read_post() read for the regexes */
        size_t n_subjects, allocated_subjects;
        bool *hit;         /* per rule */
        struct hit *where; /* per rule */
        uint32_t *hits;    /* rules hit, in order */
        size_t n_hits;
        pcre2_match_data *md;
        pcre2_match_context *mctx; /* CLASSIFY_REGEX_MATCH_LIMIT, regex_callout() */
        uint64_t regex_steps;      /* spent of CLASSIFY_REGEX_STEPS by this post's regexes */
        size_t regex_pos;          /* where the last callout saw the match */
        const struct regex_weight *weights; /* the running regex's weighty items */
        size_t n_weights;
        struct time_match times[MAX_TIMES];
        size_t n_times;
        uint32_t signals;
        struct features f;
        double probability[CATEGORY_MAX];       /* rules and model combined; -1: no model */
        double model_probability[CATEGORY_MAX]; /* the model's own, for --explain */
        bool rules_only;                        /* classifier_read_features: the rules' verdict */
        uint64_t rules_mask, veto_mask, sure_mask;
};

struct classifier {
        struct ruleset *rs;
        struct tz *tz;
        struct scratch *s;                  /* mutable scratch behind a const classifier */
        struct regex_weight *regex_weights; /* of all regexes, rule after rule */
        size_t n_regex_weights, allocated_regex_weights;
        uint32_t *first_weight; /* per rule + 1: where its regex_weights start */
        struct classify_model *model;
        int8_t model_index[CATEGORY_MAX]; /* category -> the model's category, -1: none */
        bool model_cached;                /* trained from examples earlier, loaded from the cache */
        int model_cache_error;            /* saving the trained model to the cache failed: -errno */
};

int category_builtin_from_name(const char *name)
{
        for (size_t i = 0; i < _CATEGORY_BUILTIN_MAX; i++)
                if (streq(category_builtin_names[i], name))
                        return (int)i;
        return -ENOENT;
}

static bool file_readable(const char *path)
{
        return access(path, R_OK) == 0;
}

/* The first readable of: $env, ../share/govwatch/NAME next to the executable, the executable's own
 * directory (a build tree) when in_build_tree, GOVWATCH_PKGDATADIR/NAME, the source tree's
 * source_path. */
static int default_data_path(const char *env_name, const char *name, bool in_build_tree,
                             const char *source_path, char **ret)
{
        const char *env = getenv(env_name);
        struct strbuf sb = {0};

        if (env && env[0])
                return (*ret = strdup(env)) ? 0 : -ENOMEM;

        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
        if (slash) {
                *slash = '\0';
                if (strbuf_appendf(&sb, "%s/../share/govwatch/%s", exe, name) < 0)
                        return -ENOMEM;
                if (file_readable(sb.buf))
                        goto found;
                sb.len = 0;
                if (in_build_tree) {
                        if (strbuf_appendf(&sb, "%s/%s", exe, name) < 0)
                                return -ENOMEM;
                        if (file_readable(sb.buf))
                                goto found;
                        sb.len = 0;
                }
        }
#ifdef GOVWATCH_PKGDATADIR
        if (strbuf_appendf(&sb, "%s/%s", GOVWATCH_PKGDATADIR, name) < 0)
                return -ENOMEM;
        if (file_readable(sb.buf))
                goto found;
        sb.len = 0;
#endif
#ifdef GOVWATCH_SOURCE_DIR
        if (source_path) {
                if (strbuf_appendf(&sb, "%s/%s", GOVWATCH_SOURCE_DIR, source_path) < 0)
                        return -ENOMEM;
                if (file_readable(sb.buf))
                        goto found;
        }
#endif
        strbuf_done(&sb);
        return -ENOENT;
found:
        *ret = sb.buf;
        return 0;
}

int classifier_default_rules_path(char **ret)
{
        return default_data_path("GOVWATCH_RULES", "rules.yaml", false, "data/rules.yaml", ret);
}

int classifier_default_model_path(char **ret)
{
        return default_data_path("GOVWATCH_MODEL", "model.bin", true, NULL, ret);
}

int classifier_default_corpus_path(char **ret)
{
        return default_data_path("GOVWATCH_CORPUS", "corpus.jsonl", false,
                                 "data/corpus/posts.jsonl", ret);
}

static _printf_(2, 3) void set_error(char **ret_error, const char *fmt, ...)
{
        if (!ret_error)
                return;
        va_list ap;
        va_start(ap, fmt);
        free(*ret_error);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
}

static int add_user_category(struct ruleset *rs, const struct classify_user_category *u,
                             char **ret_error)
{
        char origin[256];
        int r, c = ruleset_category(rs, u->name, true);
        if (c == -E2BIG) {
                set_error(ret_error, "classifier: more than %d categories", CATEGORY_MAX);
                return -EINVAL;
        }
        if (c < 0)
                return c;
        double weight = rs->thresholds[c]; /* one user phrase is enough on its own */
        size_t first_rule = rs->n_rules;
        for (size_t i = 0; u->phrases && u->phrases[i]; i++) {
                snprintf(origin, sizeof(origin), "config: category %s, phrase %zu", u->name, i + 1);
                r = ruleset_add_phrase(rs, c, u->phrases[i], weight, false, true, origin,
                                       ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; u->regexes && u->regexes[i]; i++) {
                snprintf(origin, sizeof(origin), "config: category %s, regex %zu", u->name, i + 1);
                r = ruleset_add_regex(rs, c, u->regexes[i], weight, origin, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; u->exclude && u->exclude[i]; i++) {
                snprintf(origin, sizeof(origin), "config: category %s, exclude %zu", u->name,
                         i + 1);
                r = ruleset_add_phrase(rs, c, u->exclude[i], 0, true, false, origin, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = first_rule; i < rs->n_rules; i++) {
                rs->rules[i].from_config = true;
                rs->rules[i].sure = !rs->rules[i].veto; /* the admin's word is final */
        }
        return 0;
}

static void attach_model(struct classifier *c, struct classify_model *m)
{
        for (size_t k = 0; k < CATEGORY_MAX; k++) {
                c->model_index[k] = -1;
                for (size_t j = 0; m && k < c->rs->n_categories && j < m->n_categories; j++)
                        if (streq(m->names[j], c->rs->category_names[k]))
                                c->model_index[k] = (int8_t)j;
        }
        model_free(c->model);
        c->model = m;
}

static int model_from_file(struct classifier *c, const struct classify_options *opts,
                           char **ret_error)
{
        _cleanup_free_ char *path = NULL;
        int r;
        if (opts->model_file) {
                if (!(path = strdup(opts->model_file)))
                        return -ENOMEM;
        } else if ((r = classifier_default_model_path(&path)) < 0)
                return r == -ENOENT ? 0 : r; /* no model anywhere: the rules decide alone */
        struct classify_model *m = NULL;
        r = model_load(path, &m, ret_error);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        attach_model(c, m);
        return 0;
}

/* What a model trained here depends on besides the examples: the features and every rule (the
 * thresholds are chosen for the rules and the model together). */
uint64_t classifier_training_key(const struct classifier *c, uint64_t corpus_key)
{
        const struct ruleset *rs = c->rs;
        uint64_t key = corpus_key;
        uint32_t version = MODEL_FEATURE_VERSION;
        key = model_key(key, &version, sizeof(version));
        for (size_t k = 0; k < rs->n_categories; k++) {
                key = model_key(key, rs->category_names[k], strlen(rs->category_names[k]) + 1);
                key = model_key(key, &rs->thresholds[k], sizeof(double));
                key = model_key(key, &rs->miss_costs[k], sizeof(double));
        }
        for (size_t i = 0; i < rs->n_rules; i++) {
                const struct rule *rule = &rs->rules[i];
                key = model_key(key, rule->source, strlen(rule->source) + 1);
                key = model_key(key, &rule->category, sizeof(rule->category));
                key = model_key(key, &rule->weight, sizeof(rule->weight));
                key = model_key(key, &rule->veto, sizeof(rule->veto));
                key = model_key(key, &rule->sure, sizeof(rule->sure));
        }
        return key;
}

static int model_from_examples(struct classifier *c, const struct classify_options *opts,
                               char **ret_error)
{
        _cleanup_free_ char *corpus_path = NULL, *cache = NULL;
        _cleanup_(corpus_done) struct corpus corpus = {0};
        struct classify_model *m = NULL;
        int r;

        if (opts->corpus_file) {
                if (!(corpus_path = strdup(opts->corpus_file)))
                        return -ENOMEM;
        } else if ((r = classifier_default_corpus_path(&corpus_path)) < 0) {
                set_error(ret_error, "the shipped corpus (corpus.jsonl) to train on is not found");
                return r;
        }
        r = classifier_read_training_set(c, corpus_path, opts->example_files, &corpus, ret_error);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;
        uint64_t key = classifier_training_key(c, corpus.key);

        if (opts->cache_dir) {
                if (asprintf(&cache, "%s/model.bin", opts->cache_dir) < 0)
                        return -ENOMEM;
                if (model_load(cache, &m, NULL) >= 0 && m->key == key) {
                        c->model_cached = true;
                        attach_model(c, m);
                        return 0;
                }
                m = model_free(m);
        }
        r = classifier_train(c, &corpus, NULL, &m);
        if (r < 0) {
                set_error(ret_error, "training on the examples failed: %s", strerror(-r));
                return r;
        }
        if (cache)
                c->model_cache_error = model_save(m, cache);
        attach_model(c, m);
        return 0;
}

static struct scratch *scratch_free(struct scratch *s)
{
        if (!s)
                return NULL;
        normalizer_free(s->nz);
        tokens_done(&s->t);
        free(s->atoms);
        free(s->atom_off);
        free(s->words_before);
        for (size_t i = 0; i < 2; i++) {
                free(s->reach[i]);
                free(s->reach_origin[i]);
        }
        free(s->phrase_stamp);
        free(s->phrase_count);
        free(s->cand);
        free(s->starts);
        free(s->subjects);
        free(s->hit);
        free(s->where);
        free(s->hits);
        if (s->md)
                pcre2_match_data_free(s->md);
        if (s->mctx)
                pcre2_match_context_free(s->mctx);
        features_done(&s->f);
        free(s);
        return NULL;
}

struct classifier *classifier_free(struct classifier *c)
{
        if (!c)
                return NULL;
        ruleset_free(c->rs);
        free(c->regex_weights);
        free(c->first_weight);
        model_free(c->model);
        tz_free(c->tz);
        scratch_free(c->s);
        free(c);
        return NULL;
}

static void classifier_freep(struct classifier **c)
{
        *c = classifier_free(*c);
}

/* ---- the regexes' work budget (classify.h, CLASSIFY_REGEX_STEPS) ----
 *
 * The regexes are compiled with PCRE2_AUTO_CALLOUT (rules.c), so PCRE2 calls regex_callout()
 * before each item of a pattern it tries, in the JIT too. Each call is charged 1, plus how far the
 * match moved in the subject since the last call (an item that scans, or a backtrack that jumps,
 * shows there), plus the item's weight: the most it can scan and then fail before the next call.
 * All regexes over all subjects of one post share the budget; once it is spent the running match
 * is abandoned (PCRE2_ERROR_CALLOUT: no match) and no later regex of the post is tried. It counts
 * work, not time, so a post classifies the same way on any machine. */

/* An item that can do unseen work: a counted repeat ("\\D{4000}", "x{500,}") scans up to its
 * minimum and may fail inside the one item; a back-reference compares up to a whole subject.
 * Group repeats ("(?:ab){300}") call out inside every pass and cost nothing extra. */
static uint32_t regex_item_weight(const char *item, size_t len)
{
        if (len == 0 || item[0] == ')')
                return 0;
        if (len >= 2 && item[0] == '\\' &&
            ((item[1] >= '1' && item[1] <= '9') || item[1] == 'g' || item[1] == 'k'))
                return CLASSIFY_TEXT_MAX;
        if (len >= 4 && strncmp(item, "(?P=", 4) == 0)
                return CLASSIFY_TEXT_MAX;
        /* the item's own quantifier: "{n}", "{n,}" or "{n,m}" at its end */
        const char *brace = memrchr(item, '{', len);
        if (!brace || brace == item || brace[-1] == '\\')
                return 0;
        uint32_t n = 0;
        const char *q = brace + 1;
        while (q < item + len && *q >= '0' && *q <= '9' && n < CLASSIFY_TEXT_MAX)
                n = n * 10 + (uint32_t)(*q++ - '0');
        if (q == brace + 1 || q == item + len || (*q != '}' && *q != ','))
                return 0;
        return n < CLASSIFY_TEXT_MAX ? n : CLASSIFY_TEXT_MAX;
}

struct regex_weights_state {
        struct classifier *c;
        const char *pattern;
        int r;
};

static int regex_weight_add(pcre2_callout_enumerate_block *b, void *userdata)
{
        struct regex_weights_state *st = userdata;
        struct classifier *c = st->c;
        uint32_t w = regex_item_weight(st->pattern + b->pattern_position, b->next_item_length);
        if (w <= 1)
                return 0;
        if (!greedy_realloc((void **)&c->regex_weights, &c->allocated_regex_weights,
                            c->n_regex_weights + 1, sizeof(struct regex_weight))) {
                st->r = -ENOMEM;
                return 1; /* stop */
        }
        c->regex_weights[c->n_regex_weights++] =
                (struct regex_weight){.position = b->pattern_position, .weight = w};
        return 0;
}

/* Each regex's weighty items, as regex_weights[first_weight[rule] .. first_weight[rule + 1]). */
static int regex_weights_init(struct classifier *c)
{
        size_t n_rules = c->rs->n_rules;
        c->first_weight = calloc(n_rules + 1, sizeof(uint32_t));
        if (!c->first_weight)
                return -ENOMEM;
        for (size_t i = 0; i < n_rules; i++) {
                const struct rule *rule = &c->rs->rules[i];
                c->first_weight[i] = (uint32_t)c->n_regex_weights;
                if (rule->kind != RULE_REGEX)
                        continue;
                struct regex_weights_state st = {.c = c, .pattern = rule->source};
                (void)pcre2_callout_enumerate(rule->regex, regex_weight_add, &st);
                if (st.r < 0)
                        return st.r;
        }
        c->first_weight[n_rules] = (uint32_t)c->n_regex_weights;
        return 0;
}

static int regex_callout(pcre2_callout_block *cb, void *userdata)
{
        struct scratch *s = userdata;
        size_t pos = cb->current_position;
        uint64_t cost = 1 + (pos > s->regex_pos ? pos - s->regex_pos : s->regex_pos - pos);
        for (size_t i = 0; i < s->n_weights; i++)
                if (s->weights[i].position == cb->pattern_position)
                        cost += s->weights[i].weight;
        s->regex_pos = pos;
        s->regex_steps += cost;
        return s->regex_steps > CLASSIFY_REGEX_STEPS ? PCRE2_ERROR_CALLOUT : 0;
}

/* The rules: opts' file or the installed one, with the admin's own categories added. */
static int load_rules(struct classifier *c, const struct classify_options *opts, char **ret_error)
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (opts->rules_file) {
                path = strdup(opts->rules_file);
                if (!path)
                        return -ENOMEM;
        } else {
                r = classifier_default_rules_path(&path);
                if (r < 0) {
                        set_error(ret_error, "default rules file (rules.yaml) not found");
                        return r;
                }
        }
        r = ruleset_new(&c->rs);
        if (r < 0)
                return r;
        r = ruleset_load_file(c->rs, path, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < opts->n_user; i++) {
                r = add_user_category(c->rs, &opts->user[i], ret_error);
                if (r < 0)
                        return r;
        }
        return ruleset_finish(c->rs);
}

/* What classifying a post writes to, sized for the rules once, so that a post allocates little. */
static int scratch_init(struct classifier *c)
{
        size_t n_rules = c->rs->n_rules;
        int r;

        c->s->hit = calloc(n_rules + 1, sizeof(bool));
        c->s->where = calloc(n_rules + 1, sizeof(struct hit));
        c->s->hits = calloc(n_rules + 1, sizeof(uint32_t));
        c->s->phrase_stamp = calloc(c->rs->n_phrases + 1, sizeof(uint32_t));
        c->s->phrase_count = calloc(c->rs->n_phrases + 1, sizeof(uint32_t));
        if (!c->s->hit || !c->s->where || !c->s->hits || !c->s->phrase_stamp || !c->s->phrase_count)
                return -ENOMEM;
        if (c->rs->has_regex) {
                c->s->md = pcre2_match_data_create(1, NULL);
                c->s->mctx = pcre2_match_context_create(NULL);
                if (!c->s->md || !c->s->mctx)
                        return -ENOMEM;
                pcre2_set_match_limit(c->s->mctx, CLASSIFY_REGEX_MATCH_LIMIT);
                pcre2_set_callout(c->s->mctx, regex_callout, c->s);
                r = regex_weights_init(c);
                if (r < 0)
                        return r;
        }
        return features_init(&c->s->f, false);
}

int classifier_new(const struct classify_options *opts, struct classifier **ret, char **ret_error)
{
        static const struct classify_options no_options = {0};
        _cleanup_(classifier_freep) struct classifier *c = NULL;
        int r;

        if (!opts)
                opts = &no_options;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->s = calloc(1, sizeof(*c->s));
        if (!c->s)
                return -ENOMEM;
        r = normalizer_new(true, &c->s->nz);
        if (r < 0)
                return r;

        r = tz_load(opts->timezone, &c->tz);
        if (r < 0) {
                set_error(ret_error, "unknown time zone \"%s\"",
                          opts->timezone ? opts->timezone : TIMEZONE_DEFAULT);
                return -EINVAL;
        }
        r = load_rules(c, opts, ret_error);
        if (r < 0)
                return r;
        r = scratch_init(c);
        if (r < 0)
                return r;
        if (!opts->no_model) {
                r = opts->example_files && opts->example_files[0]
                            ? model_from_examples(c, opts, ret_error)
                            : model_from_file(c, opts, ret_error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

size_t classifier_n_categories(const struct classifier *c)
{
        return c->rs->n_categories;
}

char *const *classifier_category_names(const struct classifier *c)
{
        return c->rs->category_names;
}

int classifier_read_corpus(const struct classifier *c, struct corpus *co, const char *path,
                           bool split_by_hash, char **ret_error)
{
        return corpus_read(co, path, c->rs->category_names, c->rs->n_categories, split_by_hash,
                           ret_error);
}

int classifier_read_training_set(const struct classifier *c, const char *corpus_path,
                                 char *const *example_files, struct corpus *co, char **ret_error)
{
        int r = classifier_read_corpus(c, co, corpus_path, true, ret_error);
        for (size_t i = 0; r >= 0 && example_files && example_files[i]; i++)
                r = classifier_read_corpus(c, co, example_files[i], false, ret_error);
        return r;
}

const char *classifier_category_name(const struct classifier *c, unsigned idx)
{
        return idx < c->rs->n_categories ? c->rs->category_names[idx] : NULL;
}

double classifier_category_miss_cost(const struct classifier *c, unsigned idx)
{
        return idx < c->rs->n_categories ? c->rs->miss_costs[idx] : 1.0;
}

int classifier_category_index(const struct classifier *c, const char *name)
{
        return ruleset_category(c->rs, name, false);
}

/* ---- reading a post ---- */

/* The length of text within *budget bytes, cut at a character boundary, taken from *budget. */
static size_t budget_take(const char *text, size_t *budget)
{
        size_t len = strnlen(text, *budget + 1);
        if (len > *budget) {
                len = *budget;
                while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
                        len--;
        }
        *budget -= len;
        return len;
}

/* Reads up to *budget bytes of text; for_regexes: the regexes read the same bytes. */
static int add_text(struct scratch *s, const char *text, size_t *budget, bool for_regexes)
{
        if (!text || !text[0])
                return 0;
        size_t len = budget_take(text, budget);
        if (len == 0)
                return 0;
        if (for_regexes) {
                if (!greedy_realloc((void **)&s->subjects, &s->allocated_subjects,
                                    s->n_subjects + 1, sizeof(struct subject)))
                        return -ENOMEM;
                s->subjects[s->n_subjects++] = (struct subject){text, len};
        }
        return normalizer_add(s->nz, text, len, &s->t);
}

static void attachment_signals(const struct post *p, uint32_t *signals)
{
        for (size_t i = 0; i < p->n_attachments; i++) {
                const struct attachment *a = &p->attachments[i];
                switch (a->kind) {
                case ATTACHMENT_VIDEO: {
                        bool ended = a->live_status && (streq(a->live_status, "finished") ||
                                                        streq(a->live_status, "failed"));
                        bool upcoming = a->upcoming || streq_ptr(a->live_status, "upcoming") ||
                                        (a->live_start_time > p->date && !a->live_status);
                        if ((a->live || a->upcoming) && ended)
                                *signals |= 1u << SIGNAL_VIDEO_FINISHED;
                        else if (upcoming && (a->live || a->upcoming))
                                *signals |= 1u << SIGNAL_VIDEO_UPCOMING;
                        else if (a->live)
                                *signals |= 1u << SIGNAL_VIDEO_LIVE;
                        else
                                *signals |= 1u << SIGNAL_VIDEO;
                        break;
                }
                case ATTACHMENT_POLL:
                        if (a->poll_closed || (a->poll_end_date > 0 && a->poll_end_date < p->date))
                                *signals |= 1u << SIGNAL_POLL_CLOSED;
                        else
                                *signals |= 1u << SIGNAL_POLL_OPEN;
                        break;
                case ATTACHMENT_PHOTO:
                        *signals |= 1u << SIGNAL_PHOTO;
                        break;
                default:
                        break;
                }
        }
}

static int read_post(struct scratch *s, const struct post *p)
{
        int r;
        const struct post *parts[2] = {p, p->repost};

        tokens_reset(&s->t);
        s->signals = 0;
        s->n_subjects = 0;
        for (size_t k = 0; k < ELEMENTSOF(parts); k++) {
                const struct post *q = parts[k];
                size_t text_budget = CLASSIFY_TEXT_MAX, attachments_budget = CLASSIFY_TEXT_MAX;
                if (!q)
                        continue;
                if ((r = add_text(s, q->text, &text_budget, true)) < 0)
                        return r;
                for (size_t i = 0; i < q->n_attachments; i++) {
                        if ((r = add_text(s, q->attachments[i].title, &attachments_budget, true)) <
                                    0 ||
                            (r = add_text(s, q->attachments[i].description, &attachments_budget,
                                          false)) < 0)
                                return r;
                }
                attachment_signals(q, &s->signals);
        }
        if (p->repost)
                s->signals |= 1u << SIGNAL_REPOST;
        return 0;
}

static int index_atoms(const struct ruleset *rs, struct scratch *s)
{
        const struct tokens *t = &s->t;
        if (!greedy_realloc((void **)&s->atom_off, &s->allocated_atom_off, t->n + 1,
                            sizeof(uint32_t)))
                return -ENOMEM;
        s->n_atoms = 0;
        for (size_t i = 0; i < t->n; i++) {
                s->atom_off[i] = (uint32_t)s->n_atoms;
                int r = ruleset_token_atoms(rs, t, &t->v[i], &s->atoms, &s->n_atoms,
                                            &s->allocated_atoms);
                if (r < 0)
                        return r;
        }
        s->atom_off[t->n] = (uint32_t)s->n_atoms;

        if (!greedy_realloc((void **)&s->words_before, &s->allocated_words_before, t->n + 1,
                            sizeof(uint32_t)))
                return -ENOMEM;
        size_t words = 0;
        for (size_t i = 0; i < t->n; i++) {
                s->words_before[i] = (uint32_t)words;
                words += t->v[i].kind != TOKEN_PUNCT;
        }
        s->words_before[t->n] = (uint32_t)words;
        for (size_t i = 0; i < 2; i++)
                if (!greedy_realloc((void **)&s->reach[i], &s->allocated_reach[i], t->n + 1,
                                    sizeof(uint32_t)) ||
                    !greedy_realloc((void **)&s->reach_origin[i], &s->allocated_reach[2 + i],
                                    t->n + 1, sizeof(uint32_t)))
                        return -ENOMEM;
        return 0;
}

static bool token_has_item(const struct ruleset *rs, const struct scratch *s, size_t tok,
                           const struct rule_item *item)
{
        /* an item's atoms are sorted (ruleset_finish()): a word class of a thousand words costs
         * ten comparisons a token, not a thousand */
        const uint32_t *v = rs->item_atoms + item->first_atom;
        for (uint32_t a = s->atom_off[tok]; a < s->atom_off[tok + 1]; a++) {
                size_t lo = 0, hi = item->n_atoms;
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (v[mid] < s->atoms[a])
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                if (lo < item->n_atoms && v[lo] == s->atoms[a])
                        return true;
        }
        return false;
}

static bool negation_blocks(const struct rule_phrase *ph, const struct rule_item *item,
                            const struct token *k)
{
        return ph->unless_negated && (k->flags & TOKEN_NEGATED) && !item->allow_negated;
}

static void hit_rule(struct scratch *s, uint32_t rule, uint32_t first, uint32_t last)
{
        if (s->hit[rule])
                return;
        s->hit[rule] = true;
        s->where[rule] = (struct hit){first, last};
        s->hits[s->n_hits++] = rule;
}

/* Matches phrase ph whose first item is at the ascending positions starts[0..n_starts), item
 * after item: the positions an item can be at are those where its word is, in the sentence of a
 * position of the item before, with at most the item's gap of words between them. Of the
 * positions before, the last one leaves the fewest words between, so each level is one forward
 * scan over the tokens: O(items x tokens) a phrase, where trying each way to place each item
 * ("a ~20 a ~20 a ~20 b" in a text of a's) took 21^items. *ret_first, *ret_last: the match that
 * ends first. */
static bool match_phrase(const struct ruleset *rs, struct scratch *s, const struct rule_phrase *ph,
                         const uint32_t *starts, size_t n_starts, uint32_t *ret_first,
                         uint32_t *ret_last)
{
        const struct tokens *t = &s->t;
        uint32_t *at = s->reach[0], *from = s->reach_origin[0];
        uint32_t *next_at = s->reach[1], *next_from = s->reach_origin[1];
        const struct rule_item *item = &rs->items[ph->first_item];
        size_t n = 0;

        for (size_t i = 0; i < n_starts; i++)
                if (!negation_blocks(ph, item, &t->v[starts[i]])) {
                        at[n] = from[n] = starts[i];
                        n++;
                }
        for (uint32_t k = 1; k < ph->n_items && n > 0; k++) {
                item = &rs->items[ph->first_item + k];
                size_t n_next = 0;
                for (size_t a = 0; a < n; a++) {
                        /* up to the next position of the item before, which takes over there */
                        uint32_t p = at[a], stop = a + 1 < n ? at[a + 1] : (uint32_t)t->n - 1;
                        for (uint32_t j = p + 1; j <= stop && j < t->n; j++) {
                                const struct token *tk = &t->v[j];
                                if (tk->sentence != t->v[p].sentence)
                                        break;
                                if (tk->kind == TOKEN_PUNCT)
                                        continue;
                                if (++s->phrase_steps > CLASSIFY_PHRASE_STEPS)
                                        return false;
                                if (s->words_before[j] - s->words_before[p + 1] > item->gap)
                                        break;
                                if (token_has_item(rs, s, j, item) &&
                                    !negation_blocks(ph, item, tk)) {
                                        next_at[n_next] = j;
                                        next_from[n_next++] = from[a];
                                }
                        }
                }
                uint32_t *swap = at;
                at = next_at, next_at = swap;
                swap = from;
                from = next_from, next_from = swap;
                n = n_next;
        }
        if (n == 0)
                return false;
        *ret_first = from[0];
        *ret_last = at[0];
        return true;
}

/* Each phrase whose first word the post holds is matched once, from all its start positions
 * together: they are gathered per phrase by a counting sort over the start index's hits. */
static int match_phrases(const struct ruleset *rs, struct scratch *s)
{
        const struct tokens *t = &s->t;
        if (++s->stamp == 0) { /* wrapped: forget every phrase's old stamp */
                memset(s->phrase_stamp, 0, rs->n_phrases * sizeof(uint32_t));
                s->stamp = 1;
        }
        size_t n_cand = 0, n_pairs = 0;
        s->phrase_steps = 0;
        for (size_t i = 0; i < t->n; i++)
                for (uint32_t a = s->atom_off[i]; a < s->atom_off[i + 1]; a++) {
                        uint32_t atom = s->atoms[a];
                        for (uint32_t q = rs->start_index[atom]; q < rs->start_index[atom + 1];
                             q++) {
                                uint32_t ph = rs->start_phrases[q];
                                if (s->hit[rs->phrases[ph].rule])
                                        continue;
                                if (s->phrase_stamp[ph] != s->stamp) {
                                        s->phrase_stamp[ph] = s->stamp;
                                        s->phrase_count[ph] = 0;
                                        if (!greedy_realloc((void **)&s->cand, &s->allocated_cand,
                                                            n_cand + 1, sizeof(uint32_t)))
                                                return -ENOMEM;
                                        s->cand[n_cand++] = ph;
                                }
                                s->phrase_count[ph]++;
                                n_pairs++;
                        }
                }
        if (n_cand == 0)
                return 0;
        if (!greedy_realloc((void **)&s->starts, &s->allocated_starts, n_pairs, sizeof(uint32_t)))
                return -ENOMEM;
        /* phrase_count becomes where each phrase's start positions go */
        uint32_t offset = 0;
        for (size_t c = 0; c < n_cand; c++) {
                uint32_t count = s->phrase_count[s->cand[c]];
                s->phrase_count[s->cand[c]] = offset;
                offset += count;
        }
        for (size_t i = 0; i < t->n; i++)
                for (uint32_t a = s->atom_off[i]; a < s->atom_off[i + 1]; a++) {
                        uint32_t atom = s->atoms[a];
                        for (uint32_t q = rs->start_index[atom]; q < rs->start_index[atom + 1];
                             q++) {
                                uint32_t ph = rs->start_phrases[q];
                                if (s->phrase_stamp[ph] == s->stamp)
                                        s->starts[s->phrase_count[ph]++] = (uint32_t)i;
                        }
                }
        /* now phrase_count[ph] is where its positions end; they are ascending (tokens in order),
         * a token twice when two of its atoms start the phrase */
        for (size_t c = 0; c < n_cand; c++) {
                uint32_t ph = s->cand[c];
                uint32_t end = s->phrase_count[ph], begin = c ? s->phrase_count[s->cand[c - 1]] : 0;
                size_t n = 0;
                for (uint32_t i = begin; i < end; i++)
                        if (n == 0 || s->starts[begin + n - 1] != s->starts[i])
                                s->starts[begin + n++] = s->starts[i];
                const struct rule_phrase *phrase = &rs->phrases[ph];
                uint32_t first, last;
                if (!s->hit[phrase->rule] &&
                    match_phrase(rs, s, phrase, s->starts + begin, n, &first, &last))
                        hit_rule(s, phrase->rule, first, last);
        }
        return 0;
}

static void match_other_rules(const struct classifier *c, struct scratch *s)
{
        const struct ruleset *rs = c->rs;
        s->regex_steps = 0;
        for (size_t r = 0; r < rs->n_rules; r++) {
                const struct rule *rule = &rs->rules[r];
                if (rule->kind == RULE_SIGNAL) {
                        if (s->signals & (1u << rule->signal))
                                hit_rule(s, (uint32_t)r, UINT32_MAX, UINT32_MAX);
                } else if (rule->kind == RULE_REGEX) {
                        bool m = false;
                        s->weights = c->regex_weights + c->first_weight[r];
                        s->n_weights = c->first_weight[r + 1] - c->first_weight[r];
                        for (size_t i = 0;
                             i < s->n_subjects && !m && s->regex_steps <= CLASSIFY_REGEX_STEPS;
                             i++) {
                                s->regex_pos = 0;
                                m = pcre2_match(rule->regex, (PCRE2_SPTR)s->subjects[i].text,
                                                s->subjects[i].len, 0, 0, s->md, s->mctx) >= 0;
                        }
                        if (m)
                                hit_rule(s, (uint32_t)r, UINT32_MAX, UINT32_MAX);
                }
        }
}

static int64_t video_start_time(const struct post *p)
{
        const struct post *parts[2] = {p, p->repost};
        for (size_t k = 0; k < 2; k++) {
                if (!parts[k])
                        continue;
                for (size_t i = 0; i < parts[k]->n_attachments; i++) {
                        const struct attachment *a = &parts[k]->attachments[i];
                        if (a->kind == ATTACHMENT_VIDEO && (a->live || a->upcoming) &&
                            a->live_start_time > 0)
                                return a->live_start_time;
                }
        }
        return 0;
}

struct scores {
        double score[CATEGORY_MAX];
        bool veto[CATEGORY_MAX];
        bool sure[CATEGORY_MAX]; /* a sure rule matched (rules.h) */
        double reschedule;
        bool reschedule_veto;
};

/* The model's features: the words and signals (model.c), and what the rules made of the post,
 * so the model learns how far to trust each category's rules, their negative cues included. */
static int extract_features(const struct classifier *c, const struct post *p,
                            const struct scores *sc, struct features *f)
{
        const struct ruleset *rs = c->rs;
        const struct scratch *s = c->s;
        int r = features_extract(f, &s->t, s->signals, p);
        for (size_t k = 0; r >= 0 && k < rs->n_categories; k++) {
                const char *band = sc->veto[k]                                ? "veto"
                                   : sc->score[k] >= rs->thresholds[k] - 1e-9 ? "yes"
                                   : sc->score[k] > 1e-9                      ? "some"
                                   : sc->score[k] < -1e-9                     ? "against"
                                                                              : NULL;
                if (band)
                        r = features_add(f, 'R', rs->category_names[k], band);
        }
        return r;
}

/* The times in the text, and the signals they give: a time to come, and soon (within 48 hours). */
static void find_times(struct scratch *s, int64_t date, const struct tz *tz)
{
        s->n_times = timeparse_tokens(&s->t, date, tz, s->times, MAX_TIMES);
        for (size_t i = 0; i < s->n_times; i++)
                if (s->times[i].at > date) {
                        s->signals |= 1u << SIGNAL_TIME_AHEAD;
                        if (s->times[i].at <= date + 48 * 3600)
                                s->signals |= 1u << SIGNAL_TIME_SOON;
                }
}

/* Each category's score from the rules that hit, and whether a veto or a sure rule was among them.
 */
static void add_scores(const struct ruleset *rs, const struct scratch *s, struct scores *sc)
{
        *sc = (struct scores){0};
        for (size_t i = 0; i < s->n_hits; i++) {
                const struct rule *rule = &rs->rules[s->hits[i]];
                if (rule->category == RULE_CATEGORY_RESCHEDULE) {
                        sc->reschedule += rule->weight;
                        sc->reschedule_veto |= rule->veto;
                } else {
                        sc->score[rule->category] += rule->weight;
                        sc->veto[rule->category] |= rule->veto;
                        sc->sure[rule->category] |= rule->sure;
                }
        }
}

/* The categories assigned: by the rules' scores alone, or with the model (its features already in
 * s->f). The rules' masks and each category's probabilities are left in s for explain and training.
 */
static uint64_t decide(const struct classifier *c, const struct scores *sc, bool use_model)
{
        const struct ruleset *rs = c->rs;
        struct scratch *s = c->s;
        double logits[MODEL_MAX_CATEGORIES];
        uint64_t categories = 0;

        if (use_model)
                model_logits(c->model, &s->f, logits);
        s->rules_mask = s->veto_mask = s->sure_mask = 0;
        for (size_t k = 0; k < rs->n_categories; k++) {
                uint64_t bit = UINT64_C(1) << k;
                bool yes = sc->score[k] >= rs->thresholds[k] - 1e-9;
                if (yes)
                        s->rules_mask |= bit;
                if (sc->veto[k])
                        s->veto_mask |= bit;
                if (sc->sure[k])
                        s->sure_mask |= bit;
                s->probability[k] = -1;
                int m = use_model ? c->model_index[k] : -1;
                if (m >= 0) {
                        /* the model and the rules' score, combined as training decided; a sure
                         * rule (a live video, an admin's own phrase) decides alone */
                        double logit = logits[m];
                        s->model_probability[k] = model_probability(logit);
                        s->probability[k] = model_combine(
                                c->model, (size_t)m, logit, sc->score[k] / rs->thresholds[k],
                                c->model->any >= 0 ? logits[c->model->any] : 0);
                        yes = sc->sure[k] || s->probability[k] >= c->model->threshold[m];
                }
                if (yes && !sc->veto[k])
                        categories |= bit;
        }
        return categories;
}

/* When a live post's broadcast starts: its video's start time, else a time in the text. */
static void find_start(const struct scratch *s, const struct post *p, const struct tz *tz,
                       int64_t date, struct classify_result *res)
{
        int64_t v = video_start_time(p);

        if (v > 0) {
                res->starts_at = v;
                res->starts_at_utc_offset = tz_offset_at(tz, v);
                return;
        }
        /* an announcement's first time to come; a postponement's last one (the new time follows
         * the old). A time that comes with its date wins over one without: a headline's "Начало
         * в 12:00" before "18 января в 12:00" */
        for (int dated = 1; dated >= 0 && !res->starts_at; dated--)
                for (size_t i = 0; i < s->n_times; i++) {
                        const struct time_match *m =
                                &s->times[res->reschedule ? s->n_times - 1 - i : i];
                        if (m->at >= date - 3600 && (!dated || (m->flags & TIME_MATCH_DATE))) {
                                res->starts_at = m->at;
                                res->starts_at_utc_offset = m->utc_offset;
                                break;
                        }
                }
}

static int classify_internal(const struct classifier *c, const struct post *p, const struct tz *tz,
                             struct classify_result *ret, struct scores *sc)
{
        const struct ruleset *rs = c->rs;
        struct scratch *s = c->s;
        struct classify_result res = {0};
        int r;

        if (!tz)
                tz = c->tz;
        for (size_t i = 0; i < s->n_hits; i++)
                s->hit[s->hits[i]] = false;
        s->n_hits = 0;

        r = read_post(s, p);
        if (r < 0)
                return r;
        int64_t date = p->date > 0 ? p->date : (p->repost ? p->repost->date : 0);
        find_times(s, date, tz);

        r = index_atoms(rs, s);
        if (r < 0)
                return r;
        r = match_phrases(rs, s);
        if (r < 0)
                return r;
        match_other_rules(c, s);
        add_scores(rs, s, sc);

        bool use_model = c->model && !s->rules_only;
        if (use_model && (r = extract_features(c, p, sc, &s->f)) < 0)
                return r;
        res.categories = decide(c, sc, use_model);
        if (res.categories & (UINT64_C(1) << CATEGORY_LIVE)) {
                res.reschedule =
                        !sc->reschedule_veto && sc->reschedule >= rs->reschedule_threshold - 1e-9;
                find_start(s, p, tz, date, &res);
        }
        *ret = res;
        return 0;
}

int classifier_classify_tz(const struct classifier *c, const struct post *p, const struct tz *tz,
                           struct classify_result *ret)
{
        struct scores sc;
        return classify_internal(c, p, tz, ret, &sc);
}

int classifier_classify(const struct classifier *c, const struct post *p,
                        struct classify_result *ret)
{
        return classifier_classify_tz(c, p, NULL, ret);
}

const struct classify_model *classifier_model(const struct classifier *c)
{
        return c->model;
}

bool classifier_model_cached(const struct classifier *c, int *ret_cache_error)
{
        if (ret_cache_error)
                *ret_cache_error = c->model_cache_error;
        return c->model_cached;
}

int classifier_read_features(const struct classifier *c, const struct post *p, struct features *f,
                             double *ret_scores, uint64_t *ret_rules, uint64_t *ret_sure,
                             uint64_t *ret_vetoed)
{
        struct scratch *s = c->s;
        struct classify_result res;
        struct scores sc;
        s->rules_only = true;
        int r = classify_internal(c, p, NULL, &res, &sc);
        s->rules_only = false;
        if (r < 0)
                return r;
        r = extract_features(c, p, &sc, f);
        if (r < 0)
                return r;
        for (size_t k = 0; k < c->rs->n_categories; k++)
                ret_scores[k] = sc.score[k] / c->rs->thresholds[k];
        *ret_rules = s->rules_mask;
        *ret_sure = s->sure_mask;
        *ret_vetoed = s->veto_mask;
        return 0;
}

void classify_result_starts_at(const struct classify_result *r, char *buf, size_t size)
{
        format_iso8601(r->starts_at, r->starts_at_utc_offset, buf, size);
}

static void print_tokens(const struct tokens *t, uint32_t first, uint32_t last, FILE *f)
{
        for (uint32_t i = first; i <= last && i < t->n; i++)
                fprintf(f, "%s%s", i > first ? " " : "", token_text(t, &t->v[i]));
}

/* The model's probability per category beside its threshold, and for each category it assigns
 * (or nearly does: half the threshold) the features that pushed hardest. The words' own
 * probability is an SVM margin through a sigmoid, about 0.2 for no: only the combined one says. */
static void explain_model(const struct classifier *c, FILE *f)
{
        const struct scratch *s = c->s;
        if (!c->model) {
                fprintf(f, "  model: none (rules alone)\n");
                return;
        }
        fprintf(f, "  model (words -> with the rules / threshold):");
        for (size_t k = 0; k < c->rs->n_categories; k++) {
                int m = c->model_index[k];
                if (m >= 0)
                        fprintf(f, " %s %.2f->%.2f/%.2f%s", c->rs->category_names[k],
                                s->model_probability[k], s->probability[k], c->model->threshold[m],
                                s->probability[k] >= c->model->threshold[m] ? " yes" : "");
        }
        if (c->model->any >= 0)
                fprintf(f, " (some category: %.2f)",
                        model_probability(model_logit(c->model, &s->f, (size_t)c->model->any)));
        fprintf(f, "\n");
        double sc = model_scale(c->model, &s->f);
        for (size_t k = 0; k < c->rs->n_categories; k++) {
                int m = c->model_index[k];
                if (m < 0 || s->probability[k] < c->model->threshold[m] / 2)
                        continue;
                /* the five strongest features for k, by selection over one pass */
                size_t top[5], n_top = 0;
                double top_w[5];
                for (size_t i = 0; i < s->f.n; i++) {
                        double w = model_feature_weight(c->model, &s->f, i, (size_t)m, sc);
                        size_t at = n_top;
                        while (at > 0 && top_w[at - 1] < w)
                                at--;
                        if (at >= ELEMENTSOF(top))
                                continue;
                        if (n_top < ELEMENTSOF(top))
                                n_top++;
                        memmove(top + at + 1, top + at, (n_top - at - 1) * sizeof(size_t));
                        memmove(top_w + at + 1, top_w + at, (n_top - at - 1) * sizeof(double));
                        top[at] = i;
                        top_w[at] = w;
                }
                fprintf(f, "    %s by", c->rs->category_names[k]);
                for (size_t i = 0; i < n_top; i++)
                        fprintf(f, "%s \"%s\" %+.2f", i ? "," : "", features_name(&s->f, top[i]),
                                top_w[i]);
                fprintf(f, "\n");
        }
}

int classifier_explain(const struct classifier *c, const struct post *p, FILE *f,
                       struct classify_result *ret)
{
        const struct ruleset *rs = c->rs;
        const struct scratch *s = c->s;
        struct scores sc;
        c->s->f.names = true;
        int r = classify_internal(c, p, NULL, ret, &sc);
        if (r < 0) {
                c->s->f.names = false;
                return r;
        }

        fprintf(f, "post %" PRId64 "_%" PRId64 ":\n  read:", p->owner_id, p->id);
        size_t shown = 0;
        for (size_t i = 0; i < s->t.n && shown < 400; i++) {
                fprintf(f, " %s", token_text(&s->t, &s->t.v[i]));
                shown += s->t.v[i].len + 1;
        }
        fprintf(f, "%s\n  signals:", shown >= 400 ? " ..." : "");
        for (unsigned i = 0; i < _SIGNAL_MAX; i++)
                if (s->signals & (1u << i))
                        fprintf(f, " %s", rule_signal_to_string(i));
        fprintf(f, "\n");
        for (size_t i = 0; i < s->n_times; i++) {
                char buf[40];
                timeparse_format_iso8601(s->times[i].at, s->times[i].utc_offset, buf, sizeof(buf));
                fprintf(f, "  time: %s at \"", buf);
                print_tokens(&s->t, s->times[i].token, s->times[i].token, f);
                fprintf(f, "\"\n");
        }
        for (int k = -1; k < (int)rs->n_categories; k++) {
                bool any = false;
                for (size_t i = 0; i < s->n_hits; i++)
                        any = any || rs->rules[s->hits[i]].category == k;
                if (!any)
                        continue;
                double score = k < 0 ? sc.reschedule : sc.score[k];
                double th = k < 0 ? rs->reschedule_threshold : rs->thresholds[k];
                bool veto = k < 0 ? sc.reschedule_veto : sc.veto[k];
                fprintf(f, "  %s: %.2f %s %.2f%s -> %s\n",
                        k < 0 ? "reschedule" : rs->category_names[k], score,
                        score >= th - 1e-9 ? ">=" : "<", th, veto ? ", vetoed" : "",
                        !veto && score >= th - 1e-9 ? "yes" : "no");
                for (size_t i = 0; i < s->n_hits; i++) {
                        const struct rule *rule = &rs->rules[s->hits[i]];
                        if (rule->category != k)
                                continue;
                        const struct hit *h = &s->where[s->hits[i]];
                        fprintf(f, "    %s%+.2f ",
                                rule->veto   ? "veto "
                                : rule->sure ? "sure "
                                             : "",
                                rule->weight);
                        if (h->first != UINT32_MAX) {
                                fprintf(f, "\"");
                                print_tokens(&s->t, h->first, h->last, f);
                                fprintf(f, "\" ");
                        }
                        /* long synonym lists: cut at a character boundary */
                        size_t len = strlen(rule->source);
                        if (len > 100) {
                                len = 100;
                                while (len > 0 && ((unsigned char)rule->source[len] & 0xc0) == 0x80)
                                        len--;
                        }
                        fprintf(f, "by %s %s \"%.*s%s\"",
                                rule->kind == RULE_SIGNAL  ? "signal"
                                : rule->kind == RULE_REGEX ? "regex"
                                                           : "phrase",
                                rule->origin, (int)len, rule->source,
                                len < strlen(rule->source) ? "..." : "");
                        fprintf(f, "\n");
                }
        }
        explain_model(c, f);
        c->s->f.names = false;
        char buf[40];
        classify_result_starts_at(ret, buf, sizeof(buf));
        fprintf(f, "  starts_at: %s%s\n", buf[0] ? buf : "null",
                ret->reschedule ? " (reschedule)" : "");
        return 0;
}
