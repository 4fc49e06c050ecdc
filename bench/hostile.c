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
        n_over += best > BUDGET_MS;
        printf("%-44s %9.1f KiB %9.2f  %-3s", name, (double)size / 1024, best,
               best <= BUDGET_MS ? "yes" : "NO");
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

/* ---- config ------------------------------------------------------------------------------ */

/* The real caps, copied from config.c (not exported): the file must stay under them. */
#define CONFIG_SIZE (1024 * 1024 - 64)
#define N_SINKS     256
#define N_WATCH     10000
#define N_COMM      50000
#define N_ITEMS     5000

/* A sink name of 60 bytes sharing 56 with every other: each strcmp() of the lookup runs long. */
static void sink_name(struct strbuf *sb, char tag, unsigned i)
{
        put(sb, "s%.55s%c%03u", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            tag, i);
}

static void config_sinks(struct strbuf *sb, unsigned n)
{
        put(sb, "sinks:\n");
        for (unsigned i = 0; i < n; i++) {
                put(sb, "  ");
                sink_name(sb, 'd', i);
                put(sb, ": {type: console}\n");
        }
}

/* (a) every watch entry names sinks nobody defined */
static char *config_unknown_sinks(size_t limit)
{
        struct strbuf sb = {0};
        config_sinks(&sb, N_SINKS / scale);
        put(&sb, "watch:\n");
        for (unsigned w = 0; sb.len < limit - 4096; w++) {
                put(&sb, "  - topic: t%u\n    communities: [club%u]\n    sinks: [", w, w + 1);
                for (unsigned i = 0; i < 60; i++) {
                        put(&sb, i ? ", " : "");
                        sink_name(&sb, 'u', (w * 60 + i) % 1000);
                }
                put(&sb, "]\n");
        }
        return sb.buf;
}

/* (b) the watch list at its caps: N_WATCH entries, N_COMM communities */
static char *config_communities(size_t limit)
{
        struct strbuf sb = {0};
        config_sinks(&sb, 1);
        put(&sb, "watch:\n");
        unsigned per = N_COMM / N_WATCH;
        for (unsigned w = 0; w < N_WATCH / scale && sb.len < limit - 256; w++) {
                put(&sb, "- topic: t%u\n  sinks: [", w);
                sink_name(&sb, 'd', 0);
                put(&sb, "]\n  communities: [");
                for (unsigned i = 0; i < per; i++)
                        put(&sb, "%sa%05u%u", i ? "," : "", w, i);
                put(&sb, "]\n");
        }
        return sb.buf;
}

