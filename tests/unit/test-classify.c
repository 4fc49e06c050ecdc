/* test-classify.c — the classifier as a resident sees it: a failure here means a missed live
 * broadcast, water cut or storm warning, or a notification about a recap nobody needs. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "classify.h"
#include "classify_cli.h"
#include "model.h"
#include "rules.h"
#include "timeparse.h"
#include "util.h"
#include "vk.h"

static char *default_rules(void)
{
        const char *dir = getenv("GOVWATCH_SOURCE_DIR");
        struct strbuf sb = {0};
        assert_int_equal(strbuf_appendf(&sb, "%s/data/rules.yaml", dir ? dir : GOVWATCH_SOURCE_DIR),
                         0);
        return sb.buf;
}

/* The rules alone: most tests here are about what the rules mean (morphology, negation, gaps,
 * signals), which must not depend on what the model learned. */
static struct classifier *new_classifier_opts(const struct classify_user_category *user,
                                              size_t n_user, bool with_model)
{
        _cleanup_free_ char *path = default_rules();
        struct classify_options opts = {
                .rules_file = path, .user = user, .n_user = n_user, .no_model = !with_model};
        struct classifier *c = NULL;
        char *error = NULL;
        int r = classifier_new(&opts, &c, &error);
        if (r < 0)
                fail_msg("classifier_new: %s", error ? error : strerror(-r));
        free(error);
        if (with_model && !classifier_model(c))
                fail_msg("no model.bin beside the test binary: the build makes it");
        return c;
}

static struct classifier *new_classifier(const struct classify_user_category *user, size_t n_user)
{
        return new_classifier_opts(user, n_user, false);
}

/* The classifier as the daemon runs it: rules and the model built from data/corpus. */
static struct classifier *new_full_classifier(const struct classify_user_category *user,
                                              size_t n_user)
{
        return new_classifier_opts(user, n_user, true);
}

static struct post *post_json(const char *json)
{
        json_error_t err;
        json_t *o = json_loads(json, 0, &err);
        if (!o)
                fail_msg("bad test JSON: %s", err.text);
        struct post *p = NULL;
        assert_int_equal(post_from_json(o, &p, NULL), 0);
        json_decref(o);
        return p;
}

/* 2026-03-10 10:00 Moscow, a Tuesday */
#define DATE "1773126000"

static struct post *post_text(const char *text)
{
        json_t *o = json_pack("{s:I,s:I,s:I,s:s}", "id", (json_int_t)1, "owner_id", (json_int_t)-1,
                              "date", (json_int_t)1773126000, "text", text);
        struct post *p = NULL;
        assert_int_equal(post_from_json(o, &p, NULL), 0);
        json_decref(o);
        return p;
}

static uint64_t categories_of(struct classifier *c, struct post *p)
{
        struct classify_result res;
        assert_int_equal(classifier_classify(c, p, &res), 0);
        return res.categories;
}

#define BIT(x) (UINT64_C(1) << (x))

static void assert_text(struct classifier *c, const char *text, uint64_t expected)
{
        struct post *p = post_text(text);
        uint64_t got = categories_of(c, p);
        if (got != expected) {
                struct classify_result res;
                classifier_explain(c, p, stderr, &res);
                fail_msg("\"%s\": got %#" PRIx64 ", expected %#" PRIx64, text, got, expected);
        }
        post_free(p);
}

static void test_categories_and_morphology(void **state)
{
        struct classifier *c = new_classifier(NULL, 0);
        assert_int_equal(classifier_n_categories(c), _CATEGORY_BUILTIN_MAX);
        assert_string_equal(classifier_category_name(c, CATEGORY_CIVIC), "civic");
        assert_int_equal(classifier_category_index(c, "outage"), CATEGORY_OUTAGE);
        assert_int_equal(classifier_category_index(c, "nope"), -ENOENT);
        assert_int_equal(category_builtin_from_name("live"), CATEGORY_LIVE);

        /* any form of a word: "прямую линию" is "прямая линия" */
        assert_text(c, "Глава района проведёт прямую линию в четверг в 18:00.", BIT(CATEGORY_LIVE));
        assert_text(c, "#ПрямойЭфир с главой города сегодня в 19:00", BIT(CATEGORY_LIVE));
        /* a word in another sense */
        assert_text(c, "Эфирные масла не заменяют лекарства.", 0);
        assert_text(c, "На линию вышел «Автобус Почёта» с портретами лучших водителей.", 0);
        assert_text(c, "Ответим на каждый вопрос жителей.", 0); /* вопрос is not опрос */
        classifier_free(c);
}

static void test_negatives(void **state)
{
        struct classifier *c = new_classifier(NULL, 0);
        /* recaps, results, drills, restored supply */
        assert_text(c,
                    "Вчера в прямом эфире глава ответил на вопросы жителей. Запись эфира — ниже.",
                    0);
        assert_text(c, "Итоги опроса: жители выбрали новую площадку.", 0);
        assert_text(c, "В школе прошла учебная эвакуация, тренировка прошла успешно.", 0);
        assert_text(c, "Водоснабжение в посёлке полностью восстановлено.", 0);
        assert_text(c, "ЧС на территории района не прогнозируется.", 0);
        /* negation: "не прекращается" is no outage, "не будет света" is one */
        assert_text(c,
                    "Перекрыт проезд по ул. Мира, объезд по ул. Гоголя. Газоснабжение домов не "
                    "прекращается.",
                    BIT(CATEGORY_SCHEDULE));
        assert_text(c, "Завтра с 9:00 до 17:00 не будет света на ул. Почтовой.",
                    BIT(CATEGORY_OUTAGE));
        classifier_free(c);
}

/* The plainest post of each category, and one of none: what every classifier must get right. */
static void assert_plainest_posts(struct classifier *c)
{
        assert_text(c, "Записаться к врачу можно через Госуслуги или по единому номеру 122.",
                    BIT(CATEGORY_SERVICE));
        assert_text(c, "С 1 мая меняется расписание автобусов маршрута №12.",
                    BIT(CATEGORY_SCHEDULE));
        assert_text(c, "12 марта с 9 до 16 ч. плановое отключение электроэнергии на ул. Ленина.",
                    BIT(CATEGORY_OUTAGE));
        assert_text(c, "Штормовое предупреждение! Ожидается ветер до 30 м/с.",
                    BIT(CATEGORY_EMERGENCY));
        assert_text(c, "Примите участие в опросе о благоустройстве парка до 30 марта!",
                    BIT(CATEGORY_CIVIC));
        assert_text(c, "С Днём учителя! Спасибо за ваш труд.", 0);
}

