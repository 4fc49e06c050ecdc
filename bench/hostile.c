/* hostile.c — the CPU one hostile input at (or just under) each work cap costs on the event loop.
 *
 * Builds the worst inputs found for each cap in memory and handles each the way the daemon does:
 * a config through config_load_string() and govwatch_prepare_config() (check-config, run and
 * reload), a rules file through the rules loader, one post through post_from_json() and the
 * classifier, an execute answer through both VK parsers with wall_from_json() per call (the
 * sweep), a message through mail_build(). Prints the CPU time of each (best of 3; CPU, not wall
 * time, so a busy machine does not inflate it) against the 50 ms budget of issue 11.
 * Usage: bench-hostile [--quick] [NAME]: --quick runs each once at reduced sizes (a smoke check);
 * NAME measures only the inputs whose name holds it (for perf record).
 */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "config.h"
#include "govwatch.h"
#include "log.h"
#include "mail.h"
#include "post.h"
#include "rules.h"
#include "timeparse.h"
#include "util.h"
#include "vk.h"

#define BUDGET_MS 50.0
#define MIB       (1024.0 * 1024.0)

static unsigned rounds = 3, scale = 1; /* --quick: 1 round, sizes divided by 16 */
static unsigned n_over;
static const char *only; /* a second argument: measure only the inputs whose name holds it */
static bool reference;   /* what is measured is not run on the event loop: not held to the budget */