/* (c) N_ITEMS classifier phrases, regexes and exclusions over 50 categories of the admin's */
static char *config_classifier(size_t limit)
{
        struct strbuf sb = {0};
        config_sinks(&sb, 1);
        put(&sb, "watch:\n- topic: t\n  communities: [club1]\n  categories: all\n  sinks: [");
        sink_name(&sb, 'd', 0);
        put(&sb, "]\nclassifier:\n  categories:\n");
        unsigned per = N_ITEMS / 50 / scale;
        for (unsigned c = 0; c < 50 && sb.len < limit - 40000 / scale; c++) {
                put(&sb, "    cat%02u:\n      phrases:\n", c);
                for (unsigned i = 0; i < per * 6 / 10; i++)
                        put(&sb,
                            "      - \"отключени*|авари*|ремонт*|порыв* ~5 =воды|электроэнерги*|"
                            "газ*|отоплени* ~3 улиц*|дом*|район* ~2 =с ~2 #%u ~1 час*\"\n",
                            c * 1000 + i);
                put(&sb, "      regex:\n");
                for (unsigned i = 0; i < per * 2 / 10; i++)
                        put(&sb,
                            "      - '\\b(?:отключ|авари|ремонт|порыв)\\w*\\s+(?:\\w+\\s+){0,4}"
                            "(?:вод|свет|газ|тепл)\\w*(?:\\s+\\w+){0,6}\\s+\\d{1,2}[.:]\\d{2}"
                            "\\D{0,20}%u'\n",
                            c * 1000 + i);
                put(&sb, "      exclude:\n");
                for (unsigned i = 0; i < per * 2 / 10; i++)
                        put(&sb,
                            "      - \"подача ~3 восстановлен*|возобновлен* ~2 =в ~2 "
                            "полном ~1 объеме #%u\"\n",
                            c * 1000 + i);
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
        if (error && getenv("HOSTILE_VERBOSE"))
                fprintf(stderr, "%s\n", error);
        free(error);
        ruleset_free(rs);
        return r;
}

static const char letters[] = "абвгдежзиклмнопрстуфхцчшщэюя"; /* 28, two bytes each */

/* n written in Cyrillic letters, three of them (numbers are words of their own) */
static const char *cyr(unsigned n, char buf[8])
{
        for (unsigned i = 0; i < 3; i++, n /= 28)
                memcpy(buf + 2 * i, letters + 2 * (n % 28), 2);
        buf[6] = '\0';
        return buf;
}

/* 10,000 rules of 5 phrases each (RULES_MAX_RULES, RULES_MAX_PHRASES), about 4 MiB */
static char *rules_many(void)
{
        struct strbuf sb = {0};
        put(&sb, "version: 1\ncategories:\n  live:\n    threshold: 1.0\n    rules:\n");
        for (unsigned i = 0; i < RULES_MAX_RULES / scale; i++) {
                put(&sb, "      - phrases: [");
                for (unsigned j = 0; j < 5; j++)
                        put(&sb, "%s\"=слово%s|прием* ~4 эфир*|трансляц* ~2 к%s\"", j ? ", " : "",
                            cyr(i * 5 + j, (char[8]){0}), cyr(i, (char[8]){0}));
                put(&sb, "]\n        weight: 0.%u\n", 1 + i % 9);
        }
        return sb.buf;
}

/* A word class of 1,024 words named 16 times in each phrase: every phrase expands to 16,384
 * atoms, each normalised, stemmed and deduplicated by a scan. n phrases only: the cost is per
 * phrase, and RULES_MAX_PHRASES of them would take minutes and gigabytes. */
static char *rules_classes(unsigned n)
{
        struct strbuf sb = {0};
        put(&sb, "version: 1\nwords:\n  big: >-\n   ");
        for (unsigned i = 0; i < 1024; i++)
                put(&sb, " =ш%s", cyr(i, (char[8]){0}));
        put(&sb, "\ncategories:\n  live:\n    threshold: 1.0\n    rules:\n      - phrases: [");
        for (unsigned i = 0; i < n; i++)
                put(&sb,
                    "%s\"@big @big @big @big @big @big @big @big @big @big @big @big @big "
                    "@big @big @big\"",
                    i ? ", " : "");
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
 * levels), each with video and link attachments filling their budget. */
static json_t *hostile_post(const char *text, unsigned depth)
{
        size_t half = strlen(text) / 2;
        while (half > 0 && ((unsigned char)text[half] & 0xC0) == 0x80)
                half--; /* a character boundary: JSON strings are UTF-8 */
        json_t *video = json_pack("{s:s,s:s%,s:s%,s:i,s:I}", "type", "video", "title", text, half,
                                  "description", text + half, strlen(text) - half, "upcoming", 1,
                                  "live_start_time", (json_int_t)1773140400);
        json_t *p = json_pack("{s:I,s:I,s:I,s:s,s:[{s:s,s:o}]}", "id", (json_int_t)(100 + depth),
                              "owner_id", (json_int_t)-1, "date", (json_int_t)1773126000, "text",
                              text, "attachments", "type", "video", "video", video);
        if (!p)
                die("json_pack", ENOMEM);
        if (depth < 2)
                json_object_set_new(p, "copy_history",
                                    json_pack("[o]", hostile_post(text, depth + 1)));
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

static double bench_post(const char *name, const struct classifier *c, const struct tz *tz,
                         const char *unit, bool nested)
{
        size_t size = POST_TEXT_MAX / scale;
        _cleanup_free_ char *text = unit ? repeat(unit, size) : strdup(corpus[0]);
        struct post_case pc = {
                .c = c,
                .tz = tz,
                .json = nested ? hostile_post(text, 0)
                               : json_pack("{s:I,s:I,s:I,s:s}", "id", (json_int_t)1, "owner_id",
                                           (json_int_t)-1, "date", (json_int_t)1773126000, "text",
                                           text),
        };
        double t = measure(name, nested ? 6 * strlen(text) : strlen(text), run_post, &pc, false);
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

enum answer_shape { ANSWER_WALLS, ANSWER_ZEROS, ANSWER_STRING };

/* An execute answer of 25 wall.get results, about size bytes */
static char *vk_answer(enum answer_shape shape, size_t size)
{
        struct strbuf sb = {0};
        put(&sb, "{\"response\":[");
        for (unsigned call = 0, id = 0; call < 25; call++) {
                size_t goal = (size - 8192) / 25 * (call + 1); /* under the cap */
                put(&sb, call ? "," : "");
                if (shape == ANSWER_ZEROS) {
                        put(&sb, "[0");
                        while (sb.len < goal)
                                put(&sb, ",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0");
                        put(&sb, "]");
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
        bool whole; /* vk_result_parse rather than vk_result_parse_each */
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
        const char *reason = NULL; /* vk.c writes it unchecked: not optional */
        int r;
        if (ac->whole) {
                r = vk_result_parse(ac->body, ac->size, 25, &res, &reason);
                for (size_t i = 0; r >= 0 && i < res->n_calls; i++)
                        if (res->calls[i].response)
                                on_wall(i, res->calls[i].response, NULL);
        } else
                r = vk_result_parse_each(ac->body, ac->size, 25, on_wall, NULL, &res, &reason);
        vk_result_free(res);
        return r;
}

static void bench_answer(const char *name, enum answer_shape shape, size_t size)
{
        if (only && !strstr(name, only))
                return; /* 32 MiB take a while to build */
        _cleanup_free_ char *body = vk_answer(shape, size);
        for (int whole = 0; whole < 2; whole++) {
                struct answer_case ac = {.body = body, .size = strlen(body), .whole = whole};
                char label[96];
                snprintf(label, sizeof(label), "%s, %s", name, whole ? "parse" : "parse_each");
                measure(label, ac.size, run_answer, &ac, true);
        }
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

        size_t cap = CONFIG_SIZE / scale;
        bench_config("config: minimal (reference: rules + model)",
                     strdup("sinks: {screen: {type: console}}\nwatch:\n- topic: t\n"
                            "  communities: [sevadm]\n  sinks: [screen]\n"),
                     NULL);
        bench_config("config: 256 sinks, unknown sink names", config_unknown_sinks(cap), NULL);
        bench_config("config: 10,000 entries, 50,000 communities", config_communities(cap), NULL);
        struct govwatch_prepared big = {0};
        bench_config("config: 5,000 classifier items", config_classifier(cap), &big);

        _cleanup_free_ char *shipped = NULL;
        size_t shipped_size;
        int r = read_full_file(GOVWATCH_SOURCE_DIR "/data/rules.yaml", 4 * 1024 * 1024, false,
                               &shipped, &shipped_size);
        if (r < 0)
                die("data/rules.yaml", r);
        bench_rules("rules: shipped data/rules.yaml (reference)", strdup(shipped));
        bench_rules("rules: 10,000 rules x 5 phrases", rules_many());
        unsigned n_class = 40 / scale;
        double per_phrase = 0;
        {
                char note[96];
                _cleanup_free_ char *text = rules_classes(n_class);
                struct config_case rc = {.text = text, .size = strlen(text)};
                char label[64];
                snprintf(label, sizeof(label), "rules: %u phrases of 16 x @class(1024)", n_class);
                per_phrase = measure(label, rc.size, run_rules, &rc, false) / n_class;
                snprintf(note, sizeof(note), "  (%.2f ms a phrase: %.0f s at %d phrases)",
                         per_phrase, per_phrase * RULES_MAX_PHRASES / 1e3, RULES_MAX_PHRASES);
                printf("%s\n", note);
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
        printf("(posts: rules%s; sizes: text + repost + attachments)\n",
               have_model ? " + model.bin" : " alone, no model.bin found");
        bench_post("post: real (corpus, reference)", c, tz, NULL, false);
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
        double worst_post = 0;
        for (size_t i = 0; i < ELEMENTSOF(shapes); i++) {
                double t = bench_post(shapes[i].name, c, tz, shapes[i].unit, true);
                worst_post = t > worst_post ? t : worst_post;
        }
        if (big.classifier)
                bench_post("post: dates, 5,000-item config classifier", big.classifier, tz,
                           "в 18:00 12 мая отключение воды ", true);
        govwatch_prepared_done(&big);

        size_t sizes[] = {1, 4, VK_ANSWER_MAX_MIB};
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                char name[64];
                snprintf(name, sizeof(name), "answer: %zu MiB of wall posts", sizes[i]);
                bench_answer(name, ANSWER_WALLS, sizes[i] * 1024 * 1024 / scale);
        }
        bench_answer("answer: 32 MiB [0,0,0,...]", ANSWER_ZEROS, VK_ANSWER_MAX_BYTES / scale);
        bench_answer("answer: 32 MiB in 25 long strings", ANSWER_STRING,
                     VK_ANSWER_MAX_BYTES / scale);

        bench_mail(64 * 1024);
        bench_mail(4 * 64 * 1024);

        printf("%u input(s) over %.0f ms; worst post %.1f ms\n", n_over, BUDGET_MS, worst_post);
        classifier_free(c);
        tz_free(tz);
        for (size_t i = 0; i < n_corpus; i++)
                free(corpus[i]);
        return 0;
}