static void test_each_category(void **state)
{
        struct classifier *c = new_classifier(NULL, 0);
        assert_plainest_posts(c);
        classifier_free(c);
}

static void test_attachments_and_reposts(void **state)
{
        struct classifier *c = new_classifier(NULL, 0);
        struct classify_result res;
        char buf[40];

        /* an upcoming live video: live, starting at live_start_time */
        struct post *p = post_json("{\"id\":2,\"owner_id\":-1,\"date\":" DATE ",\"text\":\"\","
                                   "\"attachments\":[{\"type\":\"video\",\"video\":{\"id\":1,"
                                   "\"owner_id\":-1,\"title\":\"Встреча с жителями\",\"live\":1,"
                                   "\"upcoming\":1,\"live_start_time\":1773219600}}]}");
        assert_int_equal(classifier_classify(c, p, &res), 0);
        assert_int_equal(res.categories, BIT(CATEGORY_LIVE));
        classify_result_starts_at(&res, buf, sizeof(buf));
        assert_string_equal(buf, "2026-03-11T12:00:00+03:00");
        post_free(p);

        /* a finished live video is a recording, not a broadcast */
        p = post_json("{\"id\":3,\"owner_id\":-1,\"date\":" DATE
                      ",\"text\":\"Прямой эфир с главой\","
                      "\"attachments\":[{\"type\":\"video\",\"video\":{\"id\":1,\"owner_id\":-1,"
                      "\"live\":1,\"live_status\":\"finished\"}}]}");
        assert_int_equal(categories_of(c, p), 0);
        post_free(p);

        /* an open poll is civic, a closed one is not */
        p = post_json("{\"id\":4,\"owner_id\":-1,\"date\":" DATE ",\"text\":\"Выскажитесь!\","
                      "\"attachments\":[{\"type\":\"poll\",\"poll\":{\"id\":1,\"question\":\"Где "
                      "поставить лавочки?\",\"closed\":false}}]}");
        assert_int_equal(categories_of(c, p), BIT(CATEGORY_CIVIC));
        post_free(p);
        p = post_json("{\"id\":5,\"owner_id\":-1,\"date\":" DATE ",\"text\":\"Спасибо всем!\","
                      "\"attachments\":[{\"type\":\"poll\",\"poll\":{\"id\":1,\"question\":\"Где "
                      "поставить лавочки?\",\"closed\":true}}]}");
        assert_int_equal(categories_of(c, p), 0);
        post_free(p);

        /* a repost is read by its copy_history content */
        p = post_json("{\"id\":6,\"owner_id\":-1,\"date\":" DATE
                      ",\"text\":\"\",\"copy_history\":[{"
                      "\"id\":9,\"owner_id\":-2,\"date\":1773120000,\"text\":\"Аварийное "
                      "отключение! Без воды остались дома по ул. Садовой.\"}]}");
        assert_int_equal(categories_of(c, p), BIT(CATEGORY_OUTAGE));
        post_free(p);
        classifier_free(c);
}

/* VK marks an upcoming broadcast either way: "type":"live" with "upcoming":1 and no "live", or
 * "live":1 on a "type":"video". Both are a live broadcast starting at live_start_time; a start
 * time no VK answer can hold is absent, never a reminder in another millennium. */
static void test_live_variants_and_wild_times(void **state)
{
        static const char *const videos[] = {
                "\"type\":\"live\",\"upcoming\":1",
                "\"type\":\"video\",\"live\":1,\"upcoming\":1",
                "\"live\":1",
        };
        struct classifier *c = new_classifier(NULL, 0);
        struct classify_result res;
        char buf[40];

        for (size_t i = 0; i < ELEMENTSOF(videos); i++) {
                _cleanup_free_ char *json = NULL;
                assert_true(asprintf(&json,
                                     "{\"id\":2,\"owner_id\":-1,\"date\":" DATE
                                     ",\"text\":\"\",\"attachments\":[{\"type\":\"video\","
                                     "\"video\":{\"id\":1,\"owner_id\":-1,\"title\":\"Встреча "
                                     "с жителями\",%s,\"live_start_time\":1773219600}}]}",
                                     videos[i]) > 0);
                struct post *p = post_json(json);
                assert_int_equal(classifier_classify(c, p, &res), 0);
                if (res.categories != BIT(CATEGORY_LIVE))
                        fail_msg("%s: categories %#" PRIx64, videos[i], res.categories);
                classify_result_starts_at(&res, buf, sizeof(buf));
                assert_string_equal(buf, "2026-03-11T12:00:00+03:00");
                post_free(p);
        }

        struct post *p = post_json(
                "{\"id\":3,\"owner_id\":-1,\"date\":" DATE
                ",\"text\":\"Прямой эфир\",\"attachments\":[{\"type\":\"video\",\"video\":{"
                "\"type\":\"live\",\"upcoming\":1,\"live_start_time\":9223372036854775000}}]}");
        assert_int_equal(classifier_classify(c, p, &res), 0);
        assert_int_equal(res.categories, BIT(CATEGORY_LIVE));
        classify_result_starts_at(&res, buf, sizeof(buf));
        assert_string_equal(buf, "");
        post_free(p);
        classifier_free(c);
}

static void test_start_time_and_reschedule(void **state)
{
        struct classifier *c = new_classifier(NULL, 0);
        struct classify_result res;
        char buf[40];

        struct post *p =
                post_text("Завтра в 12.00 — прямой эфир с главой района. Задавайте вопросы!");
        assert_int_equal(classifier_classify(c, p, &res), 0);
        assert_int_equal(res.categories, BIT(CATEGORY_LIVE));
        assert_false(res.reschedule);
        classify_result_starts_at(&res, buf, sizeof(buf));
        assert_string_equal(buf, "2026-03-11T12:00:00+03:00");
        post_free(p);

        p = post_text("Прямой эфир с главой переносится с 17:00 на 19:00 в четверг.");
        assert_int_equal(classifier_classify(c, p, &res), 0);
        assert_true(res.categories & BIT(CATEGORY_LIVE));
        assert_true(res.reschedule);
        classify_result_starts_at(&res, buf, sizeof(buf));
        assert_string_equal(buf, "2026-03-12T19:00:00+03:00");
        post_free(p);

        /* a headline's time without its date gives way to the time stated with one */
        p = post_text("Начало – в 12 часов.\nВ четверг, 12 марта, прямой эфир с главой района. "
                      "Трансляция начнется в 12:00.");
        assert_int_equal(classifier_classify(c, p, &res), 0);
        assert_true(res.categories & BIT(CATEGORY_LIVE));
        classify_result_starts_at(&res, buf, sizeof(buf));
        assert_string_equal(buf, "2026-03-12T12:00:00+03:00");
        post_free(p);

        /* a community in another zone */
        struct tz *ekb = NULL;
        assert_int_equal(tz_load("Asia/Yekaterinburg", &ekb), 0);
        p = post_text("Сегодня в 18:00 прямой эфир.");
        assert_int_equal(classifier_classify_tz(c, p, ekb, &res), 0);
        classify_result_starts_at(&res, buf, sizeof(buf));
        assert_string_equal(buf, "2026-03-10T18:00:00+05:00");
        post_free(p);
        tz_free(ekb);

        /* not live: no start time even if the text has one */
        p = post_text("Приём граждан по четвергам с 14:00.");
        assert_int_equal(classifier_classify(c, p, &res), 0);
        assert_int_equal(res.starts_at, 0);
        post_free(p);
        classifier_free(c);
}