static double cpu_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, int r)
{
        fprintf(stderr, "bench-hostile: %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(1);
}

/* Runs fn(ctx) rounds times and prints its best CPU time; fn returns the handler's result, which
 * is shown (a refusal is a legitimate way to handle a hostile input, but must be cheap too). */
static double measure(const char *name, size_t size, int (*fn)(void *ctx), void *ctx, bool per_mib)
{
        double best = -1;
        int r = 0;
        if (only && !strstr(name, only))
                return 0;
        for (unsigned i = 0; i < rounds; i++) {
                double start = cpu_ms();
                r = fn(ctx);
                double t = cpu_ms() - start;
                if (best < 0 || t < best)
                        best = t;
        }
        n_over += best > BUDGET_MS && !reference;
        printf("%-44s %9.1f KiB %9.2f  %-3s", name, (double)size / 1024, best,
               reference           ? "-"
               : best <= BUDGET_MS ? "yes"
                                   : "NO");
        if (per_mib)
                printf("  %.1f ms/MiB", best / ((double)size / MIB));
        if (r < 0)
                printf("  refused: %s", strerror(-r));
        printf("\n");
        fflush(stdout);
        return best;
}

static void put(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
static void put(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0 || strbuf_append(sb, s, (size_t)n) < 0)
                die("out of memory", ENOMEM);
        free(s);
}

static double max_ms(double a, double b)
{
        return a > b ? a : b;
}

static const char letters[] = "абвгдежзиклмнопрстуфхцчшщэюя"; /* 28, two bytes each */

/* n written in k Cyrillic letters (numbers are words of their own), least significant first */
static const char *cyr(unsigned n, unsigned k, char *buf)
{
        for (unsigned i = 0; i < k; i++, n /= 28)
                memcpy(buf + 2 * i, letters + 2 * (n % 28), 2);
        buf[2 * k] = '\0';
        return buf;
}
#define CYR(n, k) cyr((n), (k), (char[2 * 16 + 1]){0})

/* ---- caps -------------------------------------------------------------------------------- */

/* The rules file's caps, file-local in src/rules.c, mirrored here (include/rules.h has those it
 * shares with the config's classifier, yaml_tree.h those of the YAML it shares with the config). */
#define RULES_FILE_SIZE   YAML_TREE_MAX_SIZE
#define RULES_NODES       YAML_TREE_MAX_NODES
#define RULES_GAP         20   /* RULES_MAX_GAP, src/rules.c */
#define RULES_ITEMS       16   /* RULES_MAX_ITEMS (words of a phrase), src/rules.c */
#define RULES_CLASS_WORDS 1024 /* RULES_MAX_CLASS_WORDS, src/rules.c */

/* ---- config ------------------------------------------------------------------------------ */

/* The config's caps, file-local in src/config.c, mirrored here: each input stays under them. */
#define CONFIG_SIZE    (1024 * 1024) /* YAML_TREE_MAX_SIZE, yaml_tree.h */
#define CONFIG_NODES   100000        /* YAML_TREE_MAX_NODES, yaml_tree.h */
#define N_SINKS        256           /* CONFIG_MAX_SINKS, src/config.c */
#define N_WATCH        10000         /* CONFIG_MAX_WATCH, src/config.c */
#define N_COMM         50000         /* CONFIG_MAX_COMMUNITIES, src/config.c */
#define N_ITEMS        1000          /* CONFIG_MAX_CLASSIFIER_ITEMS, src/config.c */
#define N_REGEXES      100           /* CONFIG_MAX_REGEXES, src/config.c */
#define N_EXCLUSIONS   60 /* what the words left by the phrases allow (RULES_MAX_WORDS) */
#define N_START_WORDS  8  /* phrases start with these words, RULES_MAX_STARTS each */
#define NODES_RESERVED 64 /* values of the file around the part that fills the cap */
_Static_assert(N_START_WORDS *RULES_MAX_STARTS + N_REGEXES + N_EXCLUSIONS <= N_ITEMS,
               "the worst classifier is accepted");

/* A sink name of pad + 5 bytes sharing pad + 1 with every other: each strcmp() of the lookup
 * runs long. */
static void sink_name(struct strbuf *sb, char tag, unsigned i, unsigned pad)
{
        put(sb, "s%.*s%c%03u", (int)pad,
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", tag, i);
}

/* n sinks; 2 + 4n values */
static void config_sinks(struct strbuf *sb, unsigned n, unsigned pad)
{
        put(sb, "sinks:\n");
        for (unsigned i = 0; i < n; i++) {
                put(sb, "  ");
                sink_name(sb, 'd', i, pad);
                put(sb, ": {type: console}\n");
        }
}

/* (a) every watch entry names sinks nobody defined: short names, so the file reaches the values
 * cap and the size cap together (past the first YAML_TREE_MAX_ERRORS, each costs a lookup) */
static char *config_unknown_sinks(size_t limit, size_t max_nodes)
{
        struct strbuf sb = {0};
        enum { PER = 60, PAD = 4, ENTRY_NODES = 8 + PER };
        config_sinks(&sb, N_SINKS / scale, PAD);
        put(&sb, "watch:\n");
        size_t nodes = 1 + 2 + 4 * N_SINKS / scale + 2;
        for (unsigned w = 0; sb.len + PER * (PAD + 7) + 64 < limit &&
                             nodes + ENTRY_NODES + NODES_RESERVED < max_nodes;
             w++, nodes += ENTRY_NODES) {
                put(&sb, "- topic: t%u\n  communities: [club%u]\n  sinks: [", w, w + 1);
                for (unsigned i = 0; i < PER; i++) {
                        put(&sb, i ? ", " : "");
                        sink_name(&sb, 'u', (w * PER + i) % 1000, PAD);
                }
                put(&sb, "]\n");
        }
        return sb.buf;
}

/* (b) the watch list at its caps: all the communities N_COMM allows, in as many entries as the
 * values left allow */
static char *config_communities(size_t limit, size_t max_nodes)
{
        struct strbuf sb = {0};
        enum { PER = 8, PAD = 40, ENTRY_NODES = 8 + PER };
        config_sinks(&sb, 1, PAD);
        put(&sb, "watch:\n");
        size_t nodes = 1 + 2 + 4 + 2;
        for (unsigned w = 0;
             w < N_WATCH / scale && (w + 1) * PER <= N_COMM / scale && sb.len + 256 < limit &&
             nodes + ENTRY_NODES + NODES_RESERVED < max_nodes;
             w++, nodes += ENTRY_NODES) {
                put(&sb, "- topic: t%u\n  sinks: [", w);
                sink_name(&sb, 'd', 0, PAD);
                put(&sb, "]\n  communities: [");
                for (unsigned i = 0; i < PER; i++)
                        put(&sb, "%sa%05u%u", i ? "," : "", w, i);
                put(&sb, "]\n");
        }
        return sb.buf;
}

/* (c) "alerts: [a,a,...]": one list of one-letter values up to the size cap (refused at the
 * values cap) or, with max_nodes, up to the values cap (accepted) */
static char *config_alerts(size_t limit, size_t max_nodes)
{
        struct strbuf sb = {0};
        put(&sb, "sinks: {a: {type: console}}\nwatch:\n- topic: t\n  communities: [club1]\n"
                 "  sinks: [a]\nalerts: [a");
        for (size_t nodes = 21; sb.len + 4 < limit && nodes < max_nodes; nodes++)
                put(&sb, ",a");
        put(&sb, "]\n");
        return sb.buf;
}

/* (d) the classifier at its caps, as the config helper's gencls.py builds it: N_START_WORDS
 * start words of RULES_MAX_STARTS phrases each, 16 items a phrase with the largest gap (none
 * ends: "=ыыыNNN" is in no post), N_REGEXES regexes, N_EXCLUSIONS exclusions; the words of the
 * phrases, exclusions and shipped rules together stay under RULES_MAX_WORDS. runaway: the
 * regexes backtrack on any run of words without a digit ("(\w+\s?)+\d$"); see the posts for
 * what PCRE2's match limit does and does not stop. */
static char *config_classifier(bool runaway)
{
        struct strbuf sb = {0};
        unsigned n_phrases = N_START_WORDS * RULES_MAX_STARTS / scale;
        unsigned n_regexes = N_REGEXES / scale, n_exclusions = N_EXCLUSIONS / scale;
        unsigned n = n_phrases + n_regexes + n_exclusions;
        unsigned n_categories = n / 300 + 1;
        config_sinks(&sb, 1, 56);
        put(&sb, "watch:\n- topic: t\n  communities: [club1]\n  categories: all\n  sinks: [");
        sink_name(&sb, 'd', 0, 56);
        put(&sb, "]\nclassifier:\n  categories:\n");
        /* items spread over the categories in turn, as gencls.py does */
        for (unsigned c = 0; c < n_categories; c++) {
                put(&sb, "    cat%02u:\n", c);
                put(&sb, "      phrases:\n");
                for (unsigned i = c; i < n_phrases; i += n_categories) {
                        put(&sb,
                            "      - \"=ш%s ~%d =воды|электроэнерги*|газ*|отоплени* ~%d "
                            "улиц*|дом*|район*",
                            CYR(i / RULES_MAX_STARTS, 3), RULES_GAP, RULES_GAP);
                        for (unsigned k = 3; k < RULES_ITEMS - 1; k++)
                                put(&sb, " ~%d =с", RULES_GAP);
                        put(&sb, " ~%d =ыыы%s\"\n", RULES_GAP, CYR(i % RULES_MAX_STARTS, 3));
                }
                bool first = true;
                for (unsigned i = n_phrases; i < n_phrases + n_regexes; i++) {
                        if (i % n_categories != c)
                                continue;
                        put(&sb, first ? "      regex:\n" : "");
                        first = false;
                        if (runaway)
                                put(&sb, "      - '(\\w+\\s?)+\\d$(?#%u)'\n", i);
                        else
                                put(&sb,
                                    "      - '\\b(?:отключ|авари|ремонт|порыв)\\w*\\s+"
                                    "(?:\\w+\\s+){0,4}(?:вод|свет|газ|тепл)\\w*(?:\\s+\\w+){0,6}"
                                    "\\s+\\d{1,2}[.:]\\d{2}\\D{0,20}%u'\n",
                                    i);
                }
                first = true;
                for (unsigned i = n_phrases + n_regexes; i < n; i++) {
                        if (i % n_categories != c)
                                continue;
                        put(&sb, first ? "      exclude:\n" : "");
                        first = false;
                        put(&sb,
                            "      - \"подача ~3 восстановлен*|возобновлен* ~2 =в ~2 полном ~1 "
                            "объеме #%u\"\n",
                            i);
                }
        }
        return sb.buf;
}

struct config_case {
        const char *text;
        size_t size;
        struct govwatch_prepared kept; /* the last round's parts, for the classify row */
};

static int run_config(void *userdata)
{
        struct config_case *cc = userdata;
        struct config_errors errors = {0};
        struct config *conf = NULL;
        govwatch_prepared_done(&cc->kept);
        int r = config_load_string("hostile.yaml", cc->text, cc->size, &conf, &errors);
        if (r >= 0)
                r = govwatch_prepare_config(conf, GOVWATCH_PREPARE_CHECK, &cc->kept, &errors);
        /* check-config prints every message: part of its work ($HOSTILE_VERBOSE: shown) */
        FILE *out = getenv("HOSTILE_VERBOSE") ? stderr : fopen("/dev/null", "we");
        if (out) {
                config_errors_print(&errors, "hostile.yaml", out);
                if (out != stderr)
                        fclose(out);
        }
        config_errors_done(&errors);
        return r;
}

static void bench_config(const char *name, char *text, struct govwatch_prepared *keep)
{
        struct config_case cc = {.text = text, .size = strlen(text)};
        if (keep && only && !strstr(name, only))
                (void)run_config(&cc); /* not measured, but the posts after need its classifier */
        else
                measure(name, cc.size, run_config, &cc, false);
        if (keep)
                *keep = cc.kept;
        else
                govwatch_prepared_done(&cc.kept);
        free(text);
}

/* ---- rules ------------------------------------------------------------------------------- */

static int run_rules(void *userdata)
{
        struct config_case *rc = userdata;
        struct ruleset *rs = NULL;
        char *error = NULL;
        int r = ruleset_new(&rs);
        if (r >= 0)
                r = ruleset_load_string(rs, "hostile-rules.yaml", rc->text, rc->size, &error);
        if (r >= 0)
                r = ruleset_finish(rs);
        if (getenv("HOSTILE_VERBOSE")) {
                if (error)
                        fprintf(stderr, "%s\n", error);
                else if (rs) /* how near the caps the input came */
                        fprintf(stderr,
                                "%zu rules, %zu phrases, %zu words of %zu bytes, %zu forms\n",
                                rs->n_rules, rs->n_phrases, rs->n_words, rs->n_word_bytes,
                                rs->n_item_atoms);
        }
        free(error);
        ruleset_free(rs);
        return r;
}

#define RULES_CATEGORY "categories:\n  live:\n    threshold: 1.0\n    rules:\n"
#define RULES_HEAD     "version: 1\n" RULES_CATEGORY

/* The worst rules file under every cap at once: RULES_MAX_WORDS words of
 * RULES_MAX_WORD_BYTES / RULES_MAX_WORDS bytes each (stemmed: the costlier kind), one class of
 * RULES_CLASS_WORDS of them named as the first word of as many phrases as RULES_MAX_WORD_FORMS
 * allows (each copies its forms), the other words in phrases of RULES_ITEMS distinct words with
 * the largest gap, one phrase a rule, and the nodes and bytes left filled with signal rules and
 * their notes. Every first word starts at most RULES_MAX_STARTS phrases. */
static char *rules_worst(void)
{
        struct strbuf sb = {0};
        const unsigned word_letters = RULES_MAX_WORD_BYTES / RULES_MAX_WORDS / 2; /* Cyrillic */
        const unsigned class_words = RULES_CLASS_WORDS / scale;
        const unsigned words = RULES_MAX_WORDS / scale - class_words;
        const unsigned refs = (RULES_MAX_WORD_FORMS / scale - words) / class_words;
        const size_t limit = RULES_FILE_SIZE / scale, max_nodes = RULES_NODES / scale;
        size_t nodes = 1 + 2 + 2 + 2 + 2 + 2 + 2 + 2; /* the mappings down to "rules:" */
        unsigned rules = 0;

        put(&sb, "version: 1\nwords:\n  big: >-\n   ");
        for (unsigned i = 0; i < class_words; i++)
                put(&sb, " к%s", CYR(i, word_letters - 1));
        put(&sb, "\n%s", RULES_CATEGORY);
        for (unsigned w = 0, p = 0; w < words; p++, rules++) {
                bool ref = p < refs;
                put(&sb, "      - phrase: \"%s", ref ? "@big" : "");
                for (unsigned k = ref; k < RULES_ITEMS && w < words; k++, w++) {
                        if (k)
                                put(&sb, " ~%d ", RULES_GAP);
                        put(&sb, "д%s", CYR(w, word_letters - 1));
                }
                put(&sb, "\"\n");
                nodes += 3;
        }
        /* signal rules: 5 values each, the notes sharing out the bytes left */
        size_t n_signals = (max_nodes - nodes - 8) / 5;
        if (rules + n_signals > RULES_MAX_RULES / scale)
                n_signals = RULES_MAX_RULES / scale - rules;
        static const char signal_rule[] = "      - {signal: photo, note: \"\"}\n";
        size_t note = sb.len + 64 < limit && n_signals > 0
                              ? (limit - sb.len - 64) / n_signals - strlen(signal_rule)
                              : 0;
        for (size_t i = 0; i < n_signals; i++) {
                put(&sb, "      - {signal: photo, note: \"");
                for (size_t b = 0; b + 2 <= note; b += 2)
                        put(&sb, "з");
                put(&sb, "\"}\n");
        }
        return sb.buf;
}

/* RULES_MAX_PHRASES phrases of one distinct word of 24 bytes (RULES_MAX_WORD_BYTES allows 26),
 * 256 a rule (the most rules.c takes in one list) */
static char *rules_many_phrases(void)
{
        struct strbuf sb = {0};
        put(&sb, RULES_HEAD);
        for (unsigned i = 0; i < RULES_MAX_PHRASES / scale; i++)
                put(&sb, "%sп%s",
                    i % 256 ? ", "
                    : i     ? "]\n      - phrases: ["
                            : "      - phrases: [",
                    CYR(i, 11));
        put(&sb, "]\n");
        return sb.buf;
}

/* A word class of RULES_CLASS_WORDS words named RULES_ITEMS times in each phrase: every phrase
 * expands to 16,384 forms, as many phrases as RULES_MAX_WORD_FORMS allows. */
static char *rules_classes(unsigned n)
{
        struct strbuf sb = {0};
        put(&sb, "version: 1\nwords:\n  big: >-\n   ");
        for (unsigned i = 0; i < RULES_CLASS_WORDS; i++)
                put(&sb, " =ш%s", CYR(i, 3));
        put(&sb, "\n%s      - phrases: [", RULES_CATEGORY);
        for (unsigned i = 0; i < n; i++) {
                put(&sb, "%s\"@big", i ? ", " : "");
                for (unsigned k = 1; k < RULES_ITEMS; k++)
                        put(&sb, " ~%d @big", RULES_GAP);
                put(&sb, "\"");
        }
        put(&sb, "]\n        weight: 1.0\n");
        return sb.buf;
}

static void bench_rules(const char *name, char *text)
{
        struct config_case rc = {.text = text, .size = strlen(text)};
        measure(name, rc.size, run_rules, &rc, false);
        free(text);
}

/* ---- posts ------------------------------------------------------------------------------- */

static char *repeat(const char *unit, size_t size)
{
        size_t n = strlen(unit);
        char *s = malloc(size + 1);
        if (!s)
                die("out of memory", ENOMEM);
        size_t len = size / n * n;
        for (size_t i = 0; i < len; i += n)
                memcpy(s + i, unit, n);
        s[len] = '\0';
        return s;
}

/* A post of text text, a repost holding another (which reposts one more: post.c reads two
 * levels), each with video attachments filling their budget: one video whose title and
 * description share the text, or n_videos titled with all of it (each title is a subject of its
 * own for the regexes). */
static json_t *hostile_post(const char *text, unsigned depth, unsigned n_videos)
{
        size_t len = strlen(text), half = n_videos > 1 ? len : len / 2;
        while (half > 0 && half < len && ((unsigned char)text[half] & 0xC0) == 0x80)
                half--; /* a character boundary: JSON strings are UTF-8 */
        json_t *attachments = json_array();
        for (unsigned i = 0; i < n_videos; i++)
                json_array_append_new(attachments,
                                      json_pack("{s:s,s:{s:s,s:s%,s:s%,s:i,s:I}}", "type", "video",
                                                "video", "type", "video", "title", text, half,
                                                "description", text + half, len - half, "upcoming",
                                                1, "live_start_time", (json_int_t)1773140400));
        json_t *p = json_pack("{s:I,s:I,s:I,s:s,s:o}", "id", (json_int_t)(100 + depth), "owner_id",
                              (json_int_t)-1, "date", (json_int_t)1773126000, "text", text,
                              "attachments", attachments);
        if (!p)
                die("json_pack", ENOMEM);
        if (depth < 2)
                json_object_set_new(p, "copy_history",
                                    json_pack("[o]", hostile_post(text, depth + 1, n_videos)));
        return p;
}

struct post_case {
        const struct classifier *c;
        const struct tz *tz;
        json_t *json;
};

static int run_post(void *userdata)
{
        struct post_case *pc = userdata;
        struct post *p = NULL;
        struct classify_result res;
        int r = post_from_json(pc->json, &p, NULL);
        if (r >= 0)
                r = classifier_classify_tz(pc->c, p, pc->tz, &res);
        free(post_notification_text(p));
        post_free(p);
        return r;
}

static char *corpus[64];
static size_t n_corpus;

/* A post of unit repeated to size bytes (0: POST_TEXT_MAX; unit NULL: a real post's text),
 * with its reposts and n_videos videos (0: a bare post) */
static double bench_post(const char *name, const struct classifier *c, const struct tz *tz,
                         const char *unit, size_t size, unsigned n_videos)
{
        bool nested = n_videos > 0;
        _cleanup_free_ char *text =
                unit ? repeat(unit, size ? size : POST_TEXT_MAX / scale) : strdup(corpus[0]);
        struct post_case pc = {
                .c = c,
                .tz = tz,
                .json = nested ? hostile_post(text, 0, n_videos)
                               : json_pack("{s:I,s:I,s:I,s:s}", "id", (json_int_t)1, "owner_id",
                                           (json_int_t)-1, "date", (json_int_t)1773126000, "text",
                                           text),
        };
        size_t parts = nested ? 3 * (1 + (n_videos > 1 ? n_videos : 1)) : 1;
        double t = measure(name, parts * strlen(text), run_post, &pc, false);
        json_decref(pc.json);
        return t;
}

/* ---- VK answers -------------------------------------------------------------------------- */

static void corpus_load(void)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_full_file(GOVWATCH_SOURCE_DIR "/data/corpus/posts.jsonl", 64 * 1024 * 1024,
                               false, &data, &size);
        if (r < 0)
                die("data/corpus/posts.jsonl", r);
        for (char *line = data, *end; line && n_corpus < ELEMENTSOF(corpus); line = end) {
                end = strchr(line, '\n');
                if (end)
                        *end++ = '\0';
                json_t *j = json_loads(line, 0, NULL);
                const char *t = json_string_value(json_object_get(j, "text"));
                if (t && strlen(t) > 200)
                        corpus[n_corpus++] = strdup(t);
                json_decref(j);
        }
        if (n_corpus == 0)
                die("no posts in data/corpus/posts.jsonl", ENOENT);
}

/* A wall.get item as VK sends it (5.199): the fields the daemon reads and some it skips. */
static void vk_post(struct strbuf *sb, unsigned id)
{
        json_t *t = json_string(corpus[id % n_corpus]);
        char *text = json_dumps(t, JSON_ENCODE_ANY);
        json_decref(t);
        put(sb,
            "{\"id\":%u,\"owner_id\":-%u,\"from_id\":-%u,\"date\":%u,\"post_type\":\"post\","
            "\"text\":%s,\"attachments\":[{\"type\":\"photo\",\"photo\":{\"id\":%u,\"album_id\":-7,"
            "\"owner_id\":-%u,\"sizes\":[{\"height\":604,\"type\":\"x\",\"width\":807,\"url\":"
            "\"https://sun9-1.userapi.com/impg/abc/def.jpg?size=807x604&quality=96\"}],"
            "\"text\":\"\"}}],\"comments\":{\"count\":3},\"likes\":{\"count\":41,\"user_likes\":0},"
            "\"reposts\":{\"count\":2},\"views\":{\"count\":1830},\"is_pinned\":0,"
            "\"marked_as_ads\":0,\"has_tags\":false,\"inner_type\":\"wall_wallpost\","
            "\"hash\":\"Zx9a\"}",
            id, 1000 + id % 25, 1000 + id % 25, 1773126000 - id, text, id, 1000 + id % 25);
        free(text);
}

/* WALLS: real-looking posts; ZEROS and TINY: walls of VK_ITEMS_MAX - 1 posts, each an array of
 * numbers or of empty objects, the most values a byte; STRING: one post's text as long as the
 * answer (refused: a piece over VK_PIECE_MAX); DENSE: posts of just under VK_PIECE_MAX made of
 * empty objects and arrays, the slowest bytes for jansson, in the largest pieces the reader takes
 * whole. */
enum answer_shape {
        ANSWER_WALLS,
        ANSWER_ZEROS,
        ANSWER_STRING,
        ANSWER_TINY,
        ANSWER_DENSE,
        ANSWER_ONE_WALL = 0x100, /* or'ed in: all of it in the first call, the others false */
};

/* An execute answer of 25 wall.get results, about size bytes */
static char *vk_answer(unsigned shape, size_t size)
{
        struct strbuf sb = {0};
        put(&sb, "{\"response\":[");
        bool one_wall = shape & ANSWER_ONE_WALL;
        shape &= ~ANSWER_ONE_WALL;
        for (unsigned call = 0, id = 0; call < 25; call++) {
                size_t goal = one_wall ? size - 8192 : (size - 8192) / 25 * (call + 1);
                put(&sb, call ? "," : "");
                if (one_wall && call > 0) {
                        put(&sb, "false");
                } else if (shape == ANSWER_ZEROS || shape == ANSWER_TINY) {
                        /* VK_ITEMS_MAX - 1 posts, each an array of 0 or {} filling the wall */
                        size_t per_post = (goal - sb.len) / (VK_ITEMS_MAX - 1) + 1;
                        const char *unit = shape == ANSWER_ZEROS ? ",0" : ",{}";
                        put(&sb, "{\"count\":1,\"items\":[");
                        for (unsigned i = 0; i < VK_ITEMS_MAX - 1 && sb.len < goal; i++) {
                                size_t post_end = sb.len + per_post;
                                put(&sb, "%s[%s", i ? "," : "", unit + 1);
                                while (sb.len < post_end)
                                        put(&sb, "%s", unit);
                                put(&sb, "]");
                        }
                        put(&sb, "]}");
                } else if (shape == ANSWER_DENSE) {
                        put(&sb, "{\"count\":1,\"items\":[");
                        for (unsigned i = 0; sb.len < goal; i++) {
                                size_t post_end = sb.len + VK_PIECE_MAX - 64;
                                put(&sb, "%s{\"id\":%u,\"x\":[{}", i ? "," : "", i + 1);
                                while (sb.len < post_end && sb.len < goal)
                                        put(&sb, ",{},[],{},[],{},[],{},[],{},[],{},[],{},[]");
                                put(&sb, "]}");
                        }
                        put(&sb, "]}");
                } else if (shape == ANSWER_STRING) {
                        put(&sb, "{\"count\":1,\"items\":[{\"id\":1,\"owner_id\":-1,\"text\":\"");
                        while (sb.len < goal)
                                put(&sb, "Отключение воды на улице Ленина с 9:00 до 18:00. ");
                        put(&sb, "\"}]}");
                } else {
                        put(&sb, "{\"count\":100000,\"items\":[");
                        for (unsigned i = 0; sb.len < goal; i++, id++) {
                                put(&sb, i ? "," : "");
                                vk_post(&sb, id);
                        }
                        put(&sb,
                            "],\"groups\":[{\"id\":%u,\"name\":\"Администрация\","
                            "\"screen_name\":\"adm%u\",\"is_closed\":0,\"type\":\"page\"}],"
                            "\"profiles\":[]}",
                            1000 + call, call);
                }
        }
        put(&sb, "]}");
        return sb.buf;
}

struct answer_case {
        const char *body;
        size_t size;
};

static int on_wall(size_t i, const json_t *response, void *userdata)
{
        struct wall *w = NULL;
        (void)i, (void)userdata;
        if (wall_from_json(response, &w, NULL) >= 0)
                wall_free(w);
        return 0;
}

static int run_answer(void *userdata)
{
        struct answer_case *ac = userdata;
        struct vk_result *res = NULL;
        const char *reason = NULL;
        int r = vk_result_parse(ac->body, ac->size, 25, &res, &reason);
        for (size_t i = 0; r >= 0 && i < res->n_calls; i++)
                if (res->calls[i].response)
                        on_wall(i, res->calls[i].response, NULL);
        vk_result_free(res);
        return r;
}

/* The daemon's way (source.c): vk_reader_new, then a vk_reader_step of VK_STEP_BYTES per
 * event-loop iteration, each() reading a wall's posts inside the step that finishes the wall;
 * then what was read is freed VK_RELEASE_VALUES values an iteration. */
struct step_case {
        const char *body;
        size_t size;
        double longest; /* ms of CPU, the longest of the steps */
        unsigned steps;
};

static void step_done(struct step_case *sc, double start, const char *what)
{
        double t = cpu_ms() - start;
        if (getenv("HOSTILE_VERBOSE") && t > 10)
                fprintf(stderr, "  step %u (%s): %.1f ms\n", sc->steps, what, t);
        sc->longest = t > sc->longest ? t : sc->longest;
        sc->steps++;
}

static int run_steps(struct step_case *sc)
{
        struct vk_graveyard graves = {0};
        struct vk_reader *r = NULL;
        struct vk_result *res = NULL;
        const char *reason = NULL;
        double start = cpu_ms();
        int k = vk_reader_new(sc->body, sc->size, 25, on_wall, NULL, &graves, &r, &reason);

        step_done(sc, start, "vk_reader_new");
        while (k == 0) {
                start = cpu_ms();
                k = vk_reader_step(r, VK_STEP_BYTES, &res, &reason);
                if (k != 0) { /* as source.c's finish() */
                        vk_reader_free(r);
                        if (res)
                                vk_graveyard_bury(&graves, TAKE_PTR(res->root), sc->size);
                        vk_result_free(res);
                }
                step_done(sc, start, "vk_reader_step");
        }
        for (bool empty = graves.n == 0; !empty;) {
                start = cpu_ms();
                empty = vk_graveyard_release(&graves, VK_RELEASE_VALUES);
                step_done(sc, start, "vk_graveyard_release");
        }
        vk_graveyard_done(&graves);
        return k < 0 ? k : 0;
}

static void bench_answer(const char *name, unsigned shape, size_t size)
{
        if (only && !strstr(name, only))
                return; /* 32 MiB take a while to build */
        _cleanup_free_ char *body = vk_answer(shape, size);
        size_t len = strlen(body);
        char label[96];

        /* the whole answer at once: for the ms/MiB figure; the daemon never does this */
        struct answer_case ac = {.body = body, .size = len};
        snprintf(label, sizeof(label), "%s, whole (reference)", name);
        reference = true;
        measure(label, len, run_answer, &ac, true);
        reference = false;
        /* it freed a whole tree at once, as the daemon never does: glibc would charge the
         * consolidation of those millions of small chunks to the next large malloc, a step's */
        malloc_trim(0);

        struct step_case best = {0};
        int r = 0;
        for (unsigned i = 0; i < rounds; i++) {
                struct step_case sc = {.body = body, .size = len};
                r = run_steps(&sc);
                if (i == 0 || sc.longest < best.longest)
                        best = sc;
        }
        snprintf(label, sizeof(label), "%s, longest of %u steps", name, best.steps);
        n_over += best.longest > BUDGET_MS;
        printf("%-44s %9.1f KiB %9.2f  %-3s", label, (double)len / 1024, best.longest,
               best.longest <= BUDGET_MS ? "yes" : "NO");
        if (r < 0)
                printf("  refused: %s", strerror(-r));
        printf("\n");
        fflush(stdout);
}

/* ---- mail -------------------------------------------------------------------------------- */

static int run_mail(void *userdata)
{
        const struct mail_message *m = userdata;
        char *msg = NULL;
        size_t size;
        int r = mail_build(m, &msg, &size);
        free(msg);
        return r;
}

static void bench_mail(size_t body_size)
{
        /* 64 + "@" + 189: MAIL_ADDR_MAX, with labels of 63 (CONFIG_LABEL_MAX) */
        char addr[MAIL_ADDR_MAX + 1], from[512], *to[11] = {0}, name[64], id[65];
        snprintf(addr, sizeof(addr), "%s@%s.%s.%.61s", (char[65]){[0 ... 63] = 'l'},
                 (char[64]){[0 ... 62] = 'a'}, (char[64]){[0 ... 62] = 'b'},
                 (char[64]){[0 ... 62] = 'c'});
        snprintf(id, sizeof(id), "%s", (char[65]){[0 ... 63] = '7'});
        _cleanup_free_ char *subject = repeat("Отключение воды «ул. Ленина» ", 4096);
        _cleanup_free_ char *body =
                repeat("Отключение воды\nс 9:00 до 18:00 по улице Ленина.\n", body_size / scale);
        _cleanup_free_ char *display = repeat("Администрация района ", 200);
        snprintf(from, sizeof(from), "\"%s\" <%s>", "Госпаблики уведомления", addr);
        for (size_t i = 0; i < 10; i++)
                if (asprintf(&to[i], "%s <%s>", display, addr) < 0)
                        die("out of memory", ENOMEM);
        struct mail_message m = {.from = from,
                                 .to = to,
                                 .subject = subject,
                                 .body = body,
                                 .date = 1773126000,
                                 .utc_offset = 10800,
                                 .message_id = id};
        snprintf(name, sizeof(name), "mail: %zu KiB body, 10 x 254-byte to", body_size / 1024);
        measure(name, strlen(body) + strlen(subject), run_mail, &m, false);
        for (size_t i = 0; i < 10; i++)
                free(to[i]);
}

int main(int argc, char **argv)
{
        int arg = 1;
        (void)mallopt(M_MXFAST, 0); /* as govwatchd does (main.c) */
        if (argc > arg && streq(argv[arg], "--quick"))
                rounds = 1, scale = 16, arg++;
        if (argc > arg && argv[arg][0] != '-')
                only = argv[arg++];
        if (argc > arg) {
                fprintf(stderr, "usage: bench-hostile [--quick] [NAME-SUBSTRING]\n");
                return 2;
        }
        log_set_max_level(LOG_ERR);
        setenv("GOVWATCH_RULES", GOVWATCH_SOURCE_DIR "/data/rules.yaml", 1);
        corpus_load();
        printf("%-44s %13s %9s  %-3s\n", "input", "size", "CPU ms", "<50");

        size_t cap = CONFIG_SIZE / scale - 64, max_nodes = CONFIG_NODES / scale;
        bench_config("config: minimal (reference: rules + model)",
                     strdup("sinks: {screen: {type: console}}\nwatch:\n- topic: t\n"
                            "  communities: [sevadm]\n  sinks: [screen]\n"),
                     NULL);
        bench_config("config: 256 sinks, unknown sink names", config_unknown_sinks(cap, max_nodes),
                     NULL);
        bench_config("config: 50,000 communities, entries to cap",
                     config_communities(cap, max_nodes), NULL);
        bench_config("config: alerts: [a,a,...] to the values cap",
                     config_alerts(cap, max_nodes - NODES_RESERVED), NULL);
        bench_config("config: 1 MiB alerts: [a,a,...]", config_alerts(cap, SIZE_MAX), NULL);
        struct govwatch_prepared worst = {0}, runaway = {0};
        bench_config("config: classifier 8x64 phrases, 100 re, 60 ex", config_classifier(false),
                     &worst);
        bench_config("config: classifier as above, runaway regexes", config_classifier(true),
                     &runaway);

        _cleanup_free_ char *shipped = NULL;
        size_t shipped_size;
        int r = read_full_file(GOVWATCH_SOURCE_DIR "/data/rules.yaml", 4 * 1024 * 1024, false,
                               &shipped, &shipped_size);
        if (r < 0)
                die("data/rules.yaml", r);
        bench_rules("rules: shipped data/rules.yaml (reference)", strdup(shipped));
        bench_rules("rules: words, forms, nodes and size at cap", rules_worst());
        bench_rules("rules: 10,000 one-word phrases", rules_many_phrases());
        {
                unsigned n = RULES_MAX_WORD_FORMS / (RULES_ITEMS * RULES_CLASS_WORDS);
                char label[64];
                snprintf(label, sizeof(label), "rules: %u phrases of %d x @class(%d)", n,
                         RULES_ITEMS, RULES_CLASS_WORDS);
                bench_rules(label, rules_classes(n));
        }

        struct classifier *c = NULL;
        _cleanup_free_ char *error = NULL, *model = NULL;
        bool have_model = classifier_default_model_path(&model) >= 0;
        struct classify_options opts = {.no_model = !have_model, .model_file = model};
        r = classifier_new(&opts, &c, &error);
        if (r < 0)
                die(error ? error : "classifier_new", r);
        struct tz *tz = NULL;
        r = tz_load("Europe/Moscow", &tz);
        if (r < 0)
                die("tz_load", r);
        printf("(posts: shipped rules%s unless named; sizes: text + repost + attachments)\n",
               have_model ? " + model.bin" : " alone, no model.bin found");
        double worst_post = 0;
        bench_post("post: real (corpus, reference)", c, tz, NULL, 0, 0);
        static const struct {
                const char *name, *unit;
        } shapes[] = {
                {"post: '(((/' runs", "((((((((((((((/"},
                {"post: ':' runs with '/'", "::::::::::::::::/"},
                {"post: '(' runs and links", "(https://vk.com/a(b(c/d "},
                {"post: one huge word (Cyrillic)", "ж"},
                {"post: one huge word (ASCII)", "a"},
                {"post: many short words", "а б в "},
                {"post: numbers", "1 2 3 4 "},
                {"post: dates and times", "в 18:00 12 мая "},
                {"post: time ranges", "с 9:00 до 18:00 12.05.2026 "},
                {"post: phrase starts, no ends", "прямой эфир прямая линия трансляция "},
                {"post: negations", "не не не ни "},
        };
        for (size_t i = 0; i < ELEMENTSOF(shapes); i++)
                worst_post =
                        max_ms(worst_post, bench_post(shapes[i].name, c, tz, shapes[i].unit, 0, 1));

        /* the worst config's start words, then its next items, then its "=с" items: every phrase
         * runs to its last item and is tried at every start (CLASSIFY_PHRASE_STEPS stops it) */
        struct strbuf starts = {0};
        for (unsigned g = 0; g < N_START_WORDS; g++)
                put(&starts, "ш%s ", CYR(g, 3));
        put(&starts, "воды улицы");
        for (unsigned k = 3; k < RULES_ITEMS - 1; k++)
                put(&starts, " с");
        put(&starts, " ");
        /* runaway regexes: PCRE2's match limit counts from each start position again, so a text
         * too short to reach it at any position costs O(n^2) ("а б в " x 2 KiB: 3.6 ms a regex;
         * from ~2.3 KiB on, the JIT stack gives up at once); titles of 4 videos are subjects of
         * their own within their 8 KiB */
        const struct {
                const char *name, *unit;
                const struct classifier *c;
                size_t size;
                unsigned n_videos;
        } worst_shapes[] = {
                {"post: dates [worst config]", "в 18:00 12 мая отключение воды ", worst.classifier,
                 0, 1},
                {"post: start words, no ends [worst config]", starts.buf, worst.classifier, 0, 1},
                {"post: many short words [worst config]", "а б в ", worst.classifier, 0, 1},
                {"post: one huge word (ASCII) [runaway re]", "a", runaway.classifier, 0, 1},
                {"post: one huge word (Cyrillic) [runaway re]", "ж", runaway.classifier, 0, 1},
                {"post: many short words [runaway re]", "а б в ", runaway.classifier, 0, 1},
                {"post: start words, no ends [runaway re]", starts.buf, runaway.classifier, 0, 1},
                {"post: 2 KiB short words, 4 videos [runaway re]", "а б в ", runaway.classifier,
                 2048, 4},
        };
        for (size_t i = 0; i < ELEMENTSOF(worst_shapes); i++)
                if (worst_shapes[i].c)
                        worst_post = max_ms(worst_post,
                                            bench_post(worst_shapes[i].name, worst_shapes[i].c, tz,
                                                       worst_shapes[i].unit, worst_shapes[i].size,
                                                       worst_shapes[i].n_videos));
        strbuf_done(&starts);
        govwatch_prepared_done(&worst);
        govwatch_prepared_done(&runaway);

        size_t sizes[] = {1, 4, VK_ANSWER_MAX_MIB};
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                char name[64];
                snprintf(name, sizeof(name), "answer: %zu MiB of wall posts", sizes[i]);
                bench_answer(name, ANSWER_WALLS, sizes[i] * 1024 * 1024 / scale);
        }
        bench_answer("answer: 32 MiB of [0,0,0,...] posts", ANSWER_ZEROS,
                     VK_ANSWER_MAX_BYTES / scale);
        bench_answer("answer: 32 MiB in 25 long strings", ANSWER_STRING,
                     VK_ANSWER_MAX_BYTES / scale);
        bench_answer("answer: 32 MiB of [{},{},...] posts", ANSWER_TINY,
                     VK_ANSWER_MAX_BYTES / scale);
        bench_answer("answer: 32 MiB of dense posts at the piece cap", ANSWER_DENSE,
                     VK_ANSWER_MAX_BYTES / scale);
        bench_answer("answer: 32 MiB, one wall of [{},{},...] posts", ANSWER_TINY | ANSWER_ONE_WALL,
                     VK_ANSWER_MAX_BYTES / scale);
        bench_answer("answer: 32 MiB, one wall of dense posts at the cap",
                     ANSWER_DENSE | ANSWER_ONE_WALL, VK_ANSWER_MAX_BYTES / scale);

        bench_mail(64 * 1024);
        bench_mail(4 * 64 * 1024);

        printf("%u input(s) over %.0f ms; worst post %.1f ms\n", n_over, BUDGET_MS, worst_post);
        classifier_free(c);
        tz_free(tz);
        for (size_t i = 0; i < n_corpus; i++)
                free(corpus[i]);
        return 0;
}