static void test_user_categories(void **state)
{
        char *pets_phrases[] = {"бездомн* собак*", "отлов ~2 животн*", NULL};
        char *pets_regex[] = {"\\bприют(а|ы)?\\b", NULL};
        char *live_exclude[] = {"радио", NULL};
        char *civic_phrases[] = {"субботник", NULL};
        struct classify_user_category user[] = {
                {.name = "pets", .phrases = pets_phrases, .regexes = pets_regex},
                {.name = "live", .exclude = live_exclude},
                {.name = "civic", .phrases = civic_phrases},
        };
        struct classifier *c = new_classifier(user, ELEMENTSOF(user));
        assert_int_equal(classifier_n_categories(c), _CATEGORY_BUILTIN_MAX + 1);
        int pets = classifier_category_index(c, "pets");
        assert_int_equal(pets, _CATEGORY_BUILTIN_MAX);

        assert_text(c, "Бездомные собаки на ул. Мира: куда звонить", BIT(pets));
        assert_text(c, "Проводится отлов безнадзорных животных", BIT(pets));
        assert_text(c, "Городской ПРИЮТ ищет волонтёров", BIT(pets)); /* regex, caseless */
        assert_text(c, "Приютили котёнка", 0);                        /* regex word bounds */
        assert_text(c, "Глава выйдет в прямой эфир районного радио завтра в 9:00", 0); /* exclude */
        assert_text(c, "В субботу общегородской субботник", BIT(CATEGORY_CIVIC));
        classifier_free(c);

        /* a bad regex is a clear error */
        char *bad[] = {"(unclosed", NULL};
        struct classify_user_category u2 = {.name = "x", .regexes = bad};
        _cleanup_free_ char *path = default_rules();
        struct classify_options opts = {.rules_file = path, .user = &u2, .n_user = 1};
        char *error = NULL;
        assert_int_equal(classifier_new(&opts, &c, &error), -EINVAL);
        assert_non_null(error);
        assert_non_null(strstr(error, "regex"));
        free(error);
}

/* What the rules promise holds with the model beside them: a sure rule assigns its category
 * whatever the model says, a veto clears it, an admin's phrase is decisive; and the model does
 * not undo the plainest posts of each category. */
static void test_with_model(void **state)
{
        char *civic_phrases[] = {"субботник", NULL};
        char *live_exclude[] = {"радио", NULL};
        struct classify_user_category user[] = {
                {.name = "civic", .phrases = civic_phrases},
                {.name = "live", .exclude = live_exclude},
        };
        struct classifier *c = new_full_classifier(user, ELEMENTSOF(user));
        struct classify_result res;

        /* an upcoming live video with no words at all: live (sure), with its start */
        struct post *p = post_json("{\"id\":2,\"owner_id\":-1,\"date\":" DATE ",\"text\":\"\","
                                   "\"attachments\":[{\"type\":\"video\",\"video\":{\"id\":1,"
                                   "\"owner_id\":-1,\"live\":1,\"upcoming\":1,"
                                   "\"live_start_time\":1773219600}}]}");
        assert_int_equal(classifier_classify(c, p, &res), 0);
        assert_int_equal(res.categories, BIT(CATEGORY_LIVE));
        assert_int_equal(res.starts_at, 1773219600);
        post_free(p);

        /* "Прямой эфир" over a finished video: a recording (veto), whatever the words */
        p = post_json("{\"id\":3,\"owner_id\":-1,\"date\":" DATE
                      ",\"text\":\"Прямой эфир с главой района\","
                      "\"attachments\":[{\"type\":\"video\",\"video\":{\"id\":1,\"owner_id\":-1,"
                      "\"live\":1,\"live_status\":\"finished\"}}]}");
        assert_int_equal(categories_of(c, p) & BIT(CATEGORY_LIVE), 0);
        post_free(p);

        /* an open poll: civic (sure) */
        p = post_json("{\"id\":4,\"owner_id\":-1,\"date\":" DATE ",\"text\":\"\","
                      "\"attachments\":[{\"type\":\"poll\",\"poll\":{\"id\":1,\"question\":\"Где "
                      "поставить лавочки?\",\"closed\":false}}]}");
        assert_true(categories_of(c, p) & BIT(CATEGORY_CIVIC));
        post_free(p);

        /* the admin's phrase decides; the admin's exclusion vetoes */
        assert_text(c, "В субботу общегородской субботник", BIT(CATEGORY_CIVIC));
        struct post *q = post_text("Глава выйдет в прямой эфир районного радио завтра в 9:00");
        assert_int_equal(categories_of(c, q) & BIT(CATEGORY_LIVE), 0);
        post_free(q);

        /* the plainest post of each category */
        assert_text(c, "Завтра в 18:00 прямой эфир с главой района. Задавайте вопросы!",
                    BIT(CATEGORY_LIVE));
        assert_plainest_posts(c);
        classifier_free(c);
}

/* Training on an admin's handful of examples: a fold that holds every example predicts nothing,
 * and must not fail the training (the last fold used to leave its -ENODATA behind). */
/* A classifier trained with rules on corpus, read both as the corpus and as examples. */
static struct classifier *train_on(const char *rules, char *corpus)
{
        char *examples[] = {corpus, NULL};
        struct classify_options opts = {
                .rules_file = rules, .corpus_file = corpus, .example_files = examples};
        struct classifier *c = NULL;
        char *error = NULL;
        int r = classifier_new(&opts, &c, &error);
        if (r < 0)
                fail_msg("classifier_new: %s", error ? error : strerror(-r));
        assert_non_null(classifier_model(c));
        return c;
}

static void test_training_tiny_corpus(void **state)
{
        /* FNV-1a puts this text in the train split and in the last of the three folds */
        static const char line[] =
                "{\"text\": \"Завтра отключат воду, дом 0\", \"labels\": [\"outage\"]}\n";
        char corpus[] = "/tmp/test-classify-corpus-XXXXXX";
        int fd = mkstemp(corpus);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
        close(fd);
        _cleanup_free_ char *rules = default_rules();
        struct classifier *c = train_on(rules, corpus);
        assert_int_equal(classifier_model(c)->n_examples, 2);
        classifier_free(c);
        unlink(corpus);
}

static int write_rules(const char *text, char path[static 64]);

/* The threshold training picks for "outage" when a missed post is worth miss_cost needless ones,
 * on posts of which a third are clear cuts, a third clearly none, and a third alike, only one in
 * three of them a cut. */
static double outage_threshold(const char *miss_cost)
{
        static const char *const streets[] = {"Ленина",  "Мира",   "Садовой", "Лесной", "Школьной",
                                              "Полевой", "Речной", "Зеленой", "Новой",  "Горной"};
        static const char *const what[] = {"рисунков", "чтецов", "поделок", "фотографий"};
        char rules[64], corpus[] = "/tmp/test-classify-cost-XXXXXX";
        char text[256];
        snprintf(text, sizeof(text), "version: 1\ncategories:\n  outage:\n    miss_cost: %s\n",
                 miss_cost);
        write_rules(text, rules);
        int fd = mkstemp(corpus);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        assert_non_null(f);
        for (unsigned i = 0; i < 120; i++) {
                const char *street = streets[i % 10], *other = streets[(i / 10) % 10];
                if (i % 3 == 0)
                        fprintf(f,
                                "{\"text\": \"Внимание! Завтра отключат холодную воду на улице "
                                "%s и улице %s\", \"labels\": [\"outage\"]}\n",
                                street, other);
                else if (i % 3 == 1)
                        fprintf(f,
                                "{\"text\": \"Поздравляем победителей конкурса %s с улицы %s и "
                                "улицы %s\", \"labels\": []}\n",
                                what[i % 4], street, other);
                else
                        fprintf(f,
                                "{\"text\": \"Жители улицы %s и улицы %s говорят о воде\", "
                                "\"labels\": [%s]}\n",
                                street, other, i % 9 == 2 ? "\"outage\"" : "");
        }
        assert_int_equal(fclose(f), 0);
        struct classifier *c = train_on(rules, corpus);
        int k = classifier_category_index(c, "outage");
        assert_true(k >= 0);
        assert_float_equal(classifier_category_miss_cost(c, (unsigned)k), atof(miss_cost), 1e-9);
        double threshold = classifier_model(c)->threshold[k];
        classifier_free(c);
        unlink(corpus);
        unlink(rules);
        return threshold;
}

static void test_miss_cost(void **state)
{
        /* alike posts are kept out when a miss weighs one needless post, let in at nine */
        double even = outage_threshold("1"), recall = outage_threshold("9");
        if (!(recall < even))
                fail_msg("threshold %.2f for miss_cost 9, %.2f for 1", recall, even);
}

/* n examples of probability p, of which `positives` are of the category */
static size_t add_examples(double *p, bool *gold, size_t at, size_t n, double prob,
                           size_t positives)
{
        for (size_t i = 0; i < n; i++) {
                p[at + i] = prob;
                gold[at + i] = i < positives;
        }
        return at + n;
}

static void test_threshold_rule(void **state)
{
        double p[110];
        bool gold[110];
        /* 40 clear cuts, 40 clearly none, 20 alike of which 5 are cuts: F1 is best (80/85) for
         * any threshold between the alike and the clear cuts, and the threshold is that F1 / 2,
         * where a post's probability pays for flagging it, not the middle of the plateau (0.63) */
        size_t n = add_examples(p, gold, 0, 40, 0.95, 40);
        n = add_examples(p, gold, n, 40, 0.01, 0);
        n = add_examples(p, gold, n, 20, 0.30, 5);
        assert_float_equal(train_threshold(p, gold, n, 1.0), 80.0 / 85 / 2, 1e-9);
        /* a miss worth nine needless posts: letting the alike in is best, F = 450/465 */
        assert_float_equal(train_threshold(p, gold, n, 9.0), 450.0 / 465 / 10, 1e-9);
        /* posts the rules are sure of (p above 1) are in at every threshold, vetoed ones (p below
         * 0) out: 3 more hits and 2 more misses, F1 86/93 */
        n = add_examples(p, gold, n, 3, 2.0, 3);
        n = add_examples(p, gold, n, 2, -1.0, 2);
        assert_float_equal(train_threshold(p, gold, n, 1.0), 86.0 / 93 / 2, 1e-9);
        /* no positive at all: the neutral 0.5 */
        assert_float_equal(train_threshold(p, gold, 0, 1.0), 0.5, 1e-9);
        n = add_examples(p, gold, 0, 10, 0.6, 0);
        assert_float_equal(train_threshold(p, gold, n, 1.0), 0.5, 1e-9);
}

static int write_rules(const char *text, char path[static 64])
{
        snprintf(path, 64, "/tmp/test-classify-XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        size_t len = strlen(text);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
        return 0;
}

static void assert_rules_error(const char *text, const char *where, const char *what)
{
        char path[64];
        write_rules(text, path);
        struct classify_options opts = {.rules_file = path};
        struct classifier *c = NULL;
        char *error = NULL;
        assert_int_equal(classifier_new(&opts, &c, &error), -EINVAL);
        assert_null(c);
        assert_non_null(error);
        char expected[128];
        snprintf(expected, sizeof(expected), "%s:%s: ", path, where);
        if (strncmp(error, expected, strlen(expected)) != 0 || !strstr(error, what))
                fail_msg("error \"%s\", expected \"%s...%s\"", error, expected, what);
        free(error);
        unlink(path);
}

static void test_rule_file(void **state)
{
        /* a small rule file: each rule kind, a class, gaps, a new category */
        char path[64];
        write_rules("version: 1\n"
                    "words:\n"
                    "  pet: [кошк*, собак*, =кот]\n"
                    "categories:\n"
                    "  animals:\n"
                    "    threshold: 2\n"
                    "    rules:\n"
                    "      - phrase: \"@pet ~2 =потерялась|=потерялся\"\n"
                    "        weight: 2\n"
                    "      - phrase: \"=найден\"\n"
                    "        weight: 1\n"
                    "      - phrases: [\"#\", \"=кот\"]\n"
                    "        weight: 0.5\n"
                    "      - signal: photo\n"
                    "        weight: 1\n"
                    "      - phrase: \"=продам\"\n"
                    "        veto: true\n",
                    path);
        struct classify_options opts = {.rules_file = path};
        struct classifier *c = NULL;
        char *error = NULL;
        assert_int_equal(classifier_new(&opts, &c, &error), 0);
        int animals = classifier_category_index(c, "animals");
        assert_int_equal(animals, _CATEGORY_BUILTIN_MAX);
        assert_text(c, "Потерялась рыжая кошка", 0);                   /* wrong order */
        assert_text(c, "Кошка Мурка потерялась", BIT(animals));        /* gap of 1 */
        assert_text(c, "Собака очень старая и больная потерялась", 0); /* gap of 4 */
        assert_text(c, "Найден кот, звоните 123", 0); /* 1 + 0.5: a rule counts once */
        assert_text(c, "Найден кот", 0);
        assert_text(c, "Найден, фото", 0);             /* no photo attached */
        assert_text(c, "Кошка потерялась, продам", 0); /* veto */
        classifier_free(c);
        unlink(path);

        assert_rules_error("categories:\n  live:\n    threshold: 1\n    threshold: 2\n", "4:5",
                           "duplicate key");
        assert_rules_error(
                "categories:\n  live:\n    rules:\n      - phrase: x\n        wieght: 1\n", "5:9",
                "unknown key \"wieght\"");
        assert_rules_error("categories:\n  live:\n    rules:\n      - phrase: \"a ~99 b\"\n",
                           "4:17", "bad gap");
        assert_rules_error("categories:\n  live:\n    rules:\n      - phrase: \"@nope x\"\n",
                           "4:17", "unknown word class");
        assert_rules_error("categories:\n  live:\n    rules:\n      - phrase: \"=слов*\"\n", "4:17",
                           "either exact");
        assert_rules_error("categories:\n  live:\n    rules:\n      - signal: telepathy\n", "4:17",
                           "unknown signal");
        assert_rules_error("categories:\n  live:\n    miss_cost: 0\n", "3:16",
                           "between 0.1 and 10");
        assert_rules_error("reschedule:\n  miss_cost: 2\n", "2:14", "for categories");
        assert_rules_error("categories:\n  live:\n    threshold: many\n", "3:16",
                           "expected a number");
        assert_rules_error("categories: [\n", "2:1", "");
        assert_rules_error("version: 2\n", "1:10", "unsupported");
        /* hostile YAML: deep nesting and alias bombs are refused early, at the config's caps */
        struct strbuf deep = {0};
        for (int i = 0; i < 100; i++)
                strbuf_puts(&deep, "[");
        assert_rules_error(deep.buf, "1:65", "nesting deeper than 64 levels");
        strbuf_done(&deep);
        struct strbuf bomb = {0};
        strbuf_puts(&bomb, "a: &a [x, x]\nb: [");
        for (int i = 0; i < 300; i++)
                strbuf_puts(&bomb, "*a, ");
        strbuf_puts(&bomb, "]\n");
        assert_rules_error(bomb.buf, "2:133", "more than 32 aliases");
        strbuf_done(&bomb);
}

/* A rules file with several mistakes: classifier_new() says every one, a line each, in the
 * file's order, as check-config shows them. */
static void test_rule_file_errors(void **state)
{
        char path[64];
        write_rules("categories:\n"
                    "  live:\n"
                    "    rules:\n"
                    "      - phrase: \"@nope x\"\n"
                    "      - signal: photo\n"
                    "        weight: heavy\n"
                    "      - signal: telepathy\n",
                    path);
        struct classify_options opts = {.rules_file = path, .no_model = true};
        struct classifier *c = NULL;
        _cleanup_free_ char *error = NULL, *expected = NULL;
        assert_int_equal(classifier_new(&opts, &c, &error), -EINVAL);
        assert_null(c);
        assert_true(asprintf(&expected,
                             "%1$s:4:17: unknown word class @nope\n"
                             "%1$s:6:17: expected a number, got \"heavy\"\n"
                             "%1$s:7:17: unknown signal \"telepathy\"",
                             path) > 0);
        assert_string_equal(error, expected);
        unlink(path);
}

static void test_default_rules_path(void **state)
{
        char *p = NULL;
        setenv("GOVWATCH_RULES", "/some/where/rules.yaml", 1);
        assert_int_equal(classifier_default_rules_path(&p), 0);
        assert_string_equal(p, "/some/where/rules.yaml");
        free(p);
        unsetenv("GOVWATCH_RULES");
        /* from the build tree: found without installing */
        assert_int_equal(classifier_default_rules_path(&p), 0);
        assert_int_equal(access(p, R_OK), 0);
        free(p);
}

static void test_hostile_input(void **state)
{
        struct classifier *c = new_classifier(NULL, 0);
        /* broken UTF-8, NUL-free garbage, a huge post: no crash */
        struct strbuf sb = {0};
        for (int i = 0; i < 3000; i++)
                strbuf_puts(&sb, i % 7 ? "эфир \xff\xc3 " : "прямой [club1|x] #ЭфирЭфир ");
        /* JSON cannot carry invalid UTF-8, but a post built elsewhere might: set it directly */
        struct post *p = post_text("");
        free(p->text);
        p->text = TAKE_PTR(sb.buf);
        struct classify_result res;
        assert_int_equal(classifier_classify(c, p, &res), 0);
        post_free(p);
        classifier_free(c);
}

/* A phrase whose items can be placed many ways: the matcher must find the one way that fits (a
 * later place of an item can be the one that leaves room for the next), and must not try every
 * way: "ж ~20 ж ~20 ... ы" over a text of ж's took 21^5 tries a word before. */
static void test_phrase_placements(void **state)
{
        char *late[] = {"=сбор ~5 =мусора ~0 =отменен", NULL};
        char *deep[] = {"=жжж ~20 =жжж ~20 =жжж ~20 =жжж ~20 =жжж ~20 =ыыы", NULL};
        struct classify_user_category user[] = {
                {.name = "late", .phrases = late},
                {.name = "deep", .phrases = deep},
        };
        struct classifier *c = new_classifier(user, ELEMENTSOF(user));
        int k_late = classifier_category_index(c, "late"),
            k_deep = classifier_category_index(c, "deep");
        /* the first "мусора" is not followed by "отменен"; the second is, 3 words on */
        assert_text(c, "Сбор мусора и сбор мусора отменен", BIT(k_late));
        assert_text(c, "Сбор крупного мусора сегодня отменен", 0); /* ~0: nothing between */
        assert_text(c, "Сбор мусора. Отменен концерт", 0);         /* another sentence */

        struct strbuf sb = {0};
        for (int i = 0; i < 1000; i++) /* 7,000 bytes: within the reading budget */
                assert_int_equal(strbuf_puts(&sb, "жжж "), 0);
        assert_text(c, sb.buf, 0); /* every placement fails: answered, not searched for hours */
        assert_int_equal(strbuf_puts(&sb, "ыыы"), 0);
        assert_text(c, sb.buf, BIT(k_deep));
        strbuf_done(&sb);
        classifier_free(c);
}

/* The classifier reads CLASSIFY_TEXT_MAX bytes of a post's text, of its attachments' and of its
 * repost's: what lies past it (a hostile post's 64 KiB) is not read, what lies before is. */
static void test_reading_budget(void **state)
{
        char *phrases[] = {"=маркер", NULL};
        char *regexes[] = {"МЕТКА", NULL};
        struct classify_user_category user[] = {
                {.name = "marker", .phrases = phrases},
                {.name = "tag", .regexes = regexes},
        };
        struct classifier *c = new_classifier(user, ELEMENTSOF(user));
        uint64_t marker = BIT(classifier_category_index(c, "marker")),
                 tag = BIT(classifier_category_index(c, "tag"));
        struct strbuf sb = {0};
        /* 'ж' is two bytes: the budget falls inside no character, "маркер" just within it */
        while (sb.len + strlen(" маркер МЕТКА") < CLASSIFY_TEXT_MAX)
                assert_int_equal(strbuf_puts(&sb, "ж"), 0);
        assert_int_equal(strbuf_puts(&sb, " маркер МЕТКА"), 0);
        assert_true(sb.len <= CLASSIFY_TEXT_MAX);
        assert_text(c, sb.buf, marker | tag);

        /* pushed past the budget by a few bytes: not read, by the phrases nor the regexes */
        struct strbuf longer = {0};
        assert_int_equal(strbuf_puts(&longer, "жжжжжж"), 0);
        assert_int_equal(strbuf_puts(&longer, sb.buf), 0);
        assert_text(c, longer.buf, 0);

        /* the repost has a budget of its own: read though the post's text filled its own */
        json_t *o =
                json_pack("{s:I,s:I,s:I,s:s,s:[{s:I,s:I,s:I,s:s}]}", "id", (json_int_t)1,
                          "owner_id", (json_int_t)-1, "date", (json_int_t)1773126000, "text",
                          longer.buf, "copy_history", "id", (json_int_t)2, "owner_id",
                          (json_int_t)-2, "date", (json_int_t)1773126000, "text", "маркер МЕТКА");
        struct post *p = NULL;
        assert_int_equal(post_from_json(o, &p, NULL), 0);
        json_decref(o);
        assert_int_equal(categories_of(c, p), marker | tag);
        /* the post keeps its whole text: the notification shows it */
        assert_int_equal(strlen(p->text), longer.len);
        post_free(p);
        strbuf_done(&longer);
        strbuf_done(&sb);
        classifier_free(c);
}

/* A regex that backtracks without end over a long word gives up (no match), the others work. */
static void test_runaway_regex(void **state)
{
        char *runaway[] = {"(\\w+\\s?)+\\d$", NULL};
        char *plain[] = {"прям\\w* эфир", NULL};
        struct classify_user_category user[] = {
                {.name = "runaway", .regexes = runaway},
                {.name = "plain", .regexes = plain},
        };
        struct classifier *c = new_classifier(user, ELEMENTSOF(user));
        uint64_t k_runaway = BIT(classifier_category_index(c, "runaway")),
                 k_plain = BIT(classifier_category_index(c, "plain"));
        struct strbuf sb = {0};
        for (int i = 0; i < 2000; i++)
                assert_int_equal(strbuf_puts(&sb, "ж"), 0);
        assert_int_equal(strbuf_puts(&sb, " прямой эфир"), 0);
        struct post *p = post_text(sb.buf);
        uint64_t got = categories_of(c, p);
        assert_true(got & k_plain);
        assert_false(got & k_runaway); /* the match limit ends it: no match */
        post_free(p);
        assert_text(c, "приём 7", k_runaway); /* a short text still matches */
        strbuf_done(&sb);
        classifier_free(c);
}

/* A post whose text is "отключение электроэнергии" and letters and spaces to about `size` bytes,
 * with a video titled `title`, reposting one with `repost_text` and a video titled
 * `repost_title` (NULL: no repost). */
static struct post *post_budget(size_t size, const char *title, const char *repost_text,
                                const char *repost_title)
{
        struct strbuf sb = {0};
        assert_int_equal(strbuf_puts(&sb, "{\"id\": 1, \"owner_id\": -1, \"date\": " DATE
                                          ", \"text\": \"Плановое отключение электроэнергии на "
                                          "улице Ленина"),
                         0);
        while (sb.len + 4 < size)
                assert_int_equal(strbuf_puts(&sb, " ж"), 0);
        assert_int_equal(strbuf_appendf(&sb,
                                        "\", \"attachments\": [{\"type\": \"video\", \"video\": "
                                        "{\"id\": 1, \"owner_id\": -1, \"title\": \"%s\"}}]",
                                        title),
                         0);
        if (repost_text)
                assert_int_equal(
                        strbuf_appendf(&sb,
                                       ", \"copy_history\": [{\"id\": 2, \"owner_id\": -2, "
                                       "\"date\": " DATE ", \"text\": \"%s\", \"attachments\": "
                                       "[{\"type\": \"video\", \"video\": {\"id\": 2, "
                                       "\"owner_id\": -2, \"title\": \"%s\"}}]}]",
                                       repost_text, repost_title),
                        0);
        assert_int_equal(strbuf_puts(&sb, "}"), 0);
        struct post *p = post_json(sb.buf);
        strbuf_done(&sb);
        return p;
}

/* The regexes of one post share one work budget (CLASSIFY_REGEX_STEPS) over all its texts: a
 * regex that runs away spends it and does not match, the regexes after it are not tried, the
 * rules still classify the post, and the next post has a budget of its own. The same post always
 * gets the same answer: the budget counts steps, not time. */
static void test_regex_budget(void **state)
{
        char *runaway[] = {"(\\pL|\\s)*+\\d", NULL}; /* from each start to the end: n^2 */
        char *counted[] = {"ж{3000}\\d", NULL};      /* may scan 3000 letters at each start */
        char *late[] = {"видео\\s+7", NULL};         /* cheap, matches the video's title */
        struct classify_user_category runaway_first[] = {
                {.name = "runaway", .regexes = runaway},
                {.name = "late", .regexes = late},
        };
        struct classify_user_category late_first[] = {
                {.name = "late", .regexes = late},
                {.name = "runaway", .regexes = runaway},
        };
        struct classify_user_category counted_first[] = {
                {.name = "counted", .regexes = counted},
                {.name = "late", .regexes = late},
        };
        struct classifier *c1 = new_classifier(runaway_first, ELEMENTSOF(runaway_first)),
                          *c2 = new_classifier(late_first, ELEMENTSOF(late_first)),
                          *c3 = new_classifier(counted_first, ELEMENTSOF(counted_first)),
                          *c4 = new_classifier(late_first, 1);
        uint64_t outage = BIT(CATEGORY_OUTAGE);
        uint64_t k_runaway = BIT(classifier_category_index(c1, "runaway")),
                 k_late = BIT(classifier_category_index(c1, "late"));
        uint64_t k2_late = BIT(classifier_category_index(c2, "late")),
                 k3_late = BIT(classifier_category_index(c3, "late")),
                 k4_late = BIT(classifier_category_index(c4, "late"));

        /* a short text: every regex has work enough, the runaway one matches the title */
        struct post *p = post_budget(200, "видео 7", NULL, NULL);
        assert_int_equal(categories_of(c1, p), outage | k_runaway | k_late);
        assert_int_equal(categories_of(c3, p), outage | k3_late);
        post_free(p);

        /* 8 KiB of letters: the runaway regex spends the budget on the text before it reaches
         * the title, and "late", tried after it, is not tried at all */
        p = post_budget(CLASSIFY_TEXT_MAX, "видео 7", NULL, NULL);
        assert_int_equal(categories_of(c1, p), outage);
        assert_int_equal(categories_of(c1, p), outage); /* the same again */
        /* tried first, "late" matches; the runaway one still gives up */
        assert_int_equal(categories_of(c2, p), outage | k2_late);
        /* a counted repeat is charged what it may scan, not what its calls show */
        assert_int_equal(categories_of(c3, p), outage);
        /* alone, "late" matches the same post */
        assert_int_equal(categories_of(c4, p), outage | k4_late);
        post_free(p);

        /* the next post has its own budget */
        assert_text(c1, "приём 7", k_runaway);
        classifier_free(c1);
        classifier_free(c2);
        classifier_free(c3);
        classifier_free(c4);
}

/* Plain regexes read the whole reading budget: 20 of them find what stands in the repost's
 * video title after 8 KiB of the post's text, 8 KiB of the repost's and the post's title. */
static void test_regex_budget_plain(void **state)
{
        enum { N = 20 };
        struct classify_user_category user[N];
        char patterns[N][64], *regexes[N][2], names[N][8];
        for (size_t i = 0; i < N; i++) {
                snprintf(names[i], sizeof(names[i]), "r%02zu", i);
                snprintf(patterns[i], sizeof(patterns[i]),
                         "эфир\\s+в\\s+\\d{1,2}:\\d{2}\\s*$(?#%zu)", i);
                regexes[i][0] = patterns[i];
                regexes[i][1] = NULL;
                user[i] = (struct classify_user_category){.name = names[i], .regexes = regexes[i]};
        }
        struct classifier *c = new_classifier(user, N);
        struct strbuf repost = {0};
        while (repost.len + 10 < CLASSIFY_TEXT_MAX)
                assert_int_equal(strbuf_puts(&repost, "вода свет "), 0);
        struct post *p =
                post_budget(CLASSIFY_TEXT_MAX, "видео без времени", repost.buf, "эфир в 18:00");
        uint64_t all = 0;
        for (size_t i = 0; i < N; i++)
                all |= BIT(classifier_category_index(c, names[i]));
        assert_int_equal(categories_of(c, p) & all, all);
        post_free(p);
        strbuf_done(&repost);
        classifier_free(c);
}

static char *read_back(int fd, const char *path)
{
        char *data = NULL;
        size_t size;
        close(fd);
        assert_int_equal(read_full_file(path, 1024 * 1024, false, &data, &size), 0);
        unlink(path);
        return data;
}

/* `govwatchd classify` on input, its stdout and stderr in files: the exit status. */
static int run_classify_cli(const char *input, size_t len, char **ret_out, char **ret_err)
{
        char in[] = "/tmp/test-classify-in-XXXXXX", out[] = "/tmp/test-classify-out-XXXXXX",
             err[] = "/tmp/test-classify-err-XXXXXX";
        int fd_in = mkstemp(in), fd_out = mkstemp(out), fd_err = mkstemp(err);
        assert_true(fd_in >= 0 && fd_out >= 0 && fd_err >= 0);
        unlink(in);
        for (size_t done = 0; done < len;) {
                ssize_t k = write(fd_in, input + done, len - done);
                assert_true(k > 0);
                done += (size_t)k;
        }
        assert_int_equal(lseek(fd_in, 0, SEEK_SET), 0);

        _cleanup_free_ char *rules = default_rules();
        char *argv[] = {"classify", "--rules", rules, "--no-model", NULL};
        int saved[3] = {dup(0), dup(1), dup(2)};
        fflush(stdout);
        fflush(stderr);
        assert_true(dup2(fd_in, 0) == 0 && dup2(fd_out, 1) == 1 && dup2(fd_err, 2) == 2);
        clearerr(stdin);
        int status = verb_classify(4, argv);
        fflush(stdout);
        fflush(stderr);
        for (int i = 0; i < 3; i++) {
                dup2(saved[i], i);
                close(saved[i]);
        }
        clearerr(stdin);
        close(fd_in);
        *ret_out = read_back(fd_out, out);
        *ret_err = read_back(fd_err, err);
        return status;
}

/* `classify` holds its input to the daemon's bounds, and says where a line went wrong: a NUL
 * byte is named as such (jansson alone blamed "the end of file"), a post's text is read to
 * POST_TEXT_MAX with a note, a line longer than the largest VK answer is skipped unread, and
 * the lines after each are read as usual. */
static void test_cli_bounds(void **state)
{
        struct strbuf in = {0};
        static const char nul_line[] = "{\"id\":1,\"owner_id\":-1}\0x\n";
        assert_int_equal(strbuf_append(&in, nul_line, sizeof(nul_line) - 1), 0);
        assert_int_equal(strbuf_puts(&in, "{\"id\":2,\"owner_id\":-1,\"date\":" DATE
                                          ",\"text\":\"Прямой эфир сегодня в 18:00 "),
                         0);
        for (size_t i = 0; i < POST_TEXT_MAX; i++)
                assert_int_equal(strbuf_puts(&in, "a"), 0);
        assert_int_equal(strbuf_puts(&in, "\"}\n"), 0);
        for (size_t i = 0; i <= VK_ANSWER_MAX_BYTES; i++)
                assert_int_equal(strbuf_append(&in, " ", 1), 0);
        assert_int_equal(strbuf_puts(&in, "\n{\"id\":4,\"owner_id\":-1,\"date\":" DATE
                                          ",\"text\":\"Завтра в 12.00 — прямой эфир с главой\"}\n"
                                          "{\"id\":5,\"owner_id\":-1,\"date\":"
                                          "9223372036854775000}\n"),
                         0);
        _cleanup_free_ char *out = NULL, *err = NULL;
        int status = run_classify_cli(in.buf, in.len, &out, &err);
        strbuf_done(&in);

        assert_int_equal(status, 1);
        assert_string_equal(out, "{\"owner_id\":-1,\"id\":2,\"categories\":[\"live\"],"
                                 "\"starts_at\":\"2026-03-10T18:00:00+03:00\"}\n"
                                 "{\"owner_id\":-1,\"id\":4,\"categories\":[\"live\"],"
                                 "\"starts_at\":\"2026-03-11T12:00:00+03:00\"}\n");
        assert_string_equal(err, "stdin:1: line contains a NUL byte, skipping it\n"
                                 "stdin:2: post -1_2: text longer than 65536 bytes, classifying "
                                 "its first 65536 bytes\n"
                                 "stdin:3: line longer than 33554432 bytes (the largest VK answer "
                                 "govwatch reads), skipping it\n"
                                 "stdin:5: not a post: post date is out of range (before 2000 or "
                                 "from 2100 on)\n");
}

/* The labelled dev corpus, when present beside the repository: the targets of issue 4. */
static void test_dev_corpus(void **state)
{
        const char *shared = getenv("GOVWATCH_SHARED_DIR");
        if (!shared)
                skip();
        struct strbuf pp = {0}, lp = {0};
        strbuf_appendf(&pp, "%s/corpus/dev-posts.jsonl", shared);
        strbuf_appendf(&lp, "%s/corpus/dev-labels.jsonl", shared);
        FILE *pf = fopen(pp.buf, "re"), *lf = fopen(lp.buf, "re");
        strbuf_done(&pp);
        strbuf_done(&lp);
        if (!pf || !lf) {
                if (pf)
                        fclose(pf);
                if (lf)
                        fclose(lf);
                skip();
        }
        /* planned starts of the dev corpus's live announcements that state one (id, unix time) */
        static const int64_t starts[][2] = {
                {7, 1768975200},   {9, 1769500800},   {15, 1770908400},  {20, 1771578000},
                {29, 1773147600},  {31, 1773990000},  {39, 1774540800},  {44, 1775653200},
                {51, 1776866400},  {80, 1782576000},  {84, 1783521000},  {97, 1787216400},
                {102, 1788447600}, {118, 1792065600}, {123, 1793206800}, {125, 1794481200},
                {133, 1796900400},
        };
        struct classifier *c = new_full_classifier(NULL, 0);
        char *pl = NULL, *ll = NULL;
        size_t pcap = 0, lcap = 0, tp = 0, fp = 0, fn = 0, starts_ok = 0;
        while (getline(&pl, &pcap, pf) > 0 && getline(&ll, &lcap, lf) > 0) {
                struct post *p = post_json(pl);
                json_t *labels = json_loads(ll, 0, NULL);
                uint64_t gold = 0;
                size_t i;
                json_t *v;
                json_array_foreach(json_object_get(labels, "labels"), i, v) gold |=
                        BIT(classifier_category_index(c, json_string_value(v)));
                json_decref(labels);
                struct classify_result res;
                assert_int_equal(classifier_classify(c, p, &res), 0);
                tp += (size_t)__builtin_popcountll(gold & res.categories);
                fp += (size_t)__builtin_popcountll(~gold & res.categories);
                fn += (size_t)__builtin_popcountll(gold & ~res.categories);
                for (size_t k = 0; k < ELEMENTSOF(starts); k++)
                        if (starts[k][0] == p->id && starts[k][1] == res.starts_at)
                                starts_ok++;
                post_free(p);
        }
        free(pl);
        free(ll);
        fclose(pf);
        fclose(lf);
        classifier_free(c);
        double micro = 2.0 * (double)tp / (double)(2 * tp + fp + fn);
        print_message("dev corpus: micro-F1 %.3f, start times %zu/%zu\n", micro, starts_ok,
                      ELEMENTSOF(starts));
        assert_true(micro >= 0.95);
        assert_true(starts_ok * 10 >= ELEMENTSOF(starts) * 9);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_categories_and_morphology),
                cmocka_unit_test(test_negatives),
                cmocka_unit_test(test_each_category),
                cmocka_unit_test(test_attachments_and_reposts),
                cmocka_unit_test(test_live_variants_and_wild_times),
                cmocka_unit_test(test_start_time_and_reschedule),
                cmocka_unit_test(test_user_categories),
                cmocka_unit_test(test_with_model),
                cmocka_unit_test(test_training_tiny_corpus),
                cmocka_unit_test(test_miss_cost),
                cmocka_unit_test(test_threshold_rule),
                cmocka_unit_test(test_rule_file),
                cmocka_unit_test(test_rule_file_errors),
                cmocka_unit_test(test_default_rules_path),
                cmocka_unit_test(test_hostile_input),
                cmocka_unit_test(test_phrase_placements),
                cmocka_unit_test(test_reading_budget),
                cmocka_unit_test(test_runaway_regex),
                cmocka_unit_test(test_regex_budget),
                cmocka_unit_test(test_regex_budget_plain),
                cmocka_unit_test(test_cli_bounds),
                cmocka_unit_test(test_dev_corpus),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
